#!/usr/bin/env bash
# Lints http/openapi.json with Redocly CLI (the version pinned in
# package-lock.json) and the rules of redocly.yaml. Extra arguments go to
# `redocly lint`, e.g. `--format=summary`. Exits non-zero on any error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# npm ci rewrites node_modules/.package-lock.json, so that file is older than
# the lockfile exactly when the lockfile changed since the last install.
if [[ ! -d node_modules/@redocly/cli ]] \
   || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# No usage telemetry and no update check from a test run.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# --no: never download a redocly that npm ci did not install.
exec npx --no redocly lint ../../http/openapi.json --config redocly.yaml "$@"
