/*
 * The control socket server on libuv (see control.h). Every connection is hostile until
 * proven otherwise: bounded input per message, bounded unread output, bounded idle time,
 * bounded number of connections; a bad client loses its connection, never the daemon.
 *
 * A call may outlive its handler (struct ctl_call, see control.h): a watcher holds one
 * open for as long as the upgrade runs. Such a call belongs to its connection and dies
 * with it; its handler hears of that from the loop (the client's close callback), never
 * in the middle of a send, so that nothing it holds is freed under its feet.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/varlink.h"
#include "daemon/control.h"
#include "daemon/methods.h"

struct ctl_call {
	struct client	*c;
	bool		 more;
	bool		 oneway;
	bool		 kept;		/* the handler holds it after returning */
	bool		 dead;		/* the client has gone: sends fail, gone pending */
	ctl_gone_cb	 gone;
	void		*arg;
};

struct client {
	uv_pipe_t	 pipe;		/* first: the handle's address is the client's */
	uv_timer_t	 idle;		/* idle timeout; also defers work (resume_cb) */
	int		 open_handles;	/* freed when both close callbacks ran */
	bool		 closing;
	bool		 close_when_flushed;	/* after a fatal error reply */
	struct vl_reader rd;
	struct peer	 peer;
	size_t		 queued;	/* bytes written but not yet taken by the kernel */
	struct ctl_call	*kept;		/* the call held open, at most one: later calls wait */
	bool		 dispatching;	/* inside read_cb's loop over messages */
	struct client	*next, **prevp;
};

struct write_req {
	uv_write_t	 req;
	struct client	*c;
	size_t		 len;
	char		*buf;
};

static struct {
	uv_loop_t		*loop;
	const struct config	*cfg;
	uv_pipe_t		 server;
	bool			 initialised;
	bool			 own_socket;	/* we created the path: we unlink it */
	gid_t			 control_gid;
	bool			 has_group;
	struct client		*clients;
	int			 nclients;
} ctl;

static void client_close(struct client *, const char *why);
static void client_dispatch(struct client *);

int
ctl_nclients(void)
{
	return ctl.nclients;
}

static void
client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;

	if (--c->open_handles > 0)
		return;
	/* A call still held: its handler forgets it now, from the loop, then it is freed. */
	if (c->kept != NULL) {
		struct ctl_call *call = c->kept;

		c->kept = NULL;
		if (call->gone != NULL)
			call->gone(call->arg);
		free(call);
	}
	vl_reader_free(&c->rd);
	free(c);
}

static void
client_close(struct client *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	if (why != NULL)
		log_info("control: closing connection of pid %ld uid %lu: %s",
		    (long)c->peer.pid, (unsigned long)c->peer.uid, why);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	ctl.nclients--;
	if (c->kept != NULL)
		c->kept->dead = true;
	uv_close((uv_handle_t *)&c->idle, client_handle_closed);
	uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
}

static void
write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	w->c->queued -= w->len;
	if (status < 0 && status != UV_ECANCELED)
		client_close(w->c, uv_strerror(status));
	else if (w->c->close_when_flushed && w->c->queued == 0)
		client_close(w->c, "message too large");
	free(w->buf);
	free(w);
}

/* Queues one message; a client that leaves too much unread is dropped, not buffered. */
static void
client_send(struct client *c, json_t *msg)
{
	struct write_req *w;
	uv_buf_t b;
	size_t len;
	char *s;

	if (c->closing || (s = vl_encode(msg, &len)) == NULL)
		return;
	if (c->queued + len > CTL_MAX_QUEUE) {
		free(s);
		client_close(c, "it does not read its replies");
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		free(s);
		client_close(c, "out of memory");
		return;
	}
	w->c = c;
	w->buf = s;
	w->len = len;
	b = uv_buf_init(s, (unsigned)len);
	c->queued += len;
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_done) < 0) {
		c->queued -= len;
		free(s);
		free(w);
		client_close(c, "write failed");
	}
}

static void
send_invalid_request(struct client *c, const char *why)
{
	json_t *err = vl_error_new(vl_error_name(BBE_INVALID_REQUEST),
	    json_pack("{s:s}", "reason", why));

	client_send(c, err);
	json_decref(err);
}

static void
idle_cb(uv_timer_t *t)
{
	client_close(t->data, "idle for too long");
}

