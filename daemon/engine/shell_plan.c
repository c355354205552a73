/*
 * engine_plan(): preflight without changing anything. One observation of everything
 * preflight looks at, engine_preflight() on it, and the plan: the target, the nodes
 * with their address, version and load, the order the core would take them in, and
 * every problem with what to do about it.
 *
 * The callback runs once, from the loop (never inside engine_plan()); it owns the
 * plan and the refusal's params. After engine_shutdown() it never runs.
 */
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/engine/shell.h"

#define PLAN_PARTS	(ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES | \
			 ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU | ENGINE_OBS_CPU | \
			 ENGINE_OBS_IDENTITY | SHELL_OBS_EXTRAS)

struct shell_plan {
	struct shell_plan	*next;
	struct shell		*sh;
	struct shell_dep	*dep;
	char			 to[ENGINE_VERSION_MAX];
	engine_plan_cb		 cb;
	void			*arg;
	struct shell_obs	*ob;
	struct engine_refusal	 refusal;	/* an early refusal, told from the loop */
	uv_timer_t		 timer;
	bool			 cancelled;
};

static void
unlink_plan(struct shell_plan *p)
{
	struct shell_plan **pp;

	for (pp = &p->sh->plans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void
on_closed(uv_handle_t *h)
{
	struct shell_plan *p = h->data;
	struct shell *sh = p->sh;

	json_decref(p->refusal.params);
	free(p);
	engine_shell_unref(sh);
}

static void
finish(struct shell_plan *p)
{
	if (!p->cancelled)
		unlink_plan(p);
	uv_close((uv_handle_t *)&p->timer, on_closed);
}

/* An early refusal: told from the loop, like every answer. */
static void
on_refused(uv_timer_t *t)
{
	struct shell_plan *p = t->data;
	struct engine_refusal r = p->refusal;

	p->refusal.params = NULL;
	if (!p->cancelled)
		p->cb(NULL, &r, p->arg);
	else
		json_decref(r.params);
	finish(p);
}

static json_t *
problems_array(const struct engine_problems *pr)
{
	json_t *a = json_array();

	for (size_t i = 0; i < pr->n; i++)
		json_array_append_new(a, json_string(pr->p[i].text));
	return a;
}

static void
on_observed(struct shell_obs *ob, void *arg)
{
	struct shell_plan *p = arg;
	const struct shell_obs_result *res = engine_obs_result(ob);
	struct engine_target t = { p->to, p->dep->cfg->surge };
	struct engine_problems pr;
	struct engine_refusal r = { 0, NULL };
	json_t *plan;

	p->ob = NULL;
	engine_preflight(res->o, &t, &pr);
	if (res->errors[0] != '\0' && pr.n < ENGINE_PROBLEMS_MAX)
		engine_fmt(pr.p[pr.n++].text, sizeof(pr.p[0].text), "what failed: %s",
		    res->errors);
	plan = engine_plan_json(res->o, p->to, p->dep->cfg->surge, &pr);
	json_object_set_new(plan, "deployment", json_string(p->dep->cfg->name));
	if (pr.n > 0) {
		r.error = BBE_PREFLIGHT_FAILED;
		r.params = json_pack("{s:o, s:s}", "problems", problems_array(&pr),
		    "summary", pr.n == 1 ? pr.p[0].text : "several problems: see the list");
	}
	p->cb(plan, pr.n > 0 ? &r : NULL, p->arg);
	finish(p);
}

static struct shell_plan *
plan_new(struct shell *sh, const char *to, engine_plan_cb cb, void *arg)
{
	struct shell_plan *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->sh = sh;
	engine_strlcpy(p->to, to, sizeof(p->to));
	p->cb = cb;
	p->arg = arg;
	uv_timer_init(sh->loop, &p->timer);
	p->timer.data = p;
	p->next = sh->plans;
	sh->plans = p;
	engine_shell_ref(sh);
	return p;
}

static int
refuse(struct shell_plan *p, enum vl_error e, json_t *params)
{
	p->refusal.error = e;
	p->refusal.params = params;
	uv_timer_start(&p->timer, on_refused, 0, 0);
	return 0;
}

int
engine_plan_start(struct shell *sh, const char *deployment, const char *to,
    engine_plan_cb cb, void *arg)
{
	struct shell_plan *p;
	char err[512];

	if (sh == NULL || sh->stopping || cb == NULL || to == NULL ||
	    (p = plan_new(sh, to, cb, arg)) == NULL)
		return -1;
	if ((p->dep = engine_dep_find(sh, deployment)) == NULL)
		return refuse(p, BBE_NO_SUCH_DEPLOYMENT, json_pack("{s:s}", "deployment",
		    deployment ? deployment : ""));
	if (strlen(to) >= sizeof(p->to))
		return refuse(p, VLE_INVALID_PARAMETER, json_pack("{s:s}", "parameter",
		    "to"));
	if (engine_dep_clients(sh, p->dep, err, sizeof(err)) == -1)
		return refuse(p, BBE_NOT_ALLOWED, json_pack("{s:s}", "reason", err));
	p->ob = engine_observe(sh, p->dep, PLAN_PARTS, NULL, NULL, 0, 0, on_observed, p);
	if (p->ob == NULL)
		return refuse(p, BBE_INTERNAL, json_pack("{s:s}", "reason",
		    "out of memory"));
	return 0;
}

/* At shutdown: no callback runs; each plan is freed once its calls are back. */
void
engine_plan_cancel_all(struct shell *sh)
{
	struct shell_plan *p;

	while ((p = sh->plans) != NULL) {
		sh->plans = p->next;
		p->cancelled = true;
		if (p->ob != NULL) {
			engine_observe_cancel(p->ob);
			p->ob = NULL;
			finish(p);
		}
		/* Else its timer is pending (an early refusal) and finishes it. */
	}
}
