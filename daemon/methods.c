/*
 * The control protocol's methods (see methods.h and schema/io.bbupgraded.varlink).
 * Handlers only read state or make one call of the engine; the checks before them are
 * table-driven so that every method gets the same treatment of bad parameters, of
 * "more" and of permissions. Nothing here performs an upgrade step.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/varlink.h"
#include "common/version.h"
#include "daemon/control.h"
#include "daemon/embedded.h"
#include "daemon/methods.h"
#include "daemon/store.h"

#define IFACE_SERVICE	"org.varlink.service"
#define IFACE_OURS	"io.bbupgraded"

/* The standard interface every varlink service implements, as its specification gives it. */
static const char service_idl[] =
"# The Varlink Service Interface is provided by every varlink service. It\n"
"# describes the service and the interfaces it implements.\n"
"interface org.varlink.service\n"
"\n"
"# Get a list of all the interfaces a service provides and information\n"
"# about the implementation.\n"
"method GetInfo() -> (\n"
"  vendor: string,\n"
"  product: string,\n"
"  version: string,\n"
"  url: string,\n"
"  interfaces: []string\n"
")\n"
"\n"
"# Get the description of an interface that is implemented by this service.\n"
"method GetInterfaceDescription(interface: string) -> (description: string)\n"
"\n"
"# The requested interface was not found.\n"
"error InterfaceNotFound (interface: string)\n"
"\n"
"# The requested method was not found\n"
"error MethodNotFound (method: string)\n"
"\n"
"# The interface defines the requested method, but the service does not\n"
"# implement it.\n"
"error MethodNotImplemented (method: string)\n"
"\n"
"# One of the passed parameters is invalid.\n"
"error InvalidParameter (parameter: string)\n"
"\n"
"# Client is denied access\n"
"error PermissionDenied ()\n"
"\n"
"# Method is expected to be called with 'more' set to true, but wasn't\n"
"error ExpectedMore ()\n";


/* A check of one parameter's value after its type: NULL if fine, else the error reply. */
typedef json_t	*(*param_check)(const char *name, json_t *value);

struct param {
	const char	*name;
	json_type	 type;
	bool		 required;
	param_check	 check;		/* NULL: the type is enough; not run on null */
};

#define M_MUTATING	0x1	/* uid 0, the daemon's uid or control_group */
#define M_STREAMS	0x2	/* only with "more": true (else ExpectedMore) */

struct method {
	const char	*name;
	unsigned	 flags;
	const struct param *params;	/* NULL-name terminated */
	json_t		*(*handler)(json_t *params, const struct peer *, struct ctl_call *);
};

/* One Watch call held open. */
struct watcher {
	struct ctl_call		*call;
	struct engine_watch	*ew;
	int64_t			 id;		/* the upgrade watched */
	int64_t			 last_event;	/* the id of the last event sent */
	json_t			*last;		/* the status last sent */
	bool			 starting;	/* inside engine_watch() */
	bool			 ended;		/* its final reply is sent */
	struct watcher		*next, **prevp;
};

/* One Plan call waiting for the engine's preflight. */
struct pending_plan {
	struct ctl_call		*call;		/* NULL once the client has gone */
};

static const struct methods_engine real_engine = {
	engine_plan, engine_start, engine_pause, engine_resume, engine_cancel,
	engine_rollback, engine_status, engine_watch, engine_unwatch,
};

static struct {
	const struct config	*cfg;
	struct store		*store;
	uint64_t		 started;	/* uv_hrtime() at init */
	const struct methods_engine *engine;
	uv_timer_t		 snapshot;	/* the watchers' status refresh */
	uv_timer_t		 check;		/* after events: has an upgrade halted? */
	bool			 has_timer;
	struct watcher		*watchers;
	int			 nwatchers;
} m = { .engine = &real_engine };

void
methods_init(const struct config *cfg, struct store *store)
{
	m.cfg = cfg;
	m.store = store;
	m.started = uv_hrtime();
}

void
methods_set_engine(const struct methods_engine *e)
{
	m.engine = e != NULL ? e : &real_engine;
}

int
methods_nwatchers(void)
{
	return m.nwatchers;
}

