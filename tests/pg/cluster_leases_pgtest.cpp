// Membership and ownership in PostgreSQL (schema 019, SPEC §8): node leases,
// partitions taken with a fencing epoch, and the fence a group commit
// checks, as serve's runtime role runs them. A node "dies" here by ending
// its lease (what running out of time does), so no test waits for a clock.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/cluster_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "policy/partition.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <string>
#include <vector>

using namespace hitl;
using namespace hitl::test;

namespace {

// The fence of the auditor's batch on `writes`, each chain left where it
// is: hitl_advance_chains from and to the chains' present heads. Throws
// partition_fenced unless the node holds each lease now; the rows stay
// locked until the transaction ends, as in a batch.
void check_fence(pqxx::transaction_base& txn, const std::string& node_id,
                 const std::vector<partition_lease>& writes) {
  std::string parts, epochs;
  for (const auto& w : writes) {
    parts += (parts.empty() ? "" : ",") + std::to_string(w.partition.value);
    epochs += (epochs.empty() ? "" : ",") + std::to_string(w.epoch);
  }
  try {
    txn.exec_params(
      "SELECT hitl_advance_chains($1::uuid, c.parts, c.epochs, c.seqs,"
      " c.hashes, c.seqs, c.hashes)"
      " FROM (SELECT array_agg(w.partition_id ORDER BY w.o) AS parts,"
      "   array_agg(w.epoch ORDER BY w.o) AS epochs,"
      "   array_agg(h.chain_seq ORDER BY w.o) AS seqs,"
      "   array_agg(h.chain_hash::text ORDER BY w.o) AS hashes"
      "   FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY"
      "     AS w(partition_id, epoch, o)"
      "   JOIN hitl_partitions h USING (partition_id)) c",
      node_id, "{" + parts + "}", "{" + epochs + "}");
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "HT410")
      throw partition_fenced(e.what());
    throw;
  }
}

const std::string node_a = "00000000-0000-4000-8000-00000000000a";
const std::string node_b = "00000000-0000-4000-8000-00000000000b";

node_identity identity(const std::string& id, int port) {
  return {id, "127.0.0.1:" + std::to_string(port),
          "127.0.0.1:" + std::to_string(port + 1), "1.test", 1};
}

constexpr duration lease_time = std::chrono::seconds(60);

pool_options opts_for(const std::string& url) {
  pool_options o;
  o.url = url;
  o.min_size = 1;
  o.max_size = 4;
  o.acquire_timeout = std::chrono::seconds(10);
  return o;
}

// What a node's membership scan does: renew, read, plan, acquire and
// release. Returns the leases it holds afterwards.
struct test_node {
  connection_pool& pool;
  node_identity id;
  std::vector<partition_lease> held;

  void scan(std::size_t max_release = 8) {
    pool.transact([&](pqxx::transaction_base& txn) {
      lock_membership(txn, std::chrono::seconds(30));
      renew_node_lease(txn, id, lease_time);
      auto live = live_peers(txn, id.policy_version, id.wire_version);
      auto owners = partition_owners(txn);
      std::vector<std::optional<std::string>> live_owner;
      for (const auto& o : owners)
        live_owner.push_back(o.node_id);
      auto plan = plan_ownership(id.node_id, live, live_owner, max_release);
      std::vector<partition_lease> releasing;
      for (auto p : plan.release)
        for (const auto& l : held)
          if (l.partition == p)
            releasing.push_back(l);
      auto released = release_partitions(txn, id.node_id, releasing);
      CHECK(released.size() == releasing.size());
      auto taken = acquire_partitions(txn, id.node_id, plan.acquire);
      held.erase(std::remove_if(held.begin(), held.end(),
                                [&](const partition_lease& l) {
                                  return std::find(released.begin(),
                                                   released.end(), l.partition)
                                         != released.end();
                                }),
                 held.end());
      held.insert(held.end(), taken.begin(), taken.end());
    });
  }

  void die() {
    pool.transact(
      [&](pqxx::transaction_base& txn) { end_node_lease(txn, id.node_id); });
  }

  bool fence_holds(const std::vector<partition_lease>& writes) {
    try {
      pool.transact([&](pqxx::transaction_base& txn) {
        check_fence(txn, id.node_id, writes);
      });
      return true;
    } catch (const partition_fenced&) {
      return false;
    }
  }
};

std::vector<partition_owner> owners_now(connection_pool& pool) {
  std::vector<partition_owner> out;
  pool.read([&](pqxx::transaction_base& txn) { out = partition_owners(txn); });
  return out;
}

} // namespace

