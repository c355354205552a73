/*
 * Query/EC2 request bodies: every call the engine makes, built with aws_query_* and
 * compared byte for byte with tests/fixtures/aws/query/<name>.body, which botocore's
 * own serializer produced (see the README there; no Python at run time). Where
 * botocore's wire bytes differ (a space sent as '+'), <name>.wire holds them and the
 * two bodies must decode to the same parameter list. Then the pieces: encoding,
 * the service table, ClientRequestToken, and every way an add can fail.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/aws/query.h"
#include "tests/suites_decl.h"

#define FIXTURES	"tests/fixtures/aws/query"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define STACK		"bbdc"
#define STACK_ARN	"arn:aws:cloudformation:eu-west-1:123456789012:stack/bbdc/" \
			"5b9d8f30-4a2e-11ef-9c3e-0a1b2c3d4e5f"
#define ASG		"bbdc-ClusterNodeGroup-1ABCDEF2GHIJ"
#define ELB		"bbdc-LoadBala-1X2Y3Z4W5V6U"
#define I1		"i-0123456789abcdef0"
#define I2		"i-0fedcba9876543210"
#define TOKEN		"AAEAAbq9/w+xYz3Q0Kf1mE=="
#define T0		((time_t)1748779200)	/* 2025-06-01T12:00:00Z */

static const char *const processes[] = {
	"HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification",
	"ScheduledActions",
};
static const char *const two_ids[] = { I1, I2 };

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*lenp = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* --- the calls, as the engine will make them ---------------------------------- */

static void
cfn_describe_stacks(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStacks");
	aws_query_add(q, "StackName", STACK);
}

static void
cfn_describe_stack_resource(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackResource");
	aws_query_add(q, "StackName", STACK);
	aws_query_add(q, "LogicalResourceId", "ClusterNodeGroup");
}

static void
cfn_describe_stack_resources(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackResources");
	aws_query_add(q, "StackName", STACK);
	aws_query_add(q, "LogicalResourceId", "LoadBalancer");
}

static void
cfn_describe_stack_events(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackEvents");
	aws_query_add(q, "StackName", STACK_ARN);
	aws_query_add(q, "NextToken", TOKEN);
}

static void
cfn_create_change_set(struct aws_query *q)
{
	static const struct {
		const char	*key;
		const char	*value;		/* NULL: UsePreviousValue */
	} params[] = {
		{ "BitbucketVersion", "8.19.5" },
		{ "ClusterNodeMin", "3" },
		{ "DBPassword", NULL },
		{ "CidrBlock", "10.0.0.0/16" },
		{ "SSLCertificateName", "" },
		{ "DisplayName", "Bitbucket f\xc3\xbcr Teams & Co ~*+" },
	};
	static const char *const caps[] = { "CAPABILITY_IAM" };
	size_t	 i;

	aws_query_init(q, AWS_CLOUDFORMATION, "CreateChangeSet");
	aws_query_add(q, "StackName", STACK);
	aws_query_add_bool(q, "UsePreviousTemplate", 1);
	for (i = 0; i < nitems(params); i++) {
		aws_query_add(q, aws_query_key(q, "Parameters.member.%zu.ParameterKey",
		    i + 1), params[i].key);
		if (params[i].value == NULL)
			aws_query_add_bool(q, aws_query_key(q,
			    "Parameters.member.%zu.UsePreviousValue", i + 1), 1);
		else
			aws_query_add(q, aws_query_key(q,
			    "Parameters.member.%zu.ParameterValue", i + 1),
			    params[i].value);
	}
	aws_query_add_list(q, "Capabilities", caps, nitems(caps));
	aws_query_add(q, "ChangeSetName", "bbupgraded-42-1");
	aws_query_add(q, "ClientToken", "bbupgraded-42-1-cs");
	aws_query_add_bool(q, "IncludeNestedStacks", 1);
	aws_query_add(q, "ChangeSetType", "UPDATE");
}

