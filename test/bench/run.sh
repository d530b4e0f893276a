#!/usr/bin/env bash
# test/bench/run.sh — the benchmark suite of BENCHMARKS.md in one command: the machine's
# ceilings ("peak": sgemm, memory bandwidth, the in-process scoring floor, the OpenBLAS core
# type), ranking quality on MovieLens 100K, the temporal protocol (stale / refreshed /
# retrained, time decay; test/bench/temporal.sh), the diversity and exploration trade-off
# (test/bench/diversity.sh), the feedback loop simulated in the database (policies greedy /
# diversity / explore / random; test/bench/feedback.sh), cold start from features (cold items,
# cold users, what features cost: test/bench/cold_items.sh, cold_users.sh, features_speed.sh),
# training speed, serving latency;
# one markdown report and PNG plots (gnuplot) in test/bench/results/.
#
#   make bench                     full run: the 10M scale set (../shared/bench/gen_synth.py)
#   make bench SCALE=small         a few minutes: a 1M set of test/bench/synth.sql, u1 only
#   make bench SCALE=large         the 100M-interaction training alone (synth.sql: 2M users x
#                                  500k items, k 64, 2 threads): every phase, peak and estimate
#   bash test/bench/run.sh [ML100K_DIR]
#
# Installs the Debian packages it needs when missing (test/lib/cluster.sh: the packages of
# `make test`, python3 and python3-numpy). Starts its own throwaway cluster with the INSTALLED
# reco extension (it builds and installs reco only when PostgreSQL has none at all); the
# server inherits this shell's environment, so OPENBLAS_CORETYPE / OPENBLAS_NUM_THREADS set
# here are the ones the figures used.
#
# Environment:
#   SCALE          small, large, or default (also: full)
#   BENCH_STEPS    the steps to run, space-separated (default: every step but large; SCALE=large:
#                  "peak large"); e.g. "peak data training" for the training section alone. The
#                  plots and the report always follow; the report leaves out the other sections
#   BENCH_TAG      appended to the report's and plots' names (bench-DATE[-SCALE]-TAG...), e.g.
#                  "training" for a BENCH_STEPS run, so that it does not pass for a full one
#   RECO_BENCH_IMPLICIT  auto (default): time the peer implicit beside reco's training when
#                  `$IMPLICIT_PYTHON -c 'import implicit'` works; off: do not, as if it were absent
#                  (then the figures of its last report are printed, marked as such)
#   IMPLICIT_PYTHON  the python3 that has implicit (default /usr/bin/python3, Debian's with numpy)
#   IMPLICIT_RUNS  implicit's runs per configuration (default: as many as reco's)
#   LARGE_USERS, LARGE_ITEMS, LARGE_PER_USER, LARGE_COVER  SCALE=large's synth.sql set (2000000,
#                  500000, 58, 0: about 100M distinct pairs; cover 1 adds one pair per item so that
#                  all 500k items are in); LARGE_MAX_MEMORY (16GB) the session's
#                  reco.max_memory when the default refuses the training's estimate
#   ML100K_DATA    MovieLens 100K directory (the argument wins; default ../shared/data/ml-100k
#                  beside the project); absent: the quality, temporal and diversity parts are skipped with a message
#   GEN_SYNTH      the scale-set generator (default ../shared/bench/gen_synth.py); its TSV is
#                  cached in test/bench/results/tmp/ (gitignored), so reruns skip generating
#   TRAIN_REPEATS  runs of every training configuration (default: full 1, and 3 for k 64 /
#                  2 threads / CG; small 3 for CG, 1 for Cholesky)
#   TRAIN_CONFIGS  the training configurations instead of the scale's, "solver k threads runs"
#                  separated by ';' (e.g. "cg 64 2 3;cg 128 2 1")
#   RESULTS_DIR    where the report and plots go (default test/bench/results)
#
# Timing is reported, never judged: the exit status says only whether every step ran.
# shellcheck disable=SC2317  # main ends in exit (see there): the functions are reached through it
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SCALE=${SCALE:-default}
case $SCALE in
    small) suffix=-small; quality_folds=1; serving_scale=small ;;
    large) suffix=-large; quality_folds=1; serving_scale=small ;;
    default | full) SCALE=default; suffix=; quality_folds="1 2 3 4 5"; serving_scale=default ;;
    *) echo "run.sh: SCALE must be small, large or default, not '$SCALE'" >&2; exit 2 ;;
esac
ML100K_DATA=${1:-${ML100K_DATA:-$root/../shared/data/ml-100k}}
GEN_SYNTH=${GEN_SYNTH:-$root/../shared/bench/gen_synth.py}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
TRAIN_REPEATS=${TRAIN_REPEATS:-}
BENCH_STEPS=${BENCH_STEPS:-}
if [ "$SCALE" = large ]; then BENCH_STEPS=${BENCH_STEPS:-peak large}; fi
RECO_BENCH_IMPLICIT=${RECO_BENCH_IMPLICIT:-auto}
IMPLICIT_PYTHON=${IMPLICIT_PYTHON:-/usr/bin/python3}
IMPLICIT_RUNS=${IMPLICIT_RUNS:-}
LARGE_USERS=${LARGE_USERS:-2000000}     # SCALE=large: about 100M distinct pairs (synth.sql)
LARGE_ITEMS=${LARGE_ITEMS:-500000}
LARGE_PER_USER=${LARGE_PER_USER:-58}
LARGE_COVER=${LARGE_COVER:-0}           # 1: one pair per item, all LARGE_ITEMS in (0: the Zipf tail reaches ~341k)
LARGE_MAX_MEMORY=${LARGE_MAX_MEMORY:-16GB}  # reco.max_memory of the session if the default refuses
python=/usr/bin/python3             # Debian's python3 with numpy (gen_synth.py needs it)
synth_tsv=$here/results/tmp/synth-10m.tsv
stamp=$(date +%Y-%m-%d)
suffix=$suffix${BENCH_TAG:+-$BENCH_TAG}
report=$RESULTS_DIR/bench-$stamp$suffix.md
plot_prefix=$RESULTS_DIR/bench-$stamp$suffix
db=reco_bench
started=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/reco_bench.XXXXXX")

# Peer figures (BENCHMARKS.md; implicit 0.7.3 on the 10M set, this machine class). The
# training step measures implicit itself when it is importable; otherwise the figures of its
# last report (results/bench-DATE[-small]-implicit.tsv) are used, and these only when there is
# none. implicit CG seconds per iteration, "factors threads seconds".
implicit_iteration="64 1 4.16
64 2 2.53
128 1 5.97
128 2 3.32"
implicit_csr_build=0.55        # implicit's COO -> CSR build of the 10M pairs, seconds
implicit_recommend_ms=0.30     # implicit recommend(), one user, 50k items, k 64
implicit_batch_users_s=11800   # implicit batch recommend, 10k users, 2 threads
pgvector_exact_100k="15 20"    # pgvector exact ORDER BY <#> LIMIT 10, 100k x 64, p50 ms
pgvector_hnsw_100k=1.1         # pgvector HNSW p50 ms at recall@10 0.50
popularity_peer="0.2136 0.2451 0.1333"   # popularity baseline on u1: P@10 NDCG@10 MAP@10

# Training configurations: "solver factors threads runs" (BENCHMARKS.md speed protocol:
# CG 3 steps, regularization 0.05, 5 iterations).  Cholesky stays at k = 64: at k = 128 it
# costs about 5x more per iteration (k³ per row), minutes per run on the 10M set.
if [ "$SCALE" = small ]; then
    train_configs="cg 64 1 3
cg 64 2 3
cg 128 1 3
cg 128 2 3
cholesky 64 1 1
cholesky 64 2 1"
else
    train_configs="cg 64 1 1
cg 64 2 3
cg 128 1 1
cg 128 2 1
cholesky 64 1 1
cholesky 64 2 1"
fi
if [ -n "${TRAIN_CONFIGS:-}" ]; then
    train_configs=$(tr ';' '\n' <<<"$TRAIN_CONFIGS" | sed 's/^ *//')
fi
if [ -n "$TRAIN_REPEATS" ]; then
    train_configs=$(awk -v r="$TRAIN_REPEATS" '{ print $1, $2, $3, r }' <<<"$train_configs")
fi

# shellcheck source=test/lib/cluster.sh
. "$root/test/lib/cluster.sh"

# Prints a progress line on stderr.
say() { echo "bench: $*" >&2; }

# Stops the cluster and removes the scratch directory, whatever the exit path.
cleanup() {
    reco_cluster_stop
    rm -rf "$work"
}

# Runs SQL in the benchmark database: unaligned, tab-separated, stops on the first error.
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# The median of the numbers on stdin (one per line; the mean of the middle two for an even count).
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1
        print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# One variable of the server's environment (its postmaster's), or "unset".
server_env() {
    local pid value
    pid=$(head -1 "$RECO_PGDIR/data/postmaster.pid")
    value=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n "s/^$1=//p")
    echo "${value:-unset}"
}

# Prints "busy ours uptime": the machine's busy CPU time (jiffies, steal included), the CPU
# time of this suite's processes (this shell and the cluster's postmaster with all their
# descendants, exited children included) and the uptime in seconds.
cpu_snapshot() {
    local postmaster pid stat fields ours=0 total uptime
    postmaster=$(head -1 "$RECO_PGDIR/data/postmaster.pid" 2>/dev/null || echo 0)
    # this suite's processes: the shell, the postmaster and all their descendants
    for pid in $(ps -e -o pid=,ppid= | awk -v roots="$$ $postmaster" '
        { parent[$1] = $2 }
        END {
            n = split(roots, r, " "); for (i = 1; i <= n; i++) mine[r[i]] = 1
            do { changed = 0
                 for (p in parent) if (!(p in mine) && (parent[p] in mine)) { mine[p] = 1; changed = 1 }
            } while (changed)
            for (p in mine) print p }'); do
        # a process may exit between ps and here: skip it (awk would abort on the read)
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a fields <<<"${stat##*) }"
        ours=$((ours + fields[11] + fields[12] + fields[13] + fields[14]))
    done
    total=$(awk 'NR == 1 { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)
    uptime=$(cut -d' ' -f1 /proc/uptime)
    printf '%d %d %.2f\n' "$total" "$ours" "$uptime"
}

# CPU cores used on average by other processes (and the hypervisor's steal) between two
# cpu_snapshot outputs: the noise indicator of a measurement.
other_cores() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(a, x, " "); split(b, y, " ")
        wall = (y[3] - x[3]) * hz; other = (y[1] - x[1]) - (y[2] - x[2])
        printf "%.2f", (wall > 0 && other > 0) ? other / wall : 0 }'
}

