/*
 * The chain's local sources (see credentials.h, steps 1 and 2): the environment, and
 * the profile in the shared credentials and config files, parsed strictly as Python's
 * configparser reads them for botocore. Must never quote a file line or a value in an
 * error (errors say "line N"), nor leave a file's bytes or a parsed secret unzeroed.
 * The files are read with plain read(2): a few hundred bytes on a local disk, as the
 * configuration file is.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/credentials_int.h"

/* ---- The shared files: INI as configparser reads it ---- */

enum last_key {
	LAST_NONE,	/* no key yet in this section */
	LAST_SECRET,	/* one of ours: it may not continue on the next line */
	LAST_OTHER	/* anything else: continuation lines are its business */
};

struct ini {
	int			 config;	/* ~/.aws/config naming */
	const char		*profile;
	int			 line;
	int			 in_section, in_target, found;
	enum last_key		 last;
	char			**sections, **keys;	/* seen: for duplicates */
	size_t			 nsections, nkeys;
	struct aws_creds_ini_keys *out;
	char			*err;
	size_t			 errlen;
};

/* Keys that name a source this daemon does not implement (botocore does). */
static const char *const unsupported_keys[] = {
	"role_arn", "credential_process", "sso_start_url", "sso_session",
	"web_identity_token_file", "login_session",
};

static int
ini_fail(struct ini *in, const char *why)
{
	snprintf(in->err, in->errlen, "line %d: %s", in->line, why);
	return -1;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Adds s (n bytes) to the set v; -1 if it was there already. */
static int
strv_add(char ***v, size_t *n, const char *s, size_t len)
{
	char	**nv;

	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i]) == len && memcmp((*v)[i], s, len) == 0)
			return -1;
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		fatal("reallocarray");
	*v = nv;
	if ((nv[*n] = strndup(s, len)) == NULL)
		fatal("strndup");
	(*n)++;
	return 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* Whether section header h (n bytes) names in->profile. */
static int
section_matches(const struct ini *in, const char *h, size_t n)
{
	size_t	 plen = strlen(in->profile);

	if (!in->config)
		return n == plen && memcmp(h, in->profile, n) == 0;
	if (n == 7 && memcmp(h, "default", 7) == 0)
		return strcmp(in->profile, "default") == 0;
	if (n < 8 || memcmp(h, "profile", 7) != 0 || (h[7] != ' ' && h[7] != '\t'))
		return 0;
	h += 7;
	n -= 7;
	trim(&h, &n);
	/* botocore splits with shlex: [profile "my name"] is allowed. */
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	} else if (memchr(h, ' ', n) != NULL || memchr(h, '\t', n) != NULL)
		return 0;
	return n == plen && memcmp(h, in->profile, n) == 0;
}

static int
ini_section(struct ini *in, const char *s, size_t n)
{
	const char	*close = memchr(s, ']', n), *rest;
	size_t		 rn;

	if (close == NULL || close == s + 1)
		return ini_fail(in, "a section header must be \"[name]\"");
	rest = close + 1;
	rn = n - (size_t)(rest - s);
	trim(&rest, &rn);
	if (rn > 0 && *rest != '#' && *rest != ';')
		return ini_fail(in, "unexpected text after the section header");
	if (strv_add(&in->sections, &in->nsections, s + 1,
	    (size_t)(close - s - 1)) == -1)
		return ini_fail(in, "the section appears twice");
	strv_free(in->keys, in->nkeys);
	in->keys = NULL;
	in->nkeys = 0;
	in->in_section = 1;
	in->last = LAST_NONE;
	in->in_target = section_matches(in, s + 1, (size_t)(close - s - 1));
	if (in->in_target) {
		/* [default] and [profile default]: the later wins, as in botocore. */
		aws_creds_ini_keys_free(in->out);
		in->found = 1;
	}
	return 0;
}

static int
key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

/* Stores the value v (n bytes) if key k is one the chain reads. */
static void
ini_store(struct ini *in, const char *k, size_t kn, const char *v, size_t n)
{
	struct aws_creds_ini_keys *o = in->out;

	in->last = LAST_SECRET;
	if (key_is(k, kn, "aws_access_key_id"))
		o->access_key_id = secret_dup(v, n);
	else if (key_is(k, kn, "aws_secret_access_key"))
		o->secret_access_key = secret_dup(v, n);
	else if (key_is(k, kn, "aws_session_token")) {
		secret_free(o->session_token);
		o->session_token = secret_dup(v, n);
	} else if (key_is(k, kn, "aws_security_token")) {
		if (o->session_token == NULL)	/* the legacy name yields */
			o->session_token = secret_dup(v, n);
	} else {
		in->last = LAST_OTHER;
		for (size_t i = 0; i < nitems(unsupported_keys); i++)
			if (key_is(k, kn, unsupported_keys[i]) && o->unsupported == NULL &&
			    (o->unsupported = strdup(unsupported_keys[i])) == NULL)
				fatal("strdup");
	}
}

