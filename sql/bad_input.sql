-- bad_input: every reco function called with bad input — NULLs in each
-- argument, empty and malformed arrays, huge, zero and negative n, unknown
-- models, users and items, malformed factor values, out-of-range training
-- options, wrong array lengths, bad rows for the fit aggregate, injection
-- attempts through model names, column names and sources, and model rows
-- that contradict their models row.  Each case shows its SQLSTATE and message
-- (or "ok" and the number of rows it returned), and nothing a case did is
-- kept; the file ends by checking that the session (hence the server: a
-- crashed backend makes the postmaster end every session) is still up and
-- that no stored row changed.
-- (reco.drop_model and reco.forget_user have their bad input in lifecycle.sql.)
SET client_min_messages = warning;
SET extra_float_digits = 0;
\pset format unaligned
\pset tuples_only on


-- The fixtures: a trained model, a hand-made one with a zero-vector item and
-- a zero-vector user, and a victim table for the injection attempts.
SELECT (reco.train('bi', 'purchases', 'customer_id', 'product_id', 'quantity', factors => 2,
                   iterations => 2, regularization => 1)).version;
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('bi_hand', 1, 'ials', '{"alpha": 1, "regularization": 0.5}', 2, 3, 2, 2, '{}', 0);
INSERT INTO reco.item_factors
SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(f), 1
  FROM (VALUES (10, '{1, 0}'::real[]), (20, '{0, 0}'), (30, '{0.5, 2}')) AS v(i, f);
INSERT INTO reco.user_factors
VALUES (currval('reco.models_model_id_seq'), 1, reco.to_bytea('{1, 1}'), '{10}', '{1}'),
       (currval('reco.models_model_id_seq'), 2, reco.to_bytea('{0, 0}'), '{20}', '{1}');
CREATE TABLE t (user_id bigint, item_id bigint, weight real);
INSERT INTO t SELECT customer_id, product_id, quantity FROM purchases;
-- what must not change: every stored row of reco and the victim table
SELECT md5(string_agg(m::text, '|' ORDER BY model_id)) AS models_md5 FROM reco.models AS m \gset
SELECT md5(string_agg(f::text, '|' ORDER BY model_id, user_id)) AS users_md5 FROM reco.user_factors AS f \gset
SELECT md5(string_agg(f::text, '|' ORDER BY model_id, item_id)) AS items_md5 FROM reco.item_factors AS f \gset
SELECT pg_backend_pid() AS session_pid \gset

-- reco.version(), reco.to_array(bytea), reco.to_bytea(real[]):
-- STRICT, so NULL gives NULL; NaN and infinities pass through.
SELECT reco.version() IS NOT NULL AS has_version;
SELECT reco.to_array(NULL) IS NULL AS to_array_null, reco.to_bytea(NULL) IS NULL AS to_bytea_null;
SELECT reco.to_array(''), reco.to_bytea('{}');
SELECT reco.to_bytea('{NaN, Infinity, -Infinity}'), reco.to_array('\x0000c07f0000807f000080ff');
SELECT reco.to_bytea('[-5:-4]={1, 2}');
SELECT outcome($$SELECT reco.to_array('\x00')$$);
SELECT outcome($$SELECT reco.to_array('\x000000')$$);
SELECT outcome($$SELECT reco.to_array('\x0000803f00')$$);
SELECT outcome($$SELECT reco.to_array(decode(repeat('ab', 4099), 'hex'))$$);
SELECT outcome($$SELECT reco.to_bytea('{NULL}')$$);
SELECT outcome($$SELECT reco.to_bytea('{1, NULL, 3}')$$);
SELECT outcome($$SELECT reco.to_bytea('{{1, 2}, {3, 4}}')$$);
SELECT outcome($$SELECT reco.to_bytea('{{{1}}}')$$);
SELECT outcome($$SELECT reco.to_bytea(array_fill(1::real, ARRAY[100000]))$$);

-- reco_internal.source_from_item(text): a table or view name, or a query text
SELECT reco_internal.source_from_item(NULL) IS NULL AS strict, reco_internal.source_from_item('t'),
       reco_internal.source_from_item('  select 1');
