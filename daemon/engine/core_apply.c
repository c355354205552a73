/*
 * The only way the persisted upgrade changes besides the operator commands: the
 * journal intent before a call (engine_intent), and the outcome after it, or a
 * bookkeeping decision, or a halt (engine_apply). Pure functions on the struct; the
 * shell commits the result in the same transaction as the journal row.
 *
 * Every applied decision advances seq, the step number in tokens, so that the next
 * decision gets a new token and a repeated one (after a crash) the same.
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

void
engine_intent(struct engine_upgrade *u, const struct engine_decision *d)
{
	if (d->verdict != ENGINE_ACT || !engine_act_is_call(d->act.kind) ||
	    d->resolve != ENGINE_RESOLVE_NONE)
		return;
	u->intent = d->act;
	u->intent_pending = true;
}

static struct engine_node *
node(struct engine_upgrade *u, const char *id)
{
	int i = engine_node_index(u, id);

	return i < 0 ? NULL : &u->nodes[i];
}

static void
halt(struct engine_upgrade *u, enum engine_halt code, const char *why)
{
	u->state = ENGINE_STATE_HALTED;
	u->halt = code;
	u->pause_requested = false;
	engine_strlcpy(u->reason, why, sizeof(u->reason));
	/* These end the stack operation: after a resume the change starts afresh. */
	if (code == ENGINE_HALT_STACK_ROLLED_BACK || code == ENGINE_HALT_STACK_FAILED ||
	    code == ENGINE_HALT_STACK_ROLLBACK_FAILED)
		memset(&u->stack, 0, sizeof(u->stack));
}

static void
set_targets(struct engine_upgrade *u, const struct engine_action *a,
    enum engine_step step, enum engine_purpose purpose)
{
	for (size_t i = 0; i < a->ntargets; i++) {
		struct engine_node *n = node(u, a->targets[i]);

		if (n == NULL)
			continue;
		n->step = step;
		n->purpose = purpose;
	}
}

void
engine_apply_call(struct engine_upgrade *u, const struct engine_decision *d,
    const char *activity)
{
	const struct engine_action *a = &d->act;
	struct engine_node *n;

	switch (a->kind) {
	case ENGINE_ACT_ZDU_START:
		u->phase = ENGINE_PH_RECORD;
		break;
	case ENGINE_ACT_ZDU_APPROVE:
		u->approved = true;
		/* FALLTHROUGH */
	case ENGINE_ACT_ZDU_CANCEL:
		u->phase = ENGINE_PH_STABILIZE;
		u->seen_valid = false;
		break;
	case ENGINE_ACT_PROTECT:
		for (size_t i = 0; i < a->ntargets; i++)
			if ((n = node(u, a->targets[i])) != NULL)
				n->prot_req = a->protect ? ENGINE_PROT_ON : ENGINE_PROT_OFF;
		break;
	case ENGINE_ACT_SUSPEND:
		u->suspended_by_us |= a->processes;
		break;
	case ENGINE_ACT_RESUME:
		u->resumed |= a->processes;
		break;
	case ENGINE_ACT_CREATE_CHANGESET:
		memset(&u->stack, 0, sizeof(u->stack));
		u->stack.step = ENGINE_SC_CREATED;
		engine_strlcpy(u->stack.changeset, a->changeset, sizeof(u->stack.changeset));
		engine_strlcpy(u->stack.version, a->version, sizeof(u->stack.version));
		u->stack.min = a->min;
		u->stack.max = a->max;
		break;
	case ENGINE_ACT_EXECUTE_CHANGESET:
		u->stack.step = ENGINE_SC_EXECUTING;
		engine_strlcpy(u->stack.token, a->token, sizeof(u->stack.token));
		break;
	case ENGINE_ACT_DELETE_CHANGESET:
		memset(&u->stack, 0, sizeof(u->stack));
		break;
	case ENGINE_ACT_DEREGISTER:
		set_targets(u, a, ENGINE_STEP_DRAINING, a->purpose);
		break;
	case ENGINE_ACT_REGISTER:
		set_targets(u, a, ENGINE_STEP_LIVE, ENGINE_PURPOSE_NONE);
		break;
	case ENGINE_ACT_TERMINATE:
		if ((n = node(u, a->targets[0])) != NULL) {
			n->step = ENGINE_STEP_TERMINATING;
			engine_strlcpy(n->activity, activity[0] ? activity : a->activity,
			    sizeof(n->activity));
		}
		break;
	default:
		break;
	}
}

