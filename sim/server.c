/*
 * The HTTP server of bbsim (see server.h) on libmicrohttpd 0.9.75.
 *
 * One internal polling thread runs every handler, so the simulated world is only ever
 * touched by that thread. The one other thread here, the delay timer, only resumes
 * connections a fault holds (an answer held back by latency_ms, or none at all for a
 * no_answer fault): it never runs a handler and never reads the world. It must never
 * listen beyond 127.0.0.1.
 *
 * Network faults (sim_resp.fault): no_answer suspends the connection for hold_ms,
 * then closes it without a byte; reset closes it with SO_LINGER 0, so the kernel
 * sends RST. Both happen after the handler, which has already decided whether the
 * operation ran.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "common/log.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define DISCARD_MAX	(16 * SIM_MAX_BODY)	/* then the connection is dropped */
#define PEER_CHECK_MS	200		/* how often held clients are looked at */

/* One request, from the URI callback to the completion callback. */
struct conn {
	struct sim_req		 req;
	struct sim_resp		 resp;
	struct sim_buf		 body;
	size_t			 discarded;	/* bytes beyond SIM_MAX_BODY */
	int			 started;
	int			 hdr_overflow;	/* more headers than kept */
	int			 held;		/* suspended by a fault */
	int			 fd;		/* of a no_answer one: is its peer gone? */
	struct timespec		 since, due;
	struct MHD_Connection	*mc;
	struct conn		*next;		/* in srv.held */
};

static struct {
	struct MHD_Daemon	*d;
	struct sim		*sim;
	unsigned short		 port;
	pthread_t		 timer;
	int			 timer_started;
	pthread_mutex_t		 mtx;		/* guards what follows */
	pthread_cond_t		 cv;
	struct conn		*held;
	int			 stopping;
	int			 faulted;	/* the close that follows is a fault's */
} srv = { .mtx = PTHREAD_MUTEX_INITIALIZER };

/* ---- requests and responses ---- */

int
sim_req_init(struct sim_req *r, const char *method, const char *uri)
{
	const char	*q = strchr(uri, '?');

	memset(r, 0, sizeof(r[0]));
	r->method = strdup(method);
	r->uri = strdup(uri);
	r->path = q != NULL ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	if (q != NULL)
		r->query = strdup(q + 1);
	if (r->method == NULL || r->uri == NULL || r->path == NULL ||
	    (q != NULL && r->query == NULL)) {
		sim_req_free(r);
		return -1;
	}
	return 0;
}

int
sim_req_add_header(struct sim_req *r, const char *name, const char *value)
{
	struct sim_header	*h;

	if (r->nhdr == SIM_MAX_HEADERS)
		return -1;
	h = &r->hdr[r->nhdr];
	h->name = strdup(name);
	h->value = strdup(value != NULL ? value : "");
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return -1;
	}
	r->nhdr++;
	return 0;
}

int
sim_req_set_body(struct sim_req *r, const void *body, size_t len)
{
	char	*b;

	if ((b = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(b, body, len);
	b[len] = '\0';
	free(r->body);
	r->body = b;
	r->bodylen = len;
	return 0;
}

void
sim_req_free(struct sim_req *r)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++) {
		free(r->hdr[i].name);
		free(r->hdr[i].value);
	}
	free(r->method);
	free(r->uri);
	free(r->path);
	free(r->query);
	free(r->body);
	memset(r, 0, sizeof(r[0]));
}

const char *
sim_req_header(const struct sim_req *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

int
sim_resp_header(struct sim_resp *r, const char *name, const char *value)
{
	struct sim_header	*h;

	if (r->nhdr == SIM_RESP_MAX_HEADERS)
		return -1;
	h = &r->hdr[r->nhdr];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return -1;
	}
	r->nhdr++;
	return 0;
}

/* Forgets any previous answer (its headers too): the last one written wins. */
int
sim_resp_take(struct sim_resp *r, int status, const char *ctype, char *body,
    size_t len)
{
	unsigned		 delay = r->delay_ms;
	struct sim_resp_fault	 fault = r->fault;

	sim_resp_free(r);
	r->delay_ms = delay;
	r->fault = fault;
	r->status = status;
	r->body = body;
	r->len = len;
	if (ctype != NULL && sim_resp_header(r, "Content-Type", ctype) == -1)
		return -1;
	return 0;
}

