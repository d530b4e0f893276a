-- train_direct: reco.train reads a plain table by a heap scan (reco_internal.fit_table,
-- stats read_path 'direct') and through the executor wherever the scan would not read
-- what SELECT reco.fit(...) FROM source reads (read_path 'executor'); both paths give
-- the same factors bit for bit on the same rows: NULL rows, duplicates summed in heap
-- order, updated rows, dropped columns, columns in another order.
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY terse
-- ids integer and bigint, a double precision weight that real rounds, a dropped column
-- and the columns in another order than user, item, weight
CREATE TABLE dr (pad text, w float8, dropped int, item_id bigint, user_id integer);
INSERT INTO dr (pad, w, dropped, item_id, user_id)
SELECT 'x', 0.1 * (1 + (u * j) % 7) + 1e-9 * j, 0, (u * 5 + j * j) % 23, u
  FROM generate_series(1, 60) AS u, generate_series(1, 9) AS j;
-- the same pairs again with other weights: three or more copies summed in row order
INSERT INTO dr (w, item_id, user_id) SELECT w / 3, item_id, user_id FROM dr WHERE user_id % 3 = 0;
INSERT INTO dr (w, item_id, user_id) SELECT 0.7, item_id, user_id FROM dr WHERE user_id % 3 = 0;
-- rows with a NULL user, item or weight: read, counted, skipped
INSERT INTO dr (w, item_id, user_id) VALUES (NULL, 1, 1), (1, NULL, 1), (1, 1, NULL);
ALTER TABLE dr DROP COLUMN dropped;
-- updated rows move to the end of the heap: both paths read heap order
UPDATE dr SET w = w + 0.25 WHERE user_id % 7 = 0;
-- trains models from `source` and from `twin` with the same options; returns how each
-- read its rows, the first's counts and whether the two stored the same factor bytes
CREATE FUNCTION dr_pair(source text, twin text, options jsonb DEFAULT '{}') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  o jsonb := '{"weight_col": "w", "factors": 5, "iterations": 3, "threads": 1}'::jsonb || options;
  m reco.models := reco.train('dr_a', source, o);
  t reco.models := reco.train('dr_b', twin, o);
  digest text := $q$SELECT (SELECT md5(string_agg(encode(f.factors, 'hex'), ',' ORDER BY f.item_id))
                              FROM reco.item_factors AS f WHERE f.model_id = $1) || ' ' ||
                           (SELECT md5(string_agg(encode(f.factors, 'hex'), ',' ORDER BY f.user_id))
                              FROM reco.user_factors AS f WHERE f.model_id = $1)$q$;
  dm text;
  dt text;
BEGIN
  EXECUTE digest INTO dm USING m.model_id;
  EXECUTE digest INTO dt USING t.model_id;
  RETURN format('%s/%s rows_read %s skipped %s merged %s users %s items %s, same factors: %s',
                m.stats ->> 'read_path', t.stats ->> 'read_path', m.stats -> 'rows_read', m.stats -> 'rows_skipped',
                m.stats -> 'duplicates_merged', m.n_users, m.n_items, dm IS NOT DISTINCT FROM dt AND dm IS NOT NULL);
END $$;
-- the table: direct; the same rows as a query: the executor; the same factors
SELECT dr_pair('dr', 'SELECT * FROM dr') AS table_and_query;
-- the aggregate itself on the same rows: the same factors
SELECT (reco.fit('dr_fit', user_id, item_id, w::real, '{"factors": 5, "iterations": 3, "threads": 1}')).stats ->> 'read_path' AS fit FROM dr;
SELECT stats ->> 'read_path' AS train FROM reco.train('dr_a', 'dr', weight_col => 'w', factors => 5, iterations => 3, threads => 1);
SELECT (SELECT md5(string_agg(encode(f.factors, 'hex'), ',' ORDER BY f.item_id))
          FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id) WHERE m.name = 'dr_fit') =
       (SELECT md5(string_agg(encode(f.factors, 'hex'), ',' ORDER BY f.item_id))
          FROM reco.item_factors AS f JOIN reco.models AS m USING (model_id)
         WHERE m.name = 'dr_a' AND m.version = (SELECT max(version) FROM reco.models WHERE name = 'dr_a'))
       AS aggregate_same;
