// The shell: token entry until a token is known, then the header (pages,
// live indicator, sign out) and the page of the hash route.

import { useEffect } from "preact/hooks";
import { auth } from "./auth";
import { live } from "./live";
import { useLiveStatus, useRoute, useToken } from "./hooks";
import { TokenEntry } from "./pages/token-entry";
import { QueuePage } from "./pages/queue";
import { DecisionPage } from "./pages/decision";
import { AnalyticsPage } from "./pages/analytics";

export function App() {
  const token = useToken();
  const route = useRoute();

  useEffect(() => {
    if (token) live.start(token);
    else live.stop();
  }, [token]);

  useEffect(() => {
    const title =
      route.page === "decision"
        ? `Decision ${route.id}`
        : route.page === "analytics"
          ? "Analytics"
          : "Pending queue";
    document.title = token ? `${title} · HITL Patch Review` : "Sign in · HITL Patch Review";
  }, [route, token]);

  if (!token) {
    return (
      <div class="shell">
        <Header signedIn={false} page={null} />
        <main id="main" class="main">
          <TokenEntry />
        </main>
      </div>
    );
  }

  return (
    <div class="shell">
      <Header signedIn page={route.page} />
      <main id="main" class="main">
        {route.page === "queue" && <QueuePage params={route.params} />}
        {route.page === "decision" && <DecisionPage key={route.id} id={route.id} />}
        {route.page === "analytics" && <AnalyticsPage />}
      </main>
    </div>
  );
}

function Header({ signedIn, page }: { signedIn: boolean; page: string | null }) {
  return (
    <header class="topbar">
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <span class="brand">HITL Patch Review</span>
      {signedIn && (
        <>
          <nav class="nav" aria-label="Pages">
            <a
              href="#/queue"
              aria-current={page === "queue" || page === "decision" ? "page" : undefined}
              data-testid="nav-queue"
            >
              Queue
            </a>
            <a
              href="#/analytics"
              aria-current={page === "analytics" ? "page" : undefined}
              data-testid="nav-analytics"
            >
              Analytics
            </a>
          </nav>
          <span class="spacer" />
          <LiveIndicator />
          <button
            type="button"
            class="button subtle"
            data-testid="sign-out"
            onClick={() => auth.signOut("You signed out.")}
          >
            Sign out
          </button>
        </>
      )}
    </header>
  );
}

function skipToMain(e: Event) {
  // The hash is the router's: move the focus without touching it.
  e.preventDefault();
  const main = document.getElementById("main");
  main?.setAttribute("tabindex", "-1");
  main?.focus();
}

function LiveIndicator() {
  const status = useLiveStatus();
  const text =
    status === "live"
      ? "live"
      : status === "connecting"
        ? "connecting…"
        : status === "reconnecting"
          ? "reconnecting…"
          : "offline";
  return (
    <span
      class={`live live-${status}`}
      data-testid="connection"
      data-status={status}
      role="status"
      title={
        status === "live"
          ? "New patches and verdicts appear as they happen"
          : "Not receiving live updates; the page refreshes when the connection is back"
      }
    >
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
