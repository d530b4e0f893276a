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
    AS 'MODULE_PATHNAME', 'reco_place_item'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, bigint, jsonb) IS
    'Places one item of the served version from its features now (the version''s item mapping); a new id is added, one placed before replaced, one learned from interactions refused; every backend serves it from its next call; returns its factors';

CREATE FUNCTION reco.place_item(model text, item_id text, features jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place_item'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, text, jsonb) IS
    'reco.place_item for an item id given as text (read as the model''s item id type; a new key gets the next code)';

CREATE FUNCTION reco.place_item(model text, item_id uuid, features jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place_item'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_item(text, uuid, jsonb) IS
    'reco.place_item for a uuid item id';

CREATE FUNCTION reco.place_user(model text, user_id bigint, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place_user'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_user(text, bigint, jsonb) IS
    'Places one user of the served version from a profile now (the version''s user mapping), so reco.recommend serves the user from it; a new id is added, one placed before replaced, one learned from interactions refused; returns the user''s factors';

CREATE FUNCTION reco.place_user(model text, user_id text, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place_user'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.place_user(text, text, jsonb) IS
    'reco.place_user for a user id given as text (read as the model''s user id type; a new key gets the next code)';

CREATE FUNCTION reco.place_user(model text, user_id uuid, profile jsonb) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_place_user'
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
