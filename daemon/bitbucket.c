/*
 * The Bitbucket client (see bitbucket.h): secret files, the ZDU calls with their one
 * timeout and their one retry, and what each answer means for the operator.
 *
 * It must never: send the secret anywhere but in the Authorization header of a
 * /rest/zdu call, put it (or Bitbucket's echo of it) in a message or a log line,
 * repeat a POST, or call a callback twice or from inside a caller's call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "daemon/bitbucket.h"
#include "daemon/http.h"

#define MAX_ANSWER	(4u << 20)	/* a Cluster of 1024 nodes is far below */
#define RETRY_MIN_MS	1000		/* a retry with less time left is not worth it */
#define USER_MAX	255
#define NODE_ID_MAX	63
#define MSG_MAX		1024

enum call_state {
	CALL_HTTP,	/* an HTTP request is in flight */
	CALL_WAIT,	/* the timer runs until the retry */
	CALL_LOCAL,	/* the timer delivers a result decided here */
	CALL_DONE,	/* the callback ran; the timer is closing */
};

struct op {
	const char	*name;		/* bitbucket_op_name() */
	const char	*method;
	const char	*path;		/* after the base URL */
	const char	*shape;		/* what a 2xx body must be */
	bool		 auth;
	bool		 retry;		/* a GET that may be repeated once */
	const char	*needs;		/* POST: the only state it is allowed from */
};

static const struct op ops[BITBUCKET_OP_COUNT] = {
	[BITBUCKET_OP_CLUSTER] = { "cluster", "GET", "/rest/zdu/cluster", "ZDU Cluster",
	    true, true, NULL },
	[BITBUCKET_OP_STATE] = { "state", "GET", "/rest/zdu/state",
	    "ZDU ClusterStateResponse", true, true, NULL },
	[BITBUCKET_OP_NODE] = { "node", "GET", "/rest/zdu/nodes/", "ZDU NodeInfo", true,
	    true, NULL },
	[BITBUCKET_OP_START] = { "start", "POST", "/rest/zdu/start", "ZDU Cluster", true,
	    false, "STABLE" },
	[BITBUCKET_OP_CANCEL] = { "cancel", "POST", "/rest/zdu/cancel", "ZDU Cluster",
	    true, false, "READY_TO_UPGRADE" },
	[BITBUCKET_OP_APPROVE] = { "approve", "POST", "/rest/zdu/approve", "ZDU Cluster",
	    true, false, "READY_TO_RUN_UPGRADE_TASKS" },
	/* No Authorization: /status needs none, and the secret goes nowhere it need not. */
	[BITBUCKET_OP_HEALTH] = { "health", "GET", "/status", "/status answer", false,
	    false, NULL },
};

static const char *const outcome_names[BITBUCKET_OUTCOME_COUNT] = {
	[BITBUCKET_OK] = "ok",
	[BITBUCKET_CONFLICT] = "conflict",
	[BITBUCKET_UNAUTHORIZED] = "unauthorized",
	[BITBUCKET_FORBIDDEN] = "forbidden",
	[BITBUCKET_NOT_FOUND] = "not-found",
	[BITBUCKET_SERVER] = "server-error",
	[BITBUCKET_NETWORK] = "network",
	[BITBUCKET_BAD_ANSWER] = "bad-answer",
	[BITBUCKET_CANCELLED] = "cancelled",
};

struct bitbucket {
	uv_loop_t		*loop;
	char			*name;		/* the deployment */
	char			*base;		/* bitbucket_url, no trailing '/' */
	size_t			 path_off;	/* where its path (context) begins */
	const char		*secret_key;	/* "token_file" or "password_file" */
	char			*secret_path;
	char			*user;		/* Basic; NULL with a Bearer token */
	char			*auth;		/* "Authorization: ...": zeroed on free */
	size_t			 auth_len;
	size_t			 cred_off;	/* where the credential begins in auth */
	unsigned		 timeout_ms;
	unsigned		 retry_delay_ms;
	struct bitbucket_call	*calls;		/* callbacks not yet run */
	unsigned		 ncalls;	/* allocated, until their timer closed */
	bool			 freeing;
};

struct bitbucket_call {
	struct bitbucket	*bb;
	const struct op		*op;
	enum call_state		 state;
	bool			 aborted;
	char			*url;
	char			*what;		/* "GET /context/rest/zdu/...", for humans */
	struct http_call	*http;
	uv_timer_t		 timer;
	uint64_t		 start_ns;
	uint64_t		 deadline_ns;
	bitbucket_cb		 cb;
	void			*arg;
	struct bitbucket_result	 res;
	char			 msg[MSG_MAX];
	struct bitbucket_call	*next, **prevp;
};

