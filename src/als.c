/*-------------------------------------------------------------------------
 *
 * als.c
 *	  Implicit-feedback ALS solver: per-row CG / Cholesky solves of one side,
 *	  the training loss, the exact and explained single rows, and the
 *	  deterministic initial factors.
 *
 * Design
 * ------
 * One half-iteration of iALS solves, for every row u of a sparse matrix, the
 * k x k system (α0·YᵀY + λ_u I + Yᵀ(C_u − α0 I)Y) x_u = Yᵀ C_u p_u with the
 * other side Y fixed (als.h: α0 the unobserved weight, λ_u = λ·(n_u +
 * α0·N)^ν).  The shared matrix G is α0·YᵀY + λI when ν = 0; otherwise it is
 * α0·YᵀY and each row adds its own ridge λ_u I (one pow per row): to the
 * CG products, or to the diagonal of its explicit system.  Rows are independent, so the work is split into *chunks* of
 * consecutive rows of roughly equal estimated cost.  Chunk boundaries depend
 * only on the data and k (never on the thread count), and each row's result
 * depends only on its own inputs, so the factors are bit-identical whatever
 * the number of threads and however the chunks are scheduled.  The loss sums
 * per-chunk partial sums in chunk order for the same reason.  A CG side
 * solve can also give the loss of the factors it starts from (training's
 * user step, RecoAlsSolveSideLoss): a row's residual already forms G x and
 * every y·x, all its loss terms need (α0·xᵀYᵀYx is xᵀGx less G's ridge),
 * so the row only writes its three terms to a per-row array, which the calling
 * thread then sums as the loss job's chunks would: RecoAlsLoss bit for bit
 * (whose y·x read the half copy too when the CG passes do).
 *
 * Threads.  The calling thread (a PostgreSQL backend) computes YᵀY with
 * OpenBLAS (ssyrk, in blocks of rows so that it can poll between them;
 * during a training the CG solve that wrote Y has formed it, and Y's half
 * copy, between its tasks: RecoSideProducts), builds the chunk table, then
 * hands the chunks to the thread runner
 * (parallel.c) as its tasks, numbered by decreasing cost so that the Zipf
 * head (an item with a million users) starts first and the tail balances.
 * A task runs the rows of its chunk with the vector kernels (kernels.c) and
 * libc math/memory functions only.  A row longer than RECO_STOP_CHECK_WORK
 * multiply-adds polls the runner's stop flag inside itself, and on the
 * calling thread every RECO_HOOK_CHECK_EVERY-th of those polls also asks
 * the cancellation hook.  A non-finite value or a failed factorization is a
 * task's failure status: the runner stops every thread, joins them and
 * returns it.  The exact side solve can also hand its rows on as they are
 * done (RecoAlsSolveSideReady, training's final pass, whose backend stores
 * them meanwhile): each chunk marks itself done, the chunks run by position
 * (after those of a single row costlier than a chunk's target), and between
 * its tasks the calling thread is told the rows 0 .. u − 1 whose chunks are
 * all done (the runner's caller_work).
 *
 * Memory.  Everything (chunk table, loss partials or the rows' loss terms,
 * YᵀY, per-thread scratch) is malloc'ed by the calling thread before any
 * worker starts (the scratch through the runner's init_state) and freed
 * before return; no allocation outlives a call (but the half copy's buffer
 * and the solved sides' products while a training keeps them for its next
 * solves: RecoAlsKeepHalfBuffer) and
 * workers never allocate.  The caller owns the sparse
 * matrix and the factor matrices; tasks write only their own rows of the
 * solved side and their own chunk's loss partials (or rows' loss terms).
 *
 * Exact solves.  The Cholesky solver (and so the exact user pass that ends
 * every training, fold-in and explain) factors G = α0·YᵀY + λI = UᵀU once per
 * call and computes every z = U⁻ᵀ y of the fixed side once (runner tasks).
 * Only the nw entries with |c| − α0 > 0 change A (an entry of confidence
 * exactly α0 — every weight-1 entry at the default alpha = α0 = 1 — adds to
 * b alone).  A row of confidences all >= α0 and nw < k is then solved by
 * Woodbury on the nw x nw matrix I + S Z_w Z_wᵀ S (RecoShortRow: about
 * nw²k/2 + nw³/6 + nk multiply-adds); any other row builds its explicit
 * k x k system with the rank-K kernel, its nw entries only, and solves it
 * by Cholesky in double (nw·k²/2 + k³/6); with ν > 0 the ridge differs by
 * row, U does not serve, and every row takes the explicit system.  The
 * choice depends only on the row, k and ν, and a single
 * row (RecoAlsSolveRowExact, RecoAlsExplainRow) runs the same routine with
 * the same U and z rows, so a trained user equals the fold-in of its rows
 * bit for bit.  In a batch, a chunk's short rows with fewer than 128 terms
 * are sorted by their number of terms and solved 2 to 4 at a time, one per
 * SIMD lane (RecoShortRowWindow, the short_lanes kernel: N's factorization
 * and substitutions are overhead-bound at these sizes), or up to 8 at a
 * time in zmm vectors with AVX-512F, when its cost model says that is
 * cheaper; a lane gives exactly the one-row kernels' bits (short_lanes'
 * contract, checked for every n up to 300), so grouping changes the
 * speed, never the factors.
 *
 * Inner loops.  A CG step touches every item vector of the row twice (a dot
 * product, then an axpy); they are done a block of RECO_KERNEL_BLOCK items
 * at a time (dots, then one multi-axpy while the block is still in L1),
 * with the next block prefetched.  The kernels are chosen once per process
 * for the CPU (kernels.c).
 *
 * CG rows in lockstep (RecoCgBlock).  Rows run their CG steps together, a
 * group at a time, so that one multi-row product G·[p_1 … p_n] (the
 * symv_rows kernel: each row of G loaded once serves six rows) replaces a
 * symv per row, and item vectors are reused across rows.  A chunk's rows go
 * in groups whose item vectors fit RECO_LOCKSTEP_BYTES (they stay in cache
 * from one pass to the next).  Rows longer than RECO_WINDOW_ROW_BYTES (the
 * Zipf head of the item side, whose user vectors exceed every cache) are
 * taken out of the chunks into blocks of alike lengths that run as the
 * first tasks: each pass walks the fixed side in windows of
 * RECO_WINDOW_BYTES, and every row of the block takes its entries of the
 * window, so a window's vectors come from memory once for the whole block
 * instead of once per row; only rows dense enough for a block of them to
 * reuse each window's vectors (RECO_WINDOW_MIN_REUSE) are windowed, the
 * other long rows run alone and gather their vectors once.  A row still sums its entries in index order
 * with the same kernels, and its scalar steps are RecoCgRow's, so every
 * row's result is bit for bit what solving it alone gives: grouping changes
 * the speed, never the factors.
 *
 * Half-precision passes (RecoAlsConfig.cg_vectors: by default from k =
 * RECO_CG_HALF_MIN_FACTORS on).  A CG row's passes, bound by the bytes of
 * the vectors they gather, read Y rounded to IEEE half (kernels'
 * dot_block_h / axpy_block_h) from the side's half copy made once per solve
 * (RecoFixedHalf), the residual pass too (G = YᵀY stays float32): a
 * lockstep group's or gathered row's residual pass copies its half vectors
 * into the thread's gather buffer, which its A·p passes then read in order.
 * The fused loss takes its y·x from the residual pass's own half products
 * (and RecoAlsLoss reads the same half copy for such a config), so the loss
 * costs that pass no extra bytes.  Every copy holds the same rounding of
 * the same floats, so a row's result does not depend on grouping, windows,
 * threads or the fused loss.  A fixed side with a value
 * beyond half's range takes the float passes, the whole solve (checked once
 * per solve).
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* posix_memalign */
#endif

#include "als.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hugepage.h"
#include "kernels_impl.h"
#include "rng.h"

/* Inside a long row, check the stop flag about every this many multiply-adds. */
#define RECO_STOP_CHECK_WORK 4.0e6
/* ... and call should_stop (caller only) at every this many flag checks. */
#define RECO_HOOK_CHECK_EVERY 4
/* A CG row copies up to this many bytes of its item vectors to contiguous scratch ... */
#define RECO_GATHER_BYTES (4 * 1024 * 1024)
/* ... if they exceed this many bytes (smaller rows stay in L1 between passes). */
#define RECO_GATHER_MIN_BYTES (32 * 1024)
/*
 * A CG row whose item vectors exceed RECO_WINDOW_ROW_BYTES is solved with
 * other such rows in lockstep, one window of RECO_WINDOW_BYTES of the fixed
 * side at a time (RecoCgBlock).  A block takes rows (longest first) until
 * their entries reach RECO_WINDOW_REUSE times the fixed side's rows (each
 * window's vectors then serve that many entries) or its vectors r, p, A·p
 * fill RECO_WINDOW_STATE_BYTES; at most RECO_WINDOW_MAX_ROWS rows of a call
 * are windowed (the first ones, by position).  Every pass of a block reads
 * the whole fixed side from memory once, so fewer, fuller blocks read less:
 * 32 (8 before, with blocks of a quarter of a thread's share) took 11-13 %
 * less CPU per iteration at k 64 with 2 threads on the 10M set
 * (test/bench/results/h-cg64-2026-12-03.md).
 */
#define RECO_WINDOW_ROW_BYTES (256 * 1024)
#define RECO_WINDOW_BYTES (512 * 1024)
#define RECO_WINDOW_REUSE 32
#define RECO_WINDOW_STATE_BYTES (256 * 1024)
#define RECO_WINDOW_MAX_ROWS 65536
/*
 * ... and only rows long enough that a block of RecoWindowRowsMax(k) of
 * them holds RECO_WINDOW_MIN_REUSE entries per fixed-side row: every pass
 * of a block reads each window it touches from memory again, so a sparser
 * block (the long tail of the windowed lengths when the fixed side is large:
 * 2M users at 100M interactions) reads more than a row gathering its own
 * vectors once (RecoCgRow) and found each of them about once per window
 * (test/bench/results/training-memory-2026-12-02.md).
 */
#define RECO_WINDOW_MIN_REUSE 4
/*
 * A CG pass that gathers its item vectors prefetches them this many blocks
 * of RECO_KERNEL_BLOCK entries ahead, into L2 only (a block's vectors are
 * 16 KB at k 128, half of L1): one block ahead into L1 measured 5-15 %
 * slower per iteration (test/bench/results/cg-kernel-2-2026-12-02.md).
 */
#define RECO_CG_PREFETCH_BLOCKS 2
/*
 * A lockstep group's residual pass prefetches its rows' vectors (into L2)
 * this many entries ahead of the entry it reaches, across row ends: its
 * rows are short (users: about 50 entries), so prefetching a row's own
 * blocks, or only the next row's first block, left the pass's gathers
 * waiting on L3 or memory (test/bench/results/h-cg-2026-12-02.md).
 */
#define RECO_GROUP_PREFETCH_AHEAD 128
/* Other CG rows run in lockstep groups whose item vectors fit this many bytes (RecoRunCgChunk) ... */
#define RECO_LOCKSTEP_BYTES ((size_t) 128 * 1024)
/* ... or this many bytes of half vectors, with the half A·p passes. */
#define RECO_LOCKSTEP_HALF_BYTES ((size_t) 128 * 1024)
/* The explicit system of a long row is built from blocks of this many gathered entries. */
#define RECO_SYSTEM_BLOCK 128
/* A short row's right-hand side sums its z rows RECO_RHS_STEP at a time ... */
#define RECO_RHS_STEP 8
/* ... prefetching the z rows this many entries ahead (the explicit system its y rows too). */
#define RECO_RHS_AHEAD RECO_KERNEL_BLOCK
/*
 * Short rows of the exact pass with fewer than RECO_SHORT_LANE_MAX Woodbury
 * terms are solved up to RECO_SHORT_LANES at a time, one per SIMD lane
 * (short_lanes); a chunk collects RECO_SHORT_WINDOW of them, sorts them by
 * their number of terms and solves them in groups of consecutive ones.
 */
#define RECO_SHORT_LANE_MAX 128
#define RECO_SHORT_WINDOW 512
/* Cost model of RecoShortRowWindow's choice (RecoShortCost) with four-lane short_lanes. */
#define RECO_SHORT_COST_ONE_SQ 270.0
#define RECO_SHORT_COST_LANES_CUBE 6.66
#define RECO_SHORT_COST_LANES_SQ 313.0
/* Target estimated cost of one chunk, in multiply-adds (~0.1-1 ms) ... */
#define RECO_CHUNK_COST 4.0e6
/*
 * ... and of an exact (Cholesky) chunk: 32 times more, so that a chunk
 * holds enough short rows (about 360 at k 128, 10 at the CG chunks' size)
 * for RecoShortRowWindow to find groups of alike sizes (16 times measured
 * slower on Zen 5: test/bench/results/h-pass2-2026-12-03.md).
 */
#define RECO_EXACT_CHUNK_COST 1.28e8
/* Upper bound on the number of chunks of one call. */
#define RECO_MAX_CHUNKS 65536
/* Bytes of a cache line: the alignment of scratch buffers and the prefetch stride. */
#define RECO_CACHE_LINE 64
/* Scratch arrays are padded to a multiple of this many floats (one cache line). */
#define RECO_PAD_FLOATS ((size_t) (RECO_CACHE_LINE / sizeof(float)))
/* CG stops once |r|² falls below this (the row is solved to float precision). */
#define RECO_CG_TOLERANCE 1e-20
/* YᵀY is summed by ssyrk over blocks of RECO_GRAM_BLOCK_WORK / k² rows of Y ... */
#define RECO_GRAM_BLOCK_WORK ((int64_t) 1 << 26)
/* ... and at least this many; should_stop is polled between blocks. */
#define RECO_GRAM_MIN_BLOCK_ROWS 256
/* A CG solve's fixed side is checked for half's range this many values at a time, polling should_stop between. */
#define RECO_HALF_BLOCK_VALUES ((int64_t) 1 << 18)
/* The loss's |Y|² loop polls should_stop every this many item rows ... */
#define RECO_LOSS_POLL_ROWS 65536
/* ... summing |y|² of this many rows side by side (a divisor of RECO_LOSS_POLL_ROWS). */
#define RECO_SQUARE_ROWS 8
/* Initial factors are uniform in [0, RECO_INIT_SCALE), from this many random bits. */
#define RECO_INIT_SCALE 0.01f
#define RECO_INIT_BITS 24
/* The threaded initial factors fill this many rows per task. */
#define RECO_INIT_TASK_ROWS 4096

/* ------------------------------------------------------------------------
 * Job state
 * ------------------------------------------------------------------------
 */

typedef enum RecoJobKind
{
	RECO_JOB_CG,
	RECO_JOB_CHOLESKY,
	RECO_JOB_LOSS,
	RECO_JOB_ZROWS				/* Z = Y U⁻¹ of the exact pass, row by row */
} RecoJobKind;

/* A run of consecutive rows: one task of the runner. */
typedef struct RecoChunk
{
	int64_t		begin;
	int64_t		end;
	double		cost;
	int64_t		id;				/* position in row order (loss partials) */
} RecoChunk;

/* The products of a solved side (YᵀY, its half copy) kept for the solves that read it. */
typedef struct RecoSideProducts RecoSideProducts;
static bool RecoProductsStep(RecoSideProducts *sp, const RecoKernels *kern, int64_t rows_ready);

/*
 * What every task of one side solve or loss shares, set up by the calling
 * thread; tasks write only their own rows of solve and their chunk's partials.
 */
typedef struct RecoJob
{
	RecoJobKind kind;
	const RecoSparse *rows;
	const float *fixed;			/* n_cols x k */
	bool		half;			/* CG: the passes read half vectors (RecoRowCtx.half) */
	uint16_t   *fixed_h;		/* CG, half: fixed rounded to half (n_cols x k), or NULL */
	size_t		fixed_h_bytes;	/* fixed_h's buffer (RecoHalfBufferTake: it may be larger) */
	bool		fixed_h_borrowed;	/* fixed_h is the fixed side's kept products' */
	float	   *solve;			/* n_rows x k (read-only for the loss) */
	const float *gmat;			/* the shared matrix G (solves and the loss) */
	const double *U;			/* Cholesky: U (UᵀU = YᵀY + λI), then Uᵀ; or NULL */
	float	   *Z;				/* Cholesky: n_cols x k rows U⁻ᵀ y, or NULL */
	const int32_t *zcols;		/* Z rows: task row u computes column zcols[u]; NULL: column u */
	const float *prior;			/* n_rows x k prior means m_u (solves), or NULL: none */
	const RecoKernels *kern;
	int			k;
	float		alpha;
	float		regularization; /* λ */
	float		reg_exponent;	/* ν */
	float		unobserved_weight;	/* α0 */
	int			cg_steps;
	RecoChunk  *chunks;			/* by decreasing cost: task c runs chunks[c] */
	int64_t		n_chunks;
	int64_t		gather_cap;		/* entries of each thread's CG gather buffer */
	int64_t		win_len;		/* CG: rows this long or longer ... */
	int64_t		win_last;		/* ... up to this row are windowed (none: win_len 0) */
	int32_t    *win_rows;		/* the windowed rows, by decreasing length */
	int64_t		n_win;
	int64_t    *win_block;		/* block b is win_rows[win_block[b] .. win_block[b + 1]) */
	int64_t		n_blocks;		/* tasks 0 .. n_blocks − 1 run one block each */
	double	   *partials;		/* 3 per chunk id (loss); each task writes its own */
	double		sums[3];		/* loss partials summed in row order */
	double	   *loss_rows;		/* CG: 3 loss terms per row of solve's start, or NULL */
	const RecoRowsReady *ready; /* told the rows solved so far (RecoJobCallerWork), or NULL */
	RecoSideProducts *forming;	/* CG: solve's products, formed as its rows are solved, or NULL */
	unsigned char *chunk_done;	/* with ready or forming: chunk id done (atomic), or NULL */
	int64_t		blocks_done;	/* ... and the blocks of long rows done (atomic) */
	int64_t		win_first;		/* the first windowed row (RecoWindowRows), if any */
	int64_t    *chunk_end;		/* ... and the end row of chunk id */
	int64_t		chunks_ready;	/* chunks 0 .. this − 1 (by id) are all done */
	bool		ready_failed;	/* ready->fn returned the run's failure */
	double		chunk_target;	/* the cost a chunk closes at (RecoMakeChunks) */
} RecoJob;

/* One short row of a group solved in lanes (and the only one of a single-row solve: lane 0). */
typedef struct RecoShortLane
{
	double	   *v;				/* k: Σ c⁺ z_i, then (I + Z_wᵀ D Z_w)⁻¹ of it, then x */
	double	   *q;				/* nw: S Z_w v, then N⁻¹ of it */
	double	   *sv;				/* nw: S = D^½ */
	float	   *M;				/* nw x nw: Z_w Z_wᵀ (lower triangle, stride nw) */
	int32_t    *cidx;			/* nw: the terms' item indices */
	const float *zb;			/* the terms' z rows are zb[zi[i]]: Z and cidx, */
	const int32_t *zi;			/* or zu and seq (single row) */
	int			nw;				/* how many terms (|c| > α0) */
} RecoShortLane;

/* Per-thread buffers (the runner's thread state); allocated by the caller before workers start. */
typedef struct RecoScratch
{
	float	   *r;				/* k: CG residual / loss Gx */
	float	   *p;				/* k: CG direction */
	float	   *Ap;				/* k: CG A·p */
	float	   *A;				/* k x (k + 8): explicit system, or a short row's Z_w Z_wᵀ */
	float	   *b;				/* k: Cholesky right-hand side */
	double	   *L;				/* k x k: Cholesky factor */
	double	   *z;				/* k: triangular-solve work */
	float	   *zu;				/* chunk x k: a single short row's z rows */
	int32_t    *seq;			/* chunk: 0, 1, 2, ... (the rows of zu) */
	int32_t    *cidx;			/* chunk: item indices of a short row's terms with |c| > α0 (lane 0) */
	float	   *gy;				/* RECO_SYSTEM_BLOCK x k: gathered y (the explicit system) */
	float	   *gp;				/* RECO_SYSTEM_BLOCK x k: gathered (|c| − 1) y */
	double	   *dv;				/* 2k + 2 chunk: an exact short row's vectors */
	float	   *gather;			/* gather_cap x k: a CG row's item vectors */
	uint16_t   *gather_h;		/* the same memory as half vectors (RecoRowCtx.half) */
	int64_t		gather_cap;		/* entries gather holds (0: none), float or half */
	float	   *wr;				/* RecoWindowRowsMax(k) rows of stride RecoPad(k): a block's r */
	float	   *wp;				/* ... p */
	float	   *wap;			/* ... A·p */
	int64_t    *wpos;			/* RecoWindowRowsMax(k) each: a block row's next entry, */
	int32_t    *wrow;			/* its row, */
	int32_t    *wlist;			/* a lockstep group's rows (RecoRunCgChunk), */
	float	   *wridge;			/* ridge, */
	float	   *wrs;			/* |r|², */
	bool	   *wdone;			/* and whether its CG is over */
	RecoShortLane lane[RECO_SHORT_LANES];	/* a group of short rows (lane 0: M = A, cidx) */
	double	   *lanew;			/* short_lanes work: RECO_SHORT_LANES·c·(c + 1), c = RecoShortLaneCap */
	void	   *mem;			/* the single allocation behind them */
} RecoScratch;

