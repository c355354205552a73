/*
 * CloudFormation calls (daemon/aws/cloudformation.c and cloudformation_changeset.c):
 * every builder against the bodies botocore made (tests/fixtures/aws/query and
 * answers/query), every parser on realistic answers (tests/fixtures/aws/responses
 * and answers, checked against botocore's shapes by answers/check.py), on missing,
 * odd and hostile fields; the walks through pages; and the operations end to end
 * over a fake transport that stands in for aws_call(). Also the operation runner of
 * parse_util.c, here once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/cloudformation.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define STACK		"bbdc"
#define STACK_ARN	"arn:aws:cloudformation:eu-west-1:123456789012:stack/bbdc/" \
			"5b9d8f30-4a2e-11ef-9c3e-0a1b2c3d4e5f"
#define ASG		"bbdc-ClusterNodeGroup-1ABCDEF2GHIJ"
#define TOKEN		"AAEAAbq9/w+xYz3Q0Kf1mE=="
#define CS		"bbupgraded-42-1"
#define CS_ARN		"arn:aws:cloudformation:eu-west-1:123456789012:changeSet/" \
			"bbupgraded-42-1/9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4"

/* --- fixtures ------------------------------------------------------------- */

static const xmlNode *
result_of(xmlDoc *doc, const char *action)
{
	const xmlNode	*r = aws_xml_result(doc, action);

	ck_assert_ptr_nonnull(r);
	return r;
}

static void
refused(struct aws_query *q, int rc)
{
	char	*body;
	size_t	 len;

	ck_assert_int_eq(rc, -1);
	ck_assert_int_ne(q->failed, 0);
	ck_assert_int_eq(aws_query_encode(q, &body, &len), -1);
	aws_query_free(q);
}

/* --- builders ------------------------------------------------------------- */

static const struct aws_cfn_param_in full_params[] = {
	{ "BitbucketVersion", "8.19.5" },
	{ "ClusterNodeMin", "3" },
	{ "DBPassword", NULL },
	{ "CidrBlock", "10.0.0.0/16" },
	{ "SSLCertificateName", "" },
	{ "DisplayName", "Bitbucket f\xc3\xbcr Teams & Co ~*+" },
};

static int
b_stacks(struct aws_query *q)
{
	return aws_cfn_describe_stacks_query(q, STACK, NULL);
}

static int
b_resource(struct aws_query *q)
{
	return aws_cfn_describe_stack_resource_query(q, STACK, "ClusterNodeGroup");
}

static int
b_resources(struct aws_query *q)
{
	return aws_cfn_describe_stack_resources_query(q, STACK, "LoadBalancer", NULL);
}

static int
b_resources_physical(struct aws_query *q)
{
	return aws_cfn_describe_stack_resources_query(q, NULL, NULL, ASG);
}

static int
b_events(struct aws_query *q)
{
	return aws_cfn_describe_stack_events_query(q, STACK_ARN, TOKEN);
}

static int
b_events_first(struct aws_query *q)
{
	return aws_cfn_describe_stack_events_query(q, STACK, NULL);
}

static int
b_create(struct aws_query *q)
{
	struct aws_cfn_change_set_in	 in = { STACK, CS, "bbupgraded-42-1-cs",
	    full_params, nitems(full_params), AWS_CFN_CAP_IAM };

	return aws_cfn_create_change_set_query(q, &in);
}

static int
b_create_plain(struct aws_query *q)
{
	static const struct aws_cfn_param_in	 p[] = {
		{ "BitbucketVersion", NULL }, { "ClusterNodeMax", "5" },
	};
	struct aws_cfn_change_set_in		 in = { STACK_ARN, "bbupgraded-42-2",
	    NULL, p, nitems(p), AWS_CFN_CAP_AUTO_EXPAND | AWS_CFN_CAP_IAM };

	return aws_cfn_create_change_set_query(q, &in);
}

static int
b_describe_cs(struct aws_query *q)
{
	return aws_cfn_describe_change_set_query(q, CS, STACK, TOKEN);
}

static int
b_describe_cs_arn(struct aws_query *q)
{
	return aws_cfn_describe_change_set_query(q, CS_ARN, NULL, NULL);
}

static int
b_execute(struct aws_query *q)
{
	return aws_cfn_execute_change_set_query(q, CS, STACK, "bbupgraded-42-1-exec");
}

static int
b_delete(struct aws_query *q)
{
	return aws_cfn_delete_change_set_query(q, CS, STACK);
}

static int
b_cancel(struct aws_query *q)
{
	return aws_cfn_cancel_update_stack_query(q, STACK, "bbupgraded-42-cancel");
}

static int
b_cancel_plain(struct aws_query *q)
{
	return aws_cfn_cancel_update_stack_query(q, STACK, NULL);
}

static int
b_template(struct aws_query *q)
{
	return aws_cfn_get_template_summary_query(q, STACK);
}

static const struct {
	const char	*fixture;
	int		(*build)(struct aws_query *);
} bodies[] = {
	{ "query/cloudformation-DescribeStacks.body", b_stacks },
	{ "query/cloudformation-DescribeStackResource.body", b_resource },
	{ "query/cloudformation-DescribeStackResources.body", b_resources },
	{ "answers/query/cloudformation-DescribeStackResources-physical.body",
	    b_resources_physical },
	{ "query/cloudformation-DescribeStackEvents.body", b_events },
	{ "answers/query/cloudformation-DescribeStackEvents-first.body",
	    b_events_first },
	{ "query/cloudformation-CreateChangeSet.body", b_create },
	{ "answers/query/cloudformation-CreateChangeSet-plain.body", b_create_plain },
	{ "query/cloudformation-DescribeChangeSet.body", b_describe_cs },
	{ "answers/query/cloudformation-DescribeChangeSet-arn.body",
	    b_describe_cs_arn },
	{ "query/cloudformation-ExecuteChangeSet.body", b_execute },
	{ "query/cloudformation-DeleteChangeSet.body", b_delete },
	{ "query/cloudformation-CancelUpdateStack.body", b_cancel },
	{ "answers/query/cloudformation-CancelUpdateStack-plain.body",
	    b_cancel_plain },
	{ "query/cloudformation-GetTemplateSummary.body", b_template },
};

START_TEST(builder_matches_botocore)
{
	struct aws_query	 q;

	ck_assert_int_eq(bodies[_i].build(&q), 0);
	body_is(&q, bodies[_i].fixture);
}
END_TEST

