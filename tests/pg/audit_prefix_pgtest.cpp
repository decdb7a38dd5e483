// A database whose audit trail was written as one chain, before partitions
// had chains of their own (schema 020), migrates without a rewrite: its
// chain becomes the common prefix, each partition's chain starts where it
// ends, and checkpoints signed of the single chain still hold (SPEC §5, §8).

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"

#include "persistence/migrations.hpp"
#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/checkpoint_signature.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>


using namespace hitl;
using namespace hitl::test;
using json = nlohmann::json;

namespace {

constexpr int last_single_chain_version = 20;

// The single chain as that release's auditor wrote it: one decision row
// and its 'created' entry each, seq dense from 1, the hash over seq.
std::vector<audit_entry> write_single_chain(const std::string& url, int n) {
  pqxx::connection conn{url};
  pqxx::work txn{conn};
  std::vector<audit_entry> chain;
  chain_head head;
  for (int i = 1; i <= n; ++i) {
    auto id = "pre-" + std::to_string(i);
    txn.exec("INSERT INTO hitl_decisions (decision_id, patch_id, apv_id,"
             " package_name, current_version, target_version, severity,"
             " priority, policy_version, content_hash, created_by,"
             " sla_deadline) VALUES ('" + id + "', 'patch-" + id
             + "', 'apv-1', 'openssl', '1.0', '1.1', 'high', 'high', '1.test',"
               " repeat('a', 64), 'wargaming', '2030-01-01T00:00:00Z')");
    audit_entry e;
    e.decision_id = id;
    e.action = audit_action::created;
    e.performed_by = "wargaming";
    e.at = now();
    e.details_json = canonical_details(
      json{{"approvals_required", 1},
           {"priority", "high"},
           {"severity", "high"},
           {"patch_id", "patch-" + id},
           {"policy_version", "1.test"},
           {"sla_deadline", "2030-01-01T00:00:00.000000Z"}});
    seal_next(head, e);
    txn.exec_params("INSERT INTO hitl_audit_logs (seq, decision_id, action,"
                    " performed_by, \"timestamp\", details, prev_hash, hash)"
                    " VALUES ($1, $2, 'created', 'wargaming',"
                    " hitl_from_micros($3), $4::jsonb, $5, $6)",
                    e.seq, e.decision_id, to_micros(e.at), e.details_json,
                    e.prev_hash, e.hash);
    chain.push_back(e);
  }
  txn.commit();
  return chain;
}

} // namespace

