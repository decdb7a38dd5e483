#pragma once

#include "persistence/fwd.hpp"

namespace hitl {

class decision_cross_check;

/// Feeds `check` every decision (its row and approvals) and every audit
/// entry, both in decision order, through two cursors a slice at a time, so
/// that memory stays bounded however many decisions there are. Run it in
/// the snapshot of the chain walk (a repeatable read), where every committed
/// change has its entry. Throws pqxx exceptions (the caller translates).
void read_decisions_against_chain(pqxx::transaction_base& txn,
                                  decision_cross_check& check);

} // namespace hitl
