/* ovnic-fw: builds, signs, verifies and inspects ovnic firmware images
 * (docs/ovnic-fw.md, docs/fw-image.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fw-images/file.h"
#include "fw-images/image.h"
#include "fw-images/image_json.h"
#include "fw-images/key.h"
#include "fw-images/recipe.h"
#include "fw-images/sigreq.h"
#include "fw-images/trust.h"
#include "output.h"
#include "shared/util/json.h"
#include "shared/util/log.h"

#define OVNIC_FW_VERSION "0.1.0"

#define EXIT_OK 0
#define EXIT_FAIL 1  /* The command ran and failed, or refused an image. */
#define EXIT_USAGE 2 /* Bad command line. */

struct command {
    const char *name;
    const char *summary;
    const char *help;
    int (*run)(int argc, char *argv[]);
};

static const char *cmd_name = "ovnic-fw";

static int OVNIC_PRINTF(1, 2) usage_error(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, "ovnic-fw: %s: ", cmd_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry 'ovnic-fw %s --help' for more information.\n", cmd_name);
    return EXIT_USAGE;
}

static int OVNIC_PRINTF(1, 2) fail(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, "ovnic-fw: %s: ", cmd_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

static int
fail_err(const char *what, const struct ovnic_err *err)
{
    char text[512];

    return fail("%s: %s", what, ovnic_err_format(err, text, sizeof text));
}

static int
bad_option(char *argv[])
{
    return usage_error("unknown option, or option without its argument: '%s'",
                       argv[optind - 1]);
}

static int
parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || v > UINT32_MAX || s[0] == '-') {
        return -EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-') {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
print_result(json_t *result, enum fw_output_format format)
{
    if (!result) {
        return fail("out of memory");
    }
    fw_output_print(stdout, result, format);
    json_decref(result);
    return EXIT_OK;
}

/* Reads a JSON file. */
static int
read_json(const char *path, json_t **jsonp, struct ovnic_err *err)
{
    uint8_t *data;
    size_t len;
    int error;

    error = fw_file_read(path, FW_SIGREQ_MAX_FILE_SIZE, &data, &len, err);
    if (!error) {
        error = json_from_buffer((const char *)data, len, jsonp, err);
        free(data);
    }
    return error;
}

static int
write_json(const char *path, const json_t *json, struct ovnic_err *err)
{
    char *text = json_dumps(json, JSON_INDENT(2));
    char *line;
    int error;

    if (!text || asprintf(&line, "%s\n", text) < 0) {
        free(text);
        return ovnic_err_set(err, -ENOMEM, "ovnic-fw", "out of memory", NULL);
    }
    free(text);
    error = fw_file_write(path, line, strlen(line), 0644, err);
    free(line);
    return error;
}

static int
read_image(const char *path, uint8_t **datap, size_t *lenp, struct ovnic_err *err)
{
    return fw_file_read(path, FW_IMAGE_MAX_SIZE, datap, lenp, err);
}

/* Common option handling: --format and --help, plus the command's own. */
#define OPT_FORMAT 1000

static bool
want_help(int argc, char *argv[], const struct command *cmd)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(cmd->help, stdout);
            return true;
        }
    }
    return false;
}

static int
format_opt(const char *arg, enum fw_output_format *format)
{
    if (fw_output_format_parse(arg, format)) {
        return usage_error("unknown format '%s' (use table or json)", arg);
    }
    return 0;
}

/* ---- keygen ------------------------------------------------------------------------ */

static const char keygen_help[] =
    "Usage: ovnic-fw keygen --type ed25519|ecdsa-p256 --out KEY [--public PUB]\n"
    "                       [--format table|json]\n"
    "\n"
    "Creates a signing key pair: the private key in KEY (PEM, mode 0600) and the\n"
    "public key in PUB (default KEY.pub), and prints the key id.\n"
    "\n"
    "  -t, --type TYPE      ed25519 or ecdsa-p256\n"
    "  -o, --out KEY        private key file\n"
    "  -p, --public PUB     public key file (default: KEY.pub)\n"
    "  --format FORMAT      table (default) or json; fields: key_id, algorithm,\n"
    "                       private_key, public_key\n";

