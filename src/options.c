/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Parsing and validation of reco.fit's options (a jsonb object).
 *
 * Every option is one row of reco_train_options below: its name, its kind
 * (integer, real or one of a list of words), its range, its default and the
 * field of RecoTrainOptions it sets.  Parsing, the defaults, the list of
 * valid keys in error hints and the jsonb stored in reco.models.params all
 * read that table, so an option (or a new algorithm's option) is added by
 * adding a row.  An unknown key, a value of the wrong type or a value out of
 * range is an error (22023) that says what is accepted.  reco.train's SQL
 * defaults repeat the table's defaults; the regression tests compare them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "options.h"
#include "reco.h"
#include "reco_limits.h"

/* How an option's value is read, and the type of the field it sets. */
typedef enum RecoOptionKind
{
	RECO_OPTION_INT,			/* an integer in [min, max]; an int field */
	RECO_OPTION_INT64,			/* an integer in [min, max]; an int64 field */
	RECO_OPTION_REAL,			/* a number in [min, max] (or (min, max]); a float field */
	RECO_OPTION_WORD,			/* one of `words`; an int (enum) field set to its position */
	RECO_OPTION_TEXT,			/* any string; a char * field, NULL = not given (not stored) */
	RECO_OPTION_INTERVAL,		/* a positive interval as a string; an Interval * field, NULL = not given */
	RECO_OPTION_TIMESTAMPTZ,	/* a finite timestamptz as a string; a TimestampTz field, RECO_AS_OF_NEWEST = not given */
	RECO_OPTION_SOURCES			/* a string or an array of strings; a List * of char * field, NIL = not given */
} RecoOptionKind;

/* One option of reco.fit. */
typedef struct RecoOptionDesc
{
	const char *name;
	RecoOptionKind kind;
	double		min;			/* INT, INT64, REAL */
	double		max;
	bool		min_exclusive;	/* REAL: the value must be greater than min */
	const char *const *words;	/* WORD: the accepted values, NULL-terminated */
	const char *noun;			/* WORD: "solver" in 'unknown solver "lu"' */
	double		default_value;	/* WORD: the position of the default word */
	double		algorithm_defaults[RECO_N_ALGORITHMS];	/* if per_algorithm: the default of each */
	bool		per_algorithm;	/* the default depends on the algorithm */
	unsigned	algorithms;		/* the algorithms it applies to (RECO_FOR); 0 = every one */
	int			field;			/* offset in RecoTrainOptions */
	bool		stored;			/* written to reco.models.params */
	bool		with_features;	/* only with item_features or user_features (given and stored) */
} RecoOptionDesc;

/* The set of algorithms an option applies to: RECO_FOR(IALS) | RECO_FOR(ALS). */
#define RECO_FOR(a) (1u << RECO_ALGORITHM_##a)

/* An option whose default depends on the algorithm: ials, als, bpr. */
#define RECO_DEFAULTS(ials, als, bpr) .per_algorithm = true, .algorithm_defaults = {ials, als, bpr}

/* Offset of a field of RecoTrainOptions. */
#define RECO_FIELD(f) ((int) offsetof(RecoTrainOptions, f))

/* Seeds are integers exact in a JSON number (a double). */
#define RECO_SEED_LIMIT ((double) (INT64CONST(1) << RECO_MAX_SEED_BITS))

/* The values of the word options, in the order of their enums. */
static const char *const reco_algorithm_words[] = {"ials", "als", "bpr", NULL};	/* RecoAlgorithm */
static const char *const reco_solver_words[] = {"cg", "cholesky", NULL};	/* RecoSolver */
static const char *const reco_id_type_words[] = {"bigint", "text", "uuid", NULL};	/* RecoIdType */
static const char *const reco_feature_mapping_words[] = {"ridge", "prior", NULL};	/* RecoFeatureMapping */

/* Every option of reco.fit, in the order the hints list them. */
static const RecoOptionDesc reco_train_options[] = {
	{.name = "algorithm", .kind = RECO_OPTION_WORD, .words = reco_algorithm_words,
	.noun = "algorithm", .default_value = RECO_ALGORITHM_IALS, .field = RECO_FIELD(algorithm), .stored = true},
	{.name = "factors", .kind = RECO_OPTION_INT, .min = RECO_MIN_FACTORS, .max = RECO_MAX_FACTORS,
	.default_value = RECO_DEFAULT_FACTORS, .field = RECO_FIELD(factors), .stored = true},
	{.name = "regularization", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_REGULARIZATION,
		RECO_DEFAULTS(RECO_DEFAULT_REGULARIZATION, RECO_DEFAULT_ALS_REGULARIZATION, RECO_DEFAULT_BPR_REGULARIZATION),
	.field = RECO_FIELD(regularization), .stored = true},
	{.name = "alpha", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_ALPHA, .min_exclusive = true,
		.default_value = RECO_DEFAULT_ALPHA, .algorithms = RECO_FOR(IALS),
	.field = RECO_FIELD(alpha), .stored = true},
	{.name = "learning_rate", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_LEARNING_RATE, .min_exclusive = true,
		.default_value = RECO_DEFAULT_BPR_LEARNING_RATE, .algorithms = RECO_FOR(BPR),
	.field = RECO_FIELD(learning_rate), .stored = true},
	{.name = "reg_exponent", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_REG_EXPONENT,
		RECO_DEFAULTS(RECO_DEFAULT_REG_EXPONENT, RECO_DEFAULT_ALS_REG_EXPONENT, 0), .algorithms = RECO_FOR(IALS) | RECO_FOR(ALS),
	.field = RECO_FIELD(reg_exponent), .stored = true},
	{.name = "unobserved_weight", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_UNOBSERVED_WEIGHT, .min_exclusive = true,
		.default_value = RECO_DEFAULT_UNOBSERVED_WEIGHT, .algorithms = RECO_FOR(IALS),
	.field = RECO_FIELD(unobserved_weight), .stored = true},
	{.name = "iterations", .kind = RECO_OPTION_INT, .min = RECO_MIN_ITERATIONS, .max = RECO_MAX_ITERATIONS,
		RECO_DEFAULTS(RECO_DEFAULT_ITERATIONS, RECO_DEFAULT_ALS_ITERATIONS, RECO_DEFAULT_BPR_ITERATIONS),
	.field = RECO_FIELD(iterations), .stored = true},
	{.name = "seed", .kind = RECO_OPTION_INT64, .min = -RECO_SEED_LIMIT, .max = RECO_SEED_LIMIT,
	.default_value = RECO_DEFAULT_SEED, .field = RECO_FIELD(seed), .stored = true},
	{.name = "cg_steps", .kind = RECO_OPTION_INT, .min = RECO_MIN_CG_STEPS, .max = RECO_MAX_CG_STEPS,
		.default_value = RECO_DEFAULT_CG_STEPS, .algorithms = RECO_FOR(IALS),
	.field = RECO_FIELD(cg_steps), .stored = true},
	{.name = "solver", .kind = RECO_OPTION_WORD, .words = reco_solver_words, .noun = "solver",
		.default_value = RECO_SOLVER_CG, .algorithms = RECO_FOR(IALS),
	.field = RECO_FIELD(solver), .stored = true},
	/* the thread count changes speed, not the result: not part of params */
	{.name = "threads", .kind = RECO_OPTION_INT, .min = 0, .max = RECO_MAX_THREADS,
	.default_value = RECO_DEFAULT_THREADS, .field = RECO_FIELD(threads), .stored = false},
	{.name = "keep_versions", .kind = RECO_OPTION_INT, .min = 0, .max = RECO_MAX_KEEP_VERSIONS,
	.default_value = RECO_DEFAULT_KEEP_VERSIONS, .field = RECO_FIELD(keep_versions), .stored = true},
	/* how the aggregate reads the ids; the default is the aggregate's (RecoParseTrainOptions) */
	{.name = "user_id_type", .kind = RECO_OPTION_WORD, .words = reco_id_type_words, .noun = "id type",
	.default_value = RECO_ID_BIGINT, .field = RECO_FIELD(user_id_type), .stored = true},
	{.name = "item_id_type", .kind = RECO_OPTION_WORD, .words = reco_id_type_words, .noun = "id type",
	.default_value = RECO_ID_BIGINT, .field = RECO_FIELD(item_id_type), .stored = true},
	/* where the model's interactions live, for reco.refresh_users/items (reco.train sets them) */
	{.name = "source", .kind = RECO_OPTION_TEXT, .field = RECO_FIELD(source), .stored = true},
	{.name = "user_col", .kind = RECO_OPTION_TEXT, .field = RECO_FIELD(user_col), .stored = true},
	{.name = "item_col", .kind = RECO_OPTION_TEXT, .field = RECO_FIELD(item_col), .stored = true},
	{.name = "weight_col", .kind = RECO_OPTION_TEXT, .field = RECO_FIELD(weight_col), .stored = true},
	/* time decay: only the aggregate with an event time accepts them (train.c) */
	{.name = "time_col", .kind = RECO_OPTION_TEXT, .field = RECO_FIELD(time_col), .stored = true},
	{.name = "half_life", .kind = RECO_OPTION_INTERVAL, .field = RECO_FIELD(half_life), .stored = true},
	{.name = "as_of", .kind = RECO_OPTION_TIMESTAMPTZ, .field = RECO_FIELD(as_of), .stored = true},
	/* cold start: feature sources (feature_train.c) and the penalty of their mapping, any algorithm */
	{.name = "item_features", .kind = RECO_OPTION_SOURCES, .field = RECO_FIELD(item_features), .stored = true},
	{.name = "user_features", .kind = RECO_OPTION_SOURCES, .field = RECO_FIELD(user_features), .stored = true},
	{.name = "feature_regularization", .kind = RECO_OPTION_REAL, .min = 0.0, .max = RECO_MAX_FEATURE_REGULARIZATION,
		.default_value = RECO_DEFAULT_FEATURE_REGULARIZATION, .field = RECO_FIELD(feature_regularization),
	.stored = true, .with_features = true},
	/*
	 * "prior" (ials, item side): the feature-aware prior inside the item
	 * steps (train.c); not given: RECO_DEFAULT_FEATURE_MAPPING for ials with
	 * item features, else "ridge" (RecoParseTrainOptions)
	 */
	{.name = "feature_mapping", .kind = RECO_OPTION_WORD, .words = reco_feature_mapping_words,
		.noun = "feature mapping", .default_value = RECO_FEATURE_MAPPING_RIDGE,
	.field = RECO_FIELD(feature_mapping), .stored = true, .with_features = true},
};

#define RECO_N_TRAIN_OPTIONS ((int) lengthof(reco_train_options))

StaticAssertDecl(sizeof(RecoAlgorithm) == sizeof(int), "a word option's enum field is set as an int");
StaticAssertDecl(sizeof(RecoSolver) == sizeof(int), "a word option's enum field is set as an int");
StaticAssertDecl(sizeof(RecoIdType) == sizeof(int), "a word option's enum field is set as an int");
StaticAssertDecl(sizeof(RecoFeatureMapping) == sizeof(int), "a word option's enum field is set as an int");

/* The field of RecoTrainOptions `options` that option `desc` sets. */
#define RECO_OPTION_FIELD(options, desc) ((char *) (options) + (desc)->field)

/* The value of a word option in `options`. */
static const char *
RecoOptionWordValue(const RecoOptionDesc *desc, const RecoTrainOptions *options)
{
	return desc->words[*(const int *) RECO_OPTION_FIELD(options, desc)];
}

/* "first, second, ..." of a NULL-terminated list of words. */
static char *
RecoJoinWords(const char *const *words)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; words[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", words[i]);
	return buf.data;
}

/* "algorithm, factors, ...": every option name, for hints. */
static char *
RecoOptionKeys(void)
{
	const char *names[RECO_N_TRAIN_OPTIONS + 1];
	int			i;

	for (i = 0; i < RECO_N_TRAIN_OPTIONS; i++)
		names[i] = reco_train_options[i].name;
	names[RECO_N_TRAIN_OPTIONS] = NULL;
	return RecoJoinWords(names);
}

/* Whether option desc applies to algorithm. */
static bool
RecoOptionApplies(const RecoOptionDesc *desc, RecoAlgorithm algorithm)
{
	return desc->algorithms == 0 || (desc->algorithms & (1u << algorithm)) != 0;
}

/* "ials, als": the algorithms option desc applies to. */
static char *
RecoOptionAlgorithms(const RecoOptionDesc *desc)
{
	const char *names[RECO_N_ALGORITHMS + 1];
	int			n = 0;
	int			a;

	for (a = 0; a < RECO_N_ALGORITHMS; a++)
		if (RecoOptionApplies(desc, (RecoAlgorithm) a))
			names[n++] = reco_algorithm_words[a];
	names[n] = NULL;
	return RecoJoinWords(names);
}

/* Sets option desc in out to its default for algorithm. */
static void
RecoSetDefaultOption(const RecoOptionDesc *desc, RecoAlgorithm algorithm, RecoTrainOptions *out)
{
	double		value = desc->per_algorithm ? desc->algorithm_defaults[algorithm] : desc->default_value;

	switch (desc->kind)
	{
		case RECO_OPTION_INT:
		case RECO_OPTION_WORD:
			*(int *) RECO_OPTION_FIELD(out, desc) = (int) value;
			break;
		case RECO_OPTION_INT64:
			*(int64 *) RECO_OPTION_FIELD(out, desc) = (int64) value;
			break;
		case RECO_OPTION_REAL:
			*(float *) RECO_OPTION_FIELD(out, desc) = (float) value;
			break;
		case RECO_OPTION_TEXT:
		case RECO_OPTION_INTERVAL:
			*(void **) RECO_OPTION_FIELD(out, desc) = NULL;
			break;
		case RECO_OPTION_TIMESTAMPTZ:
			*(TimestampTz *) RECO_OPTION_FIELD(out, desc) = RECO_AS_OF_NEWEST;
			break;
		case RECO_OPTION_SOURCES:
			*(List **) RECO_OPTION_FIELD(out, desc) = NIL;
			break;
	}
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

/* Returns the position of a jsonb string among `words`, or errors listing them. */
static int
RecoOptionWord(const char *key, JsonbValue *value, const char *const *words, const char *noun)
{
	char	   *word;
	int			i;

	if (value->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a string", key)));
	word = pnstrdup(value->val.string.val, value->val.string.len);
	for (i = 0; words[i] != NULL; i++)
		if (strcmp(word, words[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", noun, word),
			 errhint("The %ss are: %s.", noun, RecoJoinWords(words))));
	return -1;					/* keep the compiler quiet */
}

/* Returns a jsonb string as a C string, or errors naming the key and what it holds. */
static char *
RecoOptionString(const char *key, JsonbValue *value, const char *what)
{
	if (value->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a string (%s)", key, what)));
	return pnstrdup(value->val.string.val, value->val.string.len);
}

/* Seconds of an interval, as extract(epoch from interval) counts them (a month = 30 days, a year = 365.25 days). */
double
RecoIntervalSeconds(const Interval *interval)
{
	return DatumGetFloat8(DirectFunctionCall2(interval_part, CStringGetTextDatum("epoch"),
											  IntervalPGetDatum(interval)));
}

/* Returns a positive interval read from a jsonb string, or errors (22023; 22007 if it is no interval). */
static Interval *
RecoOptionInterval(const char *key, JsonbValue *value)
{
	char	   *text = RecoOptionString(key, value, "an interval such as '90 days'");
	Interval   *interval = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(text),
																 ObjectIdGetDatum(InvalidOid),
																 Int32GetDatum(-1)));

	if (!(RecoIntervalSeconds(interval) > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a positive interval, not \"%s\"", key, text)));
	return interval;
}

/* Returns a finite timestamptz read from a jsonb string (the session's TimeZone if it has no offset), or errors. */
static TimestampTz
RecoOptionTimestamptz(const char *key, JsonbValue *value)
{
	char	   *text = RecoOptionString(key, value, "a timestamptz such as '2025-06-30 00:00+00'");
	TimestampTz time = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
															   ObjectIdGetDatum(InvalidOid),
															   Int32GetDatum(-1)));

	if (TIMESTAMP_NOT_FINITE(time))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a finite timestamptz, not \"%s\"", key, text)));
	return time;
}

