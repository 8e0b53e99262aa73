/* Semihosting (ARM's debug-host calls, which QEMU serves with
 * -semihosting-config enable=on,target=native): text output and exit. */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

#include <stdint.h>

/* Writes the NUL-terminated string s to the host's console (SYS_WRITE0). */
void sh_puts(const char *s);
/* Ends the emulation (SYS_EXIT): status 0 if ok, 1 otherwise. */
void sh_exit(int ok) __attribute__((noreturn));

#endif
