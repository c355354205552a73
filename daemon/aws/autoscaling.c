/*
 * Auto Scaling (see autoscaling.h). The builders emit parameters in the order
 * botocore does for the same call (tests compare bodies byte for byte); the
 * parsers take what the model names and ignore the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/autoscaling.h"

const char *const aws_asg_processes[] = {
	"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification",
	"AZRebalance", "HealthCheck", "InstanceRefresh", "ReplaceUnhealthy",
	"ScheduledActions",
};
const size_t aws_asg_nprocesses = sizeof(aws_asg_processes) /
    sizeof(aws_asg_processes[0]);

/* n strings, each there and not empty. */
static bool
given_all(const char *const *v, size_t n)
{
	size_t	 i;

	if (n > 0 && v == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!aws_given(v[i]))
			return false;
	return true;
}

static bool
is_in(const char *s, const char *const *set, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static int
parse_instance(const xmlNode *m, int group_req, struct aws_asg_instance *in,
    char *err, size_t errlen)
{
	return aws_get_str(m, "InstanceId", AWS_REQ, in->id, sizeof(in->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "AutoScalingGroupName", group_req, in->group,
	    sizeof(in->group), err, errlen) == -1 ||
	    aws_get_str(m, "AvailabilityZone", AWS_REQ, in->zone, sizeof(in->zone),
	    err, errlen) == -1 ||
	    aws_get_str(m, "LifecycleState", AWS_REQ, in->lifecycle,
	    sizeof(in->lifecycle), err, errlen) == -1 ||
	    aws_get_str(m, "HealthStatus", AWS_REQ, in->health, sizeof(in->health),
	    err, errlen) == -1 ||
	    aws_get_str(m, "LaunchConfigurationName", AWS_OPT, in->launch_config,
	    sizeof(in->launch_config), err, errlen) == -1 ||
	    aws_get_bool(m, "ProtectedFromScaleIn", AWS_REQ,
	    &in->protected_from_scale_in, err, errlen) == -1 ? -1 : 0;
}

/* A list of instances at path into *items, *n. */
static int
parse_instances(const xmlNode *from, const char *path, int group_req,
    struct aws_asg_instance **items, size_t *n, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(from, path, AWS_OPT, AWS_XML_MEMBER, AWS_ASG_MAX_INSTANCES,
	    &list, n, err, errlen) == -1)
		return -1;
	if ((*items = aws_alloc_array(*n, sizeof(**items))) == NULL) {
		*n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER)
		if (parse_instance(m, group_req, &(*items)[i++], err, errlen) == -1)
			return aws_perr_in(err, errlen, "%s member %zu", path, i);
	return 0;
}

/* --- DescribeAutoScalingGroups -------------------------------------------- */

int
aws_asg_describe_auto_scaling_groups_query(struct aws_query *q,
    const char *const *names, size_t n, int max_records, const char *next)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "DescribeAutoScalingGroups") == -1)
		return -1;
	/* No names would describe every group of the account. */
	if (n == 0 || n > AWS_ASG_MAX_GROUPS || !given_all(names, n) ||
	    max_records < 0 || max_records > AWS_ASG_MAX_GROUPS)
		return aws_refuse(q);
	aws_query_add_list(q, "AutoScalingGroupNames", names, n);
	if (max_records > 0)
		aws_query_add_int(q, "MaxRecords", max_records);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_lbs(const xmlNode *from, struct aws_asg_group *g, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(from, "LoadBalancerNames", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ASG_MAX_NAMES, &list, &g->nlbs, err, errlen) == -1)
		return -1;
	if ((g->lbs = aws_alloc_array(g->nlbs, sizeof(*g->lbs))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER)
		if (aws_get_str(m, "", AWS_REQ, g->lbs[i++].name,
		    sizeof(g->lbs[0].name), err, errlen) == -1)
			return aws_perr_in(err, errlen, "LoadBalancerNames member %zu",
			    i);
	return 0;
}

