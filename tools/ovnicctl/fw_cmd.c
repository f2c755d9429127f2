/* ovnicctl: the "fw" commands, the firmware installer on the DPU (fw-images/install.h):
 *
 *   ovnicctl fw install IMAGE --trust STORE [OPTIONS]
 *   ovnicctl fw status [--trust STORE]
 *   ovnicctl fw commit [OPTIONS]
 *   ovnicctl fw rollback [--trust STORE] [--force] [OPTIONS]
 *
 * The flash is that of ovnic-nicsim (its control socket) in hw-sim.  See
 * docs/ovnicctl.md, "fw". */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dpud_cmd.h"
#include "fw-images/file.h"
#include "fw-images/flash.h"
#include "fw-images/install.h"
#include "fw-images/trust.h"
#include "nicsim_cmd.h"
#include "ovnicctl.h"
#include "shared/util/json.h"
#include "shared/util/util.h"

#define FW_TIMEOUT_MS 30000
#define DEFAULT_HEALTH_TIMEOUT_S 30.0

enum fw_health_kind {
    FW_HEALTH_DPUD, /* ovnic-dpud's status: up, SB synced, datapath polling. */
    FW_HEALTH_CMD,  /* A command: healthy if it exits 0. */
    FW_HEALTH_NONE, /* No check: the trial waits for "fw commit". */
};

enum fw_progress_kind {
    FW_PROGRESS_AUTO,
    FW_PROGRESS_BAR,
    FW_PROGRESS_JSON,
    FW_PROGRESS_NONE,
};

struct fw_opts {
    const char *path; /* "fw install"... */
    const char *socket;
    const char *trust_path;
    const char *device;
    bool json;
    bool force;
    bool no_reboot;
    enum fw_health_kind health;
    const char *health_cmd;
    char *dpud_socket;
    double health_timeout_s;
    enum fw_progress_kind progress;
    int last_percent;
    const char *last_phase;
};

#define COMMON_HELP                                                      \
    "  --socket PATH          ovnic-nicsim's control socket (default:\n" \
    "                         $OVNIC_NICSIM_SOCKET, "                    \
    "else " OVNICCTL_NICSIM_DEFAULT_SOCKET ")\n" OVNICCTL_FORMAT_HELP

#define HEALTH_HELP                                                                     \
    "  --no-reboot            switch the boot selection only; reboot later\n"           \
    "  --health-cmd CMD       health check: CMD (sh -c) exits 0\n"                      \
    "  --dpud-socket PATH     health check (the default): ovnic-dpud answers at PATH\n" \
    "                         (default $OVNIC_RUNDIR/ovnic-dpud.ctl), its SB session "  \
    "is\n"                                                                              \
    "                         SYNCED and, with datapath = dpdk, its lcore polls\n"      \
    "  --no-health-check      no check: the trial waits for 'ovnicctl fw commit'\n"     \
    "  --health-timeout S     keep checking for S seconds before giving up (default "   \
    "30)\n"                                                                             \
    "  --progress auto|bar|json|none\n"                                                 \
    "                         progress on stderr: a bar on a terminal, JSON lines\n"    \
    "                         otherwise (auto, the default)\n"

enum {
    OPT_SOCKET = 1000,
    OPT_TRUST,
    OPT_DEVICE,
    OPT_FORMAT,
    OPT_FORCE,
    OPT_NO_REBOOT,
    OPT_HEALTH_CMD,
    OPT_DPUD_SOCKET,
    OPT_NO_HEALTH,
    OPT_HEALTH_TIMEOUT,
    OPT_PROGRESS,
};

