/*-------------------------------------------------------------------------
 *
 * kernels_avx2.c
 *	  AVX2+FMA intrinsic vector kernels (x86-64), specialised for k = 32, 64,
 *	  128 and any multiple of 8.
 *
 * Every function carries __attribute__((target("avx2,fma"))) instead of the
 * file being compiled with -mavx2: nothing else is compiled for AVX2, so a
 * CPU without it never meets an AVX2 instruction unless kernels.c chose
 * these tables after reading its features.  Each template is inlined into
 * one function per k, so the compiler sees a constant k for 32, 64 and 128
 * and unrolls their loops.  The kernels' contracts are those of kernels.h;
 * they are pure functions (no allocation, any thread).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels_impl.h"

#ifdef RECO_HAVE_AVX2_PATH

#include <immintrin.h>

#define RECO_AVX2 __attribute__((target("avx2,fma")))

/* Sums each of 8 vectors horizontally: lane t of the result is Σ a_t. */
RECO_AVX2 RECO_INLINE __m256
RecoAvx2Hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
			  __m256 a4, __m256 a5, __m256 a6, __m256 a7)
{
	__m256		q0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
	__m256		q1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));

	return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
						 _mm256_permute2f128_ps(q0, q1, 0x31));
}

/* Same reduction tree as RecoAvx2Hsum8, for 4 vectors. */
RECO_AVX2 RECO_INLINE __m128
RecoAvx2Hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
	__m256		q = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));

	return _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
}

/* Same reduction tree as RecoAvx2Hsum8, for one vector. */
RECO_AVX2 RECO_INLINE float
RecoAvx2Hsum1(__m256 a)
{
	__m256		q = _mm256_hadd_ps(a, a);

	q = _mm256_hadd_ps(q, q);
	return _mm_cvtss_f32(_mm_add_ps(_mm256_castps256_ps128(q),
									_mm256_extractf128_ps(q, 1)));
}

/*
 * 8-lane partial dot products of n item vectors Y[idx[l]] with v, one
 * accumulator per item: acc[l] = Σ_j Y[idx[l]][j..j+7] v[j..j+7] lane by lane.
 * n (1, 4 or 8) is a constant in every caller, so the accumulators live in
 * registers.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotRows(int k, const float *Y, const int32_t *idx, int n,
				const float *v, __m256 *acc)
{
	const float *y[8];
	int			j,
				l;

	for (l = 0; l < n; l++)
	{
		y[l] = Y + (size_t) idx[l] * k;
		acc[l] = _mm256_setzero_ps();
	}
	for (j = 0; j < k; j += 8)
	{
		__m256		vv = _mm256_loadu_ps(v + j);

		for (l = 0; l < n; l++)
			acc[l] = _mm256_fmadd_ps(_mm256_loadu_ps(y[l] + j), vv, acc[l]);
	}
}

/* Dot-block template: 8 items at a time, then 4, then 1. */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotBlockInline(int k, const float *Y, const int32_t *idx, int cnt,
					   const float *v, float *s)
{
	__m256		a[8];
	int			t = 0;

	for (; t + 8 <= cnt; t += 8)
	{
		RecoAvx2DotRows(k, Y, idx + t, 8, v, a);
		_mm256_storeu_ps(s + t, RecoAvx2Hsum8(a[0], a[1], a[2], a[3],
											  a[4], a[5], a[6], a[7]));
	}
	for (; t + 4 <= cnt; t += 4)
	{
		RecoAvx2DotRows(k, Y, idx + t, 4, v, a);
		_mm_storeu_ps(s + t, RecoAvx2Hsum4(a[0], a[1], a[2], a[3]));
	}
	for (; t < cnt; t++)
	{
		RecoAvx2DotRows(k, Y, idx + t, 1, v, a);
		s[t] = RecoAvx2Hsum1(a[0]);
	}
}