/* ------------------------------------------------------------------------
 * Per-row work
 * ------------------------------------------------------------------------
 */

/* Everything a row routine needs besides the row itself. */
typedef struct RecoRowCtx
{
	const RecoKernels *kern;
	int			k;
	const float *G;
	const float *Y;
	bool		half;			/* CG: the passes read Y rounded to half: Yh or a copy */
	const uint16_t *Yh;			/* CG, half: Y rounded to half (RecoFixedHalf), or NULL */
	const double *U;			/* U (UᵀU = G), then Uᵀ (exact solves); or NULL */
	const float *Z;				/* rows U⁻ᵀ y of Y, or NULL: computed per row */
	float		alpha;
	float		regularization; /* λ */
	float		reg_exponent;	/* ν: 0, or each row adds its λ_u I to G */
	float		unobserved_weight;	/* α0 */
	int64_t		n_fixed;		/* N: rows of Y */
	int			cg_steps;
	const float *prior;			/* the row's prior mean m (k), or NULL: none */
	double	   *loss_rows;		/* CG: 3 loss terms per row (of the x a row starts from), or NULL */
	RecoScratch *s;
	RecoParallelWorker *worker; /* the runner's thread; NULL for single rows */
} RecoRowCtx;

typedef enum RecoPassMode
{
	RECO_PASS_RESIDUAL,			/* coef = c⁺ − (|c| − α0)(y·v) */
	RECO_PASS_AP				/* coef = (|c| − α0)(y·v) */
} RecoPassMode;

/* Rounds a float count up to a whole number of cache lines. */
static size_t
RecoPad(size_t nfloats)
{
	return (nfloats + RECO_PAD_FLOATS - 1) & ~(RECO_PAD_FLOATS - 1);
}

/*
 * Bytes of one vector of k values in a CG gather buffer: float, or half
 * when half.
 */
static size_t
RecoGatherVectorBytes(int k, bool half)
{
	return (size_t) k * (half ? sizeof(uint16_t) : sizeof(float));
}

/* Bytes of item vectors a lockstep group of CG rows holds at most (float or half vectors). */
static size_t
RecoLockstepBytes(bool half)
{
	return half ? RECO_LOCKSTEP_HALF_BYTES : RECO_LOCKSTEP_BYTES;
}

/* Most rows of a block of windowed CG rows for k (their r, p, A·p fill RECO_WINDOW_STATE_BYTES). */
static int
RecoWindowRowsMax(int k)
{
	size_t		n = RECO_WINDOW_STATE_BYTES / (3 * sizeof(float) * RecoPad(k));

	return n < 1 ? 1 : (int) n;
}

/*
 * Confidence of one entry: returns |c| and sets *pref to c⁺ (c if c > 0,
 * else 0), c = alpha * weight (implicit's convention: c <= 0 is preference 0
 * with confidence |c|).
 */
RECO_INLINE float
RecoConfidence(float alpha, float weight, float *pref)
{
	float		conf = alpha * weight;

	*pref = 0.0f;
	if (conf > 0)
		*pref = conf;
	else
		conf = -conf;
	return conf;
}

/*
 * Issues prefetches for the item vectors (vbytes each) of the next block,
 * into L1, or into L2 only when l2 (a constant in every caller).
 */
RECO_INLINE void
RecoPrefetchVectors(const void *Y, int vbytes, const int32_t *idx, int cnt, bool l2)
{
	int			t,
				off;

	for (t = 0; t < cnt; t++)
	{
		const char *y = (const char *) Y + (size_t) idx[t] * vbytes;

		for (off = 0; off < vbytes; off += RECO_CACHE_LINE)
		{
			if (l2)
				__builtin_prefetch(y + off, 0, 2);
			else
				__builtin_prefetch(y + off, 0, 3);
		}
	}
}

/* Issues prefetches for the item vectors of the next block (into L1). */
RECO_INLINE void
RecoPrefetchBlock(const float *Y, int k, const int32_t *idx, int cnt)
{
	RecoPrefetchVectors(Y, k * (int) sizeof(float), idx, cnt, false);
}

/*
 * Inside a long row, after block number nblock: polls the stop flag every
 * check_every blocks (and the hook at every RECO_HOOK_CHECK_EVERY-th of
 * those, on the calling thread); true if the row must stop.
 */
static bool
RecoBlockPoll(RecoRowCtx *ctx, int64_t nblock, int64_t check_every)
{
	return ctx->worker != NULL && nblock % check_every == check_every - 1 &&
		RecoParallelPoll(ctx->worker,
						 (nblock / check_every) % RECO_HOOK_CHECK_EVERY ==
						 RECO_HOOK_CHECK_EVERY - 1);
}

/* λ_u / λ of a row of n entries for the loss: (n + α0·N)^ν in double; 1 when ν is 0. */
static double
RecoNormWeight(float reg_exponent, float unobserved_weight, int64_t n_fixed,
			   int64_t n)
{
	if (reg_exponent == 0.0f)
		return 1.0;
	return pow((double) n + (double) unobserved_weight * (double) n_fixed,
			   (double) reg_exponent);
}

/*
 * The loss terms of a user row x of n entries before its entries (implicit's
 * calculate_loss, in double): out[0] = α0·xᵀ(YᵀY x) as xᵀ(G x) less G's
 * ridge λ|x|² (G = α0·YᵀY + λI, or α0·YᵀY when ν > 0: the shared matrix,
 * whose G x the CG residual forms anyway), out[1] = 0 (Σ|c| to come) and
 * out[2] = (n + α0·N)^ν |x|² (λ_u/λ: |x|² when ν is 0).  gx is G x (float,
 * the symv kernel's: symv_rows gives the same bits), or NULL: computed here
 * into the scratch r.
 */
static void
RecoLossRowStart(RecoRowCtx *ctx, const float *x, const float *gx, int64_t n,
				 double *out)
{
	int			k = ctx->k;
	double		l = 0.0,
				xx = 0.0;
	int			j;

	if (gx == NULL)
	{
		ctx->kern->symv(k, ctx->G, x, ctx->s->r);
		gx = ctx->s->r;
	}
	for (j = 0; j < k; j++)
	{
		l += (double) x[j] * (double) gx[j];
		xx += (double) x[j] * (double) x[j];
	}
	out[0] = ctx->reg_exponent == 0.0f ? l - (double) ctx->regularization * xx : l;
	out[1] = 0.0;
	out[2] = xx * RecoNormWeight(ctx->reg_exponent, ctx->unobserved_weight, ctx->n_fixed, n);
}

/*
 * Adds the loss terms of cnt entries (weights w, s[t] = y·x) in entry order:
 * out[0] += |c|(p − s)² − α0·s², out[1] += |c| (p = 1 if c > 0, else 0).
 */
static void
RecoLossEntries(const RecoRowCtx *ctx, const float *w, const float *s, int cnt,
				double *out)
{
	double		a0 = ctx->unobserved_weight;
	int			t;

	for (t = 0; t < cnt; t++)
	{
		double		c = (double) (ctx->alpha * w[t]);
		double		pref = c > 0 ? 1.0 : 0.0;
		double		d;

		c = fabs(c);
		d = pref - (double) s[t];
		out[0] += c * d * d - a0 * (double) s[t] * (double) s[t];
		out[1] += c;
	}
}

/*
 * Prefetches into L2 the vectors (vbytes each) of the blocks after block b0
 * of a row of n entries: blocks 1 .. RECO_CG_PREFETCH_BLOCKS ahead at the
 * first block, then the one RECO_CG_PREFETCH_BLOCKS ahead (the others are
 * on their way).
 */
static void
RecoPrefetchAhead(const void *Y, int vbytes, const int32_t *idx, int64_t n, int64_t b0)
{
	int			d;

	for (d = b0 == 0 ? 1 : RECO_CG_PREFETCH_BLOCKS;
		 d <= RECO_CG_PREFETCH_BLOCKS && b0 + d * RECO_KERNEL_BLOCK < n; d++)
	{
		int64_t		rest = n - b0 - d * RECO_KERNEL_BLOCK;

		RecoPrefetchVectors(Y, vbytes, idx + b0 + d * RECO_KERNEL_BLOCK,
							(int) (rest < RECO_KERNEL_BLOCK ? rest : RECO_KERNEL_BLOCK), true);
	}
}

/*
 * The multipliers of cnt entries (weights w, dots s) in a pass's axpy:
 * pref − (conf − α0)·s for the residual, (conf − α0)·s for A·p.
 */
static void
RecoPassCoefs(const RecoRowCtx *ctx, const float *w, const float *s, int cnt,
			  RecoPassMode mode, float *coef)
{
	float		alpha = ctx->alpha;
	float		a0 = ctx->unobserved_weight;
	int			t;

	for (t = 0; t < cnt; t++)
	{
		float		pref;
		float		conf = RecoConfidence(alpha, w[t], &pref);

		if (mode == RECO_PASS_RESIDUAL)
			coef[t] = pref - (conf - a0) * s[t];
		else
			coef[t] = (conf - a0) * s[t];
	}
}

/*
 * One pass over n entries of a row, a block at a time.  Item vectors are
 * Y[idx[t]], or Y[t] (contiguous) when idx is NULL; or, when Yh is set
 * (the half path), the half vectors Yh[idx[t]] or Yh[t].  If copy is set,
 * the vectors are also copied there contiguously, as float or half (the
 * copy the later A·p passes read); with prefetch (and idx), the next
 * blocks' vectors are prefetched; with loss (a residual pass: v is the
 * row's x), the entries' loss terms are added to it (RecoLossEntries) from
 * the pass's own y·x (half products on the half path).  Returns
 * RECO_STATUS_STOPPED if the job was told to stop in the middle of a long
 * row.
 */
static RecoStatus
RecoSparsePass(RecoRowCtx *ctx, const float *Y, const uint16_t *Yh,
			   const int32_t *idx, const float *w, int64_t n, const float *v,
			   float *out, RecoPassMode mode, void *copy, bool prefetch,
			   double *loss)
{
	const RecoKernels *kern = ctx->kern;
	int			k = ctx->k;
	float		s[RECO_KERNEL_BLOCK];
	float		coef[RECO_KERNEL_BLOCK];
	int64_t		b0;
	int64_t		nblock = 0;

	double		block_work = (double) RECO_KERNEL_BLOCK * 2.0 * k;
	int64_t		check_every = (int64_t) (RECO_STOP_CHECK_WORK / block_work) + 1;

	for (b0 = 0; b0 < n; b0 += RECO_KERNEL_BLOCK, nblock++)
	{
		int			cnt = (int) (n - b0 < RECO_KERNEL_BLOCK ? n - b0 : RECO_KERNEL_BLOCK);
		const float *Yb = idx != NULL || Y == NULL ? Y : Y + (size_t) b0 * k;
		const uint16_t *Yhb = idx != NULL || Yh == NULL ? Yh : Yh + (size_t) b0 * k;
		const int32_t *ib = idx != NULL ? idx + b0 : RecoKernelIota;
		int			t;

		if (prefetch && idx != NULL)
		{
			if (Yh != NULL)
				RecoPrefetchAhead(Yh, k * (int) sizeof(uint16_t), idx, n, b0);
			else
				RecoPrefetchAhead(Y, k * (int) sizeof(float), idx, n, b0);
		}
		if (copy != NULL && Yh != NULL)
			kern->gather_block_h(k, Yhb, ib, cnt, (uint16_t *) copy + (size_t) b0 * k);
		if (Yh != NULL)
			kern->dot_block_h(k, Yhb, ib, cnt, v, s);
		else
			kern->dot_block(k, Yb, ib, cnt, v, s);
		if (loss != NULL)
			RecoLossEntries(ctx, w + b0, s, cnt, loss);
		RecoPassCoefs(ctx, w + b0, s, cnt, mode, coef);
		if (Yh != NULL)
			kern->axpy_block_h(k, Yhb, ib, cnt, coef, out);
		else
			kern->axpy_block(k, Yb, ib, cnt, coef, out);
		for (t = 0; copy != NULL && Yh == NULL && t < cnt; t++)
			memcpy((float *) copy + (size_t) (b0 + t) * k, Yb + (size_t) ib[t] * k,
				   sizeof(float) * k);
		if (RecoBlockPoll(ctx, nblock, check_every))
			return RECO_STATUS_STOPPED;
	}
	return RECO_STATUS_OK;
}

/*
 * What a row of n entries adds to the diagonal of the shared G: 0 when ν is
 * 0 (G holds λ), else its λ_u = λ·(n + α0·N)^ν (G holds no ridge).
 */
static float
RecoRowRidge(const RecoRowCtx *ctx, int64_t n)
{
	if (ctx->reg_exponent == 0.0f)
		return 0.0f;
	return RecoAlsRowLambda(ctx->regularization, ctx->reg_exponent,
							ctx->unobserved_weight, ctx->n_fixed, n);
}

/* out += ridge · v (k values); nothing at all when ridge is 0. */
static void
RecoAddRidge(int k, float ridge, const float *v, float *out)
{
	int			j;

	if (ridge == 0.0f)
		return;
	for (j = 0; j < k; j++)
		out[j] += ridge * v[j];
}

/*
 * b += λ'·m for a row with a prior mean m (ctx->prior): λ' is the penalty
 * of the row's own system, λ_u = λ·(n + α0·N)^ν (λ when ν is 0), so the
 * row solves A x = b + λ'm, its ridge pulling x toward m instead of 0.
 */
static void
RecoAddPrior(const RecoRowCtx *ctx, int64_t n, float *b)
{
	if (ctx->prior != NULL)
		RecoAddRidge(ctx->k, RecoAlsRowLambda(ctx->regularization, ctx->reg_exponent,
											  ctx->unobserved_weight, ctx->n_fixed, n),
					 ctx->prior, b);
}

/* True if all k values are finite. */
static bool
RecoAllFinite(const float *x, int k)
{
	int			j;

	for (j = 0; j < k; j++)
		if (!isfinite(x[j]))
			return false;
	return true;
}

/*
 * One CG pass over a row whose first g item vectors the residual pass copies
 * to scratch (half when ctx->half) and the A·p passes then read from there;
 * every pass reads the other n − g from Yh when ctx->half (the same bits
 * as the copy), else from Y.  Only the first pass over a
 * row prefetches: later passes find its item vectors in L1, or read them
 * in order from the gather buffer.  The residual pass adds the row's
 * entries' loss terms to loss when it is not NULL.
 */
static RecoStatus
RecoCgPass(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
		   int64_t g, const float *v, float *out, RecoPassMode mode,
		   double *loss)
{
	bool		half = ctx->half;
	RecoStatus st;

	if (mode == RECO_PASS_RESIDUAL)
		st = RecoSparsePass(ctx, ctx->Y, ctx->Yh, idx, w, g, v, out, mode,
							half ? (void *) ctx->s->gather_h : (void *) ctx->s->gather,
							true, loss);
	else
		st = RecoSparsePass(ctx, half ? NULL : ctx->s->gather,
							half ? ctx->s->gather_h : NULL, NULL, w, g, v, out,
							mode, NULL, false, NULL);
	if (st != RECO_STATUS_OK)
		return st;
	return RecoSparsePass(ctx, ctx->Y, ctx->Yh, idx + g, w + g, n - g, v, out, mode,
						  NULL, mode == RECO_PASS_RESIDUAL,
						  mode == RECO_PASS_RESIDUAL ? loss : NULL);
}

/*
 * The shared part of a CG residual from r = G x: r = m' − (G + ridge·I) x
 * (m' = λ'm of the row's prior, or 0), before the pass adds Σ c⁺ y −
 * Σ (|c| − α0)(y·x) y.
 */
static void
RecoCgResidualStart(RecoRowCtx *ctx, int64_t n, float ridge, const float *x,
					float *r)
{
	int			k = ctx->k;
	int			j;

	RecoAddRidge(k, ridge, x, r);
	for (j = 0; j < k; j++)
		r[j] = -r[j];
	RecoAddPrior(ctx, n, r);
}

/* p = r and *rsold = r·r once the residual is complete; true if it is already small enough. */
static bool
RecoCgFirstDirection(int k, const float *r, float *p, float *rsold)
{
	memcpy(p, r, sizeof(float) * k);
	*rsold = RecoDot8(r, r, k);
	return (double) *rsold < RECO_CG_TOLERANCE;
}

/*
 * One CG update once A·p is complete: x += a p, r −= a A·p, then the next
 * direction p and *rsold; true if |r|² fell below the tolerance (CG stops).
 */
static bool
RecoCgUpdate(int k, float *x, float *r, float *p, const float *Ap,
			 float *rsold)
{
	float		a = *rsold / RecoDot8(p, Ap, k);
	float		rsnew;
	int			j;

	for (j = 0; j < k; j++)
	{
		x[j] += a * p[j];
		r[j] -= a * Ap[j];
	}
	rsnew = RecoDot8(r, r, k);
	if ((double) rsnew < RECO_CG_TOLERANCE)
		return true;
	a = rsnew / *rsold;
	for (j = 0; j < k; j++)
		p[j] = r[j] + a * p[j];
	*rsold = rsnew;
	return false;
}

/*
 * Conjugate-gradient update of one row, warm-started from x (implicit's
 * least_squares_cg); with loss (3 doubles), also the loss terms of the x it
 * starts from (RecoLossRow's bits).
 */
static RecoStatus
RecoCgRow(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
		  float *x, double *loss)
{
	int			k = ctx->k;
	float	   *r = ctx->s->r;
	float	   *p = ctx->s->p;
	float	   *Ap = ctx->s->Ap;
	float		ridge;
	float		rsold;
	int64_t		g = 0;
	RecoStatus st;
	int			it;

	/* r = b − A x = Σ c⁺ y − (G + ridge·I) x − Σ (|c| − α0)(y·x) y, from G x (the loss's too) */
	ctx->kern->symv(k, ctx->G, x, r);
	if (loss != NULL)
		RecoLossRowStart(ctx, x, r, n, loss);
	if (n == 0)
	{
		memset(x, 0, sizeof(float) * k);
		return RECO_STATUS_OK;
	}
	if ((double) n * k * sizeof(float) > RECO_GATHER_MIN_BYTES)
		g = n < ctx->s->gather_cap ? n : ctx->s->gather_cap;
	ridge = RecoRowRidge(ctx, n);
	RecoCgResidualStart(ctx, n, ridge, x, r);
	st = RecoCgPass(ctx, idx, w, n, g, x, r, RECO_PASS_RESIDUAL, loss);
	if (st != RECO_STATUS_OK)
		return st;
	if (RecoCgFirstDirection(k, r, p, &rsold))
		return RecoAllFinite(x, k) ? RECO_STATUS_OK : RECO_STATUS_NOT_FINITE;

	for (it = 0; it < ctx->cg_steps; it++)
	{
		/* Ap = (G + ridge·I) p + Σ (|c| − α0)(y·p) y, never forming A */
		ctx->kern->symv(k, ctx->G, p, Ap);
		RecoAddRidge(k, ridge, p, Ap);
		st = RecoCgPass(ctx, idx, w, n, g, p, Ap, RECO_PASS_AP, NULL);
		if (st != RECO_STATUS_OK)
			return st;
		if (RecoCgUpdate(k, x, r, p, Ap, &rsold))
			break;
	}
	return RecoAllFinite(x, k) ? RECO_STATUS_OK : RECO_STATUS_NOT_FINITE;
}

/* How far a lockstep group's residual pass has prefetched: entry q of row rows[b], issued entries so far. */
typedef struct RecoGroupPrefetch
{
	int			b;
	int64_t		q;
	int64_t		issued;
} RecoGroupPrefetch;

/*
 * Prefetches into L2 the vectors (vbytes each, of Y) of the rows' entries
 * after the cursor pf until it has issued `until` entries of the rows
 * rows[0 .. nb − 1] in order.
 */
static void
RecoGroupPrefetchTo(const RecoSparse *sp, const int32_t *rows, int nb,
					const void *Y, int vbytes, RecoGroupPrefetch *pf, int64_t until)
{
	while (pf->b < nb && pf->issued < until)
	{
		int64_t		end = sp->indptr[rows[pf->b] + 1],
					take = end - pf->q;

		if (take > until - pf->issued)
			take = until - pf->issued;
		RecoPrefetchVectors(Y, vbytes, sp->indices + pf->q, (int) take, true);
		pf->q += take;
		pf->issued += take;
		if (pf->q == end && ++pf->b < nb)
			pf->q = sp->indptr[rows[pf->b]];
	}
}

