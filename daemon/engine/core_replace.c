/*
 * The second mechanism, replace a node (behaviours 11, 12, 16-18): deregister it, wait
 * until the load balancer no longer has it registered (clean, or forced by the
 * draining timeout), terminate it through the group without decrementing desired, one
 * termination at a time, follow that activity, then wait for the replacement to be
 * healthy and ACTIVE on the version. Also steps 5 and 6: the surge (the canary) and the
 * loop over the originals, least busy first, up to k out of service at once.
 *
 * A node is never terminated while registered or draining (I4), and a victim is chosen
 * only when no intent is open and taking it out leaves N nodes serving (I1).
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static bool
victim_in_flight(const struct engine_node *n)
{
	if (n->purpose == ENGINE_PURPOSE_VICTIM)
		return n->step == ENGINE_STEP_DRAINING || n->step == ENGINE_STEP_DRAINED ||
		    n->step == ENGINE_STEP_TERMINATING || n->step == ENGINE_STEP_AWAITING;
	if (n->purpose == ENGINE_PURPOSE_RETRY)
		return engine_alive(n) || n->step == ENGINE_STEP_TERMINATING;
	return false;
}

/* Where a booting node stands, for progress markers: each stage resets the deadline. */
static const char *
stage(const struct engine_obs *o, const struct engine_node *n)
{
	const struct engine_obs_instance *in = engine_obs_inst(o, n->id);
	const struct engine_obs_znode *z = engine_node_z(o, n);

	if (in == NULL || in->lifecycle == ENGINE_LC_PENDING)
		return "launching";
	if (in->elb != ENGINE_ELB_IN_SERVICE)
		return "InService, not yet healthy in the load balancer";
	if (z == NULL)
		return "healthy, not yet in /rest/zdu/cluster";
	if (z->state != ZDU_NODE_ACTIVE)
		return zdu_node_state_name(z->state);
	return "ACTIVE";
}

static const char *
nodes_role(const struct engine_node *n)
{
	return n->role == ENGINE_ROLE_ORIGINAL ? "original" : "new";
}

/* The action just written into d is on n. */
static int
act_on(struct engine_ctx *c, const struct engine_node *n)
{
	engine_add_target(&c->d->act, n->id);
	return ENGINE_DECIDED;
}

static int
step_live(struct engine_ctx *c, const struct engine_node *n)
{
	const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);

	if (in != NULL && in->elb == ENGINE_ELB_NOT_REGISTERED) {
		engine_act(c, ENGINE_ACT_DRAINED, "failed node %s is not registered with the "
		    "load balancer", n->id);
		c->d->drain = ENGINE_DRAIN_CLEAN;
		return act_on(c, n);
	}
	engine_act(c, ENGINE_ACT_DEREGISTER, "take failed node %s out of the load balancer "
	    "before replacing it", n->id);
	c->d->act.purpose = ENGINE_PURPOSE_RETRY;
	return act_on(c, n);
}

static int
step_register(struct engine_ctx *c, const struct engine_node *n)
{
	engine_act(c, ENGINE_ACT_REGISTER, "re-register %s with the load balancer: the "
	    "upgrade is being reversed and %s stays (never leave a node drained but alive)",
	    n->id, n->id);
	return act_on(c, n);
}

static int
step_draining(struct engine_ctx *c, const struct engine_node *n, bool expired)
{
	const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);

	if (expired)
		return engine_halt(c, ENGINE_HALT_DRAIN_STUCK, "%s was deregistered but the "
		    "load balancer still had it registered past the deadline. It is drained "
		    "but alive: `bbctl resume` waits again; or re-register it (aws elb "
		    "register-instances-with-load-balancer)", n->id);
	if (in != NULL && in->elb == ENGINE_ELB_NOT_REGISTERED) {
		engine_act(c, ENGINE_ACT_DRAINED, "%s left the load balancer (drain %s)",
		    n->id, in->drain_timed_out ? "forced by the draining timeout" : "clean");
		c->d->drain = in->drain_timed_out ? ENGINE_DRAIN_FORCED : ENGINE_DRAIN_CLEAN;
		return act_on(c, n);
	}
	if (n->purpose == ENGINE_PURPOSE_VICTIM &&
	    c->u->reverse_requested != ENGINE_MODE_FORWARD)
		return step_register(c, n);
	return engine_wait(c, ENGINE_WAIT_DRAIN, "%s: draining", n->id);
}