static int
cmd_keygen(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"public", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    const char *type = NULL, *out = NULL, *pub = NULL;
    struct ovnic_err err = {0};
    struct fw_key *key = NULL;
    char *pub_default = NULL;
    uint16_t alg;
    int c, rc;

    while ((c = getopt_long(argc, argv, "t:o:p:", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            type = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            pub = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (!type || !out) {
        return usage_error("--type and --out are required");
    }
    if (fw_sig_alg_parse(type, &alg)) {
        return usage_error("unknown key type '%s' (ed25519 or ecdsa-p256)", type);
    }
    if (!pub) {
        if (asprintf(&pub_default, "%s.pub", out) < 0) {
            return fail("out of memory");
        }
        pub = pub_default;
    }
    if (fw_key_generate(alg, &key, &err) || fw_key_save_private(key, out, &err) ||
        fw_key_save_public(key, pub, &err)) {
        fw_key_destroy(key);
        free(pub_default);
        return fail_err("cannot create the key", &err);
    }
    rc = print_result(json_pack("{s:s, s:s, s:s, s:s}", "key_id", fw_key_id_hex(key),
                                "algorithm", type, "private_key", out, "public_key", pub),
                      format);
    fw_key_destroy(key);
    free(pub_default);
    return rc;
}

/* ---- build ------------------------------------------------------------------------- */

static const char build_help[] =
    "Usage: ovnic-fw build RECIPE --out IMAGE [--version V] [--security-version N]\n"
    "                      [--build-time SECONDS] [--format table|json]\n"
    "\n"
    "Builds an unsigned image from RECIPE, a JSON manifest (docs/fw-image.md;\n"
    "examples in fw-images/recipes/).  Section files are read relative to the\n"
    "recipe's directory.  The build time is the recipe's, else $SOURCE_DATE_EPOCH,\n"
    "else now.  Prints the image as 'inspect' does.\n"
    "\n"
    "  -o, --out IMAGE            the image file to write\n"
    "  --version V                replaces the recipe's version (MAJOR.MINOR.PATCH[-L])\n"
    "  --security-version N       replaces the recipe's security version\n"
    "  --build-time SECONDS       replaces the build time (Unix seconds)\n"
    "  --format FORMAT            table (default) or json\n";

#define OPT_VERSION 1001
#define OPT_SECURITY 1002
#define OPT_BUILD_TIME 1003

static uint64_t
default_build_time(void)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    uint64_t t;

    if (epoch && !parse_u64(epoch, &t)) {
        return t;
    }
    return (uint64_t)time(NULL);
}

static int
print_image(const uint8_t *data, size_t len, const char *path,
            enum fw_output_format format)
{
    struct fw_image *image = malloc(sizeof *image);
    struct ovnic_err err = {0};
    json_t *json;

    if (!image) {
        return fail("out of memory");
    }
    if (fw_image_parse(data, len, image, &err)) {
        free(image);
        return fail_err(path, &err);
    }
    json = fw_image_to_json(image);
    free(image);
    if (json) {
        json_object_set_new(json, "file", json_string(path));
    }
    return print_result(json, format);
}

static int
cmd_build(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"version", required_argument, NULL, OPT_VERSION},
        {"security-version", required_argument, NULL, OPT_SECURITY},
        {"build-time", required_argument, NULL, OPT_BUILD_TIME},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    struct fw_recipe_overrides ov = {0};
    struct ovnic_err err = {0};
    const char *out = NULL;
    struct fw_semver v;
    uint8_t *data;
    size_t len;
    int c, rc;

    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_VERSION:
            if (fw_semver_parse(optarg, &v)) {
                return usage_error("bad version '%s' (MAJOR.MINOR.PATCH[-LABEL])",
                                   optarg);
            }
            ov.version = optarg;
            break;
        case OPT_SECURITY:
            if (parse_u32(optarg, &ov.security_version)) {
                return usage_error("bad security version '%s'", optarg);
            }
            ov.has_security_version = true;
            break;
        case OPT_BUILD_TIME:
            if (parse_u64(optarg, &ov.build_time)) {
                return usage_error("bad build time '%s' (Unix seconds)", optarg);
            }
            ov.has_build_time = true;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one RECIPE");
    }
    if (!out) {
        return usage_error("--out is required");
    }
    if (fw_recipe_build(argv[optind], &ov, default_build_time(), &data, &len, &err)) {
        return fail_err(argv[optind], &err);
    }
    if (fw_file_write(out, data, len, 0644, &err)) {
        free(data);
        return fail_err("cannot write the image", &err);
    }
    rc = print_image(data, len, out, format);
    free(data);
    return rc;
}

