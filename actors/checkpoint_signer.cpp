#include "actors/checkpoint_signer.hpp"

#include "actors/crypto_thread_state.hpp"
#include "actors/guarded_actor.hpp"
#include "persistence/checkpoint_file.hpp"
#include "persistence/checkpoint_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/outbox_repository.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/checkpoint_signature.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace hitl {

struct checkpoint_tick {};

namespace {

constexpr checkpoint_tick tick{};

using steady = std::chrono::steady_clock;

constexpr auto entries_poll = std::chrono::seconds(1);

struct signer_state {
  connection_pool* pool = nullptr;
  checkpoint_signer_options opts;
  bool loaded = false;
  std::optional<audit_checkpoint> last;
  steady::time_point next_due;
  // The head that was refused, so that the error is logged once per head.
  std::string refused_head;
  static inline const char* name = "checkpoint_signer";
};

using signer_self = guarded_typed<signer_state, checkpoint_signer_actor>;

duration tick_interval(const audit_settings& s) {
  if (s.checkpoint_entries > 0)
    return std::min<duration>(s.checkpoint_interval, entries_poll);
  return s.checkpoint_interval;
}

std::string webhook_payload(const audit_checkpoint& c) {
  nlohmann::json j;
  j["at"] = format_iso(c.at);
  j["checkpoint"] = nlohmann::json::parse(to_json_line(c));
  j["event"] = "audit.checkpoint";
  return j.dump();
}

// A chain whose head is not past the last checkpoint moved backwards or
// sideways: signing it would vouch for what tampering made.
bool refuse(signer_state& st, const committed_chain& chain) {
  if (!st.last || chain.head_seq > st.last->seq)
    return false;
  if (chain.head_seq == st.last->seq && chain.head_hash == st.last->hash)
    return true; // did not move
  auto head = std::to_string(chain.head_seq) + ":" + chain.head_hash;
  if (st.refused_head != head) {
    st.refused_head = head;
    spdlog::error("checkpoint signer: the audit chain's head is seq {} ({}), "
                  "but the last checkpoint is seq {} ({}): the chain was cut "
                  "or rewritten; not signing (run `hitl audit verify "
                  "--public-key PEM`)",
                  chain.head_seq, chain.head_hash.substr(0, 12),
                  st.last->seq, st.last->hash.substr(0, 12));
  }
  return true;
}

void store(signer_state& st, const audit_checkpoint& c) {
  auto payload = webhook_payload(c);
  st.pool->transact([&](pqxx::transaction_base& txn) {
    insert_checkpoint(txn, c);
    for (const auto& hook : st.opts.webhooks)
      if (hook.wants("audit.checkpoint"))
        enqueue_outbox(txn, "audit.checkpoint", "", hook.url, payload);
  });
  const auto& file = st.opts.settings.checkpoint_file;
  if (file.empty())
    return;
  try {
    append_checkpoint_line(file, to_json_line(c));
  } catch (const checkpoint_file_error& e) {
    // Stored and sent all the same; the next one is appended again.
    spdlog::error("checkpoint signer: seq {} not in the checkpoint file: {}",
                  c.seq, e.what());
  }
}

void round(signer_state& st) {
  auto started = steady::now();
  const auto& s = st.opts.settings;
  bool time_due = started >= st.next_due;
  if (!time_due && s.checkpoint_entries == 0)
    return;
  committed_chain chain;
  st.pool->read([&](pqxx::transaction_base& txn) {
    if (!st.loaded) {
      st.last = last_checkpoint(txn);
      // The table is the owner's to write: a row this key did not sign
      // is no base for the next count.
      const auto& key = st.opts.key->public_key();
      if (st.last && checkpoint_fault(*st.last, key)) {
        spdlog::warn("checkpoint signer: the last checkpoint (seq {}) is "
                     "not signed by key {}; counting the chain afresh",
                     st.last->seq, key.key_id());
        st.last.reset();
      }
    }
    chain = read_committed_chain(txn, st.last ? st.last->seq : 0);
  });
  st.loaded = true;
  if (time_due)
    st.next_due = started + s.checkpoint_interval;
  if (chain.head_seq == 0 || refuse(st, chain))
    return;
  bool entries_due = s.checkpoint_entries > 0
                     && chain.entries_after >= s.checkpoint_entries;
  if (!time_due && !entries_due)
    return;
  audit_checkpoint c;
  c.seq = chain.head_seq;
  c.hash = chain.head_hash;
  c.at = now();
  c.count = (st.last ? st.last->count : 0) + chain.entries_after;
  sign_checkpoint(c, *st.opts.key);
  store(st, c);
  st.last = std::move(c);
  st.next_due = started + s.checkpoint_interval;
}

checkpoint_signer_actor::behavior_type
checkpoint_signer(signer_self* self, connection_pool* pool,
                  checkpoint_signer_options opts) {
  // What failed is tried again at the next tick; the tick itself must not
  // be lost with it. The last checkpoint is read again, in case the
  // failure came after it was stored.
  guard(self, opts.failures, "checkpoint",
        [](signer_self* self, const caf::error&) {
          self->state.loaded = false;
          auto* failed = self->current_mailbox_element();
          if (failed && failed->content().match_elements<checkpoint_tick>())
            self->delayed_send(self, tick_interval(self->state.opts.settings),
                               tick);
        });
  auto& st = self->state;
  st.pool = pool;
  st.opts = std::move(opts);
  st.next_due = steady::now() + st.opts.settings.checkpoint_interval;
  self->delayed_send(self, tick_interval(st.opts.settings), tick);
  return {
    [=](checkpoint_tick) {
      try {
        round(self->state);
      } catch (const db_error& e) {
        self->state.loaded = false;
        spdlog::warn("checkpoint signer: {}", e.what());
      }
      self->delayed_send(self, tick_interval(self->state.opts.settings),
                         tick);
    },
  };
}

} // namespace

checkpoint_signer_actor
spawn_checkpoint_signer(caf::actor_system& sys, connection_pool& pool,
                        checkpoint_signer_options opts) {
  auto a = sys.spawn<caf::detached>(checkpoint_signer, &pool, std::move(opts));
  release_crypto_state_at_exit(caf::actor_cast<caf::actor>(a));
  return a;
}

} // namespace hitl