SELECT outcome($$SELECT reco_internal.source_from_item('')$$);
SELECT outcome($$SELECT reco_internal.source_from_item('no_such_table')$$);
SELECT outcome($$SELECT reco_internal.source_from_item('t; DROP TABLE t')$$);
SELECT outcome($$SELECT reco_internal.source_from_item('pg_catalog.no_such_table')$$);

-- The aggregate's support functions cannot be called from SQL.
SELECT outcome($$SELECT reco_internal.fit_transfn(NULL, 'x', 1, 1, 1)$$);
SELECT outcome($$SELECT reco_internal.fit_finalfn(NULL)$$);

-- reco.fit: names, rows and weights
SELECT outcome($$SELECT reco.fit(NULL, customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit(NULL, customer_id, product_id, quantity, '{}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('', customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit(repeat('x', 64), customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit(repeat('é', 32), customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit('m' || customer_id, customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit(CASE WHEN customer_id = 3 THEN NULL ELSE 'x' END, customer_id, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity) FROM purchases WHERE false$$);
SELECT outcome($$SELECT reco.fit('x', NULL, product_id, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, NULL, quantity) FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, NULL) FROM purchases$$);
-- rows with a NULL user, item or weight are skipped (and counted)
SELECT outcome($$SELECT reco.fit('x', u, i, w, '{"factors": 2, "iterations": 1}') FROM (VALUES (1, 10, 1), (NULL, 10, 1), (1, NULL, 1), (1, 11, NULL)) AS v(u, i, w)$$);
-- negative weights are negative feedback, but a model needs a positive pair; NaN and
-- infinite weights are errors naming the row
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, CASE WHEN product_id = 105 THEN -quantity ELSE quantity END, '{"factors": 2, "iterations": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, -quantity, '{"factors": 2, "iterations": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, 0, '{"factors": 2, "iterations": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, CASE WHEN product_id = 105 THEN 'NaN' ELSE quantity END) FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, 'Infinity') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, '-Infinity') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, 3e38, '{"factors": 2, "iterations": 2}') FROM purchases$$);
-- extreme ids are ordinary ids
SELECT outcome($$SELECT reco.fit('x', u, i, 1, '{"factors": 2, "iterations": 1}') FROM (VALUES (-9223372036854775808, 9223372036854775807), (9223372036854775807, -9223372036854775808)) AS v(u, i)$$);

-- reco.fit options: a jsonb object of known keys with values in range; JSON null = default
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, NULL) FROM purchases WHERE false$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": null, "iterations": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '[1, 2]') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '"factors"') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, 'null') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '42') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"Factors": 8}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"": 8}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": "8"}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": true}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": [8]}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": {"k": 8}}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 2.5}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 0}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": -1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 1025}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 1e300}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 1e400}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"regularization": -1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"regularization": -1e-300}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"regularization": "NaN"}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"regularization": 1e10}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"alpha": 0}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"alpha": -1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"iterations": 0}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"iterations": 1001}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"seed": 9007199254740993}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"seed": 0.5}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"cg_steps": 0}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"cg_steps": 101}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"solver": "lu"}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"solver": 1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": "svd"}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"algorithm": ""}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"threads": -1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"threads": 999}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"keep_versions": -1}') FROM purchases$$);
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"keep_versions": 1000001}') FROM purchases$$);
-- regularization 0 with Cholesky: a singular system for a user with one item
SELECT outcome($$SELECT reco.fit('x', u, i, 1, '{"factors": 4, "regularization": 0, "solver": "cholesky", "iterations": 1}') FROM (VALUES (1, 10)) AS v(u, i)$$);
-- the memory budget refuses before allocating (the estimate counts each thread's scratch)
SET reco.max_memory = '1MB';
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, quantity, '{"factors": 1024, "threads": 1}') FROM purchases$$);
RESET reco.max_memory;

