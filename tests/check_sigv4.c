/*
 * SigV4: every case of the aws-c-auth v4 suite in tests/fixtures/sigv4 (discovered at
 * run time from the repository root: a case folder must pass, or be listed in skipped[]
 * with the reason), then the pieces on their own: URI encoding, canonical path, query
 * and headers, the Authorization parser on hostile input, and the verifier against
 * every kind of tampering.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/sigv4.h"
#include "tests/suites_decl.h"

#define FIXTURES	"tests/fixtures/sigv4"
#define MAX_HEADERS	32
#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0		((time_t)1440938160)	/* 2015-08-30T12:36:00Z */
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define EMPTY_SHA256	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/*
 * Case folders that do not apply to us, with the reason. None today: the sign_body cases
 * run with SIGV4_CONTENT_SHA256 (aws-c-auth adds and signs x-amz-content-sha256 for
 * them), the normalize=false ones with SIGV4_NO_NORMALIZE, and omit_session_token by
 * signing without the token (the client then sends it unsigned, as aws-c-auth does).
 * The query-* files in each folder (presigned URLs) are not read: we never presign.
 */
static const struct {
	const char	*name;
	const char	*why;
} skipped[] = {
	{ NULL, NULL }
};

/* A raw HTTP request (request.txt), cut up in place in buf. */
struct rawreq {
	char			*buf;
	const char		*method;
	const char		*path;
	const char		*query;
	struct sigv4_header	 h[MAX_HEADERS];
	size_t			 nh;
	const char		*body;
	size_t			 bodylen;
};

