/*
 * The CPU cost of one AWS call without the network: build and encode the request
 * (DescribeAutoScalingGroups), sign it (SigV4), parse the answer into the typed result. Prints the median and the 99th percentile over many calls.
 * Usage: bench_aws [ITERATIONS] (make bench-aws)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sigv4.h"
#include "daemon/aws/autoscaling.h"
#include "daemon/aws/query.h"
#include "daemon/aws/xml.h"

static size_t ninstances;	/* in the answer, for the report */

#define ANSWER	"tests/fixtures/aws/responses/asg-DescribeAutoScalingGroups.xml"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(1 << 20);

	if (f == NULL || buf == NULL) {
		fprintf(stderr, "bench_aws: %s: cannot read (run from the repo root)\n", path);
		exit(1);
	}
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One call's CPU work; returns 0 if every stage succeeded. */
static int
one_call(const char *answer, size_t alen)
{
	const char *group = "bitbucket-prod-ClusterNodeGroup-1ABCDEF";
	struct sigv4_header hdrs[] = {
		{ "Host", "autoscaling.eu-west-1.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct sigv4_params p = { "eu-west-1", "autoscaling", "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 1764400000, 0 };
	struct sigv4_request req = { "POST", "/", NULL, hdrs, 2, NULL, 0 };
	struct aws_asg_groups groups;
	struct sigv4_signed sig;
	struct aws_query q;
	char *body, err[256];
	size_t blen;
	xmlDoc *doc;
	int rc = -1;

	if (aws_query_init(&q, AWS_AUTOSCALING, "DescribeAutoScalingGroups") == -1 ||
	    aws_asg_describe_auto_scaling_groups_query(&q, &group, 1, 0, NULL) == -1 ||
	    aws_query_encode(&q, &body, &blen) == -1)
		return -1;
	req.body = body;
	req.bodylen = blen;
	if (sigv4_sign(&req, &p, &sig) == 0) {
		sigv4_signed_free(&sig);
		if ((doc = aws_xml_parse(answer, alen, err, sizeof(err))) != NULL) {
			rc = aws_asg_parse_describe_auto_scaling_groups(aws_xml_result(doc,
			    "DescribeAutoScalingGroups"), &groups, err, sizeof(err));
			if (rc == 0) {
				ninstances = groups.n ? groups.items[0].ninstances : 0;
				aws_asg_groups_free(&groups);
			}
			aws_xml_free(doc);
		}
	}
	free(body);
	aws_query_free(&q);
	return rc;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	double *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t)), t0;
	size_t alen;
	char *answer = slurp(ANSWER, &alen);

	if (n <= 0 || t == NULL)
		return 2;
	aws_xml_init();
	for (int i = 0; i < 1000; i++)	/* warm-up */
		one_call(answer, alen);
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		if (one_call(answer, alen) == -1) {
			fprintf(stderr, "bench_aws: a stage failed\n");
			return 1;
		}
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("AWS call CPU cost (encode + sign + parse DescribeAutoScalingGroups, %zu "
	    "instances), %d calls: median %.1f us, p99 %.1f us\n", ninstances, n,
	    t[n / 2], t[n * 99 / 100]);
	aws_xml_shutdown();
	free(answer);
	free(t);
	return 0;
}
