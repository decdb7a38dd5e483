#pragma once

#include "persistence/fwd.hpp"
#include "policy/decision.hpp"

#include <string>
#include <vector>

namespace hitl {

/// Stores a comment and returns its id.
int64_t insert_comment(pqxx::transaction_base& txn, const comment& c);

/// Comments on one decision, oldest first.
std::vector<comment> list_comments(pqxx::transaction_base& txn,
                                   const std::string& decision_id);

/// Records one reviewer's approval towards the quorum. Throws
/// db_error{conflict} when that reviewer already approved.
void insert_approval(pqxx::transaction_base& txn,
                     const std::string& decision_id, const approval& a);

} // namespace hitl