-- reco.train: arguments become reco.fit options; NULL options mean the defaults
SELECT outcome($$SELECT reco.train(NULL, 't')$$);
SELECT outcome($$SELECT reco.train('x', NULL)$$);
SELECT outcome($$SELECT reco.train('x', 't', user_col => NULL)$$);
SELECT outcome($$SELECT reco.train('x', 't', item_col => NULL)$$);
SELECT outcome($$SELECT reco.train('x', 't', weight_col => NULL, factors => NULL, regularization => NULL, alpha => NULL, iterations => 1, seed => NULL, cg_steps => NULL, solver => NULL, threads => NULL, keep_versions => NULL, algorithm => NULL)$$);
SELECT outcome($$SELECT reco.train('', 't')$$);
SELECT outcome($$SELECT reco.train(repeat('x', 64), 't')$$);
SELECT outcome($$SELECT reco.train('x', '')$$);
SELECT outcome($$SELECT reco.train('x', 'no_such_table')$$);
SELECT outcome($$SELECT reco.train('x', 't', user_col => 'no_such_column')$$);
SELECT outcome($$SELECT reco.train('x', 't', weight_col => '')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT ''a'' AS user_id, 1 AS item_id')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT 1 AS user_id, 1 AS item_id, ''heavy'' AS w', weight_col => 'w')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT 1 AS user_id, 1 AS item_id, ''NaN''::real AS w', weight_col => 'w')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT 1.5 AS user_id, 1e30 AS item_id')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT NULL::bigint AS user_id, 1 AS item_id')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT 1 AS user_id, 1 AS item_id WHERE false')$$);
SELECT outcome($$SELECT reco.train('x', 't', factors => 0)$$);
SELECT outcome($$SELECT reco.train('x', 't', factors => -1)$$);
SELECT outcome($$SELECT reco.train('x', 't', factors => 2147483647)$$);
SELECT outcome($$SELECT reco.train('x', 't', regularization => -1)$$);
SELECT outcome($$SELECT reco.train('x', 't', regularization => 'NaN')$$);
SELECT outcome($$SELECT reco.train('x', 't', regularization => 'Infinity')$$);
SELECT outcome($$SELECT reco.train('x', 't', alpha => -1)$$);
SELECT outcome($$SELECT reco.train('x', 't', alpha => 'NaN')$$);
SELECT outcome($$SELECT reco.train('x', 't', iterations => 0)$$);
SELECT outcome($$SELECT reco.train('x', 't', iterations => -2147483648)$$);
SELECT outcome($$SELECT reco.train('x', 't', seed => 9223372036854775807)$$);
SELECT outcome($$SELECT reco.train('x', 't', cg_steps => 0)$$);
SELECT outcome($$SELECT reco.train('x', 't', solver => 'lu')$$);
SELECT outcome($$SELECT reco.train('x', 't', solver => '')$$);
SELECT outcome($$SELECT reco.train('x', 't', algorithm => 'svd')$$);
SELECT outcome($$SELECT reco.train('x', 't', threads => 999)$$);
SELECT outcome($$SELECT reco.train('x', 't', threads => -1)$$);
SELECT outcome($$SELECT reco.train('x', 't', keep_versions => -1)$$);
-- threads 0 (= number of cores) and keep_versions 0 (= keep all) are valid
SELECT outcome($$SELECT reco.train('x', 't', factors => 2, iterations => 1, threads => 0, keep_versions => 0)$$);

-- reco.recommend(model, user_id, n, exclude_seen, candidates, exclude)
SELECT outcome($$SELECT * FROM reco.recommend(NULL, 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend(NULL, NULL, NULL, NULL, NULL, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, true, NULL, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 0)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, -1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, -2147483648)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 2147483647, false)$$);
SELECT outcome($$SELECT * FROM reco.recommend('no_such_model', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('BI', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 999)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', -9223372036854775808)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 9223372036854775807)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, true, '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, true, '{NULL, NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, '{101, 101, 999, NULL, -1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, '{{101, 102}, {103, 104}}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, exclude => '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, exclude => '{101, NULL, 999}')$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, exclude => (SELECT array_agg(DISTINCT product_id) FROM purchases))$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi', 1, 10, false, '{101, 102}', '{101, 102}')$$);
-- the zero-vector user of bi_hand: every score 0; the zero-vector item is ranked like any other
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 2, 5)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1, 5, false)$$);

