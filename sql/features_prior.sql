-- features_prior: option feature_mapping (issue 14): 'ridge' fits the item
-- mapping once on the trained factors; 'prior' (ials; the default there) pulls
-- each item with features toward the mapping of its features in every item
-- step and refits the mapping after each.  Params, the planted clusters,
-- the warm items closer to their mapping than with the ridge, every bad
-- option's SQLSTATE.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- A planted shop: 60 users, 30 items in 3 clusters (id mod 3); a user clicks
-- most items of its cluster; items 25..30 have no clicks (cold); every item
-- has its cluster as a feature, every user a segment.
CREATE TABLE fp_clicks (user_id bigint, item_id bigint);
INSERT INTO fp_clicks
SELECT u, i FROM generate_series(1, 60) AS u CROSS JOIN generate_series(1, 24) AS i
 WHERE (u - i) % 3 = 0 AND (u + 2 * i) % 5 <> 0;
CREATE TABLE fp_item_cluster (item_id bigint, feature text);
INSERT INTO fp_item_cluster SELECT i, 'cluster:' || (i % 3) FROM generate_series(1, 30) AS i;
CREATE TABLE fp_user_segment (user_id bigint, feature text);
INSERT INTO fp_user_segment SELECT u, 'segment:' || (u % 3) FROM generate_series(1, 60) AS u;

-- The newest version's item factors and its item mapping of each item (intercept + its cluster's weights).
CREATE FUNCTION fp_items(model text) RETURNS TABLE(item_id bigint, v real[], mapped real[], placed boolean)
LANGUAGE sql AS $$
    WITH m AS (SELECT model_id FROM reco.models WHERE name = model ORDER BY version DESC LIMIT 1),
         w AS (SELECT feature, reco.to_array(weights) AS w FROM reco.feature_weights
                WHERE model_id = (SELECT model_id FROM m) AND side = 'item')
    SELECT i.item_id, reco.to_array(i.factors),
           (SELECT array_agg(b.x + c.x ORDER BY b.o)
              FROM unnest((SELECT w FROM w WHERE feature = '')) WITH ORDINALITY AS b(x, o)
              JOIN unnest((SELECT w FROM w WHERE feature = 'cluster:' || (i.item_id % 3))) WITH ORDINALITY AS c(x, o) USING (o)),
           i.features IS NOT NULL
      FROM reco.item_factors AS i WHERE i.model_id = (SELECT model_id FROM m)
$$;
-- Squared distance of two vectors.
CREATE FUNCTION fp_dist2(a real[], b real[]) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT sum((x::float8 - y) ^ 2) FROM unnest(a, b) AS t(x, y)
$$;

-- The same training with the ridge mapping and with the prior
SELECT name, n_items, params->'feature_mapping' AS feature_mapping, params->'feature_regularization' AS feature_regularization
  FROM reco.train('fp_ridge', 'fp_clicks', factors => 4, iterations => 10, regularization => 1, solver => 'cholesky',
                  item_features => ARRAY['fp_item_cluster'], feature_regularization => 1, feature_mapping => 'ridge');
SELECT name, n_items, params->'feature_mapping' AS feature_mapping, params->'feature_regularization' AS feature_regularization
  FROM reco.train('fp_prior', 'fp_clicks', factors => 4, iterations => 10, regularization => 1, solver => 'cholesky',
                  item_features => ARRAY['fp_item_cluster'], feature_regularization => 1, feature_mapping => 'prior');
-- the default for ials with item features is the prior (the options form, CG); a model
-- without features records no feature_mapping
SELECT params->'feature_mapping' AS feature_mapping, params->>'solver' AS solver
  FROM reco.train('fp_prior_cg', 'fp_clicks', options => '{"factors": 4, "iterations": 10, "regularization": 1,
                  "item_features": "fp_item_cluster"}');
SELECT params ? 'feature_mapping' AS recorded FROM reco.train('fp_plain', 'fp_clicks', factors => 4, iterations => 2);
-- 'ridge' applies to any algorithm, and is the default of bpr, als and user features alone
SELECT algorithm, params->'feature_mapping' AS feature_mapping
  FROM reco.train('fp_bpr', 'fp_clicks', algorithm => 'bpr', factors => 3, iterations => 3,
                  item_features => ARRAY['fp_item_cluster'], feature_mapping => 'ridge');
SELECT algorithm, params->'feature_mapping' AS feature_mapping
  FROM reco.train('fp_bpr', 'fp_clicks', algorithm => 'bpr', factors => 3, iterations => 3,
                  item_features => ARRAY['fp_item_cluster']);
SELECT algorithm, params->'feature_mapping' AS feature_mapping
  FROM reco.train('fp_als', 'fp_clicks', algorithm => 'als', factors => 3, iterations => 3,
                  item_features => ARRAY['fp_item_cluster']);