static void
cfn_describe_change_set(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DescribeChangeSet");
	aws_query_add(q, "ChangeSetName", "bbupgraded-42-1");
	aws_query_add(q, "StackName", STACK);
	aws_query_add(q, "NextToken", TOKEN);
}

static void
cfn_execute_change_set(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "ExecuteChangeSet");
	aws_query_add(q, "ChangeSetName", "bbupgraded-42-1");
	aws_query_add(q, "StackName", STACK);
	aws_query_add(q, "ClientRequestToken", "bbupgraded-42-1-exec");
}

static void
cfn_delete_change_set(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "DeleteChangeSet");
	aws_query_add(q, "ChangeSetName", "bbupgraded-42-1");
	aws_query_add(q, "StackName", STACK);
}

static void
cfn_cancel_update_stack(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "CancelUpdateStack");
	aws_query_add(q, "StackName", STACK);
	aws_query_add(q, "ClientRequestToken", "bbupgraded-42-cancel");
}

static void
cfn_get_template_summary(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDFORMATION, "GetTemplateSummary");
	aws_query_add(q, "StackName", STACK);
}

static void
asg_describe_groups(struct aws_query *q)
{
	static const char *const names[] = { ASG };

	aws_query_init(q, AWS_AUTOSCALING, "DescribeAutoScalingGroups");
	aws_query_add_list(q, "AutoScalingGroupNames", names, nitems(names));
	aws_query_add_int(q, "MaxRecords", 100);
}

static void
asg_describe_instances(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "DescribeAutoScalingInstances");
	aws_query_add_list(q, "InstanceIds", two_ids, nitems(two_ids));
}

static void
asg_describe_activities(struct aws_query *q)
{
	static const char *const ids[] = { "0145aa55-f1bb-3172-7086-6def24ae52f0" };

	aws_query_init(q, AWS_AUTOSCALING, "DescribeScalingActivities");
	aws_query_add_list(q, "ActivityIds", ids, nitems(ids));
	aws_query_add(q, "AutoScalingGroupName", ASG);
}

static void
asg_describe_hooks(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "DescribeLifecycleHooks");
	aws_query_add(q, "AutoScalingGroupName", ASG);
}

static void
asg_describe_refreshes(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "DescribeInstanceRefreshes");
	aws_query_add(q, "AutoScalingGroupName", ASG);
}

static void
asg_terminate(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "TerminateInstanceInAutoScalingGroup");
	aws_query_add(q, "InstanceId", I1);
	aws_query_add_bool(q, "ShouldDecrementDesiredCapacity", 0);
}

static void
asg_protect(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "SetInstanceProtection");
	aws_query_add_list(q, "InstanceIds", two_ids, nitems(two_ids));
	aws_query_add(q, "AutoScalingGroupName", ASG);
	aws_query_add_bool(q, "ProtectedFromScaleIn", 1);
}

static void
asg_suspend(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "SuspendProcesses");
	aws_query_add(q, "AutoScalingGroupName", ASG);
	aws_query_add_list(q, "ScalingProcesses", processes, nitems(processes));
}

static void
asg_resume(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "ResumeProcesses");
	aws_query_add(q, "AutoScalingGroupName", ASG);
	aws_query_add_list(q, "ScalingProcesses", processes, nitems(processes));
}

static void
asg_resume_empty(struct aws_query *q)
{
	aws_query_init(q, AWS_AUTOSCALING, "ResumeProcesses");
	aws_query_add(q, "AutoScalingGroupName", ASG);
	aws_query_add_list(q, "ScalingProcesses", NULL, 0);
}

static void
ec2_describe_instances(struct aws_query *q)
{
	static const char *const states[] = { "pending", "running" };
	static const char *const groups[] = { ASG };

	aws_query_init(q, AWS_EC2, "DescribeInstances");
	aws_query_add_flat(q, "InstanceId", two_ids, nitems(two_ids));
	aws_query_add_filter(q, 1, "instance-state-name", states, nitems(states));
	aws_query_add_filter(q, 2, "tag:aws:autoscaling:groupName", groups,
	    nitems(groups));
}

