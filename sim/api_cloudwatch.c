/*
 * CloudWatch's operations (see api.h): EC2 CPUUtilization per instance (or per
 * group) and the template's two CPU alarms, over the Query protocol and over AWS
 * JSON 1.0 (X-Amz-Target GraniteServiceVersion20100801.<Op>), which is what the aws
 * CLI v1 and botocore 1.43 speak by default (aws-errors.md 10).
 *
 * Each operation reads its request, from the form or from the JSON body, into one
 * C struct, checks it once, asks the model, and writes its answer once through a
 * small emitter that spells it as XML or as JSON. Times on the wire are real
 * (Unix) times; the model's are virtual, from params.epoch.
 *
 * The metric comes from the model's CPU history (sim/cpu_history.c): a sample a
 * minute per member while it ran, so any window gets the datapoints of the periods
 * in it that hold samples, with CloudWatch's rounding of StartTime, its retention
 * per resolution, and its limits; the alarms are the model's (sim/alarms.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sim/api.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define DIMS_MAX	30
#define STATS_MAX	10
#define QUERIES_MAX	500
#define NAMES_MAX	100
#define OUT_DEPTH	12
#define POINTS_MAX	1440
#define NS_EC2		"AWS/EC2"
#define CPU		"CPUUtilization"

/* ---- the emitter: one answer, as XML (Query) or JSON ---- */

struct out {
	enum sim_proto	 proto;
	struct sim_xml	 x;
	json_t		*stack[OUT_DEPTH];	/* JSON containers open, borrowed */
	int		 depth;
	int		 err;
};

static void
out_begin(struct out *o, struct sim_aws_call *c)
{
	memset(o, 0, sizeof(*o));
	o->proto = c->proto;
	if (o->proto == SIM_PROTO_JSON) {
		if ((o->stack[0] = json_object()) == NULL)
			o->err = 1;
		o->depth = 1;
		return;
	}
	sim_xml_init(&o->x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&o->x, c->action, c->svc->ns, 1);
}

/* JSON: v (stolen) goes under name, or at the end of the array open. */
static int
out_put(struct out *o, const char *name, json_t *v)
{
	json_t	*top;
	int	 rc;

	if (v == NULL || o->err || o->depth == 0) {
		json_decref(v);
		o->err = 1;
		return -1;
	}
	top = o->stack[o->depth - 1];
	rc = json_is_array(top) ? json_array_append_new(top, v) :
	    json_object_set_new(top, name, v);
	if (rc == -1)
		o->err = 1;
	return rc;
}

/* A structure (name NULL: an item of the list open) or a list. */
static void
out_open(struct out *o, const char *name, int list)
{
	json_t	*v;

	if (o->proto != SIM_PROTO_JSON) {
		sim_xml_open(&o->x, name != NULL ? name : "member", NULL);
		return;
	}
	v = list ? json_array() : json_object();
	if (out_put(o, name, v) == -1)
		return;
	if (o->depth == OUT_DEPTH) {
		o->err = 1;
		return;
	}
	o->stack[o->depth++] = v;
}

static void
out_close(struct out *o, const char *name)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_close(&o->x, name != NULL ? name : "member");
	else if (o->depth > 1)
		o->depth--;
}

/* An empty list: <Name/>, or []. */
static void
out_empty(struct out *o, const char *name)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_empty(&o->x, name);
	else
		out_put(o, name, json_array());
}

static void
out_str(struct out *o, const char *name, const char *s)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_text(&o->x, name != NULL ? name : "member", s);
	else
		out_put(o, name, json_string(s));
}

static void
out_num(struct out *o, const char *name, double v)
{
	char	 buf[40];

	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, name, json_real(v));
		return;
	}
	/* As AWS writes doubles: "60.0", "3.25". */
	snprintf(buf, sizeof(buf), "%.15g%s", v, fabs(v) < 1e15 && v == floor(v) ?
	    ".0" : "");
	sim_xml_text(&o->x, name != NULL ? name : "member", buf);
}

static void
out_int(struct out *o, const char *name, long v)
{
	if (o->proto == SIM_PROTO_JSON)
		out_put(o, name, json_integer(v));
	else
		sim_xml_textf(&o->x, name != NULL ? name : "member", "%ld", v);
}

static void
out_bool(struct out *o, const char *name, int v)
{
	if (o->proto == SIM_PROTO_JSON)
		out_put(o, name, json_boolean(v));
	else
		sim_xml_text(&o->x, name, v ? "true" : "false");
}

/* Virtual time t: ISO 8601 in XML, Unix seconds in JSON (its default format). */
static void
out_time(struct out *o, const struct sim_model *m, const char *name, int64_t t)
{
	char	 buf[SIM_API_TIME_MAX];

	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, name, json_real((double)(m->p.epoch * 1000 + t) / 1000.0));
		return;
	}
	sim_time_format(m, t, t % 1000 != 0, buf, sizeof(buf));
	sim_xml_text(&o->x, name != NULL ? name : "member", buf);
}

/* A map's entry: <entry><key/><value/></entry>, or "key": value. */
static void
out_entry(struct out *o, const char *key, double v)
{
	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, key, json_real(v));
		return;
	}
	sim_xml_open(&o->x, "entry", NULL);
	sim_xml_text(&o->x, "key", key);
	out_num(o, "value", v);
	sim_xml_close(&o->x, "entry");
}

