/*
 * multiboot_test.c — the Multiboot v1 loader on kernel images built in
 * memory: valid ELF32/ELF64 and a.out-kludge images load where they say,
 * and every kind of bad image gets an error naming what is wrong, without
 * touching anything outside guest RAM.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/internal.h"

#define RAM (4u << 20)
#define MB_MAGIC 0x1BADB002u

struct image {
	uint8_t buf[16384];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void mb_header(struct image *im, size_t off, uint32_t flags)
{
	put32(im->buf + off, MB_MAGIC);
	put32(im->buf + off + 4, flags);
	put32(im->buf + off + 8, (uint32_t)-(MB_MAGIC + flags));
}

/* An ELF64 executable: one PT_LOAD of filesz bytes at file offset 0x1000,
 * loaded at paddr, memsz bytes, entry at paddr + 0x10, Multiboot header at
 * file offset 0x1000. */
static void elf64(struct image *im, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };

	memset(im, 0, sizeof(*im));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = paddr + 0x10;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	memcpy(im->buf, &eh, sizeof(eh));
	ph.p_type = PT_LOAD;
	ph.p_offset = 0x1000;
	ph.p_vaddr = ph.p_paddr = paddr;
	ph.p_filesz = filesz;
	ph.p_memsz = memsz;
	memcpy(im->buf + sizeof(eh), &ph, sizeof(ph));
	mb_header(im, 0x1000, 0x2);
	for (size_t i = 0x100c; i < 0x1000 + filesz && i < sizeof(im->buf); i++)
		im->buf[i] = (uint8_t)i;
	im->len = 0x1000 + filesz;
}

