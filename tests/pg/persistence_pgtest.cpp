// The persistence layer on a real PostgreSQL: pool recovery, tokens, the
// repositories' round trips, and decisions read by their columns' names.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/comment_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/decision_columns.hpp"
#include "persistence/decision_repository.hpp"
#include "persistence/outbox_repository.hpp"
#include "persistence/token_repository.hpp"
#include "policy/decision_json.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <set>

using namespace hitl;
using namespace hitl::test;

namespace {

pool_options opts_for(const std::string& url) {
  pool_options o;
  o.url = url;
  o.min_size = 2;
  o.max_size = 4;
  o.acquire_timeout = std::chrono::seconds(2);
  return o;
}

decision_record sample_decision(const std::string& id) {
  decision_record d;
  d.decision_id = id;
  d.patch_id = "patch-" + id;
  d.metadata.apv_id = "apv-7";
  d.metadata.cve_id = "CVE-2026-0001";
  d.metadata.package_name = "openssl";
  d.metadata.current_version = "3.0.1";
  d.metadata.target_version = "3.0.2";
  d.metadata.severity = urgency::high;
  d.metadata.cvss_score = 8.1;
  d.metadata.cwe_ids = {"CWE-79", "CWE-89"};
  d.metadata.affected_systems = {"api", "web"};
  d.metadata.patch_size_lines = 42;
  ml_prediction ml;
  ml.model_version = "m-1";
  ml.confidence = 0.8123456789;
  ml.prediction = true;
  ml.shap_values = {{"a", 0.25}, {"b", -0.5}};
  ml.execution_time_ms = 12.5;
  d.ml = ml;
  d.wargaming = wargaming_result{true, true, false, 3000.0, "boom", "EXP-1"};
  d.priority = urgency::high;
  d.approvals_required = 1;
  d.sla_deadline = now() + std::chrono::seconds(600);
  d.policy_version = "1.abcdef01";
  d.failed_rules = {"wargaming_validation_failed"};
  d.created_by = "wargaming";
  d.created_at = now();
  d.updated_at = d.created_at;
  d.content_hash = std::string(64, 'c');
  return d;
}

} // namespace

TEST_CASE("the pool survives a PostgreSQL restart in the middle of the test") {
  auto url = migrated_database("hitl_pool");
  connection_pool pool{opts_for(url)};
  pool.warm_up();
  CHECK(pool.size() == 2);
  CHECK(pool.ping());

  pg_ctl("restart");
  // Both idle connections are dead now; the pool must notice and reconnect.
  std::string answer;
  pool.read([&](pqxx::transaction_base& txn) {
    answer = txn.exec("SELECT 'back'")[0][0].as<std::string>();
  });
  CHECK(answer == "back");
  CHECK(pool.ping());

  pg_ctl("stop");
  CHECK_FALSE(pool.ping());
  try {
    pool.read([](pqxx::transaction_base& txn) { txn.exec("SELECT 1"); });
    FAIL("a read against a stopped server must throw");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::unavailable);
  }
  pg_ctl("start");
  CHECK(pool.ping());
}

TEST_CASE("the pool is bounded and times out instead of waiting forever") {
  auto url = migrated_database("hitl_pool_bound");
  auto o = opts_for(url);
  o.max_size = 1;
  o.acquire_timeout = std::chrono::milliseconds(200);
  connection_pool pool{o};
  try {
    pool.read([&](pqxx::transaction_base&) {
      // The only connection is in use: a nested acquire must give up.
      pool.read([](pqxx::transaction_base&) {});
    });
    FAIL("nested acquire on a full pool must time out");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::unavailable);
  }
  CHECK(pool.size() == 1);
  CHECK(pool.ping());
}

