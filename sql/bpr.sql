-- bpr: Bayesian Personalized Ranking models (algorithm => 'bpr'): training on the shop,
-- the stored vectors (user [x_u, 1], item [y_i, b_i]: k + 1 long), deterministic serving
-- at any thread count, what refuses a BPR model, and the options that do not apply.
\set VERBOSITY terse
SET extra_float_digits = 0;
SET reco.progress = 'none';
-- 200 epochs at k 4 on the tiny shop (positives: every purchase).
SELECT algorithm, factors, params->'factors' AS k, params->'learning_rate' AS learning_rate,
       params->'regularization' AS regularization, params->'iterations' AS iterations, n_users, n_items, n_interactions,
       cardinality(loss) AS epochs,
       (SELECT avg(l) FROM unnest(loss[171:200]) AS l) < (SELECT avg(l) FROM unnest(loss[1:30]) AS l) AS loss_fell,
       params ? 'alpha' AS has_alpha, params ? 'cg_steps' AS has_cg_steps
  FROM (SELECT (reco.fit('shop_bpr', customer_id, product_id, quantity,
                         '{"algorithm": "bpr", "factors": 4, "iterations": 200, "learning_rate": 0.05, "threads": 1}')).*
          FROM purchases) AS m;
-- the defaults of bpr (learning_rate, regularization, iterations) are recorded
SELECT params->'learning_rate' AS learning_rate, params->'regularization' AS regularization,
       params->'iterations' AS iterations, factors, cardinality(loss) AS epochs
  FROM (SELECT (reco.fit('shop_bpr_defaults', customer_id, product_id, quantity,
                         '{"algorithm": "bpr", "factors": 4}')).* FROM purchases) AS m;
-- stored lengths: k + 1 floats; every user's last column is 1
SELECT count(*) AS users, min(cardinality(reco.to_array(u.factors))) AS min_len,
       max(cardinality(reco.to_array(u.factors))) AS max_len,
       bool_and((reco.to_array(u.factors))[5] = 1) AS last_is_one
  FROM reco.user_factors AS u JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop_bpr';
SELECT count(*) AS items, min(cardinality(reco.to_array(i.factors))) AS min_len,
       max(cardinality(reco.to_array(i.factors))) AS max_len
  FROM reco.item_factors AS i JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop_bpr';
-- recommend scores are user · item over the k + 1 columns (x_u·y_i + b_i)
SELECT r.item_id, abs(r.score - (SELECT sum(a * b) FROM unnest(reco.to_array(u.factors), reco.to_array(i.factors)) AS t(a, b))) < 1e-5 AS score_is_dot
  FROM reco.recommend('shop_bpr', 1, 5) AS r
  JOIN reco.models AS m ON m.name = 'shop_bpr'
  JOIN reco.user_factors AS u ON u.model_id = m.model_id AND u.user_id = 1
  JOIN reco.item_factors AS i ON i.model_id = m.model_id AND i.item_id = r.item_id
 ORDER BY r.item_id;
-- the same seed at 2 threads stores bit-identical vectors (a second version)
CREATE TEMP TABLE bpr_v1 AS
SELECT u.user_id AS id, u.factors FROM reco.user_factors AS u JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop_bpr'
UNION ALL
SELECT -i.item_id, i.factors FROM reco.item_factors AS i JOIN reco.models AS m USING (model_id) WHERE m.name = 'shop_bpr';
CREATE TEMP TABLE bpr_rec1 AS SELECT c AS customer_id, r.* FROM generate_series(1, 6) AS c, reco.recommend('shop_bpr', c, 3) AS r;
SELECT version FROM (SELECT (reco.fit('shop_bpr', customer_id, product_id, quantity,
                         '{"algorithm": "bpr", "factors": 4, "iterations": 200, "learning_rate": 0.05, "threads": 2}')).*
          FROM purchases) AS m;
SELECT count(*) AS vectors, count(*) FILTER (WHERE v.factors IS DISTINCT FROM w.factors) AS differ
  FROM bpr_v1 AS v FULL JOIN (
       SELECT u.user_id AS id, u.factors FROM reco.user_factors AS u JOIN reco.models AS m USING (model_id)
        WHERE m.name = 'shop_bpr' AND m.version = 2
       UNION ALL
       SELECT -i.item_id, i.factors FROM reco.item_factors AS i JOIN reco.models AS m USING (model_id)
        WHERE m.name = 'shop_bpr' AND m.version = 2) AS w USING (id);
SELECT count(*) AS differ FROM (
       (TABLE bpr_rec1 EXCEPT SELECT c, r.* FROM generate_series(1, 6) AS c, reco.recommend('shop_bpr', c, 3) AS r)
       UNION ALL
       (SELECT c, r.* FROM generate_series(1, 6) AS c, reco.recommend('shop_bpr', c, 3) AS r EXCEPT TABLE bpr_rec1)) AS d;
SELECT count(*) AS recommendations FROM bpr_rec1;
-- serving by dot product works: recommend_all, similar_items, evaluate
SELECT count(*) AS rows, count(DISTINCT user_id) AS users FROM reco.recommend_all('shop_bpr', 2);
SELECT count(*) AS similar FROM reco.similar_items('shop_bpr', 101, 3);
SELECT users_evaluated, auc BETWEEN 0 AND 1 AS auc_in_range
  FROM reco.evaluate('shop_bpr', 'SELECT customer_id AS user_id, product_id AS item_id FROM purchases');
-- what folds users in with the implicit system refuses a BPR model (0A000)
SELECT outcome($$SELECT * FROM reco.explain('shop_bpr', 1, 104)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('shop_bpr', '{101, 102}')$$);
SELECT outcome($$SELECT * FROM reco.explore('shop_bpr', 1)$$);
-- options that do not apply to bpr, and a bad learning rate (22023)
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "alpha": 2}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "solver": "cholesky"}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "unobserved_weight": 2}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "reg_exponent": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "learning_rate": 0}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "learning_rate": -0.1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"learning_rate": 0.1}') FROM purchases$$);
-- a step that diverges is an error (22P01), nothing is stored
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "learning_rate": 1000, "regularization": 0}') FROM purchases$$);
SELECT count(*) AS none FROM reco.models WHERE name = 'x';
-- the stored length k + 1 must fit reco.models.factors (at most 1024): k at most 1023 (22023)
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "bpr", "factors": 1024, "iterations": 1}') FROM purchases$$);
SELECT reco.drop_model('shop_bpr'), reco.drop_model('shop_bpr_defaults');
-- cancel: a long BPR training stops at statement_timeout (57014; it polls between mini-batches)
SET statement_timeout = '300ms';
SELECT reco.fit('long_bpr', u, (u * 7 + i) % 2000, 1, '{"algorithm": "bpr", "factors": 32, "iterations": 1000}')
  FROM generate_series(1, 2000) AS u, generate_series(1, 20) AS i;
RESET statement_timeout;
SELECT count(*) AS none FROM reco.models WHERE name = 'long_bpr';
