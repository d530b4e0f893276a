-- features_serve: serving entities placed from features (issue 14): include_new,
-- recommend_for_items' profile, place_item / place_user, similar_to_features,
-- explain_features.  The mappings are written by hand into reco.feature_weights
-- (binary fractions, so mapped factors are exact), as training with
-- item_features / user_features stores them.
SET client_min_messages = warning;
SET extra_float_digits = 0;

CREATE TABLE fs_orders AS
SELECT u AS customer_id, (u * 7 + j * j) % 12 + 1 AS product_id, (1 + (u + j) % 3)::real AS qty
  FROM generate_series(1, 30) AS u, generate_series(1, 4) AS j;
SELECT n_users, n_items, factors
  FROM reco.train('fs', 'fs_orders', 'customer_id', 'product_id', 'qty',
                  factors => 2, iterations => 5, regularization => 1);
CREATE FUNCTION fs_model(name text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT model_id FROM reco.models WHERE models.name = fs_model.name ORDER BY version DESC LIMIT 1 $$;

-- item mapping: intercept (1/8, 1/4); cat:a (1, 0); cat:b (0, 1); a 3-d embedding 'emb'
-- user mapping: intercept (1/4, 1/8); age:young (1/2, 1/4)
INSERT INTO reco.feature_weights VALUES
  (fs_model('fs'), 'item', '', 'intercept', reco.to_bytea('{0.125, 0.25}')),
  (fs_model('fs'), 'item', 'cat:a', 'sparse', reco.to_bytea('{1, 0}')),
  (fs_model('fs'), 'item', 'cat:b', 'sparse', reco.to_bytea('{0, 1}')),
  (fs_model('fs'), 'item', 'emb', 'dense', reco.to_bytea('{0.5, 0, 0, 0.5, 0.25, 0.25}')),
  (fs_model('fs'), 'user', '', 'intercept', reco.to_bytea('{0.25, 0.125}')),
  (fs_model('fs'), 'user', 'age:young', 'sparse', reco.to_bytea('{0.5, 0.25}'));

-- recommendations before anything is placed (the cache loads the item matrix)
CREATE TABLE fs_before AS SELECT * FROM reco.recommend('fs', 1, 12);

-- 1. place_item: intercept + 2·cat:a + emb·(1, 0, 2) = (3.125, 0.75); an unknown key adds nothing
SELECT reco.place_item('fs', 1001, '{"cat:a": 2, "emb": [1, 0, 2], "color:red": 1, "other": [5, 6]}');
SELECT item_id, reco.to_array(factors) AS factors, popularity, features
  FROM reco.item_factors WHERE model_id = fs_model('fs') AND item_id = 1001;
SELECT n_items, stats ? 'item_generation' AS generation_recorded FROM reco.models WHERE model_id = fs_model('fs');
-- served at once by this backend (its cached matrix is replaced), and like any other item
SELECT count(*) AS rows, bool_or(item_id = 1001) AS has_new
  FROM reco.recommend('fs', 1, 13);
SELECT item_id, round(score::numeric, 4) AS score FROM reco.recommend('fs', 1, 3);
-- include_new => false: exactly the list with the new item excluded
SELECT (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend('fs', 1, 12, include_new => false) WITH ORDINALITY AS t(item_id, s, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend('fs', 1, 12, exclude => '{1001}') WITH ORDINALITY AS t(item_id, s, o))
       AS include_new_false_is_exclude,
       (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend('fs', 1, 12, include_new => false) WITH ORDINALITY AS t(item_id, s, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM (SELECT item_id, row_number() OVER () AS o FROM fs_before) AS b)
       AS same_as_before_placing;
-- and with candidates, and in the best-seller fallback (an unknown user)
SELECT item_id FROM reco.recommend('fs', 1, 5, candidates => '{1001, 2, 3}', include_new => false) ORDER BY item_id;
SELECT count(*) FILTER (WHERE item_id = 1001) AS new_in_fallback
  FROM reco.recommend('fs', 999, 13, include_new => false);

-- 2. similar_items: the new item has neighbours, and include_new false leaves it out
SELECT item_id, round(similarity::numeric, 4) AS similarity FROM reco.similar_items('fs', 1001, 3);
SELECT bool_or(item_id = 1001) AS has_new FROM reco.similar_items('fs', 1, 12);
SELECT bool_or(item_id = 1001) AS has_new FROM reco.similar_items('fs', 1, 12, include_new => false);
SELECT count(*) FROM reco.similar_items('fs', 1, 12, '{1001, 2}', include_new => false);

-- 3. similar_to_features: the same features give the new item at similarity 1, then its neighbours
SELECT (SELECT array_agg(item_id ORDER BY o) FROM reco.similar_to_features('fs', '{"cat:a": 2, "emb": [1, 0, 2]}', 5) WITH ORDINALITY AS t(item_id, s, o))
     = ARRAY[1001::bigint] || (SELECT array_agg(item_id ORDER BY o) FROM reco.similar_items('fs', 1001, 4) WITH ORDINALITY AS t(item_id, s, o))
       AS same_as_similar_items,
       (SELECT similarity FROM reco.similar_to_features('fs', '{"cat:a": 2, "emb": [1, 0, 2]}', 1)) AS top_similarity;
SELECT count(*) FILTER (WHERE item_id = 1001) AS new_rows
  FROM reco.similar_to_features('fs', '{"cat:a": 2, "emb": [1, 0, 2]}', 20, include_new => false);
SELECT * FROM reco.similar_to_features('fs', '{"cat:b": 1}', 3, candidates => '{1, 2}');
SELECT * FROM reco.similar_to_features_text('fs', '{"cat:b": 1}', 2, candidates => '{1, 2}');
SELECT count(*) FROM reco.similar_to_features('fs', NULL);

-- 4. place_item again replaces (same row count), and is served at once
SELECT reco.place_item('fs', 1001, '{"cat:b": 4}');
SELECT n_items FROM reco.models WHERE model_id = fs_model('fs');
SELECT features FROM reco.item_factors WHERE model_id = fs_model('fs') AND item_id = 1001;
SELECT round(score::numeric, 4) AS score FROM reco.recommend('fs', 1, candidates => '{1001}');
SELECT round((SELECT sum(a * b) FROM unnest(reco.to_array(u.factors), ARRAY[0.125, 4.25]::real[]) AS t(a, b))::numeric, 4) AS expected
  FROM reco.user_factors AS u WHERE u.model_id = fs_model('fs') AND u.user_id = 1;

-- 5. place_user: intercept + 2·age:young = (1.25, 0.625); served from the profile
SELECT reco.place_user('fs', 501, '{"age:young": 2}');
SELECT user_id, reco.to_array(factors) AS factors, seen_items, seen_weights, features
  FROM reco.user_factors WHERE model_id = fs_model('fs') AND user_id = 501;
SELECT n_users FROM reco.models WHERE model_id = fs_model('fs');
CREATE TABLE fs_placed_user AS SELECT * FROM reco.recommend('fs', 501, 5);
SELECT item_id, round(score::numeric, 4) AS score FROM fs_placed_user;
-- include_new => false: an unknown user (the best-sellers, or nothing with fallback none)
SELECT (SELECT array_agg(item_id) FROM reco.recommend('fs', 501, 5, include_new => false))
     = (SELECT array_agg(item_id) FROM reco.recommend('fs', 999, 5, include_new => false)) AS served_as_unknown;
SELECT count(*) FROM reco.recommend('fs', 501, 5, fallback => 'none', include_new => false);

-- 6. recommend_for_items with a profile: an empty cart gives exactly the profile's vector
--    (the placed user's answer, bit for bit), unknown-only carts too
SELECT (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{}', n => 5, profile => '{"age:young": 2}'))
     = (SELECT array_agg(ARRAY[item_id::real, score]) FROM fs_placed_user) AS empty_cart_is_profile,
       (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{424242}', n => 5, profile => '{"age:young": 2}'))
     = (SELECT array_agg(ARRAY[item_id::real, score]) FROM fs_placed_user) AS unknown_cart_is_profile;
-- no profile: today's answer, bit for bit
SELECT (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{1, 2, 3}', '{1, 2, 1}', 6))
     = (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{1, 2, 3}', '{1, 2, 1}', 6, profile => NULL))
       AS null_profile_same;
-- a profile mapped to the zero vector pulls nowhere: the cart's answer, bit for bit
INSERT INTO reco.feature_weights VALUES (fs_model('fs'), 'user', 'zero', 'sparse', reco.to_bytea('{-0.25, -0.125}'));
SELECT reco.place_user('fs', 502, '{"zero": 1}');
SELECT (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{1, 2, 3}', '{1, 2, 1}', 6))
     = (SELECT array_agg(ARRAY[item_id::real, score]) FROM reco.recommend_for_items('fs', '{1, 2, 3}', '{1, 2, 1}', 6, profile => '{"zero": 1}'))
       AS zero_profile_same;
-- a real profile moves the cart's vector: the score of item 1001 changes
SELECT round(a.score::numeric, 4) AS without_profile, round(b.score::numeric, 4) AS with_profile
  FROM reco.recommend_for_items('fs', '{1, 2, 3}', candidates => '{1001}') AS a,
       reco.recommend_for_items('fs', '{1, 2, 3}', candidates => '{1001}', profile => '{"age:young": 2}') AS b;
-- the prior's precision is the no-data system's P = α0·YᵀY + λI: an item of weight α0/α (here 1)
-- adds (c − α0)·y yᵀ = 0 to it, so for such a cart A = P and x = P⁻¹(b + P·x_p) = x_cart + x_p:
-- every score is the cart's plus the profile's (up to rounding)
SELECT max(abs(w.score - (c.score + p.score))) < 1e-5 AS cart_plus_profile, count(*) AS items
  FROM reco.recommend_for_items('fs', '{5}', n => 20, exclude_seen => false, profile => '{"age:young": 2}') AS w
  JOIN reco.recommend_for_items('fs', '{5}', n => 20, exclude_seen => false) AS c USING (item_id)
  JOIN reco.recommend_for_items('fs', '{}', n => 20, exclude_seen => false, profile => '{"age:young": 2}') AS p USING (item_id);
-- include_new false in recommend_for_items
SELECT bool_or(item_id = 1001) AS with_new, (SELECT bool_or(item_id = 1001) FROM reco.recommend_for_items('fs', '{1}', n => 13, include_new => false)) AS without_new
  FROM reco.recommend_for_items('fs', '{1}', n => 13);

-- 7. explain_features: the item's features (item placed), else the user's profile; sums to the score
SELECT * FROM reco.explain_features('fs', 1, 1001);
SELECT abs((SELECT sum(contribution) FROM reco.explain_features('fs', 1, 1001))
           - (SELECT score FROM reco.recommend('fs', 1, candidates => '{1001}'))) < 1e-5 AS sums_to_score;
SELECT reco.place_item('fs', 1002, '{"emb": [0.5, 1, 2], "cat:a": 1, "nope": 3}');
SELECT side, feature, round(contribution::numeric, 4) AS contribution FROM reco.explain_features('fs', 2, 1002);
SELECT abs((SELECT sum(contribution) FROM reco.explain_features('fs', 2, 1002))
           - (SELECT score FROM reco.recommend('fs', 2, candidates => '{1002}', exclude_seen => false))) < 1e-5 AS sums_to_score;
SELECT side, feature, round(contribution::numeric, 4) AS contribution FROM reco.explain_features('fs', 501, 3);
SELECT abs((SELECT sum(contribution) FROM reco.explain_features('fs', 501, 3))
           - (SELECT score FROM reco.recommend('fs', 501, candidates => '{3}'))) < 1e-5 AS sums_to_score;
SELECT count(*) AS neither_placed FROM reco.explain_features('fs', 1, 3);
SELECT count(*) AS unknown FROM reco.explain_features('fs', 77777, 1001);
SELECT count(*) AS null_item FROM reco.explain_features('fs', 1, NULL);
SELECT * FROM reco.explain_features('fs', '1', '1001');

-- 8. text ids: a new key gets the next code, a replaced one keeps it
CREATE TABLE fs_text_orders AS
SELECT 'c' || customer_id AS customer, 'sku-' || product_id AS sku, qty FROM fs_orders;
SELECT n_users, n_items FROM reco.train('fs_text', 'fs_text_orders', 'customer', 'sku', 'qty', factors => 2, iterations => 2);
INSERT INTO reco.feature_weights VALUES
  (fs_model('fs_text'), 'item', '', 'intercept', reco.to_bytea('{0.125, 0.25}')),
  (fs_model('fs_text'), 'item', 'cat:a', 'sparse', reco.to_bytea('{1, 0}'));
SELECT reco.place_item('fs_text', 'sku-new', '{"cat:a": 8}');
SELECT reco.place_item('fs_text', 'sku-new', '{"cat:a": 4}');
SELECT item_id, item_key, reco.to_array(factors) AS factors FROM reco.item_factors
 WHERE model_id = fs_model('fs_text') AND item_key = 'sku-new';
SELECT (SELECT max(item_id) FROM reco.item_factors WHERE model_id = fs_model('fs_text') AND features IS NULL) AS last_trained_code;
SELECT item_id FROM reco.recommend('fs_text', 'c1', 1);
SELECT count(*) FROM reco.recommend('fs_text', 'c1', 13, include_new => false) WHERE item_id = 'sku-new';
SELECT item_id, similarity FROM reco.similar_items('fs_text', 'sku-new', 1, candidates => '{sku-1}');
SELECT side, feature FROM reco.explain_features('fs_text', 'c1', 'sku-new') ORDER BY feature;
SELECT outcome($$SELECT * FROM reco.similar_to_features('fs_text', '{"cat:a": 1}')$$);
SELECT outcome($$SELECT reco.place_user('fs_text', 'c-new', '{}')$$);

-- 9. an explicit model: an empty cart with a profile is the mapped vector; a cart needs ials
SELECT n_users, algorithm FROM reco.train('fs_als', 'fs_orders', options =>
  '{"algorithm": "als", "user_col": "customer_id", "item_col": "product_id", "weight_col": "qty", "factors": 2, "iterations": 3}');
INSERT INTO reco.feature_weights
SELECT fs_model('fs_als'), 'user', '', 'intercept', reco.to_bytea(array_fill(0.5::real, ARRAY[factors]))
  FROM reco.models WHERE model_id = fs_model('fs_als');
SELECT count(*) FROM reco.recommend_for_items('fs_als', '{}', profile => '{}');
SELECT (SELECT array_agg(round(score::numeric, 4) ORDER BY item_id) FROM reco.recommend_for_items('fs_als', '{}', n => 20, profile => '{}'))
     = (SELECT array_agg(round(s::numeric, 4) ORDER BY item_id)
          FROM (SELECT i.item_id, (SELECT sum(a * 0.5) FROM unnest(reco.to_array(i.factors)) AS a) AS s
                  FROM reco.item_factors AS i WHERE i.model_id = fs_model('fs_als')) AS t) AS scores_are_the_profile_dot;
SELECT outcome($$SELECT * FROM reco.recommend_for_items('fs_als', '{1}', profile => '{}')$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('fs_als', '{1}')$$);

-- 10. errors
SELECT outcome($$SELECT reco.place_item('fs', 1, '{"cat:a": 1}')$$) AS learned_item;
SELECT outcome($$SELECT reco.place_user('fs', 1, '{"age:young": 1}')$$) AS learned_user;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '[1, 2]')$$) AS not_object;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '3')$$) AS scalar;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": "x"}')$$) AS string_value;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": null}')$$) AS null_value;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": {"x": 1}}')$$) AS object_value;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": [1]}')$$) AS array_for_sparse;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"emb": 1}')$$) AS number_for_dense;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"emb": [1, 2]}')$$) AS wrong_length;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"emb": [1, "x", 2]}')$$) AS non_number_element;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"unknown": ["x"]}')$$) AS unknown_key_checked;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": 1e400}')$$) AS huge_value;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"emb": [1, -1e300, 2]}')$$) AS huge_element;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{"cat:a": 3e38, "emb": [1e38, 0, 1e38]}')$$) AS overflowing_sum;
SELECT outcome($$SELECT reco.place_item('fs', NULL, '{}')$$) AS null_id;
SELECT outcome($$SELECT reco.place_item('fs', 2000, NULL)$$) AS null_features;
SELECT outcome($$SELECT reco.place_item(NULL, 2000, '{}')$$) AS null_model;
SELECT outcome($$SELECT reco.place_user('fs', 2000::bigint, NULL)$$) AS null_profile;
SELECT outcome($$SELECT reco.place_item('nope', 2000, '{}')$$) AS unknown_model;
SELECT outcome($$SELECT reco.place_user('nope', 2000::bigint, '{}')$$) AS unknown_model_user;
SELECT outcome($$SELECT * FROM reco.similar_to_features('nope', '{}')$$) AS unknown_model_similar;
SELECT outcome($$SELECT * FROM reco.explain_features('nope', 1, 1)$$) AS unknown_model_explain;
SELECT outcome($$SELECT * FROM reco.similar_to_features('fs', '{}', NULL)$$) AS null_n_similar;
SELECT outcome($$SELECT reco.place_item('fs_als', 2000, '{}')$$) AS no_item_mapping;
SELECT outcome($$SELECT reco.place_user('fs_text', 'x', '{}')$$) AS no_user_mapping;
SELECT outcome($$SELECT * FROM reco.recommend_for_items_text('fs_text', '{}', profile => '{}')$$) AS no_user_mapping_profile;
SELECT outcome($$SELECT * FROM reco.recommend_for_items('fs', '{1}', profile => '[]')$$) AS profile_not_object;
SELECT outcome($$SELECT * FROM reco.recommend('fs', 1, include_new => NULL)$$) AS null_include_new;
SELECT outcome($$SELECT * FROM reco.recommend_for_items('fs', '{1}', include_new => NULL)$$) AS null_include_new_rfi;
SELECT outcome($$SELECT * FROM reco.similar_items('fs', 1, include_new => NULL)$$) AS null_include_new_similar;
SELECT outcome($$SELECT * FROM reco.similar_to_features('fs', '{}', 0)$$) AS zero_n;
SELECT outcome($$SELECT * FROM reco.similar_to_features('fs_text', '{"cat:a": 1}')$$) AS bigint_form_text_model;
SELECT outcome($$SELECT * FROM reco.similar_to_features('fs', '{"cat:a": "x"}')$$) AS similar_bad_features;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT outcome($$SELECT reco.place_item('fs', 2000, '{}')$$) AS place_repeatable_read;
ROLLBACK;
-- nothing of the failed calls was stored
SELECT count(*) FROM reco.item_factors WHERE model_id = fs_model('fs') AND item_id = 2000;

