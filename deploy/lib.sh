# Shared by deploy/run and deploy/test: install what is missing, build, and
# drive a private PostgreSQL. Sourced, not executed.

HITL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HITL_BUILD=${HITL_BUILD:-$HITL_ROOT/build}
PG_BIN=/usr/lib/postgresql/15/bin

HITL_PACKAGES=(
  cmake g++ make pkg-config git
  libcaf-dev librestinio-dev libpqxx-dev prometheus-cpp-dev nlohmann-json3-dev
  doctest-dev libcli11-dev libspdlog-dev libcurl4-openssl-dev libssl-dev
  libfmt-dev libasio-dev libhttp-parser-dev libjemalloc-dev libsystemd-dev
  postgresql-15 curl ca-certificates python3
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing_packages() {
  local missing=() p
  for p in "${HITL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
}

# node and npm build the web UI. Machines of this kind come with them (not
# from Debian, and Debian's nodejs conflicts with that npm), so Debian's are
# installed only where there is no npm at all.
node_packages() {
  command -v npm >/dev/null 2>&1 || echo nodejs npm
}

# A developer's repeated runs reuse ccache's results when it is installed
# (CI machines start without it and build everything).
# The precompiled headers (CMakeLists.txt, HITL_PCH) are cached only with
# this sloppiness.
export CCACHE_SLOPPINESS=pch_defines,time_macros
compiler_launcher() {
  command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
  return 0
}

build_hitl() {
  local type=${1:-Release}
  if [ ! -f "$HITL_BUILD/CMakeCache.txt" ]; then
    log "configuring ($type) in $HITL_BUILD"
    cmake -S "$HITL_ROOT" -B "$HITL_BUILD" -DCMAKE_BUILD_TYPE="$type" \
      $(compiler_launcher) >&2
  fi
  log "building"
  cmake --build "$HITL_BUILD" -j "$(nproc)" >&2
}

# build_sanitized DIR: the binary and the C++ tests with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a build directory of their own. Debug at
# -O1: assertions on and the sanitizers' full checks, at half the run time
# of -O0. No web UI: the browser tests run against the normal build. No
# precompiled header and no unity build: this build proves each file
# includes what it uses.
build_sanitized() {
  local dir=$1
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    log "configuring (Debug -O1, ASan + UBSan) in $dir"
    cmake -S "$HITL_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DHITL_SANITIZE=address,undefined \
      -DHITL_BUILD_WEB=OFF -DHITL_PCH=OFF -DHITL_UNITY=OFF $(compiler_launcher) >&2
  fi
  log "building with sanitizers"
  cmake --build "$dir" -j "$(nproc)" --target hitl hitl_policy_tests hitl_unit_tests hitl_pg_tests >&2
}

# Runs a PostgreSQL server binary as the postgres user when we are root
# (initdb refuses to run as root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init DIR: a new cluster in DIR/data, trust auth on loopback only.
pg_init() {
  local dir=$1
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
}

# pg_start DIR PORT
pg_start() {
  local dir=$1 port=$2
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; return 1; }
}

# pg_stop DIR
pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  # The shutdown checkpoint writes and syncs every dirty buffer of every
  # database the tests made; under stress-ng --cpu 2 it once took over
  # pg_ctl's default 60 s wait, and the start that followed failed on the
  # running postmaster's lock file.
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 600 stop >/dev/null 2>&1 || true
}

# pg_create_db PORT NAME: creates the database if it does not exist.
pg_create_db() {
  local port=$1 name=$2
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE \"$name\"" postgres
  fi
}

# A free TCP port on 127.0.0.1, from the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# -- the private cluster of deploy/run: two roles with passwords ------------
# (SPEC §11). hitl_owner owns the schema and is used only by `hitl migrate`
# and `hitl token`; hitl_runtime is what `hitl serve` connects as. Both log
# in over TCP with scram-sha-256 and the passwords of DIR/../pgpass; the
# superuser postgres only through the unix socket in DIR (mode 0700), by
# peer authentication.

