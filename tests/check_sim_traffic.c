/*
 * The model's user traffic: requests at a rate through the ELB, round robin over
 * the instances in service, counted served or failed with the reason (the node
 * died, the drain cut it, no node), deterministic for a seed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

static struct sim_model *
model(uint64_t seed, double rate)
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.seed = seed;
	p.rate = rate;
	return test_model_new(&p);
}

static uint64_t
failed(const struct sim_model *m)
{
	uint64_t n = 0;

	for (int i = 0; i < SIM_NFAIL; i++)
		n += m->traffic.failed[i];
	return n;
}

static void
balanced(struct sim_model *m)
{
	const struct sim_traffic_stats *t = &m->traffic;

	ck_assert_uint_eq(t->started, t->served + failed(m) + t->inflight);
}

START_TEST(steady_traffic_all_served)
{
	struct sim_model *m = model(1, 20);
	const struct sim_traffic_stats *t = &m->traffic;

	sim_model_advance(m, 60000);
	ck_assert_uint_ge(t->started, 1000);
	ck_assert_uint_le(t->started, 1400);
	ck_assert_uint_eq(failed(m), 0);
	balanced(m);
	sim_model_free(m);
}
END_TEST

START_TEST(no_traffic)
{
	struct sim_model *m = model(1, 0);

	sim_model_advance(m, 60000);
	ck_assert_uint_eq(m->traffic.started, 0);
	ck_assert_int_eq(sim_model_next_event(m) > 60000, 1);
	sim_model_free(m);
}
END_TEST

/* The classes: some requests outlive the draining timeout, and only they are cut. */
START_TEST(durations_follow_classes)
{
	struct sim_model *m = model(2, 50);
	struct sim_err e;
	const char *all[4];
	uint64_t cut = 0;

	for (int i = 0; i < 4; i++)
		all[i] = test_member(m, i)->id;
	sim_model_advance(m, 60000);
	ck_assert_int_eq(sim_elb_deregister(m, all, 4, 60000, &e), 0);
	sim_model_advance(m, 60000 + m->p.drain_timeout);
	for (size_t i = 0; i < m->hist.n; i++) {
		const struct sim_record *r = &m->hist.rec[i];

		if (r->kind != SIM_REC_REQUEST || strcmp(r->a, "draining cut") != 0)
			continue;
		ck_assert_int_ge(r->n, m->p.req[2].min_ms);
		cut++;
	}
	ck_assert_uint_gt(cut, 0);
	ck_assert_uint_eq(cut, m->traffic.failed[SIM_FAIL_DRAIN_CUT]);
	ck_assert_str_eq(sim_fail_reason_name(SIM_FAIL_DRAIN_CUT), "draining cut");
	/* Nothing in service: every new request fails for want of a node. */
	ck_assert_uint_gt(m->traffic.failed[SIM_FAIL_NO_NODE], 0);
	ck_assert_uint_eq(m->traffic.failed[SIM_FAIL_NODE_DIED], 0);
	balanced(m);
	sim_model_free(m);
}
END_TEST

/* EC2 kill: what was in flight fails, and so does what the ELB still sends. */
START_TEST(killed_node_fails_requests)
{
	struct sim_model *m = model(3, 40);
	struct sim_instance *v = test_member(m, 1);
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[] = { v->id };
	int inflight;
	uint64_t died;

	sim_model_advance(m, 30000);
	inflight = v->inflight;
	ck_assert_int_gt(inflight, 0);
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, 30000, out, &e), 0);
	ck_assert_uint_eq(m->traffic.failed[SIM_FAIL_NODE_DIED], (uint64_t)inflight);
	ck_assert_int_eq(v->inflight, 0);
	sim_model_advance(m, 30000 + m->p.health_interval);
	died = m->traffic.failed[SIM_FAIL_NODE_DIED];
	ck_assert_uint_gt(died, (uint64_t)inflight);	/* still routed there */
	sim_model_advance(m, 30000 + 4 * m->p.health_interval);
	ck_assert(!sim_elb_routable(v));
	died = m->traffic.failed[SIM_FAIL_NODE_DIED];
	sim_model_advance(m, 60000);
	ck_assert_uint_eq(m->traffic.failed[SIM_FAIL_NODE_DIED], died);
	ck_assert_uint_gt(m->traffic.failed_short, 0);
	balanced(m);
	sim_model_free(m);
}
END_TEST

/* Round robin: each node in service gets as many requests as the others. */
START_TEST(round_robin)
{
	struct sim_model *m = model(4, 100);
	int lo = 1 << 30, hi = 0;

	sim_model_advance(m, 30000);
	for (int i = 0; i < 4; i++) {
		int n = test_member(m, i)->node.last_window_users;

		lo = n < lo ? n : lo;
		hi = n > hi ? n : hi;
	}
	ck_assert_int_gt(lo, 150);
	ck_assert_int_lt(hi * 10, lo * 13);
	sim_model_free(m);
}
END_TEST

START_TEST(deterministic)
{
	struct sim_model *a = model(9, 30), *b = model(9, 30), *c = model(10, 30);
	struct sim_ec2_change out[1];
	struct sim_err e;
	const char *ids[1];

	ids[0] = test_member(a, 0)->id;
	sim_ec2_terminate(a, ids, 1, 20000, out, &e);
	ids[0] = test_member(b, 0)->id;
	sim_ec2_terminate(b, ids, 1, 20000, out, &e);
	sim_model_advance(a, 90000);
	sim_model_advance(b, 90000);
	sim_model_advance(c, 90000);
	ck_assert_int_eq(memcmp(&a->traffic, &b->traffic, sizeof(a->traffic)), 0);
	ck_assert_uint_eq(a->hist.n, b->hist.n);
	for (size_t i = 0; i < a->hist.n; i++) {
		ck_assert_int_eq(a->hist.rec[i].t, b->hist.rec[i].t);
		ck_assert_str_eq(a->hist.rec[i].obj, b->hist.rec[i].obj);
		ck_assert_str_eq(a->hist.rec[i].a, b->hist.rec[i].a);
	}
	ck_assert_uint_ne(a->traffic.started, c->traffic.started);
	sim_model_free(a);
	sim_model_free(b);
	sim_model_free(c);
}
END_TEST

Suite *
sim_traffic_suite(void)
{
	Suite *s = suite_create("sim_traffic");
	TCase *tc = tcase_create("traffic");

	tcase_add_test(tc, steady_traffic_all_served);
	tcase_add_test(tc, no_traffic);
	tcase_add_test(tc, durations_follow_classes);
	tcase_add_test(tc, killed_node_fails_requests);
	tcase_add_test(tc, round_robin);
	tcase_add_test(tc, deterministic);
	suite_add_tcase(s, tc);
	return s;
}
