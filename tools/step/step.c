/*
 * step.c - the kit shared by the step programs: options, output lines and
 * the simulated work. See step.h for what each function promises.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "step.h"

static struct step_opts *opts;      /* the options, as parsed */
static volatile sig_atomic_t *run;  /* the step's run flag */
static int started_cnt;             /* messages started in this run */
static int processed_cnt;           /* messages processed in this run */
static int64_t last_activity = -1;  /* --idle-exit clock; -1: not started */
static long session_ms = 45000;     /* session.timeout.ms (librdkafka's default) */
static int assigned;                /* partitions were assigned at least once */
static int revocations;             /* partitions revoked or lost so far */
static int failed;                  /* the kit ended the run on an error */
static volatile sig_atomic_t no_broker; /* all brokers down, last we heard */
static rd_kafka_resp_err_t last_err; /* the previous consumer error */
static int same_err_cnt;            /* ... and how many in a row */
#define MAX_PARTS 64
static int32_t parts[MAX_PARTS];    /* the partitions assigned now ... */
static int64_t end_at[MAX_PARTS];   /* ... and the end each was read to
                                     * (-1: not at its end) */
static int part_cnt;
static char close_msg[256];         /* said when the close does not end */
static size_t close_msg_len;

static int64_t ms(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out, const char *prog) {
        fprintf(out,
                "Usage: %s [options]\n"
                "  -b brokers      bootstrap servers (default %s)\n"
                "  -t topic        topic to consume (default %s)\n"
                "  -g group        consumer group id (default %s)\n"
                "  -p ms           processing time of each work call "
                "(default %d)\n"
                "  -n N            batch size, steps 03 and 06 (default %d)\n"
                "  --db PATH       the orders database, step 07 (default %s)\n"
                "  --commit-stale-ms MS  warn when the last commit is older, "
                "step 08 (default %d)\n"
                "  --out TOPIC     where the invoices go, step 09 (default "
                "%s)\n"
                "  --txn-id ID     the transactional.id, step 09 (default "
                "%s)\n"
                "  -X key=value    librdkafka setting, applied after the "
                "step's own (repeatable)\n"
                "  --crash-at N    crash while processing the Nth message "
                "of this run (default %d; 0 = never)\n"
                "  --idle-exit S   stop like Ctrl+C after S seconds without "
                "a new message (0 = never, default)\n"
                "  --max N         stop like Ctrl+C after N processed "
                "messages (0 = no limit, default)\n"
                "  --exit-at-end   stop like Ctrl+C once every assigned "
                "partition is read to its end\n"
                "  -h              this help\n",
                prog, opts->brokers, opts->topic, opts->group,
                opts->process_ms, opts->batch, opts->db,
                opts->commit_stale_ms, opts->out_topic, opts->txn_id,
                opts->crash_at);
}

/* A non-negative decimal number, or -1. */
static int number(const char *s) {
        char *end;
        long v;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 1000000000)
                return -1;
        return (int)v;
}

