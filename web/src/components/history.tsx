// "History": the decision's own story (created, escalated, approvals,
// verdict, comments) built from the record, so that every role sees it;
// the hash-chained audit trail itself is for auditors.

import { formatTime, parseTime } from "../format";
import type { DecisionView } from "../types";

interface Entry {
  at: string;
  kind: string;
  who: string | null;
  text: string;
  quote?: string | null;
}

export function historyOf(d: DecisionView): Entry[] {
  const out: Entry[] = [];
  out.push({
    at: d.created_at,
    kind: "created",
    who: d.created_by,
    text: `created it (${d.priority} priority, ${d.approvals_required} ${
      d.approvals_required === 1 ? "approval" : "approvals"
    } required)`,
  });
  if (d.escalation_level > 0 && d.sla_deadline) {
    out.push({
      at: d.sla_deadline,
      kind: "escalated",
      who: null,
      text:
        d.escalation_level === 1
          ? "The SLA deadline passed: escalated to level 1"
          : `The SLA deadline passed: escalated, now at level ${d.escalation_level}`,
    });
  }
  d.approvals.forEach((a, i) => {
    const final = d.decision === "approved" && i === d.approvals.length - 1;
    out.push({
      at: a.at,
      kind: final ? "approved" : "approval_added",
      who: a.by,
      text: final
        ? `approved it (${i + 1} of ${d.approvals_required}): the patch may deploy`
        : `approved it (${i + 1} of ${d.approvals_required})`,
      quote: a.comment,
    });
  });
  if (d.decided_at && d.decision !== "approved") {
    const verb =
      d.decision === "rejected"
        ? "rejected it"
        : d.decision === "cancelled"
          ? "cancelled it"
          : d.decision === "auto_approved"
            ? "auto-approved it"
            : d.decision;
    out.push({
      at: d.decided_at,
      kind: d.decision,
      who: d.decided_by,
      text: d.reason ? `${verb}, reason:` : verb,
      quote: d.reason,
    });
  }
  for (const c of d.comments) {
    out.push({ at: c.created_at, kind: "commented", who: c.user, text: "commented:", quote: c.comment });
  }
  // Stable: equal times keep the order above.
  return out
    .map((e, i) => ({ e, i, t: parseTime(e.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}

export function History({ decision }: { decision: DecisionView }) {
  const entries = historyOf(decision);
  return (
    <ol class="history">
      {entries.map((e) => (
        <li data-testid="history-entry" data-kind={e.kind} class={`h-${e.kind}`}>
          <time dateTime={e.at} class="muted">
            {formatTime(e.at)}
          </time>
          <span>
            {e.who && <strong>{e.who}</strong>} {e.text}
            {e.quote && (
              <>
                {" "}
                <q class="quote">{e.quote}</q>
              </>
            )}
          </span>
        </li>
      ))}
    </ol>
  );
}
