/*
 * topic - create the workbook's topic, with a fixed number of partitions.
 *
 * The number of partitions matters for everything that follows: a consumer
 * group spreads partitions over its members, and commits are per partition.
 * So we create the topic explicitly instead of relying on the broker's auto
 * creation (which would pick its own default count).
 *
 * Running it again is harmless: an existing topic with the right partition
 * count is left as it is.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "kit.h"

static const char usage[] =
    "usage: topic [-b BROKER] [-t TOPIC] [-p PARTITIONS]\n"
    "  Create TOPIC with PARTITIONS partitions (nothing to do if it exists).\n"
    "  -b BROKER      broker address (default " KIT_BROKER ")\n"
    "  -t TOPIC       topic name (default orders)\n"
    "  -p PARTITIONS  number of partitions (default 3)\n"
    "  -h             show this help\n";

/* Ask the broker to create the topic, through the Admin API.
 * Returns 0 when created, -1 (after saying why) when not. */
static int create_topic(rd_kafka_t *rk, const char *topic, int partitions)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *queue;
    rd_kafka_event_t *ev;
    int rc = -1;

    /* Replication factor 1: the workbook runs a single broker. */
    nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr);
    if (!nt) {
        kit_err("cannot create topic %s: %s", topic, errstr);
        return -1;
    }

    /* The Admin API is asynchronous: the result arrives as an event on a
     * queue of our choosing, which we wait on right away. */
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, KIT_TIMEOUT_MS, errstr,
                                              sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(opts, KIT_TIMEOUT_MS, errstr,
                                                sizeof errstr);
    queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, queue);
    ev = rd_kafka_queue_poll(queue, KIT_TIMEOUT_MS + 2000);

    if (!ev) {
        kit_err("the broker did not answer the request to create topic %s",
                topic);
    } else if (rd_kafka_event_error(ev)) {
        kit_err("cannot create topic %s: %s", topic,
                rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(res[0])
                                         : RD_KAFKA_RESP_ERR__BAD_MSG;

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = 0;
        else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            kit_err("topic %s was created by someone else just now; "
                    "run this again to check it", topic);
        else
            kit_err("cannot create topic %s: %s", topic,
                    n == 1 && rd_kafka_topic_result_error_string(res[0])
                        ? rd_kafka_topic_result_error_string(res[0])
                        : rd_kafka_err2str(err));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Does the metadata show TOPIC with PARTITIONS partitions, each with a
 * leader?  Only then can a producer started right after us write to it. */
static int ready(const rd_kafka_metadata_t *md, const char *topic,
                 int partitions)
{
    const rd_kafka_metadata_topic_t *t = kit_topic(md, topic);

    if (!t || t->err || t->partition_cnt != partitions)
        return 0;
    for (int i = 0; i < t->partition_cnt; i++)
        if (t->partitions[i].err || t->partitions[i].leader < 0)
            return 0;
    return 1;
}

/* "Created" means the controller has recorded the topic; the partitions may
 * still be electing their leader for a moment.  Wait (up to 10 s) until the
 * metadata shows every partition led, then until each leader answers a
 * request for the partition's offsets: only then is the topic usable. */
static int wait_until_ready(rd_kafka_t *rk, const char *broker,
                            const char *topic, int partitions)
{
    const struct timespec pause = {0, 100 * 1000 * 1000};   /* 100 ms */

    for (int attempt = 0; attempt < 100; attempt++) {
        const rd_kafka_metadata_t *md;
        int ok;

        if (kit_metadata(rk, broker, KIT_TIMEOUT_MS, &md) != 0)
            return -1;
        ok = ready(md, topic, partitions);
        rd_kafka_metadata_destroy(md);
        if (ok) {
            for (int p = 0; p < partitions; p++) {
                int64_t low, high;

                if (kit_watermarks(rk, topic, p, &low, &high) != 0)
                    return -1;
            }
            return 0;
        }
        nanosleep(&pause, NULL);
    }
    kit_err("topic %s was created but its partitions still have no leader "
            "after 10 s; look at the broker's log", topic);
    return -1;
}

/* The topic is there already: fine if it has the partition count we want. */
static int check_existing(const rd_kafka_metadata_topic_t *t, int partitions)
{
    if (t->partition_cnt == partitions) {
        printf("topic %s exists with %d partition%s\n", t->topic,
               t->partition_cnt, kit_s(t->partition_cnt));
        return 0;
    }
    kit_err("topic %s already exists with %d partition%s, not %d; pick another "
            "TOPIC or start from scratch with: make broker-reset",
            t->topic, t->partition_cnt, kit_s(t->partition_cnt), partitions);
    return 1;
}

int main(int argc, char **argv)
{
    const char *broker = KIT_BROKER, *topic = "orders";
    int partitions = 3, opt, rc;

    kit_prog = "topic";
    kit_deadline(30); /* whatever the broker does, an answer within 30 s */
    while ((opt = getopt(argc, argv, "b:t:p:h")) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 't': topic = optarg; break;
        case 'p': partitions = (int)kit_number('p', optarg, 1, 10000, usage); break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);

    rd_kafka_conf_t *conf = kit_conf(broker, NULL);
    if (!conf)
        return 1;
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_PRODUCER, conf, broker,
                                 KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;

    const rd_kafka_metadata_topic_t *t = kit_topic(md, topic);
    if (t) {
        rc = check_existing(t, partitions);
    } else if (create_topic(rk, topic, partitions) == 0 &&
               wait_until_ready(rk, broker, topic, partitions) == 0) {
        printf("created topic %s with %d partition%s\n", topic, partitions,
               kit_s(partitions));
        rc = 0;
    } else {
        rc = 1;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}
