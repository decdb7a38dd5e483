#pragma once

// `hitl audit export` (and GET /hitl/audit/export): the audit chain, or a
// time slice of it, with its hashes and the checkpoints that cover it,
// written a page at a time to a sink, never held whole.

#include "persistence/fwd.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace hitl {

/// Writes the export in one snapshot, to `sink` in chunks of a page of
/// entries (lines end with "\n"). JSONL: the entries, then the checkpoints
/// whose seq falls within the exported entries, in seq order. CSV: a
/// header and the entries. Throws db_error, and whatever `sink` throws.
export_summary write_audit_export(
  connection_pool& pool, const export_range& range, export_format format,
  const std::function<void(std::string_view)>& sink);

} // namespace hitl
