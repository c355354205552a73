/*
 * CloudFormation (see cloudformation.h): the calls that read a stack (DescribeStacks,
 * its resources and events, GetTemplateSummary) and CancelUpdateStack; the change
 * set calls are in cloudformation_changeset.c. The builders emit parameters in the
 * order botocore does for the same call (tests compare bodies byte for byte);
 * the parsers take what the model names and ignore the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/cloudformation.h"
#include "daemon/aws/cloudformation_int.h"

const char *
aws_cfn_capability_name(unsigned cap)
{
	size_t	 i;

	for (i = 0; i < NCAPS; i++)
		if (cap == 1u << i)
			return capabilities[i];
	return NULL;
}

static int
get_caps(const xmlNode *from, unsigned *out, char *err, size_t errlen)
{
	return aws_get_flags(from, "Capabilities", capabilities, NCAPS,
	    AWS_CFN_CAP_UNKNOWN, out, err, errlen);
}

/* --- DescribeStacks ------------------------------------------------------- */

int
aws_cfn_describe_stacks_query(struct aws_query *q, const char *stack,
    const char *next)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStacks") == -1)
		return -1;
	/* Without a name it lists every stack of the account: never what we mean. */
	if (!aws_given(stack))
		return aws_refuse(q);
	aws_query_add(q, "StackName", stack);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_params(const xmlNode *from, struct aws_cfn_stack *st, char *err,
    size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(from, "Parameters", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CFN_MAX_PARAMS, &list, &st->nparams, err, errlen) == -1)
		return -1;
	if ((st->params = aws_alloc_array(st->nparams, sizeof(*st->params))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		struct aws_cfn_param	*p = &st->params[i++];

		if (aws_get_str(m, "ParameterKey", AWS_REQ, p->key, sizeof(p->key),
		    err, errlen) == -1 ||
		    aws_get_str(m, "ParameterValue", AWS_OPT, p->value,
		    sizeof(p->value), err, errlen) == -1)
			return aws_perr_in(err, errlen, "Parameters member %zu", i);
	}
	return 0;
}

static int
parse_outputs(const xmlNode *from, struct aws_cfn_stack *st, char *err,
    size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(from, "Outputs", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CFN_MAX_OUTPUTS, &list, &st->noutputs, err, errlen) == -1)
		return -1;
	if ((st->outputs = aws_alloc_array(st->noutputs,
	    sizeof(*st->outputs))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		struct aws_cfn_output	*o = &st->outputs[i++];

		if (aws_get_str(m, "OutputKey", AWS_REQ, o->key, sizeof(o->key),
		    err, errlen) == -1 ||
		    aws_get_str(m, "OutputValue", AWS_OPT, o->value,
		    sizeof(o->value), err, errlen) == -1 ||
		    aws_get_str(m, "ExportName", AWS_OPT, o->export_name,
		    sizeof(o->export_name), err, errlen) == -1)
			return aws_perr_in(err, errlen, "Outputs member %zu", i);
	}
	return 0;
}

static int
parse_stack(const xmlNode *m, struct aws_cfn_stack *st, char *err, size_t errlen)
{
	if (aws_get_str(m, "StackName", AWS_REQ, st->name, sizeof(st->name), err,
	    errlen) == -1 ||
	    aws_get_str(m, "StackId", AWS_OPT, st->id, sizeof(st->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "StackStatus", AWS_REQ, st->status, sizeof(st->status),
	    err, errlen) == -1 ||
	    aws_get_time(m, "CreationTime", AWS_REQ, &st->created_ms, err,
	    errlen) == -1 ||
	    aws_get_time(m, "LastUpdatedTime", AWS_OPT, &st->updated_ms, err,
	    errlen) == -1 ||
	    aws_get_str(m, "RoleARN", AWS_OPT, st->role_arn, sizeof(st->role_arn),
	    err, errlen) == -1 ||
	    aws_get_str(m, "ParentId", AWS_OPT, st->parent_id,
	    sizeof(st->parent_id), err, errlen) == -1 ||
	    aws_get_str(m, "RootId", AWS_OPT, st->root_id, sizeof(st->root_id),
	    err, errlen) == -1 ||
	    aws_get_bool(m, "DisableRollback", AWS_OPT, &st->disable_rollback, err,
	    errlen) == -1 ||
	    get_caps(m, &st->capabilities, err, errlen) == -1 ||
	    parse_params(m, st, err, errlen) == -1 ||
	    parse_outputs(m, st, err, errlen) == -1)
		return -1;
	aws_get_text(m, "StackStatusReason", st->reason, sizeof(st->reason));
	return 0;
}

int
aws_cfn_parse_describe_stacks(const xmlNode *result, struct aws_cfn_stacks *out,
    char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "Stacks", AWS_REQ, AWS_XML_MEMBER,
	    AWS_CFN_MAX_STACKS, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_stack(m, &out->items[i++], err, errlen) == -1) {
			aws_cfn_stacks_free(out);
			return aws_perr_in(err, errlen, "Stacks member %zu", i);
		}
	}
	return 0;
}

