/*
 * introspect_view_test.c — the live view (introspect/view.c) on a real KVM
 * machine whose guest never runs: page tables, a GDT, an IDT and a TSS are
 * written into guest RAM from the host and the vCPU's control registers set
 * to use them, so every case is exact and fast. Covers translation (mapped,
 * guard page, non-canonical, table outside RAM, 1G page past the end of
 * RAM), all-or-nothing reads and writes across pages, the shadow's cache
 * (rrvm's own writes seen at once, others only after invalidate), every
 * monitor command with good and bad arguments, and symbols.
 * Needs /dev/kvm and samples/hello.elf (for a machine to create and for its
 * symbols); skipped without them. The dirty-log path (guest writes) is
 * covered end to end by tests/integration/paging.sh.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect/testguest.h"
#include "introspect/view.h"
#include "tests/unit/tap.h"

#define RAM (16u << 20)
#define ROOT_AT 0x800000u               /* where the test's tables start */
#define PG_RO_VA 0x403000ull
#define IDT_VA 0x405000ull              /* descriptor tables: one 4K page each */
#define GDT_VA 0x406000ull
#define TSS_VA 0x407000ull
#define IDT_PA 0x605000ull
#define GDT_PA 0x606000ull
#define TSS_PA 0x607000ull

static char text[1 << 16];

static const char *run(struct introspect_view *v, const char *cmd, int *handled)
{
	struct introspect_out o;
	int h;

	introspect_out_buffer(&o, text, sizeof(text));
	h = introspect_view_command(v, cmd, &o);
	if (handled)
		*handled = h;
	return text;
}

/* On failure, show the command output the check looked at. */
static void dump(const char *t)
{
	while (*t) {
		size_t n = strcspn(t, "\n");

		printf("#   | %.*s\n", (int)n, t);
		t += n + (t[n] == '\n');
	}
}

#define OKT(cond, ...)                          \
	do {                                    \
		if (!ok(cond, __VA_ARGS__))     \
			dump(text);             \
	} while (0)

static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Guest RAM image with 4-level tables built by testguest.h, copied in. */
static uint64_t build_tables(struct tg *g)
{
	enum introspect_paging m = INTROSPECT_PAGING_4LEVEL;
	uint64_t root;

	g->next = ROOT_AT;
	root = tg_alloc(g);
	tg_map(g, m, root, 0x400000, 0x600000, 1, TG_RW);
	tg_map(g, m, root, 0x401000, 0x700000, 1, TG_RW);             /* not contiguous */
	/* 0x402000: guard page, not mapped */
	tg_map(g, m, root, PG_RO_VA, 0x601000, 1, TG_XD);             /* read-only */
	tg_map(g, m, root, 0x404000, 0x40000000, 1, TG_RW);           /* page outside RAM */
	tg_map(g, m, root, IDT_VA, IDT_PA, 1, TG_RW);
	tg_map(g, m, root, GDT_VA, GDT_PA, 1, TG_RW);
	tg_map(g, m, root, TSS_VA, TSS_PA, 1, TG_RW);
	tg_map(g, m, root, 0x40000000, 0x200000, 2, TG_RW | TG_G);    /* 2M */
	tg_map(g, m, root, 0xffff800000000000ull, 0, 3, TG_RW);       /* 1G, past RAM */
	/* A PDE whose page table lies outside guest RAM. */
	tg_w64(g, tg_entry(g, m, root, 0x80000000, 2), 0x7000000000ull | TG_P | TG_RW);
	return root;
}

static void build_descriptors(struct tg *g, uint64_t handler, uint64_t stack_top)
{
	uint8_t *idt = g->ram + IDT_PA, *gdt = g->ram + GDT_PA, *tss = g->ram + TSS_PA;

	/* Vector 14 (#PF): 64-bit interrupt gate, selector 8, IST 2. */
	idt[14 * 16 + 0] = (uint8_t)handler;
	idt[14 * 16 + 1] = (uint8_t)(handler >> 8);
	idt[14 * 16 + 2] = 8;
	idt[14 * 16 + 4] = 2;
	idt[14 * 16 + 5] = 0x8e;
	idt[14 * 16 + 6] = (uint8_t)(handler >> 16);
	idt[14 * 16 + 7] = (uint8_t)(handler >> 24);
	w64(gdt + 8, 0x00af9b000000ffffull);
	w64(gdt + 16, 0x00cf93000000ffffull);
	w64(gdt + 24, 0x0000890000000067ull | ((TSS_VA & 0xffffff) << 16));
	w64(tss + 4, stack_top);                /* rsp0 */
	w64(tss + 36 + 8, 0x1234000);           /* ist2 */
	tss[102] = 104;
}

