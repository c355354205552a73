/*
 * bbsim's AWS operations (sim/api_*.c), called in process on a fresh model: each
 * action's answer parsed as XML (or JSON) and checked for its shape (element names
 * and their order, as botocore's models give them) and its key values, and each
 * refusal for AWS's code, status and words. Requests skip the front door (auth.c is
 * tested on its own): an operation is found in its service's table and called with
 * a parsed form, as sim_aws_handle() would.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "common/log.h"
#include "sim/api.h"
#include "sim/auth.h"
#include "sim/faults.h"
#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

#define CFN	"cloudformation", "2010-05-15"
#define ASG	"autoscaling", "2011-01-01"
#define EC2	"ec2", "2016-11-15"
#define CW	"monitoring", "2010-08-01"
#define ELB	"elasticloadbalancing", "2012-06-01"
#define SEC	1000LL
#define CAPS	"&Capabilities.member.1=CAPABILITY_IAM"
#define EPOCH	1735689600LL	/* the fast profile's: 2025-01-01T00:00:00Z */

static struct sim	 sim;
static struct sim_model	*model;
static struct sim_resp	 resp;
static char		*body;
static xmlDocPtr	 doc;
static json_t		*jbody;

static void
tweak_none(struct sim_params *p)
{
	(void)p;
}

static void
start(void (*tweak)(struct sim_params *))
{
	struct sim_options	 o;
	struct sim_params	 p;

	memset(&o, 0, sizeof(o));
	o.seed = 5;
	ck_assert_int_eq(sim_init(&sim, &o), 0);
	log_setlevel(LOG_WARNING);
	sim_params_defaults(&p);
	p.rate = 0;		/* no traffic: drains end at once */
	p.throttle = 0;
	tweak(&p);
	model = test_model_new(&p);
	sim.model = model;
	sim.now = 0;
	sim_api_aws_register(&sim);
	memset(&resp, 0, sizeof(resp));
}

static void
setup(void)
{
	start(tweak_none);
}

static void
teardown(void)
{
	xmlFreeDoc(doc);
	doc = NULL;
	json_decref(jbody);
	jbody = NULL;
	free(body);
	body = NULL;
	sim_resp_free(&resp);
	sim_model_free(model);
	sim.model = NULL;
	sim_free(&sim);
	sim_error_reset();
}

/* The virtual clock moves on by ms, and the model with it at the next call. */
static void
later(int64_t ms)
{
	sim.now += ms;
}

/* ---- calling an operation ---- */

static const struct sim_op *
find(const char *svc, const char *version, const char *action)
{
	const struct sim_aws_service	*s = sim_aws_service(svc, version);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < s->nops; i++)
		if (strcmp(s->ops[i].action, action) == 0)
			return &s->ops[i];
	ck_abort_msg("%s has no operation %s", svc, action);
	return NULL;
}

static const char *
header(const char *name)
{
	for (size_t i = 0; i < resp.nhdr; i++)
		if (strcasecmp(resp.hdr[i].name, name) == 0)
			return resp.hdr[i].value;
	return NULL;
}

/* Keeps the answer; an XML one parsed without its default namespace, for XPath. */
static void
keep_answer(void)
{
	char	*s, *ns, *q;

	xmlFreeDoc(doc);
	doc = NULL;
	json_decref(jbody);
	jbody = NULL;
	free(body);
	ck_assert_ptr_nonnull(resp.body);
	body = strndup(resp.body, resp.len);
	if (strcmp(header("Content-Type"), SIM_CT_JSON) == 0) {
		jbody = json_loads(body, 0, NULL);
		ck_assert_msg(jbody != NULL, "not JSON: %s", body);
		return;
	}
	s = strdup(body);
	if ((ns = strstr(s, " xmlns=\"")) != NULL && (q = strchr(ns + 8, '"')) != NULL)
		memmove(ns, q + 1, strlen(q + 1) + 1);
	doc = xmlReadMemory(s, (int)strlen(s), NULL, NULL, XML_PARSE_NONET);
	free(s);
	ck_assert_msg(doc != NULL, "not XML: %s", body);
}

static struct sim_aws_call
new_call(const char *svc, const char *version, const char *action)
{
	struct sim_aws_call	 c;

	memset(&c, 0, sizeof(c));
	c.sim = &sim;
	c.svc = sim_aws_service(svc, version);
	c.proto = c.svc->proto;
	c.action = action;
	c.who = &sim.creds.longterm;
	c.region = "us-east-1";
	c.reqid = "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a";
	c.now = 1767225600;
	sim_resp_free(&resp);
	c.resp = &resp;
	return c;
}

/* Action=...&... (printf-style); the HTTP status of the answer. */
static int
call(const char *svc, const char *version, const char *fmt, ...)
{
	struct sim_aws_call	 c;
	struct sim_form		 f;
	const char		*action;
	va_list			 ap;
	char			*form;
	int			 n;

	va_start(ap, fmt);
	n = vasprintf(&form, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	sim_form_init(&f, 0);
	ck_assert_msg(sim_form_parse(&f, form, strlen(form)) == 0, "form %s", form);
	action = sim_form_get(&f, "Action");
	ck_assert_ptr_nonnull(action);
	c = new_call(svc, version, action);
	c.form = &f;
	find(svc, version, action)->fn(&c);
	ck_assert_msg(resp.status != 0, "%s wrote no answer", action);
	keep_answer();
	sim_form_free(&f);
	free(form);
	return resp.status;
}

/* A CloudWatch operation over JSON 1.0: the body is the request. */
static int
call_json(const char *action, const char *json)
{
	struct sim_aws_call	 c;

	c = new_call(CW, action);
	c.proto = SIM_PROTO_JSON;
	c.json = json_loads(json, 0, NULL);
	ck_assert_msg(c.json != NULL, "bad test JSON %s", json);
	find(CW, action)->fn(&c);
	json_decref(c.json);
	ck_assert(resp.status != 0);
	keep_answer();
	return resp.status;
}

/* ---- reading the answer ---- */

static xmlXPathObjectPtr
eval(const char *expr)
{
	xmlXPathContextPtr	 ctx;
	xmlXPathObjectPtr	 r;

	ck_assert_msg(doc != NULL, "no XML answer: %.1500s", body);
	ctx = xmlXPathNewContext(doc);
	r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	xmlXPathFreeContext(ctx);
	ck_assert_msg(r != NULL, "bad XPath %s", expr);
	return r;
}

/* The string value of an XPath expression (printf-style). */
static const char *
xp(const char *fmt, ...)
{
	static char		 out[4096];
	xmlXPathObjectPtr	 r;
	xmlChar			*s;
	char			 expr[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	r = eval(expr);
	s = xmlXPathCastToString(r);
	snprintf(out, sizeof(out), "%s", (const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(r);
	return out;
}

static int
xn(const char *fmt, ...)
{
	char	 expr[512], count[540];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	snprintf(count, sizeof(count), "count(%s)", expr);
	return atoi(xp("%s", count));
}

/* The names of the element children of the first node at path, comma-separated. */
static const char *
kids(const char *path)
{
	static char		 out[2048];
	xmlXPathObjectPtr	 r = eval(path);
	xmlNodePtr		 n;
	size_t			 o = 0;

	out[0] = '\0';
	ck_assert_msg(r->nodesetval != NULL && r->nodesetval->nodeNr > 0,
	    "nothing at %s in %.1500s", path, body);
	for (n = r->nodesetval->nodeTab[0]->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
			    o ? "," : "", (const char *)n->name);
	xmlXPathFreeObject(r);
	return out;
}

/* A Query error: status, code, message; and the envelope around them. */
static void
refused(int st, int status, const char *code, const char *message)
{
	ck_assert_msg(st == status, "status %d, want %d: %.1500s", st, status, body);
	if (jbody != NULL) {
		ck_assert_str_eq(header("x-amzn-query-error") != NULL ?
		    header("x-amzn-query-error") : "", code);
		ck_assert_str_eq(json_string_value(json_object_get(jbody, "message")),
		    message);
		return;
	}
	if (doc != NULL && xn("/Response") == 1) {	/* EC2's envelope */
		ck_assert_str_eq(xp("/Response/Errors/Error/Code"), code);
		ck_assert_str_eq(xp("/Response/Errors/Error/Message"), message);
		return;
	}
	ck_assert_str_eq(xp("/ErrorResponse/Error/Type"), "Sender");
	ck_assert_str_eq(xp("/ErrorResponse/Error/Code"), code);
	ck_assert_str_eq(xp("/ErrorResponse/Error/Message"), message);
}

/* ---- the world's names ---- */

static const char *
asg_name(void)
{
	return model->asg.name;
}

/* The n-th member of the group (in launch order), 0-based. */
static const char *
member(int n)
{
	return test_member(model, n)->id;
}

/* Every template parameter as UsePreviousValue, except those given with a value. */
static char *
params(const char *version, const char *min, const char *max)
{
	struct sim_param_in	 in[SIM_PARAMS_MAX];
	static char		 out[4096];
	size_t			 n = test_update_params(in, version, min, max), o = 0;

	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o,
		    "&Parameters.member.%zu.ParameterKey=%s", i + 1, in[i].key);
		if (!in[i].use_previous)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "&Parameters.member.%zu.ParameterValue=%s", i + 1, in[i].value);
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "&Parameters.member.%zu.UsePreviousValue=true", i + 1);
	}
	return out;
}

/* ---- CloudFormation ---- */

#define DS	"/DescribeStacksResponse/DescribeStacksResult/Stacks/member"

