/*
 * ping - is a Kafka broker answering?
 *
 * Exit status 0 if the broker answers a metadata request within the timeout,
 * 1 if not.  Scripts call it in a loop to wait until a freshly started broker
 * is ready.  A broker that merely accepts TCP connections is not ready yet;
 * one that answers a metadata request is.
 *
 * With -g it must also answer as a group coordinator: a broker just started
 * on old data first loads every group's committed offsets (its
 * __consumer_offsets log), and until then a consumer cannot join a group or
 * read a commit. A check started then would wait for partitions in vain.
 */
#include <getopt.h>
#include <stdio.h>

#include "kit.h"

static const char usage[] =
    "usage: ping [-b BROKER] [-t TIMEOUT_MS] [-g] [-v]\n"
    "  Exit 0 if a Kafka broker answers within the timeout, 1 if not.\n"
    "  -b BROKER      broker address (default " KIT_BROKER ")\n"
    "  -t TIMEOUT_MS  how long to wait for an answer (default 2000)\n"
    "  -g             the group coordinator must answer too (offsets loaded)\n"
    "  -v             say so on stdout when the broker answers\n"
    "  -h             show this help\n";

/* Does the group coordinator answer an offset fetch (for a group and a
 * topic nobody uses) within timeout_ms? librdkafka retries while the
 * broker says it is still loading. */
static int coordinator_answers(const char *broker, long timeout_ms)
{
    rd_kafka_conf_t *conf = kit_conf(broker, "group.id", "workbook-ping", NULL);
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_resp_err_t err;
    char errstr[256];
    rd_kafka_t *rk;

    if (!conf)
        return 0;
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        kit_err("%s", errstr);
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "workbook-ping", 0);
    err = rd_kafka_committed(rk, parts, (int)timeout_ms);
    if (err)
        kit_err("the group coordinator at %s does not answer yet: %s",
                broker, rd_kafka_err2name(err));
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return !err;
}

int main(int argc, char **argv)
{
    const char *broker = KIT_BROKER;
    long timeout_ms = 2000;
    int verbose = 0, group = 0, opt;

    kit_prog = "ping";
    while ((opt = getopt(argc, argv, "b:t:gvh")) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 't': timeout_ms = kit_number('t', optarg, 1, 600000, usage); break;
        case 'g': group = 1; break;
        case 'v': verbose = 1; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);

    rd_kafka_conf_t *conf = kit_conf(broker, NULL);
    if (!conf)
        return 1;

    /* kit_connect() sends the metadata request and prints the one-line
     * "no Kafka broker answers" message itself when nothing answers. */
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_PRODUCER, conf, broker,
                                 (int)timeout_ms, &md);
    if (!rk)
        return 1;

    if (group && !coordinator_answers(broker, timeout_ms)) {
        rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return 1;
    }
    if (verbose)
        printf("Kafka broker answers at %s (%d broker%s, %d topic%s)\n",
               broker, md->broker_cnt, kit_s(md->broker_cnt),
               md->topic_cnt, kit_s(md->topic_cnt));
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return 0;
}
