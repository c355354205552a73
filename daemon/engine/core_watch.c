/*
 * What the core checks on every decision once the originals are recorded: that nobody
 * else changes the group (its counts, an instance we did not terminate gone, an
 * instance we did not launch appearing), the new instances the group launched for us
 * (adopted, and tied to the node they replace), and nodes in ERROR.
 *
 * A group that changes under us halts the upgrade: continuing would mean deciding on
 * facts that are no longer true. After the operator resumes, the core re-baselines on
 * what is there now (engine_rebase).
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static bool
counts_are(const struct engine_obs_asg *a, int min, int max, int desired)
{
	return a->min == min && a->max == max && a->desired == desired;
}

static int
check_counts(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs_asg *a = &c->o->asg;
	const struct engine_stack_change *s = &u->stack;

	if (counts_are(a, u->expect_min, u->expect_max, u->expect_desired))
		return ENGINE_NEXT;
	if (s->step == ENGINE_SC_EXECUTING && counts_are(a, s->min, s->max, s->min))
		return ENGINE_NEXT;
	if (u->counts_settling && counts_are(a, u->prev_min, u->prev_max, u->prev_desired)) {
		engine_wait(c, ENGINE_WAIT_COUNTS, "the group does not show the new counts "
		    "%d/%d/%d yet", u->expect_min, u->expect_max, u->expect_desired);
		if (!engine_deadline(c))
			return ENGINE_DECIDED;
	}
	return engine_halt(c, ENGINE_HALT_FOREIGN, "the group's min/max/desired are "
	    "%d/%d/%d but the upgrade left them at %d/%d/%d: someone else is changing the "
	    "group (a scaling policy, a person, another tool). Stop them, then `bbctl "
	    "resume` (which accepts the counts if they match the stack's)", a->min, a->max,
	    a->desired, u->expect_min, u->expect_max, u->expect_desired);
}

static const char *
absence(const struct engine_obs_instance *in)
{
	if (in == NULL)
		return "is no longer in the group";
	switch (in->lifecycle) {
	case ENGINE_LC_TERMINATING:
	case ENGINE_LC_TERMINATED:
		return "is being terminated";
	case ENGINE_LC_DETACHING:
		return "is being detached";
	case ENGINE_LC_STANDBY:
		return "entered Standby";
	default:
		return NULL;
	}
}

/* An instance we track and did not terminate must still be there. */
static int
check_vanished(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];
		const char *why;

		if (!engine_alive(n))
			continue;
		/*
		 * A deregistered leaver goes by scale-in: that is the point of draining
		 * it; while it drains, only once the counts are going down.
		 */
		if (n->purpose == ENGINE_PURPOSE_LEAVER && (n->step == ENGINE_STEP_DRAINED ||
		    (n->step == ENGINE_STEP_DRAINING && engine_removal_committed(u))))
			continue;
		/* Our update rolling back scales in by AWS's choice; the originals are protected. */
		if (n->role != ENGINE_ROLE_ORIGINAL && u->stack.step == ENGINE_SC_EXECUTING &&
		    c->o->stack.status == ENGINE_STACK_ROLLBACK_IN_PROGRESS)
			continue;
		if ((why = absence(engine_obs_inst(c->o, n->id))) == NULL)
			continue;
		return engine_halt(c, ENGINE_HALT_FOREIGN, "instance %s (%s) %s, and the "
		    "upgrade did not terminate it: a health-check replacement, a person or "
		    "another tool. Find out why; `bbctl resume` then accepts the group as it "
		    "is", n->id, engine_role_name(n->role), why);
	}
	return ENGINE_NEXT;
}

static bool
tracked(const struct engine_upgrade *u, const char *id)
{
	return engine_node_index(u, id) >= 0;
}

/* The slots that wait for a new instance: terminated victims, failed surge nodes. */
static bool
awaits_successor(const struct engine_node *n)
{
	if (n->replaced_by >= 0)
		return false;
	if (n->purpose == ENGINE_PURPOSE_VICTIM)
		return n->step == ENGINE_STEP_TERMINATING || n->step == ENGINE_STEP_AWAITING;
	if (n->purpose == ENGINE_PURPOSE_RETRY && n->replaces < 0)
		return n->step == ENGINE_STEP_TERMINATING || n->step == ENGINE_STEP_GONE;
	return false;
}

/* The slots in order of their node, so that the oldest victim is served first. */
static size_t
slots(const struct engine_upgrade *u, int *slot)
{
	size_t n = 0;

	for (size_t i = 0; i < u->nnodes; i++)
		if (awaits_successor(&u->nodes[i]))
			slot[n++] = (int)i;
	return n;
}

