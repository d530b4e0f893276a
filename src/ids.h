/*-------------------------------------------------------------------------
 *
 * ids.h
 *	  User and item ids as the shop knows them: bigint, text or uuid.
 *
 * A model records the type of its user ids and of its item ids (params
 * user_id_type and item_id_type; absent means bigint).  On a bigint side the
 * stored id is the shop's id.  On a text or uuid side the stored id
 * (user_id, item_id, seen_items) is a code: the 1-based rank of the key in
 * the byte order of RecoCompareKeys, and the key itself is stored beside it
 * (user_key, item_key; a uuid in its canonical lower-case form).  After a
 * training ascending codes are therefore ascending keys, and ties broken by
 * code are broken by key.  reco.refresh_users / refresh_items give a new key
 * the side's highest code + 1, so from then on code order is not key order:
 * nothing relies on it, on either side (key lookups go through a key-order
 * permutation, store.h; a user is found by key through the index on
 * user_key; ties still break by code, so a refreshed-in key sorts last).
 *
 * Every id a serving function is given is read as the model's id type from
 * its text form: a bigint 15 on a text side is the key '15', the text '15'
 * on a bigint side is 15, a text on a uuid side must be a uuid (22P02).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_IDS_H
#define RECO_IDS_H

#include "postgres.h"

/* The type of a model's user ids or item ids. */
typedef enum RecoIdType
{
	RECO_ID_BIGINT = 0,
	RECO_ID_TEXT,
	RECO_ID_UUID
} RecoIdType;

extern const char *RecoIdTypeName(RecoIdType type);
extern bool RecoIdTypeFromName(const char *name, RecoIdType *type);
extern RecoIdType RecoIdTypeOfSqlType(Oid type);
extern char *RecoIdKeyFromText(RecoIdType type, const char *text);
extern int64 RecoIdBigintFromText(const char *text);
extern char *RecoIdDatumText(Datum value, Oid type);
extern int	RecoCompareKeys(const char *a, const char *b);

#endif							/* RECO_IDS_H */
