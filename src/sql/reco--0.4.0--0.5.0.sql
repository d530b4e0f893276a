/* reco 0.4.0 -> 0.5.0: explore and diversify
 *
 * Brings a 0.4.0 database to exactly the catalog that the full install
 * script reco--0.5.0.sql creates (test/sessions/upgrade.sh compares them).
 */

\echo Use "ALTER EXTENSION reco UPDATE TO '0.5.0'" to load this file. \quit