static json_t *
error_reply(enum vl_error e, const char *value)
{
	const struct vl_error_info *info = vl_error_info(e);
	json_t *params = json_object();

	if (info->param != NULL)
		json_object_set_new(params, info->param, json_string(value ? value : ""));
	return vl_error_new(info->name, params);
}

static json_t *
no_such_upgrade(int64_t id)
{
	char buf[24];

	/* errors.h: the id travels as a string, like every explaining parameter. */
	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return error_reply(BBE_NO_SUCH_UPGRADE, buf);
}

/* The engine's refusal as a typed error; takes its parameters. */
static json_t *
refusal_reply(struct engine_refusal *r)
{
	enum vl_error e = r->error >= 0 && r->error < VLE_NERRORS ? r->error : BBE_INTERNAL;
	const struct vl_error_info *info = vl_error_info(e);
	json_t *params = json_is_object(r->params) ? r->params : json_object();

	if (params != r->params)
		json_decref(r->params);
	r->params = NULL;
	/* The parameter the error is explained by is never missing (bbctl prints it). */
	if (info->param != NULL && json_object_get(params, info->param) == NULL)
		json_object_set_new(params, info->param, json_string(
		    e == BBE_INTERNAL ? "the engine gave no reason" : ""));
	return vl_error_new(info->name, params);
}

/* --- parameter checks ------------------------------------------------------ */

static json_t *
check_version(const char *name, json_t *v)
{
	struct bb_version ver;

	return version_parse(json_string_value(v), &ver) == -1 ?
	    error_reply(VLE_INVALID_PARAMETER, name) : NULL;
}

static json_t *
check_deployment(const char *name, json_t *v)
{
	const char *d = json_string_value(v);

	return config_deployment(m.cfg, d) == NULL ?
	    error_reply(BBE_NO_SUCH_DEPLOYMENT, d) : NULL;
}

static json_t *
check_positive(const char *name, json_t *v)
{
	return json_integer_value(v) < 1 ? error_reply(VLE_INVALID_PARAMETER, name) : NULL;
}

static json_t *
check_not_negative(const char *name, json_t *v)
{
	return json_integer_value(v) < 0 ? error_reply(VLE_INVALID_PARAMETER, name) : NULL;
}

static json_t *
check_history_limit(const char *name, json_t *v)
{
	json_int_t n = json_integer_value(v);

	return n < 1 || n > METHODS_HISTORY_MAX ?
	    error_reply(VLE_INVALID_PARAMETER, name) : NULL;
}

static json_t *
check_events_limit(const char *name, json_t *v)
{
	json_int_t n = json_integer_value(v);

	return n < 1 || n > METHODS_EVENTS_MAX ?
	    error_reply(VLE_INVALID_PARAMETER, name) : NULL;
}

