/*
 * The history and what is judged from it: the invariant report I1 to I7 (each
 * broken on purpose, with its first violating record), the API call counters and
 * AWS's throttling, and the critical-path bound term by term.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

static struct sim_model *
model(double rate)
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.rate = rate;
	return test_model_new(&p);
}

static const struct sim_record *
first_of(struct sim_model *m, const struct sim_report *rep, int i)
{
	ck_assert_int_ge(rep->inv[i].first, 0);
	ck_assert_int_lt(rep->inv[i].first, (long)m->hist.n);
	return &m->hist.rec[rep->inv[i].first];
}

START_TEST(records_every_change)
{
	struct sim_model *m = model(0);
	struct sim_activity *a;
	struct sim_err e;
	size_t before = m->hist.n;
	int kinds[16] = { 0 };

	ck_assert_uint_gt(before, 0);
	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 0)->id, 0, 1000, &a, &e), 0);
	sim_model_advance(m, 60000);
	for (size_t i = before; i < m->hist.n; i++) {
		kinds[m->hist.rec[i].kind]++;
		if (i > 0)
			ck_assert_int_ge(m->hist.rec[i].t, m->hist.rec[i - 1].t);
	}
	ck_assert_int_gt(kinds[SIM_REC_CALL], 0);
	ck_assert_int_gt(kinds[SIM_REC_ACTIVITY], 0);
	ck_assert_int_gt(kinds[SIM_REC_LIFECYCLE], 0);
	ck_assert_int_gt(kinds[SIM_REC_ELB], 0);
	ck_assert_int_gt(kinds[SIM_REC_DRAIN], 0);
	ck_assert_int_gt(kinds[SIM_REC_EC2], 0);
	ck_assert_int_gt(kinds[SIM_REC_NODE], 0);
	ck_assert_str_eq(sim_rec_kind_name(SIM_REC_ELB), "elb");
	sim_model_free(m);
}
END_TEST

START_TEST(quiet_run_judges_nothing_of_an_upgrade)
{
	struct sim_model *m = model(20);
	struct sim_report rep;

	sim_report(m, 60000, &rep);
	ck_assert(rep.ok);
	ck_assert(!rep.inv[0].judged && !rep.inv[1].judged && !rep.inv[5].judged);
	ck_assert(rep.inv[2].judged && rep.inv[6].judged);
	ck_assert_int_eq(rep.upgrade_start, -1);
	ck_assert_str_eq(rep.inv[0].id, "I1");
	sim_model_free(m);
}
END_TEST

/* I1: during the upgrade, a node drained with no surge to cover it. */
START_TEST(i1_capacity)
{
	struct sim_model *m = model(0);
	struct sim_report rep;
	struct sim_err e;
	const char *ids[] = { test_member(m, 1)->id };

	ck_assert_int_eq(sim_zdu_start(m, 1000, &e), 0);
	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, 2000, &e), 0);
	sim_report(m, 3000, &rep);
	ck_assert(!rep.inv[0].ok);
	ck_assert_int_eq(first_of(m, &rep, 0)->kind, SIM_REC_ELB);
	ck_assert_str_eq(first_of(m, &rep, 0)->a, "draining");
	ck_assert_int_eq(rep.inv[0].first_t, 2000);
	ck_assert_msg(strstr(rep.inv[0].why, "3 node(s) serving, fewer than the 4") != NULL,
	    "%s", rep.inv[0].why);
	ck_assert(rep.inv[1].ok);		/* one out: within surge 1 */
	ck_assert(!rep.inv[5].ok);		/* and the upgrade never finished */
	sim_model_free(m);
}
END_TEST

/* I2: two nodes out of service at once with surge 1; two terminations in flight. */
START_TEST(i2_out_of_service)
{
	struct sim_model *m = model(0);
	struct sim_ec2_change out[1];
	struct sim_report rep;
	struct sim_err e;
	const char *a[] = { test_member(m, 1)->id }, *b[] = { test_member(m, 2)->id };

	ck_assert_int_eq(sim_zdu_start(m, 1000, &e), 0);
	ck_assert_int_eq(sim_elb_deregister(m, a, 1, 2000, &e), 0);
	ck_assert_int_eq(sim_elb_deregister(m, b, 1, 3000, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, a, 1, 4000, out, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, b, 1, 4000, out, &e), 0);
	sim_report(m, 5000, &rep);
	ck_assert(!rep.inv[1].ok);
	ck_assert_int_eq(rep.inv[1].first_t, 3000);
	ck_assert_str_eq(first_of(m, &rep, 1)->obj, b[0]);
	/* Each instant in violation counts, and so does the second termination. */
	ck_assert_uint_ge(rep.inv[1].violations, 2);
	sim_model_free(m);
}
END_TEST

