/*
 * uart_test.c — unit tests of the 16550A (vmm/dev_uart.c): reset values,
 * the DLAB divisor latch, transmit to the output stream, loopback and the
 * modem status register, IRQ4 gating by OUT2, IIR priorities and the THRE
 * acknowledge-on-read rule, FIFO trigger levels and character timeout,
 * overrun in FIFO and non-FIFO modes, the receive API, and a random-input
 * run that checks the IRQ line always agrees with IIR.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define COM1 0x3f8

static struct fake_bus fb;
static struct fake_dev uart;

static void fresh(void)
{
	if (uart.state)
		fake_dev_free(&uart);
	fake_bus_init(&fb);
	fake_dev_init(&uart, &vmm_dev_uart);
}

static uint8_t in(unsigned reg)
{
	return fake_inb(&uart, &fb, (uint16_t)(COM1 + reg));
}

static void out(unsigned reg, uint8_t v)
{
	fake_outb(&uart, &fb, (uint16_t)(COM1 + reg), v);
}

static size_t push(const char *s, size_t n)
{
	return vmm_uart_rx_push(uart.state, &fb.bus, (const uint8_t *)s, n);
}

static void test_registers(void)
{
	fresh();
	is_int(in(1), 0x00, "reset IER");
	is_int(in(2), 0x01, "reset IIR: no interrupt, no FIFO");
	is_int(in(3), 0x00, "reset LCR");
	is_int(in(4), 0x00, "reset MCR");
	is_int(in(5), 0x60, "reset LSR: THRE and TEMT");
	is_int(in(6), 0xb0, "MSR: CTS, DSR, DCD from an attached terminal");
	is_int(vmm_uart_rx_space(uart.state), 1, "FIFO off: room for one byte");

	out(3, 0x83);
	is_int(in(0), 12, "DLL resets to 12 (9600 baud)");
	out(0, 0x01);
	out(1, 0x02);
	is_int(in(0), 0x01, "DLAB: DLL reads back");
	is_int(in(1), 0x02, "DLAB: DLM reads back");
	is_int(fb.nout[0], 0, "DLAB: port 0 writes are not transmitted");
	out(3, 0x03);
	is_int(in(3), 0x03, "LCR reads back");
	is_int(in(1), 0x00, "DLAB off: port 1 is IER again");
	out(0, 'h');
	out(0, 'i');
	ok(fb.nout[0] == 2 && fb.out[0][0] == 'h' && fb.out[0][1] == 'i', "THR bytes go to the serial output");
	is_int(fb.nout[1], 0, "nothing on the debug console");
	out(3, 0x83);
	is_int(in(0), 0x01, "THR writes left the divisor alone");
	is_int(in(1), 0x02, "DLM unchanged");
	out(3, 0x03);
	out(1, 0xff);
	is_int(in(1), 0x0f, "IER keeps its four bits");
	out(1, 0x00);
	out(7, 0x5a);
	is_int(in(7), 0x5a, "scratch register");
	out(4, 0xff);
	is_int(in(4), 0x1f, "MCR keeps five bits");
	out(4, 0x00);
	out(5, 0x00);
	out(6, 0x00);
	is_int(in(5), 0x60, "LSR writes ignored");
	is_int(fake_in(&uart, &fb, COM1 + 5, 2), 0x60, "word read: low byte, upper zero");
	fake_out(&uart, &fb, COM1, 4, 0x12345641);
	is_int(fb.out[0][fb.nout[0] - 1], 0x41, "dword write sends the low byte");
	is_int(fb.clock_reads, 0, "the UART never reads the clock");
}

static void test_loopback_msr(void)
{
	fresh();
	out(4, 0x10);
	is_int(vmm_uart_rx_space(uart.state), 0, "loopback: receiver disconnected from outside");
	is_int(push("x", 1), 0, "loopback: rx_push takes nothing");
	out(0, 0x55);
	is_int(fb.nout[0], 0, "loopback: nothing transmitted");
	is_int(in(5) & 0x01, 0x01, "loopback: data ready");
	is_int(in(0), 0x55, "loopback: byte comes back");
	is_int(in(5), 0x60, "loopback: nothing left");
	is_int(in(6), 0x0b, "entering loopback: CTS, DSR, DCD dropped (deltas only)");
	is_int(in(6), 0x00, "MSR deltas cleared by reading");
	out(4, 0x1f);
	is_int(in(6), 0xfb, "loopback: RTS->CTS DTR->DSR OUT1->RI OUT2->DCD, with deltas");
	out(4, 0x1b);
	is_int(in(6), 0xb4, "RI trailing edge sets TERI");
	out(4, 0x10);
	in(6);
	out(4, 0x00);
	is_int(in(6), 0xbb, "leaving loopback: CTS, DSR and DCD back, with deltas");
}

static void test_irq_and_priority(void)
{
	fresh();
	out(1, 0x02);
	is_int(fb.level[4], 0, "THRE pending but OUT2 clear: IRQ4 low");
	out(4, 0x08);
	is_int(fb.level[4], 1, "OUT2 set: IRQ4 high");
	is_int(in(2), 0x02, "IIR: THR empty");
	is_int(fb.level[4], 0, "IIR read acknowledged THRE: IRQ4 low");
	is_int(in(2), 0x01, "IIR: nothing pending after the read");
	out(0, 'a');
	is_int(fb.level[4], 1, "THR write: THRE again");
	out(1, 0x02);
	is_int(fb.level[4], 1, "IER rewrite keeps it pending");
	in(2);
	out(1, 0x02);
	is_int(in(2), 0x01, "IER rewrite with THRI already on does not re-raise");
	out(1, 0x00);
	is_int(in(2), 0x01, "THRI off");
	out(1, 0x02);
	is_int(in(2), 0x02, "THRI off->on re-raises THRE");
	out(0, 'b');
	is_int(fb.level[4], 1, "THRE pending again");
	out(4, 0x18);
	is_int(fb.level[4], 0, "loopback: OUT2 pin inactive, no IRQ4");
	out(4, 0x08);

	/* All four sources at once, FIFO off. */
	fresh();
	out(1, 0x0f);
	out(4, 0x18);                           /* loopback + OUT2 */
	out(0, 1);
	out(0, 2);                              /* overrun */
	out(4, 0x19);                           /* DTR: DSR delta */
	is_int(in(2), 0x06, "priority 1: line status (overrun)");
	is_int(in(5) & 0x03, 0x03, "LSR: DR and OE");
	is_int(in(5) & 0x02, 0x00, "LSR read cleared OE");
	is_int(in(2), 0x04, "priority 2: received data");
	is_int(in(0), 2, "non-FIFO overrun: the newer byte overwrote");
	is_int(in(2), 0x02, "priority 3: THR empty");
	is_int(in(2), 0x00, "priority 4: modem status");
	in(6);
	is_int(in(2), 0x01, "all sources cleared");

	/* The receive API and IRQ4. */
	fresh();
	out(1, 0x01);
	out(4, 0x08);
	is_int(push("abc", 3), 1, "FIFO off: push takes one byte");
	is_int(fb.level[4], 1, "received byte raises IRQ4");
	is_int(vmm_uart_rx_space(uart.state), 0, "no room until read");
	is_int(push("bc", 2), 0, "a full receiver takes nothing");
	is_int(in(5) & 0x02, 0, "push never overruns");
	is_int(in(0), 'a', "read the byte");
	is_int(fb.level[4], 0, "IRQ4 drops when the data is read");
	is_int(in(0), 'a', "RBR empty: repeats the last byte");
	is_int(fb.redundant_irq + fb.bad_irq, 0, "set_irq only on changes");
}

