/* reco 0.4.0 -> 0.5.0: explore and diversify
 *
 * Brings a 0.4.0 database to exactly the catalog that the full install
 * script reco--0.5.0.sql creates (test/sessions/upgrade.sh compares them).
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.5.0'" to load this file. \quit

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
