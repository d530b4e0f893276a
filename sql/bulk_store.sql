-- bulk_store: training stores its factor rows in bulk (table_multi_insert, as
-- COPY does) when the tables are as reco creates them, and through INSERT
-- when an INSERT would do more (triggers, row security, a changed column,
-- CHECK constraints); both store exactly the same rows.
-- Everything runs in one transaction rolled back at the end (the table
-- changes, roles and grants undone; psql rolls back each failing statement).
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse
\set ON_ERROR_ROLLBACK on
BEGIN;
-- users 1..40 with a few items each, user 7 with 400 items (its seen lists
-- are stored out of line), user 9 whose only pair nets to 0 (not stored),
-- user 11 with a negative pair besides a positive one, duplicate rows
CREATE TABLE bulk_rows AS
SELECT u AS user_id, (u * 7 + j) % 60 AS item_id, 1::real AS w
  FROM generate_series(1, 40) AS u, generate_series(1, 5) AS j WHERE u <> 9
UNION ALL SELECT 7, 100 + j, (j % 3)::real FROM generate_series(1, 400) AS j
UNION ALL VALUES (9, 3, 2::real), (9, 3, -2::real), (11, 59, -1::real), (12, 13, 1::real);
CREATE TABLE bulk_text AS SELECT 'u' || user_id AS user_id, 'i' || item_id AS item_id, w FROM bulk_rows;
CREATE FUNCTION bulk_train(name text, text_ids boolean DEFAULT false) RETURNS bigint
LANGUAGE sql AS $$
  SELECT (reco.train(name, CASE WHEN text_ids THEN 'bulk_text' ELSE 'bulk_rows' END, weight_col => 'w',
                     factors => 5, iterations => 3, threads => 1, regularization => 0.1)).model_id
$$;
-- the rows of a model, without its model_id, to compare two models
CREATE FUNCTION bulk_users(model text) RETURNS TABLE (user_id bigint, factors bytea, seen_items bigint[],
    seen_weights real[], user_key text, features jsonb, bytes int)
LANGUAGE sql AS $$
  SELECT f.user_id, f.factors, f.seen_items, f.seen_weights, f.user_key, f.features,
         pg_column_size(f.factors) + pg_column_size(f.seen_items) + pg_column_size(f.seen_weights)
    FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = model
$$;
CREATE FUNCTION bulk_items(model text) RETURNS TABLE (item_id bigint, factors bytea, popularity bigint,
    item_key text, features jsonb, bytes int)
LANGUAGE sql AS $$
  SELECT f.item_id, f.factors, f.popularity, f.item_key, f.features, pg_column_size(f.factors)
    FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = model
$$;
-- the bulk path (DEBUG1 says when the store falls back to INSERT: not here)
SET client_min_messages = debug1;
SELECT bulk_train('bulk') > 0 AS trained;
SELECT bulk_train('bulk_t', true) > 0 AS trained;
SET client_min_messages = warning;
SELECT n_users, n_items, n_interactions FROM reco.models WHERE name = 'bulk';
SELECT count(*) AS users, count(*) FILTER (WHERE user_id = 9) AS net_zero_user,
       max(cardinality(seen_items)) AS longest, bool_or(pg_column_size(seen_items) > 2000) AS out_of_line
  FROM bulk_users('bulk');
SELECT seen_items, seen_weights FROM bulk_users('bulk') WHERE user_id IN (11, 12) ORDER BY user_id;
SELECT count(*) AS users, count(*) FILTER (WHERE user_key LIKE 'u%') AS keyed FROM bulk_users('bulk_t');
SELECT count(*) AS items, count(*) FILTER (WHERE item_key IS NOT NULL) AS keyed FROM bulk_items('bulk_t');
-- the rows are in the primary key and key indexes (looked up through them)
SET enable_seqscan = off;
SELECT count(*) AS by_pk FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id)
 WHERE m.name = 'bulk' AND f.user_id = 7;
SELECT f.user_id FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id)
 WHERE m.name = 'bulk_t' AND f.user_key = 'u7';
RESET enable_seqscan;
SELECT item_id, score > 0 AS positive FROM reco.recommend('bulk', 1, 1) LIMIT 0;

-- 1. a trigger: the store INSERTs (the trigger sees every row), the rows are the bulk path's
CREATE TABLE bulk_seen (tab text, n int);
CREATE FUNCTION bulk_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bulk_seen VALUES (TG_TABLE_NAME, 1);
  RETURN NEW;
