/* ovnic hw-sim: device profiles of the simulated eSwitch (see profile.h). */
#include "tests/hw-sim/eswitch/profile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(eswitch_profile);

static const int common_items[] = {
    RTE_FLOW_ITEM_TYPE_VOID,
    RTE_FLOW_ITEM_TYPE_ETH,
    RTE_FLOW_ITEM_TYPE_VLAN,
    RTE_FLOW_ITEM_TYPE_IPV4,
    RTE_FLOW_ITEM_TYPE_IPV6,
    RTE_FLOW_ITEM_TYPE_UDP,
    RTE_FLOW_ITEM_TYPE_TCP,
    RTE_FLOW_ITEM_TYPE_ICMP,
    RTE_FLOW_ITEM_TYPE_GENEVE,
    RTE_FLOW_ITEM_TYPE_GENEVE_OPT,
    RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
    RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR,
    RTE_FLOW_ITEM_TYPE_CONNTRACK,
};

static const int common_actions[] = {
    RTE_FLOW_ACTION_TYPE_VOID,
    RTE_FLOW_ACTION_TYPE_JUMP,
    RTE_FLOW_ACTION_TYPE_DROP,
    RTE_FLOW_ACTION_TYPE_COUNT,
    RTE_FLOW_ACTION_TYPE_AGE,
    RTE_FLOW_ACTION_TYPE_METER,
    RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
    RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
    RTE_FLOW_ACTION_TYPE_RAW_ENCAP,
    RTE_FLOW_ACTION_TYPE_RAW_DECAP,
    RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
    RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
    RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
    RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
    RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
    RTE_FLOW_ACTION_TYPE_SET_IPV6_DST,
    RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
    RTE_FLOW_ACTION_TYPE_SET_TP_DST,
    RTE_FLOW_ACTION_TYPE_DEC_TTL,
    RTE_FLOW_ACTION_TYPE_MODIFY_FIELD,
    RTE_FLOW_ACTION_TYPE_CONNTRACK,
};

static void
set_bits(uint64_t bits[ESW_TYPE_BITS / 64], const int *types, size_t n)
{
    memset(bits, 0, ESW_TYPE_BITS / 8);
    for (size_t i = 0; i < n; i++) {
        esw_caps_bit_set(bits, types[i]);
    }
}

static void
clear_bit(uint64_t bits[ESW_TYPE_BITS / 64], int type)
{
    bits[type / 64] &= ~(UINT64_C(1) << (type % 64));
}

/* BlueField-2: a smaller table, no AGE/METER/CONNTRACK in the root group (group 0),
 * JUMP only forward, no async template API. */
static void
profile_bf2(struct eswitch_profile *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "bf2");
    p->max_rules = 65536;
    p->max_rules_per_group = 32768;
    p->max_groups = 64;
    p->max_priorities = 16;
    p->max_ports = 256;
    p->max_items = 12;
    p->max_actions = 12;
    p->max_encap_size = 128;
    p->max_meters = 256;
    p->max_hops = 8;
    set_bits(p->items, common_items, ARRAY_SIZE(common_items));
    set_bits(p->actions, common_actions, ARRAY_SIZE(common_actions));
    memcpy(p->root_actions, p->actions, sizeof p->root_actions);
    clear_bit(p->root_actions, RTE_FLOW_ACTION_TYPE_AGE);
    clear_bit(p->root_actions, RTE_FLOW_ACTION_TYPE_METER);
    clear_bit(p->root_actions, RTE_FLOW_ACTION_TYPE_CONNTRACK);
    p->geneve_opt = true;
    p->geneve_opt_class = 0x0102;
    p->geneve_opt_type = 0x80;
    p->jump_forward_only = true;
    p->cost_sync_us = 40;
    p->cost_bulk_us = 40;
    p->async_queues = 0;
    p->async_queue_size = 0;
}

/* BlueField-3: a larger table, every action in every group, the async template API. */
static void
profile_bf3(struct eswitch_profile *p)
{
    profile_bf2(p);
    snprintf(p->name, sizeof p->name, "bf3");
    p->max_rules = 1048576;
    p->max_rules_per_group = 524288;
    p->max_groups = 1024;
    p->max_priorities = 64;
    p->max_encap_size = 256;
    p->max_meters = 4096;
    p->max_hops = 16;
    memcpy(p->root_actions, p->actions, sizeof p->root_actions);
    p->jump_forward_only = false;
    p->cost_sync_us = 10;
    p->cost_bulk_us = 1;
    p->async_queues = 4;
    p->async_queue_size = 1024;
}

