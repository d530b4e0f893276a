/* reco 0.4.0 -> 0.5.0: explore and diversify
 *
 * Brings a 0.4.0 database to exactly the catalog that the full install
 * script reco--0.5.0.sql creates (test/sessions/upgrade.sh compares them).
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.5.0'" to load this file. \quit

---------------------------------------------------------------------------
-- Diversity: recommend (long form, bigint, text and uuid ids),
-- recommend_for_items(_text) and recommend_all(_text) gain a last argument
-- `diversity real DEFAULT 0` (MMR re-ranking).  A new signature: the old
-- function is dropped and the new one created, so a grant of EXECUTE on it
-- must be made again and a view calling it must be dropped first (README,
-- "Backup, restore and upgrade").
---------------------------------------------------------------------------

DROP FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[], text);
DROP FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[], text);
DROP FUNCTION reco.recommend_all(text, integer, bigint[], boolean);
DROP FUNCTION reco.recommend(text, text, integer, boolean, text[], text[], text);
DROP FUNCTION reco.recommend(text, uuid, integer, boolean, text[], text[], text);
DROP FUNCTION reco.recommend_for_items_text(text, text[], real[], integer, boolean, text[], text[], text);
DROP FUNCTION reco.recommend_all_text(text, integer, text[], boolean);

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      bigint,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[], text, real) IS
    'The n best items for a user of the model''s newest version, best first (exact scores, ties by item id); a NULL or unknown user gets the most popular items (score = popularity) unless fallback is ''none''; diversity > 0 (up to 1) re-ranks the exact top candidates by Maximal Marginal Relevance (cosine of the item factors), rows in pick order with their own scores';

CREATE FUNCTION reco.recommend_for_items(
    model        text,
    items        bigint[],
    weights      real[] DEFAULT NULL,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[], text, real) IS
    'The n best items for an anonymous user or a cart: the interactions are folded in with training''s exact least-squares step; a cart with no known item gets the most popular items (score = popularity) unless fallback is ''none''; diversity re-ranks as in reco.recommend';

CREATE FUNCTION reco.recommend_all(
    model        text,
    n            integer DEFAULT 10,
    users        bigint[] DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    diversity    real DEFAULT 0
) RETURNS TABLE (user_id bigint, rank integer, item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_all'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10000;
COMMENT ON FUNCTION reco.recommend_all(text, integer, bigint[], boolean, real) IS
    'Batch: the n best items of every user (or of the listed users), ranked exactly as reco.recommend ranks them; diversity re-ranks each user''s list as reco.recommend does';

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      text,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, text, integer, boolean, text[], text[], text, real) IS
    'reco.recommend for a user id given as text (read as the model''s user id type); item ids come back as text';

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      uuid,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, uuid, integer, boolean, text[], text[], text, real) IS
    'reco.recommend for a uuid user id; item ids come back as text';

CREATE FUNCTION reco.recommend_for_items_text(
    model        text,
    items        text[],
    weights      real[] DEFAULT NULL,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items_text(text, text[], real[], integer, boolean, text[], text[], text, real) IS
    'reco.recommend_for_items with item ids given and returned as text (read as the model''s item id type)';

CREATE FUNCTION reco.recommend_all_text(
    model        text,
    n            integer DEFAULT 10,
    users        text[] DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    diversity    real DEFAULT 0
) RETURNS TABLE (user_id text, rank integer, item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_all'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10000;
COMMENT ON FUNCTION reco.recommend_all_text(text, integer, text[], boolean, real) IS
    'reco.recommend_all with user ids given and user and item ids returned as text (read as the model''s id types)';

---------------------------------------------------------------------------
-- Exploration (issue 15)
---------------------------------------------------------------------------

-- Exploratory recommendations: the user's n items ranked by a Thompson draw
-- from the posterior N(x_u, sigma^2 A_u^-1) (A_u the user's exact system),
-- with a fraction epsilon of the slots given to under-exposed items, in
-- display order.  VOLATILE: without a seed every call draws afresh; PARALLEL
-- SAFE: the generator is the call's own (seed, user), no shared state.
-- sigma => 0, epsilon => 0 is reco.recommend's list.  The text and uuid
-- forms read ids as the model's id types and return them as text.
CREATE FUNCTION reco.explore(
    model        text,
    user_id      bigint,
    n            integer DEFAULT 10,
    seed         bigint DEFAULT NULL,
    sigma        real DEFAULT 0.5,
    epsilon      real DEFAULT 0.1,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL
) RETURNS TABLE (item_id bigint, score real, explored boolean)
    AS 'MODULE_PATHNAME', 'reco_explore'
    LANGUAGE C VOLATILE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explore(text, bigint, integer, bigint, real, real, boolean, bigint[], bigint[]) IS
    'Exploratory recommendations for a user: items ranked by a Thompson draw from the user''s posterior (scale sigma) with a fraction epsilon of the slots given to less popular items; explored = not in reco.recommend''s list; a seed makes the call reproducible; an unknown user gets the best-sellers with epsilon-slots';

CREATE FUNCTION reco.explore(
    model        text,
    user_id      text,
    n            integer DEFAULT 10,
    seed         bigint DEFAULT NULL,
    sigma        real DEFAULT 0.5,
    epsilon      real DEFAULT 0.1,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL
) RETURNS TABLE (item_id text, score real, explored boolean)
    AS 'MODULE_PATHNAME', 'reco_explore'
    LANGUAGE C VOLATILE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explore(text, text, integer, bigint, real, real, boolean, text[], text[]) IS
    'reco.explore for a user id given as text (read as the model''s user id type); item ids come back as text';

CREATE FUNCTION reco.explore(
    model        text,
    user_id      uuid,
    n            integer DEFAULT 10,
    seed         bigint DEFAULT NULL,
    sigma        real DEFAULT 0.5,
    epsilon      real DEFAULT 0.1,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL
) RETURNS TABLE (item_id text, score real, explored boolean)
    AS 'MODULE_PATHNAME', 'reco_explore'
    LANGUAGE C VOLATILE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explore(text, uuid, integer, bigint, real, real, boolean, text[], text[]) IS
    'reco.explore for a uuid user id; item ids come back as text';

---------------------------------------------------------------------------
-- Evaluation: reco.evaluate and reco_internal.evaluate_pairs gain columns
-- (intra_list_diversity, novelty, gini) after the existing ones, and the
-- arguments diversity, explore, sigma, epsilon and seed: a new signature and
-- result type, so both are dropped and created again (EXECUTE is granted to
-- PUBLIC again: README, "Backup, restore and upgrade").
---------------------------------------------------------------------------

DROP FUNCTION reco.evaluate(text, text, integer, text, text);
DROP FUNCTION reco_internal.evaluate_pairs(text, bigint[], bigint[], integer);

-- The test pairs are read as the served version's id types (a text or uuid
-- side from the ids' text form, a uuid canonical) and a key becomes its code
-- in that version; an unknown key gets a negative code no model row has, so
-- the metrics are those of the bigint model whose ids are the codes.
CREATE FUNCTION reco.evaluate(
    model       text,
    test_source text,
    k           integer DEFAULT 10,
    user_col    text DEFAULT 'user_id',
    item_col    text DEFAULT 'item_id',
    diversity   real DEFAULT 0,
    explore     boolean DEFAULT false,
    sigma       real DEFAULT 0.5,
    epsilon     real DEFAULT 0.1,
    seed        bigint DEFAULT 42
) RETURNS TABLE (
    precision_at_k double precision,
    recall_at_k double precision,
    map_at_k double precision,
    ndcg_at_k double precision,
    capped_precision double precision,
    auc double precision,
    coverage double precision,
    users_evaluated bigint,
    users_unknown bigint,
    intra_list_diversity double precision,
    novelty double precision,
    gini double precision
)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $evaluate$
DECLARE
    from_clause text;
    test_users bigint[];
    test_items bigint[];
    served bigint;
    user_type text;
    item_type text;
BEGIN
    IF model IS NULL OR test_source IS NULL OR k IS NULL OR user_col IS NULL OR item_col IS NULL
       OR diversity IS NULL OR explore IS NULL OR sigma IS NULL OR epsilon IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'model, test_source, k, user_col, item_col, diversity, explore, sigma, epsilon and seed must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    from_clause := reco_internal.source_from_item(test_source);
    -- the served version (evaluate_pairs reports a missing model)
    SELECT m.model_id, m.params ->> 'user_id_type', m.params ->> 'item_id_type'
      INTO served, user_type, item_type
      FROM reco.models AS m WHERE m.name = evaluate.model ORDER BY m.version DESC LIMIT 1;
    -- USING makes EXECUTE prepare the text: a source smuggling in a second statement fails
    EXECUTE pg_catalog.format(
        'SELECT COALESCE(pg_catalog.array_agg(u ORDER BY u, i), $1), COALESCE(pg_catalog.array_agg(i ORDER BY u, i), $1)
           FROM (SELECT %s AS u, %s AS i
                   FROM (SELECT DISTINCT %s AS u, %s AS i FROM %s AS src) AS pairs %s %s
                  WHERE pairs.u IS NOT NULL AND pairs.i IS NOT NULL) AS coded',
        CASE WHEN user_type IN ('text', 'uuid')
             THEN 'COALESCE(fu.user_id, -pg_catalog.dense_rank() OVER (ORDER BY pairs.u COLLATE "C"))'
             ELSE 'pairs.u' END,
        CASE WHEN item_type IN ('text', 'uuid')
             THEN 'COALESCE(fi.item_id, -pg_catalog.dense_rank() OVER (ORDER BY pairs.i COLLATE "C"))'
             ELSE 'pairs.i' END,
        pg_catalog.format(CASE user_type WHEN 'text' THEN 'src.%I::text' WHEN 'uuid' THEN 'src.%I::text::uuid::text'
                                         ELSE 'src.%I::bigint' END, user_col),
        pg_catalog.format(CASE item_type WHEN 'text' THEN 'src.%I::text' WHEN 'uuid' THEN 'src.%I::text::uuid::text'
                                         ELSE 'src.%I::bigint' END, item_col),
        from_clause,
        CASE WHEN user_type IN ('text', 'uuid')
             THEN 'LEFT JOIN reco.user_factors AS fu ON fu.model_id = $2 AND fu.user_key = pairs.u' END,
        CASE WHEN item_type IN ('text', 'uuid')
             THEN 'LEFT JOIN reco.item_factors AS fi ON fi.model_id = $2 AND fi.item_key = pairs.i' END)
        INTO test_users, test_items
        USING '{}'::bigint[], served;
    RETURN QUERY SELECT * FROM reco_internal.evaluate_pairs(model, test_users, test_items, k, diversity,
                                                             explore, sigma, epsilon, seed);
END
$evaluate$;
COMMENT ON FUNCTION reco.evaluate(text, text, integer, text, text, real, boolean, real, real, bigint) IS
    'Ranking and beyond-accuracy metrics (intra-list diversity, novelty, Gini of exposure) of the served model version on held-out (user, item) pairs (ids of the model''s id types), for the lists of reco.recommend with a diversity or of reco.explore with (sigma, epsilon, seed)';

CREATE FUNCTION reco_internal.evaluate_pairs(
    model text, users bigint[], items bigint[], k integer,
    diversity real DEFAULT 0, explore boolean DEFAULT false, sigma real DEFAULT 0.5,
    epsilon real DEFAULT 0.1, seed bigint DEFAULT 42,
    OUT precision_at_k double precision,
    OUT recall_at_k double precision,
    OUT map_at_k double precision,
    OUT ndcg_at_k double precision,
    OUT capped_precision double precision,
    OUT auc double precision,
    OUT coverage double precision,
    OUT users_evaluated bigint,
    OUT users_unknown bigint,
    OUT intra_list_diversity double precision,
    OUT novelty double precision,
    OUT gini double precision
) RETURNS record
    AS 'MODULE_PATHNAME', 'reco_evaluate_pairs'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco_internal.evaluate_pairs(text, bigint[], bigint[], integer, real, boolean, real, real, bigint) IS
    'Ranking and beyond-accuracy metrics of the served model version on held-out pairs given as two parallel arrays sorted by user';

---------------------------------------------------------------------------
-- Customer segments
---------------------------------------------------------------------------

-- reco.segment_users clusters the served version's users (seeded cosine
-- k-means, src/segments.c) and keeps one row per segment here, replacing that
-- version's previous segmentation; the rows of a version go with it
-- (drop_model, and the pruning of old versions by reco.train, through the
-- cascade).  Centroids are aggregates: reco.forget_user leaves them as they
-- are (run reco.segment_users again to remove a forgotten user's share).
CREATE TABLE reco.segments (
    model_id   bigint NOT NULL REFERENCES reco.models (model_id) ON DELETE CASCADE,
    segment    integer NOT NULL,
    size       bigint NOT NULL CHECK (size >= 1),
    centroid   bytea NOT NULL,
    mean       bytea NOT NULL,
    k          integer NOT NULL CHECK (k BETWEEN 1 AND 10000),  -- RECO_MAX_SEGMENTS
    seed       bigint NOT NULL,
    iterations integer NOT NULL,
    converged  boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (model_id, segment),
    CONSTRAINT segments_segment_check CHECK (segment BETWEEN 1 AND k)
);
SELECT pg_catalog.pg_extension_config_dump('reco.segments', '');
COMMENT ON TABLE reco.segments IS
    'Customer segments of a model version, one row per segment, written by reco.segment_users';
COMMENT ON COLUMN reco.segments.segment IS
    'Segment number, 1 .. k: by size descending, then by the smallest member user id (code for text and uuid ids)';
COMMENT ON COLUMN reco.segments.size IS 'Number of users in the segment';
COMMENT ON COLUMN reco.segments.centroid IS
    'Unit-norm centroid of the members'' normalized factors (cosine k-means), factors x 4 bytes: little-endian float32, no header';
COMMENT ON COLUMN reco.segments.mean IS
    'Mean of the members'' raw user factors (same format); reco.segment_top_items scores items with it';
COMMENT ON COLUMN reco.segments.iterations IS 'Lloyd iterations run (at most 100)';
COMMENT ON COLUMN reco.segments.converged IS 'Whether the stopping rule ended the iterations (no user moved, or at most 0.5 % moved with the centroids and the objective settled); false: stopped at the cap';

CREATE FUNCTION reco.segment_users(
    model text,
    k     integer,
    seed  bigint DEFAULT 42
) RETURNS TABLE (user_id bigint, segment integer, distance real)
    AS 'MODULE_PATHNAME', 'reco_segment_users'
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10000;
COMMENT ON FUNCTION reco.segment_users(text, integer, bigint) IS
    'Clusters the users of the model''s newest version into k segments (seeded cosine k-means++), stores the segments in reco.segments and returns every user''s segment and cosine distance to its centroid';

CREATE FUNCTION reco.segment_users_text(
    model text,
    k     integer,
    seed  bigint DEFAULT 42
) RETURNS TABLE (user_id text, segment integer, distance real)
    AS 'MODULE_PATHNAME', 'reco_segment_users'
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10000;
COMMENT ON FUNCTION reco.segment_users_text(text, integer, bigint) IS
    'reco.segment_users with the user ids returned as text (text and uuid ids)';

CREATE FUNCTION reco.segment_top_items(
    model   text,
    segment integer,
    n       integer DEFAULT 10
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_segment_top_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.segment_top_items(text, integer, integer) IS
    'The n items with the best average score over a stored segment''s members (item factors times the segment''s mean user factors), best first';

CREATE FUNCTION reco.segment_top_items_text(
    model   text,
    segment integer,
    n       integer DEFAULT 10
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_segment_top_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.segment_top_items_text(text, integer, integer) IS
    'reco.segment_top_items with the item ids returned as text (text and uuid ids)';
