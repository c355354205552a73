/*
 * AWS credentials for one deployment, found asynchronously in the AWS CLI's order
 * (botocore create_credential_resolver):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or
 *      the legacy AWS_SECURITY_TOKEN); skipped when the profile was named explicitly
 *      (aws_creds_opts.profile, like --profile);
 *   2. the profile in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
 *      ~/.aws/credentials, section [name]), then in the config file (AWS_CONFIG_FILE,
 *      ~/.aws/config, section [profile name], or [default]). The profile is the
 *      explicit one, else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else "default"; a
 *      named profile found in neither file is an error, a missing default is not;
 *   3. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against
 *      http://169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI), with the
 *      Authorization of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN; when set,
 *      its failure is final (no fall-through to the instance), as in botocore;
 *   4. EC2 instance metadata, IMDSv2 only (token PUT, role, role credentials), unless
 *      AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
 *
 * Credentials are cached. Ones with an Expiration are refreshed in the background
 * when less than the advisory window (15 min) remains, and callers wait for a fresh
 * set when less than the mandatory window (5 min) remains; expired credentials are
 * never handed out. aws_creds_invalidate() (AWS said ExpiredToken) forces the next
 * request to wait for a fresh resolution of the whole chain.
 *
 * Secrets live only in this module's memory, are zeroed (explicit_bzero) when
 * freed, and never reach a log line or an error message: logs name the source
 * ("environment", "shared credentials file ~/.aws/credentials profile prod",
 * "instance metadata role X"), never a key, token or file line.
 */
#ifndef BB_AWS_CREDENTIALS_H
#define BB_AWS_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define AWS_CREDS_ADVISORY_MS		(15 * 60 * 1000)
#define AWS_CREDS_MANDATORY_MS		(5 * 60 * 1000)
#define AWS_CREDS_IMDS_URL		"http://169.254.169.254"
#define AWS_CREDS_IMDS_TTL		"21600"	/* seconds: the maximum, 6 h */
#define AWS_CREDS_IMDS_TIMEOUT_MS	1000
#define AWS_CREDS_IMDS_ATTEMPTS		2
#define AWS_CREDS_CONTAINER_URL		"http://169.254.170.2"
#define AWS_CREDS_CONTAINER_TIMEOUT_MS	2000
#define AWS_CREDS_CONTAINER_ATTEMPTS	3
#define AWS_CREDS_CONTAINER_PAUSE_MS	1000	/* between attempts */
#define AWS_CREDS_FILE_MAX		(1024 * 1024)
#define AWS_CREDS_SOURCE_MAX		256
#define AWS_CREDS_ERROR_MAX		512

/* One set of credentials; valid as aws_creds_get() and aws_creds_peek() say. */
struct aws_credentials {
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;		/* NULL: long-term keys */
	int64_t		 expiration_ms;		/* wall clock, ms since 1970; 0: never */
	const char	*source;		/* for logs, never a secret */
};

/* Everything has a default; the windows and timeouts are there for tests. */
struct aws_creds_opts {
	const char	*profile;		/* explicit: env keys are skipped */
	int64_t		(*now_ms)(void);	/* wall clock for Expiration; NULL: real */
	uint32_t	 advisory_ms;		/* 0: AWS_CREDS_ADVISORY_MS */
	uint32_t	 mandatory_ms;		/* 0: AWS_CREDS_MANDATORY_MS */
	uint32_t	 imds_timeout_ms;	/* 0: AWS_CREDS_IMDS_TIMEOUT_MS */
	int		 imds_attempts;		/* 0: AWS_CREDS_IMDS_ATTEMPTS */
	uint32_t	 container_timeout_ms;	/* 0: AWS_CREDS_CONTAINER_TIMEOUT_MS */
	int		 container_attempts;	/* 0: AWS_CREDS_CONTAINER_ATTEMPTS */
	uint32_t	 container_pause_ms;	/* 0: AWS_CREDS_CONTAINER_PAUSE_MS */
};

/* Why no credentials came. */
struct aws_creds_error {
	int	 transient;	/* a refresh failed to reach a service that worked before */
	int	 cancelled;	/* aws_creds_cancel() or aws_creds_free() */
	char	 message[AWS_CREDS_ERROR_MAX];	/* names files and profiles, no secret */
};

