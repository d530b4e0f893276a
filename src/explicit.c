/*-------------------------------------------------------------------------
 *
 * explicit.c
 *	  Explicit-ratings ALS with biases (ALS-WR): the side solves, the
 *	  training RMSE, the initial factors and the stored vectors.
 *
 * A half-iteration solves, for every row u of a sparse matrix of ratings,
 * the (k + 1)-dimensional ridge regression
 *
 *		(Σ_i ỹ_i ỹ_iᵀ + λ·n_u^ν I) [x_u, b_u] = Σ_i (r_ui − μ − b_i) ỹ_i,
 *		ỹ_i = [y_i, 1],
 *
 * over the row's n_u observed ratings only, with the other side (y_i, b_i)
 * fixed; the item side is the same with the roles swapped.  The system is
 * padded to the row stride D = RecoExplicitStride(k) (a multiple of 8, so
 * the AVX2 rank-K kernel of kernels.h builds it from blocks of gathered
 * rows; the padding dimensions have a unit diagonal, zero right-hand side
 * and so a zero solution) and solved by the kernels' Cholesky in double.
 *
 * Threads and determinism: rows are cut into chunks of consecutive rows of
 * about equal estimated cost (boundaries depend only on the data and k),
 * which are the runner's tasks (parallel.h); a row's result depends only on
 * its own ratings and the fixed side, so the factors are bit-identical for
 * any thread count, and the RMSE adds per-chunk partial sums in chunk order.
 * Every worker polls the runner's stop flag before each row; the calling
 * thread asks the cancellation hook before each of its chunks (the runner).
 * Memory: the chunk table, the partials and the per-thread scratch are
 * malloc'ed on the calling thread and freed before return.
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* posix_memalign */
#endif

#include "explicit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Ratings gathered per rank-K update of a row's system. */
#define RECO_EXPLICIT_BLOCK 128
/* Target estimated cost of one chunk, in multiply-adds. */
#define RECO_EXPLICIT_CHUNK_COST 4.0e6
/* Upper bound on the number of chunks of one call. */
#define RECO_EXPLICIT_MAX_CHUNKS 65536
/* Alignment of scratch buffers (a cache line). */
#define RECO_EXPLICIT_ALIGN 64

/* What one side solve or RMSE pass shares with its tasks. */
typedef struct RecoExplicitJob
{
	const RecoSparse *rows;
	const float *fixed;			/* the fixed side (n_cols rows of stride D) */
	float	   *solve;			/* the solved side, or NULL (RMSE) */
	const float *own;			/* RMSE: the rows' own vectors */
	double		mean;
	int			k;
	int			stride;			/* D */
	double		regularization;
	double		reg_exponent;
	const RecoKernels *kern;	/* for D */
	int64_t		n_chunks;
	int64_t    *bounds;			/* n_chunks + 1 row offsets */
	double	   *partials;		/* RMSE: squared errors per chunk */
} RecoExplicitJob;

/* One thread's scratch for the row systems. */
typedef struct RecoExplicitScratch
{
	void	   *mem;
	float	   *gathered;		/* BLOCK x D */
	float	   *A;				/* D x D */
	float	   *b;				/* D */
	float	   *x;				/* D */
	double	   *rhs;			/* D */
	double	   *U;				/* 2 D x D: Cholesky scratch */
	double	   *z;				/* 2 D */
} RecoExplicitScratch;

/* Floats per training row: k + 1 rounded up to a multiple of 8. */
int
RecoExplicitStride(int k)
{
	return (k + 1 + 7) & ~7;
}

/* Mean of every weight of the matrix, in double; 0 for none. */
double
RecoExplicitMean(const RecoSparse *rows)
{
	int64_t		nnz = rows->n_rows > 0 ? rows->indptr[rows->n_rows] : 0;
	double		sum = 0.0;
	int64_t		p;

	for (p = 0; p < nnz; p++)
		sum += rows->weights[p];
	return nnz > 0 ? sum / (double) nnz : 0.0;
}

/* Seeded normal factors, zero bias and padding, per id. */
void
RecoExplicitInit(float *rows, int64_t n, int k, const int64_t *ids,
				 uint64_t seed, uint64_t stream)
{
	int			stride = RecoExplicitStride(k);
	double		scale = RECO_EXPLICIT_INIT_SCALE / sqrt((double) k);
	int64_t		r;
	int			j;

	for (r = 0; r < n; r++)
	{
		RecoRng		rng = RecoRngStart(seed ^ RecoSplitMix64((uint64_t) ids[r]), stream);
		float	   *row = rows + (size_t) r * stride;

		for (j = 0; j < k; j++)
			row[j] = (float) (RecoRngNormal(&rng) * scale);
		for (j = k; j < stride; j++)
			row[j] = 0.0f;
	}
}

