/* ovnic: hostlink, the protocol between ovnic-hostd (on the host) and ovnic-dpud (on
 * the DPU): its versions, bounds, error codes, message schema and codec.
 *
 * Messages are JSON-RPC 1.0 over a byte stream (shared/util/jsonrpc.h), one JSON
 * object after another.  The host sends requests, each with an integer id; the DPU
 * answers each with a reply or an error reply, and sends notifications of its own.
 * Every request's and notification's "params" is an array of exactly one object.
 * docs/hostlink.md is the full description; this header is the C view of it.
 *
 * Decoding is strict: every member is checked for its type, range, length and
 * characters, every array for its size, an object with a member that the negotiated
 * version does not define is refused, and so is a method that it does not define.
 * A decoder fails with a negative errno that says which kind of rule was broken,
 * and 'struct ovnic_err' names the member ("inventory.pfs[0].vfs[3].mac") and the
 * rule:
 *   -EPROTO   a missing member, an unknown member, a member of the wrong JSON type,
 *             a method sent in the wrong direction, a params array not of one object;
 *   -ERANGE   a number out of its range;
 *   -EMSGSIZE a string longer than its bound, or an array larger than its bound;
 *   -EINVAL   a string of the wrong characters or format (MAC, PCI address), an
 *             empty string, or values that contradict each other (duplicates, a VF
 *             number not below the VF count, a minimum above a maximum);
 *   -ENOSYS   a method this version does not define;
 *   -ENOMEM.
 * hostlink_error_from_errno() maps these to the wire codes (HOSTLINK_ERR_MALFORMED,
 * HOSTLINK_ERR_UNKNOWN_METHOD).
 *
 * Encoding checks as much: an encoder refuses (-EINVAL, -ERANGE, -EMSGSIZE...) a
 * struct that the peer's decoder would refuse, so that a sender's own bug does not
 * cost it its session.
 *
 * The library checks syntax and bounds only.  Whether a host may use a PF, a VF, a
 * MAC or an iface-id is for ovnic-dpud to decide (see hostlink_server.h). */
#ifndef OVNIC_PROTO_HOSTLINK_H
#define OVNIC_PROTO_HOSTLINK_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct jsonrpc_msg;

/* ---- Versions and bounds. ----------------------------------------------------- */

/** The protocol versions this library speaks.  Version 2 adds the VF settings
 * ("settings" of a VF entry). */
#define HOSTLINK_VERSION_MIN 1
#define HOSTLINK_VERSION_MAX 2
/** The largest version number a hello may carry (a newer peer's). */
#define HOSTLINK_VERSION_WIRE_MAX 255

/** Largest message, in bytes.  A resync at every other bound fits in less than half
 * of it. */
#define HOSTLINK_MAX_MSG ((size_t)4 << 20)
#define HOSTLINK_MAX_PFS 8          /* PFs of one host on one DPU. */
#define HOSTLINK_MAX_VFS_PER_PF 256 /* VF count of one PF. */
#define HOSTLINK_MAX_VFS (HOSTLINK_MAX_PFS * HOSTLINK_MAX_VFS_PER_PF)
#define HOSTLINK_NAME_MAX 64      /* Identity in hello. */
#define HOSTLINK_SOFTWARE_MAX 64  /* Software version in hello. */
#define HOSTLINK_NETDEV_MAX 15    /* A Linux interface name (IFNAMSIZ - 1). */
#define HOSTLINK_DRIVER_MAX 31    /* A kernel driver name. */
#define HOSTLINK_SERIAL_MAX 64    /* A card serial number. */
#define HOSTLINK_IFACE_ID_MAX 255 /* An iface-id (an OVN logical port name). */
#define HOSTLINK_TARGET_MAX 64    /* A VM or network namespace name. */
#define HOSTLINK_MESSAGE_MAX 256  /* The text of an error. */
#define HOSTLINK_ID_MAX                                            \
    ((UINT64_C(1) << 53) - 1) /* Request ids and sequence numbers. \
                               */
#define HOSTLINK_LEASE_MIN_MS 100
#define HOSTLINK_LEASE_MAX_MS 3600000
#define HOSTLINK_RATE_MAX_MBPS 400000 /* VF rate limits (version 2). */

