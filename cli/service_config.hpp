#pragma once

// The `--config FILE` of SPEC §7. Every key is optional; a key we do not know
// or a value of the wrong type stops the start, naming the key, because a
// silently ignored typo in a policy threshold is worse than no start.

#include "http/edge_limits.hpp"
#include "policy/policy_config.hpp"

#include <nlohmann/json_fwd.hpp>

#include <algorithm>
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

/// Event names a webhook may subscribe to: those of the WebSocket, and
/// the signed checkpoints of the audit chain (SPEC §11).
inline constexpr std::string_view webhook_events[] = {
  "decision.created",   "decision.auto_approved", "decision.approved",
  "decision.rejected",  "decision.cancelled",     "decision.escalated",
  "comment.added",      "audit.checkpoint",
};

struct webhook_subscription {
  /// Starts with `http://` or `https://`.
  std::string url;
  /// Subset of `webhook_events`; all of them when the config omits the key.
  std::vector<std::string> events;
  /// HMAC key of `X-HITL-Signature`; empty when the config omits it.
  std::string secret;

  bool wants(const std::string& event) const {
    return std::find(events.begin(), events.end(), event) != events.end();
  }
};

/// How webhooks are delivered (beyond SPEC §7's keys; all optional).
struct delivery_settings {
  /// Attempts before a delivery is marked dead.
  int max_attempts = 8;
  /// Limit of one attempt, connection included.
  duration timeout = std::chrono::seconds(5);
  /// First retry delay; doubles each attempt, with jitter, up to max_backoff.
  duration initial_backoff = std::chrono::seconds(1);
  duration max_backoff = std::chrono::seconds(300);
};

/// Signed checkpoints of the audit chain (`audit` in the file, SPEC §11).
struct audit_settings {
  /// Path of the Ed25519 private key's PEM; empty: no checkpoints. Serve
  /// reads it at start and refuses to start when it cannot.
  std::string signing_key;
  /// A checkpoint is signed this often when the chain moved.
  duration checkpoint_interval = std::chrono::seconds(10);
  /// Also once this many entries were appended since the last one (0: no).
  int64_t checkpoint_entries = 0;
  /// Append-only JSON-lines file that gets each checkpoint too (optional).
  std::string checkpoint_file;
};

struct service_config {
  policy_config policy;
  std::vector<webhook_subscription> webhooks;
  delivery_settings notifications;
  /// Base of the links in notifications, e.g. `https://hitl.example.org`;
  /// empty means the --listen address.
  std::string public_url;
  std::vector<std::string> cors_origins;
  size_t max_body_bytes = 1048576;
  /// SPEC §10: the bounds of the HTTP edge (`limits` in the file).
  edge_limits limits;
  audit_settings audit;
};

/// Reads a parsed config document.
/// @throws config_error naming the first offending key.
service_config parse_service_config(const nlohmann::json& doc);

/// Reads and parses the file at `path`: the only I/O of the policy code.
/// @throws config_error if the file is unreadable, not JSON or invalid.
service_config load_service_config(const std::string& path);

} // namespace hitl