static int enter_long_mode(struct vmm *vm, uint64_t root)
{
	struct vmm_sregs s;

	if (vmm_get_sregs(vm, &s))
		return -1;
	s.cr0 |= 0x80000001ull;
	s.cr4 |= 1u << 5;
	s.efer |= (1ull << 8) | (1ull << 10) | (1ull << 11);
	s.cr3 = root;
	s.idt_base = IDT_VA;
	s.idt_limit = 256 * 16 - 1;
	s.gdt_base = GDT_VA;
	s.gdt_limit = 5 * 8 - 1;
	s.tr.selector = 0x18;
	s.tr.base = TSS_VA;
	s.tr.limit = 0x67;
	s.tr.type = 11;
	s.tr.present = 1;
	s.tr.s = 0;
	return vmm_set_sregs(vm, &s);
}

static void test_paging_off(struct introspect_view *v)
{
	uint64_t pa = 0;
	char why[128];
	uint8_t a[8], b[8];

	is_int(introspect_view_translate(v, 0x1234, &pa, why, sizeof(why)), 0, "paging off: mapped");
	is_int(pa, 0x1234, "paging off: identity");
	ok(strstr(run(v, "translate 0x1234", NULL), "(paging off)") != NULL, "translate says paging off");
	ok(introspect_view_read(v, 0x100000, a, 8, 0) == 0 && introspect_view_read(v, 0x100000, b, 8, 1) == 0 &&
	   memcmp(a, b, 8) == 0, "paging off: virtual reads are physical");
	is_int(introspect_view_read(v, RAM - 4, a, 8, 0), -EFAULT, "paging off: read past RAM");
}

static void test_translate(struct introspect_view *v)
{
	uint64_t pa = 0;
	char why[128];

	is_int(introspect_view_translate(v, 0x400123, &pa, why, sizeof(why)), 0, "4K mapped");
	is_int(pa, 0x600123, "4K target");
	is_int(introspect_view_translate(v, 0x40012345, &pa, why, sizeof(why)), 0, "2M mapped");
	is_int(pa, 0x212345, "2M target");
	is_int(introspect_view_translate(v, 0xffff800000400000ull, &pa, why, sizeof(why)), 0, "1G mapped");
	is_int(pa, 0x400000, "1G target");
	is_int(introspect_view_translate(v, 0x402000, &pa, why, sizeof(why)), -EFAULT, "guard page");
	is_str(why, "0x402000: not present at PTE", "guard page: level and reason");
	is_int(introspect_view_translate(v, 0x0000800000000000ull, &pa, why, sizeof(why)), -EFAULT,
	       "non-canonical");
	ok(strstr(why, "non-canonical") != NULL, "non-canonical named: %s", why);
	is_int(introspect_view_translate(v, 0x80000000, &pa, why, sizeof(why)), -EFAULT,
	       "table outside RAM");
	ok(strstr(why, "outside guest RAM") != NULL, "outside RAM named: %s", why);
	is_int(introspect_view_translate(v, 0x402000, &pa, NULL, 0), -EFAULT, "no why buffer");
}

