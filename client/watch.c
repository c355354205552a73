/*
 * bbctl watch (and start --watch): one Watch call with "more", followed to its last
 * reply. Three views of the same replies: a live view redrawn in place on a terminal,
 * one line per event otherwise, one JSON object per reply with --json. The exit status
 * says how the upgrade ended: 0 completed; 1 halted, failed, cancelled or rolled back.
 *
 * If the connection is lost (the daemon restarted, or dropped us for reading too
 * slowly), watch reconnects for up to --timeout and asks again from the last event it
 * saw, so that nothing is shown twice or missed; then it gives up with status 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "client/bbctl.h"
#include "client/conn.h"
#include "client/render.h"

#define RECENT_EVENTS	8	/* under the live view's table */
#define TICK_MS		1000	/* the live view's clock */
#define FRAME_MS	100	/* the live view's fastest redraw */

struct watch {
	struct ctx	*ctx;
	bool		 live;
	int64_t		 id;		/* 0 until the first reply names it */
	int64_t		 since;		/* the last event seen */
	bool		 shown;		/* the first upgrade was shown */
	json_t		*upgrade;	/* the latest one received */
	time_t		 upgrade_at;	/* monotonic seconds it came at */
	json_t		*recent[RECENT_EVENTS];	/* a ring */
	size_t		 nrecent;
	int		 drawn;		/* lines of the live view on screen */
	bool		 dirty;		/* something new to draw */
	long long	 drawn_at;	/* monotonic ms of the last frame */
	char		 note[640];	/* a line under the live view */
};

static time_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
num(json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? (long long)json_number_value(v) : dflt;
}

static bool
running(json_t *u)
{
	return strcmp(render_str(u, "state"), "running") == 0;
}

/* Elapsed and remaining seconds now, from the last status and the time since it came. */
static void
clock_of(struct watch *w, long long *elapsed, long long *eta)
{
	json_t *u = w->upgrade, *p = json_object_get(u, "progress");
	long long since = running(u) ? (long long)(mono_s() - w->upgrade_at) : 0;
	long long done = num(p, "done", 0), total = num(p, "total", 0), start;

	*elapsed = num(p, "elapsed_seconds", -1);
	if (*elapsed >= 0)
		*elapsed += since;
	else if ((start = render_parse_time(json_string_value(json_object_get(u,
	    "started")))) >= 0)
		*elapsed = (long long)time(NULL) - start;
	*eta = num(p, "eta_seconds", -1);
	if (*eta >= 0)
		*eta = *eta > since ? *eta - since : 0;
	else if (done > 0 && total > done && *elapsed > 0)
		*eta = *elapsed * (total - done) / done;
	if (!running(u))
		*eta = -1;
}

static int
term_width(void)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* One frame of the live view into f; lines are cut at width. */
static void
frame(struct watch *w, FILE *f, int width)
{
	json_t *u = w->upgrade, *p = json_object_get(u, "progress");
	const char *mode = json_string_value(json_object_get(u, "mode"));
	const char *reason = json_string_value(json_object_get(u, "reason"));
	char line[1024], bar[64], el[32], eta[32];
	long long elapsed, left;

	snprintf(line, sizeof(line), "upgrade #%lld of %s: %s -> %s", num(u, "id", 0),
	    render_str(u, "deployment"), render_str(u, "from_version"),
	    render_str(u, "to_version"));
	fprintf(f, "%.*s\n", width, line);
	snprintf(line, sizeof(line), "state %s, phase %s%s%s%s", render_str(u, "state"),
	    render_str(u, "phase"), mode && strcmp(mode, "forward") ? ", " : "",
	    mode && strcmp(mode, "forward") ? mode : "",
	    json_is_true(json_object_get(u, "pause_requested")) ?
	    " (pause requested: stops at the next safe point)" : "");
	fprintf(f, "%.*s\n", width, line);
	clock_of(w, &elapsed, &left);
	render_bar(bar, sizeof(bar), num(p, "done", 0), num(p, "total", 0), 30);
	render_duration(el, sizeof(el), elapsed);
	render_duration(eta, sizeof(eta), left);
	if (json_is_object(p))
		snprintf(line, sizeof(line), "%s  %lld/%lld  elapsed %s  ETA %s", bar,
		    num(p, "done", 0), num(p, "total", 0), el, eta);
	else
		snprintf(line, sizeof(line), "elapsed %s", el);
	fprintf(f, "%.*s\n", width, line);
	if (reason != NULL && reason[0] != '\0')
		fprintf(f, "%.*s\n", width, reason);
	if (render_waiting(line, sizeof(line), u) > 0)
		fprintf(f, "%.*s\n", width, line);
	fprintf(f, "\n");
	render_nodes(f, json_object_get(u, "nodes"), width, "");
	fprintf(f, "\nlast events:\n");
	for (size_t i = w->nrecent > RECENT_EVENTS ? w->nrecent - RECENT_EVENTS : 0;
	    i < w->nrecent; i++) {
		render_event_line(line, sizeof(line), w->recent[i % RECENT_EVENTS]);
		fprintf(f, "%.*s\n", width, line);
	}
	if (w->note[0] != '\0')
		fprintf(f, "%.*s\n", width, w->note);
}

/* Redraws the live view over the previous frame. */
static void
draw(struct watch *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int lines = 0;

	if (w->upgrade == NULL || (f = open_memstream(&buf, &len)) == NULL)
		return;
	frame(w, f, term_width() - 1);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	if (w->drawn > 0)
		printf("\033[%dA", w->drawn);	/* up to the frame's first line */
	printf("\r\033[J%s", buf);
	fflush(stdout);
	w->drawn = lines;
	w->dirty = false;
	w->drawn_at = mono_ms();
	free(buf);
}

