#!/usr/bin/env bash
# test/bench/serving.sh — serving benchmark (BENCHMARKS.md, "Speed protocol", serving):
# reco.recommend(user, 10) latency p50/p95/p99 warm (pgbench, 1 and 2 clients) on a
# 50,000-item and a 100,000-item model (k = 64), first-call latency (new connection and
# after reco.cache_reset), batch throughput (reco.recommend_all) and cart latency
# (reco.recommend_for_items), exploration (reco.explore beside reco.recommend) when the
# installed reco has them, the latency cost of MMR diversity (recommend with
# diversity => 0.3 beside plain, 1 client), the cache's size, refresh in
# place (reco.refresh_users: one customer's latency, 10,000 customers' throughput), and
# the in-process floor (test/bench/serve_floor.c) measured in the same run.
#
# Runs against an existing server with reco installed (PGHOST/PGPORT/PGUSER from the
# environment); works in its own database, created when missing, dropped at the end if
# this run created it (KEEP_DB=1 keeps it).  Needs psql, pgbench, gcc, pkg-config and
# libopenblas-dev.  Timing is reported, never judged: the exit status says only whether
# every step ran.
#
#   test/bench/serving.sh [DB]
#
# Environment:
#   DB        database to use (default reco_servebench; the argument wins)
#   SCALE     default: 200,000 users, ~20 interactions each per model
#             small:    50,000 users, ~10 interactions each (item counts stay 50k / 100k)
#   DURATION  seconds per measured pgbench run (default 20; small: 8)
#   SYNTH     a TSV from `/usr/bin/python3 ../shared/bench/gen_synth.py FILE.tsv`
#             (user item value): the 50k model is trained on it instead of generated data
#   RESULTS   markdown output file (default test/bench/results/serving-DATE[-small][-synth].md)
#   KEEP_DB   1: keep the database at the end
#   MAINT_DB  database to connect to for CREATE/DROP DATABASE (default postgres)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
DB=${1:-${DB:-reco_servebench}}
SCALE=${SCALE:-default}
SYNTH=${SYNTH:-}
KEEP_DB=${KEEP_DB:-0}
MAINT_DB=${MAINT_DB:-postgres}
case $SCALE in
    small) n_users=50000; mean_per_user=10; DURATION=${DURATION:-8}; warmup_s=2 ;;
    default) n_users=200000; mean_per_user=20; DURATION=${DURATION:-20}; warmup_s=3 ;;
    *) echo "serving.sh: SCALE must be small or default, not '$SCALE'" >&2; exit 2 ;;
esac
suffix=""; if [ "$SCALE" = small ]; then suffix=-small; fi
if [ -n "$SYNTH" ]; then suffix=$suffix-synth; fi
RESULTS=${RESULTS:-$here/results/serving-$(date +%Y-%m-%d)$suffix.md}
skip_tx=20            # each client's first transactions: prepare + loading the item matrix
first_call_reps=20
started=$(date +%s)
declare -A ranges     # model -> "min_user max_user min_item max_item"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reco_serving.XXXXXX")
created_db=0

# Prints a progress message on stderr.
say() { echo "serving: $*" >&2; }

# Prints an error and exits non-zero.
die() { echo "serving.sh: error: $*" >&2; exit 1; }

# Removes the temporary files and, if this run created it, the database.
cleanup() {
    local rc=$?
    rm -rf "$tmp"
    if [ "$created_db" = 1 ] && [ "$KEEP_DB" != 1 ]; then
        psql -X -q -d "$MAINT_DB" -c "DROP DATABASE IF EXISTS \"$DB\"" >/dev/null 2>&1 ||
            echo "serving.sh: could not drop database $DB" >&2
    fi
    [ $rc -eq 0 ] || echo "serving.sh: FAILED (exit $rc); see the messages above" >&2
}
trap cleanup EXIT
trap 'echo "serving.sh: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

