-- weights: what zero, net-zero and negative weights do to training, to the
-- stored users and to exclude_seen; and the reco.progress setting.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse

CREATE TEMP VIEW w_opts(o) AS
  SELECT '{"factors": 4, "iterations": 5, "solver": "cholesky", "regularization": 0.1, "seed": 7}'::jsonb;

-- the reference: the tiny shop as it is
SELECT version FROM (SELECT reco.fit('w_base', customer_id, product_id, quantity, (SELECT o FROM w_opts)) AS m
                       FROM purchases) s, LATERAL (SELECT (s.m).*) r;

-- customer 1 bought 104 twice and returned both (net 0); customer 7's only
-- row has weight 0: both as if they never happened
CREATE TEMP TABLE w_zero AS
  SELECT * FROM purchases
  UNION ALL VALUES (1, 104, 2), (1, 104, -1), (1, 104, -1), (7, 101, 0);
SELECT n_users, n_items, n_interactions
  FROM (SELECT reco.fit('w_zero', customer_id, product_id, quantity, (SELECT o FROM w_opts)) AS m
          FROM w_zero) s, LATERAL (SELECT (s.m).*) r;
SELECT stats->'rows_read' AS rows_read, stats->'duplicates_merged' AS merged,
       stats->'pairs_net_zero' AS net_zero, stats->'users' AS users,
       stats->'users_without_positive' AS without_positive, stats->'items' AS items
  FROM reco.models WHERE name = 'w_zero';
-- the factors are bit-identical to the reference's
SELECT count(*) AS users, bool_and(z.factors = b.factors AND z.seen_items = b.seen_items
                                   AND z.seen_weights = b.seen_weights) AS identical
  FROM reco.user_factors z JOIN reco.user_factors b USING (user_id)
 WHERE z.model_id = (SELECT model_id FROM reco.models WHERE name = 'w_zero')
   AND b.model_id = (SELECT model_id FROM reco.models WHERE name = 'w_base');
SELECT count(*) AS items, bool_and(z.factors = b.factors AND z.popularity = b.popularity) AS identical
  FROM reco.item_factors z JOIN reco.item_factors b USING (item_id)
 WHERE z.model_id = (SELECT model_id FROM reco.models WHERE name = 'w_zero')
   AND b.model_id = (SELECT model_id FROM reco.models WHERE name = 'w_base');
-- the returned item is not "seen": customer 1 gets it recommended again
SELECT seen_items FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'w_zero') AND user_id = 1;
SELECT item_id, round(score::numeric, 3) AS score FROM reco.recommend('w_zero', 1, 10) ORDER BY score DESC, item_id;
-- the weight-0-only customer is unknown: no rows of the model (best-sellers by default)
SELECT count(*) AS rows FROM reco.recommend('w_zero', 7, 5, fallback => 'none');
SELECT count(*) AS rows FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'w_zero') AND user_id = 7;

-- customer 1 disliked 105 (net -5: confidence 5 for preference 0, where an
-- unobserved pair has confidence 1); customer 8 has only a negative row
CREATE TEMP TABLE w_neg AS
  SELECT * FROM purchases UNION ALL VALUES (1, 105, -5), (8, 102, -1);
SELECT n_users, n_items, n_interactions
  FROM (SELECT reco.fit('w_neg', customer_id, product_id, quantity, (SELECT o FROM w_opts)) AS m
          FROM w_neg) s, LATERAL (SELECT (s.m).*) r;
SELECT stats->'pairs_net_zero' AS net_zero, stats->'users' AS users,
       stats->'users_without_positive' AS without_positive, stats->'items' AS items
  FROM reco.models WHERE name = 'w_neg';
-- stored with its weight, for fold-in and explain
SELECT user_id, seen_items, seen_weights FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'w_neg') AND user_id IN (1, 8)
 ORDER BY user_id;
-- popularity counts the users with a positive weight
SELECT item_id, popularity FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'w_neg') AND item_id IN (102, 105)
 ORDER BY item_id;