static void
take_upgrade(struct watch *w, json_t *u)
{
	json_decref(w->upgrade);
	w->upgrade = json_incref(u);
	w->upgrade_at = mono_s();
	if (w->id == 0)
		w->id = num(u, "id", 0);
}

static void
take_event(struct watch *w, json_t *ev)
{
	size_t slot = w->nrecent % RECENT_EVENTS;

	if (w->nrecent >= RECENT_EVENTS)
		json_decref(w->recent[slot]);
	w->recent[slot] = json_incref(ev);
	w->nrecent++;
	if (num(ev, "id", 0) > w->since)
		w->since = num(ev, "id", 0);
}

/* One reply of the stream: shown; true if it was the last. */
static bool
on_reply(struct watch *w, json_t *reply)
{
	json_t *p = json_object_get(reply, "parameters");
	json_t *u = json_object_get(p, "upgrade"), *ev = json_object_get(p, "event");
	bool final = !json_is_true(json_object_get(reply, "continues"));
	bool first = !w->shown;

	if (json_is_object(ev)) {
		/* After a reconnection the daemon starts after w->since: no repeats. */
		take_event(w, ev);
		if (!w->live)
			w->ctx->out->watch_event(ev);
	}
	if (json_is_object(u)) {
		take_upgrade(w, u);
		w->shown = true;
		if (!w->live)
			w->ctx->out->watch_upgrade(u, first, final);
	}
	w->dirty = true;
	return final;
}

/* How the upgrade ended, as an exit status; the live view says it in words. */
static int
outcome(struct watch *w)
{
	char msg[1024];
	bool done = strcmp(render_str(w->upgrade, "state"), "done") == 0;

	if (w->live) {
		render_outcome(msg, sizeof(msg), w->upgrade);
		printf("%s\n", msg);
	}
	return done ? EXIT_OK : EXIT_FAILED;
}

/* Connects again for up to --timeout: true if connected. */
static bool
reconnect(struct watch *w, const char *why)
{
	struct ctx *ctx = w->ctx;
	time_t until = mono_s() + (ctx->timeout_ms + 999) / 1000;
	char err[512];
	int cerr;

	conn_close(ctx->conn);
	ctx->conn = NULL;
	snprintf(w->note, sizeof(w->note), "(%s: reconnecting)", why);
	if (w->live)
		draw(w);
	else if (!ctx->json)
		fprintf(stderr, "bbctl: %s: reconnecting\n", why);
	while (mono_s() <= until) {
		if ((ctx->conn = conn_open(ctx->socket, ctx->timeout_ms, &cerr, err,
		    sizeof(err))) != NULL) {
			w->note[0] = '\0';
			return true;
		}
		usleep(500 * 1000);
	}
	fprintf(stderr, "bbctl: lost the daemon (%s) and could not reconnect: is "
	    "bbupgraded running? The upgrade goes on without bbctl\n", why);
	return false;
}

static int
watch_send(struct watch *w)
{
	json_t *params = json_pack("{s:I}", "since", (json_int_t)w->since);
	char err[512];

	if (w->id > 0)
		json_object_set_new(params, "id", json_integer(w->id));
	if (conn_send(w->ctx->conn, "io.bbupgraded.Watch", params, true, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "bbctl: %s\n", err);
		return -1;
	}
	return 0;
}

static void
watch_free(struct watch *w)
{
	json_decref(w->upgrade);
	for (size_t i = 0; i < w->nrecent && i < RECENT_EVENTS; i++)
		json_decref(w->recent[i]);
}

int
watch_run(struct ctx *ctx, int64_t id, int64_t since)
{
	struct watch w = { .ctx = ctx, .id = id, .since = since };
	char err[512];
	bool timed_out, final = false;
	json_t *reply;
	int rc;

	w.live = isatty(1) && !ctx->json;
	if ((rc = bb_connect(ctx)) != EXIT_OK)
		return rc;
	if (watch_send(&w) == -1)
		return EXIT_FAILED;
	while (!final) {
		/*
		 * The live view is drawn when the replies pause, at most every
		 * FRAME_MS while they pour in (a replay of stored events), and every
		 * TICK_MS for the clock.
		 */
		if (w.live && w.dirty && mono_ms() - w.drawn_at >= FRAME_MS)
			draw(&w);
		reply = conn_next(ctx->conn, !w.live ? -1 : w.dirty ? FRAME_MS : TICK_MS,
		    &timed_out, err, sizeof(err));
		if (reply == NULL && timed_out) {
			draw(&w);	/* the clock moves on */
			continue;
		}
		if (reply == NULL) {
			if (!w.shown || !reconnect(&w, err) || watch_send(&w) == -1) {
				if (!w.shown)
					fprintf(stderr, "bbctl: %s\n", err);
				watch_free(&w);
				return EXIT_NODAEMON;
			}
			continue;
		}
		if (json_object_get(reply, "error") != NULL) {
			rc = bb_error(ctx, reply);
			json_decref(reply);
			watch_free(&w);
			return rc;
		}
		final = on_reply(&w, reply);
		json_decref(reply);
	}
	if (w.live)
		draw(&w);
	rc = w.upgrade != NULL ? outcome(&w) : EXIT_FAILED;
	watch_free(&w);
	return rc;
}

int
cmd_watch(struct ctx *ctx, const struct args *a)
{
	int64_t id;
	int rc;

	if ((rc = upgrade_id_arg(ctx, a, true, &id)) != EXIT_OK)
		return rc;
	return watch_run(ctx, id, a->since);
}
