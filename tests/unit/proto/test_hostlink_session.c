/* Unit tests for shared/proto/hostlink_server and hostlink_client: a real server and
 * real clients in one poll loop, over a unix socket and over TLS with certificates
 * made by shared/util/pki, plus raw JSON-RPC peers played by the test for what an
 * honest client never sends.  Intervals are short in the configurations. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/proto/hostlink_client.h"
#include "shared/proto/hostlink_server.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/pki.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

/* Runs the loop of 'F' until 'COND' holds or 'MS' pass; yields 'COND'. */
#define WAIT_FOR(F, COND, MS)                          \
    ({                                                 \
        uint64_t end__ = time_msec() + (uint64_t)(MS); \
        while (!(COND) && time_msec() < end__) {       \
            poll_loop_run_once((F)->loop, 5);          \
        }                                              \
        (COND);                                        \
    })

/* ---- Certificates (once for all tests). --------------------------------------- */

struct pki {
    char dir[64];
    char ca_a[128], ca_b[128];
    char dpu_cert[128], dpu_key[128];
    char host1_cert[128], host1_key[128];
    char host2_cert[128], host2_key[128];
    char stranger_cert[128], stranger_key[128];
};

static struct pki pki;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
group_setup(void **state OVNIC_UNUSED)
{
    char ca_a_key[128], ca_b_key[128];
    int error;

    snprintf(pki.dir, sizeof pki.dir, "/tmp/ovnic-hostlink-XXXXXX");
    if (!mkdtemp(pki.dir)) {
        return -1;
    }
#define P(FIELD, NAME) snprintf(FIELD, sizeof FIELD, "%s/%s", pki.dir, NAME)
    P(pki.ca_a, "ca-a.pem");
    P(ca_a_key, "ca-a-key.pem");
    P(pki.ca_b, "ca-b.pem");
    P(ca_b_key, "ca-b-key.pem");
    P(pki.dpu_cert, "dpu.pem");
    P(pki.dpu_key, "dpu-key.pem");
    P(pki.host1_cert, "host1.pem");
    P(pki.host1_key, "host1-key.pem");
    P(pki.host2_cert, "host2.pem");
    P(pki.host2_key, "host2-key.pem");
    P(pki.stranger_cert, "stranger.pem");
    P(pki.stranger_key, "stranger-key.pem");
#undef P
    error = pki_ca_create("ovnic CA", 2, pki.ca_a, ca_a_key, NULL);
    error = error ? error : pki_ca_create("other CA", 2, pki.ca_b, ca_b_key, NULL);
    error = error ? error
                  : pki_cert_issue(pki.ca_a, ca_a_key, "dpu-1", 2, pki.dpu_cert,
                                   pki.dpu_key, NULL);
    error = error ? error
                  : pki_cert_issue(pki.ca_a, ca_a_key, "host-1", 2, pki.host1_cert,
                                   pki.host1_key, NULL);
    error = error ? error
                  : pki_cert_issue(pki.ca_a, ca_a_key, "host-2", 2, pki.host2_cert,
                                   pki.host2_key, NULL);
    /* Named like an enrolled host, but from another CA. */
    error = error ? error
                  : pki_cert_issue(pki.ca_b, ca_b_key, "host-1", 2, pki.stranger_cert,
                                   pki.stranger_key, NULL);
    return error ? -1 : 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    nftw(pki.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- The DPU side: a server and its owner. ------------------------------------ */

struct dpu {
    struct hostlink_server *server;
    unsigned int n_up, n_down;
    uint64_t last_up, last_down;
    enum hostlink_down_reason last_reason;
    char last_identity[80];
    bool last_had_cn;
    unsigned int last_version;
    unsigned int n_requests[HOSTLINK_N_METHODS];
    struct hostlink_msg last_resync;
    bool have_resync;
    bool defer_detach; /* Leave detach-requests unanswered. */
    const char *refuse_name;
};

static int
dpu_session_up(void *aux, const struct hostlink_session_info *info, char *why,
               size_t size)
{
    struct dpu *d = aux;

    assert_int_equal(info->state, HOSTLINK_SESSION_HELLO);
    assert_non_null(info->hello);
    if (d->refuse_name && !strcmp(info->hello->name, d->refuse_name)) {
        snprintf(why, size, "host %s is not enrolled", info->hello->name);
        return HOSTLINK_ERR_UNAUTHORIZED;
    }
    d->n_up++;
    d->last_up = info->id;
    d->last_version = info->version;
    snprintf(d->last_identity, sizeof d->last_identity, "%s", info->identity);
    d->last_had_cn = info->peer_cn != NULL;
    return HOSTLINK_OK;
}

static void
dpu_session_down(void *aux, uint64_t session, enum hostlink_down_reason reason)
{
    struct dpu *d = aux;

    d->n_down++;
    d->last_down = session;
    d->last_reason = reason;
}

static void
dpu_request(void *aux, uint64_t session, const struct hostlink_msg *msg)
{
    struct dpu *d = aux;

    d->n_requests[msg->method]++;
    switch (msg->method) {
    case HOSTLINK_ATTACH_REQUEST:
        if (!strcmp(msg->u.attach.iface_id, "not-mine")) {
            assert_int_equal(hostlink_server_reply(d->server, session, msg->id,
                                                   HOSTLINK_ERR_NOT_OWNED,
                                                   "PF is not this host's"),
                             0);
        } else {
            struct hostlink_msg plug = {.method = HOSTLINK_PLUG_RESULT};

            assert_int_equal(
                hostlink_server_reply(d->server, session, msg->id, HOSTLINK_OK, NULL), 0);
            snprintf(plug.u.plug_result.iface_id, sizeof plug.u.plug_result.iface_id,
                     "%s", msg->u.attach.iface_id);
            plug.u.plug_result.pf_mac = msg->u.attach.pf_mac;
            plug.u.plug_result.vf_num = msg->u.attach.vf_num;
            plug.u.plug_result.state = HOSTLINK_PLUGGED;
            assert_int_equal(hostlink_server_notify(d->server, session, &plug, NULL), 0);
        }
        break;
    case HOSTLINK_DETACH_REQUEST:
        if (!d->defer_detach) {
            hostlink_server_reply(d->server, session, msg->id, HOSTLINK_OK, NULL);
        }
        break;
    case HOSTLINK_RESYNC:
        if (d->have_resync) {
            hostlink_msg_clear(&d->last_resync);
        }
        assert_int_equal(hostlink_msg_clone(msg, &d->last_resync), 0);
        d->have_resync = true;
        hostlink_server_reply(d->server, session, msg->id, HOSTLINK_OK, NULL);
        break;
    default:
        hostlink_server_reply(d->server, session, msg->id, HOSTLINK_OK, NULL);
        break;
    }
}

static const struct hostlink_server_ops dpu_ops = {dpu_session_up, dpu_session_down,
                                                   dpu_request};

/* ---- The host side: a client and its owner. ----------------------------------- */

struct host {
    struct hostlink_client *client;
    enum hostlink_client_state state;
    int last_status;
    char last_message[512];
    unsigned int n_up, n_backoff, n_connecting;
    uint64_t connecting_ms[64];
    unsigned int n_attachments; /* In the state get_state() gives. */
    unsigned int replies_ok, replies_err, replies_lost;
    int last_reply;
    unsigned int plugs;
};

static int
host_get_state(void *aux, struct hostlink_resync *state)
{
    struct host *h = aux;
    struct hostlink_pf *pf;

    assert_int_equal(hostlink_inventory_alloc(&state->inventory, 1), 0);
    pf = &state->inventory.pfs[0];
    pf->pci = (struct hostlink_pci){0, 3, 0, 0};
    pf->mac = (struct hostlink_mac){{0x02, 0, 0, 0, 1, 0}};
    snprintf(pf->serial, sizeof pf->serial, "MT0001");
    assert_int_equal(hostlink_pf_alloc_vfs(pf, 4), 0);
    for (uint16_t i = 0; i < 4; i++) {
        struct hostlink_vf *vf = &pf->vfs[i];

        vf->num = i;
        vf->pci = (struct hostlink_pci){0, 3, 0, (uint8_t)(i + 2)};
        vf->mac = (struct hostlink_mac){{0x02, 0, 0, 0, 1, (uint8_t)(i + 1)}};
        vf->link = HOSTLINK_LINK_UP;
        vf->has_settings = true;
        vf->settings.spoofchk = true;
    }
    assert_int_equal(hostlink_resync_alloc_attachments(state, h->n_attachments), 0);
    for (unsigned int i = 0; i < h->n_attachments; i++) {
        struct hostlink_attach *a = &state->attachments[i];

        a->pf_mac = pf->mac;
        a->vf_num = (uint16_t)i;
        snprintf(a->iface_id, sizeof a->iface_id, "lsp%u", i);
        a->mac = pf->vfs[i].mac;
    }
    return 0;
}

static void
host_state_changed(void *aux, enum hostlink_client_state state, int status,
                   const char *message)
{
    struct host *h = aux;

    h->state = state;
    if (state == HOSTLINK_CLIENT_UP) {
        h->n_up++;
    } else if (state == HOSTLINK_CLIENT_BACKOFF) {
        h->n_backoff++;
        h->last_status = status;
        snprintf(h->last_message, sizeof h->last_message, "%s", message);
    } else if (state == HOSTLINK_CLIENT_CONNECTING &&
               h->n_connecting < ARRAY_SIZE(h->connecting_ms)) {
        h->connecting_ms[h->n_connecting++] = time_msec();
    }
}

static void
host_notify(void *aux, const struct hostlink_msg *msg)
{
    struct host *h = aux;

    assert_int_equal(msg->method, HOSTLINK_PLUG_RESULT);
    assert_int_equal(msg->u.plug_result.state, HOSTLINK_PLUGGED);
    h->plugs++;
}

static const struct hostlink_client_ops host_ops = {host_get_state, host_state_changed,
                                                    host_notify};

static void
host_reply(void *aux, uint64_t id OVNIC_UNUSED, int status, const char *message)
{
    struct host *h = aux;

    assert_non_null(message);
    h->last_reply = status;
    if (!status) {
        h->replies_ok++;
    } else if (status == -ENOTCONN) {
        h->replies_lost++;
    } else {
        h->replies_err++;
    }
}

/* ---- Fixture. ----------------------------------------------------------------- */

struct fixture {
    struct poll_loop *loop;
    char sock[128];   /* Unix socket path. */
    char listen[160]; /* "punix:..." */
    char remote[160]; /* "unix:..." */
    struct dpu dpu;
    struct host hosts[3];
    struct tls_config dpu_tls;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    assert_int_equal(poll_loop_create(&f->loop), 0);
    snprintf(f->sock, sizeof f->sock, "%s/hostlink-%d.sock", pki.dir, (int)getpid());
    snprintf(f->listen, sizeof f->listen, "punix:%s", f->sock);
    snprintf(f->remote, sizeof f->remote, "unix:%s", f->sock);
    f->dpu_tls = (struct tls_config){pki.ca_a, pki.dpu_cert, pki.dpu_key, NULL};
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < ARRAY_SIZE(f->hosts); i++) {
        hostlink_client_destroy(f->hosts[i].client);
    }
    hostlink_server_destroy(f->dpu.server);
    if (f->dpu.have_resync) {
        hostlink_msg_clear(&f->dpu.last_resync);
    }
    poll_loop_destroy(f->loop);
    unlink(f->sock);
    free(f);
    return 0;
}

static struct hostlink_server_config
dpu_config(struct fixture *f, bool tls)
{
    struct hostlink_server_config c;

    hostlink_server_config_default(&c);
    c.listen = tls ? "pssl:0:127.0.0.1" : f->listen;
    c.tls = tls ? &f->dpu_tls : NULL;
    c.allow_plain = !tls;
    c.name = "dpu-1";
    c.software = "ovnic-dpud test";
    c.lease_ms = 600;
    c.keepalive_ms = 100;
    c.hello_timeout_ms = 400;
    return c;
}

static void
dpu_start(struct fixture *f, const struct hostlink_server_config *c)
{
    struct ovnic_err err = {0};
    char text[256];

    if (hostlink_server_create(f->loop, c, &dpu_ops, &f->dpu, &f->dpu.server, &err)) {
        fail_msg("server: %s", ovnic_err_format(&err, text, sizeof text));
    }
}

static struct hostlink_client_config
host_config(struct fixture *f, const char *name)
{
    struct hostlink_client_config c = {
        .remote = f->remote,
        .allow_plain = true,
        .name = name,
        .software = "ovnic-hostd test",
        .keepalive_ms = 100,
        .dead_ms = 1000,
        .backoff_min_ms = 50,
        .backoff_max_ms = 400,
    };

    return c;
}

static struct host *
host_start(struct fixture *f, size_t i, const struct hostlink_client_config *c)
{
    struct host *h = &f->hosts[i];
    struct ovnic_err err = {0};
    char text[256];

    if (hostlink_client_create(f->loop, c, &host_ops, h, &h->client, &err)) {
        fail_msg("client: %s", ovnic_err_format(&err, text, sizeof text));
    }
    return h;
}

static struct hostlink_server_stats
dpu_stats(struct fixture *f)
{
    struct hostlink_server_stats st;

    hostlink_server_get_stats(f->dpu.server, &st);
    return st;
}

static struct hostlink_msg
attach_msg(const char *iface_id, uint16_t vf)
{
    struct hostlink_msg m = {.method = HOSTLINK_ATTACH_REQUEST};

    m.u.attach.pf_mac = (struct hostlink_mac){{0x02, 0, 0, 0, 1, 0}};
    m.u.attach.vf_num = vf;
    snprintf(m.u.attach.iface_id, sizeof m.u.attach.iface_id, "%s", iface_id);
    m.u.attach.mac = (struct hostlink_mac){{0x0a, 0x58, 0, 0, 0, (uint8_t)(vf + 1)}};
    return m;
}

/* ---- A raw JSON-RPC peer, for what an honest client never sends. -------------- */

struct raw {
    struct stream *stream;
    struct jsonrpc_framer framer;
    char *out;
    size_t out_len, out_ofs;
    unsigned char in[1 << 16];
    size_t in_len, in_ofs;
    bool eof;
};

static void
raw_open_remote(struct raw *r, const char *remote)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(stream_open(remote, NULL, &r->stream, NULL), 0);
    jsonrpc_framer_init(&r->framer, 0);
}

