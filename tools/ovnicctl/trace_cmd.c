/* ovnicctl: "trace" (see trace_cmd.h). */
#include "trace_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_opts.h"
#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/key.h"
#include "dpu/pipeline/pipeline.h"
#include "shared/util/err.h"
#include "shared/util/util.h"

#define TRACE_MAX_CT CT_DET_MAX_STATES
#define TRACE_LINE_MAX 65536

enum trace_form {
    TRACE_DETAILED,
    TRACE_SUMMARY,
    TRACE_MINIMAL,
};

/* What one trace is asked for. */
struct trace_req {
    const char *datapath;
    const char *microflow;
    const char *ct[TRACE_MAX_CT]; /* --ct queue, in order. */
    size_t n_ct;
    const char *lb_dst;
};

/* The conntrack backend the pipeline holds: a ct_det swapped for each trace, so that
 * every trace starts with its own --ct queue. */
struct trace_ct {
    struct ct_det *cur;
};

static int
trace_ct_execute(void *ct_, struct ct_op *op, struct pkey *key)
{
    struct trace_ct *ct = ct_;
    return ct->cur ? ct_det_class.execute(ct->cur, op, key) : -ENODEV;
}

static const struct ct_class trace_ct_class = {
    .name = "trace",
    .execute = trace_ct_execute,
};

/* ---- Microflow to key ---- */

int
trace_microflow_to_key(const char *microflow, struct pkey *key, char **inport,
                       struct ovnic_err *err)
{
    struct symtab *symtab = NULL;
    struct expr_match_list *list = NULL;
    char *name = NULL;
    struct pkey k;
    int ret;

    ret = symtab_create(&symtab);
    if (ret) {
        return ovnic_err_set(err, ret, "microflow", "out of memory", "%s", "");
    }
    ret = expr_compile(symtab, microflow, NULL, NULL, &list, err);
    if (ret) {
        goto out;
    }
    if (list->n_matches != 1) {
        ret = ovnic_err_set(err, -EINVAL, "microflow", "not one conjunction", "%s",
                            list->n_matches ? "it has alternatives (||, {})"
                                            : "it can never match");
        goto out;
    }
    pkey_init(&k);
    const struct expr_match *m = &list->matches[0];
    for (size_t i = 0; i < m->n_terms; i++) {
        const struct expr_term *t = &m->terms[i];
        enum pkey_field_id id;

        if (t->type == EXPR_TERM_STRING) {
            if (t->field->id != SYMTAB_F_INPORT) {
                ret = ovnic_err_set(err, -EINVAL, "microflow", "unsupported field",
                                    "%s: only inport names a port", t->field->name);
                goto out;
            }
            free(name);
            name = strdup(t->string);
            if (!name) {
                ret = ovnic_err_set(err, -ENOMEM, "microflow", "out of memory", "%s", "");
                goto out;
            }
            continue;
        }
        if (t->type != EXPR_TERM_FIELD || pkey_field_from_symtab(t->field->id, &id)) {
            ret = ovnic_err_set(err, -EINVAL, "microflow", "unsupported field", "%s",
                                t->field ? t->field->name : "is_chassis_resident()");
            goto out;
        }
        /* Bits the match leaves open are 0, as ovn-trace leaves them. */
        pkey_field_set(&k, id, (pkey_field_get(&k, id) & ~t->mask) | t->value);
    }
    if (!name) {
        ret = ovnic_err_set(err, -EINVAL, "microflow", "no ingress port", "%s",
                            "the microflow must say inport == \"PORT\"");
        goto out;
    }
    *key = k;
    *inport = name;
    name = NULL;

out:
    free(name);
    expr_match_list_destroy(list);
    symtab_destroy(symtab);
    return ret;
}

/* ---- Output forms ---- */

