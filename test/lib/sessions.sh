# test/lib/sessions.sh — helpers shared by the multi-session tests (test/sessions/*.sh):
# psql shortcuts, a scratch database, cleanup actions run on any exit, polling with a
# timeout (never a fixed sleep deciding a result), long-lived background psql sessions
# driven through a FIFO, and the integrity check of the stored models.
#
# Source it from a test script (it installs an EXIT trap):
#     . "$(dirname "$0")/../lib/sessions.sh"
# The server is the one PGHOST/PGPORT/PGUSER point at (the harness's cluster).
# shellcheck shell=bash

RECO_EXIT_ACTIONS=()
declare -A RECO_SESSION_FD=() RECO_SESSION_PID=() RECO_SESSION_OUT=()

# Prints a failure (on stderr, so that it shows also from inside $(...)) and ends the
# test with status 1.
reco_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs psql on database $1 (unaligned, tuples only, stops at the first error).
reco_sql() {
    local db=$1
    shift
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# Registers a shell command to run when the script exits, also on failure or Ctrl-C.
reco_on_exit() {
    RECO_EXIT_ACTIONS+=("$1")
}

# Runs the registered exit actions, the last registered first, ignoring their failures.
reco_run_exit_actions() {
    local i name
    for name in "${!RECO_SESSION_PID[@]}"; do
        kill "${RECO_SESSION_PID[$name]}" 2>/dev/null || true
    done
    for name in "${!RECO_SESSION_OUT[@]}"; do
        rm -f "${RECO_SESSION_OUT[$name]}"
    done
    for ((i = ${#RECO_EXIT_ACTIONS[@]} - 1; i >= 0; i--)); do
        eval "${RECO_EXIT_ACTIONS[i]}" >/dev/null 2>&1 || true
    done
}
trap reco_run_exit_actions EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Creates database $1 afresh and drops it (forcibly) when the script exits.
reco_scratch_db() {
    local db=$1
    reco_drop_db "$db"
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
    reco_on_exit "reco_drop_db $db"
}

# Drops database $1 if it exists, disconnecting its sessions.
reco_drop_db() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
}

# Creates extension $2 (whose schema is $3) in database $1 unless it exists; if created
# here, drops it at exit, and its schema too when CREATE EXTENSION created that (DROP
# EXTENSION leaves it).
reco_create_extension_here() {
    local db=$1
    [ "$(reco_sql "$db" -c "SELECT count(*) FROM pg_extension WHERE extname = '$2'")" = 0 ] || return 0
    if [ "$(reco_sql "$db" -c "SELECT count(*) FROM pg_namespace WHERE nspname = '$3'")" = 0 ]; then
        reco_on_exit "reco_sql $db -c 'DROP SCHEMA IF EXISTS $3'"
    fi
    reco_sql "$db" -c "CREATE EXTENSION $2"
    reco_on_exit "reco_sql $db -c 'DROP EXTENSION $2 CASCADE'"
}

# Polls the command "$3..." every RECO_POLL_SECONDS (default 0.1) until it succeeds; fails
# after $1 seconds saying that $2 did not happen.
reco_wait_until() {
    local timeout=$1 what=$2 deadline
    shift 2
    deadline=$(($(date +%s) + timeout))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || reco_fail "timed out after ${timeout} s waiting for: $what"
        sleep "${RECO_POLL_SECONDS:-0.1}"
    done
}

# Succeeds when the SQL query $2 on database $1 prints exactly $3.
reco_sql_equals() {
    [ "$(reco_sql "$1" -c "$2" 2>/dev/null)" = "$3" ]
}

# Succeeds when backend $2 is no longer connected to database $1.
reco_backend_gone() {
    reco_sql_equals "$1" "SELECT count(*) FROM pg_stat_activity WHERE pid = $2" 0
}

# Starts a background psql session named $1 on database $2; send it SQL with
# reco_session_send and read what it printed from the file reco_session_out names.
reco_session_start() {
    local name=$1 db=$2 fifo out fd
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    out=$(mktemp)
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <"$fifo" >"$out" 2>&1 &
    RECO_SESSION_PID[$name]=$!
    RECO_SESSION_OUT[$name]=$out
    exec {fd}>"$fifo"
    RECO_SESSION_FD[$name]=$fd
    rm -f "$fifo"
}

# Sends the SQL text $2 to session $1.
reco_session_send() {
    printf '%s\n' "$2" >&"${RECO_SESSION_FD[$1]}"
}

# The file that receives session $1's output (both stdout and stderr).
reco_session_out() {
    echo "${RECO_SESSION_OUT[$1]}"
}

# Waits up to $3 seconds (default 30) until session $1 has printed a line matching the
# extended regex $2; fails, showing the output, if it does not or the session ends first.
reco_session_wait() {
    local name=$1 pattern=$2 timeout=${3:-30} deadline out
    out=${RECO_SESSION_OUT[$name]}
    deadline=$(($(date +%s) + timeout))
    until grep -Eq -- "$pattern" "$out"; do
        if ! kill -0 "${RECO_SESSION_PID[$name]}" 2>/dev/null; then
            grep -Eq -- "$pattern" "$out" && return 0
            reco_fail "session $name ended before printing /$pattern/: $(cat "$out")"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || reco_fail "session $name did not print /$pattern/ within $timeout s: $(cat "$out")"
        sleep 0.05
    done
}

# Runs the SQL statement(s) $2 (ending with a semicolon) in session $1 and prints what
# they printed; fails if that takes more than $3 seconds (default 30).
reco_session_query() {
    local name=$1 sql=$2 timeout=${3:-30} tag
    tag="--reco-$(date +%s%N)--"
    reco_session_send "$name" "\\echo begin$tag
$sql
\\echo end$tag"
    reco_session_wait "$name" "^end$tag\$" "$timeout"
    sed -n "/^begin$tag\$/,/^end$tag\$/p" "${RECO_SESSION_OUT[$name]}" | sed '1d;$d'
}

# Prints the PID of session $1's backend (asked in the session; it must be idle).
reco_session_backend_pid() {
    reco_session_query "$1" "SELECT pg_backend_pid();"
}

# Sends signal $2 (e.g. INT, as Ctrl-C does) to session $1's psql client.
reco_session_signal() {
    kill -s "$2" "${RECO_SESSION_PID[$1]}"
}

# Quits session $1 (if its psql still runs) and waits for it; returns psql's exit status.
reco_session_close() {
    local name=$1 status=0 fd=${RECO_SESSION_FD[$1]}
    # \q rather than end of input: later background processes inherit the FIFO's write end
    (trap '' PIPE; printf '\\q\n' >&"$fd") 2>/dev/null || true
    exec {fd}>&-
    wait "${RECO_SESSION_PID[$name]}" || status=$?
    unset "RECO_SESSION_PID[$name]"
    return $status
}

# Fails unless every stored model version in database $1 is whole: one user_factors row
# per user and one item_factors row per item (n_users, n_items of its reco.models row),
# every factor value factors x 4 bytes long, and no factor row without its models row.
reco_check_models_whole() {
    local db=$1 bad
    bad=$(reco_sql "$db" -c "
        SELECT string_agg(problem, '; ') FROM (
            SELECT format('%s v%s (model_id %s): %s user rows for n_users %s, %s item rows for n_items %s',
                          m.name, m.version, m.model_id, u.rows, m.n_users, i.rows, m.n_items) AS problem
              FROM reco.models m,
                   LATERAL (SELECT count(*) AS rows, count(*) FILTER (WHERE octet_length(factors) <> 4 * m.factors) AS bad_len
                              FROM reco.user_factors WHERE model_id = m.model_id) u,
                   LATERAL (SELECT count(*) AS rows, count(*) FILTER (WHERE octet_length(factors) <> 4 * m.factors) AS bad_len
                              FROM reco.item_factors WHERE model_id = m.model_id) i
             WHERE u.rows <> m.n_users OR i.rows <> m.n_items OR u.bad_len + i.bad_len > 0
            UNION ALL
            SELECT format('%s orphan factor rows of model_id %s', count(*), f.model_id)
              FROM (SELECT model_id FROM reco.user_factors UNION ALL SELECT model_id FROM reco.item_factors) f
             WHERE f.model_id NOT IN (SELECT model_id FROM reco.models)
             GROUP BY f.model_id) problems")
    [ -z "$bad" ] || reco_fail "stored models are not whole in $db: $bad"
}

# Prints a query whose one-column result is model $1's answers to compare across an
# event (crash, update, restore): recommend for users 1..30, similar_items of item 3
# and a 3-item cart, with exact scores.
reco_answers_query() {
    cat <<SQL
SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
  FROM generate_series(1, 30) AS u, LATERAL reco.recommend('$1', u, 5) AS r
UNION ALL
SELECT string_agg(format('%s:%s', s.item_id, s.similarity), ' ' ORDER BY s.similarity DESC, s.item_id)
  FROM reco.similar_items('$1', 3, 5) AS s
UNION ALL
SELECT string_agg(format('%s:%s', c.item_id, c.score), ' ' ORDER BY c.score DESC, c.item_id)
  FROM reco.recommend_for_items('$1', '{1, 2, 3}') AS c
SQL
}

# --- private clusters (tests that need a server setting the harness's cluster lacks, or a
# --- second server) ------------------------------------------------------------------------

# Starts a throwaway cluster of test/lib/cluster.sh (tag $1) for this script alone, points
# PGHOST/PGPORT at it and stops and removes it when the script exits.
reco_private_cluster_start() {
    . "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
    reco_on_exit "reco_cluster_stop"
    reco_cluster_start "$1" >/dev/null || reco_fail "could not start a private cluster"
}

# Appends the settings $2... (lines "name = value") to the postgresql.conf of the cluster
# in directory $1 (a later line wins) and restarts it.
reco_cluster_reconfigure() {
    local dir=$1
    shift
    printf '%s\n' "$@" | reco_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    reco_as_pg "$(reco_pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 restart >/dev/null \
        || reco_fail "could not restart the cluster in $dir: $(tail -5 "$dir/server.log")"
}