# Runs SQL in the benchmark database: unaligned, tuples only, stops on the first error.
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# Checks that every tool the benchmark calls is on PATH and the server answers.
check_tools() {
    local t
    for t in psql pgbench gcc pkg-config awk sort; do
        command -v "$t" >/dev/null || die "$t not found on PATH"
    done
    pkg-config --exists openblas || die "pkg-config does not know openblas (install libopenblas-dev)"
    psql -X -q -At -d "$MAINT_DB" -c "SELECT 1" >/dev/null ||
        die "cannot connect to the server (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-} PGUSER=${PGUSER:-})"
    if [ -n "$SYNTH" ] && [ ! -r "$SYNTH" ]; then die "SYNTH=$SYNTH is not a readable file"; fi
    return 0
}

# Creates the database when missing (an existing one must be an earlier run's, with schema
# servebench) and installs reco afresh, so the functions match the installed build.
setup_db() {
    local exists
    exists=$(psql -X -q -At -d "$MAINT_DB" -v ON_ERROR_STOP=1 \
        -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")
    if [ "$exists" = 0 ]; then
        psql -X -q -d "$MAINT_DB" -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null
        created_db=1
        say "created database $DB"
    else
        [ "$(q -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'servebench'")" = 1 ] ||
            die "database $DB exists and was not made by this benchmark (no schema servebench); choose another DB"
        say "reusing database $DB from an earlier run (its models are rebuilt)"
    fi
    q -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS reco CASCADE" \
      -c "CREATE EXTENSION reco" -c "CREATE SCHEMA IF NOT EXISTS servebench"
}

# Generates synthetic interactions in SQL into servebench.<table> (test/bench/synth.sql,
# deterministic): Zipf(1) item popularity, lognormal user activity with mean_per_user draws,
# values 1..5, plus one pair per item so every item is in the model.
generate_interactions() {
    local table=$1 items=$2
    q -v table="servebench.$table" -v users="$n_users" -v items="$items" \
      -v per_user="$mean_per_user" -v seed=7 -v cover=1 -f "$here/synth.sql"
}

# Loads the gen_synth.py TSV (user item value) into servebench.<table>.
load_synth() {
    local table=$1
    q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS servebench.$table" \
      -c "CREATE UNLOGGED TABLE servebench.$table (user_id bigint, item_id bigint, value real)" \
      -c "\\copy servebench.$table FROM '$SYNTH'"
}

# Builds one model (k = 64, 5 iterations) from its interactions; appends its row to models.md.
build_model() {
    local model=$1 items=$2 table=$3 t0 source
    t0=$(date +%s)
    if [ "$model" = items50k ] && [ -n "$SYNTH" ]; then
        say "$model: loading $SYNTH"
        load_synth "$table"
        source="gen_synth.py 10M set"
    else
        say "$model: generating interactions in SQL ($n_users users, $items items)"
        generate_interactions "$table" "$items"
        source="SQL generator"
    fi
    say "$model: training (factors 64, 5 iterations)"
    q -c "SET client_min_messages = warning" -c "
      SELECT n_users FROM reco.train('$model', 'servebench.$table', weight_col => 'value',
                                     factors => 64, iterations => 5)" >/dev/null
    q -c "
      SELECT format('| %s | %s | %s | %s | %s | %s s | %s s |', name, '$source', n_interactions,
                    n_users, n_items, round(train_seconds::numeric, 1),
                    $(($(date +%s) - t0)))
        FROM reco.models WHERE name = '$model' ORDER BY version DESC LIMIT 1" >>"$tmp/models.md"
}

# Prints "min_user max_user min_item max_item" of the newest version of a model.
model_ranges() {
    q -F ' ' -c "
      WITH m AS (SELECT model_id FROM reco.models WHERE name = '$1' ORDER BY version DESC LIMIT 1)
      SELECT (SELECT min(user_id) FROM reco.user_factors WHERE model_id = (SELECT model_id FROM m)),
             (SELECT max(user_id) FROM reco.user_factors WHERE model_id = (SELECT model_id FROM m)),
             (SELECT min(item_id) FROM reco.item_factors WHERE model_id = (SELECT model_id FROM m)),
             (SELECT max(item_id) FROM reco.item_factors WHERE model_id = (SELECT model_id FROM m))"
}

# Fails unless recommend returns 10 rows for the model's first user (a sanity check, not timing).
check_recommend() {
    local model=$1 rows
    rows=$(q -c "
      SELECT count(*) FROM reco.recommend('$model',
             (SELECT min(user_id) FROM reco.user_factors
               WHERE model_id = (SELECT model_id FROM reco.models WHERE name = '$model'
                                  ORDER BY version DESC LIMIT 1)), 10)")
    [ "$rows" = 10 ] || die "reco.recommend('$model', ...) returned $rows rows, expected 10"
}

# True when the reco schema has a function of that name.
have_function() {
    [ "$(q -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'reco' AND p.proname = '$1'")" != 0 ]
}

# Runs pgbench on a script file: a warm-up run, then a logged run; prints "p50 p95 p99 tps load"
# (ms; each client's first $skip_tx transactions, which load the backend's cache, are left out;
# load = the 1-minute load average when the run ended, a hint of other work on the machine).
pgbench_latency() {
    local label=$1 script=$2 clients=$3 out
    pgbench -n -M prepared -c "$clients" -j "$clients" -T "$warmup_s" -f "$script" "$DB" \
        >"$tmp/$label.warmup.out" 2>&1 || { cat "$tmp/$label.warmup.out" >&2; die "pgbench warm-up $label failed"; }
    pgbench -n -M prepared -c "$clients" -j "$clients" -T "$DURATION" -f "$script" \
        --log --log-prefix="$tmp/$label.log" "$DB" >"$tmp/$label.out" 2>&1 ||
        { cat "$tmp/$label.out" >&2; die "pgbench $label failed"; }
    grep -q '^number of failed transactions: 0' "$tmp/$label.out" ||
        ! grep -q '^number of failed transactions' "$tmp/$label.out" ||
        { cat "$tmp/$label.out" >&2; die "pgbench $label had failed transactions"; }
    out=$(awk -v skip="$skip_tx" '$2 >= skip { print $3 }' "$tmp/$label".log.* | sort -n |
          awk '{ a[NR] = $1 }
               function pct(q,  r) { r = int(q * NR + 0.999999); if (r < 1) r = 1; return a[r] / 1000 }
               END { if (NR == 0) exit 1; printf "%.3f %.3f %.3f", pct(0.50), pct(0.95), pct(0.99) }') ||
        die "pgbench $label logged no transactions after the first $skip_tx of each client"
    echo "$out $(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$tmp/$label.out") \
$(cut -d' ' -f1 /proc/loadavg)"
}

# Latency of recommend(user, 10) for a model and client count; appends a table row.
bench_recommend() {
    local model=$1 items=$2 clients=$3 r lat p50 p95 p99 tps load f1 f2 peer
    read -r -a r <<<"${ranges[$model]}"
    printf '\\set uid random(%s, %s)\nSELECT * FROM reco.recommend('"'%s'"', :uid::bigint, 10);\n' \
        "${r[0]}" "${r[1]}" "$model" >"$tmp/rec_$model.sql"
    say "$model: pgbench recommend, $clients client(s), ${DURATION} s"
    lat=$(pgbench_latency "rec_${model}_c$clients" "$tmp/rec_$model.sql" "$clients")
    read -r p50 p95 p99 tps load <<<"$lat"
    f1=$(floor_ms "$items" 1)
    f2=$(floor_ms "$items" 2)
    case $items in
        50000) peer="floor 0.21 ms (1 thread); implicit recommend() 0.30 ms" ;;
        100000) peer="floor 0.58 / 0.30 ms (1 / 2 threads); pgvector exact 15–20 ms p50" ;;
    esac
    printf '| %s | %s | %s | %s | %s | %s | %.0f | %s | %s / %s | %s | %s | %s |\n' "$model" "$items" \
        "$clients" "$p50" "$p95" "$p99" "$tps" "$load" "$f1" "$f2" "$(ratio "$p50" "$f1")" \
        "$(ratio "$p50" "$f2")" "$peer" >>"$tmp/latency.md"
}

