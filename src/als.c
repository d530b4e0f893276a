/*-------------------------------------------------------------------------
 *
 * als.c
 *	  Implicit-feedback ALS kernel: threaded per-row CG / Cholesky solves.
 *
 * Design
 * ------
 * One half-iteration of iALS solves, for every row u of a sparse matrix, the
 * k x k system (YᵀY + λI + Yᵀ(C_u − I)Y) x_u = Yᵀ C_u p_u with the other side
 * Y fixed.  Rows are independent, so the work is split into *chunks* of
 * consecutive rows of roughly equal estimated cost.  Chunk boundaries depend
 * only on the data and k (never on the thread count), and each row's result
 * depends only on its own inputs, so the factors are bit-identical whatever
 * the number of threads and however the chunks are scheduled.  The loss sums
 * per-chunk partial sums in chunk order for the same reason.
 *
 * Threads.  The calling thread (a PostgreSQL backend) computes YᵀY with
 * OpenBLAS (ssyrk, in blocks of rows so that it can poll between them),
 * allocates every buffer, then starts cfg->threads - 1 pthreads with all
 * signals blocked.  All threads, the caller included, take chunks from an
 * atomic counter; chunks are handed out in order of decreasing cost so that
 * the Zipf head (an item with a million users) starts first and the tail
 * balances.  Workers only run the kernels below and libc math/memory
 * functions; only the calling thread calls hooks->should_stop (between
 * chunks, inside very long rows, and while it waits for the workers).  A
 * stop, a non-finite value or a failed factorization sets a shared flag;
 * every thread abandons its current row, the caller joins them all, frees
 * everything and returns the status.
 *
 * Memory.  Everything (chunk table, YᵀY, per-thread scratch) is malloc'ed by
 * the calling thread before any worker starts and freed before return; no
 * allocation outlives a call and workers never allocate.  The caller owns
 * the sparse matrix and the factor matrices.
 *
 * Inner loops.  A CG step touches every item vector of the row twice (a dot
 * product, then an axpy); they are done a block of 32 items at a time (dots,
 * then one multi-axpy while the block is still in L1), with the next block
 * prefetched.  On x86-64 CPUs with AVX2+FMA hand-written intrinsic kernels
 * (specialised for k = 32, 64, 128) are chosen at run time; elsewhere, or
 * when k is not a multiple of 8, portable C loops are used.  The two code
 * paths round differently, so results are reproducible per machine (same
 * CPU features), not across machines.  The environment variable
 * RECO_ALS_GENERIC=1 forces the portable path (tests, comparisons).
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* pthread_sigmask, clock_gettime, posix_memalign */
#endif

#include "als.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define RECO_HAVE_AVX2_PATH 1
#include <immintrin.h>
#endif

/* Items handled per dot/axpy block (kept in L1 between the two passes). */
#define RECO_BLOCK 32
/* Inside a long row, check the stop flag about every this many multiply-adds. */
#define RECO_STOP_CHECK_WORK 4.0e6
/* ... and call should_stop (caller only) at every this many flag checks. */
#define RECO_HOOK_CHECK_EVERY 4
/* A CG row copies up to this many bytes of its item vectors to contiguous scratch ... */
#define RECO_GATHER_BYTES (4 * 1024 * 1024)
/* ... if they exceed this many bytes (smaller rows stay in L1 between passes). */
#define RECO_GATHER_MIN_BYTES (32 * 1024)
/* Target estimated cost of one chunk, in multiply-adds (~0.1-1 ms). */
#define RECO_CHUNK_COST 4.0e6
/* Upper bound on the number of chunks of one call. */
#define RECO_MAX_CHUNKS 65536
/* Alignment of scratch buffers (a cache line). */
#define RECO_ALIGN 64

#define RECO_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------------
 * Kernel table
 * ------------------------------------------------------------------------
 */

/* s[t] = Y[idx[t]] · v for t < cnt. */
typedef void (*RecoDotBlockFn) (int k, const float *Y, const int32_t *idx,
								int cnt, const float *v, float *s);
/* out += Σ_t coef[t] Y[idx[t]]. */
typedef void (*RecoAxpyBlockFn) (int k, const float *Y, const int32_t *idx,
								 int cnt, const float *coef, float *out);
/* out = G v for a symmetric k x k G. */
typedef void (*RecoSymvFn) (int k, const float *G, const float *v, float *out);
/* Lower triangle (rounded up to 8 columns) of A += Σ_t coef[t] y_t y_tᵀ. */
typedef void (*RecoRankBlockFn) (int k, const float *Y, const int32_t *idx,
								 int cnt, const float *coef, float *A);
/* Cholesky-solves A x = b (A float lower triangle), in double; false if not PD. U, z: k x k and k scratch. */
typedef bool (*RecoCholSolveFn) (int k, const float *A, const float *b,
								 double *L, double *z, float *x);

typedef struct RecoKernels
{
	const char *name;
	RecoDotBlockFn dot_block;
	RecoAxpyBlockFn axpy_block;
	RecoSymvFn	symv;
	RecoRankBlockFn rank_block;
	RecoCholSolveFn chol_solve;
} RecoKernels;

/* ------------------------------------------------------------------------
 * Portable kernels (plain C; the compiler vectorizes the fixed 8-lane sums)
 * ------------------------------------------------------------------------
 */

/* Dot product of two float vectors with 8 partial sums in a fixed tree. */
RECO_INLINE float
reco_dot8(const float *restrict a, const float *restrict b, int k)
{
	float		acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	int			j,
				l;

	for (j = 0; j + 8 <= k; j += 8)
		for (l = 0; l < 8; l++)
			acc[l] += a[j + l] * b[j + l];
	for (l = 0; j < k; j++, l++)
		acc[l] += a[j] * b[j];
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
		((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Portable dot block. */
static void
gen_dot_block(int k, const float *Y, const int32_t *idx, int cnt,
			  const float *v, float *s)
{
	int			t;

	for (t = 0; t < cnt; t++)
		s[t] = reco_dot8(Y + (size_t) idx[t] * k, v, k);
}

/* Portable multi-axpy. */
static void
gen_axpy_block(int k, const float *Y, const int32_t *idx, int cnt,
			   const float *coef, float *restrict out)
{
	int			t,
				j;

	for (t = 0; t < cnt; t++)
	{
		const float *restrict y = Y + (size_t) idx[t] * k;
		float		c = coef[t];

		for (j = 0; j < k; j++)
			out[j] += c * y[j];
	}
}

/* Portable symmetric matrix-vector product (row-combination form). */
static void
gen_symv(int k, const float *G, const float *v, float *restrict out)
{
	int			i,
				j;

	for (j = 0; j < k; j++)
		out[j] = 0.0f;
	for (i = 0; i < k; i++)
	{
		const float *restrict g = G + (size_t) i * k;
		float		vi = v[i];

		for (j = 0; j < k; j++)
			out[j] += vi * g[j];
	}
}

/* Portable lower-triangle rank-cnt update. */
static void
gen_rank_block(int k, const float *Y, const int32_t *idx, int cnt,
			   const float *coef, float *restrict A)
{
	int			t,
				a,
				b;

	for (t = 0; t < cnt; t++)
	{
		const float *restrict y = Y + (size_t) idx[t] * k;

		for (a = 0; a < k; a++)
		{
			float		ca = coef[t] * y[a];
			float	   *restrict row = A + (size_t) a * k;

			for (b = 0; b <= a; b++)
				row[b] += ca * y[b];
		}
	}
}

/*
 * Cholesky-solves A x = b in double: A = UᵀU factored right-looking on the
 * upper triangle, row-major, so every inner loop runs over contiguous memory
 * without a dependency chain (it vectorizes), then Uᵀz = b and Ux = z.
 */
RECO_INLINE bool
reco_chol_solve_t(int k, const float *A, const float *b, double *U,
				  double *z, float *x)
{
	int			i,
				j,
				l;

	/* row i of the upper triangle is column i of the stored lower triangle */
	for (i = 0; i < k; i++)
		for (l = i; l < k; l++)
			U[(size_t) i * k + l] = A[(size_t) l * k + i];
	for (j = 0; j < k; j++)
	{
		double	   *restrict Uj = U + (size_t) j * k;
		double		d = Uj[j];

		if (!(d > 0.0) || !isfinite(d))
			return false;
		d = sqrt(d);
		Uj[j] = d;
		for (l = j + 1; l < k; l++)
			Uj[l] /= d;
		/* trailing update: A[i][l] -= U[j][i] U[j][l] for j < i <= l */
		for (i = j + 1; i < k; i++)
		{
			double	   *restrict Ui = U + (size_t) i * k;
			double		u = Uj[i];

			for (l = i; l < k; l++)
				Ui[l] -= u * Uj[l];
		}
	}
	/* forward: Uᵀ z = b, one row of U (a column of Uᵀ) at a time */
	for (i = 0; i < k; i++)
		z[i] = b[i];
	for (j = 0; j < k; j++)
	{
		const double *restrict Uj = U + (size_t) j * k;
		double		zj = z[j] / Uj[j];

		z[j] = zj;
		for (i = j + 1; i < k; i++)
			z[i] -= Uj[i] * zj;
	}
	/* backward: U x = z, column by column so the updates are independent */
	for (i = k - 1; i >= 0; i--)
	{
		double		xi = z[i] / U[(size_t) i * k + i];

		z[i] = xi;
		for (j = 0; j < i; j++)
			z[j] -= U[(size_t) j * k + i] * xi;
	}
	for (i = 0; i < k; i++)
	{
		x[i] = (float) z[i];
		if (!isfinite(x[i]))
			return false;
	}
	return true;
}

/* Portable instance of the Cholesky solve. */
static bool
gen_chol_solve(int k, const float *A, const float *b, double *L, double *z,
			   float *x)
{
	return reco_chol_solve_t(k, A, b, L, z, x);
}

static const RecoKernels reco_generic_kernels = {
	"generic",
	gen_dot_block, gen_axpy_block, gen_symv, gen_rank_block, gen_chol_solve
};

/* ------------------------------------------------------------------------
 * AVX2 + FMA kernels (x86-64, chosen at run time, k a multiple of 8)
 * ------------------------------------------------------------------------
 */
#ifdef RECO_HAVE_AVX2_PATH

#define RECO_AVX2 __attribute__((target("avx2,fma")))

/* Sums each of 8 vectors horizontally: lane t of the result is Σ a_t. */
RECO_AVX2 RECO_INLINE __m256
avx2_hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
		   __m256 a4, __m256 a5, __m256 a6, __m256 a7)
{
	__m256		q0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
	__m256		q1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));

	return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
						 _mm256_permute2f128_ps(q0, q1, 0x31));
}

