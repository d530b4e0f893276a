/* reco 0.6.0 -> 0.7.0: cold start from content and profile features
 *
 * Brings a 0.6.0 database to exactly the catalog that the full install
 * script reco--0.7.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.7.0'" to load this file. \quit

-- Cold start (issue 14): the mapping from features to the factor space of
-- each version, one row per feature; see reco.train's item_features.
CREATE TABLE reco.feature_weights (
    model_id bigint NOT NULL,
    side     text NOT NULL CHECK (side IN ('item', 'user')),
    feature  text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('intercept', 'sparse', 'dense')),
    weights  bytea NOT NULL,
    PRIMARY KEY (model_id, side, feature)
);
ALTER TABLE reco.feature_weights ALTER COLUMN weights SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('reco.feature_weights', '');
COMMENT ON TABLE reco.feature_weights IS
    'The mapping from item (user) features to factors learned with each version: a new entity''s factors are the intercept plus each feature''s weights times its value';
COMMENT ON COLUMN reco.feature_weights.feature IS
    'A sparse feature (''category:shoes''), the column name of a dense embedding, or '''' for the intercept';
COMMENT ON COLUMN reco.feature_weights.weights IS
    'intercept and sparse: factors x 4 bytes; dense: dimensions x factors x 4 bytes (dimension-major); little-endian float32';

ALTER TABLE reco.item_factors ADD COLUMN features jsonb;
ALTER TABLE reco.user_factors ADD COLUMN features jsonb;
COMMENT ON COLUMN reco.item_factors.features IS
    'For an item placed from its features (no interactions): the features it was placed from, {"feature": value, "embedding column": [...]}; NULL for an item learned from interactions';
COMMENT ON COLUMN reco.user_factors.features IS
    'For a user placed from a profile (no interactions): the profile it was placed from, as in item_factors.features; NULL for a user learned from interactions';

-- Serving cold entities (issue 14): recommend, recommend_for_items(_text) and
-- similar_items gain include_new (recommend_for_items also profile), so
-- their old signatures are dropped and the new ones created: grants on
-- them must be given again (README, "Upgrading").
DROP FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[], text, real);
DROP FUNCTION reco.recommend(text, text, integer, boolean, text[], text[], text, real);
DROP FUNCTION reco.recommend(text, uuid, integer, boolean, text[], text[], text, real);
DROP FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[], text, real);
DROP FUNCTION reco.recommend_for_items_text(text, text[], real[], integer, boolean, text[], text[], text, real);
DROP FUNCTION reco.similar_items(text, bigint, integer, bigint[]);
DROP FUNCTION reco.similar_items(text, text, integer, text[]);
DROP FUNCTION reco.similar_items(text, uuid, integer, text[]);

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      bigint,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0,
    include_new  boolean DEFAULT true
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[], text, real, boolean) IS
    'The n best items for a user of the model''s newest version, best first (exact scores, ties by item id); a NULL or unknown user gets the most popular items (score = popularity) unless fallback is ''none''; diversity > 0 (up to 1) re-ranks the exact top candidates by Maximal Marginal Relevance (cosine of the item factors), rows in pick order with their own scores; include_new false leaves out items placed from features and serves a user placed from a profile as an unknown user';

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      text,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0,
    include_new  boolean DEFAULT true
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, text, integer, boolean, text[], text[], text, real, boolean) IS
    'reco.recommend for a user id given as text (read as the model''s user id type); item ids come back as text';

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      uuid,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0,
    include_new  boolean DEFAULT true
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, uuid, integer, boolean, text[], text[], text, real, boolean) IS
    'reco.recommend for a uuid user id; item ids come back as text';

CREATE FUNCTION reco.recommend_for_items(
    model        text,
    items        bigint[],
    weights      real[] DEFAULT NULL,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0,
    include_new  boolean DEFAULT true,
    profile      jsonb DEFAULT NULL
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[], text, real, boolean, jsonb) IS
    'The n best items for an anonymous user or a cart: the interactions are folded in with training''s exact least-squares step; a cart with no known item gets the most popular items (score = popularity) unless fallback is ''none''; diversity re-ranks as in reco.recommend; include_new false leaves out items placed from features; a profile (user features) centres the fold-in on its mapped factors (an empty cart gets exactly them)';

CREATE FUNCTION reco.recommend_for_items_text(
    model        text,
    items        text[],
    weights      real[] DEFAULT NULL,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular',
    diversity    real DEFAULT 0,
    include_new  boolean DEFAULT true,
    profile      jsonb DEFAULT NULL
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items_text(text, text[], real[], integer, boolean, text[], text[], text, real, boolean, jsonb) IS
    'reco.recommend_for_items with item ids given and returned as text (read as the model''s item id type)';

CREATE FUNCTION reco.similar_items(
    model      text,
    item_id    bigint,
    n          integer DEFAULT 10,
    candidates  bigint[] DEFAULT NULL,
    include_new boolean DEFAULT true
) RETURNS TABLE (item_id bigint, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_items(text, bigint, integer, bigint[], boolean) IS
    'The n items most similar to an item (cosine of the factors), the item itself excluded; include_new false leaves out items placed from features';

CREATE FUNCTION reco.similar_items(
    model      text,
    item_id    text,
    n          integer DEFAULT 10,
    candidates  text[] DEFAULT NULL,
    include_new boolean DEFAULT true
) RETURNS TABLE (item_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_items(text, text, integer, text[], boolean) IS
    'reco.similar_items for an item id given as text (read as the model''s item id type); item ids come back as text';

CREATE FUNCTION reco.similar_items(
    model      text,
    item_id    uuid,
    n          integer DEFAULT 10,
    candidates  text[] DEFAULT NULL,
    include_new boolean DEFAULT true
) RETURNS TABLE (item_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_items(text, uuid, integer, text[], boolean) IS
    'reco.similar_items for a uuid item id; item ids come back as text';

---------------------------------------------------------------------------
-- Cold start: serving entities placed from features (0.7.0)
---------------------------------------------------------------------------

-- place_item / place_user write the factor tables under the model's lock
-- (as refresh_items does): VOLATILE and PARALLEL UNSAFE.
CREATE FUNCTION reco.place_item(model text, item_id bigint, features jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, bigint, jsonb) IS
    'Places one item of the served version from its features now (the version''s item mapping); a new id is added, one placed before replaced, one learned from interactions refused; every backend serves it from its next call; returns its factors';

CREATE FUNCTION reco.place_item(model text, item_id text, features jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, text, jsonb) IS
    'reco.place_item for an item id given as text (read as the model''s item id type; a new key gets the next code)';

CREATE FUNCTION reco.place_item(model text, item_id uuid, features jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, uuid, jsonb) IS
    'reco.place_item for a uuid item id';

CREATE FUNCTION reco.place_user(model text, user_id bigint, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_user(text, bigint, jsonb) IS
    'Places one user of the served version from a profile now (the version''s user mapping), so reco.recommend serves the user from it; a new id is added, one placed before replaced, one learned from interactions refused; returns the user''s factors';

CREATE FUNCTION reco.place_user(model text, user_id text, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_user(text, text, jsonb) IS
    'reco.place_user for a user id given as text (read as the model''s user id type; a new key gets the next code)';

CREATE FUNCTION reco.place_user(model text, user_id uuid, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_user(text, uuid, jsonb) IS
    'reco.place_user for a uuid user id';

CREATE FUNCTION reco.similar_to_features(
    model       text,
    features    jsonb,
    n           integer DEFAULT 10,
    candidates  bigint[] DEFAULT NULL,
    include_new boolean DEFAULT true
) RETURNS TABLE (item_id bigint, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_to_features'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_to_features(text, jsonb, integer, bigint[], boolean) IS
    'The n items most similar (cosine of the factors) to a draft item given only by its features, mapped with the version''s item mapping';

CREATE FUNCTION reco.similar_to_features_text(
    model       text,
    features    jsonb,
    n           integer DEFAULT 10,
    candidates  text[] DEFAULT NULL,
    include_new boolean DEFAULT true
) RETURNS TABLE (item_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_to_features'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_to_features_text(text, jsonb, integer, text[], boolean) IS
    'reco.similar_to_features with item ids given and returned as text';

CREATE FUNCTION reco.explain_features(model text, user_id bigint, item_id bigint)
    RETURNS TABLE (side text, feature text, contribution real)
    AS 'MODULE_PATHNAME', 'reco_explain_features'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explain_features(text, bigint, bigint) IS
    'When the item was placed from features (else the user from a profile), the score split over those features (the intercept as feature ''''); the contributions sum to the score';

CREATE FUNCTION reco.explain_features(model text, user_id text, item_id text)
    RETURNS TABLE (side text, feature text, contribution real)
    AS 'MODULE_PATHNAME', 'reco_explain_features'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explain_features(text, text, text) IS
    'reco.explain_features with ids given as text (read as the model''s id types)';

CREATE FUNCTION reco.explain_features(model text, user_id uuid, item_id uuid)
    RETURNS TABLE (side text, feature text, contribution real)
    AS 'MODULE_PATHNAME', 'reco_explain_features'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.explain_features(text, uuid, uuid) IS
    'reco.explain_features for uuid ids';

---------------------------------------------------------------------------
-- Shared copies freed at commit (issue 18)
---------------------------------------------------------------------------

-- With reco preloaded, a served version's matrices have one shared copy
-- (reco.shared_cache_info).  These triggers record, in the backend, every
-- version deleted (drop_model, pruning, a losing tune trial) and every
-- version side given a new key (forget_user, refresh_users/refresh_items:
-- a new row count or generation); its copies are unpublished when the
-- transaction commits (src/shared_unpublish.c), nothing on abort.
CREATE FUNCTION reco_internal.unpublish_shared_copies() RETURNS trigger
    AS 'MODULE_PATHNAME', 'reco_unpublish_shared_copies'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.unpublish_shared_copies() IS
    'Trigger on reco.models: the old row''s shared copies (argument all, items or users) are unpublished when the transaction commits';
CREATE TRIGGER unpublish_dropped AFTER DELETE ON reco.models
    FOR EACH ROW EXECUTE FUNCTION reco_internal.unpublish_shared_copies('all');
CREATE TRIGGER unpublish_items AFTER UPDATE ON reco.models
    FOR EACH ROW WHEN (OLD.n_items IS DISTINCT FROM NEW.n_items OR OLD.factors IS DISTINCT FROM NEW.factors
                       OR OLD.stats -> 'item_generation' IS DISTINCT FROM NEW.stats -> 'item_generation')
    EXECUTE FUNCTION reco_internal.unpublish_shared_copies('items');
CREATE TRIGGER unpublish_users AFTER UPDATE ON reco.models
    FOR EACH ROW WHEN (OLD.n_users IS DISTINCT FROM NEW.n_users OR OLD.factors IS DISTINCT FROM NEW.factors
                       OR OLD.stats -> 'user_generation' IS DISTINCT FROM NEW.stats -> 'user_generation')
    EXECUTE FUNCTION reco_internal.unpublish_shared_copies('users');
COMMENT ON TRIGGER unpublish_dropped ON reco.models IS
    'A deleted version''s shared copies are unpublished at commit';
COMMENT ON TRIGGER unpublish_items ON reco.models IS
    'A version whose items changed (refresh_items): its old items copy is unpublished at commit';
COMMENT ON TRIGGER unpublish_users ON reco.models IS
    'A version whose users changed (forget_user, refresh_users): its old users copy is unpublished at commit';

-- Training progress inside a pass (issue 18): reco.training_progress gains
-- chunks_done and chunks_total (the function's OUT columns change, so the
-- view and the function are dropped and created again, with their grant).
DROP VIEW reco.training_progress;
DROP FUNCTION reco_internal.training_progress();
CREATE FUNCTION reco_internal.training_progress(
    OUT pid             integer,
    OUT datid           oid,
    OUT model           text,
    OUT algorithm       text,
    OUT phase           text,
    OUT iteration       integer,
    OUT iterations      integer,
    OUT loss            double precision,
    OUT rows_read       bigint,
    OUT started_at      timestamptz,
    OUT elapsed_seconds double precision,
    OUT chunks_done     bigint,
    OUT chunks_total    bigint
) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'reco_training_progress'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION reco_internal.training_progress() IS
    'One row per backend that is training (empty unless reco is in shared_preload_libraries); another role''s training shows only its pid and database';

CREATE VIEW reco.training_progress AS
    SELECT p.pid, p.datid, d.datname, p.model, p.algorithm, p.phase, p.iteration, p.iterations,
           p.loss, p.rows_read, p.started_at, p.elapsed_seconds, p.chunks_done, p.chunks_total
      FROM reco_internal.training_progress() AS p
      LEFT JOIN pg_catalog.pg_database AS d ON d.oid OPERATOR(pg_catalog.=) p.datid;
COMMENT ON VIEW reco.training_progress IS
    'Trainings running now, one row per backend, like pg_stat_progress_create_index: phase (reading, waiting, building, iterating, final pass, storing), iteration of iterations, last loss, rows read, elapsed seconds, chunks of rows done of the current pass; empty unless reco is in shared_preload_libraries';
GRANT SELECT ON reco.training_progress TO PUBLIC;
