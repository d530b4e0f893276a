#!/usr/bin/env bash
# test/bench/feedback.sh — the feedback loop, simulated in the database (issue 15): a planted
# "true" taste decides what simulated customers buy from the lists a policy shows them; the
# purchases feed the model that makes the next lists. Compares policies on cumulative
# purchases, catalogue coverage and the truly relevant items customers discover; writes a
# markdown section, a TSV of the curves and a PNG plot (gnuplot).
#
#   test/bench/feedback.sh            (run.sh's step "feedback" calls it; standalone it starts
#                                      its own throwaway cluster when PGHOST is not set)
#
# Design (the report repeats it):
# - Ground truth (test/bench/feedback_truth.sql, schema sim_truth, never read by a model):
#   users and items in 16 taste groups with true factors (group centre + N(0, 0.8²) noise, 16
#   dimensions), a Zipf-like long tail of item popularity, and
#   p(u, i) = sigmoid(8 (cos(u, i) - 0.5) + b_i - 1) with b_i = -0.5 ln(popularity rank). Shown
#   item i, user u buys it iff coin(seed, round, u, i) < p(u, i): every exposure is a fresh,
#   deterministic decision (a hash of seed, round, user and item), and every policy draws the
#   same coin for the same exposure (common random numbers: policies differ by what they show,
#   not by luck). "Truly relevant" = p(u, i) >= 0.25. (FEEDBACK_CLUSTERS, _DIMS, _NOISE, _STEEP,
#   _CENTRE, _TAIL, _OFFSET, _RELEVANT change the shape.)
# - Start (test/bench/feedback_sim.sql, schema sim): a seed history of 2 purchases per user
#   (FEEDBACK_SEED_PURCHASES) drawn in proportion to p(u, i), the same for every policy: a cold
#   catalogue, where items nobody bought are unknown to the model; a model trained on it
#   (reco.train, factors 32, regularization 5, alpha 20: FEEDBACK_TRAIN; reco's defaults learn
#   next to nothing from 2 purchases per user).
# - Each round: every user is shown 10 items by the policy (an item already bought is never
#   shown again: exclude_seen, or excluded explicitly), purchases are appended to the policy's
#   own purchases (sim.bought; the model's source is a view of it), then the model follows:
#   reco.refresh_items on the items bought this round, then reco.refresh_users on the users who
#   bought (README "Refresh": products first, then customers), or, for the "retrain every
#   round" variants, a full reco.train every round.
# - Policies: random (10 unbought items per user, hashed: the floor; item ids are 1..items), greedy
#   (reco.recommend_all(model, 10)), greedy with a retrain every round, diversity 0.2 and 0.5
#   (recommend_all(..., diversity => x)), exploration (reco.explore(model, user, 10, seed =>
#   a hash of round and user) per user through LATERAL, its default sigma / epsilon), the same
#   with a retrain every round, and the oracle (each user's 10 unbought items of highest true
#   p: the ceiling; the only policy that reads sim_truth). A policy whose function this server lacks is skipped with a line saying so.
# - Metrics per policy and round: purchases, cumulative purchases (the seed history not
#   counted), catalogue coverage (distinct items shown so far / items), mean truly relevant
#   items bought so far per user (the seed history included).
#
# Environment: SCALE small (1,500 users x 800 items, 25 rounds) or default (4,000 x 2,000,
# 30 rounds); FEEDBACK_USERS / FEEDBACK_ITEMS / FEEDBACK_ROUNDS override; FEEDBACK_SEED (15);
# FEEDBACK_POLICIES (default: all, space-separated names); FEEDBACK_DB (reco_feedback, created
# and dropped); FEEDBACK_MD (the markdown section's file, default stdout only);
# FEEDBACK_PREFIX (default test/bench/results/feedback-DATE[-small]: .tsv and .png).
# shellcheck disable=SC2016  # backquotes in the report's strings are markdown
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/bench/machine.sh
. "$here/machine.sh"
case ${SCALE:=default} in
    small) users=1500; items=800; rounds=25; suffix=-small ;;
    default | full) users=4000; items=2000; rounds=30; suffix= ;;
    *) echo "feedback.sh: SCALE must be small or default, not '$SCALE'" >&2; exit 2 ;;
