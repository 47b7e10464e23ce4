/*
 * lag - how far behind is a consumer group?
 *
 * For every partition it prints two offsets and their difference:
 *
 *   CURRENT-OFFSET  the offset the group last committed for the partition:
 *                   the next message a restarted consumer would read;
 *   LOG-END-OFFSET  the offset the next message written to the partition
 *                   will get (the partition's "high watermark");
 *   LAG             LOG-END-OFFSET - CURRENT-OFFSET: messages written but
 *                   not yet committed as consumed.
 *
 * The table has the same columns and spacing as Kafka's own
 * `kafka-consumer-groups.sh --describe --group GROUP` (without the member
 * columns), so you can compare the two side by side.  Like Kafka, a
 * partition the group never committed shows "-" as CURRENT-OFFSET and LAG.
 *
 * The rows are every partition of TOPIC, plus every other partition the
 * group has a commit for.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

/* The group's committed offsets come from the Admin API's
 * ListConsumerGroupOffsets, new in librdkafka 2.0.0. (Ubuntu 22.04 ships
 * 1.8: install a newer one, e.g. from Confluent's packages, or build it.) */
#if RD_KAFKA_VERSION < 0x020000ff
#error "tools/observers/lag.c needs librdkafka 2.0.0 or newer (rd_kafka_ListConsumerGroupOffsets); this one is older: see README.md, Which librdkafka"
#endif

static const char usage[] =
    "usage: lag [-b BROKER] -g GROUP [-t TOPIC]\n"
    "  Show GROUP's committed offsets, log-end offsets and lag, per partition.\n"
    "  -b BROKER  broker address (default " KIT_BROKER ")\n"
    "  -g GROUP   consumer group id (required)\n"
    "  -t TOPIC   topic whose partitions are always shown (default orders)\n"
    "  -h         show this help\n";

/* One line of the table; -1 stands for "unknown", printed as "-". */
struct row {
    const char *topic;
    int32_t partition;
    int64_t committed;
    int64_t log_end;
};