/* Same reduction tree as avx2_hsum8, for 4 vectors. */
RECO_AVX2 RECO_INLINE __m128
avx2_hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
	__m256		q = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));

	return _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
}

/* Same reduction tree as avx2_hsum8, for one vector. */
RECO_AVX2 RECO_INLINE float
avx2_hsum1(__m256 a)
{
	__m256		q = _mm256_hadd_ps(a, a);

	q = _mm256_hadd_ps(q, q);
	return _mm_cvtss_f32(_mm_add_ps(_mm256_castps256_ps128(q),
									_mm256_extractf128_ps(q, 1)));
}

/* Dot-block template: 8 items at a time, one accumulator per item. */
RECO_AVX2 RECO_INLINE void
avx2_dot_block_t(int k, const float *Y, const int32_t *idx, int cnt,
				 const float *v, float *s)
{
	int			t = 0,
				j;

	for (; t + 8 <= cnt; t += 8)
	{
		const float *y0 = Y + (size_t) idx[t] * k;
		const float *y1 = Y + (size_t) idx[t + 1] * k;
		const float *y2 = Y + (size_t) idx[t + 2] * k;
		const float *y3 = Y + (size_t) idx[t + 3] * k;
		const float *y4 = Y + (size_t) idx[t + 4] * k;
		const float *y5 = Y + (size_t) idx[t + 5] * k;
		const float *y6 = Y + (size_t) idx[t + 6] * k;
		const float *y7 = Y + (size_t) idx[t + 7] * k;
		__m256		a0 = _mm256_setzero_ps(),
					a1 = a0,
					a2 = a0,
					a3 = a0,
					a4 = a0,
					a5 = a0,
					a6 = a0,
					a7 = a0;

		for (j = 0; j < k; j += 8)
		{
			__m256		vv = _mm256_loadu_ps(v + j);

			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + j), vv, a0);
			a1 = _mm256_fmadd_ps(_mm256_loadu_ps(y1 + j), vv, a1);
			a2 = _mm256_fmadd_ps(_mm256_loadu_ps(y2 + j), vv, a2);
			a3 = _mm256_fmadd_ps(_mm256_loadu_ps(y3 + j), vv, a3);
			a4 = _mm256_fmadd_ps(_mm256_loadu_ps(y4 + j), vv, a4);
			a5 = _mm256_fmadd_ps(_mm256_loadu_ps(y5 + j), vv, a5);
			a6 = _mm256_fmadd_ps(_mm256_loadu_ps(y6 + j), vv, a6);
			a7 = _mm256_fmadd_ps(_mm256_loadu_ps(y7 + j), vv, a7);
		}
		_mm256_storeu_ps(s + t, avx2_hsum8(a0, a1, a2, a3, a4, a5, a6, a7));
	}
	for (; t + 4 <= cnt; t += 4)
	{
		const float *y0 = Y + (size_t) idx[t] * k;
		const float *y1 = Y + (size_t) idx[t + 1] * k;
		const float *y2 = Y + (size_t) idx[t + 2] * k;
		const float *y3 = Y + (size_t) idx[t + 3] * k;
		__m256		a0 = _mm256_setzero_ps(),
					a1 = a0,
					a2 = a0,
					a3 = a0;

		for (j = 0; j < k; j += 8)
		{
			__m256		vv = _mm256_loadu_ps(v + j);

			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + j), vv, a0);
			a1 = _mm256_fmadd_ps(_mm256_loadu_ps(y1 + j), vv, a1);
			a2 = _mm256_fmadd_ps(_mm256_loadu_ps(y2 + j), vv, a2);
			a3 = _mm256_fmadd_ps(_mm256_loadu_ps(y3 + j), vv, a3);
		}
		_mm_storeu_ps(s + t, avx2_hsum4(a0, a1, a2, a3));
	}
	for (; t < cnt; t++)
	{
		const float *y0 = Y + (size_t) idx[t] * k;
		__m256		a0 = _mm256_setzero_ps();

		for (j = 0; j < k; j += 8)
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + j), _mm256_loadu_ps(v + j), a0);
		s[t] = avx2_hsum1(a0);
	}
}

/* Multi-axpy template: 64 columns at a time held in 8 registers. */
RECO_AVX2 RECO_INLINE void
avx2_axpy_block_t(int k, const float *Y, const int32_t *idx, int cnt,
				  const float *coef, float *out)
{
	int			jb,
				t;

	for (jb = 0; jb + 64 <= k; jb += 64)
	{
		__m256		o0 = _mm256_loadu_ps(out + jb),
					o1 = _mm256_loadu_ps(out + jb + 8),
					o2 = _mm256_loadu_ps(out + jb + 16),
					o3 = _mm256_loadu_ps(out + jb + 24),
					o4 = _mm256_loadu_ps(out + jb + 32),
					o5 = _mm256_loadu_ps(out + jb + 40),
					o6 = _mm256_loadu_ps(out + jb + 48),
					o7 = _mm256_loadu_ps(out + jb + 56);

		for (t = 0; t < cnt; t++)
		{
			const float *y = Y + (size_t) idx[t] * k + jb;
			__m256		c = _mm256_broadcast_ss(coef + t);

			o0 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y), o0);
			o1 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 8), o1);
			o2 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 16), o2);
			o3 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 24), o3);
			o4 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 32), o4);
			o5 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 40), o5);
			o6 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 48), o6);
			o7 = _mm256_fmadd_ps(c, _mm256_loadu_ps(y + 56), o7);
		}
		_mm256_storeu_ps(out + jb, o0);
		_mm256_storeu_ps(out + jb + 8, o1);
		_mm256_storeu_ps(out + jb + 16, o2);
		_mm256_storeu_ps(out + jb + 24, o3);
		_mm256_storeu_ps(out + jb + 32, o4);
		_mm256_storeu_ps(out + jb + 40, o5);
		_mm256_storeu_ps(out + jb + 48, o6);
		_mm256_storeu_ps(out + jb + 56, o7);
	}
	for (; jb < k; jb += 8)
	{
		__m256		o = _mm256_loadu_ps(out + jb);

		for (t = 0; t < cnt; t++)
			o = _mm256_fmadd_ps(_mm256_broadcast_ss(coef + t),
								_mm256_loadu_ps(Y + (size_t) idx[t] * k + jb), o);
		_mm256_storeu_ps(out + jb, o);
	}
}

