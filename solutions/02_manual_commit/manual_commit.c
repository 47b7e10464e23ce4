/*
 * Step 02 - manual commit: commit each message once it is processed.
 *
 * TASK
 * This consumer reads the topic `orders` in the group manual-commit-group
 * and processes each order for 500 ms (-p). As given it still leaves the
 * commits to librdkafka's default auto-commit, which every 5 s commits
 * whatever offsets were handed out, processed or not. Make it commit by
 * itself, one message at a time, and only after that message is done:
 *
 *   TODO 1  Turn auto-commit off (the setting step 01 turned on).
 *   TODO 2  After each message is processed, commit exactly that message
 *           and wait for the broker's answer, then print the `committed`
 *           line with step_committed(). If the commit fails, report it
 *           and stop: close the consumer and exit 1.
 *
 * Then `make run STEP=02`, stop it with Ctrl+C, run it again and see where
 * it resumes. README.md has the questions.
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
        struct step_opts opt = {.group = "manual-commit-group",
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

        /* TODO 1: librdkafka commits automatically unless told otherwise,
         * and it would commit offsets of messages not yet processed. Turn
         * that off, with the setting step 01 turned on: from now on only
         * the commits this program makes count. */
        /* SOLUTION (TODO 1): no background commits at all. */
        set_conf(conf, "enable.auto.commit", "false");

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

                step_started(rkm);
                step_work(&rkm, 1); /* a Ctrl+C here lets it finish */
                step_processed(rkm);

                /* TODO 2: The message is processed: now, and only now,
                 * commit it, and wait for the broker's answer before going
                 * on, so that a crash can replay at most this message.
                 * A committed offset is where the group resumes: which
                 * offset must the broker record so that a restart neither
                 * skips this message nor repeats it? rdkafka.h's
                 * "KafkaConsumer (C)" section has the commit functions:
                 * read what each one commits, and how to make it wait. On
                 * success print the line with step_committed(partition,
                 * the offset committed). On failure print
                 * rd_kafka_err2name() and rd_kafka_err2str() of the error
                 * on stderr, set status = 1 and stop the loop: carrying on
                 * would process messages whose commits may all fail. */
                /* SOLUTION (TODO 2): a synchronous commit of this message. */
                err = rd_kafka_commit_message(rk, rkm, 0);
                if (err) {
                        fprintf(stderr,
                                "%% Commit of partition %" PRId32
                                " offset %" PRId64 " failed: %s: %s\n",
                                rkm->partition, rkm->offset + 1,
                                rd_kafka_err2name(err), rd_kafka_err2str(err));
                        status = 1;
                        run    = 0;
                } else {
                        step_committed(rkm->partition, rkm->offset + 1);
                }

                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit, --max, or a failed commit).
         * With auto-commit off, close() commits nothing: each message must
         * have been committed once processed (TODO 2). close() leaves the
         * group so that its partitions go to another member at once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(status);
}
