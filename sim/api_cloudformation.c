/*
 * CloudFormation's operations on the simulated Quick Start stack (see api.h): the
 * reads (stacks, resources, events, change sets, the template's summary) and the
 * writes the daemon makes (change sets, UpdateStack with UsePreviousTemplate,
 * CancelUpdateStack). Also, first, the helpers every api_*.c shares.
 *
 * Only UsePreviousTemplate is simulated: a template body or URL is refused in words
 * that say so, never silently ignored. NoEcho parameters never leave as anything
 * but "****".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sim/api.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"
#include "sim/stack_template.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define PARAMS_IN_MAX	64	/* more than the template has: the model names extras */
#define EVENTS_PAGE	100	/* DescribeStackEvents pages (ansible/ansible#41840): S */
/*
 * AWS does not document DescribeChangeSet's page size; a small one here makes a
 * client that ignores NextToken miss changes in tests rather than in production.
 */
#define CHANGES_PAGE	3
#define STACKS_PAGE	100
#define NO_STACK	"Stack with id %s does not exist"	/* aws-errors.md 1.1: V */

/* ---- what every api_*.c shares ---- */

static int
is_service(const struct sim_aws_call *c, const char *name)
{
	return strcmp(c->svc->name, name) == 0;
}

struct sim_model *
sim_api_begin(struct sim_aws_call *c, enum sim_service svc)
{
	struct sim_model	*m = c->sim->model;
	struct sim_err		 err;

	if (m == NULL) {
		/* Started without a world: there is no resource to answer about. */
		sim_call_fail(c, 503, "ServiceUnavailable",
		    "bbsim: no simulated world is loaded");
		return NULL;
	}
	if (sim_api_call(m, svc, c->action, c->sim->now, &err) == -1) {
		sim_api_fail(c, &err);
		return NULL;
	}
	return m;
}

int
sim_api_fail(struct sim_aws_call *c, const struct sim_err *err)
{
	/* JSON 1.0 spells throttling with a __type of its own. */
	if (c->proto == SIM_PROTO_JSON && strcmp(err->code, "Throttling") == 0)
		return sim_call_error(c, SIM_E_JSON_THROTTLING, NULL, 0);
	return sim_call_fail(c, err->status, err->code, "%s", err->message);
}

/*
 * Coral's name for a member in its validation messages: each segment lowerCamel,
 * and "member.N" of a list read as "N.member" ("parameters.1.member.parameterKey").
 */
static void
coral_path(const char *name, char *buf, size_t len)
{
	const char	*s = name, *dot;
	size_t		 o = 0, k, d;
	int		 n;

	buf[0] = '\0';
	while (*s != '\0' && o < len) {
		k = strcspn(s, ".");
		dot = s + k;
		if (k == 6 && strncmp(s, "member", 6) == 0 && *dot == '.' &&
		    isdigit((unsigned char)dot[1])) {
			d = strcspn(dot + 1, ".");
			n = snprintf(buf + o, len - o, "%s%.*s.member", o ? "." : "",
			    (int)d, dot + 1);
			s = dot + 1 + d;
		} else {
			n = snprintf(buf + o, len - o, "%s%c%.*s", o ? "." : "",
			    tolower((unsigned char)*s), (int)(k > 0 ? k - 1 : 0),
			    k > 0 ? s + 1 : s);
			s = dot;
		}
		if (n < 0)
			break;
		o += (size_t)n;
		if (*s == '.')
			s++;
	}
}

int
sim_api_missing(struct sim_aws_call *c, const char *name)
{
	const char	*args[1] = { name };
	char		 path[256];

	if (c->proto == SIM_PROTO_EC2)
		return sim_call_error(c, SIM_E_EC2_MISSING_PARAM, args, 1);
	/* aws-errors.md 8: CloudWatch's own words (yegor256/s3auth#134). */
	if (is_service(c, "monitoring"))
		return sim_call_fail(c, 400, "MissingParameter",
		    "The parameter %s is required.", name);
	coral_path(name, path, sizeof(path));
	return sim_call_fail(c, 400, "ValidationError", "1 validation error detected: "
	    "Value null at '%s' failed to satisfy constraint: Member must not be null",
	    path);
}

const char *
sim_api_need(struct sim_aws_call *c, const char *name)
{
	const char	*v = sim_form_get(c->form, name);

	if (v == NULL)
		sim_api_missing(c, name);
	return v;
}

