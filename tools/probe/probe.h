/*
 * probe.h - what the probe's two files share: probe.c writes down what a
 * program asks librdkafka to do, faults.c injects the checks' faults
 * (WORKBOOK_FAULT).  Hidden: nothing here is seen by the program under test.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#pragma GCC visibility push(hidden)

#define MAX_PARTS 256

/* probe.c: the epoch in ms; one line to the probe file; the real NAME. */
int64_t now_ms(void);
void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *real(const char *name);

/* faults.c, refuse-partition:P: the partition to refuse (-1: none), and
 * metadata too large for the broker given to P in L (what to restore). */
int32_t refused_partition(void);
rd_kafka_topic_partition_t *oversize(const rd_kafka_topic_partition_list_t *l,
                                     int32_t p, void **saved, size_t *saved_size);
/* blackout:N:MS: counts the program's commit calls; the Nth breaks the
 * connections for MS ms (the socket calls are wrapped in faults.c). */
void maybe_blackout(void);
/* refuse-commit:N: is this program commit call the Nth?  Then the list it
 * must send instead, every partition refused (the caller destroys it). */
int refuse_this_commit(void);
rd_kafka_topic_partition_list_t *refused_list(rd_kafka_t *rk,
                                              const rd_kafka_topic_partition_list_t *offsets);
/* What the program stored, per partition: what "commit what is stored"
 * sends when it is refused. */
void note_stored(const char *topic, int32_t p, int64_t offset);
/* clock-jump:MS: the program's wall clock jumps at its first assignment. */
void maybe_clock_jump(const rd_kafka_topic_partition_list_t *l);

/* probe.c: "P:O,..." of the highest offsets handed to the program so far
 * ("-": none), and "P:N,..." of a list ("stored" for NULL, "-" empty). */
const char *probe_delivered(char *buf, size_t size);
const char *probe_offsets(const rd_kafka_topic_partition_list_t *l, char *buf,
                          size_t size);
/* txn.c: the transactional producer's calls (step 09) and their faults;
 * rd_kafka_new() hands it each configuration first. */
void note_consumer_conf(const rd_kafka_conf_t *conf);
void note_producer_conf(const rd_kafka_conf_t *conf);

#pragma GCC visibility pop

#endif
