/* What every test-vector check on QEMU mps2-an386 measures and prints,
 * whatever classifies: SysTick counting instructions (calibrated), the
 * stack high-water mark, and the report lines of the Rust boards
 * (firmware-common). Used by main.c here and by benches/emlearn. */
#ifndef MEASURE_H
#define MEASURE_H

#include <stddef.h>
#include <stdint.h>

/* SysTick on the core clock, free-running over 24 bits. Under QEMU with
 * -icount shift=0 it advances with executed instructions. */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* Starts SysTick (no interrupt). */
void systick_start(void);
/* SysTick ticks of a loop of exactly 2 * MEASURE_CALIBRATION instructions (at least 1). */
uint32_t calibrate(void);
#define MEASURE_CALIBRATION 100000u

/* Ticks between two SYST_CVR reads (it counts down). */
static inline uint32_t ticks_between(uint32_t start, uint32_t end)
{
    return (start - end) & 0x00FFFFFFu;
}

/* The stack: paint() fills 32 KB below the caller's frame with a pattern
 * and returns the top of the painted area; stack_used(top) finds the
 * deepest word changed since. */
uintptr_t paint(void);
size_t stack_used(uintptr_t top);

/* The outcome of a check: rows classified, equal to the true class, equal
 * to the host's prediction, the first disagreement, and the SysTick ticks
 * of all classifications together. */
struct outcome {
    uint32_t rows;
    uint32_t correct;
    uint32_t agree;
    uint32_t mismatch_row; /* the first disagreement, if agree < rows */
    uint32_t mismatch_board;
    uint32_t mismatch_host;
    uint64_t ticks;
};

/* Counts one classification of row `row` (class `cls`, true class
 * `truth`, host's `host`) that took `ticks`. */
void outcome_add(struct outcome *o, uint32_t row, uint32_t cls, uint32_t truth, uint32_t host, uint32_t ticks);

/* The whole check: starts SysTick, calibrates it, paints the stack, runs
 * check (NULL, or why it could not run), and reports; main's status. */
int run_check(const char *(*check)(struct outcome *o), const char *predictions);

/* Prints the outcome, the stack used and the instructions per
 * classification (cal: calibrate()'s ticks) through semihosting, naming
 * the host's prediction file `predictions`; or, if err is not NULL, the
 * failure. Returns main's status: 0 only if every prediction equals the
 * host's. */
int report(const char *err, const struct outcome *o, size_t stack, uint32_t cal, const char *predictions);

#endif
