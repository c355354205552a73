/* The SQLite store: creation, migrations, and refusal of databases it must not touch. */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
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
	suite_add_tcase(s, tc);
	return s;
}
