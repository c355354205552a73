/*
 * The first mechanism: a stack change (behaviours 1-6, 11). A change set with the
 * previous template and every other parameter unchanged, verified to touch only the
 * group's counts and the launch configuration's or FileServer's metadata, executed
 * with our token, finished when the stack-level terminal event carries that token.
 *
 * DescribeStacks may show the previous *_COMPLETE for a while after the call, so a
 * status read never ends the change: only the event does. A change set that would do
 * anything else is deleted and the upgrade halts with the difference.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static const struct {
	const char	*logical_id;
	const char	*type;
	unsigned	 scope;
} allowed[] = {
	{ "ClusterNodeGroup", "AWS::AutoScaling::AutoScalingGroup", ENGINE_SCOPE_PROPERTIES },
	{ "ClusterNodeLaunchConfig", "AWS::AutoScaling::LaunchConfiguration",
	    ENGINE_SCOPE_METADATA },
	{ "FileServer", "AWS::EC2::Instance", ENGINE_SCOPE_METADATA },
};

static const char *const count_props[] = { "MinSize", "MaxSize", "DesiredCapacity" };

static const char *
action_name(enum engine_change_action a)
{
	static const char *const t[] = { "Add", "Modify", "Remove", "Import", "Dynamic",
	    "another action" };

	return t[a];
}

static const char *
replacement_name(enum engine_replacement r)
{
	static const char *const t[] = { "False", "True", "Conditional", "not given" };

	return t[r];
}

static void
scope_names(unsigned scope, char *buf, size_t len)
{
	static const char *const t[] = { "Properties", "Metadata", "CreationPolicy",
	    "UpdatePolicy", "DeletionPolicy", "Tags", "other" };
	size_t off = 0;

	engine_strlcpy(buf, "none", len);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && off + 1 < len; i++)
		if (scope & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			    t[i]);
}

static bool
count_prop(const char *p)
{
	for (size_t i = 0; i < sizeof(count_props) / sizeof(count_props[0]); i++)
		if (strcmp(p, count_props[i]) == 0)
			return true;
	return false;
}

static void
check_nested(const struct engine_change *ch, const char *where,
    struct engine_problems *p)
{
	if (ch->action != ENGINE_CHANGE_MODIFY)
		engine_problem(p, "%s: %s of a nested stack", where, action_name(ch->action));
	if (ch->replacement == ENGINE_REPLACE_TRUE ||
	    ch->replacement == ENGINE_REPLACE_CONDITIONAL)
		engine_problem(p, "%s: the nested stack would be replaced (Replacement %s)",
		    where, replacement_name(ch->replacement));
	if (!ch->nested_listed)
		engine_problem(p, "%s: the nested stack's own changes were not read, so "
		    "they cannot be verified", where);
}

static void
check_allowed(const struct engine_change *ch, const char *where, size_t rule,
    struct engine_problems *p)
{
	char scope[96];

	if (strcmp(ch->resource_type, allowed[rule].type) != 0)
		engine_problem(p, "%s: type %s, expected %s", where, ch->resource_type,
		    allowed[rule].type);
	if ((ch->scope & ~allowed[rule].scope) != 0 || ch->scope == 0) {
		scope_names(ch->scope, scope, sizeof(scope));
		engine_problem(p, "%s: changes %s; only %s may change", where, scope,
		    allowed[rule].scope == ENGINE_SCOPE_METADATA ? "Metadata" :
		    "the properties MinSize, MaxSize, DesiredCapacity");
	}
	if (allowed[rule].scope != ENGINE_SCOPE_PROPERTIES)
		return;
	if (ch->nprops == 0 || ch->props_truncated)
		engine_problem(p, "%s: the changed properties are not all listed", where);
	for (size_t i = 0; i < ch->nprops; i++)
		if (!count_prop(ch->props[i]))
			engine_problem(p, "%s: property %s would change; only MinSize, "
			    "MaxSize and DesiredCapacity may", where, ch->props[i]);
}

static void
check_change(const struct engine_change *v, size_t n, size_t i,
    struct engine_problems *p)
{
	const struct engine_change *ch = &v[i];
	char where[200];
	size_t rule;

	if (ch->parent >= 0 && (size_t)ch->parent < n)
		snprintf(where, sizeof(where), "%s/%s", v[ch->parent].logical_id,
		    ch->logical_id);
	else
		snprintf(where, sizeof(where), "%s", ch->logical_id);
	if (ch->parent >= 0 && ((size_t)ch->parent >= n ||
	    strcmp(v[ch->parent].resource_type, "AWS::CloudFormation::Stack") != 0)) {
		engine_problem(p, "%s: listed under an entry that is no nested stack", where);
		return;
	}
	if (strcmp(ch->resource_type, "AWS::CloudFormation::Stack") == 0) {
		check_nested(ch, where, p);
		return;
	}
	if (ch->action != ENGINE_CHANGE_MODIFY)
		engine_problem(p, "%s (%s): %s; only modifications are allowed", where,
		    ch->resource_type, action_name(ch->action));
	if (ch->replacement != ENGINE_REPLACE_FALSE)
		engine_problem(p, "%s: Replacement %s; nothing may be replaced", where,
		    replacement_name(ch->replacement));
	for (rule = 0; rule < sizeof(allowed) / sizeof(allowed[0]); rule++)
		if (strcmp(ch->logical_id, allowed[rule].logical_id) == 0)
			break;
	if (rule == sizeof(allowed) / sizeof(allowed[0]))
		engine_problem(p, "%s (%s): must not change; only ClusterNodeGroup, "
		    "ClusterNodeLaunchConfig and FileServer may", where, ch->resource_type);
	else if (ch->action == ENGINE_CHANGE_MODIFY)
		check_allowed(ch, where, rule, p);
}

int
engine_changeset_ok(const struct engine_change *v, size_t n, bool truncated,
    struct engine_problems *p)
{
	memset(p, 0, sizeof(*p));
	if (truncated)
		engine_problem(p, "the change set lists more than %d changes: refused "
		    "unread", ENGINE_CHANGES_MAX);
	for (size_t i = 0; i < n; i++)
		check_change(v, n, i, p);
	return p->n == 0 ? 0 : -1;
}

static bool
update_ok(enum engine_stack_status s)
{
	return s == ENGINE_STACK_CREATE_COMPLETE || s == ENGINE_STACK_UPDATE_COMPLETE ||
	    s == ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE;
}

static bool
params_match(const struct engine_obs *o, const char *version, int min, int max)
{
	const struct engine_obs_stack *s = &o->stack;

	return strcmp(s->version, version) == 0 && s->min == min && s->max == max;
}

static int
stack_busy(struct engine_ctx *c, const char *why)
{
	engine_wait(c, ENGINE_WAIT_STACK_IDLE, "%s", why);
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_STACK_BUSY, "%s, past the deadline: the "
		    "stack cannot be changed now. Find what holds it, then `bbctl resume`",
		    why);
	return ENGINE_DECIDED;
}

static int
stack_begin(struct engine_ctx *c, const char *version, int min, int max)
{
	const struct engine_obs *o = c->o;
	char why[160];

	if (!update_ok(o->stack.status) ||
	    (o->stack.nested && !update_ok(o->stack.nested_status))) {
		snprintf(why, sizeof(why), "the stack is %s%s%s", o->stack.status_name,
		    o->stack.nested ? ", its nested stack " : "",
		    o->stack.nested ? o->stack.nested_status_name : "");
		return stack_busy(c, why);
	}
	if (params_match(o, version, min, max))
		return ENGINE_NEXT;
	if (c->u->reverse_requested != ENGINE_MODE_FORWARD)
		return engine_wait(c, ENGINE_WAIT_STACK_IDLE, "no new stack change: the "
		    "upgrade reverses at the next safe point");
	if (o->asg.activity_in_progress)
		return stack_busy(c, "a scaling activity is in progress; a stack change "
		    "waits for it (ScalingActivityInProgress)");
	engine_act(c, ENGINE_ACT_CREATE_CHANGESET, "create change set: BitbucketVersion=%s "
	    "ClusterNodeMin=%d ClusterNodeMax=%d (was %s %d %d)", version, min, max,
	    o->stack.version, o->stack.min, o->stack.max);
	engine_strlcpy(c->d->act.changeset, c->d->act.token, sizeof(c->d->act.changeset));
	engine_strlcpy(c->d->act.version, version, sizeof(c->d->act.version));
	c->d->act.min = min;
	c->d->act.max = max;
	return ENGINE_DECIDED;
}

static bool
no_changes(const char *reason)
{
	return strstr(reason, "didn't contain changes") != NULL ||
	    strstr(reason, "No updates are to be performed") != NULL;
}

static int	delete_changeset(struct engine_ctx *, enum engine_halt, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Delete our change set; halt afterwards unless it was an empty one, harmless. */
static int
delete_changeset(struct engine_ctx *c, enum engine_halt h, const char *fmt, ...)
{
	const struct engine_stack_change *s = &c->u->stack;
	va_list ap;

	engine_act(c, ENGINE_ACT_DELETE_CHANGESET, "delete change set %s", s->changeset);
	va_start(ap, fmt);
	vsnprintf(c->d->message, sizeof(c->d->message), fmt, ap);
	va_end(ap);
	engine_strlcpy(c->d->act.changeset, s->changeset, sizeof(c->d->act.changeset));
	c->d->halt_after = h != ENGINE_HALT_NONE;
	c->d->halt_code = h;
	return ENGINE_DECIDED;
}

