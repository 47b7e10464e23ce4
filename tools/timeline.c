/*
 * timeline - draw what a crash did to a consumer group's offsets.
 *
 * The step checks judge a crash with numbers: which orders came twice, which
 * never came.  This tool draws the same story, one lane per partition, so
 * that you can *see* it:
 *
 *   - each offset is a cell: processed by the run that crashed ("run 1"), by
 *     the rerun, by both (a replay), or by neither although it lies below the
 *     offset the rerun resumed from (lost);
 *   - each commit the broker recorded is a mark on a boundary between two
 *     cells.  A commit of NEXT = k means "every offset below k is done", so
 *     its mark sits between cell k-1 and cell k;
 *   - the messages in hand when run 1 crashed are marked X.
 *
 * It contacts no broker: it reads three files.
 *   RUN1     what the run that crashed printed on stdout (its started and
 *            processed lines; the step programs print them)
 *   RERUN    what the rerun printed (optional)
 *   COMMITS  the broker's record of the group's commits, as printed by
 *            `commits -t TOPIC`: TOPIC<tab>PARTITION<tab>OFFSET<tab>COMMIT_MS,
 *            or the checks' shorter "PARTITION OFFSET COMMIT_MS"
 *
 * It prints a picture for the terminal and, with --svg, writes the same
 * picture as an SVG file for a browser.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit.h"

static const char usage[] =
    "usage: timeline [--svg FILE] [--title TEXT] [--color WHEN] [--topic TOPIC]\n"
    "                [--width COLUMNS] [--log-end P=N]... RUN1.out [RERUN.out] COMMITS\n"
    "  Draw one lane per partition: the offsets run 1 (the run that crashed) and\n"
    "  the rerun processed, where each commit landed, where the crash happened,\n"
    "  what was processed again and what was lost.\n"
    "  RUN1.out, RERUN.out  what the step program printed on stdout\n"
    "  COMMITS              the output of: commits -b BROKER -g GROUP -t TOPIC\n"
    "                       (or lines \"PARTITION OFFSET COMMIT_MS\")\n"
    "  --svg FILE       also write the picture as an SVG file (open it in a browser)\n"
    "  --title TEXT     the picture's title (default: the topic)\n"
    "  --color WHEN     colors and Unicode marks: auto (when stdout is a terminal),\n"
    "                   always or never (plain ASCII); default auto\n"
    "  --topic TOPIC    only this topic's commits (needed when COMMITS has several)\n"
    "  --width COLUMNS  wrap the lanes to fit (default 100; 0 = never wrap)\n"
    "  --log-end P=N    partition P's log ends at offset N (from the lag tool):\n"
    "                   offsets up to there that no run reached are drawn too\n"
    "                   (from 0 on a partition with no message and no commit)\n"
    "  -h               show this help\n";

/* The most offsets a picture spans (its widest lane, from the lowest offset
 * of any lane to the highest). */
#define MAX_OFFSETS 2000

/* The highest offset we accept: far beyond any real log, and low enough
 * that offset arithmetic can never overflow. */
#define MAX_OFFSET (INT64_MAX / 4)

/* ------------------------------------------------------------ what we read */

enum run { RUN1, RERUN };

/* One started or processed line of a program's output. */
struct event {
    enum run run;
    int processed;              /* 0: started, 1: processed */
    int32_t partition;
    int64_t offset, at;         /* at: epoch ms */
    char value[40];             /* Order-N (cut short if longer) */
};

/* Which part of the story a commit belongs to; see classify_commits(). */
enum phase { EARLIER, BEFORE_CRASH, BY_RERUN };

/* One commit the broker recorded. */
struct commit {
    int32_t partition;
    int64_t offset;             /* NEXT: the next offset to read */
    int64_t ms;                 /* the broker's commit timestamp */
    enum phase phase;
};

/* What happened to one offset, and what we conclude from it. */
enum state {
    NOTHING,                    /* not reached by either run */
    BY_RUN1,                    /* processed by run 1 only */
    BY_RERUN_ONLY,              /* processed by the rerun only */
    REPLAYED,                   /* run 1 had it (processed or in hand), the
                                 * rerun got it again */
    LOST,                       /* below the committed offset, never processed */
    UNFINISHED,                 /* started, never finished, not (yet) lost */
    NSTATES
};

struct cell {
    const char *value;          /* points into an event; NULL if never seen */
    int64_t started1, processed1, started2, processed2; /* at= ms; 0: never */
    enum state state;
    int in_hand;                /* started but not processed when run 1 ended */
};

/* One partition: its cells [first, end) and what the summary says. */
struct lane {
    int32_t partition;
    int64_t first, end;
    struct cell *cells;         /* cells[offset - first] */
    int64_t resume;             /* the committed offset the rerun had to start
                                 * from: the last commit before the crash;
                                 * -1 when there was none */
    int64_t rerun_start;        /* where the rerun started; -1 if it did not */
    int64_t run1_start;         /* where run 1 started; -1 if it did not */
    int64_t before_run1;        /* the group's committed offset when run 1
                                 * started (earlier runs); -1: none */
    int64_t committed_past;     /* the highest offset committed in this story
                                 * (or the resume point): below it, nothing
                                 * will be delivered again */
    int n_processed1, n_processed2, n_replayed, n_replayed_in_hand, n_lost,
        n_unfinished, n_unreached, n_in_hand;
};

/* Everything read, and everything worked out from it. */
struct story {
    struct event *events;
    size_t n_events, cap_events;
    struct commit *commits;
    size_t n_commits, cap_commits;
    char topic[256];            /* from the commits file ("" if unknown) */
    int have_rerun;             /* a rerun file was given */
    int64_t t0;                 /* run 1's first line (epoch ms); 0 if none */
    int64_t run1_last;          /* run 1's last line */
    int64_t split;              /* the rerun's first line: commits from then
                                 * on are the rerun's */
    struct lane *lanes;
    size_t n_lanes;
    struct commit *log_ends;    /* --log-end: partition, offset (ms unused) */
    size_t n_log_ends, cap_log_ends;
    int64_t first, end;         /* the offsets drawn, over every lane */
};

/* Make room for one more item in a growing array; exits if memory runs out. */
static void *grow(void *items, size_t *cap, size_t n, size_t size)
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
static int read_run(struct story *s, const char *path, enum run run)
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
            s->events = grow(s->events, &s->cap_events, s->n_events,
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
    if (p[strspn(p, " \t")])
        return -1;                       /* something after the timestamp */
    c->partition = (int32_t)partition;
    return 1;
}

