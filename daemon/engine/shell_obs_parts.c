/*
 * One operation per part of the observation (see shell_observe.c): each starts its
 * call in a slot and, when the answer is back, translates it into the observation
 * or sorts the failure, then gives the slot back.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "daemon/aws/autoscaling.h"
#include "daemon/aws/cloudformation.h"
#include "daemon/aws/cloudwatch.h"
#include "daemon/aws/ec2.h"
#include "daemon/aws/elb.h"
#include "daemon/aws/sts.h"
#include "daemon/bitbucket.h"
#include "daemon/engine/shell_observe.h"

/* --- Bitbucket: GET /rest/zdu/cluster ------------------------------------------- */

static void
on_zdu(struct bitbucket_result *r, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;
	struct engine_obs *o = ob->r.o;

	ob->zcall = NULL;
	if (ob->cancelled)
		;
	else if (r->ok) {
		engine_tr_zdu(o, &r->cluster, ob->poll);
		ob->ok |= ENGINE_OBS_ZDU;
	} else if (r->outcome == BITBUCKET_UNAUTHORIZED ||
	    r->outcome == BITBUCKET_FORBIDDEN) {
		if (!o->denied)
			engine_fmt(o->denied_what, sizeof(o->denied_what), "Bitbucket "
			    "/rest/zdu/cluster: %s", r->message);
		o->denied = true;
		engine_obs_error(ob, 0, "GET /rest/zdu/cluster", r->message);
	} else if (r->outcome == BITBUCKET_SERVER || r->outcome == BITBUCKET_NETWORK ||
	    r->outcome == BITBUCKET_CANCELLED) {
		o->transient = true;
		engine_obs_error(ob, 0, "GET /rest/zdu/cluster", r->message);
	} else
		engine_obs_error(ob, ENGINE_OBS_ZDU, "GET /rest/zdu/cluster", r->message);
	engine_obs_slot_done(ob, s);
}

void
engine_obs_zdu(struct shell_obs *ob)
{
	struct obs_slot *s = engine_obs_slot(ob, ENGINE_OBS_ZDU);

	if ((ob->zcall = bitbucket_get_cluster(ob->dep->bb, on_zdu, s)) == NULL) {
		engine_obs_error(ob, ENGINE_OBS_ZDU, "GET /rest/zdu/cluster", "not started");
		engine_obs_slot_done(ob, s);
	}
}

/* --- STS -------------------------------------------------------------------------- */