static int
ini_key(struct ini *in, const char *s, size_t n)
{
	const char	*end = s + n, *eq = NULL, *v;
	size_t		 kn, vn;
	char		 lower[128];

	if (!in->in_section)
		return ini_fail(in, "a key outside any section");
	/* configparser's delimiters: the first '=' or ':' ends the key. */
	for (size_t i = 0; i < n && eq == NULL; i++)
		if (s[i] == '=' || s[i] == ':')
			eq = s + i;
	if (eq == NULL)
		return ini_fail(in, "expected \"key = value\"");
	kn = (size_t)(eq - s);
	trim(&s, &kn);
	if (kn == 0 || kn >= sizeof(lower))
		return ini_fail(in, "a key name is empty or too long");
	for (size_t i = 0; i < kn; i++)
		lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	if (strv_add(&in->keys, &in->nkeys, lower, kn) == -1)
		return ini_fail(in, "a key appears twice in the section");
	v = eq + 1;
	vn = (size_t)(end - v);
	trim(&v, &vn);
	if (in->in_target)
		ini_store(in, lower, kn, v, vn);
	else
		in->last = LAST_OTHER;
	return 0;
}

static int
ini_line(struct ini *in, const char *s, size_t n)
{
	int	 indented = n > 0 && (s[0] == ' ' || s[0] == '\t');

	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	if (indented) {
		if (in->last == LAST_NONE)
			return ini_fail(in, "an indented line that continues nothing");
		if (in->last == LAST_SECRET && in->in_target)
			return ini_fail(in, "a credential value may not span lines");
		return 0;	/* the continuation of a nested setting (s3 = ...) */
	}
	if (s[0] == '[')
		return ini_section(in, s, n);
	return ini_key(in, s, n);
}

int
aws_creds_ini_profile(const char *text, size_t len, int config_file,
    const char *profile, struct aws_creds_ini_keys *keys, char *err, size_t errlen)
{
	struct ini	 in = { .config = config_file, .profile = profile, .out = keys,
	    .err = err, .errlen = errlen };
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;
	int		 rc = 0;

	memset(keys, 0, sizeof(*keys));
	if (text == NULL || profile == NULL)
		return -1;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte: not a text file");
		return -1;
	}
	for (; p < end && rc == 0; p = nl + 1) {
		in.line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		rc = ini_line(&in, p, n);
	}
	strv_free(in.sections, in.nsections);
	strv_free(in.keys, in.nkeys);
	if (rc == -1) {
		aws_creds_ini_keys_free(keys);
		return -1;
	}
	return in.found;
}

/* ---- Local sources: the environment and the shared files ---- */

