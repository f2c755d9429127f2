/* ovnic e2e helper: a CA and certificates made with shared/util/pki, for scenarios
 * that need TLS peers (tests/e2e/e2e_hostd.sh).
 *
 *   ovnic-e2e-pki ca CN CERT KEY
 *   ovnic-e2e-pki issue CA-CERT CA-KEY CN CERT KEY */
#include <stdio.h>
#include <string.h>

#include "shared/util/err.h"
#include "shared/util/pki.h"

int
main(int argc, char *argv[])
{
    struct ovnic_err err = {0};
    char text[256];
    int error;

    if (argc == 5 && !strcmp(argv[1], "ca")) {
        error = pki_ca_create(argv[2], 30, argv[3], argv[4], &err);
    } else if (argc == 7 && !strcmp(argv[1], "issue")) {
        error = pki_cert_issue(argv[2], argv[3], argv[4], 30, argv[5], argv[6], &err);
    } else {
        fprintf(stderr, "usage: ovnic-e2e-pki ca CN CERT KEY\n"
                        "       ovnic-e2e-pki issue CA-CERT CA-KEY CN CERT KEY\n");
        return 2;
    }
    if (error) {
        fprintf(stderr, "ovnic-e2e-pki: %s\n",
                ovnic_err_is_set(&err) ? ovnic_err_format(&err, text, sizeof text)
                                       : "failed");
        return 1;
    }
    return 0;
}
