#pragma once

#include "persistence/fwd.hpp"
#include "policy/role.hpp"
#include "policy/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// What the database knows of a token; never the token itself.
struct token_info {
  int64_t id = 0;
  std::string name;
  hitl::role role = role::reviewer;
  timestamp created_at;
  std::optional<timestamp> revoked_at;
  std::optional<timestamp> last_used_at;
  /// SHA-256 of the token, compared in constant time by the HTTP edge.
  std::string token_hash;
};

/// A fresh bearer token: "hitl_" and 256 random bits, base64url.
std::string generate_token();

/// Lowercase hex SHA-256 of a token: what the table stores and lookups use.
std::string hash_token(std::string_view token);

/// Stores the hash of a new token. Throws db_error{conflict} when `name`
/// already has an active token.
void insert_token(pqxx::transaction_base& txn, const std::string& name,
                  role r, const std::string& token_hash);

/// All tokens, active first, newest first.
std::vector<token_info> list_tokens(pqxx::transaction_base& txn);

/// Revokes the active token of `name`; false when there was none.
bool revoke_token(pqxx::transaction_base& txn, const std::string& name);

/// The active token with this hash, if any.
std::optional<token_info> find_active_token(pqxx::transaction_base& txn,
                                            const std::string& token_hash);

/// Records that a token was used (at most once a minute per token).
void touch_token(pqxx::transaction_base& txn, int64_t id);

void prepare_token_statements(pqxx::connection_base& conn);

} // namespace hitl
