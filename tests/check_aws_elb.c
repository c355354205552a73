/*
 * Classic Load Balancer calls (daemon/aws/elb.c): builders against the bodies
 * botocore made; the parsers on realistic, odd and hostile answers; the health
 * classification (draining is InService plus "deregistration in progress", and
 * counts as out of service); and an operation over a fake transport.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/elb.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ELB		"bbdc-LoadBala-1X2Y3Z4W5V6U"
#define I1		"i-0123456789abcdef0"
#define I2		"i-0fedcba9876543210"
#define I3		"i-0aaaabbbbccccdddd"

static const char *const two_ids[] = { I1, I2 };

static void
refused(struct aws_query *q, int rc)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_int_ne(q->failed, 0);
	aws_query_free(q);
}

START_TEST(builders)
{
	struct aws_query	 q;
	const char		*lb = ELB;

	ck_assert_int_eq(aws_elb_describe_load_balancers_query(&q, &lb, 1), 0);
	body_is(&q, "query/elb-DescribeLoadBalancers.body");
	ck_assert_int_eq(aws_elb_describe_instance_health_query(&q, ELB, two_ids, 2),
	    0);
	body_is(&q, "query/elb-DescribeInstanceHealth.body");
	ck_assert_int_eq(aws_elb_describe_instance_health_query(&q, ELB, NULL, 0), 0);
	body_is(&q, "answers/query/elb-DescribeInstanceHealth-all.body");
	ck_assert_int_eq(aws_elb_deregister_instances_from_load_balancer_query(&q,
	    ELB, two_ids, 1), 0);
	body_is(&q, "query/elb-DeregisterInstancesFromLoadBalancer.body");
	ck_assert_int_eq(aws_elb_deregister_instances_from_load_balancer_query(&q,
	    ELB, two_ids, 2), 0);
	body_is(&q, "answers/query/elb-DeregisterInstancesFromLoadBalancer-two.body");
	ck_assert_int_eq(aws_elb_register_instances_with_load_balancer_query(&q, ELB,
	    two_ids, 1), 0);
	body_is(&q, "query/elb-RegisterInstancesWithLoadBalancer.body");
	ck_assert_int_eq(aws_elb_describe_load_balancer_attributes_query(&q, ELB), 0);
	body_is(&q, "query/elb-DescribeLoadBalancerAttributes.body");
}
END_TEST

START_TEST(builders_refuse)
{
	struct aws_query	 q;
	const char		*ids[] = { I1, "" };

	refused(&q, aws_elb_describe_instance_health_query(&q, NULL, NULL, 0));
	refused(&q, aws_elb_describe_instance_health_query(&q, ELB, ids, 2));
	refused(&q, aws_elb_deregister_instances_from_load_balancer_query(&q, ELB,
	    two_ids, 0));
	refused(&q, aws_elb_deregister_instances_from_load_balancer_query(&q, "",
	    two_ids, 1));
	refused(&q, aws_elb_register_instances_with_load_balancer_query(&q, ELB,
	    NULL, 1));
	refused(&q, aws_elb_describe_load_balancers_query(&q, two_ids, 0));
	refused(&q, aws_elb_describe_load_balancer_attributes_query(&q, ""));
}
END_TEST

START_TEST(classify)
{
	ck_assert_int_eq(aws_elb_classify("InService", "N/A"), AWS_ELB_IN_SERVICE);
	ck_assert_int_eq(aws_elb_classify("InService",
	    "Instance deregistration currently in progress."), AWS_ELB_DRAINING);
	ck_assert_int_eq(aws_elb_classify("OutOfService",
	    "Instance is not currently registered with the LoadBalancer."),
	    AWS_ELB_OUT_OF_SERVICE);
	ck_assert_int_eq(aws_elb_classify("Unknown", "A transient error occurred."),
	    AWS_ELB_UNKNOWN);
	ck_assert_int_eq(aws_elb_classify("Draining", ""), AWS_ELB_UNKNOWN);
	ck_assert_int_eq(aws_elb_classify("inservice", ""), AWS_ELB_UNKNOWN);
	ck_assert_str_eq(aws_elb_health_name(AWS_ELB_DRAINING), "draining");
	ck_assert_str_eq(aws_elb_health_name((enum aws_elb_health)42), "invalid");
}
END_TEST

START_TEST(instance_health)
{
	struct aws_elb_healths			 hs;
	const struct aws_elb_instance_health	*h;
	xmlDoc					*doc;
	char					 err[256];

	doc = load("responses/elb-DescribeInstanceHealth.xml");
	ck_assert_int_eq(aws_elb_parse_describe_instance_health(aws_xml_result(doc,
	    "DescribeInstanceHealth"), &hs, err, sizeof(err)), 0);
	ck_assert_uint_eq(hs.n, 3);
	h = aws_elb_health_find(&hs, I1);
	ck_assert_str_eq(h->state, "InService");
	ck_assert_int_eq(h->health, AWS_ELB_DRAINING);
	ck_assert(h->registered);
	h = aws_elb_health_find(&hs, I2);
	ck_assert_int_eq(h->health, AWS_ELB_OUT_OF_SERVICE);
	ck_assert(!h->registered);		/* drained: safe to terminate */
	ck_assert_str_eq(h->reason_code, "ELB");
	h = aws_elb_health_find(&hs, I3);
	ck_assert_int_eq(h->health, AWS_ELB_OUT_OF_SERVICE);
	ck_assert(h->registered);		/* unhealthy, still registered */
	ck_assert_str_eq(h->reason_code, "Instance");
	ck_assert_ptr_null(aws_elb_health_find(&hs, "i-nope"));
	aws_elb_healths_free(&hs);
	aws_xml_free(doc);
}
END_TEST

