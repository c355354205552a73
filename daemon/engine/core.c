/*
 * The decision core: engine_decide() and what every phase shares (see core.h).
 *
 * A decision is made in a fixed order, and the order is the safety argument:
 * settled states first; then refusals that hold in any phase (credentials, a part of
 * the observation that was not read, a stack that needs a person); then an open
 * journal intent, resolved by observation before anything else (never pick a new
 * victim while one is unresolved); then whether someone else changed the group; then
 * new instances and failed nodes; then pause and reversal at a safe point; and only
 * then the phase's own step. Every call the core returns has passed engine_guard().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static int	check_global(struct engine_ctx *);
static int	check_requests(struct engine_ctx *);
static int	run_phase(struct engine_ctx *);


void
engine_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (len == 0)
		return;
	n = strlen(src);
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
engine_upgrade_init(struct engine_upgrade *u, int64_t id, const char *deployment,
    const char *to, int surge, enum engine_on_failure on_failure, bool literal_order)
{
	memset(u, 0, sizeof(*u));
	if (id < 0 || surge < 1 || surge > ENGINE_SURGE_MAX || to == NULL ||
	    strlen(to) >= sizeof(u->to) || deployment == NULL ||
	    strlen(deployment) >= sizeof(u->deployment))
		return -1;
	u->id = id;
	engine_strlcpy(u->deployment, deployment, sizeof(u->deployment));
	engine_strlcpy(u->to, to, sizeof(u->to));
	u->surge = surge;
	u->on_failure = on_failure;
	u->literal_order = literal_order;
	u->mode = ENGINE_MODE_FORWARD;
	u->phase = ENGINE_PH_PREFLIGHT;
	u->state = ENGINE_STATE_RUNNING;
	u->reverse_requested = ENGINE_MODE_FORWARD;
	return 0;
}

static const char *const act_slugs[] = {
	[ENGINE_ACT_ZDU_START] = "start",
	[ENGINE_ACT_ZDU_APPROVE] = "approve",
	[ENGINE_ACT_ZDU_CANCEL] = "cancel",
	[ENGINE_ACT_PROTECT] = "protect",
	[ENGINE_ACT_SUSPEND] = "suspend",
	[ENGINE_ACT_RESUME] = "resume",
	[ENGINE_ACT_CREATE_CHANGESET] = "cs",
	[ENGINE_ACT_EXECUTE_CHANGESET] = "exec",
	[ENGINE_ACT_DELETE_CHANGESET] = "delcs",
	[ENGINE_ACT_DEREGISTER] = "dereg",
	[ENGINE_ACT_REGISTER] = "reg",
	[ENGINE_ACT_TERMINATE] = "term",
};

bool
engine_act_is_call(enum engine_act_kind k)
{
	return k >= ENGINE_ACT_ZDU_START && k <= ENGINE_ACT_TERMINATE;
}

/*
 * "bbup-<upgrade>-<step>-<kind>": a function of the persisted state only, so that a
 * restart re-derives the token of the decision it was about to make. It starts with a
 * letter, so it is also a valid change set name.
 */
void
engine_token(const struct engine_upgrade *u, enum engine_act_kind k, char *buf,
    size_t len)
{
	if (!engine_act_is_call(k)) {
		engine_strlcpy(buf, "", len);
		return;
	}
	snprintf(buf, len, "bbup-%lld-%u-%s", (long long)u->id, (unsigned)u->seq,
	    act_slugs[k]);
}

/* CloudFormation's pattern: [a-zA-Z0-9][-a-zA-Z0-9]*, at most 128 characters. */
bool
engine_token_valid(const char *t)
{
	size_t i;

	for (i = 0; t[i] != '\0'; i++) {
		char ch = t[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || ch != '-'))
			return false;
	}
	return i > 0 && i <= 128;
}

static void
vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
}

