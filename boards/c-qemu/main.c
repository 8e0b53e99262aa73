/* The test-vector check of the Rust boards (boards/firmware-common), in C:
 * classify every embedded row with the exported model (model_model[]) and
 * libdam_ffi.a, as the Rust boards do: one handle, the overlaps of an i8
 * model skipping the level of a zero input byte (for images the
 * background), count the answers equal to the true class and to the
 * host's prediction, and print the outcome, the stack the check used and
 * the instructions per classification through semihosting. main returns
 * 0 (exit status 0) only if every prediction equals the host's. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "semihosting.h"

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

/* ---- output: a line buffer and integer formatting (no printf: it would
 * add kilobytes of newlib) ---- */

static char line[256];
static size_t line_len;

static void put_str(const char *s)
{
    while (*s != '\0' && line_len + 1 < sizeof line) {
        line[line_len++] = *s++;
    }
    line[line_len] = '\0';
}

static void put_u64(uint64_t v)
{
    char digits[21];
    size_t n = sizeof digits - 1;
    digits[n] = '\0';
    do {
        digits[--n] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    put_str(&digits[n]);
}

static void flush_line(void)
{
    put_str("\n");
    sh_puts(line);
    line_len = 0;
}

/* ---- SysTick on the core clock, free-running over 24 bits. Under QEMU
 * with -icount shift=0 it advances with executed instructions; the
 * calibration loop says how many instructions a tick is. ---- */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* Iterations of the calibration loop (2 instructions each), as the Rust boards. */
#define CALIBRATION 100000u

static void systick_start(void)
{
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */
}

/* A loop of exactly 2n instructions (subs + bne) for n >= 1. */
__attribute__((noinline)) static void spin(uint32_t n)
{
    if (n == 0u) {
        n = 1u;
    }
    /* GCC passes Thumb-1 inline assembly in divided syntax (where `subs`
     * with an immediate does not exist) and restores unified after it. */
    __asm__ volatile(".syntax unified\n1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
}

static uint32_t calibrate(void)
{
    SYST_CVR = 0u;
    uint32_t start = SYST_CVR;
    spin(CALIBRATION);
    uint32_t end = SYST_CVR;
    return (start - end) & 0x00FFFFFFu;
}

/* ---- the stack high-water mark: paint the free stack, look for the
 * deepest word changed (as boards/firmware-common/src/stack.rs) ---- */

#define PAINT 0x5AFEC0DEu
#define PAINT_DEPTH (32u * 1024u)
/* Left unpainted below the stack pointer for paint()'s own frame. */
#define OWN_FRAME 64u

__attribute__((noinline)) static uintptr_t paint(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uintptr_t top = (sp & ~(uintptr_t)3u) - OWN_FRAME;
    for (volatile uint32_t *p = (volatile uint32_t *)(top - PAINT_DEPTH); (uintptr_t)p < top; p++) {
        *p = PAINT;
    }
    return top;
}

static size_t stack_used(uintptr_t top)
{
    for (const volatile uint32_t *p = (const volatile uint32_t *)(top - PAINT_DEPTH); (uintptr_t)p < top; p++) {
        if (*p != PAINT) {
            return top - (uintptr_t)p;
        }
    }
    return 0u;
}

/* ---- the check ---- */

struct outcome {
    uint32_t rows;
    uint32_t correct;
    uint32_t agree;
    uint32_t mismatch_row; /* the first disagreement, if agree < rows */
    uint32_t mismatch_board;
    uint32_t mismatch_host;
    uint64_t ticks; /* SysTick ticks of all classifications together */
};

/* The handle, its scratch (8-byte aligned) and the row sums of skipping. */
static dam_model handle;
static uint64_t scratch[(MODEL_SCRATCH_BYTES + 7u) / 8u];
static int32_t row_sums[MODEL_MEMORIES];

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
        o->ticks += (start - end) & 0x00FFFFFFu;
        o->rows++;
        if (cls == tv_classes[i]) {
            o->correct++;
        }
        if (cls == tv_predictions[i]) {
            o->agree++;
        } else if (o->agree + 1u == o->rows) {
            o->mismatch_row = (uint32_t)i;
            o->mismatch_board = cls;
            o->mismatch_host = tv_predictions[i];
        }
    }
    return NULL;
}

int main(void)
{
    static struct outcome o;
    systick_start();
    uint32_t cal = calibrate();
    if (cal == 0u) {
        cal = 1u;
    }
    uintptr_t top = paint();
    const char *err = check(&o);
    size_t stack = stack_used(top);
    if (err != NULL) {
        put_str("test-vector check failed: ");
        put_str(err);
        flush_line();
        return 1;
    }
    uint32_t permille = (uint32_t)((uint64_t)o.correct * 1000u / (o.rows ? o.rows : 1u));
    put_str("test vectors: ");
    put_u64(o.rows);
    put_str(" rows, ");
    put_u64(o.correct);
    put_str(" correct (");
    put_u64(permille / 10u);
    put_str(".");
    put_u64(permille % 10u);
    put_str("%), ");
    put_u64(o.agree);
    put_str("/");
    put_u64(o.rows);
    put_str(" predictions equal the host's (predictions-" PREDICTIONS_NAME ".u8)");
    if (o.agree != o.rows) {
        put_str("; first mismatch: row ");
        put_u64(o.mismatch_row);
        put_str(" board ");
        put_u64(o.mismatch_board);
        put_str(" host ");
        put_u64(o.mismatch_host);
    }
    flush_line();
    put_str("stack used by the check: ");
    put_u64(stack);
    put_str(" bytes");
    flush_line();
    uint64_t instructions = 2u * (uint64_t)CALIBRATION;
    put_u64(o.ticks * instructions / cal / (o.rows ? o.rows : 1u));
    put_str(" instructions per classification (SysTick: ");
    put_u64(cal);
    put_str(" ticks per ");
    put_u64(instructions);
    put_str(" instructions)");
    flush_line();
    return (o.rows > 0u && o.agree == o.rows) ? 0 : 1;
}
