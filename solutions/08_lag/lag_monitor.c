/*
 * Step 08 - lag monitor: how far behind is the group, and do its commits
 * still land?
 *
 * TASK
 * This consumer (group lag-group) works as in step 03: batches of up to 5
 * (-n), 200 ms of work each (-p), one synchronous commit per batch. But a
 * failed commit no longer stops it: it goes on, busy, while the group's
 * committed offsets may stand still. Make it watch its lag:
 *
 *   TODO 1  Write report_lag(): one `lag` line (step_lag) per assigned
 *           partition, from the offset the group has committed and the
 *           partition's log end (high watermark), returning the total lag.
 *   TODO 2  Call it once a second while consuming.
 *   TODO 3  Call it once more after the last commit, before closing.
 *   TODO 4  Warn on stderr ("% WARNING ...") when the last successful
 *           commit is older than --commit-stale-ms while lag > 0.
 *
 * Then `make run STEP=08` and, in another terminal, `make lag
 * GROUP=lag-group`: do the two agree? README.md has the questions.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "step.h" /* options, output lines, batch fetch, simulated work */

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

/* TODO 1: Write report_lag(rk): for each partition assigned to this
 * consumer (rdkafka.h, "KafkaConsumer (C)", lists them) print
 * step_lag(partition, committed, end); return the total lag: log end (the
 * offset the next message written gets) minus committed (where a restart
 * resumes). Decide, and say why in a comment: which committed offset, the
 * broker's record for the group or this program's last commit? Which log
 * end: of the two watermark calls ("Main Kafka and Topic object handles"),
 * one asks the broker, one answers from what librdkafka last heard. What
 * does each cost, and say before the first fetch? */
/* SOLUTION (TODO 1): milliseconds on the monotonic clock. */
static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SOLUTION (TODO 1): one line per assigned partition, the total lag. */
static int64_t report_lag(rd_kafka_t *rk) {
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t err;
        int64_t total = 0;
        int i;

        if (rd_kafka_assignment(rk, &parts))
                return 0; /* out of memory */
        /* The committed offsets from the group coordinator, in one request.
         * Not our own last commit: that is what we believe, blind to an
         * earlier run's or another member's commits. Lag is the group's:
         * where a restart resumes, what `make lag` shows. */
        if ((err = rd_kafka_committed(rk, parts, 5000))) {
                fprintf(stderr, "%% Cannot read the committed offsets: %s\n",
                        rd_kafka_err2name(err));
                rd_kafka_topic_partition_list_destroy(parts);
                return 0;
        }
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t low, end;

                if (p->err)
                        continue;
                /* The log end as last heard: each fetch response, even an
                 * empty one, brings it; fresh while we fetch, and free. The
                 * query call waits behind our fetcher's long poll: 500 ms
                 * (fetch.wait.max.ms) per partition here. Unknown (< 0)
                 * before the first fetch (skip it then), stale if fetching
                 * stops: an outside monitor queries, as tools/observers/lag.c does. */
                rd_kafka_get_watermark_offsets(rk, p->topic, p->partition,
                                               &low, &end);
                if (end < 0)
                        continue;
                /* No commit yet (offset < 0): all of it is lag. */
                step_lag(p->partition, p->offset, end);
                total += p->offset < 0 ? end : end - p->offset;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return total;
}

int main(int argc, char **argv) {
        struct step_opts opt = {
            .group = "lag-group", .process_ms = 200, .batch = 5};
        struct sigaction sa = {.sa_handler = stop};
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_message_t **batch;
        rd_kafka_resp_err_t err;
        char errstr[512];
        /* SOLUTION (TODO 2, 4): when the next report is due; when a commit
         * last succeeded. None yet, so that clock starts now: a consumer
         * that never manages to commit is the stalest of all. */
        int64_t next_report = 0, last_ok = now_ms();

        step_init(&opt, argc, argv, &run);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        conf = rd_kafka_conf_new();
        set_conf(conf, "bootstrap.servers", opt.brokers);
        set_conf(conf, "group.id", opt.group);
        /* A group with no committed offset starts at the beginning. */
        set_conf(conf, "auto.offset.reset", "earliest");
        /* The program commits each batch itself, as in step 03. */
        set_conf(conf, "enable.auto.commit", "false");
        rd_kafka_conf_set_rebalance_cb(conf, step_rebalance_cb);
        step_apply_overrides(conf); /* -X key=value, last so they win */

        /* rd_kafka_new() takes ownership of conf, on success. */
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%% Failed to create consumer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        /* Serve events and callbacks from rd_kafka_consumer_poll() too. */
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
                int i, n;

                /* TODO 2: Once a second, busy or idle, report the lag. */
                /* TODO 4: Note when a commit last succeeded (see
                 * step_commit_report() below). If that is longer ago than
                 * opt.commit_stale_ms while lag > 0, print on stderr
                 * "% WARNING: the last successful commit is N ms old and
                 * lag is M". Lag 0: nothing to commit, no warning. */
                /* SOLUTION (TODO 2, 4): the report when it is due; the
                 * warning when commits are stale and there is lag. */
                if (now_ms() >= next_report) {
                        int64_t lag = report_lag(rk);
                        int64_t age = now_ms() - last_ok;

                        next_report = now_ms() + 1000;
                        if (lag > 0 && age > opt.commit_stale_ms)
                                fprintf(stderr,
                                        "%% WARNING: the last successful "
                                        "commit is %" PRId64
                                        " ms old and lag is %" PRId64 "\n",
                                        age, lag);
                }

                n = step_fetch_batch(rk, batch, opt.batch);
                if (n == 0)
                        continue;

                /* One work call per batch; Ctrl+C lets it finish. */
                for (i = 0; i < n; i++)
                        step_started(batch[i]);
                step_work(batch, n);
                for (i = 0; i < n; i++)
                        step_processed(batch[i]);

                /* As in step 03: per partition, its highest offset + 1. */
                rd_kafka_topic_partition_list_t *offsets =
                    rd_kafka_topic_partition_list_new(n);
                for (i = 0; i < n; i++) {
                        const char *topic = rd_kafka_topic_name(batch[i]->rkt);
                        int64_t next      = batch[i]->offset + 1;
                        rd_kafka_topic_partition_t *p =
                            rd_kafka_topic_partition_list_find(
                                offsets, topic, batch[i]->partition);
                        if (!p)
                                p = rd_kafka_topic_partition_list_add(
                                    offsets, topic, batch[i]->partition);
                        if (next > p->offset)
                                p->offset = next;
                }

                /* One synchronous commit, reported as in step 03: an error
                 * means "not all", and step_commit_report() asks the broker
                 * which partitions it kept. It prints committed or
                 * commit-failed per partition and returns how many it kept.
                 * Go on either way: the batch comes again. */
                err = rd_kafka_commit(rk, offsets, 0);
                if (err)
                        fprintf(stderr, "%% Commit of batch failed: %s: %s\n",
                                rd_kafka_err2name(err), rd_kafka_err2str(err));
                /* SOLUTION (TODO 4): a commit landed (for some partition). */
                if (step_commit_report(rk, offsets, err) > 0)
                        last_ok = now_ms();
                rd_kafka_topic_partition_list_destroy(offsets);

                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(batch[i]);
        }
        free(batch);

        /* TODO 3: The last batch is committed: report the lag once more,
         * so that the last lines say where the group stands as this
         * consumer leaves it. */
        /* SOLUTION (TODO 3): the final report. */
        report_lag(rk);

        /* Graceful end (Ctrl+C, --idle-exit, --max). close() commits
         * nothing (auto-commit is off) and leaves the group. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return step_exit_status(0);
}
