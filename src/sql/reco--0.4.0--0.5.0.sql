/* reco 0.4.0 -> 0.5.0: explore and diversify
 *
 * Brings a 0.4.0 database to exactly the catalog that the full install
 * script reco--0.5.0.sql creates (test/sessions/upgrade.sh compares them).
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.5.0'" to load this file. \quit

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
COMMENT ON COLUMN reco.segments.converged IS 'Whether the last iteration changed no assignment (false: stopped at the cap)';

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
