/*-------------------------------------------------------------------------
 *
 * segment_users.c
 *	  reco.segment_users and reco.segment_top_items (and their _text
 *	  twins): customer segments of the served version and their best items.
 *
 * segment_users clusters the served version's user factors with the seeded
 * cosine k-means of segments.c (threaded, the same answer for any thread
 * count), returns (user_id, segment, distance) for every user in id (code)
 * order, and replaces that version's rows of reco.segments with one row per
 * segment: its size, its unit centroid and the mean of its members' raw
 * factors.  It first takes the model name's lock (reco.lock_model), so it
 * waits for a training of the name that is storing, and two segmentations
 * of one model never interleave their writes; the lock is held until the
 * transaction ends.
 *
 * segment_top_items scores every item against a stored segment's mean raw
 * user factors: by linearity that score is the average over the segment's
 * members of the score reco.recommend gives the item (mean(x_u) . y_i =
 * mean(x_u . y_i)), so the ranking is the segment's average taste, seen
 * items included.  The unit centroid would rank by direction alone and
 * lose the scale that separates what members buy a lot from what they
 * merely lean to; the mean keeps it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "als.h"
#include "model.h"
#include "reco.h"
#include "segments.h"
#include "serve.h"
#include "store.h"

/* Builds a one-dimensional array of `n` values of `type` (int4, int8 or bytea). */
static Datum
RecoSegmentArray(Datum *values, int n, Oid type)
{
	if (type == BYTEAOID)
		return PointerGetDatum(construct_array(values, n, BYTEAOID, -1, false, TYPALIGN_INT));
	if (type == INT8OID)
		return PointerGetDatum(construct_array(values, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	return PointerGetDatum(construct_array(values, n, INT4OID, 4, true, TYPALIGN_INT));
}

/*
 * Replaces the stored segments of version `model_id` with the clustering
 * `out` (one INSERT of every segment); SPI-connected caller.
 */
static void
RecoStoreSegments(int64 model_id, const RecoSegmentOutput *out, int clusters, int k, int64 seed)
{
	Datum	   *numbers = palloc(sizeof(Datum) * clusters);
	Datum	   *sizes = palloc(sizeof(Datum) * clusters);
	Datum	   *centroids = palloc(sizeof(Datum) * clusters);
	Datum	   *means = palloc(sizeof(Datum) * clusters);
	Oid			delete_types[1] = {INT8OID};
	Datum		delete_values[1] = {Int64GetDatum(model_id)};
	Oid			types[9] = {INT8OID, INT4ARRAYOID, INT8ARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID,
	INT4OID, INT8OID, INT4OID, BOOLOID};
	Datum		values[9];
	int			c;

	for (c = 0; c < clusters; c++)
	{
		numbers[c] = Int32GetDatum(c + 1);
		sizes[c] = Int64GetDatum(out->sizes[c]);
		centroids[c] = PointerGetDatum(RecoEncodeFactors(out->centroids + (size_t) c * k, k));
		means[c] = PointerGetDatum(RecoEncodeFactors(out->means + (size_t) c * k, k));
	}
	values[0] = Int64GetDatum(model_id);
	values[1] = RecoSegmentArray(numbers, clusters, INT4OID);
	values[2] = RecoSegmentArray(sizes, clusters, INT8OID);
	values[3] = RecoSegmentArray(centroids, clusters, BYTEAOID);
	values[4] = RecoSegmentArray(means, clusters, BYTEAOID);
	values[5] = Int32GetDatum(clusters);
	values[6] = Int64GetDatum(seed);
	values[7] = Int32GetDatum(out->iterations);
	values[8] = BoolGetDatum(out->converged);
	RecoExecuteArgs("DELETE FROM reco.segments WHERE model_id = $1", 1, delete_types, delete_values, false);
	RecoExecuteArgs("INSERT INTO reco.segments (model_id, segment, size, centroid, mean, k, seed, iterations, converged) "
					"SELECT $1, s.segment, s.size, s.centroid, s.mean, $6, $7, $8, $9 "
					"FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
					"pg_catalog.unnest($5)) AS s(segment, size, centroid, mean)",
					9, types, values, false);
}

PG_FUNCTION_INFO_V1(reco_segment_users);

/*
 * reco.segment_users(model, k, seed) and reco.segment_users_text: clusters
 * the served version's users into k segments (numbered 1 .. k by size
 * descending, then by smallest member id or code), stores the segments and
 * returns (user_id, segment, distance) for every user.  22004 for a NULL
 * argument, 22023 for k outside 1 .. min(users, RECO_MAX_SEGMENTS).
 */
Datum
reco_segment_users(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			k;
	int64		seed;
	RecoFactorSet *users;
	RecoSegmentInput in;
	RecoSegmentOutput out;
	RecoHooks	hooks = {RecoInterruptPending, NULL};
	RecoIdColumn column;
	Oid			user_type;
	RecoStatus	status;
	int64		i;

	RecoRequireArg(fcinfo, 1, "k");
	RecoRequireArg(fcinfo, 2, "seed");
	k = PG_GETARG_INT32(1);
	seed = PG_GETARG_INT64(2);
	if (k < 1 || k > RECO_MAX_SEGMENTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", RECO_MAX_SEGMENTS, k)));

	/*
	 * The rights to store the segments before anything else: a role that may
	 * not write them learns it now, not after the whole clustering under the
	 * model's lock.  Then the name's lock before the version is looked up: a
	 * training storing now commits first.
	 */
	RecoSpiConnect();
	RecoCheckPrivilege("segments", ACL_SELECT | ACL_INSERT | ACL_DELETE);
	RecoLockModelName(name);
	RecoSpiFinish();
	RecoServeBegin(&ctx, fcinfo, name, true);
	users = RecoServeFactors(&ctx, RECO_SIDE_USERS);
	RecoServeEnd(&ctx);
	if (k > users->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at most the number of users of model \"%s\" (" INT64_FORMAT "), not %d",
						name, users->n, k)));

	memset(&in, 0, sizeof(in));
	in.points = users->factors;
	in.n = users->n;
	in.k = users->k;
	in.clusters = k;
	in.seed = (uint64) seed;
	in.max_iterations = RECO_SEGMENT_MAX_ITERATIONS;
	in.moved_fraction = RECO_SEGMENT_MOVED_FRACTION;
	in.tolerance = RECO_SEGMENT_TOLERANCE;
	in.min_gain = RECO_SEGMENT_MIN_GAIN;
	in.threads = RecoEffectiveThreads(0);
	memset(&out, 0, sizeof(out));
	out.assign = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * users->n);
	out.distance = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * users->n);
	out.centroids = palloc(sizeof(float) * k * users->k);
	out.means = palloc(sizeof(float) * k * users->k);
	out.sizes = palloc(sizeof(int64) * k);
	status = RecoSegmentPoints(&in, &hooks, &out);
	if (status == RECO_STATUS_INVALID_ARGUMENT && out.directions > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the users of model \"%s\" point in only " INT64_FORMAT " distinct directions, fewer than k = %d",
						name, out.directions, k),
				 errhint("Ask for at most " INT64_FORMAT " segments.", out.directions)));
	RecoReportKernelStatus(status, "segmenting");

	RecoSpiConnect();
	RecoStoreSegments(ctx.model.model_id, &out, k, users->k, seed);
	RecoSpiFinish();

	column = RecoSetColumn(users);
	user_type = TupleDescAttr(ctx.rsinfo->setDesc, 0)->atttypid;
	for (i = 0; i < users->n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = RecoIdColumnDatum(&column, i, user_type);
		values[1] = Int32GetDatum(out.assign[i] + 1);
		values[2] = Float4GetDatum(out.distance[i]);
		tuplestore_putvalues(ctx.rsinfo->setResult, ctx.rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Reads the mean raw user factors of segment `segment` of the served
 * version into `mean` (k floats); 55000 if the version has no segments,
 * 42704 if it has no such segment.  SPI-connected caller.
 */
static void
RecoLoadSegmentMean(const RecoServeContext *ctx, const char *name, int segment, float *mean)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(ctx->model.model_id), Int32GetDatum(segment)};
	bool		isnull;
	int64		segments;

	RecoExecuteArgs("SELECT s.mean, (SELECT pg_catalog.count(*) FROM reco.segments AS c WHERE c.model_id = $1) "
					"FROM (SELECT) AS one LEFT JOIN reco.segments AS s ON s.model_id = $1 AND s.segment = $2",
					2, types, values, true);
	segments = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (segments == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("version %d of model \"%s\" has no segments", ctx->model.version, name),
				 errhint("Run reco.segment_users('%s', k) first (again after each training).", name)));
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("segment %d of model \"%s\" does not exist", segment, name),
				 errdetail("Version %d of the model has segments 1 to " INT64_FORMAT ".",
						   ctx->model.version, segments)));
	RecoDecodeFactors(DatumGetByteaPP(values[0]), ctx->model.factors, mean);
}

PG_FUNCTION_INFO_V1(reco_segment_top_items);

/*
 * reco.segment_top_items(model, segment, n) and its _text twin: the n items
 * with the best average score over the segment's members (item factors .
 * the segment's mean raw user factors), best first, ties by item id.
 */
Datum
reco_segment_top_items(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			segment,
				n;
	float	   *mean;
	float	   *scores;
	RecoFactorSet *items;
	RecoIdColumn column;

	RecoRequireArg(fcinfo, 1, "segment");
	segment = PG_GETARG_INT32(1);
	n = RecoArgN(fcinfo, 2);

	RecoServeBegin(&ctx, fcinfo, name, true);
	mean = MemoryContextAlloc(ctx.call_cxt, sizeof(float) * ctx.model.factors);
	RecoLoadSegmentMean(&ctx, name, segment, mean);
	items = RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoServeEnd(&ctx);

	scores = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(items->n, 1));
	RecoAlsScoreRows(items->factors, NULL, items->n, items->k, mean, scores);
	column = RecoSetColumn(items);
	RecoEmitTop(ctx.rsinfo, &column, scores, items->n, n);
	return (Datum) 0;
}
