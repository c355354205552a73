/*
 * Auto Scaling's operations on the ClusterNodeGroup (see api.h): the describes the
 * daemon's preflight and polls make, and the four writes it is allowed (terminate a
 * member, scale-in protection, suspend and resume processes). Reads show what the
 * model shows now, eventual consistency included (sim_asg_life_shown and friends).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/api.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define FILTERS_MAX	10
#define VALUES_MAX	50
#define IDS_MAX		50	/* InstanceIds, ActivityIds: the model's limit */
#define GROUP_TAGS	5
/* aws-errors.md 8, any mutating call on an unknown group (aws/aws-sdk-go#1151): S */
#define NO_GROUP	"AutoScalingGroup name not found - null"

/* ---- the group and its members as Describe* shows them ---- */

static const char *
az(const struct sim_model *m, char *buf, size_t len)
{
	snprintf(buf, len, "%sa", m->p.region);
	return buf;
}

/* The group's tags, sorted by key as AWS lists them. */
static size_t
group_tags(const struct sim_model *m, struct sim_tag *t)
{
	const struct sim_stack	*root = m->stack[0], *ps = m->stack[m->nstacks - 1];

	t[0].key = "Cluster";
	snprintf(t[0].value, sizeof(t[0].value), "%s", root->name);
	t[1].key = "Name";
	snprintf(t[1].value, sizeof(t[1].value), "%s Bitbucket Node", root->name);
	t[2].key = "aws:cloudformation:logical-id";
	snprintf(t[2].value, sizeof(t[2].value), "ClusterNodeGroup");
	t[3].key = "aws:cloudformation:stack-id";
	snprintf(t[3].value, sizeof(t[3].value), "%s", ps->id);
	t[4].key = "aws:cloudformation:stack-name";
	snprintf(t[4].value, sizeof(t[4].value), "%s", ps->name);
	return GROUP_TAGS;
}

static void
write_member(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in,
    int64_t now)
{
	char	 zone[48];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "InstanceId", in->id);
	sim_xml_text(x, "InstanceType", in->type);
	sim_xml_text(x, "AvailabilityZone", az(m, zone, sizeof(zone)));
	sim_xml_text(x, "LifecycleState", sim_lifecycle_name(sim_asg_life_shown(m, in,
	    now)));
	sim_xml_text(x, "HealthStatus", in->unhealthy ? "Unhealthy" : "Healthy");
	sim_xml_text(x, "LaunchConfigurationName", in->lc_name);
	sim_xml_text(x, "ProtectedFromScaleIn", sim_asg_prot_shown(m, in, now) ?
	    "true" : "false");
	sim_xml_close(x, "member");
}

static void
write_suspended(struct sim_xml *x, const struct sim_model *m)
{
	char	 t[SIM_API_TIME_MAX];

	sim_xml_open(x, "SuspendedProcesses", NULL);
	for (int p = 0; p < SIM_NPROC; p++) {
		if (!(m->asg.suspended & (1u << p)))
			continue;
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "ProcessName", sim_process_name((enum sim_process)p));
		sim_time_format(m, m->asg.suspended_at[p], 0, t, sizeof(t));
		sim_xml_textf(x, "SuspensionReason", "User suspended at %s", t);
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "SuspendedProcesses");
}

static void
write_group_tags(struct sim_xml *x, const struct sim_model *m)
{
	struct sim_tag	 t[GROUP_TAGS];
	size_t		 n = group_tags(m, t);

	sim_xml_open(x, "Tags", NULL);
	for (size_t i = 0; i < n; i++) {
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "ResourceId", m->asg.name);
		sim_xml_text(x, "ResourceType", "auto-scaling-group");
		sim_xml_text(x, "Key", t[i].key);
		sim_xml_text(x, "Value", t[i].value);
		sim_xml_text(x, "PropagateAtLaunch", "true");
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "Tags");
}

