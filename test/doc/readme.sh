#!/usr/bin/env bash
# test/doc/readme.sh — the README runs as written, on the demo shop.
#
# Generates the demo shop exactly as `make demo` does (database shop: test/demo/shop.sql,
# then test/demo/train.sql) on the current cluster (PGHOST/PGPORT/PGUSER: the harness's
# throwaway cluster), extracts every ```sql block of README.md in order and runs each one
# in its own psql session (ON_ERROR_STOP), in database shop. A block fails when
#   - any statement fails, or
#   - any query returns no rows: a result set of "(0 rows)" or a command tag of 0 rows
#     (SELECT 0, DELETE 0, UPDATE 0, INSERT 0 0) — every query of the README promises rows.
# An HTML comment on the line before a block adjusts it (a reader of the README never
# sees it):  <!-- doc-test: KEY[, KEY ...] -->  with the keys
#   database=NAME   run the block in database NAME instead of shop (pg_cron's database)
#   may-be-empty    the block's queries may return no rows (e.g. a job history before the job ran)
#   skip=REASON     do not run the block; listed with its reason
# Setup creates the roles the privilege recipes grant to (shop_app, shop_trainer); the end
# checks that those grants do what the README says, unschedules the pg_cron jobs the blocks
# scheduled and removes the database, the roles and pg_cron if this test created it.
# Prints one TAP line per block and exits non-zero when a block failed.
# RECO_DOC_README=FILE checks another file (used to check this test itself).
set -uo pipefail
RECO_ROOT=${RECO_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$RECO_ROOT"

work=$(mktemp -d /tmp/reco-doctest.XXXXXX)
chmod 755 "$work"
cron_created=0
readme=${RECO_DOC_README:-README.md}

# Removes what the test created: cron jobs, pg_cron (if created here), the database, roles.
doc_cleanup() {
    psql -X -q -d postgres -v ON_ERROR_STOP=0 >/dev/null 2>&1 <<SQL
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('reco-nightly', 'reco-shop-drain');
$( [ "$cron_created" = 1 ] && echo 'DROP EXTENSION IF EXISTS pg_cron;' )
DROP DATABASE IF EXISTS shop WITH (FORCE);   -- also when a drain job is connected
DROP ROLE IF EXISTS shop_app;
DROP ROLE IF EXISTS shop_trainer;
SQL
    rm -rf "$work"
}
trap doc_cleanup EXIT

# Runs SQL on stdin in database $1, quietly, stopping on the first error.
doc_psql() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# --- setup: the demo shop, as `make demo` leaves it ----------------------------------------
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS shop' -c 'CREATE DATABASE shop' \
    -c 'CREATE ROLE shop_app LOGIN' -c 'CREATE ROLE shop_trainer LOGIN' >"$work/setup.log" 2>&1 \
    || { cat "$work/setup.log"; echo "not ok - setup: database shop and roles"; exit 1; }
psql -X -q -d postgres -tA -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'" | grep -qx 0 \
    && cron_created=1
{ echo 'CREATE EXTENSION reco;'; echo '\i test/demo/shop.sql'; echo '\i test/demo/train.sql'; } \
    | doc_psql shop >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; echo "not ok - demo shop setup"; exit 1; }

# --- the README's ```sql blocks, in order, each with the marker line before it ---------------
# Writes $work/block-N.sql (the block without its indentation) and $work/block-N.meta
# ("LINE<tab>MARKER KEYS").
awk -v dir="$work" '
    /^[ \t]*```sql[ \t]*$/ {
        n++; inside = 1; indent = $0; sub(/```sql.*/, "", indent)
        marker = ""
        if (prev ~ /^[ \t]*<!-- doc-test:.*-->[ \t]*$/) {
            marker = prev; sub(/^[ \t]*<!-- doc-test:[ \t]*/, "", marker); sub(/[ \t]*-->[ \t]*$/, "", marker)
        }
        printf "%d\t%s\n", NR, marker > (dir "/block-" n ".meta")
        next
    }
    inside && /^[ \t]*```[ \t]*$/ { inside = 0; prev = $0; next }
    inside { line = $0; if (substr(line, 1, length(indent)) == indent) line = substr(line, length(indent) + 1)
             print line > (dir "/block-" n ".sql"); next }
    { prev = $0 }
' "$readme"

ok=0 bad=0 skipped=()
n=$(ls "$work"/block-*.meta 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "not ok - no sql blocks found in $readme"; exit 1; }
for i in $(seq 1 "$n"); do
    IFS=$'\t' read -r line marker <"$work/block-$i.meta"
    db=shop; may_be_empty=0; skip=
    IFS=',' read -ra keys <<<"${marker:-}"
    for key in "${keys[@]}"; do
        key=$(echo "$key" | sed 's/^ *//; s/ *$//')
        case "$key" in
            database=*) db=${key#database=} ;;
            may-be-empty) may_be_empty=1 ;;
            skip=*) skip=${key#skip=} ;;
            '') ;;
            *) echo "not ok - $readme line $line: unknown doc-test key '$key'"; bad=$((bad + 1)); continue 2 ;;
        esac
    done
    name="$readme line $line (block $i, database $db)"
    if [ -n "$skip" ]; then
        skipped+=("line $line: $skip"); echo "ok - $name # SKIP $skip"; continue
    fi
    # not quiet: every statement prints its command tag or its result with "(N rows)"
    if ! psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$work/block-$i.sql" >"$work/out-$i" 2>&1; then
        echo "not ok - $name: an error"; sed 's/^/    /' "$work/out-$i"; bad=$((bad + 1)); continue
    fi
    if [ "$may_be_empty" = 0 ] && grep -qE '^\(0 rows\)$|^(SELECT|DELETE|UPDATE|INSERT 0) 0$' "$work/out-$i"; then
        echo "not ok - $name: a query returned no rows"; sed 's/^/    /' "$work/out-$i"; bad=$((bad + 1)); continue
    fi
    echo "ok - $name"; ok=$((ok + 1))
    [ "${RECO_DOC_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$work/out-$i"
done

# --- the privilege recipes do what the README says ---------------------------------------------
# shop_app serves; it may not train (42501). shop_trainer, with the serving grants too, trains.
priv=$(doc_psql shop -tA 2>&1 <<'SQL'
SET ROLE shop_app;
SELECT count(*) FROM reco.recommend('shop', 16, 3);
DO $$ BEGIN PERFORM reco.drop_model('shop');
          EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'drop refused: 42501'; END $$;
RESET ROLE;
GRANT USAGE ON SCHEMA reco TO shop_trainer;
GRANT SELECT ON reco.models, reco.user_factors, reco.item_factors TO shop_trainer;
SET ROLE shop_trainer;
SET client_min_messages = warning;
SELECT name, version FROM reco.train('shop_trained_by_role',
       $$SELECT o.customer_id, l.product_id FROM shop.order_lines AS l JOIN shop.orders AS o USING (order_id)$$,
       user_col => 'customer_id', item_col => 'product_id', iterations => 2);
SQL
)
if [ "$priv" = "$(printf '3\nNOTICE:  drop refused: 42501\nshop_trained_by_role|1')" ]; then
    echo "ok - the privilege recipes: shop_app serves and may not drop, shop_trainer trains"; ok=$((ok + 1))
else
    echo "not ok - the privilege recipes: got"; echo "$priv" | sed 's/^/    /'; bad=$((bad + 1))
fi

for s in "${skipped[@]}"; do echo "skipped: $s"; done
echo "readme: $ok passed, $bad failed, ${#skipped[@]} skipped"
[ "$bad" -eq 0 ]
