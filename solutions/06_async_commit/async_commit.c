/*
 * Step 06 - async commit: commit failures and edge cases.
 *
 * TASK
 * This consumer (group async-commit-group) works in batches of up to 5
 * messages (-n), 300 ms of work per batch (-p), like step 03, but leaves
 * its commits to librdkafka's default auto-commit: on a clock, and nobody
 * hears whether one worked. Make it commit each batch without waiting for
 * the broker, hear every partition's result, and survive a rebalance, a
 * refused commit, a broker that goes away. A failed commit must not stop
 * the program: report it and carry on (the next success covers it).
 *
 *   TODO 1  Turn auto-commit off (enable.auto.commit).
 *   TODO 2  Write and register commit_result(): it hears every commit.
 *   TODO 3  Commit each processed batch WITHOUT waiting for the answer.
 *   TODO 4  Your own rebalance callback: commit what was processed before
 *           its partitions go.
 *   TODO 5  Before closing, commit synchronously what was processed.
 *
 * Then `make run STEP=06`, start a second one in another terminal, and
 * watch the partitions move. README.md has the questions.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>

#include "step.h" /* options, output lines, batch fetch, simulated work */

static volatile sig_atomic_t run = 1;

/* What was processed, per partition: the next offset to read (highest
 * processed offset + 1). An entry leaves once a commit of it succeeded. */
static rd_kafka_topic_partition_list_t *processed;

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

/* Keep in `list` the highest next offset seen for the message's partition. */
__attribute__((unused)) static void
note_processed(rd_kafka_topic_partition_list_t *list,
               const rd_kafka_message_t *rkm) {
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(list, topic, rkm->partition);
        if (!p)
                p = rd_kafka_topic_partition_list_add(list, topic,
                                                      rkm->partition);
        if (rkm->offset + 1 > p->offset)
                p->offset = rkm->offset + 1;
}

/* TODO 2: librdkafka calls this with the result of every offset commit,
 * from rd_kafka_consumer_poll(). Print step_committed() for each partition
 * of `offsets` that the broker kept, step_commit_failed() for each it did
 * not. When one partition is refused and the others kept, what do `err`
 * and each partition's err say here: can they tell you which were kept?
 * If not, who can (step 03 met the same question)? Do not stop: the next
 * success covers it. */
/* SOLUTION (TODO 2): on success, every partition was kept. An error
 * means "not all": the broker answers per partition and keeps those it
 * accepted, but librdkafka (2.0.2, and the versions since) then gives
 * every partition of the request the request's error, even the ones the
 * broker kept. So on an error, ask the broker what it now holds, as step
 * 03 does: a partition that holds this commit's offset was kept. Once the
 * program stops (run is 0), the last results come during
 * rd_kafka_consumer_close(), when the group can no longer be asked (the
 * question would wait its whole timeout): then each counts as failed. */
__attribute__((unused)) static void
commit_result(rd_kafka_t *rk, rd_kafka_resp_err_t err,
              rd_kafka_topic_partition_list_t *offsets, void *opaque) {
        rd_kafka_topic_partition_list_t *held;
        int i;
        (void)opaque;
        if (!offsets || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return; /* there was nothing to commit */
        if (err)
                fprintf(stderr, "%% Commit failed (%s): carrying on, the "
                        "next commit covers it\n", rd_kafka_err2name(err));
        held = rd_kafka_topic_partition_list_copy(offsets);
        if (err && (!run || rd_kafka_committed(rk, held, 5000)))
                for (i = 0; i < held->cnt; i++) /* no answer: unknown */
                        held->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        for (i = 0; i < offsets->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &offsets->elems[i];
                rd_kafka_topic_partition_t *mine;
                if (err && held->elems[i].offset != p->offset) {
                        step_commit_failed(p->partition, p->offset,
                                           p->err ? p->err : err);
                        continue;
                }
                step_committed(p->partition, p->offset);
                mine = rd_kafka_topic_partition_list_find(
                    processed, p->topic, p->partition);
                if (mine && mine->offset <= p->offset)
                        rd_kafka_topic_partition_list_del(
                            processed, p->topic, p->partition);
        }
        rd_kafka_topic_partition_list_destroy(held);
}

/* TODO 4: a rebalance callback of your own; print with
 * step_rebalance_log(). Assigned: apply it. Revoked: step_fetch_batch()
 * drops the messages in hand; commit synchronously what was processed on
 * those partitions (`processed`) unless the assignment was lost (the
 * broker would refuse), forget them, and apply the revocation. How? See
 * rd_kafka_conf_set_rebalance_cb in rdkafka.h. */

/* SOLUTION (TODO 4, 5): commit synchronously what was processed on the
 * partitions in `which` (NULL: all); commit_result() prints the results. */
static void commit_processed(rd_kafka_t *rk,
                             const rd_kafka_topic_partition_list_t *which,
                             const char *when) {
        rd_kafka_topic_partition_list_t *offsets =
            rd_kafka_topic_partition_list_new(processed->cnt + 1);
        rd_kafka_resp_err_t err;
        int i;
        for (i = 0; i < processed->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &processed->elems[i];
                if (!which || rd_kafka_topic_partition_list_find(
                                  which, p->topic, p->partition))
                        rd_kafka_topic_partition_list_add(
                            offsets, p->topic, p->partition)->offset =
                            p->offset;
        }
        if (offsets->cnt > 0 && (err = rd_kafka_commit(rk, offsets, 0)))
                fprintf(stderr, "%% Commit %s failed: %s: %s\n", when,
                        rd_kafka_err2name(err), rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(offsets);
}

/* SOLUTION (TODO 4): our own rebalance callback (eager assignors, the
 * default: each rebalance revokes everything, then assigns anew). */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *partitions,
                      void *opaque) {
        int i;
        (void)opaque;
        step_rebalance_log(rk, err, partitions);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rd_kafka_assign(rk, partitions);
                return;
        }
        /* Commit what was processed, and wait: the next owner starts
         * where this commit says. A lost assignment (we were put out of
         * the group) can no longer commit: the broker would refuse. */
        if (!rd_kafka_assignment_lost(rk))
                commit_processed(rk, partitions, "at revoke");
        for (i = 0; i < partitions->cnt; i++)
                rd_kafka_topic_partition_list_del(
                    processed, partitions->elems[i].topic,
                    partitions->elems[i].partition);
        rd_kafka_assign(rk, NULL);
}

