/*
 * probe - what a step program asked librdkafka to do, for the checks.
 *
 * The broker's record says which offsets were committed and when.  It does
 * not say who asked: the program, with one of its own calls, or librdkafka's
 * auto-commit timer; nor whether a call waited for the answer.  To name the
 * true cause of a wrong result, the checks load this library into the
 * program under test (LD_PRELOAD) and it writes down, in the file named by
 * WORKBOOK_PROBE:
 *
 *   config KEY=VALUE              every setting that differs from
 *                                 librdkafka's default, plus a few that
 *                                 the lesson is about, as rd_kafka_new()
 *                                 received them
 *   call fn=NAME async=0|1 offsets=P:N,...|stored begin=MS end=MS err=NAME
 *                                 each commit or store call, with the
 *                                 offsets it was given ("stored": commit
 *                                 what librdkafka has stored), when it
 *                                 began and returned (epoch ms), and its
 *                                 result
 *   call fn=close begin=MS end=MS the consumer's close
 *   created begin=MS end=MS       rd_kafka_new() of a consumer, when it
 *                                 began and returned
 *   assign fn=assign delivered=P:O partitions=P,P|none at=MS   an
 *                                 assignment applied (none: revoked)
 *
 * Each call line also says, per partition, the highest offset librdkafka had
 * handed to the program when the call began (delivered=P:O,...): with the
 * program's own lines that tells which messages were in its hands, exactly,
 * where timestamps to the millisecond cannot.
 *
 * One fault can be injected, for the checks of what a program does with a
 * commit the broker refuses for one partition only: with
 * WORKBOOK_FAULT=refuse-partition:P, each rd_kafka_commit() of the program
 * that lists partition P carries, for P alone, commit metadata larger than
 * the broker takes (offset.metadata.max.bytes, 4096): the broker refuses
 * that partition (OFFSET_METADATA_TOO_LARGE) and commits the others - a
 * partial failure, as real as it gets; each call refused so leaves a line
 * "fault refuse-partition partition=P offsets=P:N,... at=MS".  With
 * WORKBOOK_FAULT=blackout:N:MS the program's connections to the broker break
 * at its Nth commit call (rd_kafka_commit) and stay broken for MS
 * milliseconds: every send and receive on a TCP socket fails (ECONNRESET)
 * and every connect is refused, as when the broker goes away and comes
 * back; a line
 * "fault blackout begin=MS end=MS" says when.  With
 * WORKBOOK_FAULT=refuse-commit:N the program's Nth commit call (any of
 * rd_kafka_commit, rd_kafka_commit_message, rd_kafka_commit_queue) carries
 * that oversize metadata on every partition it commits, so the broker
 * refuses all of them (OFFSET_METADATA_TOO_LARGE): a commit that fails for
 * real; a line "fault refuse-commit call=N at=MS" says it fired.  Without
 * the variable nothing is changed.
 *
 * rd_kafka_offset_store(rkt, partition, offset) stores offset + 1 (rdkafka.h
 * says so): its line says what was stored, offsets=P:offset+1.
 *
 * The faults live in faults.c (probe.h is what the files share); a
 * transactional producer's calls and faults (step 09) in txn.c.
 *
 * Each line is written with one write(2) as the call returns, so a program
 * that dies (_exit, SIGKILL) leaves every finished line behind.  The probe
 * changes nothing: each wrapper calls the real function (dlsym RTLD_NEXT)
 * with the same arguments and returns its result.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "probe.h"

/* The settings reported even when they keep their default. */
static const char *const always[] = {
    "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store",
    "auto.offset.reset", "session.timeout.ms", "heartbeat.interval.ms",
    "max.poll.interval.ms", "partition.assignment.strategy", NULL};

/* How deep we are in wrapped commit and store calls: librdkafka calls its
 * own public functions too (rd_kafka_commit_message calls rd_kafka_commit);
 * only the program's own call, the outermost, is written down.  close and
 * destroy do not count here: the rebalance callback they serve is the
 * program's code, and its commits are the program's calls.  (in_destroy
 * only keeps the close that rd_kafka_destroy makes by itself off the
 * record.) */
static __thread int depth;
static __thread int in_destroy;

/* The highest offset handed to the program, per partition (-1: none). */
static int64_t delivered[MAX_PARTS];
static int delivered_init;

static void note_delivered(const rd_kafka_message_t *m)
{
    if (!delivered_init) {
        for (int i = 0; i < MAX_PARTS; i++)
            delivered[i] = -1;
        delivered_init = 1;
    }
    if (m && !m->err && m->partition >= 0 && m->partition < MAX_PARTS &&
        m->offset > delivered[m->partition])
        delivered[m->partition] = m->offset;
}