static void test_read_write(struct introspect_view *v, struct vmm *vm)
{
	uint8_t buf[32], pat[32], chk[32];

	for (int i = 0; i < 32; i++)
		pat[i] = (uint8_t)(0xa0 + i);
	ok(vmm_write_phys(vm, 0x600ff0, pat, 16) == 0 && vmm_write_phys(vm, 0x700000, pat + 16, 16) == 0,
	   "seed two physical pages");
	is_int(introspect_view_read(v, 0x400ff0, buf, 32, 0), 0, "read across two 4K pages");
	ok(memcmp(buf, pat, 32) == 0, "the second page comes from its own frame");
	is_int(introspect_view_read(v, 0x401ff8, buf, 16, 0), -EFAULT, "read running into the guard page");
	memset(buf, 0x55, sizeof(buf));
	is_int(introspect_view_write(v, 0x401ff8, buf, 16, 0), -EFAULT, "write running into the guard page");
	ok(vmm_read_phys(vm, 0x700ff8, chk, 8) == 0 && memcmp(chk, buf, 8) != 0,
	   "all or nothing: the mapped half was not written");
	is_int(introspect_view_write(v, PG_RO_VA + 8, pat, 8, 0), 0, "debugger writes ignore R/W");
	ok(vmm_read_phys(vm, 0x601008, chk, 8) == 0 && memcmp(chk, pat, 8) == 0, "written through");
	is_int(introspect_view_read(v, 0x404000, buf, 8, 0), -EFAULT, "page outside RAM");
	is_int(introspect_view_read(v, 0xffff800000600000ull, buf, 8, 0), 0, "read inside a 1G page");
	is_int(introspect_view_read(v, 0xffff800002000000ull, buf, 8, 0), -EFAULT, "1G page past RAM");
	is_int(introspect_view_read(v, 0xfffffffffffffff0ull, buf, 32, 0), -EFAULT, "address wraps");
	is_int(introspect_view_read(v, 0x402000, buf, 0, 0), 0, "zero length");
	is_int(introspect_view_read(v, RAM - 8, buf, 8, 1), 0, "physical read at the end of RAM");
	is_int(introspect_view_read(v, RAM - 8, buf, 16, 1), -EFAULT, "physical read past RAM");
	is_int(introspect_view_write(v, RAM, buf, 1, 1), -EFAULT, "physical write past RAM");
}

/* rrvm's writes to a page table are seen at once; writes behind the view's
 * back only after invalidate (the shadow really serves the walk). */
static void test_shadow(struct introspect_view *v, struct vmm *vm, struct tg *g, uint64_t root)
{
	uint64_t pte = tg_entry(g, INTROSPECT_PAGING_4LEVEL, root, 0x400000, 1);
	uint64_t e = 0x650000 | TG_P | TG_RW, pa = 0;
	char why[128];

	introspect_view_refresh(v);
	is_int(introspect_view_translate(v, 0x400000, &pa, why, sizeof(why)), 0, "before the change");
	is_int(pa, 0x600000, "old target");
	is_int(introspect_view_write(v, pte, &e, 8, 1), 0, "rewrite the PTE through the view");
	is_int(introspect_view_translate(v, 0x400000, &pa, why, sizeof(why)), 0, "after it");
	is_int(pa, 0x650000, "the view's own write is seen");
	e = 0x660000 | TG_P | TG_RW;
	ok(vmm_write_phys(vm, pte, &e, 8) == 0, "rewrite it behind the view's back");
	ok(introspect_view_translate(v, 0x400000, &pa, why, sizeof(why)) == 0 && pa == 0x650000,
	   "the shadow still has the old table");
	introspect_view_invalidate(v);
	ok(introspect_view_translate(v, 0x400000, &pa, why, sizeof(why)) == 0 && pa == 0x660000,
	   "after invalidate the new table is read");
	ok(strstr(run(v, "shadow", NULL), "page-table pages cached") != NULL, "shadow statistics");
}