/* Read the commits file into S; returns 0, or -1 after saying why. */
static int read_commits(struct story *s, const char *path,
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
        s->commits = grow(s->commits, &s->cap_commits, s->n_commits,
                          sizeof *s->commits);
        s->commits[s->n_commits++] = c;
    }
    fclose(fp);
    return 0;
}

/* --------------------------------------------------------- working it out */

/*
 * Which commits were made before the crash, and which by the rerun?
 *
 * The obvious answer - "before run 1's last line" - is wrong.  A crashing
 * program dies a while after its last line (halfway through the message in
 * hand), and a commit made in that while is exactly the one that loses a
 * message with auto-commit.  So we split on the *rerun's first line*
 * instead: the rerun can commit nothing before it has received a message,
 * and it prints `started` the moment it has one.  Everything the broker
 * stamped before that came from run 1.
 *
 * Commits older than run 1's first line came from earlier runs of the same
 * group: they say where run 1 started, and are not drawn.
 */
static void classify_commits(struct story *s)
{
    int have1 = 0;

    s->split = INT64_MAX;
    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];

        if (e->run == RERUN && e->at < s->split)
            s->split = e->at;
        if (e->run == RUN1) {
            if (!have1 || e->at < s->t0)
                s->t0 = e->at;
            if (!have1 || e->at > s->run1_last)
                s->run1_last = e->at;
            have1 = 1;
        }
    }
    for (size_t i = 0; i < s->n_commits; i++) {
        struct commit *c = &s->commits[i];

        c->phase = have1 && c->ms < s->t0 ? EARLIER
                 : c->ms < s->split       ? BEFORE_CRASH
                                          : BY_RERUN;
    }
}

static struct lane *find_lane(struct story *s, int32_t partition)
{
    for (size_t i = 0; i < s->n_lanes; i++)
        if (s->lanes[i].partition == partition)
            return &s->lanes[i];
    return NULL;
}

/* The lane of PARTITION, created empty (first > end) if it is new. */
static struct lane *lane_for(struct story *s, int32_t partition)
{
    struct lane *l = find_lane(s, partition);
    size_t i;

    if (l)
        return l;
    s->lanes = realloc(s->lanes, (s->n_lanes + 1) * sizeof *s->lanes);
    if (!s->lanes) {
        kit_err("out of memory");
        exit(1);
    }
    /* Keep the lanes sorted by partition. */
    for (i = s->n_lanes; i > 0 && s->lanes[i - 1].partition > partition; i--)
        s->lanes[i] = s->lanes[i - 1];
    s->n_lanes++;
    l = &s->lanes[i];
    *l = (struct lane){.partition = partition, .first = INT64_MAX,
                       .end = INT64_MIN, .resume = -1, .rerun_start = -1,
                       .run1_start = -1, .before_run1 = -1,
                       .committed_past = -1};
    return l;
}

static void widen(struct lane *l, int64_t from, int64_t to)
{
    if (from < l->first)
        l->first = from;
    if (to > l->end)
        l->end = to;
}

/*
 * Which offsets does a lane show?  From where this story starts to where it
 * ends on that partition:
 *   - the first offset either run received, or the committed offset run 1
 *     started from (an earlier commit), whichever is lower;
 *   - up to the last offset received, or the highest commit drawn.
 * Offsets below the start were done before run 1 and are none of our
 * business; offsets past the end were never reached.  Returns 0, or -1
 * after saying why there is nothing to draw.
 */
static int size_lanes(struct story *s)
{
    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];
        struct lane *l = lane_for(s, e->partition);

        widen(l, e->offset, e->offset + 1);
        if (!e->processed && e->run == RUN1 && l->run1_start < 0)
            l->run1_start = e->offset;
        if (!e->processed && e->run == RERUN && l->rerun_start < 0)
            l->rerun_start = e->offset;
    }
    /* The commits, in log order: the last one before the rerun is where
     * the rerun had to resume.  Of the earlier commits (older than run 1)
     * only the last counts: where run 1 started. */
    for (size_t i = 0; i < s->n_commits; i++) {
        const struct commit *c = &s->commits[i];
        struct lane *l = lane_for(s, c->partition);

        if (c->phase != EARLIER)
            widen(l, c->offset, c->offset);
        if (c->phase != BY_RERUN)
            l->resume = c->offset;
        if (c->phase != EARLIER && c->offset > l->committed_past)
            l->committed_past = c->offset;
        if (c->phase == EARLIER)
            l->before_run1 = c->offset;
    }
    for (size_t i = 0; i < s->n_lanes; i++) {
        struct lane *l = &s->lanes[i];

        if (l->before_run1 >= 0)
            widen(l, l->before_run1, l->before_run1);
        if (l->resume > l->committed_past)
            l->committed_past = l->resume;
    }
    /* Where each log ends, when we were told: the offsets past both runs
     * are drawn as "not reached".  A partition neither run touched, where
     * the group never committed, was not reached from its first offset. */
    for (size_t i = 0; i < s->n_log_ends; i++) {
        struct lane *l = lane_for(s, s->log_ends[i].partition);

        if (l->first == INT64_MAX)
            l->first = 0;
        widen(l, l->first, s->log_ends[i].offset);
    }
    s->first = s->n_lanes ? INT64_MAX : 0;
    s->end = s->n_lanes ? INT64_MIN : 0;
    for (size_t i = 0; i < s->n_lanes; i++) {
        struct lane *l = &s->lanes[i];

        if (l->end < l->first)
            l->end = l->first;
        if (l->first < s->first)
            s->first = l->first;
        if (l->end > s->end)
            s->end = l->end;
    }
    /* One cell per offset, and every lane on the same axis: a story that
     * spans more offsets than anyone could read is refused, not drawn. */
    if (s->end - s->first > MAX_OFFSETS) {
        kit_err("offsets %" PRId64 " to %" PRId64 " are too many to draw "
                "(at most %d): use a fresh topic and group", s->first,
                s->end - 1, MAX_OFFSETS);
        return -1;
    }
    for (size_t i = 0; i < s->n_lanes; i++) {
        struct lane *l = &s->lanes[i];

        l->cells = calloc((size_t)(l->end - l->first) + 1, sizeof *l->cells);
        if (!l->cells) {
            kit_err("out of memory");
            return -1;
        }
    }
    return 0;
}

/* Record each event in its cell (the first time of each kind counts). */
static void fill_cells(struct story *s)
{
    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];
        struct lane *l = find_lane(s, e->partition);
        struct cell *c = &l->cells[e->offset - l->first];
        int64_t *slot = e->run == RUN1 ? (e->processed ? &c->processed1
                                                       : &c->started1)
                                       : (e->processed ? &c->processed2
                                                       : &c->started2);
        if (!*slot)
            *slot = e->at ? e->at : 1;
        if (!c->value)
            c->value = e->value;
    }
}

