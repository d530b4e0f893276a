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

---------------------------------------------------------------------------
-- Training with features (issue 14, src/feature_train.c): reco.train's long
-- form gains item_features, user_features and feature_regularization (a
-- changed signature: dropped and created again); drop_model and reco.tune's
-- trial cleanup delete a version's feature_weights rows with it.
DROP FUNCTION reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz, real, real, real);
-- The long form: every argument is a reco.fit option or a column name; it
-- passes them all to the options form.  The argument defaults are reco.fit's
-- own (RECO_DEFAULT_ in src/reco_limits.h); NULL is the algorithm's default,
-- for the options whose default depends on the algorithm or that apply to
-- only some algorithms.  item_features and user_features (0.7.0, cold
-- start) are lists of feature sources, feature_regularization the penalty of
-- their mapping to factors (NULL: RECO_DEFAULT_FEATURE_REGULARIZATION).
CREATE FUNCTION reco.train(
    model          text,
    source         text,
    user_col       text DEFAULT 'user_id',
    item_col       text DEFAULT 'item_id',
    weight_col     text DEFAULT NULL,
    algorithm      text DEFAULT 'ials',
    factors        integer DEFAULT 64,
    regularization real DEFAULT NULL,
    alpha          real DEFAULT NULL,
    iterations     integer DEFAULT NULL,
    seed           bigint DEFAULT 42,
    cg_steps       integer DEFAULT NULL,
    solver         text DEFAULT NULL,
    threads        integer DEFAULT NULL,
    keep_versions  integer DEFAULT 2,
    time_col       text DEFAULT NULL,
    half_life      interval DEFAULT NULL,
    as_of          timestamptz DEFAULT NULL,
    learning_rate  real DEFAULT NULL,
    reg_exponent   real DEFAULT NULL,
    unobserved_weight real DEFAULT NULL,
    item_features  text[] DEFAULT NULL,
    user_features  text[] DEFAULT NULL,
    feature_regularization real DEFAULT NULL,
    feature_mapping text DEFAULT NULL
) RETURNS reco.models
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $train$
BEGIN
    IF model IS NULL OR source IS NULL OR user_col IS NULL OR item_col IS NULL THEN
        RAISE EXCEPTION 'model, source, user_col and item_col must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- reco.train(m, s, '{...}') resolves here (an untyped literal is text, not jsonb)
    IF pg_catalog.left(pg_catalog.ltrim(user_col), 1) OPERATOR(pg_catalog.=) '{' THEN
        RAISE EXCEPTION 'user_col "%" is not a column name but looks like an options object', user_col
            USING ERRCODE = '22023',
                  HINT = 'For the options form write options => ''{...}'' or pass a jsonb value: an untyped string as third argument is user_col.';
    END IF;
    RETURN reco.train(model, source, pg_catalog.jsonb_build_object(
        'user_col', user_col, 'item_col', item_col, 'weight_col', weight_col,
        'algorithm', algorithm, 'factors', factors, 'regularization', regularization,
        'alpha', alpha, 'iterations', iterations, 'seed', seed, 'cg_steps', cg_steps,
        'solver', solver, 'threads', threads, 'keep_versions', keep_versions,
        'time_col', time_col, 'half_life', half_life, 'as_of', as_of,
        'learning_rate', learning_rate, 'reg_exponent', reg_exponent,
        'unobserved_weight', unobserved_weight, 'item_features', item_features,
        'user_features', user_features, 'feature_regularization', feature_regularization, 'feature_mapping', feature_mapping));
END
$train$;
COMMENT ON FUNCTION reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz, real, real, real, text[], text[], real, text) IS
    'Trains a new model version from a table, view or query (a wrapper of the reco.fit aggregate)';


