/*
 * The model's CloudWatch: CPU history per instance and minute (deterministic for a
 * seed, distinct per node, only while the instance ran, published once the minute
 * is over), the load fault, and the template's two alarms with their scaling
 * policies: quiet by default, in ALARM under load, acting only when min < max and
 * AlarmNotification is not suspended, once per cooldown, at once on resume.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

#define MIN	SIM_MINUTE

static struct sim_model *
model_load(uint64_t seed, double load)
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.rate = 0;
	p.seed = seed;
	p.cpu_load = load;
	return test_model_new(&p);
}

/* The single sample of the minute starting at t (-1 if none). */
static double
sample_at(struct sim_model *m, const struct sim_instance *in, int64_t t, int64_t now)
{
	struct sim_cpu_stats st;

	memset(&st, 0, sizeof(st));
	sim_cpu_window(m, in, t, t + MIN, now, &st);
	ck_assert_int_le(st.n, 1);
	return st.n == 1 ? st.sum : -1;
}

static size_t
count_records(struct sim_model *m, enum sim_rec_kind kind, const char *a)
{
	size_t n = 0;

	for (size_t i = 0; i < m->hist.n; i++)
		n += m->hist.rec[i].kind == kind && (a == NULL ||
		    strcmp(m->hist.rec[i].a, a) == 0);
	return n;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const struct sim_activity *
last_activity(struct sim_model *m)
{
	ck_assert_uint_gt(m->asg.nact, 0);
	return m->asg.act[m->asg.nact - 1];
}

START_TEST(history_deterministic_and_distinct)
{
	struct sim_model *a = model_load(3, 1), *b = model_load(3, 1), *c = model_load(4, 1);
	int64_t now = 2 * 3600 * 1000LL;
	double v[4];

	sim_model_advance(a, now);
	sim_model_advance(b, now);
	sim_model_advance(c, now);
	for (int i = 0; i < 4; i++) {
		v[i] = sample_at(a, test_member(a, i), -90 * MIN, now);
		/* Inside the alarms' OK band: the default never scales the group. */
		ck_assert_msg(v[i] > 40 && v[i] < 60, "%g", v[i]);
		ck_assert(v[i] == sample_at(b, test_member(b, i), -90 * MIN, now));
		/* Asked again later, a past minute keeps its value. */
		ck_assert(v[i] == sample_at(a, test_member(a, i), -90 * MIN, now + 40 * MIN));
	}
	ck_assert(v[0] != v[1] && v[1] != v[2] && v[2] != v[3] && v[0] != v[3]);
	ck_assert(v[0] != sample_at(c, test_member(c, 0), -90 * MIN, now));
	sim_model_free(a);
	sim_model_free(b);
	sim_model_free(c);
}
END_TEST

START_TEST(history_only_while_running)
{
	struct sim_model *m = model_load(5, 1);
	struct sim_instance *gone = test_member(m, 0), *fresh;
	struct sim_cpu_stats st;
	struct sim_err e;
	int64_t now = 30 * MIN + 30000;

	ck_assert_int_eq(sim_asg_terminate(m, gone->id, 0, 0, NULL, &e), 0);
	sim_model_advance(m, now);
	fresh = m->inst[m->ninst - 1];
	ck_assert_int_ne(fresh->running_at, SIM_NEVER);
	ck_assert_int_ne(gone->stopped_at, SIM_NEVER);
	/* The old member: samples up to its shutdown, none after. */
	ck_assert(sample_at(m, gone, -MIN, now) >= 0);
	ck_assert(sample_at(m, gone, 10 * MIN, now) < 0);
	/* The new one: none before it ran, one a minute after. */
	ck_assert(sample_at(m, fresh, -MIN, now) < 0);
	ck_assert(sample_at(m, fresh, 10 * MIN, now) >= 0);
	/* A minute is published once it is over, not before. */
	ck_assert(sample_at(m, fresh, 30 * MIN, now) < 0);
	ck_assert(sample_at(m, fresh, 29 * MIN, now) >= 0);
	/* The FileServer: basic monitoring, one sample every five minutes. */
	memset(&st, 0, sizeof(st));
	sim_cpu_window(m, m->file_server, -60 * MIN, 0, now, &st);
	ck_assert_int_eq(st.n, 12);
	ck_assert(st.min >= 0 && st.max < 20);
	/* The group: each member's minute, SampleCount and bounds as CloudWatch's. */
	memset(&st, 0, sizeof(st));
	sim_cpu_window(m, NULL, 10 * MIN, 15 * MIN, now, &st);
	ck_assert_int_eq(st.n, 20);
	ck_assert(st.min <= st.sum / st.n && st.sum / st.n <= st.max);
	/* A window in the future, or before anything ran: nothing, never 0 %. */
	sim_cpu_window(m, NULL, now, now + 60 * MIN, now, &st);
	ck_assert_int_eq(st.n, 0);
	sim_cpu_window(m, NULL, -10 * 24 * 60 * MIN, -9 * 24 * 60 * MIN, now, &st);
	ck_assert_int_eq(st.n, 0);
	sim_model_free(m);
}
END_TEST

START_TEST(load_fault_changes_from_now_on)
{
	struct sim_model *m = model_load(5, 1);
	struct sim_instance *in = test_member(m, 2);
	double before, loaded;

	sim_model_advance(m, 10 * MIN + 30000);
	before = sample_at(m, in, 5 * MIN, 10 * MIN + 30000);
	sim_cpu_set_load(m, 1.5);
	ck_assert_int_eq(m->p.cpu_load * 2, 3);
	sim_model_advance(m, 20 * MIN);
	/* The past is as it was; the minute under way keeps the load it began with. */
	ck_assert(before == sample_at(m, in, 5 * MIN, m->now));
	ck_assert(sample_at(m, in, 10 * MIN, m->now) < 60);
	loaded = sample_at(m, in, 12 * MIN, m->now);
	ck_assert_msg(loaded > 60, "%g", loaded);
	ck_assert(sim_cpu_load(m, 5 * MIN) == 1 && sim_cpu_load(m, 12 * MIN) == 1.5);
	ck_assert_uint_eq(count_records(m, SIM_REC_ALARM, "load"), 1);
	sim_model_free(m);
}
END_TEST

START_TEST(load_names)
{
	double v;

	ck_assert_int_eq(sim_cpu_load_parse("normal", &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(sim_cpu_load_parse("high", &v), 0);
	ck_assert(v == 1.5);
	ck_assert_int_eq(sim_cpu_load_parse("low", &v), 0);
	ck_assert(v == 0.5);
	ck_assert_int_eq(sim_cpu_load_parse("2.25", &v), 0);
	ck_assert(v == 2.25);
	ck_assert_int_eq(sim_cpu_load_parse("11", &v), -1);
	ck_assert_int_eq(sim_cpu_load_parse("-1", &v), -1);
	ck_assert_int_eq(sim_cpu_load_parse("", &v), -1);
	ck_assert_int_eq(sim_cpu_load_parse("nan", &v), -1);
	ck_assert_int_eq(sim_cpu_load_parse("HIGH", &v), -1);
}
END_TEST

/* Two hours at the default load: OK throughout, no scaling, no alarm record. */
START_TEST(default_stays_quiet)
{
	struct sim_model *m = model_load(7, 1);
	size_t nact;

	sim_asg_update_counts(m, 4, 6, NULL);	/* min < max: the policies could act */
	nact = m->asg.nact;
	for (int64_t t = 0; t <= 120 * MIN; t += 7 * MIN) {
		sim_alarms_update(m, t);
		for (int i = 0; i < SIM_NALARMS; i++)
			ck_assert_int_eq(m->alarms.a[i].state, SIM_ALARM_OK);
	}
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_uint_eq(m->asg.nact, nact);
	ck_assert_uint_eq(count_records(m, SIM_REC_ALARM, NULL), 0);
	sim_model_free(m);
}
END_TEST

/* Min = max, the Quick Start's steady state: in ALARM, yet inert. */
START_TEST(high_alarm_inert_when_min_is_max)
{
	struct sim_model *m = model_load(7, 1.5);
	char name[SIM_ARN_MAX];

	sim_alarms_update(m, 20 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_HIGH].state, SIM_ALARM_ALARM);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_LOW].state, SIM_ALARM_OK);
	ck_assert_msg(starts_with(m->alarms.a[SIM_ALARM_HIGH].reason, "Threshold Crossed: "
	    "5 out of the last 5 datapoints ["), "%s", m->alarms.a[SIM_ALARM_HIGH].reason);
	ck_assert(strstr(m->alarms.a[SIM_ALARM_HIGH].reason, "were greater than the "
	    "threshold (60.0) (minimum 5 datapoints for OK -> ALARM transition).") != NULL);
	ck_assert_int_eq(m->asg.desired, 4);
	sim_alarm_name(m, SIM_ALARM_HIGH, name, sizeof(name));
	ck_assert_msg(starts_with(name, "bitbucket-CPUAlarmHigh-"), "%s", name);
	ck_assert_uint_eq(count_records(m, SIM_REC_ALARM, "ALARM"), 1);
	sim_model_free(m);
}
END_TEST

