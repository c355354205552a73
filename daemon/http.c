/*
 * The HTTP client (see http.h): libcurl's multi-socket interface on libuv. One uv_poll_t
 * per socket curl asks us to watch, one one-shot uv_timer_t for curl's timeout, one
 * uv_idle_t that runs the callbacks of finished calls. Callers' callbacks run only from
 * that idle callback, so their code never runs inside libcurl nor in the middle of our
 * bookkeeping, and we never call libcurl from inside its callbacks (except
 * curl_multi_assign(), which its manual allows there).
 *
 * Must never: turn TLS verification off, follow a redirect, send plain HTTP anywhere but
 * loopback and the metadata service, or let a credential reach a log line. The rules
 * for the last two (which URL and peer a call may use, what a trace line may show)
 * are in http_policy.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "common/log.h"
#include "daemon/http.h"
#include "daemon/http_int.h"

#define MAX_IN_LIMIT	(SIZE_MAX / 4)	/* buffer arithmetic never overflows */
#define TRACE_LINE	1024		/* longer trace lines are cut */

enum call_state {
	CALL_ACTIVE,		/* in the multi handle */
	CALL_QUEUED,		/* finished, its callback not yet run */
	CALL_DELIVERING		/* its callback is running */
};

/* The response headers the AWS layer needs, in struct http_response order. */
enum { HDR_DATE, HDR_AMZN_ID, HDR_AMZ_ID, HDR_CTYPE, HDR_RETRY, HDR_LOCATION, NHDR };
static const char *const hdr_names[NHDR] = {
	"Date", "x-amzn-RequestId", "x-amz-request-id", "Content-Type", "Retry-After",
	"Location"
};

static const char *const error_names[HTTP_ERR_COUNT] = {
	[HTTP_ERR_NONE] = "none",
	[HTTP_ERR_TIMEOUT] = "timeout",
	[HTTP_ERR_CONNECT] = "connect",
	[HTTP_ERR_RESET] = "reset",
	[HTTP_ERR_TLS] = "tls",
	[HTTP_ERR_TOO_LARGE] = "too-large",
	[HTTP_ERR_POLICY] = "refused-by-policy",
	[HTTP_ERR_CANCELLED] = "cancelled",
	[HTTP_ERR_INVALID] = "invalid-request",
	[HTTP_ERR_OTHER] = "other",
};

struct sock {
	uv_poll_t	 poll;
	curl_socket_t	 fd;
	struct sock	*next, **prevp;
};

struct http_call {
	enum call_state	 state;
	unsigned	 id;		/* in trace lines */
	http_cb		 cb;
	void		*arg;
	CURL		*easy;
	CURLU		*url;		/* what we checked is what curl uses */
	enum http_plain	 plain;
	struct curl_slist *headers;
	char		*body;
	size_t		 body_len;
	char		*in;		/* response body, NUL-terminated */
	size_t		 in_len, in_cap, max_in;
	bool		 too_large;
	bool		 refused;	/* by the connect-time check */
	char		*hdr[NHDR];
	long		 status;
	enum http_error	 error;
	uint64_t	 started_ns;
	char		 errbuf[CURL_ERROR_SIZE];
	char		 msg[CURL_ERROR_SIZE + 128];
	struct http_call *next, **prevp;	/* the active list */
	struct http_call *qnext;		/* the delivery queue */
};

static struct http_state {
	bool		 initialised;
	bool		 delivering;
	uv_loop_t	*loop;
	CURLM		*multi;
	uv_timer_t	 timer;		/* curl's timeout */
	uv_idle_t	 deliver;	/* runs the callbacks of finished calls */
	struct sock	*socks;
	struct http_call *active;
	struct http_call *queue, **qtail;
	unsigned	 next_id;
	int		 handles_open;	/* timer and idle, until closed */
	struct http_stats stats;
} http;

static void	check_done(void);
static void	deliver_cb(uv_idle_t *);

const char *
http_error_name(enum http_error e)
{
	if ((unsigned)e >= HTTP_ERR_COUNT)
		return "unknown";
	return error_names[e];
}

void
http_get_stats(struct http_stats *st)
{
	*st = http.stats;
}

/* ---- Calls: queue and deliver ---- */

