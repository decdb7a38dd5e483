// The kinds of rows a batch writes (decision updates and inserts,
// approvals, audit entries, outbox rows), in every combination, through the
// pipelined writer: each combination's statement, its parameters and their
// types are made from the one description of the kinds, and prepared in
// the pipeline ahead of the first batch that needs it.

#include "tests/pg/pg_fixture.hpp"

#include "persistence/batch_writes.hpp"
#include "persistence/pipelined_writer.hpp"
#include "policy/audit_chain.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <string>
#include <variant>

using namespace hitl;
using namespace hitl::test;

namespace {

constexpr batch_parts updates = 1, inserts = 2, approvals = 4, entries = 8,
                      outbox = 16;

// `count` pending decisions base-0, base-1, …, at version 1.
void insert_base_decisions(const std::string& url, int count) {
  sql_exec(url, R"(
    INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, package_name,
      current_version, target_version, severity, priority, policy_version,
      content_hash, created_by)
    SELECT 'base-' || g, 'base-patch-' || g, 'a', 'openssl', '1', '2',
      'high', 'high', '1.x', repeat('a', 64), 'svc'
    FROM generate_series(0, )"
                  + std::to_string(count - 1) + ") g");
}

decision_record new_decision(const std::string& id) {
  decision_record d;
  d.decision_id = id;
  d.patch_id = "patch-" + id;
  d.metadata.apv_id = "apv-1";
  d.metadata.package_name = "openssl";
  d.metadata.current_version = "3.0.1";
  d.metadata.target_version = "3.0.2";
  d.metadata.severity = urgency::high;
  d.priority = urgency::high;
  d.policy_version = "1.abcdef01";
  d.created_by = "wargaming";
  d.created_at = now();
  d.updated_at = d.created_at;
  d.content_hash = std::string(64, 'c');
  return d;
}

// The partition whose chain the batches' entries extend (which partition a
// decision's entries go to is the auditor's business, not the statement's).
constexpr partition_id chain_of_test{7};

// Builds batches whose rows stay where they are until they are sent, and
// keeps the audit chain that their entries extend.
struct batch_maker {
  std::deque<decision_record> decisions;
  std::deque<approval> approvals_given;
  std::deque<std::string> ids;
  chain_head head; // partition 7's, empty in a fresh database

  // A batch of the kinds in `parts` about decision `base` (at `version`),
  // one row of each kind; `tag` tells this round's rows apart.
  batch_rows make(batch_parts parts, const std::string& base,
                  int64_t version, const std::string& tag) {
    batch_rows rows;
    if (parts & updates) {
      auto& after = decisions.emplace_back(new_decision(base));
      after.status = decision_status::escalated;
      after.escalation_level = static_cast<int>(version);
      rows.updates.push_back({&after, version});
    }
    if (parts & inserts)
      rows.inserts.push_back(
        &decisions.emplace_back(new_decision("new-" + tag)));
    if (parts & approvals) {
      auto& given = approvals_given.emplace_back(
        approval{"reviewer-" + tag, now(), std::string{"fine"},
                 std::nullopt, std::nullopt});
      rows.approvals.push_back({&ids.emplace_back(base), &given});
    }
    if (parts & entries) {
      audit_entry e;
      e.link = chain_link{chain_of_test, 0, 0};
      e.decision_id = base;
      e.action = audit_action::commented;
      e.performed_by = "bob";
      e.at = now();
      auto before = head;
      seal_next(head, e);
      rows.entries.push_back(e);
      rows.chains.push_back({chain_of_test, 0, before, head});
    }
    if (parts & outbox)
      rows.outbox.push_back({"decision.escalated", base,
                             "http://127.0.0.1:9/hook",
                             R"({"event":"decision.escalated"})"});
    return rows;
  }
};

// The oldest batch's outcome, waited for with a generous ceiling.
pipelined_writer::outcome outcome_of(pipelined_writer& w) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline)
    if (auto got = w.next(std::chrono::milliseconds(200)))
      return *got;
  FAIL("no answer to a batch within 60 s");
  return {};
}

int64_t count_of(const std::string& url, const std::string& table) {
  return std::stoll(sql_scalar(url, "SELECT count(*) FROM " + table));
}

} // namespace

