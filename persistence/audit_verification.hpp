#pragma once

#include "persistence/fwd.hpp"
#include "policy/audit_chain.hpp"
#include "persistence/token_trail.hpp"
#include "policy/decision_replay.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace hitl {

/// How many mismatches a report lists; it counts them all.
inline constexpr size_t max_reported_mismatches = 100;

struct verification_report {
  int64_t checked = 0;
  std::optional<chain_break> first_break;
  std::string head_hash;
  /// Decisions whose rows were compared with what their entries prove.
  int64_t decisions_checked = 0;
  int64_t mismatch_count = 0;
  /// The first `max_reported_mismatches`, in decision order.
  std::vector<decision_mismatch> mismatches;
  /// The tokens' rows against their lifecycle entries (at most
  /// `max_reported_mismatches` named).
  token_check tokens;

  /// The chain holds and every decision's and token's row agrees with it.
  bool intact() const {
    return !first_break && mismatch_count == 0
           && tokens.mismatch_count == 0;
  }
};

/// Walks the whole audit chain in seq order, in pages, and names the first
/// entry that was altered, removed, inserted or reordered; then replays
/// every decision's entries and compares the result with its row (SPEC
/// §11), and names every token row with no `token_created` entry and every
/// revoked one with no `token_revoked` entry. One snapshot for all. Throws
/// db_error.
verification_report verify_audit_trail(connection_pool& pool);

} // namespace hitl