int main(int argc, char **argv) {
        struct step_opts opt = {
            .group = "async-commit-group", .process_ms = 300, .batch = 5};
        struct sigaction sa = {.sa_handler = stop};
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_message_t **batch;
        rd_kafka_resp_err_t err;
        char errstr[512];

        step_init(&opt, argc, argv, &run);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        conf = rd_kafka_conf_new();
        set_conf(conf, "bootstrap.servers", opt.brokers);
        set_conf(conf, "group.id", opt.group);
        /* A group with no committed offset starts at the beginning. */
        set_conf(conf, "auto.offset.reset", "earliest");

        /* TODO 1: Set "enable.auto.commit" to "false": only this
         * program's own commits, of processed batches, may count. */
        /* SOLUTION (TODO 1) */
        set_conf(conf, "enable.auto.commit", "false");

        /* TODO 2: Register commit_result() to hear every commit's
         * result (rdkafka.h, "Configuration interface"). */
        /* SOLUTION (TODO 2) */
        rd_kafka_conf_set_offset_commit_cb(conf, commit_result);

        /* TODO 4: The kit's callback prints and applies each rebalance.
         * Use your own (rebalance(), above), which first commits. */
        /* SOLUTION (TODO 4) */
        rd_kafka_conf_set_rebalance_cb(conf, rebalance);
        step_apply_overrides(conf); /* -X key=value, last so they win */

        /* rd_kafka_new() takes ownership of conf, on success. */
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%% Failed to create consumer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        /* Serve librdkafka's events and callbacks (rebalances, commit
         * results) from rd_kafka_consumer_poll() too: one queue to poll. */
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

        batch     = malloc(sizeof(*batch) * (size_t)opt.batch);
        processed = rd_kafka_topic_partition_list_new(4);

        while (run && batch) {
                int i, n = step_fetch_batch(rk, batch, opt.batch);
                if (n == 0)
                        continue;

                for (i = 0; i < n; i++)
                        step_started(batch[i]);
                step_work(batch, n);
                for (i = 0; i < n; i++)
                        step_processed(batch[i]);

                /* TODO 3: Note what the batch processed (note_processed
                 * into `processed`) and commit its offsets, highest + 1
                 * per partition, asynchronously: commit_result() hears the
                 * answer while the program goes on. */
                /* SOLUTION (TODO 3) */
                rd_kafka_topic_partition_list_t *offsets =
                    rd_kafka_topic_partition_list_new(n);
                for (i = 0; i < n; i++) {
                        note_processed(processed, batch[i]);
                        note_processed(offsets, batch[i]);
                }
                err = rd_kafka_commit(rk, offsets, 1 /* async */);
                if (err) /* not sent at all (the answers come later) */
                        fprintf(stderr, "%% Commit not sent: %s\n",
                                rd_kafka_err2name(err));
                rd_kafka_topic_partition_list_destroy(offsets);

                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(batch[i]);
        }
        free(batch);

        /* TODO 5: Before closing, commit synchronously whatever was
         * processed and not yet confirmed: an asynchronous commit may
         * have failed and no later batch covered it. */
        /* SOLUTION (TODO 5) */
        commit_processed(rk, NULL, "at shutdown");

        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_topic_partition_list_destroy(processed);
        rd_kafka_destroy(rk);
        return step_exit_status(0);
}
