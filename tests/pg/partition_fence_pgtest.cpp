// The partition fence in the auditor's group commit (SPEC §8): a node whose
// partition was taken over while its lease had run out writes nothing more
// to it. The real auditor, supervisor and patch actors on the real
// PostgreSQL; the takeover is made by hand, as another node's membership
// would make it, so that the auditor still believes it holds the
// partition when the change arrives.

#include "tests/pg/metrics_text.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/service_error.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/partition.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <string>
#include <vector>

using namespace hitl;
using namespace hitl::test;

namespace {

const std::string node_a = "00000000-0000-4000-8000-00000000000a";
const std::string node_b = "00000000-0000-4000-8000-00000000000b";

// `n` patch ids "<prefix>-<i>" in partition `p` (or, with `other`, outside
// it).
std::vector<std::string> patches_in(partition_id p, int n,
                                    const std::string& prefix,
                                    bool other = false) {
  std::vector<std::string> out;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    auto id = prefix + "-" + std::to_string(i);
    if ((partition_of(id) == p) != other)
      out.push_back(id);
  }
  return out;
}

// The service's node holds all 256 partitions at epoch 1, as its
// membership's first scan leaves it, and its auditor is told so.
void hold_everything(running_service& svc) {
  std::vector<partition_id> all;
  for (int p = 0; p < partition_count; ++p)
    all.push_back(partition_id{p});
  held_partitions held;
  held.node_id = node_a;
  svc.pool().transact([&](pqxx::transaction_base& txn) {
    renew_node_lease(txn, {node_a, "", "127.0.0.1:1", "1.test", 1},
                     std::chrono::seconds(60));
    for (const auto& l : acquire_partitions(txn, node_a, all)) {
      held.partitions.push_back(l.partition.value);
      held.epochs.push_back(l.epoch);
    }
  });
  REQUIRE(held.partitions.size() == partition_count);
  caf::anon_send(svc.actors().auditor, atoms::partitions::value, held);
}

// Node B takes partition `p` over, as its membership would once A's lease
// had run out.
void take_over(const std::string& url, partition_id p) {
  sql_exec(url, "INSERT INTO hitl_nodes (node_id, http_endpoint,"
                " policy_version, wire_version, lease_until) VALUES ('"
                  + node_b + "', '127.0.0.1:2', '1.test', 1,"
                  " now() + interval '1 minute') ON CONFLICT DO NOTHING");
  sql_exec(url, "UPDATE hitl_partitions SET owner_node = '" + node_b
                  + "', epoch = epoch + 1 WHERE partition_id = "
                  + std::to_string(p.value));
}

int decisions_of(const std::string& url, const std::string& patch) {
  return std::stoi(
    sql_scalar(url, "SELECT count(*) FROM hitl_decisions WHERE patch_id = '"
                      + patch + "'"));
}

double fenced(running_service& svc) {
  return series_value(svc.metrics_text(), "hitl_fenced_writes_total");
}

} // namespace

TEST_CASE("fence: a change in a partition taken over is refused with 503 and "
          "writes nothing; the node's other partitions go on") {
  auto url = migrated_database("hitl_fence_one");
  running_service svc{url, service_config{}};
  hold_everything(svc);
  auto lost = partition_of("p-lost-0");

  // Held: written under the fence.
  auto before = patches_in(lost, 1, "p-before");
  REQUIRE(svc.create(sample_decision(before[0], urgency::high, false)));
  CHECK(fenced(svc) == 0);

  take_over(url, lost);
  auto in_lost = patches_in(lost, 2, "p-lost");
  auto refused = svc.create(sample_decision(in_lost[0], urgency::high, false));
  REQUIRE_FALSE(refused);
  CHECK(service_code(refused.error()) == service_errc::unavailable);
  CHECK(decisions_of(url, in_lost[0]) == 0);
  CHECK(fenced(svc) == 1);

  // A verdict on a decision there is refused too: B owns it now.
  auto late = svc.act(atoms::approve::value, verdict(before[0], "alice"));
  REQUIRE_FALSE(late);
  CHECK(service_code(late.error()) == service_errc::unavailable);
  CHECK(sql_scalar(url, "SELECT decision FROM hitl_decisions WHERE patch_id = '"
                          + before[0] + "'")
        == "pending");

  // Known lost now: refused before the database is asked.
  auto second = svc.create(sample_decision(in_lost[1], urgency::high, false));
  REQUIRE_FALSE(second);
  CHECK(service_code(second.error()) == service_errc::unavailable);
  CHECK(fenced(svc) == 1);

  // The other 255 partitions are still this node's.
  auto elsewhere = patches_in(lost, 3, "p-kept", true);
  for (const auto& patch : elsewhere) {
    auto r = svc.create(sample_decision(patch, urgency::high, false));
    REQUIRE(r);
    CHECK(r->created);
  }
  auto verify = run_hitl({"audit", "verify", "--database-url", url});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("fence: in a batch that mixes partitions, only the changes in the "
          "lost one are refused") {
  auto url = migrated_database("hitl_fence_mixed");
  running_service svc{url, service_config{}};
  hold_everything(svc);
  auto lost = partition_of("p-mixed-lost-0");
  take_over(url, lost);

  // Sent together, so that the auditor batches them while it still
  // believes it holds the lost partition.
  auto in_lost = patches_in(lost, 8, "p-mixed-lost");
  auto kept = patches_in(lost, 24, "p-mixed-kept", true);
  caf::scoped_actor self{svc.system()};
  auto send = [&](const std::string& patch) {
    return make_create_request(
      sample_decision(patch, urgency::high, false),
      caller{"wargaming", role::service, std::string{"127.0.0.1"},
             std::string{"test"}, std::nullopt});
  };
  using handle = decltype(self->request(svc.actors().supervisor,
                                       std::chrono::seconds(30),
                                       atoms::create::value, send(kept[0])));
  std::vector<handle> pending;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i % 3 == 0 && i / 3 < in_lost.size())
      pending.push_back(self->request(svc.actors().supervisor,
                                      std::chrono::seconds(30),
                                      atoms::create::value,
                                      send(in_lost[i / 3])));
    pending.push_back(self->request(svc.actors().supervisor,
                                    std::chrono::seconds(30),
                                    atoms::create::value, send(kept[i])));
  }
  int created = 0, refused = 0, other = 0;
  for (auto& h : pending)
    h.receive([&](create_result& r) { created += r.created ? 1 : 0; },
              [&](caf::error& e) {
                if (service_code(e) == service_errc::unavailable)
                  ++refused;
                else
                  ++other;
              });
  CHECK(created == static_cast<int>(kept.size()));
  CHECK(refused == static_cast<int>(in_lost.size()));
  CHECK(other == 0);
  for (const auto& patch : in_lost)
    CHECK(decisions_of(url, patch) == 0);
  for (const auto& patch : kept)
    CHECK(decisions_of(url, patch) == 1);
  CHECK(fenced(svc) >= 1);
  auto verify = run_hitl({"audit", "verify", "--database-url", url});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
}
