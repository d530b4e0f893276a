-- fallback: best-sellers when nothing is known (reco 0.3.0).  A NULL or unknown
-- user of reco.recommend and a cart with no known item of
-- reco.recommend_for_items get the model's most popular items (popularity =
-- training users with a positive weight, ties by item id, score = popularity),
-- respecting candidates and exclude; fallback => 'none' returns no rows.  Also
-- how the overloads resolve, reco.train's options form and the weight-column
-- NOTICE.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- A hand-made two-factor model whose items' popularity is set by hand:
-- 20 and 40 tie at 5 (20 first, by id), then 60 (3), 10 and 30 (1), 50 (0).
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('pop', 1, 'ials', '{}', 1, 6, 2, 2, '{}', 0) RETURNING model_id AS pop_id \gset
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
SELECT :pop_id, i, reco.to_bytea(f), p
  FROM (VALUES (10, '{1, 0}'::real[], 1), (20, '{0, 1}', 5), (30, '{1, 1}', 1),
               (40, '{2, 0.5}', 5), (50, '{-1, 0}', 0), (60, '{0.5, 2}', 3)) AS t(i, f, p);
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
VALUES (:pop_id, 1, reco.to_bytea('{1, 0.5}'), '{30, 40}', '{1, 2}');
-- a known user is served by the model as before: 10:1, 60:1.5, 20:0.5
SELECT * FROM reco.recommend('pop', 1, 3);
-- an unknown user: the best-sellers, by default
SELECT * FROM reco.recommend('pop', 999, 4);
SELECT * FROM reco.recommend('pop', NULL::bigint, 2);
-- ... among the candidates, minus exclude
SELECT * FROM reco.recommend('pop', 999, 3, candidates => '{10, 30, 50, 60, 777}');
SELECT * FROM reco.recommend('pop', 999, 3, exclude => '{20, 60}');
SELECT * FROM reco.recommend('pop', 999, 10, candidates => '{40, 50}', exclude => '{40}');
-- fallback => 'none': no rows, as in 0.2.0
SELECT count(*) AS none_rows FROM reco.recommend('pop', 999, 4, fallback => 'none');
SELECT count(*) AS none_rows FROM reco.recommend('pop', NULL, fallback => 'none');
-- the known user is unaffected by the setting
SELECT * FROM reco.recommend('pop', 1, 3, fallback => 'none');
-- the short form falls back too
SET reco.model = 'pop';
SELECT * FROM reco.recommend(999, 2);
SELECT * FROM reco.recommend(1, 2);
RESET reco.model;
-- how the overloads resolve: (text, integer, integer) is the long form with every
-- default, (integer, integer) the short form
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend('pop', 15, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend(15, 5);
SELECT * FROM reco.recommend('pop', 15, 5);
-- the LEFT JOIN LATERAL recipe: every customer gets rows, a new one the best-sellers
SELECT v.customer, r.item_id, r.score,
       EXISTS (SELECT FROM reco.user_factors AS u WHERE u.model_id = :pop_id AND u.user_id = v.customer) AS personal
  FROM (VALUES (1), (999)) AS v(customer)
  LEFT JOIN LATERAL reco.recommend('pop', v.customer, 2) AS r ON true
 ORDER BY v.customer, r.score DESC, r.item_id;
SELECT v.customer, r.item_id, r.score
  FROM (VALUES (1), (999)) AS v(customer)
  LEFT JOIN LATERAL reco.recommend('pop', v.customer, 2, fallback => 'none') AS r ON true
 ORDER BY v.customer, r.score DESC, r.item_id;
-- recommend_for_items: an empty cart, a cart of only unknown or NULL items
SELECT * FROM reco.recommend_for_items('pop', '{}', n => 3);
SELECT * FROM reco.recommend_for_items('pop', '{998, 999}', n => 3);
SELECT * FROM reco.recommend_for_items('pop', '{NULL}', n => 2, candidates => '{10, 30, 50}');
SELECT * FROM reco.recommend_for_items('pop', '{}', n => 3, exclude => '{20}');
SELECT count(*) AS none_rows FROM reco.recommend_for_items('pop', '{}', fallback => 'none');
SELECT count(*) AS none_rows FROM reco.recommend_for_items('pop', '{998}', fallback => 'none');
-- a cart with a known item is folded in, whatever the setting
SELECT (SELECT array_agg(item_id) FROM reco.recommend_for_items('pop', '{40}', n => 3))
     = (SELECT array_agg(item_id) FROM reco.recommend_for_items('pop', '{40}', n => 3, fallback => 'none'))
       AS same_fold_in;
-- the fallback on a trained model is reco.item_factors.popularity
SET client_min_messages = warning;
SELECT (reco.fit('fb', customer_id, product_id, quantity, '{"factors": 2, "iterations": 1}')).version FROM purchases;
RESET client_min_messages;
SELECT r.item_id, r.score, f.popularity
  FROM reco.recommend('fb', 999, 3) AS r
  JOIN reco.item_factors AS f ON f.item_id = r.item_id
   AND f.model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'fb')
 ORDER BY r.score DESC, r.item_id;
