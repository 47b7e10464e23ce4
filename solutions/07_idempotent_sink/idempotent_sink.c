/*
 * Step 07 - idempotent sink: an exactly-once effect in a database.
 *
 * TASK
 * This consumer reads the topic `orders` in the group idempotent-sink-group
 * and writes each order into a SQLite database (--db, default
 * build/orders.db): one row per order in the table `orders`. Processing an
 * order means: record it in the database (its effect), then do the rest of
 * the work (-p, 100 ms). As given it uses step 02's strategy: the row is
 * written by a statement of its own, and once the order is processed its
 * offset is committed to Kafka. A crash between the two leaves the row
 * written but the offset not committed: the rerun processes the order
 * again. Kill it with kill -9 a few times and count the rows.
 *
 * Make the database the only record of progress:
 *
 *   TODO 1  Write the order and its partition's next offset (offset + 1)
 *           into the table `offsets` in ONE transaction, so that a crash
 *           leaves both or neither.
 *   TODO 2  When the group assigns partitions, start each one at the next
 *           offset the database holds for it, not where Kafka's committed
 *           offsets say.
 *   TODO 3  Decide what the Kafka commit is still good for, and say why in
 *           a comment.
 *
 * Then `make run STEP=07`, kill -9 it, run it again, and count the rows
 * with sqlite3. README.md has the questions.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <sqlite3.h>

#include "step.h" /* options, output lines, simulated work */

static volatile sig_atomic_t run = 1;
static int status = 0;     /* the exit status */
static sqlite3 *db;        /* the orders database */
static sqlite3_stmt *insert_order;
/* SOLUTION (TODO 1, TODO 2): the statements that keep the offsets. */
static sqlite3_stmt *store_offset, *select_offset;

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

/* A database call failed: say which, with SQLite's reason, and make the
 * program stop (it closes the consumer and exits 1). Carrying on would
 * process orders whose effect may not be recorded. Returns -1. */
static int db_failed(const char *what) {
        fprintf(stderr, "%% Database: %s: %s\n", what, sqlite3_errmsg(db));
        status = 1;
        run    = 0;
        return -1;
}

/* Run SQL without results (CREATE, BEGIN, COMMIT...). 0 or -1. */
static int db_exec(const char *sql) {
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return db_failed(sql);
        return 0;
}

/* Run a prepared statement that returns no rows, then reset it for the
 * next use. 0 or -1. */
static int db_step(sqlite3_stmt *st, const char *what) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st); /* repeats the error of step(): already seen */
        return rc == SQLITE_DONE ? 0 : db_failed(what);
}

/* Open (or create) the database and its tables. The primary key on
 * `value` means an order can be stored only once: a second INSERT of the
 * same order fails ("UNIQUE constraint failed") instead of adding a twin. */
static int db_open(const char *path) {
        if (sqlite3_open(path, &db) != SQLITE_OK)
                return db_failed(path);
        if (db_exec("CREATE TABLE IF NOT EXISTS orders (value TEXT PRIMARY "
                    "KEY, partition INTEGER, offset INTEGER)") ||
            db_exec("CREATE TABLE IF NOT EXISTS offsets (topic TEXT, "
                    "partition INTEGER, next_offset INTEGER, PRIMARY KEY "
                    "(topic, partition))"))
                return -1;
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO orders (value, partition, offset)"
                               " VALUES (?, ?, ?)",
                               -1, &insert_order, NULL) != SQLITE_OK)
                return db_failed("prepare INSERT INTO orders");
        /* SOLUTION (TODO 1, TODO 2): write a partition's next offset (the
         * row is inserted the first time, updated after), and read it. */
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO offsets (topic, partition, "
                               "next_offset) VALUES (?, ?, ?) ON CONFLICT "
                               "(topic, partition) DO UPDATE SET "
                               "next_offset = excluded.next_offset",
                               -1, &store_offset, NULL) != SQLITE_OK)
                return db_failed("prepare INSERT INTO offsets");
        if (sqlite3_prepare_v2(db,
                               "SELECT next_offset FROM offsets WHERE "
                               "topic = ? AND partition = ?",
                               -1, &select_offset, NULL) != SQLITE_OK)
                return db_failed("prepare SELECT FROM offsets");
        return 0;
}

