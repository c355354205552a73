/*
 * Logging to stderr, as relayd's log.c: log_warn() appends strerror(errno), the x
 * variants do not. Under systemd (JOURNAL_STREAM matches stderr) each line starts with a
 * "<N>" priority for the journal; otherwise with a timestamp. Never log a secret.
 */
#ifndef BB_LOG_H
#define BB_LOG_H

#include <stdarg.h>
#include <syslog.h>

#define FMT(a, b)	__attribute__((format(printf, a, b)))

void	log_init(const char *ident, int level);
void	log_to_syslog(void);
void	log_setlevel(int level);	/* LOG_ERR .. LOG_DEBUG */
int	log_getlevel(void);

void	log_warn(const char *, ...) FMT(1, 2);
void	log_warnx(const char *, ...) FMT(1, 2);
void	log_info(const char *, ...) FMT(1, 2);
void	log_debug(const char *, ...) FMT(1, 2);
__attribute__((noreturn)) void fatal(const char *, ...) FMT(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) FMT(1, 2);

/* Our own bugs: always on, in every build (STYLE.md 11). */
#define BB_ASSERT(e)	((e) ? (void)0 : \
	fatalx("assertion failed: %s (%s:%d)", #e, __FILE__, __LINE__))

#endif