# p50 / floor with two decimals, or "-" when the floor is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "-" }'; }

# The floor's median ms for (items, threads) from serve_floor's output.
floor_ms() {
    awk -v n="$1" -v t="$2" '$1 == "floor" {
        delete kv; for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
        if (kv["items"] == n && kv["threads"] == t) { printf "%.3f", kv["median_ms"]; found = 1 } }
        END { if (!found) printf "-" }' "$tmp/floor.out"
}

# Creates the plpgsql helpers that time calls inside the server (clock_timestamp differences).
create_timers() {
    q -c "SET client_min_messages = warning" -c "
      CREATE OR REPLACE FUNCTION servebench.first_calls(model text, uid bigint,
          OUT new_conn_ms float8, OUT warm_ms float8, OUT reset_ms float8, OUT rows bigint)
      LANGUAGE plpgsql AS \$f\$
      DECLARE t timestamptz;
      BEGIN
          t := clock_timestamp();
          SELECT count(*) INTO rows FROM reco.recommend(model, uid, 10);
          new_conn_ms := 1000 * extract(epoch FROM clock_timestamp() - t);
          t := clock_timestamp();
          SELECT count(*) INTO rows FROM reco.recommend(model, uid, 10);
          warm_ms := 1000 * extract(epoch FROM clock_timestamp() - t);
          PERFORM reco.cache_reset();
          t := clock_timestamp();
          SELECT count(*) INTO rows FROM reco.recommend(model, uid, 10);
          reset_ms := 1000 * extract(epoch FROM clock_timestamp() - t);
      END \$f\$" -c "
      CREATE OR REPLACE FUNCTION servebench.time_ms(query text, arg1 text, arg2 bigint[])
      RETURNS float8 LANGUAGE plpgsql AS \$f\$
      DECLARE t timestamptz; c bigint;
      BEGIN
          t := clock_timestamp();
          EXECUTE query INTO c USING arg1, arg2;
          RETURN 1000 * extract(epoch FROM clock_timestamp() - t);
      END \$f\$"
}

