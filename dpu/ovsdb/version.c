/* ovnic: version of the OVSDB client library. */
#include "dpu/ovsdb/version.h"

const char *
ovsdb_client_version(void)
{
    return "ovnic-ovsdb " OVNIC_OVSDB_VERSION;
}
