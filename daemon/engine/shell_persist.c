/*
 * struct engine_upgrade in the database, as core.h maps it: the upgrade row's columns,
 * everything else of the upgrade in its facts (JSON, by name, never by number), one
 * upgrade_node row per node in index order. Names, not enum values, so that a newer
 * daemon reads what an older one wrote; a name it does not know makes the row
 * unreadable (the upgrade is then not resumed, and the log says why), never a guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/engine/shell.h"
#include "daemon/store.h"

static const char *const on_failures[] = { "halt", "retry", "rollback" };
static const char *const stack_steps[] = { "idle", "created", "executing" };
static const char *const prot_reqs[] = { "none", "on", "off" };
static const char *const drains[] = { "", "clean", "forced" };

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static int
lookup(const char *const *t, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(t[i], s) == 0)
			return (int)i;
	return -1;
}

/* The enums the core names but does not parse: by trying each value. */
static int
purpose_parse(const char *s)
{
	for (int v = ENGINE_PURPOSE_NONE; v <= ENGINE_PURPOSE_RETRY; v++)
		if (s != NULL && strcmp(engine_purpose_name((enum engine_purpose)v), s) == 0)
			return v;
	return -1;
}

static int
halt_parse(const char *s)
{
	for (int v = ENGINE_HALT_NONE; v <= ENGINE_HALT_INTERNAL; v++)
		if (s != NULL && strcmp(engine_halt_name((enum engine_halt)v), s) == 0)
			return v;
	return -1;
}

static int
zdu_state_parse(const char *s)
{
	for (int v = ZDU_STABLE; v <= ZDU_CLUSTER_UNKNOWN; v++)
		if (s != NULL && strcmp(zdu_cluster_state_name((enum zdu_cluster_state)v),
		    s) == 0)
			return v;
	return -1;
}

