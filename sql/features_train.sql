-- features_train: training with item and user features (cold start, issue 14):
-- the ridge mapping stored in reco.feature_weights, cold entities placed and
-- flagged, a planted test, features without information, dense + sparse,
-- text ids, params and stats, every bad source's SQLSTATE, cleanup.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- A planted shop: 60 users and 30 items in 3 clusters (id mod 3); a user
-- buys most items of their own cluster and nothing else; items 25..30 have
-- no interactions (cold), users 61..66 neither.
CREATE TABLE ft_clicks AS
SELECT u AS user_id, i AS item_id
  FROM generate_series(1, 60) AS u, generate_series(1, 24) AS i
 WHERE u % 3 = i % 3 AND (u * 7 + i * 3) % 5 <> 0;
-- the sparse feature: the item's cluster (every item, warm and cold) and a
-- second, less telling one; item 25 gets its cluster twice (two sources: summed)
CREATE TABLE ft_item_cluster AS
SELECT i AS item_id, 'cluster:' || (i % 3) AS feature FROM generate_series(1, 30) AS i;
CREATE TABLE ft_item_extra (item_id bigint, feature text, value real);
INSERT INTO ft_item_extra SELECT i, 'size:' || (i % 2), 0.5 FROM generate_series(1, 30) AS i;
INSERT INTO ft_item_extra VALUES (25, 'cluster:1', 1);
CREATE TABLE ft_user_cluster AS
SELECT u AS user_id, 'segment:' || (u % 3) AS feature FROM generate_series(1, 66) AS u;

-- The newest version's factors of a model, as arrays.
CREATE FUNCTION ft_factors(model text, side text DEFAULT 'item')
RETURNS TABLE(id bigint, v real[], features jsonb) LANGUAGE sql AS $$
    SELECT item_id, reco.to_array(factors), features FROM reco.item_factors
     WHERE side = 'item' AND model_id = (SELECT model_id FROM reco.models WHERE name = model ORDER BY version DESC LIMIT 1)
    UNION ALL
    SELECT user_id, reco.to_array(factors), features FROM reco.user_factors
     WHERE side = 'user' AND model_id = (SELECT model_id FROM reco.models WHERE name = model ORDER BY version DESC LIMIT 1)
$$;
-- Cosine of two vectors.
CREATE FUNCTION ft_cosine(a real[], b real[]) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT sum(x::float8 * y) / sqrt((SELECT sum(x::float8 * x) FROM unnest(a) AS x) * (SELECT sum(y::float8 * y) FROM unnest(b) AS y))
      FROM unnest(a, b) AS t(x, y)
$$;

-- Training with item and user features (the long form)
SELECT name, version, n_users, n_items, params->'item_features' AS item_sources,
       params->'user_features' AS user_sources, params->'feature_regularization' AS feature_regularization
  FROM reco.train('planted', 'ft_clicks', factors => 4, iterations => 10, regularization => 0.1,
                  solver => 'cholesky', item_features => ARRAY['ft_item_cluster', 'ft_item_extra'],
                  user_features => ARRAY['ft_user_cluster'], feature_regularization => 1);
SELECT (stats->'item_features') - 'seconds' AS item_stats, (stats->'user_features') - 'seconds' AS user_stats,
       (stats->'item_features'->>'seconds')::float8 >= 0 AS timed
  FROM reco.models WHERE name = 'planted';

-- The mapping: the intercept, one row per sparse feature (k floats each)
SELECT side, feature, kind, octet_length(weights) / 4 AS floats
  FROM reco.feature_weights WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'planted')
 ORDER BY side, feature;

-- Cold items and users are placed and flagged: popularity 0, no seen items, their features
SELECT item_id, popularity, features FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'planted') AND features IS NOT NULL ORDER BY item_id;
SELECT count(*) FILTER (WHERE features IS NULL) AS learned, count(*) FILTER (WHERE features IS NOT NULL) AS placed
  FROM reco.item_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'planted');
SELECT user_id, seen_items, seen_weights, features FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'planted') AND features IS NOT NULL ORDER BY user_id;