/* ---- sign -------------------------------------------------------------------------- */

static const char sign_help[] =
    "Usage: ovnic-fw sign --key KEY IMAGE [--out OUT] [--format table|json]\n"
    "\n"
    "Signs IMAGE with the private key KEY (a local key; see sign-request for a key\n"
    "held elsewhere).  A signature by the same key is replaced, others are kept, so\n"
    "that several signers (k of n) sign in turn.  Writes OUT, or replaces IMAGE.\n"
    "\n"
    "  -k, --key KEY        private key (PEM) from 'ovnic-fw keygen'\n"
    "  -o, --out OUT        signed image (default: IMAGE itself, replaced atomically)\n"
    "  --format FORMAT      table (default) or json; fields: file, key_id,\n"
    "                       algorithm, image_digest, signatures\n";

static int
cmd_sign(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    const char *keypath = NULL, *out = NULL, *path;
    struct ovnic_err err = {0};
    struct fw_image_header *hdr = NULL;
    uint8_t *data = NULL, *signed_data = NULL;
    char digest[FW_DIGEST_HEX_SIZE];
    struct fw_key *key = NULL;
    struct fw_signature sig;
    size_t len, signed_len;
    int c, rc;

    while ((c = getopt_long(argc, argv, "k:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keypath = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one IMAGE");
    }
    if (!keypath) {
        return usage_error("--key is required");
    }
    path = argv[optind];
    out = out ? out : path;
    hdr = malloc(sizeof *hdr);
    if (!hdr) {
        return fail("out of memory");
    }
    rc = EXIT_FAIL;
    if (fw_key_load_private(keypath, &key, &err)) {
        fail_err(keypath, &err);
        goto out;
    }
    if (read_image(path, &data, &len, &err) ||
        fw_image_header_parse(data, len, hdr, &err) ||
        fw_key_sign(key, hdr->digest, &sig, &err) ||
        fw_image_signature_add(data, len, &sig, &signed_data, &signed_len, &err)) {
        fail_err(path, &err);
        goto out;
    }
    if (fw_file_write(out, signed_data, signed_len, 0644, &err)) {
        fail_err("cannot write the image", &err);
        goto out;
    }
    {
        struct fw_image *image = malloc(sizeof *image);

        if (!image || fw_image_parse(signed_data, signed_len, image, &err)) {
            free(image);
            fail_err(out, &err);
            goto out;
        }
        rc =
            print_result(json_pack("{s:s, s:s, s:s, s:s, s:i}", "file", out, "key_id",
                                   fw_key_id_hex(key), "algorithm",
                                   fw_sig_alg_name(fw_key_alg(key)), "image_digest",
                                   fw_hex_format(hdr->digest, sizeof hdr->digest, digest),
                                   "signatures", (int)image->n_signatures),
                         format);
        free(image);
    }

out:
    fw_key_destroy(key);
    free(data);
    free(signed_data);
    free(hdr);
    return rc;
}

/* ---- sign-request / sign-response / attach-signature ------------------------------- */

static const char sign_request_help[] =
    "Usage: ovnic-fw sign-request IMAGE --out REQUEST [--format table|json]\n"
    "\n"
    "Writes REQUEST, the file to carry to the machine that holds a signing key: the\n"
    "image's header (which holds every section's SHA-256), its digest, and its\n"
    "metadata.  There, 'ovnic-fw sign-response' signs it; back here,\n"
    "'ovnic-fw attach-signature' adds the signature to IMAGE.  The key never comes\n"
    "to this machine, and the payload never has to leave it.\n"
    "\n"
    "  -o, --out REQUEST    the request file (JSON)\n"
    "  --format FORMAT      table (default) or json: what the request holds\n";

static int
cmd_sign_request(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    struct ovnic_err err = {0};
    const char *out = NULL;
    json_t *req, *shown;
    uint8_t *data;
    size_t len;
    int c, rc;

    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one IMAGE");
    }
    if (!out) {
        return usage_error("--out is required");
    }
    if (read_image(argv[optind], &data, &len, &err)) {
        return fail_err(argv[optind], &err);
    }
    rc = fw_sign_request_create(data, len, &req, &err);
    free(data);
    if (rc) {
        return fail_err(argv[optind], &err);
    }
    if (write_json(out, req, &err)) {
        json_decref(req);
        return fail_err("cannot write the request", &err);
    }
    shown = json_deep_copy(req);
    json_decref(req);
    if (shown) {
        json_object_del(shown, "header");
        json_object_set_new(shown, "request", json_string(out));
    }
    return print_result(shown, format);
}

