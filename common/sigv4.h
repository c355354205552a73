/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256, Authorization header form) for both ends:
 * the daemon signs its requests to AWS with it and bbsim verifies them with the very same
 * code, so a canonicalisation mistake cannot hide by being made once in each place.
 *
 * It never reads the clock (the caller passes the time), keeps no state and logs nothing:
 * the secret key leaves this module only as a signature. Scope: the non-S3 services (the
 * path is normalised, then percent-encoded once as sent, so "%20" is signed as "%2520");
 * no presigned URLs, no chunked payloads. Checked against the aws-c-auth v4 test suite in
 * tests/fixtures/sigv4.
 */
#ifndef BB_SIGV4_H
#define BB_SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_HEX_LEN		64	/* hex SHA-256 or signature, no NUL */
#define SIGV4_DATE_LEN		16	/* X-Amz-Date, "20150830T123600Z" */
#define SIGV4_MAX_SKEW		(15 * 60)	/* seconds AWS allows */

/* sigv4_params.flags */
#define SIGV4_CONTENT_SHA256	0x01	/* add and sign X-Amz-Content-Sha256 */
#define SIGV4_NO_NORMALIZE	0x02	/* keep ".", ".." and "//" (S3 style) */

/* sigv4_uri_encode() flags */
#define SIGV4_KEEP_SLASH	0x01	/* leave '/' alone: a path */

struct sigv4_header {
	const char	*name;
	const char	*value;
};

/*
 * A request as it goes (or came) over the wire. The headers are the ones to sign and must
 * include Host exactly as the HTTP client sends it (with ":port" when not the default).
 * A value may hold obs-fold line breaks ("a\r\n  b"): they canonicalise as one space.
 */
struct sigv4_request {
	const char			*method;	/* "GET", "POST" */
	const char			*path;		/* raw, as sent, no query */
	const char			*query;		/* raw, no '?'; or NULL */
	const struct sigv4_header	*headers;	/* to sign, Host included */
	size_t				 nheaders;
	const void			*body;		/* NULL if bodylen is 0 */
	size_t				 bodylen;
};

/* Who signs, for which endpoint, when. */
struct sigv4_params {
	const char	*region;		/* "eu-west-1": [a-z0-9-] */
	const char	*service;		/* "autoscaling": [a-z0-9-] */
	const char	*access_key_id;		/* [A-Za-z0-9] */
	const char	*secret_key;
	const char	*session_token;		/* NULL: long-term keys */
	time_t		 time;			/* the caller's clock */
	int		 flags;			/* SIGV4_CONTENT_SHA256 ... */
};

/*
 * The three stages, exposed so tests can compare each with published vectors. Each
 * includes the headers sigv4_sign() would add (X-Amz-Date, X-Amz-Security-Token,
 * X-Amz-Content-Sha256). 0 on success with a malloc'ed string (free it) or the
 * NUL-terminated hex signature in sig; -1 on bad input (no Host, a header sigv4 adds
 * already there, an invalid name or escape) or out of memory.
 */
int	sigv4_canonical_request(const struct sigv4_request *,
	    const struct sigv4_params *, char **out);
int	sigv4_string_to_sign(const struct sigv4_request *, const struct sigv4_params *,
	    char **out);
int	sigv4_signature(const struct sigv4_request *, const struct sigv4_params *,
	    char sig[SIGV4_HEX_LEN + 1]);

#define SIGV4_MAX_ADDED		4

/*
 * What sigv4_sign() adds to the request: send hdr[0 .. nhdr-1] along with the request's
 * own headers. The values point into this struct, except the session token, which points
 * to the caller's params->session_token.
 */
struct sigv4_signed {
	struct sigv4_header	 hdr[SIGV4_MAX_ADDED];
	size_t			 nhdr;
	char			 date[SIGV4_DATE_LEN + 1];
	char			 content_sha256[SIGV4_HEX_LEN + 1];
	char			*authorization;
};

/* 0 and the headers to add in *out (release with sigv4_signed_free()), or -1 as above. */
int	sigv4_sign(const struct sigv4_request *, const struct sigv4_params *,
	    struct sigv4_signed *out);
void	sigv4_signed_free(struct sigv4_signed *);

#define SIGV4_AKID_MAX		128
#define SIGV4_SCOPE_MAX		63	/* region, service */
#define SIGV4_SIGNED_MAX	1023	/* the SignedHeaders list */

/* An Authorization header, taken apart. */
struct sigv4_auth {
	char	access_key_id[SIGV4_AKID_MAX + 1];
	char	date[8 + 1];				/* yyyymmdd of the scope */
	char	region[SIGV4_SCOPE_MAX + 1];
	char	service[SIGV4_SCOPE_MAX + 1];
	char	signed_headers[SIGV4_SIGNED_MAX + 1];	/* "host;x-amz-date" */
	char	signature[SIGV4_HEX_LEN + 1];		/* lower-case hex */
};

/*
 * Parses the value of an Authorization header exactly as AWS signers write it:
 * "AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request,
 * SignedHeaders=a;b, Signature=<64 hex>" (one line, single spaces). 0 on success;
 * -1 on anything else (NULL, a missing or extra part or space, a field too long, an
 * unsorted or duplicated SignedHeaders list), with *out zeroed.
 */
int	sigv4_parse_authorization(const char *value, struct sigv4_auth *out);

/*
 * Recomputes the signature of req (with its X-Amz-Date and Authorization headers among
 * the headers) from the headers auth lists and the secret the caller looked up for
 * auth->access_key_id, and compares in constant time. Also requires host and x-amz-date
 * to be signed, X-Amz-Date within SIGV4_MAX_SKEW of now and on the scope's date, and an
 * X-Amz-Content-Sha256, if any, to match the body. 0 if the request is authentic; -1
 * otherwise with a short reason in why (no secret in it) when why is not NULL.
 */
int	sigv4_verify(const struct sigv4_request *req, const struct sigv4_auth *auth,
	    const char *secret, time_t now, char *why, size_t whylen);

/*
 * RFC 3986 percent-encoding of len bytes of s: A-Z a-z 0-9 - _ . ~ stay, every other
 * byte becomes %XX (upper-case hex), '/' too unless SIGV4_KEEP_SLASH. Writes at most
 * outlen bytes including a NUL, like snprintf (out may be NULL if outlen is 0), and
 * returns the length of the whole encoding: truncated if >= outlen. 3 * len + 1 always
 * suffices.
 */
size_t	sigv4_uri_encode(const char *s, size_t len, char *out, size_t outlen,
	    int flags);

/* Lower-case hex SHA-256 of len bytes at data; 0, or -1 if libcrypto fails. */
int	sigv4_hex_sha256(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

#endif
