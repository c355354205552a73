/*
 * The history: every state change of the model, in order, as a record (time, kind,
 * object, two short values, a number, words for people). The invariant report
 * (sim/invariants.c) is computed from these records alone, never from the model's
 * live state, so that a bug in a transition cannot hide its own consequences.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/model_int.h"

void
sim_rec(struct sim_model *m, enum sim_rec_kind kind, const char *obj, const char *a,
    const char *b, long n, const char *fmt, ...)
{
	struct sim_history *h = &m->hist;
	struct sim_record *r;
	va_list ap;

	sim_grow(&h->rec, &h->cap, h->n + 1, sizeof(*h->rec));
	r = &h->rec[h->n++];
	r->t = m->now;
	r->kind = kind;
	sim_strlcpy(r->obj, obj ? obj : "", sizeof(r->obj));
	sim_strlcpy(r->a, a ? a : "", sizeof(r->a));
	sim_strlcpy(r->b, b ? b : "", sizeof(r->b));
	r->n = n;
	r->detail[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
		va_end(ap);
	}
}

void
sim_history_free(struct sim_history *h)
{
	free(h->rec);
	h->rec = NULL;
	h->n = h->cap = 0;
}

const char *
sim_rec_kind_name(enum sim_rec_kind k)
{
	static const char *const names[] = {
		"ec2", "lifecycle", "protection", "capacity", "processes", "activity",
		"elb", "drain", "node", "zdu", "stack", "call", "request", "alarm",
	};

	return (size_t)k < nitems(names) ? names[k] : "?";
}
