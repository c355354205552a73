/*
 * The model's Bitbucket side: nodes booting to ACTIVE (or ERROR, or stuck) on the
 * version they launched with, the rolling-upgrade join rule, /status, the ZDU
 * cluster state by the six rules of bitbucket-zdu.md (one test per row), the
 * start/cancel/approve/retry guards, the snapshot's OFFLINE entries, finalization.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

/* The i-th live member, oldest first. */
static struct sim_instance *
member(struct sim_model *m, int i)
{
	for (size_t k = 0; k < m->ninst; k++)
		if (m->inst[k]->member && m->inst[k]->state != SIM_EC2_TERMINATED &&
		    i-- == 0)
			return m->inst[k];
	ck_abort_msg("no such member");
	return NULL;
}

static enum sim_zdu_state
state(struct sim_model *m)
{
	return sim_zdu_state(m);
}

/* Replaces member i with a node on version (as the stack would), and waits. */
static struct sim_instance *
replace(struct sim_model *m, int i, const char *version)
{
	struct sim_activity *a;
	struct sim_err e;

	sim_strlcpy(m->asg.lc_version, version, sizeof(m->asg.lc_version));
	ck_assert_int_eq(sim_asg_terminate(m, member(m, i)->id, 0, m->now, &a, &e), 0);
	sim_model_advance(m, m->now + 30000);
	return m->inst[m->ninst - 1];
}

static void
is_409(int rc, const struct sim_err *e)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e->status, 409);
	ck_assert_str_eq(e->code, "");
	ck_assert_str_eq(e->message, "");
}

START_TEST(node_boots_to_active)
{
	struct sim_model *m = test_model();
	struct sim_instance *r;
	struct sim_activity *a;
	struct sim_err e;
	int http;
	const char *st;

	ck_assert_int_eq(sim_asg_terminate(m, member(m, 0)->id, 0, 0, &a, &e), 0);
	sim_model_advance(m, m->p.ec2_shutdown);
	r = m->inst[m->ninst - 1];
	ck_assert_int_eq(r->node.state, SIM_NODE_NONE);
	ck_assert_int_eq(sim_node_status(m, r, m->now, &http, &st), -1);
	sim_model_advance(m, r->launch_time + m->p.ec2_pending);
	ck_assert_int_eq(r->node.state, SIM_NODE_STARTING);
	ck_assert_int_eq(sim_node_status(m, r, m->now, &http, &st), 0);
	ck_assert_int_eq(http, 503);
	ck_assert_str_eq(st, "STARTING");
	sim_model_advance(m, r->launch_time + m->p.node_boot - 1);
	ck_assert_int_eq(r->node.state, SIM_NODE_STARTING);
	sim_model_advance(m, r->launch_time + m->p.node_boot);
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	ck_assert_int_eq(sim_node_status(m, r, m->now, &http, &st), 0);
	ck_assert_int_eq(http, 200);
	ck_assert_str_eq(st, "RUNNING");
	ck_assert_int_eq(strlen(r->node.id), 8);
	ck_assert_msg(strncmp(r->node.name, "ip-10-0-", 8) == 0, "%s", r->node.name);
	sim_model_free(m);
}
END_TEST

static void
error_once(struct sim_params *p)
{
	p->node_error = SIM_FAULT_ONCE;
}

static void
error_always_on_794(struct sim_params *p)
{
	p->node_error = SIM_FAULT_ALWAYS;
	strcpy(p->fault_version, "7.9.4");
}

static void
stuck_once(struct sim_params *p)
{
	p->node_stuck = SIM_FAULT_ONCE;
}

START_TEST(fault_error_once)
{
	struct sim_model *m = test_model_with(error_once);
	struct sim_instance *r;
	int http;
	const char *st;

	/* The nodes the scenario starts with are never faulty. */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(member(m, i)->node.state, SIM_NODE_ACTIVE);
	r = replace(m, 0, "7.9.0");
	ck_assert_int_eq(r->node.state, SIM_NODE_ERROR);
	ck_assert_int_eq(sim_node_status(m, r, m->now, &http, &st), 0);
	ck_assert_int_eq(http, 500);
	ck_assert_str_eq(sim_node_state_name(r->node.state), "ERROR");
	r = replace(m, 1, "7.9.0");
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	sim_model_free(m);
}
END_TEST

