#!/usr/bin/env bash
# test/bench/ml100k.sh — ranking quality on MovieLens 100K (BENCHMARKS.md protocol):
# train on uK.base (weight = rating, or as configured), relevant = uK.test items
# rated >= 4, training items excluded, K = 10.  Needs a server (PGHOST/PGPORT/
# PGUSER) with reco installed; the data is not shipped with reco (research
# licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/ml100k.sh [DATA_DIR] [FOLDS] [CONFIGS_FILE]
# CONFIGS_FILE: one configuration per line: label|weight expression|options jsonb
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
folds=${2:-"1 2 3 4 5"}
configs=${3:-$here/ml100k_configs.txt}
db=${ML100K_DB:-reco_ml100k}
if [ ! -f "$data/u1.base" ]; then
    echo "ml100k: no MovieLens 100K data at $data (download it from grouplens.org); skipped"
    exit 0
fi
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q -c "CREATE EXTENSION reco"
for f in $folds; do
    q -c "CREATE TABLE u${f}_base (user_id bigint, item_id bigint, rating real, ts bigint)" \
      -c "CREATE TABLE u${f}_test (user_id bigint, item_id bigint, rating real, ts bigint)" \
      -c "\\copy u${f}_base FROM '$data/u$f.base'" -c "\\copy u${f}_test FROM '$data/u$f.test'"
done
printf '%-44s %4s %8s %8s %8s %8s %8s %8s %6s %7s\n' config fold P@10 R@10 MAP@10 NDCG@10 capped AUC users seconds
while IFS='|' read -r label weight options; do
    [ -z "$label" ] || [ "${label#\#}" != "$label" ] && continue
    for f in $folds; do
        # Train and evaluate in separate statements: the evaluation must see the new version.
        q -c "SET client_min_messages = warning" \
          -c "SELECT reco.fit('ml_u$f', user_id, item_id, ($weight)::real, '$options'::jsonb) FROM u${f}_base" >/dev/null
        q -c "
          SELECT format('%-44s %4s %8s %8s %8s %8s %8s %8s %6s %7s', '$label', 'u$f',
                 round(e.precision_at_k::numeric, 4), round(e.recall_at_k::numeric, 4),
                 round(e.map_at_k::numeric, 4), round(e.ndcg_at_k::numeric, 4),
                 round(e.capped_precision::numeric, 4), round(e.auc::numeric, 4), e.users_evaluated,
                 round(m.train_seconds::numeric, 2))
            FROM reco.evaluate('ml_u$f', 'SELECT user_id, item_id FROM u${f}_test WHERE rating >= 4') AS e,
                 (SELECT train_seconds FROM reco.models WHERE name = 'ml_u$f' ORDER BY version DESC LIMIT 1) AS m"
    done
done <"$configs"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
