#include "actors/metrics_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

namespace {

struct metrics_state {
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>* decisions = nullptr;
  prometheus::Family<prometheus::Counter>* escalations = nullptr;
  // The children of the two families, looked up once: Family::Add builds a
  // label map and hashes it on every call.
  std::map<std::string, prometheus::Counter*, std::less<>> by_type;
  std::vector<prometheus::Counter*> by_level; // [level - 1]
  prometheus::Counter* breaches = nullptr;
  prometheus::Counter* final_escalations = nullptr;
  int max_level = 0;
  prometheus::Histogram* duration = nullptr;
  prometheus::Gauge* pending = nullptr;
  prometheus::Gauge* ml_accuracy = nullptr;
  prometheus::Gauge* auto_rate = nullptr;
  decision_summary totals;
  int64_t open = 0;
  gauge_refresh refresh;
  /// Moves with every batch of this node's events: a count read from the
  /// database while it moved may be older than what the events said.
  uint64_t events_seen = 0;
  int stale_reads = 0;
  static inline const char* name = "metrics";
};

using open_tick = caf::atom_constant<caf::atom("open_tick")>;
using total_tick = caf::atom_constant<caf::atom("totaltick")>;
using metrics_impl =
  metrics_actor::extend<caf::reacts_to<open_tick>, caf::reacts_to<total_tick>>;
using metrics_self = guarded_typed<metrics_state, metrics_impl>;

// A count read while this node committed may miss those commits; it is
// taken anyway after a few such reads, or a node that is always busy would
// never learn of the others' commits.
constexpr int max_stale_reads = 5;

bool take_read(metrics_state& st, uint64_t asked_at) {
  if (st.events_seen == asked_at || ++st.stale_reads > max_stale_reads) {
    st.stale_reads = 0;
    return true;
  }
  return false;
}

void publish_gauges(metrics_state& st) {
  st.pending->Set(static_cast<double>(st.open));
  st.ml_accuracy->Set(st.totals.ml_judged > 0
                        ? static_cast<double>(st.totals.ml_agreed)
                            / static_cast<double>(st.totals.ml_judged)
                        : std::numeric_limits<double>::quiet_NaN());
  st.auto_rate->Set(st.totals.total > 0
                      ? static_cast<double>(st.totals.auto_approved)
                          / static_cast<double>(st.totals.total)
                      : std::numeric_limits<double>::quiet_NaN());
}

void on_event(metrics_state& st, const committed_event& ev) {
  const auto& r = *ev.record;
  if (ev.name == "comment.added")
    return;
  auto type = std::string_view{ev.name}.substr(ev.name.find('.') + 1);
  auto counter = st.by_type.find(type == "created" ? "pending" : type);
  if (counter != st.by_type.end())
    counter->second->Increment();
  if (type == "created") {
    st.totals.total += 1;
    if (is_open(r.status))
      st.open += 1;
  } else if (type == "auto_approved") {
    st.totals.auto_approved += 1;
  } else if (type == "escalated") {
    auto level = static_cast<size_t>(r.escalation_level);
    if (level >= 1 && level <= st.by_level.size())
      st.by_level[level - 1]->Increment();
    else
      st.escalations->Add({{"level", std::to_string(level)}}).Increment();
    if (r.escalation_level == 1)
      st.breaches->Increment();
    if (r.escalation_level == st.max_level)
      st.final_escalations->Increment();
  } else {
    // approved, rejected, cancelled: an open decision became final.
    st.open -= 1;
    if (type != "cancelled") {
      if (r.decided_at)
        st.duration->Observe(to_seconds(*r.decided_at - r.created_at));
      if (r.ml) {
        st.totals.ml_judged += 1;
        if (r.ml->prediction == (r.status == decision_status::approved))
          st.totals.ml_agreed += 1;
      }
    }
  }
}

void read_open(metrics_self* self) {
  auto& st = self->state;
  auto asked_at = st.events_seen;
  self->request(st.refresh.reader, std::chrono::seconds(5),
                atoms::open_total::value)
    .then(
      [=](int64_t open) {
        auto& st = self->state;
        if (take_read(st, asked_at)) {
          st.open = open;
          publish_gauges(st);
        }
        self->delayed_send(self, st.refresh.open, open_tick::value);
      },
      [=](caf::error&) {
        self->delayed_send(self, self->state.refresh.open, open_tick::value);
      });
}

void read_totals(metrics_self* self) {
  auto& st = self->state;
  auto asked_at = st.events_seen;
  self->request(st.refresh.reader, std::chrono::seconds(60),
                atoms::summary::value, summary_request{})
    .then(
      [=](decision_summary& totals) {
        auto& st = self->state;
        if (take_read(st, asked_at)) {
          st.totals = totals;
          publish_gauges(st);
        }
        self->delayed_send(self, st.refresh.totals, total_tick::value);
      },
      [=](caf::error&) {
        self->delayed_send(self, self->state.refresh.totals,
                           total_tick::value);
      });
}

metrics_impl::behavior_type
metrics(metrics_self* self, std::shared_ptr<prometheus::Registry> registry,
        decision_summary baseline, int max_level, gauge_refresh refresh) {
  // Kept alive: a batch of events that failed halfway leaves the counters
  // short of its rest, which is better than no counters at all.
  guard(self, actor_failures{registry}, "metrics");
  auto& st = self->state;
  st.registry = std::move(registry);
  auto& reg = *st.registry;
  st.decisions = &prometheus::BuildCounter()
                    .Name("hitl_decisions_total")
                    .Help("Decisions by type of outcome, since start")
                    .Register(reg);
  st.escalations = &prometheus::BuildCounter()
                      .Name("hitl_escalations_total")
                      .Help("SLA escalations by level, since start")
                      .Register(reg);
  st.breaches = &prometheus::BuildCounter()
                   .Name("hitl_sla_breaches_total")
                   .Help("Decisions whose SLA ran out, since start")
                   .Register(reg)
                   .Add({});
  // Its own series because the last level is configured (escalation.
  // max_level) and PromQL cannot compare a label with a number.
  st.final_escalations =
    &prometheus::BuildCounter()
       .Name("hitl_final_escalations_total")
       .Help("Escalations to the last level (escalation.max_level), since "
             "start: no one further up will be told")
       .Register(reg)
       .Add({});
  st.max_level = max_level;
  st.duration =
    &prometheus::BuildHistogram()
       .Name("hitl_decision_duration_seconds")
       .Help("Time from creation to the human verdict")
       .Register(reg)
       .Add({}, prometheus::Histogram::BucketBoundaries{
                  1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                  21600, 86400});
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add(
      {});
  };
  st.pending = gauge("hitl_pending_patches",
                     "Open decisions (pending or escalated), whole system");
  st.ml_accuracy = gauge("hitl_ml_accuracy",
                         "Share of human verdicts the ML prediction matched");
  st.auto_rate = gauge("hitl_auto_approval_rate",
                       "Share of all decisions approved by the policy");
  // Every label value exists from the start, at zero, so that rates and
  // alerts see the series before its first event.
  for (auto type : {"pending", "auto_approved", "approved", "rejected",
                    "cancelled", "escalated"})
    st.by_type[type] = &st.decisions->Add({{"decision_type", type}});
  for (int level = 1; level <= max_level; ++level)
    st.by_level.push_back(
      &st.escalations->Add({{"level", std::to_string(level)}}));
  st.totals = baseline;
  st.open = baseline.pending + baseline.escalated;
  st.refresh = std::move(refresh);
  publish_gauges(st);
  if (st.refresh.reader && st.refresh.open.count() > 0)
    self->delayed_send(self, st.refresh.open, open_tick::value);
  if (st.refresh.reader && st.refresh.totals.count() > 0)
    self->delayed_send(self, st.refresh.totals, total_tick::value);
  return {
    [=](atoms::event, const committed_events& events) {
      ++self->state.events_seen;
      for (const auto& ev : *events)
        on_event(self->state, ev);
      publish_gauges(self->state);
    },
    [=](atoms::stats) { return self->state.open; },
    [=](open_tick) { read_open(self); },
    [=](total_tick) { read_totals(self); },
  };
}

} // namespace

metrics_actor
spawn_metrics_actor(caf::actor_system& sys,
                    std::shared_ptr<prometheus::Registry> registry,
                    const decision_summary& baseline,
                    int max_escalation_level, gauge_refresh refresh) {
  return caf::actor_cast<metrics_actor>(
    sys.spawn(metrics, std::move(registry), baseline, max_escalation_level,
              std::move(refresh)));
}

} // namespace hitl
