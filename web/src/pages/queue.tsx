// The pending queue (#/queue): open decisions with filters, sort, "load
// more", live SLA countdowns, and live inserts and removals from the
// WebSocket.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, enc, noteServerTime, query, request } from "../api";
import { duration, parseTime, percent } from "../format";
import { replaceHash, useLiveEvents, useLiveSync, useNow } from "../hooks";
import { describeError } from "../messages";
import { applyEvent, type QueueFilters, type QueueState } from "../queue-model";
import type { LiveEvent, PendingItem, PendingPage, SortKey, Urgency } from "../types";
import { URGENCIES, isOpen } from "../types";
import { Alert, EscalationBadge, SlaCountdown, UrgencyBadge } from "../components/bits";

const PAGE_SIZE = 50;
const MAX_LIMIT = 100;
const FRESH_MS = 4000;
const TOTAL_CHECK_MS = 1500;

function readFilters(params: URLSearchParams): QueueFilters {
  const urgency = (v: string | null): Urgency | null =>
    v && (URGENCIES as string[]).includes(v) ? (v as Urgency) : null;
  const sort = params.get("sort");
  return {
    priority: urgency(params.get("priority")),
    severity: urgency(params.get("severity")),
    sort: sort === "age" || sort === "deadline" ? sort : "priority",
  };
}

function filterHash(f: QueueFilters): string {
  return `#/queue${query({
    priority: f.priority,
    severity: f.severity,
    sort: f.sort === "priority" ? null : f.sort,
  })}`;
}

function pendingPath(f: QueueFilters, limit: number, cursor: string | null): string {
  return `/hitl/patches/pending${query({
    limit,
    priority: f.priority,
    severity: f.severity,
    sort: f.sort,
    cursor,
  })}`;
}

/** The server's time, from an item's age (whole seconds) and creation time:
 *  the API sends no Date header. */
function learnClockFromAge(page: PendingPage, sentAt: number): void {
  const item = page.items[0];
  if (!item) return;
  const server = parseTime(item.created_at) + item.age_seconds * 1000 + 500;
  noteServerTime(server, (sentAt + Date.now()) / 2);
}

const EMPTY: QueueState = { items: [], total: 0, nextCursor: null, fresh: new Set() };

