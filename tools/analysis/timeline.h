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

/* Print the picture, wrapped to WIDTH columns (0: never wrap). */
void print_terminal(const struct story *s, const char *title, int width,
                    struct style st);

/* Write the picture as SVG to F (PATH: its name, for error messages);
 * 0, or -1 after saying why. */
int write_svg(const struct story *s, const char *title, FILE *f,
              const char *path);

#endif