-- 105 is not excluded as seen, but scores lower than without the row
SELECT item_id, round(score::numeric, 3) AS score FROM reco.recommend('w_neg', 1, 10) ORDER BY score DESC, item_id;
SELECT n.score < b.score AS lowered
  FROM reco.recommend('w_neg', 1, 10, candidates => ARRAY[105]) n,
       reco.recommend('w_base', 1, 10, candidates => ARRAY[105]) b;
-- the negative-only customer is unknown to serving
SELECT count(*) AS rows FROM reco.recommend('w_neg', 8, 5, fallback => 'none');
-- recommend_all excludes only the positive items too
SELECT rank, item_id FROM reco.recommend_all('w_neg', 10, ARRAY[1::bigint]) ORDER BY rank;
-- the fold-in of customer 1's stored row reproduces recommend exactly
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM reco.recommend('w_neg', 1, 10))
     = (SELECT array_agg(item_id ORDER BY score DESC, item_id)
          FROM reco.recommend_for_items('w_neg', ARRAY[101, 102, 103, 105]::bigint[], ARRAY[1, 2, 1, -5]::real[], 10))
       AS same_items,
       (SELECT max(abs(r.score - f.score))
          FROM reco.recommend('w_neg', 1, 10) r
          JOIN reco.recommend_for_items('w_neg', ARRAY[101, 102, 103, 105]::bigint[], ARRAY[1, 2, 1, -5]::real[], 10) f
         USING (item_id)) < 1e-5 AS same_scores;
-- explain: the contributions of all 4 training items (105 negative) sum to the score
SELECT item_id, round(contribution::numeric, 3) AS contribution FROM reco.explain('w_neg', 1, 104, 10)
 ORDER BY contribution DESC, item_id;
SELECT abs((SELECT sum(contribution) FROM reco.explain('w_neg', 1, 104, 10))
           - (SELECT score FROM reco.recommend('w_neg', 1, 10, candidates => ARRAY[104]))) < 1e-4 AS explains_score;

-- evaluate does not count a negative training row as already seen
CREATE TEMP TABLE w_test(user_id bigint, item_id bigint);
INSERT INTO w_test VALUES (1, 105);
SELECT recall_at_k, users_evaluated FROM reco.evaluate('w_neg', 'w_test', 8);

-- nothing positive: an error
\set VERBOSITY sqlstate
SELECT reco.fit('w_none', u, i, w) FROM (VALUES (1, 101, 1), (1, 101, -1), (2, 102, -1)) v(u, i, w);
\set VERBOSITY terse
SELECT reco.fit('w_none', u, i, w) FROM (VALUES (1, 101, 1), (1, 101, -1), (2, 102, -1)) v(u, i, w);

-- reco.progress: the default is one summary NOTICE per model (timings in its DETAIL)
SET client_min_messages = notice;
SHOW reco.progress;
SELECT version FROM (SELECT reco.fit('w_progress', customer_id, product_id, quantity, (SELECT o FROM w_opts)) AS m
                       FROM purchases) s, LATERAL (SELECT (s.m).*) r;
SET reco.progress = iterations;
SELECT version FROM (SELECT reco.fit('w_progress', customer_id, product_id, quantity,
                                     (SELECT o || '{"iterations": 2}' FROM w_opts)) AS m
                       FROM purchases) s, LATERAL (SELECT (s.m).*) r;
SET reco.progress = none;
SELECT version FROM (SELECT reco.fit('w_progress', customer_id, product_id, quantity, (SELECT o FROM w_opts)) AS m
                       FROM purchases) s, LATERAL (SELECT (s.m).*) r;
-- GROUP BY: one line per model
SET reco.progress = summary;
SELECT name, version FROM (SELECT reco.fit('w_group_' || (customer_id % 2), customer_id, product_id, quantity,
                                           (SELECT o FROM w_opts)) AS m
                             FROM purchases GROUP BY customer_id % 2) s, LATERAL (SELECT (s.m).*) r
 ORDER BY name;
\set VERBOSITY sqlstate
SET reco.progress = loud;
\set VERBOSITY terse
SET reco.progress = loud;
RESET reco.progress;
SET client_min_messages = warning;
SELECT count(*) AS dropped FROM (SELECT reco.drop_model(name) FROM reco.models
                                  WHERE name LIKE 'w\_%' GROUP BY name) d;
