-- import: reco.import_model — factors trained elsewhere become a served version.
\set VERBOSITY terse
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- 1. A model reco trained, exported with reco.to_array and imported back with
-- its interactions, regularization and alpha: every answer is identical.
SELECT (reco.train('imp_src', 'purchases', 'customer_id', 'product_id', 'quantity',
                   factors => 4, iterations => 5, regularization => 0.5, alpha => 2)).version;
CREATE TABLE exported_users AS
SELECT f.user_id AS id, reco.to_array(f.factors) AS factors
  FROM reco.user_factors f JOIN reco.models m USING (model_id) WHERE m.name = 'imp_src';
CREATE TABLE exported_items AS
SELECT f.item_id AS id, reco.to_array(f.factors) AS factors
  FROM reco.item_factors f JOIN reco.models m USING (model_id) WHERE m.name = 'imp_src';
SELECT name, version, algorithm, n_users, n_items, n_interactions, factors, loss, params, stats->'interactions_read' AS pairs_read
  FROM reco.import_model('imp_copy', 'exported_users', 'exported_items',
                         '{"interactions": "purchases", "user_col": "customer_id", "item_col": "product_id",
                           "weight_col": "quantity", "regularization": 0.5, "alpha": 2}');
-- the stored rows are the trained ones: factors, seen lists and popularity
SELECT count(*) AS differing_users FROM (
  (SELECT user_id, f.factors, seen_items, seen_weights FROM reco.user_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_src'
   EXCEPT SELECT user_id, f.factors, seen_items, seen_weights FROM reco.user_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_copy')
  UNION ALL
  (SELECT user_id, f.factors, seen_items, seen_weights FROM reco.user_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_copy'
   EXCEPT SELECT user_id, f.factors, seen_items, seen_weights FROM reco.user_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_src')) d;
SELECT count(*) AS differing_items FROM (
  (SELECT item_id, f.factors, popularity FROM reco.item_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_src'
   EXCEPT SELECT item_id, f.factors, popularity FROM reco.item_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_copy')
  UNION ALL
  (SELECT item_id, f.factors, popularity FROM reco.item_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_copy'
   EXCEPT SELECT item_id, f.factors, popularity FROM reco.item_factors f JOIN reco.models USING (model_id) WHERE name = 'imp_src')) d;
-- recommend (seen excluded, and the best-seller fallback of an unknown user 99), similar_items,
-- similar_users, recommend_for_items and explain (the fold-in): the same rows, the same scores
CREATE FUNCTION imp_answers(model text) RETURNS TABLE (what text, arg bigint, id bigint, score real)
LANGUAGE sql AS $$
  SELECT 'recommend', u, r.item_id, r.score FROM generate_series(1, 6) u, LATERAL reco.recommend(model, u, 8) r
  UNION ALL SELECT 'recommend unknown', 99, r.item_id, r.score FROM reco.recommend(model, 99, 3) r
  UNION ALL SELECT 'recommend all', u, r.item_id, r.score FROM generate_series(1, 6) u, LATERAL reco.recommend(model, u, 8, false) r
  UNION ALL SELECT 'similar_items', i, s.item_id, s.similarity FROM generate_series(101, 108) i, LATERAL reco.similar_items(model, i, 7) s
  UNION ALL SELECT 'similar_users', u, s.user_id, s.similarity FROM generate_series(1, 6) u, LATERAL reco.similar_users(model, u, 5) s
  UNION ALL SELECT 'recommend_for_items', 0, r.item_id, r.score FROM reco.recommend_for_items(model, '{101, 105}', '{1, 2}') r
  UNION ALL SELECT 'explain', u, e.item_id, e.contribution FROM generate_series(1, 6) u, LATERAL reco.explain(model, u, 108) e
$$;
SELECT what, count(*) AS rows FROM imp_answers('imp_src') GROUP BY what ORDER BY what;
SELECT count(*) AS differing_answers FROM (
  (SELECT * FROM imp_answers('imp_src') EXCEPT ALL SELECT * FROM imp_answers('imp_copy'))
  UNION ALL
  (SELECT * FROM imp_answers('imp_copy') EXCEPT ALL SELECT * FROM imp_answers('imp_src'))) d;

-- 2. A hand-made model: scores checked by hand (user 1 = (1, 0), user 2 = (0.5, 2);
-- item 10 = (1, 1), item 20 = (2, 0), item 30 = (0, 3)).
CREATE TABLE hand_users (id bigint, factors real[]);
INSERT INTO hand_users VALUES (1, '{1, 0}'), (2, '{0.5, 2}');
CREATE TABLE hand_items (item bigint, vec double precision[]);
INSERT INTO hand_items VALUES (30, '{0, 3}'), (10, '{1, 1}'), (20, '{2, 0}');
SELECT version, algorithm, n_users, n_items, n_interactions, factors, params, stats->'interactions_read' AS pairs_read
  FROM reco.import_model('imp_hand', 'hand_users',
                         'SELECT item AS id, vec AS factors FROM hand_items');
SELECT * FROM reco.recommend('imp_hand', 1);	-- 20: 2, 10: 1, 30: 0
SELECT * FROM reco.recommend('imp_hand', 2);	-- 30: 6, 10: 2.5, 20: 1
SELECT * FROM reco.similar_items('imp_hand', 10);	-- cosines: 30 and 20 both 1/sqrt(2)
-- no interactions: empty seen lists, popularity 0 (the fallback's order is then by id)
SELECT f.user_id, f.seen_items, f.seen_weights FROM reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'imp_hand' ORDER BY 1;
SELECT f.item_id, f.popularity, reco.to_array(f.factors) FROM reco.item_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'imp_hand' ORDER BY 1;
SELECT * FROM reco.recommend('imp_hand', 7, 2);
-- imported without regularization and alpha: the fold-in refuses, clearly (0A000)
SELECT outcome($$SELECT * FROM reco.recommend_for_items('imp_hand', '{10}')$$);
SELECT outcome($$SELECT * FROM reco.explain('imp_hand', 1, 20)$$);
SELECT outcome($$SELECT * FROM reco.refresh_users('imp_hand', '{1}', 'purchases')$$);
-- with an interactions source (ids the factors lack are skipped and counted): seen lists,
-- popularity, exclude_seen and the best-seller fallback
CREATE TABLE hand_events (u bigint, i bigint, qty real);
INSERT INTO hand_events VALUES (1, 20, 1), (1, 20, 2), (2, 10, 1), (2, 30, -1), (2, 30, 1), (1, 10, 1),
                               (2, 20, 5), (3, 10, 1), (1, 99, 1), (NULL, 10, 1), (1, NULL, 1);
SELECT version, n_interactions, stats->'interactions_read' AS pairs_read, stats->'interactions_skipped' AS skipped
  FROM reco.import_model('imp_hand', 'hand_users', 'SELECT item AS id, vec AS factors FROM hand_items',
                         '{"interactions": "hand_events", "user_col": "u", "item_col": "i", "weight_col": "qty", "keep_versions": 1}');
SELECT name, version FROM reco.models WHERE name = 'imp_hand' ORDER BY version;	-- version 1 pruned
SELECT f.user_id, f.seen_items, f.seen_weights FROM reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'imp_hand' ORDER BY 1;
SELECT f.item_id, f.popularity FROM reco.item_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'imp_hand' ORDER BY 1;
SELECT * FROM reco.recommend('imp_hand', 1);	-- 30: 0 (10 and 20 seen)
SELECT * FROM reco.recommend('imp_hand', 2);	-- 30: 6 (10 and 20 seen; 30 netted to 0)
SELECT * FROM reco.recommend('imp_hand', 7, 2);	-- best sellers: 10 and 20 (2 buyers each, then by id)
-- declared algorithms: bpr serves by dot product and refuses the fold-in; ials with its system folds in
SELECT algorithm, params->'imported' AS imported FROM reco.import_model('imp_bpr', 'hand_users', 'SELECT item AS id, vec AS factors FROM hand_items', '{"algorithm": "bpr"}');
SELECT * FROM reco.recommend('imp_bpr', 2, 1);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('imp_bpr', '{10}')$$);
SELECT algorithm, params->'regularization' AS reg, params->'alpha' AS alpha
  FROM reco.import_model('imp_ials', 'hand_users', 'SELECT item AS id, vec AS factors FROM hand_items',
                         '{"algorithm": "ials", "regularization": 1, "alpha": 1}');
-- fold-in of item 20 with weight 1 (confidence alpha x weight = 1, README): (YtY + lambda I) x = y_20,
-- [[6, 1], [1, 11]] x = (2, 0), x = (22/65, -2/65): scores 20: 44/65, 10: 20/65, 30: -6/65
SELECT * FROM reco.recommend_for_items('imp_ials', '{20}', n => 3, exclude_seen => false);
-- text ids (keys): coded in key order, served by key; uuid ids read in canonical form
SELECT n_users, n_items, params->'user_id_type' AS user_type, params->'item_id_type' AS item_type
  FROM reco.import_model('imp_text',
         $$SELECT * FROM (VALUES ('bob', '{0.5, 2}'::real[]), ('ann', '{1, 0}')) AS t(id, factors)$$,
         $$SELECT * FROM (VALUES ('z', '{0, 3}'::real[]), ('x', '{1, 1}'), ('y', '{2, 0}')) AS t(id, factors)$$,
         $${"interactions": "SELECT * FROM (VALUES ('ann', 'y'), ('bob', 'x'), ('cat', 'x')) AS e(user_id, item_id)"}$$);
SELECT * FROM reco.recommend('imp_text', 'ann'::text);
SELECT * FROM reco.recommend('imp_text', 'bob'::text);
SELECT f.user_id, f.user_key, f.seen_items FROM reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'imp_text' ORDER BY 1;
SELECT params->'user_id_type' AS user_type FROM reco.import_model('imp_uuid',
         $$SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS id, '{1, 0}'::real[] AS factors$$,
         'SELECT item AS id, vec AS factors FROM hand_items');
SELECT * FROM reco.recommend('imp_uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 1);
-- Spark's column names: id and features
SELECT n_users, n_items FROM reco.import_model('imp_spark',
         'SELECT id, factors AS features FROM hand_users', 'SELECT item AS id, vec AS features FROM hand_items',
         '{"factors_col": "features"}');

-- 3. Every bad input: its SQLSTATE, and nothing written.
CREATE TEMP VIEW imp_counts AS SELECT (SELECT count(*) FROM reco.models) AS models,
  (SELECT count(*) FROM reco.user_factors) AS user_rows, (SELECT count(*) FROM reco.item_factors) AS item_rows;
CREATE TEMP TABLE imp_before AS SELECT * FROM imp_counts;
SELECT outcome($$SELECT reco.import_model(NULL, 'hand_users', 'hand_users')$$);
SELECT outcome($$SELECT reco.import_model('bad', NULL, 'hand_users')$$);
SELECT outcome($$SELECT reco.import_model('bad', 'hand_users', NULL)$$);
SELECT outcome($$SELECT reco.import_model('', 'hand_users', 'hand_users')$$);
SELECT outcome($$SELECT reco.import_model(repeat('m', 64), 'hand_users', 'hand_users')$$);
-- options: each bad one (the sources are good)
SELECT options, outcome(format('SELECT reco.import_model(%L, %L, %L, %L)', 'bad', 'hand_users', 'hand_users', options))
  FROM (VALUES (1, '[1]'), (2, '{"factor_col": "f"}'), (3, '{"id_col": 1}'), (4, '{"alpha": "1"}'),
               (5, '{"algorithm": "svd"}'), (6, '{"regularization": 1}'), (7, '{"alpha": 1}'),
               (8, '{"algorithm": "bpr", "regularization": 1, "alpha": 1}'), (9, '{"regularization": -1, "alpha": 1}'),
               (10, '{"regularization": 1, "alpha": 0}'), (11, '{"keep_versions": 1.5}'), (12, '{"keep_versions": -1}'),
               (13, '{"user_col": "u"}'), (14, '{"interactions": "hand_events"}'),
               (15, '{"interactions": "SELECT 1 AS user_id, 1 AS item_id, ''NaN''::real AS w", "weight_col": "w"}'),
               (16, '{"interactions": "SELECT 1 AS user_id, 1 AS item_id, ''-Infinity''::real AS w", "weight_col": "w"}'))
       AS t(n, options) ORDER BY n;
-- algorithm als: vectors of 3 floats or fewer cannot hold an explicit model's b, 1, 1 / 1, b, mu (reco.predict
-- would read past x, y): 22023, like any other bad factor count
SELECT outcome($$SELECT reco.import_model('bad', 'hand_users', 'SELECT item AS id, vec AS factors FROM hand_items', '{"algorithm": "als"}')$$);
-- sources: a missing one, a missing column (hand_items has no "id"), then each bad row
SELECT users, items, outcome(format('SELECT reco.import_model(%L, %L, %L)', 'bad', users, items))
  FROM (VALUES (1, 'no_such_table', 'hand_users'), (2, 'hand_users', 'hand_items'),
               (3, 'SELECT NULL::bigint AS id, ''{1, 2}''::real[] AS factors', 'hand_users'),
               (4, 'SELECT 1 AS id, NULL::real[] AS factors', 'hand_users'),
               (5, 'SELECT 1 AS id, ''{1, NULL}''::real[] AS factors', 'hand_users'),
               (6, 'SELECT 1 AS id, ''{{1, 2}, {3, 4}}''::real[] AS factors', 'hand_users'),
               (7, 'SELECT 1 AS id, ''{}''::real[] AS factors', 'hand_users'),
               (8, 'SELECT 1 AS id, array_fill(1::real, ARRAY[1025]) AS factors', 'hand_users'),
               (9, 'SELECT * FROM (VALUES (1, ''{1, 2}''::real[]), (2, ''{1, 2, 3}'')) AS t(id, factors)', 'hand_users'),
               (10, 'hand_users', 'SELECT 1 AS id, ''{1, 2, 3}''::real[] AS factors'),
               (11, 'SELECT 1 AS id, ''{1, NaN}''::real[] AS factors', 'hand_users'),
               (12, 'SELECT 1 AS id, ''{-Infinity, 1}''::real[] AS factors', 'hand_users'),
               (13, 'SELECT 1 AS id, ''{1e300, 1}''::float8[] AS factors', 'hand_users'),
               (14, 'SELECT 1 AS id, ''abc''::text AS factors', 'hand_users'),
               (15, 'SELECT * FROM (VALUES (2, ''{1, 2}''::real[]), (1, ''{1, 2}''), (2, ''{3, 4}'')) AS t(id, factors)', 'hand_users'),
               (16, 'hand_users', 'SELECT * FROM (VALUES (''x'', ''{1, 2}''::real[]), (''x'', ''{1, 2}'')) AS t(id, factors)'),
               (17, 'SELECT * FROM hand_users WHERE false', 'hand_users'))
       AS t(n, users, items) ORDER BY n;
-- a serving role that may read the sources but not store a version (a training's privileges): 42501
-- (in a transaction rolled back: the role and its grants leave no trace in the catalog)
BEGIN;
CREATE ROLE regress_reco_import_reader;
GRANT USAGE ON SCHEMA reco TO regress_reco_import_reader;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors, hand_users TO regress_reco_import_reader;
SET ROLE regress_reco_import_reader;
SELECT outcome($$SELECT reco.import_model('bad', 'hand_users', 'hand_users')$$);
ROLLBACK;
SELECT (c.models, c.user_rows, c.item_rows) = (b.models, b.user_rows, b.item_rows) AS nothing_written
  FROM imp_counts c, imp_before b;
SELECT count(*) AS rows_of_bad FROM reco.models WHERE name = 'bad';

SELECT reco.drop_model(name) FROM (VALUES ('imp_src'), ('imp_copy'), ('imp_hand'), ('imp_bpr'), ('imp_ials'),
                                          ('imp_text'), ('imp_uuid'), ('imp_spark')) AS m(name);
DROP VIEW imp_counts;
DROP TABLE imp_before;
DROP FUNCTION imp_answers(text);
DROP TABLE exported_users, exported_items, hand_users, hand_items, hand_events;
