/* ovnic-dpud: run loop, SB transactions and control-socket methods (see dpud.h). */
#include "dpud.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "datapath.h"
#include "hosts.h"
#include "dpu/controller/binding.h"
#include "dpu/controller/chassis.h"
#include "dpu/controller/encap.h"
#include "dpu/controller/ldp.h"
#include "dpu/controller/lflow_engine.h"
#include "dpu/controller/nbcfg.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/txn.h"
#include "shared/util/json.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(dpud);

#define SB_DATABASE "OVN_Southbound"
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

/* The logical-flow engine counts the full recomputes ("full_recomputes" in both
 * "status" and "lflow-status"); these are the step's own counters. */
struct dpud_stats {
    uint64_t incremental_steps; /* Steps driven by the tracked changes. */
    uint64_t full_steps;        /* Steps that re-examined every port binding. */
    uint64_t txns;              /* Transactions sent. */
    uint64_t txn_errors;        /* Transactions that failed. */
    uint64_t chassis_writes;    /* Transactions that created or updated our rows. */
    uint64_t condition_updates; /* Monitor condition sets that changed. */
    uint64_t ldp_recomputes;    /* Local-datapath computations. */
};

/* A deferred reply to "exit". */
struct pending_exit {
    uint64_t conn;
    json_t *id;
};

struct dpud {
    struct poll_loop *loop;
    const struct dpud_config *config;
    struct chassis_config ch_cfg;
    struct ovsdb_cs *cs;
    struct ctl_server *ctl;
    struct binding *binding;
    struct ldp ldp;
    struct nbcfg nbcfg;
    struct lflow_engine *lflows; /* SB logical flows -> IR. */
    uint64_t full_syncs;         /* ovsdb_cs_stats.full_syncs at the last step. */
    char *state_path;

    struct poll_timer run_timer;
    struct poll_timer hook_timer;
    struct poll_timer save_timer; /* Coalesces state saves (see state_save_soon()). */
    bool save_pending;
    char **hook_queue;  /* Logical ports whose flows were requested. */
    uint64_t *hook_gen; /* With a datapath: the pipeline generation that must run
                         * for each (0: not synced since the port was bound). */
    size_t n_hook;

    struct dpud_hosts *hosts; /* Host sessions, or NULL (no hostlink-listen). */

    struct dpud_dp *dp; /* The DPDK datapath, or NULL (datapath = none). */
    struct poll_timer dp_timer;
    int64_t dp_generation; /* Of the last pipeline sync. */

    bool txn_inflight;
    bool txn_registers;        /* The transaction in flight writes this chassis's rows. */
    char *registration_error;  /* Why the last registration failed; NULL if it did not. */
    struct encap_check encaps; /* Refused Encap rows of the other chassis. */
    int underlay_family;       /* Of the first encap IP. */
    bool need_full;
    bool retry_wait; /* Waiting for 'run_timer' after a failed transaction. */
    uint32_t retry_ms;
    const struct ovsdb_replica *last_replica;
    struct uuid chassis_uuid;
    bool have_chassis;
    bool chassis_current;
    char *lports_key; /* The local logical ports, joined, as last used. */
    json_t *conditions;

    bool exiting; /* Clean exit in progress. */
    bool exit_txn;
    bool done;
    struct pending_exit *exits;
    size_t n_exits;

    struct pending_exit *save_waiters; /* Replies sent once the state is saved. */
    size_t n_save_waiters;

    struct dpud_mac_binding *mbs; /* Learned by the datapath, for the SB. */
    size_t n_mbs;

    struct dpud_stats stats;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

static void dpud_run(struct dpud *dpud);

static void
run_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
             void *aux)
{
    struct dpud *dpud = aux;

    dpud->retry_wait = false;
    dpud_run(dpud);
}

static void
dpud_schedule(struct dpud *dpud)
{
    if (!dpud->retry_wait) {
        poll_timer_start(dpud->loop, &dpud->run_timer, 0, run_timer_cb, dpud);
    }
}

static void
cs_change_cb(struct ovsdb_cs *cs OVNIC_UNUSED, void *aux)
{
    dpud_schedule(aux);
}

/* ---- The flows hook: no packet pipeline yet, so flows are installed at once. ---- */

static void
hook_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
              void *aux)
{
    struct dpud *dpud = aux;

    for (size_t i = 0; i < dpud->n_hook; i++) {
        binding_flows_installed(dpud->binding, dpud->hook_queue[i]);
        free(dpud->hook_queue[i]);
    }
    dpud->n_hook = 0;
    dpud_schedule(dpud);
}

static void
flows_request_cb(void *aux, const char *iface_id)
{
    struct dpud *dpud = aux;
    char **q = realloc(dpud->hook_queue, (dpud->n_hook + 1) * sizeof *q);
    char *copy = strdup(iface_id);

    if (!q || !copy) {
        /* Answer directly rather than lose the request. */
        free(copy);
        if (q) {
            dpud->hook_queue = q;
        }
        binding_flows_installed(dpud->binding, iface_id);
        return;
    }
    dpud->hook_queue = q;
    uint64_t *g = realloc(dpud->hook_gen, (dpud->n_hook + 1) * sizeof *g);
    if (!g) {
        free(copy);
        binding_flows_installed(dpud->binding, iface_id);
        return;
    }
    dpud->hook_gen = g;
    dpud->hook_gen[dpud->n_hook] = 0;
    dpud->hook_queue[dpud->n_hook++] = copy;
    if (dpud->dp) {
        /* Answered once a pipeline with the port runs (dp_timer_cb()). */
        dpud_schedule(dpud);
    } else {
        poll_timer_start(dpud->loop, &dpud->hook_timer, 0, hook_timer_cb, dpud);
    }
}

/* ---- The DPDK datapath ---- */

static void dp_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux);

/* Answers the flows requests whose pipeline generation runs in the datapath. */
static void
dp_hooks_check(struct dpud *dpud)
{
    uint64_t live = dpud_dp_generation_live(dpud->dp);
    bool answered = false;

    for (size_t i = 0; i < dpud->n_hook;) {
        if (dpud->hook_gen[i] && live >= dpud->hook_gen[i]) {
            binding_flows_installed(dpud->binding, dpud->hook_queue[i]);
            free(dpud->hook_queue[i]);
            dpud->n_hook--;
            dpud->hook_queue[i] = dpud->hook_queue[dpud->n_hook];
            dpud->hook_gen[i] = dpud->hook_gen[dpud->n_hook];
            answered = true;
        } else {
            i++;
        }
    }
    if (answered) {
        dpud_schedule(dpud);
    }
}