/* An optional integer parameter, or its default when absent or null. */
static int64_t
int_param(json_t *params, const char *name, int64_t dflt)
{
	json_t *v = json_object_get(params, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* --- the upgrade as the protocol shows it ------------------------------------ */

static json_t *
iso8601_ms(int64_t ms, bool with_ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
	else
		snprintf(buf + n, sizeof(buf) - n, "Z");
	return json_string(buf);
}

static json_t *
opt_string(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
upgrade_json(const struct upgrade_summary *u)
{
	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:i, s:o, s:o, s:o}",
	    "id", (json_int_t)u->id, "deployment", u->deployment,
	    "from_version", opt_string(u->from_version),
	    "to_version", u->to_version, "state", u->state, "phase", u->phase,
	    "surge", u->surge, "reason", opt_string(u->reason),
	    "started", iso8601_ms(u->created_at, false),
	    "finished", u->finished_at ? iso8601_ms(u->finished_at, false) : json_null());
}

static json_int_t
int_member(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Moves o[from] to o[to] unless o[to] is already set. */
static void
rename_member(json_t *o, const char *from, const char *to)
{
	json_t *v = json_object_get(o, from);

	if (v == NULL)
		return;
	if (json_is_null(json_object_get(o, to)) || json_object_get(o, to) == NULL)
		json_object_set(o, to, v);
	json_object_del(o, from);
}

/*
 * The engine's status in the protocol's terms (schema: type Upgrade): from and to as
 * from_version and to_version, the halt's reason as reason, and the progress as done
 * of total nodes (replaced plus retired, of those to replace plus the surge to
 * retire) with the elapsed time; the engine's own members stay as they are.
 */
static void
normalise(json_t *u)
{
	json_t *p = json_object_get(u, "progress");
	json_t *halt = json_object_get(u, "halt");

	rename_member(u, "from", "from_version");
	rename_member(u, "to", "to_version");
	if (json_is_string(json_object_get(halt, "reason")) &&
	    json_is_null(json_object_get(u, "reason")))
		json_object_set(u, "reason", json_object_get(halt, "reason"));
	if (!json_is_object(p))
		return;
	if (json_object_get(p, "done") == NULL)
		json_object_set_new(p, "done", json_integer(int_member(p, "replaced") +
		    int_member(p, "retired")));
	if (json_object_get(p, "total") == NULL)
		json_object_set_new(p, "total", json_integer(int_member(p, "to_replace") +
		    (int_member(p, "to_replace") > 0 ? int_member(p, "surge") : 0)));
	if (json_object_get(p, "elapsed_seconds") == NULL &&
	    json_is_integer(json_object_get(u, "elapsed_s")))
		json_object_set(p, "elapsed_seconds", json_object_get(u, "elapsed_s"));
}

/*
 * Upgrade id (0: the newest) as the store has it, with what the engine knows of it
 * (progress, nodes, ...) laid over when it is the engine's current upgrade. 1 with
 * *out set, 0 if there is no such upgrade, -1 if the store cannot be read.
 */
static int
upgrade_view(int64_t id, json_t **out)
{
	struct upgrade_summary u;
	json_t *st;
	int rc;

	*out = NULL;
	rc = id == 0 ? store_latest_upgrade(m.store, &u) : store_upgrade(m.store, id, &u);
	if (rc != 1)
		return rc;
	*out = upgrade_json(&u);
	if ((st = m.engine->status()) != NULL) {
		json_t *sid = json_object_get(st, "id");
		if (json_is_object(st) && (sid == NULL ||
		    (json_is_integer(sid) && json_integer_value(sid) == u.id))) {
			json_object_update(*out, st);
			normalise(*out);
		}
		json_decref(st);
	}
	return 1;
}

/* --- introspection and status ------------------------------------------------ */

static json_t *
get_info(json_t *params, const struct peer *p, struct ctl_call *call)
{
	return vl_reply_new(json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}",
	    "vendor", "bbupgraded", "product", "bbupgraded", "version", BB_VERSION,
	    "url", "man:bbupgraded(8)", "interfaces", IFACE_SERVICE, IFACE_OURS), false);
}

static json_t *
get_interface_description(json_t *params, const struct peer *p, struct ctl_call *call)
{
	const char *iface = json_string_value(json_object_get(params, "interface"));
	const char *idl = NULL;

	if (strcmp(iface, IFACE_SERVICE) == 0)
		idl = service_idl;
	else if (strcmp(iface, IFACE_OURS) == 0)
		idl = embedded_varlink_idl;
	if (idl == NULL)
		return error_reply(VLE_INTERFACE_NOT_FOUND, iface);
	return vl_reply_new(json_pack("{s:s}", "description", idl), false);
}

static json_t *
status(json_t *params, const struct peer *p, struct ctl_call *call)
{
	json_t *deps = json_array(), *up;

	for (size_t i = 0; i < m.cfg->ndeployments; i++) {
		const struct deployment *d = &m.cfg->deployments[i];
		json_array_append_new(deps, json_pack("{s:s, s:s, s:s, s:s, s:i}",
		    "name", d->name, "region", d->region, "stack", d->stack,
		    "bitbucket_url", d->bitbucket_url, "surge", d->surge));
	}
	if (upgrade_view(0, &up) == -1) {
		json_decref(deps);
		return error_reply(BBE_INTERNAL, "cannot read the state database");
	}
	return vl_reply_new(json_pack("{s:s, s:i, s:I, s:o, s:o}",
	    "version", BB_VERSION, "pid", (int)getpid(),
	    "uptime_seconds", (json_int_t)((uv_hrtime() - m.started) / 1000000000),
	    "deployments", deps, "upgrade", up != NULL ? up : json_null()), false);
}

/* --- plan and start ---------------------------------------------------------- */