START_TEST(cfn_describe_stacks)
{
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks&StackName=bitbucket"), 200);
	ck_assert_str_eq(kids("/DescribeStacksResponse"),
	    "DescribeStacksResult,ResponseMetadata");
	ck_assert_str_eq(kids(DS), "StackId,StackName,Parameters,CreationTime,"
	    "RollbackConfiguration,StackStatus,DisableRollback,NotificationARNs,"
	    "Capabilities,Outputs,Tags,EnableTerminationProtection,DriftInformation");
	ck_assert_str_eq(xp(DS "/StackStatus"), "CREATE_COMPLETE");
	ck_assert_str_eq(xp(DS "/Parameters/member[ParameterKey='DBPassword']/"
	    "ParameterValue"), "****");
	ck_assert_str_eq(xp(DS "/Parameters/member[ParameterKey='BitbucketVersion']/"
	    "ParameterValue"), "7.9.0");
	ck_assert_str_eq(xp(DS "/Outputs/member[OutputKey='ClusterNodeGroup']/"
	    "OutputValue"), asg_name());
	ck_assert_str_eq(xp(DS "/Capabilities/member"), "CAPABILITY_IAM");
	ck_assert_int_eq(xn(DS "/RoleARN"), 0);
	ck_assert_ptr_null(strstr(body, "db-Secret-1"));
	ck_assert_str_eq(xp("//RequestId"), "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a");
	ck_assert_str_eq(header("x-amzn-RequestId"),
	    "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a");
	/* By ARN too; and every stack without a name. */
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks&StackName=%s",
	    model->stack[0]->id), 200);
	ck_assert_int_eq(xn(DS), 1);
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks"), 200);
	ck_assert_int_eq(xn(DS), 1);
	refused(call(CFN, "Action=DescribeStacks&StackName=nope"), 400,
	    "ValidationError", "Stack with id nope does not exist");
	refused(call(CFN, "Action=DescribeStacks&Bogus=1"), 400,
	    "InvalidQueryParameter", "The AWS query string is malformed or does not "
	    "adhere to AWS standards.");
}
END_TEST

static void
nested(struct sim_params *p)
{
	p->nested = 1;
}

START_TEST(cfn_describe_nested)
{
	teardown();
	start(nested);
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks"), 200);
	ck_assert_int_eq(xn(DS), 2);
	ck_assert_str_eq(xp(DS "[2]/ParentId"), model->stack[0]->id);
	ck_assert_str_eq(xp(DS "[2]/RootId"), model->stack[0]->id);
	ck_assert_str_eq(xp(DS "[1]/Outputs/member[OutputKey='ClusterNodeGroup']/"
	    "OutputValue"), asg_name());
	/* The root has no ClusterNodeGroup: the nested stack does. */
	refused(call(CFN, "Action=DescribeStackResource&StackName=bitbucket&"
	    "LogicalResourceId=ClusterNodeGroup"), 400, "ValidationError",
	    "Resource ClusterNodeGroup does not exist for stack bitbucket");
}
END_TEST

START_TEST(cfn_update_refusals)
{
	refused(call(CFN, "Action=UpdateStack&UsePreviousTemplate=true"), 400,
	    "ValidationError", "1 validation error detected: Value null at 'stackName' "
	    "failed to satisfy constraint: Member must not be null");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket"), 400,
	    "ValidationError", "Either Template URL or Template Body must be "
	    "specified.");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&TemplateBody=x"), 400,
	    "ValidationError", "bbsim simulates stack changes with UsePreviousTemplate "
	    "only: TemplateBody and TemplateURL are not simulated");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s", params("7.9.1", NULL, NULL)), 400,
	    "InsufficientCapabilitiesException", "Requires capabilities : "
	    "[CAPABILITY_IAM]");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s" CAPS "&ClientRequestToken=-bad",
	    params("7.9.1", NULL, NULL)), 400, "ValidationError",
	    "1 validation error detected: Value '-bad' at 'clientRequestToken' failed "
	    "to satisfy constraint: Member must satisfy regular expression pattern: "
	    "[a-zA-Z0-9][-a-zA-Z0-9]*");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true" CAPS "&Parameters.member.1.ParameterKey="
	    "DBPassword&Parameters.member.1.UsePreviousValue=true&"
	    "Parameters.member.1.ParameterValue=x"), 400, "ValidationError",
	    "Invalid input for parameter key DBPassword. Cannot specify "
	    "usePreviousValue as true and non empty value for a parameter");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true" CAPS "&Parameters.member.1.ParameterKey=Nope&"
	    "Parameters.member.1.UsePreviousValue=true"), 400, "ValidationError",
	    "Cannot specify usePreviousValue as true for a parameter key not in the "
	    "previous template");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s" CAPS, params(NULL, NULL, NULL)), 400,
	    "ValidationError", "No updates are to be performed.");
	refused(call(CFN, "Action=UpdateStack&StackName=gone&UsePreviousTemplate=true"
	    "%s" CAPS, params("7.9.1", NULL, NULL)), 400, "ValidationError",
	    "Stack [gone] does not exist");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s&Capabilities.member.1=CAPABILITY_ALL",
	    params("7.9.1", NULL, NULL)), 400, "ValidationError", "1 validation error "
	    "detected: Value 'CAPABILITY_ALL' at 'capabilities' failed to satisfy "
	    "constraint: Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, "
	    "CAPABILITY_NAMED_IAM, CAPABILITY_IAM]");
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true" CAPS "&Parameters.member.1.ParameterValue=x"),
	    400, "ValidationError", "1 validation error detected: Value null at "
	    "'parameters.1.member.parameterKey' failed to satisfy constraint: Member "
	    "must not be null");
	/* A list in EC2's shape is a serializer's mistake. */
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true&Capabilities.1=CAPABILITY_IAM"), 400,
	    "InvalidQueryParameter", "The AWS query string is malformed or does not "
	    "adhere to AWS standards.");
}
END_TEST

START_TEST(cfn_update_and_events)
{
	char	 want[SIM_ARN_MAX + 80];

	ck_assert_int_eq(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s" CAPS "&ClientRequestToken=bbdc-upg-1-step1",
	    params("7.9.1", NULL, NULL)), 200);
	ck_assert_str_eq(xp("/UpdateStackResponse/UpdateStackResult/StackId"),
	    model->stack[0]->id);
	snprintf(want, sizeof(want), "Stack:%s is in UPDATE_IN_PROGRESS state and can "
	    "not be updated.", model->stack[0]->id);
	refused(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s" CAPS, params("7.9.2", NULL, NULL)), 400,
	    "ValidationError", want);
	ck_assert_int_eq(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket"),
	    200);
#define EV "/DescribeStackEventsResponse/DescribeStackEventsResult/StackEvents/member"
	ck_assert_str_eq(kids(EV "[1]"), "StackId,EventId,StackName,LogicalResourceId,"
	    "PhysicalResourceId,ResourceType,Timestamp,ResourceStatus,"
	    "ResourceStatusReason,ClientRequestToken");
	ck_assert_str_eq(xp(EV "[1]/ResourceStatus"), "UPDATE_IN_PROGRESS");
	ck_assert_str_eq(xp(EV "[1]/ClientRequestToken"), "bbdc-upg-1-step1");
	ck_assert_str_eq(xp(EV "[2]/ResourceStatus"), "CREATE_COMPLETE");
	ck_assert_int_ge(strcmp(xp(EV "[1]/Timestamp"), xp(EV "[2]/Timestamp")), 0);
	later(10 * SEC);
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks&StackName=bitbucket"), 200);
	ck_assert_str_eq(xp(DS "/StackStatus"), "UPDATE_COMPLETE");
	ck_assert_int_eq(xn(DS "/LastUpdatedTime"), 1);
	ck_assert_int_eq(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket"),
	    200);
	ck_assert_str_eq(xp(EV "[1]/ResourceStatus"), "UPDATE_COMPLETE");
	ck_assert_str_eq(xp(EV "[1]/LogicalResourceId"), "bitbucket");
	ck_assert_str_eq(xp(EV "[1]/ClientRequestToken"), "bbdc-upg-1-step1");
	refused(call(CFN, "Action=CancelUpdateStack&StackName=bitbucket"), 400,
	    "ValidationError", "CancelUpdateStack cannot be called from current stack "
	    "status");
	refused(call(CFN, "Action=DescribeStackEvents&StackName=nope"), 400,
	    "ValidationError", "Stack [nope] does not exist");
}
END_TEST

/* Enough updates for a second page of events; each page newest first. */
START_TEST(cfn_events_pages)
{
	char		 tok[SIM_API_TOKEN_MAX], first[64];
	const char	*v[2] = { "7.9.1", "7.9.2" };

	for (int i = 0; model->stack[0]->nev <= 110; i++) {
		ck_assert_int_eq(call(CFN, "Action=UpdateStack&StackName=bitbucket&"
		    "UsePreviousTemplate=true%s" CAPS, params(v[i % 2], NULL, NULL)), 200);
		later(10 * SEC);
		call(CFN, "Action=DescribeStacks");	/* the model runs to now */
	}
	ck_assert_int_gt((int)model->stack[0]->nev, 100);
	ck_assert_int_eq(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket"),
	    200);
	ck_assert_int_eq(xn(EV), 100);
	snprintf(tok, sizeof(tok), "%s", xp("//NextToken"));
	snprintf(first, sizeof(first), "%s", xp(EV "[100]/EventId"));
	ck_assert_int_eq(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket&"
	    "NextToken=%s", tok), 200);
	ck_assert_int_eq(xn(EV), (int)model->stack[0]->nev - 100);
	ck_assert_int_eq(xn("//NextToken"), 0);
	ck_assert_str_ne(xp(EV "[1]/EventId"), first);
	ck_assert_str_eq(xp(EV "[last()]/ResourceStatus"), "CREATE_IN_PROGRESS");
	refused(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket&"
	    "NextToken=garbage"), 400, "ValidationError", "Invalid NextToken: garbage");
}
END_TEST

#define DCS "/DescribeChangeSetResponse/DescribeChangeSetResult"

