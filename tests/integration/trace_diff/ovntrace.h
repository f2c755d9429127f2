/* ovnic trace differential test: running the real ovn-trace, and reading what its
 * minimal output ("--minimal") says happens to a packet.
 *
 * Two ways to run ovn-trace:
 *
 *   - ovntrace_run(): one process per packet, with any --ct and --lb-dst options.
 *   - struct ovntrace_server: one "ovn-trace --detach" daemon, asked over its control
 *     socket (JSON-RPC "trace" requests), a few milliseconds per packet.  ovn-trace
 *     takes --ct and --lb-dst only on its command line, and consumes them across
 *     requests (the --ct queue is never reset; --lb-dst is forgotten once a load
 *     balancer used it), so a server serves one uniform ct assumption: every
 *     conntrack lookup of every packet reports the same state.  The server is started
 *     with that state queued many times and restarted when a trace shows the queue
 *     ran dry.  Packets whose walk load-balances need their own process (--lb-dst).
 *
 * The minimal output is a tree of statements: header rewrites ("eth.dst = ...;",
 * "ip.ttl--;"), deliveries ("output(\"p\");"), controller packets ("arp { ... };",
 * "icmp4 { ... };") and conntrack continuations ("ct_next(ct_state=new|trk) { ... };").
 * ovntrace_verdict_parse() turns such a tree into a structural verdict (struct
 * ovntrace_verdict): the packet as traced, each delivery with the header fields that
 * differ from it, the controller actions, and a drop when nothing is delivered.
 * ovntrace_verdict_from_json() makes the same from "ovnicctl trace --format=json", and
 * ovntrace_verdict_equal() compares the two; register writes, comments, conntrack
 * details and the order of lines do not matter. */
#ifndef OVNIC_TRACE_DIFF_OVNTRACE_H
#define OVNIC_TRACE_DIFF_OVNTRACE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* How one packet is traced: the uniform conntrack state and the load-balancer
 * destination. */
struct ovntrace_opts {
    const char *ct;     /* ct_state for every lookup ("new", "est,rpl"), or NULL for
                         * ovn-trace's default (est). */
    const char *lb_dst; /* "IP:PORT" or "IP", or NULL. */
};

/* How many times a per-packet run queues 'ct' (more lookups than any walk has). */
#define OVNTRACE_CT_REPEAT 16

/** Runs "ovn-trace --db=DB --minimal [--ct=CT x OVNTRACE_CT_REPEAT] [--lb-dst=..]
 * DATAPATH MICROFLOW" once ('extra', may be NULL, adds options such as
 * "--no-leader-only").  On success stores its stdout in '*output' (caller owns;
 * free()).  Errors: -EIO (it could not run, exited non-zero or timed out; stderr is
 * passed through), -ENOMEM. */
int ovntrace_run(const char *db, const char *extra, const struct ovntrace_opts *opts,
                 const char *datapath, const char *microflow, char **output);

struct ovntrace_server;

/** Starts an ovn-trace daemon on 'db' in directory 'dir' (its pidfile, socket and log
 * go there, named after 'name'), with 'ct' (may be NULL) queued for every lookup, and
 * waits until it has read the database.  On success stores it in '*serverp' (caller
 * owns; stop with ovntrace_server_destroy()).  Errors: -EIO, -ENOMEM. */
int ovntrace_server_create(const char *db, const char *extra, const char *dir,
                           const char *name, const char *ct,
                           struct ovntrace_server **serverp);

/** Traces 'microflow' from 'datapath' with the server's --ct assumption, as
 * "--minimal".  Restarts the server when its queued states ran out during the trace,
 * and traces again.  On success stores the output in '*output' (caller owns; free()).
 * Errors: -ECANCELED (ovn-trace itself dies on this packet, twice: ovn-trace 23.03
 * aborts on nd_na_router { } and put_nd_ra_opts; the server is restarted), -EIO (the
 * server could not be started or did not answer), -ENOMEM. */
int ovntrace_server_trace(struct ovntrace_server *server, const char *datapath,
                          const char *microflow, char **output);

/** Number of traces 'server' answered, of restarts, and of packets it failed on
 * (-ECANCELED). */
size_t ovntrace_server_n_traces(const struct ovntrace_server *server);
size_t ovntrace_server_n_restarts(const struct ovntrace_server *server);
size_t ovntrace_server_n_failed(const struct ovntrace_server *server);

