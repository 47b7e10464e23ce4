/*
 * commits - every offset commit the broker recorded for a consumer group.
 *
 * `lag` shows a group's *latest* commit per partition.  This tool shows the
 * whole history: each commit, in the order the broker wrote them, with the
 * broker's timestamp.  That is what tells you *when* and *how often* your
 * consumer committed - after every message, every few seconds, never...
 *
 * Where does the history come from?  A commit is not kept in some table: the
 * broker appends it, as one record, to the internal topic __consumer_offsets
 * (key: group, topic, partition; value: offset, timestamp, ...), and rebuilds
 * its view of the latest offsets by replaying that topic.  So we simply read
 * the topic, like any consumer would, and decode the records.  The topic is
 * compacted: some day the broker will drop old records of a key and keep only
 * the latest, so very old history can disappear.
 *
 * Output, one line per commit, tab-separated, oldest first:
 *
 *     TOPIC  PARTITION  OFFSET  COMMIT_TIMESTAMP_MS
 *
 * --txn adds a column STATE, for commits made inside transactions (step 09:
 * the offsets a producer sends with its transaction are written to
 * __consumer_offsets at once, and count only once the transaction commits):
 *
 *     kept     the broker counts it: a plain commit, or one whose
 *              transaction committed;
 *     aborted  its transaction was aborted: the broker dropped it, and the
 *              group's offset did not move;
 *     open     its transaction (of this group) has not ended yet.
 *
 * (How: commits_txn.c.)
 *
 * To tell them apart the partition is read twice: as a read_committed
 * reader sees it (it stops at the first record of a transaction still open,
 * and skips what aborted transactions wrote), then as a read_uncommitted
 * one, which sees every record.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit.h"

static const char usage[] =
    "usage: commits [-b BROKER] -g GROUP [-t TOPIC] [--header] [--txn]\n"
    "  Print every offset commit the broker recorded for GROUP, oldest first:\n"
    "  TOPIC<tab>PARTITION<tab>OFFSET<tab>COMMIT_TIMESTAMP_MS\n"
    "  -b BROKER  broker address (default " KIT_BROKER ")\n"
    "  -g GROUP   consumer group id (required)\n"
    "  -t TOPIC   only commits for this topic\n"
    "  --header   first print the line: topic partition offset commit_ms;\n"
    "             and when there is no commit, say so and exit 1\n"
    "  --txn      add a column STATE: kept, aborted (in a transaction that\n"
    "             was aborted) or open (in a transaction not ended yet)\n"
    "  -h         show this help\n";

#define OFFSETS_TOPIC "__consumer_offsets"

static long printed; /* commits printed so far */

#include "commits_txn.h"

/*
 * Which partition of __consumer_offsets holds the group's records?
 *
 * Each group is handled by one broker, its "coordinator": the leader of
 * partition abs(hashCode(group)) % partitions of __consumer_offsets, where
 * hashCode is Java's String.hashCode().  All the group's records are written
 * to that one partition, so that is the only one we need to read.
 *
 * Java hashes the UTF-16 code units of the string: h = 31 * h + unit, in
 * 32-bit arithmetic that wraps around.  Group ids reach us as UTF-8, so we
 * decode them (a character beyond U+FFFF is two UTF-16 units).
 */
static uint32_t java_string_hash(const char *group)
{
    const unsigned char *s = (const unsigned char *)group;
    uint32_t h = 0;

    while (*s) {
        uint32_t c = *s++;
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        int bad = c >= 0x80 && c < 0xC0;    /* cannot start a character */

        if (more)
            c &= 0x3F >> more;
        for (; more > 0 && (*s & 0xC0) == 0x80; more--)
            c = c << 6 | (*s++ & 0x3F);
        if (more || bad)
            c = 0xFFFD;             /* not UTF-8: Java reads U+FFFD */
        if (c > 0xFFFF) {
            c -= 0x10000;
            h = 31 * h + (0xD800 + (c >> 10));
            h = 31 * h + (0xDC00 + (c & 0x3FF));
        } else {
            h = 31 * h + c;
        }
    }
    return h;
}

