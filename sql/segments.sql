-- segments: reco.segment_users (seeded cosine k-means of the user factors) and
-- reco.segment_top_items on a hand-made model with three planted segments,
-- the stored segments, the text-id forms, bad input and the cleanup.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- Three factors, three planted directions: users 1-5 lean on factor 1, 6-9 on
-- factor 2, 10-12 on factor 3 (with various norms and a little noise).  The
-- sizes differ (5, 4, 3), so the segments are numbered 1, 2, 3 in that order
-- whatever the seed.
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
VALUES ('seg', 1, 'ials', '{}', 12, 5, 12, 3, '{}', 0) RETURNING model_id AS seg_id \gset
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights)
SELECT :seg_id, u, reco.to_bytea(f), '{}', '{}'
  FROM (VALUES (1, '{2, 0.2, 0}'::real[]), (2, '{1, 0, 0.1}'), (3, '{3, 0, 0}'), (4, '{1, 0.1, 0}'),
               (5, '{3, 0.2, -0.1}'),
               (6, '{0, 1, 0}'), (7, '{0.1, 2, 0}'), (8, '{0, 3, 0.1}'), (9, '{-0.1, 2, -0.1}'),
               (10, '{0, 0, 1}'), (11, '{0.2, 0, 2}'), (12, '{-0.2, 0.3, 3}')) AS t(u, f);
-- items: one per direction, one between the first two, one opposite the first
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity)
SELECT :seg_id, i, reco.to_bytea(f), 1
  FROM (VALUES (101, '{1, 0, 0}'::real[]), (102, '{0, 1, 0}'), (103, '{0, 0, 1}'),
               (104, '{0.5, 0.5, 0}'), (105, '{-1, 0, 0}')) AS t(i, f);
-- the planted segments are recovered exactly, for any seed
SELECT segment, array_agg(user_id ORDER BY user_id) AS users, max(distance) < 0.02 AS close
  FROM reco.segment_users('seg', 3) GROUP BY segment ORDER BY segment;
SELECT seed, count(DISTINCT (user_id, segment)) = 12 AS twelve_rows,
       bool_and(segment = CASE WHEN user_id <= 5 THEN 1 WHEN user_id <= 9 THEN 2 ELSE 3 END) AS planted
  FROM generate_series(1, 5) AS seed, reco.segment_users('seg', 3, seed) GROUP BY seed ORDER BY seed;
-- a distance is 1 - cos(user, centroid): user 3 = (3, 0, 0) against segment 1's centroid
SELECT abs(s.distance - (1 - c.x[1])) < 1e-6 AS distance_is_one_minus_cosine
  FROM (SELECT reco.to_array(centroid) AS x FROM reco.segments WHERE model_id = :seg_id AND segment = 1) AS c,
       reco.segment_users('seg', 3) AS s WHERE s.user_id = 3;
-- the same seed gives identical assignments and distances; every user exactly one segment
CREATE TEMP TABLE seg_a AS SELECT * FROM reco.segment_users('seg', 4, 7);
CREATE TEMP TABLE seg_b AS SELECT * FROM reco.segment_users('seg', 4, 7);
SELECT (SELECT count(*) FROM (SELECT * FROM seg_a EXCEPT SELECT * FROM seg_b) AS d) AS differences,
       (SELECT count(*) FROM seg_a) AS rows, (SELECT count(DISTINCT user_id) FROM seg_a) AS users,
       (SELECT array_agg(DISTINCT segment ORDER BY segment) FROM seg_a) AS segments;
-- the stored segments: k rows of the served version (the last call replaced the earlier ones),
-- sizes summing to the users, the sizes of the call's answer, a unit centroid, the mean raw factors
SELECT segment, size, k, seed, converged, iterations BETWEEN 1 AND 100 AS iterations_ok
  FROM reco.segments WHERE model_id = :seg_id ORDER BY segment;
SELECT sum(size) AS users FROM reco.segments WHERE model_id = :seg_id;
SELECT bool_and(s.size = a.n) AS sizes_match
  FROM reco.segments AS s JOIN (SELECT segment, count(*) AS n FROM seg_a GROUP BY segment) AS a USING (segment)
 WHERE s.model_id = :seg_id;
SELECT segment, size, reco.to_array(mean) AS mean,
       round(sqrt((SELECT sum(x * x) FROM unnest(reco.to_array(centroid)) AS x))::numeric, 5) AS centroid_norm
  FROM reco.segments WHERE model_id = :seg_id AND segment <= 3 AND k = 4 ORDER BY segment;
