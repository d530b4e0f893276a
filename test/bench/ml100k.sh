#!/usr/bin/env bash
# test/bench/ml100k.sh — ranking quality on MovieLens 100K (BENCHMARKS.md protocol):
# train on uK.base (weight = rating, or as configured), relevant = uK.test items
# rated >= 4, training items excluded, K = 10.  Needs a server (PGHOST/PGPORT/
# PGUSER) with reco installed; the data is not shipped with reco (research
# licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/ml100k.sh [DATA_DIR] [FOLDS] [CONFIGS_FILE]
# CONFIGS_FILE: one configuration per line:
#   label|weight expression|options jsonb[|implicit's u1 P@10 NDCG@10 MAP@10]
# (the peer figures are for test/bench/run.sh's report; this script ignores them).
#
# Environment: ML100K_DB (default reco_ml100k) the database, created and dropped;
# ML100K_TSV a file to which every result row is also appended, tab-separated:
#   label fold P@10 R@10 MAP@10 NDCG@10 capped AUC users seconds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
folds=${2:-"1 2 3 4 5"}
configs=${3:-$here/ml100k_configs.txt}
db=${ML100K_DB:-reco_ml100k}
tsv=${ML100K_TSV:-}
if [ ! -f "$data/u1.base" ]; then
    echo "ml100k: no MovieLens 100K data at $data (download it from grouplens.org); skipped"
    exit 0
fi
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Runs SQL in the benchmark database: unaligned, tab-separated, stops on the first error.
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# Runs a query that returns one tab-separated result row; prints it as a table line and
# appends it to $tsv if set.
result_row() {
    local row f
    row=$(q -c "$1")
    IFS=$'\t' read -r -a f <<<"$row"
    printf '%-44s %4s %8s %8s %8s %8s %8s %8s %6s %7s\n' "${f[@]}"
    if [ -n "$tsv" ]; then printf '%s\n' "$row" >>"$tsv"; fi
}
q -c "CREATE EXTENSION reco"
for f in $folds; do
    q -c "CREATE TABLE u${f}_base (user_id bigint, item_id bigint, rating real, ts bigint)" \
      -c "CREATE TABLE u${f}_test (user_id bigint, item_id bigint, rating real, ts bigint)" \
      -c "\\copy u${f}_base FROM '$data/u$f.base'" -c "\\copy u${f}_test FROM '$data/u$f.test'"
done
printf '%-44s %4s %8s %8s %8s %8s %8s %8s %6s %7s\n' config fold P@10 R@10 MAP@10 NDCG@10 capped AUC users seconds
# The popularity baseline (most-bought first, ties by item id), same protocol, in SQL.
for f in $folds; do
    result_row "
      WITH base AS (SELECT DISTINCT user_id, item_id FROM u${f}_base),
      pop AS (SELECT item_id, count(*) AS c FROM base GROUP BY item_id),
      rel AS (SELECT DISTINCT user_id, item_id FROM u${f}_test
               WHERE rating >= 4 AND user_id IN (SELECT user_id FROM base)),
      users AS (SELECT user_id, least(count(*), 10) AS m, count(*) AS nrel FROM rel GROUP BY user_id),
      top AS (SELECT u.user_id, t.item_id, t.r
                FROM users AS u
               CROSS JOIN LATERAL (
                     SELECT p.item_id, row_number() OVER (ORDER BY p.c DESC, p.item_id) AS r
                       FROM pop AS p
                      WHERE NOT EXISTS (SELECT FROM base AS b WHERE b.user_id = u.user_id AND b.item_id = p.item_id)
                      ORDER BY p.c DESC, p.item_id LIMIT 10) AS t),
      hits AS (SELECT t.user_id, t.r, (rel.item_id IS NOT NULL)::int AS hit,
                      sum((rel.item_id IS NOT NULL)::int) OVER (PARTITION BY t.user_id ORDER BY t.r) AS cum
                 FROM top AS t LEFT JOIN rel USING (user_id, item_id)),
      per AS (SELECT h.user_id, u.m, u.nrel, sum(h.hit) AS hits,
                     sum(h.hit * h.cum::float8 / h.r) / u.m AS ap,
                     sum(h.hit / log(2, h.r + 1)) AS dcg,
                     (SELECT sum(1 / log(2, i + 1)) FROM generate_series(1, u.m) AS i) AS idcg
                FROM hits AS h JOIN users AS u USING (user_id)
               GROUP BY h.user_id, u.m, u.nrel)
      SELECT 'popularity baseline', 'u$f',
             round(avg(hits / 10.0), 4), round(avg(hits::numeric / nrel), 4),
             round(avg(ap)::numeric, 4), round(avg(dcg / idcg)::numeric, 4),
             round(sum(hits)::numeric / sum(m), 4), '-', count(*), '-'
        FROM per"
done
while IFS='|' read -r label weight options _peer; do
    [ -z "$label" ] || [ "${label#\#}" != "$label" ] && continue
    for f in $folds; do
        # Train and evaluate in separate statements: the evaluation must see the new version.
        q -c "SET client_min_messages = warning" \
          -c "SELECT reco.fit('ml_u$f', user_id, item_id, ($weight)::real, '$options'::jsonb) FROM u${f}_base" >/dev/null
        result_row "
          SELECT '$label', 'u$f',
                 round(e.precision_at_k::numeric, 4), round(e.recall_at_k::numeric, 4),
                 round(e.map_at_k::numeric, 4), round(e.ndcg_at_k::numeric, 4),
                 round(e.capped_precision::numeric, 4), round(e.auc::numeric, 4), e.users_evaluated,
                 round(m.train_seconds::numeric, 2)
            FROM reco.evaluate('ml_u$f', 'SELECT user_id, item_id FROM u${f}_test WHERE rating >= 4') AS e,
                 (SELECT train_seconds FROM reco.models WHERE name = 'ml_u$f' ORDER BY version DESC LIMIT 1) AS m"
    done
done <"$configs"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
