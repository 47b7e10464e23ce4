/*
 * Step 07 - idempotent sink: an exactly-once effect in a database.
 *
 * TASK
 * This consumer (group idempotent-sink-group) writes each order of the
 * topic `orders` as a row of the table `orders` in a SQLite database
 * (--db, default build/orders.db), then does the rest of the work (-p, 100
 * ms). As given it uses step 02's strategy: the row is written on its own,
 * the offset committed to Kafka once the order is processed. A crash in
 * between, and the rerun writes the order again. Make the database the
 * only record of progress:
 *
 *   TODO 1  Write the order and its partition's next offset (offset + 1,
 *           table `offsets`) in ONE transaction: a crash leaves both or
 *           neither.
 *   TODO 2  Start each assigned partition at the next offset the database
 *           holds for it, not where Kafka's committed offsets say.
 *   TODO 3  Decide what the Kafka commit is still good for; say why.
 *
 * Then `make run STEP=07`, kill -9 it, run it again, and count the rows
 * with sqlite3. README.md has the questions.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>
#include <sqlite3.h>

#include "step.h" /* options, output lines, fetch, simulated work */

static volatile sig_atomic_t run = 1;
static int status = 0; /* the exit status */
static sqlite3 *db;    /* the orders database */

/* Ctrl+C (SIGINT) or SIGTERM: leave the loop and shut down cleanly. */
static void stop(int sig) {
        (void)sig;
        run = 0;
}

/* Set one configuration property; a bad name or value is a bug here. */
static void set_conf(rd_kafka_conf_t *conf, const char *name,
                     const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%% %s\n", errstr);
                exit(1);
        }
}

/* A database call failed: say which and why, and stop (exit 1): carrying
 * on would process orders whose effect may not be recorded. Returns -1. */
static int db_failed(const char *what) {
        fprintf(stderr, "%% Database: %s: %s\n", what, sqlite3_errmsg(db));
        status = 1;
        run    = 0;
        return -1;
}

/* Run SQL without parameters or results (CREATE, BEGIN, COMMIT...). */
static int db_exec(const char *sql) {
        return sqlite3_exec(db, sql, NULL, NULL, NULL) ? db_failed(sql) : 0;
}

/* Run one SQL statement with a text, a partition and, when it has a third
 * parameter, a number bound to ?1, ?2, ?3. When out is not NULL, it gets
 * the first column of the first row (left alone if there is no row). */
static int db_run(const char *sql, const char *text, int len,
                  int32_t partition, int64_t number, int64_t *out) {
        sqlite3_stmt *st;
        int rc;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return db_failed(sql);
        if (sqlite3_bind_text(st, 1, text, len, SQLITE_TRANSIENT) ||
            sqlite3_bind_int(st, 2, partition) ||
            (sqlite3_bind_parameter_count(st) > 2 &&
             sqlite3_bind_int64(st, 3, number)))
                rc = SQLITE_ERROR;
        else if ((rc = sqlite3_step(st)) == SQLITE_ROW && out)
                *out = sqlite3_column_int64(st, 0);
        /* The reason first: finalize forgets it. */
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_failed(sql);
        sqlite3_finalize(st);
        return rc;
}

/* Open (or create) the database and its tables. The primary key on
 * `value` means an order can be stored only once: a second INSERT of the
 * same order fails ("UNIQUE constraint failed") instead of adding a twin. */
static void db_open(const char *path) {
        if (sqlite3_open(path, &db) != SQLITE_OK)
                db_failed(path);
        else if (!db_exec("CREATE TABLE IF NOT EXISTS orders (value TEXT "
                          "PRIMARY KEY, partition INTEGER, offset INTEGER)"))
                db_exec("CREATE TABLE IF NOT EXISTS offsets (topic TEXT, "
                        "partition INTEGER, next_offset INTEGER, PRIMARY KEY "
                        "(topic, partition))");
}

/* Close the database (an open transaction is rolled back). */
static void db_close(void) {
        if (sqlite3_close(db) != SQLITE_OK)
                db_failed("close");
}

/* Record one order: its value, partition and offset. 0 or -1. Without an
 * explicit transaction SQLite commits each statement on its own. */
static int db_insert_order(const rd_kafka_message_t *rkm) {
        return db_run("INSERT INTO orders (value, partition, offset) VALUES "
                      "(?, ?, ?)", (const char *)rkm->payload, (int)rkm->len,
                      rkm->partition, rkm->offset, NULL);
}

