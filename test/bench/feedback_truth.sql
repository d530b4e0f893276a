-- test/bench/feedback_truth.sql — the feedback-loop simulator's planted ground truth
-- (test/bench/feedback.sh), in its own schema sim_truth that no model ever reads.
-- Deterministic: every pseudo-random number comes from hashint8extended of its coordinates
-- and the seed (never random()), so the same variables give the same truth on any server.
--
--   psql -v users=1500 -v items=800 -v clusters=16 -v dims=16 -v noise=0.8 -v steep=8 \
--        -v centre=0.5 -v tail=0.5 -v offset=-1 -v relevant=0.25 -v seed=15 -f test/bench/feedback_truth.sql
--
-- The model of taste: `clusters` taste groups, each a centre in R^dims (standard normal
-- coordinates); a user (an item) belongs to one group (uniform) and its true factor is the
-- centre plus N(0, noise²) noise per coordinate. Affinity s(u, i) = the cosine of the two
-- true factors. Items have a long tail of popularity: a Zipf-like rank (log-uniform,
-- scattered over the ids) gives a bias b_i = -tail ln(rank), 0 for the best seller down to
-- -tail ln(items) for the tail. A user shown item i buys it with probability
--     p(u, i) = sigmoid(steep (s(u, i) - centre) + b_i + offset)
-- decided by a coin per (seed, round, user, item) (sim_truth.coin): an exposure is a fresh,
-- independent decision. "Truly relevant" = p(u, i) >= relevant.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS sim_truth CASCADE;
CREATE SCHEMA sim_truth;

-- A uniform number in (0, 1) from a 64-bit hash of (x, seed).
CREATE FUNCTION sim_truth.uniform(x bigint, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((hashint8extended(x, seed) & 4503599627370495)::float8 + 0.5) / 4503599627370496;

-- A standard normal number from two hashed uniforms (Box-Muller).
CREATE FUNCTION sim_truth.normal(x bigint, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN sqrt(-2 * ln(sim_truth.uniform(x, seed))) * cos(2 * pi() * sim_truth.uniform(x, seed + 1));

-- The purchase coin of one exposure: uniform in (0, 1) per (seed, round, user, item).
CREATE FUNCTION sim_truth.coin(seed bigint, round integer, user_id bigint, item_id bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN sim_truth.uniform(user_id * 1000003 + item_id, seed * 100003 + round * 7919 + 1);

CREATE TABLE sim_truth.params AS
SELECT :users::int AS users, :items::int AS items, :clusters::int AS clusters, :dims::int AS dims,
       :seed::bigint AS seed, (:relevant)::float8 AS relevant_p;

-- the taste groups' centres
CREATE TABLE sim_truth.centres AS
SELECT c AS cluster, array_agg(sim_truth.normal(c * 1000 + d, :seed + 10) ORDER BY d) AS f
  FROM generate_series(0, :clusters - 1) AS c, generate_series(1, :dims) AS d
 GROUP BY c;

-- users: group and true factor
CREATE TABLE sim_truth.users AS
WITH g AS (SELECT u AS user_id, floor(:clusters * sim_truth.uniform(u, :seed + 20))::int AS cluster
             FROM generate_series(1::bigint, :users) AS u)
SELECT g.user_id, g.cluster,
       array_agg(c.f[d] + (:noise)::float8 * sim_truth.normal(g.user_id * 1000 + d, :seed + 30) ORDER BY d) AS f
  FROM g JOIN sim_truth.centres AS c USING (cluster), generate_series(1, :dims) AS d
 GROUP BY g.user_id, g.cluster;

-- items: group, true factor and popularity bias (a log-uniform rank scattered over the ids)
CREATE TABLE sim_truth.items AS
WITH g AS (SELECT i AS item_id, floor(:clusters * sim_truth.uniform(i, :seed + 40))::int AS cluster,
                  exp(sim_truth.uniform(i, :seed + 50) * ln(:items)) AS rank
             FROM generate_series(1::bigint, :items) AS i)
SELECT g.item_id, g.cluster, -(:tail)::float8 * ln(g.rank) AS bias,
       array_agg(c.f[d] + (:noise)::float8 * sim_truth.normal(g.item_id * 1000 + d, :seed + 60) ORDER BY d) AS f
  FROM g JOIN sim_truth.centres AS c USING (cluster), generate_series(1, :dims) AS d
 GROUP BY g.item_id, g.cluster, g.rank;

-- p(u, i) for every pair (users x items rows)
CREATE TABLE sim_truth.prob AS
WITH nu AS (SELECT user_id, f, sqrt((SELECT sum(x * x) FROM unnest(f) AS x)) AS norm FROM sim_truth.users),
     ni AS (SELECT item_id, f, bias, sqrt((SELECT sum(x * x) FROM unnest(f) AS x)) AS norm FROM sim_truth.items)
SELECT u.user_id, i.item_id,
       1 / (1 + exp(-((:steep)::float8 * ((SELECT sum(a * b) FROM unnest(u.f, i.f) AS t(a, b)) / (u.norm * i.norm) - (:centre)::float8)
                      + i.bias + (:offset)::float8))) AS p
  FROM nu AS u, ni AS i;
ALTER TABLE sim_truth.prob ADD PRIMARY KEY (user_id, item_id);
-- the oracle policy's order (test/bench/feedback.sh)
CREATE INDEX ON sim_truth.prob (user_id, p DESC, item_id);
ANALYZE sim_truth.prob;