/* ---- Transports. ------------------------------------------------------------- */

/** Checks that 'remote' (a stream.h name) is a transport hostlink may use: "ssl:"
 * ("pssl:" if 'passive'), which needs 'have_tls'; or, only with 'allow_plain',
 * "unix:"/"tcp:" ("punix:"/"ptcp:").  Sets '*tls'.  Returns 0, or -EINVAL with 'err'
 * (may be NULL) saying why. */
int hostlink_check_transport(const char *remote, bool passive, bool allow_plain,
                             bool have_tls, bool *tls, struct ovnic_err *err);

/* ---- Error codes. ------------------------------------------------------------- */

/** The codes of error replies and of "bye" on the wire: {"error": TEXT, "code": N}.
 * A fatal error ends the session: the DPU closes it after sending the error. */
enum hostlink_error {
    HOSTLINK_OK = 0,
    HOSTLINK_ERR_MALFORMED = 1,       /* Fatal.  Breaks the schema or the framing. */
    HOSTLINK_ERR_VERSION_TOO_OLD = 2, /* Fatal.  Peer's newest is below our oldest. */
    HOSTLINK_ERR_VERSION_TOO_NEW = 3, /* Fatal.  Peer's oldest is above our newest. */
    HOSTLINK_ERR_OUT_OF_ORDER = 4,    /* Fatal.  A request before hello, two hellos. */
    HOSTLINK_ERR_UNKNOWN_METHOD = 5,  /* Fatal.  Not a method of this version. */
    HOSTLINK_ERR_UNAUTHORIZED = 6,    /* Fatal.  The DPU refuses this identity. */
    HOSTLINK_ERR_NOT_OWNED = 7,       /* A PF or VF that is not this host's. */
    HOSTLINK_ERR_MAC_MISMATCH = 8,    /* A MAC other than the one OVN assigns. */
    HOSTLINK_ERR_BOUND_ELSEWHERE = 9, /* An iface-id bound to another chassis/VF. */
    HOSTLINK_ERR_NOT_FOUND = 10,      /* No such iface-id, VF or PF. */
    HOSTLINK_ERR_RATE_LIMITED = 11,   /* Too many requests: retry later. */
    HOSTLINK_ERR_BUSY = 12,           /* Fatal.  Too many sessions. */
    HOSTLINK_ERR_TIMEOUT = 13,        /* Fatal.  A message left unfinished. */
    HOSTLINK_ERR_UNSUPPORTED = 14,    /* The DPU cannot do this. */
    HOSTLINK_ERR_LEASE_EXPIRED = 15,  /* Fatal (bye).  Silent past the lease. */
    HOSTLINK_ERR_SUPERSEDED = 16,     /* Fatal (bye).  A newer session, same identity. */
    HOSTLINK_ERR_CLOSED = 17,         /* Fatal (bye).  Closed by the DPU. */
    HOSTLINK_ERR_INTERNAL = 18,       /* The DPU failed. */
};
#define HOSTLINK_ERR_LAST HOSTLINK_ERR_INTERNAL
/** Codes a peer may send: 1 to this.  Codes this library does not know are kept
 * as they are (a newer peer's). */
#define HOSTLINK_ERR_WIRE_MAX 999

/** The name of 'code' ("malformed", "version-too-old", ...; "unknown" for a code
 * this library does not know).  Static. */
const char *hostlink_error_name(int code);

/** Parses a name of hostlink_error_name().  Returns 0, or -EINVAL. */
int hostlink_error_from_name(const char *name, int *code);

/** True if 'code' ends the session. */
bool hostlink_error_is_fatal(int code);

/** The wire code for the negative errno of a failed decode or of a transport
 * refusal: -ENOSYS: unknown-method; -EPROTO, -EINVAL, -ERANGE, -EMSGSIZE: malformed;
 * -EBUSY: busy; -ETIMEDOUT: timeout; anything else: internal. */
int hostlink_error_from_errno(int error);

/** Chooses the version that side "a" (the DPU: the side that decides) speaks with
 * its peer "b": the highest one that both [min_a, max_a] and [min_b, max_b] hold,
 * stored in '*version'.  Returns HOSTLINK_OK, HOSTLINK_ERR_VERSION_TOO_OLD if b's
 * newest version is below a's oldest, or HOSTLINK_ERR_VERSION_TOO_NEW if b's oldest
 * is above a's newest ('*version' untouched then). */
