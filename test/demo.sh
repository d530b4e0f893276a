#!/usr/bin/env bash
# test/demo.sh — `make demo`: a generated shop on a throwaway cluster; reco
# trains on its order lines (with the products' features and the customers' profiles) and
# shows, with product names, what it suggests -- to new products and customers too.
# RECO_DEMO_KEEP=1 leaves the cluster running at the end (psql settings printed) and
# records its directory in .demo-cluster (or $RECO_DEMO_STATE), which `make demo-stop` (test/demo-stop.sh) reads.
# RECO_DEMO_NO_BUILD=1 uses the installed extension as it is (the test suite, which has
# just built and installed it).
set -euo pipefail
. "$(dirname "$0")/lib/cluster.sh"
cd "$RECO_ROOT"

if [ "${RECO_DEMO_NO_BUILD:-0}" != 1 ]; then
    reco_install_packages
    reco_build_and_install
fi
if [ "${RECO_DEMO_KEEP:-0}" != 1 ]; then reco_cleanup_on_exit; fi
reco_cluster_start demo

# Runs a demo script in the shop database, stopping on the first error.
demo_psql() { psql -X -q -v ON_ERROR_STOP=1 -d shop "$@"; }

psql -X -q -c 'CREATE DATABASE shop'
demo_psql -c 'CREATE EXTENSION reco'
reco_say "generating the demo shop (test/demo/shop.sql, seed 42)"
demo_psql -f test/demo/shop.sql
demo_psql -f test/demo/show_shop.sql
reco_say "training and suggesting (test/demo/train.sql)"
demo_psql -f test/demo/train.sql
reco_say "cold start: new products and new customers served from their features (test/demo/cold_start.sql)"
demo_psql -f test/demo/cold_start.sql
if [ "${RECO_DEMO_KEEP:-0}" = 1 ]; then
    echo "$RECO_PGDIR" >>"${RECO_DEMO_STATE:-$RECO_ROOT/.demo-cluster}"
    reco_say "cluster left running: PGHOST=$PGHOST PGPORT=$PGPORT psql -U postgres shop"
    reco_say "stop and remove it: make demo-stop  (that is: $(reco_stop_command "$RECO_PGDIR"))"
fi
