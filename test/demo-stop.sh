#!/usr/bin/env bash
# test/demo-stop.sh — `make demo-stop`: stops and removes the clusters that
# `RECO_DEMO_KEEP=1 make demo` left running (listed in .demo-cluster), as the user
# that owns them (postgres when we are root: root may not run pg_ctl).
set -uo pipefail
. "$(dirname "$0")/lib/cluster.sh"
cd "$RECO_ROOT"

list=${RECO_DEMO_STATE:-$RECO_ROOT/.demo-cluster}
if [ ! -s "$list" ]; then
    reco_say "no demo cluster is running (nothing recorded in $list)"
    rm -f "$list"
    exit 0
fi
status=0
while read -r dir; do
    [ -n "$dir" ] || continue
    case "$dir" in
        "$RECO_ROOT"/.pgtest-demo-*|/tmp/reco-pgtest-demo.*) ;;
        *) echo "demo-stop: $dir is not a demo cluster directory, left alone" >&2; status=1; continue ;;
    esac
    if [ -f "$dir/data/postmaster.pid" ]; then
        reco_as_pg "$(reco_pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || { status=1; continue; }
    fi
    rm -rf "$dir"
    reco_say "demo cluster $dir stopped and removed"
done <"$list"
[ "$status" = 0 ] && rm -f "$list"
exit "$status"
