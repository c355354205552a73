/*
 * Whole upgrades through model calls only, as a client would make them: the seed's
 * manual procedure (console UpdateStack, EC2 terminations, finalize, the literal
 * scale-down), which ends with every node on the new version but breaks I4 and I7;
 * and DESIGN.md's procedure (protect, change sets with tokens, drain first,
 * terminate through the group, retire the last original without replacement),
 * which keeps every invariant and runs close to the critical-path bound.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

/* Polls far more often than AWS allows a client to: the bound is what is judged. */
#define STEP(m)		((m)->p.health_interval / 20)
#define LIMIT(m)	(30 * (m)->p.node_boot)

static const char *const caps[] = { "CAPABILITY_IAM" };

static struct sim_model *
model(double rate, int realistic)
{
	struct sim_params p;

	if (realistic)
		sim_params_realistic(&p);
	else
		sim_params_defaults(&p);
	p.seed = 2024;
	p.rate = rate;
	return test_model_new(&p);
}

typedef int (*pred)(struct sim_model *, const void *);

/* Polls until p holds; the virtual time it took. */
static int64_t
wait_for(struct sim_model *m, pred p, const void *arg)
{
	int64_t start = m->now;

	while (!p(m, arg)) {
		ck_assert_msg(m->now - start < LIMIT(m), "waited too long at %lld",
		    (long long)m->now);
		sim_model_advance(m, m->now + STEP(m));
	}
	return m->now - start;
}

static int
live(const struct sim_instance *in)
{
	return in->member && in->state != SIM_EC2_TERMINATED;
}

/* Healthy in the ELB and ACTIVE on version: what "the node is up" means. */
static int
up_on(struct sim_model *m, const struct sim_instance *in, const char *version)
{
	struct sim_elb_health h;

	if (!live(in) || in->node.state != SIM_NODE_ACTIVE ||
	    strcmp(in->node.version, version) != 0)
		return 0;
	sim_elb_health(m, in, &h);
	return strcmp(h.state, "InService") == 0 &&
	    strcmp(h.description, "N/A") == 0;		/* not draining */
}

static int
count_up(struct sim_model *m, const char *version)
{
	int n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		n += up_on(m, m->inst[i], version);
	return n;
}

static int
n_up(struct sim_model *m, const void *arg)
{
	const int *want = arg;

	return count_up(m, "7.9.4") >= *want;
}

static int
stack_done(struct sim_model *m, const void *token)
{
	const struct sim_stack *st = m->stack[0];

	for (size_t i = st->nev; i-- > 0;) {
		const struct sim_stack_event *e = &st->ev[i];

		if (strcmp(e->logical_id, st->name) == 0 && strcmp(e->token, token) == 0)
			return strcmp(e->status, "UPDATE_COMPLETE") == 0;
	}
	return 0;
}

static int
not_registered(struct sim_model *m, const void *inst)
{
	struct sim_elb_health h;

	sim_elb_health(m, inst, &h);
	return strcmp(h.state, "OutOfService") == 0;
}

static int
activity_done(struct sim_model *m, const void *act)
{
	return ((const struct sim_activity *)act)->status == SIM_ACT_SUCCESSFUL;
}

static int
stable(struct sim_model *m, const void *unused)
{
	return sim_zdu_state(m) == SIM_ZDU_STABLE;
}

static int
cs_ready(struct sim_model *m, const void *cs)
{
	return ((const struct sim_changeset *)cs)->status == SIM_CS_CREATE_COMPLETE;
}

/* The least busy live node among ids: tasks, then users (the seed's advice). */
static struct sim_instance *
least_busy(struct sim_model *m, struct sim_instance **c, size_t n)
{
	struct sim_node_view v[32];
	size_t nv = sim_zdu_nodes(m, m->now, v, 32);
	struct sim_instance *best = NULL;
	int bt = 0, bu = 0;

	for (size_t i = 0; i < nv; i++)
		for (size_t j = 0; j < n; j++) {
			if (v[i].inst != c[j] || !live(c[j]))
				continue;
			if (best == NULL || v[i].tasks < bt ||
			    (v[i].tasks == bt && v[i].users < bu)) {
				best = c[j];
				bt = v[i].tasks;
				bu = v[i].users;
			}
		}
	return best;
}

static size_t
originals(struct sim_model *m, struct sim_instance **out)
{
	size_t n = 0;

	for (size_t i = 0; i < m->ninst; i++)
		if (live(m->inst[i]))
			out[n++] = m->inst[i];
	return n;
}

