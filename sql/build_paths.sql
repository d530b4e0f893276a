-- build_paths: the two ways the build maps ids to dense indices — one slot per
-- possible id (ids dense enough: at most 2 possible ids per row) and a hash
-- table (sparse ids) — give the same matrices: the same users, items, pairs,
-- merged duplicates and dropped net-zero pairs, ids in the same order.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse
-- 30 users x 4 items, duplicate rows (summed), a pair bought and returned (net 0,
-- dropped: user 30 is left without a pair), a negative pair beside positive ones
CREATE TABLE bp_dense AS
SELECT u AS user_id, (u * 3 + j) % 17 AS item_id, 1::real AS w
  FROM generate_series(1, 30) AS u, generate_series(1, 4) AS j WHERE u < 30
UNION ALL SELECT 5, 16, 2::real
UNION ALL VALUES (30, 1, 3::real), (30, 1, -3::real), (7, 16, -1::real);
-- the same rows with ids spread over the whole bigint range (the hash path)
CREATE TABLE bp_sparse AS
SELECT user_id * 300000000000000000 - 4611686018427387904 AS user_id,
       item_id * 500000000000000000 - 4611686018427387904 AS item_id, w FROM bp_dense;
CREATE FUNCTION bp_train(name text, source text) RETURNS reco.models LANGUAGE sql AS $$
  SELECT reco.train(name, source, weight_col => 'w', factors => 3, iterations => 2, threads => 1)
$$;
SELECT n_users, n_items, n_interactions, stats -> 'duplicates_merged' AS merged,
       stats -> 'pairs_net_zero' AS net_zero, stats -> 'users_without_positive' AS without_positive
  FROM bp_train('bp_dense', 'bp_dense') AS m;
SELECT n_users, n_items, n_interactions, stats -> 'duplicates_merged' AS merged,
       stats -> 'pairs_net_zero' AS net_zero, stats -> 'users_without_positive' AS without_positive
  FROM bp_train('bp_sparse', 'bp_sparse') AS m;
-- every user's seen items (mapped back to the dense ids) and weights, in the same order
SELECT count(*) AS users,
       count(*) FILTER (WHERE d.seen_items = ARRAY(SELECT (s_i + 4611686018427387904) / 500000000000000000
                                                     FROM unnest(s.seen_items) WITH ORDINALITY AS x(s_i, o) ORDER BY o)
                          AND d.seen_weights = s.seen_weights) AS same_rows
  FROM reco.user_factors AS d JOIN reco.models AS dm ON dm.model_id = d.model_id AND dm.name = 'bp_dense'
  JOIN reco.user_factors AS s ON (s.user_id + 4611686018427387904) / 300000000000000000 = d.user_id
  JOIN reco.models AS sm ON sm.model_id = s.model_id AND sm.name = 'bp_sparse';
SELECT seen_items, seen_weights FROM reco.user_factors JOIN reco.models USING (model_id)
 WHERE name = 'bp_dense' AND user_id IN (5, 7) ORDER BY user_id;
-- the extremes of bigint on one side (their span overflows int64: the hash path), one row each
SELECT n_users, n_items, n_interactions
  FROM reco.train('bp_extremes', 'SELECT * FROM (VALUES (-9223372036854775808, 1), (9223372036854775807, 2), (0, 1)) AS t(user_id, item_id)',
                  factors => 2, iterations => 1) AS m;
SELECT user_id, seen_items FROM reco.user_factors JOIN reco.models USING (model_id)
 WHERE name = 'bp_extremes' ORDER BY user_id;
-- a single row
SELECT n_users, n_items, n_interactions
  FROM reco.train('bp_one', 'SELECT 42 AS user_id, 7 AS item_id', factors => 2, iterations => 1) AS m;
SELECT reco.drop_model(name) FROM (VALUES ('bp_dense'), ('bp_sparse'), ('bp_extremes'), ('bp_one')) AS m(name);
DROP TABLE bp_dense, bp_sparse;
DROP FUNCTION bp_train(text, text);
