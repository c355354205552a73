/*
 * Scaling activities: one per launch or termination, with AWS's descriptions and
 * causes word for word, so that a client that shows or parses them sees what it
 * would see on AWS. While one is not finished, mutating calls on the group fail
 * with ScalingActivityInProgress (sim_asg_busy).
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

const char *
sim_activity_status_name(enum sim_activity_status s)
{
	static const char *const names[] = {
		"PreInService", "InProgress", "WaitingForELBConnectionDraining",
		"Successful", "Failed", "Cancelled",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

struct sim_activity *
sim_asg_activity_new(struct sim_model *m, int launch, struct sim_instance *in,
    const char *cause)
{
	struct sim_asg *g = &m->asg;
	struct sim_activity *a = sim_xcalloc(1, sizeof(*a));

	sim_rng_uuid(&m->rng_ids, a->id, sizeof(a->id));
	a->launch = launch;
	a->inst = in;
	a->start = m->now;
	a->end = SIM_NEVER;
	if (in != NULL)
		snprintf(a->description, sizeof(a->description), "%s EC2 instance: %s",
		    launch ? "Launching a new" : "Terminating", in->id);
	sim_strlcpy(a->cause, cause, sizeof(a->cause));
	sim_grow(&g->act, &g->actcap, g->nact + 1, sizeof(*g->act));
	g->act[g->nact++] = a;
	sim_asg_activity_set(m, a, launch ? SIM_ACT_PRE_IN_SERVICE : SIM_ACT_IN_PROGRESS);
	return a;
}

void
sim_asg_activity_set(struct sim_model *m, struct sim_activity *a,
    enum sim_activity_status s)
{
	a->status = s;
	switch (s) {
	case SIM_ACT_SUCCESSFUL:
	case SIM_ACT_FAILED:
	case SIM_ACT_CANCELLED:
		a->end = m->now;
		a->progress = 100;
		break;
	case SIM_ACT_WAITING_FOR_ELB_DRAINING:
		a->progress = 50;
		break;
	default:
		a->progress = a->launch ? 30 : 60;
		break;
	}
	sim_rec(m, SIM_REC_ACTIVITY, a->id, sim_activity_status_name(s),
	    a->inst ? a->inst->id : "", 0, "%s", a->description);
}

/* The instance's newest activity that has not finished, else its newest. */
struct sim_activity *
sim_asg_activity_of(const struct sim_model *m, const struct sim_instance *in)
{
	struct sim_activity *last = NULL;

	for (size_t i = m->asg.nact; i-- > 0;) {
		struct sim_activity *a = m->asg.act[i];

		if (a->inst != in)
			continue;
		if (a->end == SIM_NEVER)
			return a;
		if (last == NULL)
			last = a;
	}
	return last;
}

struct sim_activity *
sim_asg_activity_find(const struct sim_model *m, const char *id)
{
	for (size_t i = 0; i < m->asg.nact; i++)
		if (strcmp(m->asg.act[i]->id, id) == 0)
			return m->asg.act[i];
	return NULL;
}

/*
 * What changed desired just now, if anything: "At T a user request update of ...
 * changing the desired capacity from a to b.  " or "At T a monitor alarm A in state
 * ALARM triggered policy P changing the desired capacity from a to b.  "
 */
static size_t
user_update(struct sim_model *m, char *buf, size_t len)
{
	struct sim_asg *g = &m->asg;
	char t[32], alarm[SIM_ARN_MAX], policy[SIM_NAME_MAX + 64];

	if (g->desired_at != m->now)
		return 0;
	if (g->desired_alarm >= 0) {
		sim_alarm_name(m, g->desired_alarm, alarm, sizeof(alarm));
		sim_alarm_policy_name(m, g->desired_alarm, policy, sizeof(policy));
		snprintf(buf, len, "At %s a monitor alarm %s in state ALARM triggered "
		    "policy %s changing the desired capacity from %d to %d.  ",
		    sim_time_format(m, m->now, 0, t, sizeof(t)), alarm, policy,
		    g->desired_from, g->desired);
		return strlen(buf);
	}
	snprintf(buf, len, "At %s a user request update of AutoScalingGroup constraints "
	    "to min: %d, max: %d, desired: %d changing the desired capacity from %d to %d."
	    "  ", sim_time_format(m, m->now, 0, t, sizeof(t)), g->min, g->max, g->desired,
	    g->desired_from, g->desired);
	return strlen(buf);
}

void
sim_asg_cause_launch(struct sim_model *m, int from, int to, char *buf, size_t len)
{
	size_t n = user_update(m, buf, len);
	char t[32];

	snprintf(buf + n, len - n, "At %s an instance was started in response to a "
	    "difference between desired and actual capacity, increasing the capacity "
	    "from %d to %d.", sim_time_format(m, m->now, 0, t, sizeof(t)), from, to);
}

void
sim_asg_cause_scale_in(struct sim_model *m, const struct sim_instance *in, int from,
    int to, char *buf, size_t len)
{
	size_t n = user_update(m, buf, len);
	char t[32];

	sim_time_format(m, m->now, 0, t, sizeof(t));
	snprintf(buf + n, len - n, "At %s an instance was taken out of service in response "
	    "to a difference between desired and actual capacity, shrinking the capacity "
	    "from %d to %d.  At %s instance %s was selected for termination.", t, from, to,
	    t, in->id);
}

/* AWS writes "a ELB" (compiler-explorer/infra#397 quotes it). */
void
sim_asg_cause_health(struct sim_model *m, int elb, char *buf, size_t len)
{
	char t[32];

	sim_time_format(m, m->now, 0, t, sizeof(t));
	if (elb)
		snprintf(buf, len, "At %s an instance was taken out of service in response "
		    "to a ELB system health check failure.", t);
	else
		snprintf(buf, len, "At %s an instance was taken out of service in response "
		    "to an EC2 health check indicating it has been terminated or stopped.",
		    t);
}

void
sim_asg_cause_user(struct sim_model *m, const struct sim_instance *in, int decrement,
    char *buf, size_t len)
{
	char t[32];

	sim_time_format(m, m->now, 0, t, sizeof(t));
	if (decrement)
		snprintf(buf, len, "At %s instance %s was taken out of service in response "
		    "to a user request, shrinking the capacity from %d to %d.", t, in->id,
		    m->asg.desired_from, m->asg.desired);
	else
		snprintf(buf, len, "At %s instance %s was taken out of service in response "
		    "to a user request.", t, in->id);
}