const char *
bitbucket_outcome_name(enum bitbucket_outcome o)
{
	if ((unsigned)o >= BITBUCKET_OUTCOME_COUNT)
		return "unknown";
	return outcome_names[o];
}

const char *
bitbucket_op_name(enum bitbucket_op op)
{
	if ((unsigned)op >= BITBUCKET_OP_COUNT)
		return "unknown";
	return ops[op].name;
}

/* ---- The secret ---- */

/* The context for every message about the secret file: never its content. */
static int
secret_fail(const struct bitbucket *bb, char *err, size_t errlen, const char *fmt, ...)
    FMT(4, 5);

static int
secret_fail(const struct bitbucket *bb, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "[deployment %s] %s %s: ", bb->name, bb->secret_key,
	    bb->secret_path);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
secret_missing(const struct bitbucket *bb, char *err, size_t errlen)
{
	if (bb->user != NULL)
		return secret_fail(bb, err, errlen, "no such file; create it holding only "
		    "the Bitbucket password of user \"%s\" (mode 0400, owned by the daemon's "
		    "user)", bb->user);
	return secret_fail(bb, err, errlen, "no such file; put the personal access token "
	    "of a system administrator in /etc/bbupgraded/credentials/%s (install -m 0400 "
	    "TOKENFILE /etc/bbupgraded/credentials/%s), which systemd passes to bbupgraded "
	    "as the credential bitbucket_%s, then restart bbupgraded (credentials are "
	    "copied at start); or name another file with token_file", bb->name, bb->name,
	    bb->name);
}

/*
 * Refused rather than warned about: the file is read at start, when a refusal stops
 * the daemon before it uses a secret that others may have read or replaced.
 */
