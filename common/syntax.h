/*
 * Syntax checks of the names and URLs a configuration holds (AWS regions, stack names,
 * groups, profiles, users, credential names, Bitbucket URLs). Pure functions of their
 * argument: 1 (or NULL for syntax_url_problem) when the text is well formed.
 */
#ifndef BB_SYNTAX_H
#define BB_SYNTAX_H

#include <stddef.h>

#define SYNTAX_ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

int	 syntax_has_control(const char *);
/* 1 to 9 digits, no sign, into *out; the end of the digits, or NULL. */
const char *syntax_digits(const char *, long long *out);
int	 syntax_region(const char *);
int	 syntax_stack(const char *);
int	 syntax_group(const char *);
int	 syntax_profile(const char *);
int	 syntax_user(const char *);
int	 syntax_credential(const char *);
/* NULL if u is an acceptable http(s) URL (*pathoff: where its path starts), else why. */
const char *syntax_url_problem(const char *u, size_t *pathoff);

#endif
