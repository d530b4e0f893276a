#!/usr/bin/env bash
# test/bench/features_speed.sh — what item features cost (issue 14): training on the scale set
# with and without 32 sparse features and a 64-d dense embedding per item, and the per-item
# cost of placing a new product (reco.place_item). Writes a markdown section. Needs a server
# (PGHOST/PGPORT/PGUSER) with reco installed.
#
#   SCALE=small|default test/bench/features_speed.sh
#
# Data: default = the 10M scale set of BENCHMARKS.md (../shared/bench/gen_synth.py: 200,000
# users x 50,000 items; its TSV cached in test/bench/results/tmp/synth-10m.tsv as run.sh does),
# small = test/bench/synth.sql (20,000 users x 5,000 items, about 1M pairs). Features for
# every item id of the set plus NEW_ITEMS ids without interactions (placed at training):
#   bench.item_sparse (item_id, feature): 32 rows per item, 'f:<n>' with n = a seeded hash of
#     (item, j) mod 2000 (duplicate names of one item are summed by reco, as documented);
#   bench.item_dense (item_id, embedding real[64]): seeded hash values in [-0.5, 0.5).
# Training: BENCHMARKS.md's speed protocol (factors 64, CG 3 steps, regularization 0.05,
# 5 iterations, weight = value), RUNS runs each of plain and with both feature sources,
# alternating; reported: the medians of the whole statement (reco.models.train_seconds) and
# of the feature phase (stats -> 'item_features' -> 'seconds'). Placement: PLACE new ids, each
# placed by one reco.place_item call (its features jsonb built by the sources' rules) in a
# plpgsql loop in one statement; the seconds per item (skipped with a message when the
# installed reco has no place_item). Timing is reported, never judged.
#
# Environment: SCALE (small or default), FEATURES_SPEED_DB (default reco_features_speed) the
# database, created and dropped; FEATURES_SPEED_MD the report section (default stdout only);
# GEN_SYNTH (default ../shared/bench/gen_synth.py); RUNS (default 3); PLACE (default 1000);
# NEW_ITEMS (default 1000).
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SCALE=${SCALE:-default}
db=${FEATURES_SPEED_DB:-reco_features_speed}
md=${FEATURES_SPEED_MD:-/dev/null}
GEN_SYNTH=${GEN_SYNTH:-$root/../shared/bench/gen_synth.py}
runs=${RUNS:-3}
place=${PLACE:-1000}
new_items=${NEW_ITEMS:-1000}
synth_tsv=$here/results/tmp/synth-10m.tsv
. "$here/machine.sh"
# Prints progress on stderr.
say() { echo "features_speed: $*" >&2; }
# Runs SQL in the benchmark database: unaligned, tab-separated, stops on the first error.
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" "$@"; }
load_start=$(cut -d' ' -f1 /proc/loadavg)
PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION reco" -c "CREATE SCHEMA bench" >/dev/null

say "loading the $SCALE set"
if [ "$SCALE" = small ]; then
    q -v table=bench.train -v users=20000 -v items=5000 -v per_user=72 -v seed=7 -f "$here/synth.sql" >/dev/null
    source_line="test/bench/synth.sql (20,000 users, 5,000 items, seed 7)"
else
    if [ ! -s "$synth_tsv" ]; then
        [ -r "$GEN_SYNTH" ] || { echo "features_speed: no generator at $GEN_SYNTH" >&2; exit 1; }
        mkdir -p "$(dirname "$synth_tsv")"
        /usr/bin/python3 "$GEN_SYNTH" "$synth_tsv.partial" >&2
        mv "$synth_tsv.partial" "$synth_tsv"
    fi
    q -c "CREATE UNLOGGED TABLE bench.train (user_id bigint, item_id bigint, value real)" \
      -c "\\copy bench.train FROM '$synth_tsv'" >/dev/null
    source_line="gen_synth.py 10M scale set"
fi
q -c "VACUUM (FREEZE, ANALYZE) bench.train" >/dev/null
# the features: every item of the set and $new_items new ids after the largest
q -c "CREATE TABLE bench.ids AS
      SELECT item_id, false AS new FROM bench.train GROUP BY item_id
      UNION ALL
      SELECT m + g, true FROM (SELECT max(item_id) AS m FROM bench.train) AS x, generate_series(1, $new_items) AS g" \
  -c "CREATE TABLE bench.item_sparse AS
      SELECT item_id, 'f:' || ((hashint8extended(item_id * 32 + j, 7) & 2147483647) % 2000) AS feature
        FROM bench.ids, generate_series(0, 31) AS j" \
  -c "CREATE TABLE bench.item_dense AS
      SELECT item_id, ARRAY(SELECT ((hashint8extended(item_id * 64 + j, 11) & 65535) / 65536.0 - 0.5)::real
                              FROM generate_series(0, 63) AS j) AS embedding
        FROM bench.ids" \
  -c "ANALYZE bench.ids, bench.item_sparse, bench.item_dense" >/dev/null
read -r n_rows n_users n_items <<<"$(q -c "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM bench.train" | tr '\t' ' ')"

q -c "CREATE TABLE bench.runs (run int, features boolean, seconds float8, feature_seconds float8, stats jsonb)"
opts="weight_col => 'value', factors => 64, solver => 'cg', cg_steps => 3, regularization => 0.05, iterations => 5"
for run in $(seq 1 "$runs"); do
    for feat in false true; do
        say "run $run, features $feat"
        args=
        [ "$feat" = true ] && args=", item_features => ARRAY['bench.item_sparse', 'bench.item_dense']"
        q -c "SELECT reco.train('fs', 'bench.train', $opts$args)" >/dev/null
        q -c "INSERT INTO bench.runs
              SELECT $run, $feat, train_seconds, (stats -> 'item_features' ->> 'seconds')::float8, stats
                FROM reco.models WHERE name = 'fs' ORDER BY version DESC LIMIT 1"
    done
