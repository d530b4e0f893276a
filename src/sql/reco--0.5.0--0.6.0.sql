/* reco 0.5.0 -> 0.6.0: more models and better defaults
 *
 * Brings a 0.5.0 database to exactly the catalog that the full install
 * script reco--0.6.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.6.0'" to load this file. \quit

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