static int
parse_suspended(const xmlNode *from, struct aws_asg_group *g, char *err,
    size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(from, "SuspendedProcesses", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ASG_MAX_NAMES, &list, &g->nsuspended, err, errlen) == -1)
		return -1;
	if ((g->suspended = aws_alloc_array(g->nsuspended,
	    sizeof(*g->suspended))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		struct aws_asg_suspended	*p = &g->suspended[i++];

		if (aws_get_str(m, "ProcessName", AWS_REQ, p->name, sizeof(p->name),
		    err, errlen) == -1)
			return aws_perr_in(err, errlen, "SuspendedProcesses member %zu",
			    i);
		aws_get_text(m, "SuspensionReason", p->reason, sizeof(p->reason));
	}
	return 0;
}

static int
parse_group_fields(const xmlNode *m, struct aws_asg_group *g, char *err,
    size_t errlen)
{
	const xmlNode	*tgs;

	return aws_get_str(m, "AutoScalingGroupName", AWS_REQ, g->name,
	    sizeof(g->name), err, errlen) == -1 ||
	    aws_get_str(m, "AutoScalingGroupARN", AWS_OPT, g->arn, sizeof(g->arn),
	    err, errlen) == -1 ||
	    aws_get_str(m, "LaunchConfigurationName", AWS_OPT, g->launch_config,
	    sizeof(g->launch_config), err, errlen) == -1 ||
	    aws_get_int(m, "MinSize", AWS_REQ, &g->min, err, errlen) == -1 ||
	    aws_get_int(m, "MaxSize", AWS_REQ, &g->max, err, errlen) == -1 ||
	    aws_get_int(m, "DesiredCapacity", AWS_REQ, &g->desired, err,
	    errlen) == -1 ||
	    aws_get_str(m, "HealthCheckType", AWS_REQ, g->health_check_type,
	    sizeof(g->health_check_type), err, errlen) == -1 ||
	    aws_get_int(m, "HealthCheckGracePeriod", AWS_OPT, &g->health_check_grace,
	    err, errlen) == -1 ||
	    aws_get_str(m, "Status", AWS_OPT, g->status, sizeof(g->status), err,
	    errlen) == -1 ||
	    aws_get_bool(m, "NewInstancesProtectedFromScaleIn", AWS_OPT,
	    &g->new_instances_protected, err, errlen) == -1 ||
	    aws_get_time(m, "CreatedTime", AWS_REQ, &g->created_ms, err,
	    errlen) == -1 ||
	    aws_get_list(m, "TargetGroupARNs", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ASG_MAX_NAMES, &tgs, &g->ntarget_groups, err, errlen) == -1 ? -1 : 0;
}

static int
parse_group(const xmlNode *m, struct aws_asg_group *g, char *err, size_t errlen)
{
	size_t	 i;

	if (parse_group_fields(m, g, err, errlen) == -1 ||
	    parse_lbs(m, g, err, errlen) == -1 ||
	    parse_suspended(m, g, err, errlen) == -1 ||
	    parse_instances(m, "Instances", AWS_OPT, &g->instances, &g->ninstances,
	    err, errlen) == -1)
		return -1;
	for (i = 0; i < g->ninstances; i++)
		memcpy(g->instances[i].group, g->name, sizeof(g->name));
	return 0;
}

int
aws_asg_parse_describe_auto_scaling_groups(const xmlNode *result,
    struct aws_asg_groups *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "AutoScalingGroups", AWS_REQ, AWS_XML_MEMBER,
	    AWS_ASG_MAX_GROUPS, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_group(m, &out->items[i++], err, errlen) == -1) {
			aws_asg_groups_free(out);
			return aws_perr_in(err, errlen, "AutoScalingGroups member %zu",
			    i);
		}
	}
	return 0;
}

void
aws_asg_groups_free(struct aws_asg_groups *gs)
{
	size_t	 i;

	for (i = 0; i < gs->n && gs->items != NULL; i++) {
		free(gs->items[i].lbs);
		free(gs->items[i].instances);
		free(gs->items[i].suspended);
	}
	free(gs->items);
	memset(gs, 0, sizeof(*gs));
}

bool
aws_asg_group_suspended(const struct aws_asg_group *g, const char *process)
{
	size_t	 i;

	for (i = 0; i < g->nsuspended; i++)
		if (strcmp(g->suspended[i].name, process) == 0)
			return true;
	return false;
}

AWS_OP_TYPED(groups, struct aws_asg_groups, aws_asg_groups_cb,
    aws_asg_parse_describe_auto_scaling_groups, aws_asg_groups_free)

