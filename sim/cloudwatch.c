/*
 * CloudWatch CPUUtilization per instance: nothing for a new instance until it has
 * booted (missing data is not "idle"), then a load that follows its requests in
 * flight, with a little noise that depends only on the instance and the minute.
 */
#include "sim/model_int.h"

double
sim_ec2_cpu(struct sim_model *m, const struct sim_instance *in, int64_t now)
{
	struct sim_rng r;
	double cpu;

	sim_model_advance(m, now);
	if (in->state != SIM_EC2_RUNNING || m->now < in->launch_time + m->p.node_boot)
		return -1;
	sim_rng_seed(&r, m->p.seed ^ (uint64_t)in->idx, (uint64_t)(m->now / 60000));
	cpu = 3 + 6.0 * in->inflight + 4 * sim_rng_unit(&r);
	if (in->node.state != SIM_NODE_ACTIVE)
		cpu = 1 + sim_rng_unit(&r);
	return cpu > 100 ? 100 : cpu;
}
