/* ovnic integration: the OVSDB client session against a real 3-member RAFT SB
 * cluster.  The member the client is connected to is killed: the client must move to
 * another member within 3 s and resume from where it was (monitor_cond_since with
 * found=true), not resynchronise from scratch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpu/ovsdb/cs.h"
#include "ithelp.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

#define SB_DB "OVN_Southbound"
#define N_MEMBERS 3
#define WAIT_MS 15000
#define FAILOVER_MAX_MS 3000

struct sb_cluster {
    char *dir;
    char *remotes;           /* All members, comma-separated. */
    char *member[N_MEMBERS]; /* tcp:127.0.0.1:PORT of each member. */
};

static struct sb_cluster sbc;

static int
group_setup(void **state OVNIC_UNUSED)
{
    char *copy, *item, *save = NULL;
    int i = 0;

    sbc.dir = it_tmpdir_create();
    if (!sbc.dir) {
        return -1;
    }
    sbc.remotes = it_central("start-sb '%s' --cluster %d", sbc.dir, N_MEMBERS);
    if (!sbc.remotes) {
        return -1;
    }
    copy = strdup(sbc.remotes);
    for (item = strtok_r(copy, ",", &save); item && i < N_MEMBERS;
         item = strtok_r(NULL, ",", &save)) {
        sbc.member[i++] = strdup(item);
    }
    free(copy);
    return i == N_MEMBERS ? 0 : -1;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    int i;

    it_tmpdir_remove(sbc.dir);
    free(sbc.dir);
    free(sbc.remotes);
    for (i = 0; i < N_MEMBERS; i++) {
        free(sbc.member[i]);
    }
    return 0;
}

static void
client_start(struct it_fixture *fx, bool leader_only)
{
    struct ovsdb_cs_config cfg = it_cs_config(sbc.remotes, SB_DB);

    cfg.leader_only = leader_only;
    assert_int_equal(it_fixture_client_start(fx, &cfg, WAIT_MS), 0);
}

/* Index of the member 'remote' names, or -1. */
static int
member_index(const char *remote)
{
    int i;

    for (i = 0; remote && i < N_MEMBERS; i++) {
        if (!strcmp(remote, sbc.member[i])) {
            return i;
        }
    }
    return -1;
}

/* The remotes of every member except 'skip' (-1: none), comma-separated. */
static char *
live_remotes(int skip)
{
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    bool first = true;
    int i;

    assert_non_null(f);
    for (i = 0; i < N_MEMBERS; i++) {
        if (i != skip) {
            fprintf(f, "%s%s", first ? "" : ",", sbc.member[i]);
            first = false;
        }
    }
    fclose(f);
    return list;
}

/* The RAFT role ("leader", "follower"...) of member 'i'. */
static char *
member_role(int i)
{
    char *out = NULL, *role;
    size_t len;

    if (it_run(&out,
               "ovs-appctl -t '%s/sb%d.ctl' cluster/status " SB_DB
               " | sed -n 's/^Role: //p'",
               sbc.dir, i + 1)) {
        free(out);
        return strdup("unknown");
    }
    len = strlen(out);
    while (len && out[len - 1] == '\n') {
        out[--len] = '\0';
    }
    role = out;
    return role;
}

/* Waits until one of the members other than 'skip' (-1: none) is the leader, and
 * returns its index. */
static int
wait_leader(int skip)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    int i;

    do {
        for (i = 0; i < N_MEMBERS; i++) {
            if (i != skip) {
                char *role = member_role(i);
                bool leader = !strcmp(role, "leader");

                free(role);
                if (leader) {
                    return i;
                }
            }
        }
        usleep(100000);
    } while (time_msec() < deadline);
    fail_msg("no leader was elected");
    return -1;
}

/* ovn-sbctl gives up when the first member it tries refuses the connection or has
 * no leader to point to, so 'db' must list live members only, and a write right
 * after an election may need another try. */
static void
sbctl_run(const char *db, const char *args)
{
    uint64_t deadline = time_msec() + WAIT_MS;
    char *out;

    while (!(out = it_sbctl(db, "%s", args))) {
        assert_true(time_msec() < deadline);
        usleep(250000);
    }
    free(out);
}

