#!/usr/bin/env bash
# test/bench/diversity.sh — the accuracy / beyond-accuracy trade-off of diversity and
# exploration on MovieLens 100K u1 (issue 15): reco.evaluate at diversity 0 .. 1 and with
# exploration (several sigma), beside a random and a popularity ranking; writes a markdown
# section and a gnuplot PNG. Needs a server (PGHOST/PGPORT/PGUSER) with reco installed; the
# data is not shipped with reco (research licence): pass its directory (default
# ../shared/data/ml-100k).
#
#   test/bench/diversity.sh [DATA_DIR]
#
# Protocol (ml100k.sh's): train on u1.base with reco's defaults and weight = rating
# (ml100k_configs.txt's "reco defaults" line), relevant = u1.test items rated >= 4, the
# user's training items excluded, K = 10. Every reco row is one reco.evaluate call.
#
# The random and popularity rankings are not a model's scores, so reco.evaluate cannot rank
# them: their lists are built in SQL and measured by dv.metrics, the same definitions
# written in SQL (intra-list diversity as the plain mean pairwise cosine of the model's
# item factors, not evaluate's sum-of-unit-vectors form). dv.metrics is checked on the
# lists of reco.recommend: it must give reco.evaluate's diversity-0 figures (the report
# prints the largest difference).
#
# Environment: DIVERSITY_DB (default reco_diversity) the database, created and dropped;
# DIVERSITY_MD the markdown section's file (default: stdout only); DIVERSITY_PNG the plot
# (default: none); DIVERSITY_LEVELS (default "0 0.1 0.2 0.3 0.4 0.5 0.7 1"); DIVERSITY_SIGMAS
# the explore sigmas beside the default (default "0.25 1 2").
# shellcheck disable=SC2016  # backquotes in the report's strings are markdown
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../shared/data/ml-100k}
db=${DIVERSITY_DB:-reco_diversity}
md=${DIVERSITY_MD:-/dev/null}
png=${DIVERSITY_PNG:-}
levels=${DIVERSITY_LEVELS:-0 0.1 0.2 0.3 0.4 0.5 0.7 1}
sigmas=${DIVERSITY_SIGMAS:-0.25 1 2}
test_query='SELECT user_id, item_id FROM u1_test WHERE rating >= 4'
. "$here/ml100k_lib.sh"
ml100k_require u1.base "Diversity and exploration (MovieLens 100K u1)"
ml100k_fresh_db
# Prints progress on stderr.
say() { echo "diversity: $*" >&2; }
load_start=$(cut -d' ' -f1 /proc/loadavg)

say "loading u1 and training with the defaults (weight = rating)"
q -c "CREATE EXTENSION reco" -c "CREATE SCHEMA dv" \
  -c "CREATE TABLE u1_base (user_id bigint, item_id bigint, rating real, ts bigint)" \
  -c "CREATE TABLE u1_test (user_id bigint, item_id bigint, rating real, ts bigint)" \
  -c "\\copy u1_base FROM '$data/u1.base'" -c "\\copy u1_test FROM '$data/u1.test'" >/dev/null
q -c "SELECT reco.fit('dv_u1', user_id, item_id, rating, '{}'::jsonb) FROM u1_base" >/dev/null

q -f - >/dev/null <<'SQL'
CREATE TABLE dv.results (label text, kind text, x real, p10 float8, ndcg10 float8, ild float8,
                         coverage float8, novelty float8, gini float8, seconds float8);
-- the served version
CREATE TABLE dv.model AS
SELECT model_id, n_users, n_items FROM reco.models WHERE name = 'dv_u1' ORDER BY version DESC LIMIT 1;
-- evaluate's users (test users the model knows, with a relevant item) and their relevant items
CREATE TABLE dv.rel AS
SELECT DISTINCT t.user_id, t.item_id FROM u1_test AS t
 WHERE t.rating >= 4
   AND EXISTS (SELECT FROM reco.user_factors AS f JOIN dv.model AS m USING (model_id) WHERE f.user_id = t.user_id);
