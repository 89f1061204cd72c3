/*
 * multiboot_fuzz.c — libFuzzer target for the Multiboot v1 / ELF loader.
 *
 * The input is a kernel image. vmm_multiboot_parse must accept it or refuse
 * it with a message; an accepted image is loaded into a RAM buffer of the
 * size it was checked against, so every segment copy, the boot info and
 * the memory map must stay inside that buffer (ASan watches the copies).
 * The command line comes from the input's last bytes so that its length
 * and content vary too. Built by `make fuzz` (tests/fuzz/local.mk).
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/internal.h"

#define RAM_SIZE (8ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct vmm_mb_image img;
	struct vmm_error err = { 0 };
	char cmdline[512];
	size_t clen = size ? data[size - 1] % sizeof(cmdline) : 0;
	uint32_t info = 0;

	if (!ram && !(ram = malloc(RAM_SIZE)))
		abort();
	if (clen > size)
		clen = size;
	memcpy(cmdline, data + size - clen, clen);
	cmdline[clen] = '\0';
	if (vmm_multiboot_parse(data, size, RAM_SIZE, "fuzz.elf", &img, &err) != 0) {
		if (!err.msg[0])
			abort();        /* a refusal always says why */
		return 0;
	}
	if (img.nseg > VMM_MB_MAX_SEGMENTS)
		abort();
	for (unsigned i = 0; i < img.nseg; i++)
		if (img.seg[i].memsz > RAM_SIZE || img.seg[i].paddr > RAM_SIZE - img.seg[i].memsz ||
		    img.seg[i].filesz > img.seg[i].memsz || img.seg[i].offset > size ||
		    img.seg[i].filesz > size - img.seg[i].offset)
			abort();        /* parse promised a segment it cannot load */
	if (vmm_multiboot_load(&img, data, ram, RAM_SIZE, cmdline, &info, &err) != 0)
		return 0;
	/* The boot information lies inside RAM, page-aligned, over no
	 * segment of the kernel (QEMU's placement: after it). */
	if (info % 4096 || (uint64_t)info + VMM_MB_INFO_SIZE > RAM_SIZE)
		abort();
	for (unsigned i = 0; i < img.nseg; i++)
		if (img.seg[i].memsz && info < img.seg[i].paddr + img.seg[i].memsz &&
		    img.seg[i].paddr < (uint64_t)info + VMM_MB_INFO_SIZE)
			abort();
	return 0;
}