DELETE FROM reco.feature_weights WHERE model_id IN (fs_model('fs'), fs_model('fs_text'), fs_model('fs_als'));
SELECT reco.drop_model('fs'), reco.drop_model('fs_text'), reco.drop_model('fs_als');

-- include_new => false with many placed items, in a fresh backend: the list
-- of excluded items outlives the SPI context (it was allocated there and
-- read after SPI_finish freed it; with 300k placed items the freed array was
-- unmapped and the backend crashed)
CREATE TABLE fs_many_clicks AS
SELECT u AS user_id, i AS item_id FROM generate_series(1, 60) AS u, generate_series(1, 24) AS i
 WHERE u % 3 = i % 3 AND (u * 7 + i * 3) % 5 <> 0;
CREATE TABLE fs_many_features AS
SELECT i AS item_id, 'cluster:' || (i % 3) AS feature FROM generate_series(1, 300024) AS i;
SELECT n_items, stats->'item_features'->'placed' AS placed
  FROM reco.train('fs_many', 'fs_many_clicks', factors => 2, iterations => 2,
                  item_features => ARRAY['fs_many_features'], feature_regularization => 1);
\c
SET extra_float_digits = 0;
SELECT count(*) AS rows, bool_and(item_id <= 24) AS only_learned_items
  FROM reco.recommend('fs_many', 1, 10, include_new => false);
SELECT count(*) AS rows, bool_and(item_id <= 24) AS only_learned_items
  FROM reco.recommend_for_items('fs_many', '{1, 2}', n => 10, include_new => false);
SELECT reco.drop_model('fs_many');
DROP TABLE fs_many_clicks, fs_many_features;
VACUUM reco.item_factors;