int
engine_act(struct engine_ctx *c, enum engine_act_kind k, const char *fmt, ...)
{
	struct engine_decision *d = c->d;
	va_list ap;

	d->verdict = ENGINE_ACT;
	memset(&d->act, 0, sizeof(d->act));
	d->act.kind = k;
	d->resolve = ENGINE_RESOLVE_NONE;
	engine_token(c->u, k, d->act.token, sizeof(d->act.token));
	va_start(ap, fmt);
	vformat(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return ENGINE_DECIDED;
}

int
engine_wait(struct engine_ctx *c, enum engine_wait w, const char *fmt, ...)
{
	struct engine_decision *d = c->d;
	va_list ap;

	d->verdict = ENGINE_WAIT;
	d->wait = w;
	va_start(ap, fmt);
	vformat(d->progress, sizeof(d->progress), fmt, ap);
	va_end(ap);
	engine_strlcpy(d->message, d->progress, sizeof(d->message));
	return ENGINE_DECIDED;
}

int
engine_halt(struct engine_ctx *c, enum engine_halt h, const char *fmt, ...)
{
	struct engine_decision *d = c->d;
	va_list ap;

	d->verdict = ENGINE_HALT;
	d->halt_code = h;
	va_start(ap, fmt);
	vformat(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return ENGINE_DECIDED;
}

/* Whether the shell's deadline has passed for the wait just written into d. */
bool
engine_deadline(const struct engine_ctx *c)
{
	const struct engine_obs *o = c->o;

	if (c->d->verdict != ENGINE_WAIT || !o->deadline_passed)
		return false;
	return o->deadline_marker[0] == '\0' ||
	    strcmp(o->deadline_marker, c->d->progress) == 0;
}

int
engine_next_phase(struct engine_ctx *c, enum engine_phase next)
{
	engine_act(c, ENGINE_ACT_PHASE, "%s complete; next: %s",
	    engine_phase_name(c->u->phase), engine_phase_name(next));
	c->d->next_phase = next;
	return ENGINE_DECIDED;
}

void
engine_add_target(struct engine_action *a, const char *id)
{
	if (a->ntargets < ENGINE_NODES_MAX)
		engine_strlcpy(a->targets[a->ntargets++], id, ENGINE_ID_MAX);
}

void
engine_problem(struct engine_problems *p, const char *fmt, ...)
{
	va_list ap;

	if (p->n == ENGINE_PROBLEMS_MAX) {
		p->truncated = true;
		return;
	}
	va_start(ap, fmt);
	vformat(p->p[p->n].text, sizeof(p->p[p->n].text), fmt, ap);
	va_end(ap);
	p->n++;
}

/* "1) first; 2) second; ..." into buf, for a message. */
void
engine_problems_join(const struct engine_problems *p, char *buf, size_t len)
{
	size_t off = 0;

	engine_strlcpy(buf, "", len);
	for (size_t i = 0; i < p->n && off + 1 < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%zu) %s", i ? "; " : "", i + 1,
		    p->p[i].text);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (p->truncated && off + 1 < len)
		snprintf(buf + off, len - off, "; and more");
}

static const char *
want_version(const struct engine_upgrade *u)
{
	return u->mode == ENGINE_MODE_FORWARD ? u->to : u->from;
}

static bool
intent_is(const struct engine_upgrade *u, enum engine_act_kind k)
{
	return u->intent_pending && u->intent.kind == k;
}

/* The parts a decision cannot be made without. */
static unsigned
required(const struct engine_upgrade *u)
{
	unsigned need = ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES |
	    ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU;

	if (u->phase == ENGINE_PH_PREFLIGHT && !u->intent_pending)
		need |= ENGINE_OBS_IDENTITY;
	if (u->stack.step == ENGINE_SC_CREATED ||
	    intent_is(u, ENGINE_ACT_CREATE_CHANGESET) ||
	    intent_is(u, ENGINE_ACT_EXECUTE_CHANGESET) ||
	    intent_is(u, ENGINE_ACT_DELETE_CHANGESET))
		need |= ENGINE_OBS_CHANGESET;
	if (u->stack.step == ENGINE_SC_EXECUTING ||
	    intent_is(u, ENGINE_ACT_EXECUTE_CHANGESET))
		need |= ENGINE_OBS_EVENTS;
	return need;
}

static void
set_needs(const struct engine_upgrade *u, struct engine_decision *d)
{
	d->need = required(u);
	if (u->phase >= ENGINE_PH_SURGE && u->phase <= ENGINE_PH_RETIRE)
		d->need |= ENGINE_OBS_CPU;
	if (u->phase == ENGINE_PH_RESTORE)
		d->need |= ENGINE_OBS_ALARMS;
	if (u->intent_pending && u->intent.changeset[0] != '\0')
		engine_strlcpy(d->need_changeset, u->intent.changeset,
		    sizeof(d->need_changeset));
	else
		engine_strlcpy(d->need_changeset, u->stack.changeset,
		    sizeof(d->need_changeset));
	if (intent_is(u, ENGINE_ACT_EXECUTE_CHANGESET))
		engine_strlcpy(d->need_token, u->intent.token, sizeof(d->need_token));
	else
		engine_strlcpy(d->need_token, u->stack.token, sizeof(d->need_token));
}

static const char *const part_names[] = {
	"the stack", "the stack events", "the change set", "the group",
	"the scaling activities", "the instances", "the load balancer",
	"the ZDU cluster", "CPU", "alarms", "the caller identity",
};

static int
missing_parts(struct engine_ctx *c, unsigned missing)
{
	char list[256] = "";
	size_t off = 0;

	for (size_t i = 0; i < sizeof(part_names) / sizeof(part_names[0]); i++) {
		if ((missing & (1u << i)) == 0 || off + 1 >= sizeof(list))
			continue;
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    off ? ", " : "", part_names[i]);
	}
	if (c->o->transient)
		return engine_wait(c, ENGINE_WAIT_BACKOFF,
		    "AWS or Bitbucket asked us to slow down; backing off before reading %s",
		    list);
	return engine_wait(c, ENGINE_WAIT_OBSERVE, "reading %s", list);
}