static int
secret_check_stat(const struct bitbucket *bb, const struct stat *st, char *err,
    size_t errlen)
{
	unsigned mode = st->st_mode & 07777;

	if (!S_ISREG(st->st_mode))
		return secret_fail(bb, err, errlen, "not a regular file");
	if (st->st_mode & (S_IROTH | S_IWOTH))
		return secret_fail(bb, err, errlen, "mode %04o lets every user %s it: "
		    "chmod 0400 it (or 0600; systemd credentials are 0400)", mode,
		    st->st_mode & S_IWOTH ? "change" : "read");
	if (st->st_mode & S_IWGRP)
		return secret_fail(bb, err, errlen, "mode %04o lets its group change it: "
		    "chmod 0400 it (or 0600, or 0640)", mode);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return secret_fail(bb, err, errlen, "owned by uid %u, neither root nor the "
		    "daemon's user (uid %u), who could replace it: chown it",
		    (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_size > BITBUCKET_SECRET_MAX)
		return secret_fail(bb, err, errlen, "%lld bytes, more than %d: it must "
		    "hold only the %s", (long long)st->st_size, BITBUCKET_SECRET_MAX,
		    bb->user != NULL ? "password" : "token");
	return 0;
}

/* Reads at most BITBUCKET_SECRET_MAX + 1 bytes into buf, which holds that many. */
static int
secret_load(const struct bitbucket *bb, char *buf, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	/* O_NONBLOCK: a FIFO in its place must not hang the start. */
	fd = open(bb->secret_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 && (e = errno) == ENOENT)
		return secret_missing(bb, err, errlen);
	if (fd == -1)
		return secret_fail(bb, err, errlen, "cannot open: %s%s", strerror(e),
		    e == EACCES ? " (it must be readable by the daemon's user)" : "");
	if (fstat(fd, &st) == -1) {
		secret_fail(bb, err, errlen, "fstat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (secret_check_stat(bb, &st, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	while (len <= BITBUCKET_SECRET_MAX &&
	    (n = read(fd, buf + len, BITBUCKET_SECRET_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return secret_fail(bb, err, errlen, "read: %s", strerror(errno));
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > BITBUCKET_SECRET_MAX)
		return secret_fail(bb, err, errlen, "more than %d bytes: it must hold only "
		    "the %s", BITBUCKET_SECRET_MAX, bb->user ? "password" : "token");
	*lenp = len;
	return 0;
}

/* One trailing newline is what `echo` and editors add; anything else is refused. */
static int
secret_validate(const struct bitbucket *bb, const char *s, size_t *lenp, char *err,
    size_t errlen)
{
	const char *what = bb->user != NULL ? "password" : "token";
	size_t len = *lenp;
	unsigned char ch;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0)
		return secret_fail(bb, err, errlen, "empty: it must hold the %s", what);
	for (size_t i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\r')
			return secret_fail(bb, err, errlen, "a carriage return at byte %zu: "
			    "save it with Unix line ends", i + 1);
		if (ch == '\n')
			return secret_fail(bb, err, errlen, "more than one line: it must hold "
			    "only the %s", what);
		if (ch < 0x20 || ch == 0x7f)
			return secret_fail(bb, err, errlen, "a control character at byte %zu: "
			    "it must hold only the %s", i + 1, what);
		if (ch == ' ' && bb->user == NULL)
			return secret_fail(bb, err, errlen, "a space at byte %zu: a token has "
			    "none (a password belongs in password_file, with bitbucket_user)",
			    i + 1);
	}
	*lenp = len;
	return 0;
}

static int
auth_set(struct bitbucket *bb, const char *scheme, const unsigned char *cred,
    size_t len, bool base64)
{
	size_t hlen = strlen("Authorization: ") + strlen(scheme) + 1;
	size_t clen = base64 ? 4 * ((len + 2) / 3) : len;

	if ((bb->auth = malloc(hlen + clen + 1)) == NULL)
		return -1;
	snprintf(bb->auth, hlen + 1, "Authorization: %s ", scheme);
	if (base64)
		EVP_EncodeBlock((unsigned char *)bb->auth + hlen, cred, (int)len);
	else
		memcpy(bb->auth + hlen, cred, len);
	bb->auth[hlen + clen] = '\0';
	bb->auth_len = hlen + clen;
	bb->cred_off = hlen;
	return 0;
}

static int
auth_basic(struct bitbucket *bb, const char *pw, size_t len)
{
	unsigned char plain[USER_MAX + 1 + BITBUCKET_SECRET_MAX];
	size_t ulen = strlen(bb->user);
	int rc;

	memcpy(plain, bb->user, ulen);
	plain[ulen] = ':';
	memcpy(plain + ulen + 1, pw, len);
	rc = auth_set(bb, "Basic", plain, ulen + 1 + len, true);
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

static int
auth_load(struct bitbucket *bb, char *err, size_t errlen)
{
	char buf[BITBUCKET_SECRET_MAX + 1];
	size_t len = 0;
	int rc = -1;

	if (secret_load(bb, buf, &len, err, errlen) == -1 ||
	    secret_validate(bb, buf, &len, err, errlen) == -1)
		goto out;
	if (bb->user != NULL)
		rc = auth_basic(bb, buf, len);
	else
		rc = auth_set(bb, "Bearer", (unsigned char *)buf, len, false);
	if (rc == -1)
		snprintf(err, errlen, "[deployment %s] out of memory", bb->name);
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Basic splits user from password at the first ':'. */
static int
user_check(const struct deployment *d, char *err, size_t errlen)
{
	size_t len = strlen(d->bitbucket_user);

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)d->bitbucket_user[i];

		if (ch == ':' || ch < 0x20 || ch == 0x7f) {
			snprintf(err, errlen, "[deployment %s] bitbucket_user: no ':' and no "
			    "control characters in an HTTP Basic user name", d->name);
			return -1;
		}
	}
	if (len == 0 || len > USER_MAX) {
		snprintf(err, errlen, "[deployment %s] bitbucket_user: 1 to %d bytes",
		    d->name, USER_MAX);
		return -1;
	}
	return 0;
}

/* ---- The client ---- */

static size_t
url_path_off(const char *url)
{
	const char *h = strstr(url, "://");

	h = h != NULL ? h + 3 : url;
	return (size_t)(h - url) + strcspn(h, "/");
}

static void
client_destroy(struct bitbucket *bb)
{
	if (bb->auth != NULL)
		explicit_bzero(bb->auth, bb->auth_len);
	free(bb->auth);
	free(bb->name);
	free(bb->base);
	free(bb->secret_path);
	free(bb->user);
	free(bb);
}

static int
client_fill(struct bitbucket *bb, const struct deployment *d, char *err, size_t errlen)
{
	const char *url = d->bitbucket_url;
	size_t len;

	if (url == NULL || (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)) {
		snprintf(err, errlen, "[deployment %s] bitbucket_url: an http:// or "
		    "https:// URL is required", d->name);
		return -1;
	}
	if ((bb->base = strdup(url)) == NULL)
		return -1;
	bb->path_off = url_path_off(bb->base);
	for (len = strlen(bb->base); len > bb->path_off && bb->base[len - 1] == '/';
	    len--)
		bb->base[len - 1] = '\0';
	if (d->password_file != NULL) {
		if (d->bitbucket_user == NULL) {
			snprintf(err, errlen, "[deployment %s] password_file needs "
			    "bitbucket_user", d->name);
			return -1;
		}
		if (user_check(d, err, errlen) == -1)
			return -1;
		bb->secret_key = "password_file";
		bb->secret_path = strdup(d->password_file);
		bb->user = strdup(d->bitbucket_user);
		return bb->secret_path != NULL && bb->user != NULL ? 0 : -1;
	}
	bb->secret_key = "token_file";
	bb->secret_path = strdup(d->token_file);
	return bb->secret_path != NULL ? 0 : -1;
}

struct bitbucket *
bitbucket_new(uv_loop_t *loop, const struct deployment *d, char *err, size_t errlen)
{
	struct bitbucket *bb;

	err[0] = '\0';
	if (d->token_file == NULL && d->password_file == NULL) {
		snprintf(err, errlen, "[deployment %s] no Bitbucket credential: put the "
		    "personal access token of a system administrator in "
		    "/etc/bbupgraded/credentials/%s (install -m 0400 TOKENFILE "
		    "/etc/bbupgraded/credentials/%s), which systemd passes to bbupgraded as "
		    "the credential bitbucket_%s, then restart bbupgraded; or set token_file, "
		    "or bitbucket_user with password_file, in bbupgraded.conf", d->name,
		    d->name, d->name, d->name);
		return NULL;
	}
	if ((bb = calloc(1, sizeof(*bb))) == NULL ||
	    (bb->name = strdup(d->name)) == NULL) {
		free(bb);
		snprintf(err, errlen, "[deployment %s] out of memory", d->name);
		return NULL;
	}
	bb->loop = loop;
	bb->timeout_ms = BITBUCKET_TIMEOUT_MS;
	bb->retry_delay_ms = BITBUCKET_RETRY_DELAY_MS;
	if (client_fill(bb, d, err, errlen) == -1 || auth_load(bb, err, errlen) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "[deployment %s] out of memory", d->name);
		client_destroy(bb);
		return NULL;
	}
	return bb;
}

void
bitbucket_set_timeouts(struct bitbucket *bb, unsigned timeout_ms,
    unsigned retry_delay_ms)
{
	bb->timeout_ms = timeout_ms != 0 ? timeout_ms : BITBUCKET_TIMEOUT_MS;
	bb->retry_delay_ms = retry_delay_ms != 0 ? retry_delay_ms :
	    BITBUCKET_RETRY_DELAY_MS;
}

/* The secret goes now; the struct stays until the last callback has run. */
void
bitbucket_free(struct bitbucket *bb)
{
	struct bitbucket_call *c, *next;

	if (bb == NULL || bb->freeing)
		return;
	bb->freeing = true;
	if (bb->auth != NULL)
		explicit_bzero(bb->auth, bb->auth_len);
	free(bb->auth);
	bb->auth = NULL;
	for (c = bb->calls; c != NULL; c = next) {
		next = c->next;
		bitbucket_abort(c);
	}
	if (bb->ncalls == 0)
		client_destroy(bb);
}

/* ---- What an answer means ---- */

/* Does s hold our credential (a server that echoes headers)? */
static bool
leaks(const struct bitbucket *bb, const char *s)
{
	return bb->auth != NULL && strstr(s, bb->auth + bb->cred_off) != NULL;
}

/*
 * Bitbucket's own words, for 403s and 5xx: errors[0].message of its JSON, or the
 * first line of a text body. HTML pages and anything that repeats our credential
 * are left out; bytes outside printable ASCII become '?'.
 */
static void
bitbucket_said(const struct bitbucket *bb, const struct http_response *resp, char *out,
    size_t outlen)
{
	char text[200];
	const char *s;
	json_t *j;
	size_t n = 0;

	out[0] = '\0';
	j = json_loadb(resp->body, resp->body_len, 0, NULL);
	s = json_string_value(json_object_get(json_array_get(json_object_get(j, "errors"),
	    0), "message"));
	if (s == NULL && j == NULL)
		s = resp->body + strspn(resp->body, " \t\r\n");
	for (; s != NULL && *s != '\0' && *s != '\r' && *s != '\n' &&
	    n < sizeof(text) - 1; s++)
		text[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	json_decref(j);
	while (n > 0 && text[n - 1] == ' ')
		n--;
	text[n] = '\0';
	if (n > 0 && text[0] != '<' && !leaks(bb, text))
		snprintf(out, outlen, " (Bitbucket says: \"%s\")", text);
}

static void
set_outcome(struct bitbucket_call *c, enum bitbucket_outcome o, const char *fmt, ...)
    FMT(3, 4);

static void
set_outcome(struct bitbucket_call *c, enum bitbucket_outcome o, const char *fmt, ...)
{
	va_list ap;

	c->res.outcome = o;
	c->res.ok = o == BITBUCKET_OK;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

/* A POST whose effect is unknown: say so, in the flag and in the message. */
static void
maybe_applied(struct bitbucket_call *c)
{
	size_t n = strlen(c->msg);

	if (strcmp(c->op->method, "POST") != 0)
		return;
	c->res.maybe_applied = true;
	snprintf(c->msg + n, sizeof(c->msg) - n, "; the request may have taken effect: "
	    "read /rest/zdu/cluster before deciding again");
}

static void
answer_auth(struct bitbucket_call *c, const struct http_response *resp)
{
	const struct bitbucket *bb = c->bb;
	char said[256];

	bitbucket_said(bb, resp, said, sizeof(said));
	if (resp->status == 401 && bb->user != NULL)
		set_outcome(c, BITBUCKET_UNAUTHORIZED, "%s: HTTP 401%s: Bitbucket rejected "
		    "user \"%s\" with the password of password_file %s: correct them, then "
		    "restart bbupgraded (it reads secrets at start); after repeated failures "
		    "Bitbucket demands a CAPTCHA: log in once in a browser", c->what, said,
		    bb->user, bb->secret_path);
	else if (resp->status == 401)
		set_outcome(c, BITBUCKET_UNAUTHORIZED, "%s: HTTP 401%s: Bitbucket rejected "
		    "the token of token_file %s (expired or revoked?): put a valid personal "
		    "access token of a system administrator there, then restart bbupgraded "
		    "(it reads secrets at start)", c->what, said, bb->secret_path);
	else if (bb->user != NULL)
		set_outcome(c, BITBUCKET_FORBIDDEN, "%s: HTTP 403%s: the rolling-upgrade "
		    "API needs a system administrator, a Data Center licence and a "
		    "clustered install: give user \"%s\" the System administrator "
		    "permission", c->what, said, bb->user);
	else
		set_outcome(c, BITBUCKET_FORBIDDEN, "%s: HTTP 403%s: the rolling-upgrade "
		    "API needs a system administrator, a Data Center licence and a "
		    "clustered install; and a personal access token may not reach this "
		    "sysadmin-only API even when its user is a system administrator "
		    "(BSERV-19635): use HTTP Basic with a system administrator "
		    "(bitbucket_user and password_file)", c->what, said);
}

static void
answer_server(struct bitbucket_call *c, const struct http_response *resp)
{
	const char *hint = "see atlassian-bitbucket.log on the nodes";
	char said[256];

	bitbucket_said(c->bb, resp, said, sizeof(said));
	if (resp->status >= 502 && resp->status <= 504)
		hint = "no node behind the load balancer answered: wait and try again";
	else if (c->res.op == BITBUCKET_OP_APPROVE)
		hint = "finalization tasks may have failed: read /rest/zdu/cluster and "
		    "atlassian-bitbucket.log";
	else if (c->res.op == BITBUCKET_OP_STATE)
		hint = "the answering node has no cluster node of its own: use "
		    "/rest/zdu/cluster";
	set_outcome(c, BITBUCKET_SERVER, "%s: HTTP %ld from Bitbucket or its load "
	    "balancer%s: %s", c->what, resp->status, said, hint);
	maybe_applied(c);
}

static void
answer_not_found(struct bitbucket_call *c, const struct http_response *resp)
{
	const char *p = c->bb->base + c->bb->path_off;

	if (c->res.op == BITBUCKET_OP_NODE)
		set_outcome(c, BITBUCKET_NOT_FOUND, "%s: HTTP 404: no such node in the "
		    "cluster (any more)", c->what);
	else
		set_outcome(c, BITBUCKET_NOT_FOUND, "%s: HTTP 404: nothing there: check "
		    "bitbucket_url (%s): the load balancer's URL with Bitbucket's context "
		    "path%s%s%s, and Bitbucket 7.9 or later", c->what, c->bb->base,
		    *p ? " (now \"" : " if it has one", p, *p ? "\")" : "");
}

/* Every status but 2xx, and a 2xx of /status that is not a health answer. */
static void
answer_status(struct bitbucket_call *c, const struct http_response *resp)
{
	long s = resp->status;

	if (s >= 300 && s < 400)
		set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: HTTP %ld redirect%s%.200s, not "
		    "followed: the base URL probably needs https:// or a context path "
		    "(bitbucket_url = %s)", c->what, s, resp->location ? " to " : "",
		    resp->location ? resp->location : "", c->bb->base);
	else if (s == 401 || s == 403)
		answer_auth(c, resp);
	else if (s == 404)
		answer_not_found(c, resp);
	else if (s == 409)
		set_outcome(c, BITBUCKET_CONFLICT, "%s: HTTP 409: not allowed in the "
		    "cluster's current state%s%s%s: read /rest/zdu/cluster and decide again",
		    c->what, c->op->needs ? " (only from " : "", c->op->needs ?
		    c->op->needs : "", c->op->needs ? ")" : "");
	else if (s >= 500 && s < 600)
		answer_server(c, resp);
	else {
		set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: unexpected HTTP %ld: is "
		    "bitbucket_url (%s) Bitbucket 7.9 or later behind its load balancer?",
		    c->what, s, c->bb->base);
		if (s >= 200 && s < 300)
			maybe_applied(c);
	}
}

static int
parse_body(struct bitbucket_call *c, const struct http_response *resp, char *err,
    size_t errlen)
{
	switch (c->res.op) {
	case BITBUCKET_OP_STATE:
		return zdu_parse_state(resp->body, resp->body_len, &c->res.state, err,
		    errlen);
	case BITBUCKET_OP_NODE:
		return zdu_parse_node(resp->body, resp->body_len, &c->res.node, err,
		    errlen);
	default:
		return zdu_parse_cluster(resp->body, resp->body_len, &c->res.cluster, err,
		    errlen);
	}
}

static const char *
health_name(enum zdu_health h)
{
	switch (h) {
	case ZDU_HEALTH_RUNNING:
		return "RUNNING";
	case ZDU_HEALTH_STARTING:
		return "STARTING";
	case ZDU_HEALTH_OTHER:
		return "neither RUNNING nor STARTING";
	default:
		return "down";
	}
}

/* /status: STARTING comes with a 503 and is an answer, not a failure. */
static void
answer_health(struct bitbucket_call *c, const struct http_response *resp)
{
	c->res.health = zdu_parse_health((int)resp->status, resp->body, resp->body_len);
	if (c->res.health != ZDU_HEALTH_DOWN)
		set_outcome(c, BITBUCKET_OK, "%s: HTTP %ld: %s", c->what, resp->status,
		    health_name(c->res.health));
	else if (resp->status >= 200 && resp->status < 300)
		set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: HTTP %ld but not a %s: is "
		    "bitbucket_url (%s) Bitbucket behind its load balancer?", c->what,
		    resp->status, c->op->shape, c->bb->base);
	else
		answer_status(c, resp);
}

static void
answer_http(struct bitbucket_call *c, const struct http_response *resp)
{
	char err[256];

	if (c->res.op == BITBUCKET_OP_HEALTH) {
		answer_health(c, resp);
		return;
	}
	if (resp->status < 200 || resp->status >= 300) {
		answer_status(c, resp);
		return;
	}
	if (parse_body(c, resp, err, sizeof(err)) == 0) {
		set_outcome(c, BITBUCKET_OK, "%s: HTTP %ld", c->what, resp->status);
		return;
	}
	set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: HTTP %ld but not a %s (%s): is "
	    "bitbucket_url (%s) Bitbucket's own URL, not a login page or another service?",
	    c->what, resp->status, c->op->shape, err, c->bb->base);
	maybe_applied(c);
}

