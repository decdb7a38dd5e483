#include "tests/pg/actor_shutdown.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace hitl::test {

namespace {

constexpr auto down_ceiling = std::chrono::seconds(30);

// Runs while a failed REQUIRE unwinds, too: nothing here may throw.
[[noreturn]] void give_up(size_t running, const char* what,
                          std::chrono::seconds waited) {
  std::fprintf(stderr,
               "FATAL: %zu %s still running %lld s after being told to stop; "
               "ending the test run instead of waiting in ~actor_system\n",
               running, what, static_cast<long long>(waited.count()));
  std::fflush(stderr);
  std::_Exit(EXIT_FAILURE);
}

} // namespace

void await_actors_stopped(caf::actor_system& sys,
                          std::chrono::seconds ceiling) {
  auto deadline = std::chrono::steady_clock::now() + ceiling;
  while (sys.registry().running() > 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      give_up(sys.registry().running(), "actor(s)", ceiling);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

actor_stopper::actor_stopper(caf::actor_system& sys,
                             std::vector<stoppable> actors)
  : sys_(sys) {
  for (auto& x : actors)
    actors_.push_back(std::move(x.actor));
}

actor_stopper::~actor_stopper() {
  caf::scoped_actor self{sys_};
  for (auto& a : actors_) {
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
  }
  auto deadline = std::chrono::steady_clock::now() + down_ceiling;
  for (size_t down = 0; down < actors_.size();) {
    bool late = false;
    self->receive([&](caf::down_msg&) { ++down; },
                  caf::after(deadline - std::chrono::steady_clock::now())
                    >> [&] { late = true; });
    if (late)
      give_up(actors_.size() - down, "actor(s) of this test", down_ceiling);
  }
}

} // namespace hitl::test
