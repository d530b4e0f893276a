-- api.sql: reco's SQL surface — every function's volatility and PARALLEL label,
-- comments on every object, the storage tables, and the factor format's errors.
BEGIN;
SELECT plan(23);

-- (CREATE AGGREGATE always records provolatile 'i'; an aggregate's volatility
-- comes from its support functions, which are volatile for reco.fit.)
SELECT results_eq(
    $$SELECT p.oid::regprocedure::text, p.prokind::text, p.provolatile::text, p.proparallel::text
        FROM pg_proc p
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
         AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'reco'
       ORDER BY 1$$,
    $$VALUES
        ('reco.cache_info()', 'f', 'v', 'r'),
        ('reco.cache_reset()', 'f', 'v', 'r'),
        ('reco.drop_model(text)', 'f', 'v', 'u'),
        ('reco.evaluate(text,text,integer,text,text,real,boolean,real,real,bigint)', 'f', 's', 'r'),
        ('reco.evaluate_ratings(text,text,text,text,text)', 'f', 's', 'r'),
        ('reco.explain(text,bigint,bigint,integer)', 'f', 's', 's'),
        ('reco.explain(text,text,text,integer)', 'f', 's', 's'),
        ('reco.explain_features(text,bigint,bigint)', 'f', 's', 's'),
        ('reco.explain_features(text,text,text)', 'f', 's', 's'),
        ('reco.explain_features(text,uuid,uuid)', 'f', 's', 's'),
        ('reco.explore(text,bigint,integer,bigint,real,real,boolean,bigint[],bigint[])', 'f', 'v', 's'),
        ('reco.explore(text,text,integer,bigint,real,real,boolean,text[],text[])', 'f', 'v', 's'),
        ('reco.explore(text,uuid,integer,bigint,real,real,boolean,text[],text[])', 'f', 'v', 's'),
        ('reco.fit(text,bigint,bigint,real)', 'a', 'i', 'u'),
        ('reco.fit(text,bigint,bigint,real,jsonb)', 'a', 'i', 'u'),
        ('reco.fit(text,bigint,bigint,real,timestamp with time zone,jsonb)', 'a', 'i', 'u'),
        ('reco.fit(text,text,text,real)', 'a', 'i', 'u'),
        ('reco.fit(text,text,text,real,jsonb)', 'a', 'i', 'u'),
        ('reco.fit(text,text,text,real,timestamp with time zone,jsonb)', 'a', 'i', 'u'),
        ('reco.forget_user(bigint,text)', 'f', 'v', 'u'),
        ('reco.forget_user(text,text)', 'f', 'v', 'u'),
        ('reco.forget_user(uuid,text)', 'f', 'v', 'u'),
        ('reco.import_model(text,text,text,jsonb)', 'f', 'v', 'u'),
        ('reco.lock_model(text)', 'f', 'v', 'u'),
        ('reco.place_item(text,bigint,jsonb)', 'f', 'v', 'u'),
        ('reco.place_item(text,text,jsonb)', 'f', 'v', 'u'),
        ('reco.place_item(text,uuid,jsonb)', 'f', 'v', 'u'),
        ('reco.place_user(text,bigint,jsonb)', 'f', 'v', 'u'),
        ('reco.place_user(text,text,jsonb)', 'f', 'v', 'u'),
        ('reco.place_user(text,uuid,jsonb)', 'f', 'v', 'u'),
        ('reco.predict(text,bigint,bigint)', 'f', 's', 's'),
        ('reco.predict(text,bigint[],bigint[])', 'f', 's', 's'),
        ('reco.predict(text,text,text)', 'f', 's', 's'),
        ('reco.predict(text,text[],text[])', 'f', 's', 's'),
        ('reco.predict(text,uuid,uuid)', 'f', 's', 's'),
        ('reco.recommend(bigint,bigint)', 'f', 's', 's'),
        ('reco.recommend(text,bigint,integer,boolean,bigint[],bigint[],text,real,boolean)', 'f', 's', 's'),
        ('reco.recommend(text,text,integer,boolean,text[],text[],text,real,boolean)', 'f', 's', 's'),
        ('reco.recommend(text,uuid,integer,boolean,text[],text[],text,real,boolean)', 'f', 's', 's'),
        ('reco.recommend(uuid,bigint)', 'f', 's', 's'),
        ('reco.recommend_all(text,integer,bigint[],boolean,real)', 'f', 's', 's'),
        ('reco.recommend_all_text(text,integer,text[],boolean,real)', 'f', 's', 's'),
        ('reco.recommend_for_items(text,bigint[],real[],integer,boolean,bigint[],bigint[],text,real,boolean,jsonb)', 'f', 's', 's'),
        ('reco.recommend_for_items_text(text,text[],real[],integer,boolean,text[],text[],text,real,boolean,jsonb)', 'f', 's', 's'),
        ('reco.refresh_items(text,bigint[],text)', 'f', 'v', 'u'),
        ('reco.refresh_items_text(text,text[],text)', 'f', 'v', 'u'),
        ('reco.refresh_users(text,bigint[],text)', 'f', 'v', 'u'),
        ('reco.refresh_users_text(text,text[],text)', 'f', 'v', 'u'),
        ('reco.segment_top_items(text,integer,integer)', 'f', 's', 's'),
        ('reco.segment_top_items_text(text,integer,integer)', 'f', 's', 's'),
        ('reco.segment_users(text,integer,bigint)', 'f', 'v', 'u'),
        ('reco.segment_users_text(text,integer,bigint)', 'f', 'v', 'u'),
        ('reco.shared_cache_info()', 'f', 'v', 'r'),
        ('reco.similar_items(text,bigint,integer,bigint[],boolean)', 'f', 's', 's'),
        ('reco.similar_items(text,text,integer,text[],boolean)', 'f', 's', 's'),
        ('reco.similar_items(text,uuid,integer,text[],boolean)', 'f', 's', 's'),
        ('reco.similar_to_features(text,jsonb,integer,bigint[],boolean)', 'f', 's', 's'),
        ('reco.similar_to_features_text(text,jsonb,integer,text[],boolean)', 'f', 's', 's'),
        ('reco.similar_users(text,bigint,integer)', 'f', 's', 's'),
        ('reco.similar_users(text,text,integer)', 'f', 's', 's'),
        ('reco.similar_users(text,uuid,integer)', 'f', 's', 's'),
        ('reco.to_array(bytea)', 'f', 'i', 's'),
        ('reco.to_bytea(real[])', 'f', 'i', 's'),
        ('reco.train(text,text,jsonb)', 'f', 'v', 'u'),
        ('reco.train(text,text,text,text,text,text,integer,real,real,integer,bigint,integer,text,integer,integer,text,interval,timestamp with time zone,real,real,real,text[],text[],real,text)', 'f', 'v', 'u'),
        ('reco.tune(text,text,text,jsonb,text,integer,integer,bigint,jsonb,text,text,text)', 'f', 'v', 'u'),
        ('reco.version()', 'f', 's', 's'),
        ('reco_internal.evaluate_pairs(text,bigint[],bigint[],integer,real,boolean,real,real,bigint)', 'f', 's', 's'),
        ('reco_internal.evaluate_ratings(text,text[],text[],real[])', 'f', 's', 's'),
        ('reco_internal.event_time_sql(text,text)', 'f', 's', 's'),
        ('reco_internal.fit_finalfn(internal)', 'f', 'v', 'u'),
        ('reco_internal.fit_table(text,regclass,text,text,text,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,bigint,bigint,real)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,bigint,bigint,real,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,bigint,bigint,real,timestamp with time zone,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,text,text,real)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,text,text,real,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.fit_transfn(internal,text,text,text,real,timestamp with time zone,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.forget_user(text,text)', 'f', 'v', 'u'),
        ('reco_internal.id_type_of(regtype)', 'f', 's', 's'),
        ('reco_internal.import_factors(text,text,text,text,text,double precision,double precision,double precision,jsonb)', 'f', 'v', 'u'),
        ('reco_internal.prune_versions(text,integer,integer)', 'f', 'v', 'u'),
        ('reco_internal.source_from_item(text)', 'f', 's', 's'),
        ('reco_internal.train_option_keys()', 'f', 's', 's'),
        ('reco_internal.train_params(jsonb)', 'f', 's', 's'),
        ('reco_internal.training_progress()', 'f', 'v', 'r'),
        ('reco_internal.tune_sample(bigint,integer,bigint)', 'f', 'i', 's'),
        ('reco_internal.unpublish_shared_copies()', 'f', 'v', 'u')$$,
    'every function of reco has its intended kind, volatility and PARALLEL label'
);

