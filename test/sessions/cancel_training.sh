#!/usr/bin/env bash
# cancel_training.sh — a long training is stopped by pg_cancel_backend and by
# statement_timeout; afterwards the backend is usable, no partial version or
# factor row is visible, the backend has no extra threads, and its memory is
# back to a small size.  Runs against the harness's cluster (PGHOST/PGPORT).
set -euo pipefail
db=reco_cancel
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
out=$(mktemp)
ctrl_out=$(mktemp)
trap 'rm -f "$out" "$ctrl_out"; psql -X -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
q -c "CREATE EXTENSION reco" \
  -c "CREATE TABLE big AS SELECT (i % 20000) AS user_id, (i * 7919 % 5000) AS item_id, 1::real AS w
        FROM generate_series(1, 600000::bigint) AS i"
fail() { echo "FAIL: $*"; exit 1; }

# Session A: warm up (loads reco and OpenBLAS), count threads, train for a long time.
psql -X -At -d $db >"$out" 2>&1 <<'SQL' &
SET client_min_messages = warning;
SELECT 'pid', pg_backend_pid();
SELECT (reco.train('warm', 'SELECT 1 AS user_id, 1 AS item_id', iterations => 1)).version;
SELECT 'ready';
SELECT pg_sleep(1.5);
SET client_min_messages = notice;
SELECT reco.train('long', 'big', iterations => 1000, factors => 32);
SET client_min_messages = warning;
SELECT 'after-cancel', count(*) FROM reco.models WHERE name = 'long';
SELECT 'memory', sum(total_bytes) FROM pg_backend_memory_contexts;
SELECT pg_sleep(1.5);
SELECT 'reusable', (reco.train('small', 'SELECT 1 AS user_id, 2 AS item_id', iterations => 1)).version;
SQL
a=$!
for _ in $(seq 1 100); do grep -q '^ready' "$out" && break; sleep 0.1; done
pid=$(sed -n 's/^pid|//p' "$out")
[ -n "$pid" ] || fail "session A did not start: $(cat "$out")"
threads_before=$(ls /proc/"$pid"/task | wc -l)
# wait until the long training is iterating (its per-iteration NOTICE), then cancel it
for _ in $(seq 1 200); do grep -q 'iteration 2/1000' "$out" && break; sleep 0.1; done
grep -q 'iteration 2/1000' "$out" || fail "the long training never reached its second iteration: $(cat "$out")"
start=$(date +%s.%N)
q -c "SELECT pg_cancel_backend($pid)" >/dev/null
for _ in $(seq 1 100); do grep -q '^after-cancel' "$out" && break; sleep 0.1; done
stop=$(date +%s.%N)
grep -q '^after-cancel' "$out" || fail "training did not stop within 10 s of the cancel: $(cat "$out")"
awk -v a="$start" -v b="$stop" 'BEGIN { printf "cancel stopped the training in %.2f s\n", b - a }'
threads_after=$(ls /proc/"$pid"/task | wc -l)
wait $a || true
cat "$out"
grep -q 'canceling statement due to user request' "$out" || fail "no cancel error"
grep -q '^after-cancel|0$' "$out" || fail "a partial version is visible"
[ "$threads_after" -le "$threads_before" ] || fail "threads before $threads_before, after $threads_after"
mem=$(sed -n 's/^memory|//p' "$out")
[ "$mem" -lt 50000000 ] || fail "backend memory after cancel is $mem bytes"
grep -q '^reusable|1$' "$out" || fail "the backend was not reusable after the cancel"

# statement_timeout stops it too, and nothing is left behind.
err=$(q -c "SET client_min_messages = warning" -c "SET statement_timeout = '2s'" \
        -c "SELECT reco.train('long', 'big', iterations => 1000, factors => 32)" 2>&1 || true)
echo "$err" | grep -q 'canceling statement due to statement timeout' || fail "no timeout error: $err"
[ "$(q -c "SELECT count(*) FROM reco.models WHERE name = 'long'")" = 0 ] || fail "a timed-out version is visible"
[ "$(q -c "SELECT count(*) FROM reco.user_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models)")" = 0 ] \
    || fail "orphan user factor rows"
echo "ok: cancel and statement_timeout stop training cleanly (threads $threads_before -> $threads_after, memory $mem bytes)"

# Ctrl-C in psql (SIGINT to the client) sends a cancel request: same outcome.
psql -X -At -d $db -c "SET client_min_messages = notice" \
     -c "SELECT reco.train('long', 'big', iterations => 1000, factors => 32)" >"$ctrl_out" 2>&1 &
client=$!
for _ in $(seq 1 200); do grep -q 'iteration 2/1000' "$ctrl_out" && break; sleep 0.1; done
grep -q 'iteration 2/1000' "$ctrl_out" || fail "the Ctrl-C training never reached its second iteration: $(cat "$ctrl_out")"
start=$(date +%s.%N)
kill -INT $client
wait $client || true
stop=$(date +%s.%N)
grep -q 'canceling statement due to user request' "$ctrl_out" || fail "Ctrl-C did not cancel: $(cat "$ctrl_out")"
[ "$(q -c "SELECT count(*) FROM reco.models WHERE name = 'long'")" = 0 ] || fail "a Ctrl-C'd version is visible"
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%reco.train(''long''%' AND pid <> pg_backend_pid()")" = 0 ] \
    || fail "the Ctrl-C'd backend is still running the training"
awk -v a="$start" -v b="$stop" 'BEGIN { printf "ok: Ctrl-C (SIGINT to psql) stopped the training in %.2f s\n", b - a }'