-- A placed item's factors are the intercept plus its features' weights times their values
WITH w AS (SELECT feature, reco.to_array(weights) AS v FROM reco.feature_weights
            WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'planted') AND side = 'item'),
     placed AS (SELECT id, v, features FROM ft_factors('planted') WHERE features IS NOT NULL),
     computed AS (
       SELECT p.id, j, (SELECT v[j] FROM w WHERE feature = '')
                       + sum((SELECT w.v[j] FROM w WHERE w.feature = f.key) * f.value::text::float8) AS value
         FROM placed AS p, jsonb_each(p.features) AS f, generate_series(1, 4) AS j
        GROUP BY p.id, j)
SELECT max(abs(c.value - p.v[c.j])) < 1e-6 AS placed_by_the_mapping
  FROM computed AS c JOIN placed AS p ON p.id = c.id;

-- The planted test: each cold item's 5 nearest warm items (cosine) are all of its cluster
WITH f AS (SELECT id, v FROM ft_factors('planted')),
     ranked AS (SELECT a.id AS cold, b.id AS other,
                       row_number() OVER (PARTITION BY a.id ORDER BY ft_cosine(a.v, b.v) DESC, b.id) AS rank
                  FROM f AS a, f AS b WHERE a.id > 24 AND b.id <= 24)
SELECT cold, cold % 3 AS cluster, array_agg(other % 3 ORDER BY rank) AS neighbour_clusters
  FROM ranked WHERE rank <= 5 GROUP BY cold ORDER BY cold;
-- and each cold user's nearest warm users are of its segment
WITH f AS (SELECT id, v FROM ft_factors('planted', 'user')),
     ranked AS (SELECT a.id AS cold, b.id AS other,
                       row_number() OVER (PARTITION BY a.id ORDER BY ft_cosine(a.v, b.v) DESC, b.id) AS rank
                  FROM f AS a, f AS b WHERE a.id > 60 AND b.id <= 60)
SELECT cold, array_agg(other % 3 ORDER BY rank) AS neighbour_segments
  FROM ranked WHERE rank <= 5 GROUP BY cold ORDER BY cold;

-- Features that carry no information (the same on every item): the weights
-- are exactly 0 and every placed item sits exactly on the intercept, the warm items' mean
CREATE TABLE ft_same AS SELECT i AS item_id, 'shop:main' AS feature FROM generate_series(1, 30) AS i;
SELECT n_items FROM reco.train('same', 'ft_clicks', factors => 4, iterations => 5, regularization => 0.1,
                               item_features => ARRAY['ft_same']);
SELECT feature, kind, (SELECT bool_and(x = 0) FROM unnest(reco.to_array(weights)) AS x) AS all_zero
  FROM reco.feature_weights WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'same') ORDER BY feature;
WITH placed AS (SELECT v FROM ft_factors('same') WHERE features IS NOT NULL),
     warm_mean AS (SELECT array_agg(m ORDER BY j) AS v FROM (
         SELECT j, avg(v[j]::float8) AS m FROM ft_factors('same'), generate_series(1, 4) AS j
          WHERE features IS NULL GROUP BY j) AS s)
SELECT count(*) AS placed_items, count(DISTINCT v) AS distinct_vectors,
       bool_and(v = (SELECT reco.to_array(weights) FROM reco.feature_weights
                      WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'same') AND feature = '')) AS at_the_intercept,
       bool_and((SELECT max(abs(p - m)) FROM unnest(v, (SELECT v FROM warm_mean)) AS t(p, m)) < 1e-6) AS at_the_warm_mean
  FROM placed;
-- so the cold items tie: every user scores them equally
SELECT count(DISTINCT round(s::numeric, 5)) AS distinct_scores FROM (
    SELECT (SELECT sum(x * y) FROM unnest(u.v, i.v) AS t(x, y)) AS s
      FROM ft_factors('same', 'user') AS u, ft_factors('same') AS i WHERE i.features IS NOT NULL AND u.id = 1) AS s;