static void
raw_open(struct fixture *f, struct raw *r)
{
    raw_open_remote(r, f->remote);
}

static void
raw_close(struct raw *r)
{
    stream_close(r->stream);
    jsonrpc_framer_destroy(&r->framer);
    free(r->out);
    memset(r, 0, sizeof *r);
}

/* Sends what it can of the output; output the peer no longer reads is dropped. */
static void
raw_pump(struct raw *r)
{
    if (stream_connect(r->stream)) {
        return;
    }
    while (r->out_ofs < r->out_len) {
        ssize_t n = stream_send(r->stream, r->out + r->out_ofs, r->out_len - r->out_ofs);

        if (n == -EAGAIN) {
            break;
        }
        r->out_ofs = n > 0 ? r->out_ofs + (size_t)n : r->out_len;
    }
}

static void
raw_send(struct raw *r, const char *text)
{
    size_t len = strlen(text);

    r->out = realloc(r->out, r->out_len + len);
    assert_non_null(r->out);
    memcpy(r->out + r->out_len, text, len);
    r->out_len += len;
    raw_pump(r);
}

/* Runs the loop until 'r' receives a value (returned; caller owns), EOF or 'ms'. */
static json_t *
raw_recv(struct fixture *f, struct raw *r, int ms)
{
    uint64_t end = time_msec() + (uint64_t)ms;

    while (time_msec() < end && !r->eof) {
        if (r->in_ofs < r->in_len) {
            size_t used;
            json_t *json;

            if (jsonrpc_framer_feed(&r->framer, r->in + r->in_ofs, r->in_len - r->in_ofs,
                                    &used, &json, NULL)) {
                r->eof = true;
                break;
            }
            r->in_ofs += used;
            if (json) {
                return json;
            }
            continue;
        }
        raw_pump(r);
        ssize_t n = stream_connect(r->stream)
                        ? -EAGAIN
                        : stream_recv(r->stream, r->in, sizeof r->in);
        if (n > 0) {
            r->in_ofs = 0;
            r->in_len = (size_t)n;
        } else if (n == -EAGAIN) {
            poll_loop_run_once(f->loop, 5);
        } else {
            r->eof = true;
        }
    }
    return NULL;
}

