#include "actors/notifier.hpp"

#include "actors/atoms.hpp"
#include "actors/crypto_thread_state.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "actors/webhook_sender.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/outbox_repository.hpp"
#include "policy/delivery_rules.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>
#include <unordered_map>

namespace hitl {

namespace {

// Attempts in flight per subscription URL: a receiver that hangs holds up
// this many of its own deliveries, and none of another's.
constexpr size_t per_target = 64;
// How long one pump waits for a transfer to move before it lets the
// mailbox be read.
constexpr auto pump_wait = std::chrono::milliseconds(50);
constexpr auto outbox_tick = std::chrono::milliseconds(500);

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;

struct notifier_state {
  connection_pool* pool = nullptr;
  delivery_settings settings;
  std::vector<webhook_subscription> hooks;
  std::unordered_map<std::string, std::string> secret_by_url;
  std::vector<std::string> urls;
  /// The URLs that may have due deliveries not yet claimed: all of them
  /// after a wake-up or a tick, and one whose last claim filled its room.
  std::set<std::string> maybe_due;
  std::unique_ptr<webhook_sender> sender;
  /// The messages whose attempt is in flight, by outbox id.
  std::unordered_map<int64_t, outbox_message> sending;
  std::string node_id;
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* delivered = nullptr;
  prometheus::Counter* retried = nullptr;
  prometheus::Counter* dead = nullptr;
  bool wake_queued = false;
  bool pump_queued = false;
  /// Released at the first tick: the claims of an earlier run of this node.
  bool released_own = false;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "notifier";
};

// Its own timers and loop besides the protocol: a wake-up after events
// that a webhook wants, the tick for retries that fell due, and the pump
// that moves the attempts in flight.
using notifier_impl = notifier_actor::extend<caf::reacts_to<atoms::flush>,
                                             caf::reacts_to<tick_atom>,
                                             caf::reacts_to<pump_atom>>;

using notifier_self = guarded_typed<notifier_state, notifier_impl>;

// The claims of nodes that are gone (and, the first time, this node's own
// from an earlier run) are due again at once, not when they run out; the
// deliveries to URLs no longer subscribed are marked dead.
void release_claims(notifier_state& st) {
  auto own = st.released_own ? std::string{} : st.node_id;
  try {
    int64_t released = 0;
    int64_t buried = 0;
    st.pool->transact([&](pqxx::transaction_base& txn) {
      released = release_outbox_claims(txn, own);
      buried = bury_orphaned_outbox(txn, st.urls, static_cast<int>(per_target));
    });
    st.released_own = true;
    if (released > 0)
      spdlog::info("notifier: {} webhook deliveries claimed by nodes that "
                   "are gone are due again",
                   released);
    if (buried > 0) {
      st.dead->Increment(static_cast<double>(buried));
      spdlog::warn("notifier: {} webhook deliveries to URLs no longer "
                   "subscribed are dead",
                   buried);
    }
  } catch (const db_error& e) {
    spdlog::warn("notifier: cannot release the claims of nodes that are "
                 "gone: {}",
                 e.what());
  }
}

// Claims what is due for each URL with room, and starts it.
void claim_more(notifier_state& st) {
  std::vector<std::string> urls;
  for (const auto& url : st.maybe_due)
    if (st.sender->in_flight(url) < per_target)
      urls.push_back(url);
  if (urls.empty())
    return;
  // Long enough for the attempt itself and the bookkeeping after it.
  auto lease = st.settings.timeout + std::chrono::seconds(30);
  std::vector<outbox_message> due;
  std::vector<std::string> filled;
  try {
    st.pool->transact([&](pqxx::transaction_base& txn) {
      due.clear();
      filled.clear();
      for (const auto& url : urls) {
        auto room = per_target - st.sender->in_flight(url);
        auto got = claim_due_outbox(txn, url, static_cast<int>(room), lease,
                                    st.node_id);
        if (got.size() == room)
          filled.push_back(url);
        std::move(got.begin(), got.end(), std::back_inserter(due));
      }
    });
  } catch (const db_error& e) {
    spdlog::warn("notifier: cannot read the outbox: {}", e.what());
    st.maybe_due.clear(); // the next tick tries again, not the next pump
    return;
  }
  for (const auto& url : urls)
    st.maybe_due.erase(url);
  st.maybe_due.insert(filled.begin(), filled.end());
  for (auto& m : due) {
    st.sender->add({m.id, m.target_url, m.event, m.delivery_id, m.payload_json,
                    st.secret_by_url.at(m.target_url)});
    st.sending.emplace(m.id, std::move(m));
  }
}

// Records how the attempts that ended went, in one transaction.
void record(notifier_state& st, const std::vector<webhook_response>& ended) {
  if (ended.empty())
    return;
  struct outcome_of {
    const webhook_response* response;
    const outbox_message* message;
    delivery_outcome outcome;
  };
  std::vector<outcome_of> outcomes;
  for (const auto& r : ended) {
    const auto& m = st.sending.at(r.outbox_id);
    auto outcome = classify_delivery(r.answered, r.status);
    if (outcome == delivery_outcome::retry
        && m.attempts + 1 >= st.settings.max_attempts)
      outcome = delivery_outcome::dead;
    outcomes.push_back({&r, &m, outcome});
  }
  std::uniform_real_distribution<double> jitter{0.0, 1.0};
  bool recorded = true;
  try {
    st.pool->transact([&](pqxx::transaction_base& txn) {
      for (const auto& o : outcomes) {
        const auto& r = *o.response;
        switch (o.outcome) {
          case delivery_outcome::delivered:
            mark_outbox_delivered(txn, r.outbox_id);
            break;
          case delivery_outcome::retry:
            mark_outbox_retry(txn, r.outbox_id,
                              retry_delay(st.settings.initial_backoff,
                                          st.settings.max_backoff,
                                          o.message->attempts + 1,
                                          jitter(st.rng)),
                              r.error);
            break;
          case delivery_outcome::dead:
            mark_outbox_dead(txn, r.outbox_id, r.error);
            break;
        }
      }
    });
  } catch (const db_error& e) {
    // Their claims are released when they run out, or when this node
    // starts again: sent again, at least once.
    spdlog::warn("notifier: cannot record deliveries: {}", e.what());
    recorded = false;
  }
  for (const auto& o : outcomes) {
    if (recorded) {
      switch (o.outcome) {
        case delivery_outcome::delivered:
          st.delivered->Increment();
          break;
        case delivery_outcome::retry:
          st.retried->Increment();
          break;
        case delivery_outcome::dead:
          st.dead->Increment();
          spdlog::warn("notifier: gave up on delivery {} to {}: {}",
                       o.message->delivery_id, o.message->target_url,
                       o.response->error);
          break;
      }
    }
    st.sending.erase(o.response->outbox_id);
  }
}

// Starts what is due and has room, moves the attempts in flight on for up
// to pump_wait, records those that ended, and goes on (as a message, so
// that the mailbox is read in between) while any is in flight.
void pump(notifier_self* self) {
  auto& st = self->state;
  claim_more(st);
  auto wait = st.sender->in_flight() > 0 ? pump_wait
                                         : std::chrono::milliseconds(0);
  record(st, st.sender->poll(wait));
  bool more = st.sender->in_flight() > 0;
  for (const auto& url : st.maybe_due)
    more = more || st.sender->in_flight(url) < per_target;
  if (more && !st.pump_queued) {
    st.pump_queued = true;
    self->send(self, pump_atom::value);
  }
}

notifier_impl::behavior_type
notifier(notifier_self* self, connection_pool* pool, service_settings config,
         std::shared_ptr<prometheus::Registry> registry) {
  // Kept alive: what a failed pump claimed is claimed again when the claim
  // runs out (at least once). Only its tick must not be lost with it.
  guard(self, actor_failures{registry}, "notifier",
        [](notifier_self* self, const caf::error&) {
          auto* failed = self->current_mailbox_element();
          if (failed && failed->content().match_elements<tick_atom>())
            self->delayed_send(self, outbox_tick, tick_atom::value);
        });
  auto& st = self->state;
  st.pool = pool;
  st.settings = config.notifications;
  st.hooks = config.webhooks;
  st.node_id = config.node_id;
  for (const auto& hook : config.webhooks)
    if (st.secret_by_url.emplace(hook.url, hook.secret).second)
      st.urls.push_back(hook.url);
  st.sender = std::make_unique<webhook_sender>(st.settings.timeout);
  st.registry = std::move(registry);
  auto& family = prometheus::BuildCounter()
                   .Name("hitl_notifications_total")
                   .Help("Webhook delivery attempts by result")
                   .Register(*st.registry);
  st.delivered = &family.Add({{"result", "delivered"}});
  st.retried = &family.Add({{"result", "retry"}});
  st.dead = &family.Add({{"result", "dead"}});
  self->send(self, tick_atom::value);
  auto all_may_be_due = [self] {
    auto& st = self->state;
    st.maybe_due.insert(st.urls.begin(), st.urls.end());
  };
  return {
    [=](atoms::event, const committed_events& events) {
      // The auditor wrote outbox rows for an event only if a webhook wants
      // it; otherwise there is nothing new to look for.
      const auto& hooks = self->state.hooks;
      auto wanted = [&](const committed_event& ev) {
        return std::any_of(hooks.begin(), hooks.end(),
                           [&](const webhook_subscription& h) {
                             return h.wants(ev.name);
                           });
      };
      if (std::none_of(events->begin(), events->end(), wanted))
        return;
      if (!self->state.wake_queued) {
        self->state.wake_queued = true;
        self->send(self, atoms::flush::value);
      }
    },
    [=](atoms::flush) {
      self->state.wake_queued = false;
      all_may_be_due();
      pump(self);
    },
    [=](pump_atom) {
      self->state.pump_queued = false;
      pump(self);
    },
    [=](tick_atom) {
      release_claims(self->state);
      all_may_be_due();
      pump(self);
      self->delayed_send(self, outbox_tick, tick_atom::value);
    },
  };
}

} // namespace

notifier_actor spawn_notifier(caf::actor_system& sys, connection_pool& pool,
                              const service_settings& config,
                              std::shared_ptr<prometheus::Registry> registry) {
  auto a = sys.spawn<caf::detached>(notifier, &pool, config,
                                    std::move(registry));
  release_crypto_state_at_exit(caf::actor_cast<caf::actor>(a));
  return a;
}

} // namespace hitl
