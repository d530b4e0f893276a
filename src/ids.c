/*-------------------------------------------------------------------------
 *
 * ids.c
 *	  User and item ids as the shop knows them: bigint, text or uuid (see
 *	  ids.h for how keys and codes are stored and how ids are read).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "ids.h"

/* The names of the id types, as params and error messages spell them. */
static const char *const RecoIdTypeNames[] = {"bigint", "text", "uuid"};

/* The SQL name of an id type. */
const char *
RecoIdTypeName(RecoIdType type)
{
	return RecoIdTypeNames[type];
}

/* Reads an id type's name; false if it is none of bigint, text, uuid. */
bool
RecoIdTypeFromName(const char *name, RecoIdType *type)
{
	int			i;

	for (i = 0; i < lengthof(RecoIdTypeNames); i++)
		if (strcmp(name, RecoIdTypeNames[i]) == 0)
		{
			*type = (RecoIdType) i;
			return true;
		}
	return false;
}

/*
 * The id type a value of SQL type `type` is: uuid is uuid, the string types
 * (text, varchar, char, name, and any type of the string category) are text,
 * everything else is read as bigint.
 */
RecoIdType
RecoIdTypeOfSqlType(Oid type)
{
	char		category;
	bool		preferred;

	if (type == UUIDOID)
		return RECO_ID_UUID;
	get_type_category_preferred(getBaseType(type), &category, &preferred);
	return category == TYPCATEGORY_STRING ? RECO_ID_TEXT : RECO_ID_BIGINT;
}

/*
 * The stored key of an id given as text for a text or uuid side: a uuid is
 * parsed (22P02 if it is not one) and written in canonical form; a text is
 * itself.  Returns a palloc'd string.
 */
char *
RecoIdKeyFromText(RecoIdType type, const char *text)
{
	Assert(type != RECO_ID_BIGINT);
	if (type == RECO_ID_UUID)
		return DatumGetCString(DirectFunctionCall1(uuid_out,
												   DirectFunctionCall1(uuid_in, CStringGetDatum(text))));
	return pstrdup(text);
}

/* An id given as text for a bigint side (22P02 or 22003 if it is not a bigint). */
int64
RecoIdBigintFromText(const char *text)
{
	return pg_strtoint64(text);
}

/* The text form of an id argument of any SQL type (its output function). */
char *
RecoIdDatumText(Datum value, Oid type)
{
	Oid			output;
	bool		varlena;

	if (type == TEXTOID || type == VARCHAROID)
		return TextDatumGetCString(value);
	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, value);
}

/* Key order: bytewise (as COLLATE "C"), a prefix before the longer key. */
int
RecoCompareKeys(const char *a, const char *b)
{
	return strcmp(a, b);
}
