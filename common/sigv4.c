/*
 * AWS Signature Version 4. Signing and verifying both build a "job" (what one signature
 * is computed from) and run it through compute(), so the two sides cannot drift apart:
 * the signer signs every header it is given plus the ones it adds, the verifier only the
 * ones an Authorization header lists.
 *
 * Must never: read the clock, keep state between calls, log, or leave the secret or a
 * key derived from it in memory it frees.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

#define SHA256_LEN	32
#define METHOD_MAX	32
#define ALGORITHM	"AWS4-HMAC-SHA256"
#define TERMINATOR	"aws4_request"

/* A growing string; its first allocation failure sticks, like a stdio stream's error. */
struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

/* One canonical header: lower-case name, its values canonicalised and joined by ','. */
struct chdr {
	char		*name;
	struct sbuf	 value;
};

struct chdrs {
	struct chdr	*v;
	size_t		 n;
};

struct qparam {
	char	*k;		/* both encoded */
	char	*v;
};

/* Everything one signature is computed from, once the inputs have been checked. */
struct job {
	const struct sigv4_request	*req;
	const char			*only;	/* verifying: SignedHeaders */
	struct sigv4_header		 extra[SIGV4_MAX_ADDED];	/* signing */
	size_t				 nextra;
	int				 normalize;
	const char			*region;
	const char			*service;
	char				 date[SIGV4_DATE_LEN + 1];
	char				 payload[SIGV4_HEX_LEN + 1];
};

struct result {
	char	*creq;
	char	*signed_headers;
	char	*sts;
	char	 sig[SIGV4_HEX_LEN + 1];
};