esac
users=${FEEDBACK_USERS:-$users}
items=${FEEDBACK_ITEMS:-$items}
rounds=${FEEDBACK_ROUNDS:-$rounds}
seed=${FEEDBACK_SEED:-15}
policies=${FEEDBACK_POLICIES:-random greedy greedy_retrain div02 div05 explore explore_retrain oracle}
db=${FEEDBACK_DB:-reco_feedback}
md=${FEEDBACK_MD:-/dev/null}
prefix=${FEEDBACK_PREFIX:-$here/results/feedback-$(date +%Y-%m-%d)$suffix}
train_args=${FEEDBACK_TRAIN:-"factors => 32, iterations => 15, regularization => 5, alpha => 20, seed => $seed"}
seed_purchases=${FEEDBACK_SEED_PURCHASES:-2}
# the ground truth's shape (feedback_truth.sql): groups, dimensions, noise around a group's
# centre, the logistic's steepness and centre on the cosine, the popularity tail's slope, the
# offset, and the probability from which a pair is "truly relevant"
clusters=${FEEDBACK_CLUSTERS:-16}; dims=${FEEDBACK_DIMS:-16}; noise=${FEEDBACK_NOISE:-0.8}
steep=${FEEDBACK_STEEP:-8}; centre=${FEEDBACK_CENTRE:-0.5}; tail=${FEEDBACK_TAIL:-0.5}
offset=${FEEDBACK_OFFSET:--1}; relevant=${FEEDBACK_RELEVANT:-0.25}
started=$SECONDS
load_start=$(cut -d' ' -f1 /proc/loadavg)

# Prints a progress line on stderr.
say() { echo "feedback: $*" >&2; }

plot_dat=$(mktemp "${TMPDIR:-/tmp}/reco_feedback.XXXXXX")
if [ -z "${PGHOST:-}" ]; then
    # standalone: a throwaway cluster with the installed extension, stopped on any exit
    # shellcheck source=test/lib/cluster.sh
    . "$here/../lib/cluster.sh"
    reco_cleanup_on_exit
    trap 'reco_cluster_stop; rm -f "$plot_dat"' EXIT
    reco_cluster_start feedback >&2
else
    trap 'rm -f "$plot_dat"' EXIT
fi

# Runs SQL in the simulation database: unaligned, tab-separated, stops on the first error.
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" "$@"; }

PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION reco" >/dev/null
say "ground truth: $users users x $items items (seed $seed)"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v users="$users" -v items="$items" -v clusters="$clusters" -v dims="$dims" \
    -v noise="$noise" -v steep="$steep" -v centre="$centre" -v tail="$tail" -v offset="$offset" \
    -v relevant="$relevant" -v seed="$seed" -f "$here/feedback_truth.sql"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v seed_purchases="$seed_purchases" -v seed="$seed" -f "$here/feedback_sim.sql"

# Does the server have what a policy needs? Prints nothing if so, else what is missing.
missing() {
    case $1 in
        div02 | div05)
            q -c "SELECT CASE WHEN EXISTS (SELECT FROM pg_proc WHERE proname = 'recommend_all'
                                              AND pronamespace = 'reco'::regnamespace AND 'diversity' = ANY (proargnames))
                         THEN '' ELSE 'reco.recommend_all(..., diversity => ...)' END" |
                grep -v '^$' || true ;;
        explore | explore_retrain)
            q -c "SELECT CASE WHEN to_regprocedure('reco.explore(text, bigint, integer, bigint, real, real, boolean, bigint[], bigint[])') IS NULL
                         THEN 'reco.explore(model, user_id bigint, n, seed, sigma, epsilon, exclude_seen, candidates, exclude)' END" |
                grep -v '^$' || true ;;
    esac
}