void step_init(struct step_opts *o, int argc, char **argv,
               volatile sig_atomic_t *run_flag) {
        static const struct option longopts[] = {
            {"crash-at", required_argument, NULL, 'C'},
            {"idle-exit", required_argument, NULL, 'I'},
            {"max", required_argument, NULL, 'M'},
            {"db", required_argument, NULL, 'D'},
            {"commit-stale-ms", required_argument, NULL, 'S'},
            {"exit-at-end", no_argument, NULL, 'E'},
            {"out", required_argument, NULL, 'O'},
            {"txn-id", required_argument, NULL, 'T'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int c, *target, v;

        opts = o;
        run  = run_flag;
        if (!o->brokers)
                o->brokers = "127.0.0.1:9092";
        if (!o->topic)
                o->topic = "orders";
        if (!o->batch)
                o->batch = 5;
        if (!o->db)
                o->db = "build/orders.db";
        if (!o->commit_stale_ms)
                o->commit_stale_ms = 10000;
        if (!o->out_topic)
                o->out_topic = "invoices";
        if (!o->txn_id)
                o->txn_id = "invoicer-1";

        while ((c = getopt_long(argc, argv, "b:t:g:p:n:X:h", longopts,
                                NULL)) != -1) {
                target = NULL;
                switch (c) {
                case 'b': o->brokers = optarg; break;
                case 't': o->topic = optarg; break;
                case 'g': o->group = optarg; break;
                case 'p': target = &o->process_ms; break;
                case 'n': target = &o->batch; break;
                case 'C': target = &o->crash_at; break;
                case 'I': target = &o->idle_exit_s; break;
                case 'M': target = &o->max; break;
                case 'D': o->db = optarg; break;
                case 'S': target = &o->commit_stale_ms; break;
                case 'E': o->exit_at_end = 1; break;
                case 'O': o->out_topic = optarg; break;
                case 'T': o->txn_id = optarg; break;
                case 'X':
                        if (!strchr(optarg, '=') ||
                            o->override_cnt == STEP_MAX_OVERRIDES) {
                                fprintf(stderr, "%% -X %s: want key=value\n",
                                        optarg);
                                usage(stderr, argv[0]);
                                exit(2);
                        }
                        o->overrides[o->override_cnt++] = optarg;
                        break;
                case 'h': usage(stdout, argv[0]); exit(0);
                default: usage(stderr, argv[0]); exit(2);
                }
                if (target) {
                        v = number(optarg);
                        if (v < 0 || (c == 'n' && v == 0)) {
                                fprintf(stderr, "%% bad number: %s\n",
                                        optarg);
                                usage(stderr, argv[0]);
                                exit(2);
                        }
                        *target = v;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%% unexpected argument: %s\n", argv[optind]);
                usage(stderr, argv[0]);
                exit(2);
        }

        /* The checks read stdout through a pipe: send each line at once. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* --idle-exit counts from the start: a consumer that never gets a
         * partition (no broker, no topic) stops too. */
        last_activity = ms(CLOCK_MONOTONIC);
}

/* The kit's error callback: errors that are not about one message (the
 * connection, the whole client). librdkafka retries by itself; we note
 * when no broker answers, and end the run on a fatal error. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
        (void)opaque;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                /* Before the first assignment step_idle() says it, once. */
                if (!no_broker && assigned)
                        fprintf(stderr,
                                "%% no broker answers at %s (%s): librdkafka "
                                "keeps trying\n",
                                opts->brokers, reason);
                no_broker = 1;
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
                return; /* librdkafka logs it already, and reconnects */
        fprintf(stderr, "%% error: %s: %s\n",
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char why[512];
                rd_kafka_fatal_error(rk, why, sizeof(why));
                fprintf(stderr, "%% fatal error: %s: stopping\n", why);
                failed = 1;
                *run   = 0;
        }
}

/* Step 09's producer: says once when no broker answers; its other errors,
 * fatal ones too, come back from the transactional calls, for the program
 * to handle. */
static void producer_error_cb(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque) {
        (void)rk, (void)opaque;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !no_broker) {
                fprintf(stderr, "%% no broker answers at %s (%s)\n",
                        opts->brokers, reason);
                no_broker = 1;
        }
}

void step_producer_conf(rd_kafka_conf_t *pconf) {
        rd_kafka_conf_set_error_cb(pconf, producer_error_cb);
}

int step_wait_ms(void) {
        return opts->idle_exit_s > 0 ? 10000 : 30000;
}

int step_rewind(rd_kafka_t *consumer) {
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_error_t *error                = NULL;
        rd_kafka_resp_err_t err = rd_kafka_assignment(consumer, &parts);
        if (!err && !(err = rd_kafka_committed(consumer, parts, 10000))) {
                for (int i = 0; i < parts->cnt; i++)
                        if (parts->elems[i].offset < 0)
                                parts->elems[i].offset =
                                    RD_KAFKA_OFFSET_BEGINNING;
                error = rd_kafka_seek_partitions(consumer, parts, 10000);
        }
        if (err || error)
                fprintf(stderr, "%% Rewind failed: %s\n",
                        error ? rd_kafka_error_string(error)
                              : rd_kafka_err2str(err));
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (error)
                rd_kafka_error_destroy(error);
        return err || error;
}

/* A setting as a number, from conf (the default when unset). */
static long conf_number(rd_kafka_conf_t *conf, const char *name) {
        char value[64];
        size_t size = sizeof(value);
        if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
                return -1;
        return strtol(value, NULL, 10);
}

void step_apply_overrides(rd_kafka_conf_t *conf) {
        char name[256], errstr[512];
        int i;

        for (i = 0; i < opts->override_cnt; i++) {
                const char *kv = opts->overrides[i];
                const char *eq = strchr(kv, '=');
                snprintf(name, sizeof(name), "%.*s", (int)(eq - kv), kv);
                if (rd_kafka_conf_set(conf, name, eq + 1, errstr,
                                      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "%% -X %s: %s\n", kv, errstr);
                        exit(1);
                }
        }

        /* The heartbeat keeps the session alive: one that does not come
         * well within the session lets it expire over and over (SESSTMOUT,
         * partitions lost, UNKNOWN_MEMBER_ID, orders started twice). */
        long session = conf_number(conf, "session.timeout.ms");
        long heartbeat = conf_number(conf, "heartbeat.interval.ms");
        if (session > 0)
                session_ms = session;
        if (session > 0 && heartbeat >= session) {
                fprintf(stderr,
                        "%% session.timeout.ms=%ld needs a shorter "
                        "heartbeat.interval.ms (it is %ld): add -X "
                        "heartbeat.interval.ms=%ld (a third of the session "
                        "or less)\n",
                        session, heartbeat, session / 3 > 0 ? session / 3 : 1);
                exit(2);
        }
        if (opts->exit_at_end &&
            rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%% --exit-at-end: %s\n", errstr);
                exit(1);
        }
        rd_kafka_conf_set_error_cb(conf, error_cb);
}

/* Where partition p sits in parts[], or -1. */
static int part_index(int32_t p) {
        int i;
        for (i = 0; i < part_cnt; i++)
                if (parts[i] == p)
                        return i;
        return -1;
}

/* --exit-at-end: partition p is read to its end, offset end. Once all
 * are, stop. */
static void partition_at_end(int32_t p, int64_t end) {
        int i = part_index(p), all = part_cnt > 0;
        if (i >= 0)
                end_at[i] = end;
        for (i = 0; i < part_cnt; i++)
                all = all && end_at[i] >= 0;
        if (all && *run) {
                fprintf(stderr,
                        "%% every assigned partition read to its end "
                        "(--exit-at-end): stopping as on Ctrl+C\n");
                *run = 0;
        }
}

int step_consumer_error(const rd_kafka_message_t *rkm) {
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                partition_at_end(rkm->partition, rkm->offset);
                return 0;
        }
        fprintf(stderr, "%% Consumer error: %s\n",
                rd_kafka_message_errstr(rkm));
        same_err_cnt = rkm->err == last_err ? same_err_cnt + 1 : 1;
        last_err     = rkm->err;
        switch (rkm->err) {
        case RD_KAFKA_RESP_ERR__FATAL:
        /* What the broker refuses for good: retrying cannot help. */
        case RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT:
        case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
        case RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED:
                fprintf(stderr, "%% %s cannot heal by itself: stopping\n",
                        rd_kafka_err2name(rkm->err));
                break;
        default:
                if (same_err_cnt < 5)
                        return 0;
                fprintf(stderr,
                        "%% %s %d times in a row: stopping\n",
                        rd_kafka_err2name(rkm->err), same_err_cnt);
        }
        failed = 1;
        *run   = 0;
        return 1;
}

