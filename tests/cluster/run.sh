#!/usr/bin/env bash
# The failover test (failover_test.py, scenario kill) once per seed: three
# `hitl serve` nodes on the PostgreSQL that deploy/test starts, load on all
# three, a WebSocket client on each, read-your-writes probes, a long-poll on
# one node for a decision of the node then killed with SIGKILL, then the
# checks. Prints "cluster: N passed, M failed". The other scenarios
# (SIGSTOP, rolling restarts, PostgreSQL restart): chaos.sh.
#
# Needs: HITL_TEST_DATABASE_URL (an admin conninfo), HITL_TEST_PG_HOST,
# HITL_TEST_PG_PORT; psql; Python 3 (standard library only).
# Optional: HITL_BINARY (default build/hitl); the seeds as arguments
# (default 1 2 3 4 5); HITL_FAILOVER_KEEP_DB=1 keeps each run's database.
# Output: tests/output/cluster/seed-N/ (node logs; on undelivered webhooks,
# the outbox rows left).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export HITL_BINARY="${HITL_BINARY:-$repo/build/hitl}"
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)" \
  || { echo "run.sh: python3 is missing" >&2; exit 1; }
command -v psql >/dev/null || { echo "run.sh: psql is missing" >&2; exit 1; }

seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3 4 5)
out="$repo/tests/output/cluster"
mkdir -p "$out"
passed=0 failed=0
for seed in "${seeds[@]}"; do
  # A bound on the whole run: a failing run must not hang the suite.
  if timeout 600 "$python" -B "$here/failover_test.py" --seed "$seed" \
      --out "$out/seed-$seed"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "cluster: $passed passed, $failed failed"
[ "$failed" = 0 ]
