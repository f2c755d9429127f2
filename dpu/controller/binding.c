/* ovnic: binding local VIFs to Port_Binding rows (see binding.h). */
#include "binding.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/txn.h"
#include "shared/util/hash.h"
#include "shared/util/json.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(binding);

enum vif_origin {
    VIF_ADDED,
    VIF_PLUGGED,
};

enum vif_state {
    VIF_NO_BINDING,      /* No Port_Binding with that logical_port. */
    VIF_RELEASING,       /* Waits for the release of an earlier binding. */
    VIF_CLAIMING,        /* Claim in flight or waiting for its commit. */
    VIF_BOUND,           /* Bound here; waiting for the flows. */
    VIF_UP,              /* Bound here and up. */
    VIF_DOWN,            /* Bound here; its representor does not forward. */
    VIF_ADDITIONAL,      /* Bound here as an additional chassis. */
    VIF_OTHER_REQUESTED, /* Requested for another chassis. */
    VIF_OTHER_CLAIMED,   /* Held by another chassis, not requested here. */
};

static const char *const vif_state_names[] = {
    [VIF_NO_BINDING] = "no-binding",
    [VIF_RELEASING] = "releasing",
    [VIF_CLAIMING] = "claiming",
    [VIF_BOUND] = "bound",
    [VIF_UP] = "up",
    [VIF_DOWN] = "down",
    [VIF_ADDITIONAL] = "additional",
    [VIF_OTHER_REQUESTED] = "requested-elsewhere",
    [VIF_OTHER_CLAIMED] = "claimed-elsewhere",
};

struct vif {
    struct hmap_node node; /* In 'vifs', by representor. */
    char *representor;
    char *iface_id;
    char *encap_ip; /* NULL if none. */
    enum vif_origin origin;
    int64_t mtu; /* Plugged: vif-plug-mtu-request, 0 if none. */
    enum vif_state state;
    bool claim_inflight;  /* A claim is in the transaction in flight. */
    bool claim_committed; /* The binding here is committed (or was found). */
    bool hook_requested;  /* Flows requested for the current binding. */
    bool installed;       /* Flows installed for the current binding. */
    bool up_inflight;     /* "up" is in the transaction in flight. */
    bool down_inflight;   /* "up" = false is in the transaction in flight. */
};

struct representor {
    struct hmap_node node; /* By pf_mac and vf_num. */
    char pf_mac[18];
    uint32_t vf_num;
    char *name;
};

/* A logical port to release: its VIF went away (or it is bound here without one). */
struct release {
    struct hmap_node node; /* By iface-id. */
    char *iface_id;
    bool inflight;
};

/* Port_Binding index entry. */
struct pb_entry {
    struct hmap_node name_node; /* In 'pb_by_name'. */
    struct hmap_node uuid_node; /* In 'pb_by_uuid'. */
    struct uuid uuid;
    char *name;
};

struct binding {
    struct hmap vifs;
    struct hmap representors;
    struct hmap releases;
    struct hmap pb_by_name;
    struct hmap pb_by_uuid;
    binding_flows_request_cb flows_cb;
    void *flows_aux;
    bool txn_inflight;
    bool plug_full;           /* Re-examine every row for vif-plug at the next run. */
    struct uuid *changed_pbs; /* Tracked Port_Binding rows since the last run. */
    size_t n_changed, cap_changed;
    bool changed_overflow;
    struct binding_stats stats;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

/* ---- Creation ---- */

int
binding_create(struct binding **bindingp)
{
    struct binding *b = calloc(1, sizeof *b);

    if (!b) {
        return -ENOMEM;
    }
    hmap_init(&b->vifs);
    hmap_init(&b->representors);
    hmap_init(&b->releases);
    hmap_init(&b->pb_by_name);
    hmap_init(&b->pb_by_uuid);
    b->plug_full = true;
    *bindingp = b;
    return 0;
}

static void
vif_free(struct vif *vif)
{
    if (vif) {
        free(vif->representor);
        free(vif->iface_id);
        free(vif->encap_ip);
        free(vif);
    }
}

static void
pb_index_clear(struct binding *b)
{
    struct pb_entry *e, *next;

    HMAP_FOR_EACH_SAFE (e, next, uuid_node, &b->pb_by_uuid) {
        hmap_remove(&b->pb_by_uuid, &e->uuid_node);
        hmap_remove(&b->pb_by_name, &e->name_node);
        free(e->name);
        free(e);
    }
}

void
binding_destroy(struct binding *b)
{
    struct representor *r, *rnext;
    struct release *rel, *relnext;
    struct vif *vif, *next;

    if (!b) {
        return;
    }
    HMAP_FOR_EACH_SAFE (vif, next, node, &b->vifs) {
        hmap_remove(&b->vifs, &vif->node);
        vif_free(vif);
    }
    HMAP_FOR_EACH_SAFE (r, rnext, node, &b->representors) {
        hmap_remove(&b->representors, &r->node);
        free(r->name);
        free(r);
    }
    HMAP_FOR_EACH_SAFE (rel, relnext, node, &b->releases) {
        hmap_remove(&b->releases, &rel->node);
        free(rel->iface_id);
        free(rel);
    }
    pb_index_clear(b);
    hmap_destroy(&b->vifs);
    hmap_destroy(&b->representors);
    hmap_destroy(&b->releases);
    hmap_destroy(&b->pb_by_name);
    hmap_destroy(&b->pb_by_uuid);
    free(b->changed_pbs);
    free(b);
}

void
binding_set_flows_hook(struct binding *b, binding_flows_request_cb cb, void *aux)
{
    b->flows_cb = cb;
    b->flows_aux = aux;
}

/* ---- VIFs and representors ---- */

static struct vif *
vif_find(const struct binding *b, const char *representor)
{
    struct vif *vif;

    HMAP_FOR_EACH_WITH_HASH (vif, node, hash_string(representor, 0), &b->vifs) {
        if (!strcmp(vif->representor, representor)) {
            return vif;
        }
    }
    return NULL;
}

static struct vif *
vif_find_plugged(const struct binding *b, const char *iface_id)
{
    struct vif *vif;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (vif->origin == VIF_PLUGGED && !strcmp(vif->iface_id, iface_id)) {
            return vif;
        }
    }
    return NULL;
}