static int
parse_opts(const char *path, int argc, char *argv[], struct fw_opts *o, bool installs)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"trust", required_argument, NULL, OPT_TRUST},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"no-reboot", no_argument, NULL, OPT_NO_REBOOT},
        {"health-cmd", required_argument, NULL, OPT_HEALTH_CMD},
        {"dpud-socket", required_argument, NULL, OPT_DPUD_SOCKET},
        {"no-health-check", no_argument, NULL, OPT_NO_HEALTH},
        {"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
        {"progress", required_argument, NULL, OPT_PROGRESS},
        {NULL, 0, NULL, 0},
    };
    const char *env = getenv("OVNIC_NICSIM_SOCKET");
    int c;

    memset(o, 0, sizeof *o);
    o->path = path;
    o->socket = env && *env ? env : OVNICCTL_NICSIM_DEFAULT_SOCKET;
    o->health_timeout_s = DEFAULT_HEALTH_TIMEOUT_S;
    o->last_percent = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;

        if (!installs && c != OPT_SOCKET && c != OPT_FORMAT && c != OPT_TRUST &&
            c != '?') {
            return ovnicctl_usage_error(path, "unknown option '%s'", argv[optind - 1]);
        }
        switch (c) {
        case OPT_SOCKET:
            o->socket = optarg;
            break;
        case OPT_TRUST:
            o->trust_path = optarg;
            break;
        case OPT_DEVICE:
            o->device = optarg;
            break;
        case OPT_FORMAT: {
            enum ovnicctl_format format;

            if (ovnicctl_format_parse(path, optarg, &format) >= 0) {
                return OVNICCTL_EXIT_USAGE;
            }
            o->json = format == OVNICCTL_FORMAT_JSON;
            break;
        }
        case OPT_FORCE:
            o->force = true;
            break;
        case OPT_NO_REBOOT:
            o->no_reboot = true;
            break;
        case OPT_HEALTH_CMD:
            o->health = FW_HEALTH_CMD;
            o->health_cmd = optarg;
            break;
        case OPT_DPUD_SOCKET:
            o->health = FW_HEALTH_DPUD;
            free(o->dpud_socket);
            o->dpud_socket = strdup(optarg);
            break;
        case OPT_NO_HEALTH:
            o->health = FW_HEALTH_NONE;
            break;
        case OPT_HEALTH_TIMEOUT:
            o->health_timeout_s = strtod(optarg, &end);
            if (*end || o->health_timeout_s < 0 || o->health_timeout_s > 3600) {
                return ovnicctl_usage_error(path, "bad health timeout '%s'", optarg);
            }
            break;
        case OPT_PROGRESS:
            if (!strcmp(optarg, "auto")) {
                o->progress = FW_PROGRESS_AUTO;
            } else if (!strcmp(optarg, "bar")) {
                o->progress = FW_PROGRESS_BAR;
            } else if (!strcmp(optarg, "json")) {
                o->progress = FW_PROGRESS_JSON;
            } else if (!strcmp(optarg, "none")) {
                o->progress = FW_PROGRESS_NONE;
            } else {
                return ovnicctl_usage_error(path, "unknown progress '%s'", optarg);
            }
            break;
        default:
            return ovnicctl_usage_error(path, "unknown option or missing argument '%s'",
                                        argv[optind - 1]);
        }
    }
    if (o->progress == FW_PROGRESS_AUTO) {
        o->progress = isatty(STDERR_FILENO) ? FW_PROGRESS_BAR : FW_PROGRESS_JSON;
    }
    if (o->health == FW_HEALTH_DPUD && !o->dpud_socket &&
        !(o->dpud_socket = ovnicctl_dpud_default_target())) {
        return ovnicctl_error("out of memory");
    }
    return -1;
}

static void
opts_free(struct fw_opts *o)
{
    free(o->dpud_socket);
}

/* ---- Progress. -------------------------------------------------------------------- */