/* Symmetric matrix-vector template: out = Σ_i v_i G[i, :], 64 columns at a time. */
RECO_AVX2 RECO_INLINE void
avx2_symv_t(int k, const float *G, const float *v, float *out)
{
	int			jb,
				i;

	for (jb = 0; jb + 64 <= k; jb += 64)
	{
		__m256		o0 = _mm256_setzero_ps(),
					o1 = o0,
					o2 = o0,
					o3 = o0,
					o4 = o0,
					o5 = o0,
					o6 = o0,
					o7 = o0;

		for (i = 0; i < k; i++)
		{
			const float *g = G + (size_t) i * k + jb;
			__m256		c = _mm256_broadcast_ss(v + i);

			o0 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g), o0);
			o1 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 8), o1);
			o2 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 16), o2);
			o3 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 24), o3);
			o4 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 32), o4);
			o5 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 40), o5);
			o6 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 48), o6);
			o7 = _mm256_fmadd_ps(c, _mm256_loadu_ps(g + 56), o7);
		}
		_mm256_storeu_ps(out + jb, o0);
		_mm256_storeu_ps(out + jb + 8, o1);
		_mm256_storeu_ps(out + jb + 16, o2);
		_mm256_storeu_ps(out + jb + 24, o3);
		_mm256_storeu_ps(out + jb + 32, o4);
		_mm256_storeu_ps(out + jb + 40, o5);
		_mm256_storeu_ps(out + jb + 48, o6);
		_mm256_storeu_ps(out + jb + 56, o7);
	}
	for (; jb < k; jb += 8)
	{
		__m256		o = _mm256_setzero_ps();

		for (i = 0; i < k; i++)
			o = _mm256_fmadd_ps(_mm256_broadcast_ss(v + i),
								_mm256_loadu_ps(G + (size_t) i * k + jb), o);
		_mm256_storeu_ps(out + jb, o);
	}
}

/* Lower-triangle rank update template: row a gets columns 0 .. a rounded up to 8. */
RECO_AVX2 RECO_INLINE void
avx2_rank_block_t(int k, const float *Y, const int32_t *idx, int cnt,
				  const float *coef, float *A)
{
	const float *yp[RECO_BLOCK];
	float		bt[RECO_BLOCK];
	int			a,
				c,
				t;

	for (t = 0; t < cnt; t++)
		yp[t] = Y + (size_t) idx[t] * k;
	for (a = 0; a < k; a++)
	{
		float	   *row = A + (size_t) a * k;
		int			nch = a / 8 + 1;

		for (t = 0; t < cnt; t++)
			bt[t] = coef[t] * yp[t][a];
		for (c = 0; c < nch; c++)
		{
			__m256		o0 = _mm256_loadu_ps(row + 8 * c),
						o1 = _mm256_setzero_ps();

			for (t = 0; t + 2 <= cnt; t += 2)
			{
				o0 = _mm256_fmadd_ps(_mm256_broadcast_ss(bt + t),
									 _mm256_loadu_ps(yp[t] + 8 * c), o0);
				o1 = _mm256_fmadd_ps(_mm256_broadcast_ss(bt + t + 1),
									 _mm256_loadu_ps(yp[t + 1] + 8 * c), o1);
			}
			if (t < cnt)
				o0 = _mm256_fmadd_ps(_mm256_broadcast_ss(bt + t),
									 _mm256_loadu_ps(yp[t] + 8 * c), o0);
			_mm256_storeu_ps(row + 8 * c, _mm256_add_ps(o0, o1));
		}
	}
}

/* Instantiates the AVX2 kernels for one (constant or variable) k. */
#define RECO_AVX2_INSTANCE(SUFFIX, KEXPR) \
RECO_AVX2 static void \
avx2_dot_block_##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						const float *v, float *s) \
{ \
	(void) k; \
	avx2_dot_block_t(KEXPR, Y, idx, cnt, v, s); \
} \
RECO_AVX2 static void \
avx2_axpy_block_##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						 const float *coef, float *out) \
{ \
	(void) k; \
	avx2_axpy_block_t(KEXPR, Y, idx, cnt, coef, out); \
} \
RECO_AVX2 static void \
avx2_symv_##SUFFIX(int k, const float *G, const float *v, float *out) \
{ \
	(void) k; \
	avx2_symv_t(KEXPR, G, v, out); \
} \
RECO_AVX2 static void \
avx2_rank_block_##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						 const float *coef, float *A) \
{ \
	(void) k; \
	avx2_rank_block_t(KEXPR, Y, idx, cnt, coef, A); \
} \
RECO_AVX2 static bool \
avx2_chol_solve_##SUFFIX(int k, const float *A, const float *b, double *L, \
						 double *z, float *x) \
{ \
	(void) k; \
	return reco_chol_solve_t(KEXPR, A, b, L, z, x); \
} \
static const RecoKernels reco_avx2_kernels_##SUFFIX = { \
	"avx2-fma-" #SUFFIX, \
	avx2_dot_block_##SUFFIX, avx2_axpy_block_##SUFFIX, avx2_symv_##SUFFIX, \
	avx2_rank_block_##SUFFIX, avx2_chol_solve_##SUFFIX \
};

RECO_AVX2_INSTANCE(k32, 32)
RECO_AVX2_INSTANCE(k64, 64)
RECO_AVX2_INSTANCE(k128, 128)
RECO_AVX2_INSTANCE(any, k)

#endif							/* RECO_HAVE_AVX2_PATH */

/* Picks the kernel set for k on this CPU (cheap; called per entry point). */
static const RecoKernels *
reco_select_kernels(int k)
{
#ifdef RECO_HAVE_AVX2_PATH
	static int	avx2_ok = -1;

	if (avx2_ok < 0)
	{
		const char *force = getenv("RECO_ALS_GENERIC");

		__builtin_cpu_init();
		avx2_ok = (__builtin_cpu_supports("avx2") &&
				   __builtin_cpu_supports("fma") &&
				   !(force != NULL && force[0] == '1')) ? 1 : 0;
	}
	if (avx2_ok && k % 8 == 0)
	{
		if (k == 32)
			return &reco_avx2_kernels_k32;
		if (k == 64)
			return &reco_avx2_kernels_k64;
		if (k == 128)
			return &reco_avx2_kernels_k128;
		return &reco_avx2_kernels_any;
	}
#endif
	return &reco_generic_kernels;
}

/* ------------------------------------------------------------------------
 * Shared job state, stop handling
 * ------------------------------------------------------------------------
 */

typedef enum RecoJobKind
{
	RECO_JOB_CG,
	RECO_JOB_CHOLESKY,
	RECO_JOB_LOSS
} RecoJobKind;

/* A run of consecutive rows handed to one thread at a time. */
typedef struct RecoChunk
{
	int64_t		begin;
	int64_t		end;
	double		cost;
	int64_t		id;				/* position in row order (loss partials) */
} RecoChunk;

