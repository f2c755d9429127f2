/* ovnic: one SB Logical_Flow row -> its match IR and actions IR.
 *
 * lflow_parse_row() reads a Logical_Flow row of an SB replica (replica.h): its match
 * is compiled by expr.h, with "$name" resolved through the replica's Address_Set
 * table and "@name" through its Port_Group table (ovn-northd 23.03 names a port
 * group's SB row "<datapath tunnel key>_<name>" for each datapath it spans; the plain
 * "<name>" is tried last), and its actions by actions.h, with the flow's pipeline and
 * table as context.  The actions' prerequisites are ANDed into the match, as
 * ovn-controller does.
 *
 * A row that cannot be parsed gives a struct lflow_error that names it: the row uuid,
 * pipeline, table_id, stage name (external_ids:stage-name), which part failed
 * (match or actions), and the parser's message with its position. */
#ifndef OVNIC_CONTROLLER_LFLOW_H
#define OVNIC_CONTROLLER_LFLOW_H 1

#include <stdbool.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/err.h"
#include "shared/util/uuid.h"

#define LFLOW_STAGE_LEN 64

/** A parsed Logical_Flow row. */
struct lflow_parsed {
    struct uuid uuid;
    enum action_pipeline pipeline; /* INGRESS or EGRESS. */
    int table_id;
    int priority;
    char stage[LFLOW_STAGE_LEN]; /* external_ids:stage-name, or "". */

    struct expr_match_list *matches; /* Match AND action prerequisites.  Owned. */
    struct action_list *actions;     /* Owned. */
    struct expr_refs refs;           /* Address sets, port groups, ports named. */
};

/** Why a row could not be parsed. */
struct lflow_error {
    struct uuid uuid;
    const char *pipeline; /* "ingress", "egress", or "" if the row has none. */
    int table_id;
    char stage[LFLOW_STAGE_LEN]; /* external_ids:stage-name, or "". */
    const char *part;            /* "match", "actions" or "row" (static). */
    struct ovnic_err err;        /* The parser's category, message and position. */
};

/** Counts of rows parsed and rows that failed. */
struct lflow_parse_stats {
    uint64_t parsed;
    uint64_t failed;
};

/** Parses Logical_Flow row 'row' (borrowed) of 'replica' (borrowed: an SB replica,
 * used for the Datapath_Binding, Logical_DP_Group, Address_Set and Port_Group
 * tables) with 'symtab'.  On success stores the result in '*parsedp' (caller owns;
 * free with lflow_parsed_destroy()).  On failure fills 'error' (may be NULL).
 * 'stats' (may be NULL) counts the outcome.
 *
 * Errors: -EINVAL (the match or actions are invalid, name an unknown address set or
 * port group, or the row is not a Logical_Flow row), -E2BIG (the match expands too
 * far), -ENOMEM. */
int lflow_parse_row(const struct symtab *symtab, const struct ovsdb_replica *replica,
                    const struct ovsdb_row *row, struct lflow_parsed **parsedp,
                    struct lflow_error *error, struct lflow_parse_stats *stats);

/** Frees 'parsed'.  NULL is a no-op. */
void lflow_parsed_destroy(struct lflow_parsed *parsed);

/** Writes 'error' as one line: "UUID ingress table 3 (ls_in_acl) actions: syntax
 * error (at `x' (column 4): expecting action)".  Returns 'buf'. */
const char *lflow_error_format(const struct lflow_error *error, char *buf, size_t size);

/** Writes the reason alone: "syntax error (at `x' (column 4): expecting action)". */
const char *lflow_error_reason(const struct lflow_error *error, char *buf, size_t size);

#endif /* OVNIC_CONTROLLER_LFLOW_H */
