// The supervisor as its membership tells it what the node holds (SPEC §8),
// in simulated time (tests/pg/simulated_service.hpp): it lets go of the
// open decisions of a partition it loses, loads those of a partition it
// takes, and the missed escalation of a decision taken over fires at once,
// once. (The auditor is not told here: its fence is tested in
// partition_fence_pgtest, the whole takeover with real processes in
// cluster_takeover_pgtest.)

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"
#include "tests/pg/simulated_service.hpp"

#include "actors/atoms.hpp"
#include "actors/service_error.hpp"
#include "policy/partition.hpp"
#include "policy/policy_config.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

// Every partition at `epoch`, except those given another epoch in `other`
// (0: not held).
held_partitions holding(int64_t epoch,
                        const std::vector<std::pair<int, int64_t>>& other) {
  held_partitions h;
  h.node_id = "00000000-0000-4000-8000-000000000001";
  for (int p = 0; p < partition_count; ++p) {
    auto e = epoch;
    for (const auto& [q, f] : other)
      if (q == p)
        e = f;
    if (e > 0) {
      h.partitions.push_back(p);
      h.epochs.push_back(e);
    }
  }
  return h;
}

// Three patches in three different partitions.
std::vector<std::string> patches_apart() {
  std::vector<std::string> out;
  std::vector<int> seen;
  for (int i = 0; out.size() < 3; ++i) {
    auto patch = "p-part-" + std::to_string(i);
    auto p = partition_of(patch).value;
    if (std::find(seen.begin(), seen.end(), p) != seen.end())
      continue;
    seen.push_back(p);
    out.push_back(patch);
  }
  return out;
}

int escalation_level(const std::string& url, const std::string& id) {
  return std::stoi(sql_scalar(url, "SELECT escalation_level FROM"
                                   " hitl_decisions WHERE decision_id = '"
                                   + id + "'"));
}

} // namespace

TEST_CASE("simulated time: a lost partition's decisions are let go, a taken "
          "one's loaded, and its missed escalation fires at once, once") {
  auto url = migrated_database("hitl_sim_partitions");
  simulated_service svc{url, policy_config{}};
  auto t0 = svc.now();
  auto patches = patches_apart();
  std::vector<std::string> ids;
  for (const auto& patch : patches) {
    auto made = svc.create(sample_decision(patch, urgency::high, false));
    REQUIRE(made);
    ids.push_back(made->record.decision_id);
  }
  auto lost = partition_of(patches[0]).value;
  auto moved = partition_of(patches[1]).value;
  CHECK(svc.open_count() == 3);
  CHECK(svc.patch_actors() == 3);

  // Told it holds everything but the first patch's partition: that
  // decision's actor stops, and its verdicts are refused (another node
  // owns it now).
  svc.tell(atoms::partitions::value, holding(1, {{lost, 0}}));
  CHECK(svc.open_count() == 2);
  CHECK(svc.patch_actors() == 2);
  auto refused = svc.act(atoms::approve::value, verdict(patches[0], "alice"));
  REQUIRE_FALSE(refused);
  CHECK(service_code(refused.error()) == service_errc::moved);

  // Its deadline passes (high: 10 minutes): only what the node holds
  // escalates.
  svc.advance_to(t0 + 10min);
  CHECK(escalation_level(url, ids[0]) == 0);
  CHECK(escalation_level(url, ids[1]) == 1);
  CHECK(escalation_level(url, ids[2]) == 1);

  // Taken back at the next epoch, and the second patch's partition lost
  // and taken again meanwhile (epoch 3): both are loaded from the
  // database. The first decision's missed level 1 fires at once; the
  // second, loaded as it was, does not repeat its level 1.
  svc.advance_to(t0 + 11min);
  svc.tell(atoms::partitions::value, holding(1, {{lost, 2}, {moved, 3}}));
  CHECK(svc.open_count() == 3);
  CHECK(escalation_level(url, ids[0]) == 1);
  auto first = escalations_of(url, ids[0]);
  REQUIRE(first.size() == 1);
  CHECK(first.front().at == t0 + 11min);
  CHECK(escalations_of(url, ids[1]).size() == 1);
  CHECK(escalations_of(url, ids[2]).size() == 1);

  // From then on each on its schedule (level 2 at 20 minutes), once.
  svc.advance_to(t0 + 20min);
  for (const auto& id : ids) {
    CAPTURE(id);
    CHECK(escalations_of(url, id).size() == 2);
  }
  auto approved = svc.act(atoms::approve::value, verdict(patches[0], "alice"));
  REQUIRE(approved);
  CHECK(approved->status == decision_status::approved);
}

TEST_CASE("simulated time: a supervisor that waits for its membership holds "
          "nothing, and is ready once what it is told is loaded") {
  auto url = migrated_database("hitl_sim_ready");
  std::string id;
  {
    simulated_service first{url, policy_config{}};
    auto made = first.create(sample_decision("p-ready", urgency::high, false));
    REQUIRE(made);
    id = made->record.decision_id;
  }
  simulated_service svc{url, policy_config{}, hitl::now(),
                        simulated_service::start::from_membership};
  CHECK(svc.open_count() == 0);
  svc.tell(atoms::ready::value);
  CHECK_FALSE(svc.answer<bool>()); // no answer yet: nothing told
  svc.tell(atoms::partitions::value, holding(1, {}));
  auto ready = svc.answer<bool>();
  REQUIRE(ready);
  CHECK(*ready);
  CHECK(svc.open_count() == 1);
  CHECK(svc.patch_actors() == 0); // dormant until needed
  auto approved = svc.act(atoms::approve::value, verdict("p-ready", "alice"));
  REQUIRE(approved);
  CHECK(approved->decision_id == id);
}