int
sim_resp_text(struct sim_resp *r, int status, const char *ctype, const char *text)
{
	char	*b;

	if ((b = strdup(text)) == NULL)
		return -1;
	return sim_resp_take(r, status, ctype, b, strlen(b));
}

int
sim_resp_json(struct sim_resp *r, int status, json_t *j)
{
	char	*s = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
	char	*b = NULL;

	json_decref(j);
	if (s != NULL && asprintf(&b, "%s\n", s) == -1)
		b = NULL;
	free(s);
	if (b == NULL)
		return -1;
	return sim_resp_take(r, status, "application/json", b, strlen(b));
}

int
sim_resp_json_error(struct sim_resp *r, int status, const char *message)
{
	return sim_resp_json(r, status, json_pack("{ss}", "error", message));
}

void
sim_resp_free(struct sim_resp *r)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++) {
		free(r->hdr[i].name);
		free(r->hdr[i].value);
	}
	free(r->body);
	memset(r, 0, sizeof(r[0]));
}

/* ---- routing ---- */

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The model runs up to the request's time before anything reads it. */
void
sim_route(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char	*p = req->path, *bb;

	sim_tick(sim);
	if (strcmp(p, "/") == 0) {
		if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "GET") == 0)
			sim_aws_handle(sim, req, resp);
		else if (sim_resp_text(resp, 405, "text/plain",
		    "method not allowed\n") == 0)
			sim_resp_header(resp, "Allow", "GET, POST");
	} else if (strcmp(p, "/latest") == 0 || has_prefix(p, "/latest/"))
		sim_imds_handle(sim, req, resp);
	else if (has_prefix(p, "/_sim/"))
		sim_admin_handle(sim, req, resp);
	else if ((bb = sim_bitbucket_path(sim, p)) != NULL)
		sim_bitbucket_handle(sim, req, bb, resp);
	else
		sim_resp_text(resp, 404, "text/plain", "not found\n");
	if (resp->status == 0 && resp->fault.net == SIM_NET_NONE)
		sim_resp_text(resp, 500, "text/plain", "internal error\n");
}

/* ---- held connections: released by the timer thread ---- */

static void
ts_add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static long long
ts_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000L;
}

/*
 * A client held without an answer that hung up (or was killed, as tests do): its
 * connection is let go now rather than after hold_ms, so that held ones do not use
 * up the connection limit. libmicrohttpd does not look at suspended sockets, so
 * peeking at one from this thread takes nothing from it.
 */
static int
peer_gone(const struct conn *c)
{
	char	 b;
	ssize_t	 n;

	if (c->resp.fault.net != SIM_NET_NO_ANSWER || c->fd == -1)
		return 0;
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

/* Resumes every held connection that is due (all of them when stopping). */
static void
release_due(const struct timespec *now)
{
	struct conn	**pp = &srv.held, *c;

	while ((c = *pp) != NULL) {
		if (!srv.stopping && ts_before(now, &c->due) && !peer_gone(c)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		c->next = NULL;
		MHD_resume_connection(c->mc);
	}
}

/* The next time to look: the first due, or sooner while no_answer ones wait. */
static void
next_wakeup(const struct timespec *now, struct timespec *first)
{
	struct conn	*c;
	struct timespec	 peek = *now;

	ts_add_ms(&peek, PEER_CHECK_MS);
	*first = srv.held->due;
	for (c = srv.held; c != NULL; c = c->next) {
		if (ts_before(&c->due, first))
			*first = c->due;
		if (c->resp.fault.net == SIM_NET_NO_ANSWER && ts_before(&peek, first))
			*first = peek;
	}
}

static void *
timer_main(void *arg)
{
	struct timespec	 now, first;

	(void)arg;
	pthread_mutex_lock(&srv.mtx);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		release_due(&now);
		if (srv.stopping)
			break;
		if (srv.held == NULL) {
			pthread_cond_wait(&srv.cv, &srv.mtx);
			continue;
		}
		next_wakeup(&now, &first);
		pthread_cond_timedwait(&srv.cv, &srv.mtx, &first);
	}
	pthread_mutex_unlock(&srv.mtx);
	return NULL;
}

/* Suspends the connection for ms; -1 if stopping (answer now). */
static int
hold(struct conn *c, unsigned ms)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->fd = ci != NULL ? (int)ci->connect_fd : -1;
	pthread_mutex_lock(&srv.mtx);
	if (srv.stopping) {
		pthread_mutex_unlock(&srv.mtx);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	c->due = c->since;
	ts_add_ms(&c->due, ms);
	c->held = 1;
	MHD_suspend_connection(c->mc);
	c->next = srv.held;
	srv.held = c;
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
	return 0;
}

json_t *
sim_server_held_json(void)
{
	struct timespec			 now;
	const struct sim_resp_fault	*f;
	struct conn			*c;
	json_t				*a = json_array(), *o;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&srv.mtx);
	for (c = srv.held; a != NULL && c != NULL; c = c->next) {
		f = &c->resp.fault;
		if (f->net != SIM_NET_NO_ANSWER)
			continue;
		o = json_pack("{ss ss sb si sI}", "service", f->service, "action",
		    f->action, "applied", f->applied, "status", f->status, "held_ms",
		    (json_int_t)ts_ms_between(&c->since, &now));
		/* The list is newest first; the answer, oldest first. */
		if (o == NULL || json_array_insert_new(a, 0, o) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	pthread_mutex_unlock(&srv.mtx);
	return a;
}

/*
 * With SO_LINGER 0 a close() sends RST, not FIN. libmicrohttpd shuts the socket
 * down for writing before it closes it, which would send a FIN first (the client
 * would read an empty reply, not a reset), so the connection is aborted here and
 * now: connect() to AF_UNSPEC disconnects a TCP socket with RST on Linux.
 */
static enum MHD_Result
reset(struct conn *c)
{
	const union MHD_ConnectionInfo	*ci;
	struct linger			 lg = { 1, 0 };
	struct sockaddr			 sa;

	ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)) == -1) {
		log_warn("http: SO_LINGER for a reset fault");
		return MHD_NO;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	if (connect(ci->connect_fd, &sa, sizeof(sa)) == -1)
		log_warn("http: aborting a connection for a reset fault");
	return MHD_NO;
}

