#!/usr/bin/env bash
# test/valgrind/run.sh — `make check-valgrind`: the pg_regress suite (sql/, expected/,
# through `make installcheck`) against a throwaway cluster whose server runs under
# valgrind memcheck; fails (exit 1) if a test fails or if memcheck reports an error
# attributed to reco.
#
#   1. a throwaway cluster (test/lib/cluster.sh), stopped again, then its postmaster
#      started under valgrind (every backend and parallel worker is a fork of it, so
#      each runs under memcheck and writes its own log, vg.<pid>.log), without pg_cron
#      and autovacuum (the suite needs neither) and with one OpenBLAS thread;
#   2. `make installcheck` against it (the tests have no timing in them; valgrind
#      slows everything 20-50 times: about 90 s for the suite on 2 vCPUs);
#   3. a clean shutdown (each process prints its errors as it exits), then every error
#      is classified: "reco" when a frame of its stack is in reco (reco.so or one of
#      src/*.c), "origin-reco" when only the stack that allocated the memory it is
#      about is, "other" otherwise (PostgreSQL, OpenBLAS, libc).  Only "reco" fails
#      the run.  Known PostgreSQL noise is suppressed by test/valgrind/postgres.supp.
#      (--error-exitcode is not used: a backend exiting with it would look like a
#      crash to the postmaster, which would then end every session.)
#
# What memcheck can and cannot see here: Debian's PostgreSQL is built without
# USE_VALGRIND, so palloc'd chunks are not tracked one by one — memcheck sees only the
# malloc'd blocks of memory contexts.  An overrun of a small palloc'd chunk that stays
# inside its block, or a use of a pfree'd chunk, goes unnoticed.  It does see: reads of
# memory never written (malloc'd blocks start undefined), overruns of chunks above 8 kB
# (each has a malloc'd block of its own: factor matrices, score arrays), every access
# to reco's own malloc'd thread scratch and to OpenBLAS's buffers, bad frees, and
# undefined bytes passed to system calls.
#
#   bash test/valgrind/run.sh         (or: make check-valgrind)
#
# Environment:
#   VALGRIND_OUT    directory for the valgrind logs and the report (default: a new
#                   /tmp/reco-valgrind.XXXXXX)
#   VALGRIND_EXTRA  more valgrind options (e.g. --track-origins=no for speed)
#   REGRESS         the tests to run (default: all, as the Makefile lists them)
#   VALGRIND_PRELOAD shared_preload_libraries of the server (default none; 'reco': the shared
#                   serving cache and training progress on; expected outputs that show this
#                   backend's cache then differ, only the memcheck errors count)
# Installs the Debian packages it needs when missing (test/lib/cluster.sh: the packages of
# `make test` and valgrind); uses the installed reco as it is, and builds and installs it only
# when PostgreSQL has no reco at all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/cluster.sh"
cd "$RECO_ROOT"

out=${VALGRIND_OUT:-$(mktemp -d /tmp/reco-valgrind.XXXXXX)}
mkdir -p "$out"

# Waits until the server under valgrind accepts connections (its start takes a while).
wait_for_server() {
    for _ in $(seq 1 300); do
        psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "the server under valgrind did not start; see $RECO_PGDIR/server.log" >&2
    return 1
}

# Starts the cluster's postmaster under valgrind memcheck, logging to $RECO_PGDIR/valgrind.
start_under_valgrind() {
    local bindir
    bindir=$(reco_pg_bindir)
    reco_as_pg "$bindir/pg_ctl" -D "$RECO_PGDIR/data" -w -m fast stop >/dev/null
    reco_as_pg mkdir -p "$RECO_PGDIR/valgrind"
    # --vex-guest-max-insns=25 (half the default superblock): valgrind 3.19 aborted a backend
    # with "Assertion 'tres.status == VexTransOK' failed" while translating the unrolled AVX2
    # k 64 dot kernel inside features_train's windowed CG pass (the full suite, preloaded; on
    # 8d70a5a too); smaller superblocks translate (the suite ran through, about 35 % slower).
    # shellcheck disable=SC2086
    reco_as_pg env OPENBLAS_NUM_THREADS=1 valgrind --quiet --tool=memcheck --trace-children=yes \
        --vex-guest-max-insns=25 \
        --leak-check=no --track-origins=yes --num-callers=40 --error-limit=no --fullpath-after= \
        --gen-suppressions=all --suppressions="$here/postgres.supp" \
        --log-file="$RECO_PGDIR/valgrind/vg.%p.log" ${VALGRIND_EXTRA:-} \
        "$bindir/postgres" -D "$RECO_PGDIR/data" -c shared_preload_libraries="${VALGRIND_PRELOAD:-}" -c autovacuum=off \
        >>"$RECO_PGDIR/server.log" 2>&1 &
    wait_for_server
}

