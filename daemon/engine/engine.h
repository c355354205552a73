/*
 * The upgrade engine as the rest of the daemon sees it: the effect shell around the
 * decision core (core.h). It observes AWS and Bitbucket through the clients, asks the
 * core, performs each action through the journal (intent committed -> act -> outcome
 * committed), persists every step as an event, and resumes an unfinished upgrade at
 * start-up. One upgrade at a time. methods.c calls these functions and nothing else of
 * the engine; they never block the loop.
 */
#ifndef BB_ENGINE_H
#define BB_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "common/errors.h"

struct config;
struct store;

/* Why a command was refused: an error of common/errors.h with its parameters. */
struct engine_refusal {
	enum vl_error	 error;
	json_t		*params;	/* owned by the caller once returned; may be NULL */
};

/* Resumes any unfinished upgrade found in the store (resolving an open intent first). */
int	engine_init(uv_loop_t *, const struct config *, struct store *);
/* Stops at once (no new call; calls in flight are cancelled); the journal says the rest. */
void	engine_shutdown(void);

/*
 * Preflight without changing anything: cb runs once with the plan (target, nodes,
 * order of replacement, the estimate) or with the list of problems.
 */
typedef void	(*engine_plan_cb)(json_t *plan, const struct engine_refusal *, void *arg);
int	engine_plan(const char *deployment, const char *to, engine_plan_cb, void *arg);

/* Starts an upgrade (after its own preflight); *id set; -1 with the refusal. */
int	engine_start(const char *deployment, const char *to, int64_t *id,
	    struct engine_refusal *);
/* Operator commands on the current upgrade; -1 with the refusal ("already paused" is 0). */
int	engine_pause(struct engine_refusal *);
int	engine_resume(struct engine_refusal *);
int	engine_cancel(struct engine_refusal *);
int	engine_rollback(struct engine_refusal *);

/* The current (or last) upgrade: phase, state, progress, nodes table; NULL if none. */
json_t	*engine_status(void);

/*
 * Subscribes to events of upgrade id (0: the current one) from event number since
 * (stored events first, then live ones). cb gets each event object (borrowed) and a
 * final NULL when the upgrade has ended; the subscription then ends by itself.
 */
typedef void	(*engine_watch_cb)(json_t *event, void *arg);
struct engine_watch *engine_watch(int64_t id, int64_t since, engine_watch_cb, void *arg);
void	engine_unwatch(struct engine_watch *);

#endif