static void
progress_cb(void *aux, const struct fw_install_progress *p)
{
    struct fw_opts *o = aux;

    if (o->progress == FW_PROGRESS_JSON) {
        fprintf(stderr,
                "{\"phase\": \"%s\", \"done\": %" PRIu64 ", \"total\": %" PRIu64
                ", \"slot\": \"%s\"}\n",
                p->phase, p->done, p->total, fw_flash_slot_name(p->slot));
        fflush(stderr);
    } else if (o->progress == FW_PROGRESS_BAR) {
        int percent = p->total ? (int)(p->done * 100 / p->total) : 100;
        int filled = percent * 30 / 100;

        if (o->last_phase && !strcmp(o->last_phase, p->phase) &&
            percent == o->last_percent) {
            return;
        }
        if (o->last_phase && strcmp(o->last_phase, p->phase)) {
            fputc('\n', stderr);
        }
        fprintf(stderr, "\r%-12s [%.*s%*s] %3d%%", p->phase, filled,
                "##############################", 30 - filled, "", percent);
        if (p->total > 1) {
            fprintf(stderr, "  %" PRIu64 "/%" PRIu64 " KiB", p->done >> 10,
                    p->total >> 10);
        }
        fflush(stderr);
        o->last_phase = p->phase;
        o->last_percent = percent;
    }
}

static void
progress_end(struct fw_opts *o)
{
    if (o->progress == FW_PROGRESS_BAR && o->last_phase) {
        fputc('\n', stderr);
    }
}

/* ---- Health checks. --------------------------------------------------------------- */

static int
health_once_dpud(struct fw_opts *o, struct ovnic_err *err)
{
    json_t *status = NULL, *stats = NULL;
    const char *sb_state = "", *datapath = "";
    char *errmsg = NULL;
    int rc;

    rc = ovnicctl_dpud_call(o->dpud_socket, "status", NULL, 5000, &status, &errmsg);
    if (rc) {
        rc = ovnic_err_set(err, -EHOSTDOWN, "health", "ovnic-dpud is not up", "%s: %s",
                           o->dpud_socket, errmsg ? errmsg : strerror(-rc));
        free(errmsg);
        return rc;
    }
    json_get_string_opt(status, "sb_state", &sb_state, NULL);
    json_get_string_opt(status, "datapath", &datapath, NULL);
    if (strcmp(sb_state, "SYNCED")) {
        rc = ovnic_err_set(err, -ENOTCONN, "health", "the SB is not connected",
                           "sb_state %s", sb_state);
        json_decref(status);
        return rc;
    }
    if (!strcmp(datapath, "dpdk")) {
        int64_t polls[2] = {0, 0};

        for (int i = 0; i < 2; i++) {
            if (i) {
                usleep(200 * 1000);
            }
            rc = ovnicctl_dpud_call(o->dpud_socket, "dp-stats", NULL, 5000, &stats,
                                    &errmsg);
            if (rc) {
                rc = ovnic_err_set(err, -EHOSTDOWN, "health",
                                   "the datapath does not answer", "%s",
                                   errmsg ? errmsg : strerror(-rc));
                free(errmsg);
                json_decref(status);
                return rc;
            }
            json_get_int_opt(stats, "polls", &polls[i], NULL);
            json_decref(stats);
        }
        if (polls[1] <= polls[0]) {
            json_decref(status);
            return ovnic_err_set(err, -EHOSTDOWN, "health",
                                 "the datapath does not forward",
                                 "its lcore did not poll in 200 ms");
        }
    }
    json_decref(status);
    return 0;
}

