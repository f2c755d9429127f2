/* ovnic: the simulated-NIC backend of esw.h, a client of ovnic-nicsim's control
 * socket.
 *
 * Each operation is one JSON-RPC request on the socket, answered before the next one
 * is sent.  Rules travel in the esw_wire encoding, as hex text; a rule handle's
 * 'priv' is the id that ovnic-nicsim gave the rule.  The rules live in ovnic-nicsim:
 * closing this instance, or this process dying, leaves them and their traffic in
 * place, and esw_flush() of a later instance removes them.
 *
 * Arguments: "socket=PATH[,timeout=MS]" (default timeout 10000 ms).  If the
 * connection breaks, the next operation connects again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload/esw_provider.h"
#include "offload/esw_wire.h"
#include "shared/util/json.h"
#include "shared/util/log.h"
#include "shared/util/rpc_client.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(esw_sim);

struct esw_sim {
    struct esw up;
    char *socket_path;
    int timeout_ms;
    struct rpc_client *client; /* NULL while disconnected. */
};

static struct esw_sim *
esw_sim_cast(struct esw *esw)
{
    return CONTAINER_OF(esw, struct esw_sim, up);
}

/* ---- Transport. ----------------------------------------------------------------- */

static void
sim_disconnect(struct esw_sim *sim)
{
    rpc_client_close(sim->client);
    sim->client = NULL;
}

/* Connects if disconnected; fails with 'code'. */
static int
sim_connect(struct esw_sim *sim, int code, struct esw_error *error)
{
    char remote[4200];
    int retval;

    if (sim->client) {
        return 0;
    }
    snprintf(remote, sizeof remote, "unix:%s", sim->socket_path);
    retval = rpc_client_open(remote, sim->timeout_ms, &sim->client, NULL);
    if (retval) {
        sim->client = NULL;
        return esw_error_set(error, code, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "simulated NIC unreachable", "%s: %s", sim->socket_path,
                             strerror(-retval));
    }
    return 0;
}

/* Converts an error reply of ovnic-nicsim into 'error'. */
static int
sim_reply_error(const json_t *reply_error, struct esw_error *error)
{
    const char *text = "error";
    const char *details = "";
    int64_t code = -EIO;
    int64_t type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
    int64_t index = -1;

    if (json_is_object(reply_error)) {
        json_get_string_opt(reply_error, "error", &text, NULL);
        json_get_string_opt(reply_error, "details", &details, NULL);
        json_get_int_opt(reply_error, "errno", &code, NULL);
        json_get_int_opt(reply_error, "type", &type, NULL);
        json_get_int_opt(reply_error, "index", &index, NULL);
    } else if (json_is_string(reply_error)) {
        text = json_string_value(reply_error);
    }
    if (code >= 0 || code < -4095) {
        code = -EIO;
    }
    if (type < 0 || type > RTE_FLOW_ERROR_TYPE_STATE) {
        type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
    }
    if (index < -1 || index > 1024) {
        index = -1;
    }
    return esw_error_set(error, (int)code, (enum rte_flow_error_type)type, (int)index,
                         "rejected by the simulated NIC", "%s%s%s", text,
                         details[0] ? ": " : "", details);
}

/* Calls 'method' with one argument object 'arg' (takes ownership; NULL: none).  On
 * success stores the result in '*result' (caller owns). */
static int
sim_call(struct esw_sim *sim, const char *method, json_t *arg, json_t **result,
         struct esw_error *error)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 5);
    const json_t *res, *rerr;
    json_t *params, *reply;
    int retval;

    retval = sim_connect(sim, -EIO, error);
    if (retval) {
        json_decref(arg);
        return retval;
    }
    params = arg ? json_pack("[o]", arg) : json_array();
    retval =
        params ? rpc_client_call(sim->client, method, params, &reply, NULL) : -ENOMEM;
    if (retval == -ENOMEM && rpc_client_is_connected(sim->client)) {
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    if (retval) {
        OLOG_WARN_RL(&rl, "%s: %s: %s", sim->socket_path, method, strerror(-retval));
        sim_disconnect(sim);
        return esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "simulated NIC unreachable", "%s: %s", method,
                             strerror(-retval));
    }
    rerr = json_object_get(reply, "error");
    res = json_object_get(reply, "result");
    if (rerr && !json_is_null(rerr)) {
        retval = sim_reply_error(rerr, error);
    } else if (!res) {
        retval = esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                               "malformed reply from the simulated NIC", "%s", method);
    } else {
        *result = json_incref((json_t *)res);
    }
    json_decref(reply);
    return retval;
}

