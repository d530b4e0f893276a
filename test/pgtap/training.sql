-- training.sql: numeric invariants of reco.fit / reco.train.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(16);

CREATE TEMP TABLE inter AS
SELECT u AS user_id, i AS item_id, (1 + (u * 7 + i * 3) % 5)::real AS weight
  FROM generate_series(1, 60) u, generate_series(1, 40) i
 WHERE (u * 13 + i * 29) % 7 < 2 OR (u % 4 = i % 4 AND i < 20);

-- Dot product of two factor values.
CREATE FUNCTION pg_temp.dot(a bytea, b bytea) RETURNS double precision LANGUAGE sql IMMUTABLE AS
$$ SELECT sum(x::double precision * y) FROM unnest(reco.to_array(a), reco.to_array(b)) AS t(x, y) $$;

SELECT reco.train('chol', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, solver => 'cholesky', seed => 7);
SELECT reco.train('cg', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, solver => 'cg', cg_steps => 16, seed => 7);
SELECT reco.train('cg3', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, seed => 7);
SELECT reco.train('cg3_again', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, seed => 7);
SELECT reco.train('cg3_seed8', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, seed => 8);

CREATE TEMP VIEW served AS
SELECT m.name, f.user_id AS id, f.factors, 'user' AS side FROM reco.models m JOIN reco.user_factors f USING (model_id)
UNION ALL
SELECT m.name, f.item_id, f.factors, 'item' FROM reco.models m JOIN reco.item_factors f USING (model_id);

SELECT is((SELECT count(*) FROM served WHERE octet_length(factors) <> 32), 0::bigint,
          'every stored factor value has exactly factors x 4 bytes');
SELECT is((SELECT count(*) FROM served, unnest(reco.to_array(factors)) x
            WHERE x = 'NaN'::real OR x IN ('Infinity'::real, '-Infinity'::real)), 0::bigint,
          'every factor is finite');
SELECT ok((SELECT bool_and(loss[i + 1] <= loss[i] * (1 + 1e-6))
             FROM reco.models, generate_series(1, array_length(loss, 1) - 1) i WHERE name = 'chol'),
          'the Cholesky solver never increases the loss');
SELECT ok((SELECT loss[array_length(loss, 1)] < loss[1] FROM reco.models WHERE name = 'cg3'),
          'CG lowers the loss over the iterations');
SELECT is((SELECT count(*) FROM served a JOIN served b USING (side, id)
            WHERE a.name = 'cg3' AND b.name = 'cg3_again' AND a.factors IS DISTINCT FROM b.factors), 0::bigint,
          'same data, options and seed give bit-identical factors');
SELECT ok((SELECT count(*) FROM served a JOIN served b USING (side, id)
            WHERE a.name = 'cg3' AND b.name = 'cg3_seed8' AND a.factors <> b.factors) > 0,
          'another seed gives other factors');
SELECT ok((SELECT max(abs(pg_temp.dot(cu.factors, ci.factors) - pg_temp.dot(hu.factors, hi.factors)))
             FROM served cu JOIN served hu ON hu.id = cu.id AND hu.side = 'user' AND hu.name = 'chol'
             JOIN served ci ON ci.name = 'cg' AND ci.side = 'item'
             JOIN served hi ON hi.id = ci.id AND hi.side = 'item' AND hi.name = 'chol'
            WHERE cu.name = 'cg' AND cu.side = 'user') < 1e-3,
          'CG with enough steps predicts what the exact Cholesky solver predicts (within 1e-3)');

-- One user, one item, k = 1: the iterates converge to score x*y = 1 - lambda / c.
SELECT reco.fit('one', 1, 1, 10, '{"factors": 1, "regularization": 1, "iterations": 200, "solver": "cholesky"}');
SELECT ok((SELECT abs(pg_temp.dot(u.factors, i.factors) - 0.9) < 1e-4
             FROM reco.models m JOIN reco.user_factors u USING (model_id) JOIN reco.item_factors i USING (model_id)
            WHERE m.name = 'one'),
          'a 1 x 1 problem converges to its closed-form score 1 - lambda/c = 0.9');

-- Negative feedback (implicit's convention: preference 0 with confidence |c|):
-- the unseen item that scores highest for user 1 (item 12) is
-- pulled down toward 0 by an explicit dislike.
SELECT reco.train('plain', 'inter', weight_col => 'weight', factors => 8, regularization => 1,
                  iterations => 8, solver => 'cholesky');
SELECT reco.train('disliked', $$SELECT user_id, item_id, weight FROM inter
                                UNION ALL SELECT 1, 12, -20$$,
                  weight_col => 'weight', factors => 8, regularization => 1, iterations => 8, solver => 'cholesky');
CREATE TEMP TABLE dislike AS
SELECT pg_temp.dot(pu.factors, pi.factors) AS plain_score, pg_temp.dot(du.factors, di.factors) AS disliked_score
  FROM served du, served di, served pu, served pi
 WHERE du.name = 'disliked' AND du.side = 'user' AND du.id = 1
   AND di.name = 'disliked' AND di.side = 'item' AND di.id = 12
   AND pu.name = 'plain' AND pu.side = 'user' AND pu.id = 1
   AND pi.name = 'plain' AND pi.side = 'item' AND pi.id = 12;
SELECT ok((SELECT plain_score > 0.1 FROM dislike), 'without feedback the item scores high for the user');
SELECT ok((SELECT disliked_score < plain_score / 2 FROM dislike),
          'a negative weight pushes that item''s score down (to less than half)');
SELECT is((SELECT seen_weights[array_position(seen_items, 12::bigint)] FROM reco.user_factors
            WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 'disliked') AND user_id = 1),
          -20::real, 'the negative weight is stored as given');

-- GROUP BY: one model per group, each with only its group's users.
SELECT is((SELECT count(*) FROM (SELECT reco.fit('group_' || (user_id % 3), user_id, item_id, weight,
                                                 '{"factors": 2, "iterations": 1}')
                                   FROM inter GROUP BY user_id % 3) s), 3::bigint,
          'GROUP BY trains one model per group');
SELECT is((SELECT count(*) FROM reco.models m JOIN reco.user_factors u USING (model_id)
            WHERE m.name LIKE 'group_%' AND u.user_id % 3 <> substr(m.name, 7)::int), 0::bigint,
          'each group''s model holds only that group''s users');

-- Thread count: results are reproducible for a given thread count.
SELECT reco.train('t1a', 'inter', weight_col => 'weight', factors => 8, iterations => 3, threads => 1);
SELECT reco.train('t1b', 'inter', weight_col => 'weight', factors => 8, iterations => 3, threads => 1);
SELECT is((SELECT count(*) FROM served a JOIN served b USING (side, id)
            WHERE a.name = 't1a' AND b.name = 't1b' AND a.factors IS DISTINCT FROM b.factors), 0::bigint,
          'one thread: identical factors run after run');
SELECT is((SELECT (stats->>'threads')::int FROM reco.models WHERE name = 't1a'), 1, 'stats record the threads used');

-- Evaluation: with k covering the catalogue, every known held-out item is found.
SELECT is((SELECT recall_at_k FROM reco.evaluate('cg3', 'SELECT 1 AS user_id, 39 AS item_id WHERE NOT EXISTS
              (SELECT 1 FROM inter WHERE user_id = 1 AND item_id = 39)', 40)), 1::double precision,
          'recall at k = catalogue size is 1');

SELECT * FROM finish();
ROLLBACK;
