/*
 * Step 03 - batch commit: one commit per batch.
 *
 * TASK
 * Committing after every message costs a round trip to the broker per
 * message. This consumer (group batch-commit-group) works in batches: it
 * collects up to 5 messages (-n), processes them together for 2 s (-p),
 * and moves on. But it commits nothing itself: librdkafka's default
 * auto-commit still does that, every 5 s, processed or not. Make it commit
 * each batch once the whole batch is processed, in one commit:
 *
 *   TODO 1  Turn auto-commit off, as in step 02.
 *   TODO 2  After the batch is processed, build the offsets to commit: a
 *           rd_kafka_topic_partition_list_t with one entry per partition
 *           in the batch. Which offset must each entry hold?
 *   TODO 3  Commit that whole list at once and wait for the answer, print
 *           one `committed` line per partition (step_committed), free the
 *           list. If the commit fails, report it, close and exit 1.
 *
 * Then `make run STEP=03`, press Ctrl+C in the middle of a batch and watch
 * what happens to the batch in hand. README.md has the questions.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "step.h" /* options, output lines, simulated work */

static volatile sig_atomic_t run = 1;
static int status = 0; /* exit status: 1 after a failed commit or a
                        * fatal error */

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

/* Collect the next batch, up to max messages: wait up to 1 s for the
 * first one, then take only what arrives within 100 ms of the previous,
 * so that a quiet topic does not hold a half-full batch back.
 *
 * Why not rd_kafka_consume_batch_queue(), which returns N messages in one
 * call? It waits for the whole timeout unless it gets all N, and the
 * librdkafka 2.0.x CHANGELOG lists a known issue: run during a rebalance
 * (or a seek, pause, resume) the batch APIs may lose messages or return
 * the wrong ones. rd_kafka_consumer_poll() has no such problem, and also
 * serves the rebalance callback.
 *
 * That callback can run while the batch is half collected. Partitions
 * revoked then may go to another member: messages of theirs in hand must
 * not be processed and committed here. So a rebalance drops the batch; the
 * messages are read again, by whoever owns their partition now, from the
 * committed offset. */