static int
error_code(const json_t *reply)
{
    return (int)json_integer_value(
        json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *
error_text(const json_t *reply)
{
    return json_string_value(json_object_get(json_object_get(reply, "error"), "error"));
}

#define RAW_HELLO(NAME, MIN, MAX)                                                   \
    "{\"method\": \"hello\", \"params\": [{\"min-version\": " #MIN                  \
    ", \"max-version\": " #MAX ", \"name\": \"" NAME "\", \"software\": \"raw\"}]," \
    " \"id\": 1}"

/* Opens 'r' and says hello; the reply must be a success. */
static void
raw_hello(struct fixture *f, struct raw *r, const char *text)
{
    json_t *reply;

    raw_open(f, r);
    raw_send(r, text);
    reply = raw_recv(f, r, 2000);
    assert_non_null(reply);
    assert_non_null(json_object_get(reply, "result"));
    assert_true(json_is_null(json_object_get(reply, "error")));
    json_decref(reply);
}

/* ---- Tests. ------------------------------------------------------------------- */

static void
test_unix_session(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "host-1");
    struct hostlink_session_info info;
    struct hostlink_client_info ci;
    struct hostlink_msg m;
    struct host *h;
    json_t *json;

    dpu_start(f, &sc);
    h = host_start(f, 0, &cc);
    h->n_attachments = 2;
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));

    /* Hello: the highest common version; the identity is the name (no TLS). */
    assert_int_equal(f->dpu.n_up, 1);
    assert_int_equal(f->dpu.last_version, 2);
    assert_string_equal(f->dpu.last_identity, "host-1");
    assert_false(f->dpu.last_had_cn);
    assert_int_equal(hostlink_server_session_get(f->dpu.server, f->dpu.last_up, &info),
                     0);
    assert_int_equal(info.state, HOSTLINK_SESSION_UP);
    assert_null(info.peer_cn);
    assert_string_equal(info.hello->software, "ovnic-hostd test");
    uint64_t sid;
    assert_int_equal(hostlink_server_find(f->dpu.server, "host-1", &sid), 0);
    assert_int_equal(sid, f->dpu.last_up);
    assert_int_equal(hostlink_server_find(f->dpu.server, "host-9", &sid), -ENOENT);

    hostlink_client_get_info(h->client, &ci);
    assert_int_equal(ci.version, 2);
    assert_string_equal(ci.dpu_name, "dpu-1");
    assert_int_equal(ci.lease_ms, 600);
    assert_int_equal(ci.keepalive_ms, 100);

    /* The resync carried the state, VF settings included (version 2). */
    assert_true(f->dpu.have_resync);
    assert_int_equal(f->dpu.last_resync.u.resync.inventory.n_pfs, 1);
    assert_int_equal(f->dpu.last_resync.u.resync.inventory.pfs[0].n_vfs, 4);
    assert_true(f->dpu.last_resync.u.resync.inventory.pfs[0].vfs[0].has_settings);
    assert_int_equal(f->dpu.last_resync.u.resync.n_attachments, 2);
    assert_string_equal(f->dpu.last_resync.u.resync.attachments[1].iface_id, "lsp1");

    /* Keepalives renew the lease: the session outlives it several times over. */
    uint64_t start = time_msec();
    WAIT_FOR(f, false, 1500);
    assert_true(time_msec() - start >= 1500);
    assert_int_equal(h->state, HOSTLINK_CLIENT_UP);
    assert_int_equal(f->dpu.n_down, 0);
    assert_true(dpu_stats(f).keepalives >= 8);
    hostlink_client_get_info(h->client, &ci);
    assert_true(ci.keepalives >= 8);

    /* Requests: answered, refused by the owner, and a notification. */
    m = attach_msg("lsp3", 3);
    assert_int_equal(hostlink_client_request(h->client, &m, host_reply, h, NULL, NULL),
                     0);
    m = attach_msg("not-mine", 2);
    assert_int_equal(hostlink_client_request(h->client, &m, host_reply, h, NULL, NULL),
                     0);
    assert_true(WAIT_FOR(f, h->replies_ok + h->replies_err == 2 && h->plugs == 1, 2000));
    assert_int_equal(h->replies_ok, 1);
    assert_int_equal(h->replies_err, 1);
    assert_int_equal(h->last_reply, HOSTLINK_ERR_NOT_OWNED);
    assert_int_equal(h->state, HOSTLINK_CLIENT_UP);

    /* Requests the client refuses itself. */
    struct hostlink_msg bad = {.method = HOSTLINK_KEEPALIVE};
    assert_int_equal(hostlink_client_request(h->client, &bad, NULL, NULL, NULL, NULL),
                     -EINVAL);
    m = attach_msg("bad id", 1);
    assert_int_equal(hostlink_client_request(h->client, &m, NULL, NULL, NULL, NULL),
                     -EINVAL);

    /* A resync on demand. */
    h->n_attachments = 3;
    assert_int_equal(hostlink_client_resync(h->client, NULL), 0);
    assert_true(WAIT_FOR(f,
                         f->dpu.last_resync.u.resync.n_attachments == 3 &&
                             h->state == HOSTLINK_CLIENT_UP,
                         2000));

    /* Status output. */
    json = hostlink_server_to_json(f->dpu.server);
    assert_non_null(json);
    assert_int_equal(json_array_size(json_object_get(json, "sessions")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json, "sessions"), 0), "identity")),
        "host-1");
    json_decref(json);
    json = hostlink_client_to_json(h->client);
    assert_string_equal(json_string_value(json_object_get(json, "state")), "up");
    json_decref(json);

    /* The DPU closes the session: the host hears why, and comes back. */
    assert_int_equal(hostlink_server_close_session(f->dpu.server, f->dpu.last_up,
                                                   HOSTLINK_ERR_CLOSED, "maintenance"),
                     0);
    assert_int_equal(f->dpu.n_down, 1);
    assert_int_equal(f->dpu.last_reason, HOSTLINK_DOWN_OWNER);
    assert_true(WAIT_FOR(f, h->n_backoff >= 1, 2000));
    assert_int_equal(h->last_status, HOSTLINK_ERR_CLOSED);
    assert_non_null(strstr(h->last_message, "maintenance"));
    assert_true(WAIT_FOR(f, h->n_up == 3 && f->dpu.n_up == 2, 3000));
}

