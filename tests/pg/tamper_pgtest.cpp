// Tampering as the database's owner may (triggers off), against a chain
// that the real binaries wrote (tokens by `hitl token create`, decisions by
// `hitl serve` over HTTP), each case checked with the real `hitl audit
// verify` and the exact line it prints (SPEC §11, issue 18 part 6).
//
// Elsewhere: a verdict changed by UPDATE with triggers disabled, an approval
// deleted, an escalation or version changed (audit_verify_pgtest.cpp, "audit
// verify: a verdict changed by the owner with triggers off" and after); an
// entry altered or removed in the middle, a decision's entry inserted, two
// decision entries swapped (same file, exact lines there too). Each
// partition has its own chain (schema/021): tampering is named by partition
// and place (pseq). A chain re-sealed from the start, and the end cut off
// cleanly with the partitions' heads moved back too, need signed
// checkpoints kept outside the database (their own tests).

#include "tests/pg/pg_fixture.hpp"

#include "policy/audit_chain.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

using namespace hitl;
using namespace hitl::test;

namespace {

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--issued-by", "carol", "--database-url", url});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out.substr(0, r.out.find('\n'));
}

http_response post(const served_hitl& s, const std::string& path,
                   const std::string& token, const std::string& body) {
  return http_request("POST", s.base_url() + path, body,
                      {"Authorization: Bearer " + token,
                       "Content-Type: application/json"});
}

// The entries, by seq: 1-3 token_created (wargaming, alice, bob), 4 and 5
// created (p-1, p-2), 6 approved (p-1 by alice). Bob's token (id 3) and p-1
// share partition 29, whose chain is 3, 4, 6; every other entry is the only
// one of its partition.
std::string chain_template() {
  static std::string url;
  if (!url.empty())
    return url;
  url = fresh_database("hitl_tamper_tpl");
  auto service = make_token(url, "wargaming", "service");
  auto alice = make_token(url, "alice", "reviewer");
  make_token(url, "bob", "reviewer");
  served_hitl hitl{url};
  for (const char* patch : {"p-1", "p-2"}) {
    nlohmann::json body{{"patch_id", patch},
                        {"decision_id", std::string{"dec-"} + (patch + 2)},
                        {"patch_metadata",
                         {{"apv_id", "a"},
                          {"package_name", "zlib"},
                          {"current_version", "1"},
                          {"target_version", "2"},
                          {"severity", "medium"}}}};
    REQUIRE(post(hitl, "/hitl/admin/create-decision", service, body.dump())
              .status
            == 201);
  }
  REQUIRE(post(hitl, "/hitl/patches/p-1/approve", alice, "{}").status == 200);
  REQUIRE(sql_scalar(url, "SELECT string_agg(action, ',' ORDER BY seq)"
                          " FROM hitl_audit_logs")
          == "token_created,token_created,token_created,created,created,"
             "approved");
  REQUIRE(sql_scalar(url, "SELECT string_agg(seq || ':' || partition_id || '/'"
                          " || pseq, ',' ORDER BY seq) FROM hitl_audit_logs")
          == "1:31/1,2:32/1,3:29/1,4:29/2,5:185/1,6:29/3");
  return url;
}

std::string db_name(const std::string& url) {
  auto name = url.substr(url.find("dbname=") + 7);
  return name.substr(0, name.find(' '));
}

std::string copy_of(const std::string& tpl_url) {
  auto url = fresh_database("hitl_tamper_copy");
  sql_exec(admin_url(), "DROP DATABASE \"" + db_name(url) + "\"");
  sql_exec(admin_url(), "CREATE DATABASE \"" + db_name(url) + "\" TEMPLATE \""
                          + db_name(tpl_url) + "\"");
  return url;
}

// As the owner may: every trigger off for the transaction.
void tamper(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::work w{conn};
  w.exec("SET LOCAL session_replication_role = replica");
  w.exec(sql);
  w.commit();
}

command_result verify(const std::string& url) {
  return run_hitl({"audit", "verify", "--database-url", url});
}

bool prints(const command_result& r, const std::string& line) {
  return r.out.find(line + "\n") != std::string::npos;
}

// A column of partition `p`'s entry `pseq`.
std::string at(const std::string& url, int p, int pseq,
               const std::string& column) {
  return sql_scalar(url, "SELECT " + column + " FROM hitl_audit_logs"
                         " WHERE partition_id = " + std::to_string(p)
                           + " AND pseq = " + std::to_string(pseq));
}

const std::string mallory_row =
  "INSERT INTO hitl_api_tokens (name, role, token_hash)"
  " VALUES ('mallory', 'reviewer', repeat('a', 64))";

} // namespace

