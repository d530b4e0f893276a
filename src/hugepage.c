/*-------------------------------------------------------------------------
 *
 * hugepage.c
 *	  Asks for transparent huge pages on the big arrays a training reads at
 *	  random; maps the pages of growing arrays ahead of their writer.
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
 * The prefault thread: the read of a training appends rows to arrays that
 * grow (or are reserved, interactions.c), and the first write to each of
 * their pages is a page fault (a fifth of the read's time at 10M rows on
 * 4 kB pages; on huge pages, zeroing 2 MB at a time).  While the backend
 * reads, a thread of its own maps the pages of the next rows ahead of it
 * with madvise(MADV_POPULATE_WRITE), on the other core: populating
 * changes no byte (a page already written keeps its contents), so the
 * thread never races the writer's data.  It maps only while it holds the
 * lock, and the writer takes the lock to say its arrays are about to move
 * (repalloc), so it never maps a range the arrays left.  Where the kernel
 * lacks MADV_POPULATE_WRITE (before Linux 5.14) the madvise fails and the
 * writer faults its pages itself, as without the thread.
 *
 * The same thread, when it has no rows to map, reads one byte of every page
 * of a range it is given (RecoPrefaultTouch): the training's store later
 * writes its rows through PostgreSQL's shared buffers, and each backend
 * faults every page of the pool it touches for the first time (the pool is
 * one shared mapping, and a new backend's page tables hold none of it).  A
 * read fault on a shared mapping maps the page writable, so the store
 * finds its buffers mapped.  Reading changes no byte (a relaxed atomic
 * load of a byte others may be writing) and holds no lock while it reads
 * (it takes the range's base under its own lock): the range is the pool's,
 * which never moves.  MADV_POPULATE_WRITE is not used there:
 * on a hypervisor that keeps shadow page tables (this project's VM) the
 * first access of each page still traps after it, while a read by the
 * thread fills them for the whole process.
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE			/* madvise, MADV_HUGEPAGE */
#endif

#include "hugepage.h"
#include "parallel.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "reco_limits.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14; older kernels answer EINVAL */
#endif

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

/* A prefault thread: the arrays it maps (their elements [done, min(target, capacity))) and its lock. */
struct RecoPrefault
{
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char	   *bases[RECO_PREFAULT_MAX_ARRAYS];	/* under lock */
	size_t		elem_sizes[RECO_PREFAULT_MAX_ARRAYS];
	int			n_arrays;		/* under lock; 0 while the arrays move */
	int64_t		capacity;		/* under lock: elements allocated */
	int64_t		done;			/* under lock: elements mapped (or written) */
	int64_t		target;			/* atomic: the writer's count + RECO_PREFAULT_AHEAD_ROWS */
	bool		stop;			/* under lock */
	bool		failed;			/* under lock: the kernel refused; map nothing more */
	const char *touch_base;		/* under lock: the range read when idle (RecoPrefaultTouch) */
	size_t		touch_bytes;	/* under lock */
	size_t		touch_done;		/* under lock: bytes of the range read */
};

/* Maps elements [from, to) of every array; false if the kernel refuses MADV_POPULATE_WRITE. */
static bool
RecoPrefaultMap(RecoPrefault *pf, int64_t from, int64_t to)
{
	uintptr_t	page = (uintptr_t) sysconf(_SC_PAGESIZE);
	int			a;

	for (a = 0; a < pf->n_arrays; a++)
	{
		uintptr_t	start = (uintptr_t) pf->bases[a] + (uintptr_t) from * pf->elem_sizes[a];
		uintptr_t	end = (uintptr_t) pf->bases[a] + (uintptr_t) to * pf->elem_sizes[a];

		start &= ~(page - 1);
		if (end > start && madvise((void *) start, end - start, MADV_POPULATE_WRITE) != 0 &&
			(errno == EINVAL || errno == EPERM))
			return false;
	}
	return true;
}

/* Reads one byte of every page of [start, end) (their first page aligned down): maps them into this process. */
static void
RecoPrefaultRead(const char *start, const char *end)
{
	uintptr_t	page = (uintptr_t) sysconf(_SC_PAGESIZE);
	uintptr_t	p;

	for (p = (uintptr_t) start & ~(page - 1); p < (uintptr_t) end; p += page)
		(void) __atomic_load_n((const volatile char *) p, __ATOMIC_RELAXED);
}

/*
 * Reads the next RECO_PREFAULT_TOUCH_STEP_BYTES of the touch range without
 * holding the lock (called and returning with it held); false if none is left.
 */