static void
test_tls_session(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, true);
    struct hostlink_client_config cc;
    struct tls_config host1 = {pki.ca_a, pki.host1_cert, pki.host1_key, "dpu-1"};
    struct tls_config stranger = {pki.ca_a, pki.stranger_cert, pki.stranger_key, NULL};
    struct tls_config wrong_dpu = {pki.ca_a, pki.host2_cert, pki.host2_key, "dpu-2"};
    struct hostlink_session_info info;
    char remote[64];
    struct host *h, *s, *w;

    dpu_start(f, &sc);
    snprintf(remote, sizeof remote, "ssl:127.0.0.1:%u",
             hostlink_server_port(f->dpu.server));

    /* The honest host: its identity is its certificate's CN, whatever it says. */
    cc = host_config(f, "claims-to-be-someone");
    cc.remote = remote;
    cc.allow_plain = false;
    cc.tls = &host1;
    h = host_start(f, 0, &cc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 5000));
    assert_string_equal(f->dpu.last_identity, "host-1");
    assert_true(f->dpu.last_had_cn);
    assert_int_equal(hostlink_server_session_get(f->dpu.server, f->dpu.last_up, &info),
                     0);
    assert_string_equal(info.peer_cn, "host-1");
    assert_string_equal(info.hello->name, "claims-to-be-someone");

    /* A certificate from another CA, with the same CN: refused by the handshake. */
    cc.tls = &stranger;
    s = host_start(f, 1, &cc);
    assert_true(WAIT_FOR(f, s->n_backoff >= 2, 5000));
    assert_int_equal(s->n_up, 0);
    assert_true(s->last_status < 0);
    assert_int_equal(f->dpu.n_up, 1);
    assert_true(dpu_stats(f).transport.closed_error >= 1);

    /* A DPU whose certificate does not carry the name the host expects. */
    cc.tls = &wrong_dpu;
    w = host_start(f, 2, &cc);
    assert_true(WAIT_FOR(f, w->n_backoff >= 1, 5000));
    assert_int_equal(w->n_up, 0);
    assert_int_equal(f->dpu.n_up, 1);

    /* The honest host was served throughout, and still is. */
    assert_int_equal(h->state, HOSTLINK_CLIENT_UP);
    assert_int_equal(h->n_backoff, 0);
    struct hostlink_msg m = attach_msg("lsp1", 1);
    assert_int_equal(hostlink_client_request(h->client, &m, host_reply, h, NULL, NULL),
                     0);
    assert_true(WAIT_FOR(f, h->replies_ok == 1, 2000));

    /* A plain client to the TLS server gets nowhere either. */
    struct raw r;
    char plain[64];

    snprintf(plain, sizeof plain, "tcp:127.0.0.1:%u",
             hostlink_server_port(f->dpu.server));
    raw_open_remote(&r, plain);
    raw_send(&r, RAW_HELLO("host-3", 1, 2));
    assert_null(raw_recv(f, &r, 3000));
    assert_true(r.eof);
    raw_close(&r);
    assert_int_equal(f->dpu.n_up, 1);
}

