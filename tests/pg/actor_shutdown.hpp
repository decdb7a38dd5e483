#pragma once

// Stopping in-process actors from a test, on every way out of it.
// ~actor_system waits for every actor, and a detached one (the auditor, the
// db_reader's workers, the notifier) never stops unless told: a test that
// failed before telling it would wait for ever.

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <vector>

namespace hitl::test {

/// Waits until no actor of `sys` runs. After `ceiling` it reports how many
/// still do and ends the test run, rather than let ~actor_system hang.
void await_actors_stopped(caf::actor_system& sys,
                          std::chrono::seconds ceiling
                          = std::chrono::seconds(30));

/// A handle of any actor, typed or not, as actor_stopper takes them.
struct stoppable {
  template <class Handle>
  stoppable(const Handle& x) : actor(caf::actor_cast<caf::actor>(x)) {
  }
  caf::actor actor;
};

/// On destruction, a failed REQUIRE included: tells each actor to exit and
/// waits until each is down (as await_actors_stopped, within a ceiling).
/// Declare it after the actor system.
class actor_stopper {
public:
  actor_stopper(caf::actor_system& sys, std::vector<stoppable> actors);
  ~actor_stopper();
  actor_stopper(const actor_stopper&) = delete;
  actor_stopper& operator=(const actor_stopper&) = delete;

private:
  caf::actor_system& sys_;
  std::vector<caf::actor> actors_;
};

} // namespace hitl::test