static void
ec2_describe_instances_page(struct aws_query *q)
{
	static const char *const stacks[] = { STACK };

	aws_query_init(q, AWS_EC2, "DescribeInstances");
	aws_query_add_filter(q, 1, "tag:aws:cloudformation:stack-name", stacks,
	    nitems(stacks));
	aws_query_add_int(q, "MaxResults", 1000);
	aws_query_add(q, "NextToken", TOKEN);
	aws_query_add_bool(q, "DryRun", 0);
}

/* One MetricDataQueries member with a single dimension. */
static void
metric_query(struct aws_query *q, size_t n, const char *id, const char *dim,
    const char *value, int period, const char *stat, const char *unit,
    const char *label, int ret)
{
	const char	*m = "MetricDataQueries.member";

	aws_query_add(q, aws_query_key(q, "%s.%zu.Id", m, n), id);
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric.Namespace", m, n),
	    "AWS/EC2");
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Metric.MetricName", m, n),
	    "CPUUtilization");
	aws_query_add(q, aws_query_key(q,
	    "%s.%zu.MetricStat.Metric.Dimensions.member.1.Name", m, n), dim);
	aws_query_add(q, aws_query_key(q,
	    "%s.%zu.MetricStat.Metric.Dimensions.member.1.Value", m, n), value);
	aws_query_add_int(q, aws_query_key(q, "%s.%zu.MetricStat.Period", m, n),
	    period);
	aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Stat", m, n), stat);
	if (unit != NULL)
		aws_query_add(q, aws_query_key(q, "%s.%zu.MetricStat.Unit", m, n),
		    unit);
	if (label != NULL)
		aws_query_add(q, aws_query_key(q, "%s.%zu.Label", m, n), label);
	aws_query_add_bool(q, aws_query_key(q, "%s.%zu.ReturnData", m, n), ret);
}

static void
cw_get_metric_data(struct aws_query *q)
{
	aws_query_init(q, AWS_CLOUDWATCH, "GetMetricData");
	metric_query(q, 1, "cpu0", "InstanceId", I1, 60, "Average", NULL, NULL, 1);
	metric_query(q, 2, "cpu1", "InstanceId", I2, 60, "Average", NULL, NULL, 1);
	metric_query(q, 3, "group", "AutoScalingGroupName", ASG, 300, "Maximum",
	    "Percent", "group max", 0);
	aws_query_add_time(q, "StartTime", T0);
	aws_query_add_time(q, "EndTime", T0 + 15 * 60);
	aws_query_add(q, "ScanBy", "TimestampDescending");
}

static void
cw_describe_alarms(struct aws_query *q)
{
	static const char *const names[] = {
		"bbdc-CPUAlarmHigh-1A2B3C", "bbdc-CPUAlarmLow-4D5E6F",
	};

	aws_query_init(q, AWS_CLOUDWATCH, "DescribeAlarms");
	aws_query_add_list(q, "AlarmNames", names, nitems(names));
	aws_query_add_int(q, "MaxRecords", 10);
}

static void
elb_describe(struct aws_query *q)
{
	static const char *const names[] = { ELB };

	aws_query_init(q, AWS_ELB, "DescribeLoadBalancers");
	aws_query_add_list(q, "LoadBalancerNames", names, nitems(names));
}

/* Instances.member.N.InstanceId: a list of structures with one field. */
static void
elb_instances(struct aws_query *q, const char *const *ids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		aws_query_add(q, aws_query_key(q, "Instances.member.%zu.InstanceId",
		    i + 1), ids[i]);
}

static void
elb_health(struct aws_query *q)
{
	aws_query_init(q, AWS_ELB, "DescribeInstanceHealth");
	aws_query_add(q, "LoadBalancerName", ELB);
	elb_instances(q, two_ids, 2);
}

