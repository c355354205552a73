/*
 * bbsim: AWS (CloudFormation, Auto Scaling, EC2, CloudWatch, ELB, STS, instance
 * metadata) and a Bitbucket Data Center cluster, simulated on 127.0.0.1 for tests,
 * the demo and rehearsals. This file only reads the options, builds the model from
 * the scenario, starts the server and waits for SIGTERM or SIGINT: the rest is in
 * server.c and the modules it routes to.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <syslog.h>

#include "common/log.h"
#include "sim/api.h"
#include "sim/model.h"
#include "sim/scenario.h"
#include "sim/server.h"
#include "sim/sim.h"

#ifndef BB_VERSION
#define BB_VERSION	"0"
#endif

enum {
	OPT_SEED = 256,
	OPT_SCENARIO,
	OPT_REALISTIC,
	OPT_AKID,
	OPT_SECRET,
	OPT_REGION,
	OPT_LIFETIME,
	OPT_LENIENT,
	OPT_VERSION,
	OPT_SPEED,
	OPT_NODES,
	OPT_BB_VERSION,
	OPT_CONTEXT,
	OPT_BB_USER,
	OPT_BB_PASSWORD,
	OPT_BB_TOKEN,
	OPT_BB_SCOPED
};

/* What the command line changes in the scenario's parameters. */
struct overrides {
	int		 seed;		/* --seed given */
	int		 nodes;		/* 0: the scenario's */
	const char	*version;	/* NULL: the scenario's */
};

static const struct option longopts[] = {
	{ "port",			required_argument,	NULL, 'p' },
	{ "debug",			no_argument,		NULL, 'd' },
	{ "help",			no_argument,		NULL, 'h' },
	{ "seed",			required_argument,	NULL, OPT_SEED },
	{ "scenario",			required_argument,	NULL, OPT_SCENARIO },
	{ "realistic",			no_argument,		NULL, OPT_REALISTIC },
	{ "access-key-id",		required_argument,	NULL, OPT_AKID },
	{ "secret-access-key",		required_argument,	NULL, OPT_SECRET },
	{ "region",			required_argument,	NULL, OPT_REGION },
	{ "credential-lifetime",	required_argument,	NULL, OPT_LIFETIME },
	{ "lenient-wire",		no_argument,		NULL, OPT_LENIENT },
	{ "version",			no_argument,		NULL, OPT_VERSION },
	{ "speed",			required_argument,	NULL, OPT_SPEED },
	{ "nodes",			required_argument,	NULL, OPT_NODES },
	{ "bitbucket-version",		required_argument,	NULL, OPT_BB_VERSION },
	{ "context",			required_argument,	NULL, OPT_CONTEXT },
	{ "bitbucket-user",		required_argument,	NULL, OPT_BB_USER },
	{ "bitbucket-password",		required_argument,	NULL, OPT_BB_PASSWORD },
	{ "bitbucket-token",		required_argument,	NULL, OPT_BB_TOKEN },
	{ "bitbucket-scoped-token",	required_argument,	NULL, OPT_BB_SCOPED },
	{ NULL,				0,			NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: bbsim [-d] [-p port] [--seed N] [--scenario file | "
	    "--realistic]\n"
	    "             [--speed factor] [--nodes N] [--bitbucket-version V] "
	    "[--context path]\n"
	    "             [--bitbucket-user name] [--bitbucket-password secret]\n"
	    "             [--bitbucket-token token] [--bitbucket-scoped-token token]\n"
	    "             [--access-key-id id] [--secret-access-key key] "
	    "[--region name]\n"
	    "             [--credential-lifetime seconds] [--lenient-wire]\n");
}

/* A whole decimal number in [min, max], or -1. */
static int
number(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char	*end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max)
		return -1;
	return 0;
}

/* --speed: a factor in (0, SIM_SPEED_MAX]. */
static int
speed(const char *s, double *out)
{
	char	*end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' ||
	    !(*out > 0 && *out <= SIM_SPEED_MAX)) {
		fprintf(stderr, "bbsim: --speed: a factor above 0, at most %g\n",
		    SIM_SPEED_MAX);
		return -1;
	}
	return 0;
}

/*
 * The options that shape the simulated world and its Bitbucket: 0, or -1 after the
 * message; 1 if ch is not one of them.
 */
