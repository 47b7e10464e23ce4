/*
 * commits_txn.c - `commits --txn`: is each commit of the group kept, aborted, or open?
 *
 * The offsets a transactional producer sends with its transaction are written to
 * __consumer_offsets at once, as records like any commit; the broker then writes a
 * marker, commit or abort, when the transaction ends. librdkafka hands no marker to a
 * reader, but a read_committed reader skips the records of aborted transactions and
 * stops at the "last stable offset": the first record of the oldest transaction still
 * open. So the partition is read twice, as a read_committed reader sees it, then as a
 * read_uncommitted one (commits.c), and each record of the group gets a state:
 *
 *   kept     the read_committed reader was handed it: a plain commit, or one whose
 *            transaction committed;
 *   aborted  before the last stable offset, and skipped: its transaction aborted;
 *   open     past the last stable offset.
 *
 * __consumer_offsets holds every group's commits (here in one partition): a
 * transaction of ANOTHER group still open holds the reader back too. So when a record
 * of ours reads "open", we ask the group's coordinator whether the group itself has
 * offsets pending in a transaction (rd_kafka_committed() as a read_committed consumer
 * of the group: it waits while any are). If none are, the open transaction is another
 * group's: the view is read again, twice a second, until ours are decided (at most 60
 * s: a transaction ends within its transaction.timeout.ms). Only then is anything
 * printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit.h"
#include "commits_txn.h"

int txn_mode;
static int collecting;
static int64_t *visible, lso = -1; /* handed to the read_committed reader; its end */
static size_t n_visible, cap_visible;

struct kept { char topic[256]; int32_t partition; int64_t offset, timestamp, record; };
static struct kept *kept;
static size_t n_kept, cap_kept;

int txn_collecting(void) { return collecting; }

static int grow(void **array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    void *a = realloc(*array, c * size);
    if (!a) {
        kit_err("out of memory");
        return -1;
    }
    *array = a, *cap = c;
    return 0;
}

int txn_collect(int64_t record_offset)
{
    if (grow((void **)&visible, &cap_visible, n_visible, sizeof(*visible)))
        return -1;
    visible[n_visible++] = record_offset;
    return 0;
}

int txn_keep(const char *topic, int topic_len, int32_t partition, int64_t offset,
             int64_t timestamp, int64_t record_offset)
{
    if (grow((void **)&kept, &cap_kept, n_kept, sizeof(*kept)))
        return -1;
    struct kept *k = &kept[n_kept++];
    snprintf(k->topic, sizeof k->topic, "%.*s", topic_len, topic);
    k->partition = partition, k->offset = offset, k->timestamp = timestamp;
    k->record = record_offset;
    return 0;
}

static const char *state_of(int64_t record)
{
    size_t lo = 0, hi = n_visible;

    if (record >= lso)
        return "open";
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (visible[mid] == record)
            return "kept";
        if (visible[mid] < record)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "aborted";
}

int txn_read_view(const char *broker, int32_t p, int64_t low, int64_t high)
{
    rd_kafka_conf_t *conf = kit_conf(broker, "group.id", "kit-commits-reader",
                                     "enable.auto.commit", "false",
                                     "enable.auto.offset.store", "false",
                                     "enable.partition.eof", "true",
                                     "isolation.level", "read_committed",
                                     "fetch.wait.max.ms", "20", NULL);
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk;
    int rc;

    if (!conf || !(rk = kit_connect(RD_KAFKA_CONSUMER, conf, broker, KIT_TIMEOUT_MS, &md)))
        return -1;
    rd_kafka_metadata_destroy(md);
    collecting = 1;
    n_visible = 0;
    lso = low;
    rc = read_partition(rk, p, low, high, NULL, NULL, &lso);
    collecting = 0;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* Has GROUP offsets pending in a transaction of its own on a partition it committed? */
static int group_pending(const char *broker, const char *group)
{
    rd_kafka_conf_t *conf = kit_conf(broker, "group.id", group, "enable.auto.commit", "false",
                                     "isolation.level", "read_committed", NULL);
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk;
    int pending = 1;

    if (!conf || !(rk = kit_connect(RD_KAFKA_CONSUMER, conf, broker, KIT_TIMEOUT_MS, &md)))
        return 1;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n_kept + 1);
    for (size_t i = 0; i < n_kept; i++)
        if (!rd_kafka_topic_partition_list_find(l, kept[i].topic, kept[i].partition))
            rd_kafka_topic_partition_list_add(l, kept[i].topic, kept[i].partition);
    /* A read_committed consumer asks with require_stable: the coordinator answers
     * UNSTABLE_OFFSET_COMMIT, and librdkafka asks again, while any is pending. */
    if (rd_kafka_committed(rk, l, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pending = 0;
        for (int i = 0; i < l->cnt; i++)
            pending |= l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return pending;
}

static int any_open(void)
{
    for (size_t i = 0; i < n_kept; i++)
        if (kept[i].record >= lso)
            return 1;
    return 0;
}

int txn_settle_and_print(const char *broker, const char *group, int32_t p, int64_t low,
                         int64_t high)
{
    if (any_open() && !group_pending(broker, group)) {
        time_t until = time(NULL) + 60;
        while (any_open() && time(NULL) < until) {
            nanosleep(&(struct timespec){.tv_nsec = 500 * 1000 * 1000}, NULL);
            if (txn_read_view(broker, p, low, high))
                return -1;
        }
        if (any_open())
            kit_err("another group's transaction, open for 60 s, still holds readers "
                    "back: 'open' below means undecided");
    }
    for (size_t i = 0; i < n_kept; i++)
        printf("%s\t%d\t%lld\t%lld\t%s\n", kept[i].topic, (int)kept[i].partition,
               (long long)kept[i].offset, (long long)kept[i].timestamp,
               state_of(kept[i].record));
    free(kept);
    free(visible);
    return 0;
}