START_TEST(builders_refuse)
{
	struct aws_cfn_param_in		 p[2] = { { "A", "1" }, { "B", NULL } };
	struct aws_cfn_change_set_in	 in = { STACK, CS, NULL, p, 2, 0 };
	struct aws_query		 q;
	char				 name[140];

	refused(&q, aws_cfn_describe_stacks_query(&q, NULL, NULL));
	refused(&q, aws_cfn_describe_stacks_query(&q, "", NULL));
	refused(&q, aws_cfn_describe_stack_resource_query(&q, STACK, NULL));
	refused(&q, aws_cfn_describe_stack_resources_query(&q, STACK, NULL, ASG));
	refused(&q, aws_cfn_describe_stack_resources_query(&q, NULL, "X", NULL));
	refused(&q, aws_cfn_describe_stack_events_query(&q, "", TOKEN));
	refused(&q, aws_cfn_describe_change_set_query(&q, "", STACK, NULL));
	refused(&q, aws_cfn_execute_change_set_query(&q, CS, STACK, NULL));
	refused(&q, aws_cfn_execute_change_set_query(&q, CS, STACK, "-x"));
	refused(&q, aws_cfn_execute_change_set_query(&q, CS, STACK, "a b"));
	refused(&q, aws_cfn_cancel_update_stack_query(&q, STACK, "a_b"));
	refused(&q, aws_cfn_delete_change_set_query(&q, NULL, STACK));
	refused(&q, aws_cfn_get_template_summary_query(&q, NULL));
	refused(&q, aws_cfn_create_change_set_query(&q, NULL));

	ck_assert_int_eq(aws_cfn_create_change_set_query(&q, &in), 0);
	aws_query_free(&q);
	/* Never echo a NoEcho value back. */
	p[1].value = AWS_CFN_NOECHO;
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	p[1] = (struct aws_cfn_param_in){ "A", NULL };		/* twice */
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	p[1] = (struct aws_cfn_param_in){ "", NULL };
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	p[1] = (struct aws_cfn_param_in){ "B", NULL };
	in.capabilities = AWS_CFN_CAP_UNKNOWN;
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	in.capabilities = 0;
	in.client_token = "no_underscores";
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	in.client_token = NULL;
	in.name = "1starts-with-a-digit";
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	in.name = name;					/* 139 > 128 */
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
	in.name = CS;
	in.params = NULL;
	refused(&q, aws_cfn_create_change_set_query(&q, &in));
}
END_TEST

START_TEST(capability_names)
{
	ck_assert_str_eq(aws_cfn_capability_name(AWS_CFN_CAP_IAM), "CAPABILITY_IAM");
	ck_assert_str_eq(aws_cfn_capability_name(AWS_CFN_CAP_AUTO_EXPAND),
	    "CAPABILITY_AUTO_EXPAND");
	ck_assert_ptr_null(aws_cfn_capability_name(AWS_CFN_CAP_UNKNOWN));
	ck_assert_ptr_null(aws_cfn_capability_name(AWS_CFN_CAP_IAM |
	    AWS_CFN_CAP_NAMED_IAM));
}
END_TEST

/* --- DescribeStacks and the change set's parameters ----------------------- */

