-- ids_train: training, storage, evaluation and forget_user with text and uuid
-- ids.  A text or uuid side stores codes (the keys' 1-based ranks in byte
-- order, COLLATE "C") beside the keys; the factors of a text model are, bit
-- for bit, those of the bigint model whose ids are the codes.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET reco.threads = 2;


-- A shop keyed by strings: 'Cust-e' sorts before 'cust-a' (bytes, not
-- dictionary order); a NULL customer is skipped; 'cust-z' returned what it
-- bought (net 0), so it trains but is not stored, and its code is missing.
CREATE TABLE ids_orders (customer text, sku varchar(10), qty real);
INSERT INTO ids_orders VALUES
  ('cust-b', 'sku-2', 1), ('cust-a', 'sku-1', 2), ('cust-b', 'sku-1', 1),
  ('cust-c', 'sku-3', 1), ('cust-a', 'sku-3', 1), ('Cust-e', 'sku-10', 1),
  ('cust-d', 'sku-2', 1), ('cust-d', 'sku-10', 2), ('cust-c', 'sku-1', 1),
  ('cust-a', 'sku-1', 1), (NULL, 'sku-2', 1), ('cust-z', 'sku-3', 1), ('cust-z', 'sku-3', -1),
  ('424242', 'sku-2', 1), ('Cust-e', 'sku-3', 2);

-- reco.train sees a text and a varchar column: text ids on both sides
SELECT name, n_users, n_items, n_interactions, params->>'user_id_type' AS user_type,
       params->>'item_id_type' AS item_type, stats->'rows_skipped' AS skipped, stats->'users' AS users
  FROM reco.train('ids_text', 'ids_orders', 'customer', 'sku', 'qty', factors => 3, iterations => 4);
