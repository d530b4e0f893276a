-- fit: the reco.fit aggregate and reco.train — what is stored, versions,
-- pruning, GROUP BY, NULL rows, duplicates, and every bad input.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse

-- one statement trains and returns the new reco.models row
SELECT name, version, algorithm, n_users, n_items, n_interactions, factors,
       array_length(loss, 1) AS losses, params
  FROM (SELECT reco.fit('tiny', customer_id, product_id, quantity,
                        '{"factors": 4, "iterations": 5, "solver": "cholesky", "regularization": 0.1}') AS m
          FROM purchases) s, LATERAL (SELECT (s.m).*) r;

-- statistics of the training
SELECT key, jsonb_typeof(value) AS type FROM reco.models, jsonb_each(stats)
 WHERE name = 'tiny' ORDER BY key;
SELECT stats->'rows_read' AS rows_read, stats->'rows_skipped' AS skipped,
       stats->'duplicates_merged' AS merged, stats->'users' AS users, stats->'items' AS items,
       jsonb_array_length(stats->'iteration_seconds') AS timed_iterations,
       (stats->>'memory_bytes')::bigint > 0 AS memory_estimated,
       (stats->>'store_overlapped_seconds')::float8 BETWEEN 0 AND (stats->>'final_solve_seconds')::float8
         AS stored_inside_final_pass
  FROM reco.models WHERE name = 'tiny';

-- factor rows: k * 4 bytes each, and each user's training interactions
SELECT count(*) AS users, min(octet_length(factors)) AS min_bytes, max(octet_length(factors)) AS max_bytes
  FROM reco.user_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'tiny');
SELECT item_id, octet_length(factors) AS bytes, popularity
  FROM reco.item_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'tiny')
 ORDER BY item_id;
SELECT user_id, seen_items, seen_weights
  FROM reco.user_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'tiny')
 ORDER BY user_id;

-- NULL ids and weights are skipped and counted; duplicate pairs are summed
SELECT (m).n_users, (m).n_interactions, (m).stats->'rows_read' AS rows_read,
       (m).stats->'rows_skipped' AS skipped, (m).stats->'duplicates_merged' AS merged
  FROM (SELECT reco.fit('dups', u, i, w, '{"factors": 2, "iterations": 1}') AS m
          FROM (VALUES (1, 10, 1.0), (1, 10, 2.5), (1, 11, 1.0), (2, 10, 1.0), (NULL, 10, 1.0),
                       (2, NULL, 1.0), (2, 11, NULL), (1, 10, 0.5)) AS v(u, i, w)) s;
SELECT user_id, seen_items, seen_weights FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'dups') ORDER BY user_id;

-- versions: each training adds one; keep_versions prunes the oldest (rows too)
SELECT (reco.train('tiny', 'purchases', 'customer_id', 'product_id', 'quantity', factors => 4,
                   iterations => 2, keep_versions => 2)).version;
SELECT (reco.train('tiny', 'purchases', 'customer_id', 'product_id', 'quantity', factors => 4,
                   iterations => 2, keep_versions => 2)).version;
SELECT name, version FROM reco.models WHERE name = 'tiny' ORDER BY version;
SELECT count(DISTINCT model_id) AS versions_with_user_rows FROM reco.user_factors
 WHERE model_id IN (SELECT model_id FROM reco.models WHERE name = 'tiny');
SELECT count(*) AS orphan_rows FROM reco.user_factors
 WHERE model_id NOT IN (SELECT model_id FROM reco.models);
SELECT count(*) AS orphan_rows FROM reco.item_factors
 WHERE model_id NOT IN (SELECT model_id FROM reco.models);
-- keep_versions 0 keeps every version
SELECT (reco.train('tiny', 'purchases', 'customer_id', 'product_id', factors => 2, iterations => 1,
                   keep_versions => 0)).version;
SELECT count(*) AS versions FROM reco.models WHERE name = 'tiny';

-- GROUP BY trains one model per group
SELECT (m).name, (m).n_users, (m).n_items
  FROM (SELECT reco.fit('segment_' || (customer_id % 2), customer_id, product_id, quantity,
                        '{"factors": 2, "iterations": 1}') AS m
          FROM purchases GROUP BY customer_id % 2) s
 ORDER BY 1;