/* SOLUTION (TODO 1): the partition's next offset, offset + 1: where a
 * rerun must start once this order is recorded. 0 or -1. */
static int db_store_offset(const rd_kafka_message_t *rkm) {
        if (sqlite3_bind_text(store_offset, 1, rd_kafka_topic_name(rkm->rkt),
                              -1, SQLITE_TRANSIENT) ||
            sqlite3_bind_int(store_offset, 2, rkm->partition) ||
            sqlite3_bind_int64(store_offset, 3, rkm->offset + 1))
                return db_failed("bind INSERT INTO offsets");
        return db_step(store_offset, "INSERT INTO offsets");
}

/* SOLUTION (TODO 2): the next offset the database holds for a partition,
 * or RD_KAFKA_OFFSET_BEGINNING when it holds none: no order of that
 * partition was ever recorded, so none of it is done, whatever Kafka's
 * committed offsets (from other programs, or older runs) may say.
 * 0 or -1. */
static int db_next_offset(const rd_kafka_topic_partition_t *p,
                          int64_t *next) {
        int rc;
        if (sqlite3_bind_text(select_offset, 1, p->topic, -1,
                              SQLITE_TRANSIENT) ||
            sqlite3_bind_int(select_offset, 2, p->partition))
                return db_failed("bind SELECT FROM offsets");
        rc = sqlite3_step(select_offset);
        if (rc == SQLITE_ROW)
                *next = sqlite3_column_int64(select_offset, 0);
        else if (rc == SQLITE_DONE)
                *next = RD_KAFKA_OFFSET_BEGINNING;
        sqlite3_reset(select_offset);
        return rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? 0
                   : db_failed("SELECT FROM offsets");
}

/* SOLUTION (TODO 1): undo the open transaction after a failure. The
 * program stops anyway (db_failed() ended the loop); closing the database
 * would roll back too, but say it. */
