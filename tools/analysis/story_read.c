/*
 * story_read.c - reading the three records of a crash-and-rerun story: what
 * the program printed, what the probe wrote down of its calls and settings,
 * and what the broker recorded.  story.c works out the facts from them.
 * See story.h for what a story is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "story.h"

/* Make room for one more item in a growing array; exits if memory runs out. */
void *story_grow(void *items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 64;
    items = realloc(items, *cap * size);
    if (!items) {
        kit_err("out of memory");
        exit(1);
    }
    return items;
}


/* --------------------------------------------------------------- reading */

/* Read one line of FP into BUF without its newline; 0 at the end.  A line
 * longer than BUF is read in pieces (the event parser then refuses it). */
static int read_line(FILE *fp, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, fp))
        return 0;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 1;
}

/* Parse TEXT as a whole number that ends at a space or the end of the
 * string; returns 0 on success. */
static int parse_int(const char *text, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || (*end && *end != ' ' && *end != '\t'))
        return -1;
    *out = v;
    return 0;
}

/* The number after " KEY=" in LINE; returns 0 on success. */
static int field(const char *line, const char *key, int64_t *out)
{
    char pattern[32];
    const char *at;

    snprintf(pattern, sizeof pattern, " %s=", key);
    at = strstr(line, pattern);
    return at ? parse_int(at + strlen(pattern), out) : -1;
}

/*
 * One line of a program's output.  Only two kinds matter here:
 *     started partition=P offset=O value=V at=MS
 *     processed partition=P offset=O value=V at=MS
 * `committed` lines are what the program *says* it committed; the broker's
 * record is what counts, so they are skipped like any other line.
 * Returns 1 for an event (E filled in), 0 for another line, -1 for a started
 * or processed line that cannot be read.
 */
static int parse_event(const char *line, enum run run, struct event *e)
{
    const char *value, *at;
    int64_t partition;
    size_t len;

    if (!strncmp(line, "started ", 8))
        e->processed = 0;
    else if (!strncmp(line, "processed ", 10))
        e->processed = 1;
    else
        return 0;
    e->run = run;
    if (field(line, "partition", &partition) || partition < 0 ||
        partition > INT32_MAX || field(line, "offset", &e->offset) ||
        e->offset < 0 || e->offset > MAX_OFFSET)
        return -1;
    e->partition = (int32_t)partition;

    /* The value is whatever lies between "value=" and the last " at=". */
    value = strstr(line, " value=");
    at = strrchr(line, '=');
    while (at && at > line && strncmp(at - 3, " at=", 4))
        at = NULL;                       /* the last '=' must be at='s */
    if (!value || !at || at - 3 < value + 7 || parse_int(at + 1, &e->at))
        return -1;
    value += 7;
    len = (size_t)(at - 3 - value);
    if (len >= sizeof e->value)
        len = sizeof e->value - 1;
    memcpy(e->value, value, len);
    e->value[len] = '\0';
    return 1;
}

static FILE *open_input(const char *path)
{
    FILE *fp = fopen(path, "r");

    if (!fp)
        kit_err("cannot read %s: %s", path, strerror(errno));
    return fp;
}

/* Read a program's output into S; returns 0, or -1 after saying why. */
int story_read_run(struct story *s, const char *path, enum run run)
{
    FILE *fp = open_input(path);
    char line[1024];
    int n = 0;

    if (!fp)
        return -1;
    while (read_line(fp, line, sizeof line)) {
        struct event e;
        int kind = parse_event(line, run, &e);

        n++;
        if (kind < 0) {
            kit_err("%s:%d: cannot read this line: %.80s", path, n, line);
            fclose(fp);
            return -1;
        }
        if (kind == 1) {
            s->events = story_grow(s->events, &s->cap_events, s->n_events,
                             sizeof *s->events);
            s->events[s->n_events++] = e;
        }
    }
    fclose(fp);
    return 0;
}

/*
 * One line of the commits file, in either of two layouts:
 *     TOPIC<tab>PARTITION<tab>OFFSET<tab>COMMIT_MS     (the commits tool)
 *     PARTITION OFFSET COMMIT_MS                      (the checks' helper)
 * plus the commits tool's optional header line.  Returns 1 for a commit,
 * 0 for the header or an empty line, -1 for anything else.
 */
