-- explore: reco.explore (Thompson draws from the user's posterior and
-- epsilon-slots of less popular items) on a small trained model: a seed
-- reproduces a list, seeds differ, sigma 0 / epsilon 0 is reco.recommend's
-- list, the filters always hold, the epsilon-slot count, the text form, and
-- every bad input's SQLSTATE.  Only invariants are printed (booleans and
-- counts), never a trained score.
\set VERBOSITY terse
SET extra_float_digits = 0;
SET client_min_messages = warning;
-- 300 customers, 8 purchases each, over 120 products of uneven popularity
CREATE TABLE explore_pairs AS
SELECT u AS user_id, 1 + ((u * 37 + j * j * 11) % 60) * (1 + j % 2) AS item_id, 1 + (u + j) % 3 AS w
  FROM generate_series(1, 300) AS u, generate_series(1, 8) AS j;
SELECT n_users, n_items FROM reco.train('explore_m', 'explore_pairs', weight_col => 'w',
                                        factors => 8, iterations => 5, regularization => 1);
-- One call's rows as text, in display order.
CREATE FUNCTION explore_list(u bigint, s bigint, sg real DEFAULT 1, e real DEFAULT 0.1, k integer DEFAULT 10)
RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', item_id, score, explored), ' ' ORDER BY o)
      FROM reco.explore('explore_m', u, k, seed => s, sigma => sg, epsilon => e) WITH ORDINALITY AS t(item_id, score, explored, o)
$$;
-- the same seed gives the same list, for every user (60 users, 2 calls each)
SELECT count(*) FILTER (WHERE explore_list(u, 7) = explore_list(u, 7)) AS same_seed_same_list,
       count(*) FILTER (WHERE explore_list(u, 7) IS NULL) AS empty_lists
  FROM generate_series(1, 300, 5) AS u;
-- different seeds give different lists: 20 seeds, 20 distinct lists, for two users
SELECT u, count(DISTINCT explore_list(u, s)) AS distinct_lists
  FROM generate_series(1, 20) AS s, (VALUES (1), (2)) AS v(u) GROUP BY u ORDER BY u;
-- ... and sigma alone (epsilon 0) makes them differ too
SELECT count(DISTINCT explore_list(3, s, 1, 0)) AS distinct_lists_sigma_only
  FROM generate_series(1, 20) AS s;
-- without a seed every call draws afresh (epsilon 1: 10 draws among the less popular half)
SELECT count(DISTINCT l) AS unseeded_distinct
  FROM (SELECT explore_list(4, NULL, 1, 1) AS l FROM generate_series(1, 5)) AS t;
-- a seed's list is a function of (seed, user): each user draws independently
SELECT count(DISTINCT regexp_replace(explore_list(u, 11, 0, 1), '[0-9.e-]+:', '', 'g')) > 1
       AS users_draw_independently
  FROM generate_series(1, 5) AS u;

-- sigma 0 and epsilon 0 give exactly reco.recommend's rows (ids, scores, order), for every
-- user, with and without filters; nothing is explored
CREATE FUNCTION same_as_recommend(u bigint, k integer, xs boolean, c bigint[], x bigint[])
RETURNS boolean LANGUAGE sql AS $$
    SELECT (SELECT array_agg(format('%s:%s', item_id, score) ORDER BY o)
              FROM reco.explore('explore_m', u, k, seed => 1, sigma => 0, epsilon => 0, exclude_seen => xs,
                                candidates => c, exclude => x) WITH ORDINALITY AS t(item_id, score, explored, o))
           IS NOT DISTINCT FROM
           (SELECT array_agg(format('%s:%s', item_id, score) ORDER BY o)
              FROM reco.recommend('explore_m', u, k, exclude_seen => xs, candidates => c, exclude => x)
                   WITH ORDINALITY AS t(item_id, score, o))
       AND NOT EXISTS (SELECT FROM reco.explore('explore_m', u, k, seed => 1, sigma => 0, epsilon => 0,
                                                exclude_seen => xs, candidates => c, exclude => x)
                        WHERE explored)