int step_revocations(void) {
        return revocations;
}

int step_fetch_batch(rd_kafka_t *rk, rd_kafka_message_t **batch, int max) {
        int n = 0, seen = revocations;

        while (*run && n < max) {
                rd_kafka_message_t *rkm =
                    rd_kafka_consumer_poll(rk, n == 0 ? 500 : 100);
                if (revocations != seen) {
                        if (n > 0)
                                fprintf(stderr, "%% rebalance during the "
                                        "batch: %d message(s) dropped\n", n);
                        while (n > 0)
                                rd_kafka_message_destroy(batch[--n]);
                        seen = revocations;
                }
                if (!rkm) {
                        if (n == 0)
                                step_idle();
                        break;
                }
                if (rkm->err) {
                        step_consumer_error(rkm);
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                batch[n++] = rkm;
        }
        return n;
}

/* SIGALRM during the close: the close did not end. Only async-signal-safe
 * calls here. */
static void close_timeout(int sig) {
        ssize_t n;
        (void)sig;
        n = write(STDERR_FILENO, close_msg, close_msg_len);
        (void)n;
        _exit(1);
}

void step_closing(void) {
        struct sigaction sa;
        int bound = opts->idle_exit_s > 0 ? opts->idle_exit_s : 10;
        if (bound < 5)
                bound = 5;
        fprintf(stderr, "%% Closing consumer\n");
        fflush(stdout);
        snprintf(close_msg, sizeof(close_msg),
                 "%% the consumer did not close within %d s: no broker "
                 "answers at %s? Exiting without a clean close\n",
                 bound, opts->brokers);
        close_msg_len = strlen(close_msg);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = close_timeout;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)bound);
}