static const char sign_response_help[] =
    "Usage: ovnic-fw sign-response --key KEY REQUEST --out RESPONSE\n"
    "                              [--format table|json]\n"
    "\n"
    "Run on the machine that holds KEY.  Parses the header carried by REQUEST with\n"
    "the same checks as a device, refuses a request whose metadata is not its\n"
    "header's, signs the header digest, and writes RESPONSE for\n"
    "'ovnic-fw attach-signature'.  Prints what it signed.\n"
    "\n"
    "  -k, --key KEY        private key (PEM)\n"
    "  -o, --out RESPONSE   the response file (JSON)\n"
    "  --format FORMAT      table (default) or json: the signed image's metadata,\n"
    "                       key_id and algorithm\n";

static int
cmd_sign_response(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    const char *keypath = NULL, *out = NULL;
    struct fw_image_header *hdr;
    struct ovnic_err err = {0};
    json_t *req = NULL, *resp = NULL, *shown;
    struct fw_key *key = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "k:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keypath = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one REQUEST");
    }
    if (!keypath || !out) {
        return usage_error("--key and --out are required");
    }
    hdr = malloc(sizeof *hdr);
    if (!hdr) {
        return fail("out of memory");
    }
    rc = EXIT_FAIL;
    if (fw_key_load_private(keypath, &key, &err)) {
        fail_err(keypath, &err);
        goto out;
    }
    if (read_json(argv[optind], &req, &err) ||
        fw_sign_request_sign(req, key, hdr, &resp, &err)) {
        fail_err(argv[optind], &err);
        goto out;
    }
    if (write_json(out, resp, &err)) {
        fail_err("cannot write the response", &err);
        goto out;
    }
    shown = fw_image_header_to_json(hdr);
    if (shown) {
        json_object_del(shown, "sections");
        json_object_set_new(shown, "key_id", json_string(fw_key_id_hex(key)));
        json_object_set_new(shown, "algorithm",
                            json_string(fw_sig_alg_name(fw_key_alg(key))));
        json_object_set_new(shown, "response", json_string(out));
    }
    rc = print_result(shown, format);

out:
    json_decref(req);
    json_decref(resp);
    fw_key_destroy(key);
    free(hdr);
    return rc;
}

static const char attach_help[] =
    "Usage: ovnic-fw attach-signature IMAGE RESPONSE [--out OUT]\n"
    "                                 [--format table|json]\n"
    "\n"
    "Adds the signature of RESPONSE (from 'ovnic-fw sign-response') to IMAGE, after\n"
    "checking that the response is for this very image and that its signature\n"
    "verifies with the public key it names.  Writes OUT, or replaces IMAGE.\n"
    "\n"
    "  -o, --out OUT        signed image (default: IMAGE itself, replaced atomically)\n"
    "  --format FORMAT      table (default) or json; fields: file, key_id,\n"
    "                       algorithm, image_digest, signatures\n";