/* I3: the FileServer drained and terminated. */
START_TEST(i3_file_server)
{
	struct sim_model *m = model(0);
	struct sim_ec2_change out[1];
	struct sim_report rep;
	struct sim_err e;
	const char *fs[] = { m->file_server->id };

	ck_assert_int_eq(sim_elb_deregister(m, fs, 1, 1000, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, fs, 1, 2000, out, &e), 0);
	sim_report(m, 3000, &rep);
	ck_assert(!rep.inv[2].ok);
	ck_assert_uint_eq(rep.inv[2].violations, 2);
	ck_assert_str_eq(first_of(m, &rep, 2)->a, "DeregisterInstancesFromLoadBalancer");
	ck_assert_msg(strstr(rep.inv[2].why, "NFS FileServer") != NULL, "%s",
	    rep.inv[2].why);
	ck_assert(rep.inv[3].ok);		/* it was never registered */
	sim_model_free(m);
}
END_TEST

/* I4: terminated while registered (EC2), but not after a drain (ASG). */
START_TEST(i4_terminated_registered)
{
	struct sim_model *m = model(0);
	struct sim_ec2_change out[1];
	struct sim_activity *act;
	struct sim_report rep;
	struct sim_err e;
	const char *a[] = { test_member(m, 0)->id };

	ck_assert_int_eq(sim_asg_terminate(m, test_member(m, 1)->id, 0, 1000, &act, &e), 0);
	sim_report(m, 30000, &rep);
	ck_assert(rep.inv[3].ok);
	ck_assert_int_eq(sim_ec2_terminate(m, a, 1, 30000, out, &e), 0);
	sim_report(m, 31000, &rep);
	ck_assert(!rep.inv[3].ok);
	ck_assert_str_eq(first_of(m, &rep, 3)->a, "shutting-down");
	ck_assert_str_eq(first_of(m, &rep, 3)->obj, a[0]);
	sim_model_free(m);
}
END_TEST

/* I5: the same destructive call twice. */
START_TEST(i5_duplicates)
{
	struct sim_model *m = model(0);
	struct sim_ec2_change out[1];
	struct sim_report rep;
	struct sim_err e;
	const char *a[] = { test_member(m, 0)->id }, *b[] = { test_member(m, 1)->id };

	ck_assert_int_eq(sim_zdu_start(m, 1000, &e), 0);
	ck_assert_int_eq(sim_zdu_start(m, 1100, &e), -1);
	sim_report(m, 1200, &rep);
	ck_assert(!rep.inv[4].ok);
	ck_assert_str_eq(first_of(m, &rep, 4)->a, "zdu/start");
	ck_assert_int_eq(first_of(m, &rep, 4)->n, 409);
	sim_model_free(m);

	m = model(0);
	a[0] = test_member(m, 0)->id;
	b[0] = test_member(m, 1)->id;
	ck_assert_int_eq(sim_asg_set_protection(m, b, 1, 1, 1000, &e), 0);
	ck_assert_int_eq(sim_asg_set_protection(m, b, 1, 1, 1100, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, a, 1, 2000, out, &e), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, a, 1, 2100, out, &e), 0);
	ck_assert_int_eq(sim_elb_deregister(m, b, 1, 3000, &e), 0);
	ck_assert_int_eq(sim_elb_deregister(m, b, 1, 3100, &e), 0);
	sim_report(m, 4000, &rep);
	ck_assert_uint_eq(rep.inv[4].violations, 3);
	ck_assert_str_eq(first_of(m, &rep, 4)->a, "SetInstanceProtection");
	ck_assert_int_eq(rep.inv[4].first_t, 1100);
	sim_model_free(m);
}
END_TEST

/* I7: short requests lost to an EC2 kill; long ones cut by a drain only counted. */
START_TEST(i7_requests)
{
	struct sim_model *m = model(30);
	struct sim_ec2_change out[1];
	struct sim_report rep;
	struct sim_err e;
	const char *a[] = { test_member(m, 0)->id }, *b[] = { test_member(m, 1)->id };

	ck_assert_int_eq(sim_elb_deregister(m, b, 1, 60000, &e), 0);
	sim_report(m, 70000, &rep);
	ck_assert(rep.inv[6].ok);
	ck_assert_uint_eq(rep.requests_cut_long, m->traffic.failed[SIM_FAIL_DRAIN_CUT]);
	ck_assert_int_eq(rep.drains_clean + rep.drains_forced, 1);
	ck_assert_int_eq(sim_ec2_terminate(m, a, 1, 70000, out, &e), 0);
	sim_report(m, 80000, &rep);
	ck_assert(!rep.inv[6].ok);
	ck_assert_int_eq(first_of(m, &rep, 6)->kind, SIM_REC_REQUEST);
	ck_assert_int_lt(first_of(m, &rep, 6)->n, m->p.drain_timeout);
	ck_assert_uint_eq(rep.inv[6].violations, m->traffic.failed_short);
	sim_model_free(m);
}
END_TEST

