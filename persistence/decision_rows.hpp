#pragma once

// Internal to persistence/: the SELECT list of a decision row and its
// mapping, shared by the repositories that read decisions.

#include "policy/decision.hpp"

#include <pqxx/row>

namespace hitl {

/// The columns read_decision expects, in order.
extern const char* const decision_columns;

decision_record read_decision(const pqxx::row& r);

} // namespace hitl