/* Header fields, in the order the minimal form lists changes. */
static const enum pkey_field_id header_ids[] = {
    PKEY_F_ETH_DST,    PKEY_F_ETH_SRC,    PKEY_F_ETH_TYPE,   PKEY_F_VLAN_TCI,
    PKEY_F_IP4_SRC,    PKEY_F_IP4_DST,    PKEY_F_IP6_SRC,    PKEY_F_IP6_DST,
    PKEY_F_IP6_LABEL,  PKEY_F_IP_PROTO,   PKEY_F_IP_DSCP,    PKEY_F_IP_ECN,
    PKEY_F_IP_TTL,     PKEY_F_ARP_OP,     PKEY_F_ARP_SPA,    PKEY_F_ARP_TPA,
    PKEY_F_ARP_SHA,    PKEY_F_ARP_THA,    PKEY_F_TCP_SRC,    PKEY_F_TCP_DST,
    PKEY_F_UDP_SRC,    PKEY_F_UDP_DST,    PKEY_F_SCTP_SRC,   PKEY_F_SCTP_DST,
    PKEY_F_TCP_FLAGS,  PKEY_F_ICMP4_TYPE, PKEY_F_ICMP4_CODE, PKEY_F_ICMP6_TYPE,
    PKEY_F_ICMP6_CODE, PKEY_F_ND_TARGET,  PKEY_F_ND_SLL,     PKEY_F_ND_TLL,
};

/* Appends printf-style text to the string '*s' (length '*len'); on allocation
 * failure frees it and leaves NULL. */
static void buf_printf(char **s, size_t *len, const char *fmt, ...) OVNIC_PRINTF(3, 4);

static void
buf_printf(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char *add;
    int n;

    if (!*s) {
        return;
    }
    va_start(ap, fmt);
    n = vasprintf(&add, fmt, ap);
    va_end(ap);
    if (n < 0) {
        free(*s);
        *s = NULL;
        return;
    }
    char *p = realloc(*s, *len + n + 1);
    if (!p) {
        free(add);
        free(*s);
        *s = NULL;
        return;
    }
    memcpy(p + *len, add, n + 1);
    *s = p;
    *len += n;
    free(add);
}

/* True for a controller action that builds a packet (its deliveries nest in it). */
static bool
ctrl_builds_packet(enum action_type type)
{
    switch (type) {
    case ACTION_ARP:
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
    case ACTION_ND_NS:
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
    case ACTION_TCP_RESET:
    case ACTION_SCTP_ABORT:
    case ACTION_REJECT:
        return true;
    default:
        return false;
    }
}

/* The header changes of 'out' against the walk's input, one "f = v;" line each. */
static void
minimal_changes(char **s, size_t *len, const struct pkey *in, const struct pkey *out,
                const char *indent)
{
    for (size_t i = 0; i < ARRAY_SIZE(header_ids); i++) {
        lex_u128 a = pkey_field_get(in, header_ids[i]);
        lex_u128 b = pkey_field_get(out, header_ids[i]);
        if (a != b) {
            const struct pkey_field_info *fi = pkey_field_info(header_ids[i]);
            char buf[64];
            buf_printf(s, len, "%s%s = %s;\n", indent, fi->name,
                       lex_value_format(b, fi->format, buf, sizeof buf));
        }
    }
}

/* Opens one block per action of 'chain' ("reject", "arp/icmp4"), nested; returns the
 * depth reached. */
static int
minimal_open(char **s, size_t *len, const char *chain)
{
    int depth = 0;
    while (*chain) {
        size_t n = strcspn(chain, "/");
        buf_printf(s, len, "%*s%.*s {\n", depth * 4, "", (int)n, chain);
        depth++;
        chain += n + (chain[n] == '/');
    }
    return depth;
}

static void
minimal_close(char **s, size_t *len, int depth)
{
    while (depth-- > 0) {
        buf_printf(s, len, "%*s};\n", depth * 4, "");
    }
}

/* The minimal form: header changes and one output per delivery; deliveries and drops
 * of controller-built packets inside one block per packet-building controller action
 * that built them, nested as the actions were (a packet built inside another
 * action's packet sits in a block inside that one's); other controller actions as
 * statements; drops as comments. */