void
aws_cfn_stacks_free(struct aws_cfn_stacks *s)
{
	size_t	 i;

	for (i = 0; i < s->n && s->items != NULL; i++) {
		free(s->items[i].params);
		free(s->items[i].outputs);
	}
	free(s->items);
	memset(s, 0, sizeof(*s));
}

const char *
aws_cfn_stack_param(const struct aws_cfn_stack *st, const char *key)
{
	size_t	 i;

	for (i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].key, key) == 0)
			return st->params[i].value;
	return NULL;
}

const char *
aws_cfn_stack_output(const struct aws_cfn_stack *st, const char *key)
{
	size_t	 i;

	for (i = 0; i < st->noutputs; i++)
		if (strcmp(st->outputs[i].key, key) == 0)
			return st->outputs[i].value;
	return NULL;
}

AWS_OP_TYPED(stacks, struct aws_cfn_stacks, aws_cfn_stacks_cb,
    aws_cfn_parse_describe_stacks, aws_cfn_stacks_free)

struct aws_op *
aws_cfn_describe_stacks(struct aws_client *client, const char *stack,
    aws_cfn_stacks_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_describe_stacks_query(&q, stack, NULL);
	return stacks_run(client, &q, built, cb, arg);
}

/* --- DescribeStackResource, DescribeStackResources ------------------------ */

int
aws_cfn_describe_stack_resource_query(struct aws_query *q, const char *stack,
    const char *logical_id)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackResource") == -1)
		return -1;
	if (!aws_given(stack) || !aws_given(logical_id))
		return aws_refuse(q);
	aws_query_add(q, "StackName", stack);
	aws_query_add(q, "LogicalResourceId", logical_id);
	return aws_built(q);
}

/* One resource; time is LastUpdatedTimestamp (one) or Timestamp (a list's). */
static int
parse_resource(const xmlNode *m, const char *time, struct aws_cfn_resource *r,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (aws_get_str(m, "LogicalResourceId", AWS_REQ, r->logical_id,
	    sizeof(r->logical_id), err, errlen) == -1 ||
	    aws_get_str(m, "PhysicalResourceId", AWS_OPT, r->physical_id,
	    sizeof(r->physical_id), err, errlen) == -1 ||
	    aws_get_str(m, "ResourceType", AWS_REQ, r->type, sizeof(r->type), err,
	    errlen) == -1 ||
	    aws_get_str(m, "ResourceStatus", AWS_REQ, r->status, sizeof(r->status),
	    err, errlen) == -1 ||
	    aws_get_str(m, "StackName", AWS_OPT, r->stack_name,
	    sizeof(r->stack_name), err, errlen) == -1 ||
	    aws_get_str(m, "StackId", AWS_OPT, r->stack_id, sizeof(r->stack_id),
	    err, errlen) == -1 ||
	    aws_get_time(m, time, AWS_REQ, &r->updated_ms, err, errlen) == -1)
		return -1;
	aws_get_text(m, "ResourceStatusReason", r->reason, sizeof(r->reason));
	return 0;
}

