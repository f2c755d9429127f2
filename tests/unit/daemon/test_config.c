/* Unit tests for dpu/daemon/config: the configuration file parsed from a buffer
 * (BOM, NUL bytes, duplicate keys, every key's checks and the checks across keys, with
 * the FILE:LINE of the key at fault) and the command line (keys named "--KEY"). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpu/controller/binding.h"
#include "dpu/daemon/config.h"
#include "shared/util/util.h"

#define BASE                           \
    "system-id = hv1\n"                \
    "sb-remote = tcp:127.0.0.1:6642\n" \
    "encap-ip = 192.0.2.10\n"

/* Parses 'text' (of 'len' bytes) as the file "t.conf" and finishes the
 * configuration; returns the result with the message in 'errbuf'. */
static int
parse_len(struct dpud_config *c, const char *text, size_t len, char *errbuf,
          size_t errlen)
{
    int error;

    memset(c, 0, sizeof *c);
    errbuf[0] = '\0';
    error = dpud_config_parse_text(c, "t.conf", text, len, errbuf, errlen);
    if (!error) {
        error = dpud_config_finish(c, errbuf, errlen);
    }
    if (error) {
        assert_true(errbuf[0]);
        assert_null(strchr(errbuf, '\n'));
    }
    return error;
}

static void
expect_ok(const char *text)
{
    struct dpud_config c;
    char errbuf[512];

    if (parse_len(&c, text, strlen(text), errbuf, sizeof errbuf)) {
        fail_msg("'%s': %s", text, errbuf);
    }
    dpud_config_destroy(&c);
}

/* 'text' after the required keys parses. */
static void
expect_ok_keys(const char *text)
{
    char buf[1024];

    snprintf(buf, sizeof buf, "%s%s", BASE, text);
    expect_ok(buf);
}

static void
expect_error_len(const char *text, size_t len, const char *message)
{
    struct dpud_config c;
    char errbuf[512];
    int error = parse_len(&c, text, len, errbuf, sizeof errbuf);

    print_message("  -> %s\n", errbuf);
    if (error != -EINVAL || !strstr(errbuf, message)) {
        fail_msg("got %d '%s', want -EINVAL and '%s'", error, errbuf, message);
    }
    dpud_config_destroy(&c);
}

static void
expect_error(const char *text, const char *message)
{
    expect_error_len(text, strlen(text), message);
}

static void
test_valid(void **state)
{
    struct dpud_config c;
    char errbuf[512];
    const char text[] = "# comment\n"
                        "system-id = dpu1   # trailing comment\n"
                        "sb-remote = tcp:10.0.0.1:6642 , tcp:[2001:db8::2]:6642\n"
                        "encap-ip = 192.0.2.10, 2001:db8::10\n"
                        "bridge-mappings = phys : p0 , other:p1\n"
                        "representors = 0C:42:A1:00:00:01/1=pf0vf1, "
                        "0c:42:a1:00:00:01/2=pf0vf2\n"
                        "encap-prefix-len = 28\n"
                        "underlay-gateway = 192.0.2.1\n"
                        "idle-min-us = 2000\n"
                        "\r\n";

    (void)state;
    assert_int_equal(parse_len(&c, text, strlen(text), errbuf, sizeof errbuf), 0);
    assert_string_equal(c.system_id, "dpu1");
    assert_int_equal(c.n_encap_ips, 2);
    assert_string_equal(c.encap_ips[1], "2001:db8::10");
    /* Published as written, without the spaces around the elements. */
    assert_string_equal(c.bridge_mappings, "phys:p0,other:p1");
    assert_int_equal(c.n_representors, 2);
    assert_string_equal(c.representors[0].pf_mac, "0c:42:a1:00:00:01");
    assert_string_equal(c.representors[1].name, "pf0vf2");
    assert_non_null(c.hostname);
    assert_string_equal(c.rundir, "/var/run/ovnic");
    dpud_config_destroy(&c);

    /* The idle back-off's first sleep may equal the longest (2000 by default). */
    expect_ok(BASE "idle-max-us = 20\nidle-min-us = 20\n");
    expect_ok(BASE "encap-prefix-len = 32\n");
    expect_ok("system-id = a\nsb-remote = unix:/x\nencap-ip = 2001:db8::1\n"
              "encap-prefix-len = 128\nunderlay-mtu = 1280\n");
    expect_ok(BASE "bridge-mappings =\nrepresentors = \n");
}