TEST_CASE("a single chain migrates into the common prefix: partitions' "
          "chains start where it ends, old and new checkpoints hold") {
  auto url = fresh_database("hitl_prefix");
  migrate_up_to(url, last_single_chain_version);
  auto prefix = write_single_chain(url, 3);
  // A checkpoint of the single chain, signed before the upgrade and kept in
  // the table and in a file.
  auto key = signing_key::generate();
  auto key_file = scratch_file("key.pem", key.to_pem());
  auto public_file = scratch_file("public.pem", key.public_key().to_pem());
  audit_checkpoint old;
  old.seq = 3;
  old.hash = prefix.back().hash;
  old.at = now();
  old.count = 3;
  sign_checkpoint(old, key);
  sql_exec(url, "INSERT INTO hitl_audit_checkpoints (seq, hash, signed_at,"
                " entry_count, key_id, signature) VALUES (3, '"
                  + old.hash + "', hitl_from_micros("
                  + std::to_string(to_micros(old.at)) + "), 3, '" + old.key_id
                  + "', '" + old.signature + "')");
  auto checkpoint_file =
    scratch_file("checkpoints.jsonl", to_json_line(old) + "\n");

  auto migrated = apply_migrations(url);
  CHECK(migrated.current_version == latest_schema_version());
  // Nothing was rewritten: the old rows are as they were, without a link.
  CHECK(sql_scalar(url, "SELECT string_agg(hash, ',' ORDER BY seq)"
                        " FROM hitl_audit_logs")
        == prefix[0].hash + "," + prefix[1].hash + "," + prefix[2].hash);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs"
                        " WHERE partition_id IS NULL")
        == "3");
  CHECK(sql_scalar(url, "SELECT seq || ' ' || hash FROM hitl_audit_prefix")
        == "3 " + prefix.back().hash);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_partitions"
                        " WHERE chain_seq = 0 AND chain_hash = '"
                          + prefix.back().hash + "'")
        == "256");
  // Nothing joins the prefix any more.
  CHECK_THROWS_AS(sql_exec(url, "INSERT INTO hitl_audit_logs (seq,"
                                " decision_id, action, performed_by,"
                                " \"timestamp\", prev_hash, hash) VALUES (4,"
                                " 'pre-1', 'commented', 'x', now(),"
                                " repeat('0', 64), repeat('1', 64))"),
                  std::exception);

  // serve writes on, each entry in its patch's partition, and signs
  // checkpoints of every chain's head.
  auto cfg = scratch_file("config.json",
                          json{{"audit",
                                {{"signing_key", key_file},
                                 {"checkpoint_seconds", 1},
                                 {"checkpoint_file", checkpoint_file}}}}
                            .dump());
  auto svc = issue_token(url, "wargaming", "service");
  {
    served_hitl s{url, {"--config", cfg}};
    REQUIRE(create_decision(s.base_url(), svc, "post-1").status == 201);
    REQUIRE(create_decision(s.base_url(), svc, "post-2").status == 201);
    auto max_seq = sql_scalar(url, "SELECT max(seq) FROM hitl_audit_logs");
    REQUIRE_MESSAGE(eventually([&] {
                      return sql_scalar(url,
                                        "SELECT count(*) FROM"
                                        " hitl_audit_checkpoints WHERE seq = "
                                          + max_seq)
                             == "1";
                    }),
                    s.log());
  }
  // The first entry of each partition written to links to the prefix's end;
  // seq goes on after it.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs"
                        " WHERE pseq = 1 AND prev_hash <> '"
                          + prefix.back().hash + "'")
        == "0");
  CHECK(sql_scalar(url, "SELECT min(seq) FROM hitl_audit_logs"
                        " WHERE partition_id IS NOT NULL")
        == "4");
  CHECK(sql_scalar(url, "SELECT bool_and(l.partition_id ="
                        " hitl_partition_of(d.patch_id))"
                        " FROM hitl_audit_logs l JOIN hitl_decisions d"
                        " USING (decision_id)"
                        " WHERE l.partition_id IS NOT NULL")
        == "t");

  // Verify walks the prefix and every chain; the old checkpoint and the new
  // ones (table and file) hold.
  auto plain = run_hitl({"audit", "verify", "--database-url", url});
  CHECK_MESSAGE(plain.exit_code == 0, plain.out);
  auto entries = sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs");
  CHECK(plain.out.find("audit chain intact: " + entries + " entries")
        != std::string::npos);
  CHECK(plain.out.find("decisions agree with the chain: 5 decisions")
        != std::string::npos);
  auto with_file =
    run_hitl({"audit", "verify", "--database-url", url, "--checkpoints",
              checkpoint_file, "--public-key", public_file});
  CHECK_MESSAGE(with_file.exit_code == 0, (with_file.out + with_file.err));
  CHECK(with_file.out.find("refused") == std::string::npos);
  auto table = run_hitl(
    {"audit", "verify", "--database-url", url, "--public-key", public_file});
  CHECK_MESSAGE(table.exit_code == 0, (table.out + table.err));

  // An edit of the prefix is an edit of every chain: verify names it. (The
  // owner has to drop the check that keeps rows out of the prefix first:
  // an updated row is checked again.)
  {
    pqxx::connection conn{url};
    pqxx::work w{conn};
    w.exec("SET LOCAL session_replication_role = replica");
    w.exec("ALTER TABLE hitl_audit_logs"
           " DROP CONSTRAINT hitl_audit_logs_in_partition");
    w.exec("UPDATE hitl_audit_logs SET performed_by = 'mallory'"
           " WHERE seq = 2");
    w.commit();
  }
  auto broken = run_hitl({"audit", "verify", "--database-url", url});
  CHECK(broken.exit_code == 2);
  CHECK_MESSAGE(broken.out.find("entry 2 was altered") != std::string::npos,
                broken.out);
}
