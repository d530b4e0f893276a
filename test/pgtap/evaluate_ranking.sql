-- evaluate_ranking.sql: reco.evaluate measures exactly the lists reco.recommend serves.
-- Its hits, MAP and coverage are recomputed by hand from reco.recommend's rows (users
-- in id order, items in the order recommend returns them) and must agree, for models
-- on both dot-product code paths (factors a multiple of 8, and not) and for a
-- hand-made model whose near-tie a differently summed dot product would order the
-- other way round.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(50);

-- 300 users x 120 items: a sparse pattern plus six taste groups (user and item id mod 6)
CREATE TEMP TABLE inter AS
SELECT p.u AS user_id, p.i AS item_id, (1 + (p.u * 7 + p.i * 3) % 5)::real AS weight
  FROM (SELECT g / 120 + 1 AS u, g % 120 + 1 AS i FROM generate_series(0, 300 * 120 - 1) AS g) AS p
 WHERE (p.u * 13 + p.i * 29) % 11 < 2 OR (p.u % 6 = p.i % 6 AND p.i < 40);
-- held-out pairs: other items of the same taste, some the model cannot know (1000+)
CREATE TEMP TABLE held AS
SELECT DISTINCT user_id, item_id FROM (
    SELECT u AS user_id, i AS item_id
      FROM generate_series(1, 320) u, generate_series(1, 120) i
     WHERE (u * 17 + i * 5) % 23 = 0 AND u % 6 = i % 6
    UNION ALL
    SELECT u, 1000 + u % 3 FROM generate_series(1, 300, 7) u) AS p
 WHERE NOT EXISTS (SELECT 1 FROM inter x WHERE x.user_id = p.user_id AND x.item_id = p.item_id);

SELECT reco.train('ev8', 'inter', weight_col => 'weight', factors => 8, iterations => 4, seed => 11);
SELECT reco.train('ev5', 'inter', weight_col => 'weight', factors => 5, iterations => 4, seed => 11,
                  solver => 'cholesky');

-- Hits, MAP and distinct items of reco.recommend's top k (with `diversity`), or of
-- reco.explore's k items for `seed` (sigma 1, epsilon 0.1, if seed is not NULL), for the
-- held-out users the model knows, by the definitions of reco.evaluate.
CREATE FUNCTION pg_temp.by_hand(model text, k integer, diversity real DEFAULT 0, seed bigint DEFAULT NULL,
                                OUT hits bigint, OUT map double precision, OUT covered bigint)
LANGUAGE sql AS $$
WITH known AS (
    SELECT DISTINCT h.user_id
      FROM held h JOIN reco.user_factors f ON f.user_id = h.user_id
     WHERE f.model_id = (SELECT model_id FROM reco.models WHERE name = model ORDER BY version DESC LIMIT 1)),
rec AS (
    SELECT u.user_id, r.item_id, r.pos,
           EXISTS (SELECT 1 FROM held h WHERE h.user_id = u.user_id AND h.item_id = r.item_id) AS hit
      FROM known u,
           LATERAL (SELECT l.item_id, l.pos
                      FROM reco.recommend(model, u.user_id, k, diversity => diversity)
                           WITH ORDINALITY AS l(item_id, score, pos)
                     WHERE seed IS NULL
                    UNION ALL
                    SELECT l.item_id, l.pos
                      FROM reco.explore(model, u.user_id, k, seed => seed, sigma => 1, epsilon => 0.1)
                           WITH ORDINALITY AS l(item_id, score, explored, pos)
                     WHERE seed IS NOT NULL) AS r),
ranked AS (
    SELECT user_id, pos, hit, count(*) FILTER (WHERE hit) OVER (PARTITION BY user_id ORDER BY pos) AS hits_so_far
      FROM rec),
per_user AS (
    SELECT u.user_id,
           count(*) FILTER (WHERE r.hit) AS hits,
           coalesce(sum(r.hits_so_far::double precision / r.pos) FILTER (WHERE r.hit), 0)
             / least(k, (SELECT count(*) FROM held h WHERE h.user_id = u.user_id)) AS ap
      FROM known u LEFT JOIN ranked r USING (user_id)
     GROUP BY u.user_id)
