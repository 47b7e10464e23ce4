/* Writes one 50 MB line to stderr, then fails. */
#include <stdio.h>
#include <string.h>

int main(void)
{
        static char chunk[1 << 20];
        memset(chunk, 'x', sizeof chunk);
        for (int i = 0; i < 50; i++)
                fwrite(chunk, 1, sizeof chunk, stderr);
        fputs("\n", stderr);
        return 1;
}
