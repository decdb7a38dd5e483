#include "persistence/batch_writes.hpp"

#include "persistence/db_error.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <cmath>
#include <cstdio>

namespace hitl {

namespace {

using json = nlohmann::json;

// The row arrays are written straight into their text, without building
// JSON values first: at a few dozen rows per batch, on the single writer's
// path, building and dumping a DOM cost about a tenth of the service's CPU.
class row_writer {
public:
  explicit row_writer(std::string& out) : out_(out) {
    out_ += '{';
  }
  ~row_writer() {
    out_ += '}';
  }
  row_writer(const row_writer&) = delete;
  row_writer& operator=(const row_writer&) = delete;

  row_writer& text(std::string_view key, std::string_view v) {
    name(key);
    quoted(v);
    return *this;
  }
  row_writer& text(std::string_view key, const std::string& v) {
    return text(key, std::string_view{v});
  }
  row_writer& text(std::string_view key, const std::optional<std::string>& v) {
    return v ? text(key, *v) : null(key);
  }
  row_writer& number(std::string_view key, int64_t v) {
    name(key);
    out_ += std::to_string(v);
    return *this;
  }
  row_writer& number(std::string_view key, double v) {
    name(key);
    real(v);
    return *this;
  }
  template <class T>
  row_writer& number(std::string_view key, const std::optional<T>& v) {
    return v ? number(key, *v) : null(key);
  }
  row_writer& micros(std::string_view key, const timestamp& t) {
    return number(key, static_cast<int64_t>(to_micros(t)));
  }
  row_writer& micros(std::string_view key, const std::optional<timestamp>& t) {
    return t ? micros(key, *t) : null(key);
  }
  row_writer& boolean(std::string_view key, bool v) {
    name(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  row_writer& texts(std::string_view key, const std::vector<std::string>& v) {
    name(key);
    out_ += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0)
        out_ += ',';
      quoted(v[i]);
    }
    out_ += ']';
    return *this;
  }
  row_writer& numbers(std::string_view key,
                      const std::vector<std::pair<std::string, double>>& v) {
    name(key);
    out_ += '{';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0)
        out_ += ',';
      quoted(v[i].first);
      out_ += ':';
      real(v[i].second);
    }
    out_ += '}';
    return *this;
  }
  row_writer& null(std::string_view key) {
    name(key);
    out_ += "null";
    return *this;
  }

private:
  void name(std::string_view key) {
    if (out_.back() != '{') // not the object's first member
      out_ += ',';
    out_ += '"';
    out_ += key; // keys are ours: plain ASCII
    out_ += "\":";
  }
  void quoted(std::string_view v) {
    out_ += '"';
    for (char c : v) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  void real(double v) {
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    out_ += buf;
  }

  std::string& out_;
};

void decision_row(std::string& out, const decision_record* record) {
  const auto& d = *record;
  const auto& m = d.metadata;
  row_writer row{out};
  row.text("decision_id", d.decision_id)
    .text("patch_id", d.patch_id)
    .text("apv_id", m.apv_id)
    .text("cve_id", m.cve_id)
    .text("package_name", m.package_name)
    .text("current_version", m.current_version)
    .text("target_version", m.target_version)
    .text("severity", to_string(m.severity))
    .number("cvss_score", m.cvss_score)
    .texts("cwe_ids", m.cwe_ids)
    .texts("affected_systems", m.affected_systems)
    .number("patch_size_lines", m.patch_size_lines)
    .text("decision", to_string(d.status))
    .text("decided_by", d.decided_by)
    .micros("decided_at", d.decided_at)
    .text("priority", to_string(d.priority))
    .text("comment", d.comment)
    .text("reason", d.reason)
    .boolean("requires_manual_review", d.requires_manual_review)
    .boolean("auto_approval_eligible", d.auto_approval_eligible)
    .text("policy_version", d.policy_version)
    .texts("policy_failed_rules", d.failed_rules)
    .number("approvals_required", int64_t{d.approvals_required})
    .number("escalation_level", int64_t{d.escalation_level})
    .micros("sla_deadline", d.sla_deadline)
    .text("content_hash", d.content_hash)
    .text("created_by", d.created_by)
    .micros("created_at", d.created_at);
  if (d.ml)
    row.number("ml_confidence", d.ml->confidence)
      .boolean("ml_prediction", d.ml->prediction)
      .text("ml_model_version", d.ml->model_version)
      .numbers("ml_shap_values", d.ml->shap_values)
      .number("ml_execution_time_ms", d.ml->execution_time_ms);
  if (d.wargaming) {
    const auto& w = *d.wargaming;
    row.boolean("wargaming_phase1", w.phase1_success)
      .boolean("wargaming_phase2", w.phase2_success)
      .boolean("wargaming_passed", w.validation_passed)
      .number("wargaming_execution_time_ms", w.execution_time_ms)
      .text("wargaming_error", w.error_message)
      .text("wargaming_exploit_id", w.exploit_id);
  }
}

void update_row(std::string& out, const decision_update& u) {
  const auto& d = *u.after;
  row_writer{out}
    .text("decision_id", d.decision_id)
    .number("expected_version", u.expected_version)
    .text("decision", to_string(d.status))
    .text("decided_by", d.decided_by)
    .micros("decided_at", d.decided_at)
    .text("reason", d.reason)
    .text("comment", d.comment)
    .number("escalation_level", int64_t{d.escalation_level});
}

void approval_row(std::string& out, const new_approval& r) {
  row_writer{out}
    .text("decision_id", *r.decision_id)
    .text("reviewer", r.given->by)
    .text("comment", r.given->comment)
    .micros("at", r.given->at);
}

void audit_row(std::string& out, const audit_entry& e) {
  row_writer{out}
    .number("seq", e.seq)
    .text("decision_id", e.decision_id)
    .text("action", to_string(e.action))
    .text("performed_by", e.performed_by)
    .micros("at", e.at)
    .text("details", e.details_json)
    .text("ip_address", e.ip_address)
    .text("user_agent", e.user_agent)
    .text("prev_hash", e.prev_hash)
    .text("hash", e.hash);
}

void outbox_row_json(std::string& out, const outbox_row& r) {
  row_writer{out}
    .text("event", r.event)
    .text("decision_id", r.decision_id)
    .text("target_url", r.target_url)
    .text("payload", r.payload_json);
}

// Every row of `rows`, as `to_row` writes it, in one JSON array.
template <class Rows, class ToRow>
std::string rows_json(const Rows& rows, ToRow to_row) {
  std::string all;
  all.reserve(64 + rows.size() * 1024);
  all += '[';
  for (const auto& r : rows) {
    if (all.size() > 1)
      all += ',';
    to_row(all, r);
  }
  all += ']';
  return all;
}

// Runs `statement` with `rows` as its JSON array; nothing is sent for none.
template <class Rows, class ToRow>
pqxx::result write_rows(pqxx::transaction_base& txn, const char* statement,
                        const Rows& rows, ToRow to_row) {
  if (rows.empty())
    return {};
  return txn.exec_prepared(statement, rows_json(rows, to_row));
}

// Each table's statement; `{rows}` stands for its JSON array parameter.
constexpr std::string_view decisions_insert_sql = R"(
    INSERT INTO hitl_decisions (
      decision_id, patch_id, apv_id, cve_id, package_name, current_version,
      target_version, severity, cvss_score, cwe_ids, affected_systems,
      patch_size_lines, ml_confidence, ml_prediction, ml_model_version,
      ml_shap_values, ml_execution_time_ms, wargaming_phase1, wargaming_phase2,
      wargaming_passed, wargaming_execution_time_ms, wargaming_error,
      wargaming_exploit_id, decision, decided_by, decided_at, priority,
      comment, reason, requires_manual_review, requires_escalation,
      auto_approval_eligible, policy_version, policy_failed_rules,
      approvals_required, escalation_level, sla_deadline, content_hash,
      created_by, created_at, updated_at)
    SELECT decision_id, patch_id, apv_id, cve_id, package_name,
      current_version, target_version, severity, cvss_score,
      coalesce(cwe_ids, '{}'), coalesce(affected_systems, '{}'),
      patch_size_lines, ml_confidence, ml_prediction, ml_model_version,
      ml_shap_values, ml_execution_time_ms, wargaming_phase1,
      wargaming_phase2, wargaming_passed, wargaming_execution_time_ms,
      wargaming_error, wargaming_exploit_id, decision, decided_by,
      hitl_from_micros(decided_at), priority, comment, reason,
      requires_manual_review, escalation_level > 0, auto_approval_eligible,
      policy_version, coalesce(policy_failed_rules, '{}'), approvals_required,
      escalation_level, hitl_from_micros(sla_deadline), content_hash,
      created_by, hitl_from_micros(created_at), hitl_from_micros(created_at)
    FROM json_to_recordset({rows}) AS r(
      decision_id text, patch_id text, apv_id text, cve_id text,
      package_name text, current_version text, target_version text,
      severity text, cvss_score double precision, cwe_ids text[],
      affected_systems text[], patch_size_lines bigint,
      ml_confidence double precision, ml_prediction boolean,
      ml_model_version text, ml_shap_values jsonb,
      ml_execution_time_ms double precision, wargaming_phase1 boolean,
      wargaming_phase2 boolean, wargaming_passed boolean,
      wargaming_execution_time_ms double precision, wargaming_error text,
      wargaming_exploit_id text, decision text, decided_by text,
      decided_at bigint, priority text, comment text, reason text,
      requires_manual_review boolean, auto_approval_eligible boolean,
      policy_version text, policy_failed_rules text[],
      approvals_required smallint, escalation_level smallint,
      sla_deadline bigint, content_hash text, created_by text,
      created_at bigint))";