static void
sb_add(struct sbuf *b, const void *p, size_t n)
{
	char	*ns;
	size_t	 ncap;

	if (b->err || n == 0)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 64; ncap < b->len + n + 1; ncap *= 2)
			;
		if ((ns = realloc(b->s, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_chr(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static void
sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* The string, now the caller's to free; NULL after any failure. */
static char *
sb_take(struct sbuf *b)
{
	char	*s;

	if (!b->err && b->s == NULL && (b->s = calloc(1, 1)) == NULL)
		b->err = 1;
	if (b->err) {
		sb_free(b);
		return NULL;
	}
	s = b->s;
	memset(b, 0, sizeof(*b));
	return s;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

static void
put(char *out, size_t outlen, size_t at, char c)
{
	if (at + 1 < outlen)
		out[at] = c;
}

size_t
sigv4_uri_encode(const char *s, size_t len, char *out, size_t outlen, int flags)
{
	const char	*hex = "0123456789ABCDEF";
	unsigned char	 c;
	size_t		 i, need = 0;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c) || (c == '/' && (flags & SIGV4_KEEP_SLASH))) {
			put(out, outlen, need++, (char)c);
			continue;
		}
		put(out, outlen, need++, '%');
		put(out, outlen, need++, hex[c >> 4]);
		put(out, outlen, need++, hex[c & 0x0f]);
	}
	if (outlen > 0)
		out[need < outlen ? need : outlen - 1] = '\0';
	return need;
}

static void
sb_enc(struct sbuf *b, const char *s, size_t len, int flags)
{
	char	 e[4];
	size_t	 i;

	for (i = 0; i < len; i++)
		sb_add(b, e, sigv4_uri_encode(s + i, 1, e, sizeof(e), flags));
}

static void
tohex(const unsigned char *in, size_t n, char *out)
{
	const char	*hex = "0123456789abcdef";
	size_t		 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
sigv4_hex_sha256(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (data == NULL && len != 0)
		return -1;
	if (EVP_Digest(data != NULL ? data : "", len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != SHA256_LEN)
		return -1;
	tohex(md, SHA256_LEN, out);
	return 0;
}

static int
hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[SHA256_LEN])
{
	unsigned int	 n = 0;

	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) == NULL ||
	    n != SHA256_LEN)
		return -1;
	return 0;
}

/* Character classes of the things we put into headers or parse out of them. */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
akid_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static int
scope_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The token travels in a header: no space, no control character, no line break. */
static int
token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static int
digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
lowhex(unsigned char c)
{
	return digit(c) || (c >= 'a' && c <= 'f');
}

static int
list_char(unsigned char c)
{
	return c == ';' || (tchar(c) && !(c >= 'A' && c <= 'Z'));
}

/* s is 1..max characters, all of class ok; never reads past s[max]. */
static int
all_of(const char *s, size_t max, int (*ok)(unsigned char))
{
	size_t	 n;

	if (s == NULL || *s == '\0')
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (n >= max || !ok((unsigned char)s[n]))
			return 0;
	return 1;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of n bytes: no locale may change what we sign. */
static int
same_ci(const char *a, const char *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

static int
name_is(const char *name, const char *lc)
{
	size_t	 n = strlen(lc);

	return strlen(name) == n && same_ci(name, lc, n);
}

/* Whether the ';'-separated list holds name, compared without case. */
static int
list_has(const char *list, const char *name)
{
	size_t	 n = strlen(name), k;

	for (;;) {
		k = strcspn(list, ";");
		if (k == n && same_ci(list, name, n))
			return 1;
		if (list[k] == '\0')
			return 0;
		list += k + 1;
	}
}

static int
namecmp(const char *a, size_t an, const char *b, size_t bn)
{
	int	 c;

	if ((c = memcmp(a, b, an < bn ? an : bn)) != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* Non-empty lower-case names separated by ';', strictly ascending: no duplicates. */
static int
list_valid(const char *l)
{
	const char	*prev = NULL;
	size_t		 prevn = 0, n;

	if (!all_of(l, SIGV4_SIGNED_MAX, list_char))
		return 0;
	for (;;) {
		n = strcspn(l, ";");
		if (n == 0 || (prev != NULL && namecmp(prev, prevn, l, n) >= 0))
			return 0;
		if (l[n] == '\0')
			return 1;
		prev = l;
		prevn = n;
		l += n + 1;
	}
}

/* Trimmed, inner whitespace runs (obs-fold line breaks too) collapsed to one space. */
static void
sb_value(struct sbuf *b, const char *v)
{
	int	 gap = 0, any = 0;

	for (; v != NULL && *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			gap = 1;
			continue;
		}
		if (gap && any)
			sb_chr(b, ' ');
		gap = 0;
		any = 1;
		sb_chr(b, *v);
	}
}

static void
hdrs_free(struct chdrs *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		sb_free(&h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static struct chdr *
hdrs_find(const struct chdrs *h, const char *lc)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, lc) == 0)
			return &h->v[i];
	return NULL;
}

/*
 * Adds a header, joining a repeated name's values in order. fresh: a header sigv4 sets
 * itself, which the request must not carry already (it would be signed twice).
 */
static int
hdrs_add(struct chdrs *h, const char *name, const char *value, int fresh)
{
	struct chdr	*c, *nv;
	char		*lc;
	size_t		 i;

	if (!all_of(name, SIZE_MAX, tchar) || (lc = strdup(name)) == NULL)
		return -1;
	for (i = 0; lc[i] != '\0'; i++)
		lc[i] = lower(lc[i]);
	if ((c = hdrs_find(h, lc)) != NULL) {
		free(lc);
		if (fresh)
			return -1;
		sb_chr(&c->value, ',');
	} else {
		if ((nv = reallocarray(h->v, h->n + 1, sizeof(*nv))) == NULL) {
			free(lc);
			return -1;
		}
		h->v = nv;
		c = &h->v[h->n++];
		memset(c, 0, sizeof(*c));
		c->name = lc;
	}
	sb_value(&c->value, value);
	return c->value.err ? -1 : 0;
}

static int
chdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct chdr *)a)->name, ((const struct chdr *)b)->name);
}