static int
out_finish(struct out *o, struct sim_aws_call *c)
{
	if (o->proto == SIM_PROTO_JSON) {
		if (o->err) {
			json_decref(o->stack[0]);
			return -1;
		}
		return sim_call_json(c, o->stack[0]);
	}
	sim_xml_query_end(&o->x, c->action, c->reqid, 1);
	if (o->err)
		o->x.b.err = 1;
	return sim_call_xml(c, &o->x);
}

/* ---- requests, whichever protocol brought them ---- */

struct metric {
	const char	*ns;
	const char	*name;
	const char	*dname[DIMS_MAX];
	const char	*dvalue[DIMS_MAX];
	size_t		 ndims;
};

struct stats_req {
	struct metric	 mt;
	int64_t		 start, end;	/* Unix ms */
	int		 has_start, has_end, has_period;
	long		 period;
	const char	*stat[STATS_MAX];
	size_t		 nstat;
	const char	*ext[STATS_MAX];
	size_t		 next;
	const char	*unit;
};

struct data_query {
	const char	*id;
	const char	*label;
	const char	*expression;
	int		 has_stat;
	struct metric	 mt;
	long		 period;
	const char	*stat;
	const char	*unit;
	int		 ret;
};

struct data_req {
	struct data_query q[QUERIES_MAX];
	size_t		 nq;
	int64_t		 start, end;
	int		 has_start, has_end;
	const char	*token;
	const char	*scan;
	long		 maxdp;
};

struct alarms_req {
	const char	*names[NAMES_MAX];
	size_t		 nnames;
	const char	*prefix;
	const char	*state;
	const char	*action_prefix;
	const char	*children, *parents;
	int		 metric, composite;	/* AlarmTypes: which kinds */
	long		 max;
	const char	*token;
};

/* ISO 8601 as botocore's Query serializer writes it: 2025-01-01T00:00:00[.fff]Z. */
static int
parse_iso(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*end;
	int64_t		 frac = 0, scale = 100;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; isdigit((unsigned char)*end); end++, scale /= 10)
			frac += (*end - '0') * scale;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

static int
bad_time(struct sim_aws_call *c, const char *name, const char *value)
{
	return sim_api_invalid(c, name, value, "a timestamp in ISO 8601 is expected");
}

/* ---- Query: reading the form ---- */

static int
form_time(struct sim_aws_call *c, const char *name, int64_t *ms, int *has)
{
	const char	*v = sim_form_get(c->form, name);

	*has = v != NULL;
	if (v != NULL && parse_iso(v, ms) == -1)
		return bad_time(c, name, v);
	return 0;
}

/* prefix.Namespace, prefix.MetricName, prefix.Dimensions.member.N.{Name,Value} */
static int
form_metric(struct sim_aws_call *c, const char *prefix, struct metric *mt)
{
	char	 key[160], list[160];

	snprintf(key, sizeof(key), "%s%sNamespace", prefix, *prefix ? "." : "");
	mt->ns = sim_form_get(c->form, key);
	snprintf(key, sizeof(key), "%s%sMetricName", prefix, *prefix ? "." : "");
	mt->name = sim_form_get(c->form, key);
	snprintf(list, sizeof(list), "%s%sDimensions", prefix, *prefix ? "." : "");
	if (sim_api_list(c, list, DIMS_MAX, &mt->ndims) == -1)
		return -1;
	for (size_t i = 0; i < mt->ndims; i++) {
		mt->dname[i] = sim_form_item(c->form, list, SIM_LIST_QUERY, i + 1, "Name");
		mt->dvalue[i] = sim_form_item(c->form, list, SIM_LIST_QUERY, i + 1,
		    "Value");
		if (mt->dname[i] == NULL || mt->dvalue[i] == NULL) {
			sim_form_item_name(key, sizeof(key), list, SIM_LIST_QUERY, i + 1,
			    mt->dname[i] == NULL ? "Name" : "Value");
			return sim_api_missing(c, key);
		}
	}
	return 0;
}

