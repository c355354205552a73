/*
 * version.c: strict parsing, ordering (pre-releases included) and the rolling-upgrade
 * rule with its explanations.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static struct bb_version
v(const char *s)
{
	struct bb_version ver;

	ck_assert_msg(version_parse(s, &ver) == 0, "'%s' should parse", s);
	return ver;
}

static int
sign(int n)
{
	return (n > 0) - (n < 0);
}

START_TEST(parse_fields)
{
	struct bb_version ver;

	ck_assert_int_eq(version_parse("8.19.0-rc1", &ver), 0);
	ck_assert_uint_eq(ver.major, 8);
	ck_assert_uint_eq(ver.minor, 19);
	ck_assert_uint_eq(ver.patch, 0);
	ck_assert_str_eq(ver.qualifier, "rc1");
	ck_assert_int_eq(version_parse("7.9.4", &ver), 0);
	ck_assert_uint_eq(ver.major, 7);
	ck_assert_uint_eq(ver.minor, 9);
	ck_assert_uint_eq(ver.patch, 4);
	ck_assert_str_eq(ver.qualifier, "");
	ck_assert_int_eq(version_parse("9999.9999.9999", &ver), 0);
	ck_assert_uint_eq(ver.major, 9999);
	ck_assert_uint_eq(ver.patch, 9999);
}
END_TEST

static const char *const valid[] = {
	"0.0.0", "7.9.4", "8.19.0", "8.19.0-rc1", "10.0.0-m3", "7.21.12",
	"9999.9999.9999", "1.2.3-alpha.1", "1.2.3-1.2.3", "1.2.3-RC10",
	"1.2.3-0123456789012345678901234567890" /* 31 characters */,
};

START_TEST(parse_format_roundtrip)
{
	struct bb_version ver;
	char buf[64];

	for (size_t i = 0; i < nitems(valid); i++) {
		ck_assert_msg(version_parse(valid[i], &ver) == 0, "'%s' refused", valid[i]);
		ck_assert_str_eq(version_format(&ver, buf, sizeof(buf)), valid[i]);
	}
}
END_TEST

static const char *const invalid[] = {
	"", "7", "7.9", "7.9.", "7..4", ".9.4", "7.9.4.1", "7.9.4.", "v7.9.4",
	"+7.9.4", "-7.9.4", "7.+9.4", "7.-9.4", "7.9.+4", " 7.9.4", "7.9.4 ",
	"7.9.4\n", "7 .9.4", "7.9 .4", "7.9.4x", "7.9.4-", "7.9.4--rc1",
	"7.9.4-rc-1", "7.9.4-rc_1", "7.9.4-rc 1", "7.9.4+build", "7.9.4-rc1+b",
	"7.9.4-.rc1", "7.9.4-rc1.", "7.9.4-rc..1", "7.9.4-rc1\n",
	"10000.0.0", "0.10000.0", "0.0.10000", "99999999999999999999.0.0",
	"4294967297.0.0", "07.9.4", "7.09.4", "7.9.04", "00.0.0", "0x7.9.4",
	"1.2.3-01234567890123456789012345678901" /* 32 characters */,
	"1.2.3-\xc3\xa9", "\357\273\2777.9.4", "a.b.c", "7.9.4-rc1 ",
};

START_TEST(parse_rejects)
{
	struct bb_version ver, before;

	memset(&before, 0x5a, sizeof(before));
	for (size_t i = 0; i < nitems(invalid); i++) {
		ver = before;
		ck_assert_msg(version_parse(invalid[i], &ver) == -1, "'%s' accepted",
		    invalid[i]);
		ck_assert_msg(memcmp(&ver, &before, sizeof(ver)) == 0,
		    "'%s': output changed on failure", invalid[i]);
	}
	ck_assert_int_eq(version_parse(NULL, &ver), -1);
	ck_assert_int_eq(version_parse("7.9.4", NULL), -1);
}
END_TEST