static void
plan_gone(void *arg)
{
	struct pending_plan *pp = arg;

	pp->call = NULL;	/* the engine's answer will find nobody: dropped */
}

/*
 * The engine's preflight is done: the plan, or the refusal (a failed preflight comes
 * with both). Both are ours (engine.c): put in the reply or released.
 */
static void
plan_done(json_t *plan, const struct engine_refusal *r, void *arg)
{
	struct pending_plan *pp = arg;
	struct engine_refusal refusal;
	json_t *reply = NULL;

	if (pp->call != NULL) {
		if (r != NULL) {
			refusal = *r;
			/* The nodes it saw help to read the problems: sent along. */
			if (json_is_object(refusal.params) && json_is_object(plan))
				json_object_set(refusal.params, "plan", plan);
			reply = refusal_reply(&refusal);
		} else if (json_is_object(plan)) {
			reply = vl_reply_new(json_pack("{s:O}", "plan", plan), false);
		} else {
			reply = error_reply(BBE_INTERNAL, "the engine returned no plan");
		}
		ctl_call_send(pp->call, reply);
	} else if (r != NULL) {
		json_decref(r->params);
	}
	json_decref(reply);
	json_decref(plan);
	free(pp);
}

static json_t *
plan(json_t *params, const struct peer *p, struct ctl_call *call)
{
	const char *dep = json_string_value(json_object_get(params, "deployment"));
	const char *ver = json_string_value(json_object_get(params, "version"));
	struct pending_plan *pp;

	if (call == NULL)
		return error_reply(BBE_INTERNAL, "Plan needs a connection");
	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return error_reply(BBE_INTERNAL, "out of memory");
	pp->call = call;
	ctl_call_keep(call, plan_gone, pp);
	/* The answer may come before engine_plan() returns: plan_done() handles both. */
	if (m.engine->plan(dep, ver, plan_done, pp) == -1) {
		json_t *reply = error_reply(BBE_INTERNAL, "the preflight could not start");

		if (pp->call != NULL)
			ctl_call_send(pp->call, reply);
		json_decref(reply);
		free(pp);
	}
	return NULL;
}

static json_t *
start(json_t *params, const struct peer *p, struct ctl_call *call)
{
	const char *dep = json_string_value(json_object_get(params, "deployment"));
	const char *ver = json_string_value(json_object_get(params, "version"));
	struct engine_refusal r = { BBE_INTERNAL, NULL };
	int64_t id = 0;

	if (m.engine->start(dep, ver, &id, &r) == -1)
		return refusal_reply(&r);
	log_info("control: pid %ld uid %lu started upgrade %" PRId64 " of %s to %s",
	    (long)p->pid, (unsigned long)p->uid, id, dep, ver);
	return vl_reply_new(json_pack("{s:I}", "id", (json_int_t)id), false);
}

/* --- pause, resume, cancel, rollback ----------------------------------------- */

static bool
str_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && strcmp(v, want) == 0;
}

/* Whether the upgrade, as the engine shows it, already is where a command leads. */
static bool
already_paused(json_t *st)
{
	return str_is(st, "state", "paused") ||
	    (str_is(st, "state", "running") &&
	    json_is_true(json_object_get(st, "pause_requested")));
}

static bool
already_running(json_t *st)
{
	return str_is(st, "state", "running") &&
	    !json_is_true(json_object_get(st, "pause_requested"));
}

/* Asked for (reverse_requested) or in effect (mode) since the last safe point. */
static bool
already_cancelling(json_t *st)
{
	return str_is(st, "mode", "cancel") || str_is(st, "reverse_requested", "cancel");
}

static bool
already_rolling_back(json_t *st)
{
	return str_is(st, "mode", "rollback") ||
	    str_is(st, "reverse_requested", "rollback");
}

/*
 * One operator command: the engine decides (repeating one is not an error there); the
 * reply says whether it changed anything, so that bbctl can say "already paused".
 */
