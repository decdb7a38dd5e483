#pragma once

// Set-based writes for the auditor's group commit: one statement per table
// per batch, whatever the batch size, or all of them as one statement
// (write_batch), so that a batch costs one round trip instead of several per
// change. Rows travel as one JSON array per table, read with
// json_to_recordset (json, not jsonb: parsing the text once is cheaper than
// building a jsonb value only to take it apart).

#include "persistence/fwd.hpp"
#include "persistence/sql_statement.hpp"
#include "policy/audit_chain.hpp"
#include "policy/decision.hpp"
#include "policy/partition.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hitl {

/// Inserts new decisions. Throws db_error{conflict} when any id exists or a
/// patch already has an open decision (the whole statement fails).
void insert_decisions(pqxx::transaction_base& txn,
                      const std::vector<const decision_record*>& rows);

struct decision_update {
  const decision_record* after;
  int64_t expected_version;
};

/// Writes the mutable fields of each decision whose stored version still is
/// the expected one; returns decision_id -> new version for those written.
/// The others changed meanwhile and are left alone.
std::unordered_map<std::string, int64_t>
update_decisions(pqxx::transaction_base& txn,
                 const std::vector<decision_update>& rows);

/// Appends sealed audit entries.
void append_audit_entries(pqxx::transaction_base& txn,
                          const std::vector<audit_entry>& entries);

struct new_approval {
  const std::string* decision_id;
  const approval* given;
};

struct outbox_row {
  std::string event;
  std::string decision_id;
  std::string target_url;
  std::string payload_json;
};

/// The partitions a batch writes to, at the epochs the node holds them: the
/// batch writes nothing unless they are all still its own (hitl_fence).
struct batch_fence {
  std::string node_id;
  std::vector<partition_lease> leases;
};

/// Every row a batch writes, for write_batch.
struct batch_rows {
  std::vector<const decision_record*> inserts;
  std::vector<decision_update> updates;
  std::vector<new_approval> approvals;
  std::vector<audit_entry> entries;
  std::vector<outbox_row> outbox;
  /// None: a writer that is no cluster member (tests, tools).
  std::optional<batch_fence> fence;
};

/// Writes all of `rows` in one statement: run it in autocommit and it is one
/// round trip and one transaction. Returns decision_id -> new version of the
/// updates; std::nullopt, with nothing written, when any update found its
/// decision at another version than expected (the audit entries were sealed
/// for a write that did not happen). Throws what the separate statements
/// above throw; a reviewer approving twice is a conflict too; and
/// partition_fenced when the fence refused it.
std::optional<std::unordered_map<std::string, int64_t>>
write_batch(pqxx::transaction_base& txn, const batch_rows& rows);

/// The statements above, for every pool connection to prepare.
const std::vector<prepared_sql>& batch_statements();

// -- for the pipelined writer ---------------------------------------------------

/// Which kinds of rows a batch has, one bit per kind (batch_writes.cpp
/// lists the kinds); a batch with all of them is batch_parts_all.
using batch_parts = unsigned;
extern const batch_parts batch_parts_all;

/// The batch statement for the kinds of rows in `parts`: a row array
/// parameter per kind (those of kinds not in `parts` are in the list but not
/// read, so their types must be given), then the number of updates, the
/// seq and hash after which the batch's first audit entry was sealed (NULL
/// without entries), and the fence: node, partitions and epochs (NULL
/// without one).
struct batch_statement {
  std::string name; // batch_write_<parts>
  std::string text;
  std::vector<unsigned> param_types; // OIDs, one per parameter
};
batch_statement batch_statement_for(batch_parts parts);

/// A batch's statement and parameter values.
struct batch_call {
  batch_parts parts = 0; // the kinds of rows that the batch has
  std::vector<std::optional<std::string>> values; // std::nullopt is NULL

  /// The values as libpq takes them, null pointers for NULL; valid while
  /// this call is.
  std::vector<const char*> pointers() const;
};
batch_call batch_call_for(const batch_rows& rows);

/// The statement's second column: decision_id -> new version of the updates.
std::unordered_map<std::string, int64_t>
parse_written_versions(const char* json_text);

} // namespace hitl
