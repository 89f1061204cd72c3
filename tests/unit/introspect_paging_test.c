/*
 * introspect_paging_test.c — translation and the raw walk in every paging
 * mode, on page tables built in 8 MiB of fake guest RAM: page sizes, flags
 * combined across levels, NX with and without EFER.NXE, reserved bits per
 * mode, MAXPHYADDR, non-canonical addresses and tables outside RAM.
 */
#include <errno.h>
#include <string.h>

#include "introspect/testguest.h"
#include "tests/unit/tap.h"

#define RAM (8u << 20)

static char text[4096];

static void diag_lines(const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");

		printf("# %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

static const char *walk_text(const struct introspect_walk *w)
{
	struct introspect_out o;

	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_walk(w, &o);
	return text;
}

static const char *tr_text(const struct introspect_walk *w)
{
	struct introspect_out o;

	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_translation(w, &o);
	return text;
}

static void test_modes(void)
{
	struct introspect_cpu c = { 0 };

	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_NONE, "PG=0: no paging");
	c.cr0 = 0x80000001;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_32, "PG, no PAE: 32-bit");
	c.cr4 = 0x20;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_PAE, "PAE without LMA: PAE");
	c.efer = 0x500;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_4LEVEL, "LMA: 4-level");
	c.cr4 |= 0x1000;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_5LEVEL, "LA57: 5-level");
	c.cr4 = 0;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_INVALID, "LMA without PAE is invalid");
	c.cr0 = 0x80000000;
	c.efer = 0;
	is_int(introspect_paging_mode(&c), INTROSPECT_PAGING_INVALID, "PG without PE is invalid");
	{
		struct introspect_walk w;
		struct tg g;
		struct introspect_mem m;

		tg_init(&g, RAM);
		m = tg_mem(&g);
		is_int(introspect_translate(&c, &m, 0x1000, &w), -EINVAL, "invalid mode: -EINVAL");
		is_int(w.fault, INTROSPECT_FAULT_BAD_MODE, "invalid mode: fault BAD_MODE");
		c = tg_cpu(INTROSPECT_PAGING_NONE, 0, 0);
		is_int(introspect_translate(&c, &m, 0x12345678, &w), 0, "paging off translates");
		is_int(w.pa, 0x12345678, "paging off: identity");
		tg_free(&g);
	}
}

