-- factor_format: the bytea <-> real[] round trip and its errors.
\set VERBOSITY terse
SET extra_float_digits = 0;
-- exact little-endian float32 layout
SELECT reco.to_bytea('{1, -2, 0.5}'::real[]);
SELECT reco.to_array('\x0000803f000000c00000003f'::bytea);
SELECT reco.to_array(reco.to_bytea('{1.5, -0, 3.25e-10, 1e30}'::real[]));
-- NaN and infinities survive the round trip
SELECT reco.to_array(reco.to_bytea('{NaN, Infinity, -Infinity}'::real[]));
SELECT reco.to_bytea('{NaN, Infinity, -Infinity}'::real[]);
-- empty values
SELECT reco.to_bytea('{}'::real[]), reco.to_array(''::bytea);
SELECT octet_length(reco.to_bytea(array_fill(1::real, ARRAY[64]))) AS bytes_for_64_factors;
-- round trip of many values is exact
SELECT bool_and(reco.to_array(reco.to_bytea(a)) = a) AS exact
  FROM (SELECT array_agg((i * 0.37 - 50)::real) AS a FROM generate_series(1, 1000) i) s;
-- a non-default lower bound is accepted (the values are what counts)
SELECT reco.to_array(reco.to_bytea('[0:1]={7,8}'::real[]));
-- STRICT: NULL in, NULL out
SELECT reco.to_array(NULL) IS NULL AS a, reco.to_bytea(NULL) IS NULL AS b;
-- malformed values, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT reco.to_array('\x000080'::bytea);
SELECT reco.to_array('\x0000803f00'::bytea);
SELECT reco.to_bytea('{{1,2},{3,4}}'::real[]);
SELECT reco.to_bytea('{1, NULL, 3}'::real[]);
\set VERBOSITY terse
SELECT reco.to_array('\x000080'::bytea);
SELECT reco.to_bytea('{{1,2},{3,4}}'::real[]);
SELECT reco.to_bytea('{1, NULL, 3}'::real[]);