/*
 * Multi-axpy template, 64 columns at a time held in 8 registers: out +=
 * Σ_t coef[t] Y[idx[t]] (idx NULL: Y[t]), or out = the same sum when
 * from_zero.  The symmetric matrix-vector product G v = Σ_i v_i G[i, :] is
 * this sum over G's rows from zero.  idx == NULL and from_zero are
 * constants in every caller, so each use compiles to its own loop.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2AxpyRowsInline(int k, const float *Y, const int32_t *idx, int cnt,
					   const float *coef, float *out, bool from_zero)
{
	int			jb,
				t;

	for (jb = 0; jb + 64 <= k; jb += 64)
	{
		__m256		o0 = from_zero ? _mm256_setzero_ps() : _mm256_loadu_ps(out + jb),
					o1 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 8),
					o2 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 16),
					o3 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 24),
					o4 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 32),
					o5 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 40),
					o6 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 48),
					o7 = from_zero ? o0 : _mm256_loadu_ps(out + jb + 56);

		for (t = 0; t < cnt; t++)
		{
			const float *y = Y + (size_t) (idx != NULL ? idx[t] : t) * k + jb;
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
		__m256		o = from_zero ? _mm256_setzero_ps() : _mm256_loadu_ps(out + jb);

		for (t = 0; t < cnt; t++)
			o = _mm256_fmadd_ps(_mm256_broadcast_ss(coef + t),
								_mm256_loadu_ps(Y + (size_t) (idx != NULL ? idx[t] : t) * k + jb), o);
		_mm256_storeu_ps(out + jb, o);
	}
}

/* Lower-triangle rank update template: row a gets columns 0 .. a rounded up to 8. */
RECO_AVX2 RECO_INLINE void
RecoAvx2RankBlockInline(int k, const float *Y, const int32_t *idx, int cnt,
						const float *coef, float *A)
{
	const float *yp[RECO_KERNEL_BLOCK];
	float		bt[RECO_KERNEL_BLOCK];
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

/* Multi-axpy template: out += Σ_t coef[t] Y[idx[t]]. */
RECO_AVX2 RECO_INLINE void
RecoAvx2AxpyBlockInline(int k, const float *Y, const int32_t *idx, int cnt,
						const float *coef, float *out)
{
	RecoAvx2AxpyRowsInline(k, Y, idx, cnt, coef, out, false);
}

/* The in-place Cholesky factorization (its size is not k, so one instance serves every k). */
RECO_AVX2 static bool
RecoAvx2CholFactor(int n, double *U)
{
	return RecoCholFactorInline(n, U);
}

/* A block kernel (dot, axpy, rank update) for one k: TEMPLATE with k fixed to KEXPR. */
#define RECO_AVX2_BLOCK_KERNEL(NAME, TEMPLATE, KEXPR) \
RECO_AVX2 static void \
NAME(int k, const float *Y, const int32_t *idx, int cnt, const float *w, \
	 float *out) \
{ \
	(void) k; \
	TEMPLATE(KEXPR, Y, idx, cnt, w, out); \
}

/* Instantiates the AVX2 kernels for one (constant or variable) k: RecoAvx2Kernels<SUFFIX>. */
#define RECO_AVX2_INSTANCE(SUFFIX, NAME, KEXPR) \
RECO_AVX2_BLOCK_KERNEL(RecoAvx2DotBlock##SUFFIX, RecoAvx2DotBlockInline, KEXPR) \
RECO_AVX2_BLOCK_KERNEL(RecoAvx2AxpyBlock##SUFFIX, RecoAvx2AxpyBlockInline, KEXPR) \
RECO_AVX2_BLOCK_KERNEL(RecoAvx2RankBlock##SUFFIX, RecoAvx2RankBlockInline, KEXPR) \
RECO_AVX2 static void \
RecoAvx2Symv##SUFFIX(int k, const float *G, const float *v, float *out) \
{ \
	(void) k; \
	RecoAvx2AxpyRowsInline(KEXPR, G, NULL, KEXPR, v, out, true); \
} \
RECO_AVX2 static bool \
RecoAvx2CholSolve##SUFFIX(int k, const float *A, const float *b, double *U, \
						  double *z, float *x) \
{ \
	(void) k; \
	return RecoCholSolveInline(KEXPR, A, b, U, z, x); \
} \
static const RecoKernels RecoAvx2Kernels##SUFFIX = { \
	"avx2-fma-" NAME, \
	RecoAvx2DotBlock##SUFFIX, RecoAvx2AxpyBlock##SUFFIX, RecoAvx2Symv##SUFFIX, \
	RecoAvx2RankBlock##SUFFIX, RecoAvx2CholSolve##SUFFIX, RecoAvx2CholFactor \
};

RECO_AVX2_INSTANCE(K32, "k32", 32)
RECO_AVX2_INSTANCE(K64, "k64", 64)
RECO_AVX2_INSTANCE(K128, "k128", 128)
RECO_AVX2_INSTANCE(Any, "any", k)

/* The AVX2+FMA kernel set for k (a multiple of 8). */
const RecoKernels *
RecoKernelsAvx2For(int k)
{
	switch (k)
	{
		case 32:
			return &RecoAvx2KernelsK32;
		case 64:
			return &RecoAvx2KernelsK64;
		case 128:
			return &RecoAvx2KernelsK128;
		default:
			return &RecoAvx2KernelsAny;
	}
}

#endif							/* RECO_HAVE_AVX2_PATH */
