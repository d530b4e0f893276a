#!/usr/bin/env bash
# realtime.sh — the README's real-time recipe ("Real-time recommendations"), end to end:
# its SQL blocks are read from README.md and run as written (the job's database argument
# 'shop' becomes this test's database) on a small shop of the demo's shape (schema shop:
# orders, order_lines; model 'shop' trained by reco.train from their join).
#
#   A. pg_cron: an order is placed and the drain job is scheduled; within the next minute
#      (pg_cron 1.4 schedules by the minute: polled up to 80 s) the customer's
#      recommendations change, to exactly the fold-in of their whole history, while a
#      long-lived session serves recommend / similar_items in a loop.
#   B. A training and a drain at the same time, driven by hand (deterministic):
#      1. the training has read its rows and waits for the model's lock, which a drain
#         holds; an order commits and the drain refreshes it on the old version; the
#         training stores the next version without the order. The queue keeps the entry,
#         and the next drain refreshes it on the new version (no update lost);
#      2. a training has stored (uncommitted, holding the lock) when a drain starts: the
#         drain waits, then refreshes the version the training stored and deletes the
#         entries that training read.
#      Neither deadlocks (every session ends without an error).
#   C. forget_user on refreshed versions: a customer refreshed into the newest version is
#      forgotten from both versions; the next drain sees their queued id with no row left
#      and skips it (nothing removed, n_users unchanged); the same for a customer added by
#      a refresh (one version). And a training that read before a forget_user and stored
#      after it (its version has the customer again): the next drain removes the customer.
# The serving loop must run the whole time without a single error.
#
# Run: bash test/sessions/realtime.sh (pg_cron in shared_preload_libraries with
# cron.use_background_workers = on, e.g. the harness's cluster). It creates and drops its
# own database reco_rt_test; in pg_cron's database (cron.database_name) it creates the job
# reco-shop-drain (and pg_cron if missing) and removes them.
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
readme="$(cd "$(dirname "$0")/../.." && pwd)/README.md"
cron_db=$(psql -X -At -c "SHOW cron.database_name" 2>/dev/null) \
    || reco_fail "pg_cron is not loaded (shared_preload_libraries = 'pg_cron' is needed)"
db=reco_rt_test
job=reco-shop-drain
work=$(mktemp -d)
reco_on_exit "rm -rf $work"

# --- the README's blocks of the section: 1 the recipe, 2 by hand on the demo, 3 the job ----
awk -v dir="$work" '
    /^### Real-time recommendations/ { on = 1; next }
    on && /^##/ { on = 0 }
    on && /^```sql/ { n++; inside = 1; next }
    inside && /^```/ { inside = 0; next }
    inside { print > (dir "/block-" n ".sql") }' "$readme"
grep -q 'CREATE FUNCTION shop.reco_drain' "$work/block-1.sql" 2>/dev/null \
    || reco_fail "README.md: the section's first sql block is not the recipe"
grep -q "cron.schedule_in_database('$job'" "$work/block-3.sql" 2>/dev/null \
    || reco_fail "README.md: the section's third sql block does not schedule $job"
sed -i "s/database => 'shop'/database => '$db'/" "$work/block-3.sql"
grep -q "database => '$db'" "$work/block-3.sql" || reco_fail "README.md: the job's database argument is not database => 'shop'"

# --- setup: pg_cron, the shop, its model, the recipe ----------------------------------------
reco_create_extension_here "$cron_db" pg_cron cron
[ "$(reco_sql "$cron_db" -c "SELECT count(*) FROM cron.job WHERE jobname = '$job'")" = 0 ] \
    || reco_fail "$cron_db already has a pg_cron job $job"