static int
health_once_cmd(struct fw_opts *o, struct ovnic_err *err)
{
    int status = system(o->health_cmd);

    if (status == -1) {
        return ovnic_err_set(err, -errno, "health", "cannot run the health command", "%s",
                             o->health_cmd);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        return ovnic_err_set(err, -EHOSTDOWN, "health", "the health command failed",
                             "'%s' exited with %d", o->health_cmd,
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return 0;
}

/* Checks until healthy or 'health_timeout_s' pass: the new version may take a while
 * to come up after the reboot. */
static int
health_cb(void *aux, struct ovnic_err *err)
{
    struct fw_opts *o = aux;
    uint64_t deadline = time_msec() + (uint64_t)(o->health_timeout_s * 1000);

    for (;;) {
        struct ovnic_err attempt = {0};
        int rc = o->health == FW_HEALTH_CMD ? health_once_cmd(o, &attempt)
                                            : health_once_dpud(o, &attempt);

        if (!rc) {
            return 0;
        }
        if (time_msec() >= deadline) {
            *err = attempt;
            return rc;
        }
        usleep(500 * 1000);
    }
}

/* ---- Output. ---------------------------------------------------------------------- */

static void
print_kv(const json_t *obj)
{
    const char *key;
    json_t *v;
    int width = 0;

    json_object_foreach((json_t *)obj, key, v)
    {
        if (!json_is_array(v) && (int)strlen(key) > width) {
            width = (int)strlen(key);
        }
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_array(v)) {
            continue;
        }
        printf("%-*s  ", width, key);
        if (json_is_string(v) && !*json_string_value(v)) {
            printf("-");
        } else {
            ovnicctl_print_value(v);
        }
        printf("\n");
    }
}

/* A table cell: a string as it is, "" and null as "-", anything else as JSON.  Caller
 * owns; free(). */
static char *
cell_text(const json_t *v)
{
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
        return strdup("-");
    }
    if (json_is_string(v)) {
        return strdup(json_string_value(v));
    }
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int
print_out(const struct fw_opts *o, json_t *json)
{
    static const char *const cols[] = {"slot", "valid",        "trusted",
                                       "name", "version",      "security_version",
                                       "size", "image_digest", "reason"};
    const json_t *slots;
    int widths[ARRAY_SIZE(cols)];

    if (!json) {
        return ovnicctl_error("out of memory");
    }
    if (o->json) {
        char *text = json_dumps(json, JSON_INDENT(2));

        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(json);
        return OVNICCTL_EXIT_OK;
    }
    print_kv(json);
    slots = json_object_get(json, "slots");
    if (json_array_size(slots)) {
        for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
            widths[c] = (int)strlen(cols[c]);
            for (size_t i = 0; i < json_array_size(slots); i++) {
                char *t = cell_text(json_object_get(json_array_get(slots, i), cols[c]));
                int w = t ? (int)strlen(t) : 1;

                widths[c] = w > widths[c] ? w : widths[c];
                free(t);
            }
        }
        printf("\nslots:\n");
        for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
            printf("%s%-*s", c ? "  " : "", c + 1 < ARRAY_SIZE(cols) ? widths[c] : 0,
                   cols[c]);
        }
        printf("\n");
        for (size_t i = 0; i < json_array_size(slots); i++) {
            for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
                char *t = cell_text(json_object_get(json_array_get(slots, i), cols[c]));

                printf("%s%-*s", c ? "  " : "", c + 1 < ARRAY_SIZE(cols) ? widths[c] : 0,
                       t ? t : "?");
                free(t);
            }
            printf("\n");
        }
    }
    json_decref(json);
    return OVNICCTL_EXIT_OK;
}

static json_t *
header_json(json_t *obj, const struct fw_image_header *h)
{
    char version[64], digest[FW_DIGEST_HEX_SIZE];

    json_object_set_new(obj, "name", json_string(h->name));
    json_object_set_new(
        obj, "version",
        json_string(fw_semver_format(&h->version, version, sizeof version)));
    json_object_set_new(obj, "security_version",
                        json_integer((json_int_t)h->security_version));
    json_object_set_new(obj, "image_digest",
                        json_string(fw_hex_format(h->digest, sizeof h->digest, digest)));
    return obj;
}

static json_t *
result_json(const struct fw_install_result *r)
{
    const char *outcome = r->rolled_back ? "rolled-back"
                          : r->committed ? "committed"
                          : r->rebooted  ? "trial"
                          : r->switched  ? "pending"
                                         : "refused";
    json_t *j = json_pack(
        "{s:s, s:s, s:b, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:s}", "result", outcome,
        "slot", fw_flash_slot_name(r->slot), "forced", r->forced, "min_security_version",
        r->has_min_security ? json_integer((json_int_t)r->min_security_version)
                            : json_null(),
        "switched", r->switched, "rebooted", r->rebooted, "health_checked",
        r->health_checked, "healthy", r->healthy, "committed", r->committed,
        "rolled_back", r->rolled_back, "health_reason", r->health_reason);

    if (j && r->has_image) {
        header_json(j, &r->hdr);
    }
    return j;
}

