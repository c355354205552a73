/*
 * CloudFormation's change set calls (see cloudformation.h): CreateChangeSet, with
 * every parameter of the stack sent (a left-out one reverts to its template default),
 * DescribeChangeSet over all its pages, ExecuteChangeSet and DeleteChangeSet. As in
 * cloudformation.c, the builders emit parameters in the order botocore does (tests
 * compare bodies byte for byte); the parsers take what the model names and ignore
 * the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/cloudformation.h"
#include "daemon/aws/cloudformation_int.h"

static const char *const scopes[] = {
	"Properties", "Metadata", "CreationPolicy", "UpdatePolicy", "DeletionPolicy",
	"UpdateReplacePolicy", "Tags",
};
#define NSCOPES	(sizeof(scopes) / sizeof(scopes[0]))

/* --- CreateChangeSet ------------------------------------------------------ */

/* A change set's name: [a-zA-Z][-a-zA-Z0-9]*, at most 128 (the model's pattern). */
static int
valid_change_set_name(const char *name)
{
	return aws_given(name) && ((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z')) && aws_query_check_token(name) == 0;
}

static int
valid_params(const struct aws_cfn_param_in *params, size_t n)
{
	size_t	 i, j;

	if (n > AWS_CFN_MAX_PARAMS || (n > 0 && params == NULL))
		return 0;
	for (i = 0; i < n; i++) {
		if (!aws_given(params[i].key) || (params[i].value != NULL &&
		    strcmp(params[i].value, AWS_CFN_NOECHO) == 0))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(params[i].key, params[j].key) == 0)
				return 0;
	}
	return 1;
}

static void
add_params(struct aws_query *q, const struct aws_cfn_param_in *params, size_t n)
{
	size_t	 i;

	for (i = 1; i <= n; i++) {
		aws_query_add(q, aws_query_key(q, "Parameters.member.%zu.ParameterKey",
		    i), params[i - 1].key);
		/* UsePreviousValue must not carry a value, not even an empty one. */
		if (params[i - 1].value == NULL)
			aws_query_add_bool(q, aws_query_key(q,
			    "Parameters.member.%zu.UsePreviousValue", i), 1);
		else
			aws_query_add(q, aws_query_key(q,
			    "Parameters.member.%zu.ParameterValue", i),
			    params[i - 1].value);
	}
}

static void
add_caps(struct aws_query *q, unsigned caps)
{
	const char	*names[NCAPS];
	size_t		 i, n = 0;

	for (i = 0; i < NCAPS; i++)
		if (caps & (1u << i))
			names[n++] = capabilities[i];
	/* An empty list would be sent as "Capabilities=": leave it out instead. */
	if (n > 0)
		aws_query_add_list(q, "Capabilities", names, n);
}

int
aws_cfn_create_change_set_query(struct aws_query *q,
    const struct aws_cfn_change_set_in *in)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "CreateChangeSet") == -1)
		return -1;
	if (in == NULL || !aws_given(in->stack) || !valid_change_set_name(in->name) ||
	    (in->client_token != NULL &&
	    aws_query_check_token(in->client_token) == -1) ||
	    (in->capabilities & ~((1u << NCAPS) - 1)) != 0 ||
	    !valid_params(in->params, in->nparams))
		return aws_refuse(q);
	aws_query_add(q, "StackName", in->stack);
	aws_query_add_bool(q, "UsePreviousTemplate", 1);
	add_params(q, in->params, in->nparams);
	add_caps(q, in->capabilities);
	aws_query_add(q, "ChangeSetName", in->name);
	if (in->client_token != NULL)
		aws_query_add(q, "ClientToken", in->client_token);
	aws_query_add_bool(q, "IncludeNestedStacks", 1);
	aws_query_add(q, "ChangeSetType", "UPDATE");
	return aws_built(q);
}

static const struct aws_cfn_param_in *
find_change(const struct aws_cfn_param_in *changes, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(changes[i].key, key) == 0)
			return &changes[i];
	return NULL;
}

