/*
 * What the service modules (cloudformation.c, autoscaling.c, ec2.c, cloudwatch.c,
 * elb.c, sts.c) share: typed field readers over aws/xml.h that name the field when
 * they refuse, bounded lists, and the operation runner that turns one or more
 * aws_call()s (pages, chunks) into one typed callback.
 *
 * The readers are pure. They never guess: a required field that is absent, not a
 * leaf, malformed or longer than its buffer is an error naming it; an optional one
 * that is absent leaves the caller's default. Free text (reasons, messages) is the
 * one exception: it is cut at a UTF-8 boundary rather than refused, because a long
 * reason must not hide the status it explains.
 */
#ifndef BB_AWS_PARSE_UTIL_H
#define BB_AWS_PARSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "daemon/aws/client.h"

/* Buffer classes (bytes, without the NUL) shared by the typed results. */
#define AWS_ID_MAX	31	/* instance ids (19 in the models), zones */
#define AWS_ENUM_MAX	63	/* status codes and other enumerations */
#define AWS_NAME_MAX	255	/* names, keys, logical ids, resource types */
#define AWS_ARN_MAX	2047	/* ARNs and physical ids (RoleARN: 2048 less one) */
#define AWS_TEXT_MAX	2047	/* free text, cut (as aws_error's message) */
#define AWS_NEXT_MAX	4095	/* pagination tokens */

#define AWS_REQ		1	/* the field must be there */
#define AWS_OPT		0

