/*
 * timeline_svg.c - the story drawn as an SVG picture, for a browser.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "timeline.h"

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

/* Step 09: the height the transactions add under a lane's summary. */
#define SVG_TXN_ROW 12

static double svg_txn_height(const struct story *s, const struct lane *l)
{
    int *row_of = calloc(s->n_txns + 1, sizeof *row_of);
    int *span = calloc(s->n_txns + 1, sizeof *span);
    int rows;

    if (!row_of || !span) {
        kit_err("out of memory");
        exit(1);
    }
    rows = txn_rows(s, l, RUN1, row_of, span) + txn_rows(s, l, RERUN, row_of, span);
    free(row_of);
    free(span);
    return rows ? 8 + rows * SVG_TXN_ROW : 0;
}

/*
 * Step 09: each transaction of the lane as a bar under its summary, over
 * the offsets its orders had: a tick where it began, and its color says
 * how it ended - committed (green), aborted (red), open when its run ended
 * (purple, dashed).  Run 1's rows first, then the rerun's; the tooltip has
 * the times and the offsets sent with it.
 */
static void svg_txns(FILE *f, const struct story *s, const struct lane *l, double y)
{
    static const char *const fill[] = {[TXN_OPEN] = "#9e9ac8",
                                       [TXN_COMMITTED] = "#74c476",
                                       [TXN_ABORTED] = "#fb6a4a"};
    int *row_of = calloc(s->n_txns + 1, sizeof *row_of);
    int *span = calloc(s->n_txns + 1, sizeof *span);
    int base = 0;

    if (!row_of || !span) {
        kit_err("out of memory");
        exit(1);
    }
    for (enum run run = RUN1; run <= RERUN; run++) {
        int rows = txn_rows(s, l, run, row_of, span);

        if (rows)
            fprintf(f, "<text x=\"12\" y=\"%.1f\" font-size=\"10\" fill=\"#636363\">"
                    "%s transactions</text>\n", y + base * SVG_TXN_ROW + 8,
                    run == RUN1 ? "run 1" : "rerun");
        for (size_t k = 0; k < s->n_txns; k++) {
            const struct txn *t = &s->txns[k];
            double x0, x1, ty;

            if (row_of[k] < 0)
                continue;
            x0 = svg_x(s, t->lo[span[k]]) + 2;
            x1 = svg_x(s, t->hi[span[k]] + 1) - 2;
            ty = y + (base + row_of[k]) * SVG_TXN_ROW;
            fprintf(f, "<g class=\"txn %s\"><title>transaction %zu of %s: begun at ",
                    story_txn_state_name(t->state), k, run == RUN1 ? "run 1" : "the rerun");
            svg_time(f, s, t->begin);
            if (t->state == TXN_OPEN)
                fprintf(f, ", still open when its run ended%s",
                        t->aborted_by_rerun ? " (the rerun's init aborted it)" : "");
            else {
                fprintf(f, ", %s at ", story_txn_state_name(t->state));
                svg_time(f, s, t->end);
            }
            fprintf(f, "&#10;%d order%s; offsets sent with it: ", t->n_orders,
                    kit_s(t->n_orders));
            for (int j = 0; j < t->n_parts; j++)
                fprintf(f, "%s%" PRId32 ":%" PRId64, j ? ", " : "", t->parts[j], t->offsets[j]);
            if (!t->n_parts)
                fputs("none", f);
            if (strcmp(t->err, "NO_ERROR"))
                fprintf(f, "&#10;error: %s (%s)", t->err, t->kind);
            fprintf(f, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"7\" fill=\"%s\" stroke=\"#636363\"%s/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"#252525\" stroke-width=\"2\"/></g>\n",
                    x0, ty + 2, x1 - x0, fill[t->state],
                    t->state == TXN_OPEN ? " stroke-dasharray=\"3 2\"" : "",
                    x0, ty, x0, ty + 11);
        }
        base += rows;
    }
    free(row_of);
    free(span);
}

static void svg_lane(FILE *f, const struct story *s, const struct lane *l,
                     double top)
{
    double y = top + 30;
    int64_t want = story_expected_start(l);

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
    fputs("</text>\n", f);
    if (s->n_txns)
        svg_txns(f, s, l, y + SVG_CELL_H + 52);
    fputs("</g>\n", f);
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

/* Step 09's bars, one more row under the legend. */
static void svg_txn_legend(FILE *f, double top)
{
    static const char *const what[] = {
        [TXN_COMMITTED] = "transaction committed (tick: begun)",
        [TXN_ABORTED] = "transaction aborted",
        [TXN_OPEN] = "left open when its run ended"};
    static const char *const fill[] = {[TXN_OPEN] = "#9e9ac8",
                                       [TXN_COMMITTED] = "#74c476",
                                       [TXN_ABORTED] = "#fb6a4a"};
    static const enum txn_state order[] = {TXN_COMMITTED, TXN_ABORTED, TXN_OPEN};

    fputs("<g class=\"legend-txn\" font-size=\"12\">\n", f);
    for (int i = 0; i < 3; i++) {
        double x = 12 + i * 260.0, y = top + 14 + 5 * 22;

        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"7\" "
                "fill=\"%s\" stroke=\"#636363\"%s/><line x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"#252525\" stroke-width=\"2\"/>"
                "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y + 5, fill[order[i]],
                order[i] == TXN_OPEN ? " stroke-dasharray=\"3 2\"" : "", x, y + 3, x,
                y + 14, x + 30, y + 12, what[order[i]]);
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
    if (s->n_txns) {
        char words[512];

        txn_words(s, words, sizeof words);
        fputs("<text x=\"12\" y=\"86\" font-size=\"13\">", f);
        xml_text(f, words);
        fputs(" (the bars under each lane)</text>\n", f);
    }
}

/* Write the SVG to F (opened for PATH) and close it; returns 0, or -1
 * after saying why. */
int write_svg(const struct story *s, const char *title, FILE *f,
                     const char *path)
{
    int64_t cells = s->end - s->first;
    double width = SVG_LEFT + (double)cells * SVG_CELL_W + 60;
    double height = SVG_TOP + (double)s->n_lanes * SVG_LANE_H + 170, top = SVG_TOP;

    for (size_t i = 0; i < s->n_lanes && s->n_txns; i++)
        height += svg_txn_height(s, &s->lanes[i]);

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
    for (size_t i = 0; i < s->n_lanes; i++) {
        svg_lane(f, s, &s->lanes[i], top);
        top += SVG_LANE_H + (s->n_txns ? svg_txn_height(s, &s->lanes[i]) : 0);
    }
    svg_legend(f, top + 10);
    if (s->n_txns)
        svg_txn_legend(f, top + 10);
    fputs("</svg>\n", f);
    if (ferror(f) | fclose(f)) {
        kit_err("cannot write %s", path);
        return -1;
    }
    return 0;
}

