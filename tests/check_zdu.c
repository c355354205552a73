/* Parsing of Bitbucket's ZDU answers: the documented shapes, nulls, and hostile bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/zdu.h"
#include "tests/suites_decl.h"

static int
parse(const char *body, struct zdu_cluster *c, char *err, size_t errlen)
{
	return zdu_parse_cluster(body, strlen(body), c, err, errlen);
}

static void
expect_error(const char *body, const char *reason)
{
	struct zdu_cluster c;
	char err[256] = "";

	ck_assert_msg(parse(body, &c, err, sizeof(err)) == -1, "accepted: %.80s", body);
	ck_assert_msg(strstr(err, reason) != NULL, "'%s' lacks '%s'", err, reason);
	ck_assert_ptr_null(c.nodes);
}

START_TEST(cluster_documented_shape)
{
	static const char body[] =
	    "{\"upgradeModeEnabled\":true,\"state\":\"MIXED\",\"originalVersion\":\"7.9.0\","
	    "\"hasFinalizationTasks\":false,\"links\":[{\"rel\":\"self\",\"href\":\"x\"}],"
	    "\"nodes\":["
	    "{\"id\":\"7a52c813\",\"name\":\"node-1\",\"ipAddress\":\"10.0.0.1\","
	    "\"buildNumber\":\"7009004\",\"version\":\"7.9.4\",\"state\":\"ACTIVE\","
	    "\"tasksTotal\":5,\"activeUserCount\":12,\"local\":true,\"portNumber\":5701},"
	    "{\"id\":\"b1\",\"name\":\"node-2\",\"ipAddress\":\"10.0.0.2\",\"version\":null,"
	    "\"state\":null,\"tasksTotal\":null,\"activeUserCount\":null,\"local\":false},"
	    "{\"id\":\"c1\",\"name\":\"node-3\",\"ipAddress\":\"10.0.0.3\",\"state\":\"OFFLINE\"},"
	    "{\"id\":\"d1\",\"name\":\"node-4\",\"ipAddress\":\"10.0.0.4\",\"state\":\"DEGRADED\","
	    "\"version\":\"7.9.0\"}]}";
	struct zdu_cluster c;
	char err[256];

	ck_assert_msg(parse(body, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(c.upgrade_mode);
	ck_assert_int_eq(c.state, ZDU_MIXED);
	ck_assert_str_eq(c.original_version, "7.9.0");
	ck_assert_uint_eq(c.nnodes, 4);
	ck_assert_str_eq(c.nodes[0].ip, "10.0.0.1");
	ck_assert_int_eq(c.nodes[0].state, ZDU_NODE_ACTIVE);
	ck_assert_str_eq(c.nodes[0].version, "7.9.4");
	ck_assert_int_eq(c.nodes[0].tasks_total, 5);
	ck_assert_int_eq(c.nodes[0].active_users, 12);
	ck_assert(c.nodes[0].local);
	/* Unreachable: nulls everywhere, and null is not zero ("missing data is not idle"). */
	ck_assert_int_eq(c.nodes[1].state, ZDU_NODE_UNREACHABLE);
	ck_assert_str_eq(c.nodes[1].version, "");
	ck_assert_int_eq(c.nodes[1].tasks_total, ZDU_NULL);
	ck_assert_int_eq(c.nodes[1].active_users, ZDU_NULL);
	ck_assert_int_eq(c.nodes[2].state, ZDU_NODE_OFFLINE);
	ck_assert_int_eq(c.nodes[3].state, ZDU_NODE_UNKNOWN);
	/* OFFLINE snapshot entries never map to an instance. */
	ck_assert_ptr_eq(zdu_node_by_ip(&c, "10.0.0.1"), &c.nodes[0]);
	ck_assert_ptr_null(zdu_node_by_ip(&c, "10.0.0.3"));
	ck_assert_ptr_null(zdu_node_by_ip(&c, "10.0.0.9"));
	zdu_cluster_free(&c);
}
END_TEST