static int by_topic_then_partition(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* Ask the group coordinator for every offset GROUP has committed.
 * Returns a list the caller destroys, or NULL after saying why. */
static rd_kafka_topic_partition_list_t *committed_offsets(rd_kafka_t *rk,
                                                          const char *group)
{
    char errstr[512];
    rd_kafka_topic_partition_list_t *result = NULL;
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);

    /* No partition list: "all partitions with a commit". */
    rd_kafka_ListConsumerGroupOffsets_t *req =
        rd_kafka_ListConsumerGroupOffsets_new(group, NULL);

    rd_kafka_AdminOptions_set_request_timeout(opts, KIT_TIMEOUT_MS, errstr,
                                              sizeof errstr);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, opts, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, KIT_TIMEOUT_MS + 2000);

    if (!ev) {
        kit_err("the broker did not answer the request for the offsets of "
                "group %s", group);
    } else if (rd_kafka_event_error(ev)) {
        kit_err("cannot read the offsets of group %s: %s", group,
                rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_group_result_t **groups =
            rd_kafka_ListConsumerGroupOffsets_result_groups(
                rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
        const rd_kafka_error_t *gerr =
            n == 1 ? rd_kafka_group_result_error(groups[0]) : NULL;

        if (n != 1)
            kit_err("unexpected answer for the offsets of group %s", group);
        else if (gerr && rd_kafka_error_code(gerr) !=
                             RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
            kit_err("cannot read the offsets of group %s: %s", group,
                    rd_kafka_error_string(gerr));
        else if (gerr)      /* a group that does not exist has no commits */
            result = rd_kafka_topic_partition_list_new(0);
        else    /* copy: the event, and what it holds, is freed below */
            result = rd_kafka_topic_partition_list_copy(
                rd_kafka_group_result_partitions(groups[0]));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    return result;
}

static void print_table(const char *group, const struct row *rows, int n)
{
    /* Kafka's tool makes the GROUP and TOPIC columns at least 15 wide, and
     * wider when a name is longer, and puts one space between columns. */
    int gw = (int)strlen(group), tw = 15;
    char cur[24], end[24], lag[24];

    if (gw < 15)
        gw = 15;
    for (int i = 0; i < n; i++)
        if ((int)strlen(rows[i].topic) > tw)
            tw = (int)strlen(rows[i].topic);

    printf("%-*s %-*s %-10s %-15s %-15s %s\n", gw, "GROUP", tw, "TOPIC",
           "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];

        strcpy(cur, "-");
        strcpy(end, "-");
        strcpy(lag, "-");
        if (r->committed >= 0)
            snprintf(cur, sizeof cur, "%lld", (long long)r->committed);
        if (r->log_end >= 0)
            snprintf(end, sizeof end, "%lld", (long long)r->log_end);
        if (r->committed >= 0 && r->log_end >= 0)
            snprintf(lag, sizeof lag, "%lld",
                     (long long)(r->log_end - r->committed));
        printf("%-*s %-*s %-10d %-15s %-15s %s\n", gw, group, tw, r->topic,
               (int)r->partition, cur, end, lag);
    }
}

int main(int argc, char **argv)
{
    const char *broker = KIT_BROKER, *topic = "orders", *group = NULL;
    int opt, rc = 1;

    kit_prog = "lag";
    kit_deadline(30); /* whatever the broker does, an answer within 30 s */
    while ((opt = getopt(argc, argv, "b:g:t:h")) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 'g': group = optarg; break;
        case 't': topic = optarg; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);
    if (!group) {
        kit_err("which group? -g GROUP is required");
        kit_usage(usage, 2);
    }

    rd_kafka_conf_t *conf = kit_conf(broker, NULL);
    if (!conf)
        return 1;
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_PRODUCER, conf, broker,
                                 KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;

    const rd_kafka_metadata_topic_t *t = kit_topic(md, topic);
    rd_kafka_topic_partition_list_t *commits = NULL;
    struct row *rows = NULL;
    int n = 0;

    if (!t) {
        kit_no_topic(topic);
        goto out;
    }
    if (!(commits = committed_offsets(rk, group)))
        goto out;

    /* Rows: first every partition of TOPIC, without a commit so far... */
    rows = calloc((size_t)(t->partition_cnt + commits->cnt), sizeof *rows);
    if (!rows) {
        kit_err("out of memory");
        goto out;
    }
    for (int i = 0; i < t->partition_cnt; i++)
        rows[n++] = (struct row){topic, t->partitions[i].id, -1, -1};

    /* ...then fill in each commit, on its row or on a new one. */
    for (int i = 0; i < commits->cnt; i++) {
        const rd_kafka_topic_partition_t *c = &commits->elems[i];
        int j;

        if (c->err) {
            kit_err("cannot read the offset committed for %s partition %d: %s",
                    c->topic, (int)c->partition, rd_kafka_err2str(c->err));
            goto out;
        }
        if (c->offset < 0)      /* listed, but no offset committed */
            continue;
        for (j = 0; j < n; j++)
            if (rows[j].partition == c->partition &&
                strcmp(rows[j].topic, c->topic) == 0)
                break;
        if (j == n)
            rows[n++] = (struct row){c->topic, c->partition, -1, -1};
        rows[j].committed = c->offset;
    }

    /* The log-end offset of each partition (of topics that still exist). */
    for (int i = 0; i < n; i++) {
        int64_t low;

        if (kit_topic(md, rows[i].topic) &&
            kit_watermarks(rk, rows[i].topic, rows[i].partition, &low,
                           &rows[i].log_end) != 0)
            goto out;
    }

    qsort(rows, (size_t)n, sizeof *rows, by_topic_then_partition);
    print_table(group, rows, n);
    rc = 0;

out:
    free(rows);
    if (commits)
        rd_kafka_topic_partition_list_destroy(commits);
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}
