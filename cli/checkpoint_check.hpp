#pragma once

// `hitl audit verify --public-key PEM [--checkpoints FILE]`: the signed
// checkpoints of the file and of the database's own table against the
// database's chain.

#include "cli/commands.hpp"
#include "persistence/fwd.hpp"

namespace hitl {

enum class checkpoint_verdict {
  /// Every checkpoint is signed by the key and the chain confirms it.
  hold,
  /// A checkpoint's signature, key or form is wrong (it says nothing).
  unsigned_lines,
  /// A well-signed checkpoint disagrees with the chain.
  contradicted,
};

/// Prints one line per finding on stdout, the first contradicted checkpoint
/// named. @throws signature_error when the public key cannot be read,
/// checkpoint_file_error when the file cannot, db_error.
checkpoint_verdict check_checkpoints(connection_pool& pool,
                                     const audit_verify_options& opts);

} // namespace hitl
