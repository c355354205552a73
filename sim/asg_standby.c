/*
 * Members in Standby: EnterStandby and ExitStandby, as a person does them (the daemon
 * never does; its preflight refuses to start while one is, aws-behaviours.md 15).
 * A Standby member stays in the group and keeps running, but leaves the ELB (with
 * connection draining) and stops counting toward desired, so the group launches a
 * replacement (EnterStandby without ShouldDecrementDesiredCapacity). Leaving
 * Standby registers it again and raises desired by one, which AWS refuses beyond
 * max. Also the scenario's starting state: the Standby members and an instance
 * refresh, set a day before the scenario begins, once the deployment is done.
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

#define PRESTATE_AT	(-24 * 60 * SIM_MINUTE - SIM_MINUTE)

int
sim_asg_standby_check(const struct sim_model *m, const struct sim_instance *in,
    int enter, struct sim_err *err)
{
	if (!in->member || in->life == SIM_LC_NONE || in->life == SIM_LC_TERMINATED)
		return sim_fail(err, 400, "ValidationError", "The instance %s is not part "
		    "of Auto Scaling group %s.", in->id, m->asg.name);
	if (enter && in->life != SIM_LC_IN_SERVICE)
		return sim_fail(err, 400, "ValidationError", "The instance %s is not in "
		    "InService.", in->id);
	if (!enter && in->life != SIM_LC_STANDBY)
		return sim_fail(err, 400, "ValidationError", "The instance %s is not in "
		    "Standby.", in->id);
	if (!enter && m->asg.desired + 1 > m->asg.max)
		return sim_fail(err, 400, "ValidationError", "Leaving Standby would raise "
		    "the desired capacity to %d, above the group's max size (%d).",
		    m->asg.desired + 1, m->asg.max);
	return 0;
}

/* The activity AWS records for the move, finished at once. Its words are bbsim's. */
static void
standby_activity(struct sim_model *m, struct sim_instance *in, int enter)
{
	struct sim_activity *a;
	char cause[SIM_MSG_MAX], t[32];

	sim_time_format(m, m->now, 0, t, sizeof(t));
	if (enter)
		snprintf(cause, sizeof(cause), "At %s instance %s was moved to standby in "
		    "response to a user request, keeping the capacity at the same level.",
		    t, in->id);
	else
		snprintf(cause, sizeof(cause), "At %s instance %s was moved out of standby "
		    "in response to a user request, increasing the capacity from %d to %d.",
		    t, in->id, m->asg.desired_from, m->asg.desired);
	a = sim_asg_activity_new(m, 0, NULL, cause);
	a->inst = in;
	snprintf(a->description, sizeof(a->description), "Moving EC2 instance %s "
	    "Standby: %s", enter ? "to" : "out of", in->id);
	sim_asg_activity_set(m, a, SIM_ACT_SUCCESSFUL);
}

void
sim_asg_standby(struct sim_model *m, struct sim_instance *in, int enter)
{
	struct sim_asg *g = &m->asg;

	if (enter) {
		sim_asg_set_life(m, in, SIM_LC_STANDBY);
		standby_activity(m, in, 1);
		sim_elb_remove(m, in);
	} else {
		sim_asg_capacity(m, g->min, g->max, g->desired + 1);
		sim_asg_set_life(m, in, SIM_LC_IN_SERVICE);
		standby_activity(m, in, 0);
		sim_elb_attach(m, in);
	}
	sim_asg_poke(m);
}

/* Called at each reconcile: once, a day before the scenario, the scenario's extras. */
void
sim_asg_prestate(struct sim_model *m)
{
	struct sim_asg *g = &m->asg;
	int n = 0;

	if ((m->p.standby == 0 && !m->p.instance_refresh) || g->prestate == 2)
		return;
	if (g->prestate == 0) {
		g->prestate = 1;
		sim_schedule(m, PRESTATE_AT, SIM_EV_ASG_RECONCILE, -1, 0);
		return;
	}
	if (m->now < PRESTATE_AT)
		return;
	g->prestate = 2;
	for (size_t i = 0; i < m->ninst && n < m->p.standby; i++)
		if (m->inst[i]->member && m->inst[i]->life == SIM_LC_IN_SERVICE) {
			sim_asg_standby(m, m->inst[i], 1);
			n++;
		}
	if (m->p.instance_refresh)
		sim_asg_set_refresh(m, 1);
}
