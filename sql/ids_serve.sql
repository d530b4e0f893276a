-- ids_serve: serving models whose user or item ids are text or uuid (0.4.0).
-- The text and uuid forms of recommend, similar_items, similar_users, explain,
-- recommend_for_items_text and recommend_all_text answer exactly what the bigint
-- forms answer on the same factors, with every id mapped to its key; how the forms
-- resolve; the bigint forms on models with keys; and the bad inputs.
--
-- Until reco.fit can train on text ids, the keyed models are copies of one trained
-- bigint model ("big", users 1..30, items 1..20) with keys written by hand as
-- training stores them: the key in user_key / item_key, the code (the key's rank in
-- byte order) in user_id / item_id and in seen_items, the id types in params.
\set VERBOSITY terse
SET extra_float_digits = 0;
SET client_min_messages = warning;
CREATE TABLE ids_data AS
SELECT u AS user_id, i AS item_id, ((u * 7 + i * 3) % 4 + 1)::real AS weight
  FROM generate_series(1, 30) AS u, generate_series(1, 20) AS i
 WHERE (u * 5 + i * 11) % 7 < 2 OR i = u % 20 + 1;
SELECT (reco.fit('big', user_id, item_id, weight, '{"factors": 4, "iterations": 5, "regularization": 0.5, "threads": 1}')).n_users
  FROM ids_data;
RESET client_min_messages;

-- The key of id `id` for id type `t`: 'text' pads so that key order is id order,
-- 'numtext' is the id's decimal text (a text side where bigint 15 means key '15'),
-- 'uuid' is a canonical uuid in id order; 'bigint' has no key.
CREATE FUNCTION ids_key(t text, side text, id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t
        WHEN 'text' THEN CASE side WHEN 'user' THEN 'cust-' ELSE 'sku-' END || lpad(id::text, 4, '0')
        WHEN 'numtext' THEN id::text
        WHEN 'uuid' THEN format('00000000-0000-0000-%s-%s', CASE side WHEN 'user' THEN '0001' ELSE '0002' END,
                                lpad(id::text, 12, '0'))
    END
$$;
-- Copies the newest version of model src as model dst with user ids of type ut and
-- item ids of type it: codes are the keys' ranks in byte order (COLLATE "C").
CREATE FUNCTION ids_copy(src text, dst text, ut text, it text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s reco.models;
    d bigint;
BEGIN
    SELECT * INTO s FROM reco.models WHERE name = src ORDER BY version DESC LIMIT 1;
    INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                             factors, loss, train_seconds)
    VALUES (dst, 1, s.algorithm,
            s.params || jsonb_build_object('user_id_type', CASE ut WHEN 'numtext' THEN 'text' ELSE ut END,
                                           'item_id_type', CASE it WHEN 'numtext' THEN 'text' ELSE it END),
            s.n_users, s.n_items, s.n_interactions, s.factors, s.loss, 0)
    RETURNING model_id INTO d;
    CREATE TEMP TABLE ids_imap ON COMMIT DROP AS
    SELECT item_id AS id, ids_key(it, 'item', item_id) AS key,
           CASE it WHEN 'bigint' THEN item_id
                   ELSE dense_rank() OVER (ORDER BY ids_key(it, 'item', item_id) COLLATE "C") END AS code
      FROM reco.item_factors WHERE model_id = s.model_id;
    INSERT INTO reco.item_factors (model_id, item_id, factors, popularity, item_key)
    SELECT d, m.code, f.factors, f.popularity, m.key
      FROM reco.item_factors AS f JOIN ids_imap AS m ON m.id = f.item_id
     WHERE f.model_id = s.model_id;
    INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights, user_key)
    SELECT d,
           CASE ut WHEN 'bigint' THEN f.user_id
                   ELSE dense_rank() OVER (ORDER BY ids_key(ut, 'user', f.user_id) COLLATE "C") END,
           f.factors,
           COALESCE((SELECT array_agg(m.code ORDER BY m.code) FROM unnest(f.seen_items, f.seen_weights) AS x(i, w)
                       JOIN ids_imap AS m ON m.id = x.i), '{}'),
           COALESCE((SELECT array_agg(x.w ORDER BY m.code) FROM unnest(f.seen_items, f.seen_weights) AS x(i, w)
                       JOIN ids_imap AS m ON m.id = x.i), '{}'),
           ids_key(ut, 'user', f.user_id)
      FROM reco.user_factors AS f WHERE f.model_id = s.model_id;
    DROP TABLE ids_imap;
