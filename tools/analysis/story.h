/*
 * story.h - the facts of one crash-and-rerun story, worked out once.
 *
 * A story is what a step program printed in run 1 (the run that crashed,
 * or was stopped) and in its rerun, what the probe saw it ask librdkafka
 * (tools/probe/probe.c), and what the broker recorded of the group's commits
 * (the commits tool).  From those, story.c works out the facts the checks,
 * the timeline and compare all judge on:
 *   - per order (one offset of one partition): processed by run 1, by the
 *     rerun, by both (replayed), by neither although committed (lost), or
 *     in hand when run 1 ended;
 *   - per partition: where each run started, the committed offset the rerun
 *     had to resume from;
 *   - per commit request: which records the broker wrote for it, and who
 *     asked - a call of the program (which call, sync or async), or
 *     librdkafka itself (its auto-commit timer, or close).
 *   - step 09, per transaction of a transactional producer: when it began,
 *     how it ended (committed, aborted, left open), the offsets sent with
 *     it and the orders its run started inside it.
 * It contacts no broker.  tools/analysis/analyze.c prints the facts for the checks;
 * tools/analysis/timeline.c draws them.
 */
#ifndef STORY_H
#define STORY_H

#include <stdint.h>
#include <stdio.h>

/* The most offsets a story spans (its widest lane, from the lowest offset
 * of any lane to the highest). */
#define MAX_OFFSETS 2000

/* The highest offset we accept: far beyond any real log, and low enough
 * that offset arithmetic can never overflow. */
#define MAX_OFFSET (INT64_MAX / 4)

/* The most partitions one probe call lists. */
#define MAX_CALL_PARTS 64

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
    int request;                /* index in story.requests */
    int dropped;                /* commits --txn: 1 its transaction was
                                 * aborted, 2 is open (not counted); 0 */
};

/* One call the program made to commit or store offsets, or to close, as
 * the probe wrote it down. */
enum call_fn { CALL_COMMIT, CALL_COMMIT_MESSAGE, CALL_COMMIT_QUEUE,
               CALL_OFFSETS_STORE, CALL_OFFSET_STORE, CALL_CLOSE, CALL_OTHER };

/* A transactional producer's calls (tools/probe/txn.c), which are CALL_OTHER
 * for the commit analysis above. */
enum txn_call { TXN_NONE, TXN_INIT, TXN_BEGIN, TXN_OFFSETS, TXN_COMMIT, TXN_ABORT };

struct call {
    enum run run;
    enum call_fn fn;
    char name[24];              /* as the probe wrote it: commit, close ... */
    int async;
    int stored;                 /* "commit what librdkafka has stored" */
    int32_t parts[MAX_CALL_PARTS];
    int64_t offsets[MAX_CALL_PARTS];
    int n_parts;
    int64_t begin, end;         /* epoch ms */
    char err[48];               /* librdkafka's name for the result */
    char failed[256];           /* per-partition failures, "P:ERR,..." */
    int32_t dparts[MAX_CALL_PARTS];     /* the highest offset handed to the */
    int64_t doffsets[MAX_CALL_PARTS];   /* program per partition, at begin  */
    int n_delivered;                    /* (-1: the probe did not say)      */
    int n_records;              /* broker records attributed to it */
    enum txn_call txn;          /* a transactional producer's call (step 09) */
    char kind[16];              /* its error's kind: ok, abortable, fatal... */
};

/* One OffsetCommit request: the broker records it caused.  By the
 * program (a call) or by librdkafka on its own (auto-commit). */
struct request {
    int call;                   /* index in story.calls; -1: librdkafka */
    enum phase phase;
    int64_t ms;                 /* its first record's broker timestamp */
    int n_records;
    int at_close;               /* librdkafka's own, during close() */
};

/*
 * One transaction of a transactional producer (step 09), from the probe's
 * txn_* calls: begun (txn_begin), the offsets sent with it (txn_offsets),
 * and how it ended - committed (txn_commit), aborted (txn_abort), or open:
 * its run ended (a crash, a kill, a fatal error) before either.  The broker
 * aborts an open one when the next instance with the same transactional.id
 * initialises (aborted_by_rerun), or when its timeout expires.
 */
