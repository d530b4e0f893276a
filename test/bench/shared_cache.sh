#!/usr/bin/env bash
# test/bench/shared_cache.sh — one shared copy (reco in shared_preload_libraries) against
# one copy per backend, on a 100,000-item k 64 model (issue 18): total server memory with
# 1, 10 and 50 connections that have each served one recommend call (the sum of the
# backends' RssAnon from /proc/PID/status plus the shared segments once; RssShmem, the
# shared pages each backend has touched, is shown beside), a new connection's first call
# timed inside the server (shmbench.call_ms, and shmbench.stmt_ms: the recommend statement
# alone, without the timing function's own RETURN expression) and as a first statement
# (median and p99 of 20 new connections, beside PostgreSQL's floor: SELECT 1 as the first
# statement of a new connection, timed by the client like reco's first statement), and pgbench recommend(user, 10) p50/p99 with 2 and 16
# clients.  "per-backend" is the same server with reco.shared_cache_size = 0 (ALTER SYSTEM
# + reload), so both modes run the same build.
#
# Runs against an existing local server with reco in shared_preload_libraries (PGHOST,
# PGPORT, PGUSER; a superuser: it changes reco.shared_cache_size with ALTER SYSTEM and
# resets it at the end), whose backends' /proc/PID/status this user can read.  Works in its
# own database (default reco_shmbench), dropped at the end unless KEEP_DB=1 (a kept
# database's model is reused).  Timing and memory are reported, never judged.
#
#   test/bench/shared_cache.sh
#
# Environment: DB, USERS (default 50,000 users, ~10 interactions each), DURATION (seconds
# per pgbench run, default 10), RESULTS (default test/bench/results/shared-cache-DATE.md),
# KEEP_DB, MAINT_DB (default postgres), CONNECTIONS (new connections of the first-call
# measures, default 20), FIRST_CALL_ONLY=1 (only the first-call measures, shared mode).
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
DB=${DB:-reco_shmbench}
USERS=${USERS:-50000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-20}
FIRST_CALL_ONLY=${FIRST_CALL_ONLY:-0}
KEEP_DB=${KEEP_DB:-0}
MAINT_DB=${MAINT_DB:-postgres}
RESULTS=${RESULTS:-$here/results/shared-cache-$(date +%Y-%m-%d).md}
items=100000
skip_tx=20
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reco_shmbench.XXXXXX")
created_db=0