static int
cmd_attach(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    uint8_t *data = NULL, *signed_data = NULL;
    char digest[FW_DIGEST_HEX_SIZE], key_hex[FW_KEY_ID_HEX_SIZE];
    struct ovnic_err err = {0};
    struct fw_image *image = NULL;
    const char *out = NULL;
    struct fw_signature sig;
    size_t len, signed_len;
    json_t *resp = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 2) {
        return usage_error("expected IMAGE and RESPONSE");
    }
    out = out ? out : argv[optind];
    rc = EXIT_FAIL;
    if (read_image(argv[optind], &data, &len, &err)) {
        fail_err(argv[optind], &err);
        goto out;
    }
    if (read_json(argv[optind + 1], &resp, &err) ||
        fw_sign_response_attach(data, len, resp, &signed_data, &signed_len, &sig, &err)) {
        fail_err(argv[optind + 1], &err);
        goto out;
    }
    image = malloc(sizeof *image);
    if (!image || fw_image_parse(signed_data, signed_len, image, &err)) {
        fail_err(out, &err);
        goto out;
    }
    if (fw_file_write(out, signed_data, signed_len, 0644, &err)) {
        fail_err("cannot write the image", &err);
        goto out;
    }
    rc = print_result(
        json_pack("{s:s, s:s, s:s, s:s, s:i}", "file", out, "key_id",
                  fw_hex_format(sig.key_id, sizeof sig.key_id, key_hex), "algorithm",
                  fw_sig_alg_name(sig.alg), "image_digest",
                  fw_hex_format(image->hdr.digest, sizeof image->hdr.digest, digest),
                  "signatures", (int)image->n_signatures),
        format);

out:
    free(image);
    json_decref(resp);
    free(data);
    free(signed_data);
    return rc;
}

/* ---- verify ------------------------------------------------------------------------ */

static const char verify_help[] =
    "Usage: ovnic-fw verify --trust STORE IMAGE [--device PSID]\n"
    "                       [--min-security-version N] [--format table|json]\n"
    "\n"
    "Checks IMAGE: its structure and limits, its header and section digests, its\n"
    "signatures against the trust store STORE (at least 'threshold' distinct trusted,\n"
    "unrevoked keys must have signed), and optionally that it is for device family\n"
    "PSID and not below security version N.  Prints which keys signed, which\n"
    "signatures were refused and why, and the verdict.\n"
    "\n"
    "  -t, --trust STORE            trust store (docs/fw-image.md)\n"
    "  -d, --device PSID            the device family the image must list\n"
    "  --min-security-version N     refuse an image whose security version is below N\n"
    "  --format FORMAT              table (default) or json; fields: file, result,\n"
    "                               reason, name, version, security_version,\n"
    "                               image_digest, families, device,\n"
    "                               min_security_version, threshold, trusted,\n"
    "                               signatures_ok, device_ok, security_ok,\n"
    "                               signatures [key_id, name, algorithm, result,\n"
    "                               reason]\n"
    "\n"
    "Exit status: 0 valid, 1 refused (the reason is printed), 2 bad command line.\n";

#define OPT_MIN_SECURITY 1004

