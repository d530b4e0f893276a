#!/usr/bin/env bash
# test/bench/temporal.sh — the temporal protocol of BENCHMARKS.md on MovieLens 100K (u.data):
# a stale model, the same model refreshed in place (reco.refresh_users), a full retrain and
# popularity, each with time decay off and with half-lives of 30, 90 and 365 days; writes a
# markdown section. Needs a server (PGHOST/PGPORT/PGUSER) with reco installed; the data is
# not shipped with reco (research licence): pass its directory (default ../shared/data/ml-100k).
#
#   test/bench/temporal.sh [DATA_DIR]
#
# The split: each user's events ordered by (timestamp, item id), r = 1..n; events with
# 5r <= 3n train (the first 60 %, rounded down), those with 5r <= 4n arrive after training
# (the next 20 %), the rest are the test; relevant = a test event rated >= 4 (users with none
# are not evaluated). Every ranking excludes the user's events of the first 80 %. Training
# options: reco's defaults with weight = rating (ml100k_configs.txt's "reco defaults" line).
#
# Environment: TEMPORAL_DB (default reco_temporal) the database, created and dropped;
# TEMPORAL_MD the markdown section's file (default: stdout only); TEMPORAL_RUNS timed runs of
# the refresh and of the retrain (default 3); TEMPORAL_HALF_LIVES (default "none 30 90 365",
# days).
# shellcheck disable=SC2016  # backquotes in the report's strings are markdown
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/bench/machine.sh
. "$here/machine.sh"
data=${1:-$here/../../../shared/data/ml-100k}
db=${TEMPORAL_DB:-reco_temporal}
md=${TEMPORAL_MD:-/dev/null}
runs=${TEMPORAL_RUNS:-3}
half_lives=${TEMPORAL_HALF_LIVES:-none 30 90 365}
. "$here/ml100k_lib.sh"
ml100k_require u.data "Temporal protocol (MovieLens 100K)"
ml100k_fresh_db
# Prints "say"-style progress on stderr.
say() { echo "temporal: $*" >&2; }
# The median of the numbers on stdin.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

work_times=$(mktemp "${TMPDIR:-/tmp}/reco_temporal.XXXXXX")
trap 'rm -f "$work_times"' EXIT
started=$SECONDS
load_start=$(cut -d' ' -f1 /proc/loadavg)

say "loading $data/u.data"
q -c "CREATE EXTENSION reco" -c "CREATE SCHEMA tb" \
  -c "CREATE TABLE tb.raw (user_id bigint, item_id bigint, rating real, ts bigint)" \
  -c "\\copy tb.raw FROM '$data/u.data'" >/dev/null
q -f - >/dev/null <<'SQL'
-- every event with its part: train (first 60 %), next (next 20 %), test (last 20 %)
CREATE TABLE tb.events AS
SELECT user_id, item_id, rating, ts,
       CASE WHEN 5 * r <= 3 * n THEN 'train' WHEN 5 * r <= 4 * n THEN 'next' ELSE 'test' END AS part
  FROM (SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY ts, item_id) AS r,
               count(*) OVER (PARTITION BY user_id) AS n
          FROM tb.raw) AS s;
-- the retrain's source: the first 80 %
CREATE TABLE tb.src80 AS SELECT user_id, item_id, rating, ts FROM tb.events WHERE part <> 'test';
-- each user's first 80 % (excluded from every ranking; the fold-in's cart) and first 60 %
CREATE TABLE tb.hist AS
SELECT user_id, array_agg(item_id ORDER BY item_id) AS items,
       array_agg(rating ORDER BY item_id) AS ratings, array_agg(ts ORDER BY item_id) AS times,
       array_agg(item_id ORDER BY item_id) FILTER (WHERE part = 'train') AS items60,
       array_agg(rating ORDER BY item_id) FILTER (WHERE part = 'train') AS ratings60,
       array_agg(ts ORDER BY item_id) FILTER (WHERE part = 'train') AS times60
  FROM tb.events WHERE part <> 'test' GROUP BY user_id;
