/*-------------------------------------------------------------------------
 *
 * kernels.c
 *	  Portable vector kernels, the choice of code path, and row scoring.
 *
 * Design
 * ------
 * The solvers (als.c) and the scorers (batch.c, serving) spend their time
 * in a handful of vector kernels over item vectors Y[idx[t]] of length k:
 * a block of dot products, a block of axpys, a symmetric matrix-vector
 * product, a rank-K update and a Cholesky solve and factorization.  Each
 * code path is a table of these (RecoKernels): the portable C table here,
 * whose fixed
 * 8-lane sums the compiler vectorizes, and the AVX2+FMA tables of
 * kernels_avx2.c, specialised for k = 32, 64, 128 and any multiple of 8.
 *
 * Choice.  As pgvector picks its SIMD functions once at load time, the CPU
 * features (and RECO_ALS_GENERIC=1, which forces the portable path for
 * tests and comparisons) are read once per process, under pthread_once;
 * after that RecoKernelsFor(k) is a lookup by k.  The two code paths round
 * differently, so results are reproducible per machine (same CPU
 * features), not across machines.
 *
 * Threads and memory.  Every kernel is a pure function of its arguments:
 * it reads its inputs, writes only its outputs and allocates nothing, so
 * any thread may call any kernel; the caller owns every buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels_impl.h"

#include <pthread.h>
#include <stdlib.h>
#ifdef RECO_HAVE_AVX2_PATH
#include <cpuid.h>
#endif

/* idx of a block of contiguous item vectors. */
_Static_assert(RECO_KERNEL_BLOCK == 32, "RecoKernelIota lists exactly one block");
const int32_t RecoKernelIota[RECO_KERNEL_BLOCK] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};

/* ------------------------------------------------------------------------
 * Portable kernels (plain C; the compiler vectorizes the fixed 8-lane sums)
 * ------------------------------------------------------------------------
 */

/* Portable dot block. */
static void
RecoGenericDotBlock(int k, const float *Y, const int32_t *idx, int cnt,
					const float *v, float *s)
{
	int			t;

	for (t = 0; t < cnt; t++)
		s[t] = RecoDot8(Y + (size_t) idx[t] * k, v, k);
}

/* out[j] += c y[j] for j < k (one item of the multi-axpy; measured faster than the loop written inline). */
RECO_INLINE void
RecoGenericAxpy(int k, float c, const float *restrict y, float *restrict out)
{
	int			j;

	for (j = 0; j < k; j++)
		out[j] += c * y[j];
}

/* Portable multi-axpy. */
static void
RecoGenericAxpyBlock(int k, const float *Y, const int32_t *idx, int cnt,
					 const float *coef, float *restrict out)
{
	int			t;

	for (t = 0; t < cnt; t++)
		RecoGenericAxpy(k, coef[t], Y + (size_t) idx[t] * k, out);
}

/* Portable symmetric matrix-vector product (row-combination form: out = Σ_i v_i G[i, :]). */
static void
RecoGenericSymv(int k, const float *G, const float *v, float *restrict out)
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

/* Portable lower-triangle rank-K update (each entry summed in t order). */
static void
RecoGenericSyrk(int m, int K, const float *P, const float *Q, int ld,
				float *restrict C, int ldc)
{
	int			t,
				a,
				b;

	for (t = 0; t < K; t++)
	{
		const float *restrict p = P + (size_t) t * ld;
		const float *restrict q = Q + (size_t) t * ld;

		for (a = 0; a < m; a++)
		{
			float		pa = p[a];
			float	   *restrict row = C + (size_t) a * ldc;

			for (b = 0; b <= a; b++)
				row[b] += pa * q[b];
		}
	}
}

/* Portable instance of the Cholesky solve. */
static bool
RecoGenericCholSolve(int k, const float *A, const float *b, double *U,
					 double *z, float *x)
{
	return RecoCholSolveInline(false, k, A, b, U, z, x);
}

/* Portable instance of the in-place Cholesky factorization. */
static bool
RecoGenericCholFactor(int n, double *U)
{
	return RecoCholFactorInline(false, n, U);
}

/* Portable forward substitution Uᵀ z = z. */
static void
RecoGenericForward(int n, const double *U, double *z)
{
	RecoCholForwardInline(false, n, U, z);
}

/* Portable back substitution U z = z. */
static void
RecoGenericBack(int n, const double *U, double *z)
{
	RecoCholBackInline(false, n, U, z);
}

