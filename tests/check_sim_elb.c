/*
 * The model's Classic ELB: registration at launch, health checks against /status
 * with their thresholds, the descriptions DescribeInstanceHealth gives, connection
 * draining (still InService, then not registered; clean or cut by the timeout),
 * and Auto Scaling terminations waiting for it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

/* Traffic: rate per second, every request lasting lo..hi ms. */
static struct sim_model *
model(double rate, int64_t lo, int64_t hi)
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.rate = rate;
	p.req[0] = (struct sim_req_class){ 1, lo, hi };
	p.req[1] = (struct sim_req_class){ 0, 1, 1 };
	p.req[2] = (struct sim_req_class){ 0, 1, 1 };
	return test_model_new(&p);
}

static void
health_is(struct sim_model *m, struct sim_instance *in, const char *state,
    const char *code, const char *desc)
{
	struct sim_elb_health h;

	sim_elb_health(m, in, &h);
	ck_assert_str_eq(h.state, state);
	ck_assert_str_eq(h.reason_code, code);
	ck_assert_str_eq(h.description, desc);
}

static const char NOT_REGISTERED[] =
    "Instance is not currently registered with the LoadBalancer";
static const char DRAINING[] = "Instance deregistration currently in progress";

START_TEST(in_service_at_zero)
{
	struct sim_model *m = model(0, 1, 1);

	for (int i = 0; i < 4; i++)
		health_is(m, test_member(m, i), "InService", "N/A", "N/A");
	health_is(m, m->file_server, "OutOfService", "N/A", NOT_REGISTERED);
	ck_assert_int_eq(strlen(m->elb.name), 32);
	sim_model_free(m);
}
END_TEST

/* A new node: registered at launch, OutOfService until healthy, then InService. */
START_TEST(new_instance_becomes_healthy)
{
	struct sim_model *m = model(0, 1, 1);
	struct sim_activity *a;
	struct sim_cpath c;
	struct sim_err e;
	struct sim_instance *r;
	int64_t launched, healthy;

	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, m->p.ec2_shutdown);
	r = m->inst[m->ninst - 1];
	launched = r->launch_time;
	ck_assert_int_eq(r->elb.registered, 0);		/* at running, not before */
	sim_model_advance(m, launched + m->p.ec2_pending);
	ck_assert_int_eq(r->elb.registered, 1);
	health_is(m, r, "OutOfService", "ELB", "Instance registration is still in progress.");
	sim_model_advance(m, launched + m->p.ec2_pending + 2 * m->p.health_interval);
	health_is(m, r, "OutOfService", "Instance", "Instance has failed at least the "
	    "UnhealthyThreshold number of health checks consecutively.");
	sim_critical_path(&m->p, 4, 1, &c);
	healthy = launched + c.boot;
	sim_model_advance(m, healthy - 1);
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	health_is(m, r, "OutOfService", "Instance", "Instance has failed at least the "
	    "UnhealthyThreshold number of health checks consecutively.");
	sim_model_advance(m, healthy);
	health_is(m, r, "InService", "N/A", "N/A");
	sim_model_free(m);
}
END_TEST

START_TEST(deregister_idle_is_immediate)
{
	struct sim_model *m = model(0, 1, 1);
	struct sim_err e;
	const char *ids[] = { test_member(m, 1)->id };

	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 100, &e), 0);
	health_is(m, test_member(m, 1), "OutOfService", "N/A", NOT_REGISTERED);
	ck_assert(!sim_elb_routable(test_member(m, 1)));
	/* Still running and ACTIVE: only the ELB let it go. */
	ck_assert_int_eq(test_member(m, 1)->node.state, SIM_NODE_ACTIVE);
	sim_model_free(m);
}
END_TEST

START_TEST(deregister_unknown)
{
	struct sim_model *m = model(0, 1, 1);
	struct sim_err e;
	const char *ids[] = { "i-0123456789abcdef0" };

	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 0, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.code, "InvalidInstance");
	ck_assert_str_eq(e.message, "Could not find EC2 instance i-0123456789abcdef0.");
	ck_assert_int_eq(sim_elb_register(m, ids, 1, 0, &e), -1);
	ck_assert_str_eq(e.code, "InvalidInstance");
	sim_model_free(m);
}
END_TEST

/* Short requests: the drain ends clean as soon as the last one does. */
START_TEST(drain_clean)
{
	struct sim_model *m = model(50, 300, 400);
	struct sim_instance *v = test_member(m, 2);
	struct sim_err e;
	const char *ids[] = { v->id };
	uint64_t failed;

	sim_model_advance(m, 10000);
	ck_assert_int_gt(v->inflight, 0);
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 10000, &e), 0);
	health_is(m, v, "InService", "N/A", DRAINING);
	ck_assert(!sim_elb_routable(v));
	sim_model_advance(m, 10401);
	health_is(m, v, "OutOfService", "N/A", NOT_REGISTERED);
	ck_assert_int_eq(v->inflight, 0);
	failed = m->traffic.failed[SIM_FAIL_DRAIN_CUT] + m->traffic.failed[SIM_FAIL_NODE_DIED];
	ck_assert_uint_eq(failed, 0);
	ck_assert_str_eq(m->hist.rec[m->hist.n - 1].a, "deregistered");
	sim_model_free(m);
}
END_TEST

