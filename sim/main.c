/*
 * bbsim: AWS (CloudFormation, Auto Scaling, EC2, CloudWatch, ELB, STS, instance
 * metadata) and a Bitbucket Data Center cluster, simulated on 127.0.0.1 for tests,
 * the demo and rehearsals. This file only reads the options, starts the server and
 * waits for SIGTERM or SIGINT: the rest is in server.c and the modules it routes to.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
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
	OPT_VERSION
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
	{ NULL,				0,			NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: bbsim [-d] [-p port] [--seed N] [--scenario file] "
	    "[--realistic]\n"
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

/* One of the long options that set the simulator up. 0, or -1 after the message. */
static int
sim_option(int ch, const char *arg, struct sim_options *o)
{
	unsigned long long	 n;

	switch (ch) {
	case OPT_SEED:
		if (number(arg, 0, UINT64_MAX, &n) == -1) {
			fprintf(stderr, "bbsim: --seed: a number\n");
			return -1;
		}
		o->seed = n;
		break;
	case OPT_SCENARIO:
		o->scenario = arg;
		break;
	case OPT_REALISTIC:
		o->realistic = 1;
		break;
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
parse_options(int argc, char **argv, struct sim_options *o, unsigned short *port,
    int *debug)
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
			if (sim_option(ch, optarg, o) == -1)
				return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The scenario is the model's to play; until it lands, it is only checked. */
static int
check_scenario(const char *path)
{
	FILE	*f;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("scenario %s", path);
		return -1;
	}
	fclose(f);
	log_info("scenario %s noted: it is played once the simulation model lands",
	    path);
	return 0;
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

int
main(int argc, char **argv)
{
	struct sim_options	 opt;
	struct sim		 sim;
	sigset_t		 set;
	unsigned short		 port = 0;
	int			 debug = 0;

	memset(&opt, 0, sizeof(opt));
	if (parse_options(argc, argv, &opt, &port, &debug) == -1)
		return 2;
	log_init("bbsim", debug ? LOG_DEBUG : LOG_INFO);
	if (check_scenario(opt.scenario) == -1)
		return 1;
	if (sim_init(&sim, &opt) == -1) {
		log_warnx("invalid --region, --access-key-id or --secret-access-key");
		return 2;
	}
	/* Blocked before the server's threads exist, so that they inherit the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (sim_server_start(&sim, port) == -1) {
		sim_free(&sim);
		return 1;
	}
	printf("bbsim listening on http://127.0.0.1:%u\n", sim_server_port());
	fflush(stdout);
	log_info("listening on 127.0.0.1:%u, access key %s, region %s",
	    sim_server_port(), sim.creds.longterm.akid, sim.region);
	wait_for_signal();
	sim_server_stop();
	sim_error_reset();
	sim_free(&sim);
	return 0;
}