/* The headers to sign, sorted; Host must be among them (AWS requires it signed). */
static int
collect(const struct job *j, struct chdrs *h)
{
	const struct sigv4_header	*hd;
	size_t				 i;

	for (i = 0; i < j->req->nheaders; i++) {
		hd = &j->req->headers[i];
		if (hd->name == NULL)
			return -1;
		if (j->only != NULL) {
			if (!list_has(j->only, hd->name))
				continue;
		} else if (name_is(hd->name, "authorization"))
			return -1;	/* already signed: a bug of the caller's */
		if (hdrs_add(h, hd->name, hd->value, 0) == -1)
			return -1;
	}
	for (i = 0; i < j->nextra; i++)
		if (hdrs_add(h, j->extra[i].name, j->extra[i].value, 1) == -1)
			return -1;
	if (h->n > 0)
		qsort(h->v, h->n, sizeof(*h->v), chdr_cmp);
	return hdrs_find(h, "host") != NULL ? 0 : -1;
}

/*
 * Dot segments resolved and empty segments dropped, as botocore and aws-c-auth do before
 * signing: AWS services check against that form whatever the path looked like.
 */
static int
normalized_path(struct sbuf *b, const char *path)
{
	struct seg {
		const char	*p;
		size_t		 n;
	}		*seg;
	const char	*p;
	size_t		 max = 1, nseg = 0, n, i;

	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			max++;
	if ((seg = calloc(max, sizeof(*seg))) == NULL)
		return -1;
	for (p = path; *p != '\0'; p += n) {
		if ((n = strcspn(p, "/")) == 0)
			n = 1;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
		} else if (!(n == 1 && p[0] == '.')) {
			seg[nseg].p = p;
			seg[nseg++].n = n;
		}
	}
	sb_chr(b, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			sb_chr(b, '/');
		sb_enc(b, seg[i].p, seg[i].n, 0);
	}
	if (nseg > 0 && path[strlen(path) - 1] == '/')
		sb_chr(b, '/');
	free(seg);
	return 0;
}

/* The path is encoded once more as sent: a '%' on the wire is signed as "%25". */
static int
canon_path(struct sbuf *b, const char *path, int normalize)
{
	if (path == NULL || *path == '\0')
		path = "/";
	if (*path != '/')
		return -1;
	if (normalize)
		return normalized_path(b, path);
	sb_enc(b, path, strlen(path), SIGV4_KEEP_SLASH);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes %XX, then encodes, so "%E1%88%B4" and the raw UTF-8 bytes sign alike. '+' is
 * taken literally (send spaces as %20). NULL on a bad escape or out of memory.
 */
static char *
reencode(const char *p, size_t n)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };
	size_t		 i;
	int		 hi, lo;
	char		 c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '%') {
			if (n - i < 3 || (hi = hexval(p[i + 1])) == -1 ||
			    (lo = hexval(p[i + 2])) == -1) {
				sb_free(&b);
				return NULL;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		sb_enc(&b, &c, 1, 0);
	}
	return sb_take(&b);
}

static int
qparam_set(struct qparam *q, const char *p, size_t n)
{
	const char	*eq = memchr(p, '=', n);
	size_t		 kn = eq != NULL ? (size_t)(eq - p) : n;

	q->k = reencode(p, kn);
	q->v = eq != NULL ? reencode(eq + 1, n - kn - 1) : reencode("", 0);
	if (q->k == NULL || q->v == NULL) {
		free(q->k);
		free(q->v);
		q->k = q->v = NULL;
		return -1;
	}
	return 0;
}

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return c;
	return strcmp(x->v, y->v);
}

