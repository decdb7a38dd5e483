-- Decisions: one row per patch awaiting (or having received) a verdict.
-- Column names follow the original design; the service adds version, SLA,
-- escalation, quorum and provenance columns.

CREATE TABLE hitl_decisions (
  -- Identification
  decision_id        varchar(255) PRIMARY KEY
                     CHECK (decision_id ~ '^[A-Za-z0-9._:-]{1,255}$'),
  patch_id           varchar(255) NOT NULL CHECK (length(patch_id) >= 1),
  apv_id             varchar(255) NOT NULL CHECK (length(apv_id) >= 1),
  cve_id             varchar(50),

  -- Patch metadata
  package_name       varchar(255) NOT NULL CHECK (length(package_name) >= 1),
  current_version    varchar(100) NOT NULL CHECK (length(current_version) >= 1),
  target_version     varchar(100) NOT NULL CHECK (length(target_version) >= 1),
  severity           varchar(20)  NOT NULL
                     CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  cvss_score         double precision
                     CHECK (cvss_score >= 0.0 AND cvss_score <= 10.0),
  cwe_ids            text[] NOT NULL DEFAULT '{}',
  affected_systems   text[] NOT NULL DEFAULT '{}',
  patch_size_lines   bigint CHECK (patch_size_lines >= 0),

  -- ML prediction (all null when the creator sent none)
  ml_confidence      double precision
                     CHECK (ml_confidence >= 0.0 AND ml_confidence <= 1.0),
  ml_prediction      boolean,
  ml_model_version   varchar(100),
  ml_shap_values     jsonb CHECK (ml_shap_values IS NULL
                                  OR jsonb_typeof(ml_shap_values) = 'object'),
  ml_execution_time_ms double precision CHECK (ml_execution_time_ms >= 0),

  -- Wargaming result (all null when the creator sent none)
  wargaming_phase1   boolean,
  wargaming_phase2   boolean,
  wargaming_passed   boolean,
  wargaming_execution_time_ms double precision
                     CHECK (wargaming_execution_time_ms >= 0),
  wargaming_error    text,
  wargaming_exploit_id varchar(255),

  -- Decision
  decision           varchar(20) NOT NULL DEFAULT 'pending'
                     CHECK (decision IN ('pending', 'approved', 'rejected',
                                         'auto_approved', 'escalated',
                                         'cancelled')),
  decided_by         varchar(255),
  decided_at         timestamptz,

  -- Context
  priority           varchar(20) NOT NULL DEFAULT 'medium'
                     CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  comment            text,
  reason             text,

  -- Flags
  requires_manual_review boolean NOT NULL DEFAULT false,
  requires_escalation    boolean NOT NULL DEFAULT false,
  auto_approval_eligible boolean NOT NULL DEFAULT false,
  ml_wargaming_agreement boolean NOT NULL DEFAULT false,

  -- Policy and workflow
  policy_version     varchar(64) NOT NULL CHECK (length(policy_version) >= 1),
  policy_failed_rules text[] NOT NULL DEFAULT '{}',
  approvals_required smallint NOT NULL DEFAULT 1
                     CHECK (approvals_required BETWEEN 1 AND 10),
  escalation_level   smallint NOT NULL DEFAULT 0
                     CHECK (escalation_level BETWEEN 0 AND 100),
  sla_deadline       timestamptz,
  content_hash       char(64) NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),

  -- Provenance and timestamps
  created_by         varchar(255) NOT NULL CHECK (length(created_by) >= 1),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  version            bigint NOT NULL DEFAULT 1 CHECK (version >= 1),

  -- Whole-row invariants: a final decision has its verdict, an open one has
  -- none; a rejection has its reason; an escalated one has a level.
  CONSTRAINT hitl_decisions_verdict_iff_final CHECK (
    (decision IN ('pending', 'escalated')) = (decided_at IS NULL)),
  CONSTRAINT hitl_decisions_decided_by_iff_final CHECK (
    (decision IN ('pending', 'escalated')) = (decided_by IS NULL)),
  CONSTRAINT hitl_decisions_rejection_has_reason CHECK (
    decision <> 'rejected' OR (reason IS NOT NULL AND length(reason) > 0)),
  CONSTRAINT hitl_decisions_escalated_has_level CHECK (
    decision <> 'escalated' OR escalation_level >= 1),
  CONSTRAINT hitl_decisions_ml_complete CHECK (
    (ml_confidence IS NULL) = (ml_prediction IS NULL)),
  CONSTRAINT hitl_decisions_wargaming_complete CHECK (
    (wargaming_passed IS NULL) = (wargaming_phase1 IS NULL)
    AND (wargaming_passed IS NULL) = (wargaming_phase2 IS NULL)),
  CONSTRAINT hitl_decisions_decided_after_created CHECK (
    decided_at IS NULL OR decided_at >= created_at)
);