/* No HTTP answer: the transport failed, or http.c refused the request. */
static void
answer_transport(struct bitbucket_call *c, const struct http_response *resp)
{
	const struct bitbucket *bb = c->bb;

	switch (resp->error) {
	case HTTP_ERR_POLICY:
	case HTTP_ERR_INVALID:
		set_outcome(c, BITBUCKET_NETWORK, "%s: not sent: %s (bitbucket_url = %s)",
		    c->what, resp->message, bb->base);
		return;
	case HTTP_ERR_TOO_LARGE:
		set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: answer larger than %u bytes: is "
		    "bitbucket_url (%s) right?", c->what, MAX_ANSWER, bb->base);
		break;
	case HTTP_ERR_TLS:
		set_outcome(c, BITBUCKET_NETWORK, "%s: TLS failed (%s): the load balancer's "
		    "certificate must be valid for its name and trusted by the system's CA "
		    "store", c->what, resp->message);
		return;
	case HTTP_ERR_CONNECT:
		set_outcome(c, BITBUCKET_NETWORK, "%s: cannot connect to %.*s (%s): check "
		    "the load balancer, DNS and security groups", c->what,
		    (int)bb->path_off, bb->base, resp->message);
		return;
	default:
		set_outcome(c, BITBUCKET_NETWORK, "%s: no whole answer from %.*s (%s: %s): "
		    "check the load balancer and the nodes behind it", c->what,
		    (int)bb->path_off, bb->base, http_error_name(resp->error),
		    resp->message);
		break;
	}
	maybe_applied(c);
}