/* A leading UTF-8 byte order mark is skipped; anywhere else it is not a key. */
static void
test_bom(void **state)
{
    (void)state;
    expect_ok("\xef\xbb\xbf" BASE);
    expect_error("\xef\xbb\xbf\xef\xbb\xbf" BASE,
                 "t.conf:1: unknown key '\\xef\\xbb\\xbfsystem-id'");
    expect_error(BASE "\xef\xbb\xbfhostname = x\n",
                 "t.conf:4: unknown key '\\xef\\xbb\\xbfhostname'");
}

static void
test_nul(void **state)
{
    static const char text[] = "system-id = hv1\nsb-remote = unix:/x\x00yz\nencap-ip = "
                               "192.0.2.1\n";

    (void)state;
    expect_error_len(text, sizeof text - 1, "t.conf:2: NUL byte at byte 20 of the line");
    /* After the last line too. */
    expect_error_len(BASE "\0", sizeof BASE, "t.conf:4: NUL byte at byte 1 of the line");
}

static void
test_duplicate_key(void **state)
{
    (void)state;
    expect_error(BASE "# again\nsystem-id = hv2\n",
                 "t.conf:5: system-id: given twice (first at line 1)");
    expect_error(BASE "encap-ip = 192.0.2.11\n",
                 "t.conf:4: encap-ip: given twice (first at line 3)");
}

static void
test_lines(void **state)
{
    (void)state;
    expect_error(BASE "just words\n", "t.conf:4: expected 'key = value'");
    expect_error(BASE " = value\n", "t.conf:4: expected 'key = value' (no key before");
    expect_error(BASE "colour = blue\n", "t.conf:4: unknown key 'colour'");
    expect_error(BASE "cms-options = a\x01z\n",
                 "t.conf:4: cms-options: the value has a control character 0x01");
    expect_error(BASE "hostname = h\xff\n",
                 "t.conf:4: hostname: the value has invalid UTF-8 at byte 2");
    expect_error(BASE "hostname = \xed\xa0\x80\n", "invalid UTF-8 at byte 1");
    expect_ok(BASE "hostname = h\xc3\xa9te\n");
}

static void
test_remotes(void **state)
{
    (void)state;
    expect_error("sb-remote = tcp:1.2.3.4\n",
                 "t.conf:1: sb-remote: 'tcp:1.2.3.4': missing ':PORT' after the address");
    expect_error("sb-remote = tcp:1.2.3.4:99999\n",
                 "t.conf:1: sb-remote: 'tcp:1.2.3.4:99999': port 99999 is out of range "
                 "(1 to 65535)");
    expect_error("sb-remote = tcp:localhost:6642\n",
                 "t.conf:1: sb-remote: 'tcp:localhost:6642': 'localhost' is not an IP "
                 "address");
    expect_error("sb-remote = udp:1.2.3.4:1\n", "unknown method 'udp'");
    expect_error("sb-remote = tcp:1.2.3.4:1,\n", "empty remote at position 2");
    expect_error("sb-remote =\n", "t.conf:1: sb-remote: empty remote at position 1");
    expect_error("system-id = a\nencap-ip = 192.0.2.1\nsb-remote = ssl:1.2.3.4:1\n",
                 "t.conf:3: sb-remote: an ssl: remote needs ca-cert, certificate and "
                 "private-key");
    expect_error("system-id = a\nencap-ip = 192.0.2.1\nsb-remote = ssl:1.2.3.4:1\n"
                 "ca-cert = /nonexistent/ca.pem\ncertificate = /x\nprivate-key = /y\n",
                 "t.conf:4: ca-cert: cannot read '/nonexistent/ca.pem'");
    /* "ssl:" in a unix path is not an ssl: remote. */
    expect_ok("system-id = a\nencap-ip = 192.0.2.1\nsb-remote = unix:/tmp/ssl:x\n");
}