static int
stack_refuse(struct engine_ctx *c)
{
	char list[ENGINE_TEXT_MAX];

	engine_problems_join(&c->d->problems, list, sizeof(list));
	return delete_changeset(c, ENGINE_HALT_CHANGESET_REFUSED, "change set %s refused "
	    "and deleted: it would change more than the group's counts and the version's "
	    "metadata: %s. The stack was not touched; look for template drift in the "
	    "nested stack (behaviour 5), then `bbctl resume` or `bbctl cancel`",
	    c->u->stack.changeset, list);
}

static int
stack_execute(struct engine_ctx *c)
{
	const struct engine_stack_change *s = &c->u->stack;

	engine_act(c, ENGINE_ACT_EXECUTE_CHANGESET, "execute change set %s "
	    "(BitbucketVersion=%s ClusterNodeMin=%d ClusterNodeMax=%d)", s->changeset,
	    s->version, s->min, s->max);
	engine_strlcpy(c->d->act.changeset, s->changeset, sizeof(c->d->act.changeset));
	engine_strlcpy(c->d->act.version, s->version, sizeof(c->d->act.version));
	c->d->act.min = s->min;
	c->d->act.max = s->max;
	return ENGINE_DECIDED;
}

static int
stack_verify(struct engine_ctx *c)
{
	const struct engine_obs_changeset *cs = &c->o->cs;
	const struct engine_stack_change *s = &c->u->stack;

	if (strcmp(cs->name, s->changeset) != 0)
		return engine_wait(c, ENGINE_WAIT_OBSERVE, "reading change set %s",
		    s->changeset);
	/* Not executed yet: a reversal asked for now abandons it rather than run it. */
	if (c->u->reverse_requested != ENGINE_MODE_FORWARD)
		return delete_changeset(c, ENGINE_HALT_NONE, "change set %s abandoned: the "
		    "upgrade is being %s", s->changeset,
		    c->u->reverse_requested == ENGINE_MODE_CANCEL ? "cancelled" :
		    "rolled back");
	switch (cs->status) {
	case ENGINE_CS_FAILED:
		if (no_changes(cs->status_reason) &&
		    params_match(c->o, s->version, s->min, s->max))
			return delete_changeset(c, ENGINE_HALT_NONE, "change set %s is empty "
			    "(%s): the stack already has these values; delete it",
			    s->changeset, cs->status_reason);
		return delete_changeset(c, ENGINE_HALT_CHANGESET_FAILED, "change set %s "
		    "failed and was deleted: %s. Fix the cause, then `bbctl resume`",
		    s->changeset, cs->status_reason);
	case ENGINE_CS_COMPLETE:
		if (engine_changeset_ok(cs->changes, cs->nchanges, cs->truncated,
		    &c->d->problems) == -1)
			return stack_refuse(c);
		if (cs->exec == ENGINE_CSX_AVAILABLE)
			return stack_execute(c);
		break;
	default:
		break;
	}
	engine_wait(c, ENGINE_WAIT_CHANGESET, "change set %s is being prepared",
	    s->changeset);
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_CHANGESET_FAILED, "change set %s never "
		    "became ready to execute (%s); delete it and `bbctl resume`",
		    s->changeset, cs->status_reason);
	return ENGINE_DECIDED;
}