static struct release *
release_find(const struct binding *b, const char *iface_id)
{
    struct release *rel;

    HMAP_FOR_EACH_WITH_HASH (rel, node, hash_string(iface_id, 0), &b->releases) {
        if (!strcmp(rel->iface_id, iface_id)) {
            return rel;
        }
    }
    return NULL;
}

static int
release_add(struct binding *b, const char *iface_id)
{
    struct release *rel;

    if (release_find(b, iface_id)) {
        return 0;
    }
    rel = calloc(1, sizeof *rel);
    if (!rel || !(rel->iface_id = strdup(iface_id))) {
        free(rel);
        return -ENOMEM;
    }
    hmap_insert(&b->releases, &rel->node, hash_string(iface_id, 0));
    return 0;
}

static void
release_remove(struct binding *b, struct release *rel)
{
    hmap_remove(&b->releases, &rel->node);
    free(rel->iface_id);
    free(rel);
}

static int
vif_create(struct binding *b, const char *representor, const char *iface_id,
           const char *encap_ip, enum vif_origin origin, int64_t mtu, struct vif **vifp)
{
    struct vif *vif = calloc(1, sizeof *vif);

    if (!vif || !(vif->representor = strdup(representor)) ||
        !(vif->iface_id = strdup(iface_id)) ||
        (encap_ip && !(vif->encap_ip = strdup(encap_ip)))) {
        vif_free(vif);
        return -ENOMEM;
    }
    vif->origin = origin;
    vif->mtu = mtu;
    vif->state = VIF_NO_BINDING;
    hmap_insert(&b->vifs, &vif->node, hash_string(representor, 0));
    *vifp = vif;
    return 0;
}

/* Removes 'vif' and queues the release of its port. */
static int
vif_remove(struct binding *b, struct vif *vif)
{
    int error = release_add(b, vif->iface_id);

    hmap_remove(&b->vifs, &vif->node);
    vif_free(vif);
    return error;
}

static bool
representor_name_char_is_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

int
binding_representor_name_check(const char *name, struct ovnic_err *err)
{
    static const char allowed[] = "a name is 1 to 53 bytes of letters, digits, '_', '.' "
                                  "and '-', not starting with '.' or '-'";
    size_t len, ok;

    _Static_assert(BINDING_REPRESENTOR_NAME_MAX == 53, "update 'allowed'");
    if (!name || !*name) {
        return ovnic_err_set(err, -EINVAL, "representor", "empty representor name", "%s",
                             allowed);
    }
    /* Messages quote only the leading part made of allowed characters. */
    len = strnlen(name, BINDING_REPRESENTOR_NAME_MAX + 1);
    for (ok = 0; ok < len && representor_name_char_is_ok((unsigned char)name[ok]); ok++) {
        continue;
    }
    if (len > BINDING_REPRESENTOR_NAME_MAX) {
        return ovnic_err_set(err, -EINVAL, "representor", "representor name too long",
                             "'%.*s...' has %zu bytes; %s", (int)(ok < 20 ? ok : 20),
                             name, strlen(name), allowed);
    }
    if (ok < len) {
        unsigned char c = (unsigned char)name[ok];
        char shown[16];

        if (c >= ' ' && c < 0x7f) {
            snprintf(shown, sizeof shown, "'%c'", c);
        } else {
            snprintf(shown, sizeof shown, "byte 0x%02x", c);
        }
        return ovnic_err_set(err, -EINVAL, "representor", "bad representor name",
                             "%s after '%.*s'; %s", shown, (int)ok, name, allowed);
    }
    if (name[0] == '.' || name[0] == '-') {
        return ovnic_err_set(err, -EINVAL, "representor", "bad representor name",
                             "'%s' starts with '%c'; %s", name, name[0], allowed);
    }
    return 0;
}

int
binding_port_add(struct binding *b, const char *representor, const char *iface_id,
                 const char *encap_ip, struct ovnic_err *err)
{
    struct vif *vif;

    int error = binding_representor_name_check(representor, err);

    if (error) {
        return error;
    }
    if (!iface_id || !*iface_id) {
        return ovnic_err_set(err, -EINVAL, "port", "empty iface-id", NULL);
    }
    if (strlen(iface_id) > BINDING_IFACE_ID_MAX) {
        return ovnic_err_set(err, -EINVAL, "port", "iface-id too long",
                             "%zu bytes, at most %d", strlen(iface_id),
                             BINDING_IFACE_ID_MAX);
    }
    if (encap_ip && !*encap_ip) {
        encap_ip = NULL;
    }
    vif = vif_find(b, representor);
    if (vif) {
        if (vif->origin == VIF_ADDED && !strcmp(vif->iface_id, iface_id) &&
            !strcmp(vif->encap_ip ? vif->encap_ip : "", encap_ip ? encap_ip : "")) {
            return 0;
        }
        return ovnic_err_set(err, -EEXIST, "port",
                             vif->origin == VIF_PLUGGED
                                 ? "representor is plugged from vif-plug options"
                                 : "representor already registered",
                             "%s carries %s", representor, vif->iface_id);
    }
    return vif_create(b, representor, iface_id, encap_ip, VIF_ADDED, 0, &vif);
}

