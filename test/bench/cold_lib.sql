-- test/bench/cold_lib.sql — the hashed folds and the ONE ranking metric of the cold-start
-- benchmarks (cold_items.sh, cold_users.sh): every method writes its scores into
-- cold.scores and cold.metrics() turns them into P@10, NDCG@10 and AUC the same way.

CREATE SCHEMA cold;

-- The hashed group 0..4 of an id: the first 8 hex digits of md5(salt || ':' || id) mod 5
-- (test/bench/cold_start_study.py computes the same in Python).
CREATE FUNCTION cold.grp(salt text, id bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (('x' || substr(md5(salt || ':' || id), 1, 8))::bit(32)::bigint % 5)::integer;

-- Every method's scores of its candidates per user (mode: 'cold' = the cold items only,
-- 'mixed' = every item not seen in training, 'users' = a cold user's ranking of all items).
CREATE TABLE cold.scores (method text, fold integer, mode text, user_id bigint, item_id bigint, score float8,
                          PRIMARY KEY (method, fold, mode, user_id, item_id));
-- The relevant (user, item) pairs of a fold (rated >= 4 in the held-out part).
CREATE TABLE cold.rel (fold integer, user_id bigint, item_id bigint, PRIMARY KEY (fold, user_id, item_id));
-- The cold items of a fold ("cold items in the top 10" of the mixed ranking).
CREATE TABLE cold.items (fold integer, item_id bigint, PRIMARY KEY (fold, item_id));
CREATE TABLE cold.results (method text, fold integer, mode text, users bigint, p10 float8, ndcg10 float8,
                           auc float8, cold_top10 float8, seconds float8, feature_seconds float8);

-- The metrics of one method's scores in one fold and mode, means over the users with at least one
-- relevant candidate and one non-relevant: P@10 and NDCG@10 of the order score desc, item_id
-- (binary relevance, NDCG normalised by min(10, relevant)), AUC = Mann-Whitney with mid-ranks for
-- ties, and the mean number of cold items in the top 10.
CREATE FUNCTION cold.metrics(m text, f integer, md text)
    RETURNS TABLE (users bigint, p10 float8, ndcg10 float8, auc float8, cold_top10 float8)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH s AS (
        SELECT s.user_id, s.item_id, s.score, (r.item_id IS NOT NULL) AS rel, (c.item_id IS NOT NULL) AS is_cold
          FROM cold.scores AS s
          LEFT JOIN cold.rel AS r ON r.fold = s.fold AND r.user_id = s.user_id AND r.item_id = s.item_id
          LEFT JOIN cold.items AS c ON c.fold = s.fold AND c.item_id = s.item_id
         WHERE s.method = m AND s.fold = f AND s.mode = md),
    ranked AS (
        SELECT user_id, rel, is_cold,
               row_number() OVER (PARTITION BY user_id ORDER BY score DESC, item_id) AS pos,
               (rank() OVER (PARTITION BY user_id ORDER BY score)
                + count(*) OVER (PARTITION BY user_id) + 1
                - rank() OVER (PARTITION BY user_id ORDER BY score DESC)) / 2.0 AS midrank
          FROM s),
    per AS (
        SELECT user_id, count(*) AS n, count(*) FILTER (WHERE rel) AS nrel,
               count(*) FILTER (WHERE rel AND pos <= 10) AS hits,
               coalesce(sum(ln(2) / ln(pos + 1)) FILTER (WHERE rel AND pos <= 10), 0) AS dcg,
               sum(midrank) FILTER (WHERE rel) AS ranksum,
               count(*) FILTER (WHERE is_cold AND pos <= 10) AS cold_top
          FROM ranked GROUP BY user_id)
    SELECT count(*), avg(hits / 10.0),
           avg(dcg / (SELECT sum(ln(2) / ln(i + 1)) FROM generate_series(1, least(nrel, 10)) AS i)),
           avg((ranksum - nrel * (nrel + 1) / 2.0) / (nrel * (n - nrel))),
           avg(cold_top)
      FROM per
     WHERE nrel > 0 AND n > nrel;
END;

-- Records the metrics of (method, fold, mode) in cold.results and drops its scores.
CREATE PROCEDURE cold.record(m text, f integer, md text, seconds float8 DEFAULT NULL, feature_seconds float8 DEFAULT NULL)
    LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO cold.results
    SELECT m, f, md, x.users, x.p10, x.ndcg10, x.auc, x.cold_top10, seconds, feature_seconds
      FROM cold.metrics(m, f, md) AS x;
    DELETE FROM cold.scores WHERE method = m AND fold = f AND mode = md;
END;
