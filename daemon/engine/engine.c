/*
 * The engine as methods.c sees it (engine.h): start, plan, the operator's commands,
 * status and watch, over the effect shell (shell_*.c) and the decision core (core*.c).
 * One upgrade at a time: the one the store holds unfinished, resumed at start-up.
 *
 * Refusals carry the error of common/errors.h and its parameters; their params
 * belong to the caller once returned (json_decref them or put them in the reply),
 * and so do the plan and its refusal handed to an engine_plan_cb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/version.h"
#include "daemon/engine/shell.h"
#include "daemon/store.h"

struct shell *engine_shell;

static void
refuse(struct engine_refusal *r, enum vl_error e, json_t *params)
{
	if (r == NULL) {
		json_decref(params);
		return;
	}
	r->error = e;
	r->params = params;
}

static void
on_pump_closed(uv_handle_t *h)
{
	engine_shell_unref(h->data);
}

int
engine_init(uv_loop_t *loop, const struct config *cfg, struct store *store)
{
	struct shell *sh;
	int64_t id;
	int rc;

	if (engine_shell != NULL || (sh = calloc(1, sizeof(*sh))) == NULL)
		return -1;
	if ((sh->deps = calloc(cfg->ndeployments ? cfg->ndeployments : 1,
	    sizeof(*sh->deps))) == NULL) {
		free(sh);
		return -1;
	}
	sh->loop = loop;
	sh->cfg = cfg;
	sh->store = store;
	sh->ndeps = cfg->ndeployments;
	for (size_t i = 0; i < sh->ndeps; i++) {
		sh->deps[i].cfg = &cfg->deployments[i];
		sh->deps[i].topo.drain_timeout_s = -1;
	}
	sh->refs = 2;		/* engine_shell, and the pump's handle */
	uv_timer_init(loop, &sh->pump);
	sh->pump.data = sh;
	engine_shell = sh;
	if ((rc = store_upgrade_unfinished(store, &id)) == 1)
		engine_run_resume(sh, id);
	else if (rc == -1)
		log_warnx("engine: cannot read the state database for an unfinished "
		    "upgrade");
	return 0;
}

void
engine_shutdown(void)
{
	struct shell *sh = engine_shell;
	struct shell_run *r;

	if (sh == NULL)
		return;
	if ((r = sh->run) != NULL && !engine_finished(&r->u))
		engine_event(sh, &r->u, SHELL_WARNING, "stop", NULL, json_pack("{s:b}",
		    "intent_pending", r->u.intent_pending), "bbupgraded stops: upgrade "
		    "%lld stops in phase %s%s; it resumes when bbupgraded starts again",
		    (long long)r->u.id, engine_phase_name(r->u.phase), r->u.intent_pending ?
		    " with an open intent (resolved by observation at the next start)" : "");
	sh->stopping = true;
	engine_shell = NULL;
	engine_run_stop(sh->run);
	sh->run = NULL;
	engine_plan_cancel_all(sh);
	engine_watch_free_all(sh);
	engine_dep_free_all(sh);
	uv_close((uv_handle_t *)&sh->pump, on_pump_closed);
	engine_shell_unref(sh);
}

int
engine_plan(const char *deployment, const char *to, engine_plan_cb cb, void *arg)
{
	return engine_plan_start(engine_shell, deployment, to, cb, arg);
}

/* The version the deployment is known to run, for the rolling rule at start. */
static void
known_version(struct shell *sh, const struct shell_dep *dep, char *buf, size_t len)
{
	struct engine_upgrade *u;
	int64_t id;
	char err[256];

	engine_strlcpy(buf, "", len);
	if (store_upgrade_latest(sh->store, dep->cfg->name, &id) != 1 ||
	    (u = calloc(1, sizeof(*u))) == NULL)
		return;
	if (engine_persist_load(sh->store, id, u, NULL, NULL, NULL, err,
	    sizeof(err)) == 1) {
		if (u->state == ENGINE_STATE_DONE)
			engine_strlcpy(buf, u->to, len);
		else if (engine_finished(u))
			engine_strlcpy(buf, u->from, len);
	}
	free(u);
}