static int
form_strings(struct sim_aws_call *c, const char *name, const char **v, size_t max,
    size_t *n)
{
	if (sim_api_list(c, name, max, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++)
		v[i] = sim_form_item(c->form, name, SIM_LIST_QUERY, i + 1, NULL);
	return 0;
}

static int
form_stats_req(struct sim_aws_call *c, struct stats_req *r)
{
	memset(r, 0, sizeof(*r));
	if (form_metric(c, "", &r->mt) == -1 ||
	    form_time(c, "StartTime", &r->start, &r->has_start) == -1 ||
	    form_time(c, "EndTime", &r->end, &r->has_end) == -1)
		return -1;
	r->has_period = sim_form_get(c->form, "Period") != NULL;
	if (sim_api_int(c, "Period", 1, 86400 * 455, &r->period) == -1 ||
	    form_strings(c, "Statistics", r->stat, 5, &r->nstat) == -1 ||
	    form_strings(c, "ExtendedStatistics", r->ext, STATS_MAX, &r->next) == -1)
		return -1;
	r->unit = sim_form_get(c->form, "Unit");
	return sim_call_params_done(c);
}

static int
form_data_query(struct sim_aws_call *c, size_t i, struct data_query *q)
{
	char	 p[96], key[160];

	snprintf(p, sizeof(p), "MetricDataQueries.member.%zu", i);
	snprintf(key, sizeof(key), "%s.Id", p);
	q->id = sim_form_get(c->form, key);
	snprintf(key, sizeof(key), "%s.Label", p);
	q->label = sim_form_get(c->form, key);
	snprintf(key, sizeof(key), "%s.Expression", p);
	q->expression = sim_form_get(c->form, key);
	snprintf(key, sizeof(key), "%s.ReturnData", p);
	q->ret = 1;
	if (sim_api_bool(c, key, &q->ret) == -1)
		return -1;
	snprintf(key, sizeof(key), "%s.MetricStat.Metric", p);
	if (form_metric(c, key, &q->mt) == -1)
		return -1;
	snprintf(key, sizeof(key), "%s.MetricStat.Period", p);
	q->has_stat = sim_form_get(c->form, key) != NULL;
	if (sim_api_int(c, key, 1, 86400 * 455, &q->period) == -1)
		return -1;
	snprintf(key, sizeof(key), "%s.MetricStat.Stat", p);
	q->stat = sim_form_get(c->form, key);
	q->has_stat |= q->stat != NULL || q->mt.ns != NULL || q->mt.name != NULL;
	snprintf(key, sizeof(key), "%s.MetricStat.Unit", p);
	q->unit = sim_form_get(c->form, key);
	return 0;
}

static int
form_data_req(struct sim_aws_call *c, struct data_req *r)
{
	memset(r, 0, sizeof(*r));
	if (sim_api_list(c, "MetricDataQueries", QUERIES_MAX, &r->nq) == -1)
		return -1;
	for (size_t i = 0; i < r->nq; i++)
		if (form_data_query(c, i + 1, &r->q[i]) == -1)
			return -1;
	if (form_time(c, "StartTime", &r->start, &r->has_start) == -1 ||
	    form_time(c, "EndTime", &r->end, &r->has_end) == -1)
		return -1;
	r->token = sim_form_get(c->form, "NextToken");
	r->scan = sim_form_get(c->form, "ScanBy");
	r->maxdp = 100800;
	if (sim_api_int(c, "MaxDatapoints", 1, 100800, &r->maxdp) == -1)
		return -1;
	(void)sim_form_get(c->form, "LabelOptions.Timezone");	/* labels carry no time */
	return sim_call_params_done(c);
}

static int
alarm_types(struct sim_aws_call *c, struct alarms_req *r, const char *const *t,
    size_t n)
{
	r->metric = n == 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i], "MetricAlarm") == 0)
			r->metric = 1;
		else if (strcmp(t[i], "CompositeAlarm") == 0)
			r->composite = 1;
		else
			return sim_api_invalid(c, "AlarmTypes", t[i], "Member must "
			    "satisfy enum value set: [CompositeAlarm, MetricAlarm]");
	}
	return 0;
}

static int
form_alarms_req(struct sim_aws_call *c, struct alarms_req *r)
{
	const char	*types[2];
	size_t		 ntypes;

	memset(r, 0, sizeof(*r));
	if (form_strings(c, "AlarmNames", r->names, NAMES_MAX, &r->nnames) == -1 ||
	    form_strings(c, "AlarmTypes", types, NITEMS(types), &ntypes) == -1 ||
	    alarm_types(c, r, types, ntypes) == -1)
		return -1;
	r->prefix = sim_form_get(c->form, "AlarmNamePrefix");
	r->state = sim_form_get(c->form, "StateValue");
	r->action_prefix = sim_form_get(c->form, "ActionPrefix");
	r->children = sim_form_get(c->form, "ChildrenOfAlarmName");
	r->parents = sim_form_get(c->form, "ParentsOfAlarmName");
	r->token = sim_form_get(c->form, "NextToken");
	r->max = 50;
	if (sim_api_int(c, "MaxRecords", 1, 100, &r->max) == -1)
		return -1;
	return sim_call_params_done(c);
}

/* ---- JSON 1.0: reading the body ---- */

/* bbsim is strict: an unknown member is refused, as the form reader refuses one. */
static int
json_members(struct sim_aws_call *c, json_t *o, const char *const *known, size_t n)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(o))
		return sim_call_fail(c, 400, "SerializationException",
		    "Expected a structure");
	json_object_foreach(o, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == n)
			return sim_call_fail(c, 400, "SerializationException",
			    "Unknown member '%s'", key);
	}
	return 0;
}

static int
json_str(struct sim_aws_call *c, json_t *o, const char *key, const char **out)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sim_call_fail(c, 400, "SerializationException",
		    "'%s' must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int
json_long(struct sim_aws_call *c, json_t *o, const char *key, long min, long max,
    long *out, int *has)
{
	json_t	*v = json_object_get(o, key);
	char	 buf[32];

	if (has != NULL)
		*has = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return sim_call_fail(c, 400, "SerializationException",
		    "'%s' must be an integer", key);
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return sim_api_invalid(c, key, buf, "out of range");
	*out = (long)json_integer_value(v);
	return 0;
}

/* JSON 1.0 timestamps are Unix seconds; ISO 8601 strings are taken too. */
static int
json_time(struct sim_aws_call *c, json_t *o, const char *key, int64_t *ms, int *has)
{
	json_t	*v = json_object_get(o, key);

	*has = v != NULL;
	if (v == NULL)
		return 0;
	if (json_is_number(v)) {
		*ms = (int64_t)llround(json_number_value(v) * 1000);
		return 0;
	}
	if (json_is_string(v) && parse_iso(json_string_value(v), ms) == 0)
		return 0;
	return bad_time(c, key, json_is_string(v) ? json_string_value(v) : "?");
}

static int
json_strings(struct sim_aws_call *c, json_t *o, const char *key, const char **v,
    size_t max, size_t *n)
{
	json_t	*a = json_object_get(o, key);

	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > max)
		return sim_call_fail(c, 400, "SerializationException", "'%s' must be a "
		    "list of at most %zu strings", key, max);
	for (*n = 0; *n < json_array_size(a); (*n)++)
		if ((v[*n] = json_string_value(json_array_get(a, *n))) == NULL)
			return sim_call_fail(c, 400, "SerializationException",
			    "'%s' must be a list of strings", key);
	return 0;
}

