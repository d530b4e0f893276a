/*-------------------------------------------------------------------------
 *
 * reco_limits.h
 *	  Every limit and default of reco in one place: RECO_MIN_, RECO_MAX_ and
 *	  RECO_DEFAULT_ constants.
 *
 * Pure C (no PostgreSQL header), so the kernels, the option parser, the
 * settings and the serving code all quote the same numbers.  The SQL scripts
 * cannot include a header: their CHECK constraints and reco.train's argument
 * defaults repeat these numbers, and the tests compare the two (a changed
 * limit fails a test until the SQL says the same).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_LIMITS_H
#define RECO_LIMITS_H

/* Length of a factor vector (models.factors CHECK, option "factors"). */
#define RECO_MIN_FACTORS 1
#define RECO_MAX_FACTORS 1024
#define RECO_DEFAULT_FACTORS 64

/* Threads of one training or batch call, the caller included (reco.threads, option "threads"). */
#define RECO_MAX_THREADS 256
#define RECO_DEFAULT_THREADS 0	/* 0 = reco.threads, then the online cores */

/* ALS iterations (user side + item side). */
#define RECO_MIN_ITERATIONS 1
#define RECO_MAX_ITERATIONS 1000
#define RECO_DEFAULT_ITERATIONS 15	/* ials */
#define RECO_DEFAULT_ALS_ITERATIONS 10	/* als (explicit ratings): 15 and 20 score the same on ML-100K's five folds */
#define RECO_DEFAULT_BPR_ITERATIONS 200 /* bpr: epochs (README "BPR": 100 to 400 measured) */

/* Conjugate-gradient steps per row and half-iteration. */
#define RECO_MIN_CG_STEPS 1
#define RECO_MAX_CG_STEPS 100
#define RECO_DEFAULT_CG_STEPS 3

/* L2 penalty lambda and confidence scale alpha (alpha must be > 0). */
#define RECO_MAX_REGULARIZATION 1e9
/*
 * ials: 31 since 0.6.0 (50 before): the best five-fold mean NDCG@10 on MovieLens 100K u1..u5,
 * weight = rating (test/bench/results/ials-defaults-2026-12-01.md).
 */
#define RECO_DEFAULT_REGULARIZATION 31.0f
#define RECO_DEFAULT_ALS_REGULARIZATION 0.12f	/* als: scaled by each row's rating count; best of 0.07 .. 0.22 on ML-100K's five folds */
#define RECO_DEFAULT_BPR_REGULARIZATION 0.01f	/* bpr */
#define RECO_MAX_ALPHA 1e9
#define RECO_DEFAULT_ALPHA 1.0f

/* Frequency-scaled regularization: lambda * (row entries [+ unobserved_weight * other side's rows])^reg_exponent. */
#define RECO_MAX_REG_EXPONENT 4.0
#define RECO_DEFAULT_REG_EXPONENT 0.0f	/* ials: a constant lambda (measured: 1 gains nothing on MovieLens 100K) */
#define RECO_DEFAULT_ALS_REG_EXPONENT 1.0f	/* als: ALS-WR, lambda * ratings of the row */

/* ials: the weight of every unobserved pair (1: implicit's convention). */
#define RECO_MAX_UNOBSERVED_WEIGHT 1e9
#define RECO_DEFAULT_UNOBSERVED_WEIGHT 1.0f

/* bpr: the SGD step size. */
#define RECO_MAX_LEARNING_RATE 1e3
#define RECO_DEFAULT_BPR_LEARNING_RATE 0.01f

/* Seeds are integers exact in JSON (a double): -2^53 .. 2^53. */
#define RECO_MAX_SEED_BITS 53
#define RECO_DEFAULT_SEED 42

/* Versions of a model kept after a training (0 = keep every version). */
#define RECO_MAX_KEEP_VERSIONS 1000000
#define RECO_DEFAULT_KEEP_VERSIONS 2

/*
 * reco.tune: trials of one call at most (a grid's configurations, or the
 * trials of a random search).  Each trial is a full training and
 * evaluation, run one after another: a thousand is already hours on a large
 * source, and a larger grid is a random search (trials => N).  reco.tune's
 * plpgsql repeats the number; test/pgtap/limits.sql compares the two.
 */
#define RECO_MAX_TUNE_TRIALS 1000

/* Longest model name, in bytes (models.name CHECK). */
#define RECO_MAX_MODEL_NAME 63