static void test_4level(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_walk w;
	struct introspect_cpu c;
	uint64_t root, e;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_4LEVEL, root, 1);

	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x400000, 0x7000, 1, TG_RW | TG_G | TG_A | TG_D);
	is_int(introspect_translate(&c, &m, 0x400123, &w), 0, "4K page translates");
	is_int(w.pa, 0x7123, "4K: pa = page + offset");
	is_int(w.page_size, 4096, "4K: page size");
	is_int(w.leaf_level, 1, "4K: leaf at PTE");
	is_int(w.nsteps, 4, "4K: 4 levels walked");
	is_int(w.flags, INTROSPECT_F_W | INTROSPECT_F_G | INTROSPECT_F_A | INTROSPECT_F_D,
	       "4K: W G A D flags, supervisor (leaf US=0)");
	ok(strstr(walk_text(&w), "PML4E[   0]") && strstr(text, "PTE  [   0]") &&
	   strstr(text, "-> 4K page 0x7000") && strstr(text, "P RW A D G"),
	   "raw walk shows every level and decoded bits");
	diag_lines(text);

	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0xffffffff80000000ull, 0x200000, 2, TG_RW);
	is_int(introspect_translate(&c, &m, 0xffffffff80012345ull, &w), 0, "2M page translates");
	is_int(w.pa, 0x212345, "2M: pa");
	is_int(w.page_size, 2u << 20, "2M: page size");
	is_int(w.steps[0].index, 511, "2M: PML4 index 511");
	is_int(w.steps[1].index, 510, "2M: PDPT index 510");
	is_int(w.flags & INTROSPECT_F_U, 0, "2M: leaf without US is supervisor");
	ok(strstr(tr_text(&w), "-> 0x212345 (2M page") != NULL, "translation text");

	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x40000000, 0x80000000ull, 3, TG_RW | TG_US);
	is_int(introspect_translate(&c, &m, 0x4abcdef0, &w), 0, "1G page translates");
	is_int(w.pa, 0x8abcdef0ull, "1G: pa");
	is_int(w.page_size, 1u << 30, "1G: page size");
	is_int(w.leaf_level, 3, "1G: leaf at PDPTE");

	/* PAT bit: bit 7 in a 4K PTE, bit 12 in a large page. */
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x401000, 0x8000, 1, TG_PS | TG_PWT | TG_PCD);
	is_int(introspect_translate(&c, &m, 0x401000, &w), 0, "4K with PAT bit translates");
	is_int(w.flags & (INTROSPECT_F_PAT | INTROSPECT_F_PWT | INTROSPECT_F_PCD),
	       INTROSPECT_F_PAT | INTROSPECT_F_PWT | INTROSPECT_F_PCD, "4K: PAT (bit 7), PWT, PCD");
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x600000, 0x400000 | (1u << 12), 2, 0);
	is_int(introspect_translate(&c, &m, 0x600000, &w), 0, "2M with PAT bit 12 translates");
	is_int(w.pa, 0x400000, "2M: bit 12 is PAT, not address");
	ok(w.flags & INTROSPECT_F_PAT, "2M: PAT flag");

	/* Permissions combine: R/W cleared at PDPTE, U/S at PDE, XD at PML4E. */
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x8000000000ull, 0x9000, 1, TG_RW | TG_US);
	is_int(introspect_translate(&c, &m, 0x8000000000ull, &w), 0, "PML4 slot 1 mapped");
	is_int(w.flags & (INTROSPECT_F_W | INTROSPECT_F_U | INTROSPECT_F_NX), INTROSPECT_F_W | INTROSPECT_F_U,
	       "all levels rw+user: W U, no NX");
	e = tg_entry(&g, INTROSPECT_PAGING_4LEVEL, root, 0x8000000000ull, 3);
	tg_w64(&g, e, tg_r64(&g, e) & ~TG_RW);
	introspect_translate(&c, &m, 0x8000000000ull, &w);
	is_int(w.flags & INTROSPECT_F_W, 0, "R/W=0 at PDPTE makes the page read-only");
	e = tg_entry(&g, INTROSPECT_PAGING_4LEVEL, root, 0x8000000000ull, 2);
	tg_w64(&g, e, tg_r64(&g, e) & ~TG_US);
	introspect_translate(&c, &m, 0x8000000000ull, &w);
	is_int(w.flags & INTROSPECT_F_U, 0, "U/S=0 at PDE makes the page supervisor");
	e = tg_entry(&g, INTROSPECT_PAGING_4LEVEL, root, 0x8000000000ull, 4);
	tg_w64(&g, e, tg_r64(&g, e) | TG_XD);
	is_int(introspect_translate(&c, &m, 0x8000000000ull, &w), 0, "XD at PML4E with NXE: mapped");
	ok(w.flags & INTROSPECT_F_NX, "XD at PML4E with NXE: NX");
	c.efer &= ~(1ull << 11);
	is_int(introspect_translate(&c, &m, 0x8000000000ull, &w), -EINVAL, "XD without NXE: fault");
	is_int(w.fault, INTROSPECT_FAULT_RESERVED, "XD without NXE: reserved bit");
	is_int(w.rsvd_bit, 63, "XD without NXE: bit 63 named");
	is_int(w.fault_level, 4, "XD without NXE: at PML4E");
	ok(strstr(tr_text(&w), "reserved bit 63 set in PML4E") != NULL, "reserved-bit text");
	ok(strstr(walk_text(&w), "XD(reserved: EFER.NXE=0)") != NULL, "raw walk flags XD as reserved");
	c.efer |= 1ull << 11;

	/* Not present at each level. */
	is_int(introspect_translate(&c, &m, 0x402000, &w), -ENOENT, "unmapped 4K: -ENOENT");
	is_int(w.fault_level, 1, "unmapped 4K: stops at PTE");
	is_int(introspect_translate(&c, &m, 0x10000000000ull, &w), -ENOENT, "empty PML4 slot");
	is_int(w.fault_level, 4, "empty PML4 slot: stops at PML4E");
	is_int(w.nsteps, 1, "empty PML4 slot: one step");
	ok(strstr(tr_text(&w), "not present at PML4E") != NULL, "not-present text");

	/* Reserved bits: PS in a PML4E, bits 29:13 of a 1G page, 20:13 of 2M. */
	e = tg_entry(&g, INTROSPECT_PAGING_4LEVEL, root, 0x8000000000ull, 4);
	tg_w64(&g, e, tg_r64(&g, e) | TG_PS);
	introspect_translate(&c, &m, 0x8000000000ull, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 7 && w.fault_level == 4,
	   "PS in PML4E is reserved");
	tg_w64(&g, e, tg_r64(&g, e) & ~TG_PS);
	e = tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x40000000, 0x80000000ull | (1u << 13), 3, 0);
	introspect_translate(&c, &m, 0x40000000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 13 && w.fault_level == 3,
	   "bit 13 of a 1G PDPTE is reserved");
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x40000000, 0x80000000ull | (1u << 29), 3, 0);
	introspect_translate(&c, &m, 0x40000000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 29, "bit 29 of a 1G PDPTE is reserved");
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x600000, 0x400000 | (1u << 20), 2, 0);
	introspect_translate(&c, &m, 0x600000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 20 && w.fault_level == 2,
	   "bit 20 of a 2M PDE is reserved");

	/* MAXPHYADDR: bit 45 is an address bit at 52, reserved at 40. */
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x403000, 1ull << 45, 1, 0);
	is_int(introspect_translate(&c, &m, 0x403000, &w), 0, "maxphyaddr 52 (default): bit 45 is address");
	is_int(w.pa, 1ull << 45, "bit 45 in pa");
	c.maxphyaddr = 40;
	introspect_translate(&c, &m, 0x403000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 45 && w.fault_level == 1,
	   "maxphyaddr 40: bit 45 reserved in PTE");
	c.maxphyaddr = 0;
	/* Bits 62:52 are ignored (software-available) in long mode. */
	tg_map(&g, INTROSPECT_PAGING_4LEVEL, root, 0x403000, 0xa000 | (1ull << 55), 1, 0);
	is_int(introspect_translate(&c, &m, 0x403000, &w), 0, "bit 55 is ignored in long mode");
	is_int(w.pa, 0xa000, "ignored bit not in pa");

	/* Non-canonical. */
	is_int(introspect_translate(&c, &m, 0x0000800000000000ull, &w), -ERANGE, "non-canonical: -ERANGE");
	is_int(w.fault, INTROSPECT_FAULT_NONCANONICAL, "non-canonical fault");
	is_int(w.nsteps, 0, "non-canonical: no table read");
	is_int(introspect_translate(&c, &m, 0xffff7fffffffffffull, &w), -ERANGE, "non-canonical high");

	/* Tables outside guest RAM: a PML4E pointing past the end, and CR3. */
	e = tg_entry(&g, INTROSPECT_PAGING_4LEVEL, root, 0x18000000000ull, 4);
	tg_w64(&g, e, 0x40000000ull | TG_P | TG_RW);
	is_int(introspect_translate(&c, &m, 0x18000000000ull, &w), -EFAULT, "PDPT outside RAM: -EFAULT");
	ok(w.fault == INTROSPECT_FAULT_BAD_TABLE && w.fault_level == 3 && !w.steps[1].read_ok,
	   "PDPT outside RAM: BAD_TABLE at PDPTE, not read");
	is_int(w.steps[1].entry_gpa, 0x40000000ull, "entry address outside RAM reported");
	ok(strstr(walk_text(&w), "outside guest RAM") != NULL, "raw walk says outside guest RAM");
	c.cr3 = 0x7ffff000;
	is_int(introspect_translate(&c, &m, 0x400000, &w), -EFAULT, "CR3 outside RAM: -EFAULT");
	is_int(w.fault_level, 4, "CR3 outside RAM: fails at PML4E");
	tg_free(&g);
}

