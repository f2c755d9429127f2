/* Unit tests for the logical-flow language lexer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/lex.h"

/* Lexes 's' and returns the token types, space-separated, plus the text of IDs,
 * strings, references and integers, e.g. "ID(ip4.dst) EQ INT(ipv4:10.0.0.1)". */
static char *
lex_all(const char *s)
{
    static char out[1024];
    struct lexer lexer;
    size_t n = 0;

    out[0] = '\0';
    lexer_init(&lexer, s);
    for (;;) {
        enum lex_type type = lexer_get(&lexer);
        const struct lex_token *t = &lexer.token;
        char buf[160];
        char vbuf[64], mbuf[64];
        static const char *const fmts[] = {"dec", "hex", "ipv4", "ipv6", "eth"};

        switch (type) {
        case LEX_T_END:
            snprintf(buf, sizeof buf, "END");
            break;
        case LEX_T_ERROR:
            snprintf(buf, sizeof buf, "ERROR(%s@%zu)", t->error, t->start);
            break;
        case LEX_T_ID:
            snprintf(buf, sizeof buf, "ID(%s)", t->s);
            break;
        case LEX_T_STRING:
            snprintf(buf, sizeof buf, "STR(%s)", t->s);
            break;
        case LEX_T_MACRO:
            snprintf(buf, sizeof buf, "AS(%s)", t->s);
            break;
        case LEX_T_PORT_GROUP:
            snprintf(buf, sizeof buf, "PG(%s)", t->s);
            break;
        case LEX_T_INTEGER:
            snprintf(buf, sizeof buf, "INT(%s:%s)", fmts[t->format],
                     lex_value_format(t->value, LEX_F_HEXADECIMAL, vbuf, sizeof vbuf));
            break;
        case LEX_T_MASKED_INTEGER:
            snprintf(buf, sizeof buf, "MINT(%s:%s/%s)", fmts[t->format],
                     lex_value_format(t->value, LEX_F_HEXADECIMAL, vbuf, sizeof vbuf),
                     lex_value_format(t->mask, LEX_F_HEXADECIMAL, mbuf, sizeof mbuf));
            break;
        default:
            snprintf(buf, sizeof buf, "%s", lex_type_to_string(type));
            break;
        }
        n += snprintf(out + n, sizeof out - n, "%s%s", n ? " " : "", buf);
        if (type == LEX_T_END || type == LEX_T_ERROR || n >= sizeof out - 1) {
            break;
        }
    }
    lexer_destroy(&lexer);
    return out;
}

static void
test_lex_punctuation(void **state)
{
    (void)state;
    assert_string_equal(
        lex_all("( ) { } [ ] == != < <= > >= ! && || .. , ; = <-> -> -- : -"),
        "`(' `)' `{' `}' `[' `]' `==' `!=' `<' `<=' `>' `>=' `!' `&&' "
        "`||' `..' `,' `;' `=' `<->' `->' `--' `:' `-' END");
    assert_string_equal(lex_all("a==b"), "ID(a) `==' ID(b) END");
    assert_string_equal(lex_all("!ct.new"), "`!' ID(ct.new) END");
    assert_string_equal(lex_all("reg0[0..15]"),
                        "ID(reg0) `[' INT(dec:0x0) `..' INT(dec:0xf) `]' END");
}

static void
test_lex_identifiers(void **state)
{
    (void)state;
    assert_string_equal(lex_all("ip4.dst ct_mark.blocked _x x9"),
                        "ID(ip4.dst) ID(ct_mark.blocked) ID(_x) ID(x9) END");
    /* Words made of hex digits are identifiers unless followed by a colon. */
    assert_string_equal(lex_all("dead beef"), "ID(dead) ID(beef) END");
    assert_string_equal(lex_all("$as_1 @pg1 $pg1_ip4"),
                        "AS(as_1) PG(pg1) AS(pg1_ip4) END");
}

static void
test_lex_integers(void **state)
{
    (void)state;
    assert_string_equal(lex_all("0 17 0x800 0XfF"),
                        "INT(dec:0x0) INT(dec:0x11) INT(hex:0x800) INT(hex:0xff) END");
    assert_string_equal(lex_all("18446744073709551615"),
                        "INT(dec:0xffffffffffffffff) END");
    assert_string_equal(lex_all("0x0123456789abcdef0123456789abcdef"),
                        "INT(hex:0x123456789abcdef0123456789abcdef) END");
    assert_string_equal(lex_all("0x000000000000000000000000000000000001"),
                        "INT(hex:0x1) END");
    assert_string_equal(lex_all("10.0.0.1 255.255.255.255"),
                        "INT(ipv4:0xa000001) INT(ipv4:0xffffffff) END");
    assert_string_equal(lex_all("fe80::1 ::1 ::ffff:192.0.2.128"),
                        "INT(ipv6:0xfe800000000000000000000000000001) INT(ipv6:0x1) "
                        "INT(ipv6:0xffffc0000280) END");
    assert_string_equal(
        lex_all("00:00:00:00:00:01 ff:ff:ff:ff:ff:ff AA:bb:CC:dd:EE:ff"),
        "INT(eth:0x1) INT(eth:0xffffffffffff) INT(eth:0xaabbccddeeff) END");
    /* An IPv4 address and a port, and a range, are separate tokens. */
    assert_string_equal(lex_all("1.2.3.4:80"),
                        "INT(ipv4:0x1020304) `:' INT(dec:0x50) END");
    assert_string_equal(lex_all("1..5"), "INT(dec:0x1) `..' INT(dec:0x5) END");
}

