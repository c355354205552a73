/*
 * The default termination policy, for scale-in: among in-service members not
 * protected from scale-in, those on an older launch configuration first, then the
 * one closest to its next billing hour, then chance. (The single subnet makes
 * AWS's first criterion, the most populated zone, a tie.) It is not "least busy":
 * that is why the daemon protects the survivors before lowering the counts.
 */
#include <string.h>

#include "sim/model_int.h"

#define HOUR	(3600 * 1000LL)

static int
candidate(const struct sim_instance *in)
{
	return in->member && in->life == SIM_LC_IN_SERVICE && !in->prot && !in->unhealthy;
}

int
sim_asg_has_candidate(const struct sim_model *m)
{
	for (size_t i = 0; i < m->ninst; i++)
		if (candidate(m->inst[i]))
			return 1;
	return 0;
}

static int64_t
to_billing_hour(const struct sim_model *m, const struct sim_instance *in)
{
	int64_t age = m->now - in->launch_time;

	return HOUR - (age % HOUR + HOUR) % HOUR;
}

/* Is a a better victim than b (b may be NULL)? Ties return 0. */
static int
better(const struct sim_model *m, const struct sim_instance *a, const struct sim_instance *b)
{
	int a_old, b_old;

	if (b == NULL)
		return 1;
	a_old = strcmp(a->lc_name, m->asg.lc_name) != 0;
	b_old = strcmp(b->lc_name, m->asg.lc_name) != 0;
	if (a_old != b_old)
		return a_old;
	return to_billing_hour(m, a) < to_billing_hour(m, b);
}

struct sim_instance *
sim_asg_pick_victim(struct sim_model *m)
{
	struct sim_instance *best = NULL, *tied[64];
	size_t ntied = 0;

	for (size_t i = 0; i < m->ninst; i++) {
		struct sim_instance *in = m->inst[i];

		if (!candidate(in))
			continue;
		if (better(m, in, best)) {
			best = in;
			ntied = 0;
			tied[ntied++] = in;
		} else if (!better(m, best, in) && ntied < nitems(tied))
			tied[ntied++] = in;
	}
	if (ntied > 1)
		best = tied[sim_rng_below(&m->rng_policy, ntied)];
	return best;
}