/* ---- libmicrohttpd callbacks ---- */

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct conn	*c;

	(void)cls;
	(void)mc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (sim_req_init(&c->req, "", uri) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn	*c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (c == NULL)
		return;
	sim_req_free(&c->req);
	sim_resp_free(&c->resp);
	sim_buf_free(&c->body);
	free(c);
	*con_cls = NULL;
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct conn	*c = cls;

	(void)kind;
	if (sim_req_add_header(&c->req, key, value) == 0)
		return MHD_YES;
	c->hdr_overflow = 1;
	return MHD_NO;
}

static ssize_t
read_chunked(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct conn	*c = cls;
	size_t		 n;

	if (pos >= c->resp.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = c->resp.len - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, c->resp.body + pos, n);
	return (ssize_t)n;
}

static enum MHD_Result
queue(struct conn *c)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	size_t			 i;

	if (c->resp.status == 0)	/* nothing could be written: out of memory */
		return MHD_NO;
	if (c->resp.chunked)
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
		    read_chunked, c, NULL);
	else
		r = MHD_create_response_from_buffer(c->resp.len, c->resp.body,
		    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	for (i = 0; i < c->resp.nhdr; i++)
		MHD_add_response_header(r, c->resp.hdr[i].name, c->resp.hdr[i].value);
	ret = MHD_queue_response(c->mc, (unsigned)c->resp.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
refuse(struct conn *c, int status, const char *text)
{
	if (sim_resp_text(&c->resp, status, "text/plain", text) == -1)
		return MHD_NO;
	log_debug("http: %s %s -> %d", c->req.method, c->req.path, status);
	return queue(c);
}

/* The headers are in: size checks before any body is read. */
static enum MHD_Result
start(struct conn *c, const char *method)
{
	const char		*cl;
	unsigned long long	 n;
	char			*end;

	c->started = 1;
	free(c->req.method);
	if ((c->req.method = strdup(method)) == NULL)
		return MHD_NO;
	MHD_get_connection_values(c->mc, MHD_HEADER_KIND, collect_header, c);
	if (c->hdr_overflow)
		return refuse(c, 431, "too many request headers\n");
	cl = sim_req_header(&c->req, "Content-Length");
	if (cl != NULL && ((n = strtoull(cl, &end, 10)) > SIM_MAX_BODY || *end != '\0'))
		return refuse(c, 413, "request body too large\n");
	return MHD_YES;
}

static void
absorb(struct conn *c, const char *data, size_t len)
{
	if (c->discarded == 0 && c->body.len + len <= SIM_MAX_BODY)
		sim_buf_add(&c->body, data, len);
	else
		c->discarded += len;
}

/* The answer, or what a network fault sends instead once any hold is over. */
static enum MHD_Result
deliver(struct conn *c)
{
	srv.faulted = c->resp.fault.net != SIM_NET_NONE;
	switch (c->resp.fault.net) {
	case SIM_NET_NO_ANSWER:
		return MHD_NO;		/* closed without a byte */
	case SIM_NET_RESET:
		return reset(c);
	default:
		return queue(c);
	}
}

static enum MHD_Result
answer(struct conn *c)
{
	if (c->discarded > 0)
		return refuse(c, 413, "request body too large\n");
	if (c->body.err)
		return MHD_NO;
	free(c->req.body);
	c->req.body = c->body.s;
	c->req.bodylen = c->body.len;
	memset(&c->body, 0, sizeof(c->body));
	sim_route(srv.sim, &c->req, &c->resp);
	/* The query string may carry parameters: only its size is logged. */
	log_debug("http: %s %s%s -> %d, %zu bytes", c->req.method, c->req.path,
	    c->req.query != NULL ? "?..." : "", c->resp.status, c->resp.len);
	if (c->resp.fault.net == SIM_NET_NO_ANSWER)
		return hold(c, c->resp.fault.hold_ms) == 0 ? MHD_YES : deliver(c);
	if (c->resp.delay_ms > 0 && hold(c, c->resp.delay_ms) == 0)
		return MHD_YES;
	return deliver(c);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn	*c = *con_cls;

	(void)cls;
	(void)url;	/* decoded by libmicrohttpd: the raw one is in c->req */
	(void)version;
	srv.faulted = 0;
	if (c == NULL)
		return MHD_NO;
	c->mc = mc;
	if (!c->started)
		return start(c, method);
	if (*upload_size > 0) {
		absorb(c, upload, *upload_size);
		*upload_size = 0;
		return c->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (c->held)	/* resumed: its delay is over */
		return deliver(c);
	return answer(c);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];
	size_t	 n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0';
	/* A fault's close is what it was asked for: nothing to warn about. */
	if (srv.faulted) {
		srv.faulted = 0;
		log_debug("http: %s (a network fault)", msg);
		return;
	}
	log_warnx("http: %s", msg);
}

/* ---- life cycle ---- */

static int
timer_start(void)
{
	pthread_condattr_t	 ca;

	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&srv.cv, &ca) != 0)
		return -1;
	pthread_condattr_destroy(&ca);
	srv.stopping = 0;
	if (pthread_create(&srv.timer, NULL, timer_main, NULL) != 0) {
		pthread_cond_destroy(&srv.cv);
		return -1;
	}
	srv.timer_started = 1;
	return 0;
}

