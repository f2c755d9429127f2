/* ovnic: the Encap rows of the other chassis (see encap.h). */
#include "encap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(encap);

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

static const char *
ipv4_refusal(const uint8_t a[4])
{
    if (a[0] == 127) {
        return "a loopback address";
    }
    if (!a[0] && !a[1] && !a[2] && !a[3]) {
        return "the unspecified address";
    }
    if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255) {
        return "a broadcast address";
    }
    if (a[0] >= 224 && a[0] <= 239) {
        return "a multicast address";
    }
    return NULL;
}

static const char *
ipv6_refusal(const uint8_t a[16])
{
    static const uint8_t zero[16];

    if (!memcmp(a, zero, 15) && a[15] == 1) {
        return "a loopback address";
    }
    if (!memcmp(a, zero, 16)) {
        return "the unspecified address";
    }
    if (a[0] == 0xff) {
        return "a multicast address";
    }
    return NULL;
}

const char *
encap_ip_refusal(const char *ip, int underlay_family)
{
    uint8_t a[16];
    const char *why;

    if (ip && inet_pton(AF_INET, ip, a) == 1) {
        why = ipv4_refusal(a);
        if (!why && underlay_family == AF_INET6) {
            why = "an IPv4 address, but the underlay is IPv6";
        }
        return why;
    }
    if (ip && inet_pton(AF_INET6, ip, a) == 1) {
        why = ipv6_refusal(a);
        if (!why && underlay_family == AF_INET) {
            why = "an IPv6 address, but the underlay is IPv4";
        }
        return why;
    }
    return "not an IP address";
}

void
encap_check_init(struct encap_check *check)
{
    check->bad = NULL;
    check->n_bad = 0;
}

static void
bad_free(struct encap_bad *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].chassis);
        free(v[i].type);
        free(v[i].ip);
    }
    free(v);
}

void
encap_check_destroy(struct encap_check *check)
{
    bad_free(check->bad, check->n_bad);
    encap_check_init(check);
}

bool
encap_check_is_needed(const struct ovsdb_replica *replica)
{
    static const char *const tables[] = {"Chassis", "Encap"};

    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, tables[i]);

        if (t && ovsdb_replica_table_next_tracked(t, NULL)) {
            return true;
        }
    }
    return false;
}

static int
bad_compare(const void *a_, const void *b_)
{
    const struct encap_bad *a = a_, *b = b_;
    int c = strcmp(a->chassis, b->chassis);

    if (!c) {
        c = strcmp(a->ip, b->ip);
    }
    if (!c) {
        c = memcmp(&a->uuid, &b->uuid, sizeof a->uuid);
    }
    return c;
}

/* The entry of 'v' (sorted) for the same row, chassis and ip as 'e', or NULL. */
static const struct encap_bad *
bad_find(const struct encap_bad *v, size_t n, const struct encap_bad *e)
{
    return n ? bsearch(e, v, n, sizeof *v, bad_compare) : NULL;
}

int
encap_check_run(struct encap_check *check, const struct ovsdb_replica *replica,
                const char *own_chassis, int underlay_family, bool *changed)
{
    const struct ovsdb_replica_table *ct = ovsdb_replica_table(replica, "Chassis");
    const struct ovsdb_replica_table *et = ovsdb_replica_table(replica, "Encap");
    struct encap_bad *v = NULL;
    const struct ovsdb_row *row;
    size_t n = 0, cap = 0;

    if (ct && et) {
        OVSDB_TABLE_FOR_EACH_ROW (row, ct) {
            const char *name = ovsdb_datum_get_string(ovsdb_row_get(row, "name"), "");
            const struct ovsdb_datum *encaps = ovsdb_row_get(row, "encaps");

            if (own_chassis && !strcmp(name, own_chassis)) {
                continue;
            }
            for (size_t i = 0; encaps && i < encaps->n; i++) {
                const struct ovsdb_row *e =
                    ovsdb_replica_table_find(et, &encaps->keys[i].uuid);
                const char *ip, *why;

                if (!e) {
                    continue;
                }
                ip = ovsdb_datum_get_string(ovsdb_row_get(e, "ip"), "");
                why = encap_ip_refusal(ip, underlay_family);
                if (!why) {
                    continue;
                }
                if (n == cap) {
                    size_t new_cap = cap ? 2 * cap : 4;
                    struct encap_bad *nv = realloc(v, new_cap * sizeof *nv);

                    if (!nv) {
                        goto nomem;
                    }
                    v = nv;
                    cap = new_cap;
                }
                v[n] = (struct encap_bad){
                    .uuid = encaps->keys[i].uuid,
                    .chassis = strdup(name),
                    .type = strdup(ovsdb_datum_get_string(ovsdb_row_get(e, "type"), "")),
                    .ip = strdup(ip),
                    .reason = why,
                };
                n++;
                if (!v[n - 1].chassis || !v[n - 1].type || !v[n - 1].ip) {
                    goto nomem;
                }
            }
        }
    }
    if (n > 1) {
        qsort(v, n, sizeof *v, bad_compare);
    }

    bool differs = n != check->n_bad;
    for (size_t i = 0; i < n; i++) {
        const struct encap_bad *old = bad_find(check->bad, check->n_bad, &v[i]);

        if (!old || strcmp(old->reason, v[i].reason)) {
            differs = true;
            OLOG_WARN_RL(&rl,
                         "chassis \"%s\": Encap %s ip \"%s\" refused (%s): no tunnel "
                         "to its ports",
                         v[i].chassis, v[i].type, v[i].ip, v[i].reason);
        }
    }
    for (size_t i = 0; i < check->n_bad; i++) {
        const struct encap_bad *old = &check->bad[i];

        if (!bad_find(v, n, old)) {
            differs = true;
            OLOG_INFO_RL(&rl, "chassis \"%s\": Encap %s ip \"%s\" no longer refused",
                         old->chassis, old->type, old->ip);
        }
    }
    bad_free(check->bad, check->n_bad);
    check->bad = v;
    check->n_bad = n;
    if (changed) {
        *changed = differs;
    }
    return 0;

nomem:
    bad_free(v, n);
    return -ENOMEM;
}

json_t *
encap_check_to_json(const struct encap_check *check)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < check->n_bad; i++) {
        const struct encap_bad *b = &check->bad[i];
        char u[UUID_LEN + 1];

        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "chassis",
                                               b->chassis, "type", b->type, "ip", b->ip,
                                               "reason", b->reason, "encap_uuid",
                                               uuid_to_string(&b->uuid, u)))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
