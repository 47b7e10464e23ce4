/*
 * analyze - the facts of a step run, for the checks (and anyone curious).
 *
 * Every check asks the same questions of a run: which orders were
 * processed, by which run, which came twice, which were lost; which commit
 * requests reached the broker, who asked for them, and what each covered.
 * This tool answers them once, from the same story the timeline draws
 * (story.c), and prints one fact per line, KEY=VALUE words after a kind:
 *
 *   setting   run=1 key=enable.auto.commit value=true
 *   order     value=Order-3 partition=0 offset=2 state=replayed in_hand=1
 *             started1=MS processed1=MS started2=MS processed2=MS
 *   never     value=Order-9                 (with --count: never processed)
 *   partition p=0 run1_start=0 resume=3 rerun_start=3 expected_start=3 ...
 *   call      run=1 n=4 fn=commit_message async=0 offsets=0:3 begin=MS
 *             end=MS err=NO_ERROR failed=- records=1
 *   request   n=2 by=program|librdkafka|unknown call=4 fn=commit_message
 *             async=0 phase=run1|rerun at=MS close=0|1 parts=0:3
 *   transaction run=1 n=0 state=committed|aborted|open begin=MS end=MS
 *             orders=5 offsets=0:5,2:3 spans=0:0-4,2:1-2 err=NO_ERROR
 *             kind=ok aborted_by_rerun=0     (step 09, from the probe's txn_*
 *             calls: offsets= sent with it, spans= the offsets its orders
 *             had; err/kind: its first failed call's; open: its run ended
 *             before it did, aborted_by_rerun: the rerun's init aborted it)
 *   transactions committed=N aborted=N open=N dropped_aborted=N dropped_open=N
 *             (dropped: commits --txn records the broker does not count)
 *   finding   kind=KIND ...                 (below)
 *   summary   orders=N processed1= processed2= replayed= lost= in_hand=
 *             never= requests_program= requests_librdkafka= ...
 *
 * A finding is a fact that is wrong for some strategy and right for
 * another; the checks decide which they expect.  Kinds:
 *   before-processing  a record covered a message that was in hand (started,
 *                      not yet processed): a crash then loses it
 *   beyond             a record covered an offset not yet delivered
 *   own-offset         the program committed (or stored) a message's own
 *                      offset, not offset + 1: a restart repeats it
 *   behind             the program committed an offset below what it had
 *                      processed on that partition
 *   wrong-partition    the program committed on partition P the offset + 1
 *                      of a message from partition Q
 *   recommit           a record repeated the partition's committed offset
 *                      (harmless)
 *   auto-commit        librdkafka committed on its own (timer, or close)
 *   async              the program's commit did not wait for the answer
 *   commit-failed      a commit or store call returned an error (or failed
 *                      for some partitions)
 *   rerun-start        the rerun did not start where the broker's committed
 *                      offset said
 * Store calls (offsets_store) are judged like commits, as kind store-KIND.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "story.h"

static const char usage[] =
    "usage: analyze [--count N] [--topic T] [--probe1 FILE] [--probe2 FILE]\n"
    "               RUN1.out [RERUN.out] COMMITS\n"
    "  Print the facts of a run (and its rerun): orders, partitions, calls,\n"
    "  commit requests, findings and a summary, one per line.\n"
    "  RUN1.out, RERUN.out  what the step program printed on stdout\n"
    "  COMMITS              the output of: commits -b BROKER -g GROUP -t TOPIC\n"
    "  --count N            the topic holds Order-1..Order-N: list those never\n"
    "                       processed (\"never\" lines)\n"
    "  --topic T            only this topic's commits\n"
    "  --skew MS            the broker's clock runs MS ms ahead of this machine's\n"
    "                       (negative: behind); taken off its commit timestamps\n"
    "  --probe1/--probe2    what the probe wrote during run 1 / the rerun\n"
    "  -h                   show this help\n";

static const struct cell *cell_at(const struct story *s, int32_t p, int64_t o)
{
    struct lane *l = story_find_lane((struct story *)s, p);

    return l && o >= l->first && o < l->end ? &l->cells[o - l->first] : NULL;
}

/* When RUN started / processed the message at P:O (0: never). */
static int64_t started_in(const struct cell *c, enum run run)
{
    return !c ? 0 : run == RUN1 ? c->started1 : c->started2;
}