TEST_CASE("token create -> verify -> revoke -> verify fails") {
  auto url = migrated_database("hitl_tokens");
  auto created = run_hitl({"token", "create", "--name", "alice", "--role",
                           "reviewer", "--database-url", url});
  REQUIRE(created.exit_code == 0);
  // Printed once, alone on stdout.
  auto token = created.out.substr(0, created.out.find('\n'));
  CHECK(created.out == token + "\n");
  CHECK(token.rfind("hitl_", 0) == 0);
  CHECK(token.size() >= 5 + 43); // 256 random bits, base64url

  connection_pool pool{opts_for(url)};
  std::optional<token_info> found;
  pool.read([&](pqxx::transaction_base& txn) {
    found = find_active_token(txn, hash_token(token));
  });
  REQUIRE(found);
  CHECK(found->name == "alice");
  CHECK(found->role == role::reviewer);
  // Only the hash is stored.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_api_tokens WHERE"
                        " token_hash = '" + token + "'")
        == "0");

  auto dup = run_hitl({"token", "create", "--name", "alice", "--role",
                       "admin", "--database-url", url});
  CHECK(dup.exit_code != 0);
  CHECK(dup.out.empty());

  auto listed = run_hitl({"token", "list", "--database-url", url});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("alice") != std::string::npos);
  CHECK(listed.out.find(token) == std::string::npos);

  auto revoked = run_hitl({"token", "revoke", "--name", "alice",
                           "--database-url", url});
  CHECK(revoked.exit_code == 0);
  pool.read([&](pqxx::transaction_base& txn) {
    found = find_active_token(txn, hash_token(token));
  });
  CHECK_FALSE(found);
  CHECK(run_hitl({"token", "revoke", "--name", "alice", "--database-url", url})
          .exit_code
        != 0);
  auto bad_role = run_hitl({"token", "create", "--name", "bob", "--role",
                            "root", "--database-url", url});
  CHECK(bad_role.exit_code != 0);
}

TEST_CASE("decisions round-trip through the repository with every field") {
  auto url = migrated_database("hitl_decision_repo");
  connection_pool pool{opts_for(url)};
  auto d = sample_decision("d-1");
  pool.transact([&](pqxx::transaction_base& txn) { insert_decision(txn, d); });
  std::optional<decision_record> got;
  pool.read([&](pqxx::transaction_base& txn) { got = find_decision(txn, "d-1"); });
  REQUIRE(got);
  CHECK(got->patch_id == d.patch_id);
  CHECK(got->metadata.cve_id == d.metadata.cve_id);
  CHECK(got->metadata.severity == urgency::high);
  CHECK(got->metadata.cvss_score == doctest::Approx(8.1));
  CHECK(got->metadata.cwe_ids == d.metadata.cwe_ids);
  CHECK(got->metadata.affected_systems == d.metadata.affected_systems);
  CHECK(got->metadata.patch_size_lines == 42);
  REQUIRE(got->ml);
  CHECK(got->ml->confidence == d.ml->confidence); // exact round trip
  CHECK(got->ml->shap_values == d.ml->shap_values);
  REQUIRE(got->wargaming);
  CHECK_FALSE(got->wargaming->validation_passed);
  CHECK(got->wargaming->exploit_id == "EXP-1");
  CHECK(got->ml_wargaming_agreement == false); // true vs false: derived
  CHECK(got->sla_deadline == d.sla_deadline);   // microsecond exact
  CHECK(got->created_at == d.created_at);
  CHECK(got->failed_rules == d.failed_rules);
  CHECK(got->version == 1);
  CHECK(got->status == decision_status::pending);

  // Optimistic concurrency: the first writer wins, the stale one is told.
  auto approved = *got;
  approved.status = decision_status::approved;
  approved.decided_by = "bob";
  approved.decided_at = now();
  std::optional<int64_t> v1, v2;
  pool.transact([&](pqxx::transaction_base& txn) {
    v1 = update_decision_state(txn, approved, 1);
    v2 = update_decision_state(txn, approved, 1);
  });
  CHECK(v1 == 2);
  CHECK_FALSE(v2);

  // One open decision per patch.
  auto again = sample_decision("d-2");
  again.patch_id = "patch-x";
  auto twin = sample_decision("d-3");
  twin.patch_id = "patch-x";
  pool.transact([&](pqxx::transaction_base& txn) { insert_decision(txn, again); });
  try {
    pool.transact([&](pqxx::transaction_base& txn) { insert_decision(txn, twin); });
    FAIL("second open decision for one patch must be refused");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::conflict);
  }
  std::vector<decision_record> open;
  pool.read([&](pqxx::transaction_base& txn) { open = load_open_decisions(txn); });
  REQUIRE(open.size() == 1);
  CHECK(open[0].decision_id == "d-2");
}

