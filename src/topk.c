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

/* Offers one entry to a bounded heap of at most k entries (worst at the root). */
void
RecoTopKPush(RecoScored *heap, int *size, int k, float score, int32_t index)
{
	RecoScored	entry;

	entry.score = score;
	entry.index = index;
	if (*size < k)
	{
		int			j = (*size)++;

		/* sift up: the worst entry rises to the root */
		heap[j] = entry;
		while (j > 0 && RecoBetter(heap[(j - 1) / 2], heap[j]))
		{
			RecoScored	tmp = heap[j];

			heap[j] = heap[(j - 1) / 2];
			heap[(j - 1) / 2] = tmp;
			j = (j - 1) / 2;
		}
	}
	else if (RecoBetter(entry, heap[0]))
	{
		heap[0] = entry;
		RecoSiftDown(heap, *size, 0);
	}
}

/*
 * Offers scores[0..n) to a bounded heap, skipping -INFINITY; entry i gets
 * index rows[i], or offset + i when rows is NULL (a constant in each caller).
 */
static inline void
RecoTopKOffer(RecoScored *heap, int *size, int k, const float *scores, int64_t n,
			  int32_t offset, const int32_t *rows)
{
	int64_t		i;

	if (k <= 0)
		return;
	for (i = 0; i < n; i++)
	{
		/* the common case: worse than the current worst of a full heap */
		if (*size == k && scores[i] < heap[0].score)
			continue;
		if (scores[i] == -INFINITY)
			continue;
		RecoTopKPush(heap, size, k, scores[i], rows != NULL ? rows[i] : offset + (int32_t) i);
	}
}

/* Offers scores[0..n) (index = offset + position) to a bounded heap, skipping -INFINITY. */
void
RecoTopKPushAll(RecoScored *heap, int *size, int k, const float *scores, int64_t n,
				int32_t offset)
{
	RecoTopKOffer(heap, size, k, scores, n, offset, NULL);
}

/* Offers scores[0..n) with index rows[i] to a bounded heap, skipping -INFINITY. */
void
RecoTopKPushMapped(RecoScored *heap, int *size, int k, const float *scores, int64_t n,
				   const int32_t *rows)
{
	RecoTopKOffer(heap, size, k, scores, n, 0, rows);
}

/* Sorts a heap's entries best first. */
void
RecoTopKSort(RecoScored *heap, int size)
{
	qsort(heap, size, sizeof(RecoScored), RecoCompareScored);
}

/* Selects the k best of scores[0..n) into out (best first); returns how many. */
int
RecoTopK(const float *scores, int64_t n, int k, RecoScored *out)
{
	int			size = 0;

	RecoTopKPushAll(out, &size, k, scores, n, 0);
	RecoTopKSort(out, size);
	return size;
}

/* Index of id in the ascending ids[0..n), or -1. */
int64_t
RecoFindId(const int64_t *ids, int64_t n, int64_t id)
{
	int64_t		lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}
