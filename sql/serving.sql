-- serving beyond recommend: the short form, fold-in (recommend_for_items),
-- similar_items/users, explain, recommend_all and LRU eviction of the cache.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- A hand-made two-factor model with its training parameters.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('hand2', 1, 'ials', '{"alpha": 1, "regularization": 0.5}', 3, 6, 4, 2, '{}', 0)
RETURNING model_id AS hand_id \gset
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
SELECT :hand_id, i, reco.to_bytea(f), 1
  FROM (VALUES (10, '{1, 0}'::real[]), (20, '{0, 1}'), (30, '{1, 1}'),
               (40, '{2, 0.5}'), (50, '{-1, 0}'), (60, '{0.5, 2}')) AS t(i, f);
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
VALUES (:hand_id, 1, reco.to_bytea('{1, 0.5}'), '{30, 40}', '{1, 2}'),
       (:hand_id, 2, reco.to_bytea('{0, 0}'), '{}', '{}'),
       (:hand_id, 3, reco.to_bytea('{2, 1}'), '{10}', '{1}');

-- The short form reco.recommend(user_id, n): reco.model, else the only model.
SET reco.model = 'hand2';
SELECT * FROM reco.recommend(3, 1);
SELECT count(*) AS huge_n FROM reco.recommend(1, 9999999999);
-- a model name and an integer literal still mean the long form
SELECT * FROM reco.recommend('hand2', 3, 1);
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend(1, 0);
SELECT * FROM reco.recommend(1, NULL);
SELECT count(*) AS null_user FROM reco.recommend(NULL::bigint, 2);
SET reco.model = 'nope';
SELECT * FROM reco.recommend(1, 2);
\set VERBOSITY terse
RESET reco.model;
BEGIN;
DELETE FROM reco.models WHERE name <> 'hand2';
SELECT * FROM reco.recommend(1, 2);
SELECT * FROM reco.recommend(1);
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('other', 1, 'ials', '{}', 0, 0, 0, 2, '{}', 0);
\set VERBOSITY default
SELECT * FROM reco.recommend(1, 2);
\set VERBOSITY terse
ROLLBACK;
BEGIN;
DELETE FROM reco.models;
\set VERBOSITY default
SELECT * FROM reco.recommend(1, 2);
\set VERBOSITY terse
ROLLBACK;

-- Fold-in of items {30: 1, 40: 2} (alpha 1, regularization 0.5):
-- A = YᵀY + 1·y40 y40ᵀ + 0.5 I = [[11.75, 4], [4, 7]], b = y30 + 2·y40 = (5, 2),
-- x = A⁻¹b = (27, 3.5) / 66.25 = (0.407547, 0.052830);
-- scores 10: 0.407547, 20: 0.052830, 50: -0.407547, 60: 0.309434.
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, 2}');
-- duplicates are summed as in training; NULL weights mean 1 each
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40, 40}', n => 2);
-- exclude_seen => false keeps the given items; candidates and exclude as in recommend
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, 2}', 3, exclude_seen => false);
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, 2}', 3, candidates => '{50, 60, 40}');
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, 2}', 3, exclude => '{10}');
-- unknown items are ignored with a NOTICE; no known item: the best-sellers (sql/fallback.sql)
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40, 999, NULL}', '{1, 2, 5, 1}', 2);
SELECT * FROM reco.recommend_for_items('hand2', '{998, 999}', n => 2);
SELECT * FROM reco.recommend_for_items('hand2', '{}', n => 2);
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1}');
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, NULL}');
SELECT * FROM reco.recommend_for_items('hand2', '{30, 40}', '{1, NaN}');
SELECT * FROM reco.recommend_for_items('hand2', NULL);
SELECT * FROM reco.recommend_for_items('hand2', '{30}', n => 0);
SELECT * FROM reco.recommend_for_items('nope', '{30}');
\set VERBOSITY terse

-- explain: user 1's items {30: 1, 40: 2} and item 10. w = A⁻¹ y10 = (7, -4) / 66.25;
-- 30: 1 · w·y30 = 3 / 66.25 = 0.045283; 40: 2 · w·y40 = 24 / 66.25 = 0.362264;
-- the sum, 27 / 66.25, is item 10's fold-in score above.
SELECT * FROM reco.explain('hand2', 1, 10);
SELECT * FROM reco.explain('hand2', 1, 10, 1);
SELECT round(sum(contribution)::numeric, 6) AS total FROM reco.explain('hand2', 1, 10, 100);
SELECT count(*) AS unknown_user FROM reco.explain('hand2', 999, 10);
SELECT count(*) AS unknown_item FROM reco.explain('hand2', 1, 999);
SELECT count(*) AS no_items FROM reco.explain('hand2', 2, 10);
SELECT count(*) AS null_user FROM reco.explain('hand2', NULL, 10);
\set VERBOSITY sqlstate
SELECT * FROM reco.explain('hand2', 1, 10, 0);
SELECT * FROM reco.explain(NULL, 1, 10);
SELECT * FROM reco.explain('nope', 1, 10);
SELECT * FROM reco.explain('hand2', 1, 10, NULL);
\set VERBOSITY terse

