/*
 * The CloudFormation stack of the Quick Start: its parameters (with the template's
 * defaults and NoEcho ones), resources, outputs and events, in the flat layout or
 * the with-VPC one (a root stack nesting the product stack as BitbucketDCStack).
 * Updates are in sim/stack_update.c, change sets in sim/changeset.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "sim/stack_template.h"

#define DAY_MS	(24 * 3600 * 1000LL)

const char *
sim_stack_status_name(enum sim_stack_status s)
{
	static const char *const names[] = {
		"CREATE_COMPLETE", "UPDATE_IN_PROGRESS",
		"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
		"UPDATE_ROLLBACK_IN_PROGRESS",
		"UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
		"UPDATE_ROLLBACK_FAILED",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

static struct sim_stack *
new_stack(struct sim_model *m, const char *name, struct sim_stack *parent)
{
	struct sim_stack *st = sim_xcalloc(1, sizeof(*st));
	char uuid[40];

	st->idx = (int)m->nstacks;
	m->stack[m->nstacks++] = st;
	sim_strlcpy(st->name, name, sizeof(st->name));
	sim_rng_uuid(&m->rng_ids, uuid, sizeof(uuid));
	snprintf(st->id, sizeof(st->id), "arn:aws:cloudformation:%s:%s:stack/%s/%s",
	    m->p.region, m->p.account, name, uuid);
	st->parent = parent;
	st->status = st->status_prev = SIM_CREATE_COMPLETE;
	st->created = -3 * DAY_MS;
	st->updated = SIM_NEVER;
	sim_stack_template_params(m, st);
	return st;
}

void
sim_stack_init(struct sim_model *m)
{
	struct sim_stack *root;
	char name[SIM_NAME_MAX], sfx[16];

	root = new_stack(m, m->p.stack_name, NULL);
	if (!m->p.nested)
		return;
	sim_rng_alnum(&m->rng_ids, sfx, 12);
	snprintf(name, sizeof(name), "%.60s-BitbucketDCStack-%.12s", root->name, sfx);
	root->child = new_stack(m, name, root);
}

void
sim_stack_link(struct sim_model *m)
{
	for (size_t i = 0; i < m->nstacks; i++) {
		struct sim_stack *st = m->stack[i];

		sim_stack_template_resources(m, st);
		sim_rec(m, SIM_REC_STACK, st->name, sim_stack_status_name(st->status),
		    sim_stack_param(st, "BitbucketVersion"), st->parent != NULL, "created");
	}
}

void
sim_stack_free(struct sim_stack *st)
{
	if (st == NULL)
		return;
	free(st->ev);
	free(st->op);
	free(st);
}

struct sim_stack *
sim_stack_find(struct sim_model *m, const char *name_or_id)
{
	for (size_t i = 0; i < m->nstacks; i++)
		if (strcmp(m->stack[i]->name, name_or_id) == 0 ||
		    strcmp(m->stack[i]->id, name_or_id) == 0)
			return m->stack[i];
	return NULL;
}

struct sim_stack *
sim_stack_product(struct sim_model *m)
{
	return m->stack[m->nstacks - 1];
}

enum sim_stack_status
sim_stack_status_shown(const struct sim_stack *st, int64_t now)
{
	return now < st->status_shown_at ? st->status_prev : st->status;
}

struct sim_param *
sim_stack_param_find(struct sim_stack *st, const char *key)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].key, key) == 0)
			return &st->params[i];
	return NULL;
}

const char *
sim_stack_param(const struct sim_stack *st, const char *key)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].key, key) == 0)
			return st->params[i].value;
	return NULL;
}

static struct sim_stack_resource *
res_find(struct sim_stack *st, const char *logical_id)
{
	for (size_t i = 0; i < st->nres; i++)
		if (strcmp(st->res[i].logical_id, logical_id) == 0)
			return &st->res[i];
	return NULL;
}

const struct sim_stack_resource *
sim_stack_resource(const struct sim_stack *st, const char *logical_id)
{
	return res_find((struct sim_stack *)st, logical_id);
}

/* Appends an event at time t; status is a resource status name. */
void
sim_stack_event_at(struct sim_model *m, struct sim_stack *st, int64_t t,
    const char *logical_id, const char *status, const char *reason, const char *token)
{
	struct sim_stack_event *e;
	struct sim_stack_resource *r = res_find(st, logical_id);
	int self = strcmp(logical_id, st->name) == 0;

	sim_grow(&st->ev, &st->evcap, st->nev + 1, sizeof(*st->ev));
	e = &st->ev[st->nev++];
	sim_rng_uuid(&m->rng_ids, e->event_id, sizeof(e->event_id));
	sim_strlcpy(e->logical_id, logical_id, sizeof(e->logical_id));
	sim_strlcpy(e->physical_id, self ? st->id : r ? r->physical_id : "",
	    sizeof(e->physical_id));
	sim_strlcpy(e->type, self ? "AWS::CloudFormation::Stack" : r ? r->type : "",
	    sizeof(e->type));
	e->time = t;
	sim_strlcpy(e->status, status, sizeof(e->status));
	sim_strlcpy(e->reason, reason ? reason : "", sizeof(e->reason));
	sim_strlcpy(e->token, token ? token : "", sizeof(e->token));
	if (!self && r != NULL) {
		sim_strlcpy(r->status, status, sizeof(r->status));
		r->updated = t;
	}
}

void
sim_stack_event(struct sim_model *m, struct sim_stack *st, const char *logical_id,
    const char *status, const char *reason, const char *token)
{
	sim_stack_event_at(m, st, m->now, logical_id, status, reason, token);
}

void
sim_stack_set_status(struct sim_model *m, struct sim_stack *st, enum sim_stack_status s,
    const char *reason, const char *token)
{
	const char *v = sim_stack_param(st, "BitbucketVersion");

	st->status = s;
	sim_strlcpy(st->reason, reason ? reason : "", sizeof(st->reason));
	sim_stack_event_at(m, st, m->now, st->name, sim_stack_status_name(s), reason,
	    token);
	sim_rec(m, SIM_REC_STACK, st->name, sim_stack_status_name(s), v ? v : "",
	    st->parent != NULL, "%s", reason ? reason : "");
}

/*
 * Standby mode as a fault: DBMaster names the primary's database. Only the parameter
 * changes (the group keeps its nodes): it is what the daemon's preflight reads.
 */
void
sim_stack_set_db_master(struct sim_model *m, const char *value)
{
	struct sim_param *p;

	for (size_t i = 0; i < m->nstacks; i++)
		if ((p = sim_stack_param_find(m->stack[i], "DBMaster")) != NULL)
			sim_strlcpy(p->value, value, sizeof(p->value));
	sim_strlcpy(m->p.db_master, value, sizeof(m->p.db_master));
	sim_rec(m, SIM_REC_STACK, m->stack[0]->name, sim_stack_status_name(
	    m->stack[0]->status), sim_stack_param(m->stack[0], "BitbucketVersion"), 0,
	    "DBMaster set to '%.80s'", value);
}
