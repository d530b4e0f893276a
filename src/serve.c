/*-------------------------------------------------------------------------
 *
 * serve.c
 *	  The opening and closing of every serving call, and the argument
 *	  checks, id lists and result rows the serving functions share.
 *
 * Every serving function has the shape of contrib/bloom's callbacks, which
 * all start from initBloomState: check the arguments (RecoArgModel,
 * RecoArgN, RecoArgIdList, before anything is allocated or connected), then
 *
 *		RecoServeBegin(&ctx, fcinfo, name, true);	materialized SRF, SPI, model
 *		... RecoServeUsers / RecoServeUserArg, RecoServeFactors ...
 *		RecoServeEnd(&ctx);						SPI disconnected
 *
 * and only then score: every SPI_finish of the serving code is the one in
 * RecoServeEnd, and a call with nothing to serve (a NULL or unknown user or
 * item) still passes through it before returning no rows (or the
 * best-sellers, which RecoServePopular reads before it).  Loaded matrices
 * and users live in the call's memory context (the cache's matrices are
 * pinned for as long as that context lives, see cache.c), so they outlive
 * SPI's contexts.
 *
 * Ids (ids.h): a serving function has a bigint form and text and uuid forms
 * sharing its C entry point.  An id argument is read as the model's id type
 * from its text form (RecoServeUserArg, RecoFindIdDatum; a text[] list by
 * RecoResolveIdList once the model is known), so the code scores with
 * codes; a result id column writes the result's column type (RecoIdColumn):
 * a bigint form on a model whose returned ids are keys is refused up front
 * (42804, RecoServeBegin), a text form writes keys, or a bigint id's
 * decimal text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "cache.h"
#include "ids.h"
#include "options.h"
#include "reco.h"
#include "serve.h"
#include "topk.h"

/* The text form of each bigint-returning serving function, named when a model's ids are keys. */
static const char *const RecoTextForms[][2] = {
	{"recommend", "reco.recommend(model, user_id text, ...) or its uuid form"},
	{"recommend_for_items", "reco.recommend_for_items_text(model, items text[], ...)"},
	{"recommend_all", "reco.recommend_all_text(model, ...)"},
	{"similar_items", "reco.similar_items(model, item_id text, ...) or its uuid form"},
	{"similar_to_features", "reco.similar_to_features_text(model, features, ...)"},
	{"similar_users", "reco.similar_users(model, user_id text, ...) or its uuid form"},
	{"explain", "reco.explain(model, user_id text, item_id text, ...)"},
	{"explore", "reco.explore(model, user_id text, ...) or its uuid form"},
	{"segment_users", "reco.segment_users_text(model, k, seed)"},
	{"segment_top_items", "reco.segment_top_items_text(model, segment, n)"},
};

/*
 * Errors out (42804) if the call's result has a bigint id column for a side
 * of the model whose ids are text or uuid: a bigint form returns bigint ids,
 * and only the text and uuid forms can return keys.  The id columns are the
 * result's bigint or text columns; one named user_id holds user ids, any
 * other item ids.
 */
static void
RecoRequireBigintResult(RecoServeContext *ctx, FunctionCallInfo fcinfo, const char *model)
{
	TupleDesc	desc = ctx->rsinfo->setDesc;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		bool		users = strcmp(NameStr(attr->attname), "user_id") == 0;
		RecoIdType	type = users ? ctx->model.user_id_type : ctx->model.item_id_type;
		char	   *function;
		const char *form = NULL;
		int			f;

		if (attr->atttypid != INT8OID || type == RECO_ID_BIGINT)
			continue;
		function = get_func_name(fcinfo->flinfo->fn_oid);
		for (f = 0; f < lengthof(RecoTextForms); f++)
			if (function != NULL && strcmp(function, RecoTextForms[f][0]) == 0)
				form = RecoTextForms[f][1];
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("model \"%s\" has %s %s ids, which this form of reco.%s cannot return as bigint",
						model, RecoIdTypeName(type), users ? "user" : "item",
						function != NULL ? function : "?"),
				 form != NULL ? errhint("Call %s: it returns the ids as text.", form) : 0));
	}
}

