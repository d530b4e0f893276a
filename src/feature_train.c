/*-------------------------------------------------------------------------
 *
 * feature_train.c
 *	  Training with features: read a side's feature sources, fit the
 *	  mapping from features to factors, store it, place the cold entities.
 *
 * A side (items or users) of a training may have feature sources
 * (item_features, user_features): tables, views or queries read through SPI
 * as the caller, like the training's own source, their columns by position:
 *	 (id, feature text [, value number])	a sparse source: value default 1;
 *	 (id, embedding number[])				a dense source, named by column 2.
 * The id is of the side's id type (a key on a text or uuid side).  Every
 * row is checked as it is read (the SQLSTATEs are in the README, "Cold
 * start"); the same (id, feature) in sparse sources is summed, the same id
 * twice in one dense source is an error.  An entity is "warm" if the
 * training stores it (an item with interactions, a user with a positive
 * one), else "cold".
 *
 * After the factors are stored (same statement, same version) the mapping
 * is fitted (ridge.c) on the warm entities that have features, against
 * their stored factor vectors: its columns are the sparse features present
 * on some warm entity (a feature seen only on cold ones has no column and
 * no weights) in name order, then every dense source's dimensions, the
 * sources in name order; an entity missing from a dense source has a zero embedding there.
 * Then reco.feature_weights gets the intercept (feature ''), one row per
 * sparse column and one per dense source (d x k floats, dimension-major),
 * and every cold entity is placed: factors = intercept + Σ value·W_f +
 * Σ e_j·W_dense[j] from the float32 weights as stored (serving's placement
 * from the same rows gives the same vector), stored as a new row of
 * item_factors (popularity 0) or user_factors (no seen items) with its
 * features as jsonb.  A cold entity of a text or uuid side whose key the
 * training did not know gets a code after the training's codes, new keys in
 * key order (the refresh convention).
 *
 * Memory: everything lives in the caller's context (the training's); the
 * rows of a fetch are read in a batch context reset after each fetch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "feature_train.h"
#include "model.h"
#include "reco.h"
#include "reco_limits.h"
#include "ridge.h"
#include "topk.h"

/* Rows fetched from a feature source at a time, and placed rows inserted per statement. */
#define RECO_FEATURE_FETCH_ROWS 4096
#define RECO_FEATURE_INSERT_ROWS 4096

/* An entity (item or user) named by some feature source. */
typedef struct RecoFeatureEntity
{
	int64		ref;			/* bigint: the id; keyed: the code, or -(new key + 1) */
	int64		row;			/* the training's row if warm, else -1 */
	int			dense_mark;		/* the last dense source (1-based) that had it */
} RecoFeatureEntity;

/* The hash entry from ref to entity number. */
typedef struct RecoEntitySlot
{
	int64		ref;
	int64		entity;
} RecoEntitySlot;

/* One dense source: its rows' entities and embeddings. */
typedef struct RecoDenseSource
{
	char	   *name;			/* column 2's name: the feature's name */
	char	   *source;
	int			dim;			/* 0 until the first row */
	int64		n;
	int64		capacity;
	int64	   *entity;
	double	   *values;			/* n x dim */
	int			column;			/* the first column of the system */
} RecoDenseSource;

/* One side's features (feature_train.h). */
struct RecoSideFeatures
{
	RecoSide	side;
	const char *noun;			/* "item" or "user" */
	RecoIdType	id_type;
	const RecoInteractions *data;
	const RecoKeyTable *keys;	/* the training's coded keys (text/uuid side), else NULL */
	int			n_sources;
	HTAB	   *by_ref;
	RecoFeatureEntity *entities;
	int64		n_entities;
	int64		entities_capacity;
	RecoKeyTable *new_keys;		/* keys the training does not know */
	RecoKeyTable *names;		/* sparse feature names: provisional index */
	int64		n_entries;
	int64		entries_capacity;
	int64	   *entry_entity;
	int32	   *entry_feature;
	double	   *entry_value;
	int64	   *entity_ptr;		/* after merging: the entries of entity e at [ptr[e], ptr[e+1]) */
	List	   *dense;			/* of RecoDenseSource * */
	/* the system and the fit */
	int32	   *column_of;		/* per feature name: its column, or -1 */
	int			n_sparse;		/* sparse columns */
	int			n_dense;		/* dense columns */
	int64		warm_rows;
	int			k;
	float	   *weights;		/* (n_sparse + n_dense) x k */
	float	   *intercept;		/* k */
	double	   *ridge_factor;	/* refits: the factored system, p x p (ridge.h); NULL until then */
	int			ridge_factored;
	int64		placed;
	instr_time	started;
	double		seconds;
};

/* Seconds elapsed since start. */
static double
RecoFeatureSeconds(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* A name for an id in messages: a bigint as is, a key quoted. */
static char *
RecoFeatureIdLabel(int64 id, const char *key)
{
	return key != NULL ? psprintf("\"%s\"", key) : psprintf(INT64_FORMAT, id);
}

/* Whether an SQL type is one of the integer types. */
static bool
RecoIsIntegerType(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* Whether an SQL type is a number a feature value or an embedding element may be. */
static bool
RecoIsNumberType(Oid type)
{
	return RecoIsIntegerType(type) || type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID;
}

/*
 * A number of one of RecoIsNumberType's types as double; a real is read as
 * the shortest decimal that is that real (0.1::real is 0.1, as it prints),
 * so a placed entity's features jsonb shows the values as the source does.
 */
static double
RecoNumberValue(Datum value, Oid type)
{
	char		text[FLOAT_SHORTEST_DECIMAL_LEN];

	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT4OID:
			float_to_shortest_decimal_buf(DatumGetFloat4(value), text);
			return strtod(text, NULL);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		default:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, value));
	}
}

