/*
 * apic.c - the PC platform that kernels written for `qemu -kernel` expect:
 * local APIC, I/O APIC, fw_cfg and the ACPI tables, used the way such a
 * kernel does, printing what it saw. The output is the same under rrvm and
 * under qemu-system-x86_64 -kernel (tests/integration/qemu_compare.sh).
 *
 * In order: mask the 8259; map the APIC pages (above the 1 GiB boot.S
 * maps); read IA32_APIC_BASE, CPUID's TSC-deadline bit and the number of
 * machine-check banks (MCG_CAP), the local APIC's ID and version; enable
 * it (SVR); take a self-IPI and a self-NMI; run the LAPIC timer periodic (5 interrupts)
 * then one-shot (exactly 1, then the count stays 0); route COM1 (IRQ 4)
 * through the I/O APIC and take its transmit interrupt, and the PIT
 * (IRQ 0, I/O APIC pin 2 as the MADT override says); raise TPR above a
 * pending vector and see it held, then delivered when TPR drops; read the
 * CPU count, RAM size, command line (none for a Multiboot kernel, as in
 * QEMU) and a file from fw_cfg; find the ACPI
 * tables (RSDP scan, RSDT, MADT, FADT) and read the PM timer; poke a
 * read-only APIC register and a garbage fw_cfg selector and see nothing
 * change. Exits through isa-debug-exit with 0x21 (status 67) when all
 * went as expected, 0x22 (status 69) otherwise.
 *
 * With the argument "x2apic", and when CPUID offers it, the self-IPI and
 * EOIs go through the x2APIC MSRs instead (rrvm serves them; only the
 * record/replay tests use this, as QEMU 7.2's TCG has no x2APIC).
 *
 * With "bad" it first does what a broken kernel might (rrvm's --trace-io
 * names each): moves the APIC page, sends an ICR with a reserved delivery
 * mode and one with vector 5, routes COM1 to vector 5, selects the hidden
 * TSC-deadline timer mode, writes the I/O APIC's version; and prints what
 * came of it (hardware's answers; QEMU does not move the APIC page).
 *
 * With "spin=pit" or "spin=lapic" it does only what compute.elf does (six
 * rounds of a tight arithmetic loop without exits) under a 1 kHz timer,
 * the PIT through the 8259 or the LAPIC timer: the same guest work with
 * either timer, for tests/bench/apic_timer.sh.
 */
#include "io.h"
#include "kernel.h"

#define APIC_EXIT_OK 0x21
#define APIC_EXIT_BAD 0x22

#define LAPIC 0xfee00000ull
#define IOAPIC 0xfec00000ull
#define V_TIMER 0x40
#define V_SELF 0x41
#define V_COM1 0x42
#define V_PIT 0x43
#define V_LOW 0x35              /* below TPR 0x50 */
#define V_SPURIOUS 0xff

#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_PWT 8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull

static volatile uint32_t hits[256];
static int x2;                  /* use x2APIC MSRs */
static int failures;

/* ---- interrupt entry: a stub per vector we use, then C ------------------- */

void apic_isr(uint64_t vector);

#define STUB(v) \
	".globl apic_stub_" #v "\n.balign 16\napic_stub_" #v ":\n" \
	"  pushq %rax\n  movq $" #v ", %rax\n  jmp apic_common\n"

__asm__(".text\n"
	STUB(0x40) STUB(0x41) STUB(0x42) STUB(0x43) STUB(0x35) STUB(0xff) STUB(0x02)
	"apic_common:\n"
	"  pushq %rcx\n  pushq %rdx\n  pushq %rsi\n  pushq %rdi\n"
	"  pushq %r8\n  pushq %r9\n  pushq %r10\n  pushq %r11\n"
	"  movq %rax, %rdi\n  call apic_isr\n"
	"  popq %r11\n  popq %r10\n  popq %r9\n  popq %r8\n"
	"  popq %rdi\n  popq %rsi\n  popq %rdx\n  popq %rcx\n  popq %rax\n"
	"  iretq\n");

extern char apic_stub_0x40[], apic_stub_0x41[], apic_stub_0x42[], apic_stub_0x43[],
	apic_stub_0x35[], apic_stub_0xff[], apic_stub_0x02[];

static void set_gate(unsigned vec, void *handler)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
	uint64_t h = (uint64_t)(uintptr_t)handler;
	uint32_t *g;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	g = (uint32_t *)(uintptr_t)(idtr.base + 16 * vec);
	g[0] = (uint32_t)(h & 0xffff) | ((uint32_t)KERNEL_CS << 16);
	g[1] = (uint32_t)(h & 0xffff0000u) | 0x8e00u;
	g[2] = (uint32_t)(h >> 32);
	g[3] = 0;
}