/*
 * Returns the sources of a jsonb string or array of strings (an empty array:
 * none, NIL), or errors (22023).
 */
static List *
RecoOptionSources(const char *key, JsonbValue *value)
{
	List	   *sources = NIL;
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;

	if (value->type == jbvString)
		return list_make1(pnstrdup(value->val.string.val, value->val.string.len));
	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a string or an array of strings (tables, views or queries)", key)));
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		if (element.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must be a string or an array of strings (tables, views or queries)", key)));
		sources = lappend(sources, pnstrdup(element.val.string.val, element.val.string.len));
	}
	return sources;
}

/* Applies one key/value pair of the options object; returns the option's index in the table. */
static int
RecoApplyOption(const char *key, JsonbValue *value, RecoTrainOptions *out)
{
	const RecoOptionDesc *desc = NULL;
	int			i;
	int			word;

	for (i = 0; i < RECO_N_TRAIN_OPTIONS && desc == NULL; i++)
		if (strcmp(key, reco_train_options[i].name) == 0)
			desc = &reco_train_options[i];
	if (desc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown option \"%s\"", key),
				 errhint("The options are: %s.", RecoOptionKeys())));
	switch (desc->kind)
	{
		case RECO_OPTION_INT:
			*(int *) RECO_OPTION_FIELD(out, desc) =
				(int) RecoOptionInteger(key, value, (int64) desc->min, (int64) desc->max);
			break;
		case RECO_OPTION_INT64:
			*(int64 *) RECO_OPTION_FIELD(out, desc) =
				RecoOptionInteger(key, value, (int64) desc->min, (int64) desc->max);
			break;
		case RECO_OPTION_REAL:
			*(float *) RECO_OPTION_FIELD(out, desc) =
				RecoOptionReal(key, value, desc->min, desc->max, !desc->min_exclusive);
			break;
		case RECO_OPTION_WORD:
			word = RecoOptionWord(key, value, desc->words, desc->noun);
			*(int *) RECO_OPTION_FIELD(out, desc) = word;
			break;
		case RECO_OPTION_TEXT:
			*(char **) RECO_OPTION_FIELD(out, desc) =
				RecoOptionString(key, value, strcmp(key, "source") == 0 ? "a table, view or query" : "a column name");
			break;
		case RECO_OPTION_INTERVAL:
			*(Interval **) RECO_OPTION_FIELD(out, desc) = RecoOptionInterval(key, value);
			break;
		case RECO_OPTION_TIMESTAMPTZ:
			*(TimestampTz *) RECO_OPTION_FIELD(out, desc) = RecoOptionTimestamptz(key, value);
			break;
		case RECO_OPTION_SOURCES:
			*(List **) RECO_OPTION_FIELD(out, desc) = RecoOptionSources(key, value);
			break;
	}
	return (int) (desc - reco_train_options);
}

