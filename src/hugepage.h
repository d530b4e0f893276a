/*-------------------------------------------------------------------------
 *
 * hugepage.h
 *	  Transparent-huge-page advice for big arrays read at random, and a
 *	  thread that maps the pages of growing arrays ahead of their writer
 *	  (pure C, no PostgreSQL header: the kernels and the benchmarks use it
 *	  too).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_HUGEPAGE_H
#define RECO_HUGEPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern bool RecoAdviseHugePages(void *p, size_t bytes);
extern size_t RecoHugePagesSpan(const void *p, size_t bytes);

/* Arrays a prefault thread maps ahead of their writer. */
#define RECO_PREFAULT_MAX_ARRAYS 4

/* A prefault thread and the arrays it maps (opaque). */
typedef struct RecoPrefault RecoPrefault;

extern RecoPrefault *RecoPrefaultStart(void);
extern void RecoPrefaultArrays(RecoPrefault *pf, void *const *bases, const size_t *elem_sizes, int n_arrays,
							   int64_t capacity, int64_t count);
extern void RecoPrefaultAdvance(RecoPrefault *pf, int64_t count);
extern void RecoPrefaultTouch(RecoPrefault *pf, const void *base, size_t bytes);
extern void RecoPrefaultStop(RecoPrefault *pf);

#endif							/* RECO_HUGEPAGE_H */
