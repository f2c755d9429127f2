/* ovnicctl: "trace", which walks a packet described as an ovn-trace microflow
 * through ovnic's pipeline built from an OVN Southbound database:
 *
 *   ovnicctl trace --db=REMOTE [--ct=FLAGS]... [--lb-dst=IP[:PORT]]
 *                  [--minimal|--summary|--detailed] [--chassis=NAME]
 *                  [--format=table|json] DATAPATH MICROFLOW
 *   ovnicctl trace --db=REMOTE --batch [OPTIONS]     (one trace per line of stdin)
 *
 * docs/ovnicctl-trace.md describes the options and output forms.  The command object
 * is declared in ovnicctl.h (ovnicctl_trace_command). */
#ifndef OVNICCTL_TRACE_CMD_H
#define OVNICCTL_TRACE_CMD_H 1

#include "ovnicctl.h"

struct pipeline;
struct pkey;
struct ovnic_err;

/** Turns ovn-trace microflow 'microflow' (a match that is one conjunction, with
 * "inport == NAME") into a packet key as ovn-trace does: every field the match names
 * (and its prerequisites, e.g. eth.type for ip4.dst) takes the value given, every
 * other field is 0.  On success stores the key in '*key' and the inport name in
 * '*inport' (caller owns; free()).
 *
 * Errors: -EINVAL (the microflow does not parse, is not one conjunction, names no
 * inport, or tests something a packet cannot carry), -ENOMEM; 'err' says why. */
int trace_microflow_to_key(const char *microflow, struct pkey *key, char **inport,
                           struct ovnic_err *err);

#endif /* OVNICCTL_TRACE_CMD_H */