# Succeeds when step $1 is among those of this run: BENCH_STEPS, or when empty every step but
# large (SCALE=large's); plots and report (the summaries and the report) always run.
ran() {
    case $1 in
        plots | report) return 0 ;;
        large) [[ " $BENCH_STEPS " == *" large "* ]] ;;
        *) [ -z "$BENCH_STEPS" ] || [[ " $BENCH_STEPS " == *" $1 "* ]] ;;
    esac
}

# Runs one step in a subshell with its output in $work/<name>.log; records its status,
# seconds, the load average at its start and end and the CPU other processes used
# meanwhile in $work/steps.tsv, and never stops the suite.
run_step() {
    local name=$1 t0=$SECONDS rc status load0 cpu0
    ran "$name" || return 0
    say "step $name"
    load0=$(cut -d' ' -f1 /proc/loadavg)
    cpu0=$(cpu_snapshot)
    set +e
    (set -e; "$2") >"$work/$name.log" 2>&1
    rc=$?
    set -e
    status=ok
    if [ $rc -ne 0 ]; then
        status="FAILED (exit $rc)"
        say "step $name FAILED (exit $rc); the end of its log:"
        tail -20 "$work/$name.log" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" $((SECONDS - t0)) "$load0" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$(other_cores "$cpu0" "$(cpu_snapshot)")" >>"$work/steps.tsv"
}

# Step: compiles peak.c and serve_floor.c and measures the ceilings (environment = the server's).
step_peak() {
    # shellcheck disable=SC2046
    gcc -O3 -Wall -Wextra -Werror $(pkg-config --cflags openblas) -o "$work/peak" "$here/peak.c" \
        $(pkg-config --libs openblas) -lpthread
    # shellcheck disable=SC2046
    gcc -O3 -Wall -Wextra -Werror -I "$root/src" $(pkg-config --cflags openblas) \
        -o "$work/serve_floor" "$here/serve_floor.c" "$root/src/topk.c" $(pkg-config --libs openblas) -lm
    "$work/peak" -n 2048 -m 256 -r 7 -t 1,2 | tee "$work/peak.out"
    "$work/serve_floor" -k 64 -r 2000 -t 1,2 50000 100000 | tee "$work/floor.out"
}

# Step: ranking quality on MovieLens 100K (test/bench/ml100k.sh), rows into quality.tsv.
step_quality() {
    : >"$work/quality.tsv"
    if [ ! -f "$ML100K_DATA/u1.base" ]; then
        echo "skipped: no MovieLens 100K data at $ML100K_DATA (u1.base missing); download it from" \
             "grouplens.org and pass its directory as the argument or ML100K_DATA" | tee "$work/quality.skipped"
        return 0
    fi
    ML100K_DB=reco_bench_ml100k ML100K_TSV="$work/quality.tsv" \
        bash "$here/ml100k.sh" "$ML100K_DATA" "$quality_folds" "$here/ml100k_configs.txt"
}

# Step: the temporal protocol on MovieLens 100K u.data (test/bench/temporal.sh): stale,
# refreshed and retrained models, with and without time decay; its section into temporal.md.
step_temporal() {
    TEMPORAL_DB=reco_bench_temporal TEMPORAL_MD="$work/temporal.md" bash "$here/temporal.sh" "$ML100K_DATA"
}

# Step: the diversity and exploration trade-off on MovieLens 100K u1 (test/bench/diversity.sh):
# its section into diversity.md, its plot beside the report's.
step_diversity() {
    DIVERSITY_DB=reco_bench_diversity DIVERSITY_MD="$work/diversity.md" DIVERSITY_PNG="$plot_prefix-diversity.png" \
        bash "$here/diversity.sh" "$ML100K_DATA"
}

# Step: star ratings, five folds of MovieLens 100K (test/bench/ratings.sh): its section into ratings.md.
step_ratings() {
    RATINGS_DB=reco_bench_ratings RATINGS_MD="$work/ratings.md" bash "$here/ratings.sh" "$ML100K_DATA"
}

# Step: BPR beside iALS (test/bench/bpr.sh): quality on the quality folds, seconds per epoch
# on the 10M set (full run only: it needs step_data's TSV); its section into bpr.md.
step_bpr() {
    BPR_DB=reco_bench_bpr BPR_MD="$work/bpr.md" BPR_FOLDS="$quality_folds" \
        BPR_SYNTH="$([ "$SCALE" = small ] || echo "$synth_tsv")" bash "$here/bpr.sh" "$ML100K_DATA"
}

# Step: how the iALS defaults were chosen (test/bench/ials_defaults.sh): its grid on the
# quality folds; its report into ials_defaults.md.
step_ials_defaults() {
    IALS_DEFAULTS_DB=reco_bench_ials_defaults IALS_DEFAULTS_MD="$work/ials_defaults.md" \
        IALS_DEFAULTS_FOLDS="$quality_folds" bash "$here/ials_defaults.sh" "$ML100K_DATA"
}

# Step: a 1M-item catalogue served (test/bench/million.sh; 100k items at SCALE=small): its
# report into million.md.
step_million() {
    SCALE=$SCALE RESULTS="$work/million.md" bash "$here/million.sh" reco_bench_million
}

# Step: the feedback-loop simulation (test/bench/feedback.sh): its section into feedback.md,
# its curves and plot beside the report (bench-DATE[-small]-feedback.tsv / .png).
step_feedback() {
    SCALE=$SCALE FEEDBACK_DB=reco_bench_feedback FEEDBACK_MD="$work/feedback.md" \
        FEEDBACK_PREFIX="$plot_prefix-feedback" bash "$here/feedback.sh"
}

# Step: cold items from features on MovieLens 100K (test/bench/cold_items.sh): five hashed item
# folds (u1 only at SCALE=small), the feature_regularization sweep, warm quality; into cold_items.md.
step_cold_items() {
    COLD_ITEMS_DB=reco_bench_cold_items COLD_ITEMS_MD="$work/cold_items.md" COLD_FOLDS="$quality_folds" \
        bash "$here/cold_items.sh" "$ML100K_DATA"
}

# Step: cold users from profiles on MovieLens 100K (test/bench/cold_users.sh); into cold_users.md.
step_cold_users() {
    COLD_USERS_DB=reco_bench_cold_users COLD_USERS_MD="$work/cold_users.md" COLD_FOLDS="$quality_folds" \
        bash "$here/cold_users.sh" "$ML100K_DATA"
}

# Step: what item features cost in training and placing (test/bench/features_speed.sh; the 10M set,
# or synth.sql's 1M at SCALE=small); into features_speed.md.
step_features_speed() {
    SCALE=$SCALE FEATURES_SPEED_DB=reco_bench_features_speed FEATURES_SPEED_MD="$work/features_speed.md" \
        GEN_SYNTH="$GEN_SYNTH" bash "$here/features_speed.sh"
}

# Step: the training set in bench.train — the cached gen_synth.py TSV (full) or synth.sql (small).
step_data() {
    local t0=$SECONDS
    q -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench" \
      -c "DROP TABLE IF EXISTS bench.train"
    if [ "$SCALE" = small ]; then
        # a tenth of the scale set's users and items, about 1M distinct pairs (~50 per user)
        q -v table=bench.train -v users=20000 -v items=5000 -v per_user=72 -v seed=7 -f "$here/synth.sql"
        echo "test/bench/synth.sql (20,000 users, 5,000 items, seed 7)" >"$work/data.source"
    else
        if [ ! -s "$synth_tsv" ]; then
            [ -r "$GEN_SYNTH" ] || { echo "no generator at $GEN_SYNTH" >&2; return 1; }
            mkdir -p "$(dirname "$synth_tsv")"
            "$python" "$GEN_SYNTH" "$synth_tsv.partial"
            mv "$synth_tsv.partial" "$synth_tsv"
        fi
        q -c "CREATE UNLOGGED TABLE bench.train (user_id bigint, item_id bigint, value real)" \
          -c "\\copy bench.train FROM '$synth_tsv'"
        echo "gen_synth.py 10M scale set (cached as test/bench/results/tmp/$(basename "$synth_tsv"))" >"$work/data.source"
    fi
    # set the hint bits and the visibility map now, so that no training pays for them
    q -c "VACUUM (FREEZE, ANALYZE) bench.train" -c "SELECT count(*) FROM bench.train" >/dev/null
    echo $((SECONDS - t0)) >"$work/data.seconds"
}

# Trains one configuration once in its own session on table $5 as model $6 (PGOPTIONS as
# the caller's environment sets them); appends a row to the TSV $7:
# solver k threads run statement_s read build iteration_median final_solve store train_s
# vmhwm_kb nnz users items memory_bytes iteration_list stats.threads other_cores load1
# backend_cpu_s (the backend's CPU seconds, all its threads, when the statement ended).
# The session's error message is in $work/notices.tmp when it fails.
train_measure() {
    local solver=$1 k=$2 threads=$3 run=$4 table=$5 model=$6 tsv=$7 out cpu0 others load1
    cpu0=$(cpu_snapshot)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    out=$(psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" -v solver="$solver" -v k="$k" \
              -v threads="$threads" -v tbl="$table" -v model="$model" 2>"$work/notices.tmp" <<'SQL'
SELECT pg_backend_pid() AS pid \gset
\setenv RECO_BENCH_PID :pid
\timing on
SELECT count(*) FROM reco.train(:'model', :'tbl', weight_col => 'value',
       factors => :k, regularization => 0.05, iterations => 5, cg_steps => 3,
       solver => :'solver', threads => :threads, keep_versions => 0);
\timing off
\! awk '/^VmHWM/ { print "vmhwm_kb", $2 }' /proc/$RECO_BENCH_PID/status
\! awk '{ print "cpu_ticks", $14 + $15 }' /proc/$RECO_BENCH_PID/stat
SELECT 'stats', n_interactions, n_users, n_items, stats ->> 'read_seconds', stats ->> 'build_seconds',
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x::float8)
          FROM jsonb_array_elements_text(stats -> 'iteration_seconds') AS x),
       stats ->> 'final_solve_seconds', stats ->> 'store_seconds', train_seconds,
       stats ->> 'memory_bytes',
       (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(stats -> 'iteration_seconds') AS x),
       stats ->> 'threads'
  FROM reco.models WHERE name = :'model';
SQL
    ) || { cat "$work/notices.tmp" >&2; return 1; }
    others=$(other_cores "$cpu0" "$(cpu_snapshot)")
    sed "s/^/[$solver k$k t$threads run $run] /" "$work/notices.tmp"
    awk -F '\t' -v cfg="$solver\t$k\t$threads\t$run" -v others="$others" -v load1="$load1" \
        -v hz="$(getconf CLK_TCK)" '
        /^Time: / { stmt = $0; sub(/^Time: /, "", stmt); sub(/ ms.*/, "", stmt); stmt /= 1000 }
        /^vmhwm_kb / { split($0, v, " "); hwm = v[2] }
        /^cpu_ticks / { split($0, v, " "); cpu = v[2] / hz }
        $1 == "stats" { nnz = $2; m = $3; n = $4; rd = $5; bd = $6; it = $7; fs = $8; st = $9
                        ts = $10; mem = $11; list = $12; used = $13 }
        END { if (stmt == "" || it == "") exit 1
              printf "%s\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", cfg, stmt, rd, bd,
                     it, fs, st, ts, hwm, nnz, m, n, mem, list, used, others, load1, cpu }' <<<"$out" >>"$tsv"
}

