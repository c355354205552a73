/*
 * SQLite store (see store.h). It must never run on a database it does not understand:
 * a foreign file (application_id), a newer schema (user_version), or a damaged one
 * (quick_check) is refused at open, before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define UPGRADE_COLUMNS	"id, deployment, from_version, to_version, state, phase, " \
	"created_at, finished_at, surge, reason"

static void
upgrade_row(sqlite3_stmt *st, struct upgrade_summary *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, u->deployment, sizeof(u->deployment));
	copy_col(st, 2, u->from_version, sizeof(u->from_version));
	copy_col(st, 3, u->to_version, sizeof(u->to_version));
	copy_col(st, 4, u->state, sizeof(u->state));
	copy_col(st, 5, u->phase, sizeof(u->phase));
	u->created_at = sqlite3_column_int64(st, 6);
	u->finished_at = sqlite3_column_int64(st, 7);
	u->surge = sqlite3_column_int(st, 8);
	copy_col(st, 9, u->reason, sizeof(u->reason));
}

static sqlite3_stmt *
prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("store: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* At most one row: 1 with *u filled, 0 if none, -1 on error. */
static int
one_upgrade(struct store *s, sqlite3_stmt *st, struct upgrade_summary *u)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		upgrade_row(st, u);
	else if (rc != SQLITE_DONE)
		log_warnx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_latest_upgrade(struct store *s, struct upgrade_summary *u)
{
	sqlite3_stmt *st = prepare(s, "SELECT " UPGRADE_COLUMNS " FROM upgrade "
	    "ORDER BY id DESC LIMIT 1");

	return st == NULL ? -1 : one_upgrade(s, st, u);
}

