/*
 * The engine's effect shell against the real bbsim process: a whole rolling upgrade
 * of a 4-node cluster from 7.9.0 to 7.9.4 through the daemon's own clients, store
 * and loop, judged afterwards by bbsim's invariant report (I1-I7); a restart of the
 * engine in the middle of a termination (the call made, its answer not yet read),
 * which must resolve the open intent by observation and never terminate twice; a
 * second start refused; pause and resume.
 *
 * One bbsim per test (--speed 20), a state directory of its own, credentials in the
 * environment (AKIDEXAMPLE) and a Basic password file (admin). Each test ends with
 * the engine shut down, the loop run to completion and closed, and bbsim stopped.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/xml.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/shell.h"
#include "daemon/http.h"
#include "daemon/store.h"
#include "tests/simproc.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define ADMIN_PW	"admin-secret-test"
#define FROM		"7.9.0"
#define TO		"7.9.4"
#define POLL_MS		100
#define UPGRADE_MS	40000	/* at most, for one whole upgrade */

extern char **environ;

static uv_loop_t loop;
static struct simproc sim;
static struct config cfg;
static struct store *store;
static char *dir;

/* ---- The loop ---- */

static void
tick(uv_timer_t *t)
{
}

/* Runs the loop until pred(arg) or max_ms; whether pred came true. */
static bool
run_until(bool (*pred)(void *), void *arg, int max_ms)
{
	int64_t end = simproc_now_ms() + max_ms;
	uv_timer_t t;
	bool ok;

	uv_timer_init(&loop, &t);
	uv_timer_start(&t, tick, 20, 20);
	while (!(ok = pred(arg)) && simproc_now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ok;
}

static json_t *
status(void)
{
	json_t *s = engine_status();

	ck_assert_ptr_nonnull(s);
	return s;
}

static bool
state_is(void *arg)
{
	json_t *s = engine_status();
	bool ok = s != NULL && strcmp(json_string_value(json_object_get(s, "state")),
	    arg) == 0;

	json_decref(s);
	return ok;
}

/* The upgrade stopped: done, halted or paused. */
static bool
settled(void *arg)
{
	return state_is("done") || state_is("halted") || state_is("paused") ||
	    state_is("cancelled") || state_is("rolled_back");
}

/* ---- Fixture ---- */

static void
clear_aws_env(void)
{
	char **e, *name;

	for (e = environ; *e != NULL;) {
		if (strncmp(*e, "AWS_", 4) != 0) {
			e++;
			continue;
		}
		name = strndup(*e, strcspn(*e, "="));
		unsetenv(name);
		free(name);
		e = environ;
	}
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd;

	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode), -1);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	ck_assert_int_eq(close(fd), 0);
}

/* The daemon's configuration, as a file: [daemon] and one [deployment test]. */
static void
load_config(void)
{
	char path[600], pw[600], text[4096], err[1024];

	snprintf(pw, sizeof(pw), "%s/admin.pw", dir);
	write_file(pw, ADMIN_PW "\n", 0600);
	snprintf(text, sizeof(text), "[daemon]\nstate_directory = %s\npoll_interval = 1\n"
	    "stack_timeout = 60\nnode_timeout = 60\n\n[deployment test]\n"
	    "region = us-east-1\nstack = bitbucket\nbitbucket_url = %s\n"
	    "bitbucket_user = admin\npassword_file = %s\nendpoint_url = %s\n\n"
	    "[deployment nosecret]\nregion = us-east-1\nstack = bitbucket\n"
	    "bitbucket_url = %s\nbitbucket_user = admin\npassword_file = %s/missing.pw\n"
	    "endpoint_url = %s\n", dir, sim.url, pw, sim.url, sim.url, dir, sim.url);
	snprintf(path, sizeof(path), "%s/bbupgraded.conf", dir);
	write_file(path, text, 0644);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
}

static void
open_store(void)
{
	char path[600], err[512];

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	store = store_open(path, err, sizeof(err));
	ck_assert_msg(store != NULL, "%s", err);
}

