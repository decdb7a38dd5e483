#include "actors/supervisor.hpp"

#include "actors/atoms.hpp"
#include "actors/freed_memory.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "actors/patch_actor.hpp"
#include "actors/request_timeouts.hpp"
#include "actors/service_error.hpp"
#include "policy/decision_id.hpp"
#include "policy/escalation_schedule.hpp"
#include "policy/lifecycle.hpp"
#include "policy/partition.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <random>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace hitl {

namespace {

/// Patch actors of dormant decisions started per message when their
/// escalations fall due, so that a wave of deadlines does not hold up the
/// requests queued behind it.
constexpr size_t wake_batch = 5000;
/// Where a decision that is not dormant is in `supervisor_state::recovered`.
constexpr size_t no_slot = static_cast<size_t>(-1);

struct creation {
  std::string content_hash;
  std::vector<caf::response_promise> waiters;
};

/// An open decision. One found at start stays *dormant* until something
/// must reach it (a human action, or its next escalation falling due): just
/// its record in `recovered`, no actor, no timer. Its actor is spawned then,
/// and arms its SLA timer at once (missed levels escalate at once).
struct open_entry {
  /// Null while dormant.
  patch_actor actor;
  std::string patch_id;
  /// While dormant, where its record is in `recovered`; else `no_slot`.
  size_t slot = no_slot;
};

/// When a dormant decision's actor must start so that its next escalation is
/// on time, by its slot in `recovered` (emptied when the decision starts or
/// stops being open, so a later wake-up finds nothing to do).
struct wake_entry {
  timestamp due;
  size_t slot;
};

/// How the node holds a partition: the epoch its membership holds it at;
/// `not_held`; or `held_unfenced` when there is no membership (a node alone
/// that was never told, which holds every partition).
constexpr int64_t not_held = 0;
constexpr int64_t held_unfenced = -1;

/// The open decisions by id, holding the one copy of each id and patch id.
using open_map = std::unordered_map<std::string, open_entry>;
/// An open decision in `open_map` (id, entry): it stays where it is until
/// erased, whatever else the map does.
using open_ref = open_map::value_type*;

struct supervisor_state {
  std::shared_ptr<const policy_config> policy;
  std::string policy_version; // policy->version(), which hashes
  auditor_actor auditor;
  db_reader_actor reader;
  open_map by_id;
  /// Keys view the entries' patch ids. Both indexes hold exactly the
  /// decisions of `by_id`.
  std::unordered_map<std::string_view, open_ref> by_patch;
  std::unordered_map<caf::actor_id, open_ref> by_actor;
  std::unordered_map<std::string, creation> creating;
  std::unordered_set<std::string> creating_patches;
  /// The records of the decisions found open at start, as loaded; a slot's
  /// record moves into its actor when the decision starts, and the slot's
  /// decision id is empty from then on. Freed when none is dormant.
  std::vector<decision_record> recovered;
  size_t dormant = 0;
  /// The dormant decisions' wake-ups, by due time; those before `next_wake`
  /// are done. One timer at a time runs for the first one left.
  std::vector<wake_entry> wakes;
  size_t next_wake = 0;
  bool wake_armed = false;
  timestamp armed_for; // the due time of the last wake-up armed
  /// By partition: how the node holds it (see `not_held`), and whether its
  /// open decisions are being loaded (requests for it wait: 503, retry).
  std::array<int64_t, partition_count> held{};
  std::array<bool, partition_count> loading{};
  /// Until the partitions of the membership's first word are loaded:
  /// those waiting for that (serve, before it takes requests).
  bool ready = false;
  std::vector<caf::response_promise> ready_waiters;
  std::mt19937_64 rng{std::random_device{}()};
  actor_failures failures;
  wall_clock clock;
  static inline const char* name = "supervisor";
};

/// Its own timers and retries, which no other actor sends.
using rebuild = caf::atom_constant<caf::atom("rebuild")>;
using reload = caf::atom_constant<caf::atom("reload")>;

using supervisor_impl = supervisor_actor::extend<
  caf::reacts_to<atoms::wake>,
  caf::reacts_to<rebuild, decision_ref>,
  caf::reacts_to<reload, held_partitions>>;

using supervisor_self = guarded_typed<supervisor_state, supervisor_impl>;

// A dormant decision's slot is done with (its actor started, or it is no
// longer open): the record there is empty from now on.
void release_slot(supervisor_self* self, size_t slot) {
  auto& st = self->state;
  st.recovered[slot] = decision_record{};
  if (--st.dormant == 0) // give the memory back (`wakes` at the next wake-up)
    st.recovered = std::vector<decision_record>{};
}

void forget(supervisor_self* self, const std::string& id) {
  auto& st = self->state;
  auto it = st.by_id.find(id);
  if (it == st.by_id.end())
    return;
  auto& entry = it->second;
  st.by_patch.erase(entry.patch_id);
  if (entry.actor)
    st.by_actor.erase(entry.actor.id());
  else
    release_slot(self, entry.slot);
  st.by_id.erase(it);
}

// Indexes an open decision (without actor: the caller starts one, or keeps
// it dormant).
open_ref add_open(supervisor_self* self, const decision_record& rec,
                  size_t slot) {
  auto& st = self->state;
  auto entry_of = [&] {
    return st.by_id.try_emplace(rec.decision_id,
                                open_entry{patch_actor{}, rec.patch_id, slot});
  };
  auto [pos, added] = entry_of();
  if (!added) { // not expected: the new decision replaces the old one
    forget(self, rec.decision_id);
    pos = entry_of().first;
  }
  auto ref = &*pos;
  st.by_patch[ref->second.patch_id] = ref;
  return ref;
}

void start_actor(supervisor_self* self, open_ref ref, decision_record&& rec) {
  auto& st = self->state;
  auto& entry = ref->second;
  entry.actor = spawn_patch_actor(self->home_system(), std::move(rec),
                                  st.auditor,
                                  patch_owner{self}, st.policy, st.failures,
                                  st.clock);
  self->monitor(entry.actor);
  st.by_actor[entry.actor.id()] = ref;
}

void adopt(supervisor_self* self, decision_record&& rec) {
  auto ref = add_open(self, rec, no_slot);
  start_actor(self, ref, std::move(rec));
}

/// The actor of an open decision, spawned now if the decision is dormant.
const patch_actor& child_of(supervisor_self* self, open_ref ref) {
  auto& entry = ref->second;
  if (!entry.actor) {
    auto slot = std::exchange(entry.slot, no_slot);
    start_actor(self, ref, std::move(self->state.recovered[slot]));
    release_slot(self, slot);
  }
  return entry.actor;
}

// -- dormant decisions -------------------------------------------------------

void arm_wake(supervisor_self* self) {
  auto& st = self->state;
  if (st.dormant == 0 || st.next_wake == st.wakes.size()) {
    st.wakes = std::vector<wake_entry>{}; // all done: give the memory back
    st.next_wake = 0;
    return;
  }
  auto due = st.wakes[st.next_wake].due;
  // A takeover may add a wake-up before the one armed: arm another (the
  // later one then finds nothing due, or what came due meanwhile).
  if (st.wake_armed && st.armed_for <= due)
    return;
  auto delay = std::max(duration::zero(), due - st.clock());
  st.wake_armed = true;
  st.armed_for = due;
  self->delayed_send(self, delay, atoms::wake::value);
}

// Starts the actor of every dormant decision whose next escalation is due
// (it arms its timer, which fires at once), at most `wake_batch` per message.
void wake_due(supervisor_self* self) {
  auto& st = self->state;
  st.wake_armed = false;
  auto t = st.clock();
  size_t n = 0;
  for (; st.dormant > 0 && st.next_wake < st.wakes.size()
         && st.wakes[st.next_wake].due <= t && n < wake_batch;
       ++st.next_wake) {
    auto slot = st.wakes[st.next_wake].slot;
    if (st.recovered[slot].decision_id.empty())
      continue; // started already (it armed its own timer), or final
    auto it = st.by_id.find(st.recovered[slot].decision_id);
    if (it == st.by_id.end() || it->second.slot != slot)
      continue; // not expected
    child_of(self, &*it);
    ++n;
  }
  if (st.dormant > 0 && st.next_wake < st.wakes.size()
      && st.wakes[st.next_wake].due <= t) {
    // More are due: go on after the messages that wait already.
    st.wake_armed = true;
    self->send(self, atoms::wake::value);
    return;
  }
  arm_wake(self);
}

// Indexes open decisions as dormant (those found at start, or in partitions
// the node took over): no actor is spawned (nor memory taken for one) until
// a human action or the next escalation needs it. Those indexed already
// (created while the loading ran) are left as they are.
void add_dormant(supervisor_self* self, std::vector<decision_record>&& open) {
  auto started = std::chrono::steady_clock::now();
  auto& st = self->state;
  auto n = open.size();
  size_t base = 0;
  if (st.dormant == 0) {
    // The wake-ups left refer to the slots of records given up.
    st.recovered = std::move(open);
    st.wakes.clear();
    st.next_wake = 0;
  } else {
    base = st.recovered.size();
    st.recovered.insert(st.recovered.end(),
                        std::make_move_iterator(open.begin()),
                        std::make_move_iterator(open.end()));
    open = std::vector<decision_record>{};
  }
  st.wakes.erase(st.wakes.begin(),
                 st.wakes.begin() + static_cast<std::ptrdiff_t>(st.next_wake));
  st.next_wake = 0;
  st.by_id.reserve(st.by_id.size() + n);
  st.by_patch.reserve(st.by_patch.size() + n);
  st.wakes.reserve(st.wakes.size() + n);
  size_t added = 0, ahead = 0;
  for (size_t slot = base; slot < st.recovered.size(); ++slot) {
    auto& rec = st.recovered[slot];
    if (!is_open(rec.status) // not expected from the query
        || st.by_id.count(rec.decision_id) > 0) {
      rec = decision_record{};
      continue;
    }
    ++st.dormant;
    ++added;
    add_open(self, rec, slot);
    if (!rec.sla_deadline)
      continue;
    if (auto due = next_escalation(*st.policy, rec.priority, *rec.sla_deadline,
                                   rec.escalation_level)) {
      st.wakes.push_back(wake_entry{*due, slot});
      ++ahead;
    }
  }
  if (st.dormant == 0)
    st.recovered = std::vector<decision_record>{};
  std::sort(st.wakes.begin(), st.wakes.end(),
            [](const wake_entry& x, const wake_entry& y) {
              return x.due < y.due;
            });
  if (base == 0)
    st.wakes.shrink_to_fit();
  arm_wake(self);
  if (added > 0)
    spdlog::info("indexed {} open decisions in {:.3f} s, {} of them with an "
                 "escalation ahead",
                 added,
                 std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count(),
                 ahead);
}

// -- partitions (SPEC §8) ------------------------------------------------------

bool any_loading(const supervisor_state& st) {
  return std::find(st.loading.begin(), st.loading.end(), true)
         != st.loading.end();
}

/// Whether the node holds the partition of `patch_id`.
bool holds(const supervisor_state& st, const std::string& patch_id) {
  return st.held[static_cast<size_t>(partition_of(patch_id).value)]
         != not_held;
}

// Serve takes requests once the partitions of the membership's first word
// are loaded.
void check_ready(supervisor_self* self) {
  auto& st = self->state;
  if (st.ready || any_loading(st))
    return;
  st.ready = true;
  for (auto& w : st.ready_waiters)
    w.deliver(true);
  st.ready_waiters.clear();
}

// The open decisions of partitions the node no longer holds leave it: their
// actors stop, their SLA timers with them (the new owner re-arms them).
void drop_partitions(supervisor_self* self,
                     const std::array<bool, partition_count>& gone) {
  auto& st = self->state;
  std::vector<std::string> ids;
  for (const auto& [id, entry] : st.by_id)
    if (gone[static_cast<size_t>(partition_of(entry.patch_id).value)])
      ids.push_back(id);
  for (const auto& id : ids) {
    auto child = st.by_id.find(id)->second.actor;
    forget(self, id);
    if (child)
      self->send(child, atoms::stop::value);
  }
  if (!ids.empty())
    spdlog::info("let go of {} open decisions of partitions this node no "
                 "longer holds",
                 ids.size());
}

// Loads the open decisions of `parts` (held at `epochs`) and indexes them
// as dormant, so that their missed escalations fire at once and the others
// on time. Meanwhile requests for those partitions are refused (503, retry):
// the loading is then the only source of their decisions, and what it read
// is still true when it arrives.
void load_partitions(supervisor_self* self, held_partitions parts) {
  if (parts.partitions.empty())
    return;
  auto& st = self->state;
  for (int p : parts.partitions)
    st.loading[static_cast<size_t>(p)] = true;
  auto started = std::chrono::steady_clock::now();
  self
    ->request(st.reader, load_timeout, atoms::load_open::value,
              partition_set{parts.partitions})
    .then(
      [=](std::vector<decision_record>& open) {
        auto& st = self->state;
        // Only for partitions still held at the epoch loaded for: one lost
        // meanwhile (and perhaps taken again, with a load of its own) is
        // not this load's.
        std::array<bool, partition_count> keep{};
        bool all = true;
        for (size_t i = 0; i < parts.partitions.size(); ++i) {
          auto p = static_cast<size_t>(parts.partitions[i]);
          keep[p] = st.held[p] == parts.epochs[i];
          if (keep[p])
            st.loading[p] = false;
          else
            all = false;
        }
        if (!all)
          open.erase(std::remove_if(open.begin(), open.end(),
                                    [&](const decision_record& r) {
                                      return !keep[static_cast<size_t>(
                                        partition_of(r.patch_id).value)];
                                    }),
                     open.end());
        spdlog::info("loaded {} open decisions of {} partition(s) in {:.3f} s",
                     open.size(), parts.partitions.size(),
                     std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started)
                       .count());
        auto loaded = open.size();
        add_dormant(self, std::move(open));
        if (loaded >= freed_memory_threshold)
          return_freed_memory();
        check_ready(self);
      },
      [=](caf::error& err) {
        spdlog::warn("could not load the open decisions of {} partition(s) "
                     "({}); retrying in 1 s",
                     parts.partitions.size(), caf::to_string(err));
        self->delayed_send(self, std::chrono::seconds(1), reload::value,
                           parts);
      });
}