# Trains one configuration of the training step once (bench.train, model "speed"); appends
# its row to train_runs.tsv and leaves a clean slate for the next run.
train_once() {
    train_measure "$1" "$2" "$3" "$4" bench.train speed "$work/train_runs.tsv"
    if [ "$1" = cg ]; then store_floor "$1" "$2" "$3" "$4" speed "$work/store_floor.tsv"; fi
    # a clean slate for the next run: no stored model, no pending checkpoint
    q -c "TRUNCATE reco.user_factors, reco.item_factors, reco.models CASCADE" -c "CHECKPOINT"
}

# The read's ceiling: PostgreSQL's own scan of the table $1, a count(*) serial and with its
# default parallel plan (two workers planned on these tables), three of each after one to warm
# the cache; writes the two medians, "serial_s parallel_s", to the file $2.
read_floor() {
    local workers out
    for workers in 0 2; do
        out=$(q -c "SET max_parallel_workers_per_gather = $workers" -c "SELECT count(*) FROM $1" \
                -c "\\timing on" -c "SELECT count(*) FROM $1" -c "SELECT count(*) FROM $1" -c "SELECT count(*) FROM $1")
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | median | awk '{ printf "%.3f\t", $1 / 1000 }'
    done >"$2"
}

# The store's ceiling: PostgreSQL's own bulk load of the rows the training just stored (model
# $5, its only version: keep_versions 0), a binary COPY of its rows of reco.item_factors then
# reco.user_factors, the other models' left out, into empty copies of the
# two tables (LIKE ... INCLUDING ALL: the same columns, storage and indexes), alone in its
# session after a CHECKPOINT, as every training starts. Appends "solver k threads run
# reco_store_s copy_s rows MB" to the TSV $6: reco_store_s is the backend's time storing
# (inside the final pass and after it), MB what the copies hold (heap, TOAST and indexes).
store_floor() {
    local dir=$RECO_PGDIR/store_floor out
    reco_as_pg mkdir -p "$dir"
    q -c "SET client_min_messages = warning" \
      -c "CREATE TABLE IF NOT EXISTS bench.floor_items (LIKE reco.item_factors INCLUDING ALL)" \
      -c "CREATE TABLE IF NOT EXISTS bench.floor_users (LIKE reco.user_factors INCLUDING ALL)" \
      -c "TRUNCATE bench.floor_items, bench.floor_users" \
      -c "COPY (SELECT f.* FROM reco.item_factors f JOIN reco.models m USING (model_id) WHERE m.name = '$5')
            TO '$dir/items.bin' (FORMAT binary)" \
      -c "COPY (SELECT f.* FROM reco.user_factors f JOIN reco.models m USING (model_id) WHERE m.name = '$5')
            TO '$dir/users.bin' (FORMAT binary)" -c "CHECKPOINT"
    out=$(q <<SQL
\\timing on
COPY bench.floor_items FROM '$dir/items.bin' (FORMAT binary);
COPY bench.floor_users FROM '$dir/users.bin' (FORMAT binary);
\\timing off
SELECT 'stored', (stats ->> 'store_overlapped_seconds')::float8 + (stats ->> 'store_seconds')::float8,
       n_users + n_items,
       (pg_total_relation_size('bench.floor_items') + pg_total_relation_size('bench.floor_users')) / 1048576.0
  FROM reco.models WHERE name = '$5';
SQL
    )
    rm -f "$dir/items.bin" "$dir/users.bin"
    q -c "TRUNCATE bench.floor_items, bench.floor_users"
    awk -F '\t' -v cfg="$1\t$2\t$3\t$4" '
        /^Time: / { t = $0; sub(/^Time: /, "", t); sub(/ ms.*/, "", t); copy += t / 1000 }
        $1 == "stored" { store = $2; rows = $3; mb = $4 }
        END { if (store == "" || copy == 0) exit 1
              printf "%s\t%.3f\t%.3f\t%s\t%.1f\n", cfg, store, copy, rows, mb }' <<<"$out" >>"$6"
}

# Step: training speed, every configuration of $train_configs (needs step_data's table).
# implicit beside it: after each CG configuration, implicit's CG at the same k and threads on
# the same rows (bench.train exported), when it is importable (test/bench/implicit_bench.py).
step_training() {
    local solver k threads runs run iruns
    [ -s "$work/data.seconds" ] || { echo "no training data (step data failed)" >&2; return 1; }
    : >"$work/train_runs.tsv"; : >"$work/implicit_runs.tsv"; : >"$work/store_floor.tsv"
    rm -f "$work/implicit.source" "$work/implicit.absent"
    if implicit_wanted; then
        q -c "\\copy bench.train TO '$work/train.tsv'"
        printf 'measured in this run: implicit %s (%s), on the rows of bench.train exported\n' \
            "$("$IMPLICIT_PYTHON" -c 'import implicit; print(implicit.__version__)')" "$IMPLICIT_PYTHON" \
            >"$work/implicit.source"
    fi
    read_floor bench.train "$work/read_floor.tsv"
    while read -r solver k threads runs; do
        for ((run = 1; run <= runs; run++)); do
            say "training $solver k=$k threads=$threads run $run/$runs"
            train_once "$solver" "$k" "$threads" "$run"
            tail -1 "$work/train_runs.tsv"
        done
        if [ -s "$work/implicit.source" ] && [ "$solver" = cg ]; then
            iruns=${IMPLICIT_RUNS:-$runs}
            say "implicit k=$k threads=$threads, $iruns run(s)"
            implicit_once "$k" "$threads" "$iruns"
            tail -n "$iruns" "$work/implicit_runs.tsv"
        fi
    done <<<"$train_configs"
    rm -f "$work/train.tsv"
}

# Succeeds when implicit is to be timed in this run: RECO_BENCH_IMPLICIT is not off and
# $IMPLICIT_PYTHON imports it; otherwise writes the reason to implicit.absent.
implicit_wanted() {
    case $RECO_BENCH_IMPLICIT in
        off | 0 | no) echo "switched off (RECO_BENCH_IMPLICIT=$RECO_BENCH_IMPLICIT)" >"$work/implicit.absent"; return 1 ;;
    esac
    "$IMPLICIT_PYTHON" -c 'import implicit' 2>/dev/null && return 0
    echo "not importable by $IMPLICIT_PYTHON (pip install implicit)" >"$work/implicit.absent"
    return 1
}

# Times implicit on $work/train.tsv for (k, threads), $3 runs in one process (one BLAS thread,
# as its documentation advises); appends implicit_bench.py's rows to implicit_runs.tsv with
# the other processes' cores over the runs and the 1-min load at their start.
implicit_once() {
    local k=$1 threads=$2 runs=$3 cpu0 load1 out
    cpu0=$(cpu_snapshot)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    out=$(OPENBLAS_NUM_THREADS=1 "$IMPLICIT_PYTHON" "$here/implicit_bench.py" "$work/train.tsv" \
              --configs "$k:$threads" --runs "$runs")
    awk -v o="$(other_cores "$cpu0" "$(cpu_snapshot)")" -v l="$load1" '{ print $0 "\t" o "\t" l }' \
        <<<"$out" >>"$work/implicit_runs.tsv"
}

# When this run measured no implicit: the rows of the newest implicit TSV of an earlier report
# of the same scale (results/bench-*-implicit.tsv, first line "# scale=..."), else (full scale)
# BENCHMARKS.md's figures; implicit.source says which, marked as not from this run.
implicit_fallback() {
    local f last='' why
    [ -s "$work/implicit_runs.tsv" ] && return 0
    why=$(cat "$work/implicit.absent" 2>/dev/null || echo "not measured")
    for f in "$RESULTS_DIR"/bench-*-implicit.tsv "$here"/results/bench-*-implicit.tsv; do
        [ -s "$f" ] && head -1 "$f" | grep -q "^# scale=$SCALE " && last=$f
    done 2>/dev/null
    if [ -n "$last" ]; then
        grep -v '^#' "$last" >"$work/implicit_runs.tsv"
        printf '**NOT from this run** (implicit %s): the figures of the report of %s, %s (%s)\n' "$why" \
            "$(sed -n 's/^# scale=[^ ]* date=\([^ ]*\).*/\1/p' "$last")" "$(basename "$last")" \
            "$(head -1 "$last" | sed 's/^# scale=[^ ]* date=[^ ]* //')" >"$work/implicit.source"
    elif [ "$SCALE" = default ]; then
        # BENCHMARKS.md: seconds per iteration; the fit taken as 5 of them (no transpose counted)
        awk -v csr="$implicit_csr_build" '{ printf "implicit\t%s\t%s\t1\t-\t%s\t%.4f\t%s,%s,%s,%s,%s\t-\t-\t-\t-\t0.7.3\t-\t-\n",
                $1, $2, csr, 5 * $3, $3, $3, $3, $3, $3 }' <<<"$implicit_iteration" >"$work/implicit_runs.tsv"
        printf '**NOT from this run** (implicit %s): BENCHMARKS.md'"'"'s figures (implicit 0.7.3 on the 10M set, another day; CSR %s s, fit taken as 5 x s/iteration)\n' \
            "$why" "$implicit_csr_build" >"$work/implicit.source"
    else
        echo "implicit $why, and no earlier report of SCALE=$SCALE has its figures" >"$work/implicit.source"
    fi
}

# Aggregates implicit_runs.tsv per (k, threads) into implicit_summary.tsv (medians over runs):
# k threads runs map_s csr_s fit_s s/iteration whole_s nnz users items cpu_fit_s other_cores load1 version;
# s/iteration is the median over runs of each run's median iteration, whole = CSR + fit.
summarize_implicit() {
    local k t runs it whole
    : >"$work/implicit_summary.tsv"
    implicit_fallback
    [ -s "$work/implicit_runs.tsv" ] || return 0
    for k in 64 128; do
        for t in 1 2; do
            awk -F '\t' -v k="$k" -v t="$t" '$1 == "implicit" && $2 == k && $3 == t' \
                "$work/implicit_runs.tsv" >"$work/cfg.tsv"
            [ -s "$work/cfg.tsv" ] || continue
            runs=$(wc -l <"$work/cfg.tsv")
            it=$(cut -f 8 "$work/cfg.tsv" | while read -r list; do tr ',' '\n' <<<"$list" | median; done | median)
            whole=$(awk -F '\t' '{ print $6 + $7 }' "$work/cfg.tsv" | median)
            printf '%s\t' "$k" "$t" "$runs" "$(col 5)" "$(col 6)" "$(col 7)" "$it" "$whole" "$(col 10)" \
                "$(col 11)" "$(col 12)" "$(col 9)" "$(col 14)" "$(col 15)" >>"$work/implicit_summary.tsv"
            cut -f 13 "$work/cfg.tsv" | head -1 >>"$work/implicit_summary.tsv"
        done
    done
}

