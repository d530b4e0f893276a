-- tune: a grid (or a seeded random search) of trainings, each evaluated on held-out pairs;
-- the best is kept as one new version, every other trial's version is gone.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse
CREATE TABLE tune_test (customer_id bigint, product_id bigint);
INSERT INTO tune_test VALUES (1, 104), (2, 103), (3, 102), (4, 108), (5, 105), (6, 104);
CREATE VIEW tune_train AS SELECT customer_id, product_id, quantity FROM purchases;
-- two existing versions: no trial prunes them (each trains with keep_versions 0)
SELECT (reco.train('tuned', 'tune_train', 'customer_id', 'product_id', 'quantity', factors => 2,
                   iterations => 2)).version;
SELECT (reco.train('tuned', 'tune_train', 'customer_id', 'product_id', 'quantity', factors => 2,
                   iterations => 2)).version;
-- a 2 x 3 grid: six trials, keys in name order, the first key changing slowest
CREATE TABLE grid_run AS
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test',
                        '{"regularization": [0.1, 5, 50], "factors": [2, 4]}',
                        k => 3, base_options => '{"iterations": 5, "solver": "cholesky", "keep_versions": 0}',
                        user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity');
SELECT trial, options, round(ndcg_at_k::numeric, 4) AS ndcg, round(precision_at_k::numeric, 4) AS p,
       users_evaluated, winner, version, seconds > 0 AND train_seconds > 0 AS timed
  FROM grid_run ORDER BY trial;
-- one winner: the first trial of the highest NDCG
SELECT count(*) FILTER (WHERE winner) AS winners,
       (SELECT min(trial) FROM grid_run WHERE ndcg_at_k = (SELECT max(ndcg_at_k) FROM grid_run)) =
       (SELECT trial FROM grid_run WHERE winner) AS first_best_wins
  FROM grid_run;
-- the versions: the two before, and the winner as version 3 (keep_versions 0 keeps all); nothing else
SELECT version, params->>'factors' AS factors, params->>'regularization' AS regularization,
       params->>'keep_versions' AS keep, stats->'versions_pruned' AS pruned,
       stats->'tune'->'trial' AS tune_trial, stats->'tune'->>'metric' AS tune_metric
  FROM reco.models WHERE name = 'tuned' ORDER BY version;
-- the winner's params hold the winning trial's options, its metric is evaluate's now
SELECT m.params @> g.options AS params_hold_options,
       round((SELECT ndcg_at_k FROM reco.evaluate('tuned', 'tune_test', 3, 'customer_id', 'product_id'))::numeric, 6)
       = round(g.ndcg_at_k::numeric, 6) AS same_ndcg
  FROM grid_run AS g JOIN reco.models AS m ON m.name = 'tuned' AND m.version = g.version
 WHERE g.winner;
-- no factor row of a deleted trial is left
SELECT count(*) AS orphan_rows
  FROM (SELECT model_id FROM reco.user_factors UNION ALL SELECT model_id FROM reco.item_factors) AS f
 WHERE NOT EXISTS (SELECT FROM reco.models AS m WHERE m.model_id = f.model_id);
-- keep_versions (default: reco.train's, 2) prunes once the winner is stored: versions 3 and 4 stay
SELECT count(*) AS trials, count(*) FILTER (WHERE winner) AS winners, max(version) AS winner_version
  FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2, 3]}', 'precision_at_k', 3,
                 base_options => '{"iterations": 3}',
                 user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity');
SELECT array_agg(version ORDER BY version) AS versions, array_agg(params->>'keep_versions' ORDER BY version) AS keep,
       array_agg(stats->>'versions_pruned' ORDER BY version) AS pruned
  FROM reco.models WHERE name = 'tuned';
-- a random search: 4 of the 3 x 3 x 2 = 18 configurations, the same for the same seed
CREATE TABLE random_a AS
SELECT trial, options, ndcg_at_k FROM reco.tune('tuned_r', 'tune_train', 'tune_test',
    '{"factors": [2, 3, 4], "regularization": [0.1, 1, 10], "iterations": [2, 4]}', k => 3, trials => 4, seed => 7,
    user_col => 'customer_id', item_col => 'product_id');