/* Settings, in kB: the training memory budget (reco.max_memory) and the per-backend factor cache (reco.cache_size). */
#define RECO_MIN_MAX_MEMORY_KB 1024
#define RECO_DEFAULT_MAX_MEMORY_KB (4 * 1024 * 1024)	/* 4 GB */
/*
 * 512 MB: a 1,000,000-item model at k 64 (275 MB: items x (4k + 32) + 4k², cache.c) fits with
 * its 500,000-user matrix; at 256 MB its every call read the matrix from the table (1.1 s p50
 * against 0.11 ms cached, test/bench/results/million-2026-12-01.md).
 */
#define RECO_DEFAULT_CACHE_SIZE_KB (512 * 1024)

/* Cut-off k of reco.evaluate's ranking metrics. */
#define RECO_MIN_EVALUATE_K 1
#define RECO_MAX_EVALUATE_K 10000

/*
 * MMR diversity (diversity.h): re-rank min(max(FACTOR x n, MIN), max(n, MAX))
 * exact top candidates; up to STACK of them need no heap scratch.
 */
#define RECO_MMR_CANDIDATE_FACTOR 5
#define RECO_MMR_MIN_CANDIDATES 50
#define RECO_MMR_MAX_CANDIDATES 1000
/* Rows MMR re-ranks at most (n of recommend*, k of evaluate with diversity > 0): bounds its O(n x C x k) work. */
#define RECO_MMR_MAX_ROWS 1000
#define RECO_MMR_STACK_CANDIDATES 1024

/*
 * reco.explore: the scale σ of the Thompson draw from the user's posterior
 * N(x_u, σ² A_u⁻¹), and the fraction ε of the slots given to under-exposed
 * items (README "Explore vs exploit" says how they were chosen).  The SQL
 * defaults of reco.explore repeat them.
 */
#define RECO_DEFAULT_EXPLORE_SIGMA 0.5f
#define RECO_DEFAULT_EXPLORE_EPSILON 0.1f
/*
 * The largest σ of reco.explore and reco.evaluate (22023 above it).  σ = 1
 * is the model's own posterior and already changes 4 items of 10 (README);
 * at 100 the draw's spread is a hundred times the posterior's and the list
 * is noise, so nothing useful lies beyond.  Huge σ (3.4e38 was accepted)
 * only made the sampled scores overflow; the bound keeps σ U⁻¹z many orders
 * of magnitude from float's range on any trained model (a hand-made one can
 * still overflow: that is the 22003 "not finite" error).
 */
#define RECO_MAX_EXPLORE_SIGMA 100.0f
/* Customer segments (reco.segment_users): clusters at most, and Lloyd iterations at most. */
#define RECO_MAX_SEGMENTS 10000
#define RECO_SEGMENT_MAX_ITERATIONS 100
/*
 * Lloyd stops early after an iteration that moved at most MOVED_FRACTION of
 * the users to another segment, moved the unit centroids by at most
 * TOLERANCE (mean squared distance) and lowered the objective (sum of the
 * cosine distances) by at most MIN_GAIN of it (src/segments.c; README
 * segment_users): on the 10M synthetic set's model that ends near 50
 * iterations within 0.1 % of the 100-iteration objective.
 */
#define RECO_SEGMENT_MOVED_FRACTION 0.005
#define RECO_SEGMENT_TOLERANCE 1e-4
#define RECO_SEGMENT_MIN_GAIN 2e-5

/*
 * Seeding stops looking for another direction when every user's squared
 * chord distance (2 - 2 cos) to its nearest centre averages at most this:
 * the users point in fewer distinct directions than k (segment_users: 22023).
 */
#define RECO_SEGMENT_SAME_DIRECTION 2e-5

/*
 * The shared copies of served matrices (reco in shared_preload_libraries,
 * src/shared_cache.c): reco.shared_cache_size bounds their sum (kB), and the
 * registry has SLOTS entries (one per model version side served).
 */
#define RECO_DEFAULT_SHARED_CACHE_SIZE_KB (1024 * 1024)	/* 1 GB */
#define RECO_SHARED_CACHE_SLOTS 64

