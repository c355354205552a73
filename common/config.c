/*
 * The configuration file (see config.h and bbupgraded.conf(5)).
 *
 * libinih splits lines into "key = value" pairs, strips comments and whitespace;
 * everything else is ours. We feed it the file one line per call through our own
 * reader, for three reasons: its handler is not told the line number, and every
 * message must name one; it cuts section names at 49 bytes and never tells the
 * handler about a section without keys, so section headers are parsed here, in the
 * reader; and we strip leading whitespace before inih sees a line, so that its
 * Python-style continuation lines never apply (an indented key is a key, not more
 * of the previous value).
 *
 * Every key is one row of a table (name, setter, where it is stored, range, default,
 * help text): the setter validates, the help text is what "allowed:" says.
 * This module never opens the secret files it names; the daemon reads them when it
 * needs them, so that a secret never passes through here or into a message.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>

#include <ini.h>

#include "common/config.h"
#include "common/syntax.h"

#define CONFIG_MAX_SIZE	(1024 * 1024)	/* a config file is a few KiB; refuse a log file */
#define NKEYS_MAX	32
#define SHOWN_MAX	64		/* bytes of a bad value echoed in a message */
#define SOCKET_MAX	((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define ALNUM		SYNTAX_ALNUM

struct parse;
struct key;

typedef int	(*setter)(struct parse *, const struct key *, const char *);

struct choice {
	const char	*name;
	int		 value;
};

struct key {
	const char	*name;
	setter		 set;
	size_t		 off;		/* in struct config or struct deployment */
	int		 min, max;	/* numbers, durations (ms); max length of paths */
	int		(*valid)(const char *);	/* for set_string */
	const struct choice *choices;	/* for set_choice */
	const char	*def;		/* default, applied through the setter */
	const char	*required;	/* what the key is, if it must be given */
	const char	*allowed;	/* what "allowed:" says */
};

struct section {
	const struct key *keys;
	size_t		 nkeys;
	int		(*close)(struct parse *);	/* checks across keys */
};

struct parse {
	const char	*path;
	char		*data;		/* the whole file */
	size_t		 len, pos;
	int		 lineno;	/* of the line inih is working on */
	struct config	*cfg;
	const struct section *sec;	/* NULL before the first section header */
	void		*base;		/* where sec's keys are stored */
	char		 title[96];	/* "daemon" or "deployment NAME" */
	int		 secline;
	int		 seen[NKEYS_MAX];	/* line each key of sec was set on, or 0 */
	int		 daemon_line;
	char		*err;
	size_t		 errlen;
	int		 failed;
	int		 errline;
};

static int	set_string(struct parse *, const struct key *, const char *);
static int	set_path(struct parse *, const struct key *, const char *);
static int	set_secret(struct parse *, const struct key *, const char *);
static int	set_url(struct parse *, const struct key *, const char *);
static int	set_choice(struct parse *, const struct key *, const char *);
static int	set_int(struct parse *, const struct key *, const char *);
static int	set_duration(struct parse *, const struct key *, const char *);
static int	close_deployment(struct parse *);

static const struct choice log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 }
};

static const struct choice orders[] = {
	{ "efficient", ORDER_EFFICIENT }, { "literal", ORDER_LITERAL }, { NULL, 0 }
};

static const struct choice failure_policies[] = {
	{ "halt", ON_FAILURE_HALT }, { "retry", ON_FAILURE_RETRY },
	{ "rollback", ON_FAILURE_ROLLBACK }, { NULL, 0 }
};

#define CFG(f)		offsetof(struct config, f)
#define DEP(f)		offsetof(struct deployment, f)
#define EP(s)		(offsetof(struct deployment, endpoint) + (s) * sizeof(char *))
#define DURATION	"seconds, or a number followed by ms, s, m or h"
#define URL		"an http:// or https:// URL: a host, an optional :port and " \
			"/path, no user@, query or fragment"
#define SECRET		"an absolute path, or the name of a systemd credential " \
			"(LoadCredential=) without '/'"
#define ENDPOINT(key, svc) \
	{ .name = key, .set = set_url, .off = EP(svc), .allowed = URL }

