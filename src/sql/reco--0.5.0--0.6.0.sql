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