static char *
format_minimal(const struct pipeline_result *r)
{
    char key[1024];
    char *s = strdup("");
    size_t len = 0;

    pkey_format(&r->input_key, NULL, key, sizeof key);
    buf_printf(&s, &len, "# %s\n", key);
    if (r->error) {
        buf_printf(&s, &len, "/* refused: %s */;\n",
                   r->error_msg ? r->error_msg : strerror(-r->error));
    }
    for (size_t i = 0; i < r->n_ctrls; i++) {
        const struct pipeline_ctrl *c = &r->ctrls[i];
        if (!ctrl_builds_packet(c->type)) {
            buf_printf(&s, &len, "%s;\n", c->text ? c->text : action_type_name(c->type));
        }
    }
    for (size_t i = 0; i < r->n_outputs; i++) {
        const struct pipeline_output *o = &r->outputs[i];
        if (!o->built_by[0]) {
            minimal_changes(&s, &len, &r->input_key, &o->key, "");
            buf_printf(&s, &len, "output(\"%s\");\n", o->port);
        }
    }
    /* One nest of blocks per chain of building actions, in the order they first
     * built something; a builder whose packets all went nowhere still shows. */
    for (size_t i = 0; i < r->n_outputs + r->n_drops; i++) {
        const char *chain = i < r->n_outputs ? r->outputs[i].built_by
                                             : r->drops[i - r->n_outputs].built_by;
        bool seen = !chain[0];
        for (size_t j = 0; j < i && !seen; j++) {
            seen = !strcmp(chain, j < r->n_outputs ? r->outputs[j].built_by
                                                   : r->drops[j - r->n_outputs].built_by);
        }
        if (seen) {
            continue;
        }
        int depth = minimal_open(&s, &len, chain);
        char indent[64];
        snprintf(indent, sizeof indent, "%*s", depth * 4, "");
        for (size_t j = i; j < r->n_outputs; j++) {
            const struct pipeline_output *o = &r->outputs[j];
            if (!strcmp(o->built_by, chain)) {
                minimal_changes(&s, &len, &r->input_key, &o->key, indent);
                buf_printf(&s, &len, "%soutput(\"%s\");\n", indent, o->port);
            }
        }
        for (size_t j = 0; j < r->n_drops; j++) {
            const struct pipeline_drop *d = &r->drops[j];
            if (!strcmp(d->built_by, chain)) {
                buf_printf(&s, &len, "%s/* drop: %s */;\n", indent,
                           d->reason ? d->reason : "");
            }
        }
        minimal_close(&s, &len, depth);
    }
    for (size_t i = 0; i < r->n_drops; i++) {
        const struct pipeline_drop *d = &r->drops[i];
        if (!d->built_by[0]) {
            buf_printf(&s, &len, "/* drop: %s */;\n", d->reason ? d->reason : "");
        }
    }
    return s;
}

/* The summary form: the walk's pipelines, conntrack and controller steps, outputs
 * and drops, without the individual flows. */
static char *
format_summary(const struct pipeline_result *r)
{
    char *s = strdup("");
    size_t len = 0;

    for (size_t i = 0; i < r->n_trace; i++) {
        const struct pipeline_trace_entry *e = &r->trace[i];
        if (e->type == PIPELINE_TRACE_FLOW) {
            continue;
        }
        buf_printf(&s, &len, "%*s%s\n", (int)(e->depth * 4), "", e->text ? e->text : "");
    }
    return s;
}

static const char *
verdict_word(const struct pipeline_result *r)
{
    return r->error ? "refused" : r->n_outputs ? "delivered" : "dropped";
}

/* Prints the table form of 'r'. */
static void
print_text(const struct trace_req *req, const struct pipeline_result *r,
           enum trace_form form)
{
    char *body = form == TRACE_MINIMAL   ? format_minimal(r)
                 : form == TRACE_SUMMARY ? format_summary(r)
                                         : pipeline_trace_format(r);
    char *mf = pipeline_megaflow_format(r);