/*
 * Whether option desc is given in options; the options that are always in
 * effect (numbers, words) always are, but one that goes with features
 * (feature_regularization) only when some feature source is given.
 */
static bool
RecoOptionGiven(const RecoOptionDesc *desc, const RecoTrainOptions *options)
{
	switch (desc->kind)
	{
		case RECO_OPTION_TEXT:
		case RECO_OPTION_INTERVAL:
			return *(void *const *) RECO_OPTION_FIELD(options, desc) != NULL;
		case RECO_OPTION_TIMESTAMPTZ:
			return *(const TimestampTz *) RECO_OPTION_FIELD(options, desc) != RECO_AS_OF_NEWEST;
		case RECO_OPTION_SOURCES:
			return *(List *const *) RECO_OPTION_FIELD(options, desc) != NIL;
		default:
			return !desc->with_features || options->item_features != NIL || options->user_features != NIL;
	}
}

/*
 * Errors out (22023) if factors is more than the chosen algorithm's stored
 * vectors allow: als stores k + RECO_EXPLICIT_STORED_EXTRA floats, bpr k + 1
 * (the item bias), and reco.models.factors is at most RECO_MAX_FACTORS.
 * Checked with the other options so that reco.tune refuses a grid before
 * any trial trains, not at the trial that reaches the algorithm.
 */
