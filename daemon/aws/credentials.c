/*
 * The credential chain (see credentials.h): the cache with its waiting requests, and
 * the resolution, a small state machine that runs the sources in order. The sources
 * and the pure parsers live beside it: credentials_files.c (the environment, the
 * shared INI files), credentials_json.c (the metadata JSON) and credentials_remote.c
 * (the container endpoint and IMDSv2, driven by http.h callbacks, and the container
 * URL rule); credentials_int.h is what they share.
 *
 * Must never: log or quote a key, token or file line (errors say "line N"); keep a
 * secret in memory it does not zero when done (file buffers, parsed values, the
 * IMDS token, header lines carrying a token); hand out expired credentials; run a
 * resolution, or replace the cached set, while a caller's callback is on the stack
 * (resolutions start from our own timer, so a pointer given to a callback stays
 * valid for its whole run).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/credentials_int.h"
#include "daemon/http.h"

#define BG_PAUSE_MS	30000		/* between background refresh attempts */

/* ---- Secrets ---- */

void
aws_creds_ini_keys_free(struct aws_creds_ini_keys *k)
{
	if (k == NULL)
		return;
	secret_free(k->access_key_id);
	secret_free(k->secret_access_key);
	secret_free(k->session_token);
	free(k->unsupported);
	memset(k, 0, sizeof(*k));
}

/* ---- The cache and the requests ---- */

static void	kick_cb(uv_timer_t *);

