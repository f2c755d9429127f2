/* Tests of the A/B installer against the simulated NIC's flash (tests/hw-sim/nicsim
 * flash.c, through its API): install, trial boot, health check and commit; automatic
 * rollback on a failed health check and on an exhausted boot counter; anti-rollback;
 * each bad image refused before anything is written; a read-back mismatch; and power
 * cut at every 4 KiB of an install and at every byte of its header and of its
 * boot-selection writes, after which the device must boot a valid image. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw-images/flash_class.h"
#include "fw-images/image.h"
#include "fw-images/install.h"
#include "fw-images/key.h"
#include "fw-images/recipe.h"
#include "fw-images/trust.h"
#include "fw_test.h"
#include "shared/util/log.h"
#include "tests/hw-sim/nicsim/fault.h"
#include "tests/hw-sim/nicsim/flash.h"

#define SLOT_SIZE ((size_t)2 << 20)
#define FAMILY "OVNIC-SIM-BF3"

/* ---- A fw_flash backend over nicsim's flash API, counting what changes it. -------- */

struct sim {
    struct fw_flash up;
    struct nicsim_flash *nf;
    struct nicsim_faults faults;
    char dir[64];
    unsigned int writes; /* Slot writes and boot-selection changes. */
    int64_t corrupt_at;  /* >= 0: flip the byte written at this slot offset. */
};

static struct sim *
sim_of(struct fw_flash *f)
{
    return CONTAINER_OF(f, struct sim, up);
}

static int
sim_read(struct fw_flash *f, int slot, uint64_t off, void *buf, size_t len,
         struct ovnic_err *err)
{
    return nicsim_flash_read(sim_of(f)->nf, slot, off, buf, len, err);
}

static int
sim_write(struct fw_flash *f, int slot, uint64_t off, const void *data, size_t len,
          struct ovnic_err *err)
{
    struct sim *s = sim_of(f);

    s->writes++;
    if (s->corrupt_at >= 0 && (uint64_t)s->corrupt_at >= off &&
        (uint64_t)s->corrupt_at < off + len) {
        uint8_t *copy = malloc(len);
        int rc;

        memcpy(copy, data, len);
        copy[s->corrupt_at - (int64_t)off] ^= 0x20;
        rc = nicsim_flash_write(s->nf, slot, off, copy, len, err);
        free(copy);
        return rc;
    }
    return nicsim_flash_write(s->nf, slot, off, data, len, err);
}

static int
sim_boot_get(struct fw_flash *f, struct fw_flash_boot *boot, struct ovnic_err *err)
{
    struct nicsim_flash_boot b;

    if (nicsim_flash_boot_get(sim_of(f)->nf, &b)) {
        return ovnic_err_set(err, -ENODEV, "sim", "no power", NULL);
    }
    boot->active = b.active;
    boot->pending = b.pending;
    boot->booted = b.booted;
    boot->tries = b.tries;
    boot->max_tries = NICSIM_FLASH_MAX_TRIES;
    return 0;
}

static int
sim_boot_set(struct fw_flash *f, int pending, struct ovnic_err *err)
{
    sim_of(f)->writes++;
    return nicsim_flash_boot_set(sim_of(f)->nf, pending, err);
}

static int
sim_reboot(struct fw_flash *f, struct ovnic_err *err)
{
    sim_of(f)->writes++;
    return nicsim_flash_reboot(sim_of(f)->nf, err);
}

static int
sim_confirm(struct fw_flash *f, struct ovnic_err *err)
{
    sim_of(f)->writes++;
    return nicsim_flash_confirm(sim_of(f)->nf, err);
}

static int
sim_family(struct fw_flash *f OVNIC_UNUSED, char *buf, size_t size,
           struct ovnic_err *err OVNIC_UNUSED)
{
    snprintf(buf, size, "%s", FAMILY);
    return 0;
}

static void
sim_close(struct fw_flash *f OVNIC_UNUSED)
{}