START_TEST(cfn_change_sets)
{
	char	 id[SIM_ARN_MAX], tok[SIM_API_TOKEN_MAX];
	/* Five resources change: pages of three. */
	const char *p = "&Parameters.member.1.ParameterKey=BitbucketVersion&"
	    "Parameters.member.1.ParameterValue=7.9.1&"
	    "Parameters.member.2.ParameterKey=ClusterNodeMin&"
	    "Parameters.member.2.ParameterValue=5&"
	    "Parameters.member.3.ParameterKey=ClusterNodeMax&"
	    "Parameters.member.3.ParameterValue=5&"
	    "Parameters.member.4.ParameterKey=FileServerInstanceType&"
	    "Parameters.member.4.ParameterValue=m5.xlarge&"
	    "Parameters.member.5.ParameterKey=AccessCIDR&"
	    "Parameters.member.5.ParameterValue=10.0.0.0/8&"
	    "Parameters.member.6.ParameterKey=DBMultiAZ&"
	    "Parameters.member.6.ParameterValue=false&"
	    "Parameters.member.7.ParameterKey=KeyName&"
	    "Parameters.member.7.UsePreviousValue=true&"
	    "Parameters.member.8.ParameterKey=DBPassword&"
	    "Parameters.member.8.UsePreviousValue=true&"
	    "Parameters.member.9.ParameterKey=DBMasterUserPassword&"
	    "Parameters.member.9.UsePreviousValue=true&"
	    "Parameters.member.10.ParameterKey=BitbucketAdminPassword&"
	    "Parameters.member.10.UsePreviousValue=true";

	refused(call(CFN, "Action=CreateChangeSet&StackName=bitbucket&"
	    "UsePreviousTemplate=true%s" CAPS, p), 400, "ValidationError",
	    "1 validation error detected: Value null at 'changeSetName' failed to "
	    "satisfy constraint: Member must not be null");
	ck_assert_int_eq(call(CFN, "Action=CreateChangeSet&StackName=bitbucket&"
	    "ChangeSetName=cs1&UsePreviousTemplate=true&IncludeNestedStacks=true&"
	    "ChangeSetType=UPDATE%s" CAPS, p), 200);
	snprintf(id, sizeof(id), "%s", xp("//Id"));
	ck_assert_str_eq(kids("/CreateChangeSetResponse/CreateChangeSetResult"),
	    "Id,StackId");
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&StackName=bitbucket&"
	    "ChangeSetName=cs1"), 200);
	ck_assert_str_eq(xp(DCS "/Status"), "CREATE_PENDING");
	ck_assert_int_eq(xn(DCS "/Changes/member"), 0);
	refused(call(CFN, "Action=DescribeChangeSet&ChangeSetName=cs1"), 400,
	    "ValidationError", "StackName must be specified if ChangeSetName is not "
	    "specified as an ARN.");
	later(2 * SEC);
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&ChangeSetName=%s", id), 200);
	ck_assert_str_eq(kids(DCS), "ChangeSetName,ChangeSetId,StackId,StackName,"
	    "Parameters,CreationTime,ExecutionStatus,Status,NotificationARNs,"
	    "RollbackConfiguration,Capabilities,Tags,Changes,NextToken,"
	    "IncludeNestedStacks");
	ck_assert_str_eq(xp(DCS "/Status"), "CREATE_COMPLETE");
	ck_assert_str_eq(xp(DCS "/ExecutionStatus"), "AVAILABLE");
	ck_assert_str_eq(xp(DCS "/Parameters/member[ParameterKey='DBPassword']/"
	    "ParameterValue"), "****");
	ck_assert_int_eq(xn(DCS "/Changes/member"), 3);
	ck_assert_str_eq(kids(DCS "/Changes/member[1]"), "Type,ResourceChange");
	ck_assert_str_eq(xp(DCS "/Changes/member[1]/Type"), "Resource");
	ck_assert_str_eq(kids(DCS "/Changes/member[1]/ResourceChange"), "Action,"
	    "LogicalResourceId,PhysicalResourceId,ResourceType,Replacement,Scope,"
	    "Details");
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange[LogicalResourceId="
	    "'ClusterNodeLaunchConfig']/Scope/member"), "Metadata");
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange[LogicalResourceId="
	    "'ClusterNodeLaunchConfig']/Replacement"), "False");
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange[LogicalResourceId="
	    "'ClusterNodeGroup']/Details/member[1]/CausingEntity"), "ClusterNodeMin");
	ck_assert_str_eq(kids(DCS "/Changes/member/ResourceChange[LogicalResourceId="
	    "'ClusterNodeGroup']/Details/member[1]"), "Target,Evaluation,ChangeSource,"
	    "CausingEntity");
	snprintf(tok, sizeof(tok), "%s", xp(DCS "/NextToken"));
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&ChangeSetName=cs1&"
	    "StackName=bitbucket&NextToken=%s", tok), 200);
	ck_assert_int_eq(xn(DCS "/Changes/member"), 2);
	ck_assert_int_eq(xn(DCS "/NextToken"), 0);
	ck_assert_int_eq(call(CFN, "Action=ExecuteChangeSet&ChangeSetName=cs1&"
	    "StackName=bitbucket&ClientRequestToken=bbdc-upg-7"), 200);
	ck_assert_str_eq(body, "<ExecuteChangeSetResponse xmlns=\"http://cloudformation."
	    "amazonaws.com/doc/2010-05-15/\">\n  <ExecuteChangeSetResult/>\n  "
	    "<ResponseMetadata>\n    <RequestId>b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a"
	    "</RequestId>\n  </ResponseMetadata>\n</ExecuteChangeSetResponse>\n");
	ck_assert_int_eq(call(CFN, "Action=DescribeStackEvents&StackName=bitbucket"),
	    200);
	ck_assert_str_eq(xp(EV "[1]/ClientRequestToken"), "bbdc-upg-7");
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&ChangeSetName=cs1&"
	    "StackName=bitbucket"), 200);
	ck_assert_str_eq(xp(DCS "/ExecutionStatus"), "EXECUTE_IN_PROGRESS");
	refused(call(CFN, "Action=DeleteChangeSet&ChangeSetName=cs1&"
	    "StackName=bitbucket"), 400, "InvalidChangeSetStatus", "Cannot delete "
	    "ChangeSet in status EXECUTE_IN_PROGRESS");
}
END_TEST

/* With-VPC layout: the root's change set points to the nested stack's. */
START_TEST(cfn_change_set_nested)
{
	char	 sub[SIM_ARN_MAX];

	teardown();
	start(nested);
	ck_assert_int_eq(call(CFN, "Action=CreateChangeSet&StackName=bitbucket&"
	    "ChangeSetName=up&UsePreviousTemplate=true&IncludeNestedStacks=true%s" CAPS,
	    params("7.9.1", NULL, NULL)), 200);
	later(2 * SEC);
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&StackName=bitbucket&"
	    "ChangeSetName=up"), 200);
	ck_assert_str_eq(xp(DCS "/IncludeNestedStacks"), "true");
	ck_assert_int_eq(xn(DCS "/Changes/member"), 1);
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange/LogicalResourceId"),
	    "BitbucketDCStack");
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange/Details/member/"
	    "ChangeSource"), "Automatic");
	snprintf(sub, sizeof(sub), "%s", xp(DCS "/Changes/member/ResourceChange/"
	    "ChangeSetId"));
	ck_assert_ptr_nonnull(strstr(sub, ":changeSet/up-BitbucketDCStack-"));
	ck_assert_int_eq(call(CFN, "Action=DescribeChangeSet&ChangeSetName=%s", sub),
	    200);
	ck_assert_str_eq(xp(DCS "/StackName"), model->stack[1]->name);
	ck_assert_str_eq(xp(DCS "/ParentChangeSetId"), xp(DCS "/RootChangeSetId"));
	ck_assert_str_eq(xp(DCS "/Changes/member/ResourceChange[LogicalResourceId="
	    "'ClusterNodeLaunchConfig']/Details/member/CausingEntity"),
	    "BitbucketVersion");
}
END_TEST

START_TEST(cfn_change_set_delete)
{
	ck_assert_int_eq(call(CFN, "Action=CreateChangeSet&StackName=bitbucket&"
	    "ChangeSetName=cs2&UsePreviousTemplate=true%s" CAPS,
	    params("7.9.1", NULL, NULL)), 200);
	ck_assert_int_eq(call(CFN, "Action=DeleteChangeSet&ChangeSetName=cs2&"
	    "StackName=bitbucket"), 200);
	ck_assert_int_eq(xn("/DeleteChangeSetResponse/DeleteChangeSetResult"), 1);
	refused(call(CFN, "Action=DescribeChangeSet&ChangeSetName=cs2&"
	    "StackName=bitbucket"), 404, "ChangeSetNotFound",
	    "ChangeSet [cs2] does not exist");
	refused(call(CFN, "Action=CreateChangeSet&StackName=bitbucket&"
	    "ChangeSetName=cs3&UsePreviousTemplate=true&ChangeSetType=CREATE%s" CAPS,
	    params("7.9.1", NULL, NULL)), 400, "ValidationError", "bbsim simulates "
	    "change sets of type UPDATE only");
}
END_TEST

#define DSR "/DescribeStackResourceResponse/DescribeStackResourceResult/" \
	    "StackResourceDetail"
#define DSRS "/DescribeStackResourcesResponse/DescribeStackResourcesResult/" \
	    "StackResources/member"

START_TEST(cfn_resources)
{
	ck_assert_int_eq(call(CFN, "Action=DescribeStackResource&StackName=bitbucket&"
	    "LogicalResourceId=ClusterNodeGroup"), 200);
	ck_assert_str_eq(kids(DSR), "StackName,StackId,LogicalResourceId,"
	    "PhysicalResourceId,ResourceType,LastUpdatedTimestamp,ResourceStatus,"
	    "DriftInformation");
	ck_assert_str_eq(xp(DSR "/PhysicalResourceId"), asg_name());
	ck_assert_str_eq(xp(DSR "/ResourceType"), "AWS::AutoScaling::AutoScalingGroup");
	refused(call(CFN, "Action=DescribeStackResource&StackName=bitbucket&"
	    "LogicalResourceId=Nope"), 400, "ValidationError",
	    "Resource Nope does not exist for stack bitbucket");
	refused(call(CFN, "Action=DescribeStackResource&StackName=bitbucket"), 400,
	    "ValidationError", "1 validation error detected: Value null at "
	    "'logicalResourceId' failed to satisfy constraint: Member must not be null");
	ck_assert_int_eq(call(CFN, "Action=DescribeStackResources&StackName=bitbucket"),
	    200);
	ck_assert_int_eq(xn(DSRS), (int)model->stack[0]->nres);
	ck_assert_str_eq(kids(DSRS "[1]"), "StackName,StackId,LogicalResourceId,"
	    "PhysicalResourceId,ResourceType,Timestamp,ResourceStatus,DriftInformation");
	ck_assert_int_eq(call(CFN, "Action=DescribeStackResources&PhysicalResourceId=%s&"
	    "LogicalResourceId=FileServer", asg_name()), 200);
	ck_assert_int_eq(xn(DSRS), 1);
	ck_assert_str_eq(xp(DSRS "/PhysicalResourceId"), model->file_server->id);
	refused(call(CFN, "Action=DescribeStackResources"), 400, "ValidationError",
	    "Either StackName or PhysicalResourceId must be specified, and not both.");
}
END_TEST