static int parse_commit(char *line, struct commit *c, char *topic,
                        size_t topic_size)
{
    int64_t partition;
    char *p = line, *tab;

    if (!*line || !strncmp(line, "topic\tpartition", 15))
        return 0;
    topic[0] = '\0';
    tab = strchr(line, '\t');
    if (tab) {
        if ((size_t)(tab - line) >= topic_size || tab == line)
            return -1;
        memcpy(topic, line, (size_t)(tab - line));
        topic[tab - line] = '\0';
        p = tab + 1;
    }
    if (parse_int(p, &partition) || partition < 0 || partition > INT32_MAX)
        return -1;
    p += strcspn(p, " \t");
    p += strspn(p, " \t");
    if (parse_int(p, &c->offset) || c->offset < 0 || c->offset > MAX_OFFSET)
        return -1;
    p += strcspn(p, " \t");
    p += strspn(p, " \t");
    if (parse_int(p, &c->ms))
        return -1;
    p += strcspn(p, " \t");
    /* commits --txn: a fifth column, whether the broker counts the record
     * (kept) or not: its transaction was aborted, or is still open. */
    c->dropped = 0;
    if (tab && *p == '\t' && (!strcmp(p + 1, "kept") || !strcmp(p + 1, "aborted") ||
                              !strcmp(p + 1, "open"))) {
        c->dropped = p[1] == 'a' ? 1 : p[1] == 'o' ? 2 : 0;
        p += strlen(p);
    }
    if (p[strspn(p, " \t")])
        return -1;                       /* something after the timestamp */
    c->partition = (int32_t)partition;
    return 1;
}

/* Read the commits file into S; returns 0, or -1 after saying why. */
int story_read_commits(struct story *s, const char *path,
                        const char *only_topic)
{
    FILE *fp = open_input(path);
    char line[1024], topic[256];
    int n = 0;

    if (!fp)
        return -1;
    while (read_line(fp, line, sizeof line)) {
        struct commit c;
        int kind = parse_commit(line, &c, topic, sizeof topic);

        n++;
        if (kind < 0) {
            kit_err("%s:%d: not a commit (want TOPIC<tab>PARTITION<tab>OFFSET"
                    "<tab>COMMIT_MS, as the commits tool prints): %.80s",
                    path, n, line);
            fclose(fp);
            return -1;
        }
        if (kind == 0 || (only_topic && topic[0] && strcmp(topic, only_topic)))
            continue;
        /* A group can commit for several topics; lanes are per partition,
         * so mixing two topics would draw nonsense. */
        if (topic[0] && s->topic[0] && strcmp(topic, s->topic)) {
            kit_err("%s holds commits for several topics (%s, %s): choose one "
                    "with --topic", path, s->topic, topic);
            fclose(fp);
            return -1;
        }
        if (topic[0])
            snprintf(s->topic, sizeof s->topic, "%s", topic);
        if (c.dropped) {
            s->n_dropped[c.dropped - 1]++;
            continue;
        }
        c.ms -= s->skew_ms; /* the broker's clock, read on this machine's */
        s->commits = story_grow(s->commits, &s->cap_commits, s->n_commits,
                          sizeof *s->commits);
        s->commits[s->n_commits++] = c;
    }
    fclose(fp);
    return 0;
}

/* ------------------------------------------------------------- the probe */

/* The text after " KEY=" in LINE, up to the next space, into BUF. */
static int word(const char *line, const char *key, char *buf, size_t size)
{
    char pattern[32];
    const char *at;
    size_t len;

    snprintf(pattern, sizeof pattern, " %s=", key);
    at = strstr(line, pattern);
    if (!at)
        return -1;
    at += strlen(pattern);
    len = strcspn(at, " ");
    if (len >= size)
        len = size - 1;
    memcpy(buf, at, len);
    buf[len] = '\0';
    return 0;
}

static enum call_fn call_fn_of(const char *name)
{
    static const char *const names[] = {
        [CALL_COMMIT] = "commit", [CALL_COMMIT_MESSAGE] = "commit_message",
        [CALL_COMMIT_QUEUE] = "commit_queue", [CALL_OFFSETS_STORE] = "offsets_store",
        [CALL_OFFSET_STORE] = "offset_store", [CALL_CLOSE] = "close"};

    for (int i = 0; i < CALL_OTHER; i++)
        if (!strcmp(name, names[i]))
            return (enum call_fn)i;
    return CALL_OTHER;
}

/* Step 09's transactional calls, as tools/probe/txn.c names them. */
static enum txn_call txn_call_of(const char *name)
{
    static const char *const names[] = {
        [TXN_INIT] = "txn_init", [TXN_BEGIN] = "txn_begin", [TXN_OFFSETS] = "txn_offsets",
        [TXN_COMMIT] = "txn_commit", [TXN_ABORT] = "txn_abort"};

    for (int i = TXN_INIT; i <= TXN_ABORT; i++)
        if (!strcmp(name, names[i]))
            return (enum txn_call)i;
    return TXN_NONE;
}

