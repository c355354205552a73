/*
 * CloudWatch's operations (see api.h): EC2 CPUUtilization per instance (or per
 * group) and the template's two CPU alarms, over the Query protocol and over AWS
 * JSON 1.0 (X-Amz-Target GraniteServiceVersion20100801.<Op>), which is what the aws
 * CLI v1 and botocore 1.43 speak by default (aws-errors.md 10).
 *
 * Each operation reads its request, from the form or from the JSON body, into one
 * C struct (api_cloudwatch_req.c), checks it once, asks the model, and writes its
 * answer once through a small emitter that spells it as XML or as JSON
 * (api_cloudwatch_out.c). Times on the wire are real (Unix) times; the model's are
 * virtual, from params.epoch.
 *
 * The metric comes from the model's CPU history (sim/cpu_history.c), period by
 * period (api_cloudwatch_metric.c): a sample a minute per member while it ran, so
 * any window gets the datapoints of the periods in it that hold samples, with
 * CloudWatch's rounding of StartTime, its retention per resolution, and its limits;
 * the alarms are the model's (sim/alarms.c), described by api_cloudwatch_alarms.c.
 * Here: GetMetricStatistics, GetMetricData and the operations' table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/api.h"
#include "sim/api_cloudwatch_int.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"

#define POINTS_MAX	1440
#define TOKEN_QUERY	32		/* a GetMetricData token: query << 32 | point */

/* ---- GetMetricStatistics ---- */

/* aws-errors.md 8: every missing parameter, one line each (yegor256/s3auth#134). */
static int
stats_missing(struct sim_aws_call *c, const struct sim_cw_stats_req *r)
{
	const char	*miss[6];
	size_t		 n = 0, o = 0;
	char		 msg[512];

	if (r->mt.ns == NULL)
		miss[n++] = "Namespace";
	if (r->mt.name == NULL)
		miss[n++] = "MetricName";
	if (!r->has_start)
		miss[n++] = "StartTime";
	if (!r->has_end)
		miss[n++] = "EndTime";
	if (!r->has_period)
		miss[n++] = "Period";
	if (r->nstat == 0 && r->next == 0)
		miss[n++] = "Statistics";
	if (n == 0)
		return 0;
	msg[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(msg); i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%sThe parameter %s is "
		    "required.", i ? "\n" : "", miss[i]);
	return sim_call_fail(c, 400, "MissingParameter", "%s", msg);
}

static int
stats_check(struct sim_aws_call *c, const struct sim_cw_stats_req *r)
{
	long long	 points;

	if (stats_missing(c, r) == -1)
		return -1;
	for (size_t i = 0; i < r->nstat; i++)
		if (!sim_cw_stat_known(r->stat[i]) || r->stat[i][0] == 'p')
			return sim_api_invalid(c, "Statistics", r->stat[i], "Member must "
			    "satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, "
			    "Average]");
	for (size_t i = 0; i < r->next; i++)
		if (r->ext[i][0] != 'p' || !sim_cw_stat_known(r->ext[i]))
			return sim_api_invalid(c, "ExtendedStatistics", r->ext[i],
			    "a percentile such as p99 is expected");
	/* aws-errors.md 8: influxdata/telegraf#2022 (S), the others U or S as marked. */
	if (r->start == r->end)
		return sim_call_fail(c, 400, "InvalidParameterValue", "The parameter "
		    "StartTime must not equal parameter EndTime.");
	if (r->start > r->end)
		return sim_call_fail(c, 400, "InvalidParameterValue", "The parameter "
		    "StartTime must be less than the parameter EndTime.");
	if (r->period % 60 != 0)
		return sim_call_fail(c, 400, "InvalidParameterValue", "The parameter "
		    "Period must be a multiple of 60.");
	points = (r->end - r->start + r->period * 1000LL - 1) / (r->period * 1000LL);
	if (points > POINTS_MAX)
		return sim_call_fail(c, 400, "InvalidParameterCombination", "You have "
		    "requested up to %lld datapoints, which exceeds the limit of 1440. You "
		    "may reduce the datapoints requested by increasing Period, or "
		    "decreasing the time range.", points);
	return 0;
}