static void
all_on(struct sim_model *m, const char *version, int n)
{
	int live_n = 0;

	for (size_t i = 0; i < m->ninst; i++) {
		if (!live(m->inst[i]))
			continue;
		live_n++;
		ck_assert_str_eq(m->inst[i]->node.version, version);
		ck_assert_int_eq(m->inst[i]->node.state, SIM_NODE_ACTIVE);
	}
	ck_assert_int_eq(live_n, n);
	ck_assert_int_eq(sim_zdu_state(m), SIM_ZDU_STABLE);
}

static void
show(const struct sim_report *rep)
{
	for (int i = 0; i < 7; i++)
		if (!rep->inv[i].ok)
			fprintf(stderr, "%s: %zu violation(s), first at %lld (record %ld): %s\n",
			    rep->inv[i].id, rep->inv[i].violations,
			    (long long)rep->inv[i].first_t, rep->inv[i].first, rep->inv[i].why);
}

static void
update_stack(struct sim_model *m, const char *version, const char *n, const char *token)
{
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t np = test_update_params(in, version, n, n);

	ck_assert_msg(sim_stack_update(m, "bitbucket", in, np, caps, 1, token, m->now,
	    &e) == 0, "%s", e.message);
	wait_for(m, stack_done, token);
}

/*
 * The seed, literally: upgrade mode, Update Stack (version, one node more),
 * terminate every original from the EC2 console when the previous replacement is
 * Active, finalize, then scale down (counts, then kill the least busy node).
 */
START_TEST(seed_procedure)
{
	struct sim_model *m = model(20, 0);
	struct sim_instance *orig[8], *all[16];
	struct sim_ec2_change out[1];
	struct sim_report rep;
	struct sim_err e;
	size_t n, nall;
	const char *ids[1];
	int want = 1;

	sim_model_advance(m, 5000);
	n = originals(m, orig);
	ck_assert_int_eq(sim_zdu_start(m, m->now, &e), 0);
	update_stack(m, "7.9.4", "5", "Console-UpdateStack-1");
	wait_for(m, n_up, &want);
	ck_assert_int_eq(sim_zdu_state(m), SIM_ZDU_MIXED);
	for (size_t i = 0; i < n; i++) {
		ids[0] = least_busy(m, orig, n)->id;
		ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, m->now, out, &e), 0);
		want = (int)i + 2;
		wait_for(m, n_up, &want);
	}
	ck_assert_int_eq(sim_zdu_state(m), SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS);
	ck_assert_int_eq(sim_zdu_approve(m, m->now, &e), 0);
	update_stack(m, NULL, "4", "Console-UpdateStack-2");
	nall = originals(m, all);
	ids[0] = least_busy(m, all, nall)->id;
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 1, m->now, out, &e), 0);
	sim_model_advance(m, m->now + 60000);
	all_on(m, "7.9.4", 4);
	ck_assert_str_eq(sim_stack_param(m->stack[0], "BitbucketVersion"), "7.9.4");
	/* Every node on 7.9.4, but not safely: killed while registered, requests lost. */
	sim_report(m, m->now, &rep);
	ck_assert(!rep.ok);
	ck_assert(!rep.inv[3].ok);
	ck_assert_int_eq(m->hist.rec[rep.inv[3].first].kind, SIM_REC_EC2);
	ck_assert_str_eq(m->hist.rec[rep.inv[3].first].a, "shutting-down");
	ck_assert(!rep.inv[6].ok);
	ck_assert_int_eq(m->hist.rec[rep.inv[6].first].kind, SIM_REC_REQUEST);
	ck_assert(rep.inv[2].ok);
	ck_assert(rep.inv[5].ok);
	ck_assert_str_eq(rep.from, "7.9.0");
	ck_assert_str_eq(rep.to, "7.9.4");
	sim_model_free(m);
}
END_TEST

/* A stack change as DESIGN.md makes it: a verified change set, our token. */
static void
stack_change(struct sim_model *m, const char *version, const char *n, const char *token)
{
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_changeset *cs;
	struct sim_err e;
	size_t np = test_update_params(in, version, n, n);

	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", token, in, np, caps, 1, 1,
	    m->now, &cs, &e), 0);
	wait_for(m, cs_ready, cs);
	for (size_t i = 0; i < cs->nchanges; i++) {
		ck_assert_str_eq(cs->changes[i].replacement, "False");
		ck_assert(strcmp(cs->changes[i].logical_id, "ClusterNodeGroup") == 0 ||
		    strcmp(cs->changes[i].logical_id, "ClusterNodeLaunchConfig") == 0);
	}
	ck_assert_int_eq(sim_changeset_execute(m, "bitbucket", token, token, m->now, &e), 0);
	wait_for(m, stack_done, token);
}

