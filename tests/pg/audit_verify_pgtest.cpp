// `hitl audit verify` against a chain the real actors wrote, then tampered
// with as the database superuser (triggers off), one kind of tampering per
// copy of the database.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"

#include "actors/atoms.hpp"
#include "policy/audit_chain.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <thread>

using namespace hitl;
using namespace hitl::test;

namespace {

// A chain of 9 entries: 3 creations, 3 approvals... written by the actors.
std::string chain_template() {
  static std::string url;
  if (!url.empty())
    return url;
  url = migrated_database("hitl_chain_tpl");
  running_service svc{url, service_config{}};
  for (int i = 0; i < 3; ++i) {
    auto p = "p-chain-" + std::to_string(i);
    REQUIRE(svc.create(sample_decision(p, urgency::medium, false)));
    auto c = verdict(p, "carol");
    c.comment = "checked " + std::to_string(i);
    REQUIRE(svc.act(atoms::approve::value, c));
  }
  REQUIRE(svc.create(sample_decision("p-chain-auto", urgency::low, true)));
  return url;
}

std::string copy_of(const std::string& tpl_url) {
  auto name = tpl_url.substr(tpl_url.find("dbname=") + 7);
  name = name.substr(0, name.find(' '));
  auto url = fresh_database("hitl_chain_copy");
  auto copy = url.substr(url.find("dbname=") + 7);
  copy = copy.substr(0, copy.find(' '));
  sql_exec(admin_url(), "DROP DATABASE \"" + copy + "\"");
  sql_exec(admin_url(),
           "CREATE DATABASE \"" + copy + "\" TEMPLATE \"" + name + "\"");
  return url;
}

// Decisions in every state the cross-check compares, written by the actors:
// dec-flip pending, dec-two approved by two reviewers, dec-esc escalated to
// level 1 (its SLA is short), dec-ver approved by one.
std::string decisions_template() {
  static std::string url;
  if (!url.empty())
    return url;
  url = migrated_database("hitl_decisions_tpl");
  service_config config;
  config.policy.sla[static_cast<size_t>(urgency::high)] = from_seconds(0.2);
  config.policy.max_escalation_level = 1;
  running_service svc{url, config};
  auto create = [&](const std::string& id, const std::string& patch,
                    urgency severity) {
    auto nd = sample_decision(patch, severity, false);
    nd.decision_id = id;
    REQUIRE(svc.create(nd));
  };
  create("dec-flip", "p-flip", urgency::medium);
  create("dec-two", "p-two", urgency::critical);
  REQUIRE(svc.act(atoms::approve::value, verdict("p-two", "carol")));
  REQUIRE(svc.act(atoms::approve::value, verdict("p-two", "dave")));
  create("dec-ver", "p-ver", urgency::medium);
  REQUIRE(svc.act(atoms::approve::value, verdict("p-ver", "carol")));
  create("dec-esc", "p-esc", urgency::high);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sql_scalar(url, "SELECT escalation_level FROM hitl_decisions"
                         " WHERE decision_id = 'dec-esc'")
           != "1"
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(sql_scalar(url, "SELECT escalation_level FROM hitl_decisions"
                          " WHERE decision_id = 'dec-esc'")
          == "1");
  return url;
}

// As the schema's owner may: its triggers off for the statement (the
// version trigger among them), then on again.
void owner_update(const std::string& url, const std::string& sql) {
  sql_exec(url, "ALTER TABLE hitl_decisions DISABLE TRIGGER USER;" + sql
                  + ";ALTER TABLE hitl_decisions ENABLE TRIGGER USER");
}

void tamper(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::work w{conn};
  w.exec("SET LOCAL session_replication_role = replica"); // triggers off
  w.exec(sql);
  w.commit();
}

command_result verify(const std::string& url) {
  return run_hitl({"audit", "verify", "--database-url", url});
}

} // namespace

