// The patch detail (#/decisions/<id>): metadata, ML confidence and SHAP
// values, wargaming phases, approvals, comments, the decision's history and
// its audit trail, and the reviewer's actions. Refreshes on live events
// about this decision.

import { useEffect, useRef, useState } from "preact/hooks";
import { enc, request } from "../api";
import { duration, formatTime, percent, statusWord, yesNo } from "../format";
import { useLiveEvents, useLiveSync, useNow } from "../hooks";
import { describeError } from "../messages";
import type { AuditEntry, DecisionView } from "../types";
import { isOpen } from "../types";
import {
  Alert,
  EscalationBadge,
  Section,
  SlaCountdown,
  StatusBadge,
  UrgencyBadge,
} from "../components/bits";
import { Actions } from "../components/actions";
import { History } from "../components/history";

type Audit =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "ok"; items: AuditEntry[]; more: boolean };

export function DecisionPage({ id }: { id: string }) {
  const [view, setView] = useState<DecisionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [audit, setAudit] = useState<Audit>({ kind: "loading" });
  const generation = useRef(0);
  const now = useNow();

  async function load() {
    const gen = ++generation.current;
    try {
      // The decision carries its own audit trail, for every role.
      const v = await request<DecisionView>(`/hitl/decisions/${enc(id)}`);
      if (gen !== generation.current) return;
      setView(v);
      setError(null);
      setAudit({ kind: "ok", items: v.audit_trail ?? [], more: false });
    } catch (err) {
      if (gen !== generation.current) return;
      setError(describeError(err, "load").message);
      setAudit({ kind: "error", message: describeError(err, "load").message });
    }
  }

  useEffect(() => {
    load();
  }, [id]);

  useLiveSync(load);
  useLiveEvents((e) => {
    if (e.decision?.decision_id === id || e.comment?.decision_id === id) load();
  });

  if (!view) {
    return (
      <section class="page" aria-labelledby="decision-title">
        <p>
          <a href="#/queue">← Queue</a>
        </p>
        <h1 id="decision-title">Decision {id}</h1>
        <Alert testid="detail-error">{error && <p class="error">{error}</p>}</Alert>
        {!error && <p class="muted">Loading…</p>}
      </section>
    );
  }

  const d = view;
  const m = d.patch_metadata;
  const open = isOpen(d.decision);
  return (
    <section class="page" aria-labelledby="decision-title" data-testid="decision-page" data-decision-id={d.decision_id}>
      <p>
        <a href="#/queue">← Queue</a>
      </p>
      <div class="page-head">
        <h1 id="decision-title">
          Patch <span data-testid="detail-patch-id">{d.patch_id}</span>
        </h1>
        <div class="head-badges">
          <StatusBadge value={d.decision} />
          <UrgencyBadge value={d.priority} testid="detail-priority" />
          {d.escalation_level > 0 && <EscalationBadge level={d.escalation_level} />}
          {open && <SlaCountdown createdAt={d.created_at} deadline={d.sla_deadline} now={now} open />}
        </div>
      </div>
      <Alert testid="detail-error">{error && <p class="error">{error}</p>}</Alert>

      <div class="detail-grid">
        <div class="col">
          <Section title="Patch" id="meta-title" testid="metadata">
            <dl class="facts">
              <dt>Package</dt>
              <dd>
                {m.package_name} <span class="muted">{m.current_version}</span> →{" "}
                <strong>{m.target_version}</strong>
              </dd>
              <dt>CVE</dt>
              <dd>{m.cve_id ?? "—"}</dd>
              <dt>Severity</dt>
              <dd>
                <UrgencyBadge value={m.severity} />
                {m.cvss_score !== null && <span class="muted"> CVSS {m.cvss_score.toFixed(1)}</span>}
              </dd>
              <dt>CWE</dt>
              <dd>{m.cwe_ids.length ? m.cwe_ids.join(", ") : "—"}</dd>
              <dt>Affected systems</dt>
              <dd>{m.affected_systems.length ? m.affected_systems.join(", ") : "—"}</dd>
              <dt>Patch size</dt>
              <dd>{m.patch_size_lines === null ? "—" : `${m.patch_size_lines} lines`}</dd>
              <dt>APV</dt>
              <dd>{d.apv_id}</dd>
              <dt>Decision id</dt>
              <dd>
                <code>{d.decision_id}</code>
              </dd>
              <dt>Created</dt>
              <dd>
                {formatTime(d.created_at)} by {d.created_by}
              </dd>
              <dt>SLA deadline</dt>
              <dd>{d.sla_deadline ? formatTime(d.sla_deadline) : "none"}</dd>
              <dt>Manual review requested</dt>
              <dd>{yesNo(d.requires_manual_review)}</dd>
              <dt>Policy</dt>
              <dd>
                {d.policy_version}
                {d.auto_approval_failed_rules.length > 0 && (
                  <span class="muted"> — not auto-approved: {d.auto_approval_failed_rules.join(", ")}</span>
                )}
              </dd>
            </dl>
          </Section>

          <Section title="ML prediction" id="ml-title" testid="ml">
            {d.ml_prediction ? (
              <>
                <ConfidenceBar value={d.ml_prediction.confidence} />
                <dl class="facts">
                  <dt>Prediction</dt>
                  <dd>{d.ml_prediction.prediction ? "the patch will work" : "the patch will not work"}</dd>
                  <dt>Model</dt>
                  <dd>{d.ml_prediction.model_version ?? "—"}</dd>
                  <dt>Run time</dt>
                  <dd>{d.ml_prediction.execution_time_ms === null ? "—" : `${d.ml_prediction.execution_time_ms} ms`}</dd>
                  <dt>Agrees with wargaming</dt>
                  <dd>{yesNo(d.ml_wargaming_agreement)}</dd>
                </dl>
                <ShapTable values={d.ml_prediction.shap_values} />
              </>
            ) : (
              <p class="muted">No ML prediction was supplied.</p>
            )}
          </Section>

          <Section title="Wargaming" id="war-title" testid="wargaming">
            {d.wargaming_result ? (
              <>
                <ul class="phases">
                  <Phase label="Phase 1" ok={d.wargaming_result.phase1_success} testid="phase1" />
                  <Phase label="Phase 2" ok={d.wargaming_result.phase2_success} testid="phase2" />
                  <Phase label="Validation" ok={d.wargaming_result.validation_passed} testid="validation" />
                </ul>
                <dl class="facts">
                  <dt>Exploit</dt>
                  <dd>{d.wargaming_result.exploit_id ?? "—"}</dd>
                  <dt>Error</dt>
                  <dd data-testid="wargaming-error">{d.wargaming_result.error_message ?? "none"}</dd>
                  <dt>Run time</dt>
                  <dd>
                    {d.wargaming_result.execution_time_ms === null
                      ? "—"
                      : duration(d.wargaming_result.execution_time_ms / 1000)}
                  </dd>
                </dl>
              </>
            ) : (
              <p class="muted">No wargaming result was supplied.</p>
            )}
          </Section>
        </div>

        <div class="col">
          <Section title="Verdict" id="verdict-title" testid="verdict">
            <p data-testid="approvals-count" class="approvals-count">
              {d.approvals.length} of {d.approvals_required}{" "}
              {d.approvals_required === 1 ? "approval" : "approvals"}
              {open && d.approvals.length > 0 && d.approvals.length < d.approvals_required
                ? ` — ${d.approvals_required - d.approvals.length} more needed from another reviewer`
                : ""}
            </p>
            {d.approvals.length > 0 && (
              <ul class="plain" data-testid="approvals">
                {d.approvals.map((a) => (
                  <li>
                    <strong>{a.by}</strong> approved {formatTime(a.at)}
                    {a.comment && (
                      <>
                        {" "}
                        <q class="quote">{a.comment}</q>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {!open && (
              <p data-testid="final-verdict">
                <strong>{statusWord(d.decision)}</strong>
                {d.decided_by && <> by {d.decided_by}</>}
                {d.decided_at && <> on {formatTime(d.decided_at)}</>}
                {d.reason && (
                  <>
                    {" "}
                    — reason: <q class="quote">{d.reason}</q>
                  </>
                )}
              </p>
            )}
            <Actions decision={d} onChanged={load} />
          </Section>

          <Section title="History" id="history-title" testid="history">
            <History decision={d} />
          </Section>

          <Section title="Comments" id="comments-title" testid="comments">
            {d.comments.length === 0 ? (
              <p class="muted">No comments yet.</p>
            ) : (
              <ul class="plain comments">
                {d.comments.map((c) => (
                  <li data-testid="comment">
                    <div class="meta">
                      <strong>{c.user}</strong> <span class="muted">{formatTime(c.created_at)}</span>
                    </div>
                    <p class="pre">{c.comment}</p>
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </div>
      </div>

      <Section title="Audit trail" id="audit-title" testid="audit-trail">
        <AuditTrail audit={audit} />
      </Section>
    </section>
  );
}

function ConfidenceBar({ value }: { value: number }) {
  const pct = Math.max(0, Math.min(1, value)) * 100;
  const level = value >= 0.95 ? "high" : value >= 0.7 ? "mid" : "low";
  return (
    <div class="confidence">
      <span id="confidence-label" class="label">
        Confidence
      </span>
      <div
        class={`bar bar-${level}`}
        role="meter"
        aria-labelledby="confidence-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-valuetext={percent(value)}
        data-testid="ml-confidence"
        data-value={value}
      >
        <span class="fill" style={{ width: `${pct}%` }} />
        <span class="threshold" style={{ left: "95%" }} title="auto-approval threshold (95 %)" />
      </div>
      <span class="num" data-testid="ml-confidence-value">
        {percent(value)}
      </span>
    </div>
  );
}

function ShapTable({ values }: { values: Record<string, number> }) {
  const rows = Object.entries(values).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  if (rows.length === 0) return <p class="muted">No SHAP values.</p>;
  const max = Math.max(...rows.map(([, v]) => Math.abs(v))) || 1;
  return (
    <table class="shap" data-testid="shap-table">
      <caption>SHAP values (largest influence first)</caption>
      <thead>
        <tr>
          <th scope="col">Feature</th>
          <th scope="col" class="num">
            Value
          </th>
          <th scope="col">
            <span class="visually-hidden">Influence</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, v]) => (
          <tr data-testid="shap-row">
            <th scope="row" class="ellipsis" title={k}>
              {k}
            </th>
            <td class="num">{v > 0 ? `+${v.toFixed(3)}` : v.toFixed(3)}</td>
            <td>
              <span class="shap-track" aria-hidden="true">
                <span
                  class={v >= 0 ? "shap-pos" : "shap-neg"}
                  style={{ width: `${(Math.abs(v) / max) * 50}%` }}
                />
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Phase({ label, ok, testid }: { label: string; ok: boolean; testid: string }) {
  return (
    <li class={ok ? "phase ok" : "phase bad"} data-testid={testid} data-ok={String(ok)}>
      <span class="mark" aria-hidden="true">
        {ok ? "✓" : "✗"}
      </span>
      {label}: <strong>{ok ? "passed" : "failed"}</strong>
    </li>
  );
}

function AuditTrail({ audit }: { audit: Audit }) {
  switch (audit.kind) {
    case "loading":
      return <p class="muted">Loading…</p>;
    case "error":
      return <p class="error">{audit.message}</p>;
    case "ok":
      if (audit.items.length === 0) return <p class="muted">No audit entries.</p>;
      return (
        <div class="table-wrap">
          <table class="audit" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col" class="c-seq">
                  #
                </th>
                <th scope="col" class="c-when">
                  When
                </th>
                <th scope="col" class="c-action">
                  Action
                </th>
                <th scope="col" class="c-who">
                  By
                </th>
                <th scope="col">Details</th>
                <th scope="col" class="c-hash">
                  Hash
                </th>
              </tr>
            </thead>
            <tbody>
              {audit.items.map((e) => (
                <tr data-testid="audit-row" data-action={e.action}>
                  <td class="num">{e.seq}</td>
                  <td>{formatTime(e.timestamp)}</td>
                  <td>{e.action.replace(/_/g, " ")}</td>
                  <td class="ellipsis" title={e.performed_by}>
                    {e.performed_by}
                  </td>
                  <td class="details">{detailsText(e.details)}</td>
                  <td class="ellipsis hash" title={e.hash}>
                    <code>{e.hash.slice(0, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {audit.more && <p class="muted">Only the first 1000 entries are shown.</p>}
        </div>
      );
  }
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details ?? {})
    .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("; ");
}