static const struct key daemon_keys[] = {
	{ .name = "socket", .set = set_path, .off = CFG(socket_path), .max = SOCKET_MAX,
	  .def = "/run/bbupgraded/control.sock",
	  .allowed = "an absolute path of at most 107 bytes (a Unix socket address)" },
	{ .name = "state_directory", .set = set_path, .off = CFG(state_dir),
	  .max = PATH_MAX - 1, .def = "/var/lib/bbupgraded",
	  .allowed = "an absolute path" },
	{ .name = "log_level", .set = set_choice, .off = CFG(log_level),
	  .choices = log_levels, .def = "info",
	  .allowed = "error, warning, info or debug" },
	{ .name = "control_group", .set = set_string, .off = CFG(control_group),
	  .valid = syntax_group,
	  .allowed = "a group name: a letter or '_', then up to 31 letters, digits, "
	  "'_', '.' or '-'" },
	{ .name = "max_clients", .set = set_int, .off = CFG(max_clients),
	  .min = 1, .max = 1024, .def = "64",
	  .allowed = "a whole number from 1 to 1024" },
	{ .name = "client_timeout", .set = set_duration, .off = CFG(client_timeout_ms),
	  .min = 1000, .max = 3600 * 1000, .def = "60",
	  .allowed = "a duration from 1s to 1h: " DURATION },
	{ .name = "poll_interval", .set = set_duration, .off = CFG(poll_interval_ms),
	  .min = 200, .max = 600 * 1000, .def = "10",
	  .allowed = "a duration from 200ms to 10m: " DURATION },
	{ .name = "stack_timeout", .set = set_duration, .off = CFG(stack_timeout_ms),
	  .min = 10 * 1000, .max = 86400 * 1000, .def = "3600",
	  .allowed = "a duration from 10s to 24h: " DURATION },
	{ .name = "node_timeout", .set = set_duration, .off = CFG(node_timeout_ms),
	  .min = 10 * 1000, .max = 86400 * 1000, .def = "1800",
	  .allowed = "a duration from 10s to 24h: " DURATION },
};

static const struct key deployment_keys[] = {
	{ .name = "region", .set = set_string, .off = DEP(region), .valid = syntax_region,
	  .required = "the AWS region of the stack, e.g. eu-west-1",
	  .allowed = "an AWS region name such as eu-west-1 or us-gov-west-1" },
	{ .name = "stack", .set = set_string, .off = DEP(stack), .valid = syntax_stack,
	  .required = "the CloudFormation stack name",
	  .allowed = "a CloudFormation stack name: a letter, then up to 127 letters, "
	  "digits or '-'" },
	{ .name = "bitbucket_url", .set = set_url, .off = DEP(bitbucket_url),
	  .required = "the Bitbucket base URL, e.g. https://bitbucket.example.com",
	  .allowed = URL },
	{ .name = "bitbucket_user", .set = set_string, .off = DEP(bitbucket_user),
	  .valid = syntax_user,
	  .allowed = "a Bitbucket user name without ':', spaces or control characters" },
	{ .name = "token_file", .set = set_secret, .off = DEP(token_file),
	  .max = PATH_MAX - 1, .allowed = SECRET },
	{ .name = "password_file", .set = set_secret, .off = DEP(password_file),
	  .max = PATH_MAX - 1, .allowed = SECRET },
	{ .name = "surge", .set = set_int, .off = DEP(surge), .min = 1, .max = 16,
	  .def = "1", .allowed = "a whole number from 1 to 16" },
	{ .name = "on_failure", .set = set_choice, .off = DEP(on_failure),
	  .choices = failure_policies, .def = "halt",
	  .allowed = "halt, retry or rollback" },
	{ .name = "order", .set = set_choice, .off = DEP(order),
	  .choices = orders, .def = "efficient",
	  .allowed = "efficient or literal" },
	{ .name = "aws_profile", .set = set_string, .off = DEP(aws_profile),
	  .valid = syntax_profile,
	  .allowed = "a profile name of up to 128 letters, digits, '_', '.' or '-'" },
	{ .name = "endpoint_url", .set = set_url, .off = DEP(endpoint_url),
	  .allowed = URL },
	ENDPOINT("endpoint_url_cloudformation", AWS_CLOUDFORMATION),
	ENDPOINT("endpoint_url_auto_scaling", AWS_AUTOSCALING),
	ENDPOINT("endpoint_url_ec2", AWS_EC2),
	ENDPOINT("endpoint_url_cloudwatch", AWS_CLOUDWATCH),
	ENDPOINT("endpoint_url_elastic_load_balancing", AWS_ELB),
	ENDPOINT("endpoint_url_sts", AWS_STS),
};