/* "P:O,..." of what was handed over so far ("-" when nothing). */
static const char *delivered_text(char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; delivered_init && i < MAX_PARTS && used + 32 < size; i++)
        if (delivered[i] >= 0)
            used += (size_t)snprintf(buf + used, size - used, "%s%d:%" PRId64,
                                     used ? "," : "", i, delivered[i]);
    return buf[0] ? buf : "-";
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append one line to the probe file (opened once, O_APPEND). */
void emit(const char *fmt, ...)
{
    static int fd = -2;
    char line[4096];
    va_list ap;
    int n;

    if (fd == -2) {
        const char *path = getenv("WORKBOOK_PROBE");
        fd = path && *path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                           : -1;
    }
    if (fd < 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(fd, line, (size_t)n) < 0)
        return;
}

/* The real function NAME, found past this library. */
void *real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        fprintf(stderr, "probe: no %s in librdkafka\n", name);
        abort();
    }
    return fn;
}

/* "P:N,P:N" for a list of offsets ("stored" for NULL; "-" when empty). */
static const char *offsets_text(const rd_kafka_topic_partition_list_t *l,
                                char *buf, size_t size)
{
    size_t used = 0;
    int i;

    if (!l)
        return "stored";
    buf[0] = '\0';
    for (i = 0; i < l->cnt && used + 48 < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId32 ":%" PRId64,
                                 i ? "," : "", l->elems[i].partition,
                                 l->elems[i].offset);
    return buf[0] ? buf : "-";
}

/* The per-partition results a call left in its list: "P:ERR,...", only for
 * the partitions that failed ("-" when none did). */
static const char *errors_text(const rd_kafka_topic_partition_list_t *l,
                               char *buf, size_t size)
{
    size_t used = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; l && i < l->cnt && used + 64 < size; i++)
        if (l->elems[i].err)
            used += (size_t)snprintf(buf + used, size - used, "%s%" PRId32 ":%s",
                                     used ? "," : "", l->elems[i].partition,
                                     rd_kafka_err2name(l->elems[i].err));
    return buf[0] ? buf : "-";
}

const char *probe_delivered(char *buf, size_t size) { return delivered_text(buf, size); }
const char *probe_offsets(const rd_kafka_topic_partition_list_t *l, char *buf, size_t size)
{
    return offsets_text(l, buf, size);
}

/* Write the settings of KV (n entries) that differ from DV's or are in
 * always[]. */
static void emit_config(const char **kv, size_t n, const char **dv, size_t nd,
                        int topic)
{
    size_t i, j;

    for (i = 0; i + 1 < n; i += 2) {
        int report = 0, k;
        for (k = 0; always[k]; k++)
            report |= !strcmp(kv[i], always[k]);
        /* A topic configuration repeats some global names with values of
         * its own (auto.commit.interval.ms): only auto.offset.reset, and
         * what the program changed, count there. */
        if (topic)
            report = !strcmp(kv[i], "auto.offset.reset");
        if (!report) {
            report = 1;
            for (j = 0; j + 1 < nd; j += 2)
                if (!strcmp(kv[i], dv[j])) {
                    report = strcmp(kv[i + 1], dv[j + 1]) != 0;
                    break;
                }
        }
        if (report && !strstr(kv[i], "password") && !strstr(kv[i], "secret") &&
            strcmp(kv[i], "default_topic_conf"))
            emit("config %s=%s", kv[i], kv[i + 1]);
    }
}

rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         char *errstr, size_t errstr_size)
{
    rd_kafka_t *(*fn)(rd_kafka_type_t, rd_kafka_conf_t *, char *, size_t) =
        (rd_kafka_t * (*)(rd_kafka_type_t, rd_kafka_conf_t *, char *, size_t))
            real("rd_kafka_new");

    if (type == RD_KAFKA_PRODUCER && conf && !depth)
        note_producer_conf(conf);
    if (type == RD_KAFKA_CONSUMER && conf && !depth) {
        note_consumer_conf(conf);
        rd_kafka_conf_t *defaults = rd_kafka_conf_new();
        rd_kafka_topic_conf_t *tdefaults = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_t *tconf = rd_kafka_conf_get_default_topic_conf(conf);
        size_t n = 0, nd = 0;
        const char **kv = rd_kafka_conf_dump(conf, &n);
        const char **dv = rd_kafka_conf_dump(defaults, &nd);

        emit_config(kv, n, dv, nd, 0);
        rd_kafka_conf_dump_free(kv, n);
        rd_kafka_conf_dump_free(dv, nd);
        /* Topic settings (auto.offset.reset) live in the default topic
         * configuration. */
        dv = rd_kafka_topic_conf_dump(tdefaults, &nd);
        if (tconf) {
            kv = rd_kafka_topic_conf_dump(tconf, &n);
            emit_config(kv, n, dv, nd, 1);
            rd_kafka_conf_dump_free(kv, n);
        } else {
            emit_config(dv, nd, dv, nd, 1);
        }
        rd_kafka_conf_dump_free(dv, nd);
        rd_kafka_topic_conf_destroy(tdefaults);
        rd_kafka_conf_destroy(defaults);
    }
    /* When the consumer came to be (begin and end of rd_kafka_new): its
     * auto-commit timer starts there, and ticks every interval from then on,
     * so the checks judge the timer's rhythm from this, not from launch. */
    if (type == RD_KAFKA_CONSUMER && !depth) {
        int64_t begin = now_ms();
        rd_kafka_t *rk = fn(type, conf, errstr, errstr_size);
        if (rk)
            emit("created begin=%" PRId64 " end=%" PRId64, begin, now_ms());
        return rk;
    }
    return fn(type, conf, errstr, errstr_size);
}

rd_kafka_resp_err_t rd_kafka_commit(rd_kafka_t *rk,
                                    const rd_kafka_topic_partition_list_t *offsets,
                                    int async)
{
    void *saved_md = NULL;
    size_t saved_size = 0;
    rd_kafka_topic_partition_t *faulty;
    rd_kafka_resp_err_t (*fn)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *,
                              int) =
        (rd_kafka_resp_err_t(*)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *,
                                int))real("rd_kafka_commit");
    char text[2048], errs[2048] = "-";
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;

    rd_kafka_topic_partition_list_t *refused = NULL;

    if (!depth) {
        maybe_blackout();
        if (refuse_this_commit())
            refused = refused_list(rk, offsets);
    }
    faulty = depth || refused ? NULL
                              : oversize(offsets, refused_partition(), &saved_md, &saved_size);
    if (faulty)
        emit("fault refuse-partition partition=%" PRId32 " offsets=%s at=%" PRId64,
             faulty->partition, offsets_text(offsets, errs, sizeof errs), now_ms());
    depth++;
    err = fn(rk, refused ? refused : offsets, async);
    depth--;
    if (refused) {
        /* The program reads each partition's result in its own list. */
        for (int i = 0; offsets && !async && i < offsets->cnt && i < refused->cnt; i++)
            ((rd_kafka_topic_partition_t *)&offsets->elems[i])->err = refused->elems[i].err;
        if (!offsets)
            errors_text(refused, errs, sizeof errs);
        rd_kafka_topic_partition_list_destroy(refused);
        refused = NULL;
    }
    if (faulty) {
        faulty->metadata = saved_md;
        faulty->metadata_size = saved_size;
    }
    if (depth)
        return err;

    emit("call fn=commit delivered=%s async=%d offsets=%s begin=%" PRId64 " end=%" PRId64
         " err=%s failed=%s", dl,
         async ? 1 : 0, offsets_text(offsets, text, sizeof text), begin, now_ms(),
         rd_kafka_err2name(err),
         async ? "-" : offsets ? errors_text(offsets, errs, sizeof errs) : errs);
    return err;
}

rd_kafka_resp_err_t rd_kafka_commit_message(rd_kafka_t *rk,
                                            const rd_kafka_message_t *rkm, int async)
{
    rd_kafka_resp_err_t (*fn)(rd_kafka_t *, const rd_kafka_message_t *, int) =
        (rd_kafka_resp_err_t(*)(rd_kafka_t *, const rd_kafka_message_t *, int))real(
            "rd_kafka_commit_message");
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;

    if (!depth && rkm && rkm->rkt && refuse_this_commit()) {
        /* The same commit (offset + 1 on the message's partition), refused. */
        rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1), *refused;
        rd_kafka_resp_err_t (*commit)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *,
                                      int) =
            (rd_kafka_resp_err_t(*)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *,
                                    int))real("rd_kafka_commit");

        rd_kafka_topic_partition_list_add(one, rd_kafka_topic_name(rkm->rkt), rkm->partition)
            ->offset = rkm->offset + 1;
        refused = refused_list(rk, one);
        depth++;
        err = commit(rk, refused, async);
        depth--;
        rd_kafka_topic_partition_list_destroy(refused);
        rd_kafka_topic_partition_list_destroy(one);
    } else {
        depth++;
        err = fn(rk, rkm, async);
        depth--;
    }
    if (depth)
        return err;

    /* It commits the message's offset + 1 on its partition. */
    emit("call fn=commit_message delivered=%s async=%d offsets=%" PRId32 ":%" PRId64
         " begin=%" PRId64 " end=%" PRId64 " err=%s failed=-", dl,
         async ? 1 : 0, rkm ? rkm->partition : -1, rkm ? rkm->offset + 1 : -1, begin,
         now_ms(), rd_kafka_err2name(err));
    return err;
}

