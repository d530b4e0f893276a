#!/usr/bin/env bash
# test/harness_selftest.sh — proves the harness cleans up: after a failing run
# and after an interrupted run, no server is left running and no cluster
# directory remains.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

# Checks that the cluster named in a harness log is gone (no process, no dir).
check_gone() { # log label
    local dir
    dir=$(sed -n 's/^cluster: //p' "$1" | head -1)
    if [ -z "$dir" ]; then echo "FAIL $2: the harness never started a cluster"; cat "$1"; status=1; return; fi
    if pgrep -f -- "-D $dir/data" >/dev/null || pgrep -f -- "$dir/data" >/dev/null; then
        echo "FAIL $2: a server of $dir is still running"; status=1
    fi
    if [ -e "$dir" ]; then echo "FAIL $2: $dir still exists"; status=1; fi
    echo "ok $2: $dir removed, no server left"
}

log=$(mktemp)
# 1. A failing test: the run must fail and still clean up.
if RECO_TEST_QUICK=1 RECO_TEST_INJECT_FAILURE=1 bash test/run.sh >"$log" 2>&1; then
    echo "FAIL failing run: exit status 0"; status=1
fi
grep -q 'test: 0 passed, 1 failed' "$log" || { echo "FAIL failing run: no summary line"; status=1; }
check_gone "$log" "failing run"

# 2. An interrupted run (SIGINT, as Ctrl-C sends, and SIGTERM).  Job control
# puts the run in its own process group and, unlike a plain `&`, does not
# start it with SIGINT ignored.
set -m
for sig in INT TERM; do
    RECO_TEST_QUICK=1 RECO_TEST_INJECT_SLEEP=60 bash test/run.sh >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do grep -q '^cluster: ' "$log" && break; sleep 0.2; done  # up to 2 min on a loaded machine
    sleep 0.5
    kill -s "$sig" -- -"$pid"
    wait "$pid" && { echo "FAIL interrupted run ($sig): exit status 0"; status=1; }
    check_gone "$log" "run interrupted by SIG$sig"
done
set +m
rm -f "$log"
exit $status