/* Estimated multiply-adds of a row of n ratings (chunking only). */
static double
RecoExplicitRowCost(int stride, int64_t n)
{
	double		d = (double) stride;

	return n > 0 ? (double) n * (0.5 * d * d + 2.0 * d) + d * d * d / 6.0 : 1.0;
}

/* Cuts the rows into chunks of about RECO_EXPLICIT_CHUNK_COST; false on malloc failure. */
static bool
RecoExplicitChunks(RecoExplicitJob *job)
{
	const RecoSparse *rows = job->rows;
	double		total = 0.0,
				target,
				acc = 0.0;
	int64_t		u,
				count = 0;

	for (u = 0; u < rows->n_rows; u++)
		total += RecoExplicitRowCost(job->stride, rows->indptr[u + 1] - rows->indptr[u]);
	target = total / RECO_EXPLICIT_MAX_CHUNKS;
	if (target < RECO_EXPLICIT_CHUNK_COST)
		target = RECO_EXPLICIT_CHUNK_COST;
	job->bounds = (int64_t *) malloc(sizeof(int64_t) * (size_t) (rows->n_rows + 2));
	if (job->bounds == NULL)
		return false;
	job->bounds[0] = 0;
	for (u = 0; u < rows->n_rows; u++)
	{
		double		c = RecoExplicitRowCost(job->stride, rows->indptr[u + 1] - rows->indptr[u]);

		if (u > job->bounds[count] && acc + c > target)
		{
			job->bounds[++count] = u;
			acc = 0.0;
		}
		acc += c;
	}
	if (rows->n_rows > job->bounds[count])
		job->bounds[++count] = rows->n_rows;
	job->n_chunks = count;
	return true;
}

/* Runner init_state: one thread's scratch. */
static RecoStatus
RecoExplicitScratchInit(void *arg, void *state, int thread)
{
	RecoExplicitJob *job = (RecoExplicitJob *) arg;
	RecoExplicitScratch *s = (RecoExplicitScratch *) state;
	size_t		d = (size_t) job->stride;
	size_t		floats = RECO_EXPLICIT_BLOCK * d + d * d + 2 * d;
	char	   *m;

	(void) thread;
	if (posix_memalign(&s->mem, RECO_EXPLICIT_ALIGN,
					   sizeof(double) * (d + 2 * d * d + 2 * d) + sizeof(float) * floats) != 0)
	{
		s->mem = NULL;
		return RECO_STATUS_NO_MEMORY;
	}
	m = (char *) s->mem;
	s->U = (double *) m;
	m += sizeof(double) * 2 * d * d;
	s->z = (double *) m;
	m += sizeof(double) * 2 * d;
	s->rhs = (double *) m;
	m += sizeof(double) * d;
	s->A = (float *) m;
	m += sizeof(float) * d * d;
	s->gathered = (float *) m;
	m += sizeof(float) * RECO_EXPLICIT_BLOCK * d;
	s->b = (float *) m;
	m += sizeof(float) * d;
	s->x = (float *) m;
	return RECO_STATUS_OK;
}

/* Runner free_state: frees one thread's scratch. */
static void
RecoExplicitScratchFree(void *arg, void *state, int thread)
{
	(void) arg;
	(void) thread;
	free(((RecoExplicitScratch *) state)->mem);
}

/*
 * Solves one row of n ratings (fixed-side indices idx, ratings w) into
 * out (stride D): builds A and the right-hand side from blocks of gathered
 * ỹ = [y, 1, 0 ...], adds the ridge, Cholesky-solves in double.
 */
