/*
 * CloudFormation's answers as the core's observation: the stack's status and the
 * three parameters the upgrade changes, what the stack is made of (read once), the
 * terminal event of our ClientRequestToken, and a change set with its nested one.
 *
 * A status read never ends a stack change (DescribeStacks lags, behaviour 2): only
 * the stack-level event that carries our token does, so that is what is looked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/cloudformation.h"
#include "daemon/engine/shell.h"

static bool
parse_count(const char *s, int *out)
{
	char *end;
	long v;

	if (s == NULL || s[0] == '\0')
		return false;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 100000)
		return false;
	*out = (int)v;
	return true;
}

/* The root stack: the one the upgrade changes and whose parameters it reads. */
void
engine_tr_stack(struct engine_obs *o, const struct aws_cfn_stack *st)
{
	struct engine_obs_stack *s = &o->stack;
	const char *v;

	s->status = engine_stack_status_parse(st->status);
	engine_strlcpy(s->status_name, st->status, sizeof(s->status_name));
	engine_strlcpy(s->status_reason, st->reason, sizeof(s->status_reason));
	if ((v = aws_cfn_stack_param(st, "BitbucketVersion")) != NULL &&
	    strcmp(v, AWS_CFN_NOECHO) != 0 && strlen(v) < sizeof(s->version)) {
		s->has_version = true;
		engine_strlcpy(s->version, v, sizeof(s->version));
	}
	s->has_min = parse_count(aws_cfn_stack_param(st, "ClusterNodeMin"), &s->min);
	s->has_max = parse_count(aws_cfn_stack_param(st, "ClusterNodeMax"), &s->max);
	/* A standby cluster (DBMaster set) has min = desired = 0 until promoted. */
	v = aws_cfn_stack_param(st, "DBMaster");
	s->standby = v != NULL && v[0] != '\0' && strcmp(v, AWS_CFN_NOECHO) != 0;
	s->role_arn = st->role_arn[0] != '\0';
}

static void
take_resource(struct shell_topology *t, const struct aws_cfn_resource *r)
{
	if (strcmp(r->logical_id, "ClusterNodeGroup") == 0)
		engine_strlcpy(t->asg, r->physical_id, sizeof(t->asg));
	else if (strcmp(r->logical_id, "LoadBalancer") == 0)
		engine_strlcpy(t->lb, r->physical_id, sizeof(t->lb));
	else if (strcmp(r->logical_id, "FileServer") == 0 &&
	    strlen(r->physical_id) < sizeof(t->fileserver))
		engine_strlcpy(t->fileserver, r->physical_id, sizeof(t->fileserver));
	else if (strcmp(r->type, "AWS::CloudWatch::Alarm") == 0 &&
	    r->physical_id[0] != '\0' && t->nalarms < SHELL_ALARMS_MAX)
		engine_strlcpy(t->alarms[t->nalarms++], r->physical_id,
		    sizeof(t->alarms[0]));
}

/*
 * The resources of one stack: the with-VPC layout nests the product stack as
 * BitbucketDCStack (*nested set, its id in t->child), the flat one holds the group,
 * the load balancer and the FileServer itself.
 */
void
engine_tr_topology(struct shell_topology *t, const struct aws_cfn_resources *rs,
    bool *nested)
{
	*nested = false;
	for (size_t i = 0; i < rs->n; i++) {
		const struct aws_cfn_resource *r = &rs->items[i];

		if (strcmp(r->logical_id, "BitbucketDCStack") == 0 &&
		    strcmp(r->type, "AWS::CloudFormation::Stack") == 0 &&
		    r->physical_id[0] != '\0') {
			*nested = true;
			engine_strlcpy(t->child, r->physical_id, sizeof(t->child));
		}
	}
	if (*nested)
		return;
	for (size_t i = 0; i < rs->n; i++)
		take_resource(t, &rs->items[i]);
}

static enum engine_stack_event
terminal(const char *status)
{
	if (strcmp(status, "UPDATE_COMPLETE") == 0)
		return ENGINE_EVENT_COMPLETE;
	if (strcmp(status, "UPDATE_ROLLBACK_COMPLETE") == 0)
		return ENGINE_EVENT_ROLLED_BACK;
	if (strcmp(status, "UPDATE_ROLLBACK_FAILED") == 0)
		return ENGINE_EVENT_ROLLBACK_FAILED;
	if (strcmp(status, "UPDATE_FAILED") == 0)
		return ENGINE_EVENT_FAILED;
	return ENGINE_EVENT_NONE;
}

static bool
failed(const char *status)
{
	size_t n = strlen(status);

	return n > 7 && strcmp(status + n - 7, "_FAILED") == 0;
}