static bool
RecoPrefaultTouchStep(RecoPrefault *pf)
{
	const char *base = pf->touch_base;	/* RecoPrefaultTouch may replace it once unlocked */
	size_t		from = pf->touch_done;
	size_t		to = from + RECO_PREFAULT_TOUCH_STEP_BYTES;

	if (from >= pf->touch_bytes)
		return false;
	if (to > pf->touch_bytes)
		to = pf->touch_bytes;
	pf->touch_done = to;
	pthread_mutex_unlock(&pf->lock);
	RecoPrefaultRead(base + from, base + to);
	pthread_mutex_lock(&pf->lock);
	return true;
}

/*
 * The thread: maps the next RECO_PREFAULT_STEP_ROWS elements at a time up to
 * the target; with none to map, reads a step of the touch range, else sleeps 1 ms.
 */
static void *
RecoPrefaultMain(void *arg)
{
	RecoPrefault *pf = arg;

	pthread_mutex_lock(&pf->lock);
	while (!pf->stop)
	{
		int64_t		target = __atomic_load_n(&pf->target, __ATOMIC_RELAXED);
		int64_t		end = target < pf->capacity ? target : pf->capacity;

		if ((pf->n_arrays == 0 || pf->failed || pf->done >= end) && RecoPrefaultTouchStep(pf))
			continue;
		if (pf->n_arrays == 0 || pf->failed || pf->done >= end)
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 1000 * 1000;
			if (until.tv_nsec >= 1000 * 1000 * 1000)
			{
				until.tv_sec++;
				until.tv_nsec -= 1000 * 1000 * 1000;
			}
			pthread_cond_timedwait(&pf->wake, &pf->lock, &until);
			continue;
		}
		if (end > pf->done + RECO_PREFAULT_STEP_ROWS)
			end = pf->done + RECO_PREFAULT_STEP_ROWS;
		if (!RecoPrefaultMap(pf, pf->done, end))
			pf->failed = true;
		pf->done = end;
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/*
 * Starts a prefault thread with no arrays; NULL if it cannot (no memory, no
 * thread): the writer then faults its pages itself.
 */
RecoPrefault *
RecoPrefaultStart(void)
{
	RecoPrefault *pf = calloc(1, sizeof(RecoPrefault));

	if (pf == NULL)
		return NULL;
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->wake, NULL);
	if (RecoThreadCreate(&pf->thread, RecoPrefaultMain, pf) != 0)
	{
		pthread_cond_destroy(&pf->wake);
		pthread_mutex_destroy(&pf->lock);
		free(pf);
		return NULL;
	}
	return pf;
}

/*
 * (Re)describes the arrays the thread maps: n_arrays arrays of `capacity`
 * elements (elem_sizes[a] bytes each) at bases[a], the first `count`
 * already written.  n_arrays 0 before the arrays move or are freed: when
 * this returns, the thread maps none of them until described again.
 */
void
RecoPrefaultArrays(RecoPrefault *pf, void *const *bases, const size_t *elem_sizes, int n_arrays,
				   int64_t capacity, int64_t count)
{
	int			a;

	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->n_arrays = n_arrays < RECO_PREFAULT_MAX_ARRAYS ? n_arrays : RECO_PREFAULT_MAX_ARRAYS;
	for (a = 0; a < pf->n_arrays; a++)
	{
		pf->bases[a] = bases[a];
		pf->elem_sizes[a] = elem_sizes[a];
	}
	pf->capacity = capacity;
	pf->done = count;			/* a moved array's old pages may not have come along */
	pthread_mutex_unlock(&pf->lock);
}

/* The writer has written `count` elements: the thread maps up to RECO_PREFAULT_AHEAD_ROWS beyond (lock-free). */
void
RecoPrefaultAdvance(RecoPrefault *pf, int64_t count)
{
	if (pf != NULL)
		__atomic_store_n(&pf->target, count + RECO_PREFAULT_AHEAD_ROWS, __ATOMIC_RELAXED);
}

/*
 * Gives the thread a range to read one byte a page of whenever it has no
 * rows to map (replacing any earlier range): memory shared with other
 * processes that never moves while the thread runs (PostgreSQL's buffer
 * pool), which this process is about to write.  Changes no byte.  Does not
 * wait for a step of the earlier range under way, so that range must stay
 * mapped while the thread runs (the pool does).
 */
void
RecoPrefaultTouch(RecoPrefault *pf, const void *base, size_t bytes)
{
	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->touch_base = base;
	pf->touch_bytes = base != NULL ? bytes : 0;
	pf->touch_done = 0;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
}

/* Stops and joins the thread and frees it (NULL: nothing). */
void
RecoPrefaultStop(RecoPrefault *pf)
{
	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	pthread_cond_destroy(&pf->wake);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}