-- Dense embeddings combined with sparse features: the options form with a
-- string and an array, the dense source's weights d x k
CREATE TABLE ft_item_embedding AS
SELECT i AS item_id, ARRAY[(i % 3 = 0)::int, (i % 3 = 1)::int, (i % 3 = 2)::int, (i % 7) / 7.0]::real[] AS description_embedding
  FROM generate_series(1, 30) AS i;
SELECT n_items, params->'item_features' AS item_sources, (stats->'item_features') - 'seconds' AS item_stats
  FROM reco.train('combined', 'ft_clicks', options => '{"factors": 3, "iterations": 5, "regularization": 0.1,
                  "item_features": ["ft_item_extra", "ft_item_embedding"], "feature_regularization": 0.5}');
SELECT feature, kind, octet_length(weights) / 4 AS floats
  FROM reco.feature_weights WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'combined') ORDER BY feature;
SELECT item_id, features FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'combined') AND features IS NOT NULL ORDER BY item_id LIMIT 2;
WITH f AS (SELECT id, v FROM ft_factors('combined')),
     ranked AS (SELECT a.id AS cold, b.id AS other,
                       row_number() OVER (PARTITION BY a.id ORDER BY ft_cosine(a.v, b.v) DESC, b.id) AS rank
                  FROM f AS a, f AS b WHERE a.id > 24 AND b.id <= 24)
SELECT bool_and(other % 3 = cold % 3) AS embedding_recovers_the_clusters FROM ranked WHERE rank <= 5;
-- Two dense sources given out of name order: training sums them in name
-- order, as serving does, so placing a cold item again from its stored
-- features (reco.place_item) gives exactly the floats training placed it at
CREATE TABLE ft_item_zeta AS
SELECT item_id, ARRAY(SELECT e * (1 + item_id % 5) FROM unnest(description_embedding) AS e)::real[] AS zeta
  FROM ft_item_embedding;
SELECT n_items FROM reco.train('two_dense', 'ft_clicks', factors => 3, iterations => 5, regularization => 0.1,
       item_features => ARRAY['ft_item_zeta', 'ft_item_embedding'], feature_regularization => 0.5);
SELECT feature FROM reco.feature_weights
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'two_dense') ORDER BY feature;
SELECT count(*) AS placed, bool_and(reco.place_item('two_dense', item_id, features) = reco.to_array(factors)) AS placed_again_at_the_same_floats
  FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'two_dense') AND features IS NOT NULL;
-- Sparse features first seen out of name order: training sums a cold item's
-- features in name order too (x2 before x1 in the source; values that cancel
-- make another order visible), so place_item from its stored features agrees
CREATE TABLE ft_item_order (item_id bigint, feature text, value float8);
INSERT INTO ft_item_order SELECT i, 'x2', 1 FROM generate_series(1, 24) AS i WHERE i % 2 = 0;
INSERT INTO ft_item_order SELECT i, 'x1', 1 FROM generate_series(1, 24) AS i WHERE i % 2 = 0;
INSERT INTO ft_item_order SELECT i, 'cluster:' || (i % 3), 1 FROM generate_series(1, 24) AS i;
INSERT INTO ft_item_order VALUES (30, 'x2', -1e20), (30, 'x1', 1e20), (30, 'cluster:1', 1);
SELECT n_items FROM reco.train('name_order', 'ft_clicks', factors => 4, iterations => 5, solver => 'cholesky',
       item_features => ARRAY['ft_item_order'], feature_regularization => 1);
SELECT count(*) AS placed, bool_and(reco.place_item('name_order', item_id, features) = reco.to_array(factors)) AS placed_again_at_the_same_floats
  FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'name_order') AND features IS NOT NULL;
-- An embedding source without rows contributes nothing and has no mapping
-- row: the version still serves place_item
CREATE TABLE ft_item_no_embedding (item_id bigint, empty_embedding real[]);
SELECT n_items FROM reco.train('empty_dense', 'ft_clicks', factors => 2, iterations => 2,
       item_features => ARRAY['ft_item_cluster', 'ft_item_no_embedding'], feature_regularization => 1);