static int
sim_bad_reply(const char *method, struct esw_error *error)
{
    return esw_error_set(error, -EIO, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                         "malformed reply from the simulated NIC", "%s", method);
}

/* Hex text of 'len' bytes.  Caller owns; free(). */
static char *
hex_encode(const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    char *hex = malloc(len * 2 + 1);
    size_t i;

    if (hex) {
        for (i = 0; i < len; i++) {
            hex[2 * i] = digits[p[i] >> 4];
            hex[2 * i + 1] = digits[p[i] & 0xf];
        }
        hex[2 * len] = '\0';
    }
    return hex;
}

static int
hex_nibble(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes exactly 'len' bytes of hex text 'hex' into 'out'.  Returns 0 or -EINVAL. */
static int
hex_decode_exact(const char *hex, void *out, size_t len)
{
    uint8_t *p = out;
    size_t i;

    if (!hex || strlen(hex) != len * 2) {
        return -EINVAL;
    }
    for (i = 0; i < len; i++) {
        int hi = hex_nibble(hex[2 * i]);
        int lo = hex_nibble(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -EINVAL;
        }
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* The hex wire encoding of a rule.  Caller owns; free(). */
static int
rule_to_hex(const struct rte_flow_attr *attr, const struct rte_flow_item items[],
            const struct rte_flow_action actions[], char **hexp, struct esw_error *error)
{
    uint8_t *buf;
    size_t len;
    int retval;

    retval = esw_wire_rule_encode(attr, items, actions, NULL, &buf, &len, error);
    if (retval) {
        return retval;
    }
    *hexp = hex_encode(buf, len);
    free(buf);
    return *hexp ? 0
                 : esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                                 "out of memory", NULL);
}

/* ---- Class. --------------------------------------------------------------------- */

static int
sim_open(const char *args, struct esw **espp, struct esw_error *error)
{
    struct esw_sim *sim;
    char *copy, *save = NULL, *tok;
    int retval = 0;

    sim = calloc(1, sizeof *sim);
    copy = strdup(args ? args : "");
    if (!sim || !copy) {
        free(sim);
        free(copy);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    sim->timeout_ms = 10000;
    for (tok = strtok_r(copy, ",", &save); tok && !retval;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strncmp(tok, "socket=", 7) && tok[7]) {
            free(sim->socket_path);
            sim->socket_path = strdup(tok + 7);
        } else if (!strncmp(tok, "timeout=", 8)) {
            char *end;
            long ms = strtol(tok + 8, &end, 10);

            if (*end || ms < 1 || ms > 600000) {
                retval = esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                       -1, "bad timeout", "'%s': 1 to 600000 ms", tok);
            }
            sim->timeout_ms = (int)ms;
        } else {
            retval = esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                                   "unknown argument",
                                   "'%s' (expected socket=PATH, "
                                   "timeout=MS)",
                                   tok);
        }
    }
    free(copy);
    if (!retval && !sim->socket_path) {
        retval = esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                               "missing argument", "socket=PATH");
    }
    if (!retval) {
        retval = sim_connect(sim, -ENODEV, error);
    }
    if (retval) {
        free(sim->socket_path);
        free(sim);
        return retval;
    }
    *espp = &sim->up;
    return 0;
}

static void
sim_close(struct esw *esw)
{
    struct esw_sim *sim = esw_sim_cast(esw);

    sim_disconnect(sim);
    free(sim->socket_path);
    free(sim);
}

static int
sim_caps_get(struct esw *esw, struct esw_caps *caps, struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    struct esw_wire_caps wire;
    json_t *result = NULL;
    int retval;

    retval = sim_call(sim, "caps", NULL, &result, error);
    if (retval) {
        return retval;
    }
    if (hex_decode_exact(json_string_value(json_object_get(result, "caps")), &wire,
                         sizeof wire) ||
        esw_wire_caps_decode(&wire, caps)) {
        retval = sim_bad_reply("caps", error);
    }
    json_decref(result);
    return retval;
}