-- similar_items: cosine; 10 = (1, 0): 40 → 2/√4.25 = 0.970143, 30 → 0.707107,
-- 60 → 0.5/√4.25 = 0.242536, 20 → 0, 50 → -1; the item itself never appears.
SELECT * FROM reco.similar_items('hand2', 10);
SELECT * FROM reco.similar_items('hand2', 10, 2, candidates => '{20, 50, 60}');
SELECT * FROM reco.similar_users('hand2', 1);
SELECT count(*) AS unknown FROM reco.similar_items('hand2', 999);
SELECT count(*) AS unknown FROM reco.similar_users('hand2', 999);
SELECT count(*) AS null_item FROM reco.similar_items('hand2', NULL);
SELECT count(*) AS no_candidates FROM reco.similar_items('hand2', 10, 5, candidates => '{}');
\set VERBOSITY sqlstate
SELECT * FROM reco.similar_items('hand2', 10, -1);
SELECT * FROM reco.similar_users('nope', 1);
SELECT * FROM reco.similar_users('hand2', 1, NULL);
SELECT * FROM reco.similar_items(NULL, 10);
\set VERBOSITY terse

-- recommend_all: one ranked list per known user, as recommend gives them
SELECT * FROM reco.recommend_all('hand2', 2);
SELECT * FROM reco.recommend_all('hand2', 1, '{3, 999, 1, 3, NULL}');
SELECT * FROM reco.recommend_all('hand2', 1, '{1}', exclude_seen => false);
SELECT count(*) AS no_users FROM reco.recommend_all('hand2', 3, '{}');
SELECT count(*) AS everything FROM reco.recommend_all('hand2', 2147483647, '{1}');
\set VERBOSITY sqlstate
SELECT * FROM reco.recommend_all('hand2', 0);
SELECT * FROM reco.recommend_all('hand2', 2, NULL, NULL);
SELECT * FROM reco.recommend_all('nope', 2);
SELECT * FROM reco.recommend_all(NULL, 2);
\set VERBOSITY terse

-- A trained model (CG, few iterations): recommend_all equals recommend for every
-- user, and folding a user's own training items in gives recommend's answer
-- exactly, because training ends with an exact solve of the user side.
SET client_min_messages = warning;
CREATE TABLE clicks AS
SELECT u AS user_id, (u * 7 + j * j * 13) % 150 AS item_id, 1 + (u + j) % 3 AS w
  FROM generate_series(1, 300) AS u, generate_series(1, 12) AS j;
SELECT (reco.train('clicks', 'clicks', weight_col => 'w', factors => 8, iterations => 4,
                   regularization => 1)).version;
RESET client_min_messages;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.item_id IS DISTINCT FROM r.item_id OR a.score IS DISTINCT FROM r.score) AS differ
  FROM reco.recommend_all('clicks', 10) AS a
  FULL JOIN (SELECT u.user_id, r.rank, r.item_id, r.score
               FROM (SELECT DISTINCT user_id FROM clicks) AS u,
                    LATERAL (SELECT row_number() OVER () AS rank, * FROM reco.recommend('clicks', u.user_id, 10)) AS r) AS r
    ON a.user_id = r.user_id AND a.rank = r.rank;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s.item_id IS DISTINCT FROM f.item_id) AS item_differs,
       max(abs(s.score - f.score)) AS max_score_difference
  FROM (SELECT user_id, seen_items, seen_weights FROM reco.user_factors
         WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'clicks')) AS u,
       LATERAL (SELECT row_number() OVER () AS rank, * FROM reco.recommend('clicks', u.user_id)) AS s
       FULL JOIN LATERAL (SELECT row_number() OVER () AS rank, *
                            FROM reco.recommend_for_items('clicks', u.seen_items, u.seen_weights)) AS f
         ON s.rank = f.rank;
-- similar_users on a trained model: every user gets n neighbours, the same as a
-- cosine computed in SQL (similar_users has no candidates argument: it must not
-- read one)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(s.similarity - c.cosine) > 1e-5) AS differ
  FROM generate_series(1, 300) AS u,
       LATERAL reco.similar_users('clicks', u, 3) AS s,
       LATERAL (SELECT sum(a * b) / sqrt(sum(a * a) * sum(b * b)) AS cosine
                  FROM unnest((SELECT reco.to_array(f.factors) FROM reco.user_factors f JOIN reco.models m USING (model_id)
                                WHERE m.name = 'clicks' AND f.user_id = u),
                              (SELECT reco.to_array(f.factors) FROM reco.user_factors f JOIN reco.models m USING (model_id)
                                WHERE m.name = 'clicks' AND f.user_id = s.user_id)) AS x(a, b)) AS c;