SELECT sum(hits)::bigint, avg(ap ORDER BY user_id), (SELECT count(DISTINCT item_id) FROM rec)
  FROM per_user
$$;

-- The same three numbers from reco.evaluate's means (explore with `seed` if not NULL).
CREATE FUNCTION pg_temp.by_evaluate(model text, k integer, diversity real DEFAULT 0, seed bigint DEFAULT NULL,
                                    OUT hits bigint, OUT map double precision, OUT covered bigint)
LANGUAGE sql AS $$
SELECT round(e.precision_at_k * e.users_evaluated * k)::bigint, e.map_at_k,
       round(e.coverage * (SELECT n_items FROM reco.models WHERE name = model ORDER BY version DESC LIMIT 1))::bigint
  FROM reco.evaluate(model, 'held', k, diversity => diversity, explore => seed IS NOT NULL,
                     sigma => 1, epsilon => 0.1, seed => coalesce(seed, 42)) e
$$;

SELECT t
  FROM (VALUES ('ev8'), ('ev5')) AS models(m), (VALUES (1), (5), (20)) AS ks(k),
       LATERAL pg_temp.by_hand(m, k) h, LATERAL pg_temp.by_evaluate(m, k) e,
       LATERAL (VALUES
         (is(e.hits, h.hits, format('%s, k = %s: evaluate counts the hits of recommend''s lists', m, k))),
         (ok(abs(e.map - h.map) < 1e-12, format('%s, k = %s: evaluate''s MAP is that of recommend''s order', m, k))),
         (is(e.covered, h.covered, format('%s, k = %s: evaluate''s coverage is the items recommend returns', m, k)))
       ) AS tests(t);

-- With diversity, evaluate measures recommend's MMR lists; with explore, reco.explore's
-- lists for the same seed (its generator is keyed by the seed and the user).
SELECT t
  FROM (VALUES ('ev8'), ('ev5')) AS models(m), (VALUES (5), (20)) AS ks(k),
       LATERAL pg_temp.by_hand(m, k, 0.3) h, LATERAL pg_temp.by_evaluate(m, k, 0.3) e,
       LATERAL pg_temp.by_hand(m, k, 0, 7) hx, LATERAL pg_temp.by_evaluate(m, k, 0, 7) ex,
       LATERAL (VALUES
         (is(row(e.hits, e.covered)::text, row(h.hits, h.covered)::text,
             format('%s, k = %s, diversity 0.3: evaluate''s hits and coverage are those of recommend''s lists', m, k))),
         (ok(abs(e.map - h.map) < 1e-12, format('%s, k = %s, diversity 0.3: evaluate''s MAP is that of recommend''s order', m, k))),
         (is(row(ex.hits, ex.covered)::text, row(hx.hits, hx.covered)::text,
             format('%s, k = %s, explore seed 7: evaluate''s hits and coverage are those of explore''s lists', m, k))),
         (ok(abs(ex.map - hx.map) < 1e-12, format('%s, k = %s, explore seed 7: evaluate''s MAP is that of explore''s order', m, k)))
       ) AS tests(t);

-- The default settings are today's ranking; sigma 0 and epsilon 0 explore exactly it too;
-- a seed repeats its metrics, another seed draws other lists; AUC ranks the plain scores.
SELECT is((SELECT e::text FROM reco.evaluate('ev8', 'held', 10, diversity => 0, explore => false) e),
          (SELECT e::text FROM reco.evaluate('ev8', 'held', 10) e),
          'diversity 0 and explore off are the default evaluation');
SELECT is((SELECT e::text FROM reco.evaluate('ev8', 'held', 10, explore => true, sigma => 0, epsilon => 0, seed => 5) e),
          (SELECT e::text FROM reco.evaluate('ev8', 'held', 10) e),
          'explore with sigma 0 and epsilon 0 measures the exact ranking, every column');
