#!/usr/bin/env bash
# test/bench/million.sh — serving a 1M-item catalogue (issue 18, "A million items"): a
# k 64 model of 1,000,000 items and 500,000 users trained on ~8M Zipf interactions
# (test/bench/synth.sql), then reco.recommend(user, 10) p50/p99 under pgbench (1 and 2
# clients) and the cache's build time, with reco.cache_size too small for the item matrix
# (256MB, the default before 0.6.0: every call reads the matrix from the table; 16MB at
# SCALE=small) and large
# enough (1GB), beside the in-process floor (test/bench/serve_floor.c: sgemv + top-10)
# measured in the same run; the once-per-version WARNING of a matrix that does not fit; and
# reco.import_model of the trained factors (exported with reco.to_array) at that scale; and
# exact pruning's worst case, random item vectors (imported), beside the trained ones.
#
# Runs against an existing server with reco installed (PGHOST/PGPORT/PGUSER from the
# environment), in its own database, dropped at the end unless KEEP_DB=1.  Timing is
# reported, never judged: the exit status says only whether every step ran.
#
#   test/bench/million.sh [DB]
#
# Environment:
#   DB        database (default reco_millionbench; the argument wins)
#   SCALE     default: 1,000,000 items, 500,000 users, 16 draws per user (~8M interactions)
#             small:     100,000 items,  50,000 users, 16 draws per user (a quick check)
#   DURATION  seconds per pgbench run with the large cache (default 15; small: 5)
#   RESULTS   markdown output (default test/bench/results/million-DATE[-small].md)
#   KEEP_DB   1: keep the database
#   MAINT_DB  database for CREATE/DROP DATABASE (default postgres)
set -euo pipefail
shopt -s inherit_errexit

DB=${1:-${DB:-reco_millionbench}}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case ${SCALE:=default} in
    default) items=1000000; users=500000; DURATION=${DURATION:-15}; suffix=; small_cache=256MB ;;
    small) items=100000; users=50000; DURATION=${DURATION:-5}; suffix=-small; small_cache=16MB ;;
    *) echo "million.sh: SCALE must be default or small, not '$SCALE'" >&2; exit 2 ;;
esac
per_user=16
KEEP_DB=${KEEP_DB:-0}
MAINT_DB=${MAINT_DB:-postgres}
large_cache=1GB
slow_calls=6          # pgbench transactions per client with the small cache (each reads the matrix)
skip_tx=20            # large cache: each client's first transactions (prepare, cache build) left out
RESULTS=${RESULTS:-$here/results/million-$(date +%Y-%m-%d)$suffix.md}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reco_million.XXXXXX")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
created_db=0

# Prints a progress message on stderr.
say() { echo "million: $*" >&2; }

# Removes the temporary files and, if this run created it, the database.
cleanup() {
    local rc=$?
    rm -rf "$tmp"
    if [ "$created_db" = 1 ] && [ "$KEEP_DB" != 1 ]; then
        psql -X -q -d "$MAINT_DB" -c "DROP DATABASE IF EXISTS \"$DB\"" >/dev/null 2>&1 || true
    fi
    [ $rc -eq 0 ] || echo "million.sh: FAILED (exit $rc)" >&2
}
trap cleanup EXIT

# SQL in the benchmark database: unaligned, tuples only, stops on the first error.
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# A fresh database with reco and schema millionbench (an existing one must be this bench's).
prepare_db() {
    if [ "$(psql -X -At -d "$MAINT_DB" -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" = 0 ]; then
        psql -X -q -d "$MAINT_DB" -c "CREATE DATABASE \"$DB\"" >/dev/null
        created_db=1
    elif [ "$(q -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'millionbench'")" != 1 ]; then
        echo "million.sh: database $DB exists and is not this benchmark's (no schema millionbench)" >&2
        exit 1
    fi
    q -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS reco CASCADE" \
      -c "CREATE EXTENSION reco" -c "CREATE SCHEMA IF NOT EXISTS millionbench" -c "
      CREATE OR REPLACE FUNCTION millionbench.timed_ms(query text, OUT ms float8, OUT rows bigint)
      LANGUAGE plpgsql AS \$f\$
      DECLARE t timestamptz := clock_timestamp();
      BEGIN
          EXECUTE query INTO rows;
          ms := 1000 * extract(epoch FROM clock_timestamp() - t);
      END \$f\$"
}

