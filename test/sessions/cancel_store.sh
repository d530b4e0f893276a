#!/usr/bin/env bash
# cancel_store.sh — a training cancelled while it stores its factor rows (the bulk
# insertion of src/bulk_insert.c) stops: the cancel error, no version and no factor
# row of it visible, the backend reusable, a later training whole.
#
# The store is made long, not the test timed: reco.user_factors gets an index on an
# expression that sleeps 1 ms a row (20,000 users: about 20 s of store), which the
# bulk insertion maintains as an INSERT would; the training is seen storing by that
# sleep (pg_stat_activity's wait event: reco.training_progress needs reco preloaded).
# The seconds from the cancel to the error are printed, never compared.
#
# Then an error of the store while the final pass still runs (the item rows are written
# between the pass's tasks, train.c): a unique index on reco.item_factors that a training's
# second item breaks. The error is caught there, the pass's threads stopped and joined, then
# raised (DEBUG1 says so): the unique violation (23505), no version, the backend with no more
# threads than after a training that succeeded (no worker left), and it trains again.
#
# Then a terminate (FATAL) inside the final pass while it stores its user rows: the backend
# exits cleanly (its exit callback joins the pass's thread), no crash restart, no version.
#
# Run: bash test/sessions/cancel_store.sh (against PGHOST/PGPORT, e.g. the harness's
# cluster; it creates and drops its own database).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
db=reco_cancel_store
reco_scratch_db $db
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE clicks AS SELECT u AS user_id, (u * 7 + j) % 500 AS item_id
          FROM generate_series(1, 20000) AS u, generate_series(1, 3) AS j" \
    -c "CREATE FUNCTION slow_id(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
          AS \$\$ BEGIN PERFORM pg_sleep(0.001); RETURN \$1; END \$\$" \
    -c "CREATE INDEX user_factors_slow ON reco.user_factors (slow_id(user_id))"
train="SELECT (reco.train('stored', 'clicks', factors => 4, iterations => 1, threads => 1)).version;"

reco_session_start A $db
reco_session_query A "SET client_min_messages = warning;" >/dev/null
pid=$(reco_session_backend_pid A)
[ -n "$pid" ] || reco_fail "session A did not start: $(cat "$(reco_session_out A)")"
reco_session_send A "\\set ON_ERROR_STOP off
$train
\\set ON_ERROR_STOP on"
# wait until the training stores (the slow index's pg_sleep is its only one), then cancel it
reco_wait_until 60 "the training to reach its store" reco_sql_equals $db \
    "SELECT wait_event FROM pg_stat_activity WHERE pid = $pid" PgSleep
start=$(date +%s.%N)
reco_sql $db -c "SELECT pg_cancel_backend($pid)" >/dev/null
after=$(reco_session_query A "SELECT count(*) FROM reco.models WHERE name = 'stored';" 30)
stop=$(date +%s.%N)
awk -v a="$start" -v b="$stop" 'BEGIN { printf "cancel stopped the store in %.2f s\n", b - a }'
grep -q 'canceling statement due to user request' "$(reco_session_out A)" \
    || reco_fail "no cancel error: $(cat "$(reco_session_out A)")"
[ "$after" = 0 ] || reco_fail "a cancelled version is visible"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.user_factors") $(reco_sql $db -c "SELECT count(*) FROM reco.item_factors")" = "0 0" ] \
    || reco_fail "factor rows of the cancelled training are visible"

# the backend is usable, and a training that is not cancelled stores a whole version
reco_sql $db -c "DROP INDEX reco.user_factors_slow"
[ "$(reco_session_query A "$train" 60)" = 1 ] || reco_fail "the backend did not train after the cancel: $(cat "$(reco_session_out A)")"
reco_session_close A || reco_fail "session A failed: $(cat "$(reco_session_out A)")"
reco_check_models_whole $db
[ "$(reco_sql $db -c "SELECT n_users FROM reco.models WHERE name = 'stored'")" = 20000 ] || reco_fail "the version after the cancel is not whole"
echo "ok: a training cancelled inside its store stops, leaves nothing, and the backend trains again"