reco_on_exit "reco_sql $cron_db -c \"SELECT cron.unschedule('$job')\""
reco_scratch_db "$db"
# 300 customers in 6 groups of 20 products, 3 orders of 3 lines each
reco_sql "$db" -c "CREATE EXTENSION reco" -c "CREATE SCHEMA shop" \
    -c "CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL)" \
    -c "CREATE TABLE shop.order_lines (order_id bigint NOT NULL REFERENCES shop.orders, product_id bigint NOT NULL,
                                       quantity int NOT NULL, price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, product_id))" \
    -c "CREATE INDEX ON shop.orders (customer_id)" \
    -c "INSERT INTO shop.orders SELECT c * 10 + k, c, timestamptz '2026-01-01' + (c * 10 + k) * interval '1 minute'
          FROM generate_series(1, 300) AS c, generate_series(1, 3) AS k" \
    -c "INSERT INTO shop.order_lines
        SELECT o.order_id, ((o.customer_id % 6) * 20 + (o.customer_id * 7 + 3 * j + 5 * (o.order_id % 10)) % 20
                            + CASE WHEN j = 3 AND o.order_id % 10 = 3 THEN 20 ELSE 0 END) % 120, 1 + j % 2, 9.99
          FROM shop.orders AS o, generate_series(1, 3) AS j"
train="SET client_min_messages = warning;
SELECT 'trained|' || (reco.train('shop', \$\$SELECT o.customer_id, l.product_id, l.quantity
                                            FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)\$\$,
                        user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity',
                        factors => 8, iterations => 5, regularization => 1, keep_versions => 2)).version;"
[ "$(reco_sql "$db" -c "$train")" = "trained|1" ] || reco_fail "the first training"
reco_sql "$db" -f "$work/block-1.sql" >/dev/null
echo "ok: the README's recipe (queue, trigger, drain function) created; model shop version 1"

# --- helpers --------------------------------------------------------------------------------
# Customer $1's 5 recommendations with exact scores.
recs_query() {
    echo "SELECT coalesce(string_agg(item_id || ':' || score, ',' ORDER BY score DESC, item_id), '')
            FROM reco.recommend('shop', $1, 5);"
}
recs() { reco_sql "$db" -c "$(recs_query "$1")"; }
# The fold-in (recommend_for_items) of customer $1's whole current history.
foldin() {
    reco_sql "$db" -c "SELECT coalesce(string_agg(r.item_id || ':' || r.score, ',' ORDER BY r.score DESC, r.item_id), '')
        FROM (SELECT array_agg(product_id ORDER BY product_id) AS items, array_agg(w ORDER BY product_id) AS weights
                FROM (SELECT l.product_id, sum(l.quantity)::real AS w
                        FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
                       WHERE o.customer_id = $1 GROUP BY 1) AS h) AS x,
             LATERAL reco.recommend_for_items('shop', x.items, x.weights, 5) AS r"
}
# Customer $1 orders their top 3 recommendations (order id $2), in one transaction.
place_order() {
    reco_sql "$db" -c "BEGIN; INSERT INTO shop.orders VALUES ($2, $1, now());
        INSERT INTO shop.order_lines SELECT $2, item_id, 1, 9.99 FROM reco.recommend('shop', $1, 3); COMMIT;"
}
# The versions customer $1's queued entries were refreshed on ('-': not yet), '' if none.
queued() {
    reco_sql "$db" -c "SELECT coalesce(string_agg(DISTINCT coalesce('v' || m.version, '-'), ','), '')
                         FROM shop.reco_queue AS q LEFT JOIN reco.models AS m USING (model_id)
                        WHERE q.side = 'user' AND q.id = $1"
}
# How many of order $2's products the stored history of customer $1 in version $3 has.
history_has() {
    reco_sql "$db" -c "SELECT count(*) FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id),
                              unnest(f.seen_items) AS s(item)
                        WHERE m.name = 'shop' AND m.version = $3 AND f.user_id = $1
                          AND s.item IN (SELECT product_id FROM shop.order_lines WHERE order_id = $2)"
}
versions="SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models WHERE name = 'shop'"
drain="SELECT concat_ws('|', d.side, d.refreshed, d.added, d.removed, d.skipped) FROM shop.reco_drain() AS d;"
advisory_wait="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid ="

# --- the serving loop: one session, recommend and similar_items, stops at the first error ----
stop="$work/stop"
serve_out="$work/serve.out"
( while [ ! -e "$stop" ]; do
      echo "SELECT 'serve|' || ($(recs_query 7 | tr -d ';'));"
      echo "SELECT 'other|' || count(*) FROM (SELECT item_id FROM reco.recommend('shop', 8, 5)
            UNION ALL SELECT item_id FROM reco.recommend('shop', 9, 5)
            UNION ALL SELECT item_id FROM reco.recommend('shop', 1001, 5)
            UNION ALL SELECT item_id FROM reco.similar_items('shop', 3, 5)) AS s;"
      sleep 0.05
  done ) | psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" >"$serve_out" 2>&1 &
