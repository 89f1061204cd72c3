/*
 * idt.c - the 64-bit IDT and the C side of interrupt dispatch.
 *
 * Vectors 0-31 (CPU exceptions) print "EXCEPTION <vec> at rip=<hex>
 * err=<hex>" on COM1 and end the VM with isa-debug-exit value 0x7f, so a
 * broken sample fails loudly instead of triple-faulting. Vectors 0x20-0x2f
 * (the remapped PIC IRQs) go to the handler a sample registered with
 * irq_register(); the EOI is sent here after the handler returns, so a
 * handler that switches to another thread's frame still acknowledges the
 * PIC before the iretq.
 */
#include "io.h"
#include "kernel.h"

#define IDT_ENTRIES 256
#define IDT_STUBS 48
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct idt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct irq_slot {
	irq_handler_fn fn;
	void *ctx;
};

extern const uint64_t isr_stub_table[IDT_STUBS];

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static struct irq_slot irq_slots[16];

/* Called from isr.S with interrupts disabled. */
struct isr_frame *isr_dispatch(struct isr_frame *frame);

static void set_gate(unsigned vec, uint64_t handler)
{
	struct idt_gate *g = &idt[vec];

	g->offset_lo = (uint16_t)handler;
	g->selector = KERNEL_CS;
	g->ist = 0;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_hi = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

void idt_init(void)
{
	struct idt_pointer ptr;
	unsigned v;

	for (v = 0; v < IDT_STUBS; v++)
		set_gate(v, isr_stub_table[v]);
	ptr.limit = sizeof(idt) - 1;
	ptr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}

void irq_register(unsigned irq, irq_handler_fn fn, void *ctx)
{
	if (irq >= 16)
		return;
	irq_slots[irq].fn = fn;
	irq_slots[irq].ctx = ctx;
}

struct isr_frame *isr_dispatch(struct isr_frame *frame)
{
	unsigned irq;

	if (frame->vector < 32) {
		kprintf("\nEXCEPTION %lu at rip=0x%lx err=0x%lx\n",
			(unsigned long)frame->vector,
			(unsigned long)frame->rip,
			(unsigned long)frame->error);
		kexit(EXIT_EXCEPTION);
	}
	irq = (unsigned)(frame->vector - IRQ_BASE_VECTOR);
	if (irq < 16 && irq_slots[irq].fn)
		frame = irq_slots[irq].fn(frame, irq_slots[irq].ctx);
	pic_eoi(irq);
	return frame;
}
