#!/usr/bin/env bash
# test/bench/ials_defaults.sh — how reco's iALS defaults were chosen (issue 16): a grid of
# (regularization, reg_exponent, unobserved_weight, ...) trained and evaluated on every fold
# u1..u5 of MovieLens 100K, written as a markdown report with each configuration's five-fold
# mean and the per-fold figures of the chosen defaults and of the 0.5.0 defaults. Needs a
# server (PGHOST/PGPORT/PGUSER) with reco installed; the data is not shipped with reco
# (research licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/ials_defaults.sh [DATA_DIR] [GRID_FILE]
#
# Protocol (ml100k.sh's): train on uK.base with weight = rating, relevant = uK.test items
# rated >= 4, the user's training items excluded, K = 10; every figure is one reco.evaluate
# call. Defaults are chosen by the five-fold mean of NDCG@10 (never on u1 alone).
#
# GRID_FILE: one configuration per line, `label|options jsonb` (weight = rating); empty and
# `#` lines are skipped. The line labelled "defaults" trains with `{}` (the documented
# defaults of the installed reco) and the line labelled "0.5.0 defaults" with the explicit
# options of the 0.5.0 defaults; both must be present. Default grid: the lines below.
#
# Environment: IALS_DEFAULTS_DB (default reco_ials_defaults) the database, created and
# dropped; IALS_DEFAULTS_MD the report (default: stdout only); IALS_DEFAULTS_TSV a file to
# which every row is also appended: label fold P@10 NDCG@10 MAP@10 AUC seconds;
# IALS_DEFAULTS_FOLDS (default "1 2 3 4 5").
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
grid=${2:-}
db=${IALS_DEFAULTS_DB:-reco_ials_defaults}
md=${IALS_DEFAULTS_MD:-/dev/null}
tsv=${IALS_DEFAULTS_TSV:-}
folds=${IALS_DEFAULTS_FOLDS:-1 2 3 4 5}
. "$here/ml100k_lib.sh"
. "$here/machine.sh"
for f in $folds; do ml100k_require "u$f.base" "iALS defaults (MovieLens 100K u1..u5)"; done
ml100k_fresh_db
# Prints progress on stderr.
say() { echo "ials_defaults: $*" >&2; }
load_start=$(cut -d' ' -f1 /proc/loadavg)

# The default grid: the 0.5.0 defaults, the documented defaults, and around them
# reg_exponent x unobserved_weight x regularization (factors 64, 15 iterations, CG), then
# the chosen neighbourhood with another solver, more iterations and more factors.
default_grid() {
    cat <<'GRID'
0.5.0 defaults|{"regularization": 50, "reg_exponent": 0, "unobserved_weight": 1}
defaults|{}
GRID
    local nu a0 reg
    for nu in 0 0.5 1 1.5 2; do
        for a0 in 1 0.3 2; do
            for reg in $(grid_regs "$nu" "$a0"); do
                printf 'nu %s, a0 %s, reg %s|{"regularization": %s, "reg_exponent": %s, "unobserved_weight": %s}\n' \
                    "$nu" "$a0" "$reg" "$reg" "$nu" "$a0"
            done
        done
    done
    for reg in 28 29 32 33 35; do
        printf 'nu 0, a0 1, reg %s|{"regularization": %s}\n' "$reg" "$reg"
    done
    cat <<'GRID'
defaults, cholesky|{"solver": "cholesky"}
defaults, 25 iterations|{"iterations": 25}
defaults, k 128|{"factors": 128}
nu 1, a0 1, reg 0.0215|{"regularization": 0.0215, "reg_exponent": 1}
nu 1, a0 1, reg 0.024|{"regularization": 0.024, "reg_exponent": 1}
nu 1, a0 1, reg 0.0229, cholesky|{"regularization": 0.0229, "reg_exponent": 1, "solver": "cholesky"}
GRID
}

# The regularizations tried for (nu, a0): those that give λ_u = 50 x (0.5, 0.6, 0.8, 1) at a
# row of 100 entries, λ·(100 + a0·1650)^ν (ML-100K's folds have about 1,650 training items).
grid_regs() { # nu a0
    awk -v nu="$1" -v a0="$2" 'BEGIN {
        split("0.5 0.6 0.8 1", m, " ");
        for (i = 1; i <= 4; i++) printf "%s%.3g", (i > 1 ? " " : ""), 50 * m[i] / (100 + a0 * 1650) ^ nu }'
}

if [ -n "$grid" ]; then lines=$(grep -v '^#' "$grid" | grep -v '^$'); else lines=$(default_grid); fi

