#!/usr/bin/env bash
# upgrade.sh — the upgrade path: a database created with reco 0.1.0 keeps
# serving its models with the current library, `ALTER EXTENSION reco UPDATE`
# brings it to the current version with identical answers, the new functions
# work on the old models, and the updated extension's objects equal those of a
# fresh CREATE EXTENSION.  Runs against the harness's cluster (PGHOST/PGPORT).
set -euo pipefail
old=reco_upgrade_old
new=reco_upgrade_new
current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$(dirname "$0")/../../reco.control")
drop_dbs() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -c "DROP DATABASE IF EXISTS $old" -c "DROP DATABASE IF EXISTS $new"; }
. "$(dirname "$0")/../lib/sessions.sh"
drop_dbs
reco_on_exit drop_dbs
psql -X -q -c "CREATE DATABASE $old" -c "CREATE DATABASE $new"
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

# The answers compared before and after: recommend for 30 users, similar items, a cart.
answers=$(reco_answers_query shop)

q $old -c "CREATE EXTENSION reco VERSION '0.1.0'" \
       -c "SET client_min_messages = warning" \
       -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 60 AS item_id
             FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j" \
       -c "SELECT reco.train('shop', 'orders', factors => 8, iterations => 3, regularization => 1)" >/dev/null
[ "$(q $old -c "SELECT extversion FROM pg_extension WHERE extname = 'reco'")" = 0.1.0 ] || fail "not created at 0.1.0"
[ "$(q $old -c "SELECT to_regprocedure('reco.forget_user(bigint,text)') IS NULL")" = t ] || fail "0.1.0 already has forget_user"
before=$(q $old -c "$answers")
[ "$(echo "$before" | wc -w)" -ge 150 ] || fail "too few answers before the update: $before"

q $old -c "ALTER EXTENSION reco UPDATE" >/dev/null
[ "$(q $old -c "SELECT extversion FROM pg_extension WHERE extname = 'reco'")" = "$current" ] || fail "not updated to $current"
after=$(q $old -c "$answers")
[ "$before" = "$after" ] || fail "answers changed across the update"
echo "ok: 0.1.0 -> $current keeps every answer ($(echo "$after" | wc -w) compared)"

# the new functions work on the model trained before the update
[ "$(q $old -c "SELECT reco.forget_user(5)")" = 1 ] || fail "forget_user on an old model"
[ "$(q $old -c "SELECT count(*) FROM reco.recommend('shop', 5)")" = 0 ] || fail "a forgotten user is still served"
[ "$(q $old -c "SELECT reco.drop_model('shop')")" = 1 ] || fail "drop_model on an old model"

# the updated extension has exactly the objects and definitions of a fresh one
objects="SELECT string_agg(format('%s %s %s %s %s', p.oid::regprocedure, p.provolatile, p.proparallel,
                                  p.prosecdef, md5(p.prosrc)), E'\n' ORDER BY p.oid::regprocedure::text)
           FROM pg_proc p WHERE p.pronamespace = 'reco'::regnamespace
         UNION ALL
         SELECT string_agg(format('%s.%s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)), E'\n'
                           ORDER BY c.relname, a.attnum)
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE c.relnamespace = 'reco'::regnamespace
         UNION ALL
         SELECT string_agg(format('%s %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
           FROM pg_constraint WHERE connamespace = 'reco'::regnamespace
         UNION ALL
         SELECT array_to_string(extconfig::regclass[], ' ') FROM pg_extension WHERE extname = 'reco'"
q $new -c "CREATE EXTENSION reco" >/dev/null
[ "$(q $old -c "$objects")" = "$(q $new -c "$objects")" ] || fail "the updated extension differs from a fresh one"
echo "ok: the updated extension's functions, tables, constraints and dump configuration equal a fresh CREATE EXTENSION"