/* Request headers may hold credentials (Authorization): wiped before they are freed. */
static void
headers_free(struct curl_slist *h)
{
	for (struct curl_slist *l = h; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h);
}

static void
call_free(struct http_call *c)
{
	for (int i = 0; i < NHDR; i++)
		free(c->hdr[i]);
	headers_free(c->headers);
	curl_url_cleanup(c->url);
	free(c->body);
	if (c->in != NULL)
		explicit_bzero(c->in, c->in_cap);
	free(c->in);
	free(c);
}

static void
call_queue(struct http_call *c, enum http_error e)
{
	BB_ASSERT(!uv_is_closing((uv_handle_t *)&http.deliver));
	c->error = e;
	c->state = CALL_QUEUED;
	c->qnext = NULL;
	*http.qtail = c;
	http.qtail = &c->qnext;
	uv_idle_start(&http.deliver, deliver_cb);
}

static void
call_deliver(struct http_call *c)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	c->state = CALL_DELIVERING;
	r.error = c->error;
	r.status = c->error == HTTP_ERR_NONE ? c->status : 0;
	r.body = c->error == HTTP_ERR_NONE && c->in != NULL ? c->in : "";
	r.body_len = c->error == HTTP_ERR_NONE ? c->in_len : 0;
	r.date = c->hdr[HDR_DATE];
	r.amzn_request_id = c->hdr[HDR_AMZN_ID];
	r.amz_request_id = c->hdr[HDR_AMZ_ID];
	r.content_type = c->hdr[HDR_CTYPE];
	r.retry_after = c->hdr[HDR_RETRY];
	r.location = c->hdr[HDR_LOCATION];
	r.message = c->error == HTTP_ERR_NONE ? "" : c->msg;
	r.elapsed_ms = (uv_hrtime() - c->started_ns) / 1000000;
	http.stats.completed++;
	if (c->error == HTTP_ERR_CANCELLED)
		http.stats.cancelled++;
	else if (c->error != HTTP_ERR_NONE)
		http.stats.failed++;
	c->cb(&r, c->arg);
	call_free(c);
}

static void
handle_closed(uv_handle_t *h)
{
	http.handles_open--;
}

/*
 * Runs the callbacks queued so far; calls that they queue wait for the next loop
 * iteration, so a callback that keeps starting refused calls cannot starve the loop.
 */
static void
deliver_cb(uv_idle_t *h)
{
	struct http_state *st = h->data;
	struct http_call *batch = st->queue, *c;

	st->queue = NULL;
	st->qtail = &st->queue;
	st->delivering = true;
	while ((c = batch) != NULL) {
		batch = c->qnext;
		call_deliver(c);
	}
	st->delivering = false;
	if (st->queue != NULL)
		return;
	uv_idle_stop(h);
	if (!st->initialised && !uv_is_closing((uv_handle_t *)h))
		uv_close((uv_handle_t *)h, handle_closed);
}

