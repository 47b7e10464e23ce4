/*
 * step.h - the small kit every step program includes.
 *
 * It keeps the step files down to the lesson (configuring, consuming and
 * committing) by doing the rest: command-line options, the output lines
 * the checks read, and the simulated work with its simulated crash.
 * Nothing in here commits offsets: that is the step's job.
 */
#ifndef STEP_H
#define STEP_H

#include <signal.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#define STEP_MAX_OVERRIDES 32

/* The options. A step fills in its own defaults (group, process_ms,
 * crash_at, batch) before calling step_init(); fields left 0/NULL get the
 * kit's defaults. */
struct step_opts {
        const char *brokers; /* -b, default 127.0.0.1:9092 */
        const char *topic;   /* -t, default orders */
        const char *group;   /* -g */
        int process_ms;      /* -p: simulated processing time per work call */
        int crash_at;        /* --crash-at: crash while working on the Nth
                              * message started in this run; 0 = never */
        int idle_exit_s;     /* --idle-exit: stop like Ctrl+C after this many
                              * seconds without a new message, counted from
                              * the start; also bounds the close; 0 = never */
        int max;             /* --max: stop like Ctrl+C after this many
                              * processed messages; 0 = no limit */
        int exit_at_end;     /* --exit-at-end: stop like Ctrl+C once every
                              * assigned partition is read to its end */
        int batch;           /* -n: batch size (steps 03, 06), default 5 */
        const char *db;      /* --db: the database file (step 07), default
                              * build/orders.db */
        int commit_stale_ms; /* --commit-stale-ms: warn when the last
                              * successful commit is older (step 08),
                              * default 10000 */
        const char *out_topic; /* --out: where step 09 writes its invoices,
                                * default invoices */
        const char *txn_id;  /* --txn-id: step 09's transactional.id,
                              * default invoicer-1 */
        const char *overrides[STEP_MAX_OVERRIDES]; /* -X key=value */
        int override_cnt;
};

/* Parse the command line into *opts (exits 0 after -h, 2 on a bad option),
 * make stdout line-buffered, and remember `run`: --idle-exit and --max end
 * the program by setting *run = 0, exactly as the step's Ctrl+C handler
 * does. */
void step_init(struct step_opts *opts, int argc, char **argv,
               volatile sig_atomic_t *run);

/* Apply the -X key=value overrides to conf, after the step's own settings.
 * A bad name or value is reported on stderr and the program exits 1.
 * Then checks the session: a heartbeat.interval.ms that is not shorter than
 * session.timeout.ms would let the session expire again and again, so the
 * program says so in one line and exits 2. Last, it installs the kit's
 * error callback (rd_kafka_conf_set_error_cb), which notes when no broker
 * answers and ends the run on a fatal error. With --exit-at-end it sets
 * enable.partition.eof=true, so that each partition read to its end says
 * so (an event step_consumer_error() takes). */
void step_apply_overrides(rd_kafka_conf_t *conf);

/* Call with each message whose ->err is set (the caller still destroys it).
 * Prints it on stderr ("% Consumer error: ..."); most are informational
 * and librdkafka recovers by itself. It ends the run (*run = 0, exit
 * status 1 through step_exit_status()) on a fatal error, on one that cannot
 * heal (the broker refused the session timeout, the group or topic is not
 * authorized...), and on the same error 5 times in a row with no message in
 * between. Returns 1 when it ended the run, else 0. The end of a
 * partition (RD_KAFKA_RESP_ERR__PARTITION_EOF, with --exit-at-end) is no
 * error: it is noted silently, and once every assigned partition is at its
 * end the run stops as on Ctrl+C. */
int step_consumer_error(const rd_kafka_message_t *rkm);

/* How many times partitions were revoked or lost so far in this run. A
 * step that holds messages across polls (a batch) compares it before and
 * after each poll: if it moved, the messages in hand belong to a previous
 * assignment and must be dropped, not processed and committed. */
int step_revocations(void);

/* Step 03's batch fetch, for the steps after it: collects up to max
 * messages into batch[], waiting up to 500 ms for the first one, then
 * taking only what arrives within 100 ms of the previous. Consumer errors
 * go to step_consumer_error(), an empty first poll to step_idle(). A
 * rebalance served by one of its polls (step_revocations() moved) drops
 * the messages in hand: they belong to the previous assignment, and whoever
 * owns their partition now reads them again from the committed offset.
 * Returns how many messages batch[] holds (the caller destroys them).
 * With max 1 it is a plain poll loop for one message (step 07). */
int step_fetch_batch(rd_kafka_t *rk, rd_kafka_message_t **batch, int max);

/* Call instead of printing "% Closing consumer", just before
 * rd_kafka_consumer_close(). Prints that line and bounds the close: when
 * it has not returned within --idle-exit seconds (10 s without
 * --idle-exit, at least 5 s), the broker is gone; the program says so in
 * one line and exits 1. */
void step_closing(void);