START_TEST(format_truncates)
{
	struct bb_version ver = v("8.19.0-rc1");
	char buf[6];

	memset(buf, 'x', sizeof(buf));
	ck_assert_ptr_eq(version_format(&ver, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, "8.19.");
	buf[0] = 'x';
	ck_assert_ptr_eq(version_format(&ver, buf, 0), buf);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

/* Each row: a < b. */
static const struct {
	const char	*a, *b;
} ordered[] = {
	{ "7.9.4", "7.9.5" }, { "7.9.9", "7.10.0" }, { "7.99.99", "8.0.0" },
	{ "7.9.4", "7.9.10" }, { "7.10.0", "7.9999.0" },
	{ "7.9.4-rc1", "7.9.4" }, { "7.9.3", "7.9.4-rc1" },
	{ "7.9.4-rc1", "7.9.4-rc2" }, { "7.9.4-rc2", "7.9.4-rc10" },
	{ "7.9.4-rc9", "7.9.4-rc10" }, { "7.9.4-alpha", "7.9.4-beta" },
	{ "7.9.4-beta", "7.9.4-rc1" }, { "7.9.4-m9", "7.9.4-rc1" },
	{ "7.9.4-rc", "7.9.4-rc1" }, { "7.9.4-rc", "7.9.4-rc.1" },
	{ "7.9.4-1", "7.9.4-2" }, { "7.9.4-2", "7.9.4-10" },
	{ "7.9.4-99", "7.9.4-rc" }, { "7.9.4-1", "7.9.4-a" },
	{ "7.9.4-alpha.1", "7.9.4-alpha.2" }, { "7.9.4-alpha.2", "7.9.4-alpha.10" },
	{ "7.9.4-alpha.9", "7.9.4-alpha.beta" }, { "7.9.4-alpha", "7.9.4-alpha.1" },
	{ "7.9.4-beta.2", "7.9.4-beta.11" }, { "7.9.4-RC1", "7.9.4-rc1" },
	{ "7.9.4-rc1", "7.9.4-rc1a" }, { "7.9.4-rc1a", "7.9.4-rc1b" },
	{ "7.9.4-01", "7.9.4-1" }, { "7.9.4-rc01", "7.9.4-rc1" },
	{ "7.9.4-1", "7.9.4-1a" },
	{ "7.9.4-rc1.99999999999999999999", "7.9.4-rc1.100000000000000000000" },
};

START_TEST(cmp_table)
{
	struct bb_version a, b;

	for (size_t i = 0; i < nitems(ordered); i++) {
		a = v(ordered[i].a);
		b = v(ordered[i].b);
		ck_assert_msg(version_cmp(&a, &b) < 0, "%s < %s", ordered[i].a,
		    ordered[i].b);
		ck_assert_msg(version_cmp(&b, &a) > 0, "%s > %s", ordered[i].b,
		    ordered[i].a);
		ck_assert_int_eq(version_cmp(&a, &a), 0);
		ck_assert_int_eq(version_cmp(&b, &b), 0);
	}
}
END_TEST

/* Already sorted: every pair must agree with the positions (a total order). */
static const char *const sorted[] = {
	"7.9.3", "7.9.4-1", "7.9.4-2", "7.9.4-10", "7.9.4-alpha", "7.9.4-alpha.1",
	"7.9.4-alpha.beta", "7.9.4-beta.2", "7.9.4-beta.11", "7.9.4-rc1",
	"7.9.4-rc2", "7.9.4-rc10", "7.9.4", "7.9.5", "7.10.0-rc1", "7.10.0",
	"8.0.0",
};

START_TEST(cmp_total_order)
{
	struct bb_version a, b;

	for (size_t i = 0; i < nitems(sorted); i++) {
		for (size_t j = 0; j < nitems(sorted); j++) {
			a = v(sorted[i]);
			b = v(sorted[j]);
			ck_assert_msg(sign(version_cmp(&a, &b)) == (i > j) - (i < j),
			    "%s vs %s", sorted[i], sorted[j]);
		}
	}
}
END_TEST

static const struct {
	const char	*from, *to;
	int		 ok;
	const char	*words[3];	/* each must appear in why */
} rolling[] = {
	{ "7.9.3", "7.9.4", 1, { NULL } },
	{ "7.9.0", "7.9.12", 1, { NULL } },
	{ "7.9.3", "7.9.4-rc1", 1, { NULL } },
	{ "7.9.3-rc1", "7.9.4", 1, { NULL } },
	{ "8.19.0", "8.19.1", 1, { NULL } },
	{ "7.9.4", "8.0.1", 0, { "7.9.4 -> 8.0.1", "same feature version (7.9.x)",
	    "full-downtime upgrade" } },
	{ "7.9.4", "7.10.0", 0, { "7.9.4 -> 7.10.0", "bug-fix release",
	    "upgrade to 7.10" } },
	{ "7.9.4", "7.9.4", 0, { "7.9.4 -> 7.9.4", "already on 7.9.4", NULL } },
	{ "7.9.4-rc1", "7.9.4-rc1", 0, { "already on 7.9.4-rc1", NULL } },
	{ "7.9.4", "7.9.2", 0, { "7.9.2 is older than 7.9.4",
	    "rolling back a release is not supported", NULL } },
	{ "8.0.1", "7.9.4", 0, { "7.9.4 is older than 8.0.1", "rolling back", NULL } },
	{ "7.9.4", "7.9.4-rc1", 0, { "7.9.4-rc1 is older than 7.9.4", NULL } },
	{ "7.9.4-rc1", "7.9.4", 0, { "7.9.4-rc1 -> 7.9.4", "higher patch number",
	    "7.9.5" } },
	{ "7.9.4-rc1", "7.9.4-rc2", 0, { "only the qualifier differs", "7.9.5",
	    NULL } },
};

START_TEST(rolling_table)
{
	struct bb_version from, to;
	char why[256];

	for (size_t i = 0; i < nitems(rolling); i++) {
		from = v(rolling[i].from);
		to = v(rolling[i].to);
		why[0] = '\0';
		ck_assert_int_eq(version_rolling_ok(&from, &to, why, sizeof(why)),
		    rolling[i].ok ? 0 : -1);
		if (rolling[i].ok) {
			ck_assert_str_eq(why, "");
			continue;
		}
		for (size_t w = 0; w < nitems(rolling[i].words); w++)
			ck_assert_msg(rolling[i].words[w] == NULL ||
			    strstr(why, rolling[i].words[w]) != NULL,
			    "%s -> %s: '%s' lacks '%s'", rolling[i].from, rolling[i].to,
			    why, rolling[i].words[w]);
	}
}
END_TEST

START_TEST(rolling_exact_texts)
{
	struct bb_version a = v("7.9.4"), b = v("8.0.1"), c = v("7.9.2");
	char why[512];

	ck_assert_int_eq(version_rolling_ok(&a, &b, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "7.9.4 -> 8.0.1: a rolling upgrade only moves to a bug-fix "
	    "release of the same feature version (7.9.x); upgrade to 8.0 with a "
	    "full-downtime upgrade instead");
	ck_assert_int_eq(version_rolling_ok(&a, &c, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "7.9.4 -> 7.9.2: 7.9.2 is older than 7.9.4; rolling back a "
	    "release is not supported by Bitbucket's rolling upgrade");
}
END_TEST

START_TEST(rolling_small_buffers)
{
	struct bb_version a = v("7.9.4"), b = v("8.0.1");
	char why[8];

	ck_assert_int_eq(version_rolling_ok(&a, &b, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "7.9.4 -");
	ck_assert_int_eq(version_rolling_ok(&a, &b, NULL, 0), -1);
	ck_assert_int_eq(version_rolling_ok(&a, &a, NULL, 0), -1);
}
END_TEST


Suite *
version_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, parse_fields);
	tcase_add_test(tc, parse_format_roundtrip);
	tcase_add_test(tc, parse_rejects);
	tcase_add_test(tc, format_truncates);
	tcase_add_test(tc, cmp_table);
	tcase_add_test(tc, cmp_total_order);
	tcase_add_test(tc, rolling_table);
	tcase_add_test(tc, rolling_exact_texts);
	tcase_add_test(tc, rolling_small_buffers);
	suite_add_tcase(s, tc);
	return s;
}