static void
test_lease_expiry(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct raw r, quiet;
    uint64_t start;
    json_t *bye;

    dpu_start(f, &sc);

    /* A peer that says hello, then nothing. */
    raw_hello(f, &r, RAW_HELLO("host-1", 1, 2));
    assert_int_equal(f->dpu.n_up, 1);
    start = time_msec();
    assert_true(WAIT_FOR(f, f->dpu.n_down == 1, 3000));
    assert_true(time_msec() - start >= 550);
    assert_int_equal(f->dpu.last_reason, HOSTLINK_DOWN_LEASE_EXPIRED);
    assert_int_equal(dpu_stats(f).expired, 1);
    bye = raw_recv(f, &r, 1000);
    assert_non_null(bye);
    assert_string_equal(json_string_value(json_object_get(bye, "method")), "bye");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(bye, "params"), 0), "code")),
                     HOSTLINK_ERR_LEASE_EXPIRED);
    json_decref(bye);
    assert_null(raw_recv(f, &r, 1000));
    assert_true(r.eof);
    raw_close(&r);

    /* A connection that never says hello. */
    raw_open(f, &quiet);
    assert_true(WAIT_FOR(f, dpu_stats(f).hello_timeouts == 1, 2000));
    bye = raw_recv(f, &quiet, 1000);
    assert_non_null(bye);
    char *text = json_dumps(bye, 0);
    assert_non_null(strstr(text, "no hello within"));
    free(text);
    json_decref(bye);
    assert_null(raw_recv(f, &quiet, 1000));
    assert_true(quiet.eof);
    raw_close(&quiet);
    assert_int_equal(f->dpu.n_down, 1); /* Never admitted: no session_down. */
    assert_int_equal(dpu_stats(f).connections, 0);
}

