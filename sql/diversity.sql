-- diversity: MMR re-ranking (Carbonell & Goldstein 1998) of recommend, recommend_for_items
-- and recommend_all on a hand-made model (every pick derived below), diversity 0 equal to
-- the plain call bit for bit on a trained model, every form, every bad input's SQLSTATE.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- The hand model, two factors (norms; cosines exact: 3-4-5 triangles):
--   10 (4, 0)   norm 4
--   20 (4, 3)   norm 5   cos(20,10) = 0.8
--   30 (0, 2)   norm 2   cos(30,10) = 0,   cos(30,20) = 0.6
--   40 (3, -4)  norm 5   cos(40,10) = 0.6, cos(40,20) = 0,   cos(40,30) = -0.8
--   50 (0, 0)   norm 0   cosine 0 with everything
--   60 (-1.5, 0) norm 1.5 cos(60,10) = -1, cos(60,20) = -0.8, cos(60,30) = 0, cos(60,40) = -0.6
-- User 1 = (1, 0.5), nothing seen: scores 20: 5.5, 10: 4, 30: 1, 40: 1, 50: 0, 60: -1.5.
-- User 2 = (1, 0.5), has seen 20.
-- n <= 10 re-ranks the best 50 (reco_limits.h): every eligible item here.
-- A pick maximizes (1 - d) rel - d red, rel = (score - min) / (max - min) over the
-- candidates; red = (maxsim - min) / (max - min) over the candidates not yet picked (0 for
-- all when their maxsims are equal), maxsim = the largest cosine to an item already picked.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('div', 1, 'ials', '{}', 2, 6, 1, 2, '{}', 0) RETURNING model_id AS div_id \gset
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
SELECT :div_id, i, reco.to_bytea(f), p
  FROM (VALUES (10, '{4, 0}'::real[], 5), (20, '{4, 3}', 1), (30, '{0, 2}', 3),
               (40, '{3, -4}', 3), (50, '{0, 0}', 2), (60, '{-1.5, 0}', 0)) AS t(i, f, p);
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
VALUES (:div_id, 1, reco.to_bytea('{1, 0.5}'), '{}', '{}'),
       (:div_id, 2, reco.to_bytea('{1, 0.5}'), '{20}', '{1}');