#define GTS "/GetTemplateSummaryResponse/GetTemplateSummaryResult"

START_TEST(cfn_template_summary)
{
	ck_assert_int_eq(call(CFN, "Action=GetTemplateSummary&StackName=bitbucket"), 200);
	ck_assert_str_eq(kids(GTS), "Parameters,Capabilities,CapabilitiesReason,"
	    "ResourceTypes,Version,DeclaredTransforms");
	ck_assert_str_eq(xp(GTS "/Capabilities/member"), "CAPABILITY_IAM");
	ck_assert_str_eq(xp(GTS "/CapabilitiesReason"), "The following resource(s) "
	    "require capabilities: [AWS::IAM::Role]");
	ck_assert_str_eq(xp(GTS "/Parameters/member[ParameterKey='DBPassword']/NoEcho"),
	    "true");
	ck_assert_str_eq(xp(GTS "/Parameters/member[ParameterKey='ClusterNodeMin']/"
	    "ParameterType"), "Number");
	ck_assert_str_eq(xp(GTS "/Parameters/member[ParameterKey='BitbucketVersion']/"
	    "DefaultValue"), "7.21.0");
	ck_assert_int_eq(xn(GTS "/ResourceTypes/member[.='AWS::IAM::Role']"), 1);
	refused(call(CFN, "Action=GetTemplateSummary&StackName=nope"), 400,
	    "ValidationError", "Stack with id nope does not exist");
}
END_TEST

/* ---- Auto Scaling ---- */

#define DAG "/DescribeAutoScalingGroupsResponse/DescribeAutoScalingGroupsResult/" \
	    "AutoScalingGroups/member"

START_TEST(asg_describe_groups)
{
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups&"
	    "AutoScalingGroupNames.member.1=%s", asg_name()), 200);
	ck_assert_str_eq(kids(DAG), "AutoScalingGroupName,AutoScalingGroupARN,"
	    "LaunchConfigurationName,MinSize,MaxSize,DesiredCapacity,DefaultCooldown,"
	    "AvailabilityZones,LoadBalancerNames,TargetGroupARNs,HealthCheckType,"
	    "HealthCheckGracePeriod,Instances,CreatedTime,SuspendedProcesses,"
	    "VPCZoneIdentifier,EnabledMetrics,Tags,TerminationPolicies,"
	    "NewInstancesProtectedFromScaleIn,ServiceLinkedRoleARN,CapacityRebalance,"
	    "TrafficSources");
	ck_assert_int_eq(xn(DAG "/Instances/member"), 4);
	ck_assert_str_eq(kids(DAG "/Instances/member[1]"), "InstanceId,InstanceType,"
	    "AvailabilityZone,LifecycleState,HealthStatus,LaunchConfigurationName,"
	    "ProtectedFromScaleIn");
	ck_assert_str_eq(xp(DAG "/Instances/member[1]/LifecycleState"), "InService");
	ck_assert_str_eq(xp(DAG "/Instances/member[1]/HealthStatus"), "Healthy");
	ck_assert_str_eq(xp(DAG "/DesiredCapacity"), "4");
	ck_assert_str_eq(xp(DAG "/HealthCheckType"), "EC2");
	ck_assert_str_eq(xp(DAG "/LoadBalancerNames/member"), model->elb.name);
	ck_assert_str_eq(xp(DAG "/Tags/member[Key='Cluster']/Value"), "bitbucket");
	ck_assert_int_eq(xn(DAG "/SuspendedProcesses/member"), 0);
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups&"
	    "AutoScalingGroupNames.member.1=other"), 200);
	ck_assert_int_eq(xn(DAG), 0);
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups&"
	    "Filters.member.1.Name=tag:Cluster&Filters.member.1.Values.member.1="
	    "bitbucket&IncludeInstances=false"), 200);
	ck_assert_int_eq(xn(DAG), 1);
	ck_assert_int_eq(xn(DAG "/Instances"), 0);
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups&"
	    "Filters.member.1.Name=tag-key&Filters.member.1.Values.member.1=Nope"), 200);
	ck_assert_int_eq(xn(DAG), 0);
	refused(call(ASG, "Action=DescribeAutoScalingGroups&MaxRecords=101"), 400,
	    "ValidationError", "1 validation error detected: Value '101' at "
	    "'maxRecords' failed to satisfy constraint: Member must have value less "
	    "than or equal to 100");
	refused(call(ASG, "Action=DescribeAutoScalingGroups&NextToken=x"), 400,
	    "InvalidNextToken", "The token 'x' is invalid.");
}
END_TEST

#define DAI "/DescribeAutoScalingInstancesResponse/" \
	    "DescribeAutoScalingInstancesResult/AutoScalingInstances/member"

START_TEST(asg_describe_instances)
{
	char	 tok[SIM_API_TOKEN_MAX];

	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingInstances&MaxRecords=3"),
	    200);
	ck_assert_int_eq(xn(DAI), 3);
	ck_assert_str_eq(kids(DAI "[1]"), "InstanceId,InstanceType,AutoScalingGroupName,"
	    "AvailabilityZone,LifecycleState,HealthStatus,LaunchConfigurationName,"
	    "ProtectedFromScaleIn");
	ck_assert_str_eq(xp(DAI "[1]/HealthStatus"), "HEALTHY");
	ck_assert_str_eq(xp(DAI "[1]/AutoScalingGroupName"), asg_name());
	snprintf(tok, sizeof(tok), "%s", xp("//NextToken"));
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingInstances&MaxRecords=3&"
	    "NextToken=%s", tok), 200);
	ck_assert_int_eq(xn(DAI), 1);
	ck_assert_str_eq(xp(DAI "/InstanceId"), member(3));
	ck_assert_int_eq(xn("//NextToken"), 0);
	/* The FileServer is no member: not listed even when asked for. */
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingInstances&"
	    "InstanceIds.member.1=%s&InstanceIds.member.2=%s", member(1),
	    model->file_server->id), 200);
	ck_assert_int_eq(xn(DAI), 1);
}
END_TEST

START_TEST(asg_hooks_and_refreshes)
{
	ck_assert_int_eq(call(ASG, "Action=DescribeLifecycleHooks&"
	    "AutoScalingGroupName=%s", asg_name()), 200);
	ck_assert_int_eq(xn("/DescribeLifecycleHooksResponse/"
	    "DescribeLifecycleHooksResult/LifecycleHooks"), 1);
	ck_assert_int_eq(xn("//LifecycleHooks/member"), 0);
	ck_assert_int_eq(call(ASG, "Action=DescribeInstanceRefreshes&"
	    "AutoScalingGroupName=%s", asg_name()), 200);
	ck_assert_int_eq(xn("/DescribeInstanceRefreshesResponse/"
	    "DescribeInstanceRefreshesResult/InstanceRefreshes"), 1);
	refused(call(ASG, "Action=DescribeLifecycleHooks&AutoScalingGroupName=x"), 400,
	    "ValidationError", "AutoScalingGroup name not found - null");
	refused(call(ASG, "Action=DescribeInstanceRefreshes"), 400, "ValidationError",
	    "1 validation error detected: Value null at 'autoScalingGroupName' failed "
	    "to satisfy constraint: Member must not be null");
}
END_TEST

#define TIA "/TerminateInstanceInAutoScalingGroupResponse/" \
	    "TerminateInstanceInAutoScalingGroupResult/Activity"
#define DSA "/DescribeScalingActivitiesResponse/DescribeScalingActivitiesResult/" \
	    "Activities/member"

START_TEST(asg_terminate)
{
	char	 act[64], want[128];

	refused(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s&"
	    "ShouldDecrementDesiredCapacity=true", member(0)), 400, "ValidationError",
	    "Currently, desiredSize equals minSize (4). Terminating instance without "
	    "replacement will violate group's min size constraint. Either set "
	    "shouldDecrementDesiredCapacity flag to false or lower group's min size.");
	refused(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s",
	    member(0)), 400, "ValidationError", "1 validation error detected: Value "
	    "null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: "
	    "Member must not be null");
	refused(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s&"
	    "ShouldDecrementDesiredCapacity=maybe", member(0)), 400, "ValidationError",
	    "1 validation error detected: Value 'maybe' at "
	    "'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member "
	    "must be true or false");
	refused(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&"
	    "InstanceId=i-0123456789abcdef0&ShouldDecrementDesiredCapacity=false"), 400,
	    "ValidationError", "Instance Id not found - No managed instance found for "
	    "instance ID: i-0123456789abcdef0");
	ck_assert_int_eq(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&"
	    "InstanceId=%s&ShouldDecrementDesiredCapacity=false", member(0)), 200);
	ck_assert_str_eq(kids(TIA), "ActivityId,AutoScalingGroupName,Description,Cause,"
	    "StartTime,StatusCode,Progress,Details,AutoScalingGroupARN");
	snprintf(act, sizeof(act), "%s", xp(TIA "/ActivityId"));
	snprintf(want, sizeof(want), "Terminating EC2 instance: %s", member(0));
	ck_assert_str_eq(xp(TIA "/Description"), want);
	ck_assert_str_eq(xp(TIA "/AutoScalingGroupName"), asg_name());
	snprintf(want, sizeof(want), "Activity %s is in progress.", act);
	refused(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s&"
	    "ShouldDecrementDesiredCapacity=false", member(1)), 400,
	    "ScalingActivityInProgress", want);
	ck_assert_int_eq(call(ASG, "Action=DescribeScalingActivities&"
	    "AutoScalingGroupName=%s&MaxRecords=1", asg_name()), 200);
	ck_assert_int_eq(xn(DSA), 1);
	ck_assert_str_eq(xp(DSA "/ActivityId"), act);
	ck_assert_int_eq(xn("//NextToken"), 1);
	ck_assert_int_eq(call(ASG, "Action=DescribeScalingActivities&"
	    "ActivityIds.member.1=%s", act), 200);
	ck_assert_int_eq(xn(DSA), 1);
	ck_assert_int_eq(call(ASG, "Action=DescribeScalingActivities&"
	    "AutoScalingGroupName=other"), 200);
	ck_assert_int_eq(xn(DSA), 0);
}
END_TEST

