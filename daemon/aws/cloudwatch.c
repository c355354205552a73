/*
 * CloudWatch (see cloudwatch.h), on the Query protocol: the SDKs now default to
 * JSON or CBOR for CloudWatch, but Query is still served, and it is what bbsim
 * speaks. The builders emit parameters in botocore's order for the same call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/cloudwatch.h"

#define CPU_ID_MAX	23	/* "i" and a query's index (any size_t) */

/* --- GetMetricData -------------------------------------------------------- */

/* The model: a query id starts with a lowercase letter; then letters, digits, '_'. */
static bool
valid_id(const char *id)
{
	size_t	 i;

	if (!aws_given(id) || id[0] < 'a' || id[0] > 'z')
		return false;
	for (i = 1; id[i] != '\0'; i++)
		if (i >= AWS_NAME_MAX || !((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '_'))
			return false;
	return true;
}

static bool
valid_metric(const struct aws_cw_metric_query *m)
{
	return valid_id(m->id) && aws_given(m->ns) && aws_given(m->metric) &&
	    aws_given(m->stat) && m->period > 0 && m->period % 60 == 0 &&
	    (m->dim_name == NULL || aws_given(m->dim_value));
}

static void
add_metric(struct aws_query *q, size_t i, const struct aws_cw_metric_query *m)
{
	const char	*p = "MetricDataQueries.member";

	aws_query_add(q, aws_query_key(q, "%s.%zu.Id", p, i), m->id);
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric.Namespace", p, i),
	    m->ns);
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric.MetricName", p,
	    i), m->metric);
	if (m->dim_name != NULL) {
		aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric."
		    "Dimensions.member.1.Name", p, i), m->dim_name);
		aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric."
		    "Dimensions.member.1.Value", p, i), m->dim_value);
	}
	aws_query_add_int(q, aws_query_key(q, "%s.%zu.MetricStat.Period", p, i),
	    m->period);
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Stat", p, i), m->stat);
	if (m->unit != NULL)
		aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Unit", p, i),
		    m->unit);
	if (m->label != NULL)
		aws_query_add(q, aws_query_key(q, "%s.%zu.Label", p, i), m->label);
	aws_query_add_bool(q, aws_query_key(q, "%s.%zu.ReturnData", p, i),
	    m->return_data);
}

int
aws_cw_get_metric_data_query(struct aws_query *q,
    const struct aws_cw_metric_query *mq, size_t n, time_t start, time_t end,
    const char *scan_by)
{
	size_t	 i;

	if (aws_query_init(q, AWS_CLOUDWATCH, "GetMetricData") == -1)
		return -1;
	if (n == 0 || n > AWS_CW_MAX_QUERIES || mq == NULL || start < 0 ||
	    end <= start)
		return aws_refuse(q);
	for (i = 0; i < n; i++)
		if (!valid_metric(&mq[i]))
			return aws_refuse(q);
	for (i = 0; i < n; i++)
		add_metric(q, i + 1, &mq[i]);
	aws_query_add_time(q, "StartTime", start);
	aws_query_add_time(q, "EndTime", end);
	if (scan_by != NULL)
		aws_query_add(q, "ScanBy", scan_by);
	return aws_built(q);
}

static int
parse_points(const xmlNode *m, struct aws_cw_series *s, char *err, size_t errlen)
{
	const xmlNode	*tl, *vl, *t, *v;
	size_t		 nt, nv, i = 0;

	if (aws_get_list(m, "Timestamps", AWS_OPT, AWS_XML_MEMBER, AWS_CW_MAX_POINTS,
	    &tl, &nt, err, errlen) == -1 ||
	    aws_get_list(m, "Values", AWS_OPT, AWS_XML_MEMBER, AWS_CW_MAX_POINTS, &vl,
	    &nv, err, errlen) == -1)
		return -1;
	if (nt != nv)
		return aws_perr(err, errlen, "%zu Timestamps but %zu Values", nt, nv);
	if ((s->times = aws_alloc_array(nt, sizeof(*s->times))) == NULL ||
	    (s->values = aws_alloc_array(nt, sizeof(*s->values))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	s->n = nt;
	for (t = aws_xml_first(tl, AWS_XML_MEMBER), v = aws_xml_first(vl,
	    AWS_XML_MEMBER); t != NULL && v != NULL; t = aws_xml_next(t),
	    v = aws_xml_next(v), i++)
		if (aws_get_time(t, "", AWS_REQ, &s->times[i], err, errlen) == -1 ||
		    aws_get_double(v, "", AWS_REQ, &s->values[i], err, errlen) == -1)
			return aws_perr_in(err, errlen, "datapoint %zu", i + 1);
	return 0;
}

static int
parse_series(const xmlNode *m, struct aws_cw_series *s, char *err, size_t errlen)
{
	if (aws_get_str(m, "Id", AWS_REQ, s->id, sizeof(s->id), err, errlen) == -1 ||
	    aws_get_str(m, "StatusCode", AWS_REQ, s->status, sizeof(s->status), err,
	    errlen) == -1 ||
	    parse_points(m, s, err, errlen) == -1)
		return -1;
	aws_get_text(m, "Label", s->label, sizeof(s->label));
	return 0;
}

int
aws_cw_parse_get_metric_data(const xmlNode *result, struct aws_cw_metric_data *out,
    char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "MetricDataResults", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CW_MAX_QUERIES, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_series(m, &out->items[i++], err, errlen) == -1) {
			aws_cw_metric_data_free(out);
			return aws_perr_in(err, errlen, "MetricDataResults member %zu",
			    i);
		}
	}
	return 0;
}

