// Analytics (#/analytics): GET /hitl/analytics/summary over a time range;
// refreshed shortly after live events.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, query, request } from "../api";
import { duration, percent } from "../format";
import { useLiveEvents, useLiveSync } from "../hooks";
import { describeError } from "../messages";
import type { Summary } from "../types";
import { Alert } from "../components/bits";

const RANGES: { key: string; label: string; hours: number | null }[] = [
  { key: "all", label: "All time", hours: null },
  { key: "24h", label: "Last 24 hours", hours: 24 },
  { key: "7d", label: "Last 7 days", hours: 24 * 7 },
  { key: "30d", label: "Last 30 days", hours: 24 * 30 },
];

export const ANALYTICS_FORBIDDEN = "Analytics need the reviewer, auditor or admin role.";

function sinceOf(hours: number | null): string | null {
  if (hours === null) return null;
  return new Date(Date.now() - hours * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function AnalyticsPage() {
  const [range, setRange] = useState("all");
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const rangeRef = useRef(range);
  rangeRef.current = range;

  async function load(key: string) {
    const gen = ++generation.current;
    const hours = RANGES.find((r) => r.key === key)?.hours ?? null;
    try {
      const s = await request<Summary>(`/hitl/analytics/summary${query({ since: sinceOf(hours) })}`);
      if (gen !== generation.current) return;
      setSummary(s);
      setError(null);
    } catch (err) {
      if (gen !== generation.current) return;
      setError(
        err instanceof ApiError && err.status === 403
          ? ANALYTICS_FORBIDDEN
          : describeError(err, "load").message,
      );
    }
  }

  useEffect(() => {
    load(range);
    return () => window.clearTimeout(timer.current);
  }, [range]);
  useLiveSync(() => load(rangeRef.current));
  useLiveEvents(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => load(rangeRef.current), 1000);
  });

  const s = summary;
  return (
    <section class="page" aria-labelledby="analytics-title">
      <div class="page-head">
        <h1 id="analytics-title">Analytics</h1>
        <label class="inline">
          Range
          <select
            value={range}
            onChange={(e) => setRange((e.target as HTMLSelectElement).value)}
            data-testid="analytics-range"
          >
            {RANGES.map((r) => (
              <option value={r.key}>{r.label}</option>
            ))}
          </select>
        </label>
      </div>
      <Alert testid="analytics-error">{error && <p class="error">{error}</p>}</Alert>
      {s && (
        <div data-testid="analytics">
          <div class="stats">
            <Stat label="Patches" value={String(s.total_patches)} testid="stat-total" />
            <Stat label="Open" value={String(s.pending + s.escalated)} note={`${s.escalated} escalated`} testid="stat-open" />
            <Stat label="Approved" value={String(s.approved)} testid="stat-approved" />
            <Stat label="Rejected" value={String(s.rejected)} testid="stat-rejected" />
            <Stat label="Auto-approved" value={String(s.auto_approved)} testid="stat-auto" />
            <Stat label="Cancelled" value={String(s.cancelled)} testid="stat-cancelled" />
          </div>
          <div class="stats">
            <Stat
              label="Auto-approval rate"
              value={percent(s.auto_approval_rate)}
              note="of all patches"
              bar={s.auto_approval_rate}
              testid="stat-auto-rate"
            />
            <Stat
              label="ML accuracy"
              value={percent(s.ml_accuracy)}
              note="prediction agreed with the human verdict"
              bar={s.ml_accuracy}
              testid="stat-ml-accuracy"
            />
            <Stat label="SLA breaches" value={String(s.sla_breaches)} testid="stat-sla-breaches" />
          </div>
          <div class="stats">
            <Stat label="Time to decision, median (p50)" value={duration(s.time_to_decision_seconds.p50)} testid="stat-p50" />
            <Stat label="Time to decision, p90" value={duration(s.time_to_decision_seconds.p90)} testid="stat-p90" />
            <Stat label="Average time to decision" value={duration(s.avg_decision_time_seconds)} testid="stat-avg" />
          </div>
        </div>
      )}
      {!s && !error && <p class="muted">Loading…</p>}
    </section>
  );
}

function Stat(props: { label: string; value: string; note?: string; bar?: number | null; testid: string }) {
  return (
    <div class="stat card" data-testid={props.testid}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.bar !== undefined && (
        <div class="bar thin" aria-hidden="true">
          <span class="fill" style={{ width: `${Math.round((props.bar ?? 0) * 100)}%` }} />
        </div>
      )}
      {props.note && <div class="stat-note muted">{props.note}</div>}
    </div>
  );
}
