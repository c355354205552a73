/*
 * The control socket and its methods, in process: a real listening socket on a libuv
 * loop, driven by plain blocking client sockets, each test ending with the loop closed.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
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
	cfg.client_timeout = 60;
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

	cfg.client_timeout = 1;
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

Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("methods"), *sock = tcase_create("socket");

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
	return s;
}