/*
 * Rows of a shared item copy kept a second time, contiguous in descending
 * norm order (RecoFactorSet.norm_head): the rows a top-n scan reads first.
 * A new backend's first call maps the copy page by page, and the same rows
 * scattered over the whole matrix cost one page fault each (about 70 at
 * 100k items, 0.4 ms); the head is a few faults.  2048 rows: two scan tiles,
 * 512 kB at k 64.
 */
#define RECO_SHARED_NORM_HEAD_ROWS 2048

/*
 * BPR (bpr.h): samples per mini-batch (the factors depend on it, never on
 * the thread count; README "BPR" says how it was chosen), its largest
 * value, and the samples one task of a batch scores.
 */
#define RECO_BPR_BATCH 4096
#define RECO_BPR_MAX_BATCH (1 << 20)
#define RECO_BPR_CHUNK 256

/*
 * Explicit ratings (algorithm "als", explicit.h): the stored vectors carry
 * STORED_EXTRA more floats than k (user [x, b_u, 1, 1], item [y, 1, b_i, μ]),
 * so k is at most RECO_MAX_FACTORS - 3; initial factors are drawn from
 * N(0, INIT_SCALE² / k).
 */
#define RECO_EXPLICIT_STORED_EXTRA 3
#define RECO_EXPLICIT_INIT_SCALE 0.1

/*
 * Cold start from features (issue 14, feature_train.c, ridge.c): the penalty λ
 * of the mapping from features to factors — 10, chosen on all five hashed
 * folds of MovieLens 100K (test/bench/cold_items.sh, cold_users.sh): the best
 * five-fold mean NDCG@10 of the default item mapping (the prior, 0.2125) and
 * of cold users (0.3995); the ridge alone on items peaks at 30 (0.2058
 * against 0.2042 at 10) — and the most columns (sparse
 * features on entities with interactions + embedding dimensions) of one
 * side's system, whose p x p doubles the fit holds (800 MB at the limit)
 * and factors in O(p³).
 */
#define RECO_DEFAULT_FEATURE_REGULARIZATION 10.0f
#define RECO_MAX_FEATURE_REGULARIZATION 1e9
#define RECO_MAX_FEATURE_COLUMNS 10000

/*
 * The default of option feature_mapping (options.c) for ials with item
 * features: 0 = "ridge" (fitted once on the trained factors), 1 = "prior"
 * (the item factors regularized toward the mapping, refitted after every
 * item step): "prior", measured better on the five cold-item folds of
 * MovieLens 100K (NDCG@10 0.2125 at feature_regularization 10 vs the
 * ridge's best 0.2058 at 30; test/bench/cold_items.sh).  Any other
 * training with features (als, bpr, user features only) uses "ridge".
 */
#define RECO_DEFAULT_FEATURE_MAPPING 1

/*
 * The training build (interactions.c): a side whose ids span at most
 * SPAN_PER_ROW ids per input row (plus 1024) is mapped to dense indices
 * through one int32 slot per possible id (at most 8 bytes a row, less than
 * the 20 the raw rows hold) instead of a hash table and a sort: linear and
 * cache-friendly (serial ids, the codes of text and uuid keys).
 */
#define RECO_ID_DIRECT_SPAN_PER_ROW 2

/*
 * The build's loops over rows answer a cancel every this many rows (a power
 * of 2): a million rows take a few to some tens of milliseconds, so a cancel
 * during the build of 100M rows is answered at once, not after its step.
 */
#define RECO_BUILD_POLL_ROWS (1 << 20)

/*
 * reco.train's direct read of a table (train.c) answers a cancel and updates
 * reco.training_progress's rows_read every this many rows (a power of 2):
 * 64k rows are read in a few milliseconds.
 */
#define RECO_READ_POLL_ROWS (1 << 16)

/*
 * Entries of a build's counting-sort scatter per thread it uses
 * (scatter.c): below this, one thread (starting one costs more).
 */
#define RECO_SCATTER_MIN_ENTRIES (1 << 18)

/*
 * The store's bulk insertion (bulk_insert.c): factor rows gathered and
 * written by table_multi_insert this many at a time (COPY FROM's 1000), or
 * sooner once their values hold this many bytes; cancel is checked after
 * every write.
 */
#define RECO_STORE_BULK_ROWS 1000
#define RECO_STORE_BULK_BYTES (8 * 1024 * 1024)

/*
 * While training's final pass runs, the backend stores the rows ready
 * (train.c, RecoTrainStoreReady) up to this many at a time, asking the
 * cancel hook between; it takes one of the pass's tasks only once no ready
 * row is left (parallel.c; test/bench/results/store-overlap-2026-12-02.md,
 * h-store3-2026-12-03.md).
 */
