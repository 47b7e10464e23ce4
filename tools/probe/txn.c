/*
 * txn.c - the probe's record of a transactional producer (step 09), and its
 * two faults.  Each call of the program is one line in the probe file, as
 * the commit calls are in probe.c:
 *
 *   call fn=txn_init|txn_begin|txn_offsets|txn_commit|txn_abort
 *        delivered=P:O,... async=0 offsets=P:N,...|- begin=MS end=MS
 *        err=NAME kind=ok|retriable|abortable|fatal|error failed=-
 *
 * txn_offsets is rd_kafka_send_offsets_to_transaction (offsets= what it was
 * given); kind= says what the error object answered (txn_requires_abort,
 * is_fatal, is_retriable).  A producer with a transactional.id leaves a line
 * "producer transactional.id=ID at=MS" when it is created.
 *
 * Faults (WORKBOOK_FAULT):
 *   stale-member:N   the program's Nth txn_offsets call goes to the broker
 *                    with the group metadata of a member the group does not
 *                    know, as after this consumer was thrown out of its
 *                    group mid-transaction: the broker refuses the offsets
 *                    (UNKNOWN_MEMBER_ID), and librdkafka makes the
 *                    transaction abortable.  Line: "fault stale-member
 *                    call=N at=MS".
 *   crash-before-commit:N   the program dies (_exit(3), as --crash-at does)
 *                    at its Nth txn_commit call, before the call: the
 *                    transaction is left open with its invoices and
 *                    offsets, for the next instance to abort.  Line:
 *                    "fault crash-before-commit call=N at=MS".
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "probe.h"

static char group_id[256]; /* the consumer's group.id, for stale-member */

void note_consumer_conf(const rd_kafka_conf_t *conf)
{
    size_t size = sizeof group_id;

    if (rd_kafka_conf_get(conf, "group.id", group_id, &size) != RD_KAFKA_CONF_OK)
        group_id[0] = '\0';
}

void note_producer_conf(const rd_kafka_conf_t *conf)
{
    char id[256];
    size_t size = sizeof id;

    if (rd_kafka_conf_get(conf, "transactional.id", id, &size) == RD_KAFKA_CONF_OK && id[0])
        emit("producer transactional.id=%s at=%" PRId64, id, now_ms());
}

/* The Nth call of fault F ("stale-member", "crash-before-commit")? */
static int fault_at(const char *f_name, int call)
{
    const char *f = getenv("WORKBOOK_FAULT");
    size_t len = strlen(f_name);
    int n = 0;

    return f && !strncmp(f, f_name, len) && f[len] == ':' && sscanf(f + len + 1, "%d", &n) == 1 &&
           n == call;
}

static const char *kind(const rd_kafka_error_t *e)
{
    if (!e)
        return "ok";
    if (rd_kafka_error_is_fatal(e))
        return "fatal";
    if (rd_kafka_error_txn_requires_abort(e))
        return "abortable";
    if (rd_kafka_error_is_retriable(e))
        return "retriable";
    return "error";
}

static void emit_call(const char *fn, const char *offsets, int64_t begin,
                      const rd_kafka_error_t *e, const char *delivered)
{
    emit("call fn=%s delivered=%s async=0 offsets=%s begin=%" PRId64 " end=%" PRId64
         " err=%s kind=%s failed=-",
         fn, delivered, offsets, begin, now_ms(),
         e ? rd_kafka_err2name(rd_kafka_error_code(e)) : "NO_ERROR", kind(e));
}

typedef rd_kafka_error_t *(*txn_fn_t)(rd_kafka_t *);
typedef rd_kafka_error_t *(*txn_timeout_fn_t)(rd_kafka_t *, int);

rd_kafka_error_t *rd_kafka_init_transactions(rd_kafka_t *rk, int timeout_ms)
{
    txn_timeout_fn_t fn = (txn_timeout_fn_t)real("rd_kafka_init_transactions");
    int64_t begin = now_ms();
    char dl[2048];
    rd_kafka_error_t *e = fn(rk, timeout_ms);

    emit_call("txn_init", "-", begin, e, probe_delivered(dl, sizeof dl));
    return e;
}

rd_kafka_error_t *rd_kafka_begin_transaction(rd_kafka_t *rk)
{
    txn_fn_t fn = (txn_fn_t)real("rd_kafka_begin_transaction");
    int64_t begin = now_ms();
    char dl[2048];
    rd_kafka_error_t *e = fn(rk);

    emit_call("txn_begin", "-", begin, e, probe_delivered(dl, sizeof dl));
    return e;
}

rd_kafka_error_t *rd_kafka_send_offsets_to_transaction(
    rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
    const rd_kafka_consumer_group_metadata_t *cgmetadata, int timeout_ms)
{
    typedef rd_kafka_error_t *(*fn_t)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *,
                                      const rd_kafka_consumer_group_metadata_t *, int);
    static int calls;
    fn_t fn = (fn_t)real("rd_kafka_send_offsets_to_transaction");
    rd_kafka_consumer_group_metadata_t *stale = NULL;
    int64_t begin = now_ms();
    char text[2048], dl[2048];

    probe_offsets(offsets, text, sizeof text);
    probe_delivered(dl, sizeof dl);
    if (fault_at("stale-member", ++calls) && group_id[0]) {
        stale = rd_kafka_consumer_group_metadata_new_with_genid(
            group_id, 1, "workbook-fault-stale-member", NULL);
        emit("fault stale-member call=%d at=%" PRId64, calls, now_ms());
    }
    rd_kafka_error_t *e = fn(rk, offsets, stale ? stale : cgmetadata, timeout_ms);
    if (stale)
        rd_kafka_consumer_group_metadata_destroy(stale);
    emit_call("txn_offsets", text, begin, e, dl);
    return e;
}

rd_kafka_error_t *rd_kafka_commit_transaction(rd_kafka_t *rk, int timeout_ms)
{
    static int calls;
    txn_timeout_fn_t fn = (txn_timeout_fn_t)real("rd_kafka_commit_transaction");
    int64_t begin = now_ms();
    char dl[2048];

    probe_delivered(dl, sizeof dl);
    if (fault_at("crash-before-commit", ++calls)) {
        emit("fault crash-before-commit call=%d at=%" PRId64, calls, now_ms());
        fflush(stdout);
        _exit(3);
    }
    rd_kafka_error_t *e = fn(rk, timeout_ms);
    emit_call("txn_commit", "-", begin, e, dl);
    return e;
}

rd_kafka_error_t *rd_kafka_abort_transaction(rd_kafka_t *rk, int timeout_ms)
{
    txn_timeout_fn_t fn = (txn_timeout_fn_t)real("rd_kafka_abort_transaction");
    int64_t begin = now_ms();
    char dl[2048];

    probe_delivered(dl, sizeof dl);
    rd_kafka_error_t *e = fn(rk, timeout_ms);
    emit_call("txn_abort", "-", begin, e, dl);
    return e;
}