static void test_fifo(void)
{
	char buf[20];
	unsigned good;

	fresh();
	out(2, 0x01);
	is_int(in(2) & 0xc0, 0xc0, "FIFO enabled: IIR bits 7:6 set");
	is_int(vmm_uart_rx_space(uart.state), 16, "FIFO: room for 16");
	for (int i = 0; i < 20; i++)
		buf[i] = (char)('A' + i);
	is_int(push(buf, 20), 16, "push takes 16 of 20");
	is_int(vmm_uart_rx_space(uart.state), 0, "FIFO full");
	is_int(in(5) & 0x02, 0, "no overrun from push");
	good = 0;
	for (int i = 0; i < 16; i++)
		good += in(0) == 'A' + i;
	is_int(good, 16, "FIFO order kept");
	is_int(in(5) & 0x01, 0, "FIFO drained");

	/* Trigger levels and the character timeout indication. */
	out(2, 0x81);                           /* trigger 8 */
	out(1, 0x01);
	out(4, 0x08);
	push(buf, 3);
	is_int(in(2), 0xcc, "below trigger: character timeout (0xC)");
	is_int(fb.level[4], 1, "timeout raises IRQ4");
	push(buf, 5);
	is_int(in(2), 0xc4, "at trigger (8): received data available");
	in(0);
	is_int(in(2), 0xcc, "below trigger again: timeout");
	out(2, 0x83);                           /* clear RX FIFO */
	is_int(in(5) & 0x01, 0, "FCR bit 1 clears the receive FIFO");
	is_int(in(2), 0xc1, "nothing pending after the clear");
	out(2, 0xc1);                           /* trigger 14 */
	push(buf, 13);
	is_int(in(2), 0xcc, "13 bytes under trigger 14: timeout");
	push(buf, 1);
	is_int(in(2), 0xc4, "14 bytes: data available");
	out(2, 0x41);                           /* trigger 4 */
	is_int(in(2), 0xc4, "trigger 4 with 14 bytes: data available");
	out(2, 0x00);
	is_int(in(5) & 0x01, 0, "disabling the FIFO empties it");
	is_int(in(2), 0x01, "FIFO off: IIR bits 7:6 clear");
	is_int(vmm_uart_rx_space(uart.state), 1, "FIFO off: room for one");

	/* FIFO overflow in loopback sets OE and loses the new byte. */
	fresh();
	out(2, 0x07);
	out(4, 0x10);
	for (int i = 0; i < 17; i++)
		out(0, (uint8_t)i);
	is_int(in(5) & 0x03, 0x03, "17 bytes into 16: DR and OE");
	is_int(in(5) & 0x02, 0, "OE cleared by the LSR read");
	good = 0;
	for (int i = 0; i < 16; i++)
		good += in(0) == i;
	is_int(good, 16, "the first 16 bytes kept, the 17th lost");
	is_int(in(5) & 0x01, 0, "nothing more");
}

