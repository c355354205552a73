/*
 * bbctl: the operator's client for bbupgraded. A table of commands (bgpctl's parser.c
 * is the model) gives each command its arguments and options; one parser reads them,
 * the help and the bash completion are made from the same table, and every command
 * prints through a human or a --json renderer (render.h). Exit statuses are part of
 * the interface: scripts rely on them (see EXIT STATUS in bbctl(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/bbctl.h"
#include "client/conn.h"
#include "client/render.h"
#include "common/errors.h"

/* The options commands may take; each command's entry says which. */
enum {
	O_TO = 0x01,
	O_YES = 0x02,
	O_WATCH = 0x04,
	O_SINCE = 0x08,
	O_LIMIT = 0x10,
	O_REQUIRED = O_TO,	/* the commands that take these need them */
};

static const struct cmd_option {
	unsigned	 bit;
	const char	*name;
	const char	*arg;		/* NULL: a flag */
	const char	*help;
} cmd_options[] = {
	{ O_TO, "to", "VERSION", "the target version (MAJOR.MINOR.PATCH)" },
	{ O_YES, "yes", NULL, "do not ask for confirmation" },
	{ O_WATCH, "watch", NULL, "then follow the upgrade as 'bbctl watch' does" },
	{ O_SINCE, "since", "N", "only the events after event number N" },
	{ O_LIMIT, "limit", "N", "at most N entries" },
};

#define NOPTIONS	(sizeof(cmd_options) / sizeof(cmd_options[0]))

struct command {
	const char	*name;
	const char	*args;		/* positional arguments, for usage; NULL: none */
	int		 minpos, maxpos;
	unsigned	 options;	/* O_* */
	const char	*summary;
	const char	*help;
	int		(*run)(struct ctx *, const struct args *);
};

static int cmd_help(struct ctx *, const struct args *);
static int cmd_completion(struct ctx *, const struct args *);

