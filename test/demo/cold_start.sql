-- test/demo/cold_start.sql: cold start on the demo shop -- products nobody has ordered and
-- customers who never ordered, served from their features. Runs after train.sql, whose model
-- 'shop' was trained with the product features (shop.product_features: category, brand,
-- price band; shop.product_embeddings: a text embedding) and the customer profiles
-- (shop.customer_features), so it placed every product and customer without orders.
\pset footer off
SET client_min_messages = warning;
-- a product as the lists below show it: its name and its category
CREATE TEMP VIEW product_label AS
SELECT p.product_id, p.name || ' (' || c.name || ')' AS label
  FROM shop.products AS p JOIN shop.categories AS c USING (category_id);

\echo
\echo '== Cold start: the model learned how features map to factors on the products and customers with'
\echo '   orders (for the products the feature-aware prior, the ials default; for the customers a ridge'
\echo '   regression) and placed those without orders from their features (their rows'
\echo '   of reco.item_factors / reco.user_factors keep the features they were placed from)'
SELECT side, f->>'sources' AS sources, f->>'rows' AS rows_with_orders, f->>'sparse_features' AS sparse_features,
       f->>'embedding_dimensions' AS embedding_dimensions, f->>'placed' AS placed_from_features
  FROM (SELECT m.stats FROM reco.models AS m WHERE m.name = 'shop' ORDER BY m.version DESC LIMIT 1) AS m
 CROSS JOIN LATERAL (VALUES ('products', m.stats->'item_features'), ('customers', m.stats->'user_features')) AS s(side, f);

-- the customer whose top 10 ranks a product placed from features highest (then the lowest id)
WITH served AS (
    SELECT model_id FROM reco.models WHERE name = 'shop' ORDER BY version DESC LIMIT 1
)
SELECT u.user_id AS customer, r.item_id AS new_product, r.rank AS new_rank
  FROM reco.user_factors AS u JOIN served USING (model_id)
 CROSS JOIN LATERAL (SELECT x.item_id, row_number() OVER (ORDER BY x.score DESC, x.item_id) AS rank
                       FROM reco.recommend('shop', u.user_id, 10) AS x) AS r
  JOIN reco.item_factors AS i ON i.model_id = u.model_id AND i.item_id = r.item_id
 WHERE u.features IS NULL AND i.features IS NOT NULL
 ORDER BY r.rank, u.user_id LIMIT 1 \gset

\echo
\echo '== A brand-new product among a customer''s suggestions: never ordered, placed from its category,'
\echo '   brand, price band and text embedding, and served by reco.recommend like any other product.'
\echo '   It is placed where a typical product with its features would be, so it climbs into the lists'
\echo '   of customers who already own the best sellers of its kind -- such as this one:'
SELECT c.name || ' (#' || c.customer_id || ')' AS customer, count(DISTINCT l.product_id) AS products_bought,
       (SELECT string_agg(x.name || ' ' || x.units, ', ' ORDER BY x.units DESC, x.name)
          FROM (SELECT cat.name, sum(l2.quantity) AS units
                  FROM shop.orders AS o2 JOIN shop.order_lines AS l2 USING (order_id)
                  JOIN shop.products AS p2 USING (product_id) JOIN shop.categories AS cat USING (category_id)
                 WHERE o2.customer_id = c.customer_id
                 GROUP BY cat.name ORDER BY units DESC, cat.name LIMIT 3) AS x) AS top_categories_units
  FROM shop.customers AS c JOIN shop.orders AS o USING (customer_id) JOIN shop.order_lines AS l USING (order_id)
 WHERE c.customer_id = :customer
 GROUP BY c.customer_id, c.name;
SELECT row_number() OVER (ORDER BY r.score DESC, r.item_id) AS rank,
       p.label
         || CASE WHEN NOT EXISTS (SELECT FROM shop.order_lines AS l WHERE l.product_id = r.item_id)
                 THEN '  <- new, no orders yet' ELSE '' END AS reco_suggests,
       round(r.score::numeric, 3) AS score
  FROM reco.recommend('shop', :customer, greatest(5, :new_rank)::integer) AS r
  JOIN product_label AS p ON p.product_id = r.item_id
 ORDER BY r.score DESC, r.item_id;