/*
 * The lesson, cell by cell.
 *   - In hand at the crash: run 1 started it and never said it was done.
 *   - Replayed: run 1 had it (done, or in hand), and the rerun received it
 *     again.  Its work was done twice - or half done, then done again.
 *   - Lost: nobody finished it, yet it lies below a committed offset: the
 *     one the rerun had to resume from (or a later one, if a run skipped
 *     ahead).  The group will never be given it again.  With auto-commit
 *     this is the message in hand, committed before it was done.
 *   - Not reached: neither run got that far (never counted as lost).
 */
static enum state judge(const struct cell *c, int64_t offset, int64_t past)
{
    int had1 = c->started1 || c->processed1;
    int had2 = c->started2 || c->processed2;
    int done = c->processed1 || c->processed2;

    if (offset < past && !done && !had2)
        return LOST;
    if (had1 && had2)
        return REPLAYED;
    if (c->processed1)
        return BY_RUN1;
    if (c->processed2)
        return BY_RERUN_ONLY;
    return had1 || had2 ? UNFINISHED : NOTHING;
}

static void judge_lanes(struct story *s)
{
    for (size_t i = 0; i < s->n_lanes; i++) {
        struct lane *l = &s->lanes[i];

        for (int64_t o = l->first; o < l->end; o++) {
            struct cell *c = &l->cells[o - l->first];

            c->in_hand = c->started1 && !c->processed1;
            c->state = judge(c, o, l->committed_past);
            l->n_processed1 += c->processed1 != 0;
            l->n_processed2 += c->processed2 != 0;
            l->n_in_hand += c->in_hand;
            l->n_lost += c->state == LOST;
            l->n_unfinished += c->state == UNFINISHED;
            l->n_unreached += c->state == NOTHING;
            if (c->state == REPLAYED) {
                l->n_replayed++;
                l->n_replayed_in_hand += c->in_hand;
            }
        }
    }
}

/*
 * Where the rerun should have started on a lane: the committed offset (the
 * last commit before the crash); with none, auto.offset.reset decides, and
 * the steps say earliest - where run 1 started too.  -1: we cannot tell.
 */
static int64_t expected_start(const struct lane *l)
{
    return l->resume >= 0 ? l->resume : l->run1_start;
}

/* ------------------------------------------------------ the terminal picture */

/*
 * The picture is drawn in plain ASCII on a grid of characters; each
 * character also remembers what it stands for, so that on a color terminal
 * we can paint it and swap in a nicer Unicode mark at output time.  The
 * ASCII picture stays the reference: it is what the checks print.
 */
enum ink {
    INK_TEXT, INK_RULE, INK_COMMIT1, INK_COMMIT2, INK_CRASH, INK_START,
    INK_CELL            /* INK_CELL + state: a cell's three characters */
};

struct pix {
    char ch;
    unsigned char ink;
};

struct style {
    int color, unicode;
};

static const char cell_glyph[NSTATES] = {
    [NOTHING] = '.', [BY_RUN1] = '1', [BY_RERUN_ONLY] = '2',
    [REPLAYED] = 'R', [LOST] = '!', [UNFINISHED] = '~',
};

/* ANSI SGR codes: cells get a background, marks a bold foreground. */
static const char *paint(int ink)
{
    switch (ink) {
    case INK_RULE:    return "90";
    case INK_COMMIT1: return "1;34";
    case INK_COMMIT2: return "1;32";
    case INK_CRASH:   return "1;31";
    case INK_START:   return "32";
    case INK_CELL + NOTHING:       return "90";
    case INK_CELL + BY_RUN1:       return "97;44";
    case INK_CELL + BY_RERUN_ONLY: return "30;42";
    case INK_CELL + REPLAYED:      return "30;43";
    case INK_CELL + LOST:          return "1;97;41";
    case INK_CELL + UNFINISHED:    return "97;45";
    default:          return NULL;
    }
}

/* The Unicode mark for an ASCII one, or NULL to keep the ASCII. */
static const char *unicode_mark(const struct pix *p)
{
    switch (p->ink) {
    case INK_RULE:    return p->ch == '|' ? "\u2502" : NULL;
    case INK_COMMIT1: return p->ch == 'v' ? "\u25bc" : NULL;
    case INK_COMMIT2: return p->ch == '^' ? "\u25b2" : NULL;
    case INK_CRASH:   return p->ch == 'X' ? "\u2717" : NULL;
    case INK_START:   return p->ch == '>' ? "\u25b6" : NULL;
    default:          return NULL;
    }
}

/* A row of the grid: W characters, blank to start with. */
struct row {
    struct pix *pix;
    int width;
};

static void row_init(struct row *r, int width)
{
    r->width = width;
    r->pix = calloc((size_t)width, sizeof *r->pix);
    if (!r->pix) {
        kit_err("out of memory");
        exit(1);
    }
    for (int i = 0; i < width; i++)
        r->pix[i] = (struct pix){' ', INK_TEXT};
}

static void put(struct row *r, int col, char ch, int ink)
{
    if (col >= 0 && col < r->width)
        r->pix[col] = (struct pix){ch, (unsigned char)ink};
}

/* Is [col, col + len) blank, with a blank on either side? */
static int room_for(const struct row *r, int col, int len)
{
    for (int i = col - 1; i <= col + len; i++)
        if (i >= 0 && i < r->width && r->pix[i].ch != ' ')
            return 0;
    return col >= 0 && col + len <= r->width;
}

static void text(struct row *r, int col, const char *s, int ink)
{
    for (; *s; s++)
        put(r, col++, *s, ink);
}

/* Write TEXT at COL only if it fits without touching anything drawn. */
static void label(struct row *r, int col, const char *s, int ink)
{
    if (room_for(r, col, (int)strlen(s)))
        text(r, col, s, ink);
}

static void print_row(const struct row *r, struct style st)
{
    int end = r->width, ink = INK_TEXT;

    while (end > 0 && r->pix[end - 1].ch == ' ')
        end--;                           /* no trailing blanks */
    for (int i = 0; i < end; i++) {
        const struct pix *p = &r->pix[i];
        const char *mark = st.unicode ? unicode_mark(p) : NULL;

        if (st.color && p->ink != ink) {
            const char *code = paint(p->ink);

            printf("\033[0m");
            if (code)
                printf("\033[%sm", code);
            ink = p->ink;
        }
        if (mark)
            fputs(mark, stdout);
        else
            putchar(p->ch);
    }
    if (st.color && ink > 0)
        printf("\033[0m");
    putchar('\n');
}