/* ---- MSRs, the local APIC, the I/O APIC ---------------------------------- */

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint32_t lapic_rd(unsigned reg)
{
	if (x2)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return *(volatile uint32_t *)(uintptr_t)(LAPIC + reg);
}

static void lapic_wr(unsigned reg, uint32_t v)
{
	if (x2)
		wrmsr(0x800 + (reg >> 4), v);
	else
		*(volatile uint32_t *)(uintptr_t)(LAPIC + reg) = v;
}

static void self_ipi(uint8_t vector)
{
	if (x2) {
		wrmsr(0x83f, vector);           /* SELF_IPI */
		return;
	}
	lapic_wr(0x310, 0);
	lapic_wr(0x300, vector | (1u << 18));   /* fixed, shorthand self */
	while (lapic_rd(0x300) & (1u << 12))
		cpu_pause();                    /* delivery status */
}

static uint32_t ioapic_rd(unsigned reg)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC = reg;
	return *(volatile uint32_t *)(uintptr_t)(IOAPIC + 0x10);
}

static void ioapic_wr(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC + 0x10) = v;
}

void apic_isr(uint64_t vector)
{
	hits[vector & 0xff]++;
	if (vector == V_COM1) {
		(void)inb(COM1_BASE + UART_IIR);        /* acknowledge THRE */
		outb(COM1_BASE + UART_IER, 0);
	}
	if (vector != V_SPURIOUS && vector != 2)
		lapic_wr(0xb0, 0);                      /* EOI (none for spurious and NMI) */
}

/* Wait with interrupts on until hits[v] reaches n. */
static void wait_for(unsigned v, uint32_t n)
{
	cpu_cli();
	while (hits[v] < n) {
		cpu_sti_hlt();
		cpu_cli();
	}
}

static void check(int cond, const char *what)
{
	if (!cond) {
		kprintf("FAILED: %s\n", what);
		failures++;
	}
}

/* Map 3-4 GiB with 2 MiB uncached pages: the APIC pages live there. */
static uint64_t high_pd[512] __attribute__((aligned(4096)));

static void map_apic_pages(void)
{
	uint64_t cr3, *pml4, *pdpt;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
	pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ~0xfffull);
	for (unsigned i = 0; i < 512; i++)
		high_pd[i] = (0xc0000000ull + ((uint64_t)i << 21)) | PTE_P | PTE_RW | PTE_PS |
			     PTE_PCD | PTE_PWT;
	pdpt[3] = (uint64_t)(uintptr_t)high_pd | PTE_P | PTE_RW;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* ---- fw_cfg ------------------------------------------------------------- */

static void fw_select(uint16_t s)
{
	outw(0x510, s);
}

