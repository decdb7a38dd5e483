#include "actors/cluster_feed.hpp"

#include "actors/change_clock.hpp"
#include "actors/guarded_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <unordered_map>
#include <vector>

namespace hitl {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using wait_over = caf::atom_constant<caf::atom("wait_over")>;

/// A long-poll that ran out of time.
struct feed_wait_expiry {
  std::string decision_id;
  uint64_t token = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_wait_expiry& x) {
  return f(caf::meta::type_name("feed_wait_expiry"), x.decision_id, x.token);
}

using feed_impl = cluster_feed_actor::extend<
  caf::reacts_to<tick_atom>, caf::reacts_to<wait_over, feed_wait_expiry>>;

/// Not known yet: the first read gives the partition's head, and what came
/// before it is history, not news.
constexpr int64_t unknown = -1;

/// A change of this node that came before the entries ahead of it in its
/// partition were read: published once they are.
struct held_change {
  int64_t last_pseq = 0;
  std::vector<committed_event> events;
};

/// Bounds what is held for a gap that does not fill: beyond it the feed
/// gives up its place (resync) rather than grow.
constexpr size_t max_held_changes = 10000;

struct long_poll {
  uint64_t token = 0;
  caf::response_promise promise;
};

struct cluster_feed_state {
  cluster_feed_options opts;
  std::vector<int64_t> known = std::vector<int64_t>(partition_count, unknown);
  std::array<std::map<int64_t, held_change>, partition_count> held;
  size_t held_count = 0;
  std::vector<feed_listener> listeners;
  std::unordered_map<std::string, std::vector<long_poll>> waits;
  uint64_t next_token = 0;
  bool reading = false;
  /// The read under way brings the decisions' records.
  bool reading_records = true;
  bool read_again = false;
  std::optional<std::chrono::steady_clock::time_point> failing_since;
  bool lost_place = false;
  /// The listeners are told to resync once the feed has its place again.
  bool resync_owed = false;
  /// Events gathered for the listeners, sent once per read or batch.
  std::vector<committed_event> out;
  static inline const char* name = "cluster_feed";
};

using feed_self = guarded_typed<cluster_feed_state, feed_impl>;

void release_waits(feed_self* self, const std::string& id) {
  auto it = self->state.waits.find(id);
  if (it == self->state.waits.end())
    return;
  for (auto& w : it->second)
    w.promise.deliver(true);
  self->state.waits.erase(it);
}

// Passes one change on: its decision's waits end if it is final now.
void emit(feed_self* self, std::vector<committed_event> events) {
  auto& st = self->state;
  for (auto& ev : events) {
    if (ev.record && !is_open(ev.record->status))
      release_waits(self, ev.record->decision_id);
    st.out.push_back(std::move(ev));
  }
}

void flush_out(feed_self* self) {
  auto& st = self->state;
  if (st.out.empty())
    return;
  committed_events shared =
    std::make_shared<const std::vector<committed_event>>(std::move(st.out));
  st.out.clear();
  for (const auto& l : st.listeners)
    self->send(l, atoms::event::value, shared);
}

void set_known(feed_self* self, int p, int64_t pseq) {
  self->state.known[static_cast<size_t>(p)] = pseq;
  if (self->state.opts.positions)
    self->state.opts.positions->set(p, pseq);
}

// Publishes what was held for partition `p` and now follows its position.
void drain(feed_self* self, int p) {
  auto& st = self->state;
  auto& held = st.held[static_cast<size_t>(p)];
  while (!held.empty()) {
    auto it = held.begin();
    auto known = st.known[static_cast<size_t>(p)];
    if (it->second.last_pseq <= known) {
      held.erase(it);
      --st.held_count;
      continue;
    }
    if (it->first != known + 1)
      return;
    auto last = it->second.last_pseq;
    emit(self, std::move(it->second.events));
    held.erase(it);
    --st.held_count;
    set_known(self, p, last);
  }
}

void read_feed(feed_self* self);

// Gives up the feed's place: long-polls end (their callers read the
// database), every cached read is old, and the next read starts from the
// heads; once it has them, listeners resync. Told before, a client that
// read the queue again at once (or while the database was away) would miss
// what was committed until then: not in what it read, and history to the
// feed.
void lose_place(feed_self* self, const char* why) {
  auto& st = self->state;
  spdlog::warn("cluster feed: {}; its clients resync once it reads again",
               why);
  flush_out(self);
  for (auto& h : st.held)
    h.clear();
  st.held_count = 0;
  std::fill(st.known.begin(), st.known.end(), unknown);
  if (st.opts.changes)
    st.opts.changes->everything_changed();
  auto waits = std::move(st.waits);
  st.waits.clear();
  for (auto& [id, polls] : waits)
    for (auto& w : polls)
      w.promise.deliver(true);
  st.resync_owed = true;
  st.lost_place = true;
}

void on_page(feed_self* self, feed_page& page) {
  auto& st = self->state;
  st.reading = false;
  // A stream client that came while entries were read without records
  // would miss their events: it reads the queue again instead.
  if (!st.reading_records && st.opts.audience && st.opts.audience->any()
      && !page.entries.empty())
    for (const auto& l : st.listeners)
      self->send(l, atoms::resync::value);
  st.failing_since.reset();
  st.lost_place = false;
  for (size_t p = 0; p < page.heads.size() && p < st.known.size(); ++p)
    if (st.known[p] == unknown) {
      set_known(self, static_cast<int>(p), page.heads[p]);
      drain(self, static_cast<int>(p));
    }
  if (st.resync_owed) {
    // What came before these heads is in what a client reads now; what
    // comes after, the feed sends.
    flush_out(self);
    for (const auto& l : st.listeners)
      self->send(l, atoms::resync::value);
    st.resync_owed = false;
  }
  std::unordered_map<std::string_view, std::shared_ptr<const decision_record>>
    records;
  for (auto& r : page.records) {
    auto rec = std::make_shared<const decision_record>(std::move(r));
    records.emplace(rec->decision_id, rec);
  }
  for (auto& e : page.entries) {
    auto p = e.partition;
    if (p < 0 || p >= partition_count)
      continue;
    auto known = st.known[static_cast<size_t>(p)];
    if (known == unknown || e.pseq <= known)
      continue;
    auto& held = st.held[static_cast<size_t>(p)];
    auto mine = held.find(e.pseq);
    if (mine != held.end()) {
      drain(self, p); // this node's own change, as it committed it
      continue;
    }
    if (!e.decision_id.empty()) {
      if (st.opts.changes) {
        st.opts.changes->decision_changed(e.decision_id);
        st.opts.changes->queue_changed();
      }
      auto name = event_of(e.action);
      auto rec = records.find(e.decision_id);
      if (name && rec != records.end()) {
        auto shown = std::make_shared<const decision_record>(
          as_of_entry(*rec->second, e));
        std::vector<committed_event> one;
        one.push_back({std::string{*name}, shown, e.added_comment, e.at, p,
                       e.pseq, e.pseq});
        emit(self, std::move(one));
      } else if (is_final_action(e.action)
                 || (rec != records.end() && !is_open(rec->second->status))) {
        release_waits(self, e.decision_id);
      }
    }
    set_known(self, p, e.pseq);
    drain(self, p);
  }
  flush_out(self);
  // A change of this node still held: if the heads say everything before
  // it is committed, yet no entry filled the gap, the log lost entries (or
  // the feed a page): not to be waited on. Otherwise this read's snapshot
  // came before them: read again.
  if (!page.more)
    for (size_t p = 0; p < st.held.size(); ++p) {
      if (st.held[p].empty())
        continue;
      if (p < page.heads.size()
          && page.heads[p] >= st.held[p].begin()->first - 1) {
        lose_place(self, "an entry the heads say is committed was not read");
        break;
      }
      st.read_again = true;
    }
  if (page.more || st.read_again) {
    st.read_again = false;
    read_feed(self);
    return;
  }
  self->delayed_send(self, st.opts.interval, tick_atom::value);
}

void on_failure(feed_self* self, const caf::error&) {
  auto& st = self->state;
  st.reading = false;
  auto now = std::chrono::steady_clock::now();
  if (!st.failing_since)
    st.failing_since = now;
  else if (!st.lost_place && now - *st.failing_since >= st.opts.reset_after)
    lose_place(self, "the database did not answer its reads");
  self->delayed_send(self, st.opts.interval, tick_atom::value);
}

void read_feed(feed_self* self) {
  auto& st = self->state;
  if (st.reading) {
    st.read_again = true;
    return;
  }
  st.reading = true;
  st.reading_records = !st.opts.audience || st.opts.audience->any();
  self->request(st.opts.reader, std::chrono::seconds(5), atoms::feed::value,
                feed_request{st.known, st.reading_records})
    .then([=](feed_page& page) { on_page(self, page); },
          [=](caf::error& err) { on_failure(self, err); });
}

// This node's own commits: published at once unless entries of their
// partition before them have not been read yet.
void on_local(feed_self* self, const committed_events& events) {
  auto& st = self->state;
  bool gap = false;
  size_t i = 0;
  while (i < events->size()) {
    // The events of one change are adjacent and share its entries.
    const auto& first = (*events)[i];
    std::vector<committed_event> change;
    while (i < events->size() && (*events)[i].record == first.record
           && (*events)[i].last_pseq == first.last_pseq)
      change.push_back((*events)[i++]);
    auto p = first.partition;
    if (p < 0 || p >= partition_count)
      continue;
    auto known = st.known[static_cast<size_t>(p)];
    if (known != unknown && first.last_pseq <= known)
      continue; // read from the log already
    if (known == unknown || first.first_pseq == known + 1) {
      emit(self, std::move(change));
      set_known(self, p, first.last_pseq);
      drain(self, p);
      continue;
    }
    if (st.held_count >= max_held_changes) {
      lose_place(self, "too many of this node's changes wait for a read");
      return;
    }
    auto& slot = st.held[static_cast<size_t>(p)][first.first_pseq];
    if (slot.events.empty())
      ++st.held_count;
    slot = held_change{first.last_pseq, std::move(change)};
    gap = true;
  }
  flush_out(self);
  if (gap)
    read_feed(self);
}

feed_impl::behavior_type cluster_feed(feed_self* self,
                                      cluster_feed_options opts) {
  self->state.opts = std::move(opts);
  guard(self, self->state.opts.failures, "cluster_feed",
        [](feed_self* s, const caf::error&) {
          // Half-applied state cannot be trusted: start again from the
          // heads, and keep reading.
          s->state.out.clear();
          lose_place(s, "it failed while applying a read");
          s->state.reading = false;
          s->delayed_send(s, s->state.opts.interval, tick_atom::value);
        });
  self->send(self, tick_atom::value);
  return {
    [=](atoms::event, const committed_events& events) {
      on_local(self, events);
    },
    [=](atoms::subscribe, feed_listener& l) {
      self->state.listeners.push_back(std::move(l));
    },
    [=](atoms::wait, const decision_wait& w) -> caf::result<bool> {
      auto& st = self->state;
      auto promise = self->make_response_promise();
      auto token = ++st.next_token;
      auto id = w.decision_id;
      st.waits[id].push_back(long_poll{token, promise});
      self->delayed_send(self, std::chrono::seconds(w.seconds),
                         wait_over::value, feed_wait_expiry{id, token});
      // Waiting first, then reading: a verdict committed before the read
      // shows in it, one after it comes through the feed.
      self->request(st.opts.reader, std::chrono::seconds(5),
                    atoms::get::value, decision_ref{id})
        .then(
          [=](std::optional<decision_view>& view) {
            if (!view || !is_open(view->record.status))
              release_waits(self, id);
          },
          [=](caf::error&) { release_waits(self, id); });
      return promise;
    },
    [=](wait_over, const feed_wait_expiry& e) {
      auto& waits = self->state.waits;
      auto it = waits.find(e.decision_id);
      if (it == waits.end())
        return;
      auto& polls = it->second;
      for (auto p = polls.begin(); p != polls.end(); ++p)
        if (p->token == e.token) {
          p->promise.deliver(false);
          polls.erase(p);
          break;
        }
      if (polls.empty())
        waits.erase(it);
    },
    [=](tick_atom) { read_feed(self); },
  };
}

} // namespace

cluster_feed_actor spawn_cluster_feed(caf::actor_system& sys,
                                      cluster_feed_options opts) {
  return sys.spawn(cluster_feed, std::move(opts));
}

} // namespace hitl
