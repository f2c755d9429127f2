/* ovnic: acknowledging SB_Global.nb_cfg (see nbcfg.h). */
#include "nbcfg.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/txn.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(nbcfg);

void
nbcfg_init(struct nbcfg *nbcfg)
{
    memset(nbcfg, 0, sizeof *nbcfg);
}

void
nbcfg_observe(struct nbcfg *nbcfg, const struct ovsdb_replica *replica,
              const struct ovsdb_row *chassis_private)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "SB_Global");
    const struct ovsdb_row *row = t ? ovsdb_replica_table_next(t, NULL) : NULL;

    if (row) {
        nbcfg->seen = ovsdb_datum_get_int(ovsdb_row_get(row, "nb_cfg"), 0);
    }
    if (chassis_private) {
        nbcfg->acked = ovsdb_datum_get_int(ovsdb_row_get(chassis_private, "nb_cfg"), 0);
        nbcfg->acked_ts =
            ovsdb_datum_get_int(ovsdb_row_get(chassis_private, "nb_cfg_timestamp"), 0);
    }
}

int
nbcfg_run(struct nbcfg *nbcfg, const struct ovsdb_row *chassis_private, bool settled,
          struct ovsdb_txn *txn, bool *wrote)
{
    int64_t now = time_wall_msec();
    int error;

    *wrote = false;
    if (!settled || !chassis_private || nbcfg->seen == nbcfg->acked) {
        return 0;
    }
    error = ovsdb_txn_update(txn, "Chassis_Private",
                             ovsdb_txn_where_uuid(ovsdb_row_uuid(chassis_private)),
                             json_pack("{s:I, s:I}", "nb_cfg", (json_int_t)nbcfg->seen,
                                       "nb_cfg_timestamp", (json_int_t)now));
    if (!error) {
        *wrote = true;
        nbcfg->inflight = true;
        nbcfg->inflight_cfg = nbcfg->seen;
        nbcfg->inflight_ts = now;
        OLOG_DBG("acknowledging nb_cfg %" PRId64, nbcfg->seen);
    }
    return error;
}

void
nbcfg_txn_done(struct nbcfg *nbcfg, int error)
{
    if (nbcfg->inflight) {
        nbcfg->inflight = false;
        if (!error) {
            nbcfg->acked = nbcfg->inflight_cfg;
            nbcfg->acked_ts = nbcfg->inflight_ts;
            nbcfg->n_acks++;
        }
    }
}