struct aws_op *
aws_asg_describe_auto_scaling_groups(struct aws_client *client, const char *name,
    aws_asg_groups_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_describe_auto_scaling_groups_query(&q, &name, 1, 0, NULL);
	return groups_run(client, &q, built, cb, arg);
}

/* --- DescribeAutoScalingInstances ----------------------------------------- */

int
aws_asg_describe_auto_scaling_instances_query(struct aws_query *q,
    const char *const *ids, size_t n)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "DescribeAutoScalingInstances") == -1)
		return -1;
	/* No ids would describe every instance of every group. */
	if (n == 0 || n > AWS_ASG_PROTECT_CHUNK || !given_all(ids, n))
		return aws_refuse(q);
	aws_query_add_list(q, "InstanceIds", ids, n);
	return aws_built(q);
}

int
aws_asg_parse_describe_auto_scaling_instances(const xmlNode *result,
    struct aws_asg_instances *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if (parse_instances(result, "AutoScalingInstances", AWS_REQ, &out->items,
	    &out->n, err, errlen) == -1) {
		aws_asg_instances_free(out);
		return -1;
	}
	return 0;
}

void
aws_asg_instances_free(struct aws_asg_instances *is)
{
	free(is->items);
	memset(is, 0, sizeof(*is));
}

AWS_OP_TYPED(instances, struct aws_asg_instances, aws_asg_instances_cb,
    aws_asg_parse_describe_auto_scaling_instances, aws_asg_instances_free)

struct aws_op *
aws_asg_describe_auto_scaling_instances(struct aws_client *client,
    const char *const *ids, size_t n, aws_asg_instances_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_describe_auto_scaling_instances_query(&q, ids, n);
	return instances_run(client, &q, built, cb, arg);
}

/* --- DescribeScalingActivities, TerminateInstanceInAutoScalingGroup ------- */

int
aws_asg_describe_scaling_activities_query(struct aws_query *q, const char *group,
    const char *const *ids, size_t nids, int max_records, const char *next)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "DescribeScalingActivities") == -1)
		return -1;
	/* Neither would list the activities of every group of the account. */
	if ((!aws_given(group) && nids == 0) || nids > AWS_ASG_PROTECT_CHUNK ||
	    !given_all(ids, nids) || max_records < 0 || max_records > 100)
		return aws_refuse(q);
	if (nids > 0)
		aws_query_add_list(q, "ActivityIds", ids, nids);
	if (aws_given(group))
		aws_query_add(q, "AutoScalingGroupName", group);
	if (max_records > 0)
		aws_query_add_int(q, "MaxRecords", max_records);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_activity(const xmlNode *m, struct aws_asg_activity *a, char *err,
    size_t errlen)
{
	a->progress = -1;
	if (aws_get_str(m, "ActivityId", AWS_REQ, a->id, sizeof(a->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "AutoScalingGroupName", AWS_REQ, a->group,
	    sizeof(a->group), err, errlen) == -1 ||
	    aws_get_str(m, "StatusCode", AWS_REQ, a->status, sizeof(a->status), err,
	    errlen) == -1 ||
	    aws_get_time(m, "StartTime", AWS_REQ, &a->start_ms, err, errlen) == -1 ||
	    aws_get_time(m, "EndTime", AWS_OPT, &a->end_ms, err, errlen) == -1 ||
	    aws_get_int(m, "Progress", AWS_OPT, &a->progress, err, errlen) == -1)
		return -1;
	aws_get_text(m, "StatusMessage", a->status_message,
	    sizeof(a->status_message));
	aws_get_text(m, "Description", a->description, sizeof(a->description));
	aws_get_text(m, "Cause", a->cause, sizeof(a->cause));
	return 0;
}

bool
aws_asg_activity_done(const struct aws_asg_activity *a)
{
	static const char *const done[] = { "Successful", "Failed", "Cancelled" };

	return is_in(a->status, done, sizeof(done) / sizeof(done[0]));
}

int
aws_asg_parse_describe_scaling_activities(const xmlNode *result,
    struct aws_asg_activities *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "Activities", AWS_REQ, AWS_XML_MEMBER,
	    AWS_ASG_MAX_ACTIVITIES, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_activity(m, &out->items[i++], err, errlen) == -1) {
			aws_asg_activities_free(out);
			return aws_perr_in(err, errlen, "Activities member %zu", i);
		}
	}
	return 0;
}