static const struct fw_flash_class sim_class = {
    .name = "sim",
    .max_io = NICSIM_FLASH_MAX_IO,
    .read = sim_read,
    .write = sim_write,
    .boot_get = sim_boot_get,
    .boot_set = sim_boot_set,
    .reboot = sim_reboot,
    .confirm = sim_confirm,
    .device_family = sim_family,
    .close = sim_close,
};

/* ---- Fixture: a flash, a key, a trust store, images v1 (security 1) and v2 (2). --- */

struct ctx {
    struct sim sim;
    struct fw_key *key, *other;
    struct fw_trust *trust;
    uint8_t *v1, *v2;
    size_t v1_len, v2_len;
    uint8_t v1_digest[FW_IMAGE_DIGEST_SIZE], v2_digest[FW_IMAGE_DIGEST_SIZE];
    bool healthy;        /* What the health check says. */
    unsigned int checks; /* Health checks run. */
};

static void
sign(struct fw_key *key, uint8_t **img, size_t *len, uint8_t digest[FW_IMAGE_DIGEST_SIZE])
{
    struct fw_image_header *hdr = malloc(sizeof *hdr);
    struct fw_signature sig;
    uint8_t *out;
    size_t outlen;

    assert_int_equal(fw_image_header_parse(*img, *len, hdr, NULL), 0);
    assert_int_equal(fw_key_sign(key, hdr->digest, &sig, NULL), 0);
    assert_int_equal(fw_image_signature_add(*img, *len, &sig, &out, &outlen, NULL), 0);
    if (digest) {
        memcpy(digest, hdr->digest, FW_IMAGE_DIGEST_SIZE);
    }
    free(*img);
    free(hdr);
    *img = out;
    *len = outlen;
}

/* Re-signs, in place, an image whose header was edited and re-sealed (and which the
 * parser may refuse): its first signature entry gets the key's signature of the new
 * header digest, so that the refusal is the edit's, not a bad signature's. */
static void
resign_raw(struct fw_key *key, uint8_t *img)
{
    uint32_t hs = t_get_be32(img + T_OFF_HEADER_SIZE);
    uint64_t end = t_get_be64(img + T_OFF_PAYLOAD_END);
    struct fw_signature sig;

    assert_int_equal(fw_key_sign(key, img + hs - FW_IMAGE_DIGEST_SIZE, &sig, NULL), 0);
    memcpy(img + end + FW_SIG_BLOCK_HEADER_SIZE + 24, sig.sig, FW_SIG_LEN);
}

/* The simulated NIC's bundle from fw-images/recipes/, at version V. */
static void
bundle(const char *version, uint32_t security, uint8_t **img, size_t *len)
{
    struct fw_recipe_overrides ov = {
        .version = version, .has_security_version = true, .security_version = security};
    const char *src = getenv("OVNIC_SOURCE_DIR");
    char path[4096];

    assert_non_null(src);
    snprintf(path, sizeof path, "%s/fw-images/recipes/nicsim-bundle.json", src);
    assert_int_equal(fw_recipe_build(path, &ov, 1700000000, img, len, NULL), 0);
}

static int
health(void *aux, struct ovnic_err *err)
{
    struct ctx *ctx = aux;

    ctx->checks++;
    return ctx->healthy ? 0
                        : ovnic_err_set(err, -EHOSTDOWN, "health", "SB not connected",
                                        "sb_state CONNECTING");
}

static struct fw_install_opts
opts(struct ctx *ctx)
{
    struct fw_install_opts o = {
        .trust = ctx->trust,
        .reboot = true,
        .health_check = health,
        .health_aux = ctx,
    };
    return o;
}

static void
sim_open(struct ctx *ctx)
{
    ctx->sim.up.class = &sim_class;
    snprintf(ctx->sim.up.name, sizeof ctx->sim.up.name, "sim:%s", ctx->sim.dir);
    ctx->sim.up.slot_size = SLOT_SIZE;
    ctx->sim.corrupt_at = -1;
    nicsim_faults_init(&ctx->sim.faults);
    assert_int_equal(
        nicsim_flash_open(ctx->sim.dir, SLOT_SIZE, &ctx->sim.faults, &ctx->sim.nf, NULL),
        0);
}

