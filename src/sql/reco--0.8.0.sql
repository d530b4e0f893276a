/* reco 0.8.0: recommender models trained by an aggregate and served in SQL
 *
 * The full install script: CREATE EXTENSION reco runs this file alone, and it
 * is the whole SQL surface of the current version.  A database created with
 * an older version reaches the same catalog through the update scripts
 * (reco--0.1.0--0.2.0.sql, reco--0.2.0--0.3.0.sql, reco--0.3.0--0.4.0.sql,
 * reco--0.4.0--0.5.0.sql, reco--0.5.0--0.6.0.sql, reco--0.6.0--0.7.0.sql,
 * reco--0.7.0--0.8.0.sql);
 * test/sessions/upgrade.sh compares the two.
 *
 * Schema reco holds the API; schema reco_internal holds what the API is built
 * from (the aggregate's support functions, helpers of the plpgsql functions),
 * so that \df reco.* lists only what a user calls.
 *
 * Limits quoted here come from src/reco_limits.h (RECO_MAX_FACTORS,
 * RECO_MAX_MODEL_NAME, the RECO_DEFAULT_ options of reco.train);
 * test/pgtap/limits.sql fails when the two disagree.
 */

\echo Use "CREATE EXTENSION reco" to load this file. \quit

-- Internals: callable by everyone (the plpgsql API calls them with the
-- caller's rights), out of the way of \df reco.*.
CREATE SCHEMA reco_internal;
COMMENT ON SCHEMA reco_internal IS
    'Internals of the reco extension (support functions of its API); not an API: names and signatures change between versions';
GRANT USAGE ON SCHEMA reco_internal TO PUBLIC;

---------------------------------------------------------------------------
-- Storage: ordinary tables, kept by pg_dump (pg_extension_config_dump).
---------------------------------------------------------------------------

CREATE SEQUENCE reco.models_model_id_seq;

CREATE TABLE reco.models (
    model_id       bigint PRIMARY KEY DEFAULT pg_catalog.nextval('reco.models_model_id_seq'),
    name           text NOT NULL CHECK (pg_catalog.octet_length(name) BETWEEN 1 AND 63),  -- RECO_MAX_MODEL_NAME
    version        integer NOT NULL CHECK (version >= 1),
    algorithm      text NOT NULL,
    params         jsonb NOT NULL,
    n_users        bigint NOT NULL,
    n_items        bigint NOT NULL,
    n_interactions bigint NOT NULL,
    factors        integer NOT NULL,
    loss           double precision[] NOT NULL,
    train_seconds  double precision NOT NULL,
    trained_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    stats          jsonb NOT NULL DEFAULT '{}',
    UNIQUE (name, version),
    -- a models row the kernels could not serve is refused when written
    CONSTRAINT models_factors_check CHECK (factors BETWEEN 1 AND 1024),  -- RECO_MIN/MAX_FACTORS
    CONSTRAINT models_counts_check CHECK (n_users >= 0 AND n_items >= 0 AND n_interactions >= 0)
);
ALTER SEQUENCE reco.models_model_id_seq OWNED BY reco.models.model_id;
COMMENT ON SEQUENCE reco.models_model_id_seq IS 'Source of reco.models.model_id: a new id for every trained version';

CREATE TABLE reco.user_factors (
    model_id     bigint NOT NULL,
    user_id      bigint NOT NULL,
    factors      bytea NOT NULL,
    seen_items   bigint[] NOT NULL,
    seen_weights real[] NOT NULL,
    user_key     text,
    PRIMARY KEY (model_id, user_id)
);

CREATE TABLE reco.item_factors (
    model_id   bigint NOT NULL,
    item_id    bigint NOT NULL,
    factors    bytea NOT NULL,
    popularity bigint NOT NULL,
    item_key   text,
    PRIMARY KEY (model_id, item_id)
);

-- Text and uuid ids: the key is the id as the shop knows it, looked up by the
-- serving functions' text and uuid forms; models with bigint ids store no key
-- and skip these indexes.
CREATE UNIQUE INDEX user_factors_user_key ON reco.user_factors (model_id, user_key) WHERE user_key IS NOT NULL;
CREATE UNIQUE INDEX item_factors_item_key ON reco.item_factors (model_id, item_key) WHERE item_key IS NOT NULL;

-- Factors are random-looking floats and seen lists are written once per
-- training: compressing them (pglz) cost half of the store time and saved
-- little, so large values go out of line uncompressed.
ALTER TABLE reco.user_factors
    ALTER COLUMN factors SET STORAGE EXTERNAL,
    ALTER COLUMN seen_items SET STORAGE EXTERNAL,
    ALTER COLUMN seen_weights SET STORAGE EXTERNAL;
ALTER TABLE reco.item_factors
    ALTER COLUMN factors SET STORAGE EXTERNAL;

SELECT pg_catalog.pg_extension_config_dump('reco.models', '');
SELECT pg_catalog.pg_extension_config_dump('reco.models_model_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('reco.user_factors', '');
SELECT pg_catalog.pg_extension_config_dump('reco.item_factors', '');

COMMENT ON TABLE reco.models IS
    'One row per trained model version; the newest committed version of a name is served';
COMMENT ON COLUMN reco.models.params IS 'Every training option in effect, defaults included';
COMMENT ON COLUMN reco.models.loss IS 'Training loss after each iteration (implicit library definition)';
COMMENT ON COLUMN reco.models.stats IS
    'Training statistics: rows read and skipped, duplicates merged, timings, threads, memory estimate';
COMMENT ON TABLE reco.user_factors IS 'User factors of each model version, with the user''s training interactions';
COMMENT ON COLUMN reco.user_factors.factors IS 'factors x 4 bytes: little-endian float32, no header';
COMMENT ON COLUMN reco.user_factors.seen_items IS 'Items the user interacted with in training, ascending';
COMMENT ON COLUMN reco.user_factors.seen_weights IS 'Summed training weight of each seen item';
COMMENT ON TABLE reco.item_factors IS 'Item factors of each model version';
COMMENT ON COLUMN reco.item_factors.factors IS 'factors x 4 bytes: little-endian float32, no header';
COMMENT ON COLUMN reco.item_factors.popularity IS 'Number of training users who interacted with the item';
COMMENT ON COLUMN reco.user_factors.user_key IS
    'The user''s id as text when the model''s user ids are text or uuid (user_id is then its rank among the model''s keys); NULL for bigint ids';
COMMENT ON COLUMN reco.item_factors.item_key IS
    'The item''s id as text when the model''s item ids are text or uuid (item_id is then its rank among the model''s keys); NULL for bigint ids';

---------------------------------------------------------------------------
-- Version and factor format
---------------------------------------------------------------------------

CREATE FUNCTION reco.version() RETURNS text
    AS 'MODULE_PATHNAME', 'reco_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reco.version() IS 'Version of the loaded reco library';

CREATE FUNCTION reco.to_array(bytea) RETURNS real[]
    AS 'MODULE_PATHNAME', 'reco_to_array'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reco.to_array(bytea) IS
    'Decodes a factor value (little-endian float32, no header) into real[]';

CREATE FUNCTION reco.to_bytea(real[]) RETURNS bytea
    AS 'MODULE_PATHNAME', 'reco_to_bytea'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reco.to_bytea(real[]) IS
    'Encodes a one-dimensional real[] as a factor value (little-endian float32, no header)';

---------------------------------------------------------------------------
-- Training: the reco.fit aggregate and the reco.train wrapper
---------------------------------------------------------------------------

CREATE FUNCTION reco_internal.source_from_item(source text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $source$
DECLARE
    relation regclass;
BEGIN
    -- A query becomes a subquery; anything else must name a table or view.
    IF source ~* '^\s*\(?\s*(select|with|values|table)\M' THEN
        RETURN pg_catalog.format('(%s)', source);
    END IF;
    BEGIN
        relation := pg_catalog.to_regclass(source);
    EXCEPTION WHEN invalid_name THEN
        RAISE EXCEPTION 'source "%" is neither a table or view name nor a query', source
            USING ERRCODE = '42602',
                  HINT = 'A source is a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END;
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', source
            USING ERRCODE = '42P01',
                  HINT = 'A source is a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    RETURN relation::text;
END
$source$;
COMMENT ON FUNCTION reco_internal.source_from_item(text) IS
    'The FROM item for a source given as a table or view name (quoted as needed) or as a query text';

CREATE FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real) IS
    'Transition function of reco.fit: appends one interaction';

CREATE FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real, jsonb) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real, jsonb) IS
    'Transition function of reco.fit with options: appends one interaction';

