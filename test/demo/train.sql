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
\echo '== Tuning with reco.tune: train on orders before 2025-04-01, rank each customer''s next-quarter'
\echo '   purchases (reco.evaluate).  One call trains a model per regularization, evaluates each, keeps'
\echo '   the best (precision@10; a tie goes to the earlier trial, the stronger regularization) as model'
\echo '   shop_tuned and returns every trial:'
CREATE TEMP TABLE tuning AS
SELECT * FROM reco.tune('shop_tuned',
         $$SELECT o.customer_id, l.product_id, l.quantity
             FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
            WHERE o.ordered_at < '2025-04-01'$$,
         $$SELECT o.customer_id, l.product_id
             FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
            WHERE o.ordered_at >= '2025-04-01'$$,
         grid => '{"regularization": [50, 5, 1]}', metric => 'precision_at_k',
         base_options => '{"factors": 32}',
         user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity');
SELECT trial, options->>'regularization' AS regularization,
       round(precision_at_k::numeric, 3) AS "precision@10",
       round(recall_at_k::numeric, 3) AS "recall@10",
       round(ndcg_at_k::numeric, 3) AS "ndcg@10",
       round(coverage::numeric, 3) AS catalogue_coverage,
       users_evaluated AS customers_evaluated, winner, version
  FROM tuning ORDER BY trial;
-- the regularization the rest of the demo trains with: the winner above
SELECT options->>'regularization' AS best_reg FROM tuning WHERE winner \gset

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
\echo '== Interest drift and time decay: 40% of the customers changed tastes once (a runner became a young'
\echo '   parent; the generator kept who and when in shop.taste_changes).  Hold out each customer''s last'
\echo '   order (customers with 3+ orders), train on everything before it, with and without time decay'
\echo '   (each weight x 2^(-age/half_life), age counted from the newest order), precision@10 per group:'
CREATE TEMP TABLE last_order AS
SELECT DISTINCT ON (customer_id) customer_id, order_id, ordered_at
  FROM shop.orders
 WHERE customer_id IN (SELECT customer_id FROM shop.orders GROUP BY 1 HAVING count(*) >= 3)
 ORDER BY customer_id, ordered_at DESC, order_id DESC;
CREATE TEMP TABLE drift_group AS
SELECT lo.customer_id,
       CASE WHEN tc.changed_on IS NULL THEN 'steady tastes'
            WHEN lo.ordered_at >= tc.changed_on THEN 'changed tastes'
            ELSE 'change still ahead' END AS customers
  FROM last_order AS lo LEFT JOIN shop.taste_changes AS tc USING (customer_id);
CREATE TEMP VIEW before_last AS
SELECT o.customer_id, l.product_id, l.quantity, o.ordered_at
  FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)
 WHERE o.order_id NOT IN (SELECT order_id FROM last_order);
-- without decay, then one model per half-life with the aggregate's event-time form (GROUP BY)
SELECT count(*) AS models_trained FROM reco.train('shop_drift_none', 'before_last', 'customer_id', 'product_id', 'quantity',
                                                 factors => 32, regularization => :best_reg);
SELECT count((m).model_id) AS models_trained
  FROM (SELECT reco.fit('shop_drift_' || h.days, b.customer_id, b.product_id, b.quantity::real, b.ordered_at,
                        jsonb_build_object('factors', 32, 'regularization', :best_reg, 'half_life', h.days || ' days')) AS m
          FROM before_last AS b CROSS JOIN (VALUES (60), (120), (240), (365)) AS h(days)
         GROUP BY h.days) AS trained;
SELECT coalesce(m.params->>'half_life', 'no decay') AS half_life,
       max(round(e.precision_at_k::numeric, 4)) FILTER (WHERE g.customers = 'all') AS "all customers",
       max(round(e.precision_at_k::numeric, 4)) FILTER (WHERE g.customers = 'changed tastes') AS "changed tastes",
       max(round(e.precision_at_k::numeric, 4)) FILTER (WHERE g.customers = 'steady tastes') AS "steady tastes",
       max(e.users_evaluated) FILTER (WHERE g.customers = 'all') AS customers
  FROM reco.models AS m
 CROSS JOIN (VALUES ('all'), ('changed tastes'), ('steady tastes')) AS g(customers)
 CROSS JOIN LATERAL reco.evaluate(m.name,
         format($$SELECT lo.customer_id, l.product_id
                    FROM shop.order_lines AS l JOIN last_order AS lo USING (order_id)
                    JOIN drift_group AS d USING (customer_id)
                   WHERE %L IN ('all', d.customers)$$, g.customers),
         10, 'customer_id', 'product_id') AS e
 WHERE m.name LIKE 'shop\_drift\_%'
 GROUP BY m.name, m.params->>'half_life'
 ORDER BY (m.params->>'half_life')::interval NULLS FIRST;
