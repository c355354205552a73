/* The SQLite store: creation, migrations, and refusal of databases it must not touch. */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/embedded.h"
#include "daemon/store.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

static char *dir;
static char path[512];

static void
setup(void)
{
	dir = test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
}

static void
teardown(void)
{
	test_rmtree(dir);
	free(dir);
}

/* Runs SQL on the file behind the store's back, as another program could. */
static void
raw_exec(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int
raw_int(const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int v;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct store *
open_ok(void)
{
	char err[256] = "";
	struct store *s = store_open(path, err, sizeof(err));

	ck_assert_msg(s != NULL, "store_open: %s", err);
	return s;
}

static void
open_fails(const char *reason)
{
	char err[256] = "";

	ck_assert_ptr_null(store_open(path, err, sizeof(err)));
	ck_assert_msg(strstr(err, reason) != NULL, "error '%s' lacks '%s'", err, reason);
}

START_TEST(creates_and_migrates)
{
	struct store *s = open_ok();

	ck_assert_int_eq(store_schema_version(s), embedded_nmigrations);
	store_close(s);
	ck_assert_int_eq(raw_int("PRAGMA application_id"), STORE_APPLICATION_ID);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), embedded_nmigrations);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE name IN "
	    "('upgrade', 'upgrade_node', 'journal', 'event')"), 4);
	/* WAL is a property of the file: it persists. */
	ck_assert_int_eq(raw_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	/* Opening again applies nothing twice. */
	s = open_ok();
	ck_assert_int_eq(store_schema_version(s), embedded_nmigrations);
	store_close(s);
}
END_TEST

START_TEST(refuses_newer_schema)
{
	char sql[64];

	store_close(open_ok());
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", embedded_nmigrations + 1);
	raw_exec(sql);
	open_fails("newer than");
}
END_TEST

START_TEST(refuses_foreign_database)
{
	raw_exec("CREATE TABLE t (x)");
	open_fails("not a bbupgraded database");
}
END_TEST

START_TEST(refuses_non_database)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	char junk[4096];

	memset(junk, 'z', sizeof(junk));
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (int)sizeof(junk));
	close(fd);
	open_fails("not");
}
END_TEST

START_TEST(refuses_damaged_database)
{
	struct store *s = open_ok();
	char junk[1024];
	int fd;

	store_close(s);
	raw_exec("PRAGMA journal_mode=DELETE; CREATE TABLE filler (x); "
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
	    "INSERT INTO filler SELECT randomblob(100) FROM n");
	/* Overwrite the cell pointers of a page of filler (pages 2-10 hold the schema). */
	memset(junk, 0x7f, sizeof(junk));
	ck_assert_int_ne(fd = open(path, O_WRONLY), -1);
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 4096 * 19 + 8), (int)sizeof(junk));
	close(fd);
	{
		char err[256] = "";
		ck_assert_ptr_null(store_open(path, err, sizeof(err)));
		ck_assert_msg(strstr(err, "quick_check") || strstr(err, "malformed"),
		    "unexpected error: %s", err);
	}
}
END_TEST

START_TEST(latest_upgrade)
{
	struct upgrade_summary u;
	struct store *s = open_ok();

	ck_assert_int_eq(store_latest_upgrade(s, &u), 0);
	raw_exec("INSERT INTO upgrade (deployment, from_version, to_version, surge, state, "
	    "phase, created_at, updated_at, finished_at) VALUES ('prod', '7.9.0', '7.9.3', 1, "
	    "'done', 'done', 1000, 2000, 3000)");
	raw_exec("INSERT INTO upgrade (deployment, to_version, surge, state, phase, "
	    "created_at, updated_at) VALUES ('prod', '7.9.4', 1, 'running', 'preflight', "
	    "4000, 4000)");
	ck_assert_int_eq(store_latest_upgrade(s, &u), 1);
	ck_assert_int_eq(u.id, 2);
	ck_assert_str_eq(u.deployment, "prod");
	ck_assert_str_eq(u.from_version, "");
	ck_assert_str_eq(u.to_version, "7.9.4");
	ck_assert_str_eq(u.state, "running");
	ck_assert_int_eq(u.finished_at, 0);
	store_close(s);
}
END_TEST

/* The schema itself guarantees one unfinished upgrade, whatever the code does. */
START_TEST(one_unfinished_upgrade)
{
	sqlite3 *db;
	static const char ins[] = "INSERT INTO upgrade (deployment, to_version, surge, state, "
	    "phase, created_at, updated_at) VALUES ('p', '7.9.4', 1, 'running', 'x', 1, 1)";

	store_close(open_ok());
	raw_exec(ins);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE upgrade SET finished_at = 2", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_OK);
	/* Types are enforced (STRICT) and the state is one of the known ones. */
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE upgrade SET state = 'bogus'", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE upgrade SET surge = 'x'", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT);
	sqlite3_close(db);
}
END_TEST


