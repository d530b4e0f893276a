/*-------------------------------------------------------------------------
 *
 * kernels_avx2.c
 *	  AVX2+FMA intrinsic vector kernels (x86-64), specialised for k = 32, 64,
 *	  128 and any multiple of 8.
 *
 * Every function carries __attribute__((target("avx2,fma,f16c"))) instead of the
 * file being compiled with -mavx2: nothing else is compiled for AVX2, so a
 * CPU without it never meets an AVX2 instruction unless kernels.c chose
 * these tables after reading its features.  The RecoAvx512* functions carry
 * target("avx512f,...") and run only where RecoKernelsAvx2UseZmm turned
 * them on (the CPU and the OS have AVX-512F).  Each template is inlined into
 * one function per k, so the compiler sees a constant k for 32, 64 and 128
 * and unrolls their loops.  The kernels' contracts are those of kernels.h;
 * they are pure functions (no allocation, any thread).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels_impl.h"

#ifdef RECO_HAVE_AVX2_PATH

#include <immintrin.h>

#define RECO_AVX2 __attribute__((target("avx2,fma,f16c")))

/* The AVX-512F kernels' target (they run only once RecoKernelsAvx2UseZmm found it). */
#define RECO_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))

/* True once RecoKernelsAvx2UseZmm found AVX-512F: the copy to half, the float dot, the axpy, symv and exact-pass kernels take zmm registers. */
static bool RecoAvx2Zmm = false;

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
 * Eight values of a row of vectors at float offset `at`: float, or half
 * widened exactly (F16C) when half (a constant in every caller).
 */
RECO_AVX2 RECO_INLINE __m256
RecoAvx2Load8(const void *Y, bool half, size_t at)
{
	if (half)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) ((const uint16_t *) Y + at)));
	return _mm256_loadu_ps((const float *) Y + at);
}

/*
 * 8-lane partial dot products of n item vectors Y[idx[l]] with v, one
 * accumulator per item: acc[l] = Σ_j Y[idx[l]][j..j+7] v[j..j+7] lane by lane.
 * n (1, 4 or 8) is a constant in every caller, so the accumulators live in
 * registers.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotRows(int k, const void *Y, bool half, const int32_t *idx, int n,
				const float *v, __m256 *acc)
{
	size_t		y[8];
	int			j,
				l;

	for (l = 0; l < n; l++)
	{
		y[l] = (size_t) idx[l] * k;
		acc[l] = _mm256_setzero_ps();
	}
	for (j = 0; j < k; j += 8)
	{
		__m256		vv = _mm256_loadu_ps(v + j);

		for (l = 0; l < n; l++)
			acc[l] = _mm256_fmadd_ps(RecoAvx2Load8(Y, half, y[l] + j), vv, acc[l]);
	}
}

/* Dot-block template (float or half vectors): 8 items at a time, then 4, then 1. */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotBlockWide(int k, const void *Y, bool half, const int32_t *idx, int cnt,
					 const float *v, float *s)
{
	__m256		a[8];
	int			t = 0;

	for (; t + 8 <= cnt; t += 8)
	{
		RecoAvx2DotRows(k, Y, half, idx + t, 8, v, a);
		_mm256_storeu_ps(s + t, RecoAvx2Hsum8(a[0], a[1], a[2], a[3],
											  a[4], a[5], a[6], a[7]));
	}
	for (; t + 4 <= cnt; t += 4)
	{
		RecoAvx2DotRows(k, Y, half, idx + t, 4, v, a);
		_mm_storeu_ps(s + t, RecoAvx2Hsum4(a[0], a[1], a[2], a[3]));
	}
	for (; t < cnt; t++)
	{
		RecoAvx2DotRows(k, Y, half, idx + t, 1, v, a);
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
RecoAvx2AxpyRowsInline(int k, const void *Y, bool half, const int32_t *idx, int cnt,
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
			size_t		y = (size_t) (idx != NULL ? idx[t] : t) * k + jb;
			__m256		c = _mm256_broadcast_ss(coef + t);

			o0 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y), o0);
			o1 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 8), o1);
			o2 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 16), o2);
			o3 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 24), o3);
			o4 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 32), o4);
			o5 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 40), o5);
			o6 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 48), o6);
			o7 = _mm256_fmadd_ps(c, RecoAvx2Load8(Y, half, y + 56), o7);
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
								RecoAvx2Load8(Y, half, (size_t) (idx != NULL ? idx[t] : t) * k + jb), o);
		_mm256_storeu_ps(out + jb, o);
	}
}

/*
 * Unrolls the next loop fully (its bound is a small constant): keeps tiles
 * in registers (an accumulator array the compiler does not break up lives
 * on the stack, one store per multiply-add).
 */
#define RECO_UNROLL _Pragma("GCC unroll 8")

/*
 * One tile of the rank-K update: rows 0 .. R-1 of C, W x 8 columns, held in
 * registers while t runs over K (R <= 6, W <= 2, constants in every call).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2SyrkTile(int R, int W, int K, const float *P, const float *Q, int ld,
				 float *C, int ldc)
{
	__m256		acc[6][2];
	int			r,
				t;

	RECO_UNROLL
	for (r = 0; r < R; r++)
	{
		acc[r][0] = _mm256_loadu_ps(C + (size_t) r * ldc);
		acc[r][1] = W > 1 ? _mm256_loadu_ps(C + (size_t) r * ldc + 8) : acc[r][0];
	}
	for (t = 0; t < K; t++)
	{
		const float *p = P + (size_t) t * ld;
		const float *q = Q + (size_t) t * ld;
		__m256		q0 = _mm256_loadu_ps(q);
		__m256		q1 = W > 1 ? _mm256_loadu_ps(q + 8) : q0;

		RECO_UNROLL
		for (r = 0; r < R; r++)
		{
			__m256		pr = _mm256_broadcast_ss(p + r);

			acc[r][0] = _mm256_fmadd_ps(pr, q0, acc[r][0]);
			if (W > 1)
				acc[r][1] = _mm256_fmadd_ps(pr, q1, acc[r][1]);
		}
	}
	RECO_UNROLL
	for (r = 0; r < R; r++)
	{
		_mm256_storeu_ps(C + (size_t) r * ldc, acc[r][0]);
		if (W > 1)
			_mm256_storeu_ps(C + (size_t) r * ldc + 8, acc[r][1]);
	}
}

/* Rows of C in one register tile of the rank-K update (12 accumulators of 16 registers). */
#define RECO_AVX2_SYRK_ROWS 6

/* One syrk tile shape: R rows x W·8 columns. */
typedef void (*RecoAvx2SyrkTileFn) (int K, const float *P, const float *Q,
									int ld, float *C, int ldc);

/* Instantiates RecoAvx2SyrkTile for R rows and W·8 columns as RecoAvx2SyrkTileRxW. */
#define RECO_AVX2_SYRK_TILE(R, W) \
RECO_AVX2 static void \
RecoAvx2SyrkTile##R##x##W(int K, const float *P, const float *Q, int ld, \
						  float *C, int ldc) \
{ \
	RecoAvx2SyrkTile(R, W, K, P, Q, ld, C, ldc); \
}

RECO_AVX2_SYRK_TILE(1, 1)
RECO_AVX2_SYRK_TILE(2, 1)
RECO_AVX2_SYRK_TILE(3, 1)
RECO_AVX2_SYRK_TILE(4, 1)
RECO_AVX2_SYRK_TILE(5, 1)
RECO_AVX2_SYRK_TILE(6, 1)
RECO_AVX2_SYRK_TILE(1, 2)
RECO_AVX2_SYRK_TILE(2, 2)
RECO_AVX2_SYRK_TILE(3, 2)
RECO_AVX2_SYRK_TILE(4, 2)
RECO_AVX2_SYRK_TILE(5, 2)
RECO_AVX2_SYRK_TILE(6, 2)

/* The tile for R rows (index R − 1) and W·8 columns (index W − 1). */
static const RecoAvx2SyrkTileFn RecoAvx2SyrkTiles[RECO_AVX2_SYRK_ROWS][2] = {
	{RecoAvx2SyrkTile1x1, RecoAvx2SyrkTile1x2},
	{RecoAvx2SyrkTile2x1, RecoAvx2SyrkTile2x2},
	{RecoAvx2SyrkTile3x1, RecoAvx2SyrkTile3x2},
	{RecoAvx2SyrkTile4x1, RecoAvx2SyrkTile4x2},
	{RecoAvx2SyrkTile5x1, RecoAvx2SyrkTile5x2},
	{RecoAvx2SyrkTile6x1, RecoAvx2SyrkTile6x2}
};

/*
 * One zmm tile of the rank-K update: rows 0 .. R − 1 of C, W (1 or 2) x 16
 * columns, the last vector's columns masked by last (neither read nor
 * written past it), held in registers while t runs over K (R <= 8, W
 * constants in every call): every entry the FMA chain of RecoAvx2SyrkTile.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512SyrkTile(int R, int W, int K, const float *P, const float *Q, int ld,
				   float *C, int ldc, __mmask16 last)
{
	__m512		acc[8][2];
	__mmask16	mk[2] = {W > 1 ? (__mmask16) 0xffff : last, last};
	int			r,
				c,
				t;

	RECO_UNROLL
	for (r = 0; r < R; r++)
	{
		RECO_UNROLL
		for (c = 0; c < W; c++)
			acc[r][c] = _mm512_maskz_loadu_ps(mk[c], C + (size_t) r * ldc + 16 * c);
	}
	for (t = 0; t < K; t++)
	{
		const float *p = P + (size_t) t * ld;
		const float *q = Q + (size_t) t * ld;
		__m512		qv[2];

		RECO_UNROLL
		for (c = 0; c < W; c++)
			qv[c] = _mm512_maskz_loadu_ps(mk[c], q + 16 * c);
		RECO_UNROLL
		for (r = 0; r < R; r++)
		{
			__m512		pr = _mm512_set1_ps(p[r]);

			RECO_UNROLL
			for (c = 0; c < W; c++)
				acc[r][c] = _mm512_fmadd_ps(pr, qv[c], acc[r][c]);
		}
	}
	RECO_UNROLL
	for (r = 0; r < R; r++)
	{
		RECO_UNROLL
		for (c = 0; c < W; c++)
			_mm512_mask_storeu_ps(C + (size_t) r * ldc + 16 * c, mk[c], acc[r][c]);
	}
}

/* Rows of C in one zmm tile of the rank-K update (16 accumulators of 32 registers). */
#define RECO_AVX512_SYRK_ROWS 8

/* One zmm syrk tile shape: R rows x W·16 columns, the last vector masked. */
typedef void (*RecoAvx512SyrkTileFn) (int K, const float *P, const float *Q,
									  int ld, float *C, int ldc, __mmask16 last);

/* Instantiates RecoAvx512SyrkTile for R rows and W zmm columns as RecoAvx512SyrkTileRxW. */
#define RECO_AVX512_SYRK_TILE(R, W) \
RECO_AVX512 static void \
RecoAvx512SyrkTile##R##x##W(int K, const float *P, const float *Q, int ld, \
							float *C, int ldc, __mmask16 last) \
{ \
	RecoAvx512SyrkTile(R, W, K, P, Q, ld, C, ldc, last); \
}

RECO_AVX512_SYRK_TILE(1, 1)
RECO_AVX512_SYRK_TILE(2, 1)
RECO_AVX512_SYRK_TILE(3, 1)
RECO_AVX512_SYRK_TILE(4, 1)
RECO_AVX512_SYRK_TILE(5, 1)
RECO_AVX512_SYRK_TILE(6, 1)
RECO_AVX512_SYRK_TILE(7, 1)
RECO_AVX512_SYRK_TILE(8, 1)
RECO_AVX512_SYRK_TILE(1, 2)
RECO_AVX512_SYRK_TILE(2, 2)
RECO_AVX512_SYRK_TILE(3, 2)
RECO_AVX512_SYRK_TILE(4, 2)
RECO_AVX512_SYRK_TILE(5, 2)
RECO_AVX512_SYRK_TILE(6, 2)
RECO_AVX512_SYRK_TILE(7, 2)
RECO_AVX512_SYRK_TILE(8, 2)

/* The zmm tile for R rows (index R − 1) and W zmm columns (index W − 1). */
static const RecoAvx512SyrkTileFn RecoAvx512SyrkTiles[RECO_AVX512_SYRK_ROWS][2] = {
	{RecoAvx512SyrkTile1x1, RecoAvx512SyrkTile1x2},
	{RecoAvx512SyrkTile2x1, RecoAvx512SyrkTile2x2},
	{RecoAvx512SyrkTile3x1, RecoAvx512SyrkTile3x2},
	{RecoAvx512SyrkTile4x1, RecoAvx512SyrkTile4x2},
	{RecoAvx512SyrkTile5x1, RecoAvx512SyrkTile5x2},
	{RecoAvx512SyrkTile6x1, RecoAvx512SyrkTile6x2},
	{RecoAvx512SyrkTile7x1, RecoAvx512SyrkTile7x2},
	{RecoAvx512SyrkTile8x1, RecoAvx512SyrkTile8x2}
};

/*
 * RecoAvx2Syrk in zmm tiles of RECO_AVX512_SYRK_ROWS rows x 32 columns (a
 * last 8 columns masked): each row block's columns end at its last row
 * rounded up to 8, within what the ymm tiles write; every entry the same
 * FMA chain over t, so the same bits.
 */
RECO_AVX512 static void
RecoAvx512Syrk(int m, int K, const float *P, const float *Q, int ld, float *C,
			   int ldc)
{
	int			a0,
				b0;

	for (a0 = 0; a0 < m; a0 += RECO_AVX512_SYRK_ROWS)
	{
		int			R = m - a0 < RECO_AVX512_SYRK_ROWS ? m - a0 : RECO_AVX512_SYRK_ROWS;
		int			end = (a0 + R + 7) & ~7;	/* columns to cover */

		for (b0 = 0; b0 < end; b0 += 32)
		{
			int			rem = end - b0;

			RecoAvx512SyrkTiles[R - 1][rem > 16 ? 1 : 0] (K, P + a0, Q + b0, ld,
														  C + (size_t) a0 * ldc + b0, ldc,
														  rem == 8 || rem == 24 ? 0x00ff : 0xffff);
		}
	}
}

/*
 * Lower-triangle rank-K update, tiles of RECO_AVX2_SYRK_ROWS rows x 16
 * columns up to the diagonal (RecoAvx512Syrk's zmm tiles with AVX-512F):
 * every entry is one FMA chain over t, whatever its tile.
 */
RECO_AVX2 static void
RecoAvx2Syrk(int m, int K, const float *P, const float *Q, int ld, float *C,
			 int ldc)
{
	int			a0,
				b0;

	if (RecoAvx2Zmm)
	{
		RecoAvx512Syrk(m, K, P, Q, ld, C, ldc);
		return;
	}
	for (a0 = 0; a0 < m; a0 += RECO_AVX2_SYRK_ROWS)
	{
		int			R = m - a0 < RECO_AVX2_SYRK_ROWS ? m - a0 : RECO_AVX2_SYRK_ROWS;
		int			end = (a0 + R + 7) & ~7;	/* columns to cover */

		for (b0 = 0; b0 < end; b0 += 16)
			RecoAvx2SyrkTiles[R - 1][b0 + 16 <= end ? 1 : 0] (K, P + a0, Q + b0, ld,
															  C + (size_t) a0 * ldc + b0, ldc);
	}
}

