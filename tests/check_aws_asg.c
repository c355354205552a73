/*
 * Auto Scaling calls (daemon/aws/autoscaling.c): builders against the bodies
 * botocore made, parsers on realistic, odd and hostile answers, the walk through
 * activity pages, and the operations over a fake transport: SetInstanceProtection
 * split into calls of 50, Suspend/ResumeProcesses never sent without a list.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/autoscaling.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ASG		"bbdc-ClusterNodeGroup-1ABCDEF2GHIJ"
#define I1		"i-0123456789abcdef0"
#define I2		"i-0fedcba9876543210"
#define TOKEN		"AAEAAbq9/w+xYz3Q0Kf1mE=="
#define ACTIVITY	"0145aa55-f1bb-3172-7086-6def24ae52f0"

static const char *const two_ids[] = { I1, I2 };
static const char *const five[] = {
	"HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification",
	"ScheduledActions",
};
static const char *const ours[] = {
	"AlarmNotification", "AZRebalance", "ScheduledActions",
};

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

static int
b_groups(struct aws_query *q)
{
	const char	*name = ASG;

	return aws_asg_describe_auto_scaling_groups_query(q, &name, 1, 100, NULL);
}

static int
b_groups_one(struct aws_query *q)
{
	const char	*name = ASG;

	return aws_asg_describe_auto_scaling_groups_query(q, &name, 1, 0, NULL);
}

static int
b_instances(struct aws_query *q)
{
	return aws_asg_describe_auto_scaling_instances_query(q, two_ids, 2);
}

static int
b_activities(struct aws_query *q)
{
	const char	*id = ACTIVITY;

	return aws_asg_describe_scaling_activities_query(q, ASG, &id, 1, 0, NULL);
}

static int
b_activities_group(struct aws_query *q)
{
	return aws_asg_describe_scaling_activities_query(q, ASG, NULL, 0, 20, TOKEN);
}

static int
b_hooks(struct aws_query *q)
{
	return aws_asg_describe_lifecycle_hooks_query(q, ASG);
}

static int
b_refreshes(struct aws_query *q)
{
	return aws_asg_describe_instance_refreshes_query(q, ASG);
}

static int
b_terminate(struct aws_query *q)
{
	return aws_asg_terminate_instance_in_auto_scaling_group_query(q, I1, false);
}

static int
b_terminate_decrement(struct aws_query *q)
{
	return aws_asg_terminate_instance_in_auto_scaling_group_query(q, I2, true);
}

static int
b_protect(struct aws_query *q)
{
	return aws_asg_set_instance_protection_query(q, ASG, two_ids, 2, true);
}

static int
b_unprotect(struct aws_query *q)
{
	return aws_asg_set_instance_protection_query(q, ASG, two_ids + 1, 1, false);
}

static int
b_suspend(struct aws_query *q)
{
	return aws_asg_suspend_processes_query(q, ASG, five, nitems(five));
}

static int
b_suspend_ours(struct aws_query *q)
{
	return aws_asg_suspend_processes_query(q, ASG, ours, nitems(ours));
}

static int
b_resume(struct aws_query *q)
{
	return aws_asg_resume_processes_query(q, ASG, five, nitems(five));
}

static const struct {
	const char	*fixture;
	int		(*build)(struct aws_query *);
} bodies[] = {
	{ "query/autoscaling-DescribeAutoScalingGroups.body", b_groups },
	{ "answers/query/autoscaling-DescribeAutoScalingGroups-one.body",
	    b_groups_one },
	{ "query/autoscaling-DescribeAutoScalingInstances.body", b_instances },
	{ "query/autoscaling-DescribeScalingActivities.body", b_activities },
	{ "answers/query/autoscaling-DescribeScalingActivities-group.body",
	    b_activities_group },
	{ "query/autoscaling-DescribeLifecycleHooks.body", b_hooks },
	{ "query/autoscaling-DescribeInstanceRefreshes.body", b_refreshes },
	{ "query/autoscaling-TerminateInstanceInAutoScalingGroup.body", b_terminate },
	{ "answers/query/autoscaling-TerminateInstanceInAutoScalingGroup-decrement"
	    ".body", b_terminate_decrement },
	{ "query/autoscaling-SetInstanceProtection.body", b_protect },
	{ "answers/query/autoscaling-SetInstanceProtection-off.body", b_unprotect },
	{ "query/autoscaling-SuspendProcesses.body", b_suspend },
	{ "answers/query/autoscaling-SuspendProcesses-ours.body", b_suspend_ours },
	{ "query/autoscaling-ResumeProcesses.body", b_resume },
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
	const char		*ids[AWS_ASG_PROTECT_CHUNK + 1], *names[101];
	const char		*bad[] = { "AlarmNotification", "Alarmnotification" };
	const char		*dup[] = { "AZRebalance", "AZRebalance" };
	struct aws_query	 q;
	size_t			 i;

	/*
	 * botocore sends an empty list as "ScalingProcesses=" (see that fixture),
	 * which AWS reads as every process: we refuse to build it.
	 */
	free(slurp("query/autoscaling-ResumeProcesses-empty.body", &i));
	refused(&q, aws_asg_resume_processes_query(&q, ASG, NULL, 0));
	refused(&q, aws_asg_suspend_processes_query(&q, ASG, five, 0));
	refused(&q, aws_asg_suspend_processes_query(&q, ASG, bad, 2));
	refused(&q, aws_asg_suspend_processes_query(&q, ASG, dup, 2));
	refused(&q, aws_asg_suspend_processes_query(&q, NULL, ours, 1));

	for (i = 0; i < nitems(ids); i++)
		ids[i] = I1;
	refused(&q, aws_asg_set_instance_protection_query(&q, ASG, ids, 0, true));
	refused(&q, aws_asg_set_instance_protection_query(&q, ASG, ids, nitems(ids),
	    true));
	ck_assert_int_eq(aws_asg_set_instance_protection_query(&q, ASG, ids,
	    nitems(ids) - 1, true), 0);
	aws_query_free(&q);
	ids[3] = NULL;
	refused(&q, aws_asg_set_instance_protection_query(&q, ASG, ids, 10, true));
	refused(&q, aws_asg_set_instance_protection_query(&q, "", ids, 1, true));

	for (i = 0; i < nitems(names); i++)
		names[i] = ASG;
	refused(&q, aws_asg_describe_auto_scaling_groups_query(&q, names, 0, 0, NULL));
	refused(&q, aws_asg_describe_auto_scaling_groups_query(&q, names, 101, 0,
	    NULL));
	refused(&q, aws_asg_describe_auto_scaling_groups_query(&q, names, 1, 101,
	    NULL));
	refused(&q, aws_asg_describe_auto_scaling_instances_query(&q, names, 0));
	refused(&q, aws_asg_describe_scaling_activities_query(&q, NULL, NULL, 0, 0,
	    NULL));
	refused(&q, aws_asg_describe_scaling_activities_query(&q, ASG, NULL, 0, 101,
	    NULL));
	refused(&q, aws_asg_terminate_instance_in_auto_scaling_group_query(&q, "",
	    false));
	refused(&q, aws_asg_describe_lifecycle_hooks_query(&q, NULL));
	refused(&q, aws_asg_describe_instance_refreshes_query(&q, ""));
}
END_TEST