static void
test_reconnect_resync(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "host-1");
    struct hostlink_msg m = {.method = HOSTLINK_DETACH_REQUEST};
    unsigned int first;
    struct host *h;

    dpu_start(f, &sc);
    h = host_start(f, 0, &cc);
    h->n_attachments = 1;
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));
    assert_int_equal(f->dpu.last_resync.u.resync.n_attachments, 1);

    /* A request left unanswered when the DPU goes. */
    f->dpu.defer_detach = true;
    snprintf(m.u.detach.iface_id, sizeof m.u.detach.iface_id, "lsp0");
    assert_int_equal(hostlink_client_request(h->client, &m, host_reply, h, NULL, NULL),
                     0);
    assert_true(WAIT_FOR(f, f->dpu.n_requests[HOSTLINK_DETACH_REQUEST] == 1, 2000));

    /* The DPU restarts: the host sees the loss, and the pending request fails. */
    hostlink_server_destroy(f->dpu.server);
    f->dpu.server = NULL;
    unlink(f->sock);
    assert_true(WAIT_FOR(f, h->n_backoff == 1, 2000));
    assert_int_equal(h->replies_lost, 1);
    assert_int_equal(hostlink_client_request(h->client, &m, NULL, NULL, NULL, NULL),
                     -ENOTCONN);

    /* While it is down, attempts fail and back off: 50 ms, ~100, ~200, ~400. */
    first = h->n_connecting;
    assert_true(WAIT_FOR(f, h->n_connecting >= first + 4, 3000));
    uint64_t gap1 = h->connecting_ms[first + 1] - h->connecting_ms[first];
    uint64_t gap3 = h->connecting_ms[first + 3] - h->connecting_ms[first + 2];
    print_message("back-off gaps: %llu ms, then %llu ms\n", (unsigned long long)gap1,
                  (unsigned long long)gap3);
    assert_true(gap1 >= 50);
    assert_true(gap3 > gap1);
    assert_true(gap3 <= 400 + 50);

    /* The host's state changed meanwhile; the DPU comes back and gets all of it. */
    h->n_attachments = 3;
    hostlink_msg_clear(&f->dpu.last_resync);
    f->dpu.have_resync = false;
    f->dpu.defer_detach = false;
    dpu_start(f, &sc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP && h->n_up == 2, 3000));
    assert_true(f->dpu.have_resync);
    assert_int_equal(f->dpu.last_resync.u.resync.n_attachments, 3);
    assert_string_equal(f->dpu.last_resync.u.resync.attachments[2].iface_id, "lsp2");
    assert_int_equal(f->dpu.n_up, 2);

    /* Up again, the back-off starts over. */
    struct hostlink_client_info ci;

    hostlink_client_get_info(h->client, &ci);
    assert_int_equal(ci.resyncs, 2);
    assert_int_equal(ci.sessions, 2);
    assert_true(ci.attempts >= 6);
    hostlink_server_destroy(f->dpu.server);
    f->dpu.server = NULL;
    unlink(f->sock);
    first = h->n_connecting;
    assert_true(WAIT_FOR(f, h->n_connecting >= first + 2, 3000));
    gap1 = h->connecting_ms[first + 1] - h->connecting_ms[first];
    assert_true(gap1 < 250);
}

/* Sends 'text' on a fresh session of 'name' and checks that the answer is error
 * 'code' and that the session is then closed. */
static void
violation(struct fixture *f, const char *name, const char *text, int code,
          const char *in_message)
{
    char hello[256];
    struct raw r;
    json_t *reply;

    snprintf(hello, sizeof hello,
             "{\"method\": \"hello\", \"params\": [{\"min-version\": 1, \"max-version\": "
             "2, \"name\": \"%s\", \"software\": \"raw\"}], \"id\": 1}",
             name);
    if (text) {
        raw_hello(f, &r, hello);
        raw_send(&r, text);
    } else {
        raw_open(f, &r);
        raw_send(&r,
                 "{\"method\": \"keepalive\", \"params\": [{\"seq\": 1}], \"id\": 1}");
    }
    reply = raw_recv(f, &r, 2000);
    assert_non_null(reply);
    if (error_code(reply) != code ||
        (in_message && !strstr(error_text(reply), in_message))) {
        fail_msg("%s: got %d (%s), want %d (%s)", text ? text : "(no hello)",
                 error_code(reply), error_text(reply), code, in_message);
    }
    json_decref(reply);
    assert_null(raw_recv(f, &r, 2000));
    assert_true(r.eof);
    raw_close(&r);
}