CREATE FUNCTION reco_internal.fit_finalfn(internal) RETURNS reco.models
    AS 'MODULE_PATHNAME', 'reco_fit_finalfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_finalfn(internal) IS
    'Final function of reco.fit: trains and stores a new model version';

CREATE AGGREGATE reco.fit(model text, user_id bigint, item_id bigint, weight real) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, bigint, bigint, real) IS
    'Trains a new version of the named model from the aggregated (user, item, weight) rows';

CREATE AGGREGATE reco.fit(model text, user_id bigint, item_id bigint, weight real, options jsonb) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, bigint, bigint, real, jsonb) IS
    'Trains a new version of the named model from the aggregated (user, item, weight) rows, with options';

-- Text and uuid ids: the same aggregate reads ids given as text, each side as
-- its id type (options user_id_type, item_id_type: text by default, uuid, or
-- bigint); a text or uuid side stores codes (the keys' ranks) beside the keys.
CREATE FUNCTION reco_internal.fit_transfn(internal, text, text, text, real) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, text, text, real) IS
    'Transition function of reco.fit with ids as text: appends one interaction';

CREATE FUNCTION reco_internal.fit_transfn(internal, text, text, text, real, jsonb) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, text, text, real, jsonb) IS
    'Transition function of reco.fit with ids as text, with options: appends one interaction';

CREATE AGGREGATE reco.fit(model text, user_id text, item_id text, weight real) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, text, text, real) IS
    'Trains a new version of the named model from the aggregated (user, item, weight) rows, with text ids';

CREATE AGGREGATE reco.fit(model text, user_id text, item_id text, weight real, options jsonb) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, text, text, real, jsonb) IS
    'Trains a new version of the named model from the aggregated (user, item, weight) rows, with ids as text and options (user_id_type, item_id_type: text, uuid or bigint)';

-- Time decay: the aggregates with each row's event time (bigint and text
-- ids).  Each weight is multiplied by 2^(-age/half_life), age = as_of - the
-- event time; the options half_life (an interval string, required) and as_of
-- (a timestamptz string; default: the group's newest event time) say how.
-- Rows with a NULL event time, or one after as_of, are skipped and counted.
CREATE FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real, timestamptz, jsonb) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, bigint, bigint, real, timestamptz, jsonb) IS
    'Transition function of reco.fit with an event time and options: appends one interaction';

CREATE FUNCTION reco_internal.fit_transfn(internal, text, text, text, real, timestamptz, jsonb) RETURNS internal
    AS 'MODULE_PATHNAME', 'reco_fit_transfn'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_transfn(internal, text, text, text, real, timestamptz, jsonb) IS
    'Transition function of reco.fit with ids as text, an event time and options: appends one interaction';

CREATE AGGREGATE reco.fit(model text, user_id bigint, item_id bigint, weight real, event_time timestamptz, options jsonb) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, bigint, bigint, real, timestamptz, jsonb) IS
    'Trains a new version of the named model from the aggregated (user, item, weight, event time) rows, each weight decayed by its age (options half_life, as_of)';

CREATE AGGREGATE reco.fit(model text, user_id text, item_id text, weight real, event_time timestamptz, options jsonb) (
    SFUNC = reco_internal.fit_transfn,
    STYPE = internal,
    FINALFUNC = reco_internal.fit_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = UNSAFE
);
COMMENT ON AGGREGATE reco.fit(text, text, text, real, timestamptz, jsonb) IS
    'Trains a new version of the named model from the aggregated (user, item, weight, event time) rows, with ids as text, each weight decayed by its age (options half_life, as_of)';