/*
 * Float-to-half copy with F16C (round to nearest even), eight values at a
 * time, the rest by RecoFloatToHalf (the same bits); true if every value is
 * finite and below RECO_HALF_OVERFLOW.
 */
RECO_AVX2 static bool
RecoAvx2ToHalf(int64_t n, const float *src, uint16_t *dst)
{
	__m256		limit = _mm256_set1_ps(RECO_HALF_OVERFLOW),
				absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)),
				ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
	bool		tail = true;
	int64_t		j = 0;

	for (; j + 8 <= n; j += 8)
	{
		__m256		v = _mm256_loadu_ps(src + j);

		/* ordered compare: a NaN clears its lane */
		ok = _mm256_and_ps(ok, _mm256_cmp_ps(_mm256_and_ps(v, absmask), limit, _CMP_LT_OQ));
		_mm_storeu_si128((__m128i *) (dst + j),
						 _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	}
	for (; j < n; j++)
	{
		dst[j] = RecoFloatToHalf(src[j]);
		tail &= fabsf(src[j]) < RECO_HALF_OVERFLOW;
	}
	return tail && _mm256_movemask_ps(ok) == 0xff;
}


/*
 * Copies cnt gathered half vectors of k values (k a multiple of 8) to
 * hdst + t·k: WIDE's moves first (RECO_GATHER_HALF_ZMM: 32 halves per zmm
 * move, or RECO_GATHER_HALF_NONE), then 16 per ymm and 8 per xmm move;
 * inlined into each k's kernel, so k 64 and 128 copy a vector in two or
 * four zmm moves, not a memcpy call.
 */
#define RECO_GATHER_HALF_ROWS(k, Yh, idx, cnt, hdst, WIDE) \
do { \
	int			t_, \
				j_; \
 \
	for (t_ = 0; t_ < (cnt); t_++) \
	{ \
		const uint16_t *y_ = (Yh) + (size_t) (idx)[t_] * (k); \
		uint16_t   *h_ = (hdst) + (size_t) t_ * (k); \
 \
		j_ = 0; \
		WIDE(y_, h_, j_, k); \
		for (; j_ + 16 <= (k); j_ += 16) \
			_mm256_storeu_si256((__m256i *) (h_ + j_), _mm256_loadu_si256((const __m256i *) (y_ + j_))); \
		if (j_ < (k)) \
			_mm_storeu_si128((__m128i *) (h_ + j_), _mm_loadu_si128((const __m128i *) (y_ + j_))); \
	} \
} while (0)

/* RECO_GATHER_HALF_ROWS' zmm moves (AVX-512F kernels only): 32 halves at a time from j. */
#define RECO_GATHER_HALF_ZMM(y, h, j, k) \
	for (; (j) + 32 <= (k); (j) += 32) \
		_mm512_storeu_si512((void *) ((h) + (j)), _mm512_loadu_si512((const void *) ((y) + (j))))

/* RECO_GATHER_HALF_ROWS without wide moves (the AVX2 kernels). */
#define RECO_GATHER_HALF_NONE(y, h, j, k) ((void) 0)

/* Lets the AVX2 kernels use AVX-512F (zmm) registers; called once, by kernels.c's choice of path. */
void
RecoKernelsAvx2UseZmm(bool zmm)
{
	RecoAvx2Zmm = zmm;
}

/* Sixteen values of a row of vectors at float offset `at`: float, or half widened exactly. */
RECO_AVX512 RECO_INLINE __m512
RecoAvx512Load16(const void *Y, bool half, size_t at)
{
	if (half)
		return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) ((const uint16_t *) Y + at)));
	return _mm512_loadu_ps((const float *) Y + at);
}

/* Columns jb .. jb + 16·C − 1 of RecoAvx512AxpyRowsInline (C <= 8 zmm registers, a constant where inlined). */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyCols(int C, int k, int jb, const void *Y, bool half, const int32_t *idx,
				   int cnt, const float *coef, float *out, bool from_zero)
{
	__m512		o[8];
	int			c,
				t;

	for (c = 0; c < C; c++)
		o[c] = from_zero ? _mm512_setzero_ps() : _mm512_loadu_ps(out + jb + 16 * c);
	for (t = 0; t < cnt; t++)
	{
		size_t		y = (size_t) (idx != NULL ? idx[t] : t) * k + jb;
		__m512		cf = _mm512_set1_ps(coef[t]);

		for (c = 0; c < C; c++)
			o[c] = _mm512_fmadd_ps(cf, RecoAvx512Load16(Y, half, y + 16 * c), o[c]);
	}
	for (c = 0; c < C; c++)
		_mm512_storeu_ps(out + jb + 16 * c, o[c]);
}

/*
 * The last columns jb .. k − 1 (fewer than 64) of the multi-axpys of R <= 2
 * rows (Y[r], coef[r], out[r]; the same idx) in one pass over t: C16 zmm
 * registers of 16 columns and, if Y8, one ymm of 8 per row (R, C16, Y8
 * constants where inlined).  Each column is the same FMA chain over t from
 * the same start as in a pass of its own, so the bits are the same, but up
 * to 8 chains run together where a pass of 16 or 8 columns runs one
 * (bound by the FMA's latency).
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyTail(int R, int C16, bool Y8, int k, int jb, const void *const *Y,
				   bool half, const int32_t *idx, int cnt,
				   const float *const *coef, float *const *out, bool from_zero)
{
	__m512		o[2][3];
	__m256		o8[2];
	int			j8 = jb + 16 * C16,
				r,
				c,
				t;

	for (r = 0; r < R; r++)
	{
		for (c = 0; c < C16; c++)
			o[r][c] = from_zero ? _mm512_setzero_ps() : _mm512_loadu_ps(out[r] + jb + 16 * c);
		o8[r] = from_zero || !Y8 ? _mm256_setzero_ps() : _mm256_loadu_ps(out[r] + j8);
	}
	for (t = 0; t < cnt; t++)
	{
		size_t		y = (size_t) (idx != NULL ? idx[t] : t) * k;

		for (r = 0; r < R; r++)
		{
			__m512		f = _mm512_set1_ps(coef[r][t]);

			for (c = 0; c < C16; c++)
				o[r][c] = _mm512_fmadd_ps(f, RecoAvx512Load16(Y[r], half, y + jb + 16 * c), o[r][c]);
			if (Y8)
				o8[r] = _mm256_fmadd_ps(_mm512_castps512_ps256(f), RecoAvx2Load8(Y[r], half, y + j8), o8[r]);
		}
	}
	for (r = 0; r < R; r++)
	{
		for (c = 0; c < C16; c++)
			_mm512_storeu_ps(out[r] + jb + 16 * c, o[r][c]);
		if (Y8)
			_mm256_storeu_ps(out[r] + j8, o8[r]);
	}
}

/* RecoAvx512AxpyTail for the k − jb (< 64, a multiple of 8) columns left, each size its own constants. */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyTails(int R, int k, int jb, const void *const *Y, bool half,
					const int32_t *idx, int cnt, const float *const *coef,
					float *const *out, bool from_zero)
{
	switch ((k - jb) / 8)
	{
		case 1:
			RecoAvx512AxpyTail(R, 0, true, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 2:
			RecoAvx512AxpyTail(R, 1, false, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 3:
			RecoAvx512AxpyTail(R, 1, true, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 4:
			RecoAvx512AxpyTail(R, 2, false, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 5:
			RecoAvx512AxpyTail(R, 2, true, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 6:
			RecoAvx512AxpyTail(R, 3, false, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
		case 7:
			RecoAvx512AxpyTail(R, 3, true, k, jb, Y, half, idx, cnt, coef, out, from_zero);
			break;
	}
}

/*
 * RecoAvx2AxpyRowsInline with AVX-512F: 128 columns at a time in 8 zmm
 * registers, then 64, then the rest in one pass (RecoAvx512AxpyTails).
 * Every column is the same FMA chain over t from the same start, so the
 * bits are the ymm template's; a core with a 512-bit datapath (Zen 5) does
 * twice the columns per instruction, and half vectors take one conversion
 * per 16.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyRowsInline(int k, const void *Y, bool half, const int32_t *idx, int cnt,
						 const float *coef, float *out, bool from_zero)
{
	int			jb = 0;

	for (; jb + 128 <= k; jb += 128)
		RecoAvx512AxpyCols(8, k, jb, Y, half, idx, cnt, coef, out, from_zero);
	for (; jb + 64 <= k; jb += 64)
		RecoAvx512AxpyCols(4, k, jb, Y, half, idx, cnt, coef, out, from_zero);
	RecoAvx512AxpyTails(1, k, jb, &Y, half, idx, cnt, &coef, &out, from_zero);
}

/*
 * axpy_pair_h with AVX-512F: RecoAvx512AxpyRowsInline's 128- and
 * 64-column steps row by row (their 8 or 4 chains already keep the
 * conversions busy), then the last k mod 64 columns of both rows in one
 * pass, so the two rows' chains hide each other's latency.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyPairInline(int k, const uint16_t *Ya, const uint16_t *Yb,
						 const int32_t *idx, int cnt, const float *ca,
						 const float *cb, float *oa, float *ob)
{
	const void *Y[2] = {Ya, Yb};
	const float *coef[2] = {ca, cb};
	float	   *out[2] = {oa, ob};
	int			jb = 0;

	for (; jb + 128 <= k; jb += 128)
	{
		RecoAvx512AxpyCols(8, k, jb, Ya, true, idx, cnt, ca, oa, false);
		RecoAvx512AxpyCols(8, k, jb, Yb, true, idx, cnt, cb, ob, false);
	}
	for (; jb + 64 <= k; jb += 64)
	{
		RecoAvx512AxpyCols(4, k, jb, Ya, true, idx, cnt, ca, oa, false);
		RecoAvx512AxpyCols(4, k, jb, Yb, true, idx, cnt, cb, ob, false);
	}
	RecoAvx512AxpyTails(2, k, jb, Y, true, idx, cnt, coef, out, false);
}

/*
 * Eight values of two vectors at float offsets a and b, in one zmm (a's in
 * the low half): float, or half widened exactly.
 */
RECO_AVX512 RECO_INLINE __m512
RecoAvx512Load8x2(const void *Y, bool half, size_t a, size_t b)
{
	if (half)
	{
		const uint16_t *h = (const uint16_t *) Y;
		__m256i		ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (h + a))),
												 _mm_loadu_si128((const __m128i *) (h + b)), 1);

		return _mm512_cvtph_ps(ab);
	}
	return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps((const float *) Y + a))),
											   _mm256_castps_pd(_mm256_loadu_ps((const float *) Y + b)), 1));
}

/*
 * RecoAvx2DotRows for 16 item vectors with AVX-512F: zmm acc[p] holds the
 * 8-lane partial sums of vectors 2p (low half) and 2p + 1 (high half),
 * each lane the same FMA chain over j as the ymm accumulator's, so the
 * halves are RecoAvx2DotRows' accumulators bit for bit.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512DotRows16(int k, const void *Y, bool half, const int32_t *idx,
					const float *v, __m512 *acc)
{
	size_t		y[16];
	int			j,
				p;

	for (p = 0; p < 16; p++)
		y[p] = (size_t) idx[p] * k;
	for (p = 0; p < 8; p++)
		acc[p] = _mm512_setzero_ps();
	for (j = 0; j < k; j += 8)
	{
		__m256		v8 = _mm256_loadu_ps(v + j);
		__m512		vv = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(v8)),
															 _mm256_castps_pd(v8), 1));

		for (p = 0; p < 8; p++)
			acc[p] = _mm512_fmadd_ps(RecoAvx512Load8x2(Y, half, y[2 * p] + j, y[2 * p + 1] + j),
									 vv, acc[p]);
	}
}

/* The low (h 0) or high (h 1) eight lanes of a zmm. */
RECO_AVX512 RECO_INLINE __m256
RecoAvx512Half(__m512 a, int h)
{
	if (h == 0)
		return _mm512_castps512_ps256(a);
	return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
}

/*
 * RecoAvx2Hsum8 of the eight 8-lane vectors x0's low and high halves, then
 * x1's, x2's and x3's (lane t of the result: the t-th vector's sum) in zmm
 * registers: the same pairwise sums ((l0 + l1) + (l2 + l3)) + ((l4 + l5) +
 * (l6 + l7)) of each vector (additions commute bit for bit), in 11 shuffles
 * and adds where the ymm tree takes 4 extractions and 9 horizontal steps.
 */
RECO_AVX512 RECO_INLINE __m256
RecoAvx512Hsum8Pairs(__m512 x0, __m512 x1, __m512 x2, __m512 x3)
{
	/* per 128-bit lane: adjacent pairs of x0 and x1 (x2 and x3) */
	__m512		s01 = _mm512_add_ps(_mm512_shuffle_ps(x0, x1, 0x88), _mm512_shuffle_ps(x0, x1, 0xdd)),
				s23 = _mm512_add_ps(_mm512_shuffle_ps(x2, x3, 0x88), _mm512_shuffle_ps(x2, x3, 0xdd));

	/* lane 0: vectors 0, 2, 4, 6's l0..l3 sums; 1: their l4..l7; 2 and 3: vectors 1, 3, 5, 7's */
	__m512		t = _mm512_add_ps(_mm512_shuffle_ps(s01, s23, 0x88), _mm512_shuffle_ps(s01, s23, 0xdd));

	/* lanes 0 and 2: each vector's low four plus its high four */
	__m512		u = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xb1));
	__m128		even = _mm512_castps512_ps128(u),
				odd = _mm512_extractf32x4_ps(u, 2);

	return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_unpacklo_ps(even, odd)),
								_mm_unpackhi_ps(even, odd), 1);
}

/*
 * RecoAvx2DotBlockWide with AVX-512F: 16 vectors at a time (RecoAvx512DotRows16,
 * summed by RecoAvx2Hsum8's tree in zmm registers, RecoAvx512Hsum8Pairs), the
 * rest by the ymm template: the same bits.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512DotBlockWide(int k, const void *Y, bool half, const int32_t *idx, int cnt,
					   const float *v, float *s)
{
	__m512		a[8];
	int			t = 0,
				g;

	for (; t + 16 <= cnt; t += 16)
	{
		RecoAvx512DotRows16(k, Y, half, idx + t, v, a);
		for (g = 0; g < 2; g++)
			_mm256_storeu_ps(s + t + 8 * g,
							 RecoAvx512Hsum8Pairs(a[4 * g], a[4 * g + 1], a[4 * g + 2], a[4 * g + 3]));
	}
	if (t < cnt)
		RecoAvx2DotBlockWide(k, Y, half, idx + t, cnt - t, v, s + t);
}


/* Back substitution U z = z (one instance for every size). */
RECO_AVX2 static void
RecoAvx2Back(int n, const double *U, double *z)
{
	RecoCholBackInline(true, n, U, z);
}

