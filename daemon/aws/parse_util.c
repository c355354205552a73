/*
 * Typed field readers and the operation runner (see parse_util.h). Never logs: an
 * answer can carry secrets (STS), and a request a NoEcho parameter's key at least;
 * the caller decides what to print.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/parse_util.h"

int
aws_perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
aws_perr_in(char *err, size_t errlen, const char *fmt, ...)
{
	char	 ctx[128], *msg;
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if ((msg = strdup(err)) == NULL)
		return -1;
	snprintf(err, errlen, "%s: %s", ctx, msg);
	free(msg);
	return -1;
}

void
aws_copy_cut(char *dst, size_t len, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The element at path: 1 if there, 0 if absent and optional, -1 (err) if absent
 * and required.
 */
static int
present(const xmlNode *from, const char *path, int req, char *err, size_t errlen)
{
	if (aws_xml_find(from, path) != NULL)
		return 1;
	if (req)
		return aws_perr(err, errlen, "missing %s", path);
	return 0;
}

/* How messages name the field at path: "" is the element itself. */
static const char *
field(const char *path)
{
	return path[0] != '\0' ? path : "value";
}

int
aws_get_str(const xmlNode *from, const char *path, int req, char *buf, size_t len,
    char *err, size_t errlen)
{
	const char	*s;
	int		 rc;

	buf[0] = '\0';
	if ((rc = present(from, path, req, err, errlen)) != 1)
		return rc;
	if ((s = aws_xml_text(from, path)) == NULL)
		return aws_perr(err, errlen, "%s is not a text element", field(path));
	if (req && s[0] == '\0')
		return aws_perr(err, errlen, "empty %s", field(path));
	if (strlen(s) >= len)
		return aws_perr(err, errlen, "%s longer than %zu bytes", field(path),
		    len - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

void
aws_get_text(const xmlNode *from, const char *path, char *buf, size_t len)
{
	const char	*s = aws_xml_text(from, path);

	aws_copy_cut(buf, len, s != NULL ? s : "");
}

int
aws_get_int(const xmlNode *from, const char *path, int req, int *out, char *err,
    size_t errlen)
{
	int	 rc;

	if ((rc = present(from, path, req, err, errlen)) != 1)
		return rc;
	if (aws_xml_int(from, path, out) == -1)
		return aws_perr(err, errlen, "%s is not an integer", field(path));
	return 0;
}

int
aws_get_bool(const xmlNode *from, const char *path, int req, bool *out, char *err,
    size_t errlen)
{
	int	 rc, v;

	if ((rc = present(from, path, req, err, errlen)) != 1)
		return rc;
	if (aws_xml_bool(from, path, &v) == -1)
		return aws_perr(err, errlen, "%s is not true or false",
		    field(path));
	*out = v != 0;
	return 0;
}

int
aws_get_double(const xmlNode *from, const char *path, int req, double *out,
    char *err, size_t errlen)
{
	int	 rc;

	if ((rc = present(from, path, req, err, errlen)) != 1)
		return rc;
	if (aws_xml_double(from, path, out) == -1)
		return aws_perr(err, errlen, "%s is not a number", field(path));
	return 0;
}

int
aws_get_time(const xmlNode *from, const char *path, int req, int64_t *out,
    char *err, size_t errlen)
{
	int	 rc;

	if ((rc = present(from, path, req, err, errlen)) != 1)
		return rc;
	if (aws_xml_time_ms(from, path, out) == -1)
		return aws_perr(err, errlen, "%s is not an ISO 8601 time",
		    field(path));
	return 0;
}

int
aws_get_list(const xmlNode *from, const char *path, int req, const char *item,
    size_t max, const xmlNode **list, size_t *n, char *err, size_t errlen)
{
	const xmlNode	*el, *c;
	size_t		 count = 0;

	*list = NULL;
	*n = 0;
	if ((el = aws_xml_find(from, path)) == NULL)
		return req ? aws_perr(err, errlen, "missing %s", path) : 0;
	for (c = el->children; c != NULL; c = c->next) {
		/* An empty list may still hold the whitespace it was indented with. */
		if (c->type == XML_COMMENT_NODE || xmlIsBlankNode(c))
			continue;
		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, item) != 0)
			return aws_perr(err, errlen, "%s is not a list of <%s>",
			    path, item);
		if (++count > max)
			return aws_perr(err, errlen, "%s has more than %zu items",
			    path, max);
	}
	*list = el;
	*n = count;
	return 0;
}

