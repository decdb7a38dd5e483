# check_compose_bootstrap: the part of deploy/compose.yaml that no
# `compose config` can check, run for real: its db-roles script (twice: it
# runs at every `up`) and its migrate command, taken from the file, on a
# PostgreSQL cluster of this check's own (roles are cluster-wide, so not on
# the shared test server), with host=postgres pointed at it. Then the
# database is the owner's and the runtime role reads the schema. The
# cluster trusts loopback, so the passwords are set but not checked here.
# Sourced by checks.sh.

check_compose_bootstrap() {
  local python=/usr/bin/python3 pgdir port script migrate_args
  [ -x "$python" ] || python=python3
  pgdir=$(mktemp -d /tmp/hitl-ct-compose-pg.XXXXXX)
  port=$(free_tcp_port)
  stoppers+=("source '$repo/deploy/lib.sh'; pg_stop '$pgdir'; rm -rf '$pgdir'")
  if ! (source "$repo/deploy/lib.sh" && pg_init "$pgdir" && pg_start "$pgdir" "$port") \
      >"$out/compose-pg.log" 2>&1; then
    cat "$out/compose-pg.log"
    fail "compose bootstrap: could not start a PostgreSQL of its own"
    return
  fi
  # The service's strings as compose hands them over: $$ is a literal $.
  script=$("$python" -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["db-roles"]["command"][0].replace("$$", "$"))' \
    "$repo/deploy/compose.yaml")
  mapfile -t migrate_args < <("$python" -c 'import sys, yaml
for a in yaml.safe_load(open(sys.argv[1]))["services"]["migrate"]["command"]:
    print(a.replace("host=postgres", "host=127.0.0.1 port=" + sys.argv[2]))' \
    "$repo/deploy/compose.yaml" "$port")

  local run
  for run in 1 2; do
    if ! PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres OWNER_PASSWORD=owner-pw \
        RUNTIME_PASSWORD=runtime-pw sh -ec "$script" >>"$out/compose-db-roles.log" 2>&1; then
      cat "$out/compose-db-roles.log"
      fail "compose bootstrap: the db-roles script failed on run $run"
      return
    fi
  done
  if ! timeout 300 "$binary" "${migrate_args[@]}" >"$out/compose-migrate.log" 2>&1; then
    cat "$out/compose-migrate.log"
    fail "compose bootstrap: the migrate service's command failed: ${migrate_args[*]}"
    return
  fi
  local owner decisions
  owner=$(psql "host=127.0.0.1 port=$port dbname=postgres user=postgres" -XAtc \
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'hitl'" 2>&1)
  decisions=$(psql "host=127.0.0.1 port=$port dbname=hitl user=hitl_runtime" -XAtc \
                "SELECT count(*) FROM hitl_decisions" 2>&1)
  if [ "$owner" = hitl_owner ] && [ "$decisions" = 0 ]; then
    pass "compose bootstrap: db-roles twice and '${migrate_args[*]:0:1}' as hitl_owner; hitl_runtime reads hitl_decisions"
  else
    fail "compose bootstrap: database hitl owned by '$owner', hitl_runtime's count of hitl_decisions '$decisions' (want hitl_owner, 0)"
  fi
}
