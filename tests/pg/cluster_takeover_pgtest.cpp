// Taking partitions over (SPEC §8), with real `hitl serve` processes on
// one test database and a real webhook receiver: a node that is handed a
// partition loads its open decisions and the node that handed it over lets
// them go; a node killed with SIGKILL has its open decisions loaded by the
// survivor, whose timers fire the escalations that fell due meanwhile once,
// and nothing escalated before the kill again.

#include "tests/pg/metrics_text.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"
#include "tests/pg/webhook_receiver.hpp"

#include "policy/partition.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string write_config(const json& cfg) {
  return scratch_file("takeover.json", cfg.dump(2));
}

http_response create(const served_hitl& s, const std::string& tok,
                     const std::string& patch, const std::string& severity) {
  json body{{"patch_id", patch},
            {"patch_metadata",
             {{"apv_id", "apv-1"},
              {"cve_id", "CVE-2026-7777"},
              {"package_name", "nginx"},
              {"current_version", "1.24.0"},
              {"target_version", "1.24.1"},
              {"severity", severity}}},
            {"ml_prediction", {{"confidence", 0.5}, {"prediction", true}}}};
  return http_request("POST", s.base_url() + "/hitl/admin/create-decision",
                      body.dump(),
                      {"Authorization: Bearer " + tok,
                       "Content-Type: application/json"});
}

http_response approve(const served_hitl& s, const std::string& tok,
                      const std::string& patch, const std::string& id) {
  json body{{"decision_id", id}, {"comment", "ok"}};
  return http_request("POST",
                      s.base_url() + "/hitl/patches/" + patch + "/approve",
                      body.dump(),
                      {"Authorization: Bearer " + tok,
                       "Content-Type: application/json"});
}

double partitions_owned(const served_hitl& node) {
  return series_value(http_request("GET", node.base_url() + "/metrics").body,
                      "hitl_partitions_owned");
}

std::set<int> partitions_of(const served_hitl& node) {
  auto r = http_request("GET", node.base_url() + "/health");
  std::set<int> out;
  if (r.status != 200)
    return out;
  auto health = json::parse(r.body);
  for (const auto& p : health["node"]["partitions"])
    out.insert(p.get<int>());
  return out;
}

int partition(const std::string& patch) {
  return hitl::partition_of(patch).value;
}

// (decision, level) pairs escalated more than once in the audit log.
std::string escalated_twice(const std::string& url) {
  return sql_scalar(url, "SELECT count(*) FROM (SELECT decision_id,"
                         " details::jsonb ->> 'level' FROM hitl_audit_logs"
                         " WHERE action = 'escalated' GROUP BY 1, 2"
                         " HAVING count(*) > 1) x");
}

int escalations_of(const std::string& url, const std::string& id) {
  return std::stoi(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs"
                                   " WHERE action = 'escalated' AND"
                                   " decision_id = '" + id + "'"));
}

} // namespace

