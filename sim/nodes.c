/*
 * Bitbucket nodes: one per group instance, known by its private IP. A node starts
 * when its instance is running (STARTING), and after the boot time is ACTIVE on
 * the version its launch configuration named at launch, unless a fault makes it
 * fail (ERROR) or hang (STARTING), or the cluster refuses it: in upgrade mode only
 * the original major.minor with a patch at least the original's may join.
 * /status answers 200 only when the node is ACTIVE and reachable.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/version.h"
#include "sim/model_int.h"

const char *
sim_node_state_name(enum sim_node_state s)
{
	static const char *const names[] = {
		NULL, "STARTING", "ACTIVE", "DRAINING", "TERMINATING", "OFFLINE", "ERROR",
	};

	return (size_t)s < nitems(names) ? names[s] : NULL;
}

void
sim_node_build_number(const char *version, char *buf, size_t len)
{
	struct bb_version v;

	if (version_parse(version, &v) == -1) {
		sim_strlcpy(buf, "", len);
		return;
	}
	snprintf(buf, len, "%u%03u%03u", v.major, v.minor, v.patch);
}

void
sim_node_launch(struct sim_model *m, struct sim_instance *in, const char *version)
{
	struct sim_node *n = &in->node;
	int eligible;

	sim_rng_hex(&m->rng_ids, n->id, 8);
	snprintf(n->name, sizeof(n->name), "ip-%s", in->ip);
	for (char *p = n->name; *p != '\0'; p++)
		if (*p == '.')
			*p = '-';
	sim_strlcpy(n->version, version, sizeof(n->version));
	n->unreachable_until = INT64_MIN;	/* virtual time may be negative */
	n->window_start = m->now;
	/* The nodes the scenario starts with are healthy: faults hit new ones. */
	eligible = m->now >= 0 && (m->p.fault_version[0] == '\0' ||
	    strcmp(m->p.fault_version, version) == 0);
	if (eligible) {
		n->fails = sim_fault_fires(m, m->p.node_error, m->p.node_error_p,
		    SIM_FAULT_BIT_ERROR);
		n->stuck = !n->fails && sim_fault_fires(m, m->p.node_stuck,
		    m->p.node_stuck_p, SIM_FAULT_BIT_STUCK);
	}
	sim_schedule(m, in->launch_time + m->p.node_boot, SIM_EV_NODE_READY, in->idx, 0);
}

void
sim_node_set(struct sim_model *m, struct sim_instance *in, enum sim_node_state s)
{
	in->node.state = s;
	sim_rec(m, SIM_REC_NODE, in->id, s == SIM_NODE_NONE ? "gone" :
	    sim_node_state_name(s), in->node.version, 0, "%s", in->ip);
}

void
sim_node_on_running(struct sim_model *m, struct sim_instance *in)
{
	if (in->node.state == SIM_NODE_NONE)
		sim_node_set(m, in, SIM_NODE_STARTING);
}

void
sim_node_on_ready(struct sim_model *m, struct sim_instance *in)
{
	struct sim_node *n = &in->node;

	if (in->state != SIM_EC2_RUNNING || n->state != SIM_NODE_STARTING || n->stuck)
		return;
	if (n->fails || !sim_zdu_may_join(m, n->version))
		sim_node_set(m, in, SIM_NODE_ERROR);
	else
		sim_node_set(m, in, SIM_NODE_ACTIVE);
}

static int
reachable(const struct sim_model *m, const struct sim_instance *in)
{
	return in->state == SIM_EC2_RUNNING && m->now >= in->node.unreachable_until;
}

/* Seen by the cluster: running, or stopping gracefully, and not cut off. */
int
sim_node_listed_reachable(const struct sim_model *m, const struct sim_instance *in)
{
	return (in->state == SIM_EC2_RUNNING || in->state == SIM_EC2_SHUTTING_DOWN) &&
	    m->now >= in->node.unreachable_until;
}

int
sim_node_serves(const struct sim_model *m, const struct sim_instance *in)
{
	return reachable(m, in) && in->node.state == SIM_NODE_ACTIVE;
}

int
sim_node_status(struct sim_model *m, const struct sim_instance *in, int64_t now,
    int *http, const char **state)
{
	sim_model_advance(m, now);
	if (!reachable(m, in))
		return -1;
	switch (in->node.state) {
	case SIM_NODE_STARTING:
		*http = 503;
		*state = "STARTING";
		return 0;
	case SIM_NODE_ACTIVE:
		*http = 200;
		*state = "RUNNING";
		return 0;
	case SIM_NODE_ERROR:
		*http = 500;
		*state = "ERROR";
		return 0;
	default:
		return -1;	/* stopping or not started: nothing answers */
	}
}

void
sim_node_blip(struct sim_model *m, struct sim_instance *in, int64_t now)
{
	sim_model_advance(m, now);
	in->node.unreachable_until = m->now + m->p.unreachable;
	sim_rec(m, SIM_REC_NODE, in->id, "unreachable", in->node.version,
	    (long)m->p.unreachable, "%s", in->ip);
}

/* The blip fault: a random ACTIVE node drops off the network for a moment. */
void
sim_node_on_blip(struct sim_model *m)
{
	struct sim_instance *live[256];
	size_t n = 0;
	double gap;

	for (size_t i = 0; i < m->ninst && n < nitems(live); i++)
		if (sim_node_serves(m, m->inst[i]))
			live[n++] = m->inst[i];
	if (n > 0)
		sim_node_blip(m, live[sim_rng_below(&m->rng_faults, n)], m->now);
	gap = -log(1 - sim_rng_unit(&m->rng_faults)) * (double)m->p.blip_every;
	sim_schedule(m, m->now + 1 + (int64_t)gap, SIM_EV_BLIP, -1, 0);
}