static void
test_lex_masks(void **state)
{
    (void)state;
    assert_string_equal(lex_all("10.1.2.3/24"), "MINT(ipv4:0xa010200/0xffffff00) END");
    assert_string_equal(lex_all("10.0.0.0/255.0.255.0"),
                        "MINT(ipv4:0xa000000/0xff00ff00) END");
    assert_string_equal(lex_all("0.0.0.0/0"), "MINT(ipv4:0x0/0x0) END");
    assert_string_equal(lex_all("fe80::1/64"),
                        "MINT(ipv6:0xfe800000000000000000000000000000/"
                        "0xffffffffffffffff0000000000000000) END");
    assert_string_equal(lex_all("0x12/0xf0"), "MINT(hex:0x10/0xf0) END");
    assert_string_equal(lex_all("0/0x1"), "MINT(hex:0x0/0x1) END");
    assert_string_equal(lex_all("5/4"), "MINT(dec:0x4/0x4) END");
    assert_string_equal(lex_all("00:00:00:00:00:00/01:00:00:00:00:00"),
                        "MINT(eth:0x0/0x10000000000) END");
}

static void
test_lex_strings(void **state)
{
    (void)state;
    assert_string_equal(lex_all("\"lp1\" \"\""), "STR(lp1) STR() END");
    assert_string_equal(lex_all("\"a\\\"b\\\\c\\/d\\te\""), "STR(a\"b\\c/d\te) END");
    assert_string_equal(lex_all("\"\\u00e9\\u20ac\""), "STR(\xc3\xa9\xe2\x82\xac) END");
    assert_string_equal(lex_all("\"\\ud83d\\ude00\""), "STR(\xf0\x9f\x98\x80) END");
}

static void
test_lex_comments(void **state)
{
    (void)state;
    assert_string_equal(lex_all("ip4 // all IPv4\n&& tcp"), "ID(ip4) `&&' ID(tcp) END");
    assert_string_equal(lex_all("ip4 /* v4 */ && /**/tcp"), "ID(ip4) `&&' ID(tcp) END");
    assert_string_equal(lex_all("   \t\r\n"), "END");
}

static void
test_lex_errors(void **state)
{
    (void)state;
    assert_string_equal(lex_all("ip4 & tcp"),
                        "ID(ip4) ERROR(`&' is only valid as part of `&&'@4)");
    assert_string_equal(lex_all("a | b"),
                        "ID(a) ERROR(`|' is only valid as part of `||'@2)");
    assert_string_equal(lex_all("a / b"),
                        "ID(a) ERROR(`/' is only valid as part of `//' or `/*'@2)");
    assert_string_equal(lex_all("/* open"), "ERROR(`/*' without matching `*/'@0)");
    assert_string_equal(lex_all("\"abc"), "ERROR(input ends inside quoted string@0)");
    assert_string_equal(lex_all("\"a\\qb\""), "ERROR(invalid escape `\\q' in string@0)");
    assert_string_equal(lex_all("\"\\u12\""),
                        "ERROR(`\\u' must be followed by 4 hex digits@0)");
    assert_string_equal(lex_all("\"\\u0000\""),
                        "ERROR(strings may not contain \\u0000@0)");
    assert_string_equal(lex_all("\"\\udc00\""),
                        "ERROR(invalid UTF-16 surrogate pair in string@0)");
    assert_string_equal(lex_all("012"),
                        "ERROR(decimal constants must not have leading zeros@0)");
    assert_string_equal(lex_all("18446744073709551616"),
                        "ERROR(decimal constants must be less than 2**64@0)");
    assert_string_equal(lex_all("0x"), "ERROR(hex digits expected after 0x@0)");
    assert_string_equal(lex_all("0x1g"),
                        "ERROR(invalid syntax in hexadecimal constant@0)");
    assert_string_equal(lex_all("0x100000000000000000000000000000000"),
                        "ERROR(hexadecimal constant requires more than 128 bits@0)");
    assert_string_equal(lex_all("1.2.3"), "ERROR(invalid numeric constant@0)");
    assert_string_equal(lex_all("ab:cd"), "ERROR(invalid numeric constant@0)");
    assert_string_equal(lex_all("10.0.0.0/33"),
                        "ERROR(value and mask have incompatible formats@0)");
    assert_string_equal(lex_all("10.0.0.0/0x12"),
                        "ERROR(value and mask have incompatible formats@0)");
    assert_string_equal(lex_all("1/0x"), "ERROR(hex digits expected after 0x@0)");
    assert_string_equal(lex_all("$"),
                        "ERROR(`$' must be followed by a valid identifier@0)");
    assert_string_equal(lex_all("@1"),
                        "ERROR(`@' must be followed by a valid identifier@0)");
    assert_string_equal(lex_all("a.b .c"),
                        "ID(a.b) ERROR(`.' is only valid as part of `..' or a number@4)");
    assert_string_equal(lex_all("x # y"),
                        "ID(x) ERROR(invalid character `#' in input@2)");
    assert_string_equal(lex_all("x \x01"), "ID(x) ERROR(invalid byte 0x01 in input@2)");
}