/* Sets err to the message; returns -1 so that a refusal is one statement. */
int	aws_perr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Puts "<context>: " in front of the message already in err; returns -1. */
int	aws_perr_in(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Field readers at path below from (as aws_xml_find()). 0, or -1 with err naming
 * path. An absent optional field leaves the output alone (strings become "").
 */
int	aws_get_str(const xmlNode *from, const char *path, int req, char *buf,
	    size_t len, char *err, size_t errlen);
int	aws_get_int(const xmlNode *from, const char *path, int req, int *out,
	    char *err, size_t errlen);
int	aws_get_bool(const xmlNode *from, const char *path, int req, bool *out,
	    char *err, size_t errlen);
int	aws_get_double(const xmlNode *from, const char *path, int req, double *out,
	    char *err, size_t errlen);
/* ISO 8601 as milliseconds since the epoch. */
int	aws_get_time(const xmlNode *from, const char *path, int req, int64_t *out,
	    char *err, size_t errlen);
/* Free text: always "" or the text, cut to fit; never fails. */
void	aws_get_text(const xmlNode *from, const char *path, char *buf, size_t len);
/* Copies src into dst (len > 0), cut at a UTF-8 character boundary. */
void	aws_copy_cut(char *dst, size_t len, const char *src);

/*
 * A list at path below from: *list is its element (NULL if absent: an empty list,
 * unless req) and *n its items, each an element named item. -1 if the element
 * holds anything else (text, another element: not a list) or more than max items.
 */
int	aws_get_list(const xmlNode *from, const char *path, int req, const char *item,
	    size_t max, const xmlNode **list, size_t *n, char *err, size_t errlen);

/* The next-page token of result into buf ("" on the last page); -1 if too long. */
int	aws_get_next(const xmlNode *result, char *buf, size_t len, char *err,
	    size_t errlen);

/*
 * A list of names as a set of bits: names[i] is bit i, any other name sets
 * unknown. -1 if the list is not one, or has more than 32 items.
 */
int	aws_get_flags(const xmlNode *from, const char *path, const char *const *names,
	    size_t nnames, unsigned unknown, unsigned *out, char *err, size_t errlen);

/* calloc(n, size), or NULL; not NULL for n == 0 (a block of one). */
void	*aws_alloc_array(size_t n, size_t size);
/*
 * The array items (n items of size bytes) with the nmore items at more appended,
 * moved in: what they point to belongs to the result now. NULL if n + nmore would
 * pass max or memory ran out; items is then unchanged.
 */
void	*aws_append_array(void *items, size_t n, const void *more, size_t nmore,
	    size_t size, size_t max);

/*
 * Request builders: a refused argument fails q as query.h's adders do (sticky), so
 * that nothing half-built can be sent. aws_refuse() marks q failed and returns -1;
 * aws_built() is the builder's return value once every parameter was added.
 */
static inline int
aws_refuse(struct aws_query *q)
{
	q->failed = 1;
	return -1;
}

static inline int
aws_built(const struct aws_query *q)
{
	return q->failed ? -1 : 0;
}

/* A string argument that is there and not empty. */
static inline bool
aws_given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * Operations: one typed request made of one or more aws_call()s.
 * The handle stays valid until the caller's callback returns; the callback runs
 * exactly once. aws_op_cancel() before then makes it run with the cancellation
 * (AWS's own "Cancelled" if a call was in flight).
 */
struct aws_op;

/* What a service module supplies for one kind of operation. */
struct aws_op_spec {
	/*
	 * Reads one answer into ctx: 0 if the operation has all it needs, 1 if the
	 * next page is wanted (its token in next), -1 if malformed (reason in err).
	 * NULL: nothing to read (calls without output).
	 */
	int	(*page)(const xmlNode *result, void *ctx, char *next, size_t nextlen,
		    char *err, size_t errlen);
	/* Calls the caller's callback: r not OK, or OK and ctx holds the outcome. */
	void	(*done)(const struct aws_result *r, void *ctx);
	/* Frees what ctx owns (not ctx itself); NULL if nothing. */
	void	(*release)(void *ctx);
};

#define AWS_OP_MAX_PAGES	200	/* a longer NextToken chain is refused */
#define AWS_OP_MAX_REQUESTS	64	/* chunks of one operation */

/*
 * Starts an operation: the nreq queries in reqs (taken, even on failure) are sent
 * one after the other, each followed through its pages (NextToken appended) while
 * spec->page asks for more. ctx is malloc'ed by the caller and taken (NULL: out of
 * memory). A query that failed to build is sent all the same: the client refuses
 * it and the callback reports the failure, with why (if not NULL) as its detail.
 * NULL if memory ran out, client is NULL, or nreq is 0 or over
 * AWS_OP_MAX_REQUESTS: the callback then never runs. Messages of malformed
 * answers start with the first query's Action.
 */
struct aws_op *aws_op_start(struct aws_client *client, struct aws_query *reqs,
	    size_t nreq, const struct aws_op_spec *spec, void *ctx, const char *why);
void	aws_op_cancel(struct aws_op *op);

/* An operation without a typed outcome: cb(result, arg) once. */
struct aws_op *aws_op_plain(struct aws_client *client, struct aws_query *reqs,
	    size_t nreq, aws_cb cb, void *arg, const char *why);

/*
 * Tests only: replaces aws_call() and aws_call_cancel() under every operation
 * (NULL, NULL restores them), so that operations run without a client.
 */
typedef struct aws_call	*(*aws_call_fn)(struct aws_client *, struct aws_query *,
	    uint32_t, aws_cb, void *);
void	aws_op_set_transport(aws_call_fn call, void (*cancel)(struct aws_call *));

#define AWS_OP_REFUSED	"request not sent: arguments refused or out of memory"
#define aws_no_release(p)	((void)(p))

/*
 * The glue of an operation whose one answer is parsed into a typed struct, in a
 * service module: AWS_OP_TYPED(name, type, cbtype, parse, release) defines
 * name_run(client, q, built, cb, arg), which starts the operation on q (built: the
 * builder's return value) and calls cb(result, &out or NULL, arg) once, where out
 * is of type and was filled by parse(result, &out, err, errlen); release(&out)
 * frees it after cb returns (aws_no_release if it owns nothing).
 */
#define AWS_OP_TYPED(name, type, cbtype, parse, release)			\
struct name##_ctx {								\
	type	 out;								\
	cbtype	 cb;								\
	void	*arg;								\
};										\
static int									\
name##_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,	\
    char *err, size_t errlen)							\
{										\
	(void)next;								\
	(void)nextlen;								\
	return parse(result, &((struct name##_ctx *)ctx)->out, err, errlen);	\
}										\
static void									\
name##_done(const struct aws_result *r, void *ctx)				\
{										\
	struct name##_ctx	*c = ctx;					\
										\
	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);	\
}										\
static void									\
name##_release(void *ctx)							\
{										\
	release(&((struct name##_ctx *)ctx)->out);				\
}										\
static const struct aws_op_spec name##_spec = {				\
	name##_page, name##_done, name##_release				\
};										\
static struct aws_op *								\
name##_run(struct aws_client *client, struct aws_query *q, int built,		\
    cbtype cb, void *arg)							\
{										\
	struct name##_ctx	*c = NULL;					\
										\
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {		\
		c->cb = cb;							\
		c->arg = arg;							\
	}									\
	return aws_op_start(client, q, 1, &name##_spec, c,			\
	    built == -1 ? AWS_OP_REFUSED : NULL);				\
}

#endif