/* Namespace, MetricName and Dimensions of o (its other members are the caller's). */
static int
json_metric_fields(struct sim_aws_call *c, json_t *o, struct metric *mt)
{
	static const char *const dim[] = { "Name", "Value" };
	json_t	*a = json_object_get(o, "Dimensions"), *d;

	if (json_str(c, o, "Namespace", &mt->ns) == -1 ||
	    json_str(c, o, "MetricName", &mt->name) == -1)
		return -1;
	if (a != NULL && (!json_is_array(a) || json_array_size(a) > DIMS_MAX))
		return sim_call_fail(c, 400, "SerializationException",
		    "'Dimensions' must be a list of at most %d", DIMS_MAX);
	for (mt->ndims = 0; a != NULL && mt->ndims < json_array_size(a); mt->ndims++) {
		d = json_array_get(a, mt->ndims);
		if (json_members(c, d, dim, NITEMS(dim)) == -1 ||
		    json_str(c, d, "Name", &mt->dname[mt->ndims]) == -1 ||
		    json_str(c, d, "Value", &mt->dvalue[mt->ndims]) == -1)
			return -1;
		if (mt->dname[mt->ndims] == NULL || mt->dvalue[mt->ndims] == NULL)
			return sim_api_missing(c, mt->dname[mt->ndims] == NULL ?
			    "Dimensions.member.Name" : "Dimensions.member.Value");
	}
	return 0;
}

static int
json_metric(struct sim_aws_call *c, json_t *o, struct metric *mt)
{
	static const char *const known[] = { "Namespace", "MetricName", "Dimensions" };

	if (json_members(c, o, known, NITEMS(known)) == -1)
		return -1;
	return json_metric_fields(c, o, mt);
}

static int
json_stats_req(struct sim_aws_call *c, struct stats_req *r)
{
	static const char *const known[] = { "Namespace", "MetricName", "Dimensions",
	    "StartTime", "EndTime", "Period", "Statistics", "ExtendedStatistics",
	    "Unit" };
	json_t	*o = c->json;

	memset(r, 0, sizeof(*r));
	if (json_members(c, o, known, NITEMS(known)) == -1 ||
	    json_metric_fields(c, o, &r->mt) == -1 ||
	    json_time(c, o, "StartTime", &r->start, &r->has_start) == -1 ||
	    json_time(c, o, "EndTime", &r->end, &r->has_end) == -1 ||
	    json_long(c, o, "Period", 1, 86400 * 455, &r->period, &r->has_period) == -1 ||
	    json_strings(c, o, "Statistics", r->stat, 5, &r->nstat) == -1 ||
	    json_strings(c, o, "ExtendedStatistics", r->ext, STATS_MAX, &r->next) == -1)
		return -1;
	return json_str(c, o, "Unit", &r->unit);
}

static int
json_metric_stat(struct sim_aws_call *c, json_t *ms, struct data_query *q)
{
	static const char *const known[] = { "Metric", "Period", "Stat", "Unit" };
	json_t	*mo = json_object_get(ms, "Metric");

	q->has_stat = 1;
	if (json_members(c, ms, known, NITEMS(known)) == -1 ||
	    (mo != NULL && json_metric(c, mo, &q->mt) == -1) ||
	    json_long(c, ms, "Period", 1, 86400 * 455, &q->period, NULL) == -1 ||
	    json_str(c, ms, "Stat", &q->stat) == -1)
		return -1;
	return json_str(c, ms, "Unit", &q->unit);
}

static int
json_data_query(struct sim_aws_call *c, json_t *o, struct data_query *q)
{
	static const char *const known[] = { "Id", "MetricStat", "Expression", "Label",
	    "ReturnData", "Period", "AccountId" };
	json_t	*ms = json_object_get(o, "MetricStat"), *ret;
	long	 period;

	q->ret = 1;
	if (json_members(c, o, known, NITEMS(known)) == -1 ||
	    json_str(c, o, "Id", &q->id) == -1 ||
	    json_str(c, o, "Label", &q->label) == -1 ||
	    json_str(c, o, "Expression", &q->expression) == -1 ||
	    json_long(c, o, "Period", 1, 86400 * 455, &period, NULL) == -1 ||
	    (ms != NULL && json_metric_stat(c, ms, q) == -1))
		return -1;
	if ((ret = json_object_get(o, "ReturnData")) != NULL && !json_is_boolean(ret))
		return sim_call_fail(c, 400, "SerializationException",
		    "'ReturnData' must be a boolean");
	if (ret != NULL)
		q->ret = json_is_true(ret);
	return 0;
}

