/*
 * Step 01 - auto-commit: let librdkafka commit for you.
 *
 * TASK
 * This consumer reads the topic `orders` in the group auto-commit-group
 * and "processes" each order for 2 s (-p). It never commits itself: a
 * timer in librdkafka does, in the background, and commits the offsets
 * librdkafka has *stored* for you. To show what that means it crashes on
 * purpose while processing the 8th message (--crash-at), the way a real
 * program dies: no cleanup at all.
 *
 *   TODO 1  Make sure auto-commit is on, and make it commit every 3 s
 *           rather than at librdkafka's default pace.
 *   TODO 2  Make a group that has never committed start at the first
 *           order of the topic, not at its end.
 *   TODO 3  Get on_commit() below called, so that it reports the
 *           automatic commits.
 *
 * Then `make run STEP=01`: let it crash, run it again and compare which
 * orders come a second time, and which never come again. README.md has
 * the questions.
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

/* The offset commit callback: librdkafka calls it (from inside
 * rd_kafka_consumer_poll) with the result of each commit it made on its
 * own. These are not `committed` lines on stdout: this program did not
 * make them, the timer did. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets,
                      void *opaque) {
        int i;
        (void)rk;
        (void)opaque;

        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return; /* nothing new was stored: nothing to commit */
        if (err) {
                fprintf(stderr, "%% auto-commit failed: %s: %s\n",
                        rd_kafka_err2name(err), rd_kafka_err2str(err));
                return;
        }
        for (i = 0; i < offsets->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &offsets->elems[i];
                if (p->err)
                        fprintf(stderr,
                                "%% auto-commit: partition %" PRId32
                                " failed: %s: %s\n",
                                p->partition, rd_kafka_err2name(p->err),
                                rd_kafka_err2str(p->err));
                else if (p->offset >= 0)
                        fprintf(stderr,
                                "%% auto-commit: partition %" PRId32
                                " offset %" PRId64 "\n",
                                p->partition, p->offset);
        }
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group      = "auto-commit-group",
                                .process_ms = 2000,
                                .crash_at   = 8};
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

        /* TODO 1: Auto-commit is what this step is about. It is on by
         * default, but say what your program relies on: turn it on
         * explicitly. Then make the timer commit every 3 seconds: by
         * default it waits 5. Both are consumer settings, set with
         * set_conf() like the two above: look for them in librdkafka's
         * CONFIGURATION.md (in the first table, "C" marks a consumer
         * setting) and read INTRODUCTION.md, "Offset management". */

        /* TODO 2: This group has never committed, so it has no offset
         * to resume from. Where does librdkafka start reading then? As
         * given, at the end of each partition: it waits for orders
         * produced from now on and reads none of the 100 already there.
         * Make a new group start with the first order instead. The
         * setting is a topic property in CONFIGURATION.md (the second
         * table), and it can be set here like the others. */

        /* Report each automatic commit, and each partition assignment (the
         * kit's callback also starts the --idle-exit clock). */
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
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

        /* TODO 3: on_commit() is registered above, yet as given it is
         * never called: the commits happen, but nothing reports them.
         * librdkafka queues callbacks on its main queue, and this program
         * only ever polls the consumer queue, with rd_kafka_consumer_poll().
         * Make that one call serve both. It needs the handle, so it goes
         * here, after rd_kafka_new(). Where to look: rdkafka.h, for the
         * function that redirects the main queue (INTRODUCTION.md,
         * "Threads and callbacks", says why callbacks need polling). */

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

                /* Before handing us this message, librdkafka has already
                 * *stored* its offset + 1 (enable.auto.offset.store=true,
                 * the default): the next auto-commit will commit it, even
                 * if it fires while we are still processing. The store is
                 * in memory only: whatever is stored but not yet committed
                 * dies with the process. */
                step_started(rkm);
                step_work(&rkm, 1); /* may crash: see --crash-at */
                step_processed(rkm);
                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit, --max): with auto-commit on,
         * close() commits what is stored (up to the last message handed
         * out, processed by now), then leaves the group so that its
         * partitions go to another member at once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(status);
}