static void
test_keys(void **state)
{
    (void)state;
    expect_error(
        "encap-ip = 192.0.2.1,,192.0.2.2\n",
        "t.conf:1: encap-ip: empty element (number 2) in '192.0.2.1,,192.0.2.2'");
    expect_error("encap-ip = 192.0.2.1,\n", "encap-ip: empty element (number 2)");
    expect_error("encap-ip =\n", "t.conf:1: encap-ip: empty");
    expect_error("encap-ip = 0.0.0.0\n", "'0.0.0.0' is the unspecified address");
    expect_error("encap-ip = 255.255.255.255\n", "is the broadcast address");
    expect_error("encap-ip = ff02::1\n", "'ff02::1' is a multicast address");
    expect_error("encap-ip = 192.0.2.1, 192.0.2.1\n", "'192.0.2.1' given twice");
    expect_error("encap-ip = 2001:db8::1, 2001:DB8:0::1\n", "given twice");
    expect_error("underlay-gateway = zz\n",
                 "t.conf:1: underlay-gateway: 'zz' is not an IP address");
    expect_error("encap-prefix-len = 129\n", "is not a number from 1 to 128");
    expect_error("underlay-mtu = 9217\n", "'9217' is not a number from 576 to 9216");
    expect_error("idle-min-us = +5\n", "'+5' is not a number");
    expect_error("n-mbufs = 1024 \x01\n", "control character");
    expect_error("uplink-mac = 01:00:5e:00:00:01\n", "is not a unicast MAC");
    expect_error("uplink-mac = 00:00:00:00:00:00\n", "is not a unicast MAC");
    expect_error("hostname =\n", "t.conf:1: hostname: empty");
    expect_error("log-file =\n", "t.conf:1: log-file: empty");
    expect_error("ca-cert =\n", "t.conf:1: ca-cert: empty");
    expect_error("log = info,dpud:loud\n", "t.conf:1: log: bad specification");
    expect_error("log = :dbg\n", "log: bad specification");
    expect_error("dpdk-args =  \n", "t.conf:1: dpdk-args: empty");
    char args[200] = "dpdk-args =";
    for (int i = 0; i < 48; i++) {
        strcat(args, " a");
    }
    expect_error(args, "t.conf:1: dpdk-args: 48 arguments, at most 47");
    args[strlen(args) - 2] = '\0';
    expect_ok_keys(args);
    expect_error("memif-dir = /a,b\n", "memif-dir: '/a,b' has a ','");
    expect_error("memif-dir = /012345678901234567890123456789012345678901234567\n",
                 "memif-dir: 49 bytes, at most 48");
    expect_ok(BASE "memif-dir = /01234567890123456789012345678901234567890123456\n");
    expect_error("uplink-devargs =\n", "uplink-devargs: empty");
    expect_error("representor-devargs = x\n", "representor-devargs: 'x' has no {name}");
    expect_error("bridge-mappings = physnet:p0,,x:p1\n",
                 "bridge-mappings: empty element (number 2)");
    expect_error("bridge-mappings = physnet:p0, physnet:p1\n",
                 "t.conf:1: bridge-mappings: physnet 'physnet' is mapped twice (to 'p0' "
                 "and to 'p1')");
    expect_error("bridge-mappings = a:b:c\n", "bad entry 'a:b:c'");
    expect_ok(BASE "bridge-mappings = a:p0, b:p0\n");
    expect_error("system-id = a b\n", "t.conf:1: system-id: 'a b' must be");
    char big[400];
    snprintf(big, sizeof big, "system-id = %0300d\n", 0);
    expect_error(big, "t.conf:1: system-id: 300 bytes, at most 255");
    expect_error("probe-interval = 999\n", "probe-interval: '999' is not 0 or");
    expect_error("datapath = ovs\n", "datapath: 'ovs' is not 'none' or 'dpdk'");
    expect_error("encap-csum = maybe\n", "encap-csum: 'maybe' is not a boolean");
    expect_error("rundir =\n", "rundir: empty");
}