/*
 * Opens a serving call: the materialized result (if materialize), SPI, and
 * the served version of model `model` (NULL: the default model, reco.model
 * or the only one).  Errors 42704 for an unknown model, 42804 if the result
 * is a bigint form's and the model's ids it returns are not bigint.
 */
void
RecoServeBegin(RecoServeContext *ctx, FunctionCallInfo fcinfo, const char *model, bool materialize)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->call_cxt = CurrentMemoryContext;
	if (materialize)
	{
		InitMaterializedSRF(fcinfo, 0);
		ctx->rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	}
	RecoSpiConnect();
	ctx->connected = true;
	if (model == NULL)
		model = RecoDefaultModelName();
	RecoLookupModel(model, &ctx->model);
	if (ctx->rsinfo != NULL)
		RecoRequireBigintResult(ctx, fcinfo, model);
}

/*
 * What needs the implicit-feedback fold-in (a user's factors solved from
 * items and weights: explain, explore, recommend_for_items, the refreshes)
 * refuses a model of another algorithm, or one imported without its
 * regularization and alpha (0A000), naming `what`.
 */
void
RecoRequireImplicitModel(const RecoModelInfo *model, const char *what)
{
	if (model->algorithm != RECO_ALGORITHM_IALS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s needs an implicit-feedback model, and model \"%s\" is \"%s\"",
						what, model->name, RecoAlgorithmName(model->algorithm)),
				 errdetail("It solves a user's factors from items and weights, which only algorithm \"ials\" defines."),
				 errhint("Use reco.recommend for the model's users, or train an \"ials\" model for this.")));
	if (!model->fold_in)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s needs the regularization and alpha of model \"%s\", which was imported without them",
						what, model->name),
				 errdetail("It solves a user's factors from items and weights with the model's own regularization and alpha."),
				 errhint("Use reco.recommend for the model's users, or import it again with the options "
						 "{\"algorithm\": \"ials\", \"regularization\": ..., \"alpha\": ...} it was trained with.")));
}

/*
 * The include_new argument `arg` (true when the call has no such argument:
 * a pre-0.7.0 definition); 22004 if NULL.
 */
bool
RecoArgIncludeNew(FunctionCallInfo fcinfo, int arg)
{
	if (arg >= PG_NARGS())
		return true;
	RecoRequireArg(fcinfo, arg, "include_new");
	return PG_GETARG_BOOL(arg);
}

/*
 * Adds every item of `items` placed from features to an exclude list (ids
 * of the set, resolved), its new array in cxt (the call's context: the list
 * is used after SPI_finish frees the SPI context current here):
 * include_new => false serves them as excluded.
 */
void
RecoExcludePlaced(const RecoFactorSet *items, RecoIdList *exclude, MemoryContext cxt)
{
	int64		n_placed = 0,
				i;
	int64	   *ids;

	if (items->placed == NULL)
		return;
	for (i = 0; i < items->n; i++)
		n_placed += items->placed[i];
	ids = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(exclude->n + n_placed, 1));
	if (exclude->n > 0)
		memcpy(ids, exclude->ids, sizeof(int64) * exclude->n);
	for (i = 0; i < items->n; i++)
		if (items->placed[i])
			ids[exclude->n++] = items->ids[i];
	exclude->ids = ids;
}

/*
 * The system a fold-in of one row solves against n_fixed rows of the model's
 * other side: the model's alpha, λ, ν and α0 (as its training's final pass).
 */
RecoAlsRowParams
RecoModelRowParams(const RecoModelInfo *model, int64 n_fixed)
{
	RecoAlsRowParams rp;

	rp.alpha = model->alpha;
	rp.regularization = model->regularization;
	rp.reg_exponent = model->reg_exponent;
	rp.unobserved_weight = model->unobserved_weight;
	rp.n_fixed = n_fixed;
	return rp;
}

