/* The table of control-protocol errors (see errors.h). */
#include <string.h>

#include "common/errors.h"

static const struct vl_error_info errors[VLE_NERRORS] = {
	[VLE_INTERFACE_NOT_FOUND] = { "org.varlink.service.InterfaceNotFound",
	    "interface", "the daemon does not implement interface %s" },
	[VLE_METHOD_NOT_FOUND] = { "org.varlink.service.MethodNotFound",
	    "method", "the daemon does not know method %s (is bbctl newer than bbupgraded?)" },
	[VLE_METHOD_NOT_IMPLEMENTED] = { "org.varlink.service.MethodNotImplemented",
	    "method", "method %s is not implemented by this daemon" },
	[VLE_INVALID_PARAMETER] = { "org.varlink.service.InvalidParameter",
	    "parameter", "invalid parameter: %s" },
	[VLE_PERMISSION_DENIED] = { "org.varlink.service.PermissionDenied",
	    NULL, "permission denied: this command needs root or the daemon's control_group" },
	[VLE_EXPECTED_MORE] = { "org.varlink.service.ExpectedMore",
	    NULL, "this method streams its replies: call it with \"more\": true" },
	[BBE_INVALID_REQUEST] = { "io.bbupgraded.InvalidRequest",
	    "reason", "the daemon could not read the request: %s" },
	[BBE_INTERNAL] = { "io.bbupgraded.InternalError",
	    "reason", "the daemon failed: %s (see its log: journalctl -u bbupgraded)" },
	[BBE_NO_SUCH_DEPLOYMENT] = { "io.bbupgraded.NoSuchDeployment",
	    "deployment", "no deployment named %s in the daemon's configuration "
	    "(see bbctl status)" },
	[BBE_UPGRADE_IN_PROGRESS] = { "io.bbupgraded.UpgradeInProgress",
	    "deployment", "an upgrade of %s is already running: watch it with bbctl "
	    "watch, or stop it with bbctl cancel or rollback" },
	[BBE_NO_UPGRADE] = { "io.bbupgraded.NoUpgrade",
	    NULL, "no upgrade is running" },
	[BBE_NO_SUCH_UPGRADE] = { "io.bbupgraded.NoSuchUpgrade",
	    "id", "no upgrade number %s (see bbctl history)" },
	[BBE_NOT_ALLOWED] = { "io.bbupgraded.NotAllowed",
	    "reason", "not now: %s" },
	[BBE_PREFLIGHT_FAILED] = { "io.bbupgraded.PreflightFailed",
	    "summary", "the cluster is not ready for a rolling upgrade: %s" },
};

const struct vl_error_info *
vl_error_info(enum vl_error e)
{
	return &errors[e];
}

const char *
vl_error_name(enum vl_error e)
{
	return errors[e].name;
}

const struct vl_error_info *
vl_error_lookup(const char *name)
{
	for (int i = 0; i < VLE_NERRORS; i++)
		if (name != NULL && strcmp(errors[i].name, name) == 0)
			return &errors[i];
	return NULL;
}