START_TEST(cluster_states)
{
	static const char *names[] = { "STABLE", "READY_TO_UPGRADE", "MIXED",
	    "READY_TO_RUN_UPGRADE_TASKS", "RUNNING_UPGRADE_TASKS", "UPGRADE_TASKS_FAILED" };
	struct zdu_cluster c;
	char body[256], err[128];

	for (int i = 0; i < 6; i++) {
		snprintf(body, sizeof(body), "{\"upgradeModeEnabled\":false,\"state\":\"%s\","
		    "\"nodes\":[]}", names[i]);
		ck_assert_int_eq(parse(body, &c, err, sizeof(err)), 0);
		ck_assert_int_eq(c.state, i);
		ck_assert_str_eq(zdu_cluster_state_name(c.state), names[i]);
		ck_assert_str_eq(c.original_version, "");
		zdu_cluster_free(&c);
	}
	/* A state from a newer Bitbucket is reported as unknown, with its name kept. */
	ck_assert_int_eq(parse("{\"upgradeModeEnabled\":true,\"state\":\"PAUSED\","
	    "\"nodes\":[]}", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.state, ZDU_CLUSTER_UNKNOWN);
	ck_assert_str_eq(c.state_name, "PAUSED");
	zdu_cluster_free(&c);
}
END_TEST

START_TEST(cluster_hostile)
{
	char *big;

	expect_error("", "not JSON");
	expect_error("{", "not JSON");
	expect_error("[]", "upgradeModeEnabled");
	expect_error("{\"state\":\"STABLE\",\"nodes\":[]}", "upgradeModeEnabled");
	expect_error("{\"upgradeModeEnabled\":\"yes\",\"nodes\":[]}", "upgradeModeEnabled");
	expect_error("{\"upgradeModeEnabled\":true,\"state\":\"STABLE\"}", "\"nodes\"");
	expect_error("{\"upgradeModeEnabled\":true,\"nodes\":{}}", "\"nodes\"");
	expect_error("{\"upgradeModeEnabled\":true,\"nodes\":[1]}", "not an object");
	expect_error("{\"upgradeModeEnabled\":true,\"nodes\":[{\"id\":\"x\"}]}", "ipAddress");
	expect_error("{\"upgradeModeEnabled\":true,\"state\":5,\"nodes\":[]}", "\"state\"");
	expect_error("{\"upgradeModeEnabled\":true,\"nodes\":[{\"ipAddress\":\"1\","
	    "\"tasksTotal\":-3}]}", "tasksTotal");
	expect_error("{\"upgradeModeEnabled\":true,\"nodes\":[{\"ipAddress\":\"1\","
	    "\"activeUserCount\":\"many\"}]}", "activeUserCount");
	expect_error("{\"upgradeModeEnabled\":true,\"upgradeModeEnabled\":false,"
	    "\"nodes\":[]}", "not JSON");
	/* Oversized strings are refused, not truncated into a wrong IP. */
	big = malloc(4096);
	size_t off = (size_t)sprintf(big, "{\"upgradeModeEnabled\":true,\"nodes\":"
	    "[{\"ipAddress\":\"");
	memset(big + off, '9', 200);
	strcpy(big + off + 200, "\"}]}");
	expect_error(big, "ipAddress");
	free(big);
	/* Too many nodes. */
	{
		size_t cap = 64 + 1100 * 20, n = 0;
		char *s = malloc(cap);
		n += (size_t)sprintf(s, "{\"upgradeModeEnabled\":true,\"nodes\":[");
		for (int i = 0; i < 1100; i++)
			n += (size_t)sprintf(s + n, "%s{\"ipAddress\":\"a\"}", i ? "," : "");
		strcpy(s + n, "]}");
		expect_error(s, "more than");
		free(s);
	}
}
END_TEST

START_TEST(health)
{
	ck_assert_int_eq(zdu_parse_health(200, "{\"state\":\"RUNNING\"}", 19), ZDU_HEALTH_RUNNING);
	ck_assert_int_eq(zdu_parse_health(503, "{\"state\":\"STARTING\"}", 20), ZDU_HEALTH_STARTING);
	ck_assert_int_eq(zdu_parse_health(200, "{\"state\":\"MAINTENANCE\"}", 23), ZDU_HEALTH_OTHER);
	ck_assert_int_eq(zdu_parse_health(200, "{\"state\":\"FIRST_RUN\"}", 21), ZDU_HEALTH_OTHER);
	ck_assert_int_eq(zdu_parse_health(500, "{\"state\":\"RUNNING\"}", 19), ZDU_HEALTH_DOWN);
	ck_assert_int_eq(zdu_parse_health(200, "", 0), ZDU_HEALTH_DOWN);
	ck_assert_int_eq(zdu_parse_health(200, NULL, 0), ZDU_HEALTH_DOWN);
	ck_assert_int_eq(zdu_parse_health(200, "<html>", 6), ZDU_HEALTH_DOWN);
	ck_assert_int_eq(zdu_parse_health(200, "{\"state\":7}", 11), ZDU_HEALTH_DOWN);
}
END_TEST

Suite *
zdu_suite(void)
{
	Suite *s = suite_create("zdu");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, cluster_documented_shape);
	tcase_add_test(tc, cluster_states);
	tcase_add_test(tc, cluster_hostile);
	tcase_add_test(tc, health);
	suite_add_tcase(s, tc);
	return s;
}
