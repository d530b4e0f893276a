/*-------------------------------------------------------------------------
 *
 * feature_map.c
 *	  Loads a model version's mapping from features to factors and maps a
 *	  features jsonb to a factor vector.
 *
 * A version trained with item (user) features stores, per side, one row of
 * reco.feature_weights per feature: the intercept (feature ''), each sparse
 * feature's k weights, each dense embedding column's d x k weights.  A new
 * entity's factors are
 *
 *		x = W_intercept + Σ_sparse value·W_f + Σ_dense Σ_j e_j·W_dense[j]
 *
 * accumulated in double in the order intercept, sparse features by name,
 * dense columns by name (their dimensions in order) -- training's order --
 * and rounded to float once.  The
 * features jsonb is an object: a number value is a sparse feature, an array
 * of numbers a dense embedding; a key the mapping does not know contributes
 * nothing (but its value must still have a valid shape).  Errors: not an
 * object, a value that is neither a number nor an array of numbers, a number
 * for a dense column, an array for a sparse feature, an array of the wrong
 * length: 22023; a value float cannot hold (1e400): 22000.
 *
 * Cache: one map per side per backend, keyed by (model_id, the side's
 * generation), in its own context under TopMemoryContext; the SELECT
 * privilege on reco.feature_weights is checked on every use.  A map is valid
 * until the next RecoFeatureMapFor of the same side (serving calls use it
 * within one call and run no user code in between).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "feature_map.h"
#include "model.h"

/* The cached map of each side (RecoSide), or NULL. */
static RecoFeatureMap *reco_feature_maps[2] = {NULL, NULL};

/* Whether the installed schema has the cold-start tables and columns (0.7.0 on). */
bool
RecoSchemaHasFeatures(void)
{
	Oid			schema = get_namespace_oid("reco", true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid("feature_weights", schema));
}

/* qsort order of feature columns: by name, bytewise. */
static int
RecoCompareFeatureColumns(const void *a, const void *b)
{
	return strcmp(((const RecoFeatureColumn *) a)->name, ((const RecoFeatureColumn *) b)->name);
}

/* Errors out (XX001) on a stored mapping row that cannot be what training writes. */
static void
RecoFeatureRowCorrupt(const RecoModelInfo *model, const char *side, const char *feature, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("feature \"%s\" of the %s mapping of model \"%s\" version %d is malformed: %s",
					feature, side, model->name, model->version, why)));
}

/* Reads the mapping rows of one side (SPI-connected) into a new map in mcxt; NULL if there are none. */
static RecoFeatureMap *
RecoLoadFeatureMap(const RecoModelInfo *model, RecoSide side, MemoryContext mcxt)
{
	const char *side_word = side == RECO_SIDE_ITEMS ? "item" : "user";
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(model->model_id), CStringGetTextDatum(side_word)};
	int			k = model->factors;
	RecoFeatureMap *map;
	uint64		r;

	RecoExecuteArgs("SELECT feature, kind, weights FROM reco.feature_weights "
					"WHERE model_id = $1 AND side = $2", 2, types, values, true);
	if (SPI_processed == 0)
		return NULL;
	map = MemoryContextAllocZero(mcxt, sizeof(RecoFeatureMap));
	map->model_id = model->model_id;
	map->side = side;
	map->generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	map->k = k;
	map->cxt = mcxt;
	map->intercept = MemoryContextAllocZero(mcxt, sizeof(float) * k);
	map->columns = MemoryContextAllocZero(mcxt, sizeof(RecoFeatureColumn) * SPI_processed);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *feature = TextDatumGetCString(SPI_getbinval(tuple, desc, 1, &isnull));
		char	   *kind = TextDatumGetCString(SPI_getbinval(tuple, desc, 2, &isnull));
		bytea	   *weights = DatumGetByteaPP(SPI_getbinval(tuple, desc, 3, &isnull));
		Size		len = VARSIZE_ANY_EXHDR(weights);
		Size		row_bytes = (Size) k * sizeof(float);
		RecoFeatureColumn *column;

		if (strcmp(kind, "intercept") == 0)
		{
			if (feature[0] != '\0')
				RecoFeatureRowCorrupt(model, side_word, feature, "an intercept is named ''");
			if (len != row_bytes)
				RecoFeatureRowCorrupt(model, side_word, feature, "an intercept holds one factor vector");
			RecoDecodeFactors(weights, k, map->intercept);
			continue;
		}
		if (feature[0] == '\0')
			RecoFeatureRowCorrupt(model, side_word, feature, "only the intercept is named ''");
		column = &map->columns[map->n++];
		column->name = MemoryContextStrdup(mcxt, feature);
		column->dense = strcmp(kind, "dense") == 0;
		if (column->dense ? (len == 0 || len % row_bytes != 0 || len / row_bytes > INT_MAX) : len != row_bytes)
			RecoFeatureRowCorrupt(model, side_word, feature,
								  column->dense ? "a dense column holds a whole number of factor vectors"
								  : "a sparse feature holds one factor vector");
		column->dims = (int) (len / row_bytes);
		column->weights = MemoryContextAllocHuge(mcxt, len);
		RecoDecodeFactors(weights, column->dims * k, column->weights);
	}
	qsort(map->columns, map->n, sizeof(RecoFeatureColumn), RecoCompareFeatureColumns);
	return map;
}

