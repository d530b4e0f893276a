/*-------------------------------------------------------------------------
 *
 * hugepage.c
 *	  Asks for transparent huge pages on the big arrays a training reads at
 *	  random.
 *
 * The iterations gather the other side's factor vectors through the sparse
 * rows at random: at 100M interactions the user factors alone are 512 MB,
 * and with 4 kB pages nearly every gathered vector misses the TLB.  Linux's
 * transparent huge pages in "madvise" mode (the common default) back only
 * the ranges a process advises with MADV_HUGEPAGE.  The advice covers the
 * whole 2 MB pages inside an allocation (the allocator's own block, e.g. a
 * malloc'ed mmap region), so it needs no extra memory and no special
 * allocator: the few kB before the first and after the last boundary keep
 * small pages.  It must come before the array is first written (a page
 * already faulted in as small pages is not merged now).  Advice is only a
 * hint: where the kernel has no THP, or refuses, the array keeps small pages
 * and everything works as before (the error is ignored).  It changes no
 * value, only the address translation.
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE			/* madvise, MADV_HUGEPAGE */
#endif

#include "hugepage.h"

#include <stdint.h>
#include <sys/mman.h>

#include "reco_limits.h"

/* First huge-page boundary at or after p. */
static uintptr_t
RecoHugeStart(const void *p)
{
	return ((uintptr_t) p + RECO_HUGE_PAGE_BYTES - 1) & ~(uintptr_t) (RECO_HUGE_PAGE_BYTES - 1);
}

/* Bytes of the whole huge pages inside [p, p + bytes) (0 below RECO_HUGE_PAGE_MIN_BYTES). */
size_t
RecoHugePagesSpan(const void *p, size_t bytes)
{
	uintptr_t	start = RecoHugeStart(p);
	uintptr_t	end = ((uintptr_t) p + bytes) & ~(uintptr_t) (RECO_HUGE_PAGE_BYTES - 1);

	if (p == NULL || bytes < RECO_HUGE_PAGE_MIN_BYTES || end <= start)
		return 0;
	return (size_t) (end - start);
}

/* Advises huge pages for the whole huge pages inside [p, p + bytes); true if the kernel took the advice. */
bool
RecoAdviseHugePages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	size_t		span = RecoHugePagesSpan(p, bytes);

	return span > 0 && madvise((void *) RecoHugeStart(p), span, MADV_HUGEPAGE) == 0;
#else
	(void) p;
	(void) bytes;
	return false;
#endif
}
