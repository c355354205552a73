/*
 * What bbctl's files share: the context of one run, the parsed arguments of its
 * command, the exit statuses (part of the interface: see EXIT STATUS in bbctl(1)),
 * and the one way to call the daemon.
 */
#ifndef BB_BBCTL_H
#define BB_BBCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define DEFAULT_SOCKET	"/run/bbupgraded/control.sock"
#define PLAN_TIMEOUT_MS	(5 * 60 * 1000)	/* a preflight reads AWS and Bitbucket */

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* an error from the daemon; watch: the upgrade did not complete */
	EXIT_USAGE = 2,
	EXIT_NODAEMON = 3,
};

struct render;

struct ctx {
	const char		*socket;
	bool			 json;
	int			 timeout_ms;
	bool			 timeout_given;	/* --timeout: it applies to every call */
	struct conn		*conn;
	const struct render	*out;	/* human or --json */
};

/* A command's arguments, as its entry of the command table allows them. */
struct args {
	char		**pos;		/* positional arguments */
	int		  npos;
	const char	 *to;		/* --to VERSION */
	bool		  yes;		/* --yes */
	bool		  watch;	/* --watch */
	int64_t		  since;	/* --since N, 0 if not given */
	int		  limit;	/* --limit N, 0 if not given */
};

/*
 * One call: EXIT_OK with *out holding the reply's parameters (the caller frees them),
 * or the exit status after the error was shown. The connection is made on first use.
 * params is stolen.
 */
int	bb_call(struct ctx *, const char *method, json_t *params, json_t **out);
/* Connects if not connected: EXIT_OK, or the exit status after saying why not. */
int	bb_connect(struct ctx *);
/* The exit status for an error reply of the daemon, after showing it. */
int	bb_error(struct ctx *, json_t *reply);

/* commands.c */
int	cmd_status(struct ctx *, const struct args *);
int	cmd_version(struct ctx *, const struct args *);
int	cmd_ping(struct ctx *, const struct args *);
int	cmd_plan(struct ctx *, const struct args *);
int	cmd_start(struct ctx *, const struct args *);
int	cmd_pause(struct ctx *, const struct args *);
int	cmd_resume(struct ctx *, const struct args *);
int	cmd_cancel(struct ctx *, const struct args *);
int	cmd_rollback(struct ctx *, const struct args *);
int	cmd_history(struct ctx *, const struct args *);
int	cmd_events(struct ctx *, const struct args *);
/*
 * The upgrade the command's ID argument names; without one, the latest (found with
 * Status), or 0 if latest_ok (the daemon then picks it). EXIT_OK or the exit status.
 */
int	upgrade_id_arg(struct ctx *, const struct args *, bool latest_ok, int64_t *id);

/* watch.c */
int	cmd_watch(struct ctx *, const struct args *);
/* Follows upgrade id (0: the newest) from event since; the exit status of watch. */
int	watch_run(struct ctx *, int64_t id, int64_t since);

#endif
