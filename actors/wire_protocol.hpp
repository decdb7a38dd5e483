#pragma once

#include "actors/supervisor.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace hitl {

/// Lets the actor system reach other nodes through CAF's remote actors
/// (SPEC §8): loads CAF's middleman, with heartbeats every second and a
/// connection given up after 4 s without one (so that a paused node is
/// noticed, not only a killed one), and registers every type a request
/// between nodes carries. Call before the actor_system is constructed.
void enable_remote_actors(caf::actor_system_config& cfg);

/// Publishes `gateway` on `host`:`port` for the other nodes' routers;
/// returns the port (`port` 0: one the system picks). Blocks until it
/// listens. Throws std::runtime_error when it cannot.
uint16_t publish_gateway(caf::actor_system& sys,
                         const decision_service& gateway,
                         const std::string& host, uint16_t port);

} // namespace hitl
