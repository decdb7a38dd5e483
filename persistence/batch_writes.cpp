#include "persistence/batch_writes.hpp"

#include "persistence/db_error.hpp"
#include "persistence/decision_columns.hpp"
#include "persistence/sql_params.hpp"
#include "policy/json_text.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <iterator>
#include <stdexcept>

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

// Only entries of a partition are written (021 refuses others). Their seq
// comes from the database, row by row in the array's order, which is the
// order they were sealed in: within a partition, seq grows with pseq.
void audit_row(json_text& w, const audit_entry& e) {
  w.begin_object()
    .key("partition_id").integer(e.link ? e.link->partition.value : -1)
    .key("pseq").integer(e.link ? e.link->pseq : 0)
    .key("epoch").integer(e.link ? e.link->epoch : -1)
    .key("decision_id");
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
    INSERT INTO hitl_audit_logs (partition_id, pseq, epoch, decision_id,
      action, performed_by, "timestamp", details, ip_address, user_agent,
      prev_hash, hash)
    SELECT partition_id, pseq, epoch, decision_id, action, performed_by,
      hitl_from_micros(at), details::jsonb, ip_address, user_agent,
      prev_hash, hash
    FROM json_to_recordset({rows}) AS r(
      partition_id smallint, pseq bigint, epoch bigint, decision_id text,
      action text, performed_by text, at bigint, details text,
      ip_address text, user_agent text, prev_hash text, hash text))";

constexpr std::string_view outbox_insert_sql = R"(
    INSERT INTO hitl_outbox (event, decision_id, target_url, payload)
    SELECT event, decision_id, target_url, payload::jsonb
    FROM json_to_recordset({rows}) AS r(
      event text, decision_id text, target_url text, payload text))";

// The names of the statements that libpqxx runs.
constexpr const char* decisions_insert_batch = "decisions_insert_batch";
constexpr const char* decisions_update_batch = "decisions_update_batch";
constexpr const char* batch_write = "batch_write";

// A parameter's type: its name in SQL and its OID, for libpq's prepare.
struct param_type {
  const char* name;
  unsigned oid;
};
constexpr param_type json_type{"json", 114};
constexpr param_type bigint_type{"bigint", 20};
constexpr param_type text_type{"text", 25};
constexpr param_type uuid_type{"uuid", 2950};
constexpr param_type smallint_array_type{"smallint[]", 1005};
constexpr param_type bigint_array_type{"bigint[]", 1016};
constexpr param_type text_array_type{"text[]", 1009};

// One kind of row that a batch writes, described once: the batch statement,
// its parameters (one JSON array per kind, in this order, then `tail`
// below), their types and values, and the statements that write one kind
// alone are all made from `row_kinds`. Adding a kind is adding a line.
struct row_kind {
  const char* cte; // its part of the batch statement
  std::string (*sql)(); // its statement, `{rows}` for its array
  std::string (*rows)(const batch_rows&); // the array
  bool (*empty)(const batch_rows&);
  const char* alone; // the statement that writes only this kind, if any
};

template <auto Member, auto ToRow>
std::string array_of(const batch_rows& rows) {
  return rows_json(rows.*Member, ToRow);
}

template <auto Member>
bool none(const batch_rows& rows) {
  return (rows.*Member).empty();
}

// In the order of the CTEs: the updates first, so that the statement's
// result can read theirs.
constexpr row_kind row_kinds[] = {
  {"upd", [] { return std::string{decisions_update_sql}; },
   array_of<&batch_rows::updates, update_row>, none<&batch_rows::updates>,
   decisions_update_batch},
  {"ins", [] { return decision_insert_sql("{rows}"); },
   array_of<&batch_rows::inserts, decision_row>, none<&batch_rows::inserts>,
   decisions_insert_batch},
  {"apr", [] { return std::string{approvals_insert_sql}; },
   array_of<&batch_rows::approvals, approval_row>,
   none<&batch_rows::approvals>, nullptr},
  {"aud", [] { return std::string{audit_append_sql}; },
   array_of<&batch_rows::entries, audit_row>, none<&batch_rows::entries>,
   nullptr},
  {"obx", [] { return std::string{outbox_insert_sql}; },
   array_of<&batch_rows::outbox, outbox_row_json>, none<&batch_rows::outbox>,
   nullptr},
};
constexpr size_t kind_count = std::size(row_kinds);
constexpr batch_parts part_of(size_t kind) {
  return batch_parts{1} << kind;
}