int
aws_cfn_change_set_params(const struct aws_cfn_stack *st,
    const struct aws_cfn_param_in *changes, size_t nchanges,
    struct aws_cfn_param_in *out, size_t outlen, size_t *nout, char *err,
    size_t errlen)
{
	const struct aws_cfn_param_in	*c;
	size_t				 i;

	*nout = 0;
	for (i = 0; i < nchanges; i++) {
		if (changes[i].key == NULL || changes[i].value == NULL)
			return aws_perr(err, errlen, "change %zu has no key or value",
			    i + 1);
		if (strcmp(changes[i].value, AWS_CFN_NOECHO) == 0)
			return aws_perr(err, errlen, "%s: refusing to send \"%s\" as "
			    "a value", changes[i].key, AWS_CFN_NOECHO);
		if (aws_cfn_stack_param(st, changes[i].key) == NULL)
			return aws_perr(err, errlen, "%s: no such parameter in stack "
			    "%s", changes[i].key, st->name);
	}
	if (st->nparams > outlen)
		return aws_perr(err, errlen, "%zu parameters, room for %zu",
		    st->nparams, outlen);
	for (i = 0; i < st->nparams; i++) {
		c = find_change(changes, nchanges, st->params[i].key);
		out[i].key = st->params[i].key;
		out[i].value = c != NULL ? c->value : NULL;
	}
	*nout = st->nparams;
	return 0;
}

int
aws_cfn_parse_create_change_set(const xmlNode *result,
    struct aws_cfn_change_set_ref *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (aws_get_str(result, "Id", AWS_REQ, out->id, sizeof(out->id), err,
	    errlen) == -1 ||
	    aws_get_str(result, "StackId", AWS_OPT, out->stack_id,
	    sizeof(out->stack_id), err, errlen) == -1)
		return -1;
	return 0;
}

AWS_OP_TYPED(create_cs, struct aws_cfn_change_set_ref, aws_cfn_change_set_ref_cb,
    aws_cfn_parse_create_change_set, aws_no_release)

struct aws_op *
aws_cfn_create_change_set(struct aws_client *client,
    const struct aws_cfn_change_set_in *in, aws_cfn_change_set_ref_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_create_change_set_query(&q, in);
	return create_cs_run(client, &q, built, cb, arg);
}

/* --- DescribeChangeSet ---------------------------------------------------- */

int
aws_cfn_describe_change_set_query(struct aws_query *q, const char *name,
    const char *stack, const char *next)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DescribeChangeSet") == -1)
		return -1;
	if (!aws_given(name))
		return aws_refuse(q);
	aws_query_add(q, "ChangeSetName", name);
	if (aws_given(stack))
		aws_query_add(q, "StackName", stack);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_detail(const xmlNode *m, struct aws_cfn_change_detail *d, char *err,
    size_t errlen)
{
	if (aws_get_str(m, "Target/Attribute", AWS_OPT, d->attribute,
	    sizeof(d->attribute), err, errlen) == -1 ||
	    aws_get_str(m, "Target/Name", AWS_OPT, d->name, sizeof(d->name), err,
	    errlen) == -1 ||
	    aws_get_str(m, "Target/RequiresRecreation", AWS_OPT, d->recreation,
	    sizeof(d->recreation), err, errlen) == -1 ||
	    aws_get_str(m, "Evaluation", AWS_OPT, d->evaluation,
	    sizeof(d->evaluation), err, errlen) == -1 ||
	    aws_get_str(m, "ChangeSource", AWS_OPT, d->source, sizeof(d->source),
	    err, errlen) == -1 ||
	    aws_get_str(m, "CausingEntity", AWS_OPT, d->causing_entity,
	    sizeof(d->causing_entity), err, errlen) == -1)
		return -1;
	return 0;
}