int step_exit_status(int status) {
        alarm(0);
        return status ? status : failed;
}

static void print_partitions(const char *what,
                             const rd_kafka_topic_partition_list_t *parts) {
        int i;
        fprintf(stderr, "%% %s:", what);
        for (i = 0; i < parts->cnt; i++)
                fprintf(stderr, " %s[%" PRId32 "]", parts->elems[i].topic,
                        parts->elems[i].partition);
        fprintf(stderr, "%s\n", parts->cnt ? "" : " (none)");
}

void step_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *partitions,
                       void *opaque) {
        /* The default assignors (range,roundrobin) are "eager": each
         * rebalance revokes everything and assigns anew, with
         * rd_kafka_assign(). A cooperative one (-X partition.assignment.
         * strategy=cooperative-sticky) hands out changes, applied with
         * the incremental calls. (In librdkafka 2.0.x a commit made during
         * a cooperative rebalance can fail with ILLEGAL_GENERATION:
         * librdkafka issue #4059.) */
        int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk),
                                  "COOPERATIVE");
        rd_kafka_error_t *error = NULL;
        (void)opaque;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                step_rebalance_log(rk, err, partitions);
                if (cooperative)
                        error = rd_kafka_incremental_assign(rk, partitions);
                else
                        rd_kafka_assign(rk, partitions);
        } else {
                step_rebalance_log(rk, err, partitions);
                if (cooperative)
                        error = rd_kafka_incremental_unassign(rk, partitions);
                else
                        rd_kafka_assign(rk, NULL);
        }
        if (error) {
                fprintf(stderr, "%% rebalance: %s\n",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
}

void step_rebalance_log(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        const rd_kafka_topic_partition_list_t *partitions) {
        int i, k;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                /* Eager: the whole new assignment; cooperative: more. */
                if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE"))
                        part_cnt = 0;
                for (i = 0; i < partitions->cnt && part_cnt < MAX_PARTS; i++)
                        if (part_index(partitions->elems[i].partition) < 0) {
                                parts[part_cnt]    = partitions->elems[i].partition;
                                end_at[part_cnt++] = -1;
                        }
                print_partitions("assigned", partitions);
                last_activity = ms(CLOCK_MONOTONIC); /* --idle-exit clock */
                assigned      = 1;
                no_broker     = 0;
        } else {
                revocations++;
                for (i = 0; i < partitions->cnt; i++)
                        if ((k = part_index(partitions->elems[i].partition)) >= 0) {
                                parts[k]  = parts[--part_cnt];
                                end_at[k] = end_at[part_cnt];
                        }
                print_partitions(rd_kafka_assignment_lost(rk) ? "lost"
                                                               : "revoked",
                                  partitions);
        }
}