static int32_t partition_for(const char *group, int partitions)
{
    uint32_t h = java_string_hash(group);

    /* Kafka's Utils.abs(): |h| as a 32-bit int, with abs(INT_MIN) = 0. */
    if (h == 0x80000000u)
        h = 0;
    else if (h & 0x80000000u)
        h = 0u - h;
    return (int32_t)(h % (uint32_t)partitions);
}

/*
 * Decoding the records.  Kafka writes them in its own binary format: all
 * integers big-endian, a string as an int16 length and its bytes.  A reader
 * walks through a buffer; reading past its end marks it broken (ok = 0) and
 * yields zeros, so a truncated record is noticed once, at the end.
 */
struct reader {
    const unsigned char *p, *end;
    int ok;
};

struct text {                   /* a string inside the record, not copied */
    const char *s;
    int len;
};

static int need(struct reader *r, uint64_t n)
{
    if (!r->ok || (uint64_t)(r->end - r->p) < n)
        r->ok = 0;
    return r->ok;
}

static uint64_t get_uint(struct reader *r, int bytes)
{
    uint64_t v = 0;

    if (need(r, (uint64_t)bytes))
        while (bytes--)
            v = v << 8 | *r->p++;
    return v;
}

static int16_t get_i16(struct reader *r) { return (int16_t)get_uint(r, 2); }
static int32_t get_i32(struct reader *r) { return (int32_t)get_uint(r, 4); }
static int64_t get_i64(struct reader *r) { return (int64_t)get_uint(r, 8); }

static struct text get_string(struct reader *r)
{
    struct text t = {"", 0};
    int16_t len = get_i16(r);

    if (len < -1)                               /* -1 would be null */
        r->ok = 0;
    if (len > 0 && need(r, (uint64_t)len)) {
        t = (struct text){(const char *)r->p, len};
        r->p += len;
    }
    return t;
}

/* "Flexible" record versions use an unsigned varint: 7 bits per byte, low
 * bits first, the top bit set on every byte but the last. */
static uint64_t get_uvarint(struct reader *r)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64 && need(r, 1); shift += 7) {
        unsigned char b = *r->p++;

        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->ok = 0;
    return 0;
}

/* A compact string: varint length + 1 (0 would be null), then the bytes. */
static struct text get_compact_string(struct reader *r)
{
    struct text t = {"", 0};
    uint64_t n = get_uvarint(r);

    if (n > 1 && need(r, n - 1)) {
        t = (struct text){(const char *)r->p, (int)(n - 1)};
        r->p += n - 1;
    }
    return t;
}

/* Flexible versions end with "tagged fields", optional extras that readers
 * may skip: a count, then per field a tag, a size and that many bytes. */
static void skip_tagged_fields(struct reader *r)
{
    for (uint64_t n = get_uvarint(r); n > 0 && r->ok; n--) {
        uint64_t size;

        get_uvarint(r);                     /* the tag */
        size = get_uvarint(r);
        if (need(r, size))
            r->p += size;
    }
}

struct commit {
    struct text group, topic;
    int32_t partition;
    int64_t offset, timestamp;
};

/*
 * The key starts with an int16 that says what the record is (older Kafka
 * versions called it the key's version).  0 and 1 are offset commits - 0 is
 * what older brokers wrote, 1 what Kafka 4 writes, with the same layout:
 *     group: string, topic: string, partition: int32
 * 2 is a group's metadata (members, generation), and Kafka 4's new consumer
 * group protocol adds more kinds (3 and up).  We only want commits.
 *
 * Returns 1 if the key is an offset commit (C filled in), 0 if it is another
 * kind of record, -1 if it is malformed.
 */
static int parse_key(const rd_kafka_message_t *m, struct commit *c)
{
    struct reader r;
    int16_t kind;

    if (!m->key)
        return -1;
    r = (struct reader){m->key, (const unsigned char *)m->key + m->key_len, 1};
    kind = get_i16(&r);
    if (!r.ok || kind < 0)
        return -1;
    if (kind > 1)
        return 0;
    c->group = get_string(&r);
    c->topic = get_string(&r);
    c->partition = get_i32(&r);
    return r.ok ? 1 : -1;
}