say() { echo "shared_cache bench: $*" >&2; }
die() { echo "shared_cache.sh: error: $*" >&2; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
. "$here/machine.sh"

# Ends the held connections, resets the setting, removes temporary files and the database.
cleanup() {
    local rc=$?
    release_connections 2>/dev/null || true
    psql -X -q -d "$MAINT_DB" -c "ALTER SYSTEM RESET reco.shared_cache_size" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
    rm -rf "$tmp"
    if [ "$created_db" = 1 ] && [ "$KEEP_DB" != 1 ]; then
        psql -X -q -d "$MAINT_DB" -c "DROP DATABASE IF EXISTS \"$DB\"" >/dev/null 2>&1 || true
    fi
    [ $rc -eq 0 ] || echo "shared_cache.sh: FAILED (exit $rc)" >&2
}
trap cleanup EXIT

# Sets reco.shared_cache_size server-wide ('' resets it) and waits until new sessions see $2.
set_budget() {
    local i
    if [ -z "$1" ]; then
        psql -X -q -d "$MAINT_DB" -c "ALTER SYSTEM RESET reco.shared_cache_size" -c "SELECT pg_reload_conf()" >/dev/null
    else
        psql -X -q -d "$MAINT_DB" -c "ALTER SYSTEM SET reco.shared_cache_size = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    for ((i = 0; i < 100; i++)); do
        [ "$(q -c 'SHOW reco.shared_cache_size')" = "$2" ] && return 0
        sleep 0.1
    done
    die "reco.shared_cache_size did not become $2"
}

# Creates the database and the model unless a kept database has it.
setup() {
    psql -X -q -At -d "$MAINT_DB" -c "SHOW shared_preload_libraries" | grep -qw reco ||
        die "reco is not in shared_preload_libraries"
    if [ "$(psql -X -q -At -d "$MAINT_DB" -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" = 0 ]; then
        psql -X -q -d "$MAINT_DB" -c "CREATE DATABASE \"$DB\"" >/dev/null
        created_db=1
        q -c "CREATE EXTENSION reco"
    fi
    if [ "$(q -c "SELECT count(*) FROM reco.models WHERE name = 'items100k'")" = 0 ]; then
        say "generating interactions ($USERS users, $items items) and training (k 64, 5 iterations)"
        q -c "CREATE SCHEMA IF NOT EXISTS shmbench"
        q -v table=shmbench.synth -v users="$USERS" -v items=$items -v per_user=10 -v seed=7 -v cover=1 \
          -f "$here/synth.sql" >/dev/null
        q -c "SET client_min_messages = warning" -c "SELECT n_items FROM reco.train('items100k', 'shmbench.synth',
              weight_col => 'value', factors => 64, iterations => 5)" >/dev/null
    fi
    if [ "$(q -c "SELECT count(*) FROM reco.models WHERE name = 'tiny'")" = 0 ]; then
        q -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS shmbench" \
          -c "CREATE TABLE shmbench.tiny AS SELECT u AS user_id, (u * 7 + j) % 60 AS item_id
                FROM generate_series(1, 200) AS u, generate_series(1, 5) AS j" \
          -c "SELECT n_items FROM reco.train('tiny', 'shmbench.tiny', factors => 8, iterations => 2)" >/dev/null
    fi
    # one call's time inside the server; a new connection's first and second calls are
    # shmbench.call_ms twice in one select list (evaluated left to right).  call_ms's
    # interval also holds the preparation of its own RETURN expression (the operator and
    # function lookups of a cold backend, ~0.2 ms); shmbench.stmt_ms times only the
    # recommend statement (prepared and run), on a connection of its own
    q -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS shmbench" -c "
      CREATE OR REPLACE FUNCTION shmbench.call_ms(model text, uid bigint) RETURNS float8
      LANGUAGE plpgsql AS \$f\$
      DECLARE t timestamptz := clock_timestamp(); c bigint;
      BEGIN
          SELECT count(*) INTO c FROM reco.recommend(model, uid, 10);
          RETURN 1000 * extract(epoch FROM clock_timestamp() - t);
      END \$f\$" -c "
      CREATE OR REPLACE FUNCTION shmbench.stmt_ms(model text, uid bigint) RETURNS float8
      LANGUAGE plpgsql AS \$f\$
      DECLARE t timestamptz[]; c bigint;
      BEGIN
          -- t[0] and t[1] come from one statement, prepared (with the IF's test) in the first
          -- pass: between them only the recommend statement is prepared and run
          FOR i IN 0..1 LOOP
              IF i = 1 THEN
                  SELECT count(*) INTO c FROM reco.recommend(model, uid, 10);
              END IF;
              t[i] := clock_timestamp();
          END LOOP;
          RETURN 1000 * extract(epoch FROM t[1] - t[0]);
      END \$f\$"
    read -r n_users n_items k < <(q -F ' ' -c "SELECT n_users, n_items, factors FROM reco.models WHERE name = 'items100k'")
}

# Opens $1 connections that each serve one recommend call and then wait in pg_sleep.
hold_connections() {
    local n=$1 i
    for ((i = 0; i < n; i++)); do
        PGAPPNAME=shmbench-hold psql -X -q -At -d "$DB" \
            -c "SELECT count(*) FROM reco.recommend('items100k', $((1 + i * 997 % n_users)), 10)" \
            -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
    done
    for ((i = 0; i < 600; i++)); do
        [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shmbench-hold' AND wait_event = 'PgSleep'")" = "$n" ] && return 0
        sleep 0.1
    done
    die "$n connections did not all serve and wait"
}

# Ends the held connections.
release_connections() {
    q -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'shmbench-hold'" >/dev/null
    wait 2>/dev/null || true
}

# Prints "rss_anon_kB rss_shmem_kB" summed over the held connections' backends.
held_memory() {
    local pid anon=0 shmem=0 a s
    for pid in $(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'shmbench-hold'"); do
        a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
        s=$(awk '/^RssShmem:/ { print $2 }' "/proc/$pid/status")
        anon=$((anon + a))
        shmem=$((shmem + s))
    done
    echo "$anon $shmem"
}

# Memory of 1, 10 and 50 held connections in the current mode ($1); appends table rows.
bench_memory() {
    local mode=$1 n anon shmem shared
    for n in 1 10 50; do
        q -c "SELECT reco.cache_reset()" >/dev/null
        say "$mode: memory with $n connections"
        hold_connections "$n"
        read -r anon shmem <<<"$(held_memory)"
        shared=$(q -c "SELECT coalesce(sum(bytes), 0) FROM reco.shared_cache_info()")
        printf '| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n' "$mode" "$n" "$(awk -v a="$anon" 'BEGIN { print a / 1024 }')" \
            "$(awk -v a="$anon" -v n="$n" 'BEGIN { print a / 1024 / n }')" "$(awk -v s="$shmem" 'BEGIN { print s / 1024 }')" \
            "$(awk -v b="$shared" 'BEGIN { print b / 1048576 }')" \
            "$(awk -v a="$anon" -v b="$shared" 'BEGIN { print a / 1024 + b / 1048576 }')" >>"$tmp/memory.md"
        release_connections
    done
}

# Median of column $2 of file $1.
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'; }

# 99th percentile (nearest rank) of column $2 of file $1.
p99() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ a[NR] = $1 } END { r = int(0.99 * NR + 0.999999); printf "%.3f", a[r < 1 ? 1 : r] }'; }

# Client-side time (psql \timing, ms) of statement $1 as the first statement of a new connection.
first_statement_ms() { q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

# The first statement of $CONNECTIONS new connections, timed by the client: SELECT 1 (the
# floor: what any first statement costs a new backend) and reco's recommend (copy published).
bench_first_statement() {
    local mode=$1 i
    q -c "SELECT count(*) FROM reco.recommend('items100k', 1, 10)" >/dev/null
    : >"$tmp/floor_$mode.txt"
    : >"$tmp/reco_$mode.txt"
    for ((i = 0; i < CONNECTIONS; i++)); do
        first_statement_ms "SELECT 1" >>"$tmp/floor_$mode.txt"
        first_statement_ms "SELECT count(*) FROM reco.recommend('items100k', $((1 + i * 7919 % n_users)), 10)" >>"$tmp/reco_$mode.txt"
    done
    printf '| %s | SELECT 1 (floor) | %s | %s | %s |\n' "$mode" "$(sort -g "$tmp/floor_$mode.txt" | head -1)" \
        "$(median "$tmp/floor_$mode.txt" 1)" "$(p99 "$tmp/floor_$mode.txt" 1)" >>"$tmp/statement.md"
    printf '| %s | recommend items100k | %s | %s | %s |\n' "$mode" "$(sort -g "$tmp/reco_$mode.txt" | head -1)" \
        "$(median "$tmp/reco_$mode.txt" 1)" "$(p99 "$tmp/reco_$mode.txt" 1)" >>"$tmp/statement.md"
}

# First and second call on 20 new connections (the copy already published in shared mode),
# of items100k and of a 60-item model (what any backend's first reco call costs).
bench_first_call() {
    local mode=$1 model i users
    for model in items100k tiny; do
        users=$n_users
        [ $model = items100k ] || users=200
        q -c "SELECT count(*) FROM reco.recommend('$model', 1, 10)" >/dev/null
        : >"$tmp/first_$mode.txt"
        : >"$tmp/stmt_$mode.txt"
        for ((i = 0; i < CONNECTIONS; i++)); do
            q -F ' ' -c "SELECT shmbench.call_ms('$model', $((1 + i * 7919 % users))),
                                shmbench.call_ms('$model', $((1 + i * 7919 % users)))" \
                >>"$tmp/first_$mode.txt"
            q -c "SELECT shmbench.stmt_ms('$model', $((1 + i * 7919 % users)))" >>"$tmp/stmt_$mode.txt"
        done
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$model" "$(sort -g "$tmp/first_$mode.txt" | head -1 | cut -d' ' -f1)" \
            "$(median "$tmp/first_$mode.txt" 1)" "$(p99 "$tmp/first_$mode.txt" 1)" "$(sort -g "$tmp/first_$mode.txt" | tail -1 | cut -d' ' -f1)" \
            "$(median "$tmp/first_$mode.txt" 2)" "$(sort -g "$tmp/stmt_$mode.txt" | head -1)" "$(median "$tmp/stmt_$mode.txt" 1)" \
            "$(p99 "$tmp/stmt_$mode.txt" 1)" >>"$tmp/first.md"
    done
}

# pgbench recommend(random user, 10) with $2 clients in mode $1: p50, p99, tps; a table row.
bench_pgbench() {
    local mode=$1 clients=$2 label="$1_c$2" p
    printf '\\set uid random(1, %s)\nSELECT * FROM reco.recommend('"'items100k'"', :uid::bigint, 10);\n' "$n_users" >"$tmp/rec.sql"
    say "$mode: pgbench $clients clients, $DURATION s"
    pgbench -n -M prepared -c "$clients" -j "$clients" -T "$DURATION" -f "$tmp/rec.sql" \
        --log --log-prefix="$tmp/$label.log" "$DB" >"$tmp/$label.out" 2>&1 || { cat "$tmp/$label.out" >&2; die "pgbench failed"; }
    p=$(awk -v skip="$skip_tx" '$2 >= skip { print $3 }' "$tmp/$label".log.* | sort -n |
        awk '{ a[NR] = $1 } function pct(q,  r) { r = int(q * NR + 0.999999); if (r < 1) r = 1; return a[r] / 1000 }
             END { printf "%.3f %.3f", pct(0.50), pct(0.99) }')
    printf '| %s | %s | %s | %s | %.0f | %s |\n' "$mode" "$clients" ${p} \
        "$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$tmp/$label.out")" \
        "$(cut -d' ' -f1 /proc/loadavg)" >>"$tmp/pgbench.md"
}

setup
: >"$tmp/memory.md"; : >"$tmp/first.md"; : >"$tmp/statement.md"; : >"$tmp/pgbench.md"
modes="shared per-backend"
[ "$FIRST_CALL_ONLY" = 1 ] && modes=shared
for mode in $modes; do
    if [ $mode = shared ]; then set_budget '' 1GB; else set_budget 0 0; fi
    [ "$FIRST_CALL_ONLY" = 1 ] || bench_memory $mode
    bench_first_call $mode
    bench_first_statement $mode
    [ "$FIRST_CALL_ONLY" = 1 ] || bench_pgbench $mode 2
    [ "$FIRST_CALL_ONLY" = 1 ] || bench_pgbench $mode 16
done
set_budget '' 1GB
copy_bytes=$(q -c "SELECT count(*) FROM reco.recommend('items100k', 1, 10)" -c "SELECT bytes FROM reco.shared_cache_info() WHERE model = 'items100k' AND side = 'items'" | tail -1)

mkdir -p "$(dirname "$RESULTS")"
{
    echo "# One shared copy vs one copy per backend ($(date -u +%Y-%m-%d))"
    echo
    bench_machine_line "$load_start"
    echo "- model: items100k, $n_users users x $n_items items, k $k (test/bench/synth.sql, $USERS users, ~10 interactions each); its shared items copy is $copy_bytes bytes ($(awk -v b="$copy_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MB: ids, factors, norms, norm order and rank, Gram, popularity and its order, the norm head and its ids)"
    echo "- per-backend = the same server and build with reco.shared_cache_size = 0; pgbench runs ${DURATION} s, each client's first $skip_tx transactions left out"
    echo
    if [ "$FIRST_CALL_ONLY" != 1 ]; then
        echo "## Server memory: connections that have each served one recommend call"
        echo
        echo "RssAnon is each backend's private memory (summed); RssShmem the shared pages the backends have touched (summed: shared_buffers and the copy, counted once per backend that touched them); total = sum of RssAnon + the shared copy once."
        echo
        echo "| mode | connections | sum RssAnon MB | per backend MB | sum RssShmem MB | shared copy MB | total MB |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        cat "$tmp/memory.md"
        echo
    fi
    echo "## A new connection's first call (ms, measured inside the server, $CONNECTIONS new connections)"
    echo
    echo "The 60-item model's first call is what every backend's first reco call costs whatever the model (relation and plan caches, the model lookup); items100k's first call minus it is the copy's part: mapping the published copy (shared), loading it from the table (per-backend)."
    echo
    echo "call_ms (the first five columns) is the function's whole interval, which also holds the preparation of its own RETURN expression; stmt_ms (the last three) times only the recommend statement, prepared and run, on $CONNECTIONS other new connections."
    echo
    echo "| mode | model | first call min | first call p50 | first call p99 | first call max | second call p50 | stmt_ms first min | stmt_ms first p50 | stmt_ms first p99 |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$tmp/first.md"
    echo
    echo "## The first statement of a new connection (ms, psql \\timing, $CONNECTIONS new connections)"
    echo
    echo "SELECT 1 is PostgreSQL's floor: what any first statement costs a new backend (its catalog caches are cold); recommend's part above it is reco's first call (model lookup, the user's row, mapping the published copy, scoring)."
    echo
    echo "| mode | statement | min | p50 | p99 |"
    echo "|---|---|---:|---:|---:|"
    cat "$tmp/statement.md"
    echo
    if [ "$FIRST_CALL_ONLY" != 1 ]; then
        echo "## pgbench recommend(random user, 10)"
        echo
        echo "| mode | clients | p50 ms | p99 ms | tps | load |"
        echo "|---|---:|---:|---:|---:|---:|"
        cat "$tmp/pgbench.md"
    fi
} >"$RESULTS"
cat "$RESULTS"
