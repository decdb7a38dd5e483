// The reviewer's token, kept in sessionStorage for the browser session, and
// the notice shown on the token entry page after a sign-out.

const KEY = "hitl.token";

type Listener = () => void;

let current: string | null = readStored();
let notice: string | null = null;
const listeners = new Set<Listener>();

function readStored(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function store(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage may be disabled; the token then lives only in memory.
  }
}

function changed(): void {
  for (const fn of listeners) fn();
}

export const EXPIRED_MESSAGE = "Your token expired or was revoked; paste a new one.";

export const auth = {
  token(): string | null {
    return current;
  },
  notice(): string | null {
    return notice;
  },
  signIn(token: string): void {
    current = token;
    notice = null;
    store(token);
    changed();
  },
  signOut(message: string | null = null): void {
    current = null;
    notice = message;
    store(null);
    changed();
  },
  /** A 401 from a later call: back to token entry with a message. */
  expire(): void {
    if (current === null) return;
    this.signOut(EXPIRED_MESSAGE);
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};