static RecoStatus
RecoExplicitRow(const RecoExplicitJob *job, RecoExplicitScratch *s,
				const int32_t *idx, const float *w, int64_t n, float *out)
{
	int			k = job->k;
	int			d = job->stride;
	double		ridge;
	int64_t		b0;
	int			j;

	if (n == 0)
	{
		memset(out, 0, sizeof(float) * d);
		return RECO_STATUS_OK;
	}
	memset(s->A, 0, sizeof(float) * d * d);
	for (j = 0; j < d; j++)
		s->rhs[j] = 0.0;
	for (b0 = 0; b0 < n; b0 += RECO_EXPLICIT_BLOCK)
	{
		int			cnt = (int) (n - b0 < RECO_EXPLICIT_BLOCK ? n - b0 : RECO_EXPLICIT_BLOCK);
		int			t;

		for (t = 0; t < cnt; t++)
		{
			const float *f = job->fixed + (size_t) idx[b0 + t] * d;
			float	   *g = s->gathered + (size_t) t * d;
			double		target = (double) w[b0 + t] - job->mean - (double) f[k];

			memcpy(g, f, sizeof(float) * d);
			g[k] = 1.0f;
			for (j = 0; j <= k; j++)
				s->rhs[j] += target * (double) g[j];
		}
		job->kern->syrk(d, cnt, s->gathered, s->gathered, d, s->A, d);
	}
	ridge = job->regularization * pow((double) n, job->reg_exponent);
	for (j = 0; j < d; j++)
	{
		s->A[(size_t) j * d + j] += j <= k ? (float) ridge : 1.0f;
		s->b[j] = (float) s->rhs[j];
	}
	if (!job->kern->chol_solve(d, s->A, s->b, s->U, s->z, s->x))
	{
		for (j = 0; j < d * d; j++)
			if (!isfinite(s->A[j]))
				return RECO_STATUS_NOT_FINITE;
		return RECO_STATUS_NOT_POSITIVE_DEFINITE;
	}
	for (j = 0; j < d; j++)
	{
		out[j] = j <= k ? s->x[j] : 0.0f;
		if (!isfinite(out[j]))
			return RECO_STATUS_NOT_FINITE;
	}
	return RECO_STATUS_OK;
}

/* The squared errors of one row's ratings against the row's own vector x. */
static double
RecoExplicitRowErrors(const RecoExplicitJob *job, const int32_t *idx, const float *w, int64_t n,
					  const float *x)
{
	int			k = job->k;
	double		sum = 0.0;
	int64_t		p;

	for (p = 0; p < n; p++)
	{
		const float *y = job->fixed + (size_t) idx[p] * job->stride;
		double		err = (double) w[p] - job->mean - (double) x[k] - (double) y[k];
		int			j;

		for (j = 0; j < k; j++)
			err -= (double) x[j] * (double) y[j];
		sum += err * err;
	}
	return sum;
}

/*
 * Runner task: the rows of chunk `task`, each solved into job->solve, or
 * (RMSE, job->solve NULL) its squared errors summed into the chunk's partial.
 */
static RecoStatus
RecoExplicitChunk(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoExplicitJob *job = (RecoExplicitJob *) arg;
	const RecoSparse *rows = job->rows;
	double		sum = 0.0;
	int64_t		u;

	for (u = job->bounds[task]; u < job->bounds[task + 1]; u++)
	{
		int64_t		start = rows->indptr[u];
		int64_t		n = rows->indptr[u + 1] - start;
		RecoStatus	st = RECO_STATUS_OK;

		if (RecoParallelPoll(worker, false))
			return RECO_STATUS_STOPPED;
		if (job->solve != NULL)
			st = RecoExplicitRow(job, (RecoExplicitScratch *) state, rows->indices + start,
								 rows->weights + start, n, job->solve + (size_t) u * job->stride);
		else
			sum += RecoExplicitRowErrors(job, rows->indices + start, rows->weights + start, n,
										 job->own + (size_t) u * job->stride);
		if (st != RECO_STATUS_OK)
			return st;
	}
	if (job->partials != NULL)
		job->partials[task] = sum;
	return RECO_STATUS_OK;
}

/* Whether the configuration and matrices can be used. */
static bool
RecoExplicitArgsOk(const RecoSparse *rows, const float *fixed, const void *out,
				   const RecoExplicitConfig *cfg)
{
	return rows != NULL && fixed != NULL && out != NULL && cfg != NULL &&
		cfg->factors >= 1 && cfg->factors <= RECO_MAX_FACTORS - RECO_EXPLICIT_STORED_EXTRA &&
		cfg->regularization >= 0 && isfinite(cfg->regularization) &&
		isfinite(cfg->reg_exponent) && rows->n_rows >= 0 && rows->n_cols >= 0;
}

/* Sets up a job over `rows` and its chunks; false on malloc failure. */
static bool
RecoExplicitJobInit(RecoExplicitJob *job, const RecoSparse *rows, const float *fixed,
					double mean, const RecoExplicitConfig *cfg)
{
	memset(job, 0, sizeof(*job));
	job->rows = rows;
	job->fixed = fixed;
	job->mean = mean;
	job->k = cfg->factors;
	job->stride = RecoExplicitStride(cfg->factors);
	job->regularization = cfg->regularization;
	job->reg_exponent = cfg->reg_exponent;
	job->kern = RecoKernelsFor(job->stride);
	return RecoExplicitChunks(job);
}