static void
elb_deregister(struct aws_query *q)
{
	aws_query_init(q, AWS_ELB, "DeregisterInstancesFromLoadBalancer");
	aws_query_add(q, "LoadBalancerName", ELB);
	elb_instances(q, two_ids, 1);
}

static void
elb_register(struct aws_query *q)
{
	aws_query_init(q, AWS_ELB, "RegisterInstancesWithLoadBalancer");
	aws_query_add(q, "LoadBalancerName", ELB);
	elb_instances(q, two_ids, 1);
}

static void
elb_attributes(struct aws_query *q)
{
	aws_query_init(q, AWS_ELB, "DescribeLoadBalancerAttributes");
	aws_query_add(q, "LoadBalancerName", ELB);
}

static void
sts_caller_identity(struct aws_query *q)
{
	aws_query_init(q, AWS_STS, "GetCallerIdentity");
}

static const struct {
	const char	*fixture;
	void		(*build)(struct aws_query *);
} calls[] = {
	{ "cloudformation-DescribeStacks", cfn_describe_stacks },
	{ "cloudformation-DescribeStackResource", cfn_describe_stack_resource },
	{ "cloudformation-DescribeStackResources", cfn_describe_stack_resources },
	{ "cloudformation-DescribeStackEvents", cfn_describe_stack_events },
	{ "cloudformation-CreateChangeSet", cfn_create_change_set },
	{ "cloudformation-DescribeChangeSet", cfn_describe_change_set },
	{ "cloudformation-ExecuteChangeSet", cfn_execute_change_set },
	{ "cloudformation-DeleteChangeSet", cfn_delete_change_set },
	{ "cloudformation-CancelUpdateStack", cfn_cancel_update_stack },
	{ "cloudformation-GetTemplateSummary", cfn_get_template_summary },
	{ "autoscaling-DescribeAutoScalingGroups", asg_describe_groups },
	{ "autoscaling-DescribeAutoScalingInstances", asg_describe_instances },
	{ "autoscaling-DescribeScalingActivities", asg_describe_activities },
	{ "autoscaling-DescribeLifecycleHooks", asg_describe_hooks },
	{ "autoscaling-DescribeInstanceRefreshes", asg_describe_refreshes },
	{ "autoscaling-TerminateInstanceInAutoScalingGroup", asg_terminate },
	{ "autoscaling-SetInstanceProtection", asg_protect },
	{ "autoscaling-SuspendProcesses", asg_suspend },
	{ "autoscaling-ResumeProcesses", asg_resume },
	{ "autoscaling-ResumeProcesses-empty", asg_resume_empty },
	{ "ec2-DescribeInstances", ec2_describe_instances },
	{ "ec2-DescribeInstances-page", ec2_describe_instances_page },
	{ "cloudwatch-GetMetricData", cw_get_metric_data },
	{ "cloudwatch-DescribeAlarms", cw_describe_alarms },
	{ "elb-DescribeLoadBalancers", elb_describe },
	{ "elb-DescribeInstanceHealth", elb_health },
	{ "elb-DeregisterInstancesFromLoadBalancer", elb_deregister },
	{ "elb-RegisterInstancesWithLoadBalancer", elb_register },
	{ "elb-DescribeLoadBalancerAttributes", elb_attributes },
	{ "sts-GetCallerIdentity", sts_caller_identity },
};

/* --- form decoding, to compare with botocore's '+'-for-space wire bytes -------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes a form body in place into "name=value\n" lines (so lists compare as text). */
static char *
form_decode(const char *body)
{
	char	*out = malloc(strlen(body) + 2), *o = out;
	int	 hi, lo;

	ck_assert_ptr_nonnull(out);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '&')
			*o++ = '\n';
		else if (*p == '+')
			*o++ = ' ';
		else if (*p == '%') {
			hi = hexval((unsigned char)p[1]);
			lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
			ck_assert_msg(hi >= 0 && lo >= 0, "bad escape in %s", body);
			*o++ = (char)(hi * 16 + lo);
			p += 2;
		} else
			*o++ = *p;
	}
	*o++ = '\n';
	*o = '\0';
	return out;
}

