#include "persistence/decision_columns.hpp"

#include <nlohmann/json.hpp>

#include <iterator>
#include <stdexcept>
#include <unordered_map>

namespace hitl {

namespace {

// -- the columns ---------------------------------------------------------------

/// One column of hitl_decisions as the service reads and writes it.
struct column {
  decision_col col;
  const char* name;
  /// The SELECT's expression for it: empty for the column as it is,
  /// nullptr when no reader wants it.
  const char* read;
  /// The name an expression is read back under. Never the column's own:
  /// ORDER BY and GROUP BY take a bare name for the output column first,
  /// and `ORDER BY created_at` would sort by the microseconds, which no
  /// index holds (a page of the queue took 30 ms instead of 0.5).
  const char* as;
  /// Its type in a batch's JSON rows of new decisions (json_to_recordset);
  /// nullptr when the rows do not carry it.
  const char* sent;
  /// The INSERT's value for it: empty for the row's member of that name,
  /// nullptr when the INSERT leaves it to its default or a trigger.
  const char* stored;
};

constexpr const char* as_is = "";
constexpr const char* none = nullptr;

// Times travel as microseconds since the epoch (hitl_micros and
// hitl_from_micros, inlined: 010), arrays as JSON text, and absent arrays
// are stored empty.
constexpr column columns[] = {
  // col, name, read, as, sent, stored
  {decision_col::decision_id, "decision_id", as_is, none, "text", as_is},
  {decision_col::patch_id, "patch_id", as_is, none, "text", as_is},
  {decision_col::apv_id, "apv_id", as_is, none, "text", as_is},
  {decision_col::cve_id, "cve_id", as_is, none, "text", as_is},
  {decision_col::package_name, "package_name", as_is, none, "text", as_is},
  {decision_col::current_version, "current_version", as_is, none, "text",
   as_is},
  {decision_col::target_version, "target_version", as_is, none, "text",
   as_is},
  {decision_col::severity, "severity", as_is, none, "text", as_is},
  {decision_col::cvss_score, "cvss_score", as_is, none, "double precision",
   as_is},
  {decision_col::cwe_ids, "cwe_ids", "to_jsonb(cwe_ids)::text",
   "cwe_ids_json", "text[]", "coalesce(cwe_ids, '{}')"},
  {decision_col::affected_systems, "affected_systems",
   "to_jsonb(affected_systems)::text", "affected_systems_json", "text[]",
   "coalesce(affected_systems, '{}')"},
  {decision_col::patch_size_lines, "patch_size_lines", as_is, none, "bigint",
   as_is},
  {decision_col::ml_confidence, "ml_confidence", as_is, none,
   "double precision", as_is},
  {decision_col::ml_prediction, "ml_prediction", as_is, none, "boolean",
   as_is},
  {decision_col::ml_model_version, "ml_model_version", as_is, none, "text",
   as_is},
  {decision_col::ml_shap_values, "ml_shap_values", "ml_shap_values::text",
   "ml_shap_values_json", "jsonb", as_is},
  {decision_col::ml_execution_time_ms, "ml_execution_time_ms", as_is, none,
   "double precision", as_is},
  {decision_col::wargaming_phase1, "wargaming_phase1", as_is, none, "boolean",
   as_is},
  {decision_col::wargaming_phase2, "wargaming_phase2", as_is, none, "boolean",
   as_is},
  {decision_col::wargaming_passed, "wargaming_passed", as_is, none, "boolean",
   as_is},
  {decision_col::wargaming_execution_time_ms, "wargaming_execution_time_ms",
   as_is, none, "double precision", as_is},
  {decision_col::wargaming_error, "wargaming_error", as_is, none, "text",
   as_is},
  {decision_col::wargaming_exploit_id, "wargaming_exploit_id", as_is, none,
   "text", as_is},
  {decision_col::decision, "decision", as_is, none, "text", as_is},
  {decision_col::decided_by, "decided_by", as_is, none, "text", as_is},
  {decision_col::decided_at, "decided_at", "hitl_micros(decided_at)",
   "decided_at_us", "bigint", "hitl_from_micros(decided_at)"},
  {decision_col::priority, "priority", as_is, none, "text", as_is},
  {decision_col::comment, "comment", as_is, none, "text", as_is},
  {decision_col::reason, "reason", as_is, none, "text", as_is},
  {decision_col::requires_manual_review, "requires_manual_review", as_is,
   none, "boolean", as_is},
  // Derived from the level, kept for readers of the table (001).
  {decision_col::requires_escalation, "requires_escalation", none, none, none,
   "escalation_level > 0"},
  {decision_col::auto_approval_eligible, "auto_approval_eligible", as_is,
   none, "boolean", as_is},
  // Set by the agreement trigger.
  {decision_col::ml_wargaming_agreement, "ml_wargaming_agreement", as_is,
   none, none, none},
  {decision_col::policy_version, "policy_version", as_is, none, "text",
   as_is},
  {decision_col::policy_failed_rules, "policy_failed_rules",
   "to_jsonb(policy_failed_rules)::text", "policy_failed_rules_json",
   "text[]", "coalesce(policy_failed_rules, '{}')"},
  {decision_col::approvals_required, "approvals_required", as_is, none,
   "smallint", as_is},
  {decision_col::escalation_level, "escalation_level", as_is, none,
   "smallint", as_is},
  {decision_col::sla_deadline, "sla_deadline", "hitl_micros(sla_deadline)",
   "sla_deadline_us", "bigint", "hitl_from_micros(sla_deadline)"},
  {decision_col::content_hash, "content_hash", as_is, none, "text", as_is},
  {decision_col::created_by, "created_by", as_is, none, "text", as_is},
  {decision_col::created_at, "created_at", "hitl_micros(created_at)",
   "created_at_us", "bigint", "hitl_from_micros(created_at)"},
  // A new decision was last updated when it was created.
  {decision_col::updated_at, "updated_at", "hitl_micros(updated_at)",
   "updated_at_us", none, "hitl_from_micros(created_at)"},
  // The version trigger's.
  {decision_col::version, "version", as_is, none, none, none},
};

static_assert(std::size(columns) == decision_col_count,
              "one entry per decision_col");

constexpr bool in_enum_order() {
  for (size_t i = 0; i < std::size(columns); ++i)
    if (static_cast<size_t>(columns[i].col) != i)
      return false;
  return true;
}

static_assert(in_enum_order(), "columns[] lists decision_col in its order");

const column& of(decision_col c) {
  return columns[static_cast<size_t>(c)];
}

// The column's name in a result.
const char* result_name(const column& c) {
  return c.as ? c.as : c.name;
}

void append_read(std::string& out, const column& c) {
  if (!out.empty())
    out += ", ";
  if (*c.read == '\0') {
    out += c.name;
    return;
  }
  out += c.read;
  out += " AS ";
  out += c.as;
}

// -- reading fields ------------------------------------------------------------

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

std::optional<timestamp> opt_time(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return from_micros(f.as<int64_t>());
}

std::vector<std::string> string_array(const pqxx::field& f) {
  if (f.is_null())
    return {};
  return nlohmann::json::parse(f.c_str()).get<std::vector<std::string>>();
}

} // namespace

std::string_view name_of(decision_col c) {
  return of(c).name;
}

std::optional<decision_col> decision_col_named(std::string_view name) {
  for (const auto& c : columns)
    if (name == c.name)
      return c.col;
  return std::nullopt;
}

std::string_view result_name_of(decision_col c) {
  return result_name(of(c));
}

const std::string& decision_select_list() {
  static const std::string all = [] {
    std::string out;
    for (const auto& c : columns)
      if (c.read)
        append_read(out, c);
    return out;
  }();
  return all;
}

std::string decision_select_list(const std::vector<decision_col>& cols) {
  std::string out;
  for (auto c : cols)
    if (of(c).read)
      append_read(out, of(c));
  return out;
}

std::string decision_insert_sql(std::string_view rows) {
  std::string names;
  std::string values;
  std::string fields;
  auto add = [](std::string& to, std::string_view what) {
    if (!to.empty())
      to += ", ";
    to += what;
  };
  for (const auto& c : columns) {
    if (c.stored) {
      add(names, c.name);
      add(values, *c.stored == '\0' ? c.name : c.stored);
    }
    if (c.sent)
      add(fields, std::string{c.name} + " " + c.sent);
  }
  std::string sql = "INSERT INTO hitl_decisions (" + names + ") SELECT "
                    + values + " FROM json_to_recordset(";
  sql += rows;
  sql += ") AS r(" + fields + ")";
  return sql;
}

// -- decision_fields -------------------------------------------------------------

decision_fields::decision_fields(const pqxx::result& r) {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, decision_col> m;
    for (const auto& c : columns)
      m.emplace(result_name(c), c.col);
    return m;
  }();
  at_.fill(absent);
  for (pqxx::row::size_type i = 0; i < r.columns(); ++i) {
    auto it = by_name.find(r.column_name(i));
    if (it != by_name.end())
      at_[static_cast<size_t>(it->second)] = i;
  }
}

