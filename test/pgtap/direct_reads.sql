-- direct_reads.sql: serving reads the served models row and a single user's row of
-- reco.user_factors straight from the tables (store.c: RecoLookupModelDirect scans
-- reco.models while it has at most RECO_MODELS_SCAN_MAX_BLOCKS pages, else reads its
-- (name, version) index; RecoLoadUserDirect reads the (model_id, user_id) index) when the caller has a table-wide SELECT grant and no row security
-- applies; otherwise the planned queries decide.  Both ways give the same answers, bit
-- for bit: a role with table-wide grants (direct reads) against a role granted every
-- column one by one (the queries); row security, a missing column grant, a revoked
-- grant, a missing USAGE on the schema and inheritance children are the queries' to
-- handle; a retrain, forget_user and a dropped index are seen at once.  (That the
-- direct reads keep their locks to the end of the transaction: specs/direct_read_locks.)
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(23);

-- negative weights too: a user's seen_items then hold items exclude_seen keeps
CREATE TEMP TABLE dr_clicks AS
SELECT u AS user_id, (u * 7 + j * j) % 50 AS item_id, CASE WHEN j = 2 THEN -0.5 ELSE 1.0 END AS w
  FROM generate_series(1, 120) AS u, generate_series(1, 6) AS j;
SELECT (reco.train('dr', 'dr_clicks', weight_col => 'w', factors => 6, iterations => 3, regularization => 1)).version;
-- the same with text ids: a user is found by its key (user_factors_user_key)
CREATE TEMP TABLE drt_clicks AS SELECT 'cust-' || user_id AS user_id, 'sku-' || item_id AS item_id, w FROM dr_clicks;
SELECT (reco.train('drt', 'drt_clicks', weight_col => 'w', factors => 6, iterations => 3, regularization => 1)).version;

CREATE ROLE reco_dr_table;
CREATE ROLE reco_dr_cols;
GRANT USAGE ON SCHEMA reco TO reco_dr_table, reco_dr_cols;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors TO reco_dr_table;
GRANT SELECT ON reco.item_factors TO reco_dr_cols;
-- every column, one by one: no table-wide grant, so no direct read
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['models', 'user_factors'] LOOP
        EXECUTE format('GRANT SELECT (%s) ON reco.%I TO reco_dr_cols',
                       (SELECT string_agg(quote_ident(attname), ', ') FROM pg_attribute
                         WHERE attrelid = ('reco.' || t)::regclass AND attnum > 0 AND NOT attisdropped), t);
    END LOOP;
END $$;

-- What is compared: recommend (exclude_seen on and off, unknown users 500 and 501 get the
-- best-sellers) and explain (the user's row with its weights, negative ones too), of the
-- bigint model and of the text one (an unknown key too).
CREATE FUNCTION pg_temp.dr_answers() RETURNS text LANGUAGE sql AS $$
SELECT string_agg(a, ' | ' ORDER BY k) FROM (
  SELECT 1 AS k, string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id) AS a
    FROM generate_series(1, 40) AS u, LATERAL reco.recommend('dr', u, 5) AS r
  UNION ALL
  SELECT 2, string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
    FROM (VALUES (3), (17), (500), (501)) AS v(u), LATERAL reco.recommend('dr', u, 8, exclude_seen => false) AS r
  UNION ALL
  SELECT 3, string_agg(format('%s:%s:%s', u, e.item_id, e.contribution), ' ' ORDER BY u, e.contribution DESC, e.item_id)
    FROM generate_series(1, 12) AS u, LATERAL reco.explain('dr', u, (u * 3) % 50, 4) AS e
  UNION ALL
  SELECT 4, string_agg(format('%s:%s:%s', u, r.item_id, r.score), ' ' ORDER BY u, r.score DESC, r.item_id)
    FROM (SELECT 'cust-' || g FROM generate_series(1, 30) AS g UNION ALL SELECT 'nobody') AS v(u),
         LATERAL reco.recommend('drt', u, 5) AS r
  UNION ALL
  SELECT 5, string_agg(format('%s:%s:%s', u, e.item_id, e.contribution), ' ' ORDER BY u, e.contribution DESC, e.item_id)
    FROM generate_series(1, 12) AS u, LATERAL reco.explain('drt', 'cust-' || u, 'sku-' || (u * 3) % 50, 4) AS e) AS x
$$;
GRANT EXECUTE ON FUNCTION pg_temp.dr_answers() TO reco_dr_table, reco_dr_cols;
-- The rows recommend serves users a and b without a fallback (0: unknown): of dr, and of
-- drt as 'cust-a' and 'cust-b'.
CREATE FUNCTION pg_temp.dr_served(a int, b int) RETURNS bigint[] LANGUAGE sql AS $$
SELECT ARRAY[(SELECT count(*) FROM reco.recommend('dr', a, 5, fallback => 'none')),
             (SELECT count(*) FROM reco.recommend('dr', b, 5, fallback => 'none')),
             (SELECT count(*) FROM reco.recommend('drt', 'cust-' || a, 5, fallback => 'none')),
             (SELECT count(*) FROM reco.recommend('drt', 'cust-' || b, 5, fallback => 'none'))]