static int
step_drained(struct engine_ctx *c, int i, const struct engine_node *n, bool expired)
{
	const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);

	if (expired)
		return engine_halt(c, ENGINE_HALT_TERMINATE_FAILED, "%s is drained but could "
		    "not be terminated before the deadline: a scaling activity kept running. "
		    "It is out of the load balancer but alive: `bbctl resume` tries again",
		    n->id);
	if (n->purpose == ENGINE_PURPOSE_VICTIM &&
	    c->u->reverse_requested != ENGINE_MODE_FORWARD)
		return step_register(c, n);
	if (in == NULL || in->elb != ENGINE_ELB_NOT_REGISTERED)	/* I4; a lagging view */
		return engine_wait(c, ENGINE_WAIT_DRAIN, "%s: the load balancer reports it "
		    "registered again; not terminating it", n->id);
	if (engine_termination_in_flight(c, i) || c->o->asg.activity_in_progress)
		return engine_wait(c, ENGINE_WAIT_TERMINATION, "%s drained; waiting for the "
		    "scaling activity in progress (one termination at a time)", n->id);
	engine_act(c, ENGINE_ACT_TERMINATE, "terminate %s (%s, drained %s) without "
	    "decrementing desired: the group replaces it", n->id, nodes_role(n),
	    n->drain == ENGINE_DRAIN_FORCED ? "forced" : "clean");
	return act_on(c, n);
}

static int
step_terminating(struct engine_ctx *c, const struct engine_node *n, bool expired)
{
	const struct engine_obs_instance *in = engine_obs_inst(c->o, n->id);
	const struct engine_obs_activity *a = engine_obs_activity_id(c->o, n->activity);

	if (a == NULL)
		a = engine_obs_activity_for(c->o, n->id);
	if (a != NULL && (a->status == ENGINE_ACTIVITY_FAILED ||
	    a->status == ENGINE_ACTIVITY_CANCELLED))
		return engine_halt(c, ENGINE_HALT_TERMINATE_FAILED, "the termination of %s "
		    "%s: %s. It is out of the load balancer: look at the group's activities, "
		    "then `bbctl resume`", n->id, a->status == ENGINE_ACTIVITY_FAILED ?
		    "failed" : "was cancelled", a->message);
	if (in == NULL || in->lifecycle == ENGINE_LC_TERMINATED) {
		engine_act(c, ENGINE_ACT_GONE, "%s left the group", n->id);
		return act_on(c, n);
	}
	if (expired)
		return engine_halt(c, ENGINE_HALT_TERMINATE_FAILED, "the termination of %s "
		    "did not finish before the deadline; look at the group's activities, "
		    "then `bbctl resume`", n->id);
	return engine_wait(c, ENGINE_WAIT_TERMINATION, "%s: terminating%s", n->id,
	    a == NULL ? "" : a->status == ENGINE_ACTIVITY_SUCCESSFUL ? " (activity done)" :
	    " (activity running)");
}

/* The newest failed launch, to say why no replacement came. */
static const char *
launch_failure(const struct engine_obs *o)
{
	for (size_t i = 0; i < o->asg.nact; i++)
		if (!o->asg.act[i].terminate && o->asg.act[i].status == ENGINE_ACTIVITY_FAILED)
			return o->asg.act[i].message;
	return "no failed launch activity";
}

static int
step_awaiting(struct engine_ctx *c, const struct engine_node *n, bool expired)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_node *r;
	const struct engine_obs_znode *z;

	if (n->replaced_by < 0) {
		if (expired)
			return engine_halt(c, ENGINE_HALT_LAUNCH_FAILED, "no replacement for %s "
			    "launched before the deadline (%s): look at the group's activities "
			    "(capacity, limits), then `bbctl resume`", n->id,
			    launch_failure(c->o));
		return engine_wait(c, ENGINE_WAIT_LAUNCH, "%s gone; its replacement is not "
		    "launched yet", n->id);
	}
	r = &u->nodes[n->replaced_by];
	z = engine_node_z(c->o, r);
	/* A rollback asked for: a replacement that failed is the rollback's to replace. */
	if (u->reverse_requested != ENGINE_MODE_FORWARD && (expired ||
	    (z != NULL && z->state == ZDU_NODE_ERROR))) {
		engine_act(c, ENGINE_ACT_NODE_FAILED, "replacement %s of %s failed; the "
		    "rollback replaces it", r->id, n->id);
		c->d->act.purpose = ENGINE_PURPOSE_NONE;
		return act_on(c, r);
	}
	if (engine_ready_on(c->o, r, c->want)) {
		engine_act(c, ENGINE_ACT_REPLACED, "%s replaced by %s, ACTIVE on %s", n->id,
		    r->id, c->want);
		return act_on(c, n);
	}
	if (z != NULL && z->state == ZDU_NODE_ACTIVE && z->version[0] != '\0' &&
	    strcmp(z->version, c->want) != 0)
		return engine_halt(c, ENGINE_HALT_NODE_ERROR, "the replacement %s of %s "
		    "runs %s, not %s: the stack's version did not reach it. Check the "
		    "stack's BitbucketVersion, then `bbctl resume`", r->id, n->id, z->version,
		    c->want);
	if (expired)
		return engine_node_failure(c, n->replaced_by, ENGINE_HALT_NODE_TIMEOUT,
		    "made no progress before its deadline");
	return engine_wait(c, ENGINE_WAIT_NODE_READY, "replacement %s of %s: %s", r->id,
	    n->id, stage(c->o, r));
}

