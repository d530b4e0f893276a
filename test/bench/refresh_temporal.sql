-- test/bench/refresh_temporal.sql — what refresh_users / refresh_items recover on a time split
-- of MovieLens 100K (not yet part of `make bench`). Each user's events ordered by timestamp:
-- the first 60 % train, the next 20 % arrive after training, the last 20 % are the test
-- (relevant: rating >= 4). P@10 of the stale 60 % model, of it refreshed (customers; products
-- then customers) from the 80 % history, and of a retrain on 80 %; every model excludes each
-- user's first 80 % of items. Run in a scratch database with reco installed:
--   psql -v data=/path/to/ml-100k/u.data -f test/bench/refresh_temporal.sql
SET client_min_messages = warning;
CREATE TEMP TABLE ml (user_id bigint, item_id bigint, rating real, ts bigint);
\set copy '\\copy ml FROM ' :'data'
:copy
CREATE TEMP TABLE ml_split AS
SELECT user_id, item_id, rating, ts,
       CASE WHEN rn <= round(0.6 * n) THEN 'train' WHEN rn <= round(0.8 * n) THEN 'later' ELSE 'test' END AS part
  FROM (SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY ts, item_id) AS rn,
               count(*) OVER (PARTITION BY user_id) AS n FROM ml) AS s;
CREATE INDEX ON ml_split (user_id);
CREATE TEMP VIEW ml_60 AS SELECT user_id, item_id, rating FROM ml_split WHERE part = 'train';
CREATE TEMP VIEW ml_80 AS SELECT user_id, item_id, rating FROM ml_split WHERE part <> 'test';
SELECT name, version FROM reco.train('rt_stale', 'ml_60', weight_col => 'rating');
SELECT name, version FROM reco.train('rt_users', 'ml_60', weight_col => 'rating');
SELECT name, version FROM reco.train('rt_both', 'ml_60', weight_col => 'rating');
SELECT name, version FROM reco.train('rt_retrain', 'ml_80', weight_col => 'rating');
\timing on
SELECT * FROM reco.refresh_users('rt_users', NULL, 'ml_80');
SELECT * FROM reco.refresh_items('rt_both', NULL, 'ml_80');
SELECT * FROM reco.refresh_users('rt_both', NULL, 'ml_80');
\timing off
CREATE TEMP TABLE relevant AS
SELECT user_id, array_agg(item_id) AS items FROM ml_split WHERE part = 'test' AND rating >= 4 GROUP BY user_id;
CREATE TEMP TABLE excl AS
SELECT user_id, array_agg(item_id) AS items FROM ml_split WHERE part <> 'test' GROUP BY user_id;
SELECT m.name, round(avg(h.hits / 10.0), 4) AS p_at_10, count(*) AS users
  FROM (VALUES ('rt_stale'), ('rt_users'), ('rt_both'), ('rt_retrain')) AS m(name)
 CROSS JOIN relevant AS r JOIN excl AS e USING (user_id),
       LATERAL (SELECT count(*) FILTER (WHERE x.item_id = ANY (r.items)) AS hits
                  FROM reco.recommend(m.name, r.user_id, 10, exclude => e.items) AS x) AS h
 GROUP BY m.name ORDER BY 2;
SELECT reco.drop_model(name) FROM (VALUES ('rt_stale'), ('rt_users'), ('rt_both'), ('rt_retrain')) AS m(name);
