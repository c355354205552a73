/*
 * EC2 DescribeInstances (daemon/aws/ec2.c): the builder against the bodies
 * botocore made (flattened lists, Filter.N.Value.M), the parser on realistic
 * answers (reservationSet/item/instancesSet/item/tagSet/item), on odd and hostile
 * ones, the walk through pages, and the operation over a fake transport.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/ec2.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define STACK		"bbdc"
#define ASG		"bbdc-ClusterNodeGroup-1ABCDEF2GHIJ"
#define I1		"i-0123456789abcdef0"
#define I2		"i-0fedcba9876543210"
#define TOKEN		"AAEAAbq9/w+xYz3Q0Kf1mE=="

static const char *const two_ids[] = { I1, I2 };
static const char *const states[] = { "pending", "running" };
static const char *const group[] = { ASG };
static const char *const stack[] = { STACK };
static const struct aws_ec2_filter group_filters[] = {
	{ "instance-state-name", states, 2 },
	{ "tag:aws:autoscaling:groupName", group, 1 },
};
static const struct aws_ec2_filter stack_filter[] = {
	{ "tag:aws:cloudformation:stack-name", stack, 1 },
};

START_TEST(builders)
{
	struct aws_ec2_describe_in	 in = { two_ids, 2, group_filters, 2, 0 };
	struct aws_query		 q;

	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), 0);
	body_is(&q, "query/ec2-DescribeInstances.body");
	in = (struct aws_ec2_describe_in){ two_ids, 2, NULL, 0, 0 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), 0);
	body_is(&q, "answers/query/ec2-DescribeInstances-ids.body");
	in = (struct aws_ec2_describe_in){ NULL, 0, stack_filter, 1, 1000 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, TOKEN), 0);
	body_is(&q, "answers/query/ec2-DescribeInstances-next.body");
	/* That fixture's call also says DryRun=false, which we never send. */
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, TOKEN), 0);
	ck_assert_int_eq(aws_query_add_bool(&q, "DryRun", 0), 0);
	body_is(&q, "query/ec2-DescribeInstances-page.body");
}
END_TEST

START_TEST(builders_refuse)
{
	struct aws_ec2_filter		 f = { "instance-state-name", NULL, 0 };
	struct aws_ec2_describe_in	 in = { NULL, 0, NULL, 0, 0 };
	const char			*ids[] = { I1, "" };
	struct aws_query		 q;

	/* Neither ids nor filters would describe the whole account. */
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), -1);
	aws_query_free(&q);
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, NULL, NULL), -1);
	aws_query_free(&q);
	in = (struct aws_ec2_describe_in){ two_ids, 2, NULL, 0, 100 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), -1);
	aws_query_free(&q);
	in = (struct aws_ec2_describe_in){ NULL, 0, stack_filter, 1, 4 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), -1);
	aws_query_free(&q);
	in = (struct aws_ec2_describe_in){ NULL, 0, &f, 1, 0 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), -1);
	ck_assert_int_ne(q.failed, 0);
	aws_query_free(&q);
	in = (struct aws_ec2_describe_in){ ids, 2, NULL, 0, 0 };
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), -1);
	aws_query_free(&q);
}
END_TEST

