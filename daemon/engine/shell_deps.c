/*
 * The clients of each [deployment], made when an upgrade or a plan first needs them
 * (never at start-up: a deployment whose secret is missing must not stop the daemon,
 * only the commands that would use it), and the shell's reference count and clocks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/client.h"
#include "daemon/bitbucket.h"
#include "daemon/engine/shell.h"

struct shell_dep *
engine_dep_find(struct shell *sh, const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sh->ndeps; i++)
		if (strcmp(sh->deps[i].cfg->name, name) == 0)
			return &sh->deps[i];
	return NULL;
}

static int
aws_client(struct shell *sh, struct shell_dep *dp, char *err, size_t len)
{
	const struct deployment *d = dp->cfg;
	struct aws_client_opts o;
	char why[256];

	memset(&o, 0, sizeof(o));
	o.region = d->region;
	o.profile = d->aws_profile;
	o.endpoint_url = d->endpoint_url;
	for (int i = 0; i < AWS_SERVICE_COUNT; i++)
		o.endpoint[i] = d->endpoint[i];
	if ((dp->aws = aws_client_new(sh->loop, &o, why, sizeof(why))) == NULL) {
		snprintf(err, len, "deployment %s: the AWS client could not be made: %s",
		    d->name, why);
		return -1;
	}
	return 0;
}

int
engine_dep_clients(struct shell *sh, struct shell_dep *dp, char *err, size_t len)
{
	char why[512];

	if (dp->aws == NULL && aws_client(sh, dp, err, len) == -1)
		return -1;
	if (dp->bb != NULL)
		return 0;
	if ((dp->bb = bitbucket_new(sh->loop, dp->cfg, why, sizeof(why))) == NULL) {
		snprintf(err, len, "deployment %s: the Bitbucket credentials cannot be "
		    "used: %s", dp->cfg->name, why);
		return -1;
	}
	return 0;
}

/* Cancels every call of the clients: their callbacks run later, cancelled. */
void
engine_dep_free_all(struct shell *sh)
{
	for (size_t i = 0; i < sh->ndeps; i++) {
		aws_client_free(sh->deps[i].aws);
		bitbucket_free(sh->deps[i].bb);
		sh->deps[i].aws = NULL;
		sh->deps[i].bb = NULL;
	}
}

void
engine_shell_ref(struct shell *sh)
{
	sh->refs++;
}

void
engine_shell_unref(struct shell *sh)
{
	BB_ASSERT(sh->refs > 0);
	if (--sh->refs > 0)
		return;
	BB_ASSERT(sh->stopping);
	free(sh->deps);
	free(sh);
}

int64_t
engine_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
engine_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
engine_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}
