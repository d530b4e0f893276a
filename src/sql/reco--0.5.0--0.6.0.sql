/* reco 0.5.0 -> 0.6.0: more models and better defaults
 *
 * Brings a 0.5.0 database to exactly the catalog that the full install
 * script reco--0.6.0.sql creates (test/sessions/upgrade.sh compares them).
 */
\echo Use "ALTER EXTENSION reco UPDATE TO '0.6.0'" to load this file. \quit
