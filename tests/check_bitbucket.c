/*
 * The Bitbucket client against a scripted ZDU server on loopback (libmicrohttpd, a
 * thread per connection, bound to 127.0.0.1 on port 0): authentication, the
 * documented shapes, the state guards (409 with an empty body), redirects, 5xx,
 * retries, timeouts, garbage, a context path, cancellation; then the secret files,
 * and that no secret reaches a message or a log line. Every test counts callbacks
 * exactly and ends with http_shutdown(), the loop run to completion and
 * uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/bitbucket.h"
#include "daemon/http.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

/* The Basic values were computed apart from the code under test (Python's base64). */
#define PASSWORD	"S3cret:Pass-Word!"
#define BASIC_ADMIN	"Basic YWRtaW46UzNjcmV0OlBhc3MtV29yZCE="
#define ALICE_PW	"alice-Pass-1"
#define BASIC_ALICE	"Basic YWxpY2U6YWxpY2UtUGFzcy0x"
#define LOCKED_PW	"locked-Pass-2"
#define BASIC_LOCKED	"Basic bG9ja2VkOmxvY2tlZC1QYXNzLTI="
#define TOKEN_ADMIN	"TOKEN-ADMIN-Zm9vYmFyYmF6"
#define TOKEN_NOSCOPE	"TOKEN-NOSCOPE-cXV4cXV1eA"
#define TOKEN_EXPIRED	"TOKEN-EXPIRED-d2FsZG8"

/* None of these may appear in a message, an error or a log line. */
static const char *const secrets[] = {
	"S3cret", "YWRtaW46UzNjcmV0", "alice-Pass", "YWxpY2U6YWxpY2", "TOKEN-",
	"TOPSECRET", "locked-Pass", "bG9ja2Vk",
};

static uv_loop_t loop;
static struct MHD_Daemon *mhd;
static int port;
static char *dir;
static atomic_bool stopping;

static void
no_secret(const char *s)
{
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		ck_assert_msg(strstr(s, secrets[i]) == NULL, "a secret (%s) in: %s",
		    secrets[i], s);
}

/* ---- The scripted ZDU server ---- */

enum mode {
	M_NORMAL, M_REDIRECT, M_SLOW, M_GARBAGE, M_HTML, M_500, M_FLAKY, M_STARTING,
	M_ECHO403,
};

enum cstate { C_STABLE, C_READY, C_MIXED, C_READY_TASKS };

