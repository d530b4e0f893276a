/*-------------------------------------------------------------------------
 *
 * topk.c
 *	  Partial selection of the k best scores with a bounded heap.
 *
 * Order: higher score first; equal scores by lower index first (indices
 * follow id order, so ties are broken by id and results are deterministic).
 * Scores equal to -INFINITY mark excluded entries and are never selected.
 * Cost is O(n) comparisons against the heap's worst entry plus O(log k) per
 * entry that enters the heap.  Pure C: callable from any thread.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "topk.h"

/* True when a ranks strictly better than b. */
static inline int
RecoBetter(RecoScored a, RecoScored b)
{
	return a.score > b.score || (a.score == b.score && a.index < b.index);
}

/* Restores the heap property (worst entry at the root) below position i. */
static void
RecoSiftDown(RecoScored *heap, int size, int i)
{
	for (;;)
	{
		int			worst = i;
		int			left = 2 * i + 1;
		int			right = left + 1;
		RecoScored	tmp;

		if (left < size && RecoBetter(heap[worst], heap[left]))
			worst = left;
		if (right < size && RecoBetter(heap[worst], heap[right]))
			worst = right;
		if (worst == i)
			return;
		tmp = heap[i];
		heap[i] = heap[worst];
		heap[worst] = tmp;
		i = worst;
	}
}

/* Orders entries best first. */
static int
RecoCompareScored(const void *a, const void *b)
{
	RecoScored	x = *(const RecoScored *) a;
	RecoScored	y = *(const RecoScored *) b;

	return RecoBetter(x, y) ? -1 : (RecoBetter(y, x) ? 1 : 0);
}

/* Selects the k best of scores[0..n) into out (best first); returns how many. */
int
RecoTopK(const float *scores, int64_t n, int k, RecoScored *out)
{
	int			size = 0;
	int64_t		i;

	if (k <= 0)
		return 0;
	for (i = 0; i < n; i++)
	{
		RecoScored	entry;

		if (scores[i] == -INFINITY)
			continue;
		entry.score = scores[i];
		entry.index = (int32_t) i;
		if (size < k)
		{
			int			j = size++;

			/* sift up: the worst entry rises to the root */
			out[j] = entry;
			while (j > 0 && RecoBetter(out[(j - 1) / 2], out[j]))
			{
				RecoScored	tmp = out[j];

				out[j] = out[(j - 1) / 2];
				out[(j - 1) / 2] = tmp;
				j = (j - 1) / 2;
			}
		}
		else if (RecoBetter(entry, out[0]))
		{
			out[0] = entry;
			RecoSiftDown(out, size, 0);
		}
	}
	qsort(out, size, sizeof(RecoScored), RecoCompareScored);
	return size;
}