-- bad fallback values, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend('pop', 999, fallback => 'Popular');
SELECT * FROM reco.recommend('pop', 1, fallback => NULL);
SELECT * FROM reco.recommend_for_items('pop', '{}', fallback => 'bestsellers');
SELECT * FROM reco.recommend_for_items('pop', '{40}', fallback => NULL);
\set VERBOSITY default
SELECT * FROM reco.recommend('pop', 999, fallback => 'Popular');
\set VERBOSITY terse

-- trainings below report no summary line (its loss is not part of this test)
SET reco.progress = 'none';
-- reco.train's options form: the long form's argument names after source, as a
-- jsonb value (options => '...' or a cast: an untyped third argument is user_col)
SELECT name, version, n_users, n_items, factors, params ->> 'iterations' AS iterations
  FROM reco.train('opt', 'purchases', options => '{"user_col": "customer_id", "item_col": "product_id",
                  "weight_col": "quantity", "factors": 3, "iterations": 2, "threads": null}');
\set VERBOSITY default
SELECT reco.train('opt', 'purchases', options => '{"user_col": "customer_id", "factor": 32}');
SELECT reco.train('opt', 'purchases', '["factors", 32]'::jsonb);
SELECT reco.train('opt', 'purchases', options => '{"user_col": 7}');
SELECT reco.train('opt', 'purchases', '{"factors": 8}');
\set VERBOSITY sqlstate
SELECT reco.train('opt', 'purchases', options => '{"user_col": "customer_id", "factor": 32}');
SELECT reco.train('opt', 'purchases', options => '["factors", 32]');
SELECT reco.train('opt', 'purchases', options => '{"item_col": ["product_id"]}');
SELECT reco.train('opt', 'purchases', '{"factors": 8}');
SELECT reco.train(NULL, 'purchases', options => '{}');
SELECT reco.train('opt', NULL, options => '{}');
-- a bad fit option is reco.fit's own error
SELECT reco.train('opt', 'purchases', options => '{"user_col": "customer_id", "item_col": "product_id", "weight_col": "quantity", "factors": 0}');
\set VERBOSITY terse
-- resolution: two text arguments, and named column arguments, are the long form
EXPLAIN (VERBOSE, COSTS OFF) SELECT reco.train('m', 'purchases');
EXPLAIN (VERBOSE, COSTS OFF) SELECT reco.train(model => 'm', source => 'purchases', user_col => 'customer_id');
EXPLAIN (VERBOSE, COSTS OFF) SELECT reco.train('m', 'purchases', 'customer_id');
EXPLAIN (VERBOSE, COSTS OFF) SELECT reco.train('m', 'purchases', options => '{}');
SELECT name, version, factors
  FROM reco.train(model => 'opt', source => 'purchases', user_col => 'customer_id',
                  item_col => 'product_id', weight_col => 'quantity', factors => 2, iterations => 1);

-- a source column named like a weight, but no weight_col: a NOTICE says so
\set VERBOSITY default
SELECT name, version FROM reco.train('wn', 'purchases', user_col => 'customer_id', item_col => 'product_id',
                                     factors => 2, iterations => 1);
\set VERBOSITY terse
CREATE VIEW rated AS SELECT customer_id AS user_id, product_id AS item_id, quantity AS "Rating", 1 AS qty FROM purchases;
SELECT name, version FROM reco.train('wn', 'rated', options => '{"factors": 2, "iterations": 1}');
-- none with weight_col, none without such a column
SELECT name, version FROM reco.train('wn', 'rated', weight_col => 'qty', factors => 2, iterations => 1);
SELECT name, version FROM reco.train('wn', 'SELECT customer_id AS user_id, product_id AS item_id FROM purchases',
                                     factors => 2, iterations => 1);
SELECT reco.drop_model('wn') AS dropped, reco.drop_model('opt') AS dropped_opt, reco.drop_model('fb') AS dropped_fb,
       reco.drop_model('pop') AS dropped_pop;
DROP VIEW rated;
RESET reco.progress;