static struct {
	pthread_mutex_t	 mu;
	char		 context[32];	/* "" or e.g. "/bitbucket" */
	enum mode	 mode;
	enum cstate	 cstate;
	char		 version[16];
	int		 flaky;		/* M_FLAKY: 503s left */
	int		 hits;		/* requests */
	int		 posts;
	bool		 bad_accept;	/* a /rest call without Accept: application/json */
	bool		 bad_xsrf;	/* a POST without X-Atlassian-Token: no-check */
	bool		 post_body;	/* a POST with a body */
	bool		 status_auth;	/* /status received an Authorization header */
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
srv_set(enum mode m, enum cstate c)
{
	pthread_mutex_lock(&srv.mu);
	srv.mode = m;
	srv.cstate = c;
	pthread_mutex_unlock(&srv.mu);
}

static int
srv_hits(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.hits;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
server_wait(int ms)
{
	for (int i = 0; i < ms / 10 && !atomic_load(&stopping); i++)
		sleep_ms(10);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *ctype, const char *body,
    const char *h, const char *v)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (ctype != NULL)
		MHD_add_response_header(resp, "Content-Type", ctype);
	if (h != NULL)
		MHD_add_response_header(resp, h, v);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
reply_json(struct MHD_Connection *conn, unsigned code, char *buf, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json;charset=UTF-8");
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static const char json_type[] = "application/json;charset=UTF-8";
static const char errors_denied[] = "{\"errors\":[{\"context\":null,\"message\":"
    "\"You are not permitted to access this resource\",\"exceptionName\":"
    "\"com.atlassian.bitbucket.AuthorisationException\"}]}";

static void
node_json(FILE *f, const char *id, const char *ip, const char *ver, const char *state,
    bool local)
{
	fprintf(f, "{\"id\":\"%s\",\"name\":\"node-%s\",\"ipAddress\":\"%s\","
	    "\"buildNumber\":\"8009000\",\"version\":\"%s\",\"state\":\"%s\","
	    "\"tasksTotal\":3,\"activeUserCount\":7,\"local\":%s,\"portNumber\":5701,"
	    "\"links\":[{\"rel\":\"self\",\"href\":\"http://x/rest/zdu/nodes/%s\"}]}",
	    id, id, ip, ver, state, local ? "true" : "false", id);
}

/* A node of the snapshot taken by start, gone since: only id, name and ip. */
static void
offline_json(FILE *f, const char *id, const char *ip)
{
	fprintf(f, "{\"id\":\"%s\",\"name\":\"node-%s\",\"ipAddress\":\"%s\","
	    "\"state\":\"OFFLINE\"}", id, id, ip);
}

static void
nodes_json(FILE *f, enum cstate c, const char *ver)
{
	fputs("\"nodes\":[", f);
	switch (c) {
	case C_STABLE:
	case C_READY:
		node_json(f, "n1", "10.0.0.11", ver, "ACTIVE", true);
		fputc(',', f);
		node_json(f, "n2", "10.0.0.12", ver, "ACTIVE", false);
		break;
	case C_MIXED:	/* n2 cannot be reached for the moment: nulls */
		node_json(f, "n3", "10.0.1.11", "8.9.1", "ACTIVE", true);
		fputs(",{\"id\":\"n2\",\"name\":\"node-n2\",\"ipAddress\":\"10.0.0.12\","
		    "\"version\":null,\"state\":null,\"tasksTotal\":null,"
		    "\"activeUserCount\":null,\"buildNumber\":null,\"local\":false},", f);
		offline_json(f, "n1", "10.0.0.11");
		break;
	case C_READY_TASKS:
		offline_json(f, "n1", "10.0.0.11");
		fputc(',', f);
		offline_json(f, "n2", "10.0.0.12");
		fputc(',', f);
		node_json(f, "n3", "10.0.1.11", "8.9.1", "ACTIVE", true);
		fputc(',', f);
		node_json(f, "n4", "10.0.1.12", "8.9.1", "ACTIVE", false);
		break;
	}
	fputc(']', f);
}

static enum MHD_Result
answer_cluster(struct MHD_Connection *conn, enum cstate c, const char *ver)
{
	static const char *const names[] = { "STABLE", "READY_TO_UPGRADE", "MIXED",
	    "READY_TO_RUN_UPGRADE_TASKS" };
	static const char *const links[] = { "start", "cancel", "self", "approve" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "{\"upgradeModeEnabled\":%s,\"state\":\"%s\",\"originalVersion\":%s,"
	    "\"hasFinalizationTasks\":false,", c == C_STABLE ? "false" : "true", names[c],
	    c == C_STABLE ? "null" : "\"8.9.0\"");
	nodes_json(f, c, ver);
	fprintf(f, ",\"links\":[{\"rel\":\"self\",\"href\":\"http://x\"},"
	    "{\"rel\":\"%s\",\"href\":\"http://x\"}]}", links[c]);
	fclose(f);
	return reply_json(conn, MHD_HTTP_OK, buf, len);
}

static enum MHD_Result
answer_state(struct MHD_Connection *conn, enum cstate c, const char *ver)
{
	static const char *const names[] = { "STABLE", "READY_TO_UPGRADE", "MIXED",
	    "READY_TO_RUN_UPGRADE_TASKS" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "{\"state\":\"%s\",\"buildInfo\":", names[c]);
	node_json(f, "n1", "10.0.0.11", ver, "ACTIVE", true);
	fputc('}', f);
	fclose(f);
	return reply_json(conn, MHD_HTTP_OK, buf, len);
}

static enum MHD_Result
answer_node(struct MHD_Connection *conn, const char *id, const char *ver)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(id, "n1") != 0 && strcmp(id, "n2") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, json_type, "{\"errors\":[{\"message\":"
		    "\"No such node\"}]}", NULL, NULL);
	f = open_memstream(&buf, &len);
	node_json(f, id, strcmp(id, "n1") == 0 ? "10.0.0.11" : "10.0.0.12", ver, "ACTIVE",
	    strcmp(id, "n1") == 0);
	fclose(f);
	return reply_json(conn, MHD_HTTP_OK, buf, len);
}

/* The guards of the reference; an illegal transition is a 409 with an empty body. */
static enum MHD_Result
answer_post(struct MHD_Connection *conn, const char *what)
{
	enum cstate c, next;
	bool ok;

	pthread_mutex_lock(&srv.mu);
	c = srv.cstate;
	if (strcmp(what, "/start") == 0)
		ok = c == C_STABLE, next = C_READY;
	else if (strcmp(what, "/cancel") == 0)
		ok = c == C_READY, next = C_STABLE;
	else if (strcmp(what, "/approve") == 0)
		ok = c == C_READY_TASKS, next = C_STABLE;
	else
		ok = false, next = c;
	if (ok && next == C_STABLE && c == C_READY_TASKS)
		snprintf(srv.version, sizeof(srv.version), "8.9.1");
	if (ok)
		srv.cstate = next;
	pthread_mutex_unlock(&srv.mu);
	if (!ok)
		return reply(conn, MHD_HTTP_CONFLICT, NULL, "", NULL, NULL);
	return answer_cluster(conn, next, srv.version);
}

static enum MHD_Result
answer_zdu(struct MHD_Connection *conn, const char *method, const char *p)
{
	char ver[16];
	enum cstate c;

	pthread_mutex_lock(&srv.mu);
	c = srv.cstate;
	memcpy(ver, srv.version, sizeof(ver));
	pthread_mutex_unlock(&srv.mu);
	if (strcmp(method, "POST") == 0)
		return answer_post(conn, p);
	if (strcmp(method, "GET") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "", NULL, NULL);
	if (strcmp(p, "/cluster") == 0)
		return answer_cluster(conn, c, ver);
	if (strcmp(p, "/state") == 0)
		return answer_state(conn, c, ver);
	if (strncmp(p, "/nodes/", 7) == 0)
		return answer_node(conn, p + 7, ver);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/html", "<html>404</html>", NULL, NULL);
}

/* Like Bitbucket: 401 without credentials; here 403 for wrong ones, as scripted. */
static enum MHD_Result
check_auth(struct MHD_Connection *conn, const char *auth, bool *pass)
{
	*pass = false;
	if (auth == NULL || strcmp(auth, "Bearer " TOKEN_EXPIRED) == 0 ||
	    strcmp(auth, BASIC_LOCKED) == 0)
		return reply(conn, MHD_HTTP_UNAUTHORIZED, json_type, "{\"errors\":[{"
		    "\"message\":\"Authentication failed. Please check your credentials and "
		    "try again.\"}]}", "WWW-Authenticate", "Basic realm=\"Atlassian\"");
	if (strcmp(auth, "Bearer " TOKEN_NOSCOPE) == 0)
		return reply(conn, MHD_HTTP_FORBIDDEN, "text/plain", "Rolling upgrades "
		    "feature requires a clustered installation.\nmore", NULL, NULL);
	if (strcmp(auth, BASIC_ADMIN) != 0 && strcmp(auth, "Bearer " TOKEN_ADMIN) != 0)
		return reply(conn, MHD_HTTP_FORBIDDEN, json_type, errors_denied, NULL, NULL);
	*pass = true;
	return MHD_YES;
}

static void
record_headers(struct MHD_Connection *conn, const char *method, size_t upload)
{
	const char *acc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	const char *x = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Atlassian-Token");
	bool post = strcmp(method, "POST") == 0;

	pthread_mutex_lock(&srv.mu);
	srv.bad_accept |= acc == NULL || strcmp(acc, "application/json") != 0;
	srv.bad_xsrf |= post && (x == NULL || strcmp(x, "no-check") != 0);
	srv.post_body |= post && upload > 0;
	srv.posts += post;
	pthread_mutex_unlock(&srv.mu);
}

/* What the load balancer does before Bitbucket sees the request. */
static enum MHD_Result
answer_mode(struct MHD_Connection *conn, enum mode m, const char *path, bool *done)
{
	char loc[256];
	bool fail = false;

	*done = true;
	switch (m) {
	case M_REDIRECT:
		snprintf(loc, sizeof(loc), "https://127.0.0.1:%d%s", port, path);
		return reply(conn, MHD_HTTP_FOUND, "text/html", "", "Location", loc);
	case M_GARBAGE:
		return reply(conn, MHD_HTTP_OK, json_type, "{\"upgradeModeEnabled\": tru",
		    NULL, NULL);
	case M_HTML:
		return reply(conn, MHD_HTTP_OK, "text/html", "<html><body>Log in</body>"
		    "</html>", NULL, NULL);
	case M_500:
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
		    "Internal Server Error", NULL, NULL);
	case M_FLAKY:
		pthread_mutex_lock(&srv.mu);
		if (srv.flaky > 0) {
			srv.flaky--;
			fail = true;
		}
		pthread_mutex_unlock(&srv.mu);
		if (fail)
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/html",
			    "<html><body>503 Service Unavailable</body></html>", NULL, NULL);
		break;
	case M_SLOW:
		server_wait(3000);
		break;
	default:
		break;
	}
	*done = false;
	return MHD_YES;
}

static enum MHD_Result
answer_health(struct MHD_Connection *conn, const char *auth, enum mode m)
{
	pthread_mutex_lock(&srv.mu);
	srv.status_auth |= auth != NULL;
	pthread_mutex_unlock(&srv.mu);
	if (m == M_STARTING)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, json_type,
		    "{\"state\":\"STARTING\"}", NULL, NULL);
	return reply(conn, MHD_HTTP_OK, json_type, "{\"state\":\"RUNNING\"}", NULL, NULL);
}

