#pragma once

// Where an exception that reached an actor goes: the log, with the actor's
// name and the exception's what(), and the counter
// hitl_actor_failures_total{actor}. The requester hears only that something
// failed: the exception's text may hold anything, client bytes included.

#include <caf/error.hpp>

#include <exception>
#include <memory>

namespace prometheus {
class Counter;
template <class T>
class Family;
class Registry;
} // namespace prometheus

namespace hitl {

class actor_failures {
public:
  /// Only logs (tests that spawn one actor).
  actor_failures() = default;
  /// Counts in `registry` too.
  explicit actor_failures(std::shared_ptr<prometheus::Registry> registry);

  /// Logs and counts the exception `e` as a failure of `actor` (one of the
  /// labels of hitl_actor_failures_total), and returns the error for whoever
  /// waits on it: `internal` (500), without the exception's text.
  caf::error record(const char* actor, const std::exception_ptr& e) const;

private:
  // Keeps the family alive as long as an actor may count in it.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* family_ = nullptr;
};

} // namespace hitl
