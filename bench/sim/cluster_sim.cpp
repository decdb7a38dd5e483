#include "cluster_sim.hpp"

#include "database_model.hpp"
#include "event_queue.hpp"
#include "invariant_checker.hpp"
#include "node_clock.hpp"
#include "policy/escalation_schedule.hpp"
#include "policy/partition.hpp"
#include "policy/scan_plan.hpp"

#include <cmath>
#include <map>
#include <random>

namespace hitl::sim {

namespace {

// Database time 0 as a timestamp, for the escalation schedule.
constexpr micros epoch_base = 1'767'225'600LL * sec; // 2026-01-01

timestamp stamp(micros t) {
  return from_micros(epoch_base + t);
}
micros sim_time(timestamp ts) {
  return to_micros(ts) - epoch_base;
}

struct open_decision {
  int partition = 0;
  urgency priority = urgency::medium;
  timestamp deadline;
};

struct queued_escalation {
  int decision;
  int level;
  int partition;
  std::uint32_t gen; // the load of the partition that armed it
};

struct commit_batch {
  int node;
  std::vector<queued_escalation> items;
  std::map<int, std::int64_t> epochs; // partition -> epoch written under
  bool refused = false;
  std::vector<bool> accepted;
};

struct sim_node {
  bool started = false, alive = false, paused = false;
  std::uint32_t incarnation = 0;
  node_clock clock;
  std::map<int, std::int64_t> held;
  std::vector<std::uint32_t> gen = std::vector<std::uint32_t>(partition_count);
  std::vector<int> load_queue;
  bool loading = false, in_flight = false;
  std::vector<queued_escalation> queue;
  std::vector<event> deferred;
};

class cluster_sim {
public:
  explicit cluster_sim(const sim_config& c)
    : c_(c), rng_(c.seed), db_(node_ids(c), c.decisions),
      check_(c.decisions) {
    policy_.escalation_repeat = std::nullopt; // levels repeat each SLA
    make_decisions();
    std::uniform_int_distribution<micros> offset(-c.max_clock_offset,
                                                 c.max_clock_offset);
    std::uniform_real_distribution<double> drift(-c.max_drift_ppm,
                                                 c.max_drift_ppm);
    nodes_.resize(static_cast<std::size_t>(c.nodes + c.joins));
    for (auto& n : nodes_)
      n.clock = {offset(rng_), drift(rng_)};
    stats_.changes.push_back({"start", -1, 0, 0, 0});
    for (int n = 0; n < c.nodes; ++n)
      start_node(n, std::uniform_int_distribution<micros>(0, renew_every)(rng_));
    plan_faults();
  }

  sim_stats run() {
    try {
      while (!q_.empty() && q_.next_time() <= c_.horizon) {
        auto e = q_.pop();
        now_ = e.at;
        ++stats_.events;
        dispatch(e);
      }
      now_ = c_.horizon;
      check_nothing_lost();
    } catch (const invariant_violation& v) {
      stats_.violation = v.what();
    }
    finish();
    return std::move(stats_);
  }

private:
  static std::vector<std::string> node_ids(const sim_config& c) {
    std::vector<std::string> out;
    for (int n = 0; n < c.nodes + c.joins; ++n)
      out.push_back(node_id_from("hitl-sim-node-" + std::to_string(n)));
    return out;
  }

  // Deadlines spread over the run after a minute of warm-up; a tenth are
  // low priority (no SLA, never escalate), as in the service's defaults.
  void make_decisions() {
    decisions_.resize(static_cast<std::size_t>(c_.decisions));
    by_partition_.resize(partition_count);
    std::uniform_int_distribution<micros> when(60 * sec, c_.horizon);
    std::uniform_int_distribution<int> prio(0, 9);
    for (int d = 0; d < c_.decisions; ++d) {
      auto& o = decisions_[static_cast<std::size_t>(d)];
      o.partition = partition_of("sim-patch-" + std::to_string(d)).value;
      int r = prio(rng_);
      o.priority = r == 0   ? urgency::low
                   : r < 4  ? urgency::medium
                   : r < 7  ? urgency::high
                            : urgency::critical;
      o.deadline = stamp(when(rng_));
      by_partition_[static_cast<std::size_t>(o.partition)].push_back(d);
    }
  }