static void
idle_arm(struct client *c)
{
	uint64_t idle_ms = (uint64_t)ctl.cfg->client_timeout_ms;

	uv_timer_start(&c->idle, idle_cb, idle_ms, idle_ms);
}

/* After a kept call ended: the calls that waited behind it, then idle again. */
static void
resume_cb(uv_timer_t *t)
{
	struct client *c = t->data;

	client_dispatch(c);
	if (!c->closing && c->kept == NULL)
		idle_arm(c);
}

void
ctl_call_keep(struct ctl_call *call, ctl_gone_cb gone, void *arg)
{
	BB_ASSERT(!call->kept && call->c->kept == NULL);
	call->kept = true;
	call->gone = gone;
	call->arg = arg;
	call->c->kept = call;
	/* The client waits for us, it is not idle; or it has gone already. */
	if (call->c->closing)
		call->dead = true;
	else
		uv_timer_stop(&call->c->idle);
}

bool
ctl_call_more(const struct ctl_call *call)
{
	return call->more;
}

int
ctl_call_send(struct ctl_call *call, json_t *msg)
{
	struct client *c = call->c;
	bool final = !json_is_true(json_object_get(msg, "continues"));
	int rc = -1;

	BB_ASSERT(call->kept);
	/* Only a caller that asked for "more" may get more than one reply. */
	BB_ASSERT(final || call->more);
	if (!call->dead) {
		if (!call->oneway)
			client_send(c, msg);
		rc = call->dead ? -1 : 0;	/* dropped by this very send */
	}
	if (!final)
		return rc;
	c->kept = NULL;
	if (!call->dead && !c->closing && !c->dispatching)
		uv_timer_start(&c->idle, resume_cb, 0, 0);
	free(call);
	return rc;
}

/* One complete message: parse, check its shape as a call, dispatch, reply. */
static void
client_message(struct client *c, const char *msg, size_t len)
{
	struct ctl_call *ctx;
	struct vl_call call;
	json_t *j, *reply;
	char why[256];

	if ((j = vl_parse(msg, len, why, sizeof(why))) == NULL ||
	    vl_call_from_json(j, &call, why, sizeof(why)) == -1) {
		log_debug("control: pid %ld: %s", (long)c->peer.pid, why);
		send_invalid_request(c, why);
		json_decref(j);
		return;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		json_decref(j);
		client_close(c, "out of memory");
		return;
	}
	ctx->c = c;
	ctx->more = call.more;
	ctx->oneway = call.oneway;
	/* NULL: the handler kept the call (and may already have ended it). */
	if ((reply = methods_dispatch(&call, &c->peer, ctx)) != NULL) {
		BB_ASSERT(!ctx->kept);
		if (!call.oneway)
			client_send(c, reply);
		json_decref(reply);
		free(ctx);
	}
	json_decref(j);
}

/* Every complete message received, in order, until one is held open. */
static void
client_dispatch(struct client *c)
{
	const char *msg;
	size_t len;

	c->dispatching = true;
	while (!c->closing && c->kept == NULL && vl_reader_next(&c->rd, &msg, &len) == 1)
		client_message(c, msg, len);
	c->dispatching = false;
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char rbuf[VL_MAX_MESSAGE];	/* consumed before the next read */

	buf->base = rbuf;
	buf->len = sizeof(rbuf);
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;

	if (n == UV_EOF) {
		client_close(c, NULL);
		return;
	}
	if (n < 0) {
		client_close(c, uv_strerror((int)n));
		return;
	}
	/*
	 * While a call is held open we go on reading, to see the client hang up, but what
	 * it sends waits for that call to end: replies stay in order. The reader then
	 * holds at most VL_MAX_MESSAGE bytes in all, so waiting calls are bounded too.
	 */
	if (c->kept == NULL)
		idle_arm(c);
	if (vl_reader_feed(&c->rd, buf->base, (size_t)n) == -1) {
		if (c->kept != NULL) {
			client_close(c, "it sent too much during a streaming call");
			return;
		}
		/* The stream cannot be resynchronised: say why, then hang up. */
		uv_read_stop(s);
		c->close_when_flushed = true;
		send_invalid_request(c, "message exceeds 65536 bytes");
		return;
	}
	client_dispatch(c);
}