TEST_CASE("cluster: hitl_partition_of and partition_of agree") {
  auto url = runtime_url(migrated_database("hitl_cluster_hash"));
  connection_pool pool{opts_for(url)};
  std::vector<std::string> ids = {"",
                                  "abc",
                                  "patch-1",
                                  "é",
                                  "补丁-7",
                                  "\xF0\x9F\x94\x92 lock",
                                  std::string(200, 'x')};
  for (int i = 0; i < 3000; ++i)
    ids.push_back("patch-" + std::to_string(i));
  int checked = 0;
  pool.read([&](pqxx::transaction_base& txn) {
    for (const auto& id : ids) {
      INFO("patch id: " << id);
      CHECK(sql_partition_of(txn, id).value == partition_of(id).value);
      ++checked;
    }
  });
  CHECK(checked == static_cast<int>(ids.size()));
}

TEST_CASE("cluster: a cluster of one takes every partition at epoch 1; "
          "a second node takes none while the first's lease runs") {
  auto url = runtime_url(migrated_database("hitl_cluster_one"));
  connection_pool pool{opts_for(url)};
  test_node a{pool, identity(node_a, 7001), {}};
  a.scan();
  REQUIRE(a.held.size() == partition_count);
  for (const auto& l : a.held)
    CHECK(l.epoch == 1);
  for (const auto& o : owners_now(pool))
    CHECK(o.node_id == node_a);

  // B joins: rendezvous hashing wants some partitions for it, but A holds
  // them, so B's acquisitions find nothing; A hands over 8 per scan.
  std::vector<partition_id> all;
  for (int p = 0; p < partition_count; ++p)
    all.push_back(partition_id{p});
  pool.transact([&](pqxx::transaction_base& txn) {
    renew_node_lease(txn, identity(node_b, 7003), lease_time);
    CHECK(acquire_partitions(txn, node_b, all).empty());
  });
  CHECK(a.fence_holds(a.held));
}

TEST_CASE("cluster: after a node's lease ends, the next owner's epoch is "
          "higher and the old owner's writes are fenced") {
  auto url = runtime_url(migrated_database("hitl_cluster_fence"));
  connection_pool pool{opts_for(url)};
  test_node a{pool, identity(node_a, 7001), {}};
  test_node b{pool, identity(node_b, 7003), {}};
  a.scan();
  b.scan();
  REQUIRE(a.held.size() == partition_count);
  CHECK(b.held.empty());

  a.die();
  b.scan();
  REQUIRE(b.held.size() == partition_count);
  for (const auto& l : b.held)
    CHECK(l.epoch == 2);
  CHECK(b.fence_holds(b.held));

  // A, paused through all this, wakes up and commits under its old epochs:
  // refused, for one partition as for all, and nothing of that transaction
  // stays.
  CHECK_FALSE(a.fence_holds(a.held));
  CHECK_FALSE(a.fence_holds({a.held.front()}));
  const std::string ghost = "00000000-0000-4000-8000-0000000000ff";
  CHECK_THROWS_AS(pool.transact([&](pqxx::transaction_base& txn) {
                    renew_node_lease(txn, identity(ghost, 7005), lease_time);
                    check_fence(txn, node_a, a.held);
                  }),
                  partition_fenced);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_nodes WHERE node_id = '"
                          + ghost + "'")
        == "0");
  // Even a node that owns the partition is fenced at a stale epoch.
  CHECK_FALSE(b.fence_holds({{b.held.front().partition, 1}}));
  // A fenced write is a failed write to its caller: 503, never a conflict.
  try {
    pool.transact(
      [&](pqxx::transaction_base& txn) { check_fence(txn, node_a, a.held); });
    FAIL("the fence let a stale write through");
  } catch (const partition_fenced& e) {
    CHECK(e.code == db_errc::unavailable);
  }
}

TEST_CASE(
  "cluster: a commit in flight holds off the takeover of its partitions") {
  auto url = runtime_url(migrated_database("hitl_cluster_inflight"));
  connection_pool pool{opts_for(url)};
  test_node a{pool, identity(node_a, 7001), {}};
  a.scan();
  REQUIRE(a.held.size() == partition_count);

  // A's group commit has passed its fence and not committed yet when A's
  // lease ends.
  pqxx::connection writer{url};
  prepare_statements(writer);
  pqxx::work commit{writer};
  check_fence(commit, node_a, {a.held[3]});
  a.die();

  // B may take every other partition at once, but not the one being
  // written: it waits for that commit (here, until its lock timeout).
  pool.transact([&](pqxx::transaction_base& txn) {
    renew_node_lease(txn, identity(node_b, 7003), lease_time);
  });
  std::vector<partition_id> others;
  for (int p = 0; p < partition_count; ++p)
    if (p != a.held[3].partition.value)
      others.push_back(partition_id{p});
  pool.transact([&](pqxx::transaction_base& txn) {
    CHECK(acquire_partitions(txn, node_b, others).size() == others.size());
  });
  CHECK_THROWS_AS(pool.transact([&](pqxx::transaction_base& txn) {
                    txn.exec("SET LOCAL lock_timeout = '200ms'");
                    acquire_partitions(txn, node_b, {a.held[3].partition});
                  }),
                  db_error);

  // A's write commits under its epoch; only then does B take the partition,
  // at the next epoch, and A's next write there is fenced.
  commit.commit();
  std::vector<partition_lease> taken;
  pool.transact([&](pqxx::transaction_base& txn) {
    taken = acquire_partitions(txn, node_b, {a.held[3].partition});
  });
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].epoch == a.held[3].epoch + 1);
  CHECK_FALSE(a.fence_holds({a.held[3]}));
}

