-- test/fuzz/fixtures.sql — the database test/fuzz/run.sh fuzzes (run as superuser):
-- interaction tables, trained and hand-made models (zero vectors, NaN and
-- infinite factors, a model without factor rows, one to tamper with), a role
-- with a training role's rights, and scalar wrappers of reco's set-returning
-- functions (sqlsmith calls only functions that return one value).
SET client_min_messages = warning;
CREATE EXTENSION reco;

CREATE TABLE clicks AS
SELECT u AS user_id, (u * 7 + j * j * 13) % 300 AS item_id, (1 + (u + j) % 3)::real AS weight
  FROM generate_series(1, 200) AS u, generate_series(1, 8) AS j;
CREATE TABLE clicks_small AS SELECT * FROM clicks WHERE user_id <= 12;
CREATE TABLE views AS
SELECT DISTINCT u AS user_id,
       floor(5000 * power(((u * 7919 + j * 104729) % 99991) / 99991.0, 2))::bigint AS item_id
  FROM generate_series(1, 300) AS u, generate_series(1, 20) AS j;
CREATE TABLE customers AS SELECT DISTINCT user_id FROM clicks;

SELECT (reco.train('shop', 'clicks', weight_col => 'weight', factors => 8, iterations => 3,
                   regularization => 1)).version;
SELECT (reco.train('shop', 'clicks', weight_col => 'weight', factors => 8, iterations => 2,
                   regularization => 1)).version;
SELECT (reco.train('wide', 'views', factors => 16, iterations => 2, regularization => 1,
                   solver => 'cholesky')).version;
SELECT (reco.train('one', 'SELECT 1 AS user_id, 1 AS item_id', factors => 1, iterations => 1)).version;
SELECT (reco.train('scratch', 'clicks_small', factors => 2, iterations => 1)).version;

-- Hand-made models: a models row and its factor rows, as a DBA could write them.
CREATE FUNCTION pg_temp.hand_model(model text, k integer, item_vectors real[][], user_vectors real[][],
                                   alpha real DEFAULT 1, regularization real DEFAULT 0.5)
RETURNS void LANGUAGE plpgsql AS $hand$
DECLARE
    id bigint;
BEGIN
    INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                             factors, loss, train_seconds)
    VALUES (model, 1, 'ials',
            jsonb_build_object('alpha', alpha, 'regularization', regularization),
            coalesce(array_length(user_vectors, 1), 0), coalesce(array_length(item_vectors, 1), 0),
            0, k, '{}', 0)
    RETURNING model_id INTO id;
    INSERT INTO reco.item_factors
    SELECT id, i, reco.to_bytea(ARRAY(SELECT unnest(item_vectors[i:i][1:k]))), 1
      FROM generate_series(1, coalesce(array_length(item_vectors, 1), 0)) AS i;
    INSERT INTO reco.user_factors
    SELECT id, u, reco.to_bytea(ARRAY(SELECT unnest(user_vectors[u:u][1:k]))), ARRAY[1, 2]::bigint[], '{1, -1}'::real[]
      FROM generate_series(1, coalesce(array_length(user_vectors, 1), 0)) AS u;
END
$hand$;
-- zero vectors among the items and users
SELECT pg_temp.hand_model('zero', 2, '{{0, 0}, {1, 0}, {0, 0}, {0.5, 2}}', '{{0, 0}, {1, 1}, {0, 0}}');
-- NaN and infinite factors
SELECT pg_temp.hand_model('nan', 2, '{{NaN, 1}, {Infinity, 0}, {-Infinity, 1}, {1, 1}, {0, NaN}}',
                          '{{1, 1}, {NaN, NaN}, {Infinity, -Infinity}}', 'NaN', 'Infinity');
-- a models row without any factor row
SELECT pg_temp.hand_model('empty', 4, NULL, NULL);
-- the model the generator rewrites (factors, counts) inside rolled-back transactions
SELECT pg_temp.hand_model('tamper', 2, '{{1, 0}, {0, 1}, {1, 1}}', '{{1, 2}, {2, 1}}');

-- The fuzzing role: what the README grants a training role, plus the tables.
DROP ROLE IF EXISTS reco_fuzzer;
CREATE ROLE reco_fuzzer LOGIN;
GRANT USAGE ON SCHEMA reco TO reco_fuzzer;
GRANT SELECT, INSERT, UPDATE, DELETE ON reco.models, reco.user_factors, reco.item_factors TO reco_fuzzer;
GRANT USAGE ON SEQUENCE reco.models_model_id_seq TO reco_fuzzer;
GRANT SELECT ON clicks, clicks_small, views, customers TO reco_fuzzer;

-- One-value wrappers of the set-returning functions, for sqlsmith.
CREATE SCHEMA fuzz;
GRANT USAGE ON SCHEMA fuzz TO reco_fuzzer;
CREATE FUNCTION fuzz.recommend(model text, user_id bigint, n integer, exclude_seen boolean,
                               candidates bigint[], exclude bigint[]) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(item_id || ':' || score, ',')
                     FROM reco.recommend(model, user_id, n, exclude_seen, candidates, exclude) $$;
CREATE FUNCTION fuzz.recommend_short(user_id bigint, n bigint) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(item_id || ':' || score, ',') FROM reco.recommend(user_id, n) $$;
CREATE FUNCTION fuzz.recommend_for_items(model text, items bigint[], weights real[], n integer,
                                         exclude_seen boolean, candidates bigint[], exclude bigint[]) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(item_id || ':' || score, ',')
                     FROM reco.recommend_for_items(model, items, weights, n, exclude_seen, candidates, exclude) $$;
CREATE FUNCTION fuzz.similar_items(model text, item_id bigint, n integer, candidates bigint[]) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(s.item_id || ':' || similarity, ',')
                     FROM reco.similar_items(model, item_id, n, candidates) AS s $$;
CREATE FUNCTION fuzz.similar_users(model text, user_id bigint, n integer) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(s.user_id || ':' || similarity, ',')
                     FROM reco.similar_users(model, user_id, n) AS s $$;
CREATE FUNCTION fuzz.explain(model text, user_id bigint, item_id bigint, n integer) RETURNS text
LANGUAGE sql AS $$ SELECT string_agg(e.item_id || ':' || contribution, ',')
                     FROM reco.explain(model, user_id, item_id, n) AS e $$;
CREATE FUNCTION fuzz.recommend_all(model text, n integer, users bigint[], exclude_seen boolean) RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM reco.recommend_all(model, n, users, exclude_seen) $$;
CREATE FUNCTION fuzz.evaluate(model text, test_source text, k integer, user_col text, item_col text) RETURNS text
LANGUAGE sql AS $$ SELECT e::text FROM reco.evaluate(model, test_source, k, user_col, item_col) AS e $$;
CREATE FUNCTION fuzz.evaluate_pairs(model text, users bigint[], items bigint[], k integer) RETURNS text
LANGUAGE sql AS $$ SELECT e::text FROM reco_internal.evaluate_pairs(model, users, items, k) AS e $$;
CREATE FUNCTION fuzz.cache_info() RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM reco.cache_info() $$;