/* The exit status: status when not 0, else 1 when the kit ended the run on
 * an error (no partition assigned, a fatal or repeated error), else 0. */
int step_exit_status(int status);

/* A rebalance callback (rd_kafka_conf_set_rebalance_cb) that reports
 * assignments and revocations on stderr, applies them, and starts the
 * --idle-exit clock. */
void step_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *partitions,
                       void *opaque);

/* What step_rebalance_cb() reports, for a step with a rebalance callback
 * of its own: prints the partitions assigned, revoked or lost on stderr
 * and, on an assignment, starts the --idle-exit clock. It applies nothing:
 * the caller assigns or unassigns. */
void step_rebalance_log(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        const rd_kafka_topic_partition_list_t *partitions);

/* Call when a poll returned no message: ends the run (*run = 0) once
 * --idle-exit seconds have passed without a new message (counted from the
 * start, so a consumer that never gets a partition stops too). Then, if no
 * partition was ever assigned, it is an error: one line on stderr and exit
 * status 1 (at once, with no close, when no broker ever answered). */
void step_idle(void);

/* Step 03's offsets of a batch, for the steps after it: a new list (the
 * caller destroys it) with one entry per partition of the n messages,
 * holding the offset of its last message in the batch + 1: the next to
 * read, what a commit of the batch sends. */
rd_kafka_topic_partition_list_t *
step_batch_offsets(rd_kafka_message_t **batch, int n);

/* The output lines on stdout (at= is wall-clock epoch milliseconds):
 *   started partition=P offset=O value=V at=MS
 *   processed partition=P offset=O value=V at=MS
 *   committed partition=P offset=NEXT at=MS
 * step_started() also counts the message for --crash-at; step_processed()
 * counts it for --max. step_committed() takes the committed offset, i.e.
 * the next offset to read (message offset + 1). */
void step_started(const rd_kafka_message_t *rkm);
void step_processed(const rd_kafka_message_t *rkm);
void step_committed(int32_t partition, int64_t next_offset);

/* More output lines, for the steps that need them:
 *   commit-failed partition=P offset=NEXT error=NAME at=MS   a commit the
 *       broker (or librdkafka) refused for that partition
 *   stored partition=P offset=NEXT at=MS    an offset stored for the next
 *       automatic commit (step 05)
 *   lag partition=P committed=C end=E lag=N at=MS   (step 08) */
void step_commit_failed(int32_t partition, int64_t next_offset,
                        rd_kafka_resp_err_t err);

/* Step 09's transactions, on stdout:
 *   transaction committed orders=N at=MS   the broker committed the
 *       transaction: its N invoices and the offsets sent with it
 *   transaction aborted orders=N error=NAME at=MS   it was aborted (NAME:
 *       what made it abortable, or NO_ERROR when the program chose to)
 * and the invoice's value for an order: "Invoice-for-" followed by the
 * order's value (Order-7 -> Invoice-for-Order-7), in a buffer of the kit's
 * that the next call overwrites. */
void step_txn_committed(int orders);
/* Step 09's producer configuration: an error callback that says, once,
 * when no broker answers (its other errors, fatal ones too, come back from
 * the transactional calls, for the program to handle). And how long its
 * start-up may wait for the broker: 30 s, 10 s with --idle-exit. */
void step_producer_conf(rd_kafka_conf_t *pconf);
int step_wait_ms(void);

/* Step 09's rewind after an abort: the consumer's position is past the
 * batch whose invoices were thrown away, so read again from the group's
 * committed offsets. For each partition of the current assignment
 * (rd_kafka_assignment) it asks the broker for the committed offset
 * (rd_kafka_committed; the beginning where there is none), then seeks
 * there (rd_kafka_seek_partitions). Returns 0, or 1 after saying why on
 * stderr. */
int step_rewind(rd_kafka_t *consumer);
void step_txn_aborted(int orders, const rd_kafka_error_t *error);
const char *step_invoice(const rd_kafka_message_t *order);
void step_stored(int32_t partition, int64_t next_offset);
void step_lag(int32_t partition, int64_t committed, int64_t end);

/* After a synchronous rd_kafka_commit(rk, offsets, 0) that returned err:
 * one committed or commit-failed line per entry, as the broker holds it.
 * An error means "not all": the broker answers per partition and keeps
 * those it accepted, but librdkafka returns one error and does not write
 * the per-partition answers back into the list, so on an error this asks
 * the broker (rd_kafka_committed). Returns how many entries it kept.
 * (Step 03 teaches this; later steps call it.) */
int step_commit_report(rd_kafka_t *rk,
                       const rd_kafka_topic_partition_list_t *offsets,
                       rd_kafka_resp_err_t err);

/* The simulated work on the cnt messages in hand (already started): sleeps
 * -p milliseconds once for the whole call, and finishes that sleep even if
 * Ctrl+C arrives. If one of them is the --crash-at'th message, it dies
 * halfway through instead: _exit(3), with no close, no commit, no goodbye
 * to the group. */
void step_work(rd_kafka_message_t **msgs, int cnt);

#endif
