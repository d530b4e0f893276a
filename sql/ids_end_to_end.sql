-- ids_end_to_end: a model trained on text ids serves, through every text
-- form, exactly what the bigint model of its codes serves through the bigint
-- forms (same items in the same order with the same scores), and evaluates
-- the same.  Keys are not zero-padded, so their byte order ('cust-10' <
-- 'cust-2') is not the numbers' order: codes follow the keys.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET reco.threads = 2;

CREATE TABLE e2e_orders AS
SELECT 'cust-' || u AS customer, 'SKU-' || ((u * 7 + j * j * 3) % 60 + 1) AS sku, (1 + (u + j) % 3)::real AS qty
  FROM generate_series(1, 150) AS u, generate_series(1, 6) AS j;
CREATE TABLE e2e_user_codes AS
SELECT customer, dense_rank() OVER (ORDER BY customer COLLATE "C") AS code
  FROM (SELECT DISTINCT customer FROM e2e_orders) AS c;
CREATE TABLE e2e_item_codes AS
SELECT sku, dense_rank() OVER (ORDER BY sku COLLATE "C") AS code
  FROM (SELECT DISTINCT sku FROM e2e_orders) AS s;
CREATE TABLE e2e_coded AS
SELECT u.code AS user_id, i.code AS item_id, o.qty
  FROM e2e_orders AS o JOIN e2e_user_codes AS u USING (customer) JOIN e2e_item_codes AS i USING (sku);

SELECT n_users, n_items, params->>'user_id_type' AS user_ids, params->>'item_id_type' AS item_ids
  FROM reco.train('e2e_text', 'e2e_orders', 'customer', 'sku', 'qty', factors => 8, iterations => 5, regularization => 2);
SELECT n_users, n_items, params->>'user_id_type' AS user_ids, params->>'item_id_type' AS item_ids
  FROM reco.train('e2e_code', 'e2e_coded', weight_col => 'qty', factors => 8, iterations => 5, regularization => 2);