SELECT is((SELECT e::text FROM reco.evaluate('ev8', 'held', 10, explore => true, seed => 5) e),
          (SELECT e::text FROM reco.evaluate('ev8', 'held', 10, explore => true, seed => 5) e),
          'explore: the same seed gives the same metrics');
SELECT isnt((SELECT row(e.map_at_k, e.novelty, e.gini)::text FROM reco.evaluate('ev8', 'held', 10, explore => true, seed => 5) e),
            (SELECT row(e.map_at_k, e.novelty, e.gini)::text FROM reco.evaluate('ev8', 'held', 10, explore => true, seed => 6) e),
            'explore: another seed draws other lists');
SELECT is((SELECT array_agg(e.auc ORDER BY s.n)
             FROM (VALUES (1, 0::real, false), (2, 0.5, false), (3, 0, true)) AS s(n, d, x),
                  LATERAL reco.evaluate('ev8', 'held', 10, diversity => s.d, explore => s.x) e),
          (SELECT array_fill(auc, ARRAY[3]) FROM reco.evaluate('ev8', 'held', 10)),
          'AUC is that of the plain scores whatever the diversity or exploration');

-- evaluate's exploration defaults are reco.explore's
SELECT is((SELECT array_agg(substring(pg_get_function_arguments(f::regprocedure) FROM a || ' real DEFAULT ([^,]+)')
                            ORDER BY a)
             FROM unnest(ARRAY['epsilon', 'sigma']) AS a,
                  (VALUES ('reco.evaluate(text,text,integer,text,text,real,boolean,real,real,bigint)')) AS v(f)),
          (SELECT array_agg(substring(pg_get_function_arguments(f::regprocedure) FROM a || ' real DEFAULT ([^,]+)')
                            ORDER BY a)
             FROM unnest(ARRAY['epsilon', 'sigma']) AS a,
                  (VALUES ('reco.explore(text,bigint,integer,bigint,real,real,boolean,bigint[],bigint[])')) AS v(f)),
          'evaluate''s sigma and epsilon defaults are reco.explore''s');

-- A hand-made model with 8 factors.  For user 1 = (1,1,1,1,0,0,0,0), item 1 =
-- (1e8, 1, -1e8, 1, 0...) scores 0 with the serving dot product's pairwise sums
-- ((1e8 + 1) + (-1e8 + 1) in float) but 1 summed left to right; item 2 scores 0.5.
-- User 2 = (0,0,0,0,1,0,0,0) ties items 3 and 4 exactly: the lower id ranks first.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('ev_tie', 1, 'ials', '{"alpha": 1, "regularization": 1}', 2, 4, 0, 8, '{}', 0);
INSERT INTO reco.item_factors
SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(f), 1
  FROM (VALUES (1, '{1e8, 1, -1e8, 1, 0, 0, 0, 0}'::real[]), (2, '{0.5, 0, 0, 0, 0, 0, 0, 0}'),
               (3, '{0, 0, 0, 0, 1, 0, 0, 0}'), (4, '{0, 0, 0, 0, 1, 0, 0, 0}')) AS v(i, f);
INSERT INTO reco.user_factors
VALUES (currval('reco.models_model_id_seq'), 1, reco.to_bytea('{1, 1, 1, 1, 0, 0, 0, 0}'), '{}', '{}'),
       (currval('reco.models_model_id_seq'), 2, reco.to_bytea('{0, 0, 0, 0, 1, 0, 0, 0}'), '{}', '{}');
TRUNCATE held;
INSERT INTO held VALUES (1, 1), (2, 4);

SELECT results_eq($$SELECT item_id FROM reco.recommend('ev_tie', 1, 1)$$, ARRAY[2::bigint],
                  'the near-tie: recommend ranks item 2 (0.5) above item 1 (0 as served)');
SELECT results_eq($$SELECT item_id FROM reco.recommend('ev_tie', 2, 1)$$, ARRAY[3::bigint],
                  'the exact tie: recommend ranks the lower item id first');
SELECT is((SELECT precision_at_k FROM reco.evaluate('ev_tie', 'held', 1)), 0::double precision,
          'evaluate scores the near-tie and the tie as recommend does: no hit at k = 1');
