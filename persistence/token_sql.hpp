#pragma once

// The SQL of token_repository and token_trail: API tokens, and their
// entries in the audit chain (017).

#include "persistence/sql_statement.hpp"

namespace hitl::sql {

// What a token_info is read from, in read_token's order.
inline constexpr sql_fragment token_columns{"token_columns", R"(id, name, role,
  hitl_micros(created_at), hitl_micros(revoked_at), hitl_micros(last_used_at),
  token_hash, hitl_micros(expires_at))"};

// A token that authenticates: neither revoked nor expired.
inline constexpr sql_fragment token_active{"token_active", R"(
  revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))"};

// A new token ($1 name, $2 role, $3 hash) living $4 microseconds, or for
// ever when NULL.
inline constexpr sql_statement token_insert{"token_insert", R"(
  INSERT INTO hitl_api_tokens (name, role, token_hash, expires_at)
  VALUES ($1, $2, $3, now() + $4::bigint * interval '1 microsecond')
  RETURNING {token_columns})"};

inline constexpr sql_statement token_by_id{"token_by_id", R"(
  SELECT {token_columns} FROM hitl_api_tokens WHERE id = $1)"};

inline constexpr sql_statement token_active_of{"token_active_of", R"(
  SELECT {token_columns} FROM hitl_api_tokens
  WHERE name = $1 AND {token_active})"};

inline constexpr sql_statement token_expired_of{"token_expired_of", R"(
  SELECT {token_columns} FROM hitl_api_tokens
  WHERE name = $1 AND revoked_at IS NULL AND expires_at <= now())"};

// Expired tokens whose expiry has no entry yet; the partial unique index of
// 017 answers the NOT EXISTS.
inline constexpr sql_statement token_unrecorded_expiries{
  "token_unrecorded_expiries", R"(
  SELECT {token_columns} FROM hitl_api_tokens t
  WHERE expires_at <= now()
    AND (revoked_at IS NULL OR revoked_at >= expires_at)
    AND NOT EXISTS (
      SELECT 1 FROM hitl_audit_logs a
      WHERE a.decision_id IS NULL AND a.action = 'token_expired'
        AND (a.details ->> 'token_id')::bigint = t.id)
  ORDER BY id LIMIT 100)"};

inline constexpr sql_statement token_retire_expired{"token_retire_expired", R"(
  UPDATE hitl_api_tokens SET revoked_at = now()
  WHERE name = $1 AND revoked_at IS NULL AND expires_at <= now())"};

inline constexpr sql_statement token_list{"token_list", R"(
  SELECT {token_columns} FROM hitl_api_tokens
  ORDER BY ({token_active}) DESC, id DESC)"};

inline constexpr sql_statement token_list_active{"token_list_active", R"(
  SELECT {token_columns} FROM hitl_api_tokens WHERE {token_active})"};

inline constexpr sql_statement token_revoke{"token_revoke", R"(
  UPDATE hitl_api_tokens SET revoked_at = now()
  WHERE name = $1 AND {token_active})"};

// The last use of the tokens $1 (an array), noted at most once a minute.
inline constexpr sql_statement token_touch{"token_touch", R"(
  UPDATE hitl_api_tokens SET last_used_at = now()
  WHERE id = ANY($1::bigint[])
    AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"};

inline constexpr sql_statement token_find{"token_find", R"(
  SELECT {token_columns} FROM hitl_api_tokens
  WHERE token_hash = $1 AND {token_active})"};

// -- the tokens' audit entries (token_trail) ---------------------------------

inline constexpr sql_statement token_trail_session_user{
  "token_trail_session_user", "SELECT session_user::text"};

// Token $1's entry of action $2: one probe of the partial unique index of
// 017.
inline constexpr sql_statement token_trail_has{"token_trail_has", R"(
  SELECT 1 FROM hitl_audit_logs
  WHERE decision_id IS NULL AND action = $2
    AND (details ->> 'token_id')::bigint = $1)"};

// Each token against its entries, for `audit verify`. Tokens created
// before 017 was applied predate the token entries.
inline constexpr sql_statement token_trail_check{"token_trail_check", R"(
  SELECT t.id, t.name, t.role,
    t.created_at < coalesce((SELECT applied_at FROM schema_migrations
                             WHERE version = 17), '-infinity'),
    c.details ->> 'name', c.details ->> 'role', c.seq,
    t.revoked_at IS NOT NULL
      AND (t.expires_at IS NULL OR t.revoked_at < t.expires_at)
      AND NOT EXISTS (
        SELECT 1 FROM hitl_audit_logs r
        WHERE r.decision_id IS NULL AND r.action = 'token_revoked'
          AND (r.details ->> 'token_id')::bigint = t.id)
  FROM hitl_api_tokens t
  LEFT JOIN hitl_audit_logs c
    ON c.decision_id IS NULL AND c.action = 'token_created'
       AND (c.details ->> 'token_id')::bigint = t.id
  ORDER BY t.id)"};

inline constexpr sql_fragment token_fragments[] = {token_columns,
                                                   token_active};

inline constexpr sql_statement token_statements[] = {
  token_insert,      token_by_id,
  token_active_of,   token_expired_of,
  token_unrecorded_expiries, token_retire_expired,
  token_list,        token_list_active,
  token_revoke,      token_touch,
  token_find,        token_trail_session_user,
  token_trail_has,   token_trail_check};

} // namespace hitl::sql
