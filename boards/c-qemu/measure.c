/* measure.h: SysTick calibration, the stack high-water mark and the report
 * lines, with a dozen lines of integer formatting instead of printf (which
 * would add kilobytes of newlib). */
#include "measure.h"

#include "semihosting.h"

/* ---- output: a line buffer and integer formatting ---- */

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

/* ---- SysTick; the calibration loop says how many instructions a tick
 * is, as in the Rust boards. ---- */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)

void systick_start(void)
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

uint32_t calibrate(void)
{
    SYST_CVR = 0u;
    uint32_t start = SYST_CVR;
    spin(MEASURE_CALIBRATION);
    uint32_t end = SYST_CVR;
    uint32_t cal = ticks_between(start, end);
    return cal != 0u ? cal : 1u;
}

/* ---- the stack high-water mark: paint the free stack, look for the
 * deepest word changed (as boards/firmware-common/src/stack.rs) ---- */

#define PAINT 0x5AFEC0DEu
#define PAINT_DEPTH (32u * 1024u)
/* Left unpainted below the stack pointer for paint()'s own frame. */
#define OWN_FRAME 64u

__attribute__((noinline)) uintptr_t paint(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uintptr_t top = (sp & ~(uintptr_t)3u) - OWN_FRAME;
    for (volatile uint32_t *p = (volatile uint32_t *)(top - PAINT_DEPTH); (uintptr_t)p < top; p++) {
        *p = PAINT;
    }
    return top;
}

size_t stack_used(uintptr_t top)
{
    for (const volatile uint32_t *p = (const volatile uint32_t *)(top - PAINT_DEPTH); (uintptr_t)p < top; p++) {
        if (*p != PAINT) {
            return top - (uintptr_t)p;
        }
    }
    return 0u;
}

/* ---- the outcome ---- */

void outcome_add(struct outcome *o, uint32_t row, uint32_t cls, uint32_t truth, uint32_t host, uint32_t ticks)
{
    o->ticks += ticks;
    o->rows++;
    if (cls == truth) {
        o->correct++;
    }
    if (cls == host) {
        o->agree++;
    } else if (o->agree + 1u == o->rows) {
        o->mismatch_row = row;
        o->mismatch_board = cls;
        o->mismatch_host = host;
    }
}

int report(const char *err, const struct outcome *o, size_t stack, uint32_t cal, const char *predictions)
{
    if (err != NULL) {
        put_str("test-vector check failed: ");
        put_str(err);
        flush_line();
        return 1;
    }
    uint32_t rows = o->rows ? o->rows : 1u;
    uint32_t permille = (uint32_t)((uint64_t)o->correct * 1000u / rows);
    put_str("test vectors: ");
    put_u64(o->rows);
    put_str(" rows, ");
    put_u64(o->correct);
    put_str(" correct (");
    put_u64(permille / 10u);
    put_str(".");
    put_u64(permille % 10u);
    put_str("%), ");
    put_u64(o->agree);
    put_str("/");
    put_u64(o->rows);
    put_str(" predictions equal the host's (");
    put_str(predictions);
    put_str(")");
    if (o->agree != o->rows) {
        put_str("; first mismatch: row ");
        put_u64(o->mismatch_row);
        put_str(" board ");
        put_u64(o->mismatch_board);
        put_str(" host ");
        put_u64(o->mismatch_host);
    }
    flush_line();
    put_str("stack used by the check: ");
    put_u64(stack);
    put_str(" bytes");
    flush_line();
    uint64_t instructions = 2u * (uint64_t)MEASURE_CALIBRATION;
    put_u64(o->ticks * instructions / cal / rows);
    put_str(" instructions per classification (SysTick: ");
    put_u64(cal);
    put_str(" ticks per ");
    put_u64(instructions);
    put_str(" instructions)");
    flush_line();
    return (o->rows > 0u && o->agree == o->rows) ? 0 : 1;
}

int run_check(const char *(*check)(struct outcome *o), const char *predictions)
{
    static struct outcome o;
    systick_start();
    uint32_t cal = calibrate();
    uintptr_t top = paint();
    const char *err = check(&o);
    size_t stack = stack_used(top);
    return report(err, &o, stack, cal, predictions);
}
