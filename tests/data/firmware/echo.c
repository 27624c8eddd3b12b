/* Echoes console input line by line (bsp_getc is non-blocking): "ping" -> "TF LOG echo=ping". */
#include <stdint.h>

#include "bsp.h"

int main(void)
{
    char line[64];
    unsigned n = 0;

    bsp_init();
    bsp_puts("TF LOG ready\n");
    for (;;) {
        int c = bsp_getc();
        if (c < 0) {
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't') {
                break;
            }
            bsp_puts("TF LOG echo=");
            bsp_write(line, n);
            bsp_puts("\n");
            n = 0;
        } else if (n < sizeof line) {
            line[n++] = (char)c;
        }
    }
    bsp_puts("TF DONE status=pass count=0\n");
    return 0;
}
