/*
 * bbctl's human renderers (client/render.c), the pieces the live watch view and the
 * status are made of: durations, the progress bar, times, event lines, the nodes
 * table, and the sentence that says how an upgrade ended. bbctl's objects are not in
 * the test runner's link, so the file is compiled in here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/render.c"
#include "tests/suites_decl.h"

START_TEST(durations)
{
	char b[32];

	render_duration(b, sizeof(b), 0);
	ck_assert_str_eq(b, "0s");
	render_duration(b, sizeof(b), 75);
	ck_assert_str_eq(b, "1m 15s");
	render_duration(b, sizeof(b), 3661);
	ck_assert_str_eq(b, "1h 1m 1s");
	render_duration(b, sizeof(b), 90061);
	ck_assert_str_eq(b, "1d 1h 1m");
	render_duration(b, sizeof(b), -1);
	ck_assert_str_eq(b, "-");
}
END_TEST

START_TEST(bars_and_times)
{
	char b[64];

	render_bar(b, sizeof(b), 5, 10, 10);
	ck_assert_str_eq(b, "[#####-----]  50%");
	render_bar(b, sizeof(b), 0, 0, 4);
	ck_assert_str_eq(b, "[----]   0%");
	render_bar(b, sizeof(b), 12, 10, 4);	/* more done than planned: full, no overrun */
	ck_assert_str_eq(b, "[####] 120%");
	render_bar(b, 8, 1, 2, 30);		/* no room for the bar */
	ck_assert_str_eq(b, "50%");
	ck_assert_int_eq(render_parse_time("1970-01-01T00:01:00Z"), 60);
	ck_assert_int_eq(render_parse_time("2026-11-29T21:02:15.123Z"), 1795986135);
	ck_assert_int_eq(render_parse_time("yesterday"), -1);
	ck_assert_int_eq(render_parse_time(NULL), -1);
}
END_TEST

START_TEST(event_lines)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "at",
	    "2026-11-29T21:02:15.123Z", "level", "warning", "phase", "replace", "node",
	    "i-0abc", "message", "drain forced");
	char b[256];

	render_event_line(b, sizeof(b), ev);
	ck_assert_str_eq(b, "21:02:15 warning replace    i-0abc: drain forced");
	json_object_set_new(ev, "at", json_integer(60000));	/* ms since the epoch */
	json_object_set_new(ev, "node", json_null());
	json_object_del(ev, "phase");
	render_event_line(b, sizeof(b), ev);
	ck_assert_str_eq(b, "00:01:00 warning -          drain forced");
	json_decref(ev);
	ev = json_object();	/* nothing known: never a crash */
	render_event_line(b, sizeof(b), ev);
	ck_assert_str_eq(b, "--:--:-- -       -          -");
	json_decref(ev);
}
END_TEST

START_TEST(nodes_table)
{
	json_t *nodes = json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f}, {s:s}]",
	    "instance", "i-1", "ip", "10.0.0.1", "role", "original", "step", "draining",
	    "version", "7.9.3", "elb", "draining", "bitbucket", "ACTIVE", "cpu", 12.6,
	    "instance", "i-2");
	json_t *none = json_array();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_nodes(f, nodes, 0, "");
	render_nodes(f, none, 0, "");		/* nothing at all for no nodes */
	render_nodes(f, nodes, 30, "  ");
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "INSTANCE"));
	ck_assert_ptr_nonnull(strstr(buf, "i-1                  10.0.0.1        original    "
	    "draining     7.9.3     draining       ACTIVE      13%\n"));
	ck_assert_ptr_nonnull(strstr(buf, "i-2                  -               -"));
	/* Cut at the width given, for the live view. */
	ck_assert_ptr_nonnull(strstr(buf, "\n  i-1                  10.0.0.\n"));
	free(buf);
	json_decref(nodes);
	json_decref(none);
}
END_TEST

START_TEST(outcomes)
{
	static const struct {
		const char	*state;
		const char	*reason;
		const char	*want;
		const char	*phase;
	} cases[] = {
		{ "done", NULL, "upgrade #3 completed: prod runs 7.9.4", NULL },
		{ "halted", "node i-1 in ERROR", "upgrade #3 halted: node i-1 in ERROR; fix "
		    "the cause and run 'bbctl resume', or 'bbctl rollback'", "replace" },
		{ "halted", "1 problem", "upgrade #3 halted: 1 problem; fix the cause and "
		    "run 'bbctl resume', or 'bbctl cancel' to drop it (nothing has been "
		    "changed)", "preflight" },
		{ "cancelled", NULL, "upgrade #3 was cancelled: prod stays on 7.9.3", NULL },
		{ "rolled_back", NULL, "upgrade #3 was rolled back: prod runs 7.9.3 again",
		    NULL },
		{ "failed", "x", "upgrade #3 failed: x", NULL },
		{ "running", NULL, "upgrade #3 is running", NULL },
	};
	char b[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *u = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:s?}", "id", 3,
		    "deployment", "prod", "from_version", "7.9.3", "to_version", "7.9.4",
		    "state", cases[i].state, "reason", cases[i].reason, "phase",
		    cases[i].phase);

		render_outcome(b, sizeof(b), u);
		ck_assert_str_eq(b, cases[i].want);
		json_decref(u);
	}
}
END_TEST

START_TEST(waiting)
{
	json_t *u = json_pack("{s:s, s:{s:s, s:s, s:i}}", "state", "running", "wait",
	    "kind", "drain", "marker", "i-1: draining", "deadline_s", 120);
	char b[256];

	ck_assert_int_gt(render_waiting(b, sizeof(b), u), 0);
	ck_assert_str_eq(b, "waiting: drain (i-1: draining), deadline in 2m 0s");
	json_object_set_new(json_object_get(u, "wait"), "marker", json_string(""));
	json_object_set_new(json_object_get(u, "wait"), "deadline_s", json_null());
	render_waiting(b, sizeof(b), u);
	ck_assert_str_eq(b, "waiting: drain");
	json_object_set_new(u, "state", json_string("halted"));	/* nothing to wait for */
	ck_assert_int_eq(render_waiting(b, sizeof(b), u), 0);
	ck_assert_str_eq(b, "");
	json_decref(u);
}
END_TEST

Suite *
client_render_suite(void)
{
	Suite *s = suite_create("client_render");
	TCase *tc = tcase_create("human");

	tcase_add_test(tc, durations);
	tcase_add_test(tc, bars_and_times);
	tcase_add_test(tc, event_lines);
	tcase_add_test(tc, nodes_table);
	tcase_add_test(tc, outcomes);
	tcase_add_test(tc, waiting);
	suite_add_tcase(s, tc);
	return s;
}
