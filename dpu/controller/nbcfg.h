/* ovnic: acknowledging SB_Global.nb_cfg.
 *
 * ovn-northd copies NB_Global.nb_cfg into SB_Global.nb_cfg, and "ovn-nbctl --wait=hv"
 * waits until every chassis has copied it into its Chassis_Private.nb_cfg.  A chassis
 * may do that only once it has processed everything up to that SB state and
 * installed the resulting flows.  nbcfg_run() writes nb_cfg and nb_cfg_timestamp
 * (wall-clock ms) when the caller says it is settled. */
#ifndef OVNIC_CONTROLLER_NBCFG_H
#define OVNIC_CONTROLLER_NBCFG_H 1

#include <stdbool.h>
#include <stdint.h>

struct ovsdb_replica;
struct ovsdb_row;
struct ovsdb_txn;

struct nbcfg {
    int64_t seen;     /* SB_Global.nb_cfg last seen. */
    int64_t acked;    /* Chassis_Private.nb_cfg as last seen or written. */
    int64_t acked_ts; /* Its nb_cfg_timestamp. */
    bool inflight;    /* An acknowledgement is in the transaction in flight. */
    int64_t inflight_cfg;
    int64_t inflight_ts;
    uint64_t n_acks; /* Acknowledgements committed. */
};

void nbcfg_init(struct nbcfg *nbcfg);

/** Reads SB_Global.nb_cfg from 'replica' and, from 'chassis_private' (may be NULL),
 * the value already acknowledged. */
void nbcfg_observe(struct nbcfg *nbcfg, const struct ovsdb_replica *replica,
                   const struct ovsdb_row *chassis_private);

/** If 'settled' and the last seen nb_cfg is not acknowledged in 'chassis_private',
 * appends the update of Chassis_Private nb_cfg and nb_cfg_timestamp to 'txn'.
 * '*wrote' says whether it did.  Returns 0 or -ENOMEM. */
int nbcfg_run(struct nbcfg *nbcfg, const struct ovsdb_row *chassis_private, bool settled,
              struct ovsdb_txn *txn, bool *wrote);

/** Outcome of the transaction that carried the last nbcfg_run()'s update. */
void nbcfg_txn_done(struct nbcfg *nbcfg, int error);

#endif /* OVNIC_CONTROLLER_NBCFG_H */
