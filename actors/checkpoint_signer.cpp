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

// Where `now` is not at or past what `last` vouched for: a chain moved
// backwards or sideways, or the prefix changed. Empty when it is.
std::string rewound(const audit_checkpoint& last, const chain_heads& now) {
  if (!last.heads) {
    // A checkpoint of the single chain, now the common prefix.
    if (last.seq > now.prefix.seq
        || (last.seq == now.prefix.seq && last.hash != now.prefix.hash))
      return "the common prefix ends at seq " + std::to_string(now.prefix.seq)
             + ", but the last checkpoint is seq " + std::to_string(last.seq);
    return {};
  }
  if (last.heads->prefix != now.prefix)
    return "the common prefix changed";
  for (size_t p = 0; p < now.partitions.size(); ++p) {
    const auto& was = last.heads->partitions[p];
    const auto& is = now.partitions[p];
    if (is.seq < was.seq || (is.seq == was.seq && is.hash != was.hash))
      return "partition " + std::to_string(p) + "'s chain is at entry "
             + std::to_string(is.seq) + " (" + is.hash.substr(0, 12)
             + "), but the last checkpoint has it at entry "
             + std::to_string(was.seq) + " (" + was.hash.substr(0, 12) + ")";
  }
  return {};
}

// Chains that are not past the last checkpoint, or did not move: signing
// them would vouch for what tampering made, or for nothing new.
bool refuse(signer_state& st, const committed_chains& chains) {
  if (!st.last)
    return false;
  if (st.last->heads && *st.last->heads == chains.heads)
    return true; // did not move
  auto why = rewound(*st.last, chains.heads);
  if (why.empty())
    return false;
  auto root = chains_root(chains.heads);
  if (st.refused_head != root) {
    st.refused_head = root;
    spdlog::error("checkpoint signer: {}: the chain was cut or rewritten; "
                  "not signing (run `hitl audit verify --public-key PEM`)",
                  why);
  }
  return true;
}

// In the transaction that signs it, so that a checkpoint and its webhook
// go together.
void store(signer_state& st, pqxx::transaction_base& txn,
           const audit_checkpoint& c) {
  insert_checkpoint(txn, c);
  auto payload = webhook_payload(c);
  for (const auto& hook : st.opts.webhooks)
    if (hook.wants("audit.checkpoint"))
      enqueue_outbox(txn, "audit.checkpoint", "", hook.url, payload);
}

void append_to_file(signer_state& st, const audit_checkpoint& c) {
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

// The checkpoint that is due, if one is, of `chains`, after the table's
// last checkpoint `stored` (this node's or another's).
std::optional<audit_checkpoint>
due_checkpoint(signer_state& st, steady::time_point started, bool time_due,
               std::optional<audit_checkpoint> stored,
               committed_chains chains) {
  const auto& s = st.opts.settings;
  // The table is the owner's to write: a row this key did not sign is no
  // base for the next count.
  const auto& key = st.opts.key->public_key();
  if (stored && checkpoint_fault(*stored, key)) {
    if (!st.loaded)
      spdlog::warn("checkpoint signer: the last checkpoint (seq {}) is not "
                   "signed by key {}; counting the chain afresh",
                   stored->seq, key.key_id());
    stored.reset();
  }
  st.loaded = true;
  if (stored && (!st.last || stored->at > st.last->at)) {
    // Signed by another node (or before a restart): the next one is due an
    // interval after it.
    auto age = now() - stored->at;
    if (age >= duration::zero() && age < s.checkpoint_interval) {
      st.next_due = started + (s.checkpoint_interval - age);
      time_due = false;
    }
    st.last = std::move(stored);
  }
  if (time_due)
    st.next_due = started + s.checkpoint_interval;
  auto count = chains.heads.count();
  if (count == 0 || refuse(st, chains))
    return std::nullopt;
  bool entries_due =
    s.checkpoint_entries > 0
    && count - (st.last ? st.last->count : 0) >= s.checkpoint_entries;
  if (!time_due && !entries_due)
    return std::nullopt;
  audit_checkpoint c;
  c.seq = chains.max_seq;
  c.hash = chains_root(chains.heads);
  c.at = now();
  c.count = count;
  c.heads = std::move(chains.heads);
  sign_checkpoint(c, *st.opts.key);
  return c;
}

void round(signer_state& st) {
  auto started = steady::now();
  const auto& s = st.opts.settings;
  bool time_due = started >= st.next_due;
  if (!time_due && s.checkpoint_entries == 0)
    return;
  std::optional<audit_checkpoint> signed_now;
  st.pool->transact([&](pqxx::transaction_base& txn) {
    signed_now.reset();
    // The nodes of a cluster sign the same chains: one at a time, each
    // after reading the table's last checkpoint, so that one checkpoint an
    // interval does for all of them. A node that finds another signing
    // skips the round.
    if (!lock_checkpoint_signer(txn))
      return;
    auto stored = last_checkpoint(txn);
    auto chains = read_committed_chains(txn);
    signed_now = due_checkpoint(st, started, time_due, std::move(stored),
                                std::move(chains));
    if (signed_now)
      store(st, txn, *signed_now);
  });
  if (!signed_now)
    return;
  append_to_file(st, *signed_now);
  st.last = std::move(signed_now);
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
