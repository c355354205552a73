/*
 * The model's scheduled transitions: a binary heap ordered by time, then by the
 * order in which they were scheduled, so that two transitions due at the same
 * millisecond always run in the same order (determinism for a given seed).
 * A transition that no longer applies (a re-registered instance's old health check)
 * is not removed: its handler sees a stale generation and ignores it.
 */
#include <stdlib.h>

#include "sim/model_int.h"

struct sim_queue {
	struct sim_event *heap;
	size_t		 n, cap;
	uint64_t	 seq;
};

struct sim_queue *
sim_queue_new(void)
{
	return sim_xcalloc(1, sizeof(struct sim_queue));
}

void
sim_queue_free(struct sim_queue *q)
{
	if (q == NULL)
		return;
	free(q->heap);
	free(q);
}

static int
before(const struct sim_event *a, const struct sim_event *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->seq < b->seq;
}

static void
swap(struct sim_event *a, struct sim_event *b)
{
	struct sim_event t = *a;

	*a = *b;
	*b = t;
}

void
sim_schedule(struct sim_model *m, int64_t at, enum sim_ev kind, int obj, uint32_t gen)
{
	struct sim_queue *q = m->q;
	size_t i;

	if (at < m->now)
		at = m->now;
	sim_grow(&q->heap, &q->cap, q->n + 1, sizeof(*q->heap));
	i = q->n++;
	q->heap[i] = (struct sim_event){ at, q->seq++, kind, obj, gen };
	while (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2])) {
		swap(&q->heap[i], &q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

int
sim_queue_pop(struct sim_queue *q, int64_t now, struct sim_event *ev)
{
	size_t i = 0, c;

	if (q->n == 0 || q->heap[0].at > now)
		return 0;
	*ev = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	while ((c = 2 * i + 1) < q->n) {
		if (c + 1 < q->n && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &q->heap[i]))
			break;
		swap(&q->heap[c], &q->heap[i]);
		i = c;
	}
	return 1;
}

int64_t
sim_queue_peek(const struct sim_queue *q)
{
	return q->n ? q->heap[0].at : SIM_NEVER;
}
