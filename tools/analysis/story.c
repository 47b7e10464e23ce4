/*
 * story.c - working out the facts of a crash-and-rerun story from its three
 * records (read by story_read.c).  See story.h for what a story is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "story.h"

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

struct lane *story_find_lane(struct story *s, int32_t partition)
{
    for (size_t i = 0; i < s->n_lanes; i++)
        if (s->lanes[i].partition == partition)
            return &s->lanes[i];
    return NULL;
}

/* The lane of PARTITION, created empty (first > end) if it is new. */
static struct lane *lane_for(struct story *s, int32_t partition)
{
    struct lane *l = story_find_lane(s, partition);
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
        struct lane *l = story_find_lane(s, e->partition);
        struct cell *c = &l->cells[e->offset - l->first];
        int64_t *slot = e->run == RUN1 ? (e->processed ? &c->processed1
                                                       : &c->started1)
                                       : (e->processed ? &c->processed2
                                                       : &c->started2);
        if (!*slot)
            *slot = e->at ? e->at : 1;
        if (e->run == RUN1 && !e->processed && c->processed1 && e->at >= c->processed1)
            c->restarted1 = e->at ? e->at : 1;
        else if (e->run == RUN1 && e->processed && c->restarted1 && e->at >= c->restarted1)
            c->restarted1 = 0;
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
            /* Step 09 rewinds after an abort: the order run 1 crashed in
             * may be one it had processed before, in the aborted
             * transaction.  (Only there: the other steps keep the rule.) */
            if (s->n_txns && c->restarted1)
                c->in_hand = 1;
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
int64_t story_expected_start(const struct lane *l)
{
    return l->resume >= 0 ? l->resume : l->run1_start;
}


/* ------------------------------------------------------ who asked for what */

/* The broker's clock and ours agree to the millisecond on one machine;
 * allow that much rounding on each side. */
#define SLACK_MS 2

/* How long after an asynchronous call its commit may still reach the
 * broker. */
#define ASYNC_MS 10000

static int is_commit_call(const struct call *c)
{
    return c->fn == CALL_COMMIT || c->fn == CALL_COMMIT_MESSAGE ||
           c->fn == CALL_COMMIT_QUEUE ||
           c->txn == TXN_OFFSETS; /* step 09: the broker writes them at once */
}

/* Does request R already hold a record for PARTITION? */
static int request_has(const struct story *s, int r, int32_t partition, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (s->commits[i].request == r && s->commits[i].partition == partition)
            return 1;
    return 0;
}

static int new_request(struct story *s, int call, const struct commit *c)
{
    s->requests = story_grow(s->requests, &s->cap_requests, s->n_requests,
                       sizeof *s->requests);
    s->requests[s->n_requests] = (struct request){
        .call = call, .phase = c->phase, .ms = c->ms, .n_records = 0};
    return (int)s->n_requests++;
}

/*
 * Which request made each record?  A call of the program made it when the
 * record lies in the call's time window (a synchronous call: between its
 * begin and its return; an asynchronous one: after its begin) and the call
 * asked for that very partition and offset (or for "what is stored").  Of
 * several such calls the oldest that has no record for that partition yet
 * wins: asynchronous commits are answered in order.  Any other record came
 * from librdkafka on its own - the auto-commit timer, or close() - and the
 * records of one such request carry one timestamp.
 */
static void attribute(struct story *s)
{
    int *request_of_call = calloc(s->n_calls + 1, sizeof *request_of_call);
    int last_auto = -1;

    if (!request_of_call) {
        kit_err("out of memory");
        exit(1);
    }
    for (size_t k = 0; k < s->n_calls; k++)
        request_of_call[k] = -1;
    for (size_t i = 0; i < s->n_commits; i++) {
        struct commit *c = &s->commits[i];
        int found = -1;

        for (size_t k = 0; k < s->n_calls && found < 0 && c->phase != EARLIER; k++) {
            struct call *cl = &s->calls[k];
            int listed = cl->stored;
            int64_t until = cl->async ? cl->begin + ASYNC_MS : cl->end;

            if (!is_commit_call(cl) || c->ms < cl->begin - SLACK_MS ||
                c->ms > until + SLACK_MS)
                continue;
            for (int j = 0; j < cl->n_parts && !listed; j++)
                listed = cl->parts[j] == c->partition && cl->offsets[j] == c->offset;
            if (!listed || (request_of_call[k] >= 0 &&
                            request_has(s, request_of_call[k], c->partition, i)))
                continue;
            found = (int)k;
        }
        if (found >= 0) {
            if (request_of_call[found] < 0)
                request_of_call[found] = new_request(s, found, c);
            c->request = request_of_call[found];
            s->calls[found].n_records++;
        } else {
            /* librdkafka's own: one request per timestamp. */
            if (last_auto < 0 || s->requests[last_auto].ms != c->ms ||
                request_has(s, last_auto, c->partition, i)) {
                last_auto = new_request(s, -1, c);
                for (size_t k = 0; k < s->n_calls; k++)
                    if (s->calls[k].fn == CALL_CLOSE &&
                        c->ms >= s->calls[k].begin - SLACK_MS &&
                        c->ms <= s->calls[k].end + SLACK_MS)
                        s->requests[last_auto].at_close = 1;
            }
            c->request = last_auto;
        }
        s->requests[c->request].n_records++;
    }
    free(request_of_call);
}

/* ------------------------------------------------------------ transactions */

/*
 * Step 09: each run's transactions, from its transactional calls in the
 * order the probe wrote them.  A successful txn_begin opens one; the calls
 * after it belong to it until a successful txn_commit or txn_abort ends it.
 * One still open when its run's calls end was left open (a crash, a kill,
 * or a stop after a fatal error).  Its orders are the ones its run started
 * between its begin and its end: the program begins before a batch's first
 * order and ends after its last.
 */
static void build_txns(struct story *s)
{
    int cur = -1, init2 = 0;
    enum run run = RUN1;

    for (size_t k = 0; k < s->n_calls; k++) {
        const struct call *c = &s->calls[k];
        int ok = !strcmp(c->err, "NO_ERROR");
        struct txn *t;

        if (c->run != run)
            cur = -1, run = c->run;
        if (c->txn == TXN_INIT && ok && c->run == RERUN)
            init2 = 1;
        if (c->txn == TXN_BEGIN && ok) {
            s->txns = story_grow(s->txns, &s->cap_txns, s->n_txns, sizeof *s->txns);
            s->txns[s->n_txns] = (struct txn){.run = c->run, .state = TXN_OPEN,
                                              .begin = c->begin};
            strcpy(s->txns[s->n_txns].err, "NO_ERROR");
            strcpy(s->txns[s->n_txns].kind, "ok");
            cur = (int)s->n_txns++;
            continue;
        }
        if (cur < 0 || c->txn == TXN_NONE || c->txn == TXN_BEGIN)
            continue;
        t = &s->txns[cur];
        if (!ok && !strcmp(t->err, "NO_ERROR")) {
            snprintf(t->err, sizeof t->err, "%s", c->err);
            snprintf(t->kind, sizeof t->kind, "%s", c->kind[0] ? c->kind : "?");
        }
        if (c->txn == TXN_OFFSETS) {
            for (int j = 0; j < c->n_parts; j++) {
                int i = 0;

                while (i < t->n_parts && t->parts[i] != c->parts[j])
                    i++;
                if (i == MAX_CALL_PARTS)
                    break;
                t->parts[i] = c->parts[j];
                t->offsets[i] = c->offsets[j];
                if (i == t->n_parts)
                    t->n_parts++;
            }
        } else if ((c->txn == TXN_COMMIT || c->txn == TXN_ABORT) && ok) {
            t->state = c->txn == TXN_COMMIT ? TXN_COMMITTED : TXN_ABORTED;
            t->end = c->end;
            cur = -1;
        }
    }
    /* The broker aborts what run 1 left open when the rerun's producer,
     * with the same transactional.id, initialises its transactions. */
    for (size_t i = 0; i < s->n_txns; i++)
        s->txns[i].aborted_by_rerun = s->txns[i].run == RUN1 &&
                                      s->txns[i].state == TXN_OPEN && init2 &&
                                      s->txn_id[RUN1][0] &&
                                      !strcmp(s->txn_id[RUN1], s->txn_id[RERUN]);
    /* Each started order to the last transaction of its run begun by then. */
    for (size_t i = 0; i < s->n_events; i++) {
        const struct event *e = &s->events[i];
        struct txn *t = NULL;
        int j = 0;

        for (size_t k = 0; k < s->n_txns && !e->processed; k++)
            if (s->txns[k].run == e->run && s->txns[k].begin <= e->at &&
                (s->txns[k].state == TXN_OPEN || e->at <= s->txns[k].end))
                t = &s->txns[k];
        if (!t)
            continue;
        t->n_orders++;
        while (j < t->n_lparts && t->lparts[j] != e->partition)
            j++;
        if (j == MAX_CALL_PARTS)
            continue;
        if (j == t->n_lparts) {
            t->lparts[j] = e->partition;
            t->lo[j] = t->hi[j] = e->offset;
            t->n_lparts++;
        }
        if (e->offset < t->lo[j])
            t->lo[j] = e->offset;
        if (e->offset > t->hi[j])
            t->hi[j] = e->offset;
    }
}

/* ----------------------------------------------------------------- the rest */

int story_build(struct story *s)
{
    classify_commits(s);
    if (size_lanes(s))
        return -1;
    fill_cells(s);
    build_txns(s);
    judge_lanes(s);
    attribute(s);
    return 0;
}

void story_free(struct story *s)
{
    for (size_t i = 0; i < s->n_lanes; i++)
        free(s->lanes[i].cells);
    free(s->lanes);
    free(s->events);
    free(s->commits);
    free(s->log_ends);
    free(s->calls);
    free(s->requests);
    free(s->settings);
    free(s->txns);
}

const char *story_state_name(enum state st)
{
    static const char *const names[NSTATES] = {
        [NOTHING] = "unreached", [BY_RUN1] = "run1", [BY_RERUN_ONLY] = "rerun",
        [REPLAYED] = "replayed", [LOST] = "lost", [UNFINISHED] = "unfinished"};
    return st < NSTATES ? names[st] : "?";
}

const char *story_phase_name(enum phase ph)
{
    return ph == EARLIER ? "earlier" : ph == BEFORE_CRASH ? "run1" : "rerun";
}

const char *story_txn_state_name(enum txn_state st)
{
    return st == TXN_COMMITTED ? "committed" : st == TXN_ABORTED ? "aborted" : "open";
}