/* ---- Commands. -------------------------------------------------------------------- */

struct fw_run {
    struct fw_opts o;
    struct fw_flash *flash;
    struct fw_trust *trust;
    struct fw_install_opts io;
};

/* Opens the flash and the trust store ('need_trust': required). */
static int
run_open(struct fw_run *run, bool need_trust)
{
    struct ovnic_err err = {0};
    char text[512];

    if (need_trust && !run->o.trust_path) {
        return ovnicctl_usage_error(run->o.path, "--trust STORE is required");
    }
    if (run->o.trust_path && fw_trust_load(run->o.trust_path, &run->trust, &err)) {
        return ovnicctl_error("%s: cannot load the trust store: %s", run->o.path,
                              ovnic_err_format(&err, text, sizeof text));
    }
    if (fw_flash_nicsim_open(run->o.socket, FW_TIMEOUT_MS, &run->flash, &err)) {
        return ovnicctl_error("%s: cannot open the flash at %s: %s", run->o.path,
                              run->o.socket, ovnic_err_format(&err, text, sizeof text));
    }
    run->io.trust = run->trust;
    run->io.device = run->o.device;
    run->io.force = run->o.force;
    run->io.reboot = !run->o.no_reboot;
    if (run->o.health != FW_HEALTH_NONE) {
        run->io.health_check = health_cb;
        run->io.health_aux = &run->o;
    }
    if (run->o.progress != FW_PROGRESS_NONE) {
        run->io.progress = progress_cb;
        run->io.progress_aux = &run->o;
    }
    return -1;
}

static void
run_close(struct fw_run *run)
{
    fw_flash_close(run->flash);
    fw_trust_destroy(run->trust);
    opts_free(&run->o);
}

/* Prints the result, and the reason of a failure. */
static int
run_report(struct fw_run *run, int error, const struct ovnic_err *err,
           const struct fw_install_result *r)
{
    char text[512];

    progress_end(&run->o);
    if (r->forced) {
        fprintf(stderr,
                "ovnicctl: %s: FORCED: security version %" PRIu32
                " is below the committed minimum %" PRIu32 "\n",
                run->o.path, r->hdr.security_version, r->min_security_version);
    }
    print_out(&run->o, result_json(r));
    if (error) {
        return ovnicctl_error("%s: %s", run->o.path,
                              ovnic_err_format(err, text, sizeof text));
    }
    return OVNICCTL_EXIT_OK;
}

static int
cmd_install(int argc, char *argv[])
{
    struct fw_install_result r;
    struct ovnic_err err = {0};
    struct fw_run run = {0};
    uint8_t *data;
    size_t len;
    int rc;

    rc = parse_opts("fw install", argc, argv, &run.o, true);
    if (rc < 0 && argc - optind != 1) {
        rc = ovnicctl_usage_error("fw install", "expected one IMAGE");
    }
    if (rc < 0) {
        rc = run_open(&run, true);
    }
    if (rc >= 0) {
        run_close(&run);
        return rc;
    }
    if (fw_file_read(argv[optind], FW_IMAGE_MAX_SIZE, &data, &len, &err)) {
        char text[512];

        run_close(&run);
        return ovnicctl_error("fw install: %s",
                              ovnic_err_format(&err, text, sizeof text));
    }
    rc = fw_install(run.flash, data, len, &run.io, &r, &err);
    free(data);
    rc = run_report(&run, rc, &err, &r);
    run_close(&run);
    return rc;
}