static int
setup(void **state)
{
    struct ctx *ctx = calloc(1, sizeof *ctx);

    ovnic_log_set_level(NULL, OVNIC_LOG_ERR);
    snprintf(ctx->sim.dir, sizeof ctx->sim.dir, "/tmp/fw-install-XXXXXX");
    assert_non_null(mkdtemp(ctx->sim.dir));
    sim_open(ctx);
    assert_int_equal(fw_key_generate(FW_SIG_ALG_ED25519, &ctx->key, NULL), 0);
    assert_int_equal(fw_key_generate(FW_SIG_ALG_ECDSA_P256, &ctx->other, NULL), 0);
    assert_int_equal(fw_trust_create(1, &ctx->trust, NULL), 0);
    assert_int_equal(fw_trust_key_add(ctx->trust, ctx->key, "release", NULL), 0);
    bundle("1.0.0", 1, &ctx->v1, &ctx->v1_len);
    bundle("2.0.0", 2, &ctx->v2, &ctx->v2_len);
    sign(ctx->key, &ctx->v1, &ctx->v1_len, ctx->v1_digest);
    sign(ctx->key, &ctx->v2, &ctx->v2_len, ctx->v2_digest);
    ctx->healthy = true;
    *state = ctx;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *ctx = *state;
    char cmd[128];

    nicsim_flash_close(ctx->sim.nf);
    fw_key_destroy(ctx->key);
    fw_key_destroy(ctx->other);
    fw_trust_destroy(ctx->trust);
    free(ctx->v1);
    free(ctx->v2);
    snprintf(cmd, sizeof cmd, "rm -rf %s", ctx->sim.dir);
    assert_int_equal(system(cmd), 0);
    free(ctx);
    return 0;
}

static struct fw_install_status *
status(struct ctx *ctx)
{
    struct fw_install_status *st = malloc(sizeof *st);

    assert_int_equal(fw_install_status_get(&ctx->sim.up, ctx->trust, st, NULL), 0);
    return st;
}

/* The slot that boots now holds a valid, trusted image: which one? */
static int
booted_version(struct ctx *ctx)
{
    struct fw_slot_status *s = malloc(sizeof *s);
    struct nicsim_flash_boot b;
    int v = 0;

    assert_int_equal(nicsim_flash_boot_get(ctx->sim.nf, &b), 0);
    assert_int_equal(fw_install_slot_status(&ctx->sim.up, b.booted, ctx->trust, s, NULL),
                     0);
    if (!s->valid || !s->trusted) {
        print_error("slot %d boots, and holds no valid trusted image: %s%s\n", b.booted,
                    s->reason, s->trust_reason);
        fail();
    }
    if (!memcmp(s->hdr.digest, ctx->v1_digest, FW_IMAGE_DIGEST_SIZE)) {
        v = 1;
    } else if (!memcmp(s->hdr.digest, ctx->v2_digest, FW_IMAGE_DIGEST_SIZE)) {
        v = 2;
    }
    free(s);
    return v;
}

/* The state of the boot selection, as fw_install_status_get() names it. */
static const char *
boot_state(struct ctx *ctx)
{
    struct nicsim_flash_boot b;

    assert_int_equal(nicsim_flash_boot_get(ctx->sim.nf, &b), 0);
    if (b.pending >= 0) {
        return b.booted == b.pending ? "trial" : "pending";
    }
    return b.booted == b.active ? "committed" : "reverting";
}

static void
install_ok(struct ctx *ctx, const uint8_t *img, size_t len)
{
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct ovnic_err err = {0};
    char buf[512];

    if (fw_install(&ctx->sim.up, img, len, &o, &r, &err)) {
        print_error("install: %s\n", ovnic_err_format(&err, buf, sizeof buf));
        fail();
    }
    assert_true(r.switched && r.rebooted && r.health_checked && r.committed);
}

