/*-------------------------------------------------------------------------
 *
 * tap.h
 *	  TAP output, a deterministic random generator and a counting stop hook
 *	  shared by the kernel's standalone unit tests (test_als.c,
 *	  test_parallel.c).
 *
 * Static inline on purpose: each test program includes it once, and a test
 * that does not use a helper gets no unused-function warning.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_TEST_TAP_H
#define RECO_TEST_TAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static int	test_no = 0;
static int	test_failed = 0;

/* Prints one TAP line; returns cond. */
static inline int
ok(int cond, const char *name)
{
	test_no++;
	printf("%sok %d - %s\n", cond ? "" : "not ", test_no, name);
	if (!cond)
		test_failed++;
	fflush(stdout);
	return cond;
}

/* Prints a TAP diagnostic line. */
static inline void
diag(const char *msg, double value)
{
	printf("# %s: %.9g\n", msg, value);
}

/* Exit status of a test program that planned `plan` tests: 1 if any failed or the count is off. */
static inline int
tap_exit_status(int plan)
{
	if (test_no != plan)
		printf("# planned %d tests, ran %d\n", plan, test_no);
	return test_failed > 0 || test_no != plan ? 1 : 0;
}

/* Small deterministic generator (splitmix64). */
static uint64_t rng_state = 12345;

/* Next 64 random bits. */
static inline uint64_t
rnd(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double
rnd_uniform(void)
{
	return (double) (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* Hook state: counts polls, stops after `stop_after` polls (< 0: never), checks the thread. */
typedef struct HookState
{
	long		calls;
	long		stop_after;
	pthread_t	owner;
	int			wrong_thread;
} HookState;

/* A fresh hook state owned by the calling thread that stops after stop_after polls. */
static inline HookState
hook_state(long stop_after)
{
	HookState	h = {0, stop_after, pthread_self(), 0};

	return h;
}

/* The test hook (RecoHooks.should_stop): arg is a HookState. */
static inline bool
test_hook(void *arg)
{
	HookState  *h = (HookState *) arg;

	if (!pthread_equal(pthread_self(), h->owner))
		h->wrong_thread = 1;
	h->calls++;
	return h->stop_after >= 0 && h->calls > h->stop_after;
}

#endif							/* RECO_TEST_TAP_H */
