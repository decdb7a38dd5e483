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
#include <random>
#include <unordered_map>

namespace hitl {

namespace {

constexpr int round_size = 64;
constexpr auto outbox_tick = std::chrono::milliseconds(500);

using tick_atom = caf::atom_constant<caf::atom("tick")>;

struct notifier_state {
  connection_pool* pool = nullptr;
  delivery_settings settings;
  std::vector<webhook_subscription> hooks;
  std::unordered_map<std::string, std::string> secret_by_url;
  std::string node_id;
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* delivered = nullptr;
  prometheus::Counter* retried = nullptr;
  prometheus::Counter* dead = nullptr;
  bool wake_queued = false;
  /// Released at the first tick: the claims of an earlier run of this node.
  bool released_own = false;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "notifier";
};

// Its own timers besides the protocol: a wake-up after events that a
// webhook wants, and the tick for retries that fell due.
using notifier_impl = notifier_actor::extend<caf::reacts_to<atoms::flush>,
                                             caf::reacts_to<tick_atom>>;

using notifier_self = guarded_typed<notifier_state, notifier_impl>;

// The claims of nodes that are gone (and, the first time, this node's own
// from an earlier run) are due again at once, not when they run out.
void release_claims(notifier_state& st) {
  auto own = st.released_own ? std::string{} : st.node_id;
  try {
    int64_t n = 0;
    st.pool->transact([&](pqxx::transaction_base& txn) {
      n = release_outbox_claims(txn, own);
    });
    st.released_own = true;
    if (n > 0)
      spdlog::info("notifier: {} webhook deliveries claimed by nodes that "
                   "are gone are due again",
                   n);
  } catch (const db_error& e) {
    spdlog::warn("notifier: cannot release the claims of nodes that are "
                 "gone: {}",
                 e.what());
  }
}

// Sends what is due; false when there was nothing (or the database is away).
bool deliver_round(notifier_state& st) {
  std::vector<outbox_message> due;
  // Long enough for the attempt itself and the bookkeeping after it.
  auto lease = st.settings.timeout + std::chrono::seconds(30);
  try {
    st.pool->transact([&](pqxx::transaction_base& txn) {
      due = claim_due_outbox(txn, round_size, lease, st.node_id);
    });
  } catch (const db_error& e) {
    spdlog::warn("notifier: cannot read the outbox: {}", e.what());
    return false;
  }
  if (due.empty())
    return false;
  std::vector<webhook_attempt> batch;
  std::vector<const outbox_message*> orphans;
  std::unordered_map<int64_t, const outbox_message*> by_id;
  for (const auto& m : due) {
    by_id[m.id] = &m;
    auto secret = st.secret_by_url.find(m.target_url);
    if (secret == st.secret_by_url.end()) {
      orphans.push_back(&m);
      continue;
    }
    batch.push_back({m.id, m.target_url, m.event, m.delivery_id,
                     m.payload_json, secret->second});
  }
  auto responses = send_webhooks(batch, st.settings.timeout);
  std::uniform_real_distribution<double> jitter{0.0, 1.0};
  try {
    st.pool->transact([&](pqxx::transaction_base& txn) {
      for (const auto* m : orphans) {
        mark_outbox_dead(txn, m->id, "no subscription for this URL any more");
        st.dead->Increment();
      }
      for (size_t i = 0; i < responses.size(); ++i) {
        const auto& r = responses[i];
        const auto& m = *by_id.at(r.outbox_id);
        auto outcome = classify_delivery(r.answered, r.status);
        if (outcome == delivery_outcome::retry
            && m.attempts + 1 >= st.settings.max_attempts)
          outcome = delivery_outcome::dead;
        switch (outcome) {
          case delivery_outcome::delivered:
            mark_outbox_delivered(txn, r.outbox_id);
            st.delivered->Increment();
            break;
          case delivery_outcome::retry:
            mark_outbox_retry(txn, r.outbox_id,
                              retry_delay(st.settings.initial_backoff,
                                          st.settings.max_backoff,
                                          m.attempts + 1, jitter(st.rng)),
                              r.error);
            st.retried->Increment();
            break;
          case delivery_outcome::dead:
            mark_outbox_dead(txn, r.outbox_id, r.error);
            st.dead->Increment();
            spdlog::warn("notifier: gave up on delivery {} to {}: {}",
                         m.delivery_id, m.target_url, r.error);
            break;
        }
      }
    });
  } catch (const db_error& e) {
    // The leases run out and these rows are sent again: at least once.
    spdlog::warn("notifier: cannot record deliveries: {}", e.what());
    return false;
  }
  return true;
}

void run(notifier_self* self) {
  // Bounded, so that messages (and an exit) are looked at between rounds.
  for (int i = 0; i < 8 && deliver_round(self->state); ++i) {
  }
}

notifier_impl::behavior_type
notifier(notifier_self* self, connection_pool* pool, service_settings config,
         std::shared_ptr<prometheus::Registry> registry) {
  // Kept alive: what a failed round leased is leased again when the lease
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
    st.secret_by_url[hook.url] = hook.secret;
  st.registry = std::move(registry);
  auto& family = prometheus::BuildCounter()
                   .Name("hitl_notifications_total")
                   .Help("Webhook delivery attempts by result")
                   .Register(*st.registry);
  st.delivered = &family.Add({{"result", "delivered"}});
  st.retried = &family.Add({{"result", "retry"}});
  st.dead = &family.Add({{"result", "dead"}});
  self->send(self, tick_atom::value);
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
      run(self);
    },
    [=](tick_atom) {
      release_claims(self->state);
      run(self);
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