static int
parse_details(const xmlNode *rc, struct aws_cfn_change *c, char *err,
    size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	if (aws_get_list(rc, "Details", AWS_OPT, AWS_XML_MEMBER, AWS_CFN_MAX_DETAILS,
	    &list, &c->ndetails, err, errlen) == -1)
		return -1;
	if ((c->details = aws_alloc_array(c->ndetails, sizeof(*c->details))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER)
		if (parse_detail(m, &c->details[i++], err, errlen) == -1)
			return aws_perr_in(err, errlen, "Details member %zu", i);
	return 0;
}

/* A change of a type we do not know is kept with its type only: the caller refuses. */
static int
parse_change(const xmlNode *m, struct aws_cfn_change *c, char *err, size_t errlen)
{
	const xmlNode	*rc;

	if (aws_get_str(m, "Type", AWS_REQ, c->type, sizeof(c->type), err,
	    errlen) == -1)
		return -1;
	if (strcmp(c->type, "Resource") != 0)
		return 0;
	if ((rc = aws_xml_find(m, "ResourceChange")) == NULL)
		return aws_perr(err, errlen, "missing ResourceChange");
	if (aws_get_str(rc, "Action", AWS_REQ, c->action, sizeof(c->action), err,
	    errlen) == -1 ||
	    aws_get_str(rc, "LogicalResourceId", AWS_REQ, c->logical_id,
	    sizeof(c->logical_id), err, errlen) == -1 ||
	    aws_get_str(rc, "PhysicalResourceId", AWS_OPT, c->physical_id,
	    sizeof(c->physical_id), err, errlen) == -1 ||
	    aws_get_str(rc, "ResourceType", AWS_REQ, c->resource_type,
	    sizeof(c->resource_type), err, errlen) == -1 ||
	    aws_get_str(rc, "Replacement", AWS_OPT, c->replacement,
	    sizeof(c->replacement), err, errlen) == -1 ||
	    aws_get_str(rc, "ChangeSetId", AWS_OPT, c->nested_id,
	    sizeof(c->nested_id), err, errlen) == -1 ||
	    aws_get_flags(rc, "Scope", scopes, NSCOPES, AWS_CFN_SCOPE_UNKNOWN,
	    &c->scope, err, errlen) == -1 ||
	    parse_details(rc, c, err, errlen) == -1)
		return aws_perr_in(err, errlen, "ResourceChange");
	return 0;
}

static int
parse_change_set_head(const xmlNode *r, struct aws_cfn_change_set *cs, char *err,
    size_t errlen)
{
	if (aws_get_str(r, "ChangeSetId", AWS_OPT, cs->id, sizeof(cs->id), err,
	    errlen) == -1 ||
	    aws_get_str(r, "ChangeSetName", AWS_OPT, cs->name, sizeof(cs->name),
	    err, errlen) == -1 ||
	    aws_get_str(r, "StackId", AWS_OPT, cs->stack_id, sizeof(cs->stack_id),
	    err, errlen) == -1 ||
	    aws_get_str(r, "StackName", AWS_OPT, cs->stack_name,
	    sizeof(cs->stack_name), err, errlen) == -1 ||
	    aws_get_str(r, "Status", AWS_REQ, cs->status, sizeof(cs->status), err,
	    errlen) == -1 ||
	    aws_get_str(r, "ExecutionStatus", AWS_REQ, cs->execution_status,
	    sizeof(cs->execution_status), err, errlen) == -1 ||
	    aws_get_next(r, cs->next, sizeof(cs->next), err, errlen) == -1)
		return -1;
	aws_get_text(r, "StatusReason", cs->status_reason, sizeof(cs->status_reason));
	return 0;
}

int
aws_cfn_parse_describe_change_set(const xmlNode *result,
    struct aws_cfn_change_set *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (parse_change_set_head(result, out, err, errlen) == -1 ||
	    aws_get_list(result, "Changes", AWS_OPT, AWS_XML_MEMBER,
	    AWS_CFN_MAX_CHANGES, &list, &out->nchanges, err, errlen) == -1)
		return -1;
	if ((out->changes = aws_alloc_array(out->nchanges,
	    sizeof(*out->changes))) == NULL) {
		out->nchanges = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_change(m, &out->changes[i++], err, errlen) == -1) {
			aws_cfn_change_set_free(out);
			return aws_perr_in(err, errlen, "Changes member %zu", i);
		}
	}
	return 0;
}

int
aws_cfn_change_set_take(struct aws_cfn_change_set *acc,
    struct aws_cfn_change_set *page)
{
	struct aws_cfn_change	*p;