static void
dp_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
            void *aux)
{
    struct dpud *dpud = aux;
    unsigned int ms = dpud_dp_run(dpud->dp);
    size_t n_mbs;
    struct dpud_mac_binding *mbs;

    dp_hooks_check(dpud);
    if (dpud_dp_take_svc_changed(dpud->dp)) {
        dpud_schedule(dpud); /* Service_Monitor.status to write. */
    }
    if (dpud_dp_take_ports_changed(dpud->dp)) {
        dpud_schedule(dpud); /* Port_Binding.up to write (dp_vif_ready()). */
    }
    n_mbs = dpud_dp_take_mac_bindings(dpud->dp, &mbs);
    if (n_mbs) {
        /* Kept for the next step's transaction. */
        struct dpud_mac_binding *v =
            realloc(dpud->mbs, (dpud->n_mbs + n_mbs) * sizeof *v);
        if (v) {
            memcpy(v + dpud->n_mbs, mbs, n_mbs * sizeof *v);
            dpud->mbs = v;
            dpud->n_mbs += n_mbs;
        } else {
            for (size_t i = 0; i < n_mbs; i++) {
                free(mbs[i].logical_port);
            }
        }
        free(mbs);
        dpud_schedule(dpud);
    }
    if (dpud->n_hook && ms > 5) {
        ms = 5;
    }
    poll_timer_start(dpud->loop, &dpud->dp_timer, ms ? ms : 1, dp_timer_cb, dpud);
}

/* binding_ctx.vif_ready: a VIF is up only while its representor forwards, and while
 * the host of its VF is not lost. */
static bool
dp_vif_ready(void *aux, const char *representor)
{
    struct dpud *dpud = aux;

    if (dpud->hosts && !dpud_hosts_vif_ready(dpud->hosts, representor)) {
        return false;
    }
    return !dpud->dp || dpud_dp_port_is_up(dpud->dp, representor);
}

/* Whether logical port 'lport' is bound to this chassis in 'replica'. */
static bool
lport_is_bound_here(const struct dpud *dpud, const struct ovsdb_replica *replica,
                    const char *lport)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_row *row;

    if (!t || !dpud->have_chassis) {
        return false;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const char *name = ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), "");
        if (!strcmp(name, lport)) {
            const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(row, "chassis"));
            return ch && uuid_equals(ch, &dpud->chassis_uuid);
        }
    }
    return false;
}

/* The datapath's part of a step: representors, pipeline, and the flows requests
 * that the new pipeline answers once it runs. */
static void
dp_step(struct dpud *dpud, const struct ovsdb_replica *replica)
{
    json_t *vifs = binding_vifs_to_json(dpud->binding);
    struct ovnic_err err = {0};
    char buf[256];

    if (vifs) {
        dpud_dp_sync_ports(dpud->dp, vifs);
        json_decref(vifs);
    }
    int64_t gen = dpud_dp_sync_pipeline(dpud->dp, replica, &err);
    if (gen < 0) {
        OLOG_ERR_RL(&rl, "cannot build the pipeline: %s",
                    ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                           : strerror((int)-gen));
        return;
    }
    dpud->dp_generation = gen;
    dpud_dp_sync_svc_monitors(dpud->dp, replica,
                              dpud->have_chassis ? &dpud->chassis_uuid : NULL);
    for (size_t i = 0; i < dpud->n_hook; i++) {
        if (!dpud->hook_gen[i] &&
            lport_is_bound_here(dpud, replica, dpud->hook_queue[i])) {
            dpud->hook_gen[i] = (uint64_t)gen;
        }
    }
    poll_timer_start(dpud->loop, &dpud->dp_timer, 1, dp_timer_cb, dpud);
}

/* Appends to 'txn' the MAC_Binding rows the datapath learned: an insert for a new
 * (logical_port, ip), an update when the MAC changed. */
static void
dp_mac_bindings_txn(struct dpud *dpud, const struct ovsdb_replica *replica,
                    struct ovsdb_txn *txn)
{
    const struct ovsdb_replica_table *mbt = ovsdb_replica_table(replica, "MAC_Binding");
    const struct ovsdb_replica_table *dpt =
        ovsdb_replica_table(replica, "Datapath_Binding");
    int64_t now = (int64_t)time_wall_msec();

    for (size_t i = 0; i < dpud->n_mbs; i++) {
        const struct dpud_mac_binding *m = &dpud->mbs[i];
        const struct ovsdb_row *row, *found = NULL, *dprow = NULL;

        if (mbt) {
            OVSDB_TABLE_FOR_EACH_ROW (row, mbt) {
                if (!strcmp(
                        ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), ""),
                        m->logical_port) &&
                    !strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "ip"), ""),
                            m->ip)) {
                    found = row;
                    break;
                }
            }
        }
        if (found) {
            if (strcmp(ovsdb_datum_get_string(ovsdb_row_get(found, "mac"), ""), m->mac)) {
                ovsdb_txn_update(
                    txn, "MAC_Binding", ovsdb_txn_where_uuid(ovsdb_row_uuid(found)),
                    json_pack("{s:s,s:I}", "mac", m->mac, "timestamp", (json_int_t)now));
            }
            continue;
        }
        if (dpt) {
            OVSDB_TABLE_FOR_EACH_ROW (row, dpt) {
                if (ovsdb_datum_get_int(ovsdb_row_get(row, "tunnel_key"), -1) ==
                    (int64_t)m->datapath) {
                    dprow = row;
                    break;
                }
            }
        }
        if (!dprow) {
            continue; /* The datapath is gone. */
        }
        ovsdb_txn_insert(txn, "MAC_Binding",
                         json_pack("{s:s,s:s,s:s,s:o,s:I}", "logical_port",
                                   m->logical_port, "ip", m->ip, "mac", m->mac,
                                   "datapath", ovsdb_txn_uuid(ovsdb_row_uuid(dprow)),
                                   "timestamp", (json_int_t)now),
                         NULL);
    }
    for (size_t i = 0; i < dpud->n_mbs; i++) {
        free(dpud->mbs[i].logical_port);
    }
    dpud->n_mbs = 0;
}

/* Appends to 'txn' the Service_Monitor.status the datapath's health checks found,
 * for each row whose status differs (rows probed elsewhere have no status here). */
static void
dp_svc_status_txn(struct dpud *dpud, const struct ovsdb_replica *replica,
                  struct ovsdb_txn *txn)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Service_Monitor");
    const struct ovsdb_row *row;

    if (!t) {
        return;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const char *status = dpud_dp_svc_status(dpud->dp, ovsdb_row_uuid(row));
        if (status &&
            strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "status"), ""), status)) {
            ovsdb_txn_update(txn, "Service_Monitor",
                             ovsdb_txn_where_uuid(ovsdb_row_uuid(row)),
                             json_pack("{s:s}", "status", status));
        }
    }
}

/* ---- Saved state ---- */

