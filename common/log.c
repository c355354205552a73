/*
 * Logging (see log.h). Three destinations: stderr with a timestamp (a terminal or a
 * file), stderr with "<N>" priority prefixes (systemd's journal, detected through
 * JOURNAL_STREAM), or syslog once the daemon has detached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static int	 log_level = LOG_INFO;
static int	 log_journal;	/* stderr is the journal: "<N>" prefixes */
static int	 log_syslog;	/* detached: syslog(3) */
static const char *log_ident = "bbupgraded";

/* systemd sets JOURNAL_STREAM=dev:ino of the stream it connected to stderr. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(const char *ident, int level)
{
	log_ident = ident;
	log_level = level;
	log_journal = stderr_is_journal();
	log_syslog = 0;
}

/* After daemon(3): stderr is /dev/null, so lines go to syslog instead. */
void
log_to_syslog(void)
{
	log_syslog = 1;
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (pri > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	if (log_journal) {
		fprintf(stderr, "<%d>%s%s%s\n", pri, msg, suffix ? ": " : "",
		    suffix ? suffix : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%s]: %s%s%s\n", stamp, ts.tv_nsec / 1000000,
	    log_ident, pri <= LOG_ERR ? "error" : pri == LOG_WARNING ? "warning" :
	    pri == LOG_INFO ? "info" : "debug",
	    msg, suffix ? ": " : "", suffix ? suffix : "");
}

#define LOGFN(fn, pri, witherrno)				\
void								\
fn(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vlog(pri, fmt, ap, witherrno ? strerror(saved) : NULL);	\
	va_end(ap);						\
	errno = saved;						\
}

LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_debug, LOG_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
