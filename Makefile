# reco — PostgreSQL extension, built with PGXS.
#
# Layout: src/ holds the C sources; src/sql/ holds the extension's own SQL
# (install and upgrade scripts); top-level sql/ and expected/ are pg_regress
# tests; test/ holds every other test (pgTAP, multi-session, unit, bench, demo).
#
#   make            build            make install     install into PostgreSQL
#   make test       everything, on a throwaway cluster (installs Debian packages as root)
#   make demo       a generated shop, trained and served, on a throwaway cluster
#   make demo-stop  stop and remove the cluster `RECO_DEMO_KEEP=1 make demo` left running
#   make installcheck   pg_regress against an existing server (PGHOST/PGPORT/PGUSER)
#   make bench      benchmark report in test/bench/results/ (SCALE=small: a few minutes)
#   make fuzz       sqlsmith against a database with reco models, for a bounded time
#   make check-valgrind the regression suite under valgrind memcheck

EXTENSION  = reco
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" reco.control)

MODULE_big = reco
OBJS = \
	src/reco.o \
	src/model.o \
	src/ids.o \
	src/kernels.o \
	src/kernels_avx2.o \
	src/parallel.o \
	src/scatter.o \
	src/als.o \
	src/hugepage.o \
	src/bpr.o \
	src/explicit.o \
	src/interactions.o \
	src/options.o \
	src/store.o \
	src/bulk_insert.o \
	src/topk.o \
	src/diversity.o \
	src/train.o \
	src/evaluate.o \
	src/predict.o \
	src/cache.o \
	src/serve.o \
	src/batch.o \
	src/recommend.o \
	src/similar.o \
	src/feature_map.o \
	src/place.o \
	src/explain.o \
	src/refresh.o \
	src/explore.o \
	src/explore_serve.o \
	src/segments.o \
	src/segment_users.o \
	src/tune.o \
	src/shared_cache.o \
	src/progress.o \
	src/import.o \
	src/shared_unpublish.o \
	src/ridge.o \
	src/feature_train.o

DATA = $(wildcard src/sql/reco--*.sql)

