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
#include "timeline.h"

static const char usage[] =
    "usage: timeline [--svg FILE] [--title TEXT] [--color WHEN] [--topic TOPIC]\n"
    "                [--width COLUMNS] [--skew MS] [--log-end P=N]... RUN1.out [RERUN.out] COMMITS\n"
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
    "  --skew MS        the broker's clock runs MS ms ahead of this machine's\n"
    "                   (negative: behind); taken off its commit timestamps\n"
    "  --log-end P=N    partition P's log ends at offset N (from the lag tool):\n"
    "                   offsets up to there that no run reached are drawn too\n"
    "                   (from 0 on a partition with no message and no commit)\n"
    "  -h               show this help\n";


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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"svg", required_argument, NULL, 's'},
        {"title", required_argument, NULL, 'T'},
        {"color", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 't'},
        {"width", required_argument, NULL, 'w'},
        {"log-end", required_argument, NULL, 'e'},
        {"skew", required_argument, NULL, 'S'},
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
        case 'S': s.skew_ms = kit_number('S', optarg, -86400000L, 86400000L, usage); break;
        case 'e':
            if (story_add_log_end(&s, optarg)) {
                story_free(&s);
                kit_usage(usage, 2);
            }
            break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never")) {
        kit_err("--color wants auto, always or never, not '%s'", color);
        kit_usage(usage, 2);
    }
    if (width > 0 && width < TIMELINE_MIN_WIDTH) {
        kit_err("--width must be 0 or at least %d", TIMELINE_MIN_WIDTH);
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
    if (story_read_run(&s, run1, RUN1) || (rerun && story_read_run(&s, rerun, RERUN)) ||
        story_read_commits(&s, commits, topic)) {
        story_free(&s);
        return 1;
    }

    if (story_build(&s)) {
        story_free(&s);
        return 1;
    }

    /* Open the SVG file before drawing anything: a path we cannot write
     * is then one error line, not a picture followed by an error. */
    if (svg && !(svg_file = fopen(svg, "w"))) {
        kit_err("cannot write %s: %s", svg, strerror(errno));
        story_free(&s);
        return 1;
    }
    if (!title)
        title = s.topic[0] ? s.topic : topic ? topic : run1;
    print_terminal(&s, title, width, pick_style(color));
    if (svg_file && write_svg(&s, title, svg_file, svg) != 0)
        rc = 1;
    story_free(&s);
    return rc;
}

