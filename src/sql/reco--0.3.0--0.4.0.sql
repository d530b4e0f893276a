/* reco 0.3.0 -> 0.4.0: internals out of the API's schema, ids as text
 *
 * Brings a 0.3.0 database to exactly the catalog that the full install
 * script reco--0.4.0.sql creates (test/sessions/upgrade.sh compares them).
 * The support functions move to the new schema reco_internal with ALTER ...
 * SET SCHEMA, so their OIDs, comments and grants stay (and the reco.fit
 * aggregates keep pointing at them); the plpgsql functions that call them are
 * replaced in place.
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.4.0'" to load this file. \quit

---------------------------------------------------------------------------
-- Internals: their own schema
---------------------------------------------------------------------------

-- Internals: callable by everyone (the plpgsql API calls them with the
-- caller's rights), out of the way of \df reco.*.
CREATE SCHEMA reco_internal;
COMMENT ON SCHEMA reco_internal IS
    'Internals of the reco extension (support functions of its API); not an API: names and signatures change between versions';
GRANT USAGE ON SCHEMA reco_internal TO PUBLIC;

ALTER FUNCTION reco.source_from_item(text) SET SCHEMA reco_internal;
ALTER FUNCTION reco.fit_transfn(internal, text, bigint, bigint, real) SET SCHEMA reco_internal;
ALTER FUNCTION reco.fit_transfn(internal, text, bigint, bigint, real, jsonb) SET SCHEMA reco_internal;
ALTER FUNCTION reco.fit_finalfn(internal) SET SCHEMA reco_internal;
ALTER FUNCTION reco.evaluate_pairs(text, bigint[], bigint[], integer) SET SCHEMA reco_internal;

CREATE OR REPLACE FUNCTION reco.train(model text, source text, options jsonb) RETURNS reco.models
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
    from_clause := reco_internal.source_from_item(source);
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

CREATE OR REPLACE FUNCTION reco.evaluate(
    model       text,
    test_source text,
    k           integer DEFAULT 10,
    user_col    text DEFAULT 'user_id',
    item_col    text DEFAULT 'item_id'
) RETURNS TABLE (
    precision_at_k double precision,
    recall_at_k double precision,
    map_at_k double precision,
    ndcg_at_k double precision,
    capped_precision double precision,
    auc double precision,
    coverage double precision,
    users_evaluated bigint,
    users_unknown bigint
)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $evaluate$
DECLARE
    from_clause text;
    test_users bigint[];
    test_items bigint[];
BEGIN
    IF model IS NULL OR test_source IS NULL OR k IS NULL OR user_col IS NULL OR item_col IS NULL THEN
        RAISE EXCEPTION 'model, test_source, k, user_col and item_col must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    from_clause := reco_internal.source_from_item(test_source);
    -- USING makes EXECUTE prepare the text: a source smuggling in a second statement fails
    EXECUTE pg_catalog.format(
        'SELECT COALESCE(pg_catalog.array_agg(u ORDER BY u, i), $1), COALESCE(pg_catalog.array_agg(i ORDER BY u, i), $1)
           FROM (SELECT DISTINCT src.%I::bigint AS u, src.%I::bigint AS i FROM %s AS src) AS pairs
          WHERE u IS NOT NULL AND i IS NOT NULL',
        user_col, item_col, from_clause)
        INTO test_users, test_items
        USING '{}'::bigint[];
    RETURN QUERY SELECT * FROM reco_internal.evaluate_pairs(model, test_users, test_items, k);
END
$evaluate$;
COMMENT ON FUNCTION reco.evaluate(text, text, integer, text, text) IS
    'Ranking metrics of the served model version on held-out (user, item) pairs';

---------------------------------------------------------------------------
-- Storage: the key of a text or uuid id
---------------------------------------------------------------------------

ALTER TABLE reco.user_factors ADD COLUMN user_key text;
ALTER TABLE reco.item_factors ADD COLUMN item_key text;
CREATE UNIQUE INDEX user_factors_user_key ON reco.user_factors (model_id, user_key) WHERE user_key IS NOT NULL;
CREATE UNIQUE INDEX item_factors_item_key ON reco.item_factors (model_id, item_key) WHERE item_key IS NOT NULL;
COMMENT ON COLUMN reco.user_factors.user_key IS
    'The user''s id as text when the model''s user ids are text or uuid (user_id is then its rank among the model''s keys); NULL for bigint ids';
COMMENT ON COLUMN reco.item_factors.item_key IS
    'The item''s id as text when the model''s item ids are text or uuid (item_id is then its rank among the model''s keys); NULL for bigint ids';

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
    fallback     text DEFAULT 'popular'
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, text, integer, boolean, text[], text[], text) IS
    'reco.recommend for a user id given as text (read as the model''s user id type); item ids come back as text';

CREATE FUNCTION reco.recommend(
    model        text,
    user_id      uuid,
    n            integer DEFAULT 10,
    exclude_seen boolean DEFAULT true,
    candidates   text[] DEFAULT NULL,
    exclude      text[] DEFAULT NULL,
    fallback     text DEFAULT 'popular'
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend(text, uuid, integer, boolean, text[], text[], text) IS
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
    fallback     text DEFAULT 'popular'
) RETURNS TABLE (item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_for_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.recommend_for_items_text(text, text[], real[], integer, boolean, text[], text[], text) IS
    'reco.recommend_for_items with item ids given and returned as text (read as the model''s item id type)';

CREATE FUNCTION reco.similar_items(
    model      text,
    item_id    text,
    n          integer DEFAULT 10,
    candidates text[] DEFAULT NULL
) RETURNS TABLE (item_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_items(text, text, integer, text[]) IS
    'reco.similar_items for an item id given as text (read as the model''s item id type); item ids come back as text';

CREATE FUNCTION reco.similar_items(
    model      text,
    item_id    uuid,
    n          integer DEFAULT 10,
    candidates text[] DEFAULT NULL
) RETURNS TABLE (item_id text, similarity real)
    AS 'MODULE_PATHNAME', 'reco_similar_items'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION reco.similar_items(text, uuid, integer, text[]) IS
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
    exclude_seen boolean DEFAULT true
) RETURNS TABLE (user_id text, rank integer, item_id text, score real)
    AS 'MODULE_PATHNAME', 'reco_recommend_all'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10000;
COMMENT ON FUNCTION reco.recommend_all_text(text, integer, text[], boolean) IS
    'reco.recommend_all with user ids given and user and item ids returned as text (read as the model''s id types)';