/* Takes an active call out of curl; it keeps its response for delivery. */
static void
call_detach(struct http_call *c)
{
	curl_off_t sent = 0;

	if (curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK &&
	    sent > 0)
		http.stats.bytes_sent += (uint64_t)sent;
	curl_multi_remove_handle(http.multi, c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	http.stats.active--;
}

void
http_cancel(struct http_call *c)
{
	if (c == NULL || c->state == CALL_DELIVERING)
		return;
	snprintf(c->msg, sizeof(c->msg), "cancelled");
	if (c->state == CALL_ACTIVE) {
		call_detach(c);
		call_queue(c, HTTP_ERR_CANCELLED);
	} else
		c->error = HTTP_ERR_CANCELLED;
}

/* ---- Completion ---- */

static enum http_error
classify(const struct http_call *c, CURLcode rc)
{
	if (c->refused)
		return HTTP_ERR_POLICY;
	if (c->too_large)
		return HTTP_ERR_TOO_LARGE;
	switch (rc) {
	case CURLE_OK:
		return HTTP_ERR_NONE;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ERR_CONNECT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_ERR_RESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return HTTP_ERR_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_ERR_TOO_LARGE;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HTTP_ERR_POLICY;
	default:
		return HTTP_ERR_OTHER;
	}
}

static void
call_finish(struct http_call *c, CURLcode rc)
{
	enum http_error e = classify(c, rc);

	if (e == HTTP_ERR_NONE)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	if (e == HTTP_ERR_TOO_LARGE)
		snprintf(c->msg, sizeof(c->msg), "response body larger than %zu bytes",
		    c->max_in);
	else if (e != HTTP_ERR_NONE && !c->refused)	/* else opensocket_cb said why */
		snprintf(c->msg, sizeof(c->msg), "%s", c->errbuf[0] != '\0' ?
		    c->errbuf : curl_easy_strerror(rc));
	if (e == HTTP_ERR_NONE)
		log_debug("http[%u]: status %ld, %zu bytes sent, %zu received", c->id,
		    c->status, c->body_len, c->in_len);
	else
		log_debug("http[%u]: %s: %s", c->id, http_error_name(e), c->msg);
	call_detach(c);
	call_queue(c, e);
}

/* After every curl_multi_socket_action(): collect what finished. */
static void
check_done(void)
{
	CURLMsg *m;
	CURLcode rc;
	char *priv;
	int left;

	while ((m = curl_multi_info_read(http.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		/* Read before call_finish(): removing the handle invalidates m. */
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK)
			fatalx("http: easy handle without its call");
		call_finish((struct http_call *)priv, rc);
	}
}

/* ---- libcurl's per-transfer callbacks: no libcurl calls in here ---- */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct http_call *c = ud;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > c->max_in - c->in_len) {
		c->too_large = true;
		return 0;	/* curl fails the transfer */
	}
	if (c->in_len + n + 1 > c->in_cap) {
		for (cap = c->in_cap ? c->in_cap : 4096; cap < c->in_len + n + 1; cap *= 2)
			;
		if (cap > c->max_in + 1)
			cap = c->max_in + 1;
		/* Not realloc(): an answer may hold credentials, and no copy is left behind. */
		if ((p = malloc(cap)) == NULL)
			fatal("malloc");
		if (c->in != NULL) {
			memcpy(p, c->in, c->in_len);
			explicit_bzero(c->in, c->in_cap);
			free(c->in);
		}
		c->in = p;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, data, n);
	c->in_len += n;
	c->in[c->in_len] = '\0';
	http.stats.bytes_received += n;
	return n;
}

static void
headers_clear(struct http_call *c)
{
	for (int i = 0; i < NHDR; i++) {
		free(c->hdr[i]);
		c->hdr[i] = NULL;
	}
}

static size_t
header_cb(char *line, size_t size, size_t nitems, void *ud)
{
	struct http_call *c = ud;
	size_t n = size * nitems, len, vlen;
	const char *v;

	/* A new status line (after 100 Continue, say): forget the earlier headers. */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		headers_clear(c);
		return n;
	}
	for (int i = 0; i < NHDR; i++) {
		len = strlen(hdr_names[i]);
		if (n <= len || line[len] != ':' || strncasecmp(line, hdr_names[i], len) != 0)
			continue;
		v = line + len + 1;
		vlen = n - len - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 && strchr(" \t\r\n", v[vlen - 1]) != NULL)
			vlen--;
		free(c->hdr[i]);
		if ((c->hdr[i] = strndup(v, vlen)) == NULL)
			fatal("strndup");
		break;
	}
	return n;
}

/*
 * Plain HTTP must reach what the URL promised, whatever "localhost" resolves to: the
 * check is on the address curl is about to connect to, before any packet is sent.
 */
static curl_socket_t
opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http_call *c = ud;
	char ip[INET6_ADDRSTRLEN] = "?";
	curl_socket_t fd;

	if (c->plain != HTTP_PLAIN_NO && http_sockaddr_kind(&a->addr) != c->plain) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&a->addr)->sin_addr,
			    ip, sizeof(ip));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a->addr)->sin6_addr,
			    ip, sizeof(ip));
		c->refused = true;
		snprintf(c->msg, sizeof(c->msg), "plain HTTP refused: the host resolved "
		    "to %s, which is not %s; use https://", ip,
		    c->plain == HTTP_PLAIN_METADATA ? "the metadata service" : "loopback");
		return CURL_SOCKET_BAD;
	}
	if ((fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol)) != -1)
		http.stats.sockets++;
	return fd;
}