static void
engine_up(void)
{
	ck_assert_int_eq(http_init(&loop), 0);
	ck_assert_int_eq(engine_init(&loop, &cfg, store), 0);
}

/* What a daemon's shutdown does: the engine, then HTTP, then the loop runs out. */
static void
engine_down(void)
{
	engine_shutdown();
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
}

static void
setup_with(const char *scenario)
{
	const char *args[] = { "--speed", "20", NULL, NULL, NULL };
	char err[512], path[600];

	log_setlevel(getenv("BB_TEST_DEBUG") ? LOG_INFO : LOG_WARNING);
	clear_aws_env();
	ck_assert_ptr_nonnull(dir = test_tmpdir());
	setenv("HOME", dir, 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	memset(&sim, 0, sizeof(sim));
	memset(&cfg, 0, sizeof(cfg));
	if (scenario != NULL) {
		snprintf(path, sizeof(path), "%s/scenario.ini", dir);
		write_file(path, scenario, 0644);
		args[2] = "--scenario";
		args[3] = path;
	}
	ck_assert_msg(simproc_start(&sim, args, err, sizeof(err)) == 0, "%s", err);
	load_config();
	open_store();
	aws_xml_init();
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	engine_set_poll_ms(POLL_MS);
	engine_up();
}

static void
setup(void)
{
	setup_with(NULL);
}

/* The with-VPC layout: the product stack nested in the root as BitbucketDCStack. */
static void
setup_nested(void)
{
	setup_with("[cluster]\nlayout = nested\n");
}

static void
teardown(void)
{
	if (sim.pid > 0)
		simproc_stop(&sim);
	test_rmtree(dir);
	free(dir);
}

/* Every test ends here: nothing of ours left on the loop, bbsim gone cleanly. */
static void
finish(void)
{
	engine_down();
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	store_close(store);
	config_free(&cfg);
	ck_assert_int_eq(simproc_stop(&sim), 0);
}

/* ---- What bbsim saw ---- */

static long long
terminations(void)
{
	json_t *c = simproc_json(&sim, "GET", "/_sim/counters", NULL);
	long long n;

	ck_assert_ptr_nonnull(c);
	n = simproc_count(c, "api_calls", "autoscaling",
	    "TerminateInstanceInAutoScalingGroup", NULL);
	json_decref(c);
	return n;
}

static void
post_admin(const char *path, const char *body)
{
	char *answer = NULL;
	int st = simproc_http(&sim, "POST", path, body, &answer);

	ck_assert_msg(st == 200, "POST %s: HTTP %d %s", path, st, answer ? answer : "");
	free(answer);
}

/* bbsim's verdict on the whole run: every invariant holds; the figures printed. */
static void
check_report(const char *name)
{
	json_t *rep = simproc_json(&sim, "GET", "/_sim/report", NULL), *v, *up;
	size_t i;

	ck_assert_ptr_nonnull(rep);
	json_array_foreach(json_object_get(rep, "invariants"), i, v)
		ck_assert_msg(json_is_true(json_object_get(v, "ok")), "%s: %s violated: %s",
		    name, json_string_value(json_object_get(v, "id")),
		    json_string_value(json_object_get(v, "why")));
	up = json_object_get(rep, "upgrade");
	ck_assert_msg(json_is_true(json_object_get(up, "completed")), "%s: bbsim says "
	    "the upgrade did not complete", name);
	ck_assert_str_eq(json_string_value(json_object_get(up, "outcome")), "approve");
	printf("%s: upgrade %lld ms (virtual), lower bound %lld ms, ratio %.2f; "
	    "%lld API calls, %lld requests failed\n", name,
	    simproc_count(up, "wall_ms", NULL),
	    simproc_count(rep, "critical_path", "total_ms", NULL),
	    json_real_value(json_object_get(up, "ratio_to_bound")),
	    simproc_count(rep, "api_calls", "total", NULL),
	    simproc_count(rep, "requests", "failed", NULL));
	json_decref(rep);
}

static int64_t
start(void)
{
	struct engine_refusal r = { 0, NULL };
	int64_t id = 0;

	ck_assert_msg(engine_start("test", TO, &id, &r) == 0, "refused: %s",
	    vl_error_name(r.error));
	ck_assert_int_gt(id, 0);
	return id;
}

static void
expect_done(const char *name, int64_t id)
{
	json_t *s;

	run_until(settled, NULL, UPGRADE_MS);
	s = status();
	ck_assert_msg(strcmp(json_string_value(json_object_get(s, "state")), "done") == 0,
	    "%s: state %s, halt %s", name,
	    json_string_value(json_object_get(s, "state")),
	    json_dumps(json_object_get(s, "halt"), 0));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(s, "from")), FROM);
	ck_assert_int_eq(simproc_count(s, "progress", "replaced", NULL), 3);
	ck_assert_int_eq(simproc_count(s, "progress", "retired", NULL), 1);
	json_decref(s);
}