enum hostlink_error hostlink_version_negotiate(unsigned int min_a, unsigned int max_a,
                                               unsigned int min_b, unsigned int max_b,
                                               unsigned int *version);

/* ---- Field types. ------------------------------------------------------------- */

/** "xx:xx:xx:xx:xx:xx", hex digits of either case on input, lowercase on output. */
struct hostlink_mac {
    uint8_t b[6];
};

/** A PCI address "DDDD:BB:SS.F" (hex; slot 0 to 1f, function 0 to 7), lowercase on
 * output. */
struct hostlink_pci {
    uint16_t domain;
    uint8_t bus;
    uint8_t slot;
    uint8_t func;
};

/** Text forms, NUL-terminated, of the sizes below.  Return 'buf'. */
#define HOSTLINK_MAC_LEN 17
#define HOSTLINK_PCI_LEN 12
char *hostlink_mac_format(const struct hostlink_mac *mac, char buf[HOSTLINK_MAC_LEN + 1]);
char *hostlink_pci_format(const struct hostlink_pci *pci, char buf[HOSTLINK_PCI_LEN + 1]);

/** Parse the text forms.  Return 0 or -EINVAL; the output is untouched on failure. */
int hostlink_mac_parse(const char *s, struct hostlink_mac *mac);
int hostlink_pci_parse(const char *s, struct hostlink_pci *pci);

bool hostlink_mac_is_zero(const struct hostlink_mac *mac);
bool hostlink_mac_is_multicast(const struct hostlink_mac *mac);

/* ---- Messages. ---------------------------------------------------------------- */

enum hostlink_method {
    /* Requests, host to DPU. */
    HOSTLINK_HELLO,          /* "hello" */
    HOSTLINK_KEEPALIVE,      /* "keepalive" */
    HOSTLINK_INVENTORY,      /* "inventory" */
    HOSTLINK_VF_STATUS,      /* "vf-status" */
    HOSTLINK_ATTACH_REQUEST, /* "attach-request" */
    HOSTLINK_DETACH_REQUEST, /* "detach-request" */
    HOSTLINK_RESYNC,         /* "resync" */
    /* Notifications, DPU to host. */
    HOSTLINK_PLUG_RESULT, /* "plug-result" */
    HOSTLINK_BYE,         /* "bye" */
    HOSTLINK_N_METHODS
};

/** The wire name of 'method'.  Static. */
const char *hostlink_method_name(enum hostlink_method method);

/** Looks up a wire name.  Returns 0, or -ENOSYS for a name no version defines. */
int hostlink_method_from_name(const char *name, enum hostlink_method *method);

/** True for the requests (host to DPU), false for the notifications (DPU to host). */
bool hostlink_method_is_request(enum hostlink_method method);

/** The version that introduced 'method'. */
unsigned int hostlink_method_since(enum hostlink_method method);

/** "hello": the host's side of version negotiation; the DPU's side is its reply
 * (struct hostlink_hello_reply).  Understood by every version. */
struct hostlink_hello {
    unsigned int min_version; /* 1 to HOSTLINK_VERSION_WIRE_MAX. */
    unsigned int max_version; /* min_version to HOSTLINK_VERSION_WIRE_MAX. */
    /* Who the sender says it is: letters, digits, "._-:@".  A claim: the DPU
     * identifies a TLS peer by its certificate. */
    char name[HOSTLINK_NAME_MAX + 1];
    char software[HOSTLINK_SOFTWARE_MAX + 1]; /* Printable ASCII, e.g. "ovnic 0.1". */
};

/** "keepalive".  Its reply echoes 'seq'. */
struct hostlink_keepalive {
    uint64_t seq; /* 0 to HOSTLINK_ID_MAX. */
};

enum hostlink_link {
    HOSTLINK_LINK_UNKNOWN, /* "unknown" */
    HOSTLINK_LINK_UP,      /* "up" */
    HOSTLINK_LINK_DOWN,    /* "down" */
};

