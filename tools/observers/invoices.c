/*
 * invoices - read step 09's invoices the way a downstream consumer does.
 *
 * Step 09 writes one invoice per order, inside transactions.  What a reader
 * sees of them depends on one setting of the READER, isolation.level:
 *
 *   read_committed    only what committed transactions wrote.  The reader
 *                     stops at the "last stable offset": the first record
 *                     of a transaction still open, which it waits for.
 *   read_uncommitted  everything ever written, the invoices of aborted
 *                     transactions too (a crashed run's batch, a fenced
 *                     zombie's...).
 *
 * The tool reads every partition of TOPIC from its first offset to its end
 * (as far as that isolation level lets it) and prints one summary line:
 *
 *   invoices: TOPIC read_committed: N records, M orders, D duplicated
 *
 * then, per partition, how far it read and where the partition ends.  The
 * end is one past the last offset, and a transaction's commit or abort
 * marker takes an offset too (a "control record", never handed to a
 * reader): a partition whose transactions all committed ends 1 past its
 * last invoice.
 *
 * --list prints each record first: PARTITION<tab>OFFSET<tab>KEY<tab>VALUE.
 * --duplicates lists each order read more than once: ORDER<tab>TIMES.
 * --commit-as GROUP then commits, for GROUP, what a consumer that has
 * processed every invoice commits: the last invoice's offset + 1, per
 * partition.  `make lag GROUP=... TOPIC=...` then shows what lag tools
 * report for a caught-up reader of a transactional topic.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

static const char usage[] =
    "usage: invoices [-b BROKER] [-t TOPIC] [--isolation LEVEL] [--list]\n"
    "                [--duplicates] [--commit-as GROUP]\n"
    "  Read every invoice in TOPIC (default invoices) and count them.\n"
    "  -b BROKER          broker address (default " KIT_BROKER ")\n"
    "  --isolation LEVEL  read_committed (default) or read_uncommitted\n"
    "  --list             print each record: partition offset key value\n"
    "  --duplicates       print each order read more than once, and how often\n"
    "  --commit-as GROUP  commit, for GROUP, each partition's last invoice + 1\n"
    "  -h                 show this help\n";

#define MAX_PARTS 64

/* What was read of one partition. */
struct part {
    int64_t low, high; /* its first offset and its end, when we started */
    int64_t stable;    /* how far a read_committed reader may read then */
    int64_t last;      /* the offset of the last record read, -1: none */
    int64_t position;  /* where the reading stopped (the end event's) */
    long records;
    int at_end;
};

/* The orders read (keys), to count duplicates: a sorted array at the end. */
static char **orders;
static size_t order_cnt, order_cap;

