/*
 * The AWS services we call, as their botocore models describe them: API version, XML
 * namespace, endpoint prefix, signing name, the AWS_ENDPOINT_URL_<SERVICE> suffix and
 * the protocol. Shared by the configuration (endpoint overrides), the daemon's AWS client
 * and bbsim, so that all three agree on every name.
 */
#ifndef BB_AWS_SERVICES_H
#define BB_AWS_SERVICES_H

enum aws_service {
	AWS_CLOUDFORMATION,
	AWS_AUTOSCALING,
	AWS_EC2,
	AWS_CLOUDWATCH,
	AWS_ELB,		/* classic, 2012-06-01 */
	AWS_ELBV2,
	AWS_STS,
	AWS_SERVICE_COUNT
};

enum aws_protocol {
	AWS_PROTO_QUERY,	/* lists as Name.member.N */
	AWS_PROTO_EC2		/* lists flattened: Name.N */
};

/* From each botocore model's "metadata" (the model wins over any doc). */
struct aws_service_info {
	const char		*id;		/* serviceId: "Auto Scaling" */
	const char		*endpoint;	/* host label: autoscaling.<region>.amazonaws.com */
	const char		*signing;	/* SigV4 service name */
	const char		*version;	/* the Version parameter */
	const char		*xmlns;		/* for bbsim; we match local names only */
	const char		*env;		/* AWS_ENDPOINT_URL_<env> */
	enum aws_protocol	 protocol;
};

/* The row for svc, or NULL if svc is out of range. */
const struct aws_service_info *aws_service_info(enum aws_service svc);

#endif