/*
 * The A·p pass of m <= 2 rows of a lockstep group on the half path: row r
 * reads its n[r] entries' half vectors contiguously at h[r] (the group's
 * copy), weights w[r], direction v[r], into out[r].  Each block takes
 * RecoSparsePass's steps for each row, but the blocks' common entries go
 * through axpy_pair_h, so one row's FMA chain hides the other's latency;
 * each row's sums are formed in the same order, so its bits are the same.
 * Returns RECO_STATUS_STOPPED if the job was told to stop.
 */
static RecoStatus
RecoPairApPass(RecoRowCtx *ctx, int m, const uint16_t *const *h,
			   const float *const *w, const int64_t *n, const float *const *v,
			   float *const *out)
{
	const RecoKernels *kern = ctx->kern;
	int			k = ctx->k;
	float		s[2][RECO_KERNEL_BLOCK];
	float		coef[2][RECO_KERNEL_BLOCK];
	int64_t		most = m == 2 && n[1] > n[0] ? n[1] : n[0];
	int64_t		check_every = (int64_t) (RECO_STOP_CHECK_WORK /
										 ((double) RECO_KERNEL_BLOCK * 2.0 * k)) + 1;
	int64_t		b0,
				nblock = 0;

	for (b0 = 0; b0 < most; b0 += RECO_KERNEL_BLOCK, nblock++)
	{
		int			c[2] = {0, 0},
					both,
					r;

		for (r = 0; r < m; r++)
		{
			if (n[r] <= b0)
				continue;
			c[r] = (int) (n[r] - b0 < RECO_KERNEL_BLOCK ? n[r] - b0 : RECO_KERNEL_BLOCK);
			kern->dot_block_h(k, h[r] + (size_t) b0 * k, RecoKernelIota, c[r], v[r], s[r]);
			RecoPassCoefs(ctx, w[r] + b0, s[r], c[r], RECO_PASS_AP, coef[r]);
		}
		both = c[0] < c[1] ? c[0] : c[1];
		if (both > 0)
			kern->axpy_pair_h(k, h[0] + (size_t) b0 * k, h[1] + (size_t) b0 * k,
							  RecoKernelIota, both, coef[0], coef[1], out[0], out[1]);
		for (r = 0; r < m; r++)
			if (c[r] > both)
				kern->axpy_block_h(k, h[r] + (size_t) (b0 + both) * k, RecoKernelIota,
								   c[r] - both, coef[r] + both, out[r]);
		if (RecoBlockPoll(ctx, nblock, check_every))
			return RECO_STATUS_STOPPED;
	}
	return RECO_STATUS_OK;
}

/*
 * The A·p pass of a lockstep group on the half path (RecoWindowPass with
 * one window, the group's half copy at gather_h): its rows not done, two
 * at a time (RecoPairApPass), the last one alone if they are odd.  Adds
 * the multiply-adds done to *work.
 */
static RecoStatus
RecoGroupApPass(RecoRowCtx *ctx, const RecoSparse *sp, const int32_t *rows,
				int nb, const bool *done, const float *vs, float *outs,
				double *work)
{
	size_t		kp = RecoPad(ctx->k);
	const uint16_t *h[2];
	const float *w[2],
			   *v[2];
	int64_t		n[2],
				hoff = 0;
	float	   *out[2];
	int			m = 0,
				b;

	for (b = 0; b < nb; b++)
	{
		int64_t		start = sp->indptr[rows[b]],
					len = sp->indptr[rows[b] + 1] - start;

		if (!done[b] && len > 0)
		{
			h[m] = ctx->s->gather_h + (size_t) hoff * ctx->k;
			w[m] = sp->weights + start;
			n[m] = len;
			v[m] = vs + b * kp;
			out[m] = outs + b * kp;
			m++;
			*work += (double) len * 2.0 * ctx->k;
		}
		hoff += len;
		if (m == 2 || (m == 1 && b == nb - 1))
		{
			RecoStatus	st = RecoPairApPass(ctx, m, h, w, n, v, out);

			if (st != RECO_STATUS_OK)
				return st;
			m = 0;
		}
	}
	return RECO_STATUS_OK;
}

/*
 * One pass of a block's rows (rows[b] for b < nb whose done[b] is false)
 * over the fixed side a window of wn rows at a time: each row runs its
 * entries of the window, so a window's item vectors are read from memory
 * once and then found in L2 by every other row of the block.  A row still
 * takes its entries in order (ascending indices), so each sum is formed
 * exactly as RecoCgRow forms it (the residual pass's loss terms too, into
 * ctx->loss_rows).  Polls the stop flag about every RECO_STOP_CHECK_WORK
 * multiply-adds.
 */
static RecoStatus
RecoWindowPass(RecoRowCtx *ctx, const RecoSparse *sp, const int32_t *rows,
			   int nb, const bool *done, float *vs, float *outs, int64_t wn,
			   RecoPassMode mode)
{
	size_t		kp = RecoPad(ctx->k);
	int64_t    *pos = ctx->s->wpos;
	double		work = 0.0;
	int64_t		polls = 0,
				u0,
				left = 0;
	bool		whole = wn >= sp->n_cols;
	int64_t		total = 0,
				hoff = 0;
	bool		grouped,
				paired;
	RecoGroupPrefetch pf = {0, nb > 0 ? sp->indptr[rows[0]] : 0, 0};
	bool		pf_half = ctx->Yh != NULL;	/* what the residual pass reads */
	int64_t		reached = 0;
	int			b;

	for (b = 0; b < nb; b++)
	{
		pos[b] = sp->indptr[rows[b]];
		total += sp->indptr[rows[b] + 1] - pos[b];
		if (!done[b])
			left++;
	}
	/* a lockstep group on the half path: the residual pass writes its half copy, the A·p passes read it */
	grouped = whole && ctx->half && total <= ctx->s->gather_cap;
	/* its A·p passes two rows at a time (one window: the loop runs once) */
	paired = grouped && mode == RECO_PASS_AP && ctx->kern->axpy_pair_h != NULL;
	for (u0 = 0; left > 0 && u0 < sp->n_cols; u0 += wn)
	{
		if (paired)
		{
			RecoStatus	st = RecoGroupApPass(ctx, sp, rows, nb, done, vs, outs, &work);

			if (st != RECO_STATUS_OK)
				return st;
			left = 0;
		}
		for (b = 0; !paired && b < nb; b++)
		{
			int64_t		end = sp->indptr[rows[b] + 1],
						q = pos[b];
			/* the row's place in a grouped copy (formed only then: past the buffer otherwise) */
			uint16_t   *hcopy = grouped ? ctx->s->gather_h + (size_t) hoff * ctx->k : NULL;
			RecoStatus	st;

			hoff += end - q;	/* whole rows only (grouped): every row's place, done or not */
			if (done[b] || q == end)
				continue;
			while (!whole && q < end && sp->indices[q] < u0 + wn)
				q++;
			if (whole)
				q = end;
			/*
			 * whole rows (one window) prefetch in their first pass only: a long row its
			 * own blocks ahead (RecoSparsePass), the group RECO_GROUP_PREFETCH_AHEAD
			 * entries past this row's end, at most twice that many at a time
			 */
			if (whole && mode == RECO_PASS_RESIDUAL)
			{
				int64_t		len = end - pos[b],
							until = reached + len + RECO_GROUP_PREFETCH_AHEAD;

				if (pf.issued < reached)
				{
					pf.b = b;
					pf.q = pos[b];
					pf.issued = reached;
				}
				RecoGroupPrefetchTo(sp, rows, nb,
									pf_half ? (const void *) ctx->Yh : (const void *) ctx->Y,
									ctx->k * (int) (pf_half ? sizeof(uint16_t) : sizeof(float)),
									&pf, until < pf.issued + 2 * RECO_GROUP_PREFETCH_AHEAD ?
									until : pf.issued + 2 * RECO_GROUP_PREFETCH_AHEAD);
				reached += len;
			}
			if (grouped && mode == RECO_PASS_AP)
				st = RecoSparsePass(ctx, NULL, hcopy, NULL, sp->weights + pos[b],
									q - pos[b], vs + b * kp, outs + b * kp, mode,
									NULL, false, NULL);
			else
				st = RecoSparsePass(ctx, ctx->Y, ctx->Yh, sp->indices + pos[b],
									sp->weights + pos[b], q - pos[b],
									vs + b * kp, outs + b * kp, mode,
									hcopy,
									!whole || mode == RECO_PASS_RESIDUAL,
									mode == RECO_PASS_RESIDUAL && ctx->loss_rows != NULL ?
									ctx->loss_rows + 3 * (size_t) rows[b] : NULL);
			if (st != RECO_STATUS_OK)
				return st;
			work += (double) (q - pos[b]) * 2.0 * ctx->k;
			pos[b] = q;
			if (q == end)
				left--;
		}
		if (work >= RECO_STOP_CHECK_WORK)
		{
			work = 0.0;
			if (RecoParallelPoll(ctx->worker, ++polls % RECO_HOOK_CHECK_EVERY == 0))
				return RECO_STATUS_STOPPED;
		}
	}
	return RECO_STATUS_OK;
}

/*
 * CG on a block of nb long rows (rows[b], x of row u at solve + u·k) in
 * lockstep: every step's A·p passes (RecoWindowPass) share the fixed
 * side's windows.  Each row takes exactly RecoCgRow's steps, so its result
 * is RecoCgRow's bit for bit (and so are its loss terms, when
 * ctx->loss_rows is set); a row whose indices are not ascending runs
 * RecoCgRow itself.
 */
static RecoStatus
RecoCgBlock(RecoRowCtx *ctx, const RecoSparse *sp, const int32_t *rows,
			int nb, float *solve, const float *prior, int64_t wn)
{
	int			k = ctx->k;
	size_t		kp = RecoPad(k);
	int32_t    *brows = ctx->s->wrow;
	float	   *ridge = ctx->s->wridge,
			   *rsold = ctx->s->wrs;
	bool	   *done = ctx->s->wdone;
	float	   *r = ctx->s->wr,
			   *p = ctx->s->wp,
			   *Ap = ctx->s->wap;
	RecoStatus	st;
	int			b,
				n = 0,
				it;

	for (b = 0; b < nb; b++)
	{
		int64_t		u = rows[b],
					start = sp->indptr[u],
					len = sp->indptr[u + 1] - start,
					t;

		ctx->prior = prior != NULL ? prior + (size_t) u * k : NULL;
		for (t = 1; t < len && sp->indices[start + t] > sp->indices[start + t - 1]; t++)
			;
		if (t < len)
		{
			st = RecoCgRow(ctx, sp->indices + start, sp->weights + start, len,
						   solve + (size_t) u * k,
						   ctx->loss_rows != NULL ? ctx->loss_rows + 3 * (size_t) u : NULL);
			if (st != RECO_STATUS_OK)
				return st;
			continue;
		}
		brows[n] = (int32_t) u;
		done[n] = false;
		memcpy(p + n * kp, solve + (size_t) u * k, sizeof(float) * k);
		n++;
	}
	ctx->kern->symv_rows(k, n, ctx->G, p, kp, r);
	/* the loss terms of the x the rows start from, from the residual's G x */
	for (b = 0; ctx->loss_rows != NULL && b < n; b++)
		RecoLossRowStart(ctx, p + b * kp, r + b * kp,
						 sp->indptr[brows[b] + 1] - sp->indptr[brows[b]],
						 ctx->loss_rows + 3 * (size_t) brows[b]);
	for (b = 0; b < n; b++)
	{
		int64_t		len = sp->indptr[brows[b] + 1] - sp->indptr[brows[b]];

		ctx->prior = prior != NULL ? prior + (size_t) brows[b] * k : NULL;
		ridge[b] = RecoRowRidge(ctx, len);
		RecoCgResidualStart(ctx, len, ridge[b], p + b * kp, r + b * kp);
	}
	/* the residual pass reads x, copied to p (p is set from r only after it) */
	st = RecoWindowPass(ctx, sp, brows, n, done, p, r, wn, RECO_PASS_RESIDUAL);
	if (st != RECO_STATUS_OK)
		return st;
	for (b = 0; b < n; b++)
		done[b] = RecoCgFirstDirection(k, r + b * kp, p + b * kp, &rsold[b]);
	for (it = 0; it < ctx->cg_steps; it++)
	{
		ctx->kern->symv_rows(k, n, ctx->G, p, kp, Ap);
		for (b = 0; b < n; b++)
			RecoAddRidge(k, ridge[b], p + b * kp, Ap + b * kp);
		st = RecoWindowPass(ctx, sp, brows, n, done, p, Ap, wn, RECO_PASS_AP);
		if (st != RECO_STATUS_OK)
			return st;
		for (b = 0; b < n; b++)
			if (!done[b])
				done[b] = RecoCgUpdate(k, solve + (size_t) brows[b] * k,
									   r + b * kp, p + b * kp, Ap + b * kp,
									   &rsold[b]);
	}
	for (b = 0; b < n; b++)
		if (!RecoAllFinite(solve + (size_t) brows[b] * k, k))
			return RECO_STATUS_NOT_FINITE;
	return RECO_STATUS_OK;
}

/*
 * z = U⁻ᵀ y (UᵀU = G) for one item vector, in double in t (k), rounded to
 * float: the one routine behind every row of Z, batch or single row.
 */
static void
RecoZRow(const RecoKernels *kern, const double *U, int k, const float *y,
		 double *t, float *z)
{
	int			j;

	for (j = 0; j < k; j++)
		t[j] = y[j];
	kern->forward(k, U, t);
	for (j = 0; j < k; j++)
		z[j] = (float) t[j];
}

/*
 * Rows shorter than this take the short-row exact path (when it applies):
 * k, where the two paths' multiply-adds meet (of 0.5k, k, 1.5k and 2k it
 * measured fastest at k 64 and 128).
 */
static int
RecoShortRowMax(int k)
{
	return k;
}

/*
 * Rows of a short row's z-row buffers: RecoShortRowMax rounded up to a
 * multiple of 4 (the right-hand side is summed over the row's entries in
 * chunks of this many, which keeps axpy_rows' groups of four).
 */
static int
RecoShortRowChunk(int k)
{
	return (RecoShortRowMax(k) + 3) / 4 * 4;
}

/*
 * Rows with fewer Woodbury terms than this are solved by short_lanes (in a
 * group, or alone in lane 0), the others by the one-row kernels: the same
 * bits either way (short_lanes' contract); the cap bounds its work area.
 */
static int
RecoShortLaneCap(int k)
{
	return RecoShortRowMax(k) < RECO_SHORT_LANE_MAX ? RecoShortRowMax(k) : RECO_SHORT_LANE_MAX;
}

/*
 * The number of Woodbury terms of a row that takes the short-row exact
 * path, or −1: ν = 0 (every row's A is G plus its entries), G factored,
 * every |c| − α0 >= 0 (then A − G is positive semidefinite) and fewer than
 * RecoShortRowMax entries with |c| − α0 > 0 (an entry of confidence
 * exactly α0 adds nothing to A, only to b: with alpha = α0 = 1 every
 * weight-1 entry, all of them on binary data).  Depends only on the row, k
 * and the model, so a batch and a single row agree.
 */
static int
RecoShortRowTerms(const RecoRowCtx *ctx, const float *w, int64_t n)
{
	int64_t		i;
	int			terms = 0;

	if (ctx->U == NULL || ctx->reg_exponent != 0.0f || n < 1)
		return -1;
	for (i = 0; i < n; i++)
	{
		float		pref;
		float		d = RecoConfidence(ctx->alpha, w[i], &pref) - ctx->unobserved_weight;

		if (!(d >= 0.0f))
			return -1;
		if (d > 0.0f && ++terms >= RecoShortRowMax(ctx->k))
			return -1;
	}
	return terms;
}

/* True if the row takes the short-row exact path (RecoShortRowTerms). */
static bool
RecoShortRowEligible(const RecoRowCtx *ctx, const float *w, int64_t n)
{
	return RecoShortRowTerms(ctx, w, n) >= 0;
}

/*
 * First half of a short-row exact solve.  With G = UᵀU and z_i = U⁻ᵀ y_i,
 * A = Uᵀ (I + Z_wᵀ D Z_w) U, Z_w the z rows of the row's terms with
 * d_i = |c_i| − α0 > 0 (the others add nothing to A) and D = diag(d_i); by
 * Woodbury the middle factor's inverse is I − Z_wᵀ S N⁻¹ S Z_w with S = D^½
 * and the nw x nw N = I + S Z_w Z_wᵀ S (eigenvalues >= 1).  Sets the lane's
 * nw and points its zb/zi at those z rows (Z and its cidx in a batch; for
 * a single row they are computed into s->zu), sets S (sv) and Z_w Z_wᵀ in
 * float (M, lower, stride nw: the rows_gram kernel).  Polls once after the
 * Gram when it was long work.
 */
static RecoStatus
RecoShortRowGram(RecoRowCtx *ctx, RecoShortLane *lane, const int32_t *idx,
				 const float *w, int64_t n)
{
	int			k = ctx->k;
	RecoScratch *s = ctx->s;
	int64_t		t;
	int			m = 0;

	lane->zb = ctx->Z;
	lane->zi = lane->cidx;
	for (t = 0; t < n; t++)
	{
		float		pref;
		float		d = RecoConfidence(ctx->alpha, w[t], &pref) - ctx->unobserved_weight;

		if (!(d > 0.0f))
			continue;
		lane->sv[m] = sqrt((double) d);
		lane->cidx[m] = idx[t];
		if (ctx->Z == NULL)
		{
			RecoZRow(ctx->kern, ctx->U, k, ctx->Y + (size_t) idx[t] * k, s->dv,
					 s->zu + (size_t) m * k);
			s->seq[m] = m;
			lane->zb = s->zu;
			lane->zi = s->seq;
		}
		m++;
	}
	lane->nw = m;
	/* Z_w Z_wᵀ (at most k³/2 multiply-adds), then one poll for it */
	ctx->kern->rows_gram(k, m, lane->zb, lane->zi, lane->M);
	if (ctx->worker != NULL && (double) m * m * k * 0.5 >= RECO_STOP_CHECK_WORK &&
		RecoParallelPoll(ctx->worker, true))
		return RECO_STATUS_STOPPED;
	return RECO_STATUS_OK;
}

/* q = S Z_w v of a short row (its lane after RecoShortRowGram, v set). */
static void
RecoShortRowProject(const RecoRowCtx *ctx, RecoShortLane *lane)
{
	int			i;

	ctx->kern->dot_rows(ctx->k, lane->nw, lane->zb, lane->zi, lane->v, lane->q);
	for (i = 0; i < lane->nw; i++)
		lane->q[i] *= lane->sv[i];
}

/*
 * q ← N⁻¹ q for the short rows of lanes 0 .. cnt − 1: a group of two or
 * more (fewer than RecoShortLaneCap terms each) by short_lanes, a single
 * row by the one-row kernels in s->L: the same bits (short_lanes'
 * contract).  Returns the mask of rows whose N does not factor.
 */
static unsigned
RecoShortRowSolve(const RecoRowCtx *ctx, int cnt)
{
	RecoScratch *s = ctx->s;
	int			n[RECO_SHORT_LANES] = {0};
	const float *M[RECO_SHORT_LANES] = {NULL};
	const double *sv[RECO_SHORT_LANES] = {NULL};
	double	   *q[RECO_SHORT_LANES] = {NULL};
	RecoShortLane *lane = &s->lane[0];
	int			b;

	if (cnt == 1)
	{
		if (!ctx->kern->short_factor(lane->nw, lane->M, lane->sv, s->L))
			return 1;
		ctx->kern->forward(lane->nw, s->L, lane->q);
		ctx->kern->back(lane->nw, s->L, lane->q);
		return 0;
	}
	for (b = 0; b < cnt; b++)
	{
		n[b] = s->lane[b].nw;
		M[b] = s->lane[b].M;
		sv[b] = s->lane[b].sv;
		q[b] = s->lane[b].q;
	}
	return ctx->kern->short_lanes(cnt, n, M, sv, q, s->lanew);
}

/* Why a short row's N did not factor: a non-finite z row, or not positive definite. */
static RecoStatus
RecoShortRowFailure(const RecoRowCtx *ctx, const RecoShortLane *lane)
{
	int			i;

	for (i = 0; i < lane->nw; i++)
		if (!RecoAllFinite(lane->zb + (size_t) lane->zi[i] * ctx->k, ctx->k))
			return RECO_STATUS_NOT_FINITE;
	return RECO_STATUS_NOT_POSITIVE_DEFINITE;
}

/*
 * v ← v − Z_wᵀ S q with q = N⁻¹ S Z_w v (RecoShortRowSolve): (I + Z_wᵀ D
 * Z_w)⁻¹ v, a short row's solve before U⁻¹.
 */
static void
RecoShortRowCorrect(const RecoRowCtx *ctx, RecoShortLane *lane)
{
	int			i;

	for (i = 0; i < lane->nw; i++)
		lane->q[i] *= -lane->sv[i];
	ctx->kern->axpy_rows(ctx->k, lane->nw, lane->zb, lane->zi, lane->q, lane->v);
}

