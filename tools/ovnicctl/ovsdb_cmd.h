/* ovnicctl: the "ovsdb" commands, which read an OVSDB database (usually OVN's
 * Southbound) through ovnic's own client session:
 *
 *   ovnicctl ovsdb monitor --db=REMOTE [OPTIONS] [TABLE...]   print changes as they come
 *   ovnicctl ovsdb dump --db=REMOTE [OPTIONS] [TABLE...]      print the contents once
 *
 * The command objects are declared in ovnicctl.h (ovnicctl_ovsdb_command); this
 * header holds what the output formats share, for reuse by other commands. */
#ifndef OVNICCTL_OVSDB_CMD_H
#define OVNICCTL_OVSDB_CMD_H 1

#include <jansson.h>
#include <stdio.h>

/** Writes 'datum' (RFC 7047 notation, borrowed) the way ovn-sbctl shows values:
 * strings bare when unambiguous and quoted otherwise, uuids bare, sets as [a, b],
 * maps as {k=v, ...}.  Returns 0, or -EIO if writing failed. */
int ovnicctl_datum_print(FILE *stream, const json_t *datum);

#endif /* OVNICCTL_OVSDB_CMD_H */