int
aws_asg_activities_take(struct aws_asg_activities *acc,
    struct aws_asg_activities *page, size_t max)
{
	struct aws_asg_activity	*p;
	size_t			 k;

	if (max == 0 || max > AWS_ASG_MAX_ACTIVITIES)
		max = AWS_ASG_MAX_ACTIVITIES;
	k = acc->n >= max ? 0 : max - acc->n;
	if (k > page->n)
		k = page->n;
	if ((p = aws_append_array(acc->items, acc->n, page->items, k, sizeof(*p),
	    max)) == NULL)
		return -1;
	acc->items = p;
	acc->n += k;
	acc->truncated = k < page->n || (acc->n == max && page->next[0] != '\0');
	snprintf(acc->next, sizeof(acc->next), "%s",
	    acc->truncated ? "" : page->next);
	aws_asg_activities_free(page);
	return acc->next[0] != '\0' ? 1 : 0;
}

void
aws_asg_activities_free(struct aws_asg_activities *as)
{
	free(as->items);
	memset(as, 0, sizeof(*as));
}

struct activities_ctx {
	struct aws_asg_activities	 out;
	size_t				 max;
	aws_asg_activities_cb		 cb;
	void				*arg;
};

static int
activities_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,
    char *err, size_t errlen)
{
	struct activities_ctx		*c = ctx;
	struct aws_asg_activities	 page;
	int				 rc;

	if (aws_asg_parse_describe_scaling_activities(result, &page, err,
	    errlen) == -1)
		return -1;
	if ((rc = aws_asg_activities_take(&c->out, &page, c->max)) == -1) {
		aws_asg_activities_free(&page);
		return aws_perr(err, errlen, "out of memory");
	}
	snprintf(next, nextlen, "%s", c->out.next);
	return rc;
}

static void
activities_done(const struct aws_result *r, void *ctx)
{
	struct activities_ctx	*c = ctx;

	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);
}

static void
activities_release(void *ctx)
{
	aws_asg_activities_free(&((struct activities_ctx *)ctx)->out);
}

static const struct aws_op_spec activities_spec = {
	activities_page, activities_done, activities_release
};

struct aws_op *
aws_asg_describe_scaling_activities(struct aws_client *client, const char *group,
    const char *const *ids, size_t nids, size_t max, aws_asg_activities_cb cb,
    void *arg)
{
	struct aws_query	 q;
	struct activities_ctx	*c = NULL;
	int			 built;

	/* Ask for no more per page than we keep. */
	built = aws_asg_describe_scaling_activities_query(&q, group, ids, nids,
	    max > 0 && max < 100 ? (int)max : 0, NULL);
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->max = max;
		c->cb = cb;
		c->arg = arg;
	}
	return aws_op_start(client, &q, 1, &activities_spec, c,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

int
aws_asg_terminate_instance_in_auto_scaling_group_query(struct aws_query *q,
    const char *id, bool decrement)
{
	if (aws_query_init(q, AWS_AUTOSCALING,
	    "TerminateInstanceInAutoScalingGroup") == -1)
		return -1;
	if (!aws_given(id))
		return aws_refuse(q);
	aws_query_add(q, "InstanceId", id);
	aws_query_add_bool(q, "ShouldDecrementDesiredCapacity", decrement);
	return aws_built(q);
}

int
aws_asg_parse_terminate_instance_in_auto_scaling_group(const xmlNode *result,
    struct aws_asg_activity *out, char *err, size_t errlen)
{
	const xmlNode	*a;

	memset(out, 0, sizeof(*out));
	/* The model makes Activity optional; without it there is nothing to follow. */
	if ((a = aws_xml_find(result, "Activity")) == NULL)
		return aws_perr(err, errlen, "missing Activity");
	if (parse_activity(a, out, err, errlen) == -1)
		return aws_perr_in(err, errlen, "Activity");
	return 0;
}

AWS_OP_TYPED(terminate, struct aws_asg_activity, aws_asg_activity_cb,
    aws_asg_parse_terminate_instance_in_auto_scaling_group, aws_no_release)

struct aws_op *
aws_asg_terminate_instance_in_auto_scaling_group(struct aws_client *client,
    const char *id, bool decrement, aws_asg_activity_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_terminate_instance_in_auto_scaling_group_query(&q, id,
	    decrement);
	return terminate_run(client, &q, built, cb, arg);
}

/* --- DescribeLifecycleHooks, DescribeInstanceRefreshes -------------------- */

int
aws_asg_describe_lifecycle_hooks_query(struct aws_query *q, const char *group)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "DescribeLifecycleHooks") == -1)
		return -1;
	if (!aws_given(group))
		return aws_refuse(q);
	aws_query_add(q, "AutoScalingGroupName", group);
	return aws_built(q);
}