$$;
SELECT count(*) FILTER (WHERE same_as_recommend(u, 10, true, NULL, NULL)) AS plain,
       count(*) FILTER (WHERE same_as_recommend(u, 25, false, NULL, '{1, 2, 3, 5, 8}')) AS not_seen_exclude,
       count(*) FILTER (WHERE same_as_recommend(u, 7, true, ARRAY(SELECT generate_series(1, 120, 3)::bigint), '{4}'))
           AS candidates,
       count(*) FILTER (WHERE same_as_recommend(u, 500, true, NULL, NULL)) AS n_above_catalogue
  FROM generate_series(0, 301) AS u;
-- unknown and NULL users: reco.recommend's best-sellers (score = popularity)
SELECT same_as_recommend(999999, 10, true, NULL, NULL) AS unknown_user,
       same_as_recommend(NULL, 10, true, '{1, 2, 3, 4, 5, 6}', '{2}') AS null_user;
SELECT count(*) AS rows, count(*) FILTER (WHERE explored) AS explored
  FROM reco.explore('explore_m', 999999, 10, seed => 3, sigma => 1, epsilon => 0.3);

-- the filters hold in every slot: 40 seeds x 10 users, sigma 5, epsilon 0.5
CREATE TEMP TABLE drawn AS
SELECT u, s, r.item_id
  FROM generate_series(1, 10) AS u, generate_series(1, 40) AS s,
       LATERAL reco.explore('explore_m', u, 10, seed => s, sigma => 5, epsilon => 0.5,
                            candidates => ARRAY(SELECT generate_series(1, 120, 2)::bigint),
                            exclude => '{1, 3, 5, 7, 9}') AS r;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE item_id % 2 = 0) AS outside_candidates,
       count(*) FILTER (WHERE item_id IN (1, 3, 5, 7, 9)) AS excluded,
       count(*) FILTER (WHERE EXISTS (SELECT FROM explore_pairs AS p
                                       WHERE p.user_id = d.u AND p.item_id = d.item_id)) AS seen
  FROM drawn AS d;
SELECT count(*) AS lists_with_a_repeat
  FROM (SELECT u, s FROM drawn GROUP BY u, s HAVING count(*) <> count(DISTINCT item_id)) AS t;