static void
wait_idle(struct sim_model *m)
{
	for (int i = 0; i < 600 && sim_asg_busy(m) != NULL; i++)
		sim_model_advance(m, m->now + 1000);
	ck_assert_ptr_null(sim_asg_busy(m));
}

/* Min < max: +1, then nothing during the 600 s cooldown, then +1 up to max. */
START_TEST(high_alarm_scales_out_with_cooldown)
{
	struct sim_model *m = model_load(7, 1.5);
	const struct sim_activity *a;
	char policy[SIM_NAME_MAX + 64];
	int64_t t;

	sim_model_advance(m, 10 * MIN);
	ck_assert_int_eq(sim_asg_update_counts(m, 4, 6, NULL), 0);
	sim_model_advance(m, 11 * MIN);
	ck_assert_int_eq(m->asg.desired, 5);
	t = m->asg.desired_at;
	a = last_activity(m);
	ck_assert(a->launch);
	sim_alarm_policy_name(m, SIM_ALARM_HIGH, policy, sizeof(policy));
	ck_assert_msg(strstr(a->cause, "a monitor alarm bitbucket-CPUAlarmHigh-") != NULL &&
	    strstr(a->cause, " in state ALARM triggered policy ") != NULL &&
	    strstr(a->cause, policy) != NULL && strstr(a->cause, "changing the desired "
	    "capacity from 4 to 5.  At ") != NULL && strstr(a->cause, "an instance was "
	    "started in response to a difference between desired and actual capacity, "
	    "increasing the capacity from 4 to 5.") != NULL, "%s", a->cause);
	ck_assert_msg(strstr(policy, "-ClusterNodeScaleUpPolicy-") != NULL, "%s", policy);
	wait_idle(m);
	sim_model_advance(m, t + SIM_ALARM_COOLDOWN - 1000);
	ck_assert_int_eq(m->asg.desired, 5);
	sim_model_advance(m, t + SIM_ALARM_COOLDOWN + MIN);
	ck_assert_int_eq(m->asg.desired, 6);
	wait_idle(m);
	sim_model_advance(m, m->now + 3 * SIM_ALARM_COOLDOWN);
	ck_assert_int_eq(m->asg.desired, 6);	/* max */
	ck_assert_uint_eq(count_records(m, SIM_REC_ALARM, "policy"), 2);
	sim_model_free(m);
}
END_TEST