int
aws_cfn_parse_describe_stack_resource(const xmlNode *result,
    struct aws_cfn_resource *out, char *err, size_t errlen)
{
	const xmlNode	*d;

	memset(out, 0, sizeof(*out));
	if ((d = aws_xml_find(result, "StackResourceDetail")) == NULL)
		return aws_perr(err, errlen, "missing StackResourceDetail");
	if (parse_resource(d, "LastUpdatedTimestamp", out, err, errlen) == -1)
		return aws_perr_in(err, errlen, "StackResourceDetail");
	return 0;
}

AWS_OP_TYPED(resource, struct aws_cfn_resource, aws_cfn_resource_cb,
    aws_cfn_parse_describe_stack_resource, aws_no_release)

struct aws_op *
aws_cfn_describe_stack_resource(struct aws_client *client, const char *stack,
    const char *logical_id, aws_cfn_resource_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_describe_stack_resource_query(&q, stack, logical_id);
	return resource_run(client, &q, built, cb, arg);
}

int
aws_cfn_describe_stack_resources_query(struct aws_query *q, const char *stack,
    const char *logical_id, const char *physical_id)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackResources") == -1)
		return -1;
	/* The model: StackName or PhysicalResourceId, not both. */
	if (aws_given(stack) == aws_given(physical_id))
		return aws_refuse(q);
	if (aws_given(stack))
		aws_query_add(q, "StackName", stack);
	if (aws_given(logical_id))
		aws_query_add(q, "LogicalResourceId", logical_id);
	if (aws_given(physical_id))
		aws_query_add(q, "PhysicalResourceId", physical_id);
	return aws_built(q);
}

int
aws_cfn_parse_describe_stack_resources(const xmlNode *result,
    struct aws_cfn_resources *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "StackResources", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CFN_MAX_RESOURCES, &list, &out->n, err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_resource(m, "Timestamp", &out->items[i++], err,
		    errlen) == -1) {
			aws_cfn_resources_free(out);
			return aws_perr_in(err, errlen, "StackResources member %zu", i);
		}
	}
	return 0;
}

void
aws_cfn_resources_free(struct aws_cfn_resources *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

AWS_OP_TYPED(resources, struct aws_cfn_resources, aws_cfn_resources_cb,
    aws_cfn_parse_describe_stack_resources, aws_cfn_resources_free)

struct aws_op *
aws_cfn_describe_stack_resources(struct aws_client *client, const char *stack,
    const char *logical_id, const char *physical_id, aws_cfn_resources_cb cb,
    void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_describe_stack_resources_query(&q, stack, logical_id,
	    physical_id);
	return resources_run(client, &q, built, cb, arg);
}

/* --- DescribeStackEvents -------------------------------------------------- */

int
aws_cfn_describe_stack_events_query(struct aws_query *q, const char *stack,
    const char *next)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DescribeStackEvents") == -1)
		return -1;
	if (!aws_given(stack))
		return aws_refuse(q);
	aws_query_add(q, "StackName", stack);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_event(const xmlNode *m, struct aws_cfn_event *e, char *err, size_t errlen)
{
	if (aws_get_str(m, "EventId", AWS_REQ, e->id, sizeof(e->id), err,
	    errlen) == -1 ||
	    aws_get_time(m, "Timestamp", AWS_REQ, &e->time_ms, err, errlen) == -1 ||
	    aws_get_str(m, "LogicalResourceId", AWS_OPT, e->logical_id,
	    sizeof(e->logical_id), err, errlen) == -1 ||
	    aws_get_str(m, "PhysicalResourceId", AWS_OPT, e->physical_id,
	    sizeof(e->physical_id), err, errlen) == -1 ||
	    aws_get_str(m, "ResourceType", AWS_OPT, e->type, sizeof(e->type), err,
	    errlen) == -1 ||
	    aws_get_str(m, "ResourceStatus", AWS_OPT, e->status, sizeof(e->status),
	    err, errlen) == -1 ||
	    aws_get_str(m, "ClientRequestToken", AWS_OPT, e->token,
	    sizeof(e->token), err, errlen) == -1)
		return -1;
	aws_get_text(m, "ResourceStatusReason", e->reason, sizeof(e->reason));
	return 0;
}

int
aws_cfn_parse_describe_stack_events(const xmlNode *result,
    struct aws_cfn_events *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "StackEvents", AWS_REQ, AWS_XML_MEMBER,
	    AWS_CFN_MAX_EVENTS, &list, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_event(m, &out->items[i++], err, errlen) == -1) {
			aws_cfn_events_free(out);
			return aws_perr_in(err, errlen, "StackEvents member %zu", i);
		}
	}
	out->end = out->next[0] != '\0' ? AWS_CFN_EVENTS_MORE : AWS_CFN_EVENTS_ALL;
	return 0;
}

