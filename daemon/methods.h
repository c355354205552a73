/*
 * The methods of the control protocol: one table naming each method, its parameters and
 * whether it changes anything, and a handler per method. Checks run in a fixed order:
 * method known -> parameter shapes -> permission -> handler (STYLE.md 3).
 */
#ifndef BB_METHODS_H
#define BB_METHODS_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct config;
struct store;
struct vl_call;

/* Who is calling, from SO_PEERCRED. */
struct peer {
	pid_t		 pid;
	uid_t		 uid;
	bool		 can_mutate;	/* uid 0, the daemon's uid, or in control_group */
};

void	 methods_init(const struct config *, struct store *);
/* The reply (parameters or error) to one call; the caller frees it. */
json_t	*methods_call(const struct vl_call *, const struct peer *);

#endif
