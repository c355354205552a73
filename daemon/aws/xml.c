/*
 * AWS response XML (see xml.h). The parser is libxml2 with entity substitution, DTD
 * loading and network access off, and a SAX hook that stops it at the first DOCTYPE:
 * AWS never sends one, and refusing it before the internal subset is read is what
 * keeps an entity bomb from costing anything. Never logs: a response can carry
 * credentials (STS), so only the caller decides what to print.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "daemon/aws/xml.h"

/*
 * No XML_PARSE_NOENT (entities stay unexpanded), no XML_PARSE_DTDLOAD, no
 * XML_PARSE_HUGE (keep libxml2's own size and depth limits); NOCDATA folds CDATA
 * into text so a leaf has at most one text node; NOERROR/NOWARNING keep libxml2
 * from printing to stderr.
 */
#define PARSE_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | \
			 XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

struct parse_state {
	int	doctype;
};

void
aws_xml_init(void)
{
	xmlInitParser();
}

void
aws_xml_shutdown(void)
{
	xmlCleanupParser();
}

/* SAX internalSubset: called at "<!DOCTYPE name ...", before any declaration. */
static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	xmlParserCtxtPtr	 ctxt = ctx;
	struct parse_state	*st = ctxt->_private;

	(void)name;
	(void)eid;
	(void)sid;
	st->doctype = 1;
	xmlStopParser(ctxt);
}

static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* libxml2's message names elements and positions, never text content. */
static void
set_xml_err(char *err, size_t errlen, xmlParserCtxtPtr ctxt)
{
	const xmlError	*e = xmlCtxtGetLastError(ctxt);
	char		 msg[128];
	size_t		 i;

	if (err == NULL || errlen == 0)
		return;
	if (e == NULL || e->message == NULL) {
		snprintf(err, errlen, "malformed XML");
		return;
	}
	snprintf(msg, sizeof(msg), "%s", e->message);
	for (i = 0; msg[i] != '\0'; i++)
		if (!isprint((unsigned char)msg[i]))
			msg[i] = ' ';
	while (i > 0 && msg[i - 1] == ' ')	/* libxml2 ends it with "\n" */
		msg[--i] = '\0';
	snprintf(err, errlen, "malformed XML at line %d: %s", e->line, msg);
}

/* Recurses at most AWS_XML_MAX_DEPTH + 1 deep: it answers before going further. */
static int
too_deep(const xmlNode *n, int depth)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (depth > AWS_XML_MAX_DEPTH)
			return 1;
		if (too_deep(n->children, depth + 1))
			return 1;
	}
	return 0;
}

/* Checks what a parse gave; frees and NULLs doc if it must be refused. */
static xmlDoc *
vet(xmlDoc *doc, const struct parse_state *st, xmlParserCtxtPtr ctxt, char *err,
    size_t errlen)
{
	const char	*why = NULL;

	if (st->doctype || (doc != NULL &&
	    (doc->intSubset != NULL || doc->extSubset != NULL)))
		why = "DOCTYPE refused";
	else if (doc == NULL) {
		set_xml_err(err, errlen, ctxt);
		return NULL;
	} else if (xmlDocGetRootElement(doc) == NULL)
		why = "no root element";
	else if (too_deep(xmlDocGetRootElement(doc), 1))
		why = "elements nested too deep";
	if (why == NULL)
		return doc;
	set_err(err, errlen, why);
	xmlFreeDoc(doc);
	return NULL;
}

xmlDoc *
aws_xml_parse(const char *body, size_t len, char *err, size_t errlen)
{
	struct parse_state	 st = { 0 };
	xmlParserCtxtPtr	 ctxt;
	xmlDoc			*doc;

	set_err(err, errlen, "");
	if (body == NULL || len == 0) {
		set_err(err, errlen, "empty body");
		return NULL;
	}
	if (len > AWS_XML_MAX_BYTES) {
		set_err(err, errlen, "body too large");
		return NULL;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	/* Our own context, not xmlReadMemory(): the hook must be set before parsing. */
	ctxt->_private = &st;
	ctxt->sax->internalSubset = on_doctype;
	doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL, PARSE_OPTIONS);
	doc = vet(doc, &st, ctxt, err, errlen);
	xmlFreeParserCtxt(ctxt);
	return doc;
}

void
aws_xml_free(xmlDoc *doc)
{
	if (doc != NULL)
		xmlFreeDoc(doc);
}

static int
is_named(const xmlNode *n, const char *name, size_t len)
{
	const char	*nm = (const char *)n->name;

	return n->type == XML_ELEMENT_NODE && nm != NULL &&
	    strncmp(nm, name, len) == 0 && nm[len] == '\0';
}

