// Every actor message that may cross a node boundary, through CAF's binary
// serializer and back: each field arrives as it left, and std::optional
// fields both with and without a value (actors/optional_field.hpp).

#include "actors/health_check.hpp"
#include "actors/messages.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace hitl;

// -- field-by-field comparison ----------------------------------------------

namespace {

void same(const patch_metadata& a, const patch_metadata& b);
void same(const ml_prediction& a, const ml_prediction& b);
void same(const wargaming_result& a, const wargaming_result& b);
void same(const issued_identity& a, const issued_identity& b);
void same(const approval& a, const approval& b);
void same(const comment& a, const comment& b);
void same(const new_decision& a, const new_decision& b);
void same(const decision_record& a, const decision_record& b);
void same(const audit_note& a, const audit_note& b);
void same(const change& a, const change& b);
void same(const caller& a, const caller& b);
void same(const pending_cursor& a, const pending_cursor& b);
void same(const pending_item& a, const pending_item& b);
void same(const audit_entry& a, const audit_entry& b);
void same(const chain_break& a, const chain_break& b);
void same(const decision_mismatch& a, const decision_mismatch& b);
void same(const token_mismatch& a, const token_mismatch& b);
void same(const token_check& a, const token_check& b);
void same(const token_info& a, const token_info& b);

// Values with ==: numbers, strings, enums, timestamps, optionals of them.
template <class T>
void same(const T& a, const T& b) {
  CHECK(a == b);
}

template <class T>
void same(const std::optional<T>& a, const std::optional<T>& b) {
  REQUIRE(a.has_value() == b.has_value());
  if (a)
    same(*a, *b);
}

template <class T>
void same(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    same(a[i], b[i]);
}

template <class K, class V>
void same(const std::pair<K, V>& a, const std::pair<K, V>& b) {
  same(a.first, b.first);
  same(a.second, b.second);
}

// Names the field in the report of a failed check.
#define SAME(field)                                                            \
  do {                                                                         \
    INFO(#field);                                                              \
    same(a.field, b.field);                                                    \
  } while (false)

void same(const patch_metadata& a, const patch_metadata& b) {
  SAME(apv_id);
  SAME(cve_id);
  SAME(package_name);
  SAME(current_version);
  SAME(target_version);
  SAME(severity);
  SAME(cvss_score);
  SAME(cwe_ids);
  SAME(affected_systems);
  SAME(patch_size_lines);
}

void same(const ml_prediction& a, const ml_prediction& b) {
  SAME(model_version);
  SAME(confidence);
  SAME(prediction);
  SAME(shap_values);
  SAME(execution_time_ms);
}

void same(const wargaming_result& a, const wargaming_result& b) {
  SAME(phase1_success);
  SAME(phase2_success);
  SAME(validation_passed);
  SAME(execution_time_ms);
  SAME(error_message);
  SAME(exploit_id);
}

void same(const issued_identity& a, const issued_identity& b) {
  SAME(token_id);
  SAME(issued_at);
  SAME(issued_by);
}

void same(const approval& a, const approval& b) {
  SAME(by);
  SAME(at);
  SAME(comment);
  SAME(token_id);
  SAME(identity);
}

void same(const comment& a, const comment& b) {
  SAME(id);
  SAME(decision_id);
  SAME(author);
  SAME(text);
  SAME(at);
}

void same(const new_decision& a, const new_decision& b) {
  SAME(decision_id);
  SAME(patch_id);
  SAME(metadata);
  SAME(ml);
  SAME(wargaming);
  SAME(requires_manual_review);
  SAME(requested_priority);
}

void same(const decision_record& a, const decision_record& b) {
  SAME(decision_id);
  SAME(patch_id);
  SAME(metadata);
  SAME(ml);
  SAME(wargaming);
  SAME(requires_manual_review);
  SAME(priority);
  SAME(status);
  SAME(decided_by);
  SAME(decided_at);
  SAME(reason);
  SAME(comment);
  SAME(approvals);
  SAME(approvals_required);
  SAME(escalation_level);
  SAME(sla_deadline);
  SAME(ml_wargaming_agreement);
  SAME(auto_approval_eligible);
  SAME(policy_version);
  SAME(failed_rules);
  SAME(created_by);
  SAME(created_at);
  SAME(updated_at);
  SAME(version);
  SAME(content_hash);
}

void same(const audit_note& a, const audit_note& b) {
  SAME(action);
  SAME(details_json);
  SAME(performed_by);
}

void same(const change& a, const change& b) {
  SAME(after);
  SAME(notes);
  SAME(events);
  SAME(new_approval);
  SAME(new_comment);
}

void same(const caller& a, const caller& b) {
  SAME(name);
  SAME(role);
  SAME(ip_address);
  SAME(user_agent);
  SAME(token_id);
}

void same(const pending_cursor& a, const pending_cursor& b) {
  SAME(key1);
  SAME(key2);
  SAME(decision_id);
}

void same(const pending_item& a, const pending_item& b) {
  SAME(decision_id);
  SAME(patch_id);
  SAME(apv_id);
  SAME(cve_id);
  SAME(package_name);
  SAME(severity);
  SAME(priority);
  SAME(status);
  SAME(ml_confidence);
  SAME(ml_prediction);
  SAME(wargaming_passed);
  SAME(created_at);
  SAME(sla_deadline);
  SAME(escalation_level);
  SAME(approvals_required);
}

void same(const audit_entry& a, const audit_entry& b) {
  SAME(seq);
  SAME(decision_id);
  SAME(action);
  SAME(performed_by);
  SAME(at);
  SAME(details_json);
  SAME(ip_address);
  SAME(user_agent);
  SAME(prev_hash);
  SAME(hash);
}

void same(const chain_break& a, const chain_break& b) {
  SAME(seq);
  SAME(kind);
  SAME(message);
}

void same(const decision_mismatch& a, const decision_mismatch& b) {
  SAME(decision_id);
  SAME(field);
  SAME(in_table);
  SAME(in_chain);
  SAME(message);
}

void same(const token_mismatch& a, const token_mismatch& b) {
  SAME(token_id);
  SAME(name);
  SAME(message);
}

void same(const token_check& a, const token_check& b) {
  SAME(tokens_checked);
  SAME(issued_before_trail);
  SAME(mismatch_count);
  SAME(mismatches);
}

void same(const token_info& a, const token_info& b) {
  SAME(id);
  SAME(name);
  SAME(role);
  SAME(created_at);
  SAME(revoked_at);
  SAME(last_used_at);
  SAME(expires_at);
  SAME(token_hash);
}

// -- the round trip ------------------------------------------------------------

/// `x` serialized and read back; every byte written is read.
template <class T>
T round_trip(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = x; // the serializer's inspect takes a mutable reference
  REQUIRE_FALSE(sink(copy));
  T y;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(y));
  CHECK(source.remaining() == 0);
  return y;
}

timestamp at(int64_t seconds) {
  return from_micros(1'790'000'000'000'000 + seconds * 1'000'000 + 123'456);
}

// -- values with every field set, and with every optional field absent -----

patch_metadata full_metadata() {
  patch_metadata m;
  m.apv_id = "apv-7";
  m.cve_id = "CVE-2026-1234";
  m.package_name = "openssl";
  m.current_version = "3.0.1";
  m.target_version = "3.0.2";
  m.severity = urgency::critical;
  m.cvss_score = 9.8;
  m.cwe_ids = {"CWE-79", "CWE-89"};
  m.affected_systems = {"edge", "billing"};
  m.patch_size_lines = 42;
  return m;
}

decision_record full_record() {
  decision_record r;
  r.decision_id = "dec-42";
  r.patch_id = "patch-42";
  r.metadata = full_metadata();
  ml_prediction ml;
  ml.model_version = "xgb-7";
  ml.confidence = 0.91;
  ml.prediction = true;
  ml.shap_values = {{"diff_size", 0.25}, {"cvss", -0.5}};
  ml.execution_time_ms = 12.5;
  r.ml = ml;
  r.wargaming = wargaming_result{true, false, true, 1200.0,
                                 std::string{"phase 2 timed out"},
                                 std::string{"EXP-9"}};
  r.requires_manual_review = true;
  r.priority = urgency::high;
  r.status = decision_status::escalated;
  r.decided_by = "alice";
  r.decided_at = at(60);
  r.reason = "breaks the ABI";
  r.comment = "looked at the diff";
  approval with_identity{"alice", at(30), std::string{"ok"}, int64_t{7},
                         issued_identity{int64_t{7}, at(-3600),
                                         std::string{"admin"}}};
  approval bare{"bob", at(31), std::nullopt, std::nullopt, std::nullopt};
  r.approvals = {with_identity, bare};
  r.approvals_required = 2;
  r.escalation_level = 3;
  r.sla_deadline = at(900);
  r.ml_wargaming_agreement = true;
  r.auto_approval_eligible = true;
  r.policy_version = "1.abcdef";
  r.failed_rules = {"ml_confidence_below_threshold", "critical_severity"};
  r.created_by = "wargaming";
  r.created_at = at(0);
  r.updated_at = at(61);
  r.version = 5;
  r.content_hash = std::string(64, 'c');
  return r;
}

/// The least a record can hold: every optional absent, every list empty.
decision_record bare_record() {
  decision_record r;
  r.decision_id = "dec-0";
  r.patch_id = "patch-0";
  r.created_at = at(0);
  r.updated_at = at(0);
  return r;
}

caller full_caller() {
  return caller{"alice", role::reviewer, std::string{"10.0.0.7"},
                std::string{"curl/8"}, int64_t{11}};
}

caller bare_caller() {
  return caller{"system:sla", role::service, std::nullopt, std::nullopt,
                std::nullopt};
}

} // namespace

