/*
 * systemd's notify and socket-activation protocols, self-contained (see systemd.h and
 * sd_notify(3), sd_listen_fds(3)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/systemd.h"

#define SD_LISTEN_FDS_START	3

int
sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0')
		return 0;
	/* An absolute path, or '@' for a Linux abstract socket. */
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: not a usable socket address", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return -1;
	}
	/* Never block the loop on a receiver that does not read (a full buffer). */
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, len);
	close(fd);
	if (n == -1) {
		log_warn("sd_notify %s", state);
		return -1;
	}
	return 0;
}

/* True when a variable that names a pid names us (or is absent, for WATCHDOG_PID). */
static int
pid_is_us(const char *var, int absent_ok)
{
	const char *v = getenv(var);
	char *end;
	long pid;

	if (v == NULL)
		return absent_ok;
	errno = 0;
	pid = strtol(v, &end, 10);
	return errno == 0 && *end == '\0' && pid == (long)getpid();
}

uint64_t
sd_watchdog_interval_ms(void)
{
	const char *v = getenv("WATCHDOG_USEC");
	unsigned long long usec;
	char *end;

	if (v == NULL || !pid_is_us("WATCHDOG_PID", 1))
		return 0;
	errno = 0;
	usec = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || usec == 0)
		return 0;
	return usec / 2000 > 0 ? usec / 2000 : 1;
}

int
sd_listen_fd(void)
{
	const char *v = getenv("LISTEN_FDS");
	int fd = -1;

	if (v != NULL && pid_is_us("LISTEN_PID", 0)) {
		if (strcmp(v, "1") == 0) {
			fd = SD_LISTEN_FDS_START;
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		} else {
			log_warnx("LISTEN_FDS=%s: expected exactly one socket; "
			    "creating our own", v);
		}
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}
