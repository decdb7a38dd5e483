#pragma once

// A token's lifecycle in the audit chain (SPEC §11): `token_created`,
// `token_revoked` and `token_expired` entries, of no decision, each naming
// its token by id. The owner's CLI appends them in the transaction that
// changes the token's row; serve's auditor appends the expiries.

#include "persistence/fwd.hpp"
#include "persistence/token_repository.hpp"
#include "policy/audit_chain.hpp"
#include "policy/verification_report.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// Who performs an expiry: nobody, the clock.
inline constexpr const char* expiry_performer = "system:expiry";

/// The unsealed entry of `action` for `token`. `performed_by` is whoever
/// issued or revoked it; `db_user`, when known, is the PostgreSQL session
/// user that wrote the row.
audit_entry token_entry(audit_action action, const token_info& token,
                        const std::string& performed_by,
                        const std::optional<std::string>& db_user);

/// The partition whose chain holds a token's entries (they belong to no
/// patch): the partition of the text "token/<id>".
partition_id token_partition(int64_t token_id);

/// Appends `e`, an entry of token `token_id`, to its partition's chain. The
/// partition's row stays locked until `txn` ends: a batch of the auditor
/// waits for it, then finds the chain moved and seals again. Throws
/// db_error{conflict} when the token already has an entry of this action.
audit_entry append_token_entry(pqxx::transaction_base& txn, int64_t token_id,
                               audit_entry e);

/// Whether the token has an entry of `action`.
bool has_token_entry(pqxx::transaction_base& txn, int64_t token_id,
                     audit_action action);

/// The PostgreSQL session user of `txn`'s connection.
std::string session_user(pqxx::transaction_base& txn);

token_check check_tokens_against_chain(pqxx::transaction_base& txn,
                                       size_t limit);

} // namespace hitl