static enum MHD_Result
route(struct MHD_Connection *conn, const char *method, const char *path,
    size_t upload)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization");
	char ctx[32], echo[512];
	enum MHD_Result rc;
	size_t n;
	bool done, pass;
	enum mode m;

	pthread_mutex_lock(&srv.mu);
	srv.hits++;
	m = srv.mode;
	memcpy(ctx, srv.context, sizeof(ctx));
	pthread_mutex_unlock(&srv.mu);
	n = strlen(ctx);
	if (strncmp(path, ctx, n) != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/html", "<html>404</html>", NULL,
		    NULL);
	path += n;
	if ((rc = answer_mode(conn, m, path, &done)) != MHD_YES || done)
		return rc;
	if (strcmp(path, "/status") == 0)
		return answer_health(conn, auth, m);
	if (strncmp(path, "/rest/zdu/", 10) != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/html", "<html>404</html>", NULL,
		    NULL);
	record_headers(conn, method, upload);
	if ((rc = check_auth(conn, auth, &pass)) != MHD_YES || !pass)
		return rc;
	if (m == M_ECHO403) {	/* a hostile or broken server repeats our header */
		snprintf(echo, sizeof(echo), "denied for %s", auth);
		return reply(conn, MHD_HTTP_FORBIDDEN, "text/plain", echo, NULL, NULL);
	}
	return answer_zdu(conn, method, path + 9);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *path, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	size_t *upload = *con_cls;

	if (upload == NULL) {
		*con_cls = calloc(1, sizeof(*upload));
		return MHD_YES;
	}
	if (*size > 0) {
		*upload += *size;
		*size = 0;
		return MHD_YES;
	}
	return route(conn, method, path, *upload);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

/* ---- Secret files and clients ---- */

static char *
write_secret(const char *name, const char *content, size_t len, mode_t mode)
{
	static char path[8][512];
	static unsigned n;
	char *p = path[n++ % 8];
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	unlink(p);
	ck_assert_int_ne(fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);	/* whatever the umask */
	close(fd);
	return p;
}

static struct deployment dep;
static char dep_url[256], dep_secret[512], dep_name[] = "prod", dep_user[64];

/* [deployment prod] at port p: a token file, or a password file if user is set. */
static struct deployment *
deployment_at(int p, const char *ctx, const char *secret, const char *user)
{
	memset(&dep, 0, sizeof(dep));
	snprintf(dep_url, sizeof(dep_url), "http://127.0.0.1:%d%s", p, ctx);
	dep.name = dep_name;
	dep.bitbucket_url = dep_url;
	if (secret != NULL)
		snprintf(dep_secret, sizeof(dep_secret), "%s/%s", dir, secret);
	if (secret != NULL && user != NULL) {
		snprintf(dep_user, sizeof(dep_user), "%s", user);
		dep.bitbucket_user = dep_user;
		dep.password_file = dep_secret;
	} else if (secret != NULL)
		dep.token_file = dep_secret;
	return &dep;
}

static struct deployment *
deployment(const char *ctx, const char *secret, const char *user)
{
	return deployment_at(port, ctx, secret, user);
}

static struct bitbucket *
client(const struct deployment *d)
{
	struct bitbucket *bb;
	char err[1024];

	bb = bitbucket_new(&loop, d, err, sizeof(err));
	ck_assert_msg(bb != NULL, "%s", err);
	return bb;
}

static struct bitbucket *
client_basic(void)
{
	return client(deployment("", "admin.pw", "admin"));
}

static struct bitbucket *
client_bearer(void)
{
	return client(deployment("", "admin.token", NULL));
}

/* bitbucket_new() must refuse, saying why and where, never what. */
static void
refused(const struct deployment *d, const char *why)
{
	char err[1024] = "";

	ck_assert_ptr_null(bitbucket_new(&loop, d, err, sizeof(err)));
	ck_assert_msg(strstr(err, why) != NULL, "'%s' lacks '%s'", err, why);
	ck_assert_msg(strstr(err, "[deployment prod]") != NULL, "%s", err);
	no_secret(err);
}

/* ---- Results ---- */

struct got {
	int			 calls;
	struct bitbucket_result	 r;	/* message: msg; cluster: moved here */
	char			 msg[1024];
};

static void
on_result(struct bitbucket_result *r, void *arg)
{
	struct got *g = arg;

	ck_assert_ptr_nonnull(r->message);
	ck_assert_int_eq(r->ok, r->outcome == BITBUCKET_OK);
	no_secret(r->message);
	zdu_cluster_free(&g->r.cluster);
	g->calls++;
	g->r = *r;
	memset(&r->cluster, 0, sizeof(r->cluster));	/* ours now */
	snprintf(g->msg, sizeof(g->msg), "%s", r->message);
	g->r.message = g->msg;
}

static void
got_free(struct got *g)
{
	zdu_cluster_free(&g->r.cluster);
}

static uint64_t
now_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void
run_until(const int *count, int n, int max_ms)
{
	uint64_t end = now_ms() + (uint64_t)max_ms;

	while (*count < n && now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*count, n);
}

/* One call: started, not completed from inside, then completed exactly once. */
static void
one(struct bitbucket_call *c, struct got *g)
{
	int before = g->calls;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(g->calls, before);
	run_until(&g->calls, before + 1, 5000);
}

static void
expect(const struct got *g, enum bitbucket_outcome o, long status, const char *text)
{
	ck_assert_msg(g->r.outcome == o, "expected %s, got %s: %s",
	    bitbucket_outcome_name(o), bitbucket_outcome_name(g->r.outcome), g->msg);
	ck_assert_int_eq(g->r.status, status);
	if (text != NULL)
		ck_assert_msg(strstr(g->msg, text) != NULL, "'%s' lacks '%s'", g->msg, text);
}

static void
loop_finish(void)
{
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	atomic_store(&stopping, false);
	pthread_mutex_lock(&srv.mu);
	srv.context[0] = '\0';
	srv.mode = M_NORMAL;
	srv.cstate = C_STABLE;
	snprintf(srv.version, sizeof(srv.version), "8.9.0");
	srv.flaky = srv.hits = srv.posts = 0;
	srv.bad_accept = srv.bad_xsrf = srv.post_body = srv.status_auth = false;
	pthread_mutex_unlock(&srv.mu);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(mhd);
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	ck_assert_int_gt(port, 0);
	ck_assert_ptr_nonnull(dir = test_tmpdir());
	write_secret("admin.pw", PASSWORD "\n", strlen(PASSWORD) + 1, 0400);
	write_secret("alice.pw", ALICE_PW "\n", strlen(ALICE_PW) + 1, 0600);
	write_secret("locked.pw", LOCKED_PW, strlen(LOCKED_PW), 0400);
	write_secret("admin.token", TOKEN_ADMIN, strlen(TOKEN_ADMIN), 0600);
	write_secret("noscope.token", TOKEN_NOSCOPE "\n", strlen(TOKEN_NOSCOPE) + 1, 0400);
	write_secret("expired.token", TOKEN_EXPIRED "\n", strlen(TOKEN_EXPIRED) + 1, 0400);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop), 0);
}