/* Whether the id column's SQL type fits the side's id type. */
static bool
RecoFeatureIdTypeFits(RecoIdType id_type, Oid type)
{
	if (id_type == RECO_ID_BIGINT)
		return RecoIsIntegerType(type);
	if (type == UUIDOID)
		return id_type == RECO_ID_UUID;
	return RecoIdTypeOfSqlType(type) == RECO_ID_TEXT;
}

/*
 * Checks a source's columns (42703 fewer than 2; 42804 a wrong type or too
 * many); returns whether it is dense.  types receives the base types of
 * columns 1 to 3 (InvalidOid past the last).
 */
static bool
RecoCheckFeatureColumns(const RecoSideFeatures *f, const char *source, TupleDesc desc, Oid *types)
{
	int			n = desc->natts;
	int			i;
	bool		dense;

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s feature source \"%s\" has %d column, it needs 2 or 3", f->noun, source, n),
				 errhint("A sparse source has the columns (id, feature text[, value]), a dense one (id, embedding real[]), by position.")));
	for (i = 0; i < 3; i++)
		types[i] = i < n ? getBaseType(TupleDescAttr(desc, i)->atttypid) : InvalidOid;
	if (!RecoFeatureIdTypeFits(f->id_type, types[0]))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s feature source \"%s\": the id column \"%s\" is of type %s, but the model's %s ids are %s",
						f->noun, source, NameStr(TupleDescAttr(desc, 0)->attname),
						format_type_be(TupleDescAttr(desc, 0)->atttypid), f->noun, RecoIdTypeName(f->id_type))));
	dense = OidIsValid(get_element_type(types[1]));
	if (dense ? !RecoIsNumberType(get_element_type(types[1])) : RecoIdTypeOfSqlType(types[1]) != RECO_ID_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s feature source \"%s\": column 2 \"%s\" is of type %s, neither text (a feature name) nor an array of numbers (an embedding)",
						f->noun, source, NameStr(TupleDescAttr(desc, 1)->attname),
						format_type_be(TupleDescAttr(desc, 1)->atttypid))));
	if (n > (dense ? 2 : 3))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s feature source \"%s\" has %d columns, more than the %s", f->noun, source, n,
						dense ? "2 of an embedding source (id, embedding)" : "3 of a sparse source (id, feature, value)")));
	if (n == 3 && !RecoIsNumberType(types[2]))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s feature source \"%s\": column 3 \"%s\" is of type %s, not a number (the feature's value)",
						f->noun, source, NameStr(TupleDescAttr(desc, 2)->attname),
						format_type_be(TupleDescAttr(desc, 2)->atttypid))));
	return dense;
}

/* The entity of ref, created (warm if row >= 0) on first sight. */
static int64
RecoFeatureEntityOf(RecoSideFeatures *f, int64 ref, int64 row)
{
	bool		found;
	RecoEntitySlot *slot = hash_search(f->by_ref, &ref, HASH_ENTER, &found);

	if (!found)
	{
		if (f->n_entities == f->entities_capacity)
		{
			f->entities_capacity *= 2;
			f->entities = repalloc_huge(f->entities, sizeof(RecoFeatureEntity) * f->entities_capacity);
		}
		f->entities[f->n_entities].ref = ref;
		f->entities[f->n_entities].row = row;
		f->entities[f->n_entities].dense_mark = 0;
		slot->entity = f->n_entities++;
	}
	return slot->entity;
}

/* Binary search of a key among the training's keys (RecoCompareKeys order); its code, or 0. */
static int64
RecoTrainedCode(const RecoKeyTable *keys, const char *key)
{
	int64		lo = 0;
	int64		hi = keys->n - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int			cmp = RecoCompareKeys(keys->keys[mid], key);

		if (cmp == 0)
			return mid + 1;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

/*
 * The entity of a source row's id (column 1, non-NULL, of type `type`):
 * warm if the training stores it.  *key receives the key (NULL on a bigint side).
 */
static int64
RecoFeatureRowEntity(RecoSideFeatures *f, Datum value, Oid type, char **key_out)
{
	const int64 *ids = f->side == RECO_SIDE_ITEMS ? f->data->item_ids : f->data->user_ids;
	int64		n = f->side == RECO_SIDE_ITEMS ? f->data->n_items : f->data->n_users;
	int64		ref;
	int64		row;

	if (f->id_type == RECO_ID_BIGINT)
	{
		ref = type == INT8OID ? DatumGetInt64(value) : type == INT4OID ? DatumGetInt32(value) : DatumGetInt16(value);
		*key_out = NULL;
	}
	else
	{
		char	   *key = RecoIdDatumText(value, type);

		if (f->id_type == RECO_ID_UUID && type != UUIDOID)
			key = RecoIdKeyFromText(RECO_ID_UUID, key);
		*key_out = key;
		ref = f->keys != NULL ? RecoTrainedCode(f->keys, key) : 0;
		if (ref == 0)
			ref = -(RecoKeyTableIntern(f->new_keys, key, strlen(key)) + 1);
	}
	row = ref > 0 || f->id_type == RECO_ID_BIGINT ? RecoFindId(ids, n, ref) : -1;
	if (row >= 0 && f->side == RECO_SIDE_USERS && !RecoUserHasPositive(f->data, row))
		row = -1;				/* trained, but not stored: placed like a new user */
	return RecoFeatureEntityOf(f, ref, row);
}

/* Appends one sparse entry. */
static void
RecoAppendFeatureEntry(RecoSideFeatures *f, int64 entity, int32 feature, double value)
{
	if (f->n_entries == f->entries_capacity)
	{
		f->entries_capacity *= 2;
		f->entry_entity = repalloc_huge(f->entry_entity, sizeof(int64) * f->entries_capacity);
		f->entry_feature = repalloc_huge(f->entry_feature, sizeof(int32) * f->entries_capacity);
		f->entry_value = repalloc_huge(f->entry_value, sizeof(double) * f->entries_capacity);
	}
	f->entry_entity[f->n_entries] = entity;
	f->entry_feature[f->n_entries] = feature;
	f->entry_value[f->n_entries] = value;
	f->n_entries++;
}

/*
 * Errors out (22000) on a value that is not finite, or past real's range:
 * serving (feature_map.c) refuses such a value in a features jsonb, so a
 * placed entity's stored features must not hold one (explain_features and
 * place_item read them back).
 */
static void
RecoCheckFeatureFinite(const RecoSideFeatures *f, const char *source, double value,
					   const char *feature, int64 ref, const char *key)
{
	if (isnan(value) || isinf(value) || !isfinite((float) value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s feature source \"%s\": %s of %s %s is %s",
						f->noun, source, feature != NULL ? psprintf("the value of feature \"%s\"", feature)
						: "an element of the embedding", f->noun, RecoFeatureIdLabel(ref, key),
						isnan(value) ? "NaN" : isinf(value) ? "infinite" : "past the range of real"),
				 errhint("Feature values and embeddings must be finite numbers.")));
}

