/*
 * Steps 3 and 4: protect the originals from scale-in, suspend exactly the processes
 * that could move the group under us, and scale out with the new version; in a
 * reversal, the same scale-out towards the original version when nodes on <to> must
 * be replaced (not when they can simply be removed).
 *
 * Protection and suspension are not instantly visible (behaviour 10): after asking,
 * the core waits for AWS to show them rather than asking again.
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

/*
 * Asks for the scale-in protection of the nodes idx[] to be on: the call, or
 * ENGINE_NEXT once AWS shows it or it has been asked for (wait false) or ENGINE_NEXT
 * only when AWS shows it, the wait for that meanwhile (wait true).
 */
static int
protection(struct engine_ctx *c, const int *idx, size_t n, bool on, const char *why,
    bool wait)
{
	const struct engine_upgrade *u = c->u;
	enum engine_prot_req req = on ? ENGINE_PROT_ON : ENGINE_PROT_OFF;
	struct engine_action a;
	bool asked = true;

	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < n; i++) {
		const struct engine_node *nd = &u->nodes[idx[i]];
		const struct engine_obs_instance *in = engine_obs_inst(c->o, nd->id);

		if (in == NULL || in->protected == on)
			continue;
		engine_add_target(&a, nd->id);
		asked = asked && nd->prot_req == req;
	}
	if (a.ntargets == 0 || (asked && !wait))
		return ENGINE_NEXT;
	if (asked) {
		engine_wait(c, ENGINE_WAIT_PROTECTION, "waiting for AWS to show scale-in "
		    "protection %s on %zu instance(s), first %s", on ? "on" : "off",
		    a.ntargets, a.targets[0]);
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_PROTECTION, "scale-in protection "
			    "%s on %s never showed: set it by hand (aws autoscaling "
			    "set-instance-protection), then `bbctl resume`", on ? "on" : "off",
			    a.targets[0]);
		return ENGINE_DECIDED;
	}
	engine_act(c, ENGINE_ACT_PROTECT, "%s scale-in protection of %zu instance(s): %s",
	    on ? "set" : "clear", a.ntargets, why);
	memcpy(c->d->act.targets, a.targets, sizeof(a.targets));
	c->d->act.ntargets = a.ntargets;
	c->d->act.protect = on;
	return ENGINE_DECIDED;
}

/* ENGINE_NEXT when AWS shows the protection; else the call, or the wait for it. */
int
engine_protection(struct engine_ctx *c, const int *idx, size_t n, bool on,
    const char *why)
{
	return protection(c, idx, n, on, why, true);
}

/*
 * ENGINE_NEXT once the protection is asked for, shown or not: so that two calls can
 * go out before one wait for both to show (behaviour 10's lag, paid once).
 */
int
engine_protection_ask(struct engine_ctx *c, const int *idx, size_t n, bool on,
    const char *why)
{
	return protection(c, idx, n, on, why, false);
}

/* wait: until AWS shows it; else only until it has been asked for. */
static int
protect_originals(struct engine_ctx *c, bool wait)
{
	int idx[ENGINE_TRACKED_MAX];
	size_t n = 0;

	for (size_t i = 0; i < c->u->nnodes; i++)
		if (c->u->nodes[i].role == ENGINE_ROLE_ORIGINAL &&
		    engine_alive(&c->u->nodes[i]))
			idx[n++] = (int)i;
	return (wait ? engine_protection : engine_protection_ask)(c, idx, n, true,
	    "the originals, so that a rolled-back stack change can never remove one");
}

/*
 * Exactly AlarmNotification, AZRebalance, ScheduledActions, minus what was already;
 * wait as for protect_originals().
 */
static int
suspend(struct engine_ctx *c, bool wait)
{
	const struct engine_upgrade *u = c->u;
	unsigned want = ENGINE_PROC_OURS & ~u->suspended_before;
	unsigned missing = want & ~c->o->asg.suspended;
	char list[160], before[160];

	if (missing == 0 || ((missing & ~u->suspended_by_us) == 0 && !wait))
		return ENGINE_NEXT;
	if ((missing & ~u->suspended_by_us) == 0) {
		engine_wait(c, ENGINE_WAIT_PROCESSES, "waiting for AWS to show the suspended "
		    "processes");
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_PROCESSES, "the suspended processes "
			    "never showed on the group: check it, then `bbctl resume`");
		return ENGINE_DECIDED;
	}
	engine_process_list(missing, list, sizeof(list));
	engine_process_list(u->suspended_before, before, sizeof(before));
	engine_act(c, ENGINE_ACT_SUSPEND, "suspend %s (the CPU alarms, AZ rebalancing and "
	    "scheduled actions must not move the group during the upgrade); suspended "
	    "before us and left alone: %s", list, before);
	c->d->act.processes = missing;
	return ENGINE_DECIDED;
}

/*
 * Reversal: the group complete, and every live node saying which version it runs,
 * before they are counted.
 */