/** Stops the daemon ("exit", then SIGKILL if it lingers) and frees 'server'.  NULL is
 * a no-op. */
void ovntrace_server_destroy(struct ovntrace_server *server);

/* ---- Verdicts ---- */

/* A header field and its value: an OVN field name ("eth.dst", "ip.ttl", "tcp.dst")
 * and the value in hexadecimal ("0xa0000011200"). */
struct ovntrace_field {
    char *name;
    char *value;
};

/* One copy of the packet delivered to a logical port. */
struct ovntrace_output {
    char *port;
    bool ctrl;    /* Built by a controller action (arp { }, icmp4 { }, ...). */
    char *via;    /* The controller actions that built it, outermost first, joined by
                   * '/' ("tcp_reset", "arp/icmp4"; reject named by what it builds), or
                   * "" for the packet itself. */
    bool partial; /* 'fields' holds only the fields the trace set explicitly (ovn-trace
                   * does not show how it builds controller packets), not every field
                   * that differs from the input. */
    struct ovntrace_field *fields; /* Sorted by name. */
    size_t n_fields;
};

/** What a trace says became of a packet. */
struct ovntrace_verdict {
    struct ovntrace_field *input; /* The packet as traced: its non-zero header fields,
                                   * sorted by name. */
    size_t n_input;
    struct ovntrace_output *outputs; /* Sorted by port; none means a drop. */
    size_t n_outputs;
    char **ctrls; /* Controller actions that build packets or replies ("arp",
                   * "icmp4", "tcp_reset", "nd_na", "put_dhcp_opts"...), sorted. */
    size_t n_ctrls;
};

/** Parses ovn-trace's minimal output 'text' into '*verdict' (caller owns; free with
 * ovntrace_verdict_destroy()).  The input comes from the "# " flow line; each output's
 * fields are those whose value at delivery differs from the input, following the
 * header rewrites of the trace, the NAT shown by ct_dnat(...)/ct_snat(...) blocks,
 * and, for ct_lb/ct_lb_mark blocks, 'lb_dst' ("IP[:PORT]", may be NULL) as ovn-trace
 * applies it.  Outputs inside a controller block are partial.  Comments, "*** ..."
 * notes and register writes are not part of the verdict.
 *
 * Errors: -EINVAL (not a trace: it does not start with the "# " flow line, e.g.
 * "unknown datapath", or a block does not close), -ENOMEM. */
int ovntrace_verdict_parse(const char *text, const char *lb_dst,
                           struct ovntrace_verdict *verdict);

/** Makes '*verdict' from the JSON form of "ovnicctl trace" (an object with "input",
 * "outputs" and "controller" members; see docs/ovnicctl-trace.md).  Output fields are
 * those that differ from the input (every non-zero header field for controller-built
 * packets).  Errors: -EINVAL (not that form), -ENOMEM. */
int ovntrace_verdict_from_json(const json_t *json, struct ovntrace_verdict *verdict);

/** True if 'oracle' (from ovn-trace) and 'other' agree: the same input, the same
 * controller actions, and outputs that pair up one to one with the same port, the
 * same nesting in controller actions ('via') and fields (for a partial output of
 * 'oracle', the fields it lists have those values in the other). */
bool ovntrace_verdict_equal(const struct ovntrace_verdict *oracle,
                            const struct ovntrace_verdict *other);

/** True if 'whole' holds all of 'part': the same input, every controller action of
 * 'part', and an output pairing up (as in ovntrace_verdict_equal()) with each output
 * of 'part'; 'whole' may hold more.  What a walk ended early shows of a full one. */
bool ovntrace_verdict_is_part_of(const struct ovntrace_verdict *part,
                                 const struct ovntrace_verdict *whole);

/** Returns 'verdict' as text, one line each: "input F=V ...", "output PORT[ ctrl=VIA]
 * F=V ...", "ctrl NAME", or "drop" (caller owns; free()).  NULL if memory runs out. */
char *ovntrace_verdict_format(const struct ovntrace_verdict *verdict);

/** Frees what 'verdict' holds and empties it.  NULL is a no-op. */
void ovntrace_verdict_destroy(struct ovntrace_verdict *verdict);

#endif /* OVNIC_TRACE_DIFF_OVNTRACE_H */
