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
 *   - step 09: each transaction (with --probe1/--probe2), as a bracket over
 *     the offsets it covered: begun at [, committed (C), aborted (A), or
 *     left open when its run ended (O).
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
    "                [--width COLUMNS] [--skew MS] [--log-end P=N]... [--probe1 FILE]\n"
    "                [--probe2 FILE] RUN1.out [RERUN.out] COMMITS\n"
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
    "  --probe1/--probe2 FILE  what the probe wrote during run 1 / the rerun: step\n"
    "                   09's transactions are drawn (begun, committed, aborted, open)\n"
    "  --log-end P=N    partition P's log ends at offset N (from the lag tool):\n"
    "                   offsets up to there that no run reached are drawn too\n"
    "                   (from 0 on a partition with no message and no commit)\n"
    "  -h               show this help\n";


/* ------------------------------------------------------- transaction rows */

int txn_rows(const struct story *s, const struct lane *l, enum run run,
             int *row_of, int *span)
{
    int n_rows = 0;

    for (size_t k = 0; k < s->n_txns; k++) {
        const struct txn *t = &s->txns[k];
        int j = 0, row;

        row_of[k] = span[k] = -1;
        while (j < t->n_lparts && t->lparts[j] != l->partition)
            j++;
        if (t->run != run || j == t->n_lparts)
            continue;
        /* The first row where no transaction drawn yet shares an offset. */
        for (row = 0; row < n_rows; row++) {
            int clash = 0;

            for (size_t i = 0; i < k && !clash; i++)
                clash = row_of[i] == row && s->txns[i].lo[span[i]] <= t->hi[j] &&
                        t->lo[j] <= s->txns[i].hi[span[i]];
            if (!clash)
                break;
        }
        row_of[k] = row;
        span[k] = j;
        if (row == n_rows)
            n_rows++;
    }
    return n_rows;
}

void txn_words(const struct story *s, char *buf, size_t size)
{
    int n[2][3] = {{0, 0, 0}, {0, 0, 0}}, by_rerun = 0, dropped;
    size_t used;

    for (size_t i = 0; i < s->n_txns; i++) {
        n[s->txns[i].run][s->txns[i].state]++;
        by_rerun += s->txns[i].aborted_by_rerun;
    }
    used = (size_t)snprintf(buf, size, "transactions: run 1 began %d (%d committed, "
                            "%d aborted, %d left open%s)",
                            n[RUN1][0] + n[RUN1][1] + n[RUN1][2], n[RUN1][TXN_COMMITTED],
                            n[RUN1][TXN_ABORTED], n[RUN1][TXN_OPEN],
                            !n[RUN1][TXN_OPEN] ? ""
                            : by_rerun == n[RUN1][TXN_OPEN] ? ": the rerun's init aborted it"
                            : ": the rerun did not abort it");
    if (s->have_rerun && used < size)
        used += (size_t)snprintf(buf + used, size - used, ", the rerun %d (%d committed, "
                                 "%d aborted, %d left open)",
                                 n[RERUN][0] + n[RERUN][1] + n[RERUN][2],
                                 n[RERUN][TXN_COMMITTED], n[RERUN][TXN_ABORTED],
                                 n[RERUN][TXN_OPEN]);
    dropped = s->n_dropped[0] + s->n_dropped[1];
    if (dropped && used < size)
        snprintf(buf + used, size - used, "; %d offset commit%s of aborted or open "
                 "transactions not counted", dropped, kit_s(dropped));
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
        {"probe1", required_argument, NULL, '1'},
        {"probe2", required_argument, NULL, '2'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *svg = NULL, *title = NULL, *color = "auto", *topic = NULL;
    const char *run1, *rerun = NULL, *commits;
    const char *probe[2] = {NULL, NULL};
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
        case '1': probe[0] = optarg; break;
        case '2': probe[1] = optarg; break;
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
        story_read_commits(&s, commits, topic) ||
        (probe[0] && story_read_probe(&s, probe[0], RUN1)) ||
        (probe[1] && story_read_probe(&s, probe[1], RERUN))) {
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