static int
check_version(struct shell *sh, const struct shell_dep *dep, const char *to,
    struct engine_refusal *r)
{
	struct bb_version vf, vt;
	char from[ENGINE_VERSION_MAX], why[256];

	if (strlen(to) >= ENGINE_VERSION_MAX || version_parse(to, &vt) == -1) {
		refuse(r, VLE_INVALID_PARAMETER, json_pack("{s:s}", "parameter", "to"));
		return -1;
	}
	known_version(sh, dep, from, sizeof(from));
	if (from[0] == '\0' || version_parse(from, &vf) == -1 ||
	    version_rolling_ok(&vf, &vt, why, sizeof(why)) == 0)
		return 0;	/* else preflight checks it against the nodes */
	refuse(r, BBE_NOT_ALLOWED, json_pack("{s:s}", "reason", why));
	return -1;
}

static enum engine_on_failure
on_failure(enum on_failure f)
{
	switch (f) {
	case ON_FAILURE_RETRY:
		return ENGINE_ON_FAILURE_RETRY;
	case ON_FAILURE_ROLLBACK:
		return ENGINE_ON_FAILURE_ROLLBACK;
	default:
		return ENGINE_ON_FAILURE_HALT;
	}
}

static int
in_progress(struct shell *sh, struct engine_refusal *r)
{
	struct upgrade_summary u;
	int64_t id;
	int rc;

	if (sh->run != NULL && !engine_finished(&sh->run->u)) {
		refuse(r, BBE_UPGRADE_IN_PROGRESS, json_pack("{s:s, s:I}", "deployment",
		    sh->run->u.deployment, "id", (json_int_t)sh->run->u.id));
		return 1;
	}
	/* One the daemon could not resume (see its log) still blocks a new one. */
	if ((rc = store_upgrade_unfinished(sh->store, &id)) == 1) {
		refuse(r, BBE_UPGRADE_IN_PROGRESS, json_pack("{s:s, s:I}", "deployment",
		    store_upgrade(sh->store, id, &u) == 1 ? u.deployment : "?", "id",
		    (json_int_t)id));
		return 1;
	}
	if (rc == -1) {
		refuse(r, BBE_INTERNAL, json_pack("{s:s}", "reason",
		    "cannot read the state database"));
		return 1;
	}
	return 0;
}

/* The row, its state and the first event, in one transaction. */
static int
create(struct shell *sh, struct shell_run *r, const struct shell_dep *dep,
    const char *to)
{
	struct store_upgrade row;
	int rc;

	memset(&row, 0, sizeof(row));
	engine_strlcpy(row.deployment, dep->cfg->name, sizeof(row.deployment));
	engine_strlcpy(row.to_version, to, sizeof(row.to_version));
	row.surge = dep->cfg->surge;
	engine_strlcpy(row.state, engine_state_name(ENGINE_STATE_RUNNING),
	    sizeof(row.state));
	engine_strlcpy(row.phase, engine_phase_name(ENGINE_PH_PREFLIGHT),
	    sizeof(row.phase));
	if (store_begin(sh->store) == -1)
		return -1;
	if ((rc = store_upgrade_create(sh->store, &row)) < 0 ||
	    engine_upgrade_init(&r->u, row.id, dep->cfg->name, to, dep->cfg->surge,
	    on_failure(dep->cfg->on_failure), dep->cfg->order == ORDER_LITERAL) == -1) {
		store_rollback(sh->store);
		return rc == -2 ? -2 : -1;
	}
	r->created_at = row.created_at;
	if (engine_persist_save(sh->store, &r->u, &r->budget, false) == -1 ||
	    engine_event(sh, &r->u, SHELL_INFO, "start", NULL, json_pack("{s:s, s:s, s:i, s:b}",
	    "deployment", dep->cfg->name, "to", to, "surge", dep->cfg->surge,
	    "literal_order", r->u.literal_order),
	    "upgrade %lld of %s to %s started (surge %d%s)", (long long)row.id,
	    dep->cfg->name, to, dep->cfg->surge,
	    r->u.literal_order ? ", the seed's literal order" : "") == -1) {
		store_rollback(sh->store);
		return -1;
	}
	return store_commit(sh->store);
}

