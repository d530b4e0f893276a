-- explicit: star ratings (algorithm 'als', reco 0.6.0).  rating ≈ μ + b_u +
-- b_i + x_u·y_i fitted by ALS-WR on the observed ratings only; stored as
-- user [x_u, b_u, 1, 1] and item [y_i, 1, b_i, μ] (factors = k + 3), so
-- recommend ranks by predicted rating; reco.predict with its fallbacks
-- (unknown user μ + b_i, unknown item μ + b_u, both μ), reco.evaluate_ratings,
-- duplicates averaged, and every refusal's SQLSTATE.
\set VERBOSITY terse
SET extra_float_digits = 0;
SET reco.progress = 'none';

-- A rank-1 matrix with biases, 12 users x 9 items, a third of the cells left out:
-- r = 3 + 0.1 (u mod 3) - 0.2 (i mod 2) + (0.5 + 0.1 u)(1 - 0.15 i).
CREATE TABLE stars (user_id bigint, item_id bigint, rating real);
INSERT INTO stars
SELECT u, i, 3 + 0.1 * (u % 3) - 0.2 * (i % 2) + (0.5 + 0.1 * u) * (1 - 0.15 * i)
  FROM generate_series(1, 12) u, generate_series(1, 9) i WHERE (u + 2 * i) % 3 <> 0;
SELECT (f).version, (f).algorithm, (f).n_users, (f).n_items, (f).n_interactions, (f).factors,
       array_length((f).loss, 1) AS iterations, (f).loss[100] < 1e-4 AS training_rmse_near_0
  FROM (SELECT reco.fit('x_rank1', user_id, item_id, rating,
                        '{"algorithm": "als", "factors": 2, "regularization": 1e-6, "iterations": 100, "threads": 2}') AS f
          FROM stars) t;
-- the loss is the training RMSE: it falls
SELECT loss[1] > loss[10] AND loss[10] > loss[100] AS rmse_falls FROM reco.models WHERE name = 'x_rank1';
-- params.factors is k, models.factors the stored length k + 3; μ is in the stats
SELECT params -> 'factors' AS k, factors AS stored,
       abs((stats ->> 'global_mean')::float8 - (SELECT avg(rating) FROM stars)) < 1e-6 AS global_mean_is_mean
  FROM reco.models WHERE name = 'x_rank1';
-- user [x, b_u, 1, 1], item [y, 1, b_i, μ]
SELECT bool_and(v[4] = 1 AND v[5] = 1) AS users_end_in_1_1
  FROM (SELECT reco.to_array(f.factors) v FROM reco.user_factors f JOIN reco.models m USING (model_id)
         WHERE m.name = 'x_rank1') t;
SELECT bool_and(v[3] = 1) AS items_have_1, count(DISTINCT v[5]) AS distinct_mu,
       abs(min(v[5]) - (SELECT avg(rating) FROM stars)) < 1e-6 AS last_is_mu
  FROM (SELECT reco.to_array(f.factors) v FROM reco.item_factors f JOIN reco.models m USING (model_id)
         WHERE m.name = 'x_rank1') t;
-- every training rating is recovered
SELECT max(abs(reco.predict('x_rank1', user_id, item_id) - rating)) < 1e-3 AS recovered FROM stars;
SELECT rmse < 1e-4 AS rmse_near_0, mae < 1e-4 AS mae_near_0, rows_scored, fallback_rows, rows_skipped
  FROM reco.evaluate_ratings('x_rank1', 'stars');
-- recommend ranks by predicted rating: its scores are reco.predict's, bit for bit
SELECT bool_and(r.score = reco.predict('x_rank1', 5, r.item_id)) AS scores_are_predictions,
       count(*) AS items
  FROM reco.recommend('x_rank1', 5, 9, exclude_seen => false) r;
SELECT array_agg(item_id ORDER BY score DESC, item_id) = (
         SELECT array_agg(i ORDER BY reco.predict('x_rank1', 5, i) DESC, i) FROM generate_series(1::bigint, 9) i)
       AS same_order
  FROM reco.recommend('x_rank1', 5, 9, exclude_seen => false);
