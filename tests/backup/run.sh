#!/usr/bin/env bash
# The backup and restore test (backup_restore_test.py, issue 22 §6) on two
# throwaway PostgreSQL clusters of its own: the source, where `hitl serve`
# runs under load while pg_dump is taken, and a new cluster that the roles
# and the dump are restored into. Prints "backup: N passed, M failed".
#
# Needs: build/hitl (or HITL_BINARY), PostgreSQL 15's server and client
# programs, Python 3 (standard library only).
# Optional: --break WHAT (passed to the driver) restores wrongly on
# purpose, to see the checks fail: audit-data, grants, checkpoint-file.
# Output: tests/output/backup/ (service logs, the dump, the checkpoint files).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../deploy/lib.sh"
export HITL_BINARY="${HITL_BINARY:-$HITL_ROOT/build/hitl}"
[[ -x "$HITL_BINARY" ]] || { echo "run.sh: no $HITL_BINARY: build it first" >&2; exit 1; }
for tool in psql pg_dump pg_dumpall pg_restore createdb python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done

out="$HITL_ROOT/tests/output/backup"
rm -rf "$out"; mkdir -p "$out"
source_dir=$(mktemp -d /tmp/hitl-backup-src.XXXXXX)
target_dir=$(mktemp -d /tmp/hitl-backup-dst.XXXXXX)
cleanup() {
  pg_stop "$source_dir"; pg_stop "$target_dir"
  rm -rf "$source_dir" "$target_dir"
}
trap cleanup EXIT

source_port=$(free_port)
target_port=$(free_port)
log "backup test: source PostgreSQL on $source_port, restore target on $target_port"
pg_init "$source_dir" && pg_start "$source_dir" "$source_port" \
  && pg_init "$target_dir" && pg_start "$target_dir" "$target_port" \
  || { echo "backup: 0 passed, 1 failed"; exit 1; }

started=$SECONDS
# A bound on the whole run (about 80 s here): a failing run must not hang
# the suite.
timeout 300 python3 -B "$here/backup_restore_test.py" \
  --source-port "$source_port" --target-port "$target_port" --out "$out" "$@" \
  | tee "$out/driver.log"
rc=${PIPESTATUS[0]}
# A driver killed by the bound, or one that crashed, printed no counts:
# that is one failure, never a silent zero.
if ! grep -qE '^backup: [0-9]+ passed, [0-9]+ failed$' "$out/driver.log"; then
  echo "backup: the driver ended without its counts (exit $rc; 124: past 300 s)"
  echo "backup: 0 passed, 1 failed"
  rc=1
fi
log "backup test: $((SECONDS - started)) s"
exit "$rc"
