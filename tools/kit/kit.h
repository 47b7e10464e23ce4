/*
 * kit.h - the small toolbox shared by the observer tools (tools/observers/:
 * ping, topic, populate, lag, commits, ...) and the analysis (tools/analysis/).
 *
 * The tools exist so that you can *look at* what your consumer did: which
 * offsets it committed, and how far behind it is.  They are written in the
 * same C and librdkafka as the steps, so you can read them too.  What is
 * shared lives here: how a tool reports errors, how it builds a librdkafka
 * configuration, and how it makes sure a broker is really there before
 * doing anything else.
 */
#ifndef KIT_H
#define KIT_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Where the workbook's broker listens unless -b says otherwise. */
#define KIT_BROKER "127.0.0.1:9092"

/* How long one request to the broker may take.  Kept under 5 s so that a
 * tool pointed at a dead address gives up quickly and says so. */
#define KIT_TIMEOUT_MS 4000

/* The tool's name, used as the prefix of every error line ("lag: ...").
 * Each tool sets it first thing in main(). */
extern const char *kit_prog;

/* Print "PROG: <message>" on stderr, as one line. */
void kit_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the usage text and exit: to stdout with status 0 when the user asked
 * for it (-h), to stderr with status 2 when the command line was wrong. */
_Noreturn void kit_usage(const char *usage, int status);

/* Parse the argument of option -OPT as a whole number in [min, max]; on
 * anything else, say what was expected and exit 2 like kit_usage(). */
long kit_number(char opt, const char *text, long min, long max,
                const char *usage);

/* A new configuration for BROKER with librdkafka's own logging silenced,
 * then each further NAME, VALUE pair set in turn (end the list with NULL).
 * Returns NULL, after printing why, if any setting is refused. */
rd_kafka_conf_t *kit_conf(const char *broker, ...) __attribute__((sentinel));

/* Create a client of TYPE from CONF (which it takes over, whatever happens)
 * and ask the broker for the cluster's metadata: every broker and topic.
 * That first request is how we know a broker answers at all; when none does
 * we print the single line "PROG: no Kafka broker answers at BROKER (...)".
 * On success returns the client and stores the metadata in *MDP (free it
 * with rd_kafka_metadata_destroy); on failure returns NULL. */
rd_kafka_t *kit_connect(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                        const char *broker, int timeout_ms,
                        const rd_kafka_metadata_t **mdp);

/* Ask again for the metadata of every topic (after kit_connect). */
int kit_metadata(rd_kafka_t *rk, const char *broker, int timeout_ms,
                 const rd_kafka_metadata_t **mdp);

/* The entry for TOPIC in MD, or NULL if the cluster has no such topic. */
const rd_kafka_metadata_topic_t *kit_topic(const rd_kafka_metadata_t *md,
                                           const char *topic);

/* Say that TOPIC does not exist, and how to create it. */
void kit_no_topic(const char *topic);

/* The low and high watermark of one partition: the first offset still in
 * the log and the offset the next message will get ("log-end offset").
 * Returns 0, or -1 after printing why.  A partition that answers this is
 * ready to be written to and read from. */
int kit_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                   int64_t *low, int64_t *high);

/* An overall deadline: if the tool is still running SECONDS from now (a
 * broker that accepts connections but never answers, a request retried
 * forever...), it prints "PROG: no result within SECONDS s ..." and exits 1.
 * Call once, early in main(). */
void kit_deadline(int seconds);

/* "s" when N calls for a plural, "" otherwise: "1 partition", "3 partitions". */
const char *kit_s(long n);

#endif
