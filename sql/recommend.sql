-- recommend: exact top-n on a hand-made model (scores are exact dot products),
-- exclusion semantics, unknown users, bad input, and the per-backend cache.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- A hand-made two-factor model: every score below can be checked by hand.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('hand', 1, 'ials', '{}', 2, 6, 3, 2, '{}', 0) RETURNING model_id AS hand_id \gset
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
SELECT :hand_id, i, reco.to_bytea(f), 1
  FROM (VALUES (10, '{1, 0}'::real[]), (20, '{0, 1}'), (30, '{1, 1}'),
               (40, '{2, 0.5}'), (50, '{-1, 0}'), (60, '{0.5, 2}')) AS t(i, f);
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
VALUES (:hand_id, 1, reco.to_bytea('{1, 0.5}'), '{30, 40}', '{1, 2}'),
       (:hand_id, 2, reco.to_bytea('{0, 0}'), '{}', '{}');
-- user 1 = (1, 0.5): scores 10:1, 20:0.5, 30:1.5, 40:2.25, 50:-1, 60:1.5
SELECT * FROM reco.recommend('hand', 1, 10, exclude_seen => false);
-- seen items (30, 40) are excluded by default
SELECT * FROM reco.recommend('hand', 1);
SELECT * FROM reco.recommend('hand', 1, 2);
-- candidates restrict the ranking; n rows whenever n eligible candidates exist
SELECT * FROM reco.recommend('hand', 1, 2, candidates => '{50, 20, 10, 999}');
SELECT * FROM reco.recommend('hand', 1, 3, candidates => '{50, 20, 20, NULL}');
SELECT * FROM reco.recommend('hand', 1, 5, candidates => '{}');
-- exclude removes items; with exclude_seen => false seen items may come back
SELECT * FROM reco.recommend('hand', 1, 3, exclude_seen => false, exclude => '{40, 10}');
-- all-zero user: every score 0, so ties are broken by item id
SELECT * FROM reco.recommend('hand', 2, 3);
-- unknown or NULL user: the best-sellers (every popularity is 1 here: ties by id),
-- or with fallback => 'none' no rows; never an error (so LEFT JOIN LATERAL works)
SELECT count(*) AS unknown_user_rows FROM reco.recommend('hand', 999);
SELECT count(*) AS null_user_rows FROM reco.recommend('hand', NULL);
SELECT count(*) AS unknown_user_rows FROM reco.recommend('hand', 999, fallback => 'none');
SELECT count(*) AS null_user_rows FROM reco.recommend('hand', NULL, fallback => 'none');
SELECT u AS user_id, r.item_id, r.score
  FROM (VALUES (1), (999)) AS v(u)
  LEFT JOIN LATERAL reco.recommend('hand', v.u, 1) AS r ON true
 ORDER BY u;
-- bad input, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend('no_such_model', 1);
SELECT * FROM reco.recommend('hand', 1, 0);
SELECT * FROM reco.recommend('hand', 1, -5);
SELECT * FROM reco.recommend(NULL, 1);
SELECT * FROM reco.recommend('hand', 1, NULL);
SELECT * FROM reco.recommend('hand', 1, 10, NULL);
\set VERBOSITY default
SELECT * FROM reco.recommend('no_such_model', 1);
SELECT * FROM reco.recommend('hand', 1, 0);
\set VERBOSITY terse
-- the cache: one entry per served version; a new version is served at once
SELECT reco.cache_reset() >= 0 AS reset;
SELECT item_id FROM reco.recommend('hand', 1, 1);
SELECT version, items, factors, bytes, hits FROM reco.cache_info();
SELECT item_id FROM reco.recommend('hand', 1, 1);
SELECT version, hits FROM reco.cache_info();
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('hand', 2, 'ials', '{}', 1, 1, 1, 2, '{}', 0) RETURNING model_id AS hand2_id \gset
INSERT INTO reco.item_factors VALUES (:hand2_id, 70, reco.to_bytea('{1, 1}'), 1);
INSERT INTO reco.user_factors VALUES (:hand2_id, 1, reco.to_bytea('{1, 1}'), '{}', '{}');
SELECT * FROM reco.recommend('hand', 1);
SELECT version, items FROM reco.cache_info() ORDER BY version;
-- a budget too small for any matrix: served uncached, nothing kept
SELECT reco.cache_reset() AS freed;
SET reco.cache_size = 0;
SELECT * FROM reco.recommend('hand', 1);
SELECT count(*) AS cached FROM reco.cache_info();
RESET reco.cache_size;
-- a trained model: recommend never returns a seen item and returns n rows
SET client_min_messages = warning;
SELECT (reco.fit('rec', customer_id, product_id, quantity, '{"factors": 4}')).version FROM purchases;
RESET client_min_messages;
SELECT count(*) AS rows, bool_and(item_id NOT IN (101, 102, 103)) AS no_seen_items
  FROM reco.recommend('rec', 1, 3);
SELECT count(*) AS all_eligible FROM reco.recommend('rec', 1, 1000);
-- in a parallel worker (forced parallel plan, own cache) the answers are the same
CREATE TABLE rec_customers AS SELECT DISTINCT customer_id FROM purchases;
SELECT md5(string_agg(c.customer_id || ':' || r.item_id || ':' || r.score, ',' ORDER BY c.customer_id, r.item_id)) AS serial
  FROM rec_customers AS c, LATERAL reco.recommend('rec', c.customer_id, 3) AS r \gset
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF)
SELECT c.customer_id, r.item_id, r.score
  FROM rec_customers AS c, LATERAL reco.recommend('rec', c.customer_id, 3) AS r;
SELECT md5(string_agg(c.customer_id || ':' || r.item_id || ':' || r.score, ',' ORDER BY c.customer_id, r.item_id)) = :'serial'
       AS parallel_equals_serial
  FROM rec_customers AS c, LATERAL reco.recommend('rec', c.customer_id, 3) AS r;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
DROP TABLE rec_customers;
DELETE FROM reco.models WHERE name IN ('hand', 'rec');
DELETE FROM reco.item_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
DELETE FROM reco.user_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