/* Loads one side's factor matrix of the served version (through the cache) into ctx->factors. */
RecoFactorSet *
RecoServeFactors(RecoServeContext *ctx, RecoSide side)
{
	Assert(ctx->connected);
	ctx->factors = RecoCacheFactors(&ctx->model, side, ctx->call_cxt);
	return ctx->factors;
}

/*
 * Loads the listed users (ascending ids; NULL: every user) with their
 * training items (and weights if asked) into ctx->users; returns whether
 * the model knows any of them.
 */
bool
RecoServeUsers(RecoServeContext *ctx, const int64 *user_ids, int64 n, bool with_weights)
{
	Assert(ctx->connected);
	RecoLoadUsers(&ctx->model, user_ids, n, with_weights, &ctx->users, ctx->call_cxt);
	return ctx->users.n > 0;
}

/*
 * Loads the one user of id argument `arg` (bigint, text or uuid, read as the
 * model's user id type: 22P02 if it cannot be one); false if the argument is
 * NULL or the user unknown.  A text or uuid side is searched by key.
 */
bool
RecoServeUserArg(RecoServeContext *ctx, FunctionCallInfo fcinfo, int arg, bool with_weights)
{
	RecoIdType	side = ctx->model.user_id_type;
	Oid			type;
	char	   *text;
	int64		user_id;

	if (PG_ARGISNULL(arg))
		return false;
	type = RecoArgType(fcinfo, arg);
	if (type == INT8OID && side == RECO_ID_BIGINT)
	{
		user_id = PG_GETARG_INT64(arg);
		return RecoServeUsers(ctx, &user_id, 1, with_weights);
	}
	text = RecoIdDatumText(PG_GETARG_DATUM(arg), type);
	if (side == RECO_ID_BIGINT)
	{
		user_id = RecoIdBigintFromText(text);
		return RecoServeUsers(ctx, &user_id, 1, with_weights);
	}
	text = RecoIdKeyFromText(side, text);
	RecoLoadUsersByKey(&ctx->model, (const char *const *) &text, 1, with_weights, &ctx->users, ctx->call_cxt);
	return ctx->users.n > 0;
}

/*
 * Loads the users of a list argument (its ids, or its texts read as the
 * model's user id type; an absent list: every user) into ctx->users;
 * returns whether the model knows any of them.
 */
bool
RecoServeUserList(RecoServeContext *ctx, RecoIdList *list, bool with_weights)
{
	RecoIdType	side = ctx->model.user_id_type;
	int64		i;

	if (list->texts == NULL)
		return RecoServeUsers(ctx, list->ids, list->ids != NULL ? RecoSortUnique(list->ids, list->n) : 0,
							  with_weights);
	if (side != RECO_ID_BIGINT)
	{
		for (i = 0; i < list->n_texts; i++)
			list->texts[i] = RecoIdKeyFromText(side, list->texts[i]);
		RecoLoadUsersByKey(&ctx->model, (const char *const *) list->texts, list->n_texts, with_weights,
						   &ctx->users, ctx->call_cxt);
		return ctx->users.n > 0;
	}
	list->ids = palloc(sizeof(int64) * Max(list->n_texts, 1));
	for (i = 0; i < list->n_texts; i++)
		list->ids[i] = RecoIdBigintFromText(list->texts[i]);
	list->n = RecoSortUnique(list->ids, list->n_texts);
	return RecoServeUsers(ctx, list->ids, list->n, with_weights);
}

/*
 * The best-seller fallback: emits the served version's n most popular items
 * (reco.item_factors.popularity, ties by lower item id or code) as (item_id, score)
 * rows whose score is the popularity, only `candidates` if not NULL, never
 * an id of `exclude`.  Runs between RecoServeBegin and RecoServeEnd; the
 * popularity comes with the cached item matrix and is ordered once per
 * matrix, so a fallback costs a walk down that order, not a query.
 */
