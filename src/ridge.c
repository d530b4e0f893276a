/*-------------------------------------------------------------------------
 *
 * ridge.c
 *	  The ridge regression from features to factors: W and b minimizing
 *	  ||Fc W - Yc||² + λ||W||² with an unpenalized intercept.
 *
 * The intercept is left out of the penalty by centering: with f̄ and ȳ the
 * column means over the m rows, W solves (FcᵀFc + λI) W = FcᵀYc for the
 * centered Fc = F - 1f̄ᵀ, Yc = Y - 1ȳᵀ, and b = ȳ - Wᵀf̄.  Fc is never
 * formed (a centered sparse matrix is dense): the sparse-sparse block is
 * Σ f_a f_b - f̄_b Σ f_a - f̄_a Σ f_b + m f̄_a f̄_b, and a product with a
 * centered dense column c is Σ_nz f_a c_r - f̄_a Σ_r c_r, where Σ_r c_r (a
 * rounding residue) is summed over the same rows in the same order as the
 * first term: a feature present with value 1 on every row therefore has an
 * exactly zero column and right-hand side, and so does every column of
 * features that carry no information; then W = 0 and b = ȳ exactly, and
 * every entity placed from such features lands exactly on the mean.  Every
 * sum is in double; the system is solved by dpotrf/dpotrs (OpenBLAS's
 * LAPACK) on the calling thread, which polls the stop hook between blocks
 * of rows (not inside LAPACK).  Pure C: no PostgreSQL calls.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ridge.h"

/* Rows between two polls of the stop hook. */
#define RECO_RIDGE_POLL_ROWS 1024

/* LAPACK (OpenBLAS): Cholesky factorization and solve, column-major. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
					const int *lda, double *b, const int *ldb, int *info);

/* Bytes RecoRidgeFit allocates for `columns` columns and k factors. */
size_t
RecoRidgeBytes(int columns, int k)
{
	size_t		p = (size_t) columns;

	return sizeof(double) * (p * p + p * (size_t) k + 2 * p + 3 * (size_t) k + (size_t) columns);
}

/* Whether the stop hook asks to stop (polled every RECO_RIDGE_POLL_ROWS rows). */
static int
RecoRidgeStop(const RecoHooks *hooks, int64_t row)
{
	return hooks != NULL && hooks->should_stop != NULL && row % RECO_RIDGE_POLL_ROWS == 0 &&
		hooks->should_stop(hooks->arg);
}

/*
 * Column means: mean (p: the sparse columns' then the dense columns') and
 * ymean (k); colsum the sparse columns' sums.
 */
static void
RecoRidgeMeans(const RecoRidgeProblem *pr, double *colsum, double *mean, double *ymean)
{
	int			p = pr->n_sparse + pr->n_dense;
	int64_t		r;
	int64_t		e;
	int			j;

	for (e = 0; e < pr->indptr[pr->m]; e++)
		colsum[pr->cols[e]] += pr->values[e];
	for (r = 0; r < pr->m; r++)
	{
		for (j = 0; j < pr->n_dense; j++)
			colsum[pr->n_sparse + j] += pr->dense[r * pr->n_dense + j];
		for (j = 0; j < pr->k; j++)
			ymean[j] += pr->targets[r * pr->k + j];
	}
	for (j = 0; j < p; j++)
		mean[j] = colsum[j] / (double) pr->m;
	for (j = 0; j < pr->k; j++)
		ymean[j] /= (double) pr->m;
}

/*
 * Fills gram (p x p, symmetric) with FcᵀFc and rhs (k x p: the right-hand
 * side of factor t at rhs + t * p) with FcᵀYc, as the file header says;
 * gram NULL: only rhs (the system's factor is reused).
 */
static RecoStatus
RecoRidgeSystem(const RecoRidgeProblem *pr, const RecoHooks *hooks, const double *colsum,
				const double *mean, const double *ymean, double *gram, double *rhs)
{
	int			ns = pr->n_sparse;
	int			nd = pr->n_dense;
	int			p = ns + nd;
	int			k = pr->k;
	double	   *csum = calloc((size_t) nd + (size_t) k + 1, sizeof(double));	/* Σ_r centered dense, then targets */
	double	   *crow = malloc(sizeof(double) * ((size_t) nd + (size_t) k + 1));
	int64_t		r;
	int			a;
	int			b;

	if (csum == NULL || crow == NULL)
	{
		free(csum);
		free(crow);
		return RECO_STATUS_NO_MEMORY;
	}
	for (r = 0; r < pr->m; r++)
	{
		int64_t		e;
		int64_t		f;

		if (RecoRidgeStop(hooks, r))
		{
			free(csum);
			free(crow);
			return RECO_STATUS_STOPPED;
		}
		/* the row's centered dense values, then its centered targets */
		for (a = 0; a < nd; a++)
			crow[a] = pr->dense[r * nd + a] - mean[ns + a];
		for (a = 0; a < k; a++)
			crow[nd + a] = (double) pr->targets[r * k + a] - ymean[a];
		for (a = 0; a < nd + k; a++)
			csum[a] += crow[a];
		for (e = pr->indptr[r]; e < pr->indptr[r + 1]; e++)
		{
			int			ca = pr->cols[e];
			double		va = pr->values[e];

			if (gram != NULL)
			{
				for (f = pr->indptr[r]; f < pr->indptr[r + 1]; f++)
					gram[(size_t) ca * p + pr->cols[f]] += va * pr->values[f];
				for (a = 0; a < nd; a++)
					gram[(size_t) ca * p + ns + a] += va * crow[a];
			}
			for (a = 0; a < k; a++)
				rhs[(size_t) a * p + ca] += va * crow[nd + a];
		}
		for (a = 0; a < nd; a++)
		{
			if (gram != NULL)
				for (b = 0; b <= a; b++)
					gram[(size_t) (ns + a) * p + ns + b] += crow[a] * crow[b];
			for (b = 0; b < k; b++)
				rhs[(size_t) b * p + ns + a] += crow[a] * crow[nd + b];
		}
	}
	/* centering terms of the sparse columns */
	for (a = 0; a < ns; a++)
	{
		if (gram != NULL)
		{
			for (b = 0; b < ns; b++)
				gram[(size_t) a * p + b] += -mean[b] * colsum[a] - mean[a] * colsum[b] +
					(double) pr->m * mean[a] * mean[b];
			for (b = 0; b < nd; b++)
				gram[(size_t) a * p + ns + b] -= mean[a] * csum[b];
		}
		for (b = 0; b < k; b++)
			rhs[(size_t) b * p + a] -= mean[a] * csum[nd + b];
	}
	/* symmetric: the sparse-dense block into the dense rows, the dense block's upper half */
	if (gram != NULL)
	{
		for (a = 0; a < ns; a++)
			for (b = 0; b < nd; b++)
				gram[(size_t) (ns + b) * p + a] = gram[(size_t) a * p + ns + b];
		for (a = 0; a < nd; a++)
			for (b = 0; b < a; b++)
				gram[(size_t) (ns + b) * p + ns + a] = gram[(size_t) (ns + a) * p + ns + b];
	}
	free(csum);
	free(crow);
	return RECO_STATUS_OK;
}

