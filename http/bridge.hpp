#pragma once

// The bridges between RESTinio's I/O threads and the actors: an I/O thread
// cannot wait for an actor's answer, so it hands a job to a bridge, which
// sends the request and runs the continuation that answers the client when
// the answer comes (http/actor_requests.hpp, ask). No RESTinio here: tests drive real
// bridges with jobs of their own. Only for server.cpp and tests.

#include "actors/actor_failures.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <utility>

namespace hitl {

/// Work for a bridge: it runs on the bridge, with the bridge as `self`.
struct bridge_job {
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace hitl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::bridge_job)

namespace hitl {

/// Spawns a bridge. It lives as long as the server: spawning an actor for
/// each request cost about a tenth of the service's CPU under a load of
/// approvals. An exception that a job or a continuation throws is logged and
/// counted as a failure of "bridge", and the bridge goes on (it holds no
/// state to spoil); the client's answer is the job's affair: see answering.
caf::actor spawn_bridge(caf::actor_system& sys, actor_failures failures);

namespace detail {

template <class F, class OnThrow, class... Ts>
auto answering(F f, OnThrow on_throw, caf::detail::type_list<Ts...>) {
  // The same parameters as `f`: CAF reads a continuation's from its type.
  return [f, on_throw](Ts... xs) mutable {
    try {
      f(std::forward<Ts>(xs)...);
    } catch (...) {
      try {
        on_throw();
      } catch (...) {
        // The bridge logs the first exception; this one adds nothing.
      }
      throw;
    }
  };
}

} // namespace detail

/// `f`, a job or a continuation, calling `on_throw()` when it throws (there
/// the client gets its 500) before the exception goes on to the bridge.
template <class F, class OnThrow>
auto answering(F f, OnThrow on_throw) {
  using args = typename caf::detail::get_callable_trait<F>::arg_types;
  return detail::answering(std::move(f), std::move(on_throw), args{});
}

} // namespace hitl
