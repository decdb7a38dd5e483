#pragma once

// `hitl audit verify --file EXPORT --public-key PEM`: an audit export
// checked with no database (SPEC §11). Two passes over the file, so memory
// stays flat however long it is: the first reads the checkpoints (they come
// after the entries), the second walks the entries.

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

namespace hitl {

class verify_key;

struct export_fault {
  /// 1-based line of the export.
  size_t line = 0;
  std::string message;
};

struct export_report {
  int64_t entries = 0;
  int64_t checkpoints = 0;
  /// The fault of the lowest line, if any.
  std::optional<export_fault> first_fault;
};

/// Checks each entry's hash against its content (the chain's canonical
/// JSON), each link within its chain (the common prefix or its partition's:
/// prev_hash is the previous entry's hash, places are dense, seq grows; in
/// an export from seq 1 the prefix starts at the genesis hash and each
/// partition's chain where the prefix ends, otherwise each chain's first
/// entry is taken as its anchor), each checkpoint's signature with `key`,
/// and that the exported entry at each head a checkpoint names has its hash
/// (and, for a checkpoint of the single chain in an export from seq 1, that
/// as many entries lead up to it as its count).
/// `first_pass` and `second_pass` are two readings of the same file.
export_report verify_export(std::istream& first_pass,
                            std::istream& second_pass, const verify_key& key);

} // namespace hitl
