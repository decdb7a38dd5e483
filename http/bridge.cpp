#include "http/bridge.hpp"

#include "actors/guarded_actor.hpp"

#include <caf/all.hpp>

namespace hitl {

namespace {

struct bridge_state {
  static inline const char* name = "bridge";
};

using bridge_actor = guarded_actor<bridge_state>;

caf::behavior bridge(bridge_actor* self, actor_failures failures) {
  guard(self, std::move(failures), "bridge");
  return {
    [=](bridge_job& job) { job.run(self); },
  };
}

} // namespace

caf::actor spawn_bridge(caf::actor_system& sys, actor_failures failures) {
  return sys.spawn(bridge, std::move(failures));
}

} // namespace hitl
