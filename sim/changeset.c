/*
 * Change sets: created from UsePreviousTemplate and parameters, ready after
 * params.changeset_create (CREATE_COMPLETE / AVAILABLE, or FAILED when nothing
 * would change), described with one entry per resource change, executed once (the
 * stack update carries the caller's token), deleted. In the with-VPC layout with
 * IncludeNestedStacks the root change set shows BitbucketDCStack and points to a
 * nested change set holding the product stack's changes.
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

static const char NO_CHANGES[] = "The submitted information didn't contain changes. "
    "Submit different information to create a change set.";

const char *
sim_cs_status_name(enum sim_cs_status s)
{
	static const char *const names[] = {
		"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "FAILED",
		"DELETE_COMPLETE",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

const char *
sim_cs_exec_name(enum sim_cs_exec s)
{
	static const char *const names[] = {
		"UNAVAILABLE", "AVAILABLE", "EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE",
		"EXECUTE_FAILED", "OBSOLETE",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

static struct sim_changeset *
new_cs(struct sim_model *m, struct sim_stack *st, const char *name,
    struct sim_changeset *parent)
{
	struct sim_changeset *cs = sim_xcalloc(1, sizeof(*cs));
	char uuid[40];

	sim_grow(&m->cs, &m->cscap, m->ncs + 1, sizeof(*m->cs));
	m->cs[m->ncs++] = cs;
	sim_strlcpy(cs->name, name, sizeof(cs->name));
	sim_rng_uuid(&m->rng_ids, uuid, sizeof(uuid));
	snprintf(cs->id, sizeof(cs->id), "arn:aws:cloudformation:%s:%s:changeSet/%s/%s",
	    m->p.region, m->p.account, name, uuid);
	cs->stack = st;
	cs->parent = parent;
	cs->status = SIM_CS_CREATE_PENDING;
	cs->exec = SIM_CS_UNAVAILABLE;
	cs->created = m->now;
	cs->ready_at = m->now + m->p.changeset_create;
	return cs;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-") == n;
}

struct sim_changeset *
sim_changeset_find(struct sim_model *m, const char *stack, const char *name)
{
	struct sim_stack *st = stack ? sim_stack_find(m, stack) : NULL;

	for (size_t i = m->ncs; i-- > 0;) {
		struct sim_changeset *cs = m->cs[i];

		if (cs->status == SIM_CS_DELETED)
			continue;
		if (strcmp(cs->id, name) == 0 ||
		    (st != NULL && cs->stack == st && strcmp(cs->name, name) == 0))
			return cs;
	}
	return NULL;
}

/* The root's view of the nested stack: its parameters change, nothing replaced. */
static void
nested_change(struct sim_model *m, struct sim_changeset *root, struct sim_changeset *sub)
{
	struct sim_change *c = &root->changes[root->nchanges++];

	memset(c, 0, sizeof(*c));
	c->action = "Modify";
	c->logical_id = "BitbucketDCStack";
	sim_strlcpy(c->physical_id, root->stack->child->id, sizeof(c->physical_id));
	c->type = "AWS::CloudFormation::Stack";
	c->replacement = "False";
	c->scope[0] = "Properties";
	c->detail[0] = (struct sim_change_detail){ "Properties", "Parameters", "Never",
	    NULL };
	c->ndetail = 1;
	c->nested = sub;
}

static void
fill_changes(struct sim_model *m, struct sim_changeset *cs, int include_nested)
{
	struct sim_changeset *sub;
	char name[SIM_NAME_MAX], sfx[16];
	size_t n;

	n = sim_stack_diff(m, sim_stack_product(m), cs->params, cs->nparams, cs->changes,
	    SIM_CHANGES_MAX);
	if (cs->stack->child == NULL) {
		cs->nchanges = n;
		return;
	}
	/* With-VPC layout: the product changes belong to the nested stack. */
	cs->nchanges = 0;
	if (n == 0)
		return;
	sub = NULL;
	if (include_nested) {
		sim_rng_alnum(&m->rng_ids, sfx, 12);
		snprintf(name, sizeof(name), "%.80s-BitbucketDCStack-%s", cs->name, sfx);
		sub = new_cs(m, cs->stack->child, name, cs);
		memcpy(sub->params, cs->params, sizeof(cs->params));
		sub->nparams = cs->nparams;
		memcpy(sub->changes, cs->changes, n * sizeof(*cs->changes));
		sub->nchanges = n;
	}
	memset(cs->changes, 0, sizeof(cs->changes));
	nested_change(m, cs, sub);
}

static void
set_family(struct sim_model *m, struct sim_changeset *cs, enum sim_cs_status status,
    enum sim_cs_exec exec)
{
	for (size_t i = 0; i < m->ncs; i++) {
		struct sim_changeset *c = m->cs[i];

		if (c != cs && c->parent != cs)
			continue;
		if (c->status != SIM_CS_DELETED)
			c->status = status;
		c->exec = exec;
	}
}

void
sim_changeset_on_ready(struct sim_model *m, struct sim_changeset *cs)
{
	if (cs->status != SIM_CS_CREATE_PENDING)
		return;		/* deleted meanwhile */
	if (cs->nchanges == 0) {
		set_family(m, cs, SIM_CS_FAILED, SIM_CS_UNAVAILABLE);
		sim_strlcpy(cs->reason, NO_CHANGES, sizeof(cs->reason));
	} else
		set_family(m, cs, SIM_CS_CREATE_COMPLETE, SIM_CS_AVAILABLE);
}

