/*
 * The model as a whole: building the scenario's starting state, running scheduled
 * transitions up to a given virtual time, and tearing it all down. Each transition
 * belongs to one part (EC2, Auto Scaling, ELB, nodes, stack, traffic); this file
 * only dispatches. It must never look at a wall clock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim/model_int.h"

/* A scheduled transition whose object index is out of range is our own bug. */
static struct sim_instance *
instance_at(struct sim_model *m, int i)
{
	if (i < 0 || (size_t)i >= m->ninst) {
		fprintf(stderr, "bbsim model: event for instance %d of %zu\n", i, m->ninst);
		abort();
	}
	return m->inst[i];
}

static void
dispatch(struct sim_model *m, const struct sim_event *ev)
{
	switch (ev->kind) {
	case SIM_EV_EC2_RUNNING:
		sim_ec2_on_running(m, instance_at(m, ev->obj));
		break;
	case SIM_EV_EC2_TERMINATED:
		sim_ec2_on_terminated(m, instance_at(m, ev->obj));
		break;
	case SIM_EV_NODE_READY:
		sim_node_on_ready(m, instance_at(m, ev->obj));
		break;
	case SIM_EV_ELB_CHECK:
		sim_elb_on_check(m, instance_at(m, ev->obj), ev->gen);
		break;
	case SIM_EV_ELB_DRAIN_END:
		sim_elb_on_drain_end(m, instance_at(m, ev->obj), ev->gen);
		break;
	case SIM_EV_ASG_NOTICE:
		sim_asg_on_notice(m, instance_at(m, ev->obj));
		break;
	case SIM_EV_ASG_RECONCILE:
		m->asg.reconcile_pending = 0;
		sim_asg_reconcile(m);
		break;
	case SIM_EV_STACK_STEP:
		sim_stack_on_step(m, m->stack[ev->obj], ev->gen);
		break;
	case SIM_EV_CS_READY:
		sim_changeset_on_ready(m, m->cs[ev->obj]);
		break;
	case SIM_EV_ZDU_FINALIZED:
		sim_zdu_on_finalized(m);
		break;
	case SIM_EV_REQ_ARRIVE:
		sim_traffic_on_arrive(m);
		break;
	case SIM_EV_REQ_END:
		sim_traffic_on_end(m, ev->obj, ev->gen);
		break;
	case SIM_EV_BLIP:
		sim_node_on_blip(m);
		break;
	}
}

void
sim_model_advance(struct sim_model *m, int64_t now)
{
	struct sim_event ev;

	if (now < m->now)
		return;
	while (sim_queue_pop(m->q, now, &ev)) {
		m->now = ev.at;
		dispatch(m, &ev);
	}
	m->now = now;
}

int64_t
sim_model_next_event(const struct sim_model *m)
{
	return sim_queue_peek(m->q);
}

static void
seed_streams(struct sim_model *m)
{
	sim_rng_seed(&m->rng_ids, m->p.seed, 1);
	sim_rng_seed(&m->rng_faults, m->p.seed, 2);
	sim_rng_seed(&m->rng_traffic, m->p.seed, 3);
	sim_rng_seed(&m->rng_policy, m->p.seed, 4);
}

struct sim_model *
sim_model_new(const struct sim_params *p, char *why, size_t whylen)
{
	struct sim_model *m;

	if (sim_params_check(p, why, whylen) == -1)
		return NULL;
	m = sim_xcalloc(1, sizeof(*m));
	m->p = *p;
	seed_streams(m);
	m->q = sim_queue_new();
	m->api = sim_api_new(m);
	sim_stack_init(m);		/* names first: the other parts derive theirs */
	sim_elb_init(m);
	sim_asg_init(m);
	sim_deploy(m);			/* the file server and the N original nodes */
	sim_stack_link(m);		/* physical ids, now that they exist */
	sim_traffic_init(m);
	if (m->p.blip_every > 0)
		sim_schedule(m, m->p.blip_every, SIM_EV_BLIP, -1, 0);
	return m;
}

void
sim_model_free(struct sim_model *m)
{
	if (m == NULL)
		return;
	sim_traffic_free(m);
	for (size_t i = 0; i < m->ncs; i++)
		free(m->cs[i]);
	free(m->cs);
	for (size_t i = 0; i < m->nstacks; i++)
		sim_stack_free(m->stack[i]);
	sim_asg_free(&m->asg);
	for (size_t i = 0; i < m->ninst; i++)
		free(m->inst[i]);
	free(m->inst);
	free(m->zdu.snap);
	sim_history_free(&m->hist);
	sim_api_free(m->api);
	sim_queue_free(m->q);
	free(m);
}
