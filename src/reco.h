/*-------------------------------------------------------------------------
 *
 * reco.h
 *	  Settings (GUCs) and small helpers shared by every part of reco.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_H
#define RECO_H

#include "postgres.h"

#include "als.h"
#include "reco_limits.h"


/* GUC values (see _PG_init in reco.c). */
extern int	reco_threads;		/* 0 = number of online cores */
extern int	reco_max_memory_kb; /* training memory budget */
extern int	reco_cache_size_kb; /* per-backend factor cache bound */
extern char *reco_model;		/* default model of the short recommend() */

extern int	RecoEffectiveThreads(int requested);
extern void RecoCheckModelName(const char *name);
extern bool RecoInterruptPending(void *arg);
extern void RecoReportKernelStatus(RecoStatus status, const char *work);

#endif							/* RECO_H */
