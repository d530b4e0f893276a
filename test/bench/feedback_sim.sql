-- test/bench/feedback_sim.sql — the feedback-loop simulator's loop (test/bench/feedback.sh):
-- schema sim, which holds what a shop would have (the ids of its customers and products,
-- what was shown, what was bought) and the procedure that plays rounds. Only the purchase
-- step (sim.play_round's INSERT INTO sim.bought) reads sim_truth; every model trains and
-- refreshes on a view of sim.bought alone.
--
--   psql -v seed_purchases=3 -v seed=15 -f test/bench/feedback_sim.sql   (after feedback_truth.sql)
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS sim CASCADE;
CREATE SCHEMA sim;

-- the shop's catalogue and customers: ids only
CREATE TABLE sim.users AS SELECT user_id FROM sim_truth.users;
CREATE TABLE sim.items AS SELECT item_id FROM sim_truth.items;

-- The seed history, shared by every policy: each user's seed_purchases purchases before any
-- recommender, drawn without replacement with probability proportional to p(u, i) (the
-- Gumbel top-k trick on hashed uniforms), so they follow taste and the popularity tail.
CREATE TABLE sim.seed_history AS
SELECT user_id, item_id FROM (
    SELECT user_id, item_id,
           row_number() OVER (PARTITION BY user_id
                              ORDER BY ln(p) - ln(-ln(sim_truth.uniform(user_id * 1000003 + item_id, :seed + 70))) DESC,
                                       item_id) AS r
      FROM sim_truth.prob) AS s
 WHERE r <= :seed_purchases;

-- Every purchase of every policy's world; round 0 = the seed history.
CREATE TABLE sim.bought (policy text, round integer, user_id bigint, item_id bigint,
                         PRIMARY KEY (policy, user_id, item_id));
-- Every exposure: the items each user was shown in each round.
CREATE TABLE sim.shown (policy text, round integer, user_id bigint, item_id bigint);
CREATE INDEX ON sim.shown (policy, round);
-- Per policy and round: seconds to choose the lists and to update the model, purchases.
CREATE TABLE sim.rounds (policy text, round integer, shown bigint, purchases bigint,
                         choose_s float8, update_s float8, PRIMARY KEY (policy, round));
-- The policies: how a round's lists are chosen (a query of (user_id, item_id) with %1$L = the
-- model, %2$s = the round, %3$s = the seed) and how the model follows ('refresh', 'retrain' or
-- 'none').
CREATE TABLE sim.policies (policy text PRIMARY KEY, ord integer, label text, lists text, updating text);

-- Starts one policy's world: the seed history as round 0, a view of its purchases (the
-- model's only source) and a model trained on it (none for a policy that uses no model).
CREATE PROCEDURE sim.start(policy text, train_args text)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sim.bought AS b WHERE b.policy = start.policy;
    DELETE FROM sim.shown AS s WHERE s.policy = start.policy;
    DELETE FROM sim.rounds AS r WHERE r.policy = start.policy;
    INSERT INTO sim.bought SELECT start.policy, 0, user_id, item_id FROM sim.seed_history;
    EXECUTE format('CREATE OR REPLACE VIEW sim.%I AS SELECT user_id, item_id FROM sim.bought WHERE policy = %L',
                   'src_' || policy, policy);
    IF (SELECT p.updating FROM sim.policies AS p WHERE p.policy = start.policy) <> 'none' THEN
        EXECUTE format('SELECT count(*) FROM reco.train(%L, %L, %s)', 'sim_' || policy, 'sim.src_' || policy, train_args);
    END IF;
END $$;

-- Plays one round of one policy: lists, purchases (the coins of sim_truth), model update.
CREATE PROCEDURE sim.play_round(policy text, round integer, seed bigint, train_args text)
LANGUAGE plpgsql AS $$
DECLARE
    pol sim.policies;
    model text := 'sim_' || policy;
    t0 timestamptz;
    t1 timestamptz;
    n_shown bigint;
    n_bought bigint;
    new_users bigint[];
    new_items bigint[];
