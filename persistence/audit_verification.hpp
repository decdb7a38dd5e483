#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_chain.hpp"

#include <optional>

namespace hitl {

struct verification_report {
  int64_t checked = 0;
  std::optional<chain_break> first_break;
  std::string head_hash;
};

/// Walks the whole audit chain in seq order, in pages, and names the first
/// entry that was altered, removed, inserted or reordered. Throws db_error.
verification_report verify_audit_trail(connection_pool& pool);

} // namespace hitl