static void
add_reason(struct engine_obs_stack *s, const struct aws_cfn_event *e)
{
	size_t off = strlen(s->event_reasons);

	if (e->reason[0] == '\0' || off + 4 >= sizeof(s->event_reasons))
		return;
	engine_fmt(s->event_reasons + off, sizeof(s->event_reasons) - off, "%s%s: %s",
	    off ? "; " : "", e->logical_id, e->reason);
}

/*
 * The newest stack-level terminal event carrying token, and the reasons of the
 * resources that failed under it. Events come newest first.
 */
void
engine_tr_events(struct engine_obs *o, const struct aws_cfn_events *ev,
    const char *stack_name, const char *stack_id, const char *token)
{
	struct engine_obs_stack *s = &o->stack;

	engine_strlcpy(s->event_token, token, sizeof(s->event_token));
	s->event = ENGINE_EVENT_NONE;
	s->event_reasons[0] = '\0';
	for (size_t i = 0; i < ev->n; i++) {
		const struct aws_cfn_event *e = &ev->items[i];
		bool stack_level = strcmp(e->type, "AWS::CloudFormation::Stack") == 0 &&
		    (strcmp(e->logical_id, stack_name) == 0 ||
		    strcmp(e->physical_id, stack_id) == 0);

		if (strcmp(e->token, token) != 0)
			continue;
		if (stack_level && s->event == ENGINE_EVENT_NONE)
			s->event = terminal(e->status);
		else if (!stack_level && failed(e->status))
			add_reason(s, e);
	}
}

static enum engine_change_action
change_action(const char *a)
{
	static const char *const t[] = { "Add", "Modify", "Remove", "Import", "Dynamic" };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(a, t[i]) == 0)
			return (enum engine_change_action)i;
	return ENGINE_CHANGE_OTHER;
}

static enum engine_replacement
replacement(const char *r)
{
	if (strcmp(r, "False") == 0)
		return ENGINE_REPLACE_FALSE;
	if (strcmp(r, "True") == 0)
		return ENGINE_REPLACE_TRUE;
	if (strcmp(r, "Conditional") == 0)
		return ENGINE_REPLACE_CONDITIONAL;
	return ENGINE_REPLACE_ABSENT;
}

static unsigned
scope(unsigned s)
{
	unsigned v = s & (AWS_CFN_SCOPE_PROPERTIES | AWS_CFN_SCOPE_METADATA |
	    AWS_CFN_SCOPE_CREATION_POLICY | AWS_CFN_SCOPE_UPDATE_POLICY |
	    AWS_CFN_SCOPE_DELETION_POLICY);

	/* The bits agree up to DeletionPolicy; the rest is named one by one. */
	if (s & AWS_CFN_SCOPE_TAGS)
		v |= ENGINE_SCOPE_TAGS;
	if (s & (AWS_CFN_SCOPE_UPDATE_REPLACE_POLICY | AWS_CFN_SCOPE_UNKNOWN))
		v |= ENGINE_SCOPE_OTHER;
	return v;
}

static void
change(struct engine_change *c, const struct aws_cfn_change *a, int parent)
{
	memset(c, 0, sizeof(*c));
	engine_strlcpy(c->logical_id, a->logical_id, sizeof(c->logical_id));
	engine_strlcpy(c->resource_type, a->resource_type, sizeof(c->resource_type));
	c->action = change_action(a->action);
	c->replacement = replacement(a->replacement);
	c->scope = scope(a->scope);
	c->parent = parent;
	for (size_t i = 0; i < a->ndetails; i++) {
		const struct aws_cfn_change_detail *d = &a->details[i];

		if (strcmp(d->attribute, "Properties") != 0 || d->name[0] == '\0')
			continue;
		if (c->nprops == ENGINE_CHANGE_PROPS_MAX) {
			c->props_truncated = true;
			break;
		}
		engine_strlcpy(c->props[c->nprops++], d->name, sizeof(c->props[0]));
	}
}

/*
 * One change set's changes, appended to o->cs (parent: the index of the nested
 * stack's entry they belong to, or -1 for the root change set, whose status it is).
 */
void
engine_tr_changeset(struct engine_obs *o, const struct aws_cfn_change_set *cs,
    int parent)
{
	struct engine_obs_changeset *c = &o->cs;

	if (parent < 0) {
		c->status = engine_cs_status_parse(cs->status);
		c->exec = engine_cs_exec_parse(cs->execution_status);
		engine_strlcpy(c->status_reason, cs->status_reason,
		    sizeof(c->status_reason));
	}
	for (size_t i = 0; i < cs->nchanges; i++) {
		if (strcmp(cs->changes[i].type, "Resource") != 0)
			continue;
		if (c->nchanges == ENGINE_CHANGES_MAX) {
			c->truncated = true;
			return;
		}
		change(&c->changes[c->nchanges++], &cs->changes[i], parent);
	}
}