static void
parse(const char *file, struct aws_ec2_instances *out)
{
	xmlDoc	*doc = load(file);
	char	 err[256];

	ck_assert_msg(aws_ec2_parse_describe_instances(aws_xml_result(doc,
	    "DescribeInstances"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_instances)
{
	struct aws_ec2_instances	 is;
	const struct aws_ec2_instance	*in;

	parse("responses/ec2-DescribeInstances.xml", &is);
	ck_assert_uint_eq(is.n, 2);
	ck_assert_str_eq(is.next, "eyJ2IjoiMiIsImMiOiJBQkMifQ==");
	in = aws_ec2_instance_find(&is, I1);
	ck_assert_ptr_eq(in, &is.items[0]);
	ck_assert_str_eq(in->private_ip, "10.0.1.17");
	ck_assert_str_eq(in->state, "running");
	ck_assert_int_eq(in->state_code, AWS_EC2_RUNNING);
	ck_assert_str_eq(in->zone, "eu-west-1a");
	ck_assert(in->launch_ms == 1748621141000LL);	/* 2025-05-30T16:05:41Z */
	ck_assert_uint_eq(in->ntags, 2);
	ck_assert_str_eq(aws_ec2_instance_tag(in, "aws:autoscaling:groupName"), ASG);
	ck_assert_str_eq(aws_ec2_instance_tag(in, "Name"), "bbdc cluster node");
	ck_assert_ptr_null(aws_ec2_instance_tag(in, "Cluster"));
	in = aws_ec2_instance_find(&is, I2);
	ck_assert_int_eq(in->state_code, AWS_EC2_SHUTTING_DOWN);
	ck_assert_str_eq(in->private_ip, "10.0.2.44");
	ck_assert_ptr_null(aws_ec2_instance_find(&is, "i-nope"));
	aws_ec2_instances_free(&is);
}
END_TEST

START_TEST(pages)
{
	struct aws_ec2_instances	 acc, page;
	const struct aws_ec2_instance	*in;

	memset(&acc, 0, sizeof(acc));
	parse("responses/ec2-DescribeInstances.xml", &page);
	ck_assert_int_eq(aws_ec2_instances_take(&acc, &page), 1);
	parse("answers/ec2-DescribeInstances-2.xml", &page);
	ck_assert_int_eq(aws_ec2_instances_take(&acc, &page), 0);
	ck_assert_uint_eq(acc.n, 4);
	/* The tags moved with their instance. */
	ck_assert_str_eq(aws_ec2_instance_tag(&acc.items[1],
	    "aws:autoscaling:groupName"), ASG);
	in = aws_ec2_instance_find(&acc, "i-0aaaabbbbccccdddd");
	ck_assert_int_eq(in->state_code, AWS_EC2_PENDING);
	ck_assert_uint_eq(in->ntags, 0);
	/* 304: the high byte is AWS's; the low byte says terminated. */
	in = aws_ec2_instance_find(&acc, "i-0eeeeffff00001111");
	ck_assert_int_eq(in->state_code, AWS_EC2_TERMINATED);
	ck_assert_str_eq(in->private_ip, "");
	aws_ec2_instances_free(&acc);
}
END_TEST

static int
try_parse(const char *body, char *err, size_t errlen)
{
	char				*xml;
	xmlDoc				*doc;
	struct aws_ec2_instances	 is;
	int				 rc;

	ck_assert_int_ge(asprintf(&xml, "<DescribeInstancesResponse><requestId>r"
	    "</requestId>%s</DescribeInstancesResponse>", body), 0);
	doc = doc_of(xml, strlen(xml));
	rc = aws_ec2_parse_describe_instances(aws_xml_result(doc,
	    "DescribeInstances"), &is, err, errlen);
	aws_ec2_instances_free(&is);
	aws_xml_free(doc);
	free(xml);
	return rc;
}

#define RES(x)		"<reservationSet><item><instancesSet><item>" x \
			"</item></instancesSet></item></reservationSet>"
#define OK_INSTANCE	"<instanceId>i-1</instanceId><instanceState><code>16</code>" \
			"<name>running</name></instanceState><launchTime>" \
			"2025-05-30T16:05:41.000Z</launchTime>"

static const struct {
	const char	*body;
	const char	*why;
} odd[] = {
	{ "", NULL },
	{ "<reservationSet/>", NULL },
	{ RES(OK_INSTANCE "<somethingNew><a>1</a></somethingNew>"), NULL },
	{ RES("<instanceState><code>16</code><name>running</name></instanceState>"),
	    "missing instanceId" },
	{ RES("<instanceId>i-1</instanceId><instanceState><code>sixteen</code>"
	    "<name>running</name></instanceState>"),
	    "instance i-1: instanceState/code is not an integer" },
	{ RES("<instanceId>i-1</instanceId><instanceState/>"),
	    "missing instanceState/name" },
	{ RES(OK_INSTANCE "<tagSet><item><value>v</value></item></tagSet>"),
	    "tagSet item 1: missing key" },
	{ RES(OK_INSTANCE "<tagSet><member><key>k</key></member></tagSet>"),
	    "tagSet is not a list of <item>" },
	{ RES(OK_INSTANCE "<privateIpAddress><ip>10.0.0.1</ip></privateIpAddress>"),
	    "privateIpAddress is not a text element" },
	{ "<reservationSet><item><instancesSet>x</instancesSet></item>"
	    "</reservationSet>", "reservationSet item 1: instancesSet is not a list" },
	{ RES("<instanceId>i-0123456789abcdef0123456789abcdef</instanceId>"),
	    "instanceId longer than 31 bytes" },
};

START_TEST(odd_answers)
{
	char	 err[512] = "";
	int	 rc = try_parse(odd[_i].body, err, sizeof(err));

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
	const char	*item = "<item><instanceId>i-1</instanceId></item>";
	size_t		 n = AWS_EC2_MAX_INSTANCES + 1, i, ilen = strlen(item);
	char		*body, *p, err[256];

	/* Many reservations of one instance each: the total is what counts. */
	ck_assert_ptr_nonnull(body = malloc(n * (ilen + 64) + 64));
	p = body + sprintf(body, "<reservationSet>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "<item><instancesSet>%s</instancesSet></item>", item);
	strcpy(p, "</reservationSet>");
	ck_assert_int_eq(try_parse(body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "reservationSet has more than 5000 items"));

	/* Two reservations, each under the bound, together over it. */
	p = body + sprintf(body, "<reservationSet>");
	for (i = 0; i < n + 1; i++) {
		if (i % ((n + 1) / 2) == 0)
			p += sprintf(p, "%s<item><instancesSet>", i > 0 ?
			    "</instancesSet></item>" : "");
		p += sprintf(p, "%s", item);
	}
	strcpy(p, "</instancesSet></item></reservationSet>");
	ck_assert_int_eq(try_parse(body, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 5000 instances");
	free(body);
}
END_TEST

/* --- the operation, over a fake transport --------------------------------- */

static struct {
	aws_cb		 cb;
	void		*arg;
	int		 calls;
	char		*bodies[4];
} fake;

static size_t	seen_n;
static int	seen_calls;

static struct aws_call *
fake_call(struct aws_client *client, struct aws_query *q, uint32_t deadline,
    aws_cb cb, void *arg)
{
	size_t	 len;

	ck_assert_int_lt(fake.calls, (int)nitems(fake.bodies));
	ck_assert_int_eq(aws_query_encode(q, &fake.bodies[fake.calls++], &len), 0);
	aws_query_free(q);
	fake.cb = cb;
	fake.arg = arg;
	return (struct aws_call *)&fake;
}

static void
answer(const char *file)
{
	struct aws_result	 r;
	xmlDoc			*doc = load(file);
	aws_cb			 cb = fake.cb;

	fake.cb = NULL;
	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.result = aws_xml_result(doc, "DescribeInstances");
	cb(&r, fake.arg);
	aws_xml_free(doc);
}

static void
instances_cb(const struct aws_result *r, const struct aws_ec2_instances *is,
    void *arg)
{
	seen_calls++;
	ck_assert_int_eq(r->errclass, AWS_ERRCLASS_OK);
	seen_n = is->n;
}

START_TEST(op_all_pages)
{
	struct aws_ec2_describe_in	 in = { NULL, 0, stack_filter, 1, 1000 };
	size_t				 i;

	aws_op_set_transport(fake_call, NULL);
	ck_assert_ptr_nonnull(aws_ec2_describe_instances((struct aws_client *)&fake,
	    &in, instances_cb, NULL));
	answer("responses/ec2-DescribeInstances.xml");
	answer("answers/ec2-DescribeInstances-2.xml");
	ck_assert_int_eq(seen_calls, 1);
	ck_assert_uint_eq(seen_n, 4);
	ck_assert_int_eq(fake.calls, 2);
	ck_assert_str_eq(fake.bodies[1], "Action=DescribeInstances&Version=2016-11-15"
	    "&Filter.1.Name=tag%3Aaws%3Acloudformation%3Astack-name"
	    "&Filter.1.Value.1=bbdc&MaxResults=1000"
	    "&NextToken=eyJ2IjoiMiIsImMiOiJBQkMifQ%3D%3D");
	aws_op_set_transport(NULL, NULL);
	for (i = 0; i < nitems(fake.bodies); i++)
		free(fake.bodies[i]);
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
aws_ec2_suite(void)
{
	Suite	*s = suite_create("aws_ec2");
	TCase	*tc;

	tc = tcase_create("builders");
	tcase_add_test(tc, builders);
	tcase_add_test(tc, builders_refuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, describe_instances);
	tcase_add_test(tc, pages);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, hostile_counts);
	tcase_add_test(tc, op_all_pages);
	suite_add_tcase(s, tc);
	return s;
}
