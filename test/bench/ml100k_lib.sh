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
