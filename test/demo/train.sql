-- test/demo/train.sql: the factor format, a held-out quality check, a model
-- trained on the shop's order lines in one statement, and what reco suggests
-- to a few customers (reco.recommend), with product names.
\pset footer off
SET client_min_messages = warning;

\echo
\echo '== The factor format: a bytea of little-endian float32, readable by any client'
SELECT reco.to_bytea('{0.5, -1, 2}'::real[]) AS bytea_value,
       reco.to_array(reco.to_bytea('{0.5, -1, 2}'::real[])) AS back_to_real_array;

\echo
\echo '== Tuning with reco.evaluate: train on orders before 2025-04-01, rank each customer''s'
\echo '   next-quarter purchases.  One statement trains three models (GROUP BY regularization):'
SELECT (m).name, (m).version, (m).n_users AS customers, (m).n_items AS products,
       round((m).train_seconds::numeric, 2) AS train_seconds
  FROM (SELECT reco.fit('shop_reg' || r.reg, o.customer_id, l.product_id, l.quantity::real,
                        jsonb_build_object('factors', 32, 'regularization', r.reg)) AS m
          FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
         CROSS JOIN (VALUES (50), (5), (1)) AS r(reg)
         WHERE o.ordered_at < '2025-04-01'
         GROUP BY r.reg) AS trained
 ORDER BY (m).name DESC;

SELECT m.name AS model, m.params->>'regularization' AS regularization,
       round(e.precision_at_k::numeric, 3) AS "precision@10",
       round(e.recall_at_k::numeric, 3) AS "recall@10",
       round(e.ndcg_at_k::numeric, 3) AS "ndcg@10",
       round(e.coverage::numeric, 3) AS catalogue_coverage,
       e.users_evaluated AS customers_evaluated
  FROM reco.models AS m,
       LATERAL reco.evaluate(m.name,
         $$SELECT o.customer_id, l.product_id
             FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
            WHERE o.ordered_at >= '2025-04-01'$$,
         10, 'customer_id', 'product_id') AS e
 WHERE m.name LIKE 'shop\_reg%'
 ORDER BY (m.params->>'regularization')::real DESC;

\echo '   (for comparison, the 10 best sellers of the training period, minus what each customer already bought:)'
WITH train AS (
    SELECT o.customer_id, l.product_id, l.quantity
      FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
     WHERE o.ordered_at < '2025-04-01'
), test AS (
    SELECT DISTINCT o.customer_id, l.product_id
      FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
     WHERE o.ordered_at >= '2025-04-01'
       AND o.customer_id IN (SELECT customer_id FROM train)
       AND NOT EXISTS (SELECT FROM train AS t
                        WHERE t.customer_id = o.customer_id AND t.product_id = l.product_id)
), ranked AS (
    SELECT product_id, row_number() OVER (ORDER BY sum(quantity) DESC, product_id) AS r
      FROM train GROUP BY product_id
), top10 AS (
    SELECT c.customer_id, x.product_id
      FROM (SELECT DISTINCT customer_id FROM test) AS c
     CROSS JOIN LATERAL (
            SELECT r.product_id FROM ranked AS r
             WHERE NOT EXISTS (SELECT FROM train AS t
                                WHERE t.customer_id = c.customer_id AND t.product_id = r.product_id)
             ORDER BY r.r LIMIT 10) AS x
)
SELECT round(avg(hits / 10.0), 3) AS "popularity precision@10"
  FROM (SELECT c.customer_id,
               (SELECT count(*) FROM top10 AS t JOIN test AS s USING (customer_id, product_id)
                 WHERE t.customer_id = c.customer_id) AS hits
          FROM (SELECT DISTINCT customer_id FROM test) AS c) AS per_customer;

\echo
\echo '== Training the shop''s model on all order lines (regularization 5, the best above): weight = quantity'
SELECT name, version, n_users AS customers, n_items AS products,
       n_interactions AS pairs, factors, round(train_seconds::numeric, 2) AS seconds
  FROM reco.train('shop',
                  $$SELECT o.customer_id, l.product_id, l.quantity
                      FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)$$,
                  user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity',
                  factors => 32, regularization => 5);

\echo
\echo '== What reco suggests: each customer''s purchases beside reco.recommend(''shop'', customer, 5)'
WITH chosen AS (
    -- three customers with a short, readable history
    SELECT u.user_id AS customer_id, u.seen_items
      FROM reco.user_factors AS u
     WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 'shop' ORDER BY version DESC LIMIT 1)
       AND cardinality(u.seen_items) BETWEEN 4 AND 6
     ORDER BY u.user_id LIMIT 3
), bought AS (
    SELECT c.customer_id, p.name || ' (' || cat.name || ')' AS product,
           row_number() OVER (PARTITION BY c.customer_id ORDER BY p.product_id) AS n
      FROM chosen AS c
      JOIN shop.products AS p ON p.product_id = ANY (c.seen_items)
      JOIN shop.categories AS cat USING (category_id)
), suggested AS (
    SELECT c.customer_id, p.name || ' (' || cat.name || ')' AS product,
           row_number() OVER (PARTITION BY c.customer_id ORDER BY r.score DESC, r.item_id) AS n
      FROM chosen AS c
     CROSS JOIN LATERAL reco.recommend('shop', c.customer_id, 5) AS r
      JOIN shop.products AS p ON p.product_id = r.item_id
      JOIN shop.categories AS cat USING (category_id)
)
SELECT CASE WHEN coalesce(b.n, s.n) = 1 THEN cu.name || ' (#' || cu.customer_id || ')' ELSE '' END AS customer,
       coalesce(b.product, '') AS bought, coalesce(s.product, '') AS reco_suggests
  FROM bought AS b
  FULL JOIN suggested AS s USING (customer_id, n)
  JOIN shop.customers AS cu USING (customer_id)
 ORDER BY customer_id, coalesce(b.n, s.n);
RESET client_min_messages;
