/*
 * The methods of the control protocol: one table naming each method, its parameters and
 * whether it changes anything, and a handler per method. Checks run in a fixed order:
 * method known -> parameter shapes and values -> "more" when the method streams ->
 * permission -> handler (STYLE.md 3). A handler asks the engine (engine.h) once and
 * turns its answer or refusal into a typed reply; it never performs a step itself.
 */
#ifndef BB_METHODS_H
#define BB_METHODS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "daemon/engine/engine.h"

struct config;
struct ctl_call;
struct store;
struct vl_call;

/* Who is calling, from SO_PEERCRED. */
struct peer {
	pid_t		 pid;
	uid_t		 uid;
	bool		 can_mutate;	/* uid 0, the daemon's uid, or in control_group */
};

/* The engine's functions as the methods call them: the real ones unless a test says. */
struct methods_engine {
	int	(*plan)(const char *, const char *, engine_plan_cb, void *);
	int	(*start)(const char *, const char *, int64_t *, struct engine_refusal *);
	int	(*pause)(struct engine_refusal *);
	int	(*resume)(struct engine_refusal *);
	int	(*cancel)(struct engine_refusal *);
	int	(*rollback)(struct engine_refusal *);
	json_t	*(*status)(void);
	struct engine_watch *(*watch)(int64_t, int64_t, engine_watch_cb, void *);
	void	(*unwatch)(struct engine_watch *);
};

#define METHODS_SNAPSHOT_MS	2000	/* a watcher gets the status again, if changed */
#define METHODS_CHECK_MS	50	/* after an event: has the upgrade halted? */
#define METHODS_HISTORY_MAX	1000	/* History's limit */
#define METHODS_EVENTS_MAX	1000	/* Events' limit */
#define METHODS_EVENTS_BYTES	(256 * 1024)	/* one Events reply, well under CTL_MAX_QUEUE */

void	 methods_init(const struct config *, struct store *);
/* The loop for the watchers' status timer (ctl_init); methods_shutdown() closes it. */
void	 methods_set_loop(uv_loop_t *);
void	 methods_shutdown(void);
/* NULL restores the real engine. For tests. */
void	 methods_set_engine(const struct methods_engine *);

/*
 * The reply (parameters or error) to one call; the caller frees it. NULL when the
 * handler kept the call to answer it later through ctl_call_send() (control.h).
 * call may be NULL (tests): methods that need to keep it then answer InternalError.
 */
json_t	*methods_dispatch(const struct vl_call *, const struct peer *, struct ctl_call *);
/* methods_dispatch() without a call to keep. */
json_t	*methods_call(const struct vl_call *, const struct peer *);
/* Watch calls open now (for tests). */
int	 methods_nwatchers(void);

#endif