TEST_CASE("audit verify passes on the chain the actors wrote") {
  auto url = chain_template();
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs") == "8");
  auto r = verify(url);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("intact: 8 entries") != std::string::npos);
  CHECK(r.out.find("decisions agree with the chain: 4 decisions")
        != std::string::npos);
}

TEST_CASE("audit verify names an altered entry") {
  auto url = copy_of(chain_template());
  tamper(url, "UPDATE hitl_audit_logs SET performed_by = 'mallory'"
              " WHERE seq = 4");
  auto r = verify(url);
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("seq 4") != std::string::npos);
  CHECK(r.out.find("altered") != std::string::npos);
  MESSAGE(r.out);
}

TEST_CASE("audit verify names a removed entry") {
  auto url = copy_of(chain_template());
  tamper(url, "DELETE FROM hitl_audit_logs WHERE seq = 3");
  auto r = verify(url);
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("removed") != std::string::npos);
  CHECK(r.out.find("3") != std::string::npos);
  MESSAGE(r.out);
}

TEST_CASE("audit verify names an inserted entry, even with a valid hash") {
  auto url = copy_of(chain_template());
  // The forger renumbers the tail and seals a new entry 5 onto entry 4.
  std::string prev = sql_scalar(url, "SELECT hash FROM hitl_audit_logs"
                                     " WHERE seq = 4");
  audit_entry forged;
  forged.seq = 5;
  forged.decision_id =
    sql_scalar(url, "SELECT decision_id FROM hitl_audit_logs WHERE seq = 4");
  forged.action = audit_action::approved;
  forged.performed_by = "mallory";
  forged.at = now();
  forged.details_json = "{}";
  seal(forged, prev);
  tamper(url, "UPDATE hitl_audit_logs SET seq = seq + 1000 WHERE seq >= 5;"
              "UPDATE hitl_audit_logs SET seq = seq - 999 WHERE seq > 1000;"
              "INSERT INTO hitl_audit_logs (seq, decision_id, action,"
              " performed_by, \"timestamp\", details, prev_hash, hash)"
              " VALUES (5, '" + forged.decision_id + "', 'approved', 'mallory',"
              " hitl_from_micros(" + std::to_string(to_micros(forged.at))
              + "), '{}', '" + prev + "', '" + forged.hash + "')");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("audit chain BROKEN at seq 5 (inserted_or_reordered): "
                   "entry 5 was inserted: entry 6 links to the entry before "
                   "it\n")
        != std::string::npos);
  MESSAGE(r.out);
}

TEST_CASE("audit verify names the first of two swapped entries") {
  auto url = copy_of(chain_template());
  // Each entry keeps its seq; the rows' contents trade places.
  tamper(url, R"(
    CREATE TEMP TABLE gone AS SELECT * FROM hitl_audit_logs WHERE seq IN (6, 7);
    DELETE FROM hitl_audit_logs WHERE seq IN (6, 7);
    INSERT INTO hitl_audit_logs (seq, decision_id, action, performed_by,
      "timestamp", details, ip_address, user_agent, prev_hash, hash)
    SELECT 13 - seq, decision_id, action, performed_by, "timestamp", details,
      ip_address, user_agent, prev_hash, hash FROM gone)");
  CHECK(sql_scalar(url, "SELECT count(DISTINCT hash) FROM hitl_audit_logs")
        == "8");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("audit chain BROKEN at seq 6 (inserted_or_reordered): "
                   "entry 6 does not link to entry 5: an entry was inserted "
                   "or reordered\n")
        != std::string::npos);
  MESSAGE(r.out);
}

// -- the decisions against the chain (SPEC §11) --------------------------------

TEST_CASE("audit verify: every decision the actors wrote agrees with the "
          "chain") {
  auto url = decisions_template();
  auto r = verify(url);
  CHECK_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out.find("decisions agree with the chain: 4 decisions")
        != std::string::npos);
}

