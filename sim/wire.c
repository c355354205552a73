/*
 * The wire formats of AWS (see wire.h): form parameters in, XML and JSON out.
 *
 * The form reader is stricter than AWS on purpose: real Query services take the first
 * of two values for one name and ignore parameters they do not model (seen on STS), so
 * a client with a serialisation bug may get lucky there; bbsim rejects both, unless the
 * caller asks for SIM_FORM_FIRST_WINS, so that the daemon's wire mistakes show up here
 * rather than as silently dropped parameters in production.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/server.h"
#include "sim/wire.h"

/* ---- request ids and randomness ---- */

uint64_t
sim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
sim_rand_unit(uint64_t *state)
{
	return (double)(sim_rand(state) >> 11) / (double)(1ULL << 53);
}

void
sim_rand_chars(uint64_t *state, const char *alphabet, char *out, size_t n)
{
	size_t	 k = strlen(alphabet), i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[sim_rand(state) % k];
	out[n] = '\0';
}

/* A pure function of (seed, n): the same run gives the same ids, in the same order. */
void
sim_reqid(uint64_t seed, uint64_t n, char out[SIM_REQID_LEN + 1])
{
	uint64_t	 s = seed ^ (n * 0xd1342543de82ef95ULL), a, b;

	a = sim_rand(&s);
	b = sim_rand(&s);
	a = (a & ~0xf000ULL) | 0x4000ULL;			/* version 4 */
	b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;	/* variant 10 */
	snprintf(out, SIM_REQID_LEN + 1, "%08x-%04x-%04x-%04x-%012llx",
	    (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff,
	    (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

/* ---- form parsing ---- */

void
sim_form_init(struct sim_form *f, int flags)
{
	memset(f, 0, sizeof(*f));
	f->flags = flags;
}

void
sim_form_free(struct sim_form *f)
{
	size_t	 i;

	for (i = 0; i < f->n; i++) {
		free(f->p[i].name);
		free(f->p[i].value);
	}
	free(f->p);
	memset(f, 0, sizeof(*f));
}

static int
form_fail(struct sim_form *f, enum sim_form_err err, const char *param, size_t len)
{
	f->err = err;
	if (len >= sizeof(f->errparam))
		len = sizeof(f->errparam) - 1;
	memcpy(f->errparam, param != NULL ? param : "", param != NULL ? len : 0);
	f->errparam[param != NULL ? len : 0] = '\0';
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Well-formed UTF-8: no overlong form, no surrogate, nothing above U+10FFFF. */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	unsigned long	 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3, cp = s[i] & 0x07;
		else
			return 0;
		if (len - i <= n)	/* the n continuation bytes are missing */
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Percent-decodes s[0..len) into a new string. NULL on a bad escape, on NUL (escaped
 * or not: a C string cannot carry it), on a raw control byte (clients escape them) or
 * on a result that is not UTF-8; *oom tells an allocation failure apart.
 */
static char *
decode(const char *s, size_t len, int *oom)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	*oom = 0;
	if ((out = o = malloc(len + 1)) == NULL) {
		*oom = 1;
		return NULL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len)
				goto bad;
			if ((hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			goto bad;
		if (c == '\0')
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	if (utf8_valid((unsigned char *)out, (size_t)(o - out)))
		return out;
bad:
	free(out);
	return NULL;
}

static struct sim_form_param *
form_find(struct sim_form *f, const char *name)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->p[i].name, name) == 0)
			return &f->p[i];
	return NULL;
}

/* Adds one decoded pair, taking ownership of both strings. */
static int
form_add(struct sim_form *f, char *name, char *value)
{
	struct sim_form_param	*p;
	size_t			 ncap;

	if (form_find(f, name) != NULL) {
		if (f->flags & SIM_FORM_FIRST_WINS) {
			free(name);
			free(value);
			return 0;
		}
		form_fail(f, SIM_FORM_EDUP, name, strlen(name));
		goto fail;
	}
	if (f->n == SIM_FORM_MAX_PARAMS) {
		form_fail(f, SIM_FORM_ETOOMANY, name, strlen(name));
		goto fail;
	}
	if (f->n == f->cap) {
		ncap = f->cap ? f->cap * 2 : 16;
		if ((p = reallocarray(f->p, ncap, sizeof(*p))) == NULL) {
			form_fail(f, SIM_FORM_ENOMEM, NULL, 0);
			goto fail;
		}
		f->p = p;
		f->cap = ncap;
	}
	f->p[f->n].name = name;
	f->p[f->n].value = value;
	f->p[f->n].used = 0;
	f->n++;
	return 0;
fail:
	free(name);
	free(value);
	return -1;
}

/* One "name=value" segment. */
static int
form_pair(struct sim_form *f, const char *seg, size_t len)
{
	const char	*eq = memchr(seg, '=', len);
	size_t		 nlen = eq != NULL ? (size_t)(eq - seg) : len;
	char		*name, *value;
	int		 oom;

	if (nlen == 0)
		return form_fail(f, SIM_FORM_EEMPTY, seg, len);
	if ((name = decode(seg, nlen, &oom)) == NULL)
		return form_fail(f, oom ? SIM_FORM_ENOMEM : SIM_FORM_ESYNTAX, seg,
		    nlen);
	if (eq == NULL)
		value = strdup("");
	else
		value = decode(eq + 1, len - nlen - 1, &oom);
	if (value == NULL) {
		form_fail(f, eq == NULL || oom ? SIM_FORM_ENOMEM : SIM_FORM_ESYNTAX,
		    name, strlen(name));
		free(name);
		return -1;
	}
	return form_add(f, name, value);
}

int
sim_form_parse(struct sim_form *f, const char *s, size_t len)
{
	const char	*end = s + len, *amp;

	f->err = SIM_FORM_OK;
	f->errparam[0] = '\0';
	if (s == NULL)
		return len == 0 ? 0 : form_fail(f, SIM_FORM_ESYNTAX, NULL, 0);
	while (s < end) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (amp > s && form_pair(f, s, (size_t)(amp - s)) == -1)
			return -1;
		s = amp + 1;
	}
	return 0;
}

const char *
sim_form_get(struct sim_form *f, const char *name)
{
	struct sim_form_param	*p = form_find(f, name);

	if (p == NULL)
		return NULL;
	p->used = 1;
	return p->value;
}

int
sim_form_check_unused(struct sim_form *f)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (!f->p[i].used)
			return form_fail(f, SIM_FORM_EUNKNOWN, f->p[i].name,
			    strlen(f->p[i].name));
	return 0;
}

/* ---- list shapes ---- */

/* The index at s (decimal, no leading zero, 1..SIM_LIST_MAX), followed by "" or ".x". */
static int
list_index(const char *s, size_t *idx)
{
	size_t	 v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (size_t)(*s - '0')) > SIM_LIST_MAX)
			return -1;
	if (*s != '\0' && (*s != '.' || s[1] == '\0'))
		return -1;
	*idx = v;
	return 0;
}

