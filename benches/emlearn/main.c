/* The test-vector check of boards/c-qemu, for the emlearn MLP: classify
 * every embedded row (the MNIST test images `dam predict` wrote for the
 * boards) with the generated network (mlp_model.h, eml_net.h), count the
 * answers equal to the true class and to the prediction of the same C code
 * on the host (predictions-mlp.u8, written by train.py), and print the
 * outcome, the stack the check used and the instructions per
 * classification through semihosting with boards/c-qemu's measure.c.
 * The timed call is the same as dam's: the row's raw f32 values in, the
 * class out. main returns 0 only if every prediction equals the host's. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "measure.h"
#include "mlp_model.h"

#ifndef ROWS
#define ROWS 500u
#endif
#define INPUTS 784u

/* boards/c-qemu/testvectors.S */
extern const uint8_t tv_inputs[], tv_inputs_end[];
extern const uint8_t tv_byte_values[], tv_byte_values_end[];
extern const uint8_t tv_classes[], tv_classes_end[];
extern const uint8_t tv_predictions[], tv_predictions_end[];

static size_t span(const uint8_t *begin, const uint8_t *end)
{
    return (size_t)(end - begin);
}

__attribute__((noinline)) static const char *check(struct outcome *o)
{
    float raw[INPUTS];
    size_t n = span(tv_classes, tv_classes_end);
    if (n == 0u || span(tv_inputs, tv_inputs_end) != n * (size_t)INPUTS ||
        span(tv_predictions, tv_predictions_end) != n) {
        return "test vectors do not match the network (784 inputs) or predictions-mlp.u8";
    }
    if (span(tv_byte_values, tv_byte_values_end) != 256u * 4u) {
        return "byte-values.f32 is not 256 floats";
    }
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < n && i < ROWS; i++) {
        const uint8_t *in = tv_inputs + i * (size_t)INPUTS;
        for (size_t j = 0; j < INPUTS; j++) {
            memcpy(&raw[j], tv_byte_values + 4u * in[j], sizeof raw[j]);
        }
        SYST_CVR = 0u;
        uint32_t start = SYST_CVR;
        int32_t cls = mlp_predict(raw, (int32_t)INPUTS);
        uint32_t end = SYST_CVR;
        if (cls < 0) {
            return "mlp_predict returned an error";
        }
        outcome_add(o, (uint32_t)i, (uint32_t)cls, tv_classes[i], tv_predictions[i], ticks_between(start, end));
    }
    return NULL;
}

int main(void)
{
    return run_check(check, "predictions-mlp.u8");
}
