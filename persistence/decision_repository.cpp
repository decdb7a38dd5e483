#include "persistence/decision_repository.hpp"

#include "persistence/batch_writes.hpp"
#include "persistence/decision_columns.hpp"
#include "persistence/sql_params.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <unordered_map>

namespace hitl {

namespace {

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

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
  conn.prepare("decision_by_id", std::string{"SELECT "} + decision_select_list()
                                   + " FROM hitl_decisions WHERE decision_id = $1");
  // The approvals' and comments' decision_id keep the database's default
  // collation while the decision's is "C" (schema 014): compared without
  // COLLATE, their indexes only filter and each detail read scans them whole.
  conn.prepare("decision_view", std::string{"SELECT "} + decision_select_list() + R"(,
    (SELECT coalesce(json_agg(json_build_array(a.reviewer,
              hitl_micros(a.approved_at), a.comment, a.token_id,
              hitl_micros(t."timestamp"), t.performed_by)
              ORDER BY a.approved_at, a.reviewer), '[]')
       FROM hitl_approvals a
       -- who issued the approver's token, by the index of 017
       LEFT JOIN hitl_audit_logs t
         ON t.decision_id IS NULL AND t.action = 'token_created'
            AND (t.details ->> 'token_id')::bigint = a.token_id
       WHERE a.decision_id = d.decision_id COLLATE "default")::text
      AS approvals_json,
    (SELECT coalesce(json_agg(json_build_array(comment_id, author, comment,
              hitl_micros(created_at)) ORDER BY created_at, comment_id), '[]')
       FROM hitl_comments c
       WHERE c.decision_id = d.decision_id COLLATE "default")::text
      AS comments_json,
    (SELECT coalesce(json_agg(json_build_object(
              'seq', seq, 'decision_id', decision_id, 'action', action,
              'performed_by', performed_by,
              'timestamp', to_char("timestamp" AT TIME ZONE 'UTC',
                                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              'details', details, 'prev_hash', prev_hash, 'hash', hash)
            ORDER BY seq), '[]')
       FROM hitl_audit_logs l WHERE l.decision_id = d.decision_id)::text
      AS audit_trail_json
    FROM hitl_decisions d WHERE decision_id = $1)");
  conn.prepare("decision_latest_by_patch",
               std::string{"SELECT "} + decision_select_list()
                 + " FROM hitl_decisions WHERE patch_id = $1"
                   " ORDER BY created_at DESC, decision_id DESC LIMIT 1");
  // Open decisions are read through a cursor, a slice at a time (see
  // load_open_decisions).
  conn.prepare("decisions_open_cursor",
               std::string{"DECLARE hitl_open_decisions NO SCROLL CURSOR FOR "
                           "SELECT "}
                 + decision_select_list()
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
  auto d = decision_fields{r}.record(r[0]);
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
  auto d = decision_fields{r}.record(row);
  audit_trail_json = row["audit_trail_json"].as<std::string>();
  auto approvals = nlohmann::json::parse(row["approvals_json"].c_str());
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
  for (const auto& c : nlohmann::json::parse(row["comments_json"].c_str()))
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
  auto d = decision_fields{r}.record(r[0]);
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
    decision_fields fields{rows};
    for (const auto& r : rows) {
      out.push_back(fields.record(r));
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