/* ------------------------------------------------------------------------
 * Exact-pass kernels: the float Gram of a short row's z rows and the
 * double triangular substitutions, in register tiles.  Each gives every
 * entry the same multiply-adds in the same order as the template it
 * replaces (RecoAvx2DotBlockWide's lanes and tree, the one-row sweeps of
 * RecoCholForwardInline / RecoCholBackTInline), so results are
 * bit-identical to it; only the order in which entries are visited changes.
 * ------------------------------------------------------------------------
 */


/*
 * One tile of a short row's Gram: the 8-lane partial sums of z_{i0+a} ·
 * z_{j0+b} (a < 4, b < 3) over k, each lane one FMA chain over the 8-blocks
 * as RecoAvx2DotRows makes it, reduced by RecoAvx2Hsum4 (the same tree as
 * every dot block); out[a][b] gets the result.  Rows are Z[idx[..]].
 * cols (the columns the AVX-512 tile may skip on the diagonal) is unused
 * here: this tile always computes its 3 columns.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2RowsGramTile(int k, const float *Z, const int32_t *ia,
					 const int32_t *ib, float out[4][8], int cols)
{
	__m256		acc[4][3];
	const float *za[4],
			   *zb[3];
	int			a,
				b,
				j;

	(void) cols;
	RECO_UNROLL
	for (a = 0; a < 4; a++)
		za[a] = Z + (size_t) ia[a] * k;
	RECO_UNROLL
	for (b = 0; b < 3; b++)
		zb[b] = Z + (size_t) ib[b] * k;
	RECO_UNROLL
	for (a = 0; a < 4; a++)
	{
		RECO_UNROLL
		for (b = 0; b < 3; b++)
			acc[a][b] = _mm256_setzero_ps();
	}
	for (j = 0; j < k; j += 8)
	{
		__m256		q0 = _mm256_loadu_ps(zb[0] + j),
					q1 = _mm256_loadu_ps(zb[1] + j),
					q2 = _mm256_loadu_ps(zb[2] + j);

		RECO_UNROLL
		for (a = 0; a < 4; a++)
		{
			__m256		v = _mm256_loadu_ps(za[a] + j);

			acc[a][0] = _mm256_fmadd_ps(q0, v, acc[a][0]);
			acc[a][1] = _mm256_fmadd_ps(q1, v, acc[a][1]);
			acc[a][2] = _mm256_fmadd_ps(q2, v, acc[a][2]);
		}
	}
	RECO_UNROLL
	for (a = 0; a < 4; a++)
		_mm_storeu_ps(out[a], RecoAvx2Hsum4(acc[a][0], acc[a][1], acc[a][2], acc[a][2]));
}

/*
 * The lower triangle of Z_w Z_wᵀ (m x m, stride m) for the rows Z[idx[i]],
 * i < m: M[i][j] = z_i · z_j for j <= i, bit for bit what dot_block gives
 * for the same pair, in TILE's tiles of 4 x W entries (a tile past the
 * triangle's edge reads row m − 1 in place of the missing rows and stores
 * nothing there; TILE is told how many of its columns reach the diagonal),
 * as NAME with ATTR: one driver for the ymm and zmm tiles.
 */
#define RECO_ROWS_GRAM_TEMPLATE(ATTR, NAME, TILE, W) \
ATTR RECO_INLINE void \
NAME(int k, int m, const float *Z, const int32_t *idx, float *M) \
{ \
	float		out[4][8]; \
	int32_t		ia[4], \
				ib[8]; \
	int			i0, \
				j0, \
				a, \
				b; \
 \
	for (i0 = 0; i0 < m; i0 += 4) \
	{ \
		for (a = 0; a < 4; a++) \
			ia[a] = idx[i0 + a < m ? i0 + a : m - 1]; \
		for (j0 = 0; j0 <= i0 + 3 && j0 < m; j0 += W) \
		{ \
			for (b = 0; b < W; b++) \
				ib[b] = idx[j0 + b < m ? j0 + b : m - 1]; \
			TILE(k, Z, ia, ib, out, i0 + 4 - j0); \
			if (i0 + 4 <= m && j0 + W <= i0 + 1) \
			{ \
				/* the whole tile below the diagonal: row copies */ \
				for (a = 0; a < 4; a++) \
					memcpy(M + (size_t) (i0 + a) * m + j0, out[a], sizeof(float) * W); \
				continue; \
			} \
			for (a = 0; a < 4 && i0 + a < m; a++) \
				for (b = 0; b < W && j0 + b <= i0 + a; b++) \
					M[(size_t) (i0 + a) * m + j0 + b] = out[a][b]; \
		} \
	} \
}

RECO_ROWS_GRAM_TEMPLATE(RECO_AVX2, RecoAvx2RowsGramInline, RecoAvx2RowsGramTile, 3)

/*
 * RecoAvx2RowsGramTile with AVX-512F for 4 x 2P entries (P 2 or 4, a
 * constant): zmm acc[a][p] holds the 8-lane partial sums of z_{i0+a} ·
 * z_{j0+2p} (low half) and z_{i0+a} · z_{j0+2p+1} (high half), each lane
 * the ymm tile's FMA chain over the 8-blocks, reduced by RecoAvx2Hsum8's
 * tree (RecoAvx2Hsum4's for each vector, and for P 2): out[a][b] the same
 * bits.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512RowsGramPairs(int P, int k, const float *Z, const int32_t *ia,
						const int32_t *ib, float out[4][8])
{
	__m512		acc[4][4];
	size_t		za[4],
				zb[8];
	int			a,
				p,
				j;

	RECO_UNROLL
	for (a = 0; a < 4; a++)
		za[a] = (size_t) ia[a] * k;
	RECO_UNROLL
	for (p = 0; p < 2 * P; p++)
		zb[p] = (size_t) ib[p] * k;
	RECO_UNROLL
	for (a = 0; a < 4; a++)
	{
		RECO_UNROLL
		for (p = 0; p < P; p++)
			acc[a][p] = _mm512_setzero_ps();
	}
	for (j = 0; j < k; j += 8)
	{
		__m512		q[4];

		RECO_UNROLL
		for (p = 0; p < P; p++)
			q[p] = RecoAvx512Load8x2(Z, false, zb[2 * p] + j, zb[2 * p + 1] + j);
		RECO_UNROLL
		for (a = 0; a < 4; a++)
		{
			__m512		v = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(Z + za[a] + j))));

			RECO_UNROLL
			for (p = 0; p < P; p++)
				acc[a][p] = _mm512_fmadd_ps(q[p], v, acc[a][p]);
		}
	}
	RECO_UNROLL
	for (a = 0; a < 4; a++)
	{
		if (P == 2)
			_mm_storeu_ps(out[a], RecoAvx2Hsum4(RecoAvx512Half(acc[a][0], 0), RecoAvx512Half(acc[a][0], 1),
												RecoAvx512Half(acc[a][1], 0), RecoAvx512Half(acc[a][1], 1)));
		else
			_mm256_storeu_ps(out[a], RecoAvx512Hsum8Pairs(acc[a][0], acc[a][1], acc[a][2], acc[a][3]));
	}
}

/*
 * The zmm tile of 4 x 8 entries, or of 4 x 4 when only cols <= 4 of its
 * columns reach the diagonal (a diagonal tile starting on a row of its
 * own): RecoAvx512RowsGramPairs.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512RowsGramTile(int k, const float *Z, const int32_t *ia,
					   const int32_t *ib, float out[4][8], int cols)
{
	if (cols <= 4)
		RecoAvx512RowsGramPairs(2, k, Z, ia, ib, out);
	else
		RecoAvx512RowsGramPairs(4, k, Z, ia, ib, out);
}

/* RecoAvx2RowsGramInline in RecoAvx512RowsGramTile's tiles of 4 x 8 entries (the same bits). */
RECO_ROWS_GRAM_TEMPLATE(RECO_AVX512, RecoAvx512RowsGramInline, RecoAvx512RowsGramTile, 8)

/*
 * z[j] −= m0[j]·z0, then m1[j]·z1, m2[j]·z2, m3[j]·z3 for lo <= j < hi, one
 * fused multiply-subtract each in that order (as four one-row sweeps of a
 * substitution would make them), z loaded and stored once per four.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2Sub4(const double *m0, const double *m1, const double *m2,
			 const double *m3, double z0, double z1, double z2, double z3,
			 double *z, int lo, int hi)
{
	__m256d		b0 = _mm256_set1_pd(z0),
				b1 = _mm256_set1_pd(z1),
				b2 = _mm256_set1_pd(z2),
				b3 = _mm256_set1_pd(z3);
	int			j = lo;

	for (; j + 4 <= hi; j += 4)
	{
		__m256d		a = _mm256_loadu_pd(z + j);

		a = _mm256_fnmadd_pd(_mm256_loadu_pd(m0 + j), b0, a);
		a = _mm256_fnmadd_pd(_mm256_loadu_pd(m1 + j), b1, a);
		a = _mm256_fnmadd_pd(_mm256_loadu_pd(m2 + j), b2, a);
		a = _mm256_fnmadd_pd(_mm256_loadu_pd(m3 + j), b3, a);
		_mm256_storeu_pd(z + j, a);
	}
	for (; j < hi; j++)
	{
		double		a = z[j];

		a = fma(-m0[j], z0, a);
		a = fma(-m1[j], z1, a);
		a = fma(-m2[j], z2, a);
		a = fma(-m3[j], z3, a);
		z[j] = a;
	}
}

/* z[j] −= m[j]·zj for lo <= j < hi, one fused multiply-subtract each. */
RECO_AVX2 RECO_INLINE void
RecoAvx2Sub1(const double *m, double zj, double *z, int lo, int hi)
{
	int			j;

	for (j = lo; j < hi; j++)
		z[j] = fma(-m[j], zj, z[j]);
}

/*
 * Forward substitution Uᵀ z = z (RecoCholForwardInline bit for bit), four
 * rows of U at a time: their four pivots are solved first (each updating
 * the next ones' entries), then the rest of z takes the four rows' updates
 * in one sweep.
 */
RECO_AVX2 static void
RecoAvx2ForwardTiled(int n, const double *U, double *z)
{
	int			j = 0,
				r;

	for (; j + 4 <= n; j += 4)
	{
		const double *u0 = U + (size_t) j * n,
				   *u1 = u0 + n,
				   *u2 = u1 + n,
				   *u3 = u2 + n;

		z[j] = z[j] / u0[j];
		RecoAvx2Sub1(u0, z[j], z, j + 1, j + 4);
		z[j + 1] = z[j + 1] / u1[j + 1];
		RecoAvx2Sub1(u1, z[j + 1], z, j + 2, j + 4);
		z[j + 2] = z[j + 2] / u2[j + 2];
		RecoAvx2Sub1(u2, z[j + 2], z, j + 3, j + 4);
		z[j + 3] = z[j + 3] / u3[j + 3];
		RecoAvx2Sub4(u0, u1, u2, u3, z[j], z[j + 1], z[j + 2], z[j + 3], z, j + 4, n);
	}
	for (r = j; r < n; r++)
	{
		z[r] = z[r] / U[(size_t) r * n + r];
		RecoAvx2Sub1(U + (size_t) r * n, z[r], z, r + 1, n);
	}
}

/* Vectors of one RecoAvx2BackTRowsInline sweep (their pivots stay in ymm registers). */
#define RECO_AVX2_BACKT_ROWS 4

/*
 * Back substitution U z = z from L = Uᵀ (RecoCholBackTInline bit for bit)
 * of cnt <= RECO_AVX2_BACKT_ROWS vectors zs[c], four rows of L at a time from
 * the bottom, as RecoAvx2ForwardTiled: each vector's four pivots, then the
 * rest of every vector takes the four rows' updates in one sweep that
 * loads each stretch of the rows once for all the vectors (RecoAvx2Sub4's
 * operations on each).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2BackTRowsInline(int n, const double *L, double *const *zs, int cnt)
{
	int			i = n - 1,
				c,
				j;

	for (; i >= 3; i -= 4)
	{
		const double *l0 = L + (size_t) i * n,
				   *l1 = l0 - n,
				   *l2 = l1 - n,
				   *l3 = l2 - n;
		__m256d		b[RECO_AVX2_BACKT_ROWS][4];

		for (c = 0; c < cnt; c++)
		{
			double	   *z = zs[c];

			z[i] = z[i] / l0[i];
			RecoAvx2Sub1(l0, z[i], z, i - 3, i);
			z[i - 1] = z[i - 1] / l1[i - 1];
			RecoAvx2Sub1(l1, z[i - 1], z, i - 3, i - 1);
			z[i - 2] = z[i - 2] / l2[i - 2];
			RecoAvx2Sub1(l2, z[i - 2], z, i - 3, i - 2);
			z[i - 3] = z[i - 3] / l3[i - 3];
			b[c][0] = _mm256_set1_pd(z[i]);
			b[c][1] = _mm256_set1_pd(z[i - 1]);
			b[c][2] = _mm256_set1_pd(z[i - 2]);
			b[c][3] = _mm256_set1_pd(z[i - 3]);
		}
		for (j = 0; j + 4 <= i - 3; j += 4)
		{
			__m256d		m0 = _mm256_loadu_pd(l0 + j),
						m1 = _mm256_loadu_pd(l1 + j),
						m2 = _mm256_loadu_pd(l2 + j),
						m3 = _mm256_loadu_pd(l3 + j);

			for (c = 0; c < cnt; c++)
			{
				__m256d		a = _mm256_loadu_pd(zs[c] + j);

				a = _mm256_fnmadd_pd(m0, b[c][0], a);
				a = _mm256_fnmadd_pd(m1, b[c][1], a);
				a = _mm256_fnmadd_pd(m2, b[c][2], a);
				a = _mm256_fnmadd_pd(m3, b[c][3], a);
				_mm256_storeu_pd(zs[c] + j, a);
			}
		}
		for (c = 0; c < cnt; c++)
		{
			double	   *z = zs[c];

			RecoAvx2Sub4(l0, l1, l2, l3, z[i], z[i - 1], z[i - 2], z[i - 3], z, j, i - 3);
		}
	}
	for (; i >= 0; i--)
		for (c = 0; c < cnt; c++)
		{
			double	   *z = zs[c];

			z[i] = z[i] / L[(size_t) i * n + i];
			RecoAvx2Sub1(L + (size_t) i * n, z[i], z, 0, i);
		}
}

/* Back substitution U z = z from L = Uᵀ: RecoAvx2BackTRowsInline for one vector. */
RECO_AVX2 static void
RecoAvx2BackTTiled(int n, const double *L, double *z)
{
	RecoAvx2BackTRowsInline(n, L, &z, 1);
}

/* Largest n of RecoAvx512BackTLanes (its interleaved copy lives on the stack) ... */
#define RECO_AVX512_BACKT_MAX_N 256
/* ... and the fewest vectors it takes (fewer go through RecoAvx2BackTRowsInline). */
#define RECO_AVX512_BACKT_MIN_ROWS 3

