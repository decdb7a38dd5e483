#pragma once

#include "persistence/fwd.hpp"
#include "policy/verification_report.hpp"

namespace hitl {

/// Walks the whole audit chain in seq order, in pages, and names the first
/// entry that was altered, removed, inserted or reordered; then replays
/// every decision's entries and compares the result with its row (SPEC
/// §11), and names every token row with no `token_created` entry and every
/// revoked one with no `token_revoked` entry. One snapshot for all. Throws
/// db_error.
verification_report verify_audit_trail(connection_pool& pool);

} // namespace hitl
