/* Control and ANSI characters on stderr (and invalid UTF-8), then a failure. */
#include <stdio.h>

int main(void)
{
        fputs("\x1b[31mred\x1b[0m \x01\x02\x03\x07\x08\x0b\x0c\x0e\x1f\x7f bad utf-8: \xff\xfe\xc3 \x1b]0;title\x07 <&'\"> end\n", stderr);
        fputs("\x1b[31mred\x1b[0m \x01\x02\x03\x07\x08\x0b\x0c\x0e\x1f\x7f bad utf-8: \xff\xfe\xc3 \x1b]0;title\x07 <&'\"> end\n", stdout);
        return 1;
}