static void
state_save(struct dpud *dpud)
{
    dpud->save_pending = false;
    poll_timer_stop(dpud->loop, &dpud->save_timer);
    json_t *saved = binding_save(dpud->binding);
    char *tmp = NULL;

    int error = 0;

    /* The devargs given with port-add go beside what the binding table saves. */
    if (saved && dpud->dp &&
        json_object_set_new(saved, "devargs", dpud_dp_devargs_save(dpud->dp))) {
        json_decref(saved);
        saved = NULL;
    }
    if (saved && dpud->hosts &&
        json_object_set_new(saved, "hostlink", dpud_hosts_save(dpud->hosts))) {
        json_decref(saved);
        saved = NULL;
    }
    if (!saved || asprintf(&tmp, "%s.tmp", dpud->state_path) < 0) {
        OLOG_ERR("cannot save state: out of memory");
        error = -ENOMEM;
    } else if ((errno = 0) ||
               json_dump_file(saved, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) ||
               rename(tmp, dpud->state_path)) {
        error = errno ? -errno : -EIO;
        OLOG_ERR("cannot save state to %s: %s", dpud->state_path, strerror(-error));
        unlink(tmp);
    }
    free(tmp);
    json_decref(saved);

    /* Requests that changed the saved state are answered once it is on disk, so that
     * what a caller was told survives a crash right after. */
    for (size_t i = 0; i < dpud->n_save_waiters; i++) {
        if (error) {
            ctl_reply_error(dpud->ctl, dpud->save_waiters[i].conn,
                            dpud->save_waiters[i].id, error,
                            "applied, but the state file could not be saved");
        } else {
            ctl_reply(dpud->ctl, dpud->save_waiters[i].conn, dpud->save_waiters[i].id,
                      json_object());
        }
        json_decref(dpud->save_waiters[i].id);
    }
    dpud->n_save_waiters = 0;
}

static void
save_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
              void *aux)
{
    state_save(aux);
}

/* Saving rewrites the whole file, so a burst of registrations (thousands of port-add
 * requests) is saved once, at most STATE_SAVE_DELAY_MS after its first request,
 * instead of once per request.  Pending saves are flushed on every way out. */
#define STATE_SAVE_DELAY_MS 50

static void
state_save_soon(struct dpud *dpud)
{
    if (!dpud->save_pending) {
        dpud->save_pending = true;
        poll_timer_start(dpud->loop, &dpud->save_timer, STATE_SAVE_DELAY_MS,
                         save_timer_cb, dpud);
    }
}

/* Saves soon, and answers request 'id' of 'conn' with {} once saved. */
static void
state_save_then_reply(struct dpud *dpud, uint64_t conn, const json_t *id)
{
    struct pending_exit *w =
        realloc(dpud->save_waiters, (dpud->n_save_waiters + 1) * sizeof *w);

    if (!w) {
        state_save(dpud);
        ctl_reply(dpud->ctl, conn, id, json_object());
        return;
    }
    dpud->save_waiters = w;
    w[dpud->n_save_waiters].conn = conn;
    w[dpud->n_save_waiters].id = json_deep_copy(id);
    dpud->n_save_waiters++;
    state_save_soon(dpud);
}

static void
state_save_flush(struct dpud *dpud)
{
    if (dpud->save_pending) {
        state_save(dpud);
    }
}

static void
state_load(struct dpud *dpud)
{
    json_error_t jerr;
    json_t *saved;
    int error;

    if (access(dpud->state_path, F_OK)) {
        return;
    }
    saved = json_load_file(dpud->state_path, 0, &jerr);
    if (!saved) {
        OLOG_WARN("ignoring unreadable state file %s: %s", dpud->state_path, jerr.text);
        return;
    }
    error = binding_restore(dpud->binding, saved);
    if (error) {
        OLOG_WARN("ignoring state file %s: %s", dpud->state_path, strerror(-error));
    } else {
        OLOG_INFO("restored %zu port(s) from %s", binding_n_vifs(dpud->binding),
                  dpud->state_path);
        const json_t *hl = json_object_get(saved, "hostlink");
        if (hl && dpud->hosts && (error = dpud_hosts_restore(dpud->hosts, hl))) {
            OLOG_WARN("state file %s: host attachments ignored: %s", dpud->state_path,
                      strerror(-error));
        }
        const json_t *devargs = json_object_get(saved, "devargs");
        if (devargs && !dpud->dp) {
            OLOG_WARN("state file %s: port devargs ignored (datapath = none)",
                      dpud->state_path);
        } else if (devargs && (error = dpud_dp_devargs_restore(dpud->dp, devargs))) {
            OLOG_WARN("state file %s: port devargs ignored: %s", dpud->state_path,
                      strerror(-error));
        }
    }
    json_decref(saved);
}

/* ---- Hosts ---- */

static void
hosts_schedule_cb(void *aux)
{
    dpud_schedule(aux);
}

static void
hosts_save_cb(void *aux)
{
    state_save_soon(aux);
}

/* ---- Exit ---- */

static void
exits_reply(struct dpud *dpud, int error)
{
    for (size_t i = 0; i < dpud->n_exits; i++) {
        if (error) {
            ctl_reply_error(dpud->ctl, dpud->exits[i].conn, dpud->exits[i].id, error,
                            strerror(-error));
        } else {
            ctl_reply(dpud->ctl, dpud->exits[i].conn, dpud->exits[i].id, json_object());
        }
        json_decref(dpud->exits[i].id);
    }
    dpud->n_exits = 0;
}

static void
exit_finish(struct dpud *dpud)
{
    OLOG_INFO("exiting");
    exits_reply(dpud, 0);
    dpud->done = true;
    poll_loop_wake(dpud->loop);
}

void
dpud_stop(struct dpud *dpud)
{
    dpud->done = true;
    poll_loop_wake(dpud->loop);
}

bool
dpud_is_flushed(const struct dpud *dpud)
{
    return ctl_server_is_flushed(dpud->ctl);
}

bool
dpud_is_done(const struct dpud *dpud)
{
    return dpud->done;
}

/* ---- The step ---- */

/* True if 'c' starts a uuid's text form. */
static bool
at_uuid(const char *c)
{
    for (int i = 0; i < UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? c[i] != '-' : !strchr("0123456789abcdef", c[i]) || !c[i]) {
            return false;
        }
    }
    return true;
}

/* Whether two registration errors are the same failure: equal up to the end of the
 * first sentence, uuids aside.  ovsdb-server names the rows a failed transaction
 * inserted (new uuids at each retry) after the first sentence. */
static bool
same_failure(const char *a, const char *b)
{
    while (*a || *b) {
        if (at_uuid(a) && at_uuid(b)) {
            a += UUID_LEN;
            b += UUID_LEN;
            continue;
        }
        if (!strncmp(a, ".  ", 3) && !strncmp(b, ".  ", 3)) {
            return true;
        }
        if (*a != *b) {
            return false;
        }
        a++;
        b++;
    }
    return true;
}

/* Records the outcome of a transaction that wrote this chassis's rows: 'text' is
 * why it failed (NULL: committed).  "status" shows the last text; a failure is logged
 * once, not at each retry.  Returns true if the failure was logged here (now or at an
 * earlier retry). */