-- no weight column: every weight 1; algorithms als and bpr too
SELECT dr_pair('dr', 'TABLE dr', '{"weight_col": null}') AS weight_1;
SELECT dr_pair('dr', 'TABLE dr', '{"algorithm": "als"}') AS als;
SELECT dr_pair('dr', 'TABLE dr', '{"algorithm": "bpr"}') AS bpr;
SELECT dr_pair('dr', 'TABLE dr', '{"threads": 2, "solver": "cholesky"}') AS two_threads;
-- smallint and integer ids, integer and real weights: direct, as the casts
CREATE TABLE dr_small AS SELECT user_id::smallint AS user_id, item_id::int AS item_id, (w * 10)::int AS w FROM dr;
SELECT dr_pair('dr_small', 'TABLE dr_small') AS small;
CREATE TABLE dr_real AS SELECT user_id, item_id::smallint AS item_id, w::real AS w FROM dr;
SELECT dr_pair('dr_real', 'TABLE dr_real') AS real;
-- a partition alone is a plain table
CREATE TABLE dr_parted (user_id bigint, item_id bigint, w float8) PARTITION BY RANGE (user_id);
CREATE TABLE dr_parted_1 PARTITION OF dr_parted DEFAULT;
INSERT INTO dr_parted SELECT user_id, item_id, w FROM dr;
SELECT dr_pair('dr_parted_1', 'TABLE dr') AS partition;
-- an index covering the columns: the query's plan can be an index-only scan (on wide rows
-- whose pages are all visible, or here with seq and bitmap scans off), which reads a pair's rows in
-- the index's order; 1 + 2^-24 + 2^-24 sums to another float in that order, so only the
-- executor gives the query's factors
CREATE TABLE dr_covered (user_id int, item_id int, w float8);
INSERT INTO dr_covered
SELECT u, (u * 5 + j * j) % 23, c.w
  FROM generate_series(1, 60) AS u, generate_series(1, 9) AS j,
       (VALUES (1, 1.0), (2, power(2, -24)), (3, power(2, -24))) AS c(k, w)
 ORDER BY u, j, c.k;
CREATE INDEX dr_covered_cover ON dr_covered (user_id, item_id, w);
VACUUM ANALYZE dr_covered;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT reco.fit('x', user_id, item_id, w::real) FROM dr_covered;
SELECT dr_pair('dr_covered', 'TABLE dr_covered') AS index_only_scan;
-- the rows in heap order (a sort by ctid) give other factors than the index's order
SELECT dr_pair('TABLE dr_covered', 'SELECT * FROM dr_covered ORDER BY ctid') AS index_order_differs;
RESET enable_bitmapscan;
SET enable_indexonlyscan = off;
SELECT dr_pair('dr_covered', 'TABLE dr_covered') AS no_index_only_scan;
RESET enable_indexonlyscan;
SELECT dr_pair('dr', 'TABLE dr') AS seqscan_off_no_index;
CREATE INDEX dr_ids ON dr (user_id, item_id);
SELECT dr_pair('dr', 'TABLE dr', '{"weight_col": null}') AS seqscan_off_covering_ids;
RESET enable_seqscan;
SELECT dr_pair('dr', 'TABLE dr', '{"weight_col": null}') AS covering_ids_seq_scan;
DROP INDEX dr_ids;

-- fallbacks, each with the executor's factors
CREATE VIEW dr_view AS SELECT * FROM dr;
SELECT dr_pair('dr_view', 'TABLE dr') AS view;
SELECT dr_pair('dr_parted', 'TABLE dr') AS partitioned;
CREATE TABLE dr_parent (user_id bigint, item_id bigint, w float8);
CREATE TABLE dr_child () INHERITS (dr_parent);
INSERT INTO dr_child SELECT user_id, item_id, w FROM dr;
SELECT dr_pair('dr_parent', 'TABLE dr') AS inherited;
CREATE ACCESS METHOD dr_heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE dr_am USING dr_heap2 AS SELECT * FROM dr;
SELECT dr_pair('dr_am', 'TABLE dr') AS other_access_method;
CREATE EXTENSION file_fdw;
CREATE SERVER dr_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE dr_foreign (user_id bigint, item_id bigint, w float8)
  SERVER dr_files OPTIONS (program 'printf "1,2,0.5\n1,3,1\n2,2,1\n"', format 'csv');