static int
cmd_commit(int argc, char *argv[])
{
    struct fw_install_result r;
    struct ovnic_err err = {0};
    struct fw_run run = {0};
    int rc;

    rc = parse_opts("fw commit", argc, argv, &run.o, true);
    if (rc < 0 && argc != optind) {
        rc = ovnicctl_usage_error("fw commit", "unexpected argument '%s'", argv[optind]);
    }
    if (rc < 0) {
        rc = run_open(&run, false);
    }
    if (rc >= 0) {
        run_close(&run);
        return rc;
    }
    rc = fw_install_commit(run.flash, &run.io, &r, &err);
    rc = run_report(&run, rc, &err, &r);
    run_close(&run);
    return rc;
}

static int
cmd_rollback(int argc, char *argv[])
{
    struct fw_install_result r;
    struct ovnic_err err = {0};
    struct fw_run run = {0};
    int rc;

    rc = parse_opts("fw rollback", argc, argv, &run.o, true);
    if (rc < 0 && argc != optind) {
        rc =
            ovnicctl_usage_error("fw rollback", "unexpected argument '%s'", argv[optind]);
    }
    if (rc < 0) {
        rc = run_open(&run, false);
    }
    if (rc >= 0) {
        run_close(&run);
        return rc;
    }
    if (!run.trust) {
        /* Going back to the other slot's image needs the store; cancelling a trial
         * does not. */
        struct fw_flash_boot boot;

        if (!fw_flash_boot_get(run.flash, &boot, &err) && boot.pending < 0 &&
            boot.booted == boot.active) {
            run_close(&run);
            return ovnicctl_usage_error("fw rollback",
                                        "no trial to cancel: rolling back to the other "
                                        "slot's image needs --trust STORE");
        }
    }
    rc = fw_install_rollback(run.flash, &run.io, &r, &err);
    rc = run_report(&run, rc, &err, &r);
    run_close(&run);
    return rc;
}

static int
cmd_status(int argc, char *argv[])
{
    struct fw_install_status *st = malloc(sizeof *st);
    struct ovnic_err err = {0};
    struct fw_run run = {0};
    json_t *json, *slots;
    char text[512];
    int rc;

    if (!st) {
        return ovnicctl_error("out of memory");
    }
    rc = parse_opts("fw status", argc, argv, &run.o, false);
    if (rc < 0 && argc != optind) {
        rc = ovnicctl_usage_error("fw status", "unexpected argument '%s'", argv[optind]);
    }
    if (rc < 0) {
        rc = run_open(&run, false);
    }
    if (rc >= 0) {
        run_close(&run);
        free(st);
        return rc;
    }
    if (fw_install_status_get(run.flash, run.trust, st, &err)) {
        run_close(&run);
        free(st);
        return ovnicctl_error("fw status: %s", ovnic_err_format(&err, text, sizeof text));
    }
    slots = json_array();
    for (int i = 0; i < FW_FLASH_SLOTS; i++) {
        const struct fw_slot_status *s = &st->slots[i];
        json_t *j =
            json_pack("{s:s, s:b}", "slot", fw_flash_slot_name(i), "valid", s->valid);

        if (s->valid) {
            header_json(j, &s->hdr);
            json_object_set_new(j, "size", json_integer((json_int_t)s->size));
        }
        json_object_set_new(j, "trusted",
                            s->has_trust ? json_boolean(s->trusted) : json_null());
        json_object_set_new(j, "reason",
                            json_string(!s->valid                     ? s->reason
                                        : s->has_trust && !s->trusted ? s->trust_reason
                                                                      : ""));
        json_array_append_new(slots, j);
    }
    json = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:o}", "flash",
                     fw_flash_name(run.flash), "state", st->state, "active",
                     fw_flash_slot_name(st->boot.active), "pending",
                     fw_flash_slot_name(st->boot.pending), "booted",
                     fw_flash_slot_name(st->boot.booted), "tries", (int)st->boot.tries,
                     "max_tries", (int)st->boot.max_tries, "min_security_version",
                     st->has_min_security
                         ? json_integer((json_int_t)st->min_security_version)
                         : json_null(),
                     "slots", slots);
    free(st);
    rc = print_out(&run.o, json);
    run_close(&run);
    return rc;
}

