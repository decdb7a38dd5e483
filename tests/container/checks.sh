# What the container test's steps share: the counts, a database per step,
# and the review flow over HTTP. Sourced by run.sh, which sets repo, out,
# work and binary.

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }

source "$here/review_flow.sh"
source "$here/chroot_check.sh"
source "$here/podman_check.sh"
source "$here/compose_check.sh"
source "$here/compose_bootstrap.sh"

# Processes and containers to stop on every way out: "pid N" or
# "container PODMAN-ARGS NAME".
stoppers=()
stop_all() {
  local s
  for s in "${stoppers[@]}"; do eval "$s" >/dev/null 2>&1 || true; done
  stoppers=()
}

# The test PostgreSQL's address (deploy/test exports it) and a conninfo for
# one database of it.
pg_host=${HITL_TEST_PG_HOST:-127.0.0.1}
pg_port=${HITL_TEST_PG_PORT:-5432}
db_url() { echo "host=$pg_host port=$pg_port dbname=$1 user=postgres"; }

# fresh_db NAME: a new, empty database NAME (dropped first if a failed run
# left it behind), dropped again on the way out.
fresh_db() {
  PGOPTIONS='-c client_min_messages=warning' psql "$HITL_TEST_DATABASE_URL" \
    -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
  stoppers+=("psql '$HITL_TEST_DATABASE_URL' -X -q -c 'DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)'")
}

free_tcp_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The config file that serve loads from a mounted path: a stricter
# auto-approval threshold than the default 0.95. review_flow's decision has
# confidence 0.97, so it needs a reviewer only when this file was read.
write_test_config() {
  cat >"$1" <<'JSON'
{"auto_approve": {"min_confidence": 0.99}}
JSON
}
