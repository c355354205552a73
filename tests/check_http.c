/*
 * The HTTP client against real servers on loopback: libmicrohttpd (a thread per
 * connection, bound to 127.0.0.1), a raw TCP server that resets connections, and
 * `openssl s_server` with a self-signed certificate. Every test runs a fresh loop,
 * counts callbacks exactly and ends with http_shutdown() and uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/http.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

static uv_loop_t loop;
static struct MHD_Daemon *mhd;
static int port;
static atomic_bool stopping;	/* lets blocked server threads go */
static atomic_int echo_hits;

/* What one callback saw, copied out of the response. */
struct result {
	int		 calls;
	long		 status;
	enum http_error	 error;
	char		*body;
	size_t		 body_len;
	char		*message;
	char		*date, *amzn_id, *amz_id, *ctype, *retry;
	uint64_t	 elapsed_ms;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
result_free(struct result *r)
{
	free(r->body);
	free(r->message);
	free(r->date);
	free(r->amzn_id);
	free(r->amz_id);
	free(r->ctype);
	free(r->retry);
	memset(r, 0, sizeof(*r));
}

static void
on_done(const struct http_response *resp, void *arg)
{
	struct result *r = arg;
	int calls = r->calls;

	result_free(r);
	r->calls = calls + 1;
	r->status = resp->status;
	r->error = resp->error;
	ck_assert_ptr_nonnull(resp->body);
	ck_assert_ptr_nonnull(resp->message);
	ck_assert_int_eq(resp->body[resp->body_len], '\0');
	r->body = malloc(resp->body_len + 1);
	memcpy(r->body, resp->body, resp->body_len + 1);
	r->body_len = resp->body_len;
	r->message = strdup(resp->message);
	r->date = dup_or_null(resp->date);
	r->amzn_id = dup_or_null(resp->amzn_request_id);
	r->amz_id = dup_or_null(resp->amz_request_id);
	r->ctype = dup_or_null(resp->content_type);
	r->retry = dup_or_null(resp->retry_after);
	r->elapsed_ms = resp->elapsed_ms;
}

static uint64_t
now_ms(void)
{
	return uv_hrtime() / 1000000;
}

/* Runs the loop until *count reaches n (or max_ms of wall time pass). */
static void
run_until(const int *count, int n, int max_ms)
{
	uint64_t end = now_ms() + (uint64_t)max_ms;

	while (*count < n && now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*count, n);
}

/* The end of every test: nothing left of us on the loop. */
static void
loop_finish(void)
{
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* The URL of path on the test server; valid for the next seven calls too. */
static char *
url(const char *path)
{
	static char buf[8][256];
	static unsigned n;
	char *b = buf[n++ % 8];

	snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%d%s", port, path);
	return b;
}

/* Starts one call and runs the loop until it completes. */
static void
call(const struct http_req *req, struct result *r, int max_ms)
{
	int before = r->calls;

	ck_assert_ptr_nonnull(http_request(req, on_done, r));
	ck_assert_int_eq(r->calls, before);	/* never from inside http_request() */
	run_until(&r->calls, before + 1, max_ms);
}

/* ---- The libmicrohttpd server ---- */

struct upload {
	char	*data;
	size_t	 len;
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Blocks a server thread for up to ms, or until the test stops the server. */
static void
server_wait(int ms)
{
	for (int i = 0; i < ms / 10 && !atomic_load(&stopping); i++)
		sleep_ms(10);
}

static enum MHD_Result
add_header_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	FILE *f = cls;

	fprintf(f, "%s: %s\n", key, value);
	return MHD_YES;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *body, size_t len,
    const char *h1, const char *v1)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (h1 != NULL)
		MHD_add_response_header(resp, h1, v1);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* "METHOD\nheaders\n\nbody", with the request ids the AWS layer looks for. */
static enum MHD_Result
answer_echo(struct MHD_Connection *conn, const char *method, const struct upload *u)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	atomic_fetch_add(&echo_hits, 1);
	fprintf(f, "%s\n", method);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_line, f);
	fputc('\n', f);
	if (u->len > 0)
		fwrite(u->data, 1, u->len, f);
	fclose(f);
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain");
	MHD_add_response_header(resp, "x-amzn-RequestId", "req-amzn-1");
	MHD_add_response_header(resp, "x-amz-request-id", "req-s3-2");
	MHD_add_response_header(resp, "Set-Cookie", "session=SECRET-5");
	rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

static ssize_t
read_filler(void *cls, uint64_t pos, char *buf, size_t max)
{
	uint64_t size = (uint64_t)(uintptr_t)cls;
	size_t n = size - pos < max ? (size_t)(size - pos) : max;

	if (pos >= size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	memset(buf, 'x', n);
	return (ssize_t)n;
}

/* /large?size=N[&chunked=1]: N bytes, with a Content-Length or chunked. */
static enum MHD_Result
answer_large(struct MHD_Connection *conn)
{
	const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "size");
	const char *ch = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "chunked");
	uint64_t size = s != NULL ? strtoull(s, NULL, 10) : 0;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_callback(ch != NULL ? MHD_SIZE_UNKNOWN : size,
	    65536, read_filler, (void *)(uintptr_t)size, NULL);
	rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
route(struct MHD_Connection *conn, const char *path, const char *method,
    const struct upload *u)
{
	if (strcmp(path, "/echo") == 0)
		return answer_echo(conn, method, u);
	if (strcmp(path, "/slow") == 0) {
		server_wait(3000);
		return reply(conn, MHD_HTTP_OK, "late", 4, NULL, NULL);
	}
	if (strcmp(path, "/large") == 0)
		return answer_large(conn);
	if (strcmp(path, "/redirect") == 0)
		return reply(conn, MHD_HTTP_FOUND, "moved", 5, "Location", "/echo");
	if (strcmp(path, "/busy") == 0)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", 4, "Retry-After",
		    "7");
	return reply(conn, MHD_HTTP_NOT_FOUND, "no such path", 12, NULL, NULL);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *path, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;

