/*-------------------------------------------------------------------------
 *
 * model.h
 *	  The factor storage format: k float32 values, little-endian, no header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_MODEL_H
#define RECO_MODEL_H

#include "postgres.h"

#include "reco_limits.h"

/* Bytes of one stored factor: a little-endian IEEE float32. */
#define RECO_FACTOR_BYTES 4

extern bytea *RecoEncodeFactors(const float *values, int k);
extern void RecoDecodeFactors(const bytea *value, int k, float *out);

#endif							/* RECO_MODEL_H */