rd_kafka_resp_err_t rd_kafka_commit_queue(
    rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
    rd_kafka_queue_t *rkqu,
    void (*cb)(rd_kafka_t *, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t *,
               void *),
    void *opaque)
{
    typedef rd_kafka_resp_err_t (*fn_t)(
        rd_kafka_t *, const rd_kafka_topic_partition_list_t *, rd_kafka_queue_t *,
        void (*)(rd_kafka_t *, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t *,
                 void *),
        void *);
    fn_t fn = (fn_t)real("rd_kafka_commit_queue");
    char text[2048];
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;
    rd_kafka_topic_partition_list_t *refused =
        !depth && refuse_this_commit() ? refused_list(rk, offsets) : NULL;

    depth++;
    err = fn(rk, refused ? refused : offsets, rkqu, cb, opaque);
    depth--;
    if (refused)
        rd_kafka_topic_partition_list_destroy(refused);
    if (depth)
        return err;

    /* With no queue, the call waits for the result and serves the callback. */
    emit("call fn=commit_queue delivered=%s async=%d offsets=%s begin=%" PRId64 " end=%" PRId64
         " err=%s failed=-", dl,
         rkqu ? 1 : 0, offsets_text(offsets, text, sizeof text), begin, now_ms(),
         rd_kafka_err2name(err));
    return err;
}

rd_kafka_resp_err_t rd_kafka_offsets_store(rd_kafka_t *rk,
                                           rd_kafka_topic_partition_list_t *offsets)
{
    rd_kafka_resp_err_t (*fn)(rd_kafka_t *, rd_kafka_topic_partition_list_t *) =
        (rd_kafka_resp_err_t(*)(rd_kafka_t *, rd_kafka_topic_partition_list_t *))real(
            "rd_kafka_offsets_store");
    char text[2048], errs[2048];
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;

    offsets_text(offsets, text, sizeof text);
    depth++;
    err = fn(rk, offsets);
    depth--;
    if (depth)
        return err;
    for (int i = 0; offsets && err == RD_KAFKA_RESP_ERR_NO_ERROR && i < offsets->cnt; i++)
        if (!offsets->elems[i].err)
            note_stored(offsets->elems[i].topic, offsets->elems[i].partition,
                        offsets->elems[i].offset);
    emit("call fn=offsets_store delivered=%s async=0 offsets=%s begin=%" PRId64 " end=%" PRId64
         " err=%s failed=%s", dl,
         text, begin, now_ms(), rd_kafka_err2name(err),
         errors_text(offsets, errs, sizeof errs));
    return err;
}

rd_kafka_resp_err_t rd_kafka_offset_store(rd_kafka_topic_t *rkt, int32_t partition,
                                          int64_t offset)
{
    rd_kafka_resp_err_t (*fn)(rd_kafka_topic_t *, int32_t, int64_t) =
        (rd_kafka_resp_err_t(*)(rd_kafka_topic_t *, int32_t, int64_t))real(
            "rd_kafka_offset_store");
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;

    depth++;
    err = fn(rkt, partition, offset);
    depth--;
    if (depth)
        return err;

    /* It stores offset + 1 (rdkafka.h): write down what was stored. */
    if (!err)
        note_stored(rd_kafka_topic_name(rkt), partition, offset + 1);
    emit("call fn=offset_store delivered=%s async=0 offsets=%" PRId32 ":%" PRId64 " begin=%" PRId64
         " end=%" PRId64 " err=%s failed=-", dl,
         partition, offset + 1, begin, now_ms(), rd_kafka_err2name(err));
    return err;
}