static int
json_data_req(struct sim_aws_call *c, struct data_req *r)
{
	static const char *const known[] = { "MetricDataQueries", "StartTime",
	    "EndTime", "NextToken", "ScanBy", "MaxDatapoints", "LabelOptions" };
	json_t	*o = c->json, *a = json_object_get(o, "MetricDataQueries");

	memset(r, 0, sizeof(*r));
	r->maxdp = 100800;
	if (json_members(c, o, known, NITEMS(known)) == -1)
		return -1;
	if (a != NULL && (!json_is_array(a) || json_array_size(a) > QUERIES_MAX))
		return sim_call_fail(c, 400, "SerializationException",
		    "'MetricDataQueries' must be a list of at most %d", QUERIES_MAX);
	for (r->nq = 0; a != NULL && r->nq < json_array_size(a); r->nq++)
		if (json_data_query(c, json_array_get(a, r->nq), &r->q[r->nq]) == -1)
			return -1;
	if (json_time(c, o, "StartTime", &r->start, &r->has_start) == -1 ||
	    json_time(c, o, "EndTime", &r->end, &r->has_end) == -1 ||
	    json_str(c, o, "NextToken", &r->token) == -1 ||
	    json_str(c, o, "ScanBy", &r->scan) == -1)
		return -1;
	return json_long(c, o, "MaxDatapoints", 1, 100800, &r->maxdp, NULL);
}

static int
json_alarms_req(struct sim_aws_call *c, struct alarms_req *r)
{
	static const char *const known[] = { "AlarmNames", "AlarmNamePrefix",
	    "AlarmTypes", "ChildrenOfAlarmName", "ParentsOfAlarmName", "StateValue",
	    "ActionPrefix", "MaxRecords", "NextToken" };
	json_t		*o = c->json;
	const char	*types[2];
	size_t		 ntypes;

	memset(r, 0, sizeof(*r));
	r->max = 50;
	if (json_members(c, o, known, NITEMS(known)) == -1 ||
	    json_strings(c, o, "AlarmNames", r->names, NAMES_MAX, &r->nnames) == -1 ||
	    json_strings(c, o, "AlarmTypes", types, NITEMS(types), &ntypes) == -1 ||
	    alarm_types(c, r, types, ntypes) == -1 ||
	    json_str(c, o, "AlarmNamePrefix", &r->prefix) == -1 ||
	    json_str(c, o, "StateValue", &r->state) == -1 ||
	    json_str(c, o, "ActionPrefix", &r->action_prefix) == -1 ||
	    json_str(c, o, "ChildrenOfAlarmName", &r->children) == -1 ||
	    json_str(c, o, "ParentsOfAlarmName", &r->parents) == -1 ||
	    json_str(c, o, "NextToken", &r->token) == -1)
		return -1;
	return json_long(c, o, "MaxRecords", 1, 100, &r->max, NULL);
}

/* ---- the metric, from the model's history ---- */

#define DAY_MS		(86400 * 1000LL)
#define RETAIN_1MIN	(15 * DAY_MS)	/* how long each resolution is kept */
#define RETAIN_5MIN	(63 * DAY_MS)
#define RETAIN_1H	(455 * DAY_MS)
#define TOKEN_QUERY	32		/* a GetMetricData token: query << 32 | point */
#define SAMPLES_MAX	(1 << 17)	/* kept for one period's percentiles */

/* What a query's metric names: known, and which instance (NULL: the group). */
struct source {
	int				 ok;
	const struct sim_instance	*in;
};

/*
 * The periods of a request, in virtual ms: StartTime rounded down as CloudWatch
 * rounds it (to the minute within 15 days of now, to 5 minutes within 63, else to
 * the hour), then one period after another up to EndTime, which is exclusive.
 */
struct buckets {
	int64_t		 start;
	int64_t		 end;
	int64_t		 step;
	size_t		 n;
	int64_t		 oldest;	/* samples before it have expired at this period */
	int64_t		 now;
};

static int64_t
floor_to(int64_t x, int64_t g)
{
	int64_t	 q = x / g;

	if (x % g != 0 && x < 0)
		q--;
	return q * g;
}

static const char *
dimension(const struct metric *mt, const char *name)
{
	for (size_t i = 0; i < mt->ndims; i++)
		if (strcmp(mt->dname[i], name) == 0)
			return mt->dvalue[i];
	return NULL;
}

/* AWS/EC2 CPUUtilization by InstanceId or AutoScalingGroupName, in Percent. */
static void
source_of(struct sim_model *m, const struct metric *mt, const char *unit,
    struct source *src)
{
	const char	*id, *group;

	memset(src, 0, sizeof(*src));
	if (mt->ns == NULL || mt->name == NULL || strcmp(mt->ns, NS_EC2) != 0 ||
	    strcmp(mt->name, CPU) != 0 || mt->ndims != 1 ||
	    (unit != NULL && strcmp(unit, "Percent") != 0))
		return;		/* a unit that is not the metric's selects nothing */
	id = dimension(mt, "InstanceId");
	group = dimension(mt, "AutoScalingGroupName");
	if (id != NULL)
		src->ok = (src->in = sim_ec2_find(m, id)) != NULL;
	else if (group != NULL)
		src->ok = strcmp(group, m->asg.name) == 0;
}