void
RecoServePopular(RecoServeContext *ctx, int n, const RecoIdList *candidates, const RecoIdList *exclude)
{
	RecoFactorSet *items = ctx->factors != NULL ? ctx->factors : RecoServeFactors(ctx, RECO_SIDE_ITEMS);
	const int32 *order = RecoFactorPopularityOrder(items);
	bool	   *skip = palloc(sizeof(bool) * Max(items->n, 1));
	RecoIdColumn column = RecoSetColumn(items);
	int64		i;
	int			emitted = 0;

	memset(skip, candidates != NULL, sizeof(bool) * Max(items->n, 1));
	for (i = 0; candidates != NULL && i < candidates->n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, candidates->ids[i]);

		if (idx >= 0)
			skip[idx] = false;
	}
	for (i = 0; exclude != NULL && i < exclude->n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, exclude->ids[i]);

		if (idx >= 0)
			skip[idx] = true;
	}
	for (i = 0; i < items->n && emitted < n; i++)
	{
		Datum		row[2];
		bool		row_nulls[2] = {false, false};

		if (skip[order[i]])
			continue;
		row[0] = RecoIdColumnDatum(&column, order[i], TupleDescAttr(ctx->rsinfo->setDesc, 0)->atttypid);
		row[1] = Float4GetDatum((float) items->popularity[order[i]]);
		tuplestore_putvalues(ctx->rsinfo->setResult, ctx->rsinfo->setDesc, row, row_nulls);
		emitted++;
	}
}

/*
 * The fallback argument `arg`: true for 'popular', false for 'none'; 22004
 * if NULL, 22023 for any other word.  A function without that argument gets
 * `if_absent`: the short recommend has none and always falls back, while a
 * long form without it is a 0.2.0 SQL definition still bound to this library
 * before ALTER EXTENSION reco UPDATE, which keeps 0.2.0's answer (no rows).
 */
bool
RecoArgFallback(FunctionCallInfo fcinfo, int arg, bool if_absent)
{
	char	   *word;

	if (arg >= PG_NARGS())
		return if_absent;
	RecoRequireArg(fcinfo, arg, "fallback");
	word = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (strcmp(word, "popular") == 0)
		return true;
	if (strcmp(word, "none") == 0)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown fallback \"%s\"", word),
			 errhint("The fallbacks are: popular, none.")));
	return false;				/* not reached */
}

/*
 * The MMR diversity of argument `arg` (0 if the call has no such argument)
 * for a call that returns `rows` rows a list: 0 .. 1; NULL 22004, NaN or
 * outside 0 .. 1 22023, and 22023 above 0 with more than RECO_MMR_MAX_ROWS
 * rows (the re-ranking costs rows x candidates x k and polls no cancel).
 */
float
RecoArgDiversity(FunctionCallInfo fcinfo, int arg, int64 rows)
{
	float		diversity;

	if (arg >= PG_NARGS())
		return 0.0f;
	RecoRequireArg(fcinfo, arg, "diversity");
	diversity = PG_GETARG_FLOAT4(arg);
	if (isnan(diversity) || diversity < 0.0f || diversity > 1.0f)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity must be between 0 and 1, not %.9g", diversity),
				 errhint("0 is the exact ranking, 1 the most diverse.")));
	if (diversity > 0.0f && rows > RECO_MMR_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity re-ranks at most %d rows, not " INT64_FORMAT, RECO_MMR_MAX_ROWS, rows),
				 errhint("Ask for fewer rows, or for diversity 0 (the exact ranking, any number of rows).")));
	return diversity;
}

/*
 * The real argument `arg`: NULL 22004; NaN or outside [lo, hi] 22023 (an
 * infinity is outside any finite bound).
 */
