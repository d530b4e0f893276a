/*-------------------------------------------------------------------------
 *
 * kernels_impl.h
 *	  Inline kernels shared by kernels.c, kernels_avx2.c and the solvers.
 *
 * These are inlined into their callers on purpose: the Cholesky solve is
 * compiled once for the portable path and once inside each AVX2+FMA table,
 * and the 8-lane dot product is the CG step's r·r.  The double templates
 * take `fused`: true in the AVX2 tables, where each multiply-add is one
 * explicit fma() as in the tiled kernels that must equal them bit for bit
 * (RECO_MULADD), false on the portable path.  Pure C, no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_KERNELS_IMPL_H
#define RECO_KERNELS_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define RECO_HAVE_AVX2_PATH 1
#endif

#define RECO_INLINE static inline __attribute__((always_inline))

/*
 * a·b + c in a double template: one fused multiply-add (a single rounding)
 * in the instances the AVX2 tables compile (fused true), whose tiled twins
 * use explicit FMAs, so that neither the optimisation level nor
 * -ffp-contract decides how those round and a tiled kernel equals its
 * template bit for bit in any build.  With fused false (the portable
 * tables, one code path each) it is a product and a sum, which a compiler
 * may still contract where the build targets FMA (-march=native): that
 * changes the portable bits from build to build, never an equality within
 * one build.
 */
#define RECO_MULADD(fused, a, b, c) ((fused) ? fma((a), (b), (c)) : (a) * (b) + (c))

#ifdef RECO_HAVE_AVX2_PATH
/* The AVX2+FMA kernel set for k (a multiple of 8); kernels_avx2.c. */
extern const RecoKernels *RecoKernelsAvx2For(int k);
/* Lets the AVX2 tables use their AVX-512F (zmm) kernels: CG, half copy, exact pass (kernels_avx2.c). */
extern void RecoKernelsAvx2UseZmm(bool zmm);
#endif

/* Dot product of two float vectors with 8 partial sums in a fixed tree. */
RECO_INLINE float
RecoDot8(const float *restrict a, const float *restrict b, int k)
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

/* Half's largest finite value is 65504; a float at or above this rounds to infinity. */
#define RECO_HALF_OVERFLOW 65520.0f

/*
 * IEEE binary16 bits of f rounded to nearest even, as F16C's vcvtps2ph
 * with _MM_FROUND_TO_NEAREST_INT gives them: subnormal halves for |f| <
 * 2^-14, ±infinity from 65520 up, a NaN quieted with its payload's top bits.
 */
RECO_INLINE uint16_t
RecoFloatToHalf(float f)
{
	uint32_t	x,
				sign;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000u;
	x &= 0x7fffffffu;
	if (x >= 0x47800000u)		/* 2^16 and up: infinity or NaN */
		return (uint16_t) (sign | (x > 0x7f800000u ? 0x7e00u | ((x >> 13) & 0x3ffu) :
								   0x7c00u));
	if (x < 0x38800000u)		/* below 2^-14: a subnormal half (or zero) */
	{
		float		a,
					magic = 0.5f;	/* 2^-1: its last mantissa bit weighs 2^-24 */
		uint32_t	m;

		memcpy(&a, &x, sizeof(a));
		a += magic;				/* rounds to a multiple of 2^-24, to nearest even */
		memcpy(&m, &a, sizeof(m));
		return (uint16_t) (sign | (m - 0x3f000000u));
	}
	/* rebias the exponent, round the 13 dropped bits to nearest even */
	x += 0xc8000fffu + ((x >> 13) & 1u);
	return (uint16_t) (sign | (x >> 13));
}

/* The float of the IEEE binary16 bits h (exact: every half is a float). */
RECO_INLINE float
RecoHalfToFloat(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000u) << 16,
				e = (h >> 10) & 0x1fu,
				m = h & 0x3ffu,
				x;
	float		f;

	if (e == 0)
		return sign != 0 ? -((float) m * 0x1p-24f) : (float) m * 0x1p-24f;
	x = sign | (e == 0x1f ? 0x7f800000u | (m << 13) : ((e + 112u) << 23) | (m << 13));
	memcpy(&f, &x, sizeof(f));
	return f;
}

/* Rows of U factored together before they update the rest of the matrix. */
#define RECO_CHOL_PANEL 8

/*
 * Row j of U (n entries, row-major) once all its updates are in: the pivot
 * tested (positive and finite), its square root stored, the rest of the
 * row divided by it.  False if the pivot fails.
 */
RECO_INLINE bool
RecoCholPivotInline(int n, double *restrict Uj, int j)
{
	double		d = Uj[j];
	int			l;

	if (!(d > 0.0) || !isfinite(d))
		return false;
	d = sqrt(d);
	Uj[j] = d;
	for (l = j + 1; l < n; l++)
		Uj[l] /= d;
	return true;
}

/*
 * Factors in place the n x n symmetric matrix whose upper triangle U holds
 * (row-major) as UᵀU, right-looking in panels of RECO_CHOL_PANEL rows: a
 * panel is factored row by row, then every later row takes the panel's
 * updates in one sweep (one load and store of the row per eight
 * multiply-adds, over contiguous memory).  Each entry gets the same
 * multiply-adds in the same order as unblocked, so the panel size does not
 * change the result.  False if the matrix is not positive definite (or not
 * finite).
 */
