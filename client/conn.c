/*
 * Blocking varlink client (see conn.h). Every wait is bounded by the caller's timeout,
 * so a wedged daemon makes bbctl fail with a message instead of hanging.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client/conn.h"
#include "common/varlink.h"

struct conn {
	int		 fd;
	int		 timeout_ms;
	struct vl_reader rd;
};

struct conn *
conn_open(const char *path, int timeout_ms, int *connect_errno, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct conn *c;
	int fd;

	*connect_errno = 0;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return NULL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*connect_errno = errno;
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	vl_reader_init(&c->rd, 16 * 1024 * 1024);	/* replies may be long: trust the daemon more */
	return c;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	vl_reader_free(&c->rd);
	free(c);
}

void
conn_set_timeout(struct conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits for fd to be ready for events until deadline (-1: none); -1 on timeout (*timed_out
 * set) or error.
 */
static int
wait_fd(int fd, short events, long long deadline, bool *timed_out, char *err,
    size_t errlen)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int n;

	*timed_out = false;
	for (;;) {
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0) {
			*timed_out = true;
			snprintf(err, errlen, "the daemon did not answer in time");
			return -1;
		}
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (n > 0)
			return 0;
	}
}

static int
send_all(struct conn *c, const char *buf, size_t len, long long deadline,
    char *err, size_t errlen)
{
	bool timed_out;

	while (len > 0) {
		ssize_t n;

		if (wait_fd(c->fd, POLLOUT, deadline, &timed_out, err, errlen) == -1)
			return -1;
		if ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "sending to the daemon: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static json_t *
recv_message(struct conn *c, long long deadline, bool *timed_out, char *err,
    size_t errlen)
{
	char buf[65536];
	const char *msg;
	size_t len;
	ssize_t n;

	*timed_out = false;
	while (vl_reader_next(&c->rd, &msg, &len) == 0) {
		if (wait_fd(c->fd, POLLIN, deadline, timed_out, err, errlen) == -1)
			return NULL;
		if ((n = recv(c->fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "reading from the daemon: %s", strerror(errno));
			return NULL;
		}
		if (n == 0) {
			snprintf(err, errlen, "the daemon closed the connection");
			return NULL;
		}
		if (vl_reader_feed(&c->rd, buf, (size_t)n) == -1) {
			snprintf(err, errlen, "the daemon's reply is too large");
			return NULL;
		}
	}
	return vl_parse_reply(msg, len, err, errlen);
}

static int
send_call(struct conn *c, const char *method, json_t *params, bool more,
    long long deadline, char *err, size_t errlen)
{
	json_t *call = vl_call_new(method, params, more);
	size_t len;
	char *s = vl_encode(call, &len);
	int rc;

	json_decref(call);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = send_all(c, s, len, deadline, err, errlen);
	free(s);
	return rc;
}

json_t *
conn_call(struct conn *c, const char *method, json_t *params, char *err, size_t errlen)
{
	long long deadline = now_ms() + c->timeout_ms;
	bool timed_out;

	if (send_call(c, method, params, false, deadline, err, errlen) == -1)
		return NULL;
	return recv_message(c, deadline, &timed_out, err, errlen);
}

int
conn_send(struct conn *c, const char *method, json_t *params, bool more, char *err,
    size_t errlen)
{
	return send_call(c, method, params, more, now_ms() + c->timeout_ms, err, errlen);
}

json_t *
conn_next(struct conn *c, int wait_ms, bool *timed_out, char *err, size_t errlen)
{
	return recv_message(c, wait_ms < 0 ? -1 : now_ms() + wait_ms, timed_out, err,
	    errlen);
}