/* Everything the threads of one call share. */
typedef struct RecoJob
{
	RecoJobKind kind;
	const RecoSparse *rows;
	const float *fixed;			/* n_cols x k */
	float	   *solve;			/* n_rows x k (read-only for the loss) */
	const float *gmat;			/* YᵀY + λI (solves) or YᵀY (loss) */
	const RecoKernels *kern;
	int			k;
	float		alpha;
	int			cg_steps;
	RecoChunk  *chunks;
	int64_t		n_chunks;
	double	   *partials;		/* 3 per chunk id (loss) */
	double		sums[3];		/* loss partials summed in row order */
	const RecoAlsHooks *hooks;

	int64_t		next_chunk;		/* atomic */
	int			stop;			/* atomic: 1 once anyone must stop */
	int			status;			/* atomic: first non-OK status */

	pthread_mutex_t mutex;
	pthread_cond_t done_cond;
	int			n_done;			/* workers finished (under mutex) */
} RecoJob;

/* Per-thread buffers; allocated by the caller before workers start. */
typedef struct RecoScratch
{
	float	   *r;				/* k: CG residual / loss Gx */
	float	   *p;				/* k: CG direction */
	float	   *Ap;				/* k: CG A·p */
	float	   *A;				/* k x k: Cholesky system */
	float	   *b;				/* k: Cholesky right-hand side */
	double	   *L;				/* k x k: Cholesky factor */
	double	   *z;				/* k: triangular-solve work */
	float	   *gather;			/* gather_cap x k: a CG row's item vectors */
	int64_t		gather_cap;		/* entries gather holds (0: none) */
	void	   *mem;			/* the single allocation behind them */
} RecoScratch;

/* What one thread needs to run rows. */
typedef struct RecoWorker
{
	RecoJob    *job;
	RecoScratch scratch;
	bool		is_caller;
	pthread_t	thread;
} RecoWorker;

/* Records a failure (first one wins) and tells every thread to stop. */
static void
reco_job_fail(RecoJob *job, RecoAlsStatus status)
{
	int			expected = RECO_ALS_OK;

	__atomic_compare_exchange_n(&job->status, &expected, (int) status, false,
								__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	__atomic_store_n(&job->stop, 1, __ATOMIC_RELEASE);
}

/* True if the job must stop; on the calling thread, also asks the hook. */
static bool
reco_job_poll(RecoJob *job, bool is_caller, bool ask_hook)
{
	if (__atomic_load_n(&job->stop, __ATOMIC_ACQUIRE))
		return true;
	if (is_caller && ask_hook && job->hooks != NULL &&
		job->hooks->should_stop != NULL &&
		job->hooks->should_stop(job->hooks->arg))
	{
		reco_job_fail(job, RECO_ALS_STOPPED);
		return true;
	}
	return false;
}

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
	float		alpha;
	int			cg_steps;
	RecoScratch *s;
	RecoJob    *job;			/* NULL for RecoAlsSolveRowExact */
	bool		is_caller;
} RecoRowCtx;

typedef enum RecoPassMode
{
	RECO_PASS_RESIDUAL,			/* coef = c⁺ − (|c| − 1)(y·v) */
	RECO_PASS_AP,				/* coef = (|c| − 1)(y·v) */
	RECO_PASS_CHOLESKY			/* b += c⁺ y, A += (|c| − 1) y yᵀ */
} RecoPassMode;

/* Issues prefetches for the item vectors of the next block. */
RECO_INLINE void
reco_prefetch_block(const float *Y, int k, const int32_t *idx, int cnt)
{
	int			t,
				off;

	for (t = 0; t < cnt; t++)
	{
		const char *y = (const char *) (Y + (size_t) idx[t] * k);

		for (off = 0; off < k * (int) sizeof(float); off += 64)
			__builtin_prefetch(y + off, 0, 3);
	}
}

/* idx of a block of contiguous item vectors (fails to compile if RECO_BLOCK changes). */
typedef char reco_iota_is_one_block[RECO_BLOCK == 32 ? 1 : -1];
static const int32_t reco_iota[RECO_BLOCK] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};

/*
 * One pass over n entries of a row, a block at a time.  Item vectors are
 * Y[idx[t]], or Y[t] (contiguous) when idx is NULL; if copy is set, they are
 * also copied there contiguously.  Returns RECO_ALS_STOPPED if the job was
 * told to stop in the middle of a long row.
 */
static RecoAlsStatus
reco_sparse_pass(RecoRowCtx *ctx, const float *Y, const int32_t *idx,
				 const float *w, int64_t n, const float *v, float *out,
				 RecoPassMode mode, float *copy)
{
	const RecoKernels *kern = ctx->kern;
	int			k = ctx->k;
	float		alpha = ctx->alpha;
	float		s[RECO_BLOCK];
	float		coef[RECO_BLOCK];
	float		coef2[RECO_BLOCK];
	int64_t		b0;
	int64_t		nblock = 0;

	/*
	 * Only the first pass over a row prefetches: later passes find its item
	 * vectors in L1, or read them in order from the gather buffer, and for
	 * rows longer than that buffer prefetching measured no faster.
	 */
	bool		prefetch = idx != NULL && mode != RECO_PASS_AP;
	double		block_work = (double) RECO_BLOCK *
		(mode == RECO_PASS_CHOLESKY ? 0.5 * k * k + k : 2.0 * k);
	int64_t		check_every = (int64_t) (RECO_STOP_CHECK_WORK / block_work) + 1;

	for (b0 = 0; b0 < n; b0 += RECO_BLOCK, nblock++)
	{
		int			cnt = (int) (n - b0 < RECO_BLOCK ? n - b0 : RECO_BLOCK);
		const float *Yb = idx != NULL ? Y : Y + (size_t) b0 * k;
		const int32_t *ib = idx != NULL ? idx + b0 : reco_iota;
		int			t;

		if (prefetch && b0 + RECO_BLOCK < n)
		{
			int64_t		rest = n - b0 - RECO_BLOCK;

			reco_prefetch_block(Y, k, idx + b0 + RECO_BLOCK,
								(int) (rest < RECO_BLOCK ? rest : RECO_BLOCK));
		}
		if (mode == RECO_PASS_CHOLESKY)
		{
			for (t = 0; t < cnt; t++)
			{
				float		conf = alpha * w[b0 + t];
				float		pref = 0.0f;

				if (conf > 0)
					pref = conf;
				else
					conf = -conf;
				coef[t] = pref;
				coef2[t] = conf - 1.0f;
			}
			kern->axpy_block(k, Yb, ib, cnt, coef, out);
			kern->rank_block(k, Yb, ib, cnt, coef2, ctx->s->A);
		}
		else
		{
			kern->dot_block(k, Yb, ib, cnt, v, s);
			for (t = 0; t < cnt; t++)
			{
				float		conf = alpha * w[b0 + t];
				float		pref = 0.0f;

				if (conf > 0)
					pref = conf;
				else
					conf = -conf;
				if (mode == RECO_PASS_RESIDUAL)
					coef[t] = pref - (conf - 1.0f) * s[t];
				else
					coef[t] = (conf - 1.0f) * s[t];
			}
			kern->axpy_block(k, Yb, ib, cnt, coef, out);
		}
		for (t = 0; copy != NULL && t < cnt; t++)
			memcpy(copy + (size_t) (b0 + t) * k, Yb + (size_t) ib[t] * k,
				   sizeof(float) * k);
		if (ctx->job != NULL && nblock % check_every == check_every - 1 &&
			reco_job_poll(ctx->job, ctx->is_caller,
						  (nblock / check_every) % RECO_HOOK_CHECK_EVERY ==
						  RECO_HOOK_CHECK_EVERY - 1))
			return RECO_ALS_STOPPED;
	}
	return RECO_ALS_OK;
}

/* True if all k values are finite. */
static bool
reco_all_finite(const float *x, int k)
{
	int			j;

	for (j = 0; j < k; j++)
		if (!isfinite(x[j]))
			return false;
	return true;
}

/*
 * One CG pass over a row whose first g item vectors the residual pass copies
 * to scratch and the A·p passes then read from there.
 */