/* ---- Tests. ---------------------------------------------------------------------- */

struct phases {
    char seen[512];
    uint64_t last_write, total;
};

static void
record_progress(void *aux, const struct fw_install_progress *p)
{
    struct phases *ph = aux;
    size_t n = strlen(ph->seen);

    if (!n || strcmp(strrchr(ph->seen, ' ') ? strrchr(ph->seen, ' ') + 1 : ph->seen,
                     p->phase)) {
        snprintf(ph->seen + n, sizeof ph->seen - n, "%s%s", n ? " " : "", p->phase);
    }
    if (!strcmp(p->phase, "write")) {
        assert_true(p->done >= ph->last_write);
        ph->last_write = p->done;
        ph->total = p->total;
    }
}

static void
test_install_and_commit(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct fw_install_status *st;
    struct phases ph = {0};

    /* A fresh flash: slot a empty, active.  v1 goes to b. */
    st = status(ctx);
    assert_string_equal(st->state, "committed");
    assert_false(st->slots[0].valid);
    assert_false(st->has_min_security);
    free(st);

    o.progress = record_progress;
    o.progress_aux = &ph;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v1, ctx->v1_len, &o, &r, NULL), 0);
    assert_int_equal(r.slot, 1);
    assert_true(r.committed && r.healthy);
    assert_false(r.forced || r.rolled_back);
    assert_string_equal(ph.seen,
                        "verify write read-back switch reboot health-check commit");
    assert_int_equal(ph.last_write, ctx->v1_len);
    assert_int_equal(ph.total, ctx->v1_len);

    st = status(ctx);
    assert_string_equal(st->state, "committed");
    assert_int_equal(st->boot.active, 1);
    assert_int_equal(st->boot.booted, 1);
    assert_true(st->slots[1].valid && st->slots[1].trusted);
    assert_int_equal(st->slots[1].size, ctx->v1_len);
    assert_true(st->has_min_security);
    assert_int_equal(st->min_security_version, 1);
    free(st);

    /* v2 goes to a, the inactive slot; b is never written. */
    install_ok(ctx, ctx->v2, ctx->v2_len);
    st = status(ctx);
    assert_int_equal(st->boot.active, 0);
    assert_int_equal(booted_version(ctx), 2);
    assert_int_equal(st->min_security_version, 2);
    assert_memory_equal(st->slots[1].hdr.digest, ctx->v1_digest, FW_IMAGE_DIGEST_SIZE);
    free(st);
    assert_int_equal(ctx->checks, 2);

    /* Nothing to commit now. */
    assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), -EALREADY);
}

static void
test_health_failure_rolls_back(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct fw_install_status *st;
    struct ovnic_err err = {0};

    install_ok(ctx, ctx->v1, ctx->v1_len);
    ctx->healthy = false;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, &err),
                     -ECANCELED);
    assert_string_equal(err.message, "health check failed, rolled back");
    assert_non_null(strstr(r.health_reason, "SB not connected"));
    assert_true(r.switched && r.rebooted && r.health_checked && r.rolled_back);
    assert_false(r.committed || r.healthy);
    st = status(ctx);
    assert_string_equal(st->state, "committed");
    assert_int_equal(st->boot.active, 1);
    assert_int_equal(st->boot.booted, 1);
    assert_int_equal(st->boot.pending, -1);
    free(st);
    assert_int_equal(booted_version(ctx), 1);

    /* The same through a later commit: install without a health check, the trial
     * boots, then the commit's check fails. */
    o.health_check = NULL;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, NULL), 0);
    assert_true(r.rebooted && !r.committed);
    st = status(ctx);
    assert_string_equal(st->state, "trial");
    free(st);
    /* A second install waits for this one. */
    ovnic_err_clear(&err);
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, &err),
                     -EBUSY);
    assert_string_equal(err.message, "an update is in progress");
    o.health_check = health;
    assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), -ECANCELED);
    assert_true(r.rolled_back);
    assert_int_equal(booted_version(ctx), 1);

    /* Healthy again: the commit takes. */
    ctx->healthy = true;
    o.health_check = NULL;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, NULL), 0);
    o.health_check = health;
    assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), 0);
    assert_true(r.committed);
    assert_int_equal(booted_version(ctx), 2);
}

