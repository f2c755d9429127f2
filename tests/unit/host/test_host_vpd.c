/* Unit tests of host/vpd.c: PCI VPD keywords and the Identifier String, and every
 * way a device's VPD can be malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "host/vpd.h"

/* ID "ConnectX-7", VPD-R {PN "MCX75", SN "MT2301X12345  " (padded), V0 "x", RV},
 * VPD-W {YA "asset"}, End. */
static const uint8_t good[] = {
    0x82, 10,  0,   'C', 'o', 'n', 'n', 'e', 'c', 't', 'X', '-',  '7', 0x90, 29,
    0,    'P', 'N', 5,   'M', 'C', 'X', '7', '5', 'S', 'N', 14,   'M', 'T',  '2',
    '3',  '0', '1', 'X', '1', '2', '3', '4', '5', ' ', ' ', 'R',  'V', 1,    0x00,
    0x91, 8,   0,   'Y', 'A', 5,   'a', 's', 's', 'e', 't', 0x78,
};

static void
test_keywords(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(vpd_keyword_find(good, sizeof good, "SN", buf, sizeof buf), 12);
    assert_string_equal(buf, "MT2301X12345");
    assert_int_equal(vpd_keyword_find(good, sizeof good, "PN", buf, sizeof buf), 5);
    assert_string_equal(buf, "MCX75");
    assert_int_equal(vpd_keyword_find(good, sizeof good, "YA", buf, sizeof buf), 5);
    assert_string_equal(buf, "asset");
    assert_int_equal(vpd_keyword_find(good, sizeof good, "EC", buf, sizeof buf), -ENOENT);
    assert_int_equal(vpd_id_string(good, sizeof good, buf, sizeof buf), 10);
    assert_string_equal(buf, "ConnectX-7");
    /* Too small a buffer. */
    assert_int_equal(vpd_keyword_find(good, sizeof good, "SN", buf, 12), -ENAMETOOLONG);
    assert_int_equal(vpd_keyword_find(good, sizeof good, "SN", buf, 0), -ENAMETOOLONG);
}

static void
test_malformed(void **state)
{
    uint8_t bad[sizeof good];
    char buf[64];
    size_t len;

    (void)state;
    /* Every truncation: an error or "absent", never a read past the end. */
    for (len = 0; len < sizeof good; len++) {
        int n = vpd_keyword_find(good, len, "SN", buf, sizeof buf);

        assert_true(n == -EBADMSG || n == -ENOENT || n == 12);
    }
    assert_int_equal(vpd_keyword_find(good, 0, "SN", buf, sizeof buf), -EBADMSG);
    assert_int_equal(vpd_keyword_find(good, 20, "SN", buf, sizeof buf), -EBADMSG);

    /* A resource length past the end. */
    memcpy(bad, good, sizeof good);
    bad[14] = 0xff;
    assert_int_equal(vpd_keyword_find(bad, sizeof bad, "SN", buf, sizeof buf), -EBADMSG);

    /* A keyword length past its resource. */
    memcpy(bad, good, sizeof good);
    bad[18] = 40;
    assert_int_equal(vpd_keyword_find(bad, sizeof bad, "SN", buf, sizeof buf), -EBADMSG);

    /* A value that is not printable. */
    memcpy(bad, good, sizeof good);
    bad[27] = 0x07;
    assert_int_equal(vpd_keyword_find(bad, sizeof bad, "SN", buf, sizeof buf), -EILSEQ);

    /* No End tag: running off the buffer after the last resource. */
    assert_int_equal(vpd_keyword_find(good, sizeof good - 1, "EC", buf, sizeof buf),
                     -EBADMSG);

    /* Small resources are skipped; a small one running past the end is an error. */
    {
        static const uint8_t small[] = {0x22, 'a', 'b', 0x90, 5,   0,
                                        'S',  'N', 2,   'o',  'k', 0x78};
        static const uint8_t small_bad[] = {0x27, 'a', 'b'};

        assert_int_equal(vpd_keyword_find(small, sizeof small, "SN", buf, sizeof buf), 2);
        assert_string_equal(buf, "ok");
        assert_int_equal(
            vpd_keyword_find(small_bad, sizeof small_bad, "SN", buf, sizeof buf),
            -EBADMSG);
    }

    /* An empty value is found, and empty. */
    {
        static const uint8_t empty[] = {0x90, 3, 0, 'S', 'N', 0, 0x78};

        assert_int_equal(vpd_keyword_find(empty, sizeof empty, "SN", buf, sizeof buf), 0);
        assert_string_equal(buf, "");
        assert_int_equal(vpd_id_string(empty, sizeof empty, buf, sizeof buf), -ENOENT);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