\echo
\echo '== "New for you": the new arrivals ranked for a customer with a short history (reco.recommend,'
\echo '   candidates => the products placed from features), beside what they bought'
WITH served AS (
    SELECT model_id FROM reco.models WHERE name = 'shop' ORDER BY version DESC LIMIT 1
), chosen AS (
    SELECT u.user_id AS customer_id, u.seen_items
      FROM reco.user_factors AS u JOIN served USING (model_id)
     WHERE u.features IS NULL AND cardinality(u.seen_items) BETWEEN 4 AND 6
     ORDER BY u.user_id LIMIT 1
), bought AS (
    SELECT p.label AS product, row_number() OVER (ORDER BY p.product_id) AS n
      FROM chosen JOIN product_label AS p ON p.product_id = ANY (chosen.seen_items)
), new_for_you AS (
    SELECT p.label AS product, row_number() OVER (ORDER BY r.score DESC, r.item_id) AS n
      FROM chosen
     CROSS JOIN LATERAL reco.recommend('shop', chosen.customer_id, 3,
             candidates => ARRAY(SELECT i.item_id FROM reco.item_factors AS i JOIN served USING (model_id)
                                  WHERE i.features IS NOT NULL)) AS r
      JOIN product_label AS p ON p.product_id = r.item_id
)
SELECT CASE WHEN n = 1 THEN (SELECT c.name || ' (#' || c.customer_id || ')'
                               FROM chosen JOIN shop.customers AS c USING (customer_id)) ELSE '' END AS customer,
       coalesce(b.product, '') AS bought, coalesce(f.product, '') AS new_for_you
  FROM bought AS b FULL JOIN new_for_you AS f USING (n)
 ORDER BY n;