SELECT feature, kind FROM reco.feature_weights
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'empty_dense') ORDER BY feature;
SELECT array_length(reco.place_item('empty_dense', 31, '{"cluster:1": 1}'), 1) AS placed_factors;
SELECT reco.drop_model(name) FROM (VALUES ('name_order'), ('empty_dense')) AS m(name);
DROP TABLE ft_item_order, ft_item_no_embedding;
-- reco.fit's options take a single source as a string
SELECT n_items, params->'item_features' AS item_sources
  FROM (SELECT reco.fit('fit_features', user_id, item_id, 1, '{"factors": 2, "iterations": 2, "item_features": "ft_item_cluster"}') AS m
          FROM ft_clicks) AS s, LATERAL (SELECT (m).n_items, (m).params) AS r;

-- Any algorithm: the mapping is to the stored vectors (bpr: k + 1 floats with the item bias)
SELECT n_items, factors FROM reco.train('bpr_features', 'ft_clicks', algorithm => 'bpr', factors => 3, iterations => 5,
                                        item_features => ARRAY['ft_item_cluster']);
SELECT feature, octet_length(weights) / 4 AS floats FROM reco.feature_weights
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bpr_features') ORDER BY feature;

-- A text-id model: sources keyed by the item's key; a key the training does
-- not know gets a code after the trained ones
CREATE TABLE ft_text_clicks AS SELECT 'u' || user_id AS customer, 'sku-' || lpad(item_id::text, 2, '0') AS sku FROM ft_clicks;
CREATE TABLE ft_text_features AS
SELECT 'sku-' || lpad(i::text, 2, '0') AS sku, 'cluster:' || (i % 3) AS feature FROM generate_series(1, 24) AS i
UNION ALL VALUES ('sku-new-a', 'cluster:1'), ('sku-00', 'cluster:2');
SELECT n_items, params->>'item_id_type' AS item_id_type
  FROM reco.train('text_features', 'ft_text_clicks', 'customer', 'sku', factors => 3, iterations => 3,
                  regularization => 0.1, item_features => ARRAY['ft_text_features']);
SELECT item_id, item_key, popularity, features FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'text_features') AND item_id > 22 ORDER BY item_id;

-- Bad feature sources and options: nothing is stored by any of them
SELECT count(*) AS models_before FROM reco.models \gset
CREATE TABLE ft_one_col AS SELECT 1::bigint AS item_id;
CREATE TABLE ft_text_id AS SELECT 'a'::text AS item_id, 'f'::text AS feature;
CREATE TABLE ft_int_feature AS SELECT 1::bigint AS item_id, 7 AS feature;
CREATE TABLE ft_text_value AS SELECT 1::bigint AS item_id, 'f'::text AS feature, 'x'::text AS value;
CREATE TABLE ft_four AS SELECT 1::bigint AS item_id, 'f'::text AS feature, 1::real AS value, 2 AS extra;
CREATE TABLE ft_dense_three AS SELECT 1::bigint AS item_id, '{1,2}'::real[] AS emb, 1 AS extra;
CREATE TABLE ft_text_array AS SELECT 1::bigint AS item_id, '{a}'::text[] AS emb;
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_one_col'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_text_id'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_int_feature'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_text_value'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_four'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_dense_three'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_text_array'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_text_clicks', 'customer', 'sku', item_features => ARRAY['SELECT 1::bigint, ''f''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT NULL::bigint, ''f''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, NULL::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''f''::text, NULL::real'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, NULL::real[]'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''{1,NULL}''::real[]'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''f''::text, ''NaN''::real'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''f''::text, ''-Infinity''::float8'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''{1,NaN}''::float8[]'])$$);
-- a value real cannot hold is refused too (serving refuses it in a features jsonb, so a
-- placed item's stored features could not be explained or placed again)
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''f''::text, 1e300::float8'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT i::bigint, ARRAY[1e300::float8] FROM generate_series(1, 30) AS i'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['VALUES (3::bigint, ''{1,2}''::real[]), (4, ''{1,2,3}'')'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 3::bigint, ''{}''::real[]'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['VALUES (3::bigint, ''{1,2}''::real[]), (3, ''{3,4}'')'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_item_embedding', 'SELECT 3::bigint, ''description_embedding''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_item_embedding', 'SELECT item_id, description_embedding FROM ft_item_embedding'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT 1000::bigint, ''f''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', user_features => ARRAY['SELECT 1000::bigint, ''f''::text'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['SELECT n % 24 + 1, ''f'' || n FROM generate_series(1, 10001) AS n'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', regularization => 0.1, item_features => ARRAY['ft_same'], feature_regularization => 0)$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['no_such_table'])$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', feature_regularization => 1)$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', item_features => ARRAY['ft_same'], feature_regularization => -1)$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', options => '{"item_features": 7}')$$);
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', options => '{"item_features": ["ft_same", 7]}')$$);
SET reco.max_memory = '128MB';
SELECT outcome($$SELECT reco.train('bad', 'ft_clicks', factors => 2, threads => 1, item_features => ARRAY['SELECT n % 24 + 1, ''f'' || n FROM generate_series(1, 3000) AS n'])$$);
RESET reco.max_memory;
SELECT count(*) = :models_before AS nothing_stored FROM reco.models;