static bool
registration_done(struct dpud *dpud, const char *text)
{
    bool same;

    if (!text) {
        if (dpud->registration_error) {
            OLOG_INFO("chassis '%s' registered", dpud->config->system_id);
            free(dpud->registration_error);
            dpud->registration_error = NULL;
        }
        return false;
    }
    same = dpud->registration_error && same_failure(dpud->registration_error, text);
    free(dpud->registration_error);
    dpud->registration_error = strdup(text);
    if (!same) {
        OLOG_WARN_RL(&rl, "cannot register chassis '%s' (retrying with back-off): %s",
                     dpud->config->system_id, text);
    }
    return true;
}

static void
txn_cb(void *aux, int error, const json_t *result, const char *errmsg)
{
    struct dpud *dpud = aux;
    bool exit_txn = dpud->exit_txn;
    bool registers = dpud->txn_registers;
    const char *ovsdb_error = NULL;
    char *reason = NULL;

    dpud->txn_inflight = false;
    dpud->exit_txn = false;
    dpud->txn_registers = false;
    /* An operation may fail inside a transaction that the server answered. */
    for (size_t i = 0; !error && i < json_array_size(result); i++) {
        const json_t *r = json_array_get(result, i);
        const char *e = json_string_value(json_object_get(r, "error"));

        if (e) {
            error = ovsdb_cs_error_to_errno(e);
            ovsdb_error = e;
            errmsg = json_string_value(json_object_get(r, "details"));
            if (!errmsg) {
                errmsg = e;
            }
        }
    }
    binding_txn_done(dpud->binding, error);
    nbcfg_txn_done(&dpud->nbcfg, error);
    /* Lost connections and "wait" guards say nothing about the rows written. */
    bool logged = false;
    if (registers && error != -ECONNRESET && error != -ETIMEDOUT) {
        /* The server's error and its details: "constraint violation: ...". */
        const char *detail =
            errmsg && (!ovsdb_error || strcmp(errmsg, ovsdb_error)) ? errmsg : NULL;
        const char *first = ovsdb_error ? ovsdb_error : detail;

        if (error && ovsdb_error && detail) {
            if (asprintf(&reason, "%s: %s", ovsdb_error, detail) < 0) {
                reason = NULL;
            }
        } else if (error) {
            reason = strdup(first ? first : strerror(-error));
        }
        logged = registration_done(dpud, !error   ? NULL
                                         : reason ? reason
                                                  : "out of memory");
        free(reason);
    }
    if (error) {
        dpud->stats.txn_errors++;
        if (error == -ETIMEDOUT) {
            /* A "wait" guard: another client changed a row this step had read. */
            OLOG_INFO_RL(
                &rl, "SB rows changed under a transaction; retrying in %" PRIu32 " ms",
                dpud->retry_ms);
        } else if (logged) {
            OLOG_DBG_RL(&rl, "registration failed again; retrying in %" PRIu32 " ms",
                        dpud->retry_ms);
        } else {
            OLOG_WARN_RL(&rl,
                         "SB transaction failed: %s (%s); retrying in %" PRIu32 " ms",
                         errmsg ? errmsg : "", strerror(-error), dpud->retry_ms);
        }
        dpud->need_full = true;
        dpud->retry_wait = true;
        poll_timer_start(dpud->loop, &dpud->run_timer, dpud->retry_ms, run_timer_cb,
                         dpud);
        dpud->retry_ms = MIN(dpud->retry_ms * 2, RETRY_MAX_MS);
        return;
    }
    dpud->retry_ms = RETRY_MIN_MS;
    if (exit_txn) {
        exit_finish(dpud);
        return;
    }
    dpud_schedule(dpud);
}

static int
send_txn(struct dpud *dpud, struct ovsdb_txn *txn, const char *comment)
{
    json_t *ops = NULL;
    int error;

    ovsdb_txn_comment(txn, comment);
    error = ovsdb_txn_take(txn, &ops);
    if (!error) {
        error = ovsdb_cs_transact(dpud->cs, ops, txn_cb, dpud);
    }
    if (error) {
        OLOG_WARN_RL(&rl, "cannot send SB transaction: %s", strerror(-error));
        return error;
    }
    dpud->txn_inflight = true;
    dpud->stats.txns++;
    return 0;
}

/* Which of the tables that matter changed since the last step. */
struct changes {
    bool port_binding;
    bool datapath;
};

static void
changes_collect(const struct ovsdb_replica *replica, struct changes *c)
{
    static const char *const pb_tables[] = {"Port_Binding"};
    const struct ovsdb_replica_table *t;

    memset(c, 0, sizeof *c);
    t = ovsdb_replica_table(replica, pb_tables[0]);
    c->port_binding = t && ovsdb_replica_table_next_tracked(t, NULL);
    t = ovsdb_replica_table(replica, "Datapath_Binding");
    c->datapath = t && ovsdb_replica_table_next_tracked(t, NULL);
}

static char *
lports_join(const char **lports, size_t n)
{
    size_t len = 1;
    char *s, *p;

    for (size_t i = 0; i < n; i++) {
        len += strlen(lports[i]) + 1;
    }
    s = p = malloc(len);
    if (!s) {
        return NULL;
    }
    *p = '\0';
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "%s\n", lports[i]);
    }
    return s;
}