static void
write_batch(const char *db, int round)
{
    char *cmd = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&cmd, &len);
    int i;

    assert_non_null(f);
    fprintf(f,
            "-- chassis-add hv-r%d geneve 10.10.%d.1"
            " -- --id=@dp create Datapath_Binding tunnel_key=%d external_ids:round=%d"
            " -- create Port_Binding logical_port=lp-r%d datapath=@dp tunnel_key=1"
            " 'mac=\"00:00:00:00:%02x:01 10.20.%d.1\"' options:round=%d",
            round, round, 1000 + round, round, round, round, round, round);
    for (i = 0; i < 25; i++) {
        fprintf(
            f,
            " -- create Logical_Flow logical_datapath=@dp pipeline=ingress table_id=%d"
            " priority=%d 'match=\"reg0 == %d\"' 'actions=\"next;\"'",
            i % 10, i, i);
    }
    fclose(f);
    sbctl_run(db, cmd);
    free(cmd);
}

struct failover_wait {
    struct ovsdb_cs *cs;
    const char *old_remote;
    uint64_t syncs_before;
};

static bool
failed_over(void *aux)
{
    struct failover_wait *w = aux;
    struct ovsdb_cs_stats stats;
    const char *remote = ovsdb_cs_remote(w->cs);

    if (!ovsdb_cs_is_synced(w->cs) || !remote || !strcmp(remote, w->old_remote)) {
        return false;
    }
    ovsdb_cs_get_stats(w->cs, &stats);
    return stats.full_syncs + stats.resumed_syncs > w->syncs_before;
}

/* Remotes of every member, starting with member 'first'. */
static char *
remotes_starting_with(int first)
{
    char *list = NULL;
    int i;

    assert_true(asprintf(&list, "%s,%s,%s", sbc.member[first],
                         sbc.member[(first + 1) % N_MEMBERS],
                         sbc.member[(first + 2) % N_MEMBERS]) > 0);
    for (i = 0; i < N_MEMBERS; i++) {
        assert_non_null(strstr(list, sbc.member[i]));
    }
    return list;
}

static int next_round = 1;

/* Connects a client to the cluster through 'remotes' (in that order), kills the
 * member it is connected to, and checks that the client resumes on another member
 * quickly, without a full resync, and keeps following writes. */
static void
failover_check(struct it_fixture *fx, const char *remotes)
{
    struct ovsdb_cs_config cfg = it_cs_config(remotes, SB_DB);
    struct ovsdb_cs_stats before, after;
    struct failover_wait w;
    char *old_remote, *role, *live, *pidfile = NULL;
    uint64_t t0, elapsed;
    size_t flows;
    json_t *dump;
    pid_t pid;
    int victim, now;

    assert_int_equal(it_fixture_client_start(fx, &cfg, WAIT_MS), 0);
    wait_leader(-1);
    write_batch(sbc.remotes, next_round++);
    dump = it_wait_replica_matches_server(fx->loop, fx->cs, sbc.member[0],
                                          "--no-leader-only", WAIT_MS);
    assert_non_null(dump);
    flows = it_db_count(dump, "Logical_Flow");
    assert_true(flows >= 25);
    json_decref(dump);

    victim = member_index(ovsdb_cs_remote(fx->cs));
    assert_true(victim >= 0);
    old_remote = strdup(sbc.member[victim]);
    role = member_role(victim);
    ovsdb_cs_get_stats(fx->cs, &before);
    assert_int_equal(before.full_syncs, 1);
    assert_int_equal(before.monitor_version, 3);

    assert_true(asprintf(&pidfile, "%s/sb%d.pid", sbc.dir, victim + 1) > 0);
    pid = it_pidfile_read(pidfile);
    assert_true(pid > 0);
    t0 = time_msec();
    assert_int_equal(it_proc_kill(pid, IT_SIG_KILL), 0);

    w.cs = fx->cs;
    w.old_remote = old_remote;
    w.syncs_before = before.full_syncs + before.resumed_syncs;
    assert_true(it_loop_until(fx->loop, failed_over, &w, WAIT_MS));
    elapsed = time_msec() - t0;
    now = member_index(ovsdb_cs_remote(fx->cs));
    printf("failover: killed member %d (%s, %s); the client resumed on member %d (%s)"
           " after %llu ms\n",
           victim + 1, old_remote, role, now + 1, ovsdb_cs_remote(fx->cs),
           (unsigned long long)elapsed);
    assert_true(now >= 0 && now != victim);
    assert_true(elapsed <= FAILOVER_MAX_MS);

    ovsdb_cs_get_stats(fx->cs, &after);
    assert_int_equal(after.full_syncs, before.full_syncs);
    assert_int_equal(after.resumed_syncs, before.resumed_syncs + 1);

    /* Writes through the remaining members reach the client. */
    printf("member %d is the leader now\n", wait_leader(victim) + 1);
    live = live_remotes(victim);
    write_batch(live, next_round++);
    dump = it_wait_replica_matches_server(fx->loop, fx->cs, sbc.member[now],
                                          "--no-leader-only", WAIT_MS);
    assert_non_null(dump);
    assert_int_equal(it_db_count(dump, "Logical_Flow"), flows + 25);
    json_decref(dump);

    /* The killed member comes back and catches up; the client is not disturbed. */
    free(it_central("start-member '%s' %d", sbc.dir, victim + 1));
    wait_leader(-1);
    write_batch(sbc.remotes, next_round++);
    dump = it_wait_replica_matches_server(fx->loop, fx->cs, sbc.member[victim],
                                          "--no-leader-only", WAIT_MS);
    assert_non_null(dump);
    assert_int_equal(it_db_count(dump, "Logical_Flow"), flows + 50);
    json_decref(dump);
    ovsdb_cs_get_stats(fx->cs, &before);
    assert_int_equal(before.full_syncs, after.full_syncs);
    assert_int_equal(before.connects, after.connects);
    assert_int_equal(before.errors, 0);

    free(pidfile);
    free(live);
    free(role);
    free(old_remote);
}

