/*
 * The control protocol's wire format (varlink, see reference in docs/bbctl.1 and
 * schema/io.bbupgraded.varlink): each message is one JSON object followed by a NUL byte.
 * Shared by the daemon (server) and bbctl (client), so that both enforce the same limits
 * and speak the same error names.
 */
#ifndef BB_VARLINK_H
#define BB_VARLINK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define VL_MAX_MESSAGE	(64 * 1024)	/* bytes, without the NUL */
#define VL_MAX_DEPTH	32		/* nesting of arrays and objects */

/* Splits a byte stream into NUL-terminated messages, never holding more than max. */
struct vl_reader {
	char		*buf;
	size_t		 len;	/* bytes held */
	size_t		 off;	/* start of the first unconsumed byte */
	size_t		 cap;
	size_t		 max;	/* longest message allowed */
};

void	vl_reader_init(struct vl_reader *, size_t max);
void	vl_reader_free(struct vl_reader *);
/*
 * Appends bytes; -1 (nothing kept) if an unterminated message would exceed max.
 * Call vl_reader_next() until it returns 0 before feeding again.
 */
int	vl_reader_feed(struct vl_reader *, const char *data, size_t n);
/*
 * 1: *msg points to the next message (NUL-terminated, *len bytes, valid until the next
 * feed); 0: no complete message yet.
 */
int	vl_reader_next(struct vl_reader *, const char **msg, size_t *len);
/* Bytes of an incomplete message held. */
size_t	vl_reader_pending(const struct vl_reader *);

/*
 * Parses one message: valid UTF-8 JSON, one object, no duplicate keys, at most
 * VL_MAX_DEPTH deep. NULL on error with why filled in.
 */
json_t	*vl_parse(const char *msg, size_t len, char *why, size_t whylen);

/*
 * Parses a reply (no size limit: the caller bounds its reader): an object whose "error"
 * is a string if present and whose "parameters" is then always an object.
 */
json_t	*vl_parse_reply(const char *msg, size_t len, char *why, size_t whylen);

/* A call, as received: borrowed references into the parsed message. */
struct vl_call {
	const char	*method;
	json_t		*parameters;	/* always an object (empty if omitted or null) */
	bool		 more;
	bool		 oneway;
};

/* Checks a parsed message's shape as a call; -1 with why on error. */
int	vl_call_from_json(json_t *msg, struct vl_call *, char *why, size_t whylen);

/* Serialises msg compactly with its terminating NUL; *len counts the NUL. Caller frees. */
char	*vl_encode(const json_t *msg, size_t *len);

/* Builders (steal the reference to params; NULL params means {}). */
json_t	*vl_call_new(const char *method, json_t *params, bool more);
json_t	*vl_reply_new(json_t *params, bool continues);
json_t	*vl_error_new(const char *error, json_t *params);

#endif