static int
cmd_verify(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"trust", required_argument, NULL, 't'},
        {"device", required_argument, NULL, 'd'},
        {"min-security-version", required_argument, NULL, OPT_MIN_SECURITY},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    struct fw_verify_policy policy = {0};
    const char *trust_path = NULL, *path;
    struct fw_verify_result *result = NULL;
    struct fw_image *image = NULL;
    struct fw_trust *trust = NULL;
    struct ovnic_err err = {0};
    char reason[512] = "";
    json_t *json = NULL;
    uint8_t *data = NULL;
    int error = 0;
    size_t len;
    int c, rc;

    while ((c = getopt_long(argc, argv, "t:d:", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            trust_path = optarg;
            break;
        case 'd':
            if (!fw_image_name_is_valid(optarg)) {
                return usage_error("bad device family '%s'", optarg);
            }
            policy.device = optarg;
            break;
        case OPT_MIN_SECURITY:
            if (parse_u32(optarg, &policy.min_security_version)) {
                return usage_error("bad security version '%s'", optarg);
            }
            policy.check_security = true;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one IMAGE");
    }
    if (!trust_path) {
        return usage_error("--trust is required");
    }
    path = argv[optind];
    if (fw_trust_load(trust_path, &trust, &err)) {
        return fail_err("cannot load the trust store", &err);
    }
    image = malloc(sizeof *image);
    result = calloc(1, sizeof *result);
    if (!image || !result) {
        rc = fail("out of memory");
        goto out;
    }
    error = read_image(path, &data, &len, &err);
    if (!error) {
        error = fw_image_parse(data, len, image, &err);
        if (!error) {
            error = fw_trust_verify(trust, image, &policy, result, &err);
            json = fw_image_header_to_json(&image->hdr);
            if (json) {
                json_t *r = fw_verify_result_to_json(result);

                json_object_del(json, "sections");
                json_object_update(json, r);
                json_decref(r);
            }
        } else {
            json = json_object();
        }
    } else {
        json = json_object();
    }
    if (!json) {
        rc = fail("out of memory");
        goto out;
    }
    if (error) {
        ovnic_err_format(&err, reason, sizeof reason);
    }
    json_object_set_new(json, "file", json_string(path));
    json_object_set_new(json, "result", json_string(error ? "refused" : "valid"));
    json_object_set_new(json, "reason", json_string(reason));
    json_object_set_new(json, "device",
                        policy.device ? json_string(policy.device) : json_null());
    json_object_set_new(json, "min_security_version",
                        policy.check_security
                            ? json_integer((json_int_t)policy.min_security_version)
                            : json_null());
    /* The verdict first, then the image, then the signatures. */
    {
        static const char *const order[] = {"file", "result", "reason"};
        json_t *sorted = json_object();

        for (size_t i = 0; sorted && i < ARRAY_SIZE(order); i++) {
            json_object_set(sorted, order[i], json_object_get(json, order[i]));
        }
        if (sorted) {
            json_object_update_missing(sorted, json);
            json_decref(json);
            json = sorted;
        }
    }
    print_result(json, format);
    json = NULL;
    if (error) {
        fprintf(stderr, "ovnic-fw: verify: %s: refused: %s\n", path, reason);
    }
    rc = error ? EXIT_FAIL : EXIT_OK;

out:
    json_decref(json);
    free(data);
    free(image);
    free(result);
    fw_trust_destroy(trust);
    return rc;
}

/* ---- inspect ----------------------------------------------------------------------- */

static const char inspect_help[] =
    "Usage: ovnic-fw inspect IMAGE [--format table|json]\n"
    "\n"
    "Parses IMAGE with every check but the signatures' (see verify) and prints its\n"
    "header, sections and the key ids that signed it.  A malformed image is refused\n"
    "with the reason.\n"
    "\n"
    "  --format FORMAT      table (default) or json; fields: name, type, version,\n"
    "                       security_version, build_time, build_date,\n"
    "                       format_version, families, image_digest, header_size,\n"
    "                       payload_size, size, file, sections [name, offset, size,\n"
    "                       sha256], signatures [key_id, algorithm]\n";

static int
cmd_inspect(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    struct ovnic_err err = {0};
    uint8_t *data;
    size_t len;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    if (argc - optind != 1) {
        return usage_error("expected one IMAGE");
    }
    if (read_image(argv[optind], &data, &len, &err)) {
        return fail_err(argv[optind], &err);
    }
    rc = print_image(data, len, argv[optind], format);
    free(data);
    return rc;
}

/* ---- trust ------------------------------------------------------------------------- */

static const char trust_help[] =
    "Usage: ovnic-fw trust init STORE --threshold K\n"
    "       ovnic-fw trust add STORE PUBLIC-KEY --name NAME\n"
    "       ovnic-fw trust revoke STORE KEY-ID [--reason TEXT]\n"
    "       ovnic-fw trust threshold STORE K\n"
    "       ovnic-fw trust show STORE [--format table|json]\n"
    "\n"
    "Manages a trust store (docs/fw-image.md): the public keys that may sign images,\n"
    "the number K of distinct keys that must sign, and the revoked key ids.  Every\n"
    "change rewrites STORE atomically and prints it as 'show' does.\n"
    "\n"
    "  --threshold K        (init) signatures required, 1 or more\n"
    "  --name NAME          (add) a name for the key, shown by verify\n"
    "  --reason TEXT        (revoke) why the key is revoked\n"
    "  --format FORMAT      table (default) or json; fields: store, threshold,\n"
    "                       keys [key_id, name, algorithm, revoked], revoked [key_id,\n"
    "                       reason]\n";

static int
print_trust(const struct fw_trust *trust, const char *path, enum fw_output_format format)
{
    json_t *json = fw_trust_to_json(trust);
    json_t *keys, *revoked, *shown;
    size_t i;

    if (!json) {
        return fail("out of memory");
    }
    keys = json_object_get(json, "keys");
    revoked = json_object_get(json, "revoked");
    for (i = 0; i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i);
        bool is_revoked = false;

        json_object_del(k, "public_key");
        for (size_t j = 0; j < json_array_size(revoked); j++) {
            if (json_equal(json_object_get(json_array_get(revoked, j), "key_id"),
                           json_object_get(k, "key_id"))) {
                is_revoked = true;
            }
        }
        json_object_set_new(k, "revoked", json_boolean(is_revoked));
    }
    shown =
        json_pack("{s:s, s:O, s:O, s:O}", "store", path, "threshold",
                  json_object_get(json, "threshold"), "keys", keys, "revoked", revoked);
    json_decref(json);
    return print_result(shown, format);
}