static int
compare_strs(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Recomputes the local datapaths and the monitor conditions if anything they depend
 * on changed. */
static void
update_conditions(struct dpud *dpud, const struct ovsdb_replica *replica, bool full,
                  const struct changes *c)
{
    size_t n_lports = 0;
    const char **lports = binding_lports(dpud->binding, &n_lports);
    char *key;
    bool changed = false;
    json_t *conds;
    const char *table;
    json_t *cond;

    if (!lports) {
        return;
    }
    /* The ports hosts ask for are monitored too, so that their requests can be
     * checked against their rows. */
    size_t n_wanted = 0;
    const char *const *wanted =
        dpud->hosts ? dpud_hosts_wanted_lports(dpud->hosts, &n_wanted) : NULL;
    if (n_wanted) {
        const char **v = realloc(lports, (n_lports + n_wanted + 1) * sizeof *v);
        if (!v) {
            free(lports);
            return;
        }
        lports = v;
        memcpy(lports + n_lports, wanted, n_wanted * sizeof *lports);
        n_lports += n_wanted;
        lports[n_lports] = NULL;
    }
    qsort(lports, n_lports, sizeof *lports, compare_strs);
    key = lports_join(lports, n_lports);
    if (!key) {
        free(lports);
        return;
    }
    if (full || c->port_binding || c->datapath || !dpud->lports_key ||
        strcmp(key, dpud->lports_key)) {
        dpud->stats.ldp_recomputes++;
        if (ldp_compute(&dpud->ldp, replica,
                        dpud->have_chassis ? &dpud->chassis_uuid : NULL,
                        dpud->config->system_id, lports, n_lports, &changed)) {
            OLOG_ERR("cannot compute local datapaths: out of memory");
            dpud->need_full = true;
        }
    }
    conds =
        ldp_conditions(&dpud->ldp, dpud->config->system_id,
                       dpud->have_chassis ? &dpud->chassis_uuid : NULL, lports, n_lports);
    free(lports);
    free(dpud->lports_key);
    dpud->lports_key = key;
    if (!conds) {
        return;
    }
    if (dpud->conditions && json_equal(conds, dpud->conditions)) {
        json_decref(conds);
        return;
    }
    json_object_foreach(conds, table, cond)
    {
        int error = ovsdb_cs_set_condition(dpud->cs, table, json_incref(cond));

        if (error) {
            OLOG_WARN_RL(&rl, "cannot set the monitor condition of %s: %s", table,
                         strerror(-error));
        }
    }
    dpud->stats.condition_updates++;
    json_decref(dpud->conditions);
    dpud->conditions = conds;
}

static void
dpud_run_exit(struct dpud *dpud, const struct ovsdb_replica *replica,
              struct ovsdb_txn *txn)
{
    const struct ovsdb_row *ch = chassis_lookup(replica, dpud->config->system_id);
    bool wrote = false;
    char comment[512];
    int error = 0;

    if (ch) {
        error = binding_release_all(dpud->binding, replica, ovsdb_row_uuid(ch), txn);
    }
    if (!error) {
        error = chassis_cleanup(replica, dpud->config->system_id, txn, &wrote);
    }
    if (error) {
        OLOG_ERR("cannot build the cleanup transaction: %s", strerror(-error));
        return;
    }
    if (!ovsdb_txn_n_ops(txn)) {
        exit_finish(dpud);
        return;
    }
    snprintf(comment, sizeof comment,
             "ovnic-dpud\novnic-dpud: removing all port bindings for '%s'\n"
             "ovnic-dpud: unregistering chassis '%s'",
             dpud->config->system_id, dpud->config->system_id);
    if (!send_txn(dpud, txn, comment)) {
        dpud->exit_txn = true;
    }
}

static void
dpud_run(struct dpud *dpud)
{
    const struct ovsdb_replica *replica;
    const struct ovsdb_row *ch, *cp;
    struct ovsdb_txn *txn = NULL;
    struct changes changes;
    bool full, wrote_chassis = false, wrote_nbcfg = false;
    const char *what = "";
    char comment[256];
    int error;

    if (dpud->done || dpud->txn_inflight || dpud->retry_wait ||
        !ovsdb_cs_is_synced(dpud->cs)) {
        return;
    }
    replica = ovsdb_cs_replica(dpud->cs);
    if (!replica) {
        return;
    }
    if (replica != dpud->last_replica) {
        dpud->last_replica = replica;
        dpud->need_full = true;
    }
    {
        struct ovsdb_cs_stats cs_stats;

        ovsdb_cs_get_stats(dpud->cs, &cs_stats);
        if (cs_stats.full_syncs != dpud->full_syncs) {
            /* The server sent its whole contents again. */
            dpud->full_syncs = cs_stats.full_syncs;
            lflow_engine_request_full(dpud->lflows, "full resync");
        }
    }
    full = dpud->need_full;
    dpud->need_full = false;

    /* Consume the tracked changes. */
    changes_collect(replica, &changes);
    if (full || encap_check_is_needed(replica)) {
        /* The other chassis's Encap rows: checked here, once per change, so that a
         * refused one is logged once and shown in "status". */
        if (encap_check_run(&dpud->encaps, replica, dpud->config->system_id,
                            dpud->underlay_family, NULL)) {
            OLOG_ERR_RL(&rl, "cannot check Encap rows: out of memory");
            dpud->need_full = true;
        }
    }
    if (binding_track(dpud->binding, replica, full)) {
        full = true;
        binding_track(dpud->binding, replica, true);
    }
    lflow_engine_track(dpud->lflows, replica);
    ovsdb_replica_track_clear((struct ovsdb_replica *)replica);

    if (ovsdb_txn_create(&txn)) {
        dpud->need_full = true;
        return;
    }
    if (dpud->exiting) {
        dpud_run_exit(dpud, replica, txn);
        goto out;
    }

    if (dpud->hosts) {
        /* The host facts go into the Chassis row. */
        dpud->ch_cfg.cms_options = dpud_hosts_cms_options(dpud->hosts);
    }
    error = chassis_run(replica, &dpud->ch_cfg, dpud->nbcfg.acked, dpud->nbcfg.acked_ts,
                        txn, &wrote_chassis, &what);
    if (error) {
        registration_done(dpud, strerror(-error));
        goto out;
    }
    ch = chassis_lookup(replica, dpud->config->system_id);
    cp = chassis_private_lookup(replica, dpud->config->system_id);
    if (ch) {
        if (!dpud->have_chassis ||
            !uuid_equals(&dpud->chassis_uuid, ovsdb_row_uuid(ch))) {
            if (dpud->have_chassis) {
                OLOG_INFO("chassis row of '%s' changed", dpud->config->system_id);
            }
            dpud->chassis_uuid = *ovsdb_row_uuid(ch);
            dpud->have_chassis = true;
            full = true;
        }
    } else {
        dpud->have_chassis = false;
    }
    dpud->chassis_current = !wrote_chassis;
    if (dpud->have_chassis && dpud->chassis_current) {
        registration_done(dpud, NULL); /* The rows are as they should be. */
    }
    nbcfg_observe(&dpud->nbcfg, replica, cp);

    if (full) {
        dpud->stats.full_steps++;
    } else {
        dpud->stats.incremental_steps++;
    }

    if (dpud->have_chassis && dpud->hosts) {
        struct dpud_hosts_ctx hctx = {
            .replica = replica,
            .chassis_uuid = &dpud->chassis_uuid,
            .chassis_name = dpud->config->system_id,
            .hostname = dpud->config->hostname,
            .conditions_acked = ovsdb_cs_conditions_are_acked(dpud->cs),
        };

        dpud_hosts_run(dpud->hosts, &hctx);
        dpud->ch_cfg.cms_options = dpud_hosts_cms_options(dpud->hosts);
    }
    if (dpud->have_chassis) {
        struct binding_ctx ctx = {
            .replica = replica,
            .chassis_uuid = &dpud->chassis_uuid,
            .chassis_name = dpud->config->system_id,
            .hostname = dpud->config->hostname,
            .full = full,
            .vif_ready = dpud->dp || dpud->hosts ? dp_vif_ready : NULL,
            .vif_ready_aux = dpud,
        };

        error = binding_run(dpud->binding, &ctx, txn);
        if (error) {
            OLOG_ERR_RL(&rl, "cannot compute port bindings: %s", strerror(-error));
            dpud->need_full = true;
        }
    }
    update_conditions(dpud, replica, full, &changes);

    /* The logical flows of the local datapaths, translated before nb_cfg is
     * acknowledged so that "ovn-nbctl --wait=hv" covers them. */
    error = lflow_engine_run(dpud->lflows, replica, &dpud->ldp);
    if (error) {
        OLOG_ERR_RL(&rl, "cannot translate logical flows: %s; retrying",
                    strerror(-error));
        if (!dpud->retry_wait) {
            poll_timer_start(dpud->loop, &dpud->run_timer, RETRY_MAX_MS, run_timer_cb,
                             dpud);
        }
    }

    if (dpud->dp) {
        dp_step(dpud, replica);
        if (dpud->n_mbs) {
            dp_mac_bindings_txn(dpud, replica, txn);
        }
        dp_svc_status_txn(dpud, replica, txn);
    }

    if (!ovsdb_txn_n_ops(txn)) {
        /* Everything up to this SB state is processed (and its flows installed). */
        bool settled = dpud->have_chassis && binding_is_settled(dpud->binding) &&
                       !dpud->n_hook && lflow_engine_is_current(dpud->lflows) &&
                       ovsdb_cs_conditions_are_acked(dpud->cs);

        error = nbcfg_run(&dpud->nbcfg, cp, settled, txn, &wrote_nbcfg);
        if (error) {
            OLOG_ERR_RL(&rl, "cannot acknowledge nb_cfg: %s", strerror(-error));
        }
    }
    if (!ovsdb_txn_n_ops(txn)) {
        binding_txn_done(dpud->binding, 0);
        goto out;
    }
    if (wrote_chassis) {
        dpud->stats.chassis_writes++;
        snprintf(comment, sizeof comment, "ovnic-dpud\novnic-dpud: %s chassis '%s'", what,
                 dpud->config->system_id);
        if (dpud->registration_error) {
            OLOG_DBG("%s chassis '%s' again", what, dpud->config->system_id);
        } else {
            OLOG_INFO("%s chassis '%s'", what, dpud->config->system_id);
        }
    } else {
        snprintf(comment, sizeof comment, "ovnic-dpud");
    }
    if (send_txn(dpud, txn, comment)) {
        binding_txn_done(dpud->binding, -ENOTCONN);
        nbcfg_txn_done(&dpud->nbcfg, -ENOTCONN);
        dpud->need_full = true;
    } else {
        dpud->txn_registers = wrote_chassis;
    }
out:
    ovsdb_txn_destroy(txn);
}

/* ---- Control socket ---- */

static const char *
param_string(const json_t *params, const char *key)
{
    return json_string_value(json_object_get(json_array_get(params, 0), key));
}

static json_t *
status_json(struct dpud *dpud)
{
    struct ovsdb_cs_stats cs_stats;
    struct binding_stats bs;
    const struct ovsdb_replica *replica = ovsdb_cs_replica(dpud->cs);
    const struct ovsdb_row *cp =
        replica ? chassis_private_lookup(replica, dpud->config->system_id) : NULL;
    char uuid[UUID_LEN + 1], cp_uuid[UUID_LEN + 1];
    const char *remote = ovsdb_cs_remote(dpud->cs);

    ovsdb_cs_get_stats(dpud->cs, &cs_stats);
    binding_get_stats(dpud->binding, &bs);
    if (cp) {
        uuid_to_string(ovsdb_row_uuid(cp), cp_uuid);
    }
    struct lflow_engine_stats ls;
    lflow_engine_get_stats(dpud->lflows, &ls);
    /* Every failure of the SB connection: attempts that failed, connections lost,
     * and protocol errors (each also shown on its own). */
    uint64_t sb_errors =
        cs_stats.connect_failures + cs_stats.disconnects + cs_stats.errors;
    json_t *counters = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:I, s:I, s:I, s:I}",
        "incremental_steps", (json_int_t)dpud->stats.incremental_steps, "full_steps",
        (json_int_t)dpud->stats.full_steps, "full_recomputes",
        (json_int_t)ls.full_recomputes, "ldp_recomputes",
        (json_int_t)dpud->stats.ldp_recomputes, "condition_updates",
        (json_int_t)dpud->stats.condition_updates, "txns", (json_int_t)dpud->stats.txns,
        "txn_errors", (json_int_t)dpud->stats.txn_errors, "chassis_writes",
        (json_int_t)dpud->stats.chassis_writes, "claims", (json_int_t)bs.claims,
        "releases", (json_int_t)bs.releases, "takeovers", (json_int_t)bs.takeovers,
        "backoffs", (json_int_t)bs.backoffs, "plugs", (json_int_t)bs.plugs, "unplugs",
        (json_int_t)bs.unplugs, "plug_unresolved", (json_int_t)bs.plug_unresolved,
        "up_set", (json_int_t)bs.up_set, "nb_cfg_acks", (json_int_t)dpud->nbcfg.n_acks,
        "sb_connects", (json_int_t)cs_stats.connects, "sb_errors", (json_int_t)sb_errors,
        "sb_connect_failures", (json_int_t)cs_stats.connect_failures, "sb_disconnects",
        (json_int_t)cs_stats.disconnects, "sb_protocol_errors",
        (json_int_t)cs_stats.errors);
    json_t *status = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:s?, s:I, s:I, s:I, s:I, s:I, s:b, s:b,"
        " s:s, s:s, s:o, s:o}",
        "system_id", dpud->config->system_id, "hostname", dpud->config->hostname,
        "sb_remote", dpud->config->sb_remote, "sb_connected_remote", remote, "sb_state",
        ovsdb_cs_state_to_string(ovsdb_cs_state(dpud->cs)), "chassis_uuid",
        dpud->have_chassis ? json_string(uuid_to_string(&dpud->chassis_uuid, uuid))
                           : json_null(),
        "chassis_private_uuid", cp ? json_string(cp_uuid) : json_null(),
        "registration_error", dpud->registration_error, "local_datapaths",
        (json_int_t)ldp_count(&dpud->ldp), "local_ports",
        (json_int_t)binding_n_vifs(dpud->binding), "ports_up",
        (json_int_t)binding_n_up(dpud->binding), "nb_cfg_seen",
        (json_int_t)dpud->nbcfg.seen, "nb_cfg_acked", (json_int_t)dpud->nbcfg.acked,
        "chassis_current", dpud->have_chassis && dpud->chassis_current, "monitor_all",
        dpud->config->monitor_all, "datapath", dpud->dp ? "dpdk" : DPUD_DATAPATH_STATUS,
        "last_full_reason", ls.last_full_reason, "bad_encaps",
        encap_check_to_json(&dpud->encaps), "counters", counters);
    if (status) {
        json_object_set_new(status, "control_socket",
                            ctl_server_stats_to_json(dpud->ctl));
        json_object_set_new(status, "hostlink",
                            dpud->hosts ? dpud_hosts_to_json(dpud->hosts) : json_null());
        json_object_set_new(status, "dp_ports",
                            dpud->dp ? dpud_dp_ports_status(dpud->dp) : json_array());
        json_object_set_new(json_object_get(status, "counters"), "up_cleared",
                            json_integer((json_int_t)bs.up_cleared));
    }
    return status;
}

