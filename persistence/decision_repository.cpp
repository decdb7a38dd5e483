#include "persistence/decision_repository.hpp"

#include "persistence/batch_writes.hpp"
#include "persistence/decision_rows.hpp"
#include "persistence/sql_params.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <unordered_map>

namespace hitl {

// -- column list and row mapping ---------------------------------------------

const char* const decision_columns = R"(
  decision_id, patch_id, apv_id, cve_id, package_name, current_version,
  target_version, severity, cvss_score, to_jsonb(cwe_ids)::text,
  to_jsonb(affected_systems)::text, patch_size_lines,
  ml_confidence, ml_prediction, ml_model_version, ml_shap_values::text,
  ml_execution_time_ms,
  wargaming_phase1, wargaming_phase2, wargaming_passed,
  wargaming_execution_time_ms, wargaming_error, wargaming_exploit_id,
  decision, decided_by, hitl_micros(decided_at), priority, comment, reason,
  requires_manual_review, auto_approval_eligible, ml_wargaming_agreement,
  policy_version, to_jsonb(policy_failed_rules)::text, approvals_required,
  escalation_level, hitl_micros(sla_deadline), content_hash, created_by,
  hitl_micros(created_at), hitl_micros(updated_at), version)";

namespace {

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

decision_record read_decision(const pqxx::row& r) {
  decision_record d;
  int i = 0;
  d.decision_id = r[i++].as<std::string>();
  d.patch_id = r[i++].as<std::string>();
  auto& m = d.metadata;
  m.apv_id = r[i++].as<std::string>();
  m.cve_id = opt<std::string>(r[i++]);
  m.package_name = r[i++].as<std::string>();
  m.current_version = r[i++].as<std::string>();
  m.target_version = r[i++].as<std::string>();
  m.severity = parse_urgency(r[i++].c_str()).value_or(urgency::medium);
  m.cvss_score = opt<double>(r[i++]);
  m.cwe_ids = string_array(r[i++]);
  m.affected_systems = string_array(r[i++]);
  m.patch_size_lines = opt<int64_t>(r[i++]);
  auto confidence = opt<double>(r[i++]);
  auto prediction = opt<bool>(r[i++]);
  auto model_version = opt<std::string>(r[i++]);
  auto shap = opt<std::string>(r[i++]);
  auto ml_ms = opt<double>(r[i++]);
  if (confidence && prediction) {
    ml_prediction ml;
    ml.confidence = *confidence;
    ml.prediction = *prediction;
    ml.model_version = std::move(model_version);
    ml.execution_time_ms = ml_ms;
    if (shap) {
      auto parsed = nlohmann::json::parse(*shap);
      for (auto& [k, v] : parsed.items())
        ml.shap_values.emplace_back(k, v.get<double>());
    }
    d.ml = std::move(ml);
  }
  auto phase1 = opt<bool>(r[i++]);
  auto phase2 = opt<bool>(r[i++]);
  auto passed = opt<bool>(r[i++]);
  auto wg_ms = opt<double>(r[i++]);
  auto wg_error = opt<std::string>(r[i++]);
  auto exploit = opt<std::string>(r[i++]);
  if (phase1 && phase2 && passed)
    d.wargaming = wargaming_result{*phase1, *phase2,          *passed, wg_ms,
                                   std::move(wg_error), std::move(exploit)};
  d.status = parse_decision_status(r[i++].c_str())
               .value_or(decision_status::pending);
  d.decided_by = opt<std::string>(r[i++]);
  d.decided_at = opt_time(r[i++]);
  d.priority = parse_urgency(r[i++].c_str()).value_or(urgency::medium);
  d.comment = opt<std::string>(r[i++]);
  d.reason = opt<std::string>(r[i++]);
  d.requires_manual_review = r[i++].as<bool>();
  d.auto_approval_eligible = r[i++].as<bool>();
  d.ml_wargaming_agreement = r[i++].as<bool>();
  d.policy_version = r[i++].as<std::string>();
  d.failed_rules = string_array(r[i++]);
  d.approvals_required = r[i++].as<int>();
  d.escalation_level = r[i++].as<int>();
  d.sla_deadline = opt_time(r[i++]);
  d.content_hash = r[i++].as<std::string>();
  d.created_by = r[i++].as<std::string>();
  d.created_at = from_micros(r[i++].as<int64_t>());
  d.updated_at = from_micros(r[i++].as<int64_t>());
  d.version = r[i++].as<int64_t>();
  return d;
}

namespace {

approval read_approval(const pqxx::row& r) {
  return approval{r[1].as<std::string>(), from_micros(r[2].as<int64_t>()),
                  opt<std::string>(r[3]), std::nullopt, std::nullopt};
}


void attach_approvals(pqxx::transaction_base& txn, decision_record& d) {
  for (const auto& r : txn.exec_prepared("approvals_of", d.decision_id))
    d.approvals.push_back(read_approval(r));
}

} // namespace

// -- statements ---------------------------------------------------------------

void prepare_decision_statements(pqxx::connection_base& conn) {
  conn.prepare("decision_by_id", std::string{"SELECT "} + decision_columns
                                   + " FROM hitl_decisions WHERE decision_id = $1");
  // The approvals' and comments' decision_id keep the database's default
  // collation while the decision's is "C" (schema 014): compared without
  // COLLATE, their indexes only filter and each detail read scans them whole.
  conn.prepare("decision_view", std::string{"SELECT "} + decision_columns + R"(,
    (SELECT coalesce(json_agg(json_build_array(a.reviewer,
              hitl_micros(a.approved_at), a.comment, a.token_id,
              hitl_micros(t."timestamp"), t.performed_by)
              ORDER BY a.approved_at, a.reviewer), '[]')
       FROM hitl_approvals a
       -- who issued the approver's token, by the index of 017
       LEFT JOIN hitl_audit_logs t
         ON t.decision_id IS NULL AND t.action = 'token_created'
            AND (t.details ->> 'token_id')::bigint = a.token_id
       WHERE a.decision_id = d.decision_id COLLATE "default")::text,
    (SELECT coalesce(json_agg(json_build_array(comment_id, author, comment,
              hitl_micros(created_at)) ORDER BY created_at, comment_id), '[]')
       FROM hitl_comments c
       WHERE c.decision_id = d.decision_id COLLATE "default")::text,
    (SELECT coalesce(json_agg(json_build_object(
              'seq', seq, 'decision_id', decision_id, 'action', action,
              'performed_by', performed_by,
              'timestamp', to_char("timestamp" AT TIME ZONE 'UTC',
                                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              'details', details, 'prev_hash', prev_hash, 'hash', hash)
            ORDER BY seq), '[]')
       FROM hitl_audit_logs l WHERE l.decision_id = d.decision_id)::text
    FROM hitl_decisions d WHERE decision_id = $1)");
  conn.prepare("decision_latest_by_patch",
               std::string{"SELECT "} + decision_columns
                 + " FROM hitl_decisions WHERE patch_id = $1"
                   " ORDER BY created_at DESC, decision_id DESC LIMIT 1");
  // Open decisions are read through a cursor, a slice at a time (see
  // load_open_decisions).
  conn.prepare("decisions_open_cursor",
               std::string{"DECLARE hitl_open_decisions NO SCROLL CURSOR FOR "
                           "SELECT "}
                 + decision_columns
                 + " FROM hitl_decisions"
                   " WHERE decision IN ('pending', 'escalated')");
  conn.prepare("decisions_open_fetch", "FETCH 20000 FROM hitl_open_decisions");
  conn.prepare("decisions_open_count", "SELECT count(*) FROM hitl_decisions"
                                       " WHERE decision IN ('pending', 'escalated')");
  conn.prepare("decisions_open_close", "CLOSE hitl_open_decisions");
  conn.prepare("approvals_of", R"(
    SELECT decision_id, reviewer, hitl_micros(approved_at), comment
    FROM hitl_approvals WHERE decision_id = $1
    ORDER BY approved_at, reviewer)");
  conn.prepare("approvals_of_open", R"(
    SELECT a.decision_id, a.reviewer, hitl_micros(a.approved_at), a.comment
    FROM hitl_approvals a JOIN hitl_decisions d USING (decision_id)
    WHERE d.decision IN ('pending', 'escalated')
    ORDER BY a.approved_at, a.reviewer)");
}

// -- repository functions -----------------------------------------------------

void insert_decision(pqxx::transaction_base& txn, const decision_record& d) {
  insert_decisions(txn, {&d});
}

std::optional<int64_t> update_decision_state(pqxx::transaction_base& txn,
                                             const decision_record& d,
                                             int64_t expected_version) {
  auto written = update_decisions(txn, {{&d, expected_version}});
  auto it = written.find(d.decision_id);
  if (it == written.end())
    return std::nullopt;
  return it->second;
}

std::optional<decision_record> find_decision(pqxx::transaction_base& txn,
                                             const std::string& decision_id) {
  auto r = txn.exec_prepared("decision_by_id", decision_id);
  if (r.empty())
    return std::nullopt;
  auto d = read_decision(r[0]);
  attach_approvals(txn, d);
  return d;
}

std::optional<decision_record>
find_decision_with_comments(pqxx::transaction_base& txn,
                            const std::string& decision_id,
                            std::vector<comment>& comments,
                            std::string& audit_trail_json) {
  auto r = txn.exec_prepared("decision_view", decision_id);
  if (r.empty())
    return std::nullopt;
  const auto& row = r[0];
  auto d = read_decision(row);
  auto n = row.size() - 1; // the last column is the audit trail
  audit_trail_json = row[static_cast<int>(n)].as<std::string>();
  auto approvals = nlohmann::json::parse(row[static_cast<int>(n - 2)].c_str());
  for (const auto& a : approvals) {
    approval given{
      a[0].get<std::string>(), from_micros(a[1].get<int64_t>()),
      a[2].is_null() ? std::nullopt
                     : std::optional<std::string>{a[2].get<std::string>()},
      std::nullopt, std::nullopt};
    auto& who = given.identity.emplace();
    if (!a[3].is_null())
      given.token_id = who.token_id = a[3].get<int64_t>();
    if (!a[4].is_null()) {
      who.issued_at = from_micros(a[4].get<int64_t>());
      who.issued_by = a[5].get<std::string>();
    }
    d.approvals.push_back(std::move(given));
  }
  for (const auto& c : nlohmann::json::parse(row[static_cast<int>(n - 1)].c_str()))
    comments.push_back(comment{c[0].get<int64_t>(), decision_id,
                               c[1].get<std::string>(), c[2].get<std::string>(),
                               from_micros(c[3].get<int64_t>())});
  return d;
}

std::optional<decision_record>
find_latest_decision_by_patch(pqxx::transaction_base& txn,
                              const std::string& patch_id) {
  auto r = txn.exec_prepared("decision_latest_by_patch", patch_id);
  if (r.empty())
    return std::nullopt;
  auto d = read_decision(r[0]);
  attach_approvals(txn, d);
  return d;
}

// A slice at a time: libpq keeps a whole result in memory, in text, and
// for a million open decisions that was 0.9 GB on top of the records built
// from it, most of recovery's peak RSS (2.08 GB against 1.17 GB after).
std::vector<decision_record> load_open_decisions(pqxx::transaction_base& txn) {
  std::vector<decision_record> out;
  std::unordered_map<std::string, size_t> index;
  // Counted first (the caller's snapshot holds it), so that the vector is
  // allocated once: growing it would copy every record read so far.
  auto n = txn.exec_prepared1("decisions_open_count")[0].as<size_t>();
  out.reserve(n);
  index.reserve(n);
  txn.exec_prepared("decisions_open_cursor");
  for (;;) {
    auto rows = txn.exec_prepared("decisions_open_fetch");
    if (rows.empty())
      break;
    for (const auto& r : rows) {
      out.push_back(read_decision(r));
      index.emplace(out.back().decision_id, out.size() - 1);
    }
  }
  txn.exec_prepared("decisions_open_close");
  for (const auto& r : txn.exec_prepared("approvals_of_open")) {
    auto it = index.find(r[0].as<std::string>());
    if (it != index.end())
      out[it->second].approvals.push_back(read_approval(r));
  }
  return out;
}

} // namespace hitl