/* ---- Tests ---- */

START_TEST(happy_path)
{
	int64_t t0 = simproc_now_ms(), id;

	id = start();
	expect_done("happy path", id);
	printf("happy path: %lld ms of real time\n", (long long)(simproc_now_ms() - t0));
	check_report("happy path");
	/* N - k originals replaced, one termination call each. */
	ck_assert_int_eq(terminations(), 3);
	finish();
}
END_TEST

struct acting {
	enum engine_act_kind	 kind;
	long long		 calls;		/* bbsim's count before */
};

/* Our call is out and bbsim has made it, but its answer is not read yet. */
static bool
call_made(void *arg)
{
	struct acting *a = arg;
	struct shell_run *r = engine_shell->run;

	return r != NULL && r->state == SHELL_RUN_ACTING && r->d.act.kind == a->kind &&
	    terminations() > a->calls;
}

START_TEST(restart_mid_termination)
{
	struct acting a = { ENGINE_ACT_TERMINATE, 0 };
	int64_t id;
	json_t *s;

	/* Termination answers held back: the engine stops while one is on its way. */
	post_admin("/_sim/faults", "{\"rules\": [{\"service\": \"autoscaling\", "
	    "\"action\": \"TerminateInstanceInAutoScalingGroup\", \"latency_ms\": 3000}]}");
	id = start();
	ck_assert_msg(run_until(call_made, &a, UPGRADE_MS), "no termination was made");
	ck_assert(engine_shell->run->u.intent_pending);
	engine_down();
	post_admin("/_sim/faults", "{\"rules\": []}");
	/* The same store, a new engine: it resolves the intent, then goes on. */
	engine_up();
	s = status();
	ck_assert_int_eq(json_integer_value(json_object_get(s, "id")), id);
	ck_assert(json_is_object(json_object_get(s, "intent")));
	json_decref(s);
	expect_done("restart", id);
	check_report("restart");
	ck_assert_int_eq(terminations(), 3);
	finish();
}
END_TEST

static bool
phase_is(void *arg)
{
	json_t *s = engine_status();
	bool ok = s != NULL && strcmp(json_string_value(json_object_get(s, "phase")),
	    arg) == 0;

	json_decref(s);
	return ok;
}

START_TEST(second_start_pause_resume)
{
	struct engine_refusal r = { 0, NULL };
	int64_t id, id2 = 0;

	id = start();
	/* One upgrade at a time: the second is refused and names the first. */
	ck_assert_int_eq(engine_start("test", TO, &id2, &r), -1);
	ck_assert_int_eq(r.error, BBE_UPGRADE_IN_PROGRESS);
	ck_assert_int_eq(json_integer_value(json_object_get(r.params, "id")), id);
	json_decref(r.params);
	ck_assert_int_eq(engine_start("nope", TO, &id2, &r), -1);
	ck_assert_int_eq(r.error, BBE_NO_SUCH_DEPLOYMENT);
	json_decref(r.params);
	/* Pause during the replacements: it takes effect at a safe point. */
	ck_assert(run_until(phase_is, "replace", UPGRADE_MS));
	ck_assert_int_eq(engine_pause(&r), 0);
	ck_assert_int_eq(engine_pause(&r), 0);		/* idempotent */
	ck_assert(run_until(state_is, "paused", UPGRADE_MS));
	ck_assert_int_eq(engine_pause(&r), 0);		/* already paused */
	ck_assert_int_eq(engine_resume(&r), 0);
	ck_assert(state_is("running"));
	expect_done("pause/resume", id);
	check_report("pause/resume");
	/* Nothing to pause any more. */
	ck_assert_int_eq(engine_pause(&r), -1);
	ck_assert_int_eq(r.error, BBE_NO_UPGRADE);
	json_decref(r.params);
	finish();
}
END_TEST

