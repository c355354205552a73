/*
 * The third mechanism, remove nodes without replacement (behaviours 8-10), used by
 * step 7 (retire the last k), the literal order's final removal, and every reversal:
 * choose the leavers, drain them, protect the survivors from scale-in and unprotect
 * the leavers (while they drain), lower the counts through a stack change, and confirm
 * that exactly the leavers went, from the group and from /rest/zdu/cluster.
 *
 * TerminateInstanceInAutoScalingGroup with a decrement is refused while desired = min
 * (always, in this stack), so the counts go down through the stack, and the group's
 * scale-in can then only pick the unprotected, drained leavers (I4). Protection is
 * restored to what it was before the upgrade in the restore step, which follows every
 * removal.
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static bool
leaver(const struct engine_node *n)
{
	return n->purpose == ENGINE_PURPOSE_LEAVER &&
	    (engine_alive(n) || n->step == ENGINE_STEP_TERMINATING);
}

static bool
survivor(const struct engine_node *n)
{
	return engine_alive(n) && n->purpose == ENGINE_PURPOSE_NONE;
}

/*
 * The leavers: nodes not on the version first, then new nodes before originals,
 * least busy first within each group. Forward that is the last k originals (or, in
 * literal order, the k least busy nodes); backward the nodes still on <to>.
 */
static int
choose(struct engine_ctx *c, int excess)
{
	const struct engine_upgrade *u = c->u;
	int bucket[3][ENGINE_TRACKED_MAX];
	size_t nb[3] = { 0, 0, 0 }, taken = 0;

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];
		int b;

		if (!survivor(n) || n->step != ENGINE_STEP_LIVE)
			continue;
		if (engine_node_on(c->o, n, c->want) != 1)
			b = 0;
		else
			b = n->role == ENGINE_ROLE_ORIGINAL ? 2 : 1;
		bucket[b][nb[b]++] = (int)i;
	}
	engine_act(c, ENGINE_ACT_LEAVERS, "remove %d node(s) without replacement", excess);
	for (int b = 0; b < 3; b++) {
		engine_least_busy(c, bucket[b], nb[b]);
		for (size_t j = 0; j < nb[b] && taken < (size_t)excess; j++, taken++)
			engine_add_target(&c->d->act, u->nodes[bucket[b][j]].id);
	}
	if (taken < (size_t)excess)
		return engine_halt(c, ENGINE_HALT_INTERNAL, "%d node(s) to remove, %zu "
		    "candidates", excess, taken);
	return ENGINE_DECIDED;
}

static size_t
collect(const struct engine_upgrade *u, bool (*pred)(const struct engine_node *),
    int *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < u->nnodes; i++)
		if (pred(&u->nodes[i]))
			idx[n++] = (int)i;
	return n;
}

static int
drain_leavers(struct engine_ctx *c, const int *lv, size_t nlv)
{
	const struct engine_upgrade *u = c->u;
	struct engine_decision *d = c->d;
	int serving = engine_serving_count(c), leaving = 0;

	engine_act(c, ENGINE_ACT_DEREGISTER, "drain the node(s) to remove");
	d->act.purpose = ENGINE_PURPOSE_LEAVER;
	for (size_t i = 0; i < nlv; i++) {
		const struct engine_node *n = &u->nodes[lv[i]];

		if (n->step != ENGINE_STEP_LIVE)
			continue;
		engine_add_target(&d->act, n->id);
		leaving += engine_serving(c->o, n);
	}
	if (serving - leaving >= u->n)
		return ENGINE_DECIDED;
	engine_wait(c, ENGINE_WAIT_CAPACITY, "%d nodes serving; removing %d would leave "
	    "fewer than %d", serving, leaving, u->n);
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_CAPACITY, "only %d nodes serve and removing "
		    "%d would leave fewer than %d (I1): look at the unhealthy nodes, then "
		    "`bbctl resume`", serving, leaving, u->n);
	return ENGINE_DECIDED;
}

/*
 * Leavers registered, draining, drained: deregister the live ones and record each one
 * the load balancer let go. ENGINE_NEXT once none is registered: the counts may then
 * go down while they still drain, since the group's own scale-in waits for the
 * draining (behaviour 18), so the drain and the stack change overlap.
 */
static int
drain_step(struct engine_ctx *c, const int *lv, size_t nlv)
{
	const struct engine_upgrade *u = c->u;
	bool live = false;

	for (size_t i = 0; i < nlv; i++) {
		const struct engine_node *n = &u->nodes[lv[i]];
		const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);

		if (n->step == ENGINE_STEP_DRAINED && in != NULL &&
		    in->elb != ENGINE_ELB_NOT_REGISTERED && engine_in_group(in) &&
		    !engine_removal_committed(u))	/* I4: a lagging or changed view */
			return engine_wait(c, ENGINE_WAIT_DRAIN, "%s: the load balancer "
			    "reports it registered again; not removing it yet", n->id);
		if (n->step == ENGINE_STEP_DRAINING &&
		    (in == NULL || in->elb == ENGINE_ELB_NOT_REGISTERED)) {
			/* Gone unseen: the group ended the drain, within the timeout. */
			engine_act(c, ENGINE_ACT_DRAINED, "%s left the load balancer (drain %s)",
			    n->id, in == NULL ? "ended by the group's scale-in" :
			    in->drain_timed_out ? "forced by the draining timeout" : "clean");
			c->d->drain = in != NULL && in->drain_timed_out ?
			    ENGINE_DRAIN_FORCED : ENGINE_DRAIN_CLEAN;
			engine_add_target(&c->d->act, n->id);
			return ENGINE_DECIDED;
		}
		live = live || n->step == ENGINE_STEP_LIVE;
	}
	return live ? drain_leavers(c, lv, nlv) : ENGINE_NEXT;
}

