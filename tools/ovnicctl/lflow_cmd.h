/* ovnicctl: "lflow-check", which parses every Logical_Flow of an OVN Southbound
 * database with ovnic's own parsers and reports coverage per pipeline stage:
 *
 *   ovnicctl lflow-check --db=REMOTE [--format=table|json] [--timeout=SECS] [TLS]
 *
 * The command object is declared in ovnicctl.h (ovnicctl_lflow_check_command). */
#ifndef OVNICCTL_LFLOW_CMD_H
#define OVNICCTL_LFLOW_CMD_H 1

#include "ovnicctl.h"

#endif /* OVNICCTL_LFLOW_CMD_H */