/*
 * The mapping of one side of the served version `model` (SPI-connected),
 * from the backend's cache or loaded; NULL when the version has none, or
 * with `required`, 22023 naming the training option that makes one.
 */
RecoFeatureMap *
RecoFeatureMapFor(const RecoModelInfo *model, RecoSide side, bool required)
{
	int64		generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	RecoFeatureMap *map = reco_feature_maps[side];
	MemoryContext cxt;

	if (RecoSchemaHasFeatures())
		RecoCheckPrivilege("feature_weights", ACL_SELECT);
	if (map == NULL || map->model_id != model->model_id || map->generation != generation ||
		map->k != model->factors)
	{
		if (map != NULL)
			MemoryContextDelete(map->cxt);
		reco_feature_maps[side] = map = NULL;
		if (RecoSchemaHasFeatures())
		{
			/* loaded under the caller's context first: an error here frees it all */
			cxt = AllocSetContextCreate(CurrentMemoryContext, "reco feature map", ALLOCSET_SMALL_SIZES);
			map = RecoLoadFeatureMap(model, side, cxt);
			if (map == NULL)
				MemoryContextDelete(cxt);
			else
			{
				MemoryContextSetParent(cxt, TopMemoryContext);
				reco_feature_maps[side] = map;
			}
		}
	}
	if (map == NULL && required)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" version %d has no mapping from %s features",
						model->name, model->version, side == RECO_SIDE_ITEMS ? "item" : "user"),
				 errhint("Train with %s => ... to learn one.",
						 side == RECO_SIDE_ITEMS ? "item_features" : "user_features")));
	return map;
}

/* A feature's number as double: 22000 unless a float holds it. */
static double
RecoFeatureNumber(const JsonbValue *v, const char *key)
{
	double		d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													   NumericGetDatum(v->val.numeric)));

	if (!isfinite((float) d))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" has a value that is not a finite real number", key)));
	return d;
}

/* Errors out (22023) on a feature value of the wrong shape. */
static void
RecoFeatureShapeError(const char *key, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("feature \"%s\" %s", key, why),
			 errhint("Features are {\"name\": number, \"embedding column\": [numbers], ...}.")));
}

/*
 * Reads a features jsonb against a mapping: one term per key the mapping
 * knows, in jsonb key order, into *terms_out (palloc'd); returns the count.
 * Checks every key's value (see the file header for the errors).
 */
