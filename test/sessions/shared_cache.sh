#!/usr/bin/env bash
# shared_cache.sh — one shared copy of a served model (reco in shared_preload_libraries):
# several backends serving the same model map one copy, and their answers equal the
# per-backend (unshared) answers bit for bit, also from a parallel worker; a retrain is
# served at once and replaces the old version's copy; forget_user makes a new users copy;
# an item placed from features (place_item) is served at once from a new items copy;
# the privilege on the factor table is checked on every use of a copy; a dropped or
# pruned version's copies are unpublished at the commit (not on a rollback), and a backend
# serving it meanwhile (inside a statement, or a transaction) keeps its answers; eviction
# under a small reco.shared_cache_size (one copy at a
# time, two sessions thrashing it concurrently still answer right; a model larger than
# the budget is served per backend with one warning); and a backend terminated or killed
# (kill -9: crash restart) while building a copy leaves nothing published and a usable
# server; a copy larger than its norm head (3000 items) answers as per backend.
#
# Run: bash test/sessions/shared_cache.sh. It starts its own throwaway cluster with
# shared_preload_libraries = 'reco' (the installed reco; the harness's cluster is not
# preloaded), on a port of its own, and stops and removes it on exit. Needs initdb and
# pg_ctl (pg_config --bindir) and the right to signal the server (root or its owner).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
. "$(dirname "$0")/../lib/cluster.sh"

bindir=$(reco_pg_bindir)
base=$(mktemp -d /tmp/reco-shm-test.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$base"
port=$((30000 + $$ % 10000))
reco_on_exit "reco_as_pg $bindir/pg_ctl -D $base/data -m immediate -w stop; rm -rf $base"
reco_as_pg "$bindir/initdb" -D "$base/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
    reco_fail "initdb failed: $(cat "$base/initdb.log")"
cat >>"$base/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$base'
port = $port
shared_preload_libraries = 'reco'
fsync = off
synchronous_commit = off
shared_buffers = 64MB
log_min_messages = warning
max_parallel_workers_per_gather = 2
EOF
# The server must not inherit this script's descriptors (a caller's lock file among them).
(
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
    done
    reco_as_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 start >/dev/null
) || reco_fail "the preloaded cluster did not start: $(cat "$base/server.log")"
export PGHOST=$base PGPORT=$port PGUSER=postgres PGDATABASE=postgres

db=reco_shm
reco_scratch_db $db
small="factors => 16, iterations => 3, regularization => 1"
reco_sql $db >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION reco;
-- 3000 users, 400 items; the same with text ids; 3000 items for the model too large for a small budget
CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j * 13) % 400 AS item_id
  FROM generate_series(1, 3000) AS u, generate_series(1, 10) AS j;
CREATE TABLE torders AS SELECT 'cust-' || user_id AS user_id, 'sku-' || item_id AS item_id FROM orders;
CREATE TABLE horders AS SELECT u AS user_id, (u * 11 + j * 17) % 3000 AS item_id
  FROM generate_series(1, 3000) AS u, generate_series(1, 6) AS j;
SELECT reco.train('shop', 'orders', $small);
SELECT reco.train('tshop', 'torders', $small);
SELECT reco.train(m, 'orders', factors => 16, iterations => 2, regularization => r)
  FROM (VALUES ('a', 2), ('b', 3)) AS v(m, r);
SELECT reco.train('huge', 'horders', $small);
SQL