/* The layout: a label column, then 4 characters per offset - the boundary
 * before it ('|', where commit marks go) and the cell itself (3 wide). */
#define LABEL_W 16
#define OFFSET_W 4

static int boundary_col(int64_t offset, int64_t from)
{
    return LABEL_W + OFFSET_W * (int)(offset - from);
}

static int cell_col(int64_t offset, int64_t from)
{
    return boundary_col(offset, from) + 2;
}

/* The ruler: each offset's number, centered over its cell. */
static void draw_ruler(struct row *r, int64_t from, int64_t to)
{
    char num[24];

    text(r, 0, "offset", INK_TEXT);
    for (int64_t o = from; o < to; o++) {
        int len = snprintf(num, sizeof num, "%" PRId64, o);

        label(r, cell_col(o, from) - (len - 1) / 2, num, INK_TEXT);
    }
}

/* The lane itself: | 1 | R | ! | ... for the offsets [from, to). */
static void draw_cells(struct row *r, const struct lane *l, int64_t from,
                       int64_t to)
{
    for (int64_t o = from; o < to; o++) {
        int col = boundary_col(o, from);

        if (o < l->first || o >= l->end)
            continue;                   /* outside this partition's story */
        const struct cell *c = &l->cells[o - l->first];

        put(r, col, '|', INK_RULE);
        put(r, col + 1, ' ', INK_CELL + c->state);
        put(r, col + 2, cell_glyph[c->state], INK_CELL + c->state);
        put(r, col + 3, ' ', INK_CELL + c->state);
        if (o + 1 == l->end || o + 1 == to)
            put(r, col + OFFSET_W, '|', INK_RULE);
    }
}

/* The crash: an X over each message run 1 had in hand.  Returns how many
 * (a lane with none gets no crash row). */
static int draw_crash(struct row *r, const struct lane *l, int64_t from,
                      int64_t to)
{
    int n = 0;

    text(r, 4, "crash", INK_TEXT);
    for (int64_t o = from; o < to; o++)
        if (o >= l->first && o < l->end && l->cells[o - l->first].in_hand) {
            put(r, cell_col(o, from), 'X', INK_CRASH);
            n++;
        }
    return n;
}

/*
 * The marks above the lane (run 1) or below it (the rerun).  Marks first,
 * so that none is ever hidden by a label; then each commit's offset right
 * after its mark, where it fits.  A commit of k is drawn on boundary k; the
 * segment [from, to) shows the boundaries from..to.
 */
static void draw_marks(struct row *r, const struct story *s,
                       const struct lane *l, int64_t from, int64_t to,
                       enum phase phase)
{
    int ink = phase == BY_RERUN ? INK_COMMIT2 : INK_COMMIT1;
    char mark = phase == BY_RERUN ? '^' : 'v', num[24];

    text(r, 4, phase == BY_RERUN ? "rerun" : "run 1", INK_TEXT);
    if (phase == BY_RERUN && l->rerun_start >= from && l->rerun_start <= to)
        put(r, boundary_col(l->rerun_start, from), '>', INK_START);
    for (size_t i = 0; i < s->n_commits; i++) {
        const struct commit *c = &s->commits[i];

        if (c->partition == l->partition && c->phase == phase &&
            c->offset >= from && c->offset <= to)
            put(r, boundary_col(c->offset, from), mark, ink);
    }
    /* The label starts right after the mark, so only the columns of the
     * text and one blank after it must be free. */
    for (int64_t o = from; o <= to; o++) {
        int col = boundary_col(o, from), len, ok = 1;

        if (r->pix[col].ch != mark)
            continue;
        len = snprintf(num, sizeof num, "%" PRId64, o);
        for (int i = col + 1; i <= col + len + 1 && ok; i++)
            ok = i >= r->width || r->pix[i].ch == ' ';
        if (ok)
            text(r, col + 1, num, ink);
    }
}

static void draw_segment(const struct story *s, int64_t from, int64_t to,
                         int width, struct style st)
{
    struct row r;

    row_init(&r, width);
    draw_ruler(&r, from, to);
    print_row(&r, st);
    free(r.pix);
    for (size_t i = 0; i < s->n_lanes; i++) {
        const struct lane *l = &s->lanes[i];
        char name[32];

        row_init(&r, width);
        draw_marks(&r, s, l, from, to, BEFORE_CRASH);
        print_row(&r, st);
        free(r.pix);

        row_init(&r, width);
        if (draw_crash(&r, l, from, to))
            print_row(&r, st);
        free(r.pix);

        row_init(&r, width);
        snprintf(name, sizeof name, "partition %" PRId32, l->partition);
        text(&r, 0, name, INK_TEXT);
        draw_cells(&r, l, from, to);
        if (l->end <= l->first)
            text(&r, LABEL_W, "(no messages)", INK_TEXT);
        print_row(&r, st);
        free(r.pix);

        if (s->have_rerun) {
            row_init(&r, width);
            draw_marks(&r, s, l, from, to, BY_RERUN);
            print_row(&r, st);
            free(r.pix);
        }
        if (i + 1 < s->n_lanes)
            printf("\n");
    }
}

/* The legend, a few lines long: each key is its mark, drawn as in the
 * picture, and a few words; the keys flow on to the next line as needed. */
static void print_legend(struct style st)
{
    static const struct {
        int ink;
        char ch;
        const char *what;
    } keys[] = {
        {INK_CELL + BY_RUN1, '1', "processed by run 1"},
        {INK_CELL + BY_RERUN_ONLY, '2', "processed by the rerun"},
        {INK_CELL + REPLAYED, 'R', "run 1 had it, the rerun got it again (replayed)"},
        {INK_CELL + LOST, '!', "lost: below a commit, never processed"},
        {INK_CELL + UNFINISHED, '~', "started, never finished"},
        {INK_CELL + NOTHING, '.', "not reached"},
        {INK_CRASH, 'X', "in hand at the crash"},
        {INK_COMMIT1, 'v', "commit by run 1, before the crash"},
        {INK_COMMIT2, '^', "commit by the rerun"},
        {INK_START, '>', "where the rerun started"},
    };
    const int width = 96, indent = 8;
    struct row r;
    int col = indent;

    row_init(&r, width);
    text(&r, 0, "legend:", INK_TEXT);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int len = 5 + (int)strlen(keys[i].what);

        if (col + len > width) {
            print_row(&r, st);
            free(r.pix);
            row_init(&r, width);
            col = indent;
        }
        if (keys[i].ink >= INK_CELL) {
            put(&r, col, ' ', keys[i].ink);
            put(&r, col + 1, keys[i].ch, keys[i].ink);
            put(&r, col + 2, ' ', keys[i].ink);
        } else {
            put(&r, col + 1, keys[i].ch, keys[i].ink);
        }
        text(&r, col + 4, keys[i].what, INK_TEXT);
        col += len + 2;
    }
    print_row(&r, st);
    free(r.pix);
    printf("%*sa commit of k sits between offsets k-1 and k: \"everything "
           "below k is done\"\n", indent, "");
}

