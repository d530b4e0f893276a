#!/usr/bin/env bash
# test/run.sh — `make test`: the whole suite on a throwaway cluster.
#
#   1. Debian packages (installed when missing), build with zero warnings, install
#   2. unit tests of the numeric kernel (no server)
#   3. a throwaway cluster (pg_cron preloaded): pg_regress (sql/, expected/),
#      isolation tests (specs/, expected/), pgTAP (test/pgtap/*.sql),
#      multi-session tests (test/sessions/*.sh), the README doc test (test/doc/readme.sh:
#      every SQL block of README.md on a fresh demo shop) and `make demo-stop`
#   4. the harness's own cleanup check (test/harness_selftest.sh)
# and ends with one line "test: N passed, M failed". Exit status 1 on any failure.
#
# For the cleanup self-test: RECO_TEST_QUICK=1 runs only the cluster part,
# RECO_TEST_INJECT_FAILURE=1 adds a failing test, RECO_TEST_INJECT_SLEEP=N waits
# N seconds with the cluster up (so that the run can be interrupted).
set -uo pipefail
. "$(dirname "$0")/lib/cluster.sh"
cd "$RECO_ROOT"

passed=0
failed=0
details=()

# Records one suite's counts.
record() { # name passed failed
    passed=$((passed + $2)); failed=$((failed + $3))
    details+=("$1 $2/$(($2 + $3))")
}

# Kernel unit tests: a standalone C program printing TAP.
run_unit() {
    reco_say "unit tests of the kernel"
    local ok bad status=0
    make -s -j"$(nproc)" unit >unit.log 2>&1 || status=$?
    ok=$(grep -c '^ok ' unit.log); bad=$(grep -c '^not ok ' unit.log)
    grep -q '^1\.\.' unit.log || bad=$((bad + 1))
    # a program that crashed, stopped at a sanitizer's report or ran short of its plan
    [ "$status" -ne 0 ] && bad=$((bad + 1))
    [ "$bad" -gt 0 ] && cat unit.log
    record unit "$ok" "$bad"
    rm -f unit.log
}

# pg_regress (one test per file of sql/, exact expected output), then the isolation
# tests (specs/*.spec: interleavings of sessions): both are `make installcheck`.
run_regress() {
    reco_say "pg_regress and isolation tests"
    rm -rf results regression.diffs regression.out output_iso
    make -s installcheck >regress.log 2>&1
    local all iso_all ok iso_ok
    all=$(ls sql/*.sql | wc -l)
    iso_all=$(ls specs/*.spec 2>/dev/null | wc -l)
    # a test counts as passed on its "... ok" line (one not run, e.g. after a failed
    # suite, counts as failed); the isolation suite's lines follow its "+++ isolation" line
    ok=$(sed '/^+++ isolation/,$d' regress.log | grep -cE '\.\.\. ok( |$)')
    iso_ok=$(sed -n '/^+++ isolation/,$p' regress.log | grep -cE '\.\.\. ok( |$)')
    if [ "$ok" -lt "$all" ] || [ "$iso_ok" -lt "$iso_all" ]; then
        cat regress.log
        [ -f regression.diffs ] && head -300 regression.diffs
        [ -f output_iso/regression.diffs ] && head -300 output_iso/regression.diffs
    fi
    record regress "$ok" $((all - ok))
    record isolation "$iso_ok" $((iso_all - iso_ok))
    rm -f regress.log
}

# pgTAP: invariants, API surface, SQLSTATEs.
run_pgtap() {
    reco_say "pgTAP"
    psql -X -q -c 'CREATE DATABASE reco_tap' >/dev/null
    psql -X -q -d reco_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION reco' >/dev/null
    pg_prove -d reco_tap test/pgtap/*.sql >pgtap.log 2>&1
    local total bad
    total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\).*/\1/p' pgtap.log)
    total=${total:-0}
    bad=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' pgtap.log | awk '{s+=$1} END {print s+0}')
    if ! grep -q '^Result: PASS' pgtap.log; then
        cat pgtap.log
        [ "$bad" -gt 0 ] || bad=1
    fi
    record pgtap $((total - bad)) "$bad"
    rm -f pgtap.log
}

# Multi-session and shell-driven tests: each script exits 0 on success.
run_sessions() {
    reco_say "multi-session tests"
    local ok=0 bad=0 script
    for script in test/sessions/*.sh; do
        [ -e "$script" ] || continue
        if bash "$script" >session.log 2>&1; then
            ok=$((ok + 1)); echo "ok - $script"
        else
            bad=$((bad + 1)); echo "not ok - $script"; cat session.log
        fi
    done
    rm -f session.log
    record sessions "$ok" "$bad"
}

# The README runs as written: every ```sql block against a fresh demo shop (one test per
# block, plus the privilege recipes), then `make demo` kept and `make demo-stop`.
run_doc() {
    reco_say "README doc test and demo-stop"
    bash test/doc/readme.sh >doc.log 2>&1
    bash test/doc/demo_stop.sh >>doc.log 2>&1
    local ok bad
    ok=$(grep -E '^ok ' doc.log | grep -vc '# SKIP')
    bad=$(grep -c '^not ok ' doc.log)
    grep -q '^readme: ' doc.log || bad=$((bad + 1))
    grep -q '^demo-stop: done' doc.log || bad=$((bad + 1))
    if [ "$bad" -gt 0 ]; then cat doc.log; else grep -E '^(skipped|readme):' doc.log; fi
    record doc "$ok" "$bad"
    rm -f doc.log
}

# The harness must leave nothing behind, also when a test fails or is interrupted.
run_selftest() {
    reco_say "harness cleanup self-test"
    if bash test/harness_selftest.sh >selftest.log 2>&1; then
        record harness 1 0
    else
        cat selftest.log; record harness 0 1
    fi
    rm -f selftest.log
}

quick=${RECO_TEST_QUICK:-0}
if [ "$quick" != 1 ]; then
    reco_install_packages || exit 1
    reco_build_and_install || exit 1
    run_unit
fi

reco_cleanup_on_exit
reco_cluster_start test || exit 1
echo "cluster: $RECO_PGDIR"
[ -n "${RECO_TEST_INJECT_SLEEP:-}" ] && sleep "$RECO_TEST_INJECT_SLEEP"
if [ "$quick" != 1 ]; then
    run_regress
    run_pgtap
    run_sessions
    run_doc
fi
if [ "${RECO_TEST_INJECT_FAILURE:-0}" = 1 ]; then
    echo "not ok - injected failure"; record injected 0 1
fi
reco_cluster_stop
[ "$quick" != 1 ] && run_selftest

echo "suites: ${details[*]}"
echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
