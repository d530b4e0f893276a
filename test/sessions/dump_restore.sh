#!/usr/bin/env bash
# dump_restore.sh — a database with reco models (two models, several versions, a
# model with text ids, one trained with item features) survives pg_dump / pg_restore:
# the restore itself creates the extension (same version), every reco table has exactly
# the same rows (the text model's keys and codes, the feature mapping and the items
# placed from features included), the sequence of model ids continues,
# recommend / recommend_for_items / similar_items / similar_users / explain give identical
# answers, and a new training in the restored database gets the next version and a fresh
# model_id. Checked for the custom format (pg_dump -Fc | pg_restore) and for the plain
# format (pg_dump | psql).
#
# Run: bash test/sessions/dump_restore.sh (against PGHOST/PGPORT, e.g. the harness's
# cluster; it creates and drops its own databases).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
src=reco_dump_src
custom=reco_dump_custom
plain=reco_dump_plain
reco_scratch_db $src
small="factors => 8, iterations => 3, regularization => 1"
reco_sql $src -c "CREATE EXTENSION reco" \
    -c "SET client_min_messages = warning" \
    -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 60 AS item_id, j AS quantity
          FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j" \
    -c "CREATE TABLE carts AS SELECT u AS user_id, (u * 13 + j * 5) % 90 AS item_id
          FROM generate_series(1, 300) AS u, generate_series(1, 6) AS j" \
    -c "SELECT reco.train('shop', 'orders', $small, seed => 1, keep_versions => 0)" \
    -c "SELECT reco.train('shop', 'orders', $small, seed => 2, keep_versions => 0)" \
    -c "SELECT reco.train('shop', 'orders', $small, weight_col => 'quantity', seed => 3, keep_versions => 0)" \
    -c "SELECT reco.train('cart', 'carts', $small, seed => 4)" \
    -c "SELECT reco.train('cart', 'carts', $small, seed => 5)" \
    -c "CREATE TABLE visits AS SELECT 'cust-' || u AS customer, 'sku-' || (u * 11 + j) % 40 AS sku
          FROM generate_series(1, 100) AS u, generate_series(1, 5) AS j" \
    -c "SELECT reco.train('skus', 'visits', 'customer', 'sku', $small, seed => 7)" \
    -c "CREATE TABLE genres AS SELECT i AS item_id, 'genre:' || (i % 4) AS feature FROM generate_series(0, 69) AS i" \
    -c "SELECT reco.train('feat', 'orders', $small, seed => 8, item_features => ARRAY['genres'])" >/dev/null

# Every row of reco's tables (count and md5, in key order), the id sequence, the extension.
fingerprint="SELECT 'extension ' || extversion FROM pg_extension WHERE extname = 'reco'
             UNION ALL
             SELECT format('models %s %s', count(*), md5(string_agg(m::text, E'\n' ORDER BY model_id))) FROM reco.models m
             UNION ALL
             SELECT format('user_factors %s %s', count(*), md5(string_agg(f::text, E'\n' ORDER BY model_id, user_id)))
               FROM reco.user_factors f
             UNION ALL
             SELECT format('item_factors %s %s', count(*), md5(string_agg(f::text, E'\n' ORDER BY model_id, item_id)))
               FROM reco.item_factors f
             UNION ALL
             SELECT format('sequence %s %s', last_value, is_called) FROM reco.models_model_id_seq
             UNION ALL
             SELECT format('keys %s %s', count(*), md5(string_agg(k, ',' ORDER BY k)))
               FROM (SELECT format('u%s:%s=%s', model_id, user_id, user_key) FROM reco.user_factors WHERE user_key IS NOT NULL
                     UNION ALL
                     SELECT format('i%s:%s=%s', model_id, item_id, item_key) FROM reco.item_factors WHERE item_key IS NOT NULL) AS t(k)
             UNION ALL
             SELECT format('feature_weights %s %s', count(*), md5(string_agg(w::text, E'\n' ORDER BY model_id, side, feature)))
               FROM reco.feature_weights w"