static void
apply_record(struct engine_upgrade *u, const struct engine_decision *d)
{
	const struct engine_record *r = &d->record;

	engine_strlcpy(u->from, r->from, sizeof(u->from));
	u->n = r->n;
	u->orig_min = u->expect_min = u->prev_min = r->min;
	u->orig_max = u->expect_max = u->prev_max = r->max;
	u->orig_desired = u->expect_desired = u->prev_desired = r->desired;
	u->suspended_before = r->suspended;
	u->new_protected = r->new_protected;
	u->nnodes = 0;
	for (size_t i = 0; i < d->nfacts && u->nnodes < ENGINE_TRACKED_MAX; i++) {
		struct engine_node *n = &u->nodes[u->nnodes++];

		memset(n, 0, sizeof(*n));
		engine_strlcpy(n->id, d->facts[i].id, sizeof(n->id));
		engine_strlcpy(n->ip, d->facts[i].ip, sizeof(n->ip));
		engine_strlcpy(n->version, d->facts[i].version, sizeof(n->version));
		n->role = ENGINE_ROLE_ORIGINAL;
		n->was_protected = d->facts[i].protected;
		n->replaces = n->replaced_by = -1;
	}
	u->phase = ENGINE_PH_PROTECT;
}

/* A new instance: tied to the slot it fills, inheriting that slot's failures. */
static void
apply_adopt(struct engine_upgrade *u, const struct engine_decision *d)
{
	for (size_t i = 0; i < d->nfacts && u->nnodes < ENGINE_TRACKED_MAX; i++) {
		const struct engine_fact *f = &d->facts[i];
		struct engine_node *n = &u->nodes[u->nnodes];
		struct engine_node *slot = f->replaces >= 0 &&
		    (size_t)f->replaces < u->nnodes ? &u->nodes[f->replaces] : NULL;

		memset(n, 0, sizeof(*n));
		engine_strlcpy(n->id, f->id, sizeof(n->id));
		engine_strlcpy(n->ip, f->ip, sizeof(n->ip));
		n->role = slot != NULL && slot->purpose == ENGINE_PURPOSE_VICTIM ?
		    ENGINE_ROLE_REPLACEMENT : ENGINE_ROLE_SURGE;
		n->reverse_born = engine_reversing(u);
		n->replaces = slot != NULL ? f->replaces : -1;
		n->replaced_by = -1;
		if (slot != NULL) {
			n->retries = slot->purpose == ENGINE_PURPOSE_VICTIM ? slot->retries :
			    slot->retries + 1;
			slot->replaced_by = (int)u->nnodes;
		}
		u->nnodes++;
	}
}

static void
apply_drained(struct engine_upgrade *u, const struct engine_decision *d)
{
	struct engine_node *n = node(u, d->act.targets[0]);

	if (n == NULL)
		return;
	n->step = ENGINE_STEP_DRAINED;
	n->drain = d->drain;
	if (d->drain == ENGINE_DRAIN_FORCED)
		u->drains_forced++;
	else
		u->drains_clean++;
}

static void
apply_gone(struct engine_upgrade *u, const struct engine_decision *d)
{
	struct engine_node *n = node(u, d->act.targets[0]);

	if (n == NULL)
		return;
	switch (n->purpose) {
	case ENGINE_PURPOSE_VICTIM:
		n->step = ENGINE_STEP_AWAITING;
		break;
	case ENGINE_PURPOSE_LEAVER:
		n->step = ENGINE_STEP_RETIRED;
		u->retired++;
		break;
	default:
		n->step = ENGINE_STEP_GONE;
		break;
	}
}

/* A new node failed: replace it once more, or give its slot up and roll back. */
static void
apply_node_failed(struct engine_upgrade *u, const struct engine_decision *d)
{
	struct engine_node *f = node(u, d->act.targets[0]);
	struct engine_node *v;

	if (f == NULL)
		return;
	v = f->replaces >= 0 && u->nodes[f->replaces].purpose == ENGINE_PURPOSE_VICTIM ?
	    &u->nodes[f->replaces] : NULL;
	if (d->act.purpose == ENGINE_PURPOSE_RETRY) {
		f->purpose = ENGINE_PURPOSE_RETRY;
		if (v != NULL) {
			v->replaced_by = -1;
			v->retries++;
		}
		return;
	}
	u->reverse_requested = ENGINE_MODE_ROLLBACK;
	if (v != NULL && v->step == ENGINE_STEP_AWAITING)
		v->step = ENGINE_STEP_REPLACED;
}

static void
apply_reverse(struct engine_upgrade *u, const struct engine_decision *d)
{
	u->mode = d->mode;
	u->reverse_requested = ENGINE_MODE_FORWARD;
	u->phase = ENGINE_PH_SCALE_OUT;
	u->seen_valid = false;
	for (size_t i = 0; i < u->nnodes; i++)
		if (u->nodes[i].purpose == ENGINE_PURPOSE_LEAVER &&
		    engine_alive(&u->nodes[i]))
			u->nodes[i].purpose = ENGINE_PURPOSE_NONE;
}

