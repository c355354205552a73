/*
 * bbsim's wire module: the form reader on hostile input, the Query and EC2 list
 * shapes, XML escaping, request ids, the error catalogue, and every envelope compared
 * byte for byte with the real AWS responses quoted in aws-errors.md (the 289-byte
 * CloudFormation one, the 297-byte STS one, EC2's two).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/server.h"
#include "sim/wire.h"
#include "tests/suites_decl.h"

#define CFN_NS	"http://cloudformation.amazonaws.com/doc/2010-05-15/"
#define STS_NS	"https://sts.amazonaws.com/doc/2011-06-15/"

static struct sim_form	 f;

static void
form_setup(void)
{
	sim_form_init(&f, 0);
}

static void
form_teardown(void)
{
	sim_form_free(&f);
}

static int
parse(const char *s)
{
	return sim_form_parse(&f, s, strlen(s));
}

static const char *
header(const struct sim_resp *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

/* ---- form ---- */

START_TEST(form_basic)
{
	ck_assert_int_eq(parse("Action=GetCallerIdentity&Version=2011-06-15"), 0);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(sim_form_get(&f, "Action"), "GetCallerIdentity");
	ck_assert_str_eq(sim_form_get(&f, "Version"), "2011-06-15");
	ck_assert_ptr_null(sim_form_get(&f, "action"));	/* names are exact */
	ck_assert_int_eq(sim_form_check_unused(&f), 0);
}
END_TEST

START_TEST(form_decoding)
{
	ck_assert_int_eq(parse("a=%41%62+c%2B%2b&b=&c&d=x=y&e=%E2%82%AC"), 0);
	ck_assert_str_eq(sim_form_get(&f, "a"), "Ab c++");
	ck_assert_str_eq(sim_form_get(&f, "b"), "");
	ck_assert_str_eq(sim_form_get(&f, "c"), "");
	ck_assert_str_eq(sim_form_get(&f, "d"), "x=y");
	ck_assert_str_eq(sim_form_get(&f, "e"), "\xe2\x82\xac");
	sim_form_free(&f);
	/* Names are decoded too; empty segments are nothing. */
	ck_assert_int_eq(parse("&&Tags.member.1%2EKey=k&"), 0);
	ck_assert_str_eq(sim_form_get(&f, "Tags.member.1.Key"), "k");
	ck_assert_uint_eq(f.n, 1);
	sim_form_free(&f);
	ck_assert_int_eq(sim_form_parse(&f, NULL, 0), 0);
	ck_assert_int_eq(parse(""), 0);
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

static const struct {
	const char		*in;
	enum sim_form_err	 err;
} hostile[] = {
	{ "a=%", SIM_FORM_ESYNTAX },
	{ "a=%4", SIM_FORM_ESYNTAX },
	{ "a=%zz", SIM_FORM_ESYNTAX },
	{ "a=%4g", SIM_FORM_ESYNTAX },
	{ "a=%00", SIM_FORM_ESYNTAX },		/* a C string cannot carry it */
	{ "a=x%0Ay", SIM_FORM_OK },		/* LF is text */
	{ "a=x\ny", SIM_FORM_ESYNTAX },		/* a raw control byte is not */
	{ "a=\x7f", SIM_FORM_ESYNTAX },
	{ "a=%C3%28", SIM_FORM_ESYNTAX },	/* bad continuation */
	{ "a=%C0%AF", SIM_FORM_ESYNTAX },	/* overlong '/' */
	{ "a=%E0%80%AF", SIM_FORM_ESYNTAX },	/* overlong, 3 bytes */
	{ "a=%ED%A0%80", SIM_FORM_ESYNTAX },	/* a surrogate */
	{ "a=%F4%90%80%80", SIM_FORM_ESYNTAX },	/* above U+10FFFF */
	{ "a=%E2%82", SIM_FORM_ESYNTAX },	/* truncated */
	{ "a=%FF", SIM_FORM_ESYNTAX },
	{ "a=\xc3\xa9", SIM_FORM_OK },		/* raw UTF-8 is taken */
	{ "a=%F0%9F%98%80", SIM_FORM_OK },	/* U+1F600 */
	{ "%=1", SIM_FORM_ESYNTAX },
	{ "=1", SIM_FORM_EEMPTY },
	{ "a=1&=2", SIM_FORM_EEMPTY },
	{ "a=1&a=2", SIM_FORM_EDUP },
	{ "a=1&%61=2", SIM_FORM_EDUP },		/* the same name once decoded */
};

START_TEST(form_hostile)
{
	const char	*in = hostile[_i].in;

	ck_assert_int_eq(parse(in), hostile[_i].err == SIM_FORM_OK ? 0 : -1);
	ck_assert_msg(f.err == hostile[_i].err, "%s: err %d, want %d", in, f.err,
	    hostile[_i].err);
}
END_TEST

START_TEST(form_binary_and_limits)
{
	static const char	 nul[] = "a=1\0b=2";
	char			*big;
	size_t			 i, len = 0;

	ck_assert_int_eq(sim_form_parse(&f, nul, sizeof(nul) - 1), -1);
	ck_assert_int_eq(f.err, SIM_FORM_ESYNTAX);
	sim_form_free(&f);
	big = malloc((SIM_FORM_MAX_PARAMS + 1) * 8);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i <= SIM_FORM_MAX_PARAMS; i++)
		len += (size_t)sprintf(big + len, "%s%zx=", i ? "&" : "", i);
	ck_assert_int_eq(sim_form_parse(&f, big, len), -1);
	ck_assert_int_eq(f.err, SIM_FORM_ETOOMANY);
	free(big);
}
END_TEST

