#include "persistence/batch_writes.hpp"

#include "persistence/db_error.hpp"
#include "persistence/decision_columns.hpp"
#include "policy/json_text.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace hitl {

namespace {

using json = nlohmann::json;

// The row arrays are written straight into their text (json_text), without
// building JSON values first: at a few dozen rows per batch, on the single
// writer's path, building and dumping a DOM cost about a tenth of the
// service's CPU. Text that is not valid UTF-8 cannot reach here (the edge
// cleans what it stores); were it to, it is replaced, as in the hash.

// A row's members without a value are left out: json_to_recordset reads a
// missing key as NULL, and PostgreSQL's JSON parser, on the single writer's
// path, has a fifth less to read in a pending creation's row.
class row_members {
public:
  explicit row_members(json_text& w) : w_(w) {
    // Nothing.
  }
  void text(std::string_view key, const std::optional<std::string>& v) {
    if (v)
      w_.key(key).string(*v);
  }
  void real(std::string_view key, const std::optional<double>& v) {
    if (v)
      w_.key(key).real(*v);
  }
  void integer(std::string_view key, const std::optional<int64_t>& v) {
    if (v)
      w_.key(key).integer(*v);
  }
  void time(std::string_view key, const std::optional<timestamp>& t) {
    if (t)
      w_.key(key).integer(to_micros(*t));
  }
  void strings(std::string_view key, const std::vector<std::string>& v) {
    if (!v.empty()) // the statements coalesce NULL to '{}'
      w_.key(key).strings(v);
  }

private:
  json_text& w_;
};

void decision_row(json_text& w, const decision_record* record) {
  const auto& d = *record;
  const auto& m = d.metadata;
  row_members opt{w};
  w.begin_object()
    .key("decision_id").string(d.decision_id)
    .key("patch_id").string(d.patch_id)
    .key("apv_id").string(m.apv_id);
  opt.text("cve_id", m.cve_id);
  w.key("package_name").string(m.package_name)
    .key("current_version").string(m.current_version)
    .key("target_version").string(m.target_version)
    .key("severity").string(to_string(m.severity));
  opt.real("cvss_score", m.cvss_score);
  opt.strings("cwe_ids", m.cwe_ids);
  opt.strings("affected_systems", m.affected_systems);
  opt.integer("patch_size_lines", m.patch_size_lines);
  w.key("decision").string(to_string(d.status));
  opt.text("decided_by", d.decided_by);
  opt.time("decided_at", d.decided_at);
  w.key("priority").string(to_string(d.priority));
  opt.text("comment", d.comment);
  opt.text("reason", d.reason);
  w.key("requires_manual_review").boolean(d.requires_manual_review)
    .key("auto_approval_eligible").boolean(d.auto_approval_eligible)
    .key("policy_version").string(d.policy_version);
  opt.strings("policy_failed_rules", d.failed_rules);
  w.key("approvals_required").integer(d.approvals_required)
    .key("escalation_level").integer(d.escalation_level);
  opt.time("sla_deadline", d.sla_deadline);
  w.key("content_hash").string(d.content_hash)
    .key("created_by").string(d.created_by)
    .key("created_at").integer(to_micros(d.created_at));
  if (d.ml) {
    w.key("ml_confidence").real(d.ml->confidence)
      .key("ml_prediction").boolean(d.ml->prediction);
    opt.text("ml_model_version", d.ml->model_version);
    w.key("ml_shap_values").begin_object();
    for (const auto& [feature, value] : d.ml->shap_values)
      w.key(feature).real(value);
    w.end_object();
    opt.real("ml_execution_time_ms", d.ml->execution_time_ms);
  }
  if (d.wargaming) {
    const auto& r = *d.wargaming;
    w.key("wargaming_phase1").boolean(r.phase1_success)
      .key("wargaming_phase2").boolean(r.phase2_success)
      .key("wargaming_passed").boolean(r.validation_passed);
    opt.real("wargaming_execution_time_ms", r.execution_time_ms);
    opt.text("wargaming_error", r.error_message);
    opt.text("wargaming_exploit_id", r.exploit_id);
  }
  w.end_object();
}

void update_row(json_text& w, const decision_update& u) {
  const auto& d = *u.after;
  row_members opt{w};
  w.begin_object()
    .key("decision_id").string(d.decision_id)
    .key("expected_version").integer(u.expected_version)
    .key("decision").string(to_string(d.status));
  opt.text("decided_by", d.decided_by);
  opt.time("decided_at", d.decided_at);
  opt.text("reason", d.reason);
  opt.text("comment", d.comment);
  w.key("escalation_level").integer(d.escalation_level).end_object();
}

void approval_row(json_text& w, const new_approval& r) {
  w.begin_object()
    .key("decision_id").string(*r.decision_id)
    .key("reviewer").string(r.given->by)
    .key("comment").string(r.given->comment)
    .key("at").integer(to_micros(r.given->at));
  if (r.given->token_id)
    w.key("token_id").integer(*r.given->token_id);
  w.end_object();
}

void audit_row(json_text& w, const audit_entry& e) {
  w.begin_object().key("seq").integer(e.seq).key("decision_id");
  if (e.decision_id.empty())
    w.null(); // a token's entry (017)
  else
    w.string(e.decision_id);
  w.key("action").string(to_string(e.action))
    .key("performed_by").string(e.performed_by)
    .key("at").integer(to_micros(e.at))
    .key("details").string(e.details_json);
  row_members opt{w};
  opt.text("ip_address", e.ip_address);
  opt.text("user_agent", e.user_agent);
  w.key("prev_hash").string(e.prev_hash)
    .key("hash").string(e.hash)
    .end_object();
}

void outbox_row_json(json_text& w, const outbox_row& r) {
  w.begin_object()
    .key("event").string(r.event)
    .key("decision_id").string(r.decision_id)
    .key("target_url").string(r.target_url)
    .key("payload").string(r.payload_json)
    .end_object();
}

// Every row of `rows`, as `to_row` writes it, in one JSON array.
template <class Rows, class ToRow>
std::string rows_json(const Rows& rows, ToRow to_row) {
  std::string all;
  all.reserve(64 + rows.size() * 1024);
  json_text w{all, json_text::invalid_utf8::replace};
  w.begin_array();
  for (const auto& r : rows)
    to_row(w, r);
  w.end_array();
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

// Each table's statement; `{rows}` stands for its JSON array parameter. The
// decisions' INSERT is written from their columns' description
// (decision_insert_sql).
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
    INSERT INTO hitl_approvals (decision_id, reviewer, comment, approved_at,
      token_id)
    SELECT decision_id, reviewer, comment, hitl_from_micros(at), token_id
    FROM json_to_recordset({rows}) AS r(
      decision_id text, reviewer text, comment text, at bigint,
      token_id bigint))";

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

// The names of the statements below that libpqxx runs.
constexpr const char* decisions_insert_batch = "decisions_insert_batch";
constexpr const char* decisions_update_batch = "decisions_update_batch";
constexpr const char* audit_append_batch = "audit_append_batch";
constexpr const char* batch_write = "batch_write";

std::string with_rows(std::string_view sql, std::string_view param) {
  constexpr std::string_view token = "{rows}";
  auto at = sql.find(token);
  std::string out{sql.substr(0, at)};
  out += param;
  out += sql.substr(at + token.size());
  return out;
}

} // namespace