static unsigned
procs_parse(const char *s)
{
	char buf[256], *tok, *save;
	unsigned set = 0;

	if (s == NULL)
		return 0;
	engine_strlcpy(buf, s, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		set |= engine_process_parse(tok);
	return set;
}

static json_t *
procs_json(unsigned set)
{
	char buf[256];

	engine_process_list(set, buf, sizeof(buf));
	return json_string(set == 0 ? "" : buf);
}

bool
engine_finished(const struct engine_upgrade *u)
{
	return u->state == ENGINE_STATE_DONE || u->state == ENGINE_STATE_CANCELLED ||
	    u->state == ENGINE_STATE_ROLLED_BACK;
}

void
engine_targets_join(const struct engine_action *a, char *buf, size_t len)
{
	size_t off = 0;

	engine_strlcpy(buf, "", len);
	for (size_t i = 0; i < a->ntargets && off + 1 < len; i++) {
		engine_fmt(buf + off, len - off, "%s%s", i ? "," : "", a->targets[i]);
		off = strlen(buf);
	}
}

json_t *
engine_action_json(const struct engine_action *a)
{
	json_t *t = json_array();

	for (size_t i = 0; i < a->ntargets; i++)
		json_array_append_new(t, json_string(a->targets[i]));
	return json_pack("{s:s, s:s, s:o, s:b, s:o, s:s, s:s, s:i, s:i, s:s, s:s}",
	    "kind", engine_act_name(a->kind), "token", a->token, "targets", t,
	    "protect", a->protect, "processes", procs_json(a->processes),
	    "changeset", a->changeset, "version", a->version, "min", a->min,
	    "max", a->max, "purpose", engine_purpose_name(a->purpose),
	    "activity", a->activity);
}

static json_t *
facts_json(const struct engine_upgrade *u)
{
	const struct engine_stack_change *s = &u->stack;

	return json_pack("{s:s, s:s, s:b, s:I, s:s, s:i, s:o, s:o, s:o, s:b,"
	    " s:[i,i,i], s:[i,i,i], s:b, s:{s:s, s:s, s:s, s:s, s:i, s:i}, s:b, s:o,"
	    " s:b, s:s, s:b, s:b, s:{s:b, s:s, s:I}, s:i, s:i, s:i, s:i}",
	    "mode", engine_mode_name(u->mode),
	    "on_failure", on_failures[u->on_failure],
	    "literal_order", u->literal_order,
	    "seq", (json_int_t)u->seq,
	    "halt", engine_halt_name(u->halt),
	    "n", u->n,
	    "suspended_before", procs_json(u->suspended_before),
	    "suspended_by_us", procs_json(u->suspended_by_us),
	    "resumed", procs_json(u->resumed),
	    "new_protected", u->new_protected,
	    "expect", u->expect_min, u->expect_max, u->expect_desired,
	    "prev", u->prev_min, u->prev_max, u->prev_desired,
	    "counts_settling", u->counts_settling,
	    "stack", "step", stack_steps[s->step], "changeset", s->changeset,
	    "token", s->token, "version", s->version, "min", s->min, "max", s->max,
	    "intent_pending", u->intent_pending,
	    "intent", engine_action_json(&u->intent),
	    "pause_requested", u->pause_requested,
	    "reverse_requested", engine_mode_name(u->reverse_requested),
	    "rebase", u->rebase,
	    "approved", u->approved,
	    "seen", "valid", u->seen_valid, "state", zdu_cluster_state_name(u->seen_state),
	    "poll", (json_int_t)u->seen_poll,
	    "replaced", u->replaced, "retired", u->retired,
	    "drains_clean", u->drains_clean, "drains_forced", u->drains_forced);
}

static void
node_row(const struct engine_upgrade *u, size_t i, struct store_node *r)
{
	const struct engine_node *n = &u->nodes[i];

	memset(r, 0, sizeof(*r));
	engine_strlcpy(r->instance_id, n->id, sizeof(r->instance_id));
	engine_strlcpy(r->private_ip, n->ip, sizeof(r->private_ip));
	engine_strlcpy(r->role, engine_role_name(n->role), sizeof(r->role));
	engine_strlcpy(r->version, n->version, sizeof(r->version));
	r->was_protected = n->was_protected;
	engine_strlcpy(r->state, engine_step_name(n->step), sizeof(r->state));
	engine_strlcpy(r->drain, drains[n->drain], sizeof(r->drain));
	r->ord = (int)i;
	engine_strlcpy(r->purpose, engine_purpose_name(n->purpose), sizeof(r->purpose));
	engine_strlcpy(r->prot_req, prot_reqs[n->prot_req], sizeof(r->prot_req));
	if (n->replaces >= 0 && (size_t)n->replaces < u->nnodes)
		engine_strlcpy(r->replaces, u->nodes[n->replaces].id, sizeof(r->replaces));
	if (n->replaced_by >= 0 && (size_t)n->replaced_by < u->nnodes)
		engine_strlcpy(r->replaced_by, u->nodes[n->replaced_by].id,
		    sizeof(r->replaced_by));
	r->retries = n->retries;
	engine_strlcpy(r->activity_id, n->activity, sizeof(r->activity_id));
	r->reverse_born = n->reverse_born;
}

static void
row_of(const struct engine_upgrade *u, const struct shell_budget *b, bool finished,
    struct store_upgrade *r)
{
	bool recorded = u->phase > ENGINE_PH_RECORD;

	memset(r, 0, sizeof(*r));
	r->id = u->id;
	engine_strlcpy(r->deployment, u->deployment, sizeof(r->deployment));
	engine_strlcpy(r->from_version, u->from, sizeof(r->from_version));
	engine_strlcpy(r->to_version, u->to, sizeof(r->to_version));
	r->surge = u->surge;
	engine_strlcpy(r->state, engine_state_name(u->state), sizeof(r->state));
	engine_strlcpy(r->phase, engine_phase_name(u->phase), sizeof(r->phase));
	engine_strlcpy(r->reason, u->reason, sizeof(r->reason));
	r->orig_min = recorded ? u->orig_min : -1;
	r->orig_max = recorded ? u->orig_max : -1;
	r->orig_desired = recorded ? u->orig_desired : -1;
	r->budget_ms = b != NULL ? b->ms : -1;
	engine_strlcpy(r->budget_marker, b != NULL ? b->marker : "",
	    sizeof(r->budget_marker));
	r->finished_at = finished ? engine_wall_ms() : 0;
}

int
engine_persist_save(struct store *st, const struct engine_upgrade *u,
    const struct shell_budget *b, bool finished)
{
	struct store_node *nodes;
	struct store_upgrade r;
	json_t *facts;
	int rc = -1;

	if ((nodes = calloc(u->nnodes ? u->nnodes : 1, sizeof(*nodes))) == NULL)
		return -1;
	row_of(u, b, finished, &r);
	for (size_t i = 0; i < u->nnodes; i++)
		node_row(u, i, &nodes[i]);
	if ((facts = facts_json(u)) != NULL &&
	    (r.facts = json_dumps(facts, JSON_COMPACT)) != NULL)
		rc = store_upgrade_save(st, &r, nodes, u->nnodes);
	else
		log_warnx("engine: cannot serialise upgrade %lld", (long long)u->id);
	free(r.facts);
	json_decref(facts);
	free(nodes);
	return rc;
}

/* --- reading back ------------------------------------------------------------- */

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
num(json_t *o, const char *key)
{
	return (int)json_integer_value(json_object_get(o, key));
}

static bool
flag(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static void
copy(char *dst, size_t len, json_t *o, const char *key)
{
	const char *v = str(o, key);

	engine_strlcpy(dst, v ? v : "", len);
}

static int
action_parse(json_t *j, struct engine_action *a)
{
	json_t *t = json_object_get(j, "targets"), *v;
	int p = purpose_parse(str(j, "purpose"));
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(j) || engine_act_parse(str(j, "kind"), &a->kind) == -1 ||
	    p == -1 || !json_is_array(t))
		return -1;
	copy(a->token, sizeof(a->token), j, "token");
	json_array_foreach(t, i, v)
		if (json_is_string(v) && a->ntargets < ENGINE_NODES_MAX)
			engine_strlcpy(a->targets[a->ntargets++], json_string_value(v),
			    sizeof(a->targets[0]));
	a->protect = flag(j, "protect");
	a->processes = procs_parse(str(j, "processes"));
	copy(a->changeset, sizeof(a->changeset), j, "changeset");
	copy(a->version, sizeof(a->version), j, "version");
	a->min = num(j, "min");
	a->max = num(j, "max");
	a->purpose = (enum engine_purpose)p;
	copy(a->activity, sizeof(a->activity), j, "activity");
	return 0;
}

static int
triple(json_t *j, const char *key, int *a, int *b, int *c)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_array(v) || json_array_size(v) != 3)
		return -1;
	*a = (int)json_integer_value(json_array_get(v, 0));
	*b = (int)json_integer_value(json_array_get(v, 1));
	*c = (int)json_integer_value(json_array_get(v, 2));
	return 0;
}