/* The representor table: PF/VF and names checked, each PF/VF and each name once. */
static void
test_representors(void **state)
{
    (void)state;
    expect_error("representors = 0c:42:a1:00:00:01/1=pf0vf1, 0C:42:A1:00:00:01/1=x\n",
                 "t.conf:1: representors: PF 0c:42:a1:00:00:01 VF 1 is mapped twice (to "
                 "'pf0vf1' and to 'x')");
    expect_error(
        "representors = 0c:42:a1:00:00:01/1=pf0vf1, 0c:42:a1:00:00:02/1=pf0vf1\n",
        "t.conf:1: representors: representor 'pf0vf1' is given twice");
    expect_error("representors = 0c:42:a1:00:00:01/1=a,,0c:42:a1:00:00:01/2=b\n",
                 "representors: empty element (number 2)");
    expect_error("representors = 0c:42:a1:00:00:01/1=../../../../tmp/x\n",
                 "representors: bad representor name ('/' after '..'");
    expect_error("representors = 0c:42:a1:00:00:01/1=q,zero-copy=yes\n",
                 "'zero-copy=yes' is not PF-MAC/VF-NUM=NAME");
    expect_error("representors = 0c:42:a1:00:00:01/1=-x\n", "'-x' starts with '-'");
    expect_error("representors = 0c:42:a1:00:00:01/1=.x\n", "'.x' starts with '.'");
    expect_error("representors = 0c:42:a1:00:00:01/1=a:b\n", "':' after 'a'");
    expect_error("representors = 0c:42:a1:00:00:01/1=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaaaa\n",
                 "representor name too long");
    expect_ok(BASE "representors = 0c:42:a1:00:00:01/1=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaa\n");
    expect_error("representors = 0c:42:a1:00:00:01/65536=a\n",
                 "bad VF number '65536' (a number from 0 to 65535)");
    expect_error("representors = 0c:42:a1:00:00:01/-1=a\n", "bad VF number '-1'");
    expect_error("representors = 0c:42/1=a\n", "bad PF MAC '0c:42'");
}