static int
collect_upgrade(const struct upgrade_summary *u, void *arg)
{
	int64_t *ids = arg;

	for (int i = 0; i < 8; i++)
		if (ids[i] == 0) {
			ids[i] = u->id;
			break;
		}
	return 0;
}

struct seen_events {
	int64_t		 ids[8];
	int		 n;
	int		 stop_after;	/* 0: never */
	char		 last_message[64];
	bool		 last_phase_null;
};

static int
collect_event(const struct store_event *ev, void *arg)
{
	struct seen_events *se = arg;

	se->ids[se->n++] = ev->id;
	snprintf(se->last_message, sizeof(se->last_message), "%s", ev->message);
	se->last_phase_null = ev->phase == NULL;
	return se->stop_after != 0 && se->n >= se->stop_after;
}

/* The read-only queries of History, Events and Watch. */
START_TEST(history_and_events)
{
	struct store *s = open_ok();
	struct upgrade_summary u;
	struct seen_events se;
	int64_t ids[8] = { 0 };

	ck_assert_int_eq(store_history(s, 10, collect_upgrade, ids), 0);
	ck_assert_int_eq(store_upgrade(s, 1, &u), 0);
	ck_assert_int_eq(store_events(s, 1, 0, 10, collect_event, &se), 0);
	raw_exec("INSERT INTO upgrade (deployment, from_version, to_version, surge, state, "
	    "phase, reason, created_at, updated_at, finished_at) VALUES ('prod', '7.9.0', "
	    "'7.9.3', 2, 'halted', 'surge', 'node i-1 is in ERROR', 1000, 2000, 3000)");
	raw_exec("INSERT INTO upgrade (deployment, to_version, surge, state, phase, "
	    "created_at, updated_at) VALUES ('prod', '7.9.4', 1, 'running', 'preflight', "
	    "4000, 4000)");
	raw_exec("INSERT INTO event (upgrade_id, at, level, phase, node, message) VALUES "
	    "(1, 1, 'info', 'preflight', NULL, 'a'), (2, 2, 'info', 'preflight', NULL, 'b'), "
	    "(1, 3, 'warning', NULL, 'i-1', 'c'), (1, 4, 'error', 'surge', 'i-1', 'd')");
	ck_assert_int_eq(store_history(s, 10, collect_upgrade, ids), 2);
	ck_assert_int_eq(ids[0], 2);	/* newest first */
	ck_assert_int_eq(ids[1], 1);
	memset(ids, 0, sizeof(ids));
	ck_assert_int_eq(store_history(s, 1, collect_upgrade, ids), 1);
	ck_assert_int_eq(store_upgrade(s, 1, &u), 1);
	ck_assert_str_eq(u.state, "halted");
	ck_assert_str_eq(u.reason, "node i-1 is in ERROR");
	ck_assert_int_eq(u.surge, 2);
	ck_assert_int_eq(u.finished_at, 3000);
	ck_assert_int_eq(store_upgrade(s, 3, &u), 0);
	/* Only upgrade 1's, after since, oldest first, at most limit; the walk can stop. */
	memset(&se, 0, sizeof(se));
	ck_assert_int_eq(store_events(s, 1, 0, 10, collect_event, &se), 3);
	ck_assert_int_eq(se.ids[0], 1);
	ck_assert_int_eq(se.ids[1], 3);
	ck_assert_int_eq(se.ids[2], 4);
	memset(&se, 0, sizeof(se));
	ck_assert_int_eq(store_events(s, 1, 1, 1, collect_event, &se), 1);
	ck_assert_int_eq(se.ids[0], 3);
	ck_assert_str_eq(se.last_message, "c");
	ck_assert(se.last_phase_null);
	memset(&se, 0, sizeof(se));
	se.stop_after = 1;
	ck_assert_int_eq(store_events(s, 1, 0, 10, collect_event, &se), 1);
	store_close(s);
}
END_TEST