/* Behaviour 9: desired dropped but nothing terminates: every candidate is protected. */
static bool
scale_in_blocked(const struct engine_obs *o)
{
	int members = 0;

	for (size_t i = 0; i < o->asg.ninst; i++) {
		if (o->asg.inst[i].lifecycle == ENGINE_LC_TERMINATING)
			return false;
		if (engine_in_group(&o->asg.inst[i]))
			members++;
	}
	return o->asg.desired < members;
}

static int
stack_timeout(struct engine_ctx *c, bool removal)
{
	const struct engine_obs *o = c->o;

	if (removal && scale_in_blocked(o))
		return engine_halt(c, ENGINE_HALT_SCALE_IN_BLOCKED, "scale-in blocked by "
		    "protection: desired is %d but more instances remain and none is "
		    "terminating, so every candidate is protected from scale-in. Check the "
		    "instances' protection in the group, then `bbctl resume`", o->asg.desired);
	return engine_halt(c, ENGINE_HALT_STACK_TIMEOUT, "the stack update %s did not "
	    "finish before its deadline (the stack is %s). Look at its events; "
	    "CancelUpdateStack if it hangs, then `bbctl resume`", c->u->stack.token,
	    o->stack.status_name);
}

static int
stack_follow(struct engine_ctx *c, bool removal)
{
	const struct engine_obs_stack *st = &c->o->stack;
	const struct engine_stack_change *s = &c->u->stack;

	if (strcmp(st->event_token, s->token) != 0)
		return engine_wait(c, ENGINE_WAIT_OBSERVE, "reading the stack events of %s",
		    s->token);
	switch (st->event) {
	case ENGINE_EVENT_COMPLETE:
		return engine_act(c, ENGINE_ACT_STACK_DONE, "stack change %s complete: "
		    "BitbucketVersion=%s ClusterNodeMin=%d ClusterNodeMax=%d", s->token,
		    s->version, s->min, s->max);
	case ENGINE_EVENT_ROLLED_BACK:
	case ENGINE_EVENT_FAILED:
		return engine_halt(c, st->event == ENGINE_EVENT_FAILED ?
		    ENGINE_HALT_STACK_FAILED : ENGINE_HALT_STACK_ROLLED_BACK, "the stack "
		    "update %s failed and %s: %s. CloudFormation restored the old counts; the "
		    "group may scale in by its own choice (the originals are protected). "
		    "Fix the cause, then `bbctl resume` to try again, or `bbctl cancel`",
		    s->token, st->event == ENGINE_EVENT_FAILED ? "was not rolled back" :
		    "was rolled back", st->event_reasons[0] ? st->event_reasons :
		    "no reason given");
	case ENGINE_EVENT_ROLLBACK_FAILED:
		return engine_halt(c, ENGINE_HALT_STACK_ROLLBACK_FAILED, "the stack update "
		    "%s failed and its rollback failed too (UPDATE_ROLLBACK_FAILED): %s. Fix "
		    "the cause, run ContinueUpdateRollback on the stack, wait for "
		    "UPDATE_ROLLBACK_COMPLETE, then `bbctl resume`", s->token,
		    st->event_reasons[0] ? st->event_reasons : "no reason given");
	case ENGINE_EVENT_NONE:
		break;
	}
	engine_wait(c, ENGINE_WAIT_STACK_UPDATE, "stack update %s in progress (%s)",
	    s->token, st->status_name);
	if (engine_deadline(c))
		return stack_timeout(c, removal);
	return ENGINE_DECIDED;
}

