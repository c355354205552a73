/*
 * The running upgrade: the loop of core.h's top comment on the libuv loop.
 *
 *	observe (the parts the last decision asked for) -> decide ->
 *	  ACT:  bookkeeping: apply, commit, decide again on the same observation;
 *	        a call: guard, commit the intent, perform, apply the outcome, commit,
 *	        then observe again at once;
 *	  WAIT: a timer (the poll interval; backoff after transient errors), and the
 *	        deadline of the progress marker, charged on CLOCK_MONOTONIC and
 *	        persisted as the budget left, so that a restart neither resets nor
 *	        loses it;
 *	  HALT, DONE: commit, tell, stop polling.
 *
 * Never: perform a call whose intent is not committed; decide on an observation
 * that a command has made stale without reading again (commands wake the loop);
 * block the loop (every step is a callback).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/engine/shell.h"
#include "daemon/store.h"

#define EVENTS_SLACK_MS	(10 * 60 * 1000)	/* clocks differ; events are read back further */
#define BACKOFF_MAX_MS	(60 * 1000)
#define VISIBLE_MIN_MS	(10 * 1000)

static unsigned poll_override;

static void	observe(struct shell_run *);
static void	decide(struct shell_run *);
static void	schedule(struct shell_run *, uint64_t ms);

void
engine_set_poll_ms(unsigned ms)
{
	poll_override = ms;
}

unsigned
engine_poll_ms(const struct shell *sh)
{
	return poll_override ? poll_override : (unsigned)sh->cfg->poll_interval_ms;
}

static void
on_timer(uv_timer_t *t)
{
	observe(t->data);
}

static void
on_closed(uv_handle_t *h)
{
	struct shell_run *r = h->data;
	struct shell *sh = r->sh;

	free(r->obs);
	free(r);
	engine_shell_unref(sh);
}

struct shell_run *
engine_run_new(struct shell *sh, struct shell_dep *dep)
{
	struct shell_run *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->obs = calloc(1, sizeof(*r->obs))) == NULL) {
		free(r);
		return NULL;
	}
	r->sh = sh;
	r->dep = dep;
	r->budget.ms = -1;
	r->state = SHELL_RUN_IDLE;
	r->started_mono = engine_mono_ms();
	uv_timer_init(sh->loop, &r->timer);
	r->timer.data = r;
	engine_shell_ref(sh);
	return r;
}

void
engine_run_stop(struct shell_run *r)
{
	if (r == NULL)
		return;
	engine_observe_cancel(r->obs_op);
	engine_act_cancel(r->act_op);
	r->obs_op = NULL;
	r->act_op = NULL;
	r->state = SHELL_RUN_STOPPED;
	uv_close((uv_handle_t *)&r->timer, on_closed);
}

/* The database refused a write: nothing more may be done until it works again. */
static void
store_failed(struct shell_run *r, const char *what)
{
	log_warnx("upgrade %lld: the state database refused a write (%s): the upgrade "
	    "stops here; fix the disk, then restart bbupgraded to resume it",
	    (long long)r->u.id, what);
	r->state = SHELL_RUN_STOPPED;
}

/* --- timing: poll, backoff, deadline ------------------------------------------ */

static bool
bitbucket_wait(enum engine_wait w)
{
	return w == ENGINE_WAIT_ZDU || w == ENGINE_WAIT_CONFIRM || w == ENGINE_WAIT_STABLE;
}

static int64_t
timeout_ms(const struct shell *sh, enum engine_wait w)
{
	switch (w) {
	case ENGINE_WAIT_NONE:
	case ENGINE_WAIT_OBSERVE:
	case ENGINE_WAIT_BACKOFF:
	case ENGINE_WAIT_PAUSED:
		return -1;
	case ENGINE_WAIT_VISIBLE:
		/* AWS's lag is seconds: a few polls, and never less than 10 s. */
		return 4 * (int64_t)engine_poll_ms(sh) > VISIBLE_MIN_MS ?
		    4 * (int64_t)engine_poll_ms(sh) : VISIBLE_MIN_MS;
	case ENGINE_WAIT_STACK_IDLE:
	case ENGINE_WAIT_CHANGESET:
	case ENGINE_WAIT_STACK_UPDATE:
	case ENGINE_WAIT_COUNTS:
		return (int64_t)sh->cfg->stack_timeout_ms;
	default:
		return (int64_t)sh->cfg->node_timeout_ms;
	}
}