-- reco.recommend(user_id, n): the short form (two models exist: one must be chosen)
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 5::bigint)$$);
SET reco.model = 'bi';
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, NULL::bigint)$$);
SELECT outcome($$SELECT * FROM reco.recommend(NULL::bigint, 5::bigint)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 0::bigint)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, -1::bigint)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, -9223372036854775808)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 9223372036854775807)$$);
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 2147483648)$$);
SELECT outcome($$SELECT * FROM reco.recommend(999::bigint, 5::bigint)$$);
SET reco.model = 'no_such_model';
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 5::bigint)$$);
SET reco.model = '';
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 5::bigint)$$);
RESET reco.model;

-- reco.recommend_for_items(model, items, weights, n, exclude_seen, candidates, exclude)
SELECT outcome($$SELECT * FROM reco.recommend_for_items(NULL, '{101}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', n => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', exclude_seen => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', candidates => NULL, exclude => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{}', '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{NULL, NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{998, 999}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{{101, 102}, {103, 104}}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', '{1, 2}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{}', '{1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{{1, 2}}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{1, NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{NULL, 102}', '{NULL, 1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{1, NaN}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{Infinity, 1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{1, -Infinity}')$$);
-- neither given item has a positive weight: exclude_seen excludes neither
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{-1, 0}')$$);
-- a confidence of exactly α0 (weight 1) adds nothing to the system: solved by Woodbury
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{-1e30, 1}')$$);
-- the explicit system of a huge and a normal confidence loses G in float
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{-1e30, 2}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101, 102}', '{3e38, 3e38}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', n => 0)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', n => -1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', n => 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('no_such_model', '{101}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', candidates => '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', candidates => '{NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi', '{101}', exclude => '{102, 102, NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi_hand', '{20}')$$);
-- the given item nets to 0: not seen, so not excluded
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi_hand', '{20, 20, 20}', '{1, -1, 0}')$$);

-- reco.similar_items(model, item_id, n, candidates) and reco.similar_users(model, user_id, n)
SELECT outcome($$SELECT * FROM reco.similar_items(NULL, 101)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, NULL)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, 10, NULL)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, 0)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, -2147483648)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('no_such_model', 101)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 999)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, 10, '{}')$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi', 101, 10, '{101, NULL, 999}')$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi_hand', 20)$$);
SELECT outcome($$SELECT * FROM reco.similar_users(NULL, 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', 1, NULL)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', 1, 0)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', 1, -1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', 1, 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('no_such_model', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi', 999)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi_hand', 2)$$);

-- reco.explain(model, user_id, item_id, n)
SELECT outcome($$SELECT * FROM reco.explain(NULL, 1, 101)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', NULL, 101)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, NULL)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, 101, NULL)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, 101, 0)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, 101, -1)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, 104, 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.explain('no_such_model', 1, 101)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 999, 101)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi', 1, 999)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi_hand', 2, 10)$$);

-- reco.recommend_all(model, n, users, exclude_seen)
SELECT outcome($$SELECT * FROM reco.recommend_all(NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, NULL, NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 0)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', -1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2147483647, exclude_seen => false)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('no_such_model', 2)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, '{NULL}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, '{3, 3, 999, NULL, -9223372036854775808, 1}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi', 2, '{{1, 2}, {3, 4}}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 5)$$);

-- reco.cache_info() and reco.cache_reset(): no arguments, nothing to get wrong
SELECT outcome($$SELECT * FROM reco.cache_info()$$) LIKE 'ok, %' AS cache_info;
SELECT outcome($$SELECT reco.cache_reset()$$);
SELECT outcome($$SELECT * FROM reco.cache_info()$$);

-- reco.evaluate(model, test_source, k, user_col, item_col)
SELECT outcome($$SELECT * FROM reco.evaluate(NULL, 't')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', NULL)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', NULL)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', user_col => NULL)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', item_col => NULL)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', 0)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', -1)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', 10001)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', 2147483647)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', 10000)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('no_such_model', 't')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'no_such_table')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', '')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', user_col => 'no_such_column')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT 1 AS user_id, 1 AS item_id WHERE false')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT NULL::bigint AS user_id, 1 AS item_id')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT ''x'' AS user_id, 1 AS item_id')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT 999 AS user_id, 999 AS item_id')$$);