/* Logs data[0..size) line by line, redacted, control characters replaced. */
static void
trace_lines(const struct http_call *c, const char *dir, const char *data, size_t size)
{
	char line[TRACE_LINE], out[TRACE_LINE + 64];
	const char *end = data + size, *nl;
	size_t n;

	for (; data < end; data = nl + 1) {
		if ((nl = memchr(data, '\n', (size_t)(end - data))) == NULL)
			nl = end;
		n = (size_t)(nl - data);
		if (n > 0 && data[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		/* A server's header bytes are not trusted to be printable. */
		for (size_t i = 0; i < n; i++)
			line[i] = (data[i] >= 0x20 && data[i] != 0x7f) || data[i] == '\t' ?
			    data[i] : '?';
		line[n] = '\0';
		http_redact_header(line, out, sizeof(out));
		log_debug("http[%u]: %s %s", c->id, dir, out);
	}
}

static int
debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *ud)
{
	struct http_call *c = ud;

	switch (type) {
	case CURLINFO_TEXT:
		/* curl indents some; not a folded header line, which would be redacted. */
		while (size > 0 && (*data == ' ' || *data == '\t'))
			data++, size--;
		trace_lines(c, "*", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		trace_lines(c, ">", data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_lines(c, "<", data, size);
		break;
	default:	/* bodies (sizes are logged at the end) and TLS records: never */
		break;
	}
	return 0;
}

/* ---- The multi handle on libuv ---- */

static void
sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
sock_close(struct sock *sk)
{
	*sk->prevp = sk->next;
	if (sk->next != NULL)
		sk->next->prevp = sk->prevp;
	uv_close((uv_handle_t *)&sk->poll, sock_closed);
}

static void
poll_cb(uv_poll_t *p, int status, int events)
{
	struct sock *sk = p->data;
	int flags = 0, running;

	if (status < 0)
		flags |= CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* sk may be closed in here (CURL_POLL_REMOVE); its memory outlives the call. */
	curl_multi_socket_action(http.multi, sk->fd, flags, &running);
	check_done();
}

static struct sock *
sock_open(curl_socket_t fd)
{
	struct sock *sk;
	int rc;

	if ((sk = calloc(1, sizeof(*sk))) == NULL)
		fatal("calloc");
	if ((rc = uv_poll_init_socket(http.loop, &sk->poll, fd)) < 0) {
		/* The transfer then ends with its timeout. */
		log_warnx("http: cannot watch socket %d: %s", fd, uv_strerror(rc));
		free(sk);
		return NULL;
	}
	sk->poll.data = sk;
	sk->fd = fd;
	sk->next = http.socks;
	if (sk->next != NULL)
		sk->next->prevp = &sk->next;
	sk->prevp = &http.socks;
	http.socks = sk;
	curl_multi_assign(http.multi, fd, sk);
	return sk;
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop watching it. */
static int
socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct sock *sk = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL)
			sock_close(sk);
		return 0;
	}
	if (sk == NULL && (sk = sock_open(fd)) == NULL)
		return 0;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (events == 0)
		uv_poll_stop(&sk->poll);
	else
		uv_poll_start(&sk->poll, events, poll_cb);
	return 0;
}

static void
timer_cb(uv_timer_t *t)
{
	struct http_state *st = t->data;
	int running;

	curl_multi_socket_action(st->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* CURLMOPT_TIMERFUNCTION: only arms our timer; 0 ms means "on the next iteration". */
static int
timer_set_cb(CURLM *m, long ms, void *userp)
{
	struct http_state *st = userp;

	if (ms < 0)
		uv_timer_stop(&st->timer);
	else
		uv_timer_start(&st->timer, timer_cb, (uint64_t)ms, 0);
	return 0;
}

/* ---- Building a request ---- */

static bool
is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Length of the name of a "Name: value" header, or 0 if it is not one. */
static size_t
header_name_len(const char *h)
{
	size_t n = 0;

	while (is_tchar(h[n]))
		n++;
	if (n == 0 || h[n] != ':')
		return 0;
	for (const char *p = h + n + 1; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return 0;	/* CR or LF would inject headers */
	return n;
}

static void
header_add(struct http_call *c, const char *h)
{
	struct curl_slist *l;

	if ((l = curl_slist_append(c->headers, h)) == NULL)
		fatal("curl_slist_append");
	c->headers = l;
}

/* Copies the caller's headers; curl's own Content-Type and Expect are suppressed. */
static enum http_error
headers_build(struct http_call *c, const struct http_req *req)
{
	bool ctype = false, expect = false;
	char empty[256];
	const char *h;
	size_t n;

	for (size_t i = 0; i < req->nheaders; i++) {
		if ((h = req->headers[i]) == NULL || (n = header_name_len(h)) == 0 ||
		    n >= sizeof(empty) - 1) {
			snprintf(c->msg, sizeof(c->msg), "header %zu is not \"Name: value\"", i);
			return HTTP_ERR_INVALID;
		}
		if ((n == 14 && strncasecmp(h, "Content-Length", n) == 0) ||
		    (n == 17 && strncasecmp(h, "Transfer-Encoding", n) == 0)) {
			snprintf(c->msg, sizeof(c->msg), "header %.*s is set by the client",
			    (int)n, h);
			return HTTP_ERR_INVALID;
		}
		ctype |= n == 12 && strncasecmp(h, "Content-Type", n) == 0;
		expect |= n == 6 && strncasecmp(h, "Expect", n) == 0;
		/* To curl "Name:" means "remove"; an empty value is spelt "Name;". */
		if (h[n + 1 + strspn(h + n + 1, " \t")] == '\0') {
			snprintf(empty, sizeof(empty), "%.*s;", (int)n, h);
			h = empty;
		}
		header_add(c, h);
	}
	if (!ctype)
		header_add(c, "Content-Type:");
	if (!expect)
		header_add(c, "Expect:");
	return HTTP_ERR_NONE;
}

static bool
method_ok(const char *m)
{
	size_t n = strlen(m);

	return n > 0 && n <= 16 && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

/* Everything that can be refused before curl sees the call. */
static enum http_error
call_prepare(struct http_call *c, const struct http_req *req, const char *method)
{
	enum http_error e;

	if ((e = http_url_check(req->url, &c->url, &c->plain, c->msg,
	    sizeof(c->msg))) != HTTP_ERR_NONE)
		return e;
	if (!method_ok(method) || (req->body == NULL && req->body_len > 0) ||
	    (strcmp(method, "HEAD") == 0 && req->body_len > 0)) {
		snprintf(c->msg, sizeof(c->msg), "bad method or body");
		return HTTP_ERR_INVALID;
	}
	if ((e = headers_build(c, req)) != HTTP_ERR_NONE)
		return e;
	c->max_in = req->max_response ? req->max_response : HTTP_MAX_RESPONSE;
	if (c->max_in > MAX_IN_LIMIT)
		c->max_in = MAX_IN_LIMIT;
	/* PUT, POST and PATCH always carry a body, if empty: AWS wants Content-Length. */
	if (req->body_len > 0 || strcmp(method, "POST") == 0 ||
	    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
		if ((c->body = malloc(req->body_len + 1)) == NULL)
			fatal("malloc");
		if (req->body_len > 0)
			memcpy(c->body, req->body, req->body_len);
		c->body_len = req->body_len;
	}
	return HTTP_ERR_NONE;
}

/* The rules of http.h that no caller can change. */
static int
easy_safety(CURL *e, struct http_call *c)
{
	bool bad = false;

	bad |= curl_easy_setopt(e, CURLOPT_CURLU, c->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	/* Plain http never leaves the host (or goes to IMDS): no proxy for it. */
	if (c->plain != HTTP_PLAIN_NO)
		bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK;
	return bad ? -1 : 0;
}

static int
easy_method(CURL *e, struct http_call *c, const char *method)
{
	bool bad = false;

	if (strcmp(method, "HEAD") == 0)
		return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -1;
	if (c->body != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)c->body_len) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body) != CURLE_OK;
	}
	if (strcmp(method, c->body != NULL ? "POST" : "GET") != 0)
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	return bad ? -1 : 0;
}

static long
or_default(long v, long def)
{
	return v > 0 ? v : def;
}

static int
easy_request(CURL *e, struct http_call *c, const struct http_req *req)
{
	bool bad = false;

	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "bbupgraded/" BB_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    or_default(req->connect_timeout_ms, HTTP_CONNECT_TIMEOUT_MS)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    or_default(req->timeout_ms, HTTP_TIMEOUT_MS)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
	    or_default(req->low_speed_limit, HTTP_LOW_SPEED_LIMIT)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
	    or_default(req->low_speed_time, HTTP_LOW_SPEED_TIME)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)c->max_in) != CURLE_OK;
	if (log_getlevel() >= LOG_DEBUG) {
		bad |= curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_DEBUGDATA, c) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	}
	return bad ? -1 : 0;
}