/* Suspended, nothing happens however long; resumed, the alarm in breach acts at once. */
START_TEST(suspended_then_resume_acts_at_once)
{
	const char *const proc[] = { "AlarmNotification" };
	struct sim_model *m = model_load(7, 1.5);
	int64_t t;

	ck_assert_int_eq(sim_asg_suspend(m, proc, 1, 0, NULL), 0);
	sim_model_advance(m, 1000);
	ck_assert_int_eq(sim_asg_update_counts(m, 4, 5, NULL), 0);
	sim_model_advance(m, 40 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_HIGH].state, SIM_ALARM_ALARM);
	ck_assert_int_eq(m->asg.desired, 4);
	t = 40 * MIN + 1234;
	ck_assert_int_eq(sim_asg_resume(m, proc, 1, t, NULL), 0);
	sim_model_advance(m, t);
	ck_assert_int_eq(m->asg.desired, 5);
	ck_assert_int_eq(m->asg.desired_at, t);
	sim_model_free(m);
}
END_TEST

/* Below 40 % for thirty minutes: -1, never under min. */
START_TEST(low_alarm_scales_in)
{
	struct sim_model *m = model_load(7, 1);

	sim_asg_capacity(m, 3, 4, 4);	/* as a scale-out left it: room to scale in */
	sim_model_advance(m, MIN);
	sim_cpu_set_load(m, 0.5);
	sim_model_advance(m, 20 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_LOW].state, SIM_ALARM_OK);
	ck_assert_int_eq(m->asg.desired, 4);
	sim_model_advance(m, 35 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_LOW].state, SIM_ALARM_ALARM);
	ck_assert_int_eq(m->asg.desired, 3);
	ck_assert(strstr(last_activity(m)->cause, "ClusterNodeScaleDownPolicy") != NULL);
	sim_model_advance(m, 120 * MIN);
	ck_assert_int_eq(m->asg.desired, 3);
	/* Back to normal: OK again a minute or two later, and the ticks stop. */
	sim_cpu_set_load(m, 1);
	sim_model_advance(m, 124 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_LOW].state, SIM_ALARM_OK);
	ck_assert_msg(strstr(m->alarms.a[SIM_ALARM_LOW].reason, "was not less than the "
	    "threshold (40.0)") != NULL, "%s", m->alarms.a[SIM_ALARM_LOW].reason);
	ck_assert_int_eq(m->alarms.tick_at, SIM_NEVER);
	sim_model_free(m);
}
END_TEST