-- reco_internal.evaluate_pairs(model, users, items, k)
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs(NULL, '{1}', '{101}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', NULL, '{101}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', NULL, 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', '{101}', NULL)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{}', '{}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1, 2}', '{101}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', '{101, 102}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{}', '{101}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{{1, 2}}', '{101, 102}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{{1, 2}}', '{{101, 102}}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1, NULL}', '{101, 102}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1, 2}', '{101, NULL}', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', '{101}', 0)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', '{101}', 10001)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{1}', '{101}', -2147483648)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('no_such_model', '{1}', '{101}', 10)$$);
-- unsorted, duplicated and unknown pairs are fine; only unknown users: NULL metrics
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi', '{3, 1, 3, 999}', '{101, 104, 101, 101}', 10000)$$);
SELECT * FROM reco_internal.evaluate_pairs('bi', '{998, 999}', '{101, 101}', 10);

-- reco.lock_model(name): STRICT
SELECT outcome($$SELECT reco.lock_model(NULL)$$);

-- Injection attempts: model names are values, column names are quoted
-- identifiers, and a source is one table name or one query.
SELECT outcome($$SELECT * FROM reco.recommend('x''); DROP TABLE t; --', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all(E'bi\'; DROP TABLE t; --', 2)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('x''); DROP TABLE t; --', 't')$$);
SELECT outcome($$SELECT reco.lock_model('x''); DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', 't', user_col => 'user_id"; DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', 't', item_col => 'item_id) FROM t; DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', 't', weight_col => 'weight"::real FROM t; DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', 't; DROP TABLE t')$$);
SELECT outcome($$SELECT reco.train('x', 't AS src; DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT * FROM t; DROP TABLE t')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT * FROM t) AS s; DROP TABLE t; --')$$);
SELECT outcome($$SELECT reco.train('x', E'SELECT * FROM t) AS s; DROP TABLE t; --\n')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't', user_col => 'user_id"; DROP TABLE t; --')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 't; DROP TABLE t')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT * FROM t; DROP TABLE t')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('bi', 'SELECT * FROM t) AS s; DROP TABLE t; --')$$);
SET reco.model = 'x''); DROP TABLE t; --';
SELECT outcome($$SELECT * FROM reco.recommend(1::bigint, 5::bigint)$$);
RESET reco.model;
-- a hostile model name is stored verbatim and served by that exact name
SELECT name, version, n_users
  FROM reco.train('x''); DROP TABLE t; --', 't', factors => 2, iterations => 1);
SELECT name FROM reco.models WHERE name LIKE 'x%' ORDER BY name;
SELECT count(*) AS served FROM reco.recommend('x''); DROP TABLE t; --', 1, 3);
DELETE FROM reco.user_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name LIKE 'x%');
DELETE FROM reco.item_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name LIKE 'x%');
DELETE FROM reco.models WHERE name LIKE 'x%';
SELECT count(*) AS victim_rows FROM t;