/* The states in which nothing runs. */
static bool
settled(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	struct engine_decision *d = c->d;

	switch (u->state) {
	case ENGINE_STATE_DONE:
	case ENGINE_STATE_CANCELLED:
	case ENGINE_STATE_ROLLED_BACK:
		d->verdict = ENGINE_DONE;
		d->need = 0;
		snprintf(d->message, sizeof(d->message), "upgrade %lld %s",
		    (long long)u->id, engine_state_name(u->state));
		return true;
	case ENGINE_STATE_HALTED:
		d->verdict = ENGINE_HALT;
		d->halt_code = u->halt;
		engine_strlcpy(d->message, u->reason, sizeof(d->message));
		return true;
	case ENGINE_STATE_PAUSED:
		engine_wait(c, ENGINE_WAIT_PAUSED, "paused in %s; `bbctl resume` continues",
		    engine_phase_name(u->phase));
		return true;
	case ENGINE_STATE_RUNNING:
		break;
	}
	return false;
}

/*
 * Behaviour 19: never leave a node drained but alive across a failed step. Before
 * halting, the drained nodes that can still stay are registered again, and the halt
 * follows that call (halt_after). Not when the halt is about access (the call would
 * be refused too) or an intent is open (resolved first).
 */
static void
register_before_halt(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	struct engine_decision *d = c->d;
	struct engine_action a;
	char why[sizeof(d->message)];

	if (d->halt_code == ENGINE_HALT_CREDENTIALS || u->intent_pending)
		return;
	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		if ((n->step != ENGINE_STEP_DRAINING && n->step != ENGINE_STEP_DRAINED) ||
		    !engine_in_group(engine_obs_inst(c->o, n->id)))
			continue;
		if (n->purpose == ENGINE_PURPOSE_VICTIM || (n->purpose ==
		    ENGINE_PURPOSE_LEAVER && !engine_removal_committed(u)))
			engine_add_target(&a, n->id);
	}
	if (a.ntargets == 0)
		return;
	engine_strlcpy(why, d->message, sizeof(why));
	engine_act(c, ENGINE_ACT_REGISTER, "%s (%zu drained node(s), first %s, registered "
	    "again before halting)", why, a.ntargets, a.targets[0]);
	memcpy(d->act.targets, a.targets, sizeof(a.targets));
	d->act.ntargets = a.ntargets;
	d->halt_after = true;
}

enum engine_verdict
engine_decide(const struct engine_upgrade *u, const struct engine_obs *o,
    struct engine_decision *d)
{
	struct engine_ctx c = { u, o, d, want_version(u) };

	memset(d, 0, sizeof(*d));
	d->phase = u->phase;
	d->next_phase = u->phase;
	set_needs(u, d);
	if (settled(&c))
		return d->verdict;
	if (check_global(&c) != ENGINE_DECIDED && check_requests(&c) != ENGINE_DECIDED &&
	    run_phase(&c) != ENGINE_DECIDED)
		engine_halt(&c, ENGINE_HALT_INTERNAL, "no decision in phase %s (a bug)",
		    engine_phase_name(u->phase));
	if (d->verdict == ENGINE_HALT)
		register_before_halt(&c);
	if (d->verdict == ENGINE_ACT && engine_act_is_call(d->act.kind) &&
	    (d->resolve == ENGINE_RESOLVE_NONE || d->resolve == ENGINE_RESOLVE_REISSUE))
		engine_guard(u, o, d);
	return d->verdict;
}

