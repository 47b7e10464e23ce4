/*
 * Step 05 - store after processing: at-least-once with librdkafka's timer.
 *
 * TASK
 * This consumer reads the topic `orders` in the group
 * store-after-processing-group and processes each order for 300 ms (-p).
 * Step 02 bought at-least-once with one synchronous commit per message.
 * librdkafka's own documentation recommends a cheaper way: keep the
 * automatic commit, but choose yourself WHICH offsets it may commit.
 *
 * Remember step 01: the timer commits the offsets librdkafka has
 * "stored", and as given librdkafka stores a message's offset when it
 * hands the message over, before its processing begins. So the timer can
 * commit a message still in hand, and a crash then loses it.
 *
 *   TODO 1  Let the timer commit every 1000 ms, not every 5 s.
 *   TODO 2  Stop librdkafka from storing an offset by itself when it
 *           hands a message over.
 *   TODO 3  After a message is processed, store its offset yourself for
 *           the next automatic commit, and print the `stored` line with
 *           step_stored().
 *
 * Then `make run STEP=05`, crash it, rerun it, and compare the commits
 * with steps 01 and 02. README.md has the questions.
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
        struct step_opts opt = {.group = "store-after-processing-group",
                                .process_ms = 300};
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

        /* Auto-commit stays on (librdkafka's default): a timer commits
         * the stored offsets, and close() commits them one last time. */

        /* TODO 1: The timer's period is the most work a crash can make
         * the program do again. The default is 5 s; make it 1000 ms, with
         * the setting step 01 used (CONFIGURATION.md). */
        /* SOLUTION (TODO 1): a commit round every second. */
        set_conf(conf, "auto.commit.interval.ms", "1000");

        /* TODO 2: By default librdkafka stores each message's offset + 1
         * just before rd_kafka_consumer_poll() returns the message, that
         * is, before this program has done any work on it. Find, in
         * CONFIGURATION.md, the consumer property that turns that off, so
         * that only the offsets this program stores (TODO 3) can be
         * committed. */
        /* SOLUTION (TODO 2): librdkafka no longer stores by itself. */
        set_conf(conf, "enable.auto.offset.store", "false");

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

                /* TODO 3: The message is processed: now mark it done for
                 * the next automatic commit. rdkafka.h, "Topic+partition
                 * offset store", has a call that stores offsets for one or
                 * more partitions without committing them (it takes a
                 * partition list, like the one step 03 built).
                 *   - Which offset: the message's own, or the next one to
                 *     read? Does that call add the + 1 for you?
                 * On success print the line with
                 * step_stored(partition, next offset). On failure print
                 * rd_kafka_err2name() and rd_kafka_err2str() of the error
                 * on stderr and go on: an offset not stored is not
                 * committed, so the message comes again after a restart,
                 * which at-least-once allows. */
                /* SOLUTION (TODO 3): store offset + 1 (the call adds no
                 * + 1) for this message's partition; the timer or close()
                 * commits it. */
                {
                        rd_kafka_topic_partition_list_t *offsets =
                            rd_kafka_topic_partition_list_new(1);
                        rd_kafka_topic_partition_list_add(
                            offsets, rd_kafka_topic_name(rkm->rkt),
                            rkm->partition)
                            ->offset = rkm->offset + 1;
                        err = rd_kafka_offsets_store(rk, offsets);
                        if (err)
                                fprintf(stderr,
                                        "%% Store of partition %" PRId32
                                        " offset %" PRId64 " failed: %s: %s\n",
                                        rkm->partition, rkm->offset + 1,
                                        rd_kafka_err2name(err),
                                        rd_kafka_err2str(err));
                        else
                                step_stored(rkm->partition, rkm->offset + 1);
                        rd_kafka_topic_partition_list_destroy(offsets);
                }

                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit or --max). With auto-commit
         * on, close() commits the offsets stored since the last tick of
         * the timer, so a rerun resumes right after the last message
         * processed. It also leaves the group so that its partitions go
         * to another member at once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(status);
}
