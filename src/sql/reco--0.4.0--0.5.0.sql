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
