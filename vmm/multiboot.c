/*
 * multiboot.c — the Multiboot v1 loader: validate a kernel image, copy it
 * into guest RAM and build the boot information a Multiboot kernel expects
 * (memory sizes, a memory map, the command line, the loader's name).
 *
 * ELF images (ELF32 or ELF64, little-endian x86) are loaded by their
 * program headers at p_paddr, the way GRUB and QEMU do; other images need
 * the header's address fields (flags bit 16, the "a.out kludge"). For an
 * ELF that also carries the address fields we still trust the program
 * headers: they describe the image in more detail and are checked more
 * strictly. Everything read from the file is bounds-checked against the
 * file size and against guest RAM, so a hostile image gives an error that
 * names the bad value and nothing is written outside RAM.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vmm/internal.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_FLAG_ALIGN (1u << 0)
#define MB_FLAG_MEMINFO (1u << 1)
#define MB_FLAG_VIDEO (1u << 2)
#define MB_FLAG_ADDR (1u << 16)

/* Boot information flags (the info structure's first word). */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)

#define LOW_MEM_END 0x9fc00ull          /* 639 KiB of conventional memory */
#define HIGH_MEM 0x100000ull

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* Offset of the Multiboot header, or -1. */
static long find_header(const uint8_t *file, size_t len)
{
	size_t end = len < MB_SEARCH ? len : MB_SEARCH;

	for (size_t off = 0; off + 12 <= end; off += 4) {
		if (rd32(file + off) == MB_MAGIC)
			return (long)off;
	}
	return -1;
}

static int add_segment(struct vmm_mb_image *img, uint64_t paddr, uint64_t filesz, uint64_t memsz,
		       uint64_t offset, size_t file_len, uint64_t ram_size, const char *path,
		       unsigned index, struct vmm_error *err)
{
	if (filesz > memsz) {
		vmm_error_set(err, "%s: segment %u: file size 0x%llx exceeds memory size 0x%llx",
			      path, index, (unsigned long long)filesz, (unsigned long long)memsz);
		return -ENOEXEC;
	}
	if (offset > file_len || filesz > file_len - offset) {
		vmm_error_set(err, "%s: segment %u: bytes 0x%llx-0x%llx lie outside the %zu-byte file",
			      path, index, (unsigned long long)offset,
			      (unsigned long long)(offset + filesz), file_len);
		return -ENOEXEC;
	}
	if (paddr > ram_size || memsz > ram_size - paddr) {
		vmm_error_set(err, "%s: segment %u at 0x%llx-0x%llx does not fit in guest RAM "
			      "(0x%llx bytes; try a larger --mem)", path, index,
			      (unsigned long long)paddr, (unsigned long long)(paddr + memsz),
			      (unsigned long long)ram_size);
		return -ENOEXEC;
	}
	if (paddr < VMM_FW_AREA_END && paddr + memsz > VMM_FW_AREA_BASE) {
		vmm_error_set(err, "%s: segment %u at 0x%llx-0x%llx overlaps the firmware area "
			      "0x%llx-0x%llx (ACPI tables; a PC has its BIOS there)", path, index,
			      (unsigned long long)paddr, (unsigned long long)(paddr + memsz),
			      VMM_FW_AREA_BASE, VMM_FW_AREA_END);
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct vmm_mb_segment *s = &img->seg[i];
		if (paddr < s->paddr + s->memsz && s->paddr < paddr + memsz) {
			vmm_error_set(err, "%s: segment %u at 0x%llx-0x%llx overlaps an earlier "
				      "segment at 0x%llx-0x%llx", path, index,
				      (unsigned long long)paddr, (unsigned long long)(paddr + memsz),
				      (unsigned long long)s->paddr,
				      (unsigned long long)(s->paddr + s->memsz));
			return -ENOEXEC;
		}
	}
	if (img->nseg == VMM_MB_MAX_SEGMENTS) {
		vmm_error_set(err, "%s: more than %d loadable segments", path, VMM_MB_MAX_SEGMENTS);
		return -ENOEXEC;
	}
	img->seg[img->nseg++] = (struct vmm_mb_segment){ paddr, filesz, memsz, offset };
	return 0;
}

