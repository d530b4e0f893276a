#!/usr/bin/env bash
# test/bench/cold_users.sh — cold users from their profiles on MovieLens 100K (issue 14): reco
# trained with user features beside global popularity and the popularity in the user's
# profile cell, on five hashed user folds. Writes a markdown section. Needs a server
# (PGHOST/PGPORT/PGUSER) with reco installed; the data is not shipped with reco (research
# licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/cold_users.sh [DATA_DIR]
#
# Protocol: the users are split into 5 groups by cold.grp('user', user_id) (md5, see
# cold_lib.sql); in fold f group f-1 (about 20 %) is held out with all its interactions and
# reco trains on the other users (weight = rating, the ials defaults) with user_features =>
# ml.user_features ('age:<band>', 'gender:<M|F>', 'occupation:<name>' of EVERY user, so the
# held-out users are placed from their profiles at training). Each held-out user with a
# rating >= 4 ranks every item of the training (reco.recommend, n = all items); relevant =
# the user's items rated >= 4 among them. One metric (cold_lib.sql's cold.metrics: P@10,
# NDCG@10, AUC) for every method:
#   - reco with user features, for each feature_regularization of the grid and the default;
#   - global popularity: the item's training interactions;
#   - cell popularity: the item's training interactions by the warm users of the user's cell
#     age band x gender x occupation, backing off to age band x gender and then to gender when
#     the cell has fewer than COLD_CELL_MIN warm users; ties by global popularity.
#
# Environment: COLD_USERS_DB (default reco_cold_users) the database, created and dropped;
# COLD_USERS_MD the report section (default: stdout only); COLD_FOLDS (default "1 2 3 4 5");
# COLD_USERS_GRID the feature_regularization values (default "0.1 1 3 10 30 100 300");
# COLD_CELL_MIN (default 10); COLD_WITH_RECO=0: the baselines only (no reco training).
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
db=${COLD_USERS_DB:-reco_cold_users}
md=${COLD_USERS_MD:-/dev/null}
folds=${COLD_FOLDS:-1 2 3 4 5}
grid=${COLD_USERS_GRID:-0.1 1 3 10 30 100 300}
cell_min=${COLD_CELL_MIN:-10}
with_reco=${COLD_WITH_RECO:-1}
best=none default_value=none
. "$here/ml100k_lib.sh"
. "$here/machine.sh"
. "$here/cold_lib.sh"
ml100k_require u.user "Cold users from profiles (MovieLens 100K)"
# Prints progress on stderr.
say() { echo "cold_users: $*" >&2; }
cold_setup
# Every user's profile in one row, and the three cell keys of the back-off.
q -c "CREATE TABLE ml.profile AS
      SELECT user_id, max(feature) FILTER (WHERE feature LIKE 'age:%') AS age,
             max(feature) FILTER (WHERE feature LIKE 'gender:%') AS gender,
             max(feature) FILTER (WHERE feature LIKE 'occupation:%') AS occupation
        FROM ml.user_features GROUP BY user_id" \
  -c "CREATE TABLE ml.cells AS
      SELECT user_id, 1 AS level, age || ' ' || gender || ' ' || occupation AS cell FROM ml.profile
      UNION ALL SELECT user_id, 2, age || ' ' || gender FROM ml.profile
      UNION ALL SELECT user_id, 3, gender FROM ml.profile" \
  -c "CREATE TABLE ml.folds (fold int, held_out bigint, train_rows bigint, train_items bigint, test_users bigint,
                             level1 bigint, level2 bigint, level3 bigint)"