static bool
is_our_encap_ip(const struct dpud *dpud, const char *ip)
{
    for (size_t i = 0; i < dpud->config->n_encap_ips; i++) {
        if (!strcmp(dpud->config->encap_ips[i], ip)) {
            return true;
        }
    }
    return false;
}

static void
ctl_request(void *aux, uint64_t conn, const char *method, const json_t *params,
            const json_t *id)
{
    struct dpud *dpud = aux;
    const json_t *args = json_array_get(params, 0);
    struct ovnic_err err = {0};
    char buf[256];
    int error;

    if (json_is_null(args)) {
        args = NULL;
    }

    if (json_array_size(params) > 1 || (args && !json_is_object(args))) {
        ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                        "params must be [] or [{arguments}]");
        return;
    }
    json_t *dp_result;
    if (dpud->dp &&
        dpud_dp_ctl(dpud->dp, method, args, &dp_result, &error, buf, sizeof buf)) {
        if (error) {
            ctl_reply_error(dpud->ctl, conn, id, error, buf);
        } else {
            ctl_reply(dpud->ctl, conn, id, dp_result);
        }
        return;
    }
    if (!dpud->dp && (!strncmp(method, "dp-", 3) || !strncmp(method, "conntrack-", 10))) {
        ctl_reply_error(dpud->ctl, conn, id, -EOPNOTSUPP,
                        "no datapath: ovnic-dpud runs with datapath = none");
        return;
    }
    if (!strcmp(method, "status")) {
        json_t *status = status_json(dpud);

        if (!status) {
            ctl_reply_error(dpud->ctl, conn, id, -ENOMEM, "out of memory");
            return;
        }
        ctl_reply(dpud->ctl, conn, id, status);
    } else if (!strcmp(method, "lflow-status")) {
        const json_t *failures = json_object_get(args, "failures");
        const json_t *limit = json_object_get(args, "limit");
        json_t *result;

        if ((failures && !json_is_boolean(failures)) ||
            (limit && (!json_is_integer(limit) || json_integer_value(limit) < 0))) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "\"failures\" must be a boolean and \"limit\" a "
                            "non-negative integer");
            return;
        }
        result = lflow_engine_to_json(dpud->lflows, json_is_true(failures),
                                      limit ? (size_t)json_integer_value(limit)
                                            : DPUD_LFLOW_FAILURES_MAX);
        if (!result) {
            ctl_reply_error(dpud->ctl, conn, id, -ENOMEM, "out of memory");
            return;
        }
        ctl_reply(dpud->ctl, conn, id, result);
    } else if (!strcmp(method, "hosts")) {
        json_t *result;

        if (!dpud->hosts) {
            ctl_reply_error(dpud->ctl, conn, id, -EOPNOTSUPP,
                            "no host sessions: hostlink-listen is not set");
            return;
        }
        result = dpud_hosts_to_json(dpud->hosts);
        if (!result) {
            ctl_reply_error(dpud->ctl, conn, id, -ENOMEM, "out of memory");
            return;
        }
        ctl_reply(dpud->ctl, conn, id, result);
    } else if (!strcmp(method, "port-list")) {
        ctl_reply(dpud->ctl, conn, id, binding_vifs_to_json(dpud->binding));
    } else if (!strcmp(method, "port-add")) {
        const char *rep = param_string(params, "representor");
        const char *iface = param_string(params, "iface_id");
        const char *encap = param_string(params, "encap_ip");
        const json_t *devargs = json_object_get(args, "devargs");

        if (json_is_null(devargs)) {
            devargs = NULL;
        }
        if (!rep || !iface) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "port-add needs \"representor\" and \"iface_id\"");
            return;
        }
        if (devargs && (!json_is_string(devargs) || !*json_string_value(devargs))) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "\"devargs\" must be a non-empty string");
            return;
        }
        if (devargs && !dpud->dp) {
            ctl_reply_error(dpud->ctl, conn, id, -EOPNOTSUPP,
                            "not supported: devargs need the DPDK datapath "
                            "(ovnic-dpud runs with datapath = none)");
            return;
        }
        if (encap && *encap && !is_our_encap_ip(dpud, encap)) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "encap_ip is not one of this chassis's encap IPs");
            return;
        }
        error = binding_port_add(dpud->binding, rep, iface, encap, &err);
        if (error) {
            ctl_reply_error(dpud->ctl, conn, id, error,
                            ovnic_err_is_set(&err)
                                ? ovnic_err_format(&err, buf, sizeof buf)
                                : strerror(-error));
            return;
        }
        /* The port's devargs are those of its last port-add. */
        if (dpud->dp && (error = dpud_dp_port_devargs_set(dpud->dp, rep,
                                                          json_string_value(devargs)))) {
            ctl_reply_error(dpud->ctl, conn, id, error,
                            "registered, but its devargs could not be kept");
            dpud_schedule(dpud);
            state_save_soon(dpud);
            return;
        }
        dpud_schedule(dpud);
        state_save_then_reply(dpud, conn, id);
    } else if (!strcmp(method, "port-del")) {
        const char *rep = param_string(params, "representor");

        if (!rep) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "port-del needs \"representor\"");
            return;
        }
        error = binding_port_del(dpud->binding, rep);
        if (error) {
            ctl_reply_error(dpud->ctl, conn, id, error,
                            error == -ENOENT ? "no such port"
                            : error == -EPERM
                                ? "port is plugged from vif-plug options of its "
                                  "Port_Binding; withdraw them instead"
                                : strerror(-error));
            return;
        }
        if (dpud->dp) {
            dpud_dp_port_devargs_set(dpud->dp, rep, NULL);
        }
        dpud_schedule(dpud);
        state_save_then_reply(dpud, conn, id);
    } else if (!strcmp(method, "representor-add")) {
        const char *mac = param_string(params, "pf_mac");
        const char *name = param_string(params, "name");
        const json_t *vf = json_object_get(args, "vf_num");
        char lmac[18];

        if (!mac || dpud_config_parse_mac(mac, lmac)) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL, "bad or missing \"pf_mac\"");
            return;
        }
        if (!json_is_integer(vf) || json_integer_value(vf) < 0 ||
            json_integer_value(vf) > UINT16_MAX) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "\"vf_num\" must be an integer in [0, 65535]");
            return;
        }
        if (!name) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL, "missing \"name\"");
            return;
        }
        if ((error = binding_representor_name_check(name, &err))) {
            ctl_reply_error(dpud->ctl, conn, id, error,
                            ovnic_err_format(&err, buf, sizeof buf));
            return;
        }
        error =
            binding_representor_add(dpud->binding, lmac, json_integer_value(vf), name);
        if (error) {
            ctl_reply_error(dpud->ctl, conn, id, error, strerror(-error));
            return;
        }
        dpud_schedule(dpud);
        state_save_then_reply(dpud, conn, id);
    } else if (!strcmp(method, "exit")) {
        const json_t *restart = json_object_get(args, "restart");
        struct pending_exit *e;

        if (restart && !json_is_boolean(restart)) {
            ctl_reply_error(dpud->ctl, conn, id, -EINVAL,
                            "\"restart\" must be a boolean");
            return;
        }
        if (json_is_true(restart)) {
            OLOG_INFO("exiting for a restart: SB rows kept");
            ctl_reply(dpud->ctl, conn, id, json_object());
            dpud_stop(dpud);
            return;
        }
        e = realloc(dpud->exits, (dpud->n_exits + 1) * sizeof *e);
        if (!e) {
            ctl_reply_error(dpud->ctl, conn, id, -ENOMEM, "out of memory");
            return;
        }
        dpud->exits = e;
        e[dpud->n_exits].conn = conn;
        e[dpud->n_exits].id = json_deep_copy(id);
        dpud->n_exits++;
        if (!dpud->exiting) {
            OLOG_INFO("clean exit: removing this chassis from the SB");
            dpud->exiting = true;
        }
        dpud_schedule(dpud);
    } else {
        ctl_reply_error(dpud->ctl, conn, id, -ENOSYS, "unknown method");
    }
}