TEST_CASE("tamper: the untouched chain is intact") {
  auto r = verify(chain_template());
  CHECK(r.exit_code == 0);
  CHECK(prints(r, "decisions agree with the chain: 2 decisions"));
  CHECK(prints(r, "tokens agree with the chain: 3 tokens"));
  MESSAGE(r.out);
}

TEST_CASE("tamper: a token row inserted by hand (a second reviewer minted "
          "without the CLI)") {
  auto url = copy_of(chain_template());
  tamper(url, mallory_row);
  auto r = verify(url);
  CHECK(r.exit_code == 3);
  CHECK(r.out.rfind("audit chain intact: 6 entries", 0) == 0);
  CHECK(prints(r, "tokens DISAGREE with the chain: 1 fault(s) in 4 tokens"));
  CHECK(prints(r, "token 4 ('mallory', reviewer) has no token_created entry: "
                  "it was not issued by `hitl token create`"));
  MESSAGE(r.out);
}

TEST_CASE("tamper: a token's role raised, a token revoked, by hand") {
  auto url = copy_of(chain_template());
  tamper(url, "UPDATE hitl_api_tokens SET role = 'admin'"
              " WHERE name = 'bob';"
              "UPDATE hitl_api_tokens SET revoked_at = now()"
              " WHERE name = 'alice'");
  auto r = verify(url);
  CHECK(r.exit_code == 3);
  CHECK(prints(r, "token 2 ('alice', reviewer) is revoked but has no "
                  "token_revoked entry"));
  CHECK(prints(r, "token 3 ('bob', admin) differs from its token_created "
                  "entry (seq 3: 'bob', reviewer)"));
  MESSAGE(r.out);
}

TEST_CASE("tamper: a token_created entry sealed and inserted in the middle") {
  auto url = copy_of(chain_template());
  // The forger covers a hand-made token with an entry in its partition's
  // chain. To slip it in between entries, it picks the token an id whose
  // partition is 29, seals the entry onto bob's (29's entry 1), moves the
  // entries after it one place on (seq too, so that seq still grows along
  // the chain) and sets 29's row to the longer chain.
  auto id = sql_scalar(url, "SELECT min(n) FROM generate_series(4, 100000) n"
                            " WHERE hitl_partition_of('token/' || n) = 29");
  REQUIRE_FALSE(id.empty());
  tamper(url, "INSERT INTO hitl_api_tokens (id, name, role, token_hash)"
              " VALUES (" + id + ", 'mallory', 'reviewer', repeat('a', 64))");
  audit_entry forged;
  forged.link = chain_link{partition_id{29}, 2,
                           std::stoll(at(url, 29, 1, "epoch"))};
  forged.action = audit_action::token_created;
  forged.performed_by = "carol";
  forged.at = now();
  forged.details_json = R"({"name":"mallory","role":"reviewer","token_id":)"
                        + id + "}";
  auto prev = at(url, 29, 1, "hash");
  seal(forged, prev);
  tamper(url, "UPDATE hitl_audit_logs SET pseq = pseq + 1000"
              " WHERE partition_id = 29 AND pseq >= 2;"
              "UPDATE hitl_audit_logs SET pseq = pseq - 999"
              " WHERE partition_id = 29 AND pseq > 1000;"
              "UPDATE hitl_audit_logs SET seq = seq + 1000 WHERE seq >= 4;"
              "UPDATE hitl_audit_logs SET seq = seq - 999 WHERE seq > 1000;"
              "INSERT INTO hitl_audit_logs (seq, partition_id, pseq, epoch,"
              " decision_id, action, performed_by, \"timestamp\", details,"
              " prev_hash, hash) VALUES (4, 29, 2, "
                + std::to_string(forged.link->epoch)
                + ", NULL, 'token_created', 'carol', hitl_from_micros("
                + std::to_string(to_micros(forged.at)) + "), '"
                + forged.details_json + "', '" + prev + "', '" + forged.hash
                + "');"
              "UPDATE hitl_partitions SET chain_seq = 4"
              " WHERE partition_id = 29");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(prints(r, "audit chain BROKEN at seq 4 (inserted_or_reordered): "
                  "partition 29 entry 2 was inserted: partition 29 entry 3 "
                  "(seq 5) links to the entry before it"));
  // The token itself is covered: only the chain gives it away.
  CHECK(prints(r, "tokens agree with the chain: 4 tokens"));
  MESSAGE(r.out);
}

