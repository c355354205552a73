/* Syntax checks of configuration values (see syntax.h). */
#include <ctype.h>
#include <string.h>

#include "common/syntax.h"

#define ALNUM	SYNTAX_ALNUM

int
syntax_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* 1 to 9 digits, no sign: enough for every range here, and no overflow. */
const char *
syntax_digits(const char *s, long long *out)
{
	long long v = 0;
	int n;

	for (n = 0; isdigit((unsigned char)s[n]); n++) {
		if (n == 9)
			return NULL;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0)
		return NULL;
	*out = v;
	return s + n;
}

static size_t
span_lower(const char *s)
{
	size_t n = 0;

	while (s[n] >= 'a' && s[n] <= 'z')
		n++;
	return n;
}

/* "-[a-z]+-[0-9]" and the end of the string. */
static int
region_tail(const char *s)
{
	size_t n;

	if (*s++ != '-' || (n = span_lower(s)) == 0)
		return 0;
	s += n;
	return s[0] == '-' && isdigit((unsigned char)s[1]) && s[2] == '\0';
}

/* [a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]: eu-west-1, us-gov-west-1, us-isob-east-1 */
int
syntax_region(const char *s)
{
	if (span_lower(s) < 2 || s[2] != '-')
		return 0;
	s += 2;
	if (region_tail(s))
		return 1;
	if (strncmp(s, "-gov", 4) == 0)
		return region_tail(s + 4);
	if (strncmp(s, "-iso", 4) == 0)
		return region_tail(s + 4 + span_lower(s + 4));
	return 0;
}

/* [A-Za-z][A-Za-z0-9-]{0,127}, as CloudFormation requires. */
int
syntax_stack(const char *s)
{
	size_t n;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (n = 1; isalnum((unsigned char)s[n]) || s[n] == '-'; n++)
		;
	return s[n] == '\0' && n <= 128;
}

int
syntax_group(const char *s)
{
	size_t n = strspn(s, ALNUM "_.-");

	return (isalpha((unsigned char)s[0]) || s[0] == '_') && n <= 32 && s[n] == '\0';
}

int
syntax_profile(const char *s)
{
	size_t n = strspn(s, ALNUM "_.-");

	return n > 0 && n <= 128 && s[n] == '\0';
}

/* HTTP Basic joins user and password with ':', so a ':' in the user breaks it. */
int
syntax_user(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && !syntax_has_control(s) && strpbrk(s, ": \t") == NULL;
}

/* A DNS name (or an IPv4 address): dot-separated labels of [A-Za-z0-9-]. */
static int
valid_hostname(const char *h, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)h[i]) || (h[i] == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0 && h[len - 1] != '-';
}

/* host[:port] or [IPv6][:port], in [h, end). */
static const char *
authority_problem(const char *h, const char *end)
{
	const char *colon, *hend, *s;
	long long port;

	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL || hend == h + 1)
			return "bad IPv6 address";
		for (s = h + 1; s < hend; s++)
			if (!isxdigit((unsigned char)*s) && *s != ':' && *s != '.')
				return "bad IPv6 address";
		colon = ++hend < end ? hend : NULL;
		if (colon != NULL && *colon != ':')
			return "bad IPv6 address";
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = colon != NULL ? colon : end;
		if (!valid_hostname(h, (size_t)(hend - h)))
			return "bad host name";
	}
	if (colon == NULL)
		return NULL;
	s = syntax_digits(colon + 1, &port);
	if (s != end || port < 1 || port > 65535)
		return "bad port";
	return NULL;
}

/* RFC 3986 path characters: unreserved, sub-delims, ':', '@', '/', and %XX. */
static int
valid_url_path(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%') {
			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
				return 0;
			s += 2;
		} else if (!isalnum((unsigned char)*s) && strchr("-._~!$&'()*+,;=:@/", *s) == NULL)
			return 0;
	}
	return 1;
}

/*
 * No user@: credentials belong in token_file or password_file, not in a file that is
 * often world-readable and in messages that quote it. No query or fragment: we append
 * API paths to the URL.
 */
const char *
syntax_url_problem(const char *u, size_t *pathoff)
{
	const char *h, *end, *why;

	if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		h = u + 7;
	else
		return "the scheme must be http:// or https://";
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return "no user@ in the URL: use token_file or password_file";
	if (strpbrk(u, "?#") != NULL)
		return "no query or fragment";
	if (end == h)
		return "no host";
	if ((why = authority_problem(h, end)) != NULL)
		return why;
	if (!valid_url_path(end))
		return "character not allowed in the path";
	*pathoff = (size_t)(end - u);
	return NULL;
}

int
syntax_credential(const char *s)
{
	size_t n = strspn(s, ALNUM "_.@:-");

	return s[n] == '\0' && n <= 255 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}