static RecoAlsStatus
reco_cg_pass(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
			 int64_t g, const float *v, float *out, RecoPassMode mode)
{
	RecoAlsStatus st;

	if (mode == RECO_PASS_RESIDUAL)
		st = reco_sparse_pass(ctx, ctx->Y, idx, w, g, v, out, mode,
							  ctx->s->gather);
	else
		st = reco_sparse_pass(ctx, ctx->s->gather, NULL, w, g, v, out, mode,
							  NULL);
	if (st != RECO_ALS_OK)
		return st;
	return reco_sparse_pass(ctx, ctx->Y, idx + g, w + g, n - g, v, out, mode,
							NULL);
}

/* Conjugate-gradient update of one row, warm-started from x (implicit's least_squares_cg). */
static RecoAlsStatus
reco_cg_row(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
			float *x)
{
	int			k = ctx->k;
	float	   *r = ctx->s->r;
	float	   *p = ctx->s->p;
	float	   *Ap = ctx->s->Ap;
	float		rsold,
				rsnew;
	int64_t		g = 0;
	RecoAlsStatus st;
	int			it,
				j;

	if (n == 0)
	{
		memset(x, 0, sizeof(float) * k);
		return RECO_ALS_OK;
	}
	if ((double) n * k * sizeof(float) > RECO_GATHER_MIN_BYTES)
		g = n < ctx->s->gather_cap ? n : ctx->s->gather_cap;
	/* r = b − A x = Σ c⁺ y − (YᵀY + λI) x − Σ (|c| − 1)(y·x) y */
	ctx->kern->symv(k, ctx->G, x, r);
	for (j = 0; j < k; j++)
		r[j] = -r[j];
	st = reco_cg_pass(ctx, idx, w, n, g, x, r, RECO_PASS_RESIDUAL);
	if (st != RECO_ALS_OK)
		return st;
	memcpy(p, r, sizeof(float) * k);
	rsold = reco_dot8(r, r, k);
	if ((double) rsold < 1e-20)
		return reco_all_finite(x, k) ? RECO_ALS_OK : RECO_ALS_NOT_FINITE;

	for (it = 0; it < ctx->cg_steps; it++)
	{
		float		a;

		/* Ap = (YᵀY + λI) p + Σ (|c| − 1)(y·p) y, never forming A */
		ctx->kern->symv(k, ctx->G, p, Ap);
		st = reco_cg_pass(ctx, idx, w, n, g, p, Ap, RECO_PASS_AP);
		if (st != RECO_ALS_OK)
			return st;
		a = rsold / reco_dot8(p, Ap, k);
		for (j = 0; j < k; j++)
		{
			x[j] += a * p[j];
			r[j] -= a * Ap[j];
		}
		rsnew = reco_dot8(r, r, k);
		if ((double) rsnew < 1e-20)
			break;
		a = rsnew / rsold;
		for (j = 0; j < k; j++)
			p[j] = r[j] + a * p[j];
		rsold = rsnew;
	}
	return reco_all_finite(x, k) ? RECO_ALS_OK : RECO_ALS_NOT_FINITE;
}

/* Exact solve of one row: explicit A = G + Σ (|c| − 1) y yᵀ, b = Σ c⁺ y, Cholesky. */
static RecoAlsStatus
reco_cholesky_row(RecoRowCtx *ctx, const int32_t *idx, const float *w,
				  int64_t n, float *x)
{
	int			k = ctx->k;
	RecoScratch *s = ctx->s;
	RecoAlsStatus st;

	if (n == 0)
	{
		memset(x, 0, sizeof(float) * k);
		return RECO_ALS_OK;
	}
	memcpy(s->A, ctx->G, sizeof(float) * k * k);
	memset(s->b, 0, sizeof(float) * k);
	st = reco_sparse_pass(ctx, ctx->Y, idx, w, n, NULL, s->b,
						  RECO_PASS_CHOLESKY, NULL);
	if (st != RECO_ALS_OK)
		return st;
	if (!ctx->kern->chol_solve(k, s->A, s->b, s->L, s->z, x))
	{
		/* tell a NaN input apart from a genuinely indefinite system */
		if (!reco_all_finite(s->A, k * k) || !reco_all_finite(s->b, k))
			return RECO_ALS_NOT_FINITE;
		return RECO_ALS_NOT_POSITIVE_DEFINITE;
	}
	return RECO_ALS_OK;
}

/*
 * Loss terms of one user row: adds xᵀ(YᵀY)x + Σ_obs (|c|(p − s)² − s²) to
 * *loss, Σ|c| to *conf and |x|² to *norm.
 */
static void
reco_loss_row(RecoRowCtx *ctx, const int32_t *idx, const float *w, int64_t n,
			  const float *x, double *loss, double *conf, double *norm)
{
	int			k = ctx->k;
	float	   *r = ctx->s->r;
	float		s[RECO_BLOCK];
	double		l = 0.0,
				cs = 0.0,
				xx = 0.0;
	int64_t		b0;
	int			j;

	ctx->kern->symv(k, ctx->G, x, r);
	for (j = 0; j < k; j++)
	{
		l += (double) x[j] * (double) r[j];
		xx += (double) x[j] * (double) x[j];
	}
	for (b0 = 0; b0 < n; b0 += RECO_BLOCK)
	{
		int			cnt = (int) (n - b0 < RECO_BLOCK ? n - b0 : RECO_BLOCK);
		int			t;

		ctx->kern->dot_block(k, ctx->Y, idx + b0, cnt, x, s);
		for (t = 0; t < cnt; t++)
		{
			double		c = (double) (ctx->alpha * w[b0 + t]);
			double		pref = c > 0 ? 1.0 : 0.0;
			double		d;

			c = fabs(c);
			d = pref - (double) s[t];
			l += c * d * d - (double) s[t] * (double) s[t];
			cs += c;
		}
	}
	*loss += l;
	*conf += cs;
	*norm += xx;
}

/* Runs the rows of one chunk; returns the first non-OK row status. */
static RecoAlsStatus
reco_run_chunk(RecoWorker *wk, const RecoChunk *chunk)
{
	RecoJob    *job = wk->job;
	const RecoSparse *rows = job->rows;
	RecoRowCtx	ctx;
	int64_t		u;
	double		loss = 0.0,
				conf = 0.0,
				norm = 0.0;

	ctx.kern = job->kern;
	ctx.k = job->k;
	ctx.G = job->gmat;
	ctx.Y = job->fixed;
	ctx.alpha = job->alpha;
	ctx.cg_steps = job->cg_steps;
	ctx.s = &wk->scratch;
	ctx.job = job;
	ctx.is_caller = wk->is_caller;

	for (u = chunk->begin; u < chunk->end; u++)
	{
		int64_t		start = rows->indptr[u];
		int64_t		n = rows->indptr[u + 1] - start;
		float	   *x = job->solve + (size_t) u * job->k;
		RecoAlsStatus st = RECO_ALS_OK;

		if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED))
			return RECO_ALS_STOPPED;
		/* fetch the next row's first block while this row computes */
		if (u + 1 < chunk->end)
		{
			int64_t		nn = rows->indptr[u + 2] - rows->indptr[u + 1];

			reco_prefetch_block(job->fixed, job->k,
								rows->indices + rows->indptr[u + 1],
								(int) (nn < RECO_BLOCK ? nn : RECO_BLOCK));
		}
		switch (job->kind)
		{
			case RECO_JOB_CG:
				st = reco_cg_row(&ctx, rows->indices + start,
								 rows->weights + start, n, x);
				break;
			case RECO_JOB_CHOLESKY:
				st = reco_cholesky_row(&ctx, rows->indices + start,
									   rows->weights + start, n, x);
				break;
			case RECO_JOB_LOSS:
				reco_loss_row(&ctx, rows->indices + start,
							  rows->weights + start, n, x,
							  &loss, &conf, &norm);
				break;
		}
		if (st != RECO_ALS_OK)
			return st;
	}
	if (job->kind == RECO_JOB_LOSS)
	{
		job->partials[3 * chunk->id] = loss;
		job->partials[3 * chunk->id + 1] = conf;
		job->partials[3 * chunk->id + 2] = norm;
	}
	return RECO_ALS_OK;
}