# First-call latency: $first_call_reps new connections, each timing its first call, a warm
# call and a call after reco.cache_reset(); appends the medians (ms) as a table row.
bench_first_call() {
    local model=$1 i r lo hi
    read -r lo hi _ <<<"${ranges[$model]}"
    say "$model: first calls on $first_call_reps new connections"
    : >"$tmp/first_$model.txt"
    for ((i = 0; i < first_call_reps; i++)); do
        q -F ' ' -c "SELECT new_conn_ms, warm_ms, reset_ms, rows
                       FROM servebench.first_calls('$model', $lo + ($i * 7919) % ($hi - $lo + 1))" \
            >>"$tmp/first_$model.txt"
    done
    r=$(for c in 1 2 3; do
            awk -v c=$c '{ print $c }' "$tmp/first_$model.txt" | sort -g |
                awk '{ a[NR] = $1 } END { printf "%.2f ", a[int((NR + 1) / 2)] }'
        done)
    read -r -a r <<<"$r"
    printf '| %s | %s | %s | %s |\n' "$model" "${r[0]}" "${r[2]}" "${r[1]}" >>"$tmp/first.md"
}

# Batch throughput of reco.recommend_all for 10,000 users: median users/s of 3 timed runs.
bench_recommend_all() {
    local model=$1 ms
    say "$model: recommend_all, 10,000 users, 3 runs"
    ms=$(q -c "
      WITH u AS (SELECT array_agg(user_id ORDER BY user_id) AS users FROM (
                   SELECT user_id FROM reco.user_factors
                    WHERE model_id = (SELECT model_id FROM reco.models WHERE name = '$model'
                                       ORDER BY version DESC LIMIT 1)
                    ORDER BY user_id LIMIT 10000) AS s),
           runs AS (SELECT r, servebench.time_ms(
                      'SELECT count(*) FROM reco.recommend_all(\$1, 10, \$2)', '$model', u.users) AS ms
                      FROM u, generate_series(0, 3) AS r)
      SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) FROM runs WHERE r > 0")
    printf '| %s | %.0f | %.1f | 11,800 (implicit, 50k items, 2 threads) |\n' "$model" \
        "$(awk -v ms="$ms" 'BEGIN { print 10000 / (ms / 1000) }')" "$ms" >>"$tmp/batch.md"
}