void
sim_changeset_on_done(struct sim_model *m, struct sim_changeset *cs, int ok)
{
	set_family(m, cs, cs->status, ok ? SIM_CS_EXECUTE_COMPLETE : SIM_CS_EXECUTE_FAILED);
}

/* Once a stack has been updated, its other change sets describe a past state. */
void
sim_changeset_obsolete(struct sim_model *m, struct sim_stack *st,
    struct sim_changeset *except)
{
	for (size_t i = 0; i < m->ncs; i++) {
		struct sim_changeset *c = m->cs[i];
		struct sim_changeset *root = c->parent ? c->parent : c;

		if (root != except && root->stack == st && c->exec == SIM_CS_AVAILABLE)
			c->exec = SIM_CS_OBSOLETE;
	}
}

static int
create(struct sim_model *m, const char *stack, const char *name,
    const struct sim_param_in *in, size_t n, const char *const *caps, size_t ncaps,
    int include_nested, struct sim_changeset **out, struct sim_err *err)
{
	struct sim_param p[SIM_PARAMS_MAX];
	struct sim_changeset *cs;
	struct sim_stack *st;
	size_t np;
	int idx;

	if (!valid_name(name))
		return sim_fail(err, 400, "ValidationError", "1 validation error detected: "
		    "Value '%.200s' at 'changeSetName' failed to satisfy constraint: Member must "
		    "satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", name);
	if (sim_stack_check_target(m, stack, NULL, &st, err) == -1)
		return -1;
	if (sim_changeset_find(m, stack, name) != NULL)
		return sim_fail(err, 400, "AlreadyExistsException",
		    "ChangeSet %s already exists", name);
	if (sim_stack_resolve(st, in, n, caps, ncaps, p, &np, err) == -1)
		return -1;
	idx = (int)m->ncs;
	cs = new_cs(m, st, name, NULL);
	memcpy(cs->params, p, np * sizeof(*p));
	cs->nparams = np;
	cs->include_nested = include_nested;
	fill_changes(m, cs, include_nested);
	sim_schedule(m, cs->ready_at, SIM_EV_CS_READY, idx, 0);
	if (out != NULL)
		*out = cs;
	return 0;
}

int
sim_changeset_create(struct sim_model *m, const char *stack, const char *name,
    const struct sim_param_in *in, size_t n, const char *const *caps, size_t ncaps,
    int include_nested, int64_t now, struct sim_changeset **out, struct sim_err *err)
{
	sim_model_advance(m, now);
	return create(m, stack, name, in, n, caps, ncaps, include_nested, out, err);
}

static int
lookup(struct sim_model *m, const char *stack, const char *name,
    struct sim_changeset **out, struct sim_err *err)
{
	if ((*out = sim_changeset_find(m, stack, name)) == NULL)
		return sim_fail(err, 404, "ChangeSetNotFound", "ChangeSet [%s] does not exist",
		    name);
	return 0;
}

int
sim_changeset_describe(struct sim_model *m, const char *stack, const char *name,
    int64_t now, struct sim_changeset **out, struct sim_err *err)
{
	sim_model_advance(m, now);
	return lookup(m, stack, name, out, err);
}

static int
execute(struct sim_model *m, const char *stack, const char *name, const char *token,
    struct sim_err *err)
{
	struct sim_changeset *cs;
	struct sim_stack *st;

	if (lookup(m, stack, name, &cs, err) == -1)
		return -1;
	if (cs->parent != NULL || cs->status != SIM_CS_CREATE_COMPLETE ||
	    cs->exec != SIM_CS_AVAILABLE)
		return sim_fail(err, 400, "InvalidChangeSetStatus", "ChangeSet [%s] cannot "
		    "be executed in its current status of [%s]", cs->id,
		    cs->status == SIM_CS_CREATE_COMPLETE ? sim_cs_exec_name(cs->exec) :
		    sim_cs_status_name(cs->status));
	if (sim_stack_check_target(m, cs->stack->name, token, &st, err) == -1)
		return -1;
	set_family(m, cs, cs->status, SIM_CS_EXECUTE_IN_PROGRESS);
	sim_stack_start_update(m, st, cs->params, cs->nparams, token, cs);
	return 0;
}

int
sim_changeset_execute(struct sim_model *m, const char *stack, const char *name,
    const char *token, int64_t now, struct sim_err *err)
{
	int rc;

	sim_model_advance(m, now);
	rc = execute(m, stack, name, token, err);
	sim_call(m, "ExecuteChangeSet", stack ? stack : name, token, rc == -1 ? err : NULL);
	return rc;
}

int
sim_changeset_delete(struct sim_model *m, const char *stack, const char *name,
    int64_t now, struct sim_err *err)
{
	struct sim_changeset *cs;

	sim_model_advance(m, now);
	if (lookup(m, stack, name, &cs, err) == -1)
		return -1;
	if (cs->exec == SIM_CS_EXECUTE_IN_PROGRESS)
		return sim_fail(err, 400, "InvalidChangeSetStatus", "Cannot delete ChangeSet "
		    "in status EXECUTE_IN_PROGRESS");
	set_family(m, cs, SIM_CS_DELETED, cs->exec);
	return 0;
}