// -- the shared helper for std::optional ---------------------------------------

namespace {

struct with_optionals {
  std::optional<int64_t> number;
  std::optional<std::string> text;
  int64_t after = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, with_optionals& x) {
  return f(caf::meta::type_name("with_optionals"), optional_field(x.number),
           optional_field(x.text), x.after);
}

} // namespace

TEST_CASE("optional_field: a value and no value both survive the round "
          "trip, and what follows them too") {
  auto full = round_trip(with_optionals{int64_t{-5}, std::string{"x"}, 9});
  CHECK(full.number == int64_t{-5});
  CHECK(full.text == std::string{"x"});
  CHECK(full.after == 9);
  auto empty = round_trip(with_optionals{std::nullopt, std::nullopt, 9});
  CHECK_FALSE(empty.number);
  CHECK_FALSE(empty.text);
  CHECK(empty.after == 9);
  // An empty string is a value, not its absence.
  auto blank = round_trip(with_optionals{int64_t{0}, std::string{}, 1});
  CHECK(blank.number == int64_t{0});
  CHECK(blank.text == std::string{});
}

TEST_CASE("optional_field: reading into a value that has one replaces it, "
          "and absence clears it") {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  with_optionals none{std::nullopt, std::nullopt, 3};
  REQUIRE_FALSE(sink(none));
  with_optionals target{int64_t{1}, std::string{"old"}, 0};
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(target));
  CHECK_FALSE(target.number);
  CHECK_FALSE(target.text);
  CHECK(target.after == 3);
}

