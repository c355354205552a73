/*
 * STS GetCallerIdentity (daemon/aws/sts.c): the builder against botocore's body,
 * the parser on the real shape and on missing or odd fields, and the operation
 * over a fake transport.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/sts.h"
#include "tests/aws_fixtures.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

START_TEST(builder)
{
	struct aws_query	 q;
	char			*want, *got;
	size_t			 wlen, glen;

	ck_assert_int_eq(aws_sts_get_caller_identity_query(&q), 0);
	want = slurp("query/sts-GetCallerIdentity.body", &wlen);
	ck_assert_int_eq(aws_query_encode(&q, &got, &glen), 0);
	ck_assert_uint_eq(glen, wlen);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	aws_query_free(&q);
}
END_TEST

START_TEST(identity)
{
	struct aws_sts_identity	 id;
	char			*body, err[256];
	size_t			 len;
	xmlDoc			*doc;

	body = slurp("responses/sts-GetCallerIdentity.xml", &len);
	doc = doc_of(body, len);
	ck_assert_int_eq(aws_sts_parse_get_caller_identity(aws_xml_result(doc,
	    "GetCallerIdentity"), &id, err, sizeof(err)), 0);
	ck_assert_str_eq(id.account, "123456789012");
	ck_assert_str_eq(id.arn,
	    "arn:aws:sts::123456789012:assumed-role/bbupgraded/i-0123456789abcdef0");
	ck_assert_str_eq(id.user_id, "AROA3XFRBF535PLBIFPI4:i-0123456789abcdef0");
	aws_xml_free(doc);
	free(body);
}
END_TEST

static const struct {
	const char	*body;
	const char	*why;
} odd[] = {
	{ "<Arn>a</Arn><UserId>u</UserId>", "missing Account" },
	{ "<Account></Account><Arn>a</Arn><UserId>u</UserId>", "empty Account" },
	{ "<Account>1234567890123456789012345678901234</Account><Arn>a</Arn>"
	    "<UserId>u</UserId>", "Account longer than 31 bytes" },
	{ "<Account>1</Account><Arn><x/></Arn><UserId>u</UserId>",
	    "Arn is not a text element" },
	{ "<Account>1</Account><Arn>a</Arn>", "missing UserId" },
};

START_TEST(odd_answers)
{
	struct aws_sts_identity	 id;
	char			*xml, err[256];
	xmlDoc			*doc;

	ck_assert_int_ge(asprintf(&xml, "<GetCallerIdentityResponse>"
	    "<GetCallerIdentityResult>%s</GetCallerIdentityResult>"
	    "</GetCallerIdentityResponse>", odd[_i].body), 0);
	doc = doc_of(xml, strlen(xml));
	ck_assert_int_eq(aws_sts_parse_get_caller_identity(aws_xml_result(doc,
	    "GetCallerIdentity"), &id, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, odd[_i].why) != NULL, "\"%s\" lacks \"%s\"", err,
	    odd[_i].why);
	aws_xml_free(doc);
	free(xml);
}
END_TEST

static aws_cb	 pending;
static void	*pending_arg;
static int	 seen;

static struct aws_call *
fake_call(struct aws_client *client, struct aws_query *q, uint32_t deadline,
    aws_cb cb, void *arg)
{
	aws_query_free(q);
	pending = cb;
	pending_arg = arg;
	return (struct aws_call *)&pending;
}

static void
identity_cb(const struct aws_result *r, const struct aws_sts_identity *id,
    void *arg)
{
	seen++;
	if (r->errclass == AWS_ERRCLASS_OK)
		ck_assert_str_eq(id->account, "123456789012");
	else
		ck_assert_ptr_null(id);
}

START_TEST(op)
{
	struct aws_result	 r;
	char			*body;
	size_t			 len;
	xmlDoc			*doc;

	aws_op_set_transport(fake_call, NULL);
	ck_assert_ptr_nonnull(aws_sts_get_caller_identity((struct aws_client *)&seen,
	    identity_cb, NULL));
	body = slurp("responses/sts-GetCallerIdentity.xml", &len);
	doc = doc_of(body, len);
	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.result = aws_xml_result(doc, "GetCallerIdentity");
	pending(&r, pending_arg);
	ck_assert_int_eq(seen, 1);
	/* Expired credentials: the error, and no identity. */
	ck_assert_ptr_nonnull(aws_sts_get_caller_identity((struct aws_client *)&seen,
	    identity_cb, NULL));
	memset(&r, 0, sizeof(r));
	r.errclass = AWS_ERRCLASS_EXPIRED_CREDENTIALS;
	pending(&r, pending_arg);
	ck_assert_int_eq(seen, 2);
	aws_xml_free(doc);
	free(body);
	aws_op_set_transport(NULL, NULL);
}
END_TEST

static void
setup(void)
{
	aws_xml_init();
}

static void
teardown(void)
{
	aws_xml_shutdown();
}

Suite *
aws_sts_suite(void)
{
	Suite	*s = suite_create("aws_sts");
	TCase	*tc;

	tc = tcase_create("sts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, builder);
	tcase_add_test(tc, identity);
	tcase_add_loop_test(tc, odd_answers, 0, (int)nitems(odd));
	tcase_add_test(tc, op);
	suite_add_tcase(s, tc);
	return s;
}