// A load that failed, tried again for the partitions still held at the same
// epoch and not loaded since.
void reload_partitions(supervisor_self* self, const held_partitions& parts) {
  auto& st = self->state;
  held_partitions again;
  for (size_t i = 0; i < parts.partitions.size(); ++i) {
    auto p = static_cast<size_t>(parts.partitions[i]);
    if (st.held[p] == parts.epochs[i] && st.loading[p]) {
      again.partitions.push_back(parts.partitions[i]);
      again.epochs.push_back(parts.epochs[i]);
    }
  }
  load_partitions(self, std::move(again));
}

// What the membership says the node holds now: decisions of partitions lost
// (or lost and taken again: another node may have changed them) are let
// go, those of partitions taken are loaded.
void set_partitions(supervisor_self* self, const held_partitions& h) {
  auto& st = self->state;
  std::array<int64_t, partition_count> next{};
  for (size_t i = 0; i < h.partitions.size() && i < h.epochs.size(); ++i)
    if (h.partitions[i] >= 0 && h.partitions[i] < partition_count
        && h.epochs[i] > 0)
      next[static_cast<size_t>(h.partitions[i])] = h.epochs[i];
  std::array<bool, partition_count> gone{};
  bool any_gone = false;
  held_partitions gained;
  for (size_t p = 0; p < next.size(); ++p) {
    auto was = st.held[p], now = next[p];
    if (was == now || (was == held_unfenced && now != not_held))
      continue; // what started with the node stays
    if (was != not_held) {
      gone[p] = true;
      any_gone = true;
      st.loading[p] = false;
    }
    if (now != not_held) {
      gained.partitions.push_back(static_cast<int>(p));
      gained.epochs.push_back(now);
    }
  }
  st.held = next;
  if (any_gone)
    drop_partitions(self, gone);
  load_partitions(self, std::move(gained));
  check_ready(self);
}

