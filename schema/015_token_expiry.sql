-- Tokens may expire (`hitl token create --expires-in DURATION`); NULL means
-- never. An expired token is as unknown as a revoked one to every lookup.
--
-- The one-active-token-per-name index stays `WHERE revoked_at IS NULL`: an
-- index predicate cannot call now(). `hitl token create` retires (revokes)
-- an expired token of the same name in its own transaction instead, so a
-- name can be issued again once its token expired.
ALTER TABLE hitl_api_tokens
  ADD COLUMN expires_at timestamptz,
  ADD CONSTRAINT hitl_api_tokens_expiry
    CHECK (expires_at IS NULL OR expires_at > created_at);