say "loading folds $folds"
q -c "CREATE EXTENSION reco" -c "CREATE SCHEMA ad" >/dev/null
ml100k_load_folds "$folds"
q -c "CREATE TABLE ad.results (seq int, label text, options jsonb, fold text, p10 float8, ndcg10 float8,
                               map10 float8, auc float8, seconds float8, params jsonb)" >/dev/null

seq=0
while IFS='|' read -r label options; do
    seq=$((seq + 1))
    say "$label"
    for f in $folds; do
        # train and evaluate in separate statements: the evaluation must see the new version
        q -c "SELECT reco.fit('ad_u$f', user_id, item_id, rating, '$options'::jsonb) FROM u${f}_base" >/dev/null
        q -c "INSERT INTO ad.results
              SELECT $seq, '$label', '$options'::jsonb, 'u$f', e.precision_at_k, e.ndcg_at_k, e.map_at_k, e.auc,
                     m.train_seconds, m.params
                FROM reco.evaluate('ad_u$f', 'SELECT user_id, item_id FROM u${f}_test WHERE rating >= 4') AS e,
                     (SELECT train_seconds, params FROM reco.models WHERE name = 'ad_u$f'
                       ORDER BY version DESC LIMIT 1) AS m"
    done
done <<<"$lines"
if [ -n "$tsv" ]; then
    q -c "SELECT label, fold, p10, ndcg10, map10, auc, seconds FROM ad.results ORDER BY seq, fold" >>"$tsv"
fi

# The params the documented defaults stored (what `{}` trained with).
stored=$(q -c "SELECT params - 'user_id_type' - 'item_id_type' - 'threads' - 'seed' - 'keep_versions'
                 FROM ad.results WHERE label = 'defaults' ORDER BY fold LIMIT 1")
n_folds=$(wc -w <<<"$folds")
{
    echo "## iALS defaults (MovieLens 100K u1..u5)"
    echo
    echo "Chosen by the mean of NDCG@10 over the folds u1..u5 (never one split), weight = rating,"
    echo "relevant = test items rated >= 4, training items excluded, K = 10 (ml100k.sh's protocol:"
    echo "the 0.5.0 defaults' u1 row is README's 0.3656). Folds: $folds. Generated by"
    echo "\`test/bench/ials_defaults.sh\`."
    echo
    bench_machine_line "$load_start"
    echo
    echo "The documented defaults (\`{}\`) trained with: \`$stored\`."
    echo
    echo "### Per fold: the documented defaults and the 0.5.0 defaults"
    echo
    echo "| configuration | fold | P@10 | NDCG@10 | MAP@10 | AUC | seconds |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    q -c "SELECT '| ' || label || ' | ' || fold || ' | ' || round(p10::numeric, 4) || ' | ' ||
                 round(ndcg10::numeric, 4) || ' | ' || round(map10::numeric, 4) || ' | ' ||
                 round(auc::numeric, 4) || ' | ' || round(seconds::numeric, 2) || ' |'
            FROM (SELECT label, fold, p10, ndcg10, map10, auc, seconds, seq FROM ad.results
                   WHERE label IN ('defaults', '0.5.0 defaults')
                  UNION ALL
                  SELECT label, '**mean**', avg(p10), avg(ndcg10), avg(map10), avg(auc), avg(seconds), min(seq)
                    FROM ad.results WHERE label IN ('defaults', '0.5.0 defaults') GROUP BY label) AS r
           ORDER BY seq DESC, fold"
    echo
    echo "### Every configuration: the mean over the folds (best NDCG@10 first)"
    echo
    echo "| configuration | options | u1 P@10 | u1 NDCG@10 | mean P@10 | mean NDCG@10 | mean MAP@10 | mean AUC | seconds |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    q -c "SELECT '| ' || label || ' | \`' || options::text || '\` | ' ||
                 coalesce(round(max(p10) FILTER (WHERE fold = 'u1')::numeric, 4)::text, '-') || ' | ' ||
                 coalesce(round(max(ndcg10) FILTER (WHERE fold = 'u1')::numeric, 4)::text, '-') || ' | ' ||
                 round(avg(p10)::numeric, 4) || ' | ' || round(avg(ndcg10)::numeric, 4) || ' | ' ||
                 round(avg(map10)::numeric, 4) || ' | ' || round(avg(auc)::numeric, 4) || ' | ' ||
                 round(avg(seconds)::numeric, 2) || ' |'
            FROM ad.results GROUP BY seq, label, options
          HAVING count(*) = $n_folds
           ORDER BY avg(ndcg10) DESC, seq"
} | tee "$md"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
