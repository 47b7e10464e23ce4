/*
 * commits_txn.h - `commits --txn` (commits_txn.c): the state of each commit made inside
 * a transaction, for commits.c.
 */
#ifndef COMMITS_TXN_H
#define COMMITS_TXN_H
#include <stdint.h>
#include <librdkafka/rdkafka.h>

extern int txn_mode;    /* --txn was given */

/* commits.c: read partition P of __consumer_offsets from START to END, each record
 * to handle(); with REACHED, stop at the first end-of-partition event and store the
 * position there. Returns 0, or -1 after saying why. */
int read_partition(rd_kafka_t *rk, int32_t p, int64_t start, int64_t end,
                   const char *group, const char *topic, int64_t *reached);

/* Read partition P as a read_committed reader sees it: which records it is handed, and
 * where it stops (the last stable offset). Returns 0, or -1. */
int txn_read_view(const char *broker, int32_t p, int64_t low, int64_t high);
/* While txn_read_view() reads, handle() hands each record's offset here. */
int txn_collecting(void);
int txn_collect(int64_t record_offset);
/* A commit of the group, kept to be printed with its state (0, or -1: no memory). */
int txn_keep(const char *topic, int topic_len, int32_t partition, int64_t offset,
             int64_t timestamp, int64_t record_offset);
/* Print the commits kept, each with its state. A record past the last stable offset is
 * "open"; when the group itself has no transaction open, such records wait on another
 * group's, and the view is read again until they are decided (up to 60 s). */
int txn_settle_and_print(const char *broker, const char *group, int32_t p, int64_t low,
                         int64_t high);
#endif
