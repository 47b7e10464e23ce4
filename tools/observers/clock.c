/*
 * clock - how far the broker's clock is from this machine's.
 *
 * The checks set the broker's commit timestamps (its clock) beside the times
 * the programs print (this machine's clock).  On one machine they are the
 * same clock.  A broker in a virtual machine (Docker Desktop, colima) has a
 * clock of its own, which can drift by seconds.  This tool measures the gap:
 * it writes a few messages, one at a time, to a topic whose timestamps the
 * broker sets on append (message.timestamp.type=LogAppendTime), reads them
 * back, and sets the broker's timestamp of the quickest one against the
 * middle of this machine's send and acknowledgement times.  It prints the
 * skew in milliseconds (broker minus here), and that round trip, which
 * bounds the error:
 *
 *     skew_ms=-3 round_trip_ms=12
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit.h"

static const char usage[] =
    "usage: clock [-b BROKER]\n"
    "  Print skew_ms=N round_trip_ms=M: the broker's clock minus this machine's,\n"
    "  measured with one message whose timestamp the broker sets on append.\n"
    "  -b BROKER  broker address (default " KIT_BROKER ")\n"
    "  -h         show this help\n";

#define CLOCK_TOPIC "workbook-clock"
#define SAMPLES 4

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create the clock topic (one partition, LogAppendTime) unless it exists. */
static int make_topic(rd_kafka_t *rk)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(CLOCK_TOPIC, 1, 1, errstr, sizeof errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev;
    int rc = -1;

    if (!nt) {
        kit_err("%s", errstr);
        rd_kafka_queue_destroy(q);
        return -1;
    }
    rd_kafka_NewTopic_set_config(nt, "message.timestamp.type", "LogAppendTime");
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, KIT_TIMEOUT_MS + 1000);
    if (!ev) {
        kit_err("no answer to CreateTopics");
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **t = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);

        if (!err && n == 1)
            err = rd_kafka_topic_result_error(t[0]);
        if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = 0;
        else
            kit_err("cannot create %s: %s", CLOCK_TOPIC, rd_kafka_err2str(err));
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    return rc;
}

int main(int argc, char **argv)
{
    const char *broker = KIT_BROKER;
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk;
    rd_kafka_message_t *m;
    rd_kafka_topic_partition_list_t *at;
    rd_kafka_resp_err_t err;
    int64_t sent[SAMPLES], got[SAMPLES], stamp, offset, best_skew = 0, best_rtt = -1;
    rd_kafka_timestamp_type_t type;
    int opt, rc = 1;

    kit_prog = "clock";
    while ((opt = getopt(argc, argv, "b:h")) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    /* One client produces and consumes: a consumer handle can produce too
     * (it has a producer side), and reads with an assignment, no group. */
    rk = kit_connect(RD_KAFKA_PRODUCER,
                     kit_conf(broker, "linger.ms", "0", NULL), broker, KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;
    rd_kafka_metadata_destroy(md);
    if (make_topic(rk)) {
        rd_kafka_destroy(rk);
        return 1;
    }
    err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < SAMPLES && !err; i++) {
        sent[i] = now_ms();
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(CLOCK_TOPIC), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE("tick", 4), RD_KAFKA_V_END);
        if (!err && rd_kafka_flush(rk, KIT_TIMEOUT_MS))
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
        got[i] = now_ms();
    }
    rd_kafka_destroy(rk);
    if (err) {
        kit_err("cannot write to %s: %s", CLOCK_TOPIC, rd_kafka_err2str(err));
        return 1;
    }

    /* Read back the last messages of the partition: the ones just written. */
    rk = kit_connect(RD_KAFKA_CONSUMER,
                     kit_conf(broker, "group.id", "workbook-clock", "enable.auto.commit", "false",
                              NULL),
                     broker, KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;
    rd_kafka_metadata_destroy(md);
    {
        int64_t low, high;
        if (kit_watermarks(rk, CLOCK_TOPIC, 0, &low, &high)) {
            rd_kafka_destroy(rk);
            return 1;
        }
        offset = high - SAMPLES;
    }
    at = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(at, CLOCK_TOPIC, 0)->offset = offset;
    rd_kafka_assign(rk, at);
    rd_kafka_topic_partition_list_destroy(at);
    for (int i = 0; i < SAMPLES; i++) {
        m = rd_kafka_consumer_poll(rk, KIT_TIMEOUT_MS);
        if (!m || m->err) {
            kit_err("cannot read back from %s: %s", CLOCK_TOPIC,
                    m ? rd_kafka_message_errstr(m) : "nothing came");
            if (m)
                rd_kafka_message_destroy(m);
            break;
        }
        stamp = rd_kafka_message_timestamp(m, &type);
        rd_kafka_message_destroy(m);
        if (type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
            kit_err("%s does not carry the broker's append time", CLOCK_TOPIC);
            break;
        }
        if (best_rtt < 0 || got[i] - sent[i] < best_rtt) {
            best_rtt = got[i] - sent[i];
            best_skew = stamp - (sent[i] + got[i]) / 2;
        }
        if (i == SAMPLES - 1) {
            printf("skew_ms=%" PRId64 " round_trip_ms=%" PRId64 "\n", best_skew, best_rtt);
            rc = 0;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}
