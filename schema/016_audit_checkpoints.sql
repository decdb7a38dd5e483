-- Signed checkpoints of the audit chain's head (SPEC §11), written by
-- serve's checkpoint signer when `audit.signing_key` is configured. Each row
-- says: the chain had `entry_count` entries, its last at `seq` with `hash`,
-- when `signed_at`, signed with the key `key_id` (persistence/README.md
-- gives the signed bytes). Append-only like the log itself; copies kept
-- outside the database (the checkpoint file, the webhook's receivers) are
-- what makes them worth having.
CREATE TABLE hitl_audit_checkpoints (
  id           bigserial PRIMARY KEY,
  seq          bigint NOT NULL CHECK (seq >= 1),
  hash         char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  signed_at    timestamptz NOT NULL,
  entry_count  bigint NOT NULL CHECK (entry_count >= 1),
  key_id       varchar(64) NOT NULL CHECK (key_id ~ '^[0-9a-f]{1,64}$'),
  signature    text NOT NULL CHECK (length(signature) BETWEEN 1 AND 200)
);

CREATE INDEX idx_hitl_audit_checkpoints_seq ON hitl_audit_checkpoints (seq);

CREATE FUNCTION hitl_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER hitl_audit_checkpoints_no_update_delete
  BEFORE UPDATE OR DELETE ON hitl_audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION hitl_append_only();

CREATE TRIGGER hitl_audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON hitl_audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION hitl_append_only();

-- The webhook event `audit.checkpoint` belongs to no decision.
ALTER TABLE hitl_outbox
  DROP CONSTRAINT hitl_outbox_event_check,
  ADD CONSTRAINT hitl_outbox_event_check
    CHECK (event IN ('decision.created', 'decision.auto_approved',
                     'decision.approved', 'decision.rejected',
                     'decision.cancelled', 'decision.escalated',
                     'comment.added', 'audit.checkpoint')),
  ALTER COLUMN decision_id DROP NOT NULL,
  ADD CONSTRAINT hitl_outbox_decision_or_checkpoint
    CHECK (decision_id IS NOT NULL OR event = 'audit.checkpoint');
