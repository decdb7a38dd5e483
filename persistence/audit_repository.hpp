#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_chain.hpp"
#include "policy/audit_filter.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// Appends one sealed entry. The table's triggers refuse any later change.
void append_audit_entry(pqxx::transaction_base& txn, const audit_entry& e);

/// The current head, or the genesis head for an empty trail.
chain_head read_chain_head(pqxx::transaction_base& txn);

/// Up to `limit` entries with seq > after_seq, in seq order (for verify).
std::vector<audit_entry> read_audit_entries(pqxx::transaction_base& txn,
                                            int64_t after_seq, int limit);

/// Entries matching `f` in seq order, at most f.limit + 1 (the extra one
/// tells the caller that another page follows).
std::vector<audit_entry> query_audit(pqxx::transaction_base& txn,
                                     const audit_filter& f);

} // namespace hitl