/*
 * Every parameter under "name." must be an item of this protocol's shape: a Query list
 * sent as Name.N (EC2's shape), or an EC2 list sent as Name.member.N, is what a client
 * with the wrong serializer produces, and is refused.
 */
int
sim_form_list(struct sim_form *f, const char *name, enum sim_list style, size_t *n)
{
	unsigned char	 seen[SIM_LIST_MAX + 1];
	const char	*k, *prefix = style == SIM_LIST_QUERY ? "member." : "";
	size_t		 nlen = strlen(name), plen = strlen(prefix), i, idx;
	size_t		 max = 0, distinct = 0;

	*n = 0;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < f->n; i++) {
		k = f->p[i].name;
		if (strncmp(k, name, nlen) != 0 ||
		    (k[nlen] != '\0' && k[nlen] != '.'))
			continue;
		/* botocore's Query serializer sends an empty list as "Name=". */
		if (k[nlen] == '\0' && style == SIM_LIST_QUERY &&
		    f->p[i].value[0] == '\0') {
			f->p[i].used = 1;
			continue;
		}
		if (k[nlen] == '\0' || strncmp(k + nlen + 1, prefix, plen) != 0 ||
		    list_index(k + nlen + 1 + plen, &idx) == -1)
			return form_fail(f, SIM_FORM_ESHAPE, k, strlen(k));
		if (!seen[idx]++)
			distinct++;
		if (idx > max)
			max = idx;
	}
	if (distinct != max)	/* a gap: item 1 and 3 without 2 */
		return form_fail(f, SIM_FORM_ESHAPE, name, nlen);
	*n = max;
	return 0;
}