/* Random accesses and pushes. Invariants: IIR always names a valid
 * source, IRQ4 agrees with IIR, OUT2 and loopback, receive space stays
 * within the FIFO, and nothing reads the clock. */
static void test_fuzz(void)
{
	static const uint8_t valid[16] = { [0] = 1, [1] = 1, [2] = 1, [4] = 1, [6] = 1, [0xc] = 1 };
	uint64_t seed = 0x16550;
	unsigned bad_iid = 0, irq_mismatch = 0, bad_space = 0;
	uint8_t data[32];

	fresh();
	for (int i = 0; i < 200000; i++) {
		uint64_t r = fake_rand(&seed);
		uint16_t port = (uint16_t)(COM1 + (r >> 8) % 9);       /* one past the end too */
		unsigned size = 1u << ((r >> 16) % 3);

		switch (r % 5) {
		case 0:
		case 1:
			fake_out(&uart, &fb, port, size, (uint32_t)(r >> 24));
			break;
		case 2:
			fake_in(&uart, &fb, port, size);
			break;
		case 3:
			memset(data, (int)(r >> 24), sizeof(data));
			push((const char *)data, (r >> 32) % 32);
			break;
		default: {
			uint8_t mcr = in(4);
			int level = fb.level[4];
			uint8_t iir = in(2);

			if (!valid[iir & 0x0f] || (iir & 0x30))
				bad_iid++;
			if (level != ((iir & 0x0f) != 1 && (mcr & 0x08) && !(mcr & 0x10)))
				irq_mismatch++;
			if (vmm_uart_rx_space(uart.state) > 16)
				bad_space++;
			break;
		}
		}
	}
	is_int(bad_iid, 0, "fuzz: IIR always valid");
	is_int(irq_mismatch, 0, "fuzz: IRQ4 always agrees with IIR, OUT2 and loopback");
	is_int(bad_space, 0, "fuzz: receive space within the FIFO");
	is_int(fb.redundant_irq + fb.bad_irq, 0, "fuzz: IRQ4 driven only on changes");
	is_int(fb.clock_reads, 0, "fuzz: no clock reads");
	ok(fb.nout[0] > 100, "fuzz: bytes were transmitted (%zu)", fb.nout[0]);
}

int main(void)
{
	test_registers();
	test_loopback_msr();
	test_irq_and_priority();
	test_fifo();
	test_fuzz();
	fake_dev_free(&uart);
	return tap_done();
}
