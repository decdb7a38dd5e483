#pragma once

// How a route asks an actor: an I/O thread cannot wait for an answer, so a
// bridge (http/bridge.hpp) sends the request and runs the continuation
// that answers the client.

#include "http/bridge.hpp"
#include "http/exchange.hpp"
#include "http/server_context.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <utility>

namespace hitl {

/// Longer than any single commit or read the actors allow themselves.
constexpr auto actor_timeout = std::chrono::seconds(20);

/// Sends one request to an actor through a bridge and hands the answer to
/// `on_ok`, a failure (a timeout among them) to `on_error`. Whatever either
/// throws (a JSON dump, a bug), the client gets its 500 first, never an
/// empty reply, and the exchange is done with (a stop waits for it); the
/// bridge logs it, counts it and goes on.
template <class Target, class OnOk, class OnError, class... Ts>
void ask_or(const exchange_ptr& ex, const Target& target,
            std::chrono::seconds timeout, OnOk on_ok, OnError on_error,
            Ts... xs) {
  auto& ctx = ex->context();
  const auto& via = ctx.bridges[ctx.next_bridge++ % ctx.bridges.size()];
  auto answer = [ex] {
    if (!ex->answered())
      ex->problem_reply(500, "internal error; see the server log");
  };
  caf::anon_send(via, bridge_job{answering(
                        [=](caf::event_based_actor* self) {
                          self->request(target, timeout, xs...)
                            .then(answering(on_ok, answer),
                                  answering(on_error, answer));
                        },
                        answer)});
}

/// As ask_or, with failures answered as problems (see exchange::fail).
template <class Target, class OnOk, class... Ts>
void ask(const exchange_ptr& ex, const Target& target,
         std::chrono::seconds timeout, OnOk on_ok, Ts... xs) {
  ask_or(ex, target, timeout, std::move(on_ok),
         [ex](caf::error& err) { ex->fail(err); }, std::move(xs)...);
}

} // namespace hitl