CREATE TABLE dv.users AS SELECT user_id, count(*) AS n_rel FROM dv.rel GROUP BY user_id;
CREATE TABLE dv.seen AS SELECT DISTINCT user_id, item_id FROM u1_base;
-- the model's items: popularity, novelty -log2(max(popularity, 1) / n_users) (at least 0),
-- and the unit factor vector (NULL for a zero vector: cosine 0 with everything)
CREATE TABLE dv.items AS
SELECT i.item_id, i.popularity,
       greatest(0, -ln(greatest(i.popularity, 1)::float8 / m.n_users) / ln(2)) AS novelty,
       CASE WHEN n.norm > 0 THEN (SELECT array_agg(v.x / n.norm ORDER BY v.d)
                                    FROM unnest(f.v) WITH ORDINALITY AS v(x, d)) END AS unit
  FROM reco.item_factors AS i JOIN dv.model AS m USING (model_id)
       CROSS JOIN LATERAL (SELECT reco.to_array(i.factors)::float8[] AS v) AS f
       CROSS JOIN LATERAL (SELECT sqrt(sum(x * x)) AS norm FROM unnest(f.v) AS x) AS n;
-- lists to measure in SQL: (method, user, item, 1-based position)
CREATE TABLE dv.lists (method text, user_id bigint, item_id bigint, pos int);

-- reco.evaluate's metrics of one method's lists, written in SQL from their definitions
-- (k = 10): P@10 = hits / 10; NDCG@10 binary, normalised by min(10, relevant); ILD = mean
-- over lists of 1 - mean pairwise cosine; coverage = distinct items / model items;
-- novelty = mean over entries; gini of exposure over every model item.
CREATE FUNCTION dv.metrics(m text, OUT p10 float8, OUT ndcg10 float8, OUT ild float8,
                           OUT coverage float8, OUT novelty float8, OUT gini float8)
LANGUAGE sql STABLE AS $$
WITH l AS (SELECT * FROM dv.lists WHERE method = m),
per_user AS (
    SELECT u.user_id,
           count(r.item_id)::float8 / 10 AS p,
           coalesce(sum(1 / log(2, l.pos + 1)) FILTER (WHERE r.item_id IS NOT NULL), 0)
             / (SELECT sum(1 / log(2, i + 1)) FROM generate_series(1, least(10, u.n_rel)) AS i) AS ndcg
      FROM dv.users AS u LEFT JOIN l USING (user_id)
      LEFT JOIN dv.rel AS r ON r.user_id = l.user_id AND r.item_id = l.item_id
     GROUP BY u.user_id, u.n_rel),
pairs AS (
    SELECT a.user_id,
           coalesce((SELECT sum(x * y) FROM unnest(ia.unit, ib.unit) AS t(x, y)), 0) AS cosine
      FROM l AS a JOIN l AS b ON b.user_id = a.user_id AND b.pos > a.pos
      JOIN dv.items AS ia ON ia.item_id = a.item_id JOIN dv.items AS ib ON ib.item_id = b.item_id),
exposure AS (
    SELECT i.item_id, count(l.item_id) AS c FROM dv.items AS i LEFT JOIN l USING (item_id) GROUP BY i.item_id),
ranked AS (SELECT c, row_number() OVER (ORDER BY c) AS r, count(*) OVER () AS n FROM exposure)
SELECT (SELECT avg(p) FROM per_user), (SELECT avg(ndcg)::float8 FROM per_user),
       (SELECT avg(1 - mean) FROM (SELECT avg(cosine) AS mean FROM pairs GROUP BY user_id) AS x),
       (SELECT count(DISTINCT item_id)::float8 FROM l) / (SELECT n_items FROM dv.model),
       (SELECT avg(i.novelty) FROM l JOIN dv.items AS i USING (item_id)),
       (SELECT sum((2 * r - n - 1) * c)::float8 / (max(n) * sum(c)) FROM ranked)