TEST_CASE("batches of every combination of row kinds, pipelined, are "
          "written whole") {
  REQUIRE(batch_parts_all == 31);
  auto url = migrated_database("hitl_batch_kinds");
  insert_base_decisions(url, 32);
  pipelined_writer writer{runtime_url(url)};
  batch_maker make;
  int64_t rows_of_kind[5] = {};
  // Twice: all statements are prepared in the pipeline in the first round,
  // ahead of their batches, and only run in the second.
  for (int64_t round = 1; round <= 2; ++round) {
    for (batch_parts parts = 1; parts <= batch_parts_all; ++parts) {
      auto tag = std::to_string(round) + "-" + std::to_string(parts);
      writer.send(make.make(parts, "base-" + std::to_string(parts), round,
                            tag));
      for (int k = 0; k < 5; ++k)
        rows_of_kind[k] += (parts >> k) & 1;
    }
    CHECK(writer.in_flight() == batch_parts_all);
    for (batch_parts parts = 1; parts <= batch_parts_all; ++parts) {
      CAPTURE(round);
      CAPTURE(parts);
      auto got = outcome_of(writer);
      auto* refused = std::get_if<pipelined_writer::refused>(&got);
      CHECK_MESSAGE(refused == nullptr,
                    (refused ? refused->sqlstate + " " + refused->message
                             : std::string{}));
      auto* written = std::get_if<pipelined_writer::written>(&got);
      REQUIRE(written);
      if (parts & updates)
        CHECK(*written
              == pipelined_writer::written{
                {"base-" + std::to_string(parts), round + 1}});
      else
        CHECK(written->empty());
    }
  }
  CHECK(count_of(url, "hitl_decisions") == 32 + rows_of_kind[1]);
  CHECK(count_of(url, "hitl_approvals") == rows_of_kind[2]);
  CHECK(count_of(url, "hitl_audit_logs") == rows_of_kind[3]);
  CHECK(count_of(url, "hitl_outbox") == rows_of_kind[4]);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions"
                        " WHERE decision = 'escalated' AND version = 3"
                        " AND escalation_level = 2")
        == std::to_string(rows_of_kind[0] / 2));
  // The chain ends where the last batch left it, its row too, and the
  // entries were committed in the order they were sealed.
  CHECK(make.head.seq == rows_of_kind[3]);
  CHECK(sql_scalar(url, "SELECT chain_seq || ' ' || chain_hash"
                        " FROM hitl_partitions WHERE partition_id = 7")
        == std::to_string(make.head.seq) + " " + make.head.hash);
  std::string places;
  for (int64_t i = 1; i <= make.head.seq; ++i)
    places += (i > 1 ? "," : "") + std::to_string(i);
  CHECK(sql_scalar(url, "SELECT string_agg(pseq::text, ',' ORDER BY seq)"
                        " FROM hitl_audit_logs WHERE partition_id = 7")
        == places);
}

TEST_CASE("a batch statement is prepared once, and again after its prepare "
          "failed") {
  auto url = migrated_database("hitl_batch_prepare");
  insert_base_decisions(url, 1);
  pipelined_writer writer{runtime_url(url)};
  batch_maker make;

  SUBCASE("a batch refused after its statement was prepared") {
    // The first batch of updates expects a version that is gone: refused,
    // but its statement was prepared, and the next batch of the same kinds
    // runs it (preparing it again would be refused: it exists).
    writer.send(make.make(updates, "base-0", 7, "stale"));
    auto first = outcome_of(writer);
    REQUIRE(std::holds_alternative<pipelined_writer::refused>(first));
    CHECK(std::get<pipelined_writer::refused>(first).sqlstate == "HT409");
    writer.send(make.make(updates, "base-0", 1, "fresh"));
    auto second = outcome_of(writer);
    CHECK(std::holds_alternative<pipelined_writer::written>(second));
  }

  SUBCASE("a statement that could not be prepared is prepared again") {
    // Without the chain guard's function, no batch statement can be
    // prepared: the batch is refused with the prepare's error.
    const std::string guard = "(uuid, smallint[], bigint[], bigint[],"
                              " text[], bigint[], text[])";
    sql_exec(url, "ALTER FUNCTION hitl_advance_chains" + guard
                    + " RENAME TO hitl_advance_chains_away");
    writer.send(make.make(outbox, "base-0", 1, "1"));
    auto first = outcome_of(writer);
    REQUIRE(std::holds_alternative<pipelined_writer::refused>(first));
    CHECK(std::get<pipelined_writer::refused>(first).sqlstate == "42883");
    sql_exec(url, "ALTER FUNCTION hitl_advance_chains_away" + guard
                    + " RENAME TO hitl_advance_chains");
    writer.send(make.make(outbox, "base-0", 1, "2"));
    auto second = outcome_of(writer);
    CHECK(std::holds_alternative<pipelined_writer::written>(second));
    CHECK(count_of(url, "hitl_outbox") == 1);
  }
}
