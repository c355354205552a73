/*
 * bbsim as a child of an integration test: started from $BB_BIN/bbsim (default
 * build/bbsim) on a port the kernel picks, which the test reads from the one line
 * bbsim prints when it is ready; stopped with SIGTERM and reaped. Plus a small
 * blocking HTTP/1.0 client for bbsim's /_sim/ administration API, which the tests
 * use between runs of their loop to set faults and to read the simulated truth.
 *
 * It never talks to anything but 127.0.0.1. A test that fails in check's fork mode
 * exits without its teardown: bbsim then gets SIGTERM from the kernel when the test
 * process dies (PR_SET_PDEATHSIG), so no simulator outlives its test.
 */
#ifndef BB_TESTS_SIMPROC_H
#define BB_TESTS_SIMPROC_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define SIMPROC_START_MS	10000	/* until bbsim says where it listens */
#define SIMPROC_STOP_MS		10000	/* after SIGTERM, before SIGKILL */
#define SIMPROC_IO_S		10	/* one admin request */
#define SIMPROC_MAX_ARGS	24
#define SIMPROC_MAX_ANSWER	(8u << 20)

struct simproc {
	pid_t	 pid;		/* 0: not running */
	int	 port;
	char	 url[64];	/* http://127.0.0.1:PORT, no trailing slash */
};

static inline int64_t
simproc_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* $BB_BIN/bbsim, or build/bbsim: the Makefile builds it before it runs the tests. */
static inline int
simproc_path(char *buf, size_t len, char *err, size_t errlen)
{
	const char	*dir = getenv("BB_BIN");

	if (dir == NULL || *dir == '\0')
		dir = "build";
	if ((size_t)snprintf(buf, len, "%s/bbsim", dir) >= len) {
		snprintf(err, errlen, "BB_BIN is too long");
		return -1;
	}
	if (access(buf, X_OK) == -1) {
		snprintf(err, errlen, "bbsim not found at %.100s (BB_BIN=%.100s): the "
		    "integration tests run the real simulator; build it first (make "
		    "%.100s/bbsim) and run the tests from the top of the tree", buf,
		    getenv("BB_BIN") != NULL ? getenv("BB_BIN") : "unset", dir);
		return -1;
	}
	return 0;
}

/* The ready line, "bbsim listening on http://127.0.0.1:PORT\n", from fd. */
static inline int
simproc_read_port(int fd, int *port, char *err, size_t errlen)
{
	char		 line[256];
	size_t		 n = 0;
	int64_t		 end = simproc_now_ms() + SIMPROC_START_MS;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 r;
	int		 left;

	while (n < sizeof(line) - 1 && memchr(line, '\n', n) == NULL) {
		if ((left = (int)(end - simproc_now_ms())) <= 0) {
			snprintf(err, errlen, "bbsim did not say where it listens within "
			    "%d ms", SIMPROC_START_MS);
			return -1;
		}
		if (poll(&pfd, 1, left) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if ((r = read(fd, line + n, sizeof(line) - 1 - n)) == 0) {
			snprintf(err, errlen, "bbsim exited before it was ready (see its "
			    "standard error: BB_TEST_SIM_STDERR=1 shows it)");
			return -1;
		}
		if (r == -1 && errno != EINTR && errno != EAGAIN) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		if (r > 0)
			n += (size_t)r;
	}
	line[n] = '\0';
	if (sscanf(line, "bbsim listening on http://127.0.0.1:%d", port) != 1 ||
	    *port <= 0 || *port > 65535) {
		snprintf(err, errlen, "bbsim's first line is not the ready line: %.100s",
		    line);
		return -1;
	}
	return 0;
}

/*
 * Starts bbsim -p 0 with the extra arguments args (NULL-terminated, may be NULL).
 * 0 with sp filled, or -1 with err (nothing left running).
 */
static inline int
simproc_start(struct simproc *sp, const char *const *args, char *err, size_t errlen)
{
	char		 path[1024];
	char		*argv[SIMPROC_MAX_ARGS + 4];
	size_t		 n = 0;
	pid_t		 parent = getpid();
	int		 fds[2], nul, status;

	memset(sp, 0, sizeof(*sp));
	if (simproc_path(path, sizeof(path), err, errlen) == -1)
		return -1;
	argv[n++] = path;
	argv[n++] = (char *)"-p";
	argv[n++] = (char *)"0";
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		if (n >= SIMPROC_MAX_ARGS + 3) {
			snprintf(err, errlen, "too many bbsim arguments");
			return -1;
		}
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe2: %s", strerror(errno));
		return -1;
	}
	/* Only async-signal-safe calls in the child: the test process has threads. */
	if ((sp->pid = fork()) == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
			_exit(127);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		if (getenv("BB_TEST_SIM_STDERR") == NULL &&
		    (nul = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1)
			dup2(nul, STDERR_FILENO);
		execv(path, argv);
		_exit(127);
	}
	close(fds[1]);
	if (sp->pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		sp->pid = 0;
		return -1;
	}
	if (simproc_read_port(fds[0], &sp->port, err, errlen) == -1) {
		close(fds[0]);
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, &status, 0);
		sp->pid = 0;
		return -1;
	}
	/* bbsim writes nothing else on stdout (and ignores SIGPIPE). */
	close(fds[0]);
	snprintf(sp->url, sizeof(sp->url), "http://127.0.0.1:%d", sp->port);
	return 0;
}