$$;
SQL

# Appends one reco.evaluate row to dv.results with the call's own seconds.
evaluate_row() { # label kind x evaluate-arguments
    q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
            INSERT INTO dv.results
            SELECT '$1', '$2', $3, e.precision_at_k, e.ndcg_at_k, e.intra_list_diversity, e.coverage,
                   e.novelty, e.gini, NULL
              FROM reco.evaluate('dv_u1', '$test_query', 10 $4) AS e;
            UPDATE dv.results SET seconds = extract(epoch FROM clock_timestamp() - t0) WHERE label = '$1';
          END \$\$" >/dev/null
}
# Appends the SQL metrics of one method's lists to dv.results.
sql_row() { # label method
    q -c "INSERT INTO dv.results SELECT '$1', 'sql', NULL, m.*, NULL FROM dv.metrics('$2') AS m" >/dev/null
}

say "diversity levels: $levels"
q -c "SELECT * FROM reco.evaluate('dv_u1', '$test_query', 10)" >/dev/null   # warms the factor cache
for d in $levels; do
    evaluate_row "diversity $d" mmr "$d" ", diversity => $d"
done
# reco.evaluate's exploration defaults (reco.explore's), as the catalog states them
read -r sigma0 epsilon0 <<<"$(q -F ' ' -c "SELECT substring(a FROM 'sigma real DEFAULT ([^,]+)'), substring(a FROM 'epsilon real DEFAULT ([^,]+)')
    FROM pg_get_function_arguments('reco.evaluate(text,text,integer,text,text,real,boolean,real,real,bigint)'::regprocedure) AS a")"
say "exploration: the defaults (sigma $sigma0, epsilon $epsilon0), sigma $sigmas, and each half alone"
evaluate_row "explore, defaults (sigma $sigma0, epsilon $epsilon0)" explore "$sigma0" ", explore => true"
for s in $sigmas; do
    evaluate_row "explore, sigma $s, epsilon $epsilon0" explore "$s" ", explore => true, sigma => $s"
done
evaluate_row "explore, sigma 0, epsilon $epsilon0 (epsilon-slots only)" explore_half 0 ", explore => true, sigma => 0"
evaluate_row "explore, sigma $sigma0, epsilon 0 (Thompson only)" explore_half "$sigma0" ", explore => true, epsilon => 0"
for seed in 1 2 3 4; do
    evaluate_row "explore, defaults, seed $seed" seeds "$sigma0" ", explore => true, seed => $seed"
done

say "random and popularity rankings in SQL"
q -f - >/dev/null <<'SQL'
-- random: 10 unseen model items per user in the order of a seeded hash
INSERT INTO dv.lists
SELECT 'random', u.user_id, r.item_id, r.pos
  FROM dv.users AS u
 CROSS JOIN LATERAL (
       SELECT i.item_id, row_number() OVER (ORDER BY hashtextextended(u.user_id || ':' || i.item_id, 42), i.item_id) AS pos
         FROM dv.items AS i
        WHERE NOT EXISTS (SELECT FROM dv.seen AS s WHERE s.user_id = u.user_id AND s.item_id = i.item_id)
        ORDER BY hashtextextended(u.user_id || ':' || i.item_id, 42), i.item_id LIMIT 10) AS r;
