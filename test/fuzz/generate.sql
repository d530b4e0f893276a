-- test/fuzz/generate.sql — prints :count random test cases for test/fuzz/run.sh, one
-- line each: calls of every reco function with arguments drawn from edge values
-- (NULLs, empty and multi-dimensional arrays, extreme ids and n, NaN and infinite
-- weights, malformed factor values, bad options and sources, injection strings),
-- mixed with setting changes, cancellations by a tiny statement_timeout, forced
-- parallel plans and models rewritten inside rolled-back transactions.  The same
-- :seed gives the same cases.  Needs no reco: it only builds text.
--
--   psql -X -At -v seed=42 -v count=1000 -f test/fuzz/generate.sql
\set QUIET on
SELECT setseed((:seed % 2147483647) / 2147483647.0) AS seeded \gset

-- One of the given SQL fragments, at random.
CREATE FUNCTION pg_temp.pick(VARIADIC choices text[]) RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT choices[1 + floor(random() * array_length(choices, 1))::int] $$;

-- A random integer in [low, high].
CREATE FUNCTION pg_temp.between(low bigint, high bigint) RETURNS bigint
LANGUAGE sql VOLATILE AS $$ SELECT low + floor(random() * (high - low + 1))::bigint $$;

-- A model name: the fixtures' models, unknown, empty, too long, hostile.
CREATE FUNCTION pg_temp.model() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('''shop''', '''shop''', '''wide''', '''zero''', '''nan''', '''one''', '''empty''',
                        '''tamper''', '''scratch''', '''no_such_model''', '''''', 'NULL', '''SHOP''',
                        'repeat(''m'', 64)', '''x''''); DROP TABLE clicks; --''', 'E''shop\n''')
$$;

-- A user or item id: usually one the models know, else unknown, extreme or NULL.
CREATE FUNCTION pg_temp.id() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick(pg_temp.between(0, 5)::text, pg_temp.between(1, 300)::text,
                        pg_temp.between(1, 5000)::text, '-1', 'NULL', '999999',
                        '9223372036854775807', '(-9223372036854775807 - 1)')
$$;

-- A result count n (integer).
CREATE FUNCTION pg_temp.n() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('1', '3', '10', pg_temp.between(1, 400)::text, '5000', '0', '-1', 'NULL',
                        '2147483647', '(-2147483647 - 1)')
$$;

-- A boolean.
CREATE FUNCTION pg_temp.flag() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('true', 'false', 'NULL')
$$;

-- A bigint[] of ids: NULL, empty, NULL elements, duplicates, 2-D, odd bounds, large.
CREATE FUNCTION pg_temp.ids() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('NULL', '''{}''', '''{NULL}''',
                        format('ARRAY[%s, %s, %s]::bigint[]', pg_temp.id(), pg_temp.id(), pg_temp.id()),
                        format('ARRAY[%s]::bigint[]', pg_temp.id()),
                        '''{1, 1, 1, 2, 2}''', '''{{1, 2}, {3, 4}}''', '''[5:7]={7, 8, 9}''',
                        '''{9223372036854775807, -9223372036854775808, 0}''',
                        'ARRAY(SELECT generate_series(1, 6000)::bigint)',
                        'ARRAY(SELECT (random() * 400)::bigint FROM generate_series(1, 50))')
$$;

-- A real[] of weights: lengths that may not match, NULLs, NaN, infinities, huge, tiny.
CREATE FUNCTION pg_temp.weights() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('NULL', '''{}''', '''{1}''', '''{1, 2}''', '''{1, 2, 3}''', '''{NaN}''',
                        '''{Infinity, 1, 1}''', '''{-Infinity}''', '''{1, NULL, 1}''',
                        '''{-1e30, 1, 1}''', '''{3e38, 3e38, 3e38}''', '''{0, 0, 0}''',
                        '''{-1, -1, -1}''', '''{{1, 2}, {3, 4}}''', '''{1e-45, 1e-45, 1e-45}''',
                        'ARRAY(SELECT random()::real FROM generate_series(1, 50))')
$$;

-- A bytea factor value: empty, lengths not a multiple of 4, NaN, long.
CREATE FUNCTION pg_temp.factor_bytes() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('NULL', '''''::bytea', '''\x00''::bytea', '''\x000000''::bytea',
                        '''\x0000803f''::bytea', '''\x0000c07f0000807f''::bytea',
                        'decode(repeat(''ab'', 4099), ''hex'')', 'decode(repeat(''00'', 4096), ''hex'')',
                        'decode(repeat(''ff'', 400000), ''hex'')')