static int
stack_parse(json_t *j, struct engine_stack_change *s)
{
	int step = lookup(stack_steps, NITEMS(stack_steps), str(j, "step"));

	memset(s, 0, sizeof(*s));
	if (step == -1)
		return -1;
	s->step = (enum engine_stack_step)step;
	copy(s->changeset, sizeof(s->changeset), j, "changeset");
	copy(s->token, sizeof(s->token), j, "token");
	copy(s->version, sizeof(s->version), j, "version");
	s->min = num(j, "min");
	s->max = num(j, "max");
	return 0;
}

static int
facts_parse(json_t *f, struct engine_upgrade *u)
{
	json_t *seen = json_object_get(f, "seen");
	int of = lookup(on_failures, NITEMS(on_failures), str(f, "on_failure"));
	int h = halt_parse(str(f, "halt")), zs = zdu_state_parse(str(seen, "state"));

	if (of == -1 || h == -1 || zs == -1 ||
	    engine_mode_parse(str(f, "mode"), &u->mode) == -1 ||
	    engine_mode_parse(str(f, "reverse_requested"), &u->reverse_requested) == -1 ||
	    triple(f, "expect", &u->expect_min, &u->expect_max, &u->expect_desired) == -1 ||
	    triple(f, "prev", &u->prev_min, &u->prev_max, &u->prev_desired) == -1 ||
	    stack_parse(json_object_get(f, "stack"), &u->stack) == -1 ||
	    action_parse(json_object_get(f, "intent"), &u->intent) == -1)
		return -1;
	u->on_failure = (enum engine_on_failure)of;
	u->halt = (enum engine_halt)h;
	u->literal_order = flag(f, "literal_order");
	u->seq = (uint32_t)json_integer_value(json_object_get(f, "seq"));
	u->n = num(f, "n");
	u->suspended_before = procs_parse(str(f, "suspended_before"));
	u->suspended_by_us = procs_parse(str(f, "suspended_by_us"));
	u->resumed = procs_parse(str(f, "resumed"));
	u->new_protected = flag(f, "new_protected");
	u->counts_settling = flag(f, "counts_settling");
	u->intent_pending = flag(f, "intent_pending");
	u->pause_requested = flag(f, "pause_requested");
	u->rebase = flag(f, "rebase");
	u->approved = flag(f, "approved");
	u->seen_valid = flag(seen, "valid");
	u->seen_state = (enum zdu_cluster_state)zs;
	u->seen_poll = (uint64_t)json_integer_value(json_object_get(seen, "poll"));
	u->replaced = num(f, "replaced");
	u->retired = num(f, "retired");
	u->drains_clean = num(f, "drains_clean");
	u->drains_forced = num(f, "drains_forced");
	return 0;
}