TEST_CASE("the decision's column description covers hitl_decisions") {
  auto url = migrated_database("hitl_decision_cols");
  std::set<std::string> described;
  for (size_t i = 0; i < decision_col_count; ++i)
    described.insert(std::string{name_of(static_cast<decision_col>(i))});
  std::set<std::string> table;
  pqxx::connection conn{url};
  pqxx::work w{conn};
  for (const auto& r : w.exec("SELECT column_name FROM information_schema"
                              ".columns WHERE table_name = 'hitl_decisions'"
                              " AND table_schema = current_schema()"))
    table.insert(r[0].as<std::string>());
  CHECK(described.size() == decision_col_count); // no name twice
  CHECK(described == table);
  // A converted value is read under a name that no column has: ORDER BY
  // takes a bare name for the output column first, and would sort by the
  // conversion, past every index.
  for (size_t i = 0; i < decision_col_count; ++i) {
    auto c = static_cast<decision_col>(i);
    if (result_name_of(c) != name_of(c))
      CHECK_MESSAGE(table.count(std::string{result_name_of(c)}) == 0,
                    result_name_of(c));
  }
}

TEST_CASE("a decision is read by its columns' names, wherever they stand") {
  auto url = migrated_database("hitl_decision_by_name");
  auto d = sample_decision("cols-1");
  pqxx::connection conn{url};
  prepare_statements(conn);
  pqxx::work w{conn};
  insert_decision(w, d);
  std::vector<decision_col> reversed;
  for (size_t i = decision_col_count; i-- > 0;)
    reversed.push_back(static_cast<decision_col>(i));
  auto usual = w.exec("SELECT " + decision_select_list()
                      + " FROM hitl_decisions");
  auto turned = w.exec("SELECT 42 AS answer, " + decision_select_list(reversed)
                       + " FROM hitl_decisions");
  REQUIRE(usual.size() == 1);
  REQUIRE(turned.size() == 1);
  CHECK(usual.column_number("decision_id") == 0);
  CHECK(turned.column_number("decision_id") == turned.columns() - 1);
  auto a = decision_fields{usual}.record(usual[0]);
  auto b = decision_fields{turned}.record(turned[0]);
  CHECK(record_json(a) == record_json(d));
  CHECK(record_json(b) == record_json(d));
  CHECK(b.version == 1);
  CHECK(b.content_hash == d.content_hash);
  CHECK(b.created_at == d.created_at);
  CHECK(b.updated_at == d.created_at);
  // A statement that lacks a column the reader needs says which.
  auto partial = w.exec("SELECT decision_id FROM hitl_decisions");
  decision_fields some{partial};
  CHECK(some(partial[0], decision_col::decision_id).as<std::string>()
        == "cols-1");
  CHECK_THROWS_WITH_AS(some.record(partial[0]),
                       "the result has no column patch_id", std::logic_error);
}