static int keep_order(const rd_kafka_message_t *m)
{
    if (order_cnt == order_cap) {
        size_t cap = order_cap ? order_cap * 2 : 256;
        char **o = realloc(orders, cap * sizeof(*o));
        if (!o)
            return -1;
        orders = o, order_cap = cap;
    }
    const char *k = m->key ? m->key : "";
    size_t n = m->key ? m->key_len : 0;
    if (!(orders[order_cnt] = strndup(k, n)))
        return -1;
    order_cnt++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"isolation", required_argument, NULL, 'i'},
        {"list", no_argument, NULL, 'l'},
        {"duplicates", no_argument, NULL, 'd'},
        {"commit-as", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *broker = KIT_BROKER, *topic = "invoices", *isolation = "read_committed";
    const char *commit_as = NULL;
    int list = 0, dups = 0, opt, rc = 1;
    struct part parts[MAX_PARTS];

    kit_prog = "invoices";
    while ((opt = getopt_long(argc, argv, "b:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 't': topic = optarg; break;
        case 'i': isolation = optarg; break;
        case 'l': list = 1; break;
        case 'd': dups = 1; break;
        case 'c': commit_as = optarg; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);
    if (strcmp(isolation, "read_committed") && strcmp(isolation, "read_uncommitted")) {
        kit_err("--isolation: read_committed or read_uncommitted, not '%s'", isolation);
        kit_usage(usage, 2);
    }
    kit_deadline(60);

    /* group.id: librdkafka wants one before it lets a consumer assign() or
     * commit; we join no group (assign, not subscribe).  Offsets are stored
     * by hand (--commit-as): nothing is committed otherwise.
     * fetch.wait.max.ms: the end-of-partition event comes with an empty
     * fetch answer, which the broker would hold back 500 ms. */
    rd_kafka_conf_t *conf = kit_conf(broker,
                                     "group.id", commit_as ? commit_as : "kit-invoices-reader",
                                     "enable.auto.commit", "false",
                                     "enable.auto.offset.store", "false",
                                     "enable.partition.eof", "true",
                                     "isolation.level", isolation,
                                     "fetch.wait.max.ms", "20",
                                     NULL);
    if (!conf)
        return 1;
    const rd_kafka_metadata_t *md, *md2;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_CONSUMER, conf, broker, KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;
    /* The partition's ends, both: a read_uncommitted client is told the
     * log's end (the high watermark), a read_committed one the last stable
     * offset, short of the first transaction still open. */
    rd_kafka_t *rku = NULL, *rkc = NULL;
    if ((conf = kit_conf(broker, "group.id", "kit-invoices-reader", "isolation.level",
                         "read_uncommitted", NULL)))
        rku = kit_connect(RD_KAFKA_CONSUMER, conf, broker, KIT_TIMEOUT_MS, &md2);
    if (rku)
        rd_kafka_metadata_destroy(md2);
    if (rku && (conf = kit_conf(broker, "group.id", "kit-invoices-reader", "isolation.level",
                                "read_committed", NULL)))
        rkc = kit_connect(RD_KAFKA_CONSUMER, conf, broker, KIT_TIMEOUT_MS, &md2);
    if (rkc)
        rd_kafka_metadata_destroy(md2);
    const rd_kafka_metadata_topic_t *t = kit_topic(md, topic);
    int cnt = t ? t->partition_cnt : 0;
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(cnt > 0 ? cnt : 1);
    if (!t) {
        kit_no_topic(topic);
        goto out;
    }
    if (cnt > MAX_PARTS) {
        kit_err("%s has %d partitions: this tool reads at most %d", topic, cnt, MAX_PARTS);
        goto out;
    }
    int waiting = 0;
    for (int p = 0; p < cnt; p++) {
        struct part *pp = &parts[p];
        memset(pp, 0, sizeof(*pp));
        pp->last = -1;
        int64_t ignored;
        if (!rkc || kit_watermarks(rku, topic, p, &pp->low, &pp->high) ||
            kit_watermarks(rkc, topic, p, &ignored, &pp->stable))
            goto out;
        pp->position = pp->low;
        pp->at_end = pp->high <= pp->low;
        waiting += !pp->at_end;
        rd_kafka_topic_partition_list_add(assign, topic, p)->offset = pp->low;
    }
    if (waiting && rd_kafka_assign(rk, assign)) {
        kit_err("cannot read %s", topic);
        goto out;
    }

    /* Read until each partition says it is at its end: for read_committed
     * that is the last stable offset, short of a transaction still open. */
    while (waiting > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m)
            continue;
        struct part *pp = m->partition >= 0 && m->partition < cnt ? &parts[m->partition] : NULL;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && pp) {
            pp->position = m->offset;
            if (!pp->at_end)
                waiting--;
            pp->at_end = 1;
        } else if (m->err) {
            kit_err("%s", rd_kafka_message_errstr(m));
        } else if (pp) {
            pp->records++;
            pp->last = m->offset;
            if (list)
                printf("%d\t%lld\t%.*s\t%.*s\n", (int)m->partition, (long long)m->offset,
                       (int)m->key_len, m->key ? (const char *)m->key : "",
                       (int)m->len, m->payload ? (const char *)m->payload : "");
            if (keep_order(m)) {
                kit_err("out of memory");
                rd_kafka_message_destroy(m);
                goto out;
            }
        }
        rd_kafka_message_destroy(m);
    }

    /* Duplicates: the same order (key) read more than once. */
    long records = 0, distinct = 0, duplicated = 0;
    qsort(orders, order_cnt, sizeof(*orders), by_name);
    for (size_t i = 0, j; i < order_cnt; i = j) {
        for (j = i + 1; j < order_cnt && !strcmp(orders[i], orders[j]); j++)
            ;
        distinct++;
        duplicated += j - i > 1;
        if (dups && j - i > 1)
            printf("%s\t%zu\n", orders[i], j - i);
    }
    for (int p = 0; p < cnt; p++)
        records += parts[p].records;
    printf("invoices: %s %s: %ld record%s, %ld order%s, %ld duplicated\n", topic, isolation,
           records, kit_s(records), distinct, kit_s(distinct), duplicated);
    for (int p = 0; p < cnt; p++)
        printf("  partition %d: %ld record%s read up to offset %lld; its end is %lld%s\n",
                p, parts[p].records, kit_s(parts[p].records), (long long)parts[p].position,
                (long long)parts[p].high,
                parts[p].stable < parts[p].high ? ": a transaction is still open there, and "
                "read_committed readers wait at its first record" : "");
    rc = 0;

    /* What a consumer that processed every invoice commits. */
    if (commit_as) {
        rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(cnt);
        for (int p = 0; p < cnt; p++)
            if (parts[p].last >= 0)
                rd_kafka_topic_partition_list_add(offs, topic, p)->offset = parts[p].last + 1;
        rd_kafka_resp_err_t err = offs->cnt ? rd_kafka_commit(rk, offs, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (err) {
            kit_err("commit as %s failed: %s", commit_as, rd_kafka_err2str(err));
            rc = 1;
        } else {
            printf("  committed for group %s: each partition's last invoice + 1\n", commit_as);
        }
        rd_kafka_topic_partition_list_destroy(offs);
    }
out:
    for (size_t i = 0; i < order_cnt; i++)
        free(orders[i]);
    free(orders);
    rd_kafka_topic_partition_list_destroy(assign);
    rd_kafka_metadata_destroy(md);
    if (rku)
        rd_kafka_destroy(rku);
    if (rkc)
        rd_kafka_destroy(rkc);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