START_TEST(fault_targets_a_version)
{
	struct sim_model *m = test_model_with(error_always_on_794);
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	ck_assert_int_eq(replace(m, 0, "7.9.0")->node.state, SIM_NODE_ACTIVE);
	ck_assert_int_eq(replace(m, 1, "7.9.4")->node.state, SIM_NODE_ERROR);
	ck_assert_int_eq(replace(m, 2, "7.9.4")->node.state, SIM_NODE_ERROR);
	ck_assert_int_eq(state(m), SIM_ZDU_MIXED);
	sim_model_free(m);
}
END_TEST

START_TEST(fault_stuck_starting)
{
	struct sim_model *m = test_model_with(stuck_once);
	struct sim_instance *r = replace(m, 0, "7.9.0");

	sim_model_advance(m, m->now + 3600 * 1000);
	ck_assert_int_eq(r->node.state, SIM_NODE_STARTING);
	ck_assert_int_eq(r->elb.in_service, 0);
	sim_model_free(m);
}
END_TEST

static const struct {
	const char	*to;
	enum sim_node_state want;
} joins[] = {
	{ "7.9.4", SIM_NODE_ACTIVE },		/* bug-fix release: yes */
	{ "7.9.0", SIM_NODE_ACTIVE },		/* the original (rollback): yes */
	{ "7.9.1-rc1", SIM_NODE_ACTIVE },
	{ "7.10.0", SIM_NODE_ERROR },		/* feature release: no */
	{ "8.0.0", SIM_NODE_ERROR },		/* major: no */
	{ "7.8.9", SIM_NODE_ERROR },		/* older: no */
	{ "7.9.0-rc1", SIM_NODE_ERROR },	/* pre-release of the original: older */
};

START_TEST(join_rule_in_upgrade_mode)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	ck_assert_int_eq(replace(m, 0, joins[_i].to)->node.state, joins[_i].want);
	sim_model_free(m);
}
END_TEST

START_TEST(join_rule_without_upgrade_mode)
{
	struct sim_model *m = test_model();

	ck_assert_int_eq(replace(m, 0, "7.9.4")->node.state, SIM_NODE_ERROR);
	ck_assert_int_eq(replace(m, 1, "7.9.0")->node.state, SIM_NODE_ACTIVE);
	sim_model_free(m);
}
END_TEST

/* ---- the six rules, one row each ---- */

START_TEST(rule1_finalization_running)
{
	struct sim_model *m = test_model();

	m->zdu.finalizing = 1;
	ck_assert_int_eq(state(m), SIM_ZDU_RUNNING_UPGRADE_TASKS);
	m->zdu.upgrade_mode = 1;
	ck_assert_int_eq(state(m), SIM_ZDU_RUNNING_UPGRADE_TASKS);
	sim_model_free(m);
}
END_TEST

START_TEST(rule2_mode_off)
{
	struct sim_model *m = test_model();

	ck_assert_int_eq(state(m), SIM_ZDU_STABLE);
	/* Off means STABLE whatever the nodes: an ERROR node, two versions. */
	member(m, 0)->node.state = SIM_NODE_ERROR;
	strcpy(member(m, 1)->node.version, "7.9.4");
	ck_assert_int_eq(state(m), SIM_ZDU_STABLE);
	m->zdu.tasks_failed = 1;
	ck_assert_int_eq(state(m), SIM_ZDU_UPGRADE_TASKS_FAILED);
	ck_assert_str_eq(sim_zdu_state_name(state(m)), "UPGRADE_TASKS_FAILED");
	sim_model_free(m);
}
END_TEST

START_TEST(rule3_error_node)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_READY_TO_UPGRADE);
	member(m, 2)->node.state = SIM_NODE_ERROR;	/* same version: still MIXED */
	ck_assert_int_eq(state(m), SIM_ZDU_MIXED);
	sim_model_free(m);
}
END_TEST

START_TEST(rule4_versions)
{
	struct sim_model *m = test_model();
	struct sim_instance *r;
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	r = replace(m, 0, "7.9.4");
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	ck_assert_int_eq(state(m), SIM_ZDU_MIXED);
	sim_model_free(m);
	/* A node that cannot be reached has a null version: MIXED for that moment. */
	m = test_model();
	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	sim_node_blip(m, member(m, 3), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_MIXED);
	sim_model_advance(m, m->p.unreachable);
	ck_assert_int_eq(state(m), SIM_ZDU_READY_TO_UPGRADE);
	sim_model_free(m);
}
END_TEST

