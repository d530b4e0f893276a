/*-------------------------------------------------------------------------
 *
 * place.c
 *	  reco.place_item and reco.place_user: place one new entity of the served
 *	  version from its features now (a product added after training, a
 *	  customer known only by a profile).
 *
 * The steps follow reco.refresh_items (refresh.c): the model's lock, then a
 * snapshot that sees the newest version; the factors are the version's
 * mapping of the features (feature_map.c); the row is inserted (a new id; a
 * new text or uuid key gets the side's highest code + 1, as a refresh gives
 * one) or replaced (an id placed before), with `features` holding exactly
 * the features given; and the models row gets a new generation of the side,
 * so every backend's cache and the shared cache serve the change from their
 * next call.  An id learned from interactions is refused (42710): placing it
 * would throw its interactions away, and refresh re-solves it from them.
 * Everything happens in the caller's transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "feature_map.h"
#include "ids.h"
#include "model.h"
#include "serve.h"
#include "store.h"

/* Per side (RecoSide): the table, its id and key columns, and the words of messages. */
static const char *const reco_place_table[2] = {"item_factors", "user_factors"};
static const char *const reco_place_id[2] = {"item_id", "user_id"};
static const char *const reco_place_key[2] = {"item_key", "user_key"};
static const char *const reco_place_word[2] = {"item", "user"};

/*
 * Finds the stored row of the id argument: returns whether there is one,
 * with its id or code in *id_out and whether it was learned from
 * interactions in *learned; *key_out gets the text or uuid key (NULL on a
 * bigint side, where *id_out is the id either way).
 */
static bool
RecoPlaceFind(const RecoModelInfo *model, RecoSide side, Datum value, Oid type, int64 *id_out,
			  char **key_out, bool *learned)
{
	RecoIdType	id_type = side == RECO_SIDE_ITEMS ? model->item_id_type : model->user_id_type;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
	bool		isnull;

	values[0] = Int64GetDatum(model->model_id);
	*key_out = NULL;
	if (id_type == RECO_ID_BIGINT)
	{
		*id_out = type == INT8OID ? DatumGetInt64(value) : RecoIdBigintFromText(RecoIdDatumText(value, type));
		values[1] = Int64GetDatum(*id_out);
		RecoExecuteArgs(psprintf("SELECT %s, features IS NULL FROM reco.%s WHERE model_id = $1 AND %s = $2",
								 reco_place_id[side], reco_place_table[side], reco_place_id[side]),
						2, types, values, false);
	}
	else
	{
		*key_out = RecoIdKeyFromText(id_type, RecoIdDatumText(value, type));
		types[1] = TEXTOID;
		values[1] = CStringGetTextDatum(*key_out);
		RecoExecuteArgs(psprintf("SELECT %s, features IS NULL FROM reco.%s WHERE model_id = $1 AND %s = $2",
								 reco_place_id[side], reco_place_table[side], reco_place_key[side]),
						2, types, values, false);
	}
	if (SPI_processed == 0)
		return false;
	*id_out = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*learned = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return true;
}

/* The next code of a text or uuid side: its highest code + 1 (codes start at 1). */
static int64
RecoPlaceNextCode(const RecoModelInfo *model, RecoSide side)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(model->model_id)};
	bool		isnull;

	RecoExecuteArgs(psprintf("SELECT COALESCE(max(%s), 0) + 1 FROM reco.%s WHERE model_id = $1",
							 reco_place_id[side], reco_place_table[side]),
					1, types, values, false);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Writes the placed row (id: the id or code; key NULL on a bigint side),
 * inserting it or, when `replace`, updating the one placed before; then the
 * models row's count and a new generation of the side.
 */