int
binding_port_del(struct binding *b, const char *representor)
{
    struct vif *vif = vif_find(b, representor);

    if (!vif) {
        return -ENOENT;
    }
    if (vif->origin == VIF_PLUGGED) {
        return -EPERM;
    }
    return vif_remove(b, vif);
}

static struct representor *
representor_find(const struct binding *b, const char *pf_mac, uint32_t vf_num)
{
    uint32_t hash = hash_string(pf_mac, vf_num);
    struct representor *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &b->representors) {
        if (!strcmp(r->pf_mac, pf_mac) && r->vf_num == vf_num) {
            return r;
        }
    }
    return NULL;
}

int
binding_representor_add(struct binding *b, const char *pf_mac, uint32_t vf_num,
                        const char *name)
{
    struct representor *r;
    char *copy;

    if (!pf_mac || strlen(pf_mac) != 17 || binding_representor_name_check(name, NULL)) {
        return -EINVAL;
    }
    copy = strdup(name);
    if (!copy) {
        return -ENOMEM;
    }
    r = representor_find(b, pf_mac, vf_num);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) {
            free(copy);
            return -ENOMEM;
        }
        memcpy(r->pf_mac, pf_mac, sizeof r->pf_mac);
        r->vf_num = vf_num;
        hmap_insert(&b->representors, &r->node, hash_string(pf_mac, vf_num));
    }
    free(r->name);
    r->name = copy;
    b->plug_full = true;
    return 0;
}

/* ---- Port_Binding index ---- */

static struct pb_entry *
pb_entry_by_uuid(const struct binding *b, const struct uuid *uuid)
{
    struct pb_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, uuid_node, uuid_hash(uuid), &b->pb_by_uuid) {
        if (uuid_equals(&e->uuid, uuid)) {
            return e;
        }
    }
    return NULL;
}

static const struct ovsdb_row *
pb_lookup(const struct binding *b, const struct ovsdb_replica_table *t, const char *name)
{
    struct pb_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, name_node, hash_string(name, 0), &b->pb_by_name) {
        if (!strcmp(e->name, name)) {
            const struct ovsdb_row *row = ovsdb_replica_table_find(t, &e->uuid);

            if (row && ovsdb_row_change(row) != OVSDB_ROW_DELETED) {
                return row;
            }
        }
    }
    return NULL;
}

static void
pb_entry_remove(struct binding *b, struct pb_entry *e)
{
    hmap_remove(&b->pb_by_uuid, &e->uuid_node);
    hmap_remove(&b->pb_by_name, &e->name_node);
    free(e->name);
    free(e);
}

static int
pb_entry_add(struct binding *b, const struct ovsdb_row *row)
{
    const char *name = ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), "");
    struct pb_entry *e = calloc(1, sizeof *e);

    if (!e || !(e->name = strdup(name))) {
        free(e);
        return -ENOMEM;
    }
    e->uuid = *ovsdb_row_uuid(row);
    hmap_insert(&b->pb_by_uuid, &e->uuid_node, uuid_hash(&e->uuid));
    hmap_insert(&b->pb_by_name, &e->name_node, hash_string(e->name, 0));
    return 0;
}

static void
changed_note(struct binding *b, const struct uuid *uuid)
{
    if (b->changed_overflow) {
        return;
    }
    if (b->n_changed == b->cap_changed) {
        size_t cap = b->cap_changed ? 2 * b->cap_changed : 64;
        struct uuid *u = realloc(b->changed_pbs, cap * sizeof *u);

        if (!u) {
            /* Fall back to examining every row. */
            b->changed_overflow = true;
            return;
        }
        b->changed_pbs = u;
        b->cap_changed = cap;
    }
    b->changed_pbs[b->n_changed++] = *uuid;
}

int
binding_track(struct binding *b, const struct ovsdb_replica *replica, bool full)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_row *row;
    int error;

    if (!t) {
        pb_index_clear(b);
        return 0;
    }
    if (full) {
        pb_index_clear(b);
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            if ((error = pb_entry_add(b, row))) {
                pb_index_clear(b);
                return error;
            }
        }
        b->plug_full = true;
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_TRACKED (row, t) {
        struct pb_entry *e = pb_entry_by_uuid(b, ovsdb_row_uuid(row));
        enum ovsdb_row_change ch = ovsdb_row_change(row);

        if (ch == OVSDB_ROW_DELETED) {
            if (e) {
                pb_entry_remove(b, e);
            }
        } else if (!e || strcmp(e->name, ovsdb_datum_get_string(
                                             ovsdb_row_get(row, "logical_port"), ""))) {
            if (e) {
                pb_entry_remove(b, e);
            }
            if ((error = pb_entry_add(b, row))) {
                return error;
            }
        }
        changed_note(b, ovsdb_row_uuid(row));
    }
    return 0;
}