static void
test_boot_counter_exhausted(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct fw_install_status *st;

    install_ok(ctx, ctx->v1, ctx->v1_len);
    /* The new version boots, then never gets to commit (it crashes and the device
     * reboots): after NICSIM_FLASH_MAX_TRIES boots the device is back on v1. */
    o.health_check = NULL;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, NULL), 0);
    for (unsigned int boot = 1; boot < NICSIM_FLASH_MAX_TRIES; boot++) {
        st = status(ctx);
        assert_string_equal(st->state, "trial");
        assert_int_equal(st->boot.tries, boot);
        free(st);
        assert_int_equal(booted_version(ctx), 2);
        assert_int_equal(nicsim_flash_reboot(ctx->sim.nf, NULL), 0);
    }
    assert_int_equal(nicsim_flash_reboot(ctx->sim.nf, NULL), 0);
    st = status(ctx);
    assert_string_equal(st->state, "committed");
    assert_int_equal(st->boot.pending, -1);
    assert_int_equal(st->boot.active, 1);
    free(st);
    assert_int_equal(booted_version(ctx), 1);
    assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), -EALREADY);
}

static void
test_anti_rollback(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct ovnic_err err = {0};

    install_ok(ctx, ctx->v2, ctx->v2_len);
    ctx->sim.writes = 0;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v1, ctx->v1_len, &o, &r, &err),
                     -EPERM);
    assert_string_equal(err.message, "downgrade below the security version");
    assert_non_null(strstr(err.detail, "image security version 1, minimum 2"));
    assert_int_equal(ctx->sim.writes, 0);
    assert_int_equal(r.min_security_version, 2);

    /* A rollback to the other slot is an install too: refused without force. */
    install_ok(ctx, ctx->v2, ctx->v2_len); /* Both slots v2 now... */
    o.force = false;
    assert_int_equal(fw_install_rollback(&ctx->sim.up, &o, &r, NULL), 0);
    assert_true(r.committed);

    /* Forced, and reported so. */
    o.force = true;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v1, ctx->v1_len, &o, &r, NULL), 0);
    assert_true(r.forced && r.committed);
    assert_int_equal(booted_version(ctx), 1);

    /* Now the other slot holds v2: rolling back to it is an upgrade, allowed; back
     * again to v1 is a downgrade, refused. */
    o.force = false;
    assert_int_equal(fw_install_rollback(&ctx->sim.up, &o, &r, NULL), 0);
    assert_int_equal(booted_version(ctx), 2);
    ovnic_err_clear(&err);
    assert_int_equal(fw_install_rollback(&ctx->sim.up, &o, &r, &err), -EPERM);
    assert_int_equal(booted_version(ctx), 2);
}

static void
test_rollback_of_a_trial(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct fw_install_status *st;

    install_ok(ctx, ctx->v1, ctx->v1_len);
    o.health_check = NULL;
    o.reboot = false;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, NULL), 0);
    assert_true(r.switched && !r.rebooted);
    st = status(ctx);
    assert_string_equal(st->state, "pending");
    free(st);
    /* Commit before the reboot is refused... */
    assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), -EAGAIN);
    /* ...and the rollback cancels the pending switch. */
    assert_int_equal(fw_install_rollback(&ctx->sim.up, &o, &r, NULL), 0);
    assert_true(r.rolled_back);
    st = status(ctx);
    assert_string_equal(st->state, "committed");
    assert_int_equal(st->boot.active, 1);
    free(st);

    /* During a trial boot: back to the committed slot. */
    o.reboot = true;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, NULL), 0);
    assert_int_equal(booted_version(ctx), 2);
    assert_int_equal(fw_install_rollback(&ctx->sim.up, &o, &r, NULL), 0);
    assert_true(r.rolled_back && r.rebooted);
    assert_int_equal(booted_version(ctx), 1);
    st = status(ctx);
    assert_string_equal(st->state, "committed");
    free(st);
}