TEST_CASE("tamper: two token entries swapped") {
  auto url = copy_of(chain_template());
  // A token's entries are one chain, its partition's (alice's: 32): after
  // a revocation, its creation and revocation trade places there. Entries
  // of different partitions have no order to swap.
  REQUIRE(run_hitl({"token", "revoke", "--name", "alice", "--revoked-by",
                    "carol", "--database-url", url})
            .exit_code
          == 0);
  REQUIRE(sql_scalar(url, "SELECT string_agg(action || ' ' || seq, ','"
                          " ORDER BY pseq) FROM hitl_audit_logs"
                          " WHERE partition_id = 32")
          == "token_created 2,token_revoked 7");
  // Each row keeps its place (partition, pseq, epoch, seq); the contents of
  // the two trade places.
  tamper(url, R"(
    CREATE TEMP TABLE gone AS SELECT * FROM hitl_audit_logs
      WHERE partition_id = 32;
    DELETE FROM hitl_audit_logs WHERE partition_id = 32;
    INSERT INTO hitl_audit_logs (seq, partition_id, pseq, epoch, decision_id,
      action, performed_by, "timestamp", details, ip_address, user_agent,
      prev_hash, hash)
    SELECT o.seq, o.partition_id, o.pseq, o.epoch, g.decision_id, g.action,
      g.performed_by, g."timestamp", g.details, g.ip_address, g.user_agent,
      g.prev_hash, g.hash
    FROM gone o JOIN gone g ON g.pseq = 3 - o.pseq)");
  auto r = verify(url);
  CHECK(r.exit_code == 2);
  CHECK(prints(r, "audit chain BROKEN at seq 2 (inserted_or_reordered): "
                  "partition 32 entry 1 (seq 2) does not link to the end of "
                  "the common prefix: an entry was inserted or reordered"));
  MESSAGE(r.out);
}

TEST_CASE("tamper: the last entries deleted") {
  // The last entry of two chains: 29's entry 3 (p-1 approved, seq 6) and
  // 185's only one (p-2 created, seq 5). Each partition's row keeps where
  // its chain ends; verify names the first chain that stops short of it.
  auto tpl = chain_template();
  auto kept = at(tpl, 29, 2, "left(hash, 12)");
  auto gone = at(tpl, 29, 3, "left(hash, 12)");
  const std::string cut_short =
    "audit chain BROKEN at seq 4 (removed): partition 29's chain ends at "
    "entry 2 (" + kept + "), but its row says entry 3 (" + gone + ")";
  const std::string delete_entries =
    "DELETE FROM hitl_audit_logs WHERE (partition_id, pseq) IN"
    " ((29, 3), (185, 1));";
  const std::string delete_accounted =
    "DELETE FROM hitl_approvals WHERE decision_id = 'dec-1';"
    "DELETE FROM hitl_outbox;"
    "DELETE FROM hitl_decisions WHERE decision_id = 'dec-2';"
    "UPDATE hitl_decisions SET decision = 'pending',"
    " decided_by = NULL, decided_at = NULL, version = 1"
    " WHERE decision_id = 'dec-1';";
  SUBCASE("their rows left behind: the heads and the cross-check name them") {
    auto url = copy_of(tpl);
    tamper(url, delete_entries);
    auto r = verify(url);
    CHECK(r.exit_code == 2);
    CHECK(prints(r, cut_short));
    CHECK(prints(r, "decisions DISAGREE with the chain: 5 mismatch(es) in 2 "
                    "decisions"));
    CHECK(prints(r, "decision dec-1: decision is 'approved' in hitl_decisions "
                    "but the audit chain says 'pending'"));
    CHECK(prints(r, "decision dec-2: in hitl_decisions, but no audit entry "
                    "created it"));
    MESSAGE(r.out);
  }
  SUBCASE("cleanly, with what they account for: the heads name them") {
    auto url = copy_of(tpl);
    tamper(url, delete_entries + delete_accounted);
    auto r = verify(url);
    CHECK(r.exit_code == 2);
    CHECK(prints(r, cut_short));
    CHECK(prints(r, "decisions agree with the chain: 1 decisions"));
    MESSAGE(r.out);
  }
  SUBCASE("cleanly, the partitions' heads moved back too") {
    auto url = copy_of(tpl);
    tamper(url, delete_entries + delete_accounted
                  + "UPDATE hitl_partitions SET chain_seq = 2, chain_hash ="
                    " (SELECT hash FROM hitl_audit_logs"
                    " WHERE partition_id = 29 AND pseq = 2)"
                    " WHERE partition_id = 29;"
                    "UPDATE hitl_partitions SET chain_seq = 0, chain_hash ="
                    " (SELECT hash FROM hitl_audit_prefix)"
                    " WHERE partition_id = 185");
    auto r = verify(url);
    // Without heads kept outside the database, chains cut short at their
    // ends, rows and all, are shorter chains: plain verify says intact. A
    // signed checkpoint of the heads (SPEC §11, `audit verify
    // --checkpoints`) catches it (audit_checkpoints_pgtest.cpp).
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("audit chain intact: 4 entries", 0) == 0);
    CHECK(prints(r, "decisions agree with the chain: 1 decisions"));
    MESSAGE(r.out);
  }
}
