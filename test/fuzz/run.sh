#!/usr/bin/env bash
# test/fuzz/run.sh — `make fuzz`: random SQL against reco on a throwaway cluster, for a
# bounded time; reports what was tried and fails (exit 1) if the server crashed.
#
#   1. a throwaway cluster (test/lib/cluster.sh) with reco in shared_preload_libraries
#      (the shared cache and the progress slots on), logging every error with its SQLSTATE
#      and application name; a database with trained and hand-made models
#      (test/fuzz/fixtures.sql) and a role with a training role's rights;
#   2. sqlsmith (Debian package sqlsmith) as that role for half the time: it calls
#      functions that return one value, so fixtures.sql wraps reco's set-returning
#      functions in schema fuzz; its generated queries are counted, not kept;
#   3. reco's own random-call generator (test/fuzz/generate.sql) for the other half:
#      every reco function with edge-value arguments, settings, cancellations, forced
#      parallel plans and models rewritten in rolled-back transactions, in batches;
#   4. crash detection in the server log (a backend terminated by a signal or exiting
#      abnormally, PANIC, the postmaster reinitializing): each crash is reported with
#      the statement that was running; after a crash the run waits for the server
#      and goes on.
# The report: queries tried, how many called reco, errors by SQLSTATE, internal
# errors (XX000) by message, crashes.  Logs stay in FUZZ_OUT.
#
#   bash test/fuzz/run.sh            (or: make fuzz)
#
# Environment:
#   FUZZ_SECONDS   total time budget (default 180), split evenly between the two fuzzers
#   FUZZ_SEED      seed of sqlsmith and of the generator (default: the current time)
#   FUZZ_BATCH     generated cases per psql run (default 300)
#   FUZZ_OUT       directory for logs and the report (default: a new /tmp/reco-fuzz.XXXXXX)
# Installs the Debian packages it needs when missing (test/lib/cluster.sh: the packages of
# `make test` and sqlsmith); uses the installed reco as it is, and builds and installs it only
# when PostgreSQL has no reco at all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/cluster.sh"

fuzz_seconds=${FUZZ_SECONDS:-180}
fuzz_seed=${FUZZ_SEED:-$(date +%s)}
fuzz_batch=${FUZZ_BATCH:-300}
out=${FUZZ_OUT:-$(mktemp -d /tmp/reco-fuzz.XXXXXX)}
db=reco_fuzz
role=reco_fuzzer
mkdir -p "$out"

# A server log line that means a backend crashed or the server went down (exit code 1
# is a normal exit of a background worker, e.g. a parallel worker that raised an error).
crash_pattern='terminated by signal|terminated by exception|exited with exit code ([2-9]|[1-9][0-9])|PANIC:|reinitializing'

# Number of crash lines in the server log so far.
crash_lines() { grep -cE "$crash_pattern" "$RECO_PGDIR/server.log" || true; }

# Waits until the server accepts connections again (after a crash it restarts).
wait_for_server() {
    for _ in $(seq 1 120); do
        psql -X -q -At -d "$db" -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "the server did not come back after a crash" >&2
    return 1
}

# Seconds left before the deadline $1 (epoch seconds); 0 when past it.
seconds_left() { local left=$(($1 - $(date +%s))); echo $((left > 0 ? left : 0)); }

# Records a crash: the log lines from line $1 on that report it, and the statement (or case) $2.
record_crash() {
    local from=$1 what=$2
    {
        echo "== crash while running: $what"
        tail -n +"$from" "$RECO_PGDIR/server.log" | grep -E -A1 "$crash_pattern" | grep -v '^--$' | head -20
    } >>"$out/crashes.txt"
}