static bool
in_group(const gid_t *groups, int n, gid_t g)
{
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* Who is on the other end; mutating calls need root, our own uid or control_group. */
static int
peer_identify(struct client *c)
{
	gid_t groups[256];
	socklen_t len = sizeof(struct ucred);
	struct ucred cred;
	uv_os_fd_t fd;
	int ngroups;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.can_mutate = cred.uid == 0 || cred.uid == geteuid();
	if (!c->peer.can_mutate && ctl.has_group) {
		len = sizeof(groups);
		ngroups = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0 ?
		    (int)(len / sizeof(gid_t)) : 0;
		c->peer.can_mutate = cred.gid == ctl.control_gid ||
		    in_group(groups, ngroups, ctl.control_gid);
	}
	return 0;
}

static void
accept_cb(uv_stream_t *server, int status)
{
	struct client *c;

	if (status < 0) {
		log_warnx("control: accept: %s", uv_strerror(status));
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	uv_pipe_init(ctl.loop, &c->pipe, 0);
	uv_timer_init(ctl.loop, &c->idle);
	c->pipe.data = c->idle.data = c;
	c->open_handles = 2;
	vl_reader_init(&c->rd, VL_MAX_MESSAGE);
	c->next = ctl.clients;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &ctl.clients;
	ctl.clients = c;
	ctl.nclients++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 || peer_identify(c) == -1) {
		client_close(c, "accept failed");
		return;
	}
	if (ctl.nclients > ctl.cfg->max_clients) {
		client_close(c, "too many connections (max_clients)");
		return;
	}
	idle_arm(c);
	uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
}

/*
 * A leftover socket file from a crash may be removed; one that a live daemon answers on
 * must not be, or two daemons would drive the same clusters.
 */
static int
claim_path(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : (log_warn("control: %s", path), -1);
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket; remove it or set "
		    "socket= elsewhere", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return log_warn("control: socket"), -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		log_warnx("control: another bbupgraded answers on %s; stop it first "
		    "(systemctl stop bbupgraded)", path);
		return -1;
	}
	log_info("control: removing stale socket %s", path);
	if (unlink(path) == -1)
		return log_warn("control: unlink %s", path), -1;
	return 0;
}

static int
listen_on_path(const char *path)
{
	mode_t old;
	int rc;

	if (claim_path(path) == -1)
		return -1;
	/* Owner and group only: the group is how operators reach the daemon. */
	old = umask(0117);
	rc = uv_pipe_bind(&ctl.server, path);
	umask(old);
	if (rc < 0) {
		log_warnx("control: cannot bind %s: %s (does its directory exist?)", path,
		    uv_strerror(rc));
		return -1;
	}
	ctl.own_socket = true;
	return 0;
}

static void
resolve_group(const char *name)
{
	struct group *gr;

	ctl.has_group = false;
	if (name == NULL)
		return;
	if ((gr = getgrnam(name)) == NULL) {
		log_warnx("control: control_group %s does not exist: only root may "
		    "change anything", name);
		return;
	}
	ctl.control_gid = gr->gr_gid;
	ctl.has_group = true;
}

int
ctl_init(uv_loop_t *loop, const struct config *cfg, struct store *store, int listen_fd)
{
	int rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.initialised = true;
	ctl.loop = loop;
	ctl.cfg = cfg;
	methods_init(cfg, store);
	methods_set_loop(loop);
	resolve_group(cfg->control_group);
	uv_pipe_init(loop, &ctl.server, 0);
	ctl.server.data = NULL;
	if (listen_fd >= 0)
		rc = uv_pipe_open(&ctl.server, listen_fd) < 0 ? -1 : 0;
	else
		rc = listen_on_path(cfg->socket_path);
	if (rc == 0 && (rc = uv_listen((uv_stream_t *)&ctl.server, 128, accept_cb)) < 0)
		log_warnx("control: listen: %s", uv_strerror(rc));
	if (rc < 0) {
		ctl_shutdown();
		return -1;
	}
	log_info("control: listening on %s%s", cfg->socket_path,
	    listen_fd >= 0 ? " (socket activation)" : "");
	return 0;
}

void
ctl_shutdown(void)
{
	if (!ctl.initialised)
		return;
	while (ctl.clients != NULL)
		client_close(ctl.clients, NULL);
	methods_shutdown();
	if (!uv_is_closing((uv_handle_t *)&ctl.server))
		uv_close((uv_handle_t *)&ctl.server, NULL);
	if (ctl.own_socket && unlink(ctl.cfg->socket_path) == -1 && errno != ENOENT)
		log_warn("control: unlink %s", ctl.cfg->socket_path);
	ctl.own_socket = false;
}
