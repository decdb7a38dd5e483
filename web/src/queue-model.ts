// The pending queue as the server orders it, and how a live event changes
// the loaded part of it (pure functions; the page holds the state).

import { URGENCY_RANK } from "./format";
import type { DecisionRecord, PendingItem, SortKey, Urgency } from "./types";
import { isOpen } from "./types";

export interface QueueFilters {
  priority: Urgency | null;
  severity: Urgency | null;
  sort: SortKey;
}

export interface QueueState {
  items: PendingItem[];
  total: number;
  nextCursor: string | null;
  /** Decision ids that arrived live (highlighted for a moment). */
  fresh: Set<string>;
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Timestamps share one format (microseconds, Z), so text order is time order.
const NO_DEADLINE = "9999-12-31T23:59:59.999999Z";

/** The server's order (persistence/pending_repository.cpp). */
export function compare(sort: SortKey, a: PendingItem, b: PendingItem): number {
  switch (sort) {
    case "priority":
      return (
        URGENCY_RANK[b.priority] - URGENCY_RANK[a.priority] ||
        cmpText(a.created_at, b.created_at) ||
        cmpText(a.decision_id, b.decision_id)
      );
    case "age":
      return cmpText(a.created_at, b.created_at) || cmpText(a.decision_id, b.decision_id);
    case "deadline":
      return (
        cmpText(a.sla_deadline ?? NO_DEADLINE, b.sla_deadline ?? NO_DEADLINE) ||
        cmpText(a.decision_id, b.decision_id)
      );
  }
}

export function matches(f: QueueFilters, d: DecisionRecord): boolean {
  return (
    (f.priority === null || d.priority === f.priority) &&
    (f.severity === null || d.patch_metadata.severity === f.severity)
  );
}

/** A decision record (from an event) as a row of the queue. */
export function toPendingItem(d: DecisionRecord, now: number): PendingItem {
  const created = Date.parse(d.created_at.replace(/(\.\d{3})\d+/, "$1"));
  return {
    decision_id: d.decision_id,
    patch_id: d.patch_id,
    apv_id: d.apv_id,
    cve_id: d.cve_id,
    package_name: d.patch_metadata.package_name,
    severity: d.patch_metadata.severity,
    priority: d.priority,
    decision: d.decision,
    ml_confidence: d.ml_prediction ? d.ml_prediction.confidence : null,
    ml_prediction: d.ml_prediction ? d.ml_prediction.prediction : null,
    wargaming_passed: d.wargaming_result ? d.wargaming_result.validation_passed : null,
    created_at: d.created_at,
    age_seconds: Math.max(0, Math.floor((now - created) / 1000)),
    sla_deadline: d.sla_deadline,
    sla_status: "ok", // the page computes it live from the deadline
    escalation_level: d.escalation_level,
    approvals_required: d.approvals_required,
  };
}

const CLOSING_EVENTS = new Set(["decision.approved", "decision.rejected", "decision.cancelled"]);

/** The queue after one event about `d`. Open decisions are updated in place
 *  or inserted where the server would list them (unless that place lies
 *  beyond the loaded pages); final ones leave. */
export function applyEvent(
  state: QueueState,
  f: QueueFilters,
  event: string,
  d: DecisionRecord,
  now: number,
): QueueState {
  const index = state.items.findIndex((i) => i.decision_id === d.decision_id);
  const relevant = matches(f, d);
  if (isOpen(d.decision) && relevant) {
    const item = toPendingItem(d, now);
    if (index >= 0) {
      const items = state.items.slice();
      items[index] = item;
      return { ...state, items };
    }
    const total = event === "decision.created" ? state.total + 1 : state.total;
    let at = state.items.findIndex((i) => compare(f.sort, item, i) < 0);
    if (at < 0) at = state.items.length;
    if (at === state.items.length && state.nextCursor !== null) {
      return { ...state, total }; // "load more" will bring it
    }
    const items = state.items.slice();
    items.splice(at, 0, item);
    const fresh = new Set(state.fresh);
    fresh.add(item.decision_id);
    return { ...state, items, total, fresh };
  }
  if (!isOpen(d.decision)) {
    const closes = relevant && CLOSING_EVENTS.has(event);
    if (index < 0 && !closes) return state;
    const items = index >= 0 ? state.items.filter((_, i) => i !== index) : state.items;
    const total = closes ? Math.max(0, state.total - 1) : state.total;
    return { ...state, items, total };
  }
  return state;
}