static int
parse_hook(const xmlNode *m, struct aws_asg_hook *h, char *err, size_t errlen)
{
	h->heartbeat_timeout = h->global_timeout = -1;
	return aws_get_str(m, "LifecycleHookName", AWS_REQ, h->name, sizeof(h->name),
	    err, errlen) == -1 ||
	    aws_get_str(m, "LifecycleTransition", AWS_OPT, h->transition,
	    sizeof(h->transition), err, errlen) == -1 ||
	    aws_get_str(m, "DefaultResult", AWS_OPT, h->default_result,
	    sizeof(h->default_result), err, errlen) == -1 ||
	    aws_get_int(m, "HeartbeatTimeout", AWS_OPT, &h->heartbeat_timeout, err,
	    errlen) == -1 ||
	    aws_get_int(m, "GlobalTimeout", AWS_OPT, &h->global_timeout, err,
	    errlen) == -1 ? -1 : 0;
}

int
aws_asg_parse_describe_lifecycle_hooks(const xmlNode *result,
    struct aws_asg_hooks *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "LifecycleHooks", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ASG_MAX_HOOKS, &list, &out->n, err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_hook(m, &out->items[i++], err, errlen) == -1) {
			aws_asg_hooks_free(out);
			return aws_perr_in(err, errlen, "LifecycleHooks member %zu", i);
		}
	}
	return 0;
}

void
aws_asg_hooks_free(struct aws_asg_hooks *hs)
{
	free(hs->items);
	memset(hs, 0, sizeof(*hs));
}

AWS_OP_TYPED(hooks, struct aws_asg_hooks, aws_asg_hooks_cb,
    aws_asg_parse_describe_lifecycle_hooks, aws_asg_hooks_free)

struct aws_op *
aws_asg_describe_lifecycle_hooks(struct aws_client *client, const char *group,
    aws_asg_hooks_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_describe_lifecycle_hooks_query(&q, group);
	return hooks_run(client, &q, built, cb, arg);
}

int
aws_asg_describe_instance_refreshes_query(struct aws_query *q, const char *group)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "DescribeInstanceRefreshes") == -1)
		return -1;
	if (!aws_given(group))
		return aws_refuse(q);
	aws_query_add(q, "AutoScalingGroupName", group);
	return aws_built(q);
}

static int
parse_refresh(const xmlNode *m, struct aws_asg_refresh *r, char *err,
    size_t errlen)
{
	r->percent = -1;
	if (aws_get_str(m, "InstanceRefreshId", AWS_REQ, r->id, sizeof(r->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "Status", AWS_REQ, r->status, sizeof(r->status), err,
	    errlen) == -1 ||
	    aws_get_int(m, "PercentageComplete", AWS_OPT, &r->percent, err,
	    errlen) == -1 ||
	    aws_get_time(m, "StartTime", AWS_OPT, &r->start_ms, err, errlen) == -1 ||
	    aws_get_time(m, "EndTime", AWS_OPT, &r->end_ms, err, errlen) == -1)
		return -1;
	aws_get_text(m, "StatusReason", r->reason, sizeof(r->reason));
	return 0;
}

bool
aws_asg_refresh_active(const struct aws_asg_refresh *r)
{
	static const char *const active[] = {
		"Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking",
	};

	return is_in(r->status, active, sizeof(active) / sizeof(active[0]));
}

int
aws_asg_parse_describe_instance_refreshes(const xmlNode *result,
    struct aws_asg_refreshes *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "InstanceRefreshes", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ASG_MAX_REFRESHES, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_refresh(m, &out->items[i++], err, errlen) == -1) {
			aws_asg_refreshes_free(out);
			return aws_perr_in(err, errlen, "InstanceRefreshes member %zu",
			    i);
		}
	}
	return 0;
}

void
aws_asg_refreshes_free(struct aws_asg_refreshes *rs)
{
	free(rs->items);
	memset(rs, 0, sizeof(*rs));
}

