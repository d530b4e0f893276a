-- lifecycle: reco.drop_model and reco.forget_user (the right to be forgotten):
-- exact effects on the stored rows, on serving (also from this backend's
-- cache), transactions, and bad input with its SQLSTATE.
SET client_min_messages = warning;
SET extra_float_digits = 0;
CREATE TABLE life AS
SELECT 1000 + u AS user_id, (u * 3 + j) % 20 AS item_id
  FROM generate_series(1, 40) AS u, generate_series(1, 5) AS j;
SELECT (reco.train('life_a', 'life', factors => 4, iterations => 2, regularization => 1)).version;
SELECT (reco.train('life_a', 'life', factors => 4, iterations => 2, regularization => 1)).version;
SELECT (reco.train('life_b', 'life', factors => 4, iterations => 2, regularization => 1)).version;
RESET client_min_messages;
-- served before: user 1007 has recommendations and is one of user 1008's 39 neighbours
-- (this also caches the user matrix of life_a in this backend)
SELECT count(*) AS recommendations FROM reco.recommend('life_a', 1007, 5, fallback => 'none');
SELECT count(*) AS neighbours, count(*) FILTER (WHERE user_id = 1007) AS has_1007
  FROM reco.similar_users('life_a', 1008, 100);

-- forget 1007 everywhere: both versions of life_a and life_b's version change
SELECT reco.forget_user(1007) AS versions_changed;
SELECT count(*) AS rows_mentioning_1007 FROM reco.user_factors WHERE user_id = 1007;
SELECT name, version, n_users, stats -> 'users_forgotten' AS users_forgotten
  FROM reco.models WHERE name LIKE 'life%' ORDER BY name, version;
SELECT count(*) AS recommendations FROM reco.recommend('life_a', 1007, 5, fallback => 'none');
SELECT count(*) AS explained FROM reco.explain('life_a', 1007, 3);
-- the cached user matrix is reloaded: 38 neighbours, 1007 gone
SELECT count(*) AS neighbours, count(*) FILTER (WHERE user_id = 1007) AS has_1007
  FROM reco.similar_users('life_a', 1008, 100);
SELECT count(*) AS batch_rows_for_1007 FROM reco.recommend_all('life_a', 5) WHERE user_id = 1007;
-- forgetting again changes nothing
SELECT reco.forget_user(1007) AS versions_changed;
-- one model only: life_b forgets 1008, life_a keeps it
SELECT reco.forget_user(1008, 'life_b') AS versions_changed;
SELECT m.name, count(*) AS rows_for_1008
  FROM reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE f.user_id = 1008 AND m.name LIKE 'life%' GROUP BY m.name ORDER BY 1;
-- it happens in the caller's transaction: a rollback undoes it
BEGIN;
SELECT reco.forget_user(1009) AS versions_changed;
SELECT count(*) AS neighbours FROM reco.similar_users('life_a', 1010, 100);
ROLLBACK;
SELECT count(*) AS rows_for_1009 FROM reco.user_factors WHERE user_id = 1009;
SELECT count(*) AS neighbours FROM reco.similar_users('life_a', 1010, 100);
-- bad input changes nothing
\set VERBOSITY sqlstate
SELECT reco.forget_user(NULL);
SELECT reco.forget_user(1009, 'no_such_model');
\set VERBOSITY terse
SELECT reco.forget_user(1009, 'no_such_model');
SELECT count(*) AS rows_for_1009 FROM reco.user_factors WHERE user_id = 1009;

-- drop_model removes every version and every factor row of the name
SELECT reco.drop_model('life_b') AS versions_dropped;
SELECT count(*) AS life_b_versions FROM reco.models WHERE name = 'life_b';
SELECT (SELECT count(*) FROM reco.user_factors f
         WHERE NOT EXISTS (SELECT FROM reco.models m WHERE m.model_id = f.model_id)) AS orphan_user_rows,
       (SELECT count(*) FROM reco.item_factors f
         WHERE NOT EXISTS (SELECT FROM reco.models m WHERE m.model_id = f.model_id)) AS orphan_item_rows;
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend('life_b', 1001);
SELECT reco.drop_model('life_b');
SELECT reco.drop_model(NULL);
\set VERBOSITY terse
SELECT reco.drop_model('life_b');
-- a dropped name starts again at version 1, with a new model_id
SELECT max(model_id) AS last_id FROM reco.models WHERE name = 'life_a' \gset
SELECT reco.drop_model('life_a') AS versions_dropped;
SET client_min_messages = warning;
SELECT version, model_id > :last_id AS new_model_id
  FROM reco.train('life_a', 'life', factors => 4, iterations => 2, regularization => 1);
RESET client_min_messages;
-- the serving lookup reads reco.models through a plain (name, version) btree
-- only: with the unique index replaced by a partial one, the model is still
-- found (by the query), not reported missing
-- (a new session: its first call opens the index afresh, predicate not loaded)
ALTER TABLE reco.models DROP CONSTRAINT models_name_version_key;
CREATE INDEX life_partial ON reco.models (name, version) WHERE version > 1000;
\c
SELECT count(*) AS rows FROM reco.recommend('life_a', 1001, 3);
DROP INDEX reco.life_partial;
ALTER TABLE reco.models ADD CONSTRAINT models_name_version_key UNIQUE (name, version);
-- the shared-copy trigger function fires on reco.models only (39P01 on a
-- table of one's own with a model_id column)
CREATE TABLE life_models (model_id bigint);
CREATE TRIGGER life_unpublish AFTER DELETE ON life_models
    FOR EACH ROW EXECUTE FUNCTION reco_internal.unpublish_shared_copies('all');
INSERT INTO life_models VALUES (1);
\set VERBOSITY sqlstate
DELETE FROM life_models;
\set VERBOSITY terse
DROP TABLE life_models;
SELECT reco.drop_model('life_a') AS versions_dropped;
DROP TABLE life;
