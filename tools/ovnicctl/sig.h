/* ovnicctl: signal handling for commands that run until interrupted: the stop
 * signals arrive on a file descriptor that the command watches in its poll loop. */
#ifndef OVNICCTL_SIG_H
#define OVNICCTL_SIG_H 1

/** Sets the process-wide defaults: SIGPIPE ignored, so that a closed stdout shows up
 * as a write error (EPIPE) instead of killing the process. */
void ovnicctl_signals_default(void);

/** Blocks SIGINT, SIGTERM and SIGHUP and returns a non-blocking, close-on-exec fd
 * that becomes readable when one of them arrives.  Caller owns the fd; close it with
 * ovnicctl_signals_close().  Returns the fd or a negative errno. */
int ovnicctl_signals_open(void);

/** Reads one pending signal from 'fd'.  Returns its number, 0 if none is pending, or
 * a negative errno. */
int ovnicctl_signals_read(int fd);

/** Closes 'fd' (if >= 0).  The signals stay blocked, so that one arriving while the
 * command finishes cannot cut its cleanup short. */
void ovnicctl_signals_close(int fd);

/** The name of signal 'signo' ("SIGTERM"...).  Static. */
const char *ovnicctl_signal_name(int signo);

#endif /* OVNICCTL_SIG_H */