TEST_CASE("recovery reads every open decision, across the cursor's slices") {
  auto url = migrated_database("hitl_recover_many");
  connection_pool pool{opts_for(url)};
  // More than two slices of the cursor (20,000 rows each), some decided.
  constexpr int n = 45001;
  pool.transact([&](pqxx::transaction_base& txn) {
    txn.exec("INSERT INTO hitl_decisions (decision_id, patch_id, apv_id,"
             " package_name, current_version, target_version, severity,"
             " policy_version, content_hash, created_by)"
             " SELECT 'm-' || g, 'p-' || g, 'a', 'openssl', '1', '2', 'low',"
             " '1.x', repeat('a', 64), 'svc'"
             " FROM generate_series(1, " + std::to_string(n) + ") g");
    txn.exec("UPDATE hitl_decisions SET decision = 'approved',"
             " decided_by = 'bob', decided_at = now()"
             " WHERE decision_id IN ('m-7', 'm-30000')");
    insert_approval(txn, "m-44999",
                    approval{"bob", now(), std::nullopt, std::nullopt,
                             std::nullopt});
  });
  std::vector<decision_record> open;
  pool.read([&](pqxx::transaction_base& txn) { open = load_open_decisions(txn); });
  CHECK(open.size() == n - 2);
  std::set<std::string> ids;
  for (const auto& d : open)
    ids.insert(d.decision_id);
  CHECK(ids.size() == open.size());
  CHECK(ids.count("m-1") == 1);
  CHECK(ids.count("m-45001") == 1);
  CHECK(ids.count("m-7") == 0);
  CHECK(ids.count("m-30000") == 0);
  auto with = std::find_if(open.begin(), open.end(), [](const auto& d) {
    return d.decision_id == "m-44999";
  });
  REQUIRE(with != open.end());
  REQUIRE(with->approvals.size() == 1);
  CHECK(with->approvals[0].by == "bob");
  // The cursor is closed: the same transaction can read again.
  pool.read([&](pqxx::transaction_base& txn) {
    CHECK(load_open_decisions(txn).size() == open.size());
    CHECK(load_open_decisions(txn).size() == open.size());
  });
}

TEST_CASE("comments, approvals, audit entries and outbox rows") {
  auto url = migrated_database("hitl_repos");
  connection_pool pool{opts_for(url)};
  auto d = sample_decision("r-1");
  pool.transact([&](pqxx::transaction_base& txn) {
    insert_decision(txn, d);
    insert_comment(txn, comment{0, "r-1", "bob", "looks fine", now()});
    insert_approval(txn, "r-1",
                    approval{"bob", now(), std::string{"ok"}, std::nullopt,
                             std::nullopt});
    audit_entry e;
    e.link = chain_link{partition_id{9}, 0, 0};
    e.decision_id = "r-1";
    e.action = audit_action::created;
    e.performed_by = "wargaming";
    e.at = now();
    e.details_json = R"({"priority":"high"})";
    e.ip_address = "127.0.0.1";
    batch_rows rows;
    chain_head head;
    rows.chains.push_back({partition_id{9}, 0, head, {}});
    seal_next(head, e);
    rows.chains.back().after = head;
    rows.entries.push_back(e);
    write_batch(txn, rows);
    enqueue_outbox(txn, "decision.created", "r-1", "http://127.0.0.1:9/x",
                   R"({"event":"decision.created"})");
  });
  try {
    pool.transact([&](pqxx::transaction_base& txn) {
      insert_approval(txn, "r-1",
                      approval{"bob", now(), std::nullopt, std::nullopt,
                               std::nullopt});
    });
    FAIL("one reviewer cannot approve twice");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::conflict);
  }
  pool.read([&](pqxx::transaction_base& txn) {
    auto comments = list_comments(txn, "r-1");
    REQUIRE(comments.size() == 1);
    CHECK(comments[0].text == "looks fine");
    auto rec = find_decision(txn, "r-1");
    REQUIRE(rec);
    REQUIRE(rec->approvals.size() == 1);
    CHECK(rec->approvals[0].by == "bob");
    auto head = read_partition_chains(txn).at(9).head;
    CHECK(head.seq == 1);
    auto entries = read_audit_entries(txn, 0, 10);
    REQUIRE(entries.size() == 1);
    REQUIRE(entries[0].link);
    CHECK(entries[0].link->partition == partition_id{9});
    CHECK(entries[0].link->pseq == 1);
    chains_verifier v;
    CHECK_FALSE(v.feed(entries[0]));
    CHECK(head.hash == entries[0].hash);
  });
  pool.transact([&](pqxx::transaction_base& txn) {
    auto due = claim_due_outbox(txn, "http://127.0.0.1:9/x", 10,
                                std::chrono::seconds(30), "");
    REQUIRE(due.size() == 1);
    CHECK(due[0].delivery_id.size() == 36);
    mark_outbox_dead(txn, due[0].id, "HTTP 410");
  });
  pool.transact([&](pqxx::transaction_base& txn) {
    auto dead = list_outbox(txn, outbox_state::dead, 10);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].attempts == 1);
    CHECK(retry_outbox(txn, dead[0].id));
    CHECK(list_outbox(txn, outbox_state::pending, 10).size() == 1);
  });
}

