/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  reco.training_progress: each training backend's phase in shared memory.
 *
 * When reco is in shared_preload_libraries, one slot per backend (written
 * only by its backend, read by any through reco.training_progress) says what
 * its training is doing.  Without preloading every call here does nothing
 * and the view is empty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_PROGRESS_H
#define RECO_PROGRESS_H

#include "postgres.h"

#include "utils/palloc.h"

/* What a training is doing (the view's phase column). */
typedef enum RecoTrainPhase
{
	RECO_TRAIN_PHASE_READING,	/* the aggregate reads its rows */
	RECO_TRAIN_PHASE_WAITING,	/* for another training of the same model name */
	RECO_TRAIN_PHASE_BUILDING,	/* id maps and sparse matrices */
	RECO_TRAIN_PHASE_ITERATING, /* the iterations */
	RECO_TRAIN_PHASE_FINAL_PASS,	/* the exact user solve */
	RECO_TRAIN_PHASE_STORING	/* factors and the reco.models row */
} RecoTrainPhase;

extern void RecoProgressShmemInit(void);
extern void RecoProgressBegin(const char *model, const char *algorithm, int iterations,
							  int64 rows_read, RecoTrainPhase phase);
extern void RecoProgressRows(int64 rows_read);
extern void RecoProgressPhase(RecoTrainPhase phase);
extern void RecoProgressIteration(int iteration);
extern void RecoProgressLoss(double loss);
extern void RecoProgressChunks(void *arg, int64_t done, int64_t total);
extern void RecoProgressClearOnReset(MemoryContext cxt);
extern void RecoProgressEnd(void);

#endif							/* RECO_PROGRESS_H */