  void plan_faults() {
    // Faults between 15 % and 60 % of the run, so that every takeover and
    // rejoin settles before the end's check.
    std::uniform_int_distribution<micros> when(c_.horizon * 15 / 100,
                                               c_.horizon * 60 / 100);
    std::vector<int> victims;
    for (int n = 0; n < c_.nodes; ++n)
      victims.push_back(n);
    std::shuffle(victims.begin(), victims.end(), rng_);
    for (int i = 0; i < c_.crashes; ++i)
      push({when(rng_), 0, event_kind::crash,
            victims[static_cast<std::size_t>(i) % victims.size()]});
    std::uniform_int_distribution<micros> extra(0, c_.pause_extra);
    for (int i = 0; i < c_.pauses; ++i) {
      event e{when(rng_), 0, event_kind::pause,
              victims[static_cast<std::size_t>(c_.crashes + i) % victims.size()]};
      e.payload = static_cast<std::uint64_t>(lease_length + extra(rng_));
      push(e);
    }
    for (int i = 0; i < c_.joins; ++i)
      push({when(rng_), 0, event_kind::join, c_.nodes + i});
  }

  micros lognormal_ms(double p50, double sigma) {
    std::normal_distribution<double> z(0, 1);
    return static_cast<micros>(p50 * std::exp(sigma * z(rng_)) * ms);
  }

  void push(event e) {
    q_.push(e);
  }
  event node_event(event_kind k, int node, micros at) {
    event e{at, 0, k, node};
    e.incarnation = nodes_[static_cast<std::size_t>(node)].incarnation;
    return e;
  }
  sim_node& node(int n) {
    return nodes_[static_cast<std::size_t>(n)];
  }

  void start_node(int n, micros at) {
    auto& nd = node(n);
    nd.started = nd.alive = true;
    push(node_event(event_kind::scan_tick, n, at));
  }

  void change(const std::string& kind, int n) {
    int held = 0;
    for (int p = 0; p < partition_count; ++p)
      held += db_.owner(p) == n;
    stats_.changes.push_back({kind, n, now_, held, 0});
  }

  void dispatch(const event& e) {
    if (runs_in_node(e.kind)) {
      auto& nd = node(e.node);
      if (!nd.alive || e.incarnation != nd.incarnation)
        return; // the process is gone
      if (nd.paused) {
        nd.deferred.push_back(e);
        return;
      }
    }
    switch (e.kind) {
      case event_kind::scan_tick: return scan_tick(e);
      case event_kind::scan_apply: return scan_apply(e);
      case event_kind::scan_reply: return scan_reply(e);
      case event_kind::load_done: return load_done(e);
      case event_kind::timer: return timer(e);
      case event_kind::batch_apply: return batch_apply(e);
      case event_kind::batch_reply: return batch_reply(e);
      case event_kind::crash: return crash(e.node);
      case event_kind::pause: return pause(e.node, micros(e.payload));
      case event_kind::wake: return wake(e.node);
      case event_kind::join:
        change("join", e.node);
        return start_node(e.node, now_);
    }
  }

  // -- membership (actors/membership.cpp) ------------------------------------

  void scan_tick(const event& e) {
    auto ev = node_event(event_kind::scan_apply, e.node,
                         now_ + network_one_way
                           + lognormal_ms(scan_p50_ms, scan_sigma));
    push(ev);
  }

  struct scan_result {
    std::vector<int> lost;
    std::vector<partition_id> released;
    std::vector<partition_lease> taken;
    std::optional<micros> peer_lease_left;
  };

