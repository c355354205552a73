/*
 * The control protocol's methods (see methods.h and schema/io.bbupgraded.varlink).
 * Handlers only read state or ask the engine; the checks before them are table-driven
 * so that every method gets the same treatment of bad parameters and permissions.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/varlink.h"
#include "daemon/embedded.h"
#include "daemon/methods.h"
#include "daemon/store.h"

#define IFACE_SERVICE	"org.varlink.service"
#define IFACE_OURS	"io.bbupgraded"

/* The standard interface every varlink service implements, as its specification gives it. */
static const char service_idl[] =
"# The Varlink Service Interface is provided by every varlink service. It\n"
"# describes the service and the interfaces it implements.\n"
"interface org.varlink.service\n"
"\n"
"# Get a list of all the interfaces a service provides and information\n"
"# about the implementation.\n"
"method GetInfo() -> (\n"
"  vendor: string,\n"
"  product: string,\n"
"  version: string,\n"
"  url: string,\n"
"  interfaces: []string\n"
")\n"
"\n"
"# Get the description of an interface that is implemented by this service.\n"
"method GetInterfaceDescription(interface: string) -> (description: string)\n"
"\n"
"# The requested interface was not found.\n"
"error InterfaceNotFound (interface: string)\n"
"\n"
"# The requested method was not found\n"
"error MethodNotFound (method: string)\n"
"\n"
"# The interface defines the requested method, but the service does not\n"
"# implement it.\n"
"error MethodNotImplemented (method: string)\n"
"\n"
"# One of the passed parameters is invalid.\n"
"error InvalidParameter (parameter: string)\n"
"\n"
"# Client is denied access\n"
"error PermissionDenied ()\n"
"\n"
"# Method is expected to be called with 'more' set to true, but wasn't\n"
"error ExpectedMore ()\n";

struct param {
	const char	*name;
	json_type	 type;
	bool		 required;
};

struct method {
	const char	*name;
	bool		 mutating;
	const struct param *params;	/* NULL-name terminated */
	json_t		*(*handler)(json_t *params, const struct peer *);
};

static struct {
	const struct config	*cfg;
	struct store		*store;
	uint64_t		 started;	/* uv_hrtime() at init */
} m;

void
methods_init(const struct config *cfg, struct store *store)
{
	m.cfg = cfg;
	m.store = store;
	m.started = uv_hrtime();
}

static json_t *
error_reply(enum vl_error e, const char *value)
{
	const struct vl_error_info *info = vl_error_info(e);
	json_t *params = json_object();

	if (info->param != NULL)
		json_object_set_new(params, info->param, json_string(value ? value : ""));
	return vl_error_new(info->name, params);
}

static json_t *
get_info(json_t *params, const struct peer *p)
{
	return vl_reply_new(json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}",
	    "vendor", "bbupgraded", "product", "bbupgraded", "version", BB_VERSION,
	    "url", "man:bbupgraded(8)", "interfaces", IFACE_SERVICE, IFACE_OURS), false);
}

static json_t *
get_interface_description(json_t *params, const struct peer *p)
{
	const char *iface = json_string_value(json_object_get(params, "interface"));
	const char *idl = NULL;

	if (strcmp(iface, IFACE_SERVICE) == 0)
		idl = service_idl;
	else if (strcmp(iface, IFACE_OURS) == 0)
		idl = embedded_varlink_idl;
	if (idl == NULL)
		return error_reply(VLE_INTERFACE_NOT_FOUND, iface);
	return vl_reply_new(json_pack("{s:s}", "description", idl), false);
}

static json_t *
iso8601_ms(int64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *
upgrade_json(const struct upgrade_summary *u)
{
	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:o, s:o}",
	    "id", (json_int_t)u->id, "deployment", u->deployment,
	    "from_version", u->from_version[0] ? json_string(u->from_version) : json_null(),
	    "to_version", u->to_version, "state", u->state, "phase", u->phase,
	    "started", iso8601_ms(u->created_at),
	    "finished", u->finished_at ? iso8601_ms(u->finished_at) : json_null());
}

static json_t *
status(json_t *params, const struct peer *p)
{
	struct upgrade_summary u;
	json_t *deps = json_array();
	int rc;

	for (size_t i = 0; i < m.cfg->ndeployments; i++) {
		const struct deployment *d = &m.cfg->deployments[i];
		json_array_append_new(deps, json_pack("{s:s, s:s, s:s, s:s, s:i}",
		    "name", d->name, "region", d->region, "stack", d->stack,
		    "bitbucket_url", d->bitbucket_url, "surge", d->surge));
	}
	if ((rc = store_latest_upgrade(m.store, &u)) == -1) {
		json_decref(deps);
		return error_reply(BBE_INTERNAL, "cannot read the state database");
	}
	return vl_reply_new(json_pack("{s:s, s:i, s:I, s:o, s:o}",
	    "version", BB_VERSION, "pid", (int)getpid(),
	    "uptime_seconds", (json_int_t)((uv_hrtime() - m.started) / 1000000000),
	    "deployments", deps, "upgrade", rc == 1 ? upgrade_json(&u) : json_null()),
	    false);
}

static const struct param no_params[] = { { NULL, 0, false } };
static const struct param interface_param[] = {
	{ "interface", JSON_STRING, true }, { NULL, 0, false }
};

static const struct method methods[] = {
	{ IFACE_SERVICE ".GetInfo", false, no_params, get_info },
	{ IFACE_SERVICE ".GetInterfaceDescription", false, interface_param,
	    get_interface_description },
	{ IFACE_OURS ".Status", false, no_params, status },
};

/* NULL if every parameter is known and well typed, else the name of the first bad one. */
static const char *
bad_parameter(const struct method *meth, json_t *params)
{
	const struct param *p;
	const char *key;
	json_t *v;

	json_object_foreach(params, key, v) {
		for (p = meth->params; p->name != NULL; p++)
			if (strcmp(p->name, key) == 0)
				break;
		if (p->name == NULL || (json_typeof(v) != p->type &&
		    !(json_is_null(v) && !p->required)))
			return key;
	}
	for (p = meth->params; p->name != NULL; p++)
		if (p->required && json_object_get(params, p->name) == NULL)
			return p->name;
	return NULL;
}

static json_t *
not_found(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t ilen = dot ? (size_t)(dot - name) : 0;
	char iface[256];

	if (ilen > 0 && ilen < sizeof(iface) &&
	    strncmp(name, IFACE_SERVICE ".", ilen + 1) != 0 &&
	    strncmp(name, IFACE_OURS ".", ilen + 1) != 0) {
		memcpy(iface, name, ilen);
		iface[ilen] = '\0';
		return error_reply(VLE_INTERFACE_NOT_FOUND, iface);
	}
	return error_reply(VLE_METHOD_NOT_FOUND, name);
}

json_t *
methods_call(const struct vl_call *call, const struct peer *peer)
{
	const struct method *meth = NULL;
	const char *bad;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, call->method) == 0)
			meth = &methods[i];
	if (meth == NULL)
		return not_found(call->method);
	if ((bad = bad_parameter(meth, call->parameters)) != NULL)
		return error_reply(VLE_INVALID_PARAMETER, bad);
	if (meth->mutating && !peer->can_mutate) {
		log_info("control: pid %ld uid %lu may not call %s", (long)peer->pid,
		    (unsigned long)peer->uid, meth->name);
		return error_reply(VLE_PERMISSION_DENIED, NULL);
	}
	log_debug("control: pid %ld calls %s", (long)peer->pid, meth->name);
	return meth->handler(call->parameters, peer);
}