-- exclude_seen => false lets seen items back (sigma 0: the user's own items rank high)
SELECT count(*) > 0 AS seen_items_come_back
  FROM generate_series(1, 10) AS u,
       LATERAL reco.explore('explore_m', u, 10, seed => 1, sigma => 0, epsilon => 0, exclude_seen => false) AS r
 WHERE EXISTS (SELECT FROM explore_pairs AS p WHERE p.user_id = u AND p.item_id = r.item_id);

-- the epsilon-slot count: with sigma 0 the exploit slots are reco.recommend's top (n - e),
-- so exactly e rows lie outside it: e = epsilon x n when that is whole (n 10: 0.3 -> 3,
-- 0.5 -> 5, 1 -> 10; n 4, 0.25 -> 1), on every seed and user
CREATE FUNCTION outside_top(u bigint, s bigint, e real, k integer) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM reco.explore('explore_m', u, k, seed => s, sigma => 0, epsilon => e) AS x
     WHERE x.item_id NOT IN (SELECT item_id FROM reco.recommend('explore_m', u, greatest(k - round(e * k)::integer, 1))
                              LIMIT k - round(e * k)::integer)
$$;
SELECT e, k, min(outside_top(u, s, e, k)) AS min_slots, max(outside_top(u, s, e, k)) AS max_slots
  FROM (VALUES (0.3::real, 10), (0.5, 10), (1, 10), (0.25, 4), (0.1, 10)) AS v(e, k),
       generate_series(1, 30, 3) AS u, generate_series(1, 5) AS s
 GROUP BY e, k ORDER BY k, e;
-- epsilon 0.25 at n 10 is 2 or 3 slots (2.5 on average, stochastic rounding)
SELECT min(c) AS min_slots, max(c) AS max_slots, round(avg(c), 1) BETWEEN 2.3 AND 2.7 AS about_two_and_a_half
  FROM (SELECT outside_top(1 + s % 50, s, 0.25, 10) AS c FROM generate_series(1, 200) AS s) AS t;
-- epsilon-slot items come from the less popular half of the eligible items (popularity
-- order as the best-sellers', ties by id): user 1, epsilon 1, 20 seeds
CREATE TEMP TABLE eligible_rank AS
SELECT f.item_id, row_number() OVER (ORDER BY f.popularity DESC, f.item_id) AS rank, count(*) OVER () AS h
  FROM reco.item_factors AS f
 WHERE f.model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'explore_m')
   AND NOT EXISTS (SELECT FROM explore_pairs AS p WHERE p.user_id = 1 AND p.item_id = f.item_id AND p.w > 0);
SELECT count(*) AS epsilon_rows, count(*) FILTER (WHERE e.rank <= e.h / 2) AS from_the_popular_half
  FROM generate_series(1, 20) AS s,
       LATERAL reco.explore('explore_m', 1, 10, seed => s, sigma => 0, epsilon => 1) AS x
  JOIN eligible_rank AS e USING (item_id);

-- the text form: a model with text ids; sigma 0 / epsilon 0 is recommend's text form,
-- a seed reproduces, and the bigint form is refused with a hint
CREATE TABLE explore_pairs_text AS
SELECT 'c' || user_id AS customer, 'p' || item_id AS product, w FROM explore_pairs;
SELECT n_users, n_items, params->>'user_id_type' AS users, params->>'item_id_type' AS items
  FROM reco.train('explore_t', 'explore_pairs_text', user_col => 'customer', item_col => 'product',
                  weight_col => 'w', factors => 8, iterations => 5, regularization => 1);
SELECT (SELECT array_agg(format('%s:%s', item_id, score) ORDER BY o)
          FROM reco.explore('explore_t', 'c7', 10, sigma => 0, epsilon => 0, exclude => '{p2}')
               WITH ORDINALITY AS t(item_id, score, explored, o))
     = (SELECT array_agg(format('%s:%s', item_id, score) ORDER BY o)
          FROM reco.recommend('explore_t', 'c7', 10, exclude => '{p2}') WITH ORDINALITY AS t(item_id, score, o))
       AS text_form_is_recommend,
       (SELECT array_agg(item_id ORDER BY o) FROM reco.explore('explore_t', 'c7', seed => 5) WITH ORDINALITY AS t(item_id, score, explored, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM reco.explore('explore_t', 'c7', seed => 5) WITH ORDINALITY AS t(item_id, score, explored, o))
       AS text_form_seed_reproduces,
       pg_typeof((SELECT item_id FROM reco.explore('explore_t', 'c7', 1, seed => 5))) AS item_type;
-- on the bigint model the text form returns the ids as text, the same draw as the bigint form
SELECT (SELECT array_agg(item_id::text ORDER BY o) FROM reco.explore('explore_m', 9, seed => 5) WITH ORDINALITY AS t(item_id, score, explored, o))
     = (SELECT array_agg(item_id ORDER BY o) FROM reco.explore('explore_m', '9', seed => 5) WITH ORDINALITY AS t(item_id, score, explored, o))
       AS text_and_bigint_forms_agree;
\set VERBOSITY default
SELECT * FROM reco.explore('explore_t', 7, seed => 1);
\set VERBOSITY sqlstate
-- a uuid on a text model is read as its text: an unknown user, the best-sellers
SELECT count(*) AS uuid_unknown_user_rows FROM reco.explore('explore_t', '00000000-0000-0000-0000-000000000001'::uuid, 4, seed => 1);

-- bad input, each with its SQLSTATE
SELECT * FROM reco.explore(NULL, 1);
SELECT * FROM reco.explore('no_such_model', 1);
SELECT * FROM reco.explore('explore_m', 1, 0);
SELECT * FROM reco.explore('explore_m', 1, -3);
SELECT * FROM reco.explore('explore_m', 1, NULL);
SELECT * FROM reco.explore('explore_m', 1, sigma => -1);
SELECT * FROM reco.explore('explore_m', 1, sigma => 'NaN');
SELECT * FROM reco.explore('explore_m', 1, sigma => 'Infinity');
SELECT * FROM reco.explore('explore_m', 1, sigma => NULL);
SELECT * FROM reco.explore('explore_m', 1, epsilon => 1.5);
SELECT * FROM reco.explore('explore_m', 1, epsilon => -0.1);
SELECT * FROM reco.explore('explore_m', 1, epsilon => 'NaN');
SELECT * FROM reco.explore('explore_m', 1, epsilon => NULL);
SELECT * FROM reco.explore('explore_m', 1, exclude_seen => NULL);
SELECT * FROM reco.explore('explore_m', 1, candidates => '{{1,2},{3,4}}');
\set VERBOSITY default
SELECT * FROM reco.explore('explore_m', 1, sigma => -1);
SELECT * FROM reco.explore('explore_m', 1, epsilon => 2);

-- Overflow.  A trained model: sigma 3.4e38 made the sampled scores overflow to -Infinity, the
-- kernel ranked fewer items than it listed and returned item 0 (not in the model), then
-- crashed.  sigma is now capped at 100 (22023); at the cap the list is the model's items, once.
\set VERBOSITY sqlstate
CREATE TABLE explore_p3 AS
SELECT * FROM (VALUES (1, 1, 1.0), (2, 2, 1.0), (3, 1, 1.0), (4, 2, 1.0)) AS v(user_id, item_id, w);
SELECT n_items FROM reco.train('explore_m3', 'explore_p3', factors => 2, iterations => 5, regularization => 0.01);
SELECT * FROM reco.explore('explore_m3', 1, 2, seed => 32, sigma => 3.4e38, epsilon => 0, exclude_seen => false);
SELECT * FROM reco.explore('explore_m3', 1, 2, seed => 32, sigma => 100.001, epsilon => 0, exclude_seen => false);
SELECT count(*) AS rows, array_agg(item_id ORDER BY item_id) AS items
  FROM reco.explore('explore_m3', 1, 2, seed => 32, sigma => 100, epsilon => 0, exclude_seen => false);
-- A hand-made model with finite factors whose dot products overflow float: items 10 (1e30, 0)
-- and 20 (-1e30, 0), user 1 (1e10, 0): scores +Infinity and -Infinity.  recommend leaves the
-- -Infinity item out; explore with sigma 0 returns exactly recommend's rows (it returned item 10
-- twice), also with epsilon-slots (the -Infinity item is no pick either); with sigma > 0 the
-- Gram matrix (2e60) overflows too and the user's system does not factor: 22P01.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('explore_huge', 1, 'ials', '{"alpha": 1, "regularization": 0.5}', 1, 2, 1, 2, '{}', 0);
INSERT INTO reco.item_factors
SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(f), 1
  FROM (VALUES (10, '{1e30, 0}'::real[]), (20, '{-1e30, 0}')) AS v(i, f);
INSERT INTO reco.user_factors
VALUES (currval('reco.models_model_id_seq'), 1, reco.to_bytea('{1e10, 0}'), '{10}', '{1}');
SELECT * FROM reco.recommend('explore_huge', 1, 5, exclude_seen => false);
SELECT * FROM reco.explore('explore_huge', 1, 5, sigma => 0, epsilon => 0, exclude_seen => false);
SELECT * FROM reco.explore('explore_huge', 1, 5, seed => 3, sigma => 0, epsilon => 1, exclude_seen => false);
SELECT * FROM reco.explore('explore_huge', 1, 5, seed => 3, sigma => 0.5, epsilon => 0, exclude_seen => false);
-- the same with items (1e19, 0) and (-1e19, 0) and user (1e20, 0): the Gram matrix (2e38) is
-- finite and factors, the sampled scores are not: 22003, the "not finite" error
UPDATE reco.item_factors SET factors = reco.to_bytea(CASE item_id WHEN 10 THEN '{1e19, 0}'::real[] ELSE '{-1e19, 0}' END)
 WHERE model_id = currval('reco.models_model_id_seq');
UPDATE reco.user_factors SET factors = reco.to_bytea('{1e20, 0}') WHERE model_id = currval('reco.models_model_id_seq');
SELECT reco.cache_reset() >= 0 AS cache_reset;
SELECT * FROM reco.explore('explore_huge', 1, 5, sigma => 0, epsilon => 0, exclude_seen => false);
SELECT * FROM reco.explore('explore_huge', 1, 5, seed => 3, sigma => 0.5, epsilon => 0, exclude_seen => false);
SELECT * FROM reco_internal.evaluate_pairs('explore_huge', '{1}', '{20}', 5, 0, true, 0.5, 0, 1);
\set VERBOSITY default
SELECT * FROM reco.explore('explore_huge', 1, 5, seed => 3, sigma => 0.5, epsilon => 0, exclude_seen => false);
SELECT * FROM reco.explore('explore_m3', 1, 2, seed => 32, sigma => 3.4e38);

-- The item Gram matrix is built only for a draw (a known user and sigma > 0): the factor
-- cache's memory does not grow on sigma 0 or unknown-user calls, and grows by at least the
-- 8 x 8 floats of the matrix on the first draw.
SELECT reco.cache_reset() >= 0 AS cache_reset;
CREATE FUNCTION cache_used() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(used_bytes)::bigint FROM pg_backend_memory_contexts WHERE name = 'reco factor cache'
$$;
SELECT count(*) AS warm_up FROM reco.explore('explore_m', 999999, 5, seed => 1, sigma => 0, epsilon => 0.5);
SELECT count(*) AS warm_up FROM reco.explore('explore_m', 1, 5, seed => 1, sigma => 0, epsilon => 0.5);
SELECT cache_used() AS before \gset
SELECT count(*) AS sigma_0 FROM reco.explore('explore_m', 2, 5, seed => 1, sigma => 0, epsilon => 0.5);
SELECT count(*) AS unknown_user FROM reco.explore('explore_m', 999998, 5, seed => 1, sigma => 2, epsilon => 0.5);
SELECT cache_used() - :before AS grown_without_a_draw;
SELECT count(*) AS drawn FROM reco.explore('explore_m', 2, 5, seed => 1, sigma => 0.5, epsilon => 0.5);
SELECT cache_used() - :before >= 8 * 8 * 4 AS grown_by_the_gram_matrix;

-- A seen item the version does not have (a hand-edited model): explain, explore and evaluate's
-- explore lists all refuse it (XX001, serve.c RecoUserRow), none skips it
BEGIN;
UPDATE reco.user_factors SET seen_items = '{10, 30}', seen_weights = '{1, 1}'
 WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'explore_huge');
SELECT outcome($$SELECT * FROM reco.explain('explore_huge', 1, 20)$$);
SELECT outcome($$SELECT * FROM reco.explore('explore_huge', 1, 5, seed => 3, sigma => 0, epsilon => 0)$$);
SELECT outcome($$SELECT * FROM reco_internal.evaluate_pairs('explore_huge', '{1}', '{20}', 5, 0, true, 0, 0, 1)$$);
ROLLBACK;
SELECT reco.drop_model('explore_m3'), reco.drop_model('explore_huge');
DROP TABLE explore_p3;
DROP FUNCTION cache_used;
\set VERBOSITY terse
SELECT reco.drop_model('explore_m'), reco.drop_model('explore_t');
DROP TABLE explore_pairs, explore_pairs_text;
DROP FUNCTION explore_list, same_as_recommend, outside_top;
