/*
 * kernel.h - the shared runtime of the sample guest kernels: Multiboot
 * information, COM1 output, kprintf, the IDT and IRQ registration, the
 * 8259 PIC pair, the 8254 PIT and the isa-debug-exit helper.
 *
 * Boot flow: boot.S enters in 32-bit protected mode from a Multiboot v1
 * loader, switches to 64-bit long mode with the first 1 GiB identity-mapped
 * (2 MiB pages) and calls the sample's kmain(magic, info). kmain calls
 * kernel_init() first, then does its job and ends with kexit(value).
 * Everything runs in ring 0 on one CPU; interrupts start disabled.
 */
#ifndef SAMPLES_KERNEL_H
#define SAMPLES_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Multiboot v1 ---------------------------------------------------- */

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_INFO_CMDLINE (1u << 2)

/* The leading part of the Multiboot information structure we read. */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline; /* physical address of a NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr;
};

/* Provided by each sample; called by boot.S in long mode, ring 0, IF=0. */
void kmain(uint32_t magic, uint32_t info);

/*
 * The command line the loader passed (flags bit 2), or NULL when there is
 * none or magic is not the Multiboot magic. Multiboot loaders usually put
 * the kernel's path first (QEMU: "PATH ARGS").
 */
const char *multiboot_cmdline(uint32_t magic, uint32_t info);

/* cmdline (NULL: none) has word as a word of its own ("crash"). */
bool cmdline_has(const char *cmdline, const char *word);

/* The decimal N of the first word "KEY=N" of cmdline (key is "KEY=";
 * digits stop at the first non-digit), else dflt. */
unsigned cmdline_uint(const char *cmdline, const char *key, unsigned dflt);

/* Initialise COM1, the IDT and the PIC (all IRQs masked). Call first. */
void kernel_init(void);

/* ---- COM1 16550 UART at 0x3f8, IRQ 4 ----------------------------------- */

#define COM1_BASE 0x3f8
#define COM1_IRQ 4

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_DR 0x01   /* data ready */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_IER_RDI 0x01  /* receive data available interrupt */

/*
 * 115200 8N1, DTR|RTS|OUT2, no interrupts; FIFOs enabled and cleared
 * unless received input is already waiting (see serial.c).
 */
void serial_init(void);
/* Blocking (polled) output of one byte / a string. */
void serial_putc(char c);
void serial_puts(const char *s);

/* ---- Formatted output to COM1 ----------------------------------------- */

/*
 * Supports %s %c %d %u %x %ld %lu %lx %p %%, an optional '0' flag and
 * field width (e.g. %08lx). Unknown conversions are printed verbatim.
 */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* ---- isa-debug-exit at 0xf4 ------------------------------------------- */

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_CONSOLE_PORT 0xe9
#define EXIT_EXCEPTION 0x7f

/* Ends the VM with status (value << 1) | 1; halts forever if no device. */
void kexit(uint32_t value) __attribute__((noreturn));

/* ---- Interrupts ------------------------------------------------------- */

/*
 * The register frame isr.S builds on the stack: general registers pushed by
 * the stub, then the vector and error code (0 when the CPU pushes none),
 * then the frame the CPU pushed. Returning a different frame from an IRQ
 * handler resumes that frame instead (this is how race.c switches threads).
 */
struct isr_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define IRQ_BASE_VECTOR 0x20
#define RFLAGS_IF 0x200

/* Called with interrupts disabled; returns the frame to resume. */
typedef struct isr_frame *(*irq_handler_fn)(struct isr_frame *frame,
					   void *ctx);

/* Load the 64-bit IDT: vectors 0-31 exceptions, 0x20-0x2f PIC IRQs. */
void idt_init(void);
/* Route IRQ irq (0-15) to fn; the dispatcher sends the EOI afterwards. */
void irq_register(unsigned irq, irq_handler_fn fn, void *ctx);

/* ---- 8259A PIC pair --------------------------------------------------- */

/* Remap IRQ0-7 to 0x20-0x27 and IRQ8-15 to 0x28-0x2f, mask everything. */
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* Non-specific EOI to the master (and the slave for IRQ 8-15). */
void pic_eoi(unsigned irq);

/* ---- 8254 PIT --------------------------------------------------------- */

#define PIT_INPUT_HZ 1193182u
#define PIT_IRQ 0

/* Channel 0, mode 2 (rate generator) at about hz; returns the divisor. */
uint16_t pit_start_periodic(unsigned hz);
/* Latch channel 0 (command 0x00) and read the count, low byte first. */
uint16_t pit_latch_read(void);

/* ---- Freestanding string functions (the compiler may call these) ------ */

void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

#endif
