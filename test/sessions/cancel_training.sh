#!/usr/bin/env bash
# cancel_training.sh — a long training is stopped by pg_cancel_backend, by
# statement_timeout and by Ctrl-C in psql; afterwards the backend is usable, no
# partial version or factor row is visible, the backend has no extra threads, and
# its memory is back to a small size.
#
# Run: bash test/sessions/cancel_training.sh (against PGHOST/PGPORT, e.g. the
# harness's cluster; it creates and drops its own database). It counts the threads
# of a backend in /proc, so it must run on the server's machine.
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
db=reco_cancel
reco_scratch_db $db
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE big AS SELECT (i % 20000) AS user_id, (i * 7919 % 5000) AS item_id, 1::real AS w
          FROM generate_series(1, 600000::bigint) AS i"
long="SELECT reco.train('long', 'big', iterations => 1000, factors => 32);"
# Sends session $1 the long training, with its progress NOTICEs and without stopping
# the session at its error (the cancel).
start_long_training() {
    reco_session_send "$1" "\\set ON_ERROR_STOP off
SET client_min_messages = notice;
SET reco.progress = iterations;
$long
\\set ON_ERROR_STOP on
SET client_min_messages = warning;"
}
# Prints the number of threads of process $1.
threads_of() { ls /proc/"$1"/task | wc -l; }

# --- pg_cancel_backend ------------------------------------------------------------------
# Session A: warm up (loads reco and OpenBLAS), count threads, train for a long time.
reco_session_start A $db
reco_session_query A "SET client_min_messages = warning;" >/dev/null
pid=$(reco_session_backend_pid A)
[ -n "$pid" ] || reco_fail "session A did not start: $(cat "$(reco_session_out A)")"
[ "$(reco_session_query A "SELECT (reco.train('warm', 'SELECT 1 AS user_id, 1 AS item_id', iterations => 1)).version;")" = 1 ] \
    || reco_fail "the warm-up training failed: $(cat "$(reco_session_out A)")"
threads_before=$(threads_of "$pid")
start_long_training A
# wait until the long training is iterating (its per-iteration NOTICE), then cancel it
reco_session_wait A 'iteration 2/1000' 20
start=$(date +%s.%N)
reco_sql $db -c "SELECT pg_cancel_backend($pid)" >/dev/null
# (the session answers only once the training has ended)
after_cancel=$(reco_session_query A "SELECT count(*) FROM reco.models WHERE name = 'long';" 10)
stop=$(date +%s.%N)
awk -v a="$start" -v b="$stop" 'BEGIN { printf "cancel stopped the training in %.2f s\n", b - a }'
threads_after=$(threads_of "$pid")
mem=$(reco_session_query A "SELECT sum(total_bytes) FROM pg_backend_memory_contexts;")
reusable=$(reco_session_query A "SELECT (reco.train('small', 'SELECT 1 AS user_id, 2 AS item_id', iterations => 1)).version;")
reco_session_close A || reco_fail "session A failed: $(cat "$(reco_session_out A)")"
grep -v -- '^\(begin\|end\)--reco-' "$(reco_session_out A)"    # (without reco_session_query's markers)
grep -q 'canceling statement due to user request' "$(reco_session_out A)" || reco_fail "no cancel error"
[ "$after_cancel" = 0 ] || reco_fail "a partial version is visible"
[ "$threads_after" -le "$threads_before" ] || reco_fail "threads before $threads_before, after $threads_after"
[ "$mem" -lt 50000000 ] || reco_fail "backend memory after cancel is $mem bytes"
[ "$reusable" = 1 ] || reco_fail "the backend was not reusable after the cancel"

# --- statement_timeout stops it too, and nothing is left behind --------------------------
err=$(reco_sql $db -c "SET client_min_messages = warning" -c "SET statement_timeout = '2s'" -c "$long" 2>&1 || true)
grep -q 'canceling statement due to statement timeout' <<< "$err" || reco_fail "no timeout error: $err"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.models WHERE name = 'long'")" = 0 ] || reco_fail "a timed-out version is visible"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.user_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models)")" = 0 ] \
    || reco_fail "orphan user factor rows"
echo "ok: cancel and statement_timeout stop training cleanly (threads $threads_before -> $threads_after, memory $mem bytes)"

# --- Ctrl-C in psql (SIGINT to the client) sends a cancel request: same outcome ------------
reco_session_start C $db
c_pid=$(reco_session_backend_pid C)
start_long_training C
reco_session_wait C 'iteration 2/1000' 20
start=$(date +%s.%N)
reco_session_signal C INT
reco_session_close C || true    # a script stopped by Ctrl-C ends psql
stop=$(date +%s.%N)
grep -q 'canceling statement due to user request' "$(reco_session_out C)" \
    || reco_fail "Ctrl-C did not cancel: $(cat "$(reco_session_out C)")"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.models WHERE name = 'long'")" = 0 ] || reco_fail "a Ctrl-C'd version is visible"
reco_wait_until 10 "the Ctrl-C'd backend $c_pid to end with its psql" reco_backend_gone $db "$c_pid"
[ "$(reco_sql $db -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%reco.train(''long''%' AND pid <> pg_backend_pid()")" = 0 ] \
    || reco_fail "the Ctrl-C'd backend is still running the training"
awk -v a="$start" -v b="$stop" 'BEGIN { printf "ok: Ctrl-C (SIGINT to psql) stopped the training in %.2f s\n", b - a }'
