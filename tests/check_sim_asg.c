/*
 * The model's ClusterNodeGroup: TerminateInstanceInAutoScalingGroup both ways with
 * AWS's refusals, activities and their causes, one activity at a time, draining
 * before termination, replacement on the launch configuration's current version,
 * scale-in by the default termination policy (and its hang when all are protected),
 * protection only on InService (or Standby), eventual consistency, suspended
 * processes; and what preflight refuses: Standby members, instance refreshes,
 * lifecycle hooks, ELB health checks (which replace a drained member).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

static int
in_service(struct sim_model *m)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		n += m->inst[i]->member && m->inst[i]->life == SIM_LC_IN_SERVICE;
	return n;
}

static int
listed(struct sim_model *m)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		n += sim_asg_listed(m, m->inst[i], m->now);
	return n;
}

START_TEST(group_at_zero)
{
	struct sim_model *m = test_model();

	ck_assert_int_eq(m->asg.min, 4);
	ck_assert_int_eq(m->asg.max, 4);
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_int_eq(in_service(m), 4);
	ck_assert_int_eq(listed(m), 4);
	ck_assert_int_eq(m->asg.nact, 4);
	for (size_t i = 0; i < m->asg.nact; i++) {
		ck_assert(m->asg.act[i]->launch);
		ck_assert_int_eq(m->asg.act[i]->status, SIM_ACT_SUCCESSFUL);
	}
	ck_assert_ptr_null(sim_asg_busy(m));
	ck_assert_msg(strstr(m->asg.name, "bitbucket-ClusterNodeGroup-") == m->asg.name,
	    "%s", m->asg.name);
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");
	ck_assert_int_eq(m->asg.suspended, 0);
	ck_assert_int_lt(m->asg.created, m->inst[1]->launch_time + 1);
	sim_model_free(m);
}
END_TEST

START_TEST(terminate_without_decrement)
{
	struct sim_model *m = test_model();
	struct sim_instance *v = test_member(m, 2), *r;
	struct sim_activity *a, *b;
	struct sim_err e;
	char want[SIM_MSG_MAX];

	ck_assert_int_eq(sim_asg_terminate(m, v->id, 0, 10000, &a, &e), 0);
	ck_assert_int_eq(strlen(a->id), 36);
	ck_assert_ptr_eq(sim_asg_activity_find(m, a->id), a);
	ck_assert_ptr_null(sim_asg_activity_find(m, "nope"));
	snprintf(want, sizeof(want), "Terminating EC2 instance: %s", v->id);
	ck_assert_str_eq(a->description, want);
	snprintf(want, sizeof(want), "At 2025-01-01T00:00:10Z instance %s was taken out "
	    "of service in response to a user request.", v->id);
	ck_assert_str_eq(a->cause, want);
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_int_eq(v->life, SIM_LC_TERMINATING);
	/* Nothing in flight: the drain is over at once and the shutdown has begun. */
	ck_assert_int_eq(a->status, SIM_ACT_IN_PROGRESS);
	ck_assert_int_eq(v->state, SIM_EC2_SHUTTING_DOWN);
	ck_assert_int_eq(v->elb.registered, 0);
	/* Eventually consistent: Describe* still says InService for a moment. */
	ck_assert_int_eq(sim_asg_life_shown(m, v, 10000), SIM_LC_IN_SERVICE);
	ck_assert_int_eq(sim_asg_life_shown(m, v, 10000 + m->p.consistency_lag),
	    SIM_LC_TERMINATING);
	ck_assert_str_eq(sim_lifecycle_name(SIM_LC_TERMINATING), "Terminating");
	ck_assert_str_eq(sim_lifecycle_name(SIM_LC_IN_SERVICE), "InService");
	/* One activity at a time. */
	ck_assert_ptr_eq(sim_asg_busy(m), a);
	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 10100, &b, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.code, "ScalingActivityInProgress");
	snprintf(want, sizeof(want), "Activity %s is in progress.", a->id);
	ck_assert_str_eq(e.message, want);
	sim_model_advance(m, 10000 + m->p.ec2_shutdown);
	ck_assert_int_eq(a->status, SIM_ACT_SUCCESSFUL);
	ck_assert_int_eq(a->end, 10000 + m->p.ec2_shutdown);
	ck_assert_int_eq(v->life, SIM_LC_TERMINATED);
	/* The replacement, launched at once with the launch configuration as it is. */
	r = m->inst[m->ninst - 1];
	ck_assert(r != v && r->member);
	ck_assert_int_eq(r->life, SIM_LC_PENDING);
	b = m->asg.act[m->asg.nact - 1];
	ck_assert(b->launch && b->inst == r);
	snprintf(want, sizeof(want), "Launching a new EC2 instance: %s", r->id);
	ck_assert_str_eq(b->description, want);
	ck_assert_str_eq(b->cause, "At 2025-01-01T00:00:11Z an instance was started in "
	    "response to a difference between desired and actual capacity, increasing "
	    "the capacity from 3 to 4.");
	ck_assert_int_eq(b->status, SIM_ACT_PRE_IN_SERVICE);
	ck_assert_ptr_eq(sim_asg_busy(m), b);
	sim_model_advance(m, 11000 + m->p.ec2_pending);
	ck_assert_int_eq(b->status, SIM_ACT_SUCCESSFUL);
	ck_assert_int_eq(r->life, SIM_LC_IN_SERVICE);
	ck_assert_ptr_null(sim_asg_busy(m));
	sim_model_advance(m, 60000);
	ck_assert_int_eq(listed(m), 4);
	ck_assert_int_eq(sim_asg_listed(m, v, m->now), 0);
	sim_model_free(m);
}
END_TEST