static int
sim_port_list(struct esw *esw, struct esw_port *ports, size_t max,
              struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    const json_t *list, *p;
    json_t *result = NULL;
    size_t i, n = 0;
    int retval;

    retval = sim_call(sim, "ports", NULL, &result, error);
    if (retval) {
        return retval;
    }
    list = json_object_get(result, "ports");
    json_array_foreach(list, i, p)
    {
        const char *name = NULL, *kind = NULL;
        int64_t id = -1, pf = 0, vf = 0;
        struct esw_port port;

        if (json_get_int_range(p, "id", 0, UINT16_MAX, &id, NULL) ||
            json_get_string(p, "name", &name, NULL) ||
            json_get_string(p, "kind", &kind, NULL) ||
            json_get_int_range(p, "pf", 0, UINT16_MAX, &pf, NULL) ||
            json_get_int_range(p, "vf", 0, UINT16_MAX, &vf, NULL)) {
            retval = sim_bad_reply("ports", error);
            break;
        }
        memset(&port, 0, sizeof port);
        port.port_id = (uint16_t)id;
        port.kind = !strcmp(kind, "uplink") ? ESW_PORT_UPLINK
                    : !strcmp(kind, "pf")   ? ESW_PORT_PF
                                            : ESW_PORT_VF;
        port.pf = (uint16_t)pf;
        port.vf = (uint16_t)vf;
        snprintf(port.name, sizeof port.name, "%s", name);
        if (n < max) {
            ports[n] = port;
        }
        n++;
    }
    json_decref(result);
    return retval ? retval : (int)MIN(n, (size_t)INT32_MAX);
}

static int
sim_rule_validate(struct esw *esw, const struct rte_flow_attr *attr,
                  const struct rte_flow_item items[],
                  const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    json_t *result = NULL;
    char *hex;
    int retval;

    retval = rule_to_hex(attr, items, actions, &hex, error);
    if (retval) {
        return retval;
    }
    retval = sim_call(sim, "validate", json_pack("{s:s}", "rule", hex), &result, error);
    free(hex);
    json_decref(result);
    return retval;
}

static int
sim_rule_create(struct esw *esw, struct esw_rule *rule, const struct rte_flow_attr *attr,
                const struct rte_flow_item items[],
                const struct rte_flow_action actions[], struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    json_t *result = NULL;
    int64_t id;
    char *hex;
    int retval;

    retval = rule_to_hex(attr, items, actions, &hex, error);
    if (retval) {
        return retval;
    }
    retval = sim_call(sim, "create", json_pack("{s:s}", "rule", hex), &result, error);
    free(hex);
    if (!retval) {
        if (json_get_int_range(result, "id", 1, INT64_MAX, &id, NULL)) {
            retval = sim_bad_reply("create", error);
        } else {
            rule->priv = (uint64_t)id;
        }
    }
    json_decref(result);
    return retval;
}

static int
sim_rules_create_bulk(struct esw *esw, struct esw_rule *rules[],
                      const struct rte_flow_attr *attrs[],
                      const struct rte_flow_item *items[],
                      const struct rte_flow_action *actions[], size_t n, int status[],
                      enum rte_flow_error_type types[], struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    const json_t *results;
    json_t *list = json_array();
    json_t *result = NULL;
    bool *sent;
    size_t i, k;
    int retval = 0;

    sent = calloc(n ? n : 1, sizeof *sent);
    if (!list || !sent) {
        json_decref(list);
        free(sent);
        return esw_error_set(error, -ENOMEM, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "out of memory", NULL);
    }
    /* A rule the wire format cannot carry fails alone; the others go in one batch. */
    for (i = 0; i < n; i++) {
        struct esw_error rerr;
        char *hex;

        esw_error_clear(&rerr);
        status[i] = rule_to_hex(attrs[i], items[i], actions[i], &hex, &rerr);
        types[i] = rerr.type;
        if (!status[i]) {
            json_array_append_new(list, json_string(hex));
            free(hex);
            sent[i] = true;
        }
    }
    retval =
        sim_call(sim, "create_bulk", json_pack("{s:o}", "rules", list), &result, error);
    if (retval) {
        free(sent);
        return retval;
    }
    results = json_object_get(result, "results");
    for (i = 0, k = 0; i < n; i++) {
        const json_t *r;
        int64_t id;

        if (!sent[i]) {
            continue;
        }
        r = json_array_get(results, k++);
        if (!r) {
            retval = sim_bad_reply("create_bulk", error);
            break;
        }
        if (!json_get_int_range(r, "id", 1, INT64_MAX, &id, NULL)) {
            rules[i]->priv = (uint64_t)id;
            status[i] = 0;
        } else {
            struct esw_error rerr;

            esw_error_clear(&rerr);
            status[i] = sim_reply_error(r, &rerr);
            types[i] = rerr.type;
        }
    }
    json_decref(result);
    free(sent);
    return retval;
}

