/*
 * What http.c and http_policy.c share: where a plain-http call may go, and the URL
 * check whose parsed result is the very URL curl is given (so what was checked is
 * what is requested).
 */
#ifndef BB_HTTP_INT_H
#define BB_HTTP_INT_H

#include <sys/socket.h>

#include <curl/curl.h>

#include "daemon/http.h"

/* Where a plain-http call may go; HTTP_PLAIN_NO is https (or, for a URL, "nowhere"). */
enum http_plain {
	HTTP_PLAIN_NO,
	HTTP_PLAIN_LOOPBACK,
	HTTP_PLAIN_METADATA
};

/* Parses and checks url; on success *up is what curl will use, unchanged. */
enum http_error	 http_url_check(const char *url, CURLU **up, enum http_plain *plain,
		    char *why, size_t whylen);
/* What kind of place a peer address is, for plain http. */
enum http_plain	 http_sockaddr_kind(const struct sockaddr *);

#endif