# What is compared: recommend, similar_items, a cart (reco_answers_query), similar_users,
# and the text model's recommend and similar_items (its keys live in the copy too).
text_answers() {
    cat <<SQL
SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 20) AS u, LATERAL reco.recommend('tshop', 'cust-' || u, 5) AS r
UNION ALL
SELECT string_agg(format('%s:%s', s.item_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.item_id)
  FROM reco.similar_items('tshop', 'sku-3', 5) AS s
UNION ALL
SELECT string_agg(format('%s:%s', s.user_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.user_id)
  FROM reco.similar_users('tshop', 'cust-9', 5) AS s
SQL
}
answers_of() {
    reco_answers_query "$1"
    cat <<SQL
UNION ALL
SELECT string_agg(format('%s:%s', s.user_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.user_id)
  FROM reco.similar_users('$1', 7, 5) AS s
UNION ALL
$(text_answers);
SQL
}
registry="SELECT coalesce(string_agg(format('%s v%s %s %s', model, version, side, items), ', '
                                     ORDER BY model, version, side), '') FROM reco.shared_cache_info()"

# Fails, saying $2, unless the registry lists exactly $1.
registry_is() {
    local got
    got=$(reco_sql $db -c "$registry")
    [ "$got" = "$1" ] || reco_fail "$2: the registry holds: $got"
}

# Fails, saying $2, unless sessions s$3, s$4... answer q_shop with $1.
sessions_answer() {
    local want=$1 what=$2 i got
    shift 2
    for i in "$@"; do
        got=$(reco_session_query "s$i" "$q_shop")
        [ "$got" = "$want" ] || reco_fail "session s$i: $what"
    done
}

# Sets reco.shared_cache_size to $1 ('' resets it) server-wide and waits until a new
# session sees $2.
set_budget() {
    if [ -z "$1" ]; then
        reco_sql $db -c "ALTER SYSTEM RESET reco.shared_cache_size" -c "SELECT pg_reload_conf()" >/dev/null
    else
        reco_sql $db -c "ALTER SYSTEM SET reco.shared_cache_size = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    reco_wait_until 30 "reco.shared_cache_size = $2" reco_sql_equals $db "SHOW reco.shared_cache_size" "$2"
}

# Prints the answers of query $1 served per backend (sharing off), then turns sharing on.
unshared() {
    local out
    set_budget 0 0
    out=$(reco_sql $db -c "$1")
    set_budget '' 1GB
    echo "$out"
}

# 1. Six backends serve the same models: one copy per version side, the unshared answers.
q_shop=$(answers_of shop)
want=$(unshared "$q_shop")
registry_is "" "before serving"
for i in 1 2 3 4 5 6; do
    reco_session_start "s$i" $db
done
sessions_answer "$want" "the shared answers differ from the unshared ones" 1 2 3 4 5 6
registry_is "shop v1 items 400, shop v1 users 3000, tshop v1 items 400, tshop v1 users 3000" "six sessions"
got=$(reco_sql $db -c "SELECT hits >= 6 FROM reco.shared_cache_info() WHERE model = 'shop' AND side = 'items'")
[ "$got" = t ] || reco_fail "the shop items copy was not used by every session"
for i in 1 2 3 4 5 6; do
    got=$(reco_session_query "s$i" "SELECT string_agg(side, ',' ORDER BY side) FROM reco.shared_cache_info() WHERE mapped;")
    [ "$got" = "items,items,users,users" ] || reco_fail "session s$i does not map the copies: $got"
done
# a parallel worker maps the same copy
# (a parallel plan may return the UNION ALL's rows in another order: compare them sorted)
got=$(reco_sql $db -c "SET force_parallel_mode = on" -c "SET parallel_setup_cost = 0" -c "$q_shop" | sort)
[ "$got" = "$(sort <<<"$want")" ] || reco_fail "a parallel worker's answers differ from the unshared ones"
registry_is "shop v1 items 400, shop v1 users 3000, tshop v1 items 400, tshop v1 users 3000" "after the parallel worker"
echo "ok: 6 sessions and a parallel worker, one copy per version side, unshared answers"