/* ---- Calls ---- */

static void	on_http(const struct http_response *, void *);
static void	on_timer(uv_timer_t *);

static uint64_t
ms_left(const struct bitbucket_call *c)
{
	uint64_t now = uv_hrtime();

	return now >= c->deadline_ns ? 0 : (c->deadline_ns - now) / 1000000;
}

/* One HTTP request of the call, bounded by what is left of its timeout. */
static int
attempt(struct bitbucket_call *c)
{
	const char *hdrs[3];
	struct http_req req;
	uint64_t left = ms_left(c);
	size_t n = 0;

	hdrs[n++] = "Accept: application/json";
	if (c->op->auth)
		hdrs[n++] = c->bb->auth;
	/* Atlassian's XSRF check: a REST POST without it may get a 403. */
	if (strcmp(c->op->method, "POST") == 0)
		hdrs[n++] = "X-Atlassian-Token: no-check";
	memset(&req, 0, sizeof(req));
	req.method = c->op->method;
	req.url = c->url;
	req.headers = hdrs;
	req.nheaders = n;
	req.timeout_ms = left > 0 ? (long)left : 1;
	req.connect_timeout_ms = left < HTTP_CONNECT_TIMEOUT_MS ? req.timeout_ms :
	    HTTP_CONNECT_TIMEOUT_MS;
	req.max_response = MAX_ANSWER;
	if ((c->http = http_request(&req, on_http, c)) == NULL)
		return -1;
	c->state = CALL_HTTP;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct bitbucket_call *c = h->data;
	struct bitbucket *bb = c->bb;

	free(c->url);
	free(c->what);
	free(c);
	if (--bb->ncalls == 0 && bb->freeing)
		client_destroy(bb);
}

