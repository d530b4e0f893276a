#!/usr/bin/env bash
# test/bench/ids_serving.sh — serving latency with text and uuid ids beside bigint ids
# (issue 12 item 3): one model of USERS users x ITEMS items at k 64, trained with bigint
# ids, and two copies of it whose ids are text keys ('cust-000042', 'sku-000042') and
# uuids, stored as training stores keys (code = the key's rank in byte order).  Each
# form is timed on the same factors with pgbench (one client, prepared statements,
# CALLS calls, the first WARM calls of a run dropped: they load the item matrix):
# recommend bigint / text / uuid form and recommend_for_items vs _text (3-item carts).
# Prints p50 and p95 in ms per form, the machine line, and the plans of the keyed user
# look-ups (they must use the index user_factors_user_key).
#
# Runs against an existing server with reco installed (PGHOST/PGPORT/PGUSER); works in
# database DB (default reco_idsbench), dropped at the end unless KEEP_DB=1.  Timing is
# reported, never judged.
#
#   test/bench/ids_serving.sh
#
# Environment: USERS (20000), ITEMS (5000), PER_USER (20 interactions), CALLS (1000),
# WARM (20), ROUNDS (5: the forms run interleaved, medians over the rounds), DB, KEEP_DB,
# MAINT_DB (postgres).
set -euo pipefail
USERS=${USERS:-20000}
ITEMS=${ITEMS:-5000}
PER_USER=${PER_USER:-20}
CALLS=${CALLS:-1000}
WARM=${WARM:-20}
ROUNDS=${ROUNDS:-5}
DB=${DB:-reco_idsbench}
KEEP_DB=${KEEP_DB:-0}
MAINT_DB=${MAINT_DB:-postgres}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reco_idsbench.XXXXXX")

# Removes the temporary files and, unless KEEP_DB=1, the database.
cleanup() {
    rm -rf "$tmp"
    [ "$KEEP_DB" = 1 ] || psql -X -q -d "$MAINT_DB" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Runs SQL on stdin in the bench database, stopping on the first error.
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

psql -X -q -d "$MAINT_DB" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
echo "ids_serving: training a $USERS x $ITEMS model at k 64" >&2
sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION reco;
CREATE TABLE interactions AS
SELECT u AS user_id,
       1 + ((u::bigint * 7919 + j * 104729 + (u % 13) * j * j) % $ITEMS) AS item_id,
       1 + (u + j) % 3 AS weight
  FROM generate_series(1, $USERS) AS u, generate_series(1, $PER_USER) AS j;
SELECT (reco.fit('b', user_id, item_id, weight::real, '{"factors": 64, "iterations": 5}')).n_users FROM interactions;
-- the keyed copies: same factors, keys in user_key / item_key, codes = ranks of the keys
CREATE FUNCTION bench_key(t text, side text, id bigint) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$
    SELECT CASE t WHEN 'text' THEN CASE side WHEN 'user' THEN 'cust-' ELSE 'sku-' END || lpad(id::text, 6, '0')
                  ELSE format('00000000-0000-0000-%s-%s', CASE side WHEN 'user' THEN '0001' ELSE '0002' END,
                              lpad(id::text, 12, '0')) END
\$\$;
CREATE FUNCTION bench_copy(dst text, t text) RETURNS void LANGUAGE sql AS \$\$
    INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions, factors, loss, train_seconds)
    SELECT dst, 1, algorithm, params || jsonb_build_object('user_id_type', t, 'item_id_type', t),
           n_users, n_items, n_interactions, factors, loss, 0 FROM reco.models WHERE name = 'b';
    INSERT INTO reco.item_factors (model_id, item_id, factors, popularity, item_key)
    SELECT (SELECT model_id FROM reco.models WHERE name = dst), item_id, factors, popularity, bench_key(t, 'item', item_id)
      FROM reco.item_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'b');
    INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights, user_key)
    SELECT (SELECT model_id FROM reco.models WHERE name = dst), user_id, factors, seen_items, seen_weights,
           bench_key(t, 'user', user_id)
      FROM reco.user_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'b');
\$\$;
SELECT bench_copy('t', 'text'), bench_copy('u', 'uuid');
ANALYZE;
SQL

# the keyed user look-ups, as serving runs them (saved plans: generic after five calls)
echo "plans of the keyed user look-ups (generic): one user, a list of users"
sql <<SQL
SET plan_cache_mode = force_generic_plan;
PREPARE by_key(bigint, text) AS
SELECT user_id, factors, seen_items, seen_weights, user_key FROM reco.user_factors
 WHERE model_id = \$1 AND user_key = \$2;
EXPLAIN (COSTS OFF) EXECUTE by_key(2, 'cust-000042');
PREPARE by_keys(bigint, text[]) AS
SELECT user_id, factors, seen_items, seen_weights, user_key FROM reco.user_factors
 WHERE model_id = \$1 AND user_key = ANY(\$2) ORDER BY user_id;
EXPLAIN (COSTS OFF) EXECUTE by_keys(2, '{cust-000042}');
SQL