/* Reads one row of a sparse source: (id, feature[, value]). */
static void
RecoReadSparseRow(RecoSideFeatures *f, const char *source, HeapTuple tuple, TupleDesc desc,
				  const Oid *types, int64 entity, const char *key)
{
	bool		isnull;
	Datum		name = SPI_getbinval(tuple, desc, 2, &isnull);
	char	   *feature;
	double		value = 1.0;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s feature source \"%s\" has a NULL feature for %s %s", f->noun, source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key))));
	feature = RecoIdDatumText(name, types[1]);
	if (feature[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s feature source \"%s\" has an empty feature name for %s %s", f->noun, source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key)),
				 errhint("The feature named '' is the mapping's intercept: name every feature.")));
	if (OidIsValid(types[2]))
	{
		Datum		v = SPI_getbinval(tuple, desc, 3, &isnull);

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s feature source \"%s\" has a NULL value for %s %s, feature \"%s\"",
							f->noun, source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key), feature)));
		value = RecoNumberValue(v, types[2]);
		RecoCheckFeatureFinite(f, source, value, feature, f->entities[entity].ref, key);
	}
	RecoAppendFeatureEntry(f, entity, (int32) RecoKeyTableIntern(f->names, feature, strlen(feature)), value);
}

/* Reads one row of a dense source: (id, embedding). */
static void
RecoReadDenseRow(RecoSideFeatures *f, RecoDenseSource *d, int number, HeapTuple tuple,
				 TupleDesc desc, int64 entity, const char *key)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, 2, &isnull);
	ArrayType  *array;
	Oid			element;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elements;
	bool	   *nulls;
	int			n;
	int			j;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s feature source \"%s\" has a NULL embedding for %s %s", f->noun, d->source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key))));
	if (f->entities[entity].dense_mark == number)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("%s feature source \"%s\" has two embeddings of %s %s", f->noun, d->source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key)),
				 errhint("An embedding source has one row per id.")));
	f->entities[entity].dense_mark = number;
	array = DatumGetArrayTypeP(value);
	element = ARR_ELEMTYPE(array);
	get_typlenbyvalalign(element, &typlen, &typbyval, &typalign);
	deconstruct_array(array, element, typlen, typbyval, typalign, &elements, &nulls, &n);
	if (n == 0 || (d->dim > 0 && n != d->dim))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 n == 0 ? errmsg("%s feature source \"%s\" has an empty embedding for %s %s", f->noun, d->source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key))
				 : errmsg("%s feature source \"%s\": the embedding of %s %s has %d dimensions, the source's first has %d",
						  f->noun, d->source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key), n, d->dim),
				 errhint("Every embedding of a source has the same length.")));
	d->dim = n;
	if (d->n == d->capacity)
	{
		d->capacity = d->capacity == 0 ? 256 : d->capacity * 2;
		d->entity = d->entity == NULL ? MemoryContextAllocHuge(GetMemoryChunkContext(f->entities), sizeof(int64) * d->capacity)
			: repalloc_huge(d->entity, sizeof(int64) * d->capacity);
		d->values = d->values == NULL ? MemoryContextAllocHuge(GetMemoryChunkContext(f->entities), mul_size(sizeof(double) * n, d->capacity))
			: repalloc_huge(d->values, mul_size(sizeof(double) * n, d->capacity));
	}
	for (j = 0; j < n; j++)
	{
		double		v;

		if (nulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s feature source \"%s\": the embedding of %s %s has a NULL element", f->noun, d->source, f->noun, RecoFeatureIdLabel(f->entities[entity].ref, key))));
		v = RecoNumberValue(elements[j], element);
		RecoCheckFeatureFinite(f, d->source, v, NULL, f->entities[entity].ref, key);
		d->values[d->n * n + j] = v;
	}
	d->entity[d->n++] = entity;
}

/* The FROM item of a source (reco_internal.source_from_item: 42P01, 42602). */
static char *
RecoFeatureFromItem(const char *source)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(source)};
	bool		isnull;

	RecoExecuteArgs("SELECT reco_internal.source_from_item($1)", 1, types, values, true);
	return TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Reads every row of one source (as the caller, through SPI). */
