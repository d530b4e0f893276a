/*-------------------------------------------------------------------------
 *
 * decay.h
 *	  Time decay of training weights: one event's weight at a given age.
 *
 * Pure C (no PostgreSQL header): training (train.c) and any code that reads
 * events again (a refresh) call the same function, so a weight decays the
 * same way everywhere.  Times are microseconds (TimestampTz), the half-life
 * is in seconds; the arithmetic is double and the result is rounded to the
 * float weight once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_DECAY_H
#define RECO_DECAY_H

#include <math.h>
#include <stdint.h>

/* Microseconds per second, for ages in microseconds and half-lives in seconds. */
#define RECO_DECAY_USECS_PER_SEC 1000000.0

/* weight * 2^(-age / half_life), age = as_of - event_time (microseconds, >= 0), half_life in seconds (> 0). */
static inline float
RecoDecayWeight(float weight, int64_t event_time, int64_t as_of, double half_life_seconds)
{
	double		age_seconds = (double) (as_of - event_time) / RECO_DECAY_USECS_PER_SEC;

	return (float) ((double) weight * exp2(-age_seconds / half_life_seconds));
}

#endif							/* RECO_DECAY_H */