static json_t *
command(const char *verb, int (*run)(struct engine_refusal *),
    bool (*already_so)(json_t *), const struct peer *p)
{
	struct engine_refusal r = { BBE_INTERNAL, NULL };
	json_t *before = m.engine->status(), *after, *reply;
	bool already = before != NULL && already_so(before);

	json_decref(before);
	if (run(&r) == -1)
		return refusal_reply(&r);
	after = m.engine->status();
	log_info("control: pid %ld uid %lu: %s%s", (long)p->pid, (unsigned long)p->uid,
	    verb, already ? " (already so)" : "");
	reply = vl_reply_new(json_pack("{s:O?, s:b, s:O?, s:O?}",
	    "id", json_object_get(after, "id"), "already", already,
	    "state", json_object_get(after, "state"),
	    "mode", json_object_get(after, "mode")), false);
	json_decref(after);
	return reply;
}

static json_t *
pause_(json_t *params, const struct peer *p, struct ctl_call *call)
{
	return command("pause", m.engine->pause, already_paused, p);
}

static json_t *
resume(json_t *params, const struct peer *p, struct ctl_call *call)
{
	return command("resume", m.engine->resume, already_running, p);
}

static json_t *
cancel(json_t *params, const struct peer *p, struct ctl_call *call)
{
	return command("cancel", m.engine->cancel, already_cancelling, p);
}

static json_t *
rollback(json_t *params, const struct peer *p, struct ctl_call *call)
{
	return command("rollback", m.engine->rollback, already_rolling_back, p);
}

/* --- history and events ------------------------------------------------------ */

static int
history_row(const struct upgrade_summary *u, void *arg)
{
	json_array_append_new(arg, upgrade_json(u));
	return 0;
}

static json_t *
history(json_t *params, const struct peer *p, struct ctl_call *call)
{
	json_t *ups = json_array();

	if (store_history(m.store, (int)int_param(params, "limit", 20), history_row,
	    ups) == -1) {
		json_decref(ups);
		return error_reply(BBE_INTERNAL, "cannot read the state database");
	}
	return vl_reply_new(json_pack("{s:o}", "upgrades", ups), false);
}

/* An event row as the protocol shows it: the same shape as the events Watch streams. */
static json_t *
event_json(const struct store_event *ev)
{
	json_t *data = NULL;

	if (ev->data != NULL)
		data = json_loads(ev->data, JSON_DECODE_ANY, NULL);
	return json_pack("{s:I, s:I, s:o, s:s, s:o, s:o, s:s, s:o}",
	    "id", (json_int_t)ev->id, "upgrade", (json_int_t)ev->upgrade_id,
	    "at", iso8601_ms(ev->at, true), "level", ev->level,
	    "phase", opt_string(ev->phase), "node", opt_string(ev->node),
	    "message", ev->message, "data", data != NULL ? data : json_object());
}

struct events_page {
	json_t		*events;
	size_t		 bytes;		/* their size, roughly as sent */
	int64_t		 last;		/* the id of the last one taken */
	bool		 full;		/* stopped by the byte budget */
};

static int
events_row(const struct store_event *ev, void *arg)
{
	struct events_page *pg = arg;
	json_t *j = event_json(ev);
	size_t len = json_dumpb(j, NULL, 0, JSON_COMPACT);

	/* One reply stays far below the output queue: the rest is for the next call. */
	if (json_array_size(pg->events) > 0 && pg->bytes + len > METHODS_EVENTS_BYTES) {
		json_decref(j);
		pg->full = true;
		return 1;
	}
	pg->bytes += len;
	pg->last = ev->id;
	json_array_append_new(pg->events, j);
	return 0;
}

static json_t *
events(json_t *params, const struct peer *p, struct ctl_call *call)
{
	int64_t id = int_param(params, "id", 0);
	int64_t since = int_param(params, "since", 0);
	int limit = (int)int_param(params, "limit", 100);
	struct events_page pg = { .events = json_array() };
	struct upgrade_summary u;
	int n, rc;

	if ((rc = store_upgrade(m.store, id, &u)) != 1) {
		json_decref(pg.events);
		return rc == 0 ? no_such_upgrade(id) :
		    error_reply(BBE_INTERNAL, "cannot read the state database");
	}
	/* One more than asked: whether another page follows. */
	if ((n = store_events(m.store, id, since, limit + 1, events_row, &pg)) == -1) {
		json_decref(pg.events);
		return error_reply(BBE_INTERNAL, "cannot read the state database");
	}
	if (!pg.full && json_array_size(pg.events) > (size_t)limit) {
		json_array_remove(pg.events, (size_t)limit);
		pg.last = json_integer_value(json_object_get(json_array_get(pg.events,
		    (size_t)limit - 1), "id"));
		pg.full = true;
	}
	return vl_reply_new(json_pack("{s:o, s:o}", "events", pg.events,
	    "next", pg.full ? json_integer(pg.last) : json_null()), false);
}