static void test_commands(struct introspect_view *v, uint64_t handler_addr)
{
	char big[700], want[64];
	const char *t;
	int h = -1;

	t = run(v, "pt", &h);
	OKT(h == 1 && strstr(t, "4-level paging") != NULL, "pt: mode line");
	OKT(strstr(t, "0000000040000000-00000000401fffff -> 0000000000200000      2M 2M rwx s G") != NULL,
	   "pt: the 2M page");
	OKT(strstr(t, "ffff800000000000-ffff80003fffffff -> 0000000000000000      1G 1G rwx s") != NULL,
	   "pt: the 1G page");
	OKT(strstr(t, "mapped:") != NULL && strstr(t, "skipped va 0x80000000") != NULL,
	   "pt: totals and the table outside RAM");
	t = run(v, "pt 0x403010", NULL);
	OKT(strstr(t, "0000000000403000-0000000000403fff -> 0000000000601000      4K 4K r-- s") == t,
	   "pt VA: the range holding VA");
	is_str(run(v, "pt 0x402000", NULL), "0x402000: not present at PTE\n", "pt VA: unmapped");
	t = run(v, "pt 0x400000 0x402000", NULL);
	OKT(strstr(t, "2 ranges") != NULL, "pt VA VA_END: restricted");
	OKT(strstr(run(v, "pt 5 3", NULL), "empty range") != NULL, "pt: empty range refused");
	OKT(strstr(run(v, "pt 1 2 3", NULL), "usage") != NULL, "pt: too many arguments");
	OKT(strstr(run(v, "pt --bogus", NULL), "usage") != NULL, "pt: unknown option");
	OKT(strstr(run(v, "pt --no-ad", NULL), "4-level paging") != NULL, "pt --no-ad");
	t = run(v, "pt --raw 0x400000", NULL);
	OKT(strstr(t, "PML4E") && strstr(t, "PDPTE") && strstr(t, "PTE") && strstr(t, "=> 0x400000 -> "),
	   "pt --raw: every level");
	OKT(strstr(run(v, "pt --raw", NULL), "usage: pt --raw VA") != NULL, "pt --raw without VA");
	OKT(strstr(run(v, "translate 0xzz", NULL), "bad address '0xzz'") != NULL, "translate: bad number");
	OKT(strstr(run(v, "translate no_such_symbol", NULL), "bad address") != NULL,
	   "translate: unknown symbol");
	snprintf(want, sizeof(want), "0x%llx: not present", (unsigned long long)handler_addr);
	OKT(strstr(run(v, "translate kmain", NULL), want) == text, "translate SYMBOL");
	OKT(strstr(run(v, "translate", NULL), "usage") != NULL, "translate without VA");
	t = run(v, "idt", NULL);
	OKT(strstr(t, " 14 #PF  int64") != NULL && strstr(t, "ist=2") && strstr(t, "<kmain>"),
	   "idt: #PF gate symbolised");
	t = run(v, "gdt", NULL);
	OKT(strstr(t, "0x0008 code64") && strstr(t, "0x0018 tss64") && strstr(t, "tr=0x18"),
	   "gdt: code and TSS descriptors");
	t = run(v, "tss", NULL);
	OKT(strstr(t, "TR 0x18: base 0x407000") && strstr(t, "rsp0=") && strstr(t, "<kmain+0x") &&
	   strstr(t, "ist2=0x1234000\n"), "tss: rsp0 symbolised, ist2 (outside every symbol) not");
	t = run(v, "cr", NULL);
	OKT(strstr(t, "cr0=0x8") && strstr(t, "PG") && strstr(t, "paging: 4-level") && strstr(t, "cr2="),
	   "cr: bits and mode");
	OKT(strstr(run(v, "idt now", NULL), "takes no arguments") != NULL, "idt with an argument");
	run(v, "continue", &h);
	OKT(h == 0 && text[0] == '\0', "not an introspection command: nothing written");
	run(v, "ptx", &h);
	is_int(h, 0, "a longer word is not pt");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "pt ", 3);
	OKT(strstr(run(v, big, &h), "longer than") != NULL && h == 1, "over-long command refused");
	OKT(strstr(run(v, "pt 1 2 3 4 5 6 7 8 9", NULL), "too many arguments") != NULL, "too many words");
	OKT(strstr(run(v, "  translate   0x400000  ", NULL), "0x400000 -> 0x") == text, "extra blanks");
	t = introspect_view_help();
	OKT(t && strstr(t, "translate VA") && t[strlen(t) - 1] == '\n', "help");
}

/* Random command lines from a vocabulary that reaches every parser path:
 * whatever they say, the view answers in text and never crashes (the
 * sanitizer build makes "never" mean something). */
static void test_fuzz(struct introspect_view *v)
{
	static const char *const words[] = {
		"pt", "translate", "idt", "gdt", "tss", "cr", "shadow", "--raw", "--no-ad", "--",
		"0x", "0x400000", "0xffffffffffffffff", "18446744073709551616", "-1", "kmain",
		"0x402000", "0x0000800000000000", "99999999999999999999999", "", "\t", "x",
	};
	const size_t nw = sizeof(words) / sizeof(words[0]);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int handled = 0, all = 1;

	for (int i = 0; i < 3000; i++) {
		char cmd[256] = "";
		int h, nwords;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		nwords = 1 + (int)(x % 5);
		for (int k = 0; k < nwords; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			strncat(cmd, words[x % nw], sizeof(cmd) - strlen(cmd) - 2);
			strcat(cmd, " ");
		}
		run(v, cmd, &h);
		handled += h;
		if (h && text[0] == '\0')
			all = 0;
	}
	ok(handled > 1000, "3000 random command lines: %d handled", handled);
	ok(all, "every handled command said something");
}

