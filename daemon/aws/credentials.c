/*
 * The credential chain (see credentials.h). Three parts: pure parsers (the shared
 * INI files, the metadata JSON, the container URL rule), the cache with its waiting
 * requests, and the resolution, a small state machine driven by http.h callbacks.
 *
 * Must never: log or quote a key, token or file line (errors say "line N"); keep a
 * secret in memory it does not zero when done (file buffers, parsed values, the
 * IMDS token, header lines carrying a token); hand out expired credentials; run a
 * resolution, or replace the cached set, while a caller's callback is on the stack
 * (resolutions start from our own timer, so a pointer given to a callback stays
 * valid for its whole run). The local files are read with plain read(2): a few
 * hundred bytes on a local disk, as the configuration file is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/xml.h"
#include "daemon/http.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define BG_PAUSE_MS	30000		/* between background refresh attempts */
#define TOKEN_REUSE_S	(21600 - 300)	/* an IMDS token is reused until near its TTL */
#define META_MAX	(64 * 1024)	/* metadata and container answers */
#define ROLE_MAX	128
#define JSON_DEPTH	16
#define IMDS_CREDS	"/latest/meta-data/iam/security-credentials/"

/* ---- Secrets ---- */

static void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static char *
secret_dup(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		fatal("malloc");
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
aws_creds_ini_keys_free(struct aws_creds_ini_keys *k)
{
	if (k == NULL)
		return;
	secret_free(k->access_key_id);
	secret_free(k->secret_access_key);
	secret_free(k->session_token);
	free(k->unsupported);
	memset(k, 0, sizeof(*k));
}

/* ---- The shared files: INI as configparser reads it ---- */

enum last_key {
	LAST_NONE,	/* no key yet in this section */
	LAST_SECRET,	/* one of ours: it may not continue on the next line */
	LAST_OTHER	/* anything else: continuation lines are its business */
};

struct ini {
	int			 config;	/* ~/.aws/config naming */
	const char		*profile;
	int			 line;
	int			 in_section, in_target, found;
	enum last_key		 last;
	char			**sections, **keys;	/* seen: for duplicates */
	size_t			 nsections, nkeys;
	struct aws_creds_ini_keys *out;
	char			*err;
	size_t			 errlen;
};

/* Keys that name a source this daemon does not implement (botocore does). */
static const char *const unsupported_keys[] = {
	"role_arn", "credential_process", "sso_start_url", "sso_session",
	"web_identity_token_file", "login_session",
};

static int
ini_fail(struct ini *in, const char *why)
{
	snprintf(in->err, in->errlen, "line %d: %s", in->line, why);
	return -1;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Adds s (n bytes) to the set v; -1 if it was there already. */
static int
strv_add(char ***v, size_t *n, const char *s, size_t len)
{
	char	**nv;

	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i]) == len && memcmp((*v)[i], s, len) == 0)
			return -1;
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		fatal("reallocarray");
	*v = nv;
	if ((nv[*n] = strndup(s, len)) == NULL)
		fatal("strndup");
	(*n)++;
	return 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* Whether section header h (n bytes) names in->profile. */
static int
section_matches(const struct ini *in, const char *h, size_t n)
{
	size_t	 plen = strlen(in->profile);

	if (!in->config)
		return n == plen && memcmp(h, in->profile, n) == 0;
	if (n == 7 && memcmp(h, "default", 7) == 0)
		return strcmp(in->profile, "default") == 0;
	if (n < 8 || memcmp(h, "profile", 7) != 0 || (h[7] != ' ' && h[7] != '\t'))
		return 0;
	h += 7;
	n -= 7;
	trim(&h, &n);
	/* botocore splits with shlex: [profile "my name"] is allowed. */
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	} else if (memchr(h, ' ', n) != NULL || memchr(h, '\t', n) != NULL)
		return 0;
	return n == plen && memcmp(h, in->profile, n) == 0;
}

static int
ini_section(struct ini *in, const char *s, size_t n)
{
	const char	*close = memchr(s, ']', n), *rest;
	size_t		 rn;

	if (close == NULL || close == s + 1)
		return ini_fail(in, "a section header must be \"[name]\"");
	rest = close + 1;
	rn = n - (size_t)(rest - s);
	trim(&rest, &rn);
	if (rn > 0 && *rest != '#' && *rest != ';')
		return ini_fail(in, "unexpected text after the section header");
	if (strv_add(&in->sections, &in->nsections, s + 1,
	    (size_t)(close - s - 1)) == -1)
		return ini_fail(in, "the section appears twice");
	strv_free(in->keys, in->nkeys);
	in->keys = NULL;
	in->nkeys = 0;
	in->in_section = 1;
	in->last = LAST_NONE;
	in->in_target = section_matches(in, s + 1, (size_t)(close - s - 1));
	if (in->in_target) {
		/* [default] and [profile default]: the later wins, as in botocore. */
		aws_creds_ini_keys_free(in->out);
		in->found = 1;
	}
	return 0;
}

static int
key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

