#!/usr/bin/env bash
# crash_training.sh — kill -9 of a backend that is training: PostgreSQL restarts and
# recovers, the version trained before is intact and served with the same answers as
# before the crash, no row of the killed training exists (no models row, no orphan factor
# rows), and a new training works. The same again for a backend killed after its training
# stored the new version but before it committed.
#
# Run: bash test/sessions/crash_training.sh (against PGHOST/PGPORT, e.g. the harness's
# cluster; it creates and drops its own database). The crash restart terminates every
# other connection to the server, so nothing else may run against it meanwhile; the test
# must be allowed to signal the server's processes (root, or the cluster's owner). It
# crashes only a throwaway cluster of test/lib/cluster.sh, or any server when
# RECO_TEST_ALLOW_CRASH=1; otherwise it says so and exits 0.
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
data_directory=$(psql -X -At -c "SHOW data_directory")
case "$data_directory" in
    */.pgtest-*/data | */reco-pgtest-*/data) ;;
    *) if [ "${RECO_TEST_ALLOW_CRASH:-0}" != 1 ]; then
           echo "skip: $data_directory is not a throwaway test cluster (set RECO_TEST_ALLOW_CRASH=1 to crash it anyway)"
           exit 0
       fi ;;
esac
# The harness's cluster runs with synchronous_commit = off, which lets a crash lose the
# last commits (PostgreSQL's documented trade-off); what this test relies on being
# committed before a crash must be committed durably.
export PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=on"
db=reco_crash
reco_scratch_db $db
small="factors => 8, iterations => 3, regularization => 1"
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 60 AS item_id
          FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j" \
    -c "CREATE TABLE big AS SELECT (i % 20000) AS user_id, (i * 7919 % 5000) AS item_id
          FROM generate_series(1, 600000::bigint) AS i" \
    -c "SET client_min_messages = warning" \
    -c "SELECT reco.train('shop', 'orders', $small)" >/dev/null

# What is compared across each crash: recommend for 30 users, similar items, a cart.
answers=$(reco_answers_query shop)
versions="SELECT string_agg(format('v%s/model_id %s', version, model_id), ' ' ORDER BY version) FROM reco.models"
checkpointer="SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"

# Succeeds once the server accepts queries again with a checkpointer other than $1
# (proof that the crash restart happened and recovery has finished).
recovered_from() {
    local now
    pg_isready -q || return 1
    now=$(reco_sql $db -c "$checkpointer" 2>/dev/null) || return 1
    [ -n "$now" ] && [ "$now" != "$1" ]
}

# Kills session $1's backend (PID $2) with SIGKILL, waits for the crash restart and
# recovery, and checks the stored models against $3 (versions) and $4 (answers).
crash_and_check() {
    local session=$1 pid=$2 want_versions=$3 want_answers=$4 old_checkpointer start
    old_checkpointer=$(reco_sql $db -c "$checkpointer")
    start=$(date +%s.%N)
    kill -KILL "$pid"
    reco_wait_until 120 "the server to restart and recover after kill -9 of backend $pid" \
        recovered_from "$old_checkpointer"
    awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "the server accepted queries again %.1f s after the kill\n", b - a }'
    reco_session_close "$session" || true
    [ "$(reco_sql $db -c "$versions")" = "$want_versions" ] \
        || reco_fail "versions after the crash: $(reco_sql $db -c "$versions"), want $want_versions"
    reco_check_models_whole $db
    [ "$(reco_sql $db -c "$answers")" = "$want_answers" ] || reco_fail "the answers changed across the crash"
}

# --- 1. killed in mid-training ----------------------------------------------------------
before_versions=$(reco_sql $db -c "$versions")
before_answers=$(reco_sql $db -c "$answers")
[ "$(echo "$before_answers" | wc -w)" -ge 150 ] || reco_fail "too few answers: $before_answers"
reco_session_start T $db
reco_session_send T "SELECT 'pid', pg_backend_pid();
    SET reco.progress = iterations;
    SELECT reco.train('shop', 'big', iterations => 1000, factors => 32);"
reco_session_wait T '^pid\|'
pid=$(sed -n 's/^pid|//p' "$(reco_session_out T)")
reco_session_wait T 'iteration 2/1000' 120
crash_and_check T "$pid" "$before_versions" "$before_answers"
echo "ok: kill -9 in mid-training: $before_versions intact, same $(echo "$before_answers" | wc -w) answers, no row of the killed training"

reco_sql $db -c "SET client_min_messages = warning" -c "SELECT reco.train('shop', 'orders', $small, seed => 7)" >/dev/null
after_versions=$(reco_sql $db -c "$versions")
[ "$(reco_sql $db -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models")" = 1,2 ] \
    || reco_fail "a new training after the crash should store version 2: $after_versions"
reco_check_models_whole $db
echo "ok: a new training after the crash works: $after_versions"

# --- 2. killed after storing version 3, before committing it ------------------------------
before_answers=$(reco_sql $db -c "$answers")
reco_session_start S $db
reco_session_send S "SET client_min_messages = warning;
    SELECT 'pid', pg_backend_pid();
    BEGIN;
    SELECT 'stored', (reco.train('shop', 'orders', $small, seed => 8)).version;"
reco_session_wait S '^stored\|3$' 60
pid=$(sed -n 's/^pid|//p' "$(reco_session_out S)")
crash_and_check S "$pid" "$after_versions" "$before_answers"
echo "ok: kill -9 of a training stored but not committed: $after_versions intact, same answers, no row of version 3"
reco_sql $db -c "SET client_min_messages = warning" -c "SELECT reco.train('shop', 'orders', $small, seed => 9)" >/dev/null
[ "$(reco_sql $db -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models")" = 2,3 ] \
    || reco_fail "a new training after the second crash should store version 3: $(reco_sql $db -c "$versions")"
reco_check_models_whole $db
echo "ok: a new training after the second crash works: $(reco_sql $db -c "$versions")"