TEST_CASE("optional_field: a value cut short is an error, not a default") {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  with_optionals x{int64_t{5}, std::string{"text"}, 3};
  REQUIRE_FALSE(sink(x));
  buf.resize(buf.size() - 3);
  with_optionals y;
  caf::binary_deserializer source{nullptr, buf};
  CHECK(source(y));
}

TEST_CASE("optional_field: printed as CAF prints a message's content") {
  with_optionals x{int64_t{5}, std::nullopt, 3};
  auto text = caf::deep_to_string(x);
  CHECK(text.find("with_optionals") != std::string::npos);
  CHECK(text.find('5') != std::string::npos);
}

// -- the messages -----------------------------------------------------------

TEST_CASE("caller and verdict_request: every field, present and absent") {
  same(round_trip(full_caller()), full_caller());
  same(round_trip(bare_caller()), bare_caller());
  verdict_request v{"patch-42", std::string{"dec-42"}, std::string{"fine"},
                    std::string{"because"}, full_caller()};
  auto w = round_trip(v);
  same(w.patch_id, v.patch_id);
  same(w.decision_id, v.decision_id);
  same(w.comment, v.comment);
  same(w.reason, v.reason);
  same(w.caller, v.caller);
  verdict_request bare{"patch-1", std::nullopt, std::nullopt, std::nullopt,
                       bare_caller()};
  auto b = round_trip(bare);
  CHECK_FALSE(b.decision_id);
  CHECK_FALSE(b.comment);
  CHECK_FALSE(b.reason);
  same(b.caller, bare.caller);
}