constexpr std::string_view decisions_update_sql = R"(
    UPDATE hitl_decisions d SET
      decision = r.decision, decided_by = r.decided_by,
      decided_at = hitl_from_micros(r.decided_at), reason = r.reason,
      comment = r.comment, escalation_level = r.escalation_level,
      requires_escalation = r.escalation_level > 0
    FROM json_to_recordset({rows}) AS r(
      decision_id text, expected_version bigint, decision text,
      decided_by text, decided_at bigint, reason text, comment text,
      escalation_level smallint)
    WHERE d.decision_id = r.decision_id AND d.version = r.expected_version
    RETURNING d.decision_id, d.version)";

constexpr std::string_view approvals_insert_sql = R"(
    INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at)
    SELECT decision_id, reviewer, comment, hitl_from_micros(at)
    FROM json_to_recordset({rows}) AS r(
      decision_id text, reviewer text, comment text, at bigint))";

constexpr std::string_view audit_append_sql = R"(
    INSERT INTO hitl_audit_logs (seq, decision_id, action, performed_by,
      "timestamp", details, ip_address, user_agent, prev_hash, hash)
    SELECT seq, decision_id, action, performed_by, hitl_from_micros(at),
      details::jsonb, ip_address, user_agent, prev_hash, hash
    FROM json_to_recordset({rows}) AS r(
      seq bigint, decision_id text, action text, performed_by text,
      at bigint, details text, ip_address text, user_agent text,
      prev_hash text, hash text))";