/* "P:N,P:N" (or "-") into PARTS/OFFSETS; returns how many, or -1. */
static int parse_pairs(const char *text, int32_t *parts, int64_t *offsets)
{
    const char *p = text;
    int n = 0;

    if (!strcmp(text, "-"))
        return 0;
    while (*p) {
        char *end;
        long long part = strtoll(p, &end, 10), off;

        if (end == p || *end != ':' || n == MAX_CALL_PARTS)
            return -1;
        p = end + 1;
        off = strtoll(p, &end, 10);
        if (end == p || (*end && *end != ','))
            return -1;
        parts[n] = (int32_t)part;
        offsets[n++] = off;
        p = *end ? end + 1 : end;
    }
    return n;
}

/* "P:N,P:N" (or "stored", or "-") into the call. */
static int parse_offsets(const char *text, struct call *c)
{
    c->stored = !strcmp(text, "stored");
    if (c->stored)
        return 0;
    c->n_parts = parse_pairs(text, c->parts, c->offsets);
    return c->n_parts < 0 ? -1 : 0;
}

int64_t story_delivered(const struct call *c, int32_t partition)
{
    for (int i = 0; i < c->n_delivered; i++)
        if (c->dparts[i] == partition)
            return c->doffsets[i];
    return -1;
}

int story_read_probe(struct story *s, const char *path, enum run run)
{
    FILE *fp = open_input(path);
    char line[4096];
    int n = 0;

    if (!fp)
        return -1;
    s->have_probe[run] = 1;
    while (read_line(fp, line, sizeof line)) {
        n++;
        if (!strncmp(line, "producer transactional.id=", 26)) {
            snprintf(s->txn_id[run], sizeof s->txn_id[run], "%.*s",
                     (int)strcspn(line + 26, " "), line + 26);
            continue;
        }
        if (!strncmp(line, "config ", 7)) {
            const char *eq = strchr(line + 7, '=');
            struct setting *st;

            if (!eq || (size_t)(eq - line - 7) >= sizeof st->key)
                continue;
            s->settings = story_grow(s->settings, &s->cap_settings, s->n_settings,
                               sizeof *s->settings);
            st = &s->settings[s->n_settings++];
            st->run = run;
            memcpy(st->key, line + 7, (size_t)(eq - line - 7));
            st->key[eq - line - 7] = '\0';
            snprintf(st->value, sizeof st->value, "%s", eq + 1);
        } else if (!strncmp(line, "call ", 5)) {
            struct call c = {.run = run};
            char offsets[2048];
            int64_t async = 0;

            if (word(line, "fn", c.name, sizeof c.name) ||
                word(line, "offsets", offsets, sizeof offsets) ||
                field(line, "async", &async) || field(line, "begin", &c.begin) ||
                field(line, "end", &c.end) || parse_offsets(offsets, &c)) {
                kit_err("%s:%d: cannot read this probe line: %.80s", path, n, line);
                fclose(fp);
                return -1;
            }
            c.async = async != 0;
            c.fn = call_fn_of(c.name);
            c.txn = txn_call_of(c.name);
            if (word(line, "kind", c.kind, sizeof c.kind))
                c.kind[0] = '\0';
            if (word(line, "err", c.err, sizeof c.err))
                strcpy(c.err, "?");
            if (word(line, "failed", c.failed, sizeof c.failed))
                strcpy(c.failed, "-");
            c.n_delivered = -1;
            if (!word(line, "delivered", offsets, sizeof offsets))
                c.n_delivered = parse_pairs(offsets, c.dparts, c.doffsets);
            s->calls = story_grow(s->calls, &s->cap_calls, s->n_calls, sizeof *s->calls);
            s->calls[s->n_calls++] = c;
        }
    }
    fclose(fp);
    return 0;
}

const char *story_setting(const struct story *s, enum run run, const char *key,
                          const char *def)
{
    const char *v = def;

    for (size_t i = 0; i < s->n_settings; i++)
        if (s->settings[i].run == run && !strcmp(s->settings[i].key, key))
            v = s->settings[i].value;
    return v;
}

/* ------------------------------------------------------------- the log ends */

int story_add_log_end(struct story *s, const char *arg)
{
    char *end;
    long long p, n = -1;

    errno = 0;
    p = strtoll(arg, &end, 10);
    if (end != arg && *end == '=' && end[1] >= '0' && end[1] <= '9')
        n = strtoll(end + 1, &end, 10);
    if (errno || n < 0 || *end || p < 0 || p > INT32_MAX) {
        kit_err("--log-end wants PARTITION=OFFSET, like 0=9, not '%s'", arg);
        return -1;
    }
    s->log_ends = story_grow(s->log_ends, &s->cap_log_ends, s->n_log_ends,
                       sizeof *s->log_ends);
    s->log_ends[s->n_log_ends++] = (struct commit){.partition = (int32_t)p,
                                                   .offset = n};
    return 0;
}
