// `hitl serve` as a member of a cluster (SPEC §8): each node leases itself
// in hitl_nodes and holds partitions; a cluster of one holds all 256; a
// second node is handed its share; a node killed with SIGKILL loses its
// partitions to the others once its lease (6 s) runs out; one stopped with
// SIGTERM releases them at once. Real processes on one test database.

#include "tests/pg/metrics_text.hpp"
#include "tests/pg/pg_fixture.hpp"

#include "persistence/cluster_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/partition.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <thread>

using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

double partitions_owned(const served_hitl& node) {
  return series_value(http_request("GET", node.base_url() + "/metrics").body,
                      "hitl_partitions_owned");
}

std::string cluster_status(const std::string& url) {
  auto r = run_hitl({"cluster", "status", "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

int live_nodes(const std::string& url) {
  return std::stoi(sql_scalar(
    url, "SELECT count(*) FROM hitl_nodes WHERE lease_until > now()"));
}

int partitions_of(const std::string& url, const std::string& http_endpoint) {
  return std::stoi(sql_scalar(
    url, "SELECT count(*) FROM hitl_partitions p JOIN hitl_nodes n"
         " ON n.node_id = p.owner_node AND n.lease_until > now()"
         " WHERE n.http_endpoint = '" + http_endpoint + "'"));
}

std::string endpoint_of(const served_hitl& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

} // namespace

TEST_CASE(
  "cluster: a node alone holds every partition and releases them on SIGTERM") {
  auto url = fresh_database("hitl_member_one");
  served_hitl node{url};
  REQUIRE(eventually([&] { return partitions_owned(node) == 256; }));
  auto status = cluster_status(url);
  INFO(status);
  CHECK(status.find(endpoint_of(node)) != std::string::npos);
  CHECK(status.find("with a live owner: 256, without: 0") != std::string::npos);
  CHECK(sql_scalar(
          url, "SELECT min(epoch) || '-' || max(epoch) FROM hitl_partitions")
        == "1-1");

  // /health names the node and what it holds (its report may be a second
  // old).
  nlohmann::json health;
  REQUIRE(eventually([&] {
    auto r = http_request("GET", node.base_url() + "/health");
    health = nlohmann::json::parse(r.body);
    return r.status == 200 && health.contains("node")
           && health["node"]["partitions"].size() == 256;
  }));
  CHECK(health["node"]["lease"] == "running");
  CHECK(health["node"]["partitions"].front() == 0);
  CHECK(health["node"]["partitions"].back() == 255);
  auto id = health["node"]["id"].get<std::string>();
  CHECK(
    sql_scalar(url, "SELECT count(*) FROM hitl_partitions WHERE owner_node = '"
                      + id + "'")
    == "256");

  CHECK(node.terminate(20s) == 0);
  auto after = cluster_status(url);
  INFO(after);
  CHECK(after.find(" gone ") != std::string::npos);
  CHECK(after.find("with a live owner: 0, without: 256") != std::string::npos);
  CHECK(node.log().find("released 256 partition(s)") != std::string::npos);

  // A restart takes them again, at the next epoch.
  served_hitl again{url};
  REQUIRE(eventually([&] { return partitions_owned(again) == 256; }));
  CHECK(sql_scalar(
          url, "SELECT min(epoch) || '-' || max(epoch) FROM hitl_partitions")
        == "2-2");
  CHECK(series_value(http_request("GET", again.base_url() + "/metrics").body,
                     "hitl_partition_takeovers_total")
        == 256);
}

TEST_CASE("cluster: a second node is handed its share; when one is killed the "
          "other takes its partitions once its lease runs out") {
  auto url = fresh_database("hitl_member_two");
  const std::string id_a = "00000000-0000-4000-8000-0000000000a2";
  const std::string id_b = "00000000-0000-4000-8000-0000000000b2";
  served_hitl a{url, {"--node-id", id_a}};
  REQUIRE(eventually([&] { return partitions_owned(a) == 256; }));
  served_hitl b{url, {"--node-id", id_b}};
  // Settled when each holds what assign_partitions gives it; A hands over
  // 8 a scan (1.5 s), so this takes some 15 scans.
  auto owners = hitl::assign_partitions({id_a, id_b});
  auto want_b =
    static_cast<int>(std::count(owners.begin(), owners.end(), id_b));
  REQUIRE(eventually(
    [&] {
      return partitions_owned(b) == want_b
             && partitions_owned(a) == 256 - want_b
             && partitions_of(url, endpoint_of(a)) == 256 - want_b
             && partitions_of(url, endpoint_of(b)) == want_b;
    },
    90s));
  auto in_a = partitions_owned(a), in_b = partitions_owned(b);
  MESSAGE("node A holds " << in_a << ", node B " << in_b);
  CHECK(in_a >= 90);
  CHECK(in_b >= 90);
  CHECK(live_nodes(url) == 2);

  auto killed_at = std::chrono::steady_clock::now();
  b.kill_hard();
  REQUIRE(eventually([&] { return partitions_owned(a) == 256; }, 60s));
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - killed_at).count();
  MESSAGE("node A held all 256 partitions " << took << " s after B was killed");
  // Not before B's lease ran out (on the database's clock): a killed
  // node's partitions wait for it.
  CHECK(sql_scalar(url, "SELECT bool_and(p.acquired_at >= n.lease_until)"
                        " FROM hitl_partitions p, hitl_nodes n"
                        " WHERE p.epoch = 3 AND n.node_id = '" + id_b + "'")
        == "t");
  CHECK(live_nodes(url) == 1);
  // B's partitions moved to the next epoch, A's stayed where they were.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_partitions WHERE epoch = 3")
        == std::to_string(static_cast<int>(in_b)));
  CHECK(series_value(http_request("GET", a.base_url() + "/metrics").body,
                     "hitl_partition_takeovers_total")
        == in_b);
}

TEST_CASE("cluster: a node restarted after kill -9 with its id takes its "
          "partitions back") {
  auto url = fresh_database("hitl_member_restart");
  const std::string id = "00000000-0000-4000-8000-0000000000d1";
  {
    served_hitl node{url, {"--node-id", id}};
    REQUIRE(eventually([&] { return partitions_owned(node) == 256; }));
    node.kill_hard();
  }
  // The same id renews the same lease row, so the partitions never lose
  // their live owner: only taking back what an earlier run of this node
  // holds gets them going again.
  auto started = std::chrono::steady_clock::now();
  served_hitl again{url, {"--node-id", id}};
  REQUIRE(eventually([&] { return partitions_owned(again) == 256; }));
  MESSAGE("held all 256 partitions again "
          << std::chrono::duration<double>(std::chrono::steady_clock::now()
                                           - started).count()
          << " s after the restart began");
  CHECK(sql_scalar(
          url, "SELECT min(epoch) || '-' || max(epoch) FROM hitl_partitions")
        == "2-2");
  CHECK(live_nodes(url) == 1);
  CHECK(cluster_status(url).find(id + " live") != std::string::npos);
  // And it writes: a fenced create goes through at the new epochs.
  auto service = run_hitl({"token", "create", "--name", "wargaming", "--role",
                           "service", "--database-url", url});
  REQUIRE(service.exit_code == 0);
  auto token = service.out.substr(0, service.out.find('\n'));
  auto r = http_request(
    "POST", again.base_url() + "/hitl/admin/create-decision",
    R"({"patch_id":"p-restarted",
         "patch_metadata":{"apv_id":"a","package_name":"openssl",
                           "current_version":"1","target_version":"2",
                           "severity":"high"},
         "ml_prediction":{"confidence":0.3,"prediction":true},
         "wargaming_result":{"phase1_success":true,"phase2_success":true,
                             "validation_passed":true}})",
    {"Authorization: Bearer " + token, "Content-Type: application/json"});
  INFO(r.body);
  CHECK(r.status == 201);
}