enum hostlink_attach_kind {
    HOSTLINK_ATTACH_NONE,  /* "none" */
    HOSTLINK_ATTACH_VM,    /* "vm": bound to vfio-pci for a VM. */
    HOSTLINK_ATTACH_NETNS, /* "netns": its netdev moved into a namespace. */
};

/** A VF's settings, as the host set them through netlink (version 2). */
struct hostlink_vf_settings {
    uint16_t vlan; /* 0 to 4095; 0: none. */
    uint8_t qos;   /* 0 to 7. */
    bool trust;
    bool spoofchk;
    uint32_t min_tx_rate; /* Mbit/s, 0 to HOSTLINK_RATE_MAX_MBPS; 0: none. */
    uint32_t max_tx_rate; /* Mbit/s, as above; 0: none; else >= min_tx_rate. */
};

/** One VF, as the host sees it. */
struct hostlink_vf {
    uint16_t num;            /* 0 to HOSTLINK_MAX_VFS_PER_PF - 1. */
    struct hostlink_pci pci; /* Its PCI address. */
    /* Its netdev ("": none, e.g. bound to vfio-pci): 1 to HOSTLINK_NETDEV_MAX
     * printable characters without "/", ":" or space, not "." or "..". */
    char netdev[HOSTLINK_NETDEV_MAX + 1];
    struct hostlink_mac mac; /* Unicast; all zero: not set. */
    enum hostlink_link link;
    char driver[HOSTLINK_DRIVER_MAX + 1]; /* "": none; else letters, digits, "_.-". */
    enum hostlink_attach_kind attached_to;
    /* The VM or namespace, iff 'attached_to' is not NONE: letters, digits, "._-:@+". */
    char attached_name[HOSTLINK_TARGET_MAX + 1];
    /* The iface-id the host gave it ("": none): letters, digits, "-_.:@/+=". */
    char iface_id[HOSTLINK_IFACE_ID_MAX + 1];
    bool has_settings; /* Version 2 only: 'settings' is valid. */
    struct hostlink_vf_settings settings;
};

/** One PF of the NIC, as the host sees it. */
struct hostlink_pf {
    struct hostlink_pci pci;
    struct hostlink_mac mac;              /* Unicast, nonzero. */
    char netdev[HOSTLINK_NETDEV_MAX + 1]; /* "": none. */
    char serial[HOSTLINK_SERIAL_MAX + 1]; /* Card serial ("": unknown); letters,
                                           * digits, "_.-". */
    uint16_t vf_count;       /* sriov_numvfs, 0 to HOSTLINK_MAX_VFS_PER_PF. */
    size_t n_vfs;            /* == vf_count. */
    struct hostlink_vf *vfs; /* malloc()ed; numbers 0 to vf_count - 1,
                              * each once, in any order. */
};

/** "inventory": every PF the host has on this DPU, with its VFs.  PF PCI addresses
 * and MACs are distinct, and so are all PCI addresses in it. */
struct hostlink_inventory {
    size_t n_pfs;            /* 0 to HOSTLINK_MAX_PFS. */
    struct hostlink_pf *pfs; /* malloc()ed. */
};

/** "vf-status": one VF changed. */
struct hostlink_vf_status {
    struct hostlink_mac pf_mac; /* Its PF. */
    struct hostlink_vf vf;
};

/** "attach-request": bind 'iface_id' to VF 'vf_num' of the PF 'pf_mac', with 'mac'.
 * Also an element of a resync. */
struct hostlink_attach {
    struct hostlink_mac pf_mac;               /* Unicast, nonzero. */
    uint16_t vf_num;                          /* 0 to HOSTLINK_MAX_VFS_PER_PF - 1. */
    char iface_id[HOSTLINK_IFACE_ID_MAX + 1]; /* Nonempty. */
    struct hostlink_mac mac;                  /* Unicast, nonzero. */
};

/** "detach-request": unbind 'iface_id'. */
struct hostlink_detach {
    char iface_id[HOSTLINK_IFACE_ID_MAX + 1]; /* Nonempty. */
};

/** "resync": the host's whole state, after every hello.  It replaces whatever the
 * DPU holds from this host's earlier sessions: an attachment it does not list is
 * detached.  Iface-ids are distinct, and so are (pf_mac, vf_num) pairs. */