static void
finish(struct bitbucket_call *c)
{
	struct bitbucket_result *r = &c->res;

	if (c->aborted && r->outcome != BITBUCKET_CANCELLED) {
		zdu_cluster_free(&r->cluster);
		memset(&r->cluster, 0, sizeof(r->cluster));
		memset(&r->state, 0, sizeof(r->state));
		memset(&r->node, 0, sizeof(r->node));
		r->health = ZDU_HEALTH_DOWN;
		r->maybe_applied = false;
		set_outcome(c, BITBUCKET_CANCELLED, "%s: cancelled", c->what);
	}
	c->state = CALL_DONE;
	r->elapsed_ms = (uv_hrtime() - c->start_ns) / 1000000;
	r->message = c->msg;
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	c->cb(r, c->arg);
	zdu_cluster_free(&r->cluster);
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void
log_attempt(const struct bitbucket_call *c, const struct http_response *resp)
{
	if (resp->error == HTTP_ERR_NONE)
		log_debug("bitbucket %s: %s: HTTP %ld, %llu ms", c->bb->name, c->what,
		    resp->status, (unsigned long long)resp->elapsed_ms);
	else
		log_debug("bitbucket %s: %s: %s, %llu ms", c->bb->name, c->what,
		    http_error_name(resp->error), (unsigned long long)resp->elapsed_ms);
}

/* A GET, once, on what a node coming or going causes, if time is left for it. */
static bool
should_retry(const struct bitbucket_call *c, const struct http_response *resp)
{
	enum http_error e = resp->error;

	if (!c->op->retry || c->aborted || c->res.attempts != 1)
		return false;
	if (c->res.outcome != BITBUCKET_SERVER && !(c->res.outcome == BITBUCKET_NETWORK &&
	    (e == HTTP_ERR_TIMEOUT || e == HTTP_ERR_CONNECT || e == HTTP_ERR_RESET ||
	    e == HTTP_ERR_OTHER)))
		return false;
	return ms_left(c) >= (uint64_t)c->bb->retry_delay_ms + RETRY_MIN_MS;
}

static void
on_http(const struct http_response *resp, void *arg)
{
	struct bitbucket_call *c = arg;

	c->http = NULL;
	c->res.attempts++;
	c->res.status = resp->status;
	log_attempt(c, resp);
	if (resp->error == HTTP_ERR_CANCELLED) {
		set_outcome(c, BITBUCKET_CANCELLED, "%s: cancelled", c->what);
		maybe_applied(c);
	} else if (resp->error != HTTP_ERR_NONE)
		answer_transport(c, resp);
	else
		answer_http(c, resp);
	if (should_retry(c, resp)) {
		log_debug("bitbucket %s: %s: retrying in %u ms", c->bb->name, c->what,
		    c->bb->retry_delay_ms);
		c->state = CALL_WAIT;
		uv_timer_start(&c->timer, on_timer, c->bb->retry_delay_ms, 0);
		return;
	}
	finish(c);
}

static void
on_timer(uv_timer_t *t)
{
	struct bitbucket_call *c = t->data;

	if (c->state == CALL_WAIT && !c->aborted) {
		if (attempt(c) == 0)
			return;
		set_outcome(c, BITBUCKET_CANCELLED, "%s: cancelled: the HTTP client was "
		    "shut down", c->what);
	}
	finish(c);
}

void
bitbucket_abort(struct bitbucket_call *c)
{
	if (c == NULL || c->state == CALL_DONE || c->aborted)
		return;
	c->aborted = true;
	if (c->state == CALL_HTTP) {
		http_cancel(c->http);	/* on_http() follows, cancelled */
		return;
	}
	/* Waiting for a retry or a local result: deliver now, but not from here. */
	c->state = CALL_LOCAL;
	uv_timer_start(&c->timer, on_timer, 0, 0);
}

static bool
node_id_ok(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	return n > 0 && n <= NODE_ID_MAX && id[n] == '\0' && strcmp(id, ".") != 0 &&
	    strcmp(id, "..") != 0;
}

static struct bitbucket_call *
call_alloc(struct bitbucket *bb, enum bitbucket_op op, const char *id, bool id_ok,
    bitbucket_cb cb, void *arg)
{
	struct bitbucket_call *c;
	const char *suffix = op != BITBUCKET_OP_NODE ? "" : id_ok ? id : "<invalid id>";

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->bb = bb;
	c->op = &ops[op];
	c->cb = cb;
	c->arg = arg;
	c->res.op = op;
	c->res.health = ZDU_HEALTH_DOWN;
	c->res.message = c->msg;
	c->start_ns = uv_hrtime();
	c->deadline_ns = c->start_ns + (uint64_t)bb->timeout_ms * 1000000;
	if (asprintf(&c->url, "%s%s%s", bb->base, c->op->path, suffix) == -1)
		c->url = NULL;
	if (c->url == NULL || asprintf(&c->what, "%s %s", c->op->method,
	    c->url + bb->path_off) == -1) {
		free(c->url);
		free(c);
		return NULL;
	}
	return c;
}

static struct bitbucket_call *
call_start(struct bitbucket *bb, enum bitbucket_op op, const char *id, bitbucket_cb cb,
    void *arg)
{
	struct bitbucket_call *c;
	bool id_ok = op != BITBUCKET_OP_NODE || node_id_ok(id);

	if (bb == NULL || bb->freeing || cb == NULL ||
	    (c = call_alloc(bb, op, id, id_ok, cb, arg)) == NULL)
		return NULL;
	if (id_ok && attempt(c) == -1) {
		free(c->url);
		free(c->what);
		free(c);
		return NULL;
	}
	BB_ASSERT(uv_timer_init(bb->loop, &c->timer) == 0);
	c->timer.data = c;
	if (!id_ok) {
		/* From Bitbucket's own answers, or a bug: never into a URL. */
		set_outcome(c, BITBUCKET_BAD_ANSWER, "%s: not a node id (1 to %d of "
		    "A-Z a-z 0-9 . _ -); not sent", c->what, NODE_ID_MAX);
		c->state = CALL_LOCAL;
		uv_timer_start(&c->timer, on_timer, 0, 0);
	}
	if ((c->next = bb->calls) != NULL)
		c->next->prevp = &c->next;
	bb->calls = c;
	c->prevp = &bb->calls;
	bb->ncalls++;
	return c;
}

struct bitbucket_call *
bitbucket_get_cluster(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_CLUSTER, NULL, cb, arg);
}

struct bitbucket_call *
bitbucket_get_state(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_STATE, NULL, cb, arg);
}

struct bitbucket_call *
bitbucket_get_node(struct bitbucket *bb, const char *id, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_NODE, id, cb, arg);
}

struct bitbucket_call *
bitbucket_post_start(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_START, NULL, cb, arg);
}

struct bitbucket_call *
bitbucket_post_cancel(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_CANCEL, NULL, cb, arg);
}

struct bitbucket_call *
bitbucket_post_approve(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_APPROVE, NULL, cb, arg);
}

struct bitbucket_call *
bitbucket_get_health(struct bitbucket *bb, bitbucket_cb cb, void *arg)
{
	return call_start(bb, BITBUCKET_OP_HEALTH, NULL, cb, arg);
}