# Seconds a step took, from its start (date +%s.%N).
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# The interactions (synth.sql, deterministic) and the trained model m1m (k 64, 5 iterations).
build_model() {
    local t0
    say "generating ~$((users * per_user)) interactions ($users users, $items items)"
    t0=$(date +%s.%N)
    q -v table=millionbench.inter -v users="$users" -v items="$items" -v per_user="$per_user" \
      -v seed=7 -v cover=1 -f "$here/synth.sql"
    gen_s=$(since "$t0")
    say "training m1m (factors 64, 5 iterations)"
    t0=$(date +%s.%N)
    q -c "SET client_min_messages = warning" -c "SET reco.max_memory = '8GB'" -c "
      SELECT 1 FROM reco.train('m1m', 'millionbench.inter', weight_col => 'value', factors => 64, iterations => 5)" >/dev/null
    train_s=$(since "$t0")
    read -r n_inter n_users n_items train_seconds <<<"$(q -F ' ' -c "SELECT n_interactions, n_users, n_items,
        round(train_seconds::numeric, 1) FROM reco.models WHERE name = 'm1m' ORDER BY version DESC LIMIT 1")"
    read -r uid_lo uid_hi <<<"$(q -F ' ' -c "SELECT min(user_id), max(user_id) FROM reco.user_factors
        WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'm1m')")"
}

# serve_floor.c for the catalogue, 1 and 2 threads, in the same run.
run_floor() {
    say "floor: serve_floor $items items, 1 and 2 threads"
    # shellcheck disable=SC2046
    gcc -O3 -Wall -Wextra -I "$root/src" $(pkg-config --cflags openblas) -o "$tmp/serve_floor" \
        "$here/serve_floor.c" "$root/src/topk.c" $(pkg-config --libs openblas) -lm
    "$tmp/serve_floor" -r 300 "$items" >"$tmp/floor.out"
    floor1=$(awk '$1 == "floor" && / threads=1 / { sub("median_ms=", "", $7); print $7 }' "$tmp/floor.out")
    floor2=$(awk '$1 == "floor" && / threads=2 / { sub("median_ms=", "", $7); print $7 }' "$tmp/floor.out")
}

# Medians (ms) over 3 new connections with reco.cache_size = $1 of: the first recommend of the
# connection (loads, and with room builds the cache), the second, and the matrix bytes the
# cache then holds; plus the WARNINGs two calls in one session raised.  Prints one table row.
cache_build() {
    local budget=$1 i opts= label
    [ "$budget" = default ] || opts="-c reco.cache_size=$budget"
    : >"$tmp/first_$budget"
    for i in 1 2 3; do
        PGOPTIONS="$opts" q -F ' ' \
            -c "SELECT (millionbench.timed_ms(format('SELECT count(*) FROM reco.recommend(%L, %s, 10)', 'm1m',
                        $uid_lo + $i * 7919))).ms" \
            -c "SELECT (millionbench.timed_ms(format('SELECT count(*) FROM reco.recommend(%L, %s, 10)', 'm1m',
                        $uid_lo + $i * 104729))).ms" \
            -c "SELECT coalesce(sum(bytes), 0) FROM reco.cache_info()" 2>"$tmp/warn_$budget" |
            paste -sd' ' >>"$tmp/first_$budget"
    done
    label=$budget
    [ "$budget" != default ] || label="default ($(q -c 'LOAD '"'reco'"'' -c 'SHOW reco.cache_size'))"
    printf '| %s | %s | %s | %s | %s |\n' "$label" \
        "$(sort -g -k1,1 "$tmp/first_$budget" | awk 'NR == 2 { printf "%.1f", $1 }')" \
        "$(sort -g -k2,2 "$tmp/first_$budget" | awk 'NR == 2 { printf "%.2f", $2 }')" \
        "$(awk 'NR == 1 { printf "%.1f", $3 / 1048576 }' "$tmp/first_$budget")" \
        "$(grep -c WARNING "$tmp/warn_$budget" || true)" >>"$tmp/cache.md"
    grep -A2 WARNING "$tmp/warn_$budget" | head -3 >"$tmp/warning_$budget.txt" || true
}

