#!/usr/bin/env bash
# The systemd units and serve's sd_notify, checked without systemd as PID 1
# (README.md says why):
#   1. `systemd-analyze verify` passes on deploy/systemd/*.service, with
#      ExecStart= pointing at the real build (verify looks for the binary),
#      and fails on a copy whose binary does not exist (the check can fail);
#   2. `systemd-analyze security --offline=true` rates each unit "OK" or
#      better (exposure at most 4.9 of 10), score printed;
#   3. notify_test.py: `hitl serve` under a NOTIFY_SOCKET receiver on a
#      PostgreSQL of its own (it stops and restarts it).
# Prints "systemd: N passed, M failed" (each check counts one). 16-24 s
# on this shared machine (47 s beside three busy loops), bounded by
# timeouts (at worst 4 x 120 s for systemd-analyze and 900 s for the
# notify test).
#
# Optional: HITL_BINARY (default build/hitl).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/deploy/lib.sh"
binary="${HITL_BINARY:-$repo/build/hitl}"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
out="$repo/tests/output/systemd"
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0
pass() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

for tool in systemd-analyze python3 psql; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "run.sh: no binary at $binary" >&2; exit 1; }

work=$(mktemp -d /tmp/hitl-systemd.XXXXXX)
# PostgreSQL runs as its own user: it must reach its directory inside.
chmod 711 "$work"
pgdir="$work/pg"
cleanup() { pg_stop "$pgdir"; rm -rf "$work"; }
trap cleanup EXIT

# -- 1. systemd-analyze verify ----------------------------------------------
units="$work/units"
mkdir -p "$units"
for u in "$repo"/deploy/systemd/*.service; do
  sed "s#/usr/local/bin/hitl #$binary #" "$u" >"$units/$(basename "$u")"
done
if (cd "$units" && timeout 120 systemd-analyze verify ./*.service) \
    >"$out/verify.log" 2>&1; then
  pass "systemd-analyze verify deploy/systemd/*.service"
else
  fail "systemd-analyze verify deploy/systemd/*.service"; cat "$out/verify.log"
fi
# The same units with a binary that is not there: verify must refuse them,
# or the check above proves nothing.
broken="$work/broken"
mkdir -p "$broken"
for u in "$units"/*.service; do
  sed "s#$binary #$work/no-such-hitl #" "$u" >"$broken/$(basename "$u")"
done
if (cd "$broken" && timeout 120 systemd-analyze verify ./*.service) \
    >"$out/verify-broken.log" 2>&1; then
  fail "systemd-analyze verify refuses a unit whose binary is missing"
else
  pass "systemd-analyze verify refuses a unit whose binary is missing"
fi

# -- 2. systemd-analyze security ----------------------------------------------
# The bands of systemd 252 (src/analyze/analyze-security.c), in tenths:
# PERFECT 0, SAFE < 1.0, OK < 5.0, then MEDIUM, EXPOSED, UNSAFE, DANGEROUS.
for u in "$units"/*.service; do
  name=$(basename "$u")
  (cd "$units" && timeout 120 systemd-analyze security --offline=true \
      --no-pager "./$name") >"$out/security-$name.log" 2>&1
  line=$(grep -a 'Overall exposure level' "$out/security-$name.log")
  score=$(sed -nE 's/.*: ([0-9]+\.[0-9]) ([A-Z]+).*/\1/p' <<<"$line")
  band=$(sed -nE 's/.*: ([0-9]+\.[0-9]) ([A-Z]+).*/\2/p' <<<"$line")
  echo "systemd-analyze security $name: $score $band"
  if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.9) }' \
      && [[ "$band" =~ ^(PERFECT|SAFE|OK)$ ]]; then
    pass "$name exposure $score $band (at most OK)"
  else
    fail "$name exposure '${score:-?}' '${band:-?}' (want at most 4.9 OK)"
    cat "$out/security-$name.log"
  fi
done

# -- 3. sd_notify from the real serve -------------------------------------------
port=$(free_port)
if pg_init "$pgdir" && pg_start "$pgdir" "$port" && pg_create_db "$port" hitl; then
  start_cmd="source '$repo/deploy/lib.sh' && pg_start '$pgdir' $port"
  stop_cmd="source '$repo/deploy/lib.sh' && pg_stop '$pgdir'"
  timeout 900 python3 -B "$here/notify_test.py" --binary "$binary" \
    --database-url "host=127.0.0.1 port=$port dbname=hitl user=postgres" \
    --pg-start "bash -c \"$start_cmd\"" --pg-stop "bash -c \"$stop_cmd\"" \
    --out "$out" 2>&1 | tee "$out/notify-test.log"
  p=$(sed -nE 's/^notify: ([0-9]+) passed, ([0-9]+) failed$/\1/p' "$out/notify-test.log")
  f=$(sed -nE 's/^notify: ([0-9]+) passed, ([0-9]+) failed$/\2/p' "$out/notify-test.log")
  if [ -z "$p" ]; then
    fail "notify_test.py ended without its counts"
  else
    passed=$((passed + p)); failed=$((failed + f))
  fi
else
  fail "a PostgreSQL for the notify test"
fi

echo "systemd: $passed passed, $failed failed"
[ "$failed" = 0 ]