static void
buckets_init(const struct sim_model *m, int64_t now, int64_t start, int64_t end,
    long period, struct buckets *b)
{
	int64_t	 e = m->p.epoch * 1000, age = now - (start - e), g;

	g = age < RETAIN_1MIN ? SIM_MINUTE : age < RETAIN_5MIN ? 5 * SIM_MINUTE :
	    60 * SIM_MINUTE;
	b->start = floor_to(start, g) - e;
	b->end = end - e;
	b->step = period * 1000LL;
	b->n = b->end > b->start ? (size_t)((b->end - b->start + b->step - 1) /
	    b->step) : 0;
	b->oldest = now - (period < 300 ? RETAIN_1MIN : period < 3600 ? RETAIN_5MIN :
	    RETAIN_1H);
	b->now = now;
}

/* The periods that may hold samples: from the source's first running to now. */
static void
bucket_range(const struct sim_model *m, const struct source *src,
    const struct buckets *b, size_t *lo, size_t *hi)
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
static void
bucket_stats(const struct sim_model *m, const struct source *src,
    const struct buckets *b, size_t k, struct sim_cpu_stats *st)
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
static double *
samples_buffer(const struct sim_model *m, const struct buckets *b, int need,
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
static double
statistic(const struct sim_cpu_stats *st, const char *stat)
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

static int
stat_known(const char *s)
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

/* ---- GetMetricStatistics ---- */

/* aws-errors.md 8: every missing parameter, one line each (yegor256/s3auth#134). */
static int
stats_missing(struct sim_aws_call *c, const struct stats_req *r)
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
stats_check(struct sim_aws_call *c, const struct stats_req *r)
{
	long long	 points;

	if (stats_missing(c, r) == -1)
		return -1;
	for (size_t i = 0; i < r->nstat; i++)
		if (!stat_known(r->stat[i]) || r->stat[i][0] == 'p')
			return sim_api_invalid(c, "Statistics", r->stat[i], "Member must "
			    "satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, "
			    "Average]");
	for (size_t i = 0; i < r->next; i++)
		if (r->ext[i][0] != 'p' || !stat_known(r->ext[i]))
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
	double		 stat[STATS_MAX];
	double		 ext[STATS_MAX];
};

static size_t
stats_points(const struct sim_model *m, const struct stats_req *r,
    const struct source *src, const struct buckets *b, struct gpoint *pts)
{
	struct sim_cpu_stats	 st;
	size_t			 lo, hi, n = 0, vmax;
	double			*v = samples_buffer(m, b, r->next > 0, &vmax);

	bucket_range(m, src, b, &lo, &hi);
	for (size_t k = lo; k < hi && n < POINTS_MAX; k++) {
		memset(&st, 0, sizeof(st));
		st.v = v;
		st.vmax = vmax;
		bucket_stats(m, src, b, k, &st);
		if (st.n == 0)
			continue;	/* no sample is no datapoint, never 0 % */
		pts[n].t = b->start + (int64_t)k * b->step;
		for (size_t i = 0; i < r->nstat; i++)
			pts[n].stat[i] = statistic(&st, r->stat[i]);
		for (size_t i = 0; i < r->next; i++)
			pts[n].ext[i] = statistic(&st, r->ext[i]);
		n++;
	}
	free(v);
	return n;
}

/* The statistics asked for, in the order of the Datapoint shape, not the request's. */
static void
write_datapoint(struct out *o, const struct sim_model *m, const struct stats_req *r,
    const struct gpoint *p)
{
	static const char *const order[] = {
		"SampleCount", "Average", "Sum", "Minimum", "Maximum",
	};

	out_open(o, NULL, 0);
	out_time(o, m, "Timestamp", p->t);
	for (size_t k = 0; k < NITEMS(order); k++)
		for (size_t i = 0; i < r->nstat; i++)
			if (strcmp(r->stat[i], order[k]) == 0) {
				out_num(o, r->stat[i], p->stat[i]);
				break;
			}
	out_str(o, "Unit", "Percent");
	if (r->next > 0) {
		out_open(o, "ExtendedStatistics", 0);
		for (size_t i = 0; i < r->next; i++)
			out_entry(o, r->ext[i], p->ext[i]);
		out_close(o, "ExtendedStatistics");
	}
	out_close(o, NULL);
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
	static struct stats_req	 r;
	static struct gpoint	 pts[POINTS_MAX];
	struct sim_model	*m;
	struct source		 src;
	struct buckets		 b;
	struct out		 o;
	size_t			 n;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if ((c->proto == SIM_PROTO_JSON ? json_stats_req(c, &r) :
	    form_stats_req(c, &r)) == -1 || stats_check(c, &r) == -1)
		return -1;
	sim_model_advance(m, c->sim->now);
	source_of(m, &r.mt, r.unit, &src);
	buckets_init(m, c->sim->now, r.start, r.end, r.period, &b);
	n = stats_points(m, &r, &src, &b, pts);
	out_begin(&o, c);
	out_str(&o, "Label", r.mt.name);
	out_open(&o, "Datapoints", 1);
	for (size_t i = 0; i < n; i++)
		write_datapoint(&o, m, &r, &pts[scrambled(i, n)]);
	out_close(&o, "Datapoints");
	return out_finish(&o, c);
}

/* ---- GetMetricData ---- */

/* The Id's pattern, ^[a-z][a-zA-Z0-9_]*$, and one of MetricStat or Expression. */
static int
data_query_check(struct sim_aws_call *c, const struct data_query *q, size_t i)
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
	if (!stat_known(q->stat))
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
data_check(struct sim_aws_call *c, struct data_req *r, size_t *from)
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
query_points(const struct sim_model *m, const struct data_req *r,
    const struct data_query *q, const struct source *src, const struct buckets *b,
    size_t skip, size_t max, struct dpoint *out, int *more)
{
	int			 asc = r->scan != NULL &&
				    strcmp(r->scan, "TimestampAscending") == 0;
	struct sim_cpu_stats	 st;
	size_t			 lo, hi, n = 0, seen = 0, k, vmax;
	double			*v = samples_buffer(m, b, q->stat[0] == 'p', &vmax);

	*more = 0;
	bucket_range(m, src, b, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		k = asc ? i : hi - 1 - (i - lo);
		memset(&st, 0, sizeof(st));
		st.v = v;
		st.vmax = vmax;
		bucket_stats(m, src, b, k, &st);
		if (st.n == 0 || seen++ < skip)
			continue;
		if (n == max) {
			*more = 1;
			break;
		}
		out[n].t = b->start + (int64_t)k * b->step;
		out[n++].v = statistic(&st, q->stat);
	}
	free(v);
	return n;
}

static void
write_result(struct out *o, const struct sim_model *m, const struct data_query *q,
    const struct dpoint *p, size_t n, int partial)
{
	out_open(o, NULL, 0);
	out_str(o, "Id", q->id);
	out_str(o, "Label", q->label != NULL ? q->label : q->mt.name);
	out_open(o, "Timestamps", 1);
	for (size_t i = 0; i < n; i++)
		out_time(o, m, NULL, p[i].t);
	out_close(o, "Timestamps");
	out_open(o, "Values", 1);
	for (size_t i = 0; i < n; i++)
		out_num(o, NULL, p[i].v);
	out_close(o, "Values");
	out_str(o, "StatusCode", partial ? "PartialData" : "Complete");
	out_close(o, NULL);
}

/*
 * Queries from the token's on, until MaxDatapoints are out: the query cut short is
 * PartialData and the token says where the next page resumes.
 */
static size_t
write_results(struct out *o, struct sim_model *m, int64_t now,
    const struct data_req *r, size_t from, struct dpoint *pts)
{
	struct source	 src;
	struct buckets	 b;
	size_t		 left = (size_t)r->maxdp, skip = from & 0xffffffffu, n;
	int		 more = 0;

	for (size_t i = from >> TOKEN_QUERY; i < r->nq; i++, skip = 0) {
		if (!r->q[i].ret)
			continue;
		source_of(m, &r->q[i].mt, r->q[i].unit, &src);
		buckets_init(m, now, r->start, r->end, r->q[i].period, &b);
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
	static struct data_req	 r;	/* large; handlers run one at a time */
	struct sim_model	*m;
	struct dpoint		*pts;
	struct out		 o;
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 from, next;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if ((c->proto == SIM_PROTO_JSON ? json_data_req(c, &r) :
	    form_data_req(c, &r)) == -1 || data_check(c, &r, &from) == -1)
		return -1;
	if ((pts = calloc((size_t)r.maxdp, sizeof(*pts))) == NULL)
		return sim_call_fail(c, 500, "InternalServiceError", "out of memory");
	sim_model_advance(m, c->sim->now);
	out_begin(&o, c);
	out_open(&o, "MetricDataResults", 1);
	next = write_results(&o, m, c->sim->now, &r, from, pts);
	out_close(&o, "MetricDataResults");
	free(pts);
	if (next != 0) {
		sim_api_token(tok, sizeof(tok), next);
		out_str(&o, "NextToken", tok);
	}
	out_empty(&o, "Messages");
	return out_finish(&o, c);
}

/* ---- DescribeAlarms ---- */

/*
 * The template's two alarms on the group's average CPU, in the state the model has
 * evaluated up to now (sim/alarms.c), with the scaling policies they run.
 */

/* The scaling policy the alarm triggers: its ARN as Auto Scaling writes it. */
static void
policy_arn(const struct sim_model *m, int i, char *buf, size_t len)
{
	char	 h[40], name[SIM_NAME_MAX + 64];

	sim_api_fake_id(h, sizeof(h), "", sim_alarm_defs[i].policy, 32);
	sim_alarm_policy_name(m, i, name, sizeof(name));
	snprintf(buf, len, "arn:aws:autoscaling:%.32s:%.12s:scalingPolicy:%.8s-%.4s-"
	    "%.4s-%.4s-%.12s:autoScalingGroupName/%.128s:policyName/%.192s", m->p.region,
	    m->p.account, h, h + 8, h + 12, h + 16, h + 20, m->asg.name, name);
}

static void
write_alarm_head(struct out *o, const struct sim_model *m, int i)
{
	char	 name[SIM_ARN_MAX], buf[SIM_ARN_MAX * 3];

	sim_alarm_name(m, i, name, sizeof(name));
	out_str(o, "AlarmName", name);
	snprintf(buf, sizeof(buf), "arn:aws:cloudwatch:%s:%s:alarm:%s", m->p.region,
	    m->p.account, name);
	out_str(o, "AlarmArn", buf);
	out_str(o, "AlarmDescription", sim_alarm_defs[i].description);
	out_time(o, m, "AlarmConfigurationUpdatedTimestamp", m->stack[0]->created);
	out_bool(o, "ActionsEnabled", 1);
	out_empty(o, "OKActions");
	out_open(o, "AlarmActions", 1);
	policy_arn(m, i, buf, sizeof(buf));
	out_str(o, NULL, buf);
	out_close(o, "AlarmActions");
	out_empty(o, "InsufficientDataActions");
}

static void
write_alarm(struct out *o, const struct sim_model *m, int i)
{
	const struct sim_alarm_def	*d = &sim_alarm_defs[i];
	const struct sim_alarm		*al = &m->alarms.a[i];

	out_open(o, NULL, 0);
	write_alarm_head(o, m, i);
	out_str(o, "StateValue", sim_alarm_state_name(al->state));
	out_str(o, "StateReason", al->reason);
	out_time(o, m, "StateUpdatedTimestamp", al->transitioned);
	out_str(o, "MetricName", CPU);
	out_str(o, "Namespace", NS_EC2);
	out_str(o, "Statistic", "Average");
	out_open(o, "Dimensions", 1);
	out_open(o, NULL, 0);
	out_str(o, "Name", "AutoScalingGroupName");
	out_str(o, "Value", m->asg.name);
	out_close(o, NULL);
	out_close(o, "Dimensions");
	out_int(o, "Period", 60);
	out_int(o, "EvaluationPeriods", d->periods);
	out_num(o, "Threshold", d->threshold);
	out_str(o, "ComparisonOperator", d->op);
	out_time(o, m, "StateTransitionedTimestamp", al->transitioned);
	out_close(o, NULL);
}

static int
alarm_selected(const struct sim_model *m, const struct alarms_req *r, int a)
{
	char	 name[SIM_ARN_MAX], arn[SIM_ARN_MAX * 3];
	size_t	 i;

	sim_alarm_name(m, a, name, sizeof(name));
	for (i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], name) == 0)
			break;
	if (r->nnames > 0 && i == r->nnames)
		return 0;
	if (r->prefix != NULL && strncmp(name, r->prefix, strlen(r->prefix)) != 0)
		return 0;
	if (r->state != NULL && strcmp(r->state,
	    sim_alarm_state_name(m->alarms.a[a].state)) != 0)
		return 0;
	policy_arn(m, a, arn, sizeof(arn));
	if (r->action_prefix != NULL && strncmp(arn, r->action_prefix,
	    strlen(r->action_prefix)) != 0)
		return 0;
	/* No composite alarm exists: none has children or parents. */
	return r->metric && r->children == NULL && r->parents == NULL;
}