# 2. A retrain while the sessions map version 1: their next call serves version 2, and
#    the version 1 copies are swept when version 2's are published.
reco_sql $db -c "SET client_min_messages = warning" -c "SELECT reco.train('shop', 'orders', factors => 16, iterations => 4, regularization => 1)" >/dev/null
want2=$(unshared "$q_shop")
[ "$want2" != "$want" ] || reco_fail "the retrain did not change the answers"
sessions_answer "$want2" "does not serve the retrained version at once" 1 2 3
registry_is "shop v2 items 400, shop v2 users 3000, tshop v1 items 400, tshop v1 users 3000" "after the retrain"
# and the sessions let their mappings of the unpublished version 1 go (an entry of an old
# version is never looked up again: kept, it would hold the segment, outside any budget,
# for the backend's life, one more per retrain)
for i in 1 2 3; do
    got=$(reco_session_query "s$i" "SELECT count(*) FROM reco.cache_info() AS c JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop' AND m.version = 1;")
    [ "$got" = 0 ] || reco_fail "session s$i still maps $got copies of the replaced version 1"
done
echo "ok: retrain served at once, the old version's copies swept and unmapped"

# 3. forget_user: a new users copy (one row fewer), the unshared answers.
reco_sql $db -c "SELECT reco.forget_user(2500::bigint, 'shop')" >/dev/null
got=$(reco_sql $db -c "SELECT string_agg(format('%s %s', side, items), ', ' ORDER BY side) FROM reco.shared_cache_info() WHERE model = 'shop'")
[ "$got" = "items 400" ] || reco_fail "forget_user's commit did not unpublish the old users copy (only): $got"
q_sim="SELECT string_agg(format('%s:%s', s.user_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.user_id) FROM reco.similar_users('shop', 8, 10) AS s;"
want_sim=$(unshared "$q_sim")
got=$(reco_session_query s4 "$q_sim")
[ "$got" = "$want_sim" ] || reco_fail "after forget_user the shared similar_users differs from the unshared"
got=$(reco_sql $db -c "SELECT string_agg(format('%s %s', side, items), ', ' ORDER BY side) FROM reco.shared_cache_info() WHERE model = 'shop'")
[ "$got" = "items 400, users 2999" ] || reco_fail "after forget_user: $got"
want2=$(unshared "$q_shop")
echo "ok: forget_user served from a new users copy"

# 3b. place_item (0.7.0): an item placed from features is served at once by sessions that
#     map the items copy (a new generation: a new copy, one item more), with the unshared
#     answers, and include_new => false leaves it out there too.
for i in 5 6; do
    reco_session_query "s$i" "$q_shop" >/dev/null   # s5 and s6 map the current items copy
done
reco_sql $db >/dev/null <<'SQL'
INSERT INTO reco.feature_weights
SELECT model_id, 'item', '', 'intercept', reco.to_bytea(array_fill(0.5::real, ARRAY[factors]))
  FROM reco.models WHERE name = 'shop' ORDER BY version DESC LIMIT 1;
