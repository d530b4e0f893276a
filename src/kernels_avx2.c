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

/* Dot-block template: 8 items at a time, one accumulator per item. */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotBlockInline(int k, const float *Y, const int32_t *idx, int cnt,
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
		_mm256_storeu_ps(s + t, RecoAvx2Hsum8(a0, a1, a2, a3, a4, a5, a6, a7));
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
		_mm_storeu_ps(s + t, RecoAvx2Hsum4(a0, a1, a2, a3));
	}
	for (; t < cnt; t++)
	{
		const float *y0 = Y + (size_t) idx[t] * k;
		__m256		a0 = _mm256_setzero_ps();

		for (j = 0; j < k; j += 8)
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + j), _mm256_loadu_ps(v + j), a0);
		s[t] = RecoAvx2Hsum1(a0);
	}
}

/* Multi-axpy template: 64 columns at a time held in 8 registers. */
RECO_AVX2 RECO_INLINE void
RecoAvx2AxpyBlockInline(int k, const float *Y, const int32_t *idx, int cnt,
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
RecoAvx2SymvInline(int k, const float *G, const float *v, float *out)
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

/* Instantiates the AVX2 kernels for one (constant or variable) k: RecoAvx2Kernels<SUFFIX>. */
#define RECO_AVX2_INSTANCE(SUFFIX, NAME, KEXPR) \
RECO_AVX2 static void \
RecoAvx2DotBlock##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						 const float *v, float *s) \
{ \
	(void) k; \
	RecoAvx2DotBlockInline(KEXPR, Y, idx, cnt, v, s); \
} \
RECO_AVX2 static void \
RecoAvx2AxpyBlock##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						  const float *coef, float *out) \
{ \
	(void) k; \
	RecoAvx2AxpyBlockInline(KEXPR, Y, idx, cnt, coef, out); \
} \
RECO_AVX2 static void \
RecoAvx2Symv##SUFFIX(int k, const float *G, const float *v, float *out) \
{ \
	(void) k; \
	RecoAvx2SymvInline(KEXPR, G, v, out); \
} \
RECO_AVX2 static void \
RecoAvx2RankBlock##SUFFIX(int k, const float *Y, const int32_t *idx, int cnt, \
						  const float *coef, float *A) \
{ \
	(void) k; \
	RecoAvx2RankBlockInline(KEXPR, Y, idx, cnt, coef, A); \
} \
RECO_AVX2 static bool \
RecoAvx2CholSolve##SUFFIX(int k, const float *A, const float *b, double *L, \
						  double *z, float *x) \
{ \
	(void) k; \
	return RecoCholSolveInline(KEXPR, A, b, L, z, x); \
} \
static const RecoKernels RecoAvx2Kernels##SUFFIX = { \
	"avx2-fma-" NAME, \
	RecoAvx2DotBlock##SUFFIX, RecoAvx2AxpyBlock##SUFFIX, RecoAvx2Symv##SUFFIX, \
	RecoAvx2RankBlock##SUFFIX, RecoAvx2CholSolve##SUFFIX \
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
