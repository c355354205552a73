/*
 * The metric of bbsim's CloudWatch, period by period (see api_cloudwatch_int.h): what
 * a query's metric names, the periods of a request with CloudWatch's rounding of
 * StartTime and its retention per resolution, and each period's statistics over the
 * model's CPU history (sim/cpu_history.c). Memory stays bounded whatever the
 * period: a percentile is taken over at most SAMPLES_MAX samples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/api_cloudwatch_int.h"
#include "sim/model.h"

#define DAY_MS		(86400 * 1000LL)
#define RETAIN_1MIN	(15 * DAY_MS)	/* how long each resolution is kept */
#define RETAIN_5MIN	(63 * DAY_MS)
#define RETAIN_1H	(455 * DAY_MS)
#define SAMPLES_MAX	(1 << 17)	/* kept for one period's percentiles */

static const char *
dimension(const struct sim_cw_metric *mt, const char *name)
{
	for (size_t i = 0; i < mt->ndims; i++)
		if (strcmp(mt->dname[i], name) == 0)
			return mt->dvalue[i];
	return NULL;
}

/* AWS/EC2 CPUUtilization by InstanceId or AutoScalingGroupName, in Percent. */
void
sim_cw_source_of(struct sim_model *m, const struct sim_cw_metric *mt, const char *unit,
    struct sim_cw_source *src)
{
	const char	*id, *group;

	memset(src, 0, sizeof(*src));
	if (mt->ns == NULL || mt->name == NULL || strcmp(mt->ns, SIM_CW_NS_EC2) != 0 ||
	    strcmp(mt->name, SIM_CW_CPU) != 0 || mt->ndims != 1 ||
	    (unit != NULL && strcmp(unit, "Percent") != 0))
		return;		/* a unit that is not the metric's selects nothing */
	id = dimension(mt, "InstanceId");
	group = dimension(mt, "AutoScalingGroupName");
	if (id != NULL)
		src->ok = (src->in = sim_ec2_find(m, id)) != NULL;
	else if (group != NULL)
		src->ok = strcmp(group, m->asg.name) == 0;
}

void
sim_cw_buckets_init(const struct sim_model *m, int64_t now, int64_t start, int64_t end,
    long period, struct sim_cw_buckets *b)
{
	int64_t	 e = m->p.epoch * 1000, age = now - (start - e), g;

	g = age < RETAIN_1MIN ? SIM_MINUTE : age < RETAIN_5MIN ? 5 * SIM_MINUTE :
	    60 * SIM_MINUTE;
	b->start = sim_cpu_grid_floor(m, start - e, g);
	b->end = end - e;
	b->step = period * 1000LL;
	b->n = b->end > b->start ? (size_t)((b->end - b->start + b->step - 1) /
	    b->step) : 0;
	b->oldest = now - (period < 300 ? RETAIN_1MIN : period < 3600 ? RETAIN_5MIN :
	    RETAIN_1H);
	b->now = now;
}

/* The periods that may hold samples: from the source's first running to now. */
void
sim_cw_bucket_range(const struct sim_model *m, const struct sim_cw_source *src,
    const struct sim_cw_buckets *b, size_t *lo, size_t *hi)
{
	int64_t	 first = SIM_NEVER, last = b->now < b->end ? b->now : b->end;

	*lo = *hi = 0;
	if (src->in != NULL)
		first = src->in->running_at;
	for (size_t i = 0; src->in == NULL && i < m->ninst; i++)
		if (m->inst[i]->member && m->inst[i]->running_at < first)
			first = m->inst[i]->running_at;
	if (!src->ok || first == SIM_NEVER || first >= last || b->n == 0)
		return;
	first -= 5 * SIM_MINUTE;	/* the sample holding it may start earlier */
	*lo = first > b->start ? (size_t)((first - b->start) / b->step) : 0;
	*hi = (size_t)((last - b->start + b->step - 1) / b->step);
	if (*hi > b->n)
		*hi = b->n;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Period k's samples; sorted when kept (for percentiles). */
void
sim_cw_bucket_stats(const struct sim_model *m, const struct sim_cw_source *src,
    const struct sim_cw_buckets *b, size_t k, struct sim_cpu_stats *st)
{
	int64_t	 from = b->start + (int64_t)k * b->step, to = from + b->step;

	if (to > b->end)
		to = b->end;
	if (from < b->oldest)
		from = b->oldest;
	sim_cpu_window(m, src->in, from, to, b->now, st);
	if (st->v != NULL && st->n > 0)
		qsort(st->v, (size_t)st->n < st->vmax ? (size_t)st->n : st->vmax,
		    sizeof(double), cmp_double);
}

/*
 * Room for the samples of one period, if percentiles are asked for; else NULL. Past
 * SAMPLES_MAX (a day of a 64-node group at one a minute, and more), a percentile
 * is taken over the first SAMPLES_MAX: memory stays bounded whatever the period.
 */
double *
sim_cw_samples_buffer(const struct sim_model *m, const struct sim_cw_buckets *b, int need,
    size_t *vmax)
{
	size_t	 members = 1;

	*vmax = 0;
	if (!need)
		return NULL;
	for (size_t i = 0; i < m->ninst; i++)
		members += m->inst[i]->member;
	*vmax = (size_t)(b->step / SIM_MINUTE + 1) * members;
	if (*vmax > SAMPLES_MAX)
		*vmax = SAMPLES_MAX;
	return calloc(*vmax, sizeof(double));
}

/* One statistic of a period: nearest rank for a percentile. */
double
sim_cw_statistic(const struct sim_cpu_stats *st, const char *stat)
{
	size_t	 n, rank;

	if (strcmp(stat, "Sum") == 0)
		return st->sum;
	if (strcmp(stat, "SampleCount") == 0)
		return (double)st->n;
	if (strcmp(stat, "Minimum") == 0)
		return st->min;
	if (strcmp(stat, "Maximum") == 0)
		return st->max;
	if (stat[0] != 'p' || st->v == NULL)
		return st->sum / (double)st->n;
	n = (size_t)st->n < st->vmax ? (size_t)st->n : st->vmax;
	rank = (size_t)ceil(strtod(stat + 1, NULL) / 100 * (double)n);
	return st->v[(rank < 1 ? 1 : rank > n ? n : rank) - 1];
}

int
sim_cw_stat_known(const char *s)
{
	static const char *const known[] = {
		"SampleCount", "Average", "Sum", "Minimum", "Maximum",
	};
	char	*end;
	double	 pct;

	for (size_t i = 0; i < NITEMS(known); i++)
		if (strcmp(s, known[i]) == 0)
			return 1;
	if (s[0] != 'p')
		return 0;
	pct = strtod(s + 1, &end);
	return end != s + 1 && *end == '\0' && pct >= 0 && pct <= 100;
}