  void scan_apply(const event& e) {
    auto& nd = node(e.node);
    if (!nd.alive || e.incarnation != nd.incarnation)
      return; // its connection closed with the process: rolled back
    db_.renew(e.node, now_);
    auto live = db_.live_ids(now_);
    auto rows = db_.rows(now_);
    auto plan = plan_scan(db_.id_of(e.node), nd.held, live, rows,
                          static_cast<std::size_t>(max_release));
    scan_result r;
    r.peer_lease_left = db_.peer_lease_left(e.node, now_);
    r.lost = std::move(plan.lost);
    r.released = db_.release(e.node, plan.release);
    for (auto p : r.released)
      check_.on_release(now_, p.value, e.node);
    std::vector<int> before;
    for (auto p : plan.acquire)
      before.push_back(db_.owner(p.value));
    r.taken = db_.acquire(e.node, plan.acquire, now_);
    for (const auto& l : r.taken) {
      int prev = previous_owner(plan.acquire, before, l.partition);
      check_.on_acquire(now_, l.partition.value, e.node, l.epoch,
                        prev >= 0 && prev != e.node && db_.live(prev, now_));
      on_moved(l.partition.value, e.node);
    }
    auto id = next_payload_++;
    scans_[id] = std::move(r);
    auto reply = node_event(event_kind::scan_reply, e.node,
                            now_ + network_one_way);
    reply.incarnation = e.incarnation;
    reply.payload = id;
    push(reply);
  }

  static int previous_owner(const std::vector<partition_id>& asked,
                            const std::vector<int>& before, partition_id p) {
    for (std::size_t i = 0; i < asked.size(); ++i)
      if (asked[i] == p)
        return before[i];
    return -1;
  }

  void on_moved(int p, int to) {
    stats_.changes.back().moved += 1;
    auto it = waiting_takeover_.find(p);
    if (it != waiting_takeover_.end() && it->second.victim != to) {
      stats_.takeover_writable.push_back(now_ - it->second.since);
      waiting_serving_[p] = {to, it->second.since};
      waiting_takeover_.erase(it);
    }
  }

  void scan_reply(const event& e) {
    auto& nd = node(e.node);
    auto r = std::move(scans_.at(e.payload));
    scans_.erase(e.payload);
    for (int p : r.lost)
      drop(nd, p);
    for (auto p : r.released)
      drop(nd, p.value);
    for (const auto& l : r.taken) {
      nd.held[l.partition.value] = l.epoch;
      nd.gen[static_cast<std::size_t>(l.partition.value)] += 1;
      nd.load_queue.push_back(l.partition.value);
    }
    next_load(e.node);
    // membership.cpp's next_scan_in: sooner when a peer's lease ends first.
    std::optional<std::chrono::microseconds> left;
    if (r.peer_lease_left)
      left = std::chrono::microseconds{*r.peer_lease_left};
    auto wait = next_scan_in(std::chrono::microseconds{renew_every}, left);
    push(node_event(event_kind::scan_tick, e.node,
                    now_ + nd.clock.real_of(wait.count())));
  }

  void drop(sim_node& nd, int p) {
    nd.held.erase(p);
    nd.gen[static_cast<std::size_t>(p)] += 1; // its actors and timers go
  }

  // -- recovery (supervisor) and timers (patch_actor) -------------------------

  void next_load(int n) {
    auto& nd = node(n);
    while (!nd.loading && !nd.load_queue.empty()) {
      int p = nd.load_queue.front();
      nd.load_queue.erase(nd.load_queue.begin());
      if (nd.held.count(p) == 0)
        continue;
      auto count = by_partition_[static_cast<std::size_t>(p)].size();
      auto e = node_event(event_kind::load_done, n,
                          now_ + 1 * ms
                            + static_cast<micros>(double(count)
                                                  / reload_per_second * sec));
      e.a = p;
      e.gen = nd.gen[static_cast<std::size_t>(p)];
      nd.loading = true;
      push(e);
    }
  }

  void load_done(const event& e) {
    auto& nd = node(e.node);
    nd.loading = false;
    int p = e.a;
    if (nd.held.count(p) > 0 && nd.gen[static_cast<std::size_t>(p)] == e.gen) {
      auto it = waiting_serving_.find(p);
      if (it != waiting_serving_.end() && it->second.to == e.node) {
        stats_.takeover_serving.push_back(now_ - it->second.since);
        waiting_serving_.erase(it);
      }
      for (int d : by_partition_[static_cast<std::size_t>(p)])
        arm(e.node, d, db_.level[static_cast<std::size_t>(d)], true);
    }
    next_load(e.node);
  }