static const struct ovnicctl_command fw_install_command = {
    .name = "install",
    .summary = "install an image into the inactive slot, trial-boot, commit",
    .help =
        "Usage: ovnicctl fw install IMAGE --trust STORE [--device FAMILY] [--force]\n"
        "                           [OPTIONS]\n"
        "\n"
        "Checks IMAGE (format, digests, signatures against STORE, the device family,\n"
        "anti-rollback) before writing anything, writes it to the inactive slot,\n"
        "reads it back, switches the boot selection to it on trial, reboots into it,\n"
        "runs the health check, then commits; a failed check rolls back to the\n"
        "previous slot.  If the new version never commits, the device's boot\n"
        "counter rolls back by itself.\n"
        "\n"
        "  --trust STORE          trust store (docs/fw-image.md)\n"
        "  --device FAMILY        device family (default: the NIC's)\n"
        "  --force                install below the committed security version\n"
        "                         (logged, and reported as forced)\n" HEALTH_HELP
            COMMON_HELP "\n"
        "Fields: result (committed, rolled-back, trial, pending, refused), slot,\n"
        "forced, min_security_version, switched, rebooted, health_checked, healthy,\n"
        "committed, rolled_back, health_reason, name, version, security_version,\n"
        "image_digest.  Exit status: 0 installed, 1 refused or failed, 2 usage.\n",
    .run = cmd_install,
};

static const struct ovnicctl_command fw_status_command = {
    .name = "status",
    .summary = "slots, versions, boot selection and trial state",
    .help = "Usage: ovnicctl fw status [--trust STORE] [--socket PATH] [--format "
            "table|json]\n"
            "\n"
            "Shows the boot selection (state committed, pending, trial or reverting;\n"
            "active, pending and booted slots; boot counter tries of max_tries), the\n"
            "committed minimum security version, and each slot's image: valid (every\n"
            "digest checked), trusted (with --trust), name, version, security_version,\n"
            "size, image_digest, reason.\n"
            "\n"
            "  --trust STORE          also check each slot's signatures\n" COMMON_HELP,
    .run = cmd_status,
};

static const struct ovnicctl_command fw_commit_command = {
    .name = "commit",
    .summary = "health-check the trial boot and commit it (or roll back)",
    .help = "Usage: ovnicctl fw commit [OPTIONS]\n"
            "\n"
            "On a trial boot, runs the health check and commits; a failed check rolls\n"
            "back.  A pending slot that has not booted yet is rebooted into first\n"
            "(unless --no-reboot).\n"
            "\n" HEALTH_HELP COMMON_HELP,
    .run = cmd_commit,
};

static const struct ovnicctl_command fw_rollback_command = {
    .name = "rollback",
    .summary = "cancel a trial, or go back to the other slot's image",
    .help =
        "Usage: ovnicctl fw rollback [--trust STORE] [--force] [OPTIONS]\n"
        "\n"
        "During a trial (or with a switch pending), cancels it and boots the\n"
        "committed slot.  Otherwise switches to the other slot's image, checked as\n"
        "an install (--trust STORE needed; a lower security version needs\n"
        "--force), then reboots and health-checks it as install does.\n"
        "\n"
        "  --trust STORE          trust store\n"
        "  --force                allow a lower security version (logged)\n" HEALTH_HELP
            COMMON_HELP,
    .run = cmd_rollback,
};

static const struct ovnicctl_command *const fw_subcommands[] = {
    &fw_install_command,
    &fw_status_command,
    &fw_commit_command,
    &fw_rollback_command,
    NULL,
};

const struct ovnicctl_command ovnicctl_fw_command = {
    .name = "fw",
    .summary = "install, commit and roll back DPU firmware images",
    .help = "Usage: ovnicctl fw COMMAND [ARGS...]\n"
            "\n"
            "The firmware installer on the DPU: an A/B update of the NIC's flash (in\n"
            "hw-sim, ovnic-nicsim's) with a trial boot, a health check before the\n"
            "commit, automatic rollback and anti-rollback (docs/ovnicctl.md).\n",
    .subcommands = fw_subcommands,
};