static int fetch_batch(rd_kafka_t *rk, rd_kafka_message_t **batch, int max) {
        int n = 0, revocations = step_revocations();

        while (run && n < max) {
                rd_kafka_message_t *rkm =
                    rd_kafka_consumer_poll(rk, n == 0 ? 1000 : 100);
                if (step_revocations() != revocations) {
                        fprintf(stderr, "%% rebalance during the batch: "
                                        "%d message(s) dropped\n", n);
                        while (n > 0)
                                rd_kafka_message_destroy(batch[--n]);
                        revocations = step_revocations();
                }
                if (!rkm) {
                        if (n == 0)
                                step_idle();
                        break;
                }
                if (rkm->err) {
                        /* Mostly informational: librdkafka recovers by
                         * itself. The kit prints it, and ends the run on a
                         * fatal error or one that keeps coming back. */
                        step_consumer_error(rkm);
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                batch[n++] = rkm;
        }
        return n;
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group      = "batch-commit-group",
                                .process_ms = 2000,
                                .batch      = 5};
        struct sigaction sa;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_message_t **batch;
        rd_kafka_resp_err_t err;
        char errstr[512];

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

        /* TODO 1: The batch is committed by this program once it is
         * processed, and by no timer in between: turn auto-commit off, as
         * in step 02. */
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

        batch = malloc(sizeof(*batch) * (size_t)opt.batch);
        if (!batch) {
                perror("% malloc");
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
                return 1;
        }

        while (run) {
                int i, n = fetch_batch(rk, batch, opt.batch);
                if (n == 0)
                        continue;

                /* One work call for the whole batch. A Ctrl+C during it
                 * lets it finish: the batch in hand gets committed. */
                for (i = 0; i < n; i++)
                        step_started(batch[i]);
                step_work(batch, n);
                for (i = 0; i < n; i++)
                        step_processed(batch[i]);

                /* TODO 2: Build the offsets to commit. The batch may hold
                 * messages of several partitions, and a committed offset
                 * belongs to one partition and means "everything before
                 * this is done". So: a list like `topics` above, with one
                 * entry per partition of the batch. Which offset goes in
                 * an entry when the batch holds several messages of its
                 * partition? rdkafka.h has the list functions next to
                 * rd_kafka_topic_partition_list_new(). An entry wants the
                 * topic's name, and a message carries only a topic handle
                 * (->rkt): rdkafka.h's "Main Kafka and Topic object
                 * handles" tells how to get its name. */
                /* SOLUTION (TODO 2): highest offset + 1 per partition. */
                rd_kafka_topic_partition_list_t *offsets =
                    rd_kafka_topic_partition_list_new(n);
                for (i = 0; i < n; i++) {
                        const char *topic = rd_kafka_topic_name(batch[i]->rkt);
                        int64_t next      = batch[i]->offset + 1;
                        rd_kafka_topic_partition_t *p =
                            rd_kafka_topic_partition_list_find(
                                offsets, topic, batch[i]->partition);
                        if (!p) {
                                p = rd_kafka_topic_partition_list_add(
                                    offsets, topic, batch[i]->partition);
                                p->offset = next;
                        } else if (next > p->offset) {
                                p->offset = next;
                        }
                }

                /* TODO 3: Commit the whole list in one request, and wait
                 * for the broker's answer: one commit per batch is the
                 * point of this step. Step 02's rd_kafka_commit_message()
                 * takes one message; rdkafka.h's "KafkaConsumer (C)"
                 * section has the function that takes a list. On success
                 * print one line per entry with step_committed(partition,
                 * offset). On failure print rd_kafka_err2name() and
                 * rd_kafka_err2str() of the error on stderr, set
                 * status = 1 and stop the loop. An error means "not
                 * all": the broker answers per partition and may have kept
                 * some, but librdkafka does not write those answers back
                 * into your list. So on an error, ask the broker what it
                 * now holds for each partition (the same section can read
                 * a group's committed offsets; work on a copy of the list)
                 * and print step_committed() or step_commit_failed() per
                 * entry. Either way free the list
                 * (rd_kafka_topic_partition_list_destroy). */
                /* SOLUTION (TODO 3): one synchronous commit per batch. An
                 * error means "not all": the broker answers per partition,
                 * and a partial failure keeps the others. librdkafka does
                 * not copy those answers back into our list, so ask the
                 * broker what it now has for each partition. */
                err = rd_kafka_commit(rk, offsets, 0);
                rd_kafka_topic_partition_list_t *kept =
                    rd_kafka_topic_partition_list_copy(offsets);
                if (err && rd_kafka_committed(rk, kept, 5000))
                        for (i = 0; i < kept->cnt; i++)
                                kept->elems[i].offset = -1; /* unknown */
                for (i = 0; i < offsets->cnt; i++) {
                        rd_kafka_topic_partition_t *p = &offsets->elems[i];
                        if (err && kept->elems[i].offset != p->offset)
                                step_commit_failed(p->partition, p->offset, err);
                        else
                                step_committed(p->partition, p->offset);
                }
                rd_kafka_topic_partition_list_destroy(kept);
                if (err) {
                        fprintf(stderr, "%% Commit of batch failed: %s: %s\n",
                                rd_kafka_err2name(err), rd_kafka_err2str(err));
                        status = 1;
                        run    = 0;
                }
                rd_kafka_topic_partition_list_destroy(offsets);

                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(batch[i]);
        }
        free(batch);

        /* Graceful end (Ctrl+C, --idle-exit, --max, or a failed commit).
         * With auto-commit off, close() commits nothing: each batch must
         * have been committed once processed (TODO 3). close() leaves the
         * group so that its partitions go to another member at once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(status);
}
