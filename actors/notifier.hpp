#pragma once

#include "actors/event_listener.hpp"
#include "policy/service_settings.hpp"
#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

/// The notifier's protocol: it follows the commits, and nothing else.
using notifier_actor = event_listener;

/// Spawns the notifier: it delivers the outbox (SPEC §4). Rows come from the
/// auditor's transactions; a committed event wakes it at once, and a tick
/// every half second picks up retries that fell due. Each round leases the
/// due rows, POSTs them concurrently (libcurl multi, a timeout per attempt),
/// and records delivered, retry-with-backoff-and-jitter, or dead. Detached:
/// its blocking calls never touch the scheduler. Counts
/// hitl_notifications_total{result}.
notifier_actor spawn_notifier(caf::actor_system& sys, connection_pool& pool,
                              const service_settings& config,
                              std::shared_ptr<prometheus::Registry> registry);

} // namespace hitl