/* A PML4 slot pointing at the PML4 itself (recursive mapping, or a hostile
 * loop): the list ends, bounded, and says what it saw. */
static void test_recursive(struct introspect_view *v, struct vmm *vm, uint64_t root)
{
	uint64_t e = root | TG_P | TG_RW, zero = 0;
	const char *t;

	ok(introspect_view_write(v, root + 511 * 8, &e, 8, 1) == 0, "PML4[511] -> PML4");
	t = run(v, "pt", NULL);
	OKT(strstr(t, "4-level paging") && strstr(t, "mapped:"), "pt over a recursive PML4 ends");
	t = run(v, "translate 0xffffff8000002000", NULL);
	OKT(strstr(t, "0xffffff8000002000 -> 0x") == t, "through the recursive slot, a page table is a page");
	ok(introspect_view_write(v, root + 511 * 8, &zero, 8, 1) == 0, "slot cleared again");
}

int main(void)
{
	const char *top = getenv("top_builddir");
	char kernel[4096];
	struct vmm_config cfg = { 0 };
	struct vmm_error err = { "" };
	struct vmm *vm = NULL;
	struct introspect_view *v, *v2;
	struct tg g;
	uint64_t root, kmain_addr = 0;

	snprintf(kernel, sizeof(kernel), "%s/samples/hello.elf", top ? top : ".");
	if (access("/dev/kvm", R_OK | W_OK) != 0 || access(kernel, R_OK) != 0) {
		printf("1..0 # SKIP needs /dev/kvm and %s\n", kernel);
		return 0;
	}
	cfg.mem_size = RAM;
	cfg.kernel_path = kernel;
	if (vmm_create(&cfg, &vm, &err)) {
		printf("1..0 # SKIP cannot create a machine: %s\n", err.msg);
		return 0;
	}
	v = introspect_view_new(vm, kernel);
	ok(v != NULL, "view created");
	ok(introspect_view_symbols(v) != NULL, "kernel symbols loaded");
	ok(introspect_symtab_find(introspect_view_symbols(v), "kmain", &kmain_addr) == 0, "kmain found");
	test_paging_off(v);

	tg_init(&g, RAM);
	root = build_tables(&g);
	build_descriptors(&g, kmain_addr, kmain_addr + 0x10);
	ok(vmm_write_phys(vm, ROOT_AT, g.ram + ROOT_AT, g.next - ROOT_AT) == 0 &&
	   vmm_write_phys(vm, IDT_PA, g.ram + IDT_PA, 3 * 4096) == 0, "tables written to guest RAM");
	ok(enter_long_mode(vm, root) == 0, "vCPU set to 4-level paging");
	introspect_view_refresh(v);
	test_translate(v);
	test_read_write(v, vm);
	test_commands(v, kmain_addr);
	test_shadow(v, vm, &g, root);
	test_recursive(v, vm, root);
	test_fuzz(v);

	v2 = introspect_view_new(vm, NULL);
	ok(v2 && introspect_view_symbols(v2) == NULL, "no kernel: no symbols");
	ok(v2 && strstr(run(v2, "idt", NULL), "not symbolised: no kernel ELF given") != NULL,
	   "idt says why there are no symbols");
	introspect_view_free(v2);
	v2 = introspect_view_new(vm, "/nonexistent/kernel.elf");
	ok(v2 && introspect_view_symbols(v2) == NULL, "unreadable kernel: a view without symbols");
	ok(v2 && strstr(run(v2, "translate kmain", NULL), "no symbols loaded") != NULL,
	   "symbol lookups say there are no symbols");
	introspect_view_free(v2);
	introspect_view_free(v);
	introspect_view_free(NULL);
	tg_free(&g);
	vmm_destroy(vm);
	return tap_done();
}
