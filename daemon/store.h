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

#endif