/* The offsets of a lane in state WANT, as ranges: " (offsets 2-4,7)". */
static void print_offsets(const struct lane *l, enum state want)
{
    char list[256] = "";
    size_t used = 0;
    int64_t run_from = -1;
    int n = 0;

    for (int64_t o = l->first; o <= l->end; o++) {
        int hit = o < l->end && l->cells[o - l->first].state == want;

        if (hit) {
            n++;
            if (run_from < 0)
                run_from = o;
        } else if (run_from >= 0) {
            if (used + 48 < sizeof list) {     /* else: "..." is enough */
                used += (size_t)snprintf(list + used, sizeof list - used,
                                         "%s%" PRId64, used ? "," : "",
                                         run_from);
                if (o - 1 > run_from)
                    used += (size_t)snprintf(list + used, sizeof list - used,
                                             "-%" PRId64, o - 1);
            } else if (!strstr(list, "...")) {
                strcat(list, ",...");
            }
            run_from = -1;
        }
    }
    if (n)
        printf(" (offset%s %s)", n > 1 ? "s" : "", list);
}

static void print_lane_summary(const struct story *s, const struct lane *l)
{
    int64_t want = expected_start(l);

    printf("  partition %" PRId32 ": processed %d by run 1, %d by the rerun; "
           "replayed %d", l->partition, l->n_processed1, l->n_processed2,
           l->n_replayed);
    print_offsets(l, REPLAYED);
    printf("; lost %d", l->n_lost);
    print_offsets(l, LOST);
    if (l->resume >= 0)
        printf("; last commit before the crash: %" PRId64, l->resume);
    else
        printf("; last commit before the crash: none");
    if (!s->have_rerun)
        printf("\n");
    else if (l->rerun_start < 0)
        printf("; the rerun received nothing here\n");
    else if (want < 0 || l->rerun_start == want)
        printf("; the rerun started at %" PRId64 "%s\n", l->rerun_start,
               want < 0 ? " (nothing committed: auto.offset.reset)"
               : l->resume >= 0 ? ", as committed"
                                : ", where run 1 did (nothing committed)");
    else
        printf("; WRONG: the rerun started at %" PRId64 ", but the broker "
               "had %" PRId64 " committed\n", l->rerun_start, want);
}

/* The first lines: what happened, in words. */
static void print_header(const struct story *s, const char *title)
{
    int n_hand = 0, n1 = 0, n2 = 0, before = 0, after = 0;
    const struct cell *hand = NULL;
    int32_t hand_p = 0;
    int64_t hand_o = 0;

    for (size_t i = 0; i < s->n_lanes; i++) {
        const struct lane *l = &s->lanes[i];

        n_hand += l->n_in_hand;
        n1 += l->n_processed1;
        n2 += l->n_processed2;
        for (int64_t o = l->first; o < l->end && !hand; o++)
            if (l->cells[o - l->first].in_hand) {
                hand = &l->cells[o - l->first];
                hand_p = l->partition;
                hand_o = o;
            }
    }
    for (size_t i = 0; i < s->n_commits; i++) {
        before += s->commits[i].phase == BEFORE_CRASH;
        after += s->commits[i].phase == BY_RERUN;
    }
    printf("Commit timeline: %s\n", title);
    if (n_hand == 1)
        printf("run 1 processed %d, then crashed while processing %s "
               "(partition %" PRId32 " offset %" PRId64 ")", n1,
               hand->value, hand_p, hand_o);
    else if (n_hand > 1)
        printf("run 1 processed %d, then crashed with %d messages in hand",
               n1, n_hand);
    else
        printf("run 1 processed %d and had nothing in hand at its end", n1);
    if (s->have_rerun && s->split != INT64_MAX)
        printf("; the rerun processed %d, starting %.1f s after run 1's "
               "last line\n", n2, (double)(s->split - s->run1_last) / 1000.0);
    else if (s->have_rerun)
        printf("; the rerun received nothing\n");
    else
        printf("; no rerun given\n");
    printf("the broker recorded %d commit%s before the crash and %d by the "
           "rerun\n\n", before, kit_s(before), after);
}

static void print_terminal(const struct story *s, const char *title,
                           int width, struct style st)
{
    int64_t per = width > 0 ? (width - LABEL_W - 8) / OFFSET_W : INT32_MAX;
    int total_lost = 0, total_replayed = 0, total_hand = 0, total_unreached = 0;

    if (per < 1)
        per = 1;
    print_header(s, title);
    for (int64_t from = s->first; from < s->end || from == s->first;
         from += per) {
        int64_t to = s->end - from > per ? from + per : s->end;
        int cols = boundary_col(to, from) + 8;

        if (cols < LABEL_W + 20)
            cols = LABEL_W + 20;        /* room for "(no messages)" */

        draw_segment(s, from, to, cols, st);
        printf("\n");
        if (to >= s->end)
            break;
    }
    print_legend(st);
    printf("\nsummary:\n");
    for (size_t i = 0; i < s->n_lanes; i++) {
        const struct lane *l = &s->lanes[i];

        print_lane_summary(s, l);
        total_lost += l->n_lost;
        total_replayed += l->n_replayed;
        total_hand += l->n_replayed_in_hand;
        total_unreached += l->n_unreached;
    }
    printf("  in all: replayed %d", total_replayed);
    if (total_replayed)
        printf(" (%d processed twice, %d in hand at the crash)",
               total_replayed - total_hand, total_hand);
    printf(", lost %d, not reached %d\n", total_lost, total_unreached);
}

/* -------------------------------------------------------------- the SVG */

/*
 * The same picture for a browser.  Every cell and every commit has a
 * tooltip (an SVG <title>) with its times, so hovering tells the details
 * the picture leaves out.
 */
#define SVG_LEFT 110            /* the partition labels */
#define SVG_CELL_W 34
#define SVG_CELL_H 28
#define SVG_TOP 92              /* the title and the header lines */
#define SVG_LANE_H 124          /* one lane with its marks and summary */