SELECT algorithm, params->'feature_mapping' AS feature_mapping
  FROM reco.train('fp_users', 'fp_clicks', factors => 3, iterations => 3, user_features => ARRAY['fp_user_segment']);

-- The same mapping rows and placed items with either mapping
SELECT (SELECT array_agg(feature ORDER BY feature) FROM reco.feature_weights
         WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'fp_prior')) AS prior_rows,
       (SELECT count(*) FROM fp_items('fp_prior') WHERE placed) AS prior_placed,
       (SELECT count(*) FROM fp_items('fp_ridge') WHERE placed) AS ridge_placed;
-- The prior trains different warm item factors, closer to the mapping of their features: the
-- relative residual Σ|y - m|² / Σ|y|² of the warm items is less than half the ridge's
-- (the prior lets the factors grow: it pulls them toward m, not toward 0)
SELECT p.n AS warm_items, p.d < r.d AS prior_closer_to_mapping, p.d < 0.5 * r.d AS at_least_twice_closer
  FROM (SELECT count(*) AS n, sum(fp_dist2(v, mapped)) / sum(fp_dist2(v, array_fill(0::real, ARRAY[4]))) AS d
          FROM fp_items('fp_prior') WHERE NOT placed) AS p,
       (SELECT sum(fp_dist2(v, mapped)) / sum(fp_dist2(v, array_fill(0::real, ARRAY[4]))) AS d
          FROM fp_items('fp_ridge') WHERE NOT placed) AS r;
-- Cold items are placed exactly at the stored mapping (the last refit)
SELECT bool_and(fp_dist2(v, mapped) < 1e-10) AS placed_on_mapping, count(*) AS placed
  FROM fp_items('fp_prior') WHERE placed;
-- The planted clusters: each cold item's 5 nearest warm items (cosine) are of its cluster, both solvers
SELECT model, bool_and(other % 3 = cold % 3) AS recovers_the_clusters
  FROM (SELECT m AS model, a.item_id AS cold, b.item_id AS other,
               row_number() OVER (PARTITION BY m, a.item_id
                                  ORDER BY (SELECT sum(x::float8 * y) FROM unnest(a.v, b.v) AS t(x, y))
                                           / sqrt((SELECT sum(x::float8 * x) FROM unnest(b.v) AS x)) DESC, b.item_id) AS rank
          FROM unnest(ARRAY['fp_prior', 'fp_prior_cg']) AS m, fp_items(m) AS a, fp_items(m) AS b
         WHERE a.placed AND NOT b.placed) AS r
 WHERE rank <= 5 GROUP BY model ORDER BY model;
-- A user of cluster 1 gets the cold items of cluster 1 first among the cold ones
SELECT array_agg(item_id ORDER BY score DESC, item_id) AS cold_for_user_1
  FROM reco.recommend('fp_prior', 1, n => 2, candidates => ARRAY[25, 26, 27, 28, 29, 30]::bigint[]);
-- A trained user still equals the fold-in of its items (the final exact user pass is unchanged)
SELECT (SELECT array_agg(item_id ORDER BY item_id) FROM reco.recommend('fp_prior', 7, n => 5)) =
       (SELECT array_agg(item_id ORDER BY item_id)
          FROM reco.recommend_for_items('fp_prior', (SELECT array_agg(item_id) FROM fp_clicks WHERE user_id = 7), n => 5))
       AS trained_equals_fold_in;

-- Errors: an unknown word, 'prior' without ials, without item features, without any features
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', item_features => ARRAY['fp_item_cluster'], feature_mapping => 'lasso')$$);
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', algorithm => 'bpr', item_features => ARRAY['fp_item_cluster'], feature_mapping => 'prior')$$);
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', algorithm => 'als', item_features => ARRAY['fp_item_cluster'], feature_mapping => 'prior')$$);
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', user_features => ARRAY['fp_user_segment'], feature_mapping => 'prior')$$);
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', feature_mapping => 'prior')$$);
SELECT outcome($$SELECT reco.train('bad', 'fp_clicks', feature_mapping => 'ridge')$$);
SELECT count(*) AS bad_models FROM reco.models WHERE name = 'bad';

SELECT reco.drop_model(name) FROM (VALUES ('fp_ridge'), ('fp_prior'), ('fp_prior_cg'), ('fp_plain'), ('fp_bpr'), ('fp_als'), ('fp_users')) AS m(name) ORDER BY 1;
DROP FUNCTION fp_items(text);
DROP FUNCTION fp_dist2(real[], real[]);
DROP TABLE fp_clicks, fp_item_cluster, fp_user_segment;
