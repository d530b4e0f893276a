# shellcheck shell=bash
# test/bench/cold_lib.sh — what cold_items.sh and cold_users.sh share: a fresh database with
# reco, cold_lib.sql and MovieLens 100K, training with a feature source, the best
# feature_regularization of a sweep and its table. Source it after ml100k_lib.sh (data, db, q).

# Sets load_start and scratch (removed on exit); a fresh database with reco, cold_lib.sql's
# schema cold and ml.ratings, ml.item_features, ml.user_features.
cold_setup() {
    load_start=$(cut -d' ' -f1 /proc/loadavg)
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/cold.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    ml100k_fresh_db
    q -c "CREATE EXTENSION reco" -f "$here/cold_lib.sql" >/dev/null
    ml100k_load_movielens "$scratch"
}

# Trains model $1 on source $2 (weight = rating, the ials defaults) with ml.$3_features as its
# $3_features ($3 = item or user) and feature_regularization $4 ('default' = the argument left out);
# feature_mapping $COLD_FEATURE_MAPPING when set ('ridge', 'prior').
cold_train() { # model source side regularization
    local reg=", feature_regularization => $4"
    [ "$4" = default ] && reg=
    q -c "SELECT reco.train('$1', '$2', weight_col => 'rating', $3_features => ARRAY['ml.$3_features']$reg$(cold_mapping_arg))" >/dev/null
}

# Prints reco.train's feature_mapping argument from $COLD_FEATURE_MAPPING (nothing when unset).
cold_mapping_arg() {
    [ -n "${COLD_FEATURE_MAPPING:-}" ] && echo ", feature_mapping => '$COLD_FEATURE_MAPPING'"
    return 0
}

# Prints "train_seconds feature_seconds" of model $1's newest version ($2 = the side; NULL without a feature phase).
cold_train_seconds() { # model side
    q -c "SELECT train_seconds, coalesce(stats -> '$2_features' ->> 'seconds', 'NULL')
            FROM reco.models WHERE name = '$1' ORDER BY version DESC LIMIT 1" | tr '\t' ' '
}

# Prints feature_regularization stored in the params of model $1's newest version.
cold_stored_regularization() { # model
    q -c "SELECT params -> 'feature_regularization' FROM reco.models WHERE name = '$1' ORDER BY version DESC LIMIT 1"
}

# Prints the feature_regularization of the sweep in mode $1 with the best mean NDCG@10 over the
# folds (ties: the smaller value).
cold_best() { # mode
    q -c "SELECT substr(method, length('reco, feature_regularization ') + 1) FROM cold.results
           WHERE mode = '$1' AND method LIKE 'reco, feature_regularization %'
             AND method <> 'reco, feature_regularization default'
           GROUP BY method ORDER BY avg(ndcg10) DESC, substr(method, length('reco, feature_regularization ') + 1)::float8
           LIMIT 1"
}

# Prints the markdown rows of the sweep in mode $1: the means over the folds and NDCG@10 per fold.
cold_sweep_table() { # mode
    echo "| feature_regularization | P@10 | NDCG@10 | AUC | NDCG@10 per fold | training s | feature phase s |"
    echo "|---|---:|---:|---:|---|---:|---:|"
    q -c "SELECT '| ' || substr(method, length('reco, feature_regularization ') + 1) || ' | ' ||
                 round(avg(p10)::numeric, 4) || ' | ' || round(avg(ndcg10)::numeric, 4) || ' | ' ||
                 round(avg(auc)::numeric, 4) || ' | ' ||
                 string_agg(round(ndcg10::numeric, 4)::text, ' / ' ORDER BY fold) || ' | ' ||
                 round(avg(seconds)::numeric, 2) || ' | ' || coalesce(round(avg(feature_seconds)::numeric, 3)::text, '-') || ' |'
            FROM cold.results WHERE mode = '$1' AND method LIKE 'reco, feature_regularization %'
           GROUP BY method ORDER BY method = 'reco, feature_regularization default',
                 nullif(substr(method, length('reco, feature_regularization ') + 1), 'default')::float8"
}
