#pragma once

// The actor core (supervisor, patch actors, auditor) under CAF's test
// coordinator, on a real PostgreSQL: every message runs on the test's
// thread, one at a time, and time moves only when the test moves it. SLA
// timers are then tested at exact instants: an escalation due four hours
// after creation is committed at that microsecond, not before, in no
// wall-clock time at all, whatever the machine's load.

#include "actors/cluster_feed.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/supervisor.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/policy_config.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <memory>
#include <string>

namespace hitl::test {

class simulated_service {
public:
  enum class start {
    /// The node holds every partition, and loads every open decision.
    load_all,
    /// The supervisor holds nothing until it is told (atoms::partitions).
    from_membership,
  };
  /// Loads the open decisions of `url` (the owner's, of a
  /// migrated_database) as a start does, and starts the supervisor on them
  /// (or on nothing, as `how` says); connects as the runtime role. Its
  /// clock starts at `at`: a later service on the same database starts
  /// later than the last one stopped.
  simulated_service(const std::string& url, const policy_config& policy,
                    timestamp at = hitl::now(), start how = start::load_all);
  ~simulated_service();
  simulated_service(const simulated_service&) = delete;
  simulated_service& operator=(const simulated_service&) = delete;

  /// The actors' time of day: the system clock's when the service was built,
  /// plus the time the test moved it since.
  timestamp now() const;
  /// Moves time to `t` (later than now()), firing each timer due meanwhile
  /// at its own instant, in order, and running every message that follows.
  void advance_to(timestamp t);
  void advance(duration d) {
    advance_to(now() + d);
  }
  /// Runs every message there is; time stands still.
  void run();

  caf::expected<create_result> create(const new_decision& nd);
  template <class Atom>
  caf::expected<decision_record> act(Atom atom, const verdict_request& v) {
    return ask<decision_record>(atom, v);
  }
  caf::expected<comment> comment_on(const verdict_request& v);
  /// Open decisions, as the supervisor counts them.
  size_t open_count();
  /// Patch actors running: one per open decision that is not dormant.
  size_t patch_actors() const;
  size_t recovered() const {
    return recovered_;
  }
  /// The Prometheus text of the metrics actor's registry.
  std::string metrics_text() const;

  /// Sends to the supervisor, and runs every message that follows.
  template <class... Ts>
  void tell(Ts&&... xs) {
    (*self_)->send(supervisor_, std::forward<Ts>(xs)...);
    run();
  }
  /// Sends to the cluster feed (long-polls), and runs what follows; its
  /// answer comes through answer() as the supervisor's do.
  template <class... Ts>
  void tell_feed(Ts&&... xs) {
    (*self_)->send(feed_, std::forward<Ts>(xs)...);
    run();
  }
  /// The supervisor's next answer to tell(), if there is one by now (a
  /// request_timeout error when there is none).
  template <class Reply>
  caf::expected<Reply> answer() {
    caf::expected<Reply> out{caf::error{}};
    bool answered = false;
    (*self_)->receive(
      [&](Reply& r) {
        out = std::move(r);
        answered = true;
      },
      [&](caf::error& e) {
        out = std::move(e);
        answered = true;
      },
      caf::after(std::chrono::seconds(0)) >> [] {});
    if (!answered)
      out = caf::make_error(caf::sec::request_timeout,
                            "no answer once every message had run");
    return out;
  }
  template <class Reply, class... Ts>
  caf::expected<Reply> ask(Ts&&... xs) {
    tell(std::forward<Ts>(xs)...);
    return answer<Reply>();
  }

private:
  std::unique_ptr<connection_pool> pool_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  timestamp wall_at_start_;
  caf::actor_clock::time_point clock_at_start_;
  auditor_actor auditor_;
  db_reader_actor reader_;
  metrics_actor metrics_;
  std::shared_ptr<prometheus::Registry> registry_;
  supervisor_actor supervisor_;
  cluster_feed_actor feed_;
  size_t recovered_ = 0;
  size_t core_actors_ = 0;
  std::unique_ptr<caf::scoped_actor> self_;
};

} // namespace hitl::test
