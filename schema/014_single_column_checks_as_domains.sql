-- The single-column CHECKs become domains: the same rules, kept where
-- PostgreSQL compiles them once per connection instead of once per statement.
--
-- A table's CHECK constraints are read back from their stored node trees
-- (stringToNode) and planned again by every INSERT or UPDATE that touches
-- the table: 34 of them, about 35 KB of node text, per auditor batch. That
-- was a quarter of PostgreSQL's time for a one-change batch (perf of the
-- writer's backend at 1 connection). A domain's constraints are cached,
-- planned, in the type cache. Interleaved A/B runs against the former
-- schema: a one-change batch 0.29/0.26 -> 0.20/0.22 ms; at 64 connections
-- PostgreSQL's time per created decision 63-65 -> 59-60 µs (4 of 4 pairs).
--
-- The text domains, and the two other indexed identifier columns, compare in
-- the "C" collation: byte order, which in UTF-8 is code point order, the
-- order of the C.UTF-8 locale that deploy/ initializes PostgreSQL with, but
-- through memcmp instead of strcoll on NUL-terminated copies of both values
-- (PostgreSQL 15 takes only "C" and "POSIX" for byte order). Identifiers
-- then sort the same whatever locale a database was created with. Every
-- index insert or lookup of an id makes several such comparisons.
--
-- Only the rules that relate two columns stay on the tables. The tables are
-- rewritten once (a constrained domain is checked row by row) and the views
-- that name the columns are recreated unchanged.

CREATE DOMAIN hitl_level AS varchar(20) COLLATE "C"
  CHECK (VALUE IN ('low', 'medium', 'high', 'critical'));
CREATE DOMAIN hitl_decision_state AS varchar(20) COLLATE "C"
  CHECK (VALUE IN ('pending', 'approved', 'rejected', 'auto_approved',
                   'escalated', 'cancelled'));
CREATE DOMAIN hitl_audit_action AS varchar(32) COLLATE "C"
  CHECK (VALUE IN ('created', 'auto_approved', 'approval_added', 'approved',
                   'rejected', 'commented', 'escalated', 'cancelled'));
-- Negated classes, not anchored patterns: see 008.
CREATE DOMAIN hitl_sha256_hex AS char(64) COLLATE "C"
  CHECK (length(VALUE) = 64 AND VALUE !~ '[^0-9a-f]');
CREATE DOMAIN hitl_decision_key AS varchar(255) COLLATE "C"
  CHECK (length(VALUE) >= 1 AND VALUE !~ '[^A-Za-z0-9._:-]');
CREATE DOMAIN hitl_name AS varchar(255) COLLATE "C" CHECK (length(VALUE) >= 1);
CREATE DOMAIN hitl_version_label AS varchar(100) COLLATE "C" CHECK (length(VALUE) >= 1);
CREATE DOMAIN hitl_policy_version AS varchar(64) COLLATE "C" CHECK (length(VALUE) >= 1);
CREATE DOMAIN hitl_cvss_score AS double precision
  CHECK (VALUE >= 0.0 AND VALUE <= 10.0);
CREATE DOMAIN hitl_probability AS double precision
  CHECK (VALUE >= 0.0 AND VALUE <= 1.0);
CREATE DOMAIN hitl_duration_ms AS double precision CHECK (VALUE >= 0);
CREATE DOMAIN hitl_line_count AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN hitl_approval_quorum AS smallint
  CHECK (VALUE BETWEEN 1 AND 10);
CREATE DOMAIN hitl_escalation_level AS smallint
  CHECK (VALUE BETWEEN 0 AND 100);
-- A row version or an audit sequence number: counts from 1.
CREATE DOMAIN hitl_ordinal AS bigint CHECK (VALUE >= 1);
CREATE DOMAIN hitl_json_object AS jsonb
  CHECK (jsonb_typeof(VALUE) = 'object');

DROP VIEW hitl_pending_patches;
DROP VIEW hitl_decision_summary;

