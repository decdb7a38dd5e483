// Small presentational pieces shared by the pages.

import type { ComponentChildren } from "preact";
import { sla, statusWord } from "../format";
import type { Status, Urgency } from "../types";

export function UrgencyBadge({ value, testid }: { value: Urgency; testid?: string }) {
  return (
    <span class={`badge urgency-${value}`} data-testid={testid}>
      {value}
    </span>
  );
}

export function StatusBadge({ value }: { value: Status }) {
  return (
    <span class={`badge status-${value}`} data-testid="decision-status" data-status={value}>
      {statusWord(value)}
    </span>
  );
}

export function EscalationBadge({ level }: { level: number }) {
  return (
    <span
      class={`badge escalation escalation-${Math.min(level, 3)}`}
      data-testid="escalation-level"
      data-level={level}
      title={level > 0 ? `Escalated to level ${level} after an SLA breach` : "Not escalated"}
    >
      {level > 0 ? `Level ${level}` : "—"}
    </span>
  );
}

/** A live SLA countdown; `now` comes from the page's one clock. */
export function SlaCountdown(props: {
  createdAt: string;
  deadline: string | null;
  now: number;
  open: boolean;
}) {
  if (!props.open) return <span class="muted">—</span>;
  const view = sla(props.createdAt, props.deadline, props.now);
  return (
    <span class={`sla sla-${view.status}`} data-testid="sla" data-sla={view.status}>
      {view.text}
    </span>
  );
}

export function Alert({ children, testid }: { children?: ComponentChildren; testid: string }) {
  // Always rendered, so that screen readers announce what appears in it and
  // the layout keeps its place.
  return (
    <div role="alert" class="alert-slot" data-testid={testid}>
      {children}
    </div>
  );
}

export function Section(props: { title: string; id: string; children: ComponentChildren; testid?: string }) {
  return (
    <section class="card" aria-labelledby={props.id} data-testid={props.testid}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}
