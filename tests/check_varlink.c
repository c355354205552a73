/* The control protocol's framing and message checks, fed hostile input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/varlink.h"
#include "tests/suites_decl.h"

static json_t *
parse(const char *s)
{
	char why[256];

	return vl_parse(s, strlen(s), why, sizeof(why));
}

static void
expect_reject(const char *s, const char *reason)
{
	char why[256] = "";
	json_t *j = vl_parse(s, strlen(s), why, sizeof(why));

	ck_assert_msg(j == NULL, "accepted: %s", s);
	ck_assert_msg(strstr(why, reason) != NULL, "%s: why '%s' lacks '%s'", s, why, reason);
}

START_TEST(reader_splits_messages)
{
	struct vl_reader r;
	const char *msg;
	size_t len;

	vl_reader_init(&r, 64);
	ck_assert_int_eq(vl_reader_feed(&r, "{\"a\":1}\0{\"b\"", 12), 0);
	ck_assert_int_eq(vl_reader_next(&r, &msg, &len), 1);
	ck_assert_str_eq(msg, "{\"a\":1}");
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(vl_reader_next(&r, &msg, &len), 0);
	ck_assert_uint_eq(vl_reader_pending(&r), 4);
	ck_assert_int_eq(vl_reader_feed(&r, ":2}\0", 4), 0);
	ck_assert_int_eq(vl_reader_next(&r, &msg, &len), 1);
	ck_assert_str_eq(msg, "{\"b\":2}");
	ck_assert_int_eq(vl_reader_next(&r, &msg, &len), 0);
	ck_assert_uint_eq(vl_reader_pending(&r), 0);
	vl_reader_free(&r);
}
END_TEST

START_TEST(reader_one_byte_at_a_time)
{
	static const char in[] = "{\"method\":\"x\"}\0{}\0";
	struct vl_reader r;
	const char *msg;
	size_t len;
	int got = 0;

	vl_reader_init(&r, 64);
	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		ck_assert_int_eq(vl_reader_feed(&r, in + i, 1), 0);
		while (vl_reader_next(&r, &msg, &len) == 1)
			got++;
	}
	ck_assert_int_eq(got, 2);
	vl_reader_free(&r);
}
END_TEST

START_TEST(reader_limit)
{
	struct vl_reader r;
	char big[100];
	const char *msg;
	size_t len;

	memset(big, 'x', sizeof(big));
	vl_reader_init(&r, 64);
	/* Exactly the limit is fine, one more byte without a NUL is not. */
	ck_assert_int_eq(vl_reader_feed(&r, big, 64), 0);
	ck_assert_int_eq(vl_reader_feed(&r, big, 1), -1);
	ck_assert_int_eq(vl_reader_feed(&r, "\0", 1), 0);
	ck_assert_int_eq(vl_reader_next(&r, &msg, &len), 1);
	ck_assert_uint_eq(len, 64);
	/* Many complete messages in one feed do not add up against the limit. */
	{
		char many[1000];
		for (size_t i = 0; i < sizeof(many); i++)
			many[i] = i % 10 == 9 ? '\0' : 'y';
		ck_assert_int_eq(vl_reader_feed(&r, many, sizeof(many)), 0);
		int n = 0;
		while (vl_reader_next(&r, &msg, &len) == 1)
			n++;
		ck_assert_int_eq(n, 100);
	}
	vl_reader_free(&r);
}
END_TEST

START_TEST(parse_accepts_objects)
{
	json_t *j = parse("{\"method\":\"a.B\",\"parameters\":{\"x\":[1,2,{\"y\":null}]}}");

	ck_assert_ptr_nonnull(j);
	json_decref(j);
}
END_TEST

START_TEST(parse_rejects_hostile)
{
	char *deep;

	expect_reject("", "invalid JSON");
	expect_reject("{", "invalid JSON");
	expect_reject("{\"a\":1", "invalid JSON");
	expect_reject("[1,2]", "must be a JSON object");
	expect_reject("\"str\"", "invalid JSON");
	expect_reject("{\"a\":1,\"a\":2}", "duplicate");
	expect_reject("{\"a\":\"\xff\xfe\"}", "invalid JSON");
	expect_reject("{\"a\":\"\xc3\"}", "invalid JSON");
	expect_reject("{\"a\":1} trailing", "invalid JSON");
	expect_reject("{\"a\":\"\\ud800\"}", "invalid JSON");
	/* 10 000 nested arrays: refused by the depth scan, not by recursion. */
	deep = malloc(20003);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	expect_reject(deep, "nested deeper");
	/* Brackets inside strings do not count as depth. */
	memcpy(deep, "{\"a\":\"", 6);
	memset(deep + 6, '[', 1000);
	memcpy(deep + 1006, "\"}", 3);
	json_t *j = parse(deep);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	free(deep);
}
END_TEST