/* Every bad image is refused with its reason, and nothing is written. */
static void
test_bad_images_refused_before_writing(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;

    install_ok(ctx, ctx->v2, ctx->v2_len);

    struct bad {
        const char *what;
        uint8_t *img;
        size_t len;
        int code;
        const char *message;
    } cases[12];
    size_t n = 0;
    uint8_t *img;
    size_t len;

#define DUP(SRC, LEN) (img = malloc(LEN), memcpy(img, SRC, LEN), len = (LEN))
#define ADD(WHAT, CODE, MSG) (cases[n++] = (struct bad){WHAT, img, len, CODE, MSG})

    DUP(ctx->v2, ctx->v2_len - 1000);
    ADD("truncated", -EBADMSG, "truncated image");
    DUP(ctx->v2, ctx->v2_len);
    img[3] ^= 0x10;
    ADD("header byte flipped", -EBADMSG, "not an ovnic firmware image");
    DUP(ctx->v2, ctx->v2_len);
    img[200] ^= 0x10;
    ADD("corrupted header", -EBADMSG, "corrupted header");
    DUP(ctx->v2, ctx->v2_len);
    img[len - 3] ^= 0x10;
    ADD("wrongly signed", -EKEYREJECTED, "not enough trusted signatures");
    bundle("3.0.0", 3, &img, &len);
    sign(ctx->other, &img, &len, NULL);
    ADD("untrusted key", -EKEYREJECTED, "not enough trusted signatures");
    bundle("3.0.0", 3, &img, &len);
    sign(ctx->key, &img, &len, NULL);
    ADD("revoked key", -EKEYREJECTED, "not enough trusted signatures");
    struct bad *revoked = &cases[n - 1];
    {
        static const uint8_t data[64];
        struct fw_image_spec spec = {
            .type = FW_IMAGE_TYPE_NIC_FIRMWARE,
            .version = {3, 0, 0, ""},
            .security_version = 3,
            .name = "bf2-only",
            .n_families = 1,
            .families = {"OVNIC-SIM-BF2"},
            .n_sections = 1,
        };
        spec.sections[0] = (struct fw_image_spec_section){"nic-firmware", data, 64};
        assert_int_equal(fw_image_build(&spec, &img, &len, NULL), 0);
        sign(ctx->key, &img, &len, NULL);
        ADD("incompatible device", -ENODEV, "image not compatible with the device");
    }
    DUP(ctx->v2, ctx->v2_len);
    t_put_be64(t_section_entry(img, 2, 1) + T_SEC_SIZE, FW_IMAGE_MAX_SECTION_SIZE + 1);
    t_reseal(img);
    resign_raw(ctx->key, img);
    ADD("oversized section", -EFBIG, "oversized section");
    DUP(ctx->v2, ctx->v2_len);
    uint8_t *e = t_section_entry(img, 2, 1);
    t_put_be64(e + T_SEC_OFFSET, t_get_be64(e + T_SEC_OFFSET) - 16);
    t_reseal(img);
    resign_raw(ctx->key, img);
    ADD("overlapping sections", -EBADMSG, "overlapping sections");
    DUP(ctx->v2, ctx->v2_len);
    e = t_section_entry(img, 2, 3);
    t_put_be64(e + T_SEC_OFFSET, (uint64_t)1 << 33);
    t_reseal(img);
    resign_raw(ctx->key, img);
    ADD("section outside the file", -EBADMSG, "section points outside the file");
    bundle("0.9.0", 1, &img, &len);
    sign(ctx->key, &img, &len, NULL);
    ADD("downgrade", -EPERM, "downgrade below the security version");

    assert_int_equal(fw_trust_revoke(ctx->trust, fw_key_id(ctx->key), "test", NULL), 0);
    for (size_t i = 0; i < n; i++) {
        struct fw_install_status *before = status(ctx), *after;
        struct ovnic_err err = {0};
        int rc;

        /* Only the "revoked key" case runs with the key revoked. */
        if (&cases[i] != revoked) {
            struct fw_trust *t;

            assert_int_equal(fw_trust_create(1, &t, NULL), 0);
            assert_int_equal(fw_trust_key_add(t, ctx->key, "release", NULL), 0);
            o.trust = t;
            rc = fw_install(&ctx->sim.up, cases[i].img, cases[i].len, &o, &r, &err);
            fw_trust_destroy(t);
        } else {
            o.trust = ctx->trust;
            rc = fw_install(&ctx->sim.up, cases[i].img, cases[i].len, &o, &r, &err);
        }
        if (rc != cases[i].code || !err.message ||
            strcmp(err.message, cases[i].message)) {
            char buf[512];

            print_error("%s: expected %d '%s', got %d: %s\n", cases[i].what,
                        cases[i].code, cases[i].message, rc,
                        ovnic_err_format(&err, buf, sizeof buf));
            fail();
        }
        after = status(ctx);
        assert_memory_equal(&before->boot, &after->boot, sizeof before->boot);
        assert_memory_equal(before->slots[0].hdr.digest, after->slots[0].hdr.digest,
                            FW_IMAGE_DIGEST_SIZE);
        assert_memory_equal(before->slots[1].hdr.digest, after->slots[1].hdr.digest,
                            FW_IMAGE_DIGEST_SIZE);
        assert_false(r.switched);
        free(before);
        free(after);
        free(cases[i].img);
    }
    o.trust = ctx->trust;
}