START_TEST(terminate_with_decrement)
{
	struct sim_model *m = test_model();
	struct sim_activity *a;
	struct sim_err e;
	char want[SIM_MSG_MAX];
	struct sim_instance *v = test_member(m, 0);

	ck_assert_int_eq(sim_asg_terminate(m, v->id, 1, 0, &a, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_str_eq(e.message, "Currently, desiredSize equals minSize (4). "
	    "Terminating instance without replacement will violate group's min size "
	    "constraint. Either set shouldDecrementDesiredCapacity flag to false or "
	    "lower group's min size.");
	ck_assert_int_eq(v->life, SIM_LC_IN_SERVICE);
	/* With room below desired, the group shrinks and launches nothing. */
	sim_asg_capacity(m, 3, 5, 4);
	ck_assert_int_eq(sim_asg_terminate(m, v->id, 1, 5000, &a, &e), 0);
	ck_assert_int_eq(m->asg.desired, 3);
	snprintf(want, sizeof(want), "At 2025-01-01T00:00:05Z instance %s was taken out "
	    "of service in response to a user request, shrinking the capacity from 4 "
	    "to 3.", v->id);
	ck_assert_str_eq(a->cause, want);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(v->life, SIM_LC_TERMINATED);
	ck_assert_int_eq(in_service(m), 3);
	ck_assert_int_eq(m->ninst, 5);
	sim_model_free(m);
}
END_TEST

START_TEST(terminate_unknown)
{
	struct sim_model *m = test_model();
	struct sim_activity *a;
	struct sim_err e;
	char want[SIM_MSG_MAX];

	ck_assert_int_eq(sim_asg_terminate(m, "i-0123456789abcdef0", 0, 0, &a, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_str_eq(e.message, "Instance Id not found - No managed instance found for "
	    "instance ID: i-0123456789abcdef0");
	/* The FileServer is not the group's to terminate. */
	ck_assert_int_eq(sim_asg_terminate(m, m->file_server->id, 0, 0, &a, &e), -1);
	snprintf(want, sizeof(want), "Instance Id not found - No managed instance found "
	    "for instance ID: %s", m->file_server->id);
	ck_assert_str_eq(e.message, want);
	ck_assert_int_eq(m->file_server->state, SIM_EC2_RUNNING);
	sim_model_free(m);
}
END_TEST

START_TEST(replacement_boots_current_version)
{
	struct sim_model *m = test_model();
	struct sim_activity *a;
	struct sim_err e;
	struct sim_instance *r;

	/* What the stack update does: metadata only, the same launch configuration. */
	strcpy(m->asg.lc_version, "7.9.4");
	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 1)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, 30000);
	r = m->inst[m->ninst - 1];
	ck_assert_str_eq(r->node.version, "7.9.4");
	ck_assert_str_eq(r->lc_name, test_member(m, 0)->lc_name);
	/* Without upgrade mode a 7.9.4 node cannot join a 7.9.0 cluster. */
	ck_assert_int_eq(r->node.state, SIM_NODE_ERROR);
	/* With it, it can. */
	ck_assert_int_eq(sim_zdu_start(m, 30000, &e), 0);
	ck_assert_int_eq(sim_asg_terminate(m, r->id, 0, 30000, &a, &e), 0);
	sim_model_advance(m, 60000);
	r = m->inst[m->ninst - 1];
	ck_assert_str_eq(r->node.version, "7.9.4");
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	sim_model_free(m);
}
END_TEST

static void
five_nodes(struct sim_params *p)
{
	p->nodes = 5;
}

/* Scale-in picks by policy among the unprotected: protect all but one, it goes. */
START_TEST(scale_in_spares_protected)
{
	struct sim_model *m = test_model_with(five_nodes);
	struct sim_err e;
	const char *keep[4];
	struct sim_instance *leaver = test_member(m, 2);
	int k = 0;

	for (int i = 0; i < 5; i++)
		if (test_member(m, i) != leaver)
			keep[k++] = test_member(m, i)->id;
	ck_assert_int_eq(sim_asg_set_protection(m, keep, 4, 1, 1000, &e), 0);
	ck_assert_int_eq(sim_asg_update_counts(m, 4, 4, &e), 0);
	sim_model_advance(m, 1000);
	ck_assert_int_eq(leaver->life, SIM_LC_TERMINATING);
	ck_assert_msg(strstr(m->asg.act[m->asg.nact - 1]->cause, "shrinking the capacity "
	    "from 5 to 4.") != NULL, "%s", m->asg.act[m->asg.nact - 1]->cause);
	ck_assert_msg(strstr(m->asg.act[m->asg.nact - 1]->cause, "a user request update "
	    "of AutoScalingGroup constraints to min: 4, max: 4, desired: 4 changing the "
	    "desired capacity from 5 to 4.") != NULL, "%s",
	    m->asg.act[m->asg.nact - 1]->cause);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(leaver->life, SIM_LC_TERMINATED);
	ck_assert_int_eq(in_service(m), 4);
	sim_model_free(m);
}
END_TEST

START_TEST(scale_in_hangs_when_all_protected)
{
	struct sim_model *m = test_model_with(five_nodes);
	struct sim_err e;
	const char *all[5];

	for (int i = 0; i < 5; i++)
		all[i] = test_member(m, i)->id;
	ck_assert_int_eq(sim_asg_set_protection(m, all, 5, 1, 0, &e), 0);
	ck_assert_int_eq(sim_asg_update_counts(m, 4, 4, &e), 0);
	sim_model_advance(m, 600000);
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_int_eq(in_service(m), 5);
	ck_assert(sim_asg_scale_in_blocked(m));
	/* Lifting one instance's protection lets the scale-in through. */
	ck_assert_int_eq(sim_asg_set_protection(m, all + 3, 1, 0, 600000, &e), 0);
	sim_model_advance(m, 600000);
	ck_assert_int_eq(test_member(m, 3)->life, SIM_LC_TERMINATING);
	ck_assert(!sim_asg_scale_in_blocked(m));
	sim_model_free(m);
}
END_TEST

START_TEST(termination_policy)
{
	struct sim_model *m = test_model_with(five_nodes);
	struct sim_instance *a = test_member(m, 0), *b = test_member(m, 1), *c = test_member(m, 2);
	const int64_t H = 3600 * 1000LL, T = 10 * H;

	sim_model_advance(m, T);
	a->launch_time = T - 5 * H - 1000;		/* 59:59 to its next hour */
	b->launch_time = T - 7 * H - 59 * 60000;	/* 1:00 to go: the victim */
	c->launch_time = T - 2 * H - 30 * 60000;	/* 30:00 */
	test_member(m, 3)->prot = test_member(m, 4)->prot = 1;
	ck_assert_ptr_eq(sim_asg_pick_victim(m), b);
	/* An older launch configuration comes first, whatever the hour. */
	strcpy(a->lc_name, "bitbucket-ClusterNodeLaunchConfig-OLD");
	ck_assert_ptr_eq(sim_asg_pick_victim(m), a);
	/* Protected instances are never picked; none left: none. */
	a->prot = b->prot = c->prot = 1;
	ck_assert_ptr_null(sim_asg_pick_victim(m));
	sim_model_free(m);
}
END_TEST

/* Ties broken by the seed: the same seed, the same choice. */
START_TEST(termination_policy_ties_deterministic)
{
	struct sim_model *x = test_model(), *y = test_model();
	int same = 1;

	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 4; i++)
			test_member(x, i)->launch_time = test_member(y, i)->launch_time = -3600000;
		same &= sim_asg_pick_victim(x)->idx == sim_asg_pick_victim(y)->idx;
	}
	ck_assert(same);
	sim_model_free(x);
	sim_model_free(y);
}
END_TEST