/// Refused when another node holds `patch_id`'s partition (moved: the
/// router asks that node), or while its open decisions load here.
std::optional<caf::error> not_here_yet(supervisor_self* self,
                                       const std::string& patch_id) {
  auto& st = self->state;
  if (st.held.front() == held_unfenced)
    return std::nullopt; // no membership: everything is here
  auto p = static_cast<size_t>(partition_of(patch_id).value);
  if (st.held[p] == not_held)
    return make_service_error(service_errc::moved,
                              "partition " + std::to_string(p) + " of patch "
                                + patch_id + " is held by another node");
  if (st.loading[p])
    return make_service_error(service_errc::unavailable,
                              "partition " + std::to_string(p) + " of patch "
                                + patch_id
                                + " is being taken over by this node; retry");
  return std::nullopt;
}

// -- creation -----------------------------------------------------------------

void finish_creation(supervisor_self* self, const std::string& id,
                     const std::string& patch,
                     std::function<void(creation&)> complete) {
  auto& st = self->state;
  auto it = st.creating.find(id);
  st.creating_patches.erase(patch);
  if (it == st.creating.end())
    return;
  auto c = std::move(it->second);
  st.creating.erase(it);
  complete(c);
}

// The id exists in the database (a final decision, or one of another node):
// the same content is an idempotent repeat, other content a conflict.
void resolve_existing(supervisor_self* self, const std::string& id,
                      const std::string& patch, const caf::error& err) {
  self->request(self->state.reader, read_timeout, atoms::get::value,
                decision_ref{id})
    .then(
      [=](std::optional<decision_view>& view) {
        finish_creation(self, id, patch, [&](creation& c) {
          for (auto& w : c.waiters) {
            if (view && view->record.content_hash == c.content_hash)
              w.deliver(create_result{view->record, false});
            else if (view)
              w.deliver(make_service_error(
                service_errc::conflict,
                "decision " + id + " exists with other content"));
            else
              w.deliver(err);
          }
        });
      },
      [=](caf::error& read_err) {
        finish_creation(self, id, patch, [&](creation& c) {
          for (auto& w : c.waiters)
            w.deliver(read_err);
        });
      });
}