/* One program header, widened to 64 bits whatever the ELF class. */
struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, bool is64, struct phdr *ph)
{
	if (is64) {
		Elf64_Phdr h;
		memcpy(&h, p, sizeof(h));
		*ph = (struct phdr){ h.p_type, h.p_offset, h.p_vaddr, h.p_paddr, h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;
		memcpy(&h, p, sizeof(h));
		*ph = (struct phdr){ h.p_type, h.p_offset, h.p_vaddr, h.p_paddr, h.p_filesz, h.p_memsz };
	}
}

static int parse_elf(const uint8_t *file, size_t len, uint64_t ram_size, const char *path,
		     struct vmm_mb_image *img, struct vmm_error *err)
{
	bool is64 = file[EI_CLASS] == ELFCLASS64;
	uint64_t phoff, entry;
	unsigned phnum, phentsize, machine, type;
	bool entry_found = false;

	if (file[EI_CLASS] != ELFCLASS32 && !is64) {
		vmm_error_set(err, "%s: unknown ELF class %u", path, file[EI_CLASS]);
		return -ENOEXEC;
	}
	if (file[EI_DATA] != ELFDATA2LSB) {
		vmm_error_set(err, "%s: not a little-endian ELF file", path);
		return -ENOEXEC;
	}
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		vmm_error_set(err, "%s: ELF header truncated (%zu bytes)", path, len);
		return -ENOEXEC;
	}
	if (is64) {
		Elf64_Ehdr eh;
		memcpy(&eh, file, sizeof(eh));
		phoff = eh.e_phoff, entry = eh.e_entry, phnum = eh.e_phnum;
		phentsize = eh.e_phentsize, machine = eh.e_machine, type = eh.e_type;
	} else {
		Elf32_Ehdr eh;
		memcpy(&eh, file, sizeof(eh));
		phoff = eh.e_phoff, entry = eh.e_entry, phnum = eh.e_phnum;
		phentsize = eh.e_phentsize, machine = eh.e_machine, type = eh.e_type;
	}
	if (machine != EM_386 && machine != EM_X86_64) {
		vmm_error_set(err, "%s: ELF machine %u is not x86", path, machine);
		return -ENOEXEC;
	}
	if (type != ET_EXEC) {
		vmm_error_set(err, "%s: ELF type %u is not an executable (ET_EXEC)", path, type);
		return -ENOEXEC;
	}
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum == 0) {
		vmm_error_set(err, "%s: bad program header table (entry size %u, %u entries)", path,
			      phentsize, phnum);
		return -ENOEXEC;
	}
	if (phoff > len || (uint64_t)phnum * phentsize > len - phoff) {
		vmm_error_set(err, "%s: program headers at 0x%llx (%u x %u bytes) lie outside the "
			      "%zu-byte file", path, (unsigned long long)phoff, phnum, phentsize, len);
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr ph;
		int rc;

		read_phdr(file + phoff + (uint64_t)i * phentsize, is64, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		rc = add_segment(img, ph.paddr, ph.filesz, ph.memsz, ph.offset, len, ram_size, path, i, err);
		if (rc)
			return rc;
		/* e_entry is a virtual address; the CPU starts with paging off. */
		if (!entry_found && entry >= ph.vaddr && entry - ph.vaddr < ph.memsz) {
			img->entry = entry - ph.vaddr + ph.paddr;
			entry_found = true;
		}
	}
	if (img->nseg == 0) {
		vmm_error_set(err, "%s: no loadable (PT_LOAD) segment", path);
		return -ENOEXEC;
	}
	if (!entry_found) {
		vmm_error_set(err, "%s: entry point 0x%llx is not inside any loaded segment", path,
			      (unsigned long long)entry);
		return -ENOEXEC;
	}
	return 0;
}

