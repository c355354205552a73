/*
 * EC2 DescribeInstances (see ec2.h). EC2 answers are lowerCamel and their lists
 * are <item>s: reservationSet/item/instancesSet/item/tagSet/item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/ec2.h"

static bool
valid_filters(const struct aws_ec2_filter *f, size_t n)
{
	size_t	 i, j;

	if (n > AWS_EC2_MAX_FILTERS || (n > 0 && f == NULL))
		return false;
	for (i = 0; i < n; i++) {
		if (!aws_given(f[i].name) || f[i].nvalues == 0 ||
		    f[i].nvalues > AWS_EC2_MAX_VALUES || f[i].values == NULL)
			return false;
		for (j = 0; j < f[i].nvalues; j++)
			if (f[i].values[j] == NULL)
				return false;
	}
	return true;
}

static bool
valid_in(const struct aws_ec2_describe_in *in)
{
	size_t	 i;

	if (in == NULL || (in->nids == 0 && in->nfilters == 0) ||
	    in->nids > AWS_EC2_MAX_IDS || (in->nids > 0 && in->ids == NULL) ||
	    !valid_filters(in->filters, in->nfilters))
		return false;
	for (i = 0; i < in->nids; i++)
		if (!aws_given(in->ids[i]))
			return false;
	/* The model: MaxResults 5-1000, and not together with instance ids. */
	return in->max_results == 0 || (in->nids == 0 && in->max_results >= 5 &&
	    in->max_results <= 1000);
}

int
aws_ec2_describe_instances_query(struct aws_query *q,
    const struct aws_ec2_describe_in *in, const char *next)
{
	size_t	 i;

	if (aws_query_init(q, AWS_EC2, "DescribeInstances") == -1)
		return -1;
	if (!valid_in(in))
		return aws_refuse(q);
	aws_query_add_flat(q, "InstanceId", in->ids, in->nids);
	for (i = 0; i < in->nfilters; i++)
		aws_query_add_filter(q, i + 1, in->filters[i].name,
		    in->filters[i].values, in->filters[i].nvalues);
	if (in->max_results > 0)
		aws_query_add_int(q, "MaxResults", in->max_results);
	if (aws_given(next))
		aws_query_add(q, "NextToken", next);
	return aws_built(q);
}

static int
parse_tags(const xmlNode *m, struct aws_ec2_instance *in, char *err, size_t errlen)
{
	const xmlNode	*list, *t;
	size_t		 i = 0;

	if (aws_get_list(m, "tagSet", AWS_OPT, AWS_XML_ITEM, AWS_EC2_MAX_TAGS, &list,
	    &in->ntags, err, errlen) == -1)
		return -1;
	if ((in->tags = aws_alloc_array(in->ntags, sizeof(*in->tags))) == NULL)
		return aws_perr(err, errlen, "out of memory");
	AWS_XML_FOREACH(t, list, AWS_XML_ITEM) {
		struct aws_ec2_tag	*tag = &in->tags[i++];

		if (aws_get_str(t, "key", AWS_REQ, tag->key, sizeof(tag->key), err,
		    errlen) == -1 ||
		    aws_get_str(t, "value", AWS_OPT, tag->value, sizeof(tag->value),
		    err, errlen) == -1)
			return aws_perr_in(err, errlen, "tagSet item %zu", i);
	}
	return 0;
}

