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

// 8 entries written by the actors: p-chain-0 to 2 each created and
// approved, p-chain-auto created and approved by the policy. Each decision's
// two entries are the whole chain of its partition (no two of these patches
// share one).
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

// The partition whose chain holds the entries of patch `patch`'s decision
// (all of them, in one chain): the one hitl_partition_of names.
std::string chain_of(const std::string& url, const std::string& patch) {
  auto p = sql_scalar(url, "SELECT hitl_partition_of('" + patch + "')");
  REQUIRE(sql_scalar(url, "SELECT string_agg(DISTINCT partition_id::text, ',')"
                          " FROM hitl_audit_logs JOIN hitl_decisions"
                          " USING (decision_id) WHERE patch_id = '"
                            + patch + "'")
          == p);
  return p;
}

// A column of partition `p`'s entry `pseq`.
std::string at(const std::string& url, const std::string& p, int pseq,
               const std::string& column) {
  return sql_scalar(url, "SELECT " + column + " FROM hitl_audit_logs"
                         " WHERE partition_id = " + p + " AND pseq = "
                           + std::to_string(pseq));
}

// The line verify prints when the chain is broken.
std::string broken(const std::string& seq, const std::string& kind,
                   const std::string& message) {
  return "audit chain BROKEN at seq " + seq + " (" + kind + "): " + message
         + "\n";
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
  // p-chain-1's approval: the second entry of its partition's chain.
  auto p = chain_of(url, "p-chain-1");
  REQUIRE(at(url, p, 2, "action") == "approved");
  auto seq = at(url, p, 2, "seq");
  tamper(url, "UPDATE hitl_audit_logs SET performed_by = 'mallory'"
              " WHERE partition_id = " + p + " AND pseq = 2");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find(broken(seq, "altered",
                          "partition " + p + " entry 2 (seq " + seq
                            + ") was altered: its hash does not match its "
                              "content"))
        != std::string::npos);
  MESSAGE(r.out);
}

TEST_CASE("audit verify names a removed entry") {
  auto url = copy_of(chain_template());
  auto p = chain_of(url, "p-chain-1");
  auto first = at(url, p, 1, "seq");
  auto second = at(url, p, 2, "seq");
  SUBCASE("before another of its chain: that one shows the gap") {
    tamper(url, "DELETE FROM hitl_audit_logs WHERE seq = " + first);
    auto r = verify(url);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find(broken(second, "removed",
                            "partition " + p
                              + " entry 1 is missing before partition " + p
                              + " entry 2 (seq " + second + ")"))
          != std::string::npos);
    MESSAGE(r.out);
  }
  SUBCASE("at its chain's end: the partition's row shows it") {
    auto kept = at(url, p, 1, "left(hash, 12)");
    auto gone = at(url, p, 2, "left(hash, 12)");
    tamper(url, "DELETE FROM hitl_audit_logs WHERE seq = " + second);
    auto r = verify(url);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("(removed): partition " + p + "'s chain ends at entry 1 ("
                     + kept + "), but its row says entry 2 (" + gone + ")\n")
          != std::string::npos);
    MESSAGE(r.out);
  }
}

TEST_CASE("audit verify names an inserted entry, even with a valid hash") {
  auto url = copy_of(chain_template());
  // The forger seals a new entry 2 onto entry 1 of p-chain-1's chain, moves
  // the entry that was 2 to 3 (and the seqs after it on by one, so that
  // seq still grows along the chain), and sets the partition's row to the
  // longer chain: only the links between the entries give it away.
  auto p = chain_of(url, "p-chain-1");
  REQUIRE(at(url, p, 3, "count(*)") == "0");
  auto prev = at(url, p, 1, "hash");
  auto epoch = at(url, p, 1, "epoch");
  auto seq = std::stoll(at(url, p, 2, "seq"));
  audit_entry forged;
  forged.link = chain_link{partition_id{std::stoi(p)}, 2, std::stoll(epoch)};
  forged.decision_id = at(url, p, 1, "decision_id");
  forged.action = audit_action::approved;
  forged.performed_by = "mallory";
  forged.at = now();
  forged.details_json = "{}";
  seal(forged, prev);
  auto s = std::to_string(seq);
  tamper(url, "UPDATE hitl_audit_logs SET pseq = 3 WHERE partition_id = " + p
                + " AND pseq = 2;"
              "UPDATE hitl_audit_logs SET seq = seq + 1000 WHERE seq >= " + s
                + ";"
              "UPDATE hitl_audit_logs SET seq = seq - 999 WHERE seq > 1000;"
              "INSERT INTO hitl_audit_logs (seq, partition_id, pseq, epoch,"
              " decision_id, action, performed_by, \"timestamp\", details,"
              " prev_hash, hash) VALUES (" + s + ", " + p + ", 2, " + epoch
                + ", '" + forged.decision_id + "', 'approved', 'mallory',"
              " hitl_from_micros(" + std::to_string(to_micros(forged.at))
                + "), '{}', '" + prev + "', '" + forged.hash + "');"
              "UPDATE hitl_partitions SET chain_seq = 3"
              " WHERE partition_id = " + p);
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find(broken(s, "inserted_or_reordered",
                          "partition " + p + " entry 2 was inserted: "
                            "partition " + p + " entry 3 (seq "
                            + std::to_string(seq + 1)
                            + ") links to the entry before it"))
        != std::string::npos);
  MESSAGE(r.out);
}

TEST_CASE("audit verify names the first of two swapped entries") {
  // dec-two's chain: created, carol's approval added, dave's approving it.
  auto url = copy_of(decisions_template());
  auto p = chain_of(url, "p-two");
  REQUIRE(sql_scalar(url, "SELECT string_agg(action || ' ' || performed_by,"
                          " ',' ORDER BY pseq) FROM hitl_audit_logs"
                          " WHERE partition_id = " + p)
          == "created wargaming,approval_added carol,approved dave");
  auto second = at(url, p, 2, "seq");
  // Each entry keeps its place (partition, pseq, epoch, seq); the rows'
  // contents trade places.
  tamper(url, R"(
    CREATE TEMP TABLE gone AS SELECT * FROM hitl_audit_logs
      WHERE partition_id = )" + p + R"( AND pseq IN (2, 3);
    DELETE FROM hitl_audit_logs WHERE partition_id = )" + p + R"(
      AND pseq IN (2, 3);
    INSERT INTO hitl_audit_logs (seq, partition_id, pseq, epoch, decision_id,
      action, performed_by, "timestamp", details, ip_address, user_agent,
      prev_hash, hash)
    SELECT o.seq, o.partition_id, o.pseq, o.epoch, g.decision_id, g.action,
      g.performed_by, g."timestamp", g.details, g.ip_address, g.user_agent,
      g.prev_hash, g.hash
    FROM gone o JOIN gone g ON g.pseq = 5 - o.pseq)");
  CHECK(sql_scalar(url, "SELECT string_agg(performed_by, ',' ORDER BY pseq)"
                        " FROM hitl_audit_logs WHERE partition_id = " + p)
        == "wargaming,dave,carol");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find(broken(second, "inserted_or_reordered",
                          "partition " + p + " entry 2 (seq " + second
                            + ") does not link to partition " + p
                            + " entry 1: an entry was inserted or "
                              "reordered"))
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