/* One side solve of every row, threaded. */
RecoStatus
RecoExplicitSolveSide(const RecoSparse *rows, const float *fixed, float *solve, double mean,
					  const RecoExplicitConfig *cfg, const RecoHooks *hooks)
{
	RecoExplicitJob job;
	RecoParallelJob pj = {
		.threads = cfg != NULL ? cfg->threads : 1,
		.run_task = RecoExplicitChunk,
		.state_size = sizeof(RecoExplicitScratch),
		.init_state = RecoExplicitScratchInit,
		.free_state = RecoExplicitScratchFree,
		.hooks = hooks
	};
	RecoStatus	st;

	if (!RecoExplicitArgsOk(rows, fixed, solve, cfg) || !isfinite(mean))
		return RECO_STATUS_INVALID_ARGUMENT;
	if (rows->n_rows == 0)
		return RECO_STATUS_OK;
	if (!RecoExplicitJobInit(&job, rows, fixed, mean, cfg))
		return RECO_STATUS_NO_MEMORY;
	job.solve = solve;
	pj.n_tasks = job.n_chunks;
	pj.arg = &job;
	st = RecoParallelRun(&pj);
	free(job.bounds);
	return st;
}

/* Training RMSE over the ratings of `users`, deterministic. */
RecoStatus
RecoExplicitRmse(const RecoSparse *users, const float *X, const float *Y, double mean,
				 const RecoExplicitConfig *cfg, const RecoHooks *hooks, double *rmse_out)
{
	RecoExplicitJob job;
	RecoParallelJob pj = {
		.threads = cfg != NULL ? cfg->threads : 1,
		.run_task = RecoExplicitChunk,
		.hooks = hooks
	};
	int64_t		nnz,
				c;
	double		sum = 0.0;
	RecoStatus	st;

	if (!RecoExplicitArgsOk(users, Y, X, cfg) || rmse_out == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	nnz = users->n_rows > 0 ? users->indptr[users->n_rows] : 0;
	*rmse_out = 0.0;
	if (nnz == 0)
		return RECO_STATUS_OK;
	if (!RecoExplicitJobInit(&job, users, Y, mean, cfg))
		return RECO_STATUS_NO_MEMORY;
	job.own = X;
	job.partials = (double *) calloc((size_t) job.n_chunks + 1, sizeof(double));
	if (job.partials == NULL)
	{
		free(job.bounds);
		return RECO_STATUS_NO_MEMORY;
	}
	pj.n_tasks = job.n_chunks;
	pj.arg = &job;
	st = RecoParallelRun(&pj);
	for (c = 0; st == RECO_STATUS_OK && c < job.n_chunks; c++)
		sum += job.partials[c];
	free(job.partials);
	free(job.bounds);
	if (st != RECO_STATUS_OK)
		return st;
	*rmse_out = sqrt(sum / (double) nnz);
	return isfinite(*rmse_out) ? RECO_STATUS_OK : RECO_STATUS_NOT_FINITE;
}

/* The stored vectors: users [x, b, 1, 1], items [y, 1, b, μ]. */
void
RecoExplicitStoredRows(const float *rows, int64_t n, int k, double mean, bool users, float *out)
{
	int			stride = RecoExplicitStride(k);
	int			width = k + RECO_EXPLICIT_STORED_EXTRA;
	int64_t		r;

	for (r = 0; r < n; r++)
	{
		const float *row = rows + (size_t) r * stride;
		float	   *o = out + (size_t) r * width;

		memcpy(o, row, sizeof(float) * k);
		o[k] = users ? row[k] : 1.0f;
		o[k + 1] = users ? 1.0f : row[k];
		o[k + 2] = users ? 1.0f : (float) mean;
	}
}

/* Scratch bytes of a side solve for `threads` threads (chunk table aside). */
size_t
RecoExplicitScratchBytes(int k, int threads)
{
	size_t		d = (size_t) RecoExplicitStride(k);

	return (size_t) (threads > 0 ? threads : 1) *
		(sizeof(double) * (d + 2 * d * d + 2 * d) +
		 sizeof(float) * (RECO_EXPLICIT_BLOCK * d + d * d + 2 * d) + RECO_EXPLICIT_ALIGN);
}