void
aws_cw_metric_data_free(struct aws_cw_metric_data *md)
{
	size_t	 i;

	for (i = 0; i < md->n && md->items != NULL; i++) {
		free(md->items[i].times);
		free(md->items[i].values);
	}
	free(md->items);
	memset(md, 0, sizeof(*md));
}

/* --- CPU of instances ----------------------------------------------------- */

int
aws_cw_cpu_query(struct aws_query *q, const char *const *ids, size_t n,
    time_t start, time_t end)
{
	struct aws_cw_metric_query	*mq = NULL;
	char				(*qid)[CPU_ID_MAX + 1] = NULL;
	size_t				 i;
	int				 rc;

	if (n > 0 && n <= AWS_CW_MAX_QUERIES && ids != NULL) {
		mq = calloc(n, sizeof(*mq));
		qid = calloc(n, sizeof(*qid));
	}
	if (mq == NULL || qid == NULL || start < 0 || end <= start ||
	    end - start > AWS_CW_CPU_WINDOW_MAX) {
		free(mq);
		free(qid);
		if (aws_query_init(q, AWS_CLOUDWATCH, "GetMetricData") == 0)
			aws_refuse(q);
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(qid[i], sizeof(qid[i]), "i%zu", i);
		/* One period for the whole window: CloudWatch averages it for us. */
		mq[i] = (struct aws_cw_metric_query){ qid[i], "AWS/EC2",
		    "CPUUtilization", "InstanceId", ids[i],
		    (int)((end - start + 59) / 60 * 60), "Average", NULL, NULL, true };
	}
	rc = aws_cw_get_metric_data_query(q, mq, n, start, end,
	    "TimestampDescending");
	free(qid);
	free(mq);
	return rc;
}

int
aws_cw_cpus_init(struct aws_cw_cpus *out, const char *const *ids, size_t n)
{
	size_t	 i;

	memset(out, 0, sizeof(*out));
	if (n > AWS_CW_MAX_QUERIES || (n > 0 && ids == NULL) ||
	    (out->items = aws_alloc_array(n, sizeof(*out->items))) == NULL)
		return -1;
	out->n = n;
	for (i = 0; i < n; i++) {
		if (ids[i] == NULL || strlen(ids[i]) > AWS_ID_MAX) {
			aws_cw_cpus_free(out);
			return -1;
		}
		memcpy(out->items[i].instance_id, ids[i], strlen(ids[i]) + 1);
	}
	return 0;
}

/* The index k of a query id "i<k>", or -1. */
static long
cpu_index(const char *id, size_t n)
{
	char	*end;
	long	 k;

	if (id[0] != 'i' || id[1] < '0' || id[1] > '9' || strlen(id) > CPU_ID_MAX)
		return -1;
	k = strtol(id + 1, &end, 10);
	if (*end != '\0' || k < 0 || (size_t)k >= n || (id[1] == '0' && id[2] != '\0'))
		return -1;
	return k;
}

static void
fill_one(struct aws_cw_cpu *c, const struct aws_cw_series *s)
{
	double	 sum = 0;
	size_t	 i;

	memcpy(c->status, s->status, sizeof(c->status));
	c->npoints = s->n;
	c->has_data = s->n > 0;
	c->latest_ms = 0;
	for (i = 0; i < s->n; i++) {
		sum += s->values[i];
		if (s->times[i] > c->latest_ms)
			c->latest_ms = s->times[i];
	}
	c->average = c->has_data ? sum / (double)s->n : 0;
}

