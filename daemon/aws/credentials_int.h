/*
 * What the credential chain's files share, and nothing outside them includes:
 * credentials.c (secrets, the cache, the requests, running the chain),
 * credentials_files.c (the environment and the shared INI files),
 * credentials_json.c (the metadata JSON) and credentials_remote.c (the container
 * endpoint and instance metadata, with the container URL rule). The rules of
 * credentials.c's opening comment hold in all of them: no secret in a log or an
 * error, every secret zeroed when freed.
 */
#ifndef BB_AWS_CREDENTIALS_INT_H
#define BB_AWS_CREDENTIALS_INT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct http_call;

/* ---- Secrets, and two small helpers every part uses ---- */

static inline void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static inline char *
secret_dup(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		fatal("malloc");
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static inline int
say(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -1;
}

static inline const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* ---- The cache, the requests and one resolution's state ---- */

enum step {
	STEP_NONE,		/* not waiting for a server */
	STEP_CONTAINER,
	STEP_IMDS_TOKEN,
	STEP_IMDS_ROLE,
	STEP_IMDS_CREDS
};

struct cached {
	struct aws_credentials	 pub;
	char			*akid, *secret, *token;
	char			 source[AWS_CREDS_SOURCE_MAX];
};

struct aws_creds_req {
	struct aws_creds	*cr;
	aws_creds_cb		 cb;
	void			*arg;
	int			 waiting;	/* in cr->waiting, else to deliver */
	int			 delivering;
	int			 failed;
	struct aws_creds_error	 err;
	struct aws_creds_req	*next;
};

struct aws_creds {
	uv_loop_t		*loop;
	struct aws_creds_opts	 o;
	char			*profile;	/* the explicit one, or NULL */
	uv_timer_t		 kick;		/* starts resolutions, delivers answers */
	uv_timer_t		 pause;		/* between container attempts */
	int			 handles;	/* open, until their close callbacks */
	int			 freeing;
	struct cached		*cur;
	int			 invalid;	/* AWS said cur expired */
	int			 had_remote;	/* a container or IMDS set came before */
	uint64_t		 bg_after;	/* uv_now(): no background refresh before */
	int			 want, want_bg;	/* a resolution to start on the next kick */
	int			 resolving, background;
	enum step		 step;
	int			 attempt, token_retried;
	struct http_call	*http;
	char			*url;		/* the container URL or the IMDS base */
	char			*role;
	char			*token;		/* the IMDS session token: a secret */
	uint64_t		 token_at;	/* uv_now() when it came */
	char			 trail[AWS_CREDS_ERROR_MAX / 2];	/* what was tried */
	struct aws_creds_req	*waiting, *ready, **ready_tail;
	struct aws_creds_stats	 stats;
};

/* ---- credentials.c ---- */

/* On the loop's next turn: starts a wanted resolution, delivers ready answers. */
void	aws_creds_kick(struct aws_creds *);
/* Notes what one source said, for the error when no source has keys. */
void	aws_creds_trail_add(struct aws_creds *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ends the resolution; remote: a container or metadata service did not answer. */
void	aws_creds_finish_err(struct aws_creds *, int remote, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Ends it with k's secrets (k is left empty) as the new set, if they pass. */
void	aws_creds_finish_ok(struct aws_creds *, struct aws_creds_ini_keys *k,
	    int64_t exp, const char *source);

/* ---- credentials_files.c ---- */

/* 1 with the whole file in *buf (zero and free it), 0 if none, -1 with err. */
int	aws_creds_file_read(const char *path, char **buf, size_t *len, char *err,
	    size_t errlen);
/* Each: 1 with *k filled, 0 to go on down the chain, -1 with err. */
int	aws_creds_env_provider(struct aws_creds *, struct aws_creds_ini_keys *k,
	    char *err, size_t errlen);
int	aws_creds_files_provider(struct aws_creds *, struct aws_creds_ini_keys *k,
	    char *source, size_t srclen, char *err, size_t errlen);

/* ---- credentials_remote.c ---- */

/* The container endpoint or instance metadata; ends in aws_creds_finish_*(). */
void	aws_creds_remote_begin(struct aws_creds *);

#endif