/* The checks across keys name each key where it was given. */
static void
test_cross_keys(void **state)
{
    (void)state;
    expect_error(BASE "encap-prefix-len = 33\n",
                 "t.conf:4: encap-prefix-len: 33 is longer than an IPv4 address (at most "
                 "32): the first address of encap-ip (t.conf:3), 192.0.2.10, is IPv4");
    expect_error(BASE "underlay-gateway = 2001:db8::1\n",
                 "t.conf:4: underlay-gateway: '2001:db8::1' is an IPv6 address, but the "
                 "first address of encap-ip (t.conf:3), 192.0.2.10, is IPv4");
    expect_error(BASE "underlay-gateway = 192.0.3.1\n",
                 "t.conf:4: underlay-gateway: '192.0.3.1' is not on the uplink's subnet "
                 "192.0.2.10/24 (the first address of encap-ip (t.conf:3), prefix length "
                 "from encap-prefix-len (default))");
    expect_error(BASE "encap-prefix-len = 30\nunderlay-gateway = 192.0.2.1\n",
                 "prefix length from encap-prefix-len (t.conf:4)");
    expect_error(BASE "underlay-gateway = 192.0.2.10\n",
                 "'192.0.2.10' is this chassis's own encap IP");
    expect_error(BASE "underlay-gateway = 224.0.0.1\n", "is a multicast address");
    expect_error("system-id = a\nsb-remote = unix:/x\nencap-ip = 2001:db8::1\n"
                 "underlay-mtu = 1000\n",
                 "t.conf:4: underlay-mtu: 1000 is below IPv6's minimum MTU (1280)");
    expect_error(BASE "idle-min-us = 500\nidle-max-us = 100\n",
                 "t.conf:4: idle-min-us: 500 is longer than idle-max-us (t.conf:5), 100");
    expect_error(BASE "idle-max-us = 10\n",
                 "t.conf:4: idle-max-us: 10 is shorter than idle-min-us (default), 20");
    expect_error(
        BASE "idle-min-us = 2001\n",
        "t.conf:4: idle-min-us: 2001 is longer than idle-max-us (default), 2000");
    expect_error(BASE "datapath = dpdk\n", "datapath = dpdk needs an uplink");
    expect_error("sb-remote = unix:/x\nencap-ip = 192.0.2.1\n", "system-id is required");
    expect_error("system-id = a\nencap-ip = 192.0.2.1\n", "sb-remote is required");
    expect_error("system-id = a\nsb-remote = unix:/x\n", "encap-ip is required");
}

/* On the command line, a key is named --KEY; a file's key keeps its FILE:LINE even
 * when a check involves a key of the command line. */
static void
test_command_line(void **state)
{
    char path[] = "/tmp/ovnic-test-config-XXXXXX";
    char config_arg[64];
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "system-id = hv1\nencap-ip = 192.0.2.10\n", 38), 38);
    close(fd);
    snprintf(config_arg, sizeof config_arg, "--config=%s", path);

    static const struct {
        const char *args[4];
        const char *message;
    } cases[] = {
        {{"--sb-remote=tcp:1.2.3.4"},
         "--sb-remote: 'tcp:1.2.3.4': missing ':PORT' after the address"},
        {{"--sb-remote", "tcp:127.0.0.1:1", "--encap-prefix-len=33"},
         "--encap-prefix-len: 33 is longer than an IPv4 address (at most 32): the first "
         "address of encap-ip ("},
        {{"--sb-remote=unix:/x", "--encap-ip=2001:db8::1", "--encap-prefix-len=33",
          "--underlay-gateway=2001:db9::1"},
         "--underlay-gateway: '2001:db9::1' is not on the uplink's subnet "
         "2001:db8::1/33 (the first address of --encap-ip, prefix length from "
         "--encap-prefix-len)"},
        {{"--sb-remote=unix:/x", "--idle-min-us=30", "--idle-max-us=29"},
         "--idle-min-us: 30 is longer than --idle-max-us, 29"},
        {{"--sb-remote=unix:/x", "--encap-ip=192.0.2.1,"},
         "--encap-ip: empty element (number 2)"},
        {{"--sb-remote=unix:/x", "--representors=0c:42:a1:00:00:01/1=../x"},
         "--representors: bad representor name"},
        {{"--sb-remote=unix:/x", "--system-id", "--detach"},
         "option '--system-id' needs a value"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *argv[8] = {"ovnic-dpud", config_arg};
        int argc = 2;
        struct dpud_config c = {0};
        char errbuf[512] = "";

        for (size_t j = 0; j < ARRAY_SIZE(cases[i].args) && cases[i].args[j]; j++) {
            argv[argc++] = (char *)cases[i].args[j];
        }
        assert_int_equal(dpud_config_parse(&c, argc, argv, errbuf, sizeof errbuf),
                         DPUD_CONFIG_INVALID);
        print_message("  -> %s\n", errbuf);
        if (!strstr(errbuf, cases[i].message)) {
            fail_msg("case %zu: '%s' lacks '%s'", i, errbuf, cases[i].message);
        }
        dpud_config_destroy(&c);
    }

    /* The file's key is named with its line. */
    char *argv[] = {"ovnic-dpud", config_arg, "--sb-remote=unix:/x",
                    "--underlay-gateway=192.0.3.1", NULL};
    struct dpud_config c = {0};
    char errbuf[512];
    char want[128];
    assert_int_equal(dpud_config_parse(&c, 4, argv, errbuf, sizeof errbuf),
                     DPUD_CONFIG_INVALID);
    snprintf(want, sizeof want, "encap-ip (%s:2)", path);
    assert_non_null(strstr(errbuf, "--underlay-gateway: '192.0.3.1' is not on"));
    assert_non_null(strstr(errbuf, want));
    dpud_config_destroy(&c);

    /* The command line overrides the file, key by key. */
    char *ok_argv[] = {"ovnic-dpud", config_arg, "--sb-remote=unix:/x",
                       "--encap-ip=192.0.2.99", NULL};
    struct dpud_config ok = {0};
    assert_int_equal(dpud_config_parse(&ok, 4, ok_argv, errbuf, sizeof errbuf),
                     DPUD_CONFIG_OK);
    assert_string_equal(ok.encap_ips[0], "192.0.2.99");
    assert_true(ok.encap_csum);
    dpud_config_destroy(&ok);
    unlink(path);
}