# True when reco.recommend has an argument named diversity (reco 0.5.0 on).
have_diversity() {
    [ "$(q -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'reco' AND p.proname = 'recommend' AND 'diversity' = ANY (p.proargnames)")" != 0 ]
}

# The cost of MMR diversity: pgbench latency (1 client) of recommend(user, 10) plain, then with
# diversity => 0.3, back to back (the same load); appends a row with both and their ratios
# (the goal: within 2x of plain).
bench_diversity() {
    local model=$1 r p50 p95 p99 tps load d50 d95 d99 dtps dload
    read -r -a r <<<"${ranges[$model]}"
    printf '\\set uid random(%s, %s)\nSELECT * FROM reco.recommend('"'%s'"', :uid::bigint, 10, diversity => 0.3);\n' \
        "${r[0]}" "${r[1]}" "$model" >"$tmp/div_$model.sql"
    say "$model: pgbench recommend plain, then diversity 0.3, 1 client, ${DURATION} s each"
    read -r p50 p95 p99 tps load <<<"$(pgbench_latency "plain_$model" "$tmp/rec_$model.sql" 1)"
    read -r d50 d95 d99 dtps dload <<<"$(pgbench_latency "div_$model" "$tmp/div_$model.sql" 1)"
    printf '| %s | %s / %s | %s / %s | %s | %s | %s |\n' "$model" "$p50" "$p99" "$d50" "$d99" \
        "$(ratio "$d50" "$p50")" "$(ratio "$d99" "$p99")" "$load / $dload" >>"$tmp/diversity.md"
}

# pgbench latency (1 client) of reco.recommend_for_items with a random 5-item cart.
bench_for_items() {
    local model=$1 r p50 p95 p99 tps load lat
    read -r -a r <<<"${ranges[$model]}"
    {
        for i in 1 2 3 4 5; do printf '\\set i%s random(%s, %s)\n' "$i" "${r[2]}" "${r[3]}"; done
        printf "SELECT * FROM reco.recommend_for_items('%s', ARRAY[:i1, :i2, :i3, :i4, :i5]::bigint[], n => 10);\n" "$model"
    } >"$tmp/cart_$model.sql"
    say "$model: pgbench recommend_for_items, 1 client, ${DURATION} s"
    lat=$(pgbench_latency "cart_$model" "$tmp/cart_$model.sql" 1)
    read -r p50 p95 p99 tps load <<<"$lat"
    printf '| %s | %s | %s | %s | %.0f | %s |\n' "$model" "$p50" "$p95" "$p99" "$tps" "$load" >>"$tmp/cart.md"
}

# Exploration (issue 15): pgbench latency (1 client) of reco.explore at its defaults (a fresh
# draw per call, no seed) beside reco.recommend in the same minute; appends two table rows.
bench_explore() {
    local model=$1 r lat p50 p95 p99 tps load rec_p50 fn
    read -r -a r <<<"${ranges[$model]}"
    for fn in recommend explore; do
        printf '\\set uid random(%s, %s)\nSELECT * FROM reco.%s('"'%s'"', :uid::bigint, 10);\n' \
            "${r[0]}" "${r[1]}" "$fn" "$model" >"$tmp/${fn}_x_$model.sql"
        say "$model: pgbench $fn (exploration block), 1 client, ${DURATION} s"
        lat=$(pgbench_latency "${fn}_x_$model" "$tmp/${fn}_x_$model.sql" 1)
        read -r p50 p95 p99 tps load <<<"$lat"
        [ "$fn" = recommend ] && rec_p50=$p50
        printf '| %s | %s | %s | %s | %s | %.0f | %s | %s |\n' "$model" "$fn" "$p50" "$p95" "$p99" "$tps" \
            "$load" "$(ratio "$p50" "$rec_p50")" >>"$tmp/explore.md"
    done
}

