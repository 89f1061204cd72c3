/*
 * kernel.c - start-up and shutdown helpers shared by the samples:
 * kernel_init(), kexit() through isa-debug-exit, and reading the Multiboot
 * command line.
 */
#include "io.h"
#include "kernel.h"

void kernel_init(void)
{
	serial_init();
	idt_init();
	pic_init();
}

void kexit(uint32_t value)
{
	/* QEMU and rrvm end the VM here with status (value << 1) | 1. */
	outl(DEBUG_EXIT_PORT, value);
	/* No isa-debug-exit device: stop with interrupts off. */
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

const char *multiboot_cmdline(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || info == 0)
		return NULL;
	/* Physical = virtual: boot.S identity-maps the first 1 GiB. */
	mbi = (const struct multiboot_info *)(uintptr_t)info;
	if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE) || mbi->cmdline == 0 ||
	    mbi->cmdline >= 0x40000000u)
		return NULL;
	return (const char *)(uintptr_t)mbi->cmdline;
}

/* Where word starts a space-separated word of s (it may be followed by
 * more of that word, e.g. "=N"), else NULL. */
static const char *cmdline_find(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; p && *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, word, n))
			return p + n;
	return NULL;
}

bool cmdline_has(const char *cmdline, const char *word)
{
	const char *end = cmdline_find(cmdline, word);

	return end && (*end == ' ' || *end == '\0');
}

unsigned cmdline_uint(const char *cmdline, const char *key, unsigned dflt)
{
	const char *p = cmdline_find(cmdline, key);
	unsigned v = 0;

	if (!p)
		return dflt;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	return v;
}