static const char *const svg_fill[NSTATES] = {
    [NOTHING] = "#ffffff", [BY_RUN1] = "#9ecae1", [BY_RERUN_ONLY] = "#a1d99b",
    [REPLAYED] = "#fdae6b", [LOST] = "#de2d26", [UNFINISHED] = "#cbc9e2",
};
#define SVG_BLUE "#2171b5"
#define SVG_GREEN "#238b45"
#define SVG_RED "#cb181d"

/* Text from the inputs (a title, a message value) made safe for XML. */
static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* Control characters are not allowed in XML 1.0 at all. */
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

/* "+1.234 s": a moment, counted from run 1's first line. */
static void svg_time(FILE *f, const struct story *s, int64_t ms)
{
    fprintf(f, "%+.3f s", (double)(ms - s->t0) / 1000.0);
}

static double svg_x(const struct story *s, int64_t offset)
{
    return SVG_LEFT + (double)(offset - s->first) * SVG_CELL_W;
}

static void svg_cell_title(FILE *f, const struct story *s,
                           const struct lane *l, int64_t o,
                           const struct cell *c)
{
    static const char *const what[NSTATES] = {
        [NOTHING] = "not reached", [BY_RUN1] = "processed by run 1",
        [BY_RERUN_ONLY] = "processed by the rerun",
        [REPLAYED] = "replayed: run 1 had it, the rerun got it again",
        [LOST] = "LOST: below the committed offset, never processed",
        [UNFINISHED] = "started, never finished",
    };

    fprintf(f, "<title>partition %" PRId32 " offset %" PRId64, l->partition, o);
    if (c->value) {
        fputs(" (", f);
        xml_text(f, c->value);
        fputs(")", f);
    }
    fprintf(f, ": %s", what[c->state]);
    if (c->started1) {
        fputs("&#10;run 1 started it at ", f);
        svg_time(f, s, c->started1);
    }
    if (c->processed1) {
        fputs(", finished at ", f);
        svg_time(f, s, c->processed1);
    }
    if (c->in_hand)
        fputs(", and crashed while processing it", f);
    if (c->started2) {
        fputs("&#10;the rerun started it at ", f);
        svg_time(f, s, c->started2);
    }
    if (c->processed2) {
        fputs(", finished at ", f);
        svg_time(f, s, c->processed2);
    }
    fputs("</title>", f);
}

static void svg_cells(FILE *f, const struct story *s, const struct lane *l,
                      double y)
{
    for (int64_t o = l->first; o < l->end; o++) {
        const struct cell *c = &l->cells[o - l->first];
        double x = svg_x(s, o);

        fprintf(f, "<g class=\"cell %s\"><rect x=\"%.1f\" y=\"%.1f\" "
                "width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"%s\" "
                "stroke-width=\"%s\"%s>",
                c->state == LOST ? "lost" : c->state == REPLAYED ? "replayed"
                : c->state == BY_RUN1 ? "run1" : c->state == BY_RERUN_ONLY
                ? "rerun" : c->state == UNFINISHED ? "unfinished" : "unreached",
                x, y, SVG_CELL_W, SVG_CELL_H, svg_fill[c->state],
                c->in_hand ? SVG_RED : "#636363", c->in_hand ? "3" : "1",
                c->state == NOTHING ? " stroke-dasharray=\"3 2\"" : "");
        svg_cell_title(f, s, l, o, c);
        fprintf(f, "</rect><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"11\" fill=\"%s\">%" PRId64 "</text></g>\n",
                x + SVG_CELL_W / 2.0, y + SVG_CELL_H / 2.0 + 4,
                c->state == LOST ? "#ffffff" : "#252525", o);
    }
}

/* "lost" under each lost cell: the one thing not to miss. */
static void svg_lost(FILE *f, const struct story *s, const struct lane *l,
                     double y)
{
    for (int64_t o = l->first; o < l->end; o++)
        if (l->cells[o - l->first].state == LOST)
            fprintf(f, "<text class=\"lost-label\" x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\" font-size=\"10\" font-weight="
                    "\"bold\" fill=\"%s\">lost</text>\n",
                    svg_x(s, o) + SVG_CELL_W / 2.0, y + SVG_CELL_H + 12,
                    SVG_RED);
}

/* The crash: a red X above each cell that was in hand. */
static void svg_crash(FILE *f, const struct story *s, const struct lane *l,
                      double y)
{
    for (int64_t o = l->first; o < l->end; o++) {
        double cx = svg_x(s, o) + SVG_CELL_W / 2.0, cy = y - 9;

        if (!l->cells[o - l->first].in_hand)
            continue;
        fprintf(f, "<g class=\"crash\" stroke=\"%s\" stroke-width=\"3\" "
                "stroke-linecap=\"round\"><title>run 1 crashed while "
                "processing offset %" PRId64 "</title>"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
                SVG_RED, o, cx - 5, cy - 5, cx + 5, cy + 5, cx - 5, cy + 5,
                cx + 5, cy - 5);
    }
}

/*
 * The commits of one phase on one lane: a tick on each boundary that was
 * committed, with the offset as its label; run 1's above the lane (pointing
 * down at it), the rerun's below (pointing up).  Several commits of the
 * same offset share one tick, and its tooltip lists them all.  The commit
 * the rerun resumed from gets a thicker tick.
 */
static void svg_commits(FILE *f, const struct story *s, const struct lane *l,
                        double y, enum phase phase)
{
    int up = phase == BY_RERUN;
    const char *color = up ? SVG_GREEN : SVG_BLUE;

    for (int64_t k = l->first; k <= l->end; k++) {
        int n = 0, resume = !up && k == l->resume;
        double x = svg_x(s, k);
        /* The tick crosses the lane, so the boundary itself stands out. */
        double y1 = up ? y : y - 16, y2 = up ? y + SVG_CELL_H + 16 : y + SVG_CELL_H;

        for (size_t i = 0; i < s->n_commits; i++)
            n += s->commits[i].partition == l->partition &&
                 s->commits[i].phase == phase && s->commits[i].offset == k;
        if (!n)
            continue;
        fprintf(f, "<g class=\"commit %s\"><title>", up ? "by-rerun"
                                                        : "before-crash");
        fprintf(f, "commit of offset %" PRId64 " on partition %" PRId32
                " (everything below %" PRId64 " done)%s", k, l->partition, k,
                resume ? ": the last before the crash, where the rerun "
                         "had to start" : "");
        for (size_t i = 0; i < s->n_commits; i++) {
            const struct commit *c = &s->commits[i];

            if (c->partition == l->partition && c->phase == phase &&
                c->offset == k) {
                fputs("&#10;committed at ", f);
                svg_time(f, s, c->ms);
            }
        }
        fprintf(f, "</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\"/>",
                x, y1, x, y2, color, resume ? 4 : 2);
        if (up)
            fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                    "fill=\"%s\"/>", x - 5, y2 + 2, x + 5, y2 + 2, x, y2 - 6,
                    color);
        else
            fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                    "fill=\"%s\"/>", x - 5, y1 - 2, x + 5, y1 - 2, x, y1 + 6,
                    color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"10\" fill=\"%s\"%s>%" PRId64 "</text></g>\n", x,
                up ? y2 + 13 : y1 - 5, color,
                resume ? " font-weight=\"bold\"" : "", k);
    }
}

