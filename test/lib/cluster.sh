# test/lib/cluster.sh — shared by test/run.sh, test/demo.sh and .ci/run:
# Debian packages, build + install, and a throwaway PostgreSQL cluster that is
# always stopped and removed on exit (also on failure or Ctrl-C).
#
# Works as root (PostgreSQL runs as the postgres user) and as an ordinary user
# (PostgreSQL runs as that user; installing uses sudo).

RECO_ROOT=${RECO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RECO_PACKAGES="postgresql-15 postgresql-server-dev-15 libopenblas-dev postgresql-15-pgtap
libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron gnuplot-nox pkg-config build-essential"

# Prints a progress line.
reco_say() { printf '==> %s\n' "$*"; }

# Runs a command as root: directly when root, else through sudo.
reco_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command as the owner of the cluster (postgres when we are root).
reco_as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Extra Debian packages of the commands that need more than `make test`.
RECO_FUZZ_PACKAGES="sqlsmith"
RECO_VALGRIND_PACKAGES="valgrind"
RECO_BENCH_PACKAGES="python3 python3-numpy"   # /usr/bin/python3 runs ../shared/bench/gen_synth.py

# Installs the Debian packages that are missing (apt-get as root, or via sudo):
# RECO_PACKAGES and the extra packages given as arguments.
reco_install_packages() {
    local missing=() pkg
    for pkg in $RECO_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    reco_say "installing Debian packages: ${missing[*]}"
    reco_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    reco_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The directory of the PostgreSQL 15 server programs.
reco_pg_bindir() {
    local bindir
    bindir=$(pg_config --bindir 2>/dev/null)
    [ -x "$bindir/initdb" ] || bindir=/usr/lib/postgresql/15/bin
    echo "$bindir"
}

# Builds with zero compiler warnings (a warning fails) and installs the extension.
reco_build_and_install() {
    local log="$RECO_ROOT/build.log"
    reco_say "building reco"
    # clean first: `make clean` removes build.log, so it must not run while the log is open
    (cd "$RECO_ROOT" && make clean >/dev/null) || return 1
    (cd "$RECO_ROOT" && make 2>&1) >"$log" || { cat "$log"; echo "build failed" >&2; return 1; }
    if grep -E '(warning|error):' "$log" >/dev/null; then
        grep -E -B2 -A4 '(warning|error):' "$log" >&2
        echo "build produced compiler warnings" >&2
        return 1
    fi
    reco_say "installing reco"
    (cd "$RECO_ROOT" && reco_as_root make install >/dev/null)
}

# Builds and installs reco unless the PostgreSQL that pg_config names already has it
# (`make fuzz`, `make check-valgrind` and `make bench` use the installed extension as it is).
reco_ensure_installed() {
    [ -f "$(pg_config --sharedir 2>/dev/null)/extension/reco.control" ] && return 0
    reco_say "reco is not installed: building and installing it"
    reco_build_and_install
}

# Starts a throwaway cluster; sets PGHOST, PGPORT, PGUSER, RECO_PGDIR. $1 = name tag.
reco_cluster_start() {
    local tag=${1:-test} bindir base port
    bindir=$(reco_pg_bindir)
    base="$RECO_ROOT/.pgtest-$tag-$$"
    mkdir -p "$base"
    [ "$(id -u)" = 0 ] && chown postgres: "$base"
    # The postgres user must reach the directory; fall back to /tmp if a parent is closed.
    if ! reco_as_pg test -w "$base"; then
        rmdir "$base"
        base=$(mktemp -d "/tmp/reco-pgtest-$tag.XXXXXX")
        [ "$(id -u)" = 0 ] && chown postgres: "$base"
    fi
    RECO_PGDIR=$base
    port=$(( 20000 + ($$ % 20000) ))
    reco_as_pg "$bindir/initdb" -D "$base/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
        || { cat "$base/initdb.log" >&2; return 1; }
    cat >>"$base/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$base'
port = $port
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_wal_size = 4GB
log_min_messages = warning
EOF
    reco_as_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 start >/dev/null \
        || { cat "$base/server.log" >&2; return 1; }
    export PGHOST=$base PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    reco_say "throwaway cluster on socket $base port $port"
}

# Stops the throwaway cluster (immediately) and removes its directory.
reco_cluster_stop() {
    [ -n "${RECO_PGDIR:-}" ] || return 0
    local bindir
    bindir=$(reco_pg_bindir)
    if [ -f "$RECO_PGDIR/data/postmaster.pid" ]; then
        reco_as_pg "$bindir/pg_ctl" -D "$RECO_PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$RECO_PGDIR"
    RECO_PGDIR=
}

# Prints the shell command that stops the cluster in directory $1 and removes it.
reco_stop_command() {
    local stop="$(reco_pg_bindir)/pg_ctl -D $1/data -m fast -w stop"
    [ "$(id -u)" = 0 ] && stop="runuser -u postgres -- $stop"
    echo "$stop && rm -rf $1"
}

# Arranges for the cluster to be stopped on any exit, including Ctrl-C and kill.
reco_cleanup_on_exit() {
    trap 'reco_cluster_stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