static int64_t processed_in(const struct cell *c, enum run run)
{
    return !c ? 0 : run == RUN1 ? c->processed1 : c->processed2;
}

/* The highest offset on P that RUN had processed at time T; -1: none. */
static int64_t highest_done(const struct story *s, enum run run, int32_t p, int64_t t)
{
    int64_t hi = -1;

    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];
        if (e->run == run && e->processed && e->partition == p && e->at <= t &&
            e->offset > hi)
            hi = e->offset;
    }
    return hi;
}

/* The last message RUN processed at or before T, on any partition. */
static const struct event *last_done(const struct story *s, enum run run, int64_t t)
{
    const struct event *last = NULL;

    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];
        if (e->run == run && e->processed && e->at <= t && (!last || e->at >= last->at))
            last = e;
    }
    return last;
}

static enum run run_of(enum phase ph)
{
    return ph == BY_RERUN ? RERUN : RUN1;
}

/*
 * A record (or a store) of N on partition P at time T by RUN, where FROM is
 * what was committed before on P: does it cover a message that RUN had not
 * processed yet?  Prints a before-processing finding for the first message
 * in hand, or a beyond finding for an offset not delivered yet.  Returns 1
 * when it printed one.
 */
static int covers_unprocessed(const struct story *s, const char *prefix, const char *what,
                              enum run run, int32_t p, int64_t n, int64_t from, int64_t t)
{
    for (int64_t o = from < 0 ? n - 1 : from; o < n; o++) {
        const struct cell *c = cell_at(s, p, o);
        int64_t done = processed_in(c, run), begun = started_in(c, run);

        if (o < 0 || (done && done <= t))
            continue;
        /* In the rerun, what run 1 finished is done. */
        if (run == RERUN && c && c->processed1)
            continue;
        if (begun && begun <= t) {
            printf("finding kind=%sbefore-processing %s partition=%" PRId32
                   " offset=%" PRId64 " message=%s message_offset=%" PRId64
                   " started=%" PRId64 " processed=%" PRId64 " early_ms=%" PRId64 "\n",
                   prefix, what, p, n, c->value ? c->value : "?", o, begun, done,
                   done ? done - t : -1);
            return 1;
        }
        if (run == RUN1 && c && (c->started2 || c->processed2))
            continue;           /* delivered again by the rerun: not lost */
        printf("finding kind=%sbeyond %s partition=%" PRId32 " offset=%" PRId64
               " message_offset=%" PRId64 "\n", prefix, what, p, n, o);
        return 1;
    }
    return 0;
}

/*
 * What the program asked for, against what it had processed when it asked:
 * N on P, asked at BEGIN in RUN, where PREV was P's committed offset.
 */
static void judge_asked(const struct story *s, const char *prefix, const char *what,
                        const struct call *cl, int32_t p, int64_t n, int64_t prev)
{
    enum run run = cl->run;
    int64_t begin = cl->begin;
    int64_t hi = highest_done(s, run, p, begin);
    const struct event *last = last_done(s, run, begin);
    const struct cell *held = cell_at(s, p, n);

    /* The offset of a message in hand when it asked - handed over (the probe
     * says which, exactly) and not processed yet: its own offset. */
    if (held && n <= story_delivered(cl, p) &&
        !(processed_in(held, run) && processed_in(held, run) <= begin)) {
        printf("finding kind=%sown-offset %s partition=%" PRId32 " offset=%" PRId64
               " processed_up_to=%" PRId64 " in_hand=%s\n", prefix, what, p, n, hi,
               held->value ? held->value : "?");
        return;
    }
    if (n == hi + 1)
        return;
    if (n == prev) {
        printf("finding kind=%srecommit %s partition=%" PRId32 " offset=%" PRId64 "\n",
               prefix, what, p, n);
        return;
    }
    if (last && last->partition != p && n == last->offset + 1 &&
        highest_done(s, run, last->partition, begin) + 1 == n) {
        printf("finding kind=%swrong-partition %s partition=%" PRId32 " offset=%" PRId64
               " message=%s message_partition=%" PRId32 " message_offset=%" PRId64 "\n",
               prefix, what, p, n, last->value, last->partition, last->offset);
        return;
    }
    if (hi >= 0 && n == hi)
        printf("finding kind=%sown-offset %s partition=%" PRId32 " offset=%" PRId64
               " processed_up_to=%" PRId64 "\n", prefix, what, p, n, hi);
    else if (n <= hi)
        printf("finding kind=%sbehind %s partition=%" PRId32 " offset=%" PRId64
               " processed_up_to=%" PRId64 "\n", prefix, what, p, n, hi);
}