done

say "placing $place new items"
place_seconds=0 placed=0
if [ "$(q -c "SELECT count(*) FROM pg_proc WHERE proname = 'place_item' AND pronamespace = 'reco'::regnamespace")" = 0 ]; then
    say "reco.place_item is not installed: placement not measured"
else
# the features jsonb of an id by the sources' rules (sparse names summed, the dense embedding as an array)
place_row=$(q -c "CREATE FUNCTION bench.features_of(id bigint) RETURNS jsonb LANGUAGE sql STABLE
                  RETURN (SELECT jsonb_object_agg(feature, n) FROM
                           (SELECT 'f:' || ((hashint8extended(id * 32 + j, 7) & 2147483647) % 2000) AS feature, count(*) AS n
                              FROM generate_series(0, 31) AS j GROUP BY 1) AS s)
                         || jsonb_build_object('embedding',
                              (SELECT to_jsonb(array_agg(((hashint8extended(id * 64 + j, 11) & 65535) / 65536.0 - 0.5)::real ORDER BY j))
                                 FROM generate_series(0, 63) AS j))" \
               -c "CREATE TABLE bench.place_input AS
                   SELECT 10000000 + g AS item_id, bench.features_of(10000000 + g) AS features
                     FROM generate_series(1, $place) AS g" \
               -c "CREATE FUNCTION bench.place_all() RETURNS TABLE (seconds float8, placed bigint) LANGUAGE plpgsql AS \$\$
                   DECLARE t0 timestamptz := clock_timestamp(); r record; n bigint := 0;
                   BEGIN
                       FOR r IN SELECT item_id, features FROM bench.place_input ORDER BY item_id LOOP
                           PERFORM reco.place_item('fs', r.item_id, r.features);
                           n := n + 1;
                       END LOOP;
                       RETURN QUERY SELECT extract(epoch FROM clock_timestamp() - t0)::float8, n;
                   END \$\$" \
               -c "SELECT * FROM bench.place_all()" | tail -1)
read -r place_seconds placed <<<"$(tr '\t' ' ' <<<"$place_row")"
fi

# Prints the server's OPENBLAS_CORETYPE (from its postmaster's environment when readable), or "unknown".
server_coretype() {
    local pid value
    pid=$(head -1 "$(q -c "SHOW data_directory")/postmaster.pid" 2>/dev/null) || { echo unknown; return 0; }
    value=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^OPENBLAS_CORETYPE=//p') || { echo unknown; return 0; }
    echo "${value:-unset}"
}

# The median of column $1 of bench.runs for features = $2.
med() { q -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY $1)::numeric, 3) FROM bench.runs WHERE features = $2"; }
{
    echo "## What item features cost ($([ "$SCALE" = small ] && echo "SCALE=small" || echo "the 10M scale set"))"
    echo
    echo "Data: $source_line: $n_rows interactions, $n_users users, $n_items items. Item features: every"
    echo "item and $new_items new ids without interactions (placed at training) have 32 sparse features"
    echo "'f:<n>' (a seeded hash mod 2000) and a 64-d embedding (seeded hash values). Training: factors"
    echo "64, CG 3 steps, regularization 0.05, 5 iterations, weight = value; $runs runs each, alternating"
    echo "plain / with features, medians. Generated by \`test/bench/features_speed.sh\`."
    echo
    bench_machine_line "$load_start"
    echo "- the server's OPENBLAS_CORETYPE: $(server_coretype)"
    echo
    echo "| training | whole statement s (median) | fastest s | feature phase s (median) | runs (s) |"
    echo "|---|---:|---:|---:|---|"
    for feat in false true; do
        echo "| $([ "$feat" = true ] && echo "with item features" || echo "plain") | $(med seconds "$feat") |" \
             "$(q -c "SELECT round(min(seconds)::numeric, 3) FROM bench.runs WHERE features = $feat") |" \
             "$([ "$feat" = true ] && med feature_seconds true || echo "-") |" \
             "$(q -c "SELECT string_agg(round(seconds::numeric, 2)::text, ', ' ORDER BY run) FROM bench.runs WHERE features = $feat") |"
    done
    echo
    echo "Extra seconds with features: $(q -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE features)
        - percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE NOT features))::numeric, 3) || ' (medians), ' ||
        round((min(seconds) FILTER (WHERE features) - min(seconds) FILTER (WHERE NOT features))::numeric, 3) || ' (fastest runs)'
        FROM bench.runs"); on a shared machine the feature phase of stats is the steadier figure."
    echo "The feature stats of the last run: \`$(q -c "SELECT stats -> 'item_features' FROM bench.runs WHERE features ORDER BY run DESC LIMIT 1")\`."
    echo
    [ "$placed" = 0 ] && echo "Placing new products: not measured (the installed reco has no reco.place_item)." ||
    echo "Placing new products: $placed calls of reco.place_item (32 sparse features + the 64-d"
    echo "embedding each, one transaction, a plpgsql loop) took $(printf '%.3f' "$place_seconds") s:"
    [ "$placed" = 0 ] || echo "$(awk -v s="$place_seconds" -v n="$placed" 'BEGIN { printf "%.3f", 1000 * s / n }') ms per item."
} | tee "$md"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
