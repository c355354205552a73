/*
 * The critical-path lower bound of an upgrade with surge k (DESIGN.md section 3),
 * from the model's own timings, so that a run's duration can be judged against
 * what no daemon could beat on this simulator:
 *
 *   surge scale-out + ceil((N - k) / k) x (drain + shutdown + boot)
 *   + retirement (drain + scale-in update) + finalize
 *
 * "boot" is launch to serving: running, Bitbucket ACTIVE, then healthy_threshold
 * passed health checks, the checks falling every interval from registration.
 * The drain term is 0: with no request in flight a drain ends at once, so anything
 * more is the traffic's doing, not a lower bound.
 */
#include "sim/model_int.h"

static int64_t
ceil_div(int64_t a, int64_t b)
{
	return a <= 0 ? 0 : (a + b - 1) / b;
}

static int64_t
boot_time(const struct sim_params *p)
{
	int64_t first = ceil_div(p->node_boot - p->ec2_pending, p->health_interval);

	if (first < 1)
		first = 1;
	return p->ec2_pending + (first + p->healthy_threshold - 1) * p->health_interval;
}

int64_t
sim_critical_path(const struct sim_params *p, int n, int k, struct sim_cpath *c)
{
	int64_t q = p->stack_update / 4, to_group, full;

	if (k < 1)
		k = 1;
	c->stack_change = p->changeset_create + p->stack_update;
	c->boot = boot_time(p);
	/* The group grows halfway through the update; its end may come first. */
	to_group = p->changeset_create + 2 * q;
	full = c->stack_change;
	c->surge = to_group + c->boot > full ? to_group + c->boot : full;
	c->drain = 0;
	c->replace = c->drain + p->ec2_shutdown + c->boot;
	c->rounds = (int)ceil_div(n - k, k);
	c->retire = c->drain + c->stack_change + p->ec2_shutdown;
	c->finalize = p->finalize;
	c->total = c->surge + c->rounds * c->replace + c->retire + c->finalize;
	return c->total;
}