/* I6: cancel with nothing changed is a finished upgrade back where it began. */
START_TEST(i6_cancelled_is_clean)
{
	struct sim_model *m = model(0);
	struct sim_report rep;
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 1000, &e), 0);
	ck_assert_int_eq(sim_zdu_cancel(m, 2000, &e), 0);
	sim_report(m, 3000, &rep);
	ck_assert(rep.ok);
	ck_assert_int_eq(rep.upgrade_end, 2000);
	sim_model_free(m);
}
END_TEST

START_TEST(i6_end_state_differs)
{
	struct sim_model *m = model(0);
	struct sim_report rep;
	struct sim_err e;
	const char *procs[] = { "AZRebalance" };

	ck_assert_int_eq(sim_zdu_start(m, 1000, &e), 0);
	ck_assert_int_eq(sim_asg_suspend(m, procs, 1, 1500, &e), 0);
	ck_assert_int_eq(sim_zdu_cancel(m, 2000, &e), 0);
	sim_report(m, 3000, &rep);
	ck_assert(!rep.inv[5].ok);
	ck_assert_msg(strstr(rep.inv[5].why, "suspended processes") != NULL, "%s",
	    rep.inv[5].why);
	sim_model_free(m);
}
END_TEST

START_TEST(api_counts_and_throttling)
{
	struct sim_model *m = model(0);
	const struct sim_call_count *c;
	struct sim_err e;
	size_t n;
	int refused = 0;

	for (int i = 0; i < 150; i++)
		refused += sim_api_call(m, SIM_SVC_AUTOSCALING, "DescribeAutoScalingGroups",
		    1000, &e) == -1;
	ck_assert_int_eq(refused, 50);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.code, "Throttling");
	ck_assert_str_eq(e.message, "Rate exceeded");
	/* A second later: refill tokens. */
	ck_assert_int_eq(sim_api_call(m, SIM_SVC_AUTOSCALING, "DescribeScalingActivities",
	    2000, &e), 0);
	for (int i = 0; i < 100; i++)
		refused = sim_api_call(m, SIM_SVC_EC2, "DescribeInstances", 2000, &e);
	ck_assert_int_eq(refused, 0);
	ck_assert_int_eq(sim_api_call(m, SIM_SVC_EC2, "DescribeInstances", 2000, &e), -1);
	ck_assert_int_eq(e.status, 503);
	ck_assert_str_eq(e.code, "RequestLimitExceeded");
	ck_assert_str_eq(e.message, "Request limit exceeded.");
	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(sim_api_call(m, SIM_SVC_BITBUCKET, "GET /rest/zdu/cluster",
		    2000, &e), 0);
	c = sim_api_counts(m, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(c[0].action, "DescribeAutoScalingGroups");
	ck_assert_uint_eq(c[0].calls, 150);
	ck_assert_uint_eq(c[0].throttled, 50);
	ck_assert_uint_eq(c[2].calls, 101);
	ck_assert_uint_eq(c[3].calls, 500);
	ck_assert_uint_eq(c[3].throttled, 0);
	sim_model_free(m);
}
END_TEST

START_TEST(critical_path_terms)
{
	struct sim_params p;
	struct sim_cpath c;
	int64_t total;

	sim_params_defaults(&p);
	total = sim_critical_path(&p, 4, 1, &c);
	/* launch -> running 1 s; ACTIVE at 8 s; checks at 3, 5, 7, 9, 11 s after launch. */
	ck_assert_int_eq(c.boot, 11000);
	ck_assert_int_eq(c.stack_change, 4000);
	ck_assert_int_eq(c.surge, 1000 + 1500 + 11000);
	ck_assert_int_eq(c.rounds, 3);
	ck_assert_int_eq(c.replace, 1000 + 11000);
	ck_assert_int_eq(c.retire, 4000 + 1000);
	ck_assert_int_eq(total, c.surge + 3 * c.replace + c.retire + c.finalize);
	/* Surge 2: two rounds; surge N: a blue/green switch, no round. */
	sim_critical_path(&p, 4, 2, &c);
	ck_assert_int_eq(c.rounds, 1);
	sim_critical_path(&p, 4, 4, &c);
	ck_assert_int_eq(c.rounds, 0);
}
END_TEST

Suite *
sim_history_suite(void)
{
	Suite *s = suite_create("sim_history");
	TCase *tc = tcase_create("history");

	tcase_add_test(tc, records_every_change);
	tcase_add_test(tc, quiet_run_judges_nothing_of_an_upgrade);
	tcase_add_test(tc, i1_capacity);
	tcase_add_test(tc, i2_out_of_service);
	tcase_add_test(tc, i3_file_server);
	tcase_add_test(tc, i4_terminated_registered);
	tcase_add_test(tc, i5_duplicates);
	tcase_add_test(tc, i7_requests);
	tcase_add_test(tc, i6_cancelled_is_clean);
	tcase_add_test(tc, i6_end_state_differs);
	tcase_add_test(tc, api_counts_and_throttling);
	tcase_add_test(tc, critical_path_terms);
	suite_add_tcase(s, tc);
	return s;
}
