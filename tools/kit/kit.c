/*
 * kit.c - the shared toolbox of the observer tools; see kit.h.
 */
#include "kit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

const char *kit_prog = "tool";

void kit_err(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", kit_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

_Noreturn void kit_usage(const char *usage, int status)
{
    fputs(usage, status == 0 ? stdout : stderr);
    exit(status);
}

long kit_number(char opt, const char *text, long min, long max,
                const char *usage)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < min || n > max) {
        kit_err("-%c wants a whole number from %ld to %ld, not '%s'",
                opt, min, max, text);
        kit_usage(usage, 2);
    }
    return n;
}

/*
 * librdkafka logs on its own, to stderr, whenever something goes wrong on a
 * connection.  With no broker running, that is a burst of "Connection
 * refused" lines every second - noise that would hide the one sentence that
 * matters.  So the tools hand librdkafka a log callback that drops
 * everything, and report problems themselves, as one line each.
 */
static void drop_log(const rd_kafka_t *rk, int level, const char *facility,
                     const char *line)
{
    (void)rk;
    (void)level;
    (void)facility;
    (void)line;
}

rd_kafka_conf_t *kit_conf(const char *broker, ...)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *name = "bootstrap.servers", *value = broker;
    char errstr[512];
    va_list ap;

    va_start(ap, broker);
    while (name) {
        /* Every setting is checked: a misspelt property name or a bad
         * value is refused here, with librdkafka's explanation. */
        if (!value) {
            kit_err("setting %s has no value", name);
            break;
        }
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            kit_err("cannot set %s=%s: %s", name, value, errstr);
            break;
        }
        name = va_arg(ap, const char *);
        value = name ? va_arg(ap, const char *) : NULL;
    }
    va_end(ap);
    if (name) {                 /* the loop stopped early: a setting failed */
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, drop_log);
    return conf;
}

int kit_metadata(rd_kafka_t *rk, const char *broker, int timeout_ms,
                 const rd_kafka_metadata_t **mdp)
{
    /* all_topics=1: ask for every topic the cluster has.  Asking for one
     * named topic instead could make a broker with auto topic creation
     * switched on create that topic - not what an observer should do. */
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, mdp, timeout_ms);

    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        kit_err("no Kafka broker answers at %s (start one with: make broker-up)",
                broker);
        return -1;
    default:
        kit_err("the broker at %s did not answer a metadata request: %s",
                broker, rd_kafka_err2str(err));
        return -1;
    }
}

rd_kafka_t *kit_connect(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                        const char *broker, int timeout_ms,
                        const rd_kafka_metadata_t **mdp)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);

    if (!rk) {
        /* rd_kafka_new() only takes CONF over when it succeeds. */
        rd_kafka_conf_destroy(conf);
        kit_err("cannot create a Kafka client: %s", errstr);
        return NULL;
    }
    if (kit_metadata(rk, broker, timeout_ms, mdp) != 0) {
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

const rd_kafka_metadata_topic_t *kit_topic(const rd_kafka_metadata_t *md,
                                           const char *topic)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];

        if (strcmp(t->topic, topic) == 0)
            return t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? NULL : t;
    }
    return NULL;
}

void kit_no_topic(const char *topic)
{
    if (strcmp(topic, "orders") == 0)
        kit_err("topic orders does not exist; create it with: make topic");
    else
        kit_err("topic %s does not exist; create it with: make topic TOPIC=%s",
                topic, topic);
}

int kit_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                   int64_t *low, int64_t *high)
{
    const struct timespec pause = {0, 100 * 1000 * 1000};   /* 100 ms */
    rd_kafka_resp_err_t err;

    /* Right after a topic is created, the metadata can already name a
     * partition's leader while that broker is still setting the partition
     * up and answers "not leader".  That passes within moments: retry for
     * up to 2 s before calling it an error. */
    for (int attempt = 0; attempt < 20; attempt++) {
        err = rd_kafka_query_watermark_offsets(rk, topic, partition, low, high,
                                               KIT_TIMEOUT_MS);
        if (err != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION &&
            err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
            break;
        nanosleep(&pause, NULL);
    }
    if (err) {
        kit_err("cannot read the offsets of %s partition %d: %s",
                topic, (int)partition, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

const char *kit_s(long n)
{
    return n == 1 ? "" : "s";
}

/* The line kit_deadline() prints, ready before the alarm: a signal handler
 * may only call async-signal-safe functions such as write(). */
static char deadline_msg[256];
static size_t deadline_len;

static void deadline_passed(int sig)
{
    ssize_t n;

    (void)sig;
    n = write(STDERR_FILENO, deadline_msg, deadline_len);
    (void)n;
    _exit(1);
}

void kit_deadline(int seconds)
{
    struct sigaction sa;
    const char *env = getenv("KIT_DEADLINE_S"); /* the tests shorten it */

    if (env && atoi(env) > 0)
        seconds = atoi(env);
    snprintf(deadline_msg, sizeof deadline_msg,
             "%s: no result within %d s: the broker accepts connections but "
             "does not answer; look at 'make broker-logs' (a damaged data "
             "folder? 'make broker-reset')\n", kit_prog, seconds);
    deadline_len = strlen(deadline_msg);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = deadline_passed;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)seconds);
}