int
sim_form_item_name(char *buf, size_t len, const char *name, enum sim_list style,
    size_t i, const char *field)
{
	int	 n;

	n = snprintf(buf, len, "%s.%s%zu%s%s", name,
	    style == SIM_LIST_QUERY ? "member." : "", i, field != NULL ? "." : "",
	    field != NULL ? field : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *
sim_form_item(struct sim_form *f, const char *name, enum sim_list style, size_t i,
    const char *field)
{
	char	 key[512];

	if (sim_form_item_name(key, sizeof(key), name, style, i, field) == -1)
		return NULL;
	return sim_form_get(f, key);
}

/* ---- buffers ---- */

void
sim_buf_add(struct sim_buf *b, const char *s, size_t len)
{
	size_t	 ncap;
	char	*p;

	if (b->err)
		return;
	if (b->len + len + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 256; ncap < b->len + len + 1; ncap *= 2)
			;
		if ((p = realloc(b->s, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->s = p;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void
sim_buf_puts(struct sim_buf *b, const char *s)
{
	sim_buf_add(b, s, strlen(s));
}

void
sim_buf_printf(struct sim_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[256], *big;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sim_buf_add(b, small, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->err = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sim_buf_add(b, big, (size_t)n);
	free(big);
}

void
sim_buf_free(struct sim_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/*
 * AWS escapes only what XML requires in character data: its bodies carry apostrophes
 * and quotes as they are ("The image id '[ami-fake123]' does not exist"). A carriage
 * return is written as a reference so that it survives the parser's line-end
 * normalisation; the other C0 bytes cannot be written in XML 1.0 at all.
 */
static void
escape(struct sim_buf *b, const char *s, int attr)
{
	const char	*run = s;

	for (; *s != '\0'; s++) {
		const char	*rep;
		unsigned char	 c = (unsigned char)*s;

		if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"' && attr)
			rep = "&quot;";
		else if (c == '\r')
			rep = "&#13;";
		else if (c < 0x20 && c != '\n' && c != '\t')
			rep = "\xef\xbf\xbd";
		else
			continue;
		sim_buf_add(b, run, (size_t)(s - run));
		sim_buf_puts(b, rep);
		run = s + 1;
	}
	sim_buf_add(b, run, (size_t)(s - run));
}

void
sim_buf_xml_escape(struct sim_buf *b, const char *s)
{
	escape(b, s, 0);
}

/* ---- the XML writer ---- */

void
sim_xml_init(struct sim_xml *x, int indent)
{
	memset(x, 0, sizeof(*x));
	x->indent = indent;
}

void
sim_xml_free(struct sim_xml *x)
{
	sim_buf_free(&x->b);
}

static void
pad(struct sim_xml *x)
{
	static const char	 spaces[] = "                                ";
	size_t			 n = (size_t)(x->depth * x->indent);

	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		sim_buf_add(&x->b, spaces, sizeof(spaces) - 1);
	sim_buf_add(&x->b, spaces, n);
}

/* <name[suffix] xmlns="ns"> on a line of its own, one level deeper after it. */
static void
open_tag(struct sim_xml *x, const char *name, const char *suffix, const char *xmlns)
{
	pad(x);
	sim_buf_printf(&x->b, "<%s%s", name, suffix);
	if (xmlns != NULL) {
		sim_buf_puts(&x->b, " xmlns=\"");
		escape(&x->b, xmlns, 1);
		sim_buf_puts(&x->b, "\"");
	}
	sim_buf_puts(&x->b, ">\n");
	x->depth++;
}

static void
close_tag(struct sim_xml *x, const char *name, const char *suffix)
{
	if (x->depth > 0)
		x->depth--;
	pad(x);
	sim_buf_printf(&x->b, "</%s%s>\n", name, suffix);
}

void
sim_xml_open(struct sim_xml *x, const char *name, const char *xmlns)
{
	open_tag(x, name, "", xmlns);
}

void
sim_xml_close(struct sim_xml *x, const char *name)
{
	close_tag(x, name, "");
}

void
sim_xml_text(struct sim_xml *x, const char *name, const char *value)
{
	pad(x);
	sim_buf_printf(&x->b, "<%s>", name);
	sim_buf_xml_escape(&x->b, value != NULL ? value : "");
	sim_buf_printf(&x->b, "</%s>\n", name);
}

void
sim_xml_textf(struct sim_xml *x, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		x->b.err = 1;
		s = NULL;
	}
	va_end(ap);
	if (s != NULL)
		sim_xml_text(x, name, s);
	free(s);
}

void
sim_xml_empty(struct sim_xml *x, const char *name)
{
	pad(x);
	sim_buf_printf(&x->b, "<%s/>\n", name);
}

void
sim_xml_query_begin(struct sim_xml *x, const char *op, const char *ns, int result)
{
	open_tag(x, op, "Response", ns);
	if (result)
		open_tag(x, op, "Result", NULL);
}

void
sim_xml_query_end(struct sim_xml *x, const char *op, const char *reqid, int result)
{
	if (result)
		close_tag(x, op, "Result");
	sim_xml_open(x, "ResponseMetadata", NULL);
	sim_xml_text(x, "RequestId", reqid);
	sim_xml_close(x, "ResponseMetadata");
	close_tag(x, op, "Response");
}

void
sim_xml_ec2_begin(struct sim_xml *x, const char *op, const char *ns,
    const char *reqid)
{
	sim_buf_puts(&x->b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	open_tag(x, op, "Response", ns);
	sim_xml_text(x, "requestId", reqid);
}

void
sim_xml_ec2_end(struct sim_xml *x, const char *op)
{
	close_tag(x, op, "Response");
}

/* ---- whole responses ---- */

/* The buffer's content becomes the response body, with the headers every AWS answer has. */
static int
finish(struct sim_resp *r, int status, struct sim_buf *b, const char *ctype,
    const char *reqid, int ec2)
{
	char	*body = b->s;
	size_t	 len = b->len;

	if (b->err || body == NULL) {
		sim_buf_free(b);
		return -1;
	}
	memset(b, 0, sizeof(*b));
	if (sim_resp_take(r, status, ctype, body, len) == -1 ||
	    sim_resp_header(r, "x-amzn-RequestId", reqid) == -1)
		return -1;
	if (ec2) {
		/* EC2 answers chunked, and names itself. */
		r->chunked = 1;
		if (sim_resp_header(r, "Server", "AmazonEC2") == -1)
			return -1;
	}
	return 0;
}

int
sim_wire_query_ok(struct sim_resp *r, struct sim_xml *x, const char *reqid)
{
	return finish(r, 200, &x->b, SIM_CT_QUERY, reqid, 0);
}

int
sim_wire_ec2_ok(struct sim_resp *r, struct sim_xml *x, const char *reqid)
{
	return finish(r, 200, &x->b, SIM_CT_EC2, reqid, 1);
}

int
sim_wire_json_ok(struct sim_resp *r, json_t *j, const char *reqid)
{
	struct sim_buf	 b;
	char		*s;

	memset(&b, 0, sizeof(b));
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return -1;
	sim_buf_puts(&b, s);
	free(s);
	return finish(r, 200, &b, SIM_CT_JSON, reqid, 0);
}

/*
 * aws-errors.md 1.1: no XML declaration, two-space indentation, Type before Code
 * before Message, RequestId beside Error, a final LF. The CFN example is 289 bytes.
 */
int
sim_wire_query_error(struct sim_resp *r, int status, const char *ns, int receiver,
    const char *code, const char *message, const char *reqid)
{
	struct sim_xml	 x;

	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_open(&x, "ErrorResponse", ns);
	sim_xml_open(&x, "Error", NULL);
	sim_xml_text(&x, "Type", receiver ? "Receiver" : "Sender");
	sim_xml_text(&x, "Code", code);
	sim_xml_text(&x, "Message", message);
	sim_xml_close(&x, "Error");
	sim_xml_text(&x, "RequestId", reqid);
	sim_xml_close(&x, "ErrorResponse");
	return finish(r, status, &x.b, SIM_CT_QUERY, reqid, 0);
}

/* aws-errors.md 1.2: the declaration and a LF, then one line, no Type, RequestID. */
int
sim_wire_ec2_error(struct sim_resp *r, int status, const char *code,
    const char *message, const char *reqid)
{
	struct sim_buf	 b;

	memset(&b, 0, sizeof(b));
	sim_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>");
	sim_buf_xml_escape(&b, code);
	sim_buf_puts(&b, "</Code><Message>");
	sim_buf_xml_escape(&b, message);
	sim_buf_puts(&b, "</Message></Error></Errors><RequestID>");
	sim_buf_xml_escape(&b, reqid);
	sim_buf_puts(&b, "</RequestID></Response>");
	return finish(r, status, &b, SIM_CT_EC2, reqid, 1);
}

/*
 * aws-errors.md 10: AWS JSON 1.0 as the query-compatible services answer it (the SQS
 * documentation shows the shape): {"__type":..., "message":...}, and the Query code and
 * fault in x-amzn-query-error, which botocore reads as the error code.
 */
int
sim_wire_json_error(struct sim_resp *r, int status, const char *type,
    const char *code, int receiver, const char *message, const char *reqid)
{
	struct sim_buf	 b;
	json_t		*j;
	char		*s, qe[256];

	memset(&b, 0, sizeof(b));
	if (type != NULL)
		j = json_pack("{ss}", "__type", type);
	else
		j = json_pack("{ss+}", "__type", "com.amazon.coral.service#", code);
	if (j != NULL && message != NULL && *message != '\0' &&
	    json_object_set_new(j, "message", json_string(message)) == -1) {
		json_decref(j);
		j = NULL;
	}
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return -1;
	sim_buf_puts(&b, s);
	free(s);
	snprintf(qe, sizeof(qe), "%s;%s", code, receiver ? "Receiver" : "Sender");
	if (finish(r, status, &b, SIM_CT_JSON, reqid, 0) == -1)
		return -1;
	return sim_resp_header(r, "x-amzn-query-error", qe);
}

/* ---- the catalogue of AWS error texts ---- */

#define INVALID_TOKEN	"The security token included in the request is invalid."
#define BAD_SIGNATURE	"The request signature we calculated does not match the " \
			"signature you provided. Check your AWS Secret Access Key " \
			"and signing method. Consult the service documentation for " \
			"details."
#define BAD_QUERY	"The AWS query string is malformed or does not adhere to " \
			"AWS standards."

static const struct sim_wire_errdef errors[SIM_E_COUNT] = {
	[SIM_E_MISSING_AUTH] = { "missing-authentication-token",
	    "MissingAuthenticationToken", 403, 0, NULL,
	    "Request is missing Authentication Token",
	    "aws-errors.md 1.3 and 8, STS (amzn/selling-partner-api-docs#3081): V" },
	[SIM_E_INCOMPLETE_SIG] = { "incomplete-signature", "IncompleteSignature", 400,
	    0, NULL, "The request signature does not conform to AWS standards.",
	    "U: aws-errors.md 8 (status U); the text is AWS's Common Errors "
	    "description of the code" },
	[SIM_E_BAD_KEY] = { "invalid-client-token-id", "InvalidClientTokenId", 403,
	    0, NULL, INVALID_TOKEN,
	    "aws-errors.md 8, CFN (ministryofjustice/cloud-platform#837): V; STS "
	    "answers it too for a temporary key without its session token" },
	[SIM_E_BAD_SIG] = { "signature-does-not-match", "SignatureDoesNotMatch", 403,
	    0, NULL, BAD_SIGNATURE,
	    "aws-errors.md 8, EC2 (mitchellh/vagrant-aws#138): V; current STS "
	    "sends this sentence alone, without the 2015 canonical-string appendix" },
	[SIM_E_SIG_EXPIRED] = { "signature-expired", "SignatureDoesNotMatch", 403,
	    0, NULL, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
	    "aws-errors.md 8, Query clock skew (aws/aws-cli#6676): S" },
	[SIM_E_SIG_NOT_YET] = { "signature-not-yet-current", "SignatureDoesNotMatch",
	    403, 0, NULL,
	    "Signature not yet current: %s is still later than %s (%s + 15 min.)",
	    "U: the mirror image of signature-expired, for a clock ahead" },
	[SIM_E_EXPIRED_TOKEN] = { "expired-token", "ExpiredToken", 403, 0, NULL,
	    "The security token included in the request is expired",
	    "aws-errors.md 8, CFN/IAM (cfn-sphere/cfn-sphere#55): V" },
	[SIM_E_THROTTLING] = { "throttling", "Throttling", 400, 0, NULL,
	    "Rate exceeded",
	    "aws-errors.md 8 and 9.2, CFN (ansible/ansible-modules-core#224): V" },
	[SIM_E_INVALID_ACTION] = { "invalid-action", "InvalidAction", 400, 0, NULL,
	    "Could not find operation %s for version %s",
	    "STS and SES (aws/aws-cli#37, django-ses/django-ses#158, in the AWSFault "
	    "namespace): V; an absent Version reads NO_VERSION_SPECIFIED" },
	[SIM_E_MISSING_ACTION] = { "missing-action", "MissingAction", 400, 0, NULL,
	    "The request is missing an action or a required parameter.",
	    "U: AWS Common Errors description (STS redirects to "
	    "https://aws.amazon.com/iam instead, as bbsim does for STS)" },
	[SIM_E_QUERY_PARAM] = { "invalid-query-parameter", "InvalidQueryParameter",
	    400, 0, NULL, BAD_QUERY,
	    "bbsim's choice, AWS's Common Errors code and text: real Query services "
	    "keep the first of two values and ignore unknown parameters" },
	[SIM_E_MALFORMED_QS] = { "malformed-query-string", "MalformedQueryString",
	    404, 0, NULL, "The query string contains a syntax error.",
	    "M: AWS Common Errors (code, status 404 and text)" },
	[SIM_E_EC2_MISSING_AUTH] = { "ec2-missing-authentication",
	    "MissingParameter", 400, 0, NULL,
	    "The request must contain the parameter AWSAccessKeyId",
	    "EC2 (test-kitchen/kitchen-ec2#440, awsdocs/aws-doc-sdk-examples#4026): "
	    "S; status U" },
	[SIM_E_EC2_AUTH_FAILURE] = { "ec2-auth-failure", "AuthFailure", 401, 0, NULL,
	    "AWS was not able to validate the provided access credentials",
	    "aws-errors.md 8 and 9.2, EC2 (markcaudill/haproxy-autoscale#20): V" },
	[SIM_E_EC2_EXPIRED] = { "ec2-request-expired", "RequestExpired", 400, 0,
	    NULL, "Request has expired.",
	    "aws-errors.md 8, EC2 (aws/aws-sdk-java#1443): S" },
	[SIM_E_EC2_THROTTLED] = { "ec2-request-limit-exceeded",
	    "RequestLimitExceeded", 503, 0, NULL, "Request limit exceeded.",
	    "aws-errors.md 8 and 9.2, EC2 (karamelchef/karamel#46): S" },
	[SIM_E_EC2_INVALID_ACTION] = { "ec2-invalid-action", "InvalidAction", 400, 0,
	    NULL, "The action %s is not valid for this web service.",
	    "EC2 (boto/boto#1282, cloudquery/cq-provider-aws#235): V" },
	[SIM_E_EC2_NO_VERSION] = { "ec2-no-such-version", "NoSuchVersion", 400, 0,
	    NULL, "The requested version (%s) of service AmazonEC2 does not exist",
	    "EC2 (boto/boto3#1138): S; status U" },
	[SIM_E_EC2_MISSING_PARAM] = { "ec2-missing-parameter", "MissingParameter",
	    400, 0, NULL, "The request must contain the parameter %s",
	    "EC2, as ec2-missing-authentication: S" },
	[SIM_E_EC2_UNKNOWN_PARAM] = { "ec2-unknown-parameter", "UnknownParameter",
	    400, 0, NULL, "The parameter %s is not recognized",
	    "EC2 (appoxy/aws#32, aws/aws-sdk-cpp#327): V" },
	[SIM_E_EC2_QUERY_PARAM] = { "ec2-invalid-query-parameter",
	    "InvalidQueryParameter", 400, 0, NULL, BAD_QUERY,
	    "bbsim's choice, as invalid-query-parameter" },
	[SIM_E_JSON_UNKNOWN_OP] = { "json-unknown-operation",
	    "UnknownOperationException", 400, 0,
	    "com.amazon.coral.service#UnknownOperationException", "",
	    "U: the Coral JSON answer to an X-Amz-Target it does not know" },
	[SIM_E_JSON_SERIALIZATION] = { "json-serialization",
	    "SerializationException", 400, 0,
	    "com.amazon.coral.service#SerializationException", "",
	    "U: the Coral JSON answer to a body that is not JSON" },
	[SIM_E_JSON_THROTTLING] = { "json-throttling", "Throttling", 400, 0,
	    "com.amazon.coral.availability#ThrottlingException", "Rate exceeded",
	    "U: the JSON form of throttling (code through x-amzn-query-error)" },
	[SIM_E_INTERNAL] = { "internal-failure", "InternalFailure", 500, 1, NULL,
	    "The request processing has failed because of an unknown error, "
	    "exception or failure.",
	    "M: AWS Common Errors (an operation of bbsim failed, out of memory, or "
	    "a fault rule)" },
	/* The four below are only sent by fault rules (POST /_sim/faults). */
	[SIM_E_SERVICE_UNAVAILABLE] = { "service-unavailable", "ServiceUnavailable",
	    503, 1, NULL,
	    "The request has failed due to a temporary failure of the server.",
	    "M: AWS Common Errors (code, status 503 and text); Receiver: a fault "
	    "of the server" },
	[SIM_E_RESOURCE_CONTENTION] = { "resource-contention", "ResourceContention",
	    500, 0, NULL, "You already have a pending update to an Amazon EC2 Auto "
	    "Scaling resource (for example, an Auto Scaling group, instance, or load "
	    "balancer).",
	    "U: aws-errors.md 8 and 9.2, the Auto Scaling model's documentation; "
	    "500, and Sender as the model's senderFault says" },
	[SIM_E_SCALING_ACTIVITY] = { "scaling-activity-in-progress",
	    "ScalingActivityInProgress", 400, 0, NULL,
	    "Scaling activity %s is in progress and blocks this action.",
	    "aws-errors.md 8, SetDesiredCapacity (aws/aws-cli#2226): S" },
	[SIM_E_ACTIVITY_IN_PROGRESS] = { "activity-in-progress",
	    "ScalingActivityInProgress", 400, 0, NULL, "Activity %s is in progress.",
	    "aws-errors.md 8, TerminateInstanceInAutoScalingGroup "
	    "(kubernetes/kops#6900): S" },
};

static char	*overrides[SIM_E_COUNT];

const struct sim_wire_errdef *
sim_error_get(enum sim_wire_err e)
{
	BB_ASSERT(e >= 0 && e < SIM_E_COUNT);
	return &errors[e];
}

const char *
sim_error_text(enum sim_wire_err e)
{
	const struct sim_wire_errdef	*err = sim_error_get(e);

	return overrides[e] != NULL ? overrides[e] : err->text;
}

char *
sim_error_format(enum sim_wire_err e, const char *const *args, size_t nargs, char *buf,
    size_t len)
{
	struct sim_buf	 b;
	const char	*t = sim_error_text(e), *run = t;
	size_t		 k = 0;

	memset(&b, 0, sizeof(b));
	for (; *t != '\0'; t++) {
		if (*t != '%' || (t[1] != 's' && t[1] != '%'))
			continue;
		sim_buf_add(&b, run, (size_t)(t - run));
		if (t[1] == '%')
			sim_buf_puts(&b, "%");
		else if (k < nargs && args[k] != NULL)
			sim_buf_puts(&b, args[k++]);
		else
			k++;
		run = ++t + 1;
	}
	sim_buf_add(&b, run, strlen(run));
	snprintf(buf, len, "%s", b.err || b.s == NULL ? "" : b.s);
	sim_buf_free(&b);
	return buf;
}

/* The number of "%s" in t, or -1 if it has another conversion. */
static int
conversions(const char *t)
{
	int	 n = 0;

	for (; *t != '\0'; t++) {
		if (*t != '%')
			continue;
		if (t[1] == 's')
			n++;
		else if (t[1] != '%')
			return -1;
		t++;
	}
	return n;
}

int
sim_error_override(const char *name, const char *text)
{
	char	*copy = NULL;
	size_t	 i;

	for (i = 0; i < SIM_E_COUNT; i++)
		if (strcmp(errors[i].name, name) == 0)
			break;
	if (i == SIM_E_COUNT)
		return -1;
	if (text != NULL && (conversions(text) != conversions(errors[i].text) ||
	    (copy = strdup(text)) == NULL))
		return -1;
	free(overrides[i]);
	overrides[i] = copy;
	return 0;
}

void
sim_error_reset(void)
{
	size_t	 i;

	for (i = 0; i < SIM_E_COUNT; i++) {
		free(overrides[i]);
		overrides[i] = NULL;
	}
}

json_t *
sim_error_catalogue(void)
{
	json_t	*a = json_array(), *o;
	size_t	 i;

	for (i = 0; a != NULL && i < SIM_E_COUNT; i++) {
		o = json_pack("{ss ss si ss ss sb}", "name", errors[i].name,
		    "code", errors[i].code, "status", errors[i].status,
		    "message", sim_error_text((enum sim_wire_err)i),
		    "evidence", errors[i].evidence, "overridden",
		    overrides[i] != NULL);
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
