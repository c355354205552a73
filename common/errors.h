/*
 * Every error the control protocol can return: one table shared by the daemon (which
 * sends the name) and bbctl (which explains it to the operator). The names and their
 * parameters are declared in schema/io.bbupgraded.varlink.
 */
#ifndef BB_ERRORS_H
#define BB_ERRORS_H

enum vl_error {
	VLE_INTERFACE_NOT_FOUND,	/* parameter: interface */
	VLE_METHOD_NOT_FOUND,		/* parameter: method */
	VLE_METHOD_NOT_IMPLEMENTED,	/* parameter: method */
	VLE_INVALID_PARAMETER,		/* parameter: parameter */
	VLE_PERMISSION_DENIED,
	VLE_EXPECTED_MORE,
	BBE_INVALID_REQUEST,		/* parameter: reason (a malformed message) */
	BBE_INTERNAL,			/* parameter: reason */
	BBE_NO_SUCH_DEPLOYMENT,		/* parameter: deployment */
	BBE_UPGRADE_IN_PROGRESS,	/* parameters: deployment, id */
	BBE_NO_UPGRADE,			/* no upgrade is running */
	BBE_NO_SUCH_UPGRADE,		/* parameter: id (as a string) */
	BBE_NOT_ALLOWED,		/* parameter: reason (what to do instead) */
	BBE_PREFLIGHT_FAILED,		/* parameters: problems (array), summary */
	VLE_NERRORS
};

struct vl_error_info {
	const char	*name;		/* on the wire */
	const char	*param;		/* the parameter that explains it, or NULL */
	const char	*message;	/* for people; %s is the parameter's value */
};

const struct vl_error_info *vl_error_info(enum vl_error);
const char	*vl_error_name(enum vl_error);
/* The entry with that wire name, or NULL if the name is not ours. */
const struct vl_error_info *vl_error_lookup(const char *name);

#endif
