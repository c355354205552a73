/*
 * SQLite store (see store.h). It must never run on a database it does not understand:
 * a foreign file (application_id), a newer schema (user_version), or a damaged one
 * (quick_check) is refused at open, before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "daemon/embedded.h"
#include "daemon/store.h"

struct store {
	sqlite3		*db;
};

static int
pragma_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
pragma_text_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		ok = v != NULL && strcmp((const char *)v, want) == 0;
	}
	sqlite3_finalize(st);
	return ok;
}

/* Settings that make commits durable; each is read back, because a pragma can be ignored. */
static int
configure(sqlite3 *db, char *err, size_t errlen)
{
	int v;

	sqlite3_busy_timeout(db, 5000);
	if (!pragma_text_is(db, "PRAGMA journal_mode=WAL", "wal")) {
		snprintf(err, errlen, "cannot switch to WAL journal mode (is the state "
		    "directory on a local file system?)");
		return -1;
	}
	if (sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    pragma_int(db, "PRAGMA synchronous", &v) == -1 || v != 2 ||
	    pragma_int(db, "PRAGMA foreign_keys", &v) == -1 || v != 1) {
		snprintf(err, errlen, "cannot set synchronous=FULL and foreign_keys=ON");
		return -1;
	}
	return 0;
}

static int
check_identity(sqlite3 *db, int *version, char *err, size_t errlen)
{
	int appid, tables;

	if (pragma_int(db, "PRAGMA application_id", &appid) == -1 ||
	    pragma_int(db, "PRAGMA user_version", version) == -1 ||
	    pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables) == -1) {
		snprintf(err, errlen, "not a readable SQLite database: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	if (appid != STORE_APPLICATION_ID && !(appid == 0 && tables == 0)) {
		snprintf(err, errlen, "not a bbupgraded database (application_id %#x); "
		    "move it away or set state_directory elsewhere", (unsigned)appid);
		return -1;
	}
	if (*version > embedded_nmigrations) {
		snprintf(err, errlen, "the database has schema version %d, newer than the "
		    "%d this bbupgraded knows: run the newer bbupgraded, or restore a backup",
		    *version, embedded_nmigrations);
		return -1;
	}
	return 0;
}

static int
quick_check(sqlite3 *db, char *err, size_t errlen)
{
	if (pragma_text_is(db, "PRAGMA quick_check", "ok"))
		return 0;
	snprintf(err, errlen, "the database failed PRAGMA quick_check: it is damaged; "
	    "restore a backup (the running upgrade can then be resumed)");
	return -1;
}

/* Each migration is one transaction: it applies entirely, or not at all. */
static int
migrate(sqlite3 *db, int from, char *err, size_t errlen)
{
	char *msg = NULL, sql[96];

	for (int i = from; i < embedded_nmigrations; i++) {
		const struct migration *m = &embedded_migrations[i];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d; PRAGMA "
		    "application_id=%d; COMMIT", m->version, STORE_APPLICATION_ID);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name,
			    msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		log_info("store: applied migration %s", m->name);
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s;
	int version;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) :
		    "out of memory");
		goto fail;
	}
	if (check_identity(s->db, &version, err, errlen) == -1 ||
	    quick_check(s->db, err, errlen) == -1 ||
	    configure(s->db, err, errlen) == -1 ||
	    migrate(s->db, version, err, errlen) == -1)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s);
}

int
store_schema_version(struct store *s)
{
	int v;

	return pragma_int(s->db, "PRAGMA user_version", &v) == -1 ? -1 : v;
}

static void
copy_col(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", v ? (const char *)v : "");
}

int
store_latest_upgrade(struct store *s, struct upgrade_summary *u)
{
	static const char sql[] = "SELECT id, deployment, from_version, to_version, "
	    "state, phase, created_at, finished_at FROM upgrade ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("store: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(u, 0, sizeof(*u));
		u->id = sqlite3_column_int64(st, 0);
		copy_col(st, 1, u->deployment, sizeof(u->deployment));
		copy_col(st, 2, u->from_version, sizeof(u->from_version));
		copy_col(st, 3, u->to_version, sizeof(u->to_version));
		copy_col(st, 4, u->state, sizeof(u->state));
		copy_col(st, 5, u->phase, sizeof(u->phase));
		u->created_at = sqlite3_column_int64(st, 6);
		u->finished_at = sqlite3_column_int64(st, 7);
	} else if (rc != SQLITE_DONE) {
		log_warnx("store: %s", sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
