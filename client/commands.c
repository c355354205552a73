/*
 * bbctl's commands but watch (watch.c): each checks what it can locally (a version's
 * syntax, a missing confirmation), makes its calls, and prints through ctx->out.
 * Nothing here decides anything about the upgrade: the daemon does, and says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/bbctl.h"
#include "client/conn.h"
#include "client/render.h"
#include "common/errors.h"
#include "common/version.h"

/* The reply of an error: which one. */
static bool
is_error(json_t *reply, enum vl_error e)
{
	const char *name = json_string_value(json_object_get(reply, "error"));

	return name != NULL && strcmp(name, vl_error_name(e)) == 0;
}

/* Whether the error's reason already says it. */
static bool
mentions(json_t *reply, const char *what)
{
	const char *reason = json_string_value(json_object_get(json_object_get(reply,
	    "parameters"), "reason"));

	return reason != NULL && strstr(reason, what) != NULL;
}

int
cmd_status(struct ctx *ctx, const struct args *a)
{
	json_t *st;
	int rc;

	if ((rc = bb_call(ctx, "io.bbupgraded.Status", NULL, &st)) == EXIT_OK)
		ctx->out->status(st);
	json_decref(st);
	return rc;
}

int
cmd_version(struct ctx *ctx, const struct args *a)
{
	json_t *info;
	int rc = bb_call(ctx, "org.varlink.service.GetInfo", NULL, &info);

	ctx->out->version(BB_VERSION, rc == EXIT_OK ?
	    json_string_value(json_object_get(info, "version")) : NULL);
	json_decref(info);
	return rc;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
cmd_ping(struct ctx *ctx, const struct args *a)
{
	json_t *info;
	double t0;
	int rc;

	/* Connecting is not part of the round trip. */
	if ((rc = bb_connect(ctx)) != EXIT_OK)
		return rc;
	t0 = now_ms();
	if ((rc = bb_call(ctx, "org.varlink.service.GetInfo", NULL, &info)) == EXIT_OK)
		ctx->out->ping(render_str(info, "version"), ctx->socket, now_ms() - t0);
	json_decref(info);
	return rc;
}

/* DEPLOYMENT --to VERSION, checked here so that a typo costs no round trip. */
static int
upgrade_args(const char *cmd, const struct args *a)
{
	struct bb_version v;

	if (a->to == NULL) {
		fprintf(stderr, "bbctl: %s needs the target version: bbctl %s %s --to "
		    "VERSION\n", cmd, cmd, a->pos[1]);
		return EXIT_USAGE;
	}
	if (version_parse(a->to, &v) == -1) {
		fprintf(stderr, "bbctl: --to %s: not a Bitbucket version; expected "
		    "MAJOR.MINOR.PATCH, such as 7.9.4\n", a->to);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static json_t *
upgrade_params(const struct args *a)
{
	return json_pack("{s:s, s:s}", "deployment", a->pos[1], "version", a->to);
}

/*
 * Plan waits for the preflight, which reads AWS and Bitbucket (with their retries):
 * longer than a local answer, unless --timeout says otherwise.
 */
static int
call_plan(struct ctx *ctx, const struct args *a, json_t **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = bb_connect(ctx)) != EXIT_OK)
		return rc;
	if (!ctx->timeout_given)
		conn_set_timeout(ctx->conn, PLAN_TIMEOUT_MS);
	rc = bb_call(ctx, "io.bbupgraded.Plan", upgrade_params(a), reply);
	conn_set_timeout(ctx->conn, ctx->timeout_ms);
	return rc;
}

int
cmd_plan(struct ctx *ctx, const struct args *a)
{
	json_t *reply;
	int rc;

	if ((rc = upgrade_args("plan", a)) != EXIT_OK)
		return rc;
	if ((rc = call_plan(ctx, a, &reply)) == EXIT_OK)
		ctx->out->plan(reply);
	json_decref(reply);
	return rc;
}

/* Asks on the terminal; true only for an explicit yes. */
static bool
confirm(const char *question)
{
	char line[64];

	printf("%s [y/N] ", question);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
	    strcmp(line, "yes") == 0;
}

int
cmd_start(struct ctx *ctx, const struct args *a)
{
	bool terminal = isatty(0) && isatty(1) && !ctx->json;
	char question[256];
	json_t *reply;
	int64_t id;
	int rc;

	if ((rc = upgrade_args("start", a)) != EXIT_OK)
		return rc;
	if (!a->yes && !terminal) {
		fprintf(stderr, "bbctl: refusing to start an upgrade without confirmation, "
		    "and there is no terminal to ask on.\nbbctl: review it with 'bbctl "
		    "plan %s --to %s', then run 'bbctl start %s --to %s --yes'\n",
		    a->pos[1], a->to, a->pos[1], a->to);
		return EXIT_USAGE;
	}
	if (!a->yes) {
		if ((rc = call_plan(ctx, a, &reply)) != EXIT_OK) {
			json_decref(reply);
			return rc;
		}
		ctx->out->plan(reply);
		json_decref(reply);
		snprintf(question, sizeof(question), "\nStart the rolling upgrade of %s "
		    "to %s?", a->pos[1], a->to);
		if (!confirm(question)) {
			fprintf(stderr, "bbctl: not started\n");
			return EXIT_FAILED;
		}
	}
	if ((rc = bb_call(ctx, "io.bbupgraded.Start", upgrade_params(a), &reply)) !=
	    EXIT_OK) {
		json_decref(reply);
		return rc;
	}
	id = json_integer_value(json_object_get(reply, "id"));
	ctx->out->started(reply, a->pos[1], a->to);
	json_decref(reply);
	return a->watch ? watch_run(ctx, id, 0) : EXIT_OK;
}

/* pause, resume, cancel, rollback: one call, idempotent on the daemon's side. */
static int
operator_command(struct ctx *ctx, const char *verb, const char *method)
{
	json_t *reply;
	int rc = bb_call(ctx, method, NULL, &reply);

	if (rc == EXIT_OK)
		ctx->out->command(verb, reply);
	json_decref(reply);
	return rc;
}

int
cmd_pause(struct ctx *ctx, const struct args *a)
{
	return operator_command(ctx, "pause", "io.bbupgraded.Pause");
}

int
cmd_resume(struct ctx *ctx, const struct args *a)
{
	return operator_command(ctx, "resume", "io.bbupgraded.Resume");
}

int
cmd_cancel(struct ctx *ctx, const struct args *a)
{
	json_t *reply;
	int rc = bb_call(ctx, "io.bbupgraded.Cancel", NULL, &reply);

	if (rc == EXIT_OK)
		ctx->out->command("cancel", reply);
	else if (!ctx->json && is_error(reply, BBE_NOT_ALLOWED) &&
	    !mentions(reply, "bbctl rollback"))
		/* Once an original was replaced, going back is a rollback. */
		fprintf(stderr, "bbctl: to take the cluster back to its original "
		    "version, use 'bbctl rollback'\n");
	json_decref(reply);
	return rc;
}

int
cmd_rollback(struct ctx *ctx, const struct args *a)
{
	return operator_command(ctx, "rollback", "io.bbupgraded.Rollback");
}

int
cmd_history(struct ctx *ctx, const struct args *a)
{
	json_t *reply;
	int rc = bb_call(ctx, "io.bbupgraded.History", json_pack("{s:i}", "limit",
	    a->limit > 0 ? (a->limit > 1000 ? 1000 : a->limit) : 20), &reply);

	if (rc == EXIT_OK)
		ctx->out->history(reply);
	json_decref(reply);
	return rc;
}

/* The number of the current (or last) upgrade: EXIT_OK, or the status after saying. */
static int
latest_upgrade(struct ctx *ctx, int64_t *id)
{
	json_t *st, *u;
	int rc;

	if ((rc = bb_call(ctx, "io.bbupgraded.Status", NULL, &st)) != EXIT_OK) {
		json_decref(st);
		return rc;
	}
	u = json_object_get(st, "upgrade");
	*id = json_integer_value(json_object_get(u, "id"));
	json_decref(st);
	if (*id <= 0) {
		fprintf(stderr, "bbctl: there has been no upgrade yet\n");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int
parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || *end != '\0' || v < 1) {
		fprintf(stderr, "bbctl: %s: an upgrade number is a whole number from 1 "
		    "(see bbctl history)\n", s);
		return EXIT_USAGE;
	}
	*id = v;
	return EXIT_OK;
}

int
upgrade_id_arg(struct ctx *ctx, const struct args *a, bool latest_ok, int64_t *id)
{
	*id = 0;
	if (a->npos > 1)
		return parse_id(a->pos[1], id);
	return latest_ok ? EXIT_OK : latest_upgrade(ctx, id);
}

int
cmd_events(struct ctx *ctx, const struct args *a)
{
	int64_t id, since = a->since;
	long long left = a->limit > 0 ? a->limit : -1;
	bool first = true;
	json_t *reply;
	int rc;

	if ((rc = upgrade_id_arg(ctx, a, false, &id)) != EXIT_OK)
		return rc;
	/* Page by page, until the daemon says there is no more or the limit is met. */
	for (;;) {
		int page = left < 0 || left > 1000 ? 1000 : (int)left;
		json_t *next, *evs;

		if ((rc = bb_call(ctx, "io.bbupgraded.Events", json_pack("{s:I, s:I, s:i}",
		    "id", (json_int_t)id, "since", (json_int_t)since, "limit", page),
		    &reply)) != EXIT_OK) {
			json_decref(reply);
			return rc;
		}
		evs = json_object_get(reply, "events");
		ctx->out->events(evs, first);
		first = false;
		next = json_object_get(reply, "next");
		if (left > 0)
			left -= (long long)json_array_size(evs);
		if (!json_is_integer(next) || left == 0 || json_array_size(evs) == 0) {
			json_decref(reply);
			return EXIT_OK;
		}
		since = json_integer_value(next);
		json_decref(reply);
	}
}