/* SOLUTION (TODO 1): the partition's next offset, offset + 1: where a
 * rerun must start once this order is recorded. The row is inserted the
 * first time, updated after (an "upsert"). 0 or -1. */
static int db_store_offset(const rd_kafka_message_t *rkm) {
        return db_run("INSERT INTO offsets (topic, partition, next_offset) "
                      "VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO "
                      "UPDATE SET next_offset = excluded.next_offset",
                      rd_kafka_topic_name(rkm->rkt), -1, rkm->partition,
                      rkm->offset + 1, NULL);
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
                 * starts; here RD_KAFKA_OFFSET_INVALID: the group's
                 * committed offset (or auto.offset.reset). But the database
                 * knows better: start each partition at what the table
                 * `offsets` holds for it. And one it has never seen? A
                 * failed lookup: report it, assign nothing. (rdkafka.h,
                 * section "KafkaConsumer (C)": the assignment and what a
                 * partition's offset means there.) */
                /* SOLUTION (TODO 2): where the database says; with no row,
                 * at the beginning: no order of it was ever recorded, so
                 * none is done, whatever Kafka's committed offsets say. */
                int i;
                for (i = 0; i < partitions->cnt; i++) {
                        rd_kafka_topic_partition_t *p = &partitions->elems[i];
                        p->offset = RD_KAFKA_OFFSET_BEGINNING;
                        if (db_run("SELECT next_offset FROM offsets WHERE "
                                   "topic = ? AND partition = ?", p->topic,
                                   -1, p->partition, 0, &p->offset)) {
                                rd_kafka_assign(rk, NULL);
                                return;
                        }
                        fprintf(stderr, "%% %s[%" PRId32 "] starts at %"
                                PRId64 " (%s the database)\n", p->topic,
                                p->partition, p->offset, p->offset < 0 ?
                                "the beginning: not in" : "from");
                }
                rd_kafka_assign(rk, partitions);
        } else {
                rd_kafka_assign(rk, NULL);
        }
}

int main(int argc, char **argv) {
        struct step_opts opt = {.group = "idempotent-sink-group",
                                .process_ms = 100};
        struct sigaction sa = {.sa_handler = stop};
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_message_t *rkm;
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
        /* Only this program's commits count (step 02). */
        set_conf(conf, "enable.auto.commit", "false");
        /* Our own callback: it decides where each partition starts. */
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
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
        fprintf(stderr, "%% Subscribed to %s as %s, writing to %s\n",
                opt.topic, opt.group, opt.db);
        /* Before the first poll: the rebalance callback reads it. A
         * failure stops the run (db_failed()) before it starts. */
        db_open(opt.db);

        while (run) {
                /* The next order: the kit's fetch, a batch of one. */
                if (step_fetch_batch(rk, &rkm, 1) == 0)
                        continue;

                step_started(rkm);
                /* TODO 1: From here to `processed`, a crash must leave
                 * the order AND its partition's next offset in the
                 * database, or neither. Open a transaction before the row,
                 * write the next offset into `offsets` (insert, or update
                 * the row there), commit once the work is done; if a step
                 * fails, roll back and stop. (SQLite: "Transaction".) */
                /* SOLUTION (TODO 1): BEGIN ... COMMIT around the order and
                 * its offset. A crash before COMMIT leaves neither: SQLite
                 * rolls the transaction back when the database reopens. */
                if (db_exec("BEGIN") || db_insert_order(rkm)) {
                        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                        rd_kafka_message_destroy(rkm);
                        break;
                }
                step_work(&rkm, 1); /* the rest of the work; may crash */
                if (db_store_offset(rkm) || db_exec("COMMIT")) {
                        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                        rd_kafka_message_destroy(rkm);
                        break;
                }
                step_processed(rkm); /* only now is it done, and recorded */

                /* TODO 3: step 02's commit. Once the database holds the
                 * offsets (TODO 1) and assignments start from them (TODO
                 * 2), what does it still decide, at what cost per order?
                 * Keep it, make it cheaper or remove it; say why. */
                /* SOLUTION (TODO 3): no Kafka commit, auto-commit off. The
                 * database alone decides where a partition starts: a Kafka
                 * commit would decide nothing, yet cost a broker round trip
                 * per order. The price: `make lag` shows no progress for
                 * this group (an asynchronous commit would, for the eyes). */

                rd_kafka_message_destroy(rkm);
        }

        /* Graceful end (Ctrl+C, --idle-exit, --max, an error): leave the
         * group, its partitions go to another member at once. */
        step_closing(); /* "% Closing consumer", bounded in time */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        db_close();
        return step_exit_status(status);
}
