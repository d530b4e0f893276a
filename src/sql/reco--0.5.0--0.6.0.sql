/* reco 0.5.0 -> 0.6.0: more models and better defaults
 *
 * Brings a 0.5.0 database to exactly the catalog that the full install
 * script reco--0.6.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.6.0'" to load this file. \quit

-- reco.train's long form gains learning_rate (bpr), reg_exponent (ials, als)
-- and unobserved_weight (ials); its algorithm-dependent arguments default to
-- NULL (the algorithm's default).  The options form reads its keys from the
-- new signature.
DROP FUNCTION reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz);

-- The long form: every argument is a reco.fit option or a column name; it
-- passes them all to the options form.  The argument defaults are reco.fit's
-- own (RECO_DEFAULT_ in src/reco_limits.h); NULL is the algorithm's default,
-- for the options whose default depends on the algorithm or that apply to
-- only some algorithms.
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
    unobserved_weight real DEFAULT NULL
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
        'unobserved_weight', unobserved_weight));
END
$train$;
COMMENT ON FUNCTION reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz, real, real, real) IS
    'Trains a new model version from a table, view or query (a wrapper of the reco.fit aggregate)';

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
CREATE OR REPLACE FUNCTION reco.train(model text, source text, options jsonb) RETURNS reco.models
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
    SELECT pg_catalog.array_agg(a.name ORDER BY a.pos) INTO valid_keys
      FROM pg_catalog.unnest((SELECT p.proargnames FROM pg_catalog.pg_proc AS p
             WHERE p.oid OPERATOR(pg_catalog.=) 'reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer, text, interval, timestamptz, real, real, real)'::pg_catalog.regprocedure))
           WITH ORDINALITY AS a(name, pos)
     WHERE a.pos OPERATOR(pg_catalog.>) 2;
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
    OUT elapsed_seconds double precision
) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'reco_training_progress'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION reco_internal.training_progress() IS
    'One row per backend that is training (empty unless reco is in shared_preload_libraries); another role''s training shows only its pid and database';

CREATE VIEW reco.training_progress AS
    SELECT p.pid, p.datid, d.datname, p.model, p.algorithm, p.phase, p.iteration, p.iterations,
           p.loss, p.rows_read, p.started_at, p.elapsed_seconds
      FROM reco_internal.training_progress() AS p
      LEFT JOIN pg_catalog.pg_database AS d ON d.oid OPERATOR(pg_catalog.=) p.datid;
COMMENT ON VIEW reco.training_progress IS
    'Trainings running now, one row per backend, like pg_stat_progress_create_index: phase (reading, waiting, building, iterating, final pass, storing), iteration of iterations, last loss, rows read, elapsed seconds; empty unless reco is in shared_preload_libraries';
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