/* ---- plan, watch, a missing secret ---- */

struct planned {
	int		 calls;
	json_t		*plan;
	enum vl_error	 error;		/* VLE_NERRORS: no refusal */
	json_t		*params;
};

static void
on_plan(json_t *plan, const struct engine_refusal *r, void *arg)
{
	struct planned *p = arg;

	p->calls++;
	p->plan = plan;
	p->error = r != NULL ? r->error : VLE_NERRORS;
	p->params = r != NULL ? r->params : NULL;
}

static bool
planned(void *arg)
{
	return ((struct planned *)arg)->calls > 0;
}

static void
plan(const char *dep, const char *to, struct planned *p)
{
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(engine_plan(dep, to, on_plan, p), 0);
	ck_assert_int_eq(p->calls, 0);		/* never from inside engine_plan() */
	ck_assert(run_until(planned, p, 10000));
	ck_assert_int_eq(p->calls, 1);
}

static size_t
count_action(json_t *order, const char *action)
{
	size_t i, n = 0;
	json_t *v;

	json_array_foreach(order, i, v)
		n += strcmp(json_string_value(json_object_get(v, "action")), action) == 0;
	return n;
}

struct watched {
	int		 events;
	int		 ends;
	int64_t		 first, last;
	bool		 ordered;
	unsigned	 kinds;		/* 1 start, 2 action, 4 outcome, 8 wait, 16 done */
};

static void
on_event(json_t *ev, void *arg)
{
	static const char *const kinds[] = { "start", "action", "outcome", "wait", "done" };
	struct watched *w = arg;
	const char *kind;
	int64_t id;

	if (ev == NULL) {
		w->ends++;
		return;
	}
	ck_assert_int_eq(w->ends, 0);
	id = json_integer_value(json_object_get(ev, "id"));
	if (w->events++ == 0)
		w->first = id;
	else if (id <= w->last)
		w->ordered = false;
	w->last = id;
	kind = json_string_value(json_object_get(json_object_get(ev, "data"), "kind"));
	ck_assert_ptr_nonnull(kind);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(ev, "message")));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			w->kinds |= 1u << i;
}

static bool
watch_ended(void *arg)
{
	return ((struct watched *)arg)->ends > 0;
}

