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