/* Where the rerun started: a small green arrow on the lane's floor. */
static void svg_rerun_start(FILE *f, const struct story *s,
                            const struct lane *l, double y)
{
    double x = svg_x(s, l->rerun_start), b = y + SVG_CELL_H;

    if (l->rerun_start < 0)
        return;
    fprintf(f, "<polygon class=\"rerun-start\" points=\"%.1f,%.1f %.1f,%.1f "
            "%.1f,%.1f\" fill=\"%s\"><title>the rerun started here, at offset "
            "%" PRId64 "</title></polygon>\n", x + 2, b - 11, x + 2, b - 1,
            x + 10, b - 6, SVG_GREEN, l->rerun_start);
}

static void svg_lane(FILE *f, const struct story *s, const struct lane *l,
                     double top)
{
    double y = top + 30;
    int64_t want = expected_start(l);

    fprintf(f, "<g class=\"lane\" id=\"partition-%" PRId32 "\">\n",
            l->partition);
    fprintf(f, "<text x=\"12\" y=\"%.1f\" font-size=\"13\" "
            "font-weight=\"bold\">partition %" PRId32 "</text>\n",
            y + SVG_CELL_H / 2.0 + 4, l->partition);
    if (l->end <= l->first)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" "
                "fill=\"#636363\">no messages</text>\n", SVG_LEFT,
                y + SVG_CELL_H / 2.0 + 4);
    svg_cells(f, s, l, y);
    svg_crash(f, s, l, y);
    svg_lost(f, s, l, y);
    svg_commits(f, s, l, y, BEFORE_CRASH);
    svg_commits(f, s, l, y, BY_RERUN);
    svg_rerun_start(f, s, l, y);

    /* The lane's summary, in words, under it. */
    fprintf(f, "<text class=\"summary\" x=\"12\" y=\"%.1f\" font-size=\"12\" "
            "fill=\"#252525\">processed %d by run 1, %d by the rerun; "
            "replayed %d; lost %d; last commit before the crash: ",
            y + SVG_CELL_H + 44, l->n_processed1, l->n_processed2,
            l->n_replayed, l->n_lost);
    if (l->resume >= 0)
        fprintf(f, "%" PRId64, l->resume);
    else
        fputs("none", f);
    if (s->have_rerun && l->rerun_start >= 0) {
        if (want >= 0 && l->rerun_start != want)
            fprintf(f, "; <tspan fill=\"%s\" font-weight=\"bold\">WRONG: the "
                    "rerun started at %" PRId64 ", not at %" PRId64
                    "</tspan>", SVG_RED, l->rerun_start, want);
        else
            fprintf(f, "; the rerun started at %" PRId64, l->rerun_start);
    }
    fputs("</text>\n</g>\n", f);
}

static void svg_legend(FILE *f, double top)
{
    static const struct {
        int state;              /* a cell color, or -1 for a mark */
        const char *mark, *what;
    } keys[] = {
        {BY_RUN1, NULL, "processed by run 1"},
        {BY_RERUN_ONLY, NULL, "processed by the rerun"},
        {REPLAYED, NULL, "replayed: run 1 had it, the rerun got it again"},
        {LOST, NULL, "lost: below the committed offset, never processed"},
        {UNFINISHED, NULL, "started, never finished"},
        {NOTHING, NULL, "not reached"},
        {-1, "crash", "in hand when run 1 crashed"},
        {-1, "commit1", "commit by run 1, before the crash (thick: the last)"},
        {-1, "commit2", "commit by the rerun"},
        {-1, "start", "where the rerun started"},
    };
    size_t n = sizeof keys / sizeof keys[0];

    fprintf(f, "<g class=\"legend\" font-size=\"12\">\n<text x=\"12\" "
            "y=\"%.1f\" font-weight=\"bold\">Legend</text>\n<text x=\"80\" "
            "y=\"%.1f\" fill=\"#636363\">a commit of k sits between offsets "
            "k-1 and k: everything below k is done</text>\n", top, top);
    for (size_t i = 0; i < n; i++) {
        double x = 12 + (double)(i % 2) * 380, y = top + 14 + (double)(i / 2) * 22;

        if (keys[i].state >= 0)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"16\" "
                    "fill=\"%s\" stroke=\"#636363\" %s/>", x, y,
                    svg_fill[keys[i].state],
                    keys[i].state == NOTHING ? "stroke-dasharray=\"3 2\" " : "");
        else if (!strcmp(keys[i].mark, "crash"))
            fprintf(f, "<g stroke=\"%s\" stroke-width=\"3\" stroke-linecap="
                    "\"round\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\"/></g>", SVG_RED, x + 6, y + 3, x + 16, y + 13,
                    x + 6, y + 13, x + 16, y + 3);
        else if (!strcmp(keys[i].mark, "commit1"))
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"2\"/><polygon points=\"%.1f,"
                    "%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>", x + 11, y,
                    x + 11, y + 16, SVG_BLUE, x + 6, y, x + 16, y, x + 11,
                    y + 8, SVG_BLUE);
        else if (!strcmp(keys[i].mark, "commit2"))
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"2\"/><polygon points=\"%.1f,"
                    "%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>", x + 11, y,
                    x + 11, y + 16, SVG_GREEN, x + 6, y + 16, x + 16, y + 16,
                    x + 11, y + 8, SVG_GREEN);
        else
            fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                    "fill=\"%s\"/>", x + 7, y + 3, x + 7, y + 13, x + 16,
                    y + 8, SVG_GREEN);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 30, y + 12,
                keys[i].what);
    }
    fputs("</g>\n", f);
}