-- the same on 1 and on 2 threads, bit for bit
SELECT (reco.fit('x_rank1b', user_id, item_id, rating,
       '{"algorithm": "als", "factors": 2, "regularization": 1e-6, "iterations": 100, "threads": 1}')).version FROM stars;
SELECT count(*) AS differing_users
  FROM reco.user_factors a JOIN reco.models ma ON ma.model_id = a.model_id AND ma.name = 'x_rank1'
  JOIN reco.user_factors b ON b.user_id = a.user_id
  JOIN reco.models mb ON mb.model_id = b.model_id AND mb.name = 'x_rank1b'
 WHERE a.factors <> b.factors;

-- A hand-made explicit model (k = 2, μ = 3): user 1 has b_u = -1 and x = [2, 0], item 10
-- b_i = 0.5 and y = [0, 4], item 20 b_i = -0.25 and y = [1, 1]: x·y = 0 for (1, 10),
-- so the prediction is the biases alone, 3 - 1 + 0.5 = 2.5; (1, 20) is 3 - 1 - 0.25 + 2.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('x_hand', 1, 'als', '{"factors": 2}', 1, 2, 2, 5, '{}', 0) RETURNING model_id AS hand_id \gset
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
VALUES (:hand_id, 10, reco.to_bytea('{0, 4, 1, 0.5, 3}'), 1),
       (:hand_id, 20, reco.to_bytea('{1, 1, 1, -0.25, 3}'), 1);
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
VALUES (:hand_id, 1, reco.to_bytea('{2, 0, -1, 1, 1}'), '{10, 20}', '{2, 4}');
SELECT reco.predict('x_hand', 1, 10) AS biases_alone, reco.predict('x_hand', 1, 20) AS with_factors;
-- fallbacks: unknown item μ + b_u = 2, unknown user μ + b_i = 3.5 and 2.75, both μ = 3
SELECT reco.predict('x_hand', 1, 99) AS unknown_item, reco.predict('x_hand', 99, 10) AS unknown_user_10,
       reco.predict('x_hand', 99, 20) AS unknown_user_20, reco.predict('x_hand', 99, 98) AS both_unknown;
-- a NULL id: NULL
SELECT reco.predict('x_hand', NULL::bigint, 10) IS NULL AS null_user, reco.predict('x_hand', 1, NULL::bigint) IS NULL AS null_item;
-- a single prediction loads its one user (as reco.recommend does), not the whole user matrix:
-- only the item side is cached (a user matrix larger than reco.cache_size was reloaded per call)
SELECT reco.cache_reset() >= 0 AS reset;
SELECT reco.predict('x_hand', 1, 20) AS with_factors_one_user, reco.predict('x_hand', 99, 20) AS unknown_user_20;
SELECT side FROM reco.cache_info() WHERE model_id = :hand_id ORDER BY side;
-- the set form: one row per position, in array order, NULL ids kept with a NULL rating
SELECT * FROM reco.predict('x_hand', ARRAY[1, 1, 99, NULL, 1], ARRAY[10, 20, 10, 10, 99]);
SELECT * FROM reco.predict('x_hand', '{}'::bigint[], '{}'::bigint[]);
-- text forms on a bigint model read the ids as bigints
SELECT reco.predict('x_hand', '1', '10') AS text_ids;
SELECT * FROM reco.predict('x_hand', ARRAY['1', '99'], ARRAY['20', '20']);
SELECT outcome($$SELECT reco.predict('x_hand', 'one', '10')$$);
-- evaluate_ratings: errors 1 (pred 2.5) and 0.25 (pred 3.5 by fallback); the NULL row is skipped
CREATE TABLE hand_test (uid bigint, iid bigint, stars real);
INSERT INTO hand_test VALUES (1, 10, 3.5), (99, 10, 3.25), (1, NULL, 4);
SELECT rmse, mae, rows_scored, fallback_rows, rows_skipped
  FROM reco.evaluate_ratings('x_hand', 'hand_test', 'uid', 'iid', 'stars');