# One column of implicit_summary.tsv for (k, threads): implicit_figure COLUMN K THREADS.
implicit_figure() {
    [ -s "$work/implicit_summary.tsv" ] || return 0
    awk -F '\t' -v c="$1" -v k="$2" -v t="$3" '$1 == k && $2 == t { print $c }' "$work/implicit_summary.tsv"
}

# Step: 100M interactions on one box (SCALE=large): synth.sql at LARGE_USERS x LARGE_ITEMS
# (Zipf items) generated in the database, then one reco.train, CG, k 64, reg 0.05,
# 5 iterations, 2 threads. Tries the default reco.max_memory first; when the estimate is
# refused (53200), retrains with LARGE_MAX_MEMORY for the session and records the refusal.
step_large() {
    local t0=$SECONDS
    q -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench" \
      -c "DROP TABLE IF EXISTS bench.large"
    # the duplicate merge sorts about 1.2 x the rows: give it memory
    PGOPTIONS="-c work_mem=1GB" q -v table=bench.large -v users="$LARGE_USERS" -v items="$LARGE_ITEMS" \
        -v per_user="$LARGE_PER_USER" -v seed=7 -v cover="$LARGE_COVER" -f "$here/synth.sql"
    echo "generated $((SECONDS - t0))" >"$work/large_data.txt"
    t0=$SECONDS
    q -c "VACUUM (FREEZE, ANALYZE) bench.large"
    echo "vacuum $((SECONDS - t0))" >>"$work/large_data.txt"
    echo "size $(q -c "SELECT pg_size_pretty(pg_total_relation_size('bench.large'))")" >>"$work/large_data.txt"
    : >"$work/large_runs.tsv"; : >"$work/large_memory.txt"
    max_memory_setting >"$work/large_default_memory.txt"
    say "large: training 100M (default reco.max_memory $(cat "$work/large_default_memory.txt"))"
    if ! train_measure cg 64 2 1 bench.large large "$work/large_runs.tsv"; then
        grep -q 'reco.max_memory' "$work/notices.tmp" || return 1
        grep -m1 'ERROR' "$work/notices.tmp" | sed 's/^.*ERROR: *//' >"$work/large_memory.txt"
        say "large: refused at the default reco.max_memory; again with $LARGE_MAX_MEMORY for the session"
        PGOPTIONS="-c reco.max_memory=$LARGE_MAX_MEMORY" train_measure cg 64 2 1 bench.large large "$work/large_runs.tsv"
    fi
    cat "$work/large_runs.tsv"
    say "large: PostgreSQL's own scan of the table and bulk load of the stored rows"
    read_floor bench.large "$work/large_read_floor.tsv"
    store_floor cg 64 2 1 large "$work/large_store_floor.tsv"
    q -c "DROP TABLE bench.large" -c "TRUNCATE reco.user_factors, reco.item_factors, reco.models CASCADE" -c "CHECKPOINT"
}

# The session's reco.max_memory (the library loaded first: its settings exist from then on).
max_memory_setting() {
    q -c "SELECT reco.version()" -c "SHOW reco.max_memory" | tail -1
}

# Prints the 100M section: each phase, the statement, the backend's peak and the estimate.
report_large() {
    local row
    echo "## 100M interactions on one box (SCALE=large)"
    echo
    if [ ! -s "$work/large_runs.tsv" ]; then echo "large: no results (step failed)"; echo; return 0; fi
    row=$(tail -1 "$work/large_runs.tsv")
    echo "Data: test/bench/synth.sql generated in the database (users $LARGE_USERS, items $LARGE_ITEMS,"
    echo "per_user $LARGE_PER_USER, seed 7, cover $LARGE_COVER: Zipf(1) items, lognormal user activity, duplicates"
    echo "merged$([ "$LARGE_COVER" = 1 ] && echo ", one pair per item so that every item is in")):"
    awk -F '\t' '{ printf "%s distinct pairs, %s users, %s items; ", $13, $14, $15 }' <<<"$row"
    printf 'generated in %s s, VACUUM (FREEZE, ANALYZE) %s s, table %s.\n' \
        "$(awk '$1 == "generated" { print $2 }' "$work/large_data.txt")" \
        "$(awk '$1 == "vacuum" { print $2 }' "$work/large_data.txt")" \
        "$(sed -n 's/^size //p' "$work/large_data.txt")"
    echo "Training: reco.train CG, k 64, regularization 0.05, 5 iterations, CG 3 steps, 2 threads, one run."
    if [ -s "$work/large_memory.txt" ]; then
        printf 'reco.max_memory: the default %s refused the training ("%s"); it was raised to %s for\n' \
            "$(cat "$work/large_default_memory.txt")" "$(cat "$work/large_memory.txt")" "$LARGE_MAX_MEMORY"
        echo "the training session only (PGOPTIONS), and the run below is that second attempt."
    else
        echo "reco.max_memory: the default ($(cat "$work/large_default_memory.txt")) sufficed."
    fi
    echo
    echo "| phase | this run, s | share of the statement | issue 17's measurement (2026-12-01), s |"
    echo "|---|---|---|---|"
    awk -F '\t' '{ n = split($17, it, ","); its = 0; list = ""
            for (i = 1; i <= n; i++) { its += it[i]; list = list (i > 1 ? " " : "") sprintf("%.2f", it[i]) }
            other = $5 - $6 - $7 - its - $9 - $10
            printf "| read | %.2f | %.0f %% | 10 |\n", $6, 100 * $6 / $5
            printf "| build | %.2f | %.0f %% | 25 |\n", $7, 100 * $7 / $5
            printf "| 5 iterations (%s) | %.2f | %.0f %% | 8.5 each |\n", list, its, 100 * its / $5
            printf "| final exact user pass | %.2f | %.0f %% | 22 |\n", $9, 100 * $9 / $5
            printf "| store | %.2f | %.0f %% | 15 |\n", $10, 100 * $10 / $5
            printf "| outside the phases | %.2f | %.0f %% | |\n", other, 100 * other / $5
            printf "| **whole statement** (psql timing) | **%.2f** | 100 %% | 127 |\n", $5
            printf "| backend peak (VmHWM) | %.0f MB | | 2.9 GB |\n", $12 / 1024
            printf "| memory estimate (stats.memory_bytes) | %.0f MB (%.2fx the peak) | | 6.0 GB |\n",
                   $16 / 1048576, ($16 / 1024) / $12 }' <<<"$row"
    echo
    awk -F '\t' '{ printf "Threads used (stats): %s. Load average (1 min) at the start of the training: %s; other\n", $18, $20
                   printf "processes'"'"' CPU during it: %s cores (2 vCPUs in all)", $19
                   if ($21 != "") printf "; the backend'"'"'s CPU time: %s s", $21
                   print "." }' <<<"$row"
    echo "VmHWM includes the shared buffers the backend touched (shared_buffers = 256MB)."
    echo
    report_large_floors "$row"
}

# Prints the 100M run's read and store beside PostgreSQL's own count(*) of bench.large and
# binary COPY of the stored rows (read_floor and store_floor after the training); $1 = its row.
report_large_floors() {
    [ -s "$work/large_read_floor.tsv" ] && [ -s "$work/large_store_floor.tsv" ] || return 0
    echo "The read and the store beside PostgreSQL's own scan and bulk load (as in the training"
    echo "section of the default scale; measured after the training):"
    echo
    echo "| phase | reco s | PostgreSQL s | reco / PostgreSQL |"
    echo "|---|---|---|---|"
    awk -F '\t' -v row="$1" 'FILENAME ~ /read/ { serial = $1; parallel = $2; next }
        { store = $5; copy = $6; rows = $7; mb = $8 }
        END { split(row, r, "\t")
              printf "| read | %.2f | count(*) %.2f serial, %.2f parallel | %.2f / %.2f |\n", r[6], serial, parallel, r[6] / serial, r[6] / parallel
              printf "| store (the backend'"'"'s time storing, inside the final pass and after; %s rows, %.0f MB) | %.2f | binary COPY FROM %.2f | %.2f |\n", rows, mb, store, copy, store / copy }' \
        "$work/large_read_floor.tsv" "$work/large_store_floor.tsv"
    echo
}

# Step: the serving benchmark (test/bench/serving.sh), its report into serving.md.
step_serving() {
    local synth=
    if [ "$SCALE" = default ] && [ -s "$synth_tsv" ]; then synth=$synth_tsv; fi
    SCALE=$serving_scale SYNTH=$synth RESULTS="$work/serving.md" MAINT_DB=postgres \
        bash "$here/serving.sh" reco_bench_serving
}

# sgemm GFLOP/s (median) measured by step_peak for a thread count, or empty.
sgemm_peak() {
    [ -s "$work/peak.out" ] || return 0
    awk -v t="$1" '$1 == "sgemm" { for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
        if (kv["threads"] == t) print kv["median_gflops"] }' "$work/peak.out"
}

# Memory bandwidth GB/s (median) measured by step_peak for (kernel, threads), or empty.
stream_gbs() {
    [ -s "$work/peak.out" ] || return 0
    awk -v kern="$1" -v t="$2" '$1 == "stream" { for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
        if (kv["kernel"] == kern && kv["threads"] == t) print kv["median_gbs"] }' "$work/peak.out"
}

# Floor median ms from step_peak's serve_floor run for (items, threads), or empty.
floor_ms() {
    [ -s "$work/floor.out" ] || return 0
    awk -v n="$1" -v t="$2" '$1 == "floor" { for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
        if (kv["items"] == n && kv["threads"] == t) print kv["median_ms"] }' "$work/floor.out"
}

# implicit's seconds per iteration for (factors, threads) on this run's data (measured, or the
# fallback of implicit_fallback), or empty.
implicit_seconds() {
    implicit_figure 7 "$1" "$2"
}

# Floating-point arithmetic with awk: calc 'expression' prints the value (%.6g).
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# GFLOP of one iteration: CG (BENCHMARKS.md) nnz·k·(2·cg+2)·2 + (m+n)·k²·2·cg, cg = 3;
# Cholesky nnz·(k² + 3k) + (m+n)·(k³/3 + 2k²).  Args: solver k nnz users items.
iteration_gflop() {
    local solver=$1 k=$2 nnz=$3 m=$4 n=$5
    if [ "$solver" = cg ]; then
        calc "($nnz * $k * 8 * 2 + ($m + $n) * $k * $k * 2 * 3) / 1e9"
    else
        calc "($nnz * ($k * $k + 3 * $k) + ($m + $n) * ($k * $k * $k / 3 + 2 * $k * $k)) / 1e9"
    fi
}

