// The WebSocket event stream (/hitl/ws). The token travels as the
// subprotocol `bearer.<token>`, offered beside `hitl.v1`, because a browser
// cannot set headers on a WebSocket; the server answers with `hitl.v1`,
// never the token. Reconnects with backoff (1 s doubling to 10 s) and asks
// the pages to refetch ("sync") whenever events may have been missed: after
// each (re)connect, and now and then while the socket is down. A close with
// 4401 means the token was revoked or has expired: the pages refetch at
// once, so that the REST 401 handling signs the user out.

import type { LiveEvent } from "./types";

export type LiveStatus = "off" | "connecting" | "live" | "reconnecting";

type EventListener = (e: LiveEvent) => void;
type Listener = () => void;

/** The subprotocol the server speaks. */
const PROTOCOL = "hitl.v1";
/** The server's close code for a revoked or expired token. */
const TOKEN_INVALID = 4401;

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 10000;
/** While down, pages refetch at most this often (also catches a revoked
 *  token through the REST 401 handling). */
const DOWN_SYNC_MS = 10000;
/** A connection open this long counts as healthy. */
const STABLE_MS = 5000;

class LiveConnection {
  private socket: WebSocket | null = null;
  private token: string | null = null;
  private delay = MIN_DELAY_MS;
  private timer: number | undefined;
  private lastDownSync = 0;
  private state: LiveStatus = "off";
  private readonly eventListeners = new Set<EventListener>();
  private readonly statusListeners = new Set<Listener>();
  private readonly syncListeners = new Set<Listener>();

  constructor() {
    window.addEventListener("online", () => this.reconnectNow());
  }

  status(): LiveStatus {
    return this.state;
  }

  start(token: string): void {
    if (this.token === token && this.socket) return;
    this.stop();
    this.token = token;
    this.delay = MIN_DELAY_MS;
    this.lastDownSync = Date.now();
    this.connect("connecting");
  }

  stop(): void {
    this.token = null;
    window.clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onclose = s.onerror = s.onmessage = null;
      s.close(1000, "signed out");
    }
    this.setStatus("off");
  }

  onEvent(fn: EventListener): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onStatus(fn: Listener): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** Called when a page should refetch because events may have been missed. */
  onSync(fn: Listener): () => void {
    this.syncListeners.add(fn);
    return () => this.syncListeners.delete(fn);
  }

  private reconnectNow(): void {
    if (!this.token || this.state === "live") return;
    window.clearTimeout(this.timer);
    this.delay = MIN_DELAY_MS;
    this.connect("reconnecting");
  }

  private setStatus(s: LiveStatus): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.statusListeners) fn();
  }

  private sync(): void {
    for (const fn of this.syncListeners) fn();
  }

  private connect(status: LiveStatus): void {
    const token = this.token;
    if (!token) return;
    this.setStatus(status);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/hitl/ws`, [PROTOCOL, `bearer.${token}`]);
    } catch {
      // A token with characters a subprotocol cannot carry: REST will say
      // whether it is valid; keep trying in case the page fixes it.
      this.scheduleReconnect(null);
      return;
    }
    this.socket = socket;
    let openedAt: number | null = null;
    socket.onopen = () => {
      openedAt = Date.now();
      this.setStatus("live");
      this.sync();
    };
    socket.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      let event: LiveEvent;
      try {
        event = JSON.parse(msg.data) as LiveEvent;
      } catch {
        return;
      }
      if (!event || typeof event.event !== "string") return;
      for (const fn of this.eventListeners) fn(event);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code === TOKEN_INVALID) {
        this.lastDownSync = Date.now();
        this.sync();
      }
      this.scheduleReconnect(openedAt);
    };
  }

  /** `openedAt`: when the socket that closed had opened (null: never). */
  private scheduleReconnect(openedAt: number | null): void {
    this.setStatus("reconnecting");
    const now = Date.now();
    if (openedAt !== null) {
      // A connection that lived a while starts the backoff afresh; one
      // that drops at once keeps backing off.
      if (now - openedAt >= STABLE_MS) this.delay = MIN_DELAY_MS;
      this.lastDownSync = now;
    } else if (now - this.lastDownSync >= DOWN_SYNC_MS) {
      this.lastDownSync = now;
      this.sync();
    }
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.connect("reconnecting"), wait);
  }
}

export const live = new LiveConnection();