/* U: EC2's and CloudWatch's texts for a bad value vary by parameter; these are typical. */
int
sim_api_invalid(struct sim_aws_call *c, const char *name, const char *value,
    const char *constraint)
{
	char	 path[256];

	if (c->proto == SIM_PROTO_EC2)
		return sim_call_fail(c, 400, "InvalidParameterValue",
		    "Value (%s) for parameter %s is invalid. %s", value, name, constraint);
	if (is_service(c, "monitoring"))
		return sim_call_fail(c, 400, "InvalidParameterValue",
		    "The parameter %s has an invalid value '%s': %s", name, value,
		    constraint);
	coral_path(name, path, sizeof(path));
	return sim_call_fail(c, 400, "ValidationError", "1 validation error detected: "
	    "Value '%s' at '%s' failed to satisfy constraint: %s", value, path,
	    constraint);
}

int
sim_api_bool(struct sim_aws_call *c, const char *name, int *out)
{
	const char	*v = sim_form_get(c->form, name);

	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	return sim_api_invalid(c, name, v, "Member must be true or false");
}

int
sim_api_int(struct sim_aws_call *c, const char *name, long min, long max, long *out)
{
	const char	*v = sim_form_get(c->form, name);
	char		*end, why[96];
	long		 n;

	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || isspace((unsigned char)*v))
		return sim_api_invalid(c, name, v, "Member must be a number");
	if (n < min || n > max) {
		snprintf(why, sizeof(why), "Member must have value %s than or equal "
		    "to %ld", n < min ? "greater" : "less", n < min ? min : max);
		return sim_api_invalid(c, name, v, why);
	}
	*out = n;
	return 0;
}

int
sim_api_list(struct sim_aws_call *c, const char *name, size_t max, size_t *n)
{
	char	 why[96], count[32];

	if (sim_form_list(c->form, name, c->proto == SIM_PROTO_EC2 ? SIM_LIST_EC2 :
	    SIM_LIST_QUERY, n) == -1)
		return sim_call_form_error(c);
	if (*n <= max)
		return 0;
	snprintf(count, sizeof(count), "[%zu items]", *n);
	snprintf(why, sizeof(why), "Member must have length less than or equal to %zu",
	    max);
	return sim_api_invalid(c, name, count, why);
}

static uint32_t
token_check(size_t pos)
{
	return (uint32_t)(pos * 2654435761u) ^ 0x5bd1e995u;
}

void
sim_api_token(char *buf, size_t len, size_t pos)
{
	snprintf(buf, len, "bbsim1-%zx-%08x", pos, (unsigned)token_check(pos));
}

int
sim_api_token_read(const char *token, size_t *pos)
{
	unsigned long long	 p;
	unsigned		 check;
	char			 back[SIM_API_TOKEN_MAX];

	if (sscanf(token, "bbsim1-%llx-%8x", &p, &check) != 2)
		return -1;
	sim_api_token(back, sizeof(back), (size_t)p);
	if (strcmp(back, token) != 0)
		return -1;
	*pos = (size_t)p;
	return 0;
}

const char *
sim_api_time(const struct sim_model *m, int64_t t, char buf[SIM_API_TIME_MAX])
{
	return sim_time_format(m, t, 1, buf, SIM_API_TIME_MAX);
}

void
sim_api_fake_id(char *buf, size_t len, const char *prefix, const char *seed,
    size_t ndigits)
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 o, i;
	const char		*s;

	for (s = prefix; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	for (s = seed; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	o = (size_t)snprintf(buf, len, "%s", prefix);
	for (i = 0; i < ndigits && o + 1 < len; i++, o++) {
		if (i % 16 == 15)
			h = (h ^ i) * 0x100000001b3ULL;
		buf[o] = hex[(h >> (4 * (i % 16))) & 0xf];
	}
	if (o < len)
		buf[o] = '\0';
}

void
sim_api_aws_register(struct sim *sim)
{
	(void)sim;	/* handlers find the world through each call's sim */
	BB_ASSERT(sim_api_cfn_init() == 0);
	BB_ASSERT(sim_api_asg_init() == 0);
	BB_ASSERT(sim_api_ec2_init() == 0);
	BB_ASSERT(sim_api_cw_init() == 0);
	BB_ASSERT(sim_api_elb_init() == 0);
}

/* ---- CloudFormation: writing its elements ---- */

static void
write_params(struct sim_xml *x, const struct sim_param *p, size_t n)
{
	sim_xml_open(x, "Parameters", NULL);
	for (size_t i = 0; i < n; i++) {
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "ParameterKey", p[i].key);
		sim_xml_text(x, "ParameterValue", p[i].no_echo ? "****" : p[i].value);
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "Parameters");
}

