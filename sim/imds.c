/*
 * The EC2 instance metadata service of the simulated bastion, IMDSv2 only (the
 * instance has HttpTokens=required): a token from PUT /latest/api/token, then the
 * instance profile's temporary credentials, which expire and rotate, so that the
 * daemon's and botocore's refresh can be exercised. It answers what botocore's
 * IMDSFetcher, InstanceMetadataFetcher and InstanceMetadataRegionFetcher ask for, and
 * the extended credentials path newer SDKs try first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "sim/auth.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define B64URL	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define CREDS	"/latest/meta-data/iam/security-credentials"
#define XCREDS	"/latest/meta-data/iam/security-credentials-extended"

static void
iso8601(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds: 1..21600. */
static void
put_token(struct sim *sim, const struct sim_req *req, struct sim_resp *resp,
    time_t now)
{
	struct sim_imds_token	*t;
	const char		*ttl = sim_req_header(req,
	    "X-aws-ec2-metadata-token-ttl-seconds");
	char			*end, secs[16];
	long			 n;

	/* IMDS refuses a token to anything that came through a proxy. */
	if (sim_req_header(req, "X-Forwarded-For") != NULL) {
		sim_resp_text(resp, 403, "text/plain", "");
		return;
	}
	if (ttl == NULL || (n = strtol(ttl, &end, 10)) < 1 ||
	    n > SIM_IMDS_MAX_TTL || *end != '\0' || end == ttl) {
		sim_count(sim, "imds", "bad_token_request", NULL);
		sim_resp_text(resp, 400, "text/plain", "");
		return;
	}
	t = &sim->imds.tok[sim->imds.next];
	sim->imds.next = (sim->imds.next + 1) % SIM_IMDS_MAX_TOKENS;
	memcpy(t->token, "AQAEA", 5);
	sim_rand_chars(&sim->imds.rng, B64URL, t->token + 5, SIM_IMDS_TOKEN_LEN - 5);
	t->expires = now + n;
	snprintf(secs, sizeof(secs), "%ld", n);
	sim_count(sim, "imds", "token", NULL);
	if (sim_resp_text(resp, 200, "text/plain", t->token) == 0)
		sim_resp_header(resp, "X-aws-ec2-metadata-token-ttl-seconds", secs);
}

static int
token_valid(const struct sim *sim, const char *token, time_t now)
{
	size_t	 i;

	if (token == NULL)
		return 0;
	for (i = 0; i < SIM_IMDS_MAX_TOKENS; i++)
		if (sim->imds.tok[i].token[0] != '\0' &&
		    strcmp(sim->imds.tok[i].token, token) == 0)
			return now < sim->imds.tok[i].expires;
	return 0;
}

/* IMDS's own layout: two spaces, " : " between a key and its value. */
static void
credentials(struct sim *sim, struct sim_resp *resp, time_t now, int extended)
{
	const struct sim_cred	*c = sim_creds_current(&sim->creds, now);
	struct sim_buf		 b;
	char			 updated[32], expires[32];

	iso8601(c->issued, updated, sizeof(updated));
	iso8601(c->expires, expires, sizeof(expires));
	memset(&b, 0, sizeof(b));
	sim_buf_printf(&b, "{\n  \"Code\" : \"Success\",\n"
	    "  \"LastUpdated\" : \"%s\",\n  \"Type\" : \"AWS-HMAC\",\n"
	    "  \"AccessKeyId\" : \"%s\",\n  \"SecretAccessKey\" : \"%s\",\n"
	    "  \"Token\" : \"%s\",\n  \"Expiration\" : \"%s\"", updated, c->akid,
	    c->secret, c->token, expires);
	if (extended)
		sim_buf_printf(&b, ",\n  \"AccountId\" : \"%s\"", SIM_ACCOUNT_ID);
	sim_buf_puts(&b, "\n}");
	sim_count(sim, "imds", "credentials", NULL);
	if (b.err || sim_resp_take(resp, 200, "text/plain", b.s, b.len) == -1)
		sim_buf_free(&b);
}

static void
text(struct sim_resp *resp, const char *s)
{
	sim_resp_text(resp, 200, "text/plain", s);
}

/* GET path, with a valid token: the few metadata a bastion's clients read. */
static void
get_metadata(struct sim *sim, const char *p, struct sim_resp *resp, time_t now)
{
	char	 buf[512], zone[SIGV4_SCOPE_MAX + 2];
	int	 ext = strncmp(p, XCREDS, sizeof(XCREDS) - 1) == 0;
	size_t	 plen = ext ? sizeof(XCREDS) - 1 : sizeof(CREDS) - 1;

	snprintf(zone, sizeof(zone), "%sa", sim->region);
	if (strcmp(p, "/latest/meta-data/") == 0 || strcmp(p, "/latest/meta-data") == 0)
		text(resp, "iam/\ninstance-id\nplacement/");
	else if (strcmp(p, "/latest/meta-data/instance-id") == 0)
		text(resp, sim->creds.instance_id);
	else if (strcmp(p, "/latest/meta-data/placement/availability-zone") == 0 ||
	    strcmp(p, "/latest/meta-data/placement/availability-zone/") == 0)
		text(resp, zone);
	else if (strcmp(p, "/latest/meta-data/placement/region") == 0)
		text(resp, sim->region);
	else if (strcmp(p, "/latest/meta-data/iam/info") == 0) {
		snprintf(buf, sizeof(buf), "{\n  \"Code\" : \"Success\",\n"
		    "  \"InstanceProfileArn\" : \"arn:aws:iam::%s:instance-profile/%s\"\n}",
		    SIM_ACCOUNT_ID, SIM_ROLE_NAME);
		text(resp, buf);
	} else if (strncmp(p, CREDS, sizeof(CREDS) - 1) == 0 &&
	    (strcmp(p + plen, "") == 0 || strcmp(p + plen, "/") == 0))
		text(resp, SIM_ROLE_NAME);
	else if (strncmp(p, CREDS, sizeof(CREDS) - 1) == 0 && p[plen] == '/' &&
	    strcmp(p + plen + 1, SIM_ROLE_NAME) == 0)
		credentials(sim, resp, now, ext);
	else if (strcmp(p, "/latest/dynamic/instance-identity/document") == 0) {
		snprintf(buf, sizeof(buf), "{\n  \"accountId\" : \"%s\",\n"
		    "  \"availabilityZone\" : \"%s\",\n  \"instanceId\" : \"%s\",\n"
		    "  \"region\" : \"%s\"\n}", SIM_ACCOUNT_ID, zone,
		    sim->creds.instance_id, sim->region);
		text(resp, buf);
	} else
		sim_resp_text(resp, 404, "text/plain", "");
}

void
sim_imds_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	time_t		 now = time(NULL);
	const char	*p = req->path;

	if (strcmp(p, "/latest/api/token") == 0) {
		if (strcmp(req->method, "PUT") == 0)
			put_token(sim, req, resp, now);
		else
			sim_resp_text(resp, 405, "text/plain", "");
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		sim_resp_text(resp, 405, "text/plain", "");
		return;
	}
	/* HttpTokens=required: no IMDSv1. */
	if (!token_valid(sim, sim_req_header(req, "X-aws-ec2-metadata-token"), now)) {
		sim_count(sim, "imds", "unauthorized", NULL);
		sim_resp_text(resp, 401, "text/plain", "");
		return;
	}
	get_metadata(sim, p, resp, now);
}
