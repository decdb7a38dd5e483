#pragma once

// The cluster feed's read (SPEC §8, "Reads across nodes"): the audit
// entries committed after the positions a node has seen.

#include "persistence/fwd.hpp"
#include "policy/audit_feed.hpp"

#include <cstddef>

namespace hitl {

/// Every partition's head, and at most `limit` entries after `r.known`
/// (one position per partition, -1: head only), with the current records
/// of the decisions they name if `r.records`. Run it in one snapshot
/// (connection_pool::read).
feed_page read_feed(pqxx::transaction_base& txn, const feed_request& r,
                    size_t limit);

} // namespace hitl
