#!/usr/bin/env bash
# read_replica.sh — serving from a hot standby: a streaming replica of the server under
# test (pg_basebackup -R into a directory of its own, its own port and socket directory,
# hot_standby = on) serves exactly what the primary serves, and refuses every change.
#
#   1. On the primary: two models (bigint ids, text ids) and stored segments; once the
#      standby has replayed the primary's WAL (pg_last_wal_replay_lsn >= the primary's
#      pg_current_wal_insert_lsn), recommend, similar_items, similar_users, recommend_for_items,
#      explain, recommend_all, explore (seeded) and segment_top_items answer on the standby
#      exactly as on the primary (every score compared as its float4 bits), in a new
#      standby session and in one that has cached the models.
#   2. A retrain, a forget_user and new segments on the primary: the answers change, and after replay the
#      standby's (also the session with the old version cached) equal the primary's again.
#   3. On the standby, training (reco.train and the reco.fit aggregate), refresh_users,
#      segment_users, forget_user and drop_model fail with 25006 (the C entry points at
#      once, with reco's own message), and nothing changed; pg_cron's scheduler (when the
#      primary runs it) does not run on the standby.
#
# Run: bash test/sessions/read_replica.sh (against PGHOST/PGPORT, e.g. the harness's
# cluster, on the server's machine, as root or the server's owner: the standby is a copy
# of its data directory; it creates and drops its own database and removes the standby).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
. "$(dirname "$0")/../lib/cluster.sh"
[ "$(psql -X -At -c "SHOW wal_level")" != minimal ] || { echo "skip: wal_level = minimal, no replica possible"; exit 0; }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
db=reco_replica
reco_scratch_db $db