static void
test_malformed_isolated(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "host-1");
    struct hostlink_msg m;
    struct host *h;
    unsigned int downs;

    sc.lease_ms = 3000;
    dpu_start(f, &sc);
    h = host_start(f, 0, &cc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));

    /* A bad MAC in an inventory. */
    downs = f->dpu.n_down;
    violation(
        f, "liar-1",
        "{\"method\": \"inventory\", \"params\": [{\"pfs\": [{\"pci\": "
        "\"0000:03:00.0\", \"mac\": \"zz:00:00:00:01:00\", \"vf-count\": 0, \"vfs\": "
        "[]}]}], \"id\": 2}",
        HOSTLINK_ERR_MALFORMED, "inventory.pfs[0].mac");
    assert_true(WAIT_FOR(f, f->dpu.n_down == downs + 1, 1000));
    assert_int_equal(f->dpu.last_reason, HOSTLINK_DOWN_MALFORMED);
    /* Not JSON. */
    violation(f, "liar-2", "{\"method\": ]", HOSTLINK_ERR_MALFORMED, "JSON");
    /* A notification from the host. */
    violation(f, "liar-3", "{\"method\": \"keepalive\", \"params\": [{\"seq\": 1}]}",
              HOSTLINK_ERR_MALFORMED, NULL);
    /* A method that no version has. */
    violation(f, "liar-4", "{\"method\": \"fw-chunk\", \"params\": [{}], \"id\": 2}",
              HOSTLINK_ERR_UNKNOWN_METHOD, "fw-chunk");
    /* Hello twice, and a request before hello. */
    violation(f, "liar-5", RAW_HELLO("liar-5", 1, 2), HOSTLINK_ERR_OUT_OF_ORDER, NULL);
    violation(f, "liar-6", NULL, HOSTLINK_ERR_OUT_OF_ORDER, "hello");
    /* A VF setting in a version 1 session. */
    {
        struct raw r;
        json_t *reply;

        raw_hello(f, &r, RAW_HELLO("liar-7", 1, 1));
        raw_send(&r,
                 "{\"method\": \"vf-status\", \"params\": [{\"pf-mac\": "
                 "\"02:00:00:00:01:00\", \"vf\": {\"num\": 1, \"pci\": \"0000:03:00.3\","
                 " \"mac\": \"02:00:00:00:01:02\", \"link\": \"up\", \"attached-to\": "
                 "\"none\", \"settings\": {}}}], \"id\": 2}");
        reply = raw_recv(f, &r, 2000);
        assert_int_equal(error_code(reply), HOSTLINK_ERR_MALFORMED);
        assert_non_null(strstr(error_text(reply), "settings"));
        json_decref(reply);
        raw_close(&r);
    }
    /* An oversized message. */
    {
        size_t n = HOSTLINK_MAX_MSG + 100;
        char *big = malloc(n + 1);
        struct raw r;
        json_t *reply;

        assert_non_null(big);
        memset(big, ' ', n);
        const char *head =
            "{\"method\": \"detach-request\", \"params\": [{\"iface-id\": \"";

        memcpy(big, head, strlen(head));
        memset(big + strlen(head), 'x', n - strlen(head));
        big[n] = '\0';
        raw_hello(f, &r, RAW_HELLO("liar-8", 1, 2));
        raw_send(&r, big);
        free(big);
        reply = raw_recv(f, &r, 5000);
        assert_non_null(reply);
        if (error_code(reply) != HOSTLINK_ERR_MALFORMED) {
            char *text = json_dumps(reply, 0);
            fail_msg("oversized: %s", text);
        }
        json_decref(reply);
        raw_close(&r);
    }
    assert_true(dpu_stats(f).malformed >= 8);

    /* Through all of it, the honest host kept its session, and is served. */
    assert_int_equal(h->state, HOSTLINK_CLIENT_UP);
    assert_int_equal(h->n_backoff, 0);
    m = attach_msg("lsp2", 2);
    assert_int_equal(hostlink_client_request(h->client, &m, host_reply, h, NULL, NULL),
                     0);
    assert_true(WAIT_FOR(f, h->replies_ok == 1, 2000));
}

/* A flood of 10,000 requests from one session, rate limited, while another session
 * is served. */
static void
test_flood(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "flooder");
    struct host *a, *b;
    uint64_t start, b_ms;
    unsigned int a_done_at_b;
    struct hostlink_msg m = {.method = HOSTLINK_VF_STATUS};

    sc.lease_ms = 5000;
    sc.rate = 100;
    sc.burst = 200;
    dpu_start(f, &sc);
    cc.max_pending = 20000;
    cc.dead_ms = 10000;
    a = host_start(f, 0, &cc);
    cc = host_config(f, "honest");
    cc.dead_ms = 10000;
    b = host_start(f, 1, &cc);
    assert_true(WAIT_FOR(
        f, a->state == HOSTLINK_CLIENT_UP && b->state == HOSTLINK_CLIENT_UP, 3000));

    m.u.vf_status.pf_mac = (struct hostlink_mac){{0x02, 0, 0, 0, 1, 0}};
    m.u.vf_status.vf.num = 1;
    m.u.vf_status.vf.pci = (struct hostlink_pci){0, 3, 0, 3};
    m.u.vf_status.vf.link = HOSTLINK_LINK_DOWN;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(
            hostlink_client_request(a->client, &m, host_reply, a, NULL, NULL), 0);
    }
    start = time_msec();
    /* Let the flood start, then the honest host asks. */
    WAIT_FOR(f, a->replies_ok + a->replies_err >= 500, 5000);
    m = attach_msg("lsp1", 1);
    assert_int_equal(hostlink_client_request(b->client, &m, host_reply, b, NULL, NULL),
                     0);
    assert_true(WAIT_FOR(f, b->replies_ok == 1, 5000));
    b_ms = time_msec() - start;
    a_done_at_b = a->replies_ok + a->replies_err;
    assert_true(WAIT_FOR(f, a->replies_ok + a->replies_err == 10000, 30000));
    print_message(
        "flood: %u OK, %u rate limited in %llu ms; the honest host was answered "
        "after %llu ms, with %u of the flood answered\n",
        a->replies_ok, a->replies_err, (unsigned long long)(time_msec() - start),
        (unsigned long long)b_ms, a_done_at_b);
    assert_true(a_done_at_b < 10000);
    /* The bucket: its burst, then its rate over the time the flood took. */
    uint64_t flood_ms = time_msec() - start;
    assert_true(a->replies_ok >= 200);
    assert_true(a->replies_ok <= 200 + 100 * (flood_ms / 1000 + 1));
    assert_int_equal(a->replies_err, 10000 - a->replies_ok);
    assert_int_equal(a->last_reply, HOSTLINK_ERR_RATE_LIMITED);
    /* The flooder's keepalives count against its bucket too. */
    assert_true(dpu_stats(f).rate_limited >= a->replies_err);
    assert_int_equal(a->state, HOSTLINK_CLIENT_UP);
    assert_int_equal(b->state, HOSTLINK_CLIENT_UP);

    struct hostlink_session_info info;
    uint64_t sid;

    assert_int_equal(hostlink_server_find(f->dpu.server, "flooder", &sid), 0);
    assert_int_equal(hostlink_server_session_get(f->dpu.server, sid, &info), 0);
    assert_int_equal(info.rate_limited, dpu_stats(f).rate_limited);
}

