-- refresh: reco.refresh_users / refresh_items (and their _text twins) re-solve users or
-- items of the served version in place from their current rows in the model's source.
SET client_min_messages = warning;
SET extra_float_digits = 0;

CREATE TABLE rf_orders (customer_id bigint, product_id bigint, quantity real);
INSERT INTO rf_orders
SELECT u, (u * 7 + j * j) % 30 + 1, 1 + (u + j) % 3
  FROM generate_series(1, 50) AS u, generate_series(1, 6) AS j;
CREATE INDEX ON rf_orders (customer_id);

-- the model remembers its source and columns
SELECT params->>'source' AS source, params->>'user_col' AS user_col, params->>'item_col' AS item_col,
       params->>'weight_col' AS weight_col, stats ? 'read_started_at' AS read_start_recorded
  FROM reco.train('rf', 'rf_orders', 'customer_id', 'product_id', 'quantity',
                  factors => 4, iterations => 3, regularization => 1);
-- the options form too; without weight_col nothing is recorded for it
SELECT params->>'source' AS source, params->>'user_col' AS user_col, params ? 'weight_col' AS has_weight_col
  FROM reco.train('rf_opts', 'rf_orders', options => '{"user_col": "customer_id", "item_col": "product_id", "factors": 2, "iterations": 1}');
SELECT reco.drop_model('rf_opts');
-- reco.fit takes them as options (an aggregate-trained model can record them)
SELECT (m).params->>'source' AS source, (m).params->>'weight_col' AS weight_col
  FROM (SELECT reco.fit('rf_fit', customer_id, product_id, quantity,
                        '{"factors": 4, "iterations": 3, "regularization": 1, "source": "rf_orders",
                          "user_col": "customer_id", "item_col": "product_id", "weight_col": "quantity"}') AS m
          FROM rf_orders) AS s;
SELECT outcome($$SELECT reco.fit('x', customer_id, product_id, 1, '{"source": 5}') FROM rf_orders$$);

CREATE TABLE rf_trained AS
SELECT f.user_id, f.factors, f.seen_items, f.seen_weights
  FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'rf';
CREATE TABLE rf_trained_items AS
SELECT f.item_id, f.factors, f.popularity
  FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'rf';
CREATE VIEW rf_users AS
SELECT f.* FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'rf';
CREATE VIEW rf_items AS
SELECT f.* FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'rf';