TEST_CASE("create_request and create_result") {
  new_decision nd;
  nd.decision_id = "dec-42";
  nd.patch_id = "patch-42";
  nd.metadata = full_metadata();
  nd.ml = full_record().ml;
  nd.wargaming = full_record().wargaming;
  nd.requires_manual_review = true;
  nd.requested_priority = urgency::low;
  auto req = make_create_request(nd, full_caller());
  auto got = round_trip(req);
  same(got.content, req.content);
  same(got.content_hash, req.content_hash);
  same(got.caller, req.caller);
  new_decision bare;
  bare.patch_id = "patch-0";
  auto bare_got = round_trip(make_create_request(bare, bare_caller()));
  same(bare_got.content, bare);

  create_result r{full_record(), false};
  auto r2 = round_trip(r);
  same(r2.record, r.record);
  same(r2.created, r.created);
  same(round_trip(create_result{bare_record(), true}).record, bare_record());
}

TEST_CASE("commit_request and commit_receipt, with every part of a change") {
  change ch;
  ch.after = full_record();
  ch.notes = {audit_note{audit_action::approval_added, R"({"n": 1})",
                         std::string{"alice"}},
              audit_note{audit_action::escalated, "{}", std::nullopt}};
  ch.events = {"decision.approved", "decision.escalated"};
  ch.new_approval = full_record().approvals.front();
  ch.new_comment = comment{3, "dec-42", "bob", "a comment", at(5)};
  commit_request req{ch, full_caller(), 4};
  auto got = round_trip(req);
  same(got.change, req.change);
  same(got.caller, req.caller);
  same(got.expected_version, req.expected_version);
  commit_request bare{change{bare_record(), {}, {}, std::nullopt, std::nullopt},
                      bare_caller(), 0};
  same(round_trip(bare).change, bare.change);

  commit_receipt receipt{full_record(), 99, ch.new_comment};
  auto r = round_trip(receipt);
  same(r.record, receipt.record);
  same(r.last_pseq, receipt.last_pseq);
  same(r.comment, receipt.comment);
  CHECK_FALSE(round_trip(commit_receipt{bare_record(), 1, std::nullopt})
                .comment);
}

TEST_CASE("auditor_stats") {
  auditor_stats s{10, 200, 3, 4};
  auto t = round_trip(s);
  CHECK(t.transactions == 10);
  CHECK(t.entries == 200);
  CHECK(t.failed_batches == 3);
  CHECK(t.resealed_batches == 4);
}