-- diversity 0 (and no argument): the exact ranking, ties by id
SELECT * FROM reco.recommend('div', 1, 6);
SELECT * FROM reco.recommend('div', 1, 6, diversity => 0);
-- diversity 0.3: min -1.5, max 5.5, so 0.7 rel = 0.1 (score + 1.5): 20 0.7, 10 0.55,
-- 30 0.25, 40 0.25, 50 0.15, 60 0.
--   pick 1: 20 (the best: nothing picked yet, every red 0).
--   pick 2: maxsim 10 0.8, 30 0.6, 40 0, 50 0, 60 -0.8; red = (maxsim + 0.8) / 1.6:
--           10 1, 30 0.875, 40 0.5, 50 0.5, 60 0; 0.7 rel - 0.3 red:
--           10 0.25; 30 -0.0125; 40 0.1; 50 0; 60 0                                 -> 10
--   pick 3: maxsim 30 0.6, 40 0.6 (cos(40,10) = 0.6), 50 0, 60 -0.8; red = (maxsim + 0.8) / 1.4:
--           30 1, 40 1, 50 0.571, 60 0: 30 -0.05, 40 -0.05, 50 -0.021, 60 0         -> 60
--   pick 4: maxsims unchanged (cos to 60: 0, -0.6, 0), span 0..0.6: red 30 1, 40 1, 50 0:
--           30 -0.05, 40 -0.05, 50 0.15                                             -> 50
--   pick 5: 30 and 40 both maxsim 0.6, red 0: tie at 0.25, the earlier candidate
--           (same score, lower id)                                                  -> 30, then 40
-- The rows keep their own scores, so they are not in descending score order.
SELECT * FROM reco.recommend('div', 1, 6, diversity => 0.3);
SELECT * FROM reco.recommend('div', 1, 3, diversity => 0.3);
-- diversity 0.5, 60 excluded (a filter applies before re-ranking): min 0, max 5.5,
-- rel 20 1, 10 4/5.5, 30 and 40 1/5.5, 50 0; compare rel - red:
--   pick 1: 20.  pick 2: maxsim 10 0.8, 30 0.6, 40 0, 50 0, red = maxsim / 0.8:
--           10 0.727 - 1 < 0; 30 0.182 - 0.75 < 0; 40 0.182; 50 0                  -> 40
--   pick 3: maxsim 10 0.8, 30 0.6 (cos(30,40) = -0.8), 50 0: red 1, 0.75, 0: 50 0  -> 50
--   pick 4: maxsim 10 0.8, 30 0.6, span 0.6..0.8: red 10 1, 30 0: 10 -0.273, 30 0.182
--                                                                              -> 30, then 10
--   (a raw-cosine term would take 10 here: 0.727 - 0.8 > 0.182 - 0.6)
SELECT * FROM reco.recommend('div', 1, 5, exclude => '{60}', diversity => 0.5);
-- diversity 1: redundancy alone (-red); pick 1 every value is 0, the earliest candidate (20);
--   pick 2: 10 -1, 30 -0.75, 40 0, 50 0 -> 40 (the earlier of the tie: score 1 > 0)
--   pick 3: 10 -1, 30 -0.75, 50 0 -> 50;  pick 4: 10 -1, 30 0 -> 30;  then 10
SELECT * FROM reco.recommend('div', 1, 5, exclude => '{60}', diversity => 1);
-- candidates: only 10, 20, 40 are ranked (rel 20 1, 10 3/4.5, 40 0); diversity 0.5:
--   pick 2: maxsim 10 0.8, 40 0: red 1, 0: 10 0.667 - 1 < 0, 40 0 - 0 = 0 -> 40, then 10
SELECT * FROM reco.recommend('div', 1, 3, candidates => '{10, 20, 40, 999}', diversity => 0.5);
-- exclude_seen: user 2 has seen 20; min -1.5, max 4: rel 10 1, 30 and 40 2.5/5.5,
-- 50 1.5/5.5, 60 0; diversity 0.5, compare rel - red:
--   pick 1: 10.  pick 2: maxsim 30 0, 40 0.6, 50 0, 60 -1; red = (maxsim + 1) / 1.6:
--           30 0.625, 40 1, 50 0.625, 60 0: 30 -0.170, 40 -0.545, 50 -0.352, 60 0 -> 60
--   pick 3: maxsim 30 0, 40 0.6, 50 0: red 0, 1, 0: 30 0.455, 40 -0.545, 50 0.273 -> 30
SELECT * FROM reco.recommend('div', 2, 3, diversity => 0.5);
-- the best-sellers of an unknown user are not re-ranked (popularity order, ties by id)
SELECT * FROM reco.recommend('div', 999, 4, diversity => 1);
SELECT * FROM reco.recommend_for_items('div', '{}', n => 4, diversity => 1);
-- the text forms: the same picks, ids as text
SELECT * FROM reco.recommend('div', '1'::text, 6, diversity => 0.3);
SELECT * FROM reco.recommend('div', '2'::text, 3, candidates => '{10, 30, 40, 50, 60}'::text[], diversity => 0.5);
-- recommend_all re-ranks each user inside the batch: the rows of recommend, rank = pick order.
-- User 1 at 0.5 (nothing excluded): min -1.5, max 5.5; compare rel - red:
--   pick 1: 20.  pick 2: red (see diversity 0.3) 10 1, 30 0.875, 40 0.5, 50 0.5, 60 0:
--           10 5.5/7 - 1 < 0; 30 2.5/7 - 0.875 < 0; 40 2.5/7 - 0.5 < 0; 50 1.5/7 - 0.5 < 0; 60 0 -> 60
--   pick 3: maxsim 10 0.8, 30 0.6, 40 0 (cos(40,60) = -0.6), 50 0: red 1, 0.75, 0, 0:
--           10 -0.214, 30 -0.393, 40 0.357, 50 0.214                                -> 40
-- User 2 at 0.5: 10, 60, 30 as derived above.
SELECT * FROM reco.recommend_all('div', 3, diversity => 0.5);
SELECT * FROM reco.recommend_all_text('div', 3, '{1, 2}', exclude_seen => false, diversity => 0.3);
-- bad input, each with its SQLSTATE
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 3, diversity => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 3, diversity => 'NaN')$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 3, diversity => -0.01)$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 3, diversity => 1.01)$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 3, diversity => 'Infinity')$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', 999, 3, diversity => 2)$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', '1'::text, 3, diversity => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', '1'::text, 3, diversity => 'NaN')$$);
SELECT outcome($$SELECT * FROM reco.recommend('div', '00000000-0000-0000-0000-000000000001'::uuid, 3, diversity => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('div', '{10}', n => 3, diversity => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('div', '{10}', n => 3, diversity => -1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_for_items_text('div', '{10}', n => 3, diversity => 'NaN')$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('div', 3, diversity => NULL)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('div', 3, diversity => 1.5)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all_text('div', 3, diversity => 'NaN')$$);
-- diversity re-ranks at most 1000 rows (its cost is rows x candidates x k); 1000 is fine,
-- 1001 is refused, and diversity 0 takes any n
SELECT count(*) AS rows FROM reco.recommend('div', 1, 1000, diversity => 0.5);
SELECT outcome($$SELECT * FROM reco.recommend('div', 1, 1001, diversity => 0.5)$$);
SELECT count(*) AS rows FROM reco.recommend('div', 1, 1001, diversity => 0);
SELECT outcome($$SELECT * FROM reco.recommend_for_items('div', '{10}', n => 1001, diversity => 0.1)$$);
SELECT outcome($$SELECT * FROM reco.recommend_all('div', 1001, diversity => 0.1)$$);
SELECT outcome($$SELECT * FROM reco.evaluate('div', 'SELECT 1 AS user_id, 10 AS item_id', k => 1001, diversity => 0.1)$$);
\set VERBOSITY default
SELECT * FROM reco.recommend('div', 1, 3, diversity => 'NaN');
\set VERBOSITY terse
-- A trained model: diversity 0 is the plain answer bit for bit, for every user and form.
CREATE TABLE div_events AS
SELECT u AS user_id, (u * 7 + j * j * 13 + (u % 5) * j) % 400 + 1 AS item_id, 1 + (j % 3) AS weight
  FROM generate_series(1, 300) u, generate_series(1, 12) j;
SET client_min_messages = warning;
-- (a small regularization: the default's 50 makes this small model's items almost collinear,
-- cosines ~1, where MMR has nothing to trade until diversity 1)
SELECT (reco.fit('divt', user_id, item_id, weight::real, '{"factors": 8, "iterations": 10, "regularization": 0.1, "threads": 2}')).version
  FROM div_events;
RESET client_min_messages;
CREATE TABLE div_users AS SELECT DISTINCT user_id FROM div_events;
-- The rows of a call as (user, position, item, score); compared as sets of exact values.
SELECT count(*) AS plain_rows,
       count(*) FILTER (WHERE d.item_id IS NOT DISTINCT FROM p.item_id AND d.score = p.score) AS equal_rows
  FROM div_users AS u,
       LATERAL reco.recommend('divt', u.user_id, 10) WITH ORDINALITY AS p(item_id, score, pos)
       LEFT JOIN LATERAL (SELECT * FROM reco.recommend('divt', u.user_id, 10, diversity => 0)
                            WITH ORDINALITY AS d(item_id, score, pos)) AS d ON d.pos = p.pos;
SELECT count(*) AS plain_rows,
       count(*) FILTER (WHERE d.item_id = p.item_id AND d.score = p.score AND d.user_id = p.user_id) AS equal_rows
  FROM reco.recommend_all('divt', 10) AS p
  LEFT JOIN reco.recommend_all('divt', 10, diversity => 0) AS d ON d.user_id = p.user_id AND d.rank = p.rank;
-- with diversity 0.3: recommend_all is recommend per user (rank = pick order), whatever the
-- thread count; recommend_for_items with a user's own seen items is recommend for that user
CREATE TABLE div_lists AS
SELECT u.user_id, r.pos::integer AS rank, r.item_id, r.score
  FROM div_users AS u, LATERAL reco.recommend('divt', u.user_id, 10, diversity => 0.3)
                         WITH ORDINALITY AS r(item_id, score, pos);
SET reco.threads = 1;
SELECT count(*) AS rows FROM (SELECT * FROM reco.recommend_all('divt', 10, diversity => 0.3)
                              EXCEPT SELECT * FROM div_lists) AS d;
SET reco.threads = 3;
SELECT count(*) AS rows FROM (SELECT * FROM div_lists
                              EXCEPT SELECT * FROM reco.recommend_all('divt', 10, diversity => 0.3)) AS d;
SELECT count(*) AS rows FROM (SELECT * FROM reco.recommend_all('divt', 10, diversity => 0.3)
                              EXCEPT SELECT * FROM div_lists) AS d;
RESET reco.threads;
SELECT count(*) AS rows FROM (SELECT user_id::text, rank, item_id::text, score FROM div_lists
                              EXCEPT SELECT * FROM reco.recommend_all_text('divt', 10, diversity => 0.3)) AS d;
SELECT count(*) AS users, count(*) FILTER (WHERE same) AS same_lists
  FROM (SELECT u.user_id,
               (SELECT array_agg(item_id || ':' || score ORDER BY rank) FROM div_lists AS l WHERE l.user_id = u.user_id) =
               (SELECT array_agg(r.item_id || ':' || r.score ORDER BY r.pos)
                  FROM reco.user_factors AS f,
                       LATERAL reco.recommend_for_items('divt', f.seen_items, f.seen_weights, n => 10, diversity => 0.3)
                         WITH ORDINALITY AS r(item_id, score, pos)
                 WHERE f.model_id = (SELECT max(model_id) FROM reco.models WHERE name = 'divt')
                   AND f.user_id = u.user_id) AS same
          FROM div_users AS u) AS t;
-- invariants of a diversified list: n rows, the plain best first, all from the plain top 50
-- (the re-ranked candidates), each with its plain score; and how many differ from the plain list
SELECT count(DISTINCT l.user_id) AS users,
       bool_and(l.cnt = 10) AS ten_rows,
       bool_and(l.first_item = (SELECT item_id FROM reco.recommend('divt', l.user_id, 1))) AS best_first,
       count(*) FILTER (WHERE l.items <> l.plain) AS changed_lists
  FROM (SELECT user_id, count(*) AS cnt, (array_agg(item_id ORDER BY rank))[1] AS first_item,
               array_agg(item_id ORDER BY rank) AS items,
               (SELECT array_agg(item_id) FROM reco.recommend('divt', user_id, 10)) AS plain
          FROM div_lists GROUP BY user_id) AS l;
SELECT count(*) AS outside_top50
  FROM div_lists AS l
 WHERE NOT EXISTS (SELECT FROM reco.recommend('divt', l.user_id, 50) AS p
                    WHERE p.item_id = l.item_id AND p.score = l.score);
DROP TABLE div_events, div_users, div_lists;
DELETE FROM reco.models WHERE name IN ('div', 'divt');
DELETE FROM reco.item_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
DELETE FROM reco.user_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