-- Pruning and drop_model delete the mapping with its version
SELECT version FROM reco.train('planted', 'ft_clicks', factors => 4, iterations => 2, keep_versions => 1,
                               item_features => ARRAY['ft_item_cluster']);
SELECT m.version, count(w.*) AS mapping_rows FROM reco.models AS m LEFT JOIN reco.feature_weights AS w USING (model_id)
 WHERE m.name = 'planted' GROUP BY m.version;
SELECT count(*) AS orphan_mapping_rows FROM reco.feature_weights AS w
 WHERE NOT EXISTS (SELECT FROM reco.models AS m WHERE m.model_id = w.model_id);
SELECT reco.drop_model('planted') AS dropped;
SELECT count(*) AS orphan_mapping_rows FROM reco.feature_weights AS w
 WHERE NOT EXISTS (SELECT FROM reco.models AS m WHERE m.model_id = w.model_id);

-- refresh_users re-solves users from their interactions: a user placed from
-- a profile (no interactions) keeps its placement, skipped like a placed item
CREATE TABLE ft_refresh_clicks AS
SELECT u AS user_id, (u * 7 + j) % 20 AS item_id FROM generate_series(1, 40) AS u, generate_series(1, 5) AS j;
CREATE TABLE ft_refresh_profiles AS SELECT u AS user_id, 'tier:' || (u % 3) AS feature FROM generate_series(1, 45) AS u;
SELECT n_users, stats -> 'user_features' -> 'placed' AS placed
  FROM reco.train('refreshed', 'ft_refresh_clicks', factors => 4, iterations => 3, user_features => '{ft_refresh_profiles}');
SELECT * FROM reco.refresh_users('refreshed');
SELECT count(*) AS placed_users_kept FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'refreshed') AND features IS NOT NULL;
-- a placed user who now has interactions is solved from them (no longer placed)
INSERT INTO ft_refresh_clicks VALUES (41, 3), (41, 4);
SELECT * FROM reco.refresh_users('refreshed', ARRAY[41, 42]::bigint[]);
SELECT user_id, features IS NOT NULL AS placed, seen_items FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'refreshed') AND user_id IN (41, 42) ORDER BY user_id;

SELECT reco.drop_model(name) FROM (VALUES ('same'), ('combined'), ('fit_features'), ('bpr_features'), ('text_features'), ('two_dense'), ('refreshed')) AS m(name);
DROP FUNCTION ft_factors(text, text);
DROP FUNCTION ft_cosine(real[], real[]);
DROP TABLE ft_clicks, ft_item_cluster, ft_item_extra, ft_user_cluster, ft_same, ft_item_embedding, ft_item_zeta, ft_refresh_clicks, ft_refresh_profiles, ft_text_clicks,
    ft_text_features, ft_one_col, ft_text_id, ft_int_feature, ft_text_value, ft_four, ft_dense_three, ft_text_array;
-- give back the pages this test filled and emptied (a later test's plans follow the table sizes)
VACUUM reco.user_factors, reco.item_factors, reco.feature_weights;