START_TEST(asg_protection)
{
	const char	*g = asg_name();
	char		 want[128];

	ck_assert_int_eq(call(ASG, "Action=SetInstanceProtection&AutoScalingGroupName=%s&"
	    "InstanceIds.member.1=%s&InstanceIds.member.2=%s&ProtectedFromScaleIn=true",
	    g, member(1), member(2)), 200);
	ck_assert_int_eq(xn("/SetInstanceProtectionResponse/"
	    "SetInstanceProtectionResult"), 1);
	later(1 * SEC);		/* past the consistency lag */
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups"), 200);
	ck_assert_str_eq(xp(DAG "/Instances/member[InstanceId='%s']/"
	    "ProtectedFromScaleIn", member(1)), "true");
	ck_assert_str_eq(xp(DAG "/Instances/member[InstanceId='%s']/"
	    "ProtectedFromScaleIn", member(0)), "false");
	/* A member on its way out cannot be protected. */
	ck_assert_int_eq(call(ASG, "Action=TerminateInstanceInAutoScalingGroup&"
	    "InstanceId=%s&ShouldDecrementDesiredCapacity=false", member(0)), 200);
	snprintf(want, sizeof(want), "The instance %s is not in InService or "
	    "EnteringStandby or Standby.", member(0));
	refused(call(ASG, "Action=SetInstanceProtection&AutoScalingGroupName=%s&"
	    "InstanceIds.member.1=%s&ProtectedFromScaleIn=true", g, member(0)), 400,
	    "ValidationError", want);
	refused(call(ASG, "Action=SetInstanceProtection&AutoScalingGroupName=nope&"
	    "InstanceIds.member.1=%s&ProtectedFromScaleIn=true", member(1)), 400,
	    "ValidationError", "AutoScalingGroup name not found - null");
	refused(call(ASG, "Action=SetInstanceProtection&AutoScalingGroupName=%s&"
	    "ProtectedFromScaleIn=true", g), 400, "ValidationError", "1 validation "
	    "error detected: Value null at 'instanceIds' failed to satisfy "
	    "constraint: Member must not be null");
}
END_TEST

START_TEST(asg_processes)
{
	const char	*g = asg_name();

	ck_assert_int_eq(call(ASG, "Action=SuspendProcesses&AutoScalingGroupName=%s&"
	    "ScalingProcesses.member.1=AlarmNotification&"
	    "ScalingProcesses.member.2=AZRebalance", g), 200);
	ck_assert_str_eq(kids("/SuspendProcessesResponse"), "ResponseMetadata");
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups"), 200);
	ck_assert_int_eq(xn(DAG "/SuspendedProcesses/member"), 2);
	ck_assert_int_eq(xn(DAG "/SuspendedProcesses/member[ProcessName="
	    "'AlarmNotification']"), 1);
	ck_assert_ptr_nonnull(strstr(xp(DAG "/SuspendedProcesses/member[1]/"
	    "SuspensionReason"), "User suspended at 2025-01-01T00:00:00Z"));
	/* botocore sends an empty list as "ScalingProcesses=": every process. */
	ck_assert_int_eq(call(ASG, "Action=ResumeProcesses&AutoScalingGroupName=%s&"
	    "ScalingProcesses=", g), 200);
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups"), 200);
	ck_assert_int_eq(xn(DAG "/SuspendedProcesses/member"), 0);
	ck_assert_int_eq(call(ASG, "Action=SuspendProcesses&AutoScalingGroupName=%s", g),
	    200);
	ck_assert_int_eq(call(ASG, "Action=DescribeAutoScalingGroups"), 200);
	ck_assert_int_eq(xn(DAG "/SuspendedProcesses/member"), SIM_NPROC);
	refused(call(ASG, "Action=ResumeProcesses&AutoScalingGroupName=%s&"
	    "ScalingProcesses.member.1=Nope", g), 400, "ValidationError",
	    "Process 'Nope' is not a valid scaling process");
	refused(call(ASG, "Action=ResumeProcesses&AutoScalingGroupName=x"), 400,
	    "ValidationError", "AutoScalingGroup name not found - null");
}
END_TEST

/* ---- EC2 ---- */

#define DI "/DescribeInstancesResponse/reservationSet/item"
#define DII DI "/instancesSet/item"

START_TEST(ec2_describe)
{
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances"), 200);
	ck_assert_str_eq(header("Content-Type"), SIM_CT_EC2);
	ck_assert_str_eq(kids("/DescribeInstancesResponse"), "requestId,reservationSet");
	ck_assert_int_eq(xn(DI), 5);
	ck_assert_str_eq(kids(DI "[1]"), "reservationId,ownerId,groupSet,instancesSet");
	ck_assert_str_eq(kids("(" DII ")[2]"), "tagSet,instanceId,imageId,instanceState,"
	    "privateDnsName,dnsName,reason,keyName,amiLaunchIndex,instanceType,"
	    "launchTime,placement,monitoring,subnetId,vpcId,privateIpAddress");
	ck_assert_str_eq(xp(DII "[instanceId='%s']/instanceState/name", member(0)),
	    "running");
	ck_assert_str_eq(xp(DII "[instanceId='%s']/instanceState/code", member(0)), "16");
	ck_assert_str_eq(xp(DII "[instanceId='%s']/privateIpAddress", member(0)),
	    model->inst[1]->ip);
	ck_assert_str_eq(xp(DII "[instanceId='%s']/placement/availabilityZone",
	    member(0)), "us-east-1a");
	ck_assert_str_eq(xp(DII "[instanceId='%s']/tagSet/item[key="
	    "'aws:autoscaling:groupName']/value", member(0)), asg_name());
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&InstanceId.1=%s&"
	    "InstanceId.2=%s", member(2), member(3)), 200);
	ck_assert_int_eq(xn(DII), 2);
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&Filter.1.Name=tag:Name&"
	    "Filter.1.Value.1=*NFS*"), 200);
	ck_assert_int_eq(xn(DII), 1);
	ck_assert_str_eq(xp(DII "/instanceId"), model->file_server->id);
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&Filter.1.Name=tag-key&"
	    "Filter.1.Value.1=aws:autoscaling:groupName&Filter.2.Name="
	    "instance-state-name&Filter.2.Value.1=running&Filter.2.Value.2=pending"),
	    200);
	ck_assert_int_eq(xn(DII), 4);
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&Filter.1.Name=instance-id&"
	    "Filter.1.Value.1=%s", member(1)), 200);
	ck_assert_int_eq(xn(DII), 1);
}
END_TEST

START_TEST(ec2_describe_refusals)
{
	char	 tok[SIM_API_TOKEN_MAX];

	refused(call(EC2, "Action=DescribeInstances&InstanceId.1=ma1"), 400,
	    "InvalidInstanceID.Malformed", "Invalid id: \"ma1\"");
	refused(call(EC2, "Action=DescribeInstances&InstanceId.1=i-0123456789abcdef0"),
	    400, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' "
	    "does not exist");
	refused(call(EC2, "Action=DescribeInstances&InstanceId.1=i-0123456789abcdef0&"
	    "InstanceId.2=i-0123456789abcdef1"), 400, "InvalidInstanceID.NotFound",
	    "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist");
	ck_assert_str_eq(header("Server"), "AmazonEC2");
	refused(call(EC2, "Action=DescribeInstances&InstanceId.1=%s&MaxResults=5",
	    member(0)), 400, "InvalidParameterCombination", "The parameter "
	    "instancesSet cannot be used with the parameter maxResults");
	refused(call(EC2, "Action=DescribeInstances&Filter.1.Name=nope&"
	    "Filter.1.Value.1=x"), 400, "InvalidParameterValue",
	    "The filter 'nope' is invalid");
	/* Query's list shape on EC2: a serializer's mistake. */
	refused(call(EC2, "Action=DescribeInstances&InstanceId.member.1=%s", member(0)),
	    400, "UnknownParameter", "The parameter InstanceId.member.1 is not "
	    "recognized");
	refused(call(EC2, "Action=DescribeInstances&DryRun=true"), 412,
	    "DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&MaxResults=5"), 200);
	ck_assert_int_eq(xn(DII), 5);
	ck_assert_int_eq(xn("//nextToken"), 0);
	sim_api_token(tok, sizeof(tok), 3);
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&NextToken=%s", tok), 200);
	ck_assert_int_eq(xn(DII), 2);
	refused(call(EC2, "Action=DescribeInstances&NextToken=x"), 400,
	    "InvalidPaginationToken", "The specified pagination token is not valid or "
	    "is expired.");
}
END_TEST

#define TI "/TerminateInstancesResponse/instancesSet/item"