START_TEST(register_deregister)
{
	struct aws_elb_ids	 ids;
	xmlDoc			*doc;
	char			 err[256];

	doc = load("answers/elb-DeregisterInstancesFromLoadBalancer.xml");
	ck_assert_int_eq(aws_elb_parse_instances(aws_xml_result(doc,
	    "DeregisterInstancesFromLoadBalancer"), &ids, err, sizeof(err)), 0);
	ck_assert_uint_eq(ids.n, 2);
	ck_assert(!aws_elb_ids_has(&ids, I1));	/* the one deregistered */
	ck_assert(aws_elb_ids_has(&ids, I2));
	aws_elb_ids_free(&ids);
	aws_xml_free(doc);
	doc = load("answers/elb-RegisterInstancesWithLoadBalancer.xml");
	ck_assert_int_eq(aws_elb_parse_instances(aws_xml_result(doc,
	    "RegisterInstancesWithLoadBalancer"), &ids, err, sizeof(err)), 0);
	ck_assert_uint_eq(ids.n, 3);
	ck_assert(aws_elb_ids_has(&ids, I1));
	aws_elb_ids_free(&ids);
	aws_xml_free(doc);
}
END_TEST

START_TEST(load_balancers_and_attributes)
{
	struct aws_elb_lbs		 lbs;
	struct aws_elb_attributes	 a;
	const struct aws_elb_lb		*lb;
	xmlDoc				*doc;
	char				 err[256];

	doc = load("answers/elb-DescribeLoadBalancers.xml");
	ck_assert_int_eq(aws_elb_parse_describe_load_balancers(aws_xml_result(doc,
	    "DescribeLoadBalancers"), &lbs, err, sizeof(err)), 0);
	ck_assert_uint_eq(lbs.n, 1);
	lb = &lbs.items[0];
	ck_assert_str_eq(lb->name, ELB);
	ck_assert_str_eq(lb->scheme, "internet-facing");
	ck_assert_str_eq(lb->hc_target, "HTTP:7990/status");
	ck_assert_int_eq(lb->hc_interval, 60);
	ck_assert_int_eq(lb->hc_timeout, 29);
	ck_assert_int_eq(lb->hc_healthy, 2);
	ck_assert_int_eq(lb->hc_unhealthy, 2);
	ck_assert_uint_eq(lb->instances.n, 2);
	ck_assert(aws_elb_ids_has(&lb->instances, I2));
	ck_assert_str_eq(lbs.next, "");
	aws_elb_lbs_free(&lbs);
	aws_xml_free(doc);

	doc = load("responses/elb-DescribeLoadBalancerAttributes.xml");
	ck_assert_int_eq(aws_elb_parse_describe_load_balancer_attributes(
	    aws_xml_result(doc, "DescribeLoadBalancerAttributes"), &a, err,
	    sizeof(err)), 0);
	ck_assert(a.draining);
	ck_assert_int_eq(a.draining_timeout, 300);
	ck_assert(a.cross_zone);
	ck_assert_int_eq(a.idle_timeout, 3600);
	aws_xml_free(doc);
	doc = load("answers/elb-DescribeLoadBalancerAttributes-off.xml");
	ck_assert_int_eq(aws_elb_parse_describe_load_balancer_attributes(
	    aws_xml_result(doc, "DescribeLoadBalancerAttributes"), &a, err,
	    sizeof(err)), 0);
	ck_assert(!a.draining);
	ck_assert_int_eq(a.draining_timeout, -1);
	ck_assert_int_eq(a.idle_timeout, -1);
	aws_xml_free(doc);
}
END_TEST