BEGIN
    SELECT * INTO STRICT pol FROM sim.policies AS p WHERE p.policy = play_round.policy;
    t0 := clock_timestamp();
    EXECUTE format('INSERT INTO sim.shown SELECT %L, %s, l.user_id, l.item_id FROM (%s) AS l',
                   policy, round, format(pol.lists, model, round, seed));
    GET DIAGNOSTICS n_shown = ROW_COUNT;
    -- the purchases: one coin per exposure (an item already bought is not bought twice)
    INSERT INTO sim.bought
    SELECT s.policy, s.round, s.user_id, s.item_id
      FROM sim.shown AS s JOIN sim_truth.prob AS t USING (user_id, item_id)
     WHERE s.policy = play_round.policy AND s.round = play_round.round
       AND sim_truth.coin(seed, s.round, s.user_id, s.item_id) < t.p
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n_bought = ROW_COUNT;
    t1 := clock_timestamp();
    IF pol.updating = 'none' THEN
        NULL;  -- a policy that ignores the model (random)
    ELSIF pol.updating = 'retrain' THEN
        EXECUTE format('SELECT count(*) FROM reco.train(%L, %L, %s)', model, 'sim.src_' || policy, train_args);
    ELSE
        -- README "Refresh": the products first (new ones get factors), then the customers
        SELECT array_agg(DISTINCT b.user_id), array_agg(DISTINCT b.item_id) INTO new_users, new_items
          FROM sim.bought AS b WHERE b.policy = play_round.policy AND b.round = play_round.round;
        IF new_items IS NOT NULL THEN
            PERFORM reco.refresh_items(model, new_items);
            PERFORM reco.refresh_users(model, new_users);
        END IF;
    END IF;
    INSERT INTO sim.rounds VALUES (policy, round, n_shown, n_bought,
        extract(epoch FROM t1 - t0), extract(epoch FROM clock_timestamp() - t1));
END $$;

-- The curves: per policy and round, purchases, cumulative purchases (the seed history not
-- counted), catalogue coverage (distinct items shown so far / items) and the mean number of
-- truly relevant items each user has bought so far (the seed history included).
CREATE FUNCTION sim.curves() RETURNS TABLE (policy text, round integer, purchases bigint,
    cumulative bigint, coverage numeric, relevant_found numeric, shown bigint, choose_s float8, update_s float8)
LANGUAGE sql AS $$
WITH rel AS (SELECT b.policy, b.round, count(*) AS n
               FROM sim.bought AS b JOIN sim_truth.prob AS t USING (user_id, item_id)
              WHERE t.p >= (SELECT relevant_p FROM sim_truth.params)
              GROUP BY b.policy, b.round),
first_shown AS (SELECT s.policy, s.item_id, min(s.round) AS round FROM sim.shown AS s GROUP BY s.policy, s.item_id),
cov AS (SELECT f.policy, f.round, count(*) AS n FROM first_shown AS f GROUP BY f.policy, f.round),
rounds AS (SELECT r.policy, r.round, r.purchases, r.shown, r.choose_s, r.update_s FROM sim.rounds AS r
           UNION ALL
           SELECT p.policy, 0, 0, 0, NULL, NULL FROM sim.policies AS p
            WHERE EXISTS (SELECT FROM sim.rounds AS r WHERE r.policy = p.policy))
SELECT r.policy, r.round, r.purchases,
       sum(r.purchases) OVER w,
       round(coalesce(sum(c.n) OVER w, 0) / (SELECT count(*) FROM sim.items), 4),
       round(sum(coalesce(rel.n, 0)) OVER w / (SELECT count(*) FROM sim.users), 3),
       r.shown, r.choose_s, r.update_s
  FROM rounds AS r
  LEFT JOIN rel USING (policy, round)
  LEFT JOIN cov AS c USING (policy, round)
WINDOW w AS (PARTITION BY r.policy ORDER BY r.round)
ORDER BY (SELECT ord FROM sim.policies AS p WHERE p.policy = r.policy), r.round
$$;

-- When a policy's curve (metric 'cumulative' or 'relevant_found') in sim.curve (the curves
-- stored by test/bench/feedback.sh after the last round) is above greedy's: 'every
-- round', 'from round R' (above at R and at every later round), 'rounds ... only' or 'never';
-- '-' for greedy itself or when greedy was not played.
SET check_function_bodies = off;  -- sim.curve is created after the rounds
CREATE FUNCTION sim.ahead(policy text, metric text) RETURNS text
LANGUAGE sql AS $$
WITH c AS (SELECT * FROM sim.curve),
d AS (SELECT x.round,
             CASE metric WHEN 'cumulative' THEN x.cumulative > g.cumulative
                         ELSE x.relevant_found > g.relevant_found END AS ahead
        FROM c AS x JOIN c AS g ON g.round = x.round AND g.policy = 'greedy'
       WHERE x.policy = ahead.policy AND x.round > 0)
SELECT CASE WHEN policy = 'greedy' OR NOT EXISTS (SELECT FROM d) THEN '-'
            WHEN NOT bool_or(ahead) THEN 'never'
            WHEN bool_and(ahead) THEN 'every round'
            WHEN (SELECT ahead FROM d ORDER BY round DESC LIMIT 1)
            THEN 'from round ' || (SELECT min(round) FROM d AS e
                                    WHERE NOT EXISTS (SELECT FROM d AS f WHERE f.round >= e.round AND NOT f.ahead))
            ELSE 'rounds ' || (SELECT string_agg(round::text, ', ' ORDER BY round) FROM d WHERE ahead) || ' only' END
  FROM d
$$;
