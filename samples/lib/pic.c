/*
 * pic.c - the 8259A master/slave pair. Remapped so that the PIC vectors
 * (0x20-0x2f) do not collide with CPU exceptions; everything starts masked
 * and each sample unmasks only the lines it uses, so a device model that
 * raises an unexpected IRQ cannot disturb the sample's output.
 */
#include "io.h"
#include "kernel.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define ICW4_8086 0x01
#define SLAVE_ON_IRQ2 0x04

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, IRQ_BASE_VECTOR);     /* ICW2: IRQ0-7 -> 0x20-0x27 */
	outb(PIC2_DATA, IRQ_BASE_VECTOR + 8); /* ICW2: IRQ8-15 -> 0x28-0x2f */
	outb(PIC1_DATA, SLAVE_ON_IRQ2);       /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);                /* ICW3: slave identity 2 */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xff);                /* OCW1: mask everything */
	outb(PIC2_DATA, 0xff);
}

void pic_unmask(unsigned irq)
{
	if (irq >= 16)
		return;
	if (irq >= 8) {
		outb(PIC2_DATA, inb(PIC2_DATA) & ~(1u << (irq - 8)));
		irq = 2; /* the cascade line must be open too */
	}
	outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << irq));
}

void pic_mask(unsigned irq)
{
	if (irq >= 16)
		return;
	if (irq >= 8)
		outb(PIC2_DATA, inb(PIC2_DATA) | (1u << (irq - 8)));
	else
		outb(PIC1_DATA, inb(PIC1_DATA) | (1u << irq));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 16)
		return;
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}