/* "status version ping" stay first and in this order: the completion test reads them. */
static const struct command commands[] = {
	{ "status", NULL, 0, 0, 0,
	  "show the daemon, its deployments and the current upgrade",
	  "Shows the daemon's version and uptime, the deployments it is configured\n"
	  "for, and the current (or last) upgrade: its state and phase, progress,\n"
	  "and the table of its nodes.", cmd_status },
	{ "version", NULL, 0, 0, 0, "show the versions of bbctl and the daemon",
	  "Prints bbctl's version, then the daemon's (exit status 3 if the daemon\n"
	  "cannot be reached).", cmd_version },
	{ "ping", NULL, 0, 0, 0, "check that the daemon answers, and how fast",
	  "Makes one round trip to the daemon and prints the time it took.", cmd_ping },
	{ "plan", "DEPLOYMENT", 1, 1, O_TO,
	  "show what an upgrade would do, changing nothing",
	  "Runs the preflight checks of an upgrade of DEPLOYMENT to --to VERSION and\n"
	  "shows the plan: the nodes, the order of their replacement, the estimate.\n"
	  "If the cluster is not ready, lists every problem with what to do (exit 1).",
	  cmd_plan },
	{ "start", "DEPLOYMENT", 1, 1, O_TO | O_YES | O_WATCH,
	  "start the rolling upgrade of a deployment",
	  "Starts the rolling upgrade of DEPLOYMENT to --to VERSION. On a terminal,\n"
	  "shows the plan and asks for confirmation first, unless --yes is given;\n"
	  "without a terminal (scripts, CI), --yes is required. With --watch, follows\n"
	  "the upgrade to its end and exits as 'bbctl watch' does.", cmd_start },
	{ "watch", "[ID]", 0, 1, O_SINCE,
	  "follow an upgrade until it ends or halts",
	  "Follows upgrade ID (default: the current or last one). On a terminal, a live\n"
	  "view: phase, progress with elapsed time and ETA, the nodes, the last events.\n"
	  "Otherwise one line per event; with --json, one JSON object per reply.\n"
	  "Exit status 0 when the upgrade completed, 1 when it halted, failed, was\n"
	  "cancelled or rolled back (the last line says which). Ctrl-C stops watching,\n"
	  "not the upgrade.", cmd_watch },
	{ "pause", NULL, 0, 0, 0, "pause the upgrade at its next safe point",
	  "Asks the upgrade to stop at its next safe point (never between draining a\n"
	  "node and its replacement serving, never during a stack update). Pausing a\n"
	  "paused upgrade is not an error.", cmd_pause },
	{ "resume", NULL, 0, 0, 0, "resume a paused or halted upgrade",
	  "Goes on with a paused upgrade, or runs a halted one again once its cause is\n"
	  "fixed. Resuming a running upgrade is not an error.", cmd_resume },
	{ "cancel", NULL, 0, 0, 0, "undo an upgrade that has only added its surge nodes",
	  "Removes the surge nodes and leaves the cluster on its version. Once an\n"
	  "original node has been replaced, use 'bbctl rollback' instead.", cmd_cancel },
	{ "rollback", NULL, 0, 0, 0, "take the cluster back to its original version",
	  "Rolls the upgrade back, node by node, to the version the cluster ran before.\n"
	  "Not possible once the upgrade was approved (finalize).", cmd_rollback },
	{ "history", NULL, 0, 0, O_LIMIT, "list the upgrades, newest first",
	  "Lists the upgrades the daemon has run, newest first (default 20).",
	  cmd_history },
	{ "events", "[ID]", 0, 1, O_SINCE | O_LIMIT, "show the timeline of an upgrade",
	  "Shows the events of upgrade ID (default: the current or last one), oldest\n"
	  "first: all of them, or at most --limit, after event --since.", cmd_events },
	{ "help", "[command]", 0, 1, 0, "show help for bbctl or one command",
	  "Shows the list of commands, or the help of one command.", cmd_help },
	{ "completion", "bash", 1, 1, 0, "print the bash completion script",
	  "Prints a bash completion script for bbctl, made from its command table:\n"
	  "  bbctl completion bash > /usr/share/bash-completion/completions/bbctl",
	  cmd_completion },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* --- talking to the daemon --------------------------------------------------------- */

int
bb_connect(struct ctx *ctx)
{
	char err[512];
	int cerr;

	if (ctx->conn != NULL)
		return EXIT_OK;
	if ((ctx->conn = conn_open(ctx->socket, ctx->timeout_ms, &cerr, err,
	    sizeof(err))) != NULL)
		return EXIT_OK;
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

int
bb_error(struct ctx *ctx, json_t *reply)
{
	ctx->out->error(reply, NULL);
	return EXIT_FAILED;
}

int
bb_call(struct ctx *ctx, const char *method, json_t *params, json_t **out)
{
	char err[512];
	json_t *reply;
	int rc;

	*out = NULL;
	if ((rc = bb_connect(ctx)) != EXIT_OK) {
		json_decref(params);
		return rc;
	}
	if ((reply = conn_call(ctx->conn, method, params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bbctl: %s\n", err);
		return EXIT_FAILED;
	}
	if (json_object_get(reply, "error") != NULL) {
		rc = bb_error(ctx, reply);
		*out = reply;	/* the caller may add a hint; it frees the reply */
		return rc;
	}
	*out = json_incref(json_object_get(reply, "parameters"));
	json_decref(reply);
	return EXIT_OK;
}

/* --- help and completion ------------------------------------------------------------ */

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
	    "  0  success; watch: the upgrade completed\n"
	    "  1  the command failed or the daemon answered with an error; watch: the\n"
	    "     upgrade halted, failed, was cancelled or rolled back\n"
	    "  2  usage error (start without a terminal needs --yes)\n"
	    "  3  the daemon is not running or cannot be reached\n"
	    "\nSee bbctl(1).\n", DEFAULT_SOCKET);
}

static void
command_usage(FILE *f, const struct command *c)
{
	fprintf(f, "usage: bbctl [options] %s", c->name);
	if (c->args != NULL)
		fprintf(f, " %s", c->args);
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct cmd_option *o = &cmd_options[i];

		if (!(c->options & o->bit))
			continue;
		if (o->bit & O_REQUIRED)
			fprintf(f, " --%s %s", o->name, o->arg);
		else if (o->arg != NULL)
			fprintf(f, " [--%s %s]", o->name, o->arg);
		else
			fprintf(f, " [--%s]", o->name);
	}
	fprintf(f, "\n");
}

static int
cmd_help(struct ctx *ctx, const struct args *a)
{
	const struct command *c;

	if (a->npos < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if ((c = find_command(a->pos[1])) == NULL) {
		fprintf(stderr, "bbctl: unknown command '%s'; see 'bbctl help'\n", a->pos[1]);
		return EXIT_USAGE;
	}
	command_usage(stdout, c);
	printf("\n%s\n", c->help);
	if (c->options != 0) {
		printf("\noptions:\n");
		for (size_t i = 0; i < NOPTIONS; i++)
			if (c->options & cmd_options[i].bit)
				printf("  --%s%s%-*s %s\n", cmd_options[i].name,
				    cmd_options[i].arg ? " " : "",
				    (int)(16 - strlen(cmd_options[i].name)),
				    cmd_options[i].arg ? cmd_options[i].arg : "",
				    cmd_options[i].help);
	}
	return EXIT_OK;
}

static int
cmd_completion(struct ctx *ctx, const struct args *a)
{
	if (strcmp(a->pos[1], "bash") != 0) {
		fprintf(stderr, "usage: bbctl completion bash\n");
		return EXIT_USAGE;
	}
	printf("# bash completion for bbctl, generated by 'bbctl completion bash'\n"
	    "_bbctl() {\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i cmd=\n"
	    "\tcase $prev in --socket) COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n"
	    "\t--timeout");
	for (size_t i = 0; i < NOPTIONS; i++)
		if (cmd_options[i].arg != NULL)
			printf("|--%s", cmd_options[i].name);
	printf(") return;; esac\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tcase ${COMP_WORDS[i]} in --socket|--timeout) ((i++));; -*) ;;\n"
	    "\t\t*) cmd=${COMP_WORDS[i]}; break;; esac\n"
	    "\tdone\n"
	    "\tcase $cmd in\n"
	    "\t'') COMPREPLY=($(compgen -W '--json --socket --timeout --help");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf(" %s", commands[i].name);
	printf("' -- \"$cur\"));;\n"
	    "\thelp) COMPREPLY=($(compgen -W '");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("%s%s", i ? " " : "", commands[i].name);
	printf("' -- \"$cur\"));;\n"
	    "\tcompletion) COMPREPLY=($(compgen -W 'bash' -- \"$cur\"));;\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].options == 0)
			continue;
		printf("\t%s) COMPREPLY=($(compgen -W '--help", commands[i].name);
		for (size_t k = 0; k < NOPTIONS; k++)
			if (commands[i].options & cmd_options[k].bit)
				printf(" --%s", cmd_options[k].name);
		printf("' -- \"$cur\"));;\n");
	}
	printf("\t*) COMPREPLY=($(compgen -W '--help' -- \"$cur\"));;\n"
	    "\tesac\n"
	    "}\n"
	    "complete -F _bbctl bbctl\n");
	return EXIT_OK;
}

/* --- arguments ----------------------------------------------------------------------- */

static int
parse_count(const char *opt, const char *s, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "bbctl: %s %s: expected a whole number from %lld to %lld\n",
		    opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* The command's options and positional arguments, as its entry allows: -1 on misuse. */
static int
parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
	struct option longopts[NOPTIONS + 1];
	size_t n = 0;
	long long v;
	int ch, idx;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (!(c->options & cmd_options[i].bit))
			continue;
		longopts[n].name = cmd_options[i].name;
		longopts[n].has_arg = cmd_options[i].arg ? required_argument : no_argument;
		longopts[n].val = (int)cmd_options[i].bit;
		n++;
	}
	memset(a, 0, sizeof(*a));
	optind = 0;	/* glibc: start over, options may follow the arguments */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		switch (ch) {
		case O_TO: a->to = optarg; break;
		case O_YES: a->yes = true; break;
		case O_WATCH: a->watch = true; break;
		case O_SINCE:
			if (parse_count("--since", optarg, 0, INT64_MAX, &v) == -1)
				return -1;
			a->since = v;
			break;
		case O_LIMIT:
			if (parse_count("--limit", optarg, 1, 1000000, &v) == -1)
				return -1;
			a->limit = (int)v;
			break;
		default:
			fprintf(stderr, "bbctl: %s: %s '%s'\n", c->name, ch == ':' ?
			    "missing value for option" : "unknown option",
			    argv[optind - 1]);
			command_usage(stderr, c);
			return -1;
		}
	}
	/* pos[0] is the command's name, as argv[0]. */
	a->pos = argv + optind - 1;
	a->pos[0] = argv[0];
	a->npos = argc - optind + 1;
	if (a->npos - 1 < c->minpos || a->npos - 1 > c->maxpos) {
		if (c->maxpos == 0)
			fprintf(stderr, "bbctl: %s takes no arguments\n", c->name);
		else
			command_usage(stderr, c);
		return -1;
	}
	return 0;
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
	struct ctx ctx = { .socket = getenv("BBCTL_SOCKET"), .timeout_ms = 10000,
	    .out = &render_human };
	const struct command *cmd;
	struct args a;
	int ch, rc;

	if (ctx.socket == NULL || *ctx.socket == '\0')
		ctx.socket = DEFAULT_SOCKET;
	/* '+': options after the command belong to the command. */
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': ctx.json = true; ctx.out = &render_json; break;
		case 's': ctx.socket = optarg; break;
		case 't':
			ctx.timeout_given = true;
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
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			char *help[] = { "help", argv[0] };
			struct args ha = { .pos = help, .npos = 2 };
			return cmd_help(&ctx, &ha);
		}
	}
	if (parse_args(cmd, argc, argv, &a) == -1)
		return EXIT_USAGE;
	rc = cmd->run(&ctx, &a);
	conn_close(ctx.conn);
	return rc;
}
