/* The test-vector check of the Rust boards (boards/firmware-common), in C:
 * classify every embedded row with the exported model (model_model[]) and
 * libdam_ffi.a, as the Rust boards do: one handle, the overlaps of an i8
 * model skipping the level of a zero input byte (for images the
 * background) and its doubled label values made once, count the answers
 * equal to the true class and to the host's prediction, and print the
 * outcome, the stack the check used and the instructions per
 * classification through semihosting (measure.c).
 * main returns 0 (exit status 0) only if every prediction equals the
 * host's. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "measure.h"
#include "model.h"

/* Rows to classify at most (the Makefile: 500 on the M4F, 100 on the M0+). */
#ifndef ROWS
#define ROWS 500u
#endif
/* The host's prediction file this build compares against (predictions-NAME.u8). */
#ifndef PREDICTIONS_NAME
#define PREDICTIONS_NAME "i8"
#endif
/* Bytes per input value in the vectors: 1 (inputs.u8 + byte-values.f32) or 4 (inputs.f32). */
#ifndef VALUE_BYTES
#define VALUE_BYTES 1u
#endif

/* testvectors.S */
extern const uint8_t tv_inputs[], tv_inputs_end[];
#if VALUE_BYTES == 1
extern const uint8_t tv_byte_values[], tv_byte_values_end[];
#endif
extern const uint8_t tv_classes[], tv_classes_end[];
extern const uint8_t tv_predictions[], tv_predictions_end[];
extern const uint8_t tv_model_crc[], tv_model_crc_end[];

/* ---- the check ---- */

/* The handle, its scratch (8-byte aligned) and the row sums of skipping. */
static dam_model handle;
static uint64_t scratch[(MODEL_SCRATCH_BYTES + 7u) / 8u];
static int32_t row_sums[MODEL_MEMORIES];
/* The doubled label values of an i8 model run in float (cores with an
 * FPU: dam_label_table_len is K·Nc there, 0 in fixed point). */
#if defined(__ARM_FP)
static float label_table[MODEL_MEMORIES * MODEL_CLASSES];
#define LABEL_TABLE label_table
#define LABEL_TABLE_LEN (sizeof label_table / sizeof label_table[0])
#else
#define LABEL_TABLE NULL
#define LABEL_TABLE_LEN 0u
#endif

static size_t span(const uint8_t *begin, const uint8_t *end)
{
    return (size_t)(end - begin);
}

/* The raw values of row `row` into raw[0 .. MODEL_INPUTS - 1], as the host wrote them. */
static void row_values(size_t row, float *raw)
{
    const uint8_t *in = tv_inputs + row * (size_t)MODEL_INPUTS * VALUE_BYTES;
    for (size_t i = 0; i < MODEL_INPUTS; i++) {
#if VALUE_BYTES == 1
        memcpy(&raw[i], tv_byte_values + 4u * in[i], sizeof raw[i]); /* little-endian f32 */
#else
        memcpy(&raw[i], in + 4u * i, sizeof raw[i]);
#endif
    }
}

/* Classifies the first ROWS rows; NULL, or why the check could not run.
 * Never inlined, so that the stack painted around the call counts its
 * row buffer. */
__attribute__((noinline)) static const char *check(struct outcome *o)
{
    float raw[MODEL_INPUTS];
    size_t n = span(tv_classes, tv_classes_end);
    if (n == 0u || span(tv_inputs, tv_inputs_end) != n * (size_t)MODEL_INPUTS * VALUE_BYTES ||
        span(tv_predictions, tv_predictions_end) != n) {
        return "test vectors do not match the model (Nv or rows): regenerate them with `dam predict`";
    }
#if VALUE_BYTES == 1
    if (span(tv_byte_values, tv_byte_values_end) != 256u * 4u) {
        return "byte-values.f32 is not 256 floats";
    }
#endif
    /* dam predict records the CRC trailer (the last 4 bytes) of its model. */
    if (span(tv_model_crc, tv_model_crc_end) != 4u ||
        memcmp(tv_model_crc, model_model + MODEL_MODEL_BYTES - 4u, 4u) != 0) {
        return "the test vectors are for another model: regenerate them with `dam predict`";
    }
    uint32_t cls;
    /* The handle: the model parsed and checked (CRC) once, here, untimed,
     * so the ticks count classifications alone. */
    dam_status s = dam_model_init(&handle, model_model, MODEL_MODEL_BYTES);
    if (s != DAM_OK) {
        return dam_status_str(s);
    }
    /* i8 models: skip the level of a zero byte's value (an f32 model has
     * nothing to skip: DAM_ERR_WRONG_KIND). */
    float zero;
#if VALUE_BYTES == 1
    memcpy(&zero, tv_byte_values, sizeof zero);
#else
    zero = 0.0f;
#endif
    s = dam_model_skip_input(&handle, zero, row_sums, MODEL_MEMORIES);
    if (s != DAM_OK && s != DAM_ERR_WRONG_KIND) {
        return dam_status_str(s);
    }
    /* i8 models in float: the doubled label values once, here (an f32
     * model has none: DAM_ERR_WRONG_KIND). */
    s = dam_model_label_table(&handle, LABEL_TABLE, LABEL_TABLE_LEN);
    if (s != DAM_OK && s != DAM_ERR_WRONG_KIND) {
        return dam_status_str(s);
    }
    /* The exported one-call wrapper agrees with the handle on row 0. */
    uint32_t wrapped;
    row_values(0u, raw);
    s = model_classify(raw, &wrapped);
    if (s != DAM_OK) {
        return dam_status_str(s);
    }
    s = dam_classify_f32(&handle, raw, MODEL_INPUTS, scratch, sizeof scratch, &cls);
    if (s != DAM_OK) {
        return dam_status_str(s);
    }
    if (cls != wrapped) {
        return "model_classify() and the handle disagree on row 0";
    }
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < n && i < ROWS; i++) {
        row_values(i, raw);
        SYST_CVR = 0u;
        uint32_t start = SYST_CVR;
        s = dam_classify_f32(&handle, raw, MODEL_INPUTS, scratch, sizeof scratch, &cls);
        uint32_t end = SYST_CVR;
        if (s != DAM_OK) {
            return dam_status_str(s);
        }
        outcome_add(o, (uint32_t)i, cls, tv_classes[i], tv_predictions[i], ticks_between(start, end));
    }
    return NULL;
}

int main(void)
{
    return run_check(check, "predictions-" PREDICTIONS_NAME ".u8");
}