static void test_5level(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_walk w;
	struct introspect_cpu c;
	uint64_t root;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_5LEVEL, root, 1);
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0xff00000000001000ull, 0x5000, 1, TG_RW);
	is_int(introspect_translate(&c, &m, 0xff00000000001abcull, &w), 0, "5-level 4K translates");
	is_int(w.pa, 0x5abc, "5-level pa");
	is_int(w.nsteps, 5, "5-level: 5 steps");
	is_int(w.steps[0].index, 256, "PML5 index 256");
	ok(strstr(walk_text(&w), "PML5E[ 256]") != NULL, "raw walk names PML5E");
	/* Canonical in 57 bits, not in 48. */
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0x0000800000000000ull, 0x600000, 2, 0);
	is_int(introspect_translate(&c, &m, 0x0000800000000000ull, &w), 0, "0x800000000000 canonical with LA57");
	is_int(w.pa, 0x600000, "5-level 2M page base");
	is_int(introspect_translate(&c, &m, 0x0100000000000000ull, &w), -ERANGE, "bit 56 set alone: non-canonical");
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0x0001000000000000ull, 0, 1, 0);
	{
		uint64_t e = tg_entry(&g, INTROSPECT_PAGING_5LEVEL, root, 0x0001000000000000ull, 5);

		tg_w64(&g, e, tg_r64(&g, e) | TG_PS);
	}
	introspect_translate(&c, &m, 0x0001000000000000ull, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.fault_level == 5 && w.rsvd_bit == 7,
	   "PS in PML5E is reserved");
	tg_free(&g);
}