static float
RecoArgRealIn(FunctionCallInfo fcinfo, int arg, const char *name, float lo, float hi)
{
	float		v;

	RecoRequireArg(fcinfo, arg, name);
	v = PG_GETARG_FLOAT4(arg);
	if (isnan(v) || v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %g and %g, not %.9g", name, lo, hi, v)));
	return v;
}

/* The sigma argument of explore and evaluate: 0 .. RECO_MAX_EXPLORE_SIGMA; NULL 22004, else 22023. */
float
RecoArgSigma(FunctionCallInfo fcinfo, int arg)
{
	return RecoArgRealIn(fcinfo, arg, "sigma", 0.0f, RECO_MAX_EXPLORE_SIGMA);
}

/* The epsilon argument of explore and evaluate: 0 .. 1; NULL 22004, NaN or outside 22023. */
float
RecoArgEpsilon(FunctionCallInfo fcinfo, int arg)
{
	return RecoArgRealIn(fcinfo, arg, "epsilon", 0.0f, 1.0f);
}

/* The text form of user `user` of a loaded set: its stored key, or its decimal id written into buf. */
static const char *
RecoUserText(const RecoUserSet *users, int64 user, char *buf)
{
	if (users->keys.data != NULL)
		return RecoKeyAt(&users->keys, user);
	pg_lltoa(users->ids[user], buf);
	return buf;
}

/*
 * The exploration generator stream of a user (explore.h; reco.explore and
 * reco.evaluate's explore lists both take it from here, so they draw alike):
 * a hash of the user id's text form, that of user `user` of `users` when
 * user >= 0 (its stored key on a text or uuid side, else its decimal id),
 * else `text` (an unknown user's argument); 0 when that is NULL too.
 */
uint64
RecoUserStream(const RecoUserSet *users, int64 user, const char *text)
{
	char		decimal[MAXINT8LEN + 1];

	if (user >= 0)
		text = RecoUserText(users, user, decimal);
	if (text == NULL)
		return 0;
	return hash_bytes_extended((const unsigned char *) text, (int) strlen(text), 0);
}

/*
 * The fold-in row of user `user` of `users` (loaded with weights), as the
 * user's exact system A_u takes it (explain, explore, evaluate's explore):
 * its training items as rows of `items` (ascending, as the ids are), with
 * their summed weights, into rows and weights (room for the user's seen
 * count); returns the count.  Training and refresh store only items the
 * version has, so a seen item it does not have is a hand-edited or corrupt
 * model: XX001 (skipping it would silently build another A_u than the one
 * the stored x_u solves).
 */
int64
RecoUserRow(const RecoFactorSet *items, const RecoUserSet *users, int64 user, int64 model_id,
			int32 *rows, float *weights)
{
	int64		s,
				n = 0;

	for (s = users->seen_ptr[user]; s < users->seen_ptr[user + 1]; s++)
	{
		int64		idx = RecoFindId(items->ids, items->n, users->seen_items[s]);

		if (idx < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("item " INT64_FORMAT " of user " INT64_FORMAT " is not in model " INT64_FORMAT,
							users->seen_items[s], users->ids[user], model_id)));
		rows[n] = (int32) idx;
		weights[n++] = users->seen_weights[s];
	}
	return n;
}

/*
 * Reports the exploration kernel's status for user `user` of `users`: A_u
 * not positive definite 22P01; a draw or sampled score that is not finite
 * 22003 (numeric_value_out_of_range: the scores left float's range); the
 * rest as every kernel status.
 */
