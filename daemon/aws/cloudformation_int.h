/*
 * What cloudformation.c and cloudformation_changeset.c share: the capabilities'
 * names, in the order of their AWS_CFN_CAP_* bits (read from DescribeStacks and
 * GetTemplateSummary, sent with CreateChangeSet).
 */
#ifndef BB_AWS_CLOUDFORMATION_INT_H
#define BB_AWS_CLOUDFORMATION_INT_H

static const char *const capabilities[] = {
	"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND",
};
#define NCAPS	(sizeof(capabilities) / sizeof(capabilities[0]))

#endif