START_TEST(protection_only_in_service)
{
	struct sim_model *m = test_model();
	struct sim_activity *a;
	struct sim_err e;
	struct sim_instance *v = test_member(m, 0), *r;
	const char *ids[1];
	char want[SIM_MSG_MAX];

	ids[0] = test_member(m, 1)->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 1, 1, 0, &e), 0);
	ck_assert_int_eq(test_member(m, 1)->prot, 1);
	ck_assert_int_eq(sim_asg_prot_shown(m, test_member(m, 1), 0), 0);
	ck_assert_int_eq(sim_asg_prot_shown(m, test_member(m, 1), m->p.consistency_lag), 1);
	/* Terminating: refused. */
	ck_assert_int_eq(sim_asg_terminate(m, v->id, 0, 1000, &a, &e), 0);
	ids[0] = v->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 1, 1, 1000, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	snprintf(want, sizeof(want), "The instance %s is not in InService or "
	    "EnteringStandby or Standby.", v->id);
	ck_assert_str_eq(e.message, want);
	/* Pending: refused too. */
	sim_model_advance(m, 1000 + m->p.ec2_shutdown);
	r = m->inst[m->ninst - 1];
	ck_assert_int_eq(r->life, SIM_LC_PENDING);
	ids[0] = r->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 1, 1, m->now, &e), -1);
	ck_assert(strstr(e.message, "is not in InService") != NULL);
	/* Protection does not block an explicit terminate. */
	ids[0] = test_member(m, 1)->id;
	sim_model_advance(m, 30000);
	ck_assert_int_eq(sim_asg_terminate(m, ids[0], 0, 30000, &a, &e), 0);
	ck_assert_int_eq(test_member(m, 1)->life, SIM_LC_TERMINATING);
	/* Unknown: refused, and nothing changed. */
	ids[0] = "i-0aaaaaaaaaaaaaaaa";
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 1, 1, 30000, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	sim_model_free(m);
}
END_TEST