/*
 * SIGTERM, then waits (SIGKILL after SIMPROC_STOP_MS). bbsim's exit status (0 after
 * SIGTERM), or -1 if it had to be killed or died of a signal.
 */
static inline int
simproc_stop(struct simproc *sp)
{
	int64_t		 end = simproc_now_ms() + SIMPROC_STOP_MS;
	struct timespec	 tick = { 0, 5 * 1000 * 1000 };
	int		 status = 0;
	pid_t		 r;

	if (sp->pid <= 0)
		return -1;
	kill(sp->pid, SIGTERM);
	while ((r = waitpid(sp->pid, &status, WNOHANG)) == 0 &&
	    simproc_now_ms() < end)
		nanosleep(&tick, NULL);
	if (r == 0) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, &status, 0);
		sp->pid = 0;
		return -1;
	}
	sp->pid = 0;
	return r == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

static inline int
simproc_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * One request to bbsim (HTTP/1.0, the connection closed by the answer): its status,
 * with its body in *body (malloc'ed, NUL-terminated; NULL is allowed if unwanted),
 * or -1. body_in is sent as application/json when not NULL.
 */
static inline int
simproc_http(const struct simproc *sp, const char *method, const char *path,
    const char *body_in, char **body)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct timeval		 tv = { SIMPROC_IO_S, 0 };
	char			*req = NULL, *buf = NULL, *p;
	size_t			 len = 0, cap = 0;
	ssize_t			 r;
	int			 fd, status = -1, n;

	if (body != NULL)
		*body = NULL;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)sp->port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto out;
	n = asprintf(&req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", method, path, sp->port,
	    body_in != NULL ? "Content-Type: application/json\r\n" : "",
	    body_in != NULL ? strlen(body_in) : 0, body_in != NULL ? body_in : "");
	if (n == -1) {
		req = NULL;
		goto out;
	}
	if (simproc_write_all(fd, req, (size_t)n) == -1)
		goto out;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= SIMPROC_MAX_ANSWER ||
			    (p = realloc(buf, cap = cap * 2 + 8192)) == NULL)
				goto out;
			buf = p;
		}
		if ((r = read(fd, buf + len, cap - len - 1)) == -1 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (buf == NULL)
		goto out;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 ||
	    (p = strstr(buf, "\r\n\r\n")) == NULL) {
		status = -1;
		goto out;
	}
	if (body != NULL && (*body = strdup(p + 4)) == NULL)
		status = -1;
out:
	close(fd);
	free(req);
	free(buf);
	return status;
}

/* A 2xx answer's JSON (the caller decrefs), or NULL. */
static inline json_t *
simproc_json(const struct simproc *sp, const char *method, const char *path,
    const char *body_in)
{
	char	*body = NULL;
	json_t	*j = NULL;
	int	 status;

	status = simproc_http(sp, method, path, body_in, &body);
	if (status >= 200 && status < 300 && body != NULL)
		j = json_loads(body, 0, NULL);
	free(body);
	return j;
}

/* A number at a path of object keys in j (NULL-terminated), or 0 if absent. */
static inline long long
simproc_count(json_t *j, ...)
{
	const char	*key;
	va_list		 ap;

	va_start(ap, j);
	while (j != NULL && (key = va_arg(ap, const char *)) != NULL)
		j = json_object_get(j, key);
	va_end(ap);
	return json_is_integer(j) ? json_integer_value(j) : 0;
}

#endif