_Static_assert(nitems(daemon_keys) <= NKEYS_MAX, "too many daemon keys");
/* set_choice stores through an int *. */
_Static_assert(sizeof(enum on_failure) == sizeof(int), "enum on_failure is not an int");
_Static_assert(sizeof(enum order) == sizeof(int), "enum order is not an int");
_Static_assert(nitems(deployment_keys) <= NKEYS_MAX, "too many deployment keys");

static const struct section daemon_section = {
	daemon_keys, nitems(daemon_keys), NULL
};
static const struct section deployment_section = {
	deployment_keys, nitems(deployment_keys), close_deployment
};

/* Always returns -1, so that callers can "return fail(...)". */
static int __attribute__((format(printf, 3, 4)))
fail(struct parse *p, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
	p->failed = 1;
	p->errline = line;
	return -1;
}

/* Text from the file as a message shows it: no control or non-ASCII bytes, cut short. */
static const char *
shown(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, n = len < size - 4 ? len : size - 4;

	for (i = 0; i < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	strcpy(buf + i, n < len ? "..." : "");
	return buf;
}

static int
bad_value(struct parse *p, const struct key *k, const char *v, const char *why)
{
	char b[SHOWN_MAX];

	return fail(p, p->lineno, "[%s] %s: '%s' is not allowed%s%s%s; allowed: %s",
	    p->title, k->name, shown(v, strlen(v), b, sizeof(b)), why ? " (" : "",
	    why ? why : "", why ? ")" : "", k->allowed);
}

static void *
field(struct parse *p, const struct key *k)
{
	return (char *)p->base + k->off;
}

/* Takes s (allocated by the caller, NULL if that failed). */
static int
store(struct parse *p, const struct key *k, char *s)
{
	char **f = field(p, k);

	if (s == NULL)
		return fail(p, p->lineno, "out of memory");
	free(*f);
	*f = s;
	return 0;
}

static int
key_index(const struct section *sec, const char *name)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
seen_line(const struct parse *p, const char *name)
{
	int i = key_index(p->sec, name);

	return i == -1 ? 0 : p->seen[i];
}

/* ---- values ---- */

static int
set_int(struct parse *p, const struct key *k, const char *v)
{
	const char *end;
	long long n;

	if ((end = syntax_digits(v, &n)) == NULL || *end != '\0' || n < k->min ||
	    n > k->max)
		return bad_value(p, k, v, NULL);
	*(int *)field(p, k) = (int)n;
	return 0;
}

/* "90", "90s", "15m", "2h": seconds. */
static int
set_duration(struct parse *p, const struct key *k, const char *v)
{
	const char *end;
	long long n, unit;

	if ((end = syntax_digits(v, &n)) == NULL)
		return bad_value(p, k, v, NULL);
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else
		return bad_value(p, k, v, NULL);
	/* n is at most 18 digits: check before multiplying, so it cannot overflow. */
	if (n > k->max / unit || n * unit < k->min)
		return bad_value(p, k, v, NULL);
	*(int *)field(p, k) = (int)(n * unit);
	return 0;
}

static int
set_choice(struct parse *p, const struct key *k, const char *v)
{
	const struct choice *c;

	for (c = k->choices; c->name != NULL; c++) {
		if (strcmp(c->name, v) == 0) {
			*(int *)field(p, k) = c->value;
			return 0;
		}
	}
	return bad_value(p, k, v, NULL);
}

static int
set_string(struct parse *p, const struct key *k, const char *v)
{
	if (!k->valid(v))
		return bad_value(p, k, v, NULL);
	return store(p, k, strdup(v));
}

static int
set_path(struct parse *p, const struct key *k, const char *v)
{
	if (v[0] != '/')
		return bad_value(p, k, v, "not an absolute path");
	if (strlen(v) > (size_t)k->max)
		return bad_value(p, k, v, "too long");
	if (syntax_has_control(v))
		return bad_value(p, k, v, "control character");
	return store(p, k, strdup(v));
}

/* ---- URLs ---- */

/* Stored without trailing '/', so that "URL" + "/rest/..." never has "//". */
static int
set_url(struct parse *p, const struct key *k, const char *v)
{
	const char *why;
	size_t pathoff = 0, len;
	char *s;

	if ((why = syntax_url_problem(v, &pathoff)) != NULL)
		return bad_value(p, k, v, why);
	if ((s = strdup(v)) != NULL) {
		for (len = strlen(s); len > pathoff && s[len - 1] == '/'; len--)
			s[len - 1] = '\0';
	}
	return store(p, k, s);
}

/* ---- secrets ---- */

/* systemd's LoadCredential= directory, if we run under it. */
static const char *
credentials_dir(void)
{
	const char *d = getenv("CREDENTIALS_DIRECTORY");

	return d != NULL && d[0] != '\0' ? d : NULL;
}

static char *
credential_path(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) == -1)
		return NULL;
	return s;
}