static void
teardown(void)
{
	atomic_store(&stopping, true);
	MHD_stop_daemon(mhd);
	test_rmtree(dir);
	free(dir);
}

static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	p = ntohs(sin.sin_port);
	close(fd);
	return p;
}

/* ---- The ZDU calls ---- */

START_TEST(names)
{
	for (int i = 0; i < BITBUCKET_OUTCOME_COUNT; i++) {
		ck_assert_str_ne(bitbucket_outcome_name(i), "unknown");
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(bitbucket_outcome_name(i), bitbucket_outcome_name(j));
	}
	ck_assert_str_eq(bitbucket_outcome_name(BITBUCKET_OUTCOME_COUNT), "unknown");
	ck_assert_str_eq(bitbucket_outcome_name((enum bitbucket_outcome)-1), "unknown");
	for (int i = 0; i < BITBUCKET_OP_COUNT; i++)
		ck_assert_str_ne(bitbucket_op_name(i), "unknown");
	ck_assert_str_eq(bitbucket_op_name(BITBUCKET_OP_COUNT), "unknown");
	loop_finish();
}
END_TEST

/* The two parsers this client added to zdu.c: shapes, nulls, hostile bodies. */
START_TEST(parse_state_and_node)
{
	static const char *const bad_state[] = { "", "{", "[]", "{}", "{\"state\":5}",
	    "{\"state\":null}", "{\"state\":\"STABLE\",\"buildInfo\":{\"id\":\"x\"}}",
	    "{\"state\":\"STABLE\",\"buildInfo\":7}",
	    "{\"state\":\"STABLE\",\"state\":\"MIXED\"}" };
	static const char *const bad_node[] = { "", "null", "[]", "{}", "{\"id\":\"x\"}",
	    "{\"ipAddress\":\"1\",\"tasksTotal\":-1}", "{\"ipAddress\":7}" };
	struct zdu_state st;
	struct zdu_node n;
	char err[256];
	const char *b;

	b = "{\"state\":\"MIXED\",\"buildInfo\":{\"id\":\"a\",\"ipAddress\":\"10.0.0.1\","
	    "\"state\":null,\"version\":null,\"local\":true}}";
	ck_assert_int_eq(zdu_parse_state(b, strlen(b), &st, err, sizeof(err)), 0);
	ck_assert_int_eq(st.state, ZDU_MIXED);
	ck_assert(st.has_node);
	ck_assert_int_eq(st.node.state, ZDU_NODE_UNREACHABLE);
	ck_assert_int_eq(st.node.tasks_total, ZDU_NULL);
	b = "{\"state\":\"PAUSED\",\"buildInfo\":null}";
	ck_assert_int_eq(zdu_parse_state(b, strlen(b), &st, err, sizeof(err)), 0);
	ck_assert_int_eq(st.state, ZDU_CLUSTER_UNKNOWN);
	ck_assert_str_eq(st.state_name, "PAUSED");
	ck_assert(!st.has_node);
	for (size_t i = 0; i < sizeof(bad_state) / sizeof(bad_state[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(zdu_parse_state(bad_state[i], strlen(bad_state[i]), &st, err,
		    sizeof(err)) == -1, "accepted %s", bad_state[i]);
		ck_assert(err[0] != '\0');
		ck_assert(!st.has_node);
	}
	for (size_t i = 0; i < sizeof(bad_node) / sizeof(bad_node[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(zdu_parse_node(bad_node[i], strlen(bad_node[i]), &n, err,
		    sizeof(err)) == -1, "accepted %s", bad_node[i]);
		ck_assert(err[0] != '\0');
		ck_assert_str_eq(n.ip, "");
	}
	loop_finish();
}
END_TEST

START_TEST(cluster_shapes)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };
	const struct zdu_cluster *c = &g.r.cluster;

	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /rest/zdu/cluster");
	ck_assert_int_eq(g.r.op, BITBUCKET_OP_CLUSTER);
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert(!c->upgrade_mode);
	ck_assert_int_eq(c->state, ZDU_STABLE);
	ck_assert_str_eq(c->original_version, "");
	ck_assert_uint_eq(c->nnodes, 2);
	ck_assert_str_eq(c->nodes[0].ip, "10.0.0.11");
	ck_assert_str_eq(c->nodes[1].version, "8.9.0");
	ck_assert_int_eq(c->nodes[1].tasks_total, 3);
	/* A node that cannot be reached (nulls) and a snapshot entry (OFFLINE). */
	srv_set(M_NORMAL, C_MIXED);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	ck_assert_int_eq(c->state, ZDU_MIXED);
	ck_assert_str_eq(c->original_version, "8.9.0");
	ck_assert_uint_eq(c->nnodes, 3);
	ck_assert_int_eq(c->nodes[1].state, ZDU_NODE_UNREACHABLE);
	ck_assert_str_eq(c->nodes[1].version, "");
	ck_assert_int_eq(c->nodes[1].tasks_total, ZDU_NULL);
	ck_assert_int_eq(c->nodes[1].active_users, ZDU_NULL);
	ck_assert_int_eq(c->nodes[2].state, ZDU_NODE_OFFLINE);
	ck_assert_ptr_null(zdu_node_by_ip(c, "10.0.0.11"));
	ck_assert_ptr_eq(zdu_node_by_ip(c, "10.0.1.11"), &c->nodes[0]);
	got_free(&g);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
	ck_assert(!srv.bad_accept);
}
END_TEST

START_TEST(start_cancel_approve)
{
	struct bitbucket *bb = client_bearer();
	struct got g = { 0 };

	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "POST /rest/zdu/start");
	ck_assert_int_eq(g.r.cluster.state, ZDU_READY_TO_UPGRADE);
	ck_assert(g.r.cluster.upgrade_mode);
	ck_assert_str_eq(g.r.cluster.original_version, "8.9.0");
	/* Again: 409 with an empty body, never a JSON requirement, never repeated. */
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_CONFLICT, 409, "not allowed in the cluster's current state");
	ck_assert_ptr_nonnull(strstr(g.msg, "only from STABLE"));
	ck_assert(!g.r.maybe_applied);
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert_ptr_null(g.r.cluster.nodes);
	one(bitbucket_post_cancel(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	ck_assert_int_eq(g.r.cluster.state, ZDU_STABLE);
	one(bitbucket_post_cancel(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_CONFLICT, 409, "only from READY_TO_UPGRADE");
	one(bitbucket_post_approve(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_CONFLICT, 409, "only from READY_TO_RUN_UPGRADE_TASKS");
	/* The roll is done: old nodes OFFLINE in the snapshot, then approve. */
	srv_set(M_NORMAL, C_READY_TASKS);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	ck_assert_int_eq(g.r.cluster.state, ZDU_READY_TO_RUN_UPGRADE_TASKS);
	ck_assert_int_eq(g.r.cluster.nodes[0].state, ZDU_NODE_OFFLINE);
	ck_assert_str_eq(g.r.cluster.nodes[0].version, "");
	one(bitbucket_post_approve(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	ck_assert_int_eq(g.r.cluster.state, ZDU_STABLE);
	ck_assert_str_eq(g.r.cluster.nodes[0].version, "8.9.1");
	got_free(&g);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 7);
	ck_assert_int_eq(srv.posts, 6);
	ck_assert(!srv.bad_xsrf);
	ck_assert(!srv.post_body);
	ck_assert(!srv.bad_accept);
}
END_TEST

START_TEST(state_and_nodes)
{
	static const char *const bad_ids[] = { "../admin", "", "a b", "n1/../x", "..",
	    "n1?x=1", "0123456789012345678901234567890123456789012345678901234567890123" };
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };
	int hits;

	one(bitbucket_get_state(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /rest/zdu/state");
	ck_assert_int_eq(g.r.state.state, ZDU_STABLE);
	ck_assert(g.r.state.has_node);
	ck_assert(g.r.state.node.local);
	ck_assert_str_eq(g.r.state.node.id, "n1");
	one(bitbucket_get_node(bb, "n2", on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /rest/zdu/nodes/n2");
	ck_assert_str_eq(g.r.node.ip, "10.0.0.12");
	ck_assert_int_eq(g.r.node.state, ZDU_NODE_ACTIVE);
	one(bitbucket_get_node(bb, "n9", on_result, &g), &g);
	expect(&g, BITBUCKET_NOT_FOUND, 404, "no such node");
	ck_assert_uint_eq(g.r.attempts, 1);
	/* Ids are checked before they go into a URL: completed here, later, unsent. */
	hits = srv_hits();
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		one(bitbucket_get_node(bb, bad_ids[i], on_result, &g), &g);
		expect(&g, BITBUCKET_BAD_ANSWER, 0, "not a node id");
		ck_assert_uint_eq(g.r.attempts, 0);
	}
	one(bitbucket_get_node(bb, NULL, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 0, "not a node id");
	ck_assert_int_eq(srv_hits(), hits);
	/* Nothing is started without a client or a callback. */
	ck_assert_ptr_null(bitbucket_get_cluster(NULL, on_result, &g));
	ck_assert_ptr_null(bitbucket_get_cluster(bb, NULL, NULL));
	got_free(&g);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 11);
}
END_TEST

START_TEST(health)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /status");
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_RUNNING);
	srv_set(M_STARTING, C_STABLE);
	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 503, "STARTING");
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_STARTING);
	/* Health is measured, never retried. */
	srv_set(M_500, C_STABLE);
	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 500, NULL);
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_DOWN);
	ck_assert_uint_eq(g.r.attempts, 1);
	srv_set(M_HTML, C_STABLE);
	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 200, "not a /status answer");
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_DOWN);
	bitbucket_free(bb);
	/* Nobody listening. */
	bb = client(deployment_at(free_port(), "", "admin.pw", "admin"));
	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NETWORK, 0, "cannot connect");
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_DOWN);
	ck_assert_uint_eq(g.r.attempts, 1);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 5);
	ck_assert(!srv.status_auth);	/* /status needs no credentials: none sent */
}
END_TEST