static xmlNode *
child(const xmlNode *parent, const char *name, size_t len)
{
	xmlNode	*c;

	for (c = parent->children; c != NULL; c = c->next)
		if (is_named(c, name, len))
			return c;
	return NULL;
}

xmlNode *
aws_xml_find(const xmlNode *from, const char *path)
{
	const char	*seg, *end;

	if (from == NULL || path == NULL)
		return NULL;
	for (seg = path; *seg != '\0'; seg = *end == '/' ? end + 1 : end) {
		end = strchrnul(seg, '/');
		if (end == seg || (from = child(from, seg, (size_t)(end - seg))) == NULL)
			return NULL;
	}
	return (xmlNode *)from;
}

xmlNode *
aws_xml_result(const xmlDoc *doc, const char *action)
{
	xmlNode	*root, *res;
	char	 name[128];
	int	 n;

	if (doc == NULL || action == NULL ||
	    (root = xmlDocGetRootElement(doc)) == NULL)
		return NULL;
	n = snprintf(name, sizeof(name), "%sResponse", action);
	if (n < 0 || (size_t)n >= sizeof(name) || !is_named(root, name, (size_t)n))
		return NULL;
	n = snprintf(name, sizeof(name), "%sResult", action);
	res = child(root, name, (size_t)n);
	return res != NULL ? res : root;
}

xmlNode *
aws_xml_first(const xmlNode *list, const char *name)
{
	if (list == NULL || name == NULL)
		return NULL;
	return child(list, name, strlen(name));
}

xmlNode *
aws_xml_next(const xmlNode *item)
{
	xmlNode	*n;

	if (item == NULL)
		return NULL;
	for (n = item->next; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(n->name, item->name))
			return n;
	return NULL;
}

size_t
aws_xml_count(const xmlNode *list, const char *name)
{
	const xmlNode	*it;
	size_t		 n = 0;

	AWS_XML_FOREACH(it, list, name)
		n++;
	return n;
}

const char *
aws_xml_text(const xmlNode *from, const char *path)
{
	const xmlNode	*el = aws_xml_find(from, path), *c;

	if (el == NULL || el->type != XML_ELEMENT_NODE)
		return NULL;
	if ((c = el->children) == NULL)
		return "";
	/* Text and CDATA arrive as one node (NOCDATA); anything else is no leaf. */
	if (c->next != NULL || c->type != XML_TEXT_NODE || c->content == NULL)
		return NULL;
	return (const char *)c->content;
}

int
aws_xml_copy(const xmlNode *from, const char *path, char *buf, size_t len)
{
	const char	*s = aws_xml_text(from, path);
	size_t		 n;

	if (s == NULL || buf == NULL || (n = strlen(s)) >= len)
		return -1;
	memcpy(buf, s, n + 1);
	return 0;
}

char *
aws_xml_strdup(const xmlNode *from, const char *path)
{
	const char	*s = aws_xml_text(from, path);

	return s != NULL ? strdup(s) : NULL;
}