/* Portable back substitution U z = z from Uᵀ. */
static void
RecoGenericBackT(int n, const double *L, double *z)
{
	RecoCholBackTInline(false, n, L, z);
}

/* Portable back substitutions of several vectors: back_t on each in turn. */
static void
RecoGenericBackTRows(int n, const double *L, double *const *z, int cnt)
{
	int			c;

	for (c = 0; c < cnt; c++)
		RecoCholBackTInline(false, n, L, z[c]);
}

/* Portable double dot products of rows. */
static void
RecoGenericDotRows(int k, int n, const float *Z, const int32_t *idx,
				   const double *v, double *out)
{
	RecoDotRowsInline(false, k, n, Z, idx, v, out);
}

/* Portable double multi-axpy of rows. */
static void
RecoGenericAxpyRows(int k, int n, const float *Z, const int32_t *idx,
					const double *coef, double *v)
{
	RecoAxpyRowsInline(false, k, n, Z, idx, coef, v);
}

/* Portable short-row factorization of I + S M S. */
static bool
RecoGenericShortFactor(int n, const float *M, const double *sv, double *N)
{
	return RecoShortFactorInline(false, n, M, sv, N);
}

/* Portable short rows in lanes: each row's short_factor, forward and back in turn. */
static unsigned
RecoGenericShortLanes(int lanes, const int *n, const float *const *M,
					  const double *const *sv, double *const *q, double *W)
{
	unsigned	fail = 0;
	int			b;

	for (b = 0; b < lanes; b++)
	{
		if (!RecoShortFactorInline(false, n[b], M[b], sv[b], W))
		{
			fail |= 1u << b;
			continue;
		}
		RecoCholForwardInline(false, n[b], W, q[b]);
		RecoCholBackInline(false, n[b], W, q[b]);
	}
	return fail;
}

/* Portable lanes' width: the rows run one by one, grouped as four-lane vectors would be. */
static int
RecoGenericShortLanesWidth(void)
{
	return 4;
}

/* Portable lower triangle of Z_w Z_wᵀ: each entry the generic dot block's value. */
static void
RecoGenericRowsGram(int k, int m, const float *Z, const int32_t *idx, float *M)
{
	int			i,
				j;

	for (i = 0; i < m; i++)
		for (j = 0; j <= i; j++)
			M[(size_t) i * m + j] = RecoDot8(Z + (size_t) idx[j] * k,
											 Z + (size_t) idx[i] * k, k);
}

/* ------------------------------------------------------------------------
 * Portable CG kernels (lockstep rows)
 * ------------------------------------------------------------------------
 */

/* Portable multi-row symv: the portable symv of each row. */
static void
RecoGenericSymvRows(int k, int n, const float *G, const float *V, size_t ld,
					float *out)
{
	int			b;

	for (b = 0; b < n; b++)
		RecoGenericSymv(k, G, V + (size_t) b * ld, out + (size_t) b * ld);
}

/* ------------------------------------------------------------------------
 * Portable CG kernels over half vectors (scalar conversion, RecoDot8's tree)
 * ------------------------------------------------------------------------
 */

/* Portable dot block over half vectors: RecoDot8's lanes and tree over the widened values. */
static void
RecoGenericDotBlockHalf(int k, const uint16_t *Yh, const int32_t *idx, int cnt,
						const float *v, float *s)
{
	int			t,
				j;

	for (t = 0; t < cnt; t++)
	{
		const uint16_t *restrict h = Yh + (size_t) idx[t] * k;
		float		acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};

		for (j = 0; j < k; j++)
			acc[j % 8] += RecoHalfToFloat(h[j]) * v[j];
		s[t] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
			((acc[4] + acc[5]) + (acc[6] + acc[7]));
	}
}

/* Portable multi-axpy over half vectors: the portable axpy of each widened vector. */
static void
RecoGenericAxpyBlockHalf(int k, const uint16_t *Yh, const int32_t *idx, int cnt,
						 const float *coef, float *restrict out)
{
	int			t,
				j;

	for (t = 0; t < cnt; t++)
	{
		const uint16_t *restrict h = Yh + (size_t) idx[t] * k;
		float		c = coef[t];

		for (j = 0; j < k; j++)
			out[j] += c * RecoHalfToFloat(h[j]);
	}
}

