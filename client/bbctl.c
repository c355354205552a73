/*
 * bbctl: the operator's client for bbupgraded. A table of commands (bgpctl's parser.c
 * is the model), each printing through a human or a --json renderer. Exit statuses are
 * part of the interface: scripts rely on them (see EXIT STATUS in bbctl(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/conn.h"
#include "common/errors.h"

#define DEFAULT_SOCKET	"/run/bbupgraded/control.sock"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NODAEMON = 3,
};

struct ctx {
	const char	*socket;
	bool		 json;
	int		 timeout_ms;
	struct conn	*conn;
};

struct command {
	const char	*name;
	const char	*args;
	const char	*summary;
	const char	*help;
	int		(*run)(struct ctx *, int argc, char **argv);
};

static const struct command *find_command(const char *);
static void usage(FILE *);

/* Prints what a daemon error means to an operator. */
static void
print_error(json_t *reply)
{
	const char *name = json_string_value(json_object_get(reply, "error"));
	const struct vl_error_info *info = vl_error_lookup(name);
	json_t *params = json_object_get(reply, "parameters");
	char *dump;

	if (info != NULL) {
		const char *v = info->param ?
		    json_string_value(json_object_get(params, info->param)) : NULL;
		const char *at = strstr(info->message, "%s");
		if (at == NULL)
			fprintf(stderr, "bbctl: %s\n", info->message);
		else
			fprintf(stderr, "bbctl: %.*s%s%s\n", (int)(at - info->message),
			    info->message, v ? v : "?", at + 2);
		return;
	}
	dump = json_dumps(params, JSON_COMPACT);
	fprintf(stderr, "bbctl: the daemon answered %s %s\n", name, dump ? dump : "");
	free(dump);
}

/* One call; EXIT_OK with *out holding the reply's parameters, or an exit status. */
static int
call(struct ctx *ctx, const char *method, json_t *params, json_t **out)
{
	char err[512];
	int cerr;
	json_t *reply;

	*out = NULL;
	if (ctx->conn == NULL &&
	    (ctx->conn = conn_open(ctx->socket, ctx->timeout_ms, &cerr,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "bbctl: %s\n", err);
		if (cerr == 0)
			return EXIT_FAILED;
		if (cerr == EACCES || cerr == EPERM)
			fprintf(stderr, "bbctl: only root and the group bbupgraded may use "
			    "the daemon: 'usermod -aG bbupgraded USER', then log in again\n");
		else
			fprintf(stderr, "bbctl: is bbupgraded running? Start it with "
			    "'systemctl start bbupgraded', or give its socket with --socket\n");
		return EXIT_NODAEMON;
	}
	if ((reply = conn_call(ctx->conn, method, params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bbctl: %s\n", err);
		return EXIT_FAILED;
	}
	if (json_object_get(reply, "error") != NULL) {
		if (ctx->json)
			json_dumpf(reply, stdout, JSON_COMPACT), putchar('\n');
		else
			print_error(reply);
		json_decref(reply);
		return EXIT_FAILED;
	}
	*out = json_incref(json_object_get(reply, "parameters"));
	json_decref(reply);
	return EXIT_OK;
}

static void
print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
}

static const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

static void
print_duration(long long s)
{
	if (s >= 86400)
		printf("%lldd ", s / 86400);
	if (s >= 3600)
		printf("%lldh ", s / 3600 % 24);
	if (s >= 60)
		printf("%lldm ", s / 60 % 60);
	printf("%llds", s % 60);
}

static void
print_upgrade(json_t *u)
{
	if (!json_is_object(u)) {
		printf("upgrade: none yet\n");
		return;
	}
	printf("upgrade #%lld: %s %s -> %s, %s (phase %s), started %s",
	    (long long)json_integer_value(json_object_get(u, "id")),
	    str(u, "deployment"), str(u, "from_version"), str(u, "to_version"),
	    str(u, "state"), str(u, "phase"), str(u, "started"));
	if (json_is_string(json_object_get(u, "finished")))
		printf(", finished %s", str(u, "finished"));
	printf("\n");
}

static int
cmd_status(struct ctx *ctx, int argc, char **argv)
{
	json_t *st, *deps, *dep;
	size_t i;
	int rc;

	if ((rc = call(ctx, "io.bbupgraded.Status", NULL, &st)) != EXIT_OK)
		return rc;
	if (ctx->json) {
		print_json(st);
		json_decref(st);
		return EXIT_OK;
	}
	printf("bbupgraded %s (pid %lld), up ", str(st, "version"),
	    (long long)json_integer_value(json_object_get(st, "pid")));
	print_duration(json_integer_value(json_object_get(st, "uptime_seconds")));
	deps = json_object_get(st, "deployments");
	printf("\ndeployments: %s\n", json_array_size(deps) ? "" : "none configured");
	json_array_foreach(deps, i, dep)
		printf("  %-16s %-14s stack %-24s %s  surge %lld\n", str(dep, "name"),
		    str(dep, "region"), str(dep, "stack"), str(dep, "bitbucket_url"),
		    (long long)json_integer_value(json_object_get(dep, "surge")));
	print_upgrade(json_object_get(st, "upgrade"));
	json_decref(st);
	return EXIT_OK;
}

static int
cmd_version(struct ctx *ctx, int argc, char **argv)
{
	json_t *info;
	int rc = call(ctx, "org.varlink.service.GetInfo", NULL, &info);
	const char *dv = rc == EXIT_OK ? str(info, "version") : NULL;

	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s?}", "client", BB_VERSION, "daemon", dv);
		print_json(j);
		json_decref(j);
	} else {
		printf("bbctl %s\n", BB_VERSION);
		if (dv != NULL)
			printf("bbupgraded %s\n", dv);
	}
	json_decref(info);
	return rc;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmd_ping(struct ctx *ctx, int argc, char **argv)
{
	double t0 = now_ms(), ms;
	json_t *info;
	int rc;

	if ((rc = call(ctx, "org.varlink.service.GetInfo", NULL, &info)) != EXIT_OK)
		return rc;
	ms = now_ms() - t0;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:f}", "daemon", str(info, "version"),
		    "round_trip_ms", ms);
		print_json(j);
		json_decref(j);
	} else {
		printf("bbupgraded %s on %s answered in %.2f ms\n", str(info, "version"),
		    ctx->socket, ms);
	}
	json_decref(info);
	return EXIT_OK;
}

