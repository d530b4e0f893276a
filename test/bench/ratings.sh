#!/usr/bin/env bash
# test/bench/ratings.sh — star ratings (algorithm 'als', issue 16) on MovieLens 100K: for each
# fold uN, reco.train on uN.base with the rating as the weight and the documented defaults,
# then reco.evaluate_ratings on uN.test (RMSE, MAE, fallback rows); a markdown table with
# the five-fold mean beside Surprise's published five-fold figures. Needs a server
# (PGHOST/PGPORT/PGUSER) with reco installed; the data is not shipped with reco (research
# licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/ratings.sh [DATA_DIR]
#
# Environment: RATINGS_DB (default reco_ratings) the database, created and dropped;
# RATINGS_MD the markdown section's file (default: stdout only); RATINGS_FOLDS (default
# "1 2 3 4 5"); RATINGS_CONFIGS extra configurations, ';'-separated "label|options jsonb"
# (default: one with reg_exponent 0.75 and regularization 0.45, the best of the grid).
# shellcheck disable=SC2016  # backquotes in the report's strings are markdown
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
db=${RATINGS_DB:-reco_ratings}
md=${RATINGS_MD:-/dev/null}
folds=${RATINGS_FOLDS:-1 2 3 4 5}
configs=${RATINGS_CONFIGS:-'reg_exponent 0.75, regularization 0.45|{"reg_exponent": 0.75, "regularization": 0.45}'}
. "$here/ml100k_lib.sh"
. "$here/machine.sh"
ml100k_require u1.base "Star ratings (MovieLens 100K, five folds)"
ml100k_fresh_db
load=$(cut -d' ' -f1 /proc/loadavg)
q -c "CREATE EXTENSION reco"
ml100k_load_folds "$folds"

# One configuration on every fold: prints a markdown row per fold and the mean row.
run_config() { # label options-jsonb
    local label=$1 options=$2 f row rows=""
    for f in $folds; do
        # two statements: the evaluation must see the version the training committed
        row=$(q -c "SELECT train_seconds FROM reco.train('r$f', 'u${f}_base',
                      '{\"algorithm\": \"als\", \"weight_col\": \"rating\", \"threads\": 2}'::jsonb || '$options'::jsonb)")
        row+=$'\t'$(q -c "SELECT rmse, mae, fallback_rows, rows_scored FROM reco.evaluate_ratings('r$f', 'u${f}_test')")
        rows+="$f"$'\t'"$row"$'\n'
        printf '%s\n' "$row" | awk -F'\t' -v l="$label" -v f="$f" \
            '{ printf "| %s | u%s | %.4f | %.4f | %d of %d | %.2f |\n", l, f, $2, $3, $4, $5, $1 }'
        echo "ratings: $label u$f done" >&2
    done
    printf '%s' "$rows" | awk -F'\t' -v l="$label" \
        '{ s += $2; r += $3; m += $4; n++ } END { printf "| **%s** | **mean** | **%.4f** | **%.4f** | | %.2f |\n", l, r / n, m / n, s / n }'
}

{
    echo "## Star ratings (MovieLens 100K, five folds)"
    echo
    bench_machine_line "$load"
    echo "- protocol: \`reco.train('rN', 'uN_base', weight_col => 'rating', algorithm => 'als')\` (threads 2), then \`reco.evaluate_ratings('rN', 'uN_test')\`; a user or item unknown to the training split is predicted by the fallback (μ + b_i, μ + b_u, μ)"
    echo
    echo "| configuration | fold | RMSE | MAE | fallback rows | training s |"
    echo "|---|---|---|---|---|---|"
    run_config "reco als, defaults (k 64, λ 0.12, ν 1, 10 iterations)" '{}'
    IFS=';' read -r -a extra <<<"$configs"
    for c in "${extra[@]}"; do
        [ -n "$c" ] || continue
        run_config "reco als, ${c%%|*}" "${c#*|}"
    done
    echo
    echo "Surprise's published five-fold figures on ML-100K (its documentation's benchmark table: five-fold cross-validation on its own random splits of u.data, not u1..u5; quoted as published, not run here):"
    echo
    echo "| algorithm | RMSE | MAE |"
    echo "|---|---|---|"
    echo "| SVD | 0.934 | 0.737 |"
    echo "| SVD++ | 0.919 | 0.721 |"
    echo "| BaselineOnly | 0.944 | — |"
} | tee "$md"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $db"
