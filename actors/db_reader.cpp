#include "actors/db_reader.hpp"

#include "actors/atoms.hpp"
#include "persistence/connection_pool.hpp"

#include <caf/all.hpp>

namespace hitl {

caf::actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool) {
  return sys.spawn<caf::detached>([&pool](caf::event_based_actor*) {
    return caf::behavior{
      [&pool](atoms::ping) -> bool { return pool.ping(); },
    };
  });
}

} // namespace hitl