/* ---- Life cycle ---- */

int
dpud_create(struct poll_loop *loop, const struct dpud_config *config, struct dpud **dpudp,
            struct ovnic_err *err)
{
    struct tls_config tls = {
        .ca_file = config->ca_cert,
        .cert_file = config->certificate,
        .key_file = config->private_key,
    };
    struct ovsdb_cs_config cs_cfg = {
        .remotes = config->sb_remote,
        .database = SB_DATABASE,
        .tls = config->ca_cert ? &tls : NULL,
        .probe_interval_ms = config->probe_interval,
        .leader_only = false,
        .monitor_all = config->monitor_all,
    };
    struct dpud *dpud = calloc(1, sizeof *dpud);
    char *ctl_path = NULL;
    json_t *conds;
    const char *table;
    json_t *cond;
    int error;

    if (!dpud) {
        return -ENOMEM;
    }
    dpud->loop = loop;
    dpud->config = config;
    dpud->retry_ms = RETRY_MIN_MS;
    dpud->need_full = true;
    dpud->ch_cfg = (struct chassis_config){
        .name = config->system_id,
        .hostname = config->hostname,
        .encap_ips = (const char *const *)config->encap_ips,
        .n_encap_ips = config->n_encap_ips,
        .encap_csum = config->encap_csum,
        .bridge_mappings = config->bridge_mappings,
        .cms_options = config->cms_options,
        .monitor_all = config->monitor_all,
    };
    poll_timer_init(&dpud->run_timer);
    poll_timer_init(&dpud->hook_timer);
    poll_timer_init(&dpud->dp_timer);
    ldp_init(&dpud->ldp);
    nbcfg_init(&dpud->nbcfg);
    encap_check_init(&dpud->encaps);
    {
        /* The underlay is that of the first encap IP (the datapath's endpoint). */
        struct in6_addr a6;

        dpud->underlay_family = !config->n_encap_ips ? AF_UNSPEC
                                : inet_pton(AF_INET6, config->encap_ips[0], &a6) == 1
                                    ? AF_INET6
                                    : AF_INET;
    }

