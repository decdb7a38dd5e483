#pragma once

// What every request of one server shares: the actors it asks, its caches,
// its bounds (SPEC §10) and its counters. No RESTinio here: the routes'
// files see the server through this and http/exchange.hpp.

#include "actors/health_check.hpp"
#include "http/access_log.hpp"
#include "http/auth_failure_limiter.hpp"
#include "http/event_stream.hpp"
#include "http/long_poll_quota.hpp"
#include "http/response_cache.hpp"
#include "http/response_json.hpp"
#include "http/scan_gate.hpp"
#include "http/server.hpp"
#include "http/static_site.hpp"
#include "http/token_cache.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
} // namespace prometheus

namespace hitl {

using clock_type = std::chrono::steady_clock;

/// The bounds of SPEC §10 that keep state between requests.
struct request_bounds {
  explicit request_bounds(const edge_limits& l)
    : verify_scans(l.max_concurrent_scans, duration_of(l.scan_result_reuse)),
      summary_scans(l.max_concurrent_scans,
                    duration_of(l.scan_result_reuse)),
      export_scans(l.max_concurrent_scans, clock_type::duration::zero()),
      auth_failures(l.max_auth_failures, duration_of(l.auth_failure_window)),
      long_polls(l.max_long_polls_per_token) {
  }
  static clock_type::duration duration_of(edge_limits::seconds s) {
    return std::chrono::duration_cast<clock_type::duration>(s);
  }
  scan_gate verify_scans;
  scan_gate summary_scans;
  /// Exports are streamed, never kept: a place, no reuse.
  scan_gate export_scans;
  auth_failure_limiter auth_failures;
  long_poll_quota long_polls;
};

// Shared by every exchange in flight, and owner of the io_context: an actor
// may answer a request after the server stopped (SIGTERM under load), and
// the connection it answers on must still find its io_context then. The
// io_context, stopped, goes only with the last exchange.
struct server_context : std::enable_shared_from_this<server_context> {
  /// The server's asio io_context (typed in http/server.cpp).
  std::shared_ptr<void> io;
  caf::actor_system* sys = nullptr;
  http_backend backend;
  http_options opts;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* durations = nullptr;
  prometheus::Gauge* long_polls = nullptr;
  /// Null when opts.log_access is off.
  std::unique_ptr<access_log> access;
  token_cache tokens;
  /// Bodies of GET /hitl/decisions/{id} (≈ 2 KB each, so ≈ 32 MB when
  /// full) and pages of GET /hitl/patches/pending (≤ 60 KB each), valid
  /// while backend.changes says so.
  response_cache<std::string> decisions{16384};
  response_cache<rendered_pending> queue_pages{256};
  event_stream stream;
  std::unique_ptr<request_bounds> bounds;
  std::optional<static_site> site;
  caf::actor feed;
  caf::actor token_refresher;
  /// Long-lived actors through which the routes ask the service's actors
  /// (http/actor_requests.hpp); taken in turn.
  std::vector<caf::actor> bridges;
  std::atomic<size_t> next_bridge{0};
  /// Behind /health (actors/health_check.hpp).
  health_check_actor health;
  /// Requests accepted and not yet answered, and whether new ones are still
  /// taken: a stop lets those in flight finish first (see http/server.cpp).
  std::atomic<int64_t> unanswered{0};
  std::atomic<bool> closing{false};
};

} // namespace hitl