int
aws_creds_env_provider(struct aws_creds *cr, struct aws_creds_ini_keys *k, char *err,
    size_t errlen)
{
	const char	*id = env("AWS_ACCESS_KEY_ID");
	const char	*secret = env("AWS_SECRET_ACCESS_KEY");
	const char	*token;

	/* As botocore does for --profile: a named profile is what the operator meant. */
	if (cr->profile != NULL) {
		aws_creds_trail_add(cr, "environment: skipped, profile \"%s\" was named",
		    cr->profile);
		return 0;
	}
	if (id == NULL && secret == NULL) {
		aws_creds_trail_add(cr, "environment: not set");
		return 0;
	}
	if (id == NULL || secret == NULL) {
		snprintf(err, errlen, "environment: %s is set but %s is not",
		    id != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    id != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if ((token = env("AWS_SESSION_TOKEN")) == NULL)
		token = env("AWS_SECURITY_TOKEN");
	k->access_key_id = secret_dup(id, strlen(id));
	k->secret_access_key = secret_dup(secret, strlen(secret));
	if (token != NULL)
		k->session_token = secret_dup(token, strlen(token));
	return 1;
}

/* path with a leading "~/" expanded; NULL if there is no home directory. */
static char *
expand_home(const char *path)
{
	struct passwd	 pw, *res = NULL;
	const char	*home;
	char		 buf[1024], *out;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0')) {
		if ((out = strdup(path)) == NULL)
			fatal("strdup");
		return out;
	}
	if ((home = env("HOME")) == NULL) {
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
			return NULL;
		home = pw.pw_dir;
	}
	if (asprintf(&out, "%s%s", home, path + 1) == -1)
		fatal("asprintf");
	return out;
}

/*
 * The whole of path in *buf (the caller zeroes and frees it): 1; 0 if there is no
 * such file (botocore: not a file is no file); -1 with err if it cannot be read.
 */
int
aws_creds_file_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 r;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (st.st_size > AWS_CREDS_FILE_MAX) {
		close(fd);
		snprintf(err, errlen, "%s: larger than %d bytes", path, AWS_CREDS_FILE_MAX);
		return -1;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("malloc");
	while (got < (size_t)st.st_size) {
		if ((r = read(fd, *buf + got, (size_t)st.st_size - got)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 1;
}

/*
 * The profile's keys in one file: 1 (*k filled), 0 (not there, or no keys: *found
 * and *unsupported say which), -1 with err.
 */
static int
file_profile(const char *path, int config, const char *profile,
    struct aws_creds_ini_keys *k, int *found, char **unsupported, char *err,
    size_t errlen)
{
	char	*buf, why[128];
	size_t	 len;
	int	 rc;

	if (path == NULL || (rc = aws_creds_file_read(path, &buf, &len, err, errlen)) == 0)
		return 0;
	if (rc == -1)
		return -1;
	rc = aws_creds_ini_profile(buf, len, config, profile, k, why, sizeof(why));
	explicit_bzero(buf, len);
	free(buf);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (rc == 0)
		return 0;
	*found = 1;
	if (k->access_key_id != NULL && k->secret_access_key != NULL)
		return 1;
	if (k->access_key_id != NULL || k->secret_access_key != NULL) {
		snprintf(err, errlen, "%s: profile \"%s\" has %s but no %s", path, profile,
		    k->access_key_id != NULL ? "aws_access_key_id" : "aws_secret_access_key",
		    k->access_key_id != NULL ? "aws_secret_access_key" : "aws_access_key_id");
		aws_creds_ini_keys_free(k);
		return -1;
	}
	if (*unsupported == NULL && k->unsupported != NULL)
		*unsupported = strdup(k->unsupported);
	aws_creds_ini_keys_free(k);
	return 0;
}

static const char *
profile_name(const struct aws_creds *cr)
{
	const char	*p;

	if (cr->profile != NULL)
		return cr->profile;
	/* botocore's order: AWS_DEFAULT_PROFILE is looked at first. */
	if ((p = env("AWS_DEFAULT_PROFILE")) != NULL ||
	    (p = env("AWS_PROFILE")) != NULL)
		return p;
	return "default";
}

/* Both files for the profile; 1 with *k and source, 0 to go on, -1 with err. */
static int
files_lookup(struct aws_creds *cr, const char *paths[2], struct aws_creds_ini_keys *k,
    char *source, size_t srclen, char *err, size_t errlen)
{
	static const char *const what[2] = { "shared credentials file", "config file" };
	const char	*profile = profile_name(cr);
	char		*unsupported = NULL;
	int		 found = 0, rc = 0, i;

	for (i = 0; i < 2 && rc == 0; i++)
		rc = file_profile(paths[i], i, profile, k, &found, &unsupported, err,
		    errlen);
	if (rc == 1)
		snprintf(source, srclen, "%s %s profile %s", what[i - 1], paths[i - 1],
		    profile);
	else if (rc == 0 && unsupported != NULL) {
		snprintf(err, errlen, "profile \"%s\" uses %s, a credential source "
		    "bbupgraded does not support: give it keys, or use instance "
		    "metadata", profile, unsupported);
		rc = -1;
	} else if (rc == 0 && !found && strcmp(profile, "default") != 0) {
		snprintf(err, errlen, "profile \"%s\" not found in %s or %s", profile,
		    paths[0] != NULL ? paths[0] : "~/.aws/credentials (no home)",
		    paths[1] != NULL ? paths[1] : "~/.aws/config (no home)");
		rc = -1;
	} else if (rc == 0)
		aws_creds_trail_add(cr, "profile %s: %s in %s or %s", profile, found ?
		    "no keys" : "not found", paths[0] != NULL ? paths[0] : "(no home)",
		    paths[1] != NULL ? paths[1] : "(no home)");
	free(unsupported);
	return rc;
}

int
aws_creds_files_provider(struct aws_creds *cr, struct aws_creds_ini_keys *k, char *source,
    size_t srclen, char *err, size_t errlen)
{
	const char	*v, *paths[2];
	char		*p[2];
	int		 rc;

	v = env("AWS_SHARED_CREDENTIALS_FILE");
	p[0] = expand_home(v != NULL ? v : "~/.aws/credentials");
	v = env("AWS_CONFIG_FILE");
	p[1] = expand_home(v != NULL ? v : "~/.aws/config");
	paths[0] = p[0];
	paths[1] = p[1];
	rc = files_lookup(cr, paths, k, source, srclen, err, errlen);
	free(p[0]);
	free(p[1]);
	return rc;
}