AWS_OP_TYPED(refreshes, struct aws_asg_refreshes, aws_asg_refreshes_cb,
    aws_asg_parse_describe_instance_refreshes, aws_asg_refreshes_free)

struct aws_op *
aws_asg_describe_instance_refreshes(struct aws_client *client, const char *group,
    aws_asg_refreshes_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_describe_instance_refreshes_query(&q, group);
	return refreshes_run(client, &q, built, cb, arg);
}

/* --- SetInstanceProtection, SuspendProcesses, ResumeProcesses ------------- */

int
aws_asg_set_instance_protection_query(struct aws_query *q, const char *group,
    const char *const *ids, size_t n, bool protect)
{
	if (aws_query_init(q, AWS_AUTOSCALING, "SetInstanceProtection") == -1)
		return -1;
	if (!aws_given(group) || n == 0 || n > AWS_ASG_PROTECT_CHUNK ||
	    !given_all(ids, n))
		return aws_refuse(q);
	aws_query_add_list(q, "InstanceIds", ids, n);
	aws_query_add(q, "AutoScalingGroupName", group);
	aws_query_add_bool(q, "ProtectedFromScaleIn", protect);
	return aws_built(q);
}

struct aws_op *
aws_asg_set_instance_protection(struct aws_client *client, const char *group,
    const char *const *ids, size_t n, bool protect, aws_cb cb, void *arg)
{
	struct aws_query	 reqs[AWS_ASG_PROTECT_MAX / AWS_ASG_PROTECT_CHUNK];
	size_t			 nreq = 0, i, k;
	int			 refused = n == 0 || n > AWS_ASG_PROTECT_MAX;

	for (i = 0; !refused && i < n; i += k) {
		k = n - i < AWS_ASG_PROTECT_CHUNK ? n - i : AWS_ASG_PROTECT_CHUNK;
		if (aws_asg_set_instance_protection_query(&reqs[nreq++], group,
		    ids + i, k, protect) == -1)
			refused = 1;
	}
	/* Not one chunk goes if any is refused: no half-protected group. */
	if (refused) {
		while (nreq > 0)
			aws_query_free(&reqs[--nreq]);
		aws_query_init(&reqs[0], AWS_AUTOSCALING, "SetInstanceProtection");
		aws_refuse(&reqs[0]);
		nreq = 1;
	}
	return aws_op_plain(client, reqs, nreq, cb, arg,
	    refused ? AWS_OP_REFUSED : NULL);
}

/* procs: known processes, each once, at least one. */
static bool
valid_processes(const char *const *procs, size_t n)
{
	size_t	 i;

	if (n == 0 || n > aws_asg_nprocesses || !given_all(procs, n))
		return false;
	for (i = 0; i < n; i++)
		if (!is_in(procs[i], aws_asg_processes, aws_asg_nprocesses) ||
		    is_in(procs[i], procs, i))
			return false;
	return true;
}

static int
processes_query(struct aws_query *q, const char *action, const char *group,
    const char *const *procs, size_t n)
{
	if (aws_query_init(q, AWS_AUTOSCALING, action) == -1)
		return -1;
	/* An empty list would mean every process, Launch and Terminate included. */
	if (!aws_given(group) || !valid_processes(procs, n))
		return aws_refuse(q);
	aws_query_add(q, "AutoScalingGroupName", group);
	aws_query_add_list(q, "ScalingProcesses", procs, n);
	return aws_built(q);
}

int
aws_asg_suspend_processes_query(struct aws_query *q, const char *group,
    const char *const *procs, size_t n)
{
	return processes_query(q, "SuspendProcesses", group, procs, n);
}

int
aws_asg_resume_processes_query(struct aws_query *q, const char *group,
    const char *const *procs, size_t n)
{
	return processes_query(q, "ResumeProcesses", group, procs, n);
}

struct aws_op *
aws_asg_suspend_processes(struct aws_client *client, const char *group,
    const char *const *procs, size_t n, aws_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_suspend_processes_query(&q, group, procs, n);
	return aws_op_plain(client, &q, 1, cb, arg,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

struct aws_op *
aws_asg_resume_processes(struct aws_client *client, const char *group,
    const char *const *procs, size_t n, aws_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_asg_resume_processes_query(&q, group, procs, n);
	return aws_op_plain(client, &q, 1, cb, arg,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}