# pgbench of recommend(user, 10) of model $5 with reco.cache_size = $1 and $2 clients:
# prints "p50 p99 tps transactions" (ms); $3 = pgbench's run length (-T s or -t calls) and
# $4 the transactions each client leaves out.
latency() {
    local budget=$1 clients=$2 length=$3 skip=$4 model=$5 label="$5_$1_c$2"
    printf '\\set uid random(%s, %s)\nSELECT * FROM reco.recommend('"'%s'"', :uid::bigint, 10);\n' \
        "$uid_lo" "$uid_hi" "$model" >"$tmp/rec.sql"
    say "pgbench recommend $model, reco.cache_size $budget, $clients client(s), $length"
    # shellcheck disable=SC2086
    PGOPTIONS="-c reco.cache_size=$budget -c client_min_messages=error" pgbench -n -M prepared \
        -c "$clients" -j "$clients" $length -f "$tmp/rec.sql" --log --log-prefix="$tmp/log_$label" "$DB" \
        >"$tmp/$label.out" 2>&1 || { cat "$tmp/$label.out" >&2; exit 1; }
    awk -v skip="$skip" '$2 >= skip { print $3 / 1000 }' "$tmp/log_$label".* | sort -g |
        awk -v tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/$label.out")" '{ a[NR] = $1 }
            END { printf "%.3f %.3f %.0f %d", a[int(0.5 * NR + 0.999999)], a[int(0.99 * NR + 0.999999)], tps, NR }'
}

# One latency table row: model, budget, clients, p50, p99, tps, calls, load, floors, ratio.
latency_row() {
    local budget=$1 clients=$2 p50 p99 tps n
    read -r p50 p99 tps n <<<"$(latency "$@")"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n' "$5" "$budget" "$clients" "$p50" "$p99" \
        "$tps" "$n" "$(cut -d' ' -f1 /proc/loadavg)" "$floor1" "$floor2" \
        "$(awk -v a="$p50" -v b="$floor1" 'BEGIN { printf "%.4f", a / b }')" >>"$tmp/latency.md"
}

# Exact pruning's worst case: m1m's users against 1,000,000 random item vectors (uniform in
# -0.5 .. 0.5, seeded), whose norms are all alike, imported without interactions as m1m_random.
random_model() {
    local t0
    say "m1m_random: random item vectors, imported with m1m's user vectors"
    t0=$(date +%s.%N)
    q -c "SELECT setseed(0.42)" -c "CREATE TABLE millionbench.random_vecs AS
            SELECT i AS id, ARRAY(SELECT (random() - 0.5)::real + 0 * i FROM generate_series(1, 64)) AS factors
              FROM generate_series(1, $items) AS i" \
      -c "SET client_min_messages = warning" \
      -c "SELECT 1 FROM reco.import_model('m1m_random', 'millionbench.user_vecs', 'millionbench.random_vecs')" >/dev/null
    random_s=$(since "$t0")
}

