/*
 * What the Quick Start's group does not have, so that each refusal of the daemon's
 * preflight (aws-behaviours.md 15) can be set up: lifecycle hooks, an instance
 * refresh in progress, new instances protected from scale-in. Hooks and refreshes
 * are listed as AWS lists them and change nothing else: a Terminating:Wait hook
 * holds no termination here, a refresh replaces no instance. (HealthCheckType ELB,
 * which does act, is in sim/asg.c; Standby in sim/asg_standby.c.)
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

#define REFRESH_STREAM	(1ULL << 61)	/* not the model's shared streams */

static const struct {
	unsigned	 bit;
	const char	*name;
	const char	*transition;
} hooks[] = {
	{ SIM_HOOK_LAUNCHING, "launching", "autoscaling:EC2_INSTANCE_LAUNCHING" },
	{ SIM_HOOK_TERMINATING, "terminating", "autoscaling:EC2_INSTANCE_TERMINATING" },
};

unsigned
sim_hook_lookup(const char *name)
{
	for (size_t i = 0; i < nitems(hooks); i++)
		if (strcmp(hooks[i].name, name) == 0)
			return hooks[i].bit;
	return 0;
}

const char *
sim_hook_name(unsigned hook)
{
	for (size_t i = 0; i < nitems(hooks); i++)
		if (hooks[i].bit == hook)
			return hooks[i].name;
	return "?";
}

const char *
sim_hook_transition(unsigned hook)
{
	for (size_t i = 0; i < nitems(hooks); i++)
		if (hooks[i].bit == hook)
			return hooks[i].transition;
	return "?";
}

/* A new refresh's id: from the seed and a count, never from the id stream. */
static void
refresh_id(struct sim_model *m, char *buf, size_t len)
{
	struct sim_rng r;

	sim_rng_seed(&r, m->p.seed, REFRESH_STREAM + (uint64_t)m->asg.nrefresh++);
	sim_rng_uuid(&r, buf, len);
}

void
sim_asg_set_refresh(struct sim_model *m, int active)
{
	struct sim_refresh *r = &m->asg.refresh;

	if (active == (r->id[0] != '\0' && r->end == SIM_NEVER))
		return;
	if (!active) {
		r->end = m->now;
		sim_rec(m, SIM_REC_ACTIVITY, r->id, "Cancelled", NULL, 0,
		    "instance refresh cancelled");
		return;
	}
	refresh_id(m, r->id, sizeof(r->id));
	r->start = m->now;
	r->end = SIM_NEVER;
	r->instances = m->asg.desired;
	sim_rec(m, SIM_REC_ACTIVITY, r->id, "InProgress", NULL, 0,
	    "instance refresh started");
}

void
sim_asg_set_new_protected(struct sim_model *m, int protect)
{
	m->asg.new_protected = protect;
	sim_rec(m, SIM_REC_PROTECTION, m->asg.name, "new-instances", NULL, protect, NULL);
}