SELECT rmse, rows_scored FROM reco.evaluate_ratings('x_hand', 'SELECT uid AS user_id, iid AS item_id, stars AS rating FROM hand_test WHERE iid = 10');

-- Duplicates are averaged (a rating given twice is one rating of their mean), a rating of 0 is a
-- rating, and every user with a rating is stored.
CREATE TABLE dup (user_id bigint, item_id bigint, rating real);
INSERT INTO dup VALUES (1, 1, 2), (1, 1, 4), (1, 2, 5), (2, 1, 0), (2, 2, 1), (3, 2, -1);
SELECT (f).n_users, (f).n_items, (f).n_interactions, (f).stats -> 'duplicates_merged' AS merged,
       (f).stats -> 'pairs_net_zero' AS net_zero, (f).stats -> 'global_mean' AS mu
  FROM (SELECT reco.fit('x_dup', user_id, item_id, rating,
                        '{"algorithm": "als", "factors": 1, "regularization": 0.1, "iterations": 2}') AS f FROM dup) t;
SELECT user_id, seen_items, seen_weights FROM reco.user_factors JOIN reco.models USING (model_id)
 WHERE name = 'x_dup' ORDER BY user_id;

-- Text and uuid ids.
CREATE TABLE tstars AS SELECT 'u' || user_id AS u, 'i' || item_id AS i, rating FROM stars;
SELECT n_users, factors FROM reco.train('x_tm', 'tstars', 'u', 'i', 'rating', algorithm => 'als', factors => 2,
                                        regularization => 1e-6, iterations => 50) t;
-- (5, 1) is a training rating: both models recover it
SELECT abs(reco.predict('x_tm', 'u5', 'i1') - reco.predict('x_rank1', 5, 1)) < 1e-3 AS same_as_bigint,
       reco.predict('x_tm', 'nobody', 'i2') = (SELECT (reco.to_array(f.factors))[4] + (reco.to_array(f.factors))[5]
                                               FROM reco.item_factors f JOIN reco.models USING (model_id)
                                              WHERE name = 'x_tm' AND item_key = 'i2') AS fallback_from_item;
SELECT user_id, item_id, rating IS NOT NULL AS rated FROM reco.predict('x_tm', ARRAY['u1', 'zz'], ARRAY['i2', 'i2']);
SELECT outcome($$SELECT * FROM reco.predict('x_tm', ARRAY[1], ARRAY[2])$$);
SELECT rows_scored, fallback_rows, rmse < 1e-3 AS fits FROM reco.evaluate_ratings('x_tm', 'tstars', 'u', 'i');
CREATE TABLE ustars AS SELECT ('00000000-0000-0000-0000-0000000000' || lpad(user_id::text, 2, '0'))::uuid AS u,
                              ('00000000-0000-0000-0000-0000000001' || lpad(item_id::text, 2, '0'))::uuid AS i, rating
                         FROM stars;
SELECT (reco.fit('x_um', u::text, i::text, rating,
       '{"algorithm": "als", "factors": 2, "regularization": 1e-6, "iterations": 50, "user_id_type": "uuid", "item_id_type": "uuid"}')).n_users
  FROM ustars;
SELECT abs(reco.predict('x_um', '00000000-0000-0000-0000-000000000005'::uuid, '00000000-0000-0000-0000-000000000101'::uuid)
           - reco.predict('x_rank1', 5, 1)) < 1e-3 AS uuid_ids,
       reco.predict('x_um', '00000000-0000-0000-0000-000000000005', '00000000-0000-0000-0000-000000000101')
         = reco.predict('x_um', '00000000-0000-0000-0000-000000000005'::uuid, '00000000-0000-0000-0000-000000000101'::uuid)
         AS text_form_reads_uuids;