/* No member reporting for five minutes: CPUAlarmHigh has insufficient data. */
START_TEST(insufficient_data)
{
	const char *const proc[] = { "Launch" };
	struct sim_model *m = model_load(7, 1);
	struct sim_ec2_change out[4];
	const char *ids[4];
	struct sim_err e;

	for (int i = 0; i < 4; i++)
		ids[i] = test_member(m, i)->id;
	ck_assert_int_eq(sim_asg_suspend(m, proc, 1, 0, NULL), 0);
	ck_assert_int_eq(sim_ec2_terminate(m, ids, 4, 1000, out, &e), 0);
	sim_alarms_update(m, 10 * MIN);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_HIGH].state,
	    SIM_ALARM_INSUFFICIENT_DATA);
	ck_assert_str_eq(m->alarms.a[SIM_ALARM_HIGH].reason, "Insufficient Data: 5 "
	    "datapoints were unknown.");
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_LOW].state, SIM_ALARM_OK);
	ck_assert_int_eq(m->alarms.a[SIM_ALARM_HIGH].transitioned, 6 * MIN);
	sim_model_free(m);
}
END_TEST

Suite *
sim_alarms_suite(void)
{
	Suite *s = suite_create("sim_alarms");
	TCase *tc = tcase_create("alarms");

	tcase_add_test(tc, history_deterministic_and_distinct);
	tcase_add_test(tc, history_only_while_running);
	tcase_add_test(tc, load_fault_changes_from_now_on);
	tcase_add_test(tc, load_names);
	tcase_add_test(tc, default_stays_quiet);
	tcase_add_test(tc, high_alarm_inert_when_min_is_max);
	tcase_add_test(tc, high_alarm_scales_out_with_cooldown);
	tcase_add_test(tc, suspended_then_resume_acts_at_once);
	tcase_add_test(tc, low_alarm_scales_in);
	tcase_add_test(tc, insufficient_data);
	suite_add_tcase(s, tc);
	return s;
}