/* Transposes the 8 x 8 doubles of r in place (r[c][i] ↔ r[i][c]). */
RECO_AVX512 RECO_INLINE void
RecoAvx512Transpose8(__m512d *r)
{
	__m512d		t[8],
				u[8];
	int			c;

	for (c = 0; c < 8; c += 2)
	{
		t[c] = _mm512_unpacklo_pd(r[c], r[c + 1]);
		t[c + 1] = _mm512_unpackhi_pd(r[c], r[c + 1]);
	}
	for (c = 0; c < 8; c += 4)
	{
		u[c] = _mm512_shuffle_f64x2(t[c], t[c + 2], 0x88);
		u[c + 1] = _mm512_shuffle_f64x2(t[c + 1], t[c + 3], 0x88);
		u[c + 2] = _mm512_shuffle_f64x2(t[c], t[c + 2], 0xdd);
		u[c + 3] = _mm512_shuffle_f64x2(t[c + 1], t[c + 3], 0xdd);
	}
	for (c = 0; c < 4; c++)
	{
		r[c] = _mm512_shuffle_f64x2(u[c], u[c + 4], 0x88);
		r[c + 4] = _mm512_shuffle_f64x2(u[c], u[c + 4], 0xdd);
	}
}

/*
 * Back substitution U z = z from L = Uᵀ (RecoCholBackTInline bit for bit)
 * of cnt <= 8 vectors at once, one per lane of a zmm: the vectors are
 * interleaved (entry i of vector c in lane c of W[i], 8 x 8 transposes),
 * so each pivot's division and each update are one instruction for all of
 * them; four rows of L at a time from the bottom, each entry's updates in
 * the same (descending) row order with the same fused multiply-adds.
 * n <= RECO_AVX512_BACKT_MAX_N.
 */
RECO_AVX512 static void
RecoAvx512BackTLanes(int n, const double *L, double *const *zs, int cnt)
{
	static const double zero[RECO_AVX512_BACKT_MAX_N];
	const double *src[8];
	__m512d		W[RECO_AVX512_BACKT_MAX_N],
				r[8];
	int			n8 = n / 8 * 8,
				i,
				j,
				c;

	for (c = 0; c < 8; c++)
		src[c] = c < cnt ? zs[c] : zero;
	for (i = 0; i < n8; i += 8)
	{
		for (c = 0; c < 8; c++)
			r[c] = _mm512_loadu_pd(src[c] + i);
		RecoAvx512Transpose8(r);
		for (c = 0; c < 8; c++)
			W[i + c] = r[c];
	}
	for (; i < n; i++)
		W[i] = _mm512_set_pd(src[7][i], src[6][i], src[5][i], src[4][i],
							 src[3][i], src[2][i], src[1][i], src[0][i]);
	for (i = n - 1; i >= 3; i -= 4)
	{
		const double *l0 = L + (size_t) i * n,
				   *l1 = l0 - n,
				   *l2 = l1 - n,
				   *l3 = l2 - n;
		__m512d		z0,
					z1,
					z2,
					z3;

		z0 = _mm512_div_pd(W[i], _mm512_set1_pd(l0[i]));
		z1 = _mm512_fnmadd_pd(_mm512_set1_pd(l0[i - 1]), z0, W[i - 1]);
		z1 = _mm512_div_pd(z1, _mm512_set1_pd(l1[i - 1]));
		z2 = _mm512_fnmadd_pd(_mm512_set1_pd(l0[i - 2]), z0, W[i - 2]);
		z2 = _mm512_fnmadd_pd(_mm512_set1_pd(l1[i - 2]), z1, z2);
		z2 = _mm512_div_pd(z2, _mm512_set1_pd(l2[i - 2]));
		z3 = _mm512_fnmadd_pd(_mm512_set1_pd(l0[i - 3]), z0, W[i - 3]);
		z3 = _mm512_fnmadd_pd(_mm512_set1_pd(l1[i - 3]), z1, z3);
		z3 = _mm512_fnmadd_pd(_mm512_set1_pd(l2[i - 3]), z2, z3);
		z3 = _mm512_div_pd(z3, _mm512_set1_pd(l3[i - 3]));
		W[i] = z0;
		W[i - 1] = z1;
		W[i - 2] = z2;
		W[i - 3] = z3;
		/* from the bottom: the next four pivots' entries first, so their chain can start */
		for (j = i - 4; j >= 0; j--)
		{
			__m512d		a = W[j];

			a = _mm512_fnmadd_pd(_mm512_set1_pd(l0[j]), z0, a);
			a = _mm512_fnmadd_pd(_mm512_set1_pd(l1[j]), z1, a);
			a = _mm512_fnmadd_pd(_mm512_set1_pd(l2[j]), z2, a);
			a = _mm512_fnmadd_pd(_mm512_set1_pd(l3[j]), z3, a);
			W[j] = a;
		}
	}
	for (; i >= 0; i--)
	{
		const double *li = L + (size_t) i * n;
		__m512d		zi = _mm512_div_pd(W[i], _mm512_set1_pd(li[i]));

		W[i] = zi;
		for (j = 0; j < i; j++)
			W[j] = _mm512_fnmadd_pd(_mm512_set1_pd(li[j]), zi, W[j]);
	}
	for (i = 0; i < n8; i += 8)
	{
		for (c = 0; c < 8; c++)
			r[c] = W[i + c];
		RecoAvx512Transpose8(r);
		for (c = 0; c < cnt; c++)
			_mm512_storeu_pd(zs[c] + i, r[c]);
	}
	for (; i < n; i++)
	{
		double		t[8];

		_mm512_storeu_pd(t, W[i]);
		for (c = 0; c < cnt; c++)
			zs[c][i] = t[c];
	}
}

/* The back substitutions of a lane group (back_t_rows): RecoAvx2BackTRowsInline, at most RECO_AVX2_BACKT_ROWS vectors a call. */
RECO_AVX2 static void
RecoAvx2BackTRows(int n, const double *L, double *const *z, int cnt)
{
	int			c;

	if (RecoAvx2Zmm && cnt >= RECO_AVX512_BACKT_MIN_ROWS && n <= RECO_AVX512_BACKT_MAX_N)
	{
		RecoAvx512BackTLanes(n, L, z, cnt);
		return;
	}
	for (c = 0; c < cnt; c += RECO_AVX2_BACKT_ROWS)
		RecoAvx2BackTRowsInline(n, L, z + c,
								cnt - c < RECO_AVX2_BACKT_ROWS ? cnt - c : RECO_AVX2_BACKT_ROWS);
}

/*
 * Back substitution U x = z in place from U itself (RecoCholSubstInline's
 * column sweep bit for bit: x_i = z_i / U[i][i], then z_j −= U[j][i]·x_i
 * for every j < i, one fused multiply-subtract each), four columns at a
 * time: their pivots first, then each row j above takes the four updates in
 * column order from one stretch of its row (one cache line, not four).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2BackCols(int n, const double *U, double *z)
{
	int			i = n - 1,
				j;

	for (; i >= 3; i -= 4)
	{
		double		x0,
					x1,
					x2,
					x3;

		x0 = z[i] = z[i] / U[(size_t) i * n + i];
		for (j = i - 3; j < i; j++)
			z[j] = fma(-U[(size_t) j * n + i], x0, z[j]);
		x1 = z[i - 1] = z[i - 1] / U[(size_t) (i - 1) * n + i - 1];
		for (j = i - 3; j < i - 1; j++)
			z[j] = fma(-U[(size_t) j * n + i - 1], x1, z[j]);
		x2 = z[i - 2] = z[i - 2] / U[(size_t) (i - 2) * n + i - 2];
		z[i - 3] = fma(-U[(size_t) (i - 3) * n + i - 2], x2, z[i - 3]);
		x3 = z[i - 3] = z[i - 3] / U[(size_t) (i - 3) * n + i - 3];
		for (j = 0; j < i - 3; j++)
		{
			const double *u = U + (size_t) j * n + i - 3;
			double		a = z[j];

			a = fma(-u[3], x0, a);
			a = fma(-u[2], x1, a);
			a = fma(-u[1], x2, a);
			a = fma(-u[0], x3, a);
			z[j] = a;
		}
	}
	for (; i >= 0; i--)
	{
		double		xi = z[i] = z[i] / U[(size_t) i * n + i];

		for (j = 0; j < i; j++)
			z[j] = fma(-U[(size_t) j * n + i], xi, z[j]);
	}
}

/*
 * U's upper triangle (double, row-major) from the float lower triangle of
 * A (RecoCholLoadInline's values; k a multiple of 4): 4 x 4 blocks of A's
 * rows converted and transposed in registers (the template reads A down
 * its columns, one cache line per value), the diagonal blocks entry by
 * entry; U's lower triangle is not written.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2CholLoad(int k, const float *A, double *U)
{
	int			i0,
				l0,
				i,
				l;

	for (i0 = 0; i0 < k; i0 += 4)
	{
		for (i = i0; i < i0 + 4; i++)
			for (l = i; l < i0 + 4; l++)
				U[(size_t) i * k + l] = A[(size_t) l * k + i];
		for (l0 = i0 + 4; l0 < k; l0 += 4)
		{
			const float *a = A + (size_t) l0 * k + i0;
			__m256d		r0 = _mm256_cvtps_pd(_mm_loadu_ps(a)),
						r1 = _mm256_cvtps_pd(_mm_loadu_ps(a + k)),
						r2 = _mm256_cvtps_pd(_mm_loadu_ps(a + 2 * (size_t) k)),
						r3 = _mm256_cvtps_pd(_mm_loadu_ps(a + 3 * (size_t) k)),
						t0 = _mm256_unpacklo_pd(r0, r1),
						t1 = _mm256_unpackhi_pd(r0, r1),
						t2 = _mm256_unpacklo_pd(r2, r3),
						t3 = _mm256_unpackhi_pd(r2, r3);
			double	   *u = U + (size_t) i0 * k + l0;

			_mm256_storeu_pd(u, _mm256_permute2f128_pd(t0, t2, 0x20));
			_mm256_storeu_pd(u + k, _mm256_permute2f128_pd(t1, t3, 0x20));
			_mm256_storeu_pd(u + 2 * (size_t) k, _mm256_permute2f128_pd(t0, t2, 0x31));
			_mm256_storeu_pd(u + 3 * (size_t) k, _mm256_permute2f128_pd(t1, t3, 0x31));
		}
	}
}

/*
 * The end of a Cholesky solve once U is factored (RecoCholSubstInline bit
 * for bit): the tiled forward substitution, RecoAvx2BackCols, x = z
 * rounded to float; false if x is not finite.
 */
RECO_AVX2 RECO_INLINE bool
RecoAvx2CholSubst(int k, const float *b, const double *U, double *z, float *x)
{
	int			i;

	for (i = 0; i < k; i++)
		z[i] = b[i];
	RecoAvx2ForwardTiled(k, U, z);
	RecoAvx2BackCols(k, U, z);
	for (i = 0; i < k; i++)
	{
		x[i] = (float) z[i];
		if (!isfinite(x[i]))
			return false;
	}
	return true;
}

/*
 * v += Σ_i coef[i] Z[idx[i]] in double (RecoAxpyRowsInline bit for bit:
 * four rows per sweep over v, each entry's fused multiply-adds in row
 * order), in explicit vectors of four: the template's loop over k = 128
 * was unrolled whole and kept v on the stack.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2AxpyRowsD(int k, int n, const float *Z, const int32_t *idx,
				  const double *coef, double *restrict v)
{
	int			i = 0,
				j;

	for (; i + 4 <= n; i += 4)
	{
		const float *z0 = Z + (size_t) idx[i] * k,
				   *z1 = Z + (size_t) idx[i + 1] * k,
				   *z2 = Z + (size_t) idx[i + 2] * k,
				   *z3 = Z + (size_t) idx[i + 3] * k;
		__m256d		c0 = _mm256_set1_pd(coef[i]),
					c1 = _mm256_set1_pd(coef[i + 1]),
					c2 = _mm256_set1_pd(coef[i + 2]),
					c3 = _mm256_set1_pd(coef[i + 3]);

		for (j = 0; j + 4 <= k; j += 4)
		{
			__m256d		a = _mm256_loadu_pd(v + j);

			a = _mm256_fmadd_pd(c0, _mm256_cvtps_pd(_mm_loadu_ps(z0 + j)), a);
			a = _mm256_fmadd_pd(c1, _mm256_cvtps_pd(_mm_loadu_ps(z1 + j)), a);
			a = _mm256_fmadd_pd(c2, _mm256_cvtps_pd(_mm_loadu_ps(z2 + j)), a);
			a = _mm256_fmadd_pd(c3, _mm256_cvtps_pd(_mm_loadu_ps(z3 + j)), a);
			_mm256_storeu_pd(v + j, a);
		}
		for (; j < k; j++)
		{
			double		a = v[j];

			a = fma(coef[i], z0[j], a);
			a = fma(coef[i + 1], z1[j], a);
			a = fma(coef[i + 2], z2[j], a);
			a = fma(coef[i + 3], z3[j], a);
			v[j] = a;
		}
	}
	for (; i < n; i++)
	{
		const float *z = Z + (size_t) idx[i] * k;
		__m256d		c = _mm256_set1_pd(coef[i]);

		for (j = 0; j + 4 <= k; j += 4)
			_mm256_storeu_pd(v + j, _mm256_fmadd_pd(c, _mm256_cvtps_pd(_mm_loadu_ps(z + j)),
													_mm256_loadu_pd(v + j)));
		for (; j < k; j++)
			v[j] = fma(coef[i], z[j], v[j]);
	}
}

/*
 * Columns jb .. jb + 8·C − 1 of RecoAvx512AxpyRowsD (C <= 16 zmm of
 * doubles, a constant where inlined): v's columns stay in registers over
 * all n rows, each column the fused chain over i in row order.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyColsD(int C, int k, int jb, int n, const float *Z, const int32_t *idx,
					const double *coef, double *restrict v)
{
	__m512d		o[16];
	int			c,
				i;

	for (c = 0; c < C; c++)
		o[c] = _mm512_loadu_pd(v + jb + 8 * c);
	for (i = 0; i < n; i++)
	{
		const float *z = Z + (size_t) idx[i] * k + jb;
		__m512d		cf = _mm512_set1_pd(coef[i]);

		for (c = 0; c < C; c++)
			o[c] = _mm512_fmadd_pd(cf, _mm512_cvtps_pd(_mm256_loadu_ps(z + 8 * c)), o[c]);
	}
	for (c = 0; c < C; c++)
		_mm512_storeu_pd(v + jb + 8 * c, o[c]);
}

/*
 * RecoAvx2AxpyRowsD with AVX-512F (RecoAxpyRowsInline bit for bit: every
 * entry's fused multiply-adds in row order, whatever the rows per sweep):
 * 128 columns at a time in 16 zmm registers held over all rows (no load
 * and store of v per four rows), then 64, 32 and the last 8 to 24 (k a
 * multiple of 8, as every AVX2 table's).
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512AxpyRowsD(int k, int n, const float *Z, const int32_t *idx,
					const double *coef, double *restrict v)
{
	int			jb = 0;

	for (; jb + 128 <= k; jb += 128)
		RecoAvx512AxpyColsD(16, k, jb, n, Z, idx, coef, v);
	for (; jb + 64 <= k; jb += 64)
		RecoAvx512AxpyColsD(8, k, jb, n, Z, idx, coef, v);
	for (; jb + 32 <= k; jb += 32)
		RecoAvx512AxpyColsD(4, k, jb, n, Z, idx, coef, v);
	switch ((k - jb) / 8)
	{
		case 1:
			RecoAvx512AxpyColsD(1, k, jb, n, Z, idx, coef, v);
			break;
		case 2:
			RecoAvx512AxpyColsD(2, k, jb, n, Z, idx, coef, v);
			break;
		case 3:
			RecoAvx512AxpyColsD(3, k, jb, n, Z, idx, coef, v);
			break;
	}
}

/*
 * out[i] = Z[idx[i]] · v in double (RecoDotRowsInline bit for bit: lane l
 * of a row's accumulator is the fused chain over j ≡ l mod 4, reduced as
 * (a0 + a1) + (a2 + a3)), four rows per sweep over v (k a multiple of 4).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2DotRowsD(int k, int n, const float *Z, const int32_t *idx,
				 const double *v, double *out)
{
	int			i = 0,
				r,
				j;

	for (; i < n; i += 4)
	{
		int			rows = n - i < 4 ? n - i : 4;
		const float *z[4];
		__m256d		acc[4];

		RECO_UNROLL
		for (r = 0; r < 4; r++)
		{
			z[r] = Z + (size_t) idx[i + (r < rows ? r : 0)] * k;
			acc[r] = _mm256_setzero_pd();
		}
		for (j = 0; j < k; j += 4)
		{
			__m256d		vv = _mm256_loadu_pd(v + j);

			RECO_UNROLL
			for (r = 0; r < 4; r++)
				acc[r] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(z[r] + j)), vv, acc[r]);
		}
		for (r = 0; r < rows; r++)
		{
			__m128d		lo = _mm256_castpd256_pd128(acc[r]),
						hi = _mm256_extractf128_pd(acc[r], 1);

			out[i + r] = (_mm_cvtsd_f64(lo) + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo))) +
				(_mm_cvtsd_f64(hi) + _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi)));
		}
	}
}

/* ------------------------------------------------------------------------
 * Cholesky factorization in register tiles.  RecoCholFactorInline gives
 * entry (i, l), l >= i, of U the fused updates −U[j][i]·U[j][l] for j = 0
 * .. i − 1 in that order, then (l > i) the division by U[i][i].  Here a
 * panel of four rows takes all its updates from the rows above it at once
 * (left-looking: each entry's chain over j runs in a register, four rows x
 * twelve columns per tile, U[j] read once per tile instead of once per
 * row), then the panel is factored row by row: every entry gets the same
 * operations in the same order, so U is bit for bit RecoCholFactorInline's
 * (test_tiled_kernels), in about half the time at n 128.
 * ------------------------------------------------------------------------
 */

