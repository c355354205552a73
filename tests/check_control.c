/*
 * The control socket and its methods, in process: a real listening socket on a libuv
 * loop, driven by plain blocking client sockets, each test ending with the loop closed.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/config.h"
#include "common/varlink.h"
#include "daemon/control.h"
#include "daemon/embedded.h"
#include "daemon/methods.h"
#include "daemon/store.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

static char *dir;
static struct config cfg;
static struct deployment dep;
static struct store *store;
static uv_loop_t loop;

static void
setup(void)
{
	char path[512], err[256];

	dir = test_tmpdir();
	memset(&cfg, 0, sizeof(cfg));
	memset(&dep, 0, sizeof(dep));
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	cfg.socket_path = strdup(path);
	cfg.max_clients = 4;
	cfg.client_timeout_ms = 60000;
	dep.name = "prod";
	dep.region = "eu-west-1";
	dep.stack = "bitbucket-prod";
	dep.bitbucket_url = "https://bitbucket.example.com";
	dep.surge = 1;
	cfg.deployments = &dep;
	cfg.ndeployments = 1;
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	store = store_open(path, err, sizeof(err));
	ck_assert_msg(store != NULL, "%s", err);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void
teardown(void)
{
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	store_close(store);
	free(cfg.socket_path);
	test_rmtree(dir);
	free(dir);
}

/* Closes the server side and lets the loop finish every close callback. */
static void
server_stop(void)
{
	ctl_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
}

static int
client_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(sun.sun_path, cfg.socket_path, sizeof(sun.sun_path) - 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
client_send(int fd, const char *msg, size_t len)
{
	ck_assert_int_eq(send(fd, msg, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Runs the loop until fd has something to read (a reply or EOF). */
static void
pump_until_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < 2000; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) == 1)
			return;
	}
	ck_abort_msg("no reply from the server");
}

/* Reads one NUL-terminated reply (pumping the loop), or NULL at EOF. */
static json_t *
client_reply(int fd)
{
	char buf[65536];
	size_t n = 0;
	char why[128];
	json_t *j;

	for (;;) {
		ssize_t r;
		pump_until_readable(fd);
		if ((r = recv(fd, buf + n, 1, 0)) <= 0)
			return NULL;
		if (buf[n] == '\0')
			break;
		ck_assert_uint_lt(++n, sizeof(buf));
	}
	j = vl_parse_reply(buf, n, why, sizeof(why));
	ck_assert_msg(j != NULL, "bad reply: %s", why);
	return j;
}

static const char *
reply_error(json_t *r)
{
	return json_string_value(json_object_get(r, "error"));
}

static json_t *
do_call(const char *msg)
{
	struct vl_call call;
	struct peer peer = { .pid = 1, .uid = 1000 };
	char why[128];
	json_t *j = vl_parse(msg, strlen(msg), why, sizeof(why)), *reply;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(vl_call_from_json(j, &call, why, sizeof(why)), 0);
	reply = methods_call(&call, &peer);
	json_decref(j);
	return reply;
}

static void
expect_error(const char *msg, const char *error, const char *key, const char *value)
{
	json_t *r = do_call(msg);

	ck_assert_msg(reply_error(r) && strcmp(reply_error(r), error) == 0,
	    "%s: expected %s, got %s", msg, error, reply_error(r));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r,
	    "parameters"), key)), value);
	json_decref(r);
}

START_TEST(methods_introspection)
{
	json_t *r, *p;

	methods_init(&cfg, store);
	r = do_call("{\"method\":\"org.varlink.service.GetInfo\"}");
	p = json_object_get(r, "parameters");
	ck_assert_str_eq(json_string_value(json_object_get(p, "product")), "bbupgraded");
	ck_assert_str_eq(json_string_value(json_object_get(p, "version")), BB_VERSION);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "interfaces")), 2);
	json_decref(r);
	r = do_call("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":\"io.bbupgraded\"}}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "parameters"),
	    "description")), embedded_varlink_idl);
	json_decref(r);
	r = do_call("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":\"org.varlink.service\"}}");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(r,
	    "parameters"), "description")), "interface org.varlink.service\n"));
	json_decref(r);
}
END_TEST