# The median over the runs of one configuration ($work/cfg.tsv) of a column of train_runs.tsv.
col() { cut -f "$1" "$work/cfg.tsv" | median; }

# Aggregates train_runs.tsv per configuration (medians over runs) into train_summary.tsv:
# solver k threads runs stmt read build iter iter_min iter_max final store hwm_mb mem_mb nnz
# users items gflop gflops peak pct implicit_s speedup iterations_sum other_cores load1 backend_cpu_s.
summarize_training() {
    local solver k threads runs stmt rd bd it itmin itmax fs st hwm mem nnz m n gflop gflops peak pct impl speedup itsum
    : >"$work/train_summary.tsv"
    [ -s "$work/train_runs.tsv" ] || return 0
    while read -r solver k threads _; do
        awk -F '\t' -v s="$solver" -v k="$k" -v t="$threads" '$1 == s && $2 == k && $3 == t' \
            "$work/train_runs.tsv" >"$work/cfg.tsv"
        [ -s "$work/cfg.tsv" ] || continue
        runs=$(wc -l <"$work/cfg.tsv")
        stmt=$(col 5); rd=$(col 6); bd=$(col 7); it=$(col 8); fs=$(col 9); st=$(col 10)
        itmin=$(cut -f 8 "$work/cfg.tsv" | sort -g | head -1)
        itmax=$(cut -f 8 "$work/cfg.tsv" | sort -g | tail -1)
        hwm=$(calc "$(col 12) / 1024"); mem=$(calc "$(col 16) / 1048576")
        nnz=$(col 13); m=$(col 14); n=$(col 15)
        itsum=$(cut -f 17 "$work/cfg.tsv" | tr ',' '\n' | awk -v r="$runs" '{ s += $1 } END { print s / r }')
        gflop=$(iteration_gflop "$solver" "$k" "$nnz" "$m" "$n")
        gflops=$(calc "$gflop / $it")
        peak=$(sgemm_peak "$threads")
        pct=-; if [ -n "$peak" ]; then pct=$(calc "100 * $gflops / $peak"); fi
        impl=-; speedup=-
        if [ "$solver" = cg ]; then
            impl=$(implicit_seconds "$k" "$threads")
            if [ -n "$impl" ]; then speedup=$(calc "$impl / $it"); else impl=-; fi
        fi
        printf '%s\t' "$solver" "$k" "$threads" "$runs" "$stmt" "$rd" "$bd" "$it" "$itmin" "$itmax" \
            "$fs" "$st" "$hwm" "$mem" "$nnz" "$m" "$n" "$gflop" "$gflops" "${peak:--}" "$pct" "$impl" \
            "$speedup" >>"$work/train_summary.tsv"
        printf '%s\t%s\t%s\t%s\n' "$itsum" "$(col 19)" "$(col 20)" "$(col 21)" >>"$work/train_summary.tsv"
    done <<<"$train_configs"
}

# Serving figures from serving.md into serving_latency.tsv (model items clients p50 p95 p99)
# and serving_batch.tsv (model users/s).
extract_serving() {
    : >"$work/serving_latency.tsv"; : >"$work/serving_batch.tsv"
    [ -s "$work/serving.md" ] || return 0
    awk -F '|' -v lat="$work/serving_latency.tsv" -v batch="$work/serving_batch.tsv" '
        function trim(s) { gsub(/^ +| +$/, "", s); return s }
        /^\| model \| items \| clients \|/ { table = "latency"; next }
        /^\| model \| users\/s \|/ { table = "batch"; next }
        /^\|---/ { next }
        !/^\|/ { table = ""; next }
        table == "latency" { print trim($2), trim($3), trim($4), trim($5), trim($6), trim($7) > lat }
        table == "batch" { print trim($2), trim($3) > batch }' "$work/serving.md"
}

# implicit's GFLOP/s for (k, threads): the CG work of its own nnz, users and items (reco's when
# an old figure lacks them) per its median iteration.
implicit_gflops() {
    local k=$1 t=$2 s nnz m n
    s=$(implicit_figure 7 "$k" "$t"); nnz=$(implicit_figure 9 "$k" "$t")
    m=$(implicit_figure 10 "$k" "$t"); n=$(implicit_figure 11 "$k" "$t")
    if [ -z "$nnz" ] || [ "$nnz" = - ]; then
        read -r nnz m n < <(awk -F '\t' '$1 == "cg" { print $15, $16, $17; exit }' "$work/train_summary.tsv")
    fi
    [ -n "$s" ] && [ -n "$nnz" ] || return 0
    calc "$(iteration_gflop cg "$k" "$nnz" "$m" "$n") / $s"
}

# A short label of where implicit's figures come from, for plot titles.
implicit_label() {
    case $(cat "$work/implicit.source" 2>/dev/null) in
        measured*) echo "this run" ;;
        *"report of "*) echo "NOT this run: report of $(sed -n 's/.*report of \([0-9-]*\).*/\1/p' "$work/implicit.source")" ;;
        *BENCHMARKS.md*) echo "NOT this run: BENCHMARKS.md" ;;
        *) echo "absent" ;;
    esac
}

# The plot of whole-training time by phase, reco beside implicit, k 64 and k 128 at 2 threads
# (stacked bars; test/bench/training_vs_implicit.gp).
plot_versus_implicit() {
    local k reco
    : >"$work/versus.dat"
    for k in 64 128; do
        reco=$(awk -F '\t' -v k="$k" '$1 == "cg" && $2 == k && $3 == 2 {
                   other = $5 - $6 - $7 - $24 - $11 - $12; if (other < 0) other = 0
                   printf "%s\t%s\t%s\t%s\t%s\t%s", $6, $7, $24, $11, $12, other }' "$work/train_summary.tsv")
        [ -n "$reco" ] && printf '"reco k %s"\t%s\t0\t0\n' "$k" "$reco" >>"$work/versus.dat"
        if [ -n "$(implicit_figure 5 "$k" 2)" ]; then
            printf '"implicit k %s"\t0\t0\t0\t0\t0\t0\t%s\t%s\n' "$k" "$(implicit_figure 5 "$k" 2)" \
                "$(implicit_figure 6 "$k" 2)" >>"$work/versus.dat"
        fi
    done
    [ -s "$work/versus.dat" ] || return 0
    gnuplot -e "data='$work/versus.dat'; out='$plot_prefix-training-vs-implicit.png'" \
        -e "heading='Whole training by phase, CG k 64 and k 128, 2 threads, 5 iterations (implicit: $(implicit_label))'" \
        -e "subheading='$(sed 's/ (cached.*//' "$work/data.source")'" \
        "$here/training_vs_implicit.gp"
}

