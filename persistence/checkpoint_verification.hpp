#pragma once

// The database's chain against signed checkpoints kept elsewhere (SPEC
// §11): a chain re-sealed from any point, or cut short, contradicts a
// checkpoint signed before, however well it verifies on its own.

#include "persistence/fwd.hpp"
#include "policy/audit_checkpoint.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// A checkpoint and where it came from, for messages
/// (`checkpoints.jsonl line 3`, `hitl_audit_checkpoints id 7`).
struct sourced_checkpoint {
  std::string where;
  audit_checkpoint checkpoint;
};

struct checkpoint_contradiction {
  std::string where;
  int64_t seq = 0;
  /// What differs, e.g. `hash differs: the checkpoint says 5f0c…, the
  /// chain has 9a1b…`.
  std::string message;
};

struct checkpoint_check {
  /// Checkpoints that the chain confirmed.
  int64_t confirmed = 0;
  /// The contradicted checkpoint of the lowest seq, if any.
  std::optional<checkpoint_contradiction> first_contradiction;
  /// Contradicted checkpoints in all.
  int64_t contradicted = 0;
};

/// Walks the chains in seq order (one snapshot, in pages) and checks at each
/// head a checkpoint names (its seq for one of the single chain, each
/// partition's pseq and the prefix's end for one with heads) that an entry
/// is there with the checkpoint's hash, and that the chains verify up to
/// it. Signatures are the caller's to check first. Throws db_error.
checkpoint_check check_chain_against(connection_pool& pool,
                                     std::vector<sourced_checkpoint> points);

/// Every checkpoint of hitl_audit_checkpoints, in id order.
std::vector<sourced_checkpoint> read_stored_checkpoints(connection_pool& pool);

} // namespace hitl
