/*
 * CloudWatch calls (daemon/aws/cloudwatch.c): GetMetricData and DescribeAlarms
 * builders against the bodies botocore made; the parsers on realistic, odd and
 * hostile answers; the CPU of instances mapped back from query ids "i0", "i1", ...
 * with missing data reported as such, never as 0 %; and the CPU operation over a
 * fake transport.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/aws/cloudwatch.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ASG		"bbdc-ClusterNodeGroup-1ABCDEF2GHIJ"
#define I1		"i-0123456789abcdef0"
#define I2		"i-0fedcba9876543210"
#define I3		"i-0aaaabbbbccccdddd"
#define T0		((time_t)1748779200)	/* 2025-06-01T12:00:00Z */

static const char *const three_ids[] = { I1, I2, I3 };
static const char *const alarms[] = {
	"bbdc-CPUAlarmHigh-1A2B3C", "bbdc-CPUAlarmLow-4D5E6F",
};

static void
refused(struct aws_query *q, int rc)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_int_ne(q->failed, 0);
	aws_query_free(q);
}

/* --- builders ------------------------------------------------------------- */

static const struct aws_cw_metric_query fixture_queries[] = {
	{ "cpu0", "AWS/EC2", "CPUUtilization", "InstanceId", I1, 60, "Average",
	    NULL, NULL, true },
	{ "cpu1", "AWS/EC2", "CPUUtilization", "InstanceId", I2, 60, "Average",
	    NULL, NULL, true },
	{ "group", "AWS/EC2", "CPUUtilization", "AutoScalingGroupName", ASG, 300,
	    "Maximum", "Percent", "group max", false },
};

START_TEST(builders)
{
	struct aws_query	 q;

	ck_assert_int_eq(aws_cw_get_metric_data_query(&q, fixture_queries,
	    nitems(fixture_queries), T0, T0 + 900, "TimestampDescending"), 0);
	body_is(&q, "query/cloudwatch-GetMetricData.body");
	/* 10 min 30 s: one period of 11 whole minutes. */
	ck_assert_int_eq(aws_cw_cpu_query(&q, three_ids, 2, T0, T0 + 630), 0);
	body_is(&q, "answers/query/cloudwatch-GetMetricData-cpu.body");
	ck_assert_int_eq(aws_cw_describe_alarms_query(&q, alarms, 2, 10, NULL), 0);
	body_is(&q, "query/cloudwatch-DescribeAlarms.body");
	ck_assert_int_eq(aws_cw_describe_alarms_query(&q, alarms, 2, 2, NULL), 0);
	body_is(&q, "answers/query/cloudwatch-DescribeAlarms-two.body");
}
END_TEST

START_TEST(builders_refuse)
{
	struct aws_cw_metric_query	 m = fixture_queries[0];
	const char			*ids[] = { I1, NULL }, *names[101];
	struct aws_query		 q;
	size_t				 i;

	refused(&q, aws_cw_get_metric_data_query(&q, &m, 0, T0, T0 + 60, NULL));
	refused(&q, aws_cw_get_metric_data_query(&q, &m, 1, T0, T0, NULL));
	m.id = "Cpu0";			/* must start lowercase */
	refused(&q, aws_cw_get_metric_data_query(&q, &m, 1, T0, T0 + 60, NULL));
	m.id = "cpu-0";
	refused(&q, aws_cw_get_metric_data_query(&q, &m, 1, T0, T0 + 60, NULL));
	m.id = "cpu0";
	m.period = 61;
	refused(&q, aws_cw_get_metric_data_query(&q, &m, 1, T0, T0 + 60, NULL));
	m.period = 60;
	m.dim_value = NULL;
	refused(&q, aws_cw_get_metric_data_query(&q, &m, 1, T0, T0 + 60, NULL));
	refused(&q, aws_cw_cpu_query(&q, three_ids, 0, T0, T0 + 60));
	refused(&q, aws_cw_cpu_query(&q, ids, 2, T0, T0 + 60));
	refused(&q, aws_cw_cpu_query(&q, three_ids, 3, T0, T0 + 2 * 86400));
	refused(&q, aws_cw_cpu_query(&q, three_ids, 3, T0, T0 - 1));
	for (i = 0; i < nitems(names); i++)
		names[i] = alarms[0];
	refused(&q, aws_cw_describe_alarms_query(&q, names, 0, 0, NULL));
	refused(&q, aws_cw_describe_alarms_query(&q, names, 101, 0, NULL));
	names[1] = "";
	refused(&q, aws_cw_describe_alarms_query(&q, names, 2, 0, NULL));
}
END_TEST