struct hostlink_resync {
    struct hostlink_inventory inventory;
    size_t n_attachments;                /* 0 to HOSTLINK_MAX_VFS. */
    struct hostlink_attach *attachments; /* malloc()ed. */
};

enum hostlink_plug_state {
    HOSTLINK_PLUGGED,   /* "plugged": the representor is in, the port claimed. */
    HOSTLINK_UNPLUGGED, /* "unplugged": no longer (detach, or OVN moved it). */
    HOSTLINK_REFUSED,   /* "refused": with 'code' saying why. */
};

/** "plug-result" (DPU to host): what became of an attachment. */
struct hostlink_plug_result {
    char iface_id[HOSTLINK_IFACE_ID_MAX + 1];
    struct hostlink_mac pf_mac;
    uint16_t vf_num;
    enum hostlink_plug_state state;
    int code; /* REFUSED: 1 to HOSTLINK_ERR_WIRE_MAX; else 0. */
    char message[HOSTLINK_MESSAGE_MAX + 1]; /* REFUSED: why (may be ""); else "". */
};

/** "bye" (DPU to host): the DPU is closing the session, and why. */
struct hostlink_bye {
    int code;                               /* 1 to HOSTLINK_ERR_WIRE_MAX. */
    char message[HOSTLINK_MESSAGE_MAX + 1]; /* Printable ASCII, may be "". */
};

/** One message: a request (with its id) or a notification. */
struct hostlink_msg {
    enum hostlink_method method;
    uint64_t id; /* Requests: 0 to HOSTLINK_ID_MAX.  Notifications: 0. */
    union {
        struct hostlink_hello hello;
        struct hostlink_keepalive keepalive;
        struct hostlink_inventory inventory;
        struct hostlink_vf_status vf_status;
        struct hostlink_attach attach;
        struct hostlink_detach detach;
        struct hostlink_resync resync;
        struct hostlink_plug_result plug_result;
        struct hostlink_bye bye;
    } u;
};

/** Frees what 'msg' (may be NULL) holds (the arrays of inventory and resync) and
 * leaves it empty; 'msg' itself is the caller's. */
void hostlink_msg_clear(struct hostlink_msg *msg);
void hostlink_inventory_clear(struct hostlink_inventory *inventory);
void hostlink_resync_clear(struct hostlink_resync *resync);

/** Allocate the arrays of an inventory or resync, zeroed: 'n_pfs' PFs, 'n' VFs of
 * 'pf' (and 'pf->vf_count' = 'n'), 'n' attachments.  Any previous array is freed.
 * Return 0, -EMSGSIZE past the bounds above, or -ENOMEM. */
int hostlink_inventory_alloc(struct hostlink_inventory *inventory, size_t n_pfs);
int hostlink_pf_alloc_vfs(struct hostlink_pf *pf, size_t n);
int hostlink_resync_alloc_attachments(struct hostlink_resync *resync, size_t n);

/** Deep copy of 'src' into '*dst' (overwritten).  Caller owns '*dst'; free with
 * hostlink_msg_clear().  Returns 0 or -ENOMEM ('*dst' untouched). */
int hostlink_msg_clone(const struct hostlink_msg *src, struct hostlink_msg *dst);

/** Decodes a request or notification: 'method' and 'params' (borrowed) as they came
 * in, and 'id' (borrowed; NULL or JSON null for a notification), as a message of
 * protocol 'version' (0 before negotiation: only "hello").  A request must carry an
 * integer id, 0 to HOSTLINK_ID_MAX, and a notification none.  On success '*msg' is
 * filled (caller owns; free with hostlink_msg_clear()); on failure it is untouched.
 * Returns 0, or a negative errno as listed at the top, with 'err' (may be NULL)
 * naming the member and the rule. */
int hostlink_msg_decode(const char *method, const json_t *params, const json_t *id,
                        unsigned int version, struct hostlink_msg *msg,
                        struct ovnic_err *err);

/** hostlink_msg_decode() of a JSON-RPC request or notification (borrowed); -EPROTO
 * for a reply. */
int hostlink_msg_from_jsonrpc(const struct jsonrpc_msg *jmsg, unsigned int version,
                              struct hostlink_msg *msg, struct ovnic_err *err);