$$;

-- A real[] to encode: empty, NaN and infinities, NULLs, 2-D, odd bounds, long.
CREATE FUNCTION pg_temp.reals() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('NULL', '''{}''::real[]', '''{1}''::real[]', '''{NaN, Infinity, -Infinity}''::real[]',
                        '''{1, NULL}''::real[]', '''{{1, 2}, {3, 4}}''::real[]', '''[-3:-1]={1, 2, 3}''::real[]',
                        'array_fill(1::real, ARRAY[100000])', '''{{{1}}}''::real[]')
$$;

-- A k for evaluate.
CREATE FUNCTION pg_temp.k() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('1', '10', '10000', '10001', '0', '-1', 'NULL', '2147483647')
$$;

-- A source: tables, queries, unknown, empty, hostile, odd rows.
CREATE FUNCTION pg_temp.source() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick('''clicks_small''', '''clicks_small''', '''clicks''', '''views''', '''no_such_table''',
                        '''''', 'NULL', '''TABLE clicks_small''', '''(SELECT * FROM clicks_small)''',
                        '''SELECT 1 AS user_id, 2 AS item_id''', '''VALUES (1, 2)''',
                        '''SELECT NULL::bigint AS user_id, 1 AS item_id, 1 AS weight''',
                        '''SELECT 1 AS user_id, 1 AS item_id, ''''NaN''''::real AS weight''',
                        '''SELECT 1.5 AS user_id, 1e30 AS item_id''',
                        '''SELECT ''''a'''' AS user_id, 1 AS item_id''',
                        '''SELECT user_id, item_id, -weight AS weight FROM clicks_small''',
                        '''clicks; DROP TABLE clicks''', '''SELECT * FROM clicks) AS s; DROP TABLE clicks; --''',
                        '''SELECT * FROM clicks_small WHERE false''', '''pg_class''', '''reco.models''')
$$;

-- A column name: real, unknown, empty, hostile, NULL.
CREATE FUNCTION pg_temp.col(usual text) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT pg_temp.pick(quote_literal(usual), quote_literal(usual), quote_literal(usual), '''weight''',
                        '''no_such_column''', '''''', 'NULL', '''user_id"; DROP TABLE clicks; --''', '''oid''')
$$;

