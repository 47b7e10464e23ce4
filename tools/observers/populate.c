/*
 * populate - fill the topic with the messages Order-1 ... Order-COUNT.
 *
 * The steps of the workbook consume these messages and commit offsets; the
 * checks then compare what was committed with what was in the topic.  For
 * that the content of the topic must be predictable, so:
 *
 *   - the values are exactly "Order-1" ... "Order-COUNT", without keys;
 *   - message i goes to partition (i-1) % partitions.  A console producer
 *     (or any keyless producer) spreads messages over partitions as it
 *     likes; we spread them round-robin ourselves, so that with 100
 *     messages and 3 partitions partition 0 holds Order-1, Order-4, ...,
 *     Order-100 (34 messages) and partitions 1 and 2 hold 33 each - and a
 *     check can say in advance which message sits at which offset;
 *   - the producer is idempotent with acks=all, so a retry after a network
 *     hiccup cannot write a message twice, and every delivery report is
 *     checked: "wrote 100 messages" means the broker has all 100.
 *
 * A topic that already holds messages is left alone unless --force is given,
 * so running `make populate` twice does not double the data.
 *
 * -e MS (--every) writes one message every MS milliseconds instead, each
 * delivered before the next and reported on stdout ("sent Order-N
 * partition=P"): a topic that fills while consumers read it (watch the lag
 * of step 08; make a rebalance land while a batch is being collected).
 *
 * --first N numbers them from Order-N on (message i still goes to partition
 * (i-1) % partitions): more orders, none with the value of an earlier one
 * (step 07's check adds orders to a topic whose first ones are recorded).
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "kit.h"

static const char usage[] =
    "usage: populate [-b BROKER] [-t TOPIC] [-n COUNT] [--force] [-e MS] [-P P]\n"
    "                [--first N]\n"
    "  Write Order-1 ... Order-COUNT to TOPIC, round-robin over its partitions.\n"
    "  -b BROKER  broker address (default " KIT_BROKER ")\n"
    "  -t TOPIC   topic name (default orders)\n"
    "  -n COUNT   number of messages (default 100)\n"
    "  --force    write even if the topic already holds messages\n"
    "  -e MS      (--every) one message every MS milliseconds, each delivered\n"
    "             before the next and reported on stdout (sent Order-N partition=P)\n"
    "  --first N  number them from Order-N on (default 1); with --force, more\n"
    "             orders after the first N-1\n"
    "  -P P       (--partition) every message to partition P, not round-robin\n"
    "             (partitions of different sizes, an empty one: step 08's checks)\n"
    "  -h         show this help\n";

/* What the delivery report callback learns, message by message. */
struct deliveries {
    long count;                 /* messages we are going to send */
    long ok, failed;            /* delivery reports received so far */
    rd_kafka_resp_err_t first_error;
    long next_progress;         /* report progress when ok+failed reaches it */
};

/* Called (from rd_kafka_poll/flush, in our thread) once per message: the
 * broker has either stored it, or librdkafka has given up on it. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg,
                        void *opaque)
{
    struct deliveries *d = opaque;

    (void)rk;
    if (msg->err) {
        if (d->failed++ == 0)
            d->first_error = msg->err;
    } else {
        d->ok++;
    }
    if (d->next_progress && d->ok + d->failed >= d->next_progress) {
        fprintf(stderr, "populate: %ld%% (%ld of %ld delivered)\n",
                (d->ok + d->failed) * 100 / d->count, d->ok, d->count);
        d->next_progress += d->count / 10;
    }
}

/* Sum of the high watermarks of all partitions: how many messages have been
 * written to the topic so far.  Returns -1 on error. */
static long messages_in(rd_kafka_t *rk, const rd_kafka_metadata_topic_t *t)
{
    long total = 0;

    for (int i = 0; i < t->partition_cnt; i++) {
        int64_t low, high;

        if (kit_watermarks(rk, t->topic, t->partitions[i].id, &low, &high))
            return -1;
        total += (long)high;
    }
    return total;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1)
        ;   /* interrupted: sleep the rest */
}

