#pragma once

#include "persistence/fwd.hpp"
#include "policy/decision.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// Inserts a new decision (its approvals are stored separately). Throws
/// db_error{conflict} when the id exists or the patch already has an open
/// decision.
void insert_decision(pqxx::transaction_base& txn, const decision_record& d);

/// Writes the mutable fields of `d` (status, verdict, escalation) when the
/// stored version still equals `expected_version`; returns the new version,
/// or std::nullopt when someone else changed the row first.
std::optional<int64_t> update_decision_state(pqxx::transaction_base& txn,
                                             const decision_record& d,
                                             int64_t expected_version);

/// The decision with its approvals, or std::nullopt.
std::optional<decision_record> find_decision(pqxx::transaction_base& txn,
                                             const std::string& decision_id);

/// The decision with its approvals, its comments and its own audit entries
/// (as a JSON array, without IP address and user agent), in one statement.
std::optional<decision_record>
find_decision_with_comments(pqxx::transaction_base& txn,
                            const std::string& decision_id,
                            std::vector<comment>& comments,
                            std::string& audit_trail_json);

/// The newest decision of a patch, open or final.
std::optional<decision_record>
find_latest_decision_by_patch(pqxx::transaction_base& txn,
                              const std::string& patch_id);

/// Every open decision with its approvals, for recovery at start.
std::vector<decision_record> load_open_decisions(pqxx::transaction_base& txn);

/// The open decisions, with their approvals, whose patches fall in
/// `partitions` (policy/partition): what a node loads when it takes
/// partitions over.
std::vector<decision_record>
load_open_decisions_in(pqxx::transaction_base& txn,
                       const std::vector<int>& partitions);

} // namespace hitl