/* Rows of U in one panel of the tiled factorization. */
#define RECO_AVX2_CHOL_ROWS 4

/*
 * The panel tile of both tiled factorizations: rows i0 .. i0 + 3, C <= 3
 * vectors of entries from column l0 >= i0, every entry's updates from rows
 * 0 .. i0 − 1 in order, in registers; stores only entries on or above the
 * diagonal.  One matrix (lanes false: row stride n, a vector four
 * consecutive entries, U[j][i] broadcast) or the four lanes' interleaved
 * W (lanes true: row stride 4n, a vector one entry of the four lanes).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2PanelTile(bool lanes, int C, int n, double *U, int i0, int l0)
{
	size_t		row = (size_t) n * (lanes ? 4 : 1);
	int			es = lanes ? 4 : 1; /* doubles per entry (a vector: four doubles either way) */
	__m256d		acc[RECO_AVX2_CHOL_ROWS][3];
	double	   *Ut = U + i0 * row + (size_t) l0 * es;
	int			r,
				c,
				j;

	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		RECO_UNROLL
		for (c = 0; c < C; c++)
			acc[r][c] = _mm256_loadu_pd(Ut + r * row + (size_t) c * 4);
	}
	for (j = 0; j < i0; j++)
	{
		const double *Uj = U + j * row;
		__m256d		q[3];

		RECO_UNROLL
		for (c = 0; c < C; c++)
			q[c] = _mm256_loadu_pd(Uj + (size_t) l0 * es + (size_t) c * 4);
		RECO_UNROLL
		for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
		{
			__m256d		u = lanes ? _mm256_loadu_pd(Uj + (size_t) (i0 + r) * 4) :
				_mm256_broadcast_sd(Uj + i0 + r);

			RECO_UNROLL
			for (c = 0; c < C; c++)
				acc[r][c] = _mm256_fnmadd_pd(u, q[c], acc[r][c]);
		}
	}
	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		RECO_UNROLL
		for (c = 0; c < C; c++)
		{
			double	   *out = Ut + r * row + (size_t) c * 4;

			/* entries below row r's diagonal stay untouched */
			if (lanes)
			{
				if (l0 + c >= i0 + r)
					_mm256_storeu_pd(out, acc[r][c]);
			}
			else if (c == 0 && l0 == i0 && r > 0)
				_mm256_maskstore_pd(out, _mm256_cmpgt_epi64(_mm256_set_epi64x(3, 2, 1, 0),
															_mm256_set1_epi64x(r - 1)),
									acc[r][c]);
			else
				_mm256_storeu_pd(out, acc[r][c]);
		}
	}
}

/* RecoAvx2PanelTile of one matrix for C vectors of columns as RecoAvx2CholTileC. */
#define RECO_AVX2_CHOL_TILE(C) \
RECO_AVX2 static void \
RecoAvx2CholTile##C(int n, double *U, int i0, int l0) \
{ \
	RecoAvx2PanelTile(false, C, n, U, i0, l0); \
}

RECO_AVX2_CHOL_TILE(1)
RECO_AVX2_CHOL_TILE(2)
RECO_AVX2_CHOL_TILE(3)

/*
 * Rows i0 .. i0 + 3 of U, the last w < 4 columns from l0 (> i0 + 3): as
 * RecoAvx2PanelTile with one vector, its lanes past the row's end masked
 * (neither read nor written).
 */
RECO_AVX2 static void
RecoAvx2CholTileEdge(int n, double *U, int i0, int l0, int w)
{
	__m256i		mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(w),
										  _mm256_set_epi64x(3, 2, 1, 0));
	__m256d		acc[RECO_AVX2_CHOL_ROWS];
	double	   *Ut = U + (size_t) i0 * n + l0;
	int			r,
				j;

	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
		acc[r] = _mm256_maskload_pd(Ut + (size_t) r * n, mask);
	for (j = 0; j < i0; j++)
	{
		const double *Uj = U + (size_t) j * n;
		__m256d		q = _mm256_maskload_pd(Uj + l0, mask);

		RECO_UNROLL
		for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
			acc[r] = _mm256_fnmadd_pd(_mm256_broadcast_sd(Uj + i0 + r), q, acc[r]);
	}
	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
		_mm256_maskstore_pd(Ut + (size_t) r * n, mask, acc[r]);
}

/*
 * RecoAvx2PanelTile of one matrix with AVX-512F: rows i0 .. i0 + 3, C <= 3
 * zmm vectors of eight entries from column l0, every entry's updates from
 * rows 0 .. i0 − 1 in the same order (the same bits); on the diagonal
 * (l0 = i0) row r neither reads nor writes its first r entries.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512PanelTile(int C, int n, double *U, int i0, int l0)
{
	__m512d		acc[RECO_AVX2_CHOL_ROWS][3];
	__mmask8	mk[RECO_AVX2_CHOL_ROWS];
	double	   *Ut = U + (size_t) i0 * n + l0;
	int			r,
				c,
				j;

	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		mk[r] = (__mmask8) (l0 == i0 ? 0xff << r : 0xff);
		RECO_UNROLL
		for (c = 0; c < C; c++)
			acc[r][c] = _mm512_maskz_loadu_pd(c == 0 ? mk[r] : 0xff, Ut + (size_t) r * n + 8 * c);
	}
	for (j = 0; j < i0; j++)
	{
		const double *Uj = U + (size_t) j * n;
		__m512d		q[3];

		RECO_UNROLL
		for (c = 0; c < C; c++)
			q[c] = _mm512_loadu_pd(Uj + l0 + 8 * c);
		RECO_UNROLL
		for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
		{
			__m512d		u = _mm512_set1_pd(Uj[i0 + r]);

			RECO_UNROLL
			for (c = 0; c < C; c++)
				acc[r][c] = _mm512_fnmadd_pd(u, q[c], acc[r][c]);
		}
	}
	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		RECO_UNROLL
		for (c = 0; c < C; c++)
			_mm512_mask_storeu_pd(Ut + (size_t) r * n + 8 * c, c == 0 ? mk[r] : 0xff, acc[r][c]);
	}
}

/* RecoAvx512PanelTile for C zmm vectors of columns as RecoAvx512CholTileC. */
#define RECO_AVX512_CHOL_TILE(C) \
RECO_AVX512 static void \
RecoAvx512CholTile##C(int n, double *U, int i0, int l0) \
{ \
	RecoAvx512PanelTile(C, n, U, i0, l0); \
}

RECO_AVX512_CHOL_TILE(1)
RECO_AVX512_CHOL_TILE(2)
RECO_AVX512_CHOL_TILE(3)

/*
 * Entry (i, l) of U: its updates from rows 0 .. j1 − 1 in order, one fused
 * multiply-subtract each (the edges the tiles do not cover).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2CholEntry(int n, double *U, int i, int l, int j1)
{
	double		a = U[(size_t) i * n + l];
	int			j;

	for (j = 0; j < j1; j++)
		a = fma(-U[(size_t) j * n + l], U[(size_t) j * n + i], a);
	U[(size_t) i * n + l] = a;
}

/*
 * RecoCholFactorInline bit for bit, by panels of RECO_AVX2_CHOL_ROWS rows:
 * the updates from the rows above in tiles (zmm tiles first with AVX-512F,
 * the n mod 4 last columns in a masked one, a last panel of fewer rows
 * entry by entry), then the panel's own rows in
 * turn, each pivot tested, taken the square root of and divided into its
 * row, then its updates to the panel's later rows.
 */
RECO_AVX2 static bool
RecoAvx2CholFactor(int n, double *U)
{
	int			i0,
				i,
				j,
				l;

	for (i0 = 0; i0 < n; i0 += RECO_AVX2_CHOL_ROWS)
	{
		int			iend = i0 + RECO_AVX2_CHOL_ROWS < n ? i0 + RECO_AVX2_CHOL_ROWS : n;

		if (i0 > 0 && iend - i0 == RECO_AVX2_CHOL_ROWS)
		{
			int			l0 = i0,
						lv = i0 + (n - i0) / 4 * 4;

			if (RecoAvx2Zmm)
			{
				/* zmm tiles of 24, 16 and 8 columns; 4 left by the ymm tile */
				for (; l0 + 24 <= lv; l0 += 24)
					RecoAvx512CholTile3(n, U, i0, l0);
				if (lv - l0 >= 16)
				{
					RecoAvx512CholTile2(n, U, i0, l0);
					l0 += 16;
				}
				if (lv - l0 >= 8)
				{
					RecoAvx512CholTile1(n, U, i0, l0);
					l0 += 8;
				}
			}
			for (; l0 + 12 <= lv; l0 += 12)
				RecoAvx2CholTile3(n, U, i0, l0);
			if (lv - l0 == 8)
				RecoAvx2CholTile2(n, U, i0, l0);
			else if (lv - l0 == 4)
				RecoAvx2CholTile1(n, U, i0, l0);
			if (lv < n)
				RecoAvx2CholTileEdge(n, U, i0, lv, n - lv);
		}
		else if (i0 > 0)
			for (i = i0; i < iend; i++)
				for (l = i; l < n; l++)
					RecoAvx2CholEntry(n, U, i, l, i0);
		for (j = i0; j < iend; j++)
		{
			double	   *Uj = U + (size_t) j * n;

			if (!RecoCholPivotInline(n, Uj, j))
				return false;
			for (i = j + 1; i < iend; i++)
				RecoAvx2Sub1(Uj, Uj[i], U + (size_t) i * n, i, n);
		}
	}
	return true;
}

/* Short-row factorization of I + S M S (one instance for every size). */
RECO_AVX2 static bool
RecoAvx2ShortFactor(int n, const float *M, const double *sv, double *N)
{
	RecoShortBuildInline(true, n, M, sv, N);
	return RecoAvx2CholFactor(n, N);
}

/*
 * Short rows in lanes (short_lanes): lane b of every vector is row b.  W
 * holds the rows' N matrices interleaved, entry (i, l) of lane b at
 * W[(i·m + l)·4 + b] (upper triangle, m the largest n), and their q at
 * Q[i·4 + b] after it.  A lane with n[b] < m is padded with identity rows:
 * the real block's entries take exactly the operations of the row alone
 * (padded entries only ever read real ones), the padded entries of U above
 * the real rows stay +0 and the padded q entries are set to −0 after the
 * back substitution, so the extra terms fma(+0, −0, acc) add nothing to any
 * sum, signed zeros included.  Every operation is the one
 * RecoShortFactorInline, RecoAvx2ForwardTiled and RecoCholBackInline apply
 * to the entry (one rounding each: fused multiply-adds, the square root and
 * the division), in the same order, so each lane equals the one-row kernels
 * bit for bit (test_short_lanes checks every n up to 300).
 */

/* Groups of at most this many rows take the four-lane ymm kernel even with AVX-512F. */
#define RECO_AVX2_LANES_YMM 4

/* Loads lane values x[b][i] (0 past n[b] or lanes) as one vector. */
RECO_AVX2 RECO_INLINE __m256d
RecoAvx2LaneGather(const double *const *x, const int *nl, int i)
{
	return _mm256_set_pd(i < nl[3] ? x[3][i] : 0.0, i < nl[2] ? x[2][i] : 0.0,
						 i < nl[1] ? x[1][i] : 0.0, i < nl[0] ? x[0][i] : 0.0);
}

/*
 * N = I + S M S of every lane into W (upper triangle, interleaved), a row
 * of all lanes at a time in scalar stores (a vector of the four lanes'
 * values would be read back from four fresh scalar stores: a
 * store-forwarding stall per entry).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2LanesBuild(int m, const int *nl, const float *const *M,
				   const double *const *sv, double *W)
{
	int			i,
				l,
				b;

	for (i = 0; i < m; i++)
		for (b = 0; b < 4; b++)
		{
			int			nb = nl[b];
			double	   *Wi = W + (size_t) i * m * 4 + b;

			for (l = i; l < nb; l++)
				Wi[(size_t) l * 4] = fma(sv[b][l] * sv[b][i], (double) M[b][(size_t) l * nb + i],
										 l == i ? 1.0 : 0.0);
			for (l = i > nb ? i : nb; l < m; l++)
				Wi[(size_t) l * 4] = 0.0;
			if (i >= nb)
				Wi[(size_t) i * 4] = 1.0;
		}
}

/* Wi[l] −= u·Wj[l] for lo <= l < m, lanes interleaved. */
RECO_AVX2 RECO_INLINE void
RecoAvx2LanesSub1(__m256d u, const double *Wj, double *Wi, int lo, int m)
{
	int			l;

	for (l = lo; l < m; l++)
		_mm256_storeu_pd(Wi + (size_t) l * 4,
						 _mm256_fnmadd_pd(u, _mm256_loadu_pd(Wj + (size_t) l * 4),
										  _mm256_loadu_pd(Wi + (size_t) l * 4)));
}

