/* ovnic-dpud: the control plane toward the OVN Southbound database.
 *
 * One object drives, from a single poll loop: the SB client session, an incremental
 * step that runs after every SB change (chassis registration, port bindings, local
 * datapaths and monitor conditions, logical-flow translation into IR, nb_cfg
 * acknowledgement), the one SB transaction in flight at a time, and the control
 * socket.
 *
 * The packet pipeline is not part of this version: the logical flows of the local
 * datapaths are parsed into IR (lflow_engine.h) before nb_cfg is acknowledged, but
 * nothing consumes the IR yet, and the flows of a port are considered installed as
 * soon as its binding is committed (the flows hook answers at once, from the loop). */
#ifndef OVNIC_DPUD_DPUD_H
#define OVNIC_DPUD_DPUD_H 1

#include <stdbool.h>

#include "shared/util/err.h"

struct dpud;
struct dpud_config;
struct poll_loop;

/** How many failing logical flows "lflow-status" lists when not told. */
#define DPUD_LFLOW_FAILURES_MAX 1000

/** What "status" reports about the datapath. */
#define DPUD_DATAPATH_STATUS "none (flows considered installed immediately)"

/** Creates the daemon: loads the saved VIFs from the rundir, opens the control
 * socket and starts connecting to the SB.  'loop' and 'config' are borrowed and must
 * outlive it.  Caller owns '*dpud'; free with dpud_destroy().  Returns 0 or a
 * negative errno ('err' says why). */
int dpud_create(struct poll_loop *loop, const struct dpud_config *config,
                struct dpud **dpud, struct ovnic_err *err);

/** Frees 'dpud' (may be NULL).  The SB rows are left as they are. */
void dpud_destroy(struct dpud *dpud);

/** True once the daemon should exit: after "exit" (once its rows are removed, for a
 * clean exit) and its replies are sent. */
bool dpud_is_done(const struct dpud *dpud);

/** True when every reply on the control socket has been sent. */
bool dpud_is_flushed(const struct dpud *dpud);

/** Makes the daemon quit without touching the SB (SIGTERM, "exit --restart"). */
void dpud_stop(struct dpud *dpud);

#endif /* OVNIC_DPUD_DPUD_H */
