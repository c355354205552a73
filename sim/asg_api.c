/*
 * The Auto Scaling actions the daemon calls on the group: terminate a member (with
 * or without decrementing desired), scale-in protection, suspending and resuming
 * processes. Refusals carry AWS's codes and texts (reference/aws-errors.md).
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

/* Members the group still manages (the ones Describe* could list). */
static struct sim_instance *
managed(struct sim_model *m, const char *id)
{
	struct sim_instance *in = sim_ec2_find(m, id);

	if (in == NULL || !in->member || in->life == SIM_LC_NONE ||
	    in->life == SIM_LC_TERMINATED)
		return NULL;
	return in;
}

static int
check_terminate(struct sim_model *m, struct sim_instance *in, const char *id,
    int decrement, struct sim_err *err)
{
	struct sim_activity *a;

	if (in == NULL)
		return sim_fail(err, 400, "ValidationError", "Instance Id not found - "
		    "No managed instance found for instance ID: %s", id);
	if (decrement && m->asg.desired == m->asg.min)
		return sim_fail(err, 400, "ValidationError", "Currently, desiredSize "
		    "equals minSize (%d). Terminating instance without replacement will "
		    "violate group's min size constraint. Either set "
		    "shouldDecrementDesiredCapacity flag to false or lower group's min "
		    "size.", m->asg.min);
	if ((a = sim_asg_busy(m)) != NULL)
		return sim_fail(err, 400, "ScalingActivityInProgress",
		    "Activity %s is in progress.", a->id);
	return 0;
}

int
sim_asg_terminate(struct sim_model *m, const char *id, int decrement, int64_t now,
    struct sim_activity **act, struct sim_err *err)
{
	struct sim_instance *in;
	struct sim_activity *a;
	char cause[SIM_MSG_MAX];

	sim_model_advance(m, now);
	in = managed(m, id);
	if (check_terminate(m, in, id, decrement, err) == -1) {
		sim_call(m, "TerminateInstanceInAutoScalingGroup", id, NULL, err);
		return -1;
	}
	sim_call(m, "TerminateInstanceInAutoScalingGroup", id, NULL, NULL);
	in->term_requested = 1;
	if (decrement)
		sim_asg_capacity(m, m->asg.min, m->asg.max, m->asg.desired - 1);
	sim_asg_cause_user(m, in, decrement, cause, sizeof(cause));
	a = sim_asg_begin_termination(m, in, cause);
	if (act != NULL)
		*act = a;
	return 0;
}

int
sim_asg_set_protection(struct sim_model *m, const char *const *ids, size_t n,
    int protect, int64_t now, struct sim_err *err)
{
	struct sim_instance *in;

	sim_model_advance(m, now);
	for (size_t i = 0; i < n; i++) {
		/* AWS's text for a non-member is not documented (U in aws-errors.md). */
		if ((in = managed(m, ids[i])) == NULL)
			sim_fail(err, 400, "ValidationError", "The instance %s is not part "
			    "of Auto Scaling group %s.", ids[i], m->asg.name);
		else if (in->life != SIM_LC_IN_SERVICE && in->life != SIM_LC_STANDBY)
			sim_fail(err, 400, "ValidationError", "The instance %s is not in "
			    "InService or EnteringStandby or Standby.", ids[i]);
		else
			continue;
		sim_call(m, "SetInstanceProtection", ids[i], NULL, err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		in = managed(m, ids[i]);
		sim_rec(m, SIM_REC_CALL, in->id, "SetInstanceProtection",
		    protect ? "true" : "false", 200, NULL);
		if (in->prot == protect)
			continue;
		in->prot_prev = sim_asg_prot_shown(m, in, m->now);
		in->prot = protect;
		in->prot_time = m->now;
		sim_rec(m, SIM_REC_PROTECTION, in->id, NULL, NULL, protect, NULL);
	}
	sim_asg_poke(m);	/* lifting protection may unblock a scale-in */
	return 0;
}

static int
process_mask(const char *const *names, size_t n, unsigned *mask, struct sim_err *err)
{
	int p;

	*mask = n == 0 ? (1u << SIM_NPROC) - 1 : 0;
	for (size_t i = 0; i < n; i++) {
		if ((p = sim_process_lookup(names[i])) == -1)
			return sim_fail(err, 400, "ValidationError", "Process '%s' is not "
			    "a valid scaling process", names[i]);
		*mask |= 1u << p;
	}
	return 0;
}

static int
set_processes(struct sim_model *m, const char *action, const char *const *names,
    size_t n, int suspend, int64_t now, struct sim_err *err)
{
	struct sim_asg *g = &m->asg;
	unsigned mask;

	sim_model_advance(m, now);
	if (process_mask(names, n, &mask, err) == -1) {
		sim_call(m, action, g->name, NULL, err);
		return -1;
	}
	sim_call(m, action, g->name, NULL, NULL);
	for (int p = 0; p < SIM_NPROC; p++)
		if ((mask & (1u << p)) && suspend && !(g->suspended & (1u << p)))
			g->suspended_at[p] = m->now;
	g->suspended = suspend ? g->suspended | mask : g->suspended & ~mask;
	sim_rec(m, SIM_REC_PROCESSES, g->name, action, NULL, (long)g->suspended, NULL);
	sim_asg_poke(m);
	return 0;
}

int
sim_asg_suspend(struct sim_model *m, const char *const *names, size_t n, int64_t now,
    struct sim_err *err)
{
	return set_processes(m, "SuspendProcesses", names, n, 1, now, err);
}

int
sim_asg_resume(struct sim_model *m, const char *const *names, size_t n, int64_t now,
    struct sim_err *err)
{
	return set_processes(m, "ResumeProcesses", names, n, 0, now, err);
}