/* RecoAvx2PanelTile of the lanes for C entries as RecoAvx2LanesTileC. */
#define RECO_AVX2_LANES_TILE(C) \
RECO_AVX2 static void \
RecoAvx2LanesTile##C(int m, double *W, int i0, int l0) \
{ \
	RecoAvx2PanelTile(true, C, m, W, i0, l0); \
}

RECO_AVX2_LANES_TILE(1)
RECO_AVX2_LANES_TILE(2)
RECO_AVX2_LANES_TILE(3)

/*
 * Factors every lane's W in place as UᵀU, each entry's updates in row
 * order as RecoCholFactorInline gives them, by panels of
 * RECO_AVX2_CHOL_ROWS rows as RecoAvx2CholFactor (a last panel of fewer
 * rows entry by entry); returns the lanes' pivot test as a vector mask
 * (all ones: positive and finite throughout).
 */
RECO_AVX2 RECO_INLINE __m256d
RecoAvx2LanesFactor(int m, double *W)
{
	__m256d		ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
	__m256d		zero = _mm256_setzero_pd(),
				inf = _mm256_set1_pd(INFINITY);
	size_t		row = (size_t) m * 4;
	int			i0,
				j,
				i,
				l;

	for (i0 = 0; i0 < m; i0 += RECO_AVX2_CHOL_ROWS)
	{
		int			iend = i0 + RECO_AVX2_CHOL_ROWS < m ? i0 + RECO_AVX2_CHOL_ROWS : m;

		if (i0 > 0 && iend - i0 == RECO_AVX2_CHOL_ROWS)
		{
			for (l = i0; l + 3 <= m; l += 3)
				RecoAvx2LanesTile3(m, W, i0, l);
			if (m - l == 2)
				RecoAvx2LanesTile2(m, W, i0, l);
			else if (m - l == 1)
				RecoAvx2LanesTile1(m, W, i0, l);
		}
		else if (i0 > 0)
			for (i = i0; i < iend; i++)
				for (l = i; l < m; l++)
				{
					double	   *w = W + i * row + (size_t) l * 4;
					__m256d		a = _mm256_loadu_pd(w);

					for (j = 0; j < i0; j++)
						a = _mm256_fnmadd_pd(_mm256_loadu_pd(W + j * row + (size_t) i * 4),
											 _mm256_loadu_pd(W + j * row + (size_t) l * 4), a);
					_mm256_storeu_pd(w, a);
				}
		for (j = i0; j < iend; j++)
		{
			double	   *Wj = W + j * row;
			__m256d		d = _mm256_loadu_pd(Wj + (size_t) j * 4);

			ok = _mm256_and_pd(ok, _mm256_and_pd(_mm256_cmp_pd(d, zero, _CMP_GT_OQ),
												 _mm256_cmp_pd(d, inf, _CMP_LT_OQ)));
			d = _mm256_sqrt_pd(d);
			_mm256_storeu_pd(Wj + (size_t) j * 4, d);
			for (l = j + 1; l < m; l++)
				_mm256_storeu_pd(Wj + (size_t) l * 4,
								 _mm256_div_pd(_mm256_loadu_pd(Wj + (size_t) l * 4), d));
			for (i = j + 1; i < iend; i++)
				RecoAvx2LanesSub1(_mm256_loadu_pd(Wj + (size_t) i * 4), Wj, W + i * row, i, m);
		}
	}
	return ok;
}

/* Forward substitution Uᵀ q = q of every lane (four pivots, then one sweep). */
RECO_AVX2 RECO_INLINE void
RecoAvx2LanesForward(int m, const double *W, double *Q)
{
	size_t		row = (size_t) m * 4;
	int			j0,
				j,
				i;

	for (j0 = 0; j0 < m; j0 += 4)
	{
		int			jend = j0 + 4 < m ? j0 + 4 : m;
		__m256d		z[4];

		for (j = j0; j < jend; j++)
		{
			const double *Wj = W + j * row;

			z[j - j0] = _mm256_div_pd(_mm256_loadu_pd(Q + (size_t) j * 4),
									  _mm256_loadu_pd(Wj + (size_t) j * 4));
			_mm256_storeu_pd(Q + (size_t) j * 4, z[j - j0]);
			for (i = j + 1; i < jend; i++)
				_mm256_storeu_pd(Q + (size_t) i * 4,
								 _mm256_fnmadd_pd(_mm256_loadu_pd(Wj + (size_t) i * 4), z[j - j0],
												  _mm256_loadu_pd(Q + (size_t) i * 4)));
		}
		for (i = jend; i < m; i++)
		{
			__m256d		a = _mm256_loadu_pd(Q + (size_t) i * 4);

			for (j = j0; j < jend; j++)
				a = _mm256_fnmadd_pd(_mm256_loadu_pd(W + j * row + (size_t) i * 4), z[j - j0], a);
			_mm256_storeu_pd(Q + (size_t) i * 4, a);
		}
	}
}

/*
 * Back substitution U q = q of every lane, row by row from the bottom with
 * four partial sums (RecoCholBackInline's); a padded lane's entry is set
 * to −0.
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2LanesBack(int m, const int *nl, const double *W, double *Q)
{
	__m256d		nv = _mm256_set_pd(nl[3], nl[2], nl[1], nl[0]),
				negz = _mm256_set1_pd(-0.0);
	int			i,
				j,
				t;

	for (i = m - 1; i >= 0; i--)
	{
		const double *Wi = W + (size_t) i * m * 4;
		__m256d		acc[4];
		__m256d		zi;

		for (t = 0; t < 4; t++)
			acc[t] = _mm256_setzero_pd();
		for (j = i + 1; j + 4 <= m; j += 4)
			for (t = 0; t < 4; t++)
				acc[t] = _mm256_fmadd_pd(_mm256_loadu_pd(Wi + (size_t) (j + t) * 4),
										 _mm256_loadu_pd(Q + (size_t) (j + t) * 4), acc[t]);
		for (t = 0; j < m; j++, t++)
			acc[t] = _mm256_fmadd_pd(_mm256_loadu_pd(Wi + (size_t) j * 4),
									 _mm256_loadu_pd(Q + (size_t) j * 4), acc[t]);
		zi = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(Q + (size_t) i * 4),
										 _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]),
													   _mm256_add_pd(acc[2], acc[3]))),
						   _mm256_loadu_pd(Wi + (size_t) i * 4));
		zi = _mm256_blendv_pd(zi, negz, _mm256_cmp_pd(_mm256_set1_pd(i), nv, _CMP_GE_OQ));
		_mm256_storeu_pd(Q + (size_t) i * 4, zi);
	}
}

/* Short rows in lanes (kernels.h), at most four: build, factor, forward and back, four rows per vector. */
RECO_AVX2 static unsigned
RecoAvx2ShortLanes4(int lanes, const int *n, const float *const *M,
					const double *const *sv, double *const *q, double *W)
{
	int			nl[4];
	const float *Ml[4];
	const double *sl[4];
	double	   *Q;
	int			m = 0,
				b,
				i;
	unsigned	okmask;

	for (b = 0; b < 4; b++)
	{
		nl[b] = b < lanes ? n[b] : 0;
		Ml[b] = b < lanes ? M[b] : NULL;
		sl[b] = b < lanes ? sv[b] : NULL;
		if (nl[b] > m)
			m = nl[b];
	}
	if (m == 0)
		return 0;
	Q = W + (size_t) m * m * 4;
	RecoAvx2LanesBuild(m, nl, Ml, sl, W);
	okmask = (unsigned) _mm256_movemask_pd(RecoAvx2LanesFactor(m, W));
	for (i = 0; i < m; i++)
		_mm256_storeu_pd(Q + (size_t) i * 4,
						 RecoAvx2LaneGather((const double *const *) q, nl, i));
	RecoAvx2LanesForward(m, W, Q);
	RecoAvx2LanesBack(m, nl, W, Q);
	for (b = 0; b < lanes; b++)
		for (i = 0; i < nl[b]; i++)
			q[b][i] = Q[(size_t) i * 4 + b];
	return ~okmask & ((1u << lanes) - 1);
}

/*
 * The lanes with AVX-512F: eight rows per zmm vector, their upper triangles
 * packed (entry (i, l) of lane b at W[RecoAvx512LanesRow(m, i) + l·8 + b]:
 * half the four-lane layout's bytes per lane), q at Q[i·8 + b] after them.
 * Every step is its four-lane twin's (RecoAvx2LanesFactor's panels in
 * tiles of 4 x 6 entries, RecoAvx2LanesForward, RecoAvx2LanesBack) with
 * the same operations per entry in the same order, so each lane is still
 * the one-row kernels' bits (the build's too: the same fma of the same
 * product and value).
 */

/* Loads lane values x[b][i] (0 past n[b]) of eight lanes as one vector. */
/*
 * Offset of row i of the eight lanes' packed upper triangles (m x m): its
 * entry l >= i at W + the offset + l·8 (left of the diagonal lies the row
 * before).
 */
RECO_AVX512 RECO_INLINE size_t
RecoAvx512LanesRow(int m, int i)
{
	return (size_t) i * (2 * (size_t) m - i - 1) / 2 * 8;
}

RECO_AVX512 RECO_INLINE __m512d
RecoAvx512LaneGather(const double *const *x, const int *nl, int i)
{
	return _mm512_set_pd(i < nl[7] ? x[7][i] : 0.0, i < nl[6] ? x[6][i] : 0.0,
						 i < nl[5] ? x[5][i] : 0.0, i < nl[4] ? x[4][i] : 0.0,
						 i < nl[3] ? x[3][i] : 0.0, i < nl[2] ? x[2][i] : 0.0,
						 i < nl[1] ? x[1][i] : 0.0, i < nl[0] ? x[0][i] : 0.0);
}

/* Transposes the 8 x 8 floats r[0..7] in place: r[t] gets element t of every input, input b in element b. */
RECO_AVX2 RECO_INLINE void
RecoAvx2Transpose8(__m256 *r)
{
	__m256		a0 = _mm256_unpacklo_ps(r[0], r[1]),
				a1 = _mm256_unpackhi_ps(r[0], r[1]),
				a2 = _mm256_unpacklo_ps(r[2], r[3]),
				a3 = _mm256_unpackhi_ps(r[2], r[3]),
				a4 = _mm256_unpacklo_ps(r[4], r[5]),
				a5 = _mm256_unpackhi_ps(r[4], r[5]),
				a6 = _mm256_unpacklo_ps(r[6], r[7]),
				a7 = _mm256_unpackhi_ps(r[6], r[7]),
				b0 = _mm256_shuffle_ps(a0, a2, 0x44),
				b1 = _mm256_shuffle_ps(a0, a2, 0xee),
				b2 = _mm256_shuffle_ps(a1, a3, 0x44),
				b3 = _mm256_shuffle_ps(a1, a3, 0xee),
				b4 = _mm256_shuffle_ps(a4, a6, 0x44),
				b5 = _mm256_shuffle_ps(a4, a6, 0xee),
				b6 = _mm256_shuffle_ps(a5, a7, 0x44),
				b7 = _mm256_shuffle_ps(a5, a7, 0xee);

	r[0] = _mm256_permute2f128_ps(b0, b4, 0x20);
	r[1] = _mm256_permute2f128_ps(b1, b5, 0x20);
	r[2] = _mm256_permute2f128_ps(b2, b6, 0x20);
	r[3] = _mm256_permute2f128_ps(b3, b7, 0x20);
	r[4] = _mm256_permute2f128_ps(b0, b4, 0x31);
	r[5] = _mm256_permute2f128_ps(b1, b5, 0x31);
	r[6] = _mm256_permute2f128_ps(b2, b6, 0x31);
	r[7] = _mm256_permute2f128_ps(b3, b7, 0x31);
}

/*
 * N = I + S M S of the eight lanes into W (RecoAvx2LanesBuild's values,
 * padded entries 0 and 1): for each row l of the M's, eight of its entries
 * i0 .. i0 + 7 of every lane (masked loads: nothing past a lane's n is
 * read) transposed in registers into eight vectors of W's entries (i, l);
 * S's vectors first interleaved into Sv (m x 8 doubles).
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512LanesBuild(int m, const int *nl, const float *const *M,
					 const double *const *sv, double *W, double *Sv)
{
	__m512i		nv = _mm512_set_epi64(nl[7], nl[6], nl[5], nl[4], nl[3], nl[2], nl[1], nl[0]);
	__m256i		iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
	__m512d		one = _mm512_set1_pd(1.0),
				zero = _mm512_setzero_pd();
	int			i0,
				i,
				l,
				b;

	for (l = 0; l < m; l++)
		_mm512_storeu_pd(Sv + (size_t) l * 8, RecoAvx512LaneGather(sv, nl, l));
	for (i0 = 0; i0 < m; i0 += 8)
	{
		int			iend = i0 + 8 < m ? i0 + 8 : m;
		__m256i		cols = _mm256_add_epi32(iota, _mm256_set1_epi32(i0));

		for (l = i0; l < m; l++)
		{
			__mmask8	real = _mm512_cmp_epi64_mask(_mm512_set1_epi64(l), nv, _MM_CMPINT_LT);
			__m512d		sl = _mm512_loadu_pd(Sv + (size_t) l * 8);
			__m256		r[8];

			for (b = 0; b < 8; b++)
				r[b] = l < nl[b] ?
					_mm256_maskload_ps(M[b] + (size_t) l * nl[b] + i0,
									   _mm256_cmpgt_epi32(_mm256_set1_epi32(nl[b]), cols)) :
					_mm256_setzero_ps();
			RecoAvx2Transpose8(r);
			for (i = i0; i < iend && i <= l; i++)
			{
				__m512d		d = l == i ? one : zero;
				__m512d		w = _mm512_fmadd_pd(_mm512_mul_pd(sl, _mm512_loadu_pd(Sv + (size_t) i * 8)),
												_mm512_cvtps_pd(r[i - i0]), d);

				_mm512_storeu_pd(W + RecoAvx512LanesRow(m, i) + (size_t) l * 8, _mm512_mask_mov_pd(d, real, w));
			}
		}
	}
}

/* Wi[l] −= u·Wj[l] for lo <= l < m, eight lanes interleaved. */
RECO_AVX512 RECO_INLINE void
RecoAvx512LanesSub1(__m512d u, const double *Wj, double *Wi, int lo, int m)
{
	int			l;

	for (l = lo; l < m; l++)
		_mm512_storeu_pd(Wi + (size_t) l * 8,
						 _mm512_fnmadd_pd(u, _mm512_loadu_pd(Wj + (size_t) l * 8),
										  _mm512_loadu_pd(Wi + (size_t) l * 8)));
}