START_TEST(rule5_all_original)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	/* OFFLINE entries do not count: replace one with the original version. */
	replace(m, 1, "7.9.0");
	ck_assert_int_eq(state(m), SIM_ZDU_READY_TO_UPGRADE);
	ck_assert_str_eq(m->zdu.original_version, "7.9.0");
	sim_model_free(m);
}
END_TEST

START_TEST(rule6_all_upgraded)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	for (int i = 0; i < 4; i++)
		replace(m, 0, "7.9.4");
	ck_assert_int_eq(state(m), SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS);
	sim_model_free(m);
}
END_TEST

START_TEST(guards)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	is_409(sim_zdu_cancel(m, 0, &e), &e);
	is_409(sim_zdu_approve(m, 0, &e), &e);
	is_409(sim_zdu_retry(m, 0, &e), &e);
	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	is_409(sim_zdu_start(m, 0, &e), &e);
	is_409(sim_zdu_approve(m, 0, &e), &e);
	replace(m, 0, "7.9.4");					/* MIXED */
	is_409(sim_zdu_cancel(m, m->now, &e), &e);
	is_409(sim_zdu_approve(m, m->now, &e), &e);
	is_409(sim_zdu_start(m, m->now, &e), &e);
	replace(m, 3, "7.9.0");		/* the 7.9.4 node, youngest: READY_TO_UPGRADE */
	ck_assert_int_eq(state(m), SIM_ZDU_READY_TO_UPGRADE);
	ck_assert_int_eq(sim_zdu_cancel(m, m->now, &e), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_STABLE);
	ck_assert_int_eq(m->zdu.upgrade_mode, 0);
	ck_assert_str_eq(m->zdu.original_version, "");
	ck_assert_uint_eq(m->zdu.nsnap, 0);
	sim_model_free(m);
}
END_TEST

START_TEST(approve_and_finalize)
{
	struct sim_model *m = test_model();
	struct sim_err e;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	for (int i = 0; i < 4; i++)
		replace(m, 0, "7.9.4");
	ck_assert_int_eq(sim_zdu_approve(m, m->now, &e), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_STABLE);
	ck_assert_uint_eq(m->zdu.nsnap, 0);
	/* Upgrade mode is off: a new node must run what the cluster runs. */
	ck_assert_int_eq(replace(m, 0, "7.9.4")->node.state, SIM_NODE_ACTIVE);
	sim_model_free(m);
}
END_TEST

static void
slow_finalize_that_fails(struct sim_params *p)
{
	p->finalize = 4000;
	p->finalize_fail = 1;
}

START_TEST(finalize_delay_failure_retry)
{
	struct sim_model *m = test_model_with(slow_finalize_that_fails);
	struct sim_err e;
	int64_t t;

	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	for (int i = 0; i < 4; i++)
		replace(m, 0, "7.9.4");
	t = m->now;
	ck_assert_int_eq(sim_zdu_approve(m, t, &e), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_RUNNING_UPGRADE_TASKS);
	is_409(sim_zdu_approve(m, t + 1, &e), &e);
	sim_model_advance(m, t + 4000);
	ck_assert_int_eq(state(m), SIM_ZDU_UPGRADE_TASKS_FAILED);
	ck_assert_int_eq(sim_zdu_retry(m, t + 5000, &e), 0);
	ck_assert_int_eq(state(m), SIM_ZDU_RUNNING_UPGRADE_TASKS);
	sim_model_advance(m, t + 9000);
	ck_assert_int_eq(state(m), SIM_ZDU_STABLE);
	sim_model_free(m);
}
END_TEST

