/*-------------------------------------------------------------------------
 *
 * test_hugepage.c
 *	  Standalone TAP unit tests of the huge-page advice (src/hugepage.c):
 *	  the span of whole 2 MB pages inside an array (aligned, misaligned,
 *	  too small, NULL), advice that the kernel refuses (an unmapped range)
 *	  or that THP disabled for the process makes void, and that advised
 *	  memory keeps every value written to it; an exact solve of a few
 *	  rows over a large fixed side (a one-user refresh) does not fault in a
 *	  whole huge page for each of the few Z rows it computes.  The prefault
 *	  thread: it stops with no arrays, maps the pages ahead of the writer
 *	  (and not the whole array), and arrays written while it maps, moved
 *	  by realloc and freed after a pause hold exactly what was written.
 *	  Its touch range (RecoPrefaultTouch): a shared mapping whose pages
 *	  this process had not mapped gets every page of the range mapped
 *	  (those far past it not), every byte unchanged, and then written by
 *	  another thread without a page fault.
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
#include <sys/resource.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "als.h"
#include "hugepage.h"
#include "reco_limits.h"
#include "tap.h"

#define TEST_PLAN 25

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

/* Peak resident set so far, in kB. */
static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* True if THP is "always" (every large anonymous range huge, advised or not). */
static bool
thp_always(void)
{
	char		line[200] = "";
	FILE	   *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f != NULL)
	{
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	return strstr(line, "[always]") != NULL;
}

/*
 * A Cholesky solve of one row of 64 entries spread over 1M fixed rows
 * (k = 16: a 64 MB Z of which the solve computes 64 rows, RecoUsedColumns)
 * must not grow the peak RSS by a huge page per computed Z row (~64 MB).
 */
