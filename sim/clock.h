/*
 * bbsim's virtual clock: milliseconds since the simulator started (CLOCK_MONOTONIC,
 * so that a change of the wall clock cannot move the model), times a speed factor,
 * so that tests can run a minute-long upgrade in seconds. It never goes back.
 * Tests may stop it and set it by hand (sim_clock_manual), which makes a run as
 * deterministic as the requests sent to it.
 */
#ifndef BB_SIM_CLOCK_H
#define BB_SIM_CLOCK_H

#include <stdint.h>
#include <time.h>

#define SIM_SPEED_MAX	1000.0

struct sim_clock {
	struct timespec	 start;		/* CLOCK_MONOTONIC when started */
	double		 speed;		/* virtual ms per real ms */
	int		 manual;	/* only sim_clock_manual() moves it */
	int64_t		 last;		/* the latest time read: never less */
};

/* Starts the clock at virtual time 0; speed in (0, SIM_SPEED_MAX]. 0, or -1. */
int	sim_clock_init(struct sim_clock *, double speed);
/* Virtual milliseconds now. */
int64_t	sim_clock_read(struct sim_clock *);
/* Stops the clock at ms (tests); a time before the last one read is ignored. */
void	sim_clock_manual(struct sim_clock *, int64_t ms);

#endif