/* Bitbucket-only waits poll faster, never more often than once a second. */
static uint64_t
poll_delay(struct shell_run *r, enum engine_wait w)
{
	uint64_t base = engine_poll_ms(r->sh), fast;

	if (!bitbucket_wait(w))
		return base;
	fast = base / 4;
	return fast < 1000 ? (base < 1000 ? base : 1000) : fast;
}

/*
 * Jittered exponential backoff after transient failures; not charged to deadlines.
 * It grows to 16 polls at most (and never beyond a minute): slowing down enough for
 * AWS to recover, without leaving a fast-polling upgrade idle for long.
 */
static uint64_t
backoff(struct shell_run *r)
{
	uint64_t base = engine_poll_ms(r->sh), cap = 16 * base, d = base;

	if (cap > BACKOFF_MAX_MS)
		cap = base > BACKOFF_MAX_MS ? base : BACKOFF_MAX_MS;
	for (int i = 1; i < r->failures && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d / 2 + (uint64_t)(arc4random_uniform((uint32_t)(d / 2 + 1)));
}

/* Charges the time since the last charge to the marker's budget; tells o. */
static void
charge(struct shell_run *r, struct engine_obs *o)
{
	uint64_t now = engine_mono_ms();
	bool timed = r->budget.marker[0] != '\0' && r->budget.ms >= 0;

	/* Transient errors (throttling, 5xx) do not consume the deadline. */
	if (timed && !o->transient) {
		r->budget.ms -= (int64_t)(now - r->budget_t0);
		if (r->budget.ms < 0)
			r->budget.ms = 0;
	}
	r->budget_t0 = now;
	o->deadline_passed = timed && r->budget.ms == 0;
	engine_strlcpy(o->deadline_marker, r->budget.marker, sizeof(o->deadline_marker));
}

static void
schedule(struct shell_run *r, uint64_t ms)
{
	r->state = SHELL_RUN_WAITING;
	uv_timer_start(&r->timer, on_timer, ms, 0);
}

/* --- observe ---------------------------------------------------------------- */

/* The events are read back to a little before the execution's intent. */
static int64_t
events_since(struct shell_run *r)
{
	int64_t at;

	if (r->need_token[0] == '\0' ||
	    store_journal_intent_at(r->sh->store, r->need_token, &at) != 1)
		return 0;
	return at - EVENTS_SLACK_MS;
}

/* Without clients there is nothing to read: the core halts on "access refused". */
static void
no_clients(struct shell_run *r, const char *why)
{
	memset(r->obs, 0, sizeof(*r->obs));
	r->obs->denied = true;
	engine_strlcpy(r->obs->denied_what, why, sizeof(r->obs->denied_what));
	decide(r);
}

static void	on_observed(struct shell_obs *, void *);

static void
observe(struct shell_run *r)
{
	struct shell *sh = r->sh;
	unsigned want = r->need;
	char err[512];

	if (sh->stopping)
		return;
	if (engine_dep_clients(sh, r->dep, err, sizeof(err)) == -1) {
		no_clients(r, err);
		return;
	}
	if (r->u.phase <= ENGINE_PH_RECORD)
		want |= SHELL_OBS_EXTRAS;
	r->state = SHELL_RUN_OBSERVING;
	r->obs_op = engine_observe(sh, r->dep, want, r->need_token, r->need_changeset,
	    events_since(r), r->zdu_poll + 1, on_observed, r);
	if (r->obs_op == NULL) {
		log_warnx("upgrade %lld: out of memory", (long long)r->u.id);
		schedule(r, engine_poll_ms(sh));
	}
}

/* A node's deregistration time: ours in memory, else the journal's (after a restart). */
static int64_t
dereg_time(struct shell_run *r, int idx)
{
	int64_t at;

	if (r->dereg_at[idx] == 0 && store_journal_last_done(r->sh->store, r->u.id,
	    engine_act_name(ENGINE_ACT_DEREGISTER), r->u.nodes[idx].id, &at) == 1)
		r->dereg_at[idx] = at;
	return r->dereg_at[idx];
}

/* Behaviour 16: a drain the ELB's timeout cut is "forced" (a report, not a gate). */
static void
drain_times(struct shell_run *r, struct engine_obs *o)
{
	int timeout = r->dep->topo.drain_timeout_s;
	int64_t now = engine_wall_ms(), at;

	for (size_t i = 0; timeout >= 0 && i < o->asg.ninst; i++) {
		struct engine_obs_instance *in = &o->asg.inst[i];
		int idx;

		if (in->elb != ENGINE_ELB_NOT_REGISTERED && in->elb != ENGINE_ELB_DRAINING)
			continue;
		for (idx = 0; idx < (int)r->u.nnodes; idx++)
			if (strcmp(r->u.nodes[idx].id, in->id) == 0)
				break;
		if (idx == (int)r->u.nnodes || r->u.nodes[idx].step != ENGINE_STEP_DRAINING)
			continue;
		if ((at = dereg_time(r, idx)) > 0)
			in->drain_timed_out = now - at >= (int64_t)timeout * 1000;
	}
}

static void
tell_errors(struct shell_run *r, const struct shell_obs_result *res)
{
	if (res->errors[0] == '\0') {
		r->failures = 0;
		r->last_error[0] = '\0';
		return;
	}
	r->failures++;
	if (strcmp(res->errors, r->last_error) == 0)
		return;
	engine_strlcpy(r->last_error, res->errors, sizeof(r->last_error));
	engine_event(r->sh, &r->u, SHELL_WARNING, "error", NULL,
	    json_pack("{s:s, s:b, s:b}", "errors", res->errors, "transient",
	    r->obs->transient, "denied", r->obs->denied), "reading AWS or Bitbucket "
	    "failed: %s", res->errors);
}

static bool	preflight_unreadable(struct shell_run *, const struct shell_obs_result *);

static void
on_observed(struct shell_obs *ob, void *arg)
{
	struct shell_run *r = arg;
	const struct shell_obs_result *res = engine_obs_result(ob);

	r->obs_op = NULL;
	free(r->obs);
	r->obs = engine_obs_take(ob);
	if (r->obs->have & ENGINE_OBS_ZDU)
		r->zdu_poll = r->obs->zdu.poll;
	drain_times(r, r->obs);
	tell_errors(r, res);
	if (preflight_unreadable(r, res))
		return;
	decide(r);
}

/* --- the verdicts ------------------------------------------------------------------ */

static json_t *
problems_json(const struct engine_problems *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(a, json_string(p->p[i].text));
	return a;
}

static void
halt(struct shell_run *r)
{
	const struct engine_decision *d = &r->d;
	bool already = r->u.state == ENGINE_STATE_HALTED;

	engine_apply(&r->u, d, NULL);
	r->state = SHELL_RUN_STOPPED;
	if (already)
		return;
	if (engine_commit(r->sh, r, SHELL_ERROR, "halt", NULL, json_pack("{s:s, s:o}",
	    "halt", engine_halt_name(r->u.halt), "problems",
	    problems_json(&d->problems)), r->u.reason) == -1)
		store_failed(r, "halt");
}

static void
join(const struct engine_problems *p, char *buf, size_t len)
{
	size_t off = 0;

	engine_strlcpy(buf, "", len);
	for (size_t i = 0; i < p->n && off + 1 < len; i++) {
		engine_fmt(buf + off, len - off, "%s%zu) %s", i ? "; " : "", i + 1,
		    p->p[i].text);
		off = strlen(buf);
	}
}

/*
 * Preflight cannot pass if a part cannot be read for good (the stack does not
 * exist, say): rather than wait forever, halt with every problem preflight sees.
 */
static bool
preflight_unreadable(struct shell_run *r, const struct shell_obs_result *res)
{
	struct engine_target t = { r->u.to, r->u.surge };
	struct engine_decision *d = &r->d;
	char list[ENGINE_TEXT_MAX];

	if (r->u.phase != ENGINE_PH_PREFLIGHT || r->u.intent_pending ||
	    r->u.state != ENGINE_STATE_RUNNING || res->failed == 0 ||
	    r->obs->transient || r->obs->denied)
		return false;
	memset(d, 0, sizeof(*d));
	engine_preflight(r->obs, &t, &d->problems);
	if (d->problems.n < ENGINE_PROBLEMS_MAX)
		engine_fmt(d->problems.p[d->problems.n++].text,
		    sizeof(d->problems.p[0].text), "%s", res->errors);
	join(&d->problems, list, sizeof(list));
	d->verdict = ENGINE_HALT;
	d->phase = ENGINE_PH_PREFLIGHT;
	d->halt_code = ENGINE_HALT_PREFLIGHT;
	engine_fmt(d->message, sizeof(d->message), "preflight refused the upgrade to %s "
	    "(%zu problem(s)): %s", r->u.to, d->problems.n, list);
	halt(r);
	return true;
}

static void
done(struct shell_run *r)
{
	r->state = SHELL_RUN_STOPPED;
	if (r->finished_at == 0)
		r->finished_at = engine_wall_ms();
	engine_event(r->sh, &r->u, SHELL_INFO, "done", NULL, json_pack("{s:s, s:i, s:i,"
	    " s:i, s:i, s:i}", "outcome", engine_state_name(r->u.state), "nodes", r->u.n,
	    "replaced", r->u.replaced, "retired", r->u.retired, "drains_clean",
	    r->u.drains_clean, "drains_forced", r->u.drains_forced), "%s",
	    r->d.message);
}

static void
wait(struct shell_run *r)
{
	const struct engine_decision *d = &r->d;
	int64_t t = timeout_ms(r->sh, d->wait);
	bool told = d->wait == r->wait && strcmp(d->progress, r->wait_marker) == 0;

	if (t >= 0 && strcmp(d->progress, r->budget.marker) != 0) {
		engine_strlcpy(r->budget.marker, d->progress, sizeof(r->budget.marker));
		r->budget.ms = t;
		r->budget_t0 = engine_mono_ms();
	}
	r->wait = d->wait;
	engine_strlcpy(r->wait_marker, d->progress, sizeof(r->wait_marker));
	if (!told && engine_commit(r->sh, r, SHELL_INFO, "wait", NULL,
	    json_pack("{s:s, s:s, s:I}", "wait", engine_wait_name(d->wait), "marker",
	    d->progress, "deadline_s", (json_int_t)(t >= 0 ? r->budget.ms / 1000 : -1)),
	    d->message) == -1) {
		store_failed(r, "wait");
		return;
	}
	if (told && engine_commit(r->sh, r, SHELL_INFO, NULL, NULL, NULL, NULL) == -1) {
		store_failed(r, "budget");
		return;
	}
	if (d->wait == ENGINE_WAIT_PAUSED) {
		r->state = SHELL_RUN_STOPPED;
		return;
	}
	schedule(r, d->wait == ENGINE_WAIT_BACKOFF ? backoff(r) : poll_delay(r, d->wait));
}

/* --- acting ---------------------------------------------------------------------- */

static void
remember_dereg(struct shell_run *r, const struct engine_action *a)
{
	int64_t now = engine_wall_ms();

	for (size_t i = 0; i < a->ntargets; i++)
		for (size_t j = 0; j < r->u.nnodes; j++)
			if (strcmp(r->u.nodes[j].id, a->targets[i]) == 0)
				r->dereg_at[j] = now;
}

static void
on_acted(const struct shell_act_result *res, void *arg)
{
	struct shell_run *r = arg;
	const struct engine_decision *d = &r->d;

	r->act_op = NULL;
	if (!res->known) {
		/* It may have happened: the intent stays open, observation resolves it. */
		engine_event(r->sh, &r->u, SHELL_WARNING, "outcome", d->act.ntargets ?
		    d->act.targets[0] : NULL, json_pack("{s:s, s:s, s:s}", "action",
		    engine_act_name(d->act.kind), "token", d->act.token, "detail",
		    res->out.detail), "%s %s: outcome unknown (%s); resolving it by "
		    "observation", engine_act_name(d->act.kind), d->act.token,
		    res->out.detail);
		r->failures++;
		schedule(r, backoff(r));
		return;
	}
	engine_apply(&r->u, d, &res->out);
	if (d->act.kind == ENGINE_ACT_DEREGISTER && res->out.kind == ENGINE_OUT_DONE)
		remember_dereg(r, &d->act);
	if (engine_commit_outcome(r->sh, r, d, &res->out, false) == -1) {
		store_failed(r, "outcome");
		return;
	}
	if (r->u.state == ENGINE_STATE_HALTED) {
		r->state = SHELL_RUN_STOPPED;
		return;
	}
	if (res->out.kind == ENGINE_OUT_RETRY) {
		r->failures++;
		schedule(r, backoff(r));
	} else
		schedule(r, res->out.kind == ENGINE_OUT_CONFLICT ? engine_poll_ms(r->sh) :
		    0);
}

/* A call: the guard right before it, the intent committed, then the call. */
static void
call(struct shell_run *r)
{
	struct engine_decision *d = &r->d;

	if (engine_guard(&r->u, r->obs, d) != ENGINE_ACT) {
		halt(r);
		return;
	}
	if (d->resolve == ENGINE_RESOLVE_NONE) {
		engine_intent(&r->u, d);
		if (engine_commit_intent(r->sh, r, d) == -1) {
			store_failed(r, "intent");
			return;
		}
	} else
		engine_event(r->sh, &r->u, SHELL_INFO, "action", d->act.ntargets ?
		    d->act.targets[0] : NULL, json_pack("{s:o}", "action",
		    engine_action_json(&d->act)), "%s", d->message);
	r->state = SHELL_RUN_ACTING;
	if ((r->act_op = engine_act_start(r->sh, r->dep, &d->act, on_acted, r)) == NULL)
		schedule(r, engine_poll_ms(r->sh));
}

/* The open intent, resolved by observation: its outcome, no call. */
static int
resolved(struct shell_run *r)
{
	struct engine_outcome out;

	memset(&out, 0, sizeof(out));
	out.kind = r->d.resolve == ENGINE_RESOLVE_DONE ? ENGINE_OUT_DONE :
	    ENGINE_OUT_NOT_DONE;
	engine_apply(&r->u, &r->d, &out);
	return engine_commit_outcome(r->sh, r, &r->d, &out, true);
}

static int
bookkeeping(struct shell_run *r)
{
	const struct engine_decision *d = &r->d;
	json_t *data;

	engine_apply(&r->u, d, NULL);
	if (engine_finished(&r->u)) {
		r->budget.ms = -1;	/* no deadline runs any more */
		r->budget.marker[0] = '\0';
	}
	data = json_pack("{s:s, s:s}", "decision", engine_act_name(d->act.kind),
	    "phase_decided", engine_phase_name(d->phase));
	if (d->act.ntargets > 0)
		json_object_set_new(data, "action", engine_action_json(&d->act));
	return engine_commit(r->sh, r, SHELL_INFO, "decision", d->act.ntargets ?
	    d->act.targets[0] : NULL, data, d->message);
}

static void
keep_needs(struct shell_run *r)
{
	r->need = r->d.need;
	engine_strlcpy(r->need_token, r->d.need_token, sizeof(r->need_token));
	engine_strlcpy(r->need_changeset, r->d.need_changeset,
	    sizeof(r->need_changeset));
}

static void
decide(struct shell_run *r)
{
	for (int steps = 0; steps < SHELL_STEPS_MAX && !r->sh->stopping; steps++) {
		charge(r, r->obs);
		engine_decide(&r->u, r->obs, &r->d);
		keep_needs(r);
		switch (r->d.verdict) {
		case ENGINE_ACT:
			if (engine_act_is_call(r->d.act.kind) &&
			    (r->d.resolve == ENGINE_RESOLVE_NONE ||
			    r->d.resolve == ENGINE_RESOLVE_REISSUE)) {
				call(r);
				return;
			}
			if ((engine_act_is_call(r->d.act.kind) ? resolved(r) :
			    bookkeeping(r)) == -1) {
				store_failed(r, "decision");
				return;
			}
			continue;
		case ENGINE_WAIT:
			wait(r);
			return;
		case ENGINE_HALT:
			halt(r);
			return;
		case ENGINE_DONE:
			done(r);
			return;
		}
	}
	if (!r->sh->stopping)
		schedule(r, engine_poll_ms(r->sh));	/* a long run of bookkeeping */
}

/* --- starting, resuming, waking -------------------------------------------------- */

/* What the first observation must read: what the core asks of an empty one. */
static void
first_needs(struct shell_run *r)
{
	struct engine_obs *o = calloc(1, sizeof(*o));

	if (o != NULL)
		engine_decide(&r->u, o, &r->d);
	keep_needs(r);
	if (r->need == 0)
		r->need = ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES |
		    ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU;
	free(o);
}

void
engine_run_go(struct shell_run *r)
{
	r->budget_t0 = engine_mono_ms();
	r->wait = ENGINE_WAIT_NONE;
	r->wait_marker[0] = '\0';
	if (r->u.state != ENGINE_STATE_RUNNING) {
		r->state = SHELL_RUN_STOPPED;
		return;
	}
	first_needs(r);
	schedule(r, 0);
}

void
engine_run_wake(struct shell_run *r)
{
	switch (r->state) {
	case SHELL_RUN_OBSERVING:
	case SHELL_RUN_ACTING:
		return;		/* the next decision reads u as the command left it */
	case SHELL_RUN_WAITING:
		uv_timer_stop(&r->timer);
		/* FALLTHROUGH */
	default:
		if (r->u.state == ENGINE_STATE_RUNNING ||
		    r->u.state == ENGINE_STATE_PAUSED)
			engine_run_go(r);
	}
}

int
engine_run_resume(struct shell *sh, int64_t id)
{
	struct engine_upgrade *u;
	struct shell_budget b;
	struct shell_dep *dep;
	struct shell_run *r;
	int64_t created;
	char err[256];

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	if (engine_persist_load(sh->store, id, u, &b, &created, NULL, err,
	    sizeof(err)) != 1) {
		log_warnx("engine: the unfinished upgrade cannot be resumed: %s", err);
		free(u);
		return -1;
	}
	if ((dep = engine_dep_find(sh, u->deployment)) == NULL ||
	    (r = engine_run_new(sh, dep)) == NULL) {
		log_warnx("engine: upgrade %lld of deployment %s is not resumed: no "
		    "[deployment %s] in the configuration", (long long)id, u->deployment,
		    u->deployment);
		free(u);
		return -1;
	}
	r->u = *u;
	r->budget = b;
	r->created_at = created;
	r->finished_at = 0;
	r->zdu_poll = u->seen_poll + 1;
	free(u);
	sh->run = r;
	engine_event(sh, &r->u, SHELL_INFO, "resume", NULL, json_pack("{s:b, s:s?}",
	    "intent_pending", r->u.intent_pending, "intent", r->u.intent_pending ?
	    r->u.intent.token : NULL), "bbupgraded started: resuming upgrade %lld in "
	    "phase %s (%s)%s", (long long)id, engine_phase_name(r->u.phase),
	    engine_state_name(r->u.state), r->u.intent_pending ? "; the open intent is "
	    "resolved by observation first" : "");
	engine_run_go(r);
	return 0;
}