/* Parameters sorted by encoded name, then value; "k=" for a bare "k"; "&&" skipped. */
static int
canon_query(struct sbuf *b, const char *query)
{
	struct qparam	*q;
	const char	*p, *e;
	size_t		 max = 1, n = 0, i;
	int		 rc = -1;

	if (query == NULL || *query == '\0')
		return 0;
	for (p = query; *p != '\0'; p++)
		if (*p == '&')
			max++;
	if ((q = calloc(max, sizeof(*q))) == NULL)
		return -1;
	for (p = query;; p = e + 1) {
		e = p + strcspn(p, "&");
		if (e > p && qparam_set(&q[n++], p, (size_t)(e - p)) == -1)
			goto done;
		if (*e == '\0')
			break;
	}
	qsort(q, n, sizeof(*q), qparam_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_chr(b, '&');
		sb_str(b, q[i].k);
		sb_chr(b, '=');
		sb_str(b, q[i].v);
	}
	rc = 0;
 done:
	for (i = 0; i < n; i++) {
		free(q[i].k);
		free(q[i].v);
	}
	free(q);
	return rc;
}

/* "name:value\n" lines into b, "a;b" into sh. */
static void
canon_headers(struct sbuf *b, struct sbuf *sh, const struct chdrs *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++) {
		sb_str(b, h->v[i].name);
		sb_chr(b, ':');
		sb_add(b, h->v[i].value.s, h->v[i].value.len);
		sb_chr(b, '\n');
		if (i > 0)
			sb_chr(sh, ';');
		sb_str(sh, h->v[i].name);
	}
}

static int
canonical(const struct job *j, struct result *r)
{
	struct chdrs	 h = { NULL, 0 };
	struct sbuf	 b = { NULL, 0, 0, 0 }, sh = { NULL, 0, 0, 0 };
	int		 rc = -1;

	if (collect(j, &h) == -1)
		goto done;
	sb_str(&b, j->req->method);
	sb_chr(&b, '\n');
	if (canon_path(&b, j->req->path, j->normalize) == -1)
		goto done;
	sb_chr(&b, '\n');
	if (canon_query(&b, j->req->query) == -1)
		goto done;
	sb_chr(&b, '\n');
	canon_headers(&b, &sh, &h);
	sb_chr(&b, '\n');
	sb_add(&b, sh.s, sh.len);
	sb_chr(&b, '\n');
	sb_str(&b, j->payload);
	if ((r->creq = sb_take(&b)) != NULL &&
	    (r->signed_headers = sb_take(&sh)) != NULL)
		rc = 0;
 done:
	sb_free(&b);
	sb_free(&sh);
	hdrs_free(&h);
	return rc;
}

/* yyyymmdd/region/service/aws4_request */
static void
sb_scope(struct sbuf *b, const struct job *j)
{
	sb_add(b, j->date, 8);
	sb_chr(b, '/');
	sb_str(b, j->region);
	sb_chr(b, '/');
	sb_str(b, j->service);
	sb_str(b, "/" TERMINATOR);
}

static int
string_to_sign(const struct job *j, struct result *r)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };
	char		 hash[SIGV4_HEX_LEN + 1];

	if (sigv4_hex_sha256(r->creq, strlen(r->creq), hash) == -1)
		return -1;
	sb_str(&b, ALGORITHM "\n");
	sb_str(&b, j->date);
	sb_chr(&b, '\n');
	sb_scope(&b, j);
	sb_chr(&b, '\n');
	sb_str(&b, hash);
	return (r->sts = sb_take(&b)) != NULL ? 0 : -1;
}

/* HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service), "aws4_request") */
static int
signing_key(const struct job *j, const char *secret, unsigned char k[SHA256_LEN])
{
	unsigned char	*ks, a[SHA256_LEN], b[SHA256_LEN];
	size_t		 n = strlen(secret);
	int		 rc = 0;

	if (n > SIZE_MAX - 4 || (ks = malloc(n + 4)) == NULL)
		return -1;
	memcpy(ks, "AWS4", 4);
	memcpy(ks + 4, secret, n);
	if (hmac(ks, n + 4, j->date, 8, a) == -1 ||
	    hmac(a, sizeof(a), j->region, strlen(j->region), b) == -1 ||
	    hmac(b, sizeof(b), j->service, strlen(j->service), a) == -1 ||
	    hmac(a, sizeof(a), TERMINATOR, strlen(TERMINATOR), k) == -1)
		rc = -1;
	OPENSSL_cleanse(ks, n + 4);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(ks);
	return rc;
}