/* Stores the value v (n bytes) if key k is one the chain reads. */
static void
ini_store(struct ini *in, const char *k, size_t kn, const char *v, size_t n)
{
	struct aws_creds_ini_keys *o = in->out;

	in->last = LAST_SECRET;
	if (key_is(k, kn, "aws_access_key_id"))
		o->access_key_id = secret_dup(v, n);
	else if (key_is(k, kn, "aws_secret_access_key"))
		o->secret_access_key = secret_dup(v, n);
	else if (key_is(k, kn, "aws_session_token")) {
		secret_free(o->session_token);
		o->session_token = secret_dup(v, n);
	} else if (key_is(k, kn, "aws_security_token")) {
		if (o->session_token == NULL)	/* the legacy name yields */
			o->session_token = secret_dup(v, n);
	} else {
		in->last = LAST_OTHER;
		for (size_t i = 0; i < nitems(unsupported_keys); i++)
			if (key_is(k, kn, unsupported_keys[i]) && o->unsupported == NULL &&
			    (o->unsupported = strdup(unsupported_keys[i])) == NULL)
				fatal("strdup");
	}
}

static int
ini_key(struct ini *in, const char *s, size_t n)
{
	const char	*end = s + n, *eq = NULL, *v;
	size_t		 kn, vn;
	char		 lower[128];

	if (!in->in_section)
		return ini_fail(in, "a key outside any section");
	/* configparser's delimiters: the first '=' or ':' ends the key. */
	for (size_t i = 0; i < n && eq == NULL; i++)
		if (s[i] == '=' || s[i] == ':')
			eq = s + i;
	if (eq == NULL)
		return ini_fail(in, "expected \"key = value\"");
	kn = (size_t)(eq - s);
	trim(&s, &kn);
	if (kn == 0 || kn >= sizeof(lower))
		return ini_fail(in, "a key name is empty or too long");
	for (size_t i = 0; i < kn; i++)
		lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	if (strv_add(&in->keys, &in->nkeys, lower, kn) == -1)
		return ini_fail(in, "a key appears twice in the section");
	v = eq + 1;
	vn = (size_t)(end - v);
	trim(&v, &vn);
	if (in->in_target)
		ini_store(in, lower, kn, v, vn);
	else
		in->last = LAST_OTHER;
	return 0;
}

static int
ini_line(struct ini *in, const char *s, size_t n)
{
	int	 indented = n > 0 && (s[0] == ' ' || s[0] == '\t');

	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	if (indented) {
		if (in->last == LAST_NONE)
			return ini_fail(in, "an indented line that continues nothing");
		if (in->last == LAST_SECRET && in->in_target)
			return ini_fail(in, "a credential value may not span lines");
		return 0;	/* the continuation of a nested setting (s3 = ...) */
	}
	if (s[0] == '[')
		return ini_section(in, s, n);
	return ini_key(in, s, n);
}

int
aws_creds_ini_profile(const char *text, size_t len, int config_file,
    const char *profile, struct aws_creds_ini_keys *keys, char *err, size_t errlen)
{
	struct ini	 in = { .config = config_file, .profile = profile, .out = keys,
	    .err = err, .errlen = errlen };
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;
	int		 rc = 0;

	memset(keys, 0, sizeof(*keys));
	if (text == NULL || profile == NULL)
		return -1;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte: not a text file");
		return -1;
	}
	for (; p < end && rc == 0; p = nl + 1) {
		in.line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		rc = ini_line(&in, p, n);
	}
	strv_free(in.sections, in.nsections);
	strv_free(in.keys, in.nkeys);
	if (rc == -1) {
		aws_creds_ini_keys_free(keys);
		return -1;
	}
	return in.found;
}

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

/* ---- The container URL rule (botocore ContainerMetadataFetcher) ---- */

static int
say(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -1;
}

static int
container_host_ok(const char *host)
{
	struct in6_addr	 a6, e6;
	struct in_addr	 a4;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	inet_pton(AF_INET6, "fd00:ec2::23", &e6);
	return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &e6, sizeof(e6)) == 0;
}