TEST_CASE("audit verify: a verdict changed by the owner with triggers off") {
  auto url = copy_of(decisions_template());
  owner_update(url, "UPDATE hitl_decisions SET decision = 'approved',"
                    " decided_by = 'mallory', decided_at = now()"
                    " WHERE decision_id = 'dec-flip'");
  auto r = verify(url);
  MESSAGE(r.out);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("audit chain intact") != std::string::npos);
  CHECK(r.out.find("decision dec-flip: decision is 'approved' in "
                   "hitl_decisions but the audit chain says 'pending'")
        != std::string::npos);
  CHECK(r.out.find("decision dec-flip: decided_by is 'mallory' in "
                   "hitl_decisions but the audit chain says null")
        != std::string::npos);
  CHECK(r.out.find("2 mismatch(es) in 4 decisions") != std::string::npos);
}

TEST_CASE("audit verify: an approval deleted") {
  auto url = copy_of(decisions_template());
  sql_exec(url, "DELETE FROM hitl_approvals WHERE decision_id = 'dec-two'"
                " AND reviewer = 'dave'");
  auto r = verify(url);
  MESSAGE(r.out);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("decision dec-two: approvals are [carol] in "
                   "hitl_approvals but the audit chain says [carol, dave]")
        != std::string::npos);
}

TEST_CASE("audit verify: an escalation level changed") {
  auto url = copy_of(decisions_template());
  owner_update(url, "UPDATE hitl_decisions SET escalation_level = 3"
                    " WHERE decision_id = 'dec-esc'");
  auto r = verify(url);
  MESSAGE(r.out);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("decision dec-esc: escalation_level is 3 in "
                   "hitl_decisions but the audit chain says 1")
        != std::string::npos);
}

TEST_CASE("audit verify: a version changed") {
  auto url = copy_of(decisions_template());
  owner_update(url, "UPDATE hitl_decisions SET version = 7"
                    " WHERE decision_id = 'dec-ver'");
  auto r = verify(url);
  MESSAGE(r.out);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("decision dec-ver: version is 7 in hitl_decisions but "
                   "the audit chain says 2")
        != std::string::npos);
}

TEST_CASE("audit verify: a bare UPDATE, triggers on, shows in the version "
          "too") {
  auto url = copy_of(decisions_template());
  sql_exec(url, "UPDATE hitl_decisions SET decision = 'rejected',"
                " decided_by = 'mallory', decided_at = now(), reason = 'x'"
                " WHERE decision_id = 'dec-esc'");
  auto r = verify(url);
  MESSAGE(r.out);
  CHECK(r.exit_code == 3);
  for (const char* line :
       {"decision dec-esc: decision is 'rejected' in hitl_decisions but the "
        "audit chain says 'escalated'",
        "decision dec-esc: version is 3 in hitl_decisions but the audit "
        "chain says 2"})
    CHECK_MESSAGE(r.out.find(line) != std::string::npos, line);
}

TEST_CASE("GET /hitl/audit/verify lists the mismatches") {
  auto url = copy_of(decisions_template());
  owner_update(url, "UPDATE hitl_decisions SET decision = 'approved',"
                    " decided_by = 'mallory', decided_at = now()"
                    " WHERE decision_id = 'dec-flip'");
  auto made = run_hitl({"token", "create", "--name", "audrey", "--role",
                        "auditor", "--database-url", url});
  REQUIRE(made.exit_code == 0);
  auto token = made.out.substr(0, made.out.find('\n'));
  served_hitl s{url};
  auto r = http_request("GET", s.base_url() + "/hitl/audit/verify", {},
                        {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["intact"] == false);
  CHECK(body["first_break"].is_null());
  CHECK(body["decisions_checked"] == 4);
  CHECK(body["mismatch_count"] == 2);
  REQUIRE(body["mismatches"].size() == 2);
  const auto& m = body["mismatches"][0];
  CHECK(m["decision_id"] == "dec-flip");
  CHECK(m["field"] == "decision");
  CHECK(m["in_table"] == "'approved'");
  CHECK(m["in_chain"] == "'pending'");
  CHECK(m["message"]
        == "decision dec-flip: decision is 'approved' in hitl_decisions but "
           "the audit chain says 'pending'");
}