TEST_CASE("cluster takeover: handed-over and killed nodes' open decisions "
          "are loaded by the new owner, and each escalation fires once") {
  webhook_receiver rx;
  auto url = fresh_database("hitl_takeover");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  // High: SLA 2 s, then a level every 4 s (levels at 2, 6 and 10 s). Low:
  // nothing falls due while the test runs.
  auto cfg = write_config(
    {{"sla_seconds", {{"high", 2}, {"low", 3600}}},
     {"escalation", {{"max_level", 3}, {"repeat_seconds", 4}}},
     {"webhooks",
      {{{"url", rx.url()}, {"events", {"decision.escalated"}},
        {"secret", "s3cret"}}}},
     {"notifications",
      {{"max_attempts", 1000},
       {"timeout_seconds", 1},
       {"initial_backoff_seconds", 0.2},
       {"max_backoff_seconds", 0.5}}}});
  const std::string id_a = "00000000-0000-4000-8000-0000000000a7";
  const std::string id_b = "00000000-0000-4000-8000-0000000000b7";
  served_hitl a{url, {"--config", cfg, "--node-id", id_a}};
  REQUIRE(eventually([&] { return partitions_owned(a) == 256; }));

  // On A, which holds everything: decisions that escalate soon, and
  // decisions that stay pending.
  std::map<std::string, std::string> high, low; // patch -> decision id
  for (int i = 0; i < 12; ++i) {
    auto patch = "p-high-" + std::to_string(i);
    auto r = create(a, svc, patch, "high");
    REQUIRE(r.status == 201);
    high[patch] = json::parse(r.body)["decision_id"].get<std::string>();
  }
  for (int i = 0; i < 24; ++i) {
    auto patch = "p-low-" + std::to_string(i);
    auto r = create(a, svc, patch, "low");
    REQUIRE(r.status == 201);
    low[patch] = json::parse(r.body)["decision_id"].get<std::string>();
  }
  // A escalates every high decision twice (levels 1 and 2) ...
  REQUIRE(eventually(
    [&] {
      for (const auto& [patch, id] : high)
        if (escalations_of(url, id) < 2)
          return false;
      return true;
    },
    60s));

  // ... then B joins and A hands it partitions, a few each scan. A lets go
  // of the open decisions of what it handed over, B loads them.
  served_hitl b{url, {"--config", cfg, "--node-id", id_b}};
  std::string moved_patch;
  REQUIRE(eventually(
    [&] {
      auto held_by_b = partitions_of(b);
      for (const auto& [patch, id] : low)
        if (held_by_b.count(partition(patch)) > 0) {
          moved_patch = patch;
          return true;
        }
      return false;
    },
    90s));
  {
    const auto& id = low[moved_patch];
    // A no longer holds the decision (and forwards nothing yet): 503, retry.
    auto on_a = approve(a, reviewer, moved_patch, id);
    INFO(on_a.body);
    CHECK(on_a.status == 503);
    // B loaded it (a partition being loaded answers 503 too, briefly).
    http_response on_b;
    REQUIRE(eventually([&] {
      on_b = approve(b, reviewer, moved_patch, id);
      return on_b.status != 503;
    }));
    INFO(on_b.body);
    CHECK(on_b.status == 200);
    CHECK(json::parse(on_b.body)["decision"] == "approved");
    low.erase(moved_patch);
  }

  // A is killed; once its lease has run out B takes the rest over and
  // loads their open decisions.
  auto killed_at = std::chrono::steady_clock::now();
  auto killed_at_db = sql_scalar(url, "SELECT now()");
  a.kill_hard();
  REQUIRE(eventually([&] { return partitions_owned(b) == 256; }, 60s));
  // Every open decision A created takes a verdict on B.
  bool first = true;
  for (const auto& [patch, id] : low) {
    http_response r;
    REQUIRE(eventually([&] {
      r = approve(b, reviewer, patch, id);
      return r.status != 503;
    }));
    INFO(patch << ": " << r.body);
    CHECK(r.status == 200);
    if (std::exchange(first, false))
      MESSAGE("B took a verdict on a decision A created "
              << std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - killed_at)
                   .count()
              << " s after A was killed");
  }
  // Level 3 fell due 10 s after creation: during the takeover, or on A
  // before the kill on a slow machine. Either way, once.
  REQUIRE(eventually(
    [&] {
      for (const auto& [patch, id] : high)
        if (escalations_of(url, id) < 3)
          return false;
      return true;
    },
    60s));
  CHECK(escalated_twice(url) == "0");
  MESSAGE(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs WHERE action"
                          " = 'escalated' AND \"timestamp\" > '"
                            + killed_at_db + "'")
          << " of 12 level-3 escalations were B's, after the kill");
  for (const auto& [patch, id] : high) {
    auto r = approve(b, reviewer, patch, id);
    INFO(patch << ": " << r.body);
    CHECK(r.status == 200);
  }
  CHECK(b.log().find("loaded ") != std::string::npos);

  // Each escalation reached the receiver, under one delivery id, once the
  // outbox is drained (A's undelivered rows are B's to send).
  REQUIRE(eventually(
    [&] {
      return sql_scalar(url, "SELECT count(*) FROM hitl_outbox WHERE state"
                             " <> 'delivered'")
             == "0";
    },
    60s));
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_outbox") == "36");
  std::map<std::pair<std::string, int>, std::set<std::string>> deliveries;
  for (const auto& h : rx.received()) {
    auto body = json::parse(h.body);
    deliveries[{body["escalation"]["decision_id"].get<std::string>(),
                body["escalation"]["level"].get<int>()}]
      .insert(h.headers.at("x-hitl-delivery"));
  }
  CHECK(deliveries.size() == 36);
  for (const auto& [key, ids] : deliveries) {
    INFO(key.first << " level " << key.second);
    CHECK(ids.size() == 1);
  }
  auto verify = run_hitl({"audit", "verify", "--database-url", url});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("cluster takeover: the outbox refuses a second escalation of one "
          "(decision, target, level)") {
  auto url = fresh_database("hitl_takeover_outbox");
  REQUIRE(run_hitl({"migrate", "--database-url", url}).exit_code == 0);
  sql_exec(url, "INSERT INTO hitl_decisions (decision_id, patch_id, apv_id,"
                " package_name, current_version, target_version, severity,"
                " priority, policy_version, content_hash, created_by)"
                " VALUES ('d-1', 'p-1', 'a', 'openssl', '1', '2', 'high',"
                " 'high', '1.x', repeat('a', 64), 'svc')");
  auto insert = [&](int level) {
    return sql_scalar(
      url, "WITH d AS (INSERT INTO hitl_outbox (event, decision_id,"
           " target_url, payload) VALUES ('decision.escalated', 'd-1',"
           " 'http://127.0.0.1:9/x', '{\"escalation\": {\"level\": "
             + std::to_string(level) + "}}') RETURNING 1)"
           " SELECT count(*) FROM d");
  };
  CHECK(insert(1) == "1");
  CHECK(insert(2) == "1");
  CHECK_THROWS(insert(1));
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_outbox") == "2");
}