/* An object holding arrays nested so that the whole message is depth levels deep. */
static char *
nested(int depth)
{
	char *s = malloc(2 * (size_t)depth + 8), *p = s;

	p += sprintf(p, "{\"a\":");
	for (int i = 1; i < depth; i++)
		*p++ = '[';
	for (int i = 1; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

START_TEST(parse_depth_boundary)
{
	char *ok = nested(VL_MAX_DEPTH), *deep = nested(VL_MAX_DEPTH + 1);
	json_t *j;

	ck_assert_ptr_nonnull(j = parse(ok));
	json_decref(j);
	expect_reject(deep, "nested deeper");
	free(ok);
	free(deep);
}
END_TEST

START_TEST(parse_size_limit)
{
	size_t n = VL_MAX_MESSAGE + 1;
	char *big = malloc(n + 1), why[128];

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	ck_assert_ptr_null(vl_parse(big, n, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "exceeds"));
	free(big);
}
END_TEST

static int
call_from(const char *s, struct vl_call *c, char *why, size_t whylen, json_t **owner)
{
	*owner = parse(s);
	ck_assert_ptr_nonnull(*owner);
	return vl_call_from_json(*owner, c, why, whylen);
}

START_TEST(call_shapes)
{
	static const struct { const char *msg; const char *why; } bad[] = {
		{ "{}", "\"method\"" },
		{ "{\"method\":1}", "\"method\"" },
		{ "{\"method\":\"\"}", "\"method\"" },
		{ "{\"method\":\"a.B\",\"parameters\":[]}", "\"parameters\"" },
		{ "{\"method\":\"a.B\",\"parameters\":\"x\"}", "\"parameters\"" },
		{ "{\"method\":\"a.B\",\"more\":1}", "\"more\"" },
		{ "{\"method\":\"a.B\",\"oneway\":\"yes\"}", "\"oneway\"" },
		{ "{\"method\":\"a.B\",\"more\":true,\"oneway\":true}", "cannot be combined" },
		{ "{\"method\":\"a.B\",\"upgrade\":true}", "upgrade" },
	};
	struct vl_call c;
	char why[256];
	json_t *j;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(call_from(bad[i].msg, &c, why, sizeof(why), &j), -1);
		ck_assert_msg(strstr(why, bad[i].why) != NULL, "%s: %s", bad[i].msg, why);
		json_decref(j);
	}
	/* Omitted, null and {} parameters all mean "none"; unknown fields are tolerated. */
	const char *ok[] = { "{\"method\":\"a.B\"}", "{\"method\":\"a.B\",\"parameters\":null}",
	    "{\"method\":\"a.B\",\"parameters\":{},\"future\":1,\"more\":true}" };
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(call_from(ok[i], &c, why, sizeof(why), &j), 0);
		ck_assert_str_eq(c.method, "a.B");
		ck_assert(json_is_object(c.parameters));
		ck_assert_uint_eq(json_object_size(c.parameters), 0);
		ck_assert(c.more == (i == 2));
		json_decref(j);
	}
}
END_TEST

START_TEST(encode_and_build)
{
	json_t *r = vl_reply_new(json_pack("{s:i}", "n", 1), true);
	size_t len;
	char *s = vl_encode(r, &len);

	ck_assert_uint_eq(len, strlen(s) + 1);
	ck_assert_ptr_nonnull(strstr(s, "\"continues\":true"));
	free(s);
	json_decref(r);
	r = vl_error_new(vl_error_name(VLE_METHOD_NOT_FOUND), NULL);
	s = vl_encode(r, &len);
	ck_assert_str_eq(s, "{\"error\":\"org.varlink.service.MethodNotFound\","
	    "\"parameters\":{}}");
	free(s);
	json_decref(r);
}
END_TEST

START_TEST(reply_parse)
{
	char why[128];
	json_t *j;

	j = vl_parse_reply("{\"parameters\":null}", 19, why, sizeof(why));
	ck_assert(json_is_object(json_object_get(j, "parameters")));
	json_decref(j);
	ck_assert_ptr_null(vl_parse_reply("{\"error\":5}", 11, why, sizeof(why)));
	ck_assert_ptr_null(vl_parse_reply("{\"parameters\":1}", 16, why, sizeof(why)));
}
END_TEST

START_TEST(error_table)
{
	for (int e = 0; e < VLE_NERRORS; e++) {
		const struct vl_error_info *i = vl_error_info(e);
		ck_assert_ptr_nonnull(i->name);
		ck_assert_ptr_nonnull(i->message);
		ck_assert_ptr_eq(vl_error_lookup(i->name), i);
		/* A message uses %s exactly when the error has a parameter. */
		ck_assert_int_eq(strstr(i->message, "%s") != NULL, i->param != NULL);
	}
	ck_assert_ptr_null(vl_error_lookup("io.bbupgraded.NoSuchThing"));
	ck_assert_ptr_null(vl_error_lookup(NULL));
}
END_TEST

Suite *
varlink_suite(void)
{
	Suite *s = suite_create("varlink");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, reader_splits_messages);
	tcase_add_test(tc, reader_one_byte_at_a_time);
	tcase_add_test(tc, reader_limit);
	tcase_add_test(tc, parse_accepts_objects);
	tcase_add_test(tc, parse_rejects_hostile);
	tcase_add_test(tc, parse_depth_boundary);
	tcase_add_test(tc, parse_size_limit);
	tcase_add_test(tc, call_shapes);
	tcase_add_test(tc, encode_and_build);
	tcase_add_test(tc, reply_parse);
	tcase_add_test(tc, error_table);
	suite_add_tcase(s, tc);
	return s;
}
