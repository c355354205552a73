/*
 * bbctl's printers: one interface, two implementations. render_human writes for
 * people (tables, sentences; errors on standard error with what to do); render_json
 * writes one compact JSON object per line on standard output (the daemon's reply
 * parameters as they came, errors included) for scripts. Commands never print
 * anything else on standard output.
 */
#ifndef BB_RENDER_H
#define BB_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct render {
	void	(*status)(json_t *st);
	void	(*plan)(json_t *reply);
	void	(*started)(json_t *reply, const char *deployment, const char *to);
	/* pause, resume, cancel, rollback: {id, already, state, mode} */
	void	(*command)(const char *verb, json_t *reply);
	void	(*history)(json_t *reply);
	void	(*events)(json_t *events, bool first_page);
	void	(*version)(const char *client, const char *daemon);
	void	(*ping)(const char *daemon, const char *socket, double ms);
	/* An error reply of the daemon; hint (may be NULL): what to do instead. */
	void	(*error)(json_t *reply, const char *hint);
	/* Watch without a terminal: each reply's upgrade or event as it comes. */
	void	(*watch_upgrade)(json_t *upgrade, bool first, bool final);
	void	(*watch_event)(json_t *event);
};

extern const struct render render_human;
extern const struct render render_json;

/* Helpers for the live watch view (watch.c) and the human printer. */
const char *render_str(json_t *obj, const char *key);	/* "-" if absent */
void	render_duration(char *buf, size_t len, long long seconds);
/* One event on one line of at most width columns (0: no limit), without newline. */
void	render_event_line(char *buf, size_t len, json_t *event);
/* The nodes table, each line cut at width columns (0: no limit). */
void	render_nodes(FILE *, json_t *nodes, int width, const char *indent);
/* "[#####-----]  50%": a bar of bar columns. */
void	render_bar(char *buf, size_t len, long long done, long long total, int bar);
/* Seconds since the epoch of an ISO 8601 UTC time, or -1. */
long long render_parse_time(const char *);
/* "waiting: node-ready (i-0abc), deadline in 25m 0s" for a running upgrade: its length. */
int	render_waiting(char *buf, size_t len, json_t *upgrade);
/* "the upgrade completed", "the upgrade halted: why", ... for a final upgrade. */
void	render_outcome(char *buf, size_t len, json_t *upgrade);

#endif