TEST_CASE("cluster: a lease the node cannot renew is counted in "
          "hitl_lease_renewal_failures_total") {
  auto url = fresh_database("hitl_member_renewal");
  served_hitl node{url};
  REQUIRE(eventually([&] { return partitions_owned(node) == 256; }));
  auto failures = [&] {
    return series_value(http_request("GET", node.base_url() + "/metrics").body,
                        "hitl_lease_renewal_failures_total");
  };
  CHECK(failures() == 0);
  // Started again even when a check below throws: the other cases need it.
  struct restart_postgres {
    ~restart_postgres() {
      try {
        pg_ctl("start");
      } catch (const std::exception& e) {
        MESSAGE(e.what());
      }
    }
  };
  {
    pg_ctl("stop");
    restart_postgres on_exit;
    // A scan every 1.5 s: a few within the bound, however slow the machine.
    REQUIRE(eventually([&] { return failures() >= 2; }, 60s));
  }
  CHECK(node.log().find("cannot renew the node's lease") != std::string::npos);
  // Back with the database: its lease runs again.
  CHECK(eventually([&] { return live_nodes(url) == 1; }, 60s));
}

TEST_CASE("cluster: a node renews its lease and writes while other nodes' "
          "scans keep its own scan waiting") {
  auto url = fresh_database("hitl_member_scan_queue");
  served_hitl node{url};
  REQUIRE(eventually([&] { return partitions_owned(node) == 256; }));
  auto token = issue_token(url, "wargaming", "service");
  // Another node's scan that does not end: it holds the scans' lock for
  // longer than a lease.
  pqxx::connection other{url};
  hitl::prepare_statements(other);
  pqxx::work other_scan{other};
  hitl::lock_membership(other_scan, 30s);
  auto lease_then =
    sql_scalar(url, "SELECT lease_until FROM hitl_nodes");
  // The node's scan queues behind it (and gives up, and queues again) ...
  CHECK(eventually([&] {
    return sql_scalar(url, "SELECT count(*) FROM pg_locks WHERE locktype ="
                           " 'advisory' AND NOT granted") != "0";
  }));
  // ... while its renewals go on: the lease moves past where it stood
  // when the scans stopped, by more than the lease (6 s) itself.
  CHECK(eventually(
    [&] {
      return sql_scalar(url, "SELECT lease_until > timestamptz '" + lease_then
                               + "' + interval '7 seconds' FROM hitl_nodes")
             == "t";
    },
    60s));
  CHECK(live_nodes(url) == 1);
  auto r = create_decision(node.base_url(), token, "p-scan-queue");
  INFO(r.body);
  CHECK(r.status == 201);
  other_scan.commit();
  CHECK(partitions_owned(node) == 256);
  CHECK(node.log().find("cannot renew") == std::string::npos);
  CHECK(node.log().find("scan failed") == std::string::npos);
}

TEST_CASE("cluster: serve refuses a --node-id that is not a UUID") {
  auto url = fresh_database("hitl_member_bad_id");
  for (const char* bad : {"node-1", "00000000-0000-4000-8000-00000000000A",
                          "00000000-0000-4000-8000-00000000000"}) {
    auto r = run_hitl({"serve", "--node-id", bad, "--listen", "127.0.0.1:1",
                       "--database-url", url});
    auto said = r.out + r.err; // serve logs to stdout
    INFO(bad << ": " << said);
    CHECK(r.exit_code == 1);
    CHECK(said.find("--node-id must be a UUID") != std::string::npos);
  }
  // Refused before the database was touched: nothing migrated.
  CHECK(sql_scalar(url, "SELECT count(*) FROM pg_tables WHERE tablename ="
                        " 'hitl_nodes'")
        == "0");
}