static void db_rollback(void) {
        if (sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
                fprintf(stderr, "%% Database: ROLLBACK: %s\n",
                        sqlite3_errmsg(db));
}

/* Record one order: its value, partition and offset. 0 or -1. Without an
 * explicit transaction SQLite commits each statement on its own. */
static int db_insert_order(const rd_kafka_message_t *rkm) {
        if (sqlite3_bind_text(insert_order, 1, (const char *)rkm->payload,
                              (int)rkm->len, SQLITE_TRANSIENT) ||
            sqlite3_bind_int(insert_order, 2, rkm->partition) ||
            sqlite3_bind_int64(insert_order, 3, rkm->offset))
                return db_failed("bind INSERT INTO orders");
        return db_step(insert_order, "INSERT INTO orders");
}

/* Close the database, its statements first (finalize returns the last
 * error of a statement again: already reported). */
static void db_close(void) {
        sqlite3_finalize(insert_order);
        sqlite3_finalize(store_offset);  /* SOLUTION (TODO 1) */
        sqlite3_finalize(select_offset); /* SOLUTION (TODO 2) */
        if (sqlite3_close(db) != SQLITE_OK)
                db_failed("close");
}

/* The group hands out partitions, or takes them back. With the default
 * assignors each rebalance takes everything back and hands out anew. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions,
                         void *opaque) {
        (void)opaque;
        step_rebalance_log(rk, err, partitions); /* and the idle clock */
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                /* TODO 2: Each partition's `offset` says where reading
                 * starts. Here it is RD_KAFKA_OFFSET_INVALID: "use the
                 * group's committed offset" (or auto.offset.reset when
                 * there is none). But the database knows better what was
                 * done. Look up each partition in the table `offsets` and
                 * start it there; for a partition the database has never
                 * seen, where must it start, whatever Kafka says? A
                 * lookup that fails: report it, and assign nothing.
                 * (rdkafka.h, "Consumer API", the rebalance callback and
                 * the offset constants.) */
                /* SOLUTION (TODO 2): start each partition where the
                 * database says. */
                int i;
                for (i = 0; i < partitions->cnt; i++) {
                        rd_kafka_topic_partition_t *p = &partitions->elems[i];
                        if (db_next_offset(p, &p->offset)) {
                                rd_kafka_assign(rk, NULL);
                                return;
                        }
                        if (p->offset == RD_KAFKA_OFFSET_BEGINNING)
                                fprintf(stderr,
                                        "%% %s[%" PRId32 "] starts at the "
                                        "beginning (nothing in the "
                                        "database)\n",
                                        p->topic, p->partition);
                        else
                                fprintf(stderr,
                                        "%% %s[%" PRId32 "] starts at offset "
                                        "%" PRId64 " (from the database)\n",
                                        p->topic, p->partition, p->offset);
                }
                rd_kafka_assign(rk, partitions);
        } else {
                rd_kafka_assign(rk, NULL);
        }
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group = "idempotent-sink-group",
                                .process_ms = 100};
        struct sigaction sa;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;
        char errstr[512];

        step_init(&opt, argc, argv, &run);

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        if (db_open(opt.db)) {
                db_close();
                return 1;
        }

        conf = rd_kafka_conf_new();
        set_conf(conf, "bootstrap.servers", opt.brokers);
        set_conf(conf, "group.id", opt.group);
        /* A group with no committed offset starts at the beginning. */
        set_conf(conf, "auto.offset.reset", "earliest");
        /* Only this program's commits count (step 02). */
        set_conf(conf, "enable.auto.commit", "false");

        /* Our own callback: it decides where each partition starts. */
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);

        /* -X key=value from the command line, last so that they win. */
        step_apply_overrides(conf);

        /* rd_kafka_new() takes ownership of conf, on success. */
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%% Failed to create consumer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                db_close();
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
                db_close();
                return 1;
        }
        fprintf(stderr, "%% Subscribed to %s as %s, writing to %s\n",
                opt.topic, opt.group, opt.db);

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
                /* TODO 1: From here to the `processed` line, a crash must
                 * leave either the order AND its partition's next offset
                 * in the database, or neither. Open a transaction before
                 * the order's row, write the next offset (offset + 1) into
                 * the table `offsets` (one row per topic and partition:
                 * insert it, or update the row already there), and commit
                 * the transaction only once the work is done. If any step
                 * fails, roll back and stop. (SQLite's documentation:
                 * "Transaction", and "upsert" or INSERT OR REPLACE.) */
                /* SOLUTION (TODO 1): BEGIN ... COMMIT around the order
                 * and its offset. A crash before COMMIT leaves neither:
                 * SQLite rolls the transaction back when the database is
                 * opened again. */
                if (db_exec("BEGIN") || db_insert_order(rkm)) {
                        db_rollback();
                        rd_kafka_message_destroy(rkm);
                        break;
                }
                step_work(&rkm, 1); /* the rest of the work; may crash */
                if (db_store_offset(rkm) || db_exec("COMMIT")) {
                        db_rollback();
                        rd_kafka_message_destroy(rkm);
                        break;
                }
                step_processed(rkm); /* only now is it done, and recorded */

                /* TODO 3: step 02's commit. Once the database holds the
                 * offsets (TODO 1) and every assignment starts from them
                 * (TODO 2), what does this commit still decide? What does
                 * it cost per order? Keep it, make it cheaper, or remove
                 * it, and explain the choice in a comment. */
                /* SOLUTION (TODO 3): no Kafka commit at all, and
                 * auto-commit stays off. Where a partition starts is
                 * decided by the database alone (TODO 2), so a Kafka commit
                 * would decide nothing, yet cost a broker round trip per
                 * order. The price: `make lag` shows no progress for this
                 * group. A program that wants it there can commit
                 * asynchronously, for the eyes only. */

                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit, --max, or an error): leave
         * the group so that its partitions go to another member at once,
         * then close the database. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        db_close();
        return step_exit_status(status);
}