static void
RecoCheckAlgorithmFactors(const RecoTrainOptions *options)
{
	if (options->algorithm == RECO_ALGORITHM_ALS &&
		options->factors > RECO_MAX_FACTORS - RECO_EXPLICIT_STORED_EXTRA)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"factors\" must be at most %d for algorithm \"als\"",
						RECO_MAX_FACTORS - RECO_EXPLICIT_STORED_EXTRA),
				 errdetail("An explicit model stores k + %d floats per vector (the biases and the mean rating).",
						   RECO_EXPLICIT_STORED_EXTRA)));
	if (options->algorithm == RECO_ALGORITHM_BPR && options->factors >= RECO_MAX_FACTORS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"factors\" must be at most %d for algorithm \"bpr\"", RECO_MAX_FACTORS - 1),
				 errdetail("A bpr model stores k + 1 floats per vector (the item bias), at most %d.", RECO_MAX_FACTORS)));
}

/*
 * Errors out (22023) if feature_mapping "prior" cannot apply: it regularizes
 * the item factors of ials toward the item mapping, so it needs algorithm
 * "ials" and item_features.
 */
static void
RecoCheckFeatureMapping(const RecoTrainOptions *options)
{
	if (options->feature_mapping != RECO_FEATURE_MAPPING_PRIOR)
		return;
	if (options->algorithm != RECO_ALGORITHM_IALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature_mapping \"prior\" needs algorithm \"ials\", not \"%s\"",
						RecoAlgorithmName(options->algorithm)),
				 errhint("Use feature_mapping \"ridge\" (the default): it maps features to the factors of any algorithm.")));
	if (options->item_features == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature_mapping \"prior\" needs item_features"),
				 errhint("The prior regularizes each item's factors toward the mapping of its features; user features use the ridge mapping.")));
}