static void
RecoReadFeatureSource(RecoSideFeatures *f, const char *source)
{
	MemoryContext batch = AllocSetContextCreate(CurrentMemoryContext, "reco feature rows", ALLOCSET_DEFAULT_SIZES);
	char	   *sql = psprintf("SELECT * FROM %s AS src", RecoFeatureFromItem(source));
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, true, 0);
	TupleDesc	desc = portal->tupDesc;
	Oid			types[3];
	RecoDenseSource *d = NULL;

	if (RecoCheckFeatureColumns(f, source, desc, types))
	{
		d = palloc0(sizeof(RecoDenseSource));
		d->name = pstrdup(NameStr(TupleDescAttr(desc, 1)->attname));
		d->source = pstrdup(source);
		f->dense = lappend(f->dense, d);
	}
	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, RECO_FEATURE_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			bool		isnull;
			Datum		id = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old;
			int64		entity;
			char	   *key;

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s feature source \"%s\" has a NULL id", f->noun, source)));
			/* a row's temporaries in batch; what it keeps is copied (keys, names) or grown in place */
			old = MemoryContextSwitchTo(batch);
			entity = RecoFeatureRowEntity(f, id, types[0], &key);
			if (d != NULL)
				RecoReadDenseRow(f, d, list_length(f->dense), tuple, SPI_tuptable->tupdesc, entity, key);
			else
				RecoReadSparseRow(f, source, tuple, SPI_tuptable->tupdesc, types, entity, key);
			MemoryContextSwitchTo(old);
		}
		MemoryContextReset(batch);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(batch);
}

/* Orders sparse entries by entity, then feature. */
static int
RecoCompareEntries(const void *a, const void *b, void *arg)
{
	const RecoSideFeatures *f = (const RecoSideFeatures *) arg;
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	if (f->entry_entity[x] != f->entry_entity[y])
		return f->entry_entity[x] < f->entry_entity[y] ? -1 : 1;
	if (f->entry_feature[x] != f->entry_feature[y])
		return f->entry_feature[x] < f->entry_feature[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Sorts the sparse entries by entity and feature, sums the values of the
 * same (entity, feature), and indexes each entity's entries (entity_ptr).
 */
static void
RecoMergeFeatureEntries(RecoSideFeatures *f)
{
	int64	   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(f->n_entries, 1));
	int64	   *entity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(f->n_entries, 1));
	int32	   *feature = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(f->n_entries, 1));
	double	   *value = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(f->n_entries, 1));
	int64		n = 0;
	int64		i;

	for (i = 0; i < f->n_entries; i++)
		order[i] = i;
	qsort_arg(order, f->n_entries, sizeof(int64), RecoCompareEntries, f);
	for (i = 0; i < f->n_entries; i++)
	{
		int64		e = order[i];

		if (n > 0 && entity[n - 1] == f->entry_entity[e] && feature[n - 1] == f->entry_feature[e])
			value[n - 1] += f->entry_value[e];	/* the same (id, feature) again: summed */
		else
		{
			entity[n] = f->entry_entity[e];
			feature[n] = f->entry_feature[e];
			value[n++] = f->entry_value[e];
		}
	}
	pfree(order);
	pfree(f->entry_entity);
	pfree(f->entry_feature);
	pfree(f->entry_value);
	f->entry_entity = entity;
	f->entry_feature = feature;
	f->entry_value = value;
	f->n_entries = n;
	f->entity_ptr = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(int64) * (f->n_entities + 1),
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < n; i++)
		f->entity_ptr[entity[i] + 1]++;
	for (i = 0; i < f->n_entities; i++)
		f->entity_ptr[i + 1] += f->entity_ptr[i];
}

/* Orders strings by RecoCompareKeys (qsort of char *). */
static int
RecoCompareNames(const void *a, const void *b)
{
	return RecoCompareKeys(*(char *const *) a, *(char *const *) b);
}

/*
 * The names are unambiguous (42710): no two dense sources share a column
 * name, and no sparse feature is named like a dense source's column.
 */
static void
RecoCheckFeatureNames(const RecoSideFeatures *f)
{
	char	  **sorted = palloc(sizeof(char *) * Max(f->names->n, 1));
	ListCell   *cell;
	ListCell   *other;

	memcpy(sorted, f->names->keys, sizeof(char *) * f->names->n);
	qsort(sorted, f->names->n, sizeof(char *), RecoCompareNames);
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);

		if (bsearch(&d->name, sorted, f->names->n, sizeof(char *), RecoCompareNames) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("%s feature \"%s\" is both a sparse feature and the embedding column of source \"%s\"",
							f->noun, d->name, d->source),
					 errhint("Rename the embedding column (it names the feature) or the sparse feature.")));
		for_each_cell(other, f->dense, lnext(f->dense, cell))
			if (strcmp(d->name, ((RecoDenseSource *) lfirst(other))->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("%s feature sources \"%s\" and \"%s\" both have the embedding column \"%s\"",
								f->noun, d->source, ((RecoDenseSource *) lfirst(other))->source, d->name),
						 errhint("The embedding column's name names the feature: give each embedding source its own.")));
	}
	pfree(sorted);
}

/* Orders feature indices by their names (arg: the names by index). */
static int
RecoCompareNameIndex(const void *a, const void *b, void *arg)
{
	char	  **names = (char **) arg;

	return RecoCompareKeys(names[*(const int32 *) a], names[*(const int32 *) b]);
}

/* list_sort order of dense sources: by column name, bytewise. */
static int
RecoCompareDenseSources(const ListCell *a, const ListCell *b)
{
	return strcmp(((const RecoDenseSource *) lfirst(a))->name, ((const RecoDenseSource *) lfirst(b))->name);
}

/*
 * The columns of the system: the sparse features present on a warm entity,
 * in name order, then each dense source's dimensions, the sources in name
 * order (the order serving sums a features jsonb in, src/feature_map.c, so
 * that placing an entity again from its stored features gives the same
 * floats); 22023 if no warm entity has a feature, 54000 past
 * RECO_MAX_FEATURE_COLUMNS.
 */
