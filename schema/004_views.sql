-- Exact conversions between timestamptz and microseconds since the epoch,
-- the resolution the service works in (policy/timestamp.hpp).
CREATE FUNCTION hitl_from_micros(us bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT timestamptz 'epoch' + us * interval '1 microsecond'
$$;

CREATE FUNCTION hitl_micros(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (EXTRACT(EPOCH FROM t) * 1000000)::bigint
$$;

-- Rank of an urgency, so that queues sort critical first without relying on
-- the alphabetical order of the words.
CREATE FUNCTION hitl_urgency_rank(u text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE u WHEN 'critical' THEN 3 WHEN 'high' THEN 2
                WHEN 'medium' THEN 1 ELSE 0 END::smallint
$$;

CREATE INDEX idx_hitl_pending_rank
  ON hitl_decisions (hitl_urgency_rank(priority) DESC, created_at, decision_id)
  WHERE decision IN ('pending', 'escalated');

-- SLA status of an open decision at a given instant. Same rule as
-- policy/escalation_schedule.cpp: breached at or after the deadline, at risk
-- when less than a quarter of the SLA window remains.
CREATE FUNCTION hitl_sla_status(created timestamptz, deadline timestamptz,
                                at_time timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN deadline IS NULL THEN 'ok'
    WHEN at_time >= deadline THEN 'breached'
    WHEN (deadline - at_time) < (deadline - created) / 4 THEN 'at_risk'
    ELSE 'ok'
  END
$$;

-- Open decisions needing a human, most urgent first.
CREATE VIEW hitl_pending_patches AS
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
WHERE decision IN ('pending', 'escalated')
ORDER BY hitl_urgency_rank(priority) DESC, created_at ASC, decision_id ASC;

-- One row of totals over all decisions. ml_accuracy is the share of human
-- verdicts on patches with a prediction where the prediction matched the
-- verdict (approved <-> "patch will work").
CREATE VIEW hitl_decision_summary AS
SELECT
  count(*) AS total_patches,
  count(*) FILTER (WHERE decision = 'pending') AS pending,
  count(*) FILTER (WHERE decision = 'escalated') AS escalated,
  count(*) FILTER (WHERE decision = 'approved') AS approved,
  count(*) FILTER (WHERE decision = 'rejected') AS rejected,
  count(*) FILTER (WHERE decision = 'auto_approved') AS auto_approved,
  count(*) FILTER (WHERE decision = 'cancelled') AS cancelled,
  avg(EXTRACT(EPOCH FROM (decided_at - created_at)))
    FILTER (WHERE decision IN ('approved', 'rejected'))
    AS avg_decision_time_seconds,
  avg(CASE WHEN ml_prediction = (decision = 'approved') THEN 1.0 ELSE 0.0 END)
    FILTER (WHERE decision IN ('approved', 'rejected')
            AND ml_prediction IS NOT NULL) AS ml_accuracy,
  (count(*) FILTER (WHERE decision = 'auto_approved'))::double precision
    / nullif(count(*), 0) AS auto_approval_rate,
  count(*) FILTER (WHERE escalation_level > 0) AS sla_breaches
FROM hitl_decisions;