END
$$;
SELECT ids_copy('big', 'tt', 'text', 'text'), ids_copy('big', 'uu', 'uuid', 'uuid'),
       ids_copy('big', 'tb', 'text', 'bigint'), ids_copy('big', 'bt', 'bigint', 'text'),
       ids_copy('big', 'nb', 'numtext', 'bigint'), ids_copy('big', 'ub', 'uuid', 'bigint');
-- what a keyed model stores: codes in key order, seen items as codes
SELECT m.name, m.params->>'user_id_type' AS users, m.params->>'item_id_type' AS items,
       u.user_id, u.user_key, u.seen_items
  FROM reco.models AS m JOIN reco.user_factors AS u USING (model_id)
 WHERE m.name IN ('tt', 'nb') AND u.user_id IN (1, 2, 3)
 ORDER BY m.name, u.user_id;

-- The model big's answer for user u (exclude_seen e) with every item id written as
-- the key of type it: item:score pairs in order.
CREATE FUNCTION ids_big(u bigint, it text, e boolean DEFAULT true, c bigint[] DEFAULT NULL,
                        x bigint[] DEFAULT NULL) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(coalesce(ids_key(it, 'item', r.item_id), r.item_id::text) || ':' || r.score ORDER BY r.o)
      FROM reco.recommend('big', u, 5, e, c, x) WITH ORDINALITY AS r(item_id, score, o)
$$;
-- The same for a text-form answer.
CREATE FUNCTION ids_pairs(r_item text[], r_score real[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(i || ':' || s ORDER BY o) FROM unnest(r_item, r_score) WITH ORDINALITY AS t(i, s, o)
$$;

-- 1. recommend: the same items, scores and order for every user
SELECT * FROM reco.recommend('big', 7, 4);
SELECT * FROM reco.recommend('tt', 'cust-0007', 4);
SELECT * FROM reco.recommend('uu', '00000000-0000-0000-0001-000000000007'::uuid, 4);
SELECT * FROM reco.recommend('tb', 'cust-0007', 4);
SELECT * FROM reco.recommend('bt', '7', 4);
SELECT m, e, count(*) FILTER (WHERE mine IS DISTINCT FROM theirs) AS differ,
       count(*) FILTER (WHERE cardinality(mine) = 5) AS five_items, count(*) AS users
  FROM (VALUES ('tt', 'text'), ('uu', 'uuid'), ('tb', 'bigint'), ('bt', 'text'), ('nb', 'bigint')) AS v(m, it),
       (VALUES (true), (false)) AS w(e),
       generate_series(1, 31) AS u,
       LATERAL (SELECT ids_big(u, it, e) AS mine) AS b,
       LATERAL (SELECT ids_pairs(array_agg(r.item_id), array_agg(r.score)) AS theirs
                  FROM reco.recommend(m, coalesce(ids_key(CASE m WHEN 'tt' THEN 'text' WHEN 'uu' THEN 'uuid'
                                                     WHEN 'tb' THEN 'text' WHEN 'nb' THEN 'numtext' END, 'user', u),
                                                  u::text), 5, e) AS r) AS t
 GROUP BY m, e ORDER BY m, e;
-- the uuid form, a uuid in upper case, and bigint and text forms reading the id's text
SELECT count(*) FILTER (WHERE ids_big(u, 'uuid') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('uu', ids_key('uuid', 'user', u)::uuid, 5))) AS uuid_form_differs,
       count(*) FILTER (WHERE ids_big(u, 'uuid') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('uu', upper(ids_key('uuid', 'user', u)), 5))) AS upper_case_differs,
       count(*) FILTER (WHERE ids_big(u, 'bigint') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id::text), array_agg(score))
            FROM reco.recommend('nb', u, 5))) AS bigint_form_on_text_users_differs,
       count(*) FILTER (WHERE ids_big(u, 'bigint') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('big', u::text, 5))) AS text_form_on_bigint_differs
  FROM generate_series(1, 30) AS u;
-- candidates and exclude as keys: unknown keys and NULL elements are ignored
SELECT * FROM reco.recommend('big', 3, 3, candidates => '{2, 5, 9, 14, 999}', exclude => '{5}');
SELECT * FROM reco.recommend('tt', 'cust-0003', 3, candidates => '{sku-0002, sku-0005, sku-0009, sku-0014, sku-9999, NULL}',
                             exclude => '{sku-0005, nope}');