/* --- watch ------------------------------------------------------------------- */

static void
watcher_free(struct watcher *w)
{
	*w->prevp = w->next;
	if (w->next != NULL)
		w->next->prevp = w->prevp;
	if (--m.nwatchers == 0 && m.has_timer) {
		uv_timer_stop(&m.snapshot);
		uv_timer_stop(&m.check);
	}
	json_decref(w->last);
	free(w);
}

/* Sends {"upgrade": st} (stolen) unless it is what the watcher last got. */
static void
watcher_status(struct watcher *w, json_t *st, bool final)
{
	json_t *reply;

	if (!final && w->last != NULL && json_equal(w->last, st)) {
		json_decref(st);
		return;
	}
	json_decref(w->last);
	w->last = st;
	reply = vl_reply_new(json_pack("{s:O}", "upgrade", st), !final);
	ctl_call_send(w->call, reply);
	json_decref(reply);
}

/* The last reply: the upgrade's final state; the call ends with it. */
static void
watcher_end(struct watcher *w)
{
	json_t *st;

	w->ended = true;
	if (upgrade_view(w->id, &st) != 1) {
		json_t *err = error_reply(BBE_INTERNAL, "cannot read the state database");

		ctl_call_send(w->call, err);
		json_decref(err);
	} else {
		watcher_status(w, st, true);
	}
	w->call = NULL;
	if (!w->starting)
		watcher_free(w);
}

static void check_cb(uv_timer_t *);

static void
watcher_event(struct watcher *w, json_t *event)
{
	json_t *reply = vl_reply_new(json_pack("{s:O}", "event", event), true);
	json_t *id = json_object_get(event, "id");

	if (json_is_integer(id) && json_integer_value(id) > w->last_event)
		w->last_event = json_integer_value(id);
	ctl_call_send(w->call, reply);	/* a dropped client: gone follows from the loop */
	json_decref(reply);
}

static int
drain_row(const struct store_event *ev, void *arg)
{
	json_t *j = event_json(ev);

	watcher_event(arg, j);
	json_decref(j);
	return 0;
}

/* Soon, once the engine has told every event committed so far: see watcher_check(). */
static void
check_soon(void)
{
	if (m.has_timer && !uv_is_active((uv_handle_t *)&m.check))
		uv_timer_start(&m.check, check_cb, METHODS_CHECK_MS, 0);
}

/* From the engine: one event (borrowed), or NULL when the upgrade has ended. */
static void
watch_event(json_t *event, void *arg)
{
	struct watcher *w = arg;
	json_t *id = json_object_get(event, "id");

	if (w->ended)
		return;		/* cannot happen: the engine stops after NULL */
	if (json_is_integer(id) && json_integer_value(id) <= w->last_event)
		return;		/* told already: never twice */
	if (event == NULL) {
		w->ew = NULL;	/* the subscription ended by itself */
		watcher_end(w);
		return;
	}
	watcher_event(w, event);
	check_soon();
}

/*
 * A halted upgrade has not ended for the engine (it waits for resume or rollback),
 * but a watcher is done with it: it gets the halted state as its last reply, and the
 * exit status of bbctl watch says so; an upgrade that has ended is done with the same
 * way if we see it first. The events committed with the halt that the engine has not
 * told yet are sent from the store first, so that none is lost. Called from the loop,
 * never inside the engine's callback, so that unsubscribing here is safe. true if it
 * ended the watch (w is then freed).
 */
static bool
watcher_check(struct watcher *w)
{
	struct upgrade_summary u;
	int n;

	if (w->ended || store_upgrade(m.store, w->id, &u) != 1 ||
	    strcmp(u.state, "running") == 0 || strcmp(u.state, "paused") == 0)
		return false;
	if (w->ew != NULL)
		m.engine->unwatch(w->ew);
	w->ew = NULL;
	do
		n = store_events(m.store, w->id, w->last_event, 256, drain_row, w);
	while (n == 256);
	watcher_end(w);
	return true;
}