-- Refusals.
SELECT (reco.fit('x_imp', customer_id, product_id, quantity, '{"factors": 2, "iterations": 2}')).algorithm FROM purchases;
SELECT outcome($$SELECT reco.predict('x_imp', 1, 101)$$);
SELECT outcome($$SELECT * FROM reco.predict('x_imp', ARRAY[1], ARRAY[101])$$);
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_imp', 'SELECT customer_id AS user_id, product_id AS item_id, quantity AS rating FROM purchases')$$);
SELECT outcome($$SELECT reco.predict('x_nope', 1, 1)$$);
SELECT outcome($$SELECT reco.predict(NULL, 1, 1)$$);
SELECT outcome($$SELECT * FROM reco.predict('x_hand', ARRAY[1, 2], ARRAY[10])$$);
SELECT outcome($$SELECT * FROM reco.predict('x_hand', NULL::bigint[], ARRAY[10])$$);
SELECT outcome($$SELECT * FROM reco.predict('x_hand', ARRAY[[1]], ARRAY[[10]])$$);
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_hand', 'SELECT * FROM hand_test WHERE false', 'uid', 'iid', 'stars')$$);
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_hand', 'hand_test')$$);
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_hand', 'no_such_table')$$);
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_hand', NULL)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_ratings('x_hand', ARRAY['1'], ARRAY['10', '20'], ARRAY[1]::real[])$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_ratings('x_hand', ARRAY['1'], ARRAY[NULL], ARRAY[1]::real[])$$);
-- a NaN or infinite rating is refused (it made the RMSE NaN or infinite)
SELECT outcome($$SELECT * FROM reco.evaluate_ratings('x_hand', 'SELECT 1 AS uid, 10 AS iid, ''NaN''::real AS stars', 'uid', 'iid', 'stars')$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_ratings('x_hand', ARRAY['1', '2'], ARRAY['10', '20'], ARRAY[3, '-Infinity']::real[])$$);
-- what folds users in with the implicit system refuses an explicit model
SELECT outcome($$SELECT * FROM reco.explain('x_rank1', 1, 2)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('x_rank1', ARRAY[1, 2])$$);
SELECT outcome($$SELECT * FROM reco.refresh_users('x_rank1', ARRAY[1], 'stars')$$);
SELECT outcome($$SELECT * FROM reco.refresh_items('x_rank1', ARRAY[1], 'stars')$$);
SELECT outcome($$SELECT * FROM reco.explore('x_rank1', 1)$$);
-- training refusals: more factors than the stored vectors allow, an event time
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "factors": 1022}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, now(), '{"algorithm": "als", "half_life": "1 day"}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "regularization": 0, "factors": 4}') FROM stars$$);
-- options that do not apply to explicit ratings (22023); reg_exponent does
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "alpha": 2}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "cg_steps": 2}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "solver": "cholesky"}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "unobserved_weight": 2}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "learning_rate": 0.1}') FROM stars$$);
SELECT outcome($$SELECT reco.fit('x_bad', user_id, item_id, rating, '{"algorithm": "als", "reg_exponent": -1}') FROM stars$$);
SELECT count(*) AS bad_models FROM reco.models WHERE name = 'x_bad';
-- the defaults of algorithm als (params records them); reg_exponent 0: a constant lambda
SELECT params - 'source' - 'user_col' - 'item_col' - 'weight_col' AS params, factors
  FROM reco.train('x_defaults', 'stars', weight_col => 'rating', algorithm => 'als');
SELECT (params ->> 'reg_exponent')::real AS reg_exponent, loss[3] < loss[1] AS learns
  FROM reco.train('x_defaults', 'stars', weight_col => 'rating', algorithm => 'als', reg_exponent => 0,
                  regularization => 0.5, iterations => 3);

-- leave no model behind for the tests that follow
SELECT n, reco.drop_model(n) AS versions_dropped
  FROM unnest(ARRAY(SELECT DISTINCT name FROM reco.models WHERE name LIKE 'x\_%' ORDER BY 1)) n;