COMMENT ON TABLE hitl_decisions IS
  'Human-in-the-loop patch approval decisions';
COMMENT ON COLUMN hitl_decisions.ml_wargaming_agreement IS
  'True when the ML prediction equals the wargaming validation (set by trigger)';
COMMENT ON COLUMN hitl_decisions.content_hash IS
  'SHA-256 of the creator''s content: tells an idempotent retry from a conflict';

-- At most one open decision per patch.
CREATE UNIQUE INDEX hitl_decisions_one_open_per_patch
  ON hitl_decisions (patch_id) WHERE decision IN ('pending', 'escalated');

-- The indexes of the original design.
CREATE INDEX idx_hitl_decisions_status ON hitl_decisions (decision);
CREATE INDEX idx_hitl_decisions_priority ON hitl_decisions (priority);
CREATE INDEX idx_hitl_decisions_created_at ON hitl_decisions (created_at);
CREATE INDEX idx_hitl_decisions_apv_id ON hitl_decisions (apv_id);
CREATE INDEX idx_hitl_decisions_cve_id ON hitl_decisions (cve_id);
CREATE INDEX idx_hitl_pending_priority
  ON hitl_decisions (decision, priority, created_at)
  WHERE decision IN ('pending', 'escalated');
CREATE INDEX idx_hitl_ml_accuracy ON hitl_decisions (ml_wargaming_agreement)
  WHERE ml_prediction IS NOT NULL AND wargaming_passed IS NOT NULL;

-- What our own queries need: the queue ordered by urgency rank, lookups of
-- a patch's decisions, analytics by decision time.
CREATE INDEX idx_hitl_decisions_patch_id ON hitl_decisions (patch_id);
CREATE INDEX idx_hitl_decisions_decided_at ON hitl_decisions (decided_at)
  WHERE decided_at IS NOT NULL;
CREATE INDEX idx_hitl_decisions_sla_deadline ON hitl_decisions (sla_deadline)
  WHERE decision IN ('pending', 'escalated');

-- Triggers: every change bumps updated_at and version; the agreement flag is
-- derived, never trusted from a writer.
CREATE FUNCTION hitl_touch_decision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  NEW.version := OLD.version + 1;
  RETURN NEW;
END;
$$;

CREATE TRIGGER hitl_decisions_touch
  BEFORE UPDATE ON hitl_decisions
  FOR EACH ROW EXECUTE FUNCTION hitl_touch_decision();

CREATE FUNCTION hitl_ml_wargaming_agreement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.ml_wargaming_agreement := coalesce(
    NEW.ml_prediction IS NOT NULL AND NEW.wargaming_passed IS NOT NULL
    AND NEW.ml_prediction = NEW.wargaming_passed, false);
  RETURN NEW;
END;
$$;

CREATE TRIGGER hitl_decisions_agreement
  BEFORE INSERT OR UPDATE ON hitl_decisions
  FOR EACH ROW EXECUTE FUNCTION hitl_ml_wargaming_agreement();