int
eswitch_profile_builtin(const char *name, struct eswitch_profile *profile)
{
    if (!name) {
        return -ENOENT;
    }
    if (!strcmp(name, "bf2")) {
        profile_bf2(profile);
        return 0;
    }
    if (!strcmp(name, "bf3")) {
        profile_bf3(profile);
        return 0;
    }
    return -ENOENT;
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static bool
parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || v > UINT32_MAX || *s == '-') {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool
parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0")) {
        *out = false;
        return true;
    }
    return false;
}

/* Parses a list of item (or action) names into 'bits'.  Returns NULL, or the first
 * unknown name. */
static const char *
parse_types(char *s, bool actions, uint64_t bits[ESW_TYPE_BITS / 64])
{
    memset(bits, 0, ESW_TYPE_BITS / 8);
    char *save = NULL;
    for (char *tok = strtok_r(s, " \t,", &save); tok;
         tok = strtok_r(NULL, " \t,", &save)) {
        int type = actions ? esw_action_from_name(tok) : esw_item_from_name(tok);
        if (type < 0 || type >= ESW_TYPE_BITS) {
            return tok;
        }
        esw_caps_bit_set(bits, type);
    }
    return NULL;
}

#define PROFILE_ERROR(...)                                             \
    esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1, \
                  "bad eSwitch profile", __VA_ARGS__)

int
eswitch_profile_parse(const char *text, const char *origin,
                      struct eswitch_profile *profile, struct esw_error *error)
{
    struct eswitch_profile p;
    profile_bf2(&p);
    snprintf(p.name, sizeof p.name, "custom");
    origin = origin ? origin : "profile";

    char *copy = strdup(text ? text : "");
    if (!copy) {
        return -ENOMEM;
    }
    int retval = 0;
    int lineno = 0;
    bool seen_setting = false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        line = trim(line);
        if (!*line) {
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            retval = PROFILE_ERROR("%s:%d: expected key = value", origin, lineno);
            goto out;
        }
        *eq = '\0';
        char *key = trim(line);
        char *value = trim(eq + 1);

        static const struct {
            const char *key;
            size_t offset;
        } u32_keys[] = {
#define K(NAME) {#NAME, offsetof(struct eswitch_profile, NAME)}
            K(max_rules),      K(max_rules_per_group), K(max_groups),
            K(max_priorities), K(max_ports),           K(max_items),
            K(max_actions),    K(max_encap_size),      K(max_meters),
            K(max_hops),       K(cost_sync_us),        K(cost_bulk_us),
            K(async_queues),   K(async_queue_size),
#undef K
        };
        bool done = false;
        for (size_t i = 0; i < ARRAY_SIZE(u32_keys); i++) {
            if (!strcmp(key, u32_keys[i].key)) {
                uint32_t *field = (uint32_t *)(void *)((char *)&p + u32_keys[i].offset);
                if (!parse_u32(value, field)) {
                    retval = PROFILE_ERROR("%s:%d: %s: bad number '%s'", origin, lineno,
                                           key, value);
                    goto out;
                }
                done = true;
            }
        }
        if (done) {
            seen_setting = true;
            continue;
        }
        if (!strcmp(key, "base")) {
            if (seen_setting) {
                retval = PROFILE_ERROR("%s:%d: base must come first", origin, lineno);
                goto out;
            }
            if (eswitch_profile_builtin(value, &p)) {
                retval = esw_error_set(error, -ENOENT, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                       -1, "bad eSwitch profile",
                                       "%s:%d: unknown base profile '%s'", origin, lineno,
                                       value);
                goto out;
            }
        } else if (!strcmp(key, "name")) {
            if (strlen(value) >= sizeof p.name || !*value) {
                retval = PROFILE_ERROR("%s:%d: name of 1 to %zu characters", origin,
                                       lineno, sizeof p.name - 1);
                goto out;
            }
            snprintf(p.name, sizeof p.name, "%s", value);
        } else if (!strcmp(key, "items") || !strcmp(key, "actions") ||
                   !strcmp(key, "root_actions")) {
            bool actions = strcmp(key, "items") != 0;
            uint64_t *bits = !strcmp(key, "items")     ? p.items
                             : !strcmp(key, "actions") ? p.actions
                                                       : p.root_actions;
            const char *bad = parse_types(value, actions, bits);
            if (bad) {
                retval = PROFILE_ERROR("%s:%d: unknown %s '%s'", origin, lineno,
                                       actions ? "action" : "item", bad);
                goto out;
            }
            if (!strcmp(key, "actions")) {
                for (size_t i = 0; i < ARRAY_SIZE(p.root_actions); i++) {
                    p.root_actions[i] &= p.actions[i];
                }
            }
        } else if (!strcmp(key, "geneve_opt")) {
            uint32_t cls, type;
            char *slash = strchr(value, '/');
            if (!strcmp(value, "none")) {
                p.geneve_opt = false;
            } else if (slash && (*slash = '\0', parse_u32(value, &cls)) &&
                       parse_u32(slash + 1, &type) && cls <= 0xffff && type <= 0xff) {
                p.geneve_opt = true;
                p.geneve_opt_class = (uint16_t)cls;
                p.geneve_opt_type = (uint8_t)type;
            } else {
                retval = PROFILE_ERROR("%s:%d: geneve_opt is CLASS/TYPE or none", origin,
                                       lineno);
                goto out;
            }
        } else if (!strcmp(key, "jump_forward_only")) {
            if (!parse_bool(value, &p.jump_forward_only)) {
                retval = PROFILE_ERROR("%s:%d: %s is yes or no", origin, lineno, key);
                goto out;
            }
        } else {
            retval = PROFILE_ERROR("%s:%d: unknown key '%s'", origin, lineno, key);
            goto out;
        }
        seen_setting = true;
    }
    if (!p.max_rules || !p.max_rules_per_group || !p.max_groups || !p.max_priorities ||
        !p.max_ports || !p.max_items || !p.max_actions || !p.max_hops) {
        retval = PROFILE_ERROR("%s: limits must not be 0", origin);
        goto out;
    }
    *profile = p;

