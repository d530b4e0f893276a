-- time_decay: time-aware training.  Each weight is multiplied by
-- 2^(-age/half_life), age = as_of - the event time, as_of by default the
-- newest event time; the aggregate with an event time, reco.train's
-- time_col/half_life/as_of, the time types it converts, and every bad input.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
\set VERBOSITY terse

CREATE TEMP VIEW t_opts(o) AS
  SELECT '{"factors": 4, "iterations": 5, "solver": "cholesky", "regularization": 0.1, "seed": 7}'::jsonb;

-- Whether two models (by name) have bit-identical user and item factors and weights.
CREATE FUNCTION pg_temp.t_identical(a text, b text) RETURNS TABLE(users bigint, items bigint, identical boolean)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM reco.user_factors x JOIN reco.user_factors y USING (user_id)
           WHERE x.model_id = ma.model_id AND y.model_id = mb.model_id),
         (SELECT count(*) FROM reco.item_factors x JOIN reco.item_factors y USING (item_id)
           WHERE x.model_id = ma.model_id AND y.model_id = mb.model_id),
         (SELECT bool_and(x.factors = y.factors AND x.seen_items = y.seen_items AND x.seen_weights = y.seen_weights)
            FROM reco.user_factors x JOIN reco.user_factors y USING (user_id)
           WHERE x.model_id = ma.model_id AND y.model_id = mb.model_id)
         AND (SELECT bool_and(x.factors = y.factors AND x.popularity = y.popularity)
                FROM reco.item_factors x JOIN reco.item_factors y USING (item_id)
               WHERE x.model_id = ma.model_id AND y.model_id = mb.model_id)
    FROM reco.models AS ma, reco.models AS mb WHERE ma.name = a AND mb.name = b
$$;

-- the tiny shop with times: every customer's first half of purchases a week
-- before the rest; the newest event is 2025-06-30 12:00 UTC
CREATE TEMP TABLE t_events AS
  SELECT customer_id, product_id, quantity,
         CASE WHEN product_id % 2 = 0 THEN timestamptz '2025-06-30 12:00+00'
              ELSE timestamptz '2025-06-23 12:00+00' END AS ordered_at
    FROM purchases;