/* --- parsers -------------------------------------------------------------- */

static void
parse_groups(const char *file, struct aws_asg_groups *out)
{
	xmlDoc	*doc = load(file);
	char	 err[256];

	ck_assert_msg(aws_asg_parse_describe_auto_scaling_groups(result_of(doc,
	    "DescribeAutoScalingGroups"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_groups)
{
	struct aws_asg_groups		 gs;
	const struct aws_asg_group	*g;
	const struct aws_asg_instance	*in;

	parse_groups("responses/asg-DescribeAutoScalingGroups.xml", &gs);
	ck_assert_uint_eq(gs.n, 1);
	g = &gs.items[0];
	ck_assert_str_eq(g->name, ASG);
	ck_assert_ptr_nonnull(strstr(g->arn, "autoScalingGroupName/" ASG));
	ck_assert_str_eq(g->launch_config, "bbdc-ClusterNodeLaunchConfig-7QWERTY8UIOP");
	ck_assert_int_eq(g->min, 2);
	ck_assert_int_eq(g->max, 4);
	ck_assert_int_eq(g->desired, 2);
	ck_assert_str_eq(g->health_check_type, "EC2");
	ck_assert_int_eq(g->health_check_grace, 300);
	ck_assert_str_eq(g->status, "");
	ck_assert(!g->new_instances_protected);
	ck_assert(g->created_ms == 1678786280104LL);
	ck_assert_uint_eq(g->nlbs, 1);
	ck_assert_str_eq(g->lbs[0].name, "bbdc-LoadBala-1X2Y3Z4W5V6U");
	ck_assert_uint_eq(g->ntarget_groups, 0);
	ck_assert_uint_eq(g->ninstances, 2);
	in = &g->instances[0];
	ck_assert_str_eq(in->id, I1);
	ck_assert_str_eq(in->group, ASG);
	ck_assert_str_eq(in->zone, "eu-west-1a");
	ck_assert_str_eq(in->lifecycle, "InService");
	ck_assert_str_eq(in->health, "Healthy");
	ck_assert(!in->protected_from_scale_in);
	in = &g->instances[1];
	ck_assert_str_eq(in->lifecycle, "Terminating:Wait");
	ck_assert_str_eq(in->health, "Unhealthy");
	ck_assert(in->protected_from_scale_in);
	ck_assert_uint_eq(g->nsuspended, 1);
	ck_assert_str_eq(g->suspended[0].reason,
	    "User suspended at 2025-06-01T12:00:01Z");
	ck_assert(aws_asg_group_suspended(g, "AlarmNotification"));
	ck_assert(!aws_asg_group_suspended(g, "Launch"));
	aws_asg_groups_free(&gs);

	parse_groups("responses/asg-DescribeAutoScalingGroups-empty.xml", &gs);
	ck_assert_uint_eq(gs.n, 0);		/* no such group */
	aws_asg_groups_free(&gs);
}
END_TEST

START_TEST(describe_instances)
{
	struct aws_asg_instances	 is;
	xmlDoc				*doc;
	char				 err[256];

	doc = load("answers/asg-DescribeAutoScalingInstances.xml");
	ck_assert_int_eq(aws_asg_parse_describe_auto_scaling_instances(result_of(doc,
	    "DescribeAutoScalingInstances"), &is, err, sizeof(err)), 0);
	ck_assert_uint_eq(is.n, 2);
	ck_assert_str_eq(is.items[0].group, ASG);
	ck_assert(is.items[0].protected_from_scale_in);
	ck_assert_str_eq(is.items[1].lifecycle, "Pending");
	ck_assert_str_eq(is.items[1].launch_config, "");
	ck_assert(!is.items[1].protected_from_scale_in);
	aws_asg_instances_free(&is);
	aws_xml_free(doc);
}
END_TEST

static void
parse_activities(int page, struct aws_asg_activities *out)
{
	xmlDoc	*doc;
	char	 err[256], file[128];

	snprintf(file, sizeof(file), "answers/asg-DescribeScalingActivities-%d.xml",
	    page + 1);
	doc = load(file);
	ck_assert_msg(aws_asg_parse_describe_scaling_activities(result_of(doc,
	    "DescribeScalingActivities"), out, err, sizeof(err)) == 0, "%s", err);
	aws_xml_free(doc);
}

START_TEST(describe_activities)
{
	struct aws_asg_activities	 as;
	const struct aws_asg_activity	*a;

	parse_activities(0, &as);
	ck_assert_uint_eq(as.n, 2);
	ck_assert_str_eq(as.next, "QWN0aXZpdGllc1BhZ2U9Mg==");
	a = &as.items[0];
	ck_assert_str_eq(a->id, ACTIVITY);
	ck_assert_str_eq(a->group, ASG);
	ck_assert_str_eq(a->status, "WaitingForELBConnectionDraining");
	ck_assert_int_eq(a->progress, 50);
	ck_assert(a->end_ms == 0);
	ck_assert(!aws_asg_activity_done(a));
	ck_assert_ptr_nonnull(strstr(a->description, I1));
	a = &as.items[1];
	ck_assert_str_eq(a->status, "Failed");
	ck_assert(aws_asg_activity_done(a));
	ck_assert(a->end_ms == 1748780404000LL);
	ck_assert_ptr_nonnull(strstr(a->status_message, "sufficient c5.2xlarge"));
	aws_asg_activities_free(&as);
}
END_TEST

/* Reads pages until done; returns how many were read. */
static int
walk_activities(size_t max, struct aws_asg_activities *acc)
{
	struct aws_asg_activities	 page;
	int				 i, rc = 1;

	memset(acc, 0, sizeof(*acc));
	for (i = 0; rc == 1; i++) {
		ck_assert_int_lt(i, 2);
		parse_activities(i, &page);
		ck_assert_int_ne(rc = aws_asg_activities_take(acc, &page, max), -1);
	}
	return i;
}

START_TEST(activities_walks)
{
	struct aws_asg_activities	 acc;

	ck_assert_int_eq(walk_activities(0, &acc), 2);
	ck_assert_uint_eq(acc.n, 3);
	ck_assert(!acc.truncated);
	ck_assert_str_eq(acc.items[2].status, "Successful");
	aws_asg_activities_free(&acc);
	ck_assert_int_eq(walk_activities(1, &acc), 1);
	ck_assert_uint_eq(acc.n, 1);
	ck_assert(acc.truncated);
	aws_asg_activities_free(&acc);
	/* Exactly full with more pages: truncated, and no page read for nothing. */
	ck_assert_int_eq(walk_activities(2, &acc), 1);
	ck_assert_uint_eq(acc.n, 2);
	ck_assert(acc.truncated);
	ck_assert_str_eq(acc.next, "");
	aws_asg_activities_free(&acc);
	ck_assert_int_eq(walk_activities(3, &acc), 2);
	ck_assert(!acc.truncated);
	aws_asg_activities_free(&acc);
}
END_TEST

START_TEST(terminate_hooks_refreshes)
{
	struct aws_asg_activity		 a;
	struct aws_asg_hooks		 hs;
	struct aws_asg_refreshes	 rs;
	xmlDoc				*doc;
	char				 err[256];

	doc = load("responses/asg-TerminateInstanceInAutoScalingGroup.xml");
	ck_assert_int_eq(aws_asg_parse_terminate_instance_in_auto_scaling_group(
	    result_of(doc, "TerminateInstanceInAutoScalingGroup"), &a, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(a.id, ACTIVITY);
	ck_assert_str_eq(a.status, "InProgress");
	ck_assert_int_eq(a.progress, 0);
	ck_assert(a.start_ms == 1748781615620LL);
	ck_assert_ptr_nonnull(strstr(a.cause, "in response to a user request"));
	aws_xml_free(doc);

	doc = load("answers/asg-DescribeLifecycleHooks.xml");
	ck_assert_int_eq(aws_asg_parse_describe_lifecycle_hooks(result_of(doc,
	    "DescribeLifecycleHooks"), &hs, err, sizeof(err)), 0);
	ck_assert_uint_eq(hs.n, 1);
	ck_assert_str_eq(hs.items[0].name, "drain-before-terminate");
	ck_assert_str_eq(hs.items[0].transition,
	    "autoscaling:EC2_INSTANCE_TERMINATING");
	ck_assert_int_eq(hs.items[0].heartbeat_timeout, 3600);
	ck_assert_int_eq(hs.items[0].global_timeout, 172800);
	ck_assert_str_eq(hs.items[0].default_result, "CONTINUE");
	aws_asg_hooks_free(&hs);
	aws_xml_free(doc);
	doc = load("answers/asg-DescribeLifecycleHooks-empty.xml");
	ck_assert_int_eq(aws_asg_parse_describe_lifecycle_hooks(result_of(doc,
	    "DescribeLifecycleHooks"), &hs, err, sizeof(err)), 0);
	ck_assert_uint_eq(hs.n, 0);
	aws_asg_hooks_free(&hs);
	aws_xml_free(doc);

	doc = load("answers/asg-DescribeInstanceRefreshes.xml");
	ck_assert_int_eq(aws_asg_parse_describe_instance_refreshes(result_of(doc,
	    "DescribeInstanceRefreshes"), &rs, err, sizeof(err)), 0);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert(aws_asg_refresh_active(&rs.items[0]));
	ck_assert_int_eq(rs.items[0].percent, 40);
	ck_assert_ptr_nonnull(strstr(rs.items[0].reason, "warm up"));
	ck_assert(!aws_asg_refresh_active(&rs.items[1]));
	ck_assert(rs.items[1].end_ms > rs.items[1].start_ms);
	aws_asg_refreshes_free(&rs);
	aws_xml_free(doc);
}
END_TEST

/* --- odd and hostile answers ---------------------------------------------- */

static int
try_parse(const char *action, const char *body, char *err, size_t errlen)
{
	char			*xml;
	xmlDoc			*doc;
	int			 rc;
	struct aws_asg_groups	 gs;
	struct aws_asg_activities as;
	struct aws_asg_activity	 a;

	ck_assert_int_ge(asprintf(&xml, "<%sResponse><%sResult>%s</%sResult>"
	    "</%sResponse>", action, action, body, action, action), 0);
	doc = doc_of(xml, strlen(xml));
	if (strcmp(action, "DescribeAutoScalingGroups") == 0) {
		rc = aws_asg_parse_describe_auto_scaling_groups(result_of(doc, action),
		    &gs, err, errlen);
		aws_asg_groups_free(&gs);
	} else if (strcmp(action, "DescribeScalingActivities") == 0) {
		rc = aws_asg_parse_describe_scaling_activities(result_of(doc, action),
		    &as, err, errlen);
		aws_asg_activities_free(&as);
	} else
		rc = aws_asg_parse_terminate_instance_in_auto_scaling_group(
		    result_of(doc, action), &a, err, errlen);
	aws_xml_free(doc);
	free(xml);
	return rc;
}

#define GROUP(x)	"<AutoScalingGroups><member><AutoScalingGroupName>g" \
			"</AutoScalingGroupName><MinSize>1</MinSize>" \
			"<MaxSize>2</MaxSize>" \
			"<DesiredCapacity>1</DesiredCapacity><HealthCheckType>EC2" \
			"</HealthCheckType><CreatedTime>2023-03-14T09:31:20Z" \
			"</CreatedTime>" x "</member></AutoScalingGroups>"
#define INSTANCE(x)	"<member><InstanceId>i-1</InstanceId><AvailabilityZone>z" \
			"</AvailabilityZone>" \
			"<LifecycleState>InService</LifecycleState>" \
			"<HealthStatus>Healthy</HealthStatus>" x "</member>"

static const struct {
	const char	*action;
	const char	*body;
	const char	*why;
} odd[] = {
	{ "DescribeAutoScalingGroups", GROUP("<Instances>" INSTANCE(
	    "<ProtectedFromScaleIn>false</ProtectedFromScaleIn><Weird/>")
	    "</Instances>"), NULL },
	{ "DescribeAutoScalingGroups", "", "missing AutoScalingGroups" },
	{ "DescribeAutoScalingGroups", GROUP("<Instances>" INSTANCE("")
	    "</Instances>"), "Instances member 1: missing ProtectedFromScaleIn" },
	{ "DescribeAutoScalingGroups", "<AutoScalingGroups><member>"
	    "<AutoScalingGroupName>g</AutoScalingGroupName><MinSize>two</MinSize>"
	    "</member></AutoScalingGroups>",
	    "AutoScalingGroups member 1: MinSize is not an integer" },
	{ "DescribeAutoScalingGroups", "<AutoScalingGroups><member>"
	    "<AutoScalingGroupName>g</AutoScalingGroupName><MinSize>99999999999"
	    "</MinSize></member></AutoScalingGroups>", "MinSize is not an integer" },
	{ "DescribeAutoScalingGroups", GROUP("<SuspendedProcesses>Launch"
	    "</SuspendedProcesses>"), "SuspendedProcesses is not a list" },
	{ "DescribeAutoScalingGroups", GROUP("<LoadBalancerNames><member/>"
	    "</LoadBalancerNames>"), "LoadBalancerNames member 1: empty value" },
	{ "DescribeAutoScalingGroups", GROUP("<NewInstancesProtectedFromScaleIn>"
	    "TRUE</NewInstancesProtectedFromScaleIn>"),
	    "NewInstancesProtectedFromScaleIn is not true or false" },
	{ "DescribeScalingActivities", "<Activities><member><ActivityId>a"
	    "</ActivityId><AutoScalingGroupName>g</AutoScalingGroupName><StartTime>"
	    "2025-06-01T12:00:00Z</StartTime></member></Activities>",
	    "Activities member 1: missing StatusCode" },
	{ "DescribeScalingActivities", "", "missing Activities" },
	{ "TerminateInstanceInAutoScalingGroup", "", "missing Activity" },
	{ "TerminateInstanceInAutoScalingGroup", "<Activity><ActivityId>a"
	    "</ActivityId></Activity>", "Activity: missing AutoScalingGroupName" },
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

START_TEST(hostile_counts)
{
	const char	*item = INSTANCE("<ProtectedFromScaleIn>true"
	    "</ProtectedFromScaleIn>");
	size_t		 n = AWS_ASG_MAX_INSTANCES + 1, i, ilen = strlen(item);
	char		*body, *p, err[256];

	ck_assert_ptr_nonnull(body = malloc(n * ilen + 512));
	p = body + sprintf(body, "<AutoScalingGroups><member><AutoScalingGroupName>g"
	    "</AutoScalingGroupName><MinSize>1</MinSize><MaxSize>2</MaxSize>"
	    "<DesiredCapacity>1</DesiredCapacity><HealthCheckType>EC2"
	    "</HealthCheckType><CreatedTime>2023-03-14T09:31:20Z</CreatedTime>"
	    "<Instances>");
	for (i = 0; i < n; i++, p += ilen)
		memcpy(p, item, ilen);
	strcpy(p, "</Instances></member></AutoScalingGroups>");
	ck_assert_int_eq(try_parse("DescribeAutoScalingGroups", body, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Instances has more than 2000 items"));
	free(body);
}
END_TEST

/* --- operations, over a fake transport ------------------------------------ */

static struct {
	aws_cb		 cb;
	void		*arg;
	int		 calls;
	int		 refused;
	char		*bodies[8];
} fake;

static struct {
	int		 n;
	enum aws_errclass errclass;
	char		 detail[512];
	size_t		 count;
} seen;

static struct aws_call *
fake_call(struct aws_client *client, struct aws_query *q, uint32_t deadline,
    aws_cb cb, void *arg)
{
	char	*body = NULL;
	size_t	 len;

	ck_assert_ptr_null(fake.cb);
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
}

static void
fake_setup(void)
{
	aws_xml_init();
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
	aws_xml_shutdown();
}

static void
answer_doc(xmlDoc *doc, const char *action, enum aws_errclass c)
{
	struct aws_result	 r;
	aws_cb			 cb = fake.cb;

	ck_assert_ptr_nonnull(cb);
	fake.cb = NULL;
	memset(&r, 0, sizeof(r));
	r.errclass = c;
	if (c == AWS_ERRCLASS_OK) {
		r.doc = doc;
		r.result = result_of(doc, action);
	} else {
		snprintf(r.error.code, sizeof(r.error.code), "ResourceContention");
		r.detail = "from the fake";
	}
	cb(&r, fake.arg);
	aws_xml_free(doc);
}

static void
answer(const char *file, const char *action)
{
	answer_doc(load(file), action, AWS_ERRCLASS_OK);
}

static void
answer_empty(const char *action, enum aws_errclass c)
{
	char	 xml[256];

	snprintf(xml, sizeof(xml), "<%sResponse><ResponseMetadata><RequestId>r"
	    "</RequestId></ResponseMetadata></%sResponse>", action, action);
	answer_doc(doc_of(xml, strlen(xml)), action, c);
}

static void
see(const struct aws_result *r)
{
	seen.n++;
	seen.errclass = r->errclass;
	snprintf(seen.detail, sizeof(seen.detail), "%s", r->detail ? r->detail : "");
}

static void
plain_cb(const struct aws_result *r, void *arg)
{
	see(r);
}

static void
activities_cb(const struct aws_result *r, const struct aws_asg_activities *as,
    void *arg)
{
	see(r);
	if (as != NULL)
		seen.count = as->n;
}

static void
activity_cb(const struct aws_result *r, const struct aws_asg_activity *a,
    void *arg)
{
	see(r);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->id, ACTIVITY);
}

static void
groups_cb(const struct aws_result *r, const struct aws_asg_groups *gs, void *arg)
{
	see(r);
	seen.count = gs->items[0].ninstances;
}

/* How many "InstanceIds.member.N=" a body carries. */
static size_t
count_ids(const char *body)
{
	size_t		 n = 0;
	const char	*p;

	for (p = body; (p = strstr(p, "InstanceIds.member.")) != NULL; p++)
		n++;
	return n;
}

START_TEST(op_protection_in_chunks)
{
	const char	*ids[120];
	size_t		 i;

	for (i = 0; i < nitems(ids); i++)
		ids[i] = i % 2 ? I1 : I2;
	ck_assert_ptr_nonnull(aws_asg_set_instance_protection(
	    (struct aws_client *)&seen, ASG, ids, nitems(ids), true, plain_cb, &seen));
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_OK);
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_OK);
	ck_assert_int_eq(seen.n, 0);
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_OK);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OK);
	ck_assert_int_eq(fake.calls, 3);
	ck_assert_uint_eq(count_ids(fake.bodies[0]), 50);
	ck_assert_uint_eq(count_ids(fake.bodies[1]), 50);
	ck_assert_uint_eq(count_ids(fake.bodies[2]), 20);
	ck_assert_ptr_nonnull(strstr(fake.bodies[2], "InstanceIds.member.20="));
	ck_assert_ptr_null(strstr(fake.bodies[2], "InstanceIds.member.21="));
}
END_TEST

START_TEST(op_protection_stops_at_error)
{
	const char	*ids[60];
	size_t		 i;

	for (i = 0; i < nitems(ids); i++)
		ids[i] = I1;
	ck_assert_ptr_nonnull(aws_asg_set_instance_protection(
	    (struct aws_client *)&seen, ASG, ids, nitems(ids), false, plain_cb, &seen));
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_TRANSIENT);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_TRANSIENT);
	ck_assert_int_eq(fake.calls, 1);

	/* Nothing is sent for a list we refuse, not even its first chunks. */
	ids[55] = "";
	ck_assert_ptr_nonnull(aws_asg_set_instance_protection(
	    (struct aws_client *)&seen, ASG, ids, nitems(ids), true, plain_cb, &seen));
	ck_assert_int_eq(fake.refused, 1);
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_OTHER);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_str_eq(seen.detail, "SetInstanceProtection: " AWS_OP_REFUSED);
	ck_assert_ptr_nonnull(aws_asg_set_instance_protection(
	    (struct aws_client *)&seen, ASG, ids, 0, true, plain_cb, &seen));
	ck_assert_int_eq(fake.refused, 2);
	answer_empty("SetInstanceProtection", AWS_ERRCLASS_OTHER);
}
END_TEST

