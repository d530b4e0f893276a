/*-------------------------------------------------------------------------
 *
 * predict.c
 *	  reco.predict and reco.evaluate_ratings: predicted ratings of an
 *	  explicit model (algorithm "als").
 *
 * An explicit model stores user [x_u, b_u, 1, 1] and item [y_i, 1, b_i, μ]
 * (explicit.h), so a known pair's rating is the dot product of its vectors,
 * computed by the same kernel as reco.recommend's scores (RecoAlsScoreRows:
 * predict and recommend agree to the bit).  The fallbacks read the stored
 * parts: an unknown user gets μ + b_i (the item's last two floats), an
 * unknown item μ + b_u, both unknown μ (the last float of any item).  A NULL
 * id predicts NULL.  A model of another algorithm has no ratings to predict
 * (0A000).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "als.h"
#include "cache.h"
#include "options.h"
#include "serve.h"
#include "store.h"

/* Both sides of an explicit model, loaded for predictions. */
typedef struct RecoRatingModel
{
	RecoFactorSet *users;		/* every user, or NULL (one user: user) */
	const float *user;			/* the one user's vector (user_arg), NULL if unknown */
	RecoFactorSet *items;
	int			width;			/* stored length k + 3 */
	float		mean;			/* μ */
} RecoRatingModel;

/*
 * Opens the serving call of a prediction: the model (42704 if unknown),
 * 0A000 unless it is an explicit model, then the item matrix (through the
 * cache) and either the one user of id argument user_arg (as reco.recommend
 * loads a user: a single prediction must not load every user) or, user_arg
 * -1, the whole user matrix; SPI is closed again when it returns.
 */
static void
RecoRatingModelLoad(RecoServeContext *ctx, FunctionCallInfo fcinfo, const char *name, bool materialize,
					const char *what, int user_arg, RecoRatingModel *m)
{
	bool		known = false;

	RecoServeBegin(ctx, fcinfo, name, materialize);
	if (ctx->model.algorithm != RECO_ALGORITHM_ALS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s needs an explicit-ratings model, and model \"%s\" is \"%s\"",
						what, ctx->model.name, RecoAlgorithmName(ctx->model.algorithm)),
				 errdetail("Only algorithm \"als\" predicts ratings; the scores of other algorithms only rank."),
				 errhint("Train the model with algorithm => 'als' on ratings, or rank with reco.recommend.")));
	m->items = RecoServeFactors(ctx, RECO_SIDE_ITEMS);
	m->users = NULL;
	if (user_arg >= 0)
		known = RecoServeUserArg(ctx, fcinfo, user_arg, false);
	else
		m->users = RecoServeFactors(ctx, RECO_SIDE_USERS);
	RecoServeEnd(ctx);
	m->width = m->items->k;
	m->user = known ? ctx->users.factors : NULL;
	if (m->width <= RECO_EXPLICIT_STORED_EXTRA || m->items->n == 0 ||
		(m->users != NULL && m->users->k != m->width) || (known && ctx->users.k != m->width))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" version %d is not a valid explicit model: %d factors, " INT64_FORMAT " items",
						ctx->model.name, ctx->model.version, m->width, m->items->n)));
	m->mean = m->items->factors[m->width - 1];
}

/*
 * The predicted rating of a user's vector (NULL: unknown) and item row i
 * (-1: unknown); sets *fallback when either is unknown.
 */
static float
RecoPredictRows(const RecoRatingModel *m, const float *user, int64 i, bool *fallback)
{
	int			k = m->width - RECO_EXPLICIT_STORED_EXTRA;
	const float *item = i >= 0 ? m->items->factors + i * m->width : NULL;
	int32		row = (int32) i;
	float		score;

	*fallback = user == NULL || item == NULL;
	if (user != NULL && item != NULL)
	{
		RecoAlsScoreRows(m->items->factors, &row, 1, m->width, user, &score);
		return score;
	}
	if (item != NULL)
		return item[k + 1] + item[k + 2];	/* b_i + μ */
	if (user != NULL)
		return m->mean + user[k];	/* μ + b_u */
	return m->mean;
}

PG_FUNCTION_INFO_V1(reco_predict);

/*
 * reco.predict(model, user_id, item_id): the predicted rating (user and item
 * bigint, text or uuid, read as the model's id types); NULL for a NULL id.
 */
Datum
reco_predict(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	RecoRatingModel m;
	char	   *name = RecoArgModel(fcinfo);
	bool		fallback;
	int64		i;

	RecoRatingModelLoad(&ctx, fcinfo, name, false, "reco.predict", 1, &m);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	i = RecoFindIdDatum(m.items, PG_GETARG_DATUM(2), RecoArgType(fcinfo, 2));
	PG_RETURN_FLOAT4(RecoPredictRows(&m, m.user, i, &fallback));
}

/* Two parallel id array arguments (bigint[] or text[]): their elements, NULL flags and element types. */
typedef struct RecoPairArgs
{
	int			n;
	Datum	   *users;
	Datum	   *items;
	bool	   *user_nulls;
	bool	   *item_nulls;
	Oid			user_type;
	Oid			item_type;
} RecoPairArgs;

/* Errors out (22023) unless two parallel arrays have the same length. */
static void
RecoRequireSameLength(int a, int b, const char *names)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have the same length, not %d and %d", names, a, b)));
}