static bool
needs_a_person(enum engine_stack_status s)
{
	return s == ENGINE_STACK_UPDATE_ROLLBACK_FAILED;
}

/* What holds in every phase: credentials, observation, the stack, the journal. */
static int
check_global(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs *o = c->o;
	unsigned missing;
	int r;

	if (o->denied)
		return engine_halt(c, ENGINE_HALT_CREDENTIALS, "access refused: %s. Fix the "
		    "credentials or the permissions (docs/iam-policy.json lists what the "
		    "daemon needs), then `bbctl resume`", o->denied_what);
	if ((missing = required(u) & ~o->have) != 0)
		return missing_parts(c, missing);
	if (u->phase > ENGINE_PH_PREFLIGHT && (needs_a_person(o->stack.status) ||
	    (o->stack.nested && needs_a_person(o->stack.nested_status))))
		return engine_halt(c, ENGINE_HALT_STACK_ROLLBACK_FAILED, "the stack is in "
		    "UPDATE_ROLLBACK_FAILED (%s): CloudFormation could not roll back and "
		    "needs a person. Fix the cause, run ContinueUpdateRollback on the stack "
		    "(aws cloudformation continue-update-rollback), wait for "
		    "UPDATE_ROLLBACK_COMPLETE, then `bbctl resume`",
		    o->stack.status_reason[0] ? o->stack.status_reason : "no reason given");
	if (u->intent_pending)
		return engine_resolve_intent(c);
	if (u->phase <= ENGINE_PH_RECORD)
		return ENGINE_NEXT;
	if ((r = engine_stack_failed(c)) != ENGINE_NEXT)
		return r;
	if (u->rebase)
		return engine_rebase(c);
	return engine_watch_group(c);
}

/* Pause, rollback and cancel take effect only at a safe point (DESIGN.md, 19). */
static int
check_requests(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;

	if (u->reverse_requested != ENGINE_MODE_FORWARD && u->phase == ENGINE_PH_PREFLIGHT) {
		engine_act(c, ENGINE_ACT_FINISH, "cancelled before anything changed");
		c->d->final = ENGINE_STATE_CANCELLED;
		return ENGINE_DECIDED;
	}
	if (!engine_safe_point(u))
		return ENGINE_NEXT;
	if (u->reverse_requested != ENGINE_MODE_FORWARD && u->phase > ENGINE_PH_RECORD) {
		engine_act(c, ENGINE_ACT_REVERSE, "%s begins: back to %s",
		    engine_mode_name(u->reverse_requested), u->from);
		c->d->mode = u->reverse_requested;
		return ENGINE_DECIDED;
	}
	if (u->pause_requested) {
		engine_act(c, ENGINE_ACT_PAUSE, "paused at a safe point in %s",
		    engine_phase_name(u->phase));
		return ENGINE_DECIDED;
	}
	return ENGINE_NEXT;
}

static int
run_phase(struct engine_ctx *c)
{
	int r;

	switch (c->u->phase) {
	case ENGINE_PH_PREFLIGHT:
		return engine_phase_preflight(c);
	case ENGINE_PH_RECORD:
		return engine_phase_record(c);
	case ENGINE_PH_SURGE:
		r = engine_phase_surge(c);
		break;
	case ENGINE_PH_REPLACE:
		r = engine_phase_replace(c);
		break;
	case ENGINE_PH_RETIRE:
		r = engine_phase_retire(c);
		break;
	case ENGINE_PH_FINALIZE:
		r = engine_phase_finalize(c);
		break;
	case ENGINE_PH_STABILIZE:
		r = engine_phase_stabilize(c);
		break;
	case ENGINE_PH_RESTORE:
		return engine_phase_restore(c);
	case ENGINE_PH_END:
		return engine_halt(c, ENGINE_HALT_INTERNAL, "phase end while running");
	default:
		r = engine_phase_setup(c);
		break;
	}
	if (r == ENGINE_NEXT)
		return engine_next_phase(c, (enum engine_phase)(c->u->phase + 1));
	return r;
}
