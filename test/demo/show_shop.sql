-- test/demo/show_shop.sql: what the generated demo shop looks like.
\pset footer off

\echo
\echo '== The demo shop: tables reco will learn from (schema shop)'
SELECT (SELECT count(*) FROM shop.categories)  AS categories,
       (SELECT count(*) FROM shop.products)    AS products,
       (SELECT count(*) FROM shop.customers)   AS customers,
       (SELECT count(*) FROM shop.orders)      AS orders,
       (SELECT count(*) FROM shop.order_lines) AS order_lines,
       (SELECT min(ordered_at)::date FROM shop.orders) AS first_order,
       (SELECT max(ordered_at)::date FROM shop.orders) AS last_order;

\echo
\echo '== Best sellers: popularity is Zipf-like, a few products sell far more than the rest'
SELECT p.name AS product, c.name AS category, sum(l.quantity) AS units_sold
  FROM shop.order_lines AS l
  JOIN shop.products AS p USING (product_id)
  JOIN shop.categories AS c USING (category_id)
 GROUP BY p.product_id, p.name, c.name
 ORDER BY units_sold DESC, p.product_id
 LIMIT 8;

\echo
\echo '== Customers have tastes: share of each customer''s units in their favourite category'
SELECT round(avg(top_share), 2) AS avg_share_of_favourite_category,
       round(avg(categories_bought), 1) AS avg_categories_per_customer,
       round(avg(repeat_share), 2) AS share_of_units_that_are_repeat_buys
  FROM (SELECT customer_id,
               max(cat_units)::numeric / sum(cat_units) AS top_share,
               count(*) AS categories_bought,
               sum(repeat_units)::numeric / sum(cat_units) AS repeat_share
          FROM (SELECT o.customer_id, p.category_id, sum(l.quantity) AS cat_units,
                       sum(l.quantity) - count(DISTINCT l.product_id) AS repeat_units
                  FROM shop.order_lines AS l
                  JOIN shop.orders AS o USING (order_id)
                  JOIN shop.products AS p USING (product_id)
                 GROUP BY o.customer_id, p.category_id) AS per_category
         GROUP BY customer_id) AS per_customer;

\echo
\echo '== Besides orders, the shop knows what its products are and who its customers say they are'
\echo '   (the features reco.train learns a cold-start mapping from): sparse product features'
\echo '   (view shop.product_features), a text embedding of name and category (table'
\echo '   shop.product_embeddings: a hashed bag of words, shop.text_embedding(), standing in for a'
\echo '   language model''s embedding; first 6 of its 32 dimensions shown) and the customer profile'
\echo '   (view shop.customer_features)'
SELECT p.product_id, p.name,
       (SELECT string_agg(f.feature, ', ' ORDER BY f.feature) FROM shop.product_features AS f
         WHERE f.product_id = p.product_id) AS features,
       (SELECT array_agg(round(x::numeric, 2) ORDER BY i)
          FROM unnest(e.text_embedding) WITH ORDINALITY AS u(x, i) WHERE i <= 6) AS text_embedding
  FROM shop.products AS p JOIN shop.product_embeddings AS e USING (product_id)
 WHERE p.product_id IN (SELECT min(product_id) FROM shop.products GROUP BY category_id ORDER BY 1 LIMIT 3)
 ORDER BY p.product_id;
SELECT c.customer_id, c.name,
       (SELECT string_agg(f.feature, ', ' ORDER BY f.feature) FROM shop.customer_features AS f
         WHERE f.customer_id = c.customer_id) AS profile
  FROM shop.customers AS c WHERE c.customer_id <= 3 ORDER BY c.customer_id;

\echo
\echo '== Cold: new arrivals nobody has ordered yet, and customers who signed up but never ordered'
SELECT p.product_id, p.name AS new_arrival, c.name AS category, p.price
  FROM shop.products AS p JOIN shop.categories AS c USING (category_id)
 WHERE NOT EXISTS (SELECT FROM shop.order_lines AS l WHERE l.product_id = p.product_id)
   AND p.product_id > 60000
 ORDER BY p.product_id;
SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT FROM shop.order_lines AS l WHERE l.product_id = p.product_id))
         AS products_never_ordered,
       (SELECT count(*) FROM shop.customers AS c
         WHERE NOT EXISTS (SELECT FROM shop.orders AS o WHERE o.customer_id = c.customer_id))
         AS customers_without_orders
  FROM shop.products AS p;