SELECT is((SELECT row(hits, covered)::text FROM pg_temp.by_evaluate('ev_tie', 1)),
          (SELECT row(hits, covered)::text FROM pg_temp.by_hand('ev_tie', 1)),
          'hand-made ties: evaluate''s hits and coverage are recommend''s');
SELECT is((SELECT map_at_k FROM reco.evaluate('ev_tie', 'held', 2)),
          (SELECT map FROM pg_temp.by_hand('ev_tie', 2)),
          'hand-made ties: evaluate''s MAP at k = 2 is that of recommend''s order');

-- Beyond accuracy on a hand-made model with 2 factors and 4 training users
-- (n_users = 4).  Items (factors; popularity -> novelty -log2(max(p, 1) / 4), 0 if
-- the share is above 1):
--   0 (0, 0) p 0 -> 2 (nobody bought it: counts as one buyer)
--   1 (1, 0) p 4 -> 0      2 (0, 1) p 2 -> 1      3 (1, 1) p 1 -> 2
--   4 (2, 0) p 5 -> 0 (share above 1)             6 (-1, -1) p 3 -> log2(4/3) = 0.4150375
-- Users and their top 2 (ties to the lower id; user 4 has bought item 6):
--   1 (1, 0):  4 (2), then 1 and 3 tie at 1 -> {4, 1}: cos 1, ILD 0, novelty 0 + 0
--   2 (0, 1):  2 and 3 tie at 1 -> {2, 3}: cos 1/sqrt 2, ILD 1 - 0.70710678, novelty 1 + 2
--   3 (-1, 0): 6 (1), then 0 and 2 tie at 0 -> {6, 0}: cos 0 (zero vector), ILD 1,
--              novelty 0.4150375 + 2
--   4 (0, -1): 6 seen; 0, 1 and 4 tie at 0 -> {0, 1}: cos 0, ILD 1, novelty 2 + 0
-- ILD = (0 + 0.29289322 + 1 + 1) / 4 = 0.573223; novelty = 7.4150375 / 8 = 0.92687969;
-- exposure 0:2 1:2 2:1 3:1 4:1 6:1, sorted 1 1 1 1 2 2 with weights 2i - n - 1 = -5 -3 -1 1 3 5:
-- gini = (-5 - 3 - 1 + 1 + 6 + 10) / (6 * 8) = 1/6; coverage 6/6.
-- At k = 1: lists {4} {2} {6} {0}: no ILD (NULL); novelty (0 + 1 + 0.4150375 + 2) / 4 =
-- 0.85375937; exposure sorted 0 0 1 1 1 1: gini = (-1 + 1 + 3 + 5) / (6 * 4) = 1/3.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('ev_beyond', 1, 'ials', '{"alpha": 1, "regularization": 1}', 4, 6, 0, 2, '{}', 0);
INSERT INTO reco.item_factors
SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(f), p
  FROM (VALUES (0, '{0, 0}'::real[], 0), (1, '{1, 0}', 4), (2, '{0, 1}', 2), (3, '{1, 1}', 1),
               (4, '{2, 0}', 5), (6, '{-1, -1}', 3)) AS v(i, f, p);
INSERT INTO reco.user_factors
SELECT currval('reco.models_model_id_seq'), u, reco.to_bytea(f), s, w
  FROM (VALUES (1, '{1, 0}'::real[], '{}'::bigint[], '{}'::real[]), (2, '{0, 1}', '{}', '{}'),
               (3, '{-1, 0}', '{}', '{}'), (4, '{0, -1}', '{6}', '{1}')) AS v(u, f, s, w);
TRUNCATE held;
INSERT INTO held VALUES (1, 3), (2, 3), (3, 0), (4, 2);

SELECT results_eq($$SELECT u, array_agg(r.item_id ORDER BY r.pos)
                      FROM generate_series(1, 4) u, reco.recommend('ev_beyond', u, 2) WITH ORDINALITY AS r(item_id, score, pos)
                     GROUP BY u ORDER BY u$$,
                  $$VALUES (1, '{4, 1}'::bigint[]), (2, '{2, 3}'), (3, '{6, 0}'), (4, '{0, 1}')$$,
                  'hand-made beyond-accuracy model: recommend''s lists are the ones derived by hand');