static void test_32bit(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_walk w;
	struct introspect_cpu c;
	uint64_t root, e;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_32, root, 1);
	tg_map(&g, INTROSPECT_PAGING_32, root, 0xc0001000, 0x3000, 1, TG_RW | TG_D);
	is_int(introspect_translate(&c, &m, 0xc0001234, &w), 0, "32-bit 4K translates");
	is_int(w.pa, 0x3234, "32-bit 4K pa");
	is_int(w.nsteps, 2, "32-bit: 2 levels");
	is_int(w.steps[0].index, 0x300, "32-bit PDE index 0x300");
	is_int(w.steps[0].entry_gpa, root + 0x300 * 4, "32-bit: 4-byte entries");
	ok(w.flags & INTROSPECT_F_D, "32-bit D flag");

	e = tg_map(&g, INTROSPECT_PAGING_32, root, 0x00400000, 0x00c00000, 2, TG_RW);
	is_int(introspect_translate(&c, &m, 0x00512345, &w), 0, "32-bit 4M page with PSE");
	is_int(w.pa, 0x00d12345, "4M pa");
	is_int(w.page_size, 4u << 20, "4M page size");
	/* PSE-36/40: PDE bits 20:13 are PA bits 39:32. */
	tg_w32(&g, e, 0x00c00000 | (0x5u << 13) | TG_P | TG_PS);
	is_int(introspect_translate(&c, &m, 0x00400010, &w), 0, "PSE-36 high bits");
	is_int(w.pa, 0x500c00010ull, "PSE-36: PA bits 34:32 from PDE bits 15:13");
	tg_w32(&g, e, 0x00c00000 | (1u << 21) | TG_P | TG_PS);
	introspect_translate(&c, &m, 0x00400000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 21, "4M PDE bit 21 reserved");
	c.maxphyaddr = 36;
	tg_w32(&g, e, 0x00c00000 | (1u << 17) | TG_P | TG_PS);
	introspect_translate(&c, &m, 0x00400000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 17, "maxphyaddr 36: 4M PDE bit 17 reserved");
	c.maxphyaddr = 0;
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
	c.cr4 = 0;
	tg_w32(&g, e, 0x00200000 | TG_P | TG_PS);
	tg_w32(&g, 0x00200000 + 0x100 * 4, 0x9000 | TG_P);
	is_int(introspect_translate(&c, &m, 0x00500000, &w), 0, "PSE=0: PS ignored, PDE is a table");
	is_int(w.pa, 0x9000, "PSE=0: translated through the page table");
	is_int(w.page_size, 4096, "PSE=0: 4K page");
	c.cr4 = 0x10;
	/* No XD in 32-bit paging: bit 63 cannot exist; addresses are 32 bits. */
	is_int(introspect_translate(&c, &m, 0x100000000ull, &w), -ERANGE, "32-bit: VA above 4G");
	is_int(w.fault, INTROSPECT_FAULT_VA_RANGE, "32-bit: VA_RANGE fault");
	ok(strstr(walk_text(&w), "va 0x") && strstr(text, "32-bit paging"), "32-bit walk text");
	tg_free(&g);
}