START_TEST(methods_errors)
{
	methods_init(&cfg, store);
	expect_error("{\"method\":\"io.bbupgraded.Nope\"}",
	    "org.varlink.service.MethodNotFound", "method", "io.bbupgraded.Nope");
	expect_error("{\"method\":\"com.example.Thing.Do\"}",
	    "org.varlink.service.InterfaceNotFound", "interface", "com.example.Thing");
	expect_error("{\"method\":\"NoDots\"}",
	    "org.varlink.service.MethodNotFound", "method", "NoDots");
	expect_error("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":\"x.y\"}}",
	    "org.varlink.service.InterfaceNotFound", "interface", "x.y");
	expect_error("{\"method\":\"org.varlink.service.GetInterfaceDescription\"}",
	    "org.varlink.service.InvalidParameter", "parameter", "interface");
	expect_error("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":42}}",
	    "org.varlink.service.InvalidParameter", "parameter", "interface");
	expect_error("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":null}}",
	    "org.varlink.service.InvalidParameter", "parameter", "interface");
	expect_error("{\"method\":\"io.bbupgraded.Status\",\"parameters\":{\"verbose\":true}}",
	    "org.varlink.service.InvalidParameter", "parameter", "verbose");
}
END_TEST

START_TEST(methods_status)
{
	json_t *r, *p, *d;

	methods_init(&cfg, store);
	r = do_call("{\"method\":\"io.bbupgraded.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	p = json_object_get(r, "parameters");
	ck_assert_str_eq(json_string_value(json_object_get(p, "version")), BB_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "pid")), getpid());
	ck_assert(json_is_null(json_object_get(p, "upgrade")));
	d = json_array_get(json_object_get(p, "deployments"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "name")), "prod");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stack")), "bitbucket-prod");
	json_decref(r);
}
END_TEST

START_TEST(socket_round_trip)
{
	static const char msgs[] =
	    "{\"method\":\"org.varlink.service.GetInfo\"}\0"
	    "{\"method\":\"io.bbupgraded.Status\",\"oneway\":true}\0"
	    "not json\0"
	    "{\"method\":\"io.bbupgraded.Status\"}";
	json_t *r;
	int fd;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	/* Everything in one write, the last message split over two. */
	client_send(fd, msgs, sizeof(msgs) - 10);
	client_send(fd, msgs + sizeof(msgs) - 10, 10);
	r = client_reply(fd);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "parameters"),
	    "product")), "bbupgraded");
	json_decref(r);
	/* The oneway call got no reply; the bad message got a typed error; calls in order. */
	r = client_reply(fd);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.InvalidRequest");
	json_decref(r);
	r = client_reply(fd);
	ck_assert_ptr_null(reply_error(r));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(r, "parameters"), "uptime_seconds"));
	json_decref(r);
	ck_assert_int_eq(ctl_nclients(), 1);
	close(fd);
	server_stop();
	ck_assert_int_eq(ctl_nclients(), 0);
	/* We created the socket, so we removed it. */
	ck_assert_int_eq(access(cfg.socket_path, F_OK), -1);
}
END_TEST

START_TEST(socket_oversized_message)
{
	char *big = malloc(VL_MAX_MESSAGE + 100);
	json_t *r;
	int fd, other;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	other = client_connect();
	memset(big, ' ', VL_MAX_MESSAGE + 100);
	big[0] = '{';
	client_send(fd, big, VL_MAX_MESSAGE + 100);
	r = client_reply(fd);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.InvalidRequest");
	json_decref(r);
	ck_assert_ptr_null(client_reply(fd));	/* then the connection is closed */
	/* The other client is still served. */
	client_send(other, "{\"method\":\"io.bbupgraded.Status\"}", 34);
	ck_assert_ptr_nonnull(r = client_reply(other));
	json_decref(r);
	close(fd);
	close(other);
	free(big);
	server_stop();
}
END_TEST

START_TEST(socket_max_clients)
{
	int fds[5];
	json_t *r;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	for (int i = 0; i < 5; i++) {
		fds[i] = client_connect();
		for (int k = 0; k < 50; k++)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	ck_assert_int_eq(ctl_nclients(), 4);
	ck_assert_ptr_null(client_reply(fds[4]));	/* the fifth was closed */
	client_send(fds[0], "{\"method\":\"io.bbupgraded.Status\"}", 34);
	ck_assert_ptr_nonnull(r = client_reply(fds[0]));
	json_decref(r);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	server_stop();
}
END_TEST

START_TEST(socket_idle_timeout)
{
	int fd;

	cfg.client_timeout_ms = 1000;
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, "{\"method\":", 10);	/* half a message, then silence */
	pump_until_readable(fd);		/* up to 2 s of loop time */
	ck_assert_ptr_null(client_reply(fd));
	ck_assert_int_eq(ctl_nclients(), 0);
	close(fd);
	server_stop();
}
END_TEST