-- explain's contributions sum to the item's score as recommend gives it
SELECT bool_and(abs(e.total - s.score) <= 1e-5 * greatest(1, abs(s.score))) AS sums_match, count(*) AS checked
  FROM generate_series(1, 20) AS u,
       LATERAL reco.recommend('clicks', u, 3) AS s,
       LATERAL (SELECT sum(contribution) AS total FROM reco.explain('clicks', u, s.item_id, 1000)) AS e;

-- Serving walks the items by descending norm and stops once nothing left can
-- reach the top n; with thousands of items (several tiles) it must still give
-- exactly the full-scan answer, which the candidates path computes.
SET client_min_messages = warning;
CREATE TABLE views AS
SELECT DISTINCT u AS user_id,
       floor(8000 * power(((u * 7919 + j * 104729) % 99991) / 99991.0, 2))::bigint AS item_id
  FROM generate_series(1, 400) AS u, generate_series(1, 25) AS j;
SELECT (reco.train('views', 'views', factors => 8, iterations => 3, regularization => 1)).n_items > 2048
       AS several_tiles;
RESET client_min_messages;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE p.item_id IS DISTINCT FROM f.item_id OR p.score IS DISTINCT FROM f.score) AS differ
  FROM (SELECT DISTINCT user_id FROM views) AS u,
       LATERAL (SELECT row_number() OVER () AS rank, * FROM reco.recommend('views', u.user_id, 10)) AS p
       FULL JOIN LATERAL (SELECT row_number() OVER () AS rank, *
                            FROM reco.recommend('views', u.user_id, 10,
                                   candidates => (SELECT array_agg(DISTINCT item_id) FROM views))) AS f
         ON p.rank = f.rank;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.item_id IS DISTINCT FROM r.item_id OR a.score IS DISTINCT FROM r.score) AS differ
  FROM reco.recommend_all('views', 10) AS a
  FULL JOIN (SELECT u.user_id, r.rank, r.item_id, r.score
               FROM (SELECT DISTINCT user_id FROM views) AS u,
                    LATERAL (SELECT row_number() OVER () AS rank, * FROM reco.recommend('views', u.user_id, 10)) AS r) AS r
    ON a.user_id = r.user_id AND a.rank = r.rank;
DROP TABLE views;

-- LRU eviction: a 1 kB budget holds two of these 12-item models (496 bytes each), not three
DO $$
BEGIN
  FOR m IN 1..3 LOOP
    INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                             factors, loss, train_seconds)
    VALUES ('lru' || m, 1, 'ials', '{}', 1, 12, 1, 2, '{}', 0);
    INSERT INTO reco.item_factors
    SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(ARRAY[i, m]::real[]), 1
      FROM generate_series(1, 12) AS i;
    INSERT INTO reco.user_factors
    VALUES (currval('reco.models_model_id_seq'), 1, reco.to_bytea('{1, 0}'), '{}', '{}');
  END LOOP;
END $$;
SELECT reco.cache_reset() >= 0 AS reset;
SET reco.cache_size = '1kB';
SELECT item_id FROM reco.recommend('lru1', 1, 1);
SELECT item_id FROM reco.recommend('lru2', 1, 1);
SELECT item_id FROM reco.recommend('lru1', 1, 1);
SELECT item_id FROM reco.recommend('lru3', 1, 1);
SELECT m.name, c.side, c.items, c.bytes, c.hits
  FROM reco.cache_info() AS c JOIN reco.models AS m USING (model_id) ORDER BY m.name;
-- a matrix larger than the whole budget (20 items, k 8: 20 x (4 x 8 + 32) + 4 x 8² = 1536
-- bytes) is read for each call and not cached; the backend warns once, not on every call,
-- and not at all when caching is off (0)
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('toobig', 1, 'ials', '{}', 1, 20, 1, 8, '{}', 0);
INSERT INTO reco.item_factors
SELECT currval('reco.models_model_id_seq'), i, reco.to_bytea(array_fill(i::real, ARRAY[8])), 1
  FROM generate_series(1, 20) AS i;
INSERT INTO reco.user_factors
VALUES (currval('reco.models_model_id_seq'), 1, reco.to_bytea(array_fill(1::real, ARRAY[8])), '{}', '{}');
SELECT item_id FROM reco.recommend('toobig', 1, 2);
SELECT item_id FROM reco.recommend('toobig', 1, 2);
SELECT count(*) AS cached FROM reco.cache_info() AS c JOIN reco.models AS m USING (model_id) WHERE m.name = 'toobig';
SET reco.cache_size = 0;
SELECT reco.cache_reset() >= 0 AS reset;
SELECT item_id FROM reco.recommend('lru1', 1, 1);
RESET reco.cache_size;
SELECT reco.cache_reset() AS freed;

DROP TABLE clicks;
DELETE FROM reco.models WHERE name IN ('hand2', 'clicks', 'views', 'lru1', 'lru2', 'lru3', 'toobig');
DELETE FROM reco.item_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
DELETE FROM reco.user_factors WHERE model_id NOT IN (SELECT model_id FROM reco.models);