static int64_t
now_wall(const struct aws_creds *cr)
{
	struct timespec	 ts;

	if (cr->o.now_ms != NULL)
		return cr->o.now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
cached_free(struct cached *c)
{
	if (c == NULL)
		return;
	secret_free(c->akid);
	secret_free(c->secret);
	secret_free(c->token);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Whether cur may be handed out with more than margin_ms of validity left. */
static int
usable(const struct aws_creds *cr, int64_t margin_ms)
{
	if (cr->cur == NULL || cr->invalid)
		return 0;
	return cr->cur->pub.expiration_ms == 0 ||
	    cr->cur->pub.expiration_ms - now_wall(cr) > margin_ms;
}

void
aws_creds_kick(struct aws_creds *cr)
{
	uv_timer_start(&cr->kick, kick_cb, 0, 0);
}

static void
ready_push(struct aws_creds *cr, struct aws_creds_req *r)
{
	r->waiting = 0;
	r->next = NULL;
	*cr->ready_tail = r;
	cr->ready_tail = &r->next;
	aws_creds_kick(cr);
}

static void
waiting_push(struct aws_creds *cr, struct aws_creds_req *r)
{
	struct aws_creds_req	**pp = &cr->waiting;

	while (*pp != NULL)
		pp = &(*pp)->next;
	r->waiting = 1;
	r->next = NULL;
	*pp = r;
}

static void
set_cancelled(struct aws_creds_req *r)
{
	r->failed = 1;
	memset(&r->err, 0, sizeof(r->err));
	r->err.cancelled = 1;
	snprintf(r->err.message, sizeof(r->err.message), "cancelled");
}

/* Asks for a resolution on the next kick, unless one runs: waiters join that. */
static void
schedule(struct aws_creds *cr, int background)
{
	if (cr->resolving)
		return;
	cr->want_bg = cr->want ? cr->want_bg && background : background;
	cr->want = 1;
	aws_creds_kick(cr);
}

void
aws_creds_trail_add(struct aws_creds *cr, const char *fmt, ...)
{
	size_t	 n = strlen(cr->trail);
	va_list	 ap;

	if (n > 0 && n + 2 < sizeof(cr->trail)) {
		memcpy(cr->trail + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(cr->trail + n, sizeof(cr->trail) - n, fmt, ap);
	va_end(ap);
}

/* ---- Ending a resolution ---- */

static void
step_reset(struct aws_creds *cr)
{
	BB_ASSERT(cr->http == NULL);
	free(cr->url);
	free(cr->role);
	cr->url = cr->role = NULL;
	cr->step = STEP_NONE;
	cr->resolving = 0;
}

/*
 * Hands the outcome to every waiter. After a failure the current set still serves
 * them while it has not expired: a refresh that failed in the mandatory window
 * must not stop calls that the old keys can still sign.
 */
static void
resolve_end(struct aws_creds *cr, const struct aws_creds_error *err)
{
	struct aws_creds_req	*r;
	int			 stale_ok = err != NULL && usable(cr, 0);

	if (err != NULL) {
		cr->stats.failures++;
		log_warnx("aws: %s%s%s", cr->background ? "background refresh of "
		    "credentials failed: " : "", err->message, stale_ok ?
		    "; still using the current credentials" : "");
	}
	while ((r = cr->waiting) != NULL) {
		cr->waiting = r->next;
		if (err != NULL && !stale_ok) {
			r->failed = 1;
			r->err = *err;
		}
		ready_push(cr, r);
	}
	step_reset(cr);
}

/* remote: the failure was a container or metadata service not answering. */
void
aws_creds_finish_err(struct aws_creds *cr, int remote, const char *fmt, ...)
{
	struct aws_creds_error	 e;
	va_list			 ap;

	memset(&e, 0, sizeof(e));
	e.transient = remote && cr->had_remote;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	resolve_end(cr, &e);
}

static int
keys_check(const struct aws_creds_ini_keys *k, char *why, size_t whylen)
{
	size_t	 n = strlen(k->access_key_id);

	if (n == 0 || n > 128 || strspn(k->access_key_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return say(why, whylen, "the access key id is not [A-Za-z0-9]{1,128}");
	for (const char *p = k->secret_access_key; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return say(why, whylen, "the secret key has blanks or controls");
	if (k->secret_access_key[0] == '\0')
		return say(why, whylen, "the secret key is empty");
	for (const char *p = k->session_token; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return say(why, whylen, "the session token has blanks or controls");
	return 0;
}

static int
install_check(const struct aws_creds *cr, const struct aws_creds_ini_keys *k,
    int64_t exp, char *why, size_t whylen)
{
	if (keys_check(k, why, whylen) == -1)
		return -1;
	if (exp != 0 && exp <= now_wall(cr))
		return say(why, whylen, "they have expired already");
	return 0;
}

static void
log_installed(const struct cached *c)
{
	char		 when[32];
	time_t		 t = (time_t)(c->pub.expiration_ms / 1000);
	struct tm	 tm;

	if (c->pub.expiration_ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		log_info("aws: credentials from %s", c->source);
	else
		log_info("aws: credentials from %s, valid until %s", c->source, when);
}

/* Takes k's secrets (k is left empty) as the new current set. */
void
aws_creds_finish_ok(struct aws_creds *cr, struct aws_creds_ini_keys *k, int64_t exp,
    const char *source)
{
	int		 remote = cr->step != STEP_NONE;
	struct cached	*c;
	char		 why[128];

	if (install_check(cr, k, exp, why, sizeof(why)) == -1) {
		aws_creds_ini_keys_free(k);
		aws_creds_finish_err(cr, remote, "credentials from %s: %s", source, why);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->pub.access_key_id = c->akid = k->access_key_id;
	c->pub.secret_access_key = c->secret = k->secret_access_key;
	c->pub.session_token = c->token = k->session_token;
	k->access_key_id = k->secret_access_key = k->session_token = NULL;
	aws_creds_ini_keys_free(k);
	c->pub.expiration_ms = exp;
	snprintf(c->source, sizeof(c->source), "%s", source);
	c->pub.source = c->source;
	cached_free(cr->cur);
	cr->cur = c;
	cr->invalid = 0;
	cr->had_remote |= remote;
	log_installed(c);
	resolve_end(cr, NULL);
}

/*
 * Runs the chain; the local sources end it here, the remote ones in http_done()
 * (credentials_remote.c).
 */
static void
resolve_begin(struct aws_creds *cr, int background)
{
	struct aws_creds_ini_keys	 k;
	char				 err[AWS_CREDS_ERROR_MAX - 64] = "";
	char				 src[AWS_CREDS_SOURCE_MAX];
	int				 rc;

	cr->resolving = 1;
	cr->background = background;
	cr->trail[0] = '\0';
	cr->token_retried = 0;
	cr->stats.resolutions++;
	cr->stats.background += background != 0;
	memset(&k, 0, sizeof(k));
	if ((rc = aws_creds_env_provider(cr, &k, err, sizeof(err))) == 1)
		aws_creds_finish_ok(cr, &k, 0, "environment");
	else if (rc == 0 && (rc = aws_creds_files_provider(cr, &k, src, sizeof(src), err,
	    sizeof(err))) == 1)
		aws_creds_finish_ok(cr, &k, 0, src);
	else if (rc == -1)
		aws_creds_finish_err(cr, 0, "%s", err);
	else
		aws_creds_remote_begin(cr);
}

/* ---- Delivery, lifetime and the public calls ---- */

static void
closed_cb(uv_handle_t *h)
{
	struct aws_creds	*cr = h->data;

	if (--cr->handles > 0)
		return;
	cached_free(cr->cur);
	secret_free(cr->token);
	free(cr->url);
	free(cr->role);
	free(cr->profile);
	explicit_bzero(cr, sizeof(*cr));
	free(cr);
}

/* After aws_creds_free(): closes the timers once nothing is left to deliver. */
static void
finalize(struct aws_creds *cr)
{
	if (cr->http != NULL || cr->ready != NULL || cr->waiting != NULL ||
	    uv_is_closing((uv_handle_t *)&cr->kick))
		return;
	uv_close((uv_handle_t *)&cr->kick, closed_cb);
	uv_close((uv_handle_t *)&cr->pause, closed_cb);
}

static void
deliver_one(struct aws_creds *cr, struct aws_creds_req *r)
{
	if (cr->freeing && !r->failed)
		set_cancelled(r);
	/* Invalidated or expired since it was queued: wait for fresh ones. */
	if (!r->failed && !usable(cr, 0)) {
		waiting_push(cr, r);
		schedule(cr, 0);
		return;
	}
	r->delivering = 1;
	if (r->failed)
		r->cb(NULL, &r->err, r->arg);
	else
		r->cb(&cr->cur->pub, NULL, r->arg);
	free(r);
}

/* Delivers what is ready now; what callbacks add waits for the next kick. */
static void
kick_cb(uv_timer_t *t)
{
	struct aws_creds	*cr = t->data;
	struct aws_creds_req	*batch, *r;

	if (cr->want && !cr->resolving && !cr->freeing) {
		cr->want = 0;
		resolve_begin(cr, cr->want_bg);
	}
	batch = cr->ready;
	cr->ready = NULL;
	cr->ready_tail = &cr->ready;
	while ((r = batch) != NULL) {
		batch = r->next;
		deliver_one(cr, r);
	}
	if (cr->freeing)
		finalize(cr);
}

struct aws_creds *
aws_creds_new(uv_loop_t *loop, const struct aws_creds_opts *opts)
{
	struct aws_creds	*cr;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return NULL;
	if (opts != NULL)
		cr->o = *opts;
	if (opts != NULL && opts->profile != NULL && opts->profile[0] != '\0' &&
	    (cr->profile = strdup(opts->profile)) == NULL) {
		free(cr);
		return NULL;
	}
	cr->o.profile = NULL;
	if (cr->o.advisory_ms == 0)
		cr->o.advisory_ms = AWS_CREDS_ADVISORY_MS;
	if (cr->o.mandatory_ms == 0)
		cr->o.mandatory_ms = AWS_CREDS_MANDATORY_MS;
	if (cr->o.imds_timeout_ms == 0)
		cr->o.imds_timeout_ms = AWS_CREDS_IMDS_TIMEOUT_MS;
	if (cr->o.imds_attempts <= 0)
		cr->o.imds_attempts = AWS_CREDS_IMDS_ATTEMPTS;
	if (cr->o.container_timeout_ms == 0)
		cr->o.container_timeout_ms = AWS_CREDS_CONTAINER_TIMEOUT_MS;
	if (cr->o.container_attempts <= 0)
		cr->o.container_attempts = AWS_CREDS_CONTAINER_ATTEMPTS;
	if (cr->o.container_pause_ms == 0)
		cr->o.container_pause_ms = AWS_CREDS_CONTAINER_PAUSE_MS;
	cr->loop = loop;
	uv_timer_init(loop, &cr->kick);
	uv_timer_init(loop, &cr->pause);
	cr->kick.data = cr;
	cr->pause.data = cr;
	cr->handles = 2;
	cr->ready_tail = &cr->ready;
	return cr;
}

void
aws_creds_free(struct aws_creds *cr)
{
	struct aws_creds_req	*r;

	if (cr == NULL || cr->freeing)
		return;
	cr->freeing = 1;
	cr->want = 0;
	for (r = cr->ready; r != NULL; r = r->next)
		set_cancelled(r);
	while ((r = cr->waiting) != NULL) {
		cr->waiting = r->next;
		set_cancelled(r);
		ready_push(cr, r);
	}
	uv_timer_stop(&cr->pause);
	if (cr->http != NULL)
		http_cancel(cr->http);	/* http_done() kicks when it has run */
	aws_creds_kick(cr);
}

const struct aws_credentials *
aws_creds_peek(struct aws_creds *cr)
{
	int64_t	 left;

	if (cr == NULL || cr->freeing || !usable(cr, 0))
		return NULL;
	if (cr->cur->pub.expiration_ms == 0)
		return &cr->cur->pub;
	left = cr->cur->pub.expiration_ms - now_wall(cr);
	if (left <= (int64_t)cr->o.mandatory_ms)
		return NULL;
	/* Paced, so a source that keeps handing out short-lived keys is not hammered. */
	if (left <= (int64_t)cr->o.advisory_ms && !cr->resolving &&
	    uv_now(cr->loop) >= cr->bg_after) {
		cr->bg_after = uv_now(cr->loop) + BG_PAUSE_MS;
		schedule(cr, 1);
	}
	return &cr->cur->pub;
}

struct aws_creds_req *
aws_creds_get(struct aws_creds *cr, aws_creds_cb cb, void *arg)
{
	struct aws_creds_req	*r;

	if (cr == NULL || cb == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->cr = cr;
	r->cb = cb;
	r->arg = arg;
	if (cr->freeing) {
		set_cancelled(r);
		ready_push(cr, r);
	} else if (aws_creds_peek(cr) != NULL)
		ready_push(cr, r);
	else {
		waiting_push(cr, r);
		schedule(cr, 0);
	}
	return r;
}

void
aws_creds_cancel(struct aws_creds_req *r)
{
	struct aws_creds	*cr;
	struct aws_creds_req	**pp;

	if (r == NULL || r->delivering)
		return;
	cr = r->cr;
	set_cancelled(r);
	if (!r->waiting)
		return;		/* queued (or in the batch being delivered) */
	for (pp = &cr->waiting; *pp != r; pp = &(*pp)->next)
		BB_ASSERT(*pp != NULL);
	*pp = r->next;
	ready_push(cr, r);
}

int
aws_creds_invalidate(struct aws_creds *cr, const char *access_key_id)
{
	if (cr == NULL || access_key_id == NULL || cr->cur == NULL || cr->invalid ||
	    strcmp(cr->cur->akid, access_key_id) != 0)
		return 0;
	cr->invalid = 1;
	cr->stats.invalidations++;
	log_info("aws: credentials from %s dropped: AWS answered that they expired",
	    cr->cur->source);
	return 1;
}

void
aws_creds_stats(const struct aws_creds *cr, struct aws_creds_stats *st)
{
	*st = cr->stats;
}
