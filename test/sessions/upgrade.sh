#!/usr/bin/env bash
# upgrade.sh — the upgrade path: a database created with reco 0.1.0 keeps
# serving its models with the current library, `ALTER EXTENSION reco UPDATE`
# brings it to the current version with identical answers, the new functions
# work on the old models, and the updated extension's catalog equals that of a
# fresh CREATE EXTENSION, which runs the current version's full install script
# (src/sql/reco--<version>.sql) rather than 0.1.0 and the updates.  A database
# at 0.2.0, 0.3.0, 0.4.0, 0.5.0, 0.6.0 or 0.7.0 (0.1.0 plus its deltas) and updated from there is compared the same way.
# Runs against the harness's cluster (PGHOST/PGPORT).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
old=reco_upgrade_old
new=reco_upgrade_new
mid=reco_upgrade_mid
current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$(dirname "$0")/../../reco.control")
reco_scratch_db $old
reco_scratch_db $new
reco_scratch_db $mid

# The answers compared before and after: recommend for 30 users, similar items, a cart.
answers=$(reco_answers_query shop)

reco_sql $old -c "CREATE EXTENSION reco VERSION '0.1.0'" \
    -c "SET client_min_messages = warning" \
    -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 60 AS item_id
          FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j" \
    -c "SELECT reco.train('shop', 'orders', factors => 8, iterations => 3, regularization => 1)" >/dev/null
[ "$(reco_sql $old -c "SELECT extversion FROM pg_extension WHERE extname = 'reco'")" = 0.1.0 ] || reco_fail "not created at 0.1.0"
[ "$(reco_sql $old -c "SELECT to_regprocedure('reco.forget_user(bigint,text)') IS NULL")" = t ] || reco_fail "0.1.0 already has forget_user"
before=$(reco_sql $old -c "$answers")
[ "$(echo "$before" | wc -w)" -ge 150 ] || reco_fail "too few answers before the update: $before"
# until the update, the old SQL definitions keep their answers: an unknown user gets no rows
[ "$(reco_sql $old -c "SELECT count(*) FROM reco.recommend('shop', 999999, 5)")" = 0 ] \
    || reco_fail "an old recommend definition fell back to best-sellers before the update"

reco_sql $old -c "ALTER EXTENSION reco UPDATE" >/dev/null
[ "$(reco_sql $old -c "SELECT extversion FROM pg_extension WHERE extname = 'reco'")" = "$current" ] || reco_fail "not updated to $current"
after=$(reco_sql $old -c "$answers")
[ "$before" = "$after" ] || reco_fail "answers changed across the update"
echo "ok: 0.1.0 -> $current keeps every answer ($(echo "$after" | wc -w) compared)"

# the new functions work on the model trained before the update
[ "$(reco_sql $old -c "SELECT reco.forget_user(5)")" = 1 ] || reco_fail "forget_user on an old model"
[ "$(reco_sql $old -c "SELECT count(*) FROM reco.recommend('shop', 5, fallback => 'none')")" = 0 ] || reco_fail "a forgotten user is still served"
# 0.3.0's best-seller fallback: the forgotten user now gets the most popular items
[ "$(reco_sql $old -c "SELECT string_agg(r.item_id || ':' || r.score, ' ') FROM reco.recommend('shop', 5, 3) AS r")" = \
  "$(reco_sql $old -c "SELECT string_agg(f.item_id || ':' || f.popularity, ' ' ORDER BY f.popularity DESC, f.item_id)
                        FROM (SELECT * FROM reco.item_factors ORDER BY popularity DESC, item_id LIMIT 3) AS f")" ] \
    || reco_fail "an unknown user does not get the best-sellers after the update"
[ "$(reco_sql $old -c "SELECT reco.drop_model('shop')")" = 1 ] || reco_fail "drop_model on an old model"

reco_sql $new -c "CREATE EXTENSION reco" >/dev/null

# A fresh CREATE EXTENSION runs the full script of the current version: it exists, and
# reco.models got its constraints with the table, before any function. (Through 0.1.0
# and the updates, the constraints that 0.2.0 added come after every 0.1.0 function.)
[ "$(reco_sql $new -c "SELECT (pg_stat_file(setting || '/extension/reco--$current.sql')).size > 0
                         FROM pg_config WHERE name = 'SHAREDIR'")" = t ] \
    || reco_fail "no full install script reco--$current.sql is installed"