serve_pid=$!
reco_on_exit "touch $stop; kill $serve_pid"

# --- A. an order, drained by pg_cron within the minute ----------------------------------------
before=$(recs 7)
place_order 7 900001
[ "$(queued 7)" = - ] || reco_fail "the order did not queue customer 7: $(queued 7)"
PGOPTIONS="-c client_min_messages=warning" reco_sql "$cron_db" -f "$work/block-3.sql" >/dev/null
job_id=$(reco_sql "$cron_db" -c "SELECT jobid FROM cron.job WHERE jobname = '$job'")
reco_on_exit "reco_sql $cron_db -c 'DELETE FROM cron.job_run_details WHERE jobid = $job_id'"
ordered_at=$(date +%s)
RECO_POLL_SECONDS=0.5 reco_wait_until 80 "customer 7's recommendations to change" \
    eval '[ "$(recs 7)" != "$before" ]'
echo "ok: customer 7's recommendations changed $(($(date +%s) - ordered_at)) s after the order, by the pg_cron job"
after=$(recs 7)
[ "$after" = "$(foldin 7)" ] || reco_fail "customer 7's recommendations are not the fold-in of their history: $after"
[ "$(queued 7)" = v1 ] || reco_fail "customer 7's entries after the job: $(queued 7), want v1 (kept until a training reads them)"
reco_sql "$cron_db" -c "SELECT cron.unschedule('$job')" >/dev/null
reco_wait_until 60 "the job's last run to finish" reco_sql_equals "$cron_db" \
    "SELECT count(*) FROM cron.job_run_details AS d WHERE d.jobid = $job_id AND d.status NOT IN ('succeeded', 'failed')" 0
