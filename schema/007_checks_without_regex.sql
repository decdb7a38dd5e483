-- The same rules as the regular-expression CHECKs of 001 and 002, written
-- with translate(): PostgreSQL's regex engine spent a third of the writer's
-- CPU on the counted repetitions ({64}, {1,255}) of every inserted row.
-- translate(x, allowed, '') = '' holds exactly when x uses only `allowed`.

ALTER TABLE hitl_decisions
  DROP CONSTRAINT hitl_decisions_decision_id_check,
  ADD CONSTRAINT hitl_decisions_decision_id_check CHECK (
    length(decision_id) BETWEEN 1 AND 255
    AND translate(decision_id,
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-',
          '') = ''),
  DROP CONSTRAINT hitl_decisions_content_hash_check,
  ADD CONSTRAINT hitl_decisions_content_hash_check CHECK (
    length(content_hash) = 64
    AND translate(content_hash, '0123456789abcdef', '') = '');

ALTER TABLE hitl_audit_logs
  DROP CONSTRAINT hitl_audit_logs_prev_hash_check,
  ADD CONSTRAINT hitl_audit_logs_prev_hash_check CHECK (
    length(prev_hash) = 64
    AND translate(prev_hash, '0123456789abcdef', '') = ''),
  DROP CONSTRAINT hitl_audit_logs_hash_check,
  ADD CONSTRAINT hitl_audit_logs_hash_check CHECK (
    length(hash) = 64 AND translate(hash, '0123456789abcdef', '') = '');