# pg_regress: setup first, then every other file of sql/ in name order.
REGRESS = setup $(filter-out setup,$(sort $(notdir $(basename $(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --outputdir=. --load-extension=reco
# Isolation tests (interleavings of sessions): specs/*.spec, expected output in expected/.
ISOLATION = $(sort $(notdir $(basename $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=reco

OPENBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
OPENBLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

PG_CPPFLAGS = -I$(srcdir)/src $(OPENBLAS_CFLAGS) -DRECO_VERSION='"$(EXTVERSION)"'
SHLIB_LINK  = $(OPENBLAS_LIBS) -lpthread -lm

EXTRA_CLEAN = $(UNIT_STANDALONE:%=test/unit/%) test/unit/test_als_nocontract test/unit/test_build $(UNIT_STANDALONE:%=test/unit/%_ubsan) test/unit/ubsan test/unit/obj test/bench/als_bench build.log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all:
	@echo "pg_config not found: install postgresql-server-dev-15 (or run 'make test' as root, which does)" >&2
	@exit 1
endif

# PGXS tracks no header dependencies: rebuild every object when any header changes
# (a struct changed in one header must never leave objects with the old layout).
$(OBJS): $(wildcard $(srcdir)/src/*.h)
# reco.version() is compiled in from reco.control's default_version.
src/reco.o: reco.control

# The numeric kernel is the hot path: let the compiler unroll and vectorize it.
# (kernels_avx2.c needs no -mavx2: its functions carry their own target attribute.)
# Without the server's -fwrapv: with it, GCC may not assume an int loop bound
# such as j + 8 <= k never wraps, and leaves the CG's helper loops scalar
# (RecoCgUpdate, the window and sparse passes: 10 % of a k 64 iteration in
# reco.train, test/bench/results/wrapv-2026-12-03.md). The kernel relies on no
# signed overflow: `make unit` runs its standalone tests again with every kernel
# source under UBSan's signed-overflow check, which stops at the first one.
KERNEL_SRCS = src/hugepage.c src/kernels.c src/kernels_avx2.c src/parallel.c src/als.c src/bpr.c src/explicit.c src/batch.c src/topk.c src/diversity.c src/explore.c src/segments.c src/ridge.c src/scatter.c
KERNEL_HDRS = src/hugepage.h src/kernels.h src/kernels_impl.h src/parallel.h src/als.h src/bpr.h src/explicit.h src/batch.h src/topk.h src/diversity.h src/explore.h src/segments.h src/rng.h src/reco_limits.h src/ridge.h src/scatter.h
$(KERNEL_SRCS:.c=.o): CFLAGS += -O3 -fno-wrapv

# The standalone unit tests link the kernel sources compiled once for all of them: plainly
# (test/unit/obj) and under UBSan's signed-overflow check (test/unit/ubsan).
UNIT_STANDALONE = test_als test_parallel test_diversity test_explore test_segments test_bpr test_explicit test_ridge test_scatter test_hugepage
UNIT_FLAGS = -O2 -Wall -Wextra
UNIT_OBJS = $(patsubst src/%.c,test/unit/obj/%.o,$(KERNEL_SRCS))
UBSAN_FLAGS = $(UNIT_FLAGS) -fsanitize=signed-integer-overflow,shift -fno-sanitize-recover=all
UBSAN_OBJS = $(patsubst src/%.c,test/unit/ubsan/%.o,$(KERNEL_SRCS))

.PHONY: test demo demo-stop unit bench-als bench fuzz check-valgrind

# Whole suite on a throwaway cluster; ends with one "passed, failed" line.
test:
	@bash test/run.sh

# Generated demo shop: trains a model and prints what reco suggests.
demo:
	@bash test/demo.sh

# Stops and removes the demo cluster that RECO_DEMO_KEEP=1 left running.
demo-stop:
	@bash test/demo-stop.sh

# The benchmark suite: ceilings, quality, training speed, serving; writes a report.
bench:
	@bash test/bench/run.sh

# Random SQL from sqlsmith against models on a throwaway cluster; fails on a crash.
fuzz:
	@bash test/fuzz/run.sh

# pg_regress on a throwaway cluster whose server runs under valgrind memcheck.
check-valgrind:
	@bash test/valgrind/run.sh

# The kernel's standalone unit tests (no PostgreSQL needed): the solver (built twice: also with -ffp-contract=off, since no kernel's bits may depend on the compiler contracting a·b + c), the runner and batch scoring, MMR re-ranking, exploration, segments, BPR, explicit ratings, the features-to-factors ridge fit, the build's threaded scatter, the build itself (interactions.c against the server's headers, its few backend calls stubbed), the huge-page advice. Then the standalone ones again with every kernel source under UBSan's signed-overflow check: the server builds the kernel with -fno-wrapv, so no signed int may overflow.
unit: $(UNIT_STANDALONE:%=test/unit/%) test/unit/test_als_nocontract test/unit/test_build $(UNIT_STANDALONE:%=test/unit/%_ubsan)
	./test/unit/test_als
	./test/unit/test_als_nocontract
	./test/unit/test_parallel
	./test/unit/test_diversity
	./test/unit/test_explore
	./test/unit/test_segments
	./test/unit/test_bpr
	./test/unit/test_explicit
	./test/unit/test_ridge
	./test/unit/test_scatter
	./test/unit/test_build
	./test/unit/test_hugepage
	for t in $(UNIT_STANDALONE); do ./test/unit/$${t}_ubsan || exit 1; done

test/unit/obj/%.o: src/%.c $(KERNEL_HDRS)
	@mkdir -p test/unit/obj
	$(CC) $(UNIT_FLAGS) -I src $(OPENBLAS_CFLAGS) -c -o $@ $<

$(UNIT_STANDALONE:%=test/unit/%): test/unit/%: test/unit/%.c test/unit/tap.h $(UNIT_OBJS)
	$(CC) $(UNIT_FLAGS) -I src $(OPENBLAS_CFLAGS) -o $@ $< $(UNIT_OBJS) $(OPENBLAS_LIBS) -lpthread -lm

test/unit/ubsan/%.o: src/%.c $(KERNEL_HDRS)
	@mkdir -p test/unit/ubsan
	$(CC) $(UBSAN_FLAGS) -I src $(OPENBLAS_CFLAGS) -c -o $@ $<

$(UNIT_STANDALONE:%=test/unit/%_ubsan): test/unit/%_ubsan: test/unit/%.c test/unit/tap.h $(UBSAN_OBJS)
	$(CC) $(UBSAN_FLAGS) -I src $(OPENBLAS_CFLAGS) -o $@ $< $(UBSAN_OBJS) $(OPENBLAS_LIBS) -lpthread -lm

test/unit/test_als_nocontract: test/unit/test_als.c test/unit/tap.h $(KERNEL_SRCS) $(KERNEL_HDRS)
	$(CC) -O2 -ffp-contract=off -Wall -Wextra -I src $(OPENBLAS_CFLAGS) -o $@ $< $(KERNEL_SRCS) $(OPENBLAS_LIBS) -lpthread -lm

# The build is backend code: compiled with the server's flags (among them no strict aliasing: its int32 indices overwrite the int64 ids in place).
test/unit/test_build: test/unit/test_build.c test/unit/tap.h src/interactions.c src/interactions.h src/reco.h $(KERNEL_SRCS) $(KERNEL_HDRS)
	$(CC) $(shell $(PG_CONFIG) --cflags) -I src -I $(shell $(PG_CONFIG) --includedir-server) $(OPENBLAS_CFLAGS) -o $@ $< src/interactions.c $(KERNEL_SRCS) $(OPENBLAS_LIBS) -lpthread -lm

# Kernel speed benchmark (standalone, synthetic data).
bench-als: test/bench/als_bench
test/bench/als_bench: test/bench/als_bench.c $(KERNEL_SRCS) $(KERNEL_HDRS)
	$(CC) -O3 -Wall -Wextra -I src $(OPENBLAS_CFLAGS) -o $@ test/bench/als_bench.c $(KERNEL_SRCS) $(OPENBLAS_LIBS) -lpthread -lm
