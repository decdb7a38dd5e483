#include "policy/scan_plan.hpp"

#include <doctest/doctest.h>

using namespace hitl;

namespace {

std::vector<partition_row> all_owned_by(const std::string& node,
                                        std::int64_t epoch) {
  return std::vector<partition_row>(partition_count, partition_row{node, epoch});
}

} // namespace

TEST_CASE("plan_scan: a partition whose epoch moved is lost, not released") {
  auto rows = all_owned_by("a", 1);
  rows[7] = {std::string{"b"}, 2}; // taken over while a was paused
  std::map<int, std::int64_t> held{{7, 1}, {8, 1}};
  auto plan = plan_scan("a", held, {"a", "b"}, rows, 8);
  REQUIRE(plan.lost == std::vector<int>{7});
  for (const auto& l : plan.release)
    CHECK(l.partition.value != 7);
}

TEST_CASE("plan_scan: an earlier run's partitions are taken back when the "
          "plan gives them to this node, handed over otherwise") {
  auto rows = all_owned_by("a", 3);
  std::map<int, std::int64_t> held; // a restarted: holds nothing in memory
  auto alone = plan_scan("a", held, {"a"}, rows, 8);
  CHECK(alone.acquire.size() == partition_count);
  CHECK(alone.release.empty());
  auto shared = plan_scan("a", held, {"a", "b"}, rows, 8);
  CHECK(shared.acquire.size() + shared.release.size() == partition_count);
  CHECK(!shared.release.empty());
  for (const auto& l : shared.release)
    CHECK(l.epoch == 3);
}

TEST_CASE("plan_scan: at most max_release hand-overs to a joining node") {
  auto rows = all_owned_by("a", 1);
  std::map<int, std::int64_t> held;
  for (int p = 0; p < partition_count; ++p)
    held[p] = 1;
  auto plan = plan_scan("a", held, {"a", "b"}, rows, 8);
  CHECK(plan.lost.empty());
  CHECK(plan.release.size() == 8);
  CHECK(plan.acquire.empty());
}