static void
drain(struct sim_model *m, struct sim_instance *v)
{
	struct sim_err e;
	const char *ids[] = { v->id };

	ck_assert_int_eq(sim_elb_deregister(m, ids, 1, m->now, &e), 0);
	wait_for(m, not_registered, v);
}

static void
protect(struct sim_model *m, struct sim_instance **v, size_t n, int on)
{
	const char *ids[16];
	struct sim_err e;

	for (size_t i = 0; i < n; i++)
		ids[i] = v[i]->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, n, on, m->now, &e), 0);
}

/* Replace the originals but the last (surge 1), least busy first, one at a time. */
static struct sim_instance *
replace_originals(struct sim_model *m, struct sim_instance **orig, size_t n)
{
	struct sim_activity *a;
	struct sim_instance *v;
	struct sim_err e;
	int want;

	for (size_t i = 0; i + 1 < n; i++) {
		v = least_busy(m, orig, n);
		drain(m, v);
		ck_assert_int_eq(sim_asg_terminate(m, v->id, 0, m->now, &a, &e), 0);
		wait_for(m, activity_done, a);
		want = (int)i + 2;
		wait_for(m, n_up, &want);
	}
	return least_busy(m, orig, n);
}

START_TEST(design_procedure)
{
	static const char *const procs[] = {
		"AlarmNotification", "AZRebalance", "ScheduledActions",
	};
	struct sim_model *m = model(20, _i);
	struct sim_instance *orig[8], *all[16], *surv[16], *leaver;
	struct sim_report rep;
	struct sim_cpath c;
	struct sim_err e;
	size_t n, nall, ns = 0;
	int64_t t0, elapsed, bound;
	int want = 1;

	sim_model_advance(m, 5000);
	t0 = m->now;
	n = originals(m, orig);
	ck_assert_int_eq(sim_zdu_start(m, m->now, &e), 0);
	protect(m, orig, n, 1);
	ck_assert_int_eq(sim_asg_suspend(m, procs, 3, m->now, &e), 0);
	stack_change(m, "7.9.4", "5", "upg-1-scale-out");
	wait_for(m, n_up, &want);
	leaver = replace_originals(m, orig, n);
	/* Retire the last original: survivors protected, leaver drained, counts down. */
	nall = originals(m, all);
	for (size_t i = 0; i < nall; i++)
		if (all[i] != leaver)
			surv[ns++] = all[i];
	protect(m, surv, ns, 1);
	protect(m, &leaver, 1, 0);
	drain(m, leaver);
	stack_change(m, NULL, "4", "upg-1-scale-in");
	ck_assert_int_eq(leaver->state, SIM_EC2_TERMINATED);
	ck_assert_int_eq(sim_zdu_state(m), SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS);
	ck_assert_int_eq(sim_zdu_approve(m, m->now, &e), 0);
	wait_for(m, stable, NULL);
	elapsed = m->now - t0;
	ck_assert_int_eq(sim_asg_resume(m, procs, 3, m->now, &e), 0);
	protect(m, surv, ns, 0);
	all_on(m, "7.9.4", 4);
	sim_report(m, m->now + 1000, &rep);
	if (!rep.ok)
		show(&rep);
	ck_assert(rep.ok);
	for (int i = 0; i < 7; i++)
		ck_assert(rep.inv[i].judged);
	ck_assert_int_eq(rep.original_n, 4);
	ck_assert_int_eq(rep.drains_clean + rep.drains_forced, 4);
	ck_assert_uint_eq(m->traffic.failed_short, 0);
	/* No client beats the bound; this one polls every 100 ms and drains. */
	bound = sim_critical_path(&m->p, 4, 1, &c);
	ck_assert_int_ge(elapsed, bound);
	ck_assert_int_le(elapsed, bound + 4 * m->p.drain_timeout + 20 * STEP(m));
	sim_model_free(m);
}
END_TEST

Suite *
sim_procedure_suite(void)
{
	Suite *s = suite_create("sim_procedure");
	TCase *tc = tcase_create("procedure");

	tcase_add_test(tc, seed_procedure);
	tcase_add_loop_test(tc, design_procedure, 0, 2);	/* fast, realistic */
	suite_add_tcase(s, tc);
	return s;
}