int
aws_xml_int64(const xmlNode *from, const char *path, int64_t *out)
{
	const char	*s = aws_xml_text(from, path), *d;
	char		*end;
	long long	 v;

	if (s == NULL)
		return -1;
	d = s[0] == '-' ? s + 1 : s;
	/* strtoll alone would take spaces, a '+' and "0x". */
	if (!isdigit((unsigned char)d[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
aws_xml_int(const xmlNode *from, const char *path, int *out)
{
	int64_t	 v;

	if (aws_xml_int64(from, path, &v) == -1 || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
aws_xml_double(const xmlNode *from, const char *path, double *out)
{
	const char	*s = aws_xml_text(from, path);
	char		*end;
	double		 v;

	/* Only what a decimal number is made of: no "nan", "inf", hex or spaces. */
	if (s == NULL || s[0] == '\0' || s[strspn(s, "0123456789+-.eE")] != '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
aws_xml_bool(const xmlNode *from, const char *path, int *out)
{
	const char	*s = aws_xml_text(from, path);

	if (s == NULL)
		return -1;
	if (strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Exactly n decimal digits at s. */
static int
digits(const char *s, int n, int *out)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int	 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[m - 1] + (m == 2 && is_leap(y));
}

/* Leap days in the years 1 .. y-1. */
static int64_t
leaps_before(int y)
{
	return (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
}

static int64_t
days_since_epoch(int y, int m, int d)
{
	static const int	 before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
	    273, 304, 334 };

	return 365 * (int64_t)(y - 1970) + leaps_before(y) - leaps_before(1970) +
	    before[m - 1] + (m > 2 && is_leap(y)) + (d - 1);
}

/* ".fraction" at s[*i]: milliseconds (truncated), 1 to 9 digits. */
static int
fraction(const char *s, size_t len, size_t *i, int *ms)
{
	size_t	 start = ++*i;
	int	 v = 0;

	for (; *i < len && isdigit((unsigned char)s[*i]); ++*i)
		if (*i - start < 3)
			v = v * 10 + (s[*i] - '0');
	if (*i == start || *i - start > 9)
		return -1;
	for (size_t n = *i - start; n < 3; n++)
		v *= 10;
	*ms = v;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" ending s at s[i]: the offset east of UTC in seconds. */
static int
zone(const char *s, size_t len, size_t i, int *off)
{
	int	 hh, mm;

	if (len - i == 1 && (s[i] == 'Z' || s[i] == 'z')) {
		*off = 0;
		return 0;
	}
	if (len - i != 6 || (s[i] != '+' && s[i] != '-') ||
	    digits(s + i + 1, 2, &hh) == -1 || s[i + 3] != ':' ||
	    digits(s + i + 4, 2, &mm) == -1 || hh > 23 || mm > 59)
		return -1;
	*off = (s[i] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return 0;
}

int
aws_xml_parse_time_ms(const char *s, size_t len, int64_t *out)
{
	int	 y, mo, d, h, mi, sec, ms = 0, off;
	size_t	 i = 19;

	if (s == NULL || len < 20 || digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) == -1)
		return -1;
	if (s[i] == '.' && fraction(s, len, &i, &ms) == -1)
		return -1;
	if (i >= len || zone(s, len, i, &off) == -1)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -1;
	*out = ((days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
	    off) * 1000 + ms;
	return 0;
}

int
aws_xml_time_ms(const xmlNode *from, const char *path, int64_t *out)
{
	const char	*s = aws_xml_text(from, path);

	if (s == NULL)
		return -1;
	return aws_xml_parse_time_ms(s, strlen(s), out);
}

int
aws_xml_time(const xmlNode *from, const char *path, time_t *out)
{
	int64_t	 ms, t;

	if (aws_xml_time_ms(from, path, &ms) == -1)
		return -1;
	/* Rounded down: an offset may put it just before the epoch. */
	t = ms / 1000 - (ms % 1000 < 0);
	*out = (time_t)t;
	return 0;
}

const char *
aws_xml_next_token(const xmlNode *result)
{
	const char	*s;

	if ((s = aws_xml_text(result, "NextToken")) == NULL)
		s = aws_xml_text(result, "nextToken");
	return s != NULL && s[0] != '\0' ? s : NULL;
}

const char *
aws_xml_request_id(const xmlDoc *doc)
{
	static const char *const paths[] = {
		"ResponseMetadata/RequestId",	/* Query success */
		"requestId",			/* EC2 success */
		"RequestId",			/* Query error */
		"RequestID",			/* EC2 error */
	};
	xmlNode		*root;
	const char	*s;
	size_t		 i;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((s = aws_xml_text(root, paths[i])) != NULL && s[0] != '\0')
			return s;
	return NULL;
}

/* Copies src, cut at a UTF-8 character boundary if it does not fit. */
static void
copy_cut(char *dst, size_t dstlen, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A code we will match on: short, and nothing a log line or table could trip on. */
static int
usable_code(const char *code)
{
	size_t	 n;

	if (code == NULL || (n = strlen(code)) == 0 || n > AWS_ERR_CODE_MAX)
		return 0;
	return code[strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-")] == '\0';
}

/* The <Error> element of either envelope. */
static xmlNode *
error_element(const xmlDoc *doc)
{
	xmlNode	*root;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		return NULL;
	if (is_named(root, "ErrorResponse", 13))
		return aws_xml_find(root, "Error");
	if (is_named(root, "Response", 8))
		return aws_xml_find(root, "Errors/Error");
	return NULL;
}

int
aws_xml_error_doc(const xmlDoc *doc, int status, struct aws_error *out)
{
	const xmlNode	*err;
	const char	*code, *s;

	memset(out, 0, sizeof(*out));
	out->status = status;
	if ((err = error_element(doc)) == NULL ||
	    !usable_code(code = aws_xml_text(err, "Code")))
		return -1;
	memcpy(out->code, code, strlen(code) + 1);
	if ((s = aws_xml_text(err, "Type")) != NULL && strlen(s) <= AWS_ERR_TYPE_MAX)
		memcpy(out->type, s, strlen(s) + 1);
	if ((s = aws_xml_text(err, "Message")) != NULL)
		copy_cut(out->message, sizeof(out->message), s);
	if ((s = aws_xml_request_id(doc)) != NULL)
		copy_cut(out->request_id, sizeof(out->request_id), s);
	return 0;
}

int
aws_xml_error(const char *body, size_t len, int status, struct aws_error *out)
{
	xmlDoc	*doc;
	int	 rc;

	doc = aws_xml_parse(body, len, NULL, 0);
	rc = aws_xml_error_doc(doc, status, out);
	aws_xml_free(doc);
	return rc;
}
