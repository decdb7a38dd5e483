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

TEST_CASE("next_scan_in: the period, unless another node's lease ends "
          "sooner; then just after it ends") {
  using namespace std::chrono_literals;
  std::chrono::microseconds every = 1500ms;
  CHECK(next_scan_in(every, std::nullopt) == every);
  // Healthy peers renewed within the period: more than it left.
  CHECK(next_scan_in(every, std::chrono::microseconds{5900ms}) == every);
  CHECK(next_scan_in(every, std::chrono::microseconds{4500ms}) == every);
  // A peer that missed its renewals: scan 100 ms after its lease's end.
  CHECK(next_scan_in(every, std::chrono::microseconds{700ms}) == 800ms);
  // About to end, or a clock that says it ended: no busy loop.
  CHECK(next_scan_in(every, std::chrono::microseconds{-200ms}) == 50ms);
  CHECK(next_scan_in(every, std::chrono::microseconds{0}) == 100ms);
  // A period shorter than the floor stays the period.
  CHECK(next_scan_in(std::chrono::microseconds{20ms},
                     std::chrono::microseconds{0})
        == 20ms);
}
