/*
 * The journal protocol's writes (DESIGN.md section 4), each one transaction: the
 * upgrade's state with the intent of a call, committed before the call; the state
 * with the call's outcome; the state with an event. The event table is the timeline
 * that watch, events and history show; every row written here is also told to the
 * watchers (shell_watch.c reads it back from the table, so they see exactly what was
 * committed, in order).
 *
 * Must never: perform a call whose intent did not commit (the caller checks the
 * return value), or write a secret (messages quote AWS's and Bitbucket's errors,
 * which carry none).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/engine/shell.h"
#include "daemon/store.h"

static const char *const levels[] = { "info", "warning", "error" };

static int64_t
append(struct shell *sh, const struct engine_upgrade *u, enum shell_level level,
    const char *kind, const char *node, json_t *data, const char *message)
{
	struct store_event e;
	char *text;
	int64_t id;

	if (data == NULL)
		data = json_object();
	json_object_set_new(data, "kind", json_string(kind));
	json_object_set_new(data, "state", json_string(engine_state_name(u->state)));
	text = json_dumps(data, JSON_COMPACT);
	memset(&e, 0, sizeof(e));
	e.upgrade_id = u->id;
	e.at = engine_wall_ms();
	e.level = levels[level];
	e.phase = engine_phase_name(u->phase);
	e.node = node != NULL && node[0] != '\0' ? node : NULL;
	e.message = message;
	e.data = text;
	id = store_event_append(sh->store, &e);
	free(text);
	json_decref(data);
	if (level == SHELL_INFO)
		log_info("upgrade %lld: %s", (long long)u->id, message);
	else
		log_warnx("upgrade %lld: %s", (long long)u->id, message);
	if (id > 0)
		engine_watch_kick(sh);
	return id;
}

int64_t
engine_event(struct shell *sh, const struct engine_upgrade *u, enum shell_level level,
    const char *kind, const char *node, json_t *data, const char *fmt, ...)
{
	char msg[2 * ENGINE_TEXT_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return append(sh, u, level, kind, node, data, msg);
}

/* Inside a transaction: u as it is now, and the event (data taken). */
static int
save(struct shell *sh, struct shell_run *r, enum shell_level level, const char *kind,
    const char *node, json_t *data, const char *message)
{
	if (engine_persist_save(sh->store, &r->u, &r->budget,
	    engine_finished(&r->u)) == -1) {
		json_decref(data);
		return -1;
	}
	if (message == NULL) {
		json_decref(data);
		return 0;
	}
	return append(sh, &r->u, level, kind, node, data, message) == -1 ? -1 : 0;
}

static int
commit(struct shell *sh, int rc)
{
	if (rc == -1) {
		store_rollback(sh->store);
		return -1;
	}
	return store_commit(sh->store);
}

/* message NULL: the state only, no event. */
int
engine_commit(struct shell *sh, struct shell_run *r, enum shell_level level,
    const char *kind, const char *node, json_t *data, const char *message)
{
	if (store_begin(sh->store) == -1) {
		json_decref(data);
		return -1;
	}
	return commit(sh, save(sh, r, level, kind, node, data, message));
}

static const char *
first_target(const struct engine_action *a)
{
	return a->ntargets > 0 ? a->targets[0] : NULL;
}

int
engine_commit_intent(struct shell *sh, struct shell_run *r,
    const struct engine_decision *d)
{
	char targets[ENGINE_NODES_MAX * ENGINE_ID_MAX], *params;
	json_t *a = engine_action_json(&d->act);
	int rc;

	engine_targets_join(&d->act, targets, sizeof(targets));
	params = json_dumps(a, JSON_COMPACT);
	if (store_begin(sh->store) == -1) {
		free(params);
		json_decref(a);
		return -1;
	}
	rc = store_journal_intent(sh->store, r->u.id, engine_act_name(d->act.kind),
	    targets, d->act.token, params, engine_wall_ms());
	free(params);
	if (rc == -1) {
		json_decref(a);
		return commit(sh, -1);
	}
	return commit(sh, save(sh, r, SHELL_INFO, "action", first_target(&d->act),
	    json_pack("{s:o}", "action", a), d->message));
}

static const char *
outcome_name(enum engine_out k)
{
	switch (k) {
	case ENGINE_OUT_DONE:
		return "done";
	case ENGINE_OUT_FAILED:
		return "failed";
	default:
		return "not_done";
	}
}

static const char *
outcome_text(enum engine_out k)
{
	static const char *const t[] = { "done", "not done", "refused for now: "
	    "retrying", "conflict: observing again", "refused" };

	return t[k];
}

int
engine_commit_outcome(struct shell *sh, struct shell_run *r,
    const struct engine_decision *d, const struct engine_outcome *out, bool resolved)
{
	enum engine_out k = out->kind;
	char msg[2 * ENGINE_TEXT_MAX + 256];
	json_t *data;

	if (resolved)
		k = d->resolve == ENGINE_RESOLVE_DONE ? ENGINE_OUT_DONE : ENGINE_OUT_NOT_DONE;
	if (store_begin(sh->store) == -1)
		return -1;
	if (store_journal_outcome(sh->store, d->act.token, outcome_name(k),
	    out->detail[0] ? out->detail : (resolved ? d->message : NULL),
	    engine_wall_ms()) == -1)
		return commit(sh, -1);
	if (resolved)
		engine_fmt(msg, sizeof(msg), "%s", d->message);
	else
		engine_fmt(msg, sizeof(msg), "%s %s: %s%s%s", engine_act_name(d->act.kind),
		    d->act.token, outcome_text(k), out->detail[0] ? " - " : "",
		    out->detail);
	data = json_pack("{s:s, s:s, s:s, s:s, s:b}", "action",
	    engine_act_name(d->act.kind), "token", d->act.token, "outcome",
	    outcome_name(k), "detail", out->detail, "resolved", resolved);
	if (out->activity[0] != '\0')
		json_object_set_new(data, "activity", json_string(out->activity));
	return commit(sh, save(sh, r, k == ENGINE_OUT_FAILED ? SHELL_ERROR : k ==
	    ENGINE_OUT_DONE ? SHELL_INFO : SHELL_WARNING, "outcome",
	    first_target(&d->act), data, msg));
}