CREATE OR REPLACE FUNCTION reco.drop_model(name text) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $drop$
DECLARE
    dropped integer;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- a training of this name that is storing now commits first, then is dropped too
    PERFORM reco.lock_model(name);
    DELETE FROM reco.item_factors AS f USING reco.models AS m
     WHERE m.name = drop_model.name AND f.model_id = m.model_id;
    DELETE FROM reco.user_factors AS f USING reco.models AS m
     WHERE m.name = drop_model.name AND f.model_id = m.model_id;
    -- only versions trained with features have a mapping (a role that never
    -- trained with features needs no right on reco.feature_weights)
    IF EXISTS (SELECT FROM reco.models AS m WHERE m.name = drop_model.name
                  AND m.params OPERATOR(pg_catalog.?|) ARRAY['item_features', 'user_features']) THEN
        DELETE FROM reco.feature_weights AS f USING reco.models AS m
         WHERE m.name = drop_model.name AND f.model_id = m.model_id;
    END IF;
    DELETE FROM reco.models AS m WHERE m.name = drop_model.name;
    GET DIAGNOSTICS dropped = ROW_COUNT;
    IF dropped = 0 THEN
        RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = '42704';
    END IF;
    RETURN dropped;
END
$drop$;
COMMENT ON FUNCTION reco.drop_model(text) IS
    'Removes every version of a model (its models rows, all its factor rows and feature mappings); returns the number of versions';

CREATE OR REPLACE FUNCTION reco.tune(
    model        text,
    source       text,
    test_source  text,
    grid         jsonb,
    metric       text DEFAULT 'ndcg_at_k',
    k            integer DEFAULT 10,
    trials       integer DEFAULT NULL,
    seed         bigint DEFAULT 42,
    base_options jsonb DEFAULT '{}',
    user_col     text DEFAULT 'user_id',
    item_col     text DEFAULT 'item_id',
    weight_col   text DEFAULT NULL
) RETURNS TABLE (
    trial integer,
    options jsonb,
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
    gini double precision,
    train_seconds double precision,
    seconds double precision,
    winner boolean,
    version integer
)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $tune$
DECLARE
    max_trials constant integer := 1000;  -- RECO_MAX_TUNE_TRIALS (src/reco_limits.h; test/pgtap/limits.sql)
    -- evaluate's metric columns: the highest value wins, the lowest for gini
    metrics constant text[] := ARRAY['precision_at_k', 'recall_at_k', 'map_at_k', 'ndcg_at_k',
        'capped_precision', 'auc', 'coverage', 'intra_list_diversity', 'novelty', 'gini'];
    own_keys constant text[] := ARRAY['user_col', 'item_col', 'weight_col'];
    valid_keys text[];
    keys text[];
    sizes bigint[];
    population numeric := 1;
    picks bigint[];
    pick bigint;
    i integer;
    configs jsonb[] := '{}';
    config jsonb;
    key text;
    keep integer;
    first_new integer;
    started timestamptz;
    fitted reco.models;
    evaluated record;
    value double precision;
    best_id bigint;
    loser bigint;
    best_value double precision;
    best_trial integer;
    results jsonb := '[]';
    pruned bigint;