/* ---- Decisions ---- */

enum can_bind {
    CAN_BIND_MAIN,
    CAN_BIND_ADDITIONAL,
    CANNOT_BIND,
};

/* Whether the port of 'pb' may be bound here, and whether it is explicitly
 * requested here ('*requested'). */
static enum can_bind
pb_can_bind(const struct ovsdb_row *pb, const struct binding_ctx *ctx, bool *requested)
{
    const struct uuid *req = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "requested_chassis"));
    const char *opt =
        ovsdb_datum_map_get_string(ovsdb_row_get(pb, "options"), "requested-chassis", "");
    char *copy, *save = NULL;
    enum can_bind result = CANNOT_BIND;
    bool first = true;

    *requested = false;
    if (req && uuid_equals(req, ctx->chassis_uuid)) {
        *requested = true;
        return CAN_BIND_MAIN;
    }
    if (ovsdb_datum_contains_uuid(ovsdb_row_get(pb, "requested_additional_chassis"),
                                  ctx->chassis_uuid)) {
        *requested = true;
        return CAN_BIND_ADDITIONAL;
    }
    if (!*opt) {
        return req ? CANNOT_BIND : CAN_BIND_MAIN;
    }
    /* options:requested-chassis: "name[,name...]", by chassis name or hostname. */
    copy = strdup(opt);
    if (!copy) {
        return CANNOT_BIND;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, ctx->chassis_name) || !strcmp(tok, ctx->hostname)) {
            result = first ? CAN_BIND_MAIN : CAN_BIND_ADDITIONAL;
            *requested = true;
            break;
        }
        first = false;
    }
    free(copy);
    if (result == CAN_BIND_MAIN && req) {
        /* The column names another chassis: it wins over the option. */
        result = CANNOT_BIND;
        *requested = false;
    }
    return result;
}

static const char *
chassis_name_of(const struct ovsdb_replica *replica, const struct uuid *uuid)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Chassis");
    const struct ovsdb_row *row = t ? ovsdb_replica_table_find(t, uuid) : NULL;

    return row ? ovsdb_datum_get_string(ovsdb_row_get(row, "name"), "?") : "?";
}

static const struct uuid *
our_encap(const struct binding_ctx *ctx, const char *ip)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(ctx->replica, "Encap");
    const struct ovsdb_row *row;

    if (!ip || !t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "chassis_name"), ""),
                    ctx->chassis_name) &&
            !strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "ip"), ""), ip)) {
            return ovsdb_row_uuid(row);
        }
    }
    return NULL;
}

/* Makes the transaction fail unless the "chassis" of 'pb' is still 'chassis' (NULL:
 * empty) when it executes, so that a write decided on what the replica showed never
 * undoes another chassis's write made in between. */
static int
write_guard(const struct ovsdb_row *pb, const struct uuid *chassis, struct ovsdb_txn *txn)
{
    static const char *const columns[] = {"chassis", NULL};

    return ovsdb_txn_wait(
        txn, "Port_Binding", ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)), columns, true,
        json_pack("[{s:o}]", "chassis",
                  chassis ? json_ovsdb_uuid(chassis) : json_ovsdb_set(NULL)),
        0);
}

static int
write_release(const struct ovsdb_row *pb, const struct uuid *chassis_uuid,
              struct ovsdb_txn *txn)
{
    const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "chassis"));
    int error = 0;

    if (ch && uuid_equals(ch, chassis_uuid)) {
        error = write_guard(pb, chassis_uuid, txn);
        error = error ? error
                      : ovsdb_txn_update(txn, "Port_Binding",
                                         ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)),
                                         json_pack("{s:o, s:b}", "chassis",
                                                   json_ovsdb_set(NULL), "up", 0));
    }
    if (!error && ovsdb_datum_contains_uuid(ovsdb_row_get(pb, "additional_chassis"),
                                            chassis_uuid)) {
        error = ovsdb_txn_mutate(
            txn, "Port_Binding", ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)),
            ovsdb_txn_mutation(
                "additional_chassis", "delete",
                json_pack("[s, [o]]", "set", json_ovsdb_uuid(chassis_uuid))));
    }
    return error;
}

static bool
pb_bound_here(const struct ovsdb_row *pb, const struct uuid *chassis_uuid)
{
    const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "chassis"));

    return (ch && uuid_equals(ch, chassis_uuid)) ||
           ovsdb_datum_contains_uuid(ovsdb_row_get(pb, "additional_chassis"),
                                     chassis_uuid);
}

static void
vif_reset_binding(struct vif *vif)
{
    vif->claim_committed = false;
    vif->hook_requested = false;
    vif->installed = false;
}

static void
vif_request_flows(struct binding *b, struct vif *vif)
{
    if (!vif->hook_requested) {
        vif->hook_requested = true;
        if (b->flows_cb) {
            b->flows_cb(b->flows_aux, vif->iface_id);
        }
    }
}

