/*
 * mkkernel.c — writes small Multiboot kernels for the command-line tests:
 * good ones with a few bytes of 32-bit code, and broken ones, one per kind
 * of bad input rrvm must refuse with a clear message.
 *
 *   mkkernel KIND OUT
 *   KIND: good (prints "ok" on COM1, exits with value 5), triple (faults
 *   with no IDT: a triple fault), int3 (an int3 at CPL0: a #BP with no IDT
 *   or, on emulating backends, an internal error), nomb, badsum, overlap,
 *   outside-file, outside-ram, over-firmware (a segment over the ACPI
 *   tables at 0xe0000-0xfffff), low (good, but linked at 0x8000).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD 0x100000u

static uint8_t img[0x3000];

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void build(const uint8_t *code, size_t len, uint32_t mb_sum_fix, int segs, uint64_t paddr,
		  uint64_t off, uint64_t memsz)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = paddr + 16;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = (uint16_t)segs;
	memcpy(img, &eh, sizeof(eh));
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X | PF_W;
	ph.p_offset = off;
	ph.p_vaddr = ph.p_paddr = paddr;
	ph.p_filesz = 0x1000;
	ph.p_memsz = memsz;
	ph.p_align = 0x1000;
	for (int i = 0; i < segs; i++) {
		memcpy(img + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		ph.p_paddr += 0x800;    /* a second segment overlaps the first */
		ph.p_vaddr += 0x800;
	}
	/* Multiboot header at file offset 0x1000, code right after it. */
	put32(img + 0x1000, 0x1BADB002);
	put32(img + 0x1004, 0x2);
	put32(img + 0x1008, (uint32_t)-(0x1BADB002u + 0x2u) + mb_sum_fix);
	memcpy(img + 0x1010, code, len);
}

int main(int argc, char **argv)
{
	/* mov $0x3f8,%dx; mov $'o',%al; out; mov $'k',%al; out; mov $'\n',%al; out;
	 * mov $0xf4,%dx; mov $5,%al; out %al,%dx; hlt */
	static const uint8_t good[] = { 0x66, 0xba, 0xf8, 0x03, 0xb0, 'o', 0xee, 0xb0, 'k', 0xee,
					0xb0, '\n', 0xee, 0x66, 0xba, 0xf4, 0x00, 0xb0, 0x05, 0xee,
					0xf4 };
	static const uint8_t triple[] = { 0x0f, 0x0b };        /* ud2, and no IDT */
	static const uint8_t int3[] = { 0xcc, 0xf4 };
	const char *kind, *out;
	size_t size = sizeof(img);
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: mkkernel KIND OUT\n");
		return 2;
	}
	kind = argv[1], out = argv[2];
	if (!strcmp(kind, "good"))
		build(good, sizeof(good), 0, 1, LOAD, 0x1000, 0x1000);
	else if (!strcmp(kind, "triple"))
		build(triple, sizeof(triple), 0, 1, LOAD, 0x1000, 0x1000);
	else if (!strcmp(kind, "int3"))
		build(int3, sizeof(int3), 0, 1, LOAD, 0x1000, 0x1000);
	else if (!strcmp(kind, "badsum"))
		build(good, sizeof(good), 1, 1, LOAD, 0x1000, 0x1000);
	else if (!strcmp(kind, "nomb")) {
		build(good, sizeof(good), 0, 1, LOAD, 0x1000, 0x1000);
		memset(img + 0x1000, 0, 12);
	} else if (!strcmp(kind, "overlap"))
		build(good, sizeof(good), 0, 2, LOAD, 0x1000, 0x1000);
	else if (!strcmp(kind, "outside-file"))
		build(good, sizeof(good), 0, 1, LOAD, 0x2800, 0x1000);
	else if (!strcmp(kind, "outside-ram"))
		build(good, sizeof(good), 0, 1, 0x7ff0000, 0x1000, 0x100000);
	else if (!strcmp(kind, "low"))         /* linked at 0x8000, as issue 12's refused kernel */
		build(good, sizeof(good), 0, 1, 0x8000, 0x1000, 0x286c);
	else if (!strcmp(kind, "over-firmware"))
		build(good, sizeof(good), 0, 1, 0xef000, 0x1000, 0x2000);
	else {
		fprintf(stderr, "mkkernel: unknown kind '%s'\n", kind);
		return 2;
	}
	f = fopen(out, "wb");
	if (!f || fwrite(img, 1, size, f) != size || fclose(f) != 0) {
		perror(out);
		return 1;
	}
	return 0;
}