static void
RecoAssignFeatureColumns(RecoSideFeatures *f)
{
	int64		n_names = f->names->n;
	bool	   *on_warm = palloc0(sizeof(bool) * Max(n_names, 1));
	int32	   *by_name = palloc(sizeof(int32) * Max(n_names, 1));
	int64		columns = 0;
	int64		e;
	int64		i;
	ListCell   *cell;

	for (e = 0; e < f->n_entities; e++)
		if (f->entities[e].row >= 0)
		{
			f->warm_rows++;
			for (i = f->entity_ptr[e]; i < f->entity_ptr[e + 1]; i++)
				on_warm[f->entry_feature[i]] = true;
		}
	if (f->warm_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no %s with interactions has features: nothing to learn the mapping from", f->noun),
				 errhint("The %s feature sources' ids must overlap the training's %ss (check the id column).",
						 f->noun, f->noun)));
	for (i = 0; i < n_names; i++)
		by_name[i] = (int32) i;
	qsort_arg(by_name, n_names, sizeof(int32), RecoCompareNameIndex, f->names->keys);
	f->column_of = palloc(sizeof(int32) * Max(n_names, 1));
	for (i = 0; i < n_names; i++)
	{
		int32		name = by_name[i];

		f->column_of[name] = on_warm[name] ? (int32) columns++ : -1;
	}
	f->n_sparse = (int) Min(columns, INT_MAX);
	/*
	 * a dense source without rows has no dimension: it contributes nothing
	 * (like an empty sparse source) and gets no feature_weights row, whose
	 * empty weights serving would refuse as malformed
	 */
	foreach(cell, f->dense)
		if (((RecoDenseSource *) lfirst(cell))->dim == 0)
			f->dense = foreach_delete_current(f->dense, cell);
	list_sort(f->dense, RecoCompareDenseSources);
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);

		d->column = (int) Min(columns, INT_MAX);
		columns += d->dim;
	}
	if (columns > RECO_MAX_FEATURE_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the %s features make " INT64_FORMAT " columns, more than %d", f->noun, columns,
						RECO_MAX_FEATURE_COLUMNS),
				 errdetail("%d sparse features on %ss with interactions, " INT64_FORMAT " embedding dimensions.",
						   f->n_sparse, f->noun, columns - f->n_sparse),
				 errhint("Drop rare features (e.g. keep those on at least a few %ss), or shorten the embeddings.", f->noun)));
	f->n_dense = (int) (columns - f->n_sparse);
	pfree(on_warm);
	pfree(by_name);
}

/*
 * Reads a side's feature sources (as the caller, through SPI; the caller is
 * SPI-connected) against the training's built interactions and, for a text
 * or uuid side, its coded keys; every check of the file header is made here,
 * before the training iterates.
 */
RecoSideFeatures *
RecoReadFeatures(RecoSide side, List *sources, RecoIdType id_type,
				 const RecoInteractions *data, const RecoKeyTable *keys)
{
	RecoSideFeatures *f = palloc0(sizeof(RecoSideFeatures));
	HASHCTL		ctl;
	ListCell   *cell;

	INSTR_TIME_SET_CURRENT(f->started);
	f->side = side;
	f->noun = side == RECO_SIDE_ITEMS ? "item" : "user";
	f->id_type = id_type;
	f->data = data;
	f->keys = keys;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(RecoEntitySlot);
	ctl.hcxt = CurrentMemoryContext;
	f->by_ref = hash_create("reco feature entities", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	f->entities_capacity = 1024;
	f->entities = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RecoFeatureEntity) * f->entities_capacity);
	f->entries_capacity = 1024;
	f->entry_entity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * f->entries_capacity);
	f->entry_feature = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * f->entries_capacity);
	f->entry_value = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * f->entries_capacity);
	f->new_keys = RecoKeyTableCreate(CurrentMemoryContext);
	f->names = RecoKeyTableCreate(CurrentMemoryContext);
	foreach(cell, sources)
	{
		RecoReadFeatureSource(f, (const char *) lfirst(cell));
		f->n_sources++;
	}
	RecoCheckFeatureNames(f);
	RecoMergeFeatureEntries(f);
	RecoAssignFeatureColumns(f);
	f->seconds = RecoFeatureSeconds(f->started);
	return f;
}

/* Orders entity numbers by their training row (arg: the entities). */
static int
RecoCompareEntityRows(const void *a, const void *b, void *arg)
{
	const RecoFeatureEntity *entities = (const RecoFeatureEntity *) arg;
	int64		x = entities[*(const int64 *) a].row;
	int64		y = entities[*(const int64 *) b].row;

	return x < y ? -1 : x > y;
}

/* For each dense source, the row of each entity in it (-1: none), n_entities per source. */
static int64 *
RecoDenseRowsOf(const RecoSideFeatures *f)
{
	int			n = list_length(f->dense);
	int64	   *rows = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(sizeof(int64), mul_size(Max(n, 1), Max(f->n_entities, 1))));
	ListCell   *cell;
	int64		i;

	for (i = 0; i < (int64) n * f->n_entities; i++)
		rows[i] = -1;
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);
		int			s = foreach_current_index(cell);

		for (i = 0; i < d->n; i++)
			rows[s * f->n_entities + d->entity[i]] = i;
	}
	return rows;
}

/* Fills the n_dense values of entity e (zeros where a dense source lacks it). */
static void
RecoEntityDense(const RecoSideFeatures *f, const int64 *dense_rows, int64 e, double *out)
{
	ListCell   *cell;

	memset(out, 0, sizeof(double) * f->n_dense);
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);
		int64		row = dense_rows[foreach_current_index(cell) * f->n_entities + e];

		if (row >= 0)
			memcpy(out + (d->column - f->n_sparse), d->values + row * d->dim, sizeof(double) * d->dim);
	}
}

/*
 * Fits the side's mapping (ridge.c) against the stored factor vectors
 * `factors` (the training's rows x k): the system's memory is checked
 * against reco.max_memory with what the training holds (memory_used,
 * 53200); a singular system (penalty 0) is 22P01.  With `refits` (the
 * feature-aware prior fits after every item step: same rows and penalty,
 * new targets) the factored system is kept for the next fit, which then
 * only forms its right-hand side.
 */
