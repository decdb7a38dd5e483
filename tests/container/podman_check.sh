# check_podman ROOTFS: builds the image with podman (deploy/container/
# build-image) in a store of the test's own, runs it against the test
# PostgreSQL, and checks what the image promises: user 10001, the UI, the
# HEALTHCHECK, config by env and a mounted file, a review through HTTP.
# A step this machine cannot do is a skip with podman's own message.
# Sourced by checks.sh.
#
# What a run needs here (a sandbox without systemd or CAP_SYS_RESOURCE, on
# hybrid cgroups v1+v2), each found by a failure:
# - runc, not crun: crun answers "cgroups in hybrid mode not supported,
#   drop all controllers from cgroupv2";
# - explicit --ulimit nofile and nproc within the current hard limits:
#   podman's defaults are above them, and without CAP_SYS_RESOURCE crun and
#   runc fail with "setrlimit `RLIMIT_NOFILE`: Operation not permitted";
# - --network host: the test PostgreSQL listens on 127.0.0.1 only;
# - the HEALTHCHECK runs by `podman healthcheck run`, as podman's timer
#   for it needs systemd ("unable to get systemd connection to add
#   healthchecks", logged, not fatal).

check_podman() {
  local rootfs=$1
  if ! command -v podman >/dev/null; then
    skip "image: build: podman is not installed"; skip "image: metadata"
    skip_run "no podman"; return
  fi
  if [ -z "$rootfs" ]; then
    skip "image: build: no root fs to build it on"; skip "image: metadata"
    skip_run "no image"; return
  fi
  local store=$work/podman tag=localhost/hitl:container-test
  podman_cmd=(podman --root "$store/root" --runroot "$store/run"
              --storage-driver overlay --cgroup-manager cgroupfs
              --events-backend file)
  # HITL_PODMAN_RUNTIME names another OCI runtime (crun, for one).
  local runtime=${HITL_PODMAN_RUNTIME:-$(command -v runc)}
  [ -n "$runtime" ] && podman_cmd+=(--runtime "$runtime")
  # Last in, last run: the container, then the store and its mounts.
  stoppers+=("${podman_cmd[*]} rm -f -t 5 hitl-ct")
  # Not `system reset`: with CNI it also deletes networks, which are
  # machine-wide files (/etc/cni/net.d), not the store's.
  stoppers+=("${podman_cmd[*]} rmi -a -f")
  stoppers+=("rm -rf '$store'")

  local started=$SECONDS
  if ! PODMAN="${podman_cmd[*]}" HITL_BUILD=$(dirname "$binary") \
      timeout 900 "$repo/deploy/container/build-image" "$tag" >"$out/build-image.log" 2>&1; then
    tail -20 "$out/build-image.log"
    fail "image: podman build failed (tests/output/container/build-image.log)"
    skip "image: metadata: no image"
    skip_run "no image"
    return
  fi
  local size
  size=$("${podman_cmd[@]}" image inspect --format '{{.Size}}' "$tag")
  pass "image: built $tag in $((SECONDS - started)) s, $((size / 1000000)) MB"
  check_image_config "$tag"
  run_image "$tag"
}

# skip_run REASON: the three checks of a running container, each a skip.
skip_run() {
  local what
  for what in "health and user" "the web UI" "the review over HTTP"; do
    skip "image: $what: $1"
  done
}

# The image's metadata: non-root user, the health check, entrypoint.
check_image_config() {
  local tag=$1 user health entry
  user=$("${podman_cmd[@]}" image inspect --format '{{.Config.User}}' "$tag")
  health=$("${podman_cmd[@]}" image inspect --format '{{if .HealthCheck}}{{.HealthCheck.Test}}{{end}}' "$tag")
  entry=$("${podman_cmd[@]}" image inspect --format '{{.Config.Entrypoint}}' "$tag")
  if [ "$user" = 10001:10001 ] && grep -q '/health"' <<<"$health" \
      && [ "$entry" = "[/usr/local/bin/hitl]" ]; then
    pass "image: user $user, HEALTHCHECK on /health, entrypoint $entry"
  else
    fail "image: user='$user' healthcheck='$health' entrypoint='$entry'"
  fi
}

run_image() {
  local tag=$1 db=hitl_ct_image port url cfg
  local run_limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
  fresh_db "$db"
  port=$(free_tcp_port)
  url=$(db_url "$db")
  cfg=$work/hitl.json
  write_test_config "$cfg"
  chmod 644 "$cfg"
  # Can this machine run a container at all? /bin/true in the image tells
  # the machine's limits (a skip) from the image's faults (failures below).
  if ! "${podman_cmd[@]}" run --rm --network host "${run_limits[@]}" \
      --entrypoint /bin/true "$tag" >"$out/podman-probe.log" 2>&1; then
    cat "$out/podman-probe.log"
    local why
    why=$(grep -v 'systemd connection' "$out/podman-probe.log" | tail -1)
    # The four checks of a running container, each a skip.
    skip_run "this machine cannot run a container: $why"
    return
  fi
  if ! "${podman_cmd[@]}" run -d --name hitl-ct --network host "${run_limits[@]}" \
        -e HITL_LISTEN="127.0.0.1:$port" -e HITL_DATABASE_URL="$url" \
        -e HITL_MIGRATE_DATABASE_URL="$url" -e HITL_CONFIG=/etc/hitl/hitl.json \
        -v "$cfg:/etc/hitl/hitl.json:ro" "$tag" >"$out/podman-run.log" 2>&1; then
    cat "$out/podman-run.log"
    fail "image: podman run of hitl serve failed: $(grep -v 'systemd connection' "$out/podman-run.log" | tail -1)"
    return
  fi
  if ! wait_healthy "http://127.0.0.1:$port" 120; then
    "${podman_cmd[@]}" logs hitl-ct 2>&1 | tail -20
    fail "image: the container did not answer /health with 200 within 120 s"
    return
  fi
  local uid
  uid=$("${podman_cmd[@]}" exec hitl-ct id -u 2>/dev/null)
  if [ "$uid" = 10001 ] && "${podman_cmd[@]}" healthcheck run hitl-ct >"$out/healthcheck.log" 2>&1; then
    pass "image: container runs as uid $uid; its HEALTHCHECK passes (podman healthcheck run)"
  else
    cat "$out/healthcheck.log"
    fail "image: uid '$uid' in the container, or its HEALTHCHECK failed"
  fi
  check_ui "image" "http://127.0.0.1:$port"
  review_flow image "http://127.0.0.1:$port" "$url"
  "${podman_cmd[@]}" logs hitl-ct >"$out/image-serve.log" 2>&1
  "${podman_cmd[@]}" rm -f -t 10 hitl-ct >/dev/null 2>&1
}