/* One period's answer: its start and the statistics asked for, in order. */
struct gpoint {
	int64_t		 t;
	double		 stat[SIM_CW_STATS_MAX];
	double		 ext[SIM_CW_STATS_MAX];
};

static size_t
stats_points(const struct sim_model *m, const struct sim_cw_stats_req *r,
    const struct sim_cw_source *src, const struct sim_cw_buckets *b, struct gpoint *pts)
{
	struct sim_cpu_stats	 st;
	size_t			 lo, hi, n = 0, vmax;
	double			*v = sim_cw_samples_buffer(m, b, r->next > 0, &vmax);

	sim_cw_bucket_range(m, src, b, &lo, &hi);
	for (size_t k = lo; k < hi && n < POINTS_MAX; k++) {
		memset(&st, 0, sizeof(st));
		st.v = v;
		st.vmax = vmax;
		sim_cw_bucket_stats(m, src, b, k, &st);
		if (st.n == 0)
			continue;	/* no sample is no datapoint, never 0 % */
		pts[n].t = b->start + (int64_t)k * b->step;
		for (size_t i = 0; i < r->nstat; i++)
			pts[n].stat[i] = sim_cw_statistic(&st, r->stat[i]);
		for (size_t i = 0; i < r->next; i++)
			pts[n].ext[i] = sim_cw_statistic(&st, r->ext[i]);
		n++;
	}
	free(v);
	return n;
}

/* The statistics asked for, in the order of the Datapoint shape, not the request's. */
static void
write_datapoint(struct sim_cw_out *o, const struct sim_model *m, const struct sim_cw_stats_req *r,
    const struct gpoint *p)
{
	static const char *const order[] = {
		"SampleCount", "Average", "Sum", "Minimum", "Maximum",
	};

	sim_cw_out_open(o, NULL, 0);
	sim_cw_out_time(o, m, "Timestamp", p->t);
	for (size_t k = 0; k < NITEMS(order); k++)
		for (size_t i = 0; i < r->nstat; i++)
			if (strcmp(r->stat[i], order[k]) == 0) {
				sim_cw_out_num(o, r->stat[i], p->stat[i]);
				break;
			}
	sim_cw_out_str(o, "Unit", "Percent");
	if (r->next > 0) {
		sim_cw_out_open(o, "ExtendedStatistics", 0);
		for (size_t i = 0; i < r->next; i++)
			sim_cw_out_entry(o, r->ext[i], p->ext[i]);
		sim_cw_out_close(o, "ExtendedStatistics");
	}
	sim_cw_out_close(o, NULL);
}

/*
 * "Datapoints are not returned in chronological order" (the model's doc): the later
 * half first, then the earlier, so that a client that assumes an order (either way)
 * finds out here. i-th written of n.
 */
static size_t
scrambled(size_t i, size_t n)
{
	return (i + (n + 1) / 2) % n;
}

static int
get_metric_statistics(struct sim_aws_call *c)
{
	static struct sim_cw_stats_req	 r;
	static struct gpoint	 pts[POINTS_MAX];
	struct sim_model	*m;
	struct sim_cw_source		 src;
	struct sim_cw_buckets		 b;
	struct sim_cw_out		 o;
	size_t			 n;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if (sim_cw_read_stats(c, &r) == -1 || stats_check(c, &r) == -1)
		return -1;
	sim_model_advance(m, c->sim->now);
	sim_cw_source_of(m, &r.mt, r.unit, &src);
	sim_cw_buckets_init(m, c->sim->now, r.start, r.end, r.period, &b);
	n = stats_points(m, &r, &src, &b, pts);
	sim_cw_out_begin(&o, c);
	sim_cw_out_str(&o, "Label", r.mt.name);
	sim_cw_out_open(&o, "Datapoints", 1);
	for (size_t i = 0; i < n; i++)
		write_datapoint(&o, m, &r, &pts[scrambled(i, n)]);
	sim_cw_out_close(&o, "Datapoints");
	return sim_cw_out_finish(&o, c);
}

