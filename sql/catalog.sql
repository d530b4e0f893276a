-- catalog: the storage tables, their columns, and what pg_dump keeps.
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'reco'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum;
-- every storage table and the model id sequence are dumped by pg_dump
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'reco' ORDER BY 1;
-- the settings, with their defaults (registered when the library loads)
LOAD 'reco';
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'reco.%' ORDER BY name;
-- the prefix is reserved: a misspelt setting is an error
\set VERBOSITY sqlstate
SET reco.treads = 2;
\set VERBOSITY terse
SET reco.treads = 2;
SET reco.threads = -1;
-- large values are stored out of line without compression (faster training writes)
SELECT attrelid::regclass AS table_name, attname, attstorage
  FROM pg_attribute
 WHERE attrelid IN ('reco.user_factors'::regclass, 'reco.item_factors'::regclass)
   AND attnum > 0 AND attstorage <> 'p'
 ORDER BY 1, attnum;