CREATE TABLE random_b AS
SELECT trial, options, ndcg_at_k FROM reco.tune('tuned_r', 'tune_train', 'tune_test',
    '{"factors": [2, 3, 4], "regularization": [0.1, 1, 10], "iterations": [2, 4]}', k => 3, trials => 4, seed => 7,
    user_col => 'customer_id', item_col => 'product_id');
SELECT trial, options FROM random_a ORDER BY trial;
SELECT (SELECT array_agg(options ORDER BY trial) FROM random_a) = (SELECT array_agg(options ORDER BY trial) FROM random_b)
       AS same_options,
       (SELECT array_agg(ndcg_at_k ORDER BY trial) FROM random_a) = (SELECT array_agg(ndcg_at_k ORDER BY trial) FROM random_b)
       AS same_metrics;
-- the sample: distinct, ascending, in range; another seed, another sample; n >= population: all
SELECT reco_internal.tune_sample(18, 4, 7) AS seed_7, reco_internal.tune_sample(18, 4, 8) AS seed_8,
       reco_internal.tune_sample(5, 9, 7) AS all_five;
SELECT bool_and(cardinality(s) = 50 AND s[1] >= 0 AND s[50] < 1000000
                AND (SELECT bool_and(s[i] < s[i + 1]) FROM generate_series(1, 49) AS i)) AS valid_samples
  FROM (SELECT reco_internal.tune_sample(1000000, 50, seed) AS s FROM generate_series(1, 20) AS seed) AS x;
\set VERBOSITY sqlstate
SELECT reco_internal.tune_sample(0, 1, 7);
SELECT reco_internal.tune_sample(5, 0, 7);
SELECT reco_internal.tune_sample(5, 1, NULL);
\set VERBOSITY terse
-- trials at least the grid's size run the whole grid once
SELECT count(*) AS trials FROM reco.tune('tuned_r', 'tune_train', 'tune_test', '{"factors": [2, 3]}', trials => 5,
    base_options => '{"iterations": 2}', user_col => 'customer_id', item_col => 'product_id');
-- a tie goes to the earlier trial (the same configuration twice trains the same factors)
SELECT trial, winner, version IS NOT NULL AS kept
  FROM reco.tune('tuned_r', 'tune_train', 'tune_test', '{"seed": [5, 5]}', base_options => '{"iterations": 2}',
                 user_col => 'customer_id', item_col => 'product_id')
 ORDER BY trial;
-- every option of reco.train is a key (read from its signature): here the frequency-scaled regularization
CREATE TABLE new_options AS
SELECT trial, options, winner FROM reco.tune('tuned_r', 'tune_train', 'tune_test', '{"reg_exponent": [0, 1], "unobserved_weight": [1]}',
                 base_options => '{"iterations": 2, "regularization": 0.1}', user_col => 'customer_id', item_col => 'product_id');
SELECT trial, options, (SELECT (params->>'reg_exponent')::real FROM reco.models WHERE name = 'tuned_r' ORDER BY version DESC LIMIT 1)
       = (options->>'reg_exponent')::real AS kept_winner
  FROM new_options WHERE winner;
SELECT reco_internal.train_option_keys() = (SELECT array_agg(a.name ORDER BY a.pos) FROM pg_proc AS p,
           unnest(p.proargnames) WITH ORDINALITY AS a(name, pos)
        WHERE p.oid = 'reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz, real, real, real, text[], text[], real, text)'::regprocedure
          AND a.pos > 2) AS keys_are_the_long_forms;
-- gini: the lowest wins
CREATE TABLE gini_run AS
SELECT trial, gini, winner FROM reco.tune('tuned_r', 'tune_train', 'tune_test', '{"regularization": [0.1, 1000]}',
    'gini', 2, base_options => '{"iterations": 3, "factors": 3}', user_col => 'customer_id', item_col => 'product_id');