SELECT dr_pair('dr_foreign', 'TABLE dr_foreign') AS foreign_table;
-- column types the scan does not convert: numeric, text ids (the text aggregate)
CREATE TABLE dr_numeric_w AS SELECT user_id, item_id, w::numeric AS w FROM dr;
SELECT dr_pair('dr_numeric_w', 'TABLE dr') AS numeric_weight;
CREATE TABLE dr_numeric_id AS SELECT user_id::numeric AS user_id, item_id, w FROM dr;
SELECT dr_pair('dr_numeric_id', 'TABLE dr') AS numeric_id;
CREATE TABLE dr_text AS SELECT user_id::text AS user_id, item_id, w FROM dr;
SELECT dr_pair('dr_text', 'TABLE dr_text') AS text_ids;
-- an event time: the aggregate with a time
CREATE TABLE dr_timed AS SELECT *, timestamptz '2026-01-01' + user_id * interval '1 day' AS t FROM dr;
SELECT dr_pair('dr_timed', 'TABLE dr_timed', '{"time_col": "t", "half_life": "30 days"}') AS timed;
-- row security enabled (even where it would not apply, for the owner): the executor
CREATE TABLE dr_rls AS SELECT * FROM dr;
ALTER TABLE dr_rls ENABLE ROW LEVEL SECURITY;
SELECT dr_pair('dr_rls', 'TABLE dr') AS row_security;
-- a role with column privileges only (no table-wide SELECT): the query checks them
CREATE ROLE regress_dr_trainer;
GRANT USAGE ON SCHEMA reco TO regress_dr_trainer;
GRANT SELECT, INSERT, DELETE ON reco.models, reco.user_factors, reco.item_factors TO regress_dr_trainer;
GRANT USAGE ON SEQUENCE reco.models_model_id_seq TO regress_dr_trainer;
GRANT SELECT (pad, w, item_id, user_id) ON dr TO regress_dr_trainer;
SET ROLE regress_dr_trainer;
SELECT dr_pair('dr', 'TABLE dr') AS column_privileges;
RESET ROLE;
-- row security that applies: the role trains on its visible rows only
GRANT SELECT ON dr_rls TO regress_dr_trainer;
CREATE POLICY dr_some ON dr_rls FOR SELECT TO regress_dr_trainer USING (user_id <= 30);
SET ROLE regress_dr_trainer;
SELECT dr_pair('dr_rls', 'SELECT * FROM dr_rls WHERE user_id <= 30') AS row_security_applied;
-- no SELECT at all: the query's error (42501)
\set VERBOSITY sqlstate
SELECT dr_pair('dr_small', 'TABLE dr');
\set VERBOSITY terse
RESET ROLE;

-- in a transaction: rows the transaction wrote are read as the query reads them; the table's
-- AccessShareLock is held to the end and, serializable, the seq scan's relation SIReadLock taken
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO dr (w, item_id, user_id) VALUES (0.5, 1, 61), (0.5, 2, 61);
DELETE FROM dr WHERE user_id = 2;
SELECT dr_pair('dr', 'TABLE dr') AS repeatable_read_own_rows;
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT (reco_internal.fit_table('dr_x', 'dr', 'user_id', 'item_id', 'w', '{"factors": 2, "iterations": 1}')).stats ->> 'read_path' AS serializable;
SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = 'dr'::regclass ORDER BY mode;
ROLLBACK;
-- an error caught in a subtransaction leaves no version and no reco.training_progress row
CREATE TABLE dr_bad AS SELECT * FROM dr_real;
INSERT INTO dr_bad VALUES (3, 4, 'Infinity');
DO $$ BEGIN PERFORM reco.train('dr_bad', 'dr_bad', weight_col => 'w'); EXCEPTION WHEN data_exception THEN NULL; END $$;
SELECT (SELECT count(*) FROM reco.training_progress WHERE pid = pg_backend_pid()) AS progress_rows,
       (SELECT count(*) FROM reco.models WHERE name = 'dr_bad') AS versions;