/* Takes chunks until none are left or the job stops; the caller also polls. */
static void
reco_worker_loop(RecoWorker *wk)
{
	RecoJob    *job = wk->job;

	for (;;)
	{
		int64_t		c;
		RecoAlsStatus st;

		if (reco_job_poll(job, wk->is_caller, true))
			break;
		c = __atomic_fetch_add(&job->next_chunk, 1, __ATOMIC_RELAXED);
		if (c >= job->n_chunks)
			break;
		st = reco_run_chunk(wk, &job->chunks[c]);
		if (st != RECO_ALS_OK)
		{
			reco_job_fail(job, st);
			break;
		}
	}
}

/* Entry point of a worker thread (all signals blocked). */
static void *
reco_worker_main(void *arg)
{
	RecoWorker *wk = (RecoWorker *) arg;
	RecoJob    *job = wk->job;

	reco_worker_loop(wk);
	pthread_mutex_lock(&job->mutex);
	job->n_done++;
	pthread_cond_signal(&job->done_cond);
	pthread_mutex_unlock(&job->mutex);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Job setup: chunks, scratch, threads
 * ------------------------------------------------------------------------
 */

/* Estimated multiply-adds of one row, used only for chunking. */
static double
reco_row_cost(RecoJobKind kind, int k, int cg_steps, int64_t n)
{
	double		kk = (double) k * k;

	switch (kind)
	{
		case RECO_JOB_CG:
			return (double) n * k * 2.0 * (cg_steps + 1) + kk * (cg_steps + 1) + 16.0 * k;
		case RECO_JOB_CHOLESKY:
			return (double) n * (kk * 0.5 + k) + kk * k / 6.0 + kk;
		case RECO_JOB_LOSS:
			return (double) n * k + kk + 16.0 * k;
	}
	return 1.0;
}

/* Orders chunks by decreasing cost (ties by position) for load balance. */
static int
reco_chunk_cmp(const void *a, const void *b)
{
	const RecoChunk *x = (const RecoChunk *) a;
	const RecoChunk *y = (const RecoChunk *) b;

	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return x->begin < y->begin ? -1 : (x->begin > y->begin ? 1 : 0);
}

/*
 * Splits the rows into chunks of about equal cost (boundaries depend only on
 * the data, k and the kind) and sorts them by decreasing cost.  Returns false
 * on malloc failure.
 */
static bool
reco_make_chunks(RecoJob *job)
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
		total += reco_row_cost(job->kind, job->k, job->cg_steps,
							   rows->indptr[u + 1] - rows->indptr[u]);
	target = total / RECO_MAX_CHUNKS;
	if (target < RECO_CHUNK_COST)
		target = RECO_CHUNK_COST;

	job->chunks = NULL;
	for (pass = 0; pass < 2; pass++)
	{
		count = 0;
		begin = 0;
		acc = 0.0;
		for (u = 0; u < rows->n_rows; u++)
		{
			double		c = reco_row_cost(job->kind, job->k, job->cg_steps,
										  rows->indptr[u + 1] - rows->indptr[u]);

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
	qsort(job->chunks, (size_t) count, sizeof(RecoChunk), reco_chunk_cmp);
	return true;
}

/* Rounds a float count up to a whole number of cache lines. */
static size_t
reco_pad(size_t nfloats)
{
	return (nfloats + 15) & ~(size_t) 15;
}

/* Entries of a CG gather buffer for k and the longest row (0 for other solvers). */
static int64_t
reco_gather_cap(bool cg, int k, int64_t max_row_nnz)
{
	int64_t		cap = RECO_GATHER_BYTES / ((int64_t) sizeof(float) * k) /
		RECO_BLOCK * RECO_BLOCK;

	if (!cg || (double) max_row_nnz * k * sizeof(float) <= RECO_GATHER_MIN_BYTES)
		return 0;
	return max_row_nnz < cap ? max_row_nnz : cap;
}

/* Bytes of one thread's scratch for k and a gather buffer of gather_cap entries. */
static size_t
reco_scratch_size(int k, int64_t gather_cap)
{
	size_t		kk = (size_t) k * k;

	return sizeof(float) * (4 * reco_pad(k) + reco_pad(kk) +
							reco_pad((size_t) gather_cap * k)) +
		sizeof(double) * (2 * reco_pad(kk) + 2 * reco_pad(k));
}

/* Allocates one thread's scratch; false on failure. */
static bool
reco_scratch_alloc(RecoScratch *s, int k, int64_t gather_cap)
{
	size_t		kp = reco_pad(k);
	size_t		kkp = reco_pad((size_t) k * k);
	char	   *m;

	if (posix_memalign(&s->mem, RECO_ALIGN,
					   reco_scratch_size(k, gather_cap)) != 0)
	{
		s->mem = NULL;
		return false;
	}
	s->gather_cap = gather_cap;
	m = (char *) s->mem;
	s->L = (double *) m;
	m += sizeof(double) * 2 * kkp;
	s->z = (double *) m;
	m += sizeof(double) * 2 * kp;
	s->A = (float *) m;
	m += sizeof(float) * kkp;
	s->r = (float *) m;
	m += sizeof(float) * kp;
	s->p = (float *) m;
	m += sizeof(float) * kp;
	s->Ap = (float *) m;
	m += sizeof(float) * kp;
	s->b = (float *) m;
	m += sizeof(float) * kp;
	s->gather = (float *) m;
	return true;
}

/* Effective total thread count for a config. */
static int
reco_thread_count(const RecoAlsConfig *cfg)
{
	int			t = cfg->threads;

	if (t < 1)
		t = 1;
	if (t > RECO_MAX_THREADS)
		t = RECO_MAX_THREADS;
	return t;
}

/*
 * Runs a prepared job on the caller plus (threads − 1) workers and returns
 * its status.  Frees the chunk table and scratch on every path.
 */
static RecoAlsStatus
reco_job_run(RecoJob *job, int threads)
{
	RecoWorker *workers;
	int			i,
				started = 0;
	int64_t		u,
				max_nnz = 0,
				gather_cap;
	RecoAlsStatus result;

	if (!reco_make_chunks(job))
		return RECO_ALS_NO_MEMORY;
	for (u = 0; job->kind == RECO_JOB_CG && u < job->rows->n_rows; u++)
		if (job->rows->indptr[u + 1] - job->rows->indptr[u] > max_nnz)
			max_nnz = job->rows->indptr[u + 1] - job->rows->indptr[u];
	gather_cap = reco_gather_cap(job->kind == RECO_JOB_CG, job->k, max_nnz);
	if (threads > job->n_chunks)
		threads = job->n_chunks > 0 ? (int) job->n_chunks : 1;

	job->partials = NULL;
	if (job->kind == RECO_JOB_LOSS)
	{
		job->partials = (double *) calloc((size_t) job->n_chunks * 3 + 3,
										  sizeof(double));
		if (job->partials == NULL)
		{
			free(job->chunks);
			return RECO_ALS_NO_MEMORY;
		}
	}
	workers = (RecoWorker *) calloc((size_t) threads, sizeof(RecoWorker));
	if (workers == NULL)
	{
		free(job->partials);
		free(job->chunks);
		return RECO_ALS_NO_MEMORY;
	}
	for (i = 0; i < threads; i++)
	{
		workers[i].job = job;
		workers[i].is_caller = (i == 0);
		if (!reco_scratch_alloc(&workers[i].scratch, job->k, gather_cap))
		{
			result = RECO_ALS_NO_MEMORY;
			goto cleanup;
		}
	}

	job->next_chunk = 0;
	job->stop = 0;
	job->status = RECO_ALS_OK;
	job->n_done = 0;

	if (threads > 1)
	{
		sigset_t	all,
					old;

		if (pthread_mutex_init(&job->mutex, NULL) != 0)
		{
			result = RECO_ALS_THREAD_ERROR;
			goto cleanup;
		}
		if (pthread_cond_init(&job->done_cond, NULL) != 0)
		{
			pthread_mutex_destroy(&job->mutex);
			result = RECO_ALS_THREAD_ERROR;
			goto cleanup;
		}
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (i = 1; i < threads; i++)
		{
			if (pthread_create(&workers[i].thread, NULL, reco_worker_main,
							   &workers[i]) != 0)
			{
				reco_job_fail(job, RECO_ALS_THREAD_ERROR);
				break;
			}
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);

		reco_worker_loop(&workers[0]);

		/* wait for the workers, still answering should_stop */
		pthread_mutex_lock(&job->mutex);
		while (job->n_done < started)
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 5 * 1000 * 1000;
			if (ts.tv_nsec >= 1000 * 1000 * 1000)
			{
				ts.tv_sec++;
				ts.tv_nsec -= 1000 * 1000 * 1000;
			}
			pthread_cond_timedwait(&job->done_cond, &job->mutex, &ts);
			if (job->n_done < started)
				(void) reco_job_poll(job, true, true);
		}
		pthread_mutex_unlock(&job->mutex);
		for (i = 1; i <= started; i++)
			pthread_join(workers[i].thread, NULL);
		pthread_cond_destroy(&job->done_cond);
		pthread_mutex_destroy(&job->mutex);
	}
	else
		reco_worker_loop(&workers[0]);

	result = (RecoAlsStatus) __atomic_load_n(&job->status, __ATOMIC_ACQUIRE);
	if (result == RECO_ALS_OK && job->partials != NULL)
	{
		int64_t		c;

		/* partials are indexed by chunk position: sum them in row order */
		for (c = 0; c < job->n_chunks; c++)
		{
			job->sums[0] += job->partials[3 * c];
			job->sums[1] += job->partials[3 * c + 1];
			job->sums[2] += job->partials[3 * c + 2];
		}
	}

cleanup:
	for (i = 0; i < threads; i++)
		free(workers[i].scratch.mem);
	free(workers);
	free(job->partials);
	job->partials = NULL;
	free(job->chunks);
	job->chunks = NULL;
	return result;
}

/* ------------------------------------------------------------------------
 * Gram matrix
 * ------------------------------------------------------------------------
 */

/*
 * gram = YᵀY via OpenBLAS ssyrk on fixed blocks of rows (the blocking never
 * depends on the hooks, so the result is the same with or without them);
 * polls should_stop between blocks.  Calling thread only.
 */
static RecoAlsStatus
reco_gram_blocked(const float *Y, int64_t n, int k, float *gram,
				  const RecoAlsHooks *hooks)
{
	int64_t		block;
	int64_t		r0;
	int			i,
				j;

	if (k < 1)
		return RECO_ALS_INVALID_ARGUMENT;
	block = ((int64_t) 1 << 26) / ((int64_t) k * k);
	if (block < 256)
		block = 256;
	memset(gram, 0, sizeof(float) * k * k);
	for (r0 = 0; r0 < n; r0 += block)
	{
		int64_t		nb = n - r0 < block ? n - r0 : block;

		cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, k, (int) nb, 1.0f,
					Y + (size_t) r0 * k, k, 1.0f, gram, k);
		if (hooks != NULL && hooks->should_stop != NULL &&
			hooks->should_stop(hooks->arg))
			return RECO_ALS_STOPPED;
	}
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			gram[(size_t) i * k + j] = gram[(size_t) j * k + i];
	return RECO_ALS_OK;
}

