/*
 * bbctl's printers (see render.h). The human printer reads the daemon's replies
 * tolerantly: a member it does not know is skipped, one that is missing shows as "-",
 * so that a newer daemon never breaks an older bbctl. The JSON printer adds nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/render.h"
#include "common/errors.h"

const char *
render_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && s[0] != '\0' ? s : "-";
}

static long long
int_of(json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return dflt;
}

void
render_duration(char *buf, size_t len, long long s)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh %lldm", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm %llds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

long long
render_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	return (long long)timegm(&tm);
}

void
render_bar(char *buf, size_t len, long long done, long long total, int bar)
{
	int fill = total > 0 ? (int)(done * bar / total) : 0;
	int pct = total > 0 ? (int)(done * 100 / total) : 0;
	size_t n = 0;

	if (fill > bar)
		fill = bar;
	if (fill < 0)
		fill = 0;
	if (len < (size_t)bar + 16) {
		snprintf(buf, len, "%d%%", pct);
		return;
	}
	buf[n++] = '[';
	for (int i = 0; i < bar; i++)
		buf[n++] = i < fill ? '#' : '-';
	snprintf(buf + n, len - n, "] %3d%%", pct);
}

/* "21:02:15" of an event's time (a string, or milliseconds since the epoch). */
static void
event_time(char *buf, size_t len, json_t *at)
{
	const char *s = json_string_value(at);
	const char *t;

	if (s != NULL && (t = strchr(s, 'T')) != NULL && strlen(t) >= 9)
		snprintf(buf, len, "%.8s", t + 1);
	else if (json_is_integer(at)) {
		time_t sec = (time_t)(json_integer_value(at) / 1000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(buf, len, "%H:%M:%S", &tm);
	} else
		snprintf(buf, len, "--:--:--");
}

void
render_event_line(char *buf, size_t len, json_t *ev)
{
	char at[16];
	const char *node = render_str(ev, "node");

	event_time(at, sizeof(at), json_object_get(ev, "at"));
	snprintf(buf, len, "%s %-7s %-10s %s%s%s", at, render_str(ev, "level"),
	    render_str(ev, "phase"), strcmp(node, "-") ? node : "",
	    strcmp(node, "-") ? ": " : "", render_str(ev, "message"));
}

static void
put_cut(FILE *f, const char *line, int width)
{
	if (width > 0 && (int)strlen(line) > width)
		fprintf(f, "%.*s\n", width, line);
	else
		fprintf(f, "%s\n", line);
}

void
render_nodes(FILE *f, json_t *nodes, int width, const char *indent)
{
	char line[512], cpu[16];
	json_t *n, *c;
	size_t i;

	if (!json_is_array(nodes) || json_array_size(nodes) == 0)
		return;
	snprintf(line, sizeof(line), "%s%-20s %-15s %-11s %-12s %-9s %-14s %-10s %4s",
	    indent, "INSTANCE", "IP", "ROLE", "STEP", "VERSION", "ELB", "BITBUCKET", "CPU");
	put_cut(f, line, width);
	json_array_foreach(nodes, i, n) {
		c = json_object_get(n, "cpu");
		if (json_is_number(c))
			snprintf(cpu, sizeof(cpu), "%.0f%%", json_number_value(c));
		else
			snprintf(cpu, sizeof(cpu), "-");
		snprintf(line, sizeof(line), "%s%-20s %-15s %-11s %-12s %-9s %-14s %-10s %4s",
		    indent, render_str(n, "instance"), render_str(n, "ip"),
		    render_str(n, "role"), render_str(n, "step"), render_str(n, "version"),
		    render_str(n, "elb"), render_str(n, "bitbucket"), cpu);
		put_cut(f, line, width);
	}
}

void
render_outcome(char *buf, size_t len, json_t *u)
{
	const char *state = render_str(u, "state");
	const char *reason = json_string_value(json_object_get(u, "reason"));
	long long id = int_of(u, "id", 0);

	if (strcmp(state, "done") == 0)
		snprintf(buf, len, "upgrade #%lld completed: %s runs %s", id,
		    render_str(u, "deployment"), render_str(u, "to_version"));
	else if (strcmp(state, "halted") == 0)
		/* Halted by preflight, nothing has changed: there is nothing to roll back. */
		snprintf(buf, len, "upgrade #%lld halted%s%s; fix the cause and run "
		    "'bbctl resume', or %s", id, reason ? ": " : "", reason ? reason : "",
		    strcmp(render_str(u, "phase"), "preflight") == 0 ? "'bbctl cancel' "
		    "to drop it (nothing has been changed)" : "'bbctl rollback'");
	else if (strcmp(state, "cancelled") == 0)
		snprintf(buf, len, "upgrade #%lld was cancelled: %s stays on %s", id,
		    render_str(u, "deployment"), render_str(u, "from_version"));
	else if (strcmp(state, "rolled_back") == 0)
		snprintf(buf, len, "upgrade #%lld was rolled back: %s runs %s again", id,
		    render_str(u, "deployment"), render_str(u, "from_version"));
	else if (strcmp(state, "failed") == 0)
		snprintf(buf, len, "upgrade #%lld failed%s%s", id, reason ? ": " : "",
		    reason ? reason : "");
	else
		snprintf(buf, len, "upgrade #%lld is %s", id, state);
}

int
render_waiting(char *buf, size_t len, json_t *u)
{
	json_t *w = json_object_get(u, "wait");
	const char *marker = json_string_value(json_object_get(w, "marker"));
	json_t *deadline = json_object_get(w, "deadline_s");
	char dl[32];
	int n;

	buf[0] = '\0';
	if (!json_is_object(w) || strcmp(render_str(u, "state"), "running") != 0)
		return 0;
	if (marker != NULL && marker[0] != '\0')
		n = snprintf(buf, len, "waiting: %s (%s)", render_str(w, "kind"), marker);
	else
		n = snprintf(buf, len, "waiting: %s", render_str(w, "kind"));
	if (json_is_integer(deadline) && n > 0 && (size_t)n < len) {
		render_duration(dl, sizeof(dl), (long long)json_integer_value(deadline));
		n += snprintf(buf + n, len - (size_t)n, ", deadline in %s", dl);
	}
	return n;
}

/* --- the human printer ----------------------------------------------------------- */

static void
human_upgrade(json_t *u, const char *indent)
{
	json_t *prog = json_object_get(u, "progress");
	const char *reason = json_string_value(json_object_get(u, "reason"));
	const char *mode = json_string_value(json_object_get(u, "mode"));
	char bar[64], el[32], eta[32], wait[512];

	printf("upgrade #%lld: %s %s -> %s, %s (phase %s%s%s), started %s",
	    int_of(u, "id", 0), render_str(u, "deployment"), render_str(u, "from_version"),
	    render_str(u, "to_version"), render_str(u, "state"), render_str(u, "phase"),
	    mode && strcmp(mode, "forward") ? ", " : "",
	    mode && strcmp(mode, "forward") ? mode : "", render_str(u, "started"));
	if (json_is_string(json_object_get(u, "finished")))
		printf(", finished %s", render_str(u, "finished"));
	printf("\n");
	if (json_is_true(json_object_get(u, "pause_requested")))
		printf("%spause requested: it stops at the next safe point\n", indent);
	if (reason != NULL && reason[0] != '\0')
		printf("%sreason: %s\n", indent, reason);
	if (render_waiting(wait, sizeof(wait), u) > 0)
		printf("%s%s\n", indent, wait);
	if (json_is_object(prog)) {
		render_bar(bar, sizeof(bar), int_of(prog, "done", 0), int_of(prog, "total", 0),
		    20);
		render_duration(el, sizeof(el), int_of(prog, "elapsed_seconds", -1));
		render_duration(eta, sizeof(eta), strcmp(render_str(u, "state"), "running") ?
		    -1 : int_of(prog, "eta_seconds", -1));
		printf("%sprogress: %s (%lld/%lld), elapsed %s, ETA %s\n", indent, bar,
		    int_of(prog, "done", 0), int_of(prog, "total", 0), el, eta);
	}
	render_nodes(stdout, json_object_get(u, "nodes"), 0, indent);
}

static void
human_status(json_t *st)
{
	json_t *deps = json_object_get(st, "deployments"), *dep, *u;
	char up[32];
	size_t i;

	render_duration(up, sizeof(up), int_of(st, "uptime_seconds", 0));
	printf("bbupgraded %s (pid %lld), up %s\n", render_str(st, "version"),
	    int_of(st, "pid", 0), up);
	printf("deployments:%s\n", json_array_size(deps) ? "" : " none configured");
	json_array_foreach(deps, i, dep)
		printf("  %-16s %-14s stack %-24s %s  surge %lld\n", render_str(dep, "name"),
		    render_str(dep, "region"), render_str(dep, "stack"),
		    render_str(dep, "bitbucket_url"), int_of(dep, "surge", 0));
	u = json_object_get(st, "upgrade");
	if (!json_is_object(u))
		printf("upgrade: none yet\n");
	else
		human_upgrade(u, "  ");
}

/* Members of the plan this printer knows; the others are listed as they came. */
static const char *const plan_known[] = {
	"deployment", "target", "to_version", "stack_version", "from_version", "surge",
	"ok", "nodes", "order", "estimate", "estimate_seconds", "problems", "warnings",
};

static bool
plan_is_known(const char *key)
{
	for (size_t i = 0; i < sizeof(plan_known) / sizeof(plan_known[0]); i++)
		if (strcmp(plan_known[i], key) == 0)
			return true;
	return false;
}

static void
print_list(const char *title, json_t *a)
{
	json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	printf("%s:\n", title);
	json_array_foreach(a, i, v) {
		if (json_is_string(v)) {
			printf("  %zu. %s\n", i + 1, json_string_value(v));
		} else if (json_is_object(v) && json_object_get(v, "instance") != NULL) {
			printf("  %zu. %-20s %-15s %s\n", i + 1, render_str(v, "instance"),
			    render_str(v, "ip"), render_str(v, "action"));
		} else {
			char *s = json_dumps(v, JSON_COMPACT);
			printf("  %zu. %s\n", i + 1, s ? s : "?");
			free(s);
		}
	}
}

/* "2 stack changes, 3 boots, ..." from the estimate's counts. */
static void
print_estimate(json_t *est)
{
	const char *key;
	json_t *v;
	bool first = true;

	if (!json_is_object(est) || json_object_size(est) == 0)
		return;
	printf("estimate:");
	json_object_foreach(est, key, v) {
		char name[64];

		snprintf(name, sizeof(name), "%s", key);
		for (char *c = name; *c; c++)
			if (*c == '_')
				*c = ' ';
		printf("%s %lld %s", first ? "" : ",", (long long)json_integer_value(v),
		    name);
		first = false;
	}
	printf("\n");
}

static void
human_plan(json_t *reply)
{
	json_t *p = json_object_get(reply, "plan"), *v;
	const char *key, *to = render_str(p, "target"), *from;
	char est[32];

	if (strcmp(to, "-") == 0)
		to = render_str(p, "to_version");
	from = render_str(p, "stack_version");
	if (strcmp(from, "-") == 0)
		from = render_str(p, "from_version");
	printf("plan: %s from %s to %s, surge %lld\n", render_str(p, "deployment"), from,
	    to, int_of(p, "surge", 1));
	render_nodes(stdout, json_object_get(p, "nodes"), 0, "  ");
	print_list("order (least busy first, re-read before each)",
	    json_object_get(p, "order"));
	print_estimate(json_object_get(p, "estimate"));
	if (json_is_integer(json_object_get(p, "estimate_seconds"))) {
		render_duration(est, sizeof(est), int_of(p, "estimate_seconds", 0));
		printf("estimated duration: %s\n", est);
	}
	print_list("warnings", json_object_get(p, "warnings"));
	print_list("problems", json_object_get(p, "problems"));
	json_object_foreach(p, key, v) {
		char *s;

		if (plan_is_known(key))
			continue;
		s = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s: %s\n", key, s ? s : "?");
		free(s);
	}
}

static void
human_started(json_t *reply, const char *dep, const char *to)
{
	long long id = int_of(reply, "id", 0);

	printf("upgrade #%lld of %s to %s started; follow it with 'bbctl watch %lld'\n",
	    id, dep, to, id);
}

static void
human_command(const char *verb, json_t *r)
{
	bool already = json_is_true(json_object_get(r, "already"));
	const char *state = render_str(r, "state");
	long long id = int_of(r, "id", 0);

	if (strcmp(verb, "pause") == 0) {
		if (already)
			printf("upgrade #%lld: already paused%s\n", id,
			    strcmp(state, "paused") ? " (at the next safe point)" : "");
		else if (strcmp(state, "paused") == 0)
			printf("upgrade #%lld paused; 'bbctl resume' goes on\n", id);
		else
			printf("upgrade #%lld: pause requested; it stops at the next safe "
			    "point ('bbctl watch' shows when)\n", id);
	} else if (strcmp(verb, "resume") == 0) {
		printf(already ? "upgrade #%lld: already running\n" :
		    "upgrade #%lld resumed\n", id);
	} else if (strcmp(verb, "cancel") == 0) {
		printf(already ? "upgrade #%lld: already being cancelled\n" :
		    "upgrade #%lld: cancelling; the surge nodes are removed and the cluster "
		    "stays on its version ('bbctl watch' follows it)\n", id);
	} else {
		printf(already ? "upgrade #%lld: already rolling back\n" :
		    "upgrade #%lld: rolling back to the original version ('bbctl watch' "
		    "follows it)\n", id);
	}
}

static void
human_history(json_t *reply)
{
	json_t *ups = json_object_get(reply, "upgrades"), *u;
	size_t i;

	if (json_array_size(ups) == 0) {
		printf("no upgrades yet\n");
		return;
	}
	printf("%-6s %-16s %-10s %-10s %-12s %-21s %s\n", "ID", "DEPLOYMENT", "FROM", "TO",
	    "STATE", "STARTED", "FINISHED");
	json_array_foreach(ups, i, u)
		printf("%-6lld %-16s %-10s %-10s %-12s %-21s %s\n", int_of(u, "id", 0),
		    render_str(u, "deployment"), render_str(u, "from_version"),
		    render_str(u, "to_version"), render_str(u, "state"),
		    render_str(u, "started"), render_str(u, "finished"));
}

static void
human_events(json_t *events, bool first_page)
{
	char line[1024];
	json_t *ev;
	size_t i;

	if (first_page && json_array_size(events) == 0)
		printf("no events\n");
	json_array_foreach(events, i, ev) {
		render_event_line(line, sizeof(line), ev);
		printf("%5lld %s\n", int_of(ev, "id", 0), line);
	}
}

static void
human_version(const char *client, const char *daemon)
{
	printf("bbctl %s\n", client);
	if (daemon != NULL)
		printf("bbupgraded %s\n", daemon);
}

static void
human_ping(const char *daemon, const char *socket, double ms)
{
	printf("bbupgraded %s on %s answered in %.2f ms\n", daemon, socket, ms);
}

/* A parameter's value as text, whatever its JSON type. */
static char *
param_text(json_t *v)
{
	if (v == NULL)
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* One problem, already said by the summary. */
static bool
single_problem(json_t *params)
{
	json_t *pr = json_object_get(params, "problems");
	const char *summary = json_string_value(json_object_get(params, "summary"));

	return json_array_size(pr) == 1 && summary != NULL &&
	    json_is_string(json_array_get(pr, 0)) &&
	    strcmp(json_string_value(json_array_get(pr, 0)), summary) == 0;
}

static void
human_error(json_t *reply, const char *hint)
{
	const char *name = json_string_value(json_object_get(reply, "error"));
	const struct vl_error_info *info = vl_error_lookup(name);
	json_t *params = json_object_get(reply, "parameters");

	if (info != NULL) {
		char *v = info->param ? param_text(json_object_get(params, info->param)) :
		    NULL;
		const char *at = strstr(info->message, "%s");

		if (at == NULL)
			fprintf(stderr, "bbctl: %s\n", info->message);
		else
			fprintf(stderr, "bbctl: %.*s%s%s\n", (int)(at - info->message),
			    info->message, v ? v : "?", at + 2);
		free(v);
		if (json_is_integer(json_object_get(params, "id")) &&
		    strcmp(name, vl_error_name(BBE_UPGRADE_IN_PROGRESS)) == 0)
			fprintf(stderr, "bbctl: the running upgrade is #%" JSON_INTEGER_FORMAT
			    "\n", json_integer_value(json_object_get(params, "id")));
		if (strcmp(name, vl_error_name(BBE_PREFLIGHT_FAILED)) == 0 &&
		    !single_problem(params)) {
			json_t *pr;
			size_t i;

			json_array_foreach(json_object_get(params, "problems"), i, pr) {
				char *t = param_text(pr);
				fprintf(stderr, "  - %s\n", t ? t : "?");
				free(t);
			}
		}
	} else {
		char *dump = json_dumps(params, JSON_COMPACT);

		fprintf(stderr, "bbctl: the daemon answered %s %s\n", name ? name : "?",
		    dump ? dump : "");
		free(dump);
	}
	if (hint != NULL)
		fprintf(stderr, "bbctl: %s\n", hint);
}

static void
human_watch_upgrade(json_t *u, bool first, bool final)
{
	static char last_phase[64], last_state[32];
	const char *phase = render_str(u, "phase"), *state = render_str(u, "state");
	char out[1024];

	/* Between the first and the last, only changes of phase or state are news. */
	if (first) {
		human_upgrade(u, "  ");
	} else if (final) {
		render_outcome(out, sizeof(out), u);
		printf("%s\n", out);
	} else if (strcmp(phase, last_phase) != 0 || strcmp(state, last_state) != 0) {
		printf("upgrade #%lld: %s, phase %s\n", int_of(u, "id", 0), state, phase);
	}
	snprintf(last_phase, sizeof(last_phase), "%s", phase);
	snprintf(last_state, sizeof(last_state), "%s", state);
	fflush(stdout);
}

static void
human_watch_event(json_t *ev)
{
	char line[1024];

	render_event_line(line, sizeof(line), ev);
	printf("%s\n", line);
	fflush(stdout);
}

const struct render render_human = {
	human_status, human_plan, human_started, human_command, human_history,
	human_events, human_version, human_ping, human_error, human_watch_upgrade,
	human_watch_event,
};

/* --- the JSON printer ------------------------------------------------------------ */

static void
print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
}

static void
json_status(json_t *st)
{
	print_json(st);
}

static void
json_started(json_t *reply, const char *dep, const char *to)
{
	print_json(reply);
}

static void
json_command(const char *verb, json_t *reply)
{
	print_json(reply);
}

static void
json_events(json_t *events, bool first_page)
{
	json_t *ev;
	size_t i;

	/* One event per line: pages of any size make one stream. */
	json_array_foreach(events, i, ev)
		print_json(ev);
}

static void
json_version(const char *client, const char *daemon)
{
	json_t *j = json_pack("{s:s, s:s?}", "client", client, "daemon", daemon);

	print_json(j);
	json_decref(j);
}

static void
json_ping(const char *daemon, const char *socket, double ms)
{
	json_t *j = json_pack("{s:s, s:f}", "daemon", daemon, "round_trip_ms", ms);

	print_json(j);
	json_decref(j);
}

static void
json_error(json_t *reply, const char *hint)
{
	print_json(reply);
}

static void
json_watch_upgrade(json_t *u, bool first, bool final)
{
	json_t *j = json_pack("{s:O}", "upgrade", u);

	print_json(j);
	json_decref(j);
}

static void
json_watch_event(json_t *ev)
{
	json_t *j = json_pack("{s:O}", "event", ev);

	print_json(j);
	json_decref(j);
}

const struct render render_json = {
	json_status, print_json, json_started, json_command, print_json, json_events,
	json_version, json_ping, json_error, json_watch_upgrade, json_watch_event,
};