static int
world_option(int ch, const char *arg, struct sim_options *o, struct overrides *ov)
{
	unsigned long long	 n;

	switch (ch) {
	case OPT_SEED:
		if (number(arg, 0, UINT64_MAX, &n) == -1) {
			fprintf(stderr, "bbsim: --seed: a number\n");
			return -1;
		}
		o->seed = n;
		ov->seed = 1;
		return 0;
	case OPT_NODES:
		if (number(arg, 1, 64, &n) == -1) {
			fprintf(stderr, "bbsim: --nodes: 1..64\n");
			return -1;
		}
		ov->nodes = (int)n;
		return 0;
	case OPT_SPEED:
		return speed(arg, &o->speed);
	case OPT_SCENARIO:
		o->scenario = arg;
		return 0;
	case OPT_REALISTIC:
		o->realistic = 1;
		return 0;
	case OPT_BB_VERSION:
		ov->version = arg;
		return 0;
	default:
		return 1;
	}
}

/* Bitbucket's address and accounts: 0; 1 if ch is not one of them. */
static int
bitbucket_option(int ch, const char *arg, struct sim_options *o)
{
	switch (ch) {
	case OPT_CONTEXT:
		o->context = arg;
		return 0;
	case OPT_BB_USER:
		o->bb_user = arg;
		return 0;
	case OPT_BB_PASSWORD:
		o->bb_password = arg;
		return 0;
	case OPT_BB_TOKEN:
		o->bb_token = arg;
		return 0;
	case OPT_BB_SCOPED:
		o->bb_scoped_token = arg;
		return 0;
	default:
		return 1;
	}
}

/* The AWS side's options. 0, or -1 after the message. */
static int
aws_option(int ch, const char *arg, struct sim_options *o)
{
	unsigned long long	 n;

	switch (ch) {
	case OPT_AKID:
		o->akid = arg;
		break;
	case OPT_SECRET:
		o->secret = arg;
		break;
	case OPT_REGION:
		o->region = arg;
		break;
	case OPT_LIFETIME:
		if (number(arg, 1, 36 * 3600, &n) == -1) {
			fprintf(stderr, "bbsim: --credential-lifetime: 1..129600 "
			    "seconds\n");
			return -1;
		}
		o->lifetime = (int)n;
		break;
	case OPT_LENIENT:
		o->lenient_wire = 1;
		break;
	default:
		usage(stderr);
		return -1;
	}
	return 0;
}

static int
long_option(int ch, const char *arg, struct sim_options *o, struct overrides *ov)
{
	int	 rc;

	if ((rc = world_option(ch, arg, o, ov)) != 1)
		return rc;
	if ((rc = bitbucket_option(ch, arg, o)) != 1)
		return rc;
	return aws_option(ch, arg, o);
}