static uint64_t fw_le(unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static uint64_t fw_be(unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | inb(0x511);
	return v;
}

/* The selector of a file in the fw_cfg directory, or 0. */
static uint16_t fw_file(const char *name, uint32_t *size)
{
	uint32_t count;
	char buf[56];

	fw_select(0x19);
	count = (uint32_t)fw_be(4);
	for (uint32_t i = 0; i < count && i < 64; i++) {
		uint32_t sz = (uint32_t)fw_be(4);
		uint16_t sel = (uint16_t)fw_be(2);

		fw_be(2);
		for (unsigned k = 0; k < 56; k++)
			buf[k] = (char)inb(0x511);
		if (strncmp(buf, name, 56) == 0) {
			*size = sz;
			return sel;
		}
	}
	return 0;
}

static void test_fwcfg(void)
{
	char sig[5], cmd[64];
	uint32_t size, len;
	uint16_t sel;

	fw_select(0);
	for (unsigned i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	sig[4] = 0;
	fw_select(5);
	kprintf("fw_cfg: signature %s, %u CPU(s)", sig, (unsigned)fw_le(2));
	fw_select(3);
	kprintf(", %lu MiB of RAM\n", (unsigned long)(fw_le(8) >> 20));
	fw_select(0x14);
	len = (uint32_t)fw_le(4);
	fw_select(0x15);
	for (uint32_t i = 0; i < len && i < sizeof(cmd) - 1; i++)
		cmd[i] = (char)inb(0x511);
	cmd[len < sizeof(cmd) ? len : sizeof(cmd) - 1] = 0;
	kprintf("fw_cfg: command line '%s'\n", cmd);
	sel = fw_file("etc/boot-fail-wait", &size);
	check(sel != 0 && size == 4, "fw_cfg lists etc/boot-fail-wait");
	fw_select(sel);
	kprintf("fw_cfg: etc/boot-fail-wait = 0x%lx\n", (unsigned long)fw_le(4));
	fw_select(0x7abc);
	kprintf("fw_cfg: garbage selector reads 0x%lx\n", (unsigned long)fw_le(4));
}

/* ---- ACPI --------------------------------------------------------------- */

static int acpi_sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_acpi(void)
{
	const uint8_t *rsdp = 0, *rsdt, *madt = 0, *fadt = 0;
	unsigned cpus = 0, irq0_gsi = 0xff;
	uint32_t ioapic = 0, pmtmr, t0, t1;

	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) && acpi_sum((const uint8_t *)a, 20)) {
			rsdp = (const uint8_t *)a;
			break;
		}
	if (!rsdp) {
		kprintf("ACPI: no RSDP\n");
		failures++;
		return;
	}
	rsdt = (const uint8_t *)(uintptr_t)rd32(rsdp + 16);
	check(!memcmp(rsdt, "RSDT", 4) && acpi_sum(rsdt, rd32(rsdt + 4)), "RSDT checksum");
	for (uint32_t i = 36; i + 4 <= rd32(rsdt + 4); i += 4) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)rd32(rsdt + i);
		if (!memcmp(t, "APIC", 4))
			madt = t;
		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	if (!madt || !fadt) {
		kprintf("ACPI: no MADT or FADT\n");
		failures++;
		return;
	}
	check(acpi_sum(madt, rd32(madt + 4)) && acpi_sum(fadt, rd32(fadt + 4)), "MADT/FADT checksums");
	for (const uint8_t *e = madt + 44; e < madt + rd32(madt + 4) && e[1]; e += e[1]) {
		if (e[0] == 0 && (rd32(e + 4) & 1))
			cpus++;
		if (e[0] == 1)
			ioapic = rd32(e + 4);
		if (e[0] == 2 && e[3] == 0)
			irq0_gsi = rd32(e + 4);
	}
	pmtmr = rd32(fadt + 76);
	kprintf("ACPI: MADT %u CPU(s), I/O APIC at 0x%x, IRQ0 -> GSI %u; PM timer at port 0x%x\n",
		cpus, ioapic, irq0_gsi, pmtmr);
	t0 = 0;
	__asm__ volatile("inl %w1, %0" : "=a"(t0) : "Nd"((uint16_t)pmtmr));
	do {
		__asm__ volatile("inl %w1, %0" : "=a"(t1) : "Nd"((uint16_t)pmtmr));
	} while (t1 == t0);
	kprintf("ACPI: PM timer runs, 24 bits: %s\n", (t0 | t1) < (1u << 24) ? "yes" : "no");
}

/* ---- the APIC tests ------------------------------------------------------- */

static void test_lapic_timer(void)
{
	uint32_t n;

	lapic_wr(0x3e0, 0x3);                           /* divide by 16 */
	lapic_wr(0x320, V_TIMER | (1u << 17));          /* periodic */
	lapic_wr(0x380, 62500);                         /* 1 ms at QEMU's/rrvm's 1 GHz bus */
	wait_for(V_TIMER, 5);
	lapic_wr(0x320, V_TIMER | (1u << 16));          /* mask, then stop */
	lapic_wr(0x380, 0);
	/* A sixth period may have expired while interrupts were off: its
	 * vector waits in IRR. Take it before counting the one-shot's. */
	while (lapic_rd(0x200 + (V_TIMER / 32) * 0x10) & (1u << (V_TIMER % 32))) {
		cpu_sti();
		cpu_pause();
		cpu_cli();
	}
	kprintf("LAPIC timer periodic: %u interrupts seen\n", 5u);
	hits[V_TIMER] = 0;
	lapic_wr(0x320, V_TIMER);                       /* one-shot */
	lapic_wr(0x380, 200000);
	wait_for(V_TIMER, 1);
	/* One-shot: the count is 0 now and stays there. Wait 3 ms by the PM timer. */
	{
		uint32_t t0, t;
		__asm__ volatile("inl %w1, %0" : "=a"(t0) : "Nd"((uint16_t)0x608));
		do {
			cpu_sti();
			cpu_pause();
			__asm__ volatile("inl %w1, %0" : "=a"(t) : "Nd"((uint16_t)0x608));
		} while (((t - t0) & 0xffffff) < 10740);
		cpu_cli();
	}
	n = hits[V_TIMER];
	kprintf("LAPIC timer one-shot: %u interrupt, current count %u\n", n, lapic_rd(0x390));
	check(n == 1, "one-shot fired once");
}

