#include "actors/supervisor.hpp"

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/patch_actor.hpp"
#include "actors/service_error.hpp"
#include "policy/escalation_schedule.hpp"
#include "policy/lifecycle.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace hitl {

namespace {

constexpr auto commit_timeout = std::chrono::seconds(10);
constexpr auto read_timeout = std::chrono::seconds(5);
/// Dormant patch actors woken per message, so that a wave of deadlines does
/// not hold up the requests queued behind it.
constexpr size_t wake_batch = 5000;

struct creation {
  std::string content_hash;
  std::vector<caf::response_promise> waiters;
};

struct open_entry {
  caf::actor actor;
  std::string patch_id;
  /// Spawned lazily at recovery and sent nothing yet: it has not run, has no
  /// timer and holds no reference but ours.
  bool dormant = false;
};

/// When a dormant patch actor must start so that its next escalation is on
/// time. By actor, not decision: a decision that was rebuilt since has a new
/// actor (which armed its own timer), one that became final has none.
struct wake_entry {
  timestamp due;
  caf::actor_id actor;
};

struct long_poll {
  uint64_t token;
  caf::response_promise promise;
};

/// The open decisions by id, holding the one copy of each id and patch id.
using open_map = std::unordered_map<std::string, open_entry>;
/// An open decision in `open_map` (id, entry): it stays where it is until
/// erased, whatever else the map does.
using open_ref = open_map::value_type*;

struct supervisor_state {
  std::shared_ptr<const policy_config> policy;
  caf::actor auditor;
  caf::actor reader;
  open_map by_id;
  /// Keys view the entries' patch ids. Both indexes hold exactly the
  /// decisions of `by_id`.
  std::unordered_map<std::string_view, open_ref> by_patch;
  std::unordered_map<caf::actor_id, open_ref> by_actor;
  std::unordered_map<std::string, creation> creating;
  std::unordered_set<std::string> creating_patches;
  /// Long-polls waiting for a decision to become final.
  std::unordered_map<std::string, std::vector<long_poll>> waits;
  uint64_t next_token = 0;
  /// The dormant actors' wake-ups, by due time; those before `next_wake`
  /// are done. One timer at a time runs for the first one left.
  std::vector<wake_entry> wakes;
  size_t next_wake = 0;
  bool wake_armed = false;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

std::string new_uuid(std::mt19937_64& rng) {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // variant 1
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

void forget(supervisor_actor* self, const std::string& id) {
  auto& st = self->state;
  auto it = st.by_id.find(id);
  if (it == st.by_id.end())
    return;
  st.by_patch.erase(it->second.patch_id);
  st.by_actor.erase(it->second.actor.id());
  st.by_id.erase(it);
}

caf::actor_id adopt(supervisor_actor* self, decision_record&& rec,
                    patch_start start = patch_start::now) {
  auto& st = self->state;
  auto entry_of = [&] {
    return st.by_id.try_emplace(rec.decision_id,
                                open_entry{caf::actor{}, rec.patch_id,
                                           start
                                             == patch_start::on_first_message});
  };
  auto [pos, added] = entry_of();
  if (!added) { // not expected: the new actor replaces the old one
    forget(self, rec.decision_id);
    pos = entry_of().first;
  }
  auto ref = &*pos;
  auto& entry = ref->second;
  entry.actor = spawn_patch_actor(self->home_system(), std::move(rec),
                                  st.auditor,
                                  caf::actor_cast<caf::actor>(self), st.policy,
                                  start);
  auto aid = entry.actor.id();
  self->monitor(entry.actor);
  st.by_patch[entry.patch_id] = ref;
  st.by_actor[aid] = ref;
  return aid;
}

/// The actor of an open decision, to send it something: from now on it runs.
const caf::actor& child_of(open_entry& entry) {
  entry.dormant = false;
  return entry.actor;
}

// -- waking dormant patch actors ----------------------------------------------

void arm_wake(supervisor_actor* self) {
  auto& st = self->state;
  if (st.wake_armed)
    return;
  if (st.next_wake == st.wakes.size()) {
    st.wakes = std::vector<wake_entry>{}; // all done: give the memory back
    st.next_wake = 0;
    return;
  }
  auto delay = std::max(duration::zero(), st.wakes[st.next_wake].due - now());
  st.wake_armed = true;
  self->delayed_send(self, delay, atoms::wake::value);
}

// Starts every dormant actor whose next escalation is due (it arms its timer,
// which fires at once), at most `wake_batch` per message.
void wake_due(supervisor_actor* self) {
  auto& st = self->state;
  st.wake_armed = false;
  auto t = now();
  size_t n = 0;
  for (; st.next_wake < st.wakes.size() && st.wakes[st.next_wake].due <= t
         && n < wake_batch;
       ++st.next_wake) {
    auto it = st.by_actor.find(st.wakes[st.next_wake].actor);
    if (it == st.by_actor.end())
      continue; // final, or rebuilt since (with a new actor)
    auto& entry = it->second->second;
    if (!entry.dormant)
      continue; // already running: it armed its own timer
    self->send(child_of(entry), atoms::wake::value);
    ++n;
  }
  if (st.next_wake < st.wakes.size() && st.wakes[st.next_wake].due <= t) {
    // More are due: go on after the messages that wait already.
    st.wake_armed = true;
    self->send(self, atoms::wake::value);
    return;
  }
  arm_wake(self);
}

// Adopts the open decisions found at start without running their actors:
// each starts at its first message, from a human action or from the wake-up
// sent when its next escalation is due.
void recover(supervisor_actor* self, std::vector<decision_record>& open) {
  auto started = std::chrono::steady_clock::now();
  auto& st = self->state;
  st.by_id.reserve(open.size());
  st.by_patch.reserve(open.size());
  st.by_actor.reserve(open.size());
  st.wakes.reserve(open.size());
  for (auto& rec : open) {
    std::optional<timestamp> due;
    if (is_open(rec.status) && rec.sla_deadline)
      due = next_escalation(*st.policy, rec.priority, *rec.sla_deadline,
                            rec.escalation_level);
    auto aid = adopt(self, std::move(rec), patch_start::on_first_message);
    if (due)
      st.wakes.push_back(wake_entry{*due, aid});
  }
  std::sort(st.wakes.begin(), st.wakes.end(),
            [](const wake_entry& x, const wake_entry& y) {
              return x.due < y.due;
            });
  st.wakes.shrink_to_fit();
  arm_wake(self);
  if (!open.empty())
    spdlog::info("adopted {} open decisions in {:.3f} s, {} of them with an "
                 "escalation ahead",
                 open.size(),
                 std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count(),
                 st.wakes.size());
}

void release_waits(supervisor_actor* self, const std::string& id) {
  auto it = self->state.waits.find(id);
  if (it == self->state.waits.end())
    return;
  for (auto& w : it->second)
    w.promise.deliver(true);
  self->state.waits.erase(it);
}

// -- creation -----------------------------------------------------------------

void finish_creation(supervisor_actor* self, const std::string& id,
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
void resolve_existing(supervisor_actor* self, const std::string& id,
                      const std::string& patch, const caf::error& err) {
  self->request(self->state.reader, read_timeout, atoms::get::value, id)
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

caf::result<create_result> create(supervisor_actor* self, create_request& req) {
  auto& st = self->state;
  auto hash = content_hash(req.content);
  auto id = req.content.decision_id.value_or(new_uuid(st.rng));
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
    self->request(child_of(it->second), read_timeout, atoms::get::value)
      .then(
        [=](decision_record& rec) mutable {
          if (rec.content_hash == hash)
            promise.deliver(create_result{std::move(rec), false});
          else
            promise.deliver(make_service_error(
              service_errc::conflict,
              "decision " + id + " exists with other content"));
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
  auto ch = create_change(*st.policy, req.content, id, req.caller.name, now());
  auto promise = self->make_response_promise();
  st.creating[id] = creation{hash, {promise}};
  st.creating_patches.insert(patch);
  self
    ->request(st.auditor, commit_timeout, atoms::commit::value,
              commit_request{std::move(ch), req.caller, 0})
    .then(
      [=](commit_receipt& receipt) {
        auto rec = receipt.record;
        if (is_open(rec.status))
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
caf::response_promise explain_missing(supervisor_actor* self, Atom,
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
                now()};
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
                  *v.decision_id)
      .then(
        [=](std::optional<decision_view>& view) mutable {
          on_record(view ? std::optional<decision_record>{view->record}
                         : std::nullopt);
        },
        on_error);
  else
    self->request(self->state.reader, read_timeout, atoms::by_patch::value,
                  v.patch_id)
      .then([=](std::optional<decision_record>& rec) mutable { on_record(rec); },
            on_error);
  return promise;
}

template <class Atom>
caf::result<caf::message> route(supervisor_actor* self, Atom atom,
                                const verdict_request& v) {
  auto& st = self->state;
  if (st.creating_patches.count(v.patch_id) > 0)
    return make_service_error(service_errc::conflict,
                              "the decision of patch " + v.patch_id
                                + " is still being created; retry");
  auto it = st.by_patch.find(v.patch_id);
  if (it == st.by_patch.end()
      || (v.decision_id && *v.decision_id != it->second->first))
    return explain_missing(self, atom, v);
  // Delegation keeps this actor's sends to the child in order, so the
  // `stop` sent after `finished` always comes after every routed request.
  return self->delegate(child_of(it->second->second), atom, v);
}

// -- the actor ----------------------------------------------------------------

caf::behavior supervisor(supervisor_actor* self,
                         std::shared_ptr<const policy_config> policy,
                         caf::actor auditor, caf::actor reader,
                         std::vector<decision_record> open) {
  auto& st = self->state;
  st.policy = std::move(policy);
  st.auditor = std::move(auditor);
  st.reader = std::move(reader);
  recover(self, open);
  open = std::vector<decision_record>{};
  self->set_exit_handler([=](caf::exit_msg& em) {
    // Children are not linked (one failing must not take the others down),
    // so the supervisor stops them itself. A dormant one never ran: it goes
    // with our reference to it, without being scheduled once to quit.
    auto& st = self->state;
    for (auto& [id, entry] : st.by_id)
      if (!entry.dormant)
        self->send_exit(entry.actor, em.reason);
    st.by_patch.clear();
    st.by_actor.clear();
    st.by_id.clear();
    st.wakes = std::vector<wake_entry>{};
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
    self->send(self, atoms::get::value, id, std::string{"rebuild"});
  });
  return {
    [=](atoms::create, create_request& req) { return create(self, req); },
    [=](atoms::approve a, const verdict_request& v) { return route(self, a, v); },
    [=](atoms::reject a, const verdict_request& v) { return route(self, a, v); },
    [=](atoms::cancel a, const verdict_request& v) { return route(self, a, v); },
    [=](atoms::comment a, const verdict_request& v) { return route(self, a, v); },
    [=](atoms::finished, const std::string& id) {
      auto it = self->state.by_id.find(id);
      if (it != self->state.by_id.end()) {
        auto child = it->second.actor;
        forget(self, id);
        self->send(child, atoms::stop::value);
      }
      release_waits(self, id);
    },
    [=](atoms::wait, const std::string& id, int seconds) -> caf::result<bool> {
      auto& st = self->state;
      if (st.by_id.count(id) == 0 && st.creating.count(id) == 0)
        return true; // final, or unknown: the caller reads the database
      auto promise = self->make_response_promise();
      auto token = ++st.next_token;
      st.waits[id].push_back(long_poll{token, promise});
      self->delayed_send(self, std::chrono::seconds(seconds),
                         atoms::wait::value, id, token);
      return promise;
    },
    [=](atoms::wait, const std::string& id, uint64_t token) {
      // That long-poll ran out of time without a verdict.
      auto it = self->state.waits.find(id);
      if (it == self->state.waits.end())
        return;
      auto& polls = it->second;
      for (auto p = polls.begin(); p != polls.end(); ++p)
        if (p->token == token) {
          p->promise.deliver(false);
          polls.erase(p);
          break;
        }
      if (polls.empty())
        self->state.waits.erase(it);
    },
    [=](atoms::get, const std::string& id, const std::string&) {
      // Rebuild a failed patch actor from the database; retry while the
      // database is away.
      self->request(self->state.reader, read_timeout, atoms::get::value, id)
        .then(
          [=](std::optional<decision_view>& view) {
            if (view && is_open(view->record.status)
                && self->state.by_id.count(id) == 0)
              adopt(self, std::move(view->record));
            else
              release_waits(self, id);
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::seconds(1),
                               atoms::get::value, id, std::string{"rebuild"});
          });
    },
    [=](atoms::wake) { wake_due(self); },
    [=](atoms::stats) { return self->state.by_id.size(); },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys,
                            std::shared_ptr<const policy_config> policy,
                            caf::actor auditor, caf::actor reader,
                            std::vector<decision_record> open) {
  return sys.spawn(supervisor, std::move(policy), std::move(auditor),
                   std::move(reader), std::move(open));
}

} // namespace hitl
