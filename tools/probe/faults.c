/*
 * faults.c - the faults the probe injects for the checks (WORKBOOK_FAULT), apart
 * from what it writes down (probe.c).  Each is described in probe.c's opening
 * comment; each leaves a "fault ..." line in the probe file when it fires.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "probe.h"

/* WORKBOOK_FAULT=refuse-partition:P: the partition to refuse, or -1. */
int32_t refused_partition(void)
{
    const char *f = getenv("WORKBOOK_FAULT");

    if (!f || strncmp(f, "refuse-partition:", 17))
        return -1;
    return (int32_t)atoi(f + 17);
}

/* Give partition P of the list metadata too large for the broker; returns
 * what to restore (the element, its metadata), or NULL. */
rd_kafka_topic_partition_t *oversize(const rd_kafka_topic_partition_list_t *l,
                                            int32_t p, void **saved, size_t *saved_size)
{
    static char big[5000];

    for (int i = 0; l && p >= 0 && i < l->cnt; i++)
        if (l->elems[i].partition == p) {
            rd_kafka_topic_partition_t *e = (rd_kafka_topic_partition_t *)&l->elems[i];
            memset(big, 'x', sizeof big);
            *saved = e->metadata;
            *saved_size = e->metadata_size;
            e->metadata = big;
            e->metadata_size = sizeof big;
            return e;
        }
    return NULL;
}

/* WORKBOOK_FAULT=blackout:N:MS: from the Nth commit call on, for MS ms,
 * the network is down for the program (until: epoch ms, 0 = never). */
static volatile int64_t blackout_until;
static int commit_calls;

void maybe_blackout(void)
{
    const char *f = getenv("WORKBOOK_FAULT");
    int n = 0, ms = 0;

    commit_calls++;
    if (!f || sscanf(f, "blackout:%d:%d", &n, &ms) != 2 || commit_calls != n)
        return;
    blackout_until = now_ms() + ms;
    emit("fault blackout begin=%" PRId64 " end=%" PRId64, now_ms(), blackout_until);
}

/* WORKBOOK_FAULT=refuse-commit:N: is the program's commit call it makes
 * now (counted over every commit function) the Nth?  Says so in the
 * probe file when it is. */
static int program_commits;

int refuse_this_commit(void)
{
    const char *f = getenv("WORKBOOK_FAULT");
    int n = 0;

    program_commits++;
    if (!f || sscanf(f, "refuse-commit:%d", &n) != 1 || program_commits != n)
        return 0;
    emit("fault refuse-commit call=%d at=%" PRId64, n, now_ms());
    return 1;
}

/* The offsets the program stored (rd_kafka_offsets_store/offset_store),
 * per partition, with the topic: what a commit of "what is stored" sends.
 * (-1: none.) */
static int64_t stored_at[MAX_PARTS];
static char stored_topic[256];
static int stored_init;

void note_stored(const char *topic, int32_t p, int64_t offset)
{
    if (!stored_init) {
        for (int i = 0; i < MAX_PARTS; i++)
            stored_at[i] = -1;
        stored_init = 1;
    }
    if (topic && p >= 0 && p < MAX_PARTS) {
        stored_at[p] = offset;
        snprintf(stored_topic, sizeof stored_topic, "%s", topic);
    }
}

/* The list a refused commit sends: OFFSETS (or, for "what is stored",
 * what the program stored, else the assignment at its positions, which is
 * what librdkafka's automatic store holds), every partition with metadata
 * too large for the broker.  The caller destroys it. */
rd_kafka_topic_partition_list_t *refused_list(rd_kafka_t *rk,
                                                     const rd_kafka_topic_partition_list_t *offsets)
{
    static char big[5000];
    rd_kafka_topic_partition_list_t *l = NULL;

    memset(big, 'x', sizeof big);
    if (offsets) {
        l = rd_kafka_topic_partition_list_copy(offsets);
    } else {
        for (int i = 0; stored_init && i < MAX_PARTS; i++)
            if (stored_at[i] >= 0) {
                if (!l)
                    l = rd_kafka_topic_partition_list_new(4);
                rd_kafka_topic_partition_list_add(l, stored_topic, i)->offset = stored_at[i];
            }
        if (!l && !rd_kafka_assignment(rk, &l) && l)
            rd_kafka_position(rk, l);
    }
    for (int i = 0; l && i < l->cnt; i++) {
        free(l->elems[i].metadata);
        l->elems[i].metadata = malloc(sizeof big);
        if (l->elems[i].metadata)
            memcpy(l->elems[i].metadata, big, sizeof big);
        l->elems[i].metadata_size = l->elems[i].metadata ? sizeof big : 0;
    }
    return l;
}