static void
write_group_tail(struct sim_xml *x, const struct sim_model *m)
{
	char	 subnet[40];

	sim_api_fake_id(subnet, sizeof(subnet), "subnet-0", m->stack[0]->id, 16);
	sim_xml_text(x, "VPCZoneIdentifier", subnet);
	sim_xml_empty(x, "EnabledMetrics");
	write_group_tags(x, m);
	sim_xml_open(x, "TerminationPolicies", NULL);
	sim_xml_text(x, "member", "Default");
	sim_xml_close(x, "TerminationPolicies");
	sim_xml_text(x, "NewInstancesProtectedFromScaleIn", m->asg.new_protected ?
	    "true" : "false");
	sim_xml_textf(x, "ServiceLinkedRoleARN", "arn:aws:iam::%s:role/aws-service-role/"
	    "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", m->p.account);
	sim_xml_text(x, "CapacityRebalance", "false");
	sim_xml_open(x, "TrafficSources", NULL);
	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "Identifier", m->elb.name);
	sim_xml_text(x, "Type", "elb");
	sim_xml_close(x, "member");
	sim_xml_close(x, "TrafficSources");
}

/* The Quick Start's group: a launch configuration, EC2 checks, no grace period (unless
 * the scenario or a fault says otherwise). */
static void
write_group(struct sim_xml *x, const struct sim_model *m, int64_t now, int instances)
{
	const struct sim_asg	*g = &m->asg;
	char			 zone[48], t[SIM_API_TIME_MAX];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "AutoScalingGroupName", g->name);
	sim_xml_text(x, "AutoScalingGroupARN", g->arn);
	sim_xml_text(x, "LaunchConfigurationName", g->lc_name);
	sim_xml_textf(x, "MinSize", "%d", g->min);
	sim_xml_textf(x, "MaxSize", "%d", g->max);
	sim_xml_textf(x, "DesiredCapacity", "%d", g->desired);
	sim_xml_text(x, "DefaultCooldown", "300");
	sim_xml_open(x, "AvailabilityZones", NULL);
	sim_xml_text(x, "member", az(m, zone, sizeof(zone)));
	sim_xml_close(x, "AvailabilityZones");
	sim_xml_open(x, "LoadBalancerNames", NULL);
	sim_xml_text(x, "member", m->elb.name);
	sim_xml_close(x, "LoadBalancerNames");
	sim_xml_empty(x, "TargetGroupARNs");
	sim_xml_text(x, "HealthCheckType", m->p.health_check_elb ? "ELB" : "EC2");
	sim_xml_textf(x, "HealthCheckGracePeriod", "%lld",
	    (long long)(m->p.health_check_grace / 1000));
	if (instances) {
		sim_xml_open(x, "Instances", NULL);
		for (size_t i = 0; i < m->ninst; i++)
			if (sim_asg_listed(m, m->inst[i], now))
				write_member(x, m, m->inst[i], now);
		sim_xml_close(x, "Instances");
	}
	sim_xml_text(x, "CreatedTime", sim_api_time(m, g->created, t));
	write_suspended(x, m);
	write_group_tail(x, m);
	sim_xml_close(x, "member");
}

/* ---- reading parameters ---- */

static int
check_group(struct sim_aws_call *c, const struct sim_model *m, const char *name)
{
	if (strcmp(name, m->asg.name) == 0)
		return 0;
	return sim_call_fail(c, 400, "ValidationError", NO_GROUP);
}

/* A required boolean. */
static int
need_bool(struct sim_aws_call *c, const char *name, int *out)
{
	if (sim_form_get(c->form, name) == NULL)
		return sim_api_missing(c, name);
	return sim_api_bool(c, name, out);
}