static int
parse_options(int argc, char **argv, struct sim_options *o, struct overrides *ov,
    unsigned short *port, int *debug)
{
	unsigned long long	 n;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "dhp:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (number(optarg, 0, 65535, &n) == -1) {
				fprintf(stderr, "bbsim: -p: a port, 0..65535\n");
				return -1;
			}
			*port = (unsigned short)n;
			break;
		case 'd':
			*debug = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("bbsim %s\n", BB_VERSION);
			exit(0);
		default:
			if (long_option(ch, optarg, o, ov) == -1)
				return -1;
		}
	}
	if (optind != argc || (o->scenario != NULL && o->realistic)) {
		if (optind == argc)
			fprintf(stderr, "bbsim: --realistic: the scenario names its "
			    "profile\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The scenario (or a profile), then the command line's overrides. 0, or -1. */
static int
load_params(struct sim_options *o, const struct overrides *ov, struct sim_params *p)
{
	char	 err[512];

	if (o->scenario != NULL) {
		if (sim_scenario_load(o->scenario, p, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			return -1;
		}
	} else if (o->realistic)
		sim_params_realistic(p);
	else
		sim_params_defaults(p);
	if (ov->seed)
		p->seed = o->seed;
	o->seed = p->seed;	/* one seed for the world and the server's ids */
	if (ov->nodes > 0)
		p->nodes = ov->nodes;
	if (ov->version != NULL &&
	    snprintf(p->version, sizeof(p->version), "%s", ov->version) >=
	    (int)sizeof(p->version)) {
		log_warnx("--bitbucket-version: too long");
		return -1;
	}
	if (p->surge > p->nodes)
		p->surge = p->nodes;
	/*
	 * A running simulator lives in the present, so that its AWS timestamps compare with
	 * its clients' clocks (stack events since an intent, metric windows); only a
	 * scenario's own epoch (other than the pinned one of the tests) is kept.
	 */
	if (p->epoch == SIM_EPOCH_PINNED)
		p->epoch = (int64_t)time(NULL);
	if (sim_params_check(p, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", o->scenario != NULL ? o->scenario : "parameters",
		    err);
		return -1;
	}
	return 0;
}

/* Milliseconds as people read them: 500ms, 8s, 2.5s, 3min. */
static const char *
dur(int64_t ms, char *buf, size_t len)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(buf, len, "%lldmin", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	return buf;
}

/* What this run simulates, on stderr, so that a log says what it was a log of. */
static void
summary(const struct sim *sim, const struct sim_params *p)
{
	struct sim_cpath	 c;
	char			 d[8][24];

	log_info("scenario %s: %d nodes on Bitbucket %s, stack %s (%s), surge %d, "
	    "seed %llu, speed %gx", sim->opt.scenario != NULL ? sim->opt.scenario :
	    sim->opt.realistic ? "realistic" : "fast", p->nodes, p->version,
	    p->stack_name, p->nested ? "nested" : "flat", p->surge,
	    (unsigned long long)p->seed, sim->clock.speed);
	log_info("timings: instance pending %s, node boot %s, shutdown %s, health "
	    "checks every %s (%d up, %d down), draining %s, stack update %s, "
	    "change set %s, finalize %s",
	    dur(p->ec2_pending, d[0], 24), dur(p->node_boot, d[1], 24),
	    dur(p->ec2_shutdown, d[2], 24), dur(p->health_interval, d[3], 24),
	    p->healthy_threshold, p->unhealthy_threshold,
	    dur(p->drain_timeout, d[4], 24), dur(p->stack_update, d[5], 24),
	    dur(p->changeset_create, d[6], 24), dur(p->finalize, d[7], 24));
	log_info("traffic %g requests/s from %d users; throttling %s; critical path "
	    "of an upgrade %s (virtual)", p->rate, p->users, p->throttle ? "on" : "off",
	    dur(sim_critical_path(p, p->nodes, p->surge, &c), d[0], 24));
}

static int
wait_for_signal(void)
{
	sigset_t	 set;
	int		 sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) != 0)
		return -1;
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	return 0;
}

/* The context and its world, before any thread exists. 0, or the exit status. */
static int
setup(struct sim *sim, struct sim_options *opt, const struct overrides *ov)
{
	struct sim_params	 p;
	char			 why[256];

	if (load_params(opt, ov, &p) == -1)
		return 2;
	if (sim_init(sim, opt) == -1) {
		log_warnx("invalid --region, --access-key-id, --secret-access-key, "
		    "--context or Bitbucket account");
		return 2;
	}
	if ((sim->model = sim_model_new(&p, why, sizeof(why))) == NULL) {
		log_warnx("the model: %s", why);
		sim_free(sim);
		return 2;
	}
	sim_api_aws_register(sim);
	summary(sim, &p);
	return 0;
}

static void
teardown(struct sim *sim)
{
	sim_server_stop();
	sim_error_reset();
	sim_model_free(sim->model);
	sim->model = NULL;
	sim_free(sim);
}

int
main(int argc, char **argv)
{
	struct sim_options	 opt;
	struct overrides	 ov;
	struct sim		 sim;
	sigset_t		 set;
	unsigned short		 port = 0;
	int			 debug = 0, rc;

	memset(&opt, 0, sizeof(opt));
	memset(&ov, 0, sizeof(ov));
	if (parse_options(argc, argv, &opt, &ov, &port, &debug) == -1)
		return 2;
	log_init("bbsim", debug ? LOG_DEBUG : LOG_INFO);
	if ((rc = setup(&sim, &opt, &ov)) != 0)
		return rc;
	/* Blocked before the server's threads exist, so that they inherit the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (sim_server_start(&sim, port) == -1) {
		teardown(&sim);
		return 1;
	}
	printf("bbsim listening on http://127.0.0.1:%u\n", sim_server_port());
	fflush(stdout);
	log_info("listening on 127.0.0.1:%u, access key %s, region %s; Bitbucket at "
	    "http://127.0.0.1:%u%s as %s", sim_server_port(), sim.creds.longterm.akid,
	    sim.region, sim_server_port(), sim.context, sim.opt.bb_user);
	wait_for_signal();
	teardown(&sim);
	return 0;
}
