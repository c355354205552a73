/*
 * bbupgraded: start-up and shutdown in order (chrony's main.c is the model). Every
 * module is initialised after what it depends on and shut down in reverse. Failures
 * before the loop runs exit 1 with one clear line; after it runs, nothing but a signal
 * stops the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/xml.h"
#include "daemon/control.h"
#include "daemon/engine/engine.h"
#include "daemon/http.h"
#include "daemon/store.h"
#include "daemon/systemd.h"

#define LOCK_FILE	"bbupgraded.lock"
#define EXIT_CONFIG	78	/* sysexits.h EX_CONFIG: systemd does not restart on it */

static struct {
	uv_loop_t	 loop;
	uv_signal_t	 sigterm, sigint;
	uv_timer_t	 watchdog;
	struct config	 cfg;
	struct store	*store;
	int		 lock_fd;
} d = { .lock_fd = -1 };

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: bbupgraded [-dfhV] [-c file] [--check-config]\n"
	    "\n"
	    "Rolling-upgrade daemon for Bitbucket Data Center on AWS.\n"
	    "\n"
	    "  -c file         configuration (default %s)\n"
	    "  -d              debug logging\n"
	    "  -f              stay in the foreground (use under systemd)\n"
	    "  --check-config  validate the configuration and exit\n"
	    "  -h, --help      this help\n"
	    "  -V, --version   print the version and exit\n"
	    "\n"
	    "Talk to the running daemon with bbctl(1). See bbupgraded(8).\n",
	    CONFIG_DEFAULT_PATH);
	exit(status);
}

/* One daemon per state directory: an flock held for the life of the process. */
static int
lock_state_dir(const char *dir)
{
	char path[4096], pid[32] = "";
	ssize_t n;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return log_warn("state directory %s", dir), -1;
	snprintf(path, sizeof(path), "%s/%s", dir, LOCK_FILE);
	if ((d.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		return log_warn("%s", path), -1;
	if (flock(d.lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return log_warn("lock %s", path), -1;
	n = pread(d.lock_fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	log_warnx("another bbupgraded (pid %s) is running with state directory %s; "
	    "stop it first (systemctl stop bbupgraded)", pid[0] ? pid : "unknown", dir);
	return -1;
}

static void
lock_write_pid(void)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	if (ftruncate(d.lock_fd, 0) == -1 || pwrite(d.lock_fd, pid, (size_t)n, 0) != n)
		log_warn("writing the pid to the lock file");
}

/* Closes every handle; the loop then runs out and returns. */
static void
loop_stop(void)
{
	ctl_shutdown();
	engine_shutdown();
	http_shutdown();
	uv_close((uv_handle_t *)&d.sigterm, NULL);
	uv_close((uv_handle_t *)&d.sigint, NULL);
	uv_close((uv_handle_t *)&d.watchdog, NULL);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	log_info("received %s: stopping", strsignal(signum));
	sd_notify_send("STOPPING=1");
	loop_stop();
}

/* Fed from the loop, so that a wedged loop stops feeding it and systemd restarts us. */
static void
on_watchdog(uv_timer_t *t)
{
	sd_notify_send("WATCHDOG=1");
}

static int
open_store(void)
{
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/%s", d.cfg.state_dir, STORE_FILE);
	if ((d.store = store_open(path, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", path, err);
		return -1;
	}
	return 0;
}

/* Before the loop: the lock, then detaching, then the database (never across fork). */
static int
prepare(int foreground)
{
	if (lock_state_dir(d.cfg.state_dir) == -1)
		return -1;
	if (!foreground) {
		if (daemon(0, 0) == -1)
			return log_warn("daemon"), -1;
		log_to_syslog();
	}
	lock_write_pid();
	signal(SIGPIPE, SIG_IGN);
	return open_store();
}

static int
loop_start(void)
{
	uint64_t wd;

	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	/* The engine before the control socket: a request may come at once. */
	if (http_init(&d.loop) == -1 || engine_init(&d.loop, &d.cfg, d.store) == -1 ||
	    ctl_init(&d.loop, &d.cfg, d.store, sd_listen_fd()) == -1)
		return -1;
	if ((wd = sd_watchdog_interval_ms()) > 0)
		uv_timer_start(&d.watchdog, on_watchdog, wd, wd);
	return 0;
}

static int
run(int foreground)
{
	char status[128];
	int rc = -1;

	if (prepare(foreground) == -1)
		return -1;
	if (uv_loop_init(&d.loop) != 0)
		fatalx("uv_loop_init failed");
	aws_xml_init();
	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sigint);
	uv_timer_init(&d.loop, &d.watchdog);
	if (loop_start() == 0) {
		snprintf(status, sizeof(status), "READY=1\nSTATUS=idle, %zu deployments "
		    "configured", d.cfg.ndeployments);
		sd_notify_send(status);
		log_info("bbupgraded %s ready (pid %ld)", BB_VERSION, (long)getpid());
		rc = 0;
	} else {
		loop_stop();
	}
	uv_run(&d.loop, UV_RUN_DEFAULT);
	BB_ASSERT(uv_loop_close(&d.loop) == 0);
	aws_xml_shutdown();
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conffile = CONFIG_DEFAULT_PATH;
	int ch, debug = 0, foreground = 0, checkonly = 0, rc;
	char err[1024];

	while ((ch = getopt_long(argc, argv, "c:dfhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conffile = optarg; break;
		case 'd': debug = 1; break;
		case 'f': foreground = 1; break;
		case 'C': checkonly = 1; break;
		case 'h': usage(0);
		case 'V': printf("bbupgraded %s\n", BB_VERSION); return 0;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_init("bbupgraded", debug ? LOG_DEBUG : LOG_INFO);
	if (config_load(conffile, &d.cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "bbupgraded: %s\n", err);
		return EXIT_CONFIG;
	}
	if (checkonly) {
		printf("configuration OK: %zu deployment%s\n", d.cfg.ndeployments,
		    d.cfg.ndeployments == 1 ? "" : "s");
		config_free(&d.cfg);
		return 0;
	}
	if (!debug)
		log_setlevel(d.cfg.log_level);
	rc = run(foreground);
	store_close(d.store);
	config_free(&d.cfg);
	log_info("stopped");
	return rc == 0 ? 0 : 1;
}