static int
vif_run(struct binding *b, struct vif *vif, const struct ovsdb_replica_table *t,
        const struct binding_ctx *ctx, struct ovsdb_txn *txn)
{
    const struct ovsdb_row *pb;
    const struct uuid *cur;
    enum vif_state prev = vif->state;
    enum can_bind can;
    bool requested;

    if (release_find(b, vif->iface_id)) {
        vif->state = VIF_RELEASING;
        vif_reset_binding(vif);
        return 0;
    }
    pb = pb_lookup(b, t, vif->iface_id);
    if (!pb) {
        vif->state = VIF_NO_BINDING;
        vif_reset_binding(vif);
        return 0;
    }
    cur = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "chassis"));
    can = pb_can_bind(pb, ctx, &requested);
    if (can == CANNOT_BIND) {
        vif->state = VIF_OTHER_REQUESTED;
        vif_reset_binding(vif);
        if (prev != VIF_OTHER_REQUESTED) {
            OLOG_INFO_RL(&rl, "not claiming %s: requested for another chassis",
                         vif->iface_id);
        }
        return write_release(pb, ctx->chassis_uuid, txn);
    }
    if (can == CAN_BIND_ADDITIONAL) {
        if (ovsdb_datum_contains_uuid(ovsdb_row_get(pb, "additional_chassis"),
                                      ctx->chassis_uuid)) {
            vif->state = VIF_ADDITIONAL;
            vif->claim_committed = true;
            vif_request_flows(b, vif);
            return 0;
        }
        vif->state = VIF_CLAIMING;
        vif_reset_binding(vif);
        vif->claim_inflight = true;
        OLOG_INFO("claiming %s as an additional chassis", vif->iface_id);
        return ovsdb_txn_mutate(
            txn, "Port_Binding", ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)),
            ovsdb_txn_mutation(
                "additional_chassis", "insert",
                json_pack("[s, [o]]", "set", json_ovsdb_uuid(ctx->chassis_uuid))));
    }

    /* Main chassis. */
    if (cur && uuid_equals(cur, ctx->chassis_uuid)) {
        const struct uuid *want_encap = our_encap(ctx, vif->encap_ip);
        const struct uuid *have_encap = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "encap"));
        json_t *update = json_object();
        int error = 0;

        if (!update) {
            return -ENOMEM;
        }
        vif->claim_committed = true;
        vif_request_flows(b, vif);
        if ((want_encap || have_encap) &&
            !(want_encap && have_encap && uuid_equals(want_encap, have_encap))) {
            json_object_set_new(update, "encap",
                                want_encap ? json_ovsdb_uuid(want_encap)
                                           : json_ovsdb_set(NULL));
        }
        bool ready =
            !ctx->vif_ready || ctx->vif_ready(ctx->vif_ready_aux, vif->representor);
        bool pb_up = ovsdb_datum_get_bool(ovsdb_row_get(pb, "up"), false);
        if (vif->installed && ready && !pb_up) {
            json_object_set_new(update, "up", json_true());
            vif->up_inflight = true;
        } else if (!ready && pb_up) {
            json_object_set_new(update, "up", json_false());
            vif->down_inflight = true;
        }
        if (!ready) {
            if (prev != VIF_DOWN) {
                OLOG_INFO("%s: its representor %s is down", vif->iface_id,
                          vif->representor);
            }
            vif->state = VIF_DOWN;
        } else {
            vif->state =
                vif->installed && (vif->up_inflight || pb_up) ? VIF_UP : VIF_BOUND;
        }
        if (json_object_size(update)) {
            error = write_guard(pb, ctx->chassis_uuid, txn);
            if (error) {
                json_decref(update);
            } else {
                error =
                    ovsdb_txn_update(txn, "Port_Binding",
                                     ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)), update);
            }
        } else {
            json_decref(update);
        }
        return error;
    }
    if (cur && !requested) {
        if (prev != VIF_OTHER_CLAIMED) {
            b->stats.backoffs++;
        }
        vif->state = VIF_OTHER_CLAIMED;
        vif_reset_binding(vif);
        OLOG_WARN_RL(&rl,
                     "%s is bound to chassis %s and not requested for this one: "
                     "leaving it there",
                     vif->iface_id, chassis_name_of(ctx->replica, cur));
        return 0;
    }
    if (cur) {
        OLOG_INFO("changing chassis of %s from %s to %s", vif->iface_id,
                  chassis_name_of(ctx->replica, cur), ctx->chassis_name);
        b->stats.takeovers++;
    } else {
        OLOG_INFO("claiming %s", vif->iface_id);
    }
    vif->state = VIF_CLAIMING;
    vif_reset_binding(vif);
    vif->claim_inflight = true;
    {
        const struct uuid *encap = our_encap(ctx, vif->encap_ip);
        json_t *row = json_pack("{s:o}", "chassis", json_ovsdb_uuid(ctx->chassis_uuid));

        int error = write_guard(pb, cur, txn);

        if (row && encap) {
            json_object_set_new(row, "encap", json_ovsdb_uuid(encap));
        }
        if (error) {
            json_decref(row);
            return error;
        }
        return ovsdb_txn_update(txn, "Port_Binding",
                                ovsdb_txn_where_uuid(ovsdb_row_uuid(pb)), row);
    }
}

