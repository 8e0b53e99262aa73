/* Minimal startup for QEMU mps2-an386: the vector table, the reset handler
 * (FPU on, .data copied, .bss zeroed, then main) and a fault handler that
 * reports through semihosting and exits 1. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _stack_top, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void reset_handler(void);
void fault_handler(void);

void reset_handler(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11 before any floating-point
     * instruction (the hard-float ABI passes floats in s-registers). */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    sh_exit(main() == 0);
}

void fault_handler(void)
{
    sh_puts("fault: HardFault, NMI or an unexpected exception\n");
    sh_exit(0);
}

/* Initial stack pointer, reset, then the 14 system exceptions (NMI,
 * HardFault, ..., SysTick); SysTick is polled, so no interrupt is enabled. */
__attribute__((section(".vector_table"), used))
static void (*const vector_table[16])(void) = {
    (void (*)(void))(uintptr_t)&_stack_top,
    reset_handler,
    fault_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    0, 0, 0, 0,
    fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};
