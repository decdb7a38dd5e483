#pragma once

// The lines of an audit export (SPEC §11; the format is documented in
// persistence/README.md for receivers who write their own verifier).
// JSONL: one object a line, `"type":"entry"` with every field of the entry
// (its hashes included), then `"type":"checkpoint"` lines. CSV: entries only.

#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

enum class export_format { jsonl, csv };

struct export_range {
  /// Entries from the first whose timestamp is at or after `since`, to the
  /// last whose timestamp is before `until`, and every entry between them
  /// (a run of seq, so that in each chain it is a run of places whose
  /// links can be checked).
  std::optional<timestamp> since;
  std::optional<timestamp> until;
};

struct export_summary {
  int64_t entries = 0;
  int64_t checkpoints = 0;
};

/// `{"action":…,"decision_id":…,"details":{…},"hash":…,"ip_address":…,
/// "performed_by":…,"prev_hash":…,"seq":…,"timestamp":…,"type":"entry",
/// "user_agent":…}`, compact, keys sorted; no newline. An entry of a
/// partition's chain also has "epoch", "partition" and "pseq".
std::string export_entry_line(const audit_entry& e);

/// A checkpoint line (`to_json_line`) with `"type":"checkpoint"`.
std::string export_checkpoint_line(const audit_checkpoint& c);

/// The CSV header row and one entry's row (RFC 4180, CRLF-free: fields
/// with a comma, quote or line break are quoted, quotes doubled; null is
/// an empty field). Columns: seq, timestamp, decision_id, action,
/// performed_by, details (canonical JSON), ip_address, user_agent,
/// prev_hash, hash, partition, pseq, epoch (the last three empty for an
/// entry of the common prefix).
std::string export_csv_header();
std::string export_csv_row(const audit_entry& e);

/// An entry line read back. The error names what is wrong.
struct parsed_entry {
  std::optional<audit_entry> entry;
  std::string error;
};
parsed_entry parse_export_entry(std::string_view line);

} // namespace hitl