-- recommend: every customer, text form against bigint form mapped to keys
SELECT count(*) AS customers,
       count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM e2e_user_codes AS u,
       LATERAL (SELECT array_agg(r.item_id || ':' || r.score ORDER BY r.score DESC, r.item_id COLLATE "C") AS answer
                  FROM reco.recommend('e2e_text', u.customer, 5) AS r) AS t,
       LATERAL (SELECT array_agg(i.sku || ':' || r.score ORDER BY r.score DESC, i.sku COLLATE "C") AS answer
                  FROM reco.recommend('e2e_code', u.code, 5) AS r JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b;

-- the rows come back best first, ties by key: the text form's own order equals the bigint form's
SELECT count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different_order
  FROM e2e_user_codes AS u,
       LATERAL (SELECT array_agg(r.item_id ORDER BY r.ord) AS answer
                  FROM reco.recommend('e2e_text', u.customer, 8) WITH ORDINALITY AS r(item_id, score, ord)) AS t,
       LATERAL (SELECT array_agg(i.sku ORDER BY r.ord) AS answer
                  FROM reco.recommend('e2e_code', u.code, 8) WITH ORDINALITY AS r(item_id, score, ord)
                  JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b;

-- candidates, exclude, exclude_seen => false
SELECT count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM e2e_user_codes AS u,
       LATERAL (SELECT array_agg(r.item_id || ':' || r.score ORDER BY r.score DESC, r.item_id COLLATE "C") AS answer
                  FROM reco.recommend('e2e_text', u.customer, 4, false,
                                      candidates => ARRAY['SKU-1', 'SKU-10', 'SKU-2', 'SKU-33', 'SKU-47', 'SKU-60'],
                                      exclude => ARRAY['SKU-10']) AS r) AS t,
       LATERAL (SELECT array_agg(i.sku || ':' || r.score ORDER BY r.score DESC, i.sku COLLATE "C") AS answer
                  FROM reco.recommend('e2e_code', u.code, 4, false,
                                      candidates => (SELECT array_agg(code) FROM e2e_item_codes
                                                      WHERE sku IN ('SKU-1', 'SKU-10', 'SKU-2', 'SKU-33', 'SKU-47', 'SKU-60')),
                                      exclude => (SELECT array_agg(code) FROM e2e_item_codes WHERE sku = 'SKU-10')) AS r
                  JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b
 WHERE u.code % 10 = 0;

-- carts: recommend_for_items_text with weights against recommend_for_items on codes
SELECT count(*) AS carts, count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM (SELECT g, ARRAY['SKU-' || g, 'SKU-' || (g * 3 % 60 + 1)] AS skus FROM generate_series(1, 60, 7) AS g) AS cart,
       LATERAL (SELECT array_agg(r.item_id || ':' || r.score ORDER BY r.score DESC, r.item_id COLLATE "C") AS answer
                  FROM reco.recommend_for_items_text('e2e_text', cart.skus, ARRAY[2, 1]::real[], n => 5) AS r) AS t,
       LATERAL (SELECT array_agg(i.sku || ':' || r.score ORDER BY r.score DESC, i.sku COLLATE "C") AS answer
                  FROM reco.recommend_for_items('e2e_code',
                                                ARRAY[(SELECT code FROM e2e_item_codes WHERE sku = cart.skus[1]),
                                                      (SELECT code FROM e2e_item_codes WHERE sku = cart.skus[2])]::bigint[],
                                                ARRAY[2, 1]::real[], n => 5) AS r
                  JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b;

-- similar items (every SKU) and similar users (every tenth customer)
SELECT count(*) AS items, count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM e2e_item_codes AS s,
       LATERAL (SELECT array_agg(r.item_id || ':' || r.similarity ORDER BY r.similarity DESC, r.item_id COLLATE "C") AS answer
                  FROM reco.similar_items('e2e_text', s.sku, 5) AS r) AS t,
       LATERAL (SELECT array_agg(i.sku || ':' || r.similarity ORDER BY r.similarity DESC, i.sku COLLATE "C") AS answer
                  FROM reco.similar_items('e2e_code', s.code, 5) AS r JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b;
SELECT count(*) AS customers, count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM e2e_user_codes AS u,
       LATERAL (SELECT array_agg(r.user_id || ':' || r.similarity ORDER BY r.similarity DESC, r.user_id COLLATE "C") AS answer
                  FROM reco.similar_users('e2e_text', u.customer, 5) AS r) AS t,
       LATERAL (SELECT array_agg(c.customer || ':' || r.similarity ORDER BY r.similarity DESC, c.customer COLLATE "C") AS answer
                  FROM reco.similar_users('e2e_code', u.code, 5) AS r JOIN e2e_user_codes AS c ON c.code = r.user_id) AS b
 WHERE u.code % 10 = 0;

-- explain: the same contributions, by key
SELECT count(*) AS pairs, count(*) FILTER (WHERE t.answer IS DISTINCT FROM b.answer) AS different,
       min(cardinality(t.answer)) AS min_rows
  FROM e2e_user_codes AS u CROSS JOIN (VALUES ('SKU-5'), ('SKU-50')) AS target(sku)
       JOIN e2e_item_codes AS ti ON ti.sku = target.sku,
       LATERAL (SELECT array_agg(r.item_id || ':' || r.contribution ORDER BY r.item_id COLLATE "C") AS answer
                  FROM reco.explain('e2e_text', u.customer, target.sku, 20) AS r) AS t,
       LATERAL (SELECT array_agg(i.sku || ':' || r.contribution ORDER BY i.sku COLLATE "C") AS answer
                  FROM reco.explain('e2e_code', u.code, ti.code, 20) AS r JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b
 WHERE u.code % 15 = 0;

-- recommend_all_text: every customer's top 3, ranked as recommend_all ranks the codes
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.user_id IS NULL OR t.user_id IS NULL) AS unmatched
  FROM (SELECT * FROM reco.recommend_all_text('e2e_text', 3)) AS t
  FULL JOIN (SELECT c.customer AS user_id, r.rank, i.sku AS item_id, r.score
               FROM reco.recommend_all('e2e_code', 3) AS r
               JOIN e2e_user_codes AS c ON c.code = r.user_id JOIN e2e_item_codes AS i ON i.code = r.item_id) AS b
    ON (t.user_id, t.rank, t.item_id, t.score) = (b.user_id, b.rank, b.item_id, b.score);

-- an unknown customer: the same best-sellers, by key
SELECT (SELECT array_agg(r.item_id || ':' || r.score ORDER BY r.ord)
          FROM reco.recommend('e2e_text', 'cust-999', 4) WITH ORDINALITY AS r(item_id, score, ord))
     = (SELECT array_agg(i.sku || ':' || r.score ORDER BY r.ord)
          FROM reco.recommend('e2e_code', 999, 4) WITH ORDINALITY AS r(item_id, score, ord)
          JOIN e2e_item_codes AS i ON i.code = r.item_id)
       AS same_best_sellers;

-- evaluate: held-out pairs by key and by code give the same metrics
CREATE TABLE e2e_held_out AS
SELECT 'cust-' || u AS customer, 'SKU-' || ((u * 11 + 5) % 60 + 1) AS sku FROM generate_series(1, 150, 3) AS u
UNION ALL SELECT 'cust-unknown', 'SKU-1';
SELECT (SELECT e FROM reco.evaluate('e2e_text', 'e2e_held_out', 5, 'customer', 'sku') AS e)::text
     = (SELECT e FROM reco.evaluate('e2e_code',
                   $$SELECT COALESCE(u.code, -1) AS user_id, i.code AS item_id
                       FROM e2e_held_out AS h LEFT JOIN e2e_user_codes AS u USING (customer)
                       JOIN e2e_item_codes AS i USING (sku)$$, 5) AS e)::text AS same_metrics;

SELECT reco.drop_model('e2e_text'), reco.drop_model('e2e_code');
DROP TABLE e2e_orders, e2e_user_codes, e2e_item_codes, e2e_coded, e2e_held_out;