static int
parse_instance(const xmlNode *m, struct aws_ec2_instance *in, char *err,
    size_t errlen)
{
	if (aws_get_str(m, "instanceId", AWS_REQ, in->id, sizeof(in->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "instanceState/name", AWS_REQ, in->state,
	    sizeof(in->state), err, errlen) == -1 ||
	    aws_get_int(m, "instanceState/code", AWS_REQ, &in->state_code, err,
	    errlen) == -1 ||
	    aws_get_time(m, "launchTime", AWS_REQ, &in->launch_ms, err,
	    errlen) == -1 ||
	    aws_get_str(m, "privateIpAddress", AWS_OPT, in->private_ip,
	    sizeof(in->private_ip), err, errlen) == -1 ||
	    aws_get_str(m, "placement/availabilityZone", AWS_OPT, in->zone,
	    sizeof(in->zone), err, errlen) == -1 ||
	    parse_tags(m, in, err, errlen) == -1)
		return aws_perr_in(err, errlen, "instance %s", in->id[0] != '\0' ?
		    in->id : "without id");
	/* The high byte is for AWS's internal use (the model says so). */
	in->state_code &= 0xff;
	return 0;
}

/* Counts the instances of every reservation, checking the shape on the way. */
static int
count_instances(const xmlNode *rlist, size_t *total, char *err, size_t errlen)
{
	const xmlNode	*r, *ilist;
	size_t		 n, i = 0;

	*total = 0;
	AWS_XML_FOREACH(r, rlist, AWS_XML_ITEM) {
		i++;
		if (aws_get_list(r, "instancesSet", AWS_OPT, AWS_XML_ITEM,
		    AWS_EC2_MAX_INSTANCES, &ilist, &n, err, errlen) == -1)
			return aws_perr_in(err, errlen, "reservationSet item %zu", i);
		if (n > AWS_EC2_MAX_INSTANCES - *total)
			return aws_perr(err, errlen, "more than %d instances",
			    AWS_EC2_MAX_INSTANCES);
		*total += n;
	}
	return 0;
}

static int
parse_reservations(const xmlNode *rlist, struct aws_ec2_instances *out, char *err,
    size_t errlen)
{
	const xmlNode	*r, *m;
	size_t		 i = 0;

	AWS_XML_FOREACH(r, rlist, AWS_XML_ITEM)
		AWS_XML_FOREACH(m, aws_xml_find(r, "instancesSet"), AWS_XML_ITEM)
			if (parse_instance(m, &out->items[i++], err, errlen) == -1)
				return -1;
	return 0;
}

int
aws_ec2_parse_describe_instances(const xmlNode *result,
    struct aws_ec2_instances *out, char *err, size_t errlen)
{
	const xmlNode	*rlist;
	size_t		 nres;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "reservationSet", AWS_OPT, AWS_XML_ITEM,
	    AWS_EC2_MAX_INSTANCES, &rlist, &nres, err, errlen) == -1 ||
	    count_instances(rlist, &out->n, err, errlen) == -1 ||
	    aws_get_next(result, out->next, sizeof(out->next), err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	if (parse_reservations(rlist, out, err, errlen) == -1) {
		aws_ec2_instances_free(out);
		return -1;
	}
	return 0;
}

int
aws_ec2_instances_take(struct aws_ec2_instances *acc,
    struct aws_ec2_instances *page)
{
	struct aws_ec2_instance	*p;

	if ((p = aws_append_array(acc->items, acc->n, page->items, page->n,
	    sizeof(*p), AWS_EC2_MAX_INSTANCES)) == NULL)
		return -1;
	acc->items = p;
	acc->n += page->n;
	memcpy(acc->next, page->next, sizeof(acc->next));
	/* The instances (and their tags) moved: only the array is left to free. */
	free(page->items);
	memset(page, 0, sizeof(*page));
	return acc->next[0] != '\0' ? 1 : 0;
}

void
aws_ec2_instances_free(struct aws_ec2_instances *is)
{
	size_t	 i;

	for (i = 0; i < is->n && is->items != NULL; i++)
		free(is->items[i].tags);
	free(is->items);
	memset(is, 0, sizeof(*is));
}

const char *
aws_ec2_instance_tag(const struct aws_ec2_instance *in, const char *key)
{
	size_t	 i;

	for (i = 0; i < in->ntags; i++)
		if (strcmp(in->tags[i].key, key) == 0)
			return in->tags[i].value;
	return NULL;
}

const struct aws_ec2_instance *
aws_ec2_instance_find(const struct aws_ec2_instances *is, const char *id)
{
	size_t	 i;

	for (i = 0; i < is->n; i++)
		if (strcmp(is->items[i].id, id) == 0)
			return &is->items[i];
	return NULL;
}

struct instances_ctx {
	struct aws_ec2_instances	 out;
	aws_ec2_instances_cb		 cb;
	void				*arg;
};

static int
instances_page(const xmlNode *result, void *ctx, char *next, size_t nextlen,
    char *err, size_t errlen)
{
	struct instances_ctx		*c = ctx;
	struct aws_ec2_instances	 page;
	int				 rc;

	if (aws_ec2_parse_describe_instances(result, &page, err, errlen) == -1)
		return -1;
	if ((rc = aws_ec2_instances_take(&c->out, &page)) == -1) {
		aws_ec2_instances_free(&page);
		return aws_perr(err, errlen, "more than %d instances or out of memory",
		    AWS_EC2_MAX_INSTANCES);
	}
	snprintf(next, nextlen, "%s", c->out.next);
	return rc;
}

static void
instances_done(const struct aws_result *r, void *ctx)
{
	struct instances_ctx	*c = ctx;

	c->cb(r, r->errclass == AWS_ERRCLASS_OK ? &c->out : NULL, c->arg);
}

static void
instances_release(void *ctx)
{
	aws_ec2_instances_free(&((struct instances_ctx *)ctx)->out);
}

static const struct aws_op_spec instances_spec = {
	instances_page, instances_done, instances_release
};

struct aws_op *
aws_ec2_describe_instances(struct aws_client *client,
    const struct aws_ec2_describe_in *in, aws_ec2_instances_cb cb, void *arg)
{
	struct aws_query	 q;
	struct instances_ctx	*c = NULL;
	int			 built;

	built = aws_ec2_describe_instances_query(&q, in, NULL);
	if (cb != NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->cb = cb;
		c->arg = arg;
	}
	return aws_op_start(client, &q, 1, &instances_spec, c,
	    built == -1 ? AWS_OP_REFUSED : NULL);
}
