/*
 * timeline.h - the two renderings of a story (story.h): a picture for the
 * terminal (timeline_term.c) and the same picture as SVG (timeline_svg.c).
 */
#ifndef TIMELINE_H
#define TIMELINE_H

#include <stdio.h>

#include "story.h"

/* Colors, and Unicode marks, in the terminal picture. */
struct style {
    int color, unicode;
};

/* The narrowest --width the terminal picture can wrap to. */
#define TIMELINE_MIN_WIDTH (16 + 8 + 4)

/* Step 09: the transactions of RUN that touch lane L, in rows so that none
 * overlaps another on the offsets (a batch aborted, then done again, takes
 * a second row).  ROW_OF[k]: transaction k's row, -1 when it is not drawn
 * there; SPAN[k]: its index in lparts.  Returns the number of rows. */
int txn_rows(const struct story *s, const struct lane *l, enum run run,
             int *row_of, int *span);

/* Step 09, in words: how each run's transactions ended, into BUF. */
void txn_words(const struct story *s, char *buf, size_t size);

/* Print the picture, wrapped to WIDTH columns (0: never wrap). */
void print_terminal(const struct story *s, const char *title, int width,
                    struct style st);

/* Write the picture as SVG to F (PATH: its name, for error messages);
 * 0, or -1 after saying why. */
int write_svg(const struct story *s, const char *title, FILE *f,
              const char *path);

#endif