$$;
GRANT EXECUTE ON FUNCTION pg_temp.dr_served(int, int) TO reco_dr_table;
-- dr_answers() as role r
CREATE FUNCTION pg_temp.dr_answers_as(r text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    a := pg_temp.dr_answers();
    RESET ROLE;
    RETURN a;
END $$;

SELECT pg_temp.dr_answers_as('reco_dr_cols') AS queried \gset
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), :'queried', 'direct reads answer as the queries do');
SELECT is(pg_temp.dr_answers(), :'queried', 'the owner (direct reads) answers as the queries do');
SELECT ok(length(:'queried') > 1000, 'the compared answers are not empty');

-- a retrain is served at once, by both ways
SELECT (reco.train('dr', 'dr_clicks', weight_col => 'w', factors => 6, iterations => 4, regularization => 2)).version;
SELECT pg_temp.dr_answers_as('reco_dr_cols') AS queried2 \gset
SELECT ok(:'queried2' <> :'queried', 'the retrain changed the answers');
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), :'queried2', 'direct reads serve the retrained version at once');

-- forget_user: the direct read no longer finds the user
SELECT reco.forget_user(3::bigint, 'dr');
SELECT reco.forget_user('cust-3', 'drt');
SET LOCAL ROLE reco_dr_table;
SELECT is(pg_temp.dr_served(3, 4), '{0,5,0,5}'::bigint[], 'a forgotten user is unknown to the direct read, the others served');
RESET ROLE;
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), pg_temp.dr_answers_as('reco_dr_cols'),
          'after forget_user both ways still agree');

-- indexes with the usual names (tried first, by name) on other keys: not read, the query decides
SAVEPOINT dr_names;
ALTER TABLE reco.user_factors DROP CONSTRAINT user_factors_pkey;
DROP INDEX reco.user_factors_user_key;
CREATE INDEX user_factors_pkey ON reco.user_factors (user_id, model_id);
CREATE INDEX user_factors_user_key ON reco.user_factors (user_key, model_id) WHERE user_key IS NOT NULL;
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), pg_temp.dr_answers_as('reco_dr_cols'),
          'indexes named as reco names them but on other keys are not read directly');
ROLLBACK TO SAVEPOINT dr_names;

-- row security on reco.user_factors: the query applies the policy (user 4 hidden: unknown)
CREATE POLICY dr_hide_4 ON reco.user_factors FOR SELECT USING (user_id <> 4 AND user_key IS DISTINCT FROM 'cust-4');
CREATE POLICY dr_all ON reco.models FOR SELECT USING (true);
ALTER TABLE reco.user_factors ENABLE ROW LEVEL SECURITY;
SET LOCAL ROLE reco_dr_table;
SELECT is(pg_temp.dr_served(4, 5), '{0,5,0,5}'::bigint[], 'row security on user_factors hides user 4 (the query decides)');
RESET ROLE;
-- and on reco.models: the policy hides the model (42704 as for an unknown one)
ALTER TABLE reco.user_factors DISABLE ROW LEVEL SECURITY;
DROP POLICY dr_all ON reco.models;
CREATE POLICY dr_hide_model ON reco.models FOR SELECT USING (name <> 'dr');
ALTER TABLE reco.models ENABLE ROW LEVEL SECURITY;
SET LOCAL ROLE reco_dr_table;
SELECT throws_ok($$SELECT * FROM reco.recommend('dr', 5, 5)$$, '42704', NULL,
                 'row security on models hides the model (the query decides)');
RESET ROLE;
ALTER TABLE reco.models DISABLE ROW LEVEL SECURITY;

-- a column left out of the grants, and a revoked grant: the query refuses (42501)
REVOKE SELECT (seen_weights) ON reco.user_factors FROM reco_dr_cols;
SET LOCAL ROLE reco_dr_cols;
SELECT throws_ok($$SELECT * FROM reco.recommend('dr', 5, 5)$$, '42501', NULL,
                 'without a grant on seen_weights the user query refuses');
RESET ROLE;
REVOKE SELECT ON reco.user_factors FROM reco_dr_table;
SET LOCAL ROLE reco_dr_table;
SELECT throws_ok($$SELECT * FROM reco.recommend('dr', 5, 5)$$, '42501', NULL,
                 'a revoked grant on user_factors is refused');
RESET ROLE;
GRANT SELECT ON reco.user_factors TO reco_dr_table;

