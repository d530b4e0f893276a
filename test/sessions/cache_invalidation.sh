#!/usr/bin/env bash
# cache_invalidation.sh — a backend that serves a model keeps its item matrix
# cached; while another session trains a new version (uncommitted) it keeps
# serving the old one; the moment that version commits, the same backend
# serves the new one (never a stale answer), exactly as a fresh session does.
# Runs against the harness's cluster (PGHOST/PGPORT).
set -euo pipefail
db=reco_cache_sessions
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
q -c "CREATE EXTENSION reco" \
  -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 31 + j * 17) % 200 AS item_id
        FROM generate_series(1, 400) AS u, generate_series(1, 8) AS j" \
  -c "SET client_min_messages = warning" \
  -c "SELECT reco.train('shop', 'orders', factors => 8, iterations => 3, seed => 1)" >/dev/null

# Session A: one long-lived backend, driven through a coprocess.
coproc A { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" 2>&1; }
a_pid=$A_PID   # bash unsets A_PID as soon as the coprocess exits
# Runs SQL in session A and prints its output.
a() {
    printf '%s;\n' "$1" "SELECT '--end--'" >&"${A[1]}"
    local line
    while IFS= read -r -t 30 line <&"${A[0]}"; do
        [ "$line" = "--end--" ] && return 0
        printf '%s\n' "$line"
    done
    fail "session A did not answer: $1"
}
answer="SELECT string_agg(item_id || ':' || score, ',') FROM reco.recommend('shop', 7, 5)"
cached="SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.cache_info()"

v1=$(a "$answer") || exit 1
[ "$(a "$cached")" = 1 ] || fail "version 1 is not cached after serving it"

# Session B trains version 2 and holds its transaction open.
psql -X -q -At -d $db >/dev/null 2>&1 <<'SQL' &
SET client_min_messages = warning;
BEGIN;
SELECT reco.train('shop', 'orders', factors => 8, iterations => 3, seed => 2);
SELECT pg_sleep(3);
COMMIT;
SQL
b=$!
for _ in $(seq 1 100); do
    [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE 'SELECT pg_sleep(3)%'")" = 1 ] && break
    sleep 0.1
done
during=$(a "$answer") || exit 1
[ "$during" = "$v1" ] || fail "an uncommitted version was served: $during"
[ "$(a "$cached")" = 1 ] || fail "the cache changed before the new version committed"
wait $b

after=$(a "$answer") || exit 1
fresh=$(q -c "$answer")
[ "$after" != "$v1" ] || fail "the committed version 2 was not served (same answer as version 1)"
[ "$after" = "$fresh" ] || fail "session A's answer after the retrain differs from a fresh session's"
[ "$(a "SELECT max(version) FROM reco.cache_info()")" = 2 ] || fail "version 2 is not cached after serving it"
echo "cache follows the committed version: v1 while v2 was uncommitted, v2 right after its commit"
printf '\\q\n' >&"${A[1]}"
wait "$a_pid" 2>/dev/null || true
