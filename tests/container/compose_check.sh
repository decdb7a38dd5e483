# check_compose: deploy/compose.yaml, validated without running it (no
# image can be pulled here). In a temp copy of deploy/ with the alert rules
# (deploy/prometheus/hitl-rules.yml):
# - `compose config` with the passwords set passes, and without them fails
#   naming the variable;
# - the structure (compose_structure.py): three nodes on one database with
#   distinct ids, Prometheus scraping each and mounting the rules where
#   rule_files names them;
# - promtool check config on the Prometheus config, rules included.
# Sourced by checks.sh.

compose_validator() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"
  elif podman compose version >/dev/null 2>&1; then echo "podman compose"
  elif command -v docker-compose >/dev/null; then echo docker-compose
  fi
}

check_compose() {
  local copy=$work/compose validator rules="deploy/prometheus/hitl-rules.yml"
  mkdir -p "$copy/prometheus"
  cp "$repo/deploy/compose.yaml" "$repo/deploy/compose-prometheus.yml" "$copy/"
  cp "$repo/$rules" "$copy/prometheus/"

  validator=$(compose_validator)
  if [ -z "$validator" ]; then
    skip "compose: no compose implementation to run 'compose config' (docker compose, podman compose, docker-compose)"
    skip "compose: missing passwords"
  else
    # shellcheck disable=SC2086 # the validator is one or two words
    if (cd "$copy" && POSTGRES_PASSWORD=pg HITL_OWNER_PASSWORD=owner \
          HITL_RUNTIME_PASSWORD=runtime timeout 120 $validator -f compose.yaml config) \
          >"$out/compose-config.yaml" 2>"$out/compose-config.err"; then
      pass "compose: '$validator config' accepts deploy/compose.yaml"
    else
      cat "$out/compose-config.err"
      fail "compose: '$validator config' refuses deploy/compose.yaml"
    fi
    # shellcheck disable=SC2086
    if (cd "$copy" && env -u POSTGRES_PASSWORD -u HITL_OWNER_PASSWORD -u HITL_RUNTIME_PASSWORD \
          timeout 120 $validator -f compose.yaml config) >/dev/null 2>"$out/compose-nopass.err"; then
      fail "compose: '$validator config' accepts deploy/compose.yaml without the passwords"
    elif grep -q 'PASSWORD' "$out/compose-nopass.err"; then
      pass "compose: without the passwords, '$validator config' refuses: $(grep PASSWORD "$out/compose-nopass.err" | head -1)"
    else
      cat "$out/compose-nopass.err"
      fail "compose: without the passwords '$validator config' fails without naming the variable"
    fi
  fi

  local python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  if "$python" -B "$here/compose_structure.py" "$copy/compose.yaml" \
      "$copy/compose-prometheus.yml" >"$out/compose-structure.log" 2>&1; then
    pass "compose: $(tail -1 "$out/compose-structure.log")"
  else
    cat "$out/compose-structure.log"
    fail "compose: structure (tests/output/container/compose-structure.log)"
  fi

  if command -v promtool >/dev/null; then
    # promtool reads the rules where this copy has them, not /etc/prometheus.
    sed "s|/etc/prometheus/hitl-rules.yml|$copy/prometheus/hitl-rules.yml|" \
      "$copy/compose-prometheus.yml" >"$copy/prometheus-local.yml"
    if promtool check config "$copy/prometheus-local.yml" >"$out/promtool.log" 2>&1; then
      pass "compose: promtool check config passes, with $rules"
    else
      cat "$out/promtool.log"
      fail "compose: promtool check config fails (with $rules)"
    fi
  else
    skip "compose: promtool is not installed (Debian package prometheus)"
  fi
}