runs=$(reco_sql "$cron_db" -c "SELECT string_agg(format('%s (%s)', d.status, d.return_message), ', ' ORDER BY d.runid)
                               FROM cron.job_run_details AS d WHERE d.jobid = $job_id")
[ "$(reco_sql "$cron_db" -c "SELECT count(*) > 0 AND bool_and(d.status = 'succeeded')
                               FROM cron.job_run_details AS d WHERE d.jobid = $job_id")" = t ] \
    || reco_fail "the job's runs: $runs"
echo "ok: equal to the fold-in of the whole history; entries kept for version 1; job runs: $runs"
reco_wait_until 10 "the serving session to serve customer 7's new recommendations" \
    eval '[ "$(grep "^serve|" "$serve_out" | tail -1)" = "serve|$after" ]'
echo "ok: the long-lived serving session serves the refreshed answer"

# --- B1. a training reads, a drain refreshes an order on the old version, the training stores --
reco_session_start L "$db"
reco_session_start T "$db"
t_pid=$(reco_session_backend_pid T)
reco_session_query L "BEGIN; SELECT reco.lock_model('shop');" >/dev/null
reco_session_send T "$train"
reco_wait_until 30 "the training to read its rows and wait for the lock" reco_sql_equals "$db" "$advisory_wait $t_pid" 1
place_order 8 900002
got=$(reco_session_query L "$drain")
[ "$got" = "$(printf 'item|3|0|0|0\nuser|1|0|0|0')" ] || reco_fail "the drain beside the training: $got"
reco_session_query L "COMMIT;" >/dev/null
reco_session_wait T '^trained\|2$'
[ "$(history_has 8 900002 1)" = 3 ] || reco_fail "the drain did not refresh customer 8 on version 1"
[ "$(history_has 8 900002 2)" = 0 ] || reco_fail "version 2 has customer 8's order, its training read before it"
[ "$(recs 8)" != "$(foldin 8)" ] || reco_fail "version 2 serves customer 8's order already"
[ "$(queued 8)" = v1 ] || reco_fail "customer 8's entries after version 2: $(queued 8), want v1 (kept)"
echo "ok: a training that read before an order stored version 2 after a drain: the order is not in it, the entry is kept"
[ "$(reco_sql "$db" -c "$drain")" = "$(printf 'item|3|0|0|0\nuser|1|0|0|0')" ] || reco_fail "the drain after version 2"
[ "$(history_has 8 900002 2)" = 3 ] && [ "$(recs 8)" = "$(foldin 8)" ] \
    || reco_fail "the drain after version 2 did not refresh customer 8 on it"
[ "$(queued 7)" = "" ] || reco_fail "customer 7's entries (read by version 2's training): $(queued 7), want none"
[ "$(queued 8)" = v2 ] || reco_fail "customer 8's entries: $(queued 8), want v2"
[ -z "$(reco_sql "$db" -c "$drain")" ] || reco_fail "a drain with nothing new refreshed something"
echo "ok: the next drain refreshed customer 8 on version 2 (= fold-in), deleted customer 7's entries (version 2 read them), kept 8's; a third drain does nothing"

# --- B2. a training has stored, uncommitted; a drain waits for it, then refreshes its version --
[ "$(reco_session_query T "BEGIN; $train")" = "trained|3" ] || reco_fail "the third training"
place_order 9 900003
l_pid=$(reco_session_backend_pid L)
reco_session_send L "\\echo begin-drain
$drain
\\echo end-drain"
reco_wait_until 30 "the drain to wait for the training's lock" reco_sql_equals "$db" "$advisory_wait $l_pid" 1
reco_session_query T "COMMIT;" >/dev/null
reco_session_wait L '^end-drain$'
got=$(sed -n '/^begin-drain$/,/^end-drain$/p' "$(reco_session_out L)" | sed '1d;$d')
[ "$got" = "$(printf 'item|3|0|0|0\nuser|1|0|0|0')" ] || reco_fail "the drain after the training: $got"
[ "$(queued 9)" = v3 ] && [ "$(queued 8)" = "" ] \
    || reco_fail "after the drain: customer 9's entries $(queued 9) (want v3), customer 8's $(queued 8) (want none)"
[ "$(history_has 9 900003 3)" = 3 ] && [ "$(recs 9)" = "$(foldin 9)" ] || reco_fail "customer 9 not refreshed on version 3"
[ "$(reco_sql "$db" -c "$versions")" = "2,3" ] || reco_fail "versions: $(reco_sql "$db" -c "$versions")"
echo "ok: a drain that waited for a training's store refreshed the version it stored (3) and deleted the entries it read"
for s in L T; do
    reco_session_close $s || reco_fail "session $s failed: $(cat "$(reco_session_out $s)")"
    ! grep -q ERROR "$(reco_session_out $s)" || reco_fail "session $s: $(cat "$(reco_session_out $s)")"
done
echo "ok: no deadlock, no error in either session"

# --- C. forget_user on refreshed versions, then a drain of the forgotten ids --------------------
n_users="SELECT n_users || '|' || coalesce(stats ->> 'users_removed', '0') FROM reco.models WHERE name = 'shop' AND version = 3"
forget() {
    reco_sql "$db" -c "BEGIN;
        DELETE FROM shop.order_lines WHERE order_id IN (SELECT order_id FROM shop.orders WHERE customer_id = $1);
        DELETE FROM shop.orders WHERE customer_id = $1;
        SELECT reco.forget_user($1);
        COMMIT;"
}
in_versions="SELECT count(*) FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop' AND f.user_id ="
[ "$(reco_sql "$db" -c "$in_versions 9")" = 2 ] || reco_fail "customer 9 is not in both versions"
before_users=$(reco_sql "$db" -c "$n_users")
[ "$(forget 9)" = 2 ] || reco_fail "forget_user(9) did not change 2 versions"
[ "$(reco_sql "$db" -c "$in_versions 9")" = 0 ] || reco_fail "customer 9 is still in a version"
users=${before_users%%|*}
[ "$(reco_sql "$db" -c "$n_users")" = "$((users - 1))|${before_users#*|}" ] || reco_fail "n_users after forget_user"
got=$(reco_sql "$db" -c "$drain")
grep -qx 'user|0|0|0|1' <<< "$got" && grep -qE '^item\|[0-9]+\|0\|0\|0$' <<< "$got" \
    || reco_fail "the drain after forget_user(9): $got"
[ "$(reco_sql "$db" -c "$n_users")" = "$((users - 1))|${before_users#*|}" ] \
    && [ "$(reco_sql "$db" -c "$in_versions 9")" = 0 ] || reco_fail "the drain after forget_user(9) changed the users"
echo "ok: forget_user(9) on a refreshed customer: gone from versions 2 and 3; the next drain skipped 9 ($(echo $got)), removed nothing"
place_order 1001 900004
[ "$(reco_sql "$db" -c "$drain" | grep '^user')" = "user|0|1|0|0" ] || reco_fail "the drain did not add new customer 1001"
[ "$(reco_sql "$db" -c "$in_versions 1001")" = 1 ] || reco_fail "customer 1001 is not in version 3"
[ "$(forget 1001)" = 1 ] && [ "$(reco_sql "$db" -c "$in_versions 1001")" = 0 ] || reco_fail "forget_user(1001)"
[ "$(reco_sql "$db" -c "$drain" | grep '^user')" = "user|0|0|0|1" ] || reco_fail "the drain after forget_user(1001)"
echo "ok: a customer added by a drain is forgotten from version 3; the next drain skips them"
# A training that read before a forget_user stores after it (so its version has the
# customer again): the next drain finds the customer's queued id without rows and removes it.
reco_session_start L2 "$db"
reco_session_start F2 "$db"
reco_session_start T2 "$db"
f_pid=$(reco_session_backend_pid F2)
t_pid=$(reco_session_backend_pid T2)
reco_session_query L2 "BEGIN; SELECT reco.lock_model('shop');" >/dev/null
reco_session_send F2 "BEGIN;
    DELETE FROM shop.order_lines WHERE order_id IN (SELECT order_id FROM shop.orders WHERE customer_id = 10);
    DELETE FROM shop.orders WHERE customer_id = 10;
    SELECT 'forgot|' || reco.forget_user(10);
    COMMIT;"
reco_wait_until 30 "forget_user(10) to wait for the lock" reco_sql_equals "$db" "$advisory_wait $f_pid" 1
reco_session_send T2 "$train"
reco_wait_until 30 "the training to read its rows and wait for the lock" reco_sql_equals "$db" "$advisory_wait $t_pid" 1
reco_session_query L2 "COMMIT;" >/dev/null
reco_session_wait F2 '^forgot\|2$'
reco_session_wait T2 '^trained\|4$'
[ "$(reco_sql "$db" -c "$in_versions 10")" = 1 ] || reco_fail "version 4 does not have customer 10 (its training read before forget_user)"
got=$(reco_sql "$db" -c "$drain")
grep -qx 'user|0|0|1|0' <<< "$got" || reco_fail "the drain after version 4: $got"
[ "$(reco_sql "$db" -c "$in_versions 10")" = 0 ] || reco_fail "customer 10 is still in a version after the drain"
for s in L2 F2 T2; do
    reco_session_close $s || reco_fail "session $s failed: $(cat "$(reco_session_out $s)")"
    ! grep -q ERROR "$(reco_session_out $s)" || reco_fail "session $s: $(cat "$(reco_session_out $s)")"
done
echo "ok: a training that read before forget_user(10) stored version 4 with customer 10; the next drain removed them ($(echo $got))"
reco_check_models_whole "$db"

# --- the serving loop: still serving, never an error ---------------------------------------------
served=$(grep -c '^serve|' "$serve_out" || true)
reco_wait_until 10 "the serving session to serve after the last drain" \
    eval '[ "$(grep -c "^serve|" "$serve_out")" -ge $((served + 2)) ]'
final=$(recs 7)
reco_wait_until 10 "the serving session to serve customer 7's current answer" \
    eval '[ "$(grep "^serve|" "$serve_out" | tail -1)" = "serve|$final" ]'
touch "$stop"
status=0
wait "$serve_pid" || status=$?
calls=$(grep -c '^serve|' "$serve_out")
[ "$status" = 0 ] && ! grep -qv -E '^(serve|other)\|' "$serve_out" \
    || reco_fail "the serving session (status $status): $(grep -v -E '^(serve|other)\|' "$serve_out" | head -5)"
echo "ok: the serving session made $calls rounds of 5 recommend / similar_items calls without an error, and serves the current answers"