\echo
\echo '== Why the new product: the features that carried its score (reco.explain_features; the'
\echo '   contributions, the intercept '''' included, sum to the score)'
SELECT e.side, e.feature, round(e.contribution::numeric, 3) AS contribution
  FROM reco.explain_features('shop', :customer, :new_product) AS e
 ORDER BY abs(e.contribution) DESC, e.feature;
SELECT round(sum(e.contribution)::numeric, 3) AS sum_of_contributions,
       (SELECT round(r.score::numeric, 3) FROM reco.recommend('shop', :customer, 10) AS r
         WHERE r.item_id = :new_product) AS score
  FROM reco.explain_features('shop', :customer, :new_product) AS e;

\echo
\echo '== Similar to this new product: reco.similar_items on a product placed at training'
SELECT p.name AS new_product, cat.name AS category FROM shop.products AS p JOIN shop.categories AS cat USING (category_id)
 WHERE p.product_id = :new_product;
SELECT p.label AS similar_product, round(s.similarity::numeric, 3) AS cosine
  FROM reco.similar_items('shop', :new_product, 5) AS s
  JOIN product_label AS p ON p.product_id = s.item_id
 ORDER BY s.similarity DESC, s.item_id;

\echo
\echo '== Similar to a draft product, given only its features (reco.similar_to_features): a tent the'
\echo '   shop is thinking of listing, "Basecamp Ultralight 3-Person Tent Olive"'
SELECT p.label AS similar_product, round(s.similarity::numeric, 3) AS cosine
  FROM reco.similar_to_features('shop',
         jsonb_build_object('category:Camping', 1, 'brand:Basecamp', 1, 'price:200+', 1,
                            'text_embedding', shop.text_embedding('Basecamp Ultralight 3-Person Tent Olive Camping')),
         5) AS s
  JOIN product_label AS p ON p.product_id = s.item_id
 ORDER BY s.similarity DESC, s.item_id;

\echo
\echo '== A product added after training: listed, embedded, placed from its features (reco.place_item)'
\echo '   and served at once, without a retrain: its neighbours, and the customers whose top 10 it entered'
INSERT INTO shop.products VALUES (60101, 'Glow Theory Hydrating Vitamin C Serum 30ml', 17, 31.99, 'Glow Theory');
INSERT INTO shop.product_embeddings
SELECT p.product_id, shop.text_embedding(p.name || ' ' || c.name)
  FROM shop.products AS p JOIN shop.categories AS c USING (category_id) WHERE p.product_id = 60101;
SELECT p.name AS new_product, f.features - 'text_embedding' AS sparse_features,
       cardinality(reco.place_item('shop', f.product_id, f.features)) AS factors_placed
  FROM shop.product_feature_sets AS f JOIN shop.products AS p USING (product_id) WHERE f.product_id = 60101;
SELECT p.label AS similar_product, round(s.similarity::numeric, 3) AS cosine
  FROM reco.similar_items('shop', 60101, 3) AS s
  JOIN product_label AS p ON p.product_id = s.item_id
 ORDER BY s.similarity DESC, s.item_id;
SELECT c.name || ' (#' || c.customer_id || ')' AS customer, r.rank AS its_rank_in_their_top_10
  FROM reco.recommend_all('shop', 10) AS r JOIN shop.customers AS c ON c.customer_id = r.user_id
 WHERE r.item_id = 60101
 ORDER BY r.rank, r.user_id LIMIT 5;

\echo
\echo '== A new customer served from their profile: signed up, never ordered, placed at training from'
\echo '   age band, city, loyalty tier and sign-up channel (reco.recommend answers from it)'
-- the first of the customers who signed up in the last ten days who came through a partner
SELECT min(c.customer_id) AS new_customer
  FROM shop.customers AS c
 WHERE c.signed_up > DATE '2025-06-20'
   AND c.signup_channel NOT IN ('web', 'app', 'in-store', 'newsletter')
   AND NOT EXISTS (SELECT FROM shop.orders AS o WHERE o.customer_id = c.customer_id) \gset
SELECT c.customer_id, c.name, c.signed_up, cp.profile
  FROM shop.customers AS c JOIN shop.customer_profiles AS cp USING (customer_id)
 WHERE c.customer_id = :new_customer;
SELECT p.label AS suggestion, round(r.score::numeric, 3) AS score
  FROM reco.recommend('shop', :new_customer, 5) AS r
  JOIN product_label AS p ON p.product_id = r.item_id
 ORDER BY r.score DESC, r.item_id;
\echo '   which parts of the profile carried the first suggestion of a product with orders (reco.explain_features):'
SELECT e.side, e.feature, round(e.contribution::numeric, 3) AS contribution
  FROM reco.explain_features('shop', :new_customer,
         (SELECT r.item_id FROM reco.recommend('shop', :new_customer, 10) AS r
           WHERE EXISTS (SELECT FROM shop.order_lines AS l WHERE l.product_id = r.item_id)
           ORDER BY r.score DESC, r.item_id LIMIT 1)) AS e
 ORDER BY abs(e.contribution) DESC, e.feature;

\echo
\echo '== A visitor signing up right now (not in the model yet): the profile they typed in, mapped at'
\echo '   serving (reco.recommend_for_items with profile =>): the profile alone, no profile (the best-sellers,'
\echo '   score = units sold), and the profile with three pans in the cart (the cart moves the answer)'
SELECT CASE WHEN row_number() OVER (PARTITION BY v.k ORDER BY r.score DESC, r.item_id) = 1
            THEN v.visitor ELSE '' END AS visitor,
       p.label AS suggestion, round(r.score::numeric, 3) AS score
  FROM (VALUES (1, 'profile only', '{}'::bigint[], true),
               (2, 'no profile: the popular fallback', '{}', false),
               (3, 'profile and three pans in the cart',
                (SELECT array_agg(product_id) FROM (SELECT l.product_id FROM shop.order_lines AS l
                                                      JOIN shop.products AS p USING (product_id)
                                                     WHERE p.category_id = 3
                                                     GROUP BY l.product_id ORDER BY count(*) DESC, l.product_id
                                                     LIMIT 3) AS pans),
                true)) AS v(k, visitor, cart, with_profile)
 CROSS JOIN LATERAL reco.recommend_for_items('shop', v.cart, n => 4,
         profile => CASE WHEN v.with_profile
                         THEN '{"age:25-34": 1, "city:Hamburg": 1, "tier:basic": 1, "channel:running club": 1}'::jsonb END) AS r
  JOIN product_label AS p ON p.product_id = r.item_id
 ORDER BY v.k, r.score DESC, r.item_id;

RESET client_min_messages;
