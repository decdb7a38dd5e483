#!/usr/bin/env bash
# The chaos scenarios of failover_test.py (issue 21 §4), one seed each, on a
# PostgreSQL of their own (pgrestart stops and starts it): stop (SIGSTOP of
# a node past its lease, then SIGCONT), rolling (SIGTERM and restart of
# each node), pgrestart (PostgreSQL restarted under load). The kill
# scenario is run.sh's. About 40 s a scenario here; each bounded at
# 600 s. Prints "chaos: N passed, M failed".
#
# fanout16 is issue 21's fan-out run: the kill scenario on sixteen nodes,
# each with one thread for its actors (--scheduler-threads 1), and 250
# read-your-writes probes instead of 1,000: sixteen nodes sharing 2 busy
# cores answered some 3 a second (the stale-read check has its 1,000 in
# every other run). The PostgreSQL here allows 300 connections: a node's
# pool opens up to 10, and 16 x 10 is past the default 100.
#
# Needs: PostgreSQL 15's server binaries, psql, Python 3 (standard
# library only). Optional: HITL_BINARY (default build/hitl); the scenarios
# as arguments (default: stop rolling pgrestart fanout16); HITL_CHAOS_SEED (default
# 1). Output: tests/output/chaos/SCENARIO-seed-N/ (node logs).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/deploy/lib.sh"
export HITL_BINARY="${HITL_BINARY:-$repo/build/hitl}"
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)" \
  || { echo "chaos.sh: python3 is missing" >&2; exit 1; }
command -v psql >/dev/null || { echo "chaos.sh: psql is missing" >&2; exit 1; }
[ -x "$HITL_BINARY" ] || { echo "chaos.sh: no binary at $HITL_BINARY" >&2; exit 1; }

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(stop rolling pgrestart fanout16)
for s in "${scenarios[@]}"; do
  case $s in
    kill|stop|rolling|pgrestart|fanout16) ;;
    *) echo "chaos.sh: unknown scenario '$s' (kill, stop, rolling, pgrestart, fanout16)" >&2
       exit 2 ;;
  esac
done
seed=${HITL_CHAOS_SEED:-1}

pgdir=$(mktemp -d /tmp/hitl-chaos-pg.XXXXXX)
pgport=$(free_port)
cleanup() { pg_stop "$pgdir"; rm -rf "$pgdir"; }
trap cleanup EXIT
pg_init "$pgdir" && echo "max_connections = 300" >>"$pgdir/data/postgresql.conf" \
  && pg_start "$pgdir" "$pgport" \
  || { echo "chaos.sh: could not start PostgreSQL" >&2; exit 1; }
export HITL_TEST_PG_HOST=127.0.0.1 HITL_TEST_PG_PORT=$pgport
export HITL_TEST_DATABASE_URL="host=127.0.0.1 port=$pgport dbname=postgres user=postgres"
export HITL_TEST_PG_CTL="$repo/deploy/pg-ctl $pgdir $pgport"

out="$repo/tests/output/chaos"
mkdir -p "$out"
passed=0 failed=0
for s in "${scenarios[@]}"; do
  started=$SECONDS
  case $s in
    fanout16) how=(--scenario kill --nodes 16 --scheduler-threads 1
                   --fresh-reads 250) ;;
    *) how=(--scenario "$s") ;;
  esac
  if timeout 600 "$python" -B "$here/failover_test.py" --seed "$seed" \
      "${how[@]}" --out "$out/$s-seed-$seed"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  echo "chaos: $s took $((SECONDS - started)) s"
  # A scenario that failed half-way may have left the server down.
  [ -f "$pgdir/data/postmaster.pid" ] || pg_start "$pgdir" "$pgport" || true
done
echo "chaos: $passed passed, $failed failed"
[ "$failed" = 0 ]