SELECT count(*) FILTER (WHERE ids_big(u, 'text', false, '{1, 4, 6, 11, 12, 17, 20}', '{4, 12}') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('tt', ids_key('text', 'user', u), 5, false,
                                '{sku-0001, sku-0004, sku-0006, sku-0011, sku-0012, sku-0017, sku-0020, sku-0000}',
                                '{sku-0004, sku-0012}'))) AS text_differs,
       count(*) FILTER (WHERE ids_big(u, 'uuid', true, '{1, 4, 6, 11, 12, 17, 20}', '{4, 12}') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('uu', ids_key('uuid', 'user', u)::uuid, 5, true,
                                ARRAY(SELECT ids_key('uuid', 'item', i) FROM unnest('{1, 4, 6, 11, 12, 17, 20}'::int[]) AS i),
                                ARRAY[ids_key('uuid', 'item', 4), upper(ids_key('uuid', 'item', 12))]))) AS uuid_differs,
       count(*) FILTER (WHERE ids_big(u, 'bigint', true, '{1, 4, 6}', '{4}') IS DISTINCT FROM
         (SELECT ids_pairs(array_agg(item_id), array_agg(score))
            FROM reco.recommend('tb', ids_key('text', 'user', u), 5, true, '{1, 4, 6}', '{4}'))) AS bigint_items_differ
  FROM generate_series(1, 30) AS u;

-- 2. the fallback: an unknown key or NULL gets the best-sellers as keys, in big's order
SELECT b.item_id AS big_item, t.item_id AS tt_item, b.score = t.score AS same_score
  FROM reco.recommend('big', 999, 4) WITH ORDINALITY AS b(item_id, score, o)
  FULL JOIN reco.recommend('tt', 'cust-9999', 4) WITH ORDINALITY AS t(item_id, score, o) USING (o)
 ORDER BY o;
SELECT (SELECT array_agg(ids_key('uuid', 'item', item_id) ORDER BY o)
          FROM reco.recommend('big', NULL::bigint, 6, candidates => '{3, 5, 8}', exclude => '{5}')
               WITH ORDINALITY AS b(item_id, score, o))
     = (SELECT array_agg(item_id ORDER BY o)
          FROM reco.recommend('uu', NULL::uuid, 6, candidates => ARRAY[ids_key('uuid', 'item', 3), ids_key('uuid', 'item', 5),
                                                                       ids_key('uuid', 'item', 8)],
                              exclude => ARRAY[ids_key('uuid', 'item', 5)])
               WITH ORDINALITY AS t(item_id, score, o)) AS uuid_fallback_same;