/* Entries (columns) of one zmm lanes tile: 4 x 6 accumulators, 6 + 1 more registers. */
#define RECO_AVX512_LANES_COLS 6

/*
 * RecoAvx2PanelTile of the eight lanes: rows i0 .. i0 + 3, C <= 6 entries
 * from column l0, every entry's updates from rows 0 .. i0 − 1 in order, in
 * registers; stores only entries on or above the diagonal.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512LanesPanel(int C, int m, double *W, int i0, int l0)
{
	__m512d		acc[RECO_AVX2_CHOL_ROWS][RECO_AVX512_LANES_COLS];
	double	   *Ut[RECO_AVX2_CHOL_ROWS];
	int			r,
				c,
				j;

	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		Ut[r] = W + RecoAvx512LanesRow(m, i0 + r) + (size_t) l0 * 8;
		RECO_UNROLL
		for (c = 0; c < C; c++)
			acc[r][c] = _mm512_loadu_pd(Ut[r] + (size_t) c * 8);
	}
	for (j = 0; j < i0; j++)
	{
		const double *Uj = W + RecoAvx512LanesRow(m, j);
		__m512d		q[RECO_AVX512_LANES_COLS];

		RECO_UNROLL
		for (c = 0; c < C; c++)
			q[c] = _mm512_loadu_pd(Uj + (size_t) (l0 + c) * 8);
		RECO_UNROLL
		for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
		{
			__m512d		u = _mm512_loadu_pd(Uj + (size_t) (i0 + r) * 8);

			RECO_UNROLL
			for (c = 0; c < C; c++)
				acc[r][c] = _mm512_fnmadd_pd(u, q[c], acc[r][c]);
		}
	}
	RECO_UNROLL
	for (r = 0; r < RECO_AVX2_CHOL_ROWS; r++)
	{
		RECO_UNROLL
		for (c = 0; c < C; c++)
			if (l0 + c >= i0 + r)
				_mm512_storeu_pd(Ut[r] + (size_t) c * 8, acc[r][c]);
	}
}

/* RecoAvx512LanesPanel for C entries as RecoAvx512LanesTileC. */
#define RECO_AVX512_LANES_TILE(C) \
RECO_AVX512 static void \
RecoAvx512LanesTile##C(int m, double *W, int i0, int l0) \
{ \
	RecoAvx512LanesPanel(C, m, W, i0, l0); \
}

RECO_AVX512_LANES_TILE(1)
RECO_AVX512_LANES_TILE(2)
RECO_AVX512_LANES_TILE(3)
RECO_AVX512_LANES_TILE(4)
RECO_AVX512_LANES_TILE(5)
RECO_AVX512_LANES_TILE(6)

/* A zmm lanes tile of 1 .. RECO_AVX512_LANES_COLS entries. */
typedef void (*RecoAvx512LanesTileFn) (int m, double *W, int i0, int l0);

static const RecoAvx512LanesTileFn RecoAvx512LanesTiles[RECO_AVX512_LANES_COLS] = {
	RecoAvx512LanesTile1, RecoAvx512LanesTile2, RecoAvx512LanesTile3,
	RecoAvx512LanesTile4, RecoAvx512LanesTile5, RecoAvx512LanesTile6
};

/* RecoAvx2LanesFactor of the eight lanes; returns the lanes' pivot test as a mask (bit b: lane b factored). */
RECO_AVX512 RECO_INLINE __mmask8
RecoAvx512LanesFactor(int m, double *W)
{
	__mmask8	ok = 0xff;
	__m512d		zero = _mm512_setzero_pd(),
				inf = _mm512_set1_pd(INFINITY);
	int			i0,
				j,
				i,
				l;

	for (i0 = 0; i0 < m; i0 += RECO_AVX2_CHOL_ROWS)
	{
		int			iend = i0 + RECO_AVX2_CHOL_ROWS < m ? i0 + RECO_AVX2_CHOL_ROWS : m;

		if (i0 > 0 && iend - i0 == RECO_AVX2_CHOL_ROWS)
		{
			for (l = i0; l + RECO_AVX512_LANES_COLS <= m; l += RECO_AVX512_LANES_COLS)
				RecoAvx512LanesTile6(m, W, i0, l);
			if (l < m)
				RecoAvx512LanesTiles[m - l - 1] (m, W, i0, l);
		}
		else if (i0 > 0)
			for (i = i0; i < iend; i++)
				for (l = i; l < m; l++)
				{
					double	   *w = W + RecoAvx512LanesRow(m, i) + (size_t) l * 8;
					__m512d		a = _mm512_loadu_pd(w);

					for (j = 0; j < i0; j++)
						a = _mm512_fnmadd_pd(_mm512_loadu_pd(W + RecoAvx512LanesRow(m, j) + (size_t) i * 8),
											 _mm512_loadu_pd(W + RecoAvx512LanesRow(m, j) + (size_t) l * 8), a);
					_mm512_storeu_pd(w, a);
				}
		for (j = i0; j < iend; j++)
		{
			double	   *Wj = W + RecoAvx512LanesRow(m, j);
			__m512d		d = _mm512_loadu_pd(Wj + (size_t) j * 8);

			ok &= _mm512_cmp_pd_mask(d, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(d, inf, _CMP_LT_OQ);
			d = _mm512_sqrt_pd(d);
			_mm512_storeu_pd(Wj + (size_t) j * 8, d);
			for (l = j + 1; l < m; l++)
				_mm512_storeu_pd(Wj + (size_t) l * 8,
								 _mm512_div_pd(_mm512_loadu_pd(Wj + (size_t) l * 8), d));
			for (i = j + 1; i < iend; i++)
				RecoAvx512LanesSub1(_mm512_loadu_pd(Wj + (size_t) i * 8), Wj, W + RecoAvx512LanesRow(m, i), i, m);
		}
	}
	return ok;
}

/* RecoAvx2LanesForward of the eight lanes. */
RECO_AVX512 RECO_INLINE void
RecoAvx512LanesForward(int m, const double *W, double *Q)
{
	int			j0,
				j,
				i;

	for (j0 = 0; j0 < m; j0 += 4)
	{
		int			jend = j0 + 4 < m ? j0 + 4 : m;
		__m512d		z[4];

		for (j = j0; j < jend; j++)
		{
			const double *Wj = W + RecoAvx512LanesRow(m, j);

			z[j - j0] = _mm512_div_pd(_mm512_loadu_pd(Q + (size_t) j * 8),
									  _mm512_loadu_pd(Wj + (size_t) j * 8));
			_mm512_storeu_pd(Q + (size_t) j * 8, z[j - j0]);
			for (i = j + 1; i < jend; i++)
				_mm512_storeu_pd(Q + (size_t) i * 8,
								 _mm512_fnmadd_pd(_mm512_loadu_pd(Wj + (size_t) i * 8), z[j - j0],
												  _mm512_loadu_pd(Q + (size_t) i * 8)));
		}
		for (i = jend; i < m; i++)
		{
			__m512d		a = _mm512_loadu_pd(Q + (size_t) i * 8);

			for (j = j0; j < jend; j++)
				a = _mm512_fnmadd_pd(_mm512_loadu_pd(W + RecoAvx512LanesRow(m, j) + (size_t) i * 8), z[j - j0], a);
			_mm512_storeu_pd(Q + (size_t) i * 8, a);
		}
	}
}

/* RecoAvx2LanesBack of the eight lanes (a padded lane's entry set to −0). */
RECO_AVX512 RECO_INLINE void
RecoAvx512LanesBack(int m, const int *nl, const double *W, double *Q)
{
	__m512i		nv = _mm512_set_epi64(nl[7], nl[6], nl[5], nl[4], nl[3], nl[2], nl[1], nl[0]);
	__m512d		negz = _mm512_set1_pd(-0.0);
	int			i,
				j,
				t;

	for (i = m - 1; i >= 0; i--)
	{
		const double *Wi = W + RecoAvx512LanesRow(m, i);
		__m512d		acc[4];
		__m512d		zi;

		for (t = 0; t < 4; t++)
			acc[t] = _mm512_setzero_pd();
		for (j = i + 1; j + 4 <= m; j += 4)
			for (t = 0; t < 4; t++)
				acc[t] = _mm512_fmadd_pd(_mm512_loadu_pd(Wi + (size_t) (j + t) * 8),
										 _mm512_loadu_pd(Q + (size_t) (j + t) * 8), acc[t]);
		for (t = 0; j < m; j++, t++)
			acc[t] = _mm512_fmadd_pd(_mm512_loadu_pd(Wi + (size_t) j * 8),
									 _mm512_loadu_pd(Q + (size_t) j * 8), acc[t]);
		zi = _mm512_div_pd(_mm512_sub_pd(_mm512_loadu_pd(Q + (size_t) i * 8),
										 _mm512_add_pd(_mm512_add_pd(acc[0], acc[1]),
													   _mm512_add_pd(acc[2], acc[3]))),
						   _mm512_loadu_pd(Wi + (size_t) i * 8));
		zi = _mm512_mask_mov_pd(zi, _mm512_cmp_epi64_mask(_mm512_set1_epi64(i), nv, _MM_CMPINT_NLT),
								negz);
		_mm512_storeu_pd(Q + (size_t) i * 8, zi);
	}
}

/* Short rows in lanes (kernels.h) with AVX-512F: build, factor, forward and back, eight rows per vector. */
RECO_AVX512 static unsigned
RecoAvx512ShortLanes(int lanes, const int *n, const float *const *M,
					 const double *const *sv, double *const *q, double *W)
{
	int			nl[8];
	const float *Ml[8];
	const double *sl[8];
	double	   *Q;
	int			m = 0,
				b,
				i;
	unsigned	okmask;

	for (b = 0; b < 8; b++)
	{
		nl[b] = b < lanes ? n[b] : 0;
		Ml[b] = b < lanes ? M[b] : NULL;
		sl[b] = b < lanes ? sv[b] : NULL;
		if (nl[b] > m)
			m = nl[b];
	}
	if (m == 0)
		return 0;
	Q = W + (size_t) m * (m + 1) / 2 * 8;
	RecoAvx512LanesBuild(m, nl, Ml, sl, W, Q);
	okmask = RecoAvx512LanesFactor(m, W);
	for (i = 0; i < m; i++)
		_mm512_storeu_pd(Q + (size_t) i * 8,
						 RecoAvx512LaneGather((const double *const *) q, nl, i));
	RecoAvx512LanesForward(m, W, Q);
	RecoAvx512LanesBack(m, nl, W, Q);
	for (b = 0; b < lanes; b++)
		for (i = 0; i < nl[b]; i++)
			q[b][i] = Q[(size_t) i * 8 + b];
	return ~okmask & ((1u << lanes) - 1);
}

/*
 * Short rows in lanes (kernels.h): groups of more than RECO_AVX2_LANES_YMM
 * rows in zmm vectors with AVX-512F, else four at a time in ymm vectors.
 */
RECO_AVX2 static unsigned
RecoAvx2ShortLanes(int lanes, const int *n, const float *const *M,
				   const double *const *sv, double *const *q, double *W)
{
	unsigned	fail = 0;
	int			b;

	if (lanes > RECO_AVX2_LANES_YMM && RecoAvx2Zmm)
		return RecoAvx512ShortLanes(lanes, n, M, sv, q, W);
	for (b = 0; b < lanes; b += 4)
		fail |= RecoAvx2ShortLanes4(lanes - b < 4 ? lanes - b : 4, n + b, M + b, sv + b,
									q + b, W) << b;
	return fail;
}

/* The most rows short_lanes solves in one call of its vectors: eight with AVX-512F, else four. */
RECO_AVX2 static int
RecoAvx2ShortLanesWidth(void)
{
	return RecoAvx2Zmm ? 8 : 4;
}

/* ------------------------------------------------------------------------
 * CG kernels (lockstep rows)
 * ------------------------------------------------------------------------
 */

/*
 * One tile of the multi-row symv: rows 0 .. R − 1 of out, W x 8 columns
 * from column j0, held in registers while i runs over G's k rows: every
 * entry is the FMA chain over i from zero that the symv forms (R <= 6,
 * W <= 2, constants in every call).
 */
RECO_AVX2 RECO_INLINE void
RecoAvx2SymvTile(int R, int W, int k, const float *G, int j0, const float *V,
				 size_t ld, float *out)
{
	__m256		acc[6][2];
	int			r,
				i;

	for (r = 0; r < R; r++)
	{
		acc[r][0] = _mm256_setzero_ps();
		acc[r][1] = acc[r][0];
	}
	for (i = 0; i < k; i++)
	{
		const float *g = G + (size_t) i * k + j0;
		__m256		g0 = _mm256_loadu_ps(g);
		__m256		g1 = W > 1 ? _mm256_loadu_ps(g + 8) : g0;

		for (r = 0; r < R; r++)
		{
			__m256		vr = _mm256_broadcast_ss(V + (size_t) r * ld + i);

			acc[r][0] = _mm256_fmadd_ps(vr, g0, acc[r][0]);
			if (W > 1)
				acc[r][1] = _mm256_fmadd_ps(vr, g1, acc[r][1]);
		}
	}
	for (r = 0; r < R; r++)
	{
		_mm256_storeu_ps(out + (size_t) r * ld + j0, acc[r][0]);
		if (W > 1)
			_mm256_storeu_ps(out + (size_t) r * ld + j0 + 8, acc[r][1]);
	}
}

/* Rows of out in one register tile of the multi-row symv. */
#define RECO_AVX2_SYMV_ROWS 6

/* out_b = G v_b for the R rows b < R (a constant in every call), in tiles of R rows x 16 columns. */
RECO_AVX2 RECO_INLINE void
RecoAvx2SymvTiles(int R, int k, const float *G, const float *V, size_t ld,
				  float *out)
{
	int			j0;

	for (j0 = 0; j0 + 16 <= k; j0 += 16)
		RecoAvx2SymvTile(R, 2, k, G, j0, V, ld, out);
	if (j0 < k)
		RecoAvx2SymvTile(R, 1, k, G, j0, V, ld, out);
}

/* Tiles of R rows for any k (the last 2 to 5 rows of a multi-row symv). */
typedef void (*RecoAvx2SymvTilesFn) (int k, const float *G, const float *V,
									 size_t ld, float *out);

/* Instantiates TILES (RecoAvx2SymvTiles or its zmm twin) for R rows as TILES##R, with ATTR. */
#define RECO_SYMV_TILES_N(ATTR, TILES, R) \
ATTR static void \
TILES##R(int k, const float *G, const float *V, size_t ld, float *out) \
{ \
	TILES(R, k, G, V, ld, out); \
}

/*
 * Multi-row symv template, instantiated as NAME with ATTR over the tiles
 * TILES and the one-row AXPY: out_b = G v_b, tiles of RECO_AVX2_SYMV_ROWS
 * rows x 16 (or 32) columns, so each row of G loaded serves 6 rows (symv,
 * one row at a time, loads G once per row); the last 2 to 5 rows share one
 * narrower tile (LAST, a lockstep group at k 128 has about 5 rows), a last
 * single row runs the symv's own loop.
 */
#define RECO_SYMV_ROWS_TEMPLATE(ATTR, NAME, TILES, LAST, AXPY) \
RECO_SYMV_TILES_N(ATTR, TILES, 2) \
RECO_SYMV_TILES_N(ATTR, TILES, 3) \
RECO_SYMV_TILES_N(ATTR, TILES, 4) \
RECO_SYMV_TILES_N(ATTR, TILES, 5) \
static const RecoAvx2SymvTilesFn LAST[RECO_AVX2_SYMV_ROWS - 2] = { \
	TILES##2, TILES##3, TILES##4, TILES##5 \
}; \
ATTR RECO_INLINE void \
NAME(int k, int n, const float *G, const float *V, size_t ld, float *out) \
{ \
	int			b0; \
 \
	for (b0 = 0; b0 + RECO_AVX2_SYMV_ROWS <= n; b0 += RECO_AVX2_SYMV_ROWS) \
		TILES(RECO_AVX2_SYMV_ROWS, k, G, V + (size_t) b0 * ld, ld, \
			  out + (size_t) b0 * ld); \
	if (n - b0 >= 2) \
		LAST[n - b0 - 2] (k, G, V + (size_t) b0 * ld, ld, out + (size_t) b0 * ld); \
	else if (n - b0 == 1) \
		AXPY(k, G, false, NULL, k, V + (size_t) b0 * ld, out + (size_t) b0 * ld, true); \
}

RECO_SYMV_ROWS_TEMPLATE(RECO_AVX2, RecoAvx2SymvRowsInline, RecoAvx2SymvTiles,
						RecoAvx2SymvLast, RecoAvx2AxpyRowsInline)

/*
 * RecoAvx2SymvTile with AVX-512F: rows 0 .. R − 1 of out, 32 columns from
 * j0 in 2 zmm registers per row; every entry the same FMA chain over i.
 */
RECO_AVX512 RECO_INLINE void
RecoAvx512SymvTile(int R, int k, const float *G, int j0, const float *V,
				   size_t ld, float *out)
{
	__m512		acc[6][2];
	int			r,
				i;

	for (r = 0; r < R; r++)
	{
		acc[r][0] = _mm512_setzero_ps();
		acc[r][1] = acc[r][0];
	}
	for (i = 0; i < k; i++)
	{
		const float *g = G + (size_t) i * k + j0;
		__m512		g0 = _mm512_loadu_ps(g);
		__m512		g1 = _mm512_loadu_ps(g + 16);

		for (r = 0; r < R; r++)
		{
			__m512		vr = _mm512_set1_ps(V[(size_t) r * ld + i]);

			acc[r][0] = _mm512_fmadd_ps(vr, g0, acc[r][0]);
			acc[r][1] = _mm512_fmadd_ps(vr, g1, acc[r][1]);
		}
	}
	for (r = 0; r < R; r++)
	{
		_mm512_storeu_ps(out + (size_t) r * ld + j0, acc[r][0]);
		_mm512_storeu_ps(out + (size_t) r * ld + j0 + 16, acc[r][1]);
	}
}

/* RecoAvx2SymvTiles with 32-column zmm tiles, the last columns by the ymm tiles (the same bits). */
RECO_AVX512 RECO_INLINE void
RecoAvx512SymvTiles(int R, int k, const float *G, const float *V, size_t ld,
					float *out)
{
	int			j0;

	for (j0 = 0; j0 + 32 <= k; j0 += 32)
		RecoAvx512SymvTile(R, k, G, j0, V, ld, out);
	for (; j0 + 16 <= k; j0 += 16)
		RecoAvx2SymvTile(R, 2, k, G, j0, V, ld, out);
	if (j0 < k)
		RecoAvx2SymvTile(R, 1, k, G, j0, V, ld, out);
}

/* RecoAvx2SymvRowsInline with the zmm tiles and the zmm axpy (the same bits). */
RECO_SYMV_ROWS_TEMPLATE(RECO_AVX512, RecoAvx512SymvRowsInline, RecoAvx512SymvTiles,
						RecoAvx512SymvLast, RecoAvx512AxpyRowsInline)

/*
 * The dot block kernel over float vectors for one k: the zmm template (as
 * ZNAME) when RecoKernelsAvx2UseZmm found AVX-512F, else the ymm one; the
 * same bits either way.
 */
#define RECO_AVX2_DOT_KERNEL(NAME, ZNAME, KEXPR) \
RECO_AVX512 static void \
ZNAME(int k, const float *Y, const int32_t *idx, int cnt, const float *v, \
	  float *s) \
{ \
	(void) k; \
	RecoAvx512DotBlockWide(KEXPR, Y, false, idx, cnt, v, s); \
} \
RECO_AVX2 static void \
NAME(int k, const float *Y, const int32_t *idx, int cnt, const float *v, \
	 float *s) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		ZNAME(k, Y, idx, cnt, v, s); \
		return; \
	} \
	RecoAvx2DotBlockWide(KEXPR, Y, false, idx, cnt, v, s); \
}