static int
alarms_check(struct sim_aws_call *c, const struct alarms_req *r, size_t *from)
{
	*from = 0;
	if (r->state != NULL && strcmp(r->state, "OK") != 0 &&
	    strcmp(r->state, "ALARM") != 0 && strcmp(r->state, "INSUFFICIENT_DATA") != 0)
		return sim_api_invalid(c, "StateValue", r->state, "Member must satisfy "
		    "enum value set: [INSUFFICIENT_DATA, ALARM, OK]");
	if (r->nnames > 0 && r->prefix != NULL)
		return sim_call_fail(c, 400, "InvalidParameterCombination", "AlarmNames "
		    "and AlarmNamePrefix cannot be used together.");
	if (r->token != NULL && sim_api_token_read(r->token, from) == -1)
		return sim_call_fail(c, 400, "InvalidNextToken", "The service couldn't "
		    "process the token %s.", r->token);
	return 0;
}

static void
write_alarms(struct out *o, const struct sim_model *m, const struct alarms_req *r,
    size_t from)
{
	char	 tok[SIM_API_TOKEN_MAX];
	long	 n = 0;
	size_t	 i;

	if (r->composite)
		out_empty(o, "CompositeAlarms");
	out_open(o, "MetricAlarms", 1);
	for (i = from; i < SIM_NALARMS; i++) {
		if (!alarm_selected(m, r, (int)i))
			continue;
		if (n++ == r->max)
			break;
		write_alarm(o, m, (int)i);
	}
	out_close(o, "MetricAlarms");
	if (i < SIM_NALARMS) {
		sim_api_token(tok, sizeof(tok), i);
		out_str(o, "NextToken", tok);
	}
}

static int
describe_alarms(struct sim_aws_call *c)
{
	struct alarms_req	 r;
	struct sim_model	*m;
	struct out		 o;
	size_t			 from;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if ((c->proto == SIM_PROTO_JSON ? json_alarms_req(c, &r) :
	    form_alarms_req(c, &r)) == -1 || alarms_check(c, &r, &from) == -1)
		return -1;
	sim_alarms_update(m, c->sim->now);
	out_begin(&o, c);
	write_alarms(&o, m, &r, from);
	return out_finish(&o, c);
}

static const struct sim_op cw_ops[] = {
	{ "DescribeAlarms", describe_alarms },
	{ "GetMetricData", get_metric_data },
	{ "GetMetricStatistics", get_metric_statistics },
};

int
sim_api_cw_init(void)
{
	return sim_aws_register("monitoring", "2010-08-01", cw_ops, NITEMS(cw_ops));
}
