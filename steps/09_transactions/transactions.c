/*
 * Step 09 - transactions: exactly once from topic to topic.
 *
 * TASK
 * This program (group transactions-group) reads orders in batches of up to
 * 5 (-n), works 200 ms on each (-p), and writes one invoice per order to
 * the topic `invoices` (--out): value Invoice-for-Order-N, keyed by the
 * order. As given it does what step 02 taught: produce the invoices, then
 * commit the consumer's offsets. A crash between the two writes the same
 * invoices again on the rerun, and no commit strategy prevents it: they are
 * two writes to two places. Kafka can make them one: a transaction of the
 * producer holds the batch's invoices AND the consumer's offsets, and the
 * broker commits or aborts them together.
 *
 *   TODO 1  Give the producer a transactional id (--txn-id), and make it
 *           ready for transactions once, before the first batch.
 *   TODO 2  Put each batch in one transaction: begin it before the first
 *           invoice and, instead of the consumer's commit, send the batch's
 *           offsets to the transaction, then commit it.
 *   TODO 3  When a transactional call fails: abort and rewind to the
 *           committed offsets if the error allows it; stop if it is fatal
 *           (another instance took over the transactional id).
 *
 * Then `make run STEP=09`, Ctrl+C it mid-batch, run it again, and read the
 * invoices both ways: `make invoices`, then with ISOLATION=read_uncommitted.
 * README.md has the questions.
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

/* TODO 3: A transactional call of the batch of n orders returned `error`.
 * What may the program do next? rdkafka.h's "Transactional producer API"
 * section says, for each call, which errors it returns, and gives the
 * questions to ask an error object (rd_kafka_error_...): is it fatal, does
 * the transaction require an abort, is it retriable. When the transaction
 * can be aborted: abort it, print the step_txn_aborted() line and rewind
 * the consumer to the committed offsets (step_rewind() does it), so that
 * the batch is read and done again in the next transaction; return 0. When the producer has a fatal
 * error (the broker fenced it: a newer instance has the same
 * transactional id) nothing more may be written: say so and return 1, and
 * the caller stops. Either way destroy the error object. */
