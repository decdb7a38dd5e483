#pragma once

// The bounds of the HTTP edge (SPEC §10): every resource a client can make
// the service hold has one. Plain values, so that the config parser and the
// tests use them without RESTinio; `limits` in the config file sets them.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hitl {

struct edge_limits {
  using seconds = std::chrono::duration<double>;

  /// Open connections; new ones beyond it wait in the kernel's backlog.
  size_t max_connections = 10000;
  /// The request target (path and query): 414 beyond it.
  size_t max_request_line_bytes = 8192;
  /// One header, name and value: 431 beyond it.
  size_t max_header_bytes = 8192;
  /// All headers together, and how many: 431 beyond either.
  size_t max_headers_total_bytes = 65536;
  size_t max_header_count = 100;
  /// From the first byte of a request to the end of its headers, then to
  /// the end of its body: a slow client is dropped (408 where possible).
  seconds header_timeout{10};
  seconds body_timeout{30};
  /// One WebSocket message, whatever length its frames declare: close 1009.
  size_t max_ws_message_bytes = 65536;
  /// WebSocket clients in total and per token: 429 before the upgrade.
  size_t max_ws_clients = 10000;
  size_t max_ws_clients_per_token = 20;
  /// Long-polls (GET /hitl/decisions/{id}?wait=N) in flight per token: 429.
  size_t max_long_polls_per_token = 100;
  /// Full scans (audit verify, analytics summary, audit export) running at
  /// once, each kind; beyond it 429 with Retry-After, and a result younger
  /// than `scan_result_reuse` is answered again instead of scanning.
  size_t max_concurrent_scans = 1;
  seconds scan_result_reuse{5};
  /// Failed authentications per client address within the window: 429 with
  /// Retry-After beyond it, so that random tokens cannot starve the readers.
  size_t max_auth_failures = 20;
  seconds auth_failure_window{10};
};

} // namespace hitl