/* Plugging: does 'pb' ask for a representor of this chassis? */
static void
plug_consider(struct binding *b, const struct ovsdb_row *pb,
              const struct binding_ctx *ctx)
{
    const char *name = ovsdb_datum_get_string(ovsdb_row_get(pb, "logical_port"), "");
    struct vif *vif = vif_find_plugged(b, name);
    const struct representor *r = NULL;
    int64_t mtu = 0;

    if (ovsdb_row_change(pb) != OVSDB_ROW_DELETED) {
        const struct ovsdb_datum *opts = ovsdb_row_get(pb, "options");
        const struct uuid *req =
            ovsdb_datum_get_uuid(ovsdb_row_get(pb, "requested_chassis"));
        const char *type = ovsdb_datum_map_get_string(opts, "vif-plug-type", "");

        if (req && uuid_equals(req, ctx->chassis_uuid) && !strcmp(type, "representor")) {
            const char *mac =
                ovsdb_datum_map_get_string(opts, "vif-plug:representor:pf-mac", "");
            const char *vf =
                ovsdb_datum_map_get_string(opts, "vif-plug:representor:vf-num", "");
            const char *mtu_s =
                ovsdb_datum_map_get_string(opts, "vif-plug-mtu-request", "");
            char lmac[18], *end;
            unsigned long vf_num;

            errno = 0;
            vf_num = strtoul(vf, &end, 10);
            if (strlen(mac) == 17 && *vf && !*end && !errno && vf_num <= UINT16_MAX) {
                for (size_t i = 0; i < sizeof lmac; i++) {
                    lmac[i] =
                        (mac[i] >= 'A' && mac[i] <= 'F') ? mac[i] - 'A' + 'a' : mac[i];
                }
                r = representor_find(b, lmac, vf_num);
            }
            if (*mtu_s) {
                mtu = strtoll(mtu_s, &end, 10);
                if (*end || mtu < 0 || mtu > 65535) {
                    mtu = 0;
                }
            }
            if (!r) {
                b->stats.plug_unresolved++;
                OLOG_WARN_RL(&rl,
                             "%s: no local representor for vif-plug PF MAC '%s' VF '%s'",
                             name, mac, vf);
            }
        }
    }

    if (vif && r && !strcmp(vif->representor, r->name) && vif->mtu == mtu) {
        return;
    }
    if (vif) {
        OLOG_INFO("unplugging %s from %s", name, vif->representor);
        b->stats.unplugs++;
        vif_remove(b, vif);
    }
    if (r) {
        struct vif *other = vif_find(b, r->name);

        if (other) {
            OLOG_WARN_RL(&rl, "%s: representor %s already carries %s", name, r->name,
                         other->iface_id);
            return;
        }
        if (!vif_create(b, r->name, name, NULL, VIF_PLUGGED, mtu, &vif)) {
            OLOG_INFO("plugging %s into %s", name, r->name);
            b->stats.plugs++;
        }
    }
}

static int
plug_run(struct binding *b, const struct ovsdb_replica_table *t,
         const struct binding_ctx *ctx)
{
    const struct ovsdb_row *row;
    struct vif *vif, *next;

    if (b->plug_full || b->changed_overflow || ctx->full) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            plug_consider(b, row, ctx);
        }
        /* Plugged VIFs whose row is gone. */
        HMAP_FOR_EACH_SAFE (vif, next, node, &b->vifs) {
            if (vif->origin == VIF_PLUGGED && !pb_lookup(b, t, vif->iface_id)) {
                b->stats.unplugs++;
                vif_remove(b, vif);
            }
        }
        b->plug_full = false;
        return 0;
    }
    for (size_t i = 0; i < b->n_changed; i++) {
        row = ovsdb_replica_table_find(t, &b->changed_pbs[i]);
        if (row) {
            plug_consider(b, row, ctx);
        } else {
            /* Deleted and already forgotten: check by index. */
            HMAP_FOR_EACH_SAFE (vif, next, node, &b->vifs) {
                if (vif->origin == VIF_PLUGGED && !pb_lookup(b, t, vif->iface_id)) {
                    b->stats.unplugs++;
                    vif_remove(b, vif);
                }
            }
        }
    }
    return 0;
}

static bool
has_vif_for(const struct binding *b, const char *iface_id)
{
    struct vif *vif;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (!strcmp(vif->iface_id, iface_id)) {
            return true;
        }
    }
    return false;
}

/* Ports bound here (as main chassis) without a VIF are released. */
static int
stale_consider(struct binding *b, const struct ovsdb_row *pb,
               const struct binding_ctx *ctx)
{
    const char *name = ovsdb_datum_get_string(ovsdb_row_get(pb, "logical_port"), "");
    const char *type = ovsdb_datum_get_string(ovsdb_row_get(pb, "type"), "");

    if (ovsdb_row_change(pb) == OVSDB_ROW_DELETED || (*type && strcmp(type, "virtual")) ||
        !pb_bound_here(pb, ctx->chassis_uuid) || has_vif_for(b, name)) {
        return 0;
    }
    OLOG_INFO_RL(&rl, "releasing %s: no local VIF carries it", name);
    return release_add(b, name);
}

/* The chassis (uuid) of highest priority in HA_Chassis_Group 'group' (the first of
 * equal priorities, in set order, as the pipeline resolves it), or NULL. */
static const struct uuid *
ha_group_active(const struct ovsdb_replica *replica, const struct uuid *group)
{
    const struct ovsdb_replica_table *groups =
        ovsdb_replica_table(replica, "HA_Chassis_Group");
    const struct ovsdb_replica_table *has = ovsdb_replica_table(replica, "HA_Chassis");
    const struct ovsdb_replica_table *chassis = ovsdb_replica_table(replica, "Chassis");
    const struct ovsdb_row *g =
        groups && group ? ovsdb_replica_table_find(groups, group) : NULL;
    const struct ovsdb_datum *members = g ? ovsdb_row_get(g, "ha_chassis") : NULL;
    const struct uuid *best = NULL;
    int64_t best_prio = -1;

    for (size_t i = 0; members && has && chassis && i < members->n; i++) {
        const struct ovsdb_row *h = ovsdb_replica_table_find(has, &members->keys[i].uuid);
        const struct uuid *ch =
            h ? ovsdb_datum_get_uuid(ovsdb_row_get(h, "chassis")) : NULL;
        int64_t prio = h ? ovsdb_datum_get_int(ovsdb_row_get(h, "priority"), 0) : -1;
        if (ch && ovsdb_replica_table_find(chassis, ch) && prio > best_prio) {
            best = ch;
            best_prio = prio;
        }
    }
    return best;
}