/*
 * Reads id array arguments 1 and 2 (named user_name and item_name): 22004
 * if NULL, 22023 unless one-dimensional and of the same length.
 */
static void
RecoArgPairs(FunctionCallInfo fcinfo, const char *user_name, const char *item_name, RecoPairArgs *pairs)
{
	int			n_items;

	RecoRequireArg(fcinfo, 1, user_name);
	RecoRequireArg(fcinfo, 2, item_name);
	RecoDeconstructIds(PG_GETARG_ARRAYTYPE_P(1), &pairs->users, &pairs->user_nulls, &pairs->n);
	RecoDeconstructIds(PG_GETARG_ARRAYTYPE_P(2), &pairs->items, &pairs->item_nulls, &n_items);
	pairs->user_type = ARR_ELEMTYPE(PG_GETARG_ARRAYTYPE_P(1));
	pairs->item_type = ARR_ELEMTYPE(PG_GETARG_ARRAYTYPE_P(2));
	RecoRequireSameLength(pairs->n, n_items, psprintf("%s and %s", user_name, item_name));
}

/* The predicted rating of pair p (neither id NULL); sets *fallback as RecoPredictRows. */
static float
RecoPredictPair(const RecoRatingModel *m, const RecoPairArgs *pairs, int p, bool *fallback)
{
	int64		u = RecoFindIdDatum(m->users, pairs->users[p], pairs->user_type);

	return RecoPredictRows(m, u >= 0 ? m->users->factors + u * m->width : NULL,
						   RecoFindIdDatum(m->items, pairs->items[p], pairs->item_type), fallback);
}

PG_FUNCTION_INFO_V1(reco_predict_pairs);

/*
 * reco.predict(model, user_ids[], item_ids[]): one row (user_id, item_id,
 * rating) per array position, in array order, the ids as given (bigint[] or
 * text[]); a NULL element's rating is NULL.
 */
Datum
reco_predict_pairs(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	RecoRatingModel m;
	char	   *name = RecoArgModel(fcinfo);
	RecoPairArgs pairs;
	int			p;

	RecoArgPairs(fcinfo, "user_ids", "item_ids", &pairs);
	RecoRatingModelLoad(&ctx, fcinfo, name, true, "reco.predict", -1, &m);
	for (p = 0; p < pairs.n; p++)
	{
		Datum		values[3] = {pairs.users[p], pairs.items[p], (Datum) 0};
		bool		nulls[3] = {pairs.user_nulls[p], pairs.item_nulls[p], true};
		bool		fallback;

		if (!nulls[0] && !nulls[1])
		{
			values[2] = Float4GetDatum(RecoPredictPair(&m, &pairs, p, &fallback));
			nulls[2] = false;
		}
		tuplestore_putvalues(ctx.rsinfo->setResult, ctx.rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_evaluate_rating_arrays);

/*
 * reco_internal.evaluate_ratings(model, users text[], items text[], ratings
 * real[]): RMSE and MAE of the predictions against the ratings (in double),
 * the rows scored and how many of them a fallback predicted.  22023 for
 * arrays of different lengths or an empty test set; NULL elements are the
 * caller's to filter out (22004); a NaN or infinite rating is refused (22000).
 */
Datum
reco_evaluate_rating_arrays(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	RecoRatingModel m;
	char	   *name = RecoArgModel(fcinfo);
	RecoPairArgs pairs;
	Datum	   *ratings;
	bool	   *rating_nulls;
	int			n_ratings,
				p;
	double		se = 0.0,
				ae = 0.0;
	int64		fallbacks = 0;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	RecoArgPairs(fcinfo, "users", "items", &pairs);
	RecoRequireArg(fcinfo, 3, "ratings");
	RecoRequireFlatArray(PG_GETARG_ARRAYTYPE_P(3));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), FLOAT4OID, 4, true, TYPALIGN_INT, &ratings, &rating_nulls, &n_ratings);
	RecoRequireSameLength(pairs.n, n_ratings, "users and ratings");
	if (pairs.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the test set has no rated (user, item) pairs")));
	for (p = 0; p < pairs.n; p++)
	{
		float		rating;

		if (pairs.user_nulls[p] || pairs.item_nulls[p] || rating_nulls[p])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("users, items and ratings must not contain NULL values")));
		/* a NaN or infinite rating would make the RMSE and MAE NaN or infinite */
		rating = DatumGetFloat4(ratings[p]);
		if (!isfinite(rating))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("rating of user %s and item %s is %s",
							RecoIdDatumText(pairs.users[p], pairs.user_type),
							RecoIdDatumText(pairs.items[p], pairs.item_type),
							isnan(rating) ? "NaN" : "infinite"),
					 errhint("Ratings must be finite numbers.")));
	}
	RecoRatingModelLoad(&ctx, fcinfo, name, false, "reco.evaluate_ratings", -1, &m);
	for (p = 0; p < pairs.n; p++)
	{
		bool		fallback;
		double		err = (double) RecoPredictPair(&m, &pairs, p, &fallback) - (double) DatumGetFloat4(ratings[p]);

		se += err * err;
		ae += fabs(err);
		fallbacks += fallback;
	}
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reco_evaluate_rating_arrays must return a composite type");
	values[0] = Float8GetDatum(sqrt(se / pairs.n));
	values[1] = Float8GetDatum(ae / pairs.n);
	values[2] = Int64GetDatum((int64) pairs.n);
	values[3] = Int64GetDatum(fallbacks);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
