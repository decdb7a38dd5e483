#pragma once

// Who asks: a bearer token, checked against the token cache or the
// database, and the role's right to the operation (http/access_policy.hpp).

#include "actors/messages.hpp"
#include "http/access_policy.hpp"
#include "http/exchange.hpp"

#include <functional>
#include <optional>
#include <string>

namespace hitl {

/// The token of an Authorization header's Bearer scheme.
std::optional<std::string>
bearer_token(const std::optional<std::string>& authorization);

/// Authenticates and authorizes, then continues with the caller. The answer
/// is 401 without a valid token and 403 when the role may not `op`; 429
/// when the client's address presented too many bad tokens lately (SPEC
/// §10), decided before anything asks the database. A request without a
/// token costs no lookup, so it is not counted.
void authorize(const exchange_ptr& ex, operation op,
               std::function<void(caller)> next);

} // namespace hitl