/* v ← U⁻¹ (v − Z_wᵀ S q): the end of a short row's solve (RecoShortRowCorrect, then U⁻¹). */
static void
RecoShortRowUnproject(const RecoRowCtx *ctx, RecoShortLane *lane)
{
	RecoShortRowCorrect(ctx, lane);
	ctx->kern->back_t(ctx->k, ctx->U + (size_t) ctx->k * ctx->k, lane->v);
}

/* v ← U⁻¹ (I + Z_wᵀ D Z_w)⁻¹ v for the single short row of lane 0 (after RecoShortRowGram). */
static RecoStatus
RecoShortRowApply(const RecoRowCtx *ctx)
{
	RecoShortLane *lane = &ctx->s->lane[0];

	RecoShortRowProject(ctx, lane);
	if (RecoShortRowSolve(ctx, 1) != 0)
		return RecoShortRowFailure(ctx, lane);
	RecoShortRowUnproject(ctx, lane);
	return RECO_STATUS_OK;
}

/* x = v rounded to float; not finite is an error. */
static RecoStatus
RecoShortRowStore(int k, const double *v, float *x)
{
	int			j;

	for (j = 0; j < k; j++)
	{
		x[j] = (float) v[j];
		if (!isfinite(x[j]))
			return RECO_STATUS_NOT_FINITE;
	}
	return RECO_STATUS_OK;
}

/*
 * v = Σ c⁺ z_i over every entry of a short row (k doubles), in chunks of
 * RecoShortRowChunk entries (groups of four as one call would make them):
 * from Z in a batch, from z rows computed into s->zu for a single row, the
 * same values either way.  Uses s->dv + 2k as work; s->zu is overwritten.
 * Polls like a long row (a row may be long: only its Woodbury terms are few).
 */
static RecoStatus
RecoShortRowRhs(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
				double *v)
{
	int			k = ctx->k;
	RecoScratch *s = ctx->s;
	int			chunk = RecoShortRowChunk(k);
	double	   *pref = s->dv + 2 * k;
	double		work = 0.0;
	int64_t		t0,
				polls = 0;
	int			i,
				j;

	for (j = 0; j < k; j++)
		v[j] = 0.0;
	if (ctx->prior != NULL)
	{
		/* U⁻ᵀ(λm) (ν is 0 on this path: the row's penalty is λ) */
		for (j = 0; j < k; j++)
			v[j] = (double) (ctx->regularization * ctx->prior[j]);
		ctx->kern->forward(k, ctx->U, v);
	}
	for (t0 = 0; t0 < n; t0 += chunk)
	{
		int			cnt = (int) (n - t0 < chunk ? n - t0 : chunk);

		for (i = 0; i < cnt; i++)
		{
			float		p;

			(void) RecoConfidence(ctx->alpha, w[t0 + i], &p);
			pref[i] = p;
			if (ctx->Z == NULL)
			{
				RecoZRow(ctx->kern, ctx->U, k, ctx->Y + (size_t) idx[t0 + i] * k,
						 s->dv, s->zu + (size_t) i * k);
				s->seq[i] = i;
			}
		}
		if (ctx->Z == NULL)
			ctx->kern->axpy_rows(k, cnt, s->zu, s->seq, pref, v);
		else
		{
			/*
			 * Z rows are read at random: fetch RECO_RHS_AHEAD entries ahead
			 * (the row's first ones were fetched with the row before).  The
			 * sum runs entry by entry in order, so the split into calls
			 * changes no bit.
			 */
			for (i = 0; i < cnt; i += RECO_RHS_STEP)
			{
				int64_t		ahead = t0 + i + RECO_RHS_AHEAD;
				int			c = cnt - i < RECO_RHS_STEP ? cnt - i : RECO_RHS_STEP;

				if (ahead < n)
					RecoPrefetchBlock(ctx->Z, k, idx + ahead,
									  (int) (n - ahead < RECO_RHS_STEP ? n - ahead : RECO_RHS_STEP));
				ctx->kern->axpy_rows(k, c, ctx->Z, idx + t0 + i, pref + i, v);
			}
		}
		work += (double) cnt * k;
		if (ctx->worker != NULL && work >= RECO_STOP_CHECK_WORK)
		{
			work = 0.0;
			polls++;
			if (RecoParallelPoll(ctx->worker, polls % RECO_HOOK_CHECK_EVERY == 0))
				return RECO_STATUS_STOPPED;
		}
	}
	return RECO_STATUS_OK;
}

/*
 * Exact solve of a short row (RecoShortRowEligible): x = U⁻¹ (I + Z_wᵀ D
 * Z_w)⁻¹ Σ c⁺ z_i, about nw²k/2 + nw³/6 + nk multiply-adds instead of the
 * explicit system's nw·k²/2 + k³/6.
 */
static RecoStatus
RecoShortRow(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
			 float *x)
{
	RecoShortLane *lane = &ctx->s->lane[0];
	RecoStatus st;

	st = RecoShortRowRhs(ctx, idx, w, n, lane->v);
	if (st == RECO_STATUS_OK)
		st = RecoShortRowGram(ctx, lane, idx, w, n);
	if (st == RECO_STATUS_OK)
		st = RecoShortRowApply(ctx);
	if (st != RECO_STATUS_OK)
		return st;
	return RecoShortRowStore(ctx->k, lane->v, x);
}

/*
 * The explicit system of a row, A = G + ridge·I + Σ (|c| − α0) y yᵀ (lower
 * triangle, s->A; RecoRowRidge) and b = Σ c⁺ y (s->b), in blocks of
 * RECO_SYSTEM_BLOCK entries: the entries with |c| ≠ α0 are gathered (y to
 * s->gy, (|c| − α0) y to s->gp) and added by the rank-K kernel; b takes
 * every entry from Y's rows themselves (just fetched, so in cache).  Polls
 * the stop flag like a long CG row.
 */
static RecoStatus
RecoExplicitSystem(RecoRowCtx *ctx, const int32_t *idx, const float *w,
				   int64_t n)
{
	int			k = ctx->k;
	RecoScratch *s = ctx->s;
	float		coef[RECO_KERNEL_BLOCK];
	double		block_work = (double) RECO_SYSTEM_BLOCK * (0.5 * k * k + 2.0 * k);
	int64_t		check_every = (int64_t) (RECO_STOP_CHECK_WORK / block_work) + 1;
	int64_t		b0,
				nblock = 0;
	float		ridge = RecoRowRidge(ctx, n);
	int			i;

	memcpy(s->A, ctx->G, sizeof(float) * k * k);
	for (i = 0; ridge != 0.0f && i < k; i++)
		s->A[(size_t) i * k + i] += ridge;
	memset(s->b, 0, sizeof(float) * k);
	RecoAddPrior(ctx, n, s->b);
	for (b0 = 0; b0 < n; b0 += RECO_SYSTEM_BLOCK, nblock++)
	{
		int			cnt = (int) (n - b0 < RECO_SYSTEM_BLOCK ? n - b0 : RECO_SYSTEM_BLOCK);
		int			t,
					t0,
					j,
					terms = 0;

		/*
		 * Only entries with |c| ≠ α0 go to the rank-K update: the others
		 * would add exact zeros to each sum (the kernel sums every entry in
		 * t order from its old value), so leaving them out changes no bit.
		 */
		for (t = 0; t < cnt; t++)
		{
			const float *y = ctx->Y + (size_t) idx[b0 + t] * k;
			float	   *gy = s->gy + (size_t) terms * k;
			float	   *gp = s->gp + (size_t) terms * k;
			float		pref;
			float		conf = RecoConfidence(ctx->alpha, w[b0 + t], &pref),
						d = conf - ctx->unobserved_weight;

			/* rows are read at random: fetch the one RECO_RHS_AHEAD entries on */
			if (b0 + t + RECO_RHS_AHEAD < n)
				RecoPrefetchBlock(ctx->Y, k, idx + b0 + t + RECO_RHS_AHEAD, 1);
			if (conf == ctx->unobserved_weight)
				continue;
			memcpy(gy, y, sizeof(float) * k);
			for (j = 0; j < k; j++)
				gp[j] = d * y[j];
			terms++;
		}
		/* b from the rows themselves: the kernel reads the values a copy would hold */
		for (t0 = 0; t0 < cnt; t0 += RECO_KERNEL_BLOCK)
		{
			int			c = cnt - t0 < RECO_KERNEL_BLOCK ? cnt - t0 : RECO_KERNEL_BLOCK;

			for (t = 0; t < c; t++)
				(void) RecoConfidence(ctx->alpha, w[b0 + t0 + t], &coef[t]);
			ctx->kern->axpy_block(k, ctx->Y, idx + b0 + t0, c, coef, s->b);
		}
		ctx->kern->syrk(k, terms, s->gp, s->gy, k, s->A, k);
		if (RecoBlockPoll(ctx, nblock, check_every))
			return RECO_STATUS_STOPPED;
	}
	return RECO_STATUS_OK;
}

/*
 * Exact solve of one row: a short row by RecoShortRow, any other by the
 * explicit system and a Cholesky solve in double.
 */
static RecoStatus
RecoCholeskyRow(RecoRowCtx *ctx, const int32_t *idx, const float *w,
				int64_t n, float *x)
{
	int			k = ctx->k;
	RecoScratch *s = ctx->s;
	RecoStatus st;

	if (n == 0)
	{
		memset(x, 0, sizeof(float) * k);
		return RECO_STATUS_OK;
	}
	if (RecoShortRowEligible(ctx, w, n))
		return RecoShortRow(ctx, idx, w, n, x);
	st = RecoExplicitSystem(ctx, idx, w, n);
	if (st != RECO_STATUS_OK)
		return st;
	if (!ctx->kern->chol_solve(k, s->A, s->b, s->L, s->z, x))
	{
		/* tell a NaN input apart from a genuinely indefinite system */
		if (!RecoAllFinite(s->A, k * k) || !RecoAllFinite(s->b, k))
			return RECO_STATUS_NOT_FINITE;
		return RECO_STATUS_NOT_POSITIVE_DEFINITE;
	}
	return RECO_STATUS_OK;
}

/*
 * A group of cnt <= RECO_SHORT_LANES short rows of a batch (fewer than
 * RecoShortLaneCap terms each), row u = rows[b] in lane b: each row's
 * right-hand side, Gram and projection, one short_lanes call for all, each
 * row's correction, one back_t_rows call for all: every step the single
 * row's (RecoShortRow) or, by the kernels' contracts, its bits, so each row
 * gets the bits it gets alone.
 */
static RecoStatus
RecoShortRowGroup(const RecoJob *job, RecoRowCtx *ctx, const int64_t *rows, int cnt)
{
	const RecoSparse *sp = job->rows;
	int			k = job->k;
	double	   *v[RECO_SHORT_LANES];
	unsigned	failed;
	RecoStatus	st;
	int			b;

	for (b = 0; b < cnt; b++)
	{
		int64_t		start = sp->indptr[rows[b]],
					n = sp->indptr[rows[b] + 1] - start;
		RecoShortLane *lane = &ctx->s->lane[b];

		/* fetch the next row's first z rows while this one computes */
		if (b + 1 < cnt)
		{
			int64_t		nn = sp->indptr[rows[b + 1] + 1] - sp->indptr[rows[b + 1]];

			RecoPrefetchBlock(ctx->Z, k, sp->indices + sp->indptr[rows[b + 1]],
							  (int) (nn < RECO_KERNEL_BLOCK ? nn : RECO_KERNEL_BLOCK));
		}
		ctx->prior = job->prior != NULL ? job->prior + (size_t) rows[b] * k : NULL;
		st = RecoShortRowRhs(ctx, sp->indices + start, sp->weights + start, n, lane->v);
		if (st == RECO_STATUS_OK)
			st = RecoShortRowGram(ctx, lane, sp->indices + start, sp->weights + start, n);
		if (st != RECO_STATUS_OK)
			return st;
		RecoShortRowProject(ctx, lane);
	}
	failed = RecoShortRowSolve(ctx, cnt);
	for (b = 0; b < cnt; b++)
	{
		if (failed & (1u << b))
			return RecoShortRowFailure(ctx, &ctx->s->lane[b]);
		RecoShortRowCorrect(ctx, &ctx->s->lane[b]);
		v[b] = ctx->s->lane[b].v;
	}
	/* U⁻¹ of the group's rows at once: each row's back_t bits (back_t_rows' contract) */
	ctx->kern->back_t_rows(k, ctx->U + (size_t) k * k, v, cnt);
	for (b = 0; b < cnt; b++)
	{
		st = RecoShortRowStore(k, v[b], job->solve + (size_t) rows[b] * k);
		if (st != RECO_STATUS_OK)
			return st;
	}
	return RECO_STATUS_OK;
}

/* Bits of a window key (RecoRunExactChunk) below its term count: the row's offset in the chunk. */
#define RECO_SHORT_KEY_BITS 40

/*
 * The same with eight-lane short_lanes (AVX-512F): a call on rows of at
 * most n terms costs n·(c0·n² + c1·n + c2), c the row of one row alone (the one-row
 * kernels, zmm tiles), of 2 to 4 rows (four-lane ymm kernel) and of 5 to 8
 * (eight-lane zmm kernel); picoseconds, fitted at n 4 to 127 with hot
 * caches on Zen 5 (test/bench/results/h-lanes8-2026-12-02.md).
 */
static const double RecoShortCostWide[3][3] = {
	{3.35, 653.0, 28760.0},
	{43.9, 1467.0, 39100.0},
	{57.1, 846.0, 47340.0}
};

/*
 * Relative cost of solving N for cnt rows of at most n terms in one go: a
 * single row by the one-row kernels, a group by short_lanes of the given
 * width (rows per sweep of its vectors).  With width 4, in units of n³/6
 * multiply-adds, measured per call with hot caches at n 4 to 120
 * (test/bench/results/final-pass-4-2026-12-02.md): one row n³ + 270 n², a
 * group 6.66 n³ + 313 n²; with width 8, RecoShortCostWide.
 */
static double
RecoShortCost(int width, int cnt, int n)
{
	const double *c;

	if (width < RECO_SHORT_LANES)
		return cnt == 1 ? (double) n * n * (n + RECO_SHORT_COST_ONE_SQ) :
			(double) n * n * (RECO_SHORT_COST_LANES_CUBE * n + RECO_SHORT_COST_LANES_SQ);
	c = RecoShortCostWide[cnt == 1 ? 0 : cnt <= 4 ? 1 : 2];
	return n * (c[0] * n * n + c[1] * n + c[2]);
}

/*
 * Sorts a window's keys (RecoRunExactChunk: terms << RECO_SHORT_KEY_BITS |
 * offset, terms < RECO_SHORT_LANE_MAX, offsets ascending as collected)
 * ascending by a counting sort on the terms, stable, so the order a full
 * sort of the keys gives, without qsort's calls per comparison.
 */
static void
RecoSortWindowKeys(int64_t *keys, int cnt)
{
	int64_t		sorted[RECO_SHORT_WINDOW];
	int			start[RECO_SHORT_LANE_MAX + 1] = {0};
	int			i,
				t;

	for (i = 0; i < cnt; i++)
		start[(keys[i] >> RECO_SHORT_KEY_BITS) + 1]++;
	for (t = 0; t < RECO_SHORT_LANE_MAX; t++)
		start[t + 1] += start[t];
	for (i = 0; i < cnt; i++)
		sorted[start[keys[i] >> RECO_SHORT_KEY_BITS]++] = keys[i];
	memcpy(keys, sorted, sizeof(int64_t) * cnt);
}

/*
 * The short rows of a window (keys: terms << RECO_SHORT_KEY_BITS | offset
 * from begin), sorted by their number of terms and cut, from the largest,
 * into groups of consecutive rows that RecoShortCost finds cheapest in
 * all: a row alone, up to four rows, or up to eight where short_lanes
 * sweeps eight (alike sizes: little padding).  Which rows share a group
 * changes no bit.
 */
static RecoStatus
RecoShortRowWindow(const RecoJob *job, RecoRowCtx *ctx, int64_t begin,
				   int64_t *keys, int cnt)
{
	int64_t		rows[RECO_SHORT_LANES];
	double		best[RECO_SHORT_WINDOW + 1];	/* least cost of the g smallest rows */
	int			take[RECO_SHORT_WINDOW + 1];	/* ... whose largest take[g] form its first group */
	int			width = ctx->kern->short_lanes_width();
	int			g,
				c,
				b;

	RecoSortWindowKeys(keys, cnt);
	best[0] = 0.0;
	for (g = 1; g <= cnt; g++)
	{
		int			n = (int) (keys[g - 1] >> RECO_SHORT_KEY_BITS);

		best[g] = RecoShortCost(width, 1, n) + best[g - 1];
		take[g] = 1;
		for (c = 4; c <= width; c += 4)
		{
			int			cc = g < c ? g : c;
			double		t = RecoShortCost(width, cc, n) + best[g - cc];

			if (cc > 1 && t < best[g])
			{
				best[g] = t;
				take[g] = cc;
			}
		}
	}
	for (g = cnt; g > 0; g -= c)
	{
		RecoStatus	st;

		if (RecoParallelPoll(ctx->worker, false))
			return RECO_STATUS_STOPPED;
		c = take[g];
		for (b = 0; b < c; b++)
			rows[b] = begin + (keys[g - 1 - b] & (((int64_t) 1 << RECO_SHORT_KEY_BITS) - 1));
		st = RecoShortRowGroup(job, ctx, rows, c);
		if (st != RECO_STATUS_OK)
			return st;
	}
	return RECO_STATUS_OK;
}

/*
 * The rows of an exact (Cholesky) chunk: short rows with fewer than
 * RecoShortLaneCap terms are collected RECO_SHORT_WINDOW at a time and
 * solved in lanes (RecoShortRowWindow), every other row at once
 * (RecoCholeskyRow).  Each row's factors are what it gets alone.
 */
static RecoStatus
RecoRunExactChunk(const RecoJob *job, RecoRowCtx *ctx, const RecoChunk *chunk)
{
	const RecoSparse *rows = job->rows;
	int64_t		keys[RECO_SHORT_WINDOW];
	int			cnt = 0,
				cap = RecoShortLaneCap(job->k);
	int64_t		u;
	RecoStatus	st;

	for (u = chunk->begin; u < chunk->end; u++)
	{
		int64_t		start = rows->indptr[u];
		int64_t		n = rows->indptr[u + 1] - start;
		int			terms;

		if (RecoParallelPoll(ctx->worker, false))
			return RECO_STATUS_STOPPED;
		terms = ctx->Z != NULL ? RecoShortRowTerms(ctx, rows->weights + start, n) : -1;
		if (terms >= 0 && terms < cap)
		{
			keys[cnt++] = ((int64_t) terms << RECO_SHORT_KEY_BITS) | (u - chunk->begin);
			if (cnt == RECO_SHORT_WINDOW)
			{
				st = RecoShortRowWindow(job, ctx, chunk->begin, keys, cnt);
				if (st != RECO_STATUS_OK)
					return st;
				cnt = 0;
			}
			continue;
		}
		/* fetch the next row's first block while this row computes */
		if (u + 1 < chunk->end)
		{
			int64_t		nn = rows->indptr[u + 2] - rows->indptr[u + 1];

			RecoPrefetchBlock(job->fixed, job->k, rows->indices + rows->indptr[u + 1],
							  (int) (nn < RECO_KERNEL_BLOCK ? nn : RECO_KERNEL_BLOCK));
		}
		ctx->prior = job->prior != NULL ? job->prior + (size_t) u * job->k : NULL;
		st = RecoCholeskyRow(ctx, rows->indices + start, rows->weights + start, n,
							 job->solve + (size_t) u * job->k);
		if (st != RECO_STATUS_OK)
			return st;
	}
	return cnt > 0 ? RecoShortRowWindow(job, ctx, chunk->begin, keys, cnt) : RECO_STATUS_OK;
}

/*
 * Loss terms of one user row into out (RecoLossRowStart with gx = G x or
 * NULL, then every entry's RecoLossEntries, y·x from the half copy Yh when
 * set, its vectors prefetched two blocks ahead): the loss job's, and the
 * reference the CG user pass reproduces bit for bit.
 */
static void
RecoLossRow(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
			const float *x, const float *gx, double *out)
{
	float		s[RECO_KERNEL_BLOCK];
	int64_t		b0;

	RecoLossRowStart(ctx, x, gx, n, out);
	for (b0 = 0; b0 < n; b0 += RECO_KERNEL_BLOCK)
	{
		int			cnt = (int) (n - b0 < RECO_KERNEL_BLOCK ? n - b0 : RECO_KERNEL_BLOCK);

		if (ctx->Yh != NULL)
		{
			RecoPrefetchAhead(ctx->Yh, ctx->k * (int) sizeof(uint16_t), idx, n, b0);
			ctx->kern->dot_block_h(ctx->k, ctx->Yh, idx + b0, cnt, x, s);
		}
		else
		{
			RecoPrefetchAhead(ctx->Y, ctx->k * (int) sizeof(float), idx, n, b0);
			ctx->kern->dot_block(ctx->k, ctx->Y, idx + b0, cnt, x, s);
		}
		RecoLossEntries(ctx, w + b0, s, cnt, out);
	}
}