/* The stack has IAM resources: it was created, and is updated, with CAPABILITY_IAM. */
static void
write_caps(struct sim_xml *x)
{
	sim_xml_open(x, "Capabilities", NULL);
	sim_xml_text(x, "member", "CAPABILITY_IAM");
	sim_xml_close(x, "Capabilities");
}

static void
write_outputs(struct sim_xml *x, const struct sim_stack *st)
{
	sim_xml_open(x, "Outputs", NULL);
	for (size_t i = 0; i < st->nout; i++) {
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "OutputKey", st->out[i].key);
		sim_xml_text(x, "OutputValue", st->out[i].value);
		if (st->out[i].description != NULL)
			sim_xml_text(x, "Description", st->out[i].description);
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "Outputs");
}

static void
write_drift(struct sim_xml *x, const char *element, const char *field)
{
	sim_xml_open(x, element, NULL);
	sim_xml_text(x, field, "NOT_CHECKED");
	sim_xml_close(x, element);
}

static void
write_stack(struct sim_xml *x, const struct sim_model *m, const struct sim_stack *st,
    int64_t now)
{
	enum sim_stack_status	 shown = sim_stack_status_shown(st, now);
	char			 t[SIM_API_TIME_MAX];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "StackId", st->id);
	sim_xml_text(x, "StackName", st->name);
	write_params(x, st->params, st->nparams);
	sim_xml_text(x, "CreationTime", sim_api_time(m, st->created, t));
	if (st->updated != SIM_NEVER)
		sim_xml_text(x, "LastUpdatedTime", sim_api_time(m, st->updated, t));
	sim_xml_empty(x, "RollbackConfiguration");
	sim_xml_text(x, "StackStatus", sim_stack_status_name(shown));
	/* While the status lags, so does its reason. */
	if (shown == st->status && st->reason[0] != '\0')
		sim_xml_text(x, "StackStatusReason", st->reason);
	sim_xml_text(x, "DisableRollback", "false");
	sim_xml_empty(x, "NotificationARNs");
	write_caps(x);
	write_outputs(x, st);
	if (m->p.role_arn[0] != '\0')
		sim_xml_text(x, "RoleARN", m->p.role_arn);
	sim_xml_empty(x, "Tags");
	sim_xml_text(x, "EnableTerminationProtection", "false");
	if (st->parent != NULL) {
		sim_xml_text(x, "ParentId", st->parent->id);
		sim_xml_text(x, "RootId", st->parent->id);
	}
	write_drift(x, "DriftInformation", "StackDriftStatus");
	sim_xml_close(x, "member");
}

/* ---- DescribeStacks ---- */

static int
bad_token(struct sim_aws_call *c, const char *token)
{
	return sim_call_fail(c, 400, "ValidationError", "Invalid NextToken: %s", token);
}