-- refreshing with unchanged data changes nothing: every user's bytes are training's
-- (the refresh is training's final exact pass), whether listed or all
SELECT * FROM reco.refresh_users('rf', ARRAY[1, 2, 3]);
SELECT * FROM reco.refresh_users('rf');
SELECT count(*) AS users, count(*) FILTER (WHERE t.factors = f.factors AND t.seen_items = f.seen_items
                                          AND t.seen_weights = f.seen_weights) AS identical
  FROM rf_trained AS t FULL JOIN rf_users AS f USING (user_id);
SELECT n_users, n_interactions, stats->>'users_refreshed' AS users_refreshed,
       stats->>'users_added' AS users_added, stats->>'users_removed' AS users_removed,
       stats ? 'refreshed_at' AS refreshed_at_recorded, (stats->>'user_generation')::bigint > 0 AS generation_set
  FROM reco.models WHERE name = 'rf';

-- a customer buys: their vector is re-solved from their whole current history, and equals
-- the fold-in of the same rows bit for bit (every item's score is the same float)
INSERT INTO rf_orders VALUES (1, 20, 2), (1, 21, 1), (1, 20, 1);
SELECT * FROM reco.refresh_users('rf', ARRAY[1]);
SELECT seen_items, seen_weights FROM rf_users WHERE user_id = 1;
SELECT count(*) AS scores,
       count(*) FILTER (WHERE r.score = c.score) AS identical
  FROM reco.recommend('rf', 1, 100, exclude_seen => false) AS r
  FULL JOIN reco.recommend_for_items('rf',
              (SELECT array_agg(product_id) FROM rf_orders WHERE customer_id = 1),
              (SELECT array_agg(quantity) FROM rf_orders WHERE customer_id = 1),
              100, exclude_seen => false) AS c USING (item_id);
-- explain still sums to the score
SELECT abs(e.total - r.score) < 1e-5 AS explain_sums_to_score
  FROM (SELECT item_id, score FROM reco.recommend('rf', 1, 1)) AS r,
       LATERAL (SELECT sum(contribution) AS total FROM reco.explain('rf', 1, r.item_id, 100)) AS e;

-- a new customer gets a row; a listed id with no row anywhere is skipped
INSERT INTO rf_orders VALUES (100, 3, 1), (100, 4, 2), (100, 5, 1);
SELECT * FROM reco.refresh_users('rf', ARRAY[100, 999, NULL]);
SELECT user_id, seen_items FROM rf_users WHERE user_id = 100;
SELECT count(*) AS recommended FROM reco.recommend('rf', 100, 5, fallback => 'none');
-- weights follow training's rules: a net-zero pair is dropped, a net-negative pair trains
-- but is not seen, a customer without a positive pair is removed (or not added)
INSERT INTO rf_orders VALUES (100, 3, -1), (100, 6, -2), (101, 7, -1);
SELECT * FROM reco.refresh_users('rf', ARRAY[100, 101]);
SELECT seen_items, seen_weights FROM rf_users WHERE user_id = 100;
SELECT count(*) FILTER (WHERE item_id IN (4, 5)) AS seen_excluded, count(*) FILTER (WHERE item_id = 6) AS negative_servable
  FROM reco.recommend('rf', 100, 100);
-- rows gone: the customer is removed, and serving falls back to best-sellers
DELETE FROM rf_orders WHERE customer_id = 100;
SELECT * FROM reco.refresh_users('rf', ARRAY[100]);
SELECT count(*) AS rows_left FROM rf_users WHERE user_id = 100;
SELECT count(*) AS served FROM reco.recommend('rf', 100, 3, fallback => 'none');
SELECT m.n_users = (SELECT count(*) FROM rf_users) AS n_users_right,
       m.stats->>'users_added' AS users_added, m.stats->>'users_removed' AS users_removed
  FROM reco.models AS m WHERE m.name = 'rf';
-- an empty list changes nothing, not even the models row
CREATE TABLE rf_models_before AS SELECT * FROM reco.models WHERE name = 'rf';
SELECT * FROM reco.refresh_users('rf', '{}');
SELECT (SELECT m FROM reco.models AS m WHERE name = 'rf')::text = (SELECT b FROM rf_models_before AS b)::text AS unchanged;
-- a bigint model takes the text twin too (ids read as the model's type)
SELECT * FROM reco.refresh_users_text('rf', ARRAY['2', ' 3']);

-- a new product with its first purchases gets factors without a retrain (solved against
-- the user factors), with its popularity, and becomes recommendable; serving in this
-- backend sees it at once (the item side's generation changed: the cache reloads)
SELECT count(*) AS similar_before FROM reco.similar_items('rf', 31, 3);
INSERT INTO rf_orders VALUES (2, 31, 1), (3, 31, 2), (4, 31, 1), (5, 31, 1);
SELECT * FROM reco.refresh_items('rf', ARRAY[31, 32]);
SELECT item_id, popularity FROM rf_items WHERE item_id = 31;
SELECT count(*) AS similar_after FROM reco.similar_items('rf', 31, 3);
SELECT count(*) AS candidate_scored FROM reco.recommend('rf', 6, 1, candidates => ARRAY[31]);
SELECT count(*) AS in_best_sellers FROM reco.recommend('rf', 12345, 100) WHERE item_id = 31;
SELECT n_items, stats->>'items_added' AS items_added, (stats->>'item_generation')::bigint > 0 AS generation_set
  FROM reco.models WHERE name = 'rf';
-- the customers who bought it learn it from their history once refreshed (items first)
SELECT * FROM reco.refresh_users('rf', ARRAY[2, 3, 4, 5]);
SELECT count(*) AS seen_by FROM rf_users WHERE 31 = ANY (seen_items);
-- refreshing an item twice on the same data gives the same bytes
SELECT * FROM reco.refresh_items('rf');
CREATE TABLE rf_items_once AS SELECT item_id, factors, popularity FROM rf_items;
SELECT * FROM reco.refresh_items('rf');
SELECT count(*) AS items, count(*) FILTER (WHERE o.factors = i.factors AND o.popularity = i.popularity) AS identical
  FROM rf_items_once AS o FULL JOIN rf_items AS i USING (item_id);

-- forget_user keeps working on a refreshed model
SELECT reco.forget_user(2, 'rf') AS versions_changed;
SELECT m.n_users = (SELECT count(*) FROM rf_users) AS n_users_right FROM reco.models AS m WHERE m.name = 'rf';
SELECT * FROM reco.refresh_users('rf', ARRAY[2]);
SELECT count(*) AS back FROM rf_users WHERE user_id = 2;

-- a model trained by the aggregate with the source recorded refreshes like one of train
SELECT * FROM reco.refresh_users('rf_fit', ARRAY[1, 2]);

-- text ids: a new key gets the next code whatever its place in key order, and every key is
-- still found exactly (serving looks keys up through a key-order permutation); ties among
-- items keep breaking by code, so a refreshed-in item sorts last on ties
CREATE TABLE rf_text AS SELECT 'c' || customer_id AS cust, 'p' || product_id AS sku, quantity FROM rf_orders;
CREATE INDEX ON rf_text (cust);
SELECT params->>'user_id_type' AS user_type, n_users, n_items
  FROM reco.train('rf_t', 'rf_text', 'cust', 'sku', 'quantity', factors => 4, iterations => 3, regularization => 1);
INSERT INTO rf_text VALUES ('a-first', 'p1', 1), ('a-first', 'p2', 2), ('c1', 'a-new', 1), ('c2', 'a-new', 1);
SELECT * FROM reco.refresh_items_text('rf_t', ARRAY['a-new']);
SELECT * FROM reco.refresh_users_text('rf_t', ARRAY['a-first', 'c1', 'c2', 'nobody']);
SELECT f.user_key, f.user_id = max(o.user_id) AS highest_code, f.user_key = min(o.user_key COLLATE "C") AS lowest_key
  FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id)
  JOIN reco.user_factors AS o USING (model_id)
 WHERE m.name = 'rf_t' AND f.user_key = 'a-first'
 GROUP BY f.user_key, f.user_id;
SELECT count(*) AS items, count(*) FILTER (WHERE s.n = 1) AS each_found
  FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id),
       LATERAL (SELECT count(*) AS n FROM reco.similar_items('rf_t', f.item_key, 1)) AS s
 WHERE m.name = 'rf_t';
SELECT count(*) AS users, count(*) FILTER (WHERE s.n = 1) AS each_found
  FROM reco.user_factors AS f JOIN reco.models AS m USING (model_id),
       LATERAL (SELECT count(*) AS n FROM reco.similar_users('rf_t', f.user_key, 1)) AS s
 WHERE m.name = 'rf_t';
SELECT count(*) AS scores, count(*) FILTER (WHERE r.score = c.score) AS identical
  FROM reco.recommend('rf_t', 'a-first'::text, 100, exclude_seen => false) AS r
  FULL JOIN reco.recommend_for_items_text('rf_t', ARRAY['p1', 'p2'], ARRAY[1, 2]::real[], 100,
                                          exclude_seen => false) AS c USING (item_id);
SELECT count(*) AS rows_for_new_user FROM reco.recommend_all_text('rf_t', 3, ARRAY['a-first']);
SELECT reco.forget_user('a-first'::text, 'rf_t') AS versions_changed;
-- the bigint form on a text model reads its ids as keys: 5 is the key '5', which it does not have
SELECT * FROM reco.refresh_users('rf_t', ARRAY[5]);

-- uuid ids: the list is read as uuids (canonical), the source filtered through a uuid[]
CREATE TABLE rf_uuid AS
SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(customer_id), 12, '0'))::uuid AS customer, product_id, quantity
  FROM rf_orders;