-- popularity: the 10 unseen model items most users bought, ties by lower id (ml100k.sh's baseline)
INSERT INTO dv.lists
SELECT 'popularity', u.user_id, r.item_id, r.pos
  FROM dv.users AS u
 CROSS JOIN LATERAL (
       SELECT i.item_id, row_number() OVER (ORDER BY i.popularity DESC, i.item_id) AS pos
         FROM dv.items AS i
        WHERE NOT EXISTS (SELECT FROM dv.seen AS s WHERE s.user_id = u.user_id AND s.item_id = i.item_id)
        ORDER BY i.popularity DESC, i.item_id LIMIT 10) AS r;
-- the check: reco.recommend's lists, which reco.evaluate measures at diversity 0
INSERT INTO dv.lists
SELECT 'recommend', u.user_id, r.item_id, r.pos
  FROM dv.users AS u, reco.recommend('dv_u1', u.user_id, 10) WITH ORDINALITY AS r(item_id, score, pos);
SQL
sql_row "random ranking" random
sql_row "popularity ranking" popularity
sql_row "check" recommend
check=$(q -c "SELECT btrim(to_char(greatest(abs(a.p10 - b.p10), abs(a.ndcg10 - b.ndcg10), abs(a.ild - b.ild),
                                      abs(a.coverage - b.coverage), abs(a.novelty - b.novelty), abs(a.gini - b.gini)),
                             '9.9EEEE'))
                FROM dv.results AS a, dv.results AS b WHERE a.label = 'diversity 0' AND b.label = 'check'")

# Prints the result rows matching a condition as markdown table lines, in an order.
rows() { # condition order
    q -c "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', label, to_char(p10, 'FM0.0000'),
                        to_char(ndcg10, 'FM0.0000'), to_char(ild, 'FM0.0000'), to_char(coverage, 'FM0.0000'),
                        to_char(novelty, 'FM90.000'), to_char(gini, 'FM0.0000'),
                        coalesce(to_char(seconds, 'FM90.00'), 'SQL'))
            FROM dv.results WHERE $1 ORDER BY $2"
}
{
    echo "## Diversity and exploration: the trade-off on MovieLens 100K u1"
    echo
    printf -- '- machine: %s, %s cores (nproc), %s GiB, Debian %s, %s; reco %s; %s; 1-min load %s at the start, %s at the end\n' \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
        "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(cat /etc/debian_version 2>/dev/null || echo '?')" \
        "$(q -c 'SELECT version()' | sed 's/ on .*//')" "$(q -c 'SELECT reco.version()')" \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$load_start" "$(cut -d' ' -f1 /proc/loadavg)"
    echo
    echo "test/bench/diversity.sh: train on u1.base with reco's defaults (weight = rating; CG, factors 64,"
    echo "regularization 50, alpha 1, 15 iterations), relevant = u1.test items rated >= 4, training items"
    echo "excluded, K = 10; $(q -c "SELECT count(*) FROM dv.users") users evaluated, $(q -c "SELECT n_items FROM dv.model") items."
    echo "Every reco row is one \`reco.evaluate(..., diversity => d)\` or \`reco.evaluate(..., explore => true,"
    echo "sigma, epsilon, seed => 42)\` call (\"s\" = its seconds, ranking all users included). ILD = intra-list"
    echo "diversity (1 - mean pairwise cosine of the item factors in a top 10), novelty = mean -log2 of an"
    echo "item's share of the training users, gini = Gini index of exposure over all items (README,"
    echo "\`reco.evaluate\`). The random (seeded hash order) and popularity (most users, ties by id) rankings"
    echo "are built in SQL and measured by the same definitions written in SQL (dv.metrics), ILD with the"
    echo "same model's item factors; that SQL, run on \`reco.recommend\`'s lists, differs from \`reco.evaluate\`'s"
    echo "diversity-0 row by at most $check over the six metrics."
    echo
    echo "| ranking | P@10 | NDCG@10 | ILD | coverage | novelty | gini | s |"
    echo "|---|---|---|---|---|---|---|---|"
    rows "kind = 'mmr'" "x"
    rows "kind = 'explore'" "x"
    rows "kind = 'explore_half'" "x"
    rows "label IN ('random ranking', 'popularity ranking')" "label DESC"
    echo
    q -c "SELECT format('Exploration at the defaults over seeds 42, 1, 2, 3, 4: P@10 %s (%s .. %s), NDCG@10 %s'
                        ' (%s .. %s), ILD %s, coverage %s (%s .. %s), novelty %s, gini %s.',
                        to_char(avg(p10), 'FM0.0000'), to_char(min(p10), 'FM0.0000'), to_char(max(p10), 'FM0.0000'),
                        to_char(avg(ndcg10), 'FM0.0000'), to_char(min(ndcg10), 'FM0.0000'), to_char(max(ndcg10), 'FM0.0000'),
                        to_char(avg(ild), 'FM0.0000'), to_char(avg(coverage), 'FM0.0000'),
                        to_char(min(coverage), 'FM0.0000'), to_char(max(coverage), 'FM0.0000'),
                        to_char(avg(novelty), 'FM90.000'), to_char(avg(gini), 'FM0.0000'))
            FROM dv.results WHERE kind = 'seeds' OR label LIKE 'explore, defaults (%'"
    echo
    if [ -n "$png" ]; then
        echo "![diversity]($(basename "$png"))"
        echo
    fi
} | tee "$md"