static int
members_tracked(const struct engine_ctx *c)
{
	int n = 0;

	for (size_t i = 0; i < c->u->nnodes; i++)
		if (engine_alive(&c->u->nodes[i]) &&
		    engine_in_group(engine_obs_inst(c->o, c->u->nodes[i].id)))
			n++;
	return n;
}

static void
add_fact(struct engine_decision *d, const struct engine_obs_instance *in, int slot)
{
	struct engine_fact *f = &d->facts[d->nfacts++];

	engine_strlcpy(f->id, in->id, sizeof(f->id));
	engine_strlcpy(f->ip, in->ip, sizeof(f->ip));
	f->protected = in->protected;
	f->replaces = slot;
	engine_add_target(&d->act, in->id);
}

/*
 * New instances are ours when the group launched them to reach the desired count the
 * upgrade set: more than that is someone else's (an attach, a manual launch).
 */
static int
adopt(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs_asg *a = &c->o->asg;
	const struct engine_obs_instance *fresh[ENGINE_NODES_MAX];
	int slot[ENGINE_TRACKED_MAX];
	size_t nfresh = 0, nslot;

	for (size_t i = 0; i < a->ninst; i++)
		if (engine_in_group(&a->inst[i]) && !tracked(u, a->inst[i].id))
			fresh[nfresh++] = &a->inst[i];
	if (nfresh == 0)
		return ENGINE_NEXT;
	if (members_tracked(c) + (int)nfresh > a->desired ||
	    u->nnodes + nfresh > ENGINE_TRACKED_MAX)
		return engine_halt(c, ENGINE_HALT_FOREIGN, "instance %s appeared in the group "
		    "but the upgrade did not launch it (desired %d, %d members): someone else "
		    "added it. Remove it or `bbctl resume` to accept it", fresh[0]->id,
		    a->desired, members_tracked(c) + (int)nfresh);
	engine_act(c, ENGINE_ACT_ADOPT, "new instance%s %s%s launched by the group for "
	    "the upgrade", nfresh > 1 ? "s" : "", fresh[0]->id, nfresh > 1 ? ", ..." : "");
	nslot = slots(u, slot);
	for (size_t i = 0; i < nfresh; i++)
		add_fact(c->d, fresh[i], i < nslot ? slot[i] : -1);
	return ENGINE_DECIDED;
}

/* Never finalize with a node in ERROR; a new node's failure goes to the policy. */
static int
check_errors(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];
		const struct engine_obs_znode *z;

		if (n->step != ENGINE_STEP_LIVE || n->purpose == ENGINE_PURPOSE_RETRY ||
		    (z = engine_node_z(c->o, n)) == NULL || z->state != ZDU_NODE_ERROR)
			continue;
		if (n->role == ENGINE_ROLE_ORIGINAL)
			return engine_halt(c, ENGINE_HALT_NODE_ERROR, "original node %s (%s) is "
			    "in ERROR, and the upgrade never touched it. Shut Bitbucket down "
			    "gracefully on it (it then goes OFFLINE), or fix it, then `bbctl "
			    "resume`", n->id, z->ip);
		if (engine_reversing(u) ? !n->reverse_born :
		    u->reverse_requested != ENGINE_MODE_FORWARD)
			continue;	/* a node on <to>: the reversal replaces it */
		return engine_node_failure(c, (int)i, ENGINE_HALT_NODE_ERROR, "is in ERROR");
	}
	return ENGINE_NEXT;
}

int
engine_watch_group(struct engine_ctx *c)
{
	int r;

	if ((r = check_counts(c)) != ENGINE_NEXT || (r = check_vanished(c)) != ENGINE_NEXT ||
	    (r = adopt(c)) != ENGINE_NEXT)
		return r;
	return check_errors(c);
}

/*
 * After a halt the operator may have changed things on purpose: forget the nodes
 * that are gone, and take the group's counts if they are the stack's (the template
 * ties desired to ClusterNodeMin). Anything else still halts.
 */
int
engine_rebase(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs *o = c->o;
	struct engine_decision *d = c->d;

	engine_act(c, ENGINE_ACT_REBASE, "resumed after a halt: accept the group as it is");
	for (size_t i = 0; i < u->nnodes; i++)
		if (engine_alive(&u->nodes[i]) &&
		    absence(engine_obs_inst(o, u->nodes[i].id)) != NULL)
			engine_add_target(&d->act, u->nodes[i].id);
	d->record.min = u->expect_min;
	d->record.max = u->expect_max;
	d->record.desired = u->expect_desired;
	if (u->stack.step == ENGINE_SC_IDLE &&
	    counts_are(&o->asg, o->stack.min, o->stack.max, o->stack.min)) {
		d->record.min = o->stack.min;
		d->record.max = o->stack.max;
		d->record.desired = o->stack.min;
	}
	return ENGINE_DECIDED;
}