	if (u == NULL) {
		*con_cls = calloc(1, sizeof(*u));
		return MHD_YES;
	}
	if (*size > 0) {
		u->data = realloc(u->data, u->len + *size);
		memcpy(u->data + u->len, data, *size);
		u->len += *size;
		*size = 0;
		return MHD_YES;
	}
	return route(conn, path, method, u);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	if (u != NULL)
		free(u->data);
	free(u);
	*con_cls = NULL;
}

static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	atomic_store(&stopping, false);
	atomic_store(&echo_hits, 0);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(mhd);
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop), 0);
}

static void
teardown(void)
{
	atomic_store(&stopping, true);
	MHD_stop_daemon(mhd);
}

/* ---- A raw TCP server that misbehaves ---- */

struct rawsrv {
	int		 fd;
	int		 port;
	bool		 answer_part;	/* half an answer, then RST; else just close */
	pthread_t	 thread;
};

static void *
raw_main(void *arg)
{
	static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial";
	struct linger lg = { 1, 0 };	/* close() sends a RST */
	struct rawsrv *s = arg;
	char buf[4096];
	int fd;

	if ((fd = accept(s->fd, NULL, NULL)) == -1)
		return NULL;
	if (s->answer_part) {
		if (recv(fd, buf, sizeof(buf), 0) > 0 &&
		    send(fd, part, sizeof(part) - 1, MSG_NOSIGNAL) < 0)
			perror("send");
		sleep_ms(50);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	return NULL;
}

static void
raw_start(struct rawsrv *s, bool answer_part)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->answer_part = answer_part;
	ck_assert_int_ne(s->fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(s->fd, 4), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, raw_main, s), 0);
}

