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
extern int	reco_progress;		/* a RecoProgress: what reco.fit reports */

/* Values of reco.progress: the NOTICEs a training sends. */
typedef enum RecoProgress
{
	RECO_PROGRESS_NONE,			/* none */
	RECO_PROGRESS_SUMMARY,		/* one line per trained model, at the end */
	RECO_PROGRESS_ITERATIONS	/* one line per iteration, then the summary */
} RecoProgress;

extern int	RecoEffectiveThreads(int requested);
extern void RecoCheckModelName(const char *name);
extern bool RecoInterruptPending(void *arg);
extern void RecoReportKernelStatus(RecoStatus status, const char *work);

#endif							/* RECO_H */
