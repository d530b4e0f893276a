/* reco 0.7.0 -> 0.8.0: reco.train reads a plain table without the executor
 *
 * Brings a 0.7.0 database to exactly the catalog that the full install
 * script reco--0.8.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.8.0'" to load this file. \quit

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

-- reco.train's options form calls it (same signature: its grants and comment stay).
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