/* Requests longer than the timeout: cut when it expires, and counted. */
START_TEST(drain_forced)
{
	struct sim_model *m = model(20, 20000, 30000);
	struct sim_instance *v = test_member(m, 0);
	struct sim_err e;
	const char *ids[] = { v->id };
	int cut;

	sim_model_advance(m, 10000);
	cut = v->inflight;
	ck_assert_int_gt(cut, 0);
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 10000, &e), 0);
	sim_model_advance(m, 10000 + m->p.drain_timeout - 1);
	health_is(m, v, "InService", "N/A", DRAINING);
	sim_model_advance(m, 10000 + m->p.drain_timeout);
	health_is(m, v, "OutOfService", "N/A", NOT_REGISTERED);
	ck_assert_uint_eq(m->traffic.failed[SIM_FAIL_DRAIN_CUT], (uint64_t)cut);
	ck_assert_uint_eq(m->traffic.failed_short, 0);	/* all longer than the timeout */
	sim_model_free(m);
}
END_TEST

/* The group's own termination waits for the drain before the instance goes. */
START_TEST(asg_termination_waits_for_draining)
{
	struct sim_model *m = model(20, 20000, 30000);
	struct sim_instance *v = test_member(m, 3);
	struct sim_activity *a;
	struct sim_err e;

	sim_model_advance(m, 10000);
	ck_assert_int_gt(v->inflight, 0);
	ck_assert_int_eq(sim_asg_terminate(m, v->id, 0, 10000, &a, &e), 0);
	ck_assert_int_eq(a->status, SIM_ACT_WAITING_FOR_ELB_DRAINING);
	ck_assert_str_eq(sim_activity_status_name(a->status), "WaitingForELBConnectionDraining");
	health_is(m, v, "InService", "N/A", DRAINING);
	sim_model_advance(m, 10000 + m->p.drain_timeout - 1);
	ck_assert_int_eq(v->state, SIM_EC2_RUNNING);
	sim_model_advance(m, 10000 + m->p.drain_timeout);
	ck_assert_int_eq(a->status, SIM_ACT_IN_PROGRESS);
	ck_assert_int_eq(v->state, SIM_EC2_SHUTTING_DOWN);
	sim_model_advance(m, 10000 + m->p.drain_timeout + m->p.ec2_shutdown);
	ck_assert_int_eq(a->status, SIM_ACT_SUCCESSFUL);
	sim_model_free(m);
}
END_TEST

/* Registering a draining instance again ends the drain; it keeps serving. */
START_TEST(register_cancels_drain)
{
	struct sim_model *m = model(20, 20000, 30000);
	struct sim_instance *v = test_member(m, 1);
	struct sim_err e;
	const char *ids[] = { v->id };

	sim_model_advance(m, 10000);
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 10000, &e), 0);
	ck_assert_int_eq(sim_elb_register(m, ids, 1, 11000, &e), 0);
	health_is(m, v, "InService", "N/A", "N/A");
	ck_assert(sim_elb_routable(v));
	sim_model_advance(m, 30000);
	ck_assert_uint_eq(m->traffic.failed[SIM_FAIL_DRAIN_CUT], 0);
	health_is(m, v, "InService", "N/A", "N/A");
	/* Registering one not registered: healthy again after the threshold. */
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 30000, &e), 0);
	sim_model_advance(m, 30000 + m->p.drain_timeout);
	ck_assert_int_eq(sim_elb_register(m, ids, 1, m->now, &e), 0);
	health_is(m, v, "OutOfService", "ELB", "Instance registration is still in progress.");
	sim_model_advance(m, m->now + m->p.healthy_threshold * m->p.health_interval);
	health_is(m, v, "InService", "N/A", "N/A");
	sim_model_free(m);
}
END_TEST

/* A killed instance stays InService until unhealthy_threshold checks fail. */
START_TEST(killed_instance_goes_out_of_service)
{
	struct sim_model *m = model(0, 1, 1);
	struct sim_instance *v = test_member(m, 0);
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { v->id }, *hc[] = { "HealthCheck" };

	/* Keep the group from noticing first: this is about the ELB's own checks. */
	ck_assert_int_eq(sim_asg_suspend(m, hc, 1, 0, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, 1, out, &e), 0);
	health_is(m, v, "InService", "N/A", "N/A");
	sim_model_advance(m, 1 + m->p.unhealthy_threshold * m->p.health_interval);
	health_is(m, v, "OutOfService", "Instance", "Instance is in terminated state.");
	sim_model_free(m);
}
END_TEST

/* A node that cannot be reached long enough fails its checks, then recovers. */
START_TEST(blip_fails_health_checks)
{
	struct sim_model *m = model(0, 1, 1);
	struct sim_instance *v = test_member(m, 2);
	int http;
	const char *state;

	ck_assert_int_eq(sim_node_status(m, v, 0, &http, &state), 0);
	ck_assert_int_eq(http, 200);
	ck_assert_str_eq(state, "RUNNING");
	sim_node_blip(m, v, 0);
	ck_assert_int_eq(sim_node_status(m, v, 0, &http, &state), -1);
	sim_model_advance(m, m->p.unreachable - 1);
	ck_assert_int_eq(v->elb.in_service, 0);
	sim_model_advance(m, m->p.unreachable + 2 * m->p.health_interval);
	ck_assert_int_eq(v->elb.in_service, 1);
	sim_model_free(m);
}
END_TEST

Suite *
sim_elb_suite(void)
{
	Suite *s = suite_create("sim_elb");
	TCase *tc = tcase_create("elb");

	tcase_add_test(tc, in_service_at_zero);
	tcase_add_test(tc, new_instance_becomes_healthy);
	tcase_add_test(tc, deregister_idle_is_immediate);
	tcase_add_test(tc, deregister_unknown);
	tcase_add_test(tc, drain_clean);
	tcase_add_test(tc, drain_forced);
	tcase_add_test(tc, asg_termination_waits_for_draining);
	tcase_add_test(tc, register_cancels_drain);
	tcase_add_test(tc, killed_instance_goes_out_of_service);
	tcase_add_test(tc, blip_fails_health_checks);
	suite_add_tcase(s, tc);
	return s;
}