/*
 * Parses reco.fit's options object (NULL = all defaults) into *out; the ids
 * are of default_id_type (the aggregate's: bigint or text) unless
 * user_id_type or item_id_type say otherwise.  An option left out (or JSON
 * null) takes the chosen algorithm's default; one given for an algorithm it
 * does not apply to is an error (22023), and so are more factors than the
 * algorithm's stored vectors allow (RecoCheckAlgorithmFactors) and a time
 * decay for algorithm "als" (a rating does not fade by being old): refused
 * here, reco.tune's pre-check refuses them before any trial trains.
 */
void
RecoParseTrainOptions(Jsonb *options, RecoIdType default_id_type, RecoTrainOptions *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	char	   *key = NULL;
	bool		given[RECO_N_TRAIN_OPTIONS] = {0};
	int			i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < RECO_N_TRAIN_OPTIONS; i++)
		RecoSetDefaultOption(&reco_train_options[i], RECO_ALGORITHM_IALS, out);
	out->user_id_type = out->item_id_type = default_id_type;
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a jsonb object"),
				 errhint("The options are: %s.", RecoOptionKeys())));
	it = JsonbIteratorInit(&options->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (token == WJB_VALUE)
		{
			if (v.type == jbvNull)
				continue;		/* a JSON null means "the default" */
			given[RecoApplyOption(key, &v, out)] = true;
		}
	}
	for (i = 0; i < RECO_N_TRAIN_OPTIONS; i++)
	{
		const RecoOptionDesc *desc = &reco_train_options[i];

		if (given[i] && !RecoOptionApplies(desc, out->algorithm))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" does not apply to algorithm \"%s\"",
							desc->name, RecoAlgorithmName(out->algorithm)),
					 errhint("\"%s\" is an option of: %s.", desc->name, RecoOptionAlgorithms(desc))));
		if (!given[i] && desc->per_algorithm)
			RecoSetDefaultOption(desc, out->algorithm, out);
		/* the prior by default where it applies (ials, item features), else the ridge */
		if (!given[i] && desc->field == RECO_FIELD(feature_mapping) &&
			out->algorithm == RECO_ALGORITHM_IALS && out->item_features != NIL)
			out->feature_mapping = RECO_DEFAULT_FEATURE_MAPPING;
	}
	RecoCheckAlgorithmFactors(out);
	for (i = 0; i < RECO_N_TRAIN_OPTIONS; i++)
		if (given[i] && reco_train_options[i].with_features && !RecoOptionGiven(&reco_train_options[i], out))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" needs item_features or user_features", reco_train_options[i].name),
					 errhint(strcmp(reco_train_options[i].name, "feature_regularization") == 0 ?
							 "It is the penalty of the mapping from features to factors: pass the feature sources too." :
							 "It says how the mapping from features to factors is learned: pass the feature sources too.")));
	RecoCheckFeatureMapping(out);
	if (out->algorithm == RECO_ALGORITHM_ALS &&
		(out->time_col != NULL || out->half_life != NULL || out->as_of != RECO_AS_OF_NEWEST))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"als\" takes no event time"),
				 errhint("Ratings are not decayed: train without the event time and half_life.")));
}

