/*
 * What the files of bbsim's CloudWatch share, and nothing else includes:
 * api_cloudwatch.c (GetMetricStatistics, GetMetricData, the operations' table),
 * api_cloudwatch_alarms.c (DescribeAlarms), api_cloudwatch_req.c (a request read
 * from the Query form or the JSON 1.0 body into one struct), api_cloudwatch_out.c
 * (the answer written as XML or as JSON) and api_cloudwatch_metric.c (the metric,
 * period by period, from the model's CPU history).
 */
#ifndef BB_SIM_API_CLOUDWATCH_INT_H
#define BB_SIM_API_CLOUDWATCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim/auth.h"
#include "sim/model.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define SIM_CW_DIMS_MAX		30
#define SIM_CW_STATS_MAX	10
#define SIM_CW_QUERIES_MAX	500
#define SIM_CW_NAMES_MAX	100
#define SIM_CW_OUT_DEPTH	12
#define SIM_CW_NS_EC2		"AWS/EC2"
#define SIM_CW_CPU		"CPUUtilization"

/* ---- the emitter: one answer, as XML (Query) or JSON (api_cloudwatch_out.c) ---- */

struct sim_cw_out {
	enum sim_proto	 proto;
	struct sim_xml	 x;
	json_t		*stack[SIM_CW_OUT_DEPTH];	/* JSON containers open, borrowed */
	int		 depth;
	int		 err;
};

void	sim_cw_out_begin(struct sim_cw_out *, struct sim_aws_call *);
/* A structure (name NULL: an item of the list open) or a list. */
void	sim_cw_out_open(struct sim_cw_out *, const char *name, int list);
void	sim_cw_out_close(struct sim_cw_out *, const char *name);
/* An empty list: <Name/>, or []. */
void	sim_cw_out_empty(struct sim_cw_out *, const char *name);
/* Name NULL: an item of the list open. */
void	sim_cw_out_str(struct sim_cw_out *, const char *name, const char *s);
void	sim_cw_out_num(struct sim_cw_out *, const char *name, double v);
void	sim_cw_out_int(struct sim_cw_out *, const char *name, long v);
void	sim_cw_out_bool(struct sim_cw_out *, const char *name, int v);
/* Virtual time t: ISO 8601 in XML, Unix seconds in JSON (its default format). */
void	sim_cw_out_time(struct sim_cw_out *, const struct sim_model *, const char *name,
	    int64_t t);
/* A map's entry: <entry><key/><value/></entry>, or "key": value. */
void	sim_cw_out_entry(struct sim_cw_out *, const char *key, double v);
/* The document becomes the call's answer: 0, or -1. */
int	sim_cw_out_finish(struct sim_cw_out *, struct sim_aws_call *);

/* ---- requests, whichever protocol brought them (api_cloudwatch_req.c) ---- */

struct sim_cw_metric {
	const char	*ns;
	const char	*name;
	const char	*dname[SIM_CW_DIMS_MAX];
	const char	*dvalue[SIM_CW_DIMS_MAX];
	size_t		 ndims;
};

struct sim_cw_stats_req {
	struct sim_cw_metric	 mt;
	int64_t		 start, end;	/* Unix ms */
	int		 has_start, has_end, has_period;
	long		 period;
	const char	*stat[SIM_CW_STATS_MAX];
	size_t		 nstat;
	const char	*ext[SIM_CW_STATS_MAX];
	size_t		 next;
	const char	*unit;
};

struct sim_cw_data_query {
	const char	*id;
	const char	*label;
	const char	*expression;
	int		 has_stat;
	struct sim_cw_metric	 mt;
	long		 period;
	const char	*stat;
	const char	*unit;
	int		 ret;
};

struct sim_cw_data_req {
	struct sim_cw_data_query q[SIM_CW_QUERIES_MAX];
	size_t		 nq;
	int64_t		 start, end;
	int		 has_start, has_end;
	const char	*token;
	const char	*scan;
	long		 maxdp;
};

struct sim_cw_alarms_req {
	const char	*names[SIM_CW_NAMES_MAX];
	size_t		 nnames;
	const char	*prefix;
	const char	*state;
	const char	*action_prefix;
	const char	*children, *parents;
	int		 metric, composite;	/* AlarmTypes: which kinds */
	long		 max;
	const char	*token;
};

/* Each reads the call's request, from its form or its JSON body: 0, or -1 once refused. */
int	sim_cw_read_stats(struct sim_aws_call *, struct sim_cw_stats_req *);
int	sim_cw_read_data(struct sim_aws_call *, struct sim_cw_data_req *);
int	sim_cw_read_alarms(struct sim_aws_call *, struct sim_cw_alarms_req *);

/* ---- the metric, from the model's history (api_cloudwatch_metric.c) ---- */

/* What a query's metric names: known, and which instance (NULL: the group). */
struct sim_cw_source {
	int				 ok;
	const struct sim_instance	*in;
};

/*
 * The periods of a request, in virtual ms: StartTime rounded down as CloudWatch
 * rounds it (to the minute within 15 days of now, to 5 minutes within 63, else to
 * the hour), then one period after another up to EndTime, which is exclusive.
 */
struct sim_cw_buckets {
	int64_t		 start;
	int64_t		 end;
	int64_t		 step;
	size_t		 n;
	int64_t		 oldest;	/* samples before it have expired at this period */
	int64_t		 now;
};

/* AWS/EC2 CPUUtilization by InstanceId or AutoScalingGroupName, in Percent. */
void	sim_cw_source_of(struct sim_model *, const struct sim_cw_metric *,
	    const char *unit, struct sim_cw_source *);
void	sim_cw_buckets_init(const struct sim_model *, int64_t now, int64_t start,
	    int64_t end, long period, struct sim_cw_buckets *);
/* The periods that may hold samples: from the source's first running to now. */
void	sim_cw_bucket_range(const struct sim_model *, const struct sim_cw_source *,
	    const struct sim_cw_buckets *, size_t *lo, size_t *hi);
/* Period k's samples; sorted when kept (for percentiles). */
void	sim_cw_bucket_stats(const struct sim_model *, const struct sim_cw_source *,
	    const struct sim_cw_buckets *, size_t k, struct sim_cpu_stats *);
/* Room for the samples of one period, if percentiles are asked for; else NULL. */
double	*sim_cw_samples_buffer(const struct sim_model *, const struct sim_cw_buckets *,
	    int need, size_t *vmax);
/* One statistic of a period: nearest rank for a percentile. */
double	 sim_cw_statistic(const struct sim_cpu_stats *, const char *stat);
/* An AWS statistic, or a percentile p0 to p100. */
int	 sim_cw_stat_known(const char *);

/* ---- DescribeAlarms (api_cloudwatch_alarms.c) ---- */

int	sim_cw_describe_alarms(struct sim_aws_call *);

#endif