std::vector<partition_id> all_partitions() {
  std::vector<partition_id> out;
  for (int p = 0; p < partition_count; ++p)
    out.push_back(partition_id{p});
  return out;
}

TEST_CASE("cluster: membership scans run one at a time, so a node starting "
          "beside another sees its lease") {
  auto url = runtime_url(migrated_database("hitl_cluster_scan_lock"));
  connection_pool pool{opts_for(url)};
  // A's first scan has registered A and not committed yet.
  pqxx::connection a_conn{url};
  prepare_statements(a_conn);
  pqxx::work a_scan{a_conn};
  lock_membership(a_scan, std::chrono::seconds(30));
  renew_node_lease(a_scan, identity(node_a, 7001), lease_time);
  CHECK(acquire_partitions(a_scan, node_a, all_partitions()).size()
        == partition_count);
  // B's scan waits for it (here, until its wait is over) ...
  CHECK_THROWS_AS(pool.transact([&](pqxx::transaction_base& txn) {
                    lock_membership(txn, std::chrono::milliseconds(200));
                  }),
                  membership_busy);
  a_scan.commit();
  // ... and then reads A as live and A's partitions as held: it takes none.
  pool.transact([&](pqxx::transaction_base& txn) {
    lock_membership(txn, std::chrono::seconds(30));
    renew_node_lease(txn, identity(node_b, 7003), lease_time);
    auto live = live_peers(txn, identity(node_b, 7003).policy_version,
                           identity(node_b, 7003).wire_version);
    CHECK(live.size() == 2);
    CHECK(acquire_partitions(txn, node_b, all_partitions()).empty());
  });
}

TEST_CASE("cluster: a joining node is handed partitions gradually, each at a "
          "new epoch") {
  auto url = runtime_url(migrated_database("hitl_cluster_join"));
  connection_pool pool{opts_for(url)};
  test_node a{pool, identity(node_a, 7001), {}};
  test_node b{pool, identity(node_b, 7003), {}};
  a.scan();
  b.scan(); // registers B; A still holds everything
  CHECK(b.held.empty());

  // Each round, A hands over at most 8 partitions and B takes them; until a
  // round moves nothing.
  int rounds = 0;
  for (bool moved = true; moved && rounds < 100; ++rounds) {
    auto a_before = a.held.size();
    auto b_before = b.held.size();
    a.scan();
    CHECK(a_before - a.held.size() <= 8);
    b.scan();
    CHECK(a.held.size() + b.held.size() == partition_count);
    moved = a.held.size() != a_before || b.held.size() != b_before;
  }
  CHECK(rounds > 2);
  CHECK(a.held.size() + b.held.size() == partition_count);
  auto owners = assign_partitions({node_a, node_b});
  for (const auto& l : b.held) {
    CHECK(owners[static_cast<size_t>(l.partition.value)] == node_b);
    CHECK(l.epoch == 2);
  }
  for (const auto& l : a.held)
    CHECK(owners[static_cast<size_t>(l.partition.value)] == node_a);
  CHECK(a.fence_holds(a.held));
  CHECK(b.fence_holds(b.held));
}

TEST_CASE(
  "cluster: hitl cluster status lists nodes, leases and partition counts") {
  auto owner_url = migrated_database("hitl_cluster_status");
  connection_pool pool{opts_for(runtime_url(owner_url))};
  auto empty = run_hitl({"cluster", "status", "--database-url", owner_url});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.find("with a live owner: 0, without: 256")
        != std::string::npos);

  test_node a{pool, identity(node_a, 7001), {}};
  a.scan();
  auto one = run_hitl({"cluster", "status", "--database-url", owner_url});
  INFO(one.out << one.err);
  CHECK(one.exit_code == 0);
  CHECK(one.out.find(node_a + " live") != std::string::npos);
  CHECK(one.out.find("127.0.0.1:7001") != std::string::npos);
  CHECK(one.out.find("with a live owner: 256, without: 0")
        != std::string::npos);

  a.die();
  auto gone = run_hitl({"cluster", "status", "--database-url", owner_url});
  CHECK(gone.out.find(node_a + " gone") != std::string::npos);
  CHECK(gone.out.find("with a live owner: 0, without: 256")
        != std::string::npos);
}
