/*
 * The parts of systemd's service protocol the daemon uses, without libsystemd:
 * notifications (READY=1, STOPPING=1, WATCHDOG=1) and socket activation.
 */
#ifndef BB_SYSTEMD_H
#define BB_SYSTEMD_H

#include <stdint.h>

/* Sends one state string to $NOTIFY_SOCKET; 0 if sent or no socket is set, -1 on error. */
int	 sd_notify_send(const char *state);
/* Half of $WATCHDOG_USEC in milliseconds if the watchdog is on for us, else 0. */
uint64_t sd_watchdog_interval_ms(void);
/*
 * The first socket passed by socket activation ($LISTEN_FDS, $LISTEN_PID), or -1 if none.
 * Unsets the variables so that children do not inherit them.
 */
int	 sd_listen_fd(void);

#endif