void
RecoFitFeatures(RecoSideFeatures *f, const float *factors, int k, double lambda, Size memory_used,
				bool refits)
{
	instr_time	started;
	int			p = f->n_sparse + f->n_dense;
	int64		m = f->warm_rows;
	Size		limit = (Size) reco_max_memory_kb * 1024;
	Size		bytes;
	int64	   *warm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * m);
	int64	   *dense_rows;
	int64	   *indptr;
	int32	   *cols;
	double	   *values;
	double	   *dense = NULL;
	float	   *targets;
	double	   *weights;
	double	   *intercept;
	RecoRidgeProblem problem;
	RecoHooks	hooks = {RecoInterruptPending, NULL};
	RecoStatus	status;
	int64		n = 0;
	int64		e;
	int64		r;
	int64		i;

	INSTR_TIME_SET_CURRENT(started);
	bytes = add_size(RecoRidgeBytes(p, k), mul_size(m, sizeof(double) * f->n_dense + sizeof(float) * k + sizeof(int64) * 2));
	bytes = add_size(bytes, mul_size(f->n_entries, sizeof(int32) + sizeof(double)));
	if (add_size(memory_used, bytes) > limit)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("the %s feature mapping would need about %zu MB more, past reco.max_memory (%zu MB)",
						f->noun, bytes / (1024 * 1024), limit / (1024 * 1024)),
				 errdetail("%d columns, " INT64_FORMAT " %ss with interactions and features, %d factors; the training holds about %zu MB.",
						   p, m, f->noun, k, memory_used / (1024 * 1024)),
				 errhint("Raise reco.max_memory, or use fewer features.")));
	for (e = 0; e < f->n_entities; e++)
		if (f->entities[e].row >= 0)
			warm[n++] = e;
	qsort_arg(warm, m, sizeof(int64), RecoCompareEntityRows, f->entities);
	dense_rows = RecoDenseRowsOf(f);
	indptr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m + 1));
	cols = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(f->n_entries, 1));
	values = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(f->n_entries, 1));
	targets = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(m, sizeof(float) * k));
	if (f->n_dense > 0)
		dense = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(m, sizeof(double) * f->n_dense));
	indptr[0] = 0;
	n = 0;
	for (r = 0; r < m; r++)
	{
		e = warm[r];
		for (i = f->entity_ptr[e]; i < f->entity_ptr[e + 1]; i++)
		{
			cols[n] = f->column_of[f->entry_feature[i]];
			values[n++] = f->entry_value[i];
		}
		indptr[r + 1] = n;
		if (dense != NULL)
			RecoEntityDense(f, dense_rows, e, dense + r * f->n_dense);
		memcpy(targets + r * k, factors + f->entities[e].row * k, sizeof(float) * k);
	}
	if (refits && f->ridge_factor == NULL)
		f->ridge_factor = MemoryContextAllocHuge(GetMemoryChunkContext(f), mul_size(mul_size(p, p), sizeof(double)));
	problem = (RecoRidgeProblem) {.m = m, .n_sparse = f->n_sparse, .n_dense = f->n_dense, .k = k,
		.indptr = indptr, .cols = cols, .values = values, .dense = dense, .targets = targets, .lambda = lambda,
	.factor = refits ? f->ridge_factor : NULL, .factored = &f->ridge_factored};
	weights = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(p, sizeof(double) * k));
	intercept = palloc(sizeof(double) * k);
	status = RecoRidgeFit(&problem, &hooks, weights, intercept);
	if (status == RECO_STATUS_NOT_POSITIVE_DEFINITE || status == RECO_STATUS_NOT_FINITE)
		ereport(ERROR,
				(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
				 errmsg("the %s feature mapping has no unique solution", f->noun),
				 errdetail("Some features are constant or linearly dependent on the %ss with interactions, and feature_regularization is %g.",
						   f->noun, lambda),
				 errhint("Use a feature_regularization above 0.")));
	RecoReportKernelStatus(status, "the feature mapping");
	f->k = k;
	if (f->weights != NULL)
	{
		/* a refit (feature_mapping "prior"): the last one is the mapping */
		pfree(f->weights);
		pfree(f->intercept);
	}
	f->weights = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(p, sizeof(float) * k));
	f->intercept = palloc(sizeof(float) * k);
	for (i = 0; i < (int64) p * k; i++)
		f->weights[i] = (float) weights[i];
	for (i = 0; i < k; i++)
		f->intercept[i] = (float) intercept[i];
	pfree(warm);
	pfree(dense_rows);
	pfree(indptr);
	pfree(cols);
	pfree(values);
	pfree(targets);
	if (dense != NULL)
		pfree(dense);
	pfree(weights);
	pfree(intercept);
	f->seconds += RecoFeatureSeconds(started);
}