static int
try_parse(const char *action, const char *body, char *err, size_t errlen)
{
	char				*xml;
	xmlDoc				*doc;
	struct aws_elb_healths		 hs;
	struct aws_elb_lbs		 lbs;
	struct aws_elb_attributes	 a;
	int				 rc;

	ck_assert_int_ge(asprintf(&xml, "<%sResponse><%sResult>%s</%sResult>"
	    "</%sResponse>", action, action, body, action, action), 0);
	doc = doc_of(xml, strlen(xml));
	if (strcmp(action, "DescribeInstanceHealth") == 0) {
		rc = aws_elb_parse_describe_instance_health(aws_xml_result(doc, action),
		    &hs, err, errlen);
		aws_elb_healths_free(&hs);
	} else if (strcmp(action, "DescribeLoadBalancers") == 0) {
		rc = aws_elb_parse_describe_load_balancers(aws_xml_result(doc, action),
		    &lbs, err, errlen);
		aws_elb_lbs_free(&lbs);
	} else
		rc = aws_elb_parse_describe_load_balancer_attributes(
		    aws_xml_result(doc, action), &a, err, errlen);
	aws_xml_free(doc);
	free(xml);
	return rc;
}

static const struct {
	const char	*action;
	const char	*body;
	const char	*why;
} odd[] = {
	{ "DescribeInstanceHealth", "", NULL },
	{ "DescribeInstanceHealth", "<InstanceStates><member><InstanceId>i-1"
	    "</InstanceId><State>InService</State></member></InstanceStates>", NULL },
	{ "DescribeInstanceHealth", "<InstanceStates><member><State>InService"
	    "</State></member></InstanceStates>",
	    "InstanceStates member 1: missing InstanceId" },
	{ "DescribeInstanceHealth", "<InstanceStates><member><InstanceId>i-1"
	    "</InstanceId></member></InstanceStates>", "missing State" },
	{ "DescribeInstanceHealth", "<InstanceStates>i-1</InstanceStates>",
	    "InstanceStates is not a list" },
	{ "DescribeLoadBalancers", "<LoadBalancerDescriptions><member>"
	    "<LoadBalancerName>l</LoadBalancerName><HealthCheck><Target>t</Target>"
	    "</HealthCheck></member></LoadBalancerDescriptions>",
	    "HealthCheck: missing Interval" },
	{ "DescribeLoadBalancers", "<LoadBalancerDescriptions><member>"
	    "<LoadBalancerName>l</LoadBalancerName><Instances><member/></Instances>"
	    "</member></LoadBalancerDescriptions>",
	    "Instances member 1: missing InstanceId" },
	{ "DescribeLoadBalancerAttributes", "", "missing LoadBalancerAttributes" },
	{ "DescribeLoadBalancerAttributes", "<LoadBalancerAttributes>"
	    "<ConnectionDraining><Enabled>true</Enabled></ConnectionDraining>"
	    "</LoadBalancerAttributes>", "missing ConnectionDraining/Timeout" },
	{ "DescribeLoadBalancerAttributes", "<LoadBalancerAttributes>"
	    "<ConnectionDraining><Enabled>true</Enabled><Timeout>5min</Timeout>"
	    "</ConnectionDraining></LoadBalancerAttributes>",
	    "ConnectionDraining/Timeout is not an integer" },
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
	size_t	 n = AWS_ELB_MAX_INSTANCES + 1, i;
	char	*body, *p, err[256];

	ck_assert_ptr_nonnull(body = malloc(n * 96 + 64));
	p = body + sprintf(body, "<InstanceStates>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "<member><InstanceId>i-%zu</InstanceId><State>InService"
		    "</State></member>", i);
	strcpy(p, "</InstanceStates>");
	ck_assert_int_eq(try_parse("DescribeInstanceHealth", body, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 2000"));
	free(body);
}
END_TEST

/* --- an operation, over a fake transport ---------------------------------- */

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
still_registered(const struct aws_result *r, const struct aws_elb_ids *ids,
    void *arg)
{
	seen++;
	ck_assert_ptr_eq(arg, &seen);
	ck_assert(aws_elb_ids_has(ids, I2));
	ck_assert(!aws_elb_ids_has(ids, I1));
}

START_TEST(op_deregister)
{
	struct aws_result	 r;
	xmlDoc			*doc;

	aws_op_set_transport(fake_call, NULL);
	ck_assert_ptr_nonnull(aws_elb_deregister_instances_from_load_balancer(
	    (struct aws_client *)&fake, ELB, two_ids, 1, still_registered, &seen));
	ck_assert_str_eq(fake.body, "Action=DeregisterInstancesFromLoadBalancer"
	    "&Version=2012-06-01&LoadBalancerName=" ELB
	    "&Instances.member.1.InstanceId=" I1);
	doc = load("answers/elb-DeregisterInstancesFromLoadBalancer.xml");
	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.result = aws_xml_result(doc, "DeregisterInstancesFromLoadBalancer");
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
aws_elb_suite(void)
{
	Suite	*s = suite_create("aws_elb");
	TCase	*tc;

	tc = tcase_create("builders");
	tcase_add_test(tc, builders);
	tcase_add_test(tc, builders_refuse);
	tcase_add_test(tc, classify);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, instance_health);
	tcase_add_test(tc, register_deregister);
	tcase_add_test(tc, load_balancers_and_attributes);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, hostile_counts);
	tcase_add_test(tc, op_deregister);
	suite_add_tcase(s, tc);
	return s;
}