// The batch statements that run through libpqxx: each table's alone, for
// the writes made in steps, and the whole batch.
const std::vector<prepared_sql>& batch_statements() {
  static const std::vector<prepared_sql> all = [] {
    auto one_param = [](std::string_view sql) {
      return with_rows(sql, "$1::json");
    };
    return std::vector<prepared_sql>{
      {decisions_insert_batch, decision_insert_sql("$1::json")},
      {decisions_update_batch, one_param(decisions_update_sql)},
      {audit_append_batch, one_param(audit_append_sql)},
      {batch_write, batch_write_sql(batch_part::all)}};
  }();
  return all;
}

// The whole batch as one statement, so that in autocommit it is one round
// trip and its own transaction. Two guards are checked inside it, and either
// undoes every part of the statement: hitl_all_written, that each update
// found its expected version; hitl_chain_follows, that the audit log ends
// where the batch's first entry was sealed.
//
// Only the parts in `parts` are in it: an empty part is not free. It opens
// its table and every index of it, and an UPDATE of no rows still runs its
// statement-level trigger (the open counts' PL/pgSQL): about 60 µs of the
// single writer's time per batch of creations.
std::string batch_write_sql(batch_parts parts) {
  std::string ctes;
  auto part = [&](batch_parts p, const char* name, std::string_view text,
                  const char* param) {
    if ((parts & p) == 0)
      return;
    ctes += ctes.empty() ? "WITH " : ", ";
    ctes += name;
    ctes += " AS (";
    ctes += with_rows(text, param);
    ctes += ")";
  };
  part(batch_part::updates, "upd", decisions_update_sql, "$2::json");
  part(batch_part::inserts, "ins", decision_insert_sql("{rows}"), "$1::json");
  part(batch_part::approvals, "apr", approvals_insert_sql, "$3::json");
  part(batch_part::entries, "aud", audit_append_sql, "$4::json");
  part(batch_part::outbox, "obx", outbox_insert_sql, "$5::json");
  if ((parts & batch_part::updates) == 0)
    return ctes + " SELECT true, '[]'::text, hitl_chain_follows($7, $8)";
  return ctes + R"( SELECT hitl_all_written((SELECT count(*) FROM upd), $6),
                   (SELECT coalesce(json_agg(json_build_array(decision_id,
                                                              version)), '[]')
                    FROM upd)::text,
                   hitl_chain_follows($7, $8))";
}

