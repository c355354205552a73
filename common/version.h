/*
 * Bitbucket versions ("7.9.4", "8.19.0-rc1") and the rolling-upgrade rule: a cluster may
 * only be upgraded node by node to a bug-fix release of the same feature version
 * (same major.minor, strictly higher patch).
 */
#ifndef BB_VERSION_H
#define BB_VERSION_H

#include <stddef.h>

#define VERSION_QUALIFIER_MAX	32

struct bb_version {
	unsigned	 major;
	unsigned	 minor;
	unsigned	 patch;
	char		 qualifier[VERSION_QUALIFIER_MAX];	/* "" or e.g. "rc1" (after '-') */
};

/* Parses "MAJOR.MINOR.PATCH[-QUALIFIER]"; 0 on success, -1 on anything else. */
int	version_parse(const char *, struct bb_version *);
/* Formats back into buf; returns buf. */
char	*version_format(const struct bb_version *, char *buf, size_t len);
/* <0, 0, >0 like strcmp; a pre-release sorts before its release (7.9.4-rc1 < 7.9.4). */
int	version_cmp(const struct bb_version *, const struct bb_version *);
/*
 * 0 if a rolling upgrade from -> to is allowed; otherwise -1 with a sentence in why
 * saying what is wrong and what the operator can do.
 */
int	version_rolling_ok(const struct bb_version *from, const struct bb_version *to,
	    char *why, size_t whylen);

#endif
