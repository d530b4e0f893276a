/*-------------------------------------------------------------------------
 *
 * model.c
 *	  Encoding and decoding of factor vectors, and the SQL conversions
 *	  reco.to_array(bytea) and reco.to_bytea(real[]).
 *
 * A factor vector is stored as exactly k * 4 bytes of little-endian IEEE
 * float32, without any header, so that any client can decode it (for
 * example numpy.frombuffer(b, '<f4')).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "model.h"

/* Copies one float into 4 little-endian bytes. */
static inline void
RecoPutFloat(char *dst, float value)
{
	uint32		bits;

	memcpy(&bits, &value, sizeof(bits));
#ifdef WORDS_BIGENDIAN
	bits = pg_bswap32(bits);
#endif
	memcpy(dst, &bits, sizeof(bits));
}

/* Reads one float from 4 little-endian bytes. */
static inline float
RecoGetFloat(const char *src)
{
	uint32		bits;
	float		value;

	memcpy(&bits, src, sizeof(bits));
#ifdef WORDS_BIGENDIAN
	bits = pg_bswap32(bits);
#endif
	memcpy(&value, &bits, sizeof(value));
	return value;
}

/* Builds the bytea of k factors. */
bytea *
RecoEncodeFactors(const float *values, int k)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + (Size) k * RECO_FACTOR_BYTES);
	char	   *dst = VARDATA(result);
	int			j;

	SET_VARSIZE(result, VARHDRSZ + (Size) k * RECO_FACTOR_BYTES);
	for (j = 0; j < k; j++)
		RecoPutFloat(dst + RECO_FACTOR_BYTES * j, values[j]);
	return result;
}

/* Decodes a stored factor value that must hold exactly k finite floats (22P03, XX001 otherwise). */
void
RecoDecodeFactors(const bytea *value, int k, float *out)
{
	Size		len = VARSIZE_ANY_EXHDR(value);
	const char *src = VARDATA_ANY(value);
	int			j;

	if (len != (Size) k * RECO_FACTOR_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("stored factor value has %zu bytes, expected %d", len, k * RECO_FACTOR_BYTES),
				 errdetail("A model with %d factors stores exactly %d bytes per row.", k, k * RECO_FACTOR_BYTES)));
	for (j = 0; j < k; j++)
	{
		out[j] = RecoGetFloat(src + RECO_FACTOR_BYTES * j);
		if (!isfinite(out[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stored factor value contains %s", isnan(out[j]) ? "NaN" : "an infinity"),
					 errdetail("Training never stores non-finite factors: the row was written by hand.")));
	}
}

PG_FUNCTION_INFO_V1(reco_to_array);

/* reco.to_array(bytea) -> real[]: decodes a factor value of any length. */
Datum
reco_to_array(PG_FUNCTION_ARGS)
{
	bytea	   *value = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(value);
	const char *src = VARDATA_ANY(value);
	Datum	   *elems;
	int			n;
	int			j;

	if (len % RECO_FACTOR_BYTES != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("factor value has %zu bytes, not a multiple of %d", len, RECO_FACTOR_BYTES),
				 errdetail("A factor value is k little-endian float32 numbers, %d bytes each.", RECO_FACTOR_BYTES)));
	if (len / RECO_FACTOR_BYTES > MaxAllocSize / sizeof(Datum))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("factor value is too long to convert to an array")));
	n = (int) (len / RECO_FACTOR_BYTES);
	if (n == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(FLOAT4OID));
	elems = (Datum *) palloc(sizeof(Datum) * n);
	for (j = 0; j < n; j++)
		elems[j] = Float4GetDatum(RecoGetFloat(src + RECO_FACTOR_BYTES * j));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(reco_to_bytea);

/* reco.to_bytea(real[]) -> bytea: encodes a one-dimensional array without NULLs. */
Datum
reco_to_bytea(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int			ndim = ARR_NDIM(array);
	int			n;
	const float *values;

	if (ndim > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor array must be one-dimensional, not %d-dimensional", ndim)));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor array must not contain NULL values")));
	n = ArrayGetNItems(ndim, ARR_DIMS(array));
	values = (const float *) ARR_DATA_PTR(array);
	PG_RETURN_BYTEA_P(RecoEncodeFactors(values, n));
}