/* --- parsers -------------------------------------------------------------- */

static void
parse_md(const char *file, struct aws_cw_metric_data *out)
{
	xmlDoc	*doc = load(file);
	char	 err[256];

	ck_assert_msg(aws_cw_parse_get_metric_data(aws_xml_result(doc,
	    "GetMetricData"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(get_metric_data)
{
	struct aws_cw_metric_data	 md;
	const struct aws_cw_series	*s;

	parse_md("responses/cw-GetMetricData.xml", &md);
	ck_assert_uint_eq(md.n, 3);
	ck_assert_str_eq(md.next, "Q3VycmVudFBhZ2U9Mg==");
	s = &md.items[0];
	ck_assert_str_eq(s->id, "cpu0");
	ck_assert_str_eq(s->status, "Complete");
	ck_assert_uint_eq(s->n, 3);
	ck_assert_double_eq(s->values[0], 37.5);
	ck_assert_double_eq_tol(s->values[2], 0.033333333333333, 1e-12);
	ck_assert(s->times[0] == (T0 + 14 * 60) * 1000LL);
	ck_assert_uint_eq(md.items[1].n, 0);
	ck_assert_str_eq(md.items[2].status, "PartialData");
	ck_assert_str_eq(md.items[2].label, "group max");
	aws_cw_metric_data_free(&md);
}
END_TEST

START_TEST(cpu_mapped_back)
{
	struct aws_cw_metric_data	 md;
	struct aws_cw_cpus		 cpus;
	const char			*four[] = { I1, I2, I3, "i-0999999999999999" };

	ck_assert_int_eq(aws_cw_cpus_init(&cpus, four, 4), 0);
	parse_md("answers/cw-GetMetricData-cpu.xml", &md);
	aws_cw_cpus_fill(&cpus, &md);
	aws_cw_metric_data_free(&md);
	ck_assert_str_eq(cpus.items[0].instance_id, I1);
	ck_assert(cpus.items[0].has_data);
	ck_assert_double_eq_tol(cpus.items[0].average, 41.0166666666667, 1e-9);
	ck_assert_uint_eq(cpus.items[0].npoints, 1);
	/* No datapoint: "no data", not an idle node. */
	ck_assert(!cpus.items[1].has_data);
	ck_assert_str_eq(cpus.items[1].status, "Complete");
	ck_assert_double_eq(cpus.items[1].average, 0);
	ck_assert(cpus.items[2].has_data);
	ck_assert_double_eq(cpus.items[2].average, 20.25);
	ck_assert(cpus.items[2].latest_ms == (T0 + 300) * 1000LL);
	/* Not in the answer at all (and "i7" was not ours): no data either. */
	ck_assert(!cpus.items[3].has_data);
	ck_assert_str_eq(cpus.items[3].status, "");
	aws_cw_cpus_free(&cpus);

	ck_assert_int_eq(aws_cw_cpus_init(&cpus, four, AWS_CW_MAX_QUERIES + 1), -1);
	four[1] = "i-this-id-is-much-longer-than-any-instance-id";
	ck_assert_int_eq(aws_cw_cpus_init(&cpus, four, 2), -1);
}
END_TEST

START_TEST(cpu_odd_ids)
{
	static const char *const xml = "<GetMetricDataResponse><GetMetricDataResult>"
	    "<MetricDataResults>"
	    "<member><Id>i01</Id><StatusCode>Complete</StatusCode><Timestamps><member>"
	    "2025-06-01T12:00:00Z</member></Timestamps><Values><member>1</member>"
	    "</Values></member>"
	    "<member><Id>i</Id><StatusCode>Complete</StatusCode></member>"
	    "<member><Id>x0</Id><StatusCode>Complete</StatusCode></member>"
	    "<member><Id>i99999999999999999999999</Id><StatusCode>Complete"
	    "</StatusCode></member>"
	    "</MetricDataResults></GetMetricDataResult></GetMetricDataResponse>";
	struct aws_cw_metric_data	 md;
	struct aws_cw_cpus		 cpus;
	xmlDoc				*doc = doc_of(xml, strlen(xml));
	char				 err[256];

	ck_assert_int_eq(aws_cw_parse_get_metric_data(aws_xml_result(doc,
	    "GetMetricData"), &md, err, sizeof(err)), 0);
	ck_assert_int_eq(aws_cw_cpus_init(&cpus, three_ids, 3), 0);
	aws_cw_cpus_fill(&cpus, &md);
	/* "i01" is not "i1": nothing may land on a node it does not belong to. */
	ck_assert(!cpus.items[0].has_data && !cpus.items[1].has_data);
	ck_assert_str_eq(cpus.items[1].status, "");
	aws_cw_cpus_free(&cpus);
	aws_cw_metric_data_free(&md);
	aws_xml_free(doc);
}
END_TEST

START_TEST(describe_alarms)
{
	struct aws_cw_alarms	 as;
	xmlDoc			*doc = load("answers/cw-DescribeAlarms.xml");
	char			 err[256];

	ck_assert_int_eq(aws_cw_parse_describe_alarms(aws_xml_result(doc,
	    "DescribeAlarms"), &as, err, sizeof(err)), 0);
	ck_assert_uint_eq(as.n, 2);
	ck_assert_str_eq(as.items[0].name, alarms[0]);
	ck_assert_str_eq(as.items[0].state, "ALARM");
	ck_assert_ptr_nonnull(strstr(as.items[0].reason, "greater than the threshold"));
	ck_assert(as.items[0].actions_enabled);
	ck_assert(as.items[0].updated_ms == 1748781370125LL);
	ck_assert_str_eq(as.items[1].state, "OK");
	aws_cw_alarms_free(&as);
	aws_xml_free(doc);
}
END_TEST

static int
try_parse(const char *action, const char *body, char *err, size_t errlen)
{
	char				*xml;
	xmlDoc				*doc;
	struct aws_cw_metric_data	 md;
	struct aws_cw_alarms		 as;
	int				 rc;

	ck_assert_int_ge(asprintf(&xml, "<%sResponse><%sResult>%s</%sResult>"
	    "</%sResponse>", action, action, body, action, action), 0);
	doc = doc_of(xml, strlen(xml));
	if (strcmp(action, "GetMetricData") == 0) {
		rc = aws_cw_parse_get_metric_data(aws_xml_result(doc, action), &md,
		    err, errlen);
		aws_cw_metric_data_free(&md);
	} else {
		rc = aws_cw_parse_describe_alarms(aws_xml_result(doc, action), &as,
		    err, errlen);
		aws_cw_alarms_free(&as);
	}
	aws_xml_free(doc);
	free(xml);
	return rc;
}

#define SERIES(x)	"<MetricDataResults><member><Id>i0</Id><StatusCode>Complete" \
			"</StatusCode>" x "</member></MetricDataResults>"

static const struct {
	const char	*action;
	const char	*body;
	const char	*why;
} odd[] = {
	{ "GetMetricData", "", NULL },
	{ "GetMetricData", SERIES("<Messages><member><Code>c</Code></member>"
	    "</Messages>"), NULL },
	{ "GetMetricData", SERIES("<Timestamps><member>2025-06-01T12:00:00Z</member>"
	    "</Timestamps><Values/>"), "1 Timestamps but 0 Values" },
	{ "GetMetricData", SERIES("<Timestamps><member>2025-06-01T12:00:00Z</member>"
	    "</Timestamps><Values><member>NaN</member></Values>"),
	    "datapoint 1: value is not a number" },
	{ "GetMetricData", SERIES("<Timestamps><member>noon</member></Timestamps>"
	    "<Values><member>1</member></Values>"),
	    "datapoint 1: value is not an ISO 8601 time" },
	{ "GetMetricData", "<MetricDataResults><member><StatusCode>Complete"
	    "</StatusCode></member></MetricDataResults>",
	    "MetricDataResults member 1: missing Id" },
	{ "GetMetricData", "<MetricDataResults><member><Id>i0</Id></member>"
	    "</MetricDataResults>", "missing StatusCode" },
	{ "DescribeAlarms", "<MetricAlarms><member><AlarmName>a</AlarmName>"
	    "</member></MetricAlarms>", "MetricAlarms member 1: missing StateValue" },
	{ "DescribeAlarms", "<MetricAlarms><member><AlarmName>a</AlarmName>"
	    "<StateValue>OK</StateValue><ActionsEnabled>1</ActionsEnabled></member>"
	    "</MetricAlarms>", "ActionsEnabled is not true or false" },
};

START_TEST(odd_answers)
{
	char	 err[512] = "";
	int	 rc = try_parse(odd[_i].action, odd[_i].body, err, sizeof(err));

	if (odd[_i].why == NULL)
		ck_assert_msg(rc == 0, "refused: %s", err);
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, odd[_i].why) != NULL, "\"%s\" lacks \"%s\"",
		    err, odd[_i].why);
	}
}
END_TEST

START_TEST(hostile_counts)
{
	size_t	 n = AWS_CW_MAX_POINTS + 1, i;
	char	*body, *p, err[256];

	ck_assert_ptr_nonnull(body = malloc(n * 64 + 256));
	p = body + sprintf(body, "<MetricDataResults><member><Id>i0</Id><StatusCode>"
	    "Complete</StatusCode><Values>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "<member>1</member>");
	strcpy(p, "</Values></member></MetricDataResults>");
	ck_assert_int_eq(try_parse("GetMetricData", body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Values has more than 1440 items"));
	free(body);
}
END_TEST

/* --- the CPU operation, over a fake transport ----------------------------- */

static struct {
	aws_cb		 cb;
	void		*arg;
	char		*body;
} fake;

static int	seen;

static struct aws_call *
fake_call(struct aws_client *client, struct aws_query *q, uint32_t deadline,
    aws_cb cb, void *arg)
{
	size_t	 len;

	ck_assert_int_eq(aws_query_encode(q, &fake.body, &len), 0);
	aws_query_free(q);
	fake.cb = cb;
	fake.arg = arg;
	return (struct aws_call *)&fake;
}

static void
cpus_cb(const struct aws_result *r, const struct aws_cw_cpus *cpus, void *arg)
{
	seen++;
	ck_assert_int_eq(r->errclass, AWS_ERRCLASS_OK);
	ck_assert_uint_eq(cpus->n, 3);
	ck_assert_str_eq(cpus->items[2].instance_id, I3);
	ck_assert_double_eq(cpus->items[2].average, 20.25);
	ck_assert(!cpus->items[1].has_data);
}

START_TEST(op_cpu)
{
	struct aws_result	 r;
	xmlDoc			*doc;

	aws_op_set_transport(fake_call, NULL);
	ck_assert_ptr_nonnull(aws_cw_get_cpu((struct aws_client *)&fake, three_ids, 3,
	    T0, T0 + 600, cpus_cb, NULL));
	ck_assert_ptr_nonnull(strstr(fake.body, "&MetricDataQueries.member.3.Id=i2&"));
	ck_assert_ptr_nonnull(strstr(fake.body, "MetricStat.Period=600&"));
	doc = load("answers/cw-GetMetricData-cpu.xml");
	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.result = aws_xml_result(doc, "GetMetricData");
	fake.cb(&r, fake.arg);
	ck_assert_int_eq(seen, 1);
	aws_xml_free(doc);
	free(fake.body);
	aws_op_set_transport(NULL, NULL);
}
END_TEST

static void
setup(void)
{
	aws_xml_init();
}

static void
teardown(void)
{
	aws_xml_shutdown();
}

Suite *
aws_cw_suite(void)
{
	Suite	*s = suite_create("aws_cw");
	TCase	*tc;

	tc = tcase_create("builders");
	tcase_add_test(tc, builders);
	tcase_add_test(tc, builders_refuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_metric_data);
	tcase_add_test(tc, cpu_mapped_back);
	tcase_add_test(tc, cpu_odd_ids);
	tcase_add_test(tc, describe_alarms);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, hostile_counts);
	tcase_add_test(tc, op_cpu);
	suite_add_tcase(s, tc);
	return s;
}