static void test_pae(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_walk w;
	struct introspect_cpu c;
	uint64_t root, e;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g) + 0x20;   /* PDPT need only be 32-byte aligned */
	c = tg_cpu(INTROSPECT_PAGING_PAE, root, 1);
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0xc0001000, 0x3000, 1, TG_RW | TG_US);
	is_int(introspect_translate(&c, &m, 0xc0001008, &w), 0, "PAE 4K translates");
	is_int(w.pa, 0x3008, "PAE 4K pa");
	is_int(w.nsteps, 3, "PAE: 3 levels");
	is_int(w.steps[0].index, 3, "PAE: PDPT index 3");
	is_int(w.steps[0].entry_gpa, root + 24, "PAE: PDPT at CR3 & ~0x1f");
	is_int(w.flags & (INTROSPECT_F_W | INTROSPECT_F_U), INTROSPECT_F_W | INTROSPECT_F_U,
	       "PAE: PDPTE does not restrict R/W, U/S");
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0x00200000, 0x00600000, 2, TG_XD);
	is_int(introspect_translate(&c, &m, 0x00234567, &w), 0, "PAE 2M translates");
	is_int(w.pa, 0x00634567, "PAE 2M pa");
	ok(w.flags & INTROSPECT_F_NX, "PAE XD with NXE: NX");
	c.efer = 0;
	introspect_translate(&c, &m, 0x00234567, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 63, "PAE XD without NXE: reserved");
	c.efer = 1ull << 11;
	/* PDPTE reserved bits 2:1 (R/W is reserved there). */
	e = root + 3 * 8;
	tg_w64(&g, e, tg_r64(&g, e) | TG_RW);
	introspect_translate(&c, &m, 0xc0001000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 1 && w.fault_level == 3,
	   "PAE PDPTE bit 1 reserved");
	tg_w64(&g, e, tg_r64(&g, e) & ~TG_RW);
	/* PAE: bits 62:MAXPHYADDR reserved even in PTEs (unlike long mode). */
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0xc0002000, 0x4000 | (1ull << 55), 1, 0);
	introspect_translate(&c, &m, 0xc0002000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 55, "PAE: bit 55 reserved in PTE");
	/* PDPTE registers given by the VMM win over memory. */
	c.pdpte_valid = 1;
	c.pdpte[3] = 0;
	is_int(introspect_translate(&c, &m, 0xc0001000, &w), -ENOENT, "PDPTE registers used");
	is_int(w.steps[0].entry_gpa, INTROSPECT_NO_GPA, "PDPTE register step has no gpa");
	ok(strstr(walk_text(&w), "PDPTE register") != NULL, "raw walk says PDPTE register");
	c.pdpte[3] = tg_r64(&g, root + 24);
	is_int(introspect_translate(&c, &m, 0xc0001000, &w), 0, "PDPTE registers: translates");
	c.pdpte_valid = 0;
	/* Bit 1 of a 2M PDE is R/W, not reserved; bit 13 of it is. */
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0x00400000, 0x00600000 | (1u << 13), 2, 0);
	introspect_translate(&c, &m, 0x00400000, &w);
	ok(w.fault == INTROSPECT_FAULT_RESERVED && w.rsvd_bit == 13 && w.fault_level == 2,
	   "PAE 2M bit 13 reserved");
	is_int(introspect_translate(&c, &m, 0x1c0001000ull, &w), -ERANGE, "PAE: VA above 4G");
	tg_free(&g);
}

static void test_out(void)
{
	char small[8];
	struct introspect_out o;

	introspect_out_buffer(&o, small, sizeof(small));
	introspect_printf(&o, "0123456789");
	is_str(small, "0123456", "buffer sink truncates and terminates");
	is_int(o.len, 10, "buffer sink counts all bytes");
	ok(introspect_out_truncated(&o), "truncation reported");
	introspect_out_buffer(&o, small, sizeof(small));
	introspect_printf(&o, "ab");
	introspect_printf(&o, "cd");
	is_str(small, "abcd", "buffer sink appends");
	ok(!introspect_out_truncated(&o), "no truncation when it fits");
}

int main(void)
{
	test_modes();
	test_4level();
	test_5level();
	test_32bit();
	test_pae();
	test_out();
	return tap_done();
}