static void test_ioapic(void)
{
	uint32_t ver = ioapic_rd(1);

	kprintf("I/O APIC: version 0x%x, %u pins\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
	/* COM1 (ISA IRQ 4) -> pin 4 -> V_COM1, edge, physical destination 0. */
	ioapic_wr(0x10 + 2 * 4 + 1, 0);
	ioapic_wr(0x10 + 2 * 4, V_COM1);
	outb(COM1_BASE + UART_IER, 0x02);               /* THR empty interrupt */
	wait_for(V_COM1, 1);
	kprintf("COM1 transmit interrupt through I/O APIC pin 4: taken\n");
	ioapic_wr(0x10 + 2 * 4, V_COM1 | (1u << 16));
	/* The PIT (ISA IRQ 0) on pin 2, as the MADT's override says. */
	ioapic_wr(0x10 + 2 * 2 + 1, 0);
	ioapic_wr(0x10 + 2 * 2, V_PIT);
	pit_start_periodic(1000);
	wait_for(V_PIT, 3);
	ioapic_wr(0x10 + 2 * 2, V_PIT | (1u << 16));
	kprintf("PIT through I/O APIC pin 2: 3 interrupts seen\n");
}

static void test_tpr(void)
{
	lapic_wr(0x80, 0x50);
	cpu_sti();
	self_ipi(V_LOW);
	for (int i = 0; i < 1000; i++)
		cpu_pause();
	cpu_cli();
	kprintf("TPR 0x50 holds vector 0x%x: %s\n", V_LOW, hits[V_LOW] == 0 ? "held" : "taken");
	check(hits[V_LOW] == 0, "TPR blocks a lower class");
	lapic_wr(0x80, 0);
	wait_for(V_LOW, 1);
	kprintf("TPR 0: vector 0x%x taken\n", V_LOW);
	/* CR8 is the TPR's priority class, in 64-bit mode. */
	{
		uint64_t cr8 = 6;

		__asm__ volatile("mov %0, %%cr8" : : "r"(cr8));
		kprintf("CR8 6: TPR reads 0x%x", lapic_rd(0x80));
		lapic_wr(0x80, 0x20);
		__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
		kprintf("; TPR 0x20: CR8 reads %lu\n", (unsigned long)cr8);
		cr8 = 0;
		__asm__ volatile("mov %0, %%cr8" : : "r"(cr8));
	}
}

static uint32_t esr(void)
{
	lapic_wr(0x280, 0);
	return lapic_rd(0x280);
}

static void bad_guest(uint64_t base)
{
	volatile uint32_t *moved = (volatile uint32_t *)(uintptr_t)0xfed00030ull;
	uint32_t v;

	wrmsr(0x1b, (base & 0xfff) | 0xfed00000ull);
	v = *moved;
	kprintf("bad: APIC page moved to 0xfed00000: version 0x%x there, 0x%x at the old page\n",
		v & 0xff, *(volatile uint32_t *)(uintptr_t)(LAPIC + 0x30));
	wrmsr(0x1b, base);
	lapic_wr(0xf0, 0x100 | V_SPURIOUS);
	esr();
	lapic_wr(0x300, V_SELF | (3u << 8) | (1u << 18));
	kprintf("bad: ICR delivery mode 3: %s\n", lapic_rd(0x200 + 0x20) & 2 ? "delivered" : "dropped");
	lapic_wr(0x300, 0x05 | (1u << 18));
	kprintf("bad: ICR vector 5: ESR 0x%x\n", esr());
	ioapic_wr(0x10 + 2 * 4 + 1, 0);
	ioapic_wr(0x10 + 2 * 4, 0x05);
	outb(COM1_BASE + UART_IER, 0x02);
	v = esr();
	outb(COM1_BASE + UART_IER, 0);
	ioapic_wr(0x10 + 2 * 4, 0x05 | (1u << 16));
	kprintf("bad: I/O APIC pin 4 to vector 5: ESR 0x%x\n", v);
	lapic_wr(0x320, V_TIMER | (2u << 17) | (1u << 16));
	kprintf("bad: LVT timer TSC-deadline mode reads back mode %u\n", (lapic_rd(0x320) >> 17) & 3);
	ioapic_wr(1, 0);
	kprintf("bad: I/O APIC version after a write: 0x%x\n", ioapic_rd(1) & 0xff);
	esr();
}

__attribute__((noinline)) static uint64_t mix(uint64_t h, unsigned steps)
{
	for (unsigned i = 0; i < steps; i++) {
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ull;
		h += i;
	}
	return h;
}

static struct isr_frame *pit_tick(struct isr_frame *frame, void *ctx)
{
	(void)ctx;
	hits[V_PIT]++;
	return frame;
}

/* compute.elf's work under a 1 kHz timer of either kind. */
static void spin(int lapic_timer)
{
	uint64_t h = 0x1234;

	if (lapic_timer) {
		lapic_wr(0x3e0, 0x3);
		lapic_wr(0x320, V_TIMER | (1u << 17));
		lapic_wr(0x380, 62500);                 /* 1 ms */
	} else {
		irq_register(PIT_IRQ, pit_tick, 0);
		pit_start_periodic(1000);
		pic_unmask(PIT_IRQ);
	}
	cpu_sti();
	for (unsigned r = 0; r < 6; r++) {
		h = mix(h, 20000);
		kprintf("spin round %u: %lx\n", r, (unsigned long)h);
	}
	cpu_cli();
	kprintf("spin: %s timer, %s\n", lapic_timer ? "LAPIC" : "PIT",
		hits[lapic_timer ? V_TIMER : V_PIT] ? "ticked" : "no ticks");
	kexit(APIC_EXIT_OK);
}

void kmain(uint32_t magic, uint32_t info)
{
	const char *cmd = multiboot_cmdline(magic, info);
	uint64_t base;
	uint32_t ecx, ebx, edx, eax = 1;

	kernel_init();
	kprintf("apic: the 8259 is masked; local APIC, I/O APIC, fw_cfg, ACPI\n");
	map_apic_pages();
	set_gate(V_TIMER, apic_stub_0x40);
	set_gate(V_SELF, apic_stub_0x41);
	set_gate(V_COM1, apic_stub_0x42);
	set_gate(V_PIT, apic_stub_0x43);
	set_gate(V_LOW, apic_stub_0x35);
	set_gate(V_SPURIOUS, apic_stub_0xff);
	set_gate(2, apic_stub_0x02);

	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
	base = rdmsr(0x1b);
	kprintf("IA32_APIC_BASE: page 0x%lx%s%s\n", (unsigned long)(base & ~0xfffull),
		base & 0x100 ? ", BSP" : "", base & 0x800 ? ", enabled" : "");
	kprintf("CPUID: TSC-deadline timer %s; machine-check banks: %lu\n",
		ecx & (1u << 24) ? "offered" : "hidden",
		(edx & (1u << 14)) ? (unsigned long)(rdmsr(0x179) & 0xff) : 0ul);
	if (cmd) {
		const char *p = cmd;
		while (*p && *p != ' ')
			p++;
		kprintf("Multiboot arguments: '%s'\n", *p ? p + 1 : p);
		if (!strncmp(p, " bad", 4))
			bad_guest(base);
		if (!strncmp(p, " spin=", 6)) {
			lapic_wr(0xf0, 0x100 | V_SPURIOUS);
			spin(!strncmp(p, " spin=lapic", 11));
		}
		if (!strncmp(p, " x2apic", 7) && (ecx & (1u << 21))) {
			wrmsr(0x1b, base | (1u << 10));
			x2 = 1;
		}
	}
	kprintf("local APIC: ID %u, version 0x%x, %u LVT entries\n",
		x2 ? lapic_rd(0x20) : lapic_rd(0x20) >> 24, lapic_rd(0x30) & 0xff,
		((lapic_rd(0x30) >> 16) & 0xff) + 1);
	lapic_wr(0xf0, 0x100 | V_SPURIOUS);             /* software enable */
	lapic_wr(0x80, 0);
	if (!x2) {
		lapic_wr(0x30, 0x12345678);
		kprintf("write to the read-only version register: still 0x%x\n",
			lapic_rd(0x30) & 0xff);
	}

	self_ipi(V_SELF);
	wait_for(V_SELF, 1);
	kprintf("self-IPI: vector 0x%x taken\n", V_SELF);
	if (x2)
		wrmsr(0x830, (4u << 8) | (1u << 18));
	else
		lapic_wr(0x300, (4u << 8) | (1u << 18));        /* NMI, shorthand self */
	while (hits[2] == 0)
		cpu_pause();
	kprintf("self-NMI: taken with interrupts off\n");

	test_lapic_timer();
	test_ioapic();
	test_tpr();
	test_fwcfg();
	test_acpi();
	check(hits[V_SPURIOUS] == 0, "no spurious interrupts");
	kprintf("apic: %s\n", failures ? "FAILED" : "all done");
	kexit(failures ? APIC_EXIT_BAD : APIC_EXIT_OK);
}
