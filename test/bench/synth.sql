-- test/bench/synth.sql — the project's own synthetic interactions, deterministic: the same
-- variables give the same rows on any server (pseudo-random numbers come from
-- hashint8extended of the row's coordinates, never from random(), so neither the plan nor
-- the session matters).  Shape as the scale set of BENCHMARKS.md: Zipf(1) item popularity
-- (a log-uniform popularity rank, ranks scattered over the ids 1..items), lognormal
-- (sigma 1) user activity with a mean of per_user draws (capped at items / 4), values
-- 1..5 uniform, duplicate pairs merged (the first value kept), so the table holds
-- distinct (user_id, item_id) pairs, somewhat fewer than users x per_user.
--
--   psql -v table=bench.synth -v users=20000 -v items=5000 -v per_user=50 -v seed=7 \
--        [-v cover=1] -f test/bench/synth.sql
--
-- cover=1 adds one pair per item (user 1 + item x 104729 mod users) before merging, so
-- that every item is in the model even when the Zipf tail is too thin to reach it.
\set ON_ERROR_STOP on
\if :{?cover}
\else
\set cover 0
\endif
SET client_min_messages = warning;

-- A uniform number in (0, 1) from a 64-bit hash of (x, seed).
CREATE FUNCTION pg_temp.synth_uniform(x bigint, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((hashint8extended(x, seed) & 4503599627370495)::float8 + 0.5) / 4503599627370496;

DROP TABLE IF EXISTS :table;
CREATE UNLOGGED TABLE :table AS
WITH users AS (
    SELECT u, least(:items / 4, greatest(1, round(exp(ln(:per_user) - 0.5
               + sqrt(-2 * ln(pg_temp.synth_uniform(u, :seed)))
                 * cos(2 * pi() * pg_temp.synth_uniform(u, :seed + 1))))))::int AS draws
      FROM generate_series(1::bigint, :users) AS u),
pairs AS (
    SELECT u AS user_id,
           (floor(exp(pg_temp.synth_uniform(u * 1048576 + j, :seed + 2) * ln(:items + 1)))::bigint - 1)
               * 1000003 % :items + 1 AS item_id,
           (1 + floor(5 * pg_temp.synth_uniform(u * 1048576 + j, :seed + 3)))::real AS value,
           j AS draw
      FROM users, generate_series(1, draws) AS j
    UNION ALL
    SELECT 1 + i::bigint * 104729 % :users, i::bigint, 1::real, 0
      FROM generate_series(1, :items * :cover) AS i)
SELECT DISTINCT ON (user_id, item_id) user_id, item_id, value
  FROM pairs
 ORDER BY user_id, item_id, draw;