void step_idle(void) {
        /* Before the first assignment, a rerun may wait one whole session
         * for a member that died (kill -9, a crash) to be dropped: give it
         * that on top of --idle-exit before calling it an error - unless no
         * broker answers at all, when there is no group to wait for. */
        if (opts->idle_exit_s > 0 && last_activity >= 0 &&
            ms(CLOCK_MONOTONIC) - last_activity >=
                (int64_t)opts->idle_exit_s * 1000 + (no_broker ? 0 : session_ms) &&
            *run && !assigned) {
                /* Never a partition: an error, said in one line. With no
                 * broker there is nothing to close (the close would wait
                 * for one forever): exit at once. */
                fprintf(stderr,
                        "%% no partition assigned within %d s (--idle-exit)%s: "
                        "%s\n",
                        opts->idle_exit_s, no_broker ? "" : " and one session",
                        no_broker ? "no broker answers (start one with: "
                                    "make broker-up)"
                                  : "does the topic exist (make topic)?");
                failed = 1;
                *run   = 0;
                if (no_broker) {
                        fflush(stdout);
                        _exit(1);
                }
        } else if (opts->idle_exit_s > 0 && last_activity >= 0 &&
            ms(CLOCK_MONOTONIC) - last_activity >=
                (int64_t)opts->idle_exit_s * 1000 &&
            *run && assigned) {
                fprintf(stderr,
                        "%% no new message for %d s (--idle-exit): "
                        "stopping as on Ctrl+C\n",
                        opts->idle_exit_s);
                *run = 0;
        }
}

static void print_message(const char *what, const rd_kafka_message_t *rkm) {
        printf("%s partition=%" PRId32 " offset=%" PRId64
               " value=%.*s at=%" PRId64 "\n",
               what, rkm->partition, rkm->offset, (int)rkm->len,
               rkm->payload ? (const char *)rkm->payload : "",
               ms(CLOCK_REALTIME));
}

void step_started(const rd_kafka_message_t *rkm) {
        int i = part_index(rkm->partition);
        /* A message written after the end was read: not at its end now.
         * (Messages fetched before the end came are started after it in a
         * batch: those do not count.) */
        if (i >= 0 && end_at[i] >= 0 && rkm->offset >= end_at[i])
                end_at[i] = -1;
        started_cnt++;
        same_err_cnt = 0; /* a message between errors: they do not repeat */
        last_activity = ms(CLOCK_MONOTONIC);
        print_message("started", rkm);
}

void step_processed(const rd_kafka_message_t *rkm) {
        processed_cnt++;
        last_activity = ms(CLOCK_MONOTONIC);
        print_message("processed", rkm);
        if (opts->max > 0 && processed_cnt == opts->max) {
                fprintf(stderr,
                        "%% %d messages processed (--max): "
                        "stopping as on Ctrl+C\n",
                        processed_cnt);
                *run = 0;
        }
}

void step_committed(int32_t partition, int64_t next_offset) {
        printf("committed partition=%" PRId32 " offset=%" PRId64
               " at=%" PRId64 "\n",
               partition, next_offset, ms(CLOCK_REALTIME));
}

void step_commit_failed(int32_t partition, int64_t next_offset,
                        rd_kafka_resp_err_t err) {
        printf("commit-failed partition=%" PRId32 " offset=%" PRId64
               " error=%s at=%" PRId64 "\n",
               partition, next_offset, rd_kafka_err2name(err),
               ms(CLOCK_REALTIME));
}

