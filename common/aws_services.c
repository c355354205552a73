/* The table of AWS services (see aws_services.h). */
#include <stddef.h>

#include "common/aws_services.h"

static const struct aws_service_info services[AWS_SERVICE_COUNT] = {
	[AWS_CLOUDFORMATION] = { "CloudFormation", "cloudformation", "cloudformation",
	    "2010-05-15", "http://cloudformation.amazonaws.com/doc/2010-05-15/",
	    "CLOUDFORMATION", AWS_PROTO_QUERY },
	[AWS_AUTOSCALING] = { "Auto Scaling", "autoscaling", "autoscaling",
	    "2011-01-01", "http://autoscaling.amazonaws.com/doc/2011-01-01/",
	    "AUTO_SCALING", AWS_PROTO_QUERY },
	/* The model writes EC2's namespace without the trailing slash. */
	[AWS_EC2] = { "EC2", "ec2", "ec2",
	    "2016-11-15", "http://ec2.amazonaws.com/doc/2016-11-15",
	    "EC2", AWS_PROTO_EC2 },
	[AWS_CLOUDWATCH] = { "CloudWatch", "monitoring", "monitoring",
	    "2010-08-01", "http://monitoring.amazonaws.com/doc/2010-08-01/",
	    "CLOUDWATCH", AWS_PROTO_QUERY },
	[AWS_ELB] = { "Elastic Load Balancing", "elasticloadbalancing",
	    "elasticloadbalancing",
	    "2012-06-01", "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
	    "ELASTIC_LOAD_BALANCING", AWS_PROTO_QUERY },
	[AWS_ELBV2] = { "Elastic Load Balancing v2", "elasticloadbalancing",
	    "elasticloadbalancing",
	    "2015-12-01", "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
	    "ELASTIC_LOAD_BALANCING_V2", AWS_PROTO_QUERY },
	/* STS (like IAM) uses an https namespace. */
	[AWS_STS] = { "STS", "sts", "sts",
	    "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/",
	    "STS", AWS_PROTO_QUERY },
};

const struct aws_service_info *
aws_service_info(enum aws_service svc)
{
	if ((unsigned)svc >= AWS_SERVICE_COUNT)
		return NULL;
	return &services[svc];
}