    if (form != TRACE_MINIMAL) {
        printf("# %s %s\n", req->datapath, req->microflow);
    }
    fputs(body ? body : "(out of memory)\n", stdout);
    if (form != TRACE_MINIMAL) {
        printf("\nverdict: %s (%zu output%s, %zu drop%s, %zu controller action%s)\n",
               verdict_word(r), r->n_outputs, r->n_outputs == 1 ? "" : "s", r->n_drops,
               r->n_drops == 1 ? "" : "s", r->n_ctrls, r->n_ctrls == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_outputs; i++) {
            printf("  output \"%s\" (%s%s)\n", r->outputs[i].port,
                   pipeline_output_type_name(r->outputs[i].type),
                   r->outputs[i].from_controller ? ", from controller" : "");
        }
        for (size_t i = 0; i < r->n_drops; i++) {
            printf("  drop: %s\n", r->drops[i].reason ? r->drops[i].reason : "");
        }
        printf("megaflow: %s\n", mf ? mf : "(out of memory)");
    }
    free(body);
    free(mf);
}

/* The JSON form: pipeline_result_to_json() plus the request, the input key, the
 * verdict and the minimal text. */
static json_t *
result_json(const struct trace_req *req, const struct pipeline_result *r)
{
    json_t *json = pipeline_result_to_json(r);
    char key[1024];
    char *minimal = format_minimal(r);

    if (!json || !minimal) {
        json_decref(json);
        free(minimal);
        return NULL;
    }
    pkey_format(&r->input_key, NULL, key, sizeof key);
    json_object_set_new(json, "datapath", json_string(req->datapath));
    json_object_set_new(json, "microflow", json_string(req->microflow));
    json_object_set_new(json, "input", json_string(key));
    json_object_set_new(json, "verdict", json_string(verdict_word(r)));
    json_object_set_new(json, "minimal", json_string(minimal));
    free(minimal);
    return json;
}

/* ---- Running ---- */

struct trace_ctx {
    struct pipeline *pipeline;
    struct trace_ct ct;
    enum trace_form form;
    enum ovnicctl_format format;
};

/* Runs one trace and prints it.  Returns 0, or an OVNICCTL_EXIT_* status after
 * printing the error (as text, or as {"error": ...} in JSON form). */