/*
 * Fits the ridge mapping: weights ((n_sparse + n_dense) x k, row-major: the
 * k weights of column c at c * k) and intercept (k).  RECO_STATUS_STOPPED
 * if the hook stopped it, RECO_STATUS_NOT_POSITIVE_DEFINITE if the system is
 * singular (λ = 0 with dependent or constant columns), RECO_STATUS_NO_MEMORY,
 * RECO_STATUS_INVALID_ARGUMENT for no rows, no column or k < 1.
 */
RecoStatus
RecoRidgeFit(const RecoRidgeProblem *pr, const RecoHooks *hooks, double *weights, double *intercept)
{
	int			p = pr->n_sparse + pr->n_dense;
	int			k = pr->k;
	double	   *gram;
	double	   *rhs;
	double	   *colsum;
	double	   *mean;
	double	   *ymean;
	RecoStatus	status;
	int			info = 0;
	int			reuse;
	int			c;
	int			t;

	if (pr->m < 1 || p < 1 || k < 1 || !(pr->lambda >= 0) || (pr->factor != NULL && pr->factored == NULL))
		return RECO_STATUS_INVALID_ARGUMENT;
	reuse = pr->factor != NULL && *pr->factored;
	if (pr->factor == NULL)
		gram = calloc((size_t) p * (size_t) p, sizeof(double));
	else
	{
		gram = pr->factor;
		if (!reuse)
			memset(gram, 0, sizeof(double) * (size_t) p * (size_t) p);
	}
	rhs = calloc((size_t) p * (size_t) k, sizeof(double));
	colsum = calloc((size_t) p, sizeof(double));
	mean = calloc((size_t) p, sizeof(double));
	ymean = calloc((size_t) k, sizeof(double));
	if (gram == NULL || rhs == NULL || colsum == NULL || mean == NULL || ymean == NULL)
		status = RECO_STATUS_NO_MEMORY;
	else
	{
		RecoRidgeMeans(pr, colsum, mean, ymean);
		status = RecoRidgeSystem(pr, hooks, colsum, mean, ymean, reuse ? NULL : gram, rhs);
	}
	if (status == RECO_STATUS_OK)
	{
		if (!reuse)
		{
			for (c = 0; c < p; c++)
				gram[(size_t) c * p + c] += pr->lambda;
			dpotrf_("L", &p, gram, &p, &info);
			if (info == 0 && pr->factor != NULL)
				*pr->factored = 1;
		}
		if (info == 0)
			dpotrs_("L", &p, &k, gram, &p, rhs, &p, &info);
		if (info != 0)
			status = info > 0 ? RECO_STATUS_NOT_POSITIVE_DEFINITE : RECO_STATUS_INVALID_ARGUMENT;
	}
	if (status == RECO_STATUS_OK)
	{
		for (t = 0; t < k; t++)
		{
			double		b = ymean[t];

			for (c = 0; c < p; c++)
			{
				weights[(size_t) c * k + t] = rhs[(size_t) t * p + c];
				b -= mean[c] * rhs[(size_t) t * p + c];
			}
			intercept[t] = b;
			if (!isfinite(b))
				status = RECO_STATUS_NOT_FINITE;
		}
	}
	if (pr->factor == NULL)
		free(gram);
	free(rhs);
	free(colsum);
	free(mean);
	free(ymean);
	return status;
}

/*
 * Places one entity: out (k) = intercept + Σ values[e]·weights[cols[e]] +
 * Σ_j dense[j]·weights[dense_first + j], from the stored float32 weights,
 * summed in double in that order, rounded to float once.
 */
void
RecoRidgePlace(const float *weights, const float *intercept, int k,
			   int n_entries, const int32_t *cols, const double *values,
			   int dense_first, int n_dense, const double *dense, float *out)
{
	int			t;
	int			e;

	for (t = 0; t < k; t++)
	{
		double		sum = intercept[t];

		for (e = 0; e < n_entries; e++)
			sum += values[e] * weights[(size_t) cols[e] * k + t];
		for (e = 0; e < n_dense; e++)
			sum += dense[e] * weights[(size_t) (dense_first + e) * k + t];
		out[t] = (float) sum;
	}
}
