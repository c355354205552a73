/*
 * The JSON answer of the container and instance metadata endpoints (see
 * aws_creds_json() in credentials.h): one object whose string members the chain
 * reads, every other value checked and skipped, to a bounded depth. An error names a
 * member, never its value; every string parsed may be a secret and is zeroed when
 * freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/credentials.h"
#include "daemon/aws/credentials_int.h"
#include "daemon/aws/xml.h"

#define JSON_DEPTH	16

/* ---- The metadata JSON: one object, string members ---- */

struct json {
	const char	*p, *end;
	int		 depth;
};

static void
json_ws(struct json *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL && *j->p != '\0')
		j->p++;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *
utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80)
		*o++ = (char)cp;
	else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* A \u escape at j->p (after the 'u'), a surrogate pair included. */
static int
json_unicode(struct json *j, char **o)
{
	unsigned cp, lo;

	if (j->end - j->p < 4 || hex4(j->p, &cp) == -1)
		return -1;
	j->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    hex4(j->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		j->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return -1;	/* a NUL would cut the value short */
	*o = utf8_put(*o, cp);
	return 0;
}

static int
json_escape(struct json *j, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (j->p >= j->end)
		return -1;
	if (*j->p == 'u') {
		j->p++;
		return json_unicode(j, o);
	}
	if ((e = strchr(from, *j->p)) == NULL || *j->p == '\0')
		return -1;
	*(*o)++ = to[e - from];
	j->p++;
	return 0;
}

/*
 * A string at j->p, decoded into a malloc'ed *out (never longer than its escaped
 * form) unless out is NULL. It may be a secret: zeroed whenever it is dropped here,
 * and the caller zeroes what it keeps.
 */
static int
json_string(struct json *j, char **out)
{
	size_t	 cap;
	char	*buf, *o;
	int	 rc = -1;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	cap = (size_t)(j->end - j->p) + 1;
	if ((buf = o = malloc(cap)) == NULL)
		fatal("malloc");
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"') {
			rc = 0;
			break;
		}
		if (c < 0x20 || (c == '\\' && json_escape(j, &o) == -1))
			break;
		if (c != '\\')
			*o++ = (char)c;
	}
	*o = '\0';
	if (rc == 0 && out != NULL) {
		*out = buf;
		return 0;
	}
	explicit_bzero(buf, cap);
	free(buf);
	return rc;
}

static int	json_value(struct json *);

static int
json_number(struct json *j)
{
	const char *p = j->p, *e = j->end;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return -1;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return -1;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

static int
json_literal(struct json *j)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (size_t i = 0; i < nitems(lits); i++) {
		size_t n = strlen(lits[i]);

		if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lits[i], n) == 0) {
			j->p += n;
			return 0;
		}
	}
	return -1;
}

/* Skips an object or an array, to a bounded depth. */
static int
json_container(struct json *j)
{
	char	 close = *j->p == '{' ? '}' : ']';

	if (++j->depth > JSON_DEPTH)
		return -1;
	j->p++;
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (json_string(j, NULL) == -1)
				return -1;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
			json_ws(j);
		}
		if (json_value(j) == -1)
			return -1;
		json_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
		json_ws(j);
	}
}

static int
json_value(struct json *j)
{
	if (j->p >= j->end)
		return -1;
	if (*j->p == '"')
		return json_string(j, NULL);
	if (*j->p == '{' || *j->p == '[')
		return json_container(j);
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
		return json_number(j);
	return json_literal(j);
}

/* The members the chain reads, in a fixed table so errors can name them. */
struct json_creds {
	char	*v[5];
};
enum { J_AKID, J_SECRET, J_TOKEN, J_EXPIRATION, J_CODE };
static const char *const json_names[] = {
	"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Code"
};

static void
json_creds_free(struct json_creds *c)
{
	for (size_t i = 0; i < nitems(c->v); i++)
		secret_free(c->v[i]);
	memset(c, 0, sizeof(*c));
}

static int
json_member(struct json *j, struct json_creds *c, char *err, size_t errlen)
{
	char	*name;
	size_t	 i;

	if (json_string(j, &name) == -1)
		return -1;
	for (i = 0; i < nitems(json_names); i++)
		if (strcmp(name, json_names[i]) == 0)
			break;
	free(name);
	json_ws(j);
	if (j->p >= j->end || *j->p++ != ':')
		return -1;
	json_ws(j);
	if (i == nitems(json_names))
		return json_value(j);
	if (c->v[i] != NULL || json_string(j, &c->v[i]) == -1) {
		snprintf(err, errlen, "%s is not one string", json_names[i]);
		return -1;
	}
	return 0;
}

static int
json_object(struct json *j, struct json_creds *c, char *err, size_t errlen)
{
	json_ws(j);
	if (j->p >= j->end || *j->p++ != '{')
		return -1;
	j->depth = 1;
	json_ws(j);
	if (j->p < j->end && *j->p == '}')
		j->p++;
	else
		for (;;) {
			if (json_member(j, c, err, errlen) == -1)
				return -1;
			json_ws(j);
			if (j->p < j->end && *j->p == '}') {
				j->p++;
				break;
			}
			if (j->p >= j->end || *j->p++ != ',')
				return -1;
			json_ws(j);
		}
	json_ws(j);
	return j->p == j->end ? 0 : -1;
}

int
aws_creds_json(const char *body, size_t len, struct aws_creds_ini_keys *keys,
    int64_t *expiration_ms, char *err, size_t errlen)
{
	struct json		 j = { body, body + len, 0 };
	struct json_creds	 c;
	size_t			 i;

	memset(keys, 0, sizeof(*keys));
	memset(&c, 0, sizeof(c));
	*expiration_ms = 0;
	err[0] = '\0';
	if (body == NULL || json_object(&j, &c, err, errlen) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "the answer is not one JSON object");
		json_creds_free(&c);
		return -1;
	}
	for (i = 0; i < J_CODE; i++)
		if (c.v[i] == NULL || c.v[i][0] == '\0')
			break;
	if (i < J_CODE)
		snprintf(err, errlen, "the answer has no %s", json_names[i]);
	else if (c.v[J_CODE] != NULL && strcmp(c.v[J_CODE], "Success") != 0)
		snprintf(err, errlen, "the answer's Code is \"%.40s\", not Success",
		    c.v[J_CODE]);
	else if (aws_xml_parse_time_ms(c.v[J_EXPIRATION], strlen(c.v[J_EXPIRATION]),
	    expiration_ms) == -1)
		snprintf(err, errlen, "Expiration is not an ISO 8601 time");
	if (err[0] != '\0') {
		json_creds_free(&c);
		return -1;
	}
	keys->access_key_id = c.v[J_AKID];
	keys->secret_access_key = c.v[J_SECRET];
	keys->session_token = c.v[J_TOKEN];
	c.v[J_AKID] = c.v[J_SECRET] = c.v[J_TOKEN] = NULL;
	json_creds_free(&c);
	return 0;
}