# pg_secure DIR: pg_hba.conf and pg_ident.conf of the cluster in DIR/data
# (rewritten each time, so an older cluster of trust auth is converted).
pg_secure() {
  local dir=$1 data=$1/data me
  me=$(id -un)
  cat >"$data/pg_hba.conf" <<HBA
# Written by deploy/lib.sh (pg_secure): the service's roles by password
# over TCP; the superuser only through the unix socket in $dir (mode 0700).
local   all    postgres                              peer map=hitl
host    hitl   hitl_owner,hitl_runtime  127.0.0.1/32  scram-sha-256
HBA
  {
    echo "# Who may be postgres on the unix socket (deploy/lib.sh pg_secure)."
    echo "hitl  $me  postgres"
    [ "$me" = postgres ] || echo "hitl  postgres  postgres"
  } >"$data/pg_ident.conf"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$data/pg_hba.conf" "$data/pg_ident.conf"
  fi
  chmod 600 "$data/pg_hba.conf" "$data/pg_ident.conf"
}

# pg_reload DIR: a running cluster rereads pg_hba.conf.
pg_reload() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$1/data" reload >/dev/null
}

# pg_superuser_sql DIR PORT DB [psql args]: psql as postgres over the unix
# socket; the SQL comes on stdin.
pg_superuser_sql() {
  local dir=$1 port=$2 db=$3
  shift 3
  psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"
}

# pg_password_file FILE: the two roles' passwords in pgpass format (mode
# 0600), made once; libpq finds them through PGPASSFILE.
pg_password_file() {
  local file=$1 owner runtime
  [ -f "$file" ] && return 0
  owner=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
  runtime=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
  (
    umask 077
    printf '127.0.0.1:*:hitl:hitl_owner:%s\n127.0.0.1:*:hitl:hitl_runtime:%s\n' \
      "$owner" "$runtime" >"$file"
  )
}

# pg_password FILE ROLE: the role's password from the pgpass FILE.
pg_password() {
  awk -F: -v role="$2" '$4 == role { print $5 }' "$1"
}

# pg_service_roles DIR PORT PGPASS: the roles with their passwords, and the
# database hitl owned by hitl_owner. A database that an earlier deploy/run
# made as postgres is handed over to hitl_owner, objects and all.
pg_service_roles() {
  local dir=$1 port=$2 pgpass=$3
  pg_superuser_sql "$dir" "$port" postgres \
    -v owner_pw="$(pg_password "$pgpass" hitl_owner)" \
    -v runtime_pw="$(pg_password "$pgpass" hitl_runtime)" <<'SQL'
SET password_encryption = 'scram-sha-256';
SELECT 'CREATE ROLE hitl_owner'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hitl_owner') \gexec
SELECT 'CREATE ROLE hitl_runtime'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hitl_runtime') \gexec
ALTER ROLE hitl_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
  PASSWORD :'owner_pw';
ALTER ROLE hitl_runtime LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
  PASSWORD :'runtime_pw';
SELECT 'CREATE DATABASE hitl OWNER hitl_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'hitl') \gexec
ALTER DATABASE hitl OWNER TO hitl_owner;
SQL
  pg_superuser_sql "$dir" "$port" hitl <<'SQL'
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace
             AND c.relowner = 'postgres'::regrole
             AND c.relkind IN ('r', 'p', 'v', 'm') LOOP
    EXECUTE format('ALTER %s %s OWNER TO hitl_owner',
                   CASE r.relkind WHEN 'v' THEN 'VIEW'
                                  WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace
             AND p.proowner = 'postgres'::regrole LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO hitl_owner', r.name);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
           WHERE t.typnamespace = 'public'::regnamespace
             AND t.typowner = 'postgres'::regrole AND t.typtype = 'd' LOOP
    EXECUTE format('ALTER DOMAIN %s OWNER TO hitl_owner', r.name);
  END LOOP;
END
$$;
SQL
}