static int
cmd_trust(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"threshold", required_argument, NULL, 'k'},
        {"name", required_argument, NULL, 'n'},
        {"reason", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    enum fw_output_format format = FW_OUTPUT_TABLE;
    const char *name = NULL, *reason = NULL, *op, *store;
    struct fw_trust *trust = NULL;
    struct ovnic_err err = {0};
    uint32_t threshold = 0;
    bool has_threshold = false;
    int c, rc, nargs;
    char **args;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (parse_u32(optarg, &threshold) || !threshold) {
                return usage_error("bad threshold '%s'", optarg);
            }
            has_threshold = true;
            break;
        case 'n':
            name = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case OPT_FORMAT:
            if ((rc = format_opt(optarg, &format))) {
                return rc;
            }
            break;
        default:
            return bad_option(argv);
        }
    }
    args = argv + optind;
    nargs = argc - optind;
    if (nargs < 2) {
        return usage_error("expected an operation and a STORE");
    }
    op = args[0];
    store = args[1];
    if (!strcmp(op, "init")) {
        if (nargs != 2 || !has_threshold) {
            return usage_error("init takes STORE and --threshold K");
        }
        if (fw_trust_create(threshold, &trust, &err)) {
            return fail_err(store, &err);
        }
    } else {
        if (fw_trust_load(store, &trust, &err)) {
            return fail_err("cannot load the trust store", &err);
        }
        rc = 0;
        if (!strcmp(op, "show")) {
            if (nargs != 2) {
                rc = usage_error("show takes STORE");
                goto out;
            }
            rc = print_trust(trust, store, format);
            goto out;
        } else if (!strcmp(op, "add")) {
            struct fw_key *key;

            if (nargs != 3 || !name) {
                rc = usage_error("add takes STORE, PUBLIC-KEY and --name NAME");
                goto out;
            }
            if (fw_key_load_public(args[2], &key, &err)) {
                rc = fail_err(args[2], &err);
                goto out;
            }
            rc = fw_trust_key_add(trust, key, name, &err);
            fw_key_destroy(key);
            if (rc) {
                rc = fail_err(store, &err);
                goto out;
            }
        } else if (!strcmp(op, "revoke")) {
            uint8_t id[FW_KEY_ID_SIZE];

            if (nargs != 3) {
                rc = usage_error("revoke takes STORE and KEY-ID");
                goto out;
            }
            if (fw_hex_parse(args[2], id, sizeof id)) {
                rc = usage_error("bad key id '%s' (%d hex digits)", args[2],
                                 2 * FW_KEY_ID_SIZE);
                goto out;
            }
            if (fw_trust_revoke(trust, id, reason, &err)) {
                rc = fail_err(store, &err);
                goto out;
            }
        } else if (!strcmp(op, "threshold")) {
            if (nargs != 3 || parse_u32(args[2], &threshold)) {
                rc = usage_error("threshold takes STORE and K");
                goto out;
            }
            if (fw_trust_threshold_set(trust, threshold, &err)) {
                rc = fail_err(store, &err);
                goto out;
            }
        } else {
            rc = usage_error(
                "unknown operation '%s' (init, add, revoke, threshold, show)", op);
            goto out;
        }
    }
    if (fw_trust_save(trust, store, &err)) {
        rc = fail_err("cannot write the trust store", &err);
        goto out;
    }
    rc = print_trust(trust, store, format);

