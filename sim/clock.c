/*
 * The virtual clock (see clock.h). Virtual time is computed from the real time
 * elapsed since the start, never accumulated from one read to the next, so that
 * rounding cannot make it drift over a long run.
 */
#include <string.h>
#include <time.h>

#include "sim/clock.h"

int
sim_clock_init(struct sim_clock *c, double speed)
{
	memset(c, 0, sizeof(*c));
	if (!(speed > 0 && speed <= SIM_SPEED_MAX))
		return -1;
	c->speed = speed;
	return clock_gettime(CLOCK_MONOTONIC, &c->start);
}

int64_t
sim_clock_read(struct sim_clock *c)
{
	struct timespec	 now;
	double		 real_ms;
	int64_t		 t;

	if (c->manual || clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return c->last;
	real_ms = (double)(now.tv_sec - c->start.tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - c->start.tv_nsec) / 1e6;
	t = (int64_t)(real_ms * c->speed);
	if (t > c->last)
		c->last = t;
	return c->last;
}

void
sim_clock_manual(struct sim_clock *c, int64_t ms)
{
	c->manual = 1;
	if (ms > c->last)
		c->last = ms;
}