static Elf64_Phdr *phdr(struct image *im, unsigned i)
{
	return (Elf64_Phdr *)(im->buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static int parse(struct image *im, struct vmm_mb_image *img, struct vmm_error *err)
{
	memset(err, 0, sizeof(*err));
	return vmm_multiboot_parse(im->buf, im->len, RAM, "k.elf", img, err);
}

#define refused(im, needle, what)                                                        \
	do {                                                                             \
		struct vmm_mb_image img_;                                                \
		struct vmm_error e_;                                                     \
		int rc_ = parse(im, &img_, &e_);                                         \
		ok(rc_ < 0 && strstr(e_.msg, needle) && strstr(e_.msg, "k.elf"),         \
		   "%s refused: %s", what, e_.msg);                                      \
	} while (0)

static void test_good_elf64(void)
{
	static struct image im;
	struct vmm_mb_image img;
	struct vmm_error err;
	uint8_t *ram = calloc(1, RAM);
	uint32_t info = 0;
	uint32_t flags, mmap_len, cmd;

	elf64(&im, 0x100000, 0x800, 0x2000);
	is_int(parse(&im, &img, &err), 0, "ELF64 with a Multiboot header parses");
	is_int(img.nseg, 1, "one segment");
	is_int(img.entry, 0x100010, "entry is e_entry (physical)");
	memset(ram + 0x100800, 0xaa, 0x1800);   /* bss must come back zeroed */
	is_int(vmm_multiboot_load(&img, im.buf, ram, RAM, "k.elf a b", &info, &err), 0, "loads");
	ok(memcmp(ram + 0x100000, im.buf + 0x1000, 0x800) == 0, "segment bytes copied");
	ok(ram[0x100800] == 0 && ram[0x101fff] == 0, "bss zeroed");
	is_int(info, 0x102000, "info on the first page after the kernel (QEMU's placement)");
	memcpy(&flags, ram + info, 4);
	ok((flags & 0x245) == 0x245, "info flags: mem, cmdline, mmap, loader name (0x%x)", flags);
	{
		uint32_t lower, upper;
		memcpy(&lower, ram + info + 4, 4);
		memcpy(&upper, ram + info + 8, 4);
		is_int(lower, 639, "mem_lower 639 KiB");
		is_int(upper, (RAM - 0x100000) / 1024, "mem_upper = RAM above 1 MiB");
	}
	memcpy(&cmd, ram + info + 16, 4);
	is_str((char *)ram + cmd, "k.elf a b", "command line");
	memcpy(&mmap_len, ram + info + 44, 4);
	is_int(mmap_len, 72, "three memory map entries");
	{
		uint32_t mmap_addr, type;
		uint64_t base, len;
		memcpy(&mmap_addr, ram + info + 48, 4);
		memcpy(&base, ram + mmap_addr + 48 + 4, 8);
		memcpy(&len, ram + mmap_addr + 48 + 12, 8);
		memcpy(&type, ram + mmap_addr + 48 + 20, 4);
		ok(base == 0x100000 && len == RAM - 0x100000 && type == 1, "RAM above 1 MiB is available");
	}
	free(ram);
}

static void test_good_elf32_and_aout(void)
{
	static struct image im;
	struct vmm_mb_image img;
	struct vmm_error err;
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph = { 0 };

	memset(&im, 0, sizeof(im));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_entry = 0xc0100000;        /* higher half: virtual != physical */
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	memcpy(im.buf, &eh, sizeof(eh));
	ph.p_type = PT_LOAD;
	ph.p_offset = 0x1000;
	ph.p_vaddr = 0xc0100000;
	ph.p_paddr = 0x100000;
	ph.p_filesz = ph.p_memsz = 0x100;
	memcpy(im.buf + sizeof(eh), &ph, sizeof(ph));
	mb_header(&im, 0x1000, 0);
	im.len = 0x1100;
	is_int(parse(&im, &img, &err), 0, "ELF32 parses: %s", err.msg);
	is_int(img.entry, 0x100000, "virtual entry translated to its physical address");

	/* Not ELF: the address fields place the image. */
	memset(&im, 0, sizeof(im));
	mb_header(&im, 64, 0x10000);
	put32(im.buf + 64 + 12, 0x100040);      /* header_addr */
	put32(im.buf + 64 + 16, 0x100000);      /* load_addr */
	put32(im.buf + 64 + 20, 0x100200);      /* load_end_addr */
	put32(im.buf + 64 + 24, 0x101000);      /* bss_end_addr */
	put32(im.buf + 64 + 28, 0x100080);      /* entry_addr */
	im.len = 0x200;
	is_int(parse(&im, &img, &err), 0, "a.out kludge image parses: %s", err.msg);
	ok(img.nseg == 1 && img.seg[0].paddr == 0x100000 && img.seg[0].filesz == 0x200 &&
	   img.seg[0].memsz == 0x1000 && img.entry == 0x100080, "placed by the address fields");
	put32(im.buf + 64 + 28, 0x200000);
	refused(&im, "entry_addr", "a.out entry outside the image");
}

static void test_bad_images(void)
{
	static struct image im;

	memset(&im, 0, sizeof(im));
	strcpy((char *)im.buf, "#!/bin/sh\necho not a kernel\n");
	im.len = strlen((char *)im.buf);
	refused(&im, "no Multiboot header", "a text file");

	elf64(&im, 0x100000, 0x100, 0x100);
	memset(im.buf + 0x1000, 0, 12);
	refused(&im, "no Multiboot header", "an ELF without a Multiboot header");

	elf64(&im, 0x100000, 0x100, 0x100);
	put32(im.buf + 0x1008, 0x12345678);
	refused(&im, "bad checksum", "a bad checksum");

	elf64(&im, 0x100000, 0x100, 0x100);
	mb_header(&im, 0x1000, 0x4);
	refused(&im, "video mode", "a kernel that needs a video mode");

	elf64(&im, 0x100000, 0x100, 0x100);
	mb_header(&im, 0x1000, 0x8);
	refused(&im, "unknown Multiboot features", "unknown required flag bits");

	elf64(&im, RAM - 0x800, 0x100, 0x1000);
	refused(&im, "does not fit in guest RAM", "a segment past the end of RAM");

	elf64(&im, 0x100000, 0x100, 0x100);
	phdr(&im, 0)->p_paddr = UINT64_MAX - 0x10;
	refused(&im, "does not fit in guest RAM", "a segment whose end wraps around");

	elf64(&im, 0x100000, 0x100, 0x100);
	phdr(&im, 0)->p_offset = 0x10000;
	refused(&im, "outside the", "segment bytes outside the file");

	elf64(&im, 0x100000, 0x100, 0x100);
	phdr(&im, 0)->p_filesz = 0x200;
	refused(&im, "exceeds memory size", "file size above memory size");

	elf64(&im, 0xe8000, 0x100, 0x100);
	refused(&im, "firmware area", "a segment over the firmware area (ACPI tables)");

	elf64(&im, 0x8000, 0x100, 0x2a00);
	{
		struct vmm_mb_image img;
		struct vmm_error err;
		uint8_t *ram = calloc(1, RAM);
		uint32_t info = 0;

		is_int(parse(&im, &img, &err), 0, "a kernel linked at 0x8000 parses");
		is_int(vmm_multiboot_load(&img, im.buf, ram, RAM, "k.elf", &info, &err), 0, "and loads");
		is_int(info, 0xb000, "its info goes after it, at 0xb000");
		free(ram);
	}
	elf64(&im, 0x90000, 0x100, 0x4f000);
	{
		struct vmm_mb_image img;
		struct vmm_error err;
		uint8_t *ram = calloc(1, RAM);
		uint32_t info = 0;

		is_int(parse(&im, &img, &err), 0, "a kernel up to 0xdf000 parses");
		is_int(vmm_multiboot_load(&img, im.buf, ram, RAM, "k.elf", &info, &err), 0, "and loads");
		is_int(info, 0x100000, "its info skips the firmware area");
		free(ram);
	}

	elf64(&im, 0x100000, 0x100, 0x100);
	{
		Elf64_Ehdr *eh = (Elf64_Ehdr *)im.buf;
		eh->e_phnum = 2;
		memcpy(phdr(&im, 1), phdr(&im, 0), sizeof(Elf64_Phdr));
		phdr(&im, 1)->p_paddr += 0x80;
	}
	refused(&im, "overlaps an earlier segment", "overlapping segments");

	elf64(&im, 0x100000, 0x100, 0x100);
	((Elf64_Ehdr *)im.buf)->e_phoff = 0x3ff0;
	refused(&im, "program headers", "program headers outside the file");

	elf64(&im, 0x100000, 0x100, 0x100);
	((Elf64_Ehdr *)im.buf)->e_entry = 0x200000;
	refused(&im, "entry point", "an entry outside every segment");

	elf64(&im, 0x100000, 0x100, 0x100);
	((Elf64_Ehdr *)im.buf)->e_machine = EM_ARM;
	refused(&im, "not x86", "an ARM ELF");

	elf64(&im, 0x100000, 0x100, 0x100);
	((Elf64_Ehdr *)im.buf)->e_type = ET_DYN;
	refused(&im, "ET_EXEC", "a shared object");

	elf64(&im, 0x100000, 0x100, 0x100);
	phdr(&im, 0)->p_type = PT_NOTE;
	refused(&im, "no loadable", "no PT_LOAD segment");
}

/* Every prefix of a valid image: an error or success, never a crash, and
 * never a segment that would be read from beyond the prefix. */
static void test_truncations(void)
{
	static struct image im, cut;
	struct vmm_mb_image img;
	struct vmm_error err;
	unsigned bad = 0, accepted = 0;

	elf64(&im, 0x100000, 0x400, 0x800);
	for (size_t n = 0; n < im.len; n++) {
		memcpy(cut.buf, im.buf, n);
		cut.len = n;
		if (vmm_multiboot_parse(cut.buf, n, RAM, "k.elf", &img, &err) == 0) {
			accepted++;
			for (unsigned i = 0; i < img.nseg; i++)
				if (img.seg[i].offset + img.seg[i].filesz > n)
					bad++;
		}
	}
	is_int(accepted, 0, "no proper prefix of the image is accepted");
	is_int(bad, 0, "no accepted segment reads past the file");
}

int main(void)
{
	test_good_elf64();
	test_good_elf32_and_aout();
	test_bad_images();
	test_truncations();
	return tap_done();
}