for f in $folds; do
    say "fold $f: baselines"
    q -c "CREATE VIEW ml.train_$f AS SELECT user_id, item_id, rating FROM ml.ratings
           WHERE cold.grp('user', user_id) <> $f - 1" \
      -c "CREATE TABLE ml.items_$f AS SELECT item_id, count(*) AS c FROM ml.train_$f GROUP BY item_id" \
      -c "INSERT INTO cold.rel SELECT DISTINCT $f, user_id, item_id FROM ml.ratings
           WHERE rating >= 4 AND cold.grp('user', user_id) = $f - 1 AND item_id IN (SELECT item_id FROM ml.items_$f)" \
      -c "CREATE TABLE ml.test_$f AS SELECT DISTINCT user_id FROM cold.rel WHERE fold = $f"
    # each test user's cell: the finest level with at least $cell_min warm users (level 4 = everyone)
    q -c "CREATE TABLE ml.choice_$f AS
          WITH warm AS (SELECT c.level, c.cell, count(*) AS users FROM ml.cells AS c
                         WHERE cold.grp('user', c.user_id) <> $f - 1 GROUP BY c.level, c.cell)
          SELECT t.user_id, coalesce(min(c.level) FILTER (WHERE w.users >= $cell_min), 4) AS level
            FROM ml.test_$f AS t JOIN ml.cells AS c USING (user_id) LEFT JOIN warm AS w USING (level, cell)
           GROUP BY t.user_id" \
      -c "INSERT INTO ml.folds
          SELECT $f, (SELECT count(*) FROM ml.profile WHERE cold.grp('user', user_id) = $f - 1),
                 (SELECT count(*) FROM ml.train_$f), (SELECT count(*) FROM ml.items_$f),
                 (SELECT count(*) FROM ml.test_$f),
                 (SELECT count(*) FROM ml.choice_$f WHERE level = 1), (SELECT count(*) FROM ml.choice_$f WHERE level = 2),
                 (SELECT count(*) FROM ml.choice_$f WHERE level >= 3)" \
      -c "INSERT INTO cold.scores
          SELECT 'global popularity', $f, 'users', t.user_id, i.item_id, i.c
            FROM ml.test_$f AS t CROSS JOIN ml.items_$f AS i" \
      -c "INSERT INTO cold.scores
          WITH mine AS (SELECT ch.user_id, c.cell, c.level FROM ml.choice_$f AS ch
                          JOIN ml.cells AS c ON c.user_id = ch.user_id AND c.level = ch.level),
               pop AS (SELECT c.level, c.cell, t.item_id, count(*) AS c
                         FROM ml.train_$f AS t JOIN ml.cells AS c USING (user_id) GROUP BY c.level, c.cell, t.item_id)
          SELECT 'cell popularity', $f, 'users', t.user_id, i.item_id,
                 coalesce(p.c, 0) + i.c / 1e6
            FROM ml.test_$f AS t CROSS JOIN ml.items_$f AS i
            LEFT JOIN mine AS m ON m.user_id = t.user_id
            LEFT JOIN pop AS p ON p.level = m.level AND p.cell = m.cell AND p.item_id = i.item_id" \
      -c "CALL cold.record('global popularity', $f, 'users')" -c "CALL cold.record('cell popularity', $f, 'users')"
    [ "$with_reco" = 1 ] || continue
    for reg in default $grid; do
        say "fold $f: reco, feature_regularization $reg"
        cold_train "cu_$f" "ml.train_$f" user "$reg"
        [ "$reg" = default ] && default_value=$(cold_stored_regularization "cu_$f")
        q -c "INSERT INTO cold.scores
              SELECT 'reco, feature_regularization $reg', $f, 'users', t.user_id, r.item_id, r.score
                FROM ml.test_$f AS t CROSS JOIN LATERAL reco.recommend('cu_$f', t.user_id, n => 100000) AS r" \
          >/dev/null
        read -r secs fsecs <<<"$(cold_train_seconds "cu_$f" user)"
        q -c "CALL cold.record('reco, feature_regularization $reg', $f, 'users', $secs, $fsecs)"
    done
done
if [ "$with_reco" = 1 ]; then
    best=$(cold_best users)
fi

{
    echo "## Cold users from profiles (MovieLens 100K, five hashed user folds)"
    echo
    echo "Each fold holds out about 20 % of the users (md5 of the id, cold_lib.sql's cold.grp) with all"
    echo "their interactions; reco trains on the others (weight = rating, the ials defaults) with"
    echo "user_features = 'age:<band>' (1-17, 18-24, 25-34, 35-44, 45-49, 50-55, 56+), 'gender:<M|F>',"
    echo "'occupation:<name>' of every user, so the held-out users are placed from their profiles. Each"
    echo "held-out user ranks every item of the training; relevant = rated >= 4. Cell popularity: the"
    echo "training interactions of the warm users of the user's cell age band x gender x occupation,"
    echo "backing off to age band x gender, then gender, when the cell has fewer than $cell_min warm users;"
    echo "ties by global popularity. One SQL metric (cold.metrics) for every method. Generated by"
    echo "\`test/bench/cold_users.sh\`."
    echo
    bench_machine_line "$load_start"
    echo
    echo "| fold | held-out users | training rows | training items | test users | cell: full / age x gender / coarser |"
    echo "|---|---:|---:|---:|---:|---|"
    q -c "SELECT '| ' || fold || ' | ' || held_out || ' | ' || train_rows || ' | ' || train_items || ' | ' ||
                 test_users || ' | ' || level1 || ' / ' || level2 || ' / ' || level3 || ' |' FROM ml.folds ORDER BY fold"
    echo
    echo "### Per fold (feature_regularization $best: the best five-fold mean NDCG@10 of the sweep below)"
    echo
    echo "| method | fold | users | P@10 | NDCG@10 | AUC |"
    echo "|---|---|---:|---:|---:|---:|"
    q -c "SELECT '| ' || method || ' | ' || fold || ' | ' || users || ' | ' || round(p10::numeric, 4) || ' | ' ||
                 round(ndcg10::numeric, 4) || ' | ' || round(auc::numeric, 4) || ' |'
            FROM (SELECT method, fold::text, users, p10, ndcg10, auc, fold AS o FROM cold.results
                  UNION ALL
                  SELECT method, '**mean**', round(avg(users)), avg(p10), avg(ndcg10), avg(auc), 99
                    FROM cold.results GROUP BY method) AS r
           WHERE method IN ('reco, feature_regularization $best', 'reco, feature_regularization default',
                            'global popularity', 'cell popularity')
           ORDER BY CASE WHEN method LIKE 'reco%' THEN 0 WHEN method LIKE 'cell%' THEN 1 ELSE 2 END, method, o"
    echo
    echo "### The feature_regularization sweep (five-fold means)"
    echo
    cold_sweep_table users
    echo
    echo "The default's value: \`$default_value\` (params of a model trained without the argument)."
} | tee "$md"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