static void
born_protected(struct sim_params *p)
{
	p->new_instances_protected = 1;
}

START_TEST(new_instances_protected)
{
	struct sim_model *m = test_model_with(born_protected);
	struct sim_activity *a;
	struct sim_err e;

	ck_assert_int_eq(test_member(m, 0)->prot, 1);
	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, 30000);
	ck_assert_int_eq(m->inst[m->ninst - 1]->prot, 1);
	sim_model_free(m);
}
END_TEST

START_TEST(suspended_processes)
{
	struct sim_model *m = test_model();
	struct sim_activity *a;
	struct sim_err e;
	const char *launch[] = { "Launch" }, *bad[] = { "Nap" };
	unsigned all = (1u << SIM_NPROC) - 1;

	ck_assert_int_eq(sim_asg_suspend(m, NULL, 0, 0, &e), 0);
	ck_assert_uint_eq(m->asg.suspended, all);
	ck_assert_int_eq(sim_asg_resume(m, NULL, 0, 0, &e), 0);
	ck_assert_uint_eq(m->asg.suspended, 0);
	ck_assert_int_eq(sim_asg_suspend(m, bad, 1, 0, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_int_eq(sim_asg_suspend(m, launch, 1, 0, &e), 0);
	ck_assert_uint_eq(m->asg.suspended, 1u << SIM_PROC_LAUNCH);
	ck_assert_str_eq(sim_process_name(SIM_PROC_LAUNCH), "Launch");
	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(m->ninst, 5);		/* no replacement while Launch is off */
	ck_assert_int_eq(sim_asg_resume(m, launch, 1, 60000, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(m->ninst, 6);
	sim_model_free(m);
}
END_TEST

/* A member killed through EC2 is replaced only when the group's check notices. */
START_TEST(health_check_suspended_delays_replacement)
{
	struct sim_model *m = test_model();
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { test_member(m, 0)->id };
	const char *hc[] = { "HealthCheck" };

	ck_assert_int_eq(sim_asg_suspend(m, hc, 1, 0, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, 0, out, &e), 0);
	sim_model_advance(m, 120000);
	ck_assert_int_eq(test_member(m, 0)->life, SIM_LC_IN_SERVICE);
	ck_assert_int_eq(m->ninst, 5);
	ck_assert_int_eq(sim_asg_resume(m, hc, 1, 120000, &e), 0);
	sim_model_advance(m, 120000 + 2 * m->p.asg_health_check);
	ck_assert_int_eq(test_member(m, 0)->life, SIM_LC_TERMINATED);
	ck_assert_int_eq(m->ninst, 6);
	ck_assert_msg(strstr(m->asg.act[m->asg.nact - 2]->cause, "EC2 health check "
	    "indicating it has been terminated or stopped.") != NULL, "%s",
	    m->asg.act[m->asg.nact - 2]->cause);
	sim_model_free(m);
}
END_TEST

static void
launch_fails_once(struct sim_params *p)
{
	p->launch_fail = SIM_FAULT_ONCE;
}

/* EC2 out of capacity: a Failed activity with AWS's reason, then a retry. */
START_TEST(launch_failure_then_retry)
{
	struct sim_model *m = test_model_with(launch_fails_once);
	struct sim_activity *a, *f;
	struct sim_err e;
	char want[SIM_MSG_MAX + 64];

	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, m->p.ec2_shutdown);
	f = m->asg.act[m->asg.nact - 1];
	ck_assert(f->launch);
	ck_assert_ptr_null(f->inst);
	ck_assert_int_eq(f->status, SIM_ACT_FAILED);
	ck_assert_str_eq(f->status_message, "We currently do not have sufficient c5.xlarge "
	    "capacity in the Availability Zone you requested (us-east-1a). Our system will "
	    "be working on provisioning additional capacity. You can currently get "
	    "c5.xlarge capacity by not specifying an Availability Zone in your request or "
	    "choosing us-east-1b, us-east-1c. Launching EC2 instance failed.");
	snprintf(want, sizeof(want), "Launching a new EC2 instance.  Status Reason: %s",
	    f->status_message);
	ck_assert_str_eq(f->description, want);
	ck_assert_int_eq(m->ninst, 5);
	ck_assert_ptr_null(sim_asg_busy(m));
	sim_model_advance(m, m->p.ec2_shutdown + m->p.asg_health_check);
	ck_assert_int_eq(m->ninst, 6);
	ck_assert_int_eq(m->asg.act[m->asg.nact - 1]->status, SIM_ACT_PRE_IN_SERVICE);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(in_service(m), 4);
	sim_model_free(m);
}
END_TEST

/* ---- what the daemon's preflight refuses (aws-behaviours.md 15) ---- */

static int
count_life(struct sim_model *m, enum sim_lifecycle l)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		n += m->inst[i]->member && m->inst[i]->life == l;
	return n;
}

/* EnterStandby keeps desired: out of the ELB, a replacement; ExitStandby: +1. */
START_TEST(standby_enter_and_exit)
{
	struct sim_model *m = test_model();
	struct sim_instance *in = test_member(m, 1);
	const char *ids[1];
	struct sim_err e;
	size_t ninst = m->ninst;

	ck_assert_int_eq(sim_asg_standby_check(m, in, 0, &e), -1);
	ck_assert(strstr(e.message, "is not in Standby.") != NULL);
	ck_assert_int_eq(sim_asg_standby_check(m, in, 1, &e), 0);
	sim_asg_standby(m, in, 1);
	ck_assert_int_eq(in->life, SIM_LC_STANDBY);
	ck_assert_str_eq(sim_lifecycle_name(in->life), "Standby");
	ck_assert(sim_asg_listed(m, in, m->now + m->p.consistency_lag));
	ck_assert_int_eq(in->elb.registered, 0);	/* nothing in flight: drained */
	ck_assert_int_eq(in->node.state, SIM_NODE_ACTIVE);
	ck_assert_msg(strncmp(m->asg.act[m->asg.nact - 1]->description, "Moving EC2 "
	    "instance to Standby: i-", 34) == 0, "%s",
	    m->asg.act[m->asg.nact - 1]->description);
	ck_assert_int_eq(m->asg.act[m->asg.nact - 1]->status, SIM_ACT_SUCCESSFUL);
	sim_model_advance(m, 30000);
	ck_assert_uint_eq(m->ninst, ninst + 1);		/* the replacement */
	ck_assert_int_eq(in_service(m), 4);
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_int_eq(sim_asg_standby_check(m, in, 1, &e), -1);
	/* Protection works on Standby members too. */
	ids[0] = in->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 1, 1, m->now, &e), 0);
	/* Leaving would take desired beyond max: refused until max allows it. */
	ck_assert_int_eq(sim_asg_standby_check(m, in, 0, &e), -1);
	ck_assert_str_eq(e.message, "Leaving Standby would raise the desired capacity "
	    "to 5, above the group's max size (4).");
	ck_assert_int_eq(sim_asg_update_counts(m, 4, 5, &e), 0);
	ck_assert_int_eq(sim_asg_standby_check(m, in, 0, &e), 0);
	sim_asg_standby(m, in, 0);
	ck_assert_int_eq(m->asg.desired, 5);
	ck_assert_int_eq(in->life, SIM_LC_IN_SERVICE);
	ck_assert_int_eq(in->elb.registered, 1);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(in->elb.in_service, 1);
	ck_assert_int_eq(in_service(m), 5);
	sim_model_free(m);
}
END_TEST