TEST_CASE("reads: decision_view, pending filter and page, summary") {
  decision_view v{full_record(),
                  {comment{1, "dec-42", "alice", "first", at(1)},
                   comment{2, "dec-42", "bob", "", at(2)}},
                  R"([{"seq": 1}])"};
  auto w = round_trip(v);
  same(w.record, v.record);
  same(w.comments, v.comments);
  same(w.audit_trail_json, v.audit_trail_json);

  pending_filter f{urgency::high, urgency::critical, pending_sort::deadline,
                   pending_cursor{3, 4, "dec-1"}, 25};
  auto g = round_trip(f);
  same(g.priority, f.priority);
  same(g.severity, f.severity);
  same(g.sort, f.sort);
  same(g.after, f.after);
  same(g.limit, f.limit);
  auto g0 = round_trip(pending_filter{});
  CHECK_FALSE(g0.priority);
  CHECK_FALSE(g0.after);

  pending_item item;
  item.decision_id = "dec-1";
  item.patch_id = "patch-1";
  item.apv_id = "apv-1";
  item.cve_id = "CVE-1";
  item.package_name = "zlib";
  item.severity = urgency::low;
  item.priority = urgency::critical;
  item.status = decision_status::escalated;
  item.ml_confidence = 0.5;
  item.ml_prediction = false;
  item.wargaming_passed = true;
  item.created_at = at(3);
  item.sla_deadline = at(4);
  item.escalation_level = 2;
  item.approvals_required = 2;
  pending_item bare_item;
  bare_item.created_at = at(0);
  pending_page page{{item, bare_item}, 17, pending_cursor{1, 2, "dec-9"}};
  auto p = round_trip(page);
  same(p.items, page.items);
  same(p.total, page.total);
  same(p.next, page.next);

  summary_request window{at(0), std::nullopt};
  auto w2 = round_trip(window);
  same(w2.since, window.since);
  same(w2.until, window.until);

  decision_summary s{10, 1, 2, 3, 4, 5, 6, 12.5, 7, 6, 3.0, std::nullopt, 2};
  auto s2 = round_trip(s);
  same(s2.total, s.total);
  same(s2.pending, s.pending);
  same(s2.escalated, s.escalated);
  same(s2.approved, s.approved);
  same(s2.rejected, s.rejected);
  same(s2.auto_approved, s.auto_approved);
  same(s2.cancelled, s.cancelled);
  same(s2.avg_decision_time_seconds, s.avg_decision_time_seconds);
  same(s2.ml_judged, s.ml_judged);
  same(s2.ml_agreed, s.ml_agreed);
  same(s2.p50_decision_seconds, s.p50_decision_seconds);
  same(s2.p90_decision_seconds, s.p90_decision_seconds);
  same(s2.sla_breaches, s.sla_breaches);
}

TEST_CASE("the audit trail: filter, entries, verification report, export") {
  audit_filter f{std::string{"dec-1"}, audit_action::token_expired,
                 std::string{"alice"}, at(1), at(2), 40, 10};
  auto g = round_trip(f);
  same(g.decision_id, f.decision_id);
  same(g.action, f.action);
  same(g.performed_by, f.performed_by);
  same(g.since, f.since);
  same(g.until, f.until);
  same(g.after_seq, f.after_seq);
  same(g.limit, f.limit);
  CHECK_FALSE(round_trip(audit_filter{}).action);

  audit_entry e;
  e.seq = 12;
  e.decision_id = "dec-1";
  e.action = audit_action::approved;
  e.performed_by = "alice";
  e.at = at(7);
  e.details_json = R"({"comment": "ok"})";
  e.ip_address = "10.0.0.7";
  e.user_agent = "curl/8";
  e.prev_hash = std::string(64, 'a');
  e.hash = std::string(64, 'b');
  audit_entry bare_entry;
  bare_entry.at = at(0);
  std::vector<audit_entry> entries{e, bare_entry};
  same(round_trip(entries), entries);

  verification_report r;
  r.checked = 100;
  r.first_break = chain_break{5, break_kind::inserted_or_reordered, "seq 5"};
  r.head_hash = std::string(64, 'f');
  r.decisions_checked = 20;
  r.mismatch_count = 1;
  r.mismatches = {decision_mismatch{"dec-1", "decided_by", "'alice'", "null",
                                    "decision dec-1: ..."}};
  r.tokens = token_check{4, 1, 1, {token_mismatch{3, "late", "no entry"}}};
  auto s = round_trip(r);
  same(s.checked, r.checked);
  same(s.first_break, r.first_break);
  same(s.head_hash, r.head_hash);
  same(s.decisions_checked, r.decisions_checked);
  same(s.mismatch_count, r.mismatch_count);
  same(s.mismatches, r.mismatches);
  same(s.tokens, r.tokens);
  CHECK_FALSE(round_trip(verification_report{}).first_break);

  auto x = round_trip(export_summary{120, 3});
  CHECK(x.entries == 120);
  CHECK(x.checkpoints == 3);
}