static int
signature(const struct job *j, const char *secret, struct result *r)
{
	unsigned char	 k[SHA256_LEN], mac[SHA256_LEN];
	int		 rc;

	if ((rc = signing_key(j, secret, k)) == 0 &&
	    (rc = hmac(k, sizeof(k), r->sts, strlen(r->sts), mac)) == 0)
		tohex(mac, sizeof(mac), r->sig);
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static void
result_free(struct result *r)
{
	free(r->creq);
	free(r->signed_headers);
	free(r->sts);
	memset(r, 0, sizeof(*r));
}

static int
compute(const struct job *j, const char *secret, struct result *r)
{
	memset(r, 0, sizeof(*r));
	if (secret == NULL || canonical(j, r) == -1 || string_to_sign(j, r) == -1 ||
	    signature(j, secret, r) == -1) {
		result_free(r);
		return -1;
	}
	return 0;
}

static int
request_ok(const struct sigv4_request *r)
{
	return r != NULL && all_of(r->method, METHOD_MAX, tchar) &&
	    (r->headers != NULL || r->nheaders == 0) &&
	    (r->body != NULL || r->bodylen == 0);
}

static int
format_date(time_t t, char out[SIGV4_DATE_LEN + 1])
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900)
		return -1;
	if (strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != SIGV4_DATE_LEN)
		return -1;
	return 0;
}

/* The headers signing adds before Authorization, values taken from date and sha. */
static size_t
added_headers(struct sigv4_header *h, const struct sigv4_params *p, const char *date,
    const char *sha)
{
	size_t	 n = 0;

	h[n].name = "X-Amz-Date";
	h[n++].value = date;
	if (p->session_token != NULL) {
		h[n].name = "X-Amz-Security-Token";
		h[n++].value = p->session_token;
	}
	if (p->flags & SIGV4_CONTENT_SHA256) {
		h[n].name = "X-Amz-Content-Sha256";
		h[n++].value = sha;
	}
	return n;
}

static int
sign_job(const struct sigv4_request *req, const struct sigv4_params *p, struct job *j)
{
	memset(j, 0, sizeof(*j));
	if (!request_ok(req) || p == NULL || p->secret_key == NULL ||
	    (p->flags & ~(SIGV4_CONTENT_SHA256 | SIGV4_NO_NORMALIZE)) != 0 ||
	    !all_of(p->access_key_id, SIGV4_AKID_MAX, akid_char) ||
	    !all_of(p->region, SIGV4_SCOPE_MAX, scope_char) ||
	    !all_of(p->service, SIGV4_SCOPE_MAX, scope_char) ||
	    (p->session_token != NULL &&
	    !all_of(p->session_token, SIZE_MAX, token_char)))
		return -1;
	if (format_date(p->time, j->date) == -1 ||
	    sigv4_hex_sha256(req->body, req->bodylen, j->payload) == -1)
		return -1;
	j->req = req;
	j->normalize = !(p->flags & SIGV4_NO_NORMALIZE);
	j->region = p->region;
	j->service = p->service;
	j->nextra = added_headers(j->extra, p, j->date, j->payload);
	return 0;
}

int
sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p,
    char **out)
{
	struct job	 j;
	struct result	 r;

	if (out == NULL)
		return -1;
	*out = NULL;
	if (sign_job(req, p, &j) == -1 || compute(&j, p->secret_key, &r) == -1)
		return -1;
	*out = r.creq;
	r.creq = NULL;
	result_free(&r);
	return 0;
}

int
sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    char **out)
{
	struct job	 j;
	struct result	 r;

	if (out == NULL)
		return -1;
	*out = NULL;
	if (sign_job(req, p, &j) == -1 || compute(&j, p->secret_key, &r) == -1)
		return -1;
	*out = r.sts;
	r.sts = NULL;
	result_free(&r);
	return 0;
}