int
engine_settle(struct engine_ctx *c)
{
	int alive = 0;

	for (size_t i = 0; i < c->u->nnodes; i++)
		alive += engine_alive(&c->u->nodes[i]) &&
		    c->u->nodes[i].purpose != ENGINE_PURPOSE_RETRY;
	/* A launch still to come would run whatever version the stack says now. */
	if (alive != c->u->expect_desired) {
		engine_wait(c, ENGINE_WAIT_SETTLE, "waiting for the group's %d instances "
		    "(%d now) before planning the way back", c->u->expect_desired, alive);
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_LAUNCH_FAILED, "the group never "
			    "reached %d instances (%d): look at its activities, then `bbctl "
			    "resume`", c->u->expect_desired, alive);
		return ENGINE_DECIDED;
	}
	for (size_t i = 0; i < c->u->nnodes; i++) {
		const struct engine_node *n = &c->u->nodes[i];

		if (!engine_alive(n) || n->purpose == ENGINE_PURPOSE_RETRY ||
		    engine_node_on(c->o, n, c->want) != -1)
			continue;
		engine_wait(c, ENGINE_WAIT_SETTLE, "waiting for %s to report its version",
		    n->id);
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_NODE_TIMEOUT, "node %s never reported "
			    "its version to /rest/zdu/cluster: look at it, then `bbctl resume`",
			    n->id);
		return ENGINE_DECIDED;
	}
	return ENGINE_NEXT;
}

/* Live nodes not on the version this mode moves to, and how many nodes exceed N. */
void
engine_count_off(const struct engine_ctx *c, int *off, int *excess)
{
	int alive = 0;

	*off = 0;
	for (size_t i = 0; i < c->u->nnodes; i++) {
		const struct engine_node *n = &c->u->nodes[i];

		if (!engine_alive(n) || n->purpose == ENGINE_PURPOSE_RETRY)
			continue;
		alive++;
		if (engine_node_on(c->o, n, c->want) == 0)
			(*off)++;
	}
	*excess = alive - c->u->n;
}

static int
scale_out(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	int off, excess, r;

	/*
	 * Protection and suspension were only asked for (their lag runs while the
	 * change set is made): AWS must show both before the change runs.
	 */
	if (!engine_reversing(u)) {
		if (u->stack.step == ENGINE_SC_CREATED &&
		    ((r = protect_originals(c, true)) != ENGINE_NEXT ||
		    (r = suspend(c, true)) != ENGINE_NEXT))
			return r;
		return engine_stack_change(c, u->to, u->orig_min + u->surge,
		    u->orig_max + u->surge, false);
	}
	/* A change under way finishes: new nodes arriving must not change the plan. */
	if (u->stack.step != ENGINE_SC_IDLE)
		return engine_stack_change(c, u->stack.version, u->stack.min, u->stack.max,
		    false);
	if ((r = engine_settle(c)) != ENGINE_NEXT)
		return r;
	engine_count_off(c, &off, &excess);
	if (off <= excess)
		return ENGINE_NEXT;	/* they can all go without replacement */
	return engine_stack_change(c, u->from, u->orig_min + u->surge,
	    u->orig_max + u->surge, false);
}

/*
 * Nodes launched from now on run what the stack says: before waiting for the surge or
 * taking a node out, the stack must still say what the scale-out made it say (a
 * rollback by someone else, or a halt and resume, may have changed it). If not, back
 * to the scale-out, which changes it again.
 */
bool
engine_stack_planned(const struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs_stack *s = &c->o->stack;
	bool ok = strcmp(s->version, c->want) == 0;

	if (!engine_reversing(u))
		ok = ok && s->min == u->orig_min + u->surge &&
		    s->max == u->orig_max + u->surge;
	return ok || u->stack.step != ENGINE_SC_IDLE;
}

int
engine_stack_as_planned(struct engine_ctx *c)
{
	const struct engine_obs_stack *s = &c->o->stack;

	if (engine_stack_planned(c))
		return ENGINE_NEXT;
	engine_act(c, ENGINE_ACT_PHASE, "the stack says BitbucketVersion=%s "
	    "ClusterNodeMin=%d ClusterNodeMax=%d, not what the scale-out set: back to it",
	    s->version, s->min, s->max);
	c->d->next_phase = ENGINE_PH_SCALE_OUT;
	return ENGINE_DECIDED;
}

int
engine_phase_setup(struct engine_ctx *c)
{
	switch (c->u->phase) {
	case ENGINE_PH_PROTECT:
		return protect_originals(c, false);
	case ENGINE_PH_SUSPEND:
		return suspend(c, false);
	case ENGINE_PH_SCALE_OUT:
		return scale_out(c);
	default:
		return engine_halt(c, ENGINE_HALT_INTERNAL, "setup in phase %s",
		    engine_phase_name(c->u->phase));
	}
}
