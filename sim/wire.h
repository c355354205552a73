/*
 * What bbsim puts on the wire and takes off it, byte for byte as AWS does: the strict
 * reader of application/x-www-form-urlencoded parameters with the Query (Name.member.N)
 * and EC2 (Name.N) list shapes, the XML writer of AWS's success envelopes, the three
 * error envelopes (Query, EC2, JSON 1.0), the catalogue of AWS error texts with where
 * each comes from, and request ids.
 *
 * Nothing here knows a service's operations or the simulated model: handlers say what
 * to answer, this module says how AWS would have spelled it.
 */
#ifndef BB_SIM_WIRE_H
#define BB_SIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/log.h"

struct sim_resp;

/* ---- request ids and the deterministic generator behind them ---- */

#define SIM_REQID_LEN	36	/* "b2544024-a0f9-4ae1-ab23-fc08e1ef4e9a" */

/* The n-th request id of a run with this seed: UUID version 4 in shape only. */
void		sim_reqid(uint64_t seed, uint64_t n, char out[SIM_REQID_LEN + 1]);
uint64_t	sim_rand(uint64_t *state);		/* splitmix64 */
double		sim_rand_unit(uint64_t *state);		/* [0, 1) */
/* n characters drawn from alphabet, then a NUL: out holds n + 1 bytes. */
void		sim_rand_chars(uint64_t *state, const char *alphabet, char *out,
		    size_t n);

/* ---- application/x-www-form-urlencoded ---- */

#define SIM_FORM_MAX_PARAMS	4096
#define SIM_FORM_ERRLEN		128
#define SIM_LIST_MAX		1000	/* highest list index accepted */

/* sim_form.flags */
#define SIM_FORM_FIRST_WINS	0x01	/* of a repeated name, the first value (AWS) */

enum sim_form_err {
	SIM_FORM_OK,
	SIM_FORM_ESYNTAX,	/* bad %-escape, %00, raw control byte, bad UTF-8 */
	SIM_FORM_EEMPTY,	/* "=value": a parameter without a name */
	SIM_FORM_EDUP,		/* a name given twice */
	SIM_FORM_ETOOMANY,	/* more than SIM_FORM_MAX_PARAMS */
	SIM_FORM_ESHAPE,	/* a list in the wrong shape, or a bad index */
	SIM_FORM_EUNKNOWN,	/* a parameter no handler asked for */
	SIM_FORM_ENOMEM
};

struct sim_form_param {
	char	*name;		/* decoded */
	char	*value;		/* decoded, NUL-terminated, never NULL */
	int	 used;		/* looked up by a handler */
};

struct sim_form {
	struct sim_form_param	*p;
	size_t			 n, cap;
	int			 flags;
	enum sim_form_err	 err;		/* of the last failure */
	char			 errparam[SIM_FORM_ERRLEN];	/* its parameter */
};

enum sim_list {
	SIM_LIST_QUERY,		/* Name.member.N[.Field]; empty list: "Name=" */
	SIM_LIST_EC2		/* Name.N[.Field]; empty list: absent */
};

void	sim_form_init(struct sim_form *, int flags);
void	sim_form_free(struct sim_form *);
/*
 * Decodes len bytes of s ("a=1&b=%20x+y") and adds its parameters: may be called
 * again to merge a query string and a body. '+' is a space. Empty segments ("a=1&&b=2",
 * a trailing '&') are skipped. 0, or -1 with f->err and f->errparam set.
 */
int	sim_form_parse(struct sim_form *, const char *s, size_t len);
/* The value of name (and marks it used), or NULL. */
const char *sim_form_get(struct sim_form *, const char *name);
/*
 * The number of items of list name in *n (0 if absent), after checking that every
 * parameter under "name." has the list shape of this protocol, that indexes are
 * decimal without leading zeros, 1..SIM_LIST_MAX and contiguous from 1. 0, or -1
 * with SIM_FORM_ESHAPE and the first offending parameter in f->errparam.
 */
int	sim_form_list(struct sim_form *, const char *name, enum sim_list,
	    size_t *n);
/* Item i (1-based) of list name, or its field (NULL: a list of scalars); marks it used. */
const char *sim_form_item(struct sim_form *, const char *name, enum sim_list,
	    size_t i, const char *field);
/* Writes the parameter name of item i (and field) into buf: for nested lists. */
int	sim_form_item_name(char *buf, size_t len, const char *name, enum sim_list,
	    size_t i, const char *field);
/* 0 if every parameter was used; else -1 with SIM_FORM_EUNKNOWN and the first one. */
int	sim_form_check_unused(struct sim_form *);

/* ---- a growing buffer and the XML writer ---- */

struct sim_buf {
	char	*s;
	size_t	 len, cap;
	int	 err;		/* an allocation failed: the content is incomplete */
};

void	sim_buf_add(struct sim_buf *, const char *, size_t);
void	sim_buf_puts(struct sim_buf *, const char *);
void	sim_buf_printf(struct sim_buf *, const char *, ...) FMT(2, 3);
void	sim_buf_free(struct sim_buf *);
/* Character data: & < > escaped, \r \t as references, other C0 bytes as U+FFFD. */
void	sim_buf_xml_escape(struct sim_buf *, const char *);

/*
 * AWS's answers are indented: by 2 spaces in Query services, by 4 in EC2, one element
 * per line, each line ending in LF (the trailing one included).
 */
struct sim_xml {
	struct sim_buf	 b;
	int		 indent;	/* spaces per level */
	int		 depth;
};

#define SIM_XML_QUERY_INDENT	2
#define SIM_XML_EC2_INDENT	4