/* A list of strings, into v (room for max). */
static int
read_strings(struct sim_aws_call *c, const char *name, const char **v, size_t max,
    size_t *n)
{
	if (sim_api_list(c, name, max, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++)
		v[i] = sim_form_item(c->form, name, SIM_LIST_QUERY, i + 1, NULL);
	return 0;
}

static int
read_page(struct sim_aws_call *c, long max, long *records, size_t *from)
{
	const char	*token;

	if (sim_api_int(c, "MaxRecords", 1, max, records) == -1)
		return -1;
	if ((token = sim_form_get(c->form, "NextToken")) != NULL &&
	    sim_api_token_read(token, from) == -1)
		return sim_call_fail(c, 400, "InvalidNextToken", "The token '%s' is "
		    "invalid.", token);
	return 0;
}

struct filter {
	const char	*name;
	const char	*v[VALUES_MAX];
	size_t		 nv;
};

static int
read_filters(struct sim_aws_call *c, struct filter *f, size_t *n)
{
	char	 name[64];

	if (sim_api_list(c, "Filters", FILTERS_MAX, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		f[i].name = sim_form_item(c->form, "Filters", SIM_LIST_QUERY, i + 1,
		    "Name");
		sim_form_item_name(name, sizeof(name), "Filters", SIM_LIST_QUERY, i + 1,
		    "Values");
		if (read_strings(c, name, f[i].v, VALUES_MAX, &f[i].nv) == -1)
			return -1;
		if (f[i].name == NULL) {
			sim_form_item_name(name, sizeof(name), "Filters", SIM_LIST_QUERY,
			    i + 1, "Name");
			return sim_api_missing(c, name);
		}
	}
	return 0;
}

static int
one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

/* 1 if the group passes the filter, 0 if not, -1 for a filter AWS does not know. */
static int
filter_pass(const struct sim_model *m, const struct filter *f)
{
	struct sim_tag	 t[GROUP_TAGS];
	size_t		 n = group_tags(m, t);

	if (strcmp(f->name, "auto-scaling-group") == 0)
		return one_of(m->asg.name, f->v, f->nv);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f->name, "tag-key") == 0 && one_of(t[i].key, f->v, f->nv))
			return 1;
		if (strcmp(f->name, "tag-value") == 0 && one_of(t[i].value, f->v, f->nv))
			return 1;
		if (strncmp(f->name, "tag:", 4) == 0 && strcmp(f->name + 4, t[i].key) == 0)
			return one_of(t[i].value, f->v, f->nv);
	}
	if (strcmp(f->name, "tag-key") == 0 || strcmp(f->name, "tag-value") == 0 ||
	    strncmp(f->name, "tag:", 4) == 0)
		return 0;
	return -1;
}

/* ---- DescribeAutoScalingGroups, DescribeAutoScalingInstances ---- */

/* Whether names and filters select the group: 1, 0, or -1 once refused. */
static int
group_selected(struct sim_aws_call *c, const struct sim_model *m, const char **names,
    size_t nnames, const struct filter *f, size_t nf)
{
	int	 pass;

	if (nnames > 0 && !one_of(m->asg.name, names, nnames))
		return 0;
	for (size_t i = 0; i < nf; i++) {
		/* U: the text of an unknown filter name. */
		if ((pass = filter_pass(m, &f[i])) == -1)
			return sim_call_fail(c, 400, "ValidationError", "Filter '%s' is "
			    "not a valid filter name", f[i].name);
		if (!pass)
			return 0;
	}
	return 1;
}