/* True if row u of a CG job is solved in a block of long rows (RecoCgBlock), not in its chunk. */
static bool
RecoRowWindowed(const RecoJob *job, int64_t u)
{
	return job->win_len > 0 && u <= job->win_last &&
		job->rows->indptr[u + 1] - job->rows->indptr[u] >= job->win_len;
}

/* Fixed-side rows in one window of a block of long CG rows. */
static int64_t
RecoWindowWidth(int k)
{
	int64_t		wn = RECO_WINDOW_BYTES / ((int64_t) sizeof(float) * k);

	return wn < 1 ? 1 : wn;
}

/*
 * The rows of a CG chunk (but its windowed ones) in lockstep groups
 * (RecoCgBlock with one window: each row's whole pass at a time) of at most
 * RecoWindowRowsMax(k) rows whose item vectors fit RECO_LOCKSTEP_BYTES, so
 * they stay in cache from one pass to the next while one G·p product
 * serves them all; a longer row runs alone (RecoCgRow: its first pass
 * copies its vectors to the gather buffer, the others read them in order);
 * an empty row is zero (its loss terms those of the x it had).  Bit for bit
 * the same factors (and loss terms) either way.
 */
static RecoStatus
RecoRunCgChunk(const RecoJob *job, RecoRowCtx *ctx, const RecoChunk *chunk)
{
	const RecoSparse *rows = job->rows;
	int32_t    *list = ctx->s->wlist;
	int			bmax = RecoWindowRowsMax(job->k);
	int64_t		u = chunk->begin,
				wn = rows->n_cols > 0 ? rows->n_cols : 1;
	size_t		vb = RecoGatherVectorBytes(job->k, job->half),
				limit = RecoLockstepBytes(job->half);

	while (u < chunk->end)
	{
		size_t		bytes = 0;
		int			cnt = 0;
		RecoStatus	st;

		if (RecoParallelPoll(ctx->worker, false))
			return RECO_STATUS_STOPPED;
		for (; u < chunk->end && cnt < bmax; u++)
		{
			int64_t		n = rows->indptr[u + 1] - rows->indptr[u];
			size_t		nb = (size_t) n * vb;

			if (RecoRowWindowed(job, u))
				continue;
			if (n == 0)
			{
				if (job->loss_rows != NULL)
					RecoLossRowStart(ctx, job->solve + (size_t) u * job->k, NULL, 0,
									 job->loss_rows + 3 * (size_t) u);
				memset(job->solve + (size_t) u * job->k, 0, sizeof(float) * job->k);
				continue;
			}
			if (cnt > 0 && bytes + nb > limit)
				break;
			if (nb > limit)
			{
				int64_t		start = rows->indptr[u];

				/* alone in its group: RecoCgRow, whose later passes read its gathered copy in order */
				ctx->prior = job->prior != NULL ? job->prior + (size_t) u * job->k : NULL;
				st = RecoCgRow(ctx, rows->indices + start, rows->weights + start, n,
							   job->solve + (size_t) u * job->k,
							   job->loss_rows != NULL ? job->loss_rows + 3 * (size_t) u : NULL);
				if (st != RECO_STATUS_OK)
					return st;
				continue;
			}
			list[cnt++] = (int32_t) u;
			bytes += nb;
		}
		if (cnt == 0)
			continue;
		st = RecoCgBlock(ctx, rows, list, cnt, job->solve, job->prior, wn);
		if (st != RECO_STATUS_OK)
			return st;
	}
	return RECO_STATUS_OK;
}

/* A chunk's rows are final: published to the calling thread (RecoJobCallerWork). */
static void
RecoChunkDone(RecoJob *job, const RecoChunk *chunk)
{
	if (job->chunk_done != NULL)
		__atomic_store_n(&job->chunk_done[chunk->id], 1, __ATOMIC_RELEASE);
}

/*
 * Runner task: tasks below n_blocks run a block of long rows
 * (RecoCgBlock), the others the rows of chunk number task − n_blocks;
 * returns the first non-OK row status.
 */
static RecoStatus
RecoRunChunk(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoJob    *job = (RecoJob *) arg;
	const RecoChunk *chunk = &job->chunks[task < job->n_blocks ? 0 : task - job->n_blocks];
	const RecoSparse *rows = job->rows;
	RecoRowCtx	ctx;
	int64_t		u,
				gx_first = 0,
				gx_end = 0;
	double		loss = 0.0,
				conf = 0.0,
				norm = 0.0;

	ctx.kern = job->kern;
	ctx.k = job->k;
	ctx.G = job->gmat;
	ctx.Y = job->fixed;
	ctx.half = job->half;
	ctx.Yh = job->fixed_h;
	ctx.U = job->U;
	ctx.Z = job->Z;
	ctx.alpha = job->alpha;
	ctx.regularization = job->regularization;
	ctx.reg_exponent = job->reg_exponent;
	ctx.unobserved_weight = job->unobserved_weight;
	ctx.n_fixed = rows->n_cols;
	ctx.cg_steps = job->cg_steps;
	ctx.prior = NULL;
	ctx.loss_rows = job->loss_rows;
	ctx.s = (RecoScratch *) state;
	ctx.worker = worker;

	if (task < job->n_blocks)
	{
		int64_t		first = job->win_block[task];
		RecoStatus	st = RecoCgBlock(&ctx, rows, job->win_rows + first,
									 (int) (job->win_block[task + 1] - first),
									 job->solve, job->prior, RecoWindowWidth(job->k));

		if (st == RECO_STATUS_OK)
			__atomic_add_fetch(&job->blocks_done, 1, __ATOMIC_RELEASE);
		return st;
	}
	if (job->kind == RECO_JOB_CG || job->kind == RECO_JOB_CHOLESKY)
	{
		RecoStatus	st = job->kind == RECO_JOB_CG ? RecoRunCgChunk(job, &ctx, chunk) :
			RecoRunExactChunk(job, &ctx, chunk);

		if (st == RECO_STATUS_OK)
			RecoChunkDone(job, chunk);
		return st;
	}
	for (u = chunk->begin; job->kind == RECO_JOB_ZROWS && u < chunk->end; u++)
	{
		int64_t		c = job->zcols != NULL ? job->zcols[u] : u;

		if (RecoParallelPoll(worker, false))
			return RECO_STATUS_STOPPED;
		RecoZRow(job->kern, job->U, job->k, job->fixed + (size_t) c * job->k,
				 ctx.s->dv, job->Z + (size_t) c * job->k);
	}
	for (u = chunk->begin; job->kind != RECO_JOB_ZROWS && u < chunk->end; u++)
	{
		int64_t		start = rows->indptr[u];
		int64_t		n = rows->indptr[u + 1] - start;
		float	   *x = job->solve + (size_t) u * job->k;
		RecoStatus st = RECO_STATUS_OK;
		double		terms[3];

		if (RecoParallelPoll(worker, false))
			return RECO_STATUS_STOPPED;
		if (RecoRowWindowed(job, u))
			continue;
		/* fetch the next row's first block (the vectors the loss reads) while this row computes */
		if (u + 1 < chunk->end)
		{
			int64_t		nn = rows->indptr[u + 2] - rows->indptr[u + 1];

			RecoPrefetchVectors(job->fixed_h != NULL ? (const void *) job->fixed_h : (const void *) job->fixed,
								job->k * (int) (job->fixed_h != NULL ? sizeof(uint16_t) : sizeof(float)),
								rows->indices + rows->indptr[u + 1],
								(int) (nn < RECO_KERNEL_BLOCK ? nn : RECO_KERNEL_BLOCK), false);
		}
		ctx.prior = job->prior != NULL ? job->prior + (size_t) u * job->k : NULL;
		switch (job->kind)
		{
			case RECO_JOB_LOSS:
				if (u >= gx_end)
				{
					/* G x of the next rows in one symv_rows call (symv's bits, G read once per tile) */
					gx_first = u;
					gx_end = u + RecoWindowRowsMax(job->k) < chunk->end ?
						u + RecoWindowRowsMax(job->k) : chunk->end;
					ctx.kern->symv_rows(job->k, (int) (gx_end - u), job->gmat, x,
										job->k, ctx.s->wr);
				}
				RecoLossRow(&ctx, rows->indices + start, rows->weights + start, n, x,
							ctx.s->wr + (size_t) (u - gx_first) * job->k, terms);
				loss += terms[0];
				conf += terms[1];
				norm += terms[2];
				break;
			case RECO_JOB_CG:	/* RecoRunCgChunk */
			case RECO_JOB_CHOLESKY: /* RecoRunExactChunk */
			case RECO_JOB_ZROWS:
				break;
		}
		if (st != RECO_STATUS_OK)
			return st;
	}
	if (job->kind == RECO_JOB_LOSS)
	{
		job->partials[3 * chunk->id] = loss;
		job->partials[3 * chunk->id + 1] = conf;
		job->partials[3 * chunk->id + 2] = norm;
	}
	RecoChunkDone(job, chunk);
	return RECO_STATUS_OK;
}

/* ------------------------------------------------------------------------
 * Job setup: chunks, scratch
 * ------------------------------------------------------------------------
 */

/* Estimated multiply-adds of one row, used only for chunking. */
static double
RecoRowCost(RecoJobKind kind, int k, int cg_steps, int64_t n)
{
	double		kk = (double) k * k;

	switch (kind)
	{
		case RECO_JOB_CG:
			return (double) n * k * 2.0 * (cg_steps + 1) + kk * (cg_steps + 1) + 16.0 * k;
		case RECO_JOB_CHOLESKY:
			if (n < RecoShortRowMax(k))	/* the short-row path, when it applies */
				return (double) n * n * (k * 0.5 + n / 6.0) + 4.0 * n * k + kk;
			return (double) n * (kk * 0.5 + k) + kk * k / 6.0 + kk;
		case RECO_JOB_ZROWS:
			return kk * 0.5;
		case RECO_JOB_LOSS:
			return (double) n * k + kk + 16.0 * k;
	}
	return 1.0;
}

/* Entries of row u of the job's matrix its chunk runs (0 for the rows of Z and the windowed rows). */
static int64_t
RecoRowLength(const RecoJob *job, int64_t u)
{
	if (job->kind == RECO_JOB_ZROWS || RecoRowWindowed(job, u))
		return 0;
	return job->rows->indptr[u + 1] - job->rows->indptr[u];
}

/* Orders chunks by decreasing cost (ties by position) for load balance. */
static int
RecoChunkCmp(const void *a, const void *b)
{
	const RecoChunk *x = (const RecoChunk *) a;
	const RecoChunk *y = (const RecoChunk *) b;

	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return x->begin < y->begin ? -1 : (x->begin > y->begin ? 1 : 0);
}

/* Orders chunks by position. */
static int
RecoChunkPositionCmp(const void *a, const void *b)
{
	const RecoChunk *x = (const RecoChunk *) a;
	const RecoChunk *y = (const RecoChunk *) b;

	return x->begin < y->begin ? -1 : (x->begin > y->begin ? 1 : 0);
}

/*
 * The order of a job whose solved rows are handed on as they are done
 * (job->ready), from RecoMakeChunks' order: the chunks of one row costlier
 * than a chunk's target stay first (by decreasing cost), the others go by
 * position, so the rows solved so far grow from row 0 while the tail still
 * balances.  Which task runs a chunk never changes its rows' results.
 */
static void
RecoOrderChunksByRow(RecoJob *job)
{
	int64_t		heavy = 0;

	while (heavy < job->n_chunks && job->chunks[heavy].cost > job->chunk_target)
		heavy++;
	qsort(job->chunks + heavy, (size_t) (job->n_chunks - heavy), sizeof(RecoChunk),
		  RecoChunkPositionCmp);
}

/*
 * Chooses the rows of a CG job that RecoCgBlock solves: the first
 * RECO_WINDOW_MAX_ROWS (by position) whose item vectors exceed
 * RECO_WINDOW_ROW_BYTES and whose length reaches RECO_WINDOW_MIN_REUSE
 * times the fixed side's rows over RecoWindowRowsMax(k), by decreasing
 * length, in blocks of consecutive
 * ones (rows of alike lengths share a block's windows evenly).  A block
 * also ends at each thread's share of their entries, so the threads stay
 * balanced (the blocks run first, the chunks fill in after them).  Which
 * block a row is in never changes its result.  Returns false on malloc
 * failure.
 */
static bool
RecoWindowRows(RecoJob *job, int threads)
{
	const int64_t *indptr = job->rows->indptr;
	RecoChunk  *wr;				/* begin: a row; cost: its length */
	int64_t		u,
				n = 0,
				total = 0,
				fill = 0,
				cap;
	int			bmax = RecoWindowRowsMax(job->k);

	job->win_len = 0;
	job->win_last = -1;
	job->win_rows = NULL;
	job->win_block = NULL;
	job->n_win = 0;
	job->n_blocks = 0;
	if (job->kind != RECO_JOB_CG)
		return true;
	job->win_len = RECO_WINDOW_ROW_BYTES / ((int64_t) sizeof(float) * job->k) + 1;
	if ((int64_t) RECO_WINDOW_MIN_REUSE * job->rows->n_cols / bmax + 1 > job->win_len)
		job->win_len = (int64_t) RECO_WINDOW_MIN_REUSE * job->rows->n_cols / bmax + 1;
	for (u = 0; u < job->rows->n_rows && n < RECO_WINDOW_MAX_ROWS; u++)
		if (indptr[u + 1] - indptr[u] >= job->win_len)
		{
			n++;
			total += indptr[u + 1] - indptr[u];
			job->win_last = u;
		}
	if (n == 0)
		return true;
	wr = (RecoChunk *) malloc(sizeof(RecoChunk) * n);
	job->win_rows = (int32_t *) malloc(sizeof(int32_t) * n);
	job->win_block = (int64_t *) malloc(sizeof(int64_t) * (n + 1));
	if (wr == NULL || job->win_rows == NULL || job->win_block == NULL)
	{
		free(wr);
		free(job->win_rows);
		free(job->win_block);
		job->win_rows = NULL;
		job->win_block = NULL;
		return false;
	}
	for (u = 0; u <= job->win_last; u++)
		if (indptr[u + 1] - indptr[u] >= job->win_len)
		{
			wr[job->n_win].begin = u;
			wr[job->n_win++].cost = (double) (indptr[u + 1] - indptr[u]);
		}
	/* by decreasing length, ties by position */
	qsort(wr, (size_t) n, sizeof(RecoChunk), RecoChunkCmp);
	cap = (int64_t) RECO_WINDOW_REUSE * job->rows->n_cols;
	if (cap > total / RecoParallelThreads(threads, n) + 1)
		cap = total / RecoParallelThreads(threads, n) + 1;
	job->win_block[0] = 0;
	for (u = 0; u < n; u++)
	{
		job->win_rows[u] = (int32_t) wr[u].begin;
		fill += (int64_t) wr[u].cost;
		if (fill >= cap || u + 1 - job->win_block[job->n_blocks] >= bmax || u + 1 == n)
		{
			job->win_block[++job->n_blocks] = u + 1;
			fill = 0;
		}
	}
	free(wr);
	return true;
}

/*
 * Splits the rows into chunks of about equal cost (boundaries depend only on
 * the data, k and the kind) and sorts them by decreasing cost.  Returns false
 * on malloc failure.
 */
static bool
RecoMakeChunks(RecoJob *job)
{
	const RecoSparse *rows = job->rows;
	double		total = 0.0,
				target,
				acc;
	int64_t		u,
				count,
				begin;
	int			pass;

	for (u = 0; u < rows->n_rows; u++)
		total += RecoRowCost(job->kind, job->k, job->cg_steps,
							 RecoRowLength(job, u));
	target = total / RECO_MAX_CHUNKS;
	if (target < (job->kind == RECO_JOB_CHOLESKY ? RECO_EXACT_CHUNK_COST : RECO_CHUNK_COST))
		target = job->kind == RECO_JOB_CHOLESKY ? RECO_EXACT_CHUNK_COST : RECO_CHUNK_COST;

	job->chunks = NULL;
	for (pass = 0; pass < 2; pass++)
	{
		count = 0;
		begin = 0;
		acc = 0.0;
		for (u = 0; u < rows->n_rows; u++)
		{
			double		c = RecoRowCost(job->kind, job->k, job->cg_steps,
										RecoRowLength(job, u));

			if (u > begin && acc + c > target)
			{
				if (pass == 1)
				{
					job->chunks[count].begin = begin;
					job->chunks[count].end = u;
					job->chunks[count].cost = acc;
					job->chunks[count].id = count;
				}
				count++;
				begin = u;
				acc = 0.0;
			}
			acc += c;
		}
		if (rows->n_rows > begin)
		{
			if (pass == 1)
			{
				job->chunks[count].begin = begin;
				job->chunks[count].end = rows->n_rows;
				job->chunks[count].cost = acc;
				job->chunks[count].id = count;
			}
			count++;
		}
		if (pass == 0)
		{
			job->chunks = (RecoChunk *) malloc(sizeof(RecoChunk) * (count > 0 ? count : 1));
			if (job->chunks == NULL)
				return false;
		}
	}
	job->n_chunks = count;
	job->chunk_target = target;
	qsort(job->chunks, (size_t) count, sizeof(RecoChunk), RecoChunkCmp);
	return true;
}

/* True if cfg's CG solves read the fixed side in half precision (als.c's header). */
static bool
RecoCgHalf(const RecoAlsConfig *cfg)
{
	if (cfg->solver != RECO_SOLVER_CG || cfg->cg_vectors == RECO_CG_VECTORS_FLOAT)
		return false;
	return cfg->cg_vectors == RECO_CG_VECTORS_HALF || cfg->factors >= RECO_CG_HALF_MIN_FACTORS;
}

/*
 * Entries of a CG gather buffer for k and the longest row (0 for other
 * solvers): RECO_GATHER_BYTES of vectors, float or half (twice the
 * entries); with half, at least a lockstep group's entries, whose half
 * copy the group's A·p passes read (RecoWindowPass).
 */
static int64_t
RecoGatherCap(bool cg, int k, int64_t max_row_nnz, bool half)
{
	int64_t		vb = (int64_t) RecoGatherVectorBytes(k, half),
				cap = RECO_GATHER_BYTES / vb / RECO_KERNEL_BLOCK * RECO_KERNEL_BLOCK,
				group = (int64_t) RecoLockstepBytes(half) / vb;

	if (!cg)
		return 0;
	if ((double) max_row_nnz * k * sizeof(float) <= RECO_GATHER_MIN_BYTES)
		cap = 0;
	else if (max_row_nnz < cap)
		cap = max_row_nnz;
	return half && group > cap ? group : cap;
}

/*
 * Bytes of the short rows' lanes (RecoScratch.lane, lanew): each lane's v,
 * q, sv and cidx, lanes 1 .. RECO_SHORT_LANES − 1 their M (lane 0 uses A
 * and cidx), short_lanes' work area; with lanes non-NULL, also points the
 * lanes at mem.
 */
static size_t
RecoLaneBytes(int k)
{
	size_t		sm = (size_t) RecoShortRowMax(k);
	size_t		cap = (size_t) RecoShortLaneCap(k);

	return sizeof(double) * (RECO_SHORT_LANES * (RecoPad(k) + 2 * RecoPad(sm)) +
							 RecoPad(RECO_SHORT_LANES * cap * (cap + 1))) +
		sizeof(float) * (RECO_SHORT_LANES - 1) * (RecoPad(cap * cap) + RecoPad(cap));
}

/* The next bytes of a carved allocation: returns *m, then advances it past them. */
static void *
RecoTake(char **m, size_t bytes)
{
	void	   *p = *m;

	*m += bytes;
	return p;
}

/* Points the scratch's lanes at mem (RecoLaneBytes(k) bytes, aligned). */
static void
RecoLaneInit(RecoScratch *s, int k, char *m)
{
	size_t		sm = (size_t) RecoShortRowMax(k);
	size_t		cap = (size_t) RecoShortLaneCap(k);
	int			b;

	for (b = 0; b < RECO_SHORT_LANES; b++)
	{
		s->lane[b].v = RecoTake(&m, sizeof(double) * RecoPad(k));
		s->lane[b].q = RecoTake(&m, sizeof(double) * RecoPad(sm));
		s->lane[b].sv = RecoTake(&m, sizeof(double) * RecoPad(sm));
		s->lane[b].nw = 0;
		s->lane[b].zb = NULL;
		s->lane[b].zi = NULL;
		/* lane 0 holds its Gram in A and its terms in cidx (single rows use them too) */
		s->lane[b].M = s->A;
		s->lane[b].cidx = s->cidx;
	}
	s->lanew = RecoTake(&m, sizeof(double) * RecoPad(RECO_SHORT_LANES * cap * (cap + 1)));
	for (b = 1; b < RECO_SHORT_LANES; b++)
	{
		s->lane[b].M = RecoTake(&m, sizeof(float) * RecoPad(cap * cap));
		s->lane[b].cidx = RecoTake(&m, sizeof(float) * RecoPad(cap));
	}
}