-- bad inputs keep their SQLSTATEs on the direct path
\set VERBOSITY sqlstate
CREATE TABLE dr_empty (user_id bigint, item_id bigint, w real);
SELECT dr_pair('dr_empty', 'TABLE dr');
SELECT dr_pair('TABLE dr_empty', 'TABLE dr');
CREATE TABLE dr_nan AS SELECT * FROM dr_real;
INSERT INTO dr_nan VALUES (3, 4, 'NaN');
SELECT dr_pair('dr_nan', 'TABLE dr');
SELECT dr_pair('TABLE dr_nan', 'TABLE dr');
-- a double precision weight out of real's range: the cast's error, even beside a NULL user
CREATE TABLE dr_huge AS SELECT * FROM dr;
INSERT INTO dr_huge VALUES (NULL, 1e300, 1, NULL);
SELECT dr_pair('dr_huge', 'TABLE dr');
SELECT dr_pair('TABLE dr_huge', 'TABLE dr');
SELECT dr_pair('dr', 'TABLE dr', '{"factors": 0}');
SELECT dr_pair('dr', 'TABLE dr', '{"solver": "lu"}');
SELECT dr_pair('dr', 'TABLE dr', '{"user_col": "nope"}');
SELECT dr_pair('dr', 'TABLE dr', '{"algorithm": "bpr", "cg_steps": 2}');
SELECT reco.train(repeat('n', 200), 'dr');
-- the internal function on a source it does not read: NULL, nothing read or stored
\set VERBOSITY terse
SELECT reco_internal.fit_table('dr_x', 'dr_view', 'user_id', 'item_id', 'w', '{}') IS NULL AS view_is_null,
       reco_internal.fit_table('dr_x', 'dr', 'user_id', 'item_id', 'pad', '{}') IS NULL AS text_weight_is_null,
       reco_internal.fit_table('dr_x', 'dr', 'user_id', 'nope', 'w', '{}') IS NULL AS missing_is_null,
       reco_internal.fit_table('dr_x', 'dr', 'ctid', 'item_id', 'w', '{}') IS NULL AS system_column_is_null,
       (SELECT count(*) FROM reco.models WHERE name = 'dr_x') AS stored;

-- the row arrays' room: the direct read reserves it from the table's rows per page
-- (reltuples / relpages) times its pages, then grows past it; 10,000 rows, more than the
-- arrays' first room (4096), so the executor grows its arrays too; the same factors
-- whether the estimate is right, too small, too large or absent
CREATE TABLE dr_room AS
SELECT u % 97 AS user_id, (u * 31) % 89 AS item_id, 0.125 * (1 + u % 5)::float8 AS w FROM generate_series(1, 10000) AS u;
VACUUM ANALYZE dr_room;
SELECT reltuples, relpages > 0 AS has_pages FROM pg_class WHERE oid = 'dr_room'::regclass;
SELECT dr_pair('dr_room', 'TABLE dr_room') AS room_estimated;
UPDATE pg_class SET reltuples = 100 WHERE oid = 'dr_room'::regclass;
SELECT dr_pair('dr_room', 'TABLE dr_room') AS room_too_small;
UPDATE pg_class SET reltuples = 1e6 WHERE oid = 'dr_room'::regclass;
SELECT dr_pair('dr_room', 'TABLE dr_room') AS room_too_large;
-- an absurd estimate (set by hand or a stats tool) is capped at a page's line pointers
UPDATE pg_class SET reltuples = 1e15 WHERE oid = 'dr_room'::regclass;
SELECT dr_pair('dr_room', 'TABLE dr_room') AS room_absurd;
UPDATE pg_class SET reltuples = -1 WHERE oid = 'dr_room'::regclass;
SELECT dr_pair('dr_room', 'TABLE dr_room') AS room_unknown;

-- cleanup
SELECT count(*) > 0 AS dropped FROM (SELECT reco.drop_model(name) FROM reco.models WHERE name LIKE 'dr\_%' GROUP BY name) AS d;
DROP OWNED BY regress_dr_trainer;
DROP ROLE regress_dr_trainer;
DROP TABLE dr, dr_small, dr_real, dr_covered, dr_bad, dr_parted, dr_parent, dr_child, dr_am, dr_numeric_w, dr_numeric_id, dr_text, dr_timed, dr_rls,
  dr_empty, dr_nan, dr_huge, dr_room CASCADE;
DROP ACCESS METHOD dr_heap2;
DROP EXTENSION file_fdw CASCADE;
DROP FUNCTION dr_pair(text, text, jsonb);