static int
trace_one(struct trace_ctx *ctx, const struct trace_req *req)
{
    struct ovnic_err err = {0};
    struct pipeline_result result;
    struct pkey key;
    char *inport = NULL;
    char msg[OVNIC_ERR_DETAIL_LEN + 128];
    uint32_t dp_key, port_dp;
    int status = OVNICCTL_EXIT_OK;
    int ret;

    pipeline_result_init(&result);
    msg[0] = '\0';
    if (pipeline_datapath_key(ctx->pipeline, req->datapath, &dp_key)) {
        snprintf(msg, sizeof msg, "unknown datapath \"%s\"", req->datapath);
        goto fail;
    }
    ret = trace_microflow_to_key(req->microflow, &key, &inport, &err);
    if (ret) {
        snprintf(msg, sizeof msg, "bad microflow: %s",
                 ovnic_err_format(&err, msg + 64, sizeof msg - 64));
        goto fail;
    }
    if (pipeline_datapath_key(ctx->pipeline, inport, &port_dp) || port_dp != dp_key) {
        snprintf(msg, sizeof msg, "unknown port \"%s\" in datapath \"%s\"", inport,
                 req->datapath);
        goto fail;
    }
    ret = ct_det_create(&ctx->ct.cur);
    if (ret) {
        snprintf(msg, sizeof msg, "%s", strerror(-ret));
        goto fail;
    }
    for (size_t i = 0; i < req->n_ct && !ret; i++) {
        ret = ct_det_push_state(ctx->ct.cur, req->ct[i]);
        if (ret) {
            snprintf(msg, sizeof msg, "bad --ct state \"%s\"", req->ct[i]);
        }
    }
    if (!ret && req->lb_dst) {
        ret = ct_det_set_lb_dst(ctx->ct.cur, req->lb_dst);
        if (ret) {
            snprintf(msg, sizeof msg, "bad --lb-dst \"%s\"", req->lb_dst);
        }
    }
    if (ret) {
        goto fail;
    }

    struct pipeline_input in = {
        .type = PIPELINE_IN_VIF,
        .port = inport,
        .key = &key,
        .trace = true,
    };
    ret = pipeline_process(ctx->pipeline, &in, &result);
    if (ret) {
        snprintf(msg, sizeof msg, "walking the pipeline: %s", strerror(-ret));
        goto fail;
    }
    if (ctx->format == OVNICCTL_FORMAT_JSON) {
        json_t *json = result_json(req, &result);
        if (!json || json_dumpf(json, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
            status = ovnicctl_error("writing output failed");
        } else {
            fputc('\n', stdout);
        }
        json_decref(json);
    } else {
        print_text(req, &result, ctx->form);
    }
    goto out;

fail:
    if (ctx->format == OVNICCTL_FORMAT_JSON) {
        json_t *json = json_pack("{s:s, s:s, s:s}", "datapath", req->datapath,
                                 "microflow", req->microflow, "error", msg);
        if (json) {
            json_dumpf(json, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
        }
        json_decref(json);
        status = OVNICCTL_EXIT_FAILURE;
    } else {
        status = ovnicctl_error("%s", msg);
    }

out:
    ct_det_destroy(ctx->ct.cur);
    ctx->ct.cur = NULL;
    free(inport);
    pipeline_result_destroy(&result);
    fflush(stdout);
    return status;
}

/* One line of --batch input: DATAPATH TAB MICROFLOW [TAB CT [TAB LB_DST]], where CT is
 * a space-separated --ct queue ("new", "new est,rpl") or "-", and LB_DST "-" for
 * none.  Fills 'req' with pointers into 'line' (modified).  Returns false if the line
 * is malformed. */
static bool
batch_parse(char *line, struct trace_req *req)
{
    char *fields[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    char *p = line;

    memset(req, 0, sizeof *req);
    line[strcspn(line, "\r\n")] = '\0';
    while (n < 4) {
        fields[n++] = p;
        p = strchr(p, '\t');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    if (n < 2 || !*fields[0] || !*fields[1]) {
        return false;
    }
    req->datapath = fields[0];
    req->microflow = fields[1];
    if (fields[2] && strcmp(fields[2], "-")) {
        char *save = NULL;
        for (char *w = strtok_r(fields[2], " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            if (req->n_ct == TRACE_MAX_CT) {
                return false;
            }
            req->ct[req->n_ct++] = w;
        }
    }
    if (fields[3] && strcmp(fields[3], "-") && *fields[3]) {
        req->lb_dst = fields[3];
    }
    return true;
}

static int
trace_batch(struct trace_ctx *ctx)
{
    char *line = malloc(TRACE_LINE_MAX);
    int status = OVNICCTL_EXIT_OK;
    unsigned long lineno = 0;

    if (!line) {
        return ovnicctl_error("out of memory");
    }
    while (fgets(line, TRACE_LINE_MAX, stdin)) {
        struct trace_req req;

        lineno++;
        if (line[0] == '\n' || line[0] == '#') {
            continue;
        }
        if (!batch_parse(line, &req)) {
            if (ctx->format == OVNICCTL_FORMAT_JSON) {
                printf("{\"error\": \"line %lu: malformed\"}\n", lineno);
                fflush(stdout);
            } else {
                ovnicctl_error("line %lu: expecting DATAPATH<TAB>MICROFLOW"
                               "[<TAB>CT[<TAB>LB_DST]]",
                               lineno);
            }
            status = OVNICCTL_EXIT_FAILURE;
            continue;
        }
        if (trace_one(ctx, &req)) {
            status = OVNICCTL_EXIT_FAILURE;
        }
        if (ctx->format != OVNICCTL_FORMAT_JSON) {
            putchar('\n');
        }
    }
    free(line);
    return status;
}

/* Takes the options of "trace" itself out of 'argv' (into 'req', 'form', 'chassis',
 * 'batch'), leaving the common ones in 'rest' for ovnicctl_db_opts_parse().  Returns
 * -1, or OVNICCTL_EXIT_USAGE after printing the error. */
static int
split_options(int argc, char *argv[], char **rest, int *n_rest, struct trace_req *req,
              enum trace_form *form, const char **chassis, bool *batch,
              uint16_t *select_id)
{
    bool options = true;

    *n_rest = 0;
    rest[(*n_rest)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (options && !strcmp(a, "--")) {
            options = false;
            rest[(*n_rest)++] = argv[i];
        } else if (options && !strncmp(a, "--ct=", 5)) {
            if (req->n_ct == TRACE_MAX_CT) {
                return ovnicctl_usage_error("trace", "more than %d --ct options",
                                            TRACE_MAX_CT);
            }
            req->ct[req->n_ct++] = a + 5;
        } else if (options && !strncmp(a, "--lb-dst=", 9)) {
            req->lb_dst = a + 9;
        } else if (options && !strncmp(a, "--chassis=", 10)) {
            *chassis = a + 10;
        } else if (options && !strncmp(a, "--select-id=", 12)) {
            char *end = NULL;
            unsigned long id = strtoul(a + 12, &end, 10);
            if (!a[12] || *end || !id || id > UINT16_MAX) {
                return ovnicctl_usage_error("trace", "bad --select-id '%s'", a + 12);
            }
            *select_id = (uint16_t)id;
        } else if (options && !strcmp(a, "--minimal")) {
            *form = TRACE_MINIMAL;
        } else if (options && !strcmp(a, "--summary")) {
            *form = TRACE_SUMMARY;
        } else if (options && !strcmp(a, "--detailed")) {
            *form = TRACE_DETAILED;
        } else if (options && !strcmp(a, "--batch")) {
            *batch = true;
        } else if (options && (!strcmp(a, "--ct") || !strcmp(a, "--lb-dst") ||
                               !strcmp(a, "--chassis") || !strcmp(a, "--select-id"))) {
            return ovnicctl_usage_error("trace", "option '%s' needs a value (%s=...)", a,
                                        a);
        } else {
            rest[(*n_rest)++] = argv[i];
        }
    }
    rest[*n_rest] = NULL;
    return -1;
}

static int
trace_run(int argc, char *argv[])
{
    struct ovnicctl_db_opts opts = {.path = "trace", .with_args = true};
    struct trace_req req = {0};
    struct trace_ctx ctx = {.form = TRACE_DETAILED};
    struct ovnicctl_db_session session;
    const char *chassis = NULL;
    bool batch = false;
    uint16_t select_id = 0;
    char **rest = calloc(argc + 1, sizeof *rest);
    int n_rest;
    int status;

    if (!rest) {
        return ovnicctl_error("out of memory");
    }
    status = split_options(argc, argv, rest, &n_rest, &req, &ctx.form, &chassis, &batch,
                           &select_id);
    if (status < 0) {
        status = ovnicctl_db_opts_parse(&opts, n_rest, rest);
    }
    if (status >= 0) {
        free(rest);
        return status;
    }
    int n_args = n_rest - opts.first_arg;
    if (batch ? n_args != 0 : n_args != 2) {
        free(rest);
        return ovnicctl_usage_error("trace", batch ? "--batch takes no arguments"
                                                   : "expecting DATAPATH and MICROFLOW");
    }
    if (!batch) {
        req.datapath = rest[opts.first_arg];
        req.microflow = rest[opts.first_arg + 1];
    }
    for (size_t i = 0; i < req.n_ct; i++) {
        uint32_t state;
        if (ct_state_parse(req.ct[i], &state)) {
            free(rest);
            return ovnicctl_usage_error("trace", "bad --ct state '%s'", req.ct[i]);
        }
    }
    ctx.format = opts.format;

    status = ovnicctl_db_session_open(&session, &opts, NULL, OVNICCTL_EXIT_FAILURE);
    if (status >= 0) {
        free(rest);
        return status;
    }
    if (!ovnicctl_db_session_wait_synced(&session)) {
        status = session.status;
        goto out_session;
    }

    struct pipeline_config config = {
        .chassis = chassis,
        .trace_mode = !chassis || !*chassis,
        .ct_class = &trace_ct_class,
        .ct = &ctx.ct,
        .select_id = select_id,
    };
    struct ovnic_err err = {0};
    char msg[OVNIC_ERR_DETAIL_LEN + 128];
    int ret = pipeline_create(&config, &ctx.pipeline);
    if (!ret) {
        ret = pipeline_sync(ctx.pipeline, ovsdb_cs_replica(session.cs), &err);
    }
    if (ret) {
        status = ovnicctl_error("building the pipeline: %s",
                                ovnic_err_is_set(&err)
                                    ? ovnic_err_format(&err, msg, sizeof msg)
                                    : strerror(-ret));
        goto out_pipeline;
    }
    status = batch ? trace_batch(&ctx) : trace_one(&ctx, &req);
    if (fflush(stdout) || ferror(stdout)) {
        status = OVNICCTL_EXIT_FAILURE;
    }

out_pipeline:
    pipeline_destroy(ctx.pipeline);
out_session:
    ovnicctl_db_session_close(&session);
    free(rest);
    return status;
}

const struct ovnicctl_command ovnicctl_trace_command = {
    .name = "trace",
    .summary = "walk a packet through ovnic's pipeline, as ovn-trace does",
    .help =
        "Usage: ovnicctl trace --db=REMOTE [OPTIONS] DATAPATH MICROFLOW\n"
        "       ovnicctl trace --db=REMOTE --batch [OPTIONS] < LINES\n"
        "\n"
        "Synchronises an OVN Southbound database, builds ovnic's pipeline from it\n"
        "and walks the packet MICROFLOW describes (an ovn-trace microflow such as\n"
        "'inport==\"vm1\" && eth.src==00:00:00:00:00:01 && ip4.dst==10.0.0.2 &&\n"
        "ip.ttl==64 && icmp4') from its inport in DATAPATH.  Fields the microflow\n"
        "does not name are 0, as in ovn-trace.\n"
        "\n"
        "Trace options:\n"
        "  --ct=FLAGS            ct_state of the next conntrack lookup (trk, new, est,\n"
        "                        rel, rpl, inv, snat, dnat, comma-separated); repeat\n"
        "                        for later lookups; afterwards: est (default)\n"
        "  --lb-dst=IP[:PORT]    backend that load balancing picks\n"
        "  --select-id=N         select() picks member N where it has one (else by\n"
        "                        the packet's hash)\n"
        "  --detailed            every flow that matched, with its stage, priority,\n"
        "                        match and actions (default)\n"
        "  --summary             pipelines, conntrack, controller steps and outputs\n"
        "  --minimal             header changes and output(\"PORT\") per delivery, as\n"
        "                        ovn-trace --minimal\n"
        "  --chassis=NAME        walk as chassis NAME does (tunnels, residency);\n"
        "                        without it every port is local, as in ovn-trace\n"
        "  --batch               read traces from stdin, one a line:\n"
        "                        DATAPATH<TAB>MICROFLOW[<TAB>CT[<TAB>LB_DST]] (CT: a\n"
        "                        space-separated --ct list or '-')\n"
        "\n"
        "json format: one object per trace: \"datapath\", \"microflow\", \"input\"\n"
        "(the key walked), \"verdict\" (delivered|dropped|refused), \"outputs\",\n"
        "\"drops\", \"controller\", \"megaflow\", \"trace\", \"minimal\"; or\n"
        "{\"datapath\", \"microflow\", \"error\"} for a trace that could not run.\n"
        "\n"
        "Options:\n" OVNICCTL_DB_HELP_DB OVNICCTL_DB_HELP_COMMON "\n"
        "Exit status: 0 if the packet was traced (whatever became of it), 1 on an\n"
        "unknown datapath or port, a bad microflow, or failure to synchronise, 2 on\n"
        "a usage error.\n",
    .run = trace_run,
};