START_TEST(op_processes)
{
	ck_assert_ptr_nonnull(aws_asg_suspend_processes((struct aws_client *)&seen,
	    ASG, ours, nitems(ours), plain_cb, &seen));
	answer("responses/asg-SuspendProcesses.xml", "SuspendProcesses");
	ck_assert_int_eq(seen.errclass, AWS_ERRCLASS_OK);
	/* An empty list never leaves the daemon. */
	ck_assert_ptr_nonnull(aws_asg_resume_processes((struct aws_client *)&seen,
	    ASG, NULL, 0, plain_cb, &seen));
	ck_assert_int_eq(fake.refused, 1);
	answer_empty("ResumeProcesses", AWS_ERRCLASS_OTHER);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_str_eq(seen.detail, "ResumeProcesses: " AWS_OP_REFUSED);
}
END_TEST

START_TEST(op_activities_bounded)
{
	ck_assert_ptr_nonnull(aws_asg_describe_scaling_activities(
	    (struct aws_client *)&seen, ASG, NULL, 0, 3, activities_cb, &seen));
	answer("answers/asg-DescribeScalingActivities-1.xml",
	    "DescribeScalingActivities");
	answer("answers/asg-DescribeScalingActivities-2.xml",
	    "DescribeScalingActivities");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_uint_eq(seen.count, 3);
	ck_assert_str_eq(fake.bodies[0], "Action=DescribeScalingActivities"
	    "&Version=2011-01-01&AutoScalingGroupName=" ASG "&MaxRecords=3");
	ck_assert_str_eq(fake.bodies[1], "Action=DescribeScalingActivities"
	    "&Version=2011-01-01&AutoScalingGroupName=" ASG "&MaxRecords=3"
	    "&NextToken=QWN0aXZpdGllc1BhZ2U9Mg%3D%3D");

	ck_assert_ptr_nonnull(aws_asg_describe_scaling_activities(
	    (struct aws_client *)&seen, ASG, NULL, 0, 2, activities_cb, &seen));
	answer("answers/asg-DescribeScalingActivities-1.xml",
	    "DescribeScalingActivities");
	ck_assert_int_eq(seen.n, 2);
	ck_assert_uint_eq(seen.count, 2);
	ck_assert_int_eq(fake.calls, 3);
}
END_TEST