static void
apply_rebase(struct engine_upgrade *u, const struct engine_decision *d)
{
	set_targets(u, &d->act, ENGINE_STEP_GONE, ENGINE_PURPOSE_NONE);
	u->expect_min = d->record.min;
	u->expect_max = d->record.max;
	u->expect_desired = d->record.desired;
	u->counts_settling = false;
	u->rebase = false;
}

static void
apply_stack_done(struct engine_upgrade *u)
{
	u->prev_min = u->expect_min;
	u->prev_max = u->expect_max;
	u->prev_desired = u->expect_desired;
	u->expect_min = u->stack.min;
	u->expect_max = u->stack.max;
	u->expect_desired = u->stack.min;	/* the template ties desired to min */
	u->counts_settling = true;
	memset(&u->stack, 0, sizeof(u->stack));
}

void
engine_apply_local(struct engine_upgrade *u, const struct engine_decision *d)
{
	struct engine_node *n;

	switch (d->act.kind) {
	case ENGINE_ACT_RECORD:
		apply_record(u, d);
		break;
	case ENGINE_ACT_PHASE:
		u->phase = d->next_phase;
		u->seen_valid = false;
		u->counts_settling = false;
		break;
	case ENGINE_ACT_ADOPT:
		apply_adopt(u, d);
		break;
	case ENGINE_ACT_DRAINED:
		apply_drained(u, d);
		break;
	case ENGINE_ACT_GONE:
		apply_gone(u, d);
		break;
	case ENGINE_ACT_REPLACED:
		if ((n = node(u, d->act.targets[0])) != NULL) {
			n->step = ENGINE_STEP_REPLACED;
			u->replaced++;
		}
		break;
	case ENGINE_ACT_LEAVERS:
		set_targets(u, &d->act, ENGINE_STEP_LIVE, ENGINE_PURPOSE_LEAVER);
		break;
	case ENGINE_ACT_STACK_DONE:
		apply_stack_done(u);
		break;
	case ENGINE_ACT_SEEN:
		u->seen_valid = true;
		u->seen_state = d->seen_state;
		u->seen_poll = d->seen_poll;
		break;
	case ENGINE_ACT_NODE_FAILED:
		apply_node_failed(u, d);
		break;
	case ENGINE_ACT_PAUSE:
		u->state = ENGINE_STATE_PAUSED;
		u->pause_requested = false;
		break;
	case ENGINE_ACT_REVERSE:
		apply_reverse(u, d);
		break;
	case ENGINE_ACT_REBASE:
		apply_rebase(u, d);
		break;
	case ENGINE_ACT_FINISH:
		u->state = d->final;
		u->phase = ENGINE_PH_END;
		break;
	default:
		break;
	}
}

static void
apply_outcome(struct engine_upgrade *u, const struct engine_decision *d,
    const struct engine_outcome *out)
{
	enum engine_out k = out != NULL ? out->kind : ENGINE_OUT_DONE;
	char why[2 * ENGINE_TEXT_MAX];

	if (d->resolve == ENGINE_RESOLVE_DONE)
		k = ENGINE_OUT_DONE;
	else if (d->resolve == ENGINE_RESOLVE_NOT_DONE)
		k = ENGINE_OUT_NOT_DONE;
	u->intent_pending = false;
	u->counts_settling = false;
	switch (k) {
	case ENGINE_OUT_DONE:
		engine_apply_call(u, d, out != NULL ? out->activity : "");
		if (d->halt_after)
			halt(u, d->halt_code, d->message);
		break;
	case ENGINE_OUT_CONFLICT:
		u->seen_valid = false;
		break;
	case ENGINE_OUT_FAILED:
		snprintf(why, sizeof(why), "%s was refused: %s. Nothing else was done; fix "
		    "the cause, then `bbctl resume`", engine_act_name(d->act.kind),
		    out != NULL ? out->detail : "no detail");
		halt(u, ENGINE_HALT_CALL_FAILED, why);
		break;
	case ENGINE_OUT_NOT_DONE:
	case ENGINE_OUT_RETRY:
		break;
	}
}

void
engine_apply(struct engine_upgrade *u, const struct engine_decision *d,
    const struct engine_outcome *out)
{
	if (d->verdict == ENGINE_HALT) {
		if (u->state != ENGINE_STATE_HALTED)
			halt(u, d->halt_code, d->message);
		return;
	}
	if (d->verdict != ENGINE_ACT)
		return;
	if (engine_act_is_call(d->act.kind))
		apply_outcome(u, d, out);
	else
		engine_apply_local(u, d);
	u->seq++;
}