/* Appends an interval as a JSON string in the postgres style ("90 days"). */
static void
RecoAppendIntervalJson(StringInfo buf, const Interval *interval)
{
	struct pg_itm itm;
	char		text[MAXDATELEN + 1];

	interval2itm(*interval, &itm);
	EncodeInterval(&itm, INTSTYLE_POSTGRES, text);
	escape_json(buf, text);
}

/* Appends a finite timestamptz as a JSON string in ISO 8601, in UTC ("2025-06-30T00:00:00+00:00"). */
static void
RecoAppendTimestamptzJson(StringInfo buf, TimestampTz time)
{
	char		text[MAXDATELEN + 1];
	int			utc = 0;

	JsonEncodeDateTime(text, TimestampTzGetDatum(time), TIMESTAMPTZOID, &utc);
	escape_json(buf, text);
}

/* Appends a list of sources as a JSON array of strings. */
static void
RecoAppendSourcesJson(StringInfo buf, const List *sources)
{
	ListCell   *cell;

	appendStringInfoChar(buf, '[');
	foreach(cell, sources)
	{
		if (foreach_current_index(cell) > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, (const char *) lfirst(cell));
	}
	appendStringInfoChar(buf, ']');
}

/*
 * Renders every stored option in effect as a JSON object text (for
 * reco.models.params); options not given (time_col, half_life, as_of) and
 * options of other algorithms are left out.  An interval is written in the postgres style ("90 days"), a
 * timestamptz in ISO 8601 in UTC, whatever the session's styles and zone.
 */
