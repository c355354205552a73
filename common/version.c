/*
 * Bitbucket versions and the rolling-upgrade rule (see version.h).
 *
 * Parsing is strict on purpose: a version string comes from an operator or from a
 * node's /status reply, and a lenient parser that read "7.9.4x" as 7.9.4 could let
 * the daemon start an upgrade Bitbucket itself would refuse halfway through.
 * Leading zeros ("7.09.4") are refused too, so that parse and format round-trip
 * exactly and two spellings never name the same version.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/version.h"

#define FIELD_MAX	9999

/* One numeric field: 1 to 4 digits, no sign, no leading zero. */
static const char *
parse_field(const char *s, unsigned *out)
{
	unsigned v = 0;
	int n = 0;

	if (s[0] == '0' && isdigit((unsigned char)s[1]))
		return NULL;
	while (isdigit((unsigned char)s[n])) {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (++n > 4 || v > FIELD_MAX)
			return NULL;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return s + n;
}

/* Dot-separated identifiers of [A-Za-z0-9], none empty, 31 characters at most. */
static int
valid_qualifier(const char *q)
{
	size_t len = strlen(q);

	if (len == 0 || len >= VERSION_QUALIFIER_MAX)
		return 0;
	if (q[0] == '.' || q[len - 1] == '.' || strstr(q, "..") != NULL)
		return 0;
	for (; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && *q != '.')
			return 0;
	return 1;
}

int
version_parse(const char *s, struct bb_version *out)
{
	struct bb_version v;

	if (s == NULL || out == NULL)
		return -1;
	memset(&v, 0, sizeof(v));
	if ((s = parse_field(s, &v.major)) == NULL || *s++ != '.')
		return -1;
	if ((s = parse_field(s, &v.minor)) == NULL || *s++ != '.')
		return -1;
	if ((s = parse_field(s, &v.patch)) == NULL)
		return -1;
	if (*s == '-') {
		if (!valid_qualifier(++s))
			return -1;
		memcpy(v.qualifier, s, strlen(s) + 1);	/* length checked above */
	} else if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

char *
version_format(const struct bb_version *v, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (v->qualifier[0] != '\0')
		snprintf(buf, len, "%u.%u.%u-%s", v->major, v->minor, v->patch,
		    v->qualifier);
	else
		snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->patch);
	return buf;
}

static int
cmp_unsigned(unsigned a, unsigned b)
{
	return a < b ? -1 : a > b;
}

/* Two digit runs of any length, by value: skip leading zeros, then longer is larger. */
static int
cmp_digits(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	for (; alen > 1 && *a == '0'; a++, alen--)
		;
	for (; blen > 1 && *b == '0'; b++, blen--)
		;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

/* Length of the run of digits (or of non-digits) that starts s and ends at or before end. */
static size_t
run_length(const char *s, const char *end)
{
	int digit = isdigit((unsigned char)*s);
	size_t n = 0;

	while (s + n < end && (isdigit((unsigned char)s[n]) != 0) == (digit != 0))
		n++;
	return n;
}

/*
 * One pre-release identifier against another. Semver's rule compares
 * alphanumeric identifiers as plain ASCII, which puts "rc10" before "rc2"; Atlassian
 * numbers its candidates rc1, rc2, ... rc10, so we compare "naturally" instead: each
 * identifier is a sequence of letter runs and digit runs, letter runs compare as
 * ASCII, digit runs by value, and a digit run sorts before a letter run (this also
 * gives semver's "numeric identifiers sort before alphanumeric ones"). When every run
 * is equal the identifier with fewer runs sorts first ("rc" < "rc1").
 */
static int
cmp_ident(const char *a, const char *aend, const char *b, const char *bend)
{
	size_t alen, blen;
	int adig, bdig, c;

	while (a < aend && b < bend) {
		adig = isdigit((unsigned char)*a) != 0;
		bdig = isdigit((unsigned char)*b) != 0;
		if (adig != bdig)
			return adig ? -1 : 1;
		alen = run_length(a, aend);
		blen = run_length(b, bend);
		if (adig)
			c = cmp_digits(a, alen, b, blen);
		else if ((c = memcmp(a, b, alen < blen ? alen : blen)) == 0)
			c = cmp_unsigned((unsigned)alen, (unsigned)blen);
		if (c != 0)
			return c < 0 ? -1 : 1;
		a += alen;
		b += blen;
	}
	return (a < aend) - (b < bend);
}

/* Dot-separated identifiers pairwise; more identifiers sort later ("rc" < "rc.1"). */
static int
cmp_qualifier(const char *a, const char *b)
{
	const char *aend, *bend;
	int c;

	for (;;) {
		aend = a + strcspn(a, ".");
		bend = b + strcspn(b, ".");
		if ((c = cmp_ident(a, aend, b, bend)) != 0)
			return c;
		if (*aend == '\0' || *bend == '\0')
			return (*aend != '\0') - (*bend != '\0');
		a = aend + 1;
		b = bend + 1;
	}
}

int
version_cmp(const struct bb_version *a, const struct bb_version *b)
{
	int c;

	if ((c = cmp_unsigned(a->major, b->major)) != 0 ||
	    (c = cmp_unsigned(a->minor, b->minor)) != 0 ||
	    (c = cmp_unsigned(a->patch, b->patch)) != 0)
		return c;
	/* A pre-release comes before its release: 7.9.4-rc1 < 7.9.4. */
	if (a->qualifier[0] == '\0' || b->qualifier[0] == '\0')
		return (a->qualifier[0] == '\0') - (b->qualifier[0] == '\0');
	if ((c = cmp_qualifier(a->qualifier, b->qualifier)) != 0)
		return c;
	/* "rc01" and "rc1" are equal by value; keep the order total anyway. */
	c = strcmp(a->qualifier, b->qualifier);
	return c < 0 ? -1 : c > 0;
}

int
version_rolling_ok(const struct bb_version *from, const struct bb_version *to,
    char *why, size_t whylen)
{
	char f[64], t[64];
	int c;

	version_format(from, f, sizeof(f));
	version_format(to, t, sizeof(t));
	c = version_cmp(to, from);
	if (c == 0)
		snprintf(why, whylen, "%s -> %s: already on %s; there is nothing to upgrade",
		    f, t, f);
	else if (c < 0)
		snprintf(why, whylen, "%s -> %s: %s is older than %s; rolling back a release "
		    "is not supported by Bitbucket's rolling upgrade", f, t, t, f);
	else if (to->major != from->major || to->minor != from->minor)
		snprintf(why, whylen, "%s -> %s: a rolling upgrade only moves to a bug-fix "
		    "release of the same feature version (%u.%u.x); upgrade to %u.%u with a "
		    "full-downtime upgrade instead", f, t, from->major, from->minor,
		    to->major, to->minor);
	else if (to->patch == from->patch)
		snprintf(why, whylen, "%s -> %s: both are bug-fix release %u.%u.%u (only the "
		    "qualifier differs); a rolling upgrade needs a higher patch number, "
		    "such as %u.%u.%u", f, t, to->major, to->minor, to->patch,
		    to->major, to->minor, to->patch + 1);
	else
		return 0;
	return -1;
}
