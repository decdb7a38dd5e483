// Token entry: the reviewer pastes a token once; it is checked against the
// queue endpoint and kept in sessionStorage for the browser session.

import { useState } from "preact/hooks";
import { ApiError, request } from "../api";
import { auth } from "../auth";
import { DB_DOWN } from "../messages";

export const INVALID_TOKEN =
  "This token is not valid or was revoked; check that you pasted all of it, or ask an admin for a new one.";

export function TokenEntry() {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const notice = auth.notice();

  async function submit(e: Event) {
    e.preventDefault();
    const token = value.trim();
    if (!token) {
      setError("Paste your token first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request("/hitl/patches/pending?limit=1", { token });
      auth.signIn(token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        // A valid token whose role cannot read the queue (a service token):
        // the pages it may see still work.
        auth.signIn(token);
        return;
      }
      setBusy(false);
      if (!(err instanceof ApiError)) setError("Something went wrong; try again.");
      else if (err.status === 401) setError(INVALID_TOKEN);
      else if (err.status === 503) setError(DB_DOWN);
      else if (err.status === 0) setError("The service cannot be reached; try again in a moment.");
      else setError(`The service refused the check (HTTP ${err.status}); try again.`);
    }
  }

  const message = error ?? notice;
  return (
    <section class="card narrow" aria-labelledby="token-title">
      <h1 id="token-title">Sign in</h1>
      <p class="muted">
        Paste the token an admin created for you with <code>hitl token create</code>. It is kept
        in this browser tab until you sign out or close it.
      </p>
      <div role="alert" class="message-slot" data-testid="token-message">
        {message && <p class={error ? "error" : "notice"}>{message}</p>}
      </div>
      <form onSubmit={submit} class="stack">
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          autoFocus
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          data-testid="token-input"
        />
        <div>
          <button type="submit" class="button primary" disabled={busy} data-testid="token-submit">
            {busy ? "Checking…" : "Continue"}
          </button>
        </div>
      </form>
    </section>
  );
}
