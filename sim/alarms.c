/*
 * The template's CPU alarms (quickstart-stack.md): CPUAlarmHigh (the group's average
 * above 60 % for 5 minutes) runs ClusterNodeScaleUpPolicy (+1), CPUAlarmLow (below
 * 40 % for 30) ClusterNodeScaleDownPolicy (-1), both simple policies with a 600 s
 * cooldown. At each minute boundary the alarms judge the minute just over; while one
 * is in ALARM its policy is invoked every minute, as CloudWatch does for Auto
 * Scaling actions, and acts unless AlarmNotification is suspended, the cooldown
 * runs, an activity is in progress, or min = max (the Quick Start's steady state,
 * which is why the alarms are inert there). Resuming AlarmNotification lets an alarm
 * in breach act at once (aws-behaviours.md 14): ResumeProcesses reconciles the group,
 * which ticks here.
 *
 * Evaluation catches up lazily, so it costs nothing while the load is normal; the
 * minute ticks run only while the load is not normal or an alarm is in ALARM, so a
 * run without faults keeps exactly the events it had before alarms acted. A tick is
 * an SIM_EV_ASG_RECONCILE event (an extra reconcile is harmless): the dispatcher,
 * sim/model.c, has no event of its own for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/model_int.h"

const struct sim_alarm_def sim_alarm_defs[SIM_NALARMS] = {
	{ "CPUAlarmHigh", "Scale-up if CPU > 60% for 5 minutes", "GreaterThanThreshold",
	    "ClusterNodeScaleUpPolicy", 60, 5, 1, "greater" },
	{ "CPUAlarmLow", "Scale-down if CPU < 40% for 30 minutes", "LessThanThreshold",
	    "ClusterNodeScaleDownPolicy", 40, 30, -1, "less" },
};

const char *
sim_alarm_state_name(enum sim_alarm_state s)
{
	static const char *const names[] = { "OK", "ALARM", "INSUFFICIENT_DATA" };

	return (size_t)s < nitems(names) ? names[s] : "?";
}

void
sim_alarm_name(const struct sim_model *m, int i, char *buf, size_t len)
{
	const struct sim_stack_resource *r;

	r = sim_stack_resource(m->stack[m->nstacks - 1], sim_alarm_defs[i].logical);
	snprintf(buf, len, "%s", r != NULL ? r->physical_id : sim_alarm_defs[i].logical);
}

/* "<stack>-ClusterNodeScaleUpPolicy-<12 hex of the stack's id>": stable per stack. */
void
sim_alarm_policy_name(const struct sim_model *m, int i, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const struct sim_stack *ps = m->stack[m->nstacks - 1];
	uint64_t h = 0xcbf29ce484222325ULL;
	char sfx[13];

	for (const char *s = ps->id; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	for (int k = 0; k < 12; k++)
		sfx[k] = hex[(h >> (4 * k)) & 0xf];
	sfx[12] = '\0';
	snprintf(buf, len, "%s-%s-%s", ps->name, sim_alarm_defs[i].policy, sfx);
}

void
sim_alarms_init(struct sim_model *m)
{
	struct sim_alarms *a = &m->alarms;

	a->next_eval = SIM_NEVER;
	a->tick_at = SIM_NEVER;
	a->cooldown_until = INT64_MIN;
	a->seg[0].from = INT64_MIN;
	a->seg[0].load = m->p.cpu_load;
	a->nseg = 1;
	for (int i = 0; i < SIM_NALARMS; i++) {
		const struct sim_alarm_def *d = &sim_alarm_defs[i];

		a->a[i].state = SIM_ALARM_OK;
		a->a[i].transitioned = m->stack[0]->created;
		snprintf(a->a[i].reason, sizeof(a->a[i].reason), "Threshold Crossed: %d "
		    "datapoints were not %s than the threshold (%.1f).", d->periods,
		    d->relation, d->threshold);
	}
	if (m->p.cpu_load != 1)
		sim_alarms_arm(m);
}

void
sim_alarms_arm(struct sim_model *m)
{
	struct sim_alarms *a = &m->alarms;
	int64_t at = sim_cpu_minute(m, m->now) + SIM_MINUTE;

	if (a->tick_at != SIM_NEVER && a->tick_at <= at)
		return;
	a->tick_at = at;
	sim_schedule(m, at, SIM_EV_ASG_RECONCILE, -1, 0);
}

/* A double as CloudWatch writes it in a reason: the shortest text that reads back. */
static void
shortest(double v, char *buf, size_t len)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* "63.2 (01/01/25 00:04:00), ...": the newest n group averages. */
static void
datapoints(const struct sim_model *m, size_t n, char *buf, size_t len)
{
	const struct sim_alarms *a = &m->alarms;
	size_t o = 0;
	char v[32], when[32];
	struct tm tm;
	time_t secs;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < a->nrecent && o < len; i++) {
		secs = (time_t)(m->p.epoch + a->recent_t[i] / 1000);
		gmtime_r(&secs, &tm);
		/* CloudWatch's own two-digit year. */
		snprintf(when, sizeof(when), "%02d/%02d/%02d %02d:%02d:%02d", tm.tm_mday,
		    tm.tm_mon + 1, tm.tm_year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec);
		shortest(a->recent[i], v, sizeof(v));
		o += (size_t)snprintf(buf + o, len - o, "%s%s (%s)", i ? ", " : "", v, when);
	}
}

