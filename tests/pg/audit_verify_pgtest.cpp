// `hitl audit verify` against a chain the real actors wrote, then tampered
// with as the database superuser (triggers off), one kind of tampering per
// copy of the database.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"

#include "actors/atoms.hpp"
#include "policy/audit_chain.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

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
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("seq 5") != std::string::npos);
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
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("seq 6") != std::string::npos);
  MESSAGE(r.out);
}
