/*
 * The model's EC2: the deployment at time 0 (ids, addresses, tags, states, the
 * FileServer), determinism for a seed, and TerminateInstances: errors with AWS's
 * texts, an instant kill, the group's replacement once its health check notices.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

static struct sim_model *
model(uint64_t seed)
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.seed = seed;
	p.rate = 0;
	return test_model_new(&p);
}

static int
count_members(struct sim_model *m, enum sim_ec2_state s)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		n += m->inst[i]->member && m->inst[i]->state == s;
	return n;
}

static const char *
tag_value(struct sim_model *m, struct sim_instance *in, const char *key)
{
	static struct sim_tag t[SIM_TAGS_MAX];
	size_t n = sim_ec2_tags(m, in, t, SIM_TAGS_MAX);

	for (size_t i = 0; i < n && i < SIM_TAGS_MAX; i++)
		if (strcmp(t[i].key, key) == 0)
			return t[i].value;
	return NULL;
}

START_TEST(deployment_at_zero)
{
	struct sim_model *m = model(7);
	unsigned a, b, c, d;

	ck_assert_int_eq(m->ninst, 5);
	ck_assert_int_eq(count_members(m, SIM_EC2_RUNNING), 4);
	ck_assert_ptr_nonnull(m->file_server);
	ck_assert_int_eq(m->file_server->member, 0);
	ck_assert_int_eq(m->file_server->state, SIM_EC2_RUNNING);
	for (size_t i = 0; i < m->ninst; i++) {
		struct sim_instance *in = m->inst[i];

		ck_assert_int_eq(strlen(in->id), 19);
		ck_assert_msg(strncmp(in->id, "i-0", 3) == 0, "%s", in->id);
		ck_assert_int_eq(strspn(in->id + 2, "0123456789abcdef"), 17);
		ck_assert_int_eq(sscanf(in->ip, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
		ck_assert(a == 10 && b == 0 && c < 256 && d >= 4 && d < 255);
		ck_assert_int_lt(in->launch_time, 0);
		for (size_t j = 0; j < i; j++) {
			ck_assert_str_ne(in->id, m->inst[j]->id);
			ck_assert_str_ne(in->ip, m->inst[j]->ip);
		}
		if (in->member) {
			ck_assert_int_eq(in->life, SIM_LC_IN_SERVICE);
			ck_assert_int_eq(in->node.state, SIM_NODE_ACTIVE);
			ck_assert_str_eq(in->node.version, "7.9.0");
			ck_assert(in->elb.registered && in->elb.in_service);
		}
	}
	sim_model_free(m);
}
END_TEST

START_TEST(tags_as_the_quick_start)
{
	struct sim_model *m = model(7);
	struct sim_instance *n = test_member(m, 0), *fs = m->file_server;

	ck_assert_str_eq(tag_value(m, n, "Name"), "bitbucket Bitbucket Node");
	ck_assert_str_eq(tag_value(m, n, "Cluster"), "bitbucket");
	ck_assert_str_eq(tag_value(m, n, "aws:autoscaling:groupName"), m->asg.name);
	ck_assert_str_eq(tag_value(m, n, "aws:cloudformation:stack-name"), "bitbucket");
	ck_assert_str_eq(tag_value(m, n, "aws:cloudformation:logical-id"), "ClusterNodeGroup");
	ck_assert_str_eq(tag_value(m, fs, "Name"), "bitbucket Bitbucket NFS Server");
	ck_assert_str_eq(tag_value(m, fs, "aws:cloudformation:logical-id"), "FileServer");
	ck_assert_ptr_null(tag_value(m, fs, "aws:autoscaling:groupName"));
	ck_assert_ptr_null(tag_value(m, fs, "Cluster"));
	sim_model_free(m);
}
END_TEST

START_TEST(same_seed_same_world)
{
	struct sim_model *a = model(99), *b = model(99), *c = model(100);

	for (size_t i = 0; i < a->ninst; i++) {
		ck_assert_str_eq(a->inst[i]->id, b->inst[i]->id);
		ck_assert_str_eq(a->inst[i]->ip, b->inst[i]->ip);
		ck_assert_int_eq(a->inst[i]->launch_time, b->inst[i]->launch_time);
	}
	ck_assert_str_eq(a->asg.name, b->asg.name);
	ck_assert_str_ne(a->inst[1]->id, c->inst[1]->id);
	sim_model_free(a);
	sim_model_free(b);
	sim_model_free(c);
}
END_TEST

START_TEST(terminate_errors)
{
	struct sim_model *m = model(1);
	struct sim_ec2_change out[2];
	struct sim_err e;
	const char *bad[] = { "abc" };
	const char *one[] = { "i-0123456789abcdef0" };
	const char *two[] = { "i-0123456789abcdef0", "i-0fedcba9876543210" };
	const char *upper[] = { "i-0123456789ABCDEF0" };

	ck_assert_int_eq(sim_ec2_terminate(m, bad, 1, 0, out, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.code, "InvalidInstanceID.Malformed");
	ck_assert_str_eq(e.message, "Invalid id: \"abc\"");
	ck_assert_int_eq(sim_ec2_terminate(m, upper, 1, 0, out, &e), -1);
	ck_assert_str_eq(e.code, "InvalidInstanceID.Malformed");
	ck_assert_int_eq(sim_ec2_terminate(m, one, 1, 0, out, &e), -1);
	ck_assert_str_eq(e.code, "InvalidInstanceID.NotFound");
	ck_assert_str_eq(e.message, "The instance ID 'i-0123456789abcdef0' does not exist");
	ck_assert_int_eq(sim_ec2_terminate(m, two, 2, 0, out, &e), -1);
	ck_assert_str_eq(e.message, "The instance IDs 'i-0123456789abcdef0, "
	    "i-0fedcba9876543210' do not exist");
	/* One bad id fails the whole call: the good one lives on. */
	two[0] = test_member(m, 0)->id;
	ck_assert_int_eq(sim_ec2_terminate(m, two, 2, 0, out, &e), -1);
	ck_assert_int_eq(test_member(m, 0)->state, SIM_EC2_RUNNING);
	sim_model_free(m);
}
END_TEST