/*
 * The dot block kernel over half vectors for one k: the ymm template on
 * every CPU.  Its zmm twin pairs two vectors' 8 values in a register (one
 * insert per conversion), and on Zen 5 the inserts share the conversions'
 * pipes: 15-18 % slower than one F16C conversion per 8 values
 * (test/bench/results/h-cg-2026-12-02.md).  The same bits either way.
 */
#define RECO_AVX2_DOT_HALF_KERNEL(NAME, KEXPR) \
RECO_AVX2 static void \
NAME(int k, const uint16_t *Y, const int32_t *idx, int cnt, const float *v, \
	 float *s) \
{ \
	(void) k; \
	RecoAvx2DotBlockWide(KEXPR, Y, true, idx, cnt, v, s); \
}

/*
 * An axpy block kernel over vectors of VTYPE for one k: the zmm template
 * (as ZNAME) when RecoKernelsAvx2UseZmm found AVX-512F, else the ymm one;
 * the same bits either way.
 */
#define RECO_AVX2_AXPY_KERNEL(NAME, ZNAME, KEXPR, VTYPE, HALF) \
RECO_AVX512 static void \
ZNAME(int k, const VTYPE *Y, const int32_t *idx, int cnt, const float *w, \
	  float *out) \
{ \
	(void) k; \
	RecoAvx512AxpyRowsInline(KEXPR, Y, HALF, idx, cnt, w, out, false); \
} \
RECO_AVX2 static void \
NAME(int k, const VTYPE *Y, const int32_t *idx, int cnt, const float *w, \
	 float *out) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		ZNAME(k, Y, idx, cnt, w, out); \
		return; \
	} \
	RecoAvx2AxpyRowsInline(KEXPR, Y, HALF, idx, cnt, w, out, false); \
}

/* A double row kernel (dot_rows, axpy_rows) for one k: TEMPLATE with k fixed to KEXPR. */
#define RECO_AVX2_ROWS_KERNEL(NAME, TEMPLATE, KEXPR) \
RECO_AVX2 static void \
NAME(int k, int n, const float *Z, const int32_t *idx, const double *in, \
	 double *out) \
{ \
	(void) k; \
	TEMPLATE(KEXPR, n, Z, idx, in, out); \
}

/*
 * Instantiates the AVX2 kernels for one (constant or variable) k:
 * RecoAvx2Kernels<SUFFIX>, with PAIR its axpy_pair_h (or NULL).
 */
#define RECO_AVX2_INSTANCE(SUFFIX, NAME, KEXPR, PAIR) \
RECO_AVX512 static void \
RecoAvx512GatherBlockHalf##SUFFIX(int k, const uint16_t *Yh, const int32_t *idx, \
								  int cnt, uint16_t *hdst) \
{ \
	(void) k; \
	RECO_GATHER_HALF_ROWS(KEXPR, Yh, idx, cnt, hdst, RECO_GATHER_HALF_ZMM); \
} \
RECO_AVX2 static void \
RecoAvx2GatherBlockHalf##SUFFIX(int k, const uint16_t *Yh, const int32_t *idx, \
								int cnt, uint16_t *hdst) \
{ \
	(void) k; \
	if (RecoAvx2Zmm) \
	{ \
		RecoAvx512GatherBlockHalf##SUFFIX(k, Yh, idx, cnt, hdst); \
		return; \
	} \
	RECO_GATHER_HALF_ROWS(KEXPR, Yh, idx, cnt, hdst, RECO_GATHER_HALF_NONE); \
} \
RECO_AVX2_DOT_KERNEL(RecoAvx2DotBlock##SUFFIX, RecoAvx512DotBlock##SUFFIX, KEXPR) \
RECO_AVX2_AXPY_KERNEL(RecoAvx2AxpyBlock##SUFFIX, RecoAvx512AxpyBlock##SUFFIX, KEXPR, float, false) \
RECO_AVX2_DOT_HALF_KERNEL(RecoAvx2DotBlockHalf##SUFFIX, KEXPR) \
RECO_AVX2_AXPY_KERNEL(RecoAvx2AxpyBlockHalf##SUFFIX, RecoAvx512AxpyBlockHalf##SUFFIX, KEXPR, uint16_t, true) \
RECO_AVX512 static void \
RecoAvx512Symv##SUFFIX(int k, const float *G, const float *v, float *out) \
{ \
	(void) k; \
	RecoAvx512AxpyRowsInline(KEXPR, G, false, NULL, KEXPR, v, out, true); \
} \
RECO_AVX2 static void \
RecoAvx2Symv##SUFFIX(int k, const float *G, const float *v, float *out) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		RecoAvx512Symv##SUFFIX(k, G, v, out); \
		return; \
	} \
	RecoAvx2AxpyRowsInline(KEXPR, G, false, NULL, KEXPR, v, out, true); \
} \
RECO_AVX2 static bool \
RecoAvx2CholSolve##SUFFIX(int k, const float *A, const float *b, double *U, \
						  double *z, float *x) \
{ \
	(void) k; \
	RecoAvx2CholLoad(KEXPR, A, U); \
	if (!RecoAvx2CholFactor(KEXPR, U)) \
		return false; \
	return RecoAvx2CholSubst(KEXPR, b, U, z, x); \
} \
RECO_AVX512 static void \
RecoAvx512RowsGram##SUFFIX(int k, int m, const float *Z, const int32_t *idx, \
						   float *M) \
{ \
	(void) k; \
	RecoAvx512RowsGramInline(KEXPR, m, Z, idx, M); \
} \
RECO_AVX2 static void \
RecoAvx2RowsGram##SUFFIX(int k, int m, const float *Z, const int32_t *idx, \
						 float *M) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		RecoAvx512RowsGram##SUFFIX(k, m, Z, idx, M); \
		return; \
	} \
	RecoAvx2RowsGramInline(KEXPR, m, Z, idx, M); \
} \
RECO_AVX2_ROWS_KERNEL(RecoAvx2DotRows##SUFFIX, RecoAvx2DotRowsD, KEXPR) \
RECO_AVX512 static void \
RecoAvx512AxpyRows##SUFFIX(int k, int n, const float *Z, const int32_t *idx, \
						   const double *coef, double *v) \
{ \
	(void) k; \
	RecoAvx512AxpyRowsD(KEXPR, n, Z, idx, coef, v); \
} \
RECO_AVX2 static void \
RecoAvx2AxpyRows##SUFFIX(int k, int n, const float *Z, const int32_t *idx, \
						 const double *coef, double *v) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		RecoAvx512AxpyRows##SUFFIX(k, n, Z, idx, coef, v); \
		return; \
	} \
	RecoAvx2AxpyRowsD(KEXPR, n, Z, idx, coef, v); \
} \
RECO_AVX512 static void \
RecoAvx512SymvRows##SUFFIX(int k, int n, const float *G, const float *V, \
						   size_t ld, float *out) \
{ \
	(void) k; \
	RecoAvx512SymvRowsInline(KEXPR, n, G, V, ld, out); \
} \
RECO_AVX2 static void \
RecoAvx2SymvRows##SUFFIX(int k, int n, const float *G, const float *V, \
						 size_t ld, float *out) \
{ \
	if (RecoAvx2Zmm) \
	{ \
		RecoAvx512SymvRows##SUFFIX(k, n, G, V, ld, out); \
		return; \
	} \
	RecoAvx2SymvRowsInline(KEXPR, n, G, V, ld, out); \
} \
static const RecoKernels RecoAvx2Kernels##SUFFIX = { \
	"avx2-fma-" NAME, \
	RecoAvx2DotBlock##SUFFIX, RecoAvx2AxpyBlock##SUFFIX, RecoAvx2Symv##SUFFIX, \
	RecoAvx2Syrk, RecoAvx2CholSolve##SUFFIX, RecoAvx2CholFactor, \
	RecoAvx2ForwardTiled, RecoAvx2Back, RecoAvx2BackTTiled, RecoAvx2DotRows##SUFFIX, \
	RecoAvx2AxpyRows##SUFFIX, RecoAvx2ShortFactor, \
	RecoAvx2RowsGram##SUFFIX, \
	RecoAvx2SymvRows##SUFFIX, \
	RecoAvx2ShortLanes, \
	RecoAvx2DotBlockHalf##SUFFIX, RecoAvx2AxpyBlockHalf##SUFFIX, RecoAvx2ToHalf, \
	RecoAvx2BackTRows, RecoAvx2ShortLanesWidth, \
	PAIR, \
	RecoAvx2GatherBlockHalf##SUFFIX \
};

/*
 * axpy_pair_h for any k with AVX-512F (RecoAvx512AxpyPairInline); without
 * it, each row's ymm axpy.  The k 32, 64 and 128 tables have none: their
 * columns all go in 128- or 64-column steps, or 32 in two registers, whose
 * chains the pair does not speed up (test/bench/results/h-axpy2-2026-12-03.md).
 */
RECO_AVX512 static void
RecoAvx512AxpyPairHalfAny(int k, const uint16_t *Ya, const uint16_t *Yb,
						  const int32_t *idx, int cnt, const float *ca,
						  const float *cb, float *oa, float *ob)
{
	RecoAvx512AxpyPairInline(k, Ya, Yb, idx, cnt, ca, cb, oa, ob);
}

/* The AVX2 table's axpy_pair_h for any k: the AVX-512F pair, or each row's ymm axpy. */
RECO_AVX2 static void
RecoAvx2AxpyPairHalfAny(int k, const uint16_t *Ya, const uint16_t *Yb,
						const int32_t *idx, int cnt, const float *ca,
						const float *cb, float *oa, float *ob)
{
	if (RecoAvx2Zmm)
	{
		RecoAvx512AxpyPairHalfAny(k, Ya, Yb, idx, cnt, ca, cb, oa, ob);
		return;
	}
	RecoAvx2AxpyRowsInline(k, Ya, true, idx, cnt, ca, oa, false);
	RecoAvx2AxpyRowsInline(k, Yb, true, idx, cnt, cb, ob, false);
}

RECO_AVX2_INSTANCE(K32, "k32", 32, NULL)
RECO_AVX2_INSTANCE(K64, "k64", 64, NULL)
RECO_AVX2_INSTANCE(K128, "k128", 128, NULL)
RECO_AVX2_INSTANCE(Any, "any", k, RecoAvx2AxpyPairHalfAny)

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