/* A socket that nobody listens on is a leftover: taken over. */
START_TEST(socket_stale_is_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(sun.sun_path, cfg.socket_path, sizeof(sun.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	close(client_connect());
	server_stop();
}
END_TEST

/* A socket another daemon answers on is never unlinked. */
START_TEST(socket_live_is_refused)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct stat st;

	strncpy(sun.sun_path, cfg.socket_path, sizeof(sun.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), -1);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(stat(cfg.socket_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	close(fd);
}
END_TEST

START_TEST(socket_path_not_a_socket)
{
	FILE *f = fopen(cfg.socket_path, "w");

	fclose(f);
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), -1);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(access(cfg.socket_path, F_OK), 0);
}
END_TEST


/*
 * Streaming and the engine-backed methods, against a fake engine (methods_set_engine):
 * it records what it was asked, answers what the test sets, and hands the test the
 * watcher's callback so that the test plays the engine's events.
 */
static struct {
	int			 calls[8];	/* start, pause, resume, cancel, rollback, plan, watch, unwatch */
	json_t			*status;	/* what engine_status returns (a copy each time) */
	enum vl_error		 refuse;	/* VLE_NERRORS: accept */
	json_t			*refuse_params;
	engine_watch_cb		 watch_cb;
	void			*watch_arg;
	int64_t			 watch_id, watch_since;
	bool			 end_at_once;	/* engine_watch ends the watch before returning */
	engine_plan_cb		 plan_cb;
	void			*plan_arg;
} fk;

enum { FK_START, FK_PAUSE, FK_RESUME, FK_CANCEL, FK_ROLLBACK, FK_PLAN, FK_WATCH,
    FK_UNWATCH };

static struct engine_watch *const fk_handle = (struct engine_watch *)&fk;

static int
fk_refusal(int which, struct engine_refusal *r)
{
	fk.calls[which]++;
	if (fk.refuse == VLE_NERRORS)
		return 0;
	r->error = fk.refuse;
	r->params = json_incref(fk.refuse_params);
	return -1;
}

static int
fk_start(const char *d, const char *v, int64_t *id, struct engine_refusal *r)
{
	*id = 7;
	return fk_refusal(FK_START, r);
}

static int fk_pause(struct engine_refusal *r) { return fk_refusal(FK_PAUSE, r); }
static int fk_resume(struct engine_refusal *r) { return fk_refusal(FK_RESUME, r); }
static int fk_cancel(struct engine_refusal *r) { return fk_refusal(FK_CANCEL, r); }
static int fk_rollback(struct engine_refusal *r) { return fk_refusal(FK_ROLLBACK, r); }

static int
fk_plan(const char *d, const char *v, engine_plan_cb cb, void *arg)
{
	fk.calls[FK_PLAN]++;
	fk.plan_cb = cb;
	fk.plan_arg = arg;
	return 0;
}

static json_t *
fk_status(void)
{
	return fk.status ? json_deep_copy(fk.status) : NULL;
}

static struct engine_watch *
fk_watch(int64_t id, int64_t since, engine_watch_cb cb, void *arg)
{
	fk.calls[FK_WATCH]++;
	fk.watch_id = id;
	fk.watch_since = since;
	if (fk.end_at_once) {
		json_t *ev = json_pack("{s:I, s:s}", "id", (json_int_t)since + 1, "message",
		    "stored");

		cb(ev, arg);
		json_decref(ev);
		cb(NULL, arg);	/* an upgrade that has ended: the end comes at once */
		return fk_handle;
	}
	fk.watch_cb = cb;
	fk.watch_arg = arg;
	return fk_handle;
}

static void
fk_unwatch(struct engine_watch *w)
{
	ck_assert_ptr_eq(w, fk_handle);
	fk.calls[FK_UNWATCH]++;
	fk.watch_cb = NULL;
}

static const struct methods_engine fake_engine = {
	fk_plan, fk_start, fk_pause, fk_resume, fk_cancel, fk_rollback, fk_status,
	fk_watch, fk_unwatch,
};

/* The engine plays one event to the watcher (if one is subscribed). */
static void
fk_emit(int id, size_t pad)
{
	char *msg = malloc(pad + 1);
	json_t *ev;

	memset(msg, 'x', pad);
	msg[pad] = '\0';
	ev = json_pack("{s:i, s:s, s:s}", "id", id, "level", "info", "message", msg);
	ck_assert_ptr_nonnull(fk.watch_cb);
	fk.watch_cb(ev, fk.watch_arg);
	json_decref(ev);
	free(msg);
}

/* The end of the upgrade: the engine's final NULL, after which it forgets us. */
static void
fk_end(void)
{
	engine_watch_cb cb = fk.watch_cb;

	fk.watch_cb = NULL;
	cb(NULL, fk.watch_arg);
}

static void
raw_sql(const char *sql)
{
	char path[512];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void
stream_setup(void)
{
	setup();
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does: hang-ups are errors, not signals */
	memset(&fk, 0, sizeof(fk));
	fk.refuse = VLE_NERRORS;
	methods_set_engine(&fake_engine);
	raw_sql("INSERT INTO upgrade (id, deployment, from_version, to_version, surge, "
	    "state, phase, created_at, updated_at) VALUES (1, 'prod', '7.9.3', '7.9.4', "
	    "1, 'running', 'replace', 1000, 1000)");
	fk.status = json_pack("{s:i, s:s, s:s, s:{s:i, s:i}}", "id", 1, "state",
	    "running", "phase", "replace", "progress", "done", 3, "total", 6);
}

static void
stream_teardown(void)
{
	methods_set_engine(NULL);
	json_decref(fk.status);
	json_decref(fk.refuse_params);
	teardown();
}

static json_t *
reply_params(json_t *r)
{
	return json_object_get(r, "parameters");
}

static bool
continues(json_t *r)
{
	return json_is_true(json_object_get(r, "continues"));
}

static const char watch_call[] =
    "{\"method\":\"io.bbupgraded.Watch\",\"parameters\":{\"id\":1,\"since\":4},"
    "\"more\":true}";

/* A watcher gets the status, each event, then the final state, in order. */
START_TEST(stream_watch_replies)
{
	json_t *r;
	int fd;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	/* Pipelined: the Status must wait until the Watch has ended. */
	client_send(fd, watch_call, sizeof(watch_call));
	client_send(fd, "{\"method\":\"io.bbupgraded.Status\"}", 34);
	r = client_reply(fd);
	ck_assert_ptr_null(reply_error(r));
	ck_assert(continues(r));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "phase")), "replace");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "deployment")), "prod");
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_WATCH], 1);
	ck_assert_int_eq(fk.watch_id, 1);
	ck_assert_int_eq(fk.watch_since, 4);
	ck_assert_int_eq(methods_nwatchers(), 1);
	fk_emit(5, 10);
	fk_emit(6, 10);
	for (int i = 5; i <= 6; i++) {
		r = client_reply(fd);
		ck_assert(continues(r));
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
		    reply_params(r), "event"), "id")), i);
		json_decref(r);
	}
	json_object_set_new(fk.status, "state", json_string("done"));
	fk_end();
	r = client_reply(fd);
	ck_assert(!continues(r));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "state")), "done");
	json_decref(r);
	ck_assert_int_eq(methods_nwatchers(), 0);
	/* Then, and only then, the call that waited. */
	r = client_reply(fd);
	ck_assert_ptr_null(reply_error(r));
	ck_assert_ptr_nonnull(json_object_get(reply_params(r), "uptime_seconds"));
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 0);	/* it ended by itself */
	close(fd);
	server_stop();
}
END_TEST

