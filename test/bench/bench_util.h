/*
 * bench_util.h — helpers shared by the standalone benchmark programs
 * (peak.c, serve_floor.c): a monotonic clock, a checked malloc, sorting
 * doubles and parsing a thread-count list.  Header-only: each program is
 * one gcc command (see run.sh and serving.sh).
 */
#ifndef RECO_BENCH_UTIL_H
#define RECO_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* malloc that exits with a message naming the program on failure. */
static inline void *
xmalloc(size_t bytes, const char *program)
{
	void	   *p = malloc(bytes > 0 ? bytes : 1);

	if (p == NULL)
	{
		fprintf(stderr, "%s: out of memory (%zu bytes)\n", program, bytes);
		exit(1);
	}
	return p;
}

/* qsort comparison of doubles, ascending. */
static inline int
compare_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Parses "1,2" into threads[0..max); returns how many, or 0 on a malformed list. */
static inline int
parse_thread_list(const char *text, int *threads, int max)
{
	char	   *copy = strdup(text);
	char	   *tok,
			   *save = NULL;
	int			n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
	{
		int			t = atoi(tok);

		if (t < 1 || n == max)
		{
			free(copy);
			return 0;
		}
		threads[n++] = t;
	}
	free(copy);
	return n;
}

#endif							/* RECO_BENCH_UTIL_H */
