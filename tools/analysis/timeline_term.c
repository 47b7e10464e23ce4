/*
 * timeline_term.c - the story drawn for a terminal: one lane per partition.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "timeline.h"

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

/* Step 09's transactions: INK_TXN + their state (txn_state). */
enum { INK_TXN = INK_CELL + NSTATES };

struct pix {
    char ch;
    unsigned char ink;
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
    case INK_TXN + TXN_COMMITTED:  return "1;32";
    case INK_TXN + TXN_ABORTED:    return "1;31";
    case INK_TXN + TXN_OPEN:       return "1;35";
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

/*
 * Step 09: the transactions of RUN on lane L, one bracket each over the
 * offsets its orders had: '[' where it began, '=' across, and where it
 * ended C (committed), A (aborted) or O (open when its run ended).  A part
 * cut off by the segment's edge has no mark there.  Rows as txn_rows()
 * lays them out; run 1's above its commit marks, the rerun's below its.
 */
static void draw_txns(const struct story *s, const struct lane *l, int64_t from,
                      int64_t to, int width, enum run run, struct style st)
{
    static const char end_mark[] = {[TXN_OPEN] = 'O', [TXN_COMMITTED] = 'C',
                                    [TXN_ABORTED] = 'A'};
    int *row_of = calloc(s->n_txns + 1, sizeof *row_of);
    int *span = calloc(s->n_txns + 1, sizeof *span);
    int n_rows;

    if (!row_of || !span) {
        kit_err("out of memory");
        exit(1);
    }
    n_rows = txn_rows(s, l, run, row_of, span);
    for (int row = 0; row < n_rows; row++) {
        struct row r;
        int drawn = 0;

        row_init(&r, width);
        if (row == 0)
            text(&r, 4, run == RUN1 ? "run 1 txn" : "rerun txn", INK_TEXT);
        for (size_t k = 0; k < s->n_txns; k++) {
            const struct txn *t = &s->txns[k];
            int64_t lo, hi;
            int c0, c1, ink = INK_TXN + t->state;

            if (row_of[k] != row)
                continue;
            lo = t->lo[span[k]], hi = t->hi[span[k]];
            if (hi < from || lo >= to)
                continue;
            c0 = boundary_col(lo < from ? from : lo, from) + 1;
            c1 = hi < to ? boundary_col(hi, from) + 3 : boundary_col(to, from) - 1;
            for (int c = c0; c <= c1; c++)
                put(&r, c, '=', ink);
            if (lo >= from)
                put(&r, c0, '[', ink);
            if (hi < to)
                put(&r, c1, end_mark[t->state], ink);
            drawn = 1;
        }
        if (drawn)
            print_row(&r, st);
        free(r.pix);
    }
    free(row_of);
    free(span);
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

        draw_txns(s, l, from, to, width, RUN1, st);
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
        draw_txns(s, l, from, to, width, RERUN, st);
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

/* Step 09's marks, under the legend when the story has transactions. */
static void print_txn_legend(struct style st)
{
    static const struct {
        int state;
        const char *mark, *what;
    } keys[] = {
        {TXN_COMMITTED, "[=C", "a transaction: begun at [, committed at C"},
        {TXN_ABORTED, "[=A", "aborted: its invoices and offsets are thrown away"},
        {TXN_OPEN, "[=O", "left open when its run ended (a crash): the broker aborts it"},
    };
    const int indent = 8;

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct row r;

        row_init(&r, 96);
        text(&r, indent, keys[i].mark, INK_TXN + keys[i].state);
        text(&r, indent + 4, keys[i].what, INK_TEXT);
        print_row(&r, st);
        free(r.pix);
    }
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
    int64_t want = story_expected_start(l);

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
           "rerun\n", before, kit_s(before), after);
    if (s->n_txns) {
        char words[512];

        txn_words(s, words, sizeof words);
        printf("%s\n", words);
    }
    printf("\n");
}

void print_terminal(const struct story *s, const char *title,
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
    if (s->n_txns)
        print_txn_legend(st);
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