static void
on_identity(const struct aws_result *r, const struct aws_sts_identity *id, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (id != NULL) {
		ob->r.o->identity_ok = true;
		ob->ok |= ENGINE_OBS_IDENTITY;
	} else {
		engine_obs_aws_error(ob, ENGINE_OBS_IDENTITY, "GetCallerIdentity", r);
		/* Credentials that do not work are an answer, not a missing part. */
		if (r->errclass == AWS_ERRCLASS_AUTH ||
		    r->errclass == AWS_ERRCLASS_EXPIRED_CREDENTIALS)
			ob->ok |= ENGINE_OBS_IDENTITY;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_identity(struct shell_obs *ob)
{
	struct obs_slot *s = engine_obs_slot(ob, ENGINE_OBS_IDENTITY);

	engine_obs_started(ob, s, aws_sts_get_caller_identity(ob->dep->aws, on_identity,
	    s), "GetCallerIdentity");
}

/* --- CloudFormation ---------------------------------------------------------------- */

static void
on_events(const struct aws_result *r, const struct aws_cfn_events *ev, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (ev == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_EVENTS, "DescribeStackEvents", r);
	else {
		engine_tr_events(ob->r.o, ev, ob->dep->cfg->stack, "", ob->token);
		ob->ok |= ENGINE_OBS_EVENTS;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_events(struct shell_obs *ob)
{
	struct obs_slot *s = engine_obs_slot(ob, ENGINE_OBS_EVENTS);

	engine_obs_started(ob, s, aws_cfn_describe_stack_events(ob->dep->aws,
	    ob->dep->cfg->stack, &ob->stop, on_events, s), "DescribeStackEvents");
}

static void	on_changeset(const struct aws_result *, const struct aws_cfn_change_set *,
		    void *);

/* Each nested stack's own change set, listed under its entry (IncludeNestedStacks). */
static void
nested_changesets(struct shell_obs *ob, const struct aws_cfn_change_set *cs,
    size_t first)
{
	size_t k = first;

	for (size_t i = 0; i < cs->nchanges; i++) {
		const struct aws_cfn_change *c = &cs->changes[i];
		struct obs_slot *s;

		if (strcmp(c->type, "Resource") != 0)
			continue;
		if (c->nested_id[0] != '\0' && k < ENGINE_CHANGES_MAX) {
			s = engine_obs_slot(ob, ENGINE_OBS_CHANGESET);
			s->parent = (int)k;
			engine_obs_started(ob, s, aws_cfn_describe_change_set(ob->dep->aws,
			    c->nested_id, NULL, on_changeset, s),
			    "DescribeChangeSet (nested)");
		}
		k++;
	}
}

static void
on_changeset(const struct aws_result *r, const struct aws_cfn_change_set *cs,
    void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;
	struct engine_obs *o = ob->r.o;
	size_t first = o->cs.nchanges;

	if (ob->cancelled)
		;
	else if (cs == NULL && s->parent < 0 && r->errclass == AWS_ERRCLASS_NOT_FOUND) {
		engine_strlcpy(o->cs.name, ob->changeset, sizeof(o->cs.name));
		o->cs.status = ENGINE_CS_ABSENT;
		ob->ok |= ENGINE_OBS_CHANGESET;
	} else if (cs == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_CHANGESET, "DescribeChangeSet", r);
	else {
		if (s->parent < 0) {
			engine_strlcpy(o->cs.name, ob->changeset, sizeof(o->cs.name));
			ob->ok |= ENGINE_OBS_CHANGESET;
		} else
			o->cs.changes[s->parent].nested_listed = true;
		engine_tr_changeset(o, cs, s->parent);
		nested_changesets(ob, cs, first);
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_changeset(struct shell_obs *ob)
{
	struct obs_slot *s = engine_obs_slot(ob, ENGINE_OBS_CHANGESET);

	s->parent = -1;
	engine_obs_started(ob, s, aws_cfn_describe_change_set(ob->dep->aws,
	    ob->changeset, ob->dep->cfg->stack, on_changeset, s), "DescribeChangeSet");
}

static void
stack_done(struct shell_obs *ob)
{
	if ((ob->ok & ENGINE_OBS_STACK) == 0 && ob->root_ok &&
	    (!ob->dep->topo.nested || ob->nested_ok))
		ob->ok |= ENGINE_OBS_STACK;
}

static void
on_stack(const struct aws_result *r, const struct aws_cfn_stacks *st, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;
	struct engine_obs *o = ob->r.o;
	bool child = s->parent == 1;

	if (ob->cancelled)
		;
	else if (st == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_STACK, "DescribeStacks", r);
	else if (st->n == 0)
		engine_obs_error(ob, ENGINE_OBS_STACK, "DescribeStacks", "no such stack");
	else if (child) {
		o->stack.nested = true;
		o->stack.nested_status = engine_stack_status_parse(st->items[0].status);
		engine_strlcpy(o->stack.nested_status_name, st->items[0].status,
		    sizeof(o->stack.nested_status_name));
		ob->nested_ok = true;
		stack_done(ob);
	} else {
		engine_tr_stack(o, &st->items[0]);
		o->stack.has_node_group = ob->dep->topo.asg[0] != '\0';
		engine_strlcpy(o->stack.fileserver, ob->dep->topo.fileserver,
		    sizeof(o->stack.fileserver));
		ob->root_ok = true;
		stack_done(ob);
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_stack(struct shell_obs *ob)
{
	struct obs_slot *s = engine_obs_slot(ob, ENGINE_OBS_STACK);

	engine_obs_started(ob, s, aws_cfn_describe_stacks(ob->dep->aws,
	    ob->dep->cfg->stack, on_stack, s), "DescribeStacks");
	if (!ob->dep->topo.nested)
		return;
	s = engine_obs_slot(ob, ENGINE_OBS_STACK);
	s->parent = 1;
	engine_obs_started(ob, s, aws_cfn_describe_stacks(ob->dep->aws,
	    ob->dep->topo.child, on_stack, s), "DescribeStacks (BitbucketDCStack)");
}

/* --- Auto Scaling -------------------------------------------------------------------- */

static void
on_group(const struct aws_result *r, const struct aws_asg_groups *g, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (g == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ASG, "DescribeAutoScalingGroups", r);
	else if (g->n == 0) {
		engine_obs_error(ob, ENGINE_OBS_ASG, "DescribeAutoScalingGroups", "the "
		    "stack's ClusterNodeGroup does not exist");
		ob->dep->topo.ok = false;	/* read the stack's resources again */
	} else {
		engine_tr_group(ob->r.o, &g->items[0]);
		ob->ok |= ENGINE_OBS_ASG;
	}
	engine_obs_slot_done(ob, s);
}

static void
on_hooks(const struct aws_result *r, const struct aws_asg_hooks *h, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (h == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ASG, "DescribeLifecycleHooks", r);
	else {
		ob->r.o->asg.lifecycle_hooks = (int)h->n;
		ob->extras_ok++;
	}
	engine_obs_slot_done(ob, s);
}

static void
on_refreshes(const struct aws_result *r, const struct aws_asg_refreshes *rf, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (rf == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ASG, "DescribeInstanceRefreshes", r);
	else {
		for (size_t i = 0; i < rf->n; i++)
			if (aws_asg_refresh_active(&rf->items[i]))
				ob->r.o->asg.instance_refresh = true;
		ob->extras_ok++;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_group(struct shell_obs *ob)
{
	const char *asg = ob->dep->topo.asg;
	struct obs_slot *s;

	if (asg[0] == '\0') {
		engine_obs_error(ob, ENGINE_OBS_ASG, "the stack", "it has no ClusterNodeGroup");
		return;
	}
	s = engine_obs_slot(ob, ENGINE_OBS_ASG);
	engine_obs_started(ob, s, aws_asg_describe_auto_scaling_groups(ob->dep->aws, asg,
	    on_group, s), "DescribeAutoScalingGroups");
	if (!(ob->want & SHELL_OBS_EXTRAS))
		return;
	s = engine_obs_slot(ob, ENGINE_OBS_ASG);
	engine_obs_started(ob, s, aws_asg_describe_lifecycle_hooks(ob->dep->aws, asg,
	    on_hooks, s), "DescribeLifecycleHooks");
	s = engine_obs_slot(ob, ENGINE_OBS_ASG);
	engine_obs_started(ob, s, aws_asg_describe_instance_refreshes(ob->dep->aws, asg,
	    on_refreshes, s), "DescribeInstanceRefreshes");
}

static void
on_activities(const struct aws_result *r, const struct aws_asg_activities *a, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (a == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ACTIVITIES, "DescribeScalingActivities",
		    r);
	else {
		engine_tr_activities(ob->r.o, a);
		ob->ok |= ENGINE_OBS_ACTIVITIES;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_activities(struct shell_obs *ob)
{
	struct obs_slot *s;

	if (ob->dep->topo.asg[0] == '\0')
		return;
	s = engine_obs_slot(ob, ENGINE_OBS_ACTIVITIES);
	engine_obs_started(ob, s, aws_asg_describe_scaling_activities(ob->dep->aws,
	    ob->dep->topo.asg, NULL, 0, ENGINE_ACTIVITIES_MAX, on_activities, s),
	    "DescribeScalingActivities");
}

/* --- EC2 and the load balancer, merged once the group is known ----------------------- */

static void
on_ec2(const struct aws_result *r, const struct aws_ec2_instances *in, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (in == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_EC2, "DescribeInstances", r);
	else {
		for (size_t i = 0; i < in->n && ob->nec2 < ENGINE_NODES_MAX * 2; i++) {
			if (strlen(in->items[i].id) >= ENGINE_ID_MAX)
				continue;
			engine_strlcpy(ob->ec2[ob->nec2].id, in->items[i].id, ENGINE_ID_MAX);
			engine_strlcpy(ob->ec2[ob->nec2].ip, in->items[i].private_ip,
			    ENGINE_IP_MAX);
			ob->nec2++;
		}
		ob->ok |= ENGINE_OBS_EC2;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_ec2(struct shell_obs *ob)
{
	static const char *const states[] = { "pending", "running", "shutting-down",
	    "stopping", "stopped" };
	const char *group[1] = { ob->dep->topo.asg };
	struct aws_ec2_filter f[2] = {
		{ "tag:aws:autoscaling:groupName", group, 1 },
		{ "instance-state-name", states, sizeof(states) / sizeof(states[0]) },
	};
	struct aws_ec2_describe_in in = { .filters = f, .nfilters = 2 };
	struct obs_slot *s;

	if (group[0][0] == '\0')
		return;
	if (ob->dep->ips.complete) {	/* every instance's IP is known (shell.h) */
		ob->ok |= ENGINE_OBS_EC2;
		return;
	}
	s = engine_obs_slot(ob, ENGINE_OBS_EC2);
	engine_obs_started(ob, s, aws_ec2_describe_instances(ob->dep->aws, &in, on_ec2,
	    s), "DescribeInstances");
}

static void
on_elb(const struct aws_result *r, const struct aws_elb_healths *h, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (h == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ELB, "DescribeInstanceHealth", r);
	else {
		for (size_t i = 0; i < h->n && ob->nelb < ENGINE_NODES_MAX * 2; i++) {
			if (strlen(h->items[i].id) >= ENGINE_ID_MAX)
				continue;
			engine_strlcpy(ob->elb[ob->nelb].id, h->items[i].id, ENGINE_ID_MAX);
			ob->elb[ob->nelb].elb = engine_elb_parse(h->items[i].state,
			    h->items[i].description);
			ob->nelb++;
		}
		ob->ok |= ENGINE_OBS_ELB;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_elb(struct shell_obs *ob)
{
	struct obs_slot *s;

	if (ob->dep->topo.lb[0] == '\0')
		return;
	s = engine_obs_slot(ob, ENGINE_OBS_ELB);
	engine_obs_started(ob, s, aws_elb_describe_instance_health(ob->dep->aws,
	    ob->dep->topo.lb, on_elb, s), "DescribeInstanceHealth");
}

/* --- CloudWatch alarms (before resuming AlarmNotification, behaviour 14) ------------- */

static void
on_alarms(const struct aws_result *r, const struct aws_cw_alarms *a, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (a == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_ALARMS, "DescribeAlarms", r);
	else {
		ob->r.o->alarms_in_alarm = engine_tr_alarms(a);
		ob->ok |= ENGINE_OBS_ALARMS;
	}
	engine_obs_slot_done(ob, s);
}

void
engine_obs_alarms(struct shell_obs *ob)
{
	const struct shell_topology *t = &ob->dep->topo;
	const char *names[SHELL_ALARMS_MAX];
	struct obs_slot *s;

	if (t->nalarms == 0) {
		ob->r.o->alarms_in_alarm = 0;
		ob->ok |= ENGINE_OBS_ALARMS;
		return;
	}
	for (size_t i = 0; i < t->nalarms; i++)
		names[i] = t->alarms[i];
	s = engine_obs_slot(ob, ENGINE_OBS_ALARMS);
	engine_obs_started(ob, s, aws_cw_describe_alarms(ob->dep->aws, names, t->nalarms,
	    on_alarms, s), "DescribeAlarms");
}