START_TEST(cluster_list)
{
	struct sim_model *m = test_model();
	struct sim_node_view v[16];
	struct sim_instance *gone = member(m, 1);
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { gone->id };
	size_t n, offline = 0, terminating = 0;

	n = sim_zdu_nodes(m, 0, v, 16);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(strcmp(v[i - 1].name, v[i].name), 0);
	ck_assert_str_eq(v[0].state, "ACTIVE");
	ck_assert_str_eq(v[0].version, "7.9.0");
	ck_assert_str_eq(v[0].build, "7009000");
	ck_assert(v[0].has_counts);
	ck_assert_int_eq(sim_zdu_start(m, 0, &e), 0);
	/* Killed: TERMINATING while Bitbucket stops, then OFFLINE (snapshotted). */
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, 100, out, &e), 0);
	n = sim_zdu_nodes(m, 100, v, 16);
	for (size_t i = 0; i < n; i++)
		terminating += v[i].inst == gone && v[i].state != NULL &&
		    strcmp(v[i].state, "TERMINATING") == 0;
	ck_assert_uint_eq(terminating, 1);
	n = sim_zdu_nodes(m, 100 + m->p.ec2_shutdown, v, 16);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].ip, gone->ip) == 0) {
			ck_assert_str_eq(v[i].state, "OFFLINE");
			ck_assert_ptr_null(v[i].version);
			ck_assert_ptr_null(v[i].inst);
			ck_assert(!v[i].has_counts);
			ck_assert_str_eq(v[i].id, gone->node.id);
			offline++;
		}
	ck_assert_uint_eq(offline, 1);
	/* The replacement is a new node: after the roll both are listed. */
	sim_model_advance(m, 60000);
	ck_assert_uint_eq(sim_zdu_nodes(m, 60000, NULL, 0), 5);
	/* Unreachable: null state and version. */
	sim_node_blip(m, member(m, 0), 60000);
	n = sim_zdu_nodes(m, 60000, v, 16);
	for (size_t i = 0; i < n; i++)
		if (v[i].inst == member(m, 0)) {
			ck_assert_ptr_null(v[i].state);
			ck_assert_ptr_null(v[i].version);
		}
	/* cancel drops the snapshot: the OFFLINE entry goes. */
	sim_model_advance(m, 70000);
	ck_assert_int_eq(sim_zdu_cancel(m, 70000, &e), 0);
	ck_assert_uint_eq(sim_zdu_nodes(m, 70000, NULL, 0), 4);
	sim_model_free(m);
}
END_TEST

START_TEST(build_numbers)
{
	char b[16];

	sim_node_build_number("7.9.4", b, sizeof(b));
	ck_assert_str_eq(b, "7009004");
	sim_node_build_number("8.19.12", b, sizeof(b));
	ck_assert_str_eq(b, "8019012");
	sim_node_build_number("junk", b, sizeof(b));
	ck_assert_str_eq(b, "");
}
END_TEST

static void
busy_users(struct sim_params *p)
{
	p->rate = 40;
	p->req[0] = (struct sim_req_class){ 1, 1000, 2000 };
	p->req[1] = (struct sim_req_class){ 0, 1, 1 };
	p->req[2] = (struct sim_req_class){ 0, 1, 1 };
}

START_TEST(tasks_and_users_from_traffic)
{
	struct sim_model *m = test_model_with(busy_users);
	struct sim_node_view v[8];
	size_t n;
	int tasks = 0;

	sim_model_advance(m, 25000);
	n = sim_zdu_nodes(m, 25000, v, 8);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].tasks, v[i].inst->inflight);
		ck_assert_int_gt(v[i].users, 0);
		ck_assert_int_le(v[i].users, m->p.users);
		tasks += v[i].tasks;
	}
	ck_assert_int_gt(tasks, 0);
	sim_model_free(m);
}
END_TEST

Suite *
sim_zdu_suite(void)
{
	Suite *s = suite_create("sim_zdu");
	TCase *tc = tcase_create("nodes");
	TCase *tr = tcase_create("rules");

	tcase_add_test(tc, node_boots_to_active);
	tcase_add_test(tc, fault_error_once);
	tcase_add_test(tc, fault_targets_a_version);
	tcase_add_test(tc, fault_stuck_starting);
	tcase_add_loop_test(tc, join_rule_in_upgrade_mode, 0, sizeof(joins) / sizeof(joins[0]));
	tcase_add_test(tc, join_rule_without_upgrade_mode);
	tcase_add_test(tc, cluster_list);
	tcase_add_test(tc, build_numbers);
	tcase_add_test(tc, tasks_and_users_from_traffic);
	tcase_add_test(tr, rule1_finalization_running);
	tcase_add_test(tr, rule2_mode_off);
	tcase_add_test(tr, rule3_error_node);
	tcase_add_test(tr, rule4_versions);
	tcase_add_test(tr, rule5_all_original);
	tcase_add_test(tr, rule6_all_upgraded);
	tcase_add_test(tr, guards);
	tcase_add_test(tr, approve_and_finalize);
	tcase_add_test(tr, finalize_delay_failure_retry);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tr);
	return s;
}