/*
 * A store of N on P that is the offset + 1 of the message just processed on
 * another partition, and not P's own next offset: named as such, before it
 * is judged as covering P's unprocessed messages (which it also does).
 */
static int store_wrong_partition(const struct story *s, const char *what,
                                 const struct call *cl, int32_t p, int64_t n)
{
    const struct event *last = last_done(s, cl->run, cl->begin);

    if (!last || last->partition == p || n != last->offset + 1 ||
        highest_done(s, cl->run, p, cl->begin) + 1 == n)
        return 0;
    printf("finding kind=store-wrong-partition %s partition=%" PRId32 " offset=%" PRId64
           " message=%s message_partition=%" PRId32 " message_offset=%" PRId64 "\n",
           what, p, n, last->value, last->partition, last->offset);
    return 1;
}

static void print_call(const struct story *s, size_t k)
{
    const struct call *c = &s->calls[k];

    printf("call run=%d n=%zu fn=%s async=%d offsets=", c->run == RUN1 ? 1 : 2, k,
           c->name, c->async);
    if (c->stored)
        printf("stored");
    for (int j = 0; j < c->n_parts; j++)
        printf("%s%" PRId32 ":%" PRId64, j ? "," : "", c->parts[j], c->offsets[j]);
    if (!c->stored && !c->n_parts)
        printf("-");
    printf(" begin=%" PRId64 " end=%" PRId64 " err=%s failed=%s records=%d\n", c->begin,
           c->end, c->err, c->failed, c->n_records);
}

static void print_request(const struct story *s, size_t r)
{
    const struct request *q = &s->requests[r];
    const struct call *c = q->call >= 0 ? &s->calls[q->call] : NULL;
    int first = 1;

    printf("request n=%zu by=%s call=%d fn=%s async=%d phase=%s at=%" PRId64
           " close=%d parts=",
           r, c ? "program" : s->have_probe[run_of(q->phase)] ? "librdkafka" : "unknown",
           q->call, c ? c->name : "-", c ? c->async : 0, story_phase_name(q->phase), q->ms,
           q->at_close);
    for (size_t i = 0; i < s->n_commits; i++)
        if (s->commits[i].request == (int)r) {
            printf("%s%" PRId32 ":%" PRId64, first ? "" : ",", s->commits[i].partition,
                   s->commits[i].offset);
            first = 0;
        }
    printf("\n");
}

/* Step 09: each transaction, then how many ended how (only when there are
 * any, so that the other steps' facts stay as they were). */
static void print_txns(const struct story *s)
{
    int n[3] = {0, 0, 0};

    for (size_t i = 0; i < s->n_txns; i++) {
        const struct txn *t = &s->txns[i];

        n[t->state]++;
        printf("transaction run=%d n=%zu state=%s begin=%" PRId64 " end=%" PRId64
               " orders=%d offsets=", t->run == RUN1 ? 1 : 2, i,
               story_txn_state_name(t->state), t->begin, t->end, t->n_orders);
        for (int j = 0; j < t->n_parts; j++)
            printf("%s%" PRId32 ":%" PRId64, j ? "," : "", t->parts[j], t->offsets[j]);
        printf("%s spans=", t->n_parts ? "" : "-");
        for (int j = 0; j < t->n_lparts; j++) {
            printf("%s%" PRId32 ":%" PRId64, j ? "," : "", t->lparts[j], t->lo[j]);
            if (t->hi[j] > t->lo[j])
                printf("-%" PRId64, t->hi[j]);
        }
        printf("%s err=%s kind=%s aborted_by_rerun=%d\n", t->n_lparts ? "" : "-", t->err,
               t->kind, t->aborted_by_rerun);
    }
    if (s->n_txns || s->n_dropped[0] || s->n_dropped[1])
        printf("transactions committed=%d aborted=%d open=%d dropped_aborted=%d"
               " dropped_open=%d\n", n[TXN_COMMITTED], n[TXN_ABORTED], n[TXN_OPEN],
               s->n_dropped[0], s->n_dropped[1]);
}