# Step: the PNG plots (gnuplot), from the summaries of the other steps.
step_plots() {
    local t k solver col impl implicit_series='' implicit_title
    summarize_implicit
    summarize_training
    extract_serving
    command -v gnuplot >/dev/null || { echo "gnuplot not found (apt-get install gnuplot-nox)" >&2; return 1; }
    if [ -s "$work/train_summary.tsv" ]; then
        # threads, s/iteration and GFLOP/s per series (? = not measured)
        {
            echo "# threads cg64 cg128 chol64 impl64 impl128 gf_cg64 gf_cg128 gf_chol64 gf_impl64 gf_impl128"
            for t in 1 2; do
                printf '%s' "$t"
                for col in 8 19; do
                    for solver in "cg 64" "cg 128" "cholesky 64"; do
                        printf ' %s' "$(awk -F '\t' -v s="${solver% *}" -v k="${solver#* }" -v t="$t" -v c="$col" \
                            '$1 == s && $2 == k && $3 == t { v = $c } END { print (v == "" ? "?" : v) }' \
                            "$work/train_summary.tsv")"
                    done
                    for k in 64 128; do
                        impl=$(implicit_seconds "$k" "$t")
                        if [ -z "$impl" ]; then
                            printf ' ?'
                        elif [ "$col" = 8 ]; then
                            printf ' %s' "$impl"
                        else
                            printf ' %s' "$(implicit_gflops "$k" "$t")"
                        fi
                    done
                done
                echo
            done
        } >"$work/train_plot.dat"
        # implicit on the same data: measured in this run, or an earlier report's (so marked)
        implicit_title=$(implicit_label)
        if [ -s "$work/implicit_summary.tsv" ]; then
            implicit_series=", \"\" using 1:5 with linespoints lw 2 dt 2 pt 6 lc rgb \"#1f77b4\" title \"implicit CG k 64 ($implicit_title)\", \"\" using 1:6 with linespoints lw 2 dt 2 pt 4 lc rgb \"#d62728\" title \"implicit CG k 128 ($implicit_title)\""
        fi
        gnuplot <<EOF
set terminal pngcairo noenhanced size 1200,560 font "DejaVu Sans,11"
set output "$plot_prefix-training.png"
set datafile missing "?"
set multiplot layout 1,2 title "Training, $(sed 's/ (cached.*//' "$work/data.source"), 5 iterations, CG 3 steps (medians)"
set xrange [0.7:2.3]; set xtics ("1 thread" 1, "2 threads" 2)
set grid ytics; set key below maxrows 3 font ",10"
set ylabel "seconds per iteration"; set yrange [0:*]
set title "seconds per iteration (lower is better)"
plot "$work/train_plot.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "reco CG k 64", \
     "" using 1:3 with linespoints lw 2 pt 5 lc rgb "#d62728" title "reco CG k 128", \
     "" using 1:4 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "reco Cholesky k 64"$implicit_series
set ylabel "GFLOP/s (per-iteration work / median time)"
set title "GFLOP/s achieved (higher is better)"
plot "$work/train_plot.dat" using 1:7 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "reco CG k 64", \
     "" using 1:8 with linespoints lw 2 pt 5 lc rgb "#d62728" title "reco CG k 128", \
     "" using 1:9 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "reco Cholesky k 64", \
     "" using 1:10 with linespoints lw 2 dt 2 pt 6 lc rgb "#1f77b4" title "implicit CG k 64 ($implicit_title)", \
     "" using 1:11 with linespoints lw 2 dt 2 pt 4 lc rgb "#d62728" title "implicit CG k 128 ($implicit_title)"
unset multiplot
EOF
        plot_versus_implicit
        # training time broken down by phase, one bar per configuration
        awk -F '\t' 'BEGIN { OFS = "\t" }
            { label = ($1 == "cg" ? "CG" : "Chol") " k" $2 " t" $3
              other = $5 - $6 - $7 - $24 - $11 - $12; if (other < 0) other = 0
              print "\"" label "\"", $6, $7, $24, $11, $12, other }' \
            "$work/train_summary.tsv" >"$work/breakdown.dat"
        gnuplot <<EOF
set terminal pngcairo noenhanced size 1000,500 font "DejaVu Sans,11"
set output "$plot_prefix-training-phases.png"
set title "Whole reco.train statement by phase (medians, seconds)"
set style data histograms; set style histogram rowstacked; set style fill solid 0.85 border -1
set boxwidth 0.6; set grid ytics; set key outside right top; set yrange [0:*]
set ylabel "seconds"
plot "$work/breakdown.dat" using 2:xtic(1) title "read", "" using 3 title "build", \
     "" using 4 title "5 iterations", "" using 5 title "final user solve", \
     "" using 6 title "store", "" using 7 title "other"
EOF
    fi
    if [ -s "$work/serving_latency.tsv" ]; then
        {
            echo "# items p50_1 p95_1 p99_1 p50_2 p95_2 p99_2 floor_1t floor_2t"
            for items in 50000 100000; do
                printf '%s' "$items"
                for c in 1 2; do
                    printf ' %s' "$(awk -v n="$items" -v c="$c" '$2 == n && $3 == c { print $4, $5, $6; f = 1 }
                                    END { if (!f) print "? ? ?" }' "$work/serving_latency.tsv")"
                done
                printf ' %s %s\n' "$(floor_ms "$items" 1)" "$(floor_ms "$items" 2)"
            done
        } >"$work/latency.dat"
        printf '50000 %s\n' "$implicit_recommend_ms" >"$work/peer_implicit.dat"
        printf '100000 %s %s %s\n' "$(calc "(${pgvector_exact_100k% *} + ${pgvector_exact_100k#* }) / 2")" \
            "${pgvector_exact_100k% *}" "${pgvector_exact_100k#* }" >"$work/peer_pgvector.dat"
        printf '100000 %s\n' "$pgvector_hnsw_100k" >"$work/peer_hnsw.dat"
        gnuplot <<EOF
set terminal pngcairo noenhanced size 1000,600 font "DejaVu Sans,11"
set output "$plot_prefix-latency.png"
set datafile missing "?"
set title "reco.recommend(model, user, 10), k = 64, warm, through pgbench -M prepared"
set logscale y; set yrange [0.03:40]; set grid ytics mytics
set xrange [35000:115000]; set xtics ("50,000 items" 50000, "100,000 items" 100000)
set ylabel "milliseconds (log scale)"
set key outside right top
plot "$work/latency.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "p50, 1 client", \
     "" using 1:3 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "p95, 1 client", \
     "" using 1:4 with linespoints lw 2 pt 9 lc rgb "#d62728" title "p99, 1 client", \
     "" using 1:5 with linespoints lw 1 dt 3 pt 6 lc rgb "#1f77b4" title "p50, 2 clients", \
     "" using 1:6 with linespoints lw 1 dt 3 pt 4 lc rgb "#ff7f0e" title "p95, 2 clients", \
     "" using 1:7 with linespoints lw 1 dt 3 pt 8 lc rgb "#d62728" title "p99, 2 clients", \
     "" using 1:8 with lines lw 3 lc rgb "black" title "floor: sgemv + top-10, 1 thread", \
     "" using 1:9 with lines lw 2 dt 2 lc rgb "gray40" title "floor, 2 threads", \
     "$work/peer_implicit.dat" using 1:2 with points pt 13 ps 2 lc rgb "#9467bd" title "implicit recommend()", \
     "$work/peer_pgvector.dat" using 1:2:3:4 with yerrorbars pt 11 ps 2 lc rgb "#8c564b" title "pgvector exact (15-20 ms)", \
     "$work/peer_hnsw.dat" using 1:2 with points pt 3 ps 2 lc rgb "#e377c2" title "pgvector HNSW, recall 0.5"
EOF
    fi
}

# Prints the machine line and the peak block.
report_peak() {
    local cpu blas core_server threads_server t
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    blas=$({ dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' 'libopenblas0-*' 2>/dev/null || true; } |
           awk '$1 == "ii" { print $2, $3 }' | paste -sd ',' -)
    core_server=$(server_env OPENBLAS_CORETYPE)
    threads_server=$(server_env OPENBLAS_NUM_THREADS)
    echo "## Machine and peak"
    echo
    printf -- '- machine: %s, %s cores (nproc), %s; %s\n' "${cpu:-unknown CPU}" "$(nproc)" \
        "$(q -c 'SELECT version()' | sed 's/ on .*//')" "${blas:-OpenBLAS (not from dpkg)}"
    printf -- '- OPENBLAS_CORETYPE of the server: %s (OPENBLAS_NUM_THREADS %s); core type OpenBLAS selected (openblas_get_corename()): %s\n' \
        "$core_server" "$threads_server" "$(sed -n 's/^openblas_corename //p' "$work/peak.out" 2>/dev/null)"
    printf -- '- %s; reco %s (installed, %s)\n' "$(sed -n 's/^openblas_config //p' "$work/peak.out" 2>/dev/null)" \
        "$(q -c 'SELECT reco.version()')" \
        "$(date -u -r "$(pg_config --pkglibdir 2>/dev/null)/reco.so" '+reco.so of %Y-%m-%d %H:%M UTC' 2>/dev/null || echo 'reco.so date unknown')"
    echo
    if [ ! -s "$work/peak.out" ]; then echo "peak: not measured (step failed)"; echo; return 0; fi
    echo "Ceilings measured in this run, in the server's environment (test/bench/peak.c and"
    echo "serve_floor.c; medians of 7 sgemm / stream runs and of 2,000 floor calls):"
    echo
    echo "| ceiling | 1 thread | 2 threads |"
    echo "|---|---|---|"
    printf '| sgemm 2048³, GFLOP/s | %s | %s |\n' "$(sgemm_peak 1)" "$(sgemm_peak 2)"
    for kernel in read triad; do
        printf '| memory bandwidth, %s (256 MB arrays), GB/s | %s | %s |\n' "$kernel" \
            "$(stream_gbs "$kernel" 1)" "$(stream_gbs "$kernel" 2)"
    done
    for items in 50000 100000; do
        printf '| scoring floor, sgemv %s x 64 + top-10, ms | %s | %s |\n' "$items" "$(floor_ms "$items" 1)" "$(floor_ms "$items" 2)"
    done
    echo
    echo "BENCHMARKS.md measured on this machine class: sgemm about 110 / 215 GFLOP/s (Haswell"
    echo "kernels), floor 0.21 ms (50,000 items) and 0.58 / 0.30 ms (100,000 items, 1 / 2 threads)."
    echo "Triad counts 3 x 256 MB per pass (as STREAM: the write-allocate traffic is not counted)."
    echo
}

# Prints the section a step's script wrote ($work/$1.md), or its heading ($2) and a failure line.
report_section() {
    if [ ! -s "$work/$1.md" ]; then
        echo "## $2"; echo; echo "$1: no results (step failed)"; echo
        return 0
    fi
    cat "$work/$1.md"
    echo
}

# Prints the diversity section: diversity.sh's own markdown (its plot is listed under Plots).
report_diversity() {
    if [ ! -s "$work/diversity.md" ]; then
        echo "## Diversity and exploration (MovieLens 100K u1)"; echo; echo "diversity: no results (step failed)"; echo
        return 0
    fi
    grep -v '^!\[diversity\]' "$work/diversity.md"
    echo
}

# Prints the quality section: u1 beside implicit's u1 figures, and the five-fold means.
report_quality() {
    echo "## Ranking quality, MovieLens 100K"
    echo
    if [ -s "$work/quality.skipped" ]; then cat "$work/quality.skipped"; echo; return 0; fi
    if [ ! -s "$work/quality.tsv" ]; then echo "quality: no results (step failed)"; echo; return 0; fi
    echo "BENCHMARKS.md protocol: train on uK.base (every rating an interaction), relevant = uK.test"
    echo "items rated >= 4, training items excluded, K = 10; \"capped\" = implicit's precision"
    echo "(sum of hits / sum of min(10, relevant)). Configurations: test/bench/ml100k_configs.txt."
    echo "The implicit columns are its u1 figures from BENCHMARKS.md (implicit 0.7.3, 15 iterations)."
    echo
    echo "u1:"
    echo
    echo "| configuration | P@10 | R@10 | MAP@10 | NDCG@10 | capped P | AUC | train s | implicit P@10 | implicit NDCG@10 | implicit MAP@10 |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F '\t' -v configs="$here/ml100k_configs.txt" -v pop="$popularity_peer" '
        BEGIN { while ((getline line < configs) > 0) {
                    if (line ~ /^#/ || line == "") continue
                    split(line, f, "|"); peer[f[1]] = f[4] }
                peer["popularity baseline"] = pop }
        $2 == "u1" { n = split(peer[$1], p, " ")
                     for (i = n + 1; i <= 3; i++) p[i] = "-"
                     printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                            $1, $3, $4, $5, $6, $7, $8, $10, p[1], p[2], p[3] }' "$work/quality.tsv"
    echo
    if [ "$(cut -f 2 "$work/quality.tsv" | sort -u | wc -l)" -gt 1 ]; then
        echo "Mean over u1..u5:"
        echo
        echo "| configuration | folds | P@10 | R@10 | MAP@10 | NDCG@10 | capped P |"
        echo "|---|---|---|---|---|---|---|"
        awk -F '\t' '
            !($1 in n) { order[++count] = $1 }
            { n[$1]++; for (c = 3; c <= 7; c++) s[$1, c] += $c }
            END { for (i = 1; i <= count; i++) { l = order[i]
                      printf "| %s | %d", l, n[l]
                      for (c = 3; c <= 7; c++) printf " | %.4f", s[l, c] / n[l]
                      print " |" } }' "$work/quality.tsv"
        echo
    else
        echo "(SCALE=small: u1 only; the full run adds the five-fold means.)"
        echo
    fi
}

# Prints the training section: per configuration, phases, GFLOP/s, memory, ratio to implicit.
report_training() {
    echo "## Training speed"
    echo
    if [ ! -s "$work/train_summary.tsv" ]; then echo "training: no results (step failed)"; echo; return 0; fi
    local first
    first=$(head -1 "$work/train_summary.tsv")
    echo "Data: $(cat "$work/data.source"): $(cut -f 15 <<<"$first") distinct pairs, $(cut -f 16 <<<"$first") users,"
    echo "$(cut -f 17 <<<"$first") items (loaded in $(cat "$work/data.seconds") s). Protocol (BENCHMARKS.md): regularization 0.05,"
    echo "5 iterations, CG 3 steps; every run in a fresh session, the stored model removed and a"
    echo "CHECKPOINT between runs. Phases from reco.models.stats; \"statement\" is the client-side"
    echo "time of the whole reco.train (psql's timing). Figures are medians over the runs; the"
    echo "per-iteration figure is the median of each run's 5 iterations (each includes its loss),"
    echo "then the median over runs, with the range over runs in brackets."
    echo
    echo "| solver | k | threads | runs | read s | build s | s/iteration | final user solve s | store s | statement s | GFLOP/iteration | GFLOP/s | % of sgemm peak | backend VmHWM MB | memory estimate MB | implicit s/iteration | implicit / reco | other processes' CPU, cores |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F '\t' '{
        range = ($4 > 1) ? sprintf(" (%.3f–%.3f)", $9, $10) : ""
        printf "| %s | %s | %s | %s | %.2f | %.2f | %.3f%s | %.2f | %.2f | %.2f | %.1f | %.1f | %s | %.0f | %.0f | %s | %s | %s |\n",
               $1, $2, $3, $4, $6, $7, $8, range, $11, $12, $5, $18, $19,
               ($21 == "-" ? "-" : sprintf("%.1f %% of %s", $21, $20)), $13, $14, $22,
               ($23 == "-" ? "-" : sprintf("%.2fx", $23)), $25 }' "$work/train_summary.tsv"
    echo
    echo "- GFLOP per iteration: CG (BENCHMARKS.md) nnz·k·(2·cg+2)·2 + (m+n)·k²·2·cg with cg = 3;"
    echo "  Cholesky nnz·(k² + 3k) + (m+n)·(k³/3 + 2k²) (per nonzero the lower triangle of the rank-1"
    echo "  update and the right-hand side, per row the factorization and two triangular solves). Neither"
    echo "  counts the Gram matrix YᵀY nor the loss. % of peak = GFLOP/s / the sgemm median of the same"
    echo "  thread count measured in this run."
    echo "- Cholesky is measured at k = 64 only: at k = 128 its k³/3 per row makes one run take"
    echo "  minutes on the 10M set (about 350 GFLOP per iteration)."
    echo "- VmHWM: peak resident memory of the training backend (/proc/PID/status after the"
    echo "  statement); it includes the shared buffers the backend touched (shared_buffers = 256MB)."
    echo "- The final user solve is the exact (Cholesky) user pass every training ends with (README,"
    echo "  reco.fit); implicit has no such pass, so compare statements with care."
    echo "- implicit's columns: $(cat "$work/implicit.source" 2>/dev/null || echo "absent")."
    echo "  The side-by-side table below has its every phase."
    echo
    echo "Every run (seconds; iterations as recorded in stats.iteration_seconds):"
    echo
    echo "| solver | k | threads (stats) | run | statement | read | build | iterations | final solve | store | VmHWM MB | other processes' CPU, cores |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F '\t' '{ n = split($17, it, ","); s = ""
                   for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") sprintf("%.3f", it[i])
                   printf "| %s | %s | %s (%s) | %s | %.2f | %.2f | %.2f | %s | %.2f | %.2f | %.0f | %s |\n",
                          $1, $2, $3, $18, $4, $5, $6, $7, s, $9, $10, $12 / 1024, $19 }' "$work/train_runs.tsv"
    echo
    report_floors
    report_implicit
}

# Prints the read and the store against their ceilings (read_floor.tsv, store_floor.tsv): per
# CG configuration, medians over runs of reco's read and store beside PostgreSQL's own scan of
# the table and binary COPY of the stored rows.
report_floors() {
    [ -s "$work/store_floor.tsv" ] || return 0
    local k t rows read read_serial read_parallel
    read_serial=$(cut -f 1 "$work/read_floor.tsv" 2>/dev/null || echo -)
    read_parallel=$(cut -f 2 "$work/read_floor.tsv" 2>/dev/null || echo -)
    echo "### The read and the store against PostgreSQL's own scan and bulk load"
    echo
    echo "Read: PostgreSQL's \`SELECT count(*) FROM bench.train\` (which reads every row but keeps none),"
    echo "serial and with its default parallel plan (two workers planned), medians of three after one"
    echo "to warm the cache, measured once before the training runs. Store: after each CG run, before"
    echo "the model is removed, the rows it stored, copied out in COPY's binary format and loaded by"
    echo "a binary \`COPY FROM\` into empty copies of reco.item_factors and reco.user_factors"
    echo "(\`LIKE ... INCLUDING ALL\`: the same columns, storage and indexes), alone in a session"
    echo "after a CHECKPOINT, as each training starts. reco's store is the backend's time storing,"
    echo "inside the final pass (the item rows, then each user row once the pass has solved it) and"
    echo "after it, sharing the machine with the pass's other thread. Ratios < 1: reco is faster than"
    echo "PostgreSQL's own scan or bulk load."
    echo
    echo "| k | threads | runs | reco read s | count(*) s, serial / parallel | reco / count(*), serial / parallel | rows stored | MB (heap, TOAST, indexes) | reco store s | binary COPY s | reco / COPY |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    while read -r k t; do
        rows=$(awk -F '\t' -v k="$k" -v t="$t" '$2 == k && $3 == t' "$work/store_floor.tsv")
        read=$(awk -F '\t' -v k="$k" -v t="$t" '$1 == "cg" && $2 == k && $3 == t { print $6 }' \
                   "$work/train_runs.tsv" | median)
        printf '| %s | %s | %s | %.2f | %s / %s | %s | %s | %.1f | %.2f | %.2f | %.2f |\n' "$k" "$t" "$(wc -l <<<"$rows")" \
            "$read" "$read_serial" "$read_parallel" \
            "$(awk -v r="$read" -v s="$read_serial" -v p="$read_parallel" \
                   'BEGIN { print (s > 0 && p > 0) ? sprintf("%.2f / %.2f", r / s, r / p) : "-" }')" \
            "$(cut -f 7 <<<"$rows" | head -1)" "$(cut -f 8 <<<"$rows" | median)" \
            "$(cut -f 5 <<<"$rows" | median)" "$(cut -f 6 <<<"$rows" | median)" \
            "$(awk -F '\t' '{ print $5 / $6 }' <<<"$rows" | median)"
    done < <(cut -f 2,3 "$work/store_floor.tsv" | sort -n -u)
    echo
}

# Prints the side-by-side table: reco's whole statement by phase against implicit's whole fit
# (COO -> CSR + fit) on the same data, per iteration too, with GFLOP/s and % of sgemm peak.
report_implicit() {
    local k t reco impl peak
    echo "### Side by side with implicit (CG, reg 0.05, 5 iterations, float32)"
    echo
    echo "implicit: $(cat "$work/implicit.source" 2>/dev/null || echo "absent")."
    [ -s "$work/implicit_summary.tsv" ] || { echo; return 0; }
    echo "implicit runs test/bench/implicit_bench.py: \`AlternatingLeastSquares(factors=k, regularization=0.05,"
    echo "iterations=5, use_cg=True, dtype=float32, num_threads=threads)\` (cg_steps 3, no loss), one"
    echo "OpenBLAS thread as its documentation advises, the rows of bench.train that reco trained on."
    echo "Its whole fit = scipy's COO -> CSR build + \`fit\` (which includes its transpose and factor"
    echo "initialisation); mapping the ids to row numbers is shown apart and not counted (the"
    echo "issue's definition; reco's build does map ids). Ratios > 1: reco is faster. Medians over"
    echo "runs (reco's runs as above; implicit's in the last column). CPU seconds: the training"
    echo "backend's (all its threads; the statement and the session's little else) against the"
    echo "Python process's during fit: on this shared machine they are steadier than the clock."
    echo
    echo "| k | threads | reco statement s = read + build + 5 iterations + final pass + store (+ other) | implicit whole fit s = CSR + fit | whole: implicit / reco | reco s/iteration | implicit s/iteration | per iteration: implicit / reco | reco GFLOP/s (% of sgemm peak) | implicit GFLOP/s (% of sgemm peak) | implicit ids -> rows s (not counted) | CPU s, reco backend / implicit fit | 1-min load at start, reco / implicit | other processes' CPU, cores, reco / implicit | runs reco / implicit |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for k in 64 128; do
        for t in 1 2; do
            reco=$(awk -F '\t' -v k="$k" -v t="$t" '$1 == "cg" && $2 == k && $3 == t' "$work/train_summary.tsv")
            impl=$(awk -F '\t' -v k="$k" -v t="$t" '$1 == k && $2 == t' "$work/implicit_summary.tsv")
            if [ -z "$reco" ] || [ -z "$impl" ]; then continue; fi
            peak=$(sgemm_peak "$t")
            awk -F '\t' -v impl="$impl" -v igf="$(implicit_gflops "$k" "$t")" -v peak="${peak:-}" '{
                split(impl, i, "\t")
                other = $5 - $6 - $7 - $24 - $11 - $12; if (other < 0) other = 0
                pct = (peak == "") ? "" : sprintf(" (%.1f %%)", 100 * $19 / peak)
                ipct = (peak == "" || igf == "") ? "" : sprintf(" (%.1f %%)", 100 * igf / peak)
                printf "| %s | %s | %.2f = %.2f + %.2f + %.2f + %.2f + %.2f (+ %.2f) | %.2f = %.3f + %.2f | **%.2fx** | %.3f | %.3f | %.2fx | %.1f%s | %s%s | %.3f | %.2f / %.2f | %s / %s | %.2f / %.2f | %s / %s |\n",
                       $2, $3, $5, $6, $7, $24, $11, $12, other, i[8], i[5], i[6], i[8] / $5, $8, i[7], i[7] / $8,
                       $19, pct, (igf == "" ? "-" : sprintf("%.1f", igf)), ipct, i[4],
                       $27, i[12], $26, i[14], $25, i[13], $4, i[3] }' <<<"$reco"
        done
    done
    echo
    if [ "$(implicit_label)" = "this run" ]; then
        echo "implicit, every run (seconds):"
        echo
        echo "| k | threads | run | ids -> rows | COO -> CSR | fit | iterations (fit's callback) | CPU s of fit | pairs | users | items |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|"
        awk -F '\t' '$1 == "implicit" { gsub(",", " ", $8)
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' \
            "$work/implicit_runs.tsv"
        echo
    fi
}

# Prints the serving section: serving.sh's own report, headings one level down.
report_serving() {
    echo "## Serving"
    echo
    if [ ! -s "$work/serving.md" ]; then echo "serving: no results (step failed)"; echo; return 0; fi
    echo "From test/bench/serving.sh (SCALE=$serving_scale$([ "$SCALE" = default ] && echo ", SYNTH = the 10M set: the 50k model is the 10M-set model")), run against this cluster:"
    echo
    sed 's/^## Serving benchmark/### serving.sh report/' "$work/serving.md"
    echo
}

# Prints one comparison line: figure, reco, peer, and which is ahead (lower_better 1/0).
compare_row() {
    local what=$1 reco=$2 peer=$3 lower_better=$4 note=${5:-}
    awk -v w="$what" -v r="$reco" -v p="$peer" -v lb="$lower_better" -v note="$note" 'BEGIN {
        if (r == "" || r == "-" || p == "" || p == "-") exit
        ratio = (lb ? p / r : r / p)
        verdict = (ratio >= 1.005) ? "reco ahead" : (ratio > 0.995 ? "on par" : \
                  sprintf("**reco behind** by %.1f %%", 100 * (1 - ratio)))
        printf "| %s | %s | %s | %.2fx | %s | %s |\n", w, r, p, ratio, verdict, note }'
}