int
sigv4_signature(const struct sigv4_request *req, const struct sigv4_params *p,
    char sig[SIGV4_HEX_LEN + 1])
{
	struct job	 j;
	struct result	 r;

	if (sign_job(req, p, &j) == -1 || compute(&j, p->secret_key, &r) == -1)
		return -1;
	memcpy(sig, r.sig, sizeof(r.sig));
	result_free(&r);
	return 0;
}

static char *
authorization(const struct job *j, const char *akid, const struct result *r)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };

	sb_str(&b, ALGORITHM " Credential=");
	sb_str(&b, akid);
	sb_chr(&b, '/');
	sb_scope(&b, j);
	sb_str(&b, ", SignedHeaders=");
	sb_str(&b, r->signed_headers);
	sb_str(&b, ", Signature=");
	sb_str(&b, r->sig);
	return sb_take(&b);
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    struct sigv4_signed *out)
{
	struct job	 j;
	struct result	 r;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (sign_job(req, p, &j) == -1 || compute(&j, p->secret_key, &r) == -1)
		return -1;
	out->authorization = authorization(&j, p->access_key_id, &r);
	result_free(&r);
	if (out->authorization == NULL)
		return -1;
	memcpy(out->date, j.date, sizeof(out->date));
	memcpy(out->content_sha256, j.payload, sizeof(out->content_sha256));
	out->nhdr = added_headers(out->hdr, p, out->date, out->content_sha256);
	out->hdr[out->nhdr].name = "Authorization";
	out->hdr[out->nhdr++].value = out->authorization;
	return 0;
}

void
sigv4_signed_free(struct sigv4_signed *s)
{
	if (s == NULL)
		return;
	free(s->authorization);
	memset(s, 0, sizeof(*s));
}