static int
sim_rule_destroy(struct esw *esw, struct esw_rule *rule, struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    json_t *result = NULL;
    int retval;

    retval = sim_call(sim, "destroy", json_pack("{s:I}", "id", (json_int_t)rule->priv),
                      &result, error);
    json_decref(result);
    return retval;
}

static int
sim_rule_query(struct esw *esw, struct esw_rule *rule, bool reset,
               struct esw_rule_stats *stats, struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    struct esw_wire_stats wire;
    json_t *result = NULL;
    int retval;

    retval =
        sim_call(sim, "query",
                 json_pack("{s:I,s:b}", "id", (json_int_t)rule->priv, "reset", reset),
                 &result, error);
    if (retval) {
        return retval;
    }
    if (hex_decode_exact(json_string_value(json_object_get(result, "wire")), &wire,
                         sizeof wire) ||
        esw_wire_stats_decode(&wire, stats)) {
        retval = sim_bad_reply("query", error);
    }
    json_decref(result);
    return retval;
}

static int
sim_aged_get(struct esw *esw, struct esw_rule **rules, size_t max,
             struct esw_error *error)
{
    struct esw_sim *sim = esw_sim_cast(esw);
    const json_t *ids, *v;
    json_t *result = NULL;
    size_t i, n = 0;
    int retval;

    if (!max) {
        return 0;
    }
    retval = sim_call(sim, "aged",
                      json_pack("{s:I}", "max", (json_int_t)MIN(max, (size_t)65536)),
                      &result, error);
    if (retval) {
        return retval;
    }
    ids = json_object_get(result, "ids");
    json_array_foreach(ids, i, v)
    {
        struct esw_rule *rule;

        if (!json_is_integer(v)) {
            continue;
        }
        rule = esw_rule_find(esw, (uint64_t)json_integer_value(v));
        if (rule && n < max) {
            rules[n++] = rule;
        }
    }
    json_decref(result);
    return (int)n;
}

static int
sim_flush(struct esw *esw, struct esw_error *error)
{
    json_t *result = NULL;
    int retval = sim_call(esw_sim_cast(esw), "flush", NULL, &result, error);

    json_decref(result);
    return retval;
}

static int
sim_meter_set(struct esw *esw, uint32_t id, uint64_t rate, uint64_t burst,
              struct esw_error *error)
{
    json_t *result = NULL;
    int retval;

    if (rate > INT64_MAX || burst > INT64_MAX) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "meter rate or burst too large", NULL);
    }
    retval = sim_call(esw_sim_cast(esw), "meter_set",
                      json_pack("{s:I,s:I,s:I}", "id", (json_int_t)id, "rate",
                                (json_int_t)rate, "burst", (json_int_t)burst),
                      &result, error);
    json_decref(result);
    return retval;
}

const struct esw_class esw_sim_class = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .caps_get = sim_caps_get,
    .port_list = sim_port_list,
    .rule_validate = sim_rule_validate,
    .rule_create = sim_rule_create,
    .rule_destroy = sim_rule_destroy,
    .rule_query = sim_rule_query,
    .aged_get = sim_aged_get,
    .flush = sim_flush,
    .meter_set = sim_meter_set,
    .rules_create_bulk = sim_rules_create_bulk,
};
