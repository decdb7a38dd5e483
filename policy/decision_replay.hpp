#pragma once

// The audit chain vouches for the decisions table (SPEC §11): each
// decision's entries are replayed through the lifecycle (lifecycle.hpp,
// approval_rule.hpp) to the state they prove, and that state is compared
// with the decision's stored row. A verdict flipped by a bare UPDATE, an
// approval deleted, a level or a version changed: each is a mismatch that
// names the decision and the field.
//
// Pure and streaming: rows and entries come in decision order, one decision
// at a time, so memory does not grow with the number of decisions.

#include "policy/audit_chain.hpp"
#include "policy/decision.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// What the tables say about one decision: its hitl_decisions row and its
/// hitl_approvals rows.
struct stored_decision {
  std::string decision_id;
  decision_status status = decision_status::pending;
  std::optional<std::string> decided_by;
  /// Reviewers in the order they approved.
  std::vector<std::string> approvals;
  int approvals_required = 1;
  int escalation_level = 0;
  int64_t version = 1;
  std::string created_by;
};

/// One disagreement between the tables and the chain.
struct decision_mismatch {
  std::string decision_id;
  /// A column (decision, decided_by, approvals, approvals_required,
  /// escalation_level, version, created_by), or `row` (entries for a
  /// decision that has no row), `entries` (a row that no entry created),
  /// `lifecycle` (entries that the lifecycle itself refuses).
  std::string field;
  /// The values as text, e.g. `'approved'`, `null`, `[alice, bob]`, `3`;
  /// empty where the field has none (row, entries, lifecycle).
  std::string in_table;
  std::string in_chain;
  /// One line for people: `decision dec-42: decision is 'approved' in
  /// hitl_decisions but the audit chain says 'pending'`.
  std::string message;
};

/// Replays one decision's entries, fed in seq order.
class decision_replay {
public:
  explicit decision_replay(std::string decision_id);

  /// The next entry of this decision. After the first entry that the
  /// lifecycle refuses, the rest are counted but not replayed.
  void feed(const audit_entry& entry);

  const std::string& decision_id() const {
    return decision_id_;
  }

  /// Entries fed so far.
  int64_t entries() const {
    return entries_;
  }

  /// The first entry that the lifecycle refuses, as a `lifecycle` mismatch.
  const std::optional<decision_mismatch>& violation() const {
    return violation_;
  }

  /// The mismatches between `row` and the replayed state, one per field;
  /// only the violation when there is one (the fields would follow from it).
  std::vector<decision_mismatch> compare(const stored_decision& row) const;

private:
  void refuse(const audit_entry& entry, const std::string& why);
  void replay(const audit_entry& entry);

  std::string decision_id_;
  int64_t entries_ = 0;
  /// The state proven so far; none before the `created` entry.
  std::optional<decision_record> state_;
  int64_t version_ = 0;
  std::optional<decision_mismatch> violation_;
};

/// Matches rows with entries and replays every decision.
class decision_cross_check {
public:
  using next_row = std::function<std::optional<stored_decision>()>;
  /// Entries ordered by decision_id, then seq.
  using next_entry = std::function<std::optional<audit_entry>()>;

  /// Keeps the first `keep` mismatches and counts them all.
  explicit decision_cross_check(size_t keep = 100);

  /// Pulls every row and every entry. Rows and entries must come in the
  /// same order of decision_id: byte order (COLLATE "C").
  void run(const next_row& rows, const next_entry& entries);

  /// Rows checked.
  int64_t decisions() const {
    return decisions_;
  }

  int64_t mismatch_count() const {
    return mismatch_count_;
  }

  /// The first mismatches, in decision order.
  const std::vector<decision_mismatch>& mismatches() const {
    return kept_;
  }

private:
  void add(decision_mismatch m);

  size_t keep_;
  int64_t decisions_ = 0;
  int64_t mismatch_count_ = 0;
  std::vector<decision_mismatch> kept_;
};

} // namespace hitl