static long raw_status;
static int raw_calls;

static void
on_raw(const struct http_response *resp, void *arg)
{
	raw_calls++;
	raw_status = resp->status;
}

START_TEST(auth_outcomes)
{
	struct http_req req = { .url = NULL };
	struct bitbucket *bb;
	struct got g = { 0 };
	char u[256];

	/* A token that cannot reach sysadmin-only endpoints; a plain-text 403 body. */
	bb = client(deployment("", "noscope.token", NULL));
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_FORBIDDEN, 403, "system administrator");
	ck_assert_ptr_nonnull(strstr(g.msg, "BSERV-19635"));
	ck_assert_ptr_nonnull(strstr(g.msg, "bitbucket_user and password_file"));
	ck_assert_ptr_nonnull(strstr(g.msg, "Bitbucket says: \"Rolling upgrades feature "
	    "requires a clustered installation.\""));
	ck_assert_ptr_null(strstr(g.msg, "more"));	/* the first line only */
	ck_assert_uint_eq(g.r.attempts, 1);
	bitbucket_free(bb);
	/* A user without the permission: Basic, a JSON body, no token caveat. */
	bb = client(deployment("", "alice.pw", "alice"));
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_FORBIDDEN, 403, "give user \"alice\" the System "
	    "administrator permission");
	ck_assert_ptr_nonnull(strstr(g.msg, "You are not permitted"));
	ck_assert_ptr_null(strstr(g.msg, "BSERV"));
	ck_assert(!g.r.maybe_applied);
	bitbucket_free(bb);
	/* A token Bitbucket rejects. */
	bb = client(deployment("", "expired.token", NULL));
	one(bitbucket_get_state(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_UNAUTHORIZED, 401, "rejected the token of token_file");
	ck_assert_ptr_nonnull(strstr(g.msg, "expired.token"));
	ck_assert_uint_eq(g.r.attempts, 1);
	bitbucket_free(bb);
	/* A password Bitbucket rejects (or a user locked behind a CAPTCHA). */
	bb = client(deployment("", "locked.pw", "locked"));
	one(bitbucket_post_cancel(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_UNAUTHORIZED, 401, "rejected user \"locked\" with the "
	    "password of password_file");
	ck_assert_ptr_nonnull(strstr(g.msg, "CAPTCHA"));
	ck_assert(!g.r.maybe_applied);
	bitbucket_free(bb);
	/* The server itself: without an Authorization header, 401. */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/rest/zdu/cluster", port);
	req.url = u;
	raw_calls = 0;
	ck_assert_ptr_nonnull(http_request(&req, on_raw, NULL));
	run_until(&raw_calls, 1, 3000);
	ck_assert_int_eq(raw_status, 401);
	loop_finish();
	ck_assert_int_eq(g.calls, 4);
	ck_assert_int_eq(raw_calls, 1);
}
END_TEST

/* A server that repeats our header in its 403: its words are left out. */
START_TEST(echoed_credential_dropped)
{
	struct bitbucket *bb;
	struct got g = { 0 };

	srv_set(M_ECHO403, C_STABLE);
	bb = client_basic();
	one(bitbucket_get_cluster(bb, on_result, &g), &g);	/* on_result: no_secret */
	expect(&g, BITBUCKET_FORBIDDEN, 403, "system administrator");
	ck_assert_ptr_null(strstr(g.msg, "Bitbucket says"));
	bitbucket_free(bb);
	bb = client_bearer();
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_FORBIDDEN, 403, "BSERV-19635");
	ck_assert_ptr_null(strstr(g.msg, "Bitbucket says"));
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
}
END_TEST

START_TEST(redirect_not_followed)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	srv_set(M_REDIRECT, C_STABLE);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 302, "redirect to ");
	ck_assert_ptr_nonnull(strstr(g.msg, "not followed"));
	ck_assert_ptr_nonnull(strstr(g.msg, "https://"));
	ck_assert_ptr_nonnull(strstr(g.msg, "context path"));
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert_int_eq(srv_hits(), 1);
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 302, "redirect");
	ck_assert(!g.r.maybe_applied);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
	ck_assert_int_eq(srv_hits(), 2);
}
END_TEST

