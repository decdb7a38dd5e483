#!/usr/bin/env bash
# The web UI in real headless Chromium against a real `hitl serve`:
# a fresh database, tokens for two reviewers, a service and an auditor, a
# config with short SLAs, the server on a free port, then `node --test`.
#
# Needs: HITL_BINARY (the built hitl), HITL_TEST_DATABASE_URL (an admin
# conninfo, e.g. "host=127.0.0.1 port=55499 dbname=postgres user=postgres"),
# HITL_TEST_PG_HOST, HITL_TEST_PG_PORT; psql, node >= 20, npm, and Debian's
# chromium (HITL_CHROMIUM overrides /usr/bin/chromium).
# Optional: HITL_WEB_ROOT (the built UI to serve; default web/dist, built
# here when missing or older than its sources).
# HITL_BROWSER_TEST_FILTER (a regular expression: run only the tests whose
# name matches, e.g. "^14").
# Output: tests/output/browser/ (server.log, screenshots of failures).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/tests/output/browser"

: "${HITL_BINARY:?set HITL_BINARY to the built hitl binary}"
: "${HITL_TEST_DATABASE_URL:?set HITL_TEST_DATABASE_URL to an admin conninfo}"
: "${HITL_TEST_PG_HOST:?set HITL_TEST_PG_HOST}"
: "${HITL_TEST_PG_PORT:?set HITL_TEST_PG_PORT}"
export HITL_CHROMIUM="${HITL_CHROMIUM:-/usr/bin/chromium}"

for tool in psql node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
echo "browser tests: $HITL_BINARY, chromium $("$HITL_CHROMIUM" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
[[ -x "$HITL_BINARY" ]] || { echo "run.sh: $HITL_BINARY is not executable" >&2; exit 1; }
[[ -x "$HITL_CHROMIUM" ]] || {
  echo "run.sh: no chromium at $HITL_CHROMIUM (apt-get install -y chromium)" >&2
  exit 1
}

mkdir -p "$out"
rm -f "$out"/*.png

# -- dependencies and the UI build -----------------------------------------------

# npm ci when node_modules is missing or older than the lockfile.
ensure_modules() {
  local dir="$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" \
        || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_modules "$here"

if [[ -z "${HITL_WEB_ROOT:-}" ]]; then
  web="$repo/web"
  stale=""
  if [[ ! -f "$web/dist/index.html" ]]; then
    stale=yes
  elif [[ -n "$(find "$web/src" "$web/index.html" "$web/package-lock.json" \
                  "$web/vite.config.ts" "$web/tsconfig.json" \
                  -newer "$web/dist/index.html" -print -quit)" ]]; then
    stale=yes
  fi
  if [[ -n "$stale" ]]; then
    ensure_modules "$web"
    (cd "$web" && npm run --silent build >/dev/null)
  fi
  export HITL_WEB_ROOT="$web/dist"
fi

# -- database, tokens, config --------------------------------------------------------

tmp="$(mktemp -d)"
db="hitl_browser_$$_$RANDOM"
url="host=$HITL_TEST_PG_HOST port=$HITL_TEST_PG_PORT dbname=$db user=postgres"
server_pid=""

cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  psql "$HITL_TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql "$HITL_TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
"$HITL_BINARY" migrate --database-url "$url" >"$tmp/migrate.log" 2>&1 \
  || { cat "$tmp/migrate.log" >&2; exit 1; }

token() { "$HITL_BINARY" token create --name "$1" --role "$2" --database-url "$url"; }
HITL_TOKEN_ALICE="$(token alice reviewer)"
HITL_TOKEN_BOB="$(token bob reviewer)"
HITL_TOKEN_SERVICE="$(token wargaming service)"
HITL_TOKEN_AUDITOR="$(token audrey auditor)"
export HITL_TOKEN_ALICE HITL_TOKEN_BOB HITL_TOKEN_SERVICE HITL_TOKEN_AUDITOR
export HITL_BINARY HITL_DATABASE_URL_FOR_TESTS="$url"

cat >"$tmp/config.json" <<'EOF'
{
  "sla_seconds": {"critical": 4, "high": 6, "medium": 60, "low": null},
  "escalation": {"repeat_seconds": null, "max_level": 3}
}
EOF

# -- the server -------------------------------------------------------------------

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export HITL_BASE_URL="http://127.0.0.1:$port"

"$HITL_BINARY" serve --listen "127.0.0.1:$port" --database-url "$url" \
  --config "$tmp/config.json" >"$out/server.log" 2>&1 &
server_pid=$!

node -e '
  const base = process.argv[1];
  const deadline = Date.now() + 20000;
  (async () => {
    for (;;) {
      try {
        const r = await fetch(base + "/health");
        if (r.status === 200) break;
      } catch {}
      if (Date.now() > deadline) { console.error("run.sh: /health never answered 200"); process.exit(1); }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ui = await fetch(base + "/");
    const html = await ui.text();
    if (ui.status !== 200 || !html.includes("<div id=\"app\">")) {
      console.error(`run.sh: GET / answered ${ui.status} without the UI (HITL_WEB_ROOT=${process.env.HITL_WEB_ROOT})`);
      process.exit(1);
    }
  })();
' "$HITL_BASE_URL" || { tail -n 30 "$out/server.log" >&2; exit 1; }

# -- the tests ----------------------------------------------------------------------

export HITL_BROWSER_OUTPUT="$out"
cd "$here"
node --test --test-concurrency=1 --test-reporter=spec ${HITL_BROWSER_TEST_FILTER:+--test-name-pattern="$HITL_BROWSER_TEST_FILTER"} ./*.test.mjs