/* Bytes of one thread's scratch for k and a gather buffer of gather_cap entries (float or half). */
static size_t
RecoScratchSize(int k, int64_t gather_cap, bool half)
{
	size_t		kk = (size_t) k * k;
	size_t		sm = (size_t) RecoShortRowMax(k);
	size_t		ch = (size_t) RecoShortRowChunk(k);
	size_t		mm = sm * sm > kk + 8 * (size_t) k ? sm * sm : kk + 8 * (size_t) k;
	size_t		wm = (size_t) RecoWindowRowsMax(k);

	return sizeof(float) * (4 * RecoPad(k) + 2 * RecoPad(ch) + RecoPad(mm) +
							RecoPad(ch * k) +
							2 * RecoPad((size_t) RECO_SYSTEM_BLOCK * k) +
							3 * RecoPad(k) * wm + 5 * RecoPad(wm) +
							RecoPad((gather_cap * RecoGatherVectorBytes(k, half) +
									 sizeof(float) - 1) / sizeof(float))) +
		sizeof(double) * (RecoPad(sm * sm > 2 * kk ? sm * sm : 2 * kk) +
						  2 * RecoPad(k) + RecoPad(2 * (size_t) k + 2 * ch) +
						  RecoPad(wm)) +
		RecoLaneBytes(k);
}

/* Allocates one thread's scratch (a gather buffer of half vectors when half); false on failure. */
static bool
RecoScratchAlloc(RecoScratch *s, int k, int64_t gather_cap, bool half)
{
	size_t		kp = RecoPad(k);
	size_t		kk = (size_t) k * k;
	size_t		sm = (size_t) RecoShortRowMax(k);
	size_t		ch = (size_t) RecoShortRowChunk(k);
	size_t		mm = sm * sm > kk + 8 * (size_t) k ? sm * sm : kk + 8 * (size_t) k;
	size_t		wm = (size_t) RecoWindowRowsMax(k);
	char	   *m;

	if (posix_memalign(&s->mem, RECO_CACHE_LINE,
					   RecoScratchSize(k, gather_cap, half)) != 0)
	{
		s->mem = NULL;
		return false;
	}
	s->gather_cap = gather_cap;
	m = (char *) s->mem;
	s->L = (double *) m;
	m += sizeof(double) * RecoPad(sm * sm > 2 * kk ? sm * sm : 2 * kk);
	s->z = (double *) m;
	m += sizeof(double) * 2 * kp;
	s->dv = (double *) m;
	m += sizeof(double) * RecoPad(2 * (size_t) k + 2 * ch);
	s->wpos = (int64_t *) m;
	m += sizeof(double) * RecoPad(wm);
	s->A = (float *) m;
	m += sizeof(float) * RecoPad(mm);
	s->zu = (float *) m;
	m += sizeof(float) * RecoPad(ch * k);
	s->seq = (int32_t *) m;
	m += sizeof(float) * RecoPad(ch);
	s->cidx = (int32_t *) m;
	m += sizeof(float) * RecoPad(ch);
	s->gy = (float *) m;
	m += sizeof(float) * RecoPad((size_t) RECO_SYSTEM_BLOCK * k);
	s->gp = (float *) m;
	m += sizeof(float) * RecoPad((size_t) RECO_SYSTEM_BLOCK * k);
	s->r = (float *) m;
	m += sizeof(float) * kp;
	s->p = (float *) m;
	m += sizeof(float) * kp;
	s->Ap = (float *) m;
	m += sizeof(float) * kp;
	s->b = (float *) m;
	m += sizeof(float) * kp;
	s->wr = (float *) m;
	m += sizeof(float) * wm * kp;
	s->wp = (float *) m;
	m += sizeof(float) * wm * kp;
	s->wap = (float *) m;
	m += sizeof(float) * wm * kp;
	s->wrow = (int32_t *) m;
	m += sizeof(float) * RecoPad(wm);
	s->wlist = (int32_t *) m;
	m += sizeof(float) * RecoPad(wm);
	s->wridge = (float *) m;
	m += sizeof(float) * RecoPad(wm);
	s->wrs = (float *) m;
	m += sizeof(float) * RecoPad(wm);
	s->wdone = (bool *) m;
	m += sizeof(float) * RecoPad(wm);
	RecoLaneInit(s, k, m);
	m += RecoLaneBytes(k);
	s->gather = (float *) m;
	s->gather_h = (uint16_t *) m;
	return true;
}

/* Runner init_state: allocates one thread's scratch for the job. */
static RecoStatus
RecoScratchInit(void *arg, void *state, int thread)
{
	RecoJob    *job = (RecoJob *) arg;

	(void) thread;
	return RecoScratchAlloc((RecoScratch *) state, job->k, job->gather_cap,
							job->half) ?
		RECO_STATUS_OK : RECO_STATUS_NO_MEMORY;
}

/* Runner free_state: frees one thread's scratch. */
static void
RecoScratchFree(void *arg, void *state, int thread)
{
	(void) arg;
	(void) thread;
	free(((RecoScratch *) state)->mem);
}

/* Adds a loss job's partials to its sums: they are indexed by chunk position, so in row order. */
static void
RecoSumPartials(RecoJob *job)
{
	int64_t		c;

	for (c = 0; c < job->n_chunks; c++)
	{
		job->sums[0] += job->partials[3 * c];
		job->sums[1] += job->partials[3 * c + 1];
		job->sums[2] += job->partials[3 * c + 2];
	}
}

/*
 * The sums of a loss job over `rows` from every row's loss terms (terms,
 * 3 per row, as RecoLossRow gives them), formed as that job forms them: its
 * chunks, each summed in row order from zero, then the chunks' partials in
 * row order (RecoSumPartials).  So the loss of terms computed elsewhere (the
 * CG user pass) is bit for bit RecoAlsLoss's, whichever chunks or threads
 * computed them.  Calling thread; sets job->sums.
 */
static RecoStatus
RecoSumLossRows(RecoJob *job, const double *terms)
{
	int64_t		c,
				u;

	if (!RecoMakeChunks(job))
		return RECO_STATUS_NO_MEMORY;
	job->partials = (double *) calloc((size_t) job->n_chunks * 3 + 3, sizeof(double));
	if (job->partials == NULL)
	{
		free(job->chunks);
		job->chunks = NULL;
		return RECO_STATUS_NO_MEMORY;
	}
	for (c = 0; c < job->n_chunks; c++)
	{
		const RecoChunk *chunk = &job->chunks[c];
		double	   *part = job->partials + 3 * chunk->id;

		for (u = chunk->begin; u < chunk->end; u++)
		{
			part[0] += terms[3 * u];
			part[1] += terms[3 * u + 1];
			part[2] += terms[3 * u + 2];
		}
	}
	RecoSumPartials(job);
	free(job->partials);
	job->partials = NULL;
	free(job->chunks);
	job->chunks = NULL;
	return RECO_STATUS_OK;
}

/*
 * The rows 0 .. u − 1 a job has solved so far (0 while Z rows are computed):
 * advances the chunks done from row 0 (by id, so in row order), not past the
 * first windowed row while a block of long rows runs.  Calling thread only.
 */
static int64_t
RecoJobRowsReady(RecoJob *job)
{
	int64_t		rows_ready = 0;

	if (job->chunk_done == NULL)
		return 0;
	while (job->chunks_ready < job->n_chunks &&
		   __atomic_load_n(&job->chunk_done[job->chunks_ready], __ATOMIC_ACQUIRE))
		job->chunks_ready++;
	if (job->chunks_ready > 0)
		rows_ready = job->chunk_end[job->chunks_ready - 1];
	if (rows_ready > job->win_first &&
		__atomic_load_n(&job->blocks_done, __ATOMIC_ACQUIRE) < job->n_blocks)
		rows_ready = job->win_first;
	return rows_ready;
}

/*
 * The runner's caller_work of a job with job->forming or job->ready: one
 * step of forming solve's products from the rows solved so far (more: call
 * again), else tells ready->fn those rows.  Calling thread only.
 */
static RecoStatus
RecoJobCallerWork(void *arg, bool *more)
{
	RecoJob    *job = (RecoJob *) arg;
	int64_t		rows_ready = RecoJobRowsReady(job);
	RecoStatus	st;

	*more = false;
	if (job->forming != NULL && RecoProductsStep(job->forming, job->kern, rows_ready))
	{
		*more = true;
		return RECO_STATUS_OK;
	}
	if (job->ready == NULL)
		return RECO_STATUS_OK;
	st = job->ready->fn(job->ready->arg, rows_ready, more);
	job->ready_failed = st != RECO_STATUS_OK;
	return st;
}

/*
 * With job->ready or job->forming: the done flags and end rows by chunk id
 * (in row order, before RecoOrderChunksByRow reorders the table) of a job
 * that solves rows (none for Z rows), the first windowed row and the tasks'
 * order.  Returns false on malloc failure.
 */
static bool
RecoJobReadySetup(RecoJob *job)
{
	int64_t		c;

	job->chunks_ready = 0;
	job->blocks_done = 0;
	job->win_first = job->rows->n_rows;
	for (c = 0; c < job->n_win; c++)
		if (job->win_rows[c] < job->win_first)
			job->win_first = job->win_rows[c];
	if ((job->ready == NULL && job->forming == NULL) || job->kind == RECO_JOB_ZROWS)
		return true;
	job->chunk_done = (unsigned char *) calloc((size_t) job->n_chunks + 1, 1);
	job->chunk_end = (int64_t *) malloc(sizeof(int64_t) * ((size_t) job->n_chunks + 1));
	if (job->chunk_done == NULL || job->chunk_end == NULL)
		return false;
	for (c = 0; c < job->n_chunks; c++)
		job->chunk_end[job->chunks[c].id] = job->chunks[c].end;
	RecoOrderChunksByRow(job);
	return true;
}

/*
 * Runs a prepared job: builds its chunks, runs them as the runner's tasks on
 * the caller plus (threads − 1) workers, and sums the loss partials in row
 * order.  With job->ready, the calling thread is also told the rows solved
 * so far between its tasks (RecoJobCallerWork).  Frees the chunk table, the
 * done flags and the partials on every path.
 */
static RecoStatus
RecoJobRun(RecoJob *job, int threads, const RecoHooks *hooks)
{
	RecoParallelJob pj = {
		.threads = threads,
		.run_task = RecoRunChunk,
		.state_size = sizeof(RecoScratch),
		.init_state = RecoScratchInit,
		.free_state = RecoScratchFree,
		.arg = job,
		.hooks = hooks
	};
	int64_t		u,
				max_nnz = 0;
	RecoStatus result;

	if (!RecoWindowRows(job, threads))
		return RECO_STATUS_NO_MEMORY;
	if (!RecoMakeChunks(job))
	{
		free(job->win_rows);
		free(job->win_block);
		return RECO_STATUS_NO_MEMORY;
	}
	for (u = 0; job->kind == RECO_JOB_CG && u < job->rows->n_rows; u++)
		if (!RecoRowWindowed(job, u) &&
			job->rows->indptr[u + 1] - job->rows->indptr[u] > max_nnz)
			max_nnz = job->rows->indptr[u + 1] - job->rows->indptr[u];
	job->gather_cap = RecoGatherCap(job->kind == RECO_JOB_CG, job->k, max_nnz,
									job->half);

	job->partials = NULL;
	if (job->kind == RECO_JOB_LOSS)
		job->partials = (double *) calloc((size_t) job->n_chunks * 3 + 3,
										  sizeof(double));
	if ((job->kind == RECO_JOB_LOSS && job->partials == NULL) || !RecoJobReadySetup(job))
		result = RECO_STATUS_NO_MEMORY;
	else
	{
		if (job->ready != NULL || job->forming != NULL)
		{
			pj.caller_work = RecoJobCallerWork;
			pj.caller_arg = job;
		}
		pj.n_tasks = job->n_blocks + job->n_chunks;
		result = RecoParallelRun(&pj);
	}
	free(job->chunk_done);
	job->chunk_done = NULL;
	free(job->chunk_end);
	job->chunk_end = NULL;

	if (result == RECO_STATUS_OK && job->partials != NULL)
		RecoSumPartials(job);
	free(job->partials);
	job->partials = NULL;
	free(job->chunks);
	job->chunks = NULL;
	free(job->win_rows);
	job->win_rows = NULL;
	free(job->win_block);
	job->win_block = NULL;
	return result;
}

/* ------------------------------------------------------------------------
 * Gram matrix
 * ------------------------------------------------------------------------
 */

/* Rows of Y in one block of YᵀY's sum (RecoGramBlocked): a fixed function of k. */
static int64_t
RecoGramBlockRows(int k)
{
	int64_t		block = RECO_GRAM_BLOCK_WORK / ((int64_t) k * k);

	return block < RECO_GRAM_MIN_BLOCK_ROWS ? RECO_GRAM_MIN_BLOCK_ROWS : block;
}

/* gram += Y[r0 .. r0 + nb)ᵀ Y[r0 .. r0 + nb): one block of RecoGramBlocked (lower triangle, ssyrk). */
static void
RecoGramAddBlock(const float *Y, int64_t r0, int64_t nb, int k, float *gram)
{
	cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, k, (int) nb, 1.0f,
				Y + (size_t) r0 * k, k, 1.0f, gram, k);
}

/* Copies a gram's lower triangle to its upper one. */
static void
RecoGramMirror(float *gram, int k)
{
	int			i,
				j;

	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			gram[(size_t) i * k + j] = gram[(size_t) j * k + i];
}

/*
 * gram = YᵀY via OpenBLAS ssyrk on fixed blocks of rows (the blocking never
 * depends on the hooks, so the result is the same with or without them);
 * polls should_stop between blocks.  Calling thread only.
 */
static RecoStatus
RecoGramBlocked(const float *Y, int64_t n, int k, float *gram,
				const RecoHooks *hooks)
{
	int64_t		block;
	int64_t		r0;

	if (k < 1)
		return RECO_STATUS_INVALID_ARGUMENT;
	block = RecoGramBlockRows(k);
	memset(gram, 0, sizeof(float) * k * k);
	for (r0 = 0; r0 < n; r0 += block)
	{
		RecoGramAddBlock(Y, r0, n - r0 < block ? n - r0 : block, k, gram);
		if (hooks != NULL && hooks->should_stop != NULL &&
			hooks->should_stop(hooks->arg))
			return RECO_STATUS_STOPPED;
	}
	RecoGramMirror(gram, k);
	return RECO_STATUS_OK;
}

/*
 * Buffers kept between the side solves of a training (RecoAlsKeepHalfBuffer)
 * instead of freed: the half copy's (each solve would otherwise fault in a
 * fresh one on the calling thread while the workers wait: at k 64 on the
 * 10M set about 0.15 s of a statement) and the fused loss's rows' terms.
 * Only the calling thread touches these.
 */
typedef struct RecoKeptBuffer
{
	void	   *p;				/* the kept buffer, or NULL */
	size_t		bytes;
} RecoKeptBuffer;

static bool reco_half_keep = false;
static RecoKeptBuffer reco_half_kept;
static RecoKeptBuffer reco_terms_kept;

/* Frees a kept buffer, if any. */
static void
RecoKeptDrop(RecoKeptBuffer *kb)
{
	free(kb->p);
	kb->p = NULL;
	kb->bytes = 0;
}

/*
 * A buffer of at least `bytes`, its size in *cap: kb's kept one when large
 * enough (no longer kept then), else a new one (the kept one, too small,
 * freed), huge pages advised; NULL if memory is short.
 */
static void *
RecoKeptTake(RecoKeptBuffer *kb, size_t bytes, size_t *cap)
{
	void	   *p = kb->p;

	if (p != NULL && kb->bytes >= bytes)
	{
		*cap = kb->bytes;
		kb->p = NULL;
		kb->bytes = 0;
		return p;
	}
	RecoKeptDrop(kb);			/* too small to serve */
	if (posix_memalign(&p, RECO_CACHE_LINE, bytes) != 0)
		return NULL;
	RecoAdviseHugePages(p, bytes);
	*cap = bytes;
	return p;
}

/* Gives a buffer (NULL: none) back to kb: kept while a training keeps them and kb holds none, else freed. */
static void
RecoKeptGive(RecoKeptBuffer *kb, void *p, size_t cap)
{
	if (!reco_half_keep || kb->p != NULL)
	{
		free(p);
		return;
	}
	kb->p = p;
	kb->bytes = p != NULL ? cap : 0;
}

/* A half copy's buffer of at least `bytes` (RecoKeptTake). */
static void *
RecoHalfBufferTake(size_t bytes, size_t *cap)
{
	return RecoKeptTake(&reco_half_kept, bytes, cap);
}

/* Gives a half copy's buffer back (RecoKeptGive). */
static void
RecoHalfBufferGive(void *p, size_t cap)
{
	RecoKeptGive(&reco_half_kept, p, cap);
}

/*
 * The products of a side's factors that the solves reading them form first
 * (YᵀY and the half copy), formed instead by the calling thread while the
 * CG solve that writes those factors runs, between its tasks, on the rows
 * solved so far (RecoJobCallerWork; the rest once the run is over): the
 * Gram in RecoGramBlocked's blocks and order and the copy by the same
 * to_half, so the same bits.  Kept while a training keeps its buffers
 * (RecoAlsKeepHalfBuffer), one slot per side (the two matrices a training
 * alternates), for every later solve, loss or Gram of those factors, until
 * a solve writes them again.  The training must not change them otherwise
 * meanwhile (train.c does not).  Only the calling thread touches these.
 */
struct RecoSideProducts
{
	const float *factors;		/* whose products (n x k), or NULL: slot free */
	int64_t		n;
	int			k;
	bool		complete;		/* every row's products formed */
	float	   *gram;			/* k x k: YᵀY (lower triangle until complete) */
	int64_t		gram_rows;		/* rows summed into gram so far */
	uint16_t   *half;			/* the half copy, or NULL: not formed */
	size_t		half_cap;		/* its buffer's bytes (RecoHalfBufferTake) */
	int64_t		half_rows;		/* rows converted so far */
	bool		half_ok;		/* every value converted so far is within half's range */
};

#define RECO_PRODUCT_SLOTS 2
static RecoSideProducts reco_products[RECO_PRODUCT_SLOTS];

/* Frees a slot's products and frees the slot. */
static void
RecoProductsDrop(RecoSideProducts *sp)
{
	free(sp->gram);
	RecoHalfBufferGive(sp->half, sp->half_cap);
	memset(sp, 0, sizeof(*sp));
}

/* The complete products of the n x k matrix `factors` (while a training keeps them), or NULL. */
static const RecoSideProducts *
RecoProductsOf(const float *factors, int64_t n, int k)
{
	int			i;

	for (i = 0; reco_half_keep && i < RECO_PRODUCT_SLOTS; i++)
		if (reco_products[i].factors == factors && reco_products[i].complete &&
			reco_products[i].n == n && reco_products[i].k == k)
			return &reco_products[i];
	return NULL;
}

/* A solve is about to write `factors`: their products, if any, are stale and dropped. */
static void
RecoProductsForget(const float *factors)
{
	int			i;

	for (i = 0; i < RECO_PRODUCT_SLOTS; i++)
		if (reco_products[i].factors == factors)
			RecoProductsDrop(&reco_products[i]);
}

/*
 * A slot to form the products of the n x k `solve` in while its solve runs
 * (a training keeping them; never the slot of `fixed`, which that solve
 * reads), with the half copy when `half`; NULL when not keeping or memory
 * is short (the solves that read `solve` form them themselves).
 */
static RecoSideProducts *
RecoProductsStart(const float *solve, const float *fixed, int64_t n, int k, bool half)
{
	RecoSideProducts *sp = NULL;
	int			i;

	if (!reco_half_keep || n < 1)
		return NULL;
	RecoProductsForget(solve);
	for (i = 0; i < RECO_PRODUCT_SLOTS; i++)
		if (reco_products[i].factors == NULL)
			sp = &reco_products[i];
	for (i = 0; sp == NULL && i < RECO_PRODUCT_SLOTS; i++)
		if (reco_products[i].factors != fixed)
		{
			sp = &reco_products[i];
			RecoProductsDrop(sp);
		}
	if (sp == NULL ||
		posix_memalign((void **) &sp->gram, RECO_CACHE_LINE, sizeof(float) * k * k) != 0)
		return NULL;
	memset(sp->gram, 0, sizeof(float) * k * k);
	if (half)
	{
		sp->half = (uint16_t *) RecoHalfBufferTake(sizeof(uint16_t) * (size_t) n * k, &sp->half_cap);
		if (sp->half == NULL)
		{
			RecoProductsDrop(sp);
			return NULL;
		}
	}
	sp->factors = solve;
	sp->n = n;
	sp->k = k;
	sp->half_ok = true;
	return sp;
}

/*
 * One step of forming sp's products from its rows 0 .. rows_ready − 1 (the
 * solved ones): the next Gram block once its rows are all solved, else up to
 * RECO_HALF_BLOCK_VALUES more values of the half copy (none once one is out
 * of half's range: then the solves read float); false if there was nothing
 * to do.
 */
