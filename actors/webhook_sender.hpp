#pragma once

// Sends webhook POSTs concurrently with libcurl's multi interface, kept
// from one call to the next: each attempt starts when it is added and is
// reported when it ends, whatever the others do, and connections to a
// receiver stay open for the next attempts. The notifier drives it from its
// own detached thread; it is not thread-safe.

#include "policy/timestamp.hpp"

#include <chrono>
#include <memory>
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

class webhook_sender {
public:
  /// `timeout` bounds each attempt, connection included.
  explicit webhook_sender(duration timeout);
  ~webhook_sender();
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;

  /// Starts an attempt. Headers: Content-Type, X-HITL-Event,
  /// X-HITL-Delivery and X-HITL-Signature: sha256=<hex HMAC-SHA256 of the
  /// body keyed by secret>.
  void add(webhook_attempt a);

  /// Moves the attempts on and returns those that ended; when none has, it
  /// waits up to `wait` for one to make progress first.
  std::vector<webhook_response> poll(std::chrono::milliseconds wait);

  /// Attempts started and not yet returned by poll, all or to `url`.
  size_t in_flight() const;
  size_t in_flight(const std::string& url) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hitl