// An array literal of one member of each chain (the members are numbers and
// hex, which need no quoting); NULL without chains.
template <class Member>
std::optional<std::string> chains_array(const batch_rows& r, Member member) {
  if (r.chains.empty())
    return std::nullopt;
  std::string out = "{";
  for (const auto& c : r.chains) {
    if (out.size() > 1)
      out += ',';
    out += member(c);
  }
  return out + "}";
}

// The parameters after the row arrays, named in the batch's result below.
struct tail_param {
  const char* name;
  param_type type;
  std::optional<std::string> (*value)(const batch_rows&);
};
constexpr tail_param tail[] = {
  {"updates_expected", bigint_type,
   [](const batch_rows& r) -> std::optional<std::string> {
     return std::to_string(r.updates.size());
   }},
  {"fence_node", uuid_type,
   [](const batch_rows& r) -> std::optional<std::string> {
     return r.fence_node;
   }},
  {"chain_partitions", smallint_array_type,
   [](const batch_rows& r) {
     return chains_array(r, [](const chain_advance& c) {
       return std::to_string(c.partition.value);
     });
   }},
  {"chain_epochs", bigint_array_type,
   [](const batch_rows& r) {
     return chains_array(
       r, [](const chain_advance& c) { return std::to_string(c.epoch); });
   }},
  {"chain_after_pseqs", bigint_array_type,
   [](const batch_rows& r) {
     return chains_array(r, [](const chain_advance& c) {
       return std::to_string(c.before.seq);
     });
   }},
  {"chain_after_hashes", text_array_type,
   [](const batch_rows& r) {
     return chains_array(r,
                         [](const chain_advance& c) { return c.before.hash; });
   }},
  {"chain_to_pseqs", bigint_array_type,
   [](const batch_rows& r) {
     return chains_array(r, [](const chain_advance& c) {
       return std::to_string(c.after.seq);
     });
   }},
  {"chain_to_hashes", text_array_type,
   [](const batch_rows& r) {
     return chains_array(r,
                         [](const chain_advance& c) { return c.after.hash; });
   }},
};

// The batch's result: whether every update found its expected version
// (hitl_all_written), decision_id -> new version of each, and whether each
// partition's chain ended where the batch was sealed and the node still
// holds the partitions it writes to, which moves the chains' heads
// (hitl_advance_chains). A guard that fails raises, and the statement
// writes nothing.
constexpr std::string_view advance_chains = R"(
         hitl_advance_chains({fence_node}, {chain_partitions}, {chain_epochs},
           {chain_after_pseqs}, {chain_after_hashes}, {chain_to_pseqs},
           {chain_to_hashes}))";
constexpr std::string_view result_with_updates = R"(
  SELECT hitl_all_written((SELECT count(*) FROM upd), {updates_expected}),
         (SELECT coalesce(json_agg(json_build_array(decision_id, version)),
                          '[]')
          FROM upd)::text,)";
constexpr std::string_view result_without_updates = R"(
  SELECT true, '[]'::text,)";

// `sql` with each `{name}` replaced by `by`.
std::string with_param(std::string sql, std::string_view name,
                       std::string_view by) {
  auto token = "{" + std::string{name} + "}";
  for (auto at = sql.find(token); at != std::string::npos;
       at = sql.find(token, at + by.size()))
    sql.replace(at, token.size(), by);
  return sql;
}