# reco.import_model of m1m's own factors, exported with reco.to_array, with its interactions:
# seconds to export and to import, and how many of 200 users' recommendations differ.
import_round_trip() {
    local t0 differ
    say "import_model: exporting m1m's factors and importing them as m1m_copy"
    t0=$(date +%s.%N)
    q -c "CREATE TABLE millionbench.user_vecs AS SELECT user_id AS id, reco.to_array(factors) AS factors
            FROM reco.user_factors WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'm1m')" \
      -c "CREATE TABLE millionbench.item_vecs AS SELECT item_id AS id, reco.to_array(factors) AS factors
            FROM reco.item_factors WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'm1m')"
    export_s=$(since "$t0")
    t0=$(date +%s.%N)
    q -c "SET client_min_messages = warning" -c "SELECT 1 FROM reco.models AS m, reco.import_model('m1m_copy',
            'millionbench.user_vecs', 'millionbench.item_vecs', jsonb_build_object('interactions', 'millionbench.inter',
            'weight_col', 'value', 'regularization', (m.params ->> 'regularization')::float8,
            'alpha', (m.params ->> 'alpha')::float8)) WHERE m.model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'm1m')" >/dev/null
    import_s=$(since "$t0")
    differ=$(PGOPTIONS="-c reco.cache_size=$large_cache" q -c "
      SELECT count(*) FROM generate_series(1, 200) AS g, LATERAL (
        (SELECT * FROM reco.recommend('m1m', $uid_lo + g * 997 % ($uid_hi - $uid_lo + 1), 10)
         EXCEPT SELECT * FROM reco.recommend('m1m_copy', $uid_lo + g * 997 % ($uid_hi - $uid_lo + 1), 10))) AS d")
    import_line="export (reco.to_array into two tables) $export_s s; reco.import_model with the $n_inter interactions $import_s s (m1m trained in $train_s s); recommendations of 200 users that differ: $differ"
}

# The markdown report.
report() {
    echo "## Serving a 1M-item catalogue ($SCALE scale, $(date -u +%Y-%m-%d))"
    echo
    printf -- '- machine: %s, %s cores (nproc), %s, %s; reco %s\n' \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
        "$(q -c 'SELECT version()' | sed 's/ on .*//')" "$(sed -n 's/^openblas_config //p' "$tmp/floor.out")" \
        "$(q -c 'SELECT reco.version()')"
    echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)" \
         "(the machine is shared with other sessions); total $(($(date +%s) - started)) s"
    echo "- model m1m: $n_items items, $n_users users, $n_inter interactions (synth.sql: Zipf(1) items," \
         "lognormal users, $per_user draws per user, plus one pair per item), k 64, 5 iterations; generated in $gen_s s," \
         "trained in $train_s s (train_seconds $train_seconds)"
    echo
    echo "First calls of a new connection, medians of 3 (ms, timed inside the server), and what the"
    echo "cache holds after them (reco.cache_info()):"
    echo
    echo "| reco.cache_size | first call (load + cache build) | second call | cached MB | WARNINGs in the session (2 calls) |"
    echo "|---|---|---|---|---|"
    cat "$tmp/cache.md"
    echo
    echo "The WARNING (once per backend and version):"
    echo
    echo '```'
    cat "$tmp/warning_$small_cache.txt"
    echo '```'
    echo
    echo "reco.recommend(m1m, user, 10) under pgbench -M prepared (ms): with $small_cache, $slow_calls calls per"
    echo "client, all counted; with $large_cache, $DURATION s, each client's first $skip_tx calls left out. Floor:"
    echo "serve_floor.c in this run (one sgemv over all $items items + top-10, random vectors)."
    echo
    echo "| model | reco.cache_size | clients | p50 | p99 | tps | calls | load | floor 1 / 2 threads | p50 / floor 1t |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    cat "$tmp/latency.md"
    echo
    echo "Import at this scale: $import_line. m1m_random (m1m's user vectors, $items random item"
    echo "vectors: generated and imported in $random_s s) is exact pruning's worst case: all item norms"
    echo "alike, so no item can be skipped and every call scores the whole catalogue."
    echo
    echo "serve_floor's own lines:"
    echo
    sed 's/^/    /' "$tmp/floor.out"
}

# Every step in order, then the report.
main() {
    : >"$tmp/cache.md"; : >"$tmp/latency.md"
    prepare_db
    build_model
    run_floor
    cache_build default
    cache_build "$small_cache"
    cache_build "$large_cache"
    for clients in 1 2; do latency_row "$small_cache" "$clients" "-t $slow_calls" 0 m1m; done
    for clients in 1 2; do latency_row "$large_cache" "$clients" "-T $DURATION" "$skip_tx" m1m; done
    import_round_trip
    random_model
    latency_row "$large_cache" 1 "-T $DURATION" "$skip_tx" m1m_random
    mkdir -p "$(dirname "$RESULTS")"
    report >"$tmp/report.md"
    cp "$tmp/report.md" "$RESULTS"
    cat "$tmp/report.md"
    say "written to $RESULTS"
}

main