TEST_CASE("tokens") {
  token_info t{7, "alice", role::auditor, at(0), at(10), at(5), at(20),
               std::string(64, 'e')};
  token_info bare{1, "svc", role::service, at(0), std::nullopt, std::nullopt,
                  std::nullopt, "h"};
  std::vector<token_info> tokens{t, bare};
  same(round_trip(tokens), tokens);
}

TEST_CASE("health_report") {
  health_report h{true, 2.5, false, true, "node-1", {0, 7, 255}, true};
  auto g = round_trip(h);
  CHECK(g.database == h.database);
  CHECK(g.database_ms == h.database_ms);
  CHECK(g.supervisor == h.supervisor);
  CHECK(g.auditor == h.auditor);
  CHECK(g.node_id == h.node_id);
  CHECK(g.partitions == h.partitions);
  CHECK(g.lease_running == h.lease_running);
}

TEST_CASE("held_partitions") {
  held_partitions h{"00000000-0000-4000-8000-00000000000a", {3, 200}, {1, 9}};
  auto g = round_trip(h);
  CHECK(g.node_id == h.node_id);
  CHECK(g.partitions == h.partitions);
  CHECK(g.epochs == h.epochs);
}

TEST_CASE("node_partitions") {
  node_partitions n{"00000000-0000-4000-8000-00000000000b", {1, 2}, false};
  auto g = round_trip(n);
  CHECK(g.node_id == n.node_id);
  CHECK(g.partitions == n.partitions);
  CHECK(g.lease_running == n.lease_running);
}

TEST_CASE("the readers' requests, and their answers that may be absent") {
  CHECK(round_trip(decision_ref{"dec-42"}).decision_id == "dec-42");
  CHECK(round_trip(patch_ref{"patch-42"}).patch_id == "patch-42");
  CHECK(round_trip(token_lookup{std::string(64, 'a')}).token_hash
        == std::string(64, 'a'));
  CHECK(round_trip(token_uses{{3, 1, 2}}).token_ids
        == std::vector<int64_t>{3, 1, 2});
  CHECK(round_trip(token_uses{}).token_ids.empty());
  // A std::optional of our own types is a message element by itself.
  std::optional<decision_view> view{
    decision_view{full_record(), {}, "[]"}};
  auto got = round_trip(view);
  REQUIRE(got);
  same(got->record, view->record);
  CHECK_FALSE(round_trip(std::optional<decision_view>{}));
  std::optional<decision_record> rec{bare_record()};
  same(round_trip(rec), rec);
  std::optional<token_info> token{token_info{1, "svc", role::service, at(0),
                                             std::nullopt, std::nullopt,
                                             at(9), "h"}};
  same(round_trip(token), token);
  CHECK_FALSE(round_trip(std::optional<token_info>{}));
}

TEST_CASE("escalation") {
  auto got = round_trip(escalation{"dec-42", 3});
  CHECK(got.decision_id == "dec-42");
  CHECK(got.level == 3);
}

TEST_CASE("decision_wait") {
  auto got = round_trip(decision_wait{"dec-42", 60});
  CHECK(got.decision_id == "dec-42");
  CHECK(got.seconds == 60);
}
