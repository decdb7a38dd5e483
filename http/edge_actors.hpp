#pragma once

// The two actors of the HTTP edge: one turns committed events into frames
// of the live event stream, one keeps the token cache filled with every
// active token (so that a WebSocket upgrade, which must be decided on the
// I/O thread, never waits for the database). An exception in either is
// logged and counted in `failures`, and the actor goes on.

#include "actors/actor_failures.hpp"
#include "actors/auditor.hpp"
#include "actors/cluster_feed.hpp"
#include "actors/db_reader.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace hitl {

class event_stream;
class token_cache;

/// Follows the cluster feed (every node's commits, in order per partition)
/// and publishes each event as `{event, at, decision, ...}`, and
/// `{"event":"stream.resync"}` when the feed lost its place; pings every
/// client every 20 s and closes those silent for 60 s.
caf::actor spawn_event_feed(caf::actor_system& sys, cluster_feed_actor feed,
                            event_stream& stream, std::string public_url,
                            actor_failures failures = actor_failures{});

/// Reloads all active tokens into `cache` every 2 s, closes the event
/// stream's clients whose token is no longer among them (revoked or
/// expired), so within one interval of the change, and records the uses
/// the cache noted in last_used_at.
caf::actor spawn_token_refresher(caf::actor_system& sys,
                                 db_reader_actor reader,
                                 token_cache& cache, event_stream& stream,
                                 actor_failures failures = actor_failures{});

/// As above, and tells `auditor` `(expire)` when a token it loaded has
/// passed its expiry, at start (tokens may have expired while no serve
/// ran), and once a minute (in case an attempt failed), so that every
/// expiry gets its audit entry.
caf::actor spawn_token_refresher(caf::actor_system& sys,
                                 db_reader_actor reader,
                                 token_cache& cache, event_stream& stream,
                                 actor_failures failures,
                                 auditor_actor auditor);

} // namespace hitl