if [ -n "$png" ]; then
    command -v gnuplot >/dev/null || { say "gnuplot not found (apt-get install gnuplot-nox)"; exit 1; }
    plot_data=$(mktemp "${TMPDIR:-/tmp}/reco_diversity.XXXXXX")
    trap 'rm -f "$plot_data"' EXIT
    {
        echo "# MMR: diversity P@10 NDCG@10 ILD coverage"
        q -F ' ' -c "SELECT x, p10, ndcg10, ild, coverage FROM dv.results WHERE kind = 'mmr' ORDER BY x"
        printf '\n\n# explore (the default epsilon): label P@10 ILD\n'
        q -F ' ' -c "SELECT '\"σ ' || x || '\"', p10, ild FROM dv.results WHERE kind = 'explore' ORDER BY x"
        printf '\n\n# baselines: label P@10 ILD\n'
        q -F ' ' -c "SELECT '\"' || split_part(label, ' ', 1) || '\"', p10, ild FROM dv.results
                      WHERE label IN ('random ranking', 'popularity ranking') ORDER BY label"
    } >"$plot_data"
    gnuplot <<GNUPLOT
set terminal pngcairo size 1400,560 font ",11" noenhanced
set output "$png"
set multiplot layout 1,2 title "MovieLens 100K u1, top 10, reco.evaluate ($(date -u '+%Y-%m-%d'))"
set grid
set key bottom left
set xlabel "diversity (MMR)"
set ylabel "P@10, NDCG@10"
set y2label "ILD, coverage"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot "$plot_data" index 0 using 1:2 with linespoints lw 2 pt 7 title "P@10", \
     "" index 0 using 1:3 with linespoints lw 2 pt 5 title "NDCG@10", \
     "" index 0 using 1:4 axes x1y2 with linespoints lw 2 pt 9 dt 2 title "ILD (right)", \
     "" index 0 using 1:5 axes x1y2 with linespoints lw 2 pt 11 dt 2 title "coverage (right)"
unset y2label
unset y2tics
set ytics mirror
set key top right
set xlabel "intra-list diversity"
set ylabel "P@10"
set xrange [0:0.8]
plot "$plot_data" index 0 using 4:2 with linespoints lw 2 pt 7 title "MMR, diversity 0 .. 1", \
     "" index 1 using 3:2 with points pt 5 ps 1.5 title "explore, epsilon $epsilon0", \
     "" index 1 using 3:2:1 with labels offset 1.2,0.6 left notitle, \
     "" index 2 using 3:2 with points pt 9 ps 1.8 title "random, popularity", \
     "" index 2 using 3:2:1 with labels offset 1.2,-0.6 left notitle
unset multiplot
GNUPLOT
    say "plot: $png"
fi
psql -X -q -c "DROP DATABASE IF EXISTS $db"
