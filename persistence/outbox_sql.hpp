#pragma once

// The SQL of outbox_repository: webhook deliveries waiting to be made.

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// What an outbox_message is read from, in read_message's order.
inline constexpr sql_fragment outbox_columns{"outbox_columns", R"(
  id, delivery_id::text, event, decision_id, target_url, payload::text,
  state, attempts, hitl_micros(next_attempt_at), last_error,
  hitl_micros(created_at))"};

inline constexpr sql_statement outbox_insert{"outbox_insert", R"(
  INSERT INTO hitl_outbox (event, decision_id, target_url, payload)
  VALUES ($1, NULLIF($2, ''), $3, $4::jsonb) RETURNING id)"};

// Up to $1 messages to $4 due now, claimed by node $3 ('': none) for $2
// microseconds: other notifiers skip them meanwhile. On the database's
// clock, as the leases are: the nodes' clocks may differ. Per target, so
// that a receiver that hangs holds up only its own deliveries.
inline constexpr sql_statement outbox_claim{"outbox_claim", R"(
  UPDATE hitl_outbox
  SET next_attempt_at = now() + $2::bigint * interval '1 microsecond',
      claimed_by = NULLIF($3, '')::uuid
  WHERE id IN (
    SELECT id FROM hitl_outbox
    WHERE state = 'pending' AND target_url = $4 AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING {outbox_columns})"};

// Up to $2 messages due now to a target none of $1 is (its subscription
// left the config): marked dead, with the reason.
inline constexpr sql_statement outbox_orphans_dead{"outbox_orphans_dead", R"(
  UPDATE hitl_outbox
  SET state = 'dead', attempts = attempts + 1, claimed_by = NULL,
      last_error = 'no subscription for this URL any more'
  WHERE id IN (
    SELECT id FROM hitl_outbox
    WHERE state = 'pending' AND next_attempt_at <= now()
      AND NOT (target_url = ANY($1::text[]))
    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED))"};

// Claims whose node's lease ended, and those of node $1 ('': none; an
// earlier run of it, whose claims died with that process), due again now.
inline constexpr sql_statement outbox_release{"outbox_release", R"(
  UPDATE hitl_outbox o SET claimed_by = NULL, next_attempt_at = now()
  WHERE o.claimed_by IS NOT NULL AND o.state = 'pending'
    AND (o.claimed_by = NULLIF($1, '')::uuid
         OR NOT EXISTS (SELECT 1 FROM hitl_nodes n
                        WHERE n.node_id = o.claimed_by AND n.lease_until > now())))"};

inline constexpr sql_statement outbox_delivered{"outbox_delivered", R"(
  UPDATE hitl_outbox SET state = 'delivered', delivered_at = now(),
    attempts = attempts + 1, last_error = NULL, claimed_by = NULL
  WHERE id = $1)"};

// Tried again $2 microseconds from now.
inline constexpr sql_statement outbox_retry_later{"outbox_retry_later", R"(
  UPDATE hitl_outbox SET attempts = attempts + 1,
    next_attempt_at = now() + $2::bigint * interval '1 microsecond',
    last_error = $3, claimed_by = NULL
  WHERE id = $1)"};

inline constexpr sql_statement outbox_dead{"outbox_dead", R"(
  UPDATE hitl_outbox SET state = 'dead', attempts = attempts + 1,
    last_error = $2, claimed_by = NULL WHERE id = $1)"};

inline constexpr sql_statement outbox_list{"outbox_list", R"(
  SELECT {outbox_columns} FROM hitl_outbox
  WHERE $1::text IS NULL OR state = $1
  ORDER BY id DESC LIMIT $2)"};

inline constexpr sql_statement outbox_requeue{"outbox_requeue", R"(
  UPDATE hitl_outbox SET state = 'pending', next_attempt_at = now(),
    delivered_at = NULL, claimed_by = NULL
  WHERE id = $1 AND state IN ('pending', 'dead'))"};

inline constexpr sql_fragment outbox_fragments[] = {outbox_columns};

inline constexpr sql_statement outbox_statements[] = {
  outbox_insert, outbox_claim, outbox_orphans_dead, outbox_release,
  outbox_delivered,
  outbox_retry_later, outbox_dead, outbox_list, outbox_requeue};

} // namespace hitl::sql
