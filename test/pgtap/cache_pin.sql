-- cache_pin.sql: a cached matrix a call is scoring with is never freed under it.
-- reco.evaluate takes the item matrix from the cache, then reads the test users
-- through SPI; here a row-level security policy on reco.user_factors empties the
-- cache (reco.cache_reset()) while those users are read, i.e. while evaluate holds
-- the item matrix.  The pinned matrix must survive until evaluate is done (same
-- answer as without the policy), and be freed then (the cache ends empty).
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(3);

CREATE TEMP TABLE clicks AS
SELECT u AS user_id, (u * 5 + j) % 40 AS item_id FROM generate_series(1, 60) AS u, generate_series(1, 6) AS j;
CREATE TEMP TABLE probe AS
SELECT u AS user_id, (u * 5 + 7) % 40 AS item_id FROM generate_series(1, 60) AS u;
SELECT (reco.train('pin', 'clicks', factors => 8, iterations => 2, regularization => 1)).version;
SELECT e::text AS unpoliced FROM reco.evaluate('pin', 'probe', 5) AS e \gset

CREATE ROLE reco_pin_reader;
GRANT USAGE ON SCHEMA reco TO reco_pin_reader;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors, probe TO reco_pin_reader;
-- Empties this backend's factor cache; true, so that the policy hides no row.
CREATE FUNCTION public.reco_pin_evict() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
$$ BEGIN PERFORM reco.cache_reset(); RETURN true; END $$;
GRANT EXECUTE ON FUNCTION public.reco_pin_evict() TO reco_pin_reader;
CREATE POLICY evict_while_reading ON reco.user_factors FOR SELECT USING (public.reco_pin_evict());
ALTER TABLE reco.user_factors ENABLE ROW LEVEL SECURITY;

SELECT reco.cache_reset();
SET LOCAL ROLE reco_pin_reader;
SELECT is((SELECT e::text FROM reco.evaluate('pin', 'probe', 5) AS e), :'unpoliced',
          'evaluate is unchanged when its item matrix is evicted while it scores with it');
SELECT is((SELECT count(*) FROM reco.cache_info()), 0::bigint,
          'the evicted matrix is gone from the cache once evaluate is done');
SELECT is((SELECT count(*) FROM reco.recommend('pin', 1, 5)), 5::bigint,
          'serving goes on after the eviction');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
