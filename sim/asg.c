/*
 * The ClusterNodeGroup: keeps `desired` instances alive, launching with the launch
 * configuration as it is now (so with the version its metadata names now),
 * replacing members its health check finds dead, and scaling in by its termination
 * policy, never picking an instance protected from scale-in. Every termination it
 * makes waits for the ELB's connection draining first. Reads are eventually
 * consistent: a changed lifecycle state or protection shows its previous value for
 * params.consistency_lag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

#define DAY	(24 * 3600 * 1000LL)

static const char *const proc_names[SIM_NPROC] = {
	"Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance",
	"AlarmNotification", "ScheduledActions", "AddToLoadBalancer", "InstanceRefresh",
};

const char *
sim_process_name(enum sim_process p)
{
	return (size_t)p < SIM_NPROC ? proc_names[p] : "?";
}

int
sim_process_lookup(const char *name)
{
	for (int i = 0; i < SIM_NPROC; i++)
		if (strcmp(proc_names[i], name) == 0)
			return i;
	return -1;
}

const char *
sim_lifecycle_name(enum sim_lifecycle l)
{
	static const char *const names[] = {
		"", "Pending", "InService", "Terminating", "Terminated", "Standby",
	};

	return (size_t)l < nitems(names) ? names[l] : "?";
}

enum sim_lifecycle
sim_asg_life_shown(const struct sim_model *m, const struct sim_instance *in, int64_t now)
{
	return now < in->life_time + m->p.consistency_lag ? in->life_prev : in->life;
}

int
sim_asg_prot_shown(const struct sim_model *m, const struct sim_instance *in, int64_t now)
{
	return now < in->prot_time + m->p.consistency_lag ? in->prot_prev : in->prot;
}

int
sim_asg_listed(const struct sim_model *m, const struct sim_instance *in, int64_t now)
{
	enum sim_lifecycle l = sim_asg_life_shown(m, in, now);

	return in->member && l != SIM_LC_NONE && l != SIM_LC_TERMINATED;
}

static void
set_life(struct sim_model *m, struct sim_instance *in, enum sim_lifecycle l)
{
	in->life_prev = sim_asg_life_shown(m, in, m->now);
	in->life = l;
	in->life_time = m->now;
	sim_rec(m, SIM_REC_LIFECYCLE, in->id, sim_lifecycle_name(l), NULL, 0, NULL);
}

void
sim_asg_set_life(struct sim_model *m, struct sim_instance *in, enum sim_lifecycle l)
{
	set_life(m, in, l);
}

static int
up(const struct sim_instance *in)
{
	return in->member && (in->life == SIM_LC_PENDING || in->life == SIM_LC_IN_SERVICE);
}

int
sim_asg_alive(const struct sim_model *m)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		if (up(m->inst[i]) || m->inst[i]->life == SIM_LC_TERMINATING)
			n++;
	return n;
}

/* Members counted against desired when scaling in: up and not found dead. */
static int
healthy_up(const struct sim_model *m)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		if (up(m->inst[i]) && !m->inst[i]->unhealthy)
			n++;
	return n;
}

void
sim_asg_poke(struct sim_model *m)
{
	if (m->asg.reconcile_pending)
		return;
	m->asg.reconcile_pending = 1;
	sim_schedule(m, m->now, SIM_EV_ASG_RECONCILE, -1, 0);
}

/*
 * EC2 out of capacity: the activity fails with AWS's words, no instance exists, and
 * the group tries again at its next periodic check.
 */
static void
launch_failed(struct sim_model *m, const char *cause)
{
	struct sim_activity *a = sim_asg_activity_new(m, 1, NULL, cause);
	const char *az = m->p.region;

	snprintf(a->status_message, sizeof(a->status_message), "We currently do not have "
	    "sufficient c5.xlarge capacity in the Availability Zone you requested (%sa). "
	    "Our system will be working on provisioning additional capacity. You can "
	    "currently get c5.xlarge capacity by not specifying an Availability Zone in "
	    "your request or choosing %sb, %sc. Launching EC2 instance failed.", az, az, az);
	snprintf(a->description, sizeof(a->description), "Launching a new EC2 instance. "
	    " Status Reason: %s", a->status_message);
	sim_asg_activity_set(m, a, SIM_ACT_FAILED);
	sim_schedule(m, m->now + m->p.asg_health_check, SIM_EV_ASG_RECONCILE, -1, 0);
}

/* 0, or -1 if EC2 could not launch (a fault). */
static int
launch_one(struct sim_model *m)
{
	struct sim_asg *g = &m->asg;
	struct sim_instance *in;
	char cause[SIM_MSG_MAX];
	int alive = sim_asg_alive(m);

	sim_asg_cause_launch(m, alive, alive + 1, cause, sizeof(cause));
	/* Faults start with the scenario, not in the deployment before it. */
	if (m->now >= 0 &&
	    sim_fault_fires(m, m->p.launch_fail, m->p.fault_p, SIM_FAULT_BIT_LAUNCH)) {
		launch_failed(m, cause);
		return -1;
	}
	in = sim_ec2_launch(m, 1, g->lc_version);
	in->prot = in->prot_prev = g->new_protected;
	in->life_prev = SIM_LC_NONE;
	set_life(m, in, SIM_LC_PENDING);
	sim_asg_activity_new(m, 1, in, cause);
	return 0;
}