/* Inserts the side's reco.feature_weights rows: the intercept, each sparse column, each dense source. */
static void
RecoStoreFeatureWeights(const RecoSideFeatures *f, int64 model_id)
{
	int			n = 1 + f->n_sparse + list_length(f->dense);
	Datum	   *names = palloc(sizeof(Datum) * n);
	Datum	   *kinds = palloc(sizeof(Datum) * n);
	Datum	   *weights = palloc(sizeof(Datum) * n);
	Oid			types[5] = {INT8OID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, BYTEAARRAYOID};
	Datum		args[5];
	ListCell   *cell;
	int64		i;
	int			row = 0;

	names[row] = CStringGetTextDatum("");
	kinds[row] = CStringGetTextDatum("intercept");
	weights[row++] = PointerGetDatum(RecoEncodeFactors(f->intercept, f->k));
	for (i = 0; i < f->names->n; i++)
		if (f->column_of[i] >= 0)
		{
			names[1 + f->column_of[i]] = CStringGetTextDatum(f->names->keys[i]);
			kinds[1 + f->column_of[i]] = CStringGetTextDatum("sparse");
			weights[1 + f->column_of[i]] = PointerGetDatum(RecoEncodeFactors(f->weights + (int64) f->column_of[i] * f->k, f->k));
			row++;
		}
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);

		names[row] = CStringGetTextDatum(d->name);
		kinds[row] = CStringGetTextDatum("dense");
		weights[row++] = PointerGetDatum(RecoEncodeFactors(f->weights + (int64) d->column * f->k, d->dim * f->k));
	}
	args[0] = Int64GetDatum(model_id);
	args[1] = CStringGetTextDatum(f->noun);
	args[2] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(kinds, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(weights, n, BYTEAOID, -1, false, TYPALIGN_INT));
	RecoExecuteArgs("INSERT INTO reco.feature_weights (model_id, side, feature, kind, weights) "
					"SELECT $1, $2, u.f, u.k, u.w FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), "
					"pg_catalog.unnest($5)) AS u(f, k, w)", 5, types, args, false);
}