# One session serves both models, then lists what its cache holds.
bench_cache() {
    say "cache size after serving both models"
    q -c "SELECT count(*) FROM reco.recommend('items50k', ${ranges[items50k]%% *}, 10)" \
      -c "SELECT count(*) FROM reco.recommend('items100k', ${ranges[items100k]%% *}, 10)" \
      -c "SELECT format('| %s | %s | %s | %s | %s | %s | %s |', m.name, c.version,
                        coalesce(to_jsonb(c) ->> 'side', 'items'), c.items, c.factors,
                        c.bytes, round(c.bytes / 1048576.0, 1))
            FROM reco.cache_info() AS c JOIN reco.models AS m USING (model_id) ORDER BY c.bytes" \
        | grep '^|' >"$tmp/cache.md"
}

# One variable of the server's environment (a local server's postmaster): its value,
# "unset", or "unknown" when the postmaster's environment cannot be read.
server_env() {
    local dir pid value
    dir=$(psql -X -q -At -d "$MAINT_DB" -c "SHOW data_directory" 2>/dev/null) || { echo unknown; return 0; }
    pid=$(head -1 "$dir/postmaster.pid" 2>/dev/null) || { echo unknown; return 0; }
    [ -r "/proc/$pid/environ" ] || { echo unknown; return 0; }
    value=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n "s/^$1=//p")
    echo "${value:-unset}"
}

# Refresh in place (reco.refresh_users) on a model: one customer per call through pgbench (with
# an index on the source's user column, as the README recommends) and 10,000 customers in one
# call, beside the version's train_seconds; appends a table row.  Runs after every other
# measurement of the model: it rewrites the model's rows and invalidates the caches.
bench_refresh() {
    local model=$1 table=$2 lo hi lat p50 p95 p99 tps load batch_ms train_s
    read -r lo hi _ <<<"${ranges[$model]}"
    say "$model: refresh_users, one customer per call, ${DURATION} s; then 10,000 customers in one call"
    q -c "CREATE INDEX IF NOT EXISTS ${table}_user_id ON servebench.$table (user_id)" -c "ANALYZE servebench.$table"
    printf '\\set uid random(%s, %s)\nSELECT * FROM reco.refresh_users('"'%s'"', ARRAY[:uid::bigint]);\n' \
        "$lo" "$hi" "$model" >"$tmp/refresh_$model.sql"
    lat=$(pgbench_latency "refresh_$model" "$tmp/refresh_$model.sql" 1)
    read -r p50 p95 p99 tps load <<<"$lat"
    batch_ms=$(q -c "SELECT round(servebench.time_ms('SELECT count(*) FROM reco.refresh_users(\$1, \$2)', '$model',
                       ARRAY(SELECT $lo + (g * 7919) % ($hi - $lo + 1) FROM generate_series(1, 10000) AS g))::numeric)")
    train_s=$(q -c "SELECT round(train_seconds::numeric, 1) FROM reco.models WHERE name = '$model'
                     ORDER BY version DESC LIMIT 1")
    printf '| %s | %s | %s | %s | %.0f | %s | %s | %.0f | %s s |\n' "$model" "$p50" "$p95" "$p99" "$tps" "$load" \
        "$batch_ms" "$(awk -v ms="$batch_ms" 'BEGIN { print 10000 / (ms / 1000) }')" "$train_s" >>"$tmp/refresh.md"
}

# Compiles serve_floor.c and runs it for 50,000 and 100,000 items with the server's core type.
run_floor() {
    local core=$1
    say "floor: compiling and running serve_floor (50,000 and 100,000 items, 1 and 2 threads)"
    # shellcheck disable=SC2046
    gcc -O3 -Wall -Wextra -I "$root/src" $(pkg-config --cflags openblas) -o "$tmp/serve_floor" \
        "$here/serve_floor.c" "$root/src/topk.c" $(pkg-config --libs openblas) -lm ||
        die "could not compile serve_floor.c"
    if [ "$core" != unset ] && [ "$core" != unknown ]; then
        OPENBLAS_CORETYPE=$core "$tmp/serve_floor" 50000 100000 >"$tmp/floor.out"
    else
        env -u OPENBLAS_CORETYPE "$tmp/serve_floor" 50000 100000 >"$tmp/floor.out"
    fi
}