# --- the standby ---------------------------------------------------------------------------
standby=$(mktemp -d /tmp/reco-pgtest-replica.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$standby"
chmod 700 "$standby"
standby_port=$((40000 + ($$ % 20000)))
reco_on_exit "reco_as_pg $(reco_pg_bindir)/pg_ctl -D $standby/data -m immediate -w stop; rm -rf $standby"
reco_as_pg "$(reco_pg_bindir)/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$standby/data" -R -X stream -c fast \
    || reco_fail "pg_basebackup failed"
printf '%s\n' "port = $standby_port" "unix_socket_directories = '$standby'" "hot_standby = on" \
    | reco_as_pg tee -a "$standby/data/postgresql.conf" >/dev/null
reco_as_pg "$(reco_pg_bindir)/pg_ctl" -D "$standby/data" -l "$standby/server.log" -w -t 60 start >/dev/null \
    || reco_fail "the standby did not start: $(tail -20 "$standby/server.log")"
# Runs reco_sql against the standby.
standby_sql() { PGHOST=$standby PGPORT=$standby_port reco_sql "$@"; }
[ "$(standby_sql postgres -c "SELECT pg_is_in_recovery()")" = t ] || reco_fail "the standby is not in recovery"
echo "ok: a streaming standby of $PGHOST:$PGPORT runs on $standby port $standby_port"

# Succeeds once the standby has replayed WAL up to LSN $1.
replayed() { [ "$(standby_sql postgres -c "SELECT pg_last_wal_replay_lsn() >= '$1'::pg_lsn" 2>/dev/null)" = t ]; }
# Waits until the standby has replayed everything the primary has written so far: up to the
# WAL insert position, not pg_current_wal_lsn (the write position), which the harness's
# synchronous_commit = off leaves behind the last commit records until the WAL writer runs.
wait_for_replay() {
    local lsn
    lsn=$(reco_sql postgres -c "SELECT pg_current_wal_insert_lsn()")
    reco_wait_until 60 "the standby to replay up to $lsn" replayed "$lsn"
}

# --- 1. models on the primary, the same answers on the standby --------------------------------
small="factors => 8, iterations => 4, regularization => 1"
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 60 AS item_id
          FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j" \
    -c "CREATE TABLE text_orders AS SELECT 'c' || user_id AS customer, 'p' || item_id AS product FROM orders" \
    -c "SELECT reco.train('shop', 'orders', $small)" \
    -c "SELECT reco.train('tshop', 'text_orders', user_col => 'customer', item_col => 'product', $small)" \
    -c "SELECT count(*) FROM reco.segment_users('shop', 3)" >/dev/null
# Every serving function's answers, each score as its float4 bits (one line per function).
answers="$(reco_answers_query shop)
UNION ALL
SELECT string_agg(format('%s:%s:%s', u, e.item_id, encode(float4send(e.contribution), 'hex')), ' ' ORDER BY u, e.contribution DESC, e.item_id)
  FROM generate_series(1, 20) AS u, LATERAL reco.recommend('shop', u, 1) AS r, LATERAL reco.explain('shop', u, r.item_id, 3) AS e
UNION ALL
SELECT string_agg(format('%s:%s:%s:%s', a.user_id, a.rank, a.item_id, encode(float4send(a.score), 'hex')), ' ' ORDER BY a.user_id, a.rank)
  FROM reco.recommend_all('shop', 5) AS a
UNION ALL
SELECT string_agg(format('%s:%s:%s', u, r.item_id, encode(float4send(r.score), 'hex')), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 30) AS u, LATERAL reco.recommend('shop', u, 5) AS r
UNION ALL
SELECT string_agg(format('%s:%s', s.user_id, encode(float4send(s.similarity), 'hex')), ' ' ORDER BY s.similarity DESC, s.user_id)
  FROM reco.similar_users('shop', 4, 5) AS s
UNION ALL
SELECT string_agg(format('%s:%s:%s:%s', u, x.item_id, encode(float4send(x.score), 'hex'), x.explored), ' ' ORDER BY u, x.score DESC, x.item_id)
  FROM generate_series(1, 10) AS u, LATERAL reco.explore('shop', u, 5, seed => 3) AS x
UNION ALL
SELECT string_agg(format('%s:%s:%s', g, t.item_id, encode(float4send(t.score), 'hex')), ' ' ORDER BY g, t.score DESC, t.item_id)
  FROM generate_series(1, 3) AS g, LATERAL reco.segment_top_items('shop', g, 3) AS t
UNION ALL
SELECT string_agg(format('%s:%s:%s', u, r.item_id, encode(float4send(r.score), 'hex')), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM (SELECT 'c' || i AS u FROM generate_series(1, 20) AS i) AS c, LATERAL reco.recommend('tshop', c.u, 5) AS r
UNION ALL
SELECT string_agg(format('%s:%s', s.item_id, encode(float4send(s.similarity), 'hex')), ' ' ORDER BY s.similarity DESC, s.item_id)
  FROM reco.similar_items('tshop', 'p3', 5) AS s;"
# Fails unless the standby answers as the primary does ($1: when), in a new session and in
# the long-lived standby session S.
check_same_answers() {
    local primary fresh cached
    primary=$(reco_sql $db -c "$answers")
    [ "$(echo "$primary" | wc -l)" = 11 ] && ! grep -q '^$' <<< "$primary" \
        || reco_fail "the primary's answers are incomplete ($1): $(echo "$primary" | cut -c1-80)"
    fresh=$(standby_sql $db -c "$answers")
    [ "$fresh" = "$primary" ] || reco_fail "a new standby session answers differently $1: $(diff <(echo "$primary") <(echo "$fresh") | head -5)"
    cached=$(reco_session_query S "$answers")
    [ "$cached" = "$primary" ] || reco_fail "the standby session S answers differently $1: $(diff <(echo "$primary") <(echo "$cached") | head -5)"
    echo "ok: $1: the standby's $(echo "$primary" | wc -w) answers equal the primary's, bit for bit"
}
wait_for_replay
PGHOST=$standby PGPORT=$standby_port reco_session_start S $db
check_same_answers "after the first training"
[ "$(reco_session_query S "SELECT count(*) > 0 FROM reco.cache_info();")" = t ] || reco_fail "session S cached nothing"
before=$(reco_sql $db -c "$answers")

# --- 2. a retrain and a forget_user on the primary reach the standby ---------------------------
reco_sql $db -c "INSERT INTO orders SELECT u, (u * 11 + j) % 70 FROM generate_series(1, 250) AS u, generate_series(1, 3) AS j" \
    -c "SELECT reco.train('shop', 'orders', $small, seed => 7)" \
    -c "SELECT reco.forget_user(5, 'shop')" \
    -c "SELECT count(*) FROM reco.segment_users('shop', 3)" >/dev/null
[ "$(reco_sql $db -c "$answers")" != "$before" ] || reco_fail "the retrain changed no answer"
wait_for_replay
check_same_answers "after a retrain and a forget_user"
[ "$(standby_sql $db -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models WHERE name = 'shop'")" = 1,2 ] \
    || reco_fail "the standby does not see versions 1 and 2 of shop"

# --- 3. the standby refuses every change, with 25006 -----------------------------------------
# Prints the SQLSTATE and message of the error the standby gives for the SQL $1.
standby_error() {
    PGHOST=$standby PGPORT=$standby_port psql -X -q -At -v VERBOSITY=verbose -d $db -c "$1" 2>&1 \
        | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)/\1 \2/p' || true
}
refusal="25006 cannot change reco's models on a standby server"
for sql in "SELECT reco.train('shop', 'orders', $small)" \
           "SELECT reco.fit('shop', user_id, item_id, 1) FROM orders" \
           "SELECT reco.refresh_users('shop', ARRAY[1, 2]::bigint[])" \
           "SELECT count(*) FROM reco.segment_users('shop', 2)"; do
    got=$(standby_error "$sql")
    [ "$got" = "$refusal" ] || reco_fail "on the standby, $sql gives '$got', want '$refusal'"
done
hint=$(PGHOST=$standby PGPORT=$standby_port psql -X -q -d $db -c "SELECT reco.train('shop', 'orders')" 2>&1 | sed -n 's/^HINT:  //p' || true)
[ "$hint" = "Train, refresh and segment on the primary; the new rows reach the standby by replication." ] \
    || reco_fail "the standby's training refusal has the hint '$hint'"
echo "ok: on the standby, train, fit, refresh_users and segment_users fail at once: $refusal"
for sql in "SELECT reco.forget_user(1)" "SELECT reco.drop_model('shop')"; do
    got=$(standby_error "$sql")
    case "$got" in
        "25006 cannot execute "*" in a read-only transaction") ;;
        *) reco_fail "on the standby, $sql gives '$got', want 25006" ;;
    esac
done
echo "ok: on the standby, forget_user and drop_model fail with 25006"
check_same_answers "after the refused changes"
# pg_cron's scheduler starts only once recovery is over: none on the standby
launchers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
if [ "$(reco_sql postgres -c "$launchers")" = 1 ]; then
    [ "$(standby_sql postgres -c "$launchers")" = 0 ] || reco_fail "pg_cron's scheduler runs on the standby"
    echo "ok: pg_cron's scheduler runs on the primary, not on the standby"
fi
reco_session_close S || reco_fail "session S failed: $(cat "$(reco_session_out S)")"