/* StateReason, in CloudWatch's words for an N-out-of-N alarm. */
static void
reason(const struct sim_model *m, int i, char *buf, size_t len)
{
	const struct sim_alarm_def *d = &sim_alarm_defs[i];
	const struct sim_alarm *al = &m->alarms.a[i];
	char dp[SIM_MSG_MAX / 2];

	if (al->state == SIM_ALARM_INSUFFICIENT_DATA) {
		snprintf(buf, len, "Insufficient Data: %d datapoints were unknown.",
		    d->periods);
		return;
	}
	if (al->state == SIM_ALARM_ALARM) {
		datapoints(m, SIM_ALARM_RECENT, dp, sizeof(dp));
		snprintf(buf, len, "Threshold Crossed: %d out of the last %d datapoints "
		    "[%s] were %s than the threshold (%.1f) (minimum %d datapoints for OK "
		    "-> ALARM transition).", d->periods, d->periods, dp, d->relation,
		    d->threshold, d->periods);
		return;
	}
	datapoints(m, 1, dp, sizeof(dp));
	snprintf(buf, len, "Threshold Crossed: 1 out of the last %d datapoints [%s] was "
	    "not %s than the threshold (%.1f) (minimum 1 datapoint for ALARM -> OK "
	    "transition).", d->periods, dp, d->relation, d->threshold);
}

static int
breaching(const struct sim_alarm_def *d, double avg)
{
	return d->adjust > 0 ? avg > d->threshold : avg < d->threshold;
}

/* One more datapoint (or a missing one) for alarm i, judged at boundary b. */
static void
judge(struct sim_model *m, int i, int have, double avg, int64_t b)
{
	const struct sim_alarm_def *d = &sim_alarm_defs[i];
	struct sim_alarm *al = &m->alarms.a[i];
	enum sim_alarm_state s;
	char name[SIM_ARN_MAX];

	if (!have)
		al->missing++;
	else {
		al->missing = 0;
		al->run = breaching(d, avg) ? al->run + 1 : 0;
	}
	if (al->missing >= d->periods)
		s = SIM_ALARM_INSUFFICIENT_DATA;
	else
		s = al->run >= d->periods ? SIM_ALARM_ALARM : SIM_ALARM_OK;
	if (s == al->state)
		return;
	al->state = s;
	al->transitioned = b;
	reason(m, i, al->reason, sizeof(al->reason));
	sim_alarm_name(m, i, name, sizeof(name));
	sim_rec(m, SIM_REC_ALARM, name, sim_alarm_state_name(s), NULL, 0, "%.150s",
	    al->reason);
}