/* Hands the call to curl; the transfer starts on a later loop iteration. */
static enum http_error
call_start(struct http_call *c, const struct http_req *req, const char *method)
{
	CURLMcode mc;

	if ((c->easy = curl_easy_init()) == NULL) {
		snprintf(c->msg, sizeof(c->msg), "curl_easy_init failed");
		return HTTP_ERR_OTHER;
	}
	if (easy_safety(c->easy, c) == -1 || easy_request(c->easy, c, req) == -1 ||
	    easy_method(c->easy, c, method) == -1)
		snprintf(c->msg, sizeof(c->msg), "libcurl refused an option");
	else if ((mc = curl_multi_add_handle(http.multi, c->easy)) != CURLM_OK)
		snprintf(c->msg, sizeof(c->msg), "%s", curl_multi_strerror(mc));
	if (c->msg[0] != '\0') {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		return HTTP_ERR_OTHER;
	}
	c->state = CALL_ACTIVE;
	c->next = http.active;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &http.active;
	http.active = c;
	http.stats.active++;
	return HTTP_ERR_NONE;
}

struct http_call *
http_request(const struct http_req *req, http_cb cb, void *arg)
{
	const char *method;
	struct http_call *c;
	enum http_error e;

	if (!http.initialised || req == NULL || cb == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->id = ++http.next_id;
	c->cb = cb;
	c->arg = arg;
	c->started_ns = uv_hrtime();
	http.stats.started++;
	method = req->method != NULL ? req->method : "GET";
	if ((e = call_prepare(c, req, method)) == HTTP_ERR_NONE &&
	    (e = call_start(c, req, method)) == HTTP_ERR_NONE)
		return c;
	log_debug("http[%u]: %s: %s", c->id, http_error_name(e), c->msg);
	call_queue(c, e);
	return c;
}

/* ---- Init and shutdown ---- */

int
http_init(uv_loop_t *loop)
{
	if (http.initialised) {
		log_warnx("http: already initialised");
		return -1;
	}
	if (http.handles_open > 0) {
		log_warnx("http: the previous loop still has our handles: run it first");
		return -1;
	}
	memset(&http, 0, sizeof(http));
	/* libcurl masks SIGPIPE only without CURLOPT_NOSIGNAL; TLS writes can raise it. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("http: curl_global_init failed");
		return -1;
	}
	if ((http.multi = curl_multi_init()) == NULL) {
		log_warnx("http: curl_multi_init failed");
		curl_global_cleanup();
		return -1;
	}
	curl_multi_setopt(http.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(http.multi, CURLMOPT_SOCKETDATA, &http);
	curl_multi_setopt(http.multi, CURLMOPT_TIMERFUNCTION, timer_set_cb);
	curl_multi_setopt(http.multi, CURLMOPT_TIMERDATA, &http);
	http.loop = loop;
	uv_timer_init(loop, &http.timer);
	http.timer.data = &http;	/* curl's multi-uv.c forgot this: no timeouts */
	uv_idle_init(loop, &http.deliver);
	http.deliver.data = &http;
	http.handles_open = 2;
	http.qtail = &http.queue;
	http.initialised = true;
	return 0;
}

void
http_shutdown(void)
{
	if (!http.initialised)
		return;
	http.initialised = false;
	while (http.active != NULL)
		http_cancel(http.active);
	/* May report CURL_POLL_REMOVE for cached connections: socket_cb closes those. */
	curl_multi_cleanup(http.multi);
	http.multi = NULL;
	while (http.socks != NULL)
		sock_close(http.socks);
	uv_close((uv_handle_t *)&http.timer, handle_closed);
	/* Otherwise deliver_cb closes it once the cancelled calls are delivered. */
	if (http.queue == NULL && !http.delivering)
		uv_close((uv_handle_t *)&http.deliver, handle_closed);
	curl_global_cleanup();
}