END $$;
CREATE TRIGGER bulk_count BEFORE INSERT ON reco.user_factors FOR EACH ROW EXECUTE FUNCTION bulk_count();
CREATE TRIGGER bulk_count BEFORE INSERT ON reco.item_factors FOR EACH ROW EXECUTE FUNCTION bulk_count();
SET client_min_messages = debug1;
SELECT bulk_train('bulk_trigger') > 0 AS trained;
SELECT bulk_train('bulk_trigger_t', true) > 0 AS trained;
SET client_min_messages = warning;
SELECT tab, count(*) FROM bulk_seen GROUP BY tab ORDER BY tab;
DROP TRIGGER bulk_count ON reco.user_factors;
DROP TRIGGER bulk_count ON reco.item_factors;
-- the same rows, the same stored bytes, either way
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk') EXCEPT SELECT * FROM bulk_users('bulk_trigger')) d) AS users_differing,
       (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk_trigger') EXCEPT SELECT * FROM bulk_users('bulk')) d) AS users_missing,
       (SELECT count(*) FROM (SELECT * FROM bulk_items('bulk') EXCEPT SELECT * FROM bulk_items('bulk_trigger')) d) AS items_differing,
       (SELECT count(*) FROM (SELECT * FROM bulk_items('bulk_trigger') EXCEPT SELECT * FROM bulk_items('bulk')) d) AS items_missing;
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk_t') EXCEPT SELECT * FROM bulk_users('bulk_trigger_t')) d) AS users_differing,
       (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk_trigger_t') EXCEPT SELECT * FROM bulk_users('bulk_t')) d) AS users_missing,
       (SELECT count(*) FROM (SELECT * FROM bulk_items('bulk_t') EXCEPT SELECT * FROM bulk_items('bulk_trigger_t')) d) AS items_differing,
       (SELECT count(*) FROM (SELECT * FROM bulk_items('bulk_trigger_t') EXCEPT SELECT * FROM bulk_items('bulk_t')) d) AS items_missing;
-- 2. row security on the tables: the store INSERTs, so a policy applies to training
CREATE ROLE regress_bulk_rls;
GRANT USAGE ON SCHEMA reco TO regress_bulk_rls;
GRANT SELECT, INSERT, DELETE ON reco.models, reco.user_factors, reco.item_factors TO regress_bulk_rls;
GRANT USAGE ON SEQUENCE reco.models_model_id_seq TO regress_bulk_rls;
GRANT SELECT ON bulk_rows TO regress_bulk_rls;
ALTER TABLE reco.user_factors ENABLE ROW LEVEL SECURITY;
CREATE POLICY bulk_read ON reco.user_factors FOR SELECT USING (true);
CREATE POLICY bulk_small ON reco.user_factors FOR INSERT WITH CHECK (user_id < 30);
SET ROLE regress_bulk_rls;
\set VERBOSITY sqlstate
SELECT bulk_train('bulk_rls');
\set VERBOSITY terse
RESET ROLE;
ALTER POLICY bulk_small ON reco.user_factors WITH CHECK (true);
SET ROLE regress_bulk_rls;
SET client_min_messages = debug1;
SELECT bulk_train('bulk_rls') > 0 AS trained;
SET client_min_messages = warning;
RESET ROLE;
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk') EXCEPT SELECT * FROM bulk_users('bulk_rls')) d) AS users_differing,
       (SELECT count(*) FROM (SELECT * FROM bulk_users('bulk_rls') EXCEPT SELECT * FROM bulk_users('bulk')) d) AS users_missing;
DROP POLICY bulk_read ON reco.user_factors;
DROP POLICY bulk_small ON reco.user_factors;
ALTER TABLE reco.user_factors DISABLE ROW LEVEL SECURITY;

-- 3. a revoked grant: refused before training (42501), nothing stored
REVOKE INSERT ON reco.item_factors FROM regress_bulk_rls;
SET ROLE regress_bulk_rls;
\set VERBOSITY sqlstate
SELECT bulk_train('bulk_revoked');
\set VERBOSITY terse
RESET ROLE;
SELECT count(*) AS revoked_versions FROM reco.models WHERE name = 'bulk_revoked';

-- 4. a changed table: a new column with a default gets it (INSERT), a CHECK constraint is checked
ALTER TABLE reco.item_factors ADD COLUMN bulk_note text DEFAULT 'noted';
SET client_min_messages = debug1;
SELECT bulk_train('bulk_note') > 0 AS trained;
SET client_min_messages = warning;
SELECT count(*) AS items, count(*) FILTER (WHERE f.bulk_note = 'noted') AS noted
  FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'bulk_note';
ALTER TABLE reco.item_factors DROP COLUMN bulk_note;
-- a dropped column is no change: bulk again
SET client_min_messages = debug1;
SELECT bulk_train('bulk_dropped') > 0 AS trained;
SET client_min_messages = warning;
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_items('bulk') EXCEPT SELECT * FROM bulk_items('bulk_dropped')) d) AS items_differing;
ALTER TABLE reco.item_factors ADD CONSTRAINT bulk_popular CHECK (popularity < 2) NOT VALID;
SET client_min_messages = debug1;
SELECT bulk_train('bulk_check');
SET client_min_messages = warning;
ALTER TABLE reco.item_factors DROP CONSTRAINT bulk_popular;
SELECT name, count(*) AS versions FROM reco.models WHERE name LIKE 'bulk%' GROUP BY name ORDER BY name;
SELECT reco.drop_model(name) FROM (SELECT DISTINCT name FROM reco.models WHERE name LIKE 'bulk%') AS m ORDER BY name;
-- a unique index is checked by the bulk path as by INSERT (23505): identical factors twice;
-- the user rows are written inside the final pass (one thread: the last rows when its last
-- task is done), so the error is caught there, the pass stopped, then raised (DEBUG1 says so)
CREATE UNIQUE INDEX bulk_one_factor ON reco.user_factors (factors);
SET client_min_messages = debug1;
SELECT bulk_train('bulk_unique') > 0 AS trained;
\set VERBOSITY sqlstate
SELECT bulk_train('bulk_unique_again');
\set VERBOSITY terse
SET client_min_messages = warning;
DROP INDEX reco.bulk_one_factor;
SELECT name FROM reco.models WHERE name LIKE 'bulk%' ORDER BY name;
ROLLBACK;
SELECT count(*) AS bulk_models FROM reco.models WHERE name LIKE 'bulk%';