static int txn_failed(rd_kafka_t *consumer, rd_kafka_t *producer,
                      rd_kafka_error_t *error, int n) {
        (void)consumer, (void)producer, (void)n;
        fprintf(stderr, "%% Failed: %s: %s\n", rd_kafka_error_name(error),
                rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return 1; /* stop, whatever the error */
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group      = "transactions-group",
                                .process_ms = 200,
                                .batch      = 5};
        struct sigaction sa;
        rd_kafka_conf_t *conf, *pconf;
        rd_kafka_t *consumer, *producer;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_message_t **batch;
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t err;
        char errstr[512];
        int status = 0;

        step_init(&opt, argc, argv, &run);

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        /* The consumer commits nothing itself (no auto-commit). With
         * isolation.level=read_committed (librdkafka's default, said here
         * because it matters) it never reads what an aborted transaction
         * wrote to its input topic. */
        conf = rd_kafka_conf_new();
        set_conf(conf, "bootstrap.servers", opt.brokers);
        set_conf(conf, "group.id", opt.group);
        set_conf(conf, "auto.offset.reset", "earliest");
        set_conf(conf, "enable.auto.commit", "false");
        set_conf(conf, "isolation.level", "read_committed");
        rd_kafka_conf_set_rebalance_cb(conf, step_rebalance_cb);
        step_apply_overrides(conf); /* -X key=value, last so that they win */

        /* The producer of the invoices. */
        pconf = rd_kafka_conf_new();
        set_conf(pconf, "bootstrap.servers", opt.brokers);
        step_producer_conf(pconf); /* says when no broker answers */

        /* TODO 1 (a): A transactional producer has a name, its
         * transactional id, that stays the same when the program restarts:
         * that is how the broker knows the new instance for the old one
         * come back, aborts what the old one left open, and shuts out the
         * old one if it still runs (a "zombie"). Which value, then? The
         * kit parsed --txn-id into opt.txn_id. CONFIGURATION.md lists the
         * producer's transaction settings. */

        producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr,
                                sizeof(errstr));
        if (!producer) {
                fprintf(stderr, "%% Failed to create producer: %s\n", errstr);
                return 1;
        }

        /* TODO 1 (b): Before its first transaction a transactional
         * producer registers with the broker, once. rdkafka.h's
         * "Transactional producer API" section starts with that call: read
         * what it does to a previous instance with the same
         * transactional id. Let it wait step_wait_ms() for the broker. On
         * an error print it on stderr and exit 1. (Why here, before the
         * consumer exists? Try it after: what does the rerun of a killed
         * instance wait for, when it asks for the group's offsets?) */

        consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof(errstr));
        if (!consumer) {
                fprintf(stderr, "%% Failed to create consumer: %s\n", errstr);
                rd_kafka_destroy(producer);
                return 1;
        }
        rd_kafka_poll_set_consumer(consumer);

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, opt.topic,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        batch = malloc(sizeof(*batch) * (size_t)opt.batch);
        if (err || !batch) {
                fprintf(stderr, "%% Failed to subscribe to %s: %s\n",
                        opt.topic, rd_kafka_err2str(err));
                run = 0, status = 1;
        }
        fprintf(stderr, "%% Subscribed to %s as %s, invoices to %s as %s\n",
                opt.topic, opt.group, opt.out_topic, opt.txn_id);

        while (run) {
                int i, n = step_fetch_batch(consumer, batch, opt.batch);
                if (n == 0)
                        continue;

                /* TODO 2 (a): Everything this batch writes must be in one
                 * transaction: begin it before the first invoice. */

                /* Each order: work on it, then hand its invoice to the
                 * producer. The invoice goes to the broker at once, but a
                 * read_committed reader sees it only after the commit. */
                for (i = 0; i < n && !error; i++) {
                        const char *invoice = step_invoice(batch[i]);
                        step_started(batch[i]);
                        step_work(&batch[i], 1); /* a Ctrl+C lets it end */
                        err = rd_kafka_producev(
                            producer, RD_KAFKA_V_TOPIC(opt.out_topic),
                            RD_KAFKA_V_KEY(batch[i]->payload, batch[i]->len),
                            RD_KAFKA_V_VALUE((void *)invoice, strlen(invoice)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err) /* refused at once: fenced, or broken */
                                error = rd_kafka_error_new(
                                    err, "invoice refused: %s",
                                    rd_kafka_err2str(err));
                        else
                                step_processed(batch[i]);
                }

                /* TODO 2 (b): Where step 03 committed the batch's offsets
                 * with the consumer, hand them to the transaction instead:
                 * the broker then commits them together with the invoices,
                 * or neither. "Transactional producer API" has the call: it
                 * wants the offsets (step_batch_offsets() builds them: the
                 * next offset to read, per partition) and the consumer's
                 * group metadata (rdkafka.h has a function that returns
                 * it; destroy it after use). Then commit the transaction
                 * and, once committed, print step_txn_committed(n) and one
                 * step_committed() line per entry. A call that returns an
                 * error goes to txn_failed(); when that returns 1, set
                 * status = 1 and stop the loop. */
                rd_kafka_topic_partition_list_t *offsets =
                    step_batch_offsets(batch, n);
                if (!error) {
                        /* Step 02's strategy: the invoices out first (the
                         * flush waits until the broker has them all), then
                         * the consumer commits the batch's offsets. */
                        rd_kafka_flush(producer, 30000);
                        err = rd_kafka_commit(consumer, offsets, 0);
                        if (err)
                                error = rd_kafka_error_new(
                                    err, "commit: %s", rd_kafka_err2str(err));
                }
                if (!error) {
                        for (i = 0; i < offsets->cnt; i++)
                                step_committed(offsets->elems[i].partition,
                                               offsets->elems[i].offset);
                } else if (txn_failed(consumer, producer, error, n)) {
                        status = 1;
                        run    = 0;
                }
                error = NULL;
                rd_kafka_topic_partition_list_destroy(offsets);
                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(batch[i]);
        }

        /* Graceful end: each transaction begun was committed or aborted
         * above. Close the consumer (it commits nothing: auto-commit is
         * off), then the producer. */
        free(batch);
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        rd_kafka_destroy(producer);
        return step_exit_status(status);
}