char *
RecoTrainOptionsToJson(const RecoTrainOptions *options)
{
	StringInfoData buf;
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < RECO_N_TRAIN_OPTIONS; i++)
	{
		const RecoOptionDesc *desc = &reco_train_options[i];
		char		real[FLOAT_SHORTEST_DECIMAL_LEN];

		if (!desc->stored || !RecoOptionGiven(desc, options) || !RecoOptionApplies(desc, options->algorithm))
			continue;
		appendStringInfo(&buf, "%s\"%s\": ", first ? "" : ", ", desc->name);
		first = false;
		switch (desc->kind)
		{
			case RECO_OPTION_INT:
				appendStringInfo(&buf, "%d", *(const int *) RECO_OPTION_FIELD(options, desc));
				break;
			case RECO_OPTION_INT64:
				appendStringInfo(&buf, INT64_FORMAT, *(const int64 *) RECO_OPTION_FIELD(options, desc));
				break;
			case RECO_OPTION_REAL:
				float_to_shortest_decimal_buf(*(const float *) RECO_OPTION_FIELD(options, desc), real);
				appendStringInfoString(&buf, real);
				break;
			case RECO_OPTION_WORD:
				appendStringInfo(&buf, "\"%s\"", RecoOptionWordValue(desc, options));
				break;
			case RECO_OPTION_TEXT:
				escape_json(&buf, *(char *const *) RECO_OPTION_FIELD(options, desc));
				break;
			case RECO_OPTION_INTERVAL:
				RecoAppendIntervalJson(&buf, *(Interval *const *) RECO_OPTION_FIELD(options, desc));
				break;
			case RECO_OPTION_TIMESTAMPTZ:
				RecoAppendTimestamptzJson(&buf, *(const TimestampTz *) RECO_OPTION_FIELD(options, desc));
				break;
			case RECO_OPTION_SOURCES:
				RecoAppendSourcesJson(&buf, *(List *const *) RECO_OPTION_FIELD(options, desc));
				break;
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The kernel's configuration of a training with these options (threads resolved). */
void
RecoAlsConfigFromOptions(const RecoTrainOptions *options, RecoAlsConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->factors = options->factors;
	cfg->regularization = options->regularization;
	cfg->alpha = options->alpha;
	cfg->cg_steps = options->cg_steps;
	cfg->solver = options->solver;
	cfg->threads = RecoEffectiveThreads(options->threads);
	cfg->reg_exponent = options->reg_exponent;
	cfg->unobserved_weight = options->unobserved_weight;
}

/* The word of an algorithm ("ials", "als", "bpr"), as reco.models.algorithm stores it. */
const char *
RecoAlgorithmName(RecoAlgorithm algorithm)
{
	return reco_algorithm_words[algorithm];
}

/* Reads a stored algorithm word; false if it is none of them. */
bool
RecoParseAlgorithm(const char *name, RecoAlgorithm *out)
{
	int			i;

	for (i = 0; reco_algorithm_words[i] != NULL; i++)
		if (strcmp(reco_algorithm_words[i], name) == 0)
		{
			*out = (RecoAlgorithm) i;
			return true;
		}
	return false;
}