static int
victim_step(struct engine_ctx *c, int i, bool expired)
{
	const struct engine_node *n = &c->u->nodes[i];

	switch (n->step) {
	case ENGINE_STEP_LIVE:
		return step_live(c, n);
	case ENGINE_STEP_DRAINING:
		return step_draining(c, n, expired);
	case ENGINE_STEP_DRAINED:
		return step_drained(c, i, n, expired);
	case ENGINE_STEP_TERMINATING:
		return step_terminating(c, n, expired);
	case ENGINE_STEP_AWAITING:
		return step_awaiting(c, n, expired);
	default:
		return ENGINE_NEXT;
	}
}

/*
 * Moves the nodes being replaced on: the first action wins; if all of them wait, one
 * wait naming each (so that progress on any of them resets the deadline), and when the
 * deadline passes, the failure of the first one.
 */
int
engine_progress_victims(struct engine_ctx *c)
{
	char marker[ENGINE_MARKER_MAX] = "";
	enum engine_wait w = ENGINE_WAIT_NONE;
	size_t off = 0;
	int first = -1;

	for (size_t i = 0; i < c->u->nnodes; i++) {
		if (!victim_in_flight(&c->u->nodes[i]) ||
		    victim_step(c, (int)i, false) != ENGINE_DECIDED)
			continue;
		if (c->d->verdict != ENGINE_WAIT)
			return ENGINE_DECIDED;
		if (first < 0) {
			first = (int)i;
			w = c->d->wait;
		}
		if (off + 1 < sizeof(marker))
			off += (size_t)snprintf(marker + off, sizeof(marker) - off, "%s%s",
			    off ? "; " : "", c->d->progress);
	}
	if (first < 0)
		return ENGINE_NEXT;
	engine_wait(c, w, "%s", marker);
	if (engine_deadline(c))
		return victim_step(c, first, true);
	return ENGINE_DECIDED;
}

/*
 * A new node failed (ERROR, or no progress before its deadline). The policy decides:
 * halt, replace it once more, or roll back. A reversal never recurses: it halts.
 */
int
engine_node_failure(struct engine_ctx *c, int idx, enum engine_halt code,
    const char *what)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_node *f = &u->nodes[idx];
	bool canary = u->phase <= ENGINE_PH_SURGE;

	if (engine_reversing(u) || u->approved ||
	    u->on_failure == ENGINE_ON_FAILURE_HALT ||
	    (u->on_failure == ENGINE_ON_FAILURE_RETRY && f->retries >= 1))
		return engine_halt(c, code, "node %s (%s) %s on %s.%s%s Look at its "
		    "atlassian-bitbucket.log (e.g. HomeLockFailedException), then `bbctl "
		    "resume` to wait again%s", f->id, engine_node_ip(c->o, f), what, c->want,
		    canary && !engine_reversing(u) ? " The surge node is the canary: no "
		    "original was touched." : "", f->retries >= 1 ? " It was already "
		    "replaced once." : "", engine_reversing(u) ? "" : ", or `bbctl rollback`");
	if (u->on_failure == ENGINE_ON_FAILURE_RETRY) {
		engine_act(c, ENGINE_ACT_NODE_FAILED, "node %s %s; replacing it once more "
		    "(on_failure=retry)", f->id, what);
		c->d->act.purpose = ENGINE_PURPOSE_RETRY;
	} else {
		engine_act(c, ENGINE_ACT_NODE_FAILED, "node %s %s; rolling back "
		    "automatically (on_failure=rollback)", f->id, what);
		c->d->act.purpose = ENGINE_PURPOSE_NONE;
	}
	engine_add_target(&c->d->act, f->id);
	return ENGINE_DECIDED;
}

/* Nodes born in this direction: the surge and replacements forward, re-surge back. */
static bool
born_here(const struct engine_upgrade *u, const struct engine_node *n)
{
	if (engine_reversing(u))
		return n->reverse_born;
	return n->role != ENGINE_ROLE_ORIGINAL;
}