static int
index_of(const struct store_node *rows, size_t n, const char *id)
{
	for (size_t i = 0; id[0] != '\0' && i < n; i++)
		if (strcmp(rows[i].instance_id, id) == 0)
			return (int)i;
	return -1;
}

static int
node_parse(const struct store_node *rows, size_t n, size_t i, struct engine_node *e)
{
	const struct store_node *r = &rows[i];
	int p = purpose_parse(r->purpose);
	int pr = lookup(prot_reqs, NITEMS(prot_reqs), r->prot_req);
	int dr = lookup(drains, NITEMS(drains), r->drain);

	memset(e, 0, sizeof(*e));
	if (p == -1 || pr == -1 || dr == -1 || r->ord != (int)i ||
	    engine_role_parse(r->role, &e->role) == -1 ||
	    engine_step_parse(r->state, &e->step) == -1)
		return -1;
	engine_strlcpy(e->id, r->instance_id, sizeof(e->id));
	engine_strlcpy(e->ip, r->private_ip, sizeof(e->ip));
	engine_strlcpy(e->version, r->version, sizeof(e->version));
	e->was_protected = r->was_protected != 0;
	e->reverse_born = r->reverse_born != 0;
	e->purpose = (enum engine_purpose)p;
	e->drain = (enum engine_drain)dr;
	e->prot_req = (enum engine_prot_req)pr;
	e->replaces = index_of(rows, n, r->replaces);
	e->replaced_by = index_of(rows, n, r->replaced_by);
	e->retries = r->retries;
	engine_strlcpy(e->activity, r->activity_id, sizeof(e->activity));
	return 0;
}

static int
columns_parse(const struct store_upgrade *r, struct engine_upgrade *u)
{
	memset(u, 0, sizeof(*u));
	u->id = r->id;
	engine_strlcpy(u->deployment, r->deployment, sizeof(u->deployment));
	engine_strlcpy(u->from, r->from_version, sizeof(u->from));
	engine_strlcpy(u->to, r->to_version, sizeof(u->to));
	engine_strlcpy(u->reason, r->reason, sizeof(u->reason));
	u->surge = r->surge;
	u->orig_min = r->orig_min < 0 ? 0 : r->orig_min;
	u->orig_max = r->orig_max < 0 ? 0 : r->orig_max;
	u->orig_desired = r->orig_desired < 0 ? 0 : r->orig_desired;
	if (engine_state_parse(r->state, &u->state) == -1 ||
	    engine_phase_parse(r->phase, &u->phase) == -1)
		return -1;
	return 0;
}

int
engine_persist_load(struct store *st, int64_t id, struct engine_upgrade *u,
    struct shell_budget *b, int64_t *created_at, int64_t *finished_at, char *err,
    size_t len)
{
	struct store_upgrade r;
	struct store_node *rows = NULL;
	size_t n = 0;
	json_t *facts = NULL;
	int rc;

	if ((rc = store_upgrade_get(st, id, &r, &rows, &n)) != 1) {
		engine_fmt(err, len, "upgrade %lld: %s", (long long)id, rc == 0 ?
		    "no such upgrade" : "the database could not be read");
		return rc;
	}
	rc = -1;
	if (n > ENGINE_TRACKED_MAX)
		engine_fmt(err, len, "upgrade %lld has %zu nodes", (long long)id, n);
	else if (columns_parse(&r, u) == -1)
		engine_fmt(err, len, "upgrade %lld: unknown state %s or phase %s",
		    (long long)id, r.state, r.phase);
	else if ((facts = json_loads(r.facts, 0, NULL)) == NULL ||
	    facts_parse(facts, u) == -1)
		engine_fmt(err, len, "upgrade %lld: its facts are not what this daemon "
		    "writes", (long long)id);
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (node_parse(rows, n, i, &u->nodes[u->nnodes++]) == -1) {
			engine_fmt(err, len, "upgrade %lld: node %s is unreadable",
			    (long long)id, rows[i].instance_id);
			rc = -1;
		}
	if (b != NULL) {
		b->ms = r.budget_ms;
		engine_strlcpy(b->marker, r.budget_marker, sizeof(b->marker));
	}
	if (created_at != NULL)
		*created_at = r.created_at;
	if (finished_at != NULL)
		*finished_at = r.finished_at;
	json_decref(facts);
	free(r.facts);
	free(rows);
	return rc == 0 ? 1 : -1;
}