# Prints the machine line: CPU, cores, server version, OpenBLAS, core types, date.
machine_line() {
    local cpu blas server_core server_threads
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    blas=$(dpkg-query -W -f '${Package} ${Version}' libopenblas0-pthread 2>/dev/null ||
           echo "OpenBLAS (no dpkg)")
    server_core=$1
    server_threads=$(server_env OPENBLAS_NUM_THREADS)
    printf -- '- machine: %s, %s cores (nproc), %s; %s (floor: %s, %s)\n' "${cpu:-unknown CPU}" \
        "$(nproc)" "$(q -c 'SELECT version()' | sed 's/ on .*//')" "$blas" \
        "$(sed -n 's/^openblas_corename //p' "$tmp/floor.out")" \
        "$(sed -n 's/^openblas_config //p' "$tmp/floor.out" | awk '{ print $2, $3, $4 }')"
    printf -- '- OPENBLAS_CORETYPE: benchmark shell %s, server %s; server OPENBLAS_NUM_THREADS %s; %s\n' \
        "${OPENBLAS_CORETYPE:-unset}" "$server_core" "$server_threads" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- reco.so: %s, installed %s\n' "$(q -c 'SELECT reco.version()')" \
        "$(date -u -r "$(pg_config --pkglibdir 2>/dev/null)/reco.so" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null ||
           echo '(pg_config not found)')"
}

# Assembles the markdown section from the parts the steps wrote.
report() {
    local server_core=$1
    echo "## Serving benchmark ($SCALE scale, $(date -u +%Y-%m-%d))"
    echo
    machine_line "$server_core"
    echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- pgbench -M prepared, ${DURATION} s per run after a" \
         "${warmup_s} s warm-up; each client's first $skip_tx transactions (cache load) left out;" \
         "the floor (test/bench/serve_floor.c) ran with the server's OPENBLAS_CORETYPE; total" \
         "$(($(date +%s) - started)) s"
    echo
    echo "| model | data | interactions | users | items | train_seconds | load + train |"
    echo "|---|---|---|---|---|---|---|"
    cat "$tmp/models.md"
    echo
    echo "reco.recommend(model, user, 10), warm (ms; floor = in-process full scan, sgemv + top-10, this"
    echo "run, random vectors; a ratio below 1 means the server scores fewer than all items):"
    echo
    echo "| model | items | clients | p50 | p95 | p99 | tps | load | floor 1 / 2 threads | p50 / floor 1t | p50 / floor 2t | peer figures (BENCHMARKS.md) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$tmp/latency.md"
    echo
    echo "First calls, medians of $first_call_reps new connections (ms, timed inside the server; each"
    echo "connection: its first call, its second call, then reco.cache_reset() and one more call):"
    echo
    echo "| model | first call of a new connection | first call after cache_reset() | second call |"
    echo "|---|---|---|---|"
    cat "$tmp/first.md"
    echo
    if [ -s "$tmp/batch.md" ]; then
        echo "reco.recommend_all(model, 10, 10,000 users), median of 3:"
        echo
        echo "| model | users/s | ms | peer |"
        echo "|---|---|---|---|"
        cat "$tmp/batch.md"
    else
        echo "recommend_all: skipped: reco.recommend_all not available"
    fi
    echo
    if [ -s "$tmp/cart.md" ]; then
        echo "reco.recommend_for_items(model, random 5-item cart, n => 10), 1 client (ms):"
        echo
        echo "| model | p50 | p95 | p99 | tps | load |"
        echo "|---|---|---|---|---|---|"
        cat "$tmp/cart.md"
    else
        echo "recommend_for_items: skipped: reco.recommend_for_items not available"
    fi
    echo
    if [ -s "$tmp/diversity.md" ]; then
        echo "MMR diversity: reco.recommend(model, user, 10) plain, then with diversity => 0.3 (re-ranks"
        echo "the exact top 50), 1 client, back to back (ms; goal: within 2x of plain):"
        echo
        echo "| model | plain p50 / p99 | diversity 0.3 p50 / p99 | p50 ratio | p99 ratio | load (plain / diversity) |"
        echo "|---|---|---|---|---|---|"
        cat "$tmp/diversity.md"
    else
        echo "diversity: skipped: reco.recommend has no diversity argument"
    fi
    echo
    if [ -s "$tmp/explore.md" ]; then
        echo "reco.explore(model, user, 10) at its defaults (sigma 0.5, epsilon 0.1, no seed: a fresh draw"
        echo "per call) beside reco.recommend(model, user, 10), 1 client, run back to back (ms):"
        echo
        echo "| model | function | p50 | p95 | p99 | tps | load | p50 / recommend p50 |"
        echo "|---|---|---|---|---|---|---|---|"
        cat "$tmp/explore.md"
    else
        echo "explore: skipped: reco.explore not available"
    fi
    echo
    if [ -s "$tmp/refresh.md" ]; then
        echo "reco.refresh_users in place: one customer per call (pgbench, 1 client, commit included, ms;"
        echo "an index on the source's user column), then 10,000 customers in one call, beside the"
        echo "version's whole training (reco.train, k 64, 5 iterations):"
        echo
        echo "| model | p50 | p95 | p99 | tps | load | 10,000 customers, ms | customers/s | training |"
        echo "|---|---|---|---|---|---|---|---|---|"
        cat "$tmp/refresh.md"
    else
        echo "refresh_users: skipped: reco.refresh_users not available"
    fi
    echo
    echo "Cache of one backend after serving both models (reco.cache_info()):"
    echo
    echo "| model | version | side | rows | factors | bytes | MB |"
    echo "|---|---|---|---|---|---|---|"
    cat "$tmp/cache.md"
    echo
    echo "Floor output:"
    echo
    echo '```'
    cat "$tmp/floor.out"
    echo '```'
}