START_TEST(ec2_terminate)
{
	ck_assert_int_eq(call(EC2, "Action=TerminateInstances&InstanceId.1=%s",
	    member(0)), 200);
	ck_assert_str_eq(kids(TI), "instanceId,currentState,previousState");
	ck_assert_str_eq(xp(TI "/currentState/name"), "shutting-down");
	ck_assert_str_eq(xp(TI "/currentState/code"), "32");
	ck_assert_str_eq(xp(TI "/previousState/name"), "running");
	ck_assert_str_eq(xp(TI "/previousState/code"), "16");
	refused(call(EC2, "Action=TerminateInstances"), 400, "MissingParameter",
	    "The request must contain the parameter InstanceId");
	later(30 * SEC);
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances&InstanceId.1=%s",
	    member(0)), 200);
	ck_assert_str_eq(xp(DII "/instanceState/name"), "terminated");
	ck_assert_str_eq(xp(DII "/stateReason/code"), "Client.UserInitiatedShutdown");
	ck_assert_int_eq(xn(DII "/privateIpAddress"), 0);
}
END_TEST

/* ---- CloudWatch ---- */

#define GMS "/GetMetricStatisticsResponse/GetMetricStatisticsResult"
#define GMD "/GetMetricDataResponse/GetMetricDataResult/MetricDataResults/member"

START_TEST(cw_statistics)
{
	/* At 00:01:30 (virtual): the minutes over in the window, one datapoint each. */
	later(90 * SEC);
	ck_assert_int_eq(call(CW, "Action=GetMetricStatistics&Namespace=AWS/EC2&"
	    "MetricName=CPUUtilization&Dimensions.member.1.Name=InstanceId&"
	    "Dimensions.member.1.Value=%s&StartTime=2024-12-31T23:58:00Z&"
	    "EndTime=2025-01-01T00:03:00Z&Period=60&Statistics.member.1=Average&"
	    "Statistics.member.2=SampleCount", member(0)), 200);
	ck_assert_str_eq(kids(GMS), "Label,Datapoints");
	ck_assert_str_eq(xp(GMS "/Label"), "CPUUtilization");
	ck_assert_int_eq(xn(GMS "/Datapoints/member"), 3);
	ck_assert_str_eq(kids(GMS "/Datapoints/member[1]"), "Timestamp,SampleCount,"
	    "Average,Unit");
	ck_assert_int_eq(xn(GMS "/Datapoints/member[Timestamp='2024-12-31T23:58:00Z']"),
	    1);
	ck_assert_int_eq(xn(GMS "/Datapoints/member[Timestamp='2025-01-01T00:00:00Z']"),
	    1);
	ck_assert_int_eq(xn(GMS "/Datapoints/member[Timestamp='2025-01-01T00:01:00Z']"),
	    0);		/* the minute under way is not published yet */
	ck_assert_int_eq(xn(GMS "/Datapoints/member[SampleCount='1.0']"), 3);
	ck_assert_str_eq(xp(GMS "/Datapoints/member[1]/Unit"), "Percent");
	ck_assert(atof(xp(GMS "/Datapoints/member[1]/Average")) > 40);
	/* The group's mean, as the template's alarms watch it. */
	ck_assert_int_eq(call(CW, "Action=GetMetricStatistics&Namespace=AWS/EC2&"
	    "MetricName=CPUUtilization&Dimensions.member.1.Name=AutoScalingGroupName&"
	    "Dimensions.member.1.Value=%s&StartTime=2024-12-31T23:58:00Z&"
	    "EndTime=2025-01-01T00:03:00Z&Period=300&Statistics.member.1=SampleCount",
	    asg_name()), 200);
	ck_assert_str_eq(xp(GMS "/Datapoints/member/SampleCount"), "12.0");
	/* No such instance, or a window without the model's now: no datapoint. */
	ck_assert_int_eq(call(CW, "Action=GetMetricStatistics&Namespace=AWS/EC2&"
	    "MetricName=CPUUtilization&Dimensions.member.1.Name=InstanceId&"
	    "Dimensions.member.1.Value=i-0123456789abcdef0&StartTime=2024-12-31T23:58:00Z&"
	    "EndTime=2025-01-01T00:03:00Z&Period=60&Statistics.member.1=Average"), 200);
	ck_assert_int_eq(xn(GMS "/Datapoints/member"), 0);
	ck_assert_int_eq(xn(GMS "/Datapoints"), 1);
	refused(call(CW, "Action=GetMetricStatistics&MetricName=CPUUtilization&"
	    "StartTime=2024-12-31T23:58:00Z&EndTime=2025-01-01T00:03:00Z&Period=60"),
	    400, "MissingParameter", "The parameter Namespace is required.\nThe "
	    "parameter Statistics is required.");
	refused(call(CW, "Action=GetMetricStatistics&Namespace=AWS/EC2&"
	    "MetricName=CPUUtilization&StartTime=2025-01-01T00:00:00Z&"
	    "EndTime=2025-01-01T00:00:00Z&Period=60&Statistics.member.1=Average"), 400,
	    "InvalidParameterValue", "The parameter StartTime must not equal parameter "
	    "EndTime.");
	refused(call(CW, "Action=GetMetricStatistics&Namespace=AWS/EC2&"
	    "MetricName=CPUUtilization&StartTime=2024-12-01T00:00:00Z&"
	    "EndTime=2025-01-01T00:00:00Z&Period=60&Statistics.member.1=Average"), 400,
	    "InvalidParameterCombination", "You have requested up to 44640 datapoints, "
	    "which exceeds the limit of 1440. You may reduce the datapoints requested "
	    "by increasing Period, or decreasing the time range.");
}
END_TEST

START_TEST(cw_metric_data)
{
	later(90 * SEC);
	ck_assert_int_eq(call(CW, "Action=GetMetricData&"
	    "MetricDataQueries.member.1.Id=cpu0&"
	    "MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS/EC2&"
	    "MetricDataQueries.member.1.MetricStat.Metric.MetricName=CPUUtilization&"
	    "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name="
	    "InstanceId&MetricDataQueries.member.1.MetricStat.Metric.Dimensions."
	    "member.1.Value=%s&MetricDataQueries.member.1.MetricStat.Period=300&"
	    "MetricDataQueries.member.1.MetricStat.Stat=Average&"
	    "MetricDataQueries.member.2.Id=gone&"
	    "MetricDataQueries.member.2.MetricStat.Metric.Namespace=AWS/EC2&"
	    "MetricDataQueries.member.2.MetricStat.Metric.MetricName=CPUUtilization&"
	    "MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name="
	    "InstanceId&MetricDataQueries.member.2.MetricStat.Metric.Dimensions."
	    "member.1.Value=i-0123456789abcdef0&"
	    "MetricDataQueries.member.2.MetricStat.Period=300&"
	    "MetricDataQueries.member.2.MetricStat.Stat=Average&"
	    "StartTime=2024-12-31T23:50:00Z&EndTime=2025-01-01T00:05:00Z", member(0)),
	    200);
	ck_assert_str_eq(kids("/GetMetricDataResponse/GetMetricDataResult"),
	    "MetricDataResults,Messages");
	ck_assert_int_eq(xn(GMD), 2);
	ck_assert_str_eq(kids(GMD "[1]"), "Id,Label,Timestamps,Values,StatusCode");
	ck_assert_str_eq(xp(GMD "[1]/Id"), "cpu0");
	ck_assert_str_eq(xp(GMD "[1]/StatusCode"), "Complete");
	ck_assert_str_eq(xp(GMD "[1]/Timestamps/member"), "2025-01-01T00:00:00Z");
	ck_assert_int_eq(xn(GMD "[1]/Values/member"), 3);	/* 23:50, 23:55, 00:00 */
	ck_assert_int_eq(xn(GMD "[2]/Values/member"), 0);
	ck_assert_str_eq(xp(GMD "[2]/StatusCode"), "Complete");
	refused(call(CW, "Action=GetMetricData&MetricDataQueries.member.1.Id=Bad&"
	    "StartTime=2024-12-31T23:50:00Z&EndTime=2025-01-01T00:05:00Z"), 400,
	    "InvalidParameterValue", "The parameter MetricDataQueries.member.1.Id has "
	    "an invalid value 'Bad': must start with a lowercase letter and hold only "
	    "letters, digits and underscores");
}
END_TEST

START_TEST(cw_json)
{
	json_t	*r, *a;
	char	 req[1024];

	later(90 * SEC);
	snprintf(req, sizeof(req), "{\"MetricDataQueries\": [{\"Id\": \"cpu0\", "
	    "\"MetricStat\": {\"Metric\": {\"Namespace\": \"AWS/EC2\", \"MetricName\": "
	    "\"CPUUtilization\", \"Dimensions\": [{\"Name\": \"InstanceId\", \"Value\": "
	    "\"%s\"}]}, \"Period\": 60, \"Stat\": \"Maximum\"}}], \"StartTime\": %lld, "
	    "\"EndTime\": %lld}", member(0), EPOCH - 600, EPOCH + 300);
	ck_assert_int_eq(call_json("GetMetricData", req), 200);
	ck_assert_str_eq(header("Content-Type"), SIM_CT_JSON);
	r = json_array_get(json_object_get(jbody, "MetricDataResults"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "Id")), "cpu0");
	ck_assert_str_eq(json_string_value(json_object_get(r, "StatusCode")), "Complete");
	a = json_object_get(r, "Timestamps");
	ck_assert_int_eq((int)json_array_size(a), 11);	/* newest first */
	ck_assert(json_real_value(json_array_get(a, 0)) == (double)EPOCH);
	ck_assert(json_real_value(json_array_get(a, 10)) == (double)(EPOCH - 600));
	ck_assert(json_is_real(json_array_get(json_object_get(r, "Values"), 0)));
	ck_assert_int_eq(call_json("DescribeAlarms", "{}"), 200);
	a = json_object_get(jbody, "MetricAlarms");
	ck_assert_int_eq((int)json_array_size(a), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0),
	    "StateValue")), "OK");
	ck_assert(json_is_true(json_object_get(json_array_get(a, 0), "ActionsEnabled")));
	refused(call_json("GetMetricStatistics", "{\"MetricName\": \"CPUUtilization\"}"),
	    400, "MissingParameter;Sender", "The parameter Namespace is required.\nThe "
	    "parameter StartTime is required.\nThe parameter EndTime is required.\nThe "
	    "parameter Period is required.\nThe parameter Statistics is required.");
	refused(call_json("DescribeAlarms", "{\"Bogus\": 1}"), 400,
	    "SerializationException;Sender", "Unknown member 'Bogus'");
	snprintf(req, sizeof(req), "{\"Namespace\": \"AWS/EC2\", \"MetricName\": "
	    "\"CPUUtilization\", \"Dimensions\": [{\"Name\": \"InstanceId\", \"Value\": "
	    "\"%s\"}], \"StartTime\": %lld, \"EndTime\": %lld, \"Period\": 60, "
	    "\"Statistics\": [\"Average\"], \"ExtendedStatistics\": [\"p99\"]}",
	    member(0), EPOCH, EPOCH + 300);
	ck_assert_int_eq(call_json("GetMetricStatistics", req), 200);
	r = json_array_get(json_object_get(jbody, "Datapoints"), 0);
	ck_assert(json_is_real(json_object_get(r, "Average")));
	ck_assert(json_is_real(json_object_get(json_object_get(r, "ExtendedStatistics"),
	    "p99")));
}
END_TEST

