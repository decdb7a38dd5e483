-- The audit trail: append-only, hash-chained. seq is assigned by the single
-- writer (the auditor actor), so gaps and reorderings are visible.

CREATE TABLE hitl_audit_logs (
  seq           bigint PRIMARY KEY CHECK (seq >= 1),
  decision_id   varchar(255) NOT NULL REFERENCES hitl_decisions (decision_id),
  action        varchar(32) NOT NULL
                CHECK (action IN ('created', 'auto_approved', 'approval_added',
                                  'approved', 'rejected', 'commented',
                                  'escalated', 'cancelled')),
  performed_by  varchar(255) NOT NULL CHECK (length(performed_by) >= 1),
  "timestamp"   timestamptz NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}'
                CHECK (jsonb_typeof(details) = 'object'),
  ip_address    varchar(45),
  user_agent    text,
  prev_hash     char(64) NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash          char(64) NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);

COMMENT ON TABLE hitl_audit_logs IS
  'Immutable audit trail: hash = sha256(prev_hash || canonical JSON of the entry)';

CREATE INDEX idx_hitl_audit_decision_id ON hitl_audit_logs (decision_id);
CREATE INDEX idx_hitl_audit_timestamp ON hitl_audit_logs ("timestamp");
CREATE INDEX idx_hitl_audit_action ON hitl_audit_logs (action);
CREATE INDEX idx_hitl_audit_performed_by ON hitl_audit_logs (performed_by);

-- The database itself refuses to change history.
CREATE FUNCTION hitl_audit_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'hitl_audit_logs is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER hitl_audit_logs_no_update_delete
  BEFORE UPDATE OR DELETE ON hitl_audit_logs
  FOR EACH ROW EXECUTE FUNCTION hitl_audit_immutable();

CREATE TRIGGER hitl_audit_logs_no_truncate
  BEFORE TRUNCATE ON hitl_audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION hitl_audit_immutable();

-- Comments on a decision.
CREATE TABLE hitl_comments (
  comment_id    bigserial PRIMARY KEY,
  decision_id   varchar(255) NOT NULL REFERENCES hitl_decisions (decision_id),
  author        varchar(255) NOT NULL CHECK (length(author) >= 1),
  comment       text NOT NULL CHECK (length(comment) BETWEEN 1 AND 10000),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_hitl_comments_decision_id
  ON hitl_comments (decision_id, created_at);

-- Approvals towards the quorum (two-person rule). One per reviewer.
CREATE TABLE hitl_approvals (
  decision_id   varchar(255) NOT NULL REFERENCES hitl_decisions (decision_id),
  reviewer      varchar(255) NOT NULL CHECK (length(reviewer) >= 1),
  comment       text CHECK (comment IS NULL OR length(comment) <= 10000),
  approved_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (decision_id, reviewer)
);
