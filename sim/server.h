/*
 * bbsim's HTTP front: libmicrohttpd bound to 127.0.0.1 and nothing else, with one
 * internal polling thread, so every handler runs serialised and the model needs no
 * lock. Handlers never see libmicrohttpd: they turn a struct sim_req into a struct
 * sim_resp, which is also how the unit tests drive them.
 *
 * Routes: "/" (POST, or GET with a query) to the AWS front door (auth.c), "/latest/"
 * to the instance metadata service (imds.c), "/_sim/" to the admin API (admin*.c),
 * "/rest/zdu/" and "/status", under Bitbucket's context path, to bitbucket_api.c.
 * Before any of them, the model is run up to the request's virtual time (sim_tick).
 */
#ifndef BB_SIM_SERVER_H
#define BB_SIM_SERVER_H

#include <stddef.h>

#include <jansson.h>

#define SIM_MAX_BODY		(1024 * 1024)	/* request body; beyond: 413 */
#define SIM_MAX_HEADERS		64		/* request headers kept */
#define SIM_RESP_MAX_HEADERS	8
#define SIM_CONN_LIMIT		128		/* simultaneous connections */
#define SIM_CONN_TIMEOUT	30		/* idle seconds */
#define SIM_CONN_MEMORY		(64 * 1024)	/* per connection: the headers */
#define SIM_MAX_DELAY_MS	60000		/* latency a fault may add */

struct sim;

struct sim_header {
	char	*name;
	char	*value;
};

/* A request as it came: everything raw, since SigV4 signs the bytes as sent. */
struct sim_req {
	char			*method;
	char			*uri;		/* the request-target, as sent */
	char			*path;		/* uri up to '?' */
	char			*query;		/* after '?', or NULL */
	struct sim_header	 hdr[SIM_MAX_HEADERS];
	size_t			 nhdr;
	char			*body;		/* NUL-terminated copy, or NULL */
	size_t			 bodylen;
};

/* What a network fault (a fault rule's "network") does to a connection. */
enum sim_net {
	SIM_NET_NONE,
	SIM_NET_NO_ANSWER,	/* held open, then closed without a byte */
	SIM_NET_RESET		/* aborted with a TCP RST */
};

#define SIM_HOLD_DEFAULT_MS	600000		/* how long no_answer holds */
#define SIM_HOLD_MAX_MS		3600000

/* A network fault on a response; kept by sim_resp_take(), as delay_ms is. */
struct sim_resp_fault {
	enum sim_net	 net;
	unsigned	 hold_ms;	/* NO_ANSWER: then the connection is dropped */
	int		 applied;	/* the operation ran before the fault hit */
	int		 status;	/* of the answer withheld (0: none was made) */
	char		 service[32];
	char		 action[64];
};

struct sim_resp {
	int			 status;	/* 0: nothing written yet */
	char			*body;
	size_t			 len;
	struct sim_header	 hdr[SIM_RESP_MAX_HEADERS];
	size_t			 nhdr;
	int			 chunked;	/* no Content-Length (EC2 does that) */
	unsigned		 delay_ms;	/* hold the answer back (a fault) */
	struct sim_resp_fault	 fault;		/* or send none at all */
};

/* Requests are built by the server, or by tests with these. 0, or -1 out of memory. */
int	sim_req_init(struct sim_req *, const char *method, const char *uri);
int	sim_req_add_header(struct sim_req *, const char *name, const char *value);
int	sim_req_set_body(struct sim_req *, const void *body, size_t len);
void	sim_req_free(struct sim_req *);
/* The first header of that name, compared without case, or NULL. */
const char *sim_req_header(const struct sim_req *, const char *name);

/* The header is copied; 0, or -1 when full or out of memory. */
int	sim_resp_header(struct sim_resp *, const char *name, const char *value);
/* body (malloc'ed) becomes the response's; ctype may be NULL. 0, or -1 (body freed). */
int	sim_resp_take(struct sim_resp *, int status, const char *ctype, char *body,
	    size_t len);
int	sim_resp_text(struct sim_resp *, int status, const char *ctype,
	    const char *text);
/* Pretty JSON and a newline; steals the reference to j. */
int	sim_resp_json(struct sim_resp *, int status, json_t *j);
/* {"error": message} with that status. */
int	sim_resp_json_error(struct sim_resp *, int status, const char *message);
void	sim_resp_free(struct sim_resp *);

/* Chooses the handler of a request (see above); always leaves a response in resp. */
void	sim_route(struct sim *, const struct sim_req *, struct sim_resp *);

/* Listens on 127.0.0.1:port (0: the kernel picks). 0, or -1 with the reason logged. */
int	sim_server_start(struct sim *, unsigned short port);
unsigned short sim_server_port(void);
/* Releases held responses, stops the thread, closes every connection. */
void	sim_server_stop(void);
/*
 * GET /_sim/held: the requests a no_answer fault holds now, oldest first:
 * [{"service", "action", "applied", "status", "held_ms"}]. [] without a server.
 */
json_t	*sim_server_held_json(void);

#endif