export function QueuePage({ params }: { params: URLSearchParams }) {
  const [filters, setFilters] = useState<QueueFilters>(() => readFilters(params));
  const [state, setState] = useState<QueueState>(EMPTY);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const stateRef = useRef(state);
  stateRef.current = state;
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const totalTimer = useRef<number | undefined>(undefined);
  /** Events that arrive while a reload is in flight, replayed on its page
   *  (which may predate them). */
  const buffered = useRef<LiveEvent[] | null>(null);
  const now = useNow();

  /** Loads the first page again (as many rows as are shown, up to 100). */
  async function reload(f: QueueFilters, keepRows: boolean) {
    const gen = ++generation.current;
    buffered.current = [];
    setLoading(true);
    const limit = keepRows
      ? Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, stateRef.current.items.length))
      : PAGE_SIZE;
    try {
      const sentAt = Date.now();
      const page = await request<PendingPage>(pendingPath(f, limit, null));
      if (gen !== generation.current) return;
      learnClockFromAge(page, sentAt);
      let next: QueueState = {
        items: page.items,
        total: page.total,
        nextCursor: page.next_cursor,
        fresh: keepRows ? stateRef.current.fresh : new Set(),
      };
      const missed = buffered.current ?? [];
      buffered.current = null;
      for (const e of missed) {
        if (e.decision) next = applyEvent(next, f, e.event, e.decision, Date.now());
      }
      stateRef.current = next;
      setState(next);
      if (missed.length) checkTotalSoon();
      setError(null);
      setLoaded(true);
    } catch (err) {
      if (gen !== generation.current) return;
      buffered.current = null;
      setError(
        err instanceof ApiError && err.status === 403
          ? "Your token's role cannot see the queue; it needs the reviewer or auditor role."
          : describeError(err, "load").message,
      );
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }

  async function loadMore() {
    const cursor = state.nextCursor;
    if (!cursor) return;
    const gen = generation.current;
    setLoadingMore(true);
    try {
      const page = await request<PendingPage>(pendingPath(filters, PAGE_SIZE, cursor));
      if (gen !== generation.current) return;
      setState((s) => {
        const known = new Set(s.items.map((i) => i.decision_id));
        return {
          ...s,
          items: s.items.concat(page.items.filter((i) => !known.has(i.decision_id))),
          total: page.total,
          nextCursor: page.next_cursor,
        };
      });
      setError(null);
    } catch (err) {
      if (gen === generation.current) setError(describeError(err, "load").message);
    } finally {
      setLoadingMore(false);
    }
  }

  /** After live changes, asks for the true total (other pages, other
   *  filters' rows that changed) once things settle. */
  function checkTotalSoon() {
    window.clearTimeout(totalTimer.current);
    totalTimer.current = window.setTimeout(async () => {
      const gen = generation.current;
      try {
        const page = await request<PendingPage>(pendingPath(filtersRef.current, 1, null));
        if (gen === generation.current) setState((s) => ({ ...s, total: page.total }));
      } catch {
        // The next reload corrects it.
      }
    }, TOTAL_CHECK_MS);
  }

  useEffect(() => {
    reload(filters, false);
    return () => window.clearTimeout(totalTimer.current);
  }, [filters]);

  // A link or the back button to another #/queue?… address.
  const paramsKey = params.toString();
  useEffect(() => {
    const f = readFilters(params);
    if (filterHash(f) !== filterHash(filtersRef.current)) setFilters(f);
  }, [paramsKey]);

  useLiveSync(() => reload(filtersRef.current, true));

  useLiveEvents((e) => {
    if (!e.decision) return;
    if (buffered.current) buffered.current.push(e);
    const d = e.decision;
    const before = stateRef.current;
    const after = applyEvent(before, filtersRef.current, e.event, d, Date.now());
    if (after === before) return;
    stateRef.current = after;
    setState(after);
    checkTotalSoon();
    if (after.fresh.has(d.decision_id) && !before.fresh.has(d.decision_id)) {
      window.setTimeout(() => {
        setState((s) => {
          if (!s.fresh.has(d.decision_id)) return s;
          const fresh = new Set(s.fresh);
          fresh.delete(d.decision_id);
          return { ...s, fresh };
        });
      }, FRESH_MS);
    }
  });

  function change(patch: Partial<QueueFilters>) {
    const next = { ...filters, ...patch };
    replaceHash(filterHash(next));
    setFilters(next);
  }

  const { items, total, nextCursor } = state;
  return (
    <section aria-labelledby="queue-title" class="page">
      <div class="page-head">
        <h1 id="queue-title">Pending queue</h1>
        <p class="total" data-testid="queue-total" aria-live="polite">
          {loaded ? (
            <>
              <strong data-testid="queue-total-count">{total}</strong>{" "}
              {total === 1 ? "open decision" : "open decisions"}
              {filters.priority || filters.severity ? (total === 1 ? " matches the filters" : " match the filters") : ""}
            </>
          ) : (
            " "
          )}
        </p>
      </div>

      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters and sort">
        <label>
          Priority
          <select
            value={filters.priority ?? ""}
            data-testid="filter-priority"
            onChange={(e) => change({ priority: ((e.target as HTMLSelectElement).value || null) as Urgency | null })}
          >
            <option value="">any</option>
            {URGENCIES.map((u) => (
              <option value={u}>{u}</option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select
            value={filters.severity ?? ""}
            data-testid="filter-severity"
            onChange={(e) => change({ severity: ((e.target as HTMLSelectElement).value || null) as Urgency | null })}
          >
            <option value="">any</option>
            {URGENCIES.map((u) => (
              <option value={u}>{u}</option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select
            value={filters.sort}
            data-testid="sort"
            onChange={(e) => change({ sort: (e.target as HTMLSelectElement).value as SortKey })}
          >
            <option value="priority">priority (critical first)</option>
            <option value="age">age (oldest first)</option>
            <option value="deadline">SLA deadline (soonest first)</option>
          </select>
        </label>
        <span class="loading-slot" aria-live="polite">
          {loading ? "Refreshing…" : ""}
        </span>
      </form>

      <Alert testid="queue-error">{error && <p class="error">{error}</p>}</Alert>

      <div class="table-wrap">
        <table class="queue" data-testid="queue-table">
          <caption class="visually-hidden">
            Open decisions, sorted by {filters.sort}
          </caption>
          <colgroup>
            <col class="c-patch" />
            <col class="c-package" />
            <col class="c-cve" />
            <col class="c-sev" />
            <col class="c-prio" />
            <col class="c-ml" />
            <col class="c-war" />
            <col class="c-age" />
            <col class="c-sla" />
            <col class="c-esc" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Patch</th>
              <th scope="col">Package</th>
              <th scope="col">CVE</th>
              <th scope="col">Severity</th>
              <th scope="col">Priority</th>
              <th scope="col">ML confidence</th>
              <th scope="col">Wargaming</th>
              <th scope="col">Age</th>
              <th scope="col">SLA</th>
              <th scope="col">Escalation</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <Row key={item.decision_id} item={item} now={now} fresh={state.fresh.has(item.decision_id)} />
            ))}
            {loaded && items.length === 0 && (
              <tr class="empty-row">
                <td colSpan={10} data-testid="queue-empty">
                  No open decisions{filters.priority || filters.severity ? " match these filters" : ""}.
                </td>
              </tr>
            )}
            {!loaded && (
              <tr class="empty-row">
                <td colSpan={10}>{error ? "—" : "Loading…"}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <div class="more">
        {nextCursor ? (
          <button
            type="button"
            class="button"
            disabled={loadingMore}
            onClick={loadMore}
            data-testid="load-more"
          >
            {loadingMore ? "Loading…" : `Load more (${items.length} of ${total} shown)`}
          </button>
        ) : (
          loaded && items.length > 0 && <span class="muted">All {items.length} shown.</span>
        )}
      </div>
    </section>
  );
}

function Row({ item, now, fresh }: { item: PendingItem; now: number; fresh: boolean }) {
  const age = (now - parseTime(item.created_at)) / 1000;
  const href = `#/decisions/${enc(item.decision_id)}`;
  return (
    <tr
      class={fresh ? "fresh" : undefined}
      data-testid="queue-row"
      data-decision-id={item.decision_id}
      data-patch-id={item.patch_id}
    >
      <td class="ellipsis" title={item.patch_id}>
        <a href={href} data-testid="queue-link">
          {item.patch_id}
        </a>
      </td>
      <td class="ellipsis" title={item.package_name}>
        {item.package_name}
      </td>
      <td class="ellipsis" title={item.cve_id ?? ""}>
        {item.cve_id ?? <span class="muted">—</span>}
      </td>
      <td>
        <UrgencyBadge value={item.severity} />
      </td>
      <td>
        <UrgencyBadge value={item.priority} />
      </td>
      <td class="num">
        {item.ml_confidence === null ? (
          <span class="muted">—</span>
        ) : (
          <span class="mini-meter" title={item.ml_prediction ? "predicts: patch works" : "predicts: patch fails"}>
            <span class="mini-track" aria-hidden="true">
              <span class="mini-fill" style={{ width: `${Math.round(item.ml_confidence * 100)}%` }} />
            </span>
            <span class="mini-num">{percent(item.ml_confidence, 0)}</span>
          </span>
        )}
      </td>
      <td>
        {item.wargaming_passed === null ? (
          <span class="muted">—</span>
        ) : item.wargaming_passed ? (
          <span class="ok-text">passed</span>
        ) : (
          <span class="bad-text">failed</span>
        )}
      </td>
      <td class="num" data-testid="age">
        {duration(Math.max(0, Math.floor(age)))}
      </td>
      <td class="num">
        <SlaCountdown
          createdAt={item.created_at}
          deadline={item.sla_deadline}
          now={now}
          open={isOpen(item.decision)}
        />
      </td>
      <td>
        <EscalationBadge level={item.escalation_level} />
      </td>
    </tr>
  );
}
