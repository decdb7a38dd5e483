#include "actors/health_check.hpp"

#include "actors/atoms.hpp"
#include "actors/guarded_actor.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <optional>
#include <vector>

namespace hitl {

namespace {

using clock_type = std::chrono::steady_clock;

/// How long a report answers /health, from the start of its round.
constexpr auto max_age = std::chrono::seconds(1);
/// Past this a check counts as down: what does not answer in 3 s does not
/// serve requests either.
constexpr auto check_timeout = std::chrono::seconds(3);

struct health_state {
  pingable supervisor;
  pingable auditor;
  pingable reader;
  membership_actor membership; // null: not a cluster member
  prometheus::Counter* rounds = nullptr;
  std::optional<health_report> last;
  clock_type::time_point last_started;
  /// The round under way (when `probing`): its number, its start, what it
  /// found so far, the checks still out, and the requests waiting for it.
  bool probing = false;
  uint64_t round = 0;
  clock_type::time_point started;
  health_report found;
  int outstanding = 0;
  std::vector<caf::response_promise> waiting;
  static inline const char* name = "health";
};

using health_self = guarded_typed<health_state, health_check_actor>;

void finish_round(health_self* self) {
  auto& st = self->state;
  st.probing = false;
  st.last = st.found;
  st.last_started = st.started;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& w : waiting)
    w.deliver(*st.last);
}

// One check's answer, unless it belongs to a round given up (see guard).
template <class Apply>
void note(health_self* self, uint64_t round, Apply apply) {
  auto& st = self->state;
  if (!st.probing || round != st.round)
    return;
  apply(st.found);
  if (--st.outstanding == 0)
    finish_round(self);
}

void start_round(health_self* self) {
  auto& st = self->state;
  st.probing = true;
  auto round = ++st.round;
  auto started = st.started = clock_type::now();
  st.found = health_report{};
  st.outstanding = st.membership ? 4 : 3;
  if (st.rounds)
    st.rounds->Increment();
  auto database = [=](bool up) {
    note(self, round, [&](health_report& r) {
      r.database = up;
      r.database_ms = std::chrono::duration<double, std::milli>(
                        clock_type::now() - started)
                        .count();
    });
  };
  self->request(st.reader, check_timeout, atoms::ping::value)
    .then([=](bool up) { database(up); },
          [=](caf::error&) { database(false); });
  self->request(st.supervisor, check_timeout, atoms::ping::value)
    .then(
      [=](bool up) {
        note(self, round, [&](health_report& r) { r.supervisor = up; });
      },
      [=](caf::error&) { note(self, round, [](health_report&) {}); });
  self->request(st.auditor, check_timeout, atoms::ping::value)
    .then(
      [=](bool up) {
        note(self, round, [&](health_report& r) { r.auditor = up; });
      },
      [=](caf::error&) { note(self, round, [](health_report&) {}); });
  if (st.membership)
    self->request(st.membership, check_timeout, atoms::partitions::value)
      .then(
        [=](node_partitions& n) {
          note(self, round, [&](health_report& r) {
            r.node_id = std::move(n.node_id);
            r.partitions = std::move(n.partitions);
            r.lease_running = n.lease_running;
          });
        },
        [=](caf::error&) { note(self, round, [](health_report&) {}); });
}

health_check_actor::behavior_type
health_check(health_self* self, pingable supervisor, pingable auditor,
             pingable reader, membership_actor membership,
             std::shared_ptr<prometheus::Registry> registry) {
  // A round that failed halfway would keep its requests waiting forever:
  // they hear of it, and the next request starts a new round.
  guard(self, actor_failures{registry}, "health",
        [](health_self* self, const caf::error& err) {
          auto& st = self->state;
          if (!st.probing)
            return;
          st.probing = false;
          auto waiting = std::move(st.waiting);
          st.waiting.clear();
          for (auto& w : waiting)
            w.deliver(err);
        });
  auto& st = self->state;
  st.supervisor = std::move(supervisor);
  st.auditor = std::move(auditor);
  st.reader = std::move(reader);
  st.membership = std::move(membership);
  if (registry)
    st.rounds = &prometheus::BuildCounter()
                   .Name("hitl_health_probes_total")
                   .Help("Rounds of /health checks, one database probe each; "
                         "at most one a second, however many requests")
                   .Register(*registry)
                   .Add({});
  return {
    [=](atoms::health) -> caf::result<health_report> {
      auto& st = self->state;
      if (st.last && clock_type::now() - st.last_started < max_age)
        return *st.last;
      st.waiting.push_back(self->make_response_promise());
      if (!st.probing)
        start_round(self);
      return caf::delegated<health_report>{};
    },
  };
}

} // namespace

health_check_actor
spawn_health_check(caf::actor_system& sys, pingable supervisor,
                   pingable auditor, pingable reader, membership_actor membership,
                   std::shared_ptr<prometheus::Registry> registry) {
  return sys.spawn(health_check, std::move(supervisor), std::move(auditor),
                   std::move(reader), std::move(membership),
                   std::move(registry));
}

} // namespace hitl