/* After events: the status they changed (if it did), and whether it halted. */
static void
check_cb(uv_timer_t *t)
{
	struct watcher *w, *next;
	json_t *st;

	for (w = m.watchers; w != NULL; w = next) {
		next = w->next;
		if (!watcher_check(w) && upgrade_view(w->id, &st) == 1)
			watcher_status(w, st, false);
	}
}

/* The client went away: unsubscribe, forget. Runs from the loop, never from a send. */
static void
watch_gone(void *arg)
{
	struct watcher *w = arg;

	if (w->ew != NULL)
		m.engine->unwatch(w->ew);
	watcher_free(w);
}

static void
snapshot_cb(uv_timer_t *t)
{
	struct watcher *w, *next;
	json_t *st;

	for (w = m.watchers; w != NULL; w = next) {
		next = w->next;
		if (!w->ended && upgrade_view(w->id, &st) == 1)
			watcher_status(w, st, false);
	}
	check_soon();
}

static json_t *
watch(json_t *params, const struct peer *p, struct ctl_call *call)
{
	json_t *idp = json_object_get(params, "id"), *st;
	int64_t since = int_param(params, "since", 0);
	struct watcher *w;
	int64_t id = 0;
	int rc;

	if (call == NULL)
		return error_reply(BBE_INTERNAL, "Watch needs a connection");
	if (json_is_integer(idp))
		id = json_integer_value(idp);
	if ((rc = upgrade_view(id, &st)) != 1) {
		if (rc == -1)
			return error_reply(BBE_INTERNAL, "cannot read the state database");
		return id != 0 ? no_such_upgrade(id) : error_reply(BBE_NO_UPGRADE, NULL);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		json_decref(st);
		return error_reply(BBE_INTERNAL, "out of memory");
	}
	w->call = call;
	w->id = json_integer_value(json_object_get(st, "id"));
	w->last_event = since;
	w->next = m.watchers;
	if (w->next != NULL)
		w->next->prevp = &w->next;
	w->prevp = &m.watchers;
	m.watchers = w;
	if (m.nwatchers++ == 0 && m.has_timer)
		uv_timer_start(&m.snapshot, snapshot_cb, METHODS_SNAPSHOT_MS,
		    METHODS_SNAPSHOT_MS);
	ctl_call_keep(call, watch_gone, w);
	watcher_status(w, st, false);	/* first: where it stands now */
	/* Stored events after since, then live ones; the end may come at once. */
	w->starting = true;
	w->ew = m.engine->watch(w->id, since, watch_event, w);
	w->starting = false;
	if (w->ended) {
		watcher_free(w);
	} else if (w->ew != NULL) {
		check_soon();	/* it may be halted already: after its stored events */
	} else {
		json_t *err = error_reply(BBE_INTERNAL, "cannot follow the upgrade's events");

		w->ended = true;
		ctl_call_send(w->call, err);
		json_decref(err);
		watcher_free(w);
	}
	return NULL;
}

/* --- the table and the checks before it ---------------------------------------- */

static const struct param no_params[] = { { NULL, 0, false, NULL } };
static const struct param interface_param[] = {
	{ "interface", JSON_STRING, true, NULL }, { NULL, 0, false, NULL }
};
static const struct param upgrade_params[] = {
	{ "deployment", JSON_STRING, true, check_deployment },
	{ "version", JSON_STRING, true, check_version },
	{ NULL, 0, false, NULL }
};
static const struct param watch_params[] = {
	{ "id", JSON_INTEGER, false, check_positive },
	{ "since", JSON_INTEGER, false, check_not_negative },
	{ NULL, 0, false, NULL }
};
static const struct param history_params[] = {
	{ "limit", JSON_INTEGER, false, check_history_limit },
	{ NULL, 0, false, NULL }
};
static const struct param events_params[] = {
	{ "id", JSON_INTEGER, true, check_positive },
	{ "since", JSON_INTEGER, false, check_not_negative },
	{ "limit", JSON_INTEGER, false, check_events_limit },
	{ NULL, 0, false, NULL }
};