/* The header lines of the SVG: the same words as the terminal's. */
static void svg_header(FILE *f, const struct story *s, const char *title)
{
    int n1 = 0, n2 = 0, hand = 0, lost = 0, replayed = 0, before = 0, after = 0;

    for (size_t i = 0; i < s->n_lanes; i++) {
        n1 += s->lanes[i].n_processed1;
        n2 += s->lanes[i].n_processed2;
        hand += s->lanes[i].n_in_hand;
        lost += s->lanes[i].n_lost;
        replayed += s->lanes[i].n_replayed;
    }
    for (size_t i = 0; i < s->n_commits; i++) {
        before += s->commits[i].phase == BEFORE_CRASH;
        after += s->commits[i].phase == BY_RERUN;
    }
    fputs("<text x=\"12\" y=\"28\" font-size=\"18\" font-weight=\"bold\">"
          "Commit timeline: ", f);
    xml_text(f, title);
    fprintf(f, "</text>\n<text x=\"12\" y=\"50\" font-size=\"13\">run 1 "
            "processed %d, then %s; the rerun processed %d.</text>\n", n1,
            hand ? "crashed (red X: in hand at the crash)"
                 : "ended with nothing in hand", n2);
    fprintf(f, "<text x=\"12\" y=\"68\" font-size=\"13\">the broker recorded "
            "%d commit%s before the crash (above the lanes) and %d by the "
            "rerun (below). Replayed %d, lost %d.</text>\n", before,
            kit_s(before), after, replayed, lost);
}

/* Write the SVG to F (opened for PATH) and close it; returns 0, or -1
 * after saying why. */
static int write_svg(const struct story *s, const char *title, FILE *f,
                     const char *path)
{
    int64_t cells = s->end - s->first;
    double width = SVG_LEFT + (double)cells * SVG_CELL_W + 60;
    double height = SVG_TOP + (double)s->n_lanes * SVG_LANE_H + 170;

    /* Wide enough for the title (up to 12 px a character at 18 px bold,
     * as DejaVu Sans draws it) and the summaries under the lanes. */
    if (width < 800)
        width = 800;
    if (width < 24 + (double)(strlen(title) + 17) * 12)
        width = 24 + (double)(strlen(title) + 17) * 12;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\">\n", width, height, width, height);
    fputs("<title>Commit timeline: ", f);
    xml_text(f, title);
    fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"#ffffff\"/>\n");
    svg_header(f, s, title);
    for (size_t i = 0; i < s->n_lanes; i++)
        svg_lane(f, s, &s->lanes[i], SVG_TOP + (double)i * SVG_LANE_H);
    svg_legend(f, SVG_TOP + (double)s->n_lanes * SVG_LANE_H + 10);
    fputs("</svg>\n", f);
    if (ferror(f) | fclose(f)) {
        kit_err("cannot write %s", path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ main */

/* --color auto: colors (and Unicode marks, if the locale is UTF-8) only on
 * a terminal, and never when NO_COLOR is set or TERM is dumb. */
static struct style pick_style(const char *when)
{
    const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
    const char *locale = getenv("LC_ALL");
    struct style st = {0, 0};

    if (!locale || !*locale)
        locale = getenv("LC_CTYPE");
    if (!locale || !*locale)
        locale = getenv("LANG");
    if (!strcmp(when, "always"))
        st.color = 1;
    else if (!strcmp(when, "auto"))
        st.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                   !(term && !strcmp(term, "dumb"));
    st.unicode = st.color && locale &&
                 (strstr(locale, "UTF-8") || strstr(locale, "utf8") ||
                  strstr(locale, "utf-8") || strstr(locale, "UTF8"));
    return st;
}

static void free_story(struct story *s)
{
    for (size_t i = 0; i < s->n_lanes; i++)
        free(s->lanes[i].cells);
    free(s->lanes);
    free(s->events);
    free(s->commits);
    free(s->log_ends);
}

/* --log-end P=N */
static void add_log_end(struct story *s, const char *arg)
{
    char *end;
    long long p, n = -1;

    errno = 0;
    p = strtoll(arg, &end, 10);
    if (end != arg && *end == '=' && end[1] >= '0' && end[1] <= '9')
        n = strtoll(end + 1, &end, 10);
    if (errno || n < 0 || *end || p < 0 || p > INT32_MAX) {
        kit_err("--log-end wants PARTITION=OFFSET, like 0=9, not '%s'", arg);
        free(s->log_ends);
        kit_usage(usage, 2);
    }
    s->log_ends = grow(s->log_ends, &s->cap_log_ends, s->n_log_ends,
                       sizeof *s->log_ends);
    s->log_ends[s->n_log_ends++] = (struct commit){.partition = (int32_t)p,
                                                   .offset = n};
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"svg", required_argument, NULL, 's'},
        {"title", required_argument, NULL, 'T'},
        {"color", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 't'},
        {"width", required_argument, NULL, 'w'},
        {"log-end", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *svg = NULL, *title = NULL, *color = "auto", *topic = NULL;
    const char *run1, *rerun = NULL, *commits;
    int opt, width = 100, rc = 0;
    struct story s = {0};
    FILE *svg_file = NULL;

    kit_prog = "timeline";
    while ((opt = getopt_long(argc, argv, "s:T:c:t:w:e:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': svg = optarg; break;
        case 'T': title = optarg; break;
        case 'c': color = optarg; break;
        case 't': topic = optarg; break;
        case 'w': width = (int)kit_number('w', optarg, 0, 10000, usage); break;
        case 'e': add_log_end(&s, optarg); break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never")) {
        kit_err("--color wants auto, always or never, not '%s'", color);
        kit_usage(usage, 2);
    }
    if (width > 0 && width < LABEL_W + 8 + OFFSET_W) {
        kit_err("--width must be 0 or at least %d", LABEL_W + 8 + OFFSET_W);
        kit_usage(usage, 2);
    }
    if (argc - optind < 2 || argc - optind > 3) {
        kit_err("want RUN1.out [RERUN.out] COMMITS");
        kit_usage(usage, 2);
    }
    run1 = argv[optind];
    if (argc - optind == 3)
        rerun = argv[optind + 1];
    commits = argv[argc - 1];

    s.have_rerun = rerun != NULL;
    if (read_run(&s, run1, RUN1) || (rerun && read_run(&s, rerun, RERUN)) ||
        read_commits(&s, commits, topic)) {
        free_story(&s);
        return 1;
    }

    classify_commits(&s);
    if (size_lanes(&s)) {
        free_story(&s);
        return 1;
    }
    fill_cells(&s);
    judge_lanes(&s);

    /* Open the SVG file before drawing anything: a path we cannot write
     * is then one error line, not a picture followed by an error. */
    if (svg && !(svg_file = fopen(svg, "w"))) {
        kit_err("cannot write %s: %s", svg, strerror(errno));
        free_story(&s);
        return 1;
    }
    if (!title)
        title = s.topic[0] ? s.topic : topic ? topic : run1;
    print_terminal(&s, title, width, pick_style(color));
    if (svg_file && write_svg(&s, title, svg_file, svg) != 0)
        rc = 1;
    free_story(&s);
    return rc;
}