/* Portable float-to-half copy (RecoFloatToHalf of each value); true if all are in half's range. */
static bool
RecoGenericToHalf(int64_t n, const float *src, uint16_t *dst)
{
	bool		ok = true;
	int64_t		j;

	for (j = 0; j < n; j++)
	{
		dst[j] = RecoFloatToHalf(src[j]);
		ok &= fabsf(src[j]) < RECO_HALF_OVERFLOW;
	}
	return ok;
}

/* Portable copy of a block of gathered half vectors: one memcpy each. */
static void
RecoGenericGatherBlockHalf(int k, const uint16_t *Yh, const int32_t *idx, int cnt,
						   uint16_t *hdst)
{
	int			t;

	for (t = 0; t < cnt; t++)
		memcpy(hdst + (size_t) t * k, Yh + (size_t) idx[t] * k, sizeof(uint16_t) * k);
}

static const RecoKernels RecoGenericKernels = {
	"generic",
	RecoGenericDotBlock, RecoGenericAxpyBlock, RecoGenericSymv,
	RecoGenericSyrk, RecoGenericCholSolve, RecoGenericCholFactor,
	RecoGenericForward, RecoGenericBack, RecoGenericBackT, RecoGenericDotRows,
	RecoGenericAxpyRows, RecoGenericShortFactor,
	RecoGenericRowsGram,
	RecoGenericSymvRows,
	RecoGenericShortLanes,
	RecoGenericDotBlockHalf, RecoGenericAxpyBlockHalf, RecoGenericToHalf,
	RecoGenericBackTRows, RecoGenericShortLanesWidth,
	NULL,						/* no axpy_pair_h: its scalar loops gain nothing */
	RecoGenericGatherBlockHalf
};

/* ------------------------------------------------------------------------
 * Choice of code path
 * ------------------------------------------------------------------------
 */

static pthread_once_t RecoKernelsOnce = PTHREAD_ONCE_INIT;

/* True once RecoKernelsChoose found AVX2, FMA and F16C (and no RECO_ALS_GENERIC=1). */
static bool RecoKernelsUseAvx2 = false;

#ifdef RECO_HAVE_AVX2_PATH
/* True if the CPU converts half precision (F16C: CPUID leaf 1, ECX bit 29; GCC's builtin has no name for it). */
static bool
RecoCpuHasF16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

/* Reads the CPU features and RECO_ALS_GENERIC; run once, by RecoKernelsInit. */
static void
RecoKernelsChoose(void)
{
#ifdef RECO_HAVE_AVX2_PATH
	const char *force = getenv("RECO_ALS_GENERIC");

	__builtin_cpu_init();
	RecoKernelsUseAvx2 = __builtin_cpu_supports("avx2") &&
		__builtin_cpu_supports("fma") && RecoCpuHasF16c() &&
		!(force != NULL && force[0] == '1');
	RecoKernelsAvx2UseZmm(RecoKernelsUseAvx2 && __builtin_cpu_supports("avx512f"));
#endif
}

/* Chooses the code path, once per process. */
void
RecoKernelsInit(void)
{
	(void) pthread_once(&RecoKernelsOnce, RecoKernelsChoose);
}

/* Picks the kernel set for k on this CPU. */
const RecoKernels *
RecoKernelsFor(int k)
{
	RecoKernelsInit();
#ifdef RECO_HAVE_AVX2_PATH
	if (RecoKernelsUseAvx2 && k % 8 == 0)
		return RecoKernelsAvx2For(k);
#endif
	return &RecoGenericKernels;
}

/* ------------------------------------------------------------------------
 * Exported kernels
 * ------------------------------------------------------------------------
 */

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
	const RecoKernels *kern = RecoKernelsFor(k);
	int64_t		b0;

	for (b0 = 0; b0 < n; b0 += RECO_KERNEL_BLOCK)
	{
		int			cnt = (int) (n - b0 < RECO_KERNEL_BLOCK ? n - b0 : RECO_KERNEL_BLOCK);

		if (rows != NULL)
			kern->dot_block(k, Y, rows + b0, cnt, v, out + b0);
		else
			kern->dot_block(k, Y + (size_t) b0 * k, RecoKernelIota, cnt, v, out + b0);
	}
}

/* Name of the inner-loop code path chosen for k on this CPU. */
const char *
RecoAlsKernelName(int k)
{
	return RecoKernelsFor(k)->name;
}