#define DA "/DescribeAlarmsResponse/DescribeAlarmsResult/MetricAlarms/member"

START_TEST(cw_alarms)
{
	ck_assert_int_eq(call(CW, "Action=DescribeAlarms"), 200);
	ck_assert_int_eq(xn(DA), 2);
	ck_assert_str_eq(kids(DA "[1]"), "AlarmName,AlarmArn,AlarmDescription,"
	    "AlarmConfigurationUpdatedTimestamp,ActionsEnabled,OKActions,AlarmActions,"
	    "InsufficientDataActions,StateValue,StateReason,StateUpdatedTimestamp,"
	    "MetricName,Namespace,Statistic,Dimensions,Period,EvaluationPeriods,"
	    "Threshold,ComparisonOperator,StateTransitionedTimestamp");
	ck_assert_ptr_nonnull(strstr(xp(DA "[1]/AlarmName"), "CPUAlarmHigh"));
	ck_assert_str_eq(xp(DA "[1]/Threshold"), "60.0");
	ck_assert_str_eq(xp(DA "[2]/ComparisonOperator"), "LessThanThreshold");
	ck_assert_str_eq(xp(DA "[1]/Dimensions/member/Value"), asg_name());
	ck_assert_str_eq(xp(DA "[1]/StateValue"), "OK");
	ck_assert_int_eq(call(CW, "Action=DescribeAlarms&StateValue=ALARM"), 200);
	ck_assert_int_eq(xn(DA), 0);
	ck_assert_int_eq(call(CW, "Action=DescribeAlarms&MaxRecords=1"), 200);
	ck_assert_int_eq(xn(DA), 1);
	ck_assert_int_eq(xn("//NextToken"), 1);
	refused(call(CW, "Action=DescribeAlarms&StateValue=MAYBE"), 400,
	    "InvalidParameterValue", "The parameter StateValue has an invalid value "
	    "'MAYBE': Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, "
	    "OK]");
}
END_TEST

/* ---- the Classic ELB ---- */

#define DLB "/DescribeLoadBalancersResponse/DescribeLoadBalancersResult/" \
	    "LoadBalancerDescriptions/member"
#define DIH "/DescribeInstanceHealthResponse/DescribeInstanceHealthResult/" \
	    "InstanceStates/member"

START_TEST(elb_describe)
{
	char	 want[128];

	ck_assert_int_eq(call(ELB, "Action=DescribeLoadBalancers"), 200);
	ck_assert_str_eq(kids(DLB), "LoadBalancerName,DNSName,CanonicalHostedZoneName,"
	    "CanonicalHostedZoneNameID,ListenerDescriptions,Policies,"
	    "BackendServerDescriptions,AvailabilityZones,Subnets,VPCId,Instances,"
	    "HealthCheck,SourceSecurityGroup,SecurityGroups,CreatedTime,Scheme");
	ck_assert_str_eq(xp(DLB "/HealthCheck/Target"), "HTTP:7990/status");
	ck_assert_int_eq(xn(DLB "/Instances/member"), 4);
	ck_assert_str_eq(xp(DLB "/Policies/AppCookieStickinessPolicies/member/"
	    "CookieName"), "BITBUCKETSESSIONID");
	snprintf(want, sizeof(want), "There is no ACTIVE Load Balancer named 'nope'");
	refused(call(ELB, "Action=DescribeLoadBalancers&LoadBalancerNames.member.1=nope"),
	    400, "LoadBalancerNotFound", want);
	ck_assert_int_eq(call(ELB, "Action=DescribeLoadBalancerAttributes&"
	    "LoadBalancerName=%s", model->elb.name), 200);
#define LBA "/DescribeLoadBalancerAttributesResponse/" \
	    "DescribeLoadBalancerAttributesResult/LoadBalancerAttributes"
	ck_assert_str_eq(kids(LBA), "CrossZoneLoadBalancing,AccessLog,"
	    "ConnectionDraining,ConnectionSettings,AdditionalAttributes");
	ck_assert_str_eq(xp(LBA "/ConnectionDraining/Enabled"), "true");
	ck_assert_str_eq(xp(LBA "/ConnectionDraining/Timeout"), "5");
	ck_assert_str_eq(xp(LBA "/ConnectionSettings/IdleTimeout"), "3600");
	ck_assert_str_eq(xp(LBA "/CrossZoneLoadBalancing/Enabled"), "true");
	refused(call(ELB, "Action=DescribeLoadBalancerAttributes"), 400,
	    "ValidationError", "1 validation error detected: Value null at "
	    "'loadBalancerName' failed to satisfy constraint: Member must not be null");
}
END_TEST

START_TEST(elb_health_and_drain)
{
	const char	*lb = model->elb.name;

	ck_assert_int_eq(call(ELB, "Action=DescribeInstanceHealth&LoadBalancerName=%s",
	    lb), 200);
	ck_assert_int_eq(xn(DIH), 4);
	ck_assert_str_eq(kids(DIH "[1]"), "InstanceId,State,ReasonCode,Description");
	ck_assert_str_eq(xp(DIH "[1]/State"), "InService");
	ck_assert_str_eq(xp(DIH "[1]/ReasonCode"), "N/A");
	ck_assert_int_eq(call(ELB, "Action=DeregisterInstancesFromLoadBalancer&"
	    "LoadBalancerName=%s&Instances.member.1.InstanceId=%s", lb, member(0)), 200);
	ck_assert_int_eq(xn("/DeregisterInstancesFromLoadBalancerResponse/"
	    "DeregisterInstancesFromLoadBalancerResult/Instances/member"), 3);
	ck_assert_int_eq(xn("//Instances/member[InstanceId='%s']", member(0)), 0);
	/* Nothing in flight (no traffic): the drain ends at once. */
	ck_assert_int_eq(call(ELB, "Action=DescribeInstanceHealth&LoadBalancerName=%s&"
	    "Instances.member.1.InstanceId=%s", lb, member(0)), 200);
	ck_assert_int_eq(xn(DIH), 1);
	ck_assert_str_eq(xp(DIH "/State"), "OutOfService");
	ck_assert_str_eq(xp(DIH "/Description"), "Instance is not currently registered "
	    "with the LoadBalancer");
	ck_assert_int_eq(call(ELB, "Action=RegisterInstancesWithLoadBalancer&"
	    "LoadBalancerName=%s&Instances.member.1.InstanceId=%s", lb, member(0)), 200);
	ck_assert_int_eq(xn("/RegisterInstancesWithLoadBalancerResponse/"
	    "RegisterInstancesWithLoadBalancerResult/Instances/member"), 4);
	ck_assert_int_eq(call(ELB, "Action=DescribeInstanceHealth&LoadBalancerName=%s&"
	    "Instances.member.1.InstanceId=%s", lb, member(0)), 200);
	ck_assert_str_eq(xp(DIH "/State"), "OutOfService");
	ck_assert_str_eq(xp(DIH "/ReasonCode"), "ELB");
	refused(call(ELB, "Action=DescribeInstanceHealth&LoadBalancerName=%s&"
	    "Instances.member.1.InstanceId=i-0123456789abcdef0", lb), 400,
	    "InvalidInstance", "Could not find EC2 instance i-0123456789abcdef0.");
	refused(call(ELB, "Action=DeregisterInstancesFromLoadBalancer&"
	    "LoadBalancerName=%s", lb), 400, "ValidationError", "1 validation error "
	    "detected: Value null at 'instances' failed to satisfy constraint: Member "
	    "must not be null");
	refused(call(ELB, "Action=DeregisterInstancesFromLoadBalancer&"
	    "LoadBalancerName=%s&Instances.member.1.Id=x", lb), 400, "ValidationError",
	    "1 validation error detected: Value null at 'instances.1.member.instanceId' "
	    "failed to satisfy constraint: Member must not be null");
	refused(call(ELB, "Action=DeregisterInstancesFromLoadBalancer&LoadBalancerName="
	    "nope&Instances.member.1.InstanceId=%s", member(0)), 400,
	    "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named 'nope'");
}
END_TEST

/* Draining with requests in flight: InService, "deregistration in progress". */
static void
busy(struct sim_params *p)
{
	p->rate = 200;
	p->req[0] = (struct sim_req_class){ 0.0, 50, 500 };
	p->req[1] = (struct sim_req_class){ 0.0, 1 * SEC, 3 * SEC };
	p->req[2] = (struct sim_req_class){ 1.0, 4 * SEC, 4 * SEC };
}

START_TEST(elb_draining)
{
	teardown();
	start(busy);
	later(2 * SEC);
	ck_assert_int_eq(call(ELB, "Action=DeregisterInstancesFromLoadBalancer&"
	    "LoadBalancerName=%s&Instances.member.1.InstanceId=%s", model->elb.name,
	    member(0)), 200);
	ck_assert_int_eq(call(ELB, "Action=DescribeInstanceHealth&LoadBalancerName=%s",
	    model->elb.name), 200);
	ck_assert_int_eq(xn(DIH), 4);
	ck_assert_str_eq(xp(DIH "[InstanceId='%s']/State", member(0)), "InService");
	ck_assert_str_eq(xp(DIH "[InstanceId='%s']/Description", member(0)),
	    "Instance deregistration currently in progress");
}
END_TEST