START_TEST(plan_watch_missing_secret)
{
	struct engine_refusal r = { 0, NULL };
	struct watched w = { .ordered = true }, w2 = { .ordered = true };
	struct engine_watch *ew;
	struct planned p;
	int64_t id, id2 = 0;
	json_t *s;

	/* The plan of a cluster ready for it: every node, in the core's order. */
	plan("test", TO, &p);
	ck_assert_int_eq(p.error, VLE_NERRORS);
	ck_assert(json_is_true(json_object_get(p.plan, "ok")));
	ck_assert_uint_eq(json_array_size(json_object_get(p.plan, "nodes")), 4);
	ck_assert_uint_eq(count_action(json_object_get(p.plan, "order"), "replace"), 3);
	ck_assert_uint_eq(count_action(json_object_get(p.plan, "order"), "retire"), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(p.plan, "problems")), 0);
	json_decref(p.plan);
	/* Not a bug-fix release of 7.9: refused, with the plan to explain it. */
	plan("test", "7.10.0", &p);
	ck_assert_int_eq(p.error, BBE_PREFLIGHT_FAILED);
	ck_assert(json_is_false(json_object_get(p.plan, "ok")));
	ck_assert_uint_ge(json_array_size(json_object_get(p.params, "problems")), 1);
	json_decref(p.plan);
	json_decref(p.params);
	/* A deployment whose secret is missing: refused, the daemon goes on. */
	plan("nosecret", TO, &p);
	ck_assert_int_eq(p.error, BBE_NOT_ALLOWED);
	ck_assert_ptr_null(p.plan);
	json_decref(p.params);
	ck_assert_int_eq(engine_start("nosecret", TO, &id2, &r), -1);
	ck_assert_int_eq(r.error, BBE_NOT_ALLOWED);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r.params,
	    "reason")), "missing.pw"));
	json_decref(r.params);
	/* Watch from the start: every event once, in order, then the end. */
	id = start();
	ck_assert_ptr_nonnull(ew = engine_watch(0, 0, on_event, &w));
	ck_assert_int_eq(w.events, 0);		/* never from inside engine_watch() */
	ck_assert(run_until(watch_ended, &w, UPGRADE_MS));
	ck_assert_int_eq(w.ends, 1);
	ck_assert(w.ordered);
	ck_assert_uint_eq(w.kinds, 31);
	s = status();
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")), "done");
	json_decref(s);
	/* Watching a finished upgrade from the middle: the rest, then the end. */
	ck_assert_ptr_nonnull(engine_watch(id, w.last - 3, on_event, &w2));
	ck_assert(run_until(watch_ended, &w2, 5000));
	ck_assert_int_eq(w2.events, 3);
	ck_assert_int_eq(w2.first, w.last - 2);
	ck_assert_int_eq(w2.last, w.last);
	/* No such upgrade: nothing to watch. */
	ck_assert_ptr_null(engine_watch(id + 100, 0, on_event, &w2));
	check_report("watch");
	finish();
}
END_TEST

/* ---- persistence, without bbsim ---- */

static void
fill_node(struct engine_node *n, const char *id, enum engine_role role,
    enum engine_step step, enum engine_purpose purpose)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->ip, sizeof(n->ip), "10.0.0.%zu", strlen(id));
	snprintf(n->version, sizeof(n->version), "%s", role == ENGINE_ROLE_ORIGINAL ?
	    FROM : "");
	n->role = role;
	n->step = step;
	n->purpose = purpose;
	n->replaces = n->replaced_by = -1;
}