/* How many of page's events to take before stop, and why the walk would end. */
static size_t
events_wanted(const struct aws_cfn_events *acc, const struct aws_cfn_events *page,
    const struct aws_cfn_events_stop *stop, enum aws_cfn_events_end *end)
{
	size_t	 max = stop->max, i;

	if (max == 0 || max > AWS_CFN_MAX_EVENTS)
		max = AWS_CFN_MAX_EVENTS;
	for (i = 0; i < page->n; i++) {
		const struct aws_cfn_event	*e = &page->items[i];

		if (stop->stop_id != NULL && strcmp(e->id, stop->stop_id) == 0) {
			*end = AWS_CFN_EVENTS_STOP_ID;
			return i;
		}
		if (e->time_ms < stop->since_ms) {
			*end = AWS_CFN_EVENTS_SINCE;
			return i;
		}
		if (acc->n + i >= max) {
			*end = AWS_CFN_EVENTS_MAX;
			return i;
		}
	}
	if (page->next[0] == '\0')
		*end = AWS_CFN_EVENTS_ALL;
	else if (acc->n + i >= max)
		*end = AWS_CFN_EVENTS_MAX;
	else
		*end = AWS_CFN_EVENTS_MORE;
	return i;
}

int
aws_cfn_events_take(struct aws_cfn_events *acc, struct aws_cfn_events *page,
    const struct aws_cfn_events_stop *stop)
{
	static const struct aws_cfn_events_stop	 none = { 0, NULL, 0 };
	enum aws_cfn_events_end			 end;
	struct aws_cfn_event			*p;
	size_t					 k;

	k = events_wanted(acc, page, stop != NULL ? stop : &none, &end);
	if ((p = aws_append_array(acc->items, acc->n, page->items, k, sizeof(*p),
	    AWS_CFN_MAX_EVENTS)) == NULL)
		return -1;
	acc->items = p;
	acc->n += k;
	acc->end = end;
	memcpy(acc->next, page->next, sizeof(acc->next));
	aws_cfn_events_free(page);
	return end == AWS_CFN_EVENTS_MORE ? 1 : 0;
}

void
aws_cfn_events_free(struct aws_cfn_events *e)
{
	free(e->items);
	memset(e, 0, sizeof(*e));
}

struct events_ctx {
	struct aws_cfn_events	 out;
	int64_t			 since_ms;
	char			 stop_id[AWS_CFN_EVENT_ID_MAX + 1];
	int			 has_stop_id;
	size_t			 max;
	aws_cfn_events_cb	 cb;
	void			*arg;
};

static int
events_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,
    char *err, size_t errlen)
{
	struct events_ctx		*c = ctx;
	struct aws_cfn_events		 page;
	struct aws_cfn_events_stop	 stop = { c->since_ms,
	    c->has_stop_id ? c->stop_id : NULL, c->max };
	int				 rc;

	if (aws_cfn_parse_describe_stack_events(result, &page, err, errlen) == -1)
		return -1;
	if ((rc = aws_cfn_events_take(&c->out, &page, &stop)) == -1) {
		aws_cfn_events_free(&page);
		return aws_perr(err, errlen, "out of memory");
	}
	snprintf(next, nextlen, "%s", c->out.next);
	return rc;
}

static void
events_done(const struct aws_result *r, void *ctx)
{
	struct events_ctx	*c = ctx;

	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);
}

