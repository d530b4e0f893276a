-- setup: fixtures shared by the regression tests (pg_regress has already run
-- CREATE EXTENSION reco through --load-extension).
SET client_min_messages = warning;
SET extra_float_digits = 0;
SELECT extname, extversion FROM pg_extension WHERE extname = 'reco';
SELECT reco.version() = (SELECT extversion FROM pg_extension WHERE extname = 'reco') AS library_matches_script;

-- For every test file: runs one statement in a subtransaction that is always rolled back; returns
-- "SQLSTATE: message" if it fails (model ids in messages masked), else "ok, N rows".
CREATE FUNCTION outcome(statement text) RETURNS text
LANGUAGE plpgsql AS $outcome$
DECLARE
    processed bigint;
BEGIN
    EXECUTE statement;
    GET DIAGNOSTICS processed = ROW_COUNT;
    RAISE EXCEPTION USING ERRCODE = 'RB000', MESSAGE = processed;
EXCEPTION
    WHEN SQLSTATE 'RB000' THEN
        RETURN 'ok, ' || SQLERRM || ' rows';
    WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'model [0-9]+', 'model <id>', 'g');
END
$outcome$;

-- A tiny shop: 6 customers, 8 products, purchases with quantities.
CREATE TABLE purchases (customer_id bigint, product_id bigint, quantity real);
INSERT INTO purchases VALUES
  (1, 101, 1), (1, 102, 2), (1, 103, 1),
  (2, 101, 1), (2, 102, 1), (2, 104, 3),
  (3, 103, 1), (3, 104, 1), (3, 105, 1),
  (4, 105, 2), (4, 106, 1), (4, 107, 1),
  (5, 106, 1), (5, 107, 2), (5, 108, 1),
  (6, 101, 1), (6, 108, 1), (6, 102, 1);
