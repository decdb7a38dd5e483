#include "policy/api_token.hpp"

#include "policy/sha256.hpp"

namespace hitl {

token_state state_of(const token_info& t, timestamp at) {
  // Retired at or after its expiry: it ended by expiring.
  if (expired(t, at) && (!t.revoked_at || *t.revoked_at >= *t.expires_at))
    return token_state::expired;
  return t.revoked_at ? token_state::revoked : token_state::active;
}

std::string_view to_string(token_state s) {
  switch (s) {
    case token_state::active:
      return "active";
    case token_state::revoked:
      return "revoked";
    case token_state::expired:
      return "expired";
  }
  return "?";
}

std::string hash_token(std::string_view token) {
  return sha256_hex(token);
}

} // namespace hitl
