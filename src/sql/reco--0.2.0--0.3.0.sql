/* reco 0.2.0 -> 0.3.0: best-sellers when nothing is known, reco.train's options form
 *
 * Brings a 0.2.0 database to exactly the catalog that the full install
 * script reco--0.3.0.sql creates (test/sessions/upgrade.sh compares them).
 * reco.recommend's long form and reco.recommend_for_items gain a trailing
 * argument (fallback), so they are dropped and created again: grants made on
 * them in 0.2.0 must be made again.  reco.train's long form keeps its
 * signature and is replaced in place (its OID, comment and grants stay).
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.3.0'" to load this file. \quit

---------------------------------------------------------------------------
-- Training: the long form passes everything to the new options form
---------------------------------------------------------------------------

-- The long form: every argument is a reco.fit option or a column name; it
-- passes them all to the options form.  The argument defaults are reco.fit's
-- own (RECO_DEFAULT_ in src/reco_limits.h).
CREATE OR REPLACE FUNCTION reco.train(
    model          text,
    source         text,
    user_col       text DEFAULT 'user_id',
    item_col       text DEFAULT 'item_id',
    weight_col     text DEFAULT NULL,
    algorithm      text DEFAULT 'ials',
    factors        integer DEFAULT 64,
    regularization real DEFAULT 50,
    alpha          real DEFAULT 1.0,
    iterations     integer DEFAULT 15,
    seed           bigint DEFAULT 42,
    cg_steps       integer DEFAULT 3,
    solver         text DEFAULT 'cg',
    threads        integer DEFAULT NULL,
    keep_versions  integer DEFAULT 2
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
        'solver', solver, 'threads', threads, 'keep_versions', keep_versions));
END
$train$;
COMMENT ON FUNCTION reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer) IS
    'Trains a new model version from a table, view or query (a wrapper of the reco.fit aggregate)';

-- The options form: the keys are the long form's argument names after
-- source (read from the catalog, so the two forms cannot drift apart); an
-- unknown key is an error that lists them (22023), a JSON null is the
-- default.  With no weight_col, a source column named like a weight (the
-- list below, case-insensitive) is reported in a NOTICE: every row trains
-- with weight 1.
CREATE FUNCTION reco.train(model text, source text, options jsonb) RETURNS reco.models
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $train$
DECLARE
    valid_keys text[];
    key text;
    user_col text;
    item_col text;
    weight_col text;
    fit_options jsonb;
    from_clause text;
    source_keys text[];
    weight_like text[];
    result reco.models;
BEGIN
    IF model IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'model and source must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT pg_catalog.array_agg(a.name ORDER BY a.pos) INTO valid_keys
      FROM pg_catalog.unnest((SELECT p.proargnames FROM pg_catalog.pg_proc AS p
             WHERE p.oid OPERATOR(pg_catalog.=) 'reco.train(text, text, text, text, text, text, integer, real, real, integer, bigint, integer, text, integer, integer)'::pg_catalog.regprocedure))
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
    FOREACH key IN ARRAY ARRAY['user_col', 'item_col', 'weight_col'] LOOP
        IF pg_catalog.jsonb_typeof(options OPERATOR(pg_catalog.->) key) NOT IN ('string', 'null') THEN
            RAISE EXCEPTION 'option "%" must be a string (a column name)', key USING ERRCODE = '22023';
        END IF;
    END LOOP;
    user_col := COALESCE(options OPERATOR(pg_catalog.->>) 'user_col', 'user_id');
    item_col := COALESCE(options OPERATOR(pg_catalog.->>) 'item_col', 'item_id');
    weight_col := options OPERATOR(pg_catalog.->>) 'weight_col';
    fit_options := pg_catalog.jsonb_strip_nulls(COALESCE(options, '{}')
        OPERATOR(pg_catalog.-) 'user_col' OPERATOR(pg_catalog.-) 'item_col' OPERATOR(pg_catalog.-) 'weight_col');
    from_clause := reco.source_from_item(source);
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
    EXECUTE pg_catalog.format(
        'SELECT (m).* FROM (SELECT reco.fit($1, src.%I::bigint, src.%I::bigint, %s, $2) AS m FROM %s AS src) AS fitted',
        user_col, item_col,
        CASE WHEN weight_col IS NULL THEN '1::real'
             ELSE pg_catalog.format('src.%I::real', weight_col) END,
        from_clause)
        INTO STRICT result
        USING model, fit_options;
    RETURN result;
END
$train$;
COMMENT ON FUNCTION reco.train(text, text, jsonb) IS
    'Trains a new model version with its arguments as a jsonb object (the long form''s names after source); an unknown key lists the valid ones';

---------------------------------------------------------------------------
-- Serving: the best-seller fallback
---------------------------------------------------------------------------

DROP FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[]);
CREATE FUNCTION reco.recommend(
    model        text,
    user_id      bigint,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular'
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, bigint, integer, boolean, bigint[], bigint[], text) IS
    'The n best items for a user of the model''s newest version, best first (exact scores, ties by item id); a NULL or unknown user gets the most popular items (score = popularity) unless fallback is ''none''';

COMMENT ON FUNCTION reco.recommend(bigint, bigint) IS
    'Short form: the n best items for a user of the model named by reco.model (or the only model); an unknown user gets the most popular items';

DROP FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[]);
CREATE FUNCTION reco.recommend_for_items(
    model        text,
    items        bigint[],
    weights      real[] DEFAULT NULL,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,
    exclude      bigint[] DEFAULT NULL,
    fallback     text DEFAULT 'popular'
) RETURNS TABLE (item_id bigint, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items(text, bigint[], real[], integer, boolean, bigint[], bigint[], text) IS
    'The n best items for an anonymous user or a cart: the interactions are folded in with training''s exact least-squares step; a cart with no known item gets the most popular items (score = popularity) unless fallback is ''none''';