static int
set_secret(struct parse *p, const struct key *k, const char *v)
{
	const char *other, *dir;
	char b[SHOWN_MAX];
	int line;

	other = strcmp(k->name, "token_file") == 0 ? "password_file" : "token_file";
	if ((line = seen_line(p, other)) != 0)
		return fail(p, p->lineno, "[%s] %s: not allowed together with %s (line %d); "
		    "allowed: either token_file (a Bearer token) or password_file (with "
		    "bitbucket_user, HTTP Basic)", p->title, k->name, other, line);
	if (v[0] == '/')
		return set_path(p, k, v);
	if (!syntax_credential(v))
		return bad_value(p, k, v, strchr(v, '/') != NULL ?
		    "a relative name may not contain '/'" : NULL);
	if ((dir = credentials_dir()) == NULL)
		return fail(p, p->lineno, "[%s] %s: '%s' is a systemd credential name, but "
		    "CREDENTIALS_DIRECTORY is not set (bbupgraded was not started by systemd "
		    "with LoadCredential=); allowed: " SECRET, p->title, k->name,
		    shown(v, strlen(v), b, sizeof(b)));
	return store(p, k, credential_path(dir, v));
}

/* ---- sections ---- */

static int
apply_defaults(struct parse *p)
{
	for (size_t i = 0; i < p->sec->nkeys; i++)
		if (p->sec->keys[i].def != NULL &&
		    p->sec->keys[i].set(p, &p->sec->keys[i], p->sec->keys[i].def) == -1)
			return -1;
	return 0;
}

static void
start_section(struct parse *p, const struct section *sec, void *base)
{
	p->sec = sec;
	p->base = base;
	p->secline = p->lineno;
	memset(p->seen, 0, sizeof(p->seen));
}

static int
close_section(struct parse *p)
{
	const struct key *k;

	if (p->sec == NULL)
		return 0;
	for (size_t i = 0; i < p->sec->nkeys; i++) {
		k = &p->sec->keys[i];
		if (k->required != NULL && p->seen[i] == 0)
			return fail(p, p->secline, "[%s] missing required key '%s' (%s)",
			    p->title, k->name, k->required);
	}
	return p->sec->close != NULL ? p->sec->close(p) : 0;
}

/*
 * Without token_file or password_file the token is the systemd credential
 * "bitbucket_NAME". Outside systemd there is no such credential: token_file stays
 * NULL and the daemon says so when it first needs the token, not here, so that
 * the file can also be checked from a shell.
 */
static int
close_deployment(struct parse *p)
{
	struct deployment *d = p->base;
	const char *dir;
	char *s;

	if (d->password_file != NULL && d->bitbucket_user == NULL)
		return fail(p, p->secline, "[%s] missing required key 'bitbucket_user' (the "
		    "Bitbucket user whose password is in password_file)", p->title);
	if (d->bitbucket_user != NULL && d->password_file == NULL)
		return fail(p, seen_line(p, "bitbucket_user"), "[%s] bitbucket_user: only "
		    "used with password_file; allowed: bitbucket_user with password_file "
		    "(HTTP Basic), or token_file alone (a Bearer token)", p->title);
	if (d->token_file != NULL || d->password_file != NULL ||
	    (dir = credentials_dir()) == NULL)
		return 0;
	if (asprintf(&s, "%s/bitbucket_%s", dir, d->name) == -1)
		return fail(p, p->secline, "out of memory");
	d->token_file = s;
	return 0;
}

static int
open_daemon(struct parse *p)
{
	snprintf(p->title, sizeof(p->title), "daemon");
	if (p->daemon_line != 0)
		return fail(p, p->lineno, "[daemon]: duplicate section (first on line %d); "
		    "allowed: one [daemon] section", p->daemon_line);
	p->daemon_line = p->lineno;
	/* The defaults were set before parsing: a file may have no [daemon] at all. */
	start_section(p, &daemon_section, p->cfg);
	return 0;
}

