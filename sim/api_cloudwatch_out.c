/*
 * The emitter of bbsim's CloudWatch (see api_cloudwatch_int.h): one answer, built
 * call by call in the order of the output shape, spelt as the Query protocol's XML
 * or as AWS JSON 1.0, whichever protocol the request came in. A failure on the way
 * (out of memory, nesting too deep) is remembered and makes the answer an error,
 * never a truncated document.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sim/api.h"
#include "sim/api_cloudwatch_int.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/wire.h"

/* ---- the emitter: one answer, as XML (Query) or JSON ---- */

void
sim_cw_out_begin(struct sim_cw_out *o, struct sim_aws_call *c)
{
	memset(o, 0, sizeof(*o));
	o->proto = c->proto;
	if (o->proto == SIM_PROTO_JSON) {
		if ((o->stack[0] = json_object()) == NULL)
			o->err = 1;
		o->depth = 1;
		return;
	}
	sim_xml_init(&o->x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&o->x, c->action, c->svc->ns, 1);
}

/* JSON: v (stolen) goes under name, or at the end of the array open. */
static int
out_put(struct sim_cw_out *o, const char *name, json_t *v)
{
	json_t	*top;
	int	 rc;

	if (v == NULL || o->err || o->depth == 0) {
		json_decref(v);
		o->err = 1;
		return -1;
	}
	top = o->stack[o->depth - 1];
	rc = json_is_array(top) ? json_array_append_new(top, v) :
	    json_object_set_new(top, name, v);
	if (rc == -1)
		o->err = 1;
	return rc;
}

/* A structure (name NULL: an item of the list open) or a list. */
void
sim_cw_out_open(struct sim_cw_out *o, const char *name, int list)
{
	json_t	*v;

	if (o->proto != SIM_PROTO_JSON) {
		sim_xml_open(&o->x, name != NULL ? name : "member", NULL);
		return;
	}
	v = list ? json_array() : json_object();
	if (out_put(o, name, v) == -1)
		return;
	if (o->depth == SIM_CW_OUT_DEPTH) {
		o->err = 1;
		return;
	}
	o->stack[o->depth++] = v;
}

void
sim_cw_out_close(struct sim_cw_out *o, const char *name)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_close(&o->x, name != NULL ? name : "member");
	else if (o->depth > 1)
		o->depth--;
}

/* An empty list: <Name/>, or []. */
void
sim_cw_out_empty(struct sim_cw_out *o, const char *name)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_empty(&o->x, name);
	else
		out_put(o, name, json_array());
}

void
sim_cw_out_str(struct sim_cw_out *o, const char *name, const char *s)
{
	if (o->proto != SIM_PROTO_JSON)
		sim_xml_text(&o->x, name != NULL ? name : "member", s);
	else
		out_put(o, name, json_string(s));
}

void
sim_cw_out_num(struct sim_cw_out *o, const char *name, double v)
{
	char	 buf[40];

	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, name, json_real(v));
		return;
	}
	/* As AWS writes doubles: "60.0", "3.25". */
	snprintf(buf, sizeof(buf), "%.15g%s", v, fabs(v) < 1e15 && v == floor(v) ?
	    ".0" : "");
	sim_xml_text(&o->x, name != NULL ? name : "member", buf);
}

void
sim_cw_out_int(struct sim_cw_out *o, const char *name, long v)
{
	if (o->proto == SIM_PROTO_JSON)
		out_put(o, name, json_integer(v));
	else
		sim_xml_textf(&o->x, name != NULL ? name : "member", "%ld", v);
}

void
sim_cw_out_bool(struct sim_cw_out *o, const char *name, int v)
{
	if (o->proto == SIM_PROTO_JSON)
		out_put(o, name, json_boolean(v));
	else
		sim_xml_text(&o->x, name, v ? "true" : "false");
}

/* Virtual time t: ISO 8601 in XML, Unix seconds in JSON (its default format). */
void
sim_cw_out_time(struct sim_cw_out *o, const struct sim_model *m, const char *name, int64_t t)
{
	char	 buf[SIM_API_TIME_MAX];

	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, name, json_real((double)(m->p.epoch * 1000 + t) / 1000.0));
		return;
	}
	sim_time_format(m, t, t % 1000 != 0, buf, sizeof(buf));
	sim_xml_text(&o->x, name != NULL ? name : "member", buf);
}

/* A map's entry: <entry><key/><value/></entry>, or "key": value. */
void
sim_cw_out_entry(struct sim_cw_out *o, const char *key, double v)
{
	if (o->proto == SIM_PROTO_JSON) {
		out_put(o, key, json_real(v));
		return;
	}
	sim_xml_open(&o->x, "entry", NULL);
	sim_xml_text(&o->x, "key", key);
	sim_cw_out_num(o, "value", v);
	sim_xml_close(&o->x, "entry");
}

int
sim_cw_out_finish(struct sim_cw_out *o, struct sim_aws_call *c)
{
	if (o->proto == SIM_PROTO_JSON) {
		if (o->err) {
			json_decref(o->stack[0]);
			return -1;
		}
		return sim_call_json(c, o->stack[0]);
	}
	sim_xml_query_end(&o->x, c->action, c->reqid, 1);
	if (o->err)
		o->x.b.err = 1;
	return sim_call_xml(c, &o->x);
}