START_TEST(form_duplicates)
{
	ck_assert_int_eq(parse("Action=A&Version=1&Action=B"), -1);
	ck_assert_int_eq(f.err, SIM_FORM_EDUP);
	ck_assert_str_eq(f.errparam, "Action");
	sim_form_free(&f);
	/* What real STS does: the first value wins. */
	sim_form_init(&f, SIM_FORM_FIRST_WINS);
	ck_assert_int_eq(parse("Action=A&Version=1&Action=B"), 0);
	ck_assert_str_eq(sim_form_get(&f, "Action"), "A");
	ck_assert_uint_eq(f.n, 2);
}
END_TEST

START_TEST(form_unused)
{
	ck_assert_int_eq(parse("Action=A&Unknown=1"), 0);
	sim_form_get(&f, "Action");
	ck_assert_int_eq(sim_form_check_unused(&f), -1);
	ck_assert_int_eq(f.err, SIM_FORM_EUNKNOWN);
	ck_assert_str_eq(f.errparam, "Unknown");
}
END_TEST

/* ---- list shapes ---- */

START_TEST(list_query)
{
	size_t	 n;

	ck_assert_int_eq(parse("Names.member.1=a&Names.member.2=b&Other=x"), 0);
	ck_assert_int_eq(sim_form_list(&f, "Names", SIM_LIST_QUERY, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sim_form_item(&f, "Names", SIM_LIST_QUERY, 1, NULL), "a");
	ck_assert_str_eq(sim_form_item(&f, "Names", SIM_LIST_QUERY, 2, NULL), "b");
	ck_assert_ptr_null(sim_form_item(&f, "Names", SIM_LIST_QUERY, 3, NULL));
	ck_assert_int_eq(sim_form_list(&f, "Absent", SIM_LIST_QUERY, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* "Name" is not under "Names", nor "NamesX" under "Names". */
	ck_assert_int_eq(sim_form_list(&f, "Name", SIM_LIST_QUERY, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(list_query_empty_and_structs)
{
	size_t	 n;

	/* botocore sends an empty Query list as "Name=". */
	ck_assert_int_eq(parse("Names=&Parameters.member.1.ParameterKey=K"
	    "&Parameters.member.1.UsePreviousValue=true"
	    "&Parameters.member.2.ParameterKey=L"), 0);
	ck_assert_int_eq(sim_form_list(&f, "Names", SIM_LIST_QUERY, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sim_form_list(&f, "Parameters", SIM_LIST_QUERY, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sim_form_item(&f, "Parameters", SIM_LIST_QUERY, 1,
	    "ParameterKey"), "K");
	ck_assert_str_eq(sim_form_item(&f, "Parameters", SIM_LIST_QUERY, 1,
	    "UsePreviousValue"), "true");
	ck_assert_str_eq(sim_form_item(&f, "Parameters", SIM_LIST_QUERY, 2,
	    "ParameterKey"), "L");
	ck_assert_int_eq(sim_form_check_unused(&f), 0);
}
END_TEST

START_TEST(list_ec2)
{
	char	 name[64];
	size_t	 n;

	ck_assert_int_eq(parse("InstanceId.1=i-1&InstanceId.2=i-2"
	    "&Filter.1.Name=tag:Name&Filter.1.Value.1=x&Filter.1.Value.2=y"), 0);
	ck_assert_int_eq(sim_form_list(&f, "InstanceId", SIM_LIST_EC2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sim_form_item(&f, "InstanceId", SIM_LIST_EC2, 2, NULL),
	    "i-2");
	ck_assert_int_eq(sim_form_list(&f, "Filter", SIM_LIST_EC2, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(sim_form_item_name(name, sizeof(name), "Filter",
	    SIM_LIST_EC2, 1, "Value"), 0);
	ck_assert_str_eq(name, "Filter.1.Value");
	ck_assert_int_eq(sim_form_list(&f, name, SIM_LIST_EC2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(sim_form_item_name(name, 4, "Filter", SIM_LIST_EC2, 1,
	    "Value"), -1);
}
END_TEST

static const struct {
	const char	*in;
	const char	*name;
	enum sim_list	 style;
	const char	*bad;		/* the parameter blamed */
} misshapen[] = {
	/* A Query list sent as EC2 does, and the other way round. */
	{ "Names.1=a", "Names", SIM_LIST_QUERY, "Names.1" },
	{ "InstanceId.member.1=i-1", "InstanceId", SIM_LIST_EC2,
	    "InstanceId.member.1" },
	{ "Names=a", "Names", SIM_LIST_QUERY, "Names" },	/* a scalar */
	{ "InstanceId=i-1", "InstanceId", SIM_LIST_EC2, "InstanceId" },
	{ "InstanceId=", "InstanceId", SIM_LIST_EC2, "InstanceId" },
	{ "Names.member.0=a", "Names", SIM_LIST_QUERY, "Names.member.0" },
	{ "Names.member.01=a", "Names", SIM_LIST_QUERY, "Names.member.01" },
	{ "Names.member.x=a", "Names", SIM_LIST_QUERY, "Names.member.x" },
	{ "Names.member.=a", "Names", SIM_LIST_QUERY, "Names.member." },
	{ "Names.member=a", "Names", SIM_LIST_QUERY, "Names.member" },
	{ "Names.member.1.=a", "Names", SIM_LIST_QUERY, "Names.member.1." },
	{ "Names.member.1001=a", "Names", SIM_LIST_QUERY, "Names.member.1001" },
	{ "Names.member.99999999999999999999999=a", "Names", SIM_LIST_QUERY,
	    "Names.member.99999999999999999999999" },
	{ "Names.member.-1=a", "Names", SIM_LIST_QUERY, "Names.member.-1" },
	{ "Names.entry.1.key=a", "Names", SIM_LIST_QUERY, "Names.entry.1.key" },
	{ "Names.member.1=a&Names.member.3=c", "Names", SIM_LIST_QUERY, "Names" },
	{ "InstanceId.2=i-2", "InstanceId", SIM_LIST_EC2, "InstanceId" },
};

START_TEST(list_misshapen)
{
	size_t	 n = 99;

	ck_assert_int_eq(parse(misshapen[_i].in), 0);
	ck_assert_int_eq(sim_form_list(&f, misshapen[_i].name, misshapen[_i].style,
	    &n), -1);
	ck_assert_int_eq(f.err, SIM_FORM_ESHAPE);
	ck_assert_str_eq(f.errparam, misshapen[_i].bad);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* ---- XML ---- */

START_TEST(xml_escaping)
{
	struct sim_buf	 b;

	memset(&b, 0, sizeof(b));
	sim_buf_xml_escape(&b, "a&b<c>d\"e'f\rg\x01h\ti\nj&amp;");
	ck_assert_str_eq(b.s,
	    "a&amp;b&lt;c&gt;d\"e'f&#13;g\xef\xbf\xbdh\ti\nj&amp;amp;");
	sim_buf_free(&b);
	sim_buf_xml_escape(&b, "");
	ck_assert_ptr_nonnull(b.s);
	ck_assert_str_eq(b.s, "");
	sim_buf_free(&b);
}
END_TEST

START_TEST(xml_writer)
{
	struct sim_xml	 x;

	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeStacks", CFN_NS, 1);
	sim_xml_open(&x, "Stacks", NULL);
	sim_xml_open(&x, "member", NULL);
	sim_xml_text(&x, "StackName", "a<b");
	sim_xml_textf(&x, "Count", "%d", 3);
	sim_xml_empty(&x, "Tags");
	sim_xml_close(&x, "member");
	sim_xml_close(&x, "Stacks");
	sim_xml_query_end(&x, "DescribeStacks", "r-1", 1);
	ck_assert_str_eq(x.b.s,
	    "<DescribeStacksResponse xmlns=\"" CFN_NS "\">\n"
	    "  <DescribeStacksResult>\n"
	    "    <Stacks>\n"
	    "      <member>\n"
	    "        <StackName>a&lt;b</StackName>\n"
	    "        <Count>3</Count>\n"
	    "        <Tags/>\n"
	    "      </member>\n"
	    "    </Stacks>\n"
	    "  </DescribeStacksResult>\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>r-1</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</DescribeStacksResponse>\n");
	sim_xml_free(&x);
	/* An operation without a result wrapper. */
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "SetDesiredCapacity", "ns", 0);
	sim_xml_query_end(&x, "SetDesiredCapacity", "r-2", 0);
	ck_assert_str_eq(x.b.s,
	    "<SetDesiredCapacityResponse xmlns=\"ns\">\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>r-2</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</SetDesiredCapacityResponse>\n");
	sim_xml_free(&x);
}
END_TEST

/* STS's answer as real STS formats it (element order Arn, UserId, Account). */
START_TEST(xml_query_success)
{
	struct sim_resp	 r;
	struct sim_xml	 x;

	memset(&r, 0, sizeof(r));
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "GetCallerIdentity", STS_NS, 1);
	sim_xml_text(&x, "Arn", "arn:aws:iam::123456789012:user/bbsim");
	sim_xml_text(&x, "UserId", "AIDAEXAMPLE");
	sim_xml_text(&x, "Account", "123456789012");
	sim_xml_query_end(&x, "GetCallerIdentity", "01234567-89ab-4def-8123-456789abcdef",
	    1);
	ck_assert_int_eq(sim_wire_query_ok(&r, &x, "01234567-89ab-4def-8123-456789abcdef"),
	    0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body,
	    "<GetCallerIdentityResponse xmlns=\"" STS_NS "\">\n"
	    "  <GetCallerIdentityResult>\n"
	    "    <Arn>arn:aws:iam::123456789012:user/bbsim</Arn>\n"
	    "    <UserId>AIDAEXAMPLE</UserId>\n"
	    "    <Account>123456789012</Account>\n"
	    "  </GetCallerIdentityResult>\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>01234567-89ab-4def-8123-456789abcdef</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</GetCallerIdentityResponse>\n");
	ck_assert_str_eq(header(&r, "Content-Type"), "text/xml");
	ck_assert_str_eq(header(&r, "x-amzn-RequestId"),
	    "01234567-89ab-4def-8123-456789abcdef");
	ck_assert_int_eq(r.chunked, 0);
	sim_resp_free(&r);
}
END_TEST

/* EC2's success layout, as in the DescribeImages answer of test-kitchen/kitchen-ec2#440. */
START_TEST(xml_ec2_success)
{
	struct sim_resp	 r;
	struct sim_xml	 x;

	memset(&r, 0, sizeof(r));
	sim_xml_init(&x, SIM_XML_EC2_INDENT);
	sim_xml_ec2_begin(&x, "DescribeImages", "http://ec2.amazonaws.com/doc/2016-11-15/",
	    "c8fda463-4a8b-4569-85ea-341bf7bf8a8a");
	sim_xml_open(&x, "imagesSet", NULL);
	sim_xml_open(&x, "item", NULL);
	sim_xml_text(&x, "imageId", "ami-192a9460");
	sim_xml_close(&x, "item");
	sim_xml_close(&x, "imagesSet");
	sim_xml_ec2_end(&x, "DescribeImages");
	ck_assert_int_eq(sim_wire_ec2_ok(&r, &x, "c8fda463-4a8b-4569-85ea-341bf7bf8a8a"),
	    0);
	ck_assert_str_eq(r.body,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeImagesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	    "    <requestId>c8fda463-4a8b-4569-85ea-341bf7bf8a8a</requestId>\n"
	    "    <imagesSet>\n"
	    "        <item>\n"
	    "            <imageId>ami-192a9460</imageId>\n"
	    "        </item>\n"
	    "    </imagesSet>\n"
	    "</DescribeImagesResponse>\n");
	ck_assert_str_eq(header(&r, "Content-Type"), "text/xml;charset=UTF-8");
	ck_assert_str_eq(header(&r, "Server"), "AmazonEC2");
	ck_assert_int_eq(r.chunked, 1);
	sim_resp_free(&r);
}
END_TEST

/* ---- error envelopes, byte for byte ---- */

/* aws-errors.md 1.1: boto/boto3#2807, Content-Length 289. */
START_TEST(error_query_cfn_289)
{
	static const char	 want[] =
	    "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\n"
	    "  <Error>\n    <Type>Sender</Type>\n    <Code>ValidationError</Code>\n"
	    "    <Message>Stack with id foo does not exist</Message>\n  </Error>\n"
	    "  <RequestId>b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a</RequestId>\n"
	    "</ErrorResponse>\n";
	struct sim_resp		 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_query_error(&r, 400, CFN_NS, 0, "ValidationError",
	    "Stack with id foo does not exist", "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a"),
	    0);
	ck_assert_uint_eq(sizeof(want) - 1, 289);
	ck_assert_uint_eq(r.len, 289);
	ck_assert_int_eq(memcmp(r.body, want, 289), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/xml");
	ck_assert_str_eq(header(&r, "x-amzn-RequestId"),
	    "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a");
	ck_assert_ptr_null(header(&r, "Server"));
	sim_resp_free(&r);
}
END_TEST

/* aws-errors.md 1.3: amzn/selling-partner-api-docs#3081, Content-Length 297. */
START_TEST(error_query_sts_297)
{
	static const char	 want[] =
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	    "  <Error>\n"
	    "    <Type>Sender</Type>\n"
	    "    <Code>MissingAuthenticationToken</Code>\n"
	    "    <Message>Request is missing Authentication Token</Message>\n"
	    "  </Error>\n"
	    "  <RequestId>89b682e5-ac18-4fac-a917-2155723ed59b</RequestId>\n"
	    "</ErrorResponse>\n";
	const struct sim_wire_errdef	*e = sim_error_get(SIM_E_MISSING_AUTH);
	struct sim_resp			 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_query_error(&r, e->status, STS_NS, e->receiver,
	    e->code, sim_error_text(SIM_E_MISSING_AUTH),
	    "89b682e5-ac18-4fac-a917-2155723ed59b"), 0);
	ck_assert_uint_eq(r.len, 297);
	ck_assert_str_eq(r.body, want);
	ck_assert_int_eq(r.status, 403);
	sim_resp_free(&r);
}
END_TEST

/* aws-errors.md 1.1: the Auto Scaling fragment of ansible/ansible#8503. */
START_TEST(error_query_asg_fragment)
{
	struct sim_resp	 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_query_error(&r, 400,
	    "http://autoscaling.amazonaws.com/doc/2011-01-01/", 0, "ResourceInUse",
	    "You cannot delete an AutoScalingGroup while there are instances or "
	    "pending Spot instance request(s) still in the group.",
	    "81ac1556-1e76-11e4-bc9b-4deda0593d7f"), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "<Error>\n    <Type>Sender</Type>\n    "
	    "<Code>ResourceInUse</Code>\n    <Message>You cannot delete an "
	    "AutoScalingGroup while there are instances or pending Spot instance "
	    "request(s) still in the group.</Message>\n  </Error>\n  "
	    "<RequestId>81ac1556-1e76-11e4-bc9b-4deda0593d7f</RequestId>\n"
	    "</ErrorResponse>"));
	sim_resp_free(&r);
	/* Receiver, for the 500s that are not the sender's fault. */
	ck_assert_int_eq(sim_wire_query_error(&r, 500, "ns", 1, "InternalFailure", "x",
	    "id"), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "<Type>Receiver</Type>"));
	sim_resp_free(&r);
}
END_TEST

/* aws-errors.md 1.2: openaddresses/machine#445 and aws/aws-sdk#97. */
START_TEST(error_ec2)
{
	struct sim_resp	 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_ec2_error(&r, 400, "InvalidInstanceID.NotFound",
	    "The instance ID 'i-09d9c3cf55f726eea' does not exist",
	    "a750db31-e38c-4925-bd00-b6867a1079ec"), 0);
	ck_assert_str_eq(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>"
	    "The instance ID 'i-09d9c3cf55f726eea' does not exist</Message></Error>"
	    "</Errors><RequestID>a750db31-e38c-4925-bd00-b6867a1079ec</RequestID>"
	    "</Response>");
	ck_assert_uint_eq(r.len, strlen(r.body));
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/xml;charset=UTF-8");
	ck_assert_str_eq(header(&r, "Server"), "AmazonEC2");
	ck_assert_str_eq(header(&r, "x-amzn-RequestId"),
	    "a750db31-e38c-4925-bd00-b6867a1079ec");
	ck_assert_int_eq(r.chunked, 1);
	sim_resp_free(&r);
	ck_assert_int_eq(sim_wire_ec2_error(&r, 400, "InvalidAMIID.NotFound",
	    "The image id '[ami-fake123]' does not exist",
	    "4e759009-7884-46eb-bcf9-0a238087d593"), 0);
	ck_assert_str_eq(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code><Message>The "
	    "image id '[ami-fake123]' does not exist</Message></Error></Errors>"
	    "<RequestID>4e759009-7884-46eb-bcf9-0a238087d593</RequestID></Response>");
	sim_resp_free(&r);
}
END_TEST

/* aws-errors.md 10: JSON 1.0 for CloudWatch, the code in x-amzn-query-error. */
START_TEST(error_json)
{
	struct sim_resp	 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_json_error(&r, 403, NULL, "InvalidClientTokenId", 0,
	    "The security token included in the request is invalid.", "id-1"), 0);
	ck_assert_str_eq(r.body, "{\"__type\":\"com.amazon.coral.service#"
	    "InvalidClientTokenId\",\"message\":\"The security token included in the "
	    "request is invalid.\"}");
	ck_assert_str_eq(header(&r, "Content-Type"), "application/x-amz-json-1.0");
	ck_assert_str_eq(header(&r, "x-amzn-query-error"), "InvalidClientTokenId;Sender");
	ck_assert_str_eq(header(&r, "x-amzn-RequestId"), "id-1");
	ck_assert_int_eq(r.status, 403);
	sim_resp_free(&r);
	ck_assert_int_eq(sim_wire_json_error(&r, 400,
	    "com.amazonaws.cloudwatch#InvalidParameterValueException",
	    "InvalidParameterValue", 0, "a \"quoted\" value", "id-2"), 0);
	ck_assert_str_eq(r.body, "{\"__type\":\"com.amazonaws.cloudwatch#"
	    "InvalidParameterValueException\",\"message\":\"a \\\"quoted\\\" value\"}");
	ck_assert_str_eq(header(&r, "x-amzn-query-error"), "InvalidParameterValue;Sender");
	sim_resp_free(&r);
}
END_TEST

START_TEST(error_escaped_message)
{
	struct sim_resp	 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sim_wire_query_error(&r, 400, "a\"b", 0, "C<", "x & <y>",
	    "id"), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "xmlns=\"a&quot;b\""));
	ck_assert_ptr_nonnull(strstr(r.body, "<Code>C&lt;</Code>"));
	ck_assert_ptr_nonnull(strstr(r.body, "<Message>x &amp; &lt;y&gt;</Message>"));
	sim_resp_free(&r);
}
END_TEST

/* ---- the catalogue: AWS's texts, exactly ---- */

static const struct {
	enum sim_wire_err	 e;
	const char		*code;
	int			 status;
	const char		*text;
} texts[] = {
	{ SIM_E_MISSING_AUTH, "MissingAuthenticationToken", 403,
	    "Request is missing Authentication Token" },
	{ SIM_E_BAD_KEY, "InvalidClientTokenId", 403,
	    "The security token included in the request is invalid." },
	{ SIM_E_BAD_SIG, "SignatureDoesNotMatch", 403,
	    "The request signature we calculated does not match the signature you "
	    "provided. Check your AWS Secret Access Key and signing method. Consult "
	    "the service documentation for details." },
	{ SIM_E_EXPIRED_TOKEN, "ExpiredToken", 403,
	    "The security token included in the request is expired" },
	{ SIM_E_THROTTLING, "Throttling", 400, "Rate exceeded" },
	{ SIM_E_EC2_THROTTLED, "RequestLimitExceeded", 503, "Request limit exceeded." },
	{ SIM_E_EC2_AUTH_FAILURE, "AuthFailure", 401,
	    "AWS was not able to validate the provided access credentials" },
	{ SIM_E_EC2_EXPIRED, "RequestExpired", 400, "Request has expired." },
	{ SIM_E_INVALID_ACTION, "InvalidAction", 400,
	    "Could not find operation %s for version %s" },
	{ SIM_E_EC2_INVALID_ACTION, "InvalidAction", 400,
	    "The action %s is not valid for this web service." },
	{ SIM_E_SIG_EXPIRED, "SignatureDoesNotMatch", 403,
	    "Signature expired: %s is now earlier than %s (%s - 15 min.)" },
	/* Fault rules' errors: aws-errors.md 8, byte for byte. */
	{ SIM_E_RESOURCE_CONTENTION, "ResourceContention", 500,
	    "You already have a pending update to an Amazon EC2 Auto Scaling resource "
	    "(for example, an Auto Scaling group, instance, or load balancer)." },
	{ SIM_E_SCALING_ACTIVITY, "ScalingActivityInProgress", 400,
	    "Scaling activity %s is in progress and blocks this action." },
	{ SIM_E_ACTIVITY_IN_PROGRESS, "ScalingActivityInProgress", 400,
	    "Activity %s is in progress." },
};

/* The server's own failures are the Receiver's. */
START_TEST(catalogue_receiver)
{
	const struct sim_wire_errdef	*e = sim_error_get(SIM_E_SERVICE_UNAVAILABLE);

	ck_assert_str_eq(e->code, "ServiceUnavailable");
	ck_assert_int_eq(e->status, 503);
	ck_assert_int_eq(e->receiver, 1);
	ck_assert_str_eq(e->text,
	    "The request has failed due to a temporary failure of the server.");
	e = sim_error_get(SIM_E_INTERNAL);
	ck_assert_str_eq(e->code, "InternalFailure");
	ck_assert_int_eq(e->status, 500);
	ck_assert_int_eq(e->receiver, 1);
}
END_TEST

START_TEST(catalogue_texts)
{
	const struct sim_wire_errdef	*e = sim_error_get(texts[_i].e);

	ck_assert_str_eq(e->code, texts[_i].code);
	ck_assert_int_eq(e->status, texts[_i].status);
	ck_assert_str_eq(sim_error_text(texts[_i].e), texts[_i].text);
	ck_assert_int_eq(e->receiver, 0);
	ck_assert_ptr_nonnull(e->evidence);
}
END_TEST

START_TEST(catalogue_format_override)
{
	const char	*args[3] = { "20220127T001427Z", "20220127T014428Z",
	    "20220127T015928Z" };
	char		 buf[256];
	json_t		*c;

	ck_assert_str_eq(sim_error_format(SIM_E_SIG_EXPIRED, args, 3, buf,
	    sizeof(buf)), "Signature expired: 20220127T001427Z is now earlier than "
	    "20220127T014428Z (20220127T015928Z - 15 min.)");
	/* Missing arguments are empty, never read past the array. */
	ck_assert_str_eq(sim_error_format(SIM_E_INVALID_ACTION, args, 1, buf,
	    sizeof(buf)), "Could not find operation 20220127T001427Z for version ");
	ck_assert_int_eq(sim_error_override("no-such-error", "x"), -1);
	ck_assert_int_eq(sim_error_override("invalid-action", "only %s"), -1);
	ck_assert_int_eq(sim_error_override("invalid-action", "%s %d"), -1);
	ck_assert_int_eq(sim_error_override("invalid-action",
	    "100%% sure: no %s in %s"), 0);
	ck_assert_str_eq(sim_error_format(SIM_E_INVALID_ACTION, args, 2, buf,
	    sizeof(buf)), "100% sure: no 20220127T001427Z in 20220127T014428Z");
	c = sim_error_catalogue();
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(json_array_size(c), SIM_E_COUNT);
	json_decref(c);
	ck_assert_int_eq(sim_error_override("invalid-action", NULL), 0);
	ck_assert_str_eq(sim_error_text(SIM_E_INVALID_ACTION),
	    "Could not find operation %s for version %s");
	sim_error_reset();
}
END_TEST

/* ---- request ids ---- */

static int
uuid_shaped(const char *s)
{
	size_t	 i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", s[i]))
			return 0;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

START_TEST(reqid_deterministic)
{
	char	 a[SIM_REQID_LEN + 1], b[SIM_REQID_LEN + 1];
	uint64_t n;

	for (n = 0; n < 1000; n++) {
		sim_reqid(42, n, a);
		ck_assert_msg(uuid_shaped(a), "%s", a);
		sim_reqid(42, n, b);
		ck_assert_str_eq(a, b);
		sim_reqid(42, n + 1, b);
		ck_assert_str_ne(a, b);
		sim_reqid(43, n, b);
		ck_assert_str_ne(a, b);
	}
}
END_TEST

Suite *
sim_wire_suite(void)
{
	Suite	*s = suite_create("sim_wire");
	TCase	*t;

	t = tcase_create("form");
	tcase_add_checked_fixture(t, form_setup, form_teardown);
	tcase_add_test(t, form_basic);
	tcase_add_test(t, form_decoding);
	tcase_add_loop_test(t, form_hostile, 0, sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(t, form_binary_and_limits);
	tcase_add_test(t, form_duplicates);
	tcase_add_test(t, form_unused);
	tcase_add_test(t, list_query);
	tcase_add_test(t, list_query_empty_and_structs);
	tcase_add_test(t, list_ec2);
	tcase_add_loop_test(t, list_misshapen, 0,
	    sizeof(misshapen) / sizeof(misshapen[0]));
	suite_add_tcase(s, t);
	t = tcase_create("xml");
	tcase_add_test(t, xml_escaping);
	tcase_add_test(t, xml_writer);
	tcase_add_test(t, xml_query_success);
	tcase_add_test(t, xml_ec2_success);
	suite_add_tcase(s, t);
	t = tcase_create("errors");
	tcase_add_test(t, error_query_cfn_289);
	tcase_add_test(t, error_query_sts_297);
	tcase_add_test(t, error_query_asg_fragment);
	tcase_add_test(t, error_ec2);
	tcase_add_test(t, error_json);
	tcase_add_test(t, error_escaped_message);
	tcase_add_loop_test(t, catalogue_texts, 0, sizeof(texts) / sizeof(texts[0]));
	tcase_add_test(t, catalogue_format_override);
	tcase_add_test(t, catalogue_receiver);
	tcase_add_test(t, reqid_deterministic);
	suite_add_tcase(s, t);
	return s;
}
