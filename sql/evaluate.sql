-- evaluate: ranking metrics on held-out pairs, and bad input.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse
-- a model where every customer's held-out item is what similar customers bought
SELECT (reco.train('eval', 'purchases', 'customer_id', 'product_id', 'quantity', factors => 4,
                   regularization => 0.1, iterations => 10, solver => 'cholesky')).n_users;
CREATE TABLE held_out (user_id bigint, item_id bigint);
INSERT INTO held_out VALUES (1, 104), (2, 103), (3, 102), (4, 108), (5, 105), (9, 101), (1, 999);
SELECT round(precision_at_k::numeric, 4) AS p, round(recall_at_k::numeric, 4) AS r,
       round(map_at_k::numeric, 4) AS map, round(ndcg_at_k::numeric, 4) AS ndcg,
       round(capped_precision::numeric, 4) AS capped, round(coverage::numeric, 4) AS coverage,
       users_evaluated, users_unknown
  FROM reco.evaluate('eval', 'held_out', k => 2);
-- the beyond-accuracy columns of the same lists (exact values by hand: test/pgtap/evaluate_ranking.sql)
SELECT round(intra_list_diversity::numeric, 4) AS ild, round(novelty::numeric, 4) AS novelty,
       round(gini::numeric, 4) AS gini
  FROM reco.evaluate('eval', 'held_out', k => 2);
-- with k = the whole catalogue every known held-out item is a hit
SELECT recall_at_k = (SELECT avg(x) FROM (VALUES (0.5), (1), (1), (1), (1)) v(x)) AS all_known_found,
       round(coverage::numeric, 4) AS coverage
  FROM reco.evaluate('eval', 'held_out', k => 8);
-- metrics are within their bounds
SELECT bool_and(v BETWEEN 0 AND 1) AS bounded
  FROM reco.evaluate('eval', 'SELECT user_id, item_id FROM held_out WHERE user_id < 9', 3) e,
       LATERAL (VALUES (precision_at_k), (recall_at_k), (map_at_k), (ndcg_at_k), (capped_precision),
                       (auc), (coverage), (gini), (intra_list_diversity / 2)) AS m(v);
-- novelty is at least 0 and at most log2(training users)
SELECT novelty BETWEEN 0 AND log(2, 6) AS novelty_bounded
  FROM reco.evaluate('eval', 'held_out', 3);
\set VERBOSITY sqlstate
SELECT * FROM reco.evaluate('no_such_model', 'held_out');
SELECT * FROM reco.evaluate('eval', 'held_out', 0);
SELECT * FROM reco.evaluate('eval', 'SELECT 1::bigint AS user_id, 1::bigint AS item_id WHERE false');
SELECT * FROM reco.evaluate('eval', 'no_such_table');
SELECT * FROM reco.evaluate('eval', 'held_out', user_col => 'nope');
SELECT * FROM reco_internal.evaluate_pairs('eval', '{1,2}', '{101}', 10);
\set VERBOSITY default
SELECT * FROM reco.evaluate('no_such_model', 'held_out');
SELECT * FROM reco.evaluate('eval', 'held_out', 0);
-- the ranking settings: diversity and exploration (exact values: test/pgtap/evaluate_ranking.sql)
SELECT round(intra_list_diversity::numeric, 4) AS ild, round(coverage::numeric, 4) AS coverage
  FROM reco.evaluate('eval', 'held_out', 2, diversity => 1);
\set VERBOSITY sqlstate
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => -0.1);
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 1.5);
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 'NaN');
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => NULL);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => NULL);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => -1);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 'Infinity');
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 'NaN');
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => NULL);
-- sigma is capped at 100 (RECO_MAX_EXPLORE_SIGMA): 100 runs, above it 22023
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 100.001);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 3.4e38);
SELECT users_evaluated FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 100);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, epsilon => 1.01);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, epsilon => 'NaN');
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, epsilon => NULL);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, seed => NULL);
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 0.3, explore => true);
SELECT * FROM reco_internal.evaluate_pairs('eval', '{1}', '{104}', 10, NULL);
SELECT * FROM reco_internal.evaluate_pairs('eval', '{1}', '{104}', 10, 0, NULL);
SELECT * FROM reco_internal.evaluate_pairs('eval', '{1}', '{104}', 10, 2);
\set VERBOSITY default
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 1.5);
-- the value is printed with all its digits: 1.0000001 (a real just above 1) must not read "not 1"
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 1.0000001);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => -1);
SELECT * FROM reco.evaluate('eval', 'held_out', explore => true, sigma => 3.4e38);
SELECT * FROM reco.evaluate('eval', 'held_out', diversity => 0.3, explore => true);