/* Consumes the literal s at *p. */
static int
lit(const char **p, const char *s)
{
	size_t	 n = strlen(s);

	if (strncmp(*p, s, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* Copies 1..size-1 bytes up to stop into buf and consumes them and stop. */
static int
field(const char **p, char stop, char *buf, size_t size)
{
	const char	*s = *p;
	size_t		 n;

	for (n = 0; s[n] != stop; n++)
		if (s[n] == '\0' || n + 1 >= size)
			return -1;
	if (n == 0)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + n + (stop != '\0');
	return 0;
}

/* Also guards sigv4_verify() against a struct that did not come from the parser. */
static int
auth_valid(const struct sigv4_auth *a)
{
	return all_of(a->access_key_id, SIGV4_AKID_MAX, akid_char) &&
	    all_of(a->date, 8, digit) && strlen(a->date) == 8 &&
	    all_of(a->region, SIGV4_SCOPE_MAX, scope_char) &&
	    all_of(a->service, SIGV4_SCOPE_MAX, scope_char) &&
	    list_valid(a->signed_headers) &&
	    all_of(a->signature, SIGV4_HEX_LEN, lowhex) &&
	    strlen(a->signature) == SIGV4_HEX_LEN;
}

int
sigv4_parse_authorization(const char *value, struct sigv4_auth *a)
{
	const char	*p = value;

	if (a == NULL)
		return -1;
	memset(a, 0, sizeof(*a));
	if (value == NULL ||
	    lit(&p, ALGORITHM " Credential=") == -1 ||
	    field(&p, '/', a->access_key_id, sizeof(a->access_key_id)) == -1 ||
	    field(&p, '/', a->date, sizeof(a->date)) == -1 ||
	    field(&p, '/', a->region, sizeof(a->region)) == -1 ||
	    field(&p, '/', a->service, sizeof(a->service)) == -1 ||
	    lit(&p, TERMINATOR ", SignedHeaders=") == -1 ||
	    field(&p, ',', a->signed_headers, sizeof(a->signed_headers)) == -1 ||
	    lit(&p, " Signature=") == -1 ||
	    field(&p, '\0', a->signature, sizeof(a->signature)) == -1 ||
	    !auth_valid(a)) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

/* 1 and its value if the request has the header once, 0 if not at all, -1 if repeated. */
static int
header_once(const struct sigv4_request *req, const char *lc, const char **value)
{
	size_t	 i;
	int	 found = 0;

	*value = NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name == NULL ||
		    !name_is(req->headers[i].name, lc))
			continue;
		if (found++)
			return -1;
		*value = req->headers[i].value != NULL ? req->headers[i].value : "";
	}
	return found;
}

/* Strictly "yyyymmddThhmmssZ" naming a real second (no month 13, no 31 April). */
static int
parse_date(const char *s, time_t *t)
{
	const char	*form = "ddddddddTddddddZ";
	char		 back[SIGV4_DATE_LEN + 1];
	struct tm	 tm;
	size_t		 i;
	int		 v[SIGV4_DATE_LEN];

	if (strlen(s) != SIGV4_DATE_LEN)
		return -1;
	for (i = 0; i < SIGV4_DATE_LEN; i++) {
		if (form[i] == 'd' ? !digit((unsigned char)s[i]) : s[i] != form[i])
			return -1;
		v[i] = s[i] - '0';
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3] - 1900;
	tm.tm_mon = v[4] * 10 + v[5] - 1;
	tm.tm_mday = v[6] * 10 + v[7];
	tm.tm_hour = v[9] * 10 + v[10];
	tm.tm_min = v[11] * 10 + v[12];
	tm.tm_sec = v[13] * 10 + v[14];
	*t = timegm(&tm);
	if (format_date(*t, back) == -1 || strcmp(back, s) != 0)
		return -1;
	return 0;
}

/* The verifying job, or why there can be none. */
static const char *
verify_job(const struct sigv4_request *req, const struct sigv4_auth *a, time_t now,
    struct job *j)
{
	const char	*date, *sha;
	time_t		 t;
	double		 skew;

	memset(j, 0, sizeof(*j));
	if (!request_ok(req) || a == NULL || !auth_valid(a))
		return "malformed request or Authorization";
	if (!list_has(a->signed_headers, "host") ||
	    !list_has(a->signed_headers, "x-amz-date"))
		return "host and x-amz-date must be signed";
	if (header_once(req, "x-amz-date", &date) != 1 || parse_date(date, &t) == -1)
		return "missing or malformed X-Amz-Date";
	if (strncmp(date, a->date, 8) != 0)
		return "X-Amz-Date is not on the credential scope's date";
	skew = difftime(now, t);
	if (skew > SIGV4_MAX_SKEW || skew < -SIGV4_MAX_SKEW)
		return "request time too skewed";
	if (sigv4_hex_sha256(req->body, req->bodylen, j->payload) == -1)
		return "cannot hash the body";
	switch (header_once(req, "x-amz-content-sha256", &sha)) {
	case 0:
		break;
	case 1:
		if (strcmp(sha, j->payload) == 0)
			break;
		/* FALLTHROUGH */
	default:
		return "X-Amz-Content-Sha256 does not match the body";
	}
	memcpy(j->date, date, sizeof(j->date));
	j->req = req;
	j->only = a->signed_headers;
	j->normalize = 1;
	j->region = a->region;
	j->service = a->service;
	return NULL;
}

int
sigv4_verify(const struct sigv4_request *req, const struct sigv4_auth *auth,
    const char *secret, time_t now, char *why, size_t whylen)
{
	struct job	 j;
	struct result	 r;
	const char	*reason;

	reason = verify_job(req, auth, now, &j);
	if (reason == NULL && secret == NULL)
		reason = "no secret";
	if (reason == NULL && compute(&j, secret, &r) == -1)
		reason = "cannot canonicalise the request";
	else if (reason == NULL) {
		/* Both lists are sorted: unequal means a signed header is absent. */
		if (strcmp(r.signed_headers, auth->signed_headers) != 0)
			reason = "a signed header is missing";
		else if (CRYPTO_memcmp(r.sig, auth->signature, SIGV4_HEX_LEN) != 0)
			reason = "signature does not match";
		result_free(&r);
	}
	if (reason == NULL)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", reason);
	return -1;
}
