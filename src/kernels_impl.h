/*-------------------------------------------------------------------------
 *
 * kernels_impl.h
 *	  Inline kernels shared by kernels.c, kernels_avx2.c and the solvers.
 *
 * These are inlined into their callers on purpose: the Cholesky solve is
 * compiled once for the portable path and once inside each AVX2+FMA table
 * (where the compiler may fuse its multiply-adds), and the 8-lane dot
 * product is the CG step's r·r.  Moving them out of line would change how
 * they are compiled, and so their rounding.  Pure C, no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_KERNELS_IMPL_H
#define RECO_KERNELS_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define RECO_HAVE_AVX2_PATH 1
#endif

#define RECO_INLINE static inline __attribute__((always_inline))

#ifdef RECO_HAVE_AVX2_PATH
/* The AVX2+FMA kernel set for k (a multiple of 8); kernels_avx2.c. */
extern const RecoKernels *RecoKernelsAvx2For(int k);
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

/*
 * Factors in place the n x n symmetric matrix whose upper triangle U holds
 * (row-major) as UᵀU, right-looking, so every inner loop runs over
 * contiguous memory without a dependency chain (it vectorizes); false if it
 * is not positive definite (or not finite).
 */
RECO_INLINE bool
RecoCholFactorInline(int n, double *U)
{
	int			i,
				j,
				l;

	for (j = 0; j < n; j++)
	{
		double	   *restrict Uj = U + (size_t) j * n;
		double		d = Uj[j];

		if (!(d > 0.0) || !isfinite(d))
			return false;
		d = sqrt(d);
		Uj[j] = d;
		for (l = j + 1; l < n; l++)
			Uj[l] /= d;
		/* trailing update: A[i][l] -= U[j][i] U[j][l] for j < i <= l */
		for (i = j + 1; i < n; i++)
		{
			double	   *restrict Ui = U + (size_t) i * n;
			double		u = Uj[i];

			for (l = i; l < n; l++)
				Ui[l] -= u * Uj[l];
		}
	}
	return true;
}

/* Solves Uᵀ z = z in place (U: n x n upper, row-major), one row of U at a time. */
RECO_INLINE void
RecoCholForwardInline(int n, const double *U, double *z)
{
	int			i,
				j;

	for (j = 0; j < n; j++)
	{
		const double *restrict Uj = U + (size_t) j * n;
		double		zj = z[j] / Uj[j];

		z[j] = zj;
		for (i = j + 1; i < n; i++)
			z[i] -= Uj[i] * zj;
	}
}

/*
 * Cholesky-solves A x = b in double: A = UᵀU factored by
 * RecoCholFactorInline, then Uᵀz = b and Ux = z.
 */
RECO_INLINE bool
RecoCholSolveInline(int k, const float *A, const float *b, double *U,
					double *z, float *x)
{
	int			i,
				j,
				l;

	/* row i of the upper triangle is column i of the stored lower triangle */
	for (i = 0; i < k; i++)
		for (l = i; l < k; l++)
			U[(size_t) i * k + l] = A[(size_t) l * k + i];
	if (!RecoCholFactorInline(k, U))
		return false;
	/* forward: Uᵀ z = b, one row of U (a column of Uᵀ) at a time */
	for (i = 0; i < k; i++)
		z[i] = b[i];
	RecoCholForwardInline(k, U, z);
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

#endif							/* RECO_KERNELS_IMPL_H */