CREATE INDEX ON rf_uuid (customer);
SELECT params->>'user_id_type' AS user_type
  FROM reco.train('rf_u', 'rf_uuid', 'customer', 'product_id', 'quantity', factors => 4, iterations => 3, regularization => 1);
INSERT INTO rf_uuid VALUES ('00000000-0000-0000-0000-0000000000AA', 1, 1);
SELECT * FROM reco.refresh_users_text('rf_u', ARRAY['00000000-0000-0000-0000-0000000000AA', '00000000-0000-0000-0000-000000000001']);
SELECT count(*) AS served FROM reco.recommend('rf_u', '00000000-0000-0000-0000-0000000000aa'::uuid, 3, fallback => 'none');
SELECT outcome($$SELECT reco.refresh_users_text('rf_u', ARRAY['not-a-uuid'])$$);

-- rows of items the version does not know are left out (as a fold-in leaves them out)
INSERT INTO rf_orders VALUES (7, 99, 5);
SELECT * FROM reco.refresh_users('rf', ARRAY[7]);
SELECT 99 = ANY (seen_items) AS unknown_item_seen FROM rf_users WHERE user_id = 7;

-- bad input: the SQLSTATE, and nothing changed
CREATE TABLE rf_state AS
SELECT (SELECT md5(string_agg(m::text, ',' ORDER BY model_id)) FROM reco.models AS m) AS models,
       (SELECT md5(string_agg(f::text, ',' ORDER BY model_id, user_id)) FROM reco.user_factors AS f) AS users,
       (SELECT md5(string_agg(f::text, ',' ORDER BY model_id, item_id)) FROM reco.item_factors AS f) AS items;