/* Everything of struct engine_upgrade comes back as it was saved, byte for byte. */
START_TEST(persist_roundtrip)
{
	struct engine_upgrade *u = calloc(1, sizeof(*u)), *v = calloc(1, sizeof(*v));
	struct shell_budget b = { "replacement i-2 of i-0: ACTIVE", 4321 }, b2;
	struct store_upgrade row;
	int64_t created = 0, finished = 1;
	char err[256];

	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(v);
	memset(&row, 0, sizeof(row));
	snprintf(row.deployment, sizeof(row.deployment), "test");
	snprintf(row.to_version, sizeof(row.to_version), TO);
	row.surge = 2;
	snprintf(row.state, sizeof(row.state), "running");
	snprintf(row.phase, sizeof(row.phase), "preflight");
	ck_assert_int_eq(store_upgrade_create(store, &row), 0);
	ck_assert_int_eq(engine_upgrade_init(u, row.id, "test", TO, 2,
	    ENGINE_ON_FAILURE_RETRY, true), 0);
	snprintf(u->from, sizeof(u->from), FROM);
	u->mode = ENGINE_MODE_ROLLBACK;
	u->phase = ENGINE_PH_REPLACE;
	u->state = ENGINE_STATE_HALTED;
	u->halt = ENGINE_HALT_DRAIN_STUCK;
	snprintf(u->reason, sizeof(u->reason), "i-1 is stuck draining");
	u->seq = 41;
	u->n = 2;
	u->orig_min = u->orig_max = u->orig_desired = 2;
	u->suspended_before = ENGINE_PROC_SCHEDULED;
	u->suspended_by_us = ENGINE_PROC_ALARM | ENGINE_PROC_AZ_REBALANCE;
	u->resumed = ENGINE_PROC_ALARM;
	u->new_protected = true;
	fill_node(&u->nodes[0], "i-0", ENGINE_ROLE_ORIGINAL, ENGINE_STEP_REPLACED,
	    ENGINE_PURPOSE_VICTIM);
	fill_node(&u->nodes[1], "i-1", ENGINE_ROLE_ORIGINAL, ENGINE_STEP_DRAINING,
	    ENGINE_PURPOSE_LEAVER);
	fill_node(&u->nodes[2], "i-2", ENGINE_ROLE_REPLACEMENT, ENGINE_STEP_LIVE,
	    ENGINE_PURPOSE_NONE);
	u->nodes[0].replaced_by = 2;
	u->nodes[0].drain = ENGINE_DRAIN_FORCED;
	u->nodes[0].prot_req = ENGINE_PROT_OFF;
	u->nodes[0].was_protected = true;
	snprintf(u->nodes[0].activity, sizeof(u->nodes[0].activity), "act-1");
	u->nodes[2].replaces = 0;
	u->nodes[2].retries = 1;
	u->nodes[2].reverse_born = true;
	u->nnodes = 3;
	u->expect_min = 3, u->expect_max = 4, u->expect_desired = 3;
	u->prev_min = 2, u->prev_max = 2, u->prev_desired = 2;
	u->counts_settling = true;
	u->stack.step = ENGINE_SC_EXECUTING;
	snprintf(u->stack.changeset, sizeof(u->stack.changeset), "bbup-1-6-cs");
	snprintf(u->stack.token, sizeof(u->stack.token), "bbup-1-7-exec");
	snprintf(u->stack.version, sizeof(u->stack.version), TO);
	u->stack.min = 3, u->stack.max = 4;
	u->intent_pending = true;
	u->intent.kind = ENGINE_ACT_PROTECT;
	snprintf(u->intent.token, sizeof(u->intent.token), "bbup-1-41-protect");
	snprintf(u->intent.targets[0], sizeof(u->intent.targets[0]), "i-1");
	snprintf(u->intent.targets[1], sizeof(u->intent.targets[1]), "i-2");
	u->intent.ntargets = 2;
	u->intent.protect = true;
	u->intent.processes = ENGINE_PROC_ALARM;
	u->intent.purpose = ENGINE_PURPOSE_LEAVER;
	u->pause_requested = true;
	u->reverse_requested = ENGINE_MODE_CANCEL;
	u->rebase = true;
	u->seen_valid = true;
	u->seen_state = ZDU_READY_TO_RUN_UPGRADE_TASKS;
	u->seen_poll = 99;
	u->replaced = 1, u->retired = 2, u->drains_clean = 3, u->drains_forced = 4;
	ck_assert_int_eq(engine_persist_save(store, u, &b, false), 0);
	ck_assert_int_eq(engine_persist_load(store, row.id, v, &b2, &created, &finished,
	    err, sizeof(err)), 1);
	ck_assert_int_eq(memcmp(u, v, sizeof(*u)), 0);
	ck_assert_str_eq(b2.marker, b.marker);
	ck_assert_int_eq(b2.ms, b.ms);
	ck_assert_int_eq(finished, 0);
	ck_assert_int_gt(created, 0);
	/* A name this daemon does not know: unreadable, never a guess. */
	ck_assert_ptr_nonnull(store);
	ck_assert_int_eq(engine_persist_load(store, row.id + 1, v, NULL, NULL, NULL, err,
	    sizeof(err)), 0);
	free(u);
	free(v);
	finish();
}
END_TEST

/* ---- reversals ---- */

static bool
replaced_one(void *arg)
{
	json_t *s = engine_status();
	bool ok = s != NULL && simproc_count(s, "progress", "replaced", NULL) >= 1;

	json_decref(s);
	return ok;
}

