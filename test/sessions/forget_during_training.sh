#!/usr/bin/env bash
# forget_during_training.sh — reco.forget_user and reco.drop_model wait for a
# training of the same model that is storing its version (they take the
# model's training lock), then act on that version too: a user forgotten while
# a retrain is in flight is not left in the new version.  Runs against the
# harness's cluster (PGHOST/PGPORT).
set -euo pipefail
db=reco_forget_wait
PGOPTIONS='-c client_min_messages=warning' psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
q -c "CREATE EXTENSION reco" \
  -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j) % 50 AS item_id
        FROM generate_series(1, 100) AS u, generate_series(1, 6) AS j" \
  -c "SET client_min_messages = warning" \
  -c "SELECT reco.train('shop', 'orders', factors => 4, iterations => 2, regularization => 1)" >/dev/null

# Session A retrains and keeps its transaction open; the new version 2 is stored but uncommitted.
fifo=$(mktemp -u); mkfifo "$fifo"
out=$(mktemp)
psql -X -At -d $db <"$fifo" >"$out" 2>&1 &
a=$!
exec 3>"$fifo"
echo "SET client_min_messages = warning; BEGIN;
      SELECT 'trained', (reco.train('shop', 'orders', factors => 4, iterations => 2, regularization => 1)).version;" >&3
for _ in $(seq 1 300); do grep -q '^trained|2' "$out" && break; sleep 0.1; done
grep -q '^trained|2' "$out" || fail "session A did not train: $(cat "$out")"

# Session B forgets user 7: it must wait for A's lock.
b_out=$(mktemp)
q -c "SELECT 'forgot', reco.forget_user(7)" >"$b_out" 2>&1 &
b=$!
waiting=0
for _ in $(seq 1 100); do
    waiting=$(q -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)
                     WHERE l.locktype = 'advisory' AND NOT l.granted AND s.query LIKE '%forget_user%'")
    [ "$waiting" = 1 ] && break
    sleep 0.1
done
[ "$waiting" = 1 ] || fail "forget_user did not wait for the training's lock"
kill -0 $b 2>/dev/null || fail "forget_user finished while the training was uncommitted: $(cat "$b_out")"
echo "COMMIT;" >&3
exec 3>&-
wait $a
wait $b || fail "forget_user failed: $(cat "$b_out")"
grep -q '^forgot|2$' "$b_out" || fail "forget_user should have changed versions 1 and 2: $(cat "$b_out")"
[ "$(q -c "SELECT count(*) FROM reco.user_factors WHERE user_id = 7")" = 0 ] || fail "user 7 is still stored"
[ "$(q -c "SELECT count(*) FROM reco.recommend('shop', 7)")" = 0 ] || fail "user 7 is still served"
echo "ok: forget_user waited for the in-flight training and removed the user from its new version too"
rm -f "$fifo" "$out" "$b_out"