BEGIN
    IF model IS NULL OR source IS NULL OR test_source IS NULL OR grid IS NULL OR metric IS NULL
       OR k IS NULL OR seed IS NULL OR base_options IS NULL OR user_col IS NULL OR item_col IS NULL THEN
        RAISE EXCEPTION 'model, source, test_source, grid, metric, k, seed, base_options, user_col and item_col must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF NOT metric = ANY (metrics) THEN
        RAISE EXCEPTION 'unknown metric "%"', metric USING ERRCODE = '22023',
            HINT = pg_catalog.format('The metrics are reco.evaluate''s columns: %s.', pg_catalog.array_to_string(metrics, ', '));
    END IF;
    IF trials < 1 OR trials > max_trials THEN
        RAISE EXCEPTION 'trials must be between 1 and %, not %', max_trials, trials USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.jsonb_typeof(base_options) <> 'object' THEN
        RAISE EXCEPTION 'base_options must be a jsonb object' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.jsonb_typeof(grid) <> 'object' OR grid = '{}' THEN
        RAISE EXCEPTION 'grid must be a non-empty jsonb object of arrays' USING ERRCODE = '22023',
            HINT = 'Map each option to the values to try: ''{"factors": [32, 64], "regularization": [5, 50]}''.';
    END IF;
    SELECT pg_catalog.array_agg(g.key ORDER BY g.key COLLATE "C"),
           pg_catalog.array_agg(CASE WHEN pg_catalog.jsonb_typeof(g.value) = 'array'
                                     THEN pg_catalog.jsonb_array_length(g.value) ELSE 0 END ORDER BY g.key COLLATE "C")
      INTO keys, sizes
      FROM pg_catalog.jsonb_each(grid) AS g;
    FOR i IN 1 .. pg_catalog.array_length(keys, 1) LOOP
        IF sizes[i] = 0 THEN
            RAISE EXCEPTION 'grid key "%" must be a non-empty array of values', keys[i] USING ERRCODE = '22023',
                HINT = pg_catalog.format('Write "%s": [value, ...]; one value is an array of one.', keys[i]);
        END IF;
        population := population * sizes[i];
    END LOOP;
    -- every key is one of reco.train's, checked before anything trains
    valid_keys := reco_internal.train_option_keys();
    FOR key IN SELECT x.key FROM pg_catalog.jsonb_object_keys(grid || base_options) AS x(key)
                ORDER BY x.key COLLATE "C" LOOP
        IF key = ANY (own_keys) THEN
            RAISE EXCEPTION 'option "%" is an argument of reco.tune', key USING ERRCODE = '22023',
                HINT = pg_catalog.format('Pass %s => ... to reco.tune: it applies to every trial.', key);
        ELSIF NOT key = ANY (valid_keys) THEN
            RAISE EXCEPTION 'unknown option "%"', key USING ERRCODE = '22023',
                HINT = pg_catalog.format('The options are: %s.', pg_catalog.array_to_string(
                    ARRAY(SELECT v FROM pg_catalog.unnest(valid_keys) AS v WHERE NOT v = ANY (own_keys)), ', '));
        END IF;
    END LOOP;
    IF grid ? 'keep_versions' THEN
        RAISE EXCEPTION 'keep_versions cannot be tuned' USING ERRCODE = '22023',
            HINT = 'Pass it in base_options: the versions kept after the winner is stored.';
    END IF;
    IF trials IS NULL THEN
        IF population > max_trials THEN
            RAISE EXCEPTION 'the grid has % configurations, more than the % trials of a call', population, max_trials
                USING ERRCODE = '22023',
                      HINT = 'Search a random sample of them: trials => N.';
        END IF;
        picks := ARRAY(SELECT pg_catalog.generate_series(0, population::bigint - 1));
    ELSE
        IF population > 9223372036854775807 THEN
            RAISE EXCEPTION 'the grid has % configurations, more than a bigint counts', population
                USING ERRCODE = '22023';
        END IF;
        picks := reco_internal.tune_sample(population::bigint, trials, seed);
    END IF;
    -- each trial's options, every value checked by the option parser before anything trains
    FOREACH pick IN ARRAY picks LOOP
        config := base_options;
        FOR i IN REVERSE pg_catalog.array_length(keys, 1) .. 1 LOOP
            config := config || pg_catalog.jsonb_build_object(keys[i], grid -> keys[i] -> (pick % sizes[i])::integer);
            pick := pick / sizes[i];
        END LOOP;
        PERFORM reco_internal.train_params(config);
        configs := configs || config;
    END LOOP;
    keep := (reco_internal.train_params(base_options) ->> 'keep_versions')::integer;
    PERFORM reco_internal.source_from_item(source);
    PERFORM reco_internal.source_from_item(test_source);
    -- the versions before the call stay as they are until the winner is stored
    PERFORM reco.lock_model(model);
    SELECT COALESCE(pg_catalog.max(m.version), 0) + 1 INTO first_new FROM reco.models AS m WHERE m.name = model;
    FOR i IN 1 .. pg_catalog.array_length(configs, 1) LOOP
        started := pg_catalog.clock_timestamp();
        fitted := reco.train(model, source, configs[i] || pg_catalog.jsonb_build_object(
            'user_col', user_col, 'item_col', item_col, 'weight_col', weight_col, 'keep_versions', 0));
        SELECT * INTO evaluated
          FROM reco.evaluate(model, test_source, k => k, user_col => user_col, item_col => item_col) AS e;
        value := (pg_catalog.to_jsonb(evaluated) ->> metric)::double precision;
        results := results || (pg_catalog.to_jsonb(evaluated) || pg_catalog.jsonb_build_object(
            'trial', i, 'options', configs[i], 'train_seconds', fitted.train_seconds,
            'seconds', pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - started)));
        -- the better of this trial and the best so far stays; the other version goes at once
        IF best_id IS NULL OR (value IS NOT NULL AND (best_value IS NULL
               OR CASE WHEN metric = 'gini' THEN value < best_value ELSE value > best_value END)) THEN
            loser := best_id;
            best_id := fitted.model_id;
            best_value := value;
            best_trial := i;
        ELSE
            loser := fitted.model_id;
        END IF;
        DELETE FROM reco.user_factors AS f WHERE f.model_id = loser;
        DELETE FROM reco.item_factors AS f WHERE f.model_id = loser;
        IF EXISTS (SELECT FROM reco.models AS m WHERE m.model_id = loser
                      AND m.params OPERATOR(pg_catalog.?|) ARRAY['item_features', 'user_features']) THEN
            DELETE FROM reco.feature_weights AS f WHERE f.model_id = loser;
        END IF;
        DELETE FROM reco.models AS m WHERE m.model_id = loser;
        IF pg_catalog.current_setting('reco.progress', true) IS DISTINCT FROM 'none' THEN
            RAISE NOTICE 'reco.tune "%": trial % of %, % %, best so far: trial %', model, i,
                pg_catalog.array_length(configs, 1), metric, pg_catalog.round(value::numeric, 4), best_trial;
        END IF;
    END LOOP;
    -- the winner takes the first new version number and the caller's keep_versions
    UPDATE reco.models AS m
       SET version = first_new,
           params = m.params || pg_catalog.jsonb_build_object('keep_versions', keep)
     WHERE m.model_id = best_id;
    pruned := reco_internal.prune_versions(model, first_new, keep);
    UPDATE reco.models AS m
       SET stats = m.stats || pg_catalog.jsonb_build_object('versions_pruned', pruned,
           'tune', pg_catalog.jsonb_build_object('trial', best_trial, 'trials', pg_catalog.array_length(configs, 1),
                                                 'metric', metric, 'value', best_value, 'k', k,
                                                 'test_source', test_source))
     WHERE m.model_id = best_id;
    RETURN QUERY
    SELECT r.trial, r.options, r.precision_at_k, r.recall_at_k, r.map_at_k, r.ndcg_at_k, r.capped_precision,
           r.auc, r.coverage, r.users_evaluated, r.users_unknown, r.intra_list_diversity, r.novelty, r.gini,
           r.train_seconds, r.seconds, r.trial = best_trial, CASE WHEN r.trial = best_trial THEN first_new END
      FROM pg_catalog.jsonb_to_recordset(results) AS r(
           trial integer, options jsonb, precision_at_k double precision, recall_at_k double precision,
           map_at_k double precision, ndcg_at_k double precision, capped_precision double precision,
           auc double precision, coverage double precision, users_evaluated bigint, users_unknown bigint,
           intra_list_diversity double precision, novelty double precision, gini double precision,
           train_seconds double precision, seconds double precision)
     ORDER BY r.trial;
END
$tune$;