static void
events_release(void *ctx)
{
	aws_cfn_events_free(&((struct events_ctx *)ctx)->out);
}

static const struct aws_op_spec events_spec = {
	events_page, events_done, events_release
};

struct aws_op *
aws_cfn_describe_stack_events(struct aws_client *client, const char *stack,
    const struct aws_cfn_events_stop *stop, aws_cfn_events_cb cb, void *arg)
{
	struct aws_query	 q;
	struct events_ctx	*c = NULL;
	int			 built;

	built = aws_cfn_describe_stack_events_query(&q, stack, NULL);
	if (stop != NULL && stop->stop_id != NULL &&
	    strlen(stop->stop_id) > AWS_CFN_EVENT_ID_MAX)
		built = aws_refuse(&q);
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->cb = cb;
		c->arg = arg;
		if (stop != NULL) {
			c->since_ms = stop->since_ms;
			c->max = stop->max;
			c->has_stop_id = stop->stop_id != NULL;
			if (c->has_stop_id && built == 0)
				memcpy(c->stop_id, stop->stop_id,
				    strlen(stop->stop_id) + 1);
		}
	}
	return aws_op_start(client, &q, 1, &events_spec, c,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

/* --- CancelUpdateStack ---------------------------------------------------- */

int
aws_cfn_cancel_update_stack_query(struct aws_query *q, const char *stack,
    const char *token)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "CancelUpdateStack") == -1)
		return -1;
	if (!aws_given(stack) ||
	    (token != NULL && aws_query_check_token(token) == -1))
		return aws_refuse(q);
	aws_query_add(q, "StackName", stack);
	if (token != NULL)
		aws_query_add(q, "ClientRequestToken", token);
	return aws_built(q);
}

struct aws_op *
aws_cfn_cancel_update_stack(struct aws_client *client, const char *stack,
    const char *token, aws_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_cancel_update_stack_query(&q, stack, token);
	return aws_op_plain(client, &q, 1, cb, arg,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

/* --- GetTemplateSummary --------------------------------------------------- */

int
aws_cfn_get_template_summary_query(struct aws_query *q, const char *stack)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "GetTemplateSummary") == -1)
		return -1;
	if (!aws_given(stack))
		return aws_refuse(q);
	aws_query_add(q, "StackName", stack);
	return aws_built(q);
}

int
aws_cfn_parse_get_template_summary(const xmlNode *result,
    struct aws_cfn_template *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (get_caps(result, &out->capabilities, err, errlen) == -1 ||
	    aws_get_list(result, "Parameters", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CFN_MAX_PARAMS, &list, &out->nparams, err, errlen) == -1)
		return -1;
	aws_get_text(result, "CapabilitiesReason", out->capabilities_reason,
	    sizeof(out->capabilities_reason));
	if ((out->params = aws_alloc_array(out->nparams,
	    sizeof(*out->params))) == NULL) {
		out->nparams = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		struct aws_cfn_param_decl	*p = &out->params[i++];

		if (aws_get_str(m, "ParameterKey", AWS_REQ, p->key, sizeof(p->key),
		    err, errlen) == -1 ||
		    aws_get_str(m, "ParameterType", AWS_OPT, p->type,
		    sizeof(p->type), err, errlen) == -1 ||
		    aws_get_bool(m, "NoEcho", AWS_OPT, &p->no_echo, err,
		    errlen) == -1) {
			aws_cfn_template_free(out);
			return aws_perr_in(err, errlen, "Parameters member %zu", i);
		}
	}
	return 0;
}

void
aws_cfn_template_free(struct aws_cfn_template *t)
{
	free(t->params);
	memset(t, 0, sizeof(*t));
}

AWS_OP_TYPED(template, struct aws_cfn_template, aws_cfn_template_cb,
    aws_cfn_parse_get_template_summary, aws_cfn_template_free)

struct aws_op *
aws_cfn_get_template_summary(struct aws_client *client, const char *stack,
    aws_cfn_template_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_get_template_summary_query(&q, stack);
	return template_run(client, &q, built, cb, arg);
}
