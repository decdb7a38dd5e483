# Shared by deploy/run and deploy/test: install what is missing, build, and
# drive a private PostgreSQL. Sourced, not executed.

HITL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HITL_BUILD=${HITL_BUILD:-$HITL_ROOT/build}
PG_BIN=/usr/lib/postgresql/15/bin

HITL_PACKAGES=(
  cmake g++ make pkg-config git
  libcaf-dev librestinio-dev libpqxx-dev prometheus-cpp-dev nlohmann-json3-dev
  doctest-dev libcli11-dev libspdlog-dev libcurl4-openssl-dev libssl-dev
  libfmt-dev libasio-dev libhttp-parser-dev libjemalloc-dev
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

build_hitl() {
  local type=${1:-Release}
  if [ ! -f "$HITL_BUILD/CMakeCache.txt" ]; then
    log "configuring ($type) in $HITL_BUILD"
    cmake -S "$HITL_ROOT" -B "$HITL_BUILD" -DCMAKE_BUILD_TYPE="$type" >&2
  fi
  log "building"
  cmake --build "$HITL_BUILD" -j "$(nproc)" >&2
}

# build_sanitized DIR: the binary and the C++ tests with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a build directory of their own. Debug at
# -O1: assertions on and the sanitizers' full checks, at half the run time
# of -O0. No web UI: the browser tests run against the normal build.
build_sanitized() {
  local dir=$1
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    log "configuring (Debug -O1, ASan + UBSan) in $dir"
    cmake -S "$HITL_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DHITL_SANITIZE=address,undefined \
      -DHITL_BUILD_WEB=OFF >&2
  fi
  log "building with sanitizers"
  cmake --build "$dir" -j "$(nproc)" --target hitl hitl_unit_tests hitl_pg_tests >&2
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
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
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
