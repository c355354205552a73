/*
 * The daemon's only HTTP client: libcurl's multi interface driven by the libuv loop,
 * every call asynchronous (STYLE.md 8). Nothing here ever blocks the loop.
 *
 * Safety rules that no caller can turn off:
 *  - TLS peer and host name verification are always on; there is no option to disable
 *    them (trust comes from the system CA store).
 *  - Redirects are never followed: a 3xx reaches the caller as it is.
 *  - Only http:// and https:// URLs. Plain http:// is allowed only to a loopback literal
 *    (127.0.0.0/8, [::1]), to "localhost", and to the link-local credential services
 *    (EC2 instance metadata 169.254.169.254 and [fd00:ec2::254], ECS container
 *    credentials 169.254.170.2, EKS Pod Identity 169.254.170.23 and [fd00:ec2::23],
 *    exactly those), and the address actually connected
 *    to is checked again at connect time (DNS for "localhost" could lie). Anything else
 *    fails with HTTP_ERR_POLICY before a single packet is sent.
 *  - Proxies: libcurl honours http_proxy, https_proxy, all_proxy and no_proxy from the
 *    environment, and so do we for https://. Plain http:// calls (loopback, metadata
 *    service) never go through a proxy: a proxy would reach its own loopback, and the
 *    metadata service answers only the instance itself.
 *
 * Callbacks and lifetimes (the exact rule):
 *  - http_request() returns NULL only if the module is not initialised or req or cb
 *    is NULL (nothing happens then). Otherwise it returns a handle, and the completion
 *    callback then runs exactly once, always from the loop, never from inside
 *    http_request(), http_cancel() or http_shutdown(). A request refused before any
 *    traffic (policy, invalid arguments) completes the same way, on a later loop
 *    iteration.
 *  - If http_cancel() is called before the callback has run, the callback still runs
 *    exactly once, later, with HTTP_ERR_CANCELLED (even if the answer had arrived in
 *    the meantime). So `arg` must stay valid until the callback runs: free what it
 *    points to in the callback, not after http_cancel().
 *  - The handle is valid until the callback returns; after that it must not be used
 *    (forget it in the callback). http_cancel() of the call whose callback is running
 *    does nothing.
 *  - The response and everything it points to are valid only during the callback.
 *  - The callback may call http_request(), http_cancel() and http_shutdown().
 *  - http_shutdown() cancels every call; each callback then runs once, cancelled, when
 *    the loop next runs. Run the loop until it returns, then uv_loop_close() succeeds.
 *    After http_shutdown(), http_request() returns NULL until http_init() is called
 *    again (with the previous loop run to completion).
 *
 * http_init() sets SIGPIPE to ignored: with CURLOPT_NOSIGNAL (no alarm() for DNS)
 * libcurl no longer masks it, and a TLS write to a closed connection would raise it.
 *
 * The debug trace (log level debug) shows request and status lines, headers and sizes,
 * never bodies, with credentials replaced by "<redacted>" (http_redact_header()).
 */
#ifndef BB_HTTP_H
#define BB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define HTTP_CONNECT_TIMEOUT_MS	10000
#define HTTP_TIMEOUT_MS		60000
#define HTTP_LOW_SPEED_LIMIT	1		/* bytes/s ... */
#define HTTP_LOW_SPEED_TIME	30		/* ... for this many seconds: abort */
#define HTTP_MAX_RESPONSE	(16u << 20)	/* bytes of response body */

enum http_error {
	HTTP_ERR_NONE,		/* an HTTP answer arrived, whatever its status */
	HTTP_ERR_TIMEOUT,	/* connect, total or low-speed timeout */
	HTTP_ERR_CONNECT,	/* could not resolve or connect (refused, unreachable) */
	HTTP_ERR_RESET,		/* reset, or closed before the answer was whole */
	HTTP_ERR_TLS,		/* handshake or certificate verification failed */
	HTTP_ERR_TOO_LARGE,	/* body larger than max_response */
	HTTP_ERR_POLICY,	/* refused by our rules, nothing was sent */
	HTTP_ERR_CANCELLED,	/* http_cancel() or http_shutdown() */
	HTTP_ERR_INVALID,	/* bad URL, method or header: a bug of the caller */
	HTTP_ERR_OTHER,
	HTTP_ERR_COUNT
};

struct http_req {
	const char		*method;	/* NULL: "GET" */
	const char		*url;
	const char *const	*headers;	/* "Name: value", copied */
	size_t			 nheaders;
	const void		*body;		/* copied */
	size_t			 body_len;
	long			 connect_timeout_ms;	/* 0: HTTP_CONNECT_TIMEOUT_MS */
	long			 timeout_ms;		/* 0: HTTP_TIMEOUT_MS */
	long			 low_speed_limit;	/* 0: HTTP_LOW_SPEED_LIMIT */
	long			 low_speed_time;	/* 0: HTTP_LOW_SPEED_TIME */
	size_t			 max_response;		/* 0: HTTP_MAX_RESPONSE */
};

/* Valid only during the callback. Header fields are NULL when absent. */
struct http_response {
	long		 status;	/* 0 unless error == HTTP_ERR_NONE */
	const char	*body;		/* NUL-terminated; "" on error */
	size_t		 body_len;
	const char	*date;			/* Date */
	const char	*amzn_request_id;	/* x-amzn-RequestId */
	const char	*amz_request_id;	/* x-amz-request-id (S3) */
	const char	*content_type;		/* Content-Type */
	const char	*retry_after;		/* Retry-After */
	const char	*location;		/* Location (never followed) */
	enum http_error	 error;
	const char	*message;	/* for humans; "" when error == HTTP_ERR_NONE */
	uint64_t	 elapsed_ms;
};

typedef void	(*http_cb)(const struct http_response *, void *arg);

struct http_call;

/* Counters since http_init(), for benchmarks and Status. */
struct http_stats {
	uint64_t	 started;	/* handles returned by http_request() */
	uint64_t	 completed;	/* callbacks run */
	uint64_t	 failed;	/* ... with an error other than cancelled */
	uint64_t	 cancelled;
	uint64_t	 sockets;	/* sockets opened: connection attempts */
	uint64_t	 bytes_sent;	/* request bodies */
	uint64_t	 bytes_received;	/* response bodies */
	unsigned	 active;	/* calls in flight now */
};

int		 http_init(uv_loop_t *);
void		 http_shutdown(void);
struct http_call *http_request(const struct http_req *, http_cb, void *arg);
void		 http_cancel(struct http_call *);
const char	*http_error_name(enum http_error);
void		 http_get_stats(struct http_stats *);

/*
 * Pure functions, exported for the tests.
 * http_redact_header(): copies one header or request line (up to CR/LF) to out, the
 * value of a credential header and credential query parameters (presigned URLs)
 * replaced by "<redacted>". Returns 0, or -1 if out was too small (out is still a
 * NUL-terminated prefix that leaks nothing).
 * http_url_policy(): HTTP_ERR_NONE if url may be requested, else HTTP_ERR_POLICY or
 * HTTP_ERR_INVALID with the reason in why.
 * http_plain_peer_allowed(): whether a plain-http call to url may connect to peer.
 */
int		 http_redact_header(const char *line, char *out, size_t outsz);
enum http_error	 http_url_policy(const char *url, char *why, size_t whylen);
bool		 http_plain_peer_allowed(const char *url, const struct sockaddr *peer);

#endif
