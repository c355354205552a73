/*
 * Varlink framing and message checks (see varlink.h). Everything here treats its input
 * as hostile: it comes from any local process that can open the socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/varlink.h"

void
vl_reader_init(struct vl_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void
vl_reader_free(struct vl_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

size_t
vl_reader_pending(const struct vl_reader *r)
{
	return r->len - r->off;
}

int
vl_reader_feed(struct vl_reader *r, const char *data, size_t n)
{
	size_t need, tail;
	char *nb;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	/* Only the bytes after the last NUL count against the limit. */
	tail = r->len;
	for (size_t i = 0; i < n; i++)
		tail = data[i] == '\0' ? 0 : tail + 1;
	if (tail > r->max)
		return -1;
	need = r->len + n;
	if (need > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(r->buf, cap)) == NULL)
			return -1;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

int
vl_reader_next(struct vl_reader *r, const char **msg, size_t *len)
{
	char *start, *nul;

	if (r->off >= r->len)
		return 0;
	start = r->buf + r->off;
	if ((nul = memchr(start, '\0', r->len - r->off)) == NULL)
		return 0;
	*msg = start;
	*len = (size_t)(nul - start);
	r->off += *len + 1;
	return 1;
}

/*
 * jansson recurses once per nesting level (up to 2048 deep): measure the depth first,
 * skipping strings, so that hostile nesting costs a linear scan and nothing more.
 */
static int
json_depth_ok(const char *s, size_t len, int max)
{
	int depth = 0, instr = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
		} else if (c == '"') {
			instr = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}

static json_t *
parse_object(const char *msg, size_t len, size_t max, char *why, size_t whylen)
{
	json_error_t err;
	json_t *j;

	if (len > max) {
		snprintf(why, whylen, "message of %zu bytes exceeds the limit of %zu",
		    len, max);
		return NULL;
	}
	if (!json_depth_ok(msg, len, VL_MAX_DEPTH)) {
		snprintf(why, whylen, "JSON nested deeper than %d levels", VL_MAX_DEPTH);
		return NULL;
	}
	if ((j = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		snprintf(why, whylen, "invalid JSON at byte %d: %s", err.position,
		    err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(why, whylen, "a message must be a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *
vl_parse(const char *msg, size_t len, char *why, size_t whylen)
{
	return parse_object(msg, len, VL_MAX_MESSAGE, why, whylen);
}

json_t *
vl_parse_reply(const char *msg, size_t len, char *why, size_t whylen)
{
	json_t *j, *e, *p;

	if ((j = parse_object(msg, len, len, why, whylen)) == NULL)
		return NULL;
	e = json_object_get(j, "error");
	p = json_object_get(j, "parameters");
	if ((e != NULL && !json_is_string(e)) ||
	    (p != NULL && !json_is_null(p) && !json_is_object(p))) {
		snprintf(why, whylen, "not a varlink reply");
		json_decref(j);
		return NULL;
	}
	if (p == NULL || json_is_null(p))
		json_object_set_new(j, "parameters", json_object());
	return j;
}

static int
opt_bool(json_t *msg, const char *key, bool *out, char *why, size_t whylen)
{
	json_t *v = json_object_get(msg, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(why, whylen, "\"%s\" must be a boolean", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
vl_call_from_json(json_t *msg, struct vl_call *call, char *why, size_t whylen)
{
	json_t *m = json_object_get(msg, "method");
	json_t *p = json_object_get(msg, "parameters");
	bool upgrade;

	memset(call, 0, sizeof(*call));
	if (!json_is_string(m) || json_string_length(m) == 0) {
		snprintf(why, whylen, "\"method\" must be a non-empty string");
		return -1;
	}
	if (p != NULL && !json_is_null(p) && !json_is_object(p)) {
		snprintf(why, whylen, "\"parameters\" must be an object");
		return -1;
	}
	if (opt_bool(msg, "more", &call->more, why, whylen) == -1 ||
	    opt_bool(msg, "oneway", &call->oneway, why, whylen) == -1 ||
	    opt_bool(msg, "upgrade", &upgrade, why, whylen) == -1)
		return -1;
	if (call->more && call->oneway) {
		snprintf(why, whylen, "\"more\" and \"oneway\" cannot be combined");
		return -1;
	}
	if (upgrade) {
		snprintf(why, whylen, "protocol upgrades are not supported");
		return -1;
	}
	if (p == NULL || json_is_null(p)) {
		p = json_object();
		json_object_set_new(msg, "parameters", p);	/* msg owns it */
	}
	call->method = json_string_value(m);
	call->parameters = p;
	return 0;
}

char *
vl_encode(const json_t *msg, size_t *len)
{
	char *s;

	if ((s = json_dumps(msg, JSON_COMPACT)) == NULL)
		return NULL;
	*len = strlen(s) + 1;	/* the NUL is the terminator on the wire */
	return s;
}

json_t *
vl_call_new(const char *method, json_t *params, bool more)
{
	json_t *j = json_object();

	json_object_set_new(j, "method", json_string(method));
	json_object_set_new(j, "parameters", params ? params : json_object());
	if (more)
		json_object_set_new(j, "more", json_true());
	return j;
}

json_t *
vl_reply_new(json_t *params, bool continues)
{
	json_t *j = json_object();

	json_object_set_new(j, "parameters", params ? params : json_object());
	if (continues)
		json_object_set_new(j, "continues", json_true());
	return j;
}

json_t *
vl_error_new(const char *error, json_t *params)
{
	json_t *j = json_object();

	json_object_set_new(j, "error", json_string(error));
	json_object_set_new(j, "parameters", params ? params : json_object());
	return j;
}