int
aws_creds_container_url_ok(const char *url, char *why, size_t whylen)
{
	const char	*h, *close;
	char		 host[64];
	size_t		 n;

	if (url == NULL || *url == '\0')
		return say(why, whylen, "no URL");
	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (strncasecmp(url, "http://", 7) != 0)
		return say(why, whylen, "not an http:// or https:// URL");
	h = url + 7;
	n = strcspn(h, "/?#");
	if (memchr(h, '@', n) != NULL)
		return say(why, whylen, "user information in the URL");
	if (*h == '[' && (close = memchr(h, ']', n)) != NULL) {
		h++;
		n = (size_t)(close - h);
	} else
		n = strcspn(h, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return say(why, whylen, "no valid host");
	memcpy(host, h, n);
	host[n] = '\0';
	if (container_host_ok(host))
		return 0;
	return say(why, whylen, "plain http is allowed only to a loopback address, "
	    "localhost, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]");
}

/* ---- The cache and the requests ---- */

enum step {
	STEP_NONE,		/* not waiting for a server */
	STEP_CONTAINER,
	STEP_IMDS_TOKEN,
	STEP_IMDS_ROLE,
	STEP_IMDS_CREDS
};

struct cached {
	struct aws_credentials	 pub;
	char			*akid, *secret, *token;
	char			 source[AWS_CREDS_SOURCE_MAX];
};

struct aws_creds_req {
	struct aws_creds	*cr;
	aws_creds_cb		 cb;
	void			*arg;
	int			 waiting;	/* in cr->waiting, else to deliver */
	int			 delivering;
	int			 failed;
	struct aws_creds_error	 err;
	struct aws_creds_req	*next;
};

struct aws_creds {
	uv_loop_t		*loop;
	struct aws_creds_opts	 o;
	char			*profile;	/* the explicit one, or NULL */
	uv_timer_t		 kick;		/* starts resolutions, delivers answers */
	uv_timer_t		 pause;		/* between container attempts */
	int			 handles;	/* open, until their close callbacks */
	int			 freeing;
	struct cached		*cur;
	int			 invalid;	/* AWS said cur expired */
	int			 had_remote;	/* a container or IMDS set came before */
	uint64_t		 bg_after;	/* uv_now(): no background refresh before */
	int			 want, want_bg;	/* a resolution to start on the next kick */
	int			 resolving, background;
	enum step		 step;
	int			 attempt, token_retried;
	struct http_call	*http;
	char			*url;		/* the container URL or the IMDS base */
	char			*role;
	char			*token;		/* the IMDS session token: a secret */
	uint64_t		 token_at;	/* uv_now() when it came */
	char			 trail[AWS_CREDS_ERROR_MAX / 2];	/* what was tried */
	struct aws_creds_req	*waiting, *ready, **ready_tail;
	struct aws_creds_stats	 stats;
};

static void	kick_cb(uv_timer_t *);

static int64_t
now_wall(const struct aws_creds *cr)
{
	struct timespec	 ts;

	if (cr->o.now_ms != NULL)
		return cr->o.now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
cached_free(struct cached *c)
{
	if (c == NULL)
		return;
	secret_free(c->akid);
	secret_free(c->secret);
	secret_free(c->token);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Whether cur may be handed out with more than margin_ms of validity left. */
static int
usable(const struct aws_creds *cr, int64_t margin_ms)
{
	if (cr->cur == NULL || cr->invalid)
		return 0;
	return cr->cur->pub.expiration_ms == 0 ||
	    cr->cur->pub.expiration_ms - now_wall(cr) > margin_ms;
}

static void
kick(struct aws_creds *cr)
{
	uv_timer_start(&cr->kick, kick_cb, 0, 0);
}

static void
ready_push(struct aws_creds *cr, struct aws_creds_req *r)
{
	r->waiting = 0;
	r->next = NULL;
	*cr->ready_tail = r;
	cr->ready_tail = &r->next;
	kick(cr);
}

static void
waiting_push(struct aws_creds *cr, struct aws_creds_req *r)
{
	struct aws_creds_req	**pp = &cr->waiting;

	while (*pp != NULL)
		pp = &(*pp)->next;
	r->waiting = 1;
	r->next = NULL;
	*pp = r;
}

static void
set_cancelled(struct aws_creds_req *r)
{
	r->failed = 1;
	memset(&r->err, 0, sizeof(r->err));
	r->err.cancelled = 1;
	snprintf(r->err.message, sizeof(r->err.message), "cancelled");
}

/* Asks for a resolution on the next kick, unless one runs: waiters join that. */
static void
schedule(struct aws_creds *cr, int background)
{
	if (cr->resolving)
		return;
	cr->want_bg = cr->want ? cr->want_bg && background : background;
	cr->want = 1;
	kick(cr);
}

static void
trail_add(struct aws_creds *cr, const char *fmt, ...)
{
	size_t	 n = strlen(cr->trail);
	va_list	 ap;

	if (n > 0 && n + 2 < sizeof(cr->trail)) {
		memcpy(cr->trail + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(cr->trail + n, sizeof(cr->trail) - n, fmt, ap);
	va_end(ap);
}

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* ---- Ending a resolution ---- */

static void
step_reset(struct aws_creds *cr)
{
	BB_ASSERT(cr->http == NULL);
	free(cr->url);
	free(cr->role);
	cr->url = cr->role = NULL;
	cr->step = STEP_NONE;
	cr->resolving = 0;
}

/*
 * Hands the outcome to every waiter. After a failure the current set still serves
 * them while it has not expired: a refresh that failed in the mandatory window
 * must not stop calls that the old keys can still sign.
 */
static void
resolve_end(struct aws_creds *cr, const struct aws_creds_error *err)
{
	struct aws_creds_req	*r;
	int			 stale_ok = err != NULL && usable(cr, 0);

	if (err != NULL) {
		cr->stats.failures++;
		log_warnx("aws: %s%s%s", cr->background ? "background refresh of "
		    "credentials failed: " : "", err->message, stale_ok ?
		    "; still using the current credentials" : "");
	}
	while ((r = cr->waiting) != NULL) {
		cr->waiting = r->next;
		if (err != NULL && !stale_ok) {
			r->failed = 1;
			r->err = *err;
		}
		ready_push(cr, r);
	}
	step_reset(cr);
}

static void	finish_err(struct aws_creds *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* remote: the failure was a container or metadata service not answering. */
static void
finish_err(struct aws_creds *cr, int remote, const char *fmt, ...)
{
	struct aws_creds_error	 e;
	va_list			 ap;

	memset(&e, 0, sizeof(e));
	e.transient = remote && cr->had_remote;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	resolve_end(cr, &e);
}

static int
keys_check(const struct aws_creds_ini_keys *k, char *why, size_t whylen)
{
	size_t	 n = strlen(k->access_key_id);

	if (n == 0 || n > 128 || strspn(k->access_key_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return say(why, whylen, "the access key id is not [A-Za-z0-9]{1,128}");
	for (const char *p = k->secret_access_key; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return say(why, whylen, "the secret key has blanks or controls");
	if (k->secret_access_key[0] == '\0')
		return say(why, whylen, "the secret key is empty");
	for (const char *p = k->session_token; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return say(why, whylen, "the session token has blanks or controls");
	return 0;
}

static int
install_check(const struct aws_creds *cr, const struct aws_creds_ini_keys *k,
    int64_t exp, char *why, size_t whylen)
{
	if (keys_check(k, why, whylen) == -1)
		return -1;
	if (exp != 0 && exp <= now_wall(cr))
		return say(why, whylen, "they have expired already");
	return 0;
}

static void
log_installed(const struct cached *c)
{
	char		 when[32];
	time_t		 t = (time_t)(c->pub.expiration_ms / 1000);
	struct tm	 tm;

	if (c->pub.expiration_ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		log_info("aws: credentials from %s", c->source);
	else
		log_info("aws: credentials from %s, valid until %s", c->source, when);
}

/* Takes k's secrets (k is left empty) as the new current set. */
static void
finish_ok(struct aws_creds *cr, struct aws_creds_ini_keys *k, int64_t exp,
    const char *source)
{
	int		 remote = cr->step != STEP_NONE;
	struct cached	*c;
	char		 why[128];

	if (install_check(cr, k, exp, why, sizeof(why)) == -1) {
		aws_creds_ini_keys_free(k);
		finish_err(cr, remote, "credentials from %s: %s", source, why);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->pub.access_key_id = c->akid = k->access_key_id;
	c->pub.secret_access_key = c->secret = k->secret_access_key;
	c->pub.session_token = c->token = k->session_token;
	k->access_key_id = k->secret_access_key = k->session_token = NULL;
	aws_creds_ini_keys_free(k);
	c->pub.expiration_ms = exp;
	snprintf(c->source, sizeof(c->source), "%s", source);
	c->pub.source = c->source;
	cached_free(cr->cur);
	cr->cur = c;
	cr->invalid = 0;
	cr->had_remote |= remote;
	log_installed(c);
	resolve_end(cr, NULL);
}

/* ---- Local sources: the environment and the shared files ---- */

static int
env_provider(struct aws_creds *cr, struct aws_creds_ini_keys *k, char *err,
    size_t errlen)
{
	const char	*id = env("AWS_ACCESS_KEY_ID");
	const char	*secret = env("AWS_SECRET_ACCESS_KEY");
	const char	*token;

	/* As botocore does for --profile: a named profile is what the operator meant. */
	if (cr->profile != NULL) {
		trail_add(cr, "environment: skipped, profile \"%s\" was named",
		    cr->profile);
		return 0;
	}
	if (id == NULL && secret == NULL) {
		trail_add(cr, "environment: not set");
		return 0;
	}
	if (id == NULL || secret == NULL) {
		snprintf(err, errlen, "environment: %s is set but %s is not",
		    id != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    id != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if ((token = env("AWS_SESSION_TOKEN")) == NULL)
		token = env("AWS_SECURITY_TOKEN");
	k->access_key_id = secret_dup(id, strlen(id));
	k->secret_access_key = secret_dup(secret, strlen(secret));
	if (token != NULL)
		k->session_token = secret_dup(token, strlen(token));
	return 1;
}

/* path with a leading "~/" expanded; NULL if there is no home directory. */
static char *
expand_home(const char *path)
{
	struct passwd	 pw, *res = NULL;
	const char	*home;
	char		 buf[1024], *out;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0')) {
		if ((out = strdup(path)) == NULL)
			fatal("strdup");
		return out;
	}
	if ((home = env("HOME")) == NULL) {
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
			return NULL;
		home = pw.pw_dir;
	}
	if (asprintf(&out, "%s%s", home, path + 1) == -1)
		fatal("asprintf");
	return out;
}

/*
 * The whole of path in *buf (the caller zeroes and frees it): 1; 0 if there is no
 * such file (botocore: not a file is no file); -1 with err if it cannot be read.
 */
static int
file_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 r;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (st.st_size > AWS_CREDS_FILE_MAX) {
		close(fd);
		snprintf(err, errlen, "%s: larger than %d bytes", path, AWS_CREDS_FILE_MAX);
		return -1;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("malloc");
	while (got < (size_t)st.st_size) {
		if ((r = read(fd, *buf + got, (size_t)st.st_size - got)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 1;
}

/*
 * The profile's keys in one file: 1 (*k filled), 0 (not there, or no keys: *found
 * and *unsupported say which), -1 with err.
 */
static int
file_profile(const char *path, int config, const char *profile,
    struct aws_creds_ini_keys *k, int *found, char **unsupported, char *err,
    size_t errlen)
{
	char	*buf, why[128];
	size_t	 len;
	int	 rc;

	if (path == NULL || (rc = file_read(path, &buf, &len, err, errlen)) == 0)
		return 0;
	if (rc == -1)
		return -1;
	rc = aws_creds_ini_profile(buf, len, config, profile, k, why, sizeof(why));
	explicit_bzero(buf, len);
	free(buf);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (rc == 0)
		return 0;
	*found = 1;
	if (k->access_key_id != NULL && k->secret_access_key != NULL)
		return 1;
	if (k->access_key_id != NULL || k->secret_access_key != NULL) {
		snprintf(err, errlen, "%s: profile \"%s\" has %s but no %s", path, profile,
		    k->access_key_id != NULL ? "aws_access_key_id" : "aws_secret_access_key",
		    k->access_key_id != NULL ? "aws_secret_access_key" : "aws_access_key_id");
		aws_creds_ini_keys_free(k);
		return -1;
	}
	if (*unsupported == NULL && k->unsupported != NULL)
		*unsupported = strdup(k->unsupported);
	aws_creds_ini_keys_free(k);
	return 0;
}

static const char *
profile_name(const struct aws_creds *cr)
{
	const char	*p;

	if (cr->profile != NULL)
		return cr->profile;
	/* botocore's order: AWS_DEFAULT_PROFILE is looked at first. */
	if ((p = env("AWS_DEFAULT_PROFILE")) != NULL ||
	    (p = env("AWS_PROFILE")) != NULL)
		return p;
	return "default";
}

/* Both files for the profile; 1 with *k and source, 0 to go on, -1 with err. */
static int
files_lookup(struct aws_creds *cr, const char *paths[2], struct aws_creds_ini_keys *k,
    char *source, size_t srclen, char *err, size_t errlen)
{
	static const char *const what[2] = { "shared credentials file", "config file" };
	const char	*profile = profile_name(cr);
	char		*unsupported = NULL;
	int		 found = 0, rc = 0, i;

	for (i = 0; i < 2 && rc == 0; i++)
		rc = file_profile(paths[i], i, profile, k, &found, &unsupported, err,
		    errlen);
	if (rc == 1)
		snprintf(source, srclen, "%s %s profile %s", what[i - 1], paths[i - 1],
		    profile);
	else if (rc == 0 && unsupported != NULL) {
		snprintf(err, errlen, "profile \"%s\" uses %s, a credential source "
		    "bbupgraded does not support: give it keys, or use instance "
		    "metadata", profile, unsupported);
		rc = -1;
	} else if (rc == 0 && !found && strcmp(profile, "default") != 0) {
		snprintf(err, errlen, "profile \"%s\" not found in %s or %s", profile,
		    paths[0] != NULL ? paths[0] : "~/.aws/credentials (no home)",
		    paths[1] != NULL ? paths[1] : "~/.aws/config (no home)");
		rc = -1;
	} else if (rc == 0)
		trail_add(cr, "profile %s: %s in %s or %s", profile, found ?
		    "no keys" : "not found", paths[0] != NULL ? paths[0] : "(no home)",
		    paths[1] != NULL ? paths[1] : "(no home)");
	free(unsupported);
	return rc;
}

static int
files_provider(struct aws_creds *cr, struct aws_creds_ini_keys *k, char *source,
    size_t srclen, char *err, size_t errlen)
{
	const char	*v, *paths[2];
	char		*p[2];
	int		 rc;

	v = env("AWS_SHARED_CREDENTIALS_FILE");
	p[0] = expand_home(v != NULL ? v : "~/.aws/credentials");
	v = env("AWS_CONFIG_FILE");
	p[1] = expand_home(v != NULL ? v : "~/.aws/config");
	paths[0] = p[0];
	paths[1] = p[1];
	rc = files_lookup(cr, paths, k, source, srclen, err, errlen);
	free(p[0]);
	free(p[1]);
	return rc;
}

/* ---- Remote sources: the container endpoint and instance metadata ---- */

static void	http_done(const struct http_response *, void *);

static int
fetch(struct aws_creds *cr, const char *method, const char *url,
    const char *const *hdrs, size_t nhdrs, uint32_t timeout_ms)
{
	struct http_req	 req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.nheaders = nhdrs;
	req.connect_timeout_ms = timeout_ms;
	req.timeout_ms = timeout_ms;
	req.max_response = META_MAX;
	cr->stats.http_requests++;
	cr->http = http_request(&req, http_done, cr);
	return cr->http != NULL ? 0 : -1;
}

/* No answer, or a server error: another attempt may do better. */
static int
retryable(const struct http_response *r)
{
	switch (r->error) {
	case HTTP_ERR_NONE:
		return r->status >= 500;
	case HTTP_ERR_TIMEOUT:
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_RESET:
	case HTTP_ERR_OTHER:
		return 1;
	default:
		return 0;
	}
}

static const char *
describe(const struct http_response *r, char *buf, size_t len)
{
	if (r->error == HTTP_ERR_NONE)
		snprintf(buf, len, "HTTP %ld", r->status);
	else
		snprintf(buf, len, "%s (%s)", http_error_name(r->error), r->message);
	return buf;
}

static int
answered(const struct http_response *r, long status)
{
	return r->error == HTTP_ERR_NONE && r->status == status;
}

/* "Name: value" for a header carrying a secret: zero it with secret_free(). */
static char *
secret_header(const char *name, const char *value)
{
	char	*h;

	if (asprintf(&h, "%s: %s", name, value) == -1)
		fatal("asprintf");
	return h;
}

/* Container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else _TOKEN; *hdr NULL if none. */
static int
container_auth(char **hdr, char *err, size_t errlen)
{
	const char	*file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char	*tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char		*buf = NULL;
	size_t		 len;

	*hdr = NULL;
	if (file != NULL) {
		if (file_read(file, &buf, &len, err, errlen) != 1) {
			if (buf == NULL && err[0] == '\0')
				snprintf(err, errlen, "%s: no such file", file);
			return -1;
		}
		/* Files written by hand end with a newline; the header must not. */
		while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
			buf[--len] = '\0';
		tok = buf;
	}
	if (tok != NULL && strpbrk(tok, "\r\n") == NULL)
		*hdr = secret_header("Authorization", tok);
	else if (tok != NULL)
		snprintf(err, errlen, "the authorization token is not a legal header value");
	secret_free(buf);
	return tok != NULL && *hdr == NULL ? -1 : 0;
}

static void
container_send(struct aws_creds *cr)
{
	const char	*h[2] = { "Accept: application/json", NULL };
	char		*auth, err[AWS_CREDS_ERROR_MAX / 2] = "";
	int		 rc;

	if (container_auth(&auth, err, sizeof(err)) == -1) {
		finish_err(cr, 0, "container credentials: %s", err);
		return;
	}
	h[1] = auth;
	cr->step = STEP_CONTAINER;
	rc = fetch(cr, "GET", cr->url, h, auth != NULL ? 2 : 1,
	    cr->o.container_timeout_ms);
	secret_free(auth);
	if (rc == -1)
		finish_err(cr, 0, "container credentials: the HTTP client is not running");
}

static void
pause_cb(uv_timer_t *t)
{
	container_send(t->data);
}

static void
container_done(struct aws_creds *cr, const struct http_response *r)
{
	struct aws_creds_ini_keys	 k;
	int64_t				 exp;
	char				 why[160];

	if (answered(r, 200)) {
		if (aws_creds_json(r->body, r->body_len, &k, &exp, why, sizeof(why)) == 0)
			finish_ok(cr, &k, exp, "container credentials endpoint");
		else
			finish_err(cr, 0, "container credentials: %s", why);
		return;
	}
	/* botocore tries again after any failure, a second apart. */
	if ((r->error == HTTP_ERR_NONE || retryable(r)) &&
	    cr->attempt < cr->o.container_attempts) {
		cr->attempt++;
		uv_timer_start(&cr->pause, pause_cb, cr->o.container_pause_ms, 0);
		return;
	}
	finish_err(cr, retryable(r), "container credentials: %s, after %d attempts",
	    describe(r, why, sizeof(why)), cr->attempt);
}

static void	imds_fail(struct aws_creds *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

static void
imds_fail(struct aws_creds *cr, int remote, const char *fmt, ...)
{
	char	 why[AWS_CREDS_ERROR_MAX / 2];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish_err(cr, remote, "no AWS credentials found (%s; instance metadata: %s)",
	    cr->trail, why);
}

/* Sends the request of cr->step (again). */
static void
imds_send(struct aws_creds *cr)
{
	const char	*h[1];
	char		*hdr, *url;
	int		 rc;

	if (cr->step == STEP_IMDS_TOKEN) {
		h[0] = "X-aws-ec2-metadata-token-ttl-seconds: " AWS_CREDS_IMDS_TTL;
		if (asprintf(&url, "%s/latest/api/token", cr->url) == -1)
			fatal("asprintf");
		rc = fetch(cr, "PUT", url, h, 1, cr->o.imds_timeout_ms);
		free(url);
	} else {
		if (asprintf(&url, "%s%s%s", cr->url, IMDS_CREDS,
		    cr->step == STEP_IMDS_CREDS ? cr->role : "") == -1)
			fatal("asprintf");
		h[0] = hdr = secret_header("X-aws-ec2-metadata-token", cr->token);
		rc = fetch(cr, "GET", url, h, 1, cr->o.imds_timeout_ms);
		secret_free(hdr);
		free(url);
	}
	if (rc == -1)
		imds_fail(cr, 0, "the HTTP client is not running");
}

static void
imds_step(struct aws_creds *cr, enum step step)
{
	cr->step = step;
	cr->attempt = 1;
	imds_send(cr);
}

static int
imds_again(struct aws_creds *cr, const struct http_response *r)
{
	if (!retryable(r) || cr->attempt >= cr->o.imds_attempts)
		return 0;
	cr->attempt++;
	imds_send(cr);
	return 1;
}

/* A 401 on a GET: the token expired (or IMDS restarted); one new token. */
static int
imds_token_refused(struct aws_creds *cr, const struct http_response *r)
{
	if (!answered(r, 401) || cr->token_retried)
		return 0;
	cr->token_retried = 1;
	secret_free(cr->token);
	cr->token = NULL;
	imds_step(cr, STEP_IMDS_TOKEN);
	return 1;
}

static void
token_done(struct aws_creds *cr, const struct http_response *r)
{
	char	 why[160];
	size_t	 n = r->body_len;

	if (answered(r, 200)) {
		if (n == 0 || n > 4096 || strspn(r->body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=_-") != n) {
			imds_fail(cr, 0, "the token answer is not a token");
			return;
		}
		secret_free(cr->token);
		cr->token = secret_dup(r->body, n);
		cr->token_at = uv_now(cr->loop);
		imds_step(cr, STEP_IMDS_ROLE);
	} else if (imds_again(cr, r))
		return;
	else if (answered(r, 403) || answered(r, 404) || answered(r, 405))
		imds_fail(cr, 0, "PUT /latest/api/token answered HTTP %ld: IMDSv2 is "
		    "not available (IMDSv1 is never used)", r->status);
	else
		imds_fail(cr, retryable(r), "PUT /latest/api/token: %s",
		    describe(r, why, sizeof(why)));
}

static void
role_done(struct aws_creds *cr, const struct http_response *r)
{
	char	 why[160];
	size_t	 n;

	if (answered(r, 200)) {
		/* One role per instance profile: the first line. */
		n = strcspn(r->body, "\r\n");
		if (n == 0 || n > ROLE_MAX || strspn(r->body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") < n) {
			imds_fail(cr, 0, "the role listing is not a role name");
			return;
		}
		free(cr->role);
		if ((cr->role = strndup(r->body, n)) == NULL)
			fatal("strndup");
		imds_step(cr, STEP_IMDS_CREDS);
	} else if (imds_token_refused(cr, r) || imds_again(cr, r))
		return;
	else if (answered(r, 404))
		imds_fail(cr, 0, "no IAM role is attached to this instance (HTTP 404)");
	else
		imds_fail(cr, retryable(r), "GET %s: %s", IMDS_CREDS,
		    describe(r, why, sizeof(why)));
}

static void
imds_creds_done(struct aws_creds *cr, const struct http_response *r)
{
	struct aws_creds_ini_keys	 k;
	int64_t				 exp;
	char				 why[160], src[AWS_CREDS_SOURCE_MAX];

	if (answered(r, 200)) {
		snprintf(src, sizeof(src), "instance metadata role %s", cr->role);
		if (aws_creds_json(r->body, r->body_len, &k, &exp, why, sizeof(why)) == 0)
			finish_ok(cr, &k, exp, src);
		else
			imds_fail(cr, 0, "role %s: %s", cr->role, why);
	} else if (imds_token_refused(cr, r) || imds_again(cr, r))
		return;
	else
		imds_fail(cr, retryable(r), "GET the credentials of role %s: %s",
		    cr->role, describe(r, why, sizeof(why)));
}

static void
http_done(const struct http_response *r, void *arg)
{
	struct aws_creds	*cr = arg;

	cr->http = NULL;
	if (cr->freeing) {
		kick(cr);
		return;
	}
	switch (cr->step) {
	case STEP_CONTAINER:
		container_done(cr, r);
		break;
	case STEP_IMDS_TOKEN:
		token_done(cr, r);
		break;
	case STEP_IMDS_ROLE:
		role_done(cr, r);
		break;
	case STEP_IMDS_CREDS:
		imds_creds_done(cr, r);
		break;
	default:
		fatalx("aws: credentials: an answer in step %d", cr->step);
	}
}

static void
imds_start(struct aws_creds *cr)
{
	const char	*ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t		 n;

	if ((cr->url = strdup(ep != NULL ? ep : AWS_CREDS_IMDS_URL)) == NULL)
		fatal("strdup");
	n = strlen(cr->url);
	while (n > 0 && cr->url[n - 1] == '/')
		cr->url[--n] = '\0';
	if (cr->token != NULL &&
	    uv_now(cr->loop) - cr->token_at < (uint64_t)TOKEN_REUSE_S * 1000)
		imds_step(cr, STEP_IMDS_ROLE);
	else
		imds_step(cr, STEP_IMDS_TOKEN);
}

/* 1 with *url if container credentials are configured, 0 if not, -1 with err. */
static int
container_url(char **url, char *err, size_t errlen)
{
	const char	*rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char	*full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char		 why[160];

	if (rel != NULL) {
		if (asprintf(url, "%s%s", AWS_CREDS_CONTAINER_URL, rel) == -1)
			fatal("asprintf");
		return 1;
	}
	if (full == NULL)
		return 0;
	if (aws_creds_container_url_ok(full, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: %s", why);
		return -1;
	}
	if ((*url = strdup(full)) == NULL)
		fatal("strdup");
	return 1;
}

static int
imds_disabled(void)
{
	const char	*v = env("AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

/* Runs the chain; the local sources end it here, the remote ones in http_done(). */
static void
resolve_begin(struct aws_creds *cr, int background)
{
	struct aws_creds_ini_keys	 k;
	char				 err[AWS_CREDS_ERROR_MAX - 64] = "";
	char				 src[AWS_CREDS_SOURCE_MAX];
	int				 rc;

	cr->resolving = 1;
	cr->background = background;
	cr->trail[0] = '\0';
	cr->token_retried = 0;
	cr->stats.resolutions++;
	cr->stats.background += background != 0;
	memset(&k, 0, sizeof(k));
	if ((rc = env_provider(cr, &k, err, sizeof(err))) == 1)
		finish_ok(cr, &k, 0, "environment");
	else if (rc == 0 && (rc = files_provider(cr, &k, src, sizeof(src), err,
	    sizeof(err))) == 1)
		finish_ok(cr, &k, 0, src);
	else if (rc == 0 && (rc = container_url(&cr->url, err, sizeof(err))) == 1) {
		cr->attempt = 1;
		container_send(cr);
	} else if (rc == -1)
		finish_err(cr, 0, "%s", err);
	else {
		trail_add(cr, "container: not configured");
		if (imds_disabled())
			imds_fail(cr, 0, "disabled by AWS_EC2_METADATA_DISABLED");
		else
			imds_start(cr);
	}
}

/* ---- Delivery, lifetime and the public calls ---- */

static void
closed_cb(uv_handle_t *h)
{
	struct aws_creds	*cr = h->data;

	if (--cr->handles > 0)
		return;
	cached_free(cr->cur);
	secret_free(cr->token);
	free(cr->url);
	free(cr->role);
	free(cr->profile);
	explicit_bzero(cr, sizeof(*cr));
	free(cr);
}

/* After aws_creds_free(): closes the timers once nothing is left to deliver. */
static void
finalize(struct aws_creds *cr)
{
	if (cr->http != NULL || cr->ready != NULL || cr->waiting != NULL ||
	    uv_is_closing((uv_handle_t *)&cr->kick))
		return;
	uv_close((uv_handle_t *)&cr->kick, closed_cb);
	uv_close((uv_handle_t *)&cr->pause, closed_cb);
}

static void
deliver_one(struct aws_creds *cr, struct aws_creds_req *r)
{
	if (cr->freeing && !r->failed)
		set_cancelled(r);
	/* Invalidated or expired since it was queued: wait for fresh ones. */
	if (!r->failed && !usable(cr, 0)) {
		waiting_push(cr, r);
		schedule(cr, 0);
		return;
	}
	r->delivering = 1;
	if (r->failed)
		r->cb(NULL, &r->err, r->arg);
	else
		r->cb(&cr->cur->pub, NULL, r->arg);
	free(r);
}

/* Delivers what is ready now; what callbacks add waits for the next kick. */
static void
kick_cb(uv_timer_t *t)
{
	struct aws_creds	*cr = t->data;
	struct aws_creds_req	*batch, *r;

	if (cr->want && !cr->resolving && !cr->freeing) {
		cr->want = 0;
		resolve_begin(cr, cr->want_bg);
	}
	batch = cr->ready;
	cr->ready = NULL;
	cr->ready_tail = &cr->ready;
	while ((r = batch) != NULL) {
		batch = r->next;
		deliver_one(cr, r);
	}
	if (cr->freeing)
		finalize(cr);
}

struct aws_creds *
aws_creds_new(uv_loop_t *loop, const struct aws_creds_opts *opts)
{
	struct aws_creds	*cr;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return NULL;
	if (opts != NULL)
		cr->o = *opts;
	if (opts != NULL && opts->profile != NULL && opts->profile[0] != '\0' &&
	    (cr->profile = strdup(opts->profile)) == NULL) {
		free(cr);
		return NULL;
	}
	cr->o.profile = NULL;
	if (cr->o.advisory_ms == 0)
		cr->o.advisory_ms = AWS_CREDS_ADVISORY_MS;
	if (cr->o.mandatory_ms == 0)
		cr->o.mandatory_ms = AWS_CREDS_MANDATORY_MS;
	if (cr->o.imds_timeout_ms == 0)
		cr->o.imds_timeout_ms = AWS_CREDS_IMDS_TIMEOUT_MS;
	if (cr->o.imds_attempts <= 0)
		cr->o.imds_attempts = AWS_CREDS_IMDS_ATTEMPTS;
	if (cr->o.container_timeout_ms == 0)
		cr->o.container_timeout_ms = AWS_CREDS_CONTAINER_TIMEOUT_MS;
	if (cr->o.container_attempts <= 0)
		cr->o.container_attempts = AWS_CREDS_CONTAINER_ATTEMPTS;
	if (cr->o.container_pause_ms == 0)
		cr->o.container_pause_ms = AWS_CREDS_CONTAINER_PAUSE_MS;
	cr->loop = loop;
	uv_timer_init(loop, &cr->kick);
	uv_timer_init(loop, &cr->pause);
	cr->kick.data = cr;
	cr->pause.data = cr;
	cr->handles = 2;
	cr->ready_tail = &cr->ready;
	return cr;
}

void
aws_creds_free(struct aws_creds *cr)
{
	struct aws_creds_req	*r;

	if (cr == NULL || cr->freeing)
		return;
	cr->freeing = 1;
	cr->want = 0;
	for (r = cr->ready; r != NULL; r = r->next)
		set_cancelled(r);
	while ((r = cr->waiting) != NULL) {
		cr->waiting = r->next;
		set_cancelled(r);
		ready_push(cr, r);
	}
	uv_timer_stop(&cr->pause);
	if (cr->http != NULL)
		http_cancel(cr->http);	/* http_done() kicks when it has run */
	kick(cr);
}

const struct aws_credentials *
aws_creds_peek(struct aws_creds *cr)
{
	int64_t	 left;

	if (cr == NULL || cr->freeing || !usable(cr, 0))
		return NULL;
	if (cr->cur->pub.expiration_ms == 0)
		return &cr->cur->pub;
	left = cr->cur->pub.expiration_ms - now_wall(cr);
	if (left <= (int64_t)cr->o.mandatory_ms)
		return NULL;
	/* Paced, so a source that keeps handing out short-lived keys is not hammered. */
	if (left <= (int64_t)cr->o.advisory_ms && !cr->resolving &&
	    uv_now(cr->loop) >= cr->bg_after) {
		cr->bg_after = uv_now(cr->loop) + BG_PAUSE_MS;
		schedule(cr, 1);
	}
	return &cr->cur->pub;
}

struct aws_creds_req *
aws_creds_get(struct aws_creds *cr, aws_creds_cb cb, void *arg)
{
	struct aws_creds_req	*r;

	if (cr == NULL || cb == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->cr = cr;
	r->cb = cb;
	r->arg = arg;
	if (cr->freeing) {
		set_cancelled(r);
		ready_push(cr, r);
	} else if (aws_creds_peek(cr) != NULL)
		ready_push(cr, r);
	else {
		waiting_push(cr, r);
		schedule(cr, 0);
	}
	return r;
}

void
aws_creds_cancel(struct aws_creds_req *r)
{
	struct aws_creds	*cr;
	struct aws_creds_req	**pp;

	if (r == NULL || r->delivering)
		return;
	cr = r->cr;
	set_cancelled(r);
	if (!r->waiting)
		return;		/* queued (or in the batch being delivered) */
	for (pp = &cr->waiting; *pp != r; pp = &(*pp)->next)
		BB_ASSERT(*pp != NULL);
	*pp = r->next;
	ready_push(cr, r);
}

int
aws_creds_invalidate(struct aws_creds *cr, const char *access_key_id)
{
	if (cr == NULL || access_key_id == NULL || cr->cur == NULL || cr->invalid ||
	    strcmp(cr->cur->akid, access_key_id) != 0)
		return 0;
	cr->invalid = 1;
	cr->stats.invalidations++;
	log_info("aws: credentials from %s dropped: AWS answered that they expired",
	    cr->cur->source);
	return 1;
}

void
aws_creds_stats(const struct aws_creds *cr, struct aws_creds_stats *st)
{
	*st = cr->stats;
}