void
RecoReportExploreStatus(RecoStatus status, const RecoUserSet *users, int64 user)
{
	char		decimal[MAXINT8LEN + 1];
	bool		singular = status == RECO_STATUS_NOT_POSITIVE_DEFINITE;

	if (singular || status == RECO_STATUS_NOT_FINITE)
		ereport(ERROR,
				(errcode(singular ? ERRCODE_FLOATING_POINT_EXCEPTION : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg(singular ? "the least-squares system of user %s is not positive definite" :
						"the sampled scores of user %s are not finite", RecoUserText(users, user, decimal)),
				 errhint(singular ? "Check the user's weights, or use sigma => 0." :
						 "The model's scores overflow at this sigma: use a smaller sigma, or sigma => 0 (the exact scores).")));
	RecoReportKernelStatus(status, "exploration");
}

/* Closes the SPI part of a serving call; what was loaded stays valid. */
void
RecoServeEnd(RecoServeContext *ctx)
{
	Assert(ctx->connected);
	RecoSpiFinish();
	ctx->connected = false;
}

/* Errors out (22004) on a NULL argument that has no meaning as "nothing". */
void
RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* The model name of argument 0 (22004 if NULL), as a C string. */
char *
RecoArgModel(FunctionCallInfo fcinfo)
{
	RecoRequireArg(fcinfo, 0, "model");
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/* The result count of integer argument `arg`: 22004 if NULL, 22023 unless positive. */
int
RecoArgN(FunctionCallInfo fcinfo, int arg)
{
	int			n;

	RecoRequireArg(fcinfo, arg, "n");
	n = PG_GETARG_INT32(arg);
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be positive, not %d", n)));
	return n;
}

/*
 * The SQL type of argument `arg` as the call passes it (a function with a
 * bigint, a text and a uuid form has one C entry point).
 */
Oid
RecoArgType(FunctionCallInfo fcinfo, int arg)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, arg);

	if (!OidIsValid(type))
		elog(ERROR, "reco: could not determine the type of argument %d, please report a bug", arg + 1);
	return type;
}

/* The elements of a bigint[] or text[] id array (22023 unless one-dimensional). */
void
RecoDeconstructIds(ArrayType *array, Datum **elems, bool **nulls, int *count)
{
	RecoRequireFlatArray(array);
	if (ARR_ELEMTYPE(array) == INT8OID)
		deconstruct_array(array, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, elems, nulls, count);
	else
		deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, count);
}

/*
 * The non-NULL elements of bigint[] or text[] argument `arg`, in array
 * order: ids of a bigint[], texts of a text[] (RecoResolveIdList reads them
 * once the model is known); a NULL argument, or one past the call's
 * arguments, gives an empty list.
 */
void
RecoArgIdList(FunctionCallInfo fcinfo, int arg, RecoIdList *list)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count,
				i;
	bool		texts;

	memset(list, 0, sizeof(*list));
	if (arg >= PG_NARGS() || PG_ARGISNULL(arg))
		return;
	RecoDeconstructIds(PG_GETARG_ARRAYTYPE_P(arg), &elems, &nulls, &count);
	texts = ARR_ELEMTYPE(PG_GETARG_ARRAYTYPE_P(arg)) != INT8OID;
	list->ids = palloc(sizeof(int64) * Max(count, 1));
	if (texts)
		list->texts = palloc(sizeof(char *) * Max(count, 1));
	for (i = 0; i < count; i++)
		if (!nulls[i])
		{
			if (texts)
				list->texts[list->n_texts++] = TextDatumGetCString(elems[i]);
			else
				list->ids[list->n++] = DatumGetInt64(elems[i]);
		}
}

/*
 * The row of `set` holding the id given as text, read as the set's id type
 * (22P02 if it cannot be one); -1 if the model does not know it.
 */
int64
RecoFindIdText(const RecoFactorSet *set, const char *text)
{
	char	   *key;
	int64		row;

	if (set->id_type == RECO_ID_BIGINT)
		return RecoFindId(set->ids, set->n, RecoIdBigintFromText(text));
	key = RecoIdKeyFromText(set->id_type, text);
	row = RecoFindKey(&set->keys, set->n, key);
	pfree(key);
	return row;
}

