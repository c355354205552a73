/*
 * CloudWatch CPUUtilization of every instance, minute by minute over its whole life
 * (see model.h): each sample is a seeded function of (seed, instance, minute) times
 * the load in force when that minute began, so nothing is stored, memory stays
 * bounded, and any window, however old, has the same answer whenever it is asked.
 *
 * Members sit inside the template's alarm band (42 to 58 %), each at a level of its
 * own, so that the CPU alarms stay OK unless a fault changes the load; the
 * FileServer idles lower. This file must never draw from the model's shared random
 * streams: reading a metric must not change the ids a scenario produces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

#define FIVE_MIN	(5 * SIM_MINUTE)
#define LEVEL_STREAM	(1ULL << 62)	/* no minute's stream comes near it */
#define LOAD_MAX	10.0

static int64_t
floor_to(int64_t x, int64_t g)
{
	int64_t q = x / g;

	if (x % g != 0 && x < 0)
		q--;
	return q * g;
}

/* CloudWatch's periods start on UTC's minutes, whatever the scenario's epoch. */
int64_t
sim_cpu_grid_floor(const struct sim_model *m, int64_t t, int64_t g)
{
	int64_t e = m->p.epoch * 1000;

	return floor_to(t + e, g) - e;
}

int64_t
sim_cpu_minute(const struct sim_model *m, int64_t t)
{
	return sim_cpu_grid_floor(m, t, SIM_MINUTE);
}

double
sim_cpu_load(const struct sim_model *m, int64_t t)
{
	const struct sim_alarms *a = &m->alarms;
	double load = a->nseg > 0 ? a->seg[0].load : m->p.cpu_load;

	for (size_t i = 1; i < a->nseg && a->seg[i].from <= t; i++)
		load = a->seg[i].load;
	return load;
}

void
sim_cpu_set_load(struct sim_model *m, double load)
{
	struct sim_alarms *a = &m->alarms;

	/* Full: the oldest change goes; minutes before the next one take its load. */
	if (a->nseg == SIM_CPU_SEGS) {
		memmove(&a->seg[0], &a->seg[1], (SIM_CPU_SEGS - 1) * sizeof(a->seg[0]));
		a->seg[0].from = INT64_MIN;
		a->nseg--;
	}
	if (a->nseg > 0 && a->seg[a->nseg - 1].from == m->now)
		a->nseg--;
	a->seg[a->nseg].from = m->now;
	a->seg[a->nseg++].load = load;
	m->p.cpu_load = load;
	sim_rec(m, SIM_REC_ALARM, "cpu", "load", NULL, (long)(load * 100), "the members' "
	    "CPU load is now x%.2f", load);
	sim_alarms_arm(m);
}

int
sim_cpu_load_parse(const char *s, double *out)
{
	static const struct { const char *name; double load; } names[] = {
		{ "normal", 1 }, { "high", 1.5 }, { "low", 0.5 },
	};
	char *end;
	double v;

	for (size_t i = 0; i < nitems(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return *out = names[i].load, 0;
	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0 && v <= LOAD_MAX))
		return -1;
	*out = v;
	return 0;
}

/* The sample of the minute (or five) starting at t, in percent. */
static double
sample(const struct sim_model *m, const struct sim_instance *in, int64_t t)
{
	uint64_t seed = m->p.seed ^ ((uint64_t)(in->idx + 1) * 0x9e3779b97f4a7c15ULL);
	struct sim_rng r;
	double level, v;

	sim_rng_seed(&r, seed, LEVEL_STREAM);
	level = in->member ? 45 + 10 * sim_rng_unit(&r) : 8 + 6 * sim_rng_unit(&r);
	sim_rng_seed(&r, seed, (uint64_t)((t + m->p.epoch * 1000) / SIM_MINUTE));
	v = level + 6 * (sim_rng_unit(&r) - 0.5);
	if (in->member)
		v *= sim_cpu_load(m, t);
	return v < 0 ? 0 : v > 100 ? 100 : v;
}

static void
add(struct sim_cpu_stats *st, double v)
{
	if (st->n == 0 || v < st->min)
		st->min = v;
	if (st->n == 0 || v > st->max)
		st->max = v;
	if (st->v != NULL && (size_t)st->n < st->vmax)
		st->v[st->n] = v;
	st->n++;
	st->sum += v;
}

/* Samples of a period while the instance ran, published once the period is over. */
static void
instance_window(const struct sim_model *m, const struct sim_instance *in, int64_t from,
    int64_t to, int64_t now, struct sim_cpu_stats *st)
{
	int64_t g = in->member ? SIM_MINUTE : FIVE_MIN;
	int64_t t, end = to;

	if (in->running_at == SIM_NEVER)
		return;
	t = sim_cpu_grid_floor(m, in->running_at, g);
	if (t < from)
		t = sim_cpu_grid_floor(m, from + g - 1, g);
	if (in->stopped_at != SIM_NEVER && in->stopped_at < end)
		end = in->stopped_at;
	if (now - g + 1 < end)
		end = now - g + 1;
	for (; t < end; t += g)
		add(st, sample(m, in, t));
}

void
sim_cpu_window(const struct sim_model *m, const struct sim_instance *in, int64_t from,
    int64_t to, int64_t now, struct sim_cpu_stats *st)
{
	st->n = 0;
	st->sum = st->min = st->max = 0;
	if (in != NULL) {
		instance_window(m, in, from, to, now, st);
		return;
	}
	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->member)
			instance_window(m, m->inst[i], from, to, now, st);
}