constexpr std::string_view outbox_insert_sql = R"(
    INSERT INTO hitl_outbox (event, decision_id, target_url, payload)
    SELECT event, decision_id, target_url, payload::jsonb
    FROM json_to_recordset({rows}) AS r(
      event text, decision_id text, target_url text, payload text))";

std::string with_rows(std::string_view sql, std::string_view param) {
  constexpr std::string_view token = "{rows}";
  auto at = sql.find(token);
  std::string out{sql.substr(0, at)};
  out += param;
  out += sql.substr(at + token.size());
  return out;
}

} // namespace

void prepare_batch_statements(pqxx::connection_base& conn) {
  auto one_param = [](std::string_view sql) {
    return with_rows(sql, "$1::json");
  };
  conn.prepare("decisions_insert_batch", one_param(decisions_insert_sql));
  conn.prepare("decisions_update_batch", one_param(decisions_update_sql));
  conn.prepare("audit_append_batch", one_param(audit_append_sql));
  conn.prepare("batch_write", batch_write_sql());
}

// The whole batch as one statement, so that in autocommit it is one round
// trip and its own transaction. Two guards are checked inside it, and either
// undoes every part of the statement: hitl_all_written, that each update
// found its expected version; hitl_chain_follows, that the audit log ends
// where the batch's first entry was sealed.
std::string batch_write_sql() {
  return "WITH upd AS (" + with_rows(decisions_update_sql, "$2::json")
         + "), ins AS (" + with_rows(decisions_insert_sql, "$1::json")
         + "), apr AS (" + with_rows(approvals_insert_sql, "$3::json")
         + "), aud AS (" + with_rows(audit_append_sql, "$4::json")
         + "), obx AS (" + with_rows(outbox_insert_sql, "$5::json")
         + R"() SELECT hitl_all_written((SELECT count(*) FROM upd), $6),
                   (SELECT coalesce(json_agg(json_build_array(decision_id,
                                                              version)), '[]')
                    FROM upd)::text,
                   hitl_chain_follows($7, $8))";
}