# sqlsmith as $role until the deadline; restarted with the next seed if it stops early.
run_sqlsmith() {
    local deadline=$(($(date +%s) + $1)) seed=$fuzz_seed left log_from
    : >"$out/sqlsmith.err"
    : >"$out/sqlsmith.calls"
    while left=$(seconds_left "$deadline"); [ "$left" -gt 2 ]; do
        log_from=$(($(wc -l <"$RECO_PGDIR/server.log") + 1))
        reco_say "sqlsmith (seed $seed, ${left}s)"
        # the queries go to stdout only to be counted: statements, and reco calls in them
        timeout "$left" sqlsmith --verbose --dump-all-queries --seed="$seed" \
            --target="host=$PGHOST port=$PGPORT dbname=$db user=$role application_name=sqlsmith" \
            2>>"$out/sqlsmith.err" |
            awk '{ stmt = stmt $0 "\n" }
                 /;$/ { n++
                        if (stmt ~ /(reco|fuzz)\.[a-z_]+\(/) with_reco++
                        while (match(stmt, /(reco|fuzz)\.[a-z_]+\(/)) {
                            calls[substr(stmt, RSTART, RLENGTH - 1)]++
                            stmt = substr(stmt, RSTART + RLENGTH)
                        }
                        stmt = "" }
                 END { print "statements", n + 0; print "statements_calling_reco", with_reco + 0
                       for (f in calls) print f, calls[f] }' >>"$out/sqlsmith.calls" || true
        if grep -qE "$crash_pattern" < <(tail -n +"$log_from" "$RECO_PGDIR/server.log"); then
            record_crash "$log_from" "sqlsmith seed $seed (the statement is in the log lines below)"
            wait_for_server
        fi
        seed=$((seed + 1))
    done
}

# The generator's cases in batches until the deadline; after a crash, goes on after the crashing case.
run_generator() {
    local deadline=$(($(date +%s) + $1)) batch=0 cases="$out/cases.sql" echo_file="$out/echo.sql"
    local remaining="$out/remaining.sql"
    local first done_lines crashes_before log_from rc
    : >"$out/executed.sql"
    while [ "$(seconds_left "$deadline")" -gt 0 ]; do
        psql -X -At -d "$db" -v seed=$((fuzz_seed + batch)) -v count="$fuzz_batch" \
            -f "$here/generate.sql" >"$cases"
        first=1
        while [ "$first" -le "$fuzz_batch" ] && [ "$(seconds_left "$deadline")" -gt 0 ]; do
            crashes_before=$(crash_lines)
            log_from=$(($(wc -l <"$RECO_PGDIR/server.log") + 1))
            rc=0
            tail -n +"$first" "$cases" >"$remaining"
            # -a echoes each case as it is read: the last echoed line is the one running
            PGAPPNAME=reco_fuzz_calls PGOPTIONS='-c statement_timeout=5s -c client_min_messages=error' \
                psql -X -q -a -o /dev/null -U "$role" -d "$db" -f "$remaining" >"$echo_file" 2>/dev/null || rc=$?
            done_lines=$(wc -l <"$echo_file")
            cat "$echo_file" >>"$out/executed.sql"
            if [ "$(crash_lines)" -gt "$crashes_before" ]; then
                record_crash "$log_from" "$(tail -n 1 "$echo_file")"
                wait_for_server
            elif [ "$rc" -ne 0 ]; then
                echo "psql stopped (exit $rc) without a crash in the log; skipping the rest of the batch" >&2
                break
            fi
            first=$((first + done_lines))
            [ "$done_lines" -gt 0 ] || first=$((first + 1))
        done
        batch=$((batch + 1))
    done
}

# Errors of the sessions whose application name matches $1, by SQLSTATE, most frequent first.
errors_by_sqlstate() {
    sed -nE "s/^[^[]*\[[0-9]+\] $1 ([0-9A-Z]{5}) ERROR: .*/\1/p" "$RECO_PGDIR/server.log" | sort | uniq -c | sort -rn
}

# Messages of internal errors (XX000) of the sessions matching $1, most frequent first.
internal_errors() {
    sed -nE "s/^[^[]*\[[0-9]+\] $1 XX000 ERROR:  (.*)/\1/p" "$RECO_PGDIR/server.log" | sort | uniq -c | sort -rn | head -20
}

# Prints the report and saves it in $out/report.txt.
report() {
    local smith_queries reco_statements gen_cases
    smith_queries=$(grep -hoE '^[.etSCc]+$' "$out/sqlsmith.err" | tr -d '\n' | wc -c)
    reco_statements=$(awk '$1 == "statements_calling_reco" { s += $2 } END { print s + 0 }' "$out/sqlsmith.calls")
    gen_cases=$(grep -c . "$out/executed.sql" || true)
    {
        echo "fuzz report: seed $fuzz_seed, ${fuzz_seconds}s, logs in $out"
        echo
        echo "sqlsmith: $smith_queries queries, $reco_statements of them call a reco function (directly or through schema fuzz)"
        echo "  calls per function:"
        awk '$1 ~ /^(reco|fuzz)\./ { c[$1] += $2 } END { for (f in c) printf "    %7d  %s\n", c[f], f }' \
            "$out/sqlsmith.calls" | sort -rn
        echo "  errors by SQLSTATE:"
        errors_by_sqlstate 'sqlsmith[^ ]*' | head -15 | sed 's/^/  /'
        echo "  internal errors (XX000):"
        internal_errors 'sqlsmith[^ ]*' | sed 's/^/  /'
        echo
        echo "generator: $gen_cases cases"
        echo "  calls per function:"
        grep -oE 'reco\.[a-z_]+\(' "$out/executed.sql" | tr -d '(' | sort | uniq -c | sort -rn | sed 's/^/  /'
        echo "  errors by SQLSTATE:"
        errors_by_sqlstate reco_fuzz_calls | sed 's/^/  /'
        echo "  internal errors (XX000):"
        internal_errors reco_fuzz_calls | sed 's/^/  /'
        echo
        if [ -s "$out/crashes.txt" ]; then
            echo "CRASHES: $(grep -c '^== crash' "$out/crashes.txt")"
            cat "$out/crashes.txt"
        else
            echo "crashes: none"
        fi
    } | tee "$out/report.txt"
}

reco_install_packages $RECO_FUZZ_PACKAGES || exit 1
reco_ensure_installed || exit 1
command -v sqlsmith >/dev/null || { echo "sqlsmith is not installed (apt-get install sqlsmith)" >&2; exit 1; }
reco_cleanup_on_exit
reco_cluster_start fuzz
# reco preloaded (issue 18), so the fuzzed calls also go through the shared cache of served
# models and the training progress slots, as on a server configured for them
psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = pg_cron, reco" >/dev/null
reco_as_pg "$(reco_pg_bindir)/pg_ctl" -D "$RECO_PGDIR/data" -l "$RECO_PGDIR/server.log" -w -t 60 restart >/dev/null ||
    { echo "the cluster did not restart with reco preloaded: $(tail -5 "$RECO_PGDIR/server.log")" >&2; exit 1; }
psql -X -q -At -c 'SHOW shared_preload_libraries' | grep -qw reco ||
    { echo "reco could not be preloaded: $(tail -5 "$RECO_PGDIR/server.log")" >&2; exit 1; }
psql -X -q -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a %e '" \
     -c "ALTER SYSTEM SET log_min_error_statement = error" -c "SELECT pg_reload_conf()" >/dev/null
psql -X -q -c "CREATE DATABASE $db" >/dev/null
reco_say "fixtures: models and tables in database $db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/fixtures.sql" >/dev/null
: >"$out/crashes.txt"

half=$((fuzz_seconds / 2))
run_sqlsmith "$half"
reco_say "random reco calls (${half}s)"
run_generator "$((fuzz_seconds - half))"
cp "$RECO_PGDIR/server.log" "$out/server.log"
report
[ ! -s "$out/crashes.txt" ]