#define RECO_STORE_OVERLAP_ROWS 1000

/*
 * The memory estimate of a training (train.c, RecoCheckMemory) adds to its
 * arrays SLACK_PERCENT of them (the allocator's free space and the worker
 * threads' arenas) and BACKEND_BYTES (the backend's own memory: code,
 * caches, about 45 MB of JIT code when the read query is JIT-compiled).
 * Measured (README, Limits): the estimate is then 2-5 % above the backend's
 * peak (VmHWM less shared memory) at 10M and 30M rows, k 64.
 */
#define RECO_MEMORY_SLACK_PERCENT 3
#define RECO_MEMORY_BACKEND_BYTES ((Size) 64 * 1024 * 1024)

/*
 * Serving's direct read of reco.models (store.c, RecoLookupModelDirect)
 * scans the table itself, in the caller's snapshot, when it has at most this
 * many pages (a few hundred model versions), instead of its (name, version)
 * index: a new backend's first call then builds no index relation cache
 * entry and descends no btree (measured 0.1 ms of ~1 ms).
 */
#define RECO_MODELS_SCAN_MAX_BLOCKS 8

/*
 * recommend on a shared item copy (recommend.c, RecoEmitTopItemsLazy) asks
 * the scan for the n + e best items without the e excluded ones (seen and
 * `exclude`, up to this many) and drops those from its answer by id: a new
 * backend's first call then never looks the excluded ids up in the whole
 * copy, which maps most of its ids and norm ranks (about 270 of 390 pages at
 * 100,000 items); more than this many are excluded as before.
 */
#define RECO_LAZY_EXCLUDE_MAX_IDS 256

/*
 * Transparent huge pages (hugepage.c): an array of at least MIN_BYTES that
 * training reads at random (factors, sparse rows) asks the kernel to back
 * the HUGE_PAGE_BYTES-aligned pages inside it with huge pages
 * (madvise(MADV_HUGEPAGE); nothing changes where the kernel refuses).
 */
#define RECO_HUGE_PAGE_BYTES ((size_t) 2 * 1024 * 1024)
#define RECO_HUGE_PAGE_MIN_BYTES ((size_t) 8 * 1024 * 1024)

/*
 * The prefault thread of a read (hugepage.c) maps the pages of the row
 * arrays up to AHEAD_ROWS rows beyond the last count it was told (every
 * RECO_READ_POLL_ROWS rows), STEP_ROWS rows per madvise: at 20 bytes a row
 * at most ~6.5 MB mapped and not yet written, and the writer waits at most
 * one step (~0.3 MB of pages) when its arrays move.
 */
#define RECO_PREFAULT_AHEAD_ROWS (1 << 18)
#define RECO_PREFAULT_STEP_ROWS (1 << 14)

/*
 * With no rows to map, the prefault thread of a training's read reads one
 * byte a page of PostgreSQL's buffer pool (RecoPrefaultTouch), the first
 * TOUCH_MAX_BYTES of it, TOUCH_STEP_BYTES between looks at the rows and the
 * stop flag (64 pages, ~0.5 ms at the ~7 us a first read of a page costs on
 * this project's VM).  The store's later writes through the pool then find
 * their pages mapped: at 10M interactions the store faulted ~57k pages on
 * the backend, a third of its CPU
 * (test/bench/results/store-cpu-2026-12-02.md).  The cap bounds the page
 * tables (2 MB a GB) and the thread's work where the pool is much larger
 * than what a store writes.
 */
#define RECO_PREFAULT_TOUCH_STEP_BYTES ((size_t) 256 * 1024)
#define RECO_STORE_TOUCH_MAX_BYTES ((size_t) 1024 * 1024 * 1024)

/*
 * The half A·p passes serve k >= this.  On Zen 4 they took 10 % less CPU per
 * iteration at k 128 and 10 % more at k 64, where making the half copy cost
 * what its reads saved (test/bench/results/cg-half-2026-12-02.md); on Zen 5
 * (full-width AVX-512) 15-27 % less at k 64
 * (test/bench/results/cg-half-k64-2026-12-02.md).
 */
#define RECO_CG_HALF_MIN_FACTORS 64

#endif							/* RECO_LIMITS_H */
