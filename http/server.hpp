#pragma once

#include "actors/auditor.hpp"
#include "actors/cluster_feed.hpp"
#include "actors/db_reader.hpp"
#include "actors/membership.hpp"
#include "actors/supervisor.hpp"
#include "http/access_log.hpp"
#include "http/edge_limits.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

class change_clock;

struct http_options {
  std::string host = "127.0.0.1";
  uint16_t port = 8027;
  unsigned threads = 2;
  size_t max_body_bytes = 1048576;
  std::vector<std::string> cors_origins;
  edge_limits limits;
  /// The access lines' format: that of the rest of the log.
  log_format access_log_format = log_format::text;
  /// A line per answered request (http/access_log.hpp).
  bool log_access = true;
};

/// The actors the front end talks to; it knows nothing else of the service.
struct http_backend {
  /// The supervisor, or the router in front of it (several nodes).
  decision_service supervisor;
  db_reader_actor reader;
  /// Records token expiries; /health asks it.
  auditor_actor auditor;
  /// Every node's commits in order (SPEC §8): the live stream and the
  /// long-polls follow it.
  cluster_feed_actor feed;
  /// How far the feed has come: reads that ask for a position
  /// (X-HITL-Min-Position) skip the caches until it is there.
  std::shared_ptr<const feed_positions> positions;
  std::shared_ptr<prometheus::Registry> registry;
  /// Base of links in event payloads.
  std::string public_url;
  /// The auditor's commit generations: reads are served from memory while
  /// nothing they show has been committed since.
  std::shared_ptr<const change_clock> changes;
  /// PEM of the key that signs audit checkpoints; empty: none (404).
  std::string audit_public_key_pem;
  /// The node's membership, shown by /health; null: none.
  membership_actor membership;
  /// Where the live stream counts its clients, for the feed; null: nowhere.
  std::shared_ptr<feed_audience> audience;
};

/// A running HTTP server. Destroying it stops it.
class http_server {
public:
  virtual ~http_server() = default;
  /// Stops accepting, finishes in-flight responses, joins the I/O threads.
  virtual void stop() = 0;
};

/// Starts the RESTinio server on its own thread pool; throws on bind errors.
std::unique_ptr<http_server> start_http_server(const http_options& opts,
                                               caf::actor_system& sys,
                                               http_backend backend);

/// Parses "host:port" or "[v6]:port"; throws std::invalid_argument.
void parse_listen(const std::string& listen, http_options& opts);

} // namespace hitl