/* The a.out kludge: the header says where the image goes. */
static int parse_addr_fields(const uint8_t *file, size_t len, long hoff, uint64_t ram_size,
			     const char *path, struct vmm_mb_image *img, struct vmm_error *err)
{
	const uint8_t *h = file + hoff;
	uint32_t header_addr, load_addr, load_end, bss_end, entry;
	uint64_t filesz, memsz, offset;
	int rc;

	if ((size_t)hoff + 32 > len) {
		vmm_error_set(err, "%s: Multiboot header address fields truncated", path);
		return -ENOEXEC;
	}
	header_addr = rd32(h + 12), load_addr = rd32(h + 16), load_end = rd32(h + 20);
	bss_end = rd32(h + 24), entry = rd32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > (uint64_t)hoff) {
		vmm_error_set(err, "%s: Multiboot load_addr 0x%x is inconsistent with header_addr 0x%x "
			      "at file offset 0x%lx", path, load_addr, header_addr, hoff);
		return -ENOEXEC;
	}
	offset = (uint64_t)hoff - (header_addr - load_addr);
	filesz = load_end ? (uint64_t)load_end - load_addr : len - offset;
	if (load_end && load_end < load_addr) {
		vmm_error_set(err, "%s: Multiboot load_end_addr 0x%x is below load_addr 0x%x", path,
			      load_end, load_addr);
		return -ENOEXEC;
	}
	memsz = filesz;
	if (bss_end) {
		if (bss_end < load_addr + filesz) {
			vmm_error_set(err, "%s: Multiboot bss_end_addr 0x%x is below the end of the image "
				      "0x%llx", path, bss_end, (unsigned long long)(load_addr + filesz));
			return -ENOEXEC;
		}
		memsz = (uint64_t)bss_end - load_addr;
	}
	rc = add_segment(img, load_addr, filesz, memsz, offset, len, ram_size, path, 0, err);
	if (rc)
		return rc;
	if (entry < load_addr || entry >= load_addr + memsz) {
		vmm_error_set(err, "%s: Multiboot entry_addr 0x%x is outside the image 0x%x-0x%llx",
			      path, entry, load_addr, (unsigned long long)(load_addr + memsz));
		return -ENOEXEC;
	}
	img->entry = entry;
	return 0;
}

int vmm_multiboot_parse(const uint8_t *file, size_t len, uint64_t ram_size, const char *path,
			struct vmm_mb_image *img, struct vmm_error *err)
{
	long hoff;
	uint32_t flags;
	bool is_elf = len >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0;
	int rc;

	memset(img, 0, sizeof(*img));
	hoff = find_header(file, len);
	if (hoff < 0) {
		vmm_error_set(err, "%s: no Multiboot header (magic 0x%08x) in the first %d bytes%s",
			      path, MB_MAGIC, MB_SEARCH,
			      is_elf ? "" : "; the file is not ELF either");
		return -ENOEXEC;
	}
	flags = rd32(file + hoff + 4);
	if ((uint32_t)(MB_MAGIC + flags + rd32(file + hoff + 8)) != 0) {
		vmm_error_set(err, "%s: Multiboot header at offset 0x%lx has a bad checksum "
			      "(magic + flags + checksum = 0x%08x, must be 0)", path, hoff,
			      (uint32_t)(MB_MAGIC + flags + rd32(file + hoff + 8)));
		return -ENOEXEC;
	}
	/* The specification: a loader must refuse required features (bits
	 * 0-15) it does not provide. Bit 0 asks for page-aligned modules;
	 * rrvm loads no modules, so it holds trivially. */
	if (flags & MB_FLAG_VIDEO) {
		vmm_error_set(err, "%s: the kernel requires a video mode (Multiboot flags bit 2); "
			      "rrvm has no display", path);
		return -ENOEXEC;
	}
	if (flags & 0xfff8u) {
		vmm_error_set(err, "%s: the kernel requires unknown Multiboot features (flags 0x%08x)",
			      path, flags);
		return -ENOEXEC;
	}
	img->header_flags = flags;
	if (is_elf)
		rc = parse_elf(file, len, ram_size, path, img, err);
	else if (flags & MB_FLAG_ADDR)
		rc = parse_addr_fields(file, len, hoff, ram_size, path, img, err);
	else {
		vmm_error_set(err, "%s: not an ELF file, and its Multiboot header has no address "
			      "fields (flags bit 16)", path);
		return -ENOEXEC;
	}
	if (rc)
		return rc;
	if (img->entry >= 0x100000000ull) {
		vmm_error_set(err, "%s: entry point 0x%llx is above 4 GiB: Multiboot starts in 32-bit mode",
			      path, (unsigned long long)img->entry);
		return -ENOEXEC;
	}
	return 0;
}