-- without USAGE on schema reco the direct read is not taken: the query refuses (42501)
REVOKE USAGE ON SCHEMA reco FROM reco_dr_table;
SET LOCAL ROLE reco_dr_table;
SELECT throws_ok($$SELECT * FROM reco.recommend('dr', 5, 5)$$, '42501', NULL,
                 'without USAGE on schema reco serving is refused, as the query refuses it');
RESET ROLE;
GRANT USAGE ON SCHEMA reco TO reco_dr_table;

-- a child table of user_factors (inheritance): the query reads it too, so the direct read
-- is not taken; user 999, known only there, is served (5 rows) as by the query
CREATE TABLE public.dr_child () INHERITS (reco.user_factors);
INSERT INTO public.dr_child (model_id, user_id, factors, seen_items, seen_weights)
SELECT model_id, 999, f.factors, f.seen_items, f.seen_weights FROM ONLY reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE m.name = 'dr' AND f.user_id = 5 ORDER BY m.version DESC LIMIT 1;
GRANT SELECT ON public.dr_child TO reco_dr_table;
SET LOCAL ROLE reco_dr_table;
SELECT is(pg_temp.dr_served(999, 5), '{5,5,0,5}'::bigint[], 'a user in a child table of user_factors is served (the query reads children)');
RESET ROLE;
DROP TABLE public.dr_child;

-- a NULL where reco's tables say NOT NULL (a DBA's change): a clear error (XX001), not a crash
SAVEPOINT dr_null;
ALTER TABLE reco.user_factors ALTER seen_weights DROP NOT NULL;
UPDATE reco.user_factors SET seen_weights = NULL
 WHERE user_id = 6 AND model_id = (SELECT model_id FROM reco.models WHERE name = 'dr' ORDER BY version DESC LIMIT 1);
SELECT throws_ok($$SELECT * FROM reco.recommend('dr', 6, 5)$$, 'XX001', NULL,
                 'a NULL seen_weights is reported as corrupted data');
ROLLBACK TO SAVEPOINT dr_null;

-- no (model_id, user_id) index: the query reads the user, with the same answers
SELECT pg_temp.dr_answers_as('reco_dr_table') AS indexed \gset
ALTER TABLE reco.user_factors DROP CONSTRAINT user_factors_pkey;
-- and a key index with another predicate, which lacks cust-5: not used (the query finds cust-5)
DROP INDEX reco.user_factors_user_key;
CREATE INDEX dr_partial_key ON reco.user_factors (model_id, user_key) WHERE user_key <> 'cust-5';
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), :'indexed', 'without the indexes the query answers the same');
SET LOCAL ROLE reco_dr_table;
SELECT is(pg_temp.dr_served(5, 6), '{5,5,5,5}'::bigint[], 'an index with another predicate is not read directly');
RESET ROLE;
-- the newest version is found whatever the order of reco.models's rows: the older
-- version's row rewritten (now after the newer one in the table)
SELECT pg_temp.dr_answers() AS before_models \gset
UPDATE reco.models SET stats = stats || '{"dr_touched": true}' WHERE name IN ('dr', 'drt') AND version = 1;
SELECT is(pg_temp.dr_answers(), :'before_models', 'the newest version is served when an older row comes later in the table');
-- a retrain inside this transaction, then its version deleted: the scan follows the snapshot
SAVEPOINT dr_retrain;
SELECT (reco.train('dr', 'dr_clicks', weight_col => 'w', factors => 6, iterations => 2, regularization => 3)).version;
SELECT isnt(pg_temp.dr_answers(), :'before_models', 'a retrain is served at once by the scan of reco.models');
ROLLBACK TO SAVEPOINT dr_retrain;
-- reco.models larger than RECO_MODELS_SCAN_MAX_BLOCKS (8) pages: read through its index
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions, factors, loss, train_seconds)
SELECT 'dr_pad_' || g, 1, 'ials', jsonb_build_object('pad', repeat('x', 1500)), 0, 0, 0, 1, '{}', 0
  FROM generate_series(1, 100) AS g;
SELECT ok(pg_relation_size('reco.models') > 8 * 8192, 'reco.models now has more than 8 pages');
SELECT is(pg_temp.dr_answers(), :'before_models', 'a larger reco.models is read through its index, with the same answers');
SELECT is(pg_temp.dr_answers_as('reco_dr_table'), :'before_models', 'and so for a role with table-wide grants');
-- nor a (name, version) index on reco.models: the query reads a larger reco.models
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'reco.models'::regclass AND contype = 'u' LOOP
        EXECUTE format('ALTER TABLE reco.models DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
SELECT is(pg_temp.dr_answers(), :'before_models', 'without the models index the query answers the same');

SELECT * FROM finish();
ROLLBACK;