CREATE FUNCTION reco_internal.id_type_of(regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'reco_id_type_of'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reco_internal.id_type_of(regtype) IS
    'The id type a column of this SQL type trains as: uuid for uuid, text for the string types, bigint for the others';

-- reco.train's read of a plain table without the executor (0.8.0): the rows
-- of SELECT reco.fit(model, src.user_col::bigint, src.item_col::bigint,
-- src.weight_col::real (or 1), options) FROM source AS src, read by a heap
-- scan in the same order, trained and stored as the aggregate does (stats
-- read_path "direct"); NULL, having read nothing, when the scan would not be
-- what the query reads (a view, a partitioned, foreign or inherited table,
-- another access method, row security, no table-wide SELECT, an id column
-- not smallint/integer/bigint, a weight column not one of those or real/
-- double precision, or a plan of the query that is not a sequential scan: an
-- index-only scan reads another order): reco.train then runs the query.
CREATE FUNCTION reco_internal.fit_table(model text, source regclass, user_col text, item_col text,
                                        weight_col text, options jsonb) RETURNS reco.models
    AS 'MODULE_PATHNAME', 'reco_fit_table'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.fit_table(text, regclass, text, text, text, jsonb) IS
    'reco.train''s direct read of a plain table: the aggregate''s training of its rows, read by a heap scan; NULL when the query must read them';

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

-- The SQL expression (over the alias src) of a source's event time column as
-- timestamptz: a timestamptz as it is, a timestamp or date cast in the
-- session's TimeZone, a number as seconds since 1970-01-01 UTC; another type
-- is 42804.  The type is read without reading a row.  reco.train and the
-- refresh of a time-decayed model (src/refresh.c) both read times through it.
CREATE FUNCTION reco_internal.event_time_sql(from_clause text, time_col text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $event_time$
DECLARE
    time_type text;
    expression text;
BEGIN
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.pg_typeof(src.%I)::pg_catalog.text
           FROM (SELECT) AS one LEFT JOIN LATERAL (SELECT * FROM %s AS src LIMIT 0) AS src ON true',
        time_col, from_clause)
        INTO time_type;
    expression := CASE
        WHEN time_type OPERATOR(pg_catalog.=) 'timestamp with time zone' THEN pg_catalog.format('src.%I', time_col)
        WHEN time_type OPERATOR(pg_catalog.=) ANY (ARRAY['timestamp without time zone', 'date'])
            THEN pg_catalog.format('src.%I::timestamptz', time_col)
        WHEN time_type OPERATOR(pg_catalog.=) ANY (ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'])
            THEN pg_catalog.format('pg_catalog.to_timestamp(src.%I::double precision)', time_col) END;
    IF expression IS NULL THEN
        RAISE EXCEPTION 'time column "%" is of type %, not a time', time_col, time_type
            USING ERRCODE = '42804',
                  HINT = 'The event time is a timestamptz, timestamp or date column, or a number of seconds since 1970-01-01 UTC.';
    END IF;
    RETURN expression;
END
$event_time$;
COMMENT ON FUNCTION reco_internal.event_time_sql(text, text) IS
    'The SQL expression of a source''s event time column as timestamptz (over the alias src); 42804 for a column that is not a time';

-- The keys of reco.train's options form: the argument names of its long
-- form (the reco.train with more than three arguments) after source, read
-- from the catalog; reco.train's options form and reco.tune both read it, so
-- an option added to the long form is a key of both at once.
CREATE FUNCTION reco_internal.train_option_keys() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $keys$
    SELECT pg_catalog.array_agg(a.name ORDER BY a.pos)
      FROM pg_catalog.pg_proc AS p,
           pg_catalog.unnest(p.proargnames) WITH ORDINALITY AS a(name, pos)
     WHERE p.pronamespace OPERATOR(pg_catalog.=) 'reco'::pg_catalog.regnamespace
       AND p.proname OPERATOR(pg_catalog.=) 'train'
       AND p.pronargs OPERATOR(pg_catalog.>) 3
       AND a.pos OPERATOR(pg_catalog.>) 2;
$keys$;
COMMENT ON FUNCTION reco_internal.train_option_keys() IS
    'The keys of reco.train''s options form (its long form''s argument names after source), from the catalog';

-- The options form: the keys are the long form's argument names after
-- source (read from the catalog, so the two forms cannot drift apart); an
-- unknown key is an error that lists them (22023), a JSON null is the
-- default.  With no weight_col, a source column named like a weight (the
-- list below, case-insensitive) is reported in a NOTICE: every row trains
-- with weight 1.  The id columns' SQL types pick the aggregate (found on an
-- empty source too): two bigint-like columns train with bigint ids as ever;
-- a uuid column has uuid ids, a string-typed one text ids, and then every id
-- goes to the text form of reco.fit with user_id_type and item_id_type.
-- With a time_col (and the half_life it needs), the rows go to the reco.fit
-- with an event time: a timestamptz column as is, timestamp and date cast to
-- timestamptz (in the session's TimeZone), a number read as seconds since
-- 1970-01-01 UTC (to_timestamp); another type is an error (42804).
-- Bigint-like ids from a table, without time_col, are read by
-- reco_internal.fit_table without the executor where it can (0.8.0): the
-- same rows in the same order, so the same model; else by the query.
CREATE FUNCTION reco.train(model text, source text, options jsonb) RETURNS reco.models
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $train$
DECLARE
    valid_keys text[];
    key text;
    user_col text;
    item_col text;
    weight_col text;
    time_col text;
    time_arg text := '';
    fit_options jsonb;
    from_clause text;
    source_keys text[];
    weight_like text[];
    user_type text;
    item_type text;
    result reco.models;
BEGIN
    IF model IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'model and source must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- the keys are the long form's argument names after source, read from the
    -- catalog by reco_internal.train_option_keys (reco.tune checks its keys
    -- against the same list), so that the forms cannot drift apart and an
    -- option added to the long form is a key at once
    valid_keys := reco_internal.train_option_keys();
    IF options IS NOT NULL AND pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'options must be a jsonb object' USING ERRCODE = '22023',
            HINT = pg_catalog.format('The options are: %s.', pg_catalog.array_to_string(valid_keys, ', '));
    END IF;
    FOR key IN SELECT k FROM pg_catalog.jsonb_object_keys(COALESCE(options, '{}')) AS k ORDER BY 1 LOOP
        IF NOT key OPERATOR(pg_catalog.=) ANY (valid_keys) THEN
            RAISE EXCEPTION 'unknown option "%"', key USING ERRCODE = '22023',
                HINT = pg_catalog.format('The options are: %s.', pg_catalog.array_to_string(valid_keys, ', '));
        END IF;
    END LOOP;
    FOREACH key IN ARRAY ARRAY['user_col', 'item_col', 'weight_col', 'time_col'] LOOP
        IF pg_catalog.jsonb_typeof(options OPERATOR(pg_catalog.->) key) NOT IN ('string', 'null') THEN
            RAISE EXCEPTION 'option "%" must be a string (a column name)', key USING ERRCODE = '22023';
        END IF;
    END LOOP;
    user_col := COALESCE(options OPERATOR(pg_catalog.->>) 'user_col', 'user_id');
    item_col := COALESCE(options OPERATOR(pg_catalog.->>) 'item_col', 'item_id');
    weight_col := options OPERATOR(pg_catalog.->>) 'weight_col';
    time_col := options OPERATOR(pg_catalog.->>) 'time_col';
    fit_options := pg_catalog.jsonb_strip_nulls(COALESCE(options, '{}')
        OPERATOR(pg_catalog.-) 'user_col' OPERATOR(pg_catalog.-) 'item_col' OPERATOR(pg_catalog.-) 'weight_col');
    -- time_col and half_life go together; as_of needs them (22023)
    IF time_col IS NULL AND (fit_options OPERATOR(pg_catalog.?) 'half_life' OR fit_options OPERATOR(pg_catalog.?) 'as_of') THEN
        RAISE EXCEPTION '% needs time_col', CASE WHEN fit_options OPERATOR(pg_catalog.?) 'half_life' THEN 'half_life' ELSE 'as_of' END
            USING ERRCODE = '22023', HINT = 'Name the column of each row''s event time: time_col => ''ordered_at''.';
    END IF;
    IF time_col IS NOT NULL AND NOT fit_options OPERATOR(pg_catalog.?) 'half_life' THEN
        RAISE EXCEPTION 'time_col needs half_life' USING ERRCODE = '22023',
            HINT = 'Pass the half-life of the decay, e.g. half_life => ''90 days''.';
    END IF;
    from_clause := reco_internal.source_from_item(source);
    IF time_col IS NOT NULL THEN
        time_arg := ', ' OPERATOR(pg_catalog.||) reco_internal.event_time_sql(from_clause, time_col);
    END IF;
    IF weight_col IS NULL THEN
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.array_agg(k) FROM pg_catalog.jsonb_object_keys((SELECT pg_catalog.to_jsonb(src) FROM %s AS src LIMIT 1)) AS k',
            from_clause) INTO source_keys;
        SELECT pg_catalog.array_agg(k ORDER BY k) INTO weight_like
          FROM pg_catalog.unnest(source_keys) AS k
         WHERE pg_catalog.lower(k) OPERATOR(pg_catalog.=) ANY (ARRAY['weight', 'weights', 'quantity', 'qty',
               'rating', 'score', 'amount', 'count', 'value', 'clicks', 'plays', 'views']);
        IF weight_like IS NOT NULL THEN
            RAISE NOTICE 'the source has a column named like a weight (%), but weight_col is NULL: every row trains with weight 1',
                pg_catalog.array_to_string(weight_like, ', ')
                USING HINT = pg_catalog.format('To train with it, pass weight_col => %L.', weight_like[1]);
        END IF;
    END IF;
    -- LIMIT 0 reads no row: the columns' types, without running the source
    EXECUTE pg_catalog.format(
        'SELECT reco_internal.id_type_of(pg_catalog.pg_typeof(src.%I)), reco_internal.id_type_of(pg_catalog.pg_typeof(src.%I))
           FROM (SELECT) AS one LEFT JOIN LATERAL (SELECT * FROM %s AS src LIMIT 0) AS src ON true',
        user_col, item_col, from_clause)
        INTO user_type, item_type;
    IF user_type OPERATOR(pg_catalog.<>) 'bigint' OR item_type OPERATOR(pg_catalog.<>) 'bigint' THEN
        fit_options := fit_options OPERATOR(pg_catalog.||)
            pg_catalog.jsonb_build_object('user_id_type', user_type, 'item_id_type', item_type);
    END IF;
    -- the model remembers where its interactions are, for reco.refresh_users and refresh_items
    fit_options := fit_options OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'source', source, 'user_col', user_col, 'item_col', item_col, 'weight_col', weight_col));
    -- a table (not a query) of bigint-like ids without event times: read directly if the scan reads what the query would
    IF time_col IS NULL AND user_type OPERATOR(pg_catalog.=) 'bigint' AND item_type OPERATOR(pg_catalog.=) 'bigint'
       AND pg_catalog.left(from_clause, 1) OPERATOR(pg_catalog.<>) '(' THEN
        result := reco_internal.fit_table(model, from_clause::pg_catalog.regclass, user_col, item_col, weight_col, fit_options);
        IF result.model_id IS NOT NULL THEN
            RETURN result;
        END IF;
    END IF;
    EXECUTE pg_catalog.format(
        'SELECT (m).* FROM (SELECT reco.fit($1, %s, %s, %s%s, $2) AS m FROM %s AS src) AS fitted',
        CASE WHEN user_type OPERATOR(pg_catalog.<>) 'bigint' THEN pg_catalog.format('src.%I::text', user_col)
             WHEN item_type OPERATOR(pg_catalog.<>) 'bigint' THEN pg_catalog.format('src.%I::bigint::text', user_col)
             ELSE pg_catalog.format('src.%I::bigint', user_col) END,
        CASE WHEN item_type OPERATOR(pg_catalog.<>) 'bigint' THEN pg_catalog.format('src.%I::text', item_col)
             WHEN user_type OPERATOR(pg_catalog.<>) 'bigint' THEN pg_catalog.format('src.%I::bigint::text', item_col)
             ELSE pg_catalog.format('src.%I::bigint', item_col) END,
        CASE WHEN weight_col IS NULL THEN '1::real'
             ELSE pg_catalog.format('src.%I::real', weight_col) END,
        time_arg,
        from_clause)
        INTO STRICT result
        USING model, fit_options;
    RETURN result;