INSERT INTO rf_orders VALUES (1, 22, 1);
SELECT outcome($$SELECT reco.refresh_users(NULL, ARRAY[1])$$);
SELECT outcome($$SELECT reco.refresh_items_text(NULL)$$);
SELECT outcome($$SELECT reco.refresh_users('nope', ARRAY[1])$$);
SELECT outcome($$SELECT reco.refresh_items('nope')$$);
SELECT outcome($$SELECT reco.refresh_users('rf', ARRAY[1], 'SELECT customer_id AS user_id, product_id FROM rf_orders')$$);
SELECT outcome($$SELECT reco.refresh_users('rf', ARRAY[1], 'rf_missing')$$);
SELECT outcome($$SELECT reco.refresh_users('rf', ARRAY[1], 'rf_orders; DROP TABLE rf_orders')$$);
SELECT outcome($$SELECT reco.refresh_users_text('rf', ARRAY['x'])$$);
SELECT outcome($$SELECT reco.refresh_users('rf', '{{1},{2}}')$$);
SELECT outcome($$SELECT reco.refresh_users('rf', ARRAY[1], $q$SELECT customer_id, product_id, 'NaN'::real AS quantity FROM rf_orders$q$)$$);
-- a role that may serve but not write the model tables (42501)
CREATE ROLE regress_reco_refresh_reader;
GRANT USAGE ON SCHEMA reco TO regress_reco_refresh_reader;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors, rf_orders TO regress_reco_refresh_reader;
SET ROLE regress_reco_refresh_reader;
SELECT count(*) AS serves FROM reco.recommend('rf', 1, 3);
SELECT outcome($$SELECT reco.refresh_users('rf', ARRAY[1])$$);
SELECT outcome($$SELECT reco.refresh_items('rf', ARRAY[1])$$);
RESET ROLE;
REVOKE ALL ON reco.models, reco.user_factors, reco.item_factors, rf_orders FROM regress_reco_refresh_reader;
REVOKE USAGE ON SCHEMA reco FROM regress_reco_refresh_reader;
DROP ROLE regress_reco_refresh_reader;
-- a model trained by the aggregate without a remembered source needs one
SELECT (m).version FROM (SELECT reco.fit('rf_bare', customer_id, product_id, quantity,
                                         '{"factors": 4, "iterations": 3, "regularization": 1}') AS m
                           FROM rf_orders) AS s;
CREATE TABLE rf_state_bare AS SELECT md5(string_agg(m::text, ',' ORDER BY model_id)) AS models FROM reco.models AS m;
SELECT outcome($$SELECT reco.refresh_users('rf_bare', ARRAY[1])$$);
\set VERBOSITY default
SELECT * FROM reco.refresh_items('rf_bare');
\set VERBOSITY terse
-- with a source it works (its columns named like the defaults)
SELECT * FROM reco.refresh_users('rf_bare', ARRAY[1],
  'SELECT customer_id AS user_id, product_id AS item_id, quantity FROM rf_orders');
SELECT md5(string_agg(m::text, ',' ORDER BY model_id)) <> (SELECT models FROM rf_state_bare) AS bare_changed_by_the_good_call
  FROM reco.models AS m;
