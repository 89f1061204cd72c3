/*
 * cregs.c — control registers and EFER decoded bit by bit, for `monitor cr`
 * and for anyone who wants the names as data (introspect_reg_bits()).
 * Unknown set bits are shown as "bitN" rather than dropped, so a guest that
 * sets something new is visible.
 */
#include <stddef.h>

#include "introspect/internal.h"

static const struct introspect_bitname cr0_bits[] = {
	{ 0, "PE", "protection enable" },
	{ 1, "MP", "monitor coprocessor" },
	{ 2, "EM", "x87 emulation" },
	{ 3, "TS", "task switched" },
	{ 4, "ET", "extension type" },
	{ 5, "NE", "numeric error" },
	{ 16, "WP", "write protect: supervisor writes honour R/W" },
	{ 18, "AM", "alignment mask" },
	{ 29, "NW", "not write-through" },
	{ 30, "CD", "cache disable" },
	{ 31, "PG", "paging" },
};

static const struct introspect_bitname cr3_bits[] = {
	{ 3, "PWT", "page-level write-through (without PCIDE)" },
	{ 4, "PCD", "page-level cache disable (without PCIDE)" },
	{ 61, "LAM_U57", "linear address masking, user, 57-bit" },
	{ 62, "LAM_U48", "linear address masking, user, 48-bit" },
};

static const struct introspect_bitname cr4_bits[] = {
	{ 0, "VME", "virtual-8086 mode extensions" },
	{ 1, "PVI", "protected-mode virtual interrupts" },
	{ 2, "TSD", "RDTSC at CPL0 only" },
	{ 3, "DE", "debugging extensions" },
	{ 4, "PSE", "4M pages in 32-bit paging" },
	{ 5, "PAE", "physical address extension" },
	{ 6, "MCE", "machine-check enable" },
	{ 7, "PGE", "global pages" },
	{ 8, "PCE", "RDPMC at any CPL" },
	{ 9, "OSFXSR", "FXSAVE/FXRSTOR and SSE" },
	{ 10, "OSXMMEXCPT", "unmasked SIMD FP exceptions" },
	{ 11, "UMIP", "user-mode instruction prevention" },
	{ 12, "LA57", "5-level paging" },
	{ 13, "VMXE", "VMX enable" },
	{ 14, "SMXE", "SMX enable" },
	{ 16, "FSGSBASE", "RDFSBASE and friends" },
	{ 17, "PCIDE", "process-context identifiers" },
	{ 18, "OSXSAVE", "XSAVE and XCR0" },
	{ 19, "KL", "key locker" },
	{ 20, "SMEP", "supervisor-mode execution prevention" },
	{ 21, "SMAP", "supervisor-mode access prevention" },
	{ 22, "PKE", "protection keys, user pages" },
	{ 23, "CET", "control-flow enforcement" },
	{ 24, "PKS", "protection keys, supervisor pages" },
	{ 25, "UINTR", "user interrupts" },
	{ 28, "LAM_SUP", "linear address masking, supervisor" },
};

static const struct introspect_bitname efer_bits[] = {
	{ 0, "SCE", "SYSCALL/SYSRET" },
	{ 8, "LME", "long mode enable" },
	{ 10, "LMA", "long mode active" },
	{ 11, "NXE", "no-execute pages" },
	{ 12, "SVME", "SVM enable" },
	{ 13, "LMSLE", "long mode segment limits" },
	{ 14, "FFXSR", "fast FXSAVE/FXRSTOR" },
	{ 15, "TCE", "translation cache extension" },
	{ 21, "AUTOIBRS", "automatic IBRS" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CR4_PCIDE (1ull << 17)

const struct introspect_bitname *introspect_reg_bits(enum introspect_reg r, size_t *n)
{
	switch (r) {
	case INTROSPECT_CR0: *n = N(cr0_bits); return cr0_bits;
	case INTROSPECT_CR3: *n = N(cr3_bits); return cr3_bits;
	case INTROSPECT_CR4: *n = N(cr4_bits); return cr4_bits;
	case INTROSPECT_EFER: *n = N(efer_bits); return efer_bits;
	}
	*n = 0;
	return NULL;
}

static void named_bits(const struct introspect_bitname *t, size_t n, uint64_t v,
		       struct introspect_out *o)
{
	uint64_t known = 0;

	for (size_t i = 0; i < n; i++) {
		known |= 1ull << t[i].bit;
		if (v & (1ull << t[i].bit))
			introspect_printf(o, " %s", t[i].name);
	}
	for (unsigned b = 0; b < 64; b++)
		if ((v & ~known) & (1ull << b))
			introspect_printf(o, " bit%u", b);
}

void introspect_format_reg(enum introspect_reg r, uint64_t v, uint64_t cr4_for_cr3,
			   struct introspect_out *o)
{
	static const char *const names[] = { "cr0", "cr3", "cr4", "efer" };
	size_t n;
	const struct introspect_bitname *t = introspect_reg_bits(r, &n);

	if (!t) {
		introspect_printf(o, "unknown register %d\n", (int)r);
		return;
	}
	introspect_printf(o, "%s=0x%llx", names[r], (unsigned long long)v);
	if (r == INTROSPECT_CR3) {
		introspect_printf(o, " base=0x%llx", (unsigned long long)(v & BITS(51, 12)));
		if (cr4_for_cr3 & CR4_PCIDE) {
			introspect_printf(o, " pcid=0x%llx", (unsigned long long)(v & 0xfff));
			named_bits(cr3_bits + 2, 2, v & BITS(63, 52), o);
		} else {
			named_bits(cr3_bits, n, v & ~BITS(51, 12), o);
		}
	} else {
		named_bits(t, n, v, o);
	}
	introspect_printf(o, "\n");
}

void introspect_format_cpu(const struct introspect_cpu *cpu, struct introspect_out *o)
{
	enum introspect_paging mode = introspect_paging_mode(cpu);
	int wp = !!(cpu->cr0 & (1ull << 16));
	int smep = !!(cpu->cr4 & (1ull << 20));
	int smap = !!(cpu->cr4 & (1ull << 21));
	int nxe = !!(cpu->efer & (1ull << 11));

	introspect_format_reg(INTROSPECT_CR0, cpu->cr0, cpu->cr4, o);
	introspect_format_reg(INTROSPECT_CR3, cpu->cr3, cpu->cr4, o);
	introspect_format_reg(INTROSPECT_CR4, cpu->cr4, cpu->cr4, o);
	introspect_format_reg(INTROSPECT_EFER, cpu->efer, cpu->cr4, o);
	introspect_printf(o, "paging: %s, MAXPHYADDR %u\n", introspect_paging_name(mode),
			  cpu->maxphyaddr ? cpu->maxphyaddr : 52);
	introspect_printf(o, "WP=%d: %s\n", wp,
			  wp ? "supervisor writes to read-only pages fault"
			     : "supervisor writes ignore R/W (read-only pages are writable at CPL0)");
	introspect_printf(o, "SMEP=%d: %s\n", smep,
			  smep ? "supervisor execution of user pages faults"
			       : "supervisor may execute user pages");
	introspect_printf(o, "SMAP=%d: %s\n", smap,
			  smap ? "supervisor data access to user pages faults unless EFLAGS.AC=1"
			       : "supervisor may access user pages");
	if (mode == INTROSPECT_PAGING_32)
		introspect_printf(o, "NXE=%d: 32-bit paging has no XD bit\n", nxe);
	else
		introspect_printf(o, "NXE=%d: %s\n", nxe,
				  nxe ? "XD bits make pages non-executable"
				      : "XD (bit 63) is a reserved bit: set, it faults");
}
