-- read_only.sql: where reco's tables cannot be written (a read-only transaction here; a
-- hot standby in test/sessions/read_replica.sh) training, refresh and segmentation refuse
-- at once with 25006 and reco's message, and serving works.
BEGIN;
SELECT plan(7);

CREATE TEMP TABLE ro_orders AS
    SELECT u AS user_id, (u * 7 + j * j) % 40 AS item_id FROM generate_series(1, 100) AS u, generate_series(1, 6) AS j;
SET LOCAL client_min_messages = warning;
SELECT reco.train('ro_shop', 'ro_orders', factors => 4, iterations => 2);
SET LOCAL transaction_read_only = on;

SELECT throws_ok($$SELECT reco.train('ro_shop', 'ro_orders', factors => 4, iterations => 2)$$,
    '25006', 'cannot change reco''s models in a read-only transaction', 'reco.train refuses in a read-only transaction');
SELECT throws_ok($$SELECT reco.fit('ro_shop', user_id, item_id, 1) FROM ro_orders$$,
    '25006', 'cannot change reco''s models in a read-only transaction', 'reco.fit refuses at its first row');
SELECT throws_ok($$SELECT reco.refresh_users('ro_shop', ARRAY[1]::bigint[])$$,
    '25006', 'cannot change reco''s models in a read-only transaction', 'refresh_users refuses');
SELECT throws_ok($$SELECT reco.refresh_items('ro_shop', ARRAY[1]::bigint[])$$,
    '25006', 'cannot change reco''s models in a read-only transaction', 'refresh_items refuses');
SELECT throws_ok($$SELECT count(*) FROM reco.segment_users('ro_shop', 2)$$,
    '25006', 'cannot change reco''s models in a read-only transaction', 'segment_users refuses');
SELECT is((SELECT count(*) FROM reco.recommend('ro_shop', 1, 5)), 5::bigint, 'recommend serves in a read-only transaction');
SELECT is((SELECT count(*) FROM reco.models WHERE name = 'ro_shop'), 1::bigint, 'nothing was stored');

SELECT * FROM finish();
ROLLBACK;