rd_kafka_resp_err_t rd_kafka_consumer_close(rd_kafka_t *rk)
{
    rd_kafka_resp_err_t (*fn)(rd_kafka_t *) =
        (rd_kafka_resp_err_t(*)(rd_kafka_t *))real("rd_kafka_consumer_close");
    int64_t begin = now_ms();
    char dl[2048];

    delivered_text(dl, sizeof dl);
    rd_kafka_resp_err_t err;

    /* No depth here: the commits of the rebalance callback that close()
     * serves are the program's own calls, and are written down. */
    err = fn(rk);
    if (depth || in_destroy)
        return err;

    emit("call fn=close delivered=%s async=0 offsets=- begin=%" PRId64 " end=%" PRId64
         " err=%s failed=-", dl,
         begin, now_ms(), rd_kafka_err2name(err));
    return err;
}

void rd_kafka_destroy(rd_kafka_t *rk)
{
    void (*fn)(rd_kafka_t *) = (void (*)(rd_kafka_t *))real("rd_kafka_destroy");

    in_destroy++;
    fn(rk);
    in_destroy--;
}

/* Assignments, as the rebalance callback applies them: when, and which
 * messages the program had been handed by then (delivered=): the checks
 * tell from them what was in its hands when its partitions went away.
 *   assign fn=assign|incremental_assign|incremental_unassign delivered=
 *          partitions=P,P|none at=MS */
static void emit_assign(const char *what, const rd_kafka_topic_partition_list_t *l)
{
    char buf[2048], parts[1024] = "none";
    const char *dl = delivered_text(buf, sizeof buf);
    size_t n = 0;

    for (int i = 0; l && i < l->cnt && n + 16 < sizeof parts; i++)
        n += (size_t)snprintf(parts + n, sizeof parts - n, "%s%" PRId32, i ? "," : "",
                              l->elems[i].partition);
    emit("assign fn=%s delivered=%s partitions=%s at=%" PRId64, what, dl, parts, now_ms());
}


rd_kafka_resp_err_t rd_kafka_assign(rd_kafka_t *rk,
                                    const rd_kafka_topic_partition_list_t *partitions)
{
    rd_kafka_resp_err_t (*fn)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *) =
        (rd_kafka_resp_err_t(*)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *))real(
            "rd_kafka_assign");

    emit_assign("assign", partitions);
    maybe_clock_jump(partitions);
    return fn(rk, partitions);
}

rd_kafka_error_t *rd_kafka_incremental_assign(rd_kafka_t *rk,
                                              const rd_kafka_topic_partition_list_t *partitions)
{
    rd_kafka_error_t *(*fn)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *) =
        (rd_kafka_error_t * (*)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *))
            real("rd_kafka_incremental_assign");

    emit_assign("incremental_assign", partitions);
    maybe_clock_jump(partitions);
    return fn(rk, partitions);
}

rd_kafka_error_t *rd_kafka_incremental_unassign(rd_kafka_t *rk,
                                                const rd_kafka_topic_partition_list_t *partitions)
{
    rd_kafka_error_t *(*fn)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *) =
        (rd_kafka_error_t * (*)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *))
            real("rd_kafka_incremental_unassign");

    emit_assign("incremental_unassign", partitions);
    return fn(rk, partitions);
}

rd_kafka_message_t *rd_kafka_consumer_poll(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_message_t *(*fn)(rd_kafka_t *, int) =
        (rd_kafka_message_t * (*)(rd_kafka_t *, int)) real("rd_kafka_consumer_poll");
    rd_kafka_message_t *m = fn(rk, timeout_ms);

    note_delivered(m);
    return m;
}

ssize_t rd_kafka_consume_batch_queue(rd_kafka_queue_t *rkqu, int timeout_ms,
                                     rd_kafka_message_t **msgs, size_t size)
{
    ssize_t (*fn)(rd_kafka_queue_t *, int, rd_kafka_message_t **, size_t) =
        (ssize_t(*)(rd_kafka_queue_t *, int, rd_kafka_message_t **, size_t))real(
            "rd_kafka_consume_batch_queue");
    ssize_t n = fn(rkqu, timeout_ms, msgs, size);

    for (ssize_t i = 0; i < n; i++)
        note_delivered(msgs[i]);
    return n;
}

/* WORKBOOK_FAULT=clock-jump:MS (MS signed, e.g. -3600000): at the program's
 * first assignment its wall clock jumps by MS and stays so, as when NTP or
 * an administrator sets the machine's time.  Only the program's own code
 * sees it (calls from the main executable to clock_gettime(CLOCK_REALTIME),
 * gettimeofday() and time()): librdkafka's timed waits go on as before.  The
 * monotonic clock does not jump.  A line "fault clock-jump by=MS at=MS"
 * (real epoch ms) says when. */
#include <link.h>
#include <sys/time.h>