// An idempotent repeat of an open decision's creation whose actor does not
// know its place in the chain (loaded at start or at a takeover, unchanged
// since): the place of its latest entry is read, so that the repeat, like
// every write, answers X-HITL-Position (SPEC §8) and its client can read
// its own write on any node.
void repeat_with_position(supervisor_self* self, decision_record rec,
                          caf::response_promise promise) {
  auto id = rec.decision_id;
  self->request(self->state.reader, read_timeout, atoms::get::value,
                decision_ref{id})
    .then(
      [=](std::optional<decision_view>& view) mutable {
        if (view)
          rec.audit_pseq = view->record.audit_pseq;
        promise.deliver(create_result{std::move(rec), false});
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

caf::result<create_result> create(supervisor_self* self, create_request& req) {
  if (auto refused = not_here_yet(self, req.content.patch_id))
    return std::move(*refused);
  auto& st = self->state;
  const auto& hash = req.content_hash;
  auto id = req.content.decision_id ? *req.content.decision_id
                                    : new_decision_id(st.rng, st.clock());
  auto patch = req.content.patch_id;
  if (auto it = st.creating.find(id); it != st.creating.end()) {
    if (it->second.content_hash != hash)
      return make_service_error(service_errc::conflict,
                                "decision " + id
                                  + " is being created with other content");
    auto promise = self->make_response_promise();
    it->second.waiters.push_back(promise);
    return promise;
  }
  if (auto it = st.by_id.find(id); it != st.by_id.end()) {
    auto promise = self->make_response_promise();
    self->request(child_of(self, &*it), read_timeout, atoms::get::value)
      .then(
        [=](decision_record& rec) mutable {
          if (rec.content_hash != hash)
            promise.deliver(make_service_error(
              service_errc::conflict,
              "decision " + id + " exists with other content"));
          else if (rec.audit_pseq > 0)
            promise.deliver(create_result{std::move(rec), false});
          else
            repeat_with_position(self, std::move(rec), promise);
        },
        [=](caf::error& err) mutable { promise.deliver(err); });
    return promise;
  }
  if (auto it = st.by_patch.find(patch);
      it != st.by_patch.end() || st.creating_patches.count(patch) > 0)
    return make_service_error(
      service_errc::conflict,
      "patch " + patch + " already has an open decision"
        + (it != st.by_patch.end() ? " (" + it->second->first + ")" : ""));
  auto ch = create_change(*st.policy, st.policy_version, req.content, hash, id,
                          req.caller.name, st.clock());
  auto promise = self->make_response_promise();
  st.creating[id] = creation{hash, {promise}};
  st.creating_patches.insert(patch);
  self
    ->request(st.auditor, commit_timeout, atoms::commit::value,
              commit_request{std::move(ch), req.caller, 0})
    .then(
      [=](commit_receipt& receipt) {
        auto rec = receipt.record;
        // Committed, then the partition was lost: its new owner loads it.
        if (is_open(rec.status) && holds(self->state, patch))
          adopt(self, decision_record{rec});
        finish_creation(self, id, patch, [&](creation& c) {
          bool first = true;
          for (auto& w : c.waiters) {
            w.deliver(create_result{rec, first});
            first = false;
          }
        });
      },
      [=](caf::error& err) {
        if (service_code(err) == service_errc::conflict)
          resolve_existing(self, id, patch, err);
        else
          finish_creation(self, id, patch, [&](creation& c) {
            for (auto& w : c.waiters)
              w.deliver(err);
          });
      });
  return promise;
}

// -- routing of human actions ------------------------------------------------

// No open decision matches: explain why with what the database knows.
template <class Atom>
caf::response_promise explain_missing(supervisor_self* self, Atom,
                                      const verdict_request& v) {
  auto promise = self->make_response_promise();
  auto on_record = [=](const std::optional<decision_record>& rec) mutable {
    if (!rec || rec->patch_id != v.patch_id) {
      promise.deliver(make_service_error(
        service_errc::not_found,
        v.decision_id ? "no decision " + *v.decision_id + " for patch "
                          + v.patch_id
                      : "no decision for patch " + v.patch_id));
      return;
    }
    if (std::is_same<Atom, atoms::comment>::value) {
      // Comments are welcome on final decisions too.
      comment c{0, rec->decision_id, v.caller.name, v.comment.value_or(""),
                self->state.clock()};
      self
        ->request(self->state.auditor, commit_timeout, atoms::commit::value,
                  commit_request{comment_change(*rec, c), v.caller, 0})
        .then([=](commit_receipt& r) mutable { promise.deliver(*r.comment); },
              [=](caf::error& err) mutable { promise.deliver(err); });
      return;
    }
    if (is_open(rec->status)) {
      // Open in the database but not here: its actor is being rebuilt.
      promise.deliver(make_service_error(
        service_errc::unavailable,
        "decision " + rec->decision_id + " is being reloaded; retry"));
      return;
    }
    promise.deliver(make_service_error(
      service_errc::conflict, "decision " + rec->decision_id + " is already "
                                + std::string{to_string(rec->status)}));
  };
  auto on_error = [=](caf::error& err) mutable { promise.deliver(err); };
  if (v.decision_id)
    self->request(self->state.reader, read_timeout, atoms::get::value,
                  decision_ref{*v.decision_id})
      .then(
        [=](std::optional<decision_view>& view) mutable {
          on_record(view ? std::optional<decision_record>{view->record}
                         : std::nullopt);
        },
        on_error);
  else
    self->request(self->state.reader, read_timeout, atoms::by_patch::value,
                  patch_ref{v.patch_id})
      .then([=](std::optional<decision_record>& rec) mutable { on_record(rec); },
            on_error);
  return promise;
}

/// Refused while the decision of `v`'s patch is being created.
std::optional<caf::error> still_creating(supervisor_self* self,
                                         const verdict_request& v) {
  if (self->state.creating_patches.count(v.patch_id) == 0)
    return std::nullopt;
  return make_service_error(service_errc::conflict,
                            "the decision of patch " + v.patch_id
                              + " is still being created; retry");
}

/// The open decision that `v` is for, if it is open here.
open_ref target_of(supervisor_self* self, const verdict_request& v) {
  auto& st = self->state;
  auto it = st.by_patch.find(v.patch_id);
  if (it == st.by_patch.end()
      || (v.decision_id && *v.decision_id != it->second->first))
    return nullptr;
  return it->second;
}

template <class Reply, class Atom>
caf::result<Reply> route(supervisor_self* self, Atom atom,
                         const verdict_request& v) {
  if (auto refused = still_creating(self, v))
    return std::move(*refused);
  if (auto refused = not_here_yet(self, v.patch_id))
    return std::move(*refused);
  auto ref = target_of(self, v);
  if (!ref)
    return explain_missing(self, atom, v);
  // Delegation keeps this actor's sends to the child in order, so the
  // `stop` sent after `finished` always comes after every routed request.
  return self->delegate(child_of(self, ref), atom, v);
}

// A drill is no part of a patch actor's protocol: sent untyped.
caf::result<caf::message> route_drill(supervisor_self* self,
                                      const failure_drill& d,
                                      const verdict_request& v) {
  if (auto refused = still_creating(self, v))
    return std::move(*refused);
  if (auto refused = not_here_yet(self, v.patch_id))
    return std::move(*refused);
  auto ref = target_of(self, v);
  if (!ref)
    return explain_missing(self, d, v);
  return self->delegate(caf::actor_cast<caf::actor>(child_of(self, ref)), d,
                        v);
}

// -- the actor ----------------------------------------------------------------

supervisor_impl::behavior_type
supervisor(supervisor_self* self, std::shared_ptr<const policy_config> policy,
           auditor_actor auditor, db_reader_actor reader,
           std::optional<std::vector<decision_record>> open,
           actor_failures failures, wall_clock clock) {
  auto& st = self->state;
  // Kept alive, with its index: the handlers compute what can fail (the
  // policy, the records) before they change it, so a failing request leaves
  // it as it was. Rebuilding it would take a full recovery from the
  // database, and every open decision would wait for it.
  guard(self, failures, "supervisor");
  st.failures = std::move(failures);
  st.clock = std::move(clock);
  st.policy = std::move(policy);
  st.policy_version = st.policy->version();
  st.auditor = std::move(auditor);
  st.reader = std::move(reader);
  if (open) { // no membership: the node holds everything
    st.held.fill(held_unfenced);
    st.ready = true;
    add_dormant(self, std::move(*open));
  }
  self->set_exit_handler([=](caf::exit_msg& em) {
    // Children are not linked (one failing must not take the others down),
    // so the supervisor stops them itself; dormant decisions have none.
    for (auto& [id, entry] : self->state.by_id)
      if (entry.actor)
        self->send_exit(entry.actor, em.reason);
    self->quit(em.reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_actor.find(dm.source.id());
    if (it == st.by_actor.end())
      return; // finished and stopped: nothing to rebuild
    auto id = it->second->first;
    spdlog::warn("patch actor of {} failed ({}); rebuilding from the database",
                 id, caf::to_string(dm.reason));
    forget(self, id);
    self->send(self, rebuild::value, decision_ref{id});
  });
  // A drill for the actor of a patch's open decision (see failure_drill):
  // no part of the protocol, so not in the typed behavior.
  self->set_default_handler(
    [=](caf::scheduled_actor* ptr,
        caf::message_view& x) -> caf::result<caf::message> {
      auto& xs = x.content();
      if (xs.match_elements<failure_drill, verdict_request>())
        return route_drill(self, xs.get_as<failure_drill>(0),
                           xs.get_as<verdict_request>(1));
      return supervisor_self::unmatched(ptr, x);
    });
  return {
    [=](atoms::create, create_request& req) { return create(self, req); },
    [=](atoms::approve a, const verdict_request& v) {
      return route<decision_record>(self, a, v);
    },
    [=](atoms::reject a, const verdict_request& v) {
      return route<decision_record>(self, a, v);
    },
    [=](atoms::cancel a, const verdict_request& v) {
      return route<decision_record>(self, a, v);
    },
    [=](atoms::comment a, const verdict_request& v) {
      return route<comment>(self, a, v);
    },
    [=](atoms::finished, const decision_ref& ref) {
      const auto& id = ref.decision_id;
      auto it = self->state.by_id.find(id);
      if (it != self->state.by_id.end()) {
        auto child = it->second.actor;
        forget(self, id);
        self->send(child, atoms::stop::value);
      }
    },
    [=](rebuild, const decision_ref& ref) {
      // Rebuild a failed patch actor from the database; retry while the
      // database is away.
      const auto& id = ref.decision_id;
      self->request(self->state.reader, read_timeout, atoms::get::value,
                    decision_ref{id})
        .then(
          [=](std::optional<decision_view>& view) {
            if (view && is_open(view->record.status)
                && self->state.by_id.count(id) == 0
                && holds(self->state, view->record.patch_id))
              adopt(self, std::move(view->record));
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::seconds(1),
                               rebuild::value, decision_ref{id});
          });
    },
    [=](atoms::wake) { wake_due(self); },
    [=](atoms::partitions, const held_partitions& h) {
      set_partitions(self, h);
    },
    [=](reload, const held_partitions& h) { reload_partitions(self, h); },
    [=](atoms::ready) -> caf::result<bool> {
      if (self->state.ready)
        return true;
      auto promise = self->make_response_promise();
      self->state.ready_waiters.push_back(promise);
      return promise;
    },
    [=](atoms::escalate a, const escalation& e) {
      // A patch actor's SLA timer (see arm_timer). A final decision has no
      // entry, and a dormant one no timer of an actor.
      auto it = self->state.by_id.find(e.decision_id);
      if (it != self->state.by_id.end() && it->second.actor)
        self->send(it->second.actor, a, e);
    },
    [=](atoms::stats) { return self->state.by_id.size(); },
    // For /health: it answers, so it takes requests.
    [=](atoms::ping) { return true; },
  };
}

} // namespace

supervisor_actor
spawn_supervisor(caf::actor_system& sys,
                 std::shared_ptr<const policy_config> policy,
                 auditor_actor auditor, db_reader_actor reader,
                 std::optional<std::vector<decision_record>> open,
                 actor_failures failures, wall_clock clock) {
  return sys.spawn(supervisor, std::move(policy), std::move(auditor),
                   std::move(reader), std::move(open), std::move(failures),
                   std::move(clock));
}

} // namespace hitl
