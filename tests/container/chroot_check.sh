# check_chroot DIR: the image's file system without a container runtime.
# In a chroot of DIR (the root fs plus the binary and the UI where the
# Containerfile puts them): every library resolves, and `hitl serve` as the
# image's user (10001) serves the UI and takes a review through HTTP on the
# test PostgreSQL, its config read from /etc/hitl/hitl.json as the image
# mounts it. Sourced by checks.sh.

check_chroot() {
  local dir=$1 libs
  libs=$(chroot "$dir" /usr/bin/ldd /usr/local/bin/hitl 2>&1)
  if grep -q 'not found' <<<"$libs" || ! grep -q '=>' <<<"$libs"; then
    echo "$libs"
    fail "chroot: ldd of /usr/local/bin/hitl in the root fs: $(grep -c 'not found' <<<"$libs") missing"
  else
    pass "chroot: ldd resolves all $(grep -c '=>' <<<"$libs") libraries of hitl in the root fs"
  fi

  local db=hitl_ct_chroot port url pid
  fresh_db "$db"
  port=$(free_tcp_port)
  url=$(db_url "$db")
  write_test_config "$dir/etc/hitl/hitl.json"
  # env -i: only what the image's ENV and a `podman run -e` would give it.
  chroot --userspec=10001:10001 "$dir" /usr/bin/env -i \
    HITL_LISTEN="127.0.0.1:$port" HITL_WEB_ROOT=/usr/local/share/hitl/web \
    HITL_CONFIG=/etc/hitl/hitl.json HITL_DATABASE_URL="$url" \
    HITL_MIGRATE_DATABASE_URL="$url" \
    /usr/local/bin/hitl serve >"$out/chroot-serve.log" 2>&1 &
  pid=$!
  stoppers+=("kill $pid; wait $pid")
  if ! wait_healthy "http://127.0.0.1:$port" 120 "$pid"; then
    tail -20 "$out/chroot-serve.log"
    fail "chroot: hitl serve as uid 10001 did not answer /health with 200 within 120 s"
    return
  fi
  pass "chroot: hitl serve as uid 10001 is healthy on 127.0.0.1:$port"
  check_ui "chroot" "http://127.0.0.1:$port"
  review_flow chroot "http://127.0.0.1:$port" "$url"
  kill "$pid"; wait "$pid" 2>/dev/null
}

# check_ui LABEL BASE_URL: / is the build's web UI, byte for byte.
check_ui() {
  local label=$1 base=$2
  if curl -sS --max-time 30 "$base/" -o "$work/index.html" \
      && cmp -s "$work/index.html" "$web/index.html"; then
    pass "$label: / serves the build's web UI ($(wc -c <"$web/index.html") bytes of index.html)"
  else
    fail "$label: / does not serve the build's web/index.html"
  fi
}