/* Queue COUNT messages; librdkafka sends them in the background. With
 * every_ms > 0, wait for each one's delivery, say so, then pause. */
/* -P: the one partition every message goes to (-1: round-robin). */
static int32_t only_partition = -1;

static int produce_all(rd_kafka_t *rk, const char *topic, int partitions,
                       long first, long count, long every_ms,
                       struct deliveries *d)
{
    for (long i = first; i < first + count; i++) {
        char value[32];
        int len = snprintf(value, sizeof value, "Order-%ld", i);
        int32_t partition = only_partition >= 0 ? only_partition
                                                : (int32_t)((i - 1) % partitions);
        rd_kafka_resp_err_t err;

        /* The local queue holds a limited number of messages; when it is
         * full, serve delivery reports (which frees room) and try again. */
        while ((err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_VALUE(value, (size_t)len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (err) {
            kit_err("cannot send Order-%ld: %s", i, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(rk, 0);   /* serve delivery reports as they come */
        if (every_ms > 0) {
            if (rd_kafka_flush(rk, 30000) || d->failed) {
                kit_err("Order-%ld was not delivered: %s", i,
                        d->failed ? rd_kafka_err2str(d->first_error)
                                  : "no answer within 30 s");
                return -1;
            }
            printf("sent %s partition=%d\n", value, (int)partition);
            fflush(stdout);
            if (i < first + count - 1)
                sleep_ms(every_ms);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"force", no_argument, NULL, 'f'},
        {"every", required_argument, NULL, 'e'},
        {"partition", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {"first", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *broker = KIT_BROKER, *topic = "orders";
    long count = 100, every_ms = 0, first = 1;
    int force = 0, opt, rc = 1;

    kit_prog = "populate";
    while ((opt = getopt_long(argc, argv, "b:t:n:e:P:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = kit_number('n', optarg, 1, 100000000, usage); break;
        case 'f': force = 1; break;
        case 'e': every_ms = kit_number('e', optarg, 1, 3600000, usage); break;
        case 'F': first = kit_number('F', optarg, 1, 100000000, usage); break;
        case 'P': only_partition = (int32_t)kit_number('P', optarg, 0, 100000, usage); break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);

    struct deliveries d = {.count = count};
    if (count >= 10000)
        d.next_progress = count / 10;

    /* message.timeout.ms bounds how long librdkafka keeps retrying a message
     * before reporting it failed, so a vanished broker ends in an error
     * instead of a hang. */
    rd_kafka_conf_t *conf = kit_conf(broker,
                                     "enable.idempotence", "true",
                                     "acks", "all",
                                     "linger.ms", "5",
                                     "message.timeout.ms", "30000",
                                     NULL);
    if (!conf)
        return 1;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &d);

    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_PRODUCER, conf, broker,
                                 KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;

    /* The topic must exist already: we do not let the broker create it
     * behind our back with its default partition count. */
    const rd_kafka_metadata_topic_t *t = kit_topic(md, topic);
    long already;
    if (!t) {
        kit_no_topic(topic);
    } else if ((already = messages_in(rk, t)) < 0) {
        /* kit_watermarks() said what went wrong */
    } else if (already > 0 && !force) {
        printf("%s already holds %ld message%s; nothing written "
               "(use --force to add %ld more)\n",
               topic, already, kit_s(already), count);
        rc = 0;
    } else if (produce_all(rk, topic, t->partition_cnt, first, count,
                           every_ms, &d) == 0) {
        /* Wait for the last delivery reports. */
        if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            kit_err("%ld of %ld messages still undelivered after 60 s",
                    count - d.ok - d.failed, count);
        else if (d.failed)
            kit_err("%ld of %ld messages were not delivered: %s",
                    d.failed, count, rd_kafka_err2str(d.first_error));
        else {
            printf("wrote %ld message%s to %s (%d partition%s)\n",
                   d.ok, kit_s(d.ok), topic, t->partition_cnt,
                   kit_s(t->partition_cnt));
            rc = 0;
        }
    }

    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}
