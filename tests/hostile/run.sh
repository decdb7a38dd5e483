#!/usr/bin/env bash
# The HTTP-level hostile-input test (issue 17 §6) against the real binary:
# its own database on the PostgreSQL that deploy/test starts, `hitl serve`
# on a free port, then raw-socket abuse; see hostile_test.py for what passes.
#
# Needs: HITL_TEST_DATABASE_URL (an admin conninfo), HITL_TEST_PG_HOST,
# HITL_TEST_PG_PORT; psql; Python 3 (standard library only).
# Optional: HITL_BINARY (default build/hitl). Arguments go to the test:
#   --seed N       repeat a run's random inputs
#   --long SECONDS go on with new seeds for that long
# Output: tests/output/hostile/ (server.N.log per server start, failures.json).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export HITL_BINARY="${HITL_BINARY:-$repo/build/hitl}"

# Debian's interpreter, not whatever a version manager put first on PATH.
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)" \
  || { echo "run.sh: python3 is missing" >&2; exit 1; }
command -v psql >/dev/null || { echo "run.sh: psql is missing" >&2; exit 1; }

# -B: no __pycache__ in the checkout.
exec "$python" -B "$here/hostile_test.py" "$@"