	if ((p = aws_append_array(acc->changes, acc->nchanges, page->changes,
	    page->nchanges, sizeof(*p), AWS_CFN_MAX_CHANGES)) == NULL)
		return -1;
	/* The changes moved into p: the page keeps only its header. */
	free(page->changes);
	page->changes = p;
	page->nchanges += acc->nchanges;
	*acc = *page;
	memset(page, 0, sizeof(*page));
	return acc->next[0] != '\0' ? 1 : 0;
}

void
aws_cfn_change_set_free(struct aws_cfn_change_set *cs)
{
	size_t	 i;

	for (i = 0; i < cs->nchanges && cs->changes != NULL; i++)
		free(cs->changes[i].details);
	free(cs->changes);
	memset(cs, 0, sizeof(*cs));
}

struct change_set_ctx {
	struct aws_cfn_change_set	 out;
	aws_cfn_change_set_cb		 cb;
	void				*arg;
};

static int
change_set_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,
    char *err, size_t errlen)
{
	struct change_set_ctx		*c = ctx;
	struct aws_cfn_change_set	*page;
	int				 rc;

	/* Several kilobytes of header: not on the loop's stack. */
	if ((page = malloc(sizeof(*page))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	if (aws_cfn_parse_describe_change_set(result, page, err, errlen) == -1) {
		free(page);
		return -1;
	}
	if ((rc = aws_cfn_change_set_take(&c->out, page)) == -1) {
		aws_cfn_change_set_free(page);
		rc = aws_perr(err, errlen, "more than %d changes or out of memory",
		    AWS_CFN_MAX_CHANGES);
	}
	free(page);
	snprintf(next, nextlen, "%s", c->out.next);
	return rc;
}

static void
change_set_done(const struct aws_result *r, void *ctx)
{
	struct change_set_ctx	*c = ctx;

	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);
}

static void
change_set_release(void *ctx)
{
	aws_cfn_change_set_free(&((struct change_set_ctx *)ctx)->out);
}

static const struct aws_op_spec change_set_spec = {
	change_set_page, change_set_done, change_set_release
};

struct aws_op *
aws_cfn_describe_change_set(struct aws_client *client, const char *name,
    const char *stack, aws_cfn_change_set_cb cb, void *arg)
{
	struct aws_query	 q;
	struct change_set_ctx	*c = NULL;
	int			 built;

	built = aws_cfn_describe_change_set_query(&q, name, stack, NULL);
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->cb = cb;
		c->arg = arg;
	}
	return aws_op_start(client, &q, 1, &change_set_spec, c,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

/* --- ExecuteChangeSet, DeleteChangeSet ------------------------------------ */

int
aws_cfn_execute_change_set_query(struct aws_query *q, const char *name,
    const char *stack, const char *token)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "ExecuteChangeSet") == -1)
		return -1;
	if (!aws_given(name) || aws_query_check_token(token) == -1)
		return aws_refuse(q);
	aws_query_add(q, "ChangeSetName", name);
	if (aws_given(stack))
		aws_query_add(q, "StackName", stack);
	aws_query_add(q, "ClientRequestToken", token);
	return aws_built(q);
}

struct aws_op *
aws_cfn_execute_change_set(struct aws_client *client, const char *name,
    const char *stack, const char *token, aws_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_execute_change_set_query(&q, name, stack, token);
	return aws_op_plain(client, &q, 1, cb, arg,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}

int
aws_cfn_delete_change_set_query(struct aws_query *q, const char *name,
    const char *stack)
{
	if (aws_query_init(q, AWS_CLOUDFORMATION, "DeleteChangeSet") == -1)
		return -1;
	if (!aws_given(name))
		return aws_refuse(q);
	aws_query_add(q, "ChangeSetName", name);
	if (aws_given(stack))
		aws_query_add(q, "StackName", stack);
	return aws_built(q);
}

struct aws_op *
aws_cfn_delete_change_set(struct aws_client *client, const char *name,
    const char *stack, aws_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_cfn_delete_change_set_query(&q, name, stack);
	return aws_op_plain(client, &q, 1, cb, arg,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}