void
sim_asg_on_running(struct sim_model *m, struct sim_instance *in)
{
	struct sim_activity *a;

	if (in->life != SIM_LC_PENDING)
		return;
	/* Instances launched while AddToLoadBalancer is suspended stay out for good. */
	if (!(m->asg.suspended & (1u << SIM_PROC_ADD_TO_LOAD_BALANCER)))
		sim_elb_attach(m, in);
	set_life(m, in, SIM_LC_IN_SERVICE);
	if ((a = sim_asg_activity_of(m, in)) != NULL && a->launch)
		sim_asg_activity_set(m, a, SIM_ACT_SUCCESSFUL);
}

/* ---- terminations: drain first, then the instance goes down ---- */

static void
finish_termination(struct sim_model *m, struct sim_instance *in)
{
	struct sim_activity *a = sim_asg_activity_of(m, in);

	if (a != NULL && !a->launch)
		sim_asg_activity_set(m, a, SIM_ACT_SUCCESSFUL);
	set_life(m, in, SIM_LC_TERMINATED);
	sim_stack_on_group_change(m);
	sim_asg_poke(m);
}

static void
proceed_termination(struct sim_model *m, struct sim_instance *in)
{
	struct sim_activity *a = sim_asg_activity_of(m, in);

	if (a != NULL)
		sim_asg_activity_set(m, a, SIM_ACT_IN_PROGRESS);
	if (in->state == SIM_EC2_TERMINATED)
		finish_termination(m, in);
	else
		sim_ec2_shutdown(m, in,
		    "Client.UserInitiatedShutdown: User initiated shutdown");
}

struct sim_activity *
sim_asg_begin_termination(struct sim_model *m, struct sim_instance *in, const char *cause)
{
	struct sim_activity *a = sim_asg_activity_of(m, in);

	/* Its launch never finished: left open, it would block the group for good. */
	if (a != NULL && a->launch && a->end == SIM_NEVER)
		sim_asg_activity_set(m, a, SIM_ACT_CANCELLED);
	a = sim_asg_activity_new(m, 0, in, cause);
	set_life(m, in, SIM_LC_TERMINATING);
	if (!in->elb.registered) {
		proceed_termination(m, in);
		return a;
	}
	/* The drain may end at once (nothing in flight): on_drained carries on. */
	sim_asg_activity_set(m, a, SIM_ACT_WAITING_FOR_ELB_DRAINING);
	sim_elb_remove(m, in);
	return a;
}

void
sim_asg_on_drained(struct sim_model *m, struct sim_instance *in)
{
	struct sim_activity *a;

	if (in->life != SIM_LC_TERMINATING)
		return;
	if ((a = sim_asg_activity_of(m, in)) != NULL &&
	    a->status == SIM_ACT_WAITING_FOR_ELB_DRAINING)
		proceed_termination(m, in);
}

void
sim_asg_on_terminated(struct sim_model *m, struct sim_instance *in)
{
	if (in->life == SIM_LC_TERMINATING)
		finish_termination(m, in);
	else if (in->life == SIM_LC_STANDBY)	/* killed from EC2: the group drops it */
		set_life(m, in, SIM_LC_TERMINATED);
}

/* With ELB health checks, past the grace period: does the ELB say OutOfService? */
static int
elb_verdict(const struct sim_model *m, const struct sim_instance *in)
{
	const struct sim_elb_member *e = &in->elb;

	if (!m->p.health_check_elb || m->now < in->launch_time + m->p.health_check_grace)
		return 0;
	return !e->registered || (!e->draining && !e->in_service &&
	    e->fail_run >= m->p.unhealthy_threshold);
}

void
sim_asg_on_elb_unhealthy(struct sim_model *m, struct sim_instance *in)
{
	if (!up(in) || in->unhealthy || in->elb_notice || !elb_verdict(m, in))
		return;
	in->elb_notice = 1;
	sim_schedule(m, m->now + m->p.asg_health_check, SIM_EV_ASG_NOTICE, in->idx, 0);
}

/*
 * The group's health check finds a member that was killed behind its back or, with
 * HealthCheckType ELB, one that the ELB reports OutOfService (a drained one too).
 */
void
sim_asg_on_notice(struct sim_model *m, struct sim_instance *in)
{
	int alive = in->state == SIM_EC2_PENDING || in->state == SIM_EC2_RUNNING;

	in->elb_notice = 0;
	if (!up(in) || in->unhealthy || (alive && !elb_verdict(m, in)))
		return;
	if (m->asg.suspended & (1u << SIM_PROC_HEALTH_CHECK)) {
		sim_schedule(m, m->now + m->p.asg_health_check, SIM_EV_ASG_NOTICE,
		    in->idx, 0);
		return;
	}
	in->unhealthy = 1;
	in->unhealthy_elb = alive;
	sim_rec(m, SIM_REC_LIFECYCLE, in->id, sim_lifecycle_name(in->life), "Unhealthy",
	    0, "%s health check: instance %s", alive ? "ELB" : "EC2",
	    sim_ec2_state_name(in->state));
	sim_asg_poke(m);
}