-- a model with a half_life must record its time column (22023)
UPDATE reco.models SET params = params || '{"half_life": "90 days"}' WHERE name = 'rf_fit';
SELECT outcome($$SELECT reco.refresh_users('rf_fit', ARRAY[1])$$);
UPDATE reco.models SET params = params - 'half_life' WHERE name = 'rf_fit';
SELECT reco.drop_model('rf_bare');
SELECT (SELECT md5(string_agg(m::text, ',' ORDER BY model_id)) FROM reco.models AS m) = s.models AS models_unchanged,
       (SELECT md5(string_agg(f::text, ',' ORDER BY model_id, user_id)) FROM reco.user_factors AS f) = s.users AS users_unchanged,
       (SELECT md5(string_agg(f::text, ',' ORDER BY model_id, item_id)) FROM reco.item_factors AS f) = s.items AS items_unchanged
  FROM rf_state AS s;

-- A char(n) id column: the key list is compared as bpchar[] (a cast to
-- character[] would be char(1)[] and cut every key to one character)
CREATE TABLE rf_char (customer char(6), item_id bigint);
INSERT INTO rf_char SELECT 'cu' || lpad(u::text, 4, '0'), (u * 7 + j) % 12 + 1
  FROM generate_series(1, 30) AS u, generate_series(1, 4) AS j;
SELECT n_users, params->>'user_id_type' AS user_id_type
  FROM reco.train('rf_char', 'rf_char', user_col => 'customer', factors => 2, iterations => 2);
SELECT refreshed, added, removed, skipped FROM reco.refresh_users_text('rf_char', ARRAY['cu0001', 'cu0002']);
-- REPEATABLE READ and SERIALIZABLE: refused (0A000): the transaction's snapshot
-- would not see what committed while the refresh waited for the model's lock
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT outcome($$SELECT * FROM reco.refresh_users_text('rf_char', ARRAY['cu0001'])$$);
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT outcome($$SELECT * FROM reco.refresh_items('rf_char', ARRAY[1])$$);
ROLLBACK;
-- forget_user gives the users a new generation: users this backend cached
-- inside a rolled-back forget_user (one row fewer) are not served after
-- another user's forget_user (one row fewer again)
BEGIN;
SELECT reco.forget_user('cu0003'::text, 'rf_char');
SELECT count(*) AS similar FROM reco.similar_users('rf_char', 'cu0001', 100);
ROLLBACK;
SELECT reco.forget_user('cu0004'::text, 'rf_char');
SELECT count(*) FILTER (WHERE user_id = 'cu0004') AS forgotten_served,
       count(*) FILTER (WHERE user_id = 'cu0003') AS restored_served, count(*) AS similar
  FROM reco.similar_users('rf_char', 'cu0001', 100);
-- a customer whose rows now all name a product the version does not know
-- keeps their factors (skipped, not removed); refresh_items gives the product
-- factors from that customer, and then the customer is refreshed
CREATE TEMP TABLE rf_char_before AS
  SELECT factors FROM reco.user_factors
   WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'rf_char') AND user_key = 'cu0005';
DELETE FROM rf_char WHERE customer = 'cu0005';
INSERT INTO rf_char VALUES ('cu0005', 99);
SELECT refreshed, added, removed, skipped FROM reco.refresh_users_text('rf_char', ARRAY['cu0005']);
SELECT f.factors = b.factors AS factors_kept
  FROM reco.user_factors AS f, rf_char_before AS b
 WHERE f.model_id = (SELECT model_id FROM reco.models WHERE name = 'rf_char') AND f.user_key = 'cu0005';
SELECT refreshed, added, removed, skipped FROM reco.refresh_items('rf_char', ARRAY[99]);
SELECT refreshed, added, removed, skipped FROM reco.refresh_users_text('rf_char', ARRAY['cu0005']);
SELECT seen_items = ARRAY[99]::bigint[] AS sees_the_new_product
  FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'rf_char') AND user_key = 'cu0005';
DROP TABLE rf_char_before;
SELECT reco.drop_model('rf_char');
DROP TABLE rf_char;

SELECT reco.drop_model(name) FROM (SELECT DISTINCT name FROM reco.models WHERE name IN ('rf', 'rf_fit', 'rf_t', 'rf_u')) AS n;
DROP VIEW rf_users, rf_items;
DROP TABLE rf_orders, rf_text, rf_uuid, rf_trained, rf_trained_items, rf_models_before, rf_items_once, rf_state, rf_state_bare;
