/* reco 0.5.0 -> 0.6.0: more models and better defaults
 *
 * Brings a 0.5.0 database to exactly the catalog that the full install
 * script reco--0.6.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.6.0'" to load this file. \quit

---------------------------------------------------------------------------
-- Tuning (issue 16)
---------------------------------------------------------------------------

-- The keys of reco.train's options form: the argument names of its long
-- form (the reco.train with more than three arguments) after source, read
-- from the catalog, so that an option added to reco.train is a key here at once.
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