/* dir/name into buf: the test fails rather than open a truncated path. */
static void
join(char *buf, size_t len, const char *dir, const char *name)
{
	int	 n = snprintf(buf, len, "%s/%s", dir, name);

	ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s/%s", dir, name);
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			if (lenp != NULL)
				*lenp = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/*
 * Ends the line at p and returns the next one. With fold, lines starting with a space
 * or tab belong to this one (obs-fold): their line breaks stay in the value, for the
 * signer to canonicalise.
 */
static char *
cut_line(char *p, int fold)
{
	char	*nl = p;

	if (*p == '\r' || *p == '\n')
		fold = 0;	/* the blank line: the body may start with a space */
	while ((nl = strchr(nl, '\n')) != NULL && fold &&
	    (nl[1] == ' ' || nl[1] == '\t'))
		nl++;
	if (nl == NULL)
		return p + strlen(p);
	if (nl > p && nl[-1] == '\r')
		nl[-1] = '\0';
	*nl = '\0';
	return nl + 1;
}

/* "METHOD SP target SP version": the target may hold spaces (get-space-*). */
static int
request_line(char *line, struct rawreq *r)
{
	char	*sp1, *sp2, *q;

	if ((sp1 = strchr(line, ' ')) == NULL || (sp2 = strrchr(line, ' ')) == sp1)
		return -1;
	*sp1 = *sp2 = '\0';
	r->method = line;
	r->path = sp1 + 1;
	if ((q = strchr(sp1 + 1, '?')) != NULL) {
		*q = '\0';
		r->query = q + 1;
	}
	return 0;
}

static int
parse_request(char *buf, size_t len, struct rawreq *r)
{
	char	*p = buf, *next, *colon, *end = buf + len;

	memset(r, 0, sizeof(*r));
	r->buf = buf;
	next = cut_line(p, 0);
	if (request_line(p, r) == -1)
		return -1;
	for (p = next; p < end; p = next) {
		next = cut_line(p, 1);
		if (*p == '\0')
			break;		/* the blank line: the body follows */
		if ((colon = strchr(p, ':')) == NULL || r->nh == MAX_HEADERS)
			return -1;
		*colon = '\0';
		r->h[r->nh].name = p;
		r->h[r->nh++].value = colon + 1;
	}
	r->body = next < end ? next : "";
	r->bodylen = next < end ? (size_t)(end - next) : 0;
	return 0;
}

static int
load_request(const char *path, struct rawreq *r)
{
	char	*buf;
	size_t	 len;

	memset(r, 0, sizeof(*r));
	if ((buf = slurp(path, &len)) == NULL)
		return -1;
	if (parse_request(buf, len, r) == -1) {
		free(buf);
		r->buf = NULL;
		return -1;
	}
	return 0;
}

static void
as_request(const struct rawreq *raw, struct sigv4_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = raw->method;
	r->path = raw->path;
	r->query = raw->query;
	r->headers = raw->h;
	r->nheaders = raw->nh;
	r->body = raw->body;
	r->bodylen = raw->bodylen;
}

static const char *
raw_header(const struct rawreq *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* One case folder: its context.json, turned into signing parameters. */
struct fixture {
	json_t			*ctx;
	struct sigv4_params	 p;
	int			 normalize;
};

static int
parse_timestamp(const char *s, time_t *t)
{
	struct tm	 tm;
	char		 z = '\0';

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return 0;
}

static int
load_context(const char *dir, struct fixture *f)
{
	char		 path[512];
	json_t		*c;

	memset(f, 0, sizeof(*f));
	join(path, sizeof(path), dir, "context.json");
	if ((f->ctx = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	c = json_object_get(f->ctx, "credentials");
	f->p.access_key_id = json_string_value(json_object_get(c, "access_key_id"));
	f->p.secret_key = json_string_value(json_object_get(c, "secret_access_key"));
	f->p.region = json_string_value(json_object_get(f->ctx, "region"));
	f->p.service = json_string_value(json_object_get(f->ctx, "service"));
	f->normalize = json_is_true(json_object_get(f->ctx, "normalize"));
	if (!f->normalize)
		f->p.flags |= SIGV4_NO_NORMALIZE;
	if (json_is_true(json_object_get(f->ctx, "sign_body")))
		f->p.flags |= SIGV4_CONTENT_SHA256;
	/* post-sts-header-after: the token is sent, but added after signing. */
	if (!json_is_true(json_object_get(f->ctx, "omit_session_token")))
		f->p.session_token = json_string_value(json_object_get(c, "token"));
	return parse_timestamp(json_string_value(json_object_get(f->ctx, "timestamp")),
	    &f->p.time);
}

/* Compares got with the whole file dir/name; reports a difference into rep. */
static int
same_as_file(FILE *rep, const char *dir, const char *name, const char *got)
{
	char	 path[512], *want;
	int	 rc;

	join(path, sizeof(path), dir, name);
	if ((want = slurp(path, NULL)) == NULL) {
		fprintf(rep, "  %s: cannot read\n", name);
		return -1;
	}
	rc = got != NULL && strcmp(want, got) == 0 ? 0 : -1;
	if (rc == -1)
		fprintf(rep, "  %s differs:\n---want\n%s\n---got\n%s\n---\n", name, want,
		    got != NULL ? got : "(signing failed)");
	free(want);
	return rc;
}

/* The three stages against the header-* files. */
static int
check_stages(FILE *rep, const char *dir, const struct sigv4_request *r,
    const struct fixture *f)
{
	char	*creq = NULL, *sts = NULL, sig[SIGV4_HEX_LEN + 1] = "";
	int	 rc = 0;

	if (sigv4_canonical_request(r, &f->p, &creq) == -1 ||
	    sigv4_string_to_sign(r, &f->p, &sts) == -1 ||
	    sigv4_signature(r, &f->p, sig) == -1)
		rc = -1;
	/* Each stage on its own, so one run shows every difference. */
	if (same_as_file(rep, dir, "header-canonical-request.txt", creq) == -1)
		rc = -1;
	if (same_as_file(rep, dir, "header-string-to-sign.txt", sts) == -1)
		rc = -1;
	if (same_as_file(rep, dir, "header-signature.txt", rc == 0 ? sig : NULL) == -1)
		rc = -1;
	free(creq);
	free(sts);
	return rc;
}

/* Every header sigv4_sign() adds must be in header-signed-request.txt, same value. */
static int
check_signed(FILE *rep, const struct sigv4_request *r, const struct fixture *f,
    const struct rawreq *want)
{
	struct sigv4_signed	 s;
	const char		*v;
	size_t			 i;
	int			 rc = 0;

	if (sigv4_sign(r, &f->p, &s) == -1) {
		fprintf(rep, "  sigv4_sign failed\n");
		return -1;
	}
	for (i = 0; i < s.nhdr; i++) {
		v = raw_header(want, s.hdr[i].name);
		if (v == NULL || strcmp(v, s.hdr[i].value) != 0) {
			fprintf(rep, "  added %s: %s, want %s\n", s.hdr[i].name,
			    s.hdr[i].value, v != NULL ? v : "(absent)");
			rc = -1;
		}
	}
	sigv4_signed_free(&s);
	return rc;
}

/*
 * bbsim's side: the published signed request must verify. Only with normalize: the
 * verifier always normalises, as every non-S3 service does.
 */
static int
check_verify(FILE *rep, const struct fixture *f, const struct rawreq *signd)
{
	struct sigv4_request	 r;
	struct sigv4_auth	 a;
	char			 why[128] = "";

	if (!f->normalize)
		return 0;
	as_request(signd, &r);
	if (sigv4_parse_authorization(raw_header(signd, "Authorization"), &a) == -1) {
		fprintf(rep, "  its Authorization does not parse\n");
		return -1;
	}
	if (sigv4_verify(&r, &a, f->p.secret_key, f->p.time, why, sizeof(why)) == -1) {
		fprintf(rep, "  its signed request does not verify: %s\n", why);
		return -1;
	}
	return 0;
}

/* 0 if the case passes, else -1 with what differs in rep. */
static int
run_case(FILE *rep, const char *dir)
{
	struct fixture		 f;
	struct rawreq		 req, signd;
	struct sigv4_request	 r;
	char			 path[512];
	int			 rc = -1;

	memset(&req, 0, sizeof(req));
	memset(&signd, 0, sizeof(signd));
	if (load_context(dir, &f) == -1) {
		fprintf(rep, "  bad context.json\n");
		goto done;
	}
	join(path, sizeof(path), dir, "request.txt");
	if (load_request(path, &req) == -1) {
		fprintf(rep, "  bad request.txt\n");
		goto done;
	}
	join(path, sizeof(path), dir, "header-signed-request.txt");
	if (load_request(path, &signd) == -1) {
		fprintf(rep, "  bad header-signed-request.txt\n");
		goto done;
	}
	as_request(&req, &r);
	rc = 0;
	if (check_stages(rep, dir, &r, &f) == -1 ||
	    check_signed(rep, &r, &f, &signd) == -1 ||
	    check_verify(rep, &f, &signd) == -1)
		rc = -1;
 done:
	free(req.buf);
	free(signd.buf);
	json_decref(f.ctx);
	return rc;
}

static const char *
skip_reason(const char *name)
{
	size_t	 i;

	for (i = 0; skipped[i].name != NULL; i++)
		if (strcmp(skipped[i].name, name) == 0)
			return skipped[i].why;
	return NULL;
}

static int
is_case_dir(const char *name)
{
	char		 path[512];
	struct stat	 st;

	join(path, sizeof(path), FIXTURES, name);
	return name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Runs one folder and counts it; a failure, or a skipped case that passes, goes to rep. */
static void
one_case(FILE *rep, const char *name, int *npass, int *nskip, int *nbad)
{
	char		 dir[512], *text = NULL;
	const char	*why = skip_reason(name);
	FILE		*out;
	size_t		 len = 0;
	int		 ok;

	join(dir, sizeof(dir), FIXTURES, name);
	ck_assert_ptr_nonnull(out = open_memstream(&text, &len));
	ok = run_case(out, dir) == 0;
	fclose(out);
	if (ok && why == NULL)
		(*npass)++;
	else if (!ok && why != NULL)
		(*nskip)++;
	else {
		(*nbad)++;
		fprintf(rep, "%s:\n%s", name, text);
		if (ok)
			fprintf(rep, "  passes but is in skipped[] (%s): remove it\n", why);
	}
	free(text);
}

START_TEST(test_suite_cases)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*rep;
	char		*text = NULL;
	size_t		 len = 0, i;
	int		 npass = 0, nskip = 0, nbad = 0, nlisted = 0;

	d = opendir(FIXTURES);
	ck_assert_msg(d != NULL, "%s: run the tests from the repository root", FIXTURES);
	ck_assert_ptr_nonnull(rep = open_memstream(&text, &len));
	while ((e = readdir(d)) != NULL)
		if (is_case_dir(e->d_name))
			one_case(rep, e->d_name, &npass, &nskip, &nbad);
	closedir(d);
	for (i = 0; skipped[i].name != NULL; i++, nlisted++)
		if (!is_case_dir(skipped[i].name)) {
			fprintf(rep, "%s:\n  in skipped[] but no such folder\n",
			    skipped[i].name);
			nbad++;
		}
	fclose(rep);
	ck_assert_msg(nbad == 0, "%d case(s) neither pass nor are skipped:\n%s", nbad, text);
	ck_assert_msg(npass > 0, "no case found under %s", FIXTURES);
	ck_assert_int_eq(nskip, nlisted);
	free(text);
}
END_TEST

static void
params_init(struct sigv4_params *p)
{
	memset(p, 0, sizeof(*p));
	p->region = "us-east-1";
	p->service = "service";
	p->access_key_id = AKID;
	p->secret_key = SECRET;
	p->time = T0;
}

static const struct sigv4_header host_only[] = {
	{ "Host", "example.amazonaws.com" },
};

/* Line n (0-based) of the canonical request of GET path?query, or NULL if refused. */
static char *
creq_line(const char *path, const char *query, int flags, int n)
{
	struct sigv4_request	 r = { "GET", path, query, host_only, 1, NULL, 0 };
	struct sigv4_params	 p;
	char			*creq, *s, *e, *line;

	params_init(&p);
	p.flags = flags;
	if (sigv4_canonical_request(&r, &p, &creq) == -1)
		return NULL;
	for (s = creq; n > 0 && (s = strchr(s, '\n')) != NULL; n--)
		s++;
	ck_assert_ptr_nonnull(s);
	e = strchr(s, '\n');
	line = strndup(s, e != NULL ? (size_t)(e - s) : strlen(s));
	free(creq);
	return line;
}

START_TEST(test_uri_encode)
{
	static const struct {
		const char	*in;
		size_t		 len;
		int		 flags;
		const char	*out;
	} t[] = {
		{ "", 0, 0, "" },
		{ "-._~09AZaz", 10, 0, "-._~09AZaz" },
		{ " ", 1, 0, "%20" },
		{ "/a b/", 5, 0, "%2Fa%20b%2F" },
		{ "/a b/", 5, SIGV4_KEEP_SLASH, "/a%20b/" },
		{ "%", 1, 0, "%25" },
		{ "+*", 2, 0, "%2B%2A" },
		{ "=&?#", 4, 0, "%3D%26%3F%23" },
		{ "!'()", 4, 0, "%21%27%28%29" },
		{ "\xe1\x88\xb4", 3, 0, "%E1%88%B4" },
		{ "\xff\x7f", 2, 0, "%FF%7F" },
		{ "a\0b", 3, 0, "a%00b" },
		{ "abc", 1, 0, "a" },
	};
	char	 buf[64];
	size_t	 i, n;

	for (i = 0; i < nitems(t); i++) {
		n = sigv4_uri_encode(t[i].in, t[i].len, buf, sizeof(buf), t[i].flags);
		ck_assert_str_eq(buf, t[i].out);
		ck_assert_uint_eq(n, strlen(t[i].out));
	}
	/* Like snprintf: the full length back, a truncated NUL-terminated result. */
	ck_assert_uint_eq(sigv4_uri_encode("a b", 3, buf, 4, 0), 5);
	ck_assert_str_eq(buf, "a%2");
	ck_assert_uint_eq(sigv4_uri_encode("a b", 3, NULL, 0, 0), 5);
	ck_assert_uint_eq(sigv4_uri_encode("a b", 3, buf, 1, 0), 5);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_hex_sha256)
{
	char	 h[SIGV4_HEX_LEN + 1];

	ck_assert_int_eq(sigv4_hex_sha256("", 0, h), 0);
	ck_assert_str_eq(h, EMPTY_SHA256);
	ck_assert_int_eq(sigv4_hex_sha256(NULL, 0, h), 0);
	ck_assert_str_eq(h, EMPTY_SHA256);
	ck_assert_int_eq(sigv4_hex_sha256("abc", 3, h), 0);
	ck_assert_str_eq(h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(sigv4_hex_sha256(NULL, 1, h), -1);
}
END_TEST

/* The IAM guide's example, recomputed independently (reference/aws-api.md). */
START_TEST(test_iam_example)
{
	static const struct sigv4_header h[] = {
		{ "Host", "iam.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct sigv4_request	 r = { "GET", "/", "Action=ListUsers&Version=2010-05-08",
	    h, 2, NULL, 0 };
	struct sigv4_params	 p;
	char			*sts, sig[SIGV4_HEX_LEN + 1];

	params_init(&p);
	p.service = "iam";
	ck_assert_int_eq(sigv4_string_to_sign(&r, &p, &sts), 0);
	ck_assert_str_eq(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n"
	    "20150830/us-east-1/iam/aws4_request\n"
	    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
	free(sts);
	ck_assert_int_eq(sigv4_signature(&r, &p, sig), 0);
	ck_assert_str_eq(sig,
	    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}
END_TEST

START_TEST(test_canonical_query)
{
	static const struct {
		const char	*raw;
		const char	*canon;		/* NULL: refused */
	} t[] = {
		{ NULL, "" },
		{ "", "" },
		{ "b=2&a=1&a=0", "a=0&a=1&b=2" },
		{ "a", "a=" },
		{ "a=", "a=" },
		{ "=v", "=v" },
		{ "a=%20b+c", "a=%20b%2Bc" },
		{ "a=1&&b=2&", "a=1&b=2" },
		{ "k=v=w", "k=v%3Dw" },
		{ "%7e=%7E", "~=~" },
		{ "a=%2f", "a=%2F" },
		{ "a=2&B=3&A=1", "A=1&B=3&a=2" },
		{ "Version=2010-05-15&StackName=my stack&Action=DescribeStacks",
		    "Action=DescribeStacks&StackName=my%20stack&Version=2010-05-15" },
		{ "a=%zz", NULL },
		{ "a=%2", NULL },
		{ "%", NULL },
	};
	char	*line;
	size_t	 i;

	for (i = 0; i < nitems(t); i++) {
		line = creq_line("/", t[i].raw, 0, 2);
		if (t[i].canon == NULL)
			ck_assert_msg(line == NULL, "%s accepted as %s", t[i].raw, line);
		else {
			ck_assert_msg(line != NULL, "%s refused", t[i].raw);
			ck_assert_str_eq(line, t[i].canon);
		}
		free(line);
	}
}
END_TEST

START_TEST(test_canonical_path)
{
	static const struct {
		const char	*raw;
		int		 flags;
		const char	*canon;		/* NULL: refused */
	} t[] = {
		{ NULL, 0, "/" },
		{ "", 0, "/" },
		{ "/a/b/../c/./d", 0, "/a/c/d" },
		{ "/a/b/..", 0, "/a" },
		{ "/a/./", 0, "/a/" },
		{ "/../..", 0, "/" },
		{ "//a//b", 0, "/a/b" },
		{ "/a b/c", 0, "/a%20b/c" },
		{ "/a%2Fb", 0, "/a%252Fb" },	/* encoded once more, as sent */
		{ "/...", 0, "/..." },
		{ "/a/../b//", SIGV4_NO_NORMALIZE, "/a/../b//" },
		{ "/a b", SIGV4_NO_NORMALIZE, "/a%20b" },
		{ "a/b", 0, NULL },
		{ "*", SIGV4_NO_NORMALIZE, NULL },
	};
	char	*line;
	size_t	 i;

	for (i = 0; i < nitems(t); i++) {
		line = creq_line(t[i].raw, NULL, t[i].flags, 1);
		if (t[i].canon == NULL)
			ck_assert_msg(line == NULL, "%s accepted as %s", t[i].raw, line);
		else {
			ck_assert_msg(line != NULL, "%s refused", t[i].raw);
			ck_assert_str_eq(line, t[i].canon);
		}
		free(line);
	}
}
END_TEST

START_TEST(test_canonical_headers)
{
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-B", "  two\t\tspaces  " },
		{ "x-a", "1" },
		{ "X-A", " 2 " },
		{ "X-Empty", "" },
		{ "X-Blank", "   " },
		{ "X-Fold", "a\r\n   b\n\tc" },
	};
	struct sigv4_request	 r = { "POST", "/", NULL, h, 7, "x", 1 };
	struct sigv4_params	 p;
	char			*creq;

	params_init(&p);
	ck_assert_int_eq(sigv4_canonical_request(&r, &p, &creq), 0);
	ck_assert_str_eq(creq, "POST\n/\n\n"
	    "host:example.amazonaws.com\n"
	    "x-a:1,2\n"
	    "x-amz-date:20150830T123600Z\n"
	    "x-b:two spaces\n"
	    "x-blank:\n"
	    "x-empty:\n"
	    "x-fold:a b c\n"
	    "\n"
	    "host;x-a;x-amz-date;x-b;x-blank;x-empty;x-fold\n"
	    "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
	free(creq);
}
END_TEST

/* sigv4_sign() output; the suite's get-vanilla-with-session-token and post-vanilla. */
START_TEST(test_sign_headers)
{
	struct sigv4_request	 r = { "GET", "/", NULL, host_only, 1, NULL, 0 };
	struct sigv4_params	 p;
	struct sigv4_signed	 s;
	const char		*tok = "6e86291e8372ff2a2260956d9b8aae1d"
	    "763fbf315fa00fa31553b73ebf194267";

	params_init(&p);
	p.session_token = tok;
	ck_assert_int_eq(sigv4_sign(&r, &p, &s), 0);
	ck_assert_uint_eq(s.nhdr, 3);
	ck_assert_str_eq(s.hdr[0].name, "X-Amz-Date");
	ck_assert_str_eq(s.hdr[0].value, "20150830T123600Z");
	ck_assert_str_eq(s.hdr[1].name, "X-Amz-Security-Token");
	ck_assert_ptr_eq(s.hdr[1].value, tok);
	ck_assert_str_eq(s.hdr[2].name, "Authorization");
	ck_assert_str_eq(s.hdr[2].value, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20150830/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	    "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
	sigv4_signed_free(&s);

	r.method = "POST";
	p.session_token = NULL;
	ck_assert_int_eq(sigv4_sign(&r, &p, &s), 0);
	ck_assert_uint_eq(s.nhdr, 2);
	ck_assert_str_eq(s.hdr[1].name, "Authorization");
	ck_assert_ptr_nonnull(strstr(s.hdr[1].value, ", SignedHeaders=host;x-amz-date, "
	    "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
	sigv4_signed_free(&s);

	p.flags = SIGV4_CONTENT_SHA256;
	ck_assert_int_eq(sigv4_sign(&r, &p, &s), 0);
	ck_assert_uint_eq(s.nhdr, 3);
	ck_assert_str_eq(s.hdr[1].name, "X-Amz-Content-Sha256");
	ck_assert_str_eq(s.hdr[1].value, EMPTY_SHA256);
	ck_assert_ptr_nonnull(strstr(s.hdr[2].value,
	    "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
	sigv4_signed_free(&s);
	sigv4_signed_free(NULL);
}
END_TEST

static int
sign_with(const struct sigv4_header *h, size_t nh, const struct sigv4_params *p)
{
	struct sigv4_request	 r = { "POST", "/", NULL, h, nh, "", 0 };
	struct sigv4_signed	 s;
	int			 rc;

	rc = sigv4_sign(&r, p, &s);
	sigv4_signed_free(&s);
	return rc;
}

START_TEST(test_sign_refuses)
{
	static const struct sigv4_header bad[][2] = {
		{ { "Content-Type", "text/plain" }, { "Accept", "*/*" } },	/* no Host */
		{ { "Host", "h" }, { "Authorization", "AWS4-HMAC-SHA256 x" } },
		{ { "Host", "h" }, { "x-amz-date", "20150830T123600Z" } },
		{ { "Host", "h" }, { "Bad Name", "v" } },
		{ { "Host", "h" }, { "Bad:Name", "v" } },
		{ { "Host", "h" }, { "", "v" } },
		{ { "Host", "h" }, { NULL, "v" } },
	};
	static const struct sigv4_header tok[] = {
		{ "Host", "h" }, { "X-Amz-Security-Token", "t" },
	};
	static const struct sigv4_header sha[] = {
		{ "Host", "h" }, { "x-amz-content-sha256", EMPTY_SHA256 },
	};
	struct sigv4_request	 r = { "POST", "/", NULL, host_only, 1, NULL, 3 };
	struct sigv4_params	 p;
	struct sigv4_signed	 s;
	char			 dummy[] = "x", *out = dummy, sig[SIGV4_HEX_LEN + 1];
	size_t			 i;

	params_init(&p);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(sign_with(bad[i], 2, &p) == -1, "bad[%zu] signed", i);
	ck_assert_int_eq(sign_with(tok, 2, &p), 0);	/* sent unsigned-by-us is fine */
	p.session_token = "t2";
	ck_assert_int_eq(sign_with(tok, 2, &p), -1);
	p.session_token = "a b";
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	p.session_token = "a\r\nX-Evil: 1";
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	ck_assert_int_eq(sign_with(sha, 2, &p), 0);
	p.flags = SIGV4_CONTENT_SHA256;
	ck_assert_int_eq(sign_with(sha, 2, &p), -1);
	p.flags = 0x80;
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	p.access_key_id = "AKID\r\nX-Evil: 1";
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	p.region = "us east";
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	p.region = "";
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	p.service = NULL;
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	p.secret_key = NULL;
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	p.time = (time_t)253402300800;		/* year 10000: no X-Amz-Date for it */
	ck_assert_int_eq(sign_with(host_only, 1, &p), -1);
	params_init(&p);
	ck_assert_int_eq(sigv4_sign(&r, &p, &s), -1);		/* body NULL, length 3 */
	ck_assert_ptr_null(s.authorization);
	r.bodylen = 0;
	r.method = "GE T";
	ck_assert_int_eq(sigv4_canonical_request(&r, &p, &out), -1);
	ck_assert_ptr_null(out);
	r.method = NULL;
	ck_assert_int_eq(sigv4_string_to_sign(&r, &p, &out), -1);
	ck_assert_int_eq(sigv4_signature(NULL, &p, sig), -1);
	r.method = "GET";
	ck_assert_int_eq(sigv4_signature(&r, NULL, sig), -1);
	ck_assert_int_eq(sigv4_sign(&r, &p, NULL), -1);
	ck_assert_int_eq(sigv4_canonical_request(&r, &p, NULL), -1);
	r.headers = NULL;
	ck_assert_int_eq(sigv4_canonical_request(&r, &p, &out), -1);
}
END_TEST

#define GOOD_AUTH	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/" \
	"service/aws4_request, SignedHeaders=host;x-amz-date, " \
	"Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"

START_TEST(test_parse_valid)
{
	struct sigv4_auth	 a;

	ck_assert_int_eq(sigv4_parse_authorization(GOOD_AUTH, &a), 0);
	ck_assert_str_eq(a.access_key_id, "AKIDEXAMPLE");
	ck_assert_str_eq(a.date, "20150830");
	ck_assert_str_eq(a.region, "us-east-1");
	ck_assert_str_eq(a.service, "service");
	ck_assert_str_eq(a.signed_headers, "host;x-amz-date");
	ck_assert_str_eq(a.signature,
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	ck_assert_int_eq(sigv4_parse_authorization("AWS4-HMAC-SHA256 Credential="
	    "ASIAX/20240101/eu-west-1/elasticloadbalancing/aws4_request, "
	    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
	    "Signature=0000000000000000000000000000000000000000000000000000000000000000",
	    &a), 0);
	ck_assert_str_eq(a.service, "elasticloadbalancing");
	ck_assert_int_eq(sigv4_parse_authorization(GOOD_AUTH, NULL), -1);
}
END_TEST

/* Replaces the first from in GOOD_AUTH by to. */
static char *
good_but(const char *from, const char *to)
{
	const char	*at = strstr(GOOD_AUTH, from);
	char		*s;

	ck_assert_ptr_nonnull(at);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(at - GOOD_AUTH), GOOD_AUTH, to,
	    at + strlen(from)), 0);
	return s;
}

static void
refused(const char *s)
{
	struct sigv4_auth	 a, zero;

	memset(&a, 'x', sizeof(a));
	memset(&zero, 0, sizeof(zero));
	ck_assert_msg(sigv4_parse_authorization(s, &a) == -1, "accepted: %s", s);
	ck_assert_msg(memcmp(&a, &zero, sizeof(a)) == 0, "not zeroed after: %s", s);
}

START_TEST(test_parse_hostile)
{
	static const char *edits[][2] = {
		/* the algorithm */
		{ "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA512 " },
		{ "AWS4-HMAC-SHA256 ", "aws4-hmac-sha256 " },
		{ "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256  " },
		{ "AWS4-HMAC-SHA256 ", " AWS4-HMAC-SHA256 " },
		{ "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256\t" },
		{ "AWS4-HMAC-SHA256 ", "" },
		/* the credential */
		{ "Credential=", "credential=" },
		{ "Credential=", "Credential =" },
		{ "AKIDEXAMPLE/", "" },
		{ "AKIDEXAMPLE/", "/" },
		{ "AKIDEXAMPLE/", "AKID EXAMPLE/" },
		{ "AKIDEXAMPLE/", "AKID\r\nX/" },
		{ "20150830/", "2015083/" },
		{ "20150830/", "201508300/" },
		{ "20150830/", "2015O830/" },
		{ "us-east-1/", "" },
		{ "us-east-1/", "US-EAST-1/" },
		{ "us-east-1/", "us-east-1/extra/" },
		{ "service/", "" },
		{ "service/", "ser vice/" },
		{ "aws4_request", "aws4_requesT" },
		{ "aws4_request", "aws4_request/" },
		{ "aws4_request", "" },
		/* the separators */
		{ ", SignedHeaders", ",SignedHeaders" },
		{ ", SignedHeaders", ",  SignedHeaders" },
		{ ", SignedHeaders", " , SignedHeaders" },
		{ ", Signature", ",Signature" },
		{ ", Signature", ", Signature " },
		{ ", Signature=", ", Signature:" },
		/* the signed headers */
		{ "host;x-amz-date", "" },
		{ "host;x-amz-date", ";host;x-amz-date" },
		{ "host;x-amz-date", "host;x-amz-date;" },
		{ "host;x-amz-date", "host;;x-amz-date" },
		{ "host;x-amz-date", "x-amz-date;host" },
		{ "host;x-amz-date", "host;host;x-amz-date" },
		{ "host;x-amz-date", "Host;x-amz-date" },
		{ "host;x-amz-date", "host; x-amz-date" },
		{ "host;x-amz-date", "host:x-amz-date" },
		/* the signature */
		{ "5da7c1a2", "5da7c1a" },
		{ "5da7c1a2", "5da7c1a22" },
		{ "5da7c1a2", "5DA7C1A2" },
		{ "5da7c1a2", "5da7c1ag" },
		{ "e5d6b", "e5d6b " },
		{ "e5d6b", "e5d6b\r\n" },
		{ "e5d6b", "e5d6b, Extra=1" },
		/* parts missing, repeated, reordered */
		{ ", SignedHeaders=host;x-amz-date", "" },
		{ "Signature=", "SignedHeaders=host, Signature=" },
		{ "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544"
		    "621c30862966e37dddb68e92efbe5d6b", "Signature=5da7c1a2acd57cee7505fc6676e"
		    "4e544621c30862966e37dddb68e92efbe5d6b, SignedHeaders=host;x-amz-date" },
	};
	char	*s, *big;
	size_t	 i, n = strlen(GOOD_AUTH);

	refused(NULL);
	refused("");
	refused("AWS4-HMAC-SHA256");
	refused("Basic dXNlcjpwYXNz");
	/* Every truncation of a good header. */
	for (i = 0; i < n; i++) {
		s = strndup(GOOD_AUTH, i);
		refused(s);
		free(s);
	}
	for (i = 0; i < nitems(edits); i++) {
		s = good_but(edits[i][0], edits[i][1]);
		refused(s);
		free(s);
	}
	/* Fields longer than their buffers, and just as long as they may be. */
	big = malloc(100001);
	memset(big, 'A', 100000);
	big[100000] = '\0';
	s = good_but("AKIDEXAMPLE", big);
	refused(s);
	free(s);
	big[SIGV4_AKID_MAX] = '\0';
	s = good_but("AKIDEXAMPLE", big);
	ck_assert_int_eq(sigv4_parse_authorization(s, &(struct sigv4_auth){ 0 }), 0);
	free(s);
	big[SIGV4_AKID_MAX] = 'A';
	big[SIGV4_AKID_MAX + 1] = '\0';
	s = good_but("AKIDEXAMPLE", big);
	refused(s);
	free(s);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	s = good_but("us-east-1", big);
	refused(s);
	free(s);
	s = good_but("service/", big);
	refused(s);
	free(s);
	s = good_but("host;x-amz-date", big);
	refused(s);
	free(s);
	s = good_but("5da7c1a2", big);
	refused(s);
	free(s);
	free(big);
}
END_TEST

/* A Query-protocol POST signed by sigv4_sign(), as bbsim receives it. */
struct vreq {
	struct sigv4_header	 h[MAX_HEADERS];
	char			 val[MAX_HEADERS][512];
	size_t			 nh;
	char			 method[8];
	char			 path[64];
	char			 query[64];
	char			 body[128];
	struct sigv4_request	 r;
	struct sigv4_auth	 a;
};

static void
vreq_add(struct vreq *v, const char *name, const char *value)
{
	ck_assert_uint_lt(v->nh, MAX_HEADERS);
	ck_assert_uint_lt(strlen(value), sizeof(v->val[0]));
	strcpy(v->val[v->nh], value);
	v->h[v->nh].name = name;
	v->h[v->nh].value = v->val[v->nh];
	v->r.nheaders = ++v->nh;
}

/* Signs method path?query with the Query-protocol body; the headers it adds go last. */
static void
vreq_make_at(struct vreq *v, const char *path, const char *query, const char *token,
    int flags)
{
	struct sigv4_params	 p;
	struct sigv4_signed	 s;
	size_t			 i;

	memset(v, 0, sizeof(*v));
	strcpy(v->method, "POST");
	ck_assert_uint_lt(strlen(path), sizeof(v->path));
	ck_assert_uint_lt(strlen(query), sizeof(v->query));
	strcpy(v->path, path);
	strcpy(v->query, query);
	strcpy(v->body, "Action=DescribeStacks&StackName=bitbucket&Version=2010-05-15");
	v->r.method = v->method;
	v->r.path = v->path;
	v->r.query = v->query;
	v->r.headers = v->h;
	v->r.body = v->body;
	v->r.bodylen = strlen(v->body);
	vreq_add(v, "Host", "cloudformation.eu-west-1.amazonaws.com");
	vreq_add(v, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
	params_init(&p);
	p.region = "eu-west-1";
	p.service = "cloudformation";
	p.session_token = token;
	p.flags = flags;
	ck_assert_int_eq(sigv4_sign(&v->r, &p, &s), 0);
	for (i = 0; i < s.nhdr; i++)
		vreq_add(v, s.hdr[i].name, s.hdr[i].value);
	ck_assert_int_eq(sigv4_parse_authorization(s.authorization, &v->a), 0);
	sigv4_signed_free(&s);
}

static void
vreq_make(struct vreq *v, const char *token, int flags)
{
	vreq_make_at(v, "/", "", token, flags);
}

static int
verify(struct vreq *v, const char *secret, time_t now, char *why)
{
	return sigv4_verify(&v->r, &v->a, secret, now, why, 128);
}

START_TEST(test_verify_accepts)
{
	struct vreq	 v;
	char		 why[128] = "";

	vreq_make(&v, NULL, 0);
	ck_assert_msg(verify(&v, SECRET, T0, why) == 0, "%s", why);
	ck_assert_msg(verify(&v, SECRET, T0 + SIGV4_MAX_SKEW, why) == 0, "%s", why);
	ck_assert_msg(verify(&v, SECRET, T0 - SIGV4_MAX_SKEW, why) == 0, "%s", why);
	/* Headers added after signing are not in SignedHeaders: they do not matter. */
	vreq_add(&v, "User-Agent", "bbupgraded/0.1.0");
	vreq_add(&v, "Authorization", "overwritten by a proxy");
	ck_assert_msg(verify(&v, SECRET, T0, why) == 0, "%s", why);
	/* Same canonical form: header case, surrounding space. */
	v.h[0].name = "HOST";
	strcat(v.val[1], "  ");
	ck_assert_msg(verify(&v, SECRET, T0, why) == 0, "%s", why);

	vreq_make(&v, "FQoGZXIvYXdzEXAMPLE+token/==", SIGV4_CONTENT_SHA256);
	ck_assert_msg(verify(&v, SECRET, T0, why) == 0, "%s", why);
	ck_assert_str_eq(v.a.signed_headers,
	    "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
}
END_TEST

START_TEST(test_verify_rejects_signature)
{
	struct vreq	 v;
	char		 why[128];
	size_t		 i;
	char		 was;

	vreq_make(&v, NULL, 0);
	for (i = 0; i < SIGV4_HEX_LEN; i++) {
		was = v.a.signature[i];
		v.a.signature[i] = was == '0' ? '1' : '0';
		ck_assert_msg(verify(&v, SECRET, T0, why) == -1, "signature byte %zu", i);
		ck_assert_str_eq(why, "signature does not match");
		v.a.signature[i] = was;
	}
	ck_assert_int_eq(verify(&v, SECRET, T0, why), 0);
	ck_assert_int_eq(verify(&v, SECRET "x", T0, why), -1);
	ck_assert_int_eq(verify(&v, "", T0, why), -1);
	ck_assert_int_eq(verify(&v, NULL, T0, why), -1);
	strcpy(v.a.region, "eu-west-2");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	vreq_make(&v, NULL, 0);
	strcpy(v.a.service, "autoscaling");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	vreq_make(&v, NULL, 0);
	strcpy(v.a.date, "20150831");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	ck_assert_str_eq(why, "X-Amz-Date is not on the credential scope's date");
}
END_TEST

START_TEST(test_verify_rejects_body)
{
	struct vreq	 v;
	char		 why[128];
	size_t		 i;

	vreq_make(&v, NULL, 0);
	for (i = 0; i < v.r.bodylen; i++) {
		v.body[i] ^= 0x01;
		ck_assert_msg(verify(&v, SECRET, T0, why) == -1, "body byte %zu", i);
		v.body[i] ^= 0x01;
	}
	v.r.bodylen--;
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	v.r.bodylen++;
	ck_assert_int_eq(verify(&v, SECRET, T0, why), 0);

	/* A signed content hash must still match the body it came with. */
	vreq_make(&v, NULL, SIGV4_CONTENT_SHA256);
	v.body[0] = 'X';
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	ck_assert_str_eq(why, "X-Amz-Content-Sha256 does not match the body");
}
END_TEST

START_TEST(test_verify_rejects_headers)
{
	struct vreq	 v;
	char		 why[128];
	size_t		 i, k, n;

	vreq_make(&v, "token", 0);
	n = v.nh - 1;		/* all but Authorization are signed */
	for (i = 0; i < n; i++)
		for (k = 0; v.val[i][k] != '\0'; k++) {
			v.val[i][k] ^= 0x01;
			ck_assert_msg(verify(&v, SECRET, T0, why) == -1, "%s byte %zu",
			    v.h[i].name, k);
			v.val[i][k] ^= 0x01;
		}
	ck_assert_int_eq(verify(&v, SECRET, T0, why), 0);
	/* A signed header dropped, or repeated. */
	for (i = 0; i < n; i++) {
		vreq_make(&v, "token", 0);
		v.h[i].name = "X-Dropped";
		ck_assert_msg(verify(&v, SECRET, T0, why) == -1, "without %zu", i);
	}
	vreq_make(&v, "token", 0);
	vreq_add(&v, "Host", "evil.example.com");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	vreq_make(&v, NULL, 0);
	vreq_add(&v, "X-Amz-Date", "20150830T123600Z");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	/* Host and X-Amz-Date must be among the signed. */
	vreq_make(&v, NULL, 0);
	strcpy(v.a.signed_headers, "content-type;x-amz-date");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	ck_assert_str_eq(why, "host and x-amz-date must be signed");
	strcpy(v.a.signed_headers, "content-type;host");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
}
END_TEST

START_TEST(test_verify_rejects_request)
{
	struct vreq	 v;
	char		 why[128];

	vreq_make(&v, NULL, 0);
	strcpy(v.method, "PUT");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	vreq_make(&v, NULL, 0);
	strcpy(v.path, "/x");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	vreq_make(&v, NULL, 0);
	strcpy(v.query, "Action=DeleteStack");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	/* The clock: 15 minutes either way, and X-Amz-Date itself. */
	vreq_make(&v, NULL, 0);
	ck_assert_int_eq(verify(&v, SECRET, T0 + SIGV4_MAX_SKEW + 1, why), -1);
	ck_assert_str_eq(why, "request time too skewed");
	ck_assert_int_eq(verify(&v, SECRET, T0 - SIGV4_MAX_SKEW - 1, why), -1);
	strcpy(v.val[2], "20150830T123601Z");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	ck_assert_str_eq(why, "signature does not match");
	strcpy(v.val[2], "20150830T126000Z");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	ck_assert_str_eq(why, "missing or malformed X-Amz-Date");
	strcpy(v.val[2], "20150830T123600");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	strcpy(v.val[2], " 20150830T123600Z");
	ck_assert_int_eq(verify(&v, SECRET, T0, why), -1);
	/* Nonsense in, -1 out, and nothing read out of bounds. */
	ck_assert_int_eq(sigv4_verify(NULL, &v.a, SECRET, T0, why, sizeof(why)), -1);
	ck_assert_int_eq(sigv4_verify(&v.r, NULL, SECRET, T0, NULL, 0), -1);
	memset(&v.a, 'a', sizeof(v.a));
	ck_assert_int_eq(sigv4_verify(&v.r, &v.a, SECRET, T0, why, 4), -1);
	ck_assert_str_eq(why, "mal");
}
END_TEST

/* Its own signatures over odd paths and queries: both sides canonicalise alike. */
START_TEST(test_verify_paths)
{
	static const char *paths[] = {
		"/", "/a b/", "/%E1%88%B4", "/./x/../y//", "/-._~0123456789", "",
	};
	static const char *queries[] = {
		"", "b=%20&a=caf%C3%A9", "a&b=", "Action=X&Action=A",
	};
	struct vreq	 v;
	char		 why[128];
	size_t		 i, k;

	for (i = 0; i < nitems(paths); i++)
		for (k = 0; k < nitems(queries); k++) {
			vreq_make_at(&v, paths[i], queries[k], NULL, 0);
			ck_assert_msg(verify(&v, SECRET, T0, why) == 0, "%s?%s: %s",
			    paths[i], queries[k], why);
		}
}
END_TEST

Suite *
sigv4_suite(void)
{
	Suite	*s = suite_create("sigv4");
	TCase	*tc;

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_suite_cases);
	tcase_add_test(tc, test_iam_example);
	suite_add_tcase(s, tc);

	tc = tcase_create("canonical");
	tcase_add_test(tc, test_uri_encode);
	tcase_add_test(tc, test_hex_sha256);
	tcase_add_test(tc, test_canonical_query);
	tcase_add_test(tc, test_canonical_path);
	tcase_add_test(tc, test_canonical_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_test(tc, test_sign_headers);
	tcase_add_test(tc, test_sign_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_valid);
	tcase_add_test(tc, test_parse_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, test_verify_accepts);
	tcase_add_test(tc, test_verify_rejects_signature);
	tcase_add_test(tc, test_verify_rejects_body);
	tcase_add_test(tc, test_verify_rejects_headers);
	tcase_add_test(tc, test_verify_rejects_request);
	tcase_add_test(tc, test_verify_paths);
	suite_add_tcase(s, tc);
	return s;
}