SELECT reco.place_item('shop', 5000, '{}');
SQL
q_new="SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 20) AS u, LATERAL reco.recommend('shop', u, 5) AS r
UNION ALL
SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 20) AS u, LATERAL reco.recommend('shop', u, 5, include_new => false) AS r
UNION ALL
SELECT string_agg(format('%s:%s', s.item_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.item_id)
  FROM reco.similar_items('shop', 5000, 5) AS s;"
want_new=$(unshared "$q_new")
[ "$(head -1 <<<"$want_new" | grep -c ':5000:')" = 1 ] || reco_fail "the placed item is not recommended: $want_new"
[ "$(sed -n 2p <<<"$want_new" | grep -c ':5000:')" = 0 ] || reco_fail "include_new => false served the placed item"
for i in 5 6; do
    got=$(reco_session_query "s$i" "$q_new")
    [ "$got" = "$want_new" ] || reco_fail "session s$i does not serve the placed item at once: $got"
done
got=$(reco_sql $db -c "SELECT items FROM reco.shared_cache_info() WHERE model = 'shop' AND side = 'items'")
[ "$got" = 401 ] || reco_fail "after place_item the shared items copy holds $got items"
want2=$(unshared "$q_shop")
echo "ok: place_item served at once from a new items copy; include_new => false leaves it out"

# 4. The privilege is checked on every use of a copy, mapped or not (42501).
reco_sql $db -c "CREATE ROLE shm_reader" \
    -c "GRANT USAGE ON SCHEMA reco TO shm_reader" \
    -c "GRANT SELECT ON reco.models, reco.user_factors TO shm_reader" >/dev/null
reco_on_exit "reco_sql $db -c 'DROP OWNED BY shm_reader' -c 'DROP ROLE shm_reader'"
got=$(psql -X -q -At -d $db 2>&1 <<'SQL' || true
\set VERBOSITY sqlstate
SELECT count(*) FROM reco.recommend('shop', 1, 5);
SET ROLE shm_reader;
SELECT count(*) FROM reco.recommend('shop', 1, 5);
SQL
)
[ "$got" = "5
ERROR:  42501" ] || reco_fail "a mapped copy served a role without SELECT on item_factors: $got"
got=$(psql -X -q -At -d $db -c '\set VERBOSITY sqlstate' -c "SET ROLE shm_reader" -c "SELECT count(*) FROM reco.recommend('tshop', 'cust-1', 5)" 2>&1 || true)
[ "$got" = "ERROR:  42501" ] || reco_fail "a published copy served a role without SELECT on item_factors: $got"
# a role that may not serve does not unpublish the copies with cache_reset, and a role
# that may not read reco.models does not see them (42501)
before=$(reco_sql $db -c "$registry")
reco_sql $db -c "SET ROLE shm_reader" -c "SELECT reco.cache_reset()" >/dev/null
registry_is "$before" "after cache_reset by a role that may not serve"
reco_sql $db -c "CREATE ROLE shm_none" -c "GRANT USAGE ON SCHEMA reco TO shm_none" >/dev/null
reco_on_exit "reco_sql $db -c 'DROP OWNED BY shm_none' -c 'DROP ROLE shm_none'"
got=$(psql -X -q -At -d $db -c '\set VERBOSITY sqlstate' -c "SET ROLE shm_none" -c "SELECT count(*) FROM reco.shared_cache_info()" 2>&1 || true)
[ "$got" = "ERROR:  42501" ] || reco_fail "shared_cache_info for a role without SELECT on reco.models: $got"
echo "ok: privilege checked on every use (42501)"

# 5. Drop: the copies are unpublished when the drop commits (no publish needed), not when
#    it rolls back (whole or to a savepoint).  s6 is inside a statement serving shop
#    (blocked between two calls) when the drop commits: the statement finishes with the
#    answers of its snapshot, and its next statement finds the model gone (42704); s5
#    serves shop in a repeatable-read transaction begun before the drop: same answers
#    until it commits.
before=$(reco_sql $db -c "$registry")
rest=$(reco_sql $db -c "SELECT coalesce(string_agg(format('%s v%s %s %s', model, version, side, items), ', '
                                     ORDER BY model, version, side), '') FROM reco.shared_cache_info() WHERE model <> 'shop'")
[ "$before" != "$rest" ] || reco_fail "shop has no shared copy before the drop: $before"
reco_sql $db -c "BEGIN" -c "SELECT reco.drop_model('shop')" -c "ROLLBACK" >/dev/null
registry_is "$before" "a rolled-back drop unpublished copies"
reco_sql $db -c "BEGIN" -c "SAVEPOINT p" -c "SELECT reco.drop_model('shop')" -c "ROLLBACK TO SAVEPOINT p" -c "COMMIT" >/dev/null
registry_is "$before" "a drop rolled back to a savepoint unpublished copies"
reco_session_query s5 "BEGIN ISOLATION LEVEL REPEATABLE READ;" >/dev/null
got=$(reco_session_query s5 "$q_shop")
[ "$got" = "$want2" ] || reco_fail "s5's answers before the drop"
# s6's statement serves users 1-10, then waits for an advisory lock held by "locker", then 11-20
q_long="SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 20) AS u,
       LATERAL (SELECT CASE WHEN u = 11 THEN pg_advisory_lock_shared(18018) END) AS w,
       LATERAL reco.recommend('shop', u, 5) AS r;"
want_long=$(reco_sql $db -c "$q_long")
reco_session_start locker $db
reco_session_query locker "SELECT pg_advisory_lock(18018);" >/dev/null
pid=$(reco_session_backend_pid s6)
reco_session_send s6 "\\echo long-begin
$q_long
\\echo long-end"
reco_wait_until 30 "s6 to wait between two calls" \
    reco_sql_equals $db "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid" Lock
reco_sql $db -c "SELECT reco.drop_model('shop')" >/dev/null
registry_is "$rest" "the dropped model's copies are still published after the commit"
reco_session_query locker "SELECT pg_advisory_unlock(18018);" >/dev/null
reco_session_close locker
reco_session_wait s6 "^long-end$" 60
[ "$(sed -n '/^long-begin$/,/^long-end$/p' "$(reco_session_out s6)" | sed '1d;$d')" = "$want_long" ] ||
    reco_fail "s6's statement answered wrong across the drop: $(cat "$(reco_session_out s6)")"
got=$(reco_session_query s6 "\\set VERBOSITY sqlstate
\\set ON_ERROR_STOP 0
SELECT count(*) FROM reco.recommend('shop', 1, 5);
\\set ON_ERROR_STOP 1")
[ "$got" = "ERROR:  42704" ] || reco_fail "s6's next statement still serves the dropped model: $got"
got=$(reco_session_query s5 "$q_shop")
[ "$got" = "$want2" ] || reco_fail "s5's answers changed when the model was dropped during its transaction"
reco_session_query s5 "COMMIT;" >/dev/null
got=$(psql -X -q -At -d $db -c '\set VERBOSITY sqlstate' -c "SELECT count(*) FROM reco.recommend('shop', 1, 5)" 2>&1 || true)
[ "$got" = "ERROR:  42704" ] || reco_fail "the dropped model is still served: $got"
# (s5's and s6's snapshots still saw the model, so they published it again; the next publish sweeps it)
reco_sql $db -c "SELECT count(*) FROM reco.recommend('a', 1, 5)" >/dev/null
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model = 'shop'")
[ "$got" = 0 ] || reco_fail "the dropped model's copies were not swept after the transaction"
# pruning: a retrain with keep_versions 1 deletes version 1 of 'pr'; its copy goes at that commit
reco_sql $db -c "SET client_min_messages = warning" -c "SELECT reco.train('pr', 'orders', $small)" \
    -c "SELECT count(*) FROM reco.recommend('pr', 1, 5)" >/dev/null
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model = 'pr'")
[ "$got" = 1 ] || reco_fail "pr version 1 was not published: $got"
reco_sql $db -c "SET client_min_messages = warning" \
    -c "SELECT reco.train('pr', 'orders', factors => 16, iterations => 2, regularization => 2, keep_versions => 1)" >/dev/null
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model = 'pr'")
[ "$got" = 0 ] || reco_fail "the pruned version's copy is still published"
reco_sql $db -c "SELECT reco.drop_model('pr')" >/dev/null
for i in 1 2 3 4 5 6; do
    reco_session_close "s$i"
done
echo "ok: drop and pruning unpublish at commit (not on rollback); a backend serving it keeps its answers"

# 6. Eviction under a small budget: room for one copy of a or b (same size), not both.
bytes=$(reco_sql $db -c "SELECT bytes FROM reco.shared_cache_info() WHERE model = 'a' AND side = 'items'")
budget_kb=$(((bytes * 3 / 2 + 1023) / 1024))
q_a="SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id) FROM generate_series(1, 40) AS u, LATERAL reco.recommend('a', u, 5) AS r"
q_b=${q_a//\'a\'/\'b\'}
want_a=$(unshared "$q_a")
want_b=$(unshared "$q_b")
set_budget "${budget_kb}kB" "${budget_kb}kB"
reco_sql $db -c "SELECT reco.cache_reset()" >/dev/null
got=$(reco_sql $db -c "$q_a" -c "$registry" -c "$q_b" -c "$registry")
[ "$got" = "$want_a
a v1 items 400
$want_b
b v1 items 400" ] || reco_fail "under a ${budget_kb} kB budget: $got"
# two sessions thrash the budget concurrently (evicting the copy the other is using)
loop="SELECT md5(string_agg(x, '/' ORDER BY i)) FROM generate_series(1, 30) AS i,
        LATERAL (SELECT CASE WHEN i % 2 = 0 THEN ($q_a) ELSE ($q_b) END AS x) AS y;"
want_loop=$(reco_sql $db -c "$loop")
reco_session_start t1 $db
reco_session_start t2 $db
reco_session_send t1 "$loop"
reco_session_send t2 "${loop//i % 2 = 0/i % 2 = 1}"
want_loop2=$(reco_sql $db -c "${loop//i % 2 = 0/i % 2 = 1}")
reco_session_wait t1 '^[0-9a-f]{32}$' 120
reco_session_wait t2 '^[0-9a-f]{32}$' 120
[ "$(cat "$(reco_session_out t1)")" = "$want_loop" ] || reco_fail "t1 answered wrong while thrashing: $(cat "$(reco_session_out t1)")"
[ "$(cat "$(reco_session_out t2)")" = "$want_loop2" ] || reco_fail "t2 answered wrong while thrashing: $(cat "$(reco_session_out t2)")"
reco_session_close t1
reco_session_close t2
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model IN ('a', 'b')")
[ "$got" = 1 ] || reco_fail "the budget holds one copy, not $got"
# a model larger than the whole budget: served per backend, one warning per backend
got=$(psql -X -q -At -d $db -c "SELECT count(*) FROM reco.recommend('huge', 1, 5)" -c "SELECT count(*) FROM reco.recommend('huge', 2, 5)" 2>&1)
[ "$(grep -c 'does not fit reco.shared_cache_size' <<<"$got")" = 1 ] || reco_fail "the too-large warning: $got"
[ "$(grep -c '^5$' <<<"$got")" = 2 ] || reco_fail "the too-large model was not served: $got"
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model = 'huge'")
[ "$got" = 0 ] || reco_fail "a model larger than the budget was published"
set_budget '' 1GB
echo "ok: eviction under a ${budget_kb} kB budget"

# 7. A backend terminated while it builds a copy (blocked reading item_factors, which
#    another session has locked) publishes nothing; then the same with kill -9 (crash
#    restart: the registry is reinitialised); both times the server serves right after.
reco_sql $db -c "SELECT reco.cache_reset()" >/dev/null
q_t="$(text_answers);"
want_t=$(unshared "$q_t")
registry_is "" "after cache_reset"
# Succeeds once the server answers with a checkpointer other than $1 (it has restarted).
restarted_since() {
    local now
    now=$(reco_sql $db -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" 2>/dev/null) || return 1
    [ -n "$now" ] && [ "$now" != "$1" ]
}
for how in terminate kill; do
    reco_session_start locker $db
    reco_session_query locker "BEGIN; LOCK TABLE reco.item_factors IN ACCESS EXCLUSIVE MODE;" >/dev/null
    reco_session_start builder $db
    pid=$(reco_session_backend_pid builder)
    reco_session_send builder "SELECT count(*) FROM reco.recommend('tshop', 'cust-1', 5);"
    reco_wait_until 30 "backend $pid to wait for the lock while building" \
        reco_sql_equals $db "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid" Lock
    if [ $how = terminate ]; then
        reco_sql $db -c "SELECT pg_terminate_backend($pid)" >/dev/null
        reco_wait_until 30 "backend $pid to end" reco_backend_gone $db "$pid"
        registry_is "" "after a terminated build"
        reco_session_query locker "ROLLBACK;" >/dev/null
        reco_session_close locker
    else
        checkpointer=$(reco_sql $db -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
        kill -KILL "$pid"
        reco_wait_until 120 "the server to restart after kill -9" restarted_since "$checkpointer"
        registry_is "" "after the crash restart"
        reco_session_close locker || true
    fi
    reco_session_close builder || true
    got=$(reco_sql $db -c "$q_t")
    [ "$got" = "$want_t" ] || reco_fail "after the $how during a build the answers differ"
    registry_is "tshop v1 items 400, tshop v1 users 3000" "after the $how and a new call"
    reco_sql $db -c "SELECT reco.cache_reset()" >/dev/null
    echo "ok: $how during a build publishes nothing"
done
# 8. The norm head (RECO_SHARED_NORM_HEAD_ROWS, 2048): a shared item copy keeps its first
#    2048 rows in norm order a second time, contiguous, and a scan reads them there.  huge
#    has 3000 items, so recommend over the whole catalogue (n 3000) scores tiles inside the
#    head and past it; with n 5, diversity and exclude_seen off too, new backends (fresh
#    mappings of the published copy) answer as per backend, bit for bit.  A shared bigint
#    copy drops the excluded ids from the best n + e (RECO_LAZY_EXCLUDE_MAX_IDS, 256):
#    exclude lists of 231 ids (+ the seen ones) and of 429 (past the limit: excluded in
#    the scan), ids the model lacks and duplicates, n past the catalogue and the text form
#    answer as per backend too.
q_head="SELECT md5(string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id))
  FROM generate_series(1, 25) AS u, LATERAL reco.recommend('huge', u, 5) AS r
UNION ALL
SELECT md5(string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id))
  FROM generate_series(1, 4) AS u, LATERAL reco.recommend('huge', u, 3000, exclude_seen => false) AS r
UNION ALL
SELECT md5(string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id))
  FROM generate_series(1, 10) AS u, LATERAL reco.recommend('huge', u, 8, diversity => 0.5) AS r
UNION ALL
SELECT md5(string_agg(format('%s:%s:%s:%s', u, x, r.item_id, r.score), ' ' ORDER BY u, x, r.score DESC, r.item_id))
  FROM generate_series(1, 12) AS u,
       (VALUES (1, ARRAY(SELECT g::bigint FROM generate_series(0, 2999, 13) AS g)),
               (2, ARRAY(SELECT g::bigint FROM generate_series(0, 2999, 7) AS g)),
               (3, ARRAY[-1, 99999, 5, 5]::bigint[])) AS e(x, ids),
       LATERAL reco.recommend('huge', u, 10, exclude => e.ids) AS r
UNION ALL
SELECT md5(string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id))
  FROM generate_series(1, 3) AS u, LATERAL reco.recommend('huge', u, 3000) AS r
UNION ALL
SELECT md5(string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id))
  FROM generate_series(1, 8) AS u, LATERAL reco.recommend('huge', u::text, 6) AS r;"
want_head=$(unshared "$q_head")
reco_sql $db -c "SELECT count(*) FROM reco.recommend('huge', 1, 5)" >/dev/null   # publishes the copy
got=$(reco_sql $db -c "SELECT count(*) FROM reco.shared_cache_info() WHERE model = 'huge' AND side = 'items'")
[ "$got" = 1 ] || reco_fail "huge's items copy was not published"
for i in 1 2; do
    got=$(reco_sql $db -c "$q_head")
    [ "$got" = "$want_head" ] || reco_fail "a new backend's answers over the norm head differ from the unshared ones (try $i)"
done
echo "ok: the norm head of a 3000-item copy, answers as per backend"

echo "shared_cache: all checks passed"
