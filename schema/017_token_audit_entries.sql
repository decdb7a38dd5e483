-- Identity lifecycle in the chain (SPEC §11): a token's creation,
-- revocation and expiry are audit entries. They belong to no decision, so
-- their decision_id is NULL, and only theirs may be: a decision's entry
-- without its decision would escape the cross-check of `audit verify`.
-- Independent of 016 (checkpoints): it touches nothing 016 creates.

ALTER DOMAIN hitl_audit_action DROP CONSTRAINT hitl_audit_action_check;
ALTER DOMAIN hitl_audit_action ADD CONSTRAINT hitl_audit_action_check
  CHECK (VALUE IN ('created', 'auto_approved', 'approval_added', 'approved',
                   'rejected', 'commented', 'escalated', 'cancelled',
                   'token_created', 'token_revoked', 'token_expired'));

-- One CHECK and one index, both cheap for the decisions' entries: the
-- auditor's batches pay for every constraint and index of this table.
ALTER TABLE hitl_audit_logs
  ALTER COLUMN decision_id DROP NOT NULL,
  ADD CONSTRAINT hitl_audit_logs_decision_or_token CHECK (
    (decision_id IS NULL) = (action IN ('token_created', 'token_revoked',
                                        'token_expired'))
    -- every token entry names its token by id
    AND (decision_id IS NOT NULL
         OR jsonb_typeof(details -> 'token_id') = 'number'));

-- At most one entry of each token action per token: created once, revoked
-- once, expired once. A second `serve` (or a restart) that notices the same
-- expiry is refused here and takes it as done. A decision's detail finds
-- through it who issued an approver's token.
CREATE UNIQUE INDEX hitl_audit_token_actions
  ON hitl_audit_logs (((details ->> 'token_id')::bigint), action)
  WHERE decision_id IS NULL;

-- Which token gave an approval, so that the decision's detail can show when
-- and by whom the approver's identity was issued. NULL for approvals given
-- before this migration. No foreign key: a token row is never deleted by
-- the service, and the approval must stay if the owner ever does.
ALTER TABLE hitl_approvals ADD COLUMN token_id bigint;
