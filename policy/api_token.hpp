#pragma once

// An API token as the service knows it: what the database stores of it and
// the pure rules about it. Here, below persistence/, because the HTTP edge
// caches and checks these values without touching the database's code.

#include "policy/role.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

/// What the database knows of a token; never the token itself.
struct token_info {
  int64_t id = 0;
  std::string name;
  hitl::role role = role::reviewer;
  timestamp created_at;
  std::optional<timestamp> revoked_at;
  std::optional<timestamp> last_used_at;
  /// When it stops working; never when absent.
  std::optional<timestamp> expires_at;
  /// SHA-256 of the token, compared in constant time by the HTTP edge.
  std::string token_hash;
};

/// Whether `t` has expired at `at`.
inline bool expired(const token_info& t, timestamp at) {
  return t.expires_at && *t.expires_at <= at;
}

/// What `hitl token list` shows: a token retired because it expired counts
/// as expired, not revoked.
enum class token_state { active, revoked, expired };
token_state state_of(const token_info& t, timestamp at);
std::string_view to_string(token_state s);

/// Lowercase hex SHA-256 of a token: what the table stores and lookups use.
std::string hash_token(std::string_view token);

} // namespace hitl