  // Arms the timer of the level after `level` (patch_actor's arm_timer):
  // for the node's wall clock; a level already due fires at once, unless
  // that defence is broken and this is a reload.
  void arm(int n, int d, int level, bool reload) {
    const auto& o = decisions_[static_cast<std::size_t>(d)];
    auto next = next_escalation(policy_, o.priority, o.deadline, level);
    if (!next)
      return;
    auto& nd = node(n);
    auto wall = nd.clock.wall(now_);
    if (reload && c_.broken.rearm && sim_time(*next) < wall)
      return;
    auto e = node_event(event_kind::timer, n,
                        nd.clock.fire_time(now_, sim_time(*next)));
    e.a = d;
    e.b = level + 1;
    e.gen = nd.gen[static_cast<std::size_t>(o.partition)];
    push(e);
  }

  void timer(const event& e) {
    auto& nd = node(e.node);
    int p = decisions_[static_cast<std::size_t>(e.a)].partition;
    if (nd.held.count(p) == 0 || nd.gen[static_cast<std::size_t>(p)] != e.gen)
      return; // the decision left this node
    nd.queue.push_back({e.a, e.b, p, e.gen});
    send_batch(e.node);
  }

  // -- group commits (auditor, hitl_advance_chains) ---------------------------

  void send_batch(int n) {
    auto& nd = node(n);
    if (nd.in_flight || nd.queue.empty())
      return;
    commit_batch b;
    b.node = n;
    for (auto& item : nd.queue) {
      auto it = nd.held.find(item.partition);
      if (it == nd.held.end())
        continue; // refused at once: not held
      b.epochs[item.partition] = it->second;
      b.items.push_back(item);
    }
    nd.queue.clear();
    if (b.items.empty())
      return;
    nd.in_flight = true;
    auto id = next_payload_++;
    batches_[id] = std::move(b);
    auto e = node_event(event_kind::batch_apply, n,
                        now_ + network_one_way
                          + lognormal_ms(commit_p50_ms, commit_sigma));
    e.payload = id;
    push(e);
  }

  void batch_apply(const event& e) {
    auto& b = batches_.at(e.payload);
    auto& nd = node(e.node);
    if (!nd.alive || e.incarnation != nd.incarnation) {
      batches_.erase(e.payload); // killed before COMMIT: rolled back
      return;
    }
    ++stats_.batches;
    if (!c_.broken.fence)
      for (const auto& [p, epoch] : b.epochs)
        if (!db_.holds(e.node, {partition_id{p}, epoch}))
          b.refused = true;
    if (b.refused) {
      stats_.fenced_batches += 1;
      stats_.fenced_writes += b.items.size();
    } else {
      for (const auto& item : b.items) {
        auto& level = db_.level[static_cast<std::size_t>(item.decision)];
        bool ok = c_.broken.version || level == item.level - 1;
        b.accepted.push_back(ok);
        if (!ok) {
          ++stats_.version_conflicts;
          continue;
        }
        check_.on_commit(now_, item.partition, e.node,
                         b.epochs.at(item.partition), item.decision,
                         item.level);
        level = item.level;
        ++stats_.commits;
        const auto& o = decisions_[static_cast<std::size_t>(item.decision)];
        auto due = escalation_time(policy_, o.priority, o.deadline, item.level);
        stats_.lateness.push_back(now_ - sim_time(*due));
      }
    }
    auto reply = node_event(event_kind::batch_reply, e.node,
                            now_ + network_one_way);
    reply.incarnation = e.incarnation;
    reply.payload = e.payload;
    push(reply);
  }

  void batch_reply(const event& e) {
    auto& nd = node(e.node);
    auto b = std::move(batches_.at(e.payload));
    batches_.erase(e.payload);
    nd.in_flight = false;
    if (b.refused) {
      // handle_fenced: read the leases again; what is still held goes back
      // to the front of the queue, the rest is refused.
      for (const auto& [p, epoch] : b.epochs)
        if (!db_.holds(e.node, {partition_id{p}, epoch}))
          drop(nd, p);
      std::vector<queued_escalation> again;
      for (const auto& item : b.items)
        if (nd.held.count(item.partition) > 0)
          again.push_back(item);
      nd.queue.insert(nd.queue.begin(), again.begin(), again.end());
    } else {
      for (std::size_t i = 0; i < b.items.size(); ++i) {
        const auto& item = b.items[i];
        // The decision's actor arms its next level, unless it left the
        // node (or was loaded again, and armed by that load) meanwhile.
        if (b.accepted[i] && nd.held.count(item.partition) > 0
            && nd.gen[static_cast<std::size_t>(item.partition)] == item.gen)
          arm(e.node, item.decision, item.level, false);
      }
    }
    send_batch(e.node);
  }

