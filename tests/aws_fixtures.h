/*
 * Fixtures of the AWS call tests: read an answer or a request body from
 * tests/fixtures/aws, parse it, compare an encoded query with the body botocore made.
 */
#ifndef BB_AWS_FIXTURES_H
#define BB_AWS_FIXTURES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/query.h"
#include "daemon/aws/xml.h"

#define FIXTURES	"tests/fixtures/aws"

static inline char *
slurp(const char *name, size_t *lenp)
{
	char	 path[256];
	FILE	*f;
	char	*buf = NULL;
	long	 n;

	*lenp = 0;
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "missing fixture %s", path);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*lenp = (size_t)n;
	}
	fclose(f);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

static inline xmlDoc *
doc_of(const char *s, size_t len)
{
	char	 err[256];
	xmlDoc	*doc;

	doc = aws_xml_parse(s, len, err, sizeof(err));
	ck_assert_msg(doc != NULL, "%s", err);
	return doc;
}

static inline xmlDoc *
load(const char *name)
{
	size_t	 len = 0;
	char	*body = slurp(name, &len);
	xmlDoc	*doc = doc_of(body, len);

	free(body);
	return doc;
}

static inline void
body_is(struct aws_query *q, const char *fixture)
{
	char	*want, *got;
	size_t	 wlen = 0, glen = 0;

	want = slurp(fixture, &wlen);
	ck_assert_int_eq(aws_query_encode(q, &got, &glen), 0);
	ck_assert_msg(glen == wlen && memcmp(got, want, wlen) == 0,
	    "%s:\n got %s\nwant %s", fixture, got, want);
	free(got);
	free(want);
	aws_query_free(q);
}

#endif