RECO_INLINE bool
RecoCholFactorInline(bool fused, int n, double *U)
{
	int			i,
				j,
				j0,
				l;

	for (j0 = 0; j0 < n; j0 += RECO_CHOL_PANEL)
	{
		int			jend = j0 + RECO_CHOL_PANEL < n ? j0 + RECO_CHOL_PANEL : n;

		for (j = j0; j < jend; j++)
		{
			double	   *restrict Uj = U + (size_t) j * n;

			if (!RecoCholPivotInline(n, Uj, j))
				return false;
			/* the panel's later rows: A[i][l] -= U[j][i] U[j][l] */
			for (i = j + 1; i < jend; i++)
			{
				double	   *restrict Ui = U + (size_t) i * n;
				double		u = Uj[i];

				for (l = i; l < n; l++)
					Ui[l] = RECO_MULADD(fused, -u, Uj[l], Ui[l]);
			}
		}
		/* every later row takes the whole panel's updates at once */
		for (i = jend; i < n; i++)
		{
			double	   *restrict Ui = U + (size_t) i * n;

			if (jend - j0 == RECO_CHOL_PANEL)
			{
				const double *restrict U0 = U + (size_t) j0 * n;
				const double *restrict U1 = U0 + n;
				const double *restrict U2 = U1 + n;
				const double *restrict U3 = U2 + n;
				const double *restrict U4 = U3 + n;
				const double *restrict U5 = U4 + n;
				const double *restrict U6 = U5 + n;
				const double *restrict U7 = U6 + n;
				double		u0 = U0[i],
							u1 = U1[i],
							u2 = U2[i],
							u3 = U3[i],
							u4 = U4[i],
							u5 = U5[i],
							u6 = U6[i],
							u7 = U7[i];

				for (l = i; l < n; l++)
				{
					double		a = Ui[l];

					a = RECO_MULADD(fused, -u0, U0[l], a);
					a = RECO_MULADD(fused, -u1, U1[l], a);
					a = RECO_MULADD(fused, -u2, U2[l], a);
					a = RECO_MULADD(fused, -u3, U3[l], a);
					a = RECO_MULADD(fused, -u4, U4[l], a);
					a = RECO_MULADD(fused, -u5, U5[l], a);
					a = RECO_MULADD(fused, -u6, U6[l], a);
					a = RECO_MULADD(fused, -u7, U7[l], a);
					Ui[l] = a;
				}
			}
			else
				for (j = j0; j < jend; j++)
				{
					const double *restrict Uj = U + (size_t) j * n;
					double		u = Uj[i];

					for (l = i; l < n; l++)
						Ui[l] = RECO_MULADD(fused, -u, Uj[l], Ui[l]);
				}
		}
	}
	return true;
}

/* Solves Uᵀ z = z in place (U: n x n upper, row-major), one row of U at a time. */
RECO_INLINE void
RecoCholForwardInline(bool fused, int n, const double *U, double *z)
{
	int			i,
				j;

	for (j = 0; j < n; j++)
	{
		const double *restrict Uj = U + (size_t) j * n;
		double		zj = z[j] / Uj[j];

		z[j] = zj;
		for (i = j + 1; i < n; i++)
			z[i] = RECO_MULADD(fused, -Uj[i], zj, z[i]);
	}
}

/* Solves U x = z in place (U: n x n upper, row-major), row by row over contiguous rows. */
RECO_INLINE void
RecoCholBackInline(bool fused, int n, const double *U, double *z)
{
	int			i,
				j,
				l;

	for (i = n - 1; i >= 0; i--)
	{
		const double *restrict Ui = U + (size_t) i * n;
		double		acc[4] = {0, 0, 0, 0};

		for (j = i + 1; j + 4 <= n; j += 4)
			for (l = 0; l < 4; l++)
				acc[l] = RECO_MULADD(fused, Ui[j + l], z[j + l], acc[l]);
		for (l = 0; j < n; j++, l++)
			acc[l] = RECO_MULADD(fused, Ui[j], z[j], acc[l]);
		z[i] = (z[i] - ((acc[0] + acc[1]) + (acc[2] + acc[3]))) / Ui[i];
	}
}

/*
 * Solves Lᵀ z = z in place (L = Uᵀ: n x n lower, row-major) a row of L at a
 * time: the updates of one step are independent (no dependency chain).
 */
RECO_INLINE void
RecoCholBackTInline(bool fused, int n, const double *L, double *z)
{
	int			i,
				j;

	for (i = n - 1; i >= 0; i--)
	{
		const double *restrict Li = L + (size_t) i * n;
		double		zi = z[i] / Li[i];

		z[i] = zi;
		for (j = 0; j < i; j++)
			z[j] = RECO_MULADD(fused, -Li[j], zi, z[j]);
	}
}