# The policies: one line "order|label|lists|update": the lists' query (%1$L model, %2$s round,
# %3$s seed) and how the model follows.
policy_row() {
    local lists
    case $1 in
        random) # 30 hashed draws per user and round, the first 10 distinct unbought items
            lists='SELECT user_id, item_id FROM (SELECT user_id, item_id, row_number() OVER (PARTITION BY user_id '
            lists+='ORDER BY j) AS r FROM (SELECT DISTINCT ON (u.user_id, c.item_id) u.user_id, c.item_id, c.j '
            lists+='FROM sim.users AS u CROSS JOIN LATERAL (SELECT j, 1 + (hashint8extended(u.user_id * 1000 + j, '
            lists+='%3$s * 100003 + %2$s * 7919 + 2) & 1073741823) %% (SELECT count(*) FROM sim.items) AS item_id '
            lists+='FROM generate_series(1, 30) AS j) AS c WHERE NOT EXISTS (SELECT FROM sim.bought AS b '
            lists+="WHERE b.policy = 'random' AND b.user_id = u.user_id AND b.item_id = c.item_id) "
            lists+='ORDER BY u.user_id, c.item_id, c.j) AS d) AS s WHERE r <= 10'
            echo "1|random (floor)|$lists|none" ;;
        greedy) echo '2|greedy: recommend_all(model, 10)|SELECT user_id, item_id FROM reco.recommend_all(%1$L, 10)|refresh' ;;
        greedy_retrain) echo '3|greedy, retrain every round|SELECT user_id, item_id FROM reco.recommend_all(%1$L, 10)|retrain' ;;
        div02) echo '4|diversity 0.2|SELECT user_id, item_id FROM reco.recommend_all(%1$L, 10, diversity => 0.2)|refresh' ;;
        div05) echo '5|diversity 0.5|SELECT user_id, item_id FROM reco.recommend_all(%1$L, 10, diversity => 0.5)|refresh' ;;
        explore) echo '6|explore: reco.explore(model, user, 10, seed)|SELECT u.user_id, e.item_id FROM sim.users AS u CROSS JOIN LATERAL reco.explore(%1$L, u.user_id, 10, seed => hashint8extended(u.user_id, %3$s * 1000 + %2$s)) AS e|refresh' ;;
        explore_retrain) echo '7|explore, retrain every round|SELECT u.user_id, e.item_id FROM sim.users AS u CROSS JOIN LATERAL reco.explore(%1$L, u.user_id, 10, seed => hashint8extended(u.user_id, %3$s * 1000 + %2$s)) AS e|retrain' ;;
        oracle) echo '8|oracle: 10 best by true p (reads sim_truth)|SELECT u.user_id, t.item_id FROM sim.users AS u CROSS JOIN LATERAL (SELECT p.item_id FROM sim_truth.prob AS p WHERE p.user_id = u.user_id AND NOT EXISTS (SELECT FROM sim.bought AS b WHERE b.policy = '"'"'oracle'"'"' AND b.user_id = u.user_id AND b.item_id = p.item_id) ORDER BY p.p DESC, p.item_id LIMIT 10) AS t|none' ;;
        *) echo "feedback.sh: unknown policy '$1'" >&2; return 1 ;;
    esac
}

skipped=()
played=()
for policy in $policies; do
    lack=$(missing "$policy")
    if [ -n "$lack" ]; then
        say "policy $policy skipped: this server has no $lack"
        skipped+=("$policy: skipped, the installed reco has no $lack")
        continue
    fi
    IFS='|' read -r ord label lists updating <<<"$(policy_row "$policy")"
    q -v p="$policy" -v o="$ord" -v l="$label" -v s="$lists" -v u="$updating" \
      -f - <<<"INSERT INTO sim.policies VALUES (:'p', :'o', :'l', :'s', :'u')" >/dev/null
    say "policy $policy: $rounds rounds"
    t0=$SECONDS
    {
        echo "CALL sim.start('$policy', \$\$$train_args\$\$);"
        for ((r = 1; r <= rounds; r++)); do
            echo "CALL sim.play_round('$policy', $r, $seed, \$\$$train_args\$\$);"
        done
    } | q -f - >/dev/null
    say "policy $policy: $((SECONDS - t0)) s"
    played+=("$policy")
done

mkdir -p "$(dirname "$prefix")"
# the curves, computed once (sim.ahead and the report read this table)
q -c "DROP TABLE IF EXISTS sim.curve" -c "CREATE TABLE sim.curve AS SELECT * FROM sim.curves()" >/dev/null
q -c "SELECT 'policy', 'round', 'purchases', 'cumulative', 'coverage', 'relevant_found', 'shown', 'choose_s', 'update_s'
      UNION ALL SELECT * FROM (SELECT policy, round::text, purchases::text, cumulative::text, coverage::text,
                                      relevant_found::text, shown::text, round(choose_s::numeric, 3)::text,
                                      round(update_s::numeric, 3)::text FROM sim.curve) AS c" >"$prefix.tsv"