static int
describe_stacks(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_stack	*st = NULL;
	struct sim_xml		 x;
	const char		*name, *token;
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 from = 0, i;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	name = sim_form_get(c->form, "StackName");
	token = sim_form_get(c->form, "NextToken");
	if (sim_call_params_done(c) == -1)
		return -1;
	if (token != NULL && sim_api_token_read(token, &from) == -1)
		return bad_token(c, token);
	if (name != NULL && (st = sim_stack_find(m, name)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", NO_STACK, name);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeStacks", c->svc->ns, 1);
	sim_xml_open(&x, "Stacks", NULL);
	if (st != NULL)
		write_stack(&x, m, st, c->sim->now);
	for (i = from; st == NULL && i < m->nstacks && i < from + STACKS_PAGE; i++)
		write_stack(&x, m, m->stack[i], c->sim->now);
	sim_xml_close(&x, "Stacks");
	if (st == NULL && i < m->nstacks) {
		sim_api_token(tok, sizeof(tok), i);
		sim_xml_text(&x, "NextToken", tok);
	}
	sim_xml_query_end(&x, "DescribeStacks", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- the parameters of UpdateStack and CreateChangeSet ---- */

struct change_in {
	const char		*stack;
	struct sim_param_in	 in[PARAMS_IN_MAX];
	size_t			 nin;
	const char		*caps[3];
	size_t			 ncaps;
};

static int
read_template(struct sim_aws_call *c)
{
	const char	*body = sim_form_get(c->form, "TemplateBody");
	const char	*url = sim_form_get(c->form, "TemplateURL");
	int		 previous = 0;

	if (sim_api_bool(c, "UsePreviousTemplate", &previous) == -1)
		return -1;
	if (body != NULL || url != NULL)
		return sim_call_fail(c, 400, "ValidationError", "bbsim simulates stack "
		    "changes with UsePreviousTemplate only: TemplateBody and TemplateURL "
		    "are not simulated");
	if (!previous)
		return sim_call_fail(c, 400, "ValidationError",
		    "Either Template URL or Template Body must be specified.");
	return 0;
}

static int
read_param(struct sim_aws_call *c, size_t i, struct sim_param_in *p)
{
	char	 name[96];

	memset(p, 0, sizeof(*p));
	p->key = sim_form_item(c->form, "Parameters", SIM_LIST_QUERY, i, "ParameterKey");
	p->value = sim_form_item(c->form, "Parameters", SIM_LIST_QUERY, i,
	    "ParameterValue");
	/* An output-only field (SSM parameters): AWS ignores it on input. */
	(void)sim_form_item(c->form, "Parameters", SIM_LIST_QUERY, i, "ResolvedValue");
	if (sim_form_item_name(name, sizeof(name), "Parameters", SIM_LIST_QUERY, i,
	    "UsePreviousValue") == -1)
		return -1;
	if (sim_api_bool(c, name, &p->use_previous) == -1)
		return -1;
	if (p->key == NULL) {
		sim_form_item_name(name, sizeof(name), "Parameters", SIM_LIST_QUERY, i,
		    "ParameterKey");
		return sim_api_missing(c, name);
	}
	return 0;
}

static int
read_caps(struct sim_aws_call *c, struct change_in *ci)
{
	static const char *const known[] = {
		"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND",
	};
	size_t	 k;

	if (sim_api_list(c, "Capabilities", NITEMS(known), &ci->ncaps) == -1)
		return -1;
	for (size_t i = 0; i < ci->ncaps; i++) {
		ci->caps[i] = sim_form_item(c->form, "Capabilities", SIM_LIST_QUERY, i + 1,
		    NULL);
		for (k = 0; k < NITEMS(known); k++)
			if (strcmp(ci->caps[i], known[k]) == 0)
				break;
		if (k == NITEMS(known))
			return sim_api_invalid(c, "Capabilities", ci->caps[i], "Member "
			    "must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, "
			    "CAPABILITY_NAMED_IAM, CAPABILITY_IAM]");
	}
	return 0;
}

static int
read_change(struct sim_aws_call *c, struct change_in *ci)
{
	memset(ci, 0, sizeof(*ci));
	if ((ci->stack = sim_api_need(c, "StackName")) == NULL)
		return -1;
	if (read_template(c) == -1)
		return -1;
	if (sim_api_list(c, "Parameters", PARAMS_IN_MAX, &ci->nin) == -1)
		return -1;
	for (size_t i = 0; i < ci->nin; i++)
		if (read_param(c, i + 1, &ci->in[i]) == -1)
			return -1;
	return read_caps(c, ci);
}

/* ---- UpdateStack, CancelUpdateStack ---- */

static int
update_stack(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct change_in	 ci;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*token;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if (read_change(c, &ci) == -1)
		return -1;
	token = sim_form_get(c->form, "ClientRequestToken");
	if (sim_call_params_done(c) == -1)
		return -1;
	if (sim_stack_update(m, ci.stack, ci.in, ci.nin, ci.caps, ci.ncaps, token,
	    c->sim->now, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "UpdateStack", c->svc->ns, 1);
	sim_xml_text(&x, "StackId", sim_stack_find(m, ci.stack)->id);
	sim_xml_query_end(&x, "UpdateStack", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static int
token_ok(const char *t)
{
	size_t	 n = strlen(t);

	return n > 0 && n <= 128 && t[0] != '-' && strspn(t, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/*
 * The token's shape is the service model's check, made before the stack is looked
 * at; the rest is the model's (sim_stack_cancel_update). The answer has no result.
 */
static int
cancel_update_stack(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*name, *token;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "StackName")) == NULL)
		return -1;
	token = sim_form_get(c->form, "ClientRequestToken");
	if (sim_call_params_done(c) == -1)
		return -1;
	if (token != NULL && !token_ok(token))
		return sim_api_invalid(c, "ClientRequestToken", token, "Member must "
		    "satisfy regular expression pattern: [a-zA-Z0-9][-a-zA-Z0-9]*");
	if (sim_stack_cancel_update(m, name, token, c->sim->now, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "CancelUpdateStack", c->svc->ns, 0);
	sim_xml_query_end(&x, "CancelUpdateStack", c->reqid, 0);
	return sim_call_xml(c, &x);
}

/* ---- change sets ---- */

static int
create_change_set(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_changeset	*cs;
	struct change_in	 ci;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*name, *type;
	int			 nested = 0;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if (read_change(c, &ci) == -1 || (name = sim_api_need(c, "ChangeSetName")) == NULL)
		return -1;
	if (sim_api_bool(c, "IncludeNestedStacks", &nested) == -1)
		return -1;
	type = sim_form_get(c->form, "ChangeSetType");
	if (sim_call_params_done(c) == -1)
		return -1;
	if (type != NULL && strcmp(type, "UPDATE") != 0)
		return strcmp(type, "CREATE") == 0 || strcmp(type, "IMPORT") == 0 ?
		    sim_call_fail(c, 400, "ValidationError", "bbsim simulates change "
		    "sets of type UPDATE only") : sim_api_invalid(c, "ChangeSetType",
		    type, "Member must satisfy enum value set: [IMPORT, UPDATE, CREATE]");
	if (sim_changeset_create(m, ci.stack, name, ci.in, ci.nin, ci.caps, ci.ncaps,
	    nested, c->sim->now, &cs, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "CreateChangeSet", c->svc->ns, 1);
	sim_xml_text(&x, "Id", cs->id);
	sim_xml_text(&x, "StackId", cs->stack->id);
	sim_xml_query_end(&x, "CreateChangeSet", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ChangeSetName, and StackName unless the change set is named by its ARN. */
static int
read_cs_names(struct sim_aws_call *c, const char **name, const char **stack)
{
	if ((*name = sim_api_need(c, "ChangeSetName")) == NULL)
		return -1;
	*stack = sim_form_get(c->form, "StackName");
	return 0;
}

static int
check_cs_names(struct sim_aws_call *c, const char *name, const char *stack)
{
	if (stack == NULL && strncmp(name, "arn:", 4) != 0)
		return sim_call_fail(c, 400, "ValidationError", "StackName must be "
		    "specified if ChangeSetName is not specified as an ARN.");
	return 0;
}

static void
write_detail(struct sim_xml *x, const struct sim_change *ch,
    const struct sim_change_detail *d)
{
	sim_xml_open(x, "member", NULL);
	sim_xml_open(x, "Target", NULL);
	sim_xml_text(x, "Attribute", d->attribute);
	if (d->name != NULL)
		sim_xml_text(x, "Name", d->name);
	sim_xml_text(x, "RequiresRecreation", d->recreation);
	sim_xml_close(x, "Target");
	/* A parameter's new value is known when the change set is made: Static. */
	if (d->causing != NULL) {
		sim_xml_text(x, "Evaluation", "Static");
		sim_xml_text(x, "ChangeSource", "ParameterReference");
		sim_xml_text(x, "CausingEntity", d->causing);
	} else if (ch->nested != NULL || strcmp(ch->type,
	    "AWS::CloudFormation::Stack") == 0) {
		sim_xml_text(x, "Evaluation", "Dynamic");
		sim_xml_text(x, "ChangeSource", "Automatic");
	} else {
		/* Nobody asked for it: the nested template changed at its URL. */
		sim_xml_text(x, "Evaluation", "Static");
		sim_xml_text(x, "ChangeSource", "DirectModification");
	}
	sim_xml_close(x, "member");
}

static void
write_change(struct sim_xml *x, const struct sim_change *ch)
{
	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "Type", "Resource");
	sim_xml_open(x, "ResourceChange", NULL);
	sim_xml_text(x, "Action", ch->action);
	sim_xml_text(x, "LogicalResourceId", ch->logical_id);
	if (ch->physical_id[0] != '\0')
		sim_xml_text(x, "PhysicalResourceId", ch->physical_id);
	sim_xml_text(x, "ResourceType", ch->type);
	sim_xml_text(x, "Replacement", ch->replacement);
	sim_xml_open(x, "Scope", NULL);
	for (size_t i = 0; i < NITEMS(ch->scope) && ch->scope[i] != NULL; i++)
		sim_xml_text(x, "member", ch->scope[i]);
	sim_xml_close(x, "Scope");
	sim_xml_open(x, "Details", NULL);
	for (size_t i = 0; i < ch->ndetail; i++)
		write_detail(x, ch, &ch->detail[i]);
	sim_xml_close(x, "Details");
	if (ch->nested != NULL)
		sim_xml_text(x, "ChangeSetId", ch->nested->id);
	sim_xml_close(x, "ResourceChange");
	sim_xml_close(x, "member");
}

/* Changes from position from, a page of them; the next position, or 0 at the end. */
static size_t
write_changes(struct sim_xml *x, const struct sim_changeset *cs, size_t from)
{
	/* Until it is created, a change set has nothing to show. */
	int	 shown = cs->status == SIM_CS_CREATE_COMPLETE;
	size_t	 i;

	sim_xml_open(x, "Changes", NULL);
	for (i = from; shown && i < cs->nchanges && i < from + CHANGES_PAGE; i++)
		write_change(x, &cs->changes[i]);
	sim_xml_close(x, "Changes");
	return shown && i < cs->nchanges ? i : 0;
}

static void
write_changeset(struct sim_xml *x, const struct sim_model *m,
    const struct sim_changeset *cs, size_t from)
{
	char	 t[SIM_API_TIME_MAX], tok[SIM_API_TOKEN_MAX];
	size_t	 next;

	sim_xml_text(x, "ChangeSetName", cs->name);
	sim_xml_text(x, "ChangeSetId", cs->id);
	sim_xml_text(x, "StackId", cs->stack->id);
	sim_xml_text(x, "StackName", cs->stack->name);
	write_params(x, cs->params, cs->nparams);
	sim_xml_text(x, "CreationTime", sim_api_time(m, cs->created, t));
	sim_xml_text(x, "ExecutionStatus", sim_cs_exec_name(cs->exec));
	sim_xml_text(x, "Status", sim_cs_status_name(cs->status));
	if (cs->reason[0] != '\0')
		sim_xml_text(x, "StatusReason", cs->reason);
	sim_xml_empty(x, "NotificationARNs");
	sim_xml_empty(x, "RollbackConfiguration");
	write_caps(x);
	sim_xml_empty(x, "Tags");
	if ((next = write_changes(x, cs, from)) != 0) {
		sim_api_token(tok, sizeof(tok), next);
		sim_xml_text(x, "NextToken", tok);
	}
	sim_xml_text(x, "IncludeNestedStacks", cs->include_nested ? "true" : "false");
	if (cs->parent != NULL) {
		sim_xml_text(x, "ParentChangeSetId", cs->parent->id);
		sim_xml_text(x, "RootChangeSetId", cs->parent->id);
	}
}

static int
describe_change_set(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_changeset	*cs;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*name, *stack, *token;
	int			 values = 0;
	size_t			 from = 0;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if (read_cs_names(c, &name, &stack) == -1)
		return -1;
	token = sim_form_get(c->form, "NextToken");
	/* Before and after values: bbsim's changes carry none to add. */
	if (sim_api_bool(c, "IncludePropertyValues", &values) == -1 ||
	    sim_call_params_done(c) == -1 || check_cs_names(c, name, stack) == -1)
		return -1;
	if (token != NULL && sim_api_token_read(token, &from) == -1)
		return bad_token(c, token);
	if (sim_changeset_describe(m, stack, name, c->sim->now, &cs, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeChangeSet", c->svc->ns, 1);
	write_changeset(&x, m, cs, from);
	sim_xml_query_end(&x, "DescribeChangeSet", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* An answer whose result element is empty: <OpResult/>. */
static int
empty_result(struct sim_aws_call *c, const char *op)
{
	struct sim_xml	 x;
	char		 result[80];

	snprintf(result, sizeof(result), "%sResult", op);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, op, c->svc->ns, 0);
	sim_xml_empty(&x, result);
	sim_xml_query_end(&x, op, c->reqid, 0);
	return sim_call_xml(c, &x);
}

static int
execute_change_set(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_err		 err;
	const char		*name, *stack, *token;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if (read_cs_names(c, &name, &stack) == -1)
		return -1;
	token = sim_form_get(c->form, "ClientRequestToken");
	if (sim_call_params_done(c) == -1 || check_cs_names(c, name, stack) == -1)
		return -1;
	if (sim_changeset_execute(m, stack, name, token, c->sim->now, &err) == -1)
		return sim_api_fail(c, &err);
	return empty_result(c, "ExecuteChangeSet");
}

static int
delete_change_set(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_err		 err;
	const char		*name, *stack;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if (read_cs_names(c, &name, &stack) == -1 || sim_call_params_done(c) == -1 ||
	    check_cs_names(c, name, stack) == -1)
		return -1;
	if (sim_changeset_delete(m, stack, name, c->sim->now, &err) == -1)
		return sim_api_fail(c, &err);
	return empty_result(c, "DeleteChangeSet");
}

/* ---- resources ---- */

static void
write_resource(struct sim_xml *x, const struct sim_model *m, const struct sim_stack *st,
    const struct sim_stack_resource *r, const char *time_element)
{
	char	 t[SIM_API_TIME_MAX];

	sim_xml_text(x, "StackName", st->name);
	sim_xml_text(x, "StackId", st->id);
	sim_xml_text(x, "LogicalResourceId", r->logical_id);
	sim_xml_text(x, "PhysicalResourceId", r->physical_id);
	sim_xml_text(x, "ResourceType", r->type);
	sim_xml_text(x, time_element, sim_api_time(m, r->updated, t));
	sim_xml_text(x, "ResourceStatus", r->status);
	write_drift(x, "DriftInformation", "StackResourceDriftStatus");
}

static int
describe_stack_resource(struct sim_aws_call *c)
{
	const struct sim_stack_resource	*r;
	struct sim_model		*m;
	struct sim_stack		*st;
	struct sim_xml			 x;
	const char			*name, *logical;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "StackName")) == NULL ||
	    (logical = sim_api_need(c, "LogicalResourceId")) == NULL ||
	    sim_call_params_done(c) == -1)
		return -1;
	if ((st = sim_stack_find(m, name)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", NO_STACK, name);
	/* aws-errors.md 8 (amazon-rekognition-video-analyzer#23): S */
	if ((r = sim_stack_resource(st, logical)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", "Resource %s does not "
		    "exist for stack %s", logical, name);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeStackResource", c->svc->ns, 1);
	sim_xml_open(&x, "StackResourceDetail", NULL);
	write_resource(&x, m, st, r, "LastUpdatedTimestamp");
	sim_xml_close(&x, "StackResourceDetail");
	sim_xml_query_end(&x, "DescribeStackResource", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* The stack holding a resource of that physical id, or NULL. */
static struct sim_stack *
stack_of_physical(struct sim_model *m, const char *physical)
{
	for (size_t i = 0; i < m->nstacks; i++)
		for (size_t k = 0; k < m->stack[i]->nres; k++)
			if (strcmp(m->stack[i]->res[k].physical_id, physical) == 0)
				return m->stack[i];
	return NULL;
}

/* U: the texts of the two refusals below are not documented. */
static int
find_resources_stack(struct sim_aws_call *c, struct sim_model *m, const char *name,
    const char *physical, struct sim_stack **st)
{
	if ((name == NULL) == (physical == NULL))
		return sim_call_fail(c, 400, "ValidationError", "Either StackName or "
		    "PhysicalResourceId must be specified, and not both.");
	if (name != NULL && (*st = sim_stack_find(m, name)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", NO_STACK, name);
	if (physical != NULL && (*st = stack_of_physical(m, physical)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", "Stack for %s does not "
		    "exist", physical);
	return 0;
}

static int
describe_stack_resources(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_stack	*st = NULL;
	struct sim_xml		 x;
	const char		*name, *physical, *logical;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	name = sim_form_get(c->form, "StackName");
	physical = sim_form_get(c->form, "PhysicalResourceId");
	logical = sim_form_get(c->form, "LogicalResourceId");
	if (sim_call_params_done(c) == -1 ||
	    find_resources_stack(c, m, name, physical, &st) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeStackResources", c->svc->ns, 1);
	sim_xml_open(&x, "StackResources", NULL);
	for (size_t i = 0; i < st->nres; i++) {
		if (logical != NULL && strcmp(st->res[i].logical_id, logical) != 0)
			continue;
		sim_xml_open(&x, "member", NULL);
		write_resource(&x, m, st, &st->res[i], "Timestamp");
		sim_xml_close(&x, "member");
	}
	sim_xml_close(&x, "StackResources");
	sim_xml_query_end(&x, "DescribeStackResources", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- events ---- */

static void
write_event(struct sim_xml *x, const struct sim_model *m, const struct sim_stack *st,
    const struct sim_stack_event *e)
{
	char	 t[SIM_API_TIME_MAX];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "StackId", st->id);
	sim_xml_text(x, "EventId", e->event_id);
	sim_xml_text(x, "StackName", st->name);
	sim_xml_text(x, "LogicalResourceId", e->logical_id);
	sim_xml_text(x, "PhysicalResourceId", e->physical_id);
	sim_xml_text(x, "ResourceType", e->type);
	sim_xml_text(x, "Timestamp", sim_api_time(m, e->time, t));
	sim_xml_text(x, "ResourceStatus", e->status);
	if (e->reason[0] != '\0')
		sim_xml_text(x, "ResourceStatusReason", e->reason);
	if (e->token[0] != '\0')
		sim_xml_text(x, "ClientRequestToken", e->token);
	sim_xml_close(x, "member");
}

/* Newest first; a token is the position (from the oldest) the next page ends at. */
static int
describe_stack_events(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_stack	*st;
	struct sim_xml		 x;
	const char		*name, *token;
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 end, i;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "StackName")) == NULL)
		return -1;
	token = sim_form_get(c->form, "NextToken");
	if (sim_call_params_done(c) == -1)
		return -1;
	/* Its own words (aws/aws-sdk-js#264): S */
	if ((st = sim_stack_find(m, name)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", "Stack [%s] does not "
		    "exist", name);
	end = st->nev;
	if (token != NULL && (sim_api_token_read(token, &end) == -1 || end == 0 ||
	    end > st->nev))
		return bad_token(c, token);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeStackEvents", c->svc->ns, 1);
	sim_xml_open(&x, "StackEvents", NULL);
	for (i = end; i > 0 && end - i < EVENTS_PAGE; i--)
		write_event(&x, m, st, &st->ev[i - 1]);
	sim_xml_close(&x, "StackEvents");
	if (i > 0) {
		sim_api_token(tok, sizeof(tok), i);
		sim_xml_text(&x, "NextToken", tok);
	}
	sim_xml_query_end(&x, "DescribeStackEvents", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* ---- GetTemplateSummary ---- */

/* The Quick Start's declared types (the model keeps only defaults and NoEcho). */
static const char *
param_type(const char *key)
{
	if (strcmp(key, "ClusterNodeMin") == 0 || strcmp(key, "ClusterNodeMax") == 0 ||
	    strcmp(key, "HomeSize") == 0)
		return "Number";
	if (strcmp(key, "KeyName") == 0)
		return "AWS::EC2::KeyPair::KeyName";
	return "String";
}

static void
write_declarations(struct sim_xml *x)
{
	sim_xml_open(x, "Parameters", NULL);
	for (size_t i = 0; i < sim_ntparams; i++) {
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "ParameterKey", sim_tparams[i].key);
		if (sim_tparams[i].def != NULL)
			sim_xml_text(x, "DefaultValue", sim_tparams[i].def);
		sim_xml_text(x, "ParameterType", param_type(sim_tparams[i].key));
		sim_xml_text(x, "NoEcho", sim_tparams[i].no_echo ? "true" : "false");
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "Parameters");
}

/* Each resource type of the stack once, in the template's order. */
static void
write_types(struct sim_xml *x, const struct sim_stack *st)
{
	size_t	 k;

	sim_xml_open(x, "ResourceTypes", NULL);
	for (size_t i = 0; i < st->nres; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(st->res[k].type, st->res[i].type) == 0)
				break;
		if (k == i)
			sim_xml_text(x, "member", st->res[i].type);
	}
	sim_xml_close(x, "ResourceTypes");
}

static void
write_summary(struct sim_xml *x, const struct sim_stack *st)
{
	write_declarations(x);
	write_caps(x);
	/* The with-VPC root holds its IAM resources in its nested stacks. */
	sim_xml_textf(x, "CapabilitiesReason", "The following resource(s) require "
	    "capabilities: [%s]", st->child != NULL ? "AWS::CloudFormation::Stack" :
	    "AWS::IAM::Role");
	write_types(x, st);
	sim_xml_text(x, "Version", "2010-09-09");
	sim_xml_empty(x, "DeclaredTransforms");
}

static int
get_template_summary(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_stack	*st;
	struct sim_xml		 x;
	const char		*name, *body, *url, *set;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDFORMATION)) == NULL)
		return -1;
	name = sim_form_get(c->form, "StackName");
	body = sim_form_get(c->form, "TemplateBody");
	url = sim_form_get(c->form, "TemplateURL");
	set = sim_form_get(c->form, "StackSetName");
	if (sim_call_params_done(c) == -1)
		return -1;
	if (body != NULL || url != NULL || set != NULL)
		return sim_call_fail(c, 400, "ValidationError", "bbsim summarises the "
		    "templates of its stacks only: pass StackName");
	if (name == NULL)
		return sim_api_missing(c, "StackName");
	if ((st = sim_stack_find(m, name)) == NULL)
		return sim_call_fail(c, 400, "ValidationError", NO_STACK, name);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "GetTemplateSummary", c->svc->ns, 1);
	write_summary(&x, st);
	sim_xml_query_end(&x, "GetTemplateSummary", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static const struct sim_op cfn_ops[] = {
	{ "CancelUpdateStack", cancel_update_stack },
	{ "CreateChangeSet", create_change_set },
	{ "DeleteChangeSet", delete_change_set },
	{ "DescribeChangeSet", describe_change_set },
	{ "DescribeStackEvents", describe_stack_events },
	{ "DescribeStackResource", describe_stack_resource },
	{ "DescribeStackResources", describe_stack_resources },
	{ "DescribeStacks", describe_stacks },
	{ "ExecuteChangeSet", execute_change_set },
	{ "GetTemplateSummary", get_template_summary },
	{ "UpdateStack", update_stack },
};

int
sim_api_cfn_init(void)
{
	return sim_aws_register("cloudformation", "2010-05-15", cfn_ops,
	    NITEMS(cfn_ops));
}
