#!/usr/bin/env bash
# The container test (issue 22 §1, §2): builds the runtime root fs from
# Debian packages, runs the image's hitl in a chroot of it against the test
# PostgreSQL (a create that needs review, an approval, the verdict read
# back), builds the image with podman and runs the same through it,
# validates deploy/compose.yaml and runs its database bootstrap. Prints
# "container: P passed, F failed, S skipped"; a step that cannot run on
# this machine is a skip with its reason, never a pass.
#
# Needs: root (mmdebstrap, chroot, rootful podman), HITL_TEST_DATABASE_URL
# (an admin conninfo on 127.0.0.1), psql, curl, python3; build/hitl and
# build/web (HITL_BUILD_WEB=ON). Optional: HITL_BINARY, HITL_WEB_ROOT,
# HITL_PODMAN_RUNTIME (default: runc when installed, else podman's own).
# Output: tests/output/container/. Time: ~2 min with the root fs cached in
# build/container/, ~4 min when it is built (a ~40 MB download).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${HITL_BINARY:-$repo/build/hitl}
web=${HITL_WEB_ROOT:-$(dirname "$binary")/web}
out=$repo/tests/output/container
rm -rf "$out"; mkdir -p "$out"
source "$here/checks.sh"

for need in psql curl python3 mmdebstrap; do
  command -v "$need" >/dev/null || { echo "run.sh: $need is missing" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (mmdebstrap, chroot, podman)" >&2; exit 1; }
[ -n "${HITL_TEST_DATABASE_URL:-}" ] || { echo "run.sh: HITL_TEST_DATABASE_URL is not set" >&2; exit 1; }
[ -x "$binary" ] || { echo "run.sh: no binary at $binary" >&2; exit 1; }
[ -f "$web/index.html" ] || { echo "run.sh: no web UI at $web (build with -DHITL_BUILD_WEB=ON)" >&2; exit 1; }

work=$(mktemp -d /tmp/hitl-container-test.XXXXXX)
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
# A timeout's TERM (deploy/test bounds this run) still stops what we started.
trap 'exit 143' TERM INT

# -- 1. the root fs -----------------------------------------------------------
started=$SECONDS
rootfs=""
if rootfs=$(timeout 900 "$repo/deploy/container/build-rootfs" "$binary" \
              "$(dirname "$binary")/container" 2>"$out/build-rootfs.log"); then
  pass "root fs $(basename "$rootfs") ($((SECONDS - started)) s, $(du -sh "$rootfs" | cut -f1))"
else
  tail -20 "$out/build-rootfs.log"
  fail "building the root fs (tests/output/container/build-rootfs.log)"
fi

# -- 2. hitl in a chroot of it --------------------------------------------------
if [ -n "$rootfs" ]; then
  # A copy of hard links, then the binary and the UI as the image has them:
  # the cached root fs stays as mmdebstrap made it.
  chroot_dir=$work/chroot
  cp -al "$rootfs" "$chroot_dir"
  install -m 0755 "$binary" "$chroot_dir/usr/local/bin/hitl"
  mkdir -p "$chroot_dir/usr/local/share/hitl"
  cp -r "$web" "$chroot_dir/usr/local/share/hitl/web"
  check_chroot "$chroot_dir"
else
  skip "the chroot checks: there is no root fs"
fi

# -- 3. the image, with podman ------------------------------------------------
check_podman "$rootfs"

# -- 4. deploy/compose.yaml ---------------------------------------------------
check_compose
check_compose_bootstrap

echo "container: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