static void
test_lex_positions(void **state)
{
    (void)state;
    struct lexer lexer;
    lexer_init(&lexer, "  ip4 &&\ttcp.dst");
    assert_int_equal(lexer_get(&lexer), LEX_T_ID);
    assert_int_equal(lexer.token.start, 2);
    assert_int_equal(lexer.token.end, 5);
    assert_int_equal(lexer_lookahead(&lexer), LEX_T_LOG_AND);
    assert_true(lexer_match(&lexer, LEX_T_ID));
    assert_int_equal(lexer.token.start, 6);
    assert_false(lexer_match_id(&lexer, "tcp.dst"));
    assert_true(lexer_match(&lexer, LEX_T_LOG_AND));
    assert_true(lexer_match_id(&lexer, "tcp.dst"));
    assert_int_equal(lexer.token.type, LEX_T_END);
    assert_int_equal(lexer_get(&lexer), LEX_T_END);
    lexer_destroy(&lexer);
    lexer_destroy(NULL);
}

static void
test_lex_value_format(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(lex_value_format(0xa000001, LEX_F_IPV4, buf, sizeof buf),
                        "10.0.0.1");
    assert_string_equal(lex_value_format(17, LEX_F_DECIMAL, buf, sizeof buf), "17");
    assert_string_equal(lex_value_format(0x800, LEX_F_HEXADECIMAL, buf, sizeof buf),
                        "0x800");
    assert_string_equal(lex_value_format(0x1, LEX_F_ETHERNET, buf, sizeof buf),
                        "00:00:00:00:00:01");
    assert_string_equal(
        lex_value_format((lex_u128)0xfe80 << 112 | 1, LEX_F_IPV6, buf, sizeof buf),
        "fe80::1");
    /* Too wide for the format: hexadecimal. */
    assert_string_equal(lex_value_format((lex_u128)1 << 40, LEX_F_IPV4, buf, sizeof buf),
                        "0x10000000000");
    assert_string_equal(
        lex_masked_value_format(0xa000000, 0xffffff00, LEX_F_IPV4, buf, sizeof buf),
        "10.0.0.0/24");
    assert_string_equal(
        lex_masked_value_format(0xa000000, 0xff00ff00, LEX_F_IPV4, buf, sizeof buf),
        "10.0.0.0/255.0.255.0");
    assert_string_equal(
        lex_masked_value_format(0x10, 0xf0, LEX_F_HEXADECIMAL, buf, sizeof buf),
        "0x10/0xf0");

    assert_int_equal(lex_u128_width(0), 0);
    assert_int_equal(lex_u128_width(1), 1);
    assert_int_equal(lex_u128_width((lex_u128)1 << 127), 128);
    assert_true(lex_u128_bits(0, 128) == ~(lex_u128)0);
    assert_true(lex_u128_bits(4, 4) == 0xf0);
    assert_true(lex_u128_bits(3, 0) == 0);
    assert_int_equal(lex_u128_prefix_len(0xffffff00, 32), 24);
    assert_int_equal(lex_u128_prefix_len(0, 32), 0);
    assert_int_equal(lex_u128_prefix_len(0xff00ff00, 32), -1);
    assert_int_equal(lex_u128_prefix_len((lex_u128)1 << 32, 32), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lex_punctuation),  cmocka_unit_test(test_lex_identifiers),
        cmocka_unit_test(test_lex_integers),     cmocka_unit_test(test_lex_masks),
        cmocka_unit_test(test_lex_strings),      cmocka_unit_test(test_lex_comments),
        cmocka_unit_test(test_lex_errors),       cmocka_unit_test(test_lex_positions),
        cmocka_unit_test(test_lex_value_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