/* The engine's writes: rows, nodes, journal and events, in and out of transactions. */
START_TEST(engine_writes)
{
	struct store *s = open_ok();
	struct store_upgrade u, got;
	struct store_node n[2], *nodes = NULL;
	struct store_event ev = { 0, 0, 5, "info", "replace", "i-1", "m", "{\"kind\":\"x\"}" };
	size_t nn = 0;
	int64_t id = 0, at = 0;

	memset(&u, 0, sizeof(u));
	snprintf(u.deployment, sizeof(u.deployment), "prod");
	snprintf(u.to_version, sizeof(u.to_version), "7.9.4");
	u.surge = 1;
	snprintf(u.state, sizeof(u.state), "running");
	snprintf(u.phase, sizeof(u.phase), "preflight");
	ck_assert_int_eq(store_upgrade_create(s, &u), 0);
	ck_assert_int_eq(u.id, 1);
	ck_assert_int_eq(store_upgrade_create(s, &u), -2);	/* one unfinished */
	ck_assert_int_eq(store_upgrade_unfinished(s, &id), 1);
	ck_assert_int_eq(id, 1);
	memset(n, 0, sizeof(n));
	for (int i = 0; i < 2; i++) {
		snprintf(n[i].instance_id, sizeof(n[i].instance_id), "i-%d", i);
		snprintf(n[i].role, sizeof(n[i].role), "original");
		snprintf(n[i].state, sizeof(n[i].state), "live");
		snprintf(n[i].purpose, sizeof(n[i].purpose), "none");
		snprintf(n[i].prot_req, sizeof(n[i].prot_req), "on");
		n[i].ord = i;
	}
	snprintf(n[0].drain, sizeof(n[0].drain), "clean");
	snprintf(n[1].replaces, sizeof(n[1].replaces), "i-0");
	snprintf(u.from_version, sizeof(u.from_version), "7.9.0");
	snprintf(u.phase, sizeof(u.phase), "replace");
	u.orig_min = u.orig_max = u.orig_desired = 2;
	u.budget_ms = 1234;
	snprintf(u.budget_marker, sizeof(u.budget_marker), "draining");
	u.facts = (char *)"{\"seq\": 7}";
	ck_assert_int_eq(store_upgrade_save(s, &u, n, 2), 0);
	ck_assert_int_eq(store_upgrade_get(s, 1, &got, &nodes, &nn), 1);
	ck_assert_str_eq(got.from_version, "7.9.0");
	ck_assert_str_eq(got.phase, "replace");
	ck_assert_int_eq(got.orig_desired, 2);
	ck_assert_int_eq(got.budget_ms, 1234);
	ck_assert_str_eq(got.budget_marker, "draining");
	ck_assert_str_eq(got.facts, "{\"seq\": 7}");
	ck_assert_uint_eq(nn, 2);
	ck_assert_str_eq(nodes[0].drain, "clean");
	ck_assert_str_eq(nodes[1].replaces, "i-0");
	ck_assert_str_eq(nodes[1].prot_req, "on");
	free(got.facts);
	free(nodes);
	ck_assert_int_eq(store_upgrade_get(s, 9, &got, &nodes, &nn), 0);
	/* The journal: an intent, then its outcome; a token is used once. */
	ck_assert_int_eq(store_journal_intent(s, 1, "terminate", "i-0", "bbup-1-7-term",
	    "{}", 100), 0);
	ck_assert_int_eq(store_journal_intent(s, 1, "terminate", "i-0", "bbup-1-7-term",
	    "{}", 101), -1);
	ck_assert_int_eq(store_journal_intent_at(s, "bbup-1-7-term", &at), 1);
	ck_assert_int_eq(at, 100);
	ck_assert_int_eq(store_journal_outcome(s, "bbup-1-7-term", "done", "ok", 200), 0);
	ck_assert_int_eq(store_journal_outcome(s, "bbup-9-9-term", "done", NULL, 200), -1);
	ck_assert_int_eq(store_journal_intent(s, 1, "deregister", "i-0,i-1", "bbup-1-8-dereg",
	    NULL, 300), 0);
	ck_assert_int_eq(store_journal_outcome(s, "bbup-1-8-dereg", "done", NULL, 400), 0);
	ck_assert_int_eq(store_journal_last_done(s, 1, "deregister", "i-1", &at), 1);
	ck_assert_int_eq(at, 400);
	ck_assert_int_eq(store_journal_last_done(s, 1, "deregister", "i-", &at), 0);
	/* Events: in a transaction that rolls back, nothing; committed, there. */
	ev.upgrade_id = 1;
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_gt(store_event_append(s, &ev), 0);
	store_rollback(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM event"), 0);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_event_append(s, &ev), 1);
	ck_assert_int_eq(store_commit(s), 0);
	ck_assert_int_eq(store_event_append(s, &ev), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM event WHERE upgrade_id = 1"), 2);
	/* Finished: no longer the unfinished one, still the latest. */
	u.finished_at = 5000;
	ck_assert_int_eq(store_upgrade_save(s, &u, n, 2), 0);
	ck_assert_int_eq(store_upgrade_unfinished(s, &id), 0);
	ck_assert_int_eq(store_upgrade_latest(s, "prod", &id), 1);
	ck_assert_int_eq(store_upgrade_latest(s, "other", &id), 0);
	store_close(s);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, creates_and_migrates);
	tcase_add_test(tc, refuses_newer_schema);
	tcase_add_test(tc, refuses_foreign_database);
	tcase_add_test(tc, refuses_non_database);
	tcase_add_test(tc, refuses_damaged_database);
	tcase_add_test(tc, latest_upgrade);
	tcase_add_test(tc, one_unfinished_upgrade);
	tcase_add_test(tc, history_and_events);
	tcase_add_test(tc, engine_writes);
	suite_add_tcase(s, tc);
	return s;
}