out:
    free(copy);
    return retval;
}

int
eswitch_profile_load(const char *spec, struct eswitch_profile *profile,
                     struct esw_error *error)
{
    if (!eswitch_profile_builtin(spec, profile)) {
        return 0;
    }
    if (!spec) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "no eSwitch profile given", NULL);
    }
    FILE *f = fopen(spec, "r");
    if (!f) {
        int e = errno;
        return esw_error_set(error, -e, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "cannot open eSwitch profile", "%s: %s", spec, strerror(e));
    }
    char *text = NULL;
    size_t len = 0;
    int retval = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > 1024 * 1024) {
            retval = esw_error_set(error, -EFBIG, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                                   "eSwitch profile too large", "%s", spec);
            goto out;
        }
        char *t = realloc(text, len + n + 1);
        if (!t) {
            retval = -ENOMEM;
            goto out;
        }
        text = t;
        memcpy(text + len, chunk, n);
        len += n;
        text[len] = '\0';
    }
    if (ferror(f)) {
        retval = esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                               "cannot read eSwitch profile", "%s", spec);
        goto out;
    }
    retval = eswitch_profile_parse(text ? text : "", spec, profile, error);

out:
    free(text);
    fclose(f);
    return retval;
}

void
eswitch_profile_to_caps(const struct eswitch_profile *profile, struct esw_caps *caps)
{
    memset(caps, 0, sizeof *caps);
    snprintf(caps->device, sizeof caps->device, "%s", profile->name);
    memcpy(caps->items, profile->items, sizeof caps->items);
    memcpy(caps->actions, profile->actions, sizeof caps->actions);
    caps->max_groups = profile->max_groups;
    caps->max_priorities = profile->max_priorities;
    caps->max_rules_per_group = profile->max_rules_per_group;
    caps->max_rules = profile->max_rules;
    caps->max_items = profile->max_items;
    caps->max_actions = profile->max_actions;
    caps->max_encap_size = profile->max_encap_size;
    caps->geneve_opt = profile->geneve_opt;
    caps->geneve_opt_class = profile->geneve_opt_class;
    caps->geneve_opt_type = profile->geneve_opt_type;
    caps->async_native = profile->async_queues > 0;
    caps->async_queues = profile->async_queues;
    caps->async_queue_size = profile->async_queue_size;
}

uint64_t
eswitch_profile_insert_cost_us(const struct eswitch_profile *profile, bool bulk,
                               size_t n_rules)
{
    return (uint64_t)n_rules * (bulk ? profile->cost_bulk_us : profile->cost_sync_us);
}
