#!/usr/bin/env bash
# concurrent_training.sh — two trainings of the same model name never interleave, and
# serving during retraining always answers from one whole version.
#
#   1. Session A trains 'shop' inside an open transaction; session B trains 'shop' too.
#      B must wait on the advisory lock A holds (pg_locks) and print nothing until A
#      commits; then B stores version 2. Both versions have all their factor rows.
#   2. Two clients call reco.recommend in a loop while 'serve' is retrained six times,
#      alternating between two data sets X and Y, each retrain holding its stored version
#      uncommitted while the clients answer. Training is deterministic, so the answer of
#      every version is known in advance (models 'ref_x' and 'ref_y' trained from the same
#      rows with the same options): no call may fail, every observed answer must equal the
#      X or the Y answer of its user exactly, and every call made while only one version
#      was committed must give that version's answer.
#
# Run: bash test/sessions/concurrent_training.sh (against PGHOST/PGPORT, e.g. the
# harness's cluster; it creates and drops its own database).
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
db=reco_concurrent
reco_scratch_db $db
options="factors => 8, iterations => 3, regularization => 1"
reco_sql $db -c "CREATE EXTENSION reco" \
    -c "CREATE TABLE orders AS SELECT u AS user_id, (u * 7 + j * j) % 120 AS item_id
          FROM generate_series(1, 300) AS u, generate_series(1, 8) AS j" \
    -c "CREATE TABLE data_x AS SELECT u AS user_id, (u * 31 + j * 17) % 500 AS item_id
          FROM generate_series(1, 10000) AS u, generate_series(1, 10) AS j" \
    -c "CREATE TABLE data_y AS SELECT u AS user_id, (u * 13 + j * j * 3) % 500 AS item_id
          FROM generate_series(1, 10000) AS u, generate_series(1, 10) AS j"

# --- 1. the second training waits for the first one's commit -------------------------
reco_session_start A $db
reco_session_send A "SET client_min_messages = warning;
    BEGIN;
    SELECT 'trained', (reco.train('shop', 'orders', $options, seed => 1)).version;"
reco_session_wait A '^trained\|1$'
reco_session_start B $db
reco_session_send B "SET client_min_messages = warning;
    SELECT 'pid', pg_backend_pid();
    SELECT 'trained', (reco.train('shop', 'orders', $options, seed => 2)).version;"
reco_session_wait B '^pid\|'
b_pid=$(sed -n 's/^pid|//p' "$(reco_session_out B)")

# B is blocked on an advisory lock that A's open transaction holds.
lock_wait="SELECT count(*) FROM pg_locks w JOIN pg_locks h
             ON (h.locktype, h.database, h.classid, h.objid, h.objsubid)
              = (w.locktype, w.database, w.classid, w.objid, w.objsubid)
            JOIN pg_stat_activity a ON a.pid = h.pid
           WHERE w.pid = $b_pid AND w.locktype = 'advisory' AND NOT w.granted
             AND h.granted AND a.state = 'idle in transaction'"
reco_wait_until 30 "training B to wait on the advisory lock of A's open transaction" \
    reco_sql_equals $db "$lock_wait" 1
grep -q '^trained' "$(reco_session_out B)" && reco_fail "B trained while A's version was uncommitted: $(cat "$(reco_session_out B)")"
[ "$(reco_sql $db -c "SELECT count(*) FROM reco.models")" = 0 ] || reco_fail "an uncommitted version is visible"
echo "ok: training B (pid $b_pid) waits on the advisory lock held by A's open transaction"

reco_session_send A "COMMIT;"
reco_session_wait B '^trained\|'
grep -q '^trained|2$' "$(reco_session_out B)" || reco_fail "B should store version 2: $(cat "$(reco_session_out B)")"
reco_session_close A || reco_fail "session A failed: $(cat "$(reco_session_out A)")"
reco_session_close B || reco_fail "session B failed: $(cat "$(reco_session_out B)")"
versions=$(reco_sql $db -c "SELECT string_agg(format('v%s:%s users,%s items', version, n_users, n_items), ' '
                                                 ORDER BY version)
                              FROM reco.models WHERE name = 'shop'")
[ "$versions" = "v1:300 users,120 items v2:300 users,120 items" ] || reco_fail "versions after both trainings: $versions"
reco_check_models_whole $db
echo "ok: after A's commit B stored version 2; both versions are whole ($versions)"

# --- 2. serving while the same model is retrained ----------------------------------------
users=5
# SQL printing "user|item:score,..." for user $2 of model $1 (the n = 5 best, best first).
answer_sql() {
    echo "SELECT $2, string_agg(item_id || ':' || score, ',' ORDER BY rank)
            FROM reco.recommend('$1', $2, 5) WITH ORDINALITY AS r(item_id, score, rank);"
}
# Prints the answers of model $1 for every probed user, one "user|answer" line each.
answers_of() {
    local u
    for u in $(seq 1 $users); do answer_sql "$1" "$u"; done | reco_sql $db
}
reco_sql $db -c "SET client_min_messages = warning" \
    -c "SELECT reco.train('ref_x', 'data_x', $options)" \
    -c "SELECT reco.train('ref_y', 'data_y', $options)" \
    -c "SELECT reco.train('serve', 'data_x', $options)" >/dev/null