static void
parse_stacks(const char *file, struct aws_cfn_stacks *out)
{
	xmlDoc	*doc = load(file);
	char	 err[256];

	ck_assert_msg(aws_cfn_parse_describe_stacks(result_of(doc, "DescribeStacks"),
	    out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_stacks)
{
	struct aws_cfn_stacks		 s;
	const struct aws_cfn_stack	*st;

	parse_stacks("responses/cfn-DescribeStacks.xml", &s);
	ck_assert_uint_eq(s.n, 1);
	st = &s.items[0];
	ck_assert_str_eq(st->name, STACK);
	ck_assert_str_eq(st->id, STACK_ARN);
	ck_assert_str_eq(st->status, "UPDATE_COMPLETE");
	ck_assert_str_eq(st->reason, "");
	ck_assert_str_eq(st->role_arn, "");
	ck_assert_str_eq(st->parent_id, "");
	ck_assert(st->created_ms == 1678786013589LL);	/* 2023-03-14T09:26:53.589Z */
	ck_assert(st->updated_ms == 1748620931047LL);	/* 2025-05-30T16:02:11.047Z */
	ck_assert(!st->disable_rollback);
	ck_assert_uint_eq(st->capabilities, AWS_CFN_CAP_IAM);
	ck_assert_uint_eq(st->nparams, 6);
	ck_assert_str_eq(aws_cfn_stack_param(st, "BitbucketVersion"), "8.19.4");
	ck_assert_str_eq(aws_cfn_stack_param(st, "DBPassword"), AWS_CFN_NOECHO);
	ck_assert_str_eq(aws_cfn_stack_param(st, "SSLCertificateName"), "");
	/* The SSM path, not the resolved AMI: that is what UsePreviousValue keeps. */
	ck_assert_str_eq(aws_cfn_stack_param(st, "LatestAmiId"),
	    "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2");
	ck_assert_ptr_null(aws_cfn_stack_param(st, "Nope"));
	ck_assert_uint_eq(st->noutputs, 2);
	ck_assert_str_eq(aws_cfn_stack_output(st, "ClusterNodeGroup"), ASG);
	ck_assert_str_eq(st->outputs[1].export_name, "bbdc-LoadBalancerURL");
	ck_assert_ptr_null(aws_cfn_stack_output(st, "ServiceURL"));
	ck_assert_str_eq(s.next, "");
	aws_cfn_stacks_free(&s);
	aws_cfn_stacks_free(&s);	/* twice: harmless */
}
END_TEST

START_TEST(describe_stacks_nested)
{
	struct aws_cfn_stacks		 s;
	const struct aws_cfn_stack	*st;

	parse_stacks("answers/cfn-DescribeStacks-nested.xml", &s);
	st = &s.items[0];
	ck_assert_str_eq(st->status, "UPDATE_ROLLBACK_FAILED");
	ck_assert_str_eq(st->reason,
	    "The following resource(s) failed to update: [ClusterNodeGroup]. ");
	ck_assert_str_eq(st->role_arn,
	    "arn:aws:iam::123456789012:role/bbdc-cloudformation-service");
	ck_assert_str_eq(st->parent_id, STACK_ARN);
	ck_assert_str_eq(st->root_id, STACK_ARN);
	ck_assert_uint_eq(st->capabilities, AWS_CFN_CAP_IAM | AWS_CFN_CAP_AUTO_EXPAND |
	    AWS_CFN_CAP_UNKNOWN);
	ck_assert_str_eq(aws_cfn_stack_param(st, "BitbucketLicenseKey"), "****");
	ck_assert_str_eq(aws_cfn_stack_param(st, "DBMaster"), "");
	aws_cfn_stacks_free(&s);
}
END_TEST

START_TEST(change_set_params)
{
	static const struct aws_cfn_param_in	 changes[] = {
		{ "ClusterNodeMax", "3" }, { "BitbucketVersion", "8.19.5" },
		{ "ClusterNodeMin", "3" },
	};
	struct aws_cfn_param_in	 out[8], bad;
	struct aws_cfn_stacks	 s;
	struct aws_cfn_change_set_in in = { STACK, CS, NULL, out, 0, AWS_CFN_CAP_IAM };
	struct aws_query	 q;
	char			 err[256], *body;
	size_t			 n, len;

	parse_stacks("responses/cfn-DescribeStacks.xml", &s);
	ck_assert_int_eq(aws_cfn_change_set_params(&s.items[0], changes,
	    nitems(changes), out, nitems(out), &n, err, sizeof(err)), 0);
	/* Every parameter, in the stack's order; only the changes carry values. */
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(out[0].key, "BitbucketVersion");
	ck_assert_str_eq(out[0].value, "8.19.5");
	ck_assert_str_eq(out[2].key, "ClusterNodeMax");
	ck_assert_str_eq(out[2].value, "3");
	ck_assert_str_eq(out[3].key, "DBPassword");
	ck_assert_ptr_null(out[3].value);
	ck_assert_ptr_null(out[4].value);
	ck_assert_ptr_null(out[5].value);
	in.nparams = n;
	ck_assert_int_eq(aws_cfn_create_change_set_query(&q, &in), 0);
	ck_assert_int_eq(aws_query_encode(&q, &body, &len), 0);
	ck_assert_ptr_nonnull(strstr(body, "&Parameters.member.4.ParameterKey="
	    "DBPassword&Parameters.member.4.UsePreviousValue=true&"));
	ck_assert_ptr_null(strstr(body, "%2A%2A%2A%2A"));
	free(body);
	aws_query_free(&q);

	bad = (struct aws_cfn_param_in){ "NotAParameter", "1" };
	ck_assert_int_eq(aws_cfn_change_set_params(&s.items[0], &bad, 1, out,
	    nitems(out), &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NotAParameter"));
	bad = (struct aws_cfn_param_in){ "DBPassword", AWS_CFN_NOECHO };
	ck_assert_int_eq(aws_cfn_change_set_params(&s.items[0], &bad, 1, out,
	    nitems(out), &n, err, sizeof(err)), -1);
	bad = (struct aws_cfn_param_in){ "DBPassword", NULL };
	ck_assert_int_eq(aws_cfn_change_set_params(&s.items[0], &bad, 1, out,
	    nitems(out), &n, err, sizeof(err)), -1);
	ck_assert_int_eq(aws_cfn_change_set_params(&s.items[0], changes, 1, out, 5,
	    &n, err, sizeof(err)), -1);
	ck_assert_uint_eq(n, 0);
	aws_cfn_stacks_free(&s);
}
END_TEST

/* --- resources, template summary, create ---------------------------------- */

START_TEST(describe_stack_resources)
{
	struct aws_cfn_resource		 r;
	struct aws_cfn_resources	 rs;
	xmlDoc				*doc;
	char				 err[256];

	doc = load("responses/cfn-DescribeStackResource.xml");
	ck_assert_int_eq(aws_cfn_parse_describe_stack_resource(result_of(doc,
	    "DescribeStackResource"), &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.logical_id, "ClusterNodeGroup");
	ck_assert_str_eq(r.physical_id, ASG);
	ck_assert_str_eq(r.type, "AWS::AutoScaling::AutoScalingGroup");
	ck_assert_str_eq(r.status, "UPDATE_COMPLETE");
	ck_assert_str_eq(r.stack_id, STACK_ARN);
	ck_assert(r.updated_ms == 1748620918302LL);
	aws_xml_free(doc);

	doc = load("answers/cfn-DescribeStackResources.xml");
	ck_assert_int_eq(aws_cfn_parse_describe_stack_resources(result_of(doc,
	    "DescribeStackResources"), &rs, err, sizeof(err)), 0);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_str_eq(rs.items[0].physical_id, "bbdc-LoadBala-1X2Y3Z4W5V6U");
	ck_assert_str_eq(rs.items[1].status, "UPDATE_FAILED");
	ck_assert_ptr_nonnull(strstr(rs.items[1].reason, "0 SUCCESS signal(s)"));
	ck_assert_str_eq(rs.items[2].physical_id, "");	/* still being created */
	aws_cfn_resources_free(&rs);
	aws_xml_free(doc);
}
END_TEST

START_TEST(template_summary_and_create)
{
	struct aws_cfn_template		 t;
	struct aws_cfn_change_set_ref	 ref;
	xmlDoc				*doc;
	char				 err[256];

	doc = load("answers/cfn-GetTemplateSummary.xml");
	ck_assert_int_eq(aws_cfn_parse_get_template_summary(result_of(doc,
	    "GetTemplateSummary"), &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.capabilities, AWS_CFN_CAP_IAM);
	ck_assert_ptr_nonnull(strstr(t.capabilities_reason, "AWS::IAM::Role"));
	ck_assert_uint_eq(t.nparams, 3);
	ck_assert(!t.params[0].no_echo);
	ck_assert_str_eq(t.params[1].key, "DBPassword");
	ck_assert(t.params[1].no_echo);
	ck_assert_str_eq(t.params[2].type, "Number");
	aws_cfn_template_free(&t);
	aws_xml_free(doc);

	doc = load("answers/cfn-CreateChangeSet.xml");
	ck_assert_int_eq(aws_cfn_parse_create_change_set(result_of(doc,
	    "CreateChangeSet"), &ref, err, sizeof(err)), 0);
	ck_assert_str_eq(ref.id, CS_ARN);
	ck_assert_str_eq(ref.stack_id, STACK_ARN);
	aws_xml_free(doc);
}
END_TEST

/* --- DescribeStackEvents: one page, and walks through three --------------- */

static const char *const event_pages[] = {
	"responses/cfn-DescribeStackEvents.xml",
	"answers/cfn-DescribeStackEvents-2.xml",
	"answers/cfn-DescribeStackEvents-3.xml",
};

static void
parse_events(int page, struct aws_cfn_events *out)
{
	xmlDoc	*doc = load(event_pages[page]);
	char	 err[256];

	ck_assert_msg(aws_cfn_parse_describe_stack_events(result_of(doc,
	    "DescribeStackEvents"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_stack_events)
{
	struct aws_cfn_events		 e, acc;
	const struct aws_cfn_event	*ev;

	parse_events(0, &e);
	ck_assert_uint_eq(e.n, 3);
	ck_assert_str_eq(e.next, TOKEN);
	ev = &e.items[0];
	ck_assert_str_eq(ev->id,
	    "ClusterNodeGroup-UPDATE_FAILED-2025-06-01T12:31:07.118Z");
	ck_assert_str_eq(ev->logical_id, "ClusterNodeGroup");
	ck_assert_str_eq(ev->physical_id, ASG);
	ck_assert_str_eq(ev->type, "AWS::AutoScaling::AutoScalingGroup");
	ck_assert_str_eq(ev->status, "UPDATE_FAILED");
	ck_assert_str_eq(ev->token, "bbupgraded-42-1-exec");
	ck_assert(ev->time_ms == 1748781067118LL);
	ck_assert_ptr_nonnull(strstr(ev->reason, "MinSuccessfulInstancesPercent"));
	/* The stack's own event: logical id = the stack's name. */
	ck_assert_str_eq(e.items[1].logical_id, STACK);
	ck_assert(e.items[1].time_ms == 1748780142900LL);	/* ".9Z" */
	ck_assert_str_eq(e.items[2].reason, "");
	aws_cfn_events_free(&e);

	/* The last page, without a stop: all of it, and the walk is over. */
	parse_events(2, &e);
	memset(&acc, 0, sizeof(acc));
	ck_assert_int_eq(aws_cfn_events_take(&acc, &e, NULL), 0);
	ck_assert_uint_eq(acc.n, 1);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_ALL);
	aws_cfn_events_free(&acc);
}
END_TEST

/* Walks the three pages with stop; returns the events taken and the pages read. */
static int
walk_events(const struct aws_cfn_events_stop *stop, struct aws_cfn_events *acc)
{
	struct aws_cfn_events	 page;
	int			 i, rc = 1;

	memset(acc, 0, sizeof(*acc));
	for (i = 0; rc == 1; i++) {
		ck_assert_int_lt(i, (int)nitems(event_pages));
		parse_events(i, &page);
		rc = aws_cfn_events_take(acc, &page, stop);
		ck_assert_int_ne(rc, -1);
		ck_assert_ptr_null(page.items);
	}
	return i;
}

START_TEST(stack_events_walks)
{
	struct aws_cfn_events_stop	 stop = { 0, NULL, 0 };
	struct aws_cfn_events		 acc;

	/* To the end. */
	ck_assert_int_eq(walk_events(&stop, &acc), 3);
	ck_assert_uint_eq(acc.n, 6);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_ALL);
	ck_assert_str_eq(acc.items[5].status, "CREATE_COMPLETE");
	aws_cfn_events_free(&acc);

	/* Since our intent (2025-06-01T12:00Z): page 1 has all we need. */
	stop.since_ms = 1748779200000LL;
	ck_assert_int_eq(walk_events(&stop, &acc), 1);
	ck_assert_uint_eq(acc.n, 2);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_SINCE);
	ck_assert_str_eq(acc.items[1].status, "UPDATE_IN_PROGRESS");
	aws_cfn_events_free(&acc);

	/* Up to an event already seen (on page 2), which is not taken. */
	stop.since_ms = 0;
	stop.stop_id = "9f8e7d6c-3d2e-11f0-8a9b-0a1b2c3d4e5f";
	ck_assert_int_eq(walk_events(&stop, &acc), 2);
	ck_assert_uint_eq(acc.n, 4);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_STOP_ID);
	aws_cfn_events_free(&acc);

	/* Bounded: two, then exactly a page's worth (no page read for nothing). */
	stop.stop_id = NULL;
	stop.max = 2;
	ck_assert_int_eq(walk_events(&stop, &acc), 1);
	ck_assert_uint_eq(acc.n, 2);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_MAX);
	aws_cfn_events_free(&acc);
	stop.max = 3;
	ck_assert_int_eq(walk_events(&stop, &acc), 1);
	ck_assert_uint_eq(acc.n, 3);
	ck_assert_int_eq(acc.end, AWS_CFN_EVENTS_MAX);
	aws_cfn_events_free(&acc);
}
END_TEST

/* --- DescribeChangeSet ---------------------------------------------------- */

static void
parse_cs(const char *file, struct aws_cfn_change_set *out)
{
	xmlDoc	*doc = load(file);
	char	 err[256];

	ck_assert_msg(aws_cfn_parse_describe_change_set(result_of(doc,
	    "DescribeChangeSet"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_change_set)
{
	struct aws_cfn_change_set	 cs;
	const struct aws_cfn_change	*c;

	parse_cs("responses/cfn-DescribeChangeSet.xml", &cs);
	ck_assert_str_eq(cs.id, CS_ARN);
	ck_assert_str_eq(cs.name, CS);
	ck_assert_str_eq(cs.status, "CREATE_COMPLETE");
	ck_assert_str_eq(cs.execution_status, "AVAILABLE");
	ck_assert_uint_eq(cs.nchanges, 2);
	c = &cs.changes[0];
	ck_assert_str_eq(c->type, "Resource");
	ck_assert_str_eq(c->action, "Modify");
	ck_assert_str_eq(c->logical_id, "ClusterNodeLaunchConfig");
	ck_assert_str_eq(c->resource_type, "AWS::AutoScaling::LaunchConfiguration");
	ck_assert_str_eq(c->replacement, "False");
	ck_assert_uint_eq(c->scope, AWS_CFN_SCOPE_METADATA);
	ck_assert_uint_eq(c->ndetails, 2);
	ck_assert_str_eq(c->details[0].attribute, "Metadata");
	ck_assert_str_eq(c->details[0].recreation, "Never");
	ck_assert_str_eq(c->details[0].source, "DirectModification");
	ck_assert_str_eq(c->details[1].causing_entity, "BitbucketVersion");
	ck_assert_str_eq(c->details[1].evaluation, "Static");
	c = &cs.changes[1];
	ck_assert_str_eq(c->replacement, "Conditional");
	ck_assert_uint_eq(c->scope, AWS_CFN_SCOPE_PROPERTIES);
	ck_assert_str_eq(c->details[0].name, "LaunchConfigurationName");
	ck_assert_str_eq(c->details[0].recreation, "Conditionally");
	aws_cfn_change_set_free(&cs);

	parse_cs("answers/cfn-DescribeChangeSet-failed.xml", &cs);
	ck_assert_str_eq(cs.status, "FAILED");
	ck_assert_str_eq(cs.execution_status, "UNAVAILABLE");
	ck_assert_ptr_nonnull(strstr(cs.status_reason, "didn't contain changes"));
	ck_assert_uint_eq(cs.nchanges, 0);
	aws_cfn_change_set_free(&cs);
}
END_TEST

START_TEST(change_set_pages)
{
	struct aws_cfn_change_set	 acc, page;

	memset(&acc, 0, sizeof(acc));
	parse_cs("answers/cfn-DescribeChangeSet-1.xml", &page);
	ck_assert_int_eq(aws_cfn_change_set_take(&acc, &page), 1);
	ck_assert_str_eq(acc.next, "Q2hhbmdlU2V0UGFnZT0y");
	parse_cs("answers/cfn-DescribeChangeSet-2.xml", &page);
	ck_assert_int_eq(aws_cfn_change_set_take(&acc, &page), 0);
	ck_assert_ptr_null(page.changes);
	ck_assert_uint_eq(acc.nchanges, 3);
	/* The nested stack's own change set, to be described in turn. */
	ck_assert_str_eq(acc.changes[0].resource_type, "AWS::CloudFormation::Stack");
	ck_assert_ptr_nonnull(strstr(acc.changes[0].nested_id,
	    "changeSet/bbupgraded-42-1-BitbucketDCStack"));
	ck_assert_str_eq(acc.changes[0].details[0].causing_entity, "BitbucketVersion");
	ck_assert_str_eq(acc.changes[1].logical_id, "FileServer");
	ck_assert_str_eq(acc.changes[1].replacement, "True");
	ck_assert_uint_eq(acc.changes[1].scope, AWS_CFN_SCOPE_PROPERTIES |
	    AWS_CFN_SCOPE_TAGS | AWS_CFN_SCOPE_UNKNOWN);
	ck_assert_str_eq(acc.changes[2].action, "Add");
	ck_assert_str_eq(acc.changes[2].replacement, "");
	ck_assert_str_eq(acc.changes[2].physical_id, "");
	ck_assert_uint_eq(acc.changes[2].ndetails, 0);
	ck_assert_str_eq(acc.next, "");
	aws_cfn_change_set_free(&acc);
}
END_TEST

/* --- odd and hostile answers ---------------------------------------------- */

/* A Result element around body, parsed by parse; 0 or -1, err for inspection. */
static int
try_parse(const char *action, const char *body, char *err, size_t errlen)
{
	char		*xml;
	xmlDoc		*doc;
	int		 rc = 0;
	union {
		struct aws_cfn_stacks		 s;
		struct aws_cfn_events		 e;
		struct aws_cfn_change_set	 cs;
		struct aws_cfn_resource		 r;
		struct aws_cfn_template		 t;
	} *u;

	ck_assert_int_ge(asprintf(&xml, "<%sResponse><%sResult>%s</%sResult>"
	    "</%sResponse>", action, action, body, action, action), 0);
	doc = doc_of(xml, strlen(xml));
	ck_assert_ptr_nonnull(u = malloc(sizeof(*u)));
	if (strcmp(action, "DescribeStacks") == 0) {
		rc = aws_cfn_parse_describe_stacks(result_of(doc, action), &u->s, err,
		    errlen);
		aws_cfn_stacks_free(&u->s);
	} else if (strcmp(action, "DescribeStackEvents") == 0) {
		rc = aws_cfn_parse_describe_stack_events(result_of(doc, action), &u->e,
		    err, errlen);
		aws_cfn_events_free(&u->e);
	} else if (strcmp(action, "DescribeChangeSet") == 0) {
		rc = aws_cfn_parse_describe_change_set(result_of(doc, action), &u->cs,
		    err, errlen);
		aws_cfn_change_set_free(&u->cs);
	} else if (strcmp(action, "DescribeStackResource") == 0)
		rc = aws_cfn_parse_describe_stack_resource(result_of(doc, action),
		    &u->r, err, errlen);
	else {
		rc = aws_cfn_parse_get_template_summary(result_of(doc, action), &u->t,
		    err, errlen);
		aws_cfn_template_free(&u->t);
	}
	free(u);
	aws_xml_free(doc);
	free(xml);
	return rc;
}

#define STACK_OK(x)	"<Stacks><member><StackName>s</StackName>" \
			"<StackStatus>UPDATE_COMPLETE</StackStatus>" \
			"<CreationTime>2023-03-14T09:26:53Z</CreationTime>" x \
			"</member></Stacks>"

static const struct {
	const char	*action;
	const char	*body;
	const char	*why;		/* in the message; NULL: accepted */
} odd[] = {
	{ "DescribeStacks", "", "missing Stacks" },
	{ "DescribeStacks", "<Stacks/>", NULL },
	{ "DescribeStackEvents", "", "missing StackEvents" },
	{ "DescribeStacks", STACK_OK("<Unknown><a/></Unknown><Tags>x</Tags>"), NULL },
	{ "DescribeStacks", "<Stacks><member><StackName>s</StackName>"
	    "<CreationTime>2023-03-14T09:26:53Z</CreationTime></member></Stacks>",
	    "Stacks member 1: missing StackStatus" },
	{ "DescribeStacks", "<Stacks><member><StackName>s</StackName><StackStatus>"
	    "<b>UPDATE_COMPLETE</b></StackStatus></member></Stacks>",
	    "StackStatus is not a text element" },
	{ "DescribeStacks", "<Stacks><member><StackName></StackName></member>"
	    "</Stacks>", "empty StackName" },
	{ "DescribeStacks", STACK_OK("<LastUpdatedTime>yesterday</LastUpdatedTime>"),
	    "LastUpdatedTime is not an ISO 8601 time" },
	{ "DescribeStacks", STACK_OK("<DisableRollback>yes</DisableRollback>"),
	    "DisableRollback is not true or false" },
	{ "DescribeStacks", STACK_OK("<Parameters>secret</Parameters>"),
	    "Parameters is not a list" },
	{ "DescribeStacks", STACK_OK("<Parameters><member><ParameterValue>1"
	    "</ParameterValue></member></Parameters>"),
	    "Parameters member 1: missing ParameterKey" },
	{ "DescribeStacks", STACK_OK("<Capabilities><member><x/></member>"
	    "</Capabilities>"), "Capabilities has a member that is not text" },
	{ "DescribeStacks", "<Stacks><item/></Stacks>", "Stacks is not a list" },
	{ "DescribeStacks", "<Stacks>\n    <!-- none -->\n  </Stacks>", NULL },
	{ "DescribeStacks", "<Stacks> x </Stacks>", "Stacks is not a list" },
	{ "DescribeStackEvents", "<StackEvents><member><EventId>e</EventId>"
	    "</member></StackEvents>", "StackEvents member 1: missing Timestamp" },
	{ "DescribeStackEvents", "<StackEvents><member><Timestamp>2025-06-01T12:00:00Z"
	    "</Timestamp></member></StackEvents>", "missing EventId" },
	{ "DescribeStackEvents", "<StackEvents><member><EventId>e</EventId><Timestamp>"
	    "2025-06-01T12:00:00Z</Timestamp><ClientRequestToken>"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa</ClientRequestToken>"
	    "</member></StackEvents>", "ClientRequestToken longer than 128 bytes" },
	{ "DescribeChangeSet", "<ExecutionStatus>AVAILABLE</ExecutionStatus>",
	    "missing Status" },
	{ "DescribeChangeSet", "<Status>CREATE_COMPLETE</Status><ExecutionStatus>"
	    "AVAILABLE</ExecutionStatus><Changes><member><Type>Resource</Type>"
	    "</member></Changes>", "Changes member 1: missing ResourceChange" },
	{ "DescribeChangeSet", "<Status>CREATE_COMPLETE</Status><ExecutionStatus>"
	    "AVAILABLE</ExecutionStatus><Changes><member><Type>Resource</Type>"
	    "<ResourceChange><Action>Modify</Action><LogicalResourceId>X"
	    "</LogicalResourceId></ResourceChange></member></Changes>",
	    "ResourceChange: missing ResourceType" },
	{ "DescribeChangeSet", "<Status>CREATE_COMPLETE</Status><ExecutionStatus>"
	    "AVAILABLE</ExecutionStatus><Changes><member><Type>Hook</Type>"
	    "</member></Changes>", NULL },
	{ "DescribeStackResource", "", "missing StackResourceDetail" },
	{ "DescribeStackResource", "<StackResourceDetail><LogicalResourceId>X"
	    "</LogicalResourceId><ResourceType>T</ResourceType><ResourceStatus>S"
	    "</ResourceStatus></StackResourceDetail>",
	    "StackResourceDetail: missing LastUpdatedTimestamp" },
	{ "GetTemplateSummary", "<Parameters><member><NoEcho>1</NoEcho></member>"
	    "</Parameters>", "Parameters member 1: missing ParameterKey" },
	{ "GetTemplateSummary", "<Parameters><member><ParameterKey>K</ParameterKey>"
	    "<NoEcho>1</NoEcho></member></Parameters>", "NoEcho is not true or false" },
};

START_TEST(odd_answers)
{
	char	 err[512] = "";
	int	 rc;

	rc = try_parse(odd[_i].action, odd[_i].body, err, sizeof(err));
	if (odd[_i].why == NULL)
		ck_assert_msg(rc == 0, "refused: %s", err);
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, odd[_i].why) != NULL, "\"%s\" lacks \"%s\"",
		    err, odd[_i].why);
	}
}
END_TEST

/* n copies of item between open and close, in a DescribeStacks-like body. */
static char *
repeat(const char *open, const char *item, size_t n, const char *close)
{
	size_t	 ilen = strlen(item), olen = strlen(open), i;
	char	*s, *p;

	ck_assert_ptr_nonnull(s = malloc(olen + n * ilen + strlen(close) + 1));
	memcpy(s, open, olen);
	for (i = 0, p = s + olen; i < n; i++, p += ilen)
		memcpy(p, item, ilen);
	strcpy(p, close);
	return s;
}

START_TEST(hostile_answers)
{
	struct aws_cfn_stacks	 s;
	char			 err[512], *body, *big;
	xmlDoc			*doc;

	/* Counts over the bounds are refused, not truncated. */
	body = repeat("<Stacks><member><StackName>s</StackName><StackStatus>X"
	    "</StackStatus><CreationTime>2023-03-14T09:26:53Z</CreationTime>"
	    "<Parameters>", "<member><ParameterKey>K</ParameterKey></member>",
	    AWS_CFN_MAX_PARAMS + 1, "</Parameters></member></Stacks>");
	ck_assert_int_eq(try_parse("DescribeStacks", body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 200"));
	free(body);
	body = repeat("<StackEvents>", "<member><EventId>e</EventId><Timestamp>"
	    "2025-06-01T12:00:00Z</Timestamp></member>", AWS_CFN_MAX_EVENTS + 1,
	    "</StackEvents>");
	ck_assert_int_eq(try_parse("DescribeStackEvents", body, err, sizeof(err)), -1);
	free(body);
	body = repeat("<Status>S</Status><ExecutionStatus>E</ExecutionStatus><Changes>"
	    "<member><Type>Resource</Type><ResourceChange><Action>A</Action>"
	    "<LogicalResourceId>L</LogicalResourceId><ResourceType>T</ResourceType>"
	    "<Details>", "<member/>", AWS_CFN_MAX_DETAILS + 1,
	    "</Details></ResourceChange></member></Changes>");
	ck_assert_int_eq(try_parse("DescribeChangeSet", body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Details has more than"));
	free(body);

	/* A token too long for a page, a value too long for a parameter. */
	big = repeat("", "A", AWS_NEXT_MAX + 1, "");
	ck_assert_int_ge(asprintf(&body, "<Stacks/><NextToken>%s</NextToken>", big),
	    0);
	ck_assert_int_eq(try_parse("DescribeStacks", body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NextToken longer than"));
	free(body);
	free(big);
	big = repeat("", "v", AWS_CFN_VALUE_MAX + 1, "");
	ck_assert_int_ge(asprintf(&body, STACK_OK("<Parameters><member><ParameterKey>"
	    "K</ParameterKey><ParameterValue>%s</ParameterValue></member>"
	    "</Parameters>"), big), 0);
	ck_assert_int_eq(try_parse("DescribeStacks", body, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ParameterValue longer than 4096"));
	free(body);
	free(big);

	/* A reason too long is cut, at a character boundary, and accepted. */
	big = repeat("", "\xc3\xa9", AWS_TEXT_MAX, "");
	ck_assert_int_ge(asprintf(&body, "<DescribeStacksResponse>"
	    "<DescribeStacksResult>"
	    STACK_OK("<StackStatusReason>%s</StackStatusReason>")
	    "</DescribeStacksResult></DescribeStacksResponse>", big), 0);
	doc = doc_of(body, strlen(body));
	ck_assert_int_eq(aws_cfn_parse_describe_stacks(result_of(doc,
	    "DescribeStacks"), &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(s.items[0].reason), AWS_TEXT_MAX - 1);
	aws_cfn_stacks_free(&s);
	aws_xml_free(doc);
	free(body);
	free(big);
}
END_TEST

/* --- operations, over a fake transport ------------------------------------ */

static struct {
	aws_cb		 cb;		/* the pending call */
	void		*arg;
	int		 calls;
	int		 refused;	/* queries that failed to build */
	int		 cancels;
	char		*bodies[8];
} fake;

static struct {
	int		 n;
	enum aws_errclass errclass;
	char		 code[AWS_ERR_CODE_MAX + 1];
	char		 detail[512];
	size_t		 count;		/* events, changes... */
	char		 first[AWS_CFN_EVENT_ID_MAX + 1];
} seen;

static struct aws_call *
fake_call(struct aws_client *client, struct aws_query *q, uint32_t deadline,
    aws_cb cb, void *arg)
{
	char	*body = NULL;
	size_t	 len;

	ck_assert_ptr_null(fake.cb);		/* one at a time */
	if (aws_query_encode(q, &body, &len) == -1)
		fake.refused++;
	if (fake.calls < (int)nitems(fake.bodies))
		fake.bodies[fake.calls] = body;
	else
		free(body);
	fake.calls++;
	aws_query_free(q);
	fake.cb = cb;
	fake.arg = arg;
	return (struct aws_call *)&fake;
}

static void
fake_cancel(struct aws_call *call)
{
	ck_assert_ptr_eq(call, (void *)&fake);
	fake.cancels++;
}

static void
fake_setup(void)
{
	size_t	 i;

	aws_xml_init();
	for (i = 0; i < nitems(fake.bodies); i++)
		free(fake.bodies[i]);
	memset(&fake, 0, sizeof(fake));
	memset(&seen, 0, sizeof(seen));
	aws_op_set_transport(fake_call, fake_cancel);
}

static void
fake_teardown(void)
{
	size_t	 i;

	aws_op_set_transport(NULL, NULL);
	for (i = 0; i < nitems(fake.bodies); i++)
		free(fake.bodies[i]);
	memset(&fake, 0, sizeof(fake));
	aws_xml_shutdown();
}

/* Answers the pending call with doc (an answer to action). */
static void
answer_doc(xmlDoc *doc, const char *action)
{
	struct aws_result	 r;
	aws_cb			 cb = fake.cb;

	ck_assert_ptr_nonnull(cb);
	fake.cb = NULL;
	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.result = result_of(doc, action);
	r.attempts = 1;
	cb(&r, fake.arg);
	aws_xml_free(doc);
}

static void
answer(const char *file, const char *action)
{
	answer_doc(load(file), action);
}

static void
answer_str(const char *xml, const char *action)
{
	answer_doc(doc_of(xml, strlen(xml)), action);
}

static void
answer_error(enum aws_errclass c, const char *code)
{
	struct aws_result	 r;
	aws_cb			 cb = fake.cb;

	ck_assert_ptr_nonnull(cb);
	fake.cb = NULL;
	memset(&r, 0, sizeof(r));
	r.errclass = c;
	r.error.status = 400;
	snprintf(r.error.code, sizeof(r.error.code), "%s", code);
	r.detail = "from the fake";
	cb(&r, fake.arg);
}

static void
see(const struct aws_result *r)
{
	seen.n++;
	seen.errclass = r->errclass;
	snprintf(seen.code, sizeof(seen.code), "%s", r->error.code);
	snprintf(seen.detail, sizeof(seen.detail), "%s", r->detail ? r->detail : "");
}

static void
events_cb(const struct aws_result *r, const struct aws_cfn_events *e, void *arg)
{
	see(r);
	ck_assert_ptr_eq(arg, &seen);
	ck_assert((r->errclass == AWS_ERRCLASS_OK) == (e != NULL));
	if (e != NULL) {
		seen.count = e->n;
		if (e->n > 0)
			snprintf(seen.first, sizeof(seen.first), "%s", e->items[0].id);
	}
}

static void
stacks_cb(const struct aws_result *r, const struct aws_cfn_stacks *s, void *arg)
{
	see(r);
	ck_assert((r->errclass == AWS_ERRCLASS_OK) == (s != NULL));
	if (s != NULL)
		seen.count = s->n;
}

static void
cs_cb(const struct aws_result *r, const struct aws_cfn_change_set *cs, void *arg)
{
	see(r);
	if (cs != NULL)
		seen.count = cs->nchanges;
}

static void
plain_cb(const struct aws_result *r, void *arg)
{
	see(r);
}

START_TEST(op_events_follow_pages)
{
	struct aws_cfn_events_stop	 stop = { 0, NULL, 0 };
	struct aws_op			*op;

	op = aws_cfn_describe_stack_events((struct aws_client *)&seen, STACK, &stop,
	    events_cb, &seen);
	ck_assert_ptr_nonnull(op);
	answer(event_pages[0], "DescribeStackEvents");
	answer(event_pages[1], "DescribeStackEvents");
	ck_assert_int_eq(seen.n, 0);
	answer(event_pages[2], "DescribeStackEvents");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OK);
	ck_assert_uint_eq(seen.count, 6);
	ck_assert_int_eq(fake.calls, 3);
	ck_assert_str_eq(fake.bodies[0],
	    "Action=DescribeStackEvents&Version=2010-05-15&StackName=bbdc");
	ck_assert_str_eq(fake.bodies[1], "Action=DescribeStackEvents&Version=2010-05-15"
	    "&StackName=bbdc&NextToken=AAEAAbq9%2Fw%2BxYz3Q0Kf1mE%3D%3D");
	ck_assert_str_eq(fake.bodies[2], "Action=DescribeStackEvents&Version=2010-05-15"
	    "&StackName=bbdc&NextToken=QVFJREFIaU5hbWU9Mg%3D%3D");
}
END_TEST

START_TEST(op_events_stop_early)
{
	struct aws_cfn_events_stop	 stop = { 1748779200000LL, NULL, 0 };

	ck_assert_ptr_nonnull(aws_cfn_describe_stack_events((struct aws_client *)&seen,
	    STACK, &stop, events_cb, &seen));
	answer(event_pages[0], "DescribeStackEvents");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(fake.calls, 1);
	ck_assert_uint_eq(seen.count, 2);
	ck_assert_str_eq(seen.first,
	    "ClusterNodeGroup-UPDATE_FAILED-2025-06-01T12:31:07.118Z");
}
END_TEST

START_TEST(op_change_set_pages)
{
	ck_assert_ptr_nonnull(aws_cfn_describe_change_set((struct aws_client *)&seen,
	    CS, STACK, cs_cb, &seen));
	answer("answers/cfn-DescribeChangeSet-1.xml", "DescribeChangeSet");
	answer("answers/cfn-DescribeChangeSet-2.xml", "DescribeChangeSet");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_uint_eq(seen.count, 3);
	ck_assert_ptr_nonnull(strstr(fake.bodies[1],
	    "&NextToken=Q2hhbmdlU2V0UGFnZT0y"));
}
END_TEST

START_TEST(op_errors)
{
	/* AWS's error goes through as it came, without a typed result. */
	ck_assert_ptr_nonnull(aws_cfn_describe_stacks((struct aws_client *)&seen,
	    STACK, stacks_cb, &seen));
	answer_error(AWS_ERRCLASS_VALIDATION, "ValidationError");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_VALIDATION);
	ck_assert_str_eq(seen.code, "ValidationError");
	ck_assert_str_eq(seen.detail, "from the fake");

	/* A malformed answer is an error naming the call and the field. */
	ck_assert_ptr_nonnull(aws_cfn_describe_stacks((struct aws_client *)&seen,
	    STACK, stacks_cb, &seen));
	answer_str("<DescribeStacksResponse><DescribeStacksResult><Stacks><member>"
	    "<StackName>s</StackName></member></Stacks></DescribeStacksResult>"
	    "</DescribeStacksResponse>", "DescribeStacks");
	ck_assert_int_eq(seen.n, 2);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OTHER);
	ck_assert_str_eq(seen.code, "");
	ck_assert_str_eq(seen.detail, "DescribeStacks: malformed answer: "
	    "Stacks member 1: missing StackStatus");
	ck_assert_ptr_nonnull(aws_cfn_describe_change_set((struct aws_client *)&seen,
	    CS, STACK, cs_cb, &seen));
	answer("answers/cfn-CreateChangeSet.xml", "CreateChangeSet");
	ck_assert_int_eq(seen.n, 3);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OTHER);
	ck_assert_str_eq(seen.detail,
	    "DescribeChangeSet: malformed answer: missing Status");
}
END_TEST

START_TEST(op_refused_and_repeated_token)
{
	/* A refused request goes to the client, which refuses it; we say why. */
	ck_assert_ptr_nonnull(aws_cfn_execute_change_set((struct aws_client *)&seen,
	    CS, STACK, "not a token", plain_cb, &seen));
	ck_assert_int_eq(fake.refused, 1);
	answer_error(AWS_ERRCLASS_OTHER, "");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.detail, "ExecuteChangeSet: " AWS_OP_REFUSED);

	/* A NextToken that comes back again would loop forever. */
	ck_assert_ptr_nonnull(aws_cfn_describe_stack_events((struct aws_client *)&seen,
	    STACK, NULL, events_cb, &seen));
	answer(event_pages[0], "DescribeStackEvents");
	answer(event_pages[0], "DescribeStackEvents");
	ck_assert_int_eq(seen.n, 2);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OTHER);
	ck_assert_str_eq(seen.detail,
	    "DescribeStackEvents: NextToken empty or repeated");

	/* No callback, no operation: nothing leaks. */
	ck_assert_ptr_null(aws_cfn_describe_stacks((struct aws_client *)&seen, STACK,
	    NULL, NULL));
	ck_assert_ptr_null(fake.cb);
}
END_TEST

START_TEST(op_cancel)
{
	struct aws_op	*op;

	op = aws_cfn_describe_stack_events((struct aws_client *)&seen, STACK, NULL,
	    events_cb, &seen);
	answer(event_pages[0], "DescribeStackEvents");
	aws_op_cancel(op);
	aws_op_cancel(op);
	ck_assert_int_eq(fake.cancels, 1);
	ck_assert_int_eq(seen.n, 0);
	answer_error(AWS_ERRCLASS_OTHER, "Cancelled");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.code, "Cancelled");

	/* An answer that raced the cancellation is cancelled all the same. */
	op = aws_cfn_execute_change_set((struct aws_client *)&seen, CS, STACK,
	    "bbupgraded-42-1-exec", plain_cb, &seen);
	aws_op_cancel(op);
	answer("answers/cfn-ExecuteChangeSet.xml", "ExecuteChangeSet");
	ck_assert_int_eq(seen.n, 2);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OTHER);
	ck_assert_str_eq(seen.code, "Cancelled");
}
END_TEST

START_TEST(op_plain)
{
	ck_assert_ptr_nonnull(aws_cfn_delete_change_set((struct aws_client *)&seen,
	    CS, STACK, plain_cb, &seen));
	answer("answers/cfn-ExecuteChangeSet.xml", "ExecuteChangeSet");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OK);
	ck_assert_str_eq(fake.bodies[0], "Action=DeleteChangeSet&Version=2010-05-15"
	    "&ChangeSetName=bbupgraded-42-1&StackName=bbdc");
	/* Without a client and the real transport, nothing could end it: refused. */
	aws_op_set_transport(NULL, NULL);
	ck_assert_ptr_null(aws_cfn_delete_change_set(NULL, CS, STACK, plain_cb, &seen));
}
END_TEST

/* --- parse_util.c's pieces, directly -------------------------------------- */

START_TEST(util_pieces)
{
	int		 a[3] = { 1, 2, 3 }, *p;
	char		 buf[4], err[64];
	unsigned	 flags;
	xmlDoc		*doc;
	char		*xml;
	size_t		 i;

	ck_assert_ptr_null(aws_append_array(NULL, 0, a, 3, sizeof(int), 2));
	ck_assert_ptr_nonnull(p = aws_append_array(NULL, 0, a, 2, sizeof(int), 3));
	ck_assert_ptr_nonnull(p = aws_append_array(p, 2, a + 2, 1, sizeof(int), 3));
	ck_assert_int_eq(p[2], 3);
	ck_assert_ptr_null(aws_append_array(p, 3, a, 1, sizeof(int), 3));
	free(p);

	aws_copy_cut(buf, sizeof(buf), "ab\xc3\xa9");	/* "abé" needs 5 bytes */
	ck_assert_str_eq(buf, "ab");
	aws_copy_cut(buf, sizeof(buf), "abc");
	ck_assert_str_eq(buf, "abc");

	snprintf(err, sizeof(err), "missing X");
	ck_assert_int_eq(aws_perr_in(err, sizeof(err), "member %d", 2), -1);
	ck_assert_str_eq(err, "member 2: missing X");

	/* A set of names has at most 32: more is not a set we can hold. */
	ck_assert_ptr_nonnull(xml = malloc(64 + 33 * 20));
	strcpy(xml, "<R><Capabilities>");
	for (i = 0; i < 33; i++)
		strcat(xml, "<member>A</member>");
	strcat(xml, "</Capabilities></R>");
	doc = doc_of(xml, strlen(xml));
	ck_assert_int_eq(aws_get_flags(xmlDocGetRootElement(doc), "Capabilities",
	    NULL, 0, 1, &flags, err, sizeof(err)), -1);
	aws_xml_free(doc);
	free(xml);
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
aws_cfn_suite(void)
{
	Suite	*s = suite_create("aws_cfn");
	TCase	*tc;

	tc = tcase_create("builders");
	tcase_add_loop_test(tc, builder_matches_botocore, 0, (int)nitems(bodies));
	tcase_add_test(tc, builders_refuse);
	tcase_add_test(tc, capability_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, describe_stacks);
	tcase_add_test(tc, describe_stacks_nested);
	tcase_add_test(tc, change_set_params);
	tcase_add_test(tc, describe_stack_resources);
	tcase_add_test(tc, template_summary_and_create);
	tcase_add_test(tc, describe_stack_events);
	tcase_add_test(tc, stack_events_walks);
	tcase_add_test(tc, describe_change_set);
	tcase_add_test(tc, change_set_pages);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, hostile_answers);
	tcase_add_test(tc, util_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("operations");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_add_test(tc, op_events_follow_pages);
	tcase_add_test(tc, op_events_stop_early);
	tcase_add_test(tc, op_change_set_pages);
	tcase_add_test(tc, op_errors);
	tcase_add_test(tc, op_refused_and_repeated_token);
	tcase_add_test(tc, op_cancel);
	tcase_add_test(tc, op_plain);
	suite_add_tcase(s, tc);
	return s;
}
