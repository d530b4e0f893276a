#!/usr/bin/env bash
# cron_retrain.sh — scheduled retraining with pg_cron, the README's recipe run every minute:
#
#   SELECT cron.schedule('reco-test', '* * * * *',
#       $$SELECT reco.train('reco-cron-test', 'reco_cron_test.orders', ..., keep_versions => 2)$$);
#
# Versions 1 and 2 are trained by hand (the same statement) on two data sets; the data is
# changed again and the job is scheduled. The test waits for its first run (pg_cron 1.4
# schedules by the minute: up to a minute), then checks that the run succeeded in
# cron.job_run_details, that a new version appeared, that a session which served version 2
# before now serves the new version (answers equal to those of a model trained from the
# same rows with the same options: training is deterministic, and differing from version
# 2's), and that old versions were pruned to keep_versions = 2.
#
# Run: bash test/sessions/cron_retrain.sh (against PGHOST/PGPORT with pg_cron in
# shared_preload_libraries, e.g. the harness's cluster). It works in pg_cron's database
# (cron.database_name) and removes what it created there: its schema, its models, its job,
# and the pg_cron and reco extensions if it created them.
set -euo pipefail
. "$(dirname "$0")/../lib/sessions.sh"
db=$(psql -X -At -c "SHOW cron.database_name" 2>/dev/null) \
    || reco_fail "pg_cron is not loaded (shared_preload_libraries = 'pg_cron' is needed)"
model=reco-cron-test
reference=reco-cron-ref
job=reco-test
options="factors => 8, iterations => 3, regularization => 1, seed => 1"
train_sql="SELECT reco.train('$model', 'reco_cron_test.orders', $options, keep_versions => 2)"

reco_create_extension_here "$db" pg_cron cron
reco_create_extension_here "$db" reco reco
# What this test removes at exit must not exist before it.
[ "$(reco_sql "$db" -c "SELECT (SELECT count(*) FROM reco.models WHERE name IN ('$model', '$reference'))
                           + (SELECT count(*) FROM cron.job WHERE jobname = '$job')
                           + (SELECT count(*) FROM pg_namespace WHERE nspname = 'reco_cron_test')")" = 0 ] \
    || reco_fail "$db already has a model $model or $reference, a job $job or a schema reco_cron_test"
reco_on_exit "reco_sql $db -c \"SELECT cron.unschedule('$job')\""
# (when reco was already there, only this test's models are removed)
reco_on_exit "reco_sql $db -c \"
    DELETE FROM reco.user_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name IN ('$model', '$reference'));
    DELETE FROM reco.item_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name IN ('$model', '$reference'));
    DELETE FROM reco.models WHERE name IN ('$model', '$reference')\""
reco_on_exit "reco_sql $db -c 'DROP SCHEMA IF EXISTS reco_cron_test CASCADE'"

# Replaces the interactions with data set $1 (a different item pattern per data set).
load_data() {
    reco_sql "$db" -c "TRUNCATE reco_cron_test.orders" \
        -c "INSERT INTO reco_cron_test.orders
              SELECT u, (u * (5 + 2 * $1) + j * j * $1) % 150 FROM generate_series(1, 400) AS u, generate_series(1, 8) AS j"
}
reco_sql "$db" -c "CREATE SCHEMA reco_cron_test" \
    -c "CREATE TABLE reco_cron_test.orders (user_id bigint NOT NULL, item_id bigint NOT NULL)"
answer="SELECT string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.rank)
          FROM generate_series(1, 20) AS u,
               LATERAL reco.recommend('$model', u, 5) WITH ORDINALITY AS r(item_id, score, rank);"
cached="SELECT max(version) FROM reco.cache_info() WHERE model_id IN (SELECT model_id FROM reco.models WHERE name = '$model');"
versions="SELECT string_agg(version::text, ',' ORDER BY version) FROM reco.models WHERE name = '$model'"

# Versions 1 and 2 by hand; a long-lived session serves version 2.
for data in 1 2; do
    load_data $data
    reco_sql "$db" -c "SET client_min_messages = warning" -c "$train_sql" >/dev/null
done
reco_session_start A "$db"
served_v2=$(reco_session_query A "$answer")
[ "$(reco_session_query A "$cached")" = 2 ] || reco_fail "session A does not serve version 2"
[ "$(echo "$served_v2" | wc -w)" = 100 ] || reco_fail "session A's answer: $served_v2"

# New data, then the job.
load_data 3
schedule="SELECT cron.schedule('$job', '* * * * *', \$\$$train_sql\$\$)"
echo "recipe: $schedule"
job_id=$(reco_sql "$db" -c "$schedule")
scheduled_at=$(date +%s)
reco_on_exit "reco_sql $db -c 'DELETE FROM cron.job_run_details WHERE jobid = $job_id'"
finished="SELECT count(*) > 0 FROM cron.job_run_details WHERE jobid = $job_id AND status IN ('succeeded', 'failed')"
RECO_POLL_SECONDS=0.5 reco_wait_until 150 "a run of the pg_cron job" reco_sql_equals "$db" "$finished" t
echo "the job's first run finished $(($(date +%s) - scheduled_at)) s after it was scheduled"
reco_sql "$db" -c "SELECT cron.unschedule('$job')" >/dev/null
# a run that started meanwhile (the next minute) finishes before anything is checked
reco_wait_until 120 "the job's last run to finish" \
    reco_sql_equals "$db" "SELECT count(*) FROM cron.job_run_details WHERE jobid = $job_id AND status NOT IN ('succeeded', 'failed')" 0
runs=$(reco_sql "$db" -c "SELECT string_agg(format('%s (%s)', status, return_message), ', ' ORDER BY runid)
                          FROM cron.job_run_details WHERE jobid = $job_id")
succeeded=$(reco_sql "$db" -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $job_id AND status = 'succeeded'")
[ "$(reco_sql "$db" -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $job_id AND status <> 'succeeded'")" = 0 ] \
    || reco_fail "the job failed: $runs"
echo "ok: cron.job_run_details: $runs"

# A new version appeared and old ones were pruned to keep_versions = 2.
newest=$((2 + succeeded))
[ "$(reco_sql "$db" -c "$versions")" = "$((newest - 1)),$newest" ] \
    || reco_fail "versions of $model after $newest trainings: $(reco_sql "$db" -c "$versions"), want $((newest - 1)),$newest"
reco_check_models_whole "$db"
echo "ok: version $newest appeared, versions pruned to $(reco_sql "$db" -c "$versions") (keep_versions 2)"

# The session that served version 2 now serves the new version, as a fresh session does.
reco_sql "$db" -c "SET client_min_messages = warning" -c "${train_sql//$model/$reference}" >/dev/null
want=$(reco_sql "$db" -c "${answer//$model/$reference}")
served=$(reco_session_query A "$answer")
[ "$served" != "$served_v2" ] || reco_fail "session A still serves version 2's answers"
[ "$served" = "$want" ] || reco_fail "session A's answers are not those of the model trained from the new data"
[ "$(reco_sql "$db" -c "$answer")" = "$want" ] || reco_fail "a fresh session's answers are not those of the new model"
[ "$(reco_session_query A "$cached")" = $newest ] || reco_fail "session A does not serve version $newest"
reco_session_close A || reco_fail "session A failed: $(cat "$(reco_session_out A)")"
echo "ok: a session that served version 2 now serves version $newest: its 100 answers equal those of a model trained from the new rows"