END
$train$;
COMMENT ON FUNCTION reco.train(text, text, jsonb) IS
    'Trains a new model version with its arguments as a jsonb object (the long form''s names after source); an unknown key lists the valid ones';

---------------------------------------------------------------------------
-- Model lifecycle
---------------------------------------------------------------------------

-- Takes the transaction-scoped lock that serializes trainings of a model name
-- (the same key as the training's store step, src/store.c).
CREATE FUNCTION reco.lock_model(name text) RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
AS $lock$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('reco.models'), pg_catalog.hashtext(name));
$lock$;
COMMENT ON FUNCTION reco.lock_model(text) IS
    'Waits for any training of the model name to commit or abort, and holds the name until the end of the transaction';

CREATE FUNCTION reco.drop_model(name text) RETURNS integer
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

-- Every forget_user form reads the id as each model's user id type from its
-- text form: a bigint side matches the id if it reads as a bigint, a text side
-- the key, a uuid side the canonical uuid if it reads as one; a model whose
-- type cannot read the id is skipped, never an error.
CREATE FUNCTION reco_internal.forget_user(user_id text, model text) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $forget$
DECLARE
    model_name text;
    as_bigint bigint;
    as_uuid text;
    forgotten integer;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF model IS NOT NULL AND NOT EXISTS (SELECT FROM reco.models AS m WHERE m.name = model) THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = '42704';
    END IF;
    -- the casts are the serving functions' readings (int8in, uuid_in); a cheap
    -- test first spares the subtransaction of an id that cannot be one
    IF user_id ~ '^\s*[-+]?[0-9]+\s*$' THEN
        BEGIN
            as_bigint := user_id::bigint;
        EXCEPTION WHEN numeric_value_out_of_range THEN
            as_bigint := NULL;
        END;
    END IF;
    IF pg_catalog.length(pg_catalog.regexp_replace(user_id, '[^0-9a-fA-F]', '', 'g')) = 32 THEN
        BEGIN
            as_uuid := user_id::uuid::text;
        EXCEPTION WHEN invalid_text_representation THEN
            as_uuid := NULL;
        END;
    END IF;
    -- wait for trainings that are storing now, in name order (no lock-order deadlock
    -- between two forget_user calls), so that their versions are cleaned too
    FOR model_name IN
        SELECT DISTINCT m.name FROM reco.models AS m
         WHERE model IS NULL OR m.name = model ORDER BY 1
    LOOP
        PERFORM reco.lock_model(model_name);
    END LOOP;
    WITH by_id AS (
        DELETE FROM reco.user_factors AS f USING reco.models AS m
         WHERE f.user_id = as_bigint AND f.model_id = m.model_id
           AND (model IS NULL OR m.name = model)
           AND COALESCE(m.params ->> 'user_id_type', 'bigint') = 'bigint'
        RETURNING f.model_id
    ), by_key AS (
        DELETE FROM reco.user_factors AS f USING reco.models AS m
         WHERE f.user_key = CASE m.params ->> 'user_id_type' WHEN 'text' THEN forget_user.user_id WHEN 'uuid' THEN as_uuid END
           AND f.model_id = m.model_id
           AND (model IS NULL OR m.name = model)
        RETURNING f.model_id
    ), removed AS (
        SELECT by_id.model_id FROM by_id UNION ALL SELECT by_key.model_id FROM by_key
    )
    UPDATE reco.models AS m
       SET n_users = m.n_users - 1,
           stats = m.stats || pg_catalog.jsonb_build_object(
               'users_forgotten', COALESCE((m.stats ->> 'users_forgotten')::bigint, 0) + 1,
               -- a new user generation (src/cache.c): no backend reuses users cached before;
               -- the negated transaction id never meets a refresh's positive sequence values
               'user_generation', -pg_catalog.txid_current())
      FROM removed
     WHERE m.model_id = removed.model_id;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END