/* The client starts on the leader, which is killed: a new leader is elected while
 * the client moves to a follower. */
static void
test_failover_from_leader(void **state)
{
    char *remotes = remotes_starting_with(wait_leader(-1));

    failover_check(*state, remotes);
    free(remotes);
}

/* The client starts on a follower, which is killed. */
static void
test_failover_from_follower(void **state)
{
    char *remotes = remotes_starting_with((wait_leader(-1) + 1) % N_MEMBERS);

    failover_check(*state, remotes);
    free(remotes);
}

/* A client that only accepts the leader ends up on the leader, skipping followers. */
static void
test_leader_only(void **state)
{
    struct it_fixture *fx = *state;
    struct ovsdb_cs_stats stats;
    char *role;
    int i;

    client_start(fx, true);
    i = member_index(ovsdb_cs_remote(fx->cs));
    assert_true(i >= 0);
    role = member_role(i);
    ovsdb_cs_get_stats(fx->cs, &stats);
    printf("leader-only client on member %d (%s) after %llu skipped members\n", i + 1,
           role, (unsigned long long)stats.member_skips);
    assert_string_equal(role, "leader");
    free(role);
}

/* A follower that is not the client's member goes away: nothing happens to the client;
 * the cluster keeps its quorum and the replica still follows writes. */
static void
test_other_member_down(void **state)
{
    struct it_fixture *fx = *state;
    struct ovsdb_cs_stats before, after;
    char *live;
    json_t *dump;
    int mine, other;

    client_start(fx, false);
    mine = member_index(ovsdb_cs_remote(fx->cs));
    assert_true(mine >= 0);
    other = (mine + 1) % N_MEMBERS;
    ovsdb_cs_get_stats(fx->cs, &before);
    free(it_central("kill-member '%s' %d --signal TERM", sbc.dir, other + 1));
    live = live_remotes(other);
    wait_leader(other);
    write_batch(live, next_round++);
    dump = it_wait_replica_matches_server(fx->loop, fx->cs, sbc.member[mine],
                                          "--no-leader-only", WAIT_MS);
    assert_non_null(dump);
    json_decref(dump);
    ovsdb_cs_get_stats(fx->cs, &after);
    assert_int_equal(after.connects, before.connects);
    assert_int_equal(after.full_syncs, before.full_syncs);
    free(it_central("start-member '%s' %d", sbc.dir, other + 1));
    free(live);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failover_from_leader, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failover_from_follower, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_leader_only, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_other_member_down, it_fixture_setup,
                                        it_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