constraints_first="SELECT max(c.oid) < min(p.oid) FROM pg_constraint c, pg_proc p
                    WHERE c.conrelid = 'reco.models'::regclass AND p.pronamespace IN ('reco'::regnamespace, 'reco_internal'::regnamespace)"
[ "$(reco_sql $new -c "$constraints_first")" = t ] || reco_fail "CREATE EXTENSION reco did not run reco--$current.sql alone"
[ "$(reco_sql $old -c "$constraints_first")" = f ] || reco_fail "the updated database should have its 0.2.0 constraints after its functions"
echo "ok: CREATE EXTENSION reco runs the full install script reco--$current.sql"

# Everything of the extension that a script defines, one line per fact, without OIDs:
# its members with their comments; every function's full definition (pg_get_functiondef:
# arguments and defaults, language, volatility, strictness, PARALLEL label, security,
# cost, rows, settings and the body), comment and grants; the aggregates' parts; the
# tables, their columns (type, NOT NULL, default, storage, compression, comment, grants),
# constraints, indexes, triggers (with their comments), the views' definitions and policies; the sequence's parameters and owner; the
# types; the schema; the initial privileges; and pg_dump's configuration.
catalog=$(cat <<'SQL'
WITH member AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'reco'
), rel AS (
    SELECT c.* FROM pg_class c WHERE c.relnamespace = 'reco'::regnamespace
)
SELECT line FROM (
    SELECT format('member %s: %s', pg_describe_object(m.classid, m.objid, 0), ds.description) AS line
      FROM member m LEFT JOIN pg_description ds ON (ds.classoid, ds.objoid, ds.objsubid) = (m.classid, m.objid, 0)
    UNION ALL
    SELECT format('function %s: kind %s, acl %s, comment %s, definition md5 %s, source md5 %s',
                  p.oid::regprocedure, p.prokind, p.proacl, obj_description(p.oid, 'pg_proc'),
                  md5(CASE WHEN p.prokind = 'a' THEN pg_get_function_arguments(p.oid)
                           ELSE pg_get_functiondef(p.oid) END),
                  md5(p.prosrc))
      FROM pg_proc p WHERE p.pronamespace IN ('reco'::regnamespace, 'reco_internal'::regnamespace)
    UNION ALL
    SELECT format('function %s: %s %s %s strict %s secdef %s leakproof %s cost %s rows %s returns %s',
                  p.oid::regprocedure, (SELECT l.lanname FROM pg_language l WHERE l.oid = p.prolang), p.provolatile, p.proparallel, p.proisstrict,
                  p.prosecdef, p.proleakproof, p.procost, p.prorows, pg_get_function_result(p.oid))
      FROM pg_proc p WHERE p.pronamespace IN ('reco'::regnamespace, 'reco_internal'::regnamespace)
    UNION ALL
    SELECT format('aggregate %s: kind %s sfunc %s stype %s finalfunc %s extra %s modify %s combine %s serial %s deserial %s initval %s msfunc %s',
                  a.aggfnoid::regprocedure, a.aggkind, a.aggtransfn::regprocedure, a.aggtranstype::regtype,
                  a.aggfinalfn::regprocedure, a.aggfinalextra, a.aggfinalmodify, a.aggcombinefn::regprocedure,
                  a.aggserialfn::regprocedure, a.aggdeserialfn::regprocedure, a.agginitval, a.aggmtransfn::regprocedure)
      FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.pronamespace IN ('reco'::regnamespace, 'reco_internal'::regnamespace)
    UNION ALL
    SELECT format('relation %s: kind %s persistence %s options %s acl %s rls %s comment %s',
                  r.relname, r.relkind, r.relpersistence, r.reloptions, r.relacl, r.relrowsecurity,
                  obj_description(r.oid, 'pg_class'))
      FROM rel r
    UNION ALL
    SELECT format('column %s.%s #%s: %s notnull %s default %s storage %s compression %s identity %s generated %s acl %s comment %s',
                  r.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attstorage, a.attcompression, a.attidentity,
                  a.attgenerated, a.attacl, col_description(r.oid, a.attnum))
      FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON (ad.adrelid, ad.adnum) = (a.attrelid, a.attnum)
    UNION ALL
    SELECT format('constraint %s on %s: %s validated %s deferrable %s comment %s',
                  c.conname, c.conrelid::regclass, pg_get_constraintdef(c.oid), c.convalidated, c.condeferrable,
                  obj_description(c.oid, 'pg_constraint'))
      FROM pg_constraint c WHERE c.connamespace = 'reco'::regnamespace
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
      FROM pg_index i JOIN rel r ON r.oid = i.indrelid
    UNION ALL
    SELECT format('trigger %s comment %s', pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'))
      FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('view %s: %s', r.relname, pg_get_viewdef(r.oid))
      FROM rel r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('policy %s on %s: %s %s %s', p.polname, r.relname, p.polcmd, pg_get_expr(p.polqual, p.polrelid),
                  pg_get_expr(p.polwithcheck, p.polrelid))
      FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
    UNION ALL
    SELECT format('sequence %s: %s start %s increment %s min %s max %s cache %s cycle %s owned by %s',
                  r.relname, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                  s.seqcycle,
                  (SELECT string_agg(format('%s.%s', d.refobjid::regclass, a.attname), ', ')
                     FROM pg_depend d JOIN pg_attribute a ON (a.attrelid, a.attnum) = (d.refobjid, d.refobjsubid)
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.deptype = 'a'
                      AND d.refclassid = 'pg_class'::regclass))
      FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT format('type %s: %s', t.typname, t.typtype)
      FROM pg_type t WHERE t.typnamespace = 'reco'::regnamespace
    UNION ALL
    SELECT format('schema %s: owner %s acl %s comment %s', n.nspname, n.nspowner::regrole, n.nspacl,
                  obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n WHERE n.nspname IN ('reco', 'reco_internal')
    UNION ALL
    SELECT format('initial privileges %s: %s %s', pg_describe_object(i.classoid, i.objoid, i.objsubid),
                  i.privtype, i.initprivs)
      FROM pg_init_privs i
     WHERE (i.classoid, i.objoid) IN (SELECT classid, objid FROM member)
        OR (i.classoid = 'pg_class'::regclass AND i.objoid IN (SELECT oid FROM rel))
    UNION ALL
    SELECT format('extension %s %s: relocatable %s schema %s dumped %s where %s', e.extname, e.extversion,
                  e.extrelocatable, e.extnamespace::regnamespace, e.extconfig::regclass[], e.extcondition)
      FROM pg_extension e WHERE e.extname = 'reco'
) facts
ORDER BY line COLLATE "C"
SQL
)
updated=$(reco_sql $old -c "$catalog")
fresh=$(reco_sql $new -c "$catalog")
for start in 0.2.0 0.3.0 0.4.0 0.5.0 0.6.0 0.7.0; do
    reco_sql $mid -c "DROP EXTENSION IF EXISTS reco CASCADE" -c "CREATE EXTENSION reco VERSION '$start'" \
        -c "ALTER EXTENSION reco UPDATE" >/dev/null 2>&1
    from_mid=$(reco_sql $mid -c "$catalog")
    if [ "$from_mid" != "$fresh" ]; then
        diff <(echo "$from_mid") <(echo "$fresh") | sed 's/^</updated:/; s/^>/fresh:  /' >&2 || true
        reco_fail "the extension updated from $start differs from a fresh one"
    fi
    echo "ok: $start -> $current equals a fresh CREATE EXTENSION in $(echo "$fresh" | wc -l) catalog facts"
done
[ "$(echo "$fresh" | grep -c '^function ')" -ge 40 ] || reco_fail "too few functions described: $fresh"
if [ "$updated" != "$fresh" ]; then
    diff <(echo "$updated") <(echo "$fresh") | sed 's/^</updated:/; s/^>/fresh:  /' >&2 || true
    reco_fail "the updated extension differs from a fresh one"
fi
echo "ok: the updated extension equals a fresh CREATE EXTENSION in $(echo "$fresh" | wc -l) catalog facts (functions, aggregates, tables, columns, constraints, indexes, sequence, comments, grants, dump configuration)"