# Writes a pgbench script for form $1.
script() {
    local u='\set u random(1, '"$USERS"')'
    local a='\set a random(1, '"$ITEMS"')'$'\n''\set b random(1, '"$ITEMS"')'$'\n''\set c random(1, '"$ITEMS"')'
    case $1 in
        recommend_bigint) printf '%s\nSELECT * FROM reco.recommend(%s, :u::bigint, 10);\n' "$u" "'b'" ;;
        recommend_text) printf "%s\nSELECT * FROM reco.recommend('t', 'cust-' || lpad(:u::text, 6, '0'), 10);\n" "$u" ;;
        recommend_uuid) printf "%s\nSELECT * FROM reco.recommend('u', ('00000000-0000-0000-0001-' || lpad(:u::text, 12, '0'))::uuid, 10);\n" "$u" ;;
        recommend_text_on_bigint) printf "%s\nSELECT * FROM reco.recommend('b', :u::text, 10);\n" "$u" ;;
        cart_bigint) printf "%s\nSELECT * FROM reco.recommend_for_items('b', ARRAY[:a, :b, :c]::bigint[], n => 10);\n" "$a" ;;
        cart_text) printf "%s\nSELECT * FROM reco.recommend_for_items_text('t', ARRAY['sku-' || lpad(:a::text, 6, '0'), 'sku-' || lpad(:b::text, 6, '0'), 'sku-' || lpad(:c::text, 6, '0')], n => 10);\n" "$a" ;;
    esac
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
forms=${FORMS:-"recommend_bigint recommend_text recommend_uuid recommend_text_on_bigint cart_bigint cart_text"}
for form in $forms; do script "$form" >"$tmp/$form.sql"; done
# ROUNDS rounds, the forms interleaved in each (in a rotated order), so that drift in
# the machine's load spreads over all of them; a form's p50 and p95 are the medians over
# the rounds
read -r -a form_list <<<"$forms"
n_forms=${#form_list[@]}
# one discarded run first: the first run after the set-up is slower, whatever its form
(cd "$tmp" && pgbench -n -c 1 -t "$CALLS" -M prepared -f "${form_list[0]}.sql" "$DB" >/dev/null 2>&1)
for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n_forms - 1))); do
        form=${form_list[$(((i + round) % n_forms))]}	# each round starts with another form
        rm -f "$tmp/$form".log.*
        (cd "$tmp" && pgbench -n -c 1 -t $((CALLS + WARM)) -M prepared -f "$form.sql" -l --log-prefix="$form.log" "$DB" \
            >"$tmp/$form.out" 2>&1) || { cat "$tmp/$form.out" >&2; exit 1; }
        # column 3 of a pgbench log line: the transaction's latency in microseconds
        cat "$tmp/$form".log.* | tail -n +$((WARM + 1)) | awk '{print $3}' | sort -n |
            awk -v f="$form" '{v[NR] = $1} END {printf "%s %.3f %.3f\n", f, v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.95) + 1] / 1000}' \
            >>"$tmp/rounds.txt"
    done
done
printf '%-26s %8s %8s   (median of %s rounds of %s calls)\n' form p50_ms p95_ms "$ROUNDS" "$CALLS"
for form in $forms; do
    p50=$(awk -v f="$form" '$1 == f {print $2}' "$tmp/rounds.txt" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    p95=$(awk -v f="$form" '$1 == f {print $3}' "$tmp/rounds.txt" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    printf '%-26s %8s %8s\n' "$form" "$p50" "$p95"
done

# The same in one backend, the forms interleaved call by call (so the machine's load
# falls on all alike): per-call time of a cached plpgsql query, p50 over CALLS calls each.
echo "in one backend, forms interleaved call by call (p50 / p95 ms over $CALLS calls each):"
sql <<SQL
CREATE TEMP TABLE timings (form text, ms double precision);
DO \$\$
DECLARE
    t0 timestamptz;
    u bigint;
    a bigint; b bigint; c bigint;
    n bigint;
BEGIN
    PERFORM setseed(0.42);
    FOR i IN 1 .. $CALLS + $WARM LOOP
        u := 1 + floor(random() * $USERS);
        a := 1 + floor(random() * $ITEMS); b := 1 + floor(random() * $ITEMS); c := 1 + floor(random() * $ITEMS);
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend('b', u, 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('recommend_bigint', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend('t', 'cust-' || lpad(u::text, 6, '0'), 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('recommend_text', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend('u', ('00000000-0000-0000-0001-' || lpad(u::text, 12, '0'))::uuid, 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('recommend_uuid', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend('b', u::text, 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('recommend_text_on_bigint', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend_for_items('b', ARRAY[a, b, c], n => 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('cart_bigint', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM reco.recommend_for_items_text('t', ARRAY['sku-' || lpad(a::text, 6, '0'),
            'sku-' || lpad(b::text, 6, '0'), 'sku-' || lpad(c::text, 6, '0')], n => 10);
        IF i > $WARM THEN INSERT INTO timings VALUES ('cart_text', 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
    END LOOP;
END
\$\$;
SELECT form, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p95_ms
  FROM timings GROUP BY form ORDER BY min(ctid);
SQL
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
