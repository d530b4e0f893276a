#!/usr/bin/env bash
# training_progress.sh — reco.training_progress seen from a second session.
#
# The view needs reco in shared_preload_libraries, which the harness's cluster does not
# have, so this test starts a private throwaway cluster (test/lib/cluster.sh) for itself:
#   0. not preloaded: the view exists and stays empty while a training runs;
#   preloaded (the same cluster restarted with shared_preload_libraries += reco):
#   1. a training held in its read phase (its source blocks on an advisory lock the test
#      holds) shows phase 'reading' and exactly the rows read so far; released, it ends and
#      the view is empty;
#   2. a second training of the same model name waits for the first one's commit: 'waiting';
#   3. a long training seen from another session: its pid, model, algorithm, phase
#      'iterating', iterations, rows read, a loss (from iteration 3 on: CG reports iteration
#      1's loss during iteration 2), and an iteration that advances; another
#      role sees only its pid; pg_cancel_backend stops it and the view is empty;
#   3b. one long iteration, then the final pass: chunks_done (of chunks_total) moves inside each;
#   3c. a cancel inside the final pass while it stores its rows (phase 'final pass') stops it;
#   4. an error while reading (a NaN weight) and pg_terminate_backend leave it empty;
#   5. kill -9 of a training backend: the server restarts, the view is empty, and a new
#      training shows in it again.
#
# Run: bash test/sessions/training_progress.sh (as root or the PostgreSQL binaries' user:
# it runs its own cluster and needs nothing from PGHOST/PGPORT). No pass/fail depends on
# timing: every wait polls with a generous timeout.
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
reco_private_cluster_start progress
dir=$RECO_PGDIR
db=reco_progress
reco_scratch_db $db
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE big AS SELECT (i % 20000) AS user_id, (i * 7919 % 5000) AS item_id
          FROM generate_series(1, 600000::bigint) AS i"
# a training whose read blocks at row 1000 on advisory lock 4242 until the test releases it
gated="SELECT (reco.fit('gated', g % 50, g % 30, 1::real, '{\"factors\": 4, \"iterations\": 2}')).version
         FROM generate_series(1, 2000) AS g
        WHERE g <> 1000 OR pg_advisory_xact_lock_shared(4242) IS NOT NULL;"
long="SELECT reco.train('long', 'big', iterations => 1000, factors => 32);"
progress="SELECT count(*) FROM reco.training_progress"

# --- 0. not preloaded: the view exists and is empty, even during a training -------------
reco_session_start H $db
reco_session_query H "SELECT pg_advisory_lock(4242);" >/dev/null
reco_session_start T $db
reco_session_send T "SET client_min_messages = warning;
    SELECT 'pid', pg_backend_pid();
    $gated"
reco_session_wait T '^pid\|'
t_pid=$(sed -n 's/^pid|//p' "$(reco_session_out T)")
blocked="SELECT count(*) FROM pg_locks WHERE pid = $t_pid AND locktype = 'advisory' AND NOT granted"
reco_wait_until 30 "the gated training to block on the advisory lock" reco_sql_equals $db "$blocked" 1
[ "$(reco_sql $db -c "$progress")" = 0 ] || reco_fail "not preloaded, the view shows: $(reco_sql $db -c "TABLE reco.training_progress")"
reco_session_query H "SELECT pg_advisory_unlock(4242);" >/dev/null
reco_session_wait T '^1$'
reco_session_close T
reco_session_close H
echo "ok: without shared_preload_libraries the view exists and is empty during a training"

reco_cluster_reconfigure "$dir" "shared_preload_libraries = 'pg_cron,reco'"
[ "$(reco_sql $db -c "SHOW shared_preload_libraries")" = "pg_cron,reco" ] || reco_fail "reco is not preloaded"

