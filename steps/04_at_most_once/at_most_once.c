/*
 * Step 04 - at-most-once: commit each message before processing it.
 *
 * TASK
 * This consumer reads the topic `orders` in the group at-most-once-group
 * and processes each order for 500 ms (-p). Step 02 committed a message
 * after processing it: a crash then processes the message in hand twice.
 * Some systems would rather lose a message than handle it twice (a
 * payment, an SMS, an alarm that wakes someone up). Here you build that
 * opposite promise, at-most-once: a message counts as done the moment it
 * is received, before any work is done on it.
 *
 * As given, the commits are still left to librdkafka's default
 * auto-commit, which every 5 s commits whatever was handed out, whether
 * its processing has begun, ended or not.
 *
 *   TODO 1  Make only this program's own commits count, as in step 02.
 *   TODO 2  Have the broker record each message as done before any
 *           work on it starts, then print the `committed` line with
 *           step_committed(). And if the broker refuses?
 *
 * Then `make run STEP=04` with a crash and a rerun (README.md), and compare
 * with step 02: same crash, opposite outcome.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "step.h" /* options, output lines, simulated work */

static volatile sig_atomic_t run = 1;

/* Ctrl+C (SIGINT) or SIGTERM: leave the loop and shut down cleanly. */
static void stop(int sig) {
        (void)sig;
        run = 0;
}

/* Set one configuration property. A bad name or value is a bug in this
 * program: print librdkafka's explanation and give up. */
static void set_conf(rd_kafka_conf_t *conf, const char *name,
                     const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%% %s\n", errstr);
                exit(1);
        }
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group = "at-most-once-group",
                                .process_ms = 500};
        struct sigaction sa;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;
        char errstr[512];
        int status = 0;

        step_init(&opt, argc, argv, &run);

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        conf = rd_kafka_conf_new();
        set_conf(conf, "bootstrap.servers", opt.brokers);
        set_conf(conf, "group.id", opt.group);
        /* A group with no committed offset starts at the beginning. */
        set_conf(conf, "auto.offset.reset", "earliest");

        /* TODO 1: librdkafka commits on a timer unless told otherwise,
         * and its timer commits whatever it handed out, at a moment this
         * program does not choose. Step 02 turned that off: do the same
         * here, so that the only commits are the ones TODO 2 makes, at
         * the moment it makes them (CONFIGURATION.md). */

        /* Print each partition assignment (the kit's callback also starts
         * the --idle-exit clock). */
        rd_kafka_conf_set_rebalance_cb(conf, step_rebalance_cb);

        /* -X key=value from the command line, last so that they win. */
        step_apply_overrides(conf);

        /* rd_kafka_new() takes ownership of conf, on success. */
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%% Failed to create consumer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }

        /* Serve librdkafka's events and callbacks from
         * rd_kafka_consumer_poll() too: one queue to poll. */
        rd_kafka_poll_set_consumer(rk);

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, opt.topic,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                fprintf(stderr, "%% Failed to subscribe to %s: %s\n",
                        opt.topic, rd_kafka_err2str(err));
                rd_kafka_destroy(rk);
                return 1;
        }
        fprintf(stderr, "%% Subscribed to %s as %s, waiting for partitions\n",
                opt.topic, opt.group);

        while (run) {
                /* A short timeout keeps the loop checking `run`. */
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
                if (!rkm) {
                        step_idle();
                        continue;
                }
                if (rkm->err) {
                        /* Mostly informational: librdkafka recovers by
                         * itself. The kit prints it, and ends the run on a
                         * fatal error or one that keeps coming back. */
                        step_consumer_error(rkm);
                        rd_kafka_message_destroy(rkm);
                        continue;
                }

                /* TODO 2: At-most-once: the broker must record this
                 * message as done before any work on it starts, so that
                 * whatever happens next, no restart hands it out again.
                 *   - Where among the three lines below does that go?
                 *   - Which offset must the broker record: the message's
                 *     own, or the next one to read?
                 *   - Step 02 committed one message with one call. Is
                 *     the commit done when that call returns, or when the
                 *     broker has answered? What if the program crashes
                 *     while it is still on its way? (rdkafka.h, section
                 *     "KafkaConsumer (C)": the commit functions.)
                 *   - The broker can refuse a commit. Step 02 had already
                 *     processed its message when that happened; here,
                 *     what may the program do with this message then, and
                 *     how does whoever runs it find out? (The check makes
                 *     one commit fail; README.md says what it expects.)
                 * On success print the line with
                 * step_committed(partition, next offset). */
                step_started(rkm);

                step_work(&rkm, 1); /* a Ctrl+C here lets it finish */
                step_processed(rkm);

                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit, --max, or a failed commit).
         * With TODO 1 and 2 done, the message in hand was committed before
         * its processing began and step_work() let it finish: nothing is
         * left to commit, and close() commits nothing either. close()
         * leaves the group so that its partitions go to another member at
         * once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(status);
}