CREATE TABLE tb.rel AS SELECT user_id, item_id FROM tb.events WHERE part = 'test' AND rating >= 4;
-- the evaluated users: those with a relevant test event
DELETE FROM tb.hist WHERE user_id NOT IN (SELECT user_id FROM tb.rel);
-- every top 10: setting (half-life), variant, user, rank, item
CREATE TABLE tb.recs (setting text, variant text, user_id bigint, rank bigint, item_id bigint);
CREATE TABLE tb.notes (setting text, what text, value text);

-- The top 10s of one variant by reco.recommend on a model, the user's first 80 % excluded.
CREATE FUNCTION tb.add_recommend(setting text, variant text, model text) RETURNS void
LANGUAGE sql AS $$
INSERT INTO tb.recs
SELECT setting, variant, h.user_id, r.ord, r.item_id
  FROM tb.hist AS h
 CROSS JOIN LATERAL reco.recommend(model, h.user_id, 10, exclude => h.items, fallback => 'none')
       WITH ORDINALITY AS r(item_id, score, ord)
$$;

-- The weights of one history: the ratings, decayed as of as_of by half_life (training's
-- formula: rating x 2^(-age / half_life) in double precision, rounded to real once; an event
-- after as_of counts at age 0, as a refresh counts it).
CREATE FUNCTION tb.weights(ratings real[], times bigint[], half_life interval, as_of timestamptz)
RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN half_life IS NULL THEN ratings ELSE
       array_agg((w::float8 * power(2::float8, -greatest(extract(epoch FROM as_of) - t, 0)::float8
                                                / extract(epoch FROM half_life)::float8))::real
                 ORDER BY i) END
  FROM unnest(ratings, times) WITH ORDINALITY AS x(w, t, i)
$$;

-- The top 10s of one variant by folding each user's history (the first 80 %, or the first
-- 60 % if sixty) into a model with reco.recommend_for_items, the first 80 % excluded.
CREATE FUNCTION tb.add_fold_in(setting text, variant text, model text, sixty boolean,
                               half_life interval, as_of timestamptz) RETURNS void
LANGUAGE sql AS $$
INSERT INTO tb.recs
SELECT setting, variant, h.user_id, r.ord, r.item_id
  FROM tb.hist AS h
 CROSS JOIN LATERAL reco.recommend_for_items(
       model, CASE WHEN sixty THEN h.items60 ELSE h.items END,
       tb.weights(CASE WHEN sixty THEN h.ratings60 ELSE h.ratings END,
                  CASE WHEN sixty THEN h.times60 ELSE h.times END, half_life, as_of),
       10, exclude => h.items, fallback => 'none') WITH ORDINALITY AS r(item_id, score, ord)
$$;

-- Popularity: the items most users rated in the first 80 %, ties by item id, the first 80 % excluded.
CREATE TABLE tb.pop AS SELECT item_id, count(*) AS c FROM tb.src80 GROUP BY item_id;
INSERT INTO tb.recs
SELECT 'none', 'pop', h.user_id, t.ord, t.item_id
  FROM tb.hist AS h
 CROSS JOIN LATERAL (
       SELECT p.item_id, row_number() OVER (ORDER BY p.c DESC, p.item_id) AS ord
         FROM tb.pop AS p
        WHERE p.item_id <> ALL (h.items)
        ORDER BY p.c DESC, p.item_id LIMIT 10) AS t;

-- P@10 and NDCG@10 (binary relevance, normalised by min(10, relevant)) per setting and variant.
CREATE VIEW tb.metrics AS
WITH users AS (SELECT user_id, least(count(*), 10) AS m FROM tb.rel GROUP BY user_id),
per AS (SELECT s.setting, s.variant, s.user_id, count(rel.item_id) AS hits,
               coalesce(sum(1 / log(2, s.rank + 1)) FILTER (WHERE rel.item_id IS NOT NULL), 0)
               / (SELECT sum(1 / log(2, i + 1)) FROM generate_series(1, u.m) AS i) AS ndcg
          FROM tb.recs AS s JOIN users AS u USING (user_id)
          LEFT JOIN tb.rel AS rel USING (user_id, item_id)
         GROUP BY s.setting, s.variant, s.user_id, u.m)