# --- 1. the read phase: phase 'reading', the rows read so far ----------------------------
reco_sql $db -c "SELECT reco.drop_model('gated')" >/dev/null
reco_session_start H $db
reco_session_query H "SELECT pg_advisory_lock(4242);" >/dev/null
reco_session_start T $db
reco_session_send T "SET client_min_messages = warning;
    SELECT 'pid', pg_backend_pid();
    BEGIN;
    $gated"
reco_session_wait T '^pid\|'
t_pid=$(sed -n 's/^pid|//p' "$(reco_session_out T)")
blocked="SELECT count(*) FROM pg_locks WHERE pid = $t_pid AND locktype = 'advisory' AND NOT granted"
reco_wait_until 30 "the gated training to block on the advisory lock" reco_sql_equals $db "$blocked" 1
want="$t_pid|$db|gated|ials|reading||2||999|t"
got=$(reco_sql $db -c "SELECT pid, datname, model, algorithm, phase, iteration, iterations, loss, rows_read,
                              started_at <= now() AND elapsed_seconds >= 0 FROM reco.training_progress")
[ "$got" = "$want" ] || reco_fail "in the read phase the view shows '$got', want '$want'"
echo "ok: read phase: $got"
reco_session_query H "SELECT pg_advisory_unlock(4242);" >/dev/null
reco_session_wait T '^1$'
[ "$(reco_sql $db -c "$progress")" = 0 ] || reco_fail "the view is not empty after the training: $(reco_sql $db -c "TABLE reco.training_progress")"
echo "ok: the view is empty once the training has returned (its transaction still open)"

# --- 2. a second training of the same name waits for the first one's commit ---------------
reco_session_start W $db
reco_session_send W "SET client_min_messages = warning;
    SELECT 'pid', pg_backend_pid();
    SELECT 'trained', (reco.fit('gated', g % 50, g % 30, 1::real, '{\"factors\": 4, \"iterations\": 2}')).version
      FROM generate_series(1, 2000) AS g;"
reco_session_wait W '^pid\|'
w_pid=$(sed -n 's/^pid|//p' "$(reco_session_out W)")
reco_wait_until 30 "the second training to show phase 'waiting'" reco_sql_equals $db \
    "SELECT format('%s|%s|%s', pid, phase, rows_read) FROM reco.training_progress" "$w_pid|waiting|2000"
echo "ok: a second training of the same name shows phase 'waiting' while the first is uncommitted"
reco_session_query T "COMMIT;" >/dev/null
reco_session_wait W '^trained\|2$'
reco_wait_until 10 "the view to be empty after both trainings" reco_sql_equals $db "$progress" 0
reco_session_close T
reco_session_close W
reco_session_close H

# Starts session $1 (errors not fatal, warnings only) on statement $2; sets session_pid to
# its backend's pid.
train_in_session() {
    reco_session_start "$1" $db
    reco_session_send "$1" "\\set ON_ERROR_STOP off
SET client_min_messages = warning;
SELECT 'pid', pg_backend_pid();
$2"
    reco_session_wait "$1" '^pid\|'
    session_pid=$(sed -n 's/^pid|//p' "$(reco_session_out "$1")")
}

# Waits (polling every 10 ms) until statement $2, which cancels session $1's training when it
# sees it in the state $3 names, has cancelled it (says 1); then the cancel error, how long it
# took (printed, never compared), the view empty and no version of model $4.
cancel_seen() {
    local session=$1 sql=$2 what=$3 model=$4 start stop
    RECO_POLL_SECONDS=0.01 reco_wait_until 120 "the training to be seen in $what" reco_sql_equals $db "$sql" 1
    start=$(date +%s.%N)
    reco_session_wait "$session" 'canceling statement due to user request'
    stop=$(date +%s.%N)
    awk -v a="$start" -v b="$stop" -v w="$what" 'BEGIN { printf "cancel stopped %s in %.2f s\n", w, b - a }'
    reco_wait_until 10 "the view to be empty after the cancel" reco_sql_equals $db "$progress" 0
    [ "$(reco_sql $db -c "SELECT count(*) FROM reco.models WHERE name = '$model'")" = 0 ] \
        || reco_fail "a training cancelled in $what stored a version"
}

# --- 2b. reco.train's direct read of a table: phase 'reading' with its rows, a cancel in it ---
# 6M rows are read by a heap scan (reco_internal.fit_table) in under a second; the view's
# rows_read moves every 65536 rows. The cancel is sent by the statement that sees the
# training reading (so it arrives while the scan runs), and the scan answers it within 65536
# rows: the error, no version, the view empty. The seconds are printed, never compared.
reco_sql $db -c "CREATE TABLE many AS SELECT (i % 200000) AS user_id, (i * 7919 % 5000) AS item_id
                   FROM generate_series(1, 6000000::bigint) AS i"
reco_session_start R $db
reco_session_send R "\\set ON_ERROR_STOP off
SET client_min_messages = warning;
SELECT 'pid', pg_backend_pid();
SELECT 'path', (reco.train('direct', 'many', factors => 4, iterations => 1)).stats ->> 'read_path';"
reco_session_wait R '^pid\|'
r_pid=$(sed -n 's/^pid|//p' "$(reco_session_out R)")
cancel_reading="SELECT count(pg_cancel_backend(pid)) FROM reco.training_progress
                 WHERE pid = $r_pid AND phase = 'reading' AND rows_read > 0 AND rows_read < 6000000"
cancel_seen R "$cancel_reading" "the direct read" direct
got=$(reco_session_query R "SELECT 'path', (reco.train('direct', 'many', factors => 4, iterations => 1)).stats ->> 'read_path';" 120)
[ "$got" = "path|direct" ] || reco_fail "the training after the cancel printed '$got', want its read_path direct"
[ "$(reco_sql $db -c "SELECT stats -> 'rows_read' FROM reco.models WHERE name = 'direct'")" = 6000000 ] || reco_fail "the direct read's rows_read"
reco_session_close R
reco_sql $db -c "DROP TABLE many" -c "SELECT reco.drop_model('direct')" >/dev/null
echo "ok: the direct read shows phase 'reading' with its rows and answers a cancel; then it trains (read_path direct)"

# --- 3. a long training, watched; another role; pg_cancel_backend ---------------------------
reco_sql $db -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS reco_progress_other" -c "CREATE ROLE reco_progress_other LOGIN" \
    -c "GRANT USAGE ON SCHEMA reco TO reco_progress_other"
reco_on_exit "reco_sql postgres -c 'DROP ROLE IF EXISTS reco_progress_other'"
reco_session_start T $db
reco_session_send T "\\set ON_ERROR_STOP off
SET client_min_messages = warning;
SELECT 'pid', pg_backend_pid();
$long"
reco_session_wait T '^pid\|'
t_pid=$(sed -n 's/^pid|//p' "$(reco_session_out T)")
# The iteration of session T's training (backend $t_pid), as the view shows it.
iteration_of_t() { reco_sql $db -c "SELECT iteration FROM reco.training_progress WHERE pid = $t_pid"; }
# Succeeds once session T's training is at iteration $1 or later.
iteration_reached() { local i; i=$(iteration_of_t); [ -n "$i" ] && [ "$i" -ge "$1" ]; }
# Waits (up to 120 s) until session T's training is at iteration $1; fails showing the session and the view.
wait_iteration() {
    local deadline=$(($(date +%s) + 120))
    until iteration_reached "$1"; do
        [ "$(date +%s)" -lt "$deadline" ] || reco_fail "training $t_pid did not reach iteration $1: view: $(reco_sql $db -c "TABLE reco.training_progress") session: $(cat "$(reco_session_out T)")"
        sleep 0.1
    done
}
# iteration 3: with CG the loss of iteration 1 is computed by iteration 2's user step
wait_iteration 3
want="$t_pid|$db|long|ials|iterating|1000|600000|t|t"
got=$(reco_sql $db -c "SELECT pid, datname, model, algorithm, phase, iterations, rows_read,
                              loss > 0, elapsed_seconds > 0 FROM reco.training_progress")
[ "$got" = "$want" ] || reco_fail "while iterating the view shows '$got', want '$want'"
first=$(iteration_of_t)
wait_iteration $((first + 1))
echo "ok: iterating: $got, iteration $first then $(iteration_of_t) of 1000"
other=$(PGUSER=reco_progress_other reco_sql $db -c "SELECT format('%s|%s|%s|%s', pid, datname, model, phase) FROM reco.training_progress")
[ "$other" = "$t_pid|$db||" ] || reco_fail "another role sees '$other', want only the pid and database"
echo "ok: another role sees only the pid and database: $other"
reco_sql $db -c "SELECT pg_cancel_backend($t_pid)" >/dev/null
reco_session_wait T 'canceling statement due to user request'
reco_wait_until 10 "the view to be empty after the cancel" reco_sql_equals $db "$progress" 0
echo "ok: pg_cancel_backend: the view is empty"

# --- 3b. inside one long iteration and the final pass: chunks_done moves ----------------------
# One iteration at factors 384 on 100,000 users x 10 items each, then the exact final pass
# (a Cholesky solve per user): each takes seconds, and chunks_done of chunks_total (the
# kernel's chunks of rows of the current pass) must take at least two different values
# inside each (never above chunks_total).
reco_sql $db -c "CREATE TABLE wide AS SELECT u AS user_id, (u * 7 + j * 131) % 5000 AS item_id
                   FROM generate_series(1, 100000) AS u, generate_series(1, 10) AS j"
train_in_session P "SELECT reco.train('onelong', 'wide', iterations => 1, factors => 384);"
p_pid=$session_pid
samples=$(mktemp)
reco_on_exit "rm -f $samples"
# Succeeds once the samples hold two different chunk counts in phase|iteration $1 (sampling
# once more); fails at once if the training is no longer in the view (it ended unseen).
moved_in() {
    local row
    row=$(reco_sql $db -c "SELECT format('%s|%s|%s|%s', phase, iteration, chunks_done, chunks_total)
                             FROM reco.training_progress WHERE pid = $p_pid")
    [ -n "$row" ] || reco_fail "the training ended before chunks_done moved in $1: $(sort "$samples" | uniq -c)"
    echo "$row" >>"$samples"
    [ "$(grep "^$1|[0-9]" "$samples" | sort -u | wc -l)" -ge 2 ]
}
reco_wait_until 30 "the training to show" reco_sql_equals $db "SELECT count(*) FROM reco.training_progress WHERE pid = $p_pid" 1
reco_wait_until 300 "chunks_done to move inside iteration 1" moved_in 'iterating|1'
reco_wait_until 300 "chunks_done to move inside the final pass" moved_in 'final pass|1'
bad=$(awk -F'|' '$4 != "" && ($3 > $4 || $3 < 0 || $4 < 1)' "$samples")
[ -z "$bad" ] || reco_fail "chunks_done outside 0 .. chunks_total: $bad"
echo "ok: inside one iteration and the final pass the view moves: $(grep -c '^iterating|1|' "$samples") samples in iteration 1 ($(grep '^iterating|1|[0-9]' "$samples" | sort -u | wc -l) distinct counts), $(grep -c '^final pass|' "$samples") in the final pass ($(grep '^final pass|1|[0-9]' "$samples" | sort -u | wc -l) distinct)"
reco_sql $db -c "SELECT pg_cancel_backend($p_pid)" >/dev/null
reco_session_wait P 'canceling statement due to user request'
reco_wait_until 10 "the view to be empty after the cancel" reco_sql_equals $db "$progress" 0
reco_session_close P

# --- 3c. a cancel while the final pass stores ------------------------------------------------
# The item rows are written between the final pass's tasks (then the user rows as they are
# solved): an index on reco.item_factors whose expression sleeps 0.5 ms a row makes that store
# last (5000 items: 2.5 s). A cancel sent by the statement that sees the training in phase
# 'final pass' while its backend sleeps in that index lands inside the pass while it stores:
# the cancel error, no version, the view empty. The seconds are printed, never compared.
reco_sql $db -c "CREATE FUNCTION slow_item(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
                   AS \$\$ BEGIN PERFORM pg_sleep(0.0005); RETURN \$1; END \$\$" \
    -c "CREATE INDEX item_factors_slow ON reco.item_factors (slow_item(item_id))"
train_in_session O "SELECT reco.train('overlap', 'wide', iterations => 1, factors => 64);"
o_pid=$session_pid
cancel_storing="SELECT count(pg_cancel_backend(p.pid)) FROM reco.training_progress AS p JOIN pg_stat_activity AS a USING (pid)
                 WHERE p.pid = $o_pid AND p.phase = 'final pass' AND a.wait_event = 'PgSleep'"
cancel_seen O "$cancel_storing" "the final pass while it stored" overlap
reco_session_close O
reco_sql $db -c "DROP INDEX reco.item_factors_slow" -c "DROP FUNCTION slow_item(bigint)"
echo "ok: a cancel inside the final pass while it stores (phase 'final pass', the store's index sleeping) stops it: no version, the view empty"

# --- 4. an error while reading, pg_terminate_backend ---------------------------------------
err=$(reco_sql $db -c "SELECT reco.fit('bad', g, g, CASE WHEN g = 500 THEN 'NaN'::real ELSE 1 END)
                         FROM generate_series(1, 1000) AS g" 2>&1 || true)
grep -q 'weight of user 500 and item 500 is NaN' <<< "$err" || reco_fail "no NaN error: $err"
[ "$(reco_sql $db -c "$progress")" = 0 ] || reco_fail "the view is not empty after an error"
reco_session_send T "$long"
wait_iteration 1
reco_sql $db -c "SELECT pg_terminate_backend($t_pid)" >/dev/null
reco_wait_until 30 "the terminated backend to exit" reco_backend_gone $db "$t_pid"
reco_session_close T || true
[ "$(reco_sql $db -c "$progress")" = 0 ] || reco_fail "the view is not empty after pg_terminate_backend"
echo "ok: an error while reading and pg_terminate_backend leave the view empty"

# Starts the long training in a new session T; sets t_pid to its backend.
start_long_training() {
    reco_session_start T $db
    reco_session_send T "SELECT 'pid', pg_backend_pid();
$long"
    reco_session_wait T '^pid\|'
    t_pid=$(sed -n 's/^pid|//p' "$(reco_session_out T)")
}

# --- 5. kill -9: crash restart, empty view, and progress works again ------------------------
checkpointer="SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
old_checkpointer=$(reco_sql $db -c "$checkpointer")
start_long_training
wait_iteration 1
kill -KILL "$t_pid"
# Succeeds once the server answers again with a new checkpointer (the crash restart is over).
recovered() { local now; now=$(reco_sql $db -c "$checkpointer" 2>/dev/null) && [ -n "$now" ] && [ "$now" != "$old_checkpointer" ]; }
reco_wait_until 120 "the server to restart after kill -9" recovered
reco_session_close T || true
[ "$(reco_sql $db -c "$progress")" = 0 ] || reco_fail "the view is not empty after the crash"
start_long_training
wait_iteration 1
reco_sql $db -c "SELECT pg_cancel_backend($t_pid)" >/dev/null
reco_wait_until 30 "the view to be empty after the last cancel" reco_sql_equals $db "$progress" 0
reco_session_close T || true
echo "ok: kill -9: the view is empty after the crash restart, and shows a new training again"