/* A halted upgrade ends its watchers' calls: halted is their last reply. */
START_TEST(stream_watch_halted)
{
	json_t *r;
	int fd;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, watch_call, sizeof(watch_call));
	json_decref(client_reply(fd));
	/*
	 * The engine commits the halt with its events, then tells them: here only the
	 * first before the watcher looks; the second comes from the store.
	 */
	raw_sql("UPDATE upgrade SET state = 'halted', reason = 'node i-1 in ERROR'");
	raw_sql("INSERT INTO event (id, upgrade_id, at, level, message) VALUES "
	    "(5, 1, 1, 'error', 'halt'), (6, 1, 2, 'info', 'after the halt')");
	json_object_set_new(fk.status, "state", json_string("halted"));
	fk_emit(5, 10);
	for (int id = 5; id <= 6; id++) {
		r = client_reply(fd);
		ck_assert(continues(r));
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
		    reply_params(r), "event"), "id")), id);
		json_decref(r);
	}
	r = client_reply(fd);
	ck_assert(!continues(r));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "state")), "halted");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "reason")), "node i-1 in ERROR");
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 1);
	ck_assert_int_eq(methods_nwatchers(), 0);
	/* Watching it now (after event 4): the state, its events, then the end at once. */
	client_send(fd, watch_call, sizeof(watch_call));
	ck_assert(continues(r = client_reply(fd)));
	json_decref(r);
	for (int id = 5; id <= 6; id++) {
		ck_assert(continues(r = client_reply(fd)));
		json_decref(r);
	}
	ck_assert(!continues(r = client_reply(fd)));
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 2);
	close(fd);
	server_stop();
}
END_TEST

