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
