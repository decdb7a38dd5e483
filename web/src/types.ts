// The JSON shapes of the HITL API, as http/response_json.cpp and
// policy/decision_json.cpp write them.

export type Urgency = "low" | "medium" | "high" | "critical";
export type Status =
  | "pending"
  | "escalated"
  | "approved"
  | "rejected"
  | "auto_approved"
  | "cancelled";
export type SlaStatus = "ok" | "at_risk" | "breached";
export type SortKey = "priority" | "age" | "deadline";

export const URGENCIES: Urgency[] = ["critical", "high", "medium", "low"];

export interface PatchMetadata {
  apv_id: string;
  cve_id: string | null;
  package_name: string;
  current_version: string;
  target_version: string;
  severity: Urgency;
  cvss_score: number | null;
  cwe_ids: string[];
  affected_systems: string[];
  patch_size_lines: number | null;
}

export interface MlPrediction {
  model_version: string | null;
  confidence: number;
  prediction: boolean;
  shap_values: Record<string, number>;
  execution_time_ms: number | null;
}

export interface WargamingResult {
  phase1_success: boolean;
  phase2_success: boolean;
  validation_passed: boolean;
  execution_time_ms: number | null;
  error_message: string | null;
  exploit_id: string | null;
}

export interface Approval {
  by: string;
  at: string;
  comment: string | null;
}

export interface Comment {
  comment_id: number;
  decision_id: string;
  user: string;
  comment: string;
  created_at: string;
}

export interface DecisionRecord {
  decision_id: string;
  patch_id: string;
  apv_id: string;
  cve_id: string | null;
  patch_metadata: PatchMetadata;
  ml_prediction: MlPrediction | null;
  wargaming_result: WargamingResult | null;
  requires_manual_review: boolean;
  priority: Urgency;
  decision: Status;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  comment: string | null;
  approvals: Approval[];
  approvals_required: number;
  escalation_level: number;
  requires_escalation: boolean;
  sla_deadline: string | null;
  ml_wargaming_agreement: boolean;
  auto_approval_eligible: boolean;
  auto_approval_failed_rules: string[];
  policy_version: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  version: number;
}

/** GET /hitl/decisions/{id}: the record plus its comments. */
export interface DecisionView extends DecisionRecord {
  comments: Comment[];
  /** This decision's audit entries (without IP address and user agent). */
  audit_trail: AuditEntry[];
}

export interface PendingItem {
  decision_id: string;
  patch_id: string;
  apv_id: string;
  cve_id: string | null;
  package_name: string;
  severity: Urgency;
  priority: Urgency;
  decision: Status;
  ml_confidence: number | null;
  ml_prediction: boolean | null;
  wargaming_passed: boolean | null;
  created_at: string;
  age_seconds: number;
  sla_deadline: string | null;
  sla_status: SlaStatus;
  escalation_level: number;
  approvals_required: number;
}

export interface PendingPage {
  items: PendingItem[];
  total: number;
  next_cursor: string | null;
}

export interface Summary {
  total_patches: number;
  pending: number;
  escalated: number;
  approved: number;
  rejected: number;
  auto_approved: number;
  cancelled: number;
  avg_decision_time_seconds: number | null;
  ml_accuracy: number | null;
  auto_approval_rate: number | null;
  time_to_decision_seconds: { p50: number | null; p90: number | null };
  sla_breaches: number;
}

export interface AuditEntry {
  seq: number;
  decision_id: string;
  action: string;
  performed_by: string;
  timestamp: string;
  details: Record<string, unknown>;
  /** Only in the auditors' GET /hitl/analytics/audit-logs. */
  ip_address?: string | null;
  user_agent?: string | null;
  prev_hash: string;
  hash: string;
  /** The partition whose chain holds the entry, its place there and the
   * epoch it was written under; null for an entry of the common prefix. */
  partition: number | null;
  pseq: number | null;
  epoch: number | null;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
}

/** One WebSocket message (the webhook payload). */
export interface LiveEvent {
  event: string;
  at: string;
  decision_url?: string;
  decision?: DecisionRecord;
  comment?: Comment;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}

export function isOpen(s: Status): boolean {
  return s === "pending" || s === "escalated";
}