/*
 * The value, OffsetCommitValue, starts with its own int16 version.  The
 * fields of each version (Kafka 4 writes version 4 by default):
 *
 *   v0: offset int64, metadata string, commitTimestamp int64
 *   v1: v0 + expireTimestamp int64
 *   v2: offset int64, metadata string, commitTimestamp int64 (v0 again)
 *   v3: offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
 *   v4: as v3 but "flexible": metadata is a compact string, and tagged
 *       fields (the topic's id) follow
 *
 * Returns 0 when read, -1 when malformed, and the version number when it is
 * one this tool does not know.
 */
static int parse_value(const rd_kafka_message_t *m, struct commit *c)
{
    struct reader r = {m->payload, (const unsigned char *)m->payload + m->len, 1};
    int16_t version = get_i16(&r);

    if (!r.ok || version < 0 || version > 4)
        return r.ok ? version : -1;
    c->offset = get_i64(&r);
    if (version >= 3)
        get_i32(&r);                        /* leaderEpoch */
    if (version >= 4)
        get_compact_string(&r);             /* metadata */
    else
        get_string(&r);
    c->timestamp = get_i64(&r);
    if (version == 1)
        get_i64(&r);                        /* expireTimestamp */
    if (version >= 4)
        skip_tagged_fields(&r);
    return r.ok ? 0 : -1;
}

/* Handle one record of __consumer_offsets: print it if it is a commit of
 * GROUP (for TOPIC, if given).  Returns -1 if the record is malformed. */
