/* emlearn's generated network (mlp_model.h) on the host: rows of 784
 * little-endian f32 on stdin, one class byte per row on stdout. train.py
 * compiles it with the host's C compiler (-std=c99, so no contraction into
 * fused multiply-adds, as on the boards) to get the predictions the
 * firmware must reproduce. (emlearn's own host runner reads CSV lines of
 * at most 256 values, too few for an image.) */
#include <stdint.h>
#include <stdio.h>

#include "mlp_model.h"

#define INPUTS 784

int main(void)
{
    static float row[INPUTS];
    while (fread(row, sizeof row[0], INPUTS, stdin) == INPUTS) {
        int32_t cls = mlp_predict(row, INPUTS);
        if (cls < 0 || cls > 255) {
            fprintf(stderr, "mlp_predict returned %d\n", (int)cls);
            return 1;
        }
        putchar((int)cls);
    }
    return ferror(stdin) ? 1 : 0;
}