START_TEST(server_errors_and_retry)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	bitbucket_set_timeouts(bb, 0, 50);
	/* A GET: once more after the delay, then the 500 is the answer. */
	srv_set(M_500, C_STABLE);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 500, "HTTP 500 from Bitbucket or its load balancer");
	ck_assert_uint_eq(g.r.attempts, 2);
	ck_assert_uint_ge(g.r.elapsed_ms, 40);	/* the delay, in loop time */
	ck_assert_int_eq(srv_hits(), 2);
	one(bitbucket_get_state(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 500, "use /rest/zdu/cluster");
	ck_assert_int_eq(srv_hits(), 4);
	/* A POST: never repeated, and maybe applied. */
	one(bitbucket_post_approve(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 500, "finalization tasks may have failed");
	ck_assert_ptr_nonnull(strstr(g.msg, "may have taken effect"));
	ck_assert(g.r.maybe_applied);
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert_int_eq(srv_hits(), 5);
	/* A node going away: one 503 from the load balancer, then the answer. */
	srv_set(M_FLAKY, C_STABLE);
	srv.flaky = 1;
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	ck_assert_uint_eq(g.r.attempts, 2);
	ck_assert_int_eq(srv_hits(), 7);
	srv.flaky = 5;
	one(bitbucket_get_node(bb, "n1", on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 503, "no node behind the load balancer answered");
	ck_assert_uint_eq(g.r.attempts, 2);
	/* A retry only within the one timeout: too little left, none. */
	bitbucket_set_timeouts(bb, 1200, 500);
	srv_set(M_500, C_STABLE);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_SERVER, 500, NULL);
	ck_assert_uint_eq(g.r.attempts, 1);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 6);
}
END_TEST

START_TEST(timeout)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	bitbucket_set_timeouts(bb, 300, 50);
	srv_set(M_SLOW, C_STABLE);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NETWORK, 0, "timeout");
	ck_assert_uint_ge(g.r.elapsed_ms, 250);
	ck_assert_uint_lt(g.r.elapsed_ms, 1500);
	ck_assert_uint_eq(g.r.attempts, 1);	/* no time left for a retry */
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NETWORK, 0, "may have taken effect");
	ck_assert(g.r.maybe_applied);
	ck_assert_uint_lt(g.r.elapsed_ms, 1500);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
}
END_TEST

START_TEST(bad_answers)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	bitbucket_set_timeouts(bb, 0, 50);
	srv_set(M_GARBAGE, C_STABLE);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 200, "not JSON");
	ck_assert_uint_eq(g.r.attempts, 1);	/* not retried: it would say the same */
	ck_assert_ptr_null(g.r.cluster.nodes);
	one(bitbucket_get_state(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 200, "not a ZDU ClusterStateResponse");
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 200, "may have taken effect");
	ck_assert(g.r.maybe_applied);
	srv_set(M_HTML, C_STABLE);
	one(bitbucket_get_node(bb, "n1", on_result, &g), &g);
	expect(&g, BITBUCKET_BAD_ANSWER, 200, "not a login page");
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 4);
}
END_TEST

START_TEST(context_path)
{
	struct bitbucket *bb;
	struct got g = { 0 };

	snprintf(srv.context, sizeof(srv.context), "/bitbucket");
	bb = client(deployment("/bitbucket/", "admin.pw", "admin"));
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /bitbucket/rest/zdu/cluster");
	one(bitbucket_post_start(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "POST /bitbucket/rest/zdu/start");
	one(bitbucket_get_health(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, "GET /bitbucket/status");
	ck_assert_int_eq(g.r.health, ZDU_HEALTH_RUNNING);
	bitbucket_free(bb);
	/* The context path forgotten: a 404 that says so. */
	bb = client_basic();
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NOT_FOUND, 404, "context path if it has one");
	ck_assert_uint_eq(g.r.attempts, 1);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 4);
}
END_TEST

START_TEST(connect_refused)
{
	struct bitbucket *bb = client(deployment_at(free_port(), "", "admin.pw", "admin"));
	struct got g = { 0 };

	bitbucket_set_timeouts(bb, 0, 50);
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NETWORK, 0, "cannot connect to http://127.0.0.1:");
	ck_assert_uint_eq(g.r.attempts, 2);
	one(bitbucket_post_cancel(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_NETWORK, 0, "cannot connect");
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert(!g.r.maybe_applied);		/* nothing reached Bitbucket */
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
}
END_TEST

/* ---- Cancellation ---- */

static struct bitbucket_call *to_abort;

static void
abort_timer_cb(uv_timer_t *t)
{
	bitbucket_abort(to_abort);
	bitbucket_abort(to_abort);		/* twice: nothing more */
	uv_close((uv_handle_t *)t, NULL);
}

static void
abort_after(int ms)
{
	static uv_timer_t t;

	uv_update_time(&loop);
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, abort_timer_cb, (uint64_t)ms, 0);
}

START_TEST(abort_in_flight)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	srv_set(M_SLOW, C_STABLE);
	ck_assert_ptr_nonnull(to_abort = bitbucket_get_cluster(bb, on_result, &g));
	abort_after(50);
	run_until(&g.calls, 1, 2000);
	expect(&g, BITBUCKET_CANCELLED, 0, "cancelled");
	ck_assert_uint_lt(g.r.elapsed_ms, 1000);
	ck_assert(!g.r.maybe_applied);
	ck_assert_ptr_nonnull(to_abort = bitbucket_post_start(bb, on_result, &g));
	abort_after(50);
	run_until(&g.calls, 2, 2000);
	expect(&g, BITBUCKET_CANCELLED, 0, NULL);
	ck_assert(g.r.maybe_applied);		/* it was sent: we cannot know */
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(g.calls, 2);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 2);
}
END_TEST

START_TEST(abort_before_loop_runs)
{
	struct bitbucket *bb = client_basic();
	struct bitbucket_call *c;
	struct got g = { 0 }, h = { 0 };

	ck_assert_ptr_nonnull(c = bitbucket_get_cluster(bb, on_result, &g));
	bitbucket_abort(c);
	ck_assert_int_eq(g.calls, 0);		/* never from inside bitbucket_abort() */
	/* A call decided locally (a bad id): the abort still wins. */
	ck_assert_ptr_nonnull(c = bitbucket_get_node(bb, "../x", on_result, &h));
	bitbucket_abort(c);
	ck_assert_int_eq(h.calls, 0);
	run_until(&g.calls, 1, 2000);
	run_until(&h.calls, 1, 2000);
	expect(&g, BITBUCKET_CANCELLED, 0, "cancelled");
	expect(&h, BITBUCKET_CANCELLED, 0, "cancelled");
	ck_assert_uint_eq(h.r.attempts, 0);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 1);
	ck_assert_int_eq(h.calls, 1);
}
END_TEST