int
RecoFeatureTerms(const RecoFeatureMap *map, Jsonb *features, RecoFeatureTerm **terms_out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	RecoFeatureTerm *terms;
	int			n = 0;

	if (!JB_ROOT_IS_OBJECT(features) || JB_ROOT_IS_SCALAR(features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a jsonb object"),
				 errhint("Features are {\"name\": number, \"embedding column\": [numbers], ...}.")));
	terms = palloc(sizeof(RecoFeatureTerm) * Max(JB_ROOT_COUNT(features), 1));
	it = JsonbIteratorInit(&features->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		RecoFeatureColumn probe;
		RecoFeatureColumn *column;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		probe.name = key;
		column = map->n > 0 ? bsearch(&probe, map->columns, map->n, sizeof(RecoFeatureColumn),
									  RecoCompareFeatureColumns) : NULL;
		if (v.type == jbvNumeric)
		{
			double		value = RecoFeatureNumber(&v, key);

			if (column == NULL)
				continue;
			if (column->dense)
				RecoFeatureShapeError(key, psprintf("is an embedding of %d numbers, not a number", column->dims));
			terms[n].column = column;
			terms[n].values = palloc(sizeof(double));
			terms[n].values[0] = value;
			n++;
		}
		else if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
		{
			JsonbIterator *elems = JsonbIteratorInit(v.val.binary.data);
			JsonbValue	e;
			int			count = JsonContainerSize(v.val.binary.data);
			double	   *values = palloc(sizeof(double) * Max(count, 1));
			int			i = 0;

			while ((tok = JsonbIteratorNext(&elems, &e, true)) != WJB_DONE)
			{
				if (tok != WJB_ELEM)
					continue;
				if (e.type != jbvNumeric)
					RecoFeatureShapeError(key, "must be an array of numbers only");
				values[i++] = RecoFeatureNumber(&e, key);
			}
			if (column == NULL)
				continue;
			if (!column->dense)
				RecoFeatureShapeError(key, "is a sparse feature: give it a number, not an array");
			if (i != column->dims)
				RecoFeatureShapeError(key, psprintf("must have %d numbers, not %d", column->dims, i));
			terms[n].column = column;
			terms[n].values = values;
			n++;
		}
		else
			RecoFeatureShapeError(key, "must be a number or an array of numbers");
	}
	*terms_out = terms;
	return n;
}

/* Adds one term's share of the factors (value·W, or Σ_j e_j·W[j]) to acc (k doubles). */
void
RecoFeatureTermVector(const RecoFeatureMap *map, const RecoFeatureTerm *term, double *acc)
{
	int			k = map->k;
	int			j,
				c;

	for (j = 0; j < term->column->dims; j++)
	{
		const float *w = term->column->weights + (Size) j * k;

		for (c = 0; c < k; c++)
			acc[c] += term->values[j] * w[c];
	}
}

/* qsort order of terms: sparse features before dense columns, each by name (the map's order). */
static int
RecoCompareFeatureTerms(const void *a, const void *b)
{
	const RecoFeatureColumn *x = ((const RecoFeatureTerm *) a)->column;
	const RecoFeatureColumn *y = ((const RecoFeatureTerm *) b)->column;

	if (x->dense != y->dense)
		return x->dense ? 1 : -1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Maps a features jsonb to factors (k floats): the intercept plus every
 * known term, sparse features in name order, then dense columns in name
 * order, as training places its cold entities (ridge.c), so a placement
 * from the same features gives the same floats.
 */
void
RecoMapFeatures(const RecoFeatureMap *map, Jsonb *features, float *out)
{
	RecoFeatureTerm *terms;
	int			n = RecoFeatureTerms(map, features, &terms);
	double	   *acc = palloc(sizeof(double) * map->k);
	int			c,
				t;

	qsort(terms, n, sizeof(RecoFeatureTerm), RecoCompareFeatureTerms);

	for (c = 0; c < map->k; c++)
		acc[c] = map->intercept[c];
	for (t = 0; t < n; t++)
		RecoFeatureTermVector(map, &terms[t], acc);
	for (c = 0; c < map->k; c++)
	{
		out[c] = (float) acc[c];
		if (!isfinite(out[c]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the factors mapped from these features are not finite"),
					 errhint("Check the features' values: they overflow float.")));
	}
	pfree(acc);
}

/*
 * The features an entity of the version was placed from (SPI-connected;
 * id: its id or code), copied into mcxt; NULL when it was learned from
 * interactions, is unknown, or the schema predates 0.7.0.
 */
Jsonb *
RecoStoredFeatures(const RecoModelInfo *model, RecoSide side, int64 id, MemoryContext mcxt)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2] = {Int64GetDatum(model->model_id), Int64GetDatum(id)};
	bool		isnull;
	Datum		value;
	MemoryContext old;
	Jsonb	   *copy;

	if (!RecoSchemaHasFeatures())
		return NULL;
	RecoExecuteArgs(side == RECO_SIDE_ITEMS
					? "SELECT features FROM reco.item_factors WHERE model_id = $1 AND item_id = $2"
					: "SELECT features FROM reco.user_factors WHERE model_id = $1 AND user_id = $2",
					2, types, values, true);
	if (SPI_processed == 0)
		return NULL;
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(mcxt);
	copy = DatumGetJsonbPCopy(value);
	MemoryContextSwitchTo(old);
	return copy;
}