-- A jsonb options object: known and unknown keys with values of every type.
CREATE FUNCTION pg_temp.options() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN random() < 0.1 THEN pg_temp.pick('NULL', '''[1, 2]''::jsonb', '''null''::jsonb', '''"x"''::jsonb')
           ELSE quote_literal('{' || coalesce(string_agg(format('"%s": %s',
                    pg_temp.pick('factors', 'factors', 'iterations', 'iterations', 'regularization', 'alpha',
                                 'seed', 'cg_steps', 'solver', 'threads', 'keep_versions', 'algorithm', 'bogus'),
                    pg_temp.pick('0', '1', '2', '3', '8', '-1', '1.5', '1e300', '1024', '1025', '100', '0.001',
                                 '"cg"', '"cholesky"', '"x"', 'null', 'true', '[1]', '{"a": 1}', '9007199254740993')),
                    ', '), '') || '}') || '::jsonb'
           END
      FROM generate_series(1, pg_temp.between(0, 4)::int)
$$;

-- Rows for the fit aggregate: VALUES with NULLs, NaN, infinities, extreme ids.
CREATE FUNCTION pg_temp.rows() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN random() < 0.4 THEN '(SELECT user_id AS u, item_id AS i, weight AS w FROM clicks_small) AS v'
           ELSE '(VALUES ' || string_agg(format('(%s::bigint, %s::bigint, %s::real)',
                    pg_temp.pick(pg_temp.between(1, 20)::text, pg_temp.id()),
                    pg_temp.pick(pg_temp.between(1, 20)::text, pg_temp.id()),
                    pg_temp.pick('1', '2', '0', '-1', '0.5', 'NULL', '''NaN''', '''Infinity''', '''-Infinity''',
                                 '3e38', '1e-45')), ', ') || ') AS v(u, i, w)'
           END
      FROM generate_series(1, pg_temp.between(1, 30)::int)
$$;

-- One test case: a line of one or more statements.
CREATE FUNCTION pg_temp.test_case() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT CASE pg_temp.between(0, 24)
        WHEN 0 THEN format('SELECT * FROM reco.recommend(%s, %s, %s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.id(), pg_temp.n(), pg_temp.flag(), pg_temp.ids(), pg_temp.ids())
        WHEN 1 THEN format('SELECT * FROM reco.recommend(%s, %s, %s);', pg_temp.model(), pg_temp.id(), pg_temp.n())
        WHEN 2 THEN format('SET reco.model = %s; SELECT * FROM reco.recommend(%s::bigint, %s::bigint); RESET reco.model;',
                           pg_temp.pick('''shop''', '''nan''', '''empty''', '''no_such_model''', ''''''), pg_temp.id(),
                           pg_temp.pick(pg_temp.n(), '9223372036854775807', '2147483648', '(-9223372036854775807 - 1)'))
        WHEN 3 THEN format('SELECT * FROM reco.recommend_for_items(%s, %s, %s, %s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.ids(), pg_temp.weights(), pg_temp.n(), pg_temp.flag(),
                           pg_temp.ids(), pg_temp.ids())
        WHEN 4 THEN format('SELECT * FROM reco.recommend_for_items(%s, %s, %s);',
                           pg_temp.model(), pg_temp.ids(), pg_temp.weights())
        WHEN 5 THEN format('SELECT * FROM reco.similar_items(%s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.id(), pg_temp.n(), pg_temp.ids())
        WHEN 6 THEN format('SELECT * FROM reco.similar_users(%s, %s, %s);', pg_temp.model(), pg_temp.id(), pg_temp.n())
        WHEN 7 THEN format('SELECT * FROM reco.explain(%s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.id(), pg_temp.id(), pg_temp.n())
        WHEN 8 THEN format('SELECT count(*), min(score), max(score) FROM reco.recommend_all(%s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.n(), pg_temp.pick('NULL', pg_temp.ids()), pg_temp.flag())
        WHEN 9 THEN format('SELECT * FROM reco_internal.evaluate_pairs(%s, %s, %s, %s);',
                           pg_temp.model(), pg_temp.ids(), pg_temp.ids(), pg_temp.k())
        WHEN 10 THEN format('SELECT * FROM reco.evaluate(%s, %s, %s, %s, %s);', pg_temp.model(),
                            pg_temp.source(), pg_temp.k(), pg_temp.col('user_id'), pg_temp.col('item_id'))
        WHEN 11 THEN format('SELECT reco.to_array(%s);', pg_temp.factor_bytes())
        WHEN 12 THEN format('SELECT reco.to_bytea(%s), reco.to_array(reco.to_bytea(%s));', pg_temp.reals(), pg_temp.reals())
        WHEN 13 THEN format('SELECT reco_internal.source_from_item(%s), reco.version();', pg_temp.source())
        WHEN 14 THEN format('BEGIN; SELECT (reco.fit(%s, u, i, w, %s)).n_users FROM %s; ROLLBACK;',
                            pg_temp.model(), pg_temp.options(), pg_temp.rows())
        WHEN 15 THEN format('BEGIN; SELECT (reco.fit(%s, u, i, w)).n_users FROM %s GROUP BY u %% 2; ROLLBACK;',
                            pg_temp.pick('''g''', '''g'' || (u % 2)', 'NULL'), pg_temp.rows())
        WHEN 16 THEN format(pg_temp.pick('BEGIN; %s ROLLBACK;', '%s'),
                     format('SELECT (reco.train(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)).version;',
                            pg_temp.pick(pg_temp.model(), '''scratch'''), pg_temp.source(),
                            pg_temp.col('user_id'), pg_temp.col('item_id'), pg_temp.pick('NULL', pg_temp.col('weight')),
                            pg_temp.pick('NULL', '''ials''', '''bpr'''), pg_temp.pick('2', '4', pg_temp.n()),
                            pg_temp.pick('1', '0', '-1', '''NaN''', '''Infinity''', '1e9'),
                            pg_temp.pick('1', '0', '-1', '''NaN''', '40'), pg_temp.pick('1', '2', '0', pg_temp.n()),
                            pg_temp.pick('42', pg_temp.id()), pg_temp.pick('1', '3', '0', '101'),
                            pg_temp.pick('''cg''', '''cholesky''', '''lu''', 'NULL'),
                            pg_temp.pick('NULL', '0', '1', '2', '999'), pg_temp.pick('2', '0', '1', '-1')))
        WHEN 17 THEN pg_temp.pick('SELECT count(*) FROM reco.cache_info();', 'SELECT reco.cache_reset();',
                                  format('SET reco.cache_size = %s;', pg_temp.pick('0', '''1kB''', '''64kB''', '''256MB''')),
                                  format('SET reco.threads = %s;', pg_temp.pick('0', '1', '2', '4', '256')),
                                  format('SET reco.max_memory = %s;', pg_temp.pick('''1MB''', '''64MB''', '''4GB''')),
                                  'RESET ALL;')
        WHEN 18 THEN format('SET statement_timeout = ''%sms''; %s RESET statement_timeout;', pg_temp.between(1, 30),
                            pg_temp.pick(format('SELECT count(*) FROM reco.recommend_all(''wide'', %s);', pg_temp.n()),
                                         'SELECT (reco.train(''scratch'', ''views'', factors => 32, iterations => 5)).version;',
                                         format('SELECT * FROM reco.evaluate(''wide'', ''views'', %s);', pg_temp.k()),
                                         'SELECT count(*) FROM customers c, LATERAL reco.recommend(''shop'', c.user_id, 5) r;'))
        WHEN 19 THEN format('SET force_parallel_mode = on; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; '
                            'SELECT count(*) FROM customers c, LATERAL reco.%s r; RESET force_parallel_mode; '
                            'RESET parallel_setup_cost; RESET parallel_tuple_cost;',
                            pg_temp.pick(format('recommend(%s, c.user_id, %s)', pg_temp.model(), pg_temp.n()),
                                         format('similar_users(%s, c.user_id, %s)', pg_temp.model(), pg_temp.n()),
                                         format('recommend_for_items(%s, ARRAY[c.user_id], NULL, %s)', pg_temp.model(), pg_temp.n()),
                                         format('explain(%s, c.user_id, c.user_id, %s)', pg_temp.model(), pg_temp.n())))
        WHEN 20 THEN format('BEGIN; UPDATE reco.models SET %s WHERE name = ''tamper''; '
                            'UPDATE reco.item_factors SET factors = %s WHERE model_id = (SELECT max(model_id) FROM reco.models WHERE name = ''tamper''); '
                            'SELECT * FROM reco.%s; ROLLBACK;',
                            pg_temp.pick('factors = 1', 'factors = 4', 'factors = 1024', 'factors = 0', 'factors = -1',
                                         'factors = 2000', 'n_items = 1', 'n_items = -5', 'n_users = 0', 'n_items = 0',
                                         'params = ''{"alpha": -1, "regularization": -1}''', 'params = ''{}'''),
                            pg_temp.pick('factors', '''''::bytea', 'reco.to_bytea(array_fill(1::real, ARRAY[4]))',
                                         'reco.to_bytea(array_fill(1e30::real, ARRAY[1024]))'),
                            pg_temp.pick('recommend(''tamper'', 1)', 'recommend_all(''tamper'', 2)',
                                         'similar_items(''tamper'', 1)', 'recommend_for_items(''tamper'', ''{1, 2}'')',
                                         'explain(''tamper'', 1, 3)'))
        WHEN 21 THEN format('SELECT * FROM reco.%s;',
                            pg_temp.pick('recommend(''tamper'', 1)', 'recommend_all(''tamper'', 2)',
                                         'similar_items(''tamper'', 1)', 'similar_users(''tamper'', 1)',
                                         'recommend_for_items(''tamper'', ''{1, 2}'')', 'explain(''tamper'', 1, 3)'))
        WHEN 22 THEN format('BEGIN; SELECT reco.%s; SELECT count(*) FROM reco.recommend(%s, %s); ROLLBACK;',
                            pg_temp.pick(format('forget_user(%s, %s)', pg_temp.id(), pg_temp.model()),
                                         format('forget_user(%s)', pg_temp.id()),
                                         format('drop_model(%s)', pg_temp.model()),
                                         format('lock_model(%s)', pg_temp.model())),
                            pg_temp.model(), pg_temp.id())
        WHEN 23 THEN format('SELECT reco.forget_user(%s, ''scratch'');', pg_temp.id())
        ELSE format('SELECT count(*) FROM customers c LEFT JOIN LATERAL reco.recommend(%s, c.user_id + %s, %s) r ON true;',
                    pg_temp.model(), pg_temp.pick('0', '1000', '-5'), pg_temp.n())
    END
$$;

SELECT pg_temp.test_case() FROM generate_series(1, :count);
