/* ovnic: the incremental engine node "SB logical flows -> parsed logical flows (IR)".
 *
 * Inputs: the Logical_Flow, Address_Set, Port_Group, Datapath_Binding and
 * Logical_DP_Group rows of an SB replica (replica.h), and the local datapaths
 * (ldp.h).  Output: one struct lflow_parsed (lflow.h) per Logical_Flow row of a local
 * datapath, or, for a row that cannot be parsed, a struct lflow_error that names it.
 *
 * A step has two halves, because the replica's change tracking is shared with other
 * consumers and cleared once per step:
 *
 *   lflow_engine_track(engine, replica);   (before ovsdb_replica_track_clear())
 *   ...local datapaths computed...
 *   lflow_engine_run(engine, replica, ldp);
 *
 * lflow_engine_track() records what changed: Logical_Flow rows inserted, modified or
 * deleted; the names of Address_Set and Port_Group rows that changed; the
 * Datapath_Binding rows whose tunnel key changed (they decide how "@name" resolves:
 * ovn-northd names a port group's SB row "<tunnel key>_<name>"); the Logical_DP_Group
 * rows that changed.  lflow_engine_run() then re-parses exactly:
 *   - the Logical_Flow rows inserted or modified (a deleted one loses its IR);
 *   - the flows whose match named a changed address set or port group (a reverse
 *     index from each name to the flows that use it; a "<key>_<name>" row only
 *     affects flows that apply to the datapath with that tunnel key);
 *   - the flows that name a port group, or failed, and apply to a datapath or
 *     datapath group that changed;
 *   - the flows whose datapath became local (and drops those whose datapath stopped
 *     being local).
 * Flows of datapaths that are not local are not parsed, whether the SB sends them
 * (monitor-all) or not (conditional monitoring).  Multicast_Group rows do not enter
 * the parse: multicast group names in a match ("outport == \"_MC_flood\"") stay
 * strings for the pipeline to resolve.
 *
 * A full recompute (every flow parsed again) is the fallback, and it is counted: at
 * the first run, when the replica object changes, when the caller asks for one
 * (lflow_engine_request_full(): after a full resync from the server), after an
 * allocation failure, and when an Address_Set or Port_Group row is renamed.
 *
 * A row that does not parse is logged (rate-limited), counted and kept in the list
 * of failures with its uuid, pipeline, table, stage and the parser's message and
 * position; every other flow keeps working.  Its address-set and port-group names
 * are taken from its match text, so that it is parsed again when one of them
 * appears. */
#ifndef OVNIC_CONTROLLER_LFLOW_ENGINE_H
#define OVNIC_CONTROLLER_LFLOW_ENGINE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/lflow.h"
#include "shared/util/uuid.h"

struct ldp;
struct lflow_engine;
struct ovsdb_replica;

/** Counters of the engine.  "parses" are calls of lflow_parse_row(), successful or
 * not. */
struct lflow_engine_stats {
    uint64_t incremental_runs;     /* Runs that processed tracked changes only. */
    uint64_t full_recomputes;      /* Runs that parsed every local flow again. */
    uint64_t parsed_total;         /* Parses, all runs. */
    uint64_t parsed_full;          /* Parses in full recomputes. */
    uint64_t parsed_incremental;   /* Parses in incremental runs. */
    uint64_t parsed_new;           /* ... of flows the engine did not hold. */
    uint64_t reparsed_flow;        /* ... because their own row changed. */
    uint64_t reparsed_address_set; /* ... because an address set they name changed. */
    uint64_t reparsed_port_group;  /* ... because a port group they name changed. */
    uint64_t reparsed_datapath;    /* ... because their datapath (group) changed. */
    uint64_t removed;              /* Flows dropped: row deleted or not local. */
    uint64_t failures_total;       /* Parses that failed. */
    size_t flows;                  /* Flows held with their IR. */
    size_t failures;               /* Flows held that fail to parse. */
    uint64_t last_run_us;          /* Duration of the last run, in microseconds. */
    const char *last_full_reason;  /* Why the last full recompute ran (static), or
                                    * "" if none has. */
};

/** Creates an engine that will do a full recompute at its first run.  Caller owns
 * '*enginep'; free with lflow_engine_destroy().  Returns 0 or -ENOMEM. */
int lflow_engine_create(struct lflow_engine **enginep);

/** Frees 'engine' and every IR it holds.  NULL is a no-op. */
void lflow_engine_destroy(struct lflow_engine *engine);

/** Makes the next run a full recompute, giving 'reason' (static text, e.g. "full
 * resync") unless a full recompute is already pending. */
void lflow_engine_request_full(struct lflow_engine *engine, const char *reason);

/** Records the tracked changes of 'replica' (borrowed) that matter to the engine.
 * Call it once per step, before ovsdb_replica_track_clear().  If memory runs out the
 * next run is a full recompute. */
void lflow_engine_track(struct lflow_engine *engine, const struct ovsdb_replica *replica);

/** Brings the parsed flows up to date with 'replica' (borrowed), parsing only the
 * flows of the local datapaths 'ldp' (borrowed; NULL: every datapath is local).
 * Returns 0, or -ENOMEM: then the engine keeps what it held and the next run is a
 * full recompute.  A row that fails to parse is not an error of the run. */
int lflow_engine_run(struct lflow_engine *engine, const struct ovsdb_replica *replica,
                     const struct ldp *ldp);

/** True if the last run left nothing to do: no full recompute and no tracked change
 * pending. */
bool lflow_engine_is_current(const struct lflow_engine *engine);

/** The IR of Logical_Flow row 'uuid', or NULL if the engine holds none (not a local
 * flow, or it failed to parse).  Borrowed; valid until the next run. */
const struct lflow_parsed *lflow_engine_find(const struct lflow_engine *engine,
                                             const struct uuid *uuid);

/** Why Logical_Flow row 'uuid' failed to parse, or NULL if it did not fail (or is
 * not held).  Borrowed; valid until the next run. */
const struct lflow_error *lflow_engine_find_failure(const struct lflow_engine *engine,
                                                    const struct uuid *uuid);

/** Copies the counters into '*stats'. */
void lflow_engine_get_stats(const struct lflow_engine *engine,
                            struct lflow_engine_stats *stats);

/** The counters as a JSON object: the members of struct lflow_engine_stats, and
 * "current" (lflow_engine_is_current()).  With 'with_failures', also "failed_flows",
 * an array of at most 'max_failures' objects {"uuid", "pipeline", "table", "stage",
 * "part", "reason", "match", "actions"} sorted by uuid, and "failed_flows_truncated"
 * (whether some were left out).  Caller owns; NULL if memory runs out. */
json_t *lflow_engine_to_json(const struct lflow_engine *engine, bool with_failures,
                             size_t max_failures);

#endif /* OVNIC_CONTROLLER_LFLOW_ENGINE_H */