START_TEST(abort_while_waiting_to_retry)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };

	bitbucket_set_timeouts(bb, 0, 5000);
	srv_set(M_FLAKY, C_STABLE);
	srv.flaky = 10;
	ck_assert_ptr_nonnull(to_abort = bitbucket_get_cluster(bb, on_result, &g));
	abort_after(200);
	run_until(&g.calls, 1, 2000);
	expect(&g, BITBUCKET_CANCELLED, 503, "cancelled");
	ck_assert_uint_eq(g.r.attempts, 1);
	ck_assert_uint_lt(g.r.elapsed_ms, 1000);
	ck_assert_int_eq(srv_hits(), 1);
	bitbucket_free(bb);
	loop_finish();
	ck_assert_int_eq(g.calls, 1);
}
END_TEST

START_TEST(free_with_calls_in_flight)
{
	struct bitbucket *bb = client_basic();
	struct got g[4];

	memset(g, 0, sizeof(g));
	srv_set(M_SLOW, C_STABLE);
	ck_assert_ptr_nonnull(bitbucket_get_cluster(bb, on_result, &g[0]));
	ck_assert_ptr_nonnull(bitbucket_get_state(bb, on_result, &g[1]));
	ck_assert_ptr_nonnull(bitbucket_post_start(bb, on_result, &g[2]));
	ck_assert_ptr_nonnull(bitbucket_get_node(bb, "", on_result, &g[3]));
	bitbucket_free(bb);			/* the callbacks run later, cancelled */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(g[i].calls, 0);
	for (int i = 0; i < 4; i++) {
		run_until(&g[i].calls, 1, 2000);
		expect(&g[i], BITBUCKET_CANCELLED, 0, "cancelled");
	}
	ck_assert(g[2].r.maybe_applied);
	loop_finish();				/* ASan: the client is freed by now */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(g[i].calls, 1);
}
END_TEST

static struct bitbucket *cb_client;

/* A callback that frees its own client, which has another call in flight. */
static void
on_result_free(struct bitbucket_result *r, void *arg)
{
	on_result(r, arg);
	bitbucket_abort(to_abort);	/* another one */
	bitbucket_free(cb_client);
	bitbucket_free(cb_client);	/* twice: nothing more */
}

START_TEST(free_from_callback)
{
	struct got g = { 0 }, slow = { 0 };

	cb_client = client_basic();
	srv_set(M_SLOW, C_STABLE);
	ck_assert_ptr_nonnull(bitbucket_get_cluster(cb_client, on_result, &slow));
	to_abort = NULL;
	ck_assert_ptr_nonnull(bitbucket_get_node(cb_client, "bad id", on_result_free, &g));
	run_until(&g.calls, 1, 2000);
	expect(&g, BITBUCKET_BAD_ANSWER, 0, "not a node id");
	run_until(&slow.calls, 1, 2000);
	expect(&slow, BITBUCKET_CANCELLED, 0, "cancelled");
	loop_finish();
	ck_assert_int_eq(g.calls, 1);
	ck_assert_int_eq(slow.calls, 1);
}
END_TEST

static void
shutdown_timer_cb(uv_timer_t *t)
{
	http_shutdown();
	uv_close((uv_handle_t *)t, NULL);
}

/* http_shutdown(): calls in flight and calls waiting for their retry end cancelled. */
START_TEST(http_shutdown_cancels)
{
	struct bitbucket *fast = client_basic(), *flaky = client_basic();
	struct got g = { 0 }, w = { 0 };
	uv_timer_t t;

	bitbucket_set_timeouts(flaky, 0, 300);
	srv_set(M_FLAKY, C_STABLE);
	srv.flaky = 1;
	ck_assert_ptr_nonnull(bitbucket_get_cluster(flaky, on_result, &w));
	uv_update_time(&loop);
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, shutdown_timer_cb, 150, 0);
	uv_run(&loop, UV_RUN_DEFAULT);		/* returns: nothing of ours is left */
	expect(&w, BITBUCKET_CANCELLED, 503, "shut down");
	ck_assert_uint_eq(w.r.attempts, 1);
	ck_assert_ptr_null(bitbucket_get_cluster(fast, on_result, &g));
	bitbucket_free(fast);
	bitbucket_free(flaky);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_int_eq(g.calls, 0);
}
END_TEST

/* ---- Secret files ---- */

START_TEST(secrets_read)
{
	struct bitbucket *bb;
	struct got g = { 0 };
	char big[BITBUCKET_SECRET_MAX + 1];

	/* Basic (password with ':' and a trailing newline), Bearer without newline. */
	bb = client_basic();
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	bitbucket_free(bb);
	bb = client_bearer();
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	bitbucket_free(bb);
	/* Group-readable is allowed (root:bbupgraded 0640). */
	write_secret("group.token", TOKEN_ADMIN "\n", strlen(TOKEN_ADMIN) + 1, 0640);
	bb = client(deployment("", "group.token", NULL));
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	expect(&g, BITBUCKET_OK, 200, NULL);
	bitbucket_free(bb);
	/* Exactly the limit; a password may hold spaces. */
	memset(big, 'A', sizeof(big));
	write_secret("max.token", big, BITBUCKET_SECRET_MAX, 0400);
	bitbucket_free(client(deployment("", "max.token", NULL)));
	write_secret("max.pw", big, BITBUCKET_SECRET_MAX - 1, 0400);
	bitbucket_free(client(deployment("", "max.pw", "admin")));
	write_secret("space.pw", "pass word\n", 10, 0400);
	bitbucket_free(client(deployment("", "space.pw", "admin")));
	got_free(&g);
	loop_finish();
	ck_assert_int_eq(g.calls, 3);
}
END_TEST

START_TEST(secrets_refused)
{
	static const struct {
		const char	*content;
		size_t		 len;
		mode_t		 mode;
		bool		 basic;
		const char	*why;
	} t[] = {
		{ "", 0, 0400, false, "empty: it must hold the token" },
		{ "\n", 1, 0400, true, "empty: it must hold the password" },
		{ "TOPSECRET\001x", 11, 0400, false, "a control character at byte 10" },
		{ "TOPSECRET\177", 10, 0400, true, "a control character at byte 10" },
		{ "TOPSE\0CRET", 10, 0400, false, "a control character at byte 6" },
		{ "TOPSECRET\r\n", 11, 0400, true, "a carriage return at byte 10" },
		{ "TOPSECRET\nTOPSECRET\n", 20, 0400, false, "more than one line" },
		{ "TOPSECRET\n\n", 11, 0400, false, "more than one line" },
		{ "TOPSECRET token", 15, 0400, false, "a space at byte 10" },
		{ "TOPSECRET", 9, 0644, false, "mode 0644 lets every user read it" },
		{ "TOPSECRET", 9, 0604, true, "mode 0604 lets every user read it" },
		{ "TOPSECRET", 9, 0602, false, "mode 0602 lets every user change it" },
		{ "TOPSECRET", 9, 0620, true, "mode 0620 lets its group change it" },
		{ "TOPSECRET", 9, 0660, false, "lets its group change it" },
	};
	char big[BITBUCKET_SECRET_MAX + 2], name[32];
	struct deployment *d;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		write_secret(name, t[i].content, t[i].len, t[i].mode);
		d = deployment("", name, t[i].basic ? "admin" : NULL);
		refused(d, t[i].why);
		refused(d, t[i].basic ? "password_file" : "token_file");
		refused(d, dep_secret);			/* which file */
	}
	memset(big, 'T', sizeof(big));
	write_secret("big", big, BITBUCKET_SECRET_MAX + 1, 0400);
	refused(deployment("", "big", NULL), "4097 bytes, more than 4096");
	write_secret("big2", big, BITBUCKET_SECRET_MAX + 1, 0400);
	refused(deployment("", "big2", "admin"), "it must hold only the password");
	/* A directory or a FIFO where the file should be: refused, not read. */
	refused(deployment("", "", NULL), "not a regular file");
	snprintf(name, sizeof(name), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(name, 0600), 0);
	refused(deployment("", "fifo", NULL), "not a regular file");
	/* Basic splits at the first ':' of the user. */
	refused(deployment("", "admin.pw", "ad:min"), "no ':'");
	loop_finish();
}
END_TEST

