#include "persistence/decision_chain_reader.hpp"

#include "persistence/decision_chain_sql.hpp"
#include "persistence/decision_columns.hpp"
#include "policy/decision_replay.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace hitl {

namespace {

// Pulls the rows of a cursor one by one, fetching a slice when the last is
// used up: libpq holds a whole result in memory.
class cursor_rows {
public:
  cursor_rows(pqxx::transaction_base& txn, const char* fetch)
    : txn_(txn), fetch_(fetch) {
    // nop
  }

  /// Moves to the next row; false after the last.
  bool next() {
    if (done_)
      return false;
    if (at_ == slice_.size()) {
      slice_ = txn_.exec_prepared(fetch_);
      ++slices_;
      at_ = 0;
      if (slice_.empty()) {
        done_ = true;
        return false;
      }
    }
    ++at_;
    return true;
  }

  pqxx::row row() const {
    return slice_[static_cast<pqxx::result::size_type>(at_ - 1)];
  }

  /// The slice the current row is in, and how many were fetched so far.
  const pqxx::result& slice() const {
    return slice_;
  }
  size_t slices() const {
    return slices_;
  }

private:
  pqxx::transaction_base& txn_;
  const char* fetch_;
  pqxx::result slice_;
  size_t at_ = 0;
  size_t slices_ = 0;
  bool done_ = false;
};

// The columns of a slice of decisions, found by name once per slice.
struct stored_fields {
  explicit stored_fields(const pqxx::result& r)
    : decision(r), reviewers(r.column_number("reviewers")) {
    // nop
  }
  decision_fields decision;
  pqxx::row::size_type reviewers;
};

stored_decision read_stored(const pqxx::row& r, const stored_fields& at) {
  using c = decision_col;
  const auto& f = at.decision;
  stored_decision d;
  d.decision_id = f(r, c::decision_id).as<std::string>();
  // A state outside the domain cannot be stored; were the domain dropped,
  // it shows as pending and differs from the chain.
  d.status = parse_decision_status(f(r, c::decision).c_str())
               .value_or(decision_status::pending);
  if (!f(r, c::decided_by).is_null())
    d.decided_by = f(r, c::decided_by).as<std::string>();
  if (!r[at.reviewers].is_null())
    d.approvals = nlohmann::json::parse(r[at.reviewers].c_str())
                    .get<std::vector<std::string>>();
  d.approvals_required = f(r, c::approvals_required).as<int>();
  d.escalation_level = f(r, c::escalation_level).as<int>();
  d.version = f(r, c::version).as<int64_t>();
  d.created_by = f(r, c::created_by).as<std::string>();
  return d;
}

audit_entry read_replayed(const pqxx::row& r) {
  audit_entry e;
  e.decision_id = r[0].as<std::string>();
  e.seq = r[1].as<int64_t>();
  // An action outside the domain reads as a second `created`, which the
  // replay refuses.
  e.action = parse_audit_action(r[2].c_str()).value_or(audit_action::created);
  e.performed_by = r[3].as<std::string>();
  e.at = from_micros(r[4].as<int64_t>());
  e.details_json = r[5].as<std::string>();
  return e;
}

} // namespace

void read_decisions_against_chain(pqxx::transaction_base& txn,
                                  decision_cross_check& check) {
  txn.exec_prepared(sql::chain_check_rows_cursor.name);
  txn.exec_prepared(sql::chain_check_entries_cursor.name);
  cursor_rows rows{txn, sql::chain_check_rows_fetch.name};
  cursor_rows entries{txn, sql::chain_check_entries_fetch.name};
  std::optional<stored_fields> fields;
  size_t fields_of = 0; // the slice they were found in
  check.run(
    [&]() -> std::optional<stored_decision> {
      if (!rows.next())
        return std::nullopt;
      if (!fields || fields_of != rows.slices()) {
        fields.emplace(rows.slice());
        fields_of = rows.slices();
      }
      return read_stored(rows.row(), *fields);
    },
    [&]() -> std::optional<audit_entry> {
      if (entries.next())
        return read_replayed(entries.row());
      return std::nullopt;
    });
  txn.exec_prepared(sql::chain_check_rows_close.name);
  txn.exec_prepared(sql::chain_check_entries_close.name);
}

} // namespace hitl
