#include "actors/wire_protocol.hpp"

#include "actors/messages.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <stdexcept>

namespace hitl {

void enable_remote_actors(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::seconds(1)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::seconds(4)});
  // What decision_service's requests and answers carry, by the names both
  // sides must agree on (wire_version in hitl_nodes guards a change).
  cfg.add_message_type<create_request>("hitl::create_request");
  cfg.add_message_type<create_result>("hitl::create_result");
  cfg.add_message_type<verdict_request>("hitl::verdict_request");
  cfg.add_message_type<decision_record>("hitl::decision_record");
  cfg.add_message_type<comment>("hitl::comment");
}

uint16_t publish_gateway(caf::actor_system& sys,
                         const decision_service& gateway,
                         const std::string& host, uint16_t port) {
  // Reusing the address: a node restarted after a kill -9 listens again
  // while its old connections are still in TIME-WAIT.
  auto published = sys.middleman().publish(gateway, port, host.c_str(), true);
  if (!published)
    throw std::runtime_error("cannot listen for other nodes on " + host + ":"
                             + std::to_string(port) + ": "
                             + sys.render(published.error()));
  return *published;
}

} // namespace hitl
