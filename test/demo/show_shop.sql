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