int
engine_start(const char *deployment, const char *to, int64_t *id,
    struct engine_refusal *refusal)
{
	struct shell *sh = engine_shell;
	struct shell_dep *dep;
	struct shell_run *r;
	char err[512];
	int rc;

	if (sh == NULL || to == NULL) {
		refuse(refusal, BBE_INTERNAL, json_pack("{s:s}", "reason",
		    "the engine is not running"));
		return -1;
	}
	if ((dep = engine_dep_find(sh, deployment)) == NULL) {
		refuse(refusal, BBE_NO_SUCH_DEPLOYMENT, json_pack("{s:s}", "deployment",
		    deployment ? deployment : ""));
		return -1;
	}
	if (in_progress(sh, refusal) || check_version(sh, dep, to, refusal) == -1)
		return -1;
	if (engine_dep_clients(sh, dep, err, sizeof(err)) == -1) {
		refuse(refusal, BBE_NOT_ALLOWED, json_pack("{s:s}", "reason", err));
		return -1;
	}
	if ((r = engine_run_new(sh, dep)) == NULL ||
	    (rc = create(sh, r, dep, to)) != 0) {
		if (r != NULL)
			engine_run_stop(r);
		if (r != NULL && rc == -2 && in_progress(sh, refusal))
			return -1;
		refuse(refusal, BBE_INTERNAL, json_pack("{s:s}", "reason",
		    "the state database refused the new upgrade"));
		return -1;
	}
	engine_run_stop(sh->run);	/* the last one, finished */
	sh->run = r;
	*id = r->u.id;
	engine_run_go(r);
	return 0;
}

typedef enum engine_cmd (*command_fn)(struct engine_upgrade *, char *, size_t);

static int
command(command_fn fn, const char *name, struct engine_refusal *refusal)
{
	struct shell *sh = engine_shell;
	struct shell_run *r = sh != NULL ? sh->run : NULL;
	char why[256];

	if (r == NULL || engine_finished(&r->u)) {
		refuse(refusal, BBE_NO_UPGRADE, NULL);
		return -1;
	}
	switch (fn(&r->u, why, sizeof(why))) {
	case ENGINE_CMD_REFUSED:
		refuse(refusal, BBE_NOT_ALLOWED, json_pack("{s:s}", "reason", why));
		return -1;
	case ENGINE_CMD_ALREADY:
		return 0;
	case ENGINE_CMD_ACCEPTED:
		break;
	}
	if (engine_commit(sh, r, SHELL_INFO, "command", NULL, json_pack("{s:s}",
	    "command", name), why) == -1) {
		refuse(refusal, BBE_INTERNAL, json_pack("{s:s}", "reason",
		    "the state database refused the command"));
		return -1;
	}
	engine_run_wake(r);
	return 0;
}

int
engine_pause(struct engine_refusal *r)
{
	return command(engine_cmd_pause, "pause", r);
}

int
engine_resume(struct engine_refusal *r)
{
	return command(engine_cmd_resume, "resume", r);
}

int
engine_cancel(struct engine_refusal *r)
{
	return command(engine_cmd_cancel, "cancel", r);
}

int
engine_rollback(struct engine_refusal *r)
{
	return command(engine_cmd_rollback, "rollback", r);
}

json_t *
engine_status(void)
{
	struct shell *sh = engine_shell;
	struct engine_upgrade *u;
	int64_t id, created, finished;
	json_t *j = NULL;
	char err[256];

	if (sh == NULL)
		return NULL;
	if (sh->run != NULL)
		return engine_status_json(&sh->run->u, sh->run->obs, sh->run->created_at,
		    sh->run->finished_at, sh->run);
	if (store_upgrade_latest(sh->store, NULL, &id) != 1 ||
	    (u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if (engine_persist_load(sh->store, id, u, NULL, &created, &finished, err,
	    sizeof(err)) == 1)
		j = engine_status_json(u, NULL, created, finished, NULL);
	free(u);
	return j;
}
