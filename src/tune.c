/*-------------------------------------------------------------------------
 *
 * tune.c
 *	  The C helpers of reco.tune (a plpgsql function): the seeded sample of a
 *	  random search, the training params of an options object, and the
 *	  pruning of a model's old versions after the search.
 *
 * reco.tune trains and evaluates one configuration of a grid after another
 * with reco.train and reco.evaluate; what it needs beyond them lives here so
 * that it repeats no logic: the option table of options.c says what the
 * defaults are and whether a value is valid, store.c prunes versions as
 * reco.fit does, and rng.h draws the sample.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "options.h"
#include "reco.h"
#include "reco_limits.h"
#include "rng.h"
#include "serve.h"
#include "store.h"

/* The stream of the random search's generator, apart from every other use of a seed. */
#define RECO_TUNE_STREAM UINT64_C(0x74756E65)	/* "tune" */

/*
 * n distinct configuration numbers drawn uniformly from 0 .. population - 1
 * (Floyd's algorithm: each n-subset equally likely), from the generator of
 * (seed, RECO_TUNE_STREAM); written to out ascending.  n <= population.
 */
static void
RecoTuneSample(int64 population, int n, int64 seed, int64 *out)
{
	RecoRng		rng = RecoRngStart((uint64_t) seed, RECO_TUNE_STREAM);
	int64		j;
	int			drawn = 0;

	for (j = population - n; j < population; j++)
	{
		int64		t = (int64) RecoRngBelow(&rng, (uint64_t) j + 1);
		bool		taken = false;
		int			i;

		for (i = 0; i < drawn && !taken; i++)
			taken = out[i] == t;
		out[drawn++] = taken ? j : t;
	}
	qsort(out, n, sizeof(int64), RecoCompareInt64);
}

PG_FUNCTION_INFO_V1(reco_tune_sample);

/*
 * reco_internal.tune_sample(population bigint, n integer, seed bigint):
 * the configuration numbers (0-based, ascending) a random search of n trials
 * runs; every one of them if n >= population.
 */
Datum
reco_tune_sample(PG_FUNCTION_ARGS)
{
	int64		population;
	int32		n;
	int64	   *picked;
	Datum	   *values;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("population, n and seed must not be NULL")));
	population = PG_GETARG_INT64(0);
	n = PG_GETARG_INT32(1);
	if (population < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the population must be at least 1, not " INT64_FORMAT, population)));
	if (n < 1 || n > RECO_MAX_TUNE_TRIALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trials must be between 1 and %d, not %d", RECO_MAX_TUNE_TRIALS, n)));
	if (n > population)
		n = (int32) population;
	picked = palloc(sizeof(int64) * n);
	values = palloc(sizeof(Datum) * n);
	RecoTuneSample(population, n, PG_GETARG_INT64(2), picked);
	for (i = 0; i < n; i++)
		values[i] = Int64GetDatum(picked[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(values, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(reco_train_params);

/*
 * reco_internal.train_params(options jsonb): the params a training with
 * these reco.fit options records (every option in effect, defaults filled
 * in), or the option parser's error (22023) for a bad value.
 */
Datum
reco_train_params(PG_FUNCTION_ARGS)
{
	RecoTrainOptions options;

	RecoParseTrainOptions(PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0), RECO_ID_BIGINT, &options);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(RecoTrainOptionsToJson(&options))));
}

PG_FUNCTION_INFO_V1(reco_prune_versions);

/*
 * reco_internal.prune_versions(model text, newest integer, keep integer):
 * removes the versions of the model older than the newest `keep` counted
 * from version `newest` (0 keeps all), as a training does (store.c); returns
 * how many.
 */
Datum
reco_prune_versions(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		pruned;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model, newest and keep must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	RecoSpiConnect();
	RecoLockModelName(name);
	pruned = RecoPruneVersions(name, PG_GETARG_INT32(1), PG_GETARG_INT32(2));
	RecoSpiFinish();
	PG_RETURN_INT64(pruned);
}