/* Is fd a TCP socket (IPv4 or IPv6) while the blackout lasts? Pipes and
 * librdkafka's own wake-up sockets are left alone. */
static int blacked_out(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;

    if (!blackout_until || now_ms() >= blackout_until)
        return 0;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    return sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    static ssize_t (*fn)(int, const struct msghdr *, int);

    if (!fn)
        fn = (ssize_t(*)(int, const struct msghdr *, int))real("sendmsg");

    if (blacked_out(fd)) {
        errno = ECONNRESET;
        return -1;
    }
    return fn(fd, msg, flags);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    static ssize_t (*fn)(int, struct msghdr *, int);

    if (!fn)
        fn = (ssize_t(*)(int, struct msghdr *, int))real("recvmsg");

    if (blacked_out(fd)) {
        errno = ECONNRESET;
        return -1;
    }
    return fn(fd, msg, flags);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*fn)(int, const struct sockaddr *, socklen_t);

    if (!fn)
        fn = (int (*)(int, const struct sockaddr *, socklen_t))real("connect");

    if (blackout_until && now_ms() < blackout_until && addr &&
        (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        errno = ECONNREFUSED;
        return -1;
    }
    return fn(fd, addr, len);
}

static volatile int64_t clock_shift_ms;  /* 0 until the jump */
static uintptr_t main_lo, main_hi;        /* the main executable's code */

static int find_main(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            uintptr_t lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            uintptr_t hi = lo + info->dlpi_phdr[i].p_memsz;
            if (!main_lo || lo < main_lo) main_lo = lo;
            if (hi > main_hi) main_hi = hi;
        }
    return 1; /* the first object is the program itself */
}

/* The shift for a wall-clock read made from CALLER (0 when none applies). */
static int64_t wall_shift(const void *caller)
{
    if (!clock_shift_ms)
        return 0;
    if (!main_hi)
        dl_iterate_phdr(find_main, NULL);
    return (uintptr_t)caller >= main_lo && (uintptr_t)caller < main_hi ? clock_shift_ms : 0;
}

/* Called as an assignment is applied: the jump, once, when it is due. */
void maybe_clock_jump(const rd_kafka_topic_partition_list_t *l)
{
    static int done;
    const char *f = getenv("WORKBOOK_FAULT");
    long long ms = 0;

    if (done || !l || l->cnt == 0 || !f || sscanf(f, "clock-jump:%lld", &ms) != 1 || !ms)
        return;
    done = 1;
    emit("fault clock-jump by=%lld at=%" PRId64, ms, now_ms());
    clock_shift_ms = ms;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*fn)(clockid_t, struct timespec *);
    int64_t shift;
    int rc;

    if (!fn)
        fn = (int (*)(clockid_t, struct timespec *))real("clock_gettime");
    rc = fn(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) &&
        (shift = wall_shift(__builtin_return_address(0))) != 0) {
        int64_t ns = (int64_t)ts->tv_nsec + (shift % 1000) * 1000000;
        ts->tv_sec += (time_t)(shift / 1000 + (ns < 0 ? -1 : ns >= 1000000000 ? 1 : 0));
        ts->tv_nsec = (long)((ns % 1000000000 + 1000000000) % 1000000000);
    }
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    static int (*fn)(struct timeval *restrict, void *restrict);
    int64_t shift;
    int rc;

    if (!fn)
        fn = (int (*)(struct timeval *restrict, void *restrict))real("gettimeofday");
    rc = fn(tv, tz);
    if (rc == 0 && (shift = wall_shift(__builtin_return_address(0))) != 0) {
        int64_t us = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec + shift * 1000;
        tv->tv_sec = (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    return rc;
}

time_t time(time_t *t)
{
    static time_t (*fn)(time_t *);
    time_t now;

    if (!fn)
        fn = (time_t(*)(time_t *))real("time");
    now = fn(NULL) + (time_t)(wall_shift(__builtin_return_address(0)) / 1000);
    if (t)
        *t = now;
    return now;
}