-- Hand-made model rows that contradict their models row (the model tables are
-- ordinary tables): each is refused, in a transaction rolled back afterwards.
-- The per-backend cache is not transactional: it is reset after each rollback.
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
-- a factor value of the wrong length
UPDATE reco.item_factors SET factors = '\x0000803f'
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND item_id = 30;
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi_hand', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi_hand', '{1}', '{30}', 5)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
-- more factor rows than n_items and n_users say
UPDATE reco.models SET n_items = 1, n_users = 1 WHERE name = 'bi_hand';
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi_hand', 1)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
-- seen items with a NULL, seen weights of another length, a seen item the model lacks
UPDATE reco.user_factors SET seen_items = '{10, NULL}'
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND user_id = 1;
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
UPDATE reco.user_factors SET seen_items = '{10, 30}'
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND user_id = 1;
SELECT outcome($$SELECT * FROM reco.explain('bi_hand', 1, 20)$$);
UPDATE reco.user_factors SET seen_items = '{999}'
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND user_id = 1;
SELECT outcome($$SELECT * FROM reco.explain('bi_hand', 1, 20)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
-- factors outside 1 .. 1024, and negative counts: the models table's CHECK
-- constraints refuse them; with the constraints dropped (a DBA may), every
-- serving function still refuses such a row (XX001) before any kernel sees it
SELECT outcome($$UPDATE reco.models SET factors = 0 WHERE name = 'bi_hand'$$);
SELECT outcome($$UPDATE reco.models SET factors = 2000 WHERE name = 'bi_hand'$$);
SELECT outcome($$UPDATE reco.models SET n_items = -1 WHERE name = 'bi_hand'$$);
-- a rolled-back edit of the factor count must not leave a matrix of the other
-- width in this backend's cache: the next call reloads it (exact scores 2.5, 0)
BEGIN;
UPDATE reco.models SET factors = 4 WHERE name = 'bi_hand';
UPDATE reco.item_factors SET factors = reco.to_bytea('{1, 1, 1, 1}')
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
UPDATE reco.user_factors SET factors = reco.to_bytea('{1, 1, 1, 1}')
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi_hand', 1)$$);
ROLLBACK;
SELECT * FROM reco.recommend('bi_hand', 1);
SELECT * FROM reco.similar_users('bi_hand', 2);
-- a NaN or infinite stored factor is refused too (training never stores one)
BEGIN;
UPDATE reco.item_factors SET factors = reco.to_bytea('{NaN, 1}')
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND item_id = 30;
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi_hand', 10)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
UPDATE reco.user_factors SET factors = reco.to_bytea('{-Infinity, 1}')
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand') AND user_id = 1;
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi_hand', 1, 20)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
ALTER TABLE reco.models DROP CONSTRAINT models_factors_check, DROP CONSTRAINT models_counts_check;
UPDATE reco.models SET factors = 0 WHERE name = 'bi_hand';
UPDATE reco.item_factors SET factors = '' WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
UPDATE reco.user_factors SET factors = '' WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1, candidates => '{10, 20}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi_hand', '{10}')$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi_hand', 10)$$);
SELECT outcome($$SELECT * FROM reco.explain('bi_hand', 1, 20)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
ALTER TABLE reco.models DROP CONSTRAINT models_factors_check, DROP CONSTRAINT models_counts_check;
UPDATE reco.models SET factors = -1 WHERE name = 'bi_hand';
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_items('bi_hand', 10)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('bi_hand', '{1}', '{30}', 5)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
ALTER TABLE reco.models DROP CONSTRAINT models_factors_check, DROP CONSTRAINT models_counts_check;
UPDATE reco.models SET factors = 2000 WHERE name = 'bi_hand';
UPDATE reco.item_factors SET factors = reco.to_bytea(array_fill(1::real, ARRAY[2000]))
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
UPDATE reco.user_factors SET factors = reco.to_bytea(array_fill(1::real, ARRAY[2000]))
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'bi_hand');
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1, candidates => '{10, 20}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('bi_hand', '{10}')$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi_hand', 1)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;
BEGIN;
ALTER TABLE reco.models DROP CONSTRAINT models_factors_check, DROP CONSTRAINT models_counts_check;
UPDATE reco.models SET n_items = -5, n_users = -5 WHERE name = 'bi_hand';
SELECT outcome($$SELECT * FROM reco.recommend('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('bi_hand', 1)$$);
SELECT outcome($$SELECT * FROM reco.similar_users('bi_hand', 1)$$);
ROLLBACK;
SELECT reco.cache_reset() >= 0 AS cache_reset;

-- Still up, in the same session, and nothing was changed by the cases above.
SELECT pg_backend_pid() = :session_pid AS same_session;
SELECT md5(string_agg(m::text, '|' ORDER BY model_id)) = :'models_md5' AS models_unchanged
  FROM reco.models AS m;
SELECT md5(string_agg(f::text, '|' ORDER BY model_id, user_id)) = :'users_md5' AS user_factors_unchanged
  FROM reco.user_factors AS f;
SELECT md5(string_agg(f::text, '|' ORDER BY model_id, item_id)) = :'items_md5' AS item_factors_unchanged
  FROM reco.item_factors AS f;
SELECT name, version FROM reco.models ORDER BY name, version;
SELECT count(*) AS victim_rows, to_regclass('t') IS NOT NULL AS victim_exists FROM t;

DROP TABLE t;
DELETE FROM reco.user_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name IN ('bi', 'bi_hand'));
DELETE FROM reco.item_factors WHERE model_id IN (SELECT model_id FROM reco.models WHERE name IN ('bi', 'bi_hand'));
DELETE FROM reco.models WHERE name IN ('bi', 'bi_hand');
\pset tuples_only off
\pset format aligned