$forget$;
COMMENT ON FUNCTION reco_internal.forget_user(text, text) IS
    'forget_user of an id given by its text form, read as each model''s user id type (a model that cannot read it is skipped)';

CREATE FUNCTION reco.forget_user(user_id bigint, model text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $forget$
    SELECT reco_internal.forget_user(user_id::text, model);
$forget$;
COMMENT ON FUNCTION reco.forget_user(bigint, text) IS
    'Removes a user''s factors and stored interactions from every version of every model (or of one model); returns the number of versions changed';

CREATE FUNCTION reco.forget_user(user_id text, model text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $forget$
    SELECT reco_internal.forget_user(user_id, model);
$forget$;
COMMENT ON FUNCTION reco.forget_user(text, text) IS
    'Removes a user given by a text id from every version of every model whose user ids can read it (or of one model); returns the number of versions changed';

CREATE FUNCTION reco.forget_user(user_id uuid, model text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $forget$
    SELECT reco_internal.forget_user(user_id::text, model);
$forget$;
COMMENT ON FUNCTION reco.forget_user(uuid, text) IS
    'Removes a user given by a uuid from every version of every model whose user ids can read it (or of one model); returns the number of versions changed';

---------------------------------------------------------------------------
-- Serving
---------------------------------------------------------------------------

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
    user_id bigint,
    n       bigint DEFAULT 10
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_default'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(bigint, bigint) IS
    'Short form: the n best items for a user of the model named by reco.model (or the only model); an unknown user gets the most popular items';

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

CREATE FUNCTION reco.similar_users(
    model   text,
    user_id bigint,
    n       integer DEFAULT 10
) RETURNS TABLE (user_id bigint, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_users'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_users(text, bigint, integer) IS
    'The n users most similar to a user (cosine of the factors), the user excluded';

CREATE FUNCTION reco.explain(
    model   text,
    user_id bigint,
    item_id bigint,
    n       integer DEFAULT 5
) RETURNS TABLE (item_id bigint, contribution real)
    AS 'MODULE_PATHNAME', 'reco_explain'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION reco.explain(text, bigint, bigint, integer) IS
    'The user''s own items that contribute most to an item''s score; all contributions sum to the folded-in score';

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

---------------------------------------------------------------------------
-- Serving with text and uuid ids
---------------------------------------------------------------------------

-- The type of the id you pass picks the form, and every id is read as the
-- model's id type from its text form (text '15' on a bigint side is 15, a
-- bigint 15 on a text side is the key '15'; on a uuid side a text must be a
-- uuid, 22P02).  These forms return ids as text for any model (a bigint id
-- as its decimal text); each shares its bigint twin's C function, which
-- tells the forms apart by the argument and result types.  There is no text
-- short form of recommend: recommend('cust-1', 5) is the long form with
-- model 'cust-1'.  The array-only functions get their own _text names: an
-- overload on text[] would make an untyped '{...}' literal ambiguous.

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

CREATE FUNCTION reco.recommend(
    user_id uuid,
    n       bigint DEFAULT 10
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_default'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(uuid, bigint) IS
    'Short form for a uuid user id (reco.model or the only model); item ids come back as text';

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

CREATE FUNCTION reco.similar_users(
    model   text,
    user_id text,
    n       integer DEFAULT 10
) RETURNS TABLE (user_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_users'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_users(text, text, integer) IS
    'reco.similar_users for a user id given as text (read as the model''s user id type); user ids come back as text';

CREATE FUNCTION reco.similar_users(
    model   text,
    user_id uuid,
    n       integer DEFAULT 10
) RETURNS TABLE (user_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_users'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_users(text, uuid, integer) IS
    'reco.similar_users for a uuid user id; user ids come back as text';

CREATE FUNCTION reco.explain(
    model   text,
    user_id text,
    item_id text,
    n       integer DEFAULT 5
) RETURNS TABLE (item_id text, contribution real)
    AS 'MODULE_PATHNAME', 'reco_explain'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION reco.explain(text, text, text, integer) IS
    'reco.explain with ids given and returned as text (read as the model''s id types)';

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
-- The serving cache
---------------------------------------------------------------------------

CREATE FUNCTION reco.cache_info(
    OUT model_id bigint,
    OUT version integer,
    OUT side text,
    OUT items bigint,
    OUT factors integer,
    OUT bytes bigint,
    OUT hits bigint,
    OUT loaded_at timestamptz
) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'reco_cache_info'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION reco.cache_info() IS
    'The factor matrices this backend has cached for serving (bounded by reco.cache_size)';

CREATE FUNCTION reco.cache_reset() RETURNS integer
    AS 'MODULE_PATHNAME', 'reco_cache_reset'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION reco.cache_reset() IS
    'Frees every factor matrix this backend has cached; returns how many there were';

---------------------------------------------------------------------------
-- Evaluation
---------------------------------------------------------------------------

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
-- Refresh in place
---------------------------------------------------------------------------

-- Re-solve some users (or items) of the served version from their current
-- rows in the model's source (params source, user_col, item_col, weight_col,
-- which reco.train records), in the caller's transaction, under the model's
-- lock (reco.lock_model).  The _text twins take the ids as text (read as the
-- model's id type), as the array-only serving functions do.
CREATE FUNCTION reco.refresh_users(model text, user_ids bigint[] DEFAULT NULL, source text DEFAULT NULL,
    OUT refreshed bigint, OUT added bigint, OUT removed bigint, OUT skipped bigint) RETURNS record
    AS 'MODULE_PATHNAME', 'reco_refresh_users' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.refresh_users(text, bigint[], text) IS
    'Re-solves the listed users (NULL: all) of the served version in place from their rows in the source; new users are added, users without a positive pair removed';
-- the text twin: an overload on text[] would make an untyped '{...}' ambiguous
CREATE FUNCTION reco.refresh_users_text(model text, user_ids text[] DEFAULT NULL, source text DEFAULT NULL,
    OUT refreshed bigint, OUT added bigint, OUT removed bigint, OUT skipped bigint) RETURNS record
    AS 'MODULE_PATHNAME', 'reco_refresh_users' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.refresh_users_text(text, text[], text) IS
    'reco.refresh_users with the user ids as text (text and uuid ids; read as the model''s user id type)';

-- Items are solved against the user factors; a new item gets factors from its first rows.
CREATE FUNCTION reco.refresh_items(model text, item_ids bigint[] DEFAULT NULL, source text DEFAULT NULL,
    OUT refreshed bigint, OUT added bigint, OUT removed bigint, OUT skipped bigint) RETURNS record
    AS 'MODULE_PATHNAME', 'reco_refresh_items' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.refresh_items(text, bigint[], text) IS
    'Re-solves the listed items (NULL: all) of the served version in place against its user factors; a new item with rows in the source gets factors';
-- the text twin
CREATE FUNCTION reco.refresh_items_text(model text, item_ids text[] DEFAULT NULL, source text DEFAULT NULL,
    OUT refreshed bigint, OUT added bigint, OUT removed bigint, OUT skipped bigint) RETURNS record
    AS 'MODULE_PATHNAME', 'reco_refresh_items' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco.refresh_items_text(text, text[], text) IS
    'reco.refresh_items with the item ids as text (text and uuid ids; read as the model''s item id type)';

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
---------------------------------------------------------------------------
-- Tuning (issue 16)
---------------------------------------------------------------------------

CREATE FUNCTION reco_internal.tune_sample(population bigint, n integer, seed bigint) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'reco_tune_sample'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco_internal.tune_sample(bigint, integer, bigint) IS
    'The configurations (0-based numbers, ascending) a random search of n trials over population configurations runs: a uniform sample without replacement (Floyd) from the seed''s splitmix64 stream; all if n >= population';

CREATE FUNCTION reco_internal.train_params(options jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'reco_train_params'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco_internal.train_params(jsonb) IS
    'The params a training with these reco.fit options records (defaults filled in); the option parser''s error (22023) for a bad value';

CREATE FUNCTION reco_internal.prune_versions(model text, newest integer, keep integer) RETURNS bigint
    AS 'MODULE_PATHNAME', 'reco_prune_versions'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.prune_versions(text, integer, integer) IS
    'Removes the versions of a model older than the newest keep counted from version newest (0: none), as a training does; returns how many';

-- A grid search (or a seeded random search) over reco.train's options.  The
-- configurations are the cartesian product of the grid's arrays, keys in
-- name order (C collation), the first key's value changing slowest, each
-- key's values in array order; configuration c (0-based) takes from the key
-- i array element (c / the product of the later keys' lengths) mod its
-- length.  trials => N runs N of them drawn by reco_internal.tune_sample
-- from the seed (all of them if N is at least their number), in that order.
-- Each trial is reco.train(model, source, options || configuration) with
-- keep_versions 0 (no trial prunes a version), then reco.evaluate on the
-- test source; a trial no better than the best so far is deleted at once, so
-- at most two trial versions exist at a time.  The best (ties: the earlier
-- trial; a NULL metric is worst) is kept as version max + 1 of the versions
-- before the call, with the keep_versions of options (default: reco.train's)
-- in its params, and the versions older than that many are pruned as a
-- training prunes them.  One transaction: an error in any trial keeps nothing.
CREATE FUNCTION reco.tune(
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
COMMENT ON FUNCTION reco.tune(text, text, text, jsonb, text, integer, integer, bigint, jsonb, text, text, text) IS
    'Grid or seeded random search over reco.train''s options: trains and evaluates every trial on the test source, keeps the best (by metric) as one new version of the model and returns every trial''s options, metrics and seconds';


---------------------------------------------------------------------------
-- The shared serving cache (reco in shared_preload_libraries)
---------------------------------------------------------------------------

CREATE FUNCTION reco.shared_cache_info(
    OUT model text,
    OUT version integer,
    OUT model_id bigint,
    OUT side text,
    OUT items bigint,
    OUT factors integer,
    OUT bytes bigint,
    OUT hits bigint,
    OUT created_at timestamptz,
    OUT last_used timestamptz,
    OUT mapped boolean
) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'reco_shared_cache_info'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION reco.shared_cache_info() IS
    'The shared copies of this database''s served factor matrices (reco in shared_preload_libraries; bounded by reco.shared_cache_size); mapped: this backend maps it';

---------------------------------------------------------------------------
-- Training progress (issue 18): each training backend's phase, from shared
-- memory when reco is in shared_preload_libraries (src/progress.c); empty
-- otherwise.
---------------------------------------------------------------------------

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
-- Models trained elsewhere: reco.import_model (src/import.c)
---------------------------------------------------------------------------

CREATE FUNCTION reco_internal.import_factors(
    model            text,
    users_sql        text,
    items_sql        text,
    interactions_sql text,
    algorithm        text,
    regularization   double precision,
    alpha            double precision,
    keep_versions    double precision,
    params           jsonb
) RETURNS reco.models
    AS 'MODULE_PATHNAME', 'reco_import_factors'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION reco_internal.import_factors(text, text, text, text, text, double precision, double precision, double precision, jsonb) IS
    'The work of reco.import_model: reads and checks the (id, factors) rows of both queries and the interactions, stores a new version';

-- The sources' rows reach the C function as queries: ids read as the side's
-- id type (a uuid in canonical text), ordered in key byte order (COLLATE "C",
-- the order of the codes), interactions merged as training merges them.
CREATE FUNCTION reco.import_model(
    model        text,
    user_factors text,
    item_factors text,
    options      jsonb DEFAULT '{}'
) RETURNS reco.models
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $import$
DECLARE
    valid_keys text[] := ARRAY['algorithm', 'alpha', 'factors_col', 'id_col', 'interactions', 'item_col',
                               'keep_versions', 'regularization', 'user_col', 'weight_col'];
    key text;
    id_col text;
    factors_col text;
    interactions text;
    user_col text;
    item_col text;
    weight_col text;
    users_from text;
    items_from text;
    user_type text;
    item_type text;
    id_exprs text[];
    interactions_sql text;
    params jsonb;
BEGIN
    IF model IS NULL OR user_factors IS NULL OR item_factors IS NULL THEN
        RAISE EXCEPTION 'model, user_factors and item_factors must not be NULL' USING ERRCODE = '22004';
    END IF;
    options := COALESCE(options, '{}');
    IF pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'options must be a jsonb object' USING ERRCODE = '22023',
            HINT = pg_catalog.format('The options are: %s.', pg_catalog.array_to_string(valid_keys, ', '));
    END IF;
    FOR key IN SELECT k FROM pg_catalog.jsonb_object_keys(options) AS k ORDER BY 1 LOOP
        IF NOT key OPERATOR(pg_catalog.=) ANY (valid_keys) THEN
            RAISE EXCEPTION 'unknown option "%"', key USING ERRCODE = '22023',
                HINT = pg_catalog.format('The options are: %s.', pg_catalog.array_to_string(valid_keys, ', '));
        END IF;
    END LOOP;
    FOREACH key IN ARRAY ARRAY['algorithm', 'factors_col', 'id_col', 'interactions', 'item_col', 'user_col', 'weight_col'] LOOP
        IF pg_catalog.jsonb_typeof(options OPERATOR(pg_catalog.->) key) NOT IN ('string', 'null') THEN
            RAISE EXCEPTION 'option "%" must be a string', key USING ERRCODE = '22023';
        END IF;
    END LOOP;
    FOREACH key IN ARRAY ARRAY['alpha', 'keep_versions', 'regularization'] LOOP
        IF pg_catalog.jsonb_typeof(options OPERATOR(pg_catalog.->) key) NOT IN ('number', 'null') THEN
            RAISE EXCEPTION 'option "%" must be a number', key USING ERRCODE = '22023';
        END IF;
    END LOOP;
    options := pg_catalog.jsonb_strip_nulls(options);
    id_col := COALESCE(options OPERATOR(pg_catalog.->>) 'id_col', 'id');
    factors_col := COALESCE(options OPERATOR(pg_catalog.->>) 'factors_col', 'factors');
    interactions := options OPERATOR(pg_catalog.->>) 'interactions';
    user_col := COALESCE(options OPERATOR(pg_catalog.->>) 'user_col', 'user_id');
    item_col := COALESCE(options OPERATOR(pg_catalog.->>) 'item_col', 'item_id');
    weight_col := options OPERATOR(pg_catalog.->>) 'weight_col';
    FOREACH key IN ARRAY ARRAY['user_col', 'item_col', 'weight_col'] LOOP
        IF interactions IS NULL AND options OPERATOR(pg_catalog.?) key THEN
            RAISE EXCEPTION 'option "%" needs option "interactions"', key USING ERRCODE = '22023',
                HINT = 'Name the interactions source: {"interactions": "orders", ...}.';
        END IF;
    END LOOP;
    users_from := reco_internal.source_from_item(user_factors);
    items_from := reco_internal.source_from_item(item_factors);
    -- LIMIT 0 reads no row: the id columns' types, without running the sources
    EXECUTE pg_catalog.format(
        'SELECT reco_internal.id_type_of(pg_catalog.pg_typeof(src.%I))
           FROM (SELECT) AS one LEFT JOIN LATERAL (SELECT * FROM %s AS src LIMIT 0) AS src ON true',
        id_col, users_from) INTO user_type;
    EXECUTE pg_catalog.format(
        'SELECT reco_internal.id_type_of(pg_catalog.pg_typeof(src.%I))
           FROM (SELECT) AS one LEFT JOIN LATERAL (SELECT * FROM %s AS src LIMIT 0) AS src ON true',
        id_col, items_from) INTO item_type;
    -- %1$s: a column of the source, read as a user's (1) or an item's (2) id
    SELECT pg_catalog.array_agg(CASE t WHEN 'bigint' THEN 'src.%I::bigint' WHEN 'uuid' THEN 'src.%I::uuid::text'
                                ELSE 'src.%I::text' END ORDER BY o)
      INTO id_exprs FROM pg_catalog.unnest(ARRAY[user_type, item_type]) WITH ORDINALITY AS s(t, o);
    IF interactions IS NOT NULL THEN
        interactions_sql := pg_catalog.format(
            'SELECT u, i, w FROM (SELECT %s AS u, %s AS i, pg_catalog.sum(%s) AS w FROM %s AS src
               WHERE src.%I IS NOT NULL AND src.%I IS NOT NULL%s GROUP BY 1, 2) AS pairs
             WHERE w OPERATOR(pg_catalog.<>) 0 ORDER BY u%s, i%s',
            pg_catalog.format(id_exprs[1], user_col), pg_catalog.format(id_exprs[2], item_col),
            CASE WHEN weight_col IS NULL THEN '1::real' ELSE pg_catalog.format('src.%I::real', weight_col) END,
            reco_internal.source_from_item(interactions), user_col, item_col,
            CASE WHEN weight_col IS NULL THEN '' ELSE pg_catalog.format(' AND src.%I IS NOT NULL', weight_col) END,
            CASE WHEN user_type OPERATOR(pg_catalog.<>) 'bigint' THEN ' COLLATE "C"' ELSE '' END,
            CASE WHEN item_type OPERATOR(pg_catalog.<>) 'bigint' THEN ' COLLATE "C"' ELSE '' END);
    END IF;
    -- what the version records: where it came from, and its interactions (for reco.refresh_users)
    params := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'user_factors', user_factors, 'item_factors', item_factors, 'id_col', id_col, 'factors_col', factors_col,
        'source', interactions, 'user_col', CASE WHEN interactions IS NOT NULL THEN user_col END,
        'item_col', CASE WHEN interactions IS NOT NULL THEN item_col END, 'weight_col', weight_col));
    IF user_type OPERATOR(pg_catalog.<>) 'bigint' OR item_type OPERATOR(pg_catalog.<>) 'bigint' THEN
        params := params OPERATOR(pg_catalog.||)
            pg_catalog.jsonb_build_object('user_id_type', user_type, 'item_id_type', item_type);
    END IF;
    RETURN reco_internal.import_factors(
        model,
        pg_catalog.format('SELECT id, factors FROM (SELECT %s AS id, src.%I::real[] AS factors FROM %s AS src) AS f ORDER BY id%s',
            pg_catalog.format(id_exprs[1], id_col), factors_col, users_from,
            CASE WHEN user_type OPERATOR(pg_catalog.<>) 'bigint' THEN ' COLLATE "C"' ELSE '' END),
        pg_catalog.format('SELECT id, factors FROM (SELECT %s AS id, src.%I::real[] AS factors FROM %s AS src) AS f ORDER BY id%s',
            pg_catalog.format(id_exprs[2], id_col), factors_col, items_from,
            CASE WHEN item_type OPERATOR(pg_catalog.<>) 'bigint' THEN ' COLLATE "C"' ELSE '' END),
        interactions_sql,
        COALESCE(options OPERATOR(pg_catalog.->>) 'algorithm', 'ials'),
        (options OPERATOR(pg_catalog.->>) 'regularization')::double precision,
        (options OPERATOR(pg_catalog.->>) 'alpha')::double precision,
        (options OPERATOR(pg_catalog.->>) 'keep_versions')::double precision,
        params);
END
$import$;
COMMENT ON FUNCTION reco.import_model(text, text, text, jsonb) IS
    'Creates a new model version from factors trained elsewhere: (id, factors real[]) rows of users and items (Spark ALS, implicit, BigQuery ML), checked, with seen lists and popularity from an optional interactions source';

---------------------------------------------------------------------------
-- Explicit ratings (algorithm 'als'): predicted ratings and their accuracy
---------------------------------------------------------------------------

CREATE FUNCTION reco.predict(
    model   text,
    user_id bigint,
    item_id bigint
) RETURNS real
    AS 'MODULE_PATHNAME', 'reco_predict'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco.predict(text, bigint, bigint) IS
    'The rating an explicit (als) model predicts for a user and an item: mu + b_u + b_i + x_u . y_i; an unknown user mu + b_i, an unknown item mu + b_u, both mu; NULL for a NULL id';

CREATE FUNCTION reco.predict(
    model   text,
    user_id text,
    item_id text
) RETURNS real
    AS 'MODULE_PATHNAME', 'reco_predict'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco.predict(text, text, text) IS
    'reco.predict for ids given as text (read as the model''s id types)';

CREATE FUNCTION reco.predict(
    model   text,
    user_id uuid,
    item_id uuid
) RETURNS real
    AS 'MODULE_PATHNAME', 'reco_predict'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco.predict(text, uuid, uuid) IS
    'reco.predict for uuid ids';

CREATE FUNCTION reco.predict(
    model    text,
    user_ids bigint[],
    item_ids bigint[]
) RETURNS TABLE (user_id bigint, item_id bigint, rating real)
    AS 'MODULE_PATHNAME', 'reco_predict_pairs'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION reco.predict(text, bigint[], bigint[]) IS
    'reco.predict of many pairs: one row per position of the two arrays, in array order (a NULL id: a NULL rating)';

CREATE FUNCTION reco.predict(
    model    text,
    user_ids text[],
    item_ids text[]
) RETURNS TABLE (user_id text, item_id text, rating real)
    AS 'MODULE_PATHNAME', 'reco_predict_pairs'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION reco.predict(text, text[], text[]) IS
    'reco.predict of many pairs given as text (text and uuid ids): one row per position of the two arrays, in array order';

CREATE FUNCTION reco_internal.evaluate_ratings(
    model text, users text[], items text[], ratings real[],
    OUT rmse double precision,
    OUT mae double precision,
    OUT rows_scored bigint,
    OUT fallback_rows bigint
)
    AS 'MODULE_PATHNAME', 'reco_evaluate_rating_arrays'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION reco_internal.evaluate_ratings(text, text[], text[], real[]) IS
    'RMSE and MAE of reco.predict against parallel arrays of ids (as text) and ratings, and how many predictions were fallbacks';

CREATE FUNCTION reco.evaluate_ratings(
    model       text,
    test_source text,
    user_col    text DEFAULT 'user_id',
    item_col    text DEFAULT 'item_id',
    rating_col  text DEFAULT 'rating'
) RETURNS TABLE (
    rmse double precision,
    mae double precision,
    rows_scored bigint,
    fallback_rows bigint,
    rows_skipped bigint
)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $evaluate_ratings$
DECLARE
    from_clause text;
    test_users text[];
    test_items text[];
    test_ratings real[];
    skipped bigint;
BEGIN
    IF model IS NULL OR test_source IS NULL OR user_col IS NULL OR item_col IS NULL OR rating_col IS NULL THEN
        RAISE EXCEPTION 'model, test_source, user_col, item_col and rating_col must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    from_clause := reco_internal.source_from_item(test_source);
    -- USING makes EXECUTE prepare the text: a source smuggling in a second statement fails
    EXECUTE pg_catalog.format(
        'SELECT COALESCE(pg_catalog.array_agg(t.u) FILTER (WHERE t.ok), $1),
                COALESCE(pg_catalog.array_agg(t.i) FILTER (WHERE t.ok), $1),
                COALESCE(pg_catalog.array_agg(t.r) FILTER (WHERE t.ok), $2),
                pg_catalog.count(*) FILTER (WHERE NOT t.ok)
           FROM (SELECT src.%I::text AS u, src.%I::text AS i, src.%I::real AS r,
                        src.%I IS NOT NULL AND src.%I IS NOT NULL AND src.%I IS NOT NULL AS ok
                   FROM %s AS src) AS t',
        user_col, item_col, rating_col, user_col, item_col, rating_col, from_clause)
        INTO test_users, test_items, test_ratings, skipped
        USING '{}'::text[], '{}'::real[];
    RETURN QUERY SELECT e.rmse, e.mae, e.rows_scored, e.fallback_rows, skipped
                   FROM reco_internal.evaluate_ratings(model, test_users, test_items, test_ratings) AS e;
END
$evaluate_ratings$;
COMMENT ON FUNCTION reco.evaluate_ratings(text, text, text, text, text) IS
    'Accuracy of an explicit (als) model''s predicted ratings on held-out rated pairs: RMSE, MAE, the rows scored, how many a fallback predicted (unknown user or item) and the rows skipped for a NULL';

---------------------------------------------------------------------------
-- Cold start: features (0.7.0)
---------------------------------------------------------------------------

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
