/* ovnic: version of the OVSDB client library. */
#ifndef OVNIC_OVSDB_VERSION_H
#define OVNIC_OVSDB_VERSION_H 1

#define OVNIC_OVSDB_VERSION "0.1.0"

/** "ovnic-ovsdb X.Y.Z".  Static. */
const char *ovsdb_client_version(void);

#endif /* OVNIC_OVSDB_VERSION_H */
