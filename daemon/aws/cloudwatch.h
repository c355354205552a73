/*
 * The CloudWatch calls of the upgrade (API 2010-08-01, Query protocol):
 * GetMetricData, for the CPU of every node in one call (the tie-break of "least
 * busy first"), and DescribeAlarms, for the states of the group's alarms before
 * their actions are resumed. Request builders (pure), typed results with their
 * parsers (pure, strict on shape, bounded), and operations on the client.
 *
 * Never reports missing data as a number: an instance without datapoints (just
 * launched, or basic monitoring lagging) is "no data", not 0 % busy.
 */
#ifndef BB_AWS_CLOUDWATCH_H
#define BB_AWS_CLOUDWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

#define AWS_CW_MAX_QUERIES	500	/* metrics of one GetMetricData (the model) */
#define AWS_CW_MAX_POINTS	1440	/* datapoints of one series */
#define AWS_CW_MAX_ALARMS	100
#define AWS_CW_CPU_WINDOW_MAX	86400	/* seconds: a CPU window is minutes */

/* --- GetMetricData -------------------------------------------------------- */

/* One metric with at most one dimension: all the upgrade asks for. */
struct aws_cw_metric_query {
	const char	*id;		/* [a-z][a-zA-Z0-9_]*: the key of its answer */
	const char	*ns;		/* "AWS/EC2" */
	const char	*metric;	/* "CPUUtilization" */
	const char	*dim_name;	/* "InstanceId", or NULL */
	const char	*dim_value;
	int		 period;	/* seconds, a multiple of 60 */
	const char	*stat;		/* "Average", "Maximum", ... */
	const char	*unit;		/* or NULL */
	const char	*label;		/* or NULL */
	bool		 return_data;
};

/* scan_by: "TimestampDescending", "TimestampAscending" or NULL. */
int	aws_cw_get_metric_data_query(struct aws_query *q,
	    const struct aws_cw_metric_query *mq, size_t n, time_t start, time_t end,
	    const char *scan_by);

struct aws_cw_series {
	char	 id[AWS_NAME_MAX + 1];
	char	 label[AWS_NAME_MAX + 1];
	char	 status[AWS_ENUM_MAX + 1];	/* Complete, PartialData, ... */
	int64_t	*times;				/* ms, in the answer's order */
	double	*values;
	size_t	 n;
};

struct aws_cw_metric_data {
	struct aws_cw_series	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

int	aws_cw_parse_get_metric_data(const xmlNode *result,
	    struct aws_cw_metric_data *out, char *err, size_t errlen);
void	aws_cw_metric_data_free(struct aws_cw_metric_data *);

/*
 * CPU of instances: one query per instance, ids "i0", "i1", ... in the order
 * given, CPUUtilization Average over [start, end) in one period (the window
 * rounded up to whole minutes).
 */
int	aws_cw_cpu_query(struct aws_query *q, const char *const *ids, size_t n,
	    time_t start, time_t end);

struct aws_cw_cpu {
	char	 instance_id[AWS_ID_MAX + 1];
	bool	 has_data;		/* false: "no data", never 0 % */
	double	 average;		/* the datapoints' mean, if has_data */
	size_t	 npoints;
	int64_t	 latest_ms;		/* the newest datapoint, if has_data */
	char	 status[AWS_ENUM_MAX + 1];	/* "" if the answer had no series */
};

struct aws_cw_cpus {
	struct aws_cw_cpu	*items;	/* in the order of the ids */
	size_t			 n;
};

/* Sets out up for ids (no data yet). -1 if too many, an id too long, or no memory. */
int	aws_cw_cpus_init(struct aws_cw_cpus *out, const char *const *ids, size_t n);
/* Fills out (from aws_cw_cpus_init()) from the answer to aws_cw_cpu_query(). */
void	aws_cw_cpus_fill(struct aws_cw_cpus *out, const struct aws_cw_metric_data *);
void	aws_cw_cpus_free(struct aws_cw_cpus *);

typedef void	(*aws_cw_cpus_cb)(const struct aws_result *, const struct aws_cw_cpus *,
		    void *arg);
struct aws_op	*aws_cw_get_cpu(struct aws_client *, const char *const *ids, size_t n,
		    time_t start, time_t end, aws_cw_cpus_cb, void *arg);

/* --- DescribeAlarms ------------------------------------------------------- */

struct aws_cw_alarm {
	char	 name[AWS_NAME_MAX + 1];
	char	 state[AWS_ENUM_MAX + 1];	/* OK, ALARM, INSUFFICIENT_DATA */
	char	 reason[AWS_TEXT_MAX + 1];
	int64_t	 updated_ms;			/* StateUpdatedTimestamp, 0 if absent */
	bool	 actions_enabled;
};

struct aws_cw_alarms {
	struct aws_cw_alarm	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

/* names: 1 to AWS_CW_MAX_ALARMS; max_records 0: AWS's default. */
int	aws_cw_describe_alarms_query(struct aws_query *q, const char *const *names,
	    size_t n, int max_records, const char *next);
int	aws_cw_parse_describe_alarms(const xmlNode *result, struct aws_cw_alarms *out,
	    char *err, size_t errlen);
void	aws_cw_alarms_free(struct aws_cw_alarms *);
typedef void	(*aws_cw_alarms_cb)(const struct aws_result *,
		    const struct aws_cw_alarms *, void *arg);
/* The metric alarms of those names (one page: MaxRecords is n). */
struct aws_op	*aws_cw_describe_alarms(struct aws_client *, const char *const *names,
		    size_t n, aws_cw_alarms_cb, void *arg);

#endif