-- Hand-checkable: half_life = the two times' difference, so the newest rows
-- keep their weight (2^0 = 1) and the older ones halve (2^-1 = 0.5).  The
-- model equals, bit for bit, the model without time trained on those weights.
SELECT version FROM (SELECT reco.fit('t_week', customer_id, product_id, quantity, ordered_at,
                                     (SELECT o FROM t_opts) || '{"half_life": "7 days"}') AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT version FROM (SELECT reco.fit('t_halved', customer_id, product_id,
                                     quantity * CASE WHEN product_id % 2 = 0 THEN 1 ELSE 0.5 END::real,
                                     (SELECT o FROM t_opts)) AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT params FROM reco.models WHERE name = 't_week';
SELECT stats->'rows_read' AS rows_read, stats->'rows_skipped' AS skipped,
       stats->'events_without_time' AS without_time, stats->'events_after_as_of' AS after_as_of,
       stats->'users' AS users, stats->'items' AS items
  FROM reco.models WHERE name = 't_week';
-- a model without time has none of the time keys
SELECT params ? 'half_life' OR params ? 'as_of' OR params ? 'time_col' AS has_time_params,
       stats ? 'events_after_as_of' AS has_time_stats
  FROM reco.models WHERE name = 't_halved';
SELECT * FROM pg_temp.t_identical('t_week', 't_halved');
SELECT user_id, seen_items, seen_weights FROM reco.user_factors
 WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 't_week') AND user_id <= 2
 ORDER BY user_id;

-- params round-trip: retraining with a model's own params as options (as_of now explicit,
-- the resolved newest time) gives the same model bit for bit
SELECT version FROM (SELECT reco.fit('t_again', customer_id, product_id, quantity, ordered_at,
                                     (SELECT params FROM reco.models WHERE name = 't_week')) AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT * FROM pg_temp.t_identical('t_again', 't_week');
SELECT (SELECT params FROM reco.models WHERE name = 't_again') = (SELECT params FROM reco.models WHERE name = 't_week')
       AS same_params;

-- An (almost) infinite half-life: no decay at all, bit for bit
SELECT version FROM (SELECT reco.fit('t_forever', customer_id, product_id, quantity, ordered_at,
                                     (SELECT o FROM t_opts) || '{"half_life": "1000000 years"}') AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT version FROM (SELECT reco.fit('t_plain', customer_id, product_id, quantity, (SELECT o FROM t_opts)) AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT * FROM pg_temp.t_identical('t_forever', 't_plain');

-- as_of given: the newer rows (after it) are skipped and counted; the older
-- ones are 6 days old: 2^(-6/7) of their quantity
SELECT version FROM (SELECT reco.fit('t_asof', customer_id, product_id, quantity, ordered_at,
                                     (SELECT o FROM t_opts) || '{"half_life": "7 days", "as_of": "2025-06-29 12:00+00"}') AS m
                       FROM t_events) s, LATERAL (SELECT (s.m).*) r;
SELECT params->>'half_life' AS half_life, params->>'as_of' AS as_of,
       stats->'rows_read' AS rows_read, stats->'events_after_as_of' AS after_as_of
  FROM reco.models WHERE name = 't_asof';
SELECT bool_and(s.w = (e.quantity::float8 * 2::float8 ^ (-6::float8 / 7))::real) AS decayed_weights,
       count(*) AS pairs
  FROM reco.user_factors AS u, unnest(u.seen_items, u.seen_weights) AS s(item, w), t_events AS e
 WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_asof')
   AND e.customer_id = u.user_id AND e.product_id = s.item;

-- GROUP BY: one model per segment, each with its own default as_of (the
-- newest event of its group)
SELECT (m).name, (m).params->>'as_of' AS as_of, (m).stats->'rows_read' AS rows_read
  FROM (SELECT reco.fit('t_seg_' || (customer_id <= 3)::text, customer_id, product_id, quantity,
                        ordered_at - CASE WHEN customer_id <= 3 THEN interval '1 day' ELSE interval '0' END,
                        (SELECT o FROM t_opts) || '{"half_life": "30 days"}') AS m
          FROM t_events GROUP BY customer_id <= 3) AS trained
 ORDER BY 1;

-- Text ids with time: the same decayed weights, keyed by text
SELECT (m).name, (m).params->>'user_id_type' AS user_id_type, (m).params->>'half_life' AS half_life,
       (m).params->>'as_of' AS as_of
  FROM (SELECT reco.fit('t_text', 'c' || customer_id, 'p' || product_id, quantity, ordered_at,
                        (SELECT o FROM t_opts) || '{"half_life": "7 days"}') AS m
          FROM t_events) AS trained;
SELECT count(*) AS pairs, bool_and(t.w = b.w) AS same_weights
  FROM (SELECT u.user_key, i.item_key, s.w
          FROM reco.user_factors AS u, unnest(u.seen_items, u.seen_weights) AS s(item, w), reco.item_factors AS i
         WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_text')
           AND i.model_id = u.model_id AND i.item_id = s.item) AS t
  JOIN (SELECT 'c' || u.user_id AS user_key, 'p' || s.item AS item_key, s.w
          FROM reco.user_factors AS u, unnest(u.seen_items, u.seen_weights) AS s(item, w)
         WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_week')) AS b USING (user_key, item_key);

-- uuid users through reco.train (the text aggregate with an event time): the same weights
CREATE TEMP TABLE t_uuid AS
  SELECT md5('c' || customer_id)::uuid AS customer, product_id, quantity, ordered_at FROM t_events;
SELECT params->>'user_id_type' AS user_id_type, params->>'item_id_type' AS item_id_type,
       params->>'as_of' AS as_of, n_interactions
  FROM reco.train('t_uuid', 't_uuid', 'customer', 'product_id', 'quantity', factors => 4, iterations => 2,
                  time_col => 'ordered_at', half_life => '7 days');
SELECT count(*) AS pairs, bool_and(t.w = b.w) AS same_weights
  FROM (SELECT u.user_key, s.item, s.w
          FROM reco.user_factors AS u, unnest(u.seen_items, u.seen_weights) AS s(item, w)
         WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_uuid')) AS t
  JOIN (SELECT md5('c' || u.user_id)::uuid::text AS user_key, s.item, s.w
          FROM reco.user_factors AS u, unnest(u.seen_items, u.seen_weights) AS s(item, w)
         WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_week')) AS b USING (user_key, item);

-- reco.train: time_col, half_life, as_of (long form and options form)
SELECT params FROM reco.train('t_train', 't_events', 'customer_id', 'product_id', 'quantity',
                              factors => 4, iterations => 5, solver => 'cholesky', regularization => 0.1, seed => 7,
                              time_col => 'ordered_at', half_life => '7 days');
SELECT * FROM pg_temp.t_identical('t_train', 't_week');

-- reco.refresh_users on a time-decayed model: weights decay from the
-- version's as_of exactly as training's did (unchanged rows: identical
-- bytes); a row without a time is skipped, as training skips it; an event
-- after as_of, which the training could not see, counts at age 0
CREATE TEMP VIEW t_train_user_1 AS
  SELECT factors FROM reco.user_factors
   WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 't_train') AND user_id = 1;
CREATE TEMP TABLE t_train_users AS
  SELECT user_id, factors FROM reco.user_factors WHERE model_id = (SELECT model_id FROM reco.models WHERE name = 't_train');
SELECT refreshed, added, removed FROM reco.refresh_users('t_train');
SELECT count(*) AS users, bool_and(u.factors = t.factors) AS unchanged
  FROM reco.user_factors AS u JOIN t_train_users AS t USING (user_id)
 WHERE u.model_id = (SELECT model_id FROM reco.models WHERE name = 't_train');
INSERT INTO t_events VALUES (1, 108, 3, NULL);
SELECT refreshed FROM reco.refresh_users('t_train', ARRAY[1]);
SELECT (SELECT factors FROM t_train_user_1) = (SELECT factors FROM t_train_users WHERE user_id = 1) AS no_time_skipped;
UPDATE t_events SET ordered_at = '2025-07-15 00:00+00' WHERE customer_id = 1 AND product_id = 108;
SELECT refreshed FROM reco.refresh_users('t_train', ARRAY[1]);
CREATE TEMP TABLE t_after AS SELECT factors FROM t_train_user_1;
UPDATE t_events SET ordered_at = '2025-06-30 12:00+00' WHERE customer_id = 1 AND product_id = 108;
SELECT refreshed FROM reco.refresh_users('t_train', ARRAY[1]);
SELECT (SELECT factors FROM t_train_user_1) = (SELECT factors FROM t_after) AS after_as_of_is_age_0,
       (SELECT factors FROM t_train_user_1) <> (SELECT factors FROM t_train_users WHERE user_id = 1) AS purchase_reflected;
DELETE FROM t_events WHERE customer_id = 1 AND product_id = 108;
-- as in training, the time is read before the weight: a NaN weight without a
-- time is skipped, not an error; an infinite time is 22008
INSERT INTO t_events VALUES (1, 108, 'NaN', NULL);
SELECT refreshed FROM reco.refresh_users('t_train', ARRAY[1]);
UPDATE t_events SET quantity = 1, ordered_at = '-infinity' WHERE customer_id = 1 AND product_id = 108;
SELECT outcome($$SELECT * FROM reco.refresh_users('t_train', ARRAY[1])$$);
DELETE FROM t_events WHERE customer_id = 1 AND product_id = 108;
SELECT refreshed FROM reco.refresh_users('t_train', ARRAY[1]);
SELECT (SELECT factors FROM t_train_user_1) = (SELECT factors FROM t_train_users WHERE user_id = 1) AS back_to_trained;
-- a model with a half_life that does not record its time column cannot be refreshed (22023)
UPDATE reco.models SET params = params - 'time_col' WHERE name = 't_train';
SELECT outcome($$SELECT reco.refresh_users('t_train', ARRAY[1])$$);
UPDATE reco.models SET params = params || '{"time_col": "ordered_at"}' WHERE name = 't_train';
DROP VIEW t_train_user_1;
DROP TABLE t_train_users, t_after;
SELECT params->>'time_col' AS time_col, params->>'half_life' AS half_life, params->>'as_of' AS as_of,
       stats->'events_after_as_of' AS after_as_of
  FROM reco.train('t_train_opts', 't_events',
                  '{"user_col": "customer_id", "item_col": "product_id", "weight_col": "quantity", "factors": 4, "iterations": 5, "time_col": "ordered_at",
                    "half_life": "2 weeks", "as_of": "2025-07-01"}'::jsonb);

-- the time types reco.train converts: timestamp and date (in the session's
-- TimeZone) and epoch seconds (to_timestamp) train exactly as the timestamptz
CREATE TEMP TABLE t_types AS
  SELECT customer_id, product_id, quantity, ordered_at,
         ordered_at::timestamp AS at_timestamp,
         ordered_at::date AS at_date,
         extract(epoch FROM ordered_at)::bigint AS at_epoch,
         extract(epoch FROM ordered_at)::double precision AS at_epoch_double,
         extract(epoch FROM ordered_at)::numeric AS at_epoch_numeric,
         ordered_at::text AS at_text
    FROM t_events;
SELECT c AS time_col, m.params->>'time_col' AS recorded, m.params->>'as_of' AS as_of
  FROM unnest(ARRAY['at_timestamp', 'at_epoch', 'at_epoch_double', 'at_epoch_numeric']) AS c,
       LATERAL reco.train('t_type_' || c, 't_types', 'customer_id', 'product_id', 'quantity',
                          factors => 4, iterations => 5, solver => 'cholesky', regularization => 0.1, seed => 7,
                          time_col => c, half_life => '7 days') AS m;
-- a date has no time of day: the 12:00 events become midnight, a week apart still
SELECT params->>'as_of' AS as_of FROM reco.train('t_type_at_date', 't_types', 'customer_id', 'product_id', 'quantity',
                                               factors => 4, iterations => 5, solver => 'cholesky', regularization => 0.1,
                                               seed => 7, time_col => 'at_date', half_life => '7 days');

SELECT m.name, t.* FROM reco.models AS m, pg_temp.t_identical(m.name, 't_train') AS t
 WHERE m.name LIKE 't\_type\_at%' ORDER BY m.name;

-- NULL event times: skipped and counted
SELECT stats->'rows_read' AS rows_read, stats->'events_without_time' AS without_time,
       stats->'rows_skipped' AS skipped, n_interactions
  FROM reco.train('t_nulls', 'SELECT customer_id, product_id, CASE WHEN customer_id = 1 THEN NULL ELSE ordered_at END AS at FROM t_events',
                  'customer_id', 'product_id', factors => 4, iterations => 2, time_col => 'at', half_life => '7 days');

-- Bad input: every one an error with its SQLSTATE, nothing stored
CREATE TEMP TABLE t_models_before AS SELECT model_id FROM reco.models;
SELECT s AS statement, outcome(s) FROM unnest(ARRAY[
  -- the half-life: not positive, not an interval, not a string
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "0 days"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "-1 day"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "1 month -31 days"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "soon"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": 7}') FROM t_events$$,
  $$SELECT reco.train('t_bad', 't_events', 'customer_id', 'product_id', time_col => 'ordered_at', half_life => '-7 days')$$,
  -- as_of: not a time, not finite
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "7 days", "as_of": "yesterday-ish"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "7 days", "as_of": "infinity"}') FROM t_events$$,
  -- an event time without a half-life, a half-life or as_of without an event time
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"as_of": "2025-07-01"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, '{"half_life": "7 days"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, '{"as_of": "2025-07-01"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id::text, product_id::text, quantity, '{"time_col": "ordered_at"}') FROM t_events$$,
  $$SELECT reco.train('t_bad', 't_events', time_col => 'ordered_at')$$,
  $$SELECT reco.train('t_bad', 't_events', half_life => '7 days')$$,
  $$SELECT reco.train('t_bad', 't_events', as_of => '2025-07-01')$$,
  $$SELECT reco.train('t_bad', 't_events', '{"as_of": "2025-07-01", "time_col": "ordered_at"}'::jsonb)$$,
  -- the time column: unknown, of the wrong type, not a name
  $$SELECT reco.train('t_bad', 't_events', 'customer_id', 'product_id', time_col => 'bought_at', half_life => '7 days')$$,
  $$SELECT reco.train('t_bad', 't_types', 'customer_id', 'product_id', time_col => 'at_text', half_life => '7 days')$$,
  $$SELECT reco.train('t_bad', 't_types', 'customer_id', 'product_id', time_col => 'at_text', half_life => '7 days', as_of => '2025-07-01')$$,
  $$SELECT reco.train('t_bad', 't_events', '{"time_col": 5, "half_life": "7 days"}'::jsonb)$$,
  -- rows: every time NULL, every event after as_of, an infinite event time
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, NULL, '{"half_life": "7 days"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, ordered_at, '{"half_life": "7 days", "as_of": "2025-01-01"}') FROM t_events$$,
  $$SELECT reco.fit('t_bad', customer_id, product_id, quantity, 'infinity', '{"half_life": "7 days"}') FROM t_events$$
]) AS s;
SELECT count(*) AS models_added FROM reco.models WHERE model_id NOT IN (SELECT model_id FROM t_models_before);
SELECT count(*) AS bad_models FROM reco.models WHERE name = 't_bad';

SELECT reco.drop_model(name) FROM reco.models WHERE name LIKE 't\_%' GROUP BY name ORDER BY name;