# --- a store error inside the final pass ---------------------------------------------------
trainb="SELECT (reco.train('broken', 'clicks', factors => 8, iterations => 1, threads => 2)).version;"
reco_session_start B $db
reco_session_query B "SET client_min_messages = warning;" >/dev/null
bpid=$(reco_session_backend_pid B)
# Threads of session B's backend now (its own, and OpenBLAS's once a training ran).
threads_of_b() { ls "/proc/$bpid/task" | wc -l; }
[ "$(reco_session_query B "$trainb" 60)" = 1 ] || reco_fail "the first training of 'broken' failed: $(cat "$(reco_session_out B)")"
threads_after_success=$(threads_of_b)
reco_sql $db -c "SELECT reco.drop_model('broken')" -c "SELECT reco.drop_model('stored')" >/dev/null
reco_sql $db -c "CREATE UNIQUE INDEX item_factors_one_big_item ON reco.item_factors (model_id) WHERE item_id >= 10"
reco_session_send B "\\set ON_ERROR_STOP off
SET client_min_messages = debug1;
\\set VERBOSITY verbose
$trainb
\\set VERBOSITY default
SET client_min_messages = warning;
\\set ON_ERROR_STOP on"
reco_session_wait B '^ERROR:  23505: duplicate key value violates unique constraint "item_factors_one_big_item"' 60
grep -q '^DEBUG:  00000: reco: the store failed inside the final pass, whose threads have stopped$' "$(reco_session_out B)" \
    || reco_fail "the error was not raised from inside the final pass: $(cat "$(reco_session_out B)")"
[ "$(reco_session_query B "SELECT count(*) FROM reco.models WHERE name = 'broken';")" = 0 ] \
    || reco_fail "the failed training left a version"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.item_factors") $(reco_sql $db -c "SELECT count(*) FROM reco.user_factors")" = "0 0" ] \
    || reco_fail "factor rows of the failed training are visible"
[ "$(threads_of_b)" = "$threads_after_success" ] \
    || reco_fail "the backend has $(threads_of_b) threads after the store's error, $threads_after_success after a training"
reco_sql $db -c "DROP INDEX reco.item_factors_one_big_item"
[ "$(reco_session_query B "$trainb" 60)" = 1 ] || reco_fail "the backend did not train after the store's error: $(cat "$(reco_session_out B)")"
reco_session_close B || reco_fail "session B failed: $(cat "$(reco_session_out B)")"
reco_check_models_whole $db
echo "ok: a store error inside the final pass: 23505 raised once its threads stopped ($threads_after_success threads before and after), no version, the backend trains again"

# --- a terminate (FATAL) inside the final pass while it stores --------------------------------
# The user rows are stored as the final pass solves them, by the backend between the pass's
# tasks (train.c): the index user_factors_slow (1 ms a row, dropped above) again holds the
# backend there, inside the pass, the pass's other thread started. pg_terminate_backend then
# exits the process from inside the pass (FATAL); its exit callback joins that thread first. The backend exits cleanly: no
# crash restart (session W, connected throughout, still answers), no version, and the next
# training is whole.
reco_sql $db -c "SELECT reco.drop_model('broken')" >/dev/null
reco_sql $db -c "CREATE INDEX user_factors_slow ON reco.user_factors (slow_id(user_id))"
reco_session_start W $db
w_pid=$(reco_session_backend_pid W)
reco_session_start F $db
reco_session_query F "SET client_min_messages = warning;" >/dev/null
fpid=$(reco_session_backend_pid F)
reco_session_send F "$trainb"
reco_wait_until 60 "the training to store its users inside the final pass" reco_sql_equals $db \
    "SELECT wait_event FROM pg_stat_activity WHERE pid = $fpid" PgSleep
reco_sql $db -c "SELECT pg_terminate_backend($fpid)" >/dev/null
reco_wait_until 30 "the terminated backend to exit" reco_backend_gone $db "$fpid"
reco_session_close F || true
[ "$(reco_session_query W "SELECT pg_backend_pid();")" = "$w_pid" ] \
    || reco_fail "session W lost its backend: the terminate inside the final pass crashed the server"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.models WHERE name = 'broken'")" = 0 ] \
    || reco_fail "the terminated training left a version"
reco_session_close W || reco_fail "session W failed: $(cat "$(reco_session_out W)")"
reco_sql $db -c "DROP INDEX reco.user_factors_slow"
[ "$(reco_sql $db -c "$trainb" 2>/dev/null)" = 1 ] || reco_fail "no training after the terminate"
reco_check_models_whole $db
echo "ok: a terminate inside the final pass while it stores: the backend exits cleanly (no crash restart), no version, the next training whole"
