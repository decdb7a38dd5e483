// The JSON text writers must give the very bytes that the nlohmann DOMs they
// replaced gave: stored content hashes (idempotent retries) and audit hashes
// (the chain) were computed over those bytes. The reference DOMs below are
// the replaced code, kept here as the oracle.

#include "policy/audit_chain.hpp"
#include "policy/decision_json.hpp"
#include "policy/json_text.hpp"
#include "policy/lifecycle.hpp"
#include "policy/sha256.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace hitl;
using json = nlohmann::json;

namespace {

// -- the replaced DOM code ----------------------------------------------------

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json ref_time(const std::optional<timestamp>& t) {
  return t ? json(format_iso(*t)) : json(nullptr);
}

json ref_metadata(const patch_metadata& m) {
  return {{"apv_id", m.apv_id},
          {"cve_id", or_null(m.cve_id)},
          {"package_name", m.package_name},
          {"current_version", m.current_version},
          {"target_version", m.target_version},
          {"severity", to_string(m.severity)},
          {"cvss_score", or_null(m.cvss_score)},
          {"cwe_ids", m.cwe_ids},
          {"affected_systems", m.affected_systems},
          {"patch_size_lines", or_null(m.patch_size_lines)}};
}

json ref_ml(const std::optional<ml_prediction>& ml) {
  if (!ml)
    return nullptr;
  json shap = json::object();
  for (const auto& [k, v] : ml->shap_values)
    shap[k] = v;
  return {{"model_version", or_null(ml->model_version)},
          {"confidence", ml->confidence},
          {"prediction", ml->prediction},
          {"shap_values", shap},
          {"execution_time_ms", or_null(ml->execution_time_ms)}};
}

json ref_wargaming(const std::optional<wargaming_result>& w) {
  if (!w)
    return nullptr;
  return {{"phase1_success", w->phase1_success},
          {"phase2_success", w->phase2_success},
          {"validation_passed", w->validation_passed},
          {"execution_time_ms", or_null(w->execution_time_ms)},
          {"error_message", or_null(w->error_message)},
          {"exploit_id", or_null(w->exploit_id)}};
}

json ref_record(const decision_record& d) {
  json approvals = json::array();
  for (const auto& a : d.approvals)
    approvals.push_back(
      {{"by", a.by}, {"at", format_iso(a.at)}, {"comment", or_null(a.comment)}});
  return {{"decision_id", d.decision_id},
          {"patch_id", d.patch_id},
          {"apv_id", d.metadata.apv_id},
          {"cve_id", or_null(d.metadata.cve_id)},
          {"patch_metadata", ref_metadata(d.metadata)},
          {"ml_prediction", ref_ml(d.ml)},
          {"wargaming_result", ref_wargaming(d.wargaming)},
          {"requires_manual_review", d.requires_manual_review},
          {"priority", to_string(d.priority)},
          {"decision", to_string(d.status)},
          {"decided_by", or_null(d.decided_by)},
          {"decided_at", ref_time(d.decided_at)},
          {"reason", or_null(d.reason)},
          {"comment", or_null(d.comment)},
          {"approvals", approvals},
          {"approvals_required", d.approvals_required},
          {"escalation_level", d.escalation_level},
          {"requires_escalation", d.escalation_level > 0},
          {"sla_deadline", ref_time(d.sla_deadline)},
          {"ml_wargaming_agreement", d.ml_wargaming_agreement},
          {"auto_approval_eligible", d.auto_approval_eligible},
          {"auto_approval_failed_rules", d.failed_rules},
          {"policy_version", d.policy_version},
          {"created_by", d.created_by},
          {"created_at", format_iso(d.created_at)},
          {"updated_at", format_iso(d.updated_at)},
          {"version", d.version}};
}

json ref_content(const new_decision& nd) {
  return {{"decision_id", or_null(nd.decision_id)},
          {"patch_id", nd.patch_id},
          {"patch_metadata", ref_metadata(nd.metadata)},
          {"ml_prediction", ref_ml(nd.ml)},
          {"wargaming_result", ref_wargaming(nd.wargaming)},
          {"requires_manual_review", nd.requires_manual_review},
          {"priority", nd.requested_priority
                         ? json(to_string(*nd.requested_priority))
                         : json(nullptr)}};
}

json ref_event(const std::string& event, const decision_record& d,
               const std::optional<comment>& c, timestamp at,
               const std::string& base_url) {
  json body{{"event", event},
            {"at", format_iso(at)},
            {"decision_url", base_url + "/hitl/decisions/" + d.decision_id},
            {"decision", ref_record(d)}};
  if (c)
    body["comment"] = to_json(*c);
  if (event == "decision.escalated") {
    body["escalation"] = {
      {"level", d.escalation_level},
      {"decision_id", d.decision_id},
      {"patch_id", d.patch_id},
      {"package_name", d.metadata.package_name},
      {"current_version", d.metadata.current_version},
      {"target_version", d.metadata.target_version},
      {"cve_id", or_null(d.metadata.cve_id)},
      {"severity", to_string(d.metadata.severity)},
      {"priority", to_string(d.priority)},
      {"age_seconds", to_seconds(at - d.created_at)},
      {"sla_deadline", ref_time(d.sla_deadline)},
      {"decision_url", base_url + "/hitl/decisions/" + d.decision_id}};
  }
  return body;
}

std::string ref_canonical(const audit_entry& e) {
  auto text = [](const std::optional<std::string>& s) {
    return s ? json(*s) : json(nullptr);
  };
  json j = json::object();
  j["action"] = std::string{to_string(e.action)};
  // A token's entry has none (017); no decision's id is empty.
  j["decision_id"] =
    e.decision_id.empty() ? json(nullptr) : json(e.decision_id);
  j["details"] = json::parse(e.details_json);
  j["ip_address"] = text(e.ip_address);
  j["performed_by"] = e.performed_by;
  j["seq"] = e.seq;
  j["timestamp"] = format_iso(e.at);
  j["user_agent"] = text(e.user_agent);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// -- random values with the awkward cases ------------------------------------

struct gen {
  std::mt19937_64 rng{20261124};

  bool coin() { return rng() % 2 == 0; }

  std::string text(bool valid_utf8 = true) {
    static const char* pieces[] = {
      "",   "a",  "Zz09", "\"",   "\\",     "/",   "\n", "\t", "\b",  "\f",
      "\r", "\x01", "\x1f", "\x7f", "é",    "😀",  "中", " ", "{}",  "\\u0000",
      ":,", "[", "null"};
    std::string s;
    auto n = rng() % 6;
    for (size_t i = 0; i < n; ++i)
      s += pieces[rng() % (sizeof(pieces) / sizeof(*pieces))];
    if (!valid_utf8)
      s += "\xff";
    return s;
  }
  std::optional<std::string> opt_text() {
    return coin() ? std::optional<std::string>{text()} : std::nullopt;
  }
  double real() {
    static const double specials[] = {
      0.0, -0.0, 0.1, 0.30000000000000004, 1e-300, DBL_MAX,
      std::numeric_limits<double>::denorm_min(), 9007199254740992.0, 100.0,
      8.1, 0.99, 1e21, 1e-7, 123456789.125, -5.5};
    if (coin())
      return specials[rng() % (sizeof(specials) / sizeof(*specials))];
    double d;
    do {
      uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof d);
    } while (!std::isfinite(d));
    return d;
  }
  std::optional<double> opt_real() {
    return coin() ? std::optional<double>{real()} : std::nullopt;
  }
  std::vector<std::string> texts() {
    std::vector<std::string> v(rng() % 4);
    for (auto& s : v)
      s = text();
    return v;
  }
  timestamp time() {
    return from_micros(static_cast<int64_t>(rng() % 4'000'000'000'000'000));
  }
  std::optional<timestamp> opt_time() {
    return coin() ? std::optional<timestamp>{time()} : std::nullopt;
  }
  urgency level() { return static_cast<urgency>(rng() % 4); }

  patch_metadata metadata() {
    patch_metadata m;
    m.apv_id = text();
    m.cve_id = opt_text();
    m.package_name = text();
    m.current_version = text();
    m.target_version = text();
    m.severity = level();
    m.cvss_score = opt_real();
    m.cwe_ids = texts();
    m.affected_systems = texts();
    if (coin())
      m.patch_size_lines = static_cast<int64_t>(rng());
    return m;
  }
  std::optional<ml_prediction> ml() {
    if (coin())
      return std::nullopt;
    ml_prediction p;
    p.model_version = opt_text();
    p.confidence = real();
    p.prediction = coin();
    auto n = rng() % 4;
    for (size_t i = 0; i < n; ++i) // repeated names: the last value wins
      p.shap_values.emplace_back(coin() ? "f" : text(), real());
    p.execution_time_ms = opt_real();
    return p;
  }
  std::optional<wargaming_result> wargaming() {
    if (coin())
      return std::nullopt;
    wargaming_result r;
    r.phase1_success = coin();
    r.phase2_success = coin();
    r.validation_passed = coin();
    r.execution_time_ms = opt_real();
    r.error_message = opt_text();
    r.exploit_id = opt_text();
    return r;
  }
  decision_record record() {
    decision_record d;
    d.decision_id = text();
    d.patch_id = text();
    d.metadata = metadata();
    d.ml = ml();
    d.wargaming = wargaming();
    d.requires_manual_review = coin();
    d.priority = level();
    d.status = static_cast<decision_status>(rng() % 6);
    d.decided_by = opt_text();
    d.decided_at = opt_time();
    d.reason = opt_text();
    d.comment = opt_text();
    for (auto n = rng() % 3; n > 0; --n)
      d.approvals.push_back(
        {text(), time(), opt_text(), std::nullopt, std::nullopt});
    d.approvals_required = static_cast<int>(rng() % 3);
    d.escalation_level = static_cast<int>(rng() % 4);
    d.sla_deadline = opt_time();
    d.ml_wargaming_agreement = coin();
    d.auto_approval_eligible = coin();
    d.policy_version = text();
    d.failed_rules = texts();
    d.created_by = text();
    d.created_at = time();
    d.updated_at = time();
    d.version = static_cast<int64_t>(rng());
    return d;
  }
  new_decision content() {
    new_decision nd;
    nd.decision_id = opt_text();
    nd.patch_id = text();
    nd.metadata = metadata();
    nd.ml = ml();
    nd.wargaming = wargaming();
    nd.requires_manual_review = coin();
    if (coin())
      nd.requested_priority = level();
    return nd;
  }
};

} // namespace

TEST_CASE("a record's text is the bytes of its former DOM's dump") {
  gen g;
  for (int i = 0; i < 3000; ++i) {
    auto d = g.record();
    REQUIRE(record_json(d) == ref_record(d).dump());
  }
}

TEST_CASE("a creation's content text, and so its hash, is unchanged") {
  gen g;
  for (int i = 0; i < 3000; ++i) {
    auto nd = g.content();
    REQUIRE(content_json(nd) == ref_content(nd).dump());
  }
  // Pinned: the hash of a typical creation, as stored by earlier versions.
  new_decision nd;
  nd.patch_id = "p-1";
  nd.metadata.apv_id = "apv-1";
  nd.metadata.package_name = "openssl";
  nd.metadata.current_version = "3.0.1";
  nd.metadata.target_version = "3.0.2";
  nd.metadata.severity = urgency::high;
  nd.metadata.cvss_score = 8.1;
  nd.ml = ml_prediction{std::string{"xgb-7"}, 0.99, true, {{"b", 0.5}, {"a", -1.25}}, 12.0};
  CHECK(content_json(nd)
        == R"({"decision_id":null,"ml_prediction":{"confidence":0.99,"execution_time_ms":12.0,"model_version":"xgb-7","prediction":true,"shap_values":{"a":-1.25,"b":0.5}},"patch_id":"p-1","patch_metadata":{"affected_systems":[],"apv_id":"apv-1","current_version":"3.0.1","cve_id":null,"cvss_score":8.1,"cwe_ids":[],"package_name":"openssl","patch_size_lines":null,"severity":"high","target_version":"3.0.2"},"priority":null,"requires_manual_review":false,"wargaming_result":null})");
  CHECK(content_hash(nd) == sha256_hex(ref_content(nd).dump()));
}

TEST_CASE("an event's text is the bytes of its former DOM's dump") {
  gen g;
  const char* events[] = {"decision.created", "decision.escalated",
                          "decision.approved"};
  for (int i = 0; i < 1000; ++i) {
    auto d = g.record();
    std::optional<comment> c;
    if (g.coin())
      c = comment{static_cast<int64_t>(g.rng() % 1000), g.text(), g.text(),
                  g.text(), g.time()};
    std::string event = events[i % 3];
    auto at = g.time();
    auto url = g.text();
    REQUIRE(event_payload(event, d, c, at, url)
            == ref_event(event, d, c, at, url).dump());
  }
}

TEST_CASE("an audit entry's canonical text is unchanged, bad UTF-8 included") {
  gen g;
  const char* details[] = {R"({})", R"({ "b": 1, "a": [1.5, "x"] })",
                           R"({"reason":"\u00e9t\u00e9","n":1e300})"};
  for (int i = 0; i < 3000; ++i) {
    audit_entry e;
    e.seq = static_cast<int64_t>(g.rng() >> 1);
    e.decision_id = g.text();
    e.action = static_cast<audit_action>(g.rng() % 8);
    e.performed_by = g.text(i % 7 != 0);
    e.at = g.time();
    e.details_json = details[i % 3];
    e.ip_address = g.opt_text();
    e.user_agent = g.coin() ? std::optional<std::string>{g.text(i % 5 != 0)}
                            : std::nullopt;
    REQUIRE(canonical_json(e) == ref_canonical(e));
  }
}

TEST_CASE("text that is not UTF-8 is written as U+FFFD in a record, never "
          "thrown") {
  // A throw here ended the bridge actor that wrote the response (issue 17).
  gen g;
  auto d = g.record();
  d.patch_id = "p\xff";
  std::string text;
  REQUIRE_NOTHROW(text = record_json(d));
  CHECK(text == ref_record(d).dump(-1, ' ', false,
                                   json::error_handler_t::replace));
  CHECK(json::parse(text)["patch_id"] == "p\xEF\xBF\xBD");
  comment c{1, d.decision_id, "r\xc3", "bad \xff\xfe text", d.created_at};
  REQUIRE_NOTHROW(text = event_payload("comment.added", d, c, d.created_at,
                                       "http://h"));
  CHECK(json::parse(text)["comment"]["comment"] == "bad \xEF\xBF\xBD\xEF\xBF\xBD text");
}

TEST_CASE("json_text separates members and elements, and writes odd numbers "
          "as nlohmann does") {
  std::string out;
  json_text w{out};
  w.begin_object();
  w.key("a").begin_array().integer(1).real(-0.0).null().boolean(true);
  w.begin_object().end_object().strings({"x", "y"}).end_array();
  w.key("n").real(std::nan(""));
  w.key("i").real(std::numeric_limits<double>::infinity());
  w.key("m").integer(std::numeric_limits<int64_t>::min());
  w.key("r").raw(R"({"k":[]})");
  w.end_object();
  CHECK(out
        == R"({"a":[1,-0.0,null,true,{},["x","y"]],"n":null,"i":null,"m":-9223372036854775808,"r":{"k":[]}})");
}

// Audit details are hashed as written (seal() does not re-parse them), so
// each change's details must be the canonical text that the verifier gets
// back from the stored JSON: the former DOM, dumped by canonical_details.
namespace {

json iso_or_null(const std::optional<timestamp>& t) {
  return t ? json(format_iso(*t)) : json(nullptr);
}
json text_or_null(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

void require_canonical(const change& c) {
  for (const auto& note : c.notes)
    REQUIRE(note.details_json
            == canonical_details(json::parse(note.details_json)));
}

} // namespace

TEST_CASE("every change's audit details are the canonical text of its former "
          "DOM") {
  gen g;
  policy_config cfg;
  for (int i = 0; i < 2000; ++i) {
    auto nd = g.content();
    if (nd.ml && g.coin())
      nd.ml->confidence = 0.99; // auto-approvable more often
    auto c = create_change(cfg, "1.v", nd, "h", "d-" + std::to_string(i),
                           "creator", g.time());
    const auto& d = c.after;
    REQUIRE_FALSE(c.notes.empty());
    CHECK(c.notes[0].details_json
          == canonical_details({{"patch_id", d.patch_id},
                                {"severity", to_string(d.metadata.severity)},
                                {"priority", to_string(d.priority)},
                                {"approvals_required", d.approvals_required},
                                {"auto_approval_eligible",
                                 d.auto_approval_eligible},
                                {"failed_rules", d.failed_rules},
                                {"policy_version", d.policy_version},
                                {"sla_deadline", iso_or_null(d.sla_deadline)}}));
    if (c.notes.size() > 1)
      CHECK(c.notes[1].details_json
            == canonical_details({{"policy_version", d.policy_version},
                                  {"ml_confidence", d.ml->confidence}}));
    require_canonical(c);

    auto rec = g.record();
    rec.status = g.coin() ? decision_status::pending : decision_status::escalated;
    rec.created_by = "creator";
    rec.approvals.clear();
    rec.approvals_required = 1 + static_cast<int>(g.rng() % 2);
    auto comment = g.coin() ? std::optional<std::string>{g.text(i % 7 != 0)}
                            : std::nullopt;
    auto approved = approve_change(rec, "reviewer", comment, g.time());
    REQUIRE(approved);
    CHECK(approved->notes.at(0).details_json
          == canonical_details({{"comment", text_or_null(comment)},
                                {"approvals", 1},
                                {"approvals_required", rec.approvals_required}}));
    require_canonical(approved.value());

    auto reason = "no: " + g.text(i % 5 != 0);
    auto rejected = reject_change(rec, "reviewer", reason, comment, g.time());
    REQUIRE(rejected);
    CHECK(rejected->notes.at(0).details_json
          == canonical_details(
            {{"reason", reason}, {"comment", text_or_null(comment)}}));
    require_canonical(rejected.value());

    auto cancelled = cancel_change(rec, "admin", comment, g.time());
    REQUIRE(cancelled);
    CHECK(cancelled->notes.at(0).details_json
          == canonical_details({{"reason", text_or_null(comment)}}));
    require_canonical(cancelled.value());

    auto escalated = escalate_change(rec, rec.escalation_level + 1, g.time());
    REQUIRE(escalated);
    CHECK(escalated->notes.at(0).details_json
          == canonical_details(
            {{"level", rec.escalation_level + 1},
             {"previous_level", rec.escalation_level},
             {"priority", to_string(rec.priority)},
             {"sla_deadline", iso_or_null(rec.sla_deadline)}}));
    require_canonical(*escalated);

    auto commented =
      comment_change(rec, {0, rec.decision_id, "bob", g.text(i % 3 != 0),
                           g.time()});
    CHECK(commented.notes.at(0).details_json
          == canonical_details({{"comment", commented.new_comment->text}}));
    require_canonical(commented);
  }
}