-- cold start (0.7.0): include_new is on every function that serves a list of items
-- to a user or for an item (recommend x3, recommend_for_items(_text), similar_items x3,
-- similar_to_features(_text)), always defaulting to true
SELECT results_eq(
    $$SELECT p.oid::regprocedure::text,
             pg_get_expr(p.proargdefaults, 0) LIKE '%true, NULL::jsonb' OR pg_get_expr(p.proargdefaults, 0) LIKE '%true'
        FROM pg_proc p
       WHERE p.pronamespace = 'reco'::regnamespace AND 'include_new' = ANY (p.proargnames)
       ORDER BY 1$$,
    $$VALUES
        ('reco.recommend(text,bigint,integer,boolean,bigint[],bigint[],text,real,boolean)', true),
        ('reco.recommend(text,text,integer,boolean,text[],text[],text,real,boolean)', true),
        ('reco.recommend(text,uuid,integer,boolean,text[],text[],text,real,boolean)', true),
        ('reco.recommend_for_items(text,bigint[],real[],integer,boolean,bigint[],bigint[],text,real,boolean,jsonb)', true),
        ('reco.recommend_for_items_text(text,text[],real[],integer,boolean,text[],text[],text,real,boolean,jsonb)', true),
        ('reco.similar_items(text,bigint,integer,bigint[],boolean)', true),
        ('reco.similar_items(text,text,integer,text[],boolean)', true),
        ('reco.similar_items(text,uuid,integer,text[],boolean)', true),
        ('reco.similar_to_features(text,jsonb,integer,bigint[],boolean)', true),
        ('reco.similar_to_features_text(text,jsonb,integer,text[],boolean)', true)$$,
    'include_new (default true) on every function serving a list of items'
);

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc p
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'reco'
       WHERE obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function and aggregate has a comment'
);

