/*
 * The daemon's SQLite database: opened once at start, migrated, checked; every write in
 * a BEGIN IMMEDIATE transaction. Durable on return (WAL, synchronous=FULL): what the
 * upgrade engine commits survives a crash or power loss.
 */
#ifndef BB_STORE_H
#define BB_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_APPLICATION_ID	0x62627570	/* "bbup" */
#define STORE_FILE		"state.db"

struct store;

/* A summary of an upgrade row, for Status. Strings owned by the struct. */
struct upgrade_summary {
	int64_t		 id;
	char		 deployment[128];
	char		 from_version[64];	/* "" if unknown yet */
	char		 to_version[64];
	char		 state[32];
	char		 phase[64];
	int64_t		 created_at;		/* Unix ms */
	int64_t		 finished_at;		/* 0 if running */
	int		 surge;
	char		 reason[512];		/* why it halted or failed; "" if none */
};

/*
 * Opens (creating if needed) the database at path, applies pending migrations, runs
 * quick_check. NULL with err filled in if the file is not ours, is newer than this
 * daemon, or is damaged.
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void	store_close(struct store *);
int	store_schema_version(struct store *);
/* 1 and *out filled with the newest upgrade, 0 if there is none, -1 on error. */
int	store_latest_upgrade(struct store *, struct upgrade_summary *out);

/*
 * Read-only queries for the control protocol (History, Events, Watch). They never
 * write; the engine owns every write.
 */
/* 1 and *out filled with upgrade id, 0 if there is no such upgrade, -1 on error. */
int	store_upgrade(struct store *, int64_t id, struct upgrade_summary *out);

/* Called for each row, in order; non-zero stops the walk (that row counts). */
typedef int	(*store_upgrade_cb)(const struct upgrade_summary *, void *arg);
/* The newest upgrades first, at most limit: the number seen, or -1 on error. */
int	store_history(struct store *, int limit, store_upgrade_cb, void *arg);

/* One row of the event table; the strings live until the callback returns. */
struct store_event {
	int64_t		 id;
	int64_t		 upgrade_id;
	int64_t		 at;		/* Unix ms */
	const char	*level;		/* info, warning, error */
	const char	*phase;		/* NULL if none */
	const char	*node;		/* NULL if none */
	const char	*message;
	const char	*data;		/* JSON text, or NULL */
};

typedef int	(*store_event_cb)(const struct store_event *, void *arg);
/*
 * The events of upgrade upgrade_id numbered after since, oldest first, at most limit:
 * the number seen, or -1 on error.
 */
int	store_events(struct store *, int64_t upgrade_id, int64_t since, int limit,
	    store_event_cb, void *arg);

/*
 * Writes of the upgrade engine. Each function runs in the caller's transaction when
 * one is open (store_begin ... store_commit), else in its own BEGIN IMMEDIATE one, so
 * that what belongs together (the upgrade's state and its journal row) commits
 * together. All return 0 (or a row id), or -1 with a log line.
 */
int	store_begin(struct store *);		/* BEGIN IMMEDIATE */
int	store_commit(struct store *);
void	store_rollback(struct store *);

/* One row of upgrade: the columns, and the rest of the engine's state as JSON. */
struct store_upgrade {
	int64_t		 id;
	char		 deployment[128];
	char		 from_version[64];	/* "" is stored as NULL */
	char		 to_version[64];
	int		 surge;
	char		 state[32];
	char		 phase[64];
	char		 reason[1024];		/* "" is stored as NULL */
	int		 orig_min, orig_max, orig_desired;	/* -1: NULL */
	int64_t		 budget_ms;		/* -1: NULL */
	char		 budget_marker[256];
	int64_t		 created_at, updated_at, finished_at;	/* finished 0: NULL */
	char		*facts;			/* JSON; store_upgrade_get() mallocs it */
};

/* One row of upgrade_node (schema 002 adds ord and what follows it). */
struct store_node {
	char		 instance_id[32];
	char		 private_ip[64];
	char		 role[16];
	char		 version[32];
	int		 was_protected;
	char		 state[32];
	char		 drain[8];		/* "", "clean", "forced" */
	int		 ord;
	char		 purpose[16];
	char		 prot_req[8];
	char		 replaces[32];		/* instance ids; "" for none */
	char		 replaced_by[32];
	int		 retries;
	char		 activity_id[64];
	int		 reverse_born;
};

/*
 * A new upgrade row from u (id, created_at and updated_at are set). -1 on error, -2
 * if another upgrade is unfinished (the schema allows one).
 */
int	store_upgrade_create(struct store *, struct store_upgrade *u);
/* Rewrites u's row and its nodes (all of them, in order). */
int	store_upgrade_save(struct store *, const struct store_upgrade *u,
	    const struct store_node *nodes, size_t n);
/* 1 with *u (free u->facts) and *nodes (free it) filled, 0 if no such row, -1. */
int	store_upgrade_get(struct store *, int64_t id, struct store_upgrade *u,
	    struct store_node **nodes, size_t *n);
/* 1 with the id of the unfinished upgrade, 0 if none, -1. */
int	store_upgrade_unfinished(struct store *, int64_t *id);
/* 1 with the newest upgrade's id (of deployment, or any if NULL), 0 if none, -1. */
int	store_upgrade_latest(struct store *, const char *deployment, int64_t *id);

/* The journal: an intent before the call, its outcome after it. */
int	store_journal_intent(struct store *, int64_t upgrade, const char *action,
	    const char *target, const char *token, const char *params, int64_t at);
/* outcome: "done", "failed" or "not_done". */
int	store_journal_outcome(struct store *, const char *token, const char *outcome,
	    const char *detail, int64_t at);
/* 1 with the intent's time, 0 if no row carries token, -1. */
int	store_journal_intent_at(struct store *, const char *token, int64_t *at);
/*
 * 1 with the time of the newest outcome "done" of action whose target list names
 * instance, 0 if none, -1.
 */
int	store_journal_last_done(struct store *, int64_t upgrade, const char *action,
	    const char *instance, int64_t *at);

/* Appends to the timeline (struct store_event above; e->id is ignored): its id, or -1. */
int64_t	store_event_append(struct store *, const struct store_event *);

#endif