START_TEST(call_matches_botocore)
{
	struct aws_query	 q;
	char			 path[256], *want, *wire, *got, *a, *b;
	size_t			 wantlen, wirelen, gotlen;

	calls[_i].build(&q);
	ck_assert_int_eq(aws_query_encode(&q, &got, &gotlen), 0);
	snprintf(path, sizeof(path), "%s/%s.body", FIXTURES, calls[_i].fixture);
	want = slurp(path, &wantlen);
	ck_assert_msg(want != NULL, "missing fixture %s (run from the repository root)",
	    path);
	ck_assert_msg(gotlen == wantlen && memcmp(got, want, gotlen) == 0,
	    "%s:\n got  %s\n want %s", calls[_i].fixture, got, want);
	ck_assert_uint_eq(strlen(got), gotlen);

	snprintf(path, sizeof(path), "%s/%s.wire", FIXTURES, calls[_i].fixture);
	if ((wire = slurp(path, &wirelen)) != NULL) {
		a = form_decode(got);
		b = form_decode(wire);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		free(wire);
	}
	free(want);
	free(got);
	aws_query_free(&q);
}
END_TEST

/* --- the pieces ----------------------------------------------------------------- */

static char *
encode(struct aws_query *q)
{
	char	*out;
	size_t	 len;

	ck_assert_int_eq(aws_query_encode(q, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

START_TEST(action_and_version_first)
{
	struct aws_query	 q;
	char			*body;

	ck_assert_int_eq(aws_query_init(&q, AWS_ELBV2, "DescribeTargetHealth"), 0);
	ck_assert_int_eq(aws_query_add(&q, "TargetGroupArn", "a"), 0);
	body = encode(&q);
	ck_assert_str_eq(body, "Action=DescribeTargetHealth&Version=2015-12-01"
	    "&TargetGroupArn=a");
	ck_assert_str_eq(aws_query_get(&q, "Action"), "DescribeTargetHealth");
	ck_assert_str_eq(aws_query_get(&q, "Version"), "2015-12-01");
	ck_assert_ptr_null(aws_query_get(&q, "Nope"));
	free(body);
	aws_query_free(&q);
}
END_TEST

START_TEST(encoding_rfc3986)
{
	struct aws_query	 q;
	char			*body;

	aws_query_init(&q, AWS_CLOUDFORMATION, "DescribeStacks");
	aws_query_add(&q, "A", "a b+c&d=e/f~g*h'i(j)k!l%m.n_o-p");
	aws_query_add(&q, "B", "\xe2\x80\xa6\x01\xff");
	aws_query_add(&q, "C", "");
	body = encode(&q);
	ck_assert_str_eq(body, "Action=DescribeStacks&Version=2010-05-15"
	    "&A=a%20b%2Bc%26d%3De%2Ff~g%2Ah%27i%28j%29k%21l%25m.n_o-p"
	    "&B=%E2%80%A6%01%FF&C=");
	free(body);
	aws_query_free(&q);
}
END_TEST

START_TEST(scalars)
{
	struct aws_query	 q;
	char			*body;

	aws_query_init(&q, AWS_CLOUDWATCH, "GetMetricData");
	aws_query_add_int(&q, "I1", 0);
	aws_query_add_int(&q, "I2", -42);
	aws_query_add_int(&q, "I3", LLONG_MIN);
	aws_query_add_bool(&q, "B1", 7);
	aws_query_add_bool(&q, "B2", 0);
	aws_query_add_time(&q, "T1", 0);
	aws_query_add_time(&q, "T2", 951782400);	/* 2000-02-29 */
	aws_query_add_time(&q, "T3", 253402300799LL);	/* 9999-12-31T23:59:59Z */
	body = encode(&q);
	ck_assert_str_eq(body, "Action=GetMetricData&Version=2010-08-01"
	    "&I1=0&I2=-42&I3=-9223372036854775808&B1=true&B2=false"
	    "&T1=1970-01-01T00%3A00%3A00Z&T2=2000-02-29T00%3A00%3A00Z"
	    "&T3=9999-12-31T23%3A59%3A59Z");
	free(body);
	aws_query_free(&q);
}
END_TEST

/* Each broken add must poison the query: encode fails, nothing half-built leaks. */
static void
expect_poisoned(struct aws_query *q)
{
	char	*out = (char *)1;
	size_t	 len = 1;

	ck_assert_int_eq(q->failed, 1);
	ck_assert_int_eq(aws_query_encode(q, &out, &len), -1);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	/* And it stays poisoned: a later good add is refused too. */
	ck_assert_int_eq(aws_query_add(q, "Fine", "x"), -1);
	aws_query_free(q);
}

static void
fresh(struct aws_query *q, enum aws_service svc)
{
	ck_assert_int_eq(aws_query_init(q, svc, "DescribeStacks"), 0);
	ck_assert_int_eq(q->failed, 0);
}

START_TEST(bad_adds_poison)
{
	struct aws_query	 q;
	static const char *const one[] = { "x" };
	char			 longname[AWS_QUERY_NAME_MAX + 2];
	char			*big;

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, NULL, "x"), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "", "x"), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "Stack Name", "x"), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "a=b", "x"), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "StackName", NULL), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "Version", "2099-01-01"), -1);
	expect_poisoned(&q);

	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "Action", "DeleteStack"), -1);
	expect_poisoned(&q);

	/* A name one byte too long, from aws_query_key() and directly. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_ptr_null(aws_query_key(&q, "%s", longname));
	ck_assert_int_eq(aws_query_add(&q, aws_query_key(&q, "%s", longname), "x"),
	    -1);
	expect_poisoned(&q);
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, longname, "x"), -1);
	expect_poisoned(&q);
	longname[AWS_QUERY_NAME_MAX] = '\0';	/* exactly the limit is fine */
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, longname, "x"), 0);
	aws_query_free(&q);

	/* A value over the limit. */
	big = malloc(AWS_QUERY_VALUE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'v', AWS_QUERY_VALUE_MAX + 1);
	big[AWS_QUERY_VALUE_MAX + 1] = '\0';
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add(&q, "TemplateBody", big), -1);
	expect_poisoned(&q);
	free(big);

	/* Timestamps out of range. */
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add_time(&q, "T", -1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add_time(&q, "T", 253402300800LL), -1);
	expect_poisoned(&q);

	/* List styles are per protocol. */
	fresh(&q, AWS_EC2);
	ck_assert_int_eq(aws_query_add_list(&q, "InstanceIds", one, 1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_AUTOSCALING);
	ck_assert_int_eq(aws_query_add_flat(&q, "InstanceId", one, 1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_AUTOSCALING);
	ck_assert_int_eq(aws_query_add_filter(&q, 1, "x", one, 1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_EC2);
	ck_assert_int_eq(aws_query_add_filter(&q, 0, "x", one, 1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_EC2);
	ck_assert_int_eq(aws_query_add_filter(&q, 1, NULL, one, 1), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_EC2);
	ck_assert_int_eq(aws_query_add_flat(&q, "InstanceId", NULL, 2), -1);
	expect_poisoned(&q);
	fresh(&q, AWS_CLOUDFORMATION);
	ck_assert_int_eq(aws_query_add_list(&q, NULL, one, 1), -1);
	expect_poisoned(&q);
}
END_TEST

START_TEST(bad_init)
{
	struct aws_query	 q;
	char			*out;
	size_t			 len;

	ck_assert_int_eq(aws_query_init(&q, AWS_SERVICE_COUNT, "DescribeStacks"), -1);
	ck_assert_int_eq(aws_query_encode(&q, &out, &len), -1);
	aws_query_free(&q);
	ck_assert_int_eq(aws_query_init(&q, AWS_EC2, NULL), -1);
	aws_query_free(&q);
	ck_assert_int_eq(aws_query_init(&q, AWS_EC2, ""), -1);
	aws_query_free(&q);
	ck_assert_int_eq(aws_query_init(&q, AWS_EC2, "Describe&Instances"), -1);
	aws_query_free(&q);
	ck_assert_int_eq(aws_query_init(&q, AWS_EC2, "Describe Instances"), -1);
	aws_query_free(&q);
	/* free is idempotent, and harmless on a zeroed query */
	aws_query_free(&q);
	aws_query_free(NULL);
}
END_TEST

/* A list name straight from aws_query_key(): the scratch buffer is reused inside. */
START_TEST(list_name_from_key)
{
	struct aws_query	 q;
	static const char *const v[] = { "a", "b" };
	char			*body;

	aws_query_init(&q, AWS_AUTOSCALING, "DescribeAutoScalingGroups");
	aws_query_add(&q, aws_query_key(&q, "Filters.member.%d.Name", 1), "tag:env");
	aws_query_add_list(&q, aws_query_key(&q, "Filters.member.%d.Values", 1), v, 2);
	body = encode(&q);
	ck_assert_str_eq(body, "Action=DescribeAutoScalingGroups&Version=2011-01-01"
	    "&Filters.member.1.Name=tag%3Aenv&Filters.member.1.Values.member.1=a"
	    "&Filters.member.1.Values.member.2=b");
	free(body);
	aws_query_free(&q);

	aws_query_init(&q, AWS_EC2, "DescribeInstances");
	aws_query_add_flat(&q, aws_query_key(&q, "InstanceId"), v, 2);
	aws_query_add_flat(&q, "Nothing", NULL, 0);	/* EC2: an empty list is omitted */
	body = encode(&q);
	ck_assert_str_eq(body, "Action=DescribeInstances&Version=2016-11-15"
	    "&InstanceId.1=a&InstanceId.2=b");
	free(body);
	aws_query_free(&q);
}
END_TEST

/* GetMetricData at AWS's 500-query maximum: ~4500 parameters, then the cap. */
START_TEST(many_params)
{
	struct aws_query	 q;
	char			 id[16], *body;
	size_t			 i, len;

	aws_query_init(&q, AWS_CLOUDWATCH, "GetMetricData");
	for (i = 1; i <= 500; i++) {
		snprintf(id, sizeof(id), "m%zu", i);
		metric_query(&q, i, id, "InstanceId", I1, 60, "Average", NULL, NULL, 1);
	}
	ck_assert_int_eq(q.failed, 0);
	ck_assert_int_eq(aws_query_encode(&q, &body, &len), 0);
	ck_assert_ptr_nonnull(strstr(body, "&MetricDataQueries.member.500.ReturnData="
	    "true"));
	free(body);
	while (q.nparams < AWS_QUERY_MAX_PARAMS)
		ck_assert_int_eq(aws_query_add(&q, "X", "y"), 0);
	ck_assert_int_eq(aws_query_add(&q, "X", "y"), -1);
	expect_poisoned(&q);
}
END_TEST

START_TEST(service_table)
{
	static const struct {
		enum aws_service	 svc;
		const char		*version, *xmlns, *signing, *endpoint, *env;
		enum aws_protocol	 proto;
	} want[] = {
		{ AWS_CLOUDFORMATION, "2010-05-15",
		    "http://cloudformation.amazonaws.com/doc/2010-05-15/",
		    "cloudformation", "cloudformation", "CLOUDFORMATION",
		    AWS_PROTO_QUERY },
		{ AWS_AUTOSCALING, "2011-01-01",
		    "http://autoscaling.amazonaws.com/doc/2011-01-01/",
		    "autoscaling", "autoscaling", "AUTO_SCALING", AWS_PROTO_QUERY },
		{ AWS_EC2, "2016-11-15", "http://ec2.amazonaws.com/doc/2016-11-15",
		    "ec2", "ec2", "EC2", AWS_PROTO_EC2 },
		{ AWS_CLOUDWATCH, "2010-08-01",
		    "http://monitoring.amazonaws.com/doc/2010-08-01/",
		    "monitoring", "monitoring", "CLOUDWATCH", AWS_PROTO_QUERY },
		{ AWS_ELB, "2012-06-01",
		    "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
		    "elasticloadbalancing", "elasticloadbalancing",
		    "ELASTIC_LOAD_BALANCING", AWS_PROTO_QUERY },
		{ AWS_ELBV2, "2015-12-01",
		    "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		    "elasticloadbalancing", "elasticloadbalancing",
		    "ELASTIC_LOAD_BALANCING_V2", AWS_PROTO_QUERY },
		{ AWS_STS, "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/",
		    "sts", "sts", "STS", AWS_PROTO_QUERY },
	};
	const struct aws_service_info	*si;
	size_t				 i;

	ck_assert_uint_eq(nitems(want), AWS_SERVICE_COUNT);
	for (i = 0; i < nitems(want); i++) {
		ck_assert_ptr_nonnull(si = aws_service_info(want[i].svc));
		ck_assert_str_eq(si->version, want[i].version);
		ck_assert_str_eq(si->xmlns, want[i].xmlns);
		ck_assert_str_eq(si->signing, want[i].signing);
		ck_assert_str_eq(si->endpoint, want[i].endpoint);
		ck_assert_str_eq(si->env, want[i].env);
		ck_assert_int_eq(si->protocol, want[i].proto);
		ck_assert_ptr_nonnull(si->id);
	}
	ck_assert_ptr_null(aws_service_info(AWS_SERVICE_COUNT));
	ck_assert_ptr_null(aws_service_info((enum aws_service)-1));
}
END_TEST

START_TEST(client_request_token)
{
	char	 tok[AWS_QUERY_TOKEN_MAX + 2];

	ck_assert_int_eq(aws_query_check_token("bbupgraded-42-1-exec"), 0);
	ck_assert_int_eq(aws_query_check_token("a"), 0);
	ck_assert_int_eq(aws_query_check_token("7"), 0);
	ck_assert_int_eq(aws_query_check_token("Console-CreateStack-"
	    "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"), 0);
	ck_assert_int_eq(aws_query_check_token("a--"), 0);
	ck_assert_int_eq(aws_query_check_token(NULL), -1);
	ck_assert_int_eq(aws_query_check_token(""), -1);
	ck_assert_int_eq(aws_query_check_token("-a"), -1);
	ck_assert_int_eq(aws_query_check_token("a_b"), -1);
	ck_assert_int_eq(aws_query_check_token("a.b"), -1);
	ck_assert_int_eq(aws_query_check_token("a b"), -1);
	ck_assert_int_eq(aws_query_check_token("a\n"), -1);
	ck_assert_int_eq(aws_query_check_token("caf\xc3\xa9"), -1);
	memset(tok, 'x', sizeof(tok));
	tok[AWS_QUERY_TOKEN_MAX] = '\0';
	ck_assert_int_eq(aws_query_check_token(tok), 0);
	tok[AWS_QUERY_TOKEN_MAX] = 'x';
	tok[AWS_QUERY_TOKEN_MAX + 1] = '\0';
	ck_assert_int_eq(aws_query_check_token(tok), -1);
}
END_TEST

Suite *
aws_query_suite(void)
{
	Suite	*s = suite_create("aws_query");
	TCase	*tc;

	tc = tcase_create("botocore");
	tcase_add_loop_test(tc, call_matches_botocore, 0, (int)nitems(calls));
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, action_and_version_first);
	tcase_add_test(tc, encoding_rfc3986);
	tcase_add_test(tc, scalars);
	tcase_add_test(tc, list_name_from_key);
	tcase_add_test(tc, many_params);
	tcase_add_test(tc, bad_adds_poison);
	tcase_add_test(tc, bad_init);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, service_table);
	tcase_add_test(tc, client_request_token);
	suite_add_tcase(s, tc);
	return s;
}