void
aws_cw_cpus_fill(struct aws_cw_cpus *out, const struct aws_cw_metric_data *md)
{
	size_t	 i;
	long	 k;

	/* Ids we did not ask for are someone else's answer: not ours to use. */
	for (i = 0; i < md->n; i++)
		if ((k = cpu_index(md->items[i].id, out->n)) != -1)
			fill_one(&out->items[k], &md->items[i]);
}

void
aws_cw_cpus_free(struct aws_cw_cpus *c)
{
	free(c->items);
	memset(c, 0, sizeof(*c));
}

struct cpu_ctx {
	struct aws_cw_cpus	 out;
	aws_cw_cpus_cb		 cb;
	void			*arg;
};

static int
cpu_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,
    char *err, size_t errlen)
{
	struct cpu_ctx			*c = ctx;
	struct aws_cw_metric_data	 md;

	if (aws_cw_parse_get_metric_data(result, &md, err, errlen) == -1)
		return -1;
	/* One period per instance: far below a page, so no NextToken to follow. */
	aws_cw_cpus_fill(&c->out, &md);
	aws_cw_metric_data_free(&md);
	return 0;
}

static void
cpu_done(const struct aws_result *r, void *ctx)
{
	struct cpu_ctx	*c = ctx;

	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);
}

static void
cpu_release(void *ctx)
{
	aws_cw_cpus_free(&((struct cpu_ctx *)ctx)->out);
}

static const struct aws_op_spec cpu_spec = { cpu_page, cpu_done, cpu_release };

struct aws_op *
aws_cw_get_cpu(struct aws_client *client, const char *const *ids, size_t n,
    time_t start, time_t end, aws_cw_cpus_cb cb, void *arg)
{
	struct aws_query	 q;
	struct cpu_ctx		*c = NULL;
	int			 built;

	built = aws_cw_cpu_query(&q, ids, n, start, end);
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->cb = cb;
		c->arg = arg;
		if (built == 0 && aws_cw_cpus_init(&c->out, ids, n) == -1)
			built = aws_refuse(&q);
	}
	return aws_op_start(client, &q, 1, &cpu_spec, c,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

/* --- DescribeAlarms ------------------------------------------------------- */

int
aws_cw_describe_alarms_query(struct aws_query *q, const char *const *names,
    size_t n, int max_records, const char *next)
{
	size_t	 i;

	if (aws_query_init(q, AWS_CLOUDWATCH, "DescribeAlarms") == -1)
		return -1;
	/* No names would describe every alarm of the account. */
	if (n == 0 || n > AWS_CW_MAX_ALARMS || names == NULL || max_records < 0 ||
	    max_records > AWS_CW_MAX_ALARMS)
		return aws_refuse(q);
	for (i = 0; i < n; i++)
		if (!aws_given(names[i]))
			return aws_refuse(q);
	aws_query_add_list(q, "AlarmNames", names, n);
	if (max_records > 0)
		aws_query_add_int(q, "MaxRecords", max_records);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_alarm(const xmlNode *m, struct aws_cw_alarm *a, char *err, size_t errlen)
{
	if (aws_get_str(m, "AlarmName", AWS_REQ, a->name, sizeof(a->name), err,
	    errlen) == -1 ||
	    aws_get_str(m, "StateValue", AWS_REQ, a->state, sizeof(a->state), err,
	    errlen) == -1 ||
	    aws_get_time(m, "StateUpdatedTimestamp", AWS_OPT, &a->updated_ms, err,
	    errlen) == -1 ||
	    aws_get_bool(m, "ActionsEnabled", AWS_OPT, &a->actions_enabled, err,
	    errlen) == -1)
		return -1;
	aws_get_text(m, "StateReason", a->reason, sizeof(a->reason));
	return 0;
}

int
aws_cw_parse_describe_alarms(const xmlNode *result, struct aws_cw_alarms *out,
    char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "MetricAlarms", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CW_MAX_ALARMS, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_alarm(m, &out->items[i++], err, errlen) == -1) {
			aws_cw_alarms_free(out);
			return aws_perr_in(err, errlen, "MetricAlarms member %zu", i);
		}
	}
	return 0;
}

void
aws_cw_alarms_free(struct aws_cw_alarms *as)
{
	free(as->items);
	memset(as, 0, sizeof(*as));
}

AWS_OP_TYPED(alarms, struct aws_cw_alarms, aws_cw_alarms_cb,
    aws_cw_parse_describe_alarms, aws_cw_alarms_free)

struct aws_op *
aws_cw_describe_alarms(struct aws_client *client, const char *const *names,
    size_t n, aws_cw_alarms_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cw_describe_alarms_query(&q, names, n, (int)(n > 0 &&
	    n <= AWS_CW_MAX_ALARMS ? n : 0), NULL);
	return alarms_run(client, &q, built, cb, arg);
}