START_TEST(terminate_kills_then_group_replaces)
{
	struct sim_model *m = model(1);
	struct sim_instance *v = test_member(m, 1), *r;
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { v->id };
	int64_t t = 1000;

	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, t, out, &e), 0);
	ck_assert_ptr_eq(out[0].inst, v);
	ck_assert_int_eq(out[0].prev, SIM_EC2_RUNNING);
	ck_assert_int_eq(out[0].cur, SIM_EC2_SHUTTING_DOWN);
	ck_assert_int_eq(sim_ec2_state_code(out[0].cur), 32);
	ck_assert_str_eq(sim_ec2_state_name(out[0].cur), "shutting-down");
	ck_assert_int_eq(v->node.state, SIM_NODE_TERMINATING);
	/* The group has not noticed: still InService, nothing launched. */
	ck_assert_int_eq(v->life, SIM_LC_IN_SERVICE);
	sim_model_advance(m, t + m->p.ec2_shutdown);
	ck_assert_int_eq(v->state, SIM_EC2_TERMINATED);
	ck_assert_int_eq(v->node.state, SIM_NODE_NONE);
	ck_assert_int_eq(m->ninst, 5);
	sim_model_advance(m, t + m->p.asg_health_check);
	ck_assert_int_eq(v->life, SIM_LC_TERMINATED);
	ck_assert_int_eq(m->ninst, 6);
	r = m->inst[5];
	ck_assert(r->member);
	ck_assert_int_eq(r->state, SIM_EC2_PENDING);
	ck_assert_str_eq(r->node.version, "7.9.0");
	/* Terminating again is fine, and changes nothing. */
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, t + 5000, out, &e), 0);
	ck_assert_int_eq(out[0].prev, SIM_EC2_TERMINATED);
	ck_assert_int_eq(out[0].cur, SIM_EC2_TERMINATED);
	sim_model_advance(m, t + 60000);
	ck_assert_int_eq(r->state, SIM_EC2_RUNNING);
	ck_assert_int_eq(r->life, SIM_LC_IN_SERVICE);
	ck_assert_int_eq(r->node.state, SIM_NODE_ACTIVE);
	ck_assert_int_eq(count_members(m, SIM_EC2_RUNNING), 4);
	sim_model_free(m);
}
END_TEST

START_TEST(file_server_is_not_replaced)
{
	struct sim_model *m = model(3);
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { m->file_server->id };

	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, 0, out, &e), 0);
	sim_model_advance(m, 120000);
	ck_assert_int_eq(m->file_server->state, SIM_EC2_TERMINATED);
	ck_assert_int_eq(m->ninst, 5);
	sim_model_free(m);
}
END_TEST

START_TEST(addresses_never_reused)
{
	struct sim_model *m = model(5);
	struct sim_ec2_change out[1];
	struct sim_err e;
	int64_t t = 0;

	for (int round = 0; round < 20; round++) {
		const char *ids[] = { test_member(m, (int)m->ninst - 2)->id };

		ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, t, out, &e), 0);
		t += 30000;
		sim_model_advance(m, t);
	}
	ck_assert_int_eq(m->ninst, 25);
	for (size_t i = 0; i < m->ninst; i++)
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(m->inst[i]->ip, m->inst[j]->ip);
	ck_assert_ptr_eq(sim_ec2_find_ip(m, m->inst[1]->ip), m->inst[1]);
	ck_assert_ptr_eq(sim_ec2_find(m, m->inst[3]->id), m->inst[3]);
	ck_assert_ptr_null(sim_ec2_find(m, "i-00000000000000000"));
	sim_model_free(m);
}
END_TEST

/* One syntax check of instance ids for the whole simulator (sim_ec2_id_valid). */
START_TEST(instance_id_syntax)
{
	struct sim_model *m = model(5);

	ck_assert(sim_ec2_id_valid(test_member(m, 0)->id));
	ck_assert(sim_ec2_id_valid("i-0123456789abcdef0"));
	ck_assert(sim_ec2_id_valid("i-01234567"));
	ck_assert(!sim_ec2_id_valid("i-0123456789ABCDEF0"));
	ck_assert(!sim_ec2_id_valid("i-0123456789abcdef"));
	ck_assert(!sim_ec2_id_valid("i-0123456g"));
	ck_assert(!sim_ec2_id_valid("x-01234567"));
	ck_assert(!sim_ec2_id_valid("i-"));
	ck_assert(!sim_ec2_id_valid(""));
	ck_assert(!sim_ec2_id_valid(NULL));
	sim_model_free(m);
}
END_TEST

Suite *
sim_ec2_suite(void)
{
	Suite *s = suite_create("sim_ec2");
	TCase *tc = tcase_create("ec2");

	tcase_add_test(tc, deployment_at_zero);
	tcase_add_test(tc, tags_as_the_quick_start);
	tcase_add_test(tc, same_seed_same_world);
	tcase_add_test(tc, terminate_errors);
	tcase_add_test(tc, terminate_kills_then_group_replaces);
	tcase_add_test(tc, file_server_is_not_replaced);
	tcase_add_test(tc, addresses_never_reused);
	tcase_add_test(tc, instance_id_syntax);
	suite_add_tcase(s, tc);
	return s;
}
