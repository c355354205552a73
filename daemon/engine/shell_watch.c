/*
 * Watchers of an upgrade's events (engine_watch): the stored events after `since`
 * first, then each new one, then a final NULL once the upgrade has ended. One pump
 * (a zero-delay timer) reads what each watcher has not seen from the event table, so
 * that a watcher sees exactly what was committed, in order, whether it came before
 * or after the watch began; nothing is queued in memory per watcher.
 *
 * Callbacks run from the loop, never inside engine_watch() or engine_unwatch(). A
 * callback may call engine_unwatch() on its own watch (it is freed afterwards, by the
 * pump); after the final NULL the watch is gone and must not be unwatched.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/engine/shell.h"
#include "daemon/store.h"

#define BATCH	256	/* events read per watcher per pump */

struct engine_watch {
	struct engine_watch	*next;
	int64_t			 upgrade;
	int64_t			 last;		/* the last event id delivered */
	engine_watch_cb		 cb;
	void			*arg;
	bool			 dead;
};

static void	pump(uv_timer_t *);

void
engine_watch_kick(struct shell *sh)
{
	if (sh->stopping || sh->pump_armed || sh->watches == NULL)
		return;
	sh->pump_armed = true;
	uv_timer_start(&sh->pump, pump, 0, 0);
}

static json_t *
iso8601(int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	engine_fmt(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	return json_string(buf);
}

json_t *
engine_event_json(const struct store_event *e)
{
	json_t *data = e->data != NULL ? json_loads(e->data, 0, NULL) : NULL;

	return json_pack("{s:I, s:I, s:o, s:s, s:s?, s:s?, s:s, s:o}", "id",
	    (json_int_t)e->id, "upgrade", (json_int_t)e->upgrade_id, "at",
	    iso8601(e->at), "level", e->level, "phase", e->phase, "node", e->node,
	    "message", e->message, "data", data != NULL ? data : json_object());
}

static int
deliver(const struct store_event *e, void *arg)
{
	struct engine_watch *w = arg;
	json_t *j;

	if (w->dead || engine_shell == NULL || engine_shell->stopping)
		return 1;
	w->last = e->id;
	if ((j = engine_event_json(e)) != NULL) {
		w->cb(j, w->arg);
		json_decref(j);
	}
	return w->dead ? 1 : 0;
}

/* The upgrade has ended: finished, or not the one the daemon runs. */
static bool
ended(struct shell *sh, int64_t id)
{
	if (sh->run != NULL && sh->run->u.id == id)
		return engine_finished(&sh->run->u);
	return true;
}

static void
serve(struct shell *sh, struct engine_watch *w)
{
	int n;

	do
		n = store_events(sh->store, w->upgrade, w->last, BATCH, deliver, w);
	while (n == BATCH && !w->dead && !sh->stopping);
	if (n == -1 || w->dead || sh->stopping || !ended(sh, w->upgrade))
		return;
	w->dead = true;
	w->cb(NULL, w->arg);
}

static void
sweep(struct shell *sh)
{
	struct engine_watch **pp = &sh->watches, *w;

	while ((w = *pp) != NULL) {
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
}

static void
pump(uv_timer_t *t)
{
	struct shell *sh = t->data;

	sh->pump_armed = false;
	for (struct engine_watch *w = sh->watches; w != NULL && !sh->stopping;
	    w = w->next)
		if (!w->dead)
			serve(sh, w);
	if (!sh->stopping)
		sweep(sh);
}

struct engine_watch *
engine_watch(int64_t id, int64_t since, engine_watch_cb cb, void *arg)
{
	struct shell *sh = engine_shell;
	struct engine_watch *w;

	if (sh == NULL || cb == NULL)
		return NULL;
	if (id == 0) {
		if (sh->run != NULL)
			id = sh->run->u.id;
		else if (store_upgrade_latest(sh->store, NULL, &id) != 1)
			return NULL;
	} else if (sh->run == NULL || sh->run->u.id != id) {
		struct upgrade_summary u;

		if (store_upgrade(sh->store, id, &u) != 1)
			return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->upgrade = id;
	w->last = since > 0 ? since : 0;
	w->cb = cb;
	w->arg = arg;
	w->next = sh->watches;
	sh->watches = w;
	engine_watch_kick(sh);
	return w;
}

void
engine_unwatch(struct engine_watch *w)
{
	if (w == NULL || engine_shell == NULL)
		return;
	w->dead = true;
	engine_watch_kick(engine_shell);
}

/* At shutdown: no callback runs any more, every watch is freed. */
void
engine_watch_free_all(struct shell *sh)
{
	for (struct engine_watch *w = sh->watches; w != NULL; w = w->next)
		w->dead = true;
	sweep(sh);
}