SELECT count(*) AS none_rows FROM reco.recommend('tt', 'cust-9999', fallback => 'none');
SELECT count(*) AS none_rows FROM reco.recommend('tt', NULL::text, fallback => 'none');
-- the bigint form on text users and bigint items: a NULL user gets the best-sellers
SELECT (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend('tb', NULL::bigint, 4) WITH ORDINALITY AS t(item_id, score, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend('big', NULL::bigint, 4) WITH ORDINALITY AS t(item_id, score, o))
       AS null_user_same;
-- the short uuid form, with reco.model
SET reco.model = 'uu';
SELECT (SELECT array_agg(item_id || ':' || score) FROM reco.recommend('00000000-0000-0000-0001-000000000007'::uuid, 4))
     = (SELECT array_agg(item_id || ':' || score) FROM reco.recommend('uu', '00000000-0000-0000-0001-000000000007'::uuid, 4))
       AS short_uuid_form_same;
SELECT count(*) AS unknown_uuid_rows FROM reco.recommend('00000000-0000-0000-0001-000000000999'::uuid, 3);
RESET reco.model;

-- 3. recommend_for_items_text: the same fold-in, weights, candidates and exclude
SELECT * FROM reco.recommend_for_items('big', '{2, 7, 7, 13}', '{1, 2, 0.5, 3}', 4);
SELECT * FROM reco.recommend_for_items_text('tt', '{sku-0002, sku-0007, sku-0007, sku-0013, sku-9999}', '{1, 2, 0.5, 3, 4}', 4);
SELECT (SELECT array_agg(ids_key('uuid', 'item', item_id) || ':' || score ORDER BY o)
          FROM reco.recommend_for_items('big', '{1, 9, 15}', '{2, -1, 1}', 6, false, '{1, 2, 3, 4, 5, 6, 9, 10}', '{2}')
               WITH ORDINALITY AS b(item_id, score, o))
     = (SELECT array_agg(item_id || ':' || score ORDER BY o)
          FROM reco.recommend_for_items_text('uu', ARRAY(SELECT ids_key('uuid', 'item', i) FROM unnest('{1, 9, 15}'::int[]) AS i),
                                             '{2, -1, 1}', 6, false,
                                             ARRAY(SELECT ids_key('uuid', 'item', i) FROM unnest('{1, 2, 3, 4, 5, 6, 9, 10}'::int[]) AS i),
                                             ARRAY[ids_key('uuid', 'item', 2)])
               WITH ORDINALITY AS t(item_id, score, o)) AS uuid_cart_same,
       (SELECT array_agg(item_id::text || ':' || score ORDER BY o)
          FROM reco.recommend_for_items('big', '{1, 9, 15}', n => 5) WITH ORDINALITY AS b(item_id, score, o))
     = (SELECT array_agg(item_id || ':' || score ORDER BY o)
          FROM reco.recommend_for_items_text('big', '{1, 9, 15}', n => 5) WITH ORDINALITY AS t(item_id, score, o)) AS bigint_model_same;
-- an empty or unknown cart: the best-sellers as keys, or no rows
SELECT (SELECT array_agg(ids_key('text', 'item', item_id) ORDER BY o)
          FROM reco.recommend_for_items('big', '{}', n => 5, exclude => '{1}') WITH ORDINALITY AS b(item_id, score, o))
     = (SELECT array_agg(item_id ORDER BY o)
          FROM reco.recommend_for_items_text('tt', '{nope}', n => 5, exclude => '{sku-0001}') WITH ORDINALITY AS t(item_id, score, o))
       AS cart_fallback_same;
SELECT count(*) AS none_rows FROM reco.recommend_for_items_text('tt', '{}', fallback => 'none');
-- the bigint form on a model with text user ids and bigint item ids
SELECT (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend_for_items('tb', '{3, 4}') WITH ORDINALITY AS t(item_id, score, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM reco.recommend_for_items('big', '{3, 4}') WITH ORDINALITY AS t(item_id, score, o))
       AS text_users_bigint_items_same;

-- 4. similar_items and similar_users
SELECT * FROM reco.similar_items('big', 4, 3);
SELECT * FROM reco.similar_items('tt', 'sku-0004', 3);
SELECT * FROM reco.similar_users('uu', '00000000-0000-0000-0001-000000000004'::uuid, 3);
-- every item and user of the text and uuid forms (candidates with an unknown key for
-- items), each answer's keys mapped back to big's ids by the number they end with
SELECT m, side, count(*) FILTER (WHERE mine IS DISTINCT FROM theirs) AS differ,
       count(*) FILTER (WHERE cardinality(mine) = 4) AS four_rows, count(*) AS ids
  FROM (VALUES ('tt', 'item'), ('uu', 'item'), ('tb', 'user'), ('uu', 'user')) AS v(m, side),
       generate_series(1, 20) AS i,
       LATERAL (SELECT ids_key(CASE m WHEN 'uu' THEN 'uuid' ELSE 'text' END, side, i) AS k,
                       ARRAY(SELECT ids_key(CASE m WHEN 'uu' THEN 'uuid' ELSE 'text' END, side, c)
                               FROM unnest('{2, 3, 5, 8, 13, 99}'::int[]) AS c) AS ck) AS keys,
       LATERAL (SELECT CASE side
                WHEN 'item' THEN (SELECT array_agg(item_id || ':' || similarity ORDER BY o)
                                    FROM reco.similar_items('big', i, 4, '{2, 3, 5, 8, 13}') WITH ORDINALITY AS r(item_id, similarity, o))
                ELSE (SELECT array_agg(user_id || ':' || similarity ORDER BY o)
                        FROM reco.similar_users('big', i, 4) WITH ORDINALITY AS r(user_id, similarity, o)) END AS mine) AS b,
       LATERAL (SELECT array_agg(substring(r.id FROM '[0-9]+$')::bigint || ':' || r.similarity ORDER BY r.o) AS theirs
                  FROM (SELECT * FROM reco.similar_items(m, k, 4, ck) WITH ORDINALITY
                         WHERE side = 'item' AND m = 'tt'
                        UNION ALL
                        SELECT * FROM reco.similar_items(m, k::uuid, 4, ck) WITH ORDINALITY
                         WHERE side = 'item' AND m = 'uu'
                        UNION ALL
                        SELECT * FROM reco.similar_users(m, k, 4) WITH ORDINALITY
                         WHERE side = 'user' AND m = 'tb'
                        UNION ALL
                        SELECT * FROM reco.similar_users(m, k::uuid, 4) WITH ORDINALITY
                         WHERE side = 'user' AND m = 'uu') AS r(id, similarity, o)) AS t
 GROUP BY m, side ORDER BY m, side;
-- the bigint similar_users on bigint users whose items are text; unknown keys give no rows
SELECT (SELECT array_agg(user_id ORDER BY o) FROM reco.similar_users('bt', 4, 5) WITH ORDINALITY AS t(user_id, s, o))
     = (SELECT array_agg(user_id ORDER BY o) FROM reco.similar_users('big', 4, 5) WITH ORDINALITY AS t(user_id, s, o))
       AS bigint_users_same;
SELECT count(*) AS unknown_rows FROM reco.similar_items('tt', 'sku-9999');
SELECT count(*) AS null_rows FROM reco.similar_users('tt', NULL::text);

-- 5. explain: the same contributions, summing to the folded-in score
SELECT * FROM reco.explain('big', 5, 11, 3);
SELECT * FROM reco.explain('tt', 'cust-0005', 'sku-0011', 3);
SELECT count(*) FILTER (WHERE
         (SELECT array_agg(ids_key('text', 'item', item_id) || ':' || contribution ORDER BY o)
            FROM reco.explain('big', u, u % 20 + 1, 10) WITH ORDINALITY AS b(item_id, contribution, o))
         IS DISTINCT FROM
         (SELECT array_agg(item_id || ':' || contribution ORDER BY o)
            FROM reco.explain('tt', ids_key('text', 'user', u), ids_key('text', 'item', u % 20 + 1), 10)
                 WITH ORDINALITY AS t(item_id, contribution, o))) AS text_differs,
       count(*) FILTER (WHERE
         (SELECT array_agg(item_id::text || ':' || contribution ORDER BY o)
            FROM reco.explain('big', u, 3, 10) WITH ORDINALITY AS b(item_id, contribution, o))
         IS DISTINCT FROM
         (SELECT array_agg(item_id || ':' || contribution ORDER BY o)
            FROM reco.explain('tb', ids_key('text', 'user', u), '3', 10) WITH ORDINALITY AS t(item_id, contribution, o)))
         AS text_users_differ,
       count(*) FILTER (WHERE
         (SELECT array_agg(item_id::text || ':' || contribution ORDER BY o)
            FROM reco.explain('big', u, 3, 10) WITH ORDINALITY AS b(item_id, contribution, o))
         IS DISTINCT FROM
         (SELECT array_agg(item_id::text || ':' || contribution ORDER BY o)
            FROM reco.explain('nb', u, 3, 10) WITH ORDINALITY AS t(item_id, contribution, o)))
         AS bigint_form_on_text_users_differs
  FROM generate_series(1, 30) AS u;
-- the contributions sum to the score of the user's items folded in
SELECT model_id AS tt_id FROM reco.models WHERE name = 'tt' \gset
SELECT abs((SELECT sum(contribution) FROM reco.explain('tt', 'cust-0005', 'sku-0011', 100))
           - (SELECT score FROM reco.recommend_for_items_text('tt',
                  (SELECT array_agg(f.item_key ORDER BY s.o) FROM reco.user_factors AS u,
                          unnest(u.seen_items) WITH ORDINALITY AS s(item_id, o), reco.item_factors AS f
                    WHERE u.model_id = :tt_id AND u.user_key = 'cust-0005'
                      AND f.model_id = :tt_id AND f.item_id = s.item_id),
                  (SELECT seen_weights FROM reco.user_factors WHERE model_id = :tt_id AND user_key = 'cust-0005'),
                  20, false, candidates => '{sku-0011}'))) < 1e-4 AS sums_to_score;
SELECT count(*) AS unknown_rows FROM reco.explain('tt', 'cust-0005', 'sku-9999');
SELECT count(*) AS unknown_rows FROM reco.explain('tt', 'cust-9999', 'sku-0011');

-- 6. recommend_all_text: every user (or the listed ones) as recommend_all ranks them
SELECT * FROM reco.recommend_all_text('tt', 2, '{cust-0002, cust-0009, cust-0999, NULL}');
SELECT (SELECT array_agg(ids_key('uuid', 'user', user_id) || '/' || rank || '/' || ids_key('uuid', 'item', item_id) || ':' || score
                         ORDER BY user_id, rank)
          FROM reco.recommend_all('big', 3))
     = (SELECT array_agg(user_id || '/' || rank || '/' || item_id || ':' || score ORDER BY o)
          FROM reco.recommend_all_text('uu', 3) WITH ORDINALITY AS t(user_id, rank, item_id, score, o)) AS uuid_all_same,
       (SELECT array_agg(user_id::text || '/' || rank || '/' || ids_key('text', 'item', item_id) || ':' || score
                         ORDER BY user_id, rank)
          FROM reco.recommend_all('big', 2, '{30, 4, 17, 4}', false))
     = (SELECT array_agg(user_id || '/' || rank || '/' || item_id || ':' || score ORDER BY o)
          FROM reco.recommend_all_text('bt', 2, '{30, 4, 17, 4, 999}', false) WITH ORDINALITY AS t(user_id, rank, item_id, score, o))
       AS bigint_users_text_items_same,
       (SELECT array_agg(user_id::text || '/' || rank || '/' || item_id || ':' || score ORDER BY user_id, rank)
          FROM reco.recommend_all('big', 2))
     = (SELECT array_agg(user_id || '/' || rank || '/' || item_id || ':' || score ORDER BY o)
          FROM reco.recommend_all_text('big', 2) WITH ORDINALITY AS t(user_id, rank, item_id, score, o)) AS bigint_model_same;
SELECT count(*) AS no_listed_users FROM reco.recommend_all_text('tt', 2, '{}');

-- 7. how the forms resolve: the type you pass picks the form
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend('shop', 15, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend('shop', 'cust-436', 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend('shop', '00000000-0000-0000-0001-000000000007'::uuid, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend('00000000-0000-0000-0001-000000000007'::uuid, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend(15, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.recommend_for_items('m', '{1,2}');
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.similar_items('m', 101, 5, '{1,2}');
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.similar_items('m', 'sku-1', 5, '{sku-2}');
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.explain('m', 15, 2042);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM reco.explain('m', 'cust-1', 'sku-1');
SELECT pg_typeof(item_id) FROM reco.recommend('big', 1, 1);
SELECT pg_typeof(item_id) FROM reco.recommend('big', '1', 1);
-- an untyped NULL is unknown like any untyped literal: the text form
SELECT pg_typeof(item_id) FROM reco.recommend('big', NULL, 1);

-- 8. a keyed user is found through the partial unique index user_factors_user_key:
-- one user (every single-user call) and a list (recommend_all_text), as serving
-- queries them; on a table this small the list's keys are a filter, on 20,000 users
-- both are index conditions without enable_seqscan = off (test/bench/ids_serving.sh)
ANALYZE reco.user_factors;  -- the plan follows the statistics: fix them (autovacuum may or may not have analyzed)
SET enable_seqscan = off;
SET plan_cache_mode = force_generic_plan;
PREPARE by_key(bigint, text) AS
SELECT user_id, factors, seen_items, seen_weights, user_key FROM reco.user_factors
 WHERE model_id = $1 AND user_key = $2;
EXPLAIN (COSTS OFF) EXECUTE by_key(1, 'cust-0001');
DEALLOCATE by_key;
PREPARE by_keys(bigint, text[]) AS
SELECT user_id, factors, seen_items, seen_weights, user_key FROM reco.user_factors
 WHERE model_id = $1 AND user_key = ANY($2) ORDER BY user_id;
EXPLAIN (COSTS OFF) EXECUTE by_keys(1, '{cust-0001}');
DEALLOCATE by_keys;
RESET plan_cache_mode;
RESET enable_seqscan;

-- 9. the item cache holds the keys and counts their bytes
SELECT reco.cache_reset() >= 0 AS reset;
SELECT count(*) FROM reco.recommend('big', 1) AS b, reco.recommend('tt', 'cust-0001') AS t;
SELECT t.bytes - b.bytes AS key_bytes,
       (SELECT sum(octet_length(item_key) + 1 + 8) FROM reco.item_factors AS f
         WHERE f.model_id = t.model_id) AS expected
  FROM reco.cache_info() AS t, reco.cache_info() AS b
 WHERE t.model_id = (SELECT model_id FROM reco.models WHERE name = 'tt') AND t.side = 'items'
   AND b.model_id = (SELECT model_id FROM reco.models WHERE name = 'big') AND b.side = 'items';

-- 10. bad input, each with its SQLSTATE
\set VERBOSITY default
-- a bigint form cannot return text ids (42804), and names the text form
SELECT * FROM reco.recommend('tt', 1, 3);
SELECT * FROM reco.recommend('bt', 1, 3);
SELECT * FROM reco.recommend('bt', NULL::bigint, 3);
SELECT * FROM reco.recommend_for_items('tt', '{1}');
SELECT * FROM reco.similar_items('bt', 1);
SELECT * FROM reco.similar_users('tb', 1);
SELECT * FROM reco.explain('bt', 1, 1);
SELECT * FROM reco.recommend_all('tb', 1);
SET reco.model = 'tt';
SELECT * FROM reco.recommend(1, 3);
RESET reco.model;
\set VERBOSITY sqlstate
-- an id that cannot be the model's type (22P02)
SELECT * FROM reco.recommend('uu', 'cust-0001', 3);
SELECT * FROM reco.recommend('ub', 15, 3);
SELECT * FROM reco.recommend('ub', 'cust-0001', 3);
SELECT * FROM reco.recommend('big', 'cust-0001', 3);
SELECT * FROM reco.recommend('big', '1.5', 3);
SELECT * FROM reco.recommend('big', '1', 3, candidates => '{1, x}');
SELECT * FROM reco.recommend('uu', '00000000-0000-0000-0001-000000000001', 3, exclude => '{not-a-uuid}');
SELECT * FROM reco.recommend_for_items_text('big', '{1, sku}');
SELECT * FROM reco.recommend_for_items_text('uu', '{sku}');
SELECT * FROM reco.similar_items('uu', 'sku-0001');
SELECT * FROM reco.similar_users('big', 'x');
SELECT * FROM reco.explain('big', '1', 'x');
SELECT * FROM reco.recommend_all_text('big', 2, '{1, x}');
SELECT * FROM reco.recommend_all_text('uu', 2, '{x}');
-- out of bigint's range (22003)
SELECT * FROM reco.recommend('big', '99999999999999999999', 3);
-- arrays and NULLs as the bigint forms treat them
SELECT * FROM reco.recommend('tt', 'cust-0001', 3, candidates => '{{sku-0001}}');
SELECT * FROM reco.recommend_for_items_text('tt', '{{sku-0001}}');
SELECT * FROM reco.recommend_for_items_text('tt', NULL);
SELECT * FROM reco.recommend_for_items_text('tt', '{sku-0001}', '{1, 2}');
SELECT * FROM reco.recommend('tt', 'cust-0001', NULL);
SELECT * FROM reco.recommend_all_text('tt', 2, exclude_seen => NULL);
SELECT * FROM reco.recommend(NULL, 'cust-0001');
-- a keyed model whose keys are not in code order (a refresh gives a new key the next code)
-- is served through a key-order permutation: every key is still found
UPDATE reco.item_factors SET item_key = 'zzz' WHERE item_key = 'sku-0001';
SELECT reco.cache_reset() >= 0 AS reset;
SELECT * FROM reco.recommend('tt', 'cust-0001', 3);
SELECT count(*) AS zzz_found FROM reco.similar_items('tt', 'zzz', 2);
UPDATE reco.user_factors SET user_key = NULL WHERE user_key = 'cust-0002';
SELECT * FROM reco.similar_users('tb', 'cust-0001');
UPDATE reco.models SET params = params || '{"item_id_type": "int"}' WHERE name = 'bt';
SELECT * FROM reco.recommend('bt', 1, 3);
-- the other tests see none of this
SELECT sum(reco.drop_model(name)) AS versions_dropped
  FROM (VALUES ('big'), ('tt'), ('uu'), ('tb'), ('bt'), ('nb'), ('ub')) AS m(name);
DROP FUNCTION ids_key, ids_copy, ids_big, ids_pairs;
DROP TABLE ids_data;
