#pragma once

#include "persistence/fwd.hpp"
#include "policy/api_token.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// A fresh bearer token: "hitl_" and 256 random bits, base64url.
std::string generate_token();

/// Stores the hash of a new token, valid for `lifetime` from now (the
/// database's clock) or for ever. Throws db_error{conflict} when `name`
/// already has an active token.
/// Returns the new row.
token_info insert_token(pqxx::transaction_base& txn, const std::string& name,
                        role r, const std::string& token_hash,
                        std::optional<duration> lifetime = std::nullopt);

/// Revokes the token of `name` if it has expired, so that the name may be
/// issued again (the unique index cannot see expiry); false when there was
/// none.
bool retire_expired_token(pqxx::transaction_base& txn,
                          const std::string& name);

/// All tokens, active first, newest first.
std::vector<token_info> list_tokens(pqxx::transaction_base& txn);

/// The tokens that are neither revoked nor expired.
std::vector<token_info> list_active_tokens(pqxx::transaction_base& txn);

/// Revokes the active (unexpired) token of `name`; false when there was
/// none.
bool revoke_token(pqxx::transaction_base& txn, const std::string& name);

/// The active (neither revoked nor expired) token with this hash, if any.
std::optional<token_info> find_active_token(pqxx::transaction_base& txn,
                                            const std::string& token_hash);

/// The token with this id, revoked, expired or not.
std::optional<token_info> find_token(pqxx::transaction_base& txn, int64_t id);

/// The token of `name` that `revoke_token` would revoke, if any.
std::optional<token_info> find_active_token_of(pqxx::transaction_base& txn,
                                               const std::string& name);

/// The token of `name` that `retire_expired_token` would retire, if any.
std::optional<token_info> find_expired_token_of(pqxx::transaction_base& txn,
                                                const std::string& name);

/// Up to 100 tokens that ended by expiring (not revoked before their
/// expiry) and have no `token_expired` audit entry yet, oldest first.
std::vector<token_info> unrecorded_expiries(pqxx::transaction_base& txn);

/// Records that these tokens were used now, in one statement; a token's
/// last_used_at is written at most once a minute. Returns how many rows
/// changed.
size_t touch_tokens(pqxx::transaction_base& txn,
                    const std::vector<int64_t>& ids);

} // namespace hitl