static const struct method methods[] = {
	{ IFACE_SERVICE ".GetInfo", 0, no_params, get_info },
	{ IFACE_SERVICE ".GetInterfaceDescription", 0, interface_param,
	    get_interface_description },
	{ IFACE_OURS ".Status", 0, no_params, status },
	{ IFACE_OURS ".Plan", 0, upgrade_params, plan },
	{ IFACE_OURS ".Start", M_MUTATING, upgrade_params, start },
	{ IFACE_OURS ".Watch", M_STREAMS, watch_params, watch },
	{ IFACE_OURS ".Pause", M_MUTATING, no_params, pause_ },
	{ IFACE_OURS ".Resume", M_MUTATING, no_params, resume },
	{ IFACE_OURS ".Cancel", M_MUTATING, no_params, cancel },
	{ IFACE_OURS ".Rollback", M_MUTATING, no_params, rollback },
	{ IFACE_OURS ".History", 0, history_params, history },
	{ IFACE_OURS ".Events", 0, events_params, events },
};

/*
 * NULL if every parameter is known, well typed and has a good value; else the error
 * reply for the first bad one (types before values, in the table's order).
 */
static json_t *
bad_parameter(const struct method *meth, json_t *params)
{
	const struct param *p;
	const char *key;
	json_t *v, *err;

	json_object_foreach(params, key, v) {
		for (p = meth->params; p->name != NULL; p++)
			if (strcmp(p->name, key) == 0)
				break;
		if (p->name == NULL || (json_typeof(v) != p->type &&
		    !(json_is_null(v) && !p->required)))
			return error_reply(VLE_INVALID_PARAMETER, key);
	}
	for (p = meth->params; p->name != NULL; p++)
		if (p->required && json_object_get(params, p->name) == NULL)
			return error_reply(VLE_INVALID_PARAMETER, p->name);
	for (p = meth->params; p->name != NULL; p++) {
		v = json_object_get(params, p->name);
		if (p->check != NULL && v != NULL && !json_is_null(v) &&
		    (err = p->check(p->name, v)) != NULL)
			return err;
	}
	return NULL;
}

static json_t *
not_found(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t ilen = dot ? (size_t)(dot - name) : 0;
	char iface[256];

	if (ilen > 0 && ilen < sizeof(iface) &&
	    strncmp(name, IFACE_SERVICE ".", ilen + 1) != 0 &&
	    strncmp(name, IFACE_OURS ".", ilen + 1) != 0) {
		memcpy(iface, name, ilen);
		iface[ilen] = '\0';
		return error_reply(VLE_INTERFACE_NOT_FOUND, iface);
	}
	return error_reply(VLE_METHOD_NOT_FOUND, name);
}

json_t *
methods_dispatch(const struct vl_call *call, const struct peer *peer,
    struct ctl_call *ctx)
{
	const struct method *meth = NULL;
	json_t *err;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, call->method) == 0)
			meth = &methods[i];
	if (meth == NULL)
		return not_found(call->method);
	if ((err = bad_parameter(meth, call->parameters)) != NULL)
		return err;
	if ((meth->flags & M_STREAMS) && !call->more)
		return error_reply(VLE_EXPECTED_MORE, NULL);
	if ((meth->flags & M_MUTATING) && !peer->can_mutate) {
		log_info("control: pid %ld uid %lu may not call %s", (long)peer->pid,
		    (unsigned long)peer->uid, meth->name);
		return error_reply(VLE_PERMISSION_DENIED, NULL);
	}
	log_debug("control: pid %ld calls %s", (long)peer->pid, meth->name);
	return meth->handler(call->parameters, peer, ctx);
}

json_t *
methods_call(const struct vl_call *call, const struct peer *peer)
{
	return methods_dispatch(call, peer, NULL);
}

void
methods_set_loop(uv_loop_t *loop)
{
	if (m.has_timer)
		return;
	uv_timer_init(loop, &m.snapshot);
	uv_timer_init(loop, &m.check);
	m.snapshot.data = m.check.data = NULL;
	m.has_timer = true;
}

/* The watchers themselves go with their connections (ctl_shutdown). */
void
methods_shutdown(void)
{
	if (!m.has_timer)
		return;
	uv_close((uv_handle_t *)&m.snapshot, NULL);
	uv_close((uv_handle_t *)&m.check, NULL);
	m.has_timer = false;
}