static void
one_standby(struct sim_params *p)
{
	p->standby = 1;
	p->instance_refresh = 1;
	p->lifecycle_hooks = SIM_HOOK_TERMINATING;
}

/* The scenario's Standby member and refresh date from before the scenario. */
START_TEST(standby_and_refresh_from_the_scenario)
{
	struct sim_model *m = test_model_with(one_standby);
	struct sim_instance *sb = NULL;

	ck_assert_int_eq(count_life(m, SIM_LC_STANDBY), 1);
	ck_assert_int_eq(in_service(m), 4);
	ck_assert_int_eq(m->asg.desired, 4);
	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->life == SIM_LC_STANDBY)
			sb = m->inst[i];
	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(sb->elb.registered, 0);
	ck_assert_int_eq(sb->state, SIM_EC2_RUNNING);
	ck_assert_int_lt(sb->life_time, 0);
	ck_assert_ptr_null(sim_asg_busy(m));
	ck_assert_int_eq(strlen(m->asg.refresh.id), 36);
	ck_assert_int_lt(m->asg.refresh.start, 0);
	ck_assert_int_eq(m->asg.refresh.end, SIM_NEVER);
	ck_assert_int_eq(m->asg.refresh.instances, 4);
	ck_assert_str_eq(sim_hook_name(SIM_HOOK_TERMINATING), "terminating");
	ck_assert_str_eq(sim_hook_transition(SIM_HOOK_TERMINATING),
	    "autoscaling:EC2_INSTANCE_TERMINATING");
	ck_assert_uint_eq(sim_hook_lookup("launching"), SIM_HOOK_LAUNCHING);
	ck_assert_uint_eq(sim_hook_lookup("Launching"), 0);
	sim_model_advance(m, 5000);
	sim_asg_set_refresh(m, 0);
	ck_assert_int_eq(m->asg.refresh.end, 5000);
	sim_asg_set_refresh(m, 1);
	ck_assert_int_eq(m->asg.refresh.end, SIM_NEVER);
	ck_assert_int_eq(m->asg.refresh.start, 5000);
	sim_model_free(m);
}
END_TEST