/* Validates the parts of a config every entry point needs. */
static bool
reco_config_ok(const RecoAlsConfig *cfg)
{
	return cfg != NULL && cfg->factors >= RECO_MIN_FACTORS &&
		cfg->factors <= RECO_MAX_FACTORS && cfg->cg_steps >= 0 &&
		cfg->cg_steps <= RECO_MAX_CG_STEPS &&
		(cfg->solver == RECO_SOLVER_CG || cfg->solver == RECO_SOLVER_CHOLESKY);
}

/* ------------------------------------------------------------------------
 * Exported functions
 * ------------------------------------------------------------------------
 */

/* splitmix64 finalizer: a well-mixed 64-bit hash of x. */
static uint64_t
reco_splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Deterministic uniform [0, 0.01) initial factors keyed by (seed, stream, id, j). */
void
RecoAlsInitFactors(float *factors, int64_t n, int k, const int64_t *ids,
				   uint64_t seed, uint64_t stream)
{
	uint64_t	base = reco_splitmix64(reco_splitmix64(seed) ^ stream);
	int64_t		r;
	int			j;

	for (r = 0; r < n; r++)
	{
		uint64_t	h = reco_splitmix64(base ^ (uint64_t) ids[r]);
		float	   *row = factors + (size_t) r * k;

		for (j = 0; j < k; j++)
		{
			uint64_t	bits = reco_splitmix64(h + (uint64_t) j);
			float		v = (float) (bits >> 40) * (1.0f / 16777216.0f) * 0.01f;

			if (v >= 0.01f)
				v = nextafterf(0.01f, 0.0f);
			row[j] = v;
		}
	}
}

/* Solves every row of one side (CG or Cholesky), all threads, polling hooks. */
RecoAlsStatus
RecoAlsSolveSide(const RecoSparse *rows, const float *fixed, float *solve,
				 const RecoAlsConfig *cfg, const RecoAlsHooks *hooks)
{
	RecoJob		job;
	float	   *gmat;
	void	   *mem;
	RecoAlsStatus st;
	int			k,
				j;

	if (!reco_config_ok(cfg) || rows == NULL || rows->n_rows < 0 ||
		rows->n_cols < 0 || (rows->n_rows > 0 && (solve == NULL ||
												  rows->indptr == NULL)) ||
		(rows->n_cols > 0 && fixed == NULL))
		return RECO_ALS_INVALID_ARGUMENT;
	if (rows->n_rows == 0)
		return RECO_ALS_OK;
	k = cfg->factors;

	if (posix_memalign(&mem, RECO_ALIGN, sizeof(float) * k * k) != 0)
		return RECO_ALS_NO_MEMORY;
	gmat = (float *) mem;
	st = reco_gram_blocked(fixed, rows->n_cols, k, gmat, hooks);
	if (st != RECO_ALS_OK)
	{
		free(gmat);
		return st;
	}
	for (j = 0; j < k; j++)
		gmat[(size_t) j * k + j] += cfg->regularization;

	memset(&job, 0, sizeof(job));
	job.kind = cfg->solver == RECO_SOLVER_CHOLESKY ? RECO_JOB_CHOLESKY : RECO_JOB_CG;
	job.rows = rows;
	job.fixed = fixed;
	job.solve = solve;
	job.gmat = gmat;
	job.kern = reco_select_kernels(k);
	job.k = k;
	job.alpha = cfg->alpha;
	job.cg_steps = cfg->cg_steps;
	job.hooks = hooks;

	st = reco_job_run(&job, reco_thread_count(cfg));
	free(gmat);
	return st;
}