START_TEST(op_terminate_and_group)
{
	ck_assert_ptr_nonnull(aws_asg_terminate_instance_in_auto_scaling_group(
	    (struct aws_client *)&seen, I1, false, activity_cb, &seen));
	answer("responses/asg-TerminateInstanceInAutoScalingGroup.xml",
	    "TerminateInstanceInAutoScalingGroup");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_ptr_nonnull(aws_asg_describe_auto_scaling_groups(
	    (struct aws_client *)&seen, ASG, groups_cb, &seen));
	answer("responses/asg-DescribeAutoScalingGroups.xml",
	    "DescribeAutoScalingGroups");
	ck_assert_int_eq(seen.n, 2);
	ck_assert_uint_eq(seen.count, 2);
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
aws_asg_suite(void)
{
	Suite	*s = suite_create("aws_asg");
	TCase	*tc;

	tc = tcase_create("builders");
	tcase_add_loop_test(tc, builder_matches_botocore, 0, (int)nitems(bodies));
	tcase_add_test(tc, builders_refuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, describe_groups);
	tcase_add_test(tc, describe_instances);
	tcase_add_test(tc, describe_activities);
	tcase_add_test(tc, activities_walks);
	tcase_add_test(tc, terminate_hooks_refreshes);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, hostile_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("operations");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_add_test(tc, op_protection_in_chunks);
	tcase_add_test(tc, op_protection_stops_at_error);
	tcase_add_test(tc, op_processes);
	tcase_add_test(tc, op_activities_bounded);
	tcase_add_test(tc, op_terminate_and_group);
	suite_add_tcase(s, tc);
	return s;
}
