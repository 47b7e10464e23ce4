/* A step program that never ends, whatever it is sent short of SIGKILL. */
#include <signal.h>
#include <unistd.h>

int main(void)
{
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        for (;;)
                sleep(1);
}
