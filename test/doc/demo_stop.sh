#!/usr/bin/env bash
# test/doc/demo_stop.sh — `RECO_DEMO_KEEP=1 make demo` leaves a cluster that serves the demo
# shop and prints the stop command; `make demo-stop` stops it and removes its directory.
# Uses the installed extension (RECO_DEMO_NO_BUILD=1) and its own record file, so a demo the
# developer keeps in this checkout is left alone. Prints "demo-stop: done" on success.
set -uo pipefail
RECO_ROOT=${RECO_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$RECO_ROOT"
export RECO_DEMO_STATE
RECO_DEMO_STATE=$(mktemp /tmp/reco-demo-state.XXXXXX)
log=$(mktemp /tmp/reco-demo-log.XXXXXX)
trap 'make -s demo-stop >/dev/null 2>&1; rm -f "$RECO_DEMO_STATE" "$log"' EXIT
fail() { echo "not ok - $*"; cat "$log"; exit 1; }

env -u PGHOST -u PGPORT -u PGDATABASE RECO_DEMO_KEEP=1 RECO_DEMO_NO_BUILD=1 make -s demo >"$log" 2>&1 \
    || fail "RECO_DEMO_KEEP=1 make demo failed"
dir=$(head -1 "$RECO_DEMO_STATE")
[ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ] || fail "make demo recorded no running cluster"
grep -q '^==> stop and remove it: make demo-stop' "$log" || fail "make demo printed no stop command"
echo "ok - RECO_DEMO_KEEP=1 make demo keeps $dir and prints how to stop it"

# connect as the printed line says
connect=$(sed -n 's/^==> cluster left running: \(PGHOST=[^ ]*\) \(PGPORT=[0-9]*\) psql .*/\1 \2/p' "$log")
[ -n "$connect" ] || fail "make demo printed no psql settings"
got=$(env $connect psql -X -tA -U postgres -d shop -c "SELECT count(*) FROM reco.recommend('shop', 15, 5)" 2>&1)
[ "$got" = 5 ] || fail "the kept demo does not serve: $got"
echo "ok - the kept demo serves through the printed psql settings"

pid=$(head -1 "$dir/data/postmaster.pid")
make -s demo-stop >>"$log" 2>&1 || fail "make demo-stop failed"
[ ! -e "$dir" ] || fail "make demo-stop left $dir"
# gone, or a zombie not reaped yet; pg_ctl returns once the pid file is removed, which the
# postmaster does just before it exits, so allow it a few seconds to finish exiting
for _ in $(seq 50); do
    case $(ps -o stat= -p "$pid" 2>/dev/null) in ''|Z*) pid=; break ;; esac
    sleep 0.1
done
[ -z "$pid" ] || fail "make demo-stop left the postmaster $pid running"
[ ! -s "$RECO_DEMO_STATE" ] || fail "make demo-stop left its record"
env $connect psql -X -tA -U postgres -d shop -c 'SELECT 1' >/dev/null 2>&1 && fail "the demo still answers"
echo "ok - make demo-stop stops the postmaster and removes the cluster"
echo "demo-stop: done"
