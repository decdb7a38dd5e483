// Small shared hooks: hash route, auth, the live connection, one clock.

import { useEffect, useRef, useState } from "preact/hooks";
import { auth } from "./auth";
import { live, type LiveStatus } from "./live";
import { serverNow } from "./api";
import type { LiveEvent } from "./types";

// -- hash routing -------------------------------------------------------------

export type Route =
  | { page: "queue"; params: URLSearchParams }
  | { page: "decision"; id: string }
  | { page: "analytics" };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "decisions" && parts[1]) {
    return { page: "decision", id: decodeURIComponent(parts[1]) };
  }
  if (parts[0] === "analytics") return { page: "analytics" };
  return { page: "queue", params: new URLSearchParams(qs) };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener("hashchange", on);
    window.addEventListener("popstate", on);
    return () => {
      window.removeEventListener("hashchange", on);
      window.removeEventListener("popstate", on);
    };
  }, []);
  return parseHash(hash);
}

/** Replaces the hash without a history entry (filter changes). */
export function replaceHash(hash: string): void {
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// -- auth and live state ------------------------------------------------------

export function useToken(): string | null {
  const [token, setToken] = useState(auth.token());
  useEffect(() => auth.subscribe(() => setToken(auth.token())), []);
  return token;
}

export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState(live.status());
  useEffect(() => live.onStatus(() => setStatus(live.status())), []);
  return status;
}

/** Calls the latest `fn` for each live event. */
export function useLiveEvents(fn: (e: LiveEvent) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.onEvent((e) => ref.current(e)), []);
}

/** Calls the latest `fn` when events may have been missed. */
export function useLiveSync(fn: () => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.onSync(() => ref.current()), []);
}

// -- one clock for every countdown ---------------------------------------------

const tickers = new Set<() => void>();
let interval: number | undefined;

function subscribeClock(fn: () => void): () => void {
  tickers.add(fn);
  if (interval === undefined) {
    // Tick on whole seconds so that every countdown changes together.
    const start = () => {
      interval = window.setInterval(() => tickers.forEach((t) => t()), 1000);
      tickers.forEach((t) => t());
    };
    interval = window.setTimeout(start, 1000 - (serverNow() % 1000));
  }
  return () => {
    tickers.delete(fn);
    if (tickers.size === 0 && interval !== undefined) {
      window.clearInterval(interval);
      window.clearTimeout(interval);
      interval = undefined;
    }
  };
}

/** The server's time now, re-rendering every second. Read at render time,
 *  so a row that appears between two ticks starts from the right value. */
export function useNow(): number {
  const [, setTick] = useState(0);
  useEffect(() => subscribeClock(() => setTick((n) => n + 1)), []);
  return serverNow();
}