static void
test_versions(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "old-host");
    struct raw r;
    json_t *reply;
    struct host *h;

    /* A DPU that needs version 2, a host that speaks only 1: below the minimum. */
    sc.version_min = 2;
    dpu_start(f, &sc);
    cc.version_max = 1;
    h = host_start(f, 0, &cc);
    assert_true(WAIT_FOR(f, h->n_backoff >= 1, 3000));
    assert_int_equal(h->last_status, HOSTLINK_ERR_VERSION_TOO_OLD);
    assert_non_null(strstr(h->last_message, "1 to 1"));
    assert_int_equal(f->dpu.n_up, 0);
    assert_true(dpu_stats(f).refused_version >= 1);
    hostlink_client_destroy(h->client);
    h->client = NULL;

    /* A peer newer than anything the DPU speaks. */
    raw_open(f, &r);
    raw_send(&r, RAW_HELLO("new-host", 3, 9));
    reply = raw_recv(f, &r, 2000);
    assert_int_equal(error_code(reply), HOSTLINK_ERR_VERSION_TOO_NEW);
    json_decref(reply);
    assert_null(raw_recv(f, &r, 2000));
    raw_close(&r);

    /* Overlap: the highest common version. */
    cc = host_config(f, "new-host");
    h = host_start(f, 1, &cc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));
    assert_int_equal(f->dpu.last_version, 2);
    hostlink_client_destroy(h->client);
    h->client = NULL;
    hostlink_server_destroy(f->dpu.server);
    f->dpu.server = NULL;

    sc.version_min = 1;
    sc.version_max = 1;
    dpu_start(f, &sc);
    h = host_start(f, 2, &cc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));
    assert_int_equal(f->dpu.last_version, 1);
    /* Version 1: the VF settings stay on the host. */
    assert_false(f->dpu.last_resync.u.resync.inventory.pfs[0].vfs[0].has_settings);
}

static void
test_supersede_and_refuse(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "host-1");
    struct raw old;
    json_t *bye;
    struct host *h, *x;

    sc.lease_ms = 5000;
    dpu_start(f, &sc);
    raw_hello(f, &old, RAW_HELLO("host-1", 1, 2));
    uint64_t old_id = f->dpu.last_up;

    /* The same identity again: the new session replaces the old one. */
    h = host_start(f, 0, &cc);
    assert_true(WAIT_FOR(f, h->state == HOSTLINK_CLIENT_UP, 3000));
    assert_int_equal(f->dpu.n_down, 1);
    assert_int_equal(f->dpu.last_down, old_id);
    assert_int_equal(f->dpu.last_reason, HOSTLINK_DOWN_SUPERSEDED);
    bye = raw_recv(f, &old, 2000);
    assert_non_null(bye);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(bye, "params"), 0), "code")),
                     HOSTLINK_ERR_SUPERSEDED);
    json_decref(bye);
    raw_close(&old);
    assert_int_equal(dpu_stats(f).superseded, 1);

    /* The owner refuses an identity. */
    f->dpu.refuse_name = "intruder";
    cc = host_config(f, "intruder");
    x = host_start(f, 1, &cc);
    assert_true(WAIT_FOR(f, x->n_backoff >= 1, 3000));
    assert_int_equal(x->last_status, HOSTLINK_ERR_UNAUTHORIZED);
    assert_non_null(strstr(x->last_message, "not enrolled"));
    assert_int_equal(x->n_up, 0);
    assert_true(dpu_stats(f).refused_owner >= 1);
    assert_int_equal(h->state, HOSTLINK_CLIENT_UP);
}

static void
test_config(void **state)
{
    struct fixture *f = *state;
    struct hostlink_server_config sc = dpu_config(f, false);
    struct hostlink_client_config cc = host_config(f, "host-1");
    struct hostlink_client_ops no_state = {NULL, NULL, NULL};
    struct hostlink_server *server = NULL;
    struct hostlink_client *client = NULL;
    struct ovnic_err err = {0};

    sc.allow_plain = false;
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, &err),
                     -EINVAL);
    assert_non_null(strstr(err.message, "explicitly"));
    sc = dpu_config(f, true);
    sc.tls = NULL;
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL),
                     -EINVAL);
    sc = dpu_config(f, false);
    sc.name = "dpu 1";
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL),
                     -EINVAL);
    sc = dpu_config(f, false);
    sc.lease_ms = 50;
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL),
                     -EINVAL);
    sc = dpu_config(f, false);
    sc.keepalive_ms = 1000;
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL),
                     -EINVAL);
    sc = dpu_config(f, false);
    sc.version_max = 3;
    assert_int_equal(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL),
                     -EINVAL);
    struct tls_config missing = {"/nonexistent/ca.pem", pki.dpu_cert, pki.dpu_key, NULL};
    sc = dpu_config(f, true);
    sc.tls = &missing;
    assert_true(hostlink_server_create(f->loop, &sc, &dpu_ops, NULL, &server, NULL) < 0);
    assert_null(server);

    cc.allow_plain = false;
    assert_int_equal(hostlink_client_create(f->loop, &cc, &host_ops, NULL, &client, &err),
                     -EINVAL);
    cc = host_config(f, "host-1");
    cc.remote = "ssl:127.0.0.1:1";
    assert_int_equal(hostlink_client_create(f->loop, &cc, &host_ops, NULL, &client, NULL),
                     -EINVAL);
    cc = host_config(f, "host-1");
    assert_int_equal(hostlink_client_create(f->loop, &cc, &no_state, NULL, &client, NULL),
                     -EINVAL);
    cc.keepalive_ms = 10;
    assert_int_equal(hostlink_client_create(f->loop, &cc, &host_ops, NULL, &client, NULL),
                     -EINVAL);
    cc = host_config(f, "host-1");
    cc.software = "";
    assert_int_equal(hostlink_client_create(f->loop, &cc, &host_ops, NULL, &client, NULL),
                     -EINVAL);
    assert_null(client);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unix_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supersede_and_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