/* A watch of an upgrade that has ended: its events and its end, from engine_watch(). */
START_TEST(stream_watch_ended)
{
	json_t *r;
	int fd;

	fk.end_at_once = true;
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, watch_call, sizeof(watch_call));
	ck_assert(continues(r = client_reply(fd)));
	json_decref(r);
	ck_assert(continues(r = client_reply(fd)));
	ck_assert_ptr_nonnull(json_object_get(reply_params(r), "event"));
	json_decref(r);
	ck_assert(!continues(r = client_reply(fd)));
	ck_assert_ptr_nonnull(json_object_get(reply_params(r), "upgrade"));
	json_decref(r);
	ck_assert_int_eq(methods_nwatchers(), 0);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 0);
	close(fd);
	server_stop();
}
END_TEST

static void
pump_until(bool (*cond)(void))
{
	for (int i = 0; i < 2000 && !cond(); i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert(cond());
}

static bool
no_watchers(void)
{
	return methods_nwatchers() == 0;
}

/*
 * A watcher that hangs up is forgotten: unsubscribed once, from the loop, with no use
 * of its memory afterwards (the sanitizer build checks that), and the daemon goes on.
 */
START_TEST(stream_watch_disconnect)
{
	json_t *r;
	int fd, other;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, watch_call, sizeof(watch_call));
	json_decref(client_reply(fd));
	ck_assert_int_eq(methods_nwatchers(), 1);
	close(fd);
	/* An event on its way while the hang-up is not yet seen: sent into the void. */
	fk_emit(5, 100);
	pump_until(no_watchers);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 1);
	ck_assert_ptr_null(fk.watch_cb);
	ck_assert_int_eq(ctl_nclients(), 0);
	other = client_connect();
	client_send(other, "{\"method\":\"io.bbupgraded.Status\"}", 34);
	ck_assert_ptr_nonnull(r = client_reply(other));
	json_decref(r);
	close(other);
	server_stop();
}
END_TEST

/* A watcher that does not read is dropped by the output queue's limit, not buffered. */
START_TEST(stream_slow_watcher_dropped)
{
	int fd, i;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, watch_call, sizeof(watch_call));
	pump_until_readable(fd);
	for (i = 0; i < 1000 && fk.watch_cb != NULL && methods_nwatchers() == 1; i++) {
		fk_emit(5 + i, 16 * 1024);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	pump_until(no_watchers);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 1);
	ck_assert_int_lt(i, 1000);
	close(fd);
	server_stop();
}
END_TEST

/* The daemon stopping with a watcher: unsubscribed, loop closed cleanly (teardown). */
START_TEST(stream_watch_shutdown)
{
	int fd;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, watch_call, sizeof(watch_call));
	json_decref(client_reply(fd));
	server_stop();
	ck_assert_int_eq(methods_nwatchers(), 0);
	ck_assert_int_eq(fk.calls[FK_UNWATCH], 1);
	close(fd);
}
END_TEST

START_TEST(stream_expected_more)
{
	json_t *r;
	int fd;

	methods_init(&cfg, store);
	r = do_call("{\"method\":\"io.bbupgraded.Watch\"}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.ExpectedMore");
	json_decref(r);
	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, "{\"method\":\"io.bbupgraded.Watch\",\"parameters\":{}}", 49);
	r = client_reply(fd);
	ck_assert_str_eq(reply_error(r), "org.varlink.service.ExpectedMore");
	ck_assert(!continues(r));
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_WATCH], 0);
	/* The connection is still good. */
	client_send(fd, "{\"method\":\"io.bbupgraded.Status\"}", 34);
	json_decref(client_reply(fd));
	close(fd);
	server_stop();
}
END_TEST

