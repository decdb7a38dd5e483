#pragma once

// Actors that outlive an exception. CAF 0.17.6 ends an actor whatever its
// exception handler returns: scheduled_actor::reactivate calls the handler,
// answers a request in progress with the error it returned, then quits
// (libcaf_core/src/scheduled_actor.cpp at 0.17.6). A guarded actor catches
// the exception one level lower, around consume(), where CAF has already
// taken the message's response handler off its books, asks the same
// handler (set_exception_handler, installed by `guard`) what to answer, and
// lives on unless that handler quits it. Only for the .cpp files that spawn
// actors.

#include "actors/actor_failures.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_view.hpp>
#include <caf/result.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <exception>
#include <stdexcept>
#include <string>

namespace hitl {

/// Makes a guarded actor throw from inside its message handling, as a
/// handler with a bug would: how the tests provoke a failure in actors that
/// no input can make fail. It has no serializer, so only an actor of this
/// process can send it: no other node, and no client (the HTTP edge never
/// builds one).
struct failure_drill {
  std::string what;
};

} // namespace hitl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::failure_drill)

namespace hitl {

/// `Base` is caf::event_based_actor, or `Handle::base` of the typed
/// interface `Handle` that the actor implements (see guarded_typed).
template <class State, class Base = caf::event_based_actor>
class guarded_actor : public caf::stateful_actor<State, Base> {
public:
  using super = caf::stateful_actor<State, Base>;

  explicit guarded_actor(caf::actor_config& cfg) : super(cfg) {
    this->set_default_handler(unmatched);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    // CAF takes a handler out of its place while it runs (so that it may
    // replace itself) and puts it back when it returns: one that throws
    // would be gone for good, and the next down_msg (a supervisor's
    // rebuild), exit_msg or error would meet an empty std::function.
    auto& content = x.content();
    typename super::down_handler down;
    typename super::exit_handler exit;
    typename super::error_handler error;
    if (content.template match_elements<caf::down_msg>())
      down = this->down_handler_;
    else if (content.template match_elements<caf::exit_msg>())
      exit = this->exit_handler_;
    else if (content.template match_elements<caf::error>())
      error = this->error_handler_;
    try {
      return super::consume(x);
    } catch (...) {
      if (!this->down_handler_)
        this->down_handler_ = std::move(down);
      if (!this->exit_handler_)
        this->exit_handler_ = std::move(exit);
      if (!this->error_handler_)
        this->error_handler_ = std::move(error);
      if (!this->default_handler_)
        this->set_default_handler(unmatched);
      auto e = std::current_exception();
      // A copy: the handler may install another.
      auto handler = this->exception_handler_;
      caf::error err;
      try {
        err = handler(this, e);
      } catch (...) {
        err = caf::make_error(caf::sec::runtime_error);
      }
      if (x.mid.is_request()) {
        // Not pending when the handler had answered or delegated it.
        auto promise = this->make_response_promise();
        if (promise.pending())
          promise.deliver(std::move(err));
      }
      return caf::invoke_message_result::consumed;
    }
  }

  /// What no handler matches: as in CAF, printed and dropped (a request is
  /// answered unexpected_message); a drill throws. Public for an actor that
  /// installs a default handler of its own and falls back on this one.
  static caf::result<caf::message> unmatched(caf::scheduled_actor* self,
                                             caf::message_view& x) {
    auto& xs = x.content();
    if (xs.size() > 0 && xs.template match_element<failure_drill>(0))
      throw std::runtime_error("failure drill: "
                               + xs.template get_as<failure_drill>(0).what);
    return caf::print_and_drop(self, x);
  }
};

/// A guarded actor that implements the typed interface `Handle`.
template <class State, class Handle>
using guarded_typed = guarded_actor<State, typename Handle::base>;

/// Makes an exception that reaches `self` a failure of `actor` (one of the
/// labels of hitl_actor_failures_total): logged and counted, the request in
/// progress answered `internal`, then `repair(self, error)` puts the actor's
/// state right, or quits it when it cannot be trusted any more.
template <class State, class Base, class Repair>
void guard(guarded_actor<State, Base>* self, actor_failures failures,
           const char* actor, Repair repair) {
  self->set_exception_handler(
    [failures, actor, repair](caf::scheduled_actor* ptr,
                              std::exception_ptr& e) -> caf::error {
      auto err = failures.record(actor, e);
      repair(static_cast<guarded_actor<State, Base>*>(ptr), err);
      return err;
    });
}

/// For an actor whose state no exception can leave half changed.
template <class State, class Base>
void guard(guarded_actor<State, Base>* self, actor_failures failures,
           const char* actor) {
  guard(self, std::move(failures), actor,
        [](guarded_actor<State, Base>*, const caf::error&) {});
}

} // namespace hitl