START_TEST(secrets_missing)
{
	struct deployment *d;
	const char *p;

	refused(deployment("", "nonexistent.token", NULL), "nonexistent.token: no such "
	    "file");
	refused(deployment("", "nonexistent.token", NULL), "/etc/bbupgraded/credentials/"
	    "prod");
	refused(deployment("", "nonexistent.token", NULL), "credential bitbucket_prod");
	refused(deployment("", "nonexistent.pw", "admin"), "password_file");
	refused(deployment("", "nonexistent.pw", "admin"), "password of user \"admin\"");
	/* Neither file configured, and no systemd credential to fall back on. */
	d = deployment("", NULL, NULL);
	refused(d, "no Bitbucket credential");
	refused(d, "/etc/bbupgraded/credentials/prod");
	refused(d, "bitbucket_prod");
	/* Owned by someone else, who could replace it (needs root to set up). */
	p = write_secret("other.token", TOKEN_ADMIN, strlen(TOKEN_ADMIN), 0400);
	if (chown(p, 4242, 4242) == 0)
		refused(deployment("", "other.token", NULL), "owned by uid 4242");
	else
		fprintf(stderr, "secrets_missing: owner check SKIPPED: chown: %s\n",
		    strerror(errno));
	if (geteuid() != 0) {
		p = write_secret("unreadable.token", TOKEN_ADMIN, strlen(TOKEN_ADMIN), 0);
		refused(deployment("", "unreadable.token", NULL), "cannot open");
	}
	loop_finish();
}
END_TEST

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Everything this module does, at log level debug: the log holds no secret. */
static void
exercise(void)
{
	struct bitbucket *bb = client_basic();
	struct got g = { 0 };
	char err[1024];

	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	one(bitbucket_post_start(bb, on_result, &g), &g);
	one(bitbucket_post_start(bb, on_result, &g), &g);
	one(bitbucket_get_node(bb, "n9", on_result, &g), &g);
	one(bitbucket_get_health(bb, on_result, &g), &g);
	srv_set(M_ECHO403, C_STABLE);
	one(bitbucket_get_state(bb, on_result, &g), &g);
	bitbucket_free(bb);
	srv_set(M_NORMAL, C_STABLE);
	bb = client(deployment("", "noscope.token", NULL));
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	bitbucket_free(bb);
	bb = client(deployment("", "expired.token", NULL));
	one(bitbucket_get_cluster(bb, on_result, &g), &g);
	bitbucket_free(bb);
	write_secret("bad.token", "TOPSECRET\001", 10, 0400);
	ck_assert_ptr_null(bitbucket_new(&loop, deployment("", "bad.token", NULL), err,
	    sizeof(err)));
	log_warnx("%s", err);			/* as the daemon would */
	got_free(&g);
	ck_assert_int_eq(g.calls, 8);
}

START_TEST(secrets_never_logged)
{
	char path[512], *text;
	int saved;

	snprintf(path, sizeof(path), "%s/log", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(freopen(path, "w", stderr));
	log_setlevel(LOG_DEBUG);
	exercise();
	log_setlevel(LOG_INFO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	text = slurp(path);
	no_secret(text);
	/* The debug lines are there: method, path, status, elapsed. */
	ck_assert_msg(strstr(text, "bitbucket prod: GET /rest/zdu/cluster: HTTP 200, ") !=
	    NULL, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "bitbucket prod: POST /rest/zdu/start: HTTP "
	    "409, "));
	ck_assert_ptr_nonnull(strstr(text, "bitbucket prod: GET /status: HTTP 200, "));
	ck_assert_ptr_nonnull(strstr(text, " ms\n"));
	ck_assert_ptr_nonnull(strstr(text, "Authorization: <redacted>"));	/* http_policy.c */
	ck_assert_ptr_nonnull(strstr(text, "a control character at byte 10"));
	free(text);
	loop_finish();
}
END_TEST

Suite *
bitbucket_suite(void)
{
	Suite *s = suite_create("bitbucket");
	TCase *calls = tcase_create("calls"), *cancel = tcase_create("cancel");
	TCase *sec = tcase_create("secrets");

	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_add_test(calls, names);
	tcase_add_test(calls, parse_state_and_node);
	tcase_add_test(calls, cluster_shapes);
	tcase_add_test(calls, start_cancel_approve);
	tcase_add_test(calls, state_and_nodes);
	tcase_add_test(calls, health);
	tcase_add_test(calls, auth_outcomes);
	tcase_add_test(calls, echoed_credential_dropped);
	tcase_add_test(calls, redirect_not_followed);
	tcase_add_test(calls, server_errors_and_retry);
	tcase_add_test(calls, timeout);
	tcase_add_test(calls, bad_answers);
	tcase_add_test(calls, context_path);
	tcase_add_test(calls, connect_refused);
	tcase_set_timeout(calls, 20);
	suite_add_tcase(s, calls);

	tcase_add_checked_fixture(cancel, setup, teardown);
	tcase_add_test(cancel, abort_in_flight);
	tcase_add_test(cancel, abort_before_loop_runs);
	tcase_add_test(cancel, abort_while_waiting_to_retry);
	tcase_add_test(cancel, free_with_calls_in_flight);
	tcase_add_test(cancel, free_from_callback);
	tcase_add_test(cancel, http_shutdown_cancels);
	tcase_set_timeout(cancel, 20);
	suite_add_tcase(s, cancel);

	tcase_add_checked_fixture(sec, setup, teardown);
	tcase_add_test(sec, secrets_read);
	tcase_add_test(sec, secrets_refused);
	tcase_add_test(sec, secrets_missing);
	tcase_add_test(sec, secrets_never_logged);
	tcase_set_timeout(sec, 20);
	suite_add_tcase(s, sec);
	return s;
}
