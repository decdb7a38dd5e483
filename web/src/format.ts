// Formatting of times, durations, rates and SLA countdowns.

import type { SlaStatus, Status, Urgency } from "./types";

/** Milliseconds since the epoch of the API's ISO 8601 timestamps (which
 *  carry microseconds). */
export function parseTime(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = parseTime(iso);
  return Number.isNaN(t) ? iso : timeFormat.format(t);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/** A compact age or duration: "42 s", "4 m 10 s", "3 h 5 m", "2 d 3 h". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 10) return `${Math.max(0, Math.round(seconds * 10) / 10)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} m ${s % 60} s` : `${m} m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} m` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function percent(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  return `${(x * 100).toFixed(digits)} %`;
}

export interface SlaView {
  status: SlaStatus | "none";
  text: string;
}

/** The SLA of an open decision at `now`, by the server's rule: breached at
 *  the deadline, at risk in the last quarter of the window. */
export function sla(createdAt: string, deadline: string | null, now: number): SlaView {
  if (!deadline) return { status: "none", text: "no SLA" };
  const end = parseTime(deadline);
  const start = parseTime(createdAt);
  const remaining = end - now;
  if (remaining <= 0) return { status: "breached", text: `overdue ${clock(-remaining / 1000)}` };
  const window = end - start;
  const status: SlaStatus = 4 * remaining < window ? "at_risk" : "ok";
  return { status, text: `${clock(Math.ceil(remaining / 1000))} left` };
}

export const URGENCY_RANK: Record<Urgency, number> = {
  low: 0,
  medium: 1,
  high: 2,
  critical: 3,
};

const STATUS_WORDS: Record<Status, string> = {
  pending: "pending",
  escalated: "escalated",
  approved: "approved",
  rejected: "rejected",
  auto_approved: "auto-approved",
  cancelled: "cancelled",
};

export function statusWord(s: string): string {
  return (STATUS_WORDS as Record<string, string>)[s] ?? s.replace(/_/g, " ");
}

export function yesNo(b: boolean | null | undefined, yes = "yes", no = "no"): string {
  if (b === null || b === undefined) return "—";
  return b ? yes : no;
}