static bool
RecoProductsStep(RecoSideProducts *sp, const RecoKernels *kern, int64_t rows_ready)
{
	int64_t		block = RecoGramBlockRows(sp->k),
				nb = sp->n - sp->gram_rows < block ? sp->n - sp->gram_rows : block;

	if (nb > 0 && sp->gram_rows + nb <= rows_ready)
	{
		RecoGramAddBlock(sp->factors, sp->gram_rows, nb, sp->k, sp->gram);
		sp->gram_rows += nb;
		return true;
	}
	if (sp->half != NULL && sp->half_ok && sp->half_rows < rows_ready)
	{
		int64_t		per = RECO_HALF_BLOCK_VALUES / sp->k > 0 ? RECO_HALF_BLOCK_VALUES / sp->k : 1;

		nb = rows_ready - sp->half_rows < per ? rows_ready - sp->half_rows : per;
		sp->half_ok = kern->to_half(nb * sp->k, sp->factors + (size_t) sp->half_rows * sp->k,
									sp->half + (size_t) sp->half_rows * sp->k);
		sp->half_rows += nb;
		return true;
	}
	return false;
}

/*
 * Forms what is left of sp's products (every row solved), polling
 * should_stop between steps; a stop drops them.  Calling thread.
 */
static RecoStatus
RecoProductsFinish(RecoSideProducts *sp, const RecoKernels *kern, const RecoHooks *hooks)
{
	while (RecoProductsStep(sp, kern, sp->n))
		if (hooks != NULL && hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
		{
			RecoProductsDrop(sp);
			return RECO_STATUS_STOPPED;
		}
	RecoGramMirror(sp->gram, sp->k);
	sp->complete = true;
	return RECO_STATUS_OK;
}

/*
 * Keeps the half copy's and the loss terms' buffers and the solved sides'
 * products between side solves (keep), or frees them and keeps none from
 * now on.
 */
void
RecoAlsKeepHalfBuffer(bool keep)
{
	int			i;

	reco_half_keep = keep;
	if (keep)
		return;
	for (i = 0; i < RECO_PRODUCT_SLOTS; i++)
		RecoProductsDrop(&reco_products[i]);
	RecoKeptDrop(&reco_half_kept);
	RecoKeptDrop(&reco_terms_kept);
}

/* Allocates a k x k gram and fills it with YᵀY (its kept products' when complete); on failure nothing stays allocated. */
static RecoStatus
RecoGramNew(const float *Y, int64_t n, int k, const RecoHooks *hooks,
			float **gram_out)
{
	void	   *mem;
	RecoStatus st;

	const RecoSideProducts *sp = RecoProductsOf(Y, n, k);

	if (posix_memalign(&mem, RECO_CACHE_LINE, sizeof(float) * k * k) != 0)
		return RECO_STATUS_NO_MEMORY;
	if (sp != NULL)
	{
		memcpy(mem, sp->gram, sizeof(float) * k * k);
		*gram_out = (float *) mem;
		return RECO_STATUS_OK;
	}
	st = RecoGramBlocked(Y, n, k, (float *) mem, hooks);
	if (st != RECO_STATUS_OK)
	{
		free(mem);
		return st;
	}
	*gram_out = (float *) mem;
	return RECO_STATUS_OK;
}

/*
 * U with UᵀU = G (G + λI of the exact solves, k x k float, symmetric) in
 * double, by the kernels' factorization, followed by Uᵀ (row-major lower)
 * in the next k x k doubles: the one routine behind the batch and the
 * single rows.  Returns false (U unspecified) if G is not positive
 * definite; then every row takes the explicit-system path.
 */
static bool
RecoGramFactor(const RecoKernels *kern, int k, const float *G, double *U)
{
	double	   *Ut = U + (size_t) k * k;
	int			i,
				l;

	for (i = 0; i < k; i++)
		for (l = i; l < k; l++)
			U[(size_t) i * k + l] = G[(size_t) l * k + i];
	if (!kern->chol_factor(k, U))
		return false;
	for (i = 0; i < k; i++)
		for (l = 0; l < k; l++)
			Ut[(size_t) i * k + l] = l <= i ? U[(size_t) l * k + i] : 0.0;
	return true;
}

/* Sets up a side solve or loss job over `rows` from the config. */
static void
RecoJobInit(RecoJob *job, RecoJobKind kind, const RecoSparse *rows,
			const float *fixed, float *solve, const float *gmat,
			const RecoAlsConfig *cfg)
{
	memset(job, 0, sizeof(*job));
	job->kind = kind;
	job->rows = rows;
	job->fixed = fixed;
	job->solve = solve;
	job->gmat = gmat;
	job->kern = RecoKernelsFor(cfg->factors);
	job->k = cfg->factors;
	job->alpha = cfg->alpha;
	job->regularization = cfg->regularization;
	job->reg_exponent = cfg->reg_exponent;
	job->unobserved_weight = cfg->unobserved_weight;
	job->cg_steps = cfg->cg_steps;
}

/* Validates the parts of a config every entry point needs. */
static bool
RecoConfigOk(const RecoAlsConfig *cfg)
{
	return cfg != NULL && cfg->factors >= RECO_MIN_FACTORS &&
		cfg->factors <= RECO_MAX_FACTORS && cfg->cg_steps >= 0 &&
		isfinite(cfg->reg_exponent) && cfg->reg_exponent >= 0.0f &&
		isfinite(cfg->unobserved_weight) && cfg->unobserved_weight >= 0.0f &&
		cfg->cg_steps <= RECO_MAX_CG_STEPS &&
		(cfg->solver == RECO_SOLVER_CG || cfg->solver == RECO_SOLVER_CHOLESKY);
}

/*
 * The sorted distinct columns the rows use, in *cols_out (malloc'd), when
 * they are fewer than a quarter of the fixed side's rows (a refresh or a
 * fold-in of a few rows); else returns -1 and *cols_out is NULL.
 */
static int64_t
RecoUsedColumns(const RecoSparse *rows, int32_t **cols_out)
{
	int64_t		nnz = rows->indptr[rows->n_rows];
	int64_t		i,
				n = 0;
	int32_t    *cols;
	unsigned char *used;

	*cols_out = NULL;
	if (nnz >= rows->n_cols / 4)
		return -1;
	used = calloc((size_t) rows->n_cols, 1);
	cols = malloc(sizeof(int32_t) * (size_t) (nnz > 0 ? nnz : 1));
	if (used == NULL || cols == NULL)
	{
		free(used);
		free(cols);
		return -1;
	}
	for (i = 0; i < nnz; i++)
		used[rows->indices[i]] = 1;
	for (i = 0; i < rows->n_cols; i++)
		if (used[i])
			cols[n++] = (int32_t) i;
	free(used);
	*cols_out = cols;
	return n;
}

/*
 * Prepares the short-row path of an exact side solve: U from gmat and
 * Z = rows U⁻ᵀ y of the fixed side (runner tasks) — only the rows of the
 * columns the rows use when they are few (RecoUsedColumns; a Z row does not
 * depend on which others are computed, so the results are the same).  On return *U_out and
 * *Z_out are both set, or both NULL when G is not positive definite or
 * memory is short (every row then takes the explicit-system path); any
 * other non-OK status (a stop) frees them.
 */
static RecoStatus
RecoShortRowSetup(const RecoSparse *rows, const float *fixed, const float *gmat,
				  const RecoAlsConfig *cfg, const RecoHooks *hooks,
				  const RecoRowsReady *ready, double **U_out, float **Z_out)
{
	int			k = cfg->factors;
	void	   *umem = NULL,
			   *zmem = NULL;
	RecoSparse	zrows = {rows->n_cols, 0, NULL, NULL, NULL};
	RecoJob		job;
	RecoStatus	st;
	int32_t    *zcols;
	int64_t		n_used;

	*U_out = NULL;
	*Z_out = NULL;
	if (posix_memalign(&umem, RECO_CACHE_LINE, sizeof(double) * 2 * k * k) != 0)
		return RECO_STATUS_OK;
	if (!RecoGramFactor(RecoKernelsFor(k), k, gmat, (double *) umem) ||
		posix_memalign(&zmem, RECO_CACHE_LINE,
					   sizeof(float) * (size_t) (rows->n_cols > 0 ? rows->n_cols : 1) * k) != 0)
	{
		free(umem);
		return RECO_STATUS_OK;
	}
	n_used = RecoUsedColumns(rows, &zcols);
	if (n_used >= 0)
		zrows.n_rows = n_used;
	RecoJobInit(&job, RECO_JOB_ZROWS, &zrows, fixed, NULL, gmat, cfg);
	job.U = (const double *) umem;
	/*
	 * Huge pages only for a Z written whole: a few rows of a large Z would
	 * each fault in a whole 2 MB page (RSS and zeroing for nothing).
	 */
	if (n_used < 0)
		RecoAdviseHugePages(zmem, sizeof(float) * (size_t) (rows->n_cols > 0 ? rows->n_cols : 1) * k);
	job.Z = (float *) zmem;
	job.zcols = zcols;
	job.ready = ready;			/* no row solved yet: the caller may do its other work */
	st = zrows.n_rows > 0 ? RecoJobRun(&job, cfg->threads, hooks) : RECO_STATUS_OK;
	free(zcols);
	if (st != RECO_STATUS_OK)
	{
		free(umem);
		free(zmem);
		/* Z is incomplete: short of memory, every row takes the explicit path (it needs less) */
		return st == RECO_STATUS_NO_MEMORY && !job.ready_failed ? RECO_STATUS_OK : st;
	}
	*U_out = (double *) umem;
	*Z_out = (float *) zmem;
	return RECO_STATUS_OK;
}

/* ------------------------------------------------------------------------
 * Exported functions
 * ------------------------------------------------------------------------
 */

/* λ·(n + α0·N)^ν in double, rounded to float; λ itself when ν is 0. */
float
RecoAlsRowLambda(float regularization, float reg_exponent,
				 float unobserved_weight, int64_t n_fixed, int64_t n)
{
	if (reg_exponent == 0.0f)
		return regularization;
	return (float) ((double) regularization *
					RecoNormWeight(reg_exponent, unobserved_weight, n_fixed, n));
}

/*
 * The shared matrix of a side's rows from gram = YᵀY in place: α0·YᵀY, plus
 * λI when ν is 0 (with ν > 0 each row adds its own λ_u, RecoRowRidge).  The
 * one routine behind the batch and the single rows, so they agree bit for bit.
 */
static void
RecoSharedMatrix(float *gram, int k, float regularization, float reg_exponent,
				 float unobserved_weight)
{
	size_t		i;
	int			j;

	for (i = 0; i < (size_t) k * k; i++)
		gram[i] *= unobserved_weight;
	for (j = 0; reg_exponent == 0.0f && j < k; j++)
		gram[(size_t) j * k + j] += regularization;
}

/* Rows r0 .. r1 − 1 of the initial factors from base = the (seed, stream) key (RecoAlsInitFactors). */
static void
RecoInitRows(float *factors, int64_t r0, int64_t r1, int k, const int64_t *ids,
			 uint64_t base)
{
	int64_t		r;
	int			j;

	for (r = r0; r < r1; r++)
	{
		uint64_t	h = RecoSplitMix64(base ^ (uint64_t) ids[r]);
		float	   *row = factors + (size_t) r * k;

		for (j = 0; j < k; j++)
		{
			uint64_t	bits = RecoSplitMix64(h + (uint64_t) j);
			float		v = (float) (bits >> (64 - RECO_INIT_BITS)) *
				(1.0f / (float) (1 << RECO_INIT_BITS)) * RECO_INIT_SCALE;

			if (v >= RECO_INIT_SCALE)
				v = nextafterf(RECO_INIT_SCALE, 0.0f);
			row[j] = v;
		}
	}
}

/* The (seed, stream) key of the initial factors. */
static uint64_t
RecoInitBase(uint64_t seed, uint64_t stream)
{
	return RecoSplitMix64(RecoSplitMix64(seed) ^ stream);
}

/* Deterministic uniform [0, RECO_INIT_SCALE) initial factors keyed by (seed, stream, id, j). */
void
RecoAlsInitFactors(float *factors, int64_t n, int k, const int64_t *ids,
				   uint64_t seed, uint64_t stream)
{
	RecoInitRows(factors, 0, n, k, ids, RecoInitBase(seed, stream));
}

/* What the tasks of RecoAlsInitFactorsThreaded share. */
typedef struct RecoInitJob
{
	float	   *factors;
	int64_t		n;
	int			k;
	const int64_t *ids;
	uint64_t	base;
} RecoInitJob;

/* Runner task: rows task·RECO_INIT_TASK_ROWS .. of the initial factors. */
static RecoStatus
RecoInitTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	const RecoInitJob *job = (const RecoInitJob *) arg;
	int64_t		r0 = task * RECO_INIT_TASK_ROWS;

	(void) state;
	(void) worker;
	RecoInitRows(job->factors, r0, r0 + RECO_INIT_TASK_ROWS < job->n ? r0 + RECO_INIT_TASK_ROWS : job->n,
				 job->k, job->ids, job->base);
	return RECO_STATUS_OK;
}

/*
 * RecoAlsInitFactors on the thread runner (training's X and Y: the values
 * depend only on (seed, stream, id, j), so they are the same bits whatever
 * the threads); the runner polls the hooks between tasks.
 */
RecoStatus
RecoAlsInitFactorsThreaded(float *factors, int64_t n, int k, const int64_t *ids,
						   uint64_t seed, uint64_t stream, int threads,
						   const RecoHooks *hooks)
{
	RecoInitJob init = {factors, n, k, ids, RecoInitBase(seed, stream)};
	RecoParallelJob pj = {
		.n_tasks = (n + RECO_INIT_TASK_ROWS - 1) / RECO_INIT_TASK_ROWS,
		.threads = threads,
		.run_task = RecoInitTask,
		.arg = &init,
		.hooks = hooks
	};

	if (n <= 0)
		return RECO_STATUS_OK;
	return RecoParallelRun(&pj);
}

/* Whether a side solve's arguments are usable. */
static bool
RecoSolveArgsOk(const RecoSparse *rows, const float *fixed, const float *solve,
				const RecoAlsConfig *cfg)
{
	return RecoConfigOk(cfg) && rows != NULL && rows->n_rows >= 0 &&
		rows->n_cols >= 0 && !(rows->n_rows > 0 && (solve == NULL || rows->indptr == NULL)) &&
		!(rows->n_cols > 0 && fixed == NULL);
}

/*
 * Whether the CG passes of this side solve read the fixed side rounded
 * to half (job->half, with job->fixed_h its malloc'd half copy, n_cols x k:
 * RecoFloatToHalf's bits, as every other half copy): only if every value is
 * finite and within half's range (|y| < RECO_HALF_OVERFLOW), checked here
 * once per side solve so that every row of the solve takes the same path;
 * else (or for an empty side) the float passes.  Polls should_stop between
 * blocks.  A copy among the fixed side's kept products is borrowed instead
 * (RecoFixedHalfRelease gives back only what this took).
 */
static RecoStatus
RecoFixedHalf(RecoJob *job, const RecoHooks *hooks)
{
	int64_t		total = job->rows->n_cols * (int64_t) job->k,
				j0;
	bool		ok = total > 0;
	uint16_t   *h;
	size_t		cap;
	const RecoSideProducts *sp = RecoProductsOf(job->fixed, job->rows->n_cols, job->k);

	job->half = false;
	job->fixed_h = NULL;
	job->fixed_h_borrowed = false;
	if (!ok)
		return RECO_STATUS_OK;
	if (sp != NULL && sp->half != NULL)
	{
		/* formed while the solve that wrote the fixed side ran: borrowed */
		job->half = sp->half_ok;
		job->fixed_h = sp->half_ok ? sp->half : NULL;
		job->fixed_h_borrowed = true;
		return RECO_STATUS_OK;
	}
	h = (uint16_t *) RecoHalfBufferTake(sizeof(uint16_t) * (size_t) total, &cap);
	if (h == NULL)
		return RECO_STATUS_NO_MEMORY;
	for (j0 = 0; ok && j0 < total; j0 += RECO_HALF_BLOCK_VALUES)
	{
		int64_t		nb = total - j0 < RECO_HALF_BLOCK_VALUES ? total - j0 : RECO_HALF_BLOCK_VALUES;

		ok = job->kern->to_half(nb, job->fixed + j0, h + j0);
		if (hooks != NULL && hooks->should_stop != NULL &&
			hooks->should_stop(hooks->arg))
		{
			RecoHalfBufferGive(h, cap);
			return RECO_STATUS_STOPPED;
		}
	}
	if (!ok)
	{
		RecoHalfBufferGive(h, cap);
		return RECO_STATUS_OK;
	}
	job->half = true;
	job->fixed_h = h;
	job->fixed_h_bytes = cap;
	return RECO_STATUS_OK;
}

/* Gives back the half copy's buffer RecoFixedHalf took (not one it borrowed). */
static void
RecoFixedHalfRelease(RecoJob *job)
{
	if (!job->fixed_h_borrowed)
		RecoHalfBufferGive(job->fixed_h, job->fixed_h_bytes);
	job->fixed_h = NULL;
}

/*
 * Solves every row given gmat = YᵀY (k x k, aligned, malloc'd: this turns it
 * into the shared matrix and frees it), on the thread runner, each row
 * toward its prior mean when prior (n_rows x k) is not NULL.  With ν > 0 no
 * row takes the short-row path, so U and Z are not computed.  With loss_rows
 * (CG only), each row also writes there the loss terms of the x it starts
 * from.  With ready (not NULL), the calling thread is
 * told the rows solved so far between its tasks (RecoJobCallerWork).
 */
static RecoStatus
RecoSolveWithGram(const RecoSparse *rows, const float *fixed, float *solve,
				  const RecoAlsConfig *cfg, const RecoHooks *hooks, float *gmat,
				  const float *prior, double *loss_rows, const RecoRowsReady *ready)
{
	RecoJob		job;
	RecoStatus st;

	RecoSharedMatrix(gmat, cfg->factors, cfg->regularization, cfg->reg_exponent,
					 cfg->unobserved_weight);
	RecoJobInit(&job, cfg->solver == RECO_SOLVER_CHOLESKY ? RECO_JOB_CHOLESKY : RECO_JOB_CG,
				rows, fixed, solve, gmat, cfg);
	job.prior = prior;
	job.loss_rows = loss_rows;
	job.ready = ready;
	RecoProductsForget(solve);	/* stale from here on */
	st = RECO_STATUS_OK;
	if (cfg->solver == RECO_SOLVER_CHOLESKY && cfg->reg_exponent == 0.0f)
	{
		double	   *U;
		float	   *Z;

		st = RecoShortRowSetup(rows, fixed, gmat, cfg, hooks, ready, &U, &Z);
		job.U = st == RECO_STATUS_OK ? U : NULL;
		job.Z = st == RECO_STATUS_OK ? Z : NULL;
	}
	if (st == RECO_STATUS_OK && RecoCgHalf(cfg))
		st = RecoFixedHalf(&job, hooks);
	if (st == RECO_STATUS_OK && cfg->solver == RECO_SOLVER_CG)
		job.forming = RecoProductsStart(solve, fixed, rows->n_rows, cfg->factors, RecoCgHalf(cfg));
	if (st == RECO_STATUS_OK)
		st = RecoJobRun(&job, cfg->threads, hooks);
	if (job.forming != NULL && st == RECO_STATUS_OK)
		st = RecoProductsFinish(job.forming, job.kern, hooks);
	else if (job.forming != NULL)
		RecoProductsDrop(job.forming);
	RecoFixedHalfRelease(&job);
	free(job.Z);
	free((void *) job.U);
	free(gmat);
	return st;
}

/* Solves every row of one side (CG or Cholesky), all threads, polling hooks. */
RecoStatus
RecoAlsSolveSide(const RecoSparse *rows, const float *fixed, float *solve,
				 const RecoAlsConfig *cfg, const RecoHooks *hooks)
{
	return RecoAlsSolveSidePrior(rows, fixed, solve, cfg, hooks, NULL);
}

/* A side solve from its arguments: YᵀY, then RecoSolveWithGram (prior and ready as there). */
static RecoStatus
RecoSolveSideFrom(const RecoSparse *rows, const float *fixed, float *solve,
				  const RecoAlsConfig *cfg, const RecoHooks *hooks,
				  const float *prior, const RecoRowsReady *ready)
{
	float	   *gmat;
	RecoStatus st;

	if (!RecoSolveArgsOk(rows, fixed, solve, cfg))
		return RECO_STATUS_INVALID_ARGUMENT;
	if (rows->n_rows == 0)
		return RECO_STATUS_OK;
	st = RecoGramNew(fixed, rows->n_cols, cfg->factors, hooks, &gmat);
	if (st != RECO_STATUS_OK)
		return st;
	return RecoSolveWithGram(rows, fixed, solve, cfg, hooks, gmat, prior, NULL, ready);
}

