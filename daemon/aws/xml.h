/*
 * Reading AWS Query/EC2 XML responses with libxml2: a guarded parse, navigation by
 * local element names (namespaces ignored: EC2's varies and nothing depends on it),
 * typed leaf getters, and the two error envelopes.
 *
 * Pure: no I/O, no clock, no logging. It must never expand an entity, load a DTD or
 * touch the network, never accept a document with a DOCTYPE, and never trust a
 * response's shape: every getter returns NULL or -1 for a missing, non-leaf or
 * malformed element, so a typed reader built on it fails instead of guessing.
 */
#ifndef BB_AWS_XML_H
#define BB_AWS_XML_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libxml/tree.h>

#define AWS_XML_MAX_BYTES	(16 * 1024 * 1024)	/* refused unread above */
#define AWS_XML_MAX_DEPTH	64	/* AWS answers nest about 10 deep */
#define AWS_XML_MEMBER		"member"	/* Query list item */
#define AWS_XML_ITEM		"item"		/* EC2 list item */

/* xmlInitParser() once, from the main thread, before any parse; and its undoing. */
void	aws_xml_init(void);
void	aws_xml_shutdown(void);

/*
 * Parses len bytes of body. NULL if refused: empty, over AWS_XML_MAX_BYTES, not
 * well-formed, a DOCTYPE (refused when met, before any declaration in it is read),
 * deeper than AWS_XML_MAX_DEPTH; err (if not NULL) then says why (libxml2's message
 * names elements and positions, never text content). Free the result with
 * aws_xml_free().
 */
xmlDoc	*aws_xml_parse(const char *body, size_t len, char *err, size_t errlen);
void	 aws_xml_free(xmlDoc *doc);

/*
 * The payload of a successful answer to action: the <{action}Result> element of a
 * Query response, or the root itself when there is none (EC2, or a Query call with
 * no output). NULL if the root is not <{action}Response>.
 */
xmlNode	*aws_xml_result(const xmlDoc *doc, const char *action);

/*
 * The element at path below from: local names separated by '/', each step taking
 * the first child element of that name ("DescribeStacksResult/Stacks"). An empty
 * path is from itself. NULL if from is NULL or any step is missing.
 */
xmlNode	*aws_xml_find(const xmlNode *from, const char *path);

/*
 * List iteration: the first child element of list called name (AWS_XML_MEMBER or
 * AWS_XML_ITEM), then its next sibling element of the same name. NULL at the end,
 * or if list is NULL (an absent list is an empty one).
 */
xmlNode	*aws_xml_first(const xmlNode *list, const char *name);
xmlNode	*aws_xml_next(const xmlNode *item);
size_t	 aws_xml_count(const xmlNode *list, const char *name);

#define AWS_XML_FOREACH(it, list, name)					\
	for ((it) = aws_xml_first((list), (name)); (it) != NULL;	\
	    (it) = aws_xml_next(it))

/*
 * Leaf getters on the element at path below from (path as aws_xml_find()).
 * aws_xml_text() points into the document (valid until aws_xml_free()): "" for an
 * empty element; NULL if absent or not a leaf (has child elements or comments).
 * The others return 0, or -1 if absent, not a leaf, or malformed, leaving *out alone.
 */
const char *aws_xml_text(const xmlNode *from, const char *path);
/* Copies into buf (NUL-terminated); -1 also if it does not fit. */
int	aws_xml_copy(const xmlNode *from, const char *path, char *buf, size_t len);
/* A malloc'ed copy, or NULL (absent, not a leaf, out of memory). */
char	*aws_xml_strdup(const xmlNode *from, const char *path);
/* Decimal integers: optional '-', digits, nothing else, in range. */
int	aws_xml_int64(const xmlNode *from, const char *path, int64_t *out);
int	aws_xml_int(const xmlNode *from, const char *path, int *out);
/* A finite decimal or exponent number (CloudWatch values). */
int	aws_xml_double(const xmlNode *from, const char *path, double *out);
/* "true" or "false", exactly. */
int	aws_xml_bool(const xmlNode *from, const char *path, int *out);
/*
 * ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)", years 1970-9999: as
 * milliseconds since the epoch (fraction truncated), or as seconds (rounded down).
 */
int	aws_xml_time_ms(const xmlNode *from, const char *path, int64_t *out);
int	aws_xml_time(const xmlNode *from, const char *path, time_t *out);
/* The same parse on a string, for callers and tests; len bytes of s. */
int	aws_xml_parse_time_ms(const char *s, size_t len, int64_t *out);

/*
 * The pagination token in a result (from aws_xml_result()): NextToken (Query) or
 * nextToken (EC2). NULL if absent or empty: the last page.
 */
const char *aws_xml_next_token(const xmlNode *result);

/*
 * The request id of any response, success or error: ResponseMetadata/RequestId,
 * requestId (EC2), RequestId (Query error) or RequestID (EC2 error). NULL if none.
 */
const char *aws_xml_request_id(const xmlDoc *doc);

#define AWS_ERR_CODE_MAX	127
#define AWS_ERR_TYPE_MAX	15
#define AWS_ERR_MESSAGE_MAX	2047
#define AWS_ERR_REQID_MAX	127

/* An AWS error answer. Strings are NUL-terminated, "" when absent. */
struct aws_error {
	int	status;				/* HTTP status */
	char	code[AWS_ERR_CODE_MAX + 1];	/* "ValidationError" */
	char	type[AWS_ERR_TYPE_MAX + 1];	/* "Sender", "Receiver"; "" for EC2 */
	char	message[AWS_ERR_MESSAGE_MAX + 1];	/* verbatim, may be cut */
	char	request_id[AWS_ERR_REQID_MAX + 1];
};

/*
 * Reads an error body: the Query envelope <ErrorResponse><Error><Type/><Code/>
 * <Message/></Error><RequestId/></ErrorResponse> or the EC2 one <Response><Errors>
 * <Error><Code/><Message/></Error></Errors><RequestID/></Response> (first Error).
 * 0 if one was found with a usable Code ([A-Za-z0-9._:-], fits); -1 otherwise (not
 * XML, another root, no Code), with out zeroed but for out->status. A message too
 * long is cut at a UTF-8 character boundary.
 */
int	aws_xml_error(const char *body, size_t len, int status, struct aws_error *out);
int	aws_xml_error_doc(const xmlDoc *doc, int status, struct aws_error *out);

#endif