int
sim_server_start(struct sim *sim, unsigned short port)
{
	struct sockaddr_in		 sin;
	const union MHD_DaemonInfo	*info;
	unsigned int			 flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_AUTO;

	/* Loopback only: bbsim accepts the documentation's example keys. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.sim = sim;
	if (timer_start() == -1) {
		log_warnx("http: cannot start the timer thread");
		return -1;
	}
	/* The logger first, or libmicrohttpd logs the options' errors itself. */
	srv.d = MHD_start_daemon(flags, port, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SIM_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SIM_CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SIM_CONN_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (srv.d == NULL) {
		log_warnx("http: cannot listen on 127.0.0.1:%u", (unsigned)port);
		sim_server_stop();
		return -1;
	}
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	srv.port = info != NULL ? info->port : port;
	return 0;
}

unsigned short
sim_server_port(void)
{
	return srv.port;
}

/* Held answers go first: libmicrohttpd must not be stopped with suspended ones. */
void
sim_server_stop(void)
{
	if (srv.timer_started) {
		pthread_mutex_lock(&srv.mtx);
		srv.stopping = 1;
		pthread_cond_signal(&srv.cv);
		pthread_mutex_unlock(&srv.mtx);
		pthread_join(srv.timer, NULL);
		pthread_cond_destroy(&srv.cv);
		srv.timer_started = 0;
	}
	if (srv.d != NULL)
		MHD_stop_daemon(srv.d);
	srv.d = NULL;
	srv.port = 0;
}