/* Boundary b: the group's average over the minute that has just ended. */
static void
evaluate(struct sim_model *m, int64_t b)
{
	struct sim_alarms *a = &m->alarms;
	struct sim_cpu_stats st;
	double avg = 0;

	memset(&st, 0, sizeof(st));
	sim_cpu_window(m, NULL, b - SIM_MINUTE, b, b, &st);
	if (st.n > 0) {
		avg = st.sum / (double)st.n;
		memmove(&a->recent[1], &a->recent[0], (SIM_ALARM_RECENT - 1) *
		    sizeof(a->recent[0]));
		memmove(&a->recent_t[1], &a->recent_t[0], (SIM_ALARM_RECENT - 1) *
		    sizeof(a->recent_t[0]));
		a->recent[0] = avg;
		a->recent_t[0] = b - SIM_MINUTE;
		if (a->nrecent < SIM_ALARM_RECENT)
			a->nrecent++;
	}
	for (int i = 0; i < SIM_NALARMS; i++)
		judge(m, i, st.n > 0, avg, b);
}

/* Every boundary up to now; the first time, the last half hour (the longest window). */
static void
catch_up(struct sim_model *m)
{
	struct sim_alarms *a = &m->alarms;
	int64_t last = sim_cpu_minute(m, m->now);

	if (a->next_eval == SIM_NEVER)
		a->next_eval = last - (sim_alarm_defs[SIM_ALARM_LOW].periods + 1) * SIM_MINUTE;
	for (; a->next_eval <= last; a->next_eval += SIM_MINUTE)
		evaluate(m, a->next_eval);
}

/* The policy of alarm i changes desired by its adjustment within [min, max]: 1 if so. */
static int
run_policy(struct sim_model *m, int i)
{
	struct sim_asg *g = &m->asg;
	int want = g->desired + sim_alarm_defs[i].adjust;
	char name[SIM_NAME_MAX + 64];

	if (want < g->min)
		want = g->min;
	if (want > g->max)
		want = g->max;
	if (want == g->desired)
		return 0;
	sim_alarm_policy_name(m, i, name, sizeof(name));
	sim_rec(m, SIM_REC_ALARM, name, "policy", sim_alarm_defs[i].logical, want,
	    "desired %d -> %d", g->desired, want);
	sim_asg_capacity(m, g->min, g->max, want);
	g->desired_alarm = i;
	m->alarms.cooldown_until = m->now + SIM_ALARM_COOLDOWN;
	return 1;
}

static void
act(struct sim_model *m)
{
	const struct sim_asg *g = &m->asg;
	struct sim_alarms *a = &m->alarms;

	if ((g->suspended & (1u << SIM_PROC_ALARM_NOTIFICATION)) || g->min >= g->max ||
	    m->now < a->cooldown_until || sim_asg_busy(m) != NULL)
		return;
	for (int i = 0; i < SIM_NALARMS; i++)
		if (a->a[i].state == SIM_ALARM_ALARM && run_policy(m, i))
			return;
}

static int
needs_ticks(const struct sim_model *m)
{
	if (sim_cpu_load(m, m->now) != 1)
		return 1;
	for (int i = 0; i < SIM_NALARMS; i++)
		if (m->alarms.a[i].state == SIM_ALARM_ALARM)
			return 1;
	return 0;
}

void
sim_alarms_tick(struct sim_model *m)
{
	struct sim_alarms *a = &m->alarms;

	/* The deployment before the scenario has nothing to judge: min = max there. */
	if (m->now < 0)
		return;
	catch_up(m);
	if (a->tick_at != SIM_NEVER && m->now >= a->tick_at)
		a->tick_at = SIM_NEVER;
	act(m);
	if (needs_ticks(m))
		sim_alarms_arm(m);
}

void
sim_alarms_update(struct sim_model *m, int64_t now)
{
	sim_model_advance(m, now);
	if (m->now < 0)
		return;
	catch_up(m);
	if (needs_ticks(m))
		sim_alarms_arm(m);
}