# Runs every step in order and writes the report.
main() {
    local server_core model items clients
    check_tools
    server_core=$(server_env OPENBLAS_CORETYPE)
    setup_db
    : >"$tmp/models.md"; : >"$tmp/latency.md"; : >"$tmp/first.md"; : >"$tmp/batch.md"; : >"$tmp/cart.md"; : >"$tmp/refresh.md"; : >"$tmp/diversity.md"
    : >"$tmp/explore.md"
    build_model items50k 50000 inter_50k
    build_model items100k 100000 inter_100k
    run_floor "$server_core"
    for model in items50k items100k; do
        check_recommend "$model"
        ranges[$model]=$(model_ranges "$model")
    done
    create_timers
    for model in items50k items100k; do
        items=${model#items}; items=${items%k}000
        for clients in 1 2; do bench_recommend "$model" "$items" "$clients"; done
    done
    for model in items50k items100k; do bench_first_call "$model"; done
    if have_function recommend_all; then
        for model in items50k items100k; do bench_recommend_all "$model"; done
    else
        say "skipped: reco.recommend_all not available"
    fi
    if have_function recommend_for_items; then
        for model in items50k items100k; do bench_for_items "$model"; done
    else
        say "skipped: reco.recommend_for_items not available"
    fi
    if have_diversity; then
        for model in items50k items100k; do bench_diversity "$model"; done
    else
        say "skipped: reco.recommend has no diversity argument"
    fi
    if have_function explore; then
        for model in items50k items100k; do bench_explore "$model"; done
    else
        say "skipped: reco.explore not available"
    fi
    bench_cache
    if have_function refresh_users; then
        bench_refresh items50k inter_50k
    else
        say "skipped: reco.refresh_users not available"
    fi
    mkdir -p "$(dirname "$RESULTS")"
    report "$server_core" >"$tmp/report.md"
    cp "$tmp/report.md" "$RESULTS"
    cat "$tmp/report.md"
    say "written to $RESULTS"
}

main