/* Watch of nothing: no upgrade at all, or an unknown one. */
START_TEST(stream_watch_nothing)
{
	static const char unknown[] = "{\"method\":\"io.bbupgraded.Watch\","
	    "\"parameters\":{\"id\":42},\"more\":true}";
	static const char latest[] = "{\"method\":\"io.bbupgraded.Watch\",\"more\":true}";
	int fd;
	json_t *r;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, unknown, sizeof(unknown));
	r = client_reply(fd);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.NoSuchUpgrade");
	ck_assert_str_eq(json_string_value(json_object_get(reply_params(r), "id")), "42");
	json_decref(r);
	raw_sql("DELETE FROM upgrade");
	client_send(fd, latest, sizeof(latest));
	r = client_reply(fd);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.NoUpgrade");
	json_decref(r);
	ck_assert_int_eq(methods_nwatchers(), 0);
	close(fd);
	server_stop();
}
END_TEST

/* Plan answers when the engine's preflight does; a client gone by then is no harm. */
START_TEST(stream_plan_deferred)
{
	static const char plan_call[] = "{\"method\":\"io.bbupgraded.Plan\",\"parameters\":"
	    "{\"deployment\":\"prod\",\"version\":\"7.9.4\"}}";
	struct pollfd pfd;
	json_t *plan, *r;
	int fd;

	ck_assert_int_eq(ctl_init(&loop, &cfg, store, -1), 0);
	fd = client_connect();
	client_send(fd, plan_call, sizeof(plan_call));
	for (int i = 0; i < 100 && fk.calls[FK_PLAN] == 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
	ck_assert_int_eq(fk.calls[FK_PLAN], 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 20), 0);	/* nothing yet */
	plan = json_pack("{s:s}", "to_version", "7.9.4");
	fk.plan_cb(plan, NULL, fk.plan_arg);	/* the plan is the callee's (engine.c) */
	r = client_reply(fd);
	ck_assert(!continues(r));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply_params(r),
	    "plan"), "to_version")), "7.9.4");
	json_decref(r);
	/* Again, and hang up before the answer. */
	client_send(fd, plan_call, sizeof(plan_call));
	for (int i = 0; i < 100 && fk.calls[FK_PLAN] == 1; i++)
		uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
	close(fd);
	for (int i = 0; i < 100 && ctl_nclients() > 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
	ck_assert_int_eq(ctl_nclients(), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	{
		struct engine_refusal ref = { BBE_PREFLIGHT_FAILED,
		    json_pack("{s:s, s:[s]}", "summary", "1 problem", "problems", "x") };
		fk.plan_cb(NULL, &ref, fk.plan_arg);	/* finds nobody: released */
	}
	server_stop();
}
END_TEST

static json_t *
call_as(const char *msg, bool can_mutate)
{
	struct vl_call call;
	struct peer peer = { .pid = 1, .uid = can_mutate ? 0 : 1000,
	    .can_mutate = can_mutate };
	char why[128];
	json_t *j = vl_parse(msg, strlen(msg), why, sizeof(why)), *reply;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(vl_call_from_json(j, &call, why, sizeof(why)), 0);
	reply = methods_call(&call, &peer);
	json_decref(j);
	return reply;
}

/* A caller without the right gets PermissionDenied, and the engine hears nothing. */
START_TEST(methods_permission)
{
	static const char *const mutating[] = {
		"{\"method\":\"io.bbupgraded.Start\",\"parameters\":{\"deployment\":\"prod\","
		    "\"version\":\"7.9.4\"}}",
		"{\"method\":\"io.bbupgraded.Pause\"}",
		"{\"method\":\"io.bbupgraded.Resume\"}",
		"{\"method\":\"io.bbupgraded.Cancel\"}",
		"{\"method\":\"io.bbupgraded.Rollback\"}",
	};
	json_t *r;

	methods_init(&cfg, store);
	for (size_t i = 0; i < sizeof(mutating) / sizeof(mutating[0]); i++) {
		r = call_as(mutating[i], false);
		ck_assert_msg(reply_error(r) != NULL && strcmp(reply_error(r),
		    "org.varlink.service.PermissionDenied") == 0, "%s", mutating[i]);
		json_decref(r);
	}
	for (int k = FK_START; k <= FK_ROLLBACK; k++)
		ck_assert_int_eq(fk.calls[k], 0);
	/* Read-only methods stay open. */
	r = call_as("{\"method\":\"io.bbupgraded.History\"}", false);
	ck_assert_ptr_null(reply_error(r));
	json_decref(r);
	r = call_as("{\"method\":\"io.bbupgraded.Events\",\"parameters\":{\"id\":1}}", false);
	ck_assert_ptr_null(reply_error(r));
	json_decref(r);
	/* And the permitted caller reaches the engine. */
	r = call_as(mutating[0], true);
	ck_assert_ptr_null(reply_error(r));
	ck_assert_int_eq(json_integer_value(json_object_get(reply_params(r), "id")), 7);
	json_decref(r);
	ck_assert_int_eq(fk.calls[FK_START], 1);
}
END_TEST

/* Values are checked before permission, in the table's order. */
START_TEST(methods_validation)
{
	methods_init(&cfg, store);
	expect_error("{\"method\":\"io.bbupgraded.Start\",\"parameters\":{\"deployment\":"
	    "\"prod\",\"version\":\"7.9\"}}",
	    "org.varlink.service.InvalidParameter", "parameter", "version");
	expect_error("{\"method\":\"io.bbupgraded.Start\",\"parameters\":{\"deployment\":"
	    "\"nope\",\"version\":\"7.9.4\"}}",
	    "io.bbupgraded.NoSuchDeployment", "deployment", "nope");
	expect_error("{\"method\":\"io.bbupgraded.Plan\",\"parameters\":{\"deployment\":"
	    "\"prod\"}}", "org.varlink.service.InvalidParameter", "parameter", "version");
	expect_error("{\"method\":\"io.bbupgraded.Start\",\"parameters\":{\"deployment\":"
	    "\"prod\",\"version\":794}}",
	    "org.varlink.service.InvalidParameter", "parameter", "version");
	expect_error("{\"method\":\"io.bbupgraded.Events\",\"parameters\":{\"id\":0}}",
	    "org.varlink.service.InvalidParameter", "parameter", "id");
	expect_error("{\"method\":\"io.bbupgraded.Events\",\"parameters\":{\"id\":42}}",
	    "io.bbupgraded.NoSuchUpgrade", "id", "42");
	expect_error("{\"method\":\"io.bbupgraded.Events\"}",
	    "org.varlink.service.InvalidParameter", "parameter", "id");
	expect_error("{\"method\":\"io.bbupgraded.History\",\"parameters\":{\"limit\":5000}}",
	    "org.varlink.service.InvalidParameter", "parameter", "limit");
	expect_error("{\"method\":\"io.bbupgraded.Watch\",\"parameters\":{\"since\":-1},"
	    "\"more\":true}", "org.varlink.service.InvalidParameter", "parameter", "since");
	expect_error("{\"method\":\"io.bbupgraded.Pause\",\"parameters\":{\"now\":true}}",
	    "org.varlink.service.InvalidParameter", "parameter", "now");
	ck_assert_int_eq(fk.calls[FK_START], 0);
}
END_TEST

/* The engine's refusals travel as typed errors with their parameters. */
START_TEST(methods_refusals)
{
	json_t *r;

	methods_init(&cfg, store);
	fk.refuse = BBE_UPGRADE_IN_PROGRESS;
	fk.refuse_params = json_pack("{s:s, s:i}", "deployment", "prod", "id", 1);
	r = call_as("{\"method\":\"io.bbupgraded.Start\",\"parameters\":{\"deployment\":"
	    "\"prod\",\"version\":\"7.9.4\"}}", true);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.UpgradeInProgress");
	ck_assert_int_eq(json_integer_value(json_object_get(reply_params(r), "id")), 1);
	json_decref(r);
	json_decref(fk.refuse_params);
	fk.refuse = BBE_NOT_ALLOWED;
	fk.refuse_params = json_pack("{s:s}", "reason", "an original was replaced: "
	    "use rollback");
	r = call_as("{\"method\":\"io.bbupgraded.Cancel\"}", true);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.NotAllowed");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(reply_params(r),
	    "reason")), "rollback"));
	json_decref(r);
	json_decref(fk.refuse_params);
	fk.refuse_params = NULL;
	fk.refuse = BBE_NO_UPGRADE;	/* no parameters at all */
	r = call_as("{\"method\":\"io.bbupgraded.Rollback\"}", true);
	ck_assert_str_eq(reply_error(r), "io.bbupgraded.NoUpgrade");
	json_decref(r);
	/* Idempotent commands say so. */
	fk.refuse = VLE_NERRORS;
	json_object_set_new(fk.status, "state", json_string("paused"));
	r = call_as("{\"method\":\"io.bbupgraded.Pause\"}", true);
	ck_assert_ptr_null(reply_error(r));
	ck_assert(json_is_true(json_object_get(reply_params(r), "already")));
	json_decref(r);
	r = call_as("{\"method\":\"io.bbupgraded.Resume\"}", true);
	ck_assert(json_is_false(json_object_get(reply_params(r), "already")));
	json_decref(r);
}
END_TEST