TEST_CASE("webhook claims name their node, on the database's clock; a gone "
          "node's claims are due again at once") {
  auto url = migrated_database("hitl_claims");
  connection_pool pool{opts_for(url)};
  const std::string a = "00000000-0000-4000-8000-00000000000a";
  const std::string b = "00000000-0000-4000-8000-00000000000b";
  sql_exec(url, "INSERT INTO hitl_nodes (node_id, http_endpoint, "
                "policy_version, wire_version, lease_until) VALUES ('"
                  + a + "', 'a:1', 'p', 1, now() + interval '1 hour'), ('"
                  + b + "', 'b:1', 'p', 1, now() + interval '1 hour')");
  pool.transact([&](pqxx::transaction_base& txn) {
    insert_decision(txn, sample_decision("c-1"));
    for (int i = 0; i < 3; ++i)
      enqueue_outbox(txn, "decision.created", "c-1", "http://127.0.0.1:9/x",
                     R"({"event":"decision.created"})");
  });
  auto claimed_by = [&](const std::string& node) {
    return sql_scalar(url, "SELECT count(*) FROM hitl_outbox WHERE "
                           "claimed_by = '" + node + "'");
  };
  auto due_now = [&] {
    return sql_scalar(url, "SELECT count(*) FROM hitl_outbox WHERE "
                           "claimed_by IS NULL AND next_attempt_at <= now()");
  };
  // Claimed for an hour: long beyond anything this test waits for, so
  // that no check below depends on the machine's speed.
  const auto hour = std::chrono::hours(1);
  pool.transact([&](pqxx::transaction_base& txn) {
    CHECK(claim_due_outbox(txn, "http://127.0.0.1:9/x", 2, hour, a).size()
          == 2);
    CHECK(claim_due_outbox(txn, "http://127.0.0.1:9/x", 5, hour, b).size()
          == 1);
  });
  CHECK(claimed_by(a) == "2");
  CHECK(claimed_by(b) == "1");
  // Claimed by the database's clock: nothing is due for most of an hour.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_outbox WHERE "
                        "next_attempt_at < now() + interval '50 minutes'")
        == "0");
  pool.transact([&](pqxx::transaction_base& txn) {
    CHECK(claim_due_outbox(txn, "http://127.0.0.1:9/x", 5, hour, b).empty());
    // Both nodes live: nothing to release.
    CHECK(release_outbox_claims(txn, "") == 0);
  });
  // Node a's lease ends (killed): its two claims are due again, b's stays.
  sql_exec(url, "UPDATE hitl_nodes SET lease_until = now() WHERE node_id = '"
                  + a + "'");
  pool.transact([&](pqxx::transaction_base& txn) {
    CHECK(release_outbox_claims(txn, "") == 2);
  });
  CHECK(claimed_by(a) == "0");
  CHECK(claimed_by(b) == "1");
  CHECK(due_now() == "2");
  // A node that starts again under its id releases its earlier run's
  // claims, live lease or not.
  pool.transact([&](pqxx::transaction_base& txn) {
    CHECK(release_outbox_claims(txn, b) == 1);
  });
  CHECK(due_now() == "3");
  // A failed attempt is due again after its delay, on the database's
  // clock, and no longer claimed.
  pool.transact([&](pqxx::transaction_base& txn) {
    auto due = claim_due_outbox(txn, "http://127.0.0.1:9/x", 5, hour, b);
    REQUIRE(due.size() == 3);
    mark_outbox_retry(txn, due[0].id, 2 * hour, "timeout");
    mark_outbox_delivered(txn, due[1].id);
    mark_outbox_dead(txn, due[2].id, "HTTP 410");
  });
  CHECK(claimed_by(b) == "0");
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_outbox WHERE state = "
                        "'pending' AND next_attempt_at BETWEEN now() + "
                        "interval '110 minutes' AND now() + interval "
                        "'2 hours'")
        == "1");
}