void	sim_xml_init(struct sim_xml *, int indent);
void	sim_xml_open(struct sim_xml *, const char *name, const char *xmlns);
void	sim_xml_close(struct sim_xml *, const char *name);
void	sim_xml_text(struct sim_xml *, const char *name, const char *value);
void	sim_xml_textf(struct sim_xml *, const char *name, const char *fmt, ...)
	    FMT(3, 4);
void	sim_xml_empty(struct sim_xml *, const char *name);
void	sim_xml_free(struct sim_xml *);

/*
 * Query: <OpResponse xmlns="ns"> [<OpResult>] ... [</OpResult>] <ResponseMetadata>
 * <RequestId>id</RequestId></ResponseMetadata></OpResponse>. result = 0 for the
 * operations whose model has no resultWrapper (they answer without <OpResult>).
 */
void	sim_xml_query_begin(struct sim_xml *, const char *op, const char *ns,
	    int result);
void	sim_xml_query_end(struct sim_xml *, const char *op, const char *reqid,
	    int result);
/* EC2: the XML declaration, <OpResponse xmlns="ns">, <requestId>id</requestId>, ... */
void	sim_xml_ec2_begin(struct sim_xml *, const char *op, const char *ns,
	    const char *reqid);
void	sim_xml_ec2_end(struct sim_xml *, const char *op);

/* ---- whole responses ---- */

#define SIM_NS_AWSFAULT	"http://webservices.amazon.com/AWSFault/2005-15-09"
#define SIM_CT_QUERY	"text/xml"
#define SIM_CT_EC2	"text/xml;charset=UTF-8"
#define SIM_CT_JSON	"application/x-amz-json-1.0"

/* Success: the writer's document (freed) becomes the body, with AWS's headers. */
int	sim_wire_query_ok(struct sim_resp *, struct sim_xml *, const char *reqid);
int	sim_wire_ec2_ok(struct sim_resp *, struct sim_xml *, const char *reqid);
int	sim_wire_json_ok(struct sim_resp *, json_t *, const char *reqid);

/* The error envelopes of aws-errors.md section 1 and 10. 0, or -1 out of memory. */
int	sim_wire_query_error(struct sim_resp *, int status, const char *ns,
	    int receiver, const char *code, const char *message, const char *reqid);
int	sim_wire_ec2_error(struct sim_resp *, int status, const char *code,
	    const char *message, const char *reqid);
/* type: the body's __type (NULL: "com.amazon.coral.service#" + code). */
int	sim_wire_json_error(struct sim_resp *, int status, const char *type,
	    const char *code, int receiver, const char *message, const char *reqid);

/* ---- the catalogue of AWS error texts ---- */

/*
 * Every error bbsim makes up on its own (authentication, routing, the wire itself,
 * faults), with AWS's exact text and where that text was seen. In a text each "%s"
 * takes one argument, in order ("%%" is a percent sign). GET /_sim/errors lists them;
 * POST /_sim/errors overrides a text (the uncertain ones are marked so).
 */
enum sim_wire_err {
	SIM_E_MISSING_AUTH,
	SIM_E_INCOMPLETE_SIG,
	SIM_E_BAD_KEY,
	SIM_E_BAD_SIG,
	SIM_E_SIG_EXPIRED,
	SIM_E_SIG_NOT_YET,
	SIM_E_EXPIRED_TOKEN,
	SIM_E_THROTTLING,
	SIM_E_INVALID_ACTION,
	SIM_E_MISSING_ACTION,
	SIM_E_QUERY_PARAM,
	SIM_E_MALFORMED_QS,
	SIM_E_EC2_MISSING_AUTH,
	SIM_E_EC2_AUTH_FAILURE,
	SIM_E_EC2_EXPIRED,
	SIM_E_EC2_THROTTLED,
	SIM_E_EC2_INVALID_ACTION,
	SIM_E_EC2_NO_VERSION,
	SIM_E_EC2_MISSING_PARAM,
	SIM_E_EC2_UNKNOWN_PARAM,
	SIM_E_EC2_QUERY_PARAM,
	SIM_E_JSON_UNKNOWN_OP,
	SIM_E_JSON_SERIALIZATION,
	SIM_E_JSON_THROTTLING,
	SIM_E_INTERNAL,
	SIM_E_SERVICE_UNAVAILABLE,
	SIM_E_RESOURCE_CONTENTION,
	SIM_E_SCALING_ACTIVITY,		/* SetDesiredCapacity's words */
	SIM_E_ACTIVITY_IN_PROGRESS,	/* TerminateInstanceInAutoScalingGroup's */
	SIM_E_COUNT
};

struct sim_wire_errdef {
	const char	*name;		/* stable key of the override API */
	const char	*code;
	int		 status;
	int		 receiver;	/* <Type>Receiver</Type> */
	const char	*type;		/* JSON __type, or NULL for the default */
	const char	*text;		/* AWS's message, "%s" per argument */
	const char	*evidence;	/* where the text was seen; "U" marks a guess */
};

const struct sim_wire_errdef *sim_error_get(enum sim_wire_err);
/* The current text of e (AWS's or the override). */
const char *sim_error_text(enum sim_wire_err);
/* The message with its arguments substituted into buf; returns buf. */
char	*sim_error_format(enum sim_wire_err, const char *const *args, size_t nargs,
	    char *buf, size_t len);
/* Replaces the text of the entry called name (NULL text: back to AWS's). 0, or -1
 * if there is no such entry or text does not take the same "%s" as the original. */
int	sim_error_override(const char *name, const char *text);
/* GET /_sim/errors */
json_t	*sim_error_catalogue(void);
void	sim_error_reset(void);

#endif
