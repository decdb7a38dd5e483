// Same-origin calls to the HITL API with the reviewer's bearer token.
// A 401 from any call made with the current token signs the reviewer out
// (see auth.ts); every other failure becomes an ApiError for the page.

import { auth } from "./auth";
import type { Problem } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  get detail(): string {
    return this.problem?.detail ?? "";
  }
}

export interface RequestOptions {
  method?: "GET" | "POST";
  body?: unknown;
  signal?: AbortSignal;
  /** A token to try instead of the stored one (token entry); its 401 does
   *  not sign anybody out. */
  token?: string;
}

/** Offset (ms) to add to the local clock to get the server's, when the two
 *  differ by more than the HTTP Date header's one-second resolution. */
let serverOffsetMs = 0;

export function serverNow(): number {
  return Date.now() + serverOffsetMs;
}

/** Learns the server's clock from an estimate of its time (ms) at the
 *  local time `local`; estimates have about a second of error, so only a
 *  clearly wrong local clock is corrected. */
export function noteServerTime(server: number, local: number): void {
  const offset = server - local;
  serverOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
}

function learnClock(res: Response, sentAt: number): void {
  const date = res.headers.get("Date");
  if (!date) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  noteServerTime(server + 500, (sentAt + Date.now()) / 2);
}

const MAX_BUSY_RETRIES = 3;

/** Retry-After of a 429 in ms (at most 5 s), or null when there is none. */
function retryAfterMs(res: Response): number | null {
  const h = res.headers.get("Retry-After");
  if (h === null) return null;
  const seconds = Number(h);
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  return Math.min(seconds, 5) * 1000;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
    const onAbort = () => {
      clearTimeout(t);
      reject(new DOMException("aborted", "AbortError"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// Read-your-writes on any node (SPEC §8): the place in the audit log of
// this tab's last write (X-HITL-Position), sent back with every read, so
// that a node that has not caught up with it yet reads the database rather
// than its cache. Once the node has passed it, the header costs nothing.
let lastWrite: string | null = null;

export function lastWritePosition(): string | null {
  return lastWrite;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? auth.token();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if ((opts.method ?? "GET") === "GET" && lastWrite) headers["X-HITL-Min-Position"] = lastWrite;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const method = opts.method ?? "GET";
  let res: Response;
  for (let attempt = 0; ; attempt++) {
    const sentAt = Date.now();
    try {
      res = await fetch(path, {
        method,
        headers,
        body,
        signal: opts.signal,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, null, "network error");
    }
    learnClock(res, sentAt);
    // A read the service is too busy for now (one summary or verify scan at
    // a time, SPEC §10) is asked again when it says, a few times; a write is
    // never repeated behind the reviewer's back.
    const wait = retryAfterMs(res);
    if (method !== "GET" || res.status !== 429 || wait === null || attempt >= MAX_BUSY_RETRIES)
      break;
    await res.text();
    await sleep(wait, opts.signal);
  }
  if (method !== "GET" && res.ok) lastWrite = res.headers.get("X-HITL-Position") ?? lastWrite;
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data as T;
  const problem =
    data && typeof data === "object" ? (data as Problem) : { status: res.status, detail: text };
  if (res.status === 401 && opts.token === undefined && token && token === auth.token()) {
    auth.expire();
  }
  throw new ApiError(res.status, problem, problem.detail || `HTTP ${res.status}`);
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
