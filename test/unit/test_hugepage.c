/*-------------------------------------------------------------------------
 *
 * test_hugepage.c
 *	  Standalone TAP unit tests of the huge-page advice (src/hugepage.c):
 *	  the span of whole 2 MB pages inside an array (aligned, misaligned,
 *	  too small, NULL), advice that the kernel refuses (an unmapped range)
 *	  or that THP disabled for the process makes void, and that advised
 *	  memory keeps every value written to it.
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "hugepage.h"
#include "reco_limits.h"
#include "tap.h"

#define TEST_PLAN 12

#define MB ((size_t) 1024 * 1024)

/* Writes a pattern to n floats, advising first if asked; true if it reads back exactly. */
static bool
pattern_survives(float *v, size_t n, bool advise)
{
	size_t		i;

	if (advise)
		RecoAdviseHugePages(v, n * sizeof(float));
	for (i = 0; i < n; i++)
		v[i] = (float) (i % 1000003) * 0.25f - 7.0f;
	for (i = 0; i < n; i++)
		if (v[i] != (float) (i % 1000003) * 0.25f - 7.0f)
			return false;
	return true;
}

/* Runs the tests. */
int
main(void)
{
	char	   *base;
	void	   *gone;
	size_t		n = 24 * MB / sizeof(float);
	float	   *a,
			   *b;

	printf("1..%d\n", TEST_PLAN);

	/* the span: whole 2 MB pages only, nothing below the minimum */
	base = (char *) (uintptr_t) (64 * RECO_HUGE_PAGE_BYTES);	/* an aligned address, never dereferenced */
	ok(RecoHugePagesSpan(base, 16 * MB) == 16 * MB, "aligned 16 MB: 8 whole huge pages");
	ok(RecoHugePagesSpan(base + 1, 16 * MB) == 14 * MB, "misaligned by 1 byte: the 7 whole pages inside");
	ok(RecoHugePagesSpan(base + 4096, 16 * MB - 4096) == 14 * MB, "starts 4 kB in, ends on a boundary: 7 pages");
	ok(RecoHugePagesSpan(base, RECO_HUGE_PAGE_MIN_BYTES - 1) == 0, "below the minimum: no advice");
	ok(RecoHugePagesSpan(base, RECO_HUGE_PAGE_MIN_BYTES) == RECO_HUGE_PAGE_MIN_BYTES, "exactly the minimum, aligned: all of it");
	ok(RecoHugePagesSpan(NULL, 64 * MB) == 0, "NULL: no advice");
	ok(!RecoAdviseHugePages(base, 1 * MB), "a small array is not advised");

	/* refused advice (an unmapped range) is reported, not fatal */
	gone = mmap(NULL, 32 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(gone != MAP_FAILED && munmap(gone, 32 * MB) == 0 && !RecoAdviseHugePages(gone, 32 * MB),
	   "advice on an unmapped range fails quietly (false)");

	/* advised memory holds exactly what is written, advised or not */
	a = malloc(n * sizeof(float));
	b = malloc(n * sizeof(float));
	ok(a != NULL && pattern_survives(a, n, true), "24 MB advised before the first write: every value reads back");
	ok(b != NULL && pattern_survives(b, n, false), "24 MB not advised: every value reads back");
	free(a);
	free(b);

	/* THP disabled for the process: the advice changes nothing, values still exact */
	ok(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0, "THP disabled for this process");
	a = malloc(n * sizeof(float));
	ok(a != NULL && pattern_survives(a, n, true), "with THP disabled, advised memory still reads back exactly");
	free(a);

	return tap_exit_status(TEST_PLAN);
}