static void
test_readback_mismatch(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    struct ovnic_err err = {0};

    install_ok(ctx, ctx->v1, ctx->v1_len);
    ctx->sim.corrupt_at = 300000;
    assert_int_equal(fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, &err), -EIO);
    assert_string_equal(err.message, "read-back differs from the image");
    assert_non_null(strstr(err.detail, "offset 300000"));
    assert_false(r.switched);
    ctx->sim.corrupt_at = -1;
    assert_int_equal(booted_version(ctx), 1);
}

/* Puts the device back to "v1 committed in slot b, nothing pending". */
static void
reset_to_v1(struct ctx *ctx)
{
    struct nicsim_flash_boot b;
    static const uint8_t erased[4096] = {[0 ... 4095] = 0xff};

    nicsim_faults_init(&ctx->sim.faults);
    assert_int_equal(nicsim_flash_boot_get(ctx->sim.nf, &b), 0);
    if (b.active != 1 || b.pending != -1 || b.booted != 1) {
        assert_int_equal(nicsim_flash_boot_set(ctx->sim.nf, 1, NULL), 0);
        assert_int_equal(nicsim_flash_reboot(ctx->sim.nf, NULL), 0);
        assert_int_equal(nicsim_flash_confirm(ctx->sim.nf, NULL), 0);
    }
    /* Slot a's old header is wiped, so that what the cut leaves there is only what
     * this install wrote. */
    assert_int_equal(nicsim_flash_write(ctx->sim.nf, 0, 0, erased, sizeof erased, NULL),
                     0);
}

