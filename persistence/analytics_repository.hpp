#pragma once

#include "persistence/fwd.hpp"
#include "policy/decision_summary.hpp"
#include "policy/timestamp.hpp"

#include <optional>

namespace hitl {

decision_summary read_decision_summary(pqxx::transaction_base& txn,
                                       std::optional<timestamp> since,
                                       std::optional<timestamp> until);

} // namespace hitl