/* Appends a double as JSON (the shortest decimal that reads back exactly). */
static void
RecoAppendJsonNumber(StringInfo buf, double value)
{
	char		text[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(value, text);
	appendStringInfoString(buf, text);
}

/* The features jsonb text of entity e: {"sparse feature": value, ..., "embedding column": [...]}. */
static char *
RecoEntityFeaturesJson(const RecoSideFeatures *f, const int64 *dense_rows, int64 e)
{
	StringInfoData buf;
	ListCell   *cell;
	int64		i;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = f->entity_ptr[e]; i < f->entity_ptr[e + 1]; i++)
	{
		appendStringInfoString(&buf, first ? "" : ", ");
		first = false;
		escape_json(&buf, f->names->keys[f->entry_feature[i]]);
		appendStringInfoString(&buf, ": ");
		RecoAppendJsonNumber(&buf, f->entry_value[i]);
	}
	foreach(cell, f->dense)
	{
		RecoDenseSource *d = lfirst(cell);
		int64		row = dense_rows[foreach_current_index(cell) * f->n_entities + e];
		int			j;

		if (row < 0)
			continue;
		appendStringInfoString(&buf, first ? "" : ", ");
		first = false;
		escape_json(&buf, d->name);
		appendStringInfoString(&buf, ": [");
		for (j = 0; j < d->dim; j++)
		{
			if (j > 0)
				appendStringInfoString(&buf, ", ");
			RecoAppendJsonNumber(&buf, d->values[row * d->dim + j]);
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The key of a cold entity of a text or uuid side. */
static const char *
RecoColdKey(const RecoSideFeatures *f, int64 e)
{
	int64		ref = f->entities[e].ref;

	return ref > 0 ? f->keys->keys[ref - 1] : f->new_keys->keys[-ref - 1];
}

/* Orders cold entities: a bigint side by id, a keyed side's known codes first (by code), then new keys by key. */
static int
RecoCompareCold(const void *a, const void *b, void *arg)
{
	const RecoSideFeatures *f = (const RecoSideFeatures *) arg;
	int64		x = f->entities[*(const int64 *) a].ref;
	int64		y = f->entities[*(const int64 *) b].ref;

	if (f->id_type != RECO_ID_BIGINT && x < 0 && y < 0)
		return RecoCompareKeys(f->new_keys->keys[-x - 1], f->new_keys->keys[-y - 1]);
	if (f->id_type != RECO_ID_BIGINT && (x < 0) != (y < 0))
		return x < 0 ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* Inserts one batch of placed rows ($2 ids, $3 factors, $4 features, $5 keys). */
static void
RecoInsertPlaced(const RecoSideFeatures *f, int64 model_id, Datum *ids, Datum *factors,
				 Datum *features, Datum *keys, int n)
{
	bool		keyed = f->id_type != RECO_ID_BIGINT;
	Oid			types[5] = {INT8OID, INT8ARRAYOID, BYTEAARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[5];
	const char *sql = f->side == RECO_SIDE_ITEMS
		? "INSERT INTO reco.item_factors (model_id, item_id, factors, popularity, features%s) "
		"SELECT $1, u.i, u.f, 0, u.j::jsonb%s FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4)%s) AS u(i, f, j%s)"
		: "INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights, features%s) "
		"SELECT $1, u.i, u.f, '{}', '{}', u.j::jsonb%s FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"pg_catalog.unnest($4)%s) AS u(i, f, j%s)";

	args[0] = Int64GetDatum(model_id);
	args[1] = PointerGetDatum(construct_array(ids, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(factors, n, BYTEAOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(features, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (keyed)
		args[4] = PointerGetDatum(construct_array(keys, n, TEXTOID, -1, false, TYPALIGN_INT));
	RecoExecuteArgs(psprintf(sql, keyed ? (f->side == RECO_SIDE_ITEMS ? ", item_key" : ", user_key") : "",
							 keyed ? ", u.k" : "", keyed ? ", pg_catalog.unnest($5)" : "", keyed ? ", k" : ""),
					keyed ? 5 : 4, types, args, false);
}

/*
 * Places entity e with the current mapping into out (k floats): its
 * entries with a column and its dense values (dense_rows: RecoDenseRowsOf;
 * cols, values, dense: scratch of n_sparse, n_sparse and n_dense).
 */
static void
RecoPlaceEntity(const RecoSideFeatures *f, const int64 *dense_rows, int64 e,
				int32 *cols, double *values, double *dense, float *out)
{
	int			n = 0;
	int64		i;

	for (i = f->entity_ptr[e]; i < f->entity_ptr[e + 1]; i++)
		if (f->column_of[f->entry_feature[i]] >= 0)
		{
			int32		col = f->column_of[f->entry_feature[i]];
			double		value = f->entry_value[i];
			int			j = n++;

			/*
			 * in column (= name) order, as serving sums a features jsonb
			 * (feature_map.c): the entries come in first-seen order of the
			 * names, and another order of the sum can give other floats
			 */
			for (; j > 0 && cols[j - 1] > col; j--)
			{
				cols[j] = cols[j - 1];
				values[j] = values[j - 1];
			}
			cols[j] = col;
			values[j] = value;
		}
	RecoEntityDense(f, dense_rows, e, dense);
	RecoRidgePlace(f->weights, f->intercept, f->k, n, cols, values, f->n_sparse, f->n_dense, dense, out);
}

/*
 * The feature-aware prior (feature_mapping "prior"): fills the prior mean
 * of every training row that has features with its placement by the
 * current mapping (RecoFitFeatures), at prior + row * k; the other rows of
 * prior are left as they are (zero: no prior).
 */
void
RecoFeaturePrior(const RecoSideFeatures *f, float *prior)
{
	int64	   *dense_rows = RecoDenseRowsOf(f);
	int32	   *cols = palloc(sizeof(int32) * Max(f->n_sparse, 1));
	double	   *values = palloc(sizeof(double) * Max(f->n_sparse, 1));
	double	   *dense = palloc(sizeof(double) * Max(f->n_dense, 1));
	int64		e;

	for (e = 0; e < f->n_entities; e++)
		if (f->entities[e].row >= 0)
			RecoPlaceEntity(f, dense_rows, e, cols, values, dense, prior + f->entities[e].row * f->k);
	pfree(dense_rows);
	pfree(cols);
	pfree(values);
	pfree(dense);
}

/*
 * Places every cold entity (the file header) and inserts it, in batches;
 * returns how many.
 */
static int64
RecoPlaceColdEntities(RecoSideFeatures *f, int64 model_id)
{
	MemoryContext batch = AllocSetContextCreate(CurrentMemoryContext, "reco placed rows", ALLOCSET_DEFAULT_SIZES);
	int64	   *cold = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(f->n_entities, 1));
	int64	   *dense_rows = RecoDenseRowsOf(f);
	int32	   *cols = palloc(sizeof(int32) * Max(f->n_sparse, 1));
	double	   *values = palloc(sizeof(double) * Max(f->n_sparse, 1));
	double	   *dense = palloc(sizeof(double) * Max(f->n_dense, 1));
	float	   *placed = palloc(sizeof(float) * f->k);
	Datum	   *ids = palloc(sizeof(Datum) * RECO_FEATURE_INSERT_ROWS);
	Datum	   *factors = palloc(sizeof(Datum) * RECO_FEATURE_INSERT_ROWS);
	Datum	   *features = palloc(sizeof(Datum) * RECO_FEATURE_INSERT_ROWS);
	Datum	   *keys = palloc(sizeof(Datum) * RECO_FEATURE_INSERT_ROWS);
	int64		keys_n = f->keys != NULL ? f->keys->n : 0;
	int64		n_cold = 0;
	int64		new_code = 0;
	int64		c;
	int			in_batch = 0;

	for (c = 0; c < f->n_entities; c++)
		if (f->entities[c].row < 0)
			cold[n_cold++] = c;
	qsort_arg(cold, n_cold, sizeof(int64), RecoCompareCold, f);
	for (c = 0; c < n_cold; c++)
	{
		int64		e = cold[c];
		int64		ref = f->entities[e].ref;
		MemoryContext old = MemoryContextSwitchTo(batch);

		RecoPlaceEntity(f, dense_rows, e, cols, values, dense, placed);
		ids[in_batch] = Int64GetDatum(f->id_type == RECO_ID_BIGINT || ref > 0 ? ref : keys_n + ++new_code);
		factors[in_batch] = PointerGetDatum(RecoEncodeFactors(placed, f->k));
		features[in_batch] = CStringGetTextDatum(RecoEntityFeaturesJson(f, dense_rows, e));
		if (f->id_type != RECO_ID_BIGINT)
			keys[in_batch] = CStringGetTextDatum(RecoColdKey(f, e));
		in_batch++;
		MemoryContextSwitchTo(old);
		if (in_batch == RECO_FEATURE_INSERT_ROWS || c == n_cold - 1)
		{
			RecoInsertPlaced(f, model_id, ids, factors, features, keys, in_batch);
			in_batch = 0;
			MemoryContextReset(batch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	MemoryContextDelete(batch);
	pfree(cold);
	pfree(dense_rows);
	return n_cold;
}

/*
 * Stores the fitted mapping (reco.feature_weights) and the placed cold
 * entities of version model_id; returns how many were placed.
 */
int64
RecoStoreFeatures(RecoSideFeatures *f, int64 model_id)
{
	instr_time	started;

	INSTR_TIME_SET_CURRENT(started);
	RecoStoreFeatureWeights(f, model_id);
	f->placed = RecoPlaceColdEntities(f, model_id);
	f->seconds += RecoFeatureSeconds(started);
	return f->placed;
}

/* Appends the side's stats object: "item_features": {...} (reco.models.stats). */
void
RecoAppendFeatureStats(StringInfo buf, const RecoSideFeatures *f)
{
	int64		unused = 0;
	int64		i;

	for (i = 0; i < f->names->n; i++)
		unused += f->column_of[i] < 0;
	appendStringInfo(buf, "\"%s_features\": {\"sources\": %d, \"columns\": %d, \"sparse_features\": %d, "
					 "\"embedding_dimensions\": %d, \"features_without_interactions\": " INT64_FORMAT
					 ", \"rows\": " INT64_FORMAT ", \"placed\": " INT64_FORMAT ", \"seconds\": %.6f}",
					 f->noun, f->n_sources, f->n_sparse + f->n_dense, f->n_sparse, f->n_dense, unused,
					 f->warm_rows, f->placed, f->seconds);
}