/* RecoFindIdText for an id of SQL type `type` (bigint, text or uuid). */
int64
RecoFindIdDatum(const RecoFactorSet *set, Datum value, Oid type)
{
	if (type == INT8OID && set->id_type == RECO_ID_BIGINT)
		return RecoFindId(set->ids, set->n, DatumGetInt64(value));
	return RecoFindIdText(set, RecoIdDatumText(value, type));
}

/*
 * Reads a list's texts (a text[] argument) as ids of `set`: the ids (codes)
 * of those the model knows, in array order; unknown ones are left out, as
 * unknown bigint ids are.  A bigint[] list is left as it is.
 */
void
RecoResolveIdList(const RecoFactorSet *set, RecoIdList *list)
{
	int64		i;

	for (i = 0; i < list->n_texts; i++)
	{
		int64		row = RecoFindIdText(set, list->texts[i]);

		if (row >= 0)
			list->ids[list->n++] = set->ids[row];
	}
	list->texts = NULL;
	list->n_texts = 0;
}

/* Errors out (22023) unless an id or weight array argument has at most one dimension. */
void
RecoRequireFlatArray(ArrayType *array)
{
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array arguments must be one-dimensional, not %d-dimensional", ARR_NDIM(array))));
}

/* qsort order of int64 values. */
int
RecoCompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* qsort order of fold-in entries: by item index. */
int
RecoCompareWeightedIndex(const void *a, const void *b)
{
	int32		x = ((const RecoWeightedIndex *) a)->index;
	int32		y = ((const RecoWeightedIndex *) b)->index;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sorts ids ascending and drops duplicates; returns the new count. */
int64
RecoSortUnique(int64 *ids, int64 n)
{
	int64		i,
				out = 0;

	qsort(ids, n, sizeof(int64), RecoCompareInt64);
	for (i = 0; i < n; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return out;
}

/* Sets scores[i] = -INFINITY for every listed id the set holds. */
void
RecoExcludeIds(const RecoFactorSet *set, const RecoIdList *ids, float *scores)
{
	int64		i;

	for (i = 0; i < ids->n; i++)
	{
		int64		idx = RecoFindId(set->ids, set->n, ids->ids[i]);

		if (idx >= 0)
			scores[idx] = -INFINITY;
	}
}

/* The id column of a factor set's rows: its ids, or on a text or uuid side its keys. */
RecoIdColumn
RecoSetColumn(const RecoFactorSet *set)
{
	RecoIdColumn column = {set->ids, set->keys.data != NULL ? &set->keys : NULL, NULL};

	return column;
}

/* Row i of an id column as a value of result type `type` (bigint or text). */
Datum
RecoIdColumnDatum(const RecoIdColumn *column, int64 i, Oid type)
{
	int64		row = column->rows != NULL ? column->rows[i] : i;
	char		decimal[MAXINT8LEN + 1];

	if (type == INT8OID)
		return Int64GetDatum(column->ids[row]);
	if (column->keys != NULL)
		return CStringGetTextDatum(RecoKeyAt(column->keys, row));
	pg_lltoa(column->ids[row], decimal);
	return CStringGetTextDatum(decimal);
}

/* Emits (ids row top[i].index, top[i].score) rows for i < found. */
void
RecoEmitScored(ReturnSetInfo *rsinfo, const RecoIdColumn *ids, const RecoScored *top, int found)
{
	Oid			type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	int			i;

	for (i = 0; i < found; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = RecoIdColumnDatum(ids, top[i].index, type);
		values[1] = Float4GetDatum(top[i].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * Emits the best n of scores[0..count) as (id, score) rows, best first, ties
 * by lower index; -INFINITY entries are never emitted.
 */
void
RecoEmitTop(ReturnSetInfo *rsinfo, const RecoIdColumn *ids, const float *scores, int64 count, int n)
{
	RecoScored *top;

	n = (int) Min((int64) n, count);
	top = palloc(sizeof(RecoScored) * Max(n, 1));
	RecoEmitScored(rsinfo, ids, top, RecoTopK(scores, count, n, top));
}