/* The name rule, and what the devargs made from a name hold. */
static void
test_representor_names(void **state)
{
    static const char *const good[] = {"pf0vf0", "p0", "a", "vm_1.eth-0", "0abc", "A.."};
    static const char *const bad[] = {
        "",    ".",   "..",   "../x", "-x",       ".hidden", "q,zero-copy=yes",
        "a b", "a/b", "a\\b", "a\nb", "\xc3\xa9", "a=b",     "a{name}"};
    struct dpud_config c = {0};
    char errbuf[512];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(binding_representor_name_check(good[i], NULL), 0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ovnic_err err = {0};
        assert_int_equal(binding_representor_name_check(bad[i], &err), -EINVAL);
        assert_non_null(strstr(err.detail, "a name is 1 to 53 bytes of letters, digits"));
        assert_null(strchr(err.detail, '\n'));
    }
    char name[BINDING_REPRESENTOR_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(binding_representor_name_check(name, NULL), -EINVAL);
    name[BINDING_REPRESENTOR_NAME_MAX] = '\0';
    assert_int_equal(binding_representor_name_check(name, NULL), 0);
    char *huge = malloc(1000001);
    assert_non_null(huge);
    memset(huge, 'x', 1000000);
    huge[1000000] = '\0';
    struct ovnic_err err = {0};
    assert_int_equal(binding_representor_name_check(huge, &err), -EINVAL);
    assert_non_null(strstr(err.detail, "has 1000000 bytes"));
    free(huge);

    static const char text[] = BASE "memif-dir = /run/m\n"
                                    "representor-devargs = net_x,iface={name}\n";
    assert_int_equal(parse_len(&c, text, sizeof text - 1, errbuf, sizeof errbuf), 0);
    char *d = dpud_config_representor_devargs(&c, "pf0vf1");
    assert_string_equal(d, "net_x,iface=pf0vf1");
    free(d);
    free(c.representor_devargs);
    c.representor_devargs = NULL;
    d = dpud_config_representor_devargs(&c, name);
    assert_non_null(d);
    /* memif-dir gives the socket of the longest name too. */
    assert_non_null(strstr(d, "socket=/run/m/nnnn"));
    free(d);
    assert_null(dpud_config_representor_devargs(&c, "../x"));
    assert_null(dpud_config_representor_devargs(&c, "q,zero-copy=yes"));
    dpud_config_destroy(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_remotes),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_representors),
        cmocka_unit_test(test_cross_keys),
        cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_representor_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