/* implicit's calculate_loss for the user side, deterministic, in double. */
RecoAlsStatus
RecoAlsLoss(const RecoSparse *users, const float *X, const float *Y,
			const RecoAlsConfig *cfg, const RecoAlsHooks *hooks,
			double *loss_out)
{
	RecoJob		job;
	float	   *gram;
	void	   *mem;
	double		loss = 0.0,
				conf = 0.0,
				unorm = 0.0,
				inorm = 0.0,
				denom;
	int64_t		i,
				nnz;
	RecoAlsStatus st;
	int			k;

	if (!reco_config_ok(cfg) || users == NULL || loss_out == NULL ||
		users->n_rows < 0 || users->n_cols < 0)
		return RECO_ALS_INVALID_ARGUMENT;
	k = cfg->factors;
	nnz = users->n_rows > 0 ? users->indptr[users->n_rows] : 0;

	if (posix_memalign(&mem, RECO_ALIGN, sizeof(float) * k * k) != 0)
		return RECO_ALS_NO_MEMORY;
	gram = (float *) mem;
	st = reco_gram_blocked(Y, users->n_cols, k, gram, hooks);
	if (st != RECO_ALS_OK)
	{
		free(gram);
		return st;
	}

	/* |Y|² in double, on this thread */
	for (i = 0; i < users->n_cols; i++)
	{
		const float *y = Y + (size_t) i * k;
		double		s = 0.0;
		int			j;

		for (j = 0; j < k; j++)
			s += (double) y[j] * (double) y[j];
		inorm += s;
		if ((i & 65535) == 65535 && hooks != NULL &&
			hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
		{
			free(gram);
			return RECO_ALS_STOPPED;
		}
	}

	if (users->n_rows > 0)
	{
		memset(&job, 0, sizeof(job));
		job.kind = RECO_JOB_LOSS;
		job.rows = users;
		job.fixed = Y;
		job.solve = (float *) X;	/* only read for the loss */
		job.gmat = gram;
		job.kern = reco_select_kernels(k);
		job.k = k;
		job.alpha = cfg->alpha;
		job.cg_steps = cfg->cg_steps;
		job.hooks = hooks;
		st = reco_job_run(&job, reco_thread_count(cfg));
		if (st != RECO_ALS_OK)
		{
			free(gram);
			return st;
		}
		loss = job.sums[0];
		conf = job.sums[1];
		unorm = job.sums[2];
	}
	free(gram);

	loss += (double) cfg->regularization * (unorm + inorm);
	denom = conf + (double) users->n_rows * (double) users->n_cols - (double) nnz;
	*loss_out = loss / denom;
	if (!isfinite(*loss_out))
		return RECO_ALS_NOT_FINITE;
	return RECO_ALS_OK;
}

/* What an exact single-row computation needs: G + λI, scratch, row context. */
typedef struct RecoExactRow
{
	RecoScratch scratch;
	RecoRowCtx	ctx;
	float	   *greg;
} RecoExactRow;

/* Sets up an exact single-row computation; false if k is out of range or memory is short. */
static bool
reco_exact_row_init(RecoExactRow *er, const float *gram, const float *fixed, int k,
					float alpha, float regularization)
{
	void	   *mem;
	int			j;

	if (k < 1 || k > RECO_MAX_FACTORS)
		return false;
	if (posix_memalign(&mem, RECO_ALIGN, sizeof(float) * k * k) != 0)
		return false;
	er->greg = (float *) mem;
	if (!reco_scratch_alloc(&er->scratch, k, 0))
	{
		free(er->greg);
		return false;
	}
	memcpy(er->greg, gram, sizeof(float) * k * k);
	for (j = 0; j < k; j++)
		er->greg[(size_t) j * k + j] += regularization;
	er->ctx.kern = reco_select_kernels(k);
	er->ctx.k = k;
	er->ctx.G = er->greg;
	er->ctx.Y = fixed;
	er->ctx.alpha = alpha;
	er->ctx.cg_steps = 0;
	er->ctx.s = &er->scratch;
	er->ctx.job = NULL;
	er->ctx.is_caller = true;
	return true;
}

/* Frees what reco_exact_row_init allocated. */
static void
reco_exact_row_free(RecoExactRow *er)
{
	free(er->scratch.mem);
	free(er->greg);
}

/* Exact single-row solve sharing the Cholesky side-solve code path. */
bool
RecoAlsSolveRowExact(const float *gram, const float *fixed, int k,
					 const int32_t *indices, const float *weights, int64_t n,
					 float alpha, float regularization, float *x_out)
{
	RecoExactRow er;
	RecoAlsStatus st;

	if (n < 0 || !reco_exact_row_init(&er, gram, fixed, k, alpha, regularization))
		return false;
	st = reco_cholesky_row(&er.ctx, indices, weights, n, x_out);
	reco_exact_row_free(&er);
	return st == RECO_ALS_OK;
}

/*
 * Decomposes target · x, x being the exact solve of the row, into one term
 * per entry: with A the row's system and b = Σ c⁺ y, x = A⁻¹b, so
 * target · x = Σ c⁺ (A⁻¹ target) · y (A is symmetric); term i goes to
 * contrib_out[i] (0 for entries with c <= 0).  Computed in double.
 */
bool
RecoAlsExplainRow(const float *gram, const float *fixed, int k,
				  const int32_t *indices, const float *weights, int64_t n,
				  float alpha, float regularization, const float *target,
				  double *contrib_out)
{
	RecoExactRow er;
	RecoScratch *s;
	bool		ok = true;
	int64_t		i;

	if (n < 0 || !reco_exact_row_init(&er, gram, fixed, k, alpha, regularization))
		return false;
	s = &er.scratch;
	if (n > 0)
	{
		memcpy(s->A, er.greg, sizeof(float) * k * k);
		memset(s->b, 0, sizeof(float) * k);
		ok = reco_sparse_pass(&er.ctx, fixed, indices, weights, n, NULL, s->b,
							  RECO_PASS_CHOLESKY, NULL) == RECO_ALS_OK &&
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
	reco_exact_row_free(&er);
	return ok;
}

/*
 * out[i] = v · Y[rows[i]] (rows NULL: Y[i]) for i < n, with the training
 * kernels' dot product: every score is computed by the same instructions
 * whatever its position, so single-user, candidate and batch scoring agree
 * bit for bit.
 */
void
RecoAlsScoreRows(const float *Y, const int32_t *rows, int64_t n, int k,
				 const float *v, float *out)
{
	const RecoKernels *kern = reco_select_kernels(k);
	int64_t		b0;

	for (b0 = 0; b0 < n; b0 += RECO_BLOCK)
	{
		int			cnt = (int) (n - b0 < RECO_BLOCK ? n - b0 : RECO_BLOCK);

		if (rows != NULL)
			kern->dot_block(k, Y, rows + b0, cnt, v, out + b0);
		else
			kern->dot_block(k, Y + (size_t) b0 * k, reco_iota, cnt, v, out + b0);
	}
}

/* gram = YᵀY (full symmetric), blocked exactly as the side solves do. */
void
RecoAlsGram(const float *fixed, int64_t n, int k, float *gram)
{
	(void) reco_gram_blocked(fixed, n, k, gram, NULL);
}

/* Upper estimate of the scratch bytes one SolveSide/Loss call allocates. */
size_t
RecoAlsScratchBytes(const RecoAlsConfig *cfg, int64_t max_row_nnz)
{
	int			k = cfg->factors;
	size_t		per_thread;

	if (k < 1)
		k = 1;
	per_thread = reco_scratch_size(k, reco_gather_cap(cfg->solver == RECO_SOLVER_CG,
													 k, max_row_nnz)) +
		RECO_ALIGN + sizeof(RecoWorker);
	return per_thread * (size_t) reco_thread_count(cfg) +
		sizeof(float) * (size_t) k * k + RECO_ALIGN +	/* gram */
		(sizeof(RecoChunk) + 3 * sizeof(double)) *
		(size_t) (2 * RECO_MAX_CHUNKS + 2);
}

/* Name of the inner-loop code path chosen for k on this CPU. */
const char *
RecoAlsKernelName(int k)
{
	return reco_select_kernels(k)->name;
}

/* Short English description of a status. */
const char *
RecoAlsStatusString(RecoAlsStatus status)
{
	switch (status)
	{
		case RECO_ALS_OK:
			return "ok";
		case RECO_ALS_STOPPED:
			return "stopped on request";
		case RECO_ALS_NO_MEMORY:
			return "out of memory";
		case RECO_ALS_NOT_FINITE:
			return "a factor or the loss is not finite (NaN or infinite input or overflow)";
		case RECO_ALS_THREAD_ERROR:
			return "could not start a worker thread";
		case RECO_ALS_NOT_POSITIVE_DEFINITE:
			return "a least-squares system is not positive definite (increase regularization)";
		case RECO_ALS_INVALID_ARGUMENT:
			return "invalid argument";
	}
	return "unknown status";
}
