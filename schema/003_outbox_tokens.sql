-- Notification outbox: written in the same transaction as the change that
-- caused the event, delivered at least once by the notifier.

CREATE TABLE hitl_outbox (
  id               bigserial PRIMARY KEY,
  delivery_id      uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  event            varchar(32) NOT NULL
                   CHECK (event IN ('decision.created', 'decision.auto_approved',
                                    'decision.approved', 'decision.rejected',
                                    'decision.cancelled', 'decision.escalated',
                                    'comment.added')),
  decision_id      varchar(255) NOT NULL REFERENCES hitl_decisions (decision_id),
  target_url       text NOT NULL CHECK (target_url ~ '^https?://'),
  payload          jsonb NOT NULL,
  state            varchar(16) NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  CONSTRAINT hitl_outbox_delivered_at CHECK (
    (state = 'delivered') = (delivered_at IS NOT NULL))
);

CREATE INDEX idx_hitl_outbox_due ON hitl_outbox (next_attempt_at)
  WHERE state = 'pending';
CREATE INDEX idx_hitl_outbox_state ON hitl_outbox (state, id);

-- API tokens: only the SHA-256 of a token is stored; the token itself is
-- shown once at creation.
CREATE TABLE hitl_api_tokens (
  id            bigserial PRIMARY KEY,
  name          varchar(255) NOT NULL
                CHECK (name ~ '^[A-Za-z0-9._@-]{1,255}$'),
  role          varchar(16) NOT NULL
                CHECK (role IN ('reviewer', 'service', 'auditor', 'admin')),
  token_hash    char(64) NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);

-- One active token per identity; a revoked name may be issued again.
CREATE UNIQUE INDEX hitl_api_tokens_active_name
  ON hitl_api_tokens (name) WHERE revoked_at IS NULL;