  // -- faults -------------------------------------------------------------------

  void crash(int n) {
    auto& nd = node(n);
    if (!nd.alive)
      return;
    change("crash", n);
    await_takeover(n);
    nd.alive = false;
    nd.incarnation += 1;
  }

  void pause(int n, micros how_long) {
    auto& nd = node(n);
    if (!nd.alive || nd.paused)
      return;
    change("pause", n);
    await_takeover(n);
    nd.paused = true;
    event w{now_ + how_long, 0, event_kind::wake, n};
    push(w);
  }

  void wake(int n) {
    auto& nd = node(n);
    if (!nd.alive)
      return;
    change("wake", n);
    nd.paused = false;
    // Woken before its lease ran out on the database's clock (or before a
    // scan of another node saw it had): what it still holds was never
    // taken over, and is not waited for.
    for (auto it = waiting_takeover_.begin(); it != waiting_takeover_.end();)
      it = it->second.victim == n && db_.owner(it->first) == n
             ? waiting_takeover_.erase(it)
             : std::next(it);
    // Everything that came due while stopped runs now, in its order.
    auto deferred = std::move(nd.deferred);
    nd.deferred.clear();
    for (auto e : deferred) {
      e.at = now_;
      push(e);
    }
  }

  void await_takeover(int n) {
    for (int p = 0; p < partition_count; ++p)
      if (db_.owner(p) == n)
        waiting_takeover_[p] = {n, now_};
  }

  // -- the end --------------------------------------------------------------

  void check_nothing_lost() {
    auto by = stamp(c_.horizon - c_.lost_budget);
    for (int d = 0; d < c_.decisions; ++d) {
      const auto& o = decisions_[static_cast<std::size_t>(d)];
      int want = due_level(policy_, o.priority, o.deadline, by);
      stats_.escalations_due += static_cast<std::uint64_t>(want);
      if (check_.committed_level(d) < want)
        throw invariant_violation(
          "no escalation lost: decision " + std::to_string(d) + " level "
          + std::to_string(want) + " was due at "
          + std::to_string(double(sim_time(*escalation_time(
                             policy_, o.priority, o.deadline, want)))
                           / sec)
          + " s and is not committed at the end ("
          + std::to_string(c_.horizon / sec) + " s, budget "
          + std::to_string(c_.lost_budget / sec) + " s)");
    }
  }

  void finish() {
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (!db_.live(static_cast<int>(n), now_))
        continue;
      int owned = 0;
      for (int p = 0; p < partition_count; ++p)
        owned += db_.owner(p) == static_cast<int>(n);
      stats_.owned_at_end.push_back(owned);
      stats_.live_at_end += 1;
    }
  }

  struct takeover_wait {
    int victim;
    micros since;
  };
  struct serving_wait {
    int to;
    micros since;
  };

  const sim_config& c_;
  std::mt19937_64 rng_;
  policy_config policy_;
  database_model db_;
  invariant_checker check_;
  event_queue q_;
  micros now_ = 0;
  std::vector<sim_node> nodes_;
  std::vector<open_decision> decisions_;
  std::vector<std::vector<int>> by_partition_;
  std::map<std::uint64_t, scan_result> scans_;
  std::map<std::uint64_t, commit_batch> batches_;
  std::uint64_t next_payload_ = 0;
  std::map<int, takeover_wait> waiting_takeover_;
  std::map<int, serving_wait> waiting_serving_;
  sim_stats stats_;
};

} // namespace

sim_stats run_simulation(const sim_config& c) {
  return cluster_sim(c).run();
}

} // namespace hitl::sim