SELECT (SELECT trial FROM gini_run WHERE winner) = (SELECT trial FROM gini_run ORDER BY gini, trial LIMIT 1)
       AS lowest_gini_wins;
-- the bad inputs; nothing is trained or kept by any of them
SELECT count(*) AS versions_before FROM reco.models WHERE name = 'tuned';
\set VERBOSITY sqlstate
SELECT * FROM reco.tune(NULL, 'tune_train', 'tune_test', '{"factors": [2]}');
SELECT * FROM reco.tune('tuned', NULL, 'tune_test', '{"factors": [2]}');
SELECT * FROM reco.tune('tuned', 'tune_train', NULL, '{"factors": [2]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', metric => NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', k => NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', seed => NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', user_col => NULL);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', metric => 'rmse');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', metric => 'users_evaluated');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '[{"factors": 2}]');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": 2}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": []}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2], "factor": [3]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => '{"iteration": 3}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => '[]');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"user_col": ["customer_id"]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => '{"weight_col": "quantity"}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"keep_versions": [1, 2]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2, 0]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"solver": ["cg", "lu"]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "als"], "alpha": [1, 2]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "als"], "factors": [1022]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "bpr"], "factors": [1024]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "als"]}',
    base_options => '{"time_col": "ordered_at", "half_life": "30 days"}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => '{"keep_versions": -1}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', trials => 0);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', trials => 1001);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test',
    (SELECT jsonb_object_agg(key, '[1, 2]'::jsonb) FROM unnest(ARRAY['factors', 'iterations', 'cg_steps', 'seed',
     'regularization', 'alpha', 'threads', 'algorithm', 'solver', 'half_life']) AS key));
SELECT * FROM reco.tune('tuned', 'tune_train', 'no_such_table', '{"factors": [2]}');
SELECT * FROM reco.tune('tuned', 'no_such_table', 'tune_test', '{"factors": [2]}');
-- an error in a trial (here the test source's columns, read after the first training) keeps nothing
SELECT * FROM reco.tune('tuned', 'tune_train', 'SELECT 1 AS user_id, 2 AS item_id', '{"factors": [2, 3]}',
                        user_col => 'customer_id', item_col => 'product_id');
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', metric => 'rmse');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2], "factor": [3]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', trials => 1001);
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2]}', base_options => '{"weight_col": "quantity"}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"keep_versions": [1, 2]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": [2, 0]}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "als"], "alpha": [1, 2]}');
-- an algorithm's own factors limit is the option parser's: refused before the ials trial trains
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"algorithm": ["ials", "als"], "factors": [1022]}');
SELECT reco_internal.train_params('{"algorithm": "als", "factors": 1022}');
SELECT reco_internal.train_params('{"algorithm": "bpr", "factors": 1024}');
SELECT reco_internal.train_params('{"algorithm": "als", "half_life": "1 day"}');
SELECT reco_internal.train_params('{"algorithm": "als", "factors": 1021}') ->> 'factors' AS als_max,
       reco_internal.train_params('{"algorithm": "bpr", "factors": 1023}') ->> 'factors' AS bpr_max;
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test', '{"factors": []}');
SELECT * FROM reco.tune('tuned', 'tune_train', 'tune_test',
    (SELECT jsonb_object_agg(key, '[1, 2]'::jsonb) FROM unnest(ARRAY['factors', 'iterations', 'cg_steps', 'seed',
     'regularization', 'alpha', 'threads', 'algorithm', 'solver', 'half_life']) AS key));
\set SHOW_CONTEXT errors
\set VERBOSITY terse
SELECT count(*) AS versions_after, max(version) AS newest FROM reco.models WHERE name = 'tuned';
SELECT reco.drop_model('tuned'), reco.drop_model('tuned_r');
DROP TABLE grid_run, random_a, random_b, gini_run, new_options, tune_test;
DROP VIEW tune_train;