-- the security model: every function runs with the caller's rights
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace IN ('reco'::regnamespace, 'reco_internal'::regnamespace) AND p.prosecdef$$,
    'no reco function is SECURITY DEFINER'
);

SELECT is_empty(
    $$SELECT c.relname FROM pg_class c
       WHERE c.relnamespace = 'reco'::regnamespace AND c.relkind IN ('r', 'S')
         AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table and sequence has a comment'
);

SELECT tables_are('reco', ARRAY['models', 'user_factors', 'item_factors', 'segments', 'feature_weights'],
    'reco has exactly its five storage tables');
SELECT columns_are('reco', 'models', ARRAY['model_id', 'name', 'version', 'algorithm', 'params', 'n_users',
    'n_items', 'n_interactions', 'factors', 'loss', 'train_seconds', 'trained_at', 'stats'], 'reco.models columns');
SELECT columns_are('reco', 'user_factors', ARRAY['model_id', 'user_id', 'factors', 'seen_items', 'seen_weights',
    'user_key', 'features'],
    'reco.user_factors columns');
SELECT columns_are('reco', 'item_factors', ARRAY['model_id', 'item_id', 'factors', 'popularity', 'item_key', 'features'],
    'reco.item_factors columns');
SELECT col_is_pk('reco', 'user_factors', ARRAY['model_id', 'user_id'], 'user factors are keyed by model and user');
SELECT col_is_pk('reco', 'item_factors', ARRAY['model_id', 'item_id'], 'item factors are keyed by model and item');
SELECT columns_are('reco', 'segments', ARRAY['model_id', 'segment', 'size', 'centroid', 'mean', 'k', 'seed',
    'iterations', 'converged', 'created_at'], 'reco.segments columns');
SELECT col_is_pk('reco', 'segments', ARRAY['model_id', 'segment'], 'segments are keyed by model version and segment');
SELECT columns_are('reco', 'feature_weights', ARRAY['model_id', 'side', 'feature', 'kind', 'weights'],
    'reco.feature_weights columns');
SELECT col_is_pk('reco', 'feature_weights', ARRAY['model_id', 'side', 'feature'],
    'feature weights are keyed by model version, side and feature');

-- reco.training_progress: the one view (empty when nothing trains, and always without preloading)
SELECT views_are('reco', ARRAY['training_progress'], 'reco has exactly one view, training_progress');
SELECT isnt(obj_description('reco.training_progress'::regclass, 'pg_class'), NULL, 'the view has a comment');
SELECT results_eq($$SELECT count(*) FROM reco.training_progress$$, $$VALUES (0::bigint)$$,
    'no training runs: reco.training_progress is empty');

SELECT throws_ok($$SELECT reco.to_array('\x000080'::bytea)$$, '22P03', NULL, 'a factor value of 3 bytes is rejected');
SELECT throws_ok($$SELECT reco.to_bytea('{{1,2},{3,4}}'::real[])$$, '22023', NULL, 'a 2-D factor array is rejected');
SELECT throws_ok($$SELECT reco.to_bytea('{1,NULL}'::real[])$$, '22023', NULL, 'a factor array with NULL is rejected');
SELECT is(reco.to_array(reco.to_bytea('{NaN,Infinity,-Infinity,0}'::real[]))::text, '{NaN,Infinity,-Infinity,0}',
    'NaN and infinities round-trip');
SELECT is(encode(reco.to_bytea('{1}'::real[]), 'hex'), '0000803f', 'factors are little-endian float32');

SELECT * FROM finish();
ROLLBACK;