/* bbsim's verdict on a reversed run: invariants, and the cluster back on FROM. */
static void
check_reversed(const char *name, const char *outcome)
{
	json_t *rep = simproc_json(&sim, "GET", "/_sim/report", NULL), *v, *st;
	size_t i;

	ck_assert_ptr_nonnull(rep);
	json_array_foreach(json_object_get(rep, "invariants"), i, v) {
		const char *inv = json_string_value(json_object_get(v, "id"));

		/* I6 is the forward end state (every node on <to>): not this run's. */
		if (strcmp(inv, "I6") == 0)
			continue;
		ck_assert_msg(json_is_true(json_object_get(v, "ok")), "%s: %s violated: %s",
		    name, inv, json_string_value(json_object_get(v, "why")));
	}
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rep,
	    "upgrade"), "outcome")), outcome);
	json_decref(rep);
	st = simproc_json(&sim, "GET", "/_sim/state", NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "zdu"),
	    "state")), "STABLE");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    json_object_get(st, "stack"), "parameters"), "BitbucketVersion")), FROM);
	json_decref(st);
}

static void
expect_state(const char *name, const char *want)
{
	json_t *s;

	run_until(settled, NULL, UPGRADE_MS);
	s = status();
	ck_assert_msg(strcmp(json_string_value(json_object_get(s, "state")), want) == 0,
	    "%s: state %s, phase %s, halt %s", name,
	    json_string_value(json_object_get(s, "state")),
	    json_string_value(json_object_get(s, "phase")),
	    json_dumps(json_object_get(s, "halt"), 0));
	json_decref(s);
}

START_TEST(cancel_during_surge)
{
	struct engine_refusal r = { 0, NULL };

	start();
	/* Only the surge node runs <to>: cancel removes it. */
	ck_assert(run_until(phase_is, "surge", UPGRADE_MS));
	ck_assert_int_eq(engine_cancel(&r), 0);
	ck_assert_int_eq(engine_cancel(&r), 0);		/* already cancelling */
	ck_assert_int_eq(engine_rollback(&r), -1);	/* a cancel runs */
	ck_assert_int_eq(r.error, BBE_NOT_ALLOWED);
	json_decref(r.params);
	expect_state("cancel", "cancelled");
	check_reversed("cancel", "cancel");
	finish();
}
END_TEST

START_TEST(rollback_after_one)
{
	struct engine_refusal r = { 0, NULL };

	start();
	ck_assert(run_until(replaced_one, NULL, UPGRADE_MS));
	/* An original is gone: cancel means rollback now, and says so. */
	ck_assert_int_eq(engine_cancel(&r), -1);
	ck_assert_int_eq(r.error, BBE_NOT_ALLOWED);
	json_decref(r.params);
	ck_assert_int_eq(engine_rollback(&r), 0);
	expect_state("rollback", "rolled_back");
	check_reversed("rollback", "cancel");
	finish();
}
END_TEST

/* The with-VPC layout: the group found in the nested stack, its change sets read. */
START_TEST(nested_layout)
{
	int64_t id = start();

	expect_done("nested", id);
	check_report("nested");
	ck_assert_int_eq(terminations(), 3);
	finish();
}
END_TEST

/*
 * Half the EC2 calls throttled: reads that fail after their retries are reported (an
 * event) and waited out, never a halt. The report of a failed read once used the
 * observation after the loop had taken it from the result: a NULL dereference.
 */
START_TEST(throttled_reads)
{
	int64_t id;

	post_admin("/_sim/faults", "{\"rules\": "
	    "[{\"service\": \"ec2\", \"error_rate\": 0.5}]}");
	id = start();
	expect_done("throttled", id);
	check_report("throttled");
	finish();
}
END_TEST

Suite *
engine_shell_suite(void)
{
	Suite *s = suite_create("engine_shell");
	TCase *tc = tcase_create("bbsim");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, happy_path);
	tcase_add_test(tc, restart_mid_termination);
	tcase_add_test(tc, second_start_pause_resume);
	tcase_add_test(tc, plan_watch_missing_secret);
	tcase_add_test(tc, persist_roundtrip);
	tcase_add_test(tc, cancel_during_surge);
	tcase_add_test(tc, rollback_after_one);
	tcase_add_test(tc, throttled_reads);
	suite_add_tcase(s, tc);
	tc = tcase_create("nested");
	tcase_add_checked_fixture(tc, setup_nested, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, nested_layout);
	suite_add_tcase(s, tc);
	return s;
}
