/* reco 0.1.0 -> 0.2.0: dropping models, forgetting users, single-statement sources
 *
 * Brings a 0.1.0 database to exactly the catalog that the full install
 * script reco--0.2.0.sql creates (test/sessions/upgrade.sh compares them).
 * Changed functions are redefined with CREATE OR REPLACE, which keeps their
 * OIDs, comments and grants.
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.2.0'" to load this file. \quit

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
    DELETE FROM reco.models AS m WHERE m.name = drop_model.name;
    GET DIAGNOSTICS dropped = ROW_COUNT;
    IF dropped = 0 THEN
        RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = '42704';
    END IF;
    RETURN dropped;
END
$drop$;
COMMENT ON FUNCTION reco.drop_model(text) IS
    'Removes every version of a model (its models rows and all its factor rows); returns the number of versions';

CREATE FUNCTION reco.forget_user(user_id bigint, model text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $forget$
DECLARE
    model_name text;
    forgotten integer;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF model IS NOT NULL AND NOT EXISTS (SELECT FROM reco.models AS m WHERE m.name = model) THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = '42704';
    END IF;
    -- wait for trainings that are storing now, in name order (no lock-order deadlock
    -- between two forget_user calls), so that their versions are cleaned too
    FOR model_name IN
        SELECT DISTINCT m.name FROM reco.models AS m
         WHERE model IS NULL OR m.name = model ORDER BY 1
    LOOP
        PERFORM reco.lock_model(model_name);
    END LOOP;
    WITH removed AS (
        DELETE FROM reco.user_factors AS f USING reco.models AS m
         WHERE f.user_id = forget_user.user_id AND f.model_id = m.model_id
           AND (model IS NULL OR m.name = model)
        RETURNING f.model_id
    )
    UPDATE reco.models AS m
       SET n_users = m.n_users - 1,
           stats = m.stats || pg_catalog.jsonb_build_object(
               'users_forgotten', COALESCE((m.stats ->> 'users_forgotten')::bigint, 0) + 1)
      FROM removed
     WHERE m.model_id = removed.model_id;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END
$forget$;
COMMENT ON FUNCTION reco.forget_user(bigint, text) IS
    'Removes a user''s factors and stored interactions from every version of every model (or of one model); returns the number of versions changed';

---------------------------------------------------------------------------
-- Evaluation: the source runs as one statement (prepared with a parameter)
---------------------------------------------------------------------------

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
    from_clause := reco.source_from_item(test_source);
    -- USING makes EXECUTE prepare the text: a source smuggling in a second statement fails
    EXECUTE pg_catalog.format(
        'SELECT COALESCE(pg_catalog.array_agg(u ORDER BY u, i), $1), COALESCE(pg_catalog.array_agg(i ORDER BY u, i), $1)
           FROM (SELECT DISTINCT src.%I::bigint AS u, src.%I::bigint AS i FROM %s AS src) AS pairs
          WHERE u IS NOT NULL AND i IS NOT NULL',
        user_col, item_col, from_clause)
        INTO test_users, test_items
        USING '{}'::bigint[];
    RETURN QUERY SELECT * FROM reco.evaluate_pairs(model, test_users, test_items, k);
END
$evaluate$;

---------------------------------------------------------------------------
-- Sources: a name that is not even a name says so, naming the source
---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION reco.source_from_item(source text) RETURNS text
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

---------------------------------------------------------------------------
-- Storage: a models row the kernels could not serve is refused when written
---------------------------------------------------------------------------

ALTER TABLE reco.models
    ADD CONSTRAINT models_factors_check CHECK (factors BETWEEN 1 AND 1024),
    ADD CONSTRAINT models_counts_check CHECK (n_users >= 0 AND n_items >= 0 AND n_interactions >= 0);

-- every object has a comment (0.1.0 had none on the sequence)
COMMENT ON SEQUENCE reco.models_model_id_seq IS 'Source of reco.models.model_id: a new id for every trained version';
