#pragma once

// What the actors of one node are configured with: the policy, webhook
// subscriptions and their delivery, and the audit checkpoints. Plain values
// below actors/, so that the actors take their configuration without
// depending on the config file's reader (cli/service_config.hpp, which
// extends this with the HTTP edge's settings and fills it from JSON).

#include "policy/policy_config.hpp"
#include "policy/timestamp.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

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

/// The part of the config that `start_service` (actors/service.hpp) needs.
struct service_settings {
  policy_config policy;
  std::vector<webhook_subscription> webhooks;
  delivery_settings notifications;
  /// Base of the links in notifications, e.g. `https://hitl.example.org`;
  /// empty means the --listen address.
  std::string public_url;
  audit_settings audit;
  /// How often the cluster feed reads other nodes' commits from the audit
  /// log (`cluster.feed_seconds`): how stale another node's write may look
  /// here, at most, to a read that does not send X-HITL-Min-Position.
  duration feed_interval = std::chrono::milliseconds(100);
  /// This node's id (SPEC §8), set by `hitl serve`. Empty for actors run
  /// outside a cluster (tests, tools): their webhook claims name no node and
  /// are released only when they run out.
  std::string node_id;
};

} // namespace hitl