# Prints the peer comparisons, stating plainly where reco is behind.
report_comparisons() {
    local label k t reco impl p50_50 p50_100 batch
    echo "## Against the peers"
    echo
    echo "Ratio > 1 means reco is better (faster, or higher quality); within 0.5 % counts as on par.
Quality figures are deterministic (no timing noise); speed figures of other days are not."
    echo
    echo "| figure | reco | peer | ratio | verdict | note |"
    echo "|---|---|---|---|---|---|"
    if [ -s "$work/quality.tsv" ]; then
        while IFS='|' read -r label _ _ peer; do
            [ -z "$label" ] || [ "${label#\#}" != "$label" ] && continue
            read -r -a p <<<"$peer"
            # only exact peer figures are compared (not "≈0.30")
            if [ -z "${p[0]:-}" ] || [ "${p[0]#≈}" != "${p[0]}" ]; then continue; fi
            reco=$(awk -F '\t' -v l="$label" '$1 == l && $2 == "u1" { print $3, $6, $5 }' "$work/quality.tsv")
            [ -n "$reco" ] || continue
            read -r -a r <<<"$reco"
            compare_row "u1 P@10, $label" "${r[0]}" "${p[0]}" 0 "implicit 0.7.3"
            compare_row "u1 NDCG@10, $label" "${r[1]}" "${p[1]}" 0 "implicit 0.7.3"
        done <"$here/ml100k_configs.txt"
    fi
    if [ -s "$work/train_summary.tsv" ] && [ -s "$work/implicit_summary.tsv" ]; then
        for k in 64 128; do
            for t in 1 2; do
                reco=$(awk -F '\t' -v k="$k" -v t="$t" '$1 == "cg" && $2 == k && $3 == t { printf "%.2f", $5 }' \
                       "$work/train_summary.tsv")
                compare_row "whole training s (reco statement; implicit CSR + fit), CG k $k, $t thread(s)" "$reco" \
                    "$(implicit_figure 8 "$k" "$t" | awk '{ printf "%.2f", $1 }')" 1 "implicit: $(implicit_label)"
                reco=$(awk -F '\t' -v k="$k" -v t="$t" '$1 == "cg" && $2 == k && $3 == t { printf "%.3f", $8 }' \
                       "$work/train_summary.tsv")
                compare_row "s/iteration, CG k $k, $t thread(s)" "$reco" \
                    "$(implicit_seconds "$k" "$t" | awk '{ printf "%.3f", $1 }')" 1 \
                    "implicit: $(implicit_label)"
            done
        done
        reco=$(awk -F '\t' '$1 == "cg" && $2 == 64 && $3 == 2 { printf "%.2f", $7 }' "$work/train_summary.tsv")
        compare_row "build of the sparse structures, s" "$reco" "$(implicit_figure 5 64 2 | awk '{ printf "%.3f", $1 }')" 1 \
            "reco: id maps + user- and item-major; implicit: COO -> CSR only ($(implicit_label))"
    fi
    if [ -s "$work/serving_latency.tsv" ]; then
        p50_50=$(awk '$2 == 50000 && $3 == 1 { print $4 }' "$work/serving_latency.tsv")
        p50_100=$(awk '$2 == 100000 && $3 == 1 { print $4 }' "$work/serving_latency.tsv")
        compare_row "recommend p50 ms, 50k items, 1 client" "$p50_50" "$implicit_recommend_ms" 1 \
            "reco through pgbench; implicit in-process Python"
        compare_row "recommend p50 ms, 100k items, 1 client" "$p50_100" "${pgvector_exact_100k% *}" 1 \
            "pgvector exact, the low end of 15–20 ms"
        compare_row "recommend p50 ms, 100k items, 1 client" "$p50_100" "$pgvector_hnsw_100k" 1 \
            "pgvector HNSW, approximate (recall@10 0.50)"
    fi
    if [ -s "$work/serving_batch.tsv" ]; then
        batch=$(awk '$1 == "items50k" { print $2 }' "$work/serving_batch.tsv")
        compare_row "recommend_all users/s, 10k users, 50k items" "$batch" "$implicit_batch_users_s" 0 \
            "implicit batch recommend, 2 threads"
    fi
    echo
}