/* [a-z0-9][a-z0-9_-]{0,62}: it names a systemd credential and appears in paths. */
static int
valid_deployment_name(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '_' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static struct deployment *
new_deployment(struct config *cfg)
{
	struct deployment *d;

	d = reallocarray(cfg->deployments, cfg->ndeployments + 1, sizeof(*d));
	if (d == NULL)
		return NULL;
	cfg->deployments = d;
	d = &cfg->deployments[cfg->ndeployments++];
	memset(d, 0, sizeof(*d));
	return d;
}

static int
open_deployment(struct parse *p, const char *name, size_t len)
{
	struct config *cfg = p->cfg;
	struct deployment *d;
	char b[SHOWN_MAX];

	shown(name, len, b, sizeof(b));
	snprintf(p->title, sizeof(p->title), "deployment %s", b);
	if (!valid_deployment_name(name, len))
		return fail(p, p->lineno, "[%s] name: '%s' is not allowed; allowed: 1 to 63 "
		    "lower-case letters, digits, '_' or '-', starting with a letter or digit",
		    p->title, b);
	for (size_t i = 0; i < cfg->ndeployments; i++)
		if (strlen(cfg->deployments[i].name) == len &&
		    memcmp(cfg->deployments[i].name, name, len) == 0)
			return fail(p, p->lineno, "[%s]: duplicate section (first on line %d); "
			    "allowed: one section per deployment name", p->title,
			    cfg->deployments[i].line);
	if ((d = new_deployment(cfg)) == NULL || (d->name = strndup(name, len)) == NULL)
		return fail(p, p->lineno, "out of memory");
	d->line = p->lineno;
	start_section(p, &deployment_section, d);
	return apply_defaults(p);
}

/* "[daemon]" or "[deployment NAME]", optionally followed by a comment. */
static int
section_header(struct parse *p, const char *line)
{
	const char *word, *arg, *end, *rest;
	size_t wlen, alen;
	char b[SHOWN_MAX];

	/* The section before this one is complete: its line comes first. */
	if (close_section(p) == -1)
		return -1;
	if ((end = strchr(line, ']')) == NULL)
		return fail(p, p->lineno, "section header without ']'; allowed: [daemon] or "
		    "[deployment NAME]");
	rest = end + 1 + strspn(end + 1, " \t\r");
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return fail(p, p->lineno, "text after ']'; allowed: a comment after ';'");
	word = line + 1 + strspn(line + 1, " \t");
	wlen = strcspn(word, " \t]");
	arg = word + wlen + strspn(word + wlen, " \t");
	alen = strcspn(arg, " \t]");
	if (arg + alen + strspn(arg + alen, " \t") == end) {
		if (wlen == 6 && memcmp(word, "daemon", 6) == 0 && alen == 0)
			return open_daemon(p);
		if (wlen == 10 && memcmp(word, "deployment", 10) == 0 && alen > 0)
			return open_deployment(p, arg, alen);
	}
	return fail(p, p->lineno, "[%s]: unknown section; allowed: [daemon] and "
	    "[deployment NAME]", shown(line + 1, (size_t)(end - line - 1), b, sizeof(b)));
}

/* ---- inih glue ---- */

static char *
key_list(const struct section *sec, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sec->nkeys && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i > 0 ? ", " : "",
		    sec->keys[i].name);
	return buf;
}

static int
key_value(struct parse *p, const char *name, const char *value)
{
	const struct key *k;
	char b[SHOWN_MAX], list[512];
	int i;

	shown(name, strlen(name), b, sizeof(b));
	if (p->sec == NULL)
		return fail(p, p->lineno, "%s: outside any section; allowed: keys under "
		    "[daemon] or [deployment NAME]", b);
	if ((i = key_index(p->sec, name)) == -1)
		return fail(p, p->lineno, "[%s] %s: unknown key; allowed: %s", p->title,
		    name[0] != '\0' ? b : "''", key_list(p->sec, list, sizeof(list)));
	k = &p->sec->keys[i];
	if (p->seen[i] != 0)
		return fail(p, p->lineno, "[%s] %s: duplicate key (first on line %d); "
		    "allowed: each key once per section", p->title, k->name, p->seen[i]);
	if (value[0] == '\0')
		return fail(p, p->lineno, "[%s] %s: an empty value is not allowed; "
		    "allowed: %s", p->title, k->name, k->allowed);
	if (k->set(p, k, value) == -1)
		return -1;
	p->seen[i] = p->lineno;
	return 0;
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;

	(void)section;	/* ours is p->sec: inih's may be cut short */
	if (p->failed)
		return 0;
	return key_value(p, name, value) == 0;
}

/*
 * inih's fgets-style reader over the file in memory. One call, one line, so our line
 * count is inih's.
 */