static int
cmd_help(struct ctx *ctx, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if ((c = find_command(argv[1])) == NULL) {
		fprintf(stderr, "bbctl: unknown command '%s'; see 'bbctl help'\n", argv[1]);
		return EXIT_USAGE;
	}
	printf("usage: bbctl [options] %s%s%s\n\n%s\n", c->name, c->args ? " " : "",
	    c->args ? c->args : "", c->help);
	return EXIT_OK;
}

static int cmd_completion(struct ctx *, int, char **);

static const struct command commands[] = {
	{ "status", NULL, "show the daemon, its deployments and the current upgrade",
	  "Shows the daemon's version and uptime, the deployments it is configured\n"
	  "for, and the current (or last) upgrade.", cmd_status },
	{ "version", NULL, "show the versions of bbctl and the daemon",
	  "Prints bbctl's version, then the daemon's (exit status 3 if the daemon\n"
	  "cannot be reached).", cmd_version },
	{ "ping", NULL, "check that the daemon answers, and how fast",
	  "Makes one round trip to the daemon and prints the time it took.", cmd_ping },
	{ "help", "[command]", "show help for bbctl or one command",
	  "Shows the list of commands, or the help of one command.", cmd_help },
	{ "completion", "bash", "print the bash completion script",
	  "Prints a bash completion script for bbctl, made from its command table:\n"
	  "  bbctl completion bash > /usr/share/bash-completion/completions/bbctl",
	  cmd_completion },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static int
cmd_completion(struct ctx *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "bash") != 0) {
		fprintf(stderr, "usage: bbctl completion bash\n");
		return EXIT_USAGE;
	}
	printf("# bash completion for bbctl, generated by 'bbctl completion bash'\n"
	    "_bbctl() {\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i\n"
	    "\tcase $prev in --socket) COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n"
	    "\t--timeout) return;; esac\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tcase ${COMP_WORDS[i]} in --socket|--timeout) ((i++));; -*) ;;\n"
	    "\t\t*) COMPREPLY=($(compgen -W '--help' -- \"$cur\")); return;; esac\n"
	    "\tdone\n"
	    "\tCOMPREPLY=($(compgen -W '--json --socket --timeout --help");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf(" %s", commands[i].name);
	printf("' -- \"$cur\"))\n}\ncomplete -F _bbctl bbctl\n");
	return EXIT_OK;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bbctl [--json] [--socket path] [--timeout seconds] "
	    "command [args]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\noptions:\n"
	    "  --json             machine-readable output: one JSON object per line\n"
	    "  --socket path      the daemon's socket (default $BBCTL_SOCKET or %s)\n"
	    "  --timeout seconds  how long to wait for the daemon (default 10)\n"
	    "  -h, --help         this help; 'bbctl COMMAND --help' for one command\n"
	    "\nexit status:\n"
	    "  0  success\n"
	    "  1  the command failed or the daemon answered with an error\n"
	    "  2  usage error\n"
	    "  3  the daemon is not running or cannot be reached\n"
	    "\nSee bbctl(1).\n", DEFAULT_SOCKET);
}

static int
parse_timeout(const char *s, int *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0 && v <= 86400))
		return -1;
	*ms = (int)(v * 1000);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctx ctx = { .socket = getenv("BBCTL_SOCKET"), .timeout_ms = 10000 };
	const struct command *cmd;
	int ch, rc;

	if (ctx.socket == NULL || *ctx.socket == '\0')
		ctx.socket = DEFAULT_SOCKET;
	/* '+': options after the command belong to the command. */
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': ctx.json = true; break;
		case 's': ctx.socket = optarg; break;
		case 't':
			if (parse_timeout(optarg, &ctx.timeout_ms) == -1) {
				fprintf(stderr, "bbctl: --timeout %s: expected seconds "
				    "between 0 and 86400\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((cmd = find_command(argv[0])) == NULL) {
		fprintf(stderr, "bbctl: unknown command '%s'; see 'bbctl help'\n", argv[0]);
		return EXIT_USAGE;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		char *help[] = { "help", argv[0] };
		return cmd_help(&ctx, 2, help);
	}
	if (cmd->args == NULL && argc > 1) {
		fprintf(stderr, "bbctl: %s takes no arguments\n", cmd->name);
		return EXIT_USAGE;
	}
	rc = cmd->run(&ctx, argc, argv);
	conn_close(ctx.conn);
	return rc;
}