    error = lflow_engine_create(&dpud->lflows);
    if (error) {
        goto err;
    }
    error = binding_create(&dpud->binding);
    if (error) {
        goto err;
    }
    binding_set_flows_hook(dpud->binding, flows_request_cb, dpud);
    for (size_t i = 0; i < config->n_representors; i++) {
        error = binding_representor_add(dpud->binding, config->representors[i].pf_mac,
                                        config->representors[i].vf_num,
                                        config->representors[i].name);
        if (error) {
            goto err;
        }
    }
    if (config->dpdk) {
        error = dpud_dp_create(config, &dpud->dp, err);
        if (error) {
            goto err;
        }
        poll_timer_start(loop, &dpud->dp_timer, 1, dp_timer_cb, dpud);
    }
    if (config->hostlink_listen) {
        static const struct dpud_hosts_ops hosts_ops = {
            .schedule = hosts_schedule_cb,
            .save = hosts_save_cb,
        };

        error = dpud_hosts_create(loop, config, dpud->binding, &hosts_ops, dpud,
                                  &dpud->hosts, err);
        if (error) {
            goto err;
        }
    }
    dpud->state_path = dpud_config_state_path(config);
    ctl_path = dpud_config_ctl_path(config);
    if (!dpud->state_path || !ctl_path) {
        error = -ENOMEM;
        goto err;
    }
    state_load(dpud);

    error = ctl_server_create(loop, ctl_path, ctl_request, dpud, &dpud->ctl, err);
    if (error) {
        goto err;
    }
    error = ovsdb_cs_create(loop, &cs_cfg, &dpud->cs, err);
    if (error) {
        goto err;
    }
    ovsdb_cs_set_change_cb(dpud->cs, cs_change_cb, dpud);
    error = ovsdb_cs_set_tables(dpud->cs, ldp_monitored_tables());
    if (error) {
        goto err;
    }
    /* The conditions of a chassis that is not registered yet, for the first
     * monitor request. */
    conds = ldp_conditions(&dpud->ldp, config->system_id, NULL, NULL, 0);
    if (!conds) {
        error = -ENOMEM;
        goto err;
    }
    json_object_foreach(conds, table, cond)
    {
        ovsdb_cs_set_condition(dpud->cs, table, json_incref(cond));
    }
    dpud->conditions = conds;
    OLOG_INFO("chassis '%s' connecting to %s (%s)", config->system_id, config->sb_remote,
              config->monitor_all ? "monitoring every row" : "conditional monitoring");
    free(ctl_path);
    *dpudp = dpud;
    return 0;

err:
    free(ctl_path);
    dpud_destroy(dpud);
    return error;
}

void
dpud_destroy(struct dpud *dpud)
{
    if (!dpud) {
        return;
    }
    state_save_flush(dpud);
    poll_timer_stop(dpud->loop, &dpud->save_timer);
    exits_reply(dpud, -ECANCELED);
    ovsdb_cs_destroy(dpud->cs);
    ctl_server_destroy(dpud->ctl);
    dpud_hosts_destroy(dpud->hosts);
    poll_timer_stop(dpud->loop, &dpud->run_timer);
    poll_timer_stop(dpud->loop, &dpud->hook_timer);
    for (size_t i = 0; i < dpud->n_hook; i++) {
        free(dpud->hook_queue[i]);
    }
    free(dpud->hook_queue);
    free(dpud->hook_gen);
    poll_timer_stop(dpud->loop, &dpud->dp_timer);
    dpud_dp_destroy(dpud->dp);
    for (size_t i = 0; i < dpud->n_mbs; i++) {
        free(dpud->mbs[i].logical_port);
    }
    free(dpud->mbs);
    free(dpud->save_waiters);
    binding_destroy(dpud->binding);
    lflow_engine_destroy(dpud->lflows);
    ldp_destroy(&dpud->ldp);
    encap_check_destroy(&dpud->encaps);
    free(dpud->registration_error);
    json_decref(dpud->conditions);
    free(dpud->lports_key);
    free(dpud->exits);
    free(dpud->state_path);
    free(dpud);
}