# Step: the whole report into $work/report.md.
step_report() {
    report >"$work/report.md"
}

# The settings of this run that change what it measures, as a prefix of the make command.
reproduce_env() {
    local v
    for v in BENCH_STEPS BENCH_TAG TRAIN_CONFIGS TRAIN_REPEATS RECO_BENCH_IMPLICIT LARGE_COVER; do
        case $v in
            BENCH_STEPS) [ "$SCALE" = large ] && [ "$BENCH_STEPS" = "peak large" ] && continue ;;
            RECO_BENCH_IMPLICIT) [ "$RECO_BENCH_IMPLICIT" = auto ] && continue ;;
            LARGE_COVER) { [ "$SCALE" != large ] || [ "$LARGE_COVER" = 0 ]; } && continue ;;
        esac
        [ -n "${!v:-}" ] && printf '%s="%s" ' "$v" "${!v}"
    done
    return 0
}

# Prints the whole report.
report() {
    local load_end
    load_end=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "# reco benchmark report ($([ "$SCALE" = default ] && echo "full scale" || echo "SCALE=$SCALE")$([ -n "$BENCH_STEPS" ] && echo ", steps: $BENCH_STEPS"), $(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo
    echo "Reproduce: \`$(reproduce_env)make bench$([ "$SCALE" = default ] || echo " SCALE=$SCALE")\` (test/bench/run.sh). Total $((SECONDS - started)) s."
    echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end (it includes"
    echo "this suite's own work). The machine has $(nproc) vCPUs and may be shared: the \"other processes'"
    echo "CPU\" columns (per step at the end, per training run in its table) give the cores other"
    echo "processes and the hypervisor (steal) took meanwhile; figures measured while that was above"
    echo "about 0.1 are noisy, and with 2 threads they suffer most. Timings are medians as stated per"
    echo "table; single runs are marked as such (runs = 1)."
    echo
    if [ -n "$BENCH_STEPS" ]; then
        echo "Steps run (BENCH_STEPS): $BENCH_STEPS; the sections of the other steps are left out."
        echo
    fi
    report_peak
    ! ran quality || report_quality
    ! ran temporal || report_section temporal "Temporal protocol (MovieLens 100K)"
    ! ran diversity || report_diversity
    ! ran ratings || report_section ratings "Star ratings (MovieLens 100K, five folds)"
    ! ran ials_defaults || report_section ials_defaults "iALS defaults (MovieLens 100K)"
    ! ran bpr || report_section bpr "BPR beside iALS (MovieLens 100K, 10M set)"
    ! ran feedback || report_section feedback "Feedback loop simulated in the database"
    ! ran cold_items || report_section cold_items "Cold items from features (MovieLens 100K)"
    ! ran cold_users || report_section cold_users "Cold users from profiles (MovieLens 100K)"
    ! ran features_speed || report_section features_speed "What item features cost"
    ! ran training || report_training
    ! ran serving || report_serving
    ! ran million || report_section million "A million items"
    ! ran large || report_large
    [ "$SCALE" = large ] || report_comparisons
    echo "## Plots"
    echo
    for png in training training-phases training-vs-implicit latency diversity; do
        if [ -s "$plot_prefix-$png.png" ]; then
            echo "![$png]($(basename "$plot_prefix-$png.png"))"
            echo
        fi
    done
    echo "## Steps"
    echo
    echo "| step | status | seconds | 1-min load at its start / end | other processes' CPU, cores |"
    echo "|---|---|---|---|---|"
    awk -F '\t' '{ printf "| %s | %s | %s | %s / %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$work/steps.tsv"
}

# Starts the cluster, runs every step, writes the report; exits 1 if any step failed.
main() {
    local failed
    reco_install_packages $RECO_BENCH_PACKAGES >&2 || exit 1
    reco_ensure_installed >&2 || exit 1
    reco_cleanup_on_exit
    trap cleanup EXIT
    mkdir -p "$RESULTS_DIR"
    : >"$work/steps.tsv"
    reco_cluster_start bench >&2
    [ "$(psql -X -q -At -d postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'reco'")" = 1 ] ||
        { echo "run.sh: the reco extension is not installed (make install, as root)" >&2; exit 1; }
    psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
    q -c "CREATE EXTENSION reco"
    run_step peak step_peak
    run_step quality step_quality
    run_step temporal step_temporal
    run_step diversity step_diversity
    run_step ratings step_ratings
    run_step feedback step_feedback
    run_step ials_defaults step_ials_defaults
    run_step cold_items step_cold_items
    run_step cold_users step_cold_users
    run_step data step_data
    run_step bpr step_bpr
    run_step training step_training
    run_step serving step_serving
    run_step million step_million
    run_step features_speed step_features_speed
    run_step large step_large
    run_step plots step_plots
    run_step report step_report
    [ -s "$work/report.md" ] && cp "$work/report.md" "$report"
    if [ -s "$work/train_runs.tsv" ]; then cp "$work/train_runs.tsv" "$plot_prefix-training-runs.tsv"; fi
    if [ -s "$work/store_floor.tsv" ]; then cp "$work/store_floor.tsv" "$plot_prefix-store-floor.tsv"; fi
    if [ -s "$work/large_runs.tsv" ]; then cp "$work/large_runs.tsv" "$plot_prefix-runs.tsv"; fi
    # implicit's figures of this run: the fallback of later runs without it
    if [ "$(implicit_label 2>/dev/null)" = "this run" ] && [ -s "$work/implicit_runs.tsv" ]; then
        { printf '# scale=%s date=%s data=%s\n' "$SCALE" "$stamp" "$(cat "$work/data.source")"
          cat "$work/implicit_runs.tsv"; } >"$plot_prefix-implicit.tsv"
    fi
    failed=$(awk -F '\t' '$2 != "ok" { print $1 }' "$work/steps.tsv" | paste -sd ' ' -)
    say "report: $report ($((SECONDS - started)) s)"
    if [ -n "$failed" ]; then
        say "failed steps: $failed (their logs are in the report's messages above)"
        exit 1
    fi
    # exit here: bash must not read on after main (the file may have changed during a long run)
    exit 0
}

main
