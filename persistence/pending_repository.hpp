#pragma once

#include "persistence/fwd.hpp"
#include "policy/pending_queue.hpp"

namespace hitl {

/// One page of open decisions, by keyset pagination: stable while the queue
/// changes, and as fast on page 100 as on page 1. The page and its total are
/// one statement, so `txn` need not be a snapshot.
pending_page list_pending(pqxx::transaction_base& txn,
                          const pending_filter& f);

/// The cursor that continues after `d` in `sort` order.
pending_cursor cursor_after(const pending_item& d, pending_sort sort);

} // namespace hitl
