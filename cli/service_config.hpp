#pragma once

// The `--config FILE` of SPEC §7. Every key is optional; a key we do not know
// or a value of the wrong type stops the start, naming the key, because a
// silently ignored typo in a policy threshold is worse than no start.

#include "policy/policy_config.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// A config error; `what()` starts with the key path, as in
/// `sla_seconds.critical: expected a number or null`.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Event names a webhook may subscribe to, as on the WebSocket.
inline constexpr std::string_view webhook_events[] = {
  "decision.created",   "decision.auto_approved", "decision.approved",
  "decision.rejected",  "decision.cancelled",     "decision.escalated",
  "comment.added",
};

struct webhook_subscription {
  /// Starts with `http://` or `https://`.
  std::string url;
  /// Subset of `webhook_events`; all of them when the config omits the key.
  std::vector<std::string> events;
  /// HMAC key of `X-HITL-Signature`; empty when the config omits it.
  std::string secret;
};

struct service_config {
  policy_config policy;
  std::vector<webhook_subscription> webhooks;
  std::vector<std::string> cors_origins;
  size_t max_body_bytes = 1048576;
};

/// Reads a parsed config document.
/// @throws config_error naming the first offending key.
service_config parse_service_config(const nlohmann::json& doc);

/// Reads and parses the file at `path`: the only I/O of the policy code.
/// @throws config_error if the file is unreadable, not JSON or invalid.
service_config load_service_config(const std::string& path);

} // namespace hitl