/* Step 5: the group at its new size and every new node ready on the version. */
int
engine_phase_surge(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	int alive = 0, born = 0, ready = 0, laggard = -1, r;

	if ((r = engine_progress_victims(c)) != ENGINE_NEXT)
		return r;
	if (!engine_reversing(u) && (r = engine_stack_as_planned(c)) != ENGINE_NEXT)
		return r;
	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		if (!engine_alive(n) || n->purpose == ENGINE_PURPOSE_RETRY)
			continue;
		alive++;
		if (!born_here(u, n))
			continue;
		born++;
		/* Forward the surge is the canary: it must run <to>. Backward, a node on
		 * the wrong version is replaced by the next phase. */
		if (engine_reversing(u) ? engine_serving(c->o, n) :
		    engine_ready_on(c->o, n, c->want))
			ready++;
		else if (laggard < 0)
			laggard = (int)i;
	}
	if (alive == u->expect_desired && ready == born)
		return ENGINE_NEXT;
	engine_wait(c, ENGINE_WAIT_NODE_READY, "surge: %d of %d instances, %d new ready "
	    "on %s%s%s", alive, u->expect_desired, ready, c->want, laggard >= 0 ? "; " :
	    "", laggard >= 0 ? stage(c->o, &u->nodes[laggard]) : "");
	if (!engine_deadline(c))
		return ENGINE_DECIDED;
	if (laggard >= 0)
		return engine_node_failure(c, laggard, ENGINE_HALT_NODE_TIMEOUT,
		    "did not become healthy and ACTIVE before its deadline");
	return engine_halt(c, ENGINE_HALT_LAUNCH_FAILED, "the surge instances did not "
	    "launch before the deadline (%d of %d; %s). No original was touched: look at "
	    "the group's activities, then `bbctl resume` or `bbctl cancel`", alive,
	    u->expect_desired, launch_failure(c->o));
}

/* The nodes this phase replaces: the originals forward, nodes on <to> backward. */
static bool
candidate(const struct engine_ctx *c, const struct engine_node *n)
{
	if (n->step != ENGINE_STEP_LIVE || n->purpose != ENGINE_PURPOSE_NONE)
		return false;
	if (!engine_reversing(c->u))
		return n->role == ENGINE_ROLE_ORIGINAL;
	return engine_node_on(c->o, n, c->want) == 0;
}

/* How many nodes the phase leaves to the retire step: the last k (none in literal order). */
static int
keep(const struct engine_upgrade *u)
{
	return u->literal_order && !engine_reversing(u) ? 0 : u->surge;
}

static int
start_victim(struct engine_ctx *c, int v)
{
	const struct engine_node *n = &c->u->nodes[v];
	const struct engine_obs_znode *z = engine_node_z(c->o, n);

	engine_act(c, ENGINE_ACT_DEREGISTER, "drain %s (%s; tasks %lld, users %lld): the "
	    "least busy %s", n->id, engine_node_ip(c->o, n),
	    z ? (long long)z->tasks : -1LL, z ? (long long)z->users : -1LL,
	    engine_reversing(c->u) ? "node on the new version" : "original");
	c->d->act.purpose = ENGINE_PURPOSE_VICTIM;
	return act_on(c, n);
}

/* Step 6 (and its reverse): choose the next victim when a slot is free. */
int
engine_phase_replace(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	int cand[ENGINE_TRACKED_MAX], inflight = 0, r, serving;
	size_t ncand = 0;

	for (size_t i = 0; i < u->nnodes; i++) {
		if (candidate(c, &u->nodes[i]))
			cand[ncand++] = (int)i;
		if (victim_in_flight(&u->nodes[i]))
			inflight++;
	}
	r = engine_progress_victims(c);
	if (r == ENGINE_DECIDED && c->d->verdict != ENGINE_WAIT)
		return r;
	/* Here d holds the wait of the nodes in flight, if any. */
	if ((int)ncand <= keep(u) || inflight >= u->surge || u->pause_requested ||
	    u->reverse_requested != ENGINE_MODE_FORWARD) {
		if (r == ENGINE_DECIDED)
			return r;
		/* Done only when every node has said which version it runs. */
		if ((int)ncand <= keep(u))
			return engine_reversing(u) ? engine_settle(c) : ENGINE_NEXT;
		return engine_wait(c, ENGINE_WAIT_NODE_READY, "waiting for a safe point");
	}
	/* Replacements run what the stack says: never take a node out if it changed. */
	if (!engine_stack_planned(c))
		return r == ENGINE_DECIDED ? r : engine_stack_as_planned(c);
	engine_least_busy(c, cand, ncand);
	serving = engine_serving_count(c);
	if (serving - engine_serving(c->o, &u->nodes[cand[0]]) >= u->n)
		return start_victim(c, cand[0]);
	if (r != ENGINE_NEXT)
		return r;
	engine_wait(c, ENGINE_WAIT_CAPACITY, "%d nodes serving; waiting for %d before "
	    "taking %s out", serving, u->n + 1, u->nodes[cand[0]].id);
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_CAPACITY, "only %d nodes serve (healthy in "
		    "the load balancer and ACTIVE) and the upgrade needs %d before taking one "
		    "out (I1): look at the unhealthy nodes, then `bbctl resume`", serving,
		    u->n + 1);
	return ENGINE_DECIDED;
}