# Stops the server cleanly and waits until every process under valgrind has written its log.
stop_server() {
    reco_as_pg "$(reco_pg_bindir)/pg_ctl" -D "$RECO_PGDIR/data" -w -t 600 -m fast stop >/dev/null
}

# A frame in reco: its library, or one of its source files (valgrind --fullpath-after=).
reco_frame_pattern="reco[.]so|/src/($(cd "$RECO_ROOT/src" && printf '%s\n' ./*.c | sed 's|^[.]/||; s/[.]c$//' | paste -sd '|'))[.]c:"

# Prints each memcheck error of the logs given as one line: "<class> <pid> <error> ::
# <first frames of its stack>", class "reco" when its stack has a frame in reco,
# "origin-reco" when only the stack that allocated the memory it is about has one, else
# "other".
classify_errors() {
    awk -v reco="$reco_frame_pattern" '
        function flush() {
            if (what != "")
                print (stack ~ reco ? "reco" : (origin ~ reco ? "origin-reco" : "other")), pid, what, "::", top
            what = ""; stack = ""; origin = ""; top = ""; in_origin = 0; depth = 0
        }
        # the error: "==pid== Invalid read of size 4", "==pid== Conditional jump ..."
        /^==[0-9]+== [^ ]/ {
            flush()
            pid = $1; gsub(/=/, "", pid)
            what = substr($0, index($0, " ") + 1)
            next
        }
        what == "" { next }
        # a frame of its stack, or of the stack that allocated the memory it is about
        /^==[0-9]+== +(at|by) 0x/ {
            frame = $0; sub(/^==[0-9]+== +(at|by) 0x[0-9A-Fa-f]+: /, "", frame)
            if (in_origin)
                origin = origin " " frame
            else {
                stack = stack " " frame
                if (depth++ < 6) top = top (top == "" ? "" : " < ") frame
            }
            next
        }
        # "Address ... is inside a block", "Uninitialised value was created by": the origin follows
        /^==[0-9]+==  +[^ ]/ { in_origin = 1; next }
        /^==[0-9]+== *$/ { flush() }
        END { flush() }
    ' "$@"
}

# Summarizes the errors: counts, and each distinct error with its stack; fails on reco's.
report() {
    local errors="$out/errors.txt" class count
    classify_errors "$out"/vg.*.log >"$errors" 2>/dev/null || true
    {
        echo "valgrind report: $(find "$out" -name 'vg.*.log' | wc -l) processes, logs in $out"
        echo "regression suite: $regress_result, ${elapsed}s under valgrind"
        echo "errors attributed to reco (a frame of the error's stack in reco): $(grep -c '^reco ' "$errors" || true)"
        echo "other errors whose memory was allocated under reco: $(grep -c '^origin-reco ' "$errors" || true)"
        echo "  (without USE_VALGRIND the origin is the malloc of a whole memory-context block,"
        echo "   so reco may only have been the caller that made the context grow)"
        echo "other errors (PostgreSQL, OpenBLAS, libc): $(grep -c '^other ' "$errors" || true)"
        for class in reco origin-reco other; do
            count=$(grep -c "^$class " "$errors" || true)
            [ "$count" -gt 0 ] || continue
            echo
            echo "$class errors (count, error :: innermost frames):"
            sed -n "s/^$class [0-9]* //p" "$errors" | sort | uniq -c | sort -rn | head -30
        done
    } | tee "$out/report.txt"
    ! grep -q '^reco ' "$errors"
}

reco_install_packages $RECO_VALGRIND_PACKAGES || exit 1
reco_ensure_installed || exit 1
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
reco_cleanup_on_exit
reco_cluster_start valgrind
reco_say "restarting the server under valgrind memcheck"
start_under_valgrind
reco_say "pg_regress under valgrind (${REGRESS:-every test})"
rm -rf results regression.diffs regression.out
started=$(date +%s)
regress_result=passed
if ! make -s installcheck ${REGRESS:+REGRESS="$REGRESS"} >"$out/regress.log" 2>&1; then
    regress_result=FAILED
    cat "$out/regress.log"
    [ -f regression.diffs ] && head -200 regression.diffs
fi
elapsed=$(($(date +%s) - started))
reco_say "stopping the server (valgrind writes each process's errors as it exits)"
stop_server
cp "$RECO_PGDIR"/valgrind/vg.*.log "$RECO_PGDIR/server.log" "$out/" 2>/dev/null || true
report_ok=0
report || report_ok=1
[ "$regress_result" = passed ] && [ "$report_ok" -eq 0 ]