/* Exactly one of creds and err is not NULL; both valid only during the call. */
typedef void	(*aws_creds_cb)(const struct aws_credentials *creds,
	    const struct aws_creds_error *err, void *arg);

struct aws_creds;
struct aws_creds_req;

/*
 * The chain for one deployment; http_init() must have been called on loop. Nothing
 * is read before the first request. NULL only if memory ran out.
 */
struct aws_creds *aws_creds_new(uv_loop_t *loop, const struct aws_creds_opts *opts);

/*
 * Cancels every request (each callback runs once, cancelled, from the loop), zeroes
 * the secrets and frees everything once the loop has run those callbacks.
 */
void	aws_creds_free(struct aws_creds *);

/*
 * The cached credentials if they may be used right now without waiting (no expiry,
 * or more than the mandatory window left; not invalidated), else NULL. In the
 * advisory window it also starts a background refresh. The result is valid until
 * the caller returns to the loop.
 */
const struct aws_credentials *aws_creds_peek(struct aws_creds *);

/*
 * Asks for credentials: cb runs exactly once, always from the loop (never inside
 * this call), with credentials or an error. Returns a handle for aws_creds_cancel(),
 * valid until cb returns; NULL only if cr or cb is NULL.
 */
struct aws_creds_req *aws_creds_get(struct aws_creds *cr, aws_creds_cb cb, void *arg);

/* cb still runs once, later, with err->cancelled; a no-op from within cb. */
void	aws_creds_cancel(struct aws_creds_req *);

/*
 * AWS refused access_key_id as expired: unless the cache already moved on to other
 * keys (another call saw the same answer first), the cached set is dropped and the
 * next request waits for a fresh one. Returns 1 if it dropped them, else 0.
 */
int	aws_creds_invalidate(struct aws_creds *cr, const char *access_key_id);

struct aws_creds_stats {
	uint64_t	 resolutions;	/* chain runs started */
	uint64_t	 background;	/* ... of which background refreshes */
	uint64_t	 failures;	/* chain runs that found nothing or failed */
	uint64_t	 invalidations;	/* aws_creds_invalidate() that dropped the cache */
	uint64_t	 http_requests;	/* to the metadata or container endpoints */
};
void	aws_creds_stats(const struct aws_creds *, struct aws_creds_stats *);

/*
 * Pure functions, exported for the tests.
 *
 * aws_creds_ini_profile(): looks up profile in len bytes of an AWS shared file
 * (config_file: sections are [profile name] and [default], else [name]), parsed
 * strictly like Python's configparser as botocore uses it: sections, "key = value"
 * or "key: value", '#' and ';' comment lines, case-insensitive keys, indented
 * continuation lines; a duplicate section or key, a key outside a section, a line
 * that is none of these, or a NUL byte is an error ("line N: ...", never quoting the
 * line). Returns 1 if the profile's section exists (*keys filled: every field NULL
 * if absent; release with aws_creds_ini_keys_free()), 0 if not, -1 on error.
 */
struct aws_creds_ini_keys {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* aws_session_token, else aws_security_token */
	char	*unsupported;		/* a key naming a source we lack: "role_arn" */
};
int	aws_creds_ini_profile(const char *text, size_t len, int config_file,
	    const char *profile, struct aws_creds_ini_keys *keys, char *err,
	    size_t errlen);
void	aws_creds_ini_keys_free(struct aws_creds_ini_keys *);

/*
 * Reads the JSON answer of the metadata or container endpoint: one object whose
 * AccessKeyId, SecretAccessKey, Token and Expiration (ISO 8601) are strings; Code,
 * if present, must be "Success"; other members are skipped. Returns 0 with *keys
 * (unsupported unused) and *expiration_ms filled, or -1 with err saying what is
 * wrong without quoting a value.
 */
int	aws_creds_json(const char *body, size_t len, struct aws_creds_ini_keys *keys,
	    int64_t *expiration_ms, char *err, size_t errlen);

/*
 * Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may be used (botocore's rule): any
 * https URL; plain http only to a loopback address, localhost, 169.254.170.2,
 * 169.254.170.23 or [fd00:ec2::23]. 0, or -1 with the reason in why.
 */
int	aws_creds_container_url_ok(const char *url, char *why, size_t whylen);

#endif
