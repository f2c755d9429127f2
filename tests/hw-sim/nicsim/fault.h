/* ovnic-nicsim: faults injected on demand.
 *
 * The control API arms faults; the code paths they hit consult this state:
 *
 *   insert-fail  NTH ERRNO   the NTH rule insert from now (1: the next one) fails with
 *                            ERRNO; one-shot
 *   table-full   on|off      every rule insert fails with -ENOSPC while on
 *   link         PORT up|down  (kept per port by ovnic-nicsim; see nicsim.c)
 *   uplink-drop  PERCENT     that share of the packets crossing the uplink (either
 *                            direction) is dropped, spread evenly
 *   uplink-delay MS          packets crossing the uplink are held MS milliseconds
 *                            (each direction)
 *   flash-fail   BYTE        the flash write that reaches byte BYTE (counted from the
 *                            arming, over every write) stores the bytes before it and
 *                            fails with -EIO; one-shot
 *   flash-powerloss BYTE     the same, but the flash then loses power: every flash
 *                            operation fails with -ENODEV until a power cycle
 *
 * No DPDK here, so that the rules are unit-tested. */
#ifndef OVNIC_NICSIM_FAULT_H
#define OVNIC_NICSIM_FAULT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

struct nicsim_faults {
    /* Rule inserts. */
    uint64_t insert_fail_nth; /* 0: off; else inserts left until the failing one. */
    int insert_fail_errno;    /* Negative errno. */
    bool table_full;

    /* Uplink. */
    uint32_t uplink_drop_percent; /* 0..100. */
    uint32_t uplink_drop_acc;     /* Error accumulator that spreads the drops. */
    uint32_t uplink_delay_ms;
    uint64_t uplink_dropped; /* Packets dropped by this fault. */

    /* Flash (consulted by flash.c). */
    int64_t flash_fail_at; /* -1: off; else byte count that triggers. */
    bool flash_powerloss;  /* Whether 'flash_fail_at' means power loss. */
    uint64_t flash_bytes;  /* Bytes written since the flash fault was armed. */
};

/** Clears every fault. */
void nicsim_faults_init(struct nicsim_faults *f);

/** Called before each rule insert.  Returns 0 to let it proceed, or the negative
 * errno it must fail with.  Counts down an armed insert-fail. */
int nicsim_faults_insert_check(struct nicsim_faults *f);

/** Called for each packet crossing the uplink.  Returns true if it must be
 * dropped. */
bool nicsim_faults_uplink_drop(struct nicsim_faults *f);

/** Called before a flash write of 'len' bytes.  Returns the number of bytes that may
 * be stored ('len' if no fault fires) and, if a fault fires, sets '*error' (-EIO) and
 * '*powerloss'.  The fault is disarmed once it fires. */
size_t nicsim_faults_flash_write(struct nicsim_faults *f, size_t len, int *error,
                                 bool *powerloss);

/** Applies one fault description from the control API (links excluded: the caller
 * handles "link"):
 *   {"kind": "insert-fail", "nth": N, "errno": "ENOSPC" | -28}
 *   {"kind": "table-full", "on": true}
 *   {"kind": "uplink-drop", "percent": P}
 *   {"kind": "uplink-delay", "ms": MS}
 *   {"kind": "flash-fail", "byte": N}
 *   {"kind": "flash-powerloss", "byte": N}
 * Returns 0, or -EINVAL with 'err' set. */
int nicsim_faults_set_json(struct nicsim_faults *f, const json_t *desc,
                           struct ovnic_err *err);

/** The faults in force, as a JSON object (caller owns; json_decref()). */
json_t *nicsim_faults_to_json(const struct nicsim_faults *f);

/** Parses an errno name ("ENOSPC") or number (positive or negative) into a negative
 * errno.  Returns 0 or -EINVAL. */
int nicsim_errno_parse(const char *s, int *error);

/** The name of errno 'error' (positive or negative), e.g. "ENOSPC", or NULL. */
const char *nicsim_errno_name(int error);

#endif /* OVNIC_NICSIM_FAULT_H */