static void
test_power_loss_at_every_cut(void **state)
{
    struct ctx *ctx = *state;
    struct fw_install_opts o = opts(ctx);
    struct fw_install_result r;
    uint32_t hs = t_get_be32(ctx->v2 + T_OFF_HEADER_SIZE);
    uint64_t body = ctx->v2_len - hs, total, switch_at;
    unsigned int tried = 0, in_body = 0, in_header = 0, in_boot = 0;
    unsigned int old_boots = 0, new_boots = 0, commits = 0;
    struct timespec t0, t1;
    json_t *desc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* slot a empty and active: v1 to b. */
    install_ok(ctx, ctx->v1, ctx->v1_len);

    /* A full install without a cut counts every byte the flash stores: the body, the
     * header, then the boot selection three times (switch, reboot, commit). */
    reset_to_v1(ctx);
    desc =
        json_pack("{s:s, s:I}", "kind", "flash-powerloss", "byte", (json_int_t)1 << 40);
    assert_int_equal(nicsim_faults_set_json(&ctx->sim.faults, desc, NULL), 0);
    json_decref(desc);
    install_ok(ctx, ctx->v2, ctx->v2_len);
    total = ctx->sim.faults.flash_bytes;
    assert_true(total > ctx->v2_len + 3 * 30);
    assert_true(total < ctx->v2_len + 3 * 60);
    /* The switch is stored once the image and the whole boot selection naming slot a
     * as pending are. */
    switch_at = ctx->v2_len + strlen("active=b\npending=a\ntries=0\nbooted=b\n");

    for (uint64_t cut = 0; cut < total;) {
        struct ovnic_err err = {0};
        int rc, v;

        reset_to_v1(ctx);
        desc =
            json_pack("{s:s, s:I}", "kind", "flash-powerloss", "byte", (json_int_t)cut);
        assert_int_equal(nicsim_faults_set_json(&ctx->sim.faults, desc, NULL), 0);
        json_decref(desc);

        rc = fw_install(&ctx->sim.up, ctx->v2, ctx->v2_len, &o, &r, &err);
        assert_int_not_equal(rc, 0); /* The cut lies inside the install. */
        assert_false(nicsim_flash_is_powered(ctx->sim.nf));
        assert_int_equal(r.switched, cut >= switch_at);

        /* "Reboot": the power comes back and the device boots. */
        assert_int_equal(nicsim_flash_power_cycle(ctx->sim.nf, NULL), 0);
        v = booted_version(ctx); /* Fails unless a valid, trusted image boots. */
        if (cut < switch_at) {
            /* The switch was never stored: the old image, committed. */
            assert_int_equal(v, 1);
            assert_string_equal(boot_state(ctx), "committed");
            old_boots++;
        } else {
            /* Written, read back and switched to: the new image boots on trial (a cut
             * inside the commit's own bytes leaves the boot selection as it was). */
            assert_int_equal(v, 2);
            assert_string_equal(boot_state(ctx), "trial");
            new_boots++;
            /* The new version comes up, is healthy, and commits. */
            assert_int_equal(fw_install_commit(&ctx->sim.up, &o, &r, NULL), 0);
            assert_true(r.committed);
            assert_string_equal(boot_state(ctx), "committed");
            assert_int_equal(booted_version(ctx), 2);
            commits++;
        }
        tried++;
        if (cut < body) {
            in_body++;
        } else if (cut < ctx->v2_len) {
            in_header++;
        } else {
            in_boot++;
        }
        /* Every 4 KiB of the body, then every byte of the header and of the boot
         * selection. */
        if (cut + 4096 < body) {
            cut += 4096;
        } else if (cut < body) {
            cut = body;
        } else {
            cut++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("power-loss test: %u cut points tried (%u in the body, every 4 KiB; %u in "
           "the header, every byte; %u in the boot selection, every byte) of an install "
           "storing %llu bytes; the old image booted %u times, the new one %u times "
           "(then committed %u times); never nothing; %.1f s\n",
           tried, in_body, in_header, in_boot, (unsigned long long)total, old_boots,
           new_boots, commits,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(in_header, hs);
    assert_int_equal(in_boot, total - ctx->v2_len);
    assert_true(in_body >= body / 4096);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_install_and_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_counter_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anti_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_of_a_trial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_images_refused_before_writing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_readback_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_at_every_cut, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
