/*-------------------------------------------------------------------------
 *
 * hugepage.h
 *	  Transparent-huge-page advice for big arrays read at random (pure C,
 *	  no PostgreSQL header: the kernels and the benchmarks use it too).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_HUGEPAGE_H
#define RECO_HUGEPAGE_H

#include <stdbool.h>
#include <stddef.h>

extern bool RecoAdviseHugePages(void *p, size_t bytes);
extern size_t RecoHugePagesSpan(const void *p, size_t bytes);

#endif							/* RECO_HUGEPAGE_H */