static int
describe_groups(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct filter		 f[FILTERS_MAX];
	struct sim_xml		 x;
	const char		*names[SIM_LIST_MAX];
	size_t			 nnames, nf, from = 0;
	long			 records = 50;
	int			 instances = 1, sel;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if (read_strings(c, "AutoScalingGroupNames", names, SIM_LIST_MAX,
	    &nnames) == -1 || read_filters(c, f, &nf) == -1 ||
	    sim_api_bool(c, "IncludeInstances", &instances) == -1 ||
	    read_page(c, 100, &records, &from) == -1 || sim_call_params_done(c) == -1)
		return -1;
	if ((sel = group_selected(c, m, names, nnames, f, nf)) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeAutoScalingGroups", c->svc->ns, 1);
	sim_xml_open(&x, "AutoScalingGroups", NULL);
	if (sel && from == 0)
		write_group(&x, m, c->sim->now, instances);
	sim_xml_close(&x, "AutoScalingGroups");
	sim_xml_query_end(&x, "DescribeAutoScalingGroups", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static void
write_as_instance(struct sim_xml *x, const struct sim_model *m,
    const struct sim_instance *in, int64_t now)
{
	char	 zone[48];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "InstanceId", in->id);
	sim_xml_text(x, "InstanceType", in->type);
	sim_xml_text(x, "AutoScalingGroupName", m->asg.name);
	sim_xml_text(x, "AvailabilityZone", az(m, zone, sizeof(zone)));
	sim_xml_text(x, "LifecycleState", sim_lifecycle_name(sim_asg_life_shown(m, in,
	    now)));
	/* Upper case here, unlike DescribeAutoScalingGroups: AWS's own inconsistency. */
	sim_xml_text(x, "HealthStatus", in->unhealthy ? "UNHEALTHY" : "HEALTHY");
	sim_xml_text(x, "LaunchConfigurationName", in->lc_name);
	sim_xml_text(x, "ProtectedFromScaleIn", sim_asg_prot_shown(m, in, now) ?
	    "true" : "false");
	sim_xml_close(x, "member");
}

/* Members from position from (in launch order); the next position, or 0 at the end. */
static size_t
write_as_instances(struct sim_xml *x, const struct sim_model *m, const char **ids,
    size_t nids, size_t from, long records, int64_t now)
{
	long	 n = 0;

	for (size_t i = from; i < m->ninst; i++) {
		const struct sim_instance *in = m->inst[i];

		if (!sim_asg_listed(m, in, now) || (nids > 0 && !one_of(in->id, ids,
		    nids)))
			continue;
		if (n++ == records)
			return i;
		write_as_instance(x, m, in, now);
	}
	return 0;
}

static int
describe_instances(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*ids[IDS_MAX];
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 nids, from = 0, next;
	long			 records = 50;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if (read_strings(c, "InstanceIds", ids, IDS_MAX, &nids) == -1 ||
	    read_page(c, 50, &records, &from) == -1 || sim_call_params_done(c) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeAutoScalingInstances", c->svc->ns, 1);
	sim_xml_open(&x, "AutoScalingInstances", NULL);
	next = write_as_instances(&x, m, ids, nids, from, records, c->sim->now);
	sim_xml_close(&x, "AutoScalingInstances");
	if (next != 0) {
		sim_api_token(tok, sizeof(tok), next);
		sim_xml_text(&x, "NextToken", tok);
	}
	sim_xml_query_end(&x, "DescribeAutoScalingInstances", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- lifecycle hooks, instance refreshes: none unless a fault or scenario adds them ---- */

static void
write_hook(struct sim_xml *x, const struct sim_model *m, unsigned hook)
{
	sim_xml_open(x, "member", NULL);
	sim_xml_textf(x, "LifecycleHookName", "%s-hook", sim_hook_name(hook));
	sim_xml_text(x, "AutoScalingGroupName", m->asg.name);
	sim_xml_text(x, "LifecycleTransition", sim_hook_transition(hook));
	sim_xml_text(x, "HeartbeatTimeout", "3600");
	sim_xml_text(x, "GlobalTimeout", "172800");
	sim_xml_text(x, "DefaultResult", "CONTINUE");
	sim_xml_close(x, "member");
}

static int
describe_lifecycle_hooks(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*group, *names[IDS_MAX];
	char			 name[32];
	size_t			 n;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if ((group = sim_api_need(c, "AutoScalingGroupName")) == NULL ||
	    read_strings(c, "LifecycleHookNames", names, IDS_MAX, &n) == -1 ||
	    sim_call_params_done(c) == -1 || check_group(c, m, group) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, c->action, c->svc->ns, 1);
	sim_xml_open(&x, "LifecycleHooks", NULL);
	for (unsigned h = 1; h <= SIM_HOOK_ALL; h <<= 1) {
		snprintf(name, sizeof(name), "%s-hook", sim_hook_name(h));
		if ((m->p.lifecycle_hooks & h) && (n == 0 || one_of(name, names, n)))
			write_hook(&x, m, h);
	}
	sim_xml_close(&x, "LifecycleHooks");
	sim_xml_query_end(&x, c->action, c->reqid, 1);
	return sim_call_xml(c, &x);
}

static void
write_refresh(struct sim_xml *x, const struct sim_model *m)
{
	const struct sim_refresh	*r = &m->asg.refresh;
	char				 t[SIM_API_TIME_MAX];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "InstanceRefreshId", r->id);
	sim_xml_text(x, "AutoScalingGroupName", m->asg.name);
	sim_xml_text(x, "Status", r->end == SIM_NEVER ? "InProgress" : "Cancelled");
	sim_xml_text(x, "StartTime", sim_api_time(m, r->start, t));
	if (r->end != SIM_NEVER)
		sim_xml_text(x, "EndTime", sim_api_time(m, r->end, t));
	sim_xml_text(x, "PercentageComplete", "0");
	sim_xml_textf(x, "InstancesToUpdate", "%d", r->instances);
	sim_xml_close(x, "member");
}

static int
describe_instance_refreshes(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*group, *ids[IDS_MAX];
	size_t			 n, from = 0;
	long			 records = 50;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if ((group = sim_api_need(c, "AutoScalingGroupName")) == NULL ||
	    read_strings(c, "InstanceRefreshIds", ids, IDS_MAX, &n) == -1 ||
	    read_page(c, 100, &records, &from) == -1 || sim_call_params_done(c) == -1 ||
	    check_group(c, m, group) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, c->action, c->svc->ns, 1);
	sim_xml_open(&x, "InstanceRefreshes", NULL);
	if (m->asg.refresh.id[0] != '\0' && from == 0 &&
	    (n == 0 || one_of(m->asg.refresh.id, ids, n)))
		write_refresh(&x, m);
	sim_xml_close(&x, "InstanceRefreshes");
	sim_xml_query_end(&x, c->action, c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- activities ---- */

static void
write_activity(struct sim_xml *x, const struct sim_model *m, const struct sim_activity *a)
{
	char	 t[SIM_API_TIME_MAX], zone[48], subnet[40];

	sim_xml_text(x, "ActivityId", a->id);
	sim_xml_text(x, "AutoScalingGroupName", m->asg.name);
	sim_xml_text(x, "Description", a->description);
	sim_xml_text(x, "Cause", a->cause);
	sim_xml_text(x, "StartTime", sim_api_time(m, a->start, t));
	if (a->end != SIM_NEVER)
		sim_xml_text(x, "EndTime", sim_api_time(m, a->end, t));
	sim_xml_text(x, "StatusCode", sim_activity_status_name(a->status));
	if (a->status_message[0] != '\0')
		sim_xml_text(x, "StatusMessage", a->status_message);
	sim_xml_textf(x, "Progress", "%d", a->progress);
	sim_api_fake_id(subnet, sizeof(subnet), "subnet-0", m->stack[0]->id, 16);
	sim_xml_textf(x, "Details", "{\"Subnet ID\":\"%s\",\"Availability Zone\":\"%s\"}",
	    subnet, az(m, zone, sizeof(zone)));
	sim_xml_text(x, "AutoScalingGroupARN", m->asg.arn);
}

/* Newest first, from position end (exclusive); the next page's end, or 0. */
static size_t
write_activities(struct sim_xml *x, const struct sim_model *m, const char **ids,
    size_t nids, size_t end, long records)
{
	long	 n = 0;

	for (size_t i = end; i > 0; i--) {
		const struct sim_activity *a = m->asg.act[i - 1];

		if (nids > 0 && !one_of(a->id, ids, nids))
			continue;
		if (n++ == records)
			return i;
		sim_xml_open(x, "member", NULL);
		write_activity(x, m, a);
		sim_xml_close(x, "member");
	}
	return 0;
}

static int
describe_activities(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*group, *ids[IDS_MAX];
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 nids, end = SIZE_MAX, next = 0;
	long			 records = 100;
	int			 deleted = 0;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	group = sim_form_get(c->form, "AutoScalingGroupName");
	if (read_strings(c, "ActivityIds", ids, IDS_MAX, &nids) == -1 ||
	    sim_api_bool(c, "IncludeDeletedGroups", &deleted) == -1 ||
	    read_page(c, 100, &records, &end) == -1 || sim_call_params_done(c) == -1)
		return -1;
	if (end == SIZE_MAX || end > m->asg.nact)
		end = m->asg.nact;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeScalingActivities", c->svc->ns, 1);
	sim_xml_open(&x, "Activities", NULL);
	/* Another group's activities: there is no other group. */
	if (group == NULL || strcmp(group, m->asg.name) == 0)
		next = write_activities(&x, m, ids, nids, end, records);
	sim_xml_close(&x, "Activities");
	if (next != 0) {
		sim_api_token(tok, sizeof(tok), next);
		sim_xml_text(&x, "NextToken", tok);
	}
	sim_xml_query_end(&x, "DescribeScalingActivities", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- the writes ---- */

static int
terminate_instance(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_activity	*a;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*id;
	int			 decrement = 0;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if ((id = sim_api_need(c, "InstanceId")) == NULL ||
	    need_bool(c, "ShouldDecrementDesiredCapacity", &decrement) == -1 ||
	    sim_call_params_done(c) == -1)
		return -1;
	if (sim_asg_terminate(m, id, decrement, c->sim->now, &a, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "TerminateInstanceInAutoScalingGroup", c->svc->ns, 1);
	sim_xml_open(&x, "Activity", NULL);
	write_activity(&x, m, a);
	sim_xml_close(&x, "Activity");
	sim_xml_query_end(&x, "TerminateInstanceInAutoScalingGroup", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static int
set_protection(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*group, *ids[IDS_MAX];
	size_t			 n;
	int			 protect = 0;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if (read_strings(c, "InstanceIds", ids, IDS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return sim_api_missing(c, "InstanceIds");
	if ((group = sim_api_need(c, "AutoScalingGroupName")) == NULL ||
	    need_bool(c, "ProtectedFromScaleIn", &protect) == -1 ||
	    sim_call_params_done(c) == -1 || check_group(c, m, group) == -1)
		return -1;
	if (sim_asg_set_protection(m, ids, n, protect, c->sim->now, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "SetInstanceProtection", c->svc->ns, 0);
	sim_xml_empty(&x, "SetInstanceProtectionResult");
	sim_xml_query_end(&x, "SetInstanceProtection", c->reqid, 0);
	return sim_call_xml(c, &x);
}

/* Suspend or resume; no ScalingProcesses (or an empty list) means every process. */
static int
set_processes(struct sim_aws_call *c, int suspend)
{
	struct sim_model	*m;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*group, *names[SIM_NPROC * 2];
	size_t			 n;
	int			 rc;

	if ((m = sim_api_begin(c, SIM_SVC_AUTOSCALING)) == NULL)
		return -1;
	if ((group = sim_api_need(c, "AutoScalingGroupName")) == NULL ||
	    read_strings(c, "ScalingProcesses", names, NITEMS(names), &n) == -1 ||
	    sim_call_params_done(c) == -1 || check_group(c, m, group) == -1)
		return -1;
	rc = suspend ? sim_asg_suspend(m, names, n, c->sim->now, &err) :
	    sim_asg_resume(m, names, n, c->sim->now, &err);
	if (rc == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, c->action, c->svc->ns, 0);
	sim_xml_query_end(&x, c->action, c->reqid, 0);
	return sim_call_xml(c, &x);
}

static int
suspend_processes(struct sim_aws_call *c)
{
	return set_processes(c, 1);
}

static int
resume_processes(struct sim_aws_call *c)
{
	return set_processes(c, 0);
}

static const struct sim_op asg_ops[] = {
	{ "DescribeAutoScalingGroups", describe_groups },
	{ "DescribeAutoScalingInstances", describe_instances },
	{ "DescribeInstanceRefreshes", describe_instance_refreshes },
	{ "DescribeLifecycleHooks", describe_lifecycle_hooks },
	{ "DescribeScalingActivities", describe_activities },
	{ "ResumeProcesses", resume_processes },
	{ "SetInstanceProtection", set_protection },
	{ "SuspendProcesses", suspend_processes },
	{ "TerminateInstanceInAutoScalingGroup", terminate_instance },
};

int
sim_api_asg_init(void)
{
	return sim_aws_register("autoscaling", "2011-01-01", asg_ops, NITEMS(asg_ops));
}