std::string param_ref(size_t index) {
  return "$" + std::to_string(index + 1);
}

// `{rows}` in kind `kind`'s statement, as its parameter of the batch.
std::string rows_param(size_t kind) {
  return param_ref(kind) + "::" + json_type.name;
}

} // namespace

const batch_parts batch_parts_all = part_of(kind_count) - 1;

// The batch as one statement, so that in autocommit it is one round trip
// and its own transaction. Two guards are checked inside it, and either
// undoes every part of the statement: hitl_all_written, that each update
// found its expected version; hitl_advance_chains, that each partition's
// chain ends where the batch's entries were sealed and is still the node's.
//
// Only the kinds in `parts` are in it: an empty part is not free. It opens
// its table and every index of it, and an UPDATE of no rows still runs its
// statement-level trigger (the open counts' PL/pgSQL): about 60 µs of the
// single writer's time per batch of creations.
batch_statement batch_statement_for(batch_parts parts) {
  if (parts > batch_parts_all)
    throw std::logic_error("no batch of parts " + std::to_string(parts));
  batch_statement s;
  s.name = "batch_write_" + std::to_string(parts);
  std::string ctes;
  for (size_t k = 0; k < kind_count; ++k) {
    s.param_types.push_back(json_type.oid);
    if ((parts & part_of(k)) == 0)
      continue;
    ctes += ctes.empty() ? "WITH " : ", ";
    ctes += row_kinds[k].cte;
    ctes += " AS (";
    ctes += with_param(row_kinds[k].sql(), "rows", rows_param(k));
    ctes += ")";
  }
  static_assert(std::string_view{row_kinds[0].cte} == "upd",
                "the result reads the updates' CTE");
  auto result = std::string{(parts & part_of(0)) != 0 ? result_with_updates
                                                      : result_without_updates}
                + std::string{advance_chains};
  for (size_t i = 0; i < std::size(tail); ++i) {
    result = with_param(result, tail[i].name,
                        param_ref(kind_count + i) + "::" + tail[i].type.name);
    s.param_types.push_back(tail[i].type.oid);
  }
  s.text = ctes + result;
  return s;
}

std::vector<const char*> batch_call::pointers() const {
  std::vector<const char*> out;
  out.reserve(values.size());
  for (const auto& v : values)
    out.push_back(v ? v->c_str() : nullptr);
  return out;
}

batch_call batch_call_for(const batch_rows& rows) {
  batch_call c;
  c.values.reserve(kind_count + std::size(tail));
  for (size_t k = 0; k < kind_count; ++k) {
    if (!row_kinds[k].empty(rows))
      c.parts |= part_of(k);
    c.values.emplace_back(row_kinds[k].rows(rows));
  }
  for (const auto& p : tail)
    c.values.push_back(p.value(rows));
  return c;
}

// The batch statements that run through libpqxx: those that write one kind
// alone, for the writes made in steps, and the whole batch.
const std::vector<prepared_sql>& batch_statements() {
  static const std::vector<prepared_sql> all = [] {
    std::vector<prepared_sql> out;
    for (const auto& k : row_kinds)
      if (k.alone)
        out.push_back({k.alone, with_param(k.sql(), "rows", "$1::json")});
    out.push_back({batch_write, batch_statement_for(batch_parts_all).text});
    return out;
  }();
  return all;
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

std::optional<std::unordered_map<std::string, int64_t>>
write_batch(pqxx::transaction_base& txn, const batch_rows& rows) {
  auto call = batch_call_for(rows);
  pqxx::result r;
  try {
    r = txn.exec_prepared(batch_write,
                          pqxx::prepare::make_dynamic_params(call.pointers()));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "HT409")
      return std::nullopt;
    if (e.sqlstate() == "HT412")
      throw chain_moved(e.what());
    if (e.sqlstate() == "HT410")
      throw partition_fenced(e.what());
    throw;
  }
  return parse_written_versions(r[0][1].c_str());
}

} // namespace hitl