/* Gateway ports: an l3gateway port whose options:l3gateway-chassis names this chassis,
 * and a chassisredirect port whose HA chassis group has this chassis active, are
 * claimed here (Port_Binding.chassis), as ovn-controller does; the chassis that
 * becomes active claims over the previous one. */
static int
gateway_run(const struct binding_ctx *ctx, const struct ovsdb_replica_table *t,
            struct ovsdb_txn *txn)
{
    const struct ovsdb_row *row;
    int error = 0;

    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const char *type = ovsdb_datum_get_string(ovsdb_row_get(row, "type"), "");
        bool want;

        if (!strcmp(type, "l3gateway")) {
            const char *gw = ovsdb_datum_map_get_string(ovsdb_row_get(row, "options"),
                                                        "l3gateway-chassis", NULL);
            want = gw && !strcmp(gw, ctx->chassis_name);
        } else if (!strcmp(type, "chassisredirect")) {
            const struct uuid *active = ha_group_active(
                ctx->replica,
                ovsdb_datum_get_uuid(ovsdb_row_get(row, "ha_chassis_group")));
            want = active && uuid_equals(active, ctx->chassis_uuid);
        } else {
            continue;
        }
        const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(row, "chassis"));
        if (!want || (ch && uuid_equals(ch, ctx->chassis_uuid))) {
            continue;
        }
        OLOG_INFO("claiming gateway port %s",
                  ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), ""));
        error = write_guard(row, ch, txn);
        if (!error) {
            error = ovsdb_txn_update(
                txn, "Port_Binding", ovsdb_txn_where_uuid(ovsdb_row_uuid(row)),
                json_pack("{s:o}", "chassis", json_ovsdb_uuid(ctx->chassis_uuid)));
        }
        if (error) {
            break;
        }
    }
    return error;
}

int
binding_run(struct binding *b, const struct binding_ctx *ctx, struct ovsdb_txn *txn)
{
    const struct ovsdb_replica_table *t =
        ovsdb_replica_table(ctx->replica, "Port_Binding");
    struct release *rel, *relnext;
    const struct ovsdb_row *row;
    struct vif *vif;
    int error = 0;

    if (!t) {
        return 0;
    }
    if ((error = plug_run(b, t, ctx))) {
        goto out;
    }
    if (ctx->full || b->changed_overflow) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            if ((error = stale_consider(b, row, ctx))) {
                goto out;
            }
        }
    } else {
        for (size_t i = 0; i < b->n_changed; i++) {
            row = ovsdb_replica_table_find(t, &b->changed_pbs[i]);
            if (row && (error = stale_consider(b, row, ctx))) {
                goto out;
            }
        }
    }

    /* Releases first, so that a port moved between representors is released before
     * it is claimed again. */
    HMAP_FOR_EACH_SAFE (rel, relnext, node, &b->releases) {
        const struct ovsdb_row *pb = pb_lookup(b, t, rel->iface_id);

        if (!pb || !pb_bound_here(pb, ctx->chassis_uuid)) {
            release_remove(b, rel);
            continue;
        }
        OLOG_INFO("releasing %s", rel->iface_id);
        rel->inflight = true;
        if ((error = write_release(pb, ctx->chassis_uuid, txn))) {
            goto out;
        }
    }
    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if ((error = vif_run(b, vif, t, ctx, txn))) {
            goto out;
        }
    }
    error = gateway_run(ctx, t, txn);
out:
    b->n_changed = 0;
    b->changed_overflow = false;
    b->txn_inflight = true;
    return error;
}

int
binding_release_all(struct binding *b, const struct ovsdb_replica *replica,
                    const struct uuid *chassis_uuid, struct ovsdb_txn *txn)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_row *row;
    int error = 0;

    if (!t) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if ((error = write_release(row, chassis_uuid, txn))) {
            break;
        }
    }
    (void)b;
    return error;
}

void
binding_txn_done(struct binding *b, int error)
{
    struct release *rel;
    struct vif *vif;

    if (!b->txn_inflight) {
        return;
    }
    b->txn_inflight = false;
    HMAP_FOR_EACH (rel, node, &b->releases) {
        if (rel->inflight && !error) {
            b->stats.releases++;
        }
        rel->inflight = false;
    }
    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (vif->claim_inflight) {
            vif->claim_inflight = false;
            if (!error) {
                b->stats.claims++;
                vif->claim_committed = true;
                vif_request_flows(b, vif);
            }
        }
        if (vif->up_inflight) {
            vif->up_inflight = false;
            if (!error) {
                b->stats.up_set++;
            }
        }
        if (vif->down_inflight) {
            vif->down_inflight = false;
            if (!error) {
                b->stats.up_cleared++;
            }
        }
    }
}

