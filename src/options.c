/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Parsing and validation of reco.fit's options (a jsonb object).
 *
 * Every key is checked against one table: an unknown key, a value of the
 * wrong type or a value out of range is an error (22023) that says what is
 * accepted.  Defaults live in the same table, so reco.train's SQL defaults
 * and reco.fit's defaults cannot drift apart unnoticed (the regression tests
 * compare them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "model.h"
#include "options.h"
#include "reco_limits.h"

#define RECO_OPTION_KEYS \
	"algorithm, factors, regularization, alpha, iterations, seed, cg_steps, solver, threads, keep_versions"

/* Fills in the documented defaults. */
static void
RecoDefaultTrainOptions(RecoTrainOptions *out)
{
	out->factors = RECO_DEFAULT_FACTORS;
	out->regularization = RECO_DEFAULT_REGULARIZATION;
	out->alpha = RECO_DEFAULT_ALPHA;
	out->iterations = RECO_DEFAULT_ITERATIONS;
	out->seed = RECO_DEFAULT_SEED;
	out->cg_steps = RECO_DEFAULT_CG_STEPS;
	out->solver = RECO_SOLVER_CG;
	out->threads = RECO_DEFAULT_THREADS;
	out->keep_versions = RECO_DEFAULT_KEEP_VERSIONS;
}

/* Returns a jsonb number as double, or errors naming the key. */
static double
RecoOptionNumber(const char *key, JsonbValue *value)
{
	if (value->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a finite number", key),
				 value->type == jbvString ? errhint("JSON has no NaN or infinity: jsonb stores them as strings.") : 0));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(value->val.numeric)));
}

/* Returns a jsonb integer within [min, max], or errors with the range. */
static int64
RecoOptionInteger(const char *key, JsonbValue *value, int64 min, int64 max)
{
	double		number = RecoOptionNumber(key, value);

	if (number != floor(number) || number < (double) min || number > (double) max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be an integer between " INT64_FORMAT " and " INT64_FORMAT, key, min, max)));
	return (int64) number;
}

/* Returns a jsonb number within [min, max] (finite), or errors with the range. */
static float
RecoOptionReal(const char *key, JsonbValue *value, double min, double max, bool min_inclusive)
{
	double		number = RecoOptionNumber(key, value);

	if (isnan(number) || number > max || number < min || (!min_inclusive && number == min))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a number %s %g and at most %g",
						key, min_inclusive ? "at least" : "greater than", min, max)));
	return (float) number;
}

/* Returns a jsonb string as a C string, or errors naming the key. */
static char *
RecoOptionString(const char *key, JsonbValue *value)
{
	if (value->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a string", key)));
	return pnstrdup(value->val.string.val, value->val.string.len);
}

/* Applies one key/value pair of the options object. */
static void
RecoApplyOption(const char *key, JsonbValue *value, RecoTrainOptions *out)
{
	if (strcmp(key, "algorithm") == 0)
	{
		char	   *algorithm = RecoOptionString(key, value);

		if (strcmp(algorithm, "ials") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown algorithm \"%s\"", algorithm),
					 errhint("The algorithms are: ials.")));
	}
	else if (strcmp(key, "factors") == 0)
		out->factors = (int) RecoOptionInteger(key, value, RECO_MIN_FACTORS, RECO_MAX_FACTORS);
	else if (strcmp(key, "regularization") == 0)
		out->regularization = RecoOptionReal(key, value, 0.0, RECO_MAX_REGULARIZATION, true);
	else if (strcmp(key, "alpha") == 0)
		out->alpha = RecoOptionReal(key, value, 0.0, RECO_MAX_ALPHA, false);
	else if (strcmp(key, "iterations") == 0)
		out->iterations = (int) RecoOptionInteger(key, value, RECO_MIN_ITERATIONS, RECO_MAX_ITERATIONS);
	else if (strcmp(key, "seed") == 0)
		out->seed = RecoOptionInteger(key, value, -(INT64CONST(1) << RECO_MAX_SEED_BITS),
									   INT64CONST(1) << RECO_MAX_SEED_BITS);
	else if (strcmp(key, "cg_steps") == 0)
		out->cg_steps = (int) RecoOptionInteger(key, value, RECO_MIN_CG_STEPS, RECO_MAX_CG_STEPS);
	else if (strcmp(key, "solver") == 0)
	{
		char	   *solver = RecoOptionString(key, value);

		if (strcmp(solver, "cg") == 0)
			out->solver = RECO_SOLVER_CG;
		else if (strcmp(solver, "cholesky") == 0)
			out->solver = RECO_SOLVER_CHOLESKY;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown solver \"%s\"", solver),
					 errhint("The solvers are: cg, cholesky.")));
	}
	else if (strcmp(key, "threads") == 0)
		out->threads = (int) RecoOptionInteger(key, value, 0, RECO_MAX_THREADS);
	else if (strcmp(key, "keep_versions") == 0)
		out->keep_versions = (int) RecoOptionInteger(key, value, 0, RECO_MAX_KEEP_VERSIONS);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown option \"%s\"", key),
				 errhint("The options are: " RECO_OPTION_KEYS ".")));
}

/* Parses reco.fit's options object (NULL = all defaults) into *out. */
void
RecoParseTrainOptions(Jsonb *options, RecoTrainOptions *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	char	   *key = NULL;

	RecoDefaultTrainOptions(out);
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a jsonb object"),
				 errhint("The options are: " RECO_OPTION_KEYS ".")));
	it = JsonbIteratorInit(&options->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (token == WJB_VALUE)
		{
			if (v.type == jbvNull)
				continue;		/* a JSON null means "the default" */
			RecoApplyOption(key, &v, out);
		}
	}
}

/* Renders every option in effect as a JSON object text (for reco.models.params). */
char *
RecoTrainOptionsToJson(const RecoTrainOptions *options)
{
	StringInfoData buf;
	char		regularization[FLOAT_SHORTEST_DECIMAL_LEN];
	char		alpha[FLOAT_SHORTEST_DECIMAL_LEN];

	float_to_shortest_decimal_buf(options->regularization, regularization);
	float_to_shortest_decimal_buf(options->alpha, alpha);
	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"algorithm\": \"ials\", \"factors\": %d, \"regularization\": %s, "
					 "\"alpha\": %s, \"iterations\": %d, \"seed\": " INT64_FORMAT ", "
					 "\"cg_steps\": %d, \"solver\": \"%s\", \"keep_versions\": %d}",
					 options->factors, regularization, alpha,
					 options->iterations, options->seed, options->cg_steps,
					 options->solver == RECO_SOLVER_CG ? "cg" : "cholesky",
					 options->keep_versions);
	return buf.data;
}