/* The committed offset of P just before record I (-1: none known). */
static int64_t committed_before(const struct story *s, int32_t p, size_t upto)
{
    int64_t n = -1;

    for (size_t i = 0; i < upto; i++)
        if (s->commits[i].partition == p)
            n = s->commits[i].offset;
    return n;
}

/* The committed offset of P when call K began: the last record before. */
static int64_t committed_at(const struct story *s, int32_t p, int64_t t)
{
    int64_t n = -1;

    for (size_t i = 0; i < s->n_commits; i++)
        if (s->commits[i].partition == p && s->commits[i].ms < t)
            n = s->commits[i].offset;
    return n;
}

static void findings(const struct story *s)
{
    char what[64];

    for (size_t i = 0; i < s->n_commits; i++) {
        const struct commit *c = &s->commits[i];
        const struct request *q = &s->requests[c->request];
        int64_t prev = committed_before(s, c->partition, i);

        if (c->phase == EARLIER)
            continue;
        snprintf(what, sizeof what, "request=%d at=%" PRId64, c->request, c->ms);
        if (prev == c->offset) {
            printf("finding kind=recommit %s partition=%" PRId32 " offset=%" PRId64 "\n",
                   what, c->partition, c->offset);
            continue;
        }
        if (covers_unprocessed(s, "", what, run_of(c->phase), c->partition, c->offset,
                               prev, c->ms))
            continue;
        if (q->call >= 0)
            judge_asked(s, "", what, &s->calls[q->call], c->partition, c->offset, prev);
    }
    for (size_t r = 0; r < s->n_requests; r++) {
        const struct request *q = &s->requests[r];

        if (q->phase == EARLIER)
            continue;
        if (q->call < 0 && s->have_probe[run_of(q->phase)])
            printf("finding kind=auto-commit request=%zu at=%" PRId64 " close=%d phase=%s\n",
                   r, q->ms, q->at_close, story_phase_name(q->phase));
        if (q->call >= 0 && s->calls[q->call].async)
            printf("finding kind=async request=%zu at=%" PRId64 " fn=%s\n", r, q->ms,
                   s->calls[q->call].name);
    }
    for (size_t k = 0; k < s->n_calls; k++) {
        const struct call *c = &s->calls[k];
        int store = c->fn == CALL_OFFSETS_STORE || c->fn == CALL_OFFSET_STORE;

        if (c->fn != CALL_CLOSE && c->fn != CALL_OTHER &&
            ((strcmp(c->err, "NO_ERROR") && strcmp(c->err, "_NO_OFFSET")) ||
             strcmp(c->failed, "-")))
            printf("finding kind=commit-failed call=%zu fn=%s err=%s failed=%s at=%" PRId64
                   "\n", k, c->name, c->err, c->failed, c->begin);
        if (!store || strcmp(c->err, "NO_ERROR"))
            continue;
        snprintf(what, sizeof what, "call=%zu at=%" PRId64, k, c->begin);
        for (int j = 0; j < c->n_parts; j++) {
            int64_t prev = committed_at(s, c->parts[j], c->begin);
            if (store_wrong_partition(s, what, c, c->parts[j], c->offsets[j]))
                continue;
            /* Past what had been handed over when it stored (the probe
             * says exactly): not a message in hand, one not delivered yet. */
            if (c->n_delivered >= 0 &&
                c->offsets[j] > story_delivered(c, c->parts[j]) + 1) {
                printf("finding kind=store-beyond %s partition=%" PRId32 " offset=%" PRId64
                       " message_offset=%" PRId64 "\n", what, c->parts[j], c->offsets[j],
                       story_delivered(c, c->parts[j]) + 1);
                continue;
            }
            if (!covers_unprocessed(s, "store-", what, c->run, c->parts[j],
                                    c->offsets[j], c->offsets[j] - 1, c->begin))
                judge_asked(s, "store-", what, c, c->parts[j], c->offsets[j], prev);
        }
    }
    for (size_t i = 0; i < s->n_lanes; i++) {
        const struct lane *l = &s->lanes[i];
        int64_t want = story_expected_start(l);

        if (s->have_rerun && l->rerun_start >= 0 && want >= 0 && l->rerun_start != want)
            printf("finding kind=rerun-start partition=%" PRId32 " started=%" PRId64
                   " committed=%" PRId64 "\n", l->partition, l->rerun_start, want);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'}, {"topic", required_argument, NULL, 't'},
        {"probe1", required_argument, NULL, '1'}, {"probe2", required_argument, NULL, '2'},
        {"skew", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *topic = NULL, *probe[2] = {NULL, NULL}, *run1, *rerun = NULL, *commits;
    long count = 0;
    int opt, n_never = 0, n_program = 0, n_auto = 0;
    struct story s = {0};
    struct { int p1, p2, replayed, replayed_in_hand, lost, in_hand, unfinished; } t = {0};

    kit_prog = "analyze";
    while ((opt = getopt_long(argc, argv, "n:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': count = kit_number('n', optarg, 0, 1000000, usage); break;
        case 't': topic = optarg; break;
        case '1': probe[0] = optarg; break;
        case '2': probe[1] = optarg; break;
        case 'S': s.skew_ms = kit_number('S', optarg, -3600000, 3600000, usage); break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
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
    if (story_read_run(&s, run1, RUN1) || (rerun && story_read_run(&s, rerun, RERUN)) ||
        story_read_commits(&s, commits, topic) ||
        (probe[0] && story_read_probe(&s, probe[0], RUN1)) ||
        (probe[1] && story_read_probe(&s, probe[1], RERUN)) || story_build(&s)) {
        story_free(&s);
        return 1;
    }

    for (size_t i = 0; i < s.n_settings; i++)
        printf("setting run=%d key=%s value=%s\n", s.settings[i].run == RUN1 ? 1 : 2,
               s.settings[i].key, s.settings[i].value);
    for (size_t i = 0; i < s.n_lanes; i++) {
        const struct lane *l = &s.lanes[i];

        for (int64_t o = l->first; o < l->end; o++) {
            const struct cell *c = &l->cells[o - l->first];
            if (!c->value)
                continue;
            printf("order value=%s partition=%" PRId32 " offset=%" PRId64
                   " state=%s in_hand=%d started1=%" PRId64 " processed1=%" PRId64
                   " started2=%" PRId64 " processed2=%" PRId64 "\n",
                   c->value, l->partition, o, story_state_name(c->state), c->in_hand,
                   c->started1, c->processed1, c->started2, c->processed2);
        }
        printf("partition p=%" PRId32 " run1_start=%" PRId64 " resume=%" PRId64
               " rerun_start=%" PRId64 " expected_start=%" PRId64 " processed1=%d"
               " processed2=%d replayed=%d lost=%d in_hand=%d\n",
               l->partition, l->run1_start, l->resume, l->rerun_start,
               story_expected_start(l), l->n_processed1, l->n_processed2, l->n_replayed,
               l->n_lost, l->n_in_hand);
        t.p1 += l->n_processed1;
        t.p2 += l->n_processed2;
        t.replayed += l->n_replayed;
        t.replayed_in_hand += l->n_replayed_in_hand;
        t.lost += l->n_lost;
        t.in_hand += l->n_in_hand;
        t.unfinished += l->n_unfinished;
    }
    for (long k = 1; k <= count; k++) {
        char value[40];
        int done = 0;

        snprintf(value, sizeof value, "Order-%ld", k);
        for (size_t i = 0; i < s.n_events && !done; i++)
            done = s.events[i].processed && !strcmp(s.events[i].value, value);
        if (!done) {
            printf("never value=%s\n", value);
            n_never++;
        }
    }
    for (size_t k = 0; k < s.n_calls; k++)
        print_call(&s, k);
    for (size_t r = 0; r < s.n_requests; r++) {
        print_request(&s, r);
        if (s.requests[r].phase != EARLIER) {
            n_program += s.requests[r].call >= 0;
            n_auto += s.requests[r].call < 0;
        }
    }
    print_txns(&s);
    findings(&s);
    printf("summary processed1=%d processed2=%d replayed=%d replayed_in_hand=%d lost=%d"
           " in_hand=%d unfinished=%d never=%d requests_program=%d requests_librdkafka=%d"
           " probed=%d\n",
           t.p1, t.p2, t.replayed, t.replayed_in_hand, t.lost, t.in_hand, t.unfinished,
           n_never, n_program, n_auto, s.have_probe[RUN1]);
    story_free(&s);
    return 0;
}