SELECT count(*) AS dropped FROM (SELECT reco.drop_model(name) FROM reco.models
                                  WHERE name LIKE 'shop\_drift\_%' GROUP BY name) AS d;

\echo
\echo '== Training the shop''s model on all order lines, weight = quantity, regularization' :best_reg '(the best above),'
\echo '   with the product features and customer profiles (item_features, user_features: see cold_start.sql)'
SELECT name, version, n_users AS customers, n_items AS products,
       n_interactions AS pairs, factors, round(train_seconds::numeric, 2) AS seconds
  FROM reco.train('shop',
                  $$SELECT o.customer_id, l.product_id, l.quantity
                      FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)$$,
                  user_col => 'customer_id', item_col => 'product_id', weight_col => 'quantity',
                  factors => 32, regularization => :best_reg,
                  item_features => ARRAY['shop.product_features', 'shop.product_embeddings'],
                  user_features => ARRAY['shop.customer_features']);

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
\echo
\echo '== Why: the purchases behind each customer''s first suggestion (reco.explain, contributions sum to the score)'
WITH chosen AS (
    SELECT u.user_id AS customer_id
      FROM reco.user_factors AS u
     WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 'shop' ORDER BY version DESC LIMIT 1)
       AND cardinality(u.seen_items) BETWEEN 4 AND 6
     ORDER BY u.user_id LIMIT 3
)
SELECT CASE WHEN e.rank = 1 THEN cu.name || ': ' || sp.name || ' (score ' || round(r.score::numeric, 3) || ')'
            ELSE '' END AS suggestion,
       bp.name AS because_they_bought, round(e.contribution::numeric, 3) AS contribution
  FROM chosen AS c
  JOIN shop.customers AS cu USING (customer_id)
 CROSS JOIN LATERAL reco.recommend('shop', c.customer_id, 1) AS r
  JOIN shop.products AS sp ON sp.product_id = r.item_id
 CROSS JOIN LATERAL (SELECT row_number() OVER () AS rank, x.*
                       FROM reco.explain('shop', c.customer_id, r.item_id, 3) AS x) AS e
  JOIN shop.products AS bp ON bp.product_id = e.item_id
 ORDER BY c.customer_id, e.rank;

\echo
\echo '== Goes well with this cart: an anonymous visitor''s cart folded in (reco.recommend_for_items)'
WITH cart AS (
    -- two products of the best-selling category: a visitor who is not a customer yet
    SELECT array_agg(product_id ORDER BY product_id) AS items
      FROM (SELECT l.product_id
              FROM shop.order_lines AS l JOIN shop.products AS p USING (product_id)
             WHERE p.category_id = (SELECT p2.category_id FROM shop.order_lines AS l2
                                      JOIN shop.products AS p2 USING (product_id)
                                     GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)
             GROUP BY l.product_id ORDER BY count(*) DESC, l.product_id LIMIT 2) AS top2
)
SELECT 'in the cart' AS list, p.name || ' (' || cat.name || ')' AS product, NULL::numeric AS score
  FROM cart JOIN shop.products AS p ON p.product_id = ANY (cart.items)
  JOIN shop.categories AS cat USING (category_id)
UNION ALL
SELECT * FROM (
    SELECT 'goes well with it', p.name || ' (' || cat.name || ')', round(r.score::numeric, 3)
      FROM cart CROSS JOIN LATERAL reco.recommend_for_items('shop', cart.items, n => 5) AS r
      JOIN shop.products AS p ON p.product_id = r.item_id
      JOIN shop.categories AS cat USING (category_id)
     ORDER BY r.score DESC, r.item_id) AS suggestions;

\echo
\echo '== Bought by the same customers: reco.similar_items of the best seller'
SELECT p.name || ' (' || cat.name || ')' AS similar_to_best_seller, round(s.similarity::numeric, 3) AS cosine
  FROM reco.similar_items('shop', (SELECT product_id FROM shop.order_lines GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), 5) AS s
  JOIN shop.products AS p ON p.product_id = s.item_id
  JOIN shop.categories AS cat USING (category_id)
 ORDER BY s.similarity DESC, s.item_id;

RESET client_min_messages;