/** Encodes 'msg' (borrowed) for protocol 'version' as a JSON-RPC request (with
 * 'msg->id') or notification.  Members that 'version' lacks are left out (the VF
 * settings for version 1).  Caller owns '*jmsg'; free with jsonrpc_msg_destroy().
 * Returns 0, -ENOSYS if 'version' lacks the method, an error of
 * hostlink_msg_decode() for a message its peer would refuse, or -ENOMEM, with 'err'
 * (may be NULL) set. */
int hostlink_msg_encode(const struct hostlink_msg *msg, unsigned int version,
                        struct jsonrpc_msg **jmsg, struct ovnic_err *err);

/** The params array that hostlink_msg_encode() would send.  Caller owns '*params'
 * (json_decref()).  Returns as hostlink_msg_encode(). */
int hostlink_msg_to_params(const struct hostlink_msg *msg, unsigned int version,
                           json_t **params, struct ovnic_err *err);

/* ---- Replies. ----------------------------------------------------------------- */

/** The result of hello: the DPU's side of negotiation, and what it chose. */
struct hostlink_hello_reply {
    struct hostlink_hello hello; /* The DPU's versions, name and software. */
    unsigned int version;        /* The version both speak from now on. */
    uint32_t lease_ms;           /* HOSTLINK_LEASE_MIN_MS to HOSTLINK_LEASE_MAX_MS:
                                  * silent for this long, the host is expired. */
    uint32_t keepalive_ms;       /* HOSTLINK_LEASE_MIN_MS to 'lease_ms': how often to
                                  * send keepalive. */
};

/** A decoded reply to a request. */
struct hostlink_reply {
    uint64_t id;
    int code;                               /* 0, or the error reply's code. */
    char message[HOSTLINK_MESSAGE_MAX + 1]; /* The error reply's text, else "". */
    union {
        struct hostlink_hello_reply hello; /* hello, when 'code' is 0. */
        uint64_t seq;                      /* keepalive, when 'code' is 0. */
    } u;
};

/** Decodes 'jmsg' (borrowed), a reply or error reply, as the answer to a request of
 * 'method'.  An error reply must be {"error": TEXT, "code": N} with N from 1 to
 * HOSTLINK_ERR_WIRE_MAX and TEXT printable ASCII of at most HOSTLINK_MESSAGE_MAX
 * bytes; a reply to hello holds a struct hostlink_hello_reply, to keepalive
 * {"seq": N}, to anything else {}.  The id is checked as a request's; an error reply
 * with a null id (an error the DPU could not tie to a request) decodes with
 * 'reply->id' = UINT64_MAX.  Returns 0 with '*reply' filled, or an errno as
 * hostlink_msg_decode(). */
int hostlink_reply_decode(enum hostlink_method method, const struct jsonrpc_msg *jmsg,
                          struct hostlink_reply *reply, struct ovnic_err *err);

/** A reply to request 'id' of 'method': 'hello' for HOSTLINK_HELLO (else ignored),
 * 'seq' for HOSTLINK_KEEPALIVE, {} for the rest.  Caller owns '*jmsg'.  Returns 0,
 * -EINVAL/-ERANGE/-EMSGSIZE for a bad 'hello' or 'id', or -ENOMEM. */
int hostlink_reply_encode(enum hostlink_method method, uint64_t id,
                          const struct hostlink_hello_reply *hello, uint64_t seq,
                          struct jsonrpc_msg **jmsg, struct ovnic_err *err);

/** The result member of such a reply ({}, {"seq": N} or the hello reply).  Caller
 * owns the result; NULL if out of memory or invalid. */
json_t *hostlink_reply_result(enum hostlink_method method,
                              const struct hostlink_hello_reply *hello, uint64_t seq);

/** The error object {"error": 'message', "code": 'code'}: 'code' from 1 to
 * HOSTLINK_ERR_WIRE_MAX; 'message' (NULL: the code's name) is cut to
 * HOSTLINK_MESSAGE_MAX bytes, and bytes that are not printable ASCII become '?'.
 * Caller owns; NULL if out of memory or 'code' is out of range. */
json_t *hostlink_error_json(int code, const char *message);

#endif /* OVNIC_PROTO_HOSTLINK_H */