static char *
read_line(char *buf, int size, void *arg)
{
	struct parse *p = arg;
	const char *s, *nl;
	size_t len;

	if (p->failed || p->pos >= p->len)
		return NULL;
	s = p->data + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	len = nl != NULL ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += len + (nl != NULL);
	p->lineno++;
	if (p->lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	for (; len > 0 && isspace((unsigned char)*s); s++, len--)
		;
	if (size < 1 || len >= (size_t)size) {
		fail(p, p->lineno, "line too long; allowed: lines of at most %d bytes",
		    size - 1);
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == '[' && section_header(p, buf) == -1)
		return NULL;
	return buf;
}

/* Line n of the file, for a message about it. */
static const char *
line_text(const struct parse *p, int n, char *buf, size_t size)
{
	const char *s = p->data, *end = p->data + p->len, *nl;

	while (--n > 0 && (nl = memchr(s, '\n', (size_t)(end - s))) != NULL)
		s = nl + 1;
	nl = memchr(s, '\n', (size_t)(end - s));
	s += strspn(s, " \t");
	return shown(s, (size_t)((nl != NULL ? nl : end) - s), buf, size);
}

static int
parse(struct parse *p)
{
	char b[SHOWN_MAX];
	int rc;

	rc = ini_parse_stream(read_line, p, handler, p);
	if (rc == -2)
		return fail(p, 0, "out of memory");
	/* inih goes on after a line it cannot read: report whichever came first. */
	if (rc > 0 && (!p->failed || rc < p->errline))
		return fail(p, rc, "'%s' is not a comment, a [section] or a key = value line",
		    line_text(p, rc, b, sizeof(b)));
	if (p->failed)
		return -1;
	return close_section(p);
}

/* ---- the file ---- */

static int
line_of(const struct parse *p, const char *at)
{
	int n = 1;

	for (const char *s = p->data; s < at; s++)
		n += *s == '\n';
	return n;
}

static int
read_file(struct parse *p)
{
	FILE *fp;
	const char *nul;
	int saved;

	if ((fp = fopen(p->path, "re")) == NULL)
		return fail(p, 0, "cannot open: %s", strerror(errno));
	if ((p->data = malloc(CONFIG_MAX_SIZE + 1)) == NULL) {
		fclose(fp);
		return fail(p, 0, "out of memory");
	}
	p->len = fread(p->data, 1, CONFIG_MAX_SIZE + 1, fp);
	saved = errno;
	if (ferror(fp)) {
		fclose(fp);
		return fail(p, 0, "cannot read: %s", strerror(saved));
	}
	fclose(fp);
	if (p->len > CONFIG_MAX_SIZE)
		return fail(p, 0, "larger than %d bytes: not a configuration file",
		    CONFIG_MAX_SIZE);
	/* inih would stop at a NUL byte and take the rest of the line for its end. */
	if ((nul = memchr(p->data, '\0', p->len)) != NULL)
		return fail(p, line_of(p, nul), "binary data (a NUL byte): not a "
		    "configuration file");
	return 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct parse p;

	if (err == NULL)
		errlen = 0;
	else if (errlen > 0)
		err[0] = '\0';
	if (path == NULL || cfg == NULL) {
		snprintf(err, errlen, "no configuration file given");
		return -1;
	}
	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cfg = cfg;
	p.err = err;
	p.errlen = errlen;
	p.sec = &daemon_section;
	p.base = cfg;
	if ((cfg->path = strdup(path)) == NULL)
		fail(&p, 0, "out of memory");
	else if (apply_defaults(&p) == 0 && read_file(&p) == 0) {
		p.sec = NULL;
		parse(&p);
	}
	free(p.data);
	if (p.failed) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

static void
deployment_free(struct deployment *d)
{
	free(d->name);
	free(d->region);
	free(d->stack);
	free(d->bitbucket_url);
	free(d->bitbucket_user);
	free(d->token_file);
	free(d->password_file);
	free(d->aws_profile);
	free(d->endpoint_url);
	for (int i = 0; i < AWS_SERVICE_COUNT; i++)
		free(d->endpoint[i]);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->socket_path);
	free(cfg->state_dir);
	free(cfg->control_group);
	for (size_t i = 0; i < cfg->ndeployments; i++)
		deployment_free(&cfg->deployments[i]);
	free(cfg->deployments);
	memset(cfg, 0, sizeof(*cfg));
}

const struct deployment *
config_deployment(const struct config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->ndeployments; i++)
		if (strcmp(cfg->deployments[i].name, name) == 0)
			return &cfg->deployments[i];
	return NULL;
}