/*
 * Our stack change failed: that explains whatever else the group shows (a rolled-back
 * update restores the counts and scales in by AWS's own choice), so it is told first.
 */
int
engine_stack_failed(struct engine_ctx *c)
{
	const struct engine_obs_stack *st = &c->o->stack;

	if (c->u->stack.step != ENGINE_SC_EXECUTING ||
	    strcmp(st->event_token, c->u->stack.token) != 0 ||
	    st->event == ENGINE_EVENT_NONE || st->event == ENGINE_EVENT_COMPLETE)
		return ENGINE_NEXT;
	return stack_follow(c, false);
}

/*
 * ENGINE_NEXT once the stack has these values and is idle, else the next step of
 * the change. removal: the change lowers the counts (scale-in may block, 9).
 */
int
engine_stack_change(struct engine_ctx *c, const char *version, int min, int max,
    bool removal)
{
	switch (c->u->stack.step) {
	case ENGINE_SC_IDLE:
		return stack_begin(c, version, min, max);
	case ENGINE_SC_CREATED:
		return stack_verify(c);
	case ENGINE_SC_EXECUTING:
		return stack_follow(c, removal);
	}
	return engine_halt(c, ENGINE_HALT_INTERNAL, "stack change step %d",
	    (int)c->u->stack.step);
}
