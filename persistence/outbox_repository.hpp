#pragma once

#include "persistence/fwd.hpp"
#include "policy/timestamp.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hitl {

enum class outbox_state : uint8_t { pending, delivered, dead };

/// One event for one subscriber. The delivery id stays the same on every
/// attempt, so receivers can deduplicate.
struct outbox_message {
  int64_t id = 0;
  std::string delivery_id;
  std::string event;
  std::string decision_id;
  std::string target_url;
  std::string payload_json;
  outbox_state state = outbox_state::pending;
  int attempts = 0;
  timestamp next_attempt_at;
  std::optional<std::string> last_error;
  timestamp created_at;
};

/// Queues an event in the caller's transaction; returns its row id. An
/// empty `decision_id` is an event of no decision (audit.checkpoint).
int64_t enqueue_outbox(pqxx::transaction_base& txn, const std::string& event,
                       const std::string& decision_id,
                       const std::string& target_url,
                       const std::string& payload_json);

/// Pending messages to `target_url` whose next attempt is due, oldest
/// first, claimed by `node_id` (empty: no node) for `lease`, on the
/// database's clock: their next attempt moves there, so a second notifier
/// (SKIP LOCKED) or a later round skips them while this one sends. If the
/// sender dies, its claims are released when its node's lease ends
/// (release_outbox_claims), or run out, and the message is sent again: at
/// least once, never lost.
std::vector<outbox_message> claim_due_outbox(pqxx::transaction_base& txn,
                                             const std::string& target_url,
                                             int limit, duration lease,
                                             const std::string& node_id);

/// Marks dead up to `limit` due messages to targets not among
/// `target_urls` (their subscription left the config); returns how many.
int64_t bury_orphaned_outbox(pqxx::transaction_base& txn,
                             const std::vector<std::string>& target_urls,
                             int limit);

/// Makes due again the claims of nodes whose lease ended, and those of
/// `own_node_id` (an earlier run of this node; empty: none). Returns how
/// many.
int64_t release_outbox_claims(pqxx::transaction_base& txn,
                              const std::string& own_node_id);

void mark_outbox_delivered(pqxx::transaction_base& txn, int64_t id);

/// Records a failed attempt; the next one is due `delay` from now.
void mark_outbox_retry(pqxx::transaction_base& txn, int64_t id,
                       duration delay, const std::string& error);

/// Gives up on a message after its last attempt.
void mark_outbox_dead(pqxx::transaction_base& txn, int64_t id,
                      const std::string& error);

/// Messages in a state (all when nullopt), newest first.
std::vector<outbox_message> list_outbox(pqxx::transaction_base& txn,
                                        std::optional<outbox_state> state,
                                        int limit);

/// Puts a dead (or pending) message back in the queue, due now.
bool retry_outbox(pqxx::transaction_base& txn, int64_t id);

std::string_view to_string(outbox_state s);
std::optional<outbox_state> parse_outbox_state(std::string_view s);

} // namespace hitl