static void
RecoPlaceStore(const RecoModelInfo *model, RecoSide side, int64 id, const char *key, const float *factors,
			   Jsonb *features, bool replace)
{
	Oid			types[5] = {INT8OID, INT8OID, BYTEAOID, JSONBOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', key == NULL ? 'n' : ' '};
	const char *sql;
	int			rc;

	values[0] = Int64GetDatum(model->model_id);
	values[1] = Int64GetDatum(id);
	values[2] = PointerGetDatum(RecoEncodeFactors(factors, model->factors));
	values[3] = JsonbPGetDatum(features);
	values[4] = key != NULL ? CStringGetTextDatum(key) : (Datum) 0;
	if (replace)
		sql = psprintf("UPDATE reco.%s SET factors = $3, features = $4 WHERE model_id = $1 AND %s = $2",
					   reco_place_table[side], reco_place_id[side]);
	else if (side == RECO_SIDE_ITEMS)
		sql = "INSERT INTO reco.item_factors (model_id, item_id, factors, popularity, item_key, features) "
			"VALUES ($1, $2, $3, 0, $5, $4)";
	else
		sql = "INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights, user_key, features) "
			"VALUES ($1, $2, $3, '{}', '{}', $5, $4)";
	rc = SPI_execute_with_args(sql, 5, types, values, nulls, false, 0);
	if (rc != (replace ? SPI_OK_UPDATE : SPI_OK_INSERT) || SPI_processed != 1)
		elog(ERROR, "reco: storing a placed %s returned %s, please report a bug",
			 reco_place_word[side], SPI_result_code_string(rc));
	/* the models row: one more row unless replaced, and a new generation of the side (cache.c) */
	values[1] = Int64GetDatum(replace ? 0 : 1);
	RecoExecuteArgs(psprintf("UPDATE reco.models SET n_%ss = n_%ss + $2, "
							 "stats = COALESCE(stats, '{}') || pg_catalog.jsonb_build_object("
							 "'%s_generation', pg_catalog.nextval('reco.models_model_id_seq')) "
							 "WHERE model_id = $1",
							 reco_place_word[side], reco_place_word[side], reco_place_word[side]),
					2, types, values, false);
}

/*
 * The body of place_item / place_user (model, id, features): returns the
 * factors as real[].
 */
static Datum
RecoPlace(FunctionCallInfo fcinfo, RecoSide side)
{
	char	   *name = RecoArgModel(fcinfo);
	MemoryContext call_cxt = CurrentMemoryContext;
	RecoModelInfo model;
	RecoFeatureMap *map;
	Jsonb	   *features;
	float	   *factors;
	Datum	   *elems;
	int64		id = 0;
	char	   *key;
	bool		learned = false;
	bool		found;
	int			c;

	RecoRequireArg(fcinfo, 1, side == RECO_SIDE_ITEMS ? "item_id" : "user_id");
	RecoRequireArg(fcinfo, 2, side == RECO_SIDE_ITEMS ? "features" : "profile");
	features = PG_GETARG_JSONB_P(2);
	RecoBeginInPlace(psprintf("reco.place_%s", reco_place_word[side]), reco_place_table[side],
					 ACL_SELECT | ACL_INSERT | ACL_UPDATE, name, &model);
	map = RecoFeatureMapFor(&model, side, true);
	factors = MemoryContextAlloc(call_cxt, sizeof(float) * model.factors);
	RecoMapFeatures(map, features, factors);
	found = RecoPlaceFind(&model, side, PG_GETARG_DATUM(1), RecoArgType(fcinfo, 1), &id, &key, &learned);
	if (found && learned)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s %s of model \"%s\" was learned from interactions",
						reco_place_word[side], key != NULL ? key : psprintf(INT64_FORMAT, id), name),
				 errhint("reco.refresh_%ss re-solves it from its interactions; only a %s without any is placed from %s.",
						 reco_place_word[side], reco_place_word[side],
						 side == RECO_SIDE_ITEMS ? "features" : "a profile")));
	if (!found && key != NULL)
		id = RecoPlaceNextCode(&model, side);
	RecoPlaceStore(&model, side, id, key, factors, features, found);
	PopActiveSnapshot();
	RecoSpiFinish();
	elems = palloc(sizeof(Datum) * model.factors);
	for (c = 0; c < model.factors; c++)
		elems[c] = Float4GetDatum(factors[c]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, model.factors, FLOAT4OID, 4, true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(reco_place);

/*
 * reco.place_item(model, item_id, features) and reco.place_user(model,
 * user_id, profile), ids bigint, text or uuid (one C function: the SQL
 * name says the side): places one entity of the served version from its
 * features; returns its factors.
 */
Datum
reco_place(PG_FUNCTION_ARGS)
{
	char	   *function = get_func_name(fcinfo->flinfo->fn_oid);

	return RecoPlace(fcinfo, function != NULL && strcmp(function, "place_user") == 0
					 ? RECO_SIDE_USERS : RECO_SIDE_ITEMS);
}