int
aws_get_next(const xmlNode *result, char *buf, size_t len, char *err, size_t errlen)
{
	const char	*s = aws_xml_next_token(result);

	buf[0] = '\0';
	if (s == NULL)
		return 0;
	if (strlen(s) >= len)
		return aws_perr(err, errlen, "NextToken longer than %zu bytes",
		    len - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

int
aws_get_flags(const xmlNode *from, const char *path, const char *const *names,
    size_t nnames, unsigned unknown, unsigned *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	const char	*s;
	size_t		 n, i;

	*out = 0;
	if (aws_get_list(from, path, AWS_OPT, AWS_XML_MEMBER, 32, &list, &n, err,
	    errlen) == -1)
		return -1;
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if ((s = aws_xml_text(m, "")) == NULL)
			return aws_perr(err, errlen, "%s has a member that is not text",
			    path);
		for (i = 0; i < nnames && strcmp(s, names[i]) != 0; i++)
			;
		*out |= i < nnames ? 1u << i : unknown;
	}
	return 0;
}

void *
aws_alloc_array(size_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *
aws_append_array(void *items, size_t n, const void *more, size_t nmore, size_t size,
    size_t max)
{
	void	*p;

	if (n > max || nmore > max - n)
		return NULL;
	if ((p = reallocarray(items, n + nmore == 0 ? 1 : n + nmore, size)) == NULL)
		return NULL;
	if (nmore > 0)
		memcpy((char *)p + n * size, more, nmore * size);
	return p;
}

/* --- operations ----------------------------------------------------------- */

struct aws_op {
	struct aws_client		*client;
	const struct aws_op_spec	*spec;
	void				*ctx;
	struct aws_query		*reqs;
	size_t				 nreq;
	size_t				 cur;		/* the request being followed */
	struct aws_call			*call;		/* in flight, or NULL */
	int				 pages;
	int				 cancelled;
	int				 sent_failed;	/* the client will refuse it */
	char				 action[64];
	char				 token[AWS_NEXT_MAX + 1];	/* "": page 1 */
	char				 why[256];
};

static aws_call_fn	 call_fn = aws_call;
static void		(*cancel_fn)(struct aws_call *) = aws_call_cancel;

void
aws_op_set_transport(aws_call_fn call, void (*cancel)(struct aws_call *))
{
	call_fn = call != NULL ? call : aws_call;
	cancel_fn = cancel != NULL ? cancel : aws_call_cancel;
}

static int
clone_query(struct aws_query *dst, const struct aws_query *src)
{
	size_t	 i;

	if (aws_query_init(dst, src->service, aws_query_get(src, "Action")) == -1)
		return -1;
	/* Action and Version are the first two (aws_query_init()): set above. */
	for (i = 2; i < src->nparams; i++)
		if (aws_query_add(dst, src->params[i].name, src->params[i].value) == -1)
			return -1;
	return 0;
}

static void	on_answer(const struct aws_result *, void *);

/*
 * Sends the current request (again, with the token of the page wanted). The
 * queued one stays as the template of its pages, so each send is a copy.
 */
static void
send_next(struct aws_op *op)
{
	struct aws_query	*req = &op->reqs[op->cur];
	struct aws_query	 q;

	if (req->failed) {
		/* As it is: the client refuses it and calls back with the failure. */
		q = *req;
		memset(req, 0, sizeof(*req));
	} else if (clone_query(&q, req) == 0 && op->token[0] != '\0')
		aws_query_add(&q, "NextToken", op->token);
	if ((op->sent_failed = q.failed) && op->why[0] == '\0')
		snprintf(op->why, sizeof(op->why), "%s: out of memory", op->action);
	op->call = call_fn(op->client, &q, 0, on_answer, op);
}

static void
discard(struct aws_query *reqs, size_t nreq, const struct aws_op_spec *spec,
    void *ctx)
{
	size_t	 i;

	for (i = 0; i < nreq; i++)
		aws_query_free(&reqs[i]);
	if (ctx != NULL && spec != NULL && spec->release != NULL)
		spec->release(ctx);
	free(ctx);
}

static void
finish(struct aws_op *op, const struct aws_result *r)
{
	op->spec->done(r, op->ctx);
	discard(op->reqs, op->nreq, op->spec, op->ctx);
	free(op->reqs);
	free(op);
}

/* Ends the operation with an error of ours: code may be "", why is the detail. */
static void
finish_error(struct aws_op *op, const struct aws_result *r, const char *code,
    const char *why)
{
	struct aws_result	 bad = *r;

	bad.errclass = AWS_ERRCLASS_OTHER;
	bad.result = NULL;
	aws_copy_cut(bad.error.code, sizeof(bad.error.code), code);
	aws_copy_cut(bad.error.message, sizeof(bad.error.message), why);
	bad.detail = why;
	finish(op, &bad);
}

/* A page asked for another: 0 to send it, -1 (why) if the chain is not sane. */
static int
next_page(struct aws_op *op, const char *next, char *why, size_t whylen)
{
	if (next[0] == '\0' || strcmp(next, op->token) == 0)
		return aws_perr(why, whylen, "%s: NextToken empty or repeated",
		    op->action);
	if (++op->pages >= AWS_OP_MAX_PAGES)
		return aws_perr(why, whylen, "%s: more than %d pages", op->action,
		    AWS_OP_MAX_PAGES);
	memcpy(op->token, next, strlen(next) + 1);
	return 0;
}

/* The answer is an error: pass it on, with our reason if we sent a bad query. */
static void
answer_failed(struct aws_op *op, const struct aws_result *r)
{
	struct aws_result	 failed;

	if (!op->sent_failed) {
		finish(op, r);
		return;
	}
	failed = *r;
	failed.detail = op->why;
	finish(op, &failed);
}

static void
on_answer(const struct aws_result *r, void *arg)
{
	struct aws_op	*op = arg;
	char		 next[AWS_NEXT_MAX + 1], err[512], why[640];
	int		 rc = 0;

	op->call = NULL;
	next[0] = '\0';
	if (r->errclass != AWS_ERRCLASS_OK)
		answer_failed(op, r);
	else if (op->cancelled)
		finish_error(op, r, "Cancelled", "cancelled");
	else if (op->spec->page != NULL && (rc = op->spec->page(r->result,
	    op->ctx, next, sizeof(next), err, sizeof(err))) == -1) {
		snprintf(why, sizeof(why), "%s: malformed answer: %s", op->action,
		    err);
		finish_error(op, r, "", why);
	} else if (rc == 1 && next_page(op, next, why, sizeof(why)) == -1)
		finish_error(op, r, "", why);
	else if (rc == 1)
		send_next(op);
	else if (++op->cur < op->nreq) {
		op->token[0] = '\0';
		op->pages = 0;
		send_next(op);
	} else
		finish(op, r);
}

struct aws_op *
aws_op_start(struct aws_client *client, struct aws_query *reqs, size_t nreq,
    const struct aws_op_spec *spec, void *ctx, const char *why)
{
	struct aws_op	*op = NULL;
	const char	*action;
	size_t		 i;

	/* The client never calls back without a client: nothing would end the op. */
	if (ctx == NULL || nreq == 0 || nreq > AWS_OP_MAX_REQUESTS ||
	    (client == NULL && call_fn == aws_call) ||
	    (op = calloc(1, sizeof(*op))) == NULL ||
	    (op->reqs = calloc(nreq, sizeof(*op->reqs))) == NULL) {
		discard(reqs, nreq, spec, ctx);
		free(op);
		return NULL;
	}
	op->client = client;
	op->spec = spec;
	op->ctx = ctx;
	op->nreq = nreq;
	for (i = 0; i < nreq; i++) {
		op->reqs[i] = reqs[i];
		memset(&reqs[i], 0, sizeof(reqs[i]));
	}
	action = aws_query_get(&op->reqs[0], "Action");
	aws_copy_cut(op->action, sizeof(op->action), action != NULL ? action : "AWS");
	if (why != NULL)
		snprintf(op->why, sizeof(op->why), "%s: %s", op->action, why);
	send_next(op);
	return op;
}

void
aws_op_cancel(struct aws_op *op)
{
	if (op == NULL || op->cancelled)
		return;
	op->cancelled = 1;
	if (op->call != NULL)
		cancel_fn(op->call);
}

/* --- operations without a typed outcome ----------------------------------- */

struct plain_ctx {
	aws_cb	 cb;
	void	*arg;
};

static void
plain_done(const struct aws_result *r, void *ctx)
{
	struct plain_ctx	*c = ctx;

	c->cb(r, c->arg);
}

static const struct aws_op_spec plain_spec = { NULL, plain_done, NULL };

struct aws_op *
aws_op_plain(struct aws_client *client, struct aws_query *reqs, size_t nreq,
    aws_cb cb, void *arg, const char *why)
{
	struct plain_ctx	*c;

	if ((c = malloc(sizeof(*c))) != NULL) {
		c->cb = cb;
		c->arg = arg;
	}
	return aws_op_start(client, reqs, nreq, &plain_spec, c, why);
}