/* The default group has none of it: no Standby, no refresh, no hook. */
START_TEST(default_refuses_nothing)
{
	struct sim_model *m = test_model();

	ck_assert_int_eq(count_life(m, SIM_LC_STANDBY), 0);
	ck_assert_str_eq(m->asg.refresh.id, "");
	ck_assert_uint_eq(m->p.lifecycle_hooks, 0);
	ck_assert_int_eq(m->p.health_check_elb, 0);
	ck_assert_str_eq(m->p.db_master, "");
	sim_model_free(m);
}
END_TEST

static void
elb_checks(struct sim_params *p)
{
	p->health_check_elb = 1;
	p->health_check_grace = 20000;
}

/* HealthCheckType ELB: a drained member is OutOfService, so the group replaces it. */
START_TEST(elb_health_check_replaces_drained)
{
	struct sim_model *m = test_model_with(elb_checks), *ec2 = test_model();
	const char *ids[1];
	struct sim_err e;
	int64_t t = 1000;

	ids[0] = test_member(m, 0)->id;
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, t, &e), 0);
	ids[0] = test_member(ec2, 0)->id;
	ck_assert_int_eq(sim_elb_deregister(ec2, ids, 1, t, &e), 0);
	sim_model_advance(m, t + m->p.asg_health_check + 1);
	sim_model_advance(ec2, t + 60000);
	ck_assert_int_eq(test_member(ec2, 0)->life, SIM_LC_IN_SERVICE);	/* EC2 checks */
	ck_assert_uint_eq(ec2->ninst, 5);
	ck_assert_int_eq(test_member(m, 0)->unhealthy, 1);
	ck_assert_int_ne(test_member(m, 0)->life, SIM_LC_IN_SERVICE);
	ck_assert_msg(strstr(m->asg.act[4]->cause, "an instance was taken out of service "
	    "in response to a ELB system health check failure.") != NULL, "%s",
	    m->asg.act[4]->cause);
	sim_model_advance(m, t + 60000);
	ck_assert_int_eq(test_member(m, 0)->life, SIM_LC_TERMINATED);
	ck_assert_int_eq(in_service(m), 4);
	sim_model_free(m);
	sim_model_free(ec2);
}
END_TEST