/* ---- what every operation does first ---- */

static void
stingy(struct sim_params *p)
{
	p->throttle = 1;
	p->bucket = 1;
	p->refill = 0.001;
}

START_TEST(api_throttled_and_counted)
{
	const struct sim_call_count	*cc;
	size_t				 n, calls = 0;

	teardown();
	start(stingy);
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks"), 200);
	refused(call(CFN, "Action=DescribeStacks"), 400, "Throttling", "Rate exceeded");
	ck_assert_int_eq(call(EC2, "Action=DescribeInstances"), 200);
	refused(call(EC2, "Action=DescribeInstances"), 503, "RequestLimitExceeded",
	    "Request limit exceeded.");
	ck_assert_int_eq(call_json("DescribeAlarms", "{}"), 200);
	ck_assert_int_eq(call_json("DescribeAlarms", "{}"), 400);
	ck_assert_str_eq(header("x-amzn-query-error"), "Throttling;Sender");
	cc = sim_api_counts(model, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(cc[i].action, "DescribeStacks") == 0) {
			ck_assert_int_eq((int)cc[i].calls, 2);
			ck_assert_int_eq((int)cc[i].throttled, 1);
			calls++;
		}
	ck_assert_int_eq((int)calls, 1);
}
END_TEST

START_TEST(api_no_world)
{
	sim.model = NULL;
	refused(call(CFN, "Action=DescribeStacks"), 503, "ServiceUnavailable",
	    "bbsim: no simulated world is loaded");
	sim.model = model;
}
END_TEST

START_TEST(api_helpers)
{
	char	 buf[SIM_API_TOKEN_MAX], a[40], b[40];
	size_t	 pos;

	sim_api_token(buf, sizeof(buf), 1234);
	ck_assert_int_eq(sim_api_token_read(buf, &pos), 0);
	ck_assert_int_eq((int)pos, 1234);
	buf[strlen(buf) - 1] ^= 1;
	ck_assert_int_eq(sim_api_token_read(buf, &pos), -1);
	ck_assert_int_eq(sim_api_token_read("", &pos), -1);
	ck_assert_int_eq(sim_api_token_read("bbsim1-1-", &pos), -1);
	sim_api_fake_id(a, sizeof(a), "subnet-0", "x", 16);
	sim_api_fake_id(b, sizeof(b), "vpc-0", "x", 16);
	ck_assert_int_eq((int)strlen(a), 24);
	ck_assert_str_ne(a + 8, b + 5);
	sim_api_fake_id(b, sizeof(b), "subnet-0", "x", 16);
	ck_assert_str_eq(a, b);
	sim_api_fake_id(a, 6, "subnet-0", "x", 16);
	ck_assert_str_eq(a, "subne");
}
END_TEST

/* ---- fault rules around the model's operations ---- */

static void
rules(const char *text)
{
	json_t	*j = json_loads(text, 0, NULL);
	char	 err[256];

	ck_assert_msg(j != NULL, "bad test JSON %s", text);
	ck_assert_msg(sim_faults_set(&sim.faults, j, err, sizeof(err)) == 0, "%s", err);
	json_decref(j);
}

/* A Bitbucket request as the sysadmin, through bitbucket_api.c's dispatch. */
static int
bitbucket(const char *method, const char *path)
{
	struct sim_req	 req;

	sim_resp_free(&resp);
	ck_assert_int_eq(sim_req_init(&req, method, path), 0);
	ck_assert_int_eq(sim_req_add_header(&req, "Authorization",
	    "Basic YWRtaW46YWRtaW4tc2VjcmV0LXRlc3Q="), 0);
	sim_bitbucket_handle(&sim, &req, path, &resp);
	sim_req_free(&req);
	return resp.status;
}

static const char *
zdu_state(void)
{
	static char	 state[32];
	json_t		*j;

	ck_assert_int_eq(bitbucket("GET", "/rest/zdu/cluster"), 200);
	j = json_loadb(resp.body, resp.len, 0, NULL);
	snprintf(state, sizeof(state), "%s",
	    json_string_value(json_object_get(j, "state")));
	json_decref(j);
	return state;
}

/* After: the endpoint took effect, its answer is lost. Before: it did not run. */
START_TEST(faults_bitbucket)
{
	rules("{\"rules\":[{\"service\":\"bitbucket\",\"action\":\"start\","
	    "\"network\":\"no_answer\",\"when\":\"after\",\"count\":1},"
	    "{\"service\":\"bitbucket\",\"action\":\"status\","
	    "\"error\":\"ServiceUnavailable\"},{\"service\":\"bitbucket\","
	    "\"action\":\"cancel\",\"error\":\"InternalFailure\",\"count\":1}]}");
	ck_assert_int_eq(bitbucket("GET", "/status"), 503);
	ck_assert_uint_eq(resp.len, 0);
	ck_assert_str_eq(zdu_state(), "STABLE");
	bitbucket("POST", "/rest/zdu/start");
	ck_assert_int_eq(resp.fault.net, SIM_NET_NO_ANSWER);
	ck_assert_int_eq(resp.fault.applied, 1);
	ck_assert_int_eq(resp.fault.status, 200);
	ck_assert_str_eq(resp.fault.service, "bitbucket");
	ck_assert_str_eq(resp.fault.action, "start");
	ck_assert_str_eq(zdu_state(), "READY_TO_UPGRADE");
	ck_assert_int_eq(bitbucket("POST", "/rest/zdu/cancel"), 500);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"errors\""));
	ck_assert_str_eq(zdu_state(), "READY_TO_UPGRADE");
	/* Both counts spent: the endpoints answer as they would. */
	ck_assert_int_eq(bitbucket("POST", "/rest/zdu/start"), 409);
	ck_assert_int_eq(resp.fault.net, SIM_NET_NONE);
	rules("{\"rules\":[{\"service\":\"bitbucket\",\"action\":\"cancel\","
	    "\"network\":\"reset\"}]}");
	bitbucket("POST", "/rest/zdu/cancel");
	ck_assert_int_eq(resp.fault.net, SIM_NET_RESET);
	ck_assert_int_eq(resp.fault.applied, 0);
	ck_assert_str_eq(zdu_state(), "READY_TO_UPGRADE");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    sim.counters, "faults"), "bitbucket/start/no_answer")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(
	    sim.counters, "api_calls"), "bitbucket"), "POST /rest/zdu/cancel")), 2);
}
END_TEST

/* With the operations registered, a rule must name one that exists. */
START_TEST(faults_action_names)
{
	json_t	*j;
	char	 err[256];

	rules("{\"rules\":[{\"service\":\"autoscaling\",\"action\":"
	    "\"TerminateInstanceInAutoScalingGroup\",\"network\":\"reset\"},"
	    "{\"service\":\"elasticloadbalancing\",\"action\":"
	    "\"DescribeInstanceHealth\",\"latency_ms\":5}]}");
	j = json_loads("{\"rules\":[{\"service\":\"autoscaling\",\"action\":"
	    "\"TerminateInstance\"}]}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "rules[0]: action \"TerminateInstance\": autoscaling has "
	    "no such operation in bbsim");
	json_decref(j);
	ck_assert_uint_eq(sim.faults.n, 2);
}
END_TEST

/* Identity checks are not orchestration: GetCallerIdentity is not the model's call. */
START_TEST(api_sts_not_counted)
{
	const struct sim_call_count	*cc;
	size_t				 n;

	ck_assert_int_eq(call("sts", "2011-06-15", "Action=GetCallerIdentity"), 200);
	ck_assert_int_eq(call(CFN, "Action=DescribeStacks"), 200);
	cc = sim_api_counts(model, &n);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_ne(cc[i].svc, SIM_SVC_STS);
}
END_TEST

Suite *
sim_api_suite(void)
{
	Suite	*s = suite_create("sim_api");
	TCase	*cfn = tcase_create("cloudformation");
	TCase	*asg = tcase_create("autoscaling");
	TCase	*rest = tcase_create("ec2_cw_elb");

	tcase_add_checked_fixture(cfn, setup, teardown);
	tcase_add_test(cfn, cfn_describe_stacks);
	tcase_add_test(cfn, cfn_describe_nested);
	tcase_add_test(cfn, cfn_update_refusals);
	tcase_add_test(cfn, cfn_update_and_events);
	tcase_add_test(cfn, cfn_events_pages);
	tcase_add_test(cfn, cfn_change_sets);
	tcase_add_test(cfn, cfn_change_set_nested);
	tcase_add_test(cfn, cfn_change_set_delete);
	tcase_add_test(cfn, cfn_resources);
	tcase_add_test(cfn, cfn_template_summary);
	suite_add_tcase(s, cfn);
	tcase_add_checked_fixture(asg, setup, teardown);
	tcase_add_test(asg, asg_describe_groups);
	tcase_add_test(asg, asg_describe_instances);
	tcase_add_test(asg, asg_hooks_and_refreshes);
	tcase_add_test(asg, asg_terminate);
	tcase_add_test(asg, asg_protection);
	tcase_add_test(asg, asg_processes);
	suite_add_tcase(s, asg);
	tcase_add_checked_fixture(rest, setup, teardown);
	tcase_add_test(rest, ec2_describe);
	tcase_add_test(rest, ec2_describe_refusals);
	tcase_add_test(rest, ec2_terminate);
	tcase_add_test(rest, cw_statistics);
	tcase_add_test(rest, cw_metric_data);
	tcase_add_test(rest, cw_json);
	tcase_add_test(rest, cw_alarms);
	tcase_add_test(rest, elb_describe);
	tcase_add_test(rest, elb_health_and_drain);
	tcase_add_test(rest, elb_draining);
	tcase_add_test(rest, api_throttled_and_counted);
	tcase_add_test(rest, api_no_world);
	tcase_add_test(rest, api_helpers);
	tcase_add_test(rest, api_sts_not_counted);
	tcase_add_test(rest, faults_bitbucket);
	tcase_add_test(rest, faults_action_names);
	suite_add_tcase(s, rest);
	return s;
}