static int handle(const rd_kafka_message_t *m, const char *group,
                  const char *topic)
{
    struct commit c = {0};   /* (older gcc cannot tell parse_value() fills it) */
    int kind, version;

    if (txn_collecting())
        return txn_collect(m->offset);
    kind = parse_key(m, &c);

    if (kind == 0)
        return 0;
    if (kind < 0) {
        kit_err("malformed key at " OFFSETS_TOPIC " offset %lld",
                (long long)m->offset);
        return -1;
    }
    if (c.group.len != (int)strlen(group) ||
        memcmp(c.group.s, group, (size_t)c.group.len) != 0)
        return 0;                           /* another group's commit */
    if (topic && (c.topic.len != (int)strlen(topic) ||
                  memcmp(c.topic.s, topic, (size_t)c.topic.len) != 0))
        return 0;
    if (!m->payload)
        return 0;   /* a tombstone: the offset was deleted, not committed */

    version = parse_value(m, &c);
    if (version == -1) {
        kit_err("malformed offset commit at " OFFSETS_TOPIC " offset %lld",
                (long long)m->offset);
        return -1;
    }
    if (version != 0) {
        kit_err("offset commit at " OFFSETS_TOPIC " offset %lld has value "
                "version %d; this tool reads versions 0 to 4",
                (long long)m->offset, version);
        return -1;
    }
    printed++;
    if (txn_mode)   /* printed once every state is known (commits_txn.c) */
        return txn_keep(c.topic.s, c.topic.len, c.partition, c.offset, c.timestamp,
                        m->offset);
    printf("%.*s\t%d\t%lld\t%lld\n", c.topic.len, c.topic.s, (int)c.partition,
           (long long)c.offset, (long long)c.timestamp);
    return 0;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Read partition P of __consumer_offsets from START, its first offset, to END,
 * the high watermark we saw when we started: the end "as of now".  Commits
 * made while we read are left for the next run.
 *
 * We stop on the *position*, not on a message count: the partition may also
 * hold control records (markers written when a transaction ends), which take
 * up offsets but are never handed to us.  librdkafka's "partition EOF" event
 * carries the position it reached, past any such records.
 */
int read_partition(rd_kafka_t *rk, int32_t p, int64_t start,
                          int64_t end, const char *group, const char *topic,
                          int64_t *reached)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err, last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t position = start;
    double progress_at = now();
    int rc = 0;

    /* assign(): we pick the partition and the start offset ourselves.
     * There is no subscribe(), so we join no group and commit nothing.
     * (We give the low watermark as a number rather than
     * RD_KAFKA_OFFSET_BEGINNING: librdkafka would look that up once more,
     * and sometimes only after a 500 ms pause.) */
    rd_kafka_topic_partition_list_add(parts, OFFSETS_TOPIC, p)->offset = start;
    err = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        kit_err("cannot read " OFFSETS_TOPIC ": %s", rd_kafka_err2str(err));
        return -1;
    }

    while (position < end && rc == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

        if (m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->offset > position)
                position = m->offset;
            progress_at = now();
            if (reached) {  /* read_committed: the end it may read to */
                *reached = position;
                rd_kafka_message_destroy(m);
                break;
            }
        } else if (m && m->err) {
            /* Mostly passing trouble (a connection dropped...) that
             * librdkafka retries by itself; remember it in case we stall. */
            last_error = m->err;
        } else if (m) {
            if (m->offset < end)
                rc = handle(m, group, topic);
            position = m->offset + 1;
            progress_at = now();
        }
        if (m)
            rd_kafka_message_destroy(m);
        if (rc == 0 && now() - progress_at > 10) {
            kit_err("no progress reading " OFFSETS_TOPIC " for 10 s (at "
                    "offset %lld, the end is %lld)%s%s", (long long)position,
                    (long long)end, last_error ? ": " : "",
                    last_error ? rd_kafka_err2str(last_error) : "");
            rc = -1;
        }
    }
    if (reached && position > *reached)
        *reached = position;  /* read to the end: nothing open */
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"header", no_argument, NULL, 'H'},
        {"txn", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *broker = KIT_BROKER, *group = NULL, *topic = NULL;
    int header = 0, opt, rc = 1;

    kit_prog = "commits";
    while ((opt = getopt_long(argc, argv, "b:g:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 'g': group = optarg; break;
        case 't': topic = optarg; break;
        case 'H': header = 1; break;
        case 'T': txn_mode = 1; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc)
        kit_usage(usage, 2);
    if (!group) {
        kit_err("which group? -g GROUP is required");
        kit_usage(usage, 2);
    }

    /* group.id: librdkafka wants one before it lets a consumer assign(),
     * even though we never join that group; "kit-commits-reader" is just a
     * name.
     * isolation.level=read_uncommitted: hand us every record, whether or
     * not it was written inside a transaction.  (read_committed would stop
     * short of a transaction still open.  The price: a commit made in a
     * transaction that was then aborted is listed too, although the broker
     * dropped it.)
     * fetch.wait.max.ms: when the partition ends in control records, the
     * "partition EOF" event comes with the next, empty, fetch answer -
     * which the broker holds back this long (default 500 ms) in case new
     * records arrive. */
    rd_kafka_conf_t *conf = kit_conf(broker,
                                     "group.id", "kit-commits-reader",
                                     "enable.auto.commit", "false",
                                     "enable.auto.offset.store", "false",
                                     "enable.partition.eof", "true",
                                     "isolation.level", "read_uncommitted",
                                     "fetch.wait.max.ms", "20",
                                     NULL);
    if (!conf)
        return 1;
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_CONSUMER, conf, broker,
                                 KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;

    if (header)
        printf("topic\tpartition\toffset\tcommit_ms%s\n", txn_mode ? "\tstate" : "");

    /* No __consumer_offsets yet: the broker creates it with the first
     * commit of any group, so nobody has committed anything. */
    const rd_kafka_metadata_topic_t *t = kit_topic(md, OFFSETS_TOPIC);
    if (!t || t->partition_cnt <= 0) {
        rc = 0;
    } else {
        int32_t p = partition_for(group, t->partition_cnt);
        int64_t low, high;

        if (kit_watermarks(rk, OFFSETS_TOPIC, p, &low, &high) == 0 &&
            (!txn_mode || high <= low || txn_read_view(broker, p, low, high) == 0) &&
            (high <= low || read_partition(rk, p, low, high, group, topic, NULL) == 0) &&
            (!txn_mode || txn_settle_and_print(broker, group, p, low, high) == 0))
            rc = 0;
    }

    /* For a person (--header), an empty listing says why: most often a
     * misspelt group. (Scripts get an empty listing and status 0.) */
    if (rc == 0 && header && printed == 0) {
        kit_err("the broker recorded no commit for group %s%s%s: is the name "
                "right? (a group commits only once it has processed something)",
                group, topic ? " on topic " : "", topic ? topic : "");
        rc = 1;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