static void mmap_entry(uint8_t *p, uint64_t base, uint64_t len, uint32_t type)
{
	wr32(p, 20);            /* size of the rest of the entry */
	wr64(p + 4, base);
	wr64(p + 12, len);
	wr32(p + 20, type);
}

int vmm_multiboot_load(const struct vmm_mb_image *img, const uint8_t *file, uint8_t *ram,
		       uint64_t ram_size, const char *cmdline, uint32_t *info_addr,
		       struct vmm_error *err)
{
	uint64_t base = 0;
	uint8_t *info;
	uint64_t mmap_at, cmdline_at, loader_at;
	size_t cmdlen = cmdline ? strlen(cmdline) : 0;
	uint32_t flags = MBI_MEM | MBI_MMAP | MBI_LOADER;

	if (ram_size < HIGH_MEM + 0x100000) {
		vmm_error_set(err, "guest RAM of %llu bytes is too small for a Multiboot kernel",
			      (unsigned long long)ram_size);
		return -EINVAL;
	}
	/* QEMU's placement: the first page after the kernel's highest byte
	 * (it builds the info after the image and modules). Skip the
	 * firmware area; nothing of the kernel lies above it then. */
	for (unsigned i = 0; i < img->nseg; i++)
		if (img->seg[i].paddr + img->seg[i].memsz > base)
			base = img->seg[i].paddr + img->seg[i].memsz;
	base = (base + 0xfff) & ~0xfffull;
	if (base < VMM_FW_AREA_END && base + VMM_MB_INFO_SIZE > VMM_FW_AREA_BASE)
		base = VMM_FW_AREA_END;
	if (base + VMM_MB_INFO_SIZE > ram_size || base + VMM_MB_INFO_SIZE > 0x100000000ull) {
		vmm_error_set(err, "no room for the Multiboot information after the kernel (at 0x%llx, "
			      "%llu KiB, below 4 GiB and inside %llu MiB of RAM; try a larger --mem)",
			      (unsigned long long)base, VMM_MB_INFO_SIZE >> 10,
			      (unsigned long long)(ram_size >> 20));
		return -ENOSPC;
	}
	info = ram + base;
	mmap_at = base + 128, cmdline_at = base + 256;
	loader_at = base + VMM_MB_INFO_SIZE - 16;
	if (cmdlen + 1 > loader_at - cmdline_at) {
		vmm_error_set(err, "kernel command line of %zu bytes is too long (at most %llu)", cmdlen,
			      (unsigned long long)(loader_at - cmdline_at - 1));
		return -E2BIG;
	}
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct vmm_mb_segment *s = &img->seg[i];
		/* parse() proved both ranges; re-check so a caller's mistake
		 * cannot turn into a write outside guest RAM. */
		if (s->paddr > ram_size || s->memsz > ram_size - s->paddr || s->filesz > s->memsz) {
			vmm_error_set(err, "internal: segment %u does not fit guest RAM", i);
			return -EINVAL;
		}
		memcpy(ram + s->paddr, file + s->offset, s->filesz);
		memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}

	memset(info, 0, VMM_MB_INFO_SIZE);
	wr32(info + 4, (uint32_t)(LOW_MEM_END / 1024));                 /* mem_lower, KiB */
	wr32(info + 8, (uint32_t)((ram_size - HIGH_MEM) / 1024));       /* mem_upper, KiB */
	if (cmdline) {
		flags |= MBI_CMDLINE;
		memcpy(ram + cmdline_at, cmdline, cmdlen + 1);
		wr32(info + 16, (uint32_t)cmdline_at);
	}
	/* Memory map: conventional memory, the legacy hole, then RAM above 1 MiB. */
	mmap_entry(ram + mmap_at, 0, LOW_MEM_END, 1);
	mmap_entry(ram + mmap_at + 24, LOW_MEM_END, HIGH_MEM - LOW_MEM_END, 2);
	mmap_entry(ram + mmap_at + 48, HIGH_MEM, ram_size - HIGH_MEM, 1);
	wr32(info + 44, 3 * 24);                                         /* mmap_length */
	wr32(info + 48, (uint32_t)mmap_at);                              /* mmap_addr */
	memcpy(ram + loader_at, "rrvm", 5);
	wr32(info + 64, (uint32_t)loader_at);                            /* boot_loader_name */
	wr32(info, flags);
	*info_addr = (uint32_t)base;
	return 0;
}