void
binding_flows_installed(struct binding *b, const char *iface_id)
{
    struct vif *vif;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (!strcmp(vif->iface_id, iface_id) && vif->hook_requested) {
            vif->installed = true;
        }
    }
}

bool
binding_is_settled(const struct binding *b)
{
    struct vif *vif;

    if (!hmap_is_empty(&b->releases) || b->plug_full) {
        return false;
    }
    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (vif->claim_inflight || vif->up_inflight || vif->down_inflight ||
            vif->state == VIF_CLAIMING || (vif->claim_committed && !vif->installed)) {
            return false;
        }
    }
    return true;
}

const char **
binding_lports(const struct binding *b, size_t *n)
{
    const char **names = calloc(hmap_count(&b->vifs) + 1, sizeof *names);
    struct vif *vif;
    size_t i = 0;

    if (!names) {
        return NULL;
    }
    HMAP_FOR_EACH (vif, node, &b->vifs) {
        names[i++] = vif->iface_id;
    }
    *n = i;
    return names;
}

size_t
binding_n_vifs(const struct binding *b)
{
    return hmap_count(&b->vifs);
}

size_t
binding_n_up(const struct binding *b)
{
    struct vif *vif;
    size_t n = 0;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        n += vif->state == VIF_UP;
    }
    return n;
}

void
binding_get_stats(const struct binding *b, struct binding_stats *stats)
{
    *stats = b->stats;
}

json_t *
binding_vifs_to_json(const struct binding *b)
{
    json_t *array = json_array();
    struct vif *vif;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "representor", vif->representor,
                              "iface_id", vif->iface_id, "origin",
                              vif->origin == VIF_ADDED ? "added" : "plugged", "state",
                              vif_state_names[vif->state]);

        if (o && vif->encap_ip) {
            json_object_set_new(o, "encap_ip", json_string(vif->encap_ip));
        }
        if (o && vif->mtu) {
            json_object_set_new(o, "mtu", json_integer(vif->mtu));
        }
        if (!o || json_array_append_new(array, o)) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

json_t *
binding_save(const struct binding *b)
{
    json_t *ports = json_array(), *reps = json_array();
    const struct representor *r;
    struct vif *vif;

    HMAP_FOR_EACH (vif, node, &b->vifs) {
        if (vif->origin == VIF_ADDED) {
            json_t *o = json_pack("{s:s, s:s}", "representor", vif->representor,
                                  "iface_id", vif->iface_id);
            if (o && vif->encap_ip) {
                json_object_set_new(o, "encap_ip", json_string(vif->encap_ip));
            }
            json_array_append_new(ports, o);
        }
    }
    HMAP_FOR_EACH (r, node, &b->representors) {
        json_array_append_new(reps,
                              json_pack("{s:s, s:I, s:s}", "pf_mac", r->pf_mac, "vf_num",
                                        (json_int_t)r->vf_num, "name", r->name));
    }
    return json_pack("{s:o, s:o}", "ports", ports, "representors", reps);
}

int
binding_restore(struct binding *b, const json_t *saved)
{
    const json_t *ports = json_object_get(saved, "ports");
    const json_t *reps = json_object_get(saved, "representors");
    const json_t *o;
    size_t i;
    int error;

    if (!json_is_array(ports) || !json_is_array(reps)) {
        return -EINVAL;
    }
    json_array_foreach(ports, i, o)
    {
        const char *rep = json_string_value(json_object_get(o, "representor"));
        const char *iface = json_string_value(json_object_get(o, "iface_id"));

        if (!rep || !iface) {
            return -EINVAL;
        }
    }
    json_array_foreach(reps, i, o)
    {
        const char *mac = json_string_value(json_object_get(o, "pf_mac"));
        const json_t *vf = json_object_get(o, "vf_num");
        const char *name = json_string_value(json_object_get(o, "name"));

        if (!mac || strlen(mac) != 17 || !json_is_integer(vf) ||
            json_integer_value(vf) < 0 || json_integer_value(vf) > UINT16_MAX || !name) {
            return -EINVAL;
        }
    }
    /* An entry that the checks of today refuse (a name that an older version took)
     * is skipped with a warning; the others are restored. */
    json_array_foreach(reps, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        struct ovnic_err err = {0};
        char buf[256];

        if (binding_representor_name_check(name, &err)) {
            OLOG_WARN("saved representor of PF %s VF %" JSON_INTEGER_FORMAT
                      " skipped: %s",
                      json_string_value(json_object_get(o, "pf_mac")),
                      json_integer_value(json_object_get(o, "vf_num")),
                      ovnic_err_format(&err, buf, sizeof buf));
            continue;
        }
        error = binding_representor_add(
            b, json_string_value(json_object_get(o, "pf_mac")),
            json_integer_value(json_object_get(o, "vf_num")), name);
        if (error) {
            return error;
        }
    }
    json_array_foreach(ports, i, o)
    {
        struct ovnic_err err = {0};
        char buf[256];

        error = binding_port_add(b, json_string_value(json_object_get(o, "representor")),
                                 json_string_value(json_object_get(o, "iface_id")),
                                 json_string_value(json_object_get(o, "encap_ip")), &err);
        if (error == -EINVAL) {
            OLOG_WARN("saved port of %s skipped: %s",
                      json_string_value(json_object_get(o, "iface_id")),
                      ovnic_err_format(&err, buf, sizeof buf));
        } else if (error && error != -EEXIST) {
            return error;
        }
    }
    return 0;
}