-- reco.train: a query as source, weight 1 when weight_col is NULL, quoted column names
CREATE TABLE "Odd Table" ("Customer Id" bigint, "item" bigint);
INSERT INTO "Odd Table" SELECT customer_id, product_id FROM purchases;
SELECT name, n_users, n_items, n_interactions, params->>'factors' AS factors
  FROM reco.train('odd', '"Odd Table"', 'Customer Id', 'item', factors => 3, iterations => 1);
SELECT DISTINCT unnest(seen_weights) AS weight FROM reco.user_factors
 WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'odd');
SELECT name, n_users, n_interactions
  FROM reco.train('from_query', 'SELECT customer_id AS user_id, product_id AS item_id FROM purchases WHERE customer_id <= 3',
                  factors => 2, iterations => 1);

-- defaults of reco.train are reco.fit's defaults
SELECT params FROM reco.train('defaults', 'purchases', 'customer_id', 'product_id', iterations => 1);
SELECT params FROM (SELECT reco.fit('defaults2', customer_id, product_id, 1) AS m FROM purchases) s,
       LATERAL (SELECT (s.m).params) p;

-- bad input: each a clear error with its SQLSTATE, and nothing written
SELECT count(*) AS models_before FROM reco.models \gset
\set VERBOSITY sqlstate
SELECT reco.fit('empty', customer_id, product_id, quantity) FROM purchases WHERE false;
SELECT reco.fit('nulls', NULL::bigint, product_id, quantity) FROM purchases;
SELECT reco.fit('nan', customer_id, product_id, CASE WHEN product_id = 104 THEN 'NaN'::real ELSE 1 END) FROM purchases;
SELECT reco.fit('inf', customer_id, product_id, 'Infinity'::real) FROM purchases;
SELECT reco.fit('', customer_id, product_id, 1) FROM purchases;
SELECT reco.fit(repeat('x', 64), customer_id, product_id, 1) FROM purchases;
SELECT reco.fit(NULL, customer_id, product_id, 1) FROM purchases;
SELECT reco.fit('m' || customer_id, customer_id, product_id, 1) FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"factor": 8}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"factors": 0}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"factors": 2.5}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"factors": "8"}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"regularization": -1}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"alpha": 0}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"iterations": 0}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"cg_steps": 101}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"solver": "lu"}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"algorithm": "svd"}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"algorithm": "als", "alpha": 2}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"learning_rate": 0.1}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"unobserved_weight": 0}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"threads": -1}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '[1, 2]') FROM purchases;
SET reco.max_memory = '1MB';
SELECT reco.fit('big', customer_id, product_id, 1, '{"factors": 1024, "threads": 1}') FROM purchases;
RESET reco.max_memory;
SELECT * FROM reco.train('bad', 'no_such_table');
SELECT * FROM reco.train('bad', 'purchases', 'customer_id; DROP TABLE purchases', 'product_id');
SELECT * FROM reco.train('bad', 'purchases', NULL, 'product_id');
\set VERBOSITY default
-- (threads 1: the memory estimate grows with the thread count, i.e. the machine's cores)
SELECT reco.fit('empty', customer_id, product_id, quantity) FROM purchases WHERE false;
SELECT reco.fit('nulls', NULL::bigint, product_id, quantity) FROM purchases;
SELECT reco.fit('nan', customer_id, product_id, CASE WHEN product_id = 104 THEN 'NaN'::real ELSE 1 END) FROM purchases;
SELECT reco.fit(repeat('x', 64), customer_id, product_id, 1) FROM purchases;
SELECT reco.fit('m' || customer_id, customer_id, product_id, 1) FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"factor": 8}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"regularization": -1}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"solver": "lu"}') FROM purchases;
SELECT reco.fit('bad', customer_id, product_id, 1, '{"algorithm": "bpr", "cg_steps": 2}') FROM purchases;
SELECT reco.train('bad', 'purchases', 'customer_id', 'product_id', algorithm => 'als', solver => 'cg');
SET reco.max_memory = '1MB';
SELECT reco.fit('big', customer_id, product_id, 1, '{"factors": 1024, "threads": 1}') FROM purchases;
RESET reco.max_memory;
SELECT * FROM reco.train('bad', 'no_such_table');
SELECT * FROM reco.train('bad', 'purchases', 'customer_id; DROP TABLE purchases', 'product_id');
\set VERBOSITY terse
SELECT count(*) = :models_before AS nothing_written FROM reco.models;
SELECT count(*) AS purchases_still_there FROM purchases;