namespace {

// The batch's tests write to partition 7's chain (which partition a
// decision's entries go to is the auditor's business, not the statement's).
constexpr partition_id chain_of_test{7};

// An entry of decision `id` sealed after `head`, which it advances.
audit_entry entry_for(const std::string& id, chain_head& head) {
  audit_entry e;
  e.link = chain_link{chain_of_test, 0, 0};
  e.decision_id = id;
  e.action = audit_action::created;
  e.performed_by = "wargaming";
  e.at = now();
  e.details_json = "{}";
  seal_next(head, e);
  return e;
}

// The chain's move from `before` to `after`, for the batch's guard.
chain_advance advance(const chain_head& before, const chain_head& after) {
  return chain_advance{chain_of_test, 0, before, after};
}

int64_t count_of(const std::string& url, const std::string& table) {
  return std::stoll(sql_scalar(url, "SELECT count(*) FROM " + table));
}

} // namespace

TEST_CASE("a batch written at once: every row, or none when a guard fails") {
  auto url = migrated_database("hitl_batch_write");
  connection_pool pool{opts_for(url)};
  auto old = sample_decision("b-old");
  pool.transact(
    [&](pqxx::transaction_base& txn) { insert_decision(txn, old); });

  // A new decision, and an approval of the old one at the version it has,
  // with the audit entries of both (the second refers to the first's row,
  // inserted by the same statement) and an outbox row.
  auto fresh = sample_decision("b-new");
  fresh.patch_id = "patch-new";
  auto approved = old;
  approved.status = decision_status::approved;
  approved.decided_by = "bob";
  approved.decided_at = now();
  approval given{"bob", now(), std::string{"fine"}, std::nullopt,
                 std::nullopt};
  batch_rows rows;
  rows.inserts.push_back(&fresh);
  rows.updates.push_back({&approved, 1});
  rows.approvals.push_back({&approved.decision_id, &given});
  chain_head start;
  chain_head head;
  rows.entries.push_back(entry_for("b-new", head));
  rows.entries.push_back(entry_for("b-old", head));
  rows.chains.push_back(advance(start, head));
  auto written_head = head;
  rows.outbox.push_back({"decision.approved", "b-old", "http://127.0.0.1:9/x",
                         R"({"event":"decision.approved"})"});
  std::optional<std::unordered_map<std::string, int64_t>> written;
  pool.write_once(
    [&](pqxx::transaction_base& txn) { written = write_batch(txn, rows); });
  REQUIRE(written);
  CHECK(*written == std::unordered_map<std::string, int64_t>{{"b-old", 2}});
  CHECK(sql_scalar(url, "SELECT decision FROM hitl_decisions"
                        " WHERE decision_id = 'b-old'")
        == "approved");
  CHECK(count_of(url, "hitl_decisions") == 2);
  CHECK(count_of(url, "hitl_approvals") == 1);
  CHECK(count_of(url, "hitl_audit_logs") == 2);
  CHECK(count_of(url, "hitl_outbox") == 1);

  // The same update again expects version 1, which is gone: nothing of the
  // batch is written, not even its insert and its entries.
  auto other = sample_decision("b-other");
  other.patch_id = "patch-other";
  batch_rows stale;
  stale.inserts.push_back(&other);
  stale.updates.push_back({&approved, 1});
  stale.entries.push_back(entry_for("b-other", head));
  stale.entries.push_back(entry_for("b-old", head));
  stale.chains.push_back(advance(written_head, head));
  written = std::nullopt;
  pool.write_once(
    [&](pqxx::transaction_base& txn) { written = write_batch(txn, stale); });
  CHECK_FALSE(written);
  CHECK(count_of(url, "hitl_decisions") == 2);
  CHECK(count_of(url, "hitl_audit_logs") == 2);

  // A refused row (a second open decision for a patch) fails the whole
  // statement with the error the separate statements give.
  auto twin = sample_decision("b-twin");
  twin.patch_id = "patch-new";
  batch_rows refused;
  refused.inserts.push_back(&twin);
  head = written_head;
  refused.entries.push_back(entry_for("b-twin", head));
  refused.chains.push_back(advance(written_head, head));
  try {
    pool.write_once(
      [&](pqxx::transaction_base& txn) { write_batch(txn, refused); });
    FAIL("a second open decision for one patch must be refused");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::conflict);
  }
  CHECK(count_of(url, "hitl_audit_logs") == 2);

  // A batch sealed after an entry that is not its chain's last (the one
  // before it in a pipeline was refused) is refused whole: after entry 3,
  // which was never written, and after entry 2 under another hash.
  auto next = sample_decision("b-next");
  next.patch_id = "patch-next";
  for (auto behind_head : {chain_head{3, std::string(64, 'a')},
                           chain_head{2, std::string(64, 'b')}}) {
    batch_rows behind;
    behind.inserts.push_back(&next);
    auto from = behind_head;
    behind.entries.push_back(entry_for("b-next", behind_head));
    behind.chains.push_back(advance(from, behind_head));
    try {
      pool.write_once(
        [&](pqxx::transaction_base& txn) { write_batch(txn, behind); });
      FAIL("a batch that does not follow its chain's end must be refused");
    } catch (const chain_moved& e) {
      CHECK(std::string{e.what()}.find("moved since the batch was sealed")
            != std::string::npos);
    }
  }
  CHECK(count_of(url, "hitl_decisions") == 2);
  CHECK(count_of(url, "hitl_audit_logs") == 2);
  // After the real end it goes in.
  batch_rows following;
  following.inserts.push_back(&next);
  head = written_head;
  following.entries.push_back(entry_for("b-next", head));
  following.chains.push_back(advance(written_head, head));
  pool.write_once(
    [&](pqxx::transaction_base& txn) { write_batch(txn, following); });
  CHECK(count_of(url, "hitl_audit_logs") == 3);
  CHECK(sql_scalar(url, "SELECT chain_seq || ' ' || chain_hash"
                        " FROM hitl_partitions WHERE partition_id = 7")
        == "3 " + head.hash);
  // The database gave the entries their seq, in the order they were sealed.
  CHECK(sql_scalar(url, "SELECT string_agg(pseq::text, ',' ORDER BY seq)"
                        " FROM hitl_audit_logs")
        == "1,2,3");
}