/* RecoAlsSolveSide with each row's ridge centered on its prior mean (NULL: on 0). */
RecoStatus
RecoAlsSolveSidePrior(const RecoSparse *rows, const float *fixed, float *solve,
					  const RecoAlsConfig *cfg, const RecoHooks *hooks,
					  const float *prior)
{
	return RecoSolveSideFrom(rows, fixed, solve, cfg, hooks, prior, NULL);
}

/* The Cholesky side solve, telling `ready` the rows solved so far as it goes (als.h). */
RecoStatus
RecoAlsSolveSideReady(const RecoSparse *rows, const float *fixed, float *solve,
					  const RecoAlsConfig *cfg, const RecoHooks *hooks,
					  const RecoRowsReady *ready)
{
	if (cfg == NULL || cfg->solver != RECO_SOLVER_CHOLESKY || ready == NULL || ready->fn == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	return RecoSolveSideFrom(rows, fixed, solve, cfg, hooks, NULL, ready);
}

/* The Cholesky side solve with a given gram = YᵀY: RecoAlsSolveRowExact of every row, threaded. */
RecoStatus
RecoAlsSolveRowsExact(const RecoSparse *rows, const float *gram, const float *fixed,
					  float *solve, const RecoAlsConfig *cfg, const RecoHooks *hooks)
{
	RecoAlsConfig exact;
	void	   *mem;

	if (!RecoSolveArgsOk(rows, fixed, solve, cfg) || gram == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	if (rows->n_rows == 0)
		return RECO_STATUS_OK;
	if (posix_memalign(&mem, RECO_CACHE_LINE, sizeof(float) * cfg->factors * cfg->factors) != 0)
		return RECO_STATUS_NO_MEMORY;
	memcpy(mem, gram, sizeof(float) * cfg->factors * cfg->factors);
	exact = *cfg;
	exact.solver = RECO_SOLVER_CHOLESKY;
	return RecoSolveWithGram(rows, fixed, solve, &exact, hooks, (float *) mem, NULL,
							 NULL, NULL);
}

/*
 * s[r] = |y|² of rows r < cnt (<= RECO_SQUARE_ROWS) of Y (k apart), each in
 * double summed over j in order, the rows side by side: independent chains,
 * so each s[r] has the bits of its row summed alone.
 */
static void
RecoRowSquares(const float *Y, int k, int cnt, double *s)
{
	double		acc[RECO_SQUARE_ROWS] = {0};
	int			r,
				j;

	for (j = 0; j < k; j++)
		for (r = 0; r < RECO_SQUARE_ROWS; r++)
		{
			double		v = Y[(size_t) (r < cnt ? r : 0) * k + j];

			acc[r] += v * v;
		}
	for (r = 0; r < cnt; r++)
		s[r] = acc[r];
}

/*
 * implicit's calculate_loss from the sums of a loss job over the user rows
 * (Σ of the rows' loss terms, Σ|c|, Σ (n_u + α0·N)^ν |x_u|²): adds the item
 * side's Σ (n_i + α0·M)^ν |y_i|² (|Y|² when ν is 0; in double, on this
 * thread, polling should_stop) and divides by the confidence total.
 */
static RecoStatus
RecoLossFinish(const RecoSparse *users, const float *Y, const RecoAlsConfig *cfg,
			   const RecoHooks *hooks, const double *sums, double *loss_out)
{
	double		inorm = 0.0,
				loss,
				denom;
	double		a0 = cfg->unobserved_weight;
	int64_t		i,
				nnz = users->n_rows > 0 ? users->indptr[users->n_rows] : 0;
	int64_t    *counts = NULL;
	int			k = cfg->factors;

	/* with ν > 0 an item's ridge weight needs its number of users */
	if (cfg->reg_exponent != 0.0f)
	{
		counts = calloc((size_t) (users->n_cols > 0 ? users->n_cols : 1), sizeof(int64_t));
		if (counts == NULL)
			return RECO_STATUS_NO_MEMORY;
		for (i = 0; i < nnz; i++)
			counts[users->indices[i]]++;
	}
	for (i = 0; i < users->n_cols; i += RECO_SQUARE_ROWS)
	{
		double		s[RECO_SQUARE_ROWS];
		int			r,
					cnt = users->n_cols - i < RECO_SQUARE_ROWS ? (int) (users->n_cols - i) : RECO_SQUARE_ROWS;

		RecoRowSquares(Y + (size_t) i * k, k, cnt, s);
		for (r = 0; r < cnt; r++)
		{
			if (counts != NULL)
				s[r] *= RecoNormWeight(cfg->reg_exponent, cfg->unobserved_weight,
									   users->n_rows, counts[i + r]);
			inorm += s[r];
		}
		if ((i / RECO_SQUARE_ROWS + 1) % (RECO_LOSS_POLL_ROWS / RECO_SQUARE_ROWS) == 0 && hooks != NULL &&
			hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
		{
			free(counts);
			return RECO_STATUS_STOPPED;
		}
	}
	free(counts);

	loss = sums[0] + (double) cfg->regularization * (sums[2] + inorm);
	denom = sums[1] + a0 * ((double) users->n_rows * (double) users->n_cols) - a0 * (double) nnz;
	*loss_out = loss / denom;
	if (!isfinite(*loss_out))
		return RECO_STATUS_NOT_FINITE;
	return RECO_STATUS_OK;
}

/* Whether a loss's arguments are usable. */
static bool
RecoLossArgsOk(const RecoSparse *users, const RecoAlsConfig *cfg,
			   const double *loss_out)
{
	return RecoConfigOk(cfg) && users != NULL && loss_out != NULL &&
		users->n_rows >= 0 && users->n_cols >= 0;
}

/* implicit's calculate_loss for the user side, deterministic, in double. */
RecoStatus
RecoAlsLoss(const RecoSparse *users, const float *X, const float *Y,
			const RecoAlsConfig *cfg, const RecoHooks *hooks,
			double *loss_out)
{
	RecoJob		job;
	float	   *gram;
	RecoStatus st;

	if (!RecoLossArgsOk(users, cfg, loss_out))
		return RECO_STATUS_INVALID_ARGUMENT;
	st = RecoGramNew(Y, users->n_cols, cfg->factors, hooks, &gram);
	if (st != RECO_STATUS_OK)
		return st;
	/* the shared matrix G of the users' solve (RecoLossRowStart); X is only read */
	RecoSharedMatrix(gram, cfg->factors, cfg->regularization, cfg->reg_exponent,
					 cfg->unobserved_weight);
	RecoJobInit(&job, RECO_JOB_LOSS, users, Y, (float *) X, gram, cfg);
	/* y·x as the CG user step forms it: from Y's half copy when its passes read half */
	if (users->n_rows > 0 && RecoCgHalf(cfg))
		st = RecoFixedHalf(&job, hooks);
	if (users->n_rows > 0 && st == RECO_STATUS_OK)
		st = RecoJobRun(&job, cfg->threads, hooks);
	RecoFixedHalfRelease(&job);
	free(gram);
	if (st != RECO_STATUS_OK)
		return st;
	return RecoLossFinish(users, Y, cfg, hooks, job.sums, loss_out);
}

/*
 * The CG side solve that also gives RecoAlsLoss(rows, solve, fixed) of the
 * rows' starting factors: the residual of each row forms G x and reads its
 * y·x, which are all the loss terms need (RecoLossRowStart, RecoLossEntries);
 * every row's terms go to an n_rows x 3 array summed as the loss job sums
 * them (RecoSumLossRows).  Other solvers compute the loss first.
 */
RecoStatus
RecoAlsSolveSideLoss(const RecoSparse *rows, const float *fixed, float *solve,
					 const RecoAlsConfig *cfg, const RecoHooks *hooks,
					 double *loss_out)
{
	RecoJob		sum;
	float	   *gmat;
	double	   *terms;
	size_t		terms_cap;
	RecoStatus st;

	if (loss_out == NULL)
		return RecoAlsSolveSide(rows, fixed, solve, cfg, hooks);
	if (!RecoSolveArgsOk(rows, fixed, solve, cfg))
		return RECO_STATUS_INVALID_ARGUMENT;
	if (cfg->solver != RECO_SOLVER_CG || rows->n_rows == 0)
	{
		st = RecoAlsLoss(rows, solve, fixed, cfg, hooks, loss_out);
		return st != RECO_STATUS_OK ? st : RecoAlsSolveSide(rows, fixed, solve, cfg, hooks);
	}
	st = RecoGramNew(fixed, rows->n_cols, cfg->factors, hooks, &gmat);
	if (st != RECO_STATUS_OK)
		return st;
	terms = (double *) RecoKeptTake(&reco_terms_kept, sizeof(double) * 3 * (size_t) rows->n_rows, &terms_cap);
	if (terms == NULL)
	{
		free(gmat);
		return RECO_STATUS_NO_MEMORY;
	}
	st = RecoSolveWithGram(rows, fixed, solve, cfg, hooks, gmat, NULL, terms, NULL);
	RecoJobInit(&sum, RECO_JOB_LOSS, rows, fixed, NULL, NULL, cfg);
	if (st == RECO_STATUS_OK)
		st = RecoSumLossRows(&sum, terms);
	RecoKeptGive(&reco_terms_kept, terms, terms_cap);
	if (st != RECO_STATUS_OK)
		return st;
	return RecoLossFinish(rows, fixed, cfg, hooks, sum.sums, loss_out);
}

/* What an exact single-row computation needs: the shared G, its factor, scratch, row context. */
typedef struct RecoExactRow
{
	RecoScratch scratch;
	RecoRowCtx	ctx;
	float	   *greg;
	double	   *U;
} RecoExactRow;

/* Sets up an exact single-row computation; false if k is out of range or memory is short. */
static bool
RecoExactRowInit(RecoExactRow *er, const float *gram, const float *fixed, int k,
				 const RecoAlsRowParams *rp)
{
	void	   *mem;

	if (k < 1 || k > RECO_MAX_FACTORS || rp == NULL || rp->n_fixed < 0 ||
		!isfinite(rp->reg_exponent) || rp->reg_exponent < 0.0f ||
		!isfinite(rp->unobserved_weight) || rp->unobserved_weight < 0.0f)
		return false;
	if (posix_memalign(&mem, RECO_CACHE_LINE, sizeof(float) * k * k) != 0)
		return false;
	er->greg = (float *) mem;
	if (posix_memalign(&mem, RECO_CACHE_LINE, sizeof(double) * 2 * k * k) != 0)
	{
		free(er->greg);
		return false;
	}
	er->U = (double *) mem;
	if (!RecoScratchAlloc(&er->scratch, k, 0, false))
	{
		free(er->U);
		free(er->greg);
		return false;
	}
	memcpy(er->greg, gram, sizeof(float) * k * k);
	RecoSharedMatrix(er->greg, k, rp->regularization, rp->reg_exponent,
					 rp->unobserved_weight);
	er->ctx.kern = RecoKernelsFor(k);
	er->ctx.k = k;
	er->ctx.G = er->greg;
	er->ctx.Y = fixed;
	er->ctx.half = false;
	er->ctx.Yh = NULL;
	/* as the batch: short rows use U when ν is 0 and G factors, z rows computed per row */
	er->ctx.U = rp->reg_exponent == 0.0f &&
		RecoGramFactor(er->ctx.kern, k, er->greg, er->U) ? er->U : NULL;
	er->ctx.Z = NULL;
	er->ctx.alpha = rp->alpha;
	er->ctx.regularization = rp->regularization;
	er->ctx.reg_exponent = rp->reg_exponent;
	er->ctx.unobserved_weight = rp->unobserved_weight;
	er->ctx.n_fixed = rp->n_fixed;
	er->ctx.cg_steps = 0;
	er->ctx.prior = NULL;
	er->ctx.loss_rows = NULL;
	er->ctx.s = &er->scratch;
	er->ctx.worker = NULL;
	return true;
}

/* Frees what RecoExactRowInit allocated. */
static void
RecoExactRowFree(RecoExactRow *er)
{
	free(er->scratch.mem);
	free(er->U);
	free(er->greg);
}

/* Exact single-row solve sharing the Cholesky side-solve code path. */
bool
RecoAlsSolveRowExact(const float *gram, const float *fixed, int k,
					 const int32_t *indices, const float *weights, int64_t n,
					 const RecoAlsRowParams *rp, float *x_out)
{
	RecoExactRow er;
	RecoStatus st;

	if (n < 0 || !RecoExactRowInit(&er, gram, fixed, k, rp))
		return false;
	st = RecoCholeskyRow(&er.ctx, indices, weights, n, x_out);
	RecoExactRowFree(&er);
	return st == RECO_STATUS_OK;
}

/*
 * Decomposes target · x, x being the exact solve of the row, into one term
 * per entry: with A the row's system and b = Σ c⁺ y, x = A⁻¹b, so
 * target · x = Σ c⁺ (A⁻¹ target) · y (A is symmetric); term i goes to
 * contrib_out[i] (0 for entries with c <= 0).  Computed in double.  A short
 * row is split with the factors of its solve (RecoShortRowGram, RecoShortRowApply):
 * y_i · A⁻¹ t = y_i · U⁻¹ (I + Z_wᵀ D Z_w)⁻¹ U⁻ᵀ t.
 */
bool
RecoAlsExplainRow(const float *gram, const float *fixed, int k,
				  const int32_t *indices, const float *weights, int64_t n,
				  const RecoAlsRowParams *rp, const float *target,
				  double *contrib_out)
{
	RecoExactRow er;
	RecoScratch *s;
	bool		ok = true;
	float		alpha;
	int64_t		i;

	if (n < 0 || !RecoExactRowInit(&er, gram, fixed, k, rp))
		return false;
	s = &er.scratch;
	alpha = rp->alpha;
	if (RecoShortRowEligible(&er.ctx, weights, n))
	{
		double	   *v = s->lane[0].v;
		int			j;

		for (j = 0; j < k; j++)
			v[j] = target[j];
		er.ctx.kern->forward(k, er.U, v);
		/* then v ← U⁻¹ (I + Z_wᵀ D Z_w)⁻¹ v: y_i · v is y_i · A⁻¹ target */
		ok = RecoShortRowGram(&er.ctx, &s->lane[0], indices, weights, n) == RECO_STATUS_OK &&
			RecoShortRowApply(&er.ctx) == RECO_STATUS_OK;
		for (i = 0; ok && i < n; i++)
		{
			float		conf = alpha * weights[i];
			const float *y = fixed + (size_t) indices[i] * k;
			double		dot = 0.0;

			for (j = 0; j < k; j++)
				dot += v[j] * y[j];
			contrib_out[i] = conf > 0 ? conf * dot : 0.0;
			ok = isfinite(contrib_out[i]);
		}

		RecoExactRowFree(&er);
		return ok;
	}
	if (n > 0)
	{
		ok = RecoExplicitSystem(&er.ctx, indices, weights, n) == RECO_STATUS_OK &&
			er.ctx.kern->chol_solve(k, s->A, target, s->L, s->z, s->r);
	}
	for (i = 0; ok && i < n; i++)
	{
		float		conf = alpha * weights[i];
		const float *y = fixed + (size_t) indices[i] * k;
		double		dot = 0.0;
		int			j;

		for (j = 0; j < k; j++)
			dot += (double) s->r[j] * y[j];
		contrib_out[i] = conf > 0 ? conf * dot : 0.0;
	}
	RecoExactRowFree(&er);
	return ok;
}

/*
 * The Cholesky factor of one row's exact system: builds A = α0·YᵀY + λ_u I +
 * Σ (|c| − α0) y yᵀ with the explicit-system routine of the solves (every
 * row, short or not: the matrix is the one both paths solve) and factors it
 * as UᵀU with the kernels' factorization (RecoGramFactor); the lower
 * triangle of U_out is zeroed.
 */
bool
RecoAlsRowFactor(const float *gram, const float *fixed, int k,
				 const int32_t *indices, const float *weights, int64_t n,
				 const RecoAlsRowParams *rp, double *U_out)
{
	int			i,
				l;
	bool		ok;
	RecoExactRow er;

	if (n < 0 || !RecoExactRowInit(&er, gram, fixed, k, rp))
		return false;
	ok = RecoExplicitSystem(&er.ctx, indices, weights, n) == RECO_STATUS_OK &&
		RecoGramFactor(er.ctx.kern, k, er.scratch.A, er.U);
	for (i = 0; ok && i < k; i++)
		for (l = 0; l < k; l++)
			U_out[(size_t) i * k + l] = l >= i ? er.U[(size_t) i * k + l] : 0.0;
	RecoExactRowFree(&er);
	return ok;
}

/* gram = YᵀY (full symmetric), blocked exactly as the side solves do. */
void
RecoAlsGram(const float *fixed, int64_t n, int k, float *gram)
{
	(void) RecoGramBlocked(fixed, n, k, gram, NULL);
}

/*
 * The job tables' term of RecoAlsScratchBytes (room for two jobs' chunks
 * and loss partials) also covers a CG job's chunks together with its
 * windowed rows: their sort array, list and block offsets.
 */
_Static_assert((sizeof(RecoChunk) + sizeof(int32_t) + sizeof(int64_t)) *
			   (RECO_WINDOW_MAX_ROWS + 1) + sizeof(RecoChunk) * RECO_MAX_CHUNKS <=
			   (sizeof(RecoChunk) + 3 * sizeof(double)) * (2 * RECO_MAX_CHUNKS + 2),
			   "the job tables' estimate covers the windowed rows");

/* ... and an exact job's chunks with their done flags and end rows (RecoJobReadySetup). */
_Static_assert((sizeof(RecoChunk) + 1 + sizeof(int64_t)) * (RECO_MAX_CHUNKS + 2) <=
			   (sizeof(RecoChunk) + 3 * sizeof(double)) * (2 * RECO_MAX_CHUNKS + 2),
			   "the job tables' estimate covers the done flags");

/*
 * Upper estimate of the scratch bytes one SolveSide/Loss call allocates,
 * with either solver (training ends with an exact pass whatever its solver):
 * per-thread work areas, the chunk table and the windowed rows, YᵀY, and the exact pass's factor
 * U and its n_fixed x k rows Z.
 */
size_t
RecoAlsScratchBytes(const RecoAlsConfig *cfg, int64_t max_row_nnz,
					int64_t n_fixed)
{
	int			k = cfg->factors;
	size_t		per_thread,
				half;
	int			threads;

	if (k < 1)
		k = 1;
	threads = RecoParallelThreads(cfg->threads, INT64_MAX);
	per_thread = RecoScratchSize(k, RecoGatherCap(cfg->solver == RECO_SOLVER_CG,
												  k, max_row_nnz, false), false);
	half = RecoScratchSize(k, RecoGatherCap(cfg->solver == RECO_SOLVER_CG,
											k, max_row_nnz, true), true);
	/* the half path's gather buffer (a solve whose fixed side is out of half's range reads float) */
	if (RecoCgHalf(cfg) && half > per_thread)
		per_thread = half;
	per_thread += RECO_CACHE_LINE;
	return per_thread * (size_t) threads +
		RecoParallelBytes(threads, sizeof(RecoScratch)) +
		sizeof(float) * (size_t) k * k + RECO_CACHE_LINE +	/* gram */
		sizeof(double) * 2 * (size_t) k * k + RECO_CACHE_LINE +	/* U, Uᵀ */
		sizeof(float) * (size_t) (n_fixed > 0 ? n_fixed : 1) * k + RECO_CACHE_LINE +	/* Z */
		(sizeof(RecoChunk) + 3 * sizeof(double)) *
		(size_t) (2 * RECO_MAX_CHUNKS + 2);
}

/*
 * Bytes the CG solves of a training hold beyond RecoAlsScratchBytes(cfg,
 * ..., n_fixed): RecoAlsSolveSideLoss's rows' loss terms (3 doubles a row),
 * both sides' kept products (YᵀY and, with the half A·p passes, the half
 * copy: one side's read while the other's form, held with the loss terms
 * in the user step), less the exact pass's U and Z that estimate counts,
 * which a CG solve never holds at the same time (the sum's chunk table fits
 * the job tables' term once the solve's are freed).
 */
size_t
RecoAlsSolveLossBytes(const RecoAlsConfig *cfg, int64_t n_rows, int64_t n_fixed)
{
	int			k = cfg->factors < 1 ? 1 : cfg->factors;
	bool		half = RecoCgHalf(cfg);
	size_t		rows = (size_t) (n_rows > 0 ? n_rows : 1),
				fixed = (size_t) (n_fixed > 0 ? n_fixed : 1);
	/* the loss terms and both sides' products */
	size_t		held = sizeof(double) * 3 * rows +
		RECO_PRODUCT_SLOTS * (sizeof(float) * (size_t) k * k + RECO_CACHE_LINE) +
		(half ? sizeof(uint16_t) * (rows + fixed) * k + 2 * RECO_CACHE_LINE : 0);
	size_t		exact = sizeof(double) * 2 * (size_t) k * k +
		sizeof(float) * fixed * k;

	return held > exact ? held - exact : 0;
}
