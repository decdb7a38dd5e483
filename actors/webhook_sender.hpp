#pragma once

// Sends a batch of webhook POSTs concurrently with libcurl's multi interface
// and reports each outcome. Blocking for at most `timeout`: the notifier
// calls it from its own detached thread.

#include "policy/timestamp.hpp"

#include <string>
#include <vector>

namespace hitl {

struct webhook_attempt {
  int64_t outbox_id = 0;
  std::string url;
  std::string event;
  std::string delivery_id;
  std::string body;
  std::string secret;
};

struct webhook_response {
  int64_t outbox_id = 0;
  /// False when no HTTP answer came (refused, reset, timed out).
  bool answered = false;
  long status = 0;
  std::string error;
};

/// Headers: Content-Type, X-HITL-Event, X-HITL-Delivery and
/// X-HITL-Signature: sha256=<hex HMAC-SHA256 of the body keyed by secret>.
std::vector<webhook_response>
send_webhooks(const std::vector<webhook_attempt>& batch, duration timeout);

} // namespace hitl