/* ---- reconciling actual with desired ---- */

static void
replace_unhealthy(struct sim_model *m)
{
	char cause[SIM_MSG_MAX];

	if (m->asg.suspended & (1u << SIM_PROC_REPLACE_UNHEALTHY))
		return;
	for (size_t i = 0; i < m->ninst; i++) {
		struct sim_instance *in = m->inst[i];

		if (!up(in) || !in->unhealthy)
			continue;
		sim_asg_cause_health(m, in->unhealthy_elb, cause, sizeof(cause));
		sim_asg_begin_termination(m, in, cause);
	}
}

static void
scale_in(struct sim_model *m)
{
	char cause[SIM_MSG_MAX];
	struct sim_instance *in;
	int n = healthy_up(m);

	for (; n > m->asg.desired; n--) {
		if ((in = sim_asg_pick_victim(m)) == NULL)
			return;		/* every candidate protected: scale-in hangs */
		sim_asg_cause_scale_in(m, in, n, n - 1, cause, sizeof(cause));
		sim_asg_begin_termination(m, in, cause);
	}
}

void
sim_asg_reconcile(struct sim_model *m)
{
	sim_asg_prestate(m);
	sim_alarms_tick(m);
	replace_unhealthy(m);
	if (!(m->asg.suspended & (1u << SIM_PROC_TERMINATE)))
		scale_in(m);
	if (!(m->asg.suspended & (1u << SIM_PROC_LAUNCH)))
		while (sim_asg_alive(m) < m->asg.desired)
			if (launch_one(m) == -1)
				break;
}

int
sim_asg_scale_in_blocked(const struct sim_model *m)
{
	return healthy_up(m) > m->asg.desired && !sim_asg_has_candidate(m);
}

struct sim_activity *
sim_asg_busy(const struct sim_model *m)
{
	for (size_t i = 0; i < m->asg.nact; i++) {
		struct sim_activity *a = m->asg.act[i];

		if (a->status != SIM_ACT_SUCCESSFUL && a->status != SIM_ACT_FAILED &&
		    a->status != SIM_ACT_CANCELLED)
			return a;
	}
	return NULL;
}

static void
set_capacity(struct sim_model *m, int min, int max, int desired)
{
	struct sim_asg *g = &m->asg;
	char mm[64];

	g->desired_from = g->desired;
	g->desired_at = m->now;
	g->desired_alarm = -1;
	g->min = min;
	g->max = max;
	g->desired = desired;
	snprintf(mm, sizeof(mm), "min=%d max=%d", min, max);
	sim_rec(m, SIM_REC_CAPACITY, g->name, mm, NULL, desired, "desired %d -> %d",
	    g->desired_from, desired);
}

/* CloudFormation's UpdateAutoScalingGroup: the template ties desired to min. */
int
sim_asg_update_counts(struct sim_model *m, int min, int max, struct sim_err *err)
{
	struct sim_activity *a;

	if ((a = sim_asg_busy(m)) != NULL)
		return sim_fail(err, 400, "ScalingActivityInProgress",
		    "Scaling activity %s is in progress and blocks this action.", a->id);
	if (min > max)
		return sim_fail(err, 400, "ValidationError", "Max bound, %d, must be "
		    "greater than or equal to min bound, %d", max, min);
	set_capacity(m, min, max, min);
	sim_asg_poke(m);
	return 0;
}

void
sim_asg_capacity(struct sim_model *m, int min, int max, int desired)
{
	set_capacity(m, min, max, desired);
}

void
sim_asg_init(struct sim_model *m)
{
	struct sim_asg *g = &m->asg;
	const char *ps = sim_stack_product(m)->name;
	char sfx[16], uuid[40];

	sim_rng_alnum(&m->rng_ids, sfx, 12);
	snprintf(g->name, sizeof(g->name), "%.90s-ClusterNodeGroup-%.12s", ps, sfx);
	sim_rng_uuid(&m->rng_ids, uuid, sizeof(uuid));
	snprintf(g->arn, sizeof(g->arn), "arn:aws:autoscaling:%.16s:%.12s:autoScalingGroup:"
	    "%.36s:autoScalingGroupName/%.127s", m->p.region, m->p.account, uuid, g->name);
	sim_rng_alnum(&m->rng_ids, sfx, 12);
	snprintf(g->lc_name, sizeof(g->lc_name), "%.90s-ClusterNodeLaunchConfig-%.12s", ps,
	    sfx);
	sim_strlcpy(g->lc_version, m->p.version, sizeof(g->lc_version));
	g->new_protected = m->p.new_instances_protected;
	g->desired_at = SIM_NEVER;
	g->desired_alarm = -1;
	sim_alarms_init(m);
}

void
sim_asg_free(struct sim_asg *g)
{
	for (size_t i = 0; i < g->nact; i++)
		free(g->act[i]);
	free(g->act);
	g->act = NULL;
	g->nact = 0;
}