batch_parts parts_of(const batch_rows& rows) {
  batch_parts parts = 0;
  if (!rows.updates.empty())
    parts |= batch_part::updates;
  if (!rows.inserts.empty())
    parts |= batch_part::inserts;
  if (!rows.approvals.empty())
    parts |= batch_part::approvals;
  if (!rows.entries.empty())
    parts |= batch_part::entries;
  if (!rows.outbox.empty())
    parts |= batch_part::outbox;
  return parts;
}

batch_params batch_write_params(const batch_rows& rows) {
  batch_params p;
  p.parts = parts_of(rows);
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
  write_rows(txn, decisions_insert_batch, rows, decision_row);
}

std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows) {
  std::unordered_map<std::string, int64_t> written;
  for (const auto& r : write_rows(txn, decisions_update_batch, rows,
                                  update_row))
    written.emplace(r[0].as<std::string>(), r[1].as<int64_t>());
  return written;
}

void append_audit_entries(pqxx::transaction_base& txn,
                          const std::vector<audit_entry>& entries) {
  write_rows(txn, audit_append_batch, entries, audit_row);
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
    r = txn.exec_prepared(batch_write, p.values[0], p.values[1], p.values[2],
                          p.values[3], p.values[4], p.values[5], after_seq,
                          after_hash);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "HT409")
      return std::nullopt;
    if (e.sqlstate() == "HT412")
      throw chain_moved(e.what());
    // A writer that appended without the guard seeing it yet (its entry
    // was not committed when this statement began) took our seq.
    if (e.sqlstate() == "23505"
        && std::string_view{e.what()}.find("hitl_audit_logs_pkey")
             != std::string_view::npos)
      throw chain_moved(e.what());
    throw;
  }
  return parse_written_versions(r[0][1].c_str());
}

} // namespace hitl