/* ---- GetMetricData ---- */

/* The Id's pattern, ^[a-z][a-zA-Z0-9_]*$, and one of MetricStat or Expression. */
static int
data_query_check(struct sim_aws_call *c, const struct sim_cw_data_query *q, size_t i)
{
	char	 name[64];

	snprintf(name, sizeof(name), "MetricDataQueries.member.%zu.Id", i + 1);
	if (q->id == NULL)
		return sim_api_missing(c, name);
	if (!islower((unsigned char)q->id[0]) || strspn(q->id, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(q->id))
		return sim_api_invalid(c, name, q->id, "must start with a lowercase "
		    "letter and hold only letters, digits and underscores");
	if (q->expression != NULL)
		return sim_call_fail(c, 400, "ValidationError", "bbsim does not "
		    "simulate metric math (MetricDataQueries.member.%zu.Expression)",
		    i + 1);
	if (!q->has_stat || q->stat == NULL || q->period <= 0 || q->mt.ns == NULL ||
	    q->mt.name == NULL)
		return sim_call_fail(c, 400, "ValidationError", "The parameter "
		    "MetricDataQueries.member.%zu.MetricStat must have Metric (Namespace, "
		    "MetricName), Period and Stat.", i + 1);
	if (!sim_cw_stat_known(q->stat))
		return sim_api_invalid(c, "MetricDataQueries.member.Stat", q->stat,
		    "an AWS statistic is expected");
	if (q->period % 60 != 0)
		return sim_call_fail(c, 400, "InvalidParameterValue", "The parameter "
		    "MetricDataQueries.member.%zu.MetricStat.Period must be a multiple "
		    "of 60.", i + 1);
	return 0;
}
/* The token names a query and how many of its datapoints were already sent. */
static int
data_check(struct sim_aws_call *c, struct sim_cw_data_req *r, size_t *from)
{
	if (r->nq == 0)
		return sim_api_missing(c, "MetricDataQueries");
	if (!r->has_start)
		return sim_api_missing(c, "StartTime");
	if (!r->has_end)
		return sim_api_missing(c, "EndTime");
	for (size_t i = 0; i < r->nq; i++)
		if (data_query_check(c, &r->q[i], i) == -1)
			return -1;
	if (r->start >= r->end)
		return sim_call_fail(c, 400, "InvalidParameterValue", "The parameter "
		    "StartTime must be less than the parameter EndTime.");
	if (r->scan != NULL && strcmp(r->scan, "TimestampDescending") != 0 &&
	    strcmp(r->scan, "TimestampAscending") != 0)
		return sim_api_invalid(c, "ScanBy", r->scan, "Member must satisfy enum "
		    "value set: [TimestampDescending, TimestampAscending]");
	*from = 0;
	if (r->token != NULL && (sim_api_token_read(r->token, from) == -1 ||
	    (*from >> TOKEN_QUERY) >= r->nq))
		return sim_call_fail(c, 400, "InvalidNextToken", "The service couldn't "
		    "process the token %s.", r->token);
	return 0;
}

struct dpoint {
	int64_t		 t;
	double		 v;
};

/*
 * A query's datapoints in the order ScanBy asks (newest first by default), after
 * skipping the first skip, at most max of them; *more if some are left over.
 */
static size_t
query_points(const struct sim_model *m, const struct sim_cw_data_req *r,
    const struct sim_cw_data_query *q, const struct sim_cw_source *src, const struct sim_cw_buckets *b,
    size_t skip, size_t max, struct dpoint *out, int *more)
{
	int			 asc = r->scan != NULL &&
				    strcmp(r->scan, "TimestampAscending") == 0;
	struct sim_cpu_stats	 st;
	size_t			 lo, hi, n = 0, seen = 0, k, vmax;
	double			*v = sim_cw_samples_buffer(m, b, q->stat[0] == 'p', &vmax);

	*more = 0;
	sim_cw_bucket_range(m, src, b, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		k = asc ? i : hi - 1 - (i - lo);
		memset(&st, 0, sizeof(st));
		st.v = v;
		st.vmax = vmax;
		sim_cw_bucket_stats(m, src, b, k, &st);
		if (st.n == 0 || seen++ < skip)
			continue;
		if (n == max) {
			*more = 1;
			break;
		}
		out[n].t = b->start + (int64_t)k * b->step;
		out[n++].v = sim_cw_statistic(&st, q->stat);
	}
	free(v);
	return n;
}

static void
write_result(struct sim_cw_out *o, const struct sim_model *m, const struct sim_cw_data_query *q,
    const struct dpoint *p, size_t n, int partial)
{
	sim_cw_out_open(o, NULL, 0);
	sim_cw_out_str(o, "Id", q->id);
	sim_cw_out_str(o, "Label", q->label != NULL ? q->label : q->mt.name);
	sim_cw_out_open(o, "Timestamps", 1);
	for (size_t i = 0; i < n; i++)
		sim_cw_out_time(o, m, NULL, p[i].t);
	sim_cw_out_close(o, "Timestamps");
	sim_cw_out_open(o, "Values", 1);
	for (size_t i = 0; i < n; i++)
		sim_cw_out_num(o, NULL, p[i].v);
	sim_cw_out_close(o, "Values");
	sim_cw_out_str(o, "StatusCode", partial ? "PartialData" : "Complete");
	sim_cw_out_close(o, NULL);
}

/*
 * Queries from the token's on, until MaxDatapoints are out: the query cut short is
 * PartialData and the token says where the next page resumes.
 */
static size_t
write_results(struct sim_cw_out *o, struct sim_model *m, int64_t now,
    const struct sim_cw_data_req *r, size_t from, struct dpoint *pts)
{
	struct sim_cw_source	 src;
	struct sim_cw_buckets	 b;
	size_t		 left = (size_t)r->maxdp, skip = from & 0xffffffffu, n;
	int		 more = 0;

	for (size_t i = from >> TOKEN_QUERY; i < r->nq; i++, skip = 0) {
		if (!r->q[i].ret)
			continue;
		sim_cw_source_of(m, &r->q[i].mt, r->q[i].unit, &src);
		sim_cw_buckets_init(m, now, r->start, r->end, r->q[i].period, &b);
		n = query_points(m, r, &r->q[i], &src, &b, skip, left, pts, &more);
		if (more && n == 0)	/* nothing of it fits: all of it on the next page */
			return ((size_t)i << TOKEN_QUERY) | skip;
		write_result(o, m, &r->q[i], pts, n, more);
		left -= n;
		if (more)
			return ((size_t)i << TOKEN_QUERY) | (skip + n);
	}
	return 0;
}

static int
get_metric_data(struct sim_aws_call *c)
{
	static struct sim_cw_data_req	 r;	/* large; handlers run one at a time */
	struct sim_model	*m;
	struct dpoint		*pts;
	struct sim_cw_out		 o;
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 from, next;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if (sim_cw_read_data(c, &r) == -1 || data_check(c, &r, &from) == -1)
		return -1;
	if ((pts = calloc((size_t)r.maxdp, sizeof(*pts))) == NULL)
		return sim_call_fail(c, 500, "InternalServiceError", "out of memory");
	sim_model_advance(m, c->sim->now);
	sim_cw_out_begin(&o, c);
	sim_cw_out_open(&o, "MetricDataResults", 1);
	next = write_results(&o, m, c->sim->now, &r, from, pts);
	sim_cw_out_close(&o, "MetricDataResults");
	free(pts);
	if (next != 0) {
		sim_api_token(tok, sizeof(tok), next);
		sim_cw_out_str(&o, "NextToken", tok);
	}
	sim_cw_out_empty(&o, "Messages");
	return sim_cw_out_finish(&o, c);
}

static const struct sim_op cw_ops[] = {
	{ "DescribeAlarms", sim_cw_describe_alarms },
	{ "GetMetricData", get_metric_data },
	{ "GetMetricStatistics", get_metric_statistics },
};

int
sim_api_cw_init(void)
{
	return sim_aws_register("monitoring", "2010-08-01", cw_ops, NITEMS(cw_ops));
}