enum txn_state { TXN_OPEN, TXN_COMMITTED, TXN_ABORTED };

struct txn {
    enum run run;
    enum txn_state state;
    int64_t begin, end;         /* epoch ms; end 0: open */
    int32_t parts[MAX_CALL_PARTS];      /* the offsets sent with it */
    int64_t offsets[MAX_CALL_PARTS];
    int n_parts;
    char err[48];               /* the first error of its calls; NO_ERROR */
    char kind[16];              /* that error's kind (abortable, fatal...) */
    int n_orders;               /* the orders its run started inside it */
    int32_t lparts[MAX_CALL_PARTS];     /* per partition: the lowest and */
    int64_t lo[MAX_CALL_PARTS], hi[MAX_CALL_PARTS];  /* highest offset */
    int n_lparts;                       /* started inside it */
    int aborted_by_rerun;       /* open in run 1; the rerun's producer, with
                                 * the same transactional.id, initialised */
};

/* A setting as the program gave it to rd_kafka_new (probe "config"). */
struct setting {
    enum run run;
    char key[64];
    char value[192];
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
    int64_t restarted1;         /* run 1 started it again after processing it
                                 * (a rewind) and has not processed it since:
                                 * when; 0: not so */
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
    struct call *calls;
    size_t n_calls, cap_calls;
    struct request *requests;
    size_t n_requests, cap_requests;
    struct setting *settings;
    size_t n_settings, cap_settings;
    int have_probe[2];          /* a probe file was read for run 1 / rerun */
    struct txn *txns;           /* step 09: in the order they began */
    size_t n_txns, cap_txns;
    char txn_id[2][128];        /* each run's transactional.id ("": none) */
    int n_dropped[2];           /* commits --txn records not counted: in an
                                 * aborted / a still open transaction */
    int64_t skew_ms;            /* the broker's clock minus this machine's:
                                 * story_read_commits() takes it off each
                                 * commit's timestamp (analyze --skew) */
};


/* Read a program's output (RUN1 or RERUN) into S; 0, or -1 after saying why. */
int story_read_run(struct story *s, const char *path, enum run run);

/* Read the broker's record (the commits tool's output, or the checks'
 * "PARTITION OFFSET COMMIT_MS" lines); only TOPIC's when it is not NULL.
 * With commits --txn's STATE column, the records of aborted or open
 * transactions are counted in n_dropped, not read as commits. */
int story_read_commits(struct story *s, const char *path, const char *topic);

/* Read what the probe wrote for run RUN (tools/probe/probe.c). */
int story_read_probe(struct story *s, const char *path, enum run run);

/* --log-end P=N: partition P's log ends at N.  -1 on a bad argument. */
int story_add_log_end(struct story *s, const char *arg);

/* (story_read.c and story.c) Make room for one more item in a growing array
 * of N items of SIZE, CAP allocated; exits if memory runs out. */
void *story_grow(void *items, size_t *cap, size_t n, size_t size);

/* Work out every fact from what was read; 0, or -1 after saying why. */
int story_build(struct story *s);

struct lane *story_find_lane(struct story *s, int32_t partition);

/* Where the rerun should have started on a lane; -1: cannot tell. */
int64_t story_expected_start(const struct lane *l);

/* The highest offset of PARTITION handed to the program when call C began
 * (-1: none, or the probe did not say). */
int64_t story_delivered(const struct call *c, int32_t partition);

/* A setting's value in RUN, or DEF when the probe did not report it. */
const char *story_setting(const struct story *s, enum run run, const char *key,
                          const char *def);

/* Short names for the states, the phases and the call functions. */
const char *story_state_name(enum state st);
const char *story_phase_name(enum phase ph);
const char *story_txn_state_name(enum txn_state st);

void story_free(struct story *s);

#endif