SELECT is((SELECT row(round(intra_list_diversity::numeric, 6), round(novelty::numeric, 8),
                      round(gini::numeric, 8), coverage)::text
             FROM reco.evaluate('ev_beyond', 'held', 2)),
          row(0.573223, 0.92687969, 0.16666667, 1::double precision)::text,
          'k = 2: intra-list diversity, novelty, gini and coverage are the values derived by hand');
SELECT is((SELECT row(intra_list_diversity, round(novelty::numeric, 8), round(gini::numeric, 8))::text
             FROM reco.evaluate('ev_beyond', 'held', 1)),
          row(NULL::double precision, 0.85375937, 0.33333333)::text,
          'k = 1: no list has a pair (ILD NULL); novelty and gini as derived by hand');
SELECT is((SELECT row(precision_at_k, recall_at_k, users_evaluated)::text FROM reco.evaluate('ev_beyond', 'held', 2)),
          row(0.25::double precision, 0.5::double precision, 4::bigint)::text,
          'k = 2: hits of users 2 and 3 out of 4 users, as before the new columns');

-- Diversity 0.5 on the same model (MMR: relevance = (score - min) / (max - min) over the
-- candidates, every rankable item here; redundancy = (cos - min) / (max - min) of each
-- unpicked candidate's largest cosine to a pick, over the unpicked (0 for all if equal);
-- value = 0.5 rel - 0.5 red; the first pick is the best item; c = 1/sqrt 2):
--   1: 4 first; cos to 4: 1 1, 3 c, 0 0, 2 0, 6 -c -> red 1, 0.828, 0.414, 0.414, 0;
--      rel 1 2/3, 3 2/3, 0 1/3, 2 1/3, 6 0: rel - red 6 0 beats 0 and 2 (-0.081),
--      3 (-0.162), 1 (-0.333) -> {4, 6}
--   2: 2 first; cos to 2: 3 c, 0 1 4 0, 6 -c -> red 1, 0.5, 0.5, 0.5, 0 (exactly: c / 2c);
--      rel 3 1, 0 1 4 0.5, 6 0: rel - red is 0 for every one (exactly), the tie goes
--      to the earliest candidate, 3 (score 1) -> {2, 3}
--   3: 6 first; cos to 6: 0 0, 2 -c, 1 -c, 3 -1, 4 -c -> red = cos + 1: 1, 0.293, 0.293,
--      0, 0.293; rel 0 2/3, 2 2/3, 1 1/3, 3 1/3, 4 0: 2 0.374 beats 3 (0.333), 1 (0.040),
--      4 (-0.293), 0 (-0.333) -> {6, 2}
--   4: 0 first (0, 1, 4 tie at the top, 0 the lowest id); every cosine to the zero vector
--      is 0, red 0 for all: 1 and 4 tie at rel 1, the earlier -> {0, 1}
-- Lists {4, 6} {2, 3} {6, 2} {0, 1}: ILD (2 (1 + c) + (1 - c) + 1) / 4 = 1 + c / 4 =
-- 1.176777, up from 0.573223; novelty (0.4150375 + 3 + 1.4150375 + 2) / 8 = 0.85375937;
-- exposure 0:1 1:1 2:2 3:1 4:1 6:2, sorted 1 1 1 1 2 2: gini 1/6 as at diversity 0;
-- coverage 6/6; one hit (user 2's item 3) out of 4 x 2: P@2 0.125.
SELECT is((SELECT row(round(intra_list_diversity::numeric, 6), round(novelty::numeric, 8),
                      round(gini::numeric, 8), round(coverage::numeric, 8), precision_at_k)::text
             FROM reco.evaluate('ev_beyond', 'held', 2, diversity => 0.5)),
          row(1.176777, 0.85375937, 0.16666667, 1.00000000, 0.125::double precision)::text,
          'diversity 0.5 raises the intra-list diversity to the value derived by hand');

SELECT * FROM finish();
ROLLBACK;
