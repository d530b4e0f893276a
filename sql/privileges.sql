-- privileges: reco's functions run with the caller's rights, so the table
-- privileges the README lists decide who may serve, train, drop and forget.
SET client_min_messages = warning;
SET extra_float_digits = 0;
-- by default nobody but the owner may read or write the model tables
SELECT relname, relacl IS NULL AS owner_only
  FROM pg_class WHERE relnamespace = 'reco'::regnamespace AND relkind IN ('r', 'S') ORDER BY 1;
CREATE ROLE regress_reco_serve;
CREATE ROLE regress_reco_train;
CREATE ROLE regress_reco_partial;
CREATE ROLE regress_reco_none;
-- a serving role: the schema and reading the three model tables
GRANT USAGE ON SCHEMA reco TO regress_reco_serve;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors TO regress_reco_serve;
-- a training role: also writing the model tables and drawing model ids
GRANT USAGE ON SCHEMA reco TO regress_reco_train;
GRANT SELECT, INSERT, UPDATE, DELETE ON reco.models, reco.user_factors, reco.item_factors
   TO regress_reco_train;
GRANT USAGE ON SEQUENCE reco.models_model_id_seq TO regress_reco_train;
-- a role that may read models and users but not item factors
GRANT USAGE ON SCHEMA reco TO regress_reco_partial;
GRANT SELECT ON reco.models, reco.user_factors TO regress_reco_partial;
CREATE TABLE priv_clicks AS
SELECT u AS user_id, (u * 5 + j) % 12 AS item_id FROM generate_series(1, 30) AS u, generate_series(1, 4) AS j;
SELECT (reco.train('priv', 'priv_clicks', factors => 4, iterations => 2, regularization => 1)).version;
RESET client_min_messages;

-- the serving role serves with every serving function
SET ROLE regress_reco_serve;
SELECT count(*) AS recommend FROM reco.recommend('priv', 1, 3);
SELECT count(*) AS for_items FROM reco.recommend_for_items('priv', '{1, 2}', n => 3);
SELECT count(*) AS similar_items FROM reco.similar_items('priv', 1, 3);
SELECT count(*) AS similar_users FROM reco.similar_users('priv', 1, 3);
SELECT count(*) AS explain FROM reco.explain('priv', 1, 2, 3);
SELECT count(*) AS batch FROM reco.recommend_all('priv', 3);
SELECT users_evaluated FROM reco.evaluate('priv', 'SELECT 1 AS user_id, 2 AS item_id');
-- but cannot train (no SELECT on the source, no INSERT on the model tables), drop or forget
\set VERBOSITY sqlstate
SELECT reco.train('priv', 'priv_clicks');
SELECT reco.train('priv', 'SELECT 1 AS user_id, 2 AS item_id');
SELECT reco.fit('priv', 1, 2, 1);
SELECT reco.drop_model('priv');
SELECT reco.forget_user(1);
SELECT reco.forget_user(1, 'priv');
SELECT count(*) FROM reco.segment_users('priv', 2);
DELETE FROM reco.models;
\set VERBOSITY terse
SELECT reco.train('priv', 'priv_clicks');
SELECT reco.train('priv', 'SELECT 1 AS user_id, 2 AS item_id');
SELECT reco.drop_model('priv');
RESET ROLE;

-- a role without the schema can call nothing
SET ROLE regress_reco_none;
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend('priv', 1);
RESET ROLE;

-- a factor matrix cached by one role is not served to a role that may not read it
SELECT count(*) AS cached_by_owner FROM reco.recommend('priv', 1, 3);
SELECT count(*) AS cached_by_owner FROM reco.similar_users('priv', 1, 3);
SET ROLE regress_reco_partial;
SELECT * FROM reco.recommend('priv', 1, 3);
SELECT * FROM reco.similar_items('priv', 1, 3);
SELECT count(*) AS similar_users FROM reco.similar_users('priv', 1, 3);
\set VERBOSITY terse
SELECT * FROM reco.recommend('priv', 1, 3);
RESET ROLE;

-- the training role trains only from what it may read
SET ROLE regress_reco_train;
\set VERBOSITY sqlstate
SELECT reco.train('priv', 'priv_clicks');
RESET ROLE;
GRANT SELECT ON priv_clicks TO regress_reco_train;
SET ROLE regress_reco_train;
SET client_min_messages = warning;
SELECT (reco.train('priv', 'priv_clicks', factors => 4, iterations => 2, regularization => 1)).version;
RESET client_min_messages;
SELECT reco.forget_user(1, 'priv') AS versions_changed;
SELECT reco.drop_model('priv') AS versions_dropped;
RESET ROLE;

-- a training with features (only that) needs rights on reco.feature_weights:
-- without them it stops before reading a row (42501); granted, it trains,
-- and drop_model removes the mapping with the version
CREATE TABLE priv_tags AS SELECT i AS item_id, 'shelf:' || (i % 3) AS feature FROM generate_series(0, 13) AS i;
GRANT SELECT ON priv_tags TO regress_reco_train;
SET ROLE regress_reco_train;
\set VERBOSITY sqlstate
SELECT reco.train('priv', 'priv_clicks', factors => 4, iterations => 2, regularization => 1, item_features => '{priv_tags}');
\set VERBOSITY terse
RESET ROLE;
GRANT SELECT, INSERT, DELETE ON reco.feature_weights TO regress_reco_train;
SET ROLE regress_reco_train;
SET client_min_messages = warning;
SELECT n_items, stats -> 'item_features' -> 'placed' AS placed
  FROM reco.train('priv', 'priv_clicks', factors => 4, iterations => 2, regularization => 1, item_features => '{priv_tags}');
RESET client_min_messages;
SELECT model_id AS priv_model_id FROM reco.models WHERE name = 'priv' \gset
SELECT count(*) AS mapping_rows FROM reco.feature_weights WHERE model_id = :priv_model_id;
SELECT reco.drop_model('priv') AS versions_dropped;
SELECT count(*) AS mapping_rows FROM reco.feature_weights WHERE model_id = :priv_model_id;
RESET ROLE;

-- nothing in reco runs with its owner's rights
SELECT count(*) AS security_definer_functions
  FROM pg_proc WHERE pronamespace = 'reco'::regnamespace AND prosecdef;

DROP TABLE priv_clicks, priv_tags;
DROP OWNED BY regress_reco_serve, regress_reco_train, regress_reco_partial, regress_reco_none;
DROP ROLE regress_reco_serve, regress_reco_train, regress_reco_partial, regress_reco_none;