# the plot: one data block per policy (gnuplot's index), in the policies' order; columns round,
# purchases, cumulative, coverage, relevant found, and the last two minus greedy's (? without greedy)
if command -v gnuplot >/dev/null && [ ${#played[@]} -gt 0 ]; then
    for policy in "${played[@]}"; do
        awk -F '\t' -v p="$policy" '
            $1 == "greedy" { gc[$2] = $4; gr[$2] = $6 }
            $1 == p { r[++n] = $2; line[n] = $2 " " $3 " " $4 " " $5 " " $6; c[n] = $4; rel[n] = $6 }
            END { for (i = 1; i <= n; i++)
                      print line[i], ((r[i] in gc) ? c[i] - gc[r[i]] : "?"), ((r[i] in gr) ? rel[i] - gr[r[i]] : "?") }' \
            "$prefix.tsv" >>"$plot_dat"
        printf '\n\n' >>"$plot_dat"
    done
    titles=$(for policy in "${played[@]}"; do q -c "SELECT label FROM sim.policies WHERE policy = '$policy'"; done)
    plots() { # column, for every policy (the oracle and random, far above and below, left out with "models")
        local i=0 sep='' t
        while IFS= read -r t; do
            if [ "${2:-}" != models ] || { [ "${t#oracle}" = "$t" ] && [ "${t#random}" = "$t" ]; }; then
                printf '%s"%s" index %d using 1:%d with linespoints lw 2 pt %d ps 0.6 lc %d title "%s"' \
                    "$sep" "$plot_dat" "$i" "$1" $((5 + i)) $((i + 1)) "${t//\"/}"
                sep=', '
            fi
            i=$((i + 1))
        done <<<"$titles"
    }
    gnuplot <<EOF
set terminal pngcairo noenhanced size 1800,1000 font "DejaVu Sans,10"
set output "$prefix.png"
set datafile missing "?"
set multiplot layout 2,3 title "Feedback loop simulated in the database: $users users x $items items, 10 shown per user per round, $rounds rounds, seed $seed (test/bench/feedback.sh)"
set grid; set key left top font ",9"; set xlabel "round"; set xrange [0:$rounds]
set title "cumulative purchases (seed history not counted)"; set ylabel "purchases"
plot $(plots 3)
set title "cumulative purchases minus greedy's (above 0: ahead of greedy; model policies)"; set ylabel "purchases"; set key left bottom
plot $(plots 6 models)
set title "purchases per round"; set key right top
plot $(plots 2)
set title "catalogue coverage: distinct items shown so far / items"; set ylabel "share of items"; set key right bottom
plot $(plots 4)
set title "truly relevant items bought so far, mean per user (seed included)"; set ylabel "items per user"; set key left top
plot $(plots 5)
set title "relevant items found minus greedy's, per user (model policies)"; set ylabel "items per user"; set key left top
plot $(plots 7 models)
unset multiplot
EOF
fi

say "report"
{
    echo "## Feedback loop simulated in the database (issue 15)"
    echo
    bench_machine_line "$load_start"
    echo
    echo "test/bench/feedback.sh (SQL in feedback_truth.sql and feedback_sim.sql): $users users x $items items,"
    echo "$rounds rounds, 10 items shown per user per round, seed $seed; everything deterministic."
    echo
    echo "- **Ground truth** (schema \`sim_truth\`, read only by the purchase step and the metrics, never by"
    echo "  a model): $clusters taste groups; a user's and an item's true factor = its group's centre (standard"
    echo "  normal coordinates) + N(0, $noise²) noise, $dims dimensions; a Zipf-like long tail of popularity"
    echo "  (log-uniform rank), bias b_i = -$tail ln(rank); a shown item is bought with probability"
    echo "  p(u, i) = sigmoid($steep (cos(u, i) - $centre) + b_i + ($offset)), decided by a hashed coin per"
    echo "  (seed, round, user, item): each exposure is a fresh decision, and every policy draws the same coin"
    echo "  for the same exposure (common random numbers). \"Truly relevant\": p >= $relevant:"
    echo "  $(q -c "SELECT round(avg(n), 1) || ' items per user (median ' || percentile_cont(0.5) WITHIN GROUP (ORDER BY n) || ')'
                  FROM (SELECT user_id, count(*) FILTER (WHERE p >= $relevant) AS n FROM sim_truth.prob GROUP BY user_id) AS s");"
    echo "  mean p over all pairs $(q -c "SELECT round(avg(p)::numeric, 4) FROM sim_truth.prob"), over the truly relevant pairs $(q -c "SELECT round(avg(p)::numeric, 3) FROM sim_truth.prob WHERE p >= $relevant")."
    echo "- **Start**: $seed_purchases purchases per user drawn in proportion to p (Gumbel top-k on hashed"
    echo "  uniforms; the same seed history for every policy; $(q -c "SELECT count(DISTINCT item_id) FROM sim.seed_history") of $items items bought at least once,"
    echo "  the others unknown to the model); a model trained on it:"
    echo "  \`reco.train(model, view of the policy's purchases, $train_args)\`"
    echo "  (reco's defaults, regularization 50 and alpha 1, learn next to nothing from 2 purchases per user"
    echo "  here: greedy bought about as much as random in a trial run)."
    echo "- **Each round** every user is shown 10 items not bought before; purchases are appended to the"
    echo "  policy's own purchase table (the model's source is a view of it); then the model follows by"
    echo "  \`reco.refresh_items\` on the items bought this round and \`reco.refresh_users\` on the users who"
    echo "  bought (README \"Refresh\": products first, then customers), or by a full \`reco.train\` every"
    echo "  round (the \"retrain every round\" variants of greedy and explore); random and the oracle use no model."
    echo "- **Separation, checked**: the models' sources (\`reco.models.params.source\`) are"
    echo "  $(q -c "SELECT coalesce(string_agg(DISTINCT params ->> 'source', ', '), 'none') FROM reco.models WHERE name LIKE 'sim\_%'"),"
    echo "  views of sim.bought; objects of sim_truth they depend on (pg_depend): $(q -c "SELECT count(*) FROM pg_depend AS d
          JOIN pg_rewrite AS r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
         WHERE r.ev_class::regclass::text LIKE 'sim.src\_%'
           AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = 'sim_truth'::regnamespace
                              UNION ALL SELECT oid FROM pg_proc WHERE pronamespace = 'sim_truth'::regnamespace)")."
    echo "- **Metrics**: purchases per round; cumulative purchases (seed not counted); catalogue coverage ="
    echo "  distinct items shown so far / items; relevant found = mean number of truly relevant items each"
    echo "  user has bought so far (seed included)."
    echo
    for line in "${skipped[@]}"; do echo "- **$line**"; done
    [ ${#skipped[@]} -eq 0 ] || echo
    echo "| policy | purchases round 1 | round $rounds | cumulative after 5 | after 10 | after $rounds | cumulative above greedy's | coverage after $rounds | relevant found after $rounds (share of the relevant) | relevant found above greedy's | s per round: lists / update |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for policy in "${played[@]}"; do
        q -c "WITH c AS (SELECT * FROM sim.curve WHERE policy = '$policy')
              SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s %%) | %s | %s / %s |',
                            (SELECT label FROM sim.policies WHERE policy = '$policy'),
                            (SELECT purchases FROM c WHERE round = 1), (SELECT purchases FROM c WHERE round = $rounds),
                            (SELECT cumulative FROM c WHERE round = 5), (SELECT cumulative FROM c WHERE round = 10),
                            (SELECT cumulative FROM c WHERE round = $rounds), sim.ahead('$policy', 'cumulative'),
                            (SELECT coverage FROM c WHERE round = $rounds),
                            (SELECT relevant_found FROM c WHERE round = $rounds),
                            (SELECT round(100 * relevant_found
                                          / (SELECT count(*) FILTER (WHERE p >= $relevant)::numeric / count(DISTINCT user_id)
                                               FROM sim_truth.prob), 1) FROM c WHERE round = $rounds),
                            sim.ahead('$policy', 'relevant_found'),
                            (SELECT round(avg(choose_s)::numeric, 2) FROM c WHERE round > 0),
                            (SELECT round(avg(update_s)::numeric, 2) FROM c WHERE round > 0))"
    done
    echo
    known=$(q -c "SELECT count(DISTINCT item_id) FROM sim.seed_history")
    echo "- A policy driven by its model shows only items the model knows: the $known items of the seed history"
    echo "  (coverage at most $(q -c "SELECT round($known::numeric / $items, 4)")); \`refresh_items\` adds an item once someone buys it, which"
    echo "  such a policy never makes happen for an item it cannot show. Random shows the whole catalogue but"
    echo "  feeds no model."
    echo "- \"above greedy's\": the rounds in which the policy's curve is strictly above greedy's (refreshed"
    echo "  greedy); \"from round R\" = at R and at every later round."
    echo
    echo "Cumulative purchases per round (the curves of the plot; all figures in $(basename "$prefix").tsv):"
    echo
    printf '| round |'; for policy in "${played[@]}"; do printf ' %s |' "$policy"; done; echo
    printf '|---|'; for policy in "${played[@]}"; do printf -- '---|'; done; echo
    for ((r = 1; r <= rounds; r++)); do
        printf '| %s |' "$r"
        for policy in "${played[@]}"; do
            printf ' %s |' "$(awk -F '\t' -v p="$policy" -v r="$r" '$1 == p && $2 == r { print $4 }' "$prefix.tsv")"
        done
        echo
    done
    echo
    [ -s "$prefix.png" ] && echo "![feedback loop]($(basename "$prefix").png)" && echo
    echo "feedback.sh took $((SECONDS - started)) s."
} | tee "$md"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
