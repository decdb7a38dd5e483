#!/usr/bin/env bash
# The alert and recording rules (deploy/prometheus/): `promtool check
# rules`, each group of the promtool unit tests alone (with a check that
# every alert has a test that fires it and one where it must not fire),
# and the names the rules read against a live `hitl serve`'s /metrics.
# Prints "prometheus: N passed, M failed". Takes about 10 s.
#
# Needs: promtool (Debian's prometheus), python3-yaml, psql,
# HITL_TEST_DATABASE_URL (an admin conninfo), HITL_TEST_PG_HOST,
# HITL_TEST_PG_PORT. Optional: HITL_BINARY (default build/hitl).
# Output: tests/output/prometheus/ (the server's log, the /metrics read).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rules="$repo/deploy/prometheus/hitl-rules.yml"
unit="$repo/deploy/prometheus/hitl-rules.test.yml"
out="$repo/tests/output/prometheus"
export HITL_BINARY="${HITL_BINARY:-$repo/build/hitl}"
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)" \
  || { echo "run.sh: python3 is missing" >&2; exit 1; }
for tool in promtool psql; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
mkdir -p "$out"
passed=0 failed=0

# count STATUS: one test's verdict.
count() { if [ "$1" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

timeout 60 promtool check rules "$rules"
count $?

# Every group is a test; the script's own line gives the counts.
groups_log="$out/unit-groups.log"
timeout 600 "$python" -B "$here/unit_groups.py" "$unit" | tee "$groups_log"
rc=${PIPESTATUS[0]}
p=$(sed -nE 's/^groups: ([0-9]+) passed, ([0-9]+) failed$/\1/p' "$groups_log")
f=$(sed -nE 's/^groups: ([0-9]+) passed, ([0-9]+) failed$/\2/p' "$groups_log")
if [ -n "$p" ]; then
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" = 0 ] || [ "$f" != 0 ] || failed=$((failed + 1))
else
  failed=$((failed + 1)) # it stopped before its counts
fi

timeout 180 "$python" -B "$here/live_names.py" "$rules" "$out"
count $?

echo "prometheus: $passed passed, $failed failed"
[ "$failed" = 0 ]