SELECT count(*) AS segment_rows FROM reco.segment_users('seg', 3);
SELECT segment, size, reco.to_array(mean) AS mean FROM reco.segments WHERE model_id = :seg_id ORDER BY segment;
-- best items of a segment: item factors . the segment's mean user factors (the members'
-- average score), best first, ties by item id.  Segment 1's mean is (2, 0.1, 0):
-- 101 -> 2, 104 -> 1.05, 102 -> 0.1, 103 -> 0, 105 -> -2
SELECT * FROM reco.segment_top_items('seg', 1);
SELECT * FROM reco.segment_top_items('seg', 1, 3);
-- segment 2's mean is (0, 2, 0): 102 -> 2, 104 -> 1, then 101, 103, 105 tie at 0 (by id)
SELECT * FROM reco.segment_top_items('seg', 2, 4);
-- segment 3's mean is (0, 0.1, 2): 103 -> 2, 102 -> 0.1, 104 -> 0.05
SELECT * FROM reco.segment_top_items('seg', 3, 3);
-- bad input, each with its SQLSTATE
SELECT outcome($$SELECT * FROM reco.segment_users(NULL, 3)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', NULL)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', 3, NULL)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', 0)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', -1)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', 13)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', 10001)$$);
SELECT outcome($$SELECT * FROM reco.segment_users('no_such_model', 3)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items(NULL, 1)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', NULL)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', 1, NULL)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', 1, 0)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', 0)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', 4)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('no_such_model', 1)$$);
-- k = 11, the number of distinct directions (users 1 (2, 0.2, 0) and 4 (1, 0.1, 0) point the
-- same way): they share a segment, every other user is alone; k = 12 = users is refused
SELECT array_agg(segment ORDER BY user_id) AS segments FROM reco.segment_users('seg', 11);
SELECT outcome($$SELECT * FROM reco.segment_users('seg', 12)$$);
-- users in fewer distinct directions than k (40 customers who each bought one of 4
-- products: 4 directions): k = 4 works, k = 5 is refused with the count seeding found
CREATE TABLE seg_dup AS SELECT u AS user_id, u % 4 AS item_id FROM generate_series(1, 40) AS u;
SELECT (reco.train('seg_dup', 'seg_dup', factors => 4, iterations => 3, regularization => 1)).version;
SELECT count(DISTINCT segment) AS segments, count(*) AS users FROM reco.segment_users('seg_dup', 4);
SELECT outcome($$SELECT * FROM reco.segment_users('seg_dup', 5)$$);
SELECT reco.drop_model('seg_dup') AS dropped;
DROP TABLE seg_dup;
-- k = 1: one segment of everyone
SELECT segment, count(*) FROM reco.segment_users('seg', 1) GROUP BY segment;
-- a new version has no segments until segment_users runs on it (55000); the
-- older version keeps its own
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
SELECT 'seg', 2, algorithm, params, n_users, n_items, n_interactions, factors, loss, 0
  FROM reco.models WHERE model_id = :seg_id RETURNING model_id AS seg2_id \gset
INSERT INTO reco.user_factors SELECT :seg2_id, user_id, factors, seen_items, seen_weights, user_key
  FROM reco.user_factors WHERE model_id = :seg_id;
INSERT INTO reco.item_factors SELECT :seg2_id, item_id, factors, popularity, item_key
  FROM reco.item_factors WHERE model_id = :seg_id;
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg', 1)$$);
SELECT count(*) AS rows FROM reco.segment_users('seg', 2);
SELECT model_id = :seg2_id AS newest, count(*) AS segments FROM reco.segments
 WHERE model_id IN (:seg_id, :seg2_id) GROUP BY model_id ORDER BY 1;
-- text ids: keys out of the _text forms; the bigint forms refuse a keyed side (42804)
INSERT INTO reco.models (name, version, algorithm, params, n_users, n_items, n_interactions,
                         factors, loss, train_seconds)
SELECT 'seg_text', 1, algorithm, '{"user_id_type": "text", "item_id_type": "text"}', n_users, n_items,
       n_interactions, factors, loss, 0
  FROM reco.models WHERE model_id = :seg_id RETURNING model_id AS segt_id \gset
INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights, user_key)
SELECT :segt_id, user_id, factors, '{}', '{}', 'cust-' || lpad(user_id::text, 2, '0')
  FROM reco.user_factors WHERE model_id = :seg_id;
INSERT INTO reco.item_factors (model_id, item_id, factors, popularity, item_key)
SELECT :segt_id, item_id - 100, factors, popularity, 'sku-' || item_id
  FROM reco.item_factors WHERE model_id = :seg_id;
SELECT segment, array_agg(user_id ORDER BY user_id) AS users
  FROM reco.segment_users_text('seg_text', 3) GROUP BY segment ORDER BY segment;
SELECT * FROM reco.segment_top_items_text('seg_text', 1, 3);
SELECT outcome($$SELECT * FROM reco.segment_users('seg_text', 3)$$);
SELECT outcome($$SELECT * FROM reco.segment_top_items('seg_text', 1)$$);
-- the _text forms on a bigint model: ids as their decimal text
SELECT * FROM reco.segment_top_items_text('seg', 2, 2);
SELECT count(*) AS rows, min(user_id) AS first FROM reco.segment_users_text('seg', 3);
-- drop_model removes every version's segments (the rows cascade from reco.models)
SELECT reco.drop_model('seg') AS dropped_versions, reco.drop_model('seg_text') AS dropped_text_versions;
SELECT count(*) AS segments_left FROM reco.segments WHERE model_id IN (:seg_id, :seg2_id, :segt_id);
DROP TABLE seg_a, seg_b;
