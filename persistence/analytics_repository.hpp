#pragma once

#include "persistence/fwd.hpp"
#include "policy/decision_summary.hpp"
#include "policy/timestamp.hpp"

#include <optional>

namespace hitl {

decision_summary read_decision_summary(pqxx::transaction_base& txn,
                                       std::optional<timestamp> since,
                                       std::optional<timestamp> until);

/// The open decisions (pending or escalated) of the whole system, from the
/// counts the triggers of schema 005 keep: a few rows, however many
/// decisions there are.
int64_t count_open_decisions(pqxx::transaction_base& txn);

} // namespace hitl