TEST_CASE("the text and numbers of a batch arrive exactly as given") {
  auto url = migrated_database("hitl_batch_text");
  connection_pool pool{opts_for(url)};
  const std::string odd = "quote \" backslash \\ slash / newline \n tab \t "
                          "bell \x01 esc \x1b del \x7f caf\xc3\xa9 "
                          "\xf0\x9f\x9a\x80 </script> \\u0041";
  auto d = sample_decision("t-1");
  d.metadata.package_name = odd;
  d.metadata.cwe_ids = {"CWE-79", odd, ""};
  d.metadata.affected_systems = {odd};
  d.metadata.cvss_score = 0.1;
  d.metadata.patch_size_lines = int64_t{1} << 53;
  d.ml->confidence = 0.30000000000000004;
  d.ml->model_version = odd;
  d.ml->shap_values = {{odd, 1e-300}, {"big", 1.7976931348623157e308},
                       {"third", 1.0 / 3.0}};
  d.ml->execution_time_ms = 5e-324;
  d.wargaming->error_message = odd;
  d.reason = odd;
  audit_entry e;
  e.link = chain_link{chain_of_test, 0, 0};
  e.decision_id = "t-1";
  e.performed_by = odd;
  e.at = now();
  e.details_json = canonical_details(nlohmann::json{{"note", odd}, {"n", 0.1}});
  e.user_agent = odd;
  chain_head start;
  chain_head head;
  seal_next(head, e);
  batch_rows rows;
  rows.inserts.push_back(&d);
  rows.entries.push_back(e);
  rows.chains.push_back(advance(start, head));
  pool.write_once([&](pqxx::transaction_base& txn) { write_batch(txn, rows); });

  std::optional<decision_record> back;
  std::vector<audit_entry> entries;
  pool.read([&](pqxx::transaction_base& txn) {
    back = find_decision(txn, "t-1");
    entries = read_audit_entries(txn, 0, 10);
  });
  REQUIRE(back);
  CHECK(back->metadata.package_name == odd);
  CHECK(back->metadata.cwe_ids == d.metadata.cwe_ids);
  CHECK(back->metadata.affected_systems == d.metadata.affected_systems);
  CHECK(back->metadata.cvss_score == d.metadata.cvss_score);
  CHECK(back->metadata.patch_size_lines == d.metadata.patch_size_lines);
  REQUIRE(back->ml);
  CHECK(back->ml->confidence == d.ml->confidence);
  CHECK(back->ml->model_version == odd);
  CHECK(back->ml->execution_time_ms == d.ml->execution_time_ms);
  // jsonb keeps an object's keys in its own order.
  auto shap = back->ml->shap_values;
  auto want = d.ml->shap_values;
  std::sort(shap.begin(), shap.end());
  std::sort(want.begin(), want.end());
  CHECK(shap == want);
  CHECK(back->wargaming->error_message == odd);
  CHECK(back->reason == odd);
  REQUIRE(entries.size() == 1);
  REQUIRE(entries[0].link);
  CHECK(entries[0].link->partition == chain_of_test);
  CHECK(entries[0].link->pseq == 1);
  CHECK(entries[0].link->epoch == 0);
  CHECK(entries[0].performed_by == odd);
  CHECK(entries[0].user_agent == odd);
  CHECK(nlohmann::json::parse(entries[0].details_json)
        == nlohmann::json::parse(e.details_json));
  // And so the stored entry still has the hash it was sealed with.
  CHECK(compute_hash(entries[0].prev_hash, canonical_json(entries[0]))
        == e.hash);
}

TEST_CASE("a single write after a restart runs on a fresh connection") {
  auto url = migrated_database("hitl_write_once");
  connection_pool pool{opts_for(url)};
  pool.warm_up();
  pg_ctl("restart");
  // The idle connections were closed by the server; that is seen before
  // anything is sent, so the write is not in doubt and runs once.
  auto d = sample_decision("w-1");
  batch_rows rows;
  rows.inserts.push_back(&d);
  pool.write_once([&](pqxx::transaction_base& txn) { write_batch(txn, rows); });
  CHECK(count_of(url, "hitl_decisions") == 1);
}
