-- limits.sql: the SQL scripts quote the limits and defaults of src/reco_limits.h (the
-- CHECK constraints of reco.models, reco.train's argument defaults). Each test reads
-- both sides, what the catalog says and what the C code says or does, so that a limit
-- or default changed on one side only fails here.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(16);

CREATE TEMP TABLE inter AS
SELECT u AS user_id, (u * 3 + j) % 7 AS item_id FROM generate_series(1, 5) u, generate_series(1, 3) j;

-- The error a statement raises, as "SQLSTATE: message / detail" (NULL if none).
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN format('%s: %s / %s', state, message, detail);
END
$$;

-- The statement training model $1 with options $2 on the rows of inter.
CREATE FUNCTION pg_temp.fit(name text, options text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT reco.fit(%L, user_id, item_id, 1, %L) FROM inter', name, options)
$$;

-- The bounds "lo..hi" of the CHECK constraint $1 of reco.models, read from its definition
-- (PostgreSQL stores BETWEEN as "x >= lo AND x <= hi").
CREATE FUNCTION pg_temp.check_bounds(constraint_name text) RETURNS text LANGUAGE sql AS $$
    SELECT (regexp_match(def, '>= (\d+)'))[1] || '..' || (regexp_match(def, '<= (\d+)'))[1]
      FROM (SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid = 'reco.models'::regclass AND conname = constraint_name) c
$$;

CREATE TEMP TABLE bounds AS
SELECT split_part(pg_temp.check_bounds('models_factors_check'), '..', 1)::int AS factors_min,
       split_part(pg_temp.check_bounds('models_factors_check'), '..', 2)::int AS factors_max,
       split_part(pg_temp.check_bounds('models_name_check'), '..', 1)::int AS name_min,
       split_part(pg_temp.check_bounds('models_name_check'), '..', 2)::int AS name_max;
SELECT ok((SELECT factors_min IS NOT NULL AND factors_max IS NOT NULL FROM bounds),
          'the factors CHECK of reco.models states its bounds');
SELECT ok((SELECT name_min IS NOT NULL AND name_max IS NOT NULL FROM bounds),
          'the model name CHECK of reco.models states its bounds');

-- factors: the option parser's range (RECO_MIN/MAX_FACTORS) is the CHECK's range
SELECT is(substring(pg_temp.error_of(pg_temp.fit('f0', '{"factors": 0}')) FROM 'between (\d+ and \d+)'),
          (SELECT factors_min || ' and ' || factors_max FROM bounds),
          'option "factors" has the range of the models_factors_check constraint');
SELECT is(pg_temp.error_of(pg_temp.fit('fmax', format('{"factors": %s, "iterations": 1, "threads": 1}',
                                                       (SELECT factors_max FROM bounds)))),
          NULL, 'a model with the CHECK''s largest factor count trains and is stored');
SELECT is(left(pg_temp.error_of(pg_temp.fit('fover', format('{"factors": %s}', (SELECT factors_max + 1 FROM bounds)))), 5),
          '22023', 'one factor more is refused by the option parser, not by the table');
SELECT is(left(pg_temp.error_of(pg_temp.fit('funder', format('{"factors": %s}', (SELECT factors_min - 1 FROM bounds)))), 5),
          '22023', 'one factor fewer than the CHECK''s smallest count is refused by the option parser');

-- model names: the name check (RECO_MAX_MODEL_NAME) is the CHECK's octet_length range
SELECT is(substring(pg_temp.error_of(pg_temp.fit(repeat('n', (SELECT name_max + 1 FROM bounds)), '{}'))
                    FROM 'at most (\d+) bytes')::int,
          (SELECT name_max FROM bounds), 'the longest model name is the models_name_check constraint''s');
SELECT is(pg_temp.error_of(pg_temp.fit(repeat('n', (SELECT name_max FROM bounds)), '{"iterations": 1}')),
          NULL, 'a model name of the CHECK''s largest byte count trains and is stored');
SELECT is(pg_temp.error_of(pg_temp.fit(repeat('n', (SELECT name_min FROM bounds)), '{"iterations": 1}')),
          NULL, 'a model name of the CHECK''s smallest byte count trains and is stored');
SELECT is(left(pg_temp.error_of(pg_temp.fit(repeat('n', (SELECT name_max + 1 FROM bounds)), '{}')), 5),
          '22023', 'a byte more is refused by reco.fit''s name check, not by the table');
SELECT is(left(pg_temp.error_of(pg_temp.fit(repeat('n', (SELECT name_min - 1 FROM bounds)), '{}')), 5),
          '22023', 'a byte less is refused by reco.fit''s name check, not by the table');

-- serving validates a models row with the same range as the CHECK (for a row written
-- with the constraint dropped, as a DBA may)
ALTER TABLE reco.models DROP CONSTRAINT models_factors_check;
UPDATE reco.models SET factors = (SELECT factors_max + 1 FROM bounds) WHERE name = 'fmax';
SELECT is(substring(pg_temp.error_of($$SELECT * FROM reco.recommend('fmax', 1)$$) FROM 'between (\d+ and \d+)'),
          (SELECT factors_min || ' and ' || factors_max FROM bounds),
          'serving refuses a models row outside the models_factors_check range, and states that range');

-- reco.train's argument defaults (the SQL script) are reco.fit's defaults (the C code):
-- every option a training records in reco.models.params, defaults included (reco.train
-- also records where its interactions are, which the aggregate cannot know)
SELECT is((SELECT params - 'source' - 'user_col' - 'item_col' FROM reco.train('sql_defaults', 'inter')),
          (SELECT (m).params FROM (SELECT reco.fit('c_defaults', user_id, item_id, 1) AS m FROM inter) s),
          'reco.train with every argument defaulted records the options of reco.fit without options');

-- segments: the CHECK on reco.segments.k quotes RECO_MAX_SEGMENTS, which segment_users enforces
SELECT is((SELECT (regexp_match(pg_get_constraintdef(oid), '<= (\d+)'))[1] FROM pg_constraint
            WHERE conrelid = 'reco.segments'::regclass AND conname = 'segments_k_check'),
          (regexp_match(pg_temp.error_of($$SELECT * FROM reco.segment_users('any', 0)$$), 'between 1 and (\d+)'))[1],
          'reco.segments.k CHECK and segment_users agree on RECO_MAX_SEGMENTS');

-- tune: reco.tune's plpgsql repeats RECO_MAX_TUNE_TRIALS, which the C sampler enforces
SELECT is((regexp_match(pg_temp.error_of($$SELECT * FROM reco.tune('t', 'inter', 'inter', '{"factors": [2]}', trials => 100000)$$),
                        'between 1 and (\d+)'))[1],
          (regexp_match(pg_temp.error_of($$SELECT reco_internal.tune_sample(1000000, 100000, 1)$$), 'between 1 and (\d+)'))[1],
          'reco.tune and its sampler agree on RECO_MAX_TUNE_TRIALS');
SELECT is(cardinality(reco_internal.tune_sample(1000000,
              (regexp_match(pg_temp.error_of($$SELECT reco_internal.tune_sample(1, 100000, 1)$$), 'between 1 and (\d+)'))[1]::int, 1)),
          (regexp_match(pg_temp.error_of($$SELECT reco_internal.tune_sample(1, 100000, 1)$$), 'between 1 and (\d+)'))[1]::int,
          'the sampler draws RECO_MAX_TUNE_TRIALS distinct trials');

SELECT * FROM finish();
ROLLBACK;