rd_kafka_topic_partition_list_t *
step_batch_offsets(rd_kafka_message_t **batch, int n) {
        rd_kafka_topic_partition_list_t *offsets =
            rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
        for (int i = 0; i < n; i++) {
                const char *topic = rd_kafka_topic_name(batch[i]->rkt);
                rd_kafka_topic_partition_t *p =
                    rd_kafka_topic_partition_list_find(offsets, topic,
                                                       batch[i]->partition);
                if (!p)
                        p = rd_kafka_topic_partition_list_add(
                            offsets, topic, batch[i]->partition);
                if (batch[i]->offset + 1 > p->offset)
                        p->offset = batch[i]->offset + 1;
        }
        return offsets;
}

void step_txn_committed(int orders) {
        printf("transaction committed orders=%d at=%" PRId64 "\n", orders,
               ms(CLOCK_REALTIME));
}

void step_txn_aborted(int orders, const rd_kafka_error_t *error) {
        printf("transaction aborted orders=%d error=%s at=%" PRId64 "\n",
               orders, error ? rd_kafka_error_name(error) : "NO_ERROR",
               ms(CLOCK_REALTIME));
}

const char *step_invoice(const rd_kafka_message_t *order) {
        static char buf[256];
        snprintf(buf, sizeof(buf), "Invoice-for-%.*s",
                 (int)(order->len < 200 ? order->len : 200),
                 order->payload ? (const char *)order->payload : "");
        return buf;
}

void step_stored(int32_t partition, int64_t next_offset) {
        printf("stored partition=%" PRId32 " offset=%" PRId64 " at=%" PRId64
               "\n",
               partition, next_offset, ms(CLOCK_REALTIME));
}

void step_lag(int32_t partition, int64_t committed, int64_t end) {
        printf("lag partition=%" PRId32 " committed=%" PRId64 " end=%" PRId64
               " lag=%" PRId64 " at=%" PRId64 "\n",
               partition, committed, end,
               committed < 0 ? end : end - committed, ms(CLOCK_REALTIME));
}

int step_commit_report(rd_kafka_t *rk,
                       const rd_kafka_topic_partition_list_t *offsets,
                       rd_kafka_resp_err_t err) {
        rd_kafka_topic_partition_list_t *held =
            rd_kafka_topic_partition_list_copy(offsets);
        int i, kept = 0;

        /* No answer from the broker either: report every entry failed. */
        if (err && rd_kafka_committed(rk, held, 5000))
                for (i = 0; i < held->cnt; i++)
                        held->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        for (i = 0; i < offsets->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &offsets->elems[i];
                if (err && held->elems[i].offset != p->offset) {
                        step_commit_failed(p->partition, p->offset, err);
                } else {
                        step_committed(p->partition, p->offset);
                        kept++;
                }
        }
        rd_kafka_topic_partition_list_destroy(held);
        return kept;
}

/* Sleep until the monotonic clock reaches deadline (ms). A signal cuts a
 * nanosleep short (EINTR); we just sleep again: the work in hand gets
 * finished. */
static void sleep_until(int64_t deadline) {
        int64_t left;
        while ((left = deadline - ms(CLOCK_MONOTONIC)) > 0) {
                struct timespec ts;
                ts.tv_sec  = left / 1000;
                ts.tv_nsec = (left % 1000) * 1000000;
                nanosleep(&ts, NULL);
        }
}

void step_work(rd_kafka_message_t **msgs, int cnt) {
        int64_t begin = ms(CLOCK_MONOTONIC);
        int first     = started_cnt - cnt + 1; /* number of msgs[0] */

        if (opts->crash_at >= first && opts->crash_at <= started_cnt) {
                const rd_kafka_message_t *m = msgs[opts->crash_at - first];
                sleep_until(begin + opts->process_ms / 2);
                fprintf(stderr,
                        "%% simulated crash while processing message %d "
                        "(partition %" PRId32 " offset %" PRId64
                        "): exiting without closing the consumer\n",
                        opts->crash_at, m->partition, m->offset);
                _exit(3);
        }
        sleep_until(begin + opts->process_ms);
        last_activity = ms(CLOCK_MONOTONIC);
}