/* History and Events read the store; Status lays the engine's view over it. */
START_TEST(methods_history_events)
{
	json_t *r, *evs;

	methods_init(&cfg, store);
	raw_sql("UPDATE upgrade SET finished_at = 1500, state = 'done' WHERE id = 1");
	raw_sql("INSERT INTO upgrade (id, deployment, to_version, surge, state, phase, "
	    "created_at, updated_at, finished_at) VALUES (2, 'prod', '7.9.5', 1, 'halted', "
	    "'surge', 2000, 2000, NULL)");
	raw_sql("INSERT INTO event (upgrade_id, at, level, phase, node, message, data) "
	    "VALUES (1, 1000, 'info', 'replace', 'i-1', 'one', '{\"k\":1}'), "
	    "(1, 1001, 'warning', NULL, NULL, 'two', NULL), "
	    "(2, 1002, 'error', 'surge', NULL, 'three', NULL)");
	r = call_as("{\"method\":\"io.bbupgraded.History\"}", false);
	ck_assert_uint_eq(json_array_size(json_object_get(reply_params(r), "upgrades")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(
	    reply_params(r), "upgrades"), 0), "id")), 2);
	json_decref(r);
	r = call_as("{\"method\":\"io.bbupgraded.Events\",\"parameters\":{\"id\":1,"
	    "\"limit\":1}}", false);
	evs = json_object_get(reply_params(r), "events");
	ck_assert_uint_eq(json_array_size(evs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, 0), "at")),
	    "1970-01-01T00:00:01.000Z");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_array_get(evs, 0), "data"), "k")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(reply_params(r), "next")), 1);
	json_decref(r);
	r = call_as("{\"method\":\"io.bbupgraded.Events\",\"parameters\":{\"id\":1,"
	    "\"since\":1}}", false);
	evs = json_object_get(reply_params(r), "events");
	ck_assert_uint_eq(json_array_size(evs), 1);
	ck_assert(json_is_null(json_object_get(json_array_get(evs, 0), "phase")));
	ck_assert(json_is_null(json_object_get(reply_params(r), "next")));
	json_decref(r);
	/* Status: the newest upgrade (2) is not the engine's (1): the store's view only. */
	r = call_as("{\"method\":\"io.bbupgraded.Status\"}", false);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(reply_params(r),
	    "upgrade"), "id")), 2);
	ck_assert_ptr_null(json_object_get(json_object_get(reply_params(r), "upgrade"),
	    "progress"));
	json_decref(r);
	json_object_set_new(fk.status, "id", json_integer(2));
	r = call_as("{\"method\":\"io.bbupgraded.Status\"}", false);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(reply_params(r), "upgrade"),
	    "progress"));
	json_decref(r);
}
END_TEST

Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("methods"), *sock = tcase_create("socket"), *stream;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, methods_introspection);
	tcase_add_test(tc, methods_errors);
	tcase_add_test(tc, methods_status);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(sock, setup, teardown);
	tcase_add_test(sock, socket_round_trip);
	tcase_add_test(sock, socket_oversized_message);
	tcase_add_test(sock, socket_max_clients);
	tcase_add_test(sock, socket_idle_timeout);
	tcase_add_test(sock, socket_stale_is_replaced);
	tcase_add_test(sock, socket_live_is_refused);
	tcase_add_test(sock, socket_path_not_a_socket);
	tcase_set_timeout(sock, 10);
	suite_add_tcase(s, sock);
	stream = tcase_create("stream");
	tcase_add_checked_fixture(stream, stream_setup, stream_teardown);
	tcase_add_test(stream, stream_watch_replies);
	tcase_add_test(stream, stream_watch_ended);
	tcase_add_test(stream, stream_watch_halted);
	tcase_add_test(stream, stream_watch_disconnect);
	tcase_add_test(stream, stream_slow_watcher_dropped);
	tcase_add_test(stream, stream_watch_shutdown);
	tcase_add_test(stream, stream_expected_more);
	tcase_add_test(stream, stream_watch_nothing);
	tcase_add_test(stream, stream_plan_deferred);
	tcase_add_test(stream, methods_permission);
	tcase_add_test(stream, methods_validation);
	tcase_add_test(stream, methods_refusals);
	tcase_add_test(stream, methods_history_events);
	tcase_set_timeout(stream, 20);
	suite_add_tcase(s, stream);
	return s;
}