# The answers of both models' served versions.
answers="SELECT string_agg(format('%s %s %s:%s', m, u, r.item_id, r.score), ' ' ORDER BY m, u, r.score DESC, r.item_id)
           FROM unnest('{shop,cart}'::text[]) AS m, generate_series(1, 30) AS u, LATERAL reco.recommend(m, u, 5) AS r
         UNION ALL
         SELECT string_agg(format('%s %s:%s', m, s.item_id, s.similarity), ' ' ORDER BY m, s.similarity DESC, s.item_id)
           FROM unnest('{shop,cart}'::text[]) AS m, LATERAL reco.similar_items(m, 3, 5) AS s
         UNION ALL
         SELECT string_agg(format('%s %s:%s', m, c.item_id, c.score), ' ' ORDER BY m, c.score DESC, c.item_id)
           FROM unnest('{shop,cart}'::text[]) AS m, LATERAL reco.recommend_for_items(m, '{1, 2, 3}') AS c
         UNION ALL
         SELECT string_agg(format('%s:%s', s.user_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.user_id)
           FROM reco.similar_users('cart', 5, 5) AS s
         UNION ALL
         SELECT string_agg(format('%s:%s', e.item_id, e.contribution), ' ' ORDER BY e.contribution DESC, e.item_id)
           FROM reco.explain('shop', 5, 12) AS e"
want_fingerprint=$(reco_sql $src -c "$fingerprint")
want_answers=$(reco_sql $src -c "$answers")
[ "$(reco_sql $src -c "SELECT string_agg(name || ' v' || version, ',' ORDER BY name, version) FROM reco.models")" \
    = "cart v1,cart v2,feat v1,shop v1,shop v2,shop v3,skus v1" ] || reco_fail "unexpected models in the source database"
[ "$(echo "$want_fingerprint" | grep '^feature_weights ' | cut -d' ' -f2)" = 5 ] \
    || reco_fail "the features model should store 5 mapping rows: $want_fingerprint"
[ "$(echo "$want_fingerprint" | grep '^keys ' | cut -d' ' -f2)" = 140 ] || reco_fail "the text model should store 140 keys: $want_fingerprint"
[ "$(echo "$want_answers" | wc -w)" -ge 330 ] || reco_fail "too few answers in the source database: $want_answers"

# Fails unless database $1 (restored by $2) equals the source, then trains in it.
check_restored() {
    local db=$1 how=$2 trained
    [ "$(reco_sql "$db" -c "$fingerprint")" = "$want_fingerprint" ] \
        || reco_fail "$how: reco's rows differ from the source: $(diff <(echo "$want_fingerprint") <(reco_sql "$db" -c "$fingerprint") || true)"
    [ "$(reco_sql "$db" -c "$answers")" = "$want_answers" ] || reco_fail "$how: the answers differ from the source"
    echo "ok: $how: same $(echo "$want_fingerprint" | sed -n '1p; 2,4s/ [0-9a-f]\{32\}$/ rows/p; 6s/ [0-9a-f]\{32\}$//p' | paste -sd, | sed 's/,/, /g'), same id sequence, same $(echo "$want_answers" | wc -w) answers"
    trained=$(reco_sql "$db" -c "SET client_min_messages = warning" \
        -c "SELECT format('%s v%s', m.model_id > all (SELECT model_id FROM reco.models WHERE model_id <> m.model_id), m.version)
              FROM reco.train('shop', 'orders', $small, seed => 6, keep_versions => 0) AS m")
    [ "$trained" = "t v4" ] || reco_fail "$how: a new training should store shop v4 with a new, highest model_id: $trained"
    reco_check_models_whole "$db"
    echo "ok: $how: a new training stores shop v4 with a fresh model_id"
}

# --- custom format: pg_dump -Fc, pg_restore into a new database ---------------------------
dump=$(mktemp)
reco_on_exit "rm -f $dump"
pg_dump -Fc -f "$dump" $src
grep -q ' EXTENSION - reco ' <<< "$(pg_restore -l "$dump")" || reco_fail "the dump has no CREATE EXTENSION reco"
reco_scratch_db $custom
pg_restore --exit-on-error -d $custom "$dump"
check_restored $custom "pg_dump -Fc | pg_restore"

# --- plain format: pg_dump | psql -----------------------------------------------------------
reco_scratch_db $plain
pg_dump $src | psql -X -q -v ON_ERROR_STOP=1 -d $plain >/dev/null
check_restored $plain "pg_dump | psql"
[ "$(reco_sql $src -c "$fingerprint")" = "$want_fingerprint" ] || reco_fail "the source database changed"