static void
raw_stop(struct rawsrv *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* A port that was free a moment ago: nobody listens there. */
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

/* ---- Pure functions ---- */

START_TEST(error_names)
{
	for (int i = 0; i < HTTP_ERR_COUNT; i++) {
		ck_assert_ptr_nonnull(http_error_name(i));
		ck_assert_str_ne(http_error_name(i), "unknown");
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(http_error_name(i), http_error_name(j));
	}
	ck_assert_str_eq(http_error_name(HTTP_ERR_POLICY), "refused-by-policy");
	ck_assert_str_eq(http_error_name(HTTP_ERR_COUNT), "unknown");
	ck_assert_str_eq(http_error_name((enum http_error)-1), "unknown");
	loop_finish();
}
END_TEST

START_TEST(redaction)
{
	static const struct {
		const char	*in, *out;
	} t[] = {
		{ "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, "
		    "Signature=5d672d79", "Authorization: <redacted>" },
		{ "authorization:secret", "authorization: <redacted>" },
		{ "AUTHORIZATION :\tsecret\r\n", "AUTHORIZATION : <redacted>" },
		{ "Proxy-Authorization: Basic dXNlcjpwYXNz",
		    "Proxy-Authorization: <redacted>" },
		{ "X-Amz-Security-Token: FQoGZXIvYXdzE", "X-Amz-Security-Token: <redacted>" },
		{ "x-aws-ec2-metadata-token: AQAEAJ==",
		    "x-aws-ec2-metadata-token: <redacted>" },
		{ "Cookie: session=abc", "Cookie: <redacted>" },
		{ "set-cookie: s=1; Path=/; HttpOnly", "set-cookie: <redacted>" },
		{ "Authorization:", "Authorization: <redacted>" },
		{ " continued-secret", " <redacted>" },
		{ "\tcontinued-secret", " <redacted>" },
		/* Not credentials: unchanged, CR/LF dropped. */
		{ "Content-Type: text/plain\r\n", "Content-Type: text/plain" },
		{ "X-Authorization-Hint: fine", "X-Authorization-Hint: fine" },
		{ "AuthorizationX: fine", "AuthorizationX: fine" },
		{ "Cookies-Enabled: yes", "Cookies-Enabled: yes" },
		{ "Authorization", "Authorization" },
		{ "HTTP/1.1 200 OK", "HTTP/1.1 200 OK" },
		{ "", "" },
		{ "\r\n", "" },
		/* Presigned URLs: the credential parameters go. */
		{ "GET /k?X-Amz-Signature=abc&x=1 HTTP/1.1",
		    "GET /k?X-Amz-Signature=<redacted>&x=1 HTTP/1.1" },
		{ "GET /k?a=1&X-Amz-Security-Token=t%2Bu&X-Amz-Credential=AKID%2F HTTP/1.1",
		    "GET /k?a=1&X-Amz-Security-Token=<redacted>&X-Amz-Credential=<redacted> "
		    "HTTP/1.1" },
		{ "GET /?x-amz-signature=abc", "GET /?x-amz-signature=<redacted>" },
		{ "Location: https://b.s3.amazonaws.com/k?X-Amz-Signature=s#f",
		    "Location: https://b.s3.amazonaws.com/k?X-Amz-Signature=<redacted>#f" },
		{ "GET /k?X-Amz-Signature HTTP/1.1", "GET /k?X-Amz-Signature HTTP/1.1" },
		{ "GET /k?Y-X-Amz-Signature=1 HTTP/1.1",
		    "GET /k?Y-X-Amz-Signature=1 HTTP/1.1" },
		{ "GET /k?X-Amz-Signature= HTTP/1.1",
		    "GET /k?X-Amz-Signature=<redacted> HTTP/1.1" },
	};
	char out[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(http_redact_header(t[i].in, out, sizeof(out)), 0);
		ck_assert_msg(strcmp(out, t[i].out) == 0, "%zu: \"%s\" gave \"%s\"", i,
		    t[i].in, out);
	}
	/* Too small: cut, flagged, still without the secret. */
	ck_assert_int_eq(http_redact_header("Authorization: topsecret", out, 18), -1);
	ck_assert_str_eq(out, "Authorization: <r");
	ck_assert_int_eq(http_redact_header("GET /?X-Amz-Signature=topsecret", out, 12), -1);
	ck_assert_str_eq(out, "GET /?X-Amz");
	ck_assert_int_eq(http_redact_header("Host: x", out, 1), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(http_redact_header("Host: x", out, 0), -1);
	ck_assert_int_eq(http_redact_header("Host: x", NULL, 10), -1);
	ck_assert_int_eq(http_redact_header(NULL, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	loop_finish();
}
END_TEST

START_TEST(url_policy)
{
	static const struct {
		const char	*url;
		enum http_error	 e;
	} t[] = {
		{ "https://ec2.eu-west-1.amazonaws.com/", HTTP_ERR_NONE },
		{ "HTTPS://example.com:8443/a?b=c", HTTP_ERR_NONE },
		{ "http://127.0.0.1:8080/x", HTTP_ERR_NONE },
		{ "http://127.255.1.2/", HTTP_ERR_NONE },
		{ "http://localhost/", HTTP_ERR_NONE },
		{ "http://LocalHost:7990/status", HTTP_ERR_NONE },
		{ "http://[::1]:80/", HTTP_ERR_NONE },
		{ "http://[::ffff:127.0.0.1]/", HTTP_ERR_NONE },
		{ "http://169.254.169.254/latest/api/token", HTTP_ERR_NONE },
		{ "http://[fd00:ec2::254]/latest/meta-data/", HTTP_ERR_NONE },
		{ "http://169.254.170.2/v2/credentials/x", HTTP_ERR_NONE },
		{ "http://169.254.170.23/v1/credentials", HTTP_ERR_NONE },
		{ "http://[fd00:ec2::23]/v1/credentials", HTTP_ERR_NONE },
		{ "http://169.254.170.3/", HTTP_ERR_POLICY },
		{ "http://192.0.2.1/", HTTP_ERR_POLICY },
		{ "http://example.com/", HTTP_ERR_POLICY },
		{ "http://128.0.0.1/", HTTP_ERR_POLICY },
		{ "http://127.0.0.1.nip.io/", HTTP_ERR_POLICY },
		{ "http://localhost.example.com/", HTTP_ERR_POLICY },
		{ "http://169.254.169.253/", HTTP_ERR_POLICY },
		{ "http://169.254.169.254.example.com/", HTTP_ERR_POLICY },
		{ "http://[::2]/", HTTP_ERR_POLICY },
		{ "http://[fd00:ec2::253]/", HTTP_ERR_POLICY },
		{ "http://[::1%25eth0]/", HTTP_ERR_POLICY },
		{ "http://127.0.0.1@192.0.2.1/", HTTP_ERR_POLICY },
		{ "http://192.0.2.1#@127.0.0.1/", HTTP_ERR_POLICY },
		{ "ftp://127.0.0.1/", HTTP_ERR_POLICY },
		{ "file:///etc/passwd", HTTP_ERR_POLICY },
		{ "gopher://127.0.0.1:25/", HTTP_ERR_POLICY },
		{ "dict://127.0.0.1/", HTTP_ERR_POLICY },
		{ NULL, HTTP_ERR_INVALID },
		{ "", HTTP_ERR_INVALID },
		{ "not a url", HTTP_ERR_INVALID },
		{ "//127.0.0.1/", HTTP_ERR_INVALID },
		{ "127.0.0.1/x", HTTP_ERR_INVALID },
		{ "http://", HTTP_ERR_INVALID },
		{ "http://[::1/", HTTP_ERR_INVALID },
		{ "https://exa mple.com/", HTTP_ERR_INVALID },
		{ "http://127.0.0.1/\r\nX-Injected: 1", HTTP_ERR_INVALID },
	};
	char why[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(http_url_policy(t[i].url, why, sizeof(why)) == t[i].e,
		    "%s: expected %s, got %s (%s)", t[i].url ? t[i].url : "NULL",
		    http_error_name(t[i].e),
		    http_error_name(http_url_policy(t[i].url, why, sizeof(why))), why);
		ck_assert(why[0] != '\0');
	}
	http_url_policy("http://192.0.2.1/", why, sizeof(why));
	ck_assert_ptr_nonnull(strstr(why, "only allowed to loopback"));
	ck_assert_ptr_nonnull(strstr(why, "https://"));
	loop_finish();
}
END_TEST

static struct sockaddr_storage *
sa(const char *ip)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return &ss;
}

/* The connect-time check: what "localhost" resolves to must still be loopback. */
START_TEST(plain_peer)
{
	static const struct {
		const char	*url, *peer;
		bool		 ok;
	} t[] = {
		{ "http://localhost:7990/", "127.0.0.1", true },
		{ "http://localhost/", "127.9.8.7", true },
		{ "http://localhost/", "::1", true },
		{ "http://localhost/", "::ffff:127.0.0.1", true },
		{ "http://localhost/", "10.0.0.1", false },
		{ "http://localhost/", "192.0.2.1", false },
		{ "http://localhost/", "::ffff:192.0.2.1", false },
		{ "http://localhost/", "169.254.169.254", false },
		{ "http://127.0.0.1/", "127.0.0.1", true },
		{ "http://169.254.169.254/", "169.254.169.254", true },
		{ "http://169.254.169.254/", "fd00:ec2::254", true },
		{ "http://169.254.169.254/", "127.0.0.1", false },
		{ "http://[fd00:ec2::254]/", "fd00:ec2::253", false },
		{ "https://example.com/", "127.0.0.1", false },	/* not a plain call */
		{ "http://example.com/", "127.0.0.1", false },	/* refused anyway */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(http_plain_peer_allowed(t[i].url,
		    (struct sockaddr *)sa(t[i].peer)) == t[i].ok, "%s to %s", t[i].url,
		    t[i].peer);
	ck_assert(!http_plain_peer_allowed("http://localhost/", NULL));
	ck_assert(!http_plain_peer_allowed(NULL, (struct sockaddr *)sa("127.0.0.1")));
	loop_finish();
}
END_TEST

/* ---- Calls ---- */

START_TEST(echo_round_trip)
{
	static const char *const hdrs[] = { "X-Test: hello", "X-Empty:",
	    "Content-Type: application/x-amz-json-1.1" };
	char body[] = "bin\0ary body";
	struct http_req req = { .method = "POST", .url = url("/echo"), .headers = hdrs,
	    .nheaders = 3, .body = body, .body_len = sizeof(body) - 1 };
	struct result r = { 0 };
	struct http_stats st;

	ck_assert_ptr_nonnull(http_request(&req, on_done, &r));
	memset(body, '!', sizeof(body));	/* the body was copied */
	run_until(&r.calls, 1, 2000);
	ck_assert_msg(r.error == HTTP_ERR_NONE, "%s", r.message);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.message, "");
	ck_assert_int_eq(strncmp(r.body, "POST\n", 5), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\nX-Test: hello\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nX-Empty: \n"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nUser-Agent: bbupgraded/"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nContent-Length: 12\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "Content-Type: application/x-amz-json-1.1\n"));
	ck_assert_ptr_null(strstr(r.body, "urlencoded"));
	ck_assert_ptr_null(strstr(r.body, "Expect"));
	ck_assert_int_eq(memcmp(r.body + r.body_len - 12, "bin\0ary body", 12), 0);
	ck_assert_ptr_nonnull(r.date);
	ck_assert_str_eq(r.amzn_id, "req-amzn-1");
	ck_assert_str_eq(r.amz_id, "req-s3-2");
	ck_assert_str_eq(r.ctype, "text/plain");
	ck_assert_ptr_null(r.retry);
	http_get_stats(&st);
	ck_assert_uint_eq(st.started, 1);
	ck_assert_uint_eq(st.completed, 1);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.bytes_sent, 12);
	ck_assert_uint_eq(st.bytes_received, r.body_len);
	ck_assert_uint_ge(st.sockets, 1);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(methods)
{
	struct http_req req = { .url = url("/echo") };
	struct result r = { 0 };

	call(&req, &r, 2000);		/* NULL method: GET, no body */
	ck_assert_int_eq(strncmp(r.body, "GET\n", 4), 0);
	ck_assert_ptr_null(strstr(r.body, "Content-Length"));
	req.method = "PUT";		/* an empty PUT still says Content-Length: 0 */
	call(&req, &r, 2000);
	ck_assert_int_eq(strncmp(r.body, "PUT\n", 4), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\nContent-Length: 0\n"));
	req.method = "DELETE";
	call(&req, &r, 2000);
	ck_assert_int_eq(strncmp(r.body, "DELETE\n", 7), 0);
	req.method = "HEAD";
	call(&req, &r, 2000);
	ck_assert_int_eq(r.error, HTTP_ERR_NONE);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(r.body, "");
	ck_assert_int_eq(atomic_load(&echo_hits), 4);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(localhost_by_name)
{
	char u[128];
	struct http_req req = { .url = u };
	struct result r = { 0 };

	snprintf(u, sizeof(u), "http://localhost:%d/echo", port);
	call(&req, &r, 2000);
	ck_assert_msg(r.error == HTTP_ERR_NONE, "%s", r.message);
	ck_assert_int_eq(r.status, 200);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(redirect_not_followed)
{
	struct http_req req = { .url = url("/redirect") };
	struct result r = { 0 };

	call(&req, &r, 2000);
	ck_assert_int_eq(r.error, HTTP_ERR_NONE);
	ck_assert_int_eq(r.status, 302);
	ck_assert_str_eq(r.body, "moved");
	ck_assert_int_eq(atomic_load(&echo_hits), 0);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(service_unavailable)
{
	struct http_req req = { .url = url("/busy") };
	struct result r = { 0 };

	call(&req, &r, 2000);
	ck_assert_int_eq(r.error, HTTP_ERR_NONE);	/* an answer, not a transport error */
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(r.body, "busy");
	ck_assert_str_eq(r.retry, "7");
	ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
	result_free(&r);
	loop_finish();
}
END_TEST

/* At the limit is fine; one byte more fails, with a Content-Length or chunked. */
START_TEST(response_limit)
{
	static const struct {
		const char	*path;
		enum http_error	 e;
	} t[] = {
		{ "/large?size=4096", HTTP_ERR_NONE },
		{ "/large?size=4096&chunked=1", HTTP_ERR_NONE },
		{ "/large?size=4097", HTTP_ERR_TOO_LARGE },
		{ "/large?size=4097&chunked=1", HTTP_ERR_TOO_LARGE },
		{ "/large?size=1000000&chunked=1", HTTP_ERR_TOO_LARGE },
	};
	struct http_req req = { .max_response = 4096 };
	struct result r = { 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		req.url = url(t[i].path);
		r.calls = 0;
		call(&req, &r, 2000);
		ck_assert_msg(r.error == t[i].e, "%s: %s", t[i].path, r.message);
		if (t[i].e == HTTP_ERR_NONE) {
			ck_assert_uint_eq(r.body_len, 4096);
			ck_assert_int_eq(r.body[4095], 'x');
		} else {
			ck_assert_int_eq(r.status, 0);
			ck_assert_uint_eq(r.body_len, 0);
			ck_assert_str_eq(r.message, "response body larger than 4096 bytes");
		}
	}
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(response_default_limit)
{
	char path[64];
	struct http_req req = { 0 };
	struct result r = { 0 };

	snprintf(path, sizeof(path), "/large?size=%u&chunked=1", HTTP_MAX_RESPONSE + 1);
	req.url = url(path);
	call(&req, &r, 5000);
	ck_assert_int_eq(r.error, HTTP_ERR_TOO_LARGE);
	snprintf(path, sizeof(path), "/large?size=%u", HTTP_MAX_RESPONSE + 1);
	req.url = url(path);
	call(&req, &r, 5000);
	ck_assert_int_eq(r.error, HTTP_ERR_TOO_LARGE);
	ck_assert_int_eq(r.calls, 2);
	result_free(&r);
	loop_finish();
}
END_TEST

static int ticks;

static void
tick(uv_timer_t *t)
{
	ticks++;
}

/* A slow server never blocks the loop: a 10 ms timer keeps firing meanwhile. */
START_TEST(timeout_loop_responsive)
{
	struct http_req req = { .url = url("/slow"), .timeout_ms = 300 };
	struct result r = { 0 };
	uv_timer_t ticker;

	ticks = 0;
	uv_timer_init(&loop, &ticker);
	uv_timer_start(&ticker, tick, 10, 10);
	call(&req, &r, 3000);
	ck_assert_int_eq(r.error, HTTP_ERR_TIMEOUT);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_ge(r.elapsed_ms, 250);
	ck_assert_uint_lt(r.elapsed_ms, 1500);
	ck_assert_msg(ticks >= 15, "only %d ticks in %ju ms", ticks,
	    (uintmax_t)r.elapsed_ms);
	uv_close((uv_handle_t *)&ticker, NULL);
	result_free(&r);
	loop_finish();
}
END_TEST

/*
 * Nothing at all arrives: curl's speed (averaged over a few seconds, so a server that
 * sent a little first takes longer to catch) is 0, and the call ends after 1 s.
 */
START_TEST(low_speed_limit)
{
	struct http_req req = { .url = url("/slow"), .timeout_ms = 10000,
	    .low_speed_time = 1 };
	struct result r = { 0 };

	call(&req, &r, 5000);
	ck_assert_int_eq(r.error, HTTP_ERR_TIMEOUT);
	ck_assert_uint_ge(r.elapsed_ms, 900);
	ck_assert_uint_lt(r.elapsed_ms, 4000);
	ck_assert_ptr_nonnull(strstr(r.message, "slow"));
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(concurrent_calls)
{
	enum { N = 50 };
	struct http_req req = { .method = "POST", .url = url("/echo") };
	struct result r[N];
	struct http_stats st;
	char body[N][16];
	int total = 0;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++) {
		req.body_len = (size_t)snprintf(body[i], sizeof(body[i]), "call-%d", i);
		req.body = body[i];
		ck_assert_ptr_nonnull(http_request(&req, on_done, &r[i]));
	}
	http_get_stats(&st);
	ck_assert_uint_eq(st.active, N);
	for (uint64_t end = now_ms() + 5000; total < N && now_ms() < end; ) {
		uv_run(&loop, UV_RUN_ONCE);
		total = 0;
		for (int i = 0; i < N; i++)
			total += r[i].calls;
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_msg(r[i].error == HTTP_ERR_NONE, "%d: %s", i, r[i].message);
		ck_assert_int_eq(r[i].status, 200);
		ck_assert_int_eq(strcmp(r[i].body + r[i].body_len - strlen(body[i]),
		    body[i]), 0);
		result_free(&r[i]);
	}
	http_get_stats(&st);
	ck_assert_uint_eq(st.completed, N);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_int_eq(atomic_load(&echo_hits), N);
	loop_finish();
}
END_TEST

START_TEST(connection_reset)
{
	struct rawsrv s;
	char u[64];
	struct http_req req = { .url = u };
	struct result r = { 0 };

	raw_start(&s, true);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", s.port);
	call(&req, &r, 2000);
	raw_stop(&s);
	ck_assert_msg(r.error == HTTP_ERR_RESET, "%s: %s", http_error_name(r.error),
	    r.message);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_ne(r.message, "");
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(connection_closed_without_answer)
{
	struct rawsrv s;
	char u[64];
	struct http_req req = { .url = u };
	struct result r = { 0 };

	raw_start(&s, false);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", s.port);
	call(&req, &r, 2000);
	raw_stop(&s);
	ck_assert_msg(r.error == HTTP_ERR_RESET, "%s: %s", http_error_name(r.error),
	    r.message);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(connect_refused)
{
	char u[64];
	struct http_req req = { .url = u };
	struct result r = { 0 };

	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", free_port());
	call(&req, &r, 2000);
	ck_assert_int_eq(r.error, HTTP_ERR_CONNECT);
	ck_assert_int_eq(r.status, 0);
	result_free(&r);
	loop_finish();
}
END_TEST

/* ---- Policy: refused without a packet ---- */

START_TEST(plain_http_refused)
{
	struct http_req req = { .url = "http://192.0.2.1/latest", .connect_timeout_ms = 5000 };
	struct result r = { 0 };
	struct http_stats st;
	uint64_t t0 = now_ms();

	ck_assert_ptr_nonnull(http_request(&req, on_done, &r));
	ck_assert_int_eq(r.calls, 0);		/* asynchronous, even when refused */
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_uint_lt(now_ms() - t0, 100);	/* far below any connect timeout */
	ck_assert_int_eq(r.error, HTTP_ERR_POLICY);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.message, "only allowed to loopback"));
	ck_assert_ptr_nonnull(strstr(r.message, "use https://"));
	http_get_stats(&st);
	ck_assert_uint_eq(st.sockets, 0);
	ck_assert_uint_eq(st.failed, 1);
	req.url = "ftp://127.0.0.1/";
	call(&req, &r, 100);
	ck_assert_int_eq(r.error, HTTP_ERR_POLICY);
	http_get_stats(&st);
	ck_assert_uint_eq(st.sockets, 0);
	result_free(&r);
	loop_finish();
}
END_TEST

/* Loopback and the metadata service pass the policy (whatever happens next). */
START_TEST(plain_http_allowed_targets)
{
	struct http_req req = { .url = "http://[::1]:1/", .connect_timeout_ms = 200,
	    .timeout_ms = 300 };
	struct result r = { 0 };

	call(&req, &r, 2000);
	ck_assert_msg(r.error == HTTP_ERR_CONNECT || r.error == HTTP_ERR_TIMEOUT,
	    "%s: %s", http_error_name(r.error), r.message);
	req.url = "http://169.254.169.254:1/";
	call(&req, &r, 2000);
	ck_assert_int_ne(r.error, HTTP_ERR_POLICY);
	ck_assert_int_ne(r.error, HTTP_ERR_INVALID);
	result_free(&r);
	loop_finish();
}
END_TEST

START_TEST(invalid_requests)
{
	static const char *const crlf[] = { "X-A: b\r\nX-Evil: c" };
	static const char *const noname[] = { ": value" };
	static const char *const nocolon[] = { "X-A value" };
	static const char *const clen[] = { "content-length: 5" };
	static const char *const te[] = { "Transfer-Encoding: chunked" };
	static const char *const nul[] = { NULL };
	const struct http_req t[] = {
		{ .url = url("/echo"), .headers = crlf, .nheaders = 1 },
		{ .url = url("/echo"), .headers = noname, .nheaders = 1 },
		{ .url = url("/echo"), .headers = nocolon, .nheaders = 1 },
		{ .url = url("/echo"), .headers = clen, .nheaders = 1 },
		{ .url = url("/echo"), .headers = te, .nheaders = 1 },
		{ .url = url("/echo"), .headers = nul, .nheaders = 1 },
		{ .url = url("/echo"), .method = "get" },
		{ .url = url("/echo"), .method = "" },
		{ .url = url("/echo"), .method = "GET /x HTTP/1.0\r\n" },
		{ .url = url("/echo"), .body_len = 5 },
		{ .url = url("/echo"), .method = "HEAD", .body = "x", .body_len = 1 },
		{ .url = NULL },
		{ .url = "http://127.0.0.1:1/a b" },
	};
	enum { N = sizeof(t) / sizeof(t[0]) };
	struct result r[N];
	struct http_stats st;

	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < N; i++)
		ck_assert_ptr_nonnull(http_request(&t[i], on_done, &r[i]));
	uv_run(&loop, UV_RUN_NOWAIT);
	for (size_t i = 0; i < N; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_msg(r[i].error == HTTP_ERR_INVALID, "%zu: %s", i,
		    http_error_name(r[i].error));
		result_free(&r[i]);
	}
	ck_assert_ptr_null(http_request(NULL, on_done, &r[0]));
	ck_assert_ptr_null(http_request(&t[0], NULL, NULL));
	http_get_stats(&st);
	ck_assert_uint_eq(st.sockets, 0);
	ck_assert_int_eq(atomic_load(&echo_hits), 0);
	loop_finish();
}
END_TEST

/* Reads all of path into a NUL-terminated buffer. */
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

/* The debug trace, end to end: lines and headers yes, credentials and bodies never. */
START_TEST(trace_redacts_credentials)
{
	static const char *const hdrs[] = {
		"Authorization: AWS4-HMAC-SHA256 Credential=AKID/SECRET-1",
		"X-Amz-Security-Token: SECRET-2", "cookie: SECRET-3",
		"X-aws-ec2-metadata-token: SECRET-6", "X-Visible: shown" };
	char path[256], *dir, *trace;
	struct http_req req = { .method = "POST", .headers = hdrs, .nheaders = 5,
	    .body = "body SECRET-7", .body_len = 13,
	    .url = url("/echo?X-Amz-Signature=SECRET-4&part=1") };
	struct result r = { 0 };
	int saved;

	ck_assert_ptr_nonnull(dir = test_tmpdir());
	snprintf(path, sizeof(path), "%s/trace", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(freopen(path, "w", stderr));
	log_setlevel(LOG_DEBUG);
	call(&req, &r, 2000);
	log_setlevel(LOG_INFO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "SECRET-2"));	/* it was sent */
	trace = slurp(path);
	ck_assert_msg(strstr(trace, "SECRET") == NULL, "a secret in the trace:\n%s", trace);
	ck_assert_ptr_nonnull(strstr(trace,
	    "> POST /echo?X-Amz-Signature=<redacted>&part=1 "));
	ck_assert_ptr_nonnull(strstr(trace, "> Authorization: <redacted>"));
	ck_assert_ptr_nonnull(strstr(trace, "> X-Amz-Security-Token: <redacted>"));
	ck_assert_ptr_nonnull(strstr(trace, "> cookie: <redacted>"));
	ck_assert_ptr_nonnull(strstr(trace, "> X-aws-ec2-metadata-token: <redacted>"));
	ck_assert_ptr_nonnull(strstr(trace, "> X-Visible: shown"));
	ck_assert_ptr_nonnull(strstr(trace, "< Set-Cookie: <redacted>"));
	ck_assert_ptr_nonnull(strstr(trace, "< HTTP/1.1 200 OK"));
	ck_assert_ptr_nonnull(strstr(trace, "status 200, 13 bytes sent"));
	free(trace);
	test_rmtree(dir);
	free(dir);
	result_free(&r);
	loop_finish();
}
END_TEST

/* ---- TLS ---- */

static bool
have_openssl(void)
{
	return system("command -v openssl >/dev/null 2>&1") == 0;
}

static bool
can_connect(int p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

/* `openssl s_server` with a fresh self-signed certificate for 127.0.0.1. */
static pid_t
tls_server_start(const char *dir, int p)
{
	char cmd[1024], cert[256], key[256], accept[64];
	pid_t pid;

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
	    key, cert);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", p);
	if ((pid = fork()) == 0) {
		freopen("/dev/null", "r", stdin);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", cert,
		    "-key", key, "-www", "-quiet", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 300 && !can_connect(p); i++)
		sleep_ms(10);
	ck_assert_msg(can_connect(p), "openssl s_server did not start");
	return pid;
}

START_TEST(tls_self_signed_refused)
{
	char u[64], *dir;
	struct http_req req = { .url = u };
	struct result r = { 0 };
	pid_t pid;
	int p;

	if (!have_openssl()) {
		fprintf(stderr, "tls_self_signed_refused: SKIPPED: no openssl command\n");
		loop_finish();
		return;
	}
	ck_assert_ptr_nonnull(dir = test_tmpdir());
	p = free_port();
	pid = tls_server_start(dir, p);
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/", p);
	call(&req, &r, 3000);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	test_rmtree(dir);
	free(dir);
	ck_assert_msg(r.error == HTTP_ERR_TLS, "%s: %s", http_error_name(r.error),
	    r.message);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_ne(r.message, "");
	result_free(&r);
	loop_finish();
}
END_TEST

/* ---- Cancellation and shutdown ---- */

START_TEST(cancel_before_loop_runs)
{
	struct http_req req = { .url = url("/slow") };
	struct result r = { 0 };
	struct http_call *c;

	ck_assert_ptr_nonnull(c = http_request(&req, on_done, &r));
	http_cancel(c);
	ck_assert_int_eq(r.calls, 0);		/* not from inside http_cancel() */
	run_until(&r.calls, 1, 1000);
	ck_assert_int_eq(r.error, HTTP_ERR_CANCELLED);
	ck_assert_str_eq(r.message, "cancelled");
	ck_assert_int_eq(r.status, 0);
	/* A refused call not yet delivered: the cancel still wins. */
	req.url = "http://192.0.2.1/";
	ck_assert_ptr_nonnull(c = http_request(&req, on_done, &r));
	http_cancel(c);
	run_until(&r.calls, 2, 1000);
	ck_assert_int_eq(r.error, HTTP_ERR_CANCELLED);
	result_free(&r);
	loop_finish();
}
END_TEST

static struct http_call *to_cancel;

static void
cancel_timer_cb(uv_timer_t *t)
{
	http_cancel(to_cancel);
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(cancel_in_flight)
{
	struct http_req req = { .url = url("/slow") };
	struct result r = { 0 };
	struct http_stats st;
	uv_timer_t t;

	ck_assert_ptr_nonnull(to_cancel = http_request(&req, on_done, &r));
	uv_update_time(&loop);		/* or the 50 ms count from a stale "now" */
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, cancel_timer_cb, 50, 0);
	run_until(&r.calls, 1, 2000);
	ck_assert_int_eq(r.error, HTTP_ERR_CANCELLED);
	ck_assert_uint_ge(r.elapsed_ms, 30);
	ck_assert_uint_lt(r.elapsed_ms, 1000);
	for (int i = 0; i < 20; i++)		/* and never again */
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(r.calls, 1);
	http_get_stats(&st);
	ck_assert_uint_eq(st.cancelled, 1);
	ck_assert_uint_eq(st.active, 0);
	result_free(&r);
	loop_finish();
}
END_TEST

struct pair {
	struct result	 r;
	struct http_call *other;	/* cancelled from this call's callback */
	struct http_call *self;
};

static void
on_done_cancel_other(const struct http_response *resp, void *arg)
{
	struct pair *p = arg;

	on_done(resp, &p->r);
	http_cancel(p->self);		/* its own handle: a no-op */
	http_cancel(p->other);
}

START_TEST(cancel_from_callback)
{
	struct http_req fast = { .url = url("/echo") }, slow = { .url = url("/slow") };
	struct result rs = { 0 };
	struct pair p = { .r = { 0 } };

	ck_assert_ptr_nonnull(p.other = http_request(&slow, on_done, &rs));
	ck_assert_ptr_nonnull(p.self = http_request(&fast, on_done_cancel_other, &p));
	run_until(&rs.calls, 1, 2000);
	ck_assert_int_eq(p.r.calls, 1);
	ck_assert_int_eq(p.r.error, HTTP_ERR_NONE);
	ck_assert_int_eq(rs.error, HTTP_ERR_CANCELLED);
	result_free(&rs);
	result_free(&p.r);
	loop_finish();
}
END_TEST

static int chained;

static void
on_done_chain(const struct http_response *resp, void *arg)
{
	struct http_req req = { .url = arg };

	ck_assert_int_eq(resp->status, 200);
	if (++chained < 3)
		ck_assert_ptr_nonnull(http_request(&req, on_done_chain, arg));
}

START_TEST(request_from_callback)
{
	char *u = url("/echo");
	struct http_req req = { .url = u };

	chained = 0;
	ck_assert_ptr_nonnull(http_request(&req, on_done_chain, u));
	run_until(&chained, 3, 3000);
	loop_finish();
	ck_assert_int_eq(chained, 3);
}
END_TEST

static void
shutdown_timer_cb(uv_timer_t *t)
{
	http_shutdown();
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(shutdown_cancels_all)
{
	enum { N = 5 };
	struct http_req req = { .url = url("/slow") };
	struct result r[N];
	uv_timer_t t;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++)
		ck_assert_ptr_nonnull(http_request(&req, on_done, &r[i]));
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, shutdown_timer_cb, 50, 0);
	uv_run(&loop, UV_RUN_DEFAULT);		/* returns: nothing of ours is left */
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].error, HTTP_ERR_CANCELLED);
		ck_assert_uint_lt(r[i].elapsed_ms, 1000);
		result_free(&r[i]);
	}
	ck_assert_ptr_null(http_request(&req, on_done, &r[0]));
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	http_shutdown();			/* a second time: nothing */
}
END_TEST

static void
on_done_shutdown(const struct http_response *resp, void *arg)
{
	on_done(resp, arg);
	http_shutdown();
}

START_TEST(shutdown_from_callback)
{
	struct http_req fast = { .url = url("/echo") }, slow = { .url = url("/slow") };
	struct result rf = { 0 }, rs = { 0 };

	ck_assert_ptr_nonnull(http_request(&slow, on_done, &rs));
	ck_assert_ptr_nonnull(http_request(&fast, on_done_shutdown, &rf));
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(rf.calls, 1);
	ck_assert_int_eq(rf.error, HTTP_ERR_NONE);
	ck_assert_int_eq(rs.calls, 1);
	ck_assert_int_eq(rs.error, HTTP_ERR_CANCELLED);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	result_free(&rf);
	result_free(&rs);
}
END_TEST

/* Init, shutdown and init again on the next loop: nothing left over. */
START_TEST(reinit)
{
	struct http_req req = { .url = url("/echo") };
	struct result r = { 0 };

	call(&req, &r, 2000);
	http_shutdown();
	log_setlevel(LOG_ERR);			/* the warning is expected */
	ck_assert_int_eq(http_init(&loop), -1);	/* the old handles are still closing */
	log_setlevel(LOG_INFO);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(http_init(&loop), 0);
	call(&req, &r, 2000);
	ck_assert_int_eq(r.calls, 2);
	ck_assert_int_eq(r.status, 200);
	result_free(&r);
	loop_finish();
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *pure = tcase_create("pure"), *calls = tcase_create("calls");
	TCase *policy = tcase_create("policy"), *cancel = tcase_create("cancel");

	tcase_add_checked_fixture(pure, setup, teardown);
	tcase_add_test(pure, error_names);
	tcase_add_test(pure, redaction);
	tcase_add_test(pure, url_policy);
	tcase_add_test(pure, plain_peer);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_add_test(calls, echo_round_trip);
	tcase_add_test(calls, methods);
	tcase_add_test(calls, localhost_by_name);
	tcase_add_test(calls, redirect_not_followed);
	tcase_add_test(calls, service_unavailable);
	tcase_add_test(calls, response_limit);
	tcase_add_test(calls, response_default_limit);
	tcase_add_test(calls, timeout_loop_responsive);
	tcase_add_test(calls, low_speed_limit);
	tcase_add_test(calls, concurrent_calls);
	tcase_add_test(calls, connection_reset);
	tcase_add_test(calls, connection_closed_without_answer);
	tcase_add_test(calls, connect_refused);
	tcase_set_timeout(calls, 15);
	suite_add_tcase(s, calls);

	tcase_add_checked_fixture(policy, setup, teardown);
	tcase_add_test(policy, plain_http_refused);
	tcase_add_test(policy, plain_http_allowed_targets);
	tcase_add_test(policy, invalid_requests);
	tcase_add_test(policy, trace_redacts_credentials);
	tcase_add_test(policy, tls_self_signed_refused);
	tcase_set_timeout(policy, 15);
	suite_add_tcase(s, policy);

	tcase_add_checked_fixture(cancel, setup, teardown);
	tcase_add_test(cancel, cancel_before_loop_runs);
	tcase_add_test(cancel, cancel_in_flight);
	tcase_add_test(cancel, cancel_from_callback);
	tcase_add_test(cancel, request_from_callback);
	tcase_add_test(cancel, shutdown_cancels_all);
	tcase_add_test(cancel, shutdown_from_callback);
	tcase_add_test(cancel, reinit);
	tcase_set_timeout(cancel, 15);
	suite_add_tcase(s, cancel);
	return s;
}