/* out[i] = Z[idx[i]] · v in double (4 partial sums) for i < n (rows of stride k). */
RECO_INLINE void
RecoDotRowsInline(bool fused, int k, int n, const float *Z, const int32_t *idx,
				  const double *v, double *out)
{
	int			i,
				j,
				l;

	for (i = 0; i < n; i++)
	{
		const float *restrict z = Z + (size_t) idx[i] * k;
		double		acc[4] = {0, 0, 0, 0};

		for (j = 0; j + 4 <= k; j += 4)
			for (l = 0; l < 4; l++)
				acc[l] = RECO_MULADD(fused, (double) z[j + l], v[j + l], acc[l]);
		for (l = 0; j < k; j++, l++)
			acc[l] = RECO_MULADD(fused, (double) z[j], v[j], acc[l]);
		out[i] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
	}
}

/*
 * v += Σ_i coef[i] Z[idx[i]] in double, i in order (rows of stride k), four
 * rows per sweep over v (the same multiply-adds in the same order).
 */
RECO_INLINE void
RecoAxpyRowsInline(bool fused, int k, int n, const float *Z, const int32_t *idx,
				   const double *coef, double *restrict v)
{
	int			i = 0,
				j;

	for (; i + 4 <= n; i += 4)
	{
		const float *restrict z0 = Z + (size_t) idx[i] * k;
		const float *restrict z1 = Z + (size_t) idx[i + 1] * k;
		const float *restrict z2 = Z + (size_t) idx[i + 2] * k;
		const float *restrict z3 = Z + (size_t) idx[i + 3] * k;
		double		c0 = coef[i],
					c1 = coef[i + 1],
					c2 = coef[i + 2],
					c3 = coef[i + 3];

		for (j = 0; j < k; j++)
		{
			double		a = v[j];

			a = RECO_MULADD(fused, c0, (double) z0[j], a);
			a = RECO_MULADD(fused, c1, (double) z1[j], a);
			a = RECO_MULADD(fused, c2, (double) z2[j], a);
			a = RECO_MULADD(fused, c3, (double) z3[j], a);
			v[j] = a;
		}
	}
	for (; i < n; i++)
	{
		const float *restrict z = Z + (size_t) idx[i] * k;
		double		c = coef[i];

		for (j = 0; j < k; j++)
			v[j] = RECO_MULADD(fused, c, (double) z[j], v[j]);
	}
}

/*
 * N = I + S M S (n x n, upper, row-major; M: float lower triangle of stride
 * n, S = diag(sv)), not yet factored.
 */
RECO_INLINE void
RecoShortBuildInline(bool fused, int n, const float *M, const double *sv, double *N)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
		for (j = 0; j <= i; j++)
			N[(size_t) j * n + i] = RECO_MULADD(fused, sv[i] * sv[j], (double) M[(size_t) i * n + j],
												(i == j ? 1.0 : 0.0));
}

/*
 * N = I + S M S (RecoShortBuildInline) factored in place as UᵀU; false if
 * that fails.
 */
RECO_INLINE bool
RecoShortFactorInline(bool fused, int n, const float *M, const double *sv, double *N)
{
	RecoShortBuildInline(fused, n, M, sv, N);
	return RecoCholFactorInline(fused, n, N);
}

/* U's upper triangle (double, row-major) from the float lower triangle of A. */
RECO_INLINE void
RecoCholLoadInline(int k, const float *A, double *U)
{
	int			i,
				l;

	/* row i of the upper triangle is column i of the stored lower triangle */
	for (i = 0; i < k; i++)
		for (l = i; l < k; l++)
			U[(size_t) i * k + l] = A[(size_t) l * k + i];
}

/*
 * The end of a Cholesky solve once U is factored: Uᵀz = b, Ux = z in
 * double, x = z rounded to float; false if x is not finite.
 */
RECO_INLINE bool
RecoCholSubstInline(bool fused, int k, const float *b, const double *U, double *z, float *x)
{
	int			i,
				j;

	/* forward: Uᵀ z = b, one row of U (a column of Uᵀ) at a time */
	for (i = 0; i < k; i++)
		z[i] = b[i];
	RecoCholForwardInline(fused, k, U, z);
	/* backward: U x = z, column by column so the updates are independent */
	for (i = k - 1; i >= 0; i--)
	{
		double		xi = z[i] / U[(size_t) i * k + i];

		z[i] = xi;
		for (j = 0; j < i; j++)
			z[j] = RECO_MULADD(fused, -U[(size_t) j * k + i], xi, z[j]);
	}
	for (i = 0; i < k; i++)
	{
		x[i] = (float) z[i];
		if (!isfinite(x[i]))
			return false;
	}
	return true;
}

/*
 * Cholesky-solves A x = b in double: A = UᵀU factored by
 * RecoCholFactorInline, then Uᵀz = b and Ux = z (RecoCholSubstInline).
 */
RECO_INLINE bool
RecoCholSolveInline(bool fused, int k, const float *A, const float *b, double *U,
					double *z, float *x)
{
	RecoCholLoadInline(k, A, U);
	if (!RecoCholFactorInline(fused, k, U))
		return false;
	return RecoCholSubstInline(fused, k, b, U, z, x);
}

#endif							/* RECO_KERNELS_IMPL_H */
