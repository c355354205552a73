/*
 * The requests of bbsim's CloudWatch (see api_cloudwatch_int.h), read into one struct
 * per operation from the Query form (Name.member.N) or the AWS JSON 1.0 body, so that
 * the operations check and answer them once, whatever the protocol. Both readers are
 * strict: an unknown parameter (unless the wire is lenient: see wire.c) or member is
 * refused, never ignored.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sim/api.h"
#include "sim/api_cloudwatch_int.h"
#include "sim/auth.h"
#include "sim/wire.h"

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
form_metric(struct sim_aws_call *c, const char *prefix, struct sim_cw_metric *mt)
{
	char	 key[160], list[160];

	snprintf(key, sizeof(key), "%s%sNamespace", prefix, *prefix ? "." : "");
	mt->ns = sim_form_get(c->form, key);
	snprintf(key, sizeof(key), "%s%sMetricName", prefix, *prefix ? "." : "");
	mt->name = sim_form_get(c->form, key);
	snprintf(list, sizeof(list), "%s%sDimensions", prefix, *prefix ? "." : "");
	if (sim_api_list(c, list, SIM_CW_DIMS_MAX, &mt->ndims) == -1)
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
form_stats_req(struct sim_aws_call *c, struct sim_cw_stats_req *r)
{
	memset(r, 0, sizeof(*r));
	if (form_metric(c, "", &r->mt) == -1 ||
	    form_time(c, "StartTime", &r->start, &r->has_start) == -1 ||
	    form_time(c, "EndTime", &r->end, &r->has_end) == -1)
		return -1;
	r->has_period = sim_form_get(c->form, "Period") != NULL;
	if (sim_api_int(c, "Period", 1, 86400 * 455, &r->period) == -1 ||
	    form_strings(c, "Statistics", r->stat, 5, &r->nstat) == -1 ||
	    form_strings(c, "ExtendedStatistics", r->ext, SIM_CW_STATS_MAX, &r->next) == -1)
		return -1;
	r->unit = sim_form_get(c->form, "Unit");
	return sim_call_params_done(c);
}

static int
form_data_query(struct sim_aws_call *c, size_t i, struct sim_cw_data_query *q)
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
form_data_req(struct sim_aws_call *c, struct sim_cw_data_req *r)
{
	memset(r, 0, sizeof(*r));
	if (sim_api_list(c, "MetricDataQueries", SIM_CW_QUERIES_MAX, &r->nq) == -1)
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
alarm_types(struct sim_aws_call *c, struct sim_cw_alarms_req *r, const char *const *t,
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
form_alarms_req(struct sim_aws_call *c, struct sim_cw_alarms_req *r)
{
	const char	*types[2];
	size_t		 ntypes;

	memset(r, 0, sizeof(*r));
	if (form_strings(c, "AlarmNames", r->names, SIM_CW_NAMES_MAX, &r->nnames) == -1 ||
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
json_metric_fields(struct sim_aws_call *c, json_t *o, struct sim_cw_metric *mt)
{
	static const char *const dim[] = { "Name", "Value" };
	json_t	*a = json_object_get(o, "Dimensions"), *d;

	if (json_str(c, o, "Namespace", &mt->ns) == -1 ||
	    json_str(c, o, "MetricName", &mt->name) == -1)
		return -1;
	if (a != NULL && (!json_is_array(a) || json_array_size(a) > SIM_CW_DIMS_MAX))
		return sim_call_fail(c, 400, "SerializationException",
		    "'Dimensions' must be a list of at most %d", SIM_CW_DIMS_MAX);
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
json_metric(struct sim_aws_call *c, json_t *o, struct sim_cw_metric *mt)
{
	static const char *const known[] = { "Namespace", "MetricName", "Dimensions" };

	if (json_members(c, o, known, NITEMS(known)) == -1)
		return -1;
	return json_metric_fields(c, o, mt);
}

static int
json_stats_req(struct sim_aws_call *c, struct sim_cw_stats_req *r)
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
	    json_strings(c, o, "ExtendedStatistics", r->ext, SIM_CW_STATS_MAX, &r->next) == -1)
		return -1;
	return json_str(c, o, "Unit", &r->unit);
}

static int
json_metric_stat(struct sim_aws_call *c, json_t *ms, struct sim_cw_data_query *q)
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
json_data_query(struct sim_aws_call *c, json_t *o, struct sim_cw_data_query *q)
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
json_data_req(struct sim_aws_call *c, struct sim_cw_data_req *r)
{
	static const char *const known[] = { "MetricDataQueries", "StartTime",
	    "EndTime", "NextToken", "ScanBy", "MaxDatapoints", "LabelOptions" };
	json_t	*o = c->json, *a = json_object_get(o, "MetricDataQueries");

	memset(r, 0, sizeof(*r));
	r->maxdp = 100800;
	if (json_members(c, o, known, NITEMS(known)) == -1)
		return -1;
	if (a != NULL && (!json_is_array(a) || json_array_size(a) > SIM_CW_QUERIES_MAX))
		return sim_call_fail(c, 400, "SerializationException",
		    "'MetricDataQueries' must be a list of at most %d", SIM_CW_QUERIES_MAX);
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
json_alarms_req(struct sim_aws_call *c, struct sim_cw_alarms_req *r)
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
	    json_strings(c, o, "AlarmNames", r->names, SIM_CW_NAMES_MAX, &r->nnames) == -1 ||
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

/* ---- either protocol ---- */

int
sim_cw_read_stats(struct sim_aws_call *c, struct sim_cw_stats_req *r)
{
	return c->proto == SIM_PROTO_JSON ? json_stats_req(c, r) : form_stats_req(c, r);
}

int
sim_cw_read_data(struct sim_aws_call *c, struct sim_cw_data_req *r)
{
	return c->proto == SIM_PROTO_JSON ? json_data_req(c, r) : form_data_req(c, r);
}

int
sim_cw_read_alarms(struct sim_aws_call *c, struct sim_cw_alarms_req *r)
{
	return c->proto == SIM_PROTO_JSON ? json_alarms_req(c, r) :
	    form_alarms_req(c, r);
}