void decision_fields::missing(decision_col c) {
  throw std::logic_error("the result has no column "
                         + std::string{result_name(of(c))});
}

decision_record decision_fields::record(const pqxx::row& r) const {
  using c = decision_col;
  const auto& f = *this;
  decision_record d;
  d.decision_id = f(r, c::decision_id).as<std::string>();
  d.patch_id = f(r, c::patch_id).as<std::string>();
  auto& m = d.metadata;
  m.apv_id = f(r, c::apv_id).as<std::string>();
  m.cve_id = opt<std::string>(f(r, c::cve_id));
  m.package_name = f(r, c::package_name).as<std::string>();
  m.current_version = f(r, c::current_version).as<std::string>();
  m.target_version = f(r, c::target_version).as<std::string>();
  m.severity =
    parse_urgency(f(r, c::severity).c_str()).value_or(urgency::medium);
  m.cvss_score = opt<double>(f(r, c::cvss_score));
  m.cwe_ids = string_array(f(r, c::cwe_ids));
  m.affected_systems = string_array(f(r, c::affected_systems));
  m.patch_size_lines = opt<int64_t>(f(r, c::patch_size_lines));
  auto confidence = opt<double>(f(r, c::ml_confidence));
  auto prediction = opt<bool>(f(r, c::ml_prediction));
  if (confidence && prediction) {
    ml_prediction ml;
    ml.confidence = *confidence;
    ml.prediction = *prediction;
    ml.model_version = opt<std::string>(f(r, c::ml_model_version));
    ml.execution_time_ms = opt<double>(f(r, c::ml_execution_time_ms));
    if (auto shap = opt<std::string>(f(r, c::ml_shap_values))) {
      auto parsed = nlohmann::json::parse(*shap);
      for (auto& [k, v] : parsed.items())
        ml.shap_values.emplace_back(k, v.get<double>());
    }
    d.ml = std::move(ml);
  }
  auto phase1 = opt<bool>(f(r, c::wargaming_phase1));
  auto phase2 = opt<bool>(f(r, c::wargaming_phase2));
  auto passed = opt<bool>(f(r, c::wargaming_passed));
  if (phase1 && phase2 && passed)
    d.wargaming = wargaming_result{
      *phase1,
      *phase2,
      *passed,
      opt<double>(f(r, c::wargaming_execution_time_ms)),
      opt<std::string>(f(r, c::wargaming_error)),
      opt<std::string>(f(r, c::wargaming_exploit_id))};
  d.status = parse_decision_status(f(r, c::decision).c_str())
               .value_or(decision_status::pending);
  d.decided_by = opt<std::string>(f(r, c::decided_by));
  d.decided_at = opt_time(f(r, c::decided_at));
  d.priority =
    parse_urgency(f(r, c::priority).c_str()).value_or(urgency::medium);
  d.comment = opt<std::string>(f(r, c::comment));
  d.reason = opt<std::string>(f(r, c::reason));
  d.requires_manual_review = f(r, c::requires_manual_review).as<bool>();
  d.auto_approval_eligible = f(r, c::auto_approval_eligible).as<bool>();
  d.ml_wargaming_agreement = f(r, c::ml_wargaming_agreement).as<bool>();
  d.policy_version = f(r, c::policy_version).as<std::string>();
  d.failed_rules = string_array(f(r, c::policy_failed_rules));
  d.approvals_required = f(r, c::approvals_required).as<int>();
  d.escalation_level = f(r, c::escalation_level).as<int>();
  d.sla_deadline = opt_time(f(r, c::sla_deadline));
  d.content_hash = f(r, c::content_hash).as<std::string>();
  d.created_by = f(r, c::created_by).as<std::string>();
  d.created_at = from_micros(f(r, c::created_at).as<int64_t>());
  d.updated_at = from_micros(f(r, c::updated_at).as<int64_t>());
  d.version = f(r, c::version).as<int64_t>();
  return d;
}

} // namespace hitl