static void
test_sparse_z(void)
{
	int			k = 16;
	int64_t		nf = 1000000,
				i;
	float	   *F = malloc(sizeof(float) * nf * k);
	float		gram[16 * 16],
				x[16],
				w[64];
	int64_t		ip[2] = {0, 64};
	int32_t		ix[64];
	RecoSparse	s = {1, nf, ip, ix, w};
	RecoAlsConfig cfg = {k, 0.1f, 2.0f, 3, RECO_SOLVER_CHOLESKY, 1, 0.0f, 1.0f, RECO_CG_VECTORS_AUTO};
	RecoStatus	st;
	long		before,
				grown;

	for (i = 0; i < nf * k; i++)
		F[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	RecoAlsGram(F, nf, k, gram);
	for (i = 0; i < 64; i++)
	{
		ix[i] = (int32_t) (i * nf / 64);
		w[i] = 1.0f;
	}
	before = peak_rss_kb();
	st = RecoAlsSolveRowsExact(&s, gram, F, x, &cfg, NULL);
	grown = peak_rss_kb() - before;
	printf("# peak RSS growth of the sparse-Z solve: %ld kB\n", grown);
	if (thp_always())
		ok(st == RECO_STATUS_OK, "sparse Z: solved (# SKIP RSS check: THP is always, huge pages unasked)");
	else
		ok(st == RECO_STATUS_OK && grown < 8 * 1024,
		   "one row over 1M fixed rows: the few Z rows computed are not advised to huge pages (peak RSS grows < 8 MB)");
	free(F);
}

/* Whether the page holding p is resident (mincore). */
static bool
page_resident(const void *p)
{
	uintptr_t	page = (uintptr_t) sysconf(_SC_PAGESIZE);
	unsigned char vec = 0;

	return mincore((void *) ((uintptr_t) p & ~(page - 1)), 1, &vec) == 0 && (vec & 1) != 0;
}

/*
 * A writer appending rows to three arrays that double by realloc (as the
 * read's RecoRowsGrow), telling the prefault thread where they are and how
 * far it wrote; true if every value reads back exactly.
 */
static bool
prefault_writer_exact(RecoPrefault *pf, int64_t rows)
{
	int64_t		capacity = 4096,
				r;
	int64_t    *users = malloc(sizeof(int64_t) * capacity);
	int64_t    *items = malloc(sizeof(int64_t) * capacity);
	float	   *weights = malloc(sizeof(float) * capacity);
	size_t		sizes[3] = {sizeof(int64_t), sizeof(int64_t), sizeof(float)};
	bool		exact = true;

	for (r = 0; r < rows; r++)
	{
		if (r == capacity)
		{
			void	   *bases[3];

			RecoPrefaultArrays(pf, NULL, NULL, 0, 0, 0);
			capacity *= 2;
			users = realloc(users, sizeof(int64_t) * capacity);
			items = realloc(items, sizeof(int64_t) * capacity);
			weights = realloc(weights, sizeof(float) * capacity);
			bases[0] = users;
			bases[1] = items;
			bases[2] = weights;
			RecoPrefaultArrays(pf, bases, sizes, 3, capacity, r);
		}
		users[r] = r * 7 + 1;
		items[r] = -r;
		weights[r] = (float) (r % 1000) * 0.5f;
		if ((r & 65535) == 0)
			RecoPrefaultAdvance(pf, r);
	}
	RecoPrefaultArrays(pf, NULL, NULL, 0, 0, 0);
	for (r = 0; r < rows && exact; r++)
		exact = users[r] == r * 7 + 1 && items[r] == -r && weights[r] == (float) (r % 1000) * 0.5f;
	{
		void	   *arrays[3] = {users, items, weights};

		for (r = 0; r < 3; r++)
			free(arrays[r]);
	}
	return exact;
}

/* The prefault thread (RecoPrefaultStart ... Stop). */
static void
test_prefault(void)
{
	RecoPrefault *pf = RecoPrefaultStart();
	size_t		n = 64 * MB / sizeof(int64_t);
	int64_t    *a = mmap(NULL, n * sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void	   *bases[1] = {a};
	size_t		sizes[1] = {sizeof(int64_t)};
	bool		ahead = false;
	int			tries;

	ok(pf != NULL, "a prefault thread starts");
	RecoPrefaultStop(pf);
	RecoPrefaultStop(NULL);
	ok(true, "a thread with no arrays stops; stopping NULL does nothing");

	/* the writer at 0 of a 64 MB array: the pages of the next AHEAD_ROWS rows get mapped, not the array's end */
	pf = RecoPrefaultStart();
	madvise(a, n * sizeof(int64_t), MADV_NOHUGEPAGE);	/* 4 kB pages whatever THP's mode */
	RecoPrefaultArrays(pf, bases, sizes, 1, (int64_t) n, 0);
	RecoPrefaultAdvance(pf, 0);
	for (tries = 0; tries < 10000 && !ahead; tries++)
	{
		struct timespec ms = {0, 1000 * 1000};

		ahead = page_resident(&a[0]) && page_resident(&a[RECO_PREFAULT_AHEAD_ROWS - 1]);
		if (!ahead)
			nanosleep(&ms, NULL);
	}
	ok(ahead && !page_resident(&a[n - 1]),
	   "the rows up to AHEAD_ROWS beyond the writer are mapped within 10 s, the array's end is not");

	/* paused, the array may go */
	RecoPrefaultArrays(pf, NULL, NULL, 0, 0, 0);
	ok(munmap(a, n * sizeof(int64_t)) == 0, "paused, the thread lets its array be unmapped");

	/* 3M rows through 10 reallocs while the thread maps ahead */
	ok(prefault_writer_exact(pf, 3 * 1000 * 1000 + 17), "3M rows written while mapped ahead and moved by realloc read back exactly");
	RecoPrefaultStop(pf);
}

/* Pages of [p, p + bytes) mapped in this process (/proc/self/pagemap's present bit); -1 if unreadable. */
static long
pages_present(const void *p, size_t bytes)
{
	uintptr_t	page = (uintptr_t) sysconf(_SC_PAGESIZE);
	uintptr_t	a;
	long		n = 0;
	int			fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -1;
	for (a = (uintptr_t) p & ~(page - 1); a < (uintptr_t) p + bytes; a += page)
	{
		uint64_t	entry;

		if (pread(fd, &entry, sizeof(entry), (off_t) (a / page * sizeof(entry))) != sizeof(entry))
		{
			close(fd);
			return -1;
		}
		n += (long) (entry >> 63);
	}
	close(fd);
	return n;
}

/* Minor page faults of the calling thread so far. */
static long
thread_minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

/*
 * The touch range: 8 MB of a shared mapping holding a pattern, its pages
 * unmapped from this process (MADV_DONTNEED keeps a shared page's bytes);
 * the thread is given 6 MB of it from an unaligned start.
 */
static void
test_prefault_touch(void)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	size_t		bytes = 8 * MB;
	size_t		from = 100;
	size_t		len = 6 * MB - from;
	unsigned char *shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	RecoPrefault *pf;
	bool		same = true;
	long		range_pages = (long) ((from + len + page - 1) / page);
	long		faults;
	size_t		i;
	int			tries;

	for (i = 0; i < bytes; i++)
		shared[i] = (unsigned char) (i * 7 + 3);
	if (pages_present(shared, bytes) < 0)
	{
		/* the test reads /proc/self/pagemap, which some containers hide */
		for (tries = 0; tries < 7; tries++)
			ok(1, "# SKIP /proc/self/pagemap is not readable");
		munmap(shared, bytes);
		return;
	}
	ok(madvise(shared, bytes, MADV_DONTNEED) == 0 && pages_present(shared, bytes) == 0,
	   "a shared 8 MB holding a pattern, none of its pages mapped in this process");

	pf = RecoPrefaultStart();
	RecoPrefaultTouch(pf, NULL, bytes);
	RecoPrefaultTouch(pf, shared + from, len);
	for (tries = 0; tries < 10000 && pages_present(shared, from + len) < range_pages; tries++)
	{
		struct timespec ms = {0, 1000 * 1000};

		nanosleep(&ms, NULL);
	}
	ok(pages_present(shared, from + len) == range_pages,
	   "every page of the range (its first aligned down) is mapped within 10 s");
	ok(pages_present(shared + from + len + 64 * 1024, bytes - from - len - 64 * 1024) == 0,
	   "no page beyond the range and a fault-around window (64 kB) is mapped");
	for (i = 0; i < bytes; i++)
		same &= shared[i] == (unsigned char) (i * 7 + 3);
	ok(same, "every byte reads back unchanged");

	/* the pages it mapped are written with no page fault */
	faults = thread_minor_faults();
	for (i = from; i < from + len; i += page)
		shared[i] = 1;
	ok(thread_minor_faults() - faults == 0, "writing a byte of every page of the range: 0 page faults");
	RecoPrefaultStop(pf);

	/* stopped while (or before) touching a range larger than it reads at once */
	ok(madvise(shared, bytes, MADV_DONTNEED) == 0 && pages_present(shared, bytes) == 0,
	   "unmapped again");
	pf = RecoPrefaultStart();
	RecoPrefaultTouch(pf, shared, bytes);
	RecoPrefaultStop(pf);
	same = shared[from] == 1 && shared[bytes - 1] == (unsigned char) ((bytes - 1) * 7 + 3);
	ok(same && munmap(shared, bytes) == 0, "stopped during or before a range: the bytes are the same, the mapping goes");
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

	/* first of the allocating tests: the peak RSS before it is the fixed side's */
	test_sparse_z();

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

	test_prefault();
	test_prefault_touch();

	/* THP disabled for the process: the advice changes nothing, values still exact */
	ok(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0, "THP disabled for this process");
	a = malloc(n * sizeof(float));
	ok(a != NULL && pattern_survives(a, n, true), "with THP disabled, advised memory still reads back exactly");
	free(a);

	return tap_exit_status(TEST_PLAN);
}
