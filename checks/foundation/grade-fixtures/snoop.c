/* An attack: read the instructor's solution (by absolute path, and through the working
 * folders of other processes), then run the instructor's built solution in its place.
 * WORKBOOK_ROOT is the instructor's tree (the test writes it in with sed). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WORKBOOK_ROOT "@ROOT@"

static void leak(const char *path)
{
        char line[200];
        FILE *f = fopen(path, "r");
        if (f && fgets(line, sizeof line, f))
                fprintf(stderr, "LEAKED from %s: %s", path, line);
        if (f)
                fclose(f);
}

int main(int argc, char **argv)
{
        (void)argc;
        leak(WORKBOOK_ROOT "/solutions/02_manual_commit/manual_commit.c");
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                char path[512];
                if (atoi(e->d_name) <= 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%s/cwd/solutions/02_manual_commit/manual_commit.c", e->d_name);
                leak(path);
        }
        if (d)
                closedir(d);
        execv(WORKBOOK_ROOT "/build/solutions/02_manual_commit", argv);
        fprintf(stderr, "%% snoop: no solution to run\n");
        return 1;
}