static void
elb_checks_stuck(struct sim_params *p)
{
	elb_checks(p);
	p->node_stuck = SIM_FAULT_ALWAYS;
}

/* A new member failing its ELB checks is left alone for the grace period. */
START_TEST(elb_health_check_grace)
{
	struct sim_model *m = test_model_with(elb_checks_stuck);
	struct sim_instance *fresh;
	struct sim_err e;

	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 0, NULL, &e), 0);
	sim_model_advance(m, 3000);
	fresh = m->inst[m->ninst - 1];
	ck_assert_int_eq(fresh->node.stuck, 1);
	sim_model_advance(m, fresh->launch_time + m->p.health_check_grace - 1);
	ck_assert_int_eq(fresh->unhealthy, 0);
	ck_assert_int_gt(fresh->elb.fail_run, m->p.unhealthy_threshold);
	sim_model_advance(m, fresh->launch_time + m->p.health_check_grace +
	    m->p.health_interval + m->p.asg_health_check + 1);
	ck_assert_int_eq(fresh->unhealthy, 1);
	ck_assert_int_eq(fresh->unhealthy_elb, 1);
	sim_model_free(m);
}
END_TEST

Suite *
sim_asg_suite(void)
{
	Suite *s = suite_create("sim_asg");
	TCase *tc = tcase_create("asg");

	tcase_add_test(tc, group_at_zero);
	tcase_add_test(tc, terminate_without_decrement);
	tcase_add_test(tc, terminate_with_decrement);
	tcase_add_test(tc, terminate_unknown);
	tcase_add_test(tc, replacement_boots_current_version);
	tcase_add_test(tc, scale_in_spares_protected);
	tcase_add_test(tc, scale_in_hangs_when_all_protected);
	tcase_add_test(tc, termination_policy);
	tcase_add_test(tc, termination_policy_ties_deterministic);
	tcase_add_test(tc, protection_only_in_service);
	tcase_add_test(tc, new_instances_protected);
	tcase_add_test(tc, suspended_processes);
	tcase_add_test(tc, health_check_suspended_delays_replacement);
	tcase_add_test(tc, launch_failure_then_retry);
	tcase_add_test(tc, standby_enter_and_exit);
	tcase_add_test(tc, standby_and_refresh_from_the_scenario);
	tcase_add_test(tc, default_refuses_nothing);
	tcase_add_test(tc, elb_health_check_replaces_drained);
	tcase_add_test(tc, elb_health_check_grace);
	suite_add_tcase(s, tc);
	return s;
}
