#pragma once

// What `audit verify` finds (SPEC §11): plain values, below persistence/,
// which walks the chain, and http/ and cli/, which report it.

#include "policy/audit_chain.hpp"
#include "policy/decision_replay.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// A token row that the chain does not account for.
struct token_mismatch {
  int64_t token_id = 0;
  std::string name;
  std::string message;
};

/// What verify finds of the tokens against the chain: rows with no
/// `token_created` entry (inserted by hand), revoked rows with no
/// `token_revoked` entry. Tokens created before the chain recorded tokens
/// (migration 017) are counted, not named.
struct token_check {
  int64_t tokens_checked = 0;
  int64_t issued_before_trail = 0;
  int64_t mismatch_count = 0;
  std::vector<token_mismatch> mismatches; // the first `limit`
};

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

} // namespace hitl