expected=$(mktemp)
reco_on_exit "rm -f $expected"
answers_of ref_x | sed 's/^/x|/' >"$expected"
answers_of ref_y | sed 's/^/y|/' >>"$expected"
[ "$(cut -d'|' -f2- "$expected" | sort -u | wc -l)" = $((2 * users)) ] \
    || reco_fail "the X and Y models must answer differently for every probed user: $(cat "$expected")"
[ "$(answers_of serve)" = "$(sed -n 's/^x|//p' "$expected")" ] \
    || reco_fail "training is not deterministic: 'serve' v1 answers differently from 'ref_x'"

stop=$(mktemp -u)
reco_on_exit "rm -f $stop"
# A serving client: recommend for users 1..$users in turn until $stop exists or this
# script has ended (its psql also ends when the database is dropped); output to $1.
serving_client() {
    local i=0
    while [ ! -e "$stop" ] && kill -0 $$ 2>/dev/null; do
        answer_sql serve $((i % users + 1))
        i=$((i + 1))
    done | psql -X -At -v ON_ERROR_STOP=1 -d $db >"$1" 2>&1
}
# Succeeds when file $1 has at least $2 lines.
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }

client_out=()
client_pid=()
for c in 1 2; do
    client_out[c]=$(mktemp)
    reco_on_exit "rm -f ${client_out[c]}"
    serving_client "${client_out[c]}" &
    client_pid[c]=$!
done
# Session R retrains 'serve' six times, alternating Y and X data. Each time it trains
# inside an open transaction, lets every client answer twice while the new version is
# stored but uncommitted, commits, and lets every client answer twice more. Per client,
# the line ranges where only one version can be served are recorded in a "phases" file
# ("first last label"): until COMMIT is sent only the previous version is committed;
# from the second line written after COMMIT returned (that call started after the
# commit) only the new one is. The one or two calls in flight at the commit may see either.
retrains=6
reco_session_start R $db
reco_session_send R "SET client_min_messages = warning;"
phases=()
phase_from=()
label=x
for c in 1 2; do
    phases[c]=$(mktemp)
    reco_on_exit "rm -f ${phases[c]}"
    phase_from[c]=1
done
# Waits until every client has written two more lines than it had when called.
two_more_answers_each() {
    local c seen
    for c in 1 2; do
        seen=$(wc -l <"${client_out[c]}")
        reco_wait_until 30 "client $c to answer ($1)" has_lines "${client_out[c]}" $((seen + 2))
    done
}
for r in $(seq 1 $retrains); do
    if [ $((r % 2)) = 1 ]; then source=data_y new_label=y; else source=data_x new_label=x; fi
    stored=$(reco_session_query R "BEGIN; SELECT (reco.train('serve', '$source', $options)).version;" 60)
    [ "$stored" = $((r + 1)) ] || reco_fail "retrain $r stored version '$stored'"
    two_more_answers_each "retrain $r stored, uncommitted"
    for c in 1 2; do echo "${phase_from[c]} $(wc -l <"${client_out[c]}") $label" >>"${phases[c]}"; done
    reco_session_query R "COMMIT;" >/dev/null    # (an error would end the session and fail here)
    for c in 1 2; do phase_from[c]=$(($(wc -l <"${client_out[c]}") + 2)); done
    label=$new_label
    two_more_answers_each "retrain $r committed"
done
reco_session_close R || reco_fail "the retraining session failed: $(cat "$(reco_session_out R)")"
touch "$stop"
for c in 1 2; do
    wait "${client_pid[c]}" || reco_fail "serving client $c failed: $(grep -v '^[0-9]*|' "${client_out[c]}" | head -5)"
    echo "${phase_from[c]} 999999999 $label" >>"${phases[c]}"
done

# Every answer is exactly the X or the Y answer of its user, and the one committed version's
# answer wherever only one version was committed.
for c in 1 2; do
    summary=$(awk -F'[| ]' '
        FILENAME == ARGV[1] { want[$2 "|" $3] = $1; next }
        FILENAME == ARGV[2] { first[++phases] = $1; last[phases] = $2; must[phases] = $3; next }
        { key = $1 "|" $2
          if (!(key in want)) {
              if (++bad <= 5) print "line " FNR ": an answer of no single version: " $0 > "/dev/stderr"
              next
          }
          seen[want[key]]++
          for (p = 1; p <= phases; p++)
              if (FNR >= first[p] && FNR <= last[p]) {
                  strict++
                  if (want[key] != must[p] && ++bad <= 5) {
                      print "line " FNR ": an answer of " want[key] " while only " must[p] " was committed" > "/dev/stderr"
                  }
              } }
        END { printf "%d %d %d %d\n", FNR, seen["x"], seen["y"], strict; exit (bad > 0) }' \
        "$expected" "${phases[c]}" "${client_out[c]}") || reco_fail "client $c got a wrong answer (phases: $(tr '\n' ' ' <"${phases[c]}"))"
    read -r total from_x from_y strict <<<"$summary"
    if [ "$from_x" = 0 ] || [ "$from_y" = 0 ]; then
        reco_fail "client $c did not see both versions ($from_x X, $from_y Y)"
    fi
    echo "ok: client $c made $total recommend calls during $retrains retrains, no error: $from_x answers of X versions, $from_y of Y versions, none mixed; the $strict made while one version was committed all came from it"
done
final=$(reco_sql $db -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models WHERE name = 'serve'")
[ "$final" = "$((retrains)),$((retrains + 1))" ] || reco_fail "versions of 'serve' after the retrains: $final (keep_versions 2)"
reco_check_models_whole $db
echo "ok: 'serve' keeps versions $final, every version whole"