SELECT user_id, user_key, seen_items, seen_weights FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text') ORDER BY user_id;
SELECT item_id, item_key, popularity FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text') ORDER BY item_id;
-- code order is key order (COLLATE "C")
SELECT bool_and(ordered) AS codes_in_key_order FROM (
    SELECT user_key > lag(user_key COLLATE "C") OVER (ORDER BY user_id) OR lag(user_key) OVER (ORDER BY user_id) IS NULL AS ordered
      FROM reco.user_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text')) s;

-- The same exactness as bigint ids: the bigint model of the same rows whose
-- ids are the codes (dense ranks of the keys in byte order) has the same
-- factors, bit for bit, user by user and item by item.
CREATE TABLE ids_coded AS
SELECT dense_rank() OVER (ORDER BY customer COLLATE "C") AS user_id,
       dense_rank() OVER (ORDER BY sku COLLATE "C") AS item_id, qty
  FROM ids_orders WHERE customer IS NOT NULL;
SELECT (reco.train('ids_coded', 'ids_coded', weight_col => 'qty', factors => 3, iterations => 4)).n_users;
CREATE FUNCTION pg_temp.same_factors(a text, b text) RETURNS text LANGUAGE sql AS $same$
    SELECT format('users %s of %s equal, items %s of %s equal',
        (SELECT count(*) FROM reco.user_factors x JOIN reco.user_factors y USING (user_id)
          WHERE x.model_id = (SELECT model_id FROM reco.models WHERE name = a)
            AND y.model_id = (SELECT model_id FROM reco.models WHERE name = b)
            AND reco.to_array(x.factors) = reco.to_array(y.factors) AND x.factors = y.factors
            AND x.seen_items = y.seen_items AND x.seen_weights = y.seen_weights),
        (SELECT n_users FROM reco.models WHERE name = b),
        (SELECT count(*) FROM reco.item_factors x JOIN reco.item_factors y USING (item_id)
          WHERE x.model_id = (SELECT model_id FROM reco.models WHERE name = a)
            AND y.model_id = (SELECT model_id FROM reco.models WHERE name = b)
            AND x.factors = y.factors AND x.popularity = y.popularity),
        (SELECT n_items FROM reco.models WHERE name = b));
$same$;
SELECT pg_temp.same_factors('ids_text', 'ids_coded');
SELECT (SELECT loss FROM reco.models WHERE name = 'ids_text') = (SELECT loss FROM reco.models WHERE name = 'ids_coded') AS same_loss;
-- the memory estimate counts the keys: two 64 kB blocks and 96 bytes for each of the 11 keys (7 customers, 4 SKUs)
SELECT (t.stats->>'memory_bytes')::bigint - (c.stats->>'memory_bytes')::bigint AS key_bytes
  FROM reco.models t, reco.models c WHERE t.name = 'ids_text' AND c.name = 'ids_coded';

-- reco.fit directly, one model per GROUP BY group: the same model
SELECT (m).name, (m).n_users FROM (
    SELECT reco.fit(g, customer, sku, qty, '{"factors": 3, "iterations": 4}') AS m
      FROM ids_orders, (VALUES ('ids_fit')) AS v(g) GROUP BY g) s;
SELECT pg_temp.same_factors('ids_fit', 'ids_coded');
SELECT count(*) AS same_keys FROM reco.user_factors x JOIN reco.user_factors y USING (user_id, user_key)
 WHERE x.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_fit')
   AND y.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text');
-- bigint ids read from text (user_id_type, item_id_type 'bigint'): no keys, the bigint model
SELECT (reco.fit('ids_fit_bigint', user_id::text, item_id::text, qty,
                 '{"factors": 3, "iterations": 4, "user_id_type": "bigint", "item_id_type": "bigint"}')).params->>'user_id_type'
  FROM ids_coded;
SELECT pg_temp.same_factors('ids_fit_bigint', 'ids_coded');
SELECT count(*) AS keys FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_fit_bigint') AND user_key IS NOT NULL;

-- uuid users (a uuid column) and text SKUs: keys are canonical lower-case uuids
CREATE TABLE ids_visits (visitor uuid, sku text);
INSERT INTO ids_visits VALUES
  ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'sku-1'), ('{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'sku-2'),
  ('00000000-0000-0000-0000-00000000000b', 'sku-2'), ('ffffffff-0000-0000-0000-000000000000', 'sku-3'),
  ('00000000-0000-0000-0000-00000000000b', 'sku-3');
SELECT name, params->>'user_id_type' AS user_type, params->>'item_id_type' AS item_type, n_users, n_items
  FROM reco.train('ids_uuid', 'ids_visits', 'visitor', 'sku', factors => 2, iterations => 2);
SELECT user_id, user_key, seen_items FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_uuid') ORDER BY user_id;
-- the same uuids as text, in upper case and other spellings: canonicalized, the same model
SELECT (reco.fit('ids_uuid_text', upper(visitor::text), sku, 1,
                 '{"factors": 2, "iterations": 2, "user_id_type": "uuid"}')).n_users
  FROM ids_visits;
SELECT pg_temp.same_factors('ids_uuid_text', 'ids_uuid');
SELECT count(*) AS same_keys FROM reco.user_factors x JOIN reco.user_factors y USING (user_id, user_key)
 WHERE x.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_uuid_text')
   AND y.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_uuid');
SELECT (reco.fit('ids_uuid_braces', s, 'sku-1', 1, '{"user_id_type": "uuid", "factors": 2, "iterations": 1}')).n_users
  FROM (VALUES ('{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}'), ('a0eebc999c0b4ef8bb6d6bb9bd380a11'),
               ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')) AS v(s);
SELECT user_id, user_key FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_uuid_braces');

-- bigint customers and text SKUs: the user side stores no key
CREATE TABLE ids_mixed (customer_id integer, sku text);
INSERT INTO ids_mixed VALUES (424242, 'sku-b'), (7, 'sku-a'), (7, 'sku-b'), (8, 'sku-c');
SELECT name, params->>'user_id_type' AS user_type, params->>'item_id_type' AS item_type
  FROM reco.train('ids_mixed', 'ids_mixed', 'customer_id', 'sku', factors => 2, iterations => 2);
SELECT user_id, user_key, seen_items FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_mixed') ORDER BY user_id;
SELECT item_id, item_key FROM reco.item_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_mixed') ORDER BY item_id;

-- Bad input, each with its SQLSTATE (nothing is kept)
\pset format unaligned
\pset tuples_only on
SELECT outcome($$SELECT reco.fit('x', 'not-a-uuid', 'a', 1, '{"user_id_type": "uuid"}')$$);
SELECT outcome($$SELECT reco.fit('x', 'a', 'sku-1', 1, '{"item_id_type": "bigint"}')$$);
SELECT outcome($$SELECT reco.fit('x', '99999999999999999999', 'a', 1, '{"user_id_type": "bigint"}')$$);
SELECT outcome($$SELECT reco.fit('x', 1, 2, 1, '{"user_id_type": "text"}')$$);
SELECT outcome($$SELECT reco.fit('x', 1, 2, 1, '{"item_id_type": "uuid"}')$$);
SELECT outcome($$SELECT reco.fit('x', 1, 2, 1, '{"item_id_type": "bigint"}')$$);
SELECT outcome($$SELECT reco.fit('x', 'a', 'b', 1, '{"user_id_type": "int"}')$$);
SELECT outcome($$SELECT reco.fit('x', 'a', 'b', 1, '{"item_id_type": 1}')$$);
SELECT outcome($$SELECT reco.fit('x', 'cust-a', 'sku-1', 'NaN')$$);
SELECT outcome($$SELECT reco.fit('x', 7::text, 'sku-1', 'Infinity', '{"user_id_type": "bigint"}')$$);
SELECT outcome($$SELECT reco.train('x', 'ids_orders', options => '{"user_col": "customer", "item_col": "sku", "user_id_type": "text"}')$$);
-- text read as uuid ids must be uuids
SELECT outcome($$SELECT reco.fit('x', customer, sku, 1, '{"user_id_type": "uuid"}') FROM ids_orders$$);
-- an empty source with text columns: the types are found without a row, then reco.fit has none
SELECT outcome($$SELECT reco.train('x', 'SELECT * FROM ids_orders WHERE false', 'customer', 'sku')$$);
-- a column of another type is read as bigint, as before 0.4.0: jsonb numbers train, a jsonb string is 22023
SELECT outcome($$SELECT reco.train('x', 'SELECT to_jsonb(7) AS user_id, to_jsonb(1) AS item_id', iterations => 1)$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT to_jsonb(''cust-a''::text) AS user_id, 1 AS item_id')$$);
SELECT outcome($$SELECT reco.train('x', 'SELECT true AS user_id, 1 AS item_id')$$);
\pset format aligned
\pset tuples_only off

-- evaluate: held-out pairs by key, an unknown customer and an unknown SKU
-- among them; the metrics equal those of the bigint model on the codes
CREATE TABLE ids_held_out (customer text, sku text);
INSERT INTO ids_held_out VALUES ('cust-a', 'sku-2'), ('cust-b', 'sku-3'), ('cust-c', 'sku-2'),
  ('cust-c', 'sku-99'), ('cust-new', 'sku-1'), ('Cust-e', 'sku-1'), ('Cust-e', 'sku-2'), (NULL, 'sku-1');
CREATE TABLE ids_held_out_coded AS
SELECT COALESCE(u.user_id, -1000 - dense_rank() OVER (ORDER BY h.customer)) AS user_id,
       COALESCE(i.item_id, -1000 - dense_rank() OVER (ORDER BY h.sku)) AS item_id
  FROM ids_held_out h
  LEFT JOIN reco.user_factors u ON u.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text') AND u.user_key = h.customer
  LEFT JOIN reco.item_factors i ON i.model_id = (SELECT model_id FROM reco.models WHERE name = 'ids_text') AND i.item_key = h.sku
 WHERE h.customer IS NOT NULL;
SELECT precision_at_k, recall_at_k, map_at_k, ndcg_at_k, capped_precision, auc, coverage, users_evaluated,
       users_unknown, round(intra_list_diversity::numeric, 4) AS ild, round(novelty::numeric, 4) AS novelty,
       round(gini::numeric, 4) AS gini
  FROM reco.evaluate('ids_text', 'ids_held_out', 2, 'customer', 'sku');
SELECT (SELECT e FROM reco.evaluate('ids_text', 'ids_held_out', 2, 'customer', 'sku') e)::text
     = (SELECT e FROM reco.evaluate('ids_coded', 'ids_held_out_coded', 2) e)::text AS same_metrics;
-- a uuid model evaluated from text in any spelling
SELECT users_evaluated, users_unknown FROM reco.evaluate('ids_uuid',
    $$VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'sku-3'), ('{00000000-0000-0000-0000-00000000000b}', 'sku-1'),
             ('12345678-0000-0000-0000-000000000000', 'sku-1')$$, 2, 'column1', 'column2');
\pset format unaligned
\pset tuples_only on
SELECT outcome($$SELECT * FROM reco.evaluate('ids_uuid', 'SELECT ''cust-a'' AS user_id, ''sku-1'' AS item_id')$$);
SELECT outcome($$SELECT * FROM reco.evaluate('ids_mixed', 'SELECT ''cust-a'' AS user_id, ''sku-a'' AS item_id')$$);
\pset format aligned
\pset tuples_only off

-- forget_user: the id is read as each model's user id type; a model that
-- cannot read it is skipped, never an error
SELECT name, n_users FROM reco.models WHERE name LIKE 'ids\_%' ORDER BY name;
SELECT reco.forget_user('cust-a') AS text_form;            -- ids_text, ids_fit
SELECT reco.forget_user(424242) AS bigint_form;             -- ids_mixed (bigint users), ids_text and ids_fit (key '424242')
SELECT reco.forget_user('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11') AS text_uuid;  -- ids_uuid, ids_uuid_text, ids_uuid_braces
SELECT reco.forget_user('00000000-0000-0000-0000-00000000000b'::uuid, 'ids_uuid') AS uuid_form;
SELECT reco.forget_user('cust-b', 'ids_uuid') AS unreadable, reco.forget_user('cust-b', 'ids_mixed') AS unreadable_bigint,
       reco.forget_user(7::bigint, 'ids_uuid') AS bigint_on_uuid, reco.forget_user('7', 'ids_mixed') AS text_on_bigint;
SELECT name, n_users, stats->'users_forgotten' AS forgotten FROM reco.models WHERE name LIKE 'ids\_%' ORDER BY name;
SELECT count(*) AS left_behind FROM reco.user_factors f JOIN reco.models m USING (model_id)
 WHERE m.name LIKE 'ids\_%' AND (f.user_key IN ('cust-a', '424242', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
                                OR (f.user_key IS NULL AND f.user_id IN (424242, 7)));
\pset format unaligned
\pset tuples_only on
SELECT outcome($$SELECT reco.forget_user(NULL::text)$$);
SELECT outcome($$SELECT reco.forget_user(NULL::uuid)$$);
SELECT outcome($$SELECT reco.forget_user('cust-a', 'no_such_model')$$);
\pset format aligned
\pset tuples_only off

SELECT sum(reco.drop_model(name)) AS versions_dropped
  FROM (SELECT DISTINCT name FROM reco.models WHERE name LIKE 'ids\_%') s;
DROP TABLE ids_orders, ids_coded, ids_visits, ids_mixed, ids_held_out, ids_held_out_coded;
