# test/bench/ml100k_lib.sh — the prologue shared by the MovieLens 100K scripts that write a
# markdown section (temporal.sh, diversity.sh): skip without the data, a fresh database, and
# the query helper. Source it after setting data, db, md and the section's progress tag.

# Writes "skipped" as the section `title` and exits 0 unless $data/`file` exists.
ml100k_require() { # file title
    [ -f "$data/$1" ] && return 0
    printf '## %s\n\n%s\n' "$2" \
        "skipped: no MovieLens 100K data at $data ($1 missing; download it from grouplens.org)" | tee "$md"
    exit 0
}

# Drops and creates the benchmark database $db.
ml100k_fresh_db() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
}

# Runs SQL in the benchmark database: unaligned, tab-separated, stops on the first error.
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" "$@"; }

# Loads the folds uN.base and uN.test of $data into tables uN_base and uN_test (user_id, item_id, rating, ts).
ml100k_load_folds() { # folds
    local f
    for f in $1; do
        q -c "CREATE TABLE u${f}_base (user_id bigint, item_id bigint, rating real, ts bigint)" \
          -c "CREATE TABLE u${f}_test (user_id bigint, item_id bigint, rating real, ts bigint)" \
          -c "\\copy u${f}_base FROM '$data/u$f.base'" -c "\\copy u${f}_test FROM '$data/u$f.test'" >/dev/null
    done
}

# Loads u.data into ml.ratings (user_id, item_id, rating, ts), the item features of u.item into
# ml.item_features (item_id, feature): 'genre:<name>' per genre flag (names of u.genre) and
# 'decade:<1990>' of the release date when it has one, and the user features of u.user into
# ml.user_features (user_id, feature): 'age:<band>' (MovieLens 1M's bands: 1-17, 18-24, 25-34,
# 35-44, 45-49, 50-55, 56+), 'gender:<M|F>', 'occupation:<name>'. $1 = a scratch directory.
ml100k_load_movielens() { # scratch_dir
    awk -F'|' 'NR == FNR { if ($1 != "") g[$2] = $1; next }
        { for (i = 0; i < 19; i++) if ($(6 + i) == 1) print $1 "\tgenre:" g[i]
          if ($3 != "") print $1 "\tdecade:" int(substr($3, length($3) - 3) / 10) * 10 }' \
        "$data/u.genre" "$data/u.item" >"$1/item_features.tsv"
    awk -F'|' '{ a = $2
                 band = a < 18 ? "1-17" : a < 25 ? "18-24" : a < 35 ? "25-34" : a < 45 ? "35-44" : a < 50 ? "45-49" : a < 56 ? "50-55" : "56+"
                 print $1 "\tage:" band; print $1 "\tgender:" $3; print $1 "\toccupation:" $4 }' \
        "$data/u.user" >"$1/user_features.tsv"
    q -c "CREATE SCHEMA ml" \
      -c "CREATE TABLE ml.ratings (user_id bigint, item_id bigint, rating real, ts bigint)" \
      -c "CREATE TABLE ml.item_features (item_id bigint, feature text)" \
      -c "CREATE TABLE ml.user_features (user_id bigint, feature text)" \
      -c "\\copy ml.ratings FROM '$data/u.data'" \
      -c "\\copy ml.item_features FROM '$1/item_features.tsv'" \
      -c "\\copy ml.user_features FROM '$1/user_features.tsv'" \
      -c "ANALYZE ml.ratings, ml.item_features, ml.user_features" >/dev/null
}