out:
    fw_trust_destroy(trust);
    return rc;
}

/* ---- main -------------------------------------------------------------------------- */

static const struct command commands[] = {
    {"keygen", "create a signing key pair", keygen_help, cmd_keygen},
    {"build", "build an unsigned image from a recipe", build_help, cmd_build},
    {"sign", "sign an image with a local key", sign_help, cmd_sign},
    {"sign-request", "write what a remote signer must sign", sign_request_help,
     cmd_sign_request},
    {"sign-response", "sign a request (on the machine holding the key)",
     sign_response_help, cmd_sign_response},
    {"attach-signature", "add a remote signer's response to the image", attach_help,
     cmd_attach},
    {"verify", "check an image against a trust store and a device", verify_help,
     cmd_verify},
    {"inspect", "print an image's header, sections and signers", inspect_help,
     cmd_inspect},
    {"trust", "create and change a trust store", trust_help, cmd_trust},
};

static void
print_help(void)
{
    printf("Usage: ovnic-fw [--verbose] COMMAND [ARGS...]\n"
           "\n"
           "Builds, signs, verifies and inspects ovnic firmware images\n"
           "(docs/ovnic-fw.md, docs/fw-image.md).  'ovnic-fw COMMAND --help' describes\n"
           "a command.\n"
           "\n"
           "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        printf("  %-17s %s\n", commands[i].name, commands[i].summary);
    }
    printf("\n"
           "Options:\n"
           "  -v, --verbose     log verbosely\n"
           "  -h, --help        show this help\n"
           "  -V, --version     show the version\n"
           "\n"
           "Exit status: 0 success, 1 failure or refused image, 2 bad command line.\n");
}

int
main(int argc, char *argv[])
{
    int i;

    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            print_help();
            return EXIT_OK;
        } else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            printf("ovnic-fw (ovnic) %s\n", OVNIC_FW_VERSION);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            ovnic_log_set_level(NULL, OVNIC_LOG_DBG);
        } else {
            fprintf(stderr,
                    "ovnic-fw: unknown option '%s'\n"
                    "Try 'ovnic-fw --help' for more information.\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "ovnic-fw: missing command\n"
                        "Try 'ovnic-fw --help' for more information.\n");
        return EXIT_USAGE;
    }
    for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
        if (!strcmp(argv[i], commands[c].name)) {
            cmd_name = commands[c].name;
            if (want_help(argc - i, argv + i, &commands[c])) {
                return EXIT_OK;
            }
            /* getopt_long sees "COMMAND ARGS..."; errors are ours, not getopt's. */
            opterr = 0;
            optind = 1;
            return commands[c].run(argc - i, argv + i);
        }
    }
    fprintf(stderr,
            "ovnic-fw: unknown command '%s'\n"
            "Try 'ovnic-fw --help' for more information.\n",
            argv[i]);
    return EXIT_USAGE;
}