ALTER TABLE hitl_decisions
  DROP CONSTRAINT hitl_decisions_decision_id_check,
  DROP CONSTRAINT hitl_decisions_patch_id_check,
  DROP CONSTRAINT hitl_decisions_apv_id_check,
  DROP CONSTRAINT hitl_decisions_package_name_check,
  DROP CONSTRAINT hitl_decisions_current_version_check,
  DROP CONSTRAINT hitl_decisions_target_version_check,
  DROP CONSTRAINT hitl_decisions_severity_check,
  DROP CONSTRAINT hitl_decisions_cvss_score_check,
  DROP CONSTRAINT hitl_decisions_patch_size_lines_check,
  DROP CONSTRAINT hitl_decisions_ml_confidence_check,
  DROP CONSTRAINT hitl_decisions_ml_shap_values_check,
  DROP CONSTRAINT hitl_decisions_ml_execution_time_ms_check,
  DROP CONSTRAINT hitl_decisions_wargaming_execution_time_ms_check,
  DROP CONSTRAINT hitl_decisions_decision_check,
  DROP CONSTRAINT hitl_decisions_priority_check,
  DROP CONSTRAINT hitl_decisions_policy_version_check,
  DROP CONSTRAINT hitl_decisions_approvals_required_check,
  DROP CONSTRAINT hitl_decisions_escalation_level_check,
  DROP CONSTRAINT hitl_decisions_content_hash_check,
  DROP CONSTRAINT hitl_decisions_created_by_check,
  DROP CONSTRAINT hitl_decisions_version_check,
  ALTER COLUMN decision_id TYPE hitl_decision_key,
  ALTER COLUMN cve_id TYPE varchar(50) COLLATE "C",
  ALTER COLUMN patch_id TYPE hitl_name,
  ALTER COLUMN apv_id TYPE hitl_name,
  ALTER COLUMN package_name TYPE hitl_name,
  ALTER COLUMN current_version TYPE hitl_version_label,
  ALTER COLUMN target_version TYPE hitl_version_label,
  ALTER COLUMN severity TYPE hitl_level,
  ALTER COLUMN cvss_score TYPE hitl_cvss_score,
  ALTER COLUMN patch_size_lines TYPE hitl_line_count,
  ALTER COLUMN ml_confidence TYPE hitl_probability,
  ALTER COLUMN ml_shap_values TYPE hitl_json_object,
  ALTER COLUMN ml_execution_time_ms TYPE hitl_duration_ms,
  ALTER COLUMN wargaming_execution_time_ms TYPE hitl_duration_ms,
  ALTER COLUMN decision TYPE hitl_decision_state,
  ALTER COLUMN priority TYPE hitl_level,
  ALTER COLUMN policy_version TYPE hitl_policy_version,
  ALTER COLUMN approvals_required TYPE hitl_approval_quorum,
  ALTER COLUMN escalation_level TYPE hitl_escalation_level,
  ALTER COLUMN content_hash TYPE hitl_sha256_hex,
  ALTER COLUMN created_by TYPE hitl_name,
  ALTER COLUMN version TYPE hitl_ordinal;

ALTER TABLE hitl_audit_logs
  DROP CONSTRAINT hitl_audit_logs_seq_check,
  DROP CONSTRAINT hitl_audit_logs_action_check,
  DROP CONSTRAINT hitl_audit_logs_performed_by_check,
  DROP CONSTRAINT hitl_audit_logs_details_check,
  DROP CONSTRAINT hitl_audit_logs_prev_hash_check,
  DROP CONSTRAINT hitl_audit_logs_hash_check,
  ALTER COLUMN seq TYPE hitl_ordinal,
  ALTER COLUMN decision_id TYPE varchar(255) COLLATE "C",
  ALTER COLUMN action TYPE hitl_audit_action,
  ALTER COLUMN performed_by TYPE hitl_name,
  ALTER COLUMN details TYPE hitl_json_object,
  ALTER COLUMN prev_hash TYPE hitl_sha256_hex,
  ALTER COLUMN hash TYPE hitl_sha256_hex;

ALTER TABLE hitl_open_counts
  DROP CONSTRAINT hitl_open_counts_priority_check,
  DROP CONSTRAINT hitl_open_counts_severity_check,
  ALTER COLUMN priority TYPE hitl_level,
  ALTER COLUMN severity TYPE hitl_level;

-- As in 004.
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