batch_params batch_write_params(const batch_rows& rows) {
  batch_params p;
  p.values = {rows_json(rows.inserts, decision_row),
              rows_json(rows.updates, update_row),
              rows_json(rows.approvals, approval_row),
              rows_json(rows.entries, audit_row),
              rows_json(rows.outbox, outbox_row_json),
              std::to_string(rows.updates.size())};
  if (!rows.entries.empty()) {
    const auto& first = rows.entries.front();
    p.after_seq = first.seq - 1;
    p.after_hash = first.prev_hash;
  }
  return p;
}

std::unordered_map<std::string, int64_t>
parse_written_versions(const char* json_text) {
  std::unordered_map<std::string, int64_t> written;
  for (const auto& pair : json::parse(json_text))
    written.emplace(pair[0].get<std::string>(), pair[1].get<int64_t>());
  return written;
}

void insert_decisions(pqxx::transaction_base& txn,
                      const std::vector<const decision_record*>& rows) {
  write_rows(txn, "decisions_insert_batch", rows, decision_row);
}

std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows) {
  std::unordered_map<std::string, int64_t> written;
  for (const auto& r : write_rows(txn, "decisions_update_batch", rows,
                                  update_row))
    written.emplace(r[0].as<std::string>(), r[1].as<int64_t>());
  return written;
}

void append_audit_entries(pqxx::transaction_base& txn,
                          const std::vector<audit_entry>& entries) {
  write_rows(txn, "audit_append_batch", entries, audit_row);
}

std::optional<std::unordered_map<std::string, int64_t>>
write_batch(pqxx::transaction_base& txn, const batch_rows& rows) {
  auto p = batch_write_params(rows);
  // libpqxx 6.4 has no std::optional parameters: a null pointer is NULL.
  auto seq = p.after_seq ? std::to_string(*p.after_seq) : std::string{};
  const char* after_seq = p.after_seq ? seq.c_str() : nullptr;
  const char* after_hash = p.after_seq ? p.after_hash.c_str() : nullptr;
  pqxx::result r;
  try {
    r = txn.exec_prepared("batch_write", p.values[0], p.values[1], p.values[2],
                          p.values[3], p.values[4], p.values[5], after_seq,
                          after_hash);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "HT409")
      return std::nullopt;
    if (e.sqlstate() == "HT412")
      throw db_error(db_errc::conflict, e.what());
    throw;
  }
  return parse_written_versions(r[0][1].c_str());
}

} // namespace hitl
