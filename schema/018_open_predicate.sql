-- What an open decision is, written once: pending or escalated, waiting for
-- a human (SPEC §2). The pending queue, recovery at start, the open counts'
-- triggers and the pending view all ask it through this function.
--
-- An IMMUTABLE SQL function of one expression, so that PostgreSQL inlines
-- it when it plans a statement: `hitl_decision_is_open(decision)` becomes
-- the very `decision IN ('pending', 'escalated')` that the partial indexes
-- of 001 (hitl_decisions_one_open_per_patch, idx_hitl_pending_priority,
-- idx_hitl_pending_rank) are defined with, and the planner still proves
-- that a query's rows fall within them. A predicate it cannot match turns
-- an index scan into a sequential scan without any error, so
-- tests/pg/open_predicate_pgtest.cpp checks with EXPLAIN that the service's
-- statements keep their indexes.
--
-- Those indexes and the CHECKs of 001 that tie decided_at and decided_by to
-- a final state keep their literal predicate: an index or CHECK defined on
-- the function would go stale, not fail, were the function replaced. A new
-- meaning of "open" is therefore a migration that replaces this function
-- and rebuilds them with it (the EXPLAIN test fails until it does).
CREATE FUNCTION hitl_decision_is_open(state hitl_decision_state)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT state IN ('pending', 'escalated')
$$;

-- The open counts' triggers of 005, asking the function.
CREATE OR REPLACE FUNCTION hitl_open_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n + d.k
  FROM (SELECT priority, severity, count(*) AS k FROM new_rows
        WHERE hitl_decision_is_open(decision)
        GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hitl_open_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n + d.delta
  FROM (
    SELECT priority, severity, sum(k) AS delta FROM (
      SELECT priority, severity, 1 AS k FROM new_rows
        WHERE hitl_decision_is_open(decision)
      UNION ALL
      SELECT priority, severity, -1 FROM old_rows
        WHERE hitl_decision_is_open(decision)) x
    GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity AND d.delta <> 0;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hitl_open_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n - d.k
  FROM (SELECT priority, severity, count(*) AS k FROM old_rows
        WHERE hitl_decision_is_open(decision)
        GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity;
  RETURN NULL;
END;
$$;

-- The pending view of 014 (same columns), asking the function.
CREATE OR REPLACE VIEW hitl_pending_patches AS
SELECT
  decision_id,
  patch_id,
  apv_id,
  cve_id,
  package_name,
  severity,
  priority,
  ml_confidence,
  ml_prediction,
  wargaming_passed,
  decision,
  escalation_level,
  approvals_required,
  created_at,
  sla_deadline,
  EXTRACT(EPOCH FROM (now() - created_at))::bigint AS age_seconds,
  hitl_sla_status(created_at, sla_deadline, now()) AS sla_status
FROM hitl_decisions
WHERE hitl_decision_is_open(decision)
ORDER BY hitl_urgency_rank(priority) DESC, created_at ASC, decision_id ASC;