/* After the counts went down: exactly the leavers leave, the group and Bitbucket. */
static int
confirm(struct engine_ctx *c, const int *lv, size_t nlv)
{
	const struct engine_upgrade *u = c->u;

	for (size_t i = 0; i < nlv; i++) {
		const struct engine_node *n = &u->nodes[lv[i]];
		const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);

		if (in != NULL && in->lifecycle != ENGINE_LC_TERMINATED) {
			engine_wait(c, ENGINE_WAIT_SCALE_IN, "%s: %s", n->id,
			    in->lifecycle == ENGINE_LC_TERMINATING ? "scaling in" :
			    "waiting for the group to scale it in");
			if (engine_deadline(c))
				return engine_halt(c, ENGINE_HALT_SCALE_IN_BLOCKED, "the counts "
				    "went down but %s is still in the group: scale-in blocked "
				    "(protection?). Check the instances' protection, then `bbctl "
				    "resume`", n->id);
			return ENGINE_DECIDED;
		}
		if (engine_node_z(c->o, n) != NULL) {
			engine_wait(c, ENGINE_WAIT_SCALE_IN, "%s left the group; waiting for "
			    "Bitbucket to drop it from the cluster", n->id);
			if (engine_deadline(c))
				return engine_halt(c, ENGINE_HALT_ZDU_STATE, "%s left the group but "
				    "/rest/zdu/cluster still lists it as live: look at the cluster, "
				    "then `bbctl resume`", n->id);
			return ENGINE_DECIDED;
		}
		engine_act(c, ENGINE_ACT_GONE, "%s removed without replacement", n->id);
		engine_add_target(&c->d->act, n->id);
		return ENGINE_DECIDED;
	}
	return ENGINE_NEXT;
}

/*
 * The counts of a removal are going, or have gone, down: its leavers leave whatever
 * is asked now. Before that, a drained leaver can still stay.
 */
bool
engine_removal_committed(const struct engine_upgrade *u)
{
	return u->stack.step == ENGINE_SC_EXECUTING || (u->intent_pending &&
	    u->intent.kind == ENGINE_ACT_EXECUTE_CHANGESET) ||
	    u->expect_desired <= u->orig_desired;
}

/* A reversal asked for before the counts went down: the drained leavers stay. */
static int
reregister(struct engine_ctx *c, const int *lv, size_t nlv)
{
	const struct engine_upgrade *u = c->u;

	engine_act(c, ENGINE_ACT_REGISTER, "re-register the drained node(s): the upgrade "
	    "is being reversed and they stay (never leave a node drained but alive)");
	for (size_t i = 0; i < nlv; i++)
		if (u->nodes[lv[i]].step == ENGINE_STEP_DRAINING ||
		    u->nodes[lv[i]].step == ENGINE_STEP_DRAINED)
			engine_add_target(&c->d->act, u->nodes[lv[i]].id);
	if (c->d->act.ntargets > 0)
		return ENGINE_DECIDED;
	return engine_wait(c, ENGINE_WAIT_NODE_READY, "waiting for a safe point");
}

#define STAY	"the nodes that stay, so that scale-in can only pick the leavers"
#define LEAVE	"the leavers, so that scale-in picks them"

int
engine_phase_retire(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	int lv[ENGINE_TRACKED_MAX], sv[ENGINE_TRACKED_MAX], off, excess, r;
	size_t nlv = collect(u, leaver, lv), nsv;

	if (nlv == 0) {
		if (engine_reversing(u) && (r = engine_settle(c)) != ENGINE_NEXT)
			return r;
		engine_count_off(c, &off, &excess);
		if (excess < 0)
			return engine_halt(c, ENGINE_HALT_CAPACITY, "the group has %d node(s) "
			    "fewer than the %d it started with: find out where they went, then "
			    "`bbctl resume`", -excess, u->n);
		if (off > excess)	/* the replace phase leaves at most the excess */
			return engine_halt(c, ENGINE_HALT_INTERNAL, "%d node(s) off %s but %d "
			    "to remove", off, c->want, excess);
		if (excess > 0)
			return choose(c, excess);
		return engine_stack_change(c, c->want, u->orig_min, u->orig_max, false);
	}
	if (u->reverse_requested != ENGINE_MODE_FORWARD && !engine_removal_committed(u)) {
		if (u->stack.step == ENGINE_SC_CREATED)	/* deleted, not executed */
			return engine_stack_change(c, c->want, u->orig_min, u->orig_max,
			    true);
		return reregister(c, lv, nlv);
	}
	/*
	 * The drain first: nothing scales in before the counts go down, so the
	 * protection calls and their lag run while the leavers drain.
	 */
	nsv = collect(u, survivor, sv);
	if ((r = drain_step(c, lv, nlv)) != ENGINE_NEXT ||
	    (r = engine_protection_ask(c, sv, nsv, true, STAY)) != ENGINE_NEXT ||
	    (r = engine_protection_ask(c, lv, nlv, false, LEAVE)) != ENGINE_NEXT ||
	    (r = engine_protection(c, sv, nsv, true, STAY)) != ENGINE_NEXT ||
	    (r = engine_protection(c, lv, nlv, false, LEAVE)) != ENGINE_NEXT)
		return r;
	if ((r = engine_stack_change(c, c->want, u->orig_min, u->orig_max, true)) !=
	    ENGINE_NEXT)
		return r;
	return confirm(c, lv, nlv);
}