int
store_upgrade(struct store *s, int64_t id, struct upgrade_summary *u)
{
	sqlite3_stmt *st = prepare(s, "SELECT " UPGRADE_COLUMNS " FROM upgrade "
	    "WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return one_upgrade(s, st, u);
}

int
store_history(struct store *s, int limit, store_upgrade_cb cb, void *arg)
{
	sqlite3_stmt *st = prepare(s, "SELECT " UPGRADE_COLUMNS " FROM upgrade "
	    "ORDER BY id DESC LIMIT ?1");
	struct upgrade_summary u;
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		upgrade_row(st, &u);
		n++;
		if (cb(&u, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		log_warnx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

static const char *
col_or_null(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

int
store_events(struct store *s, int64_t upgrade_id, int64_t since, int limit,
    store_event_cb cb, void *arg)
{
	sqlite3_stmt *st = prepare(s, "SELECT id, upgrade_id, at, level, phase, node, "
	    "message, data FROM event WHERE upgrade_id = ?1 AND id > ?2 ORDER BY id "
	    "LIMIT ?3");
	struct store_event ev;
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, upgrade_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ev.id = sqlite3_column_int64(st, 0);
		ev.upgrade_id = sqlite3_column_int64(st, 1);
		ev.at = sqlite3_column_int64(st, 2);
		ev.level = col_or_null(st, 3);
		ev.phase = col_or_null(st, 4);
		ev.node = col_or_null(st, 5);
		ev.message = col_or_null(st, 6);
		ev.data = col_or_null(st, 7);
		if (ev.level == NULL)
			ev.level = "info";
		if (ev.message == NULL)
			ev.message = "";
		n++;
		if (cb(&ev, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		log_warnx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

/* --- the engine's writes (store.h) --------------------------------------------- */

static int
exec_sql(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_warnx("store: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

int
store_begin(struct store *s)
{
	return exec_sql(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	if (exec_sql(s, "COMMIT") == 0)
		return 0;
	store_rollback(s);
	return -1;
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A write joins the caller's transaction, or is one on its own. */
static int
tx_enter(struct store *s, int *own)
{
	*own = sqlite3_get_autocommit(s->db);
	return *own ? store_begin(s) : 0;
}

static int
tx_leave(struct store *s, int own, int rc)
{
	if (!own)
		return rc;
	if (rc < 0) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s) == 0 ? rc : -1;
}

/* Steps a statement that returns no row; finalizes it. */
static int
step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		log_warnx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_int(sqlite3_stmt *st, int i, int64_t v, int64_t null)
{
	if (v == null)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int64_t
col_int(sqlite3_stmt *st, int col, int64_t null)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? null :
	    sqlite3_column_int64(st, col);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
store_upgrade_create(struct store *s, struct store_upgrade *u)
{
	static const char sql[] = "INSERT INTO upgrade (deployment, from_version, "
	    "to_version, surge, state, phase, facts, created_at, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int own, rc;

	if (tx_enter(s, &own) == -1)
		return -1;
	if ((st = prepare(s, sql)) == NULL)
		return tx_leave(s, own, -1);
	u->created_at = u->updated_at = now_ms();
	sqlite3_bind_text(st, 1, u->deployment, -1, SQLITE_TRANSIENT);
	bind_text(st, 2, u->from_version);
	sqlite3_bind_text(st, 3, u->to_version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, u->surge);
	sqlite3_bind_text(st, 5, u->state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, u->phase, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, u->facts ? u->facts : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, u->created_at);
	sqlite3_bind_int64(st, 9, u->updated_at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return tx_leave(s, own, -2);
	if (rc != SQLITE_DONE) {
		log_warnx("store: %s", sqlite3_errmsg(s->db));
		return tx_leave(s, own, -1);
	}
	u->id = sqlite3_last_insert_rowid(s->db);
	return tx_leave(s, own, 0);
}

static int
save_row(struct store *s, const struct store_upgrade *u)
{
	static const char sql[] = "UPDATE upgrade SET from_version = ?, state = ?, "
	    "phase = ?, reason = ?, original_min = ?, original_max = ?, "
	    "original_desired = ?, facts = ?, budget_ms = ?, budget_marker = ?, "
	    "updated_at = ?, finished_at = ? WHERE id = ?";
	sqlite3_stmt *st;

	if ((st = prepare(s, sql)) == NULL)
		return -1;
	bind_text(st, 1, u->from_version);
	sqlite3_bind_text(st, 2, u->state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, u->phase, -1, SQLITE_TRANSIENT);
	bind_text(st, 4, u->reason);
	bind_int(st, 5, u->orig_min, -1);
	bind_int(st, 6, u->orig_max, -1);
	bind_int(st, 7, u->orig_desired, -1);
	sqlite3_bind_text(st, 8, u->facts ? u->facts : "{}", -1, SQLITE_TRANSIENT);
	bind_int(st, 9, u->budget_ms, -1);
	bind_text(st, 10, u->budget_marker);
	sqlite3_bind_int64(st, 11, now_ms());
	bind_int(st, 12, u->finished_at, 0);
	sqlite3_bind_int64(st, 13, u->id);
	if (step_done(s, st) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : -1;
}

static int
save_node(struct store *s, int64_t id, const struct store_node *n, int64_t at)
{
	static const char sql[] = "INSERT INTO upgrade_node (upgrade_id, instance_id, "
	    "private_ip, role, version, was_protected, state, drain, updated_at, ord, "
	    "purpose, prot_req, replaces, replaced_by, retries, activity_id, reverse_born) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;

	if ((st = prepare(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, n->instance_id, -1, SQLITE_TRANSIENT);
	bind_text(st, 3, n->private_ip);
	sqlite3_bind_text(st, 4, n->role, -1, SQLITE_TRANSIENT);
	bind_text(st, 5, n->version);
	sqlite3_bind_int(st, 6, n->was_protected != 0);
	sqlite3_bind_text(st, 7, n->state, -1, SQLITE_TRANSIENT);
	bind_text(st, 8, n->drain);
	sqlite3_bind_int64(st, 9, at);
	sqlite3_bind_int(st, 10, n->ord);
	sqlite3_bind_text(st, 11, n->purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 12, n->prot_req, -1, SQLITE_TRANSIENT);
	bind_text(st, 13, n->replaces);
	bind_text(st, 14, n->replaced_by);
	sqlite3_bind_int(st, 15, n->retries);
	bind_text(st, 16, n->activity_id);
	sqlite3_bind_int(st, 17, n->reverse_born != 0);
	return step_done(s, st);
}

int
store_upgrade_save(struct store *s, const struct store_upgrade *u,
    const struct store_node *nodes, size_t n)
{
	sqlite3_stmt *st;
	int64_t at = now_ms();
	int own, rc = 0;

	if (tx_enter(s, &own) == -1)
		return -1;
	if (save_row(s, u) == -1 || (st = prepare(s, "DELETE FROM upgrade_node WHERE "
	    "upgrade_id = ?")) == NULL)
		return tx_leave(s, own, -1);
	sqlite3_bind_int64(st, 1, u->id);
	rc = step_done(s, st);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = save_node(s, u->id, &nodes[i], at);
	return tx_leave(s, own, rc);
}

static void
read_row(sqlite3_stmt *st, struct store_upgrade *u)
{
	const unsigned char *facts;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, u->deployment, sizeof(u->deployment));
	copy_col(st, 2, u->from_version, sizeof(u->from_version));
	copy_col(st, 3, u->to_version, sizeof(u->to_version));
	u->surge = sqlite3_column_int(st, 4);
	copy_col(st, 5, u->state, sizeof(u->state));
	copy_col(st, 6, u->phase, sizeof(u->phase));
	copy_col(st, 7, u->reason, sizeof(u->reason));
	u->orig_min = (int)col_int(st, 8, -1);
	u->orig_max = (int)col_int(st, 9, -1);
	u->orig_desired = (int)col_int(st, 10, -1);
	u->budget_ms = col_int(st, 12, -1);
	copy_col(st, 13, u->budget_marker, sizeof(u->budget_marker));
	u->created_at = sqlite3_column_int64(st, 14);
	u->updated_at = sqlite3_column_int64(st, 15);
	u->finished_at = col_int(st, 16, 0);
	facts = sqlite3_column_text(st, 11);
	u->facts = strdup(facts ? (const char *)facts : "{}");
}

static void
read_node(sqlite3_stmt *st, struct store_node *n)
{
	memset(n, 0, sizeof(*n));
	copy_col(st, 0, n->instance_id, sizeof(n->instance_id));
	copy_col(st, 1, n->private_ip, sizeof(n->private_ip));
	copy_col(st, 2, n->role, sizeof(n->role));
	copy_col(st, 3, n->version, sizeof(n->version));
	n->was_protected = sqlite3_column_int(st, 4);
	copy_col(st, 5, n->state, sizeof(n->state));
	copy_col(st, 6, n->drain, sizeof(n->drain));
	n->ord = sqlite3_column_int(st, 7);
	copy_col(st, 8, n->purpose, sizeof(n->purpose));
	copy_col(st, 9, n->prot_req, sizeof(n->prot_req));
	copy_col(st, 10, n->replaces, sizeof(n->replaces));
	copy_col(st, 11, n->replaced_by, sizeof(n->replaced_by));
	n->retries = sqlite3_column_int(st, 12);
	copy_col(st, 13, n->activity_id, sizeof(n->activity_id));
	n->reverse_born = sqlite3_column_int(st, 14);
}

static int
get_nodes(struct store *s, int64_t id, struct store_node **nodes, size_t *n)
{
	static const char sql[] = "SELECT instance_id, private_ip, role, version, "
	    "was_protected, state, drain, ord, purpose, prot_req, replaces, replaced_by, "
	    "retries, activity_id, reverse_born FROM upgrade_node WHERE upgrade_id = ? "
	    "ORDER BY ord";
	struct store_node *v = NULL, *p;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*nodes = NULL;
	*n = 0;
	if ((st = prepare(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = p;
		}
		read_node(st, &v[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return -1;
	}
	*nodes = v;
	return 0;
}

int
store_upgrade_get(struct store *s, int64_t id, struct store_upgrade *u,
    struct store_node **nodes, size_t *n)
{
	static const char sql[] = "SELECT id, deployment, from_version, to_version, "
	    "surge, state, phase, reason, original_min, original_max, original_desired, "
	    "facts, budget_ms, budget_marker, created_at, updated_at, finished_at "
	    "FROM upgrade WHERE id = ?";
	sqlite3_stmt *st;
	int rc;

	if ((st = prepare(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, u);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW || u->facts == NULL)
		return -1;
	if (get_nodes(s, id, nodes, n) == -1) {
		free(u->facts);
		u->facts = NULL;
		return -1;
	}
	return 1;
}

/* 1 with the first column of the first row as *v, 0 if no row, -1. */
static int
query_id(struct store *s, const char *sql, const char *arg, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = prepare(s, sql)) == NULL)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_upgrade_unfinished(struct store *s, int64_t *id)
{
	return query_id(s, "SELECT id FROM upgrade WHERE finished_at IS NULL ORDER BY id "
	    "DESC LIMIT 1", NULL, id);
}

int
store_upgrade_latest(struct store *s, const char *deployment, int64_t *id)
{
	if (deployment == NULL)
		return query_id(s, "SELECT id FROM upgrade ORDER BY id DESC LIMIT 1", NULL,
		    id);
	return query_id(s, "SELECT id FROM upgrade WHERE deployment = ? ORDER BY id DESC "
	    "LIMIT 1", deployment, id);
}

int
store_journal_intent(struct store *s, int64_t upgrade, const char *action,
    const char *target, const char *token, const char *params, int64_t at)
{
	static const char sql[] = "INSERT INTO journal (upgrade_id, action, target, "
	    "token, intent_at, params) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int own;

	if (tx_enter(s, &own) == -1)
		return -1;
	if ((st = prepare(s, sql)) == NULL)
		return tx_leave(s, own, -1);
	sqlite3_bind_int64(st, 1, upgrade);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_TRANSIENT);
	bind_text(st, 3, target);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, at);
	bind_text(st, 6, params);
	return tx_leave(s, own, step_done(s, st));
}

int
store_journal_outcome(struct store *s, const char *token, const char *outcome,
    const char *detail, int64_t at)
{
	static const char sql[] = "UPDATE journal SET outcome = ?, outcome_detail = ?, "
	    "outcome_at = ? WHERE token = ?";
	sqlite3_stmt *st;
	int own, rc;

	if (tx_enter(s, &own) == -1)
		return -1;
	if ((st = prepare(s, sql)) == NULL)
		return tx_leave(s, own, -1);
	sqlite3_bind_text(st, 1, outcome, -1, SQLITE_TRANSIENT);
	bind_text(st, 2, detail);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_TRANSIENT);
	rc = step_done(s, st);
	if (rc == 0 && sqlite3_changes(s->db) != 1) {
		log_warnx("store: no journal intent carries token %s", token);
		rc = -1;
	}
	return tx_leave(s, own, rc);
}

int
store_journal_intent_at(struct store *s, const char *token, int64_t *at)
{
	return query_id(s, "SELECT intent_at FROM journal WHERE token = ?", token, at);
}

int
store_journal_last_done(struct store *s, int64_t upgrade, const char *action,
    const char *instance, int64_t *at)
{
	static const char sql[] = "SELECT outcome_at FROM journal WHERE upgrade_id = ? "
	    "AND action = ? AND outcome = 'done' AND instr(',' || target || ',', "
	    "',' || ? || ',') > 0 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if ((st = prepare(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, upgrade);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, instance, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*at = col_int(st, 0, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int64_t
store_event_append(struct store *s, const struct store_event *e)
{
	static const char sql[] = "INSERT INTO event (upgrade_id, at, level, phase, node, "
	    "message, data) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int own, rc;

	if (tx_enter(s, &own) == -1)
		return -1;
	if ((st = prepare(s, sql)) == NULL)
		return tx_leave(s, own, -1);
	bind_int(st, 1, e->upgrade_id, 0);
	sqlite3_bind_int64(st, 2, e->at);
	sqlite3_bind_text(st, 3, e->level, -1, SQLITE_TRANSIENT);
	bind_text(st, 4, e->phase);
	bind_text(st, 5, e->node);
	sqlite3_bind_text(st, 6, e->message, -1, SQLITE_TRANSIENT);
	bind_text(st, 7, e->data);
	rc = step_done(s, st);
	if (tx_leave(s, own, rc) == -1)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}