SELECT setting, variant, round(avg(hits / 10.0), 4) AS p10, round(avg(ndcg)::numeric, 4) AS ndcg10,
       count(*) AS users
  FROM per GROUP BY setting, variant;

-- Users whose top 10 (items in rank order) differs between two variants of one setting.
CREATE FUNCTION tb.differing(setting text, v1 text, v2 text) RETURNS bigint
LANGUAGE sql AS $$
SELECT count(*) FROM (
    SELECT user_id, array_agg(item_id ORDER BY rank) FROM tb.recs AS r
     WHERE r.setting = differing.setting AND r.variant = v1 GROUP BY user_id
    EXCEPT
    SELECT user_id, array_agg(item_id ORDER BY rank) FROM tb.recs AS r
     WHERE r.setting = differing.setting AND r.variant = v2 GROUP BY user_id) AS d
$$;
SQL
q -c "SELECT part, count(*), count(DISTINCT item_id) FROM tb.events GROUP BY part ORDER BY part" |
    sed 's/^/temporal: events /' >&2

# Seconds a statement takes in its own session (the session's start not included).
timed() {
    local out
    out=$(q -f - <<<"SELECT extract(epoch FROM clock_timestamp()) AS t0 \\gset
$1;
SELECT round(extract(epoch FROM clock_timestamp()) - :t0, 3);")
    tail -1 <<<"$out"
}

# Runs a refresh (PL/pgSQL statements) in one transaction; notes its outcome and seconds
# under what (a refusal with 0A000, as of a time-decayed model, is noted, not fatal);
# prints "refreshed" or the refusal.
try_refresh() {
    q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
              $3
              INSERT INTO tb.notes VALUES ('$1', '$2', 'refreshed'),
                     ('$1', '$2_seconds', round(extract(epoch FROM clock_timestamp() - t0), 3)::text);
          EXCEPTION WHEN feature_not_supported THEN
              INSERT INTO tb.notes VALUES ('$1', '$2', 'refused: ' || SQLERRM);
          END \$\$" -c "SELECT value FROM tb.notes WHERE setting = '$1' AND what = '$2'"
}

# Times a statement $runs times, each in its own session; appends "label seconds" lines.
time_runs() {
    local run seconds
    for ((run = 1; run <= runs; run++)); do
        seconds=$(timed "$2")
        echo "$1 $seconds" >>"$work_times"
    done
}

for setting in $half_lives; do
    if [ "$setting" = none ]; then
        hl=NULL; time_args=
    else
        hl="interval '$setting days'"; time_args=", time_col => 'ts', half_life => $hl"
    fi
    say "half-life $setting: (a) the 60 % model"
    # (a) and (b), and (b2)'s copy: models on a source that holds the first 60 % now and grows to 80 %
    q -c "DROP TABLE IF EXISTS tb.grow" \
      -c "CREATE TABLE tb.grow AS SELECT user_id, item_id, rating, ts FROM tb.events WHERE part = 'train'" \
      -c "SELECT count(*) FROM reco.train('tb_a_$setting', 'tb.grow', weight_col => 'rating'$time_args)" \
      -c "SELECT count(*) FROM reco.train('tb_b2_$setting', 'tb.grow', weight_col => 'rating'$time_args)" \
      -c "SELECT tb.add_recommend('$setting', 'a', 'tb_a_$setting')" >/dev/null
    as_of="(SELECT (params->>'as_of')::timestamptz FROM reco.models
              WHERE name = 'tb_a_$setting' ORDER BY version DESC LIMIT 1)"
    # the fold-in of the 80 % history into the stale model: what the refresh must give (decay
    # from the version's as_of, later events at age 0, as a refresh of a decayed model counts)
    q -c "SELECT tb.add_fold_in('$setting', 'fold80', 'tb_a_$setting', false, $hl, $as_of)" >/dev/null
    if [ "$setting" != none ]; then
        # the SQL decay reproduces training's: the 60 % history folded in as of the model's as_of gives (a)
        q -c "SELECT tb.add_fold_in('$setting', 'fold60', 'tb_a_$setting', true, $hl, $as_of)" \
          -c "INSERT INTO tb.notes SELECT '$setting', 'as_of', $as_of" >/dev/null
    fi
    say "half-life $setting: (b) refresh_users with the next 20 %; (b2) refresh_items, then refresh_users"
    q -c "INSERT INTO tb.grow SELECT user_id, item_id, rating, ts FROM tb.events WHERE part = 'next'" >/dev/null
    refreshed=$(try_refresh "$setting" b "PERFORM reco.refresh_users('tb_a_$setting');")
    if [ "$refreshed" = refreshed ]; then
        q -c "SELECT tb.add_recommend('$setting', 'b', 'tb_a_$setting')" \
          -c "INSERT INTO tb.notes SELECT '$setting', 'evaluate_b', round(precision_at_k::numeric, 4) || ' ' ||
                     round(ndcg_at_k::numeric, 4) FROM reco.evaluate('tb_a_$setting', 'tb.rel')" >/dev/null
        if [ "$setting" = none ]; then
            time_runs refresh "SELECT * FROM reco.refresh_users('tb_a_$setting')"
        fi
    else
        say "half-life $setting: $refreshed"
        q -c "INSERT INTO tb.recs SELECT setting, 'b', user_id, rank, item_id FROM tb.recs
               WHERE setting = '$setting' AND variant = 'fold80'" >/dev/null
    fi
    # (b2): products first (new ones get factors), then customers, in one transaction
    refreshed=$(try_refresh "$setting" b2 "PERFORM reco.refresh_items('tb_b2_$setting');
                                             PERFORM reco.refresh_users('tb_b2_$setting');")
    if [ "$refreshed" = refreshed ]; then
        q -c "SELECT tb.add_recommend('$setting', 'b2', 'tb_b2_$setting')" >/dev/null
    fi
    say "half-life $setting: (c) retrain on the first 80 %"
    if [ "$setting" = none ]; then
        time_runs retrain "SELECT count(*) FROM reco.train('tb_c_$setting', 'tb.src80', weight_col => 'rating')"
    else
        q -c "SELECT count(*) FROM reco.train('tb_c_$setting', 'tb.src80', weight_col => 'rating'$time_args)" >/dev/null
    fi
    q -c "SELECT tb.add_recommend('$setting', 'c', 'tb_c_$setting')" \
      -c "INSERT INTO tb.notes SELECT '$setting', 'evaluate_c', round(precision_at_k::numeric, 4) || ' ' ||
                 round(ndcg_at_k::numeric, 4) FROM reco.evaluate('tb_c_$setting', 'tb.rel')" >/dev/null
done

say "report"
# One table cell: "P@10 / NDCG@10" of a setting's variant.
cell() { q -c "SELECT coalesce((SELECT p10 || ' / ' || ndcg10 FROM tb.metrics WHERE setting = '$1' AND variant = '$2'), '-')"; }
# A variant's share of the retrain's P@10 gain over the stale model, or "-".
share() {
    q -c "SELECT coalesce((SELECT round(100 * (b.p10 - a.p10) / nullif(c.p10 - a.p10, 0)) || ' %'
                             FROM tb.metrics AS a, tb.metrics AS b, tb.metrics AS c
                            WHERE a.setting = '$1' AND b.setting = a.setting AND c.setting = a.setting
                              AND a.variant = 'a' AND b.variant = '$2' AND c.variant = 'c'), '-')"
}
# A note's value, or "-".
note() { q -c "SELECT coalesce((SELECT value FROM tb.notes WHERE setting = '$1' AND what = '$2'), '-')"; }
refresh_s=$(awk '$1 == "refresh" { print $2 }' "$work_times" | median)
retrain_s=$(awk '$1 == "retrain" { print $2 }' "$work_times" | median)
{
    echo "## Temporal protocol: stale, refreshed, retrained (MovieLens 100K)"
    echo
    bench_machine_line "$load_start"
    echo
    echo "BENCHMARKS.md's temporal protocol (test/bench/temporal.sh): u.data, each user's events"
    echo "ordered by (timestamp, item id), r = 1..n; 5r <= 3n trains (the first 60 %, rounded down:"
    echo "$(q -c "SELECT count(*) FROM tb.events WHERE part = 'train'") events), 5r <= 4n arrives after training (the next 20 %:" \
         "$(q -c "SELECT count(*) FROM tb.events WHERE part = 'next'") events),"
    echo "the rest is the test; relevant = a test event rated >= 4 ($(q -c "SELECT count(DISTINCT user_id) FROM tb.rel") users have one and are"
    echo "evaluated). Every ranking excludes the user's whole first 80 %"
    echo "(\`recommend(..., exclude => first 80 %)\`; the fold-in's cart is that 80 %). P@10 = mean hits / 10;"
    echo "NDCG@10 binary, normalised by min(10, relevant); computed in SQL from the top 10s."
    echo "Training: reco's defaults with weight = rating (CG, factors 64, regularization 50, alpha 1,"
    echo "15 iterations: ml100k_configs.txt's \"reco defaults\" line); with a half-life, \`time_col => 'ts'\`"
    echo "(epoch seconds) and \`as_of\` = the newest event of the model's data."
    echo
    echo "- (a) stale: trained on the first 60 %, served as it is."
    echo "- (b) refreshed: the same model after its source grew to 80 % and \`reco.refresh_users(model)\`"
    echo "  re-solved every user (no retraining: item factors of the 60 % model)."
    echo "- (b2) products, then customers: a copy of (a) after \`reco.refresh_items(model)\` (every product"
    echo "  re-solved against the 60 % model's user factors, new products added), then \`refresh_users(model)\`,"
    echo "  in one transaction (\"-\" if a refresh refuses the model)."
    echo "- (c) retrained: \`reco.train\` on the first 80 %."
    echo "- popularity: the items most users rated in the first 80 %, ties by item id."
    echo
    echo "P@10 / NDCG@10:"
    echo
    echo "| half-life | (a) stale 60 % model | (b) 60 % model + refresh_users | (b2) + refresh_items, then refresh_users | (c) retrain on 80 % | share of (c)'s P@10 gain over (a): (b) / (b2) |"
    echo "|---|---|---|---|---|---|"
    for setting in $half_lives; do
        printf '| %s | %s | %s | %s | %s | %s / %s |\n' "$([ "$setting" = none ] && echo "none (default)" || echo "$setting days")" \
            "$(cell "$setting" a)" "$(cell "$setting" b)" "$(cell "$setting" b2)" "$(cell "$setting" c)" \
            "$(share "$setting" b)" "$(share "$setting" b2)"
    done
    printf '| popularity | %s | | | | |\n' "$(cell none pop)"
    echo
    echo "BENCHMARKS.md's figures for this protocol (measured by folding each user's first 80 % into the"
    echo "60 % model with \`recommend_for_items\`, no decay): P@10 (a) 0.104, (b) 0.113, (c) 0.119, popularity 0.075."
    echo
    q -c "WITH span AS (SELECT user_id, (max(ts) - min(ts)) / 86400.0 AS days FROM tb.raw GROUP BY user_id),
               idle AS (SELECT user_id, ((SELECT max(ts) FROM tb.src80) - max(ts)) / 86400.0 AS days
                          FROM tb.src80 GROUP BY user_id)
          SELECT 'What decay can see here: a user''s events span ' ||
                 round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM span)::numeric * 24 * 60) ||
                 ' minutes (median; 75th percentile ' ||
                 round((SELECT percentile_cont(0.75) WITHIN GROUP (ORDER BY days) FROM span)::numeric, 1) ||
                 ' days), so within a user the ages hardly differ; across users they do: the median user''s' ||
                 ' last event of the first 80 % is ' ||
                 round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM idle)::numeric) ||
                 ' days before as_of (' || (SELECT count(*) FROM idle WHERE days > 90) || ' of ' ||
                 (SELECT count(*) FROM idle) || ' users more than 90 days), and a global half-life scales such a' ||
                 ' user''s whole history down.'"
    echo
    echo "Checks:"
    echo
    for setting in $half_lives; do
        label=$([ "$setting" = none ] && echo "no decay" || echo "half-life $setting days")
        how=$(note "$setting" b)
        evaluated=$(q -c "SELECT count(DISTINCT user_id) FROM tb.recs WHERE setting = '$setting' AND variant = 'a'")
        if [ "$how" = refreshed ]; then
            printf -- '- %s: (b) by refresh_users; its top 10 differs from the fold-in of the first 80 %% into the stale model (`recommend_for_items`, weights = the ratings%s) for %s of %s users; `reco.evaluate` on the refreshed model gives P@10 / NDCG@10 %s.\n' \
                "$label" "$([ "$setting" = none ] || echo " decayed in SQL from the version's as_of, later events at age 0")" \
                "$(q -c "SELECT tb.differing('$setting', 'b', 'fold80')")" "$evaluated" \
                "$(note "$setting" evaluate_b | sed 's| | / |')"
        else
            printf -- '- %s: (b) by fold-in (refresh_users %s): the first 80 %% folded into the stale model with `recommend_for_items`, weights = rating x 2^(-age / half-life) computed in SQL from the version'"'"'s as_of, later events at age 0: what a refresh of a decayed model solves (a refresh is an exact fold-in).\n' \
                "$label" "$how"
        fi
        if [ "$setting" != none ]; then
            printf -- '- %s: the SQL decay is training'"'"'s: each user'"'"'s first 60 %% folded in, decayed as of the model'"'"'s as_of (%s), differs from (a)'"'"'s top 10 for %s of %s users.\n' \
                "$label" "$(note "$setting" as_of)" "$(q -c "SELECT tb.differing('$setting', 'fold60', 'a')")" "$evaluated"
        fi
        printf -- '- %s: `reco.evaluate` on (c) (its training items = the first 80 %%) gives P@10 / NDCG@10 %s.\n' \
            "$label" "$(note "$setting" evaluate_c | sed 's| | / |')"
    done
    echo
    if [ -n "$refresh_s" ] && [ -n "$retrain_s" ]; then
        echo "Cost, no decay (seconds, each in its own session, commit included; median of $runs runs; the timed"
        echo "refreshes run after the one of (b), on the same data: the same reads, solves and writes):"
        echo
        echo "| step | median s | runs |"
        echo "|---|---|---|"
        printf '| `reco.refresh_users(model)`: all %s users from the 80 %% source | %s | %s |\n' \
            "$(q -c "SELECT count(DISTINCT user_id) FROM tb.src80")" "$refresh_s" \
            "$(awk '$1 == "refresh" { print $2 }' "$work_times" | paste -sd ' ' -)"
        printf '| (b2): `refresh_items(model)` then `refresh_users(model)`, one transaction, timed inside it (%s products) | %s | 1 |\n' \
            "$(q -c "SELECT count(DISTINCT item_id) FROM tb.src80")" "$(note none b2_seconds)"
        printf '| `reco.train` on the 80 %% source (%s events) | %s | %s |\n' \
            "$(q -c "SELECT count(*) FROM tb.src80")" "$retrain_s" \
            "$(awk '$1 == "retrain" { print $2 }' "$work_times" | paste -sd ' ' -)"
        echo
    fi
    echo "temporal.sh took $((SECONDS - started)) s."
} | tee "$md"
psql -X -q -c "DROP DATABASE IF EXISTS $db"
