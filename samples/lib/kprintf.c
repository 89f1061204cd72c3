/*
 * kprintf.c - a small printf for the sample kernels, writing to COM1.
 * It formats straight to the UART (no buffer), so it can be called from
 * interrupt handlers and from the exception path with a broken stack
 * frame above it. Only the conversions the samples use are supported.
 */
#include <stdbool.h>

#include "kernel.h"

static void put_repeat(char c, int n)
{
	while (n-- > 0)
		serial_putc(c);
}

static void put_unsigned(uint64_t v, unsigned base, int width, bool zero,
			 bool negative)
{
	char buf[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);

		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (negative)
		width--;
	if (zero) {
		if (negative)
			serial_putc('-');
		put_repeat('0', width - n);
	} else {
		put_repeat(' ', width - n);
		if (negative)
			serial_putc('-');
	}
	while (n)
		serial_putc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		const char *start = fmt;
		bool zero = false, is_long = false;
		int width = 0;

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			zero = true;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			put_repeat(' ', width - (int)strlen(s));
			serial_puts(s);
			break;
		}
		case 'c':
			serial_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = is_long ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;

			put_unsigned(mag, 10, width, zero, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = is_long ? va_arg(ap, unsigned long)
					     : va_arg(ap, unsigned int);

			put_unsigned(v, *fmt == 'u' ? 10 : 16, width, zero,
				     false);
			break;
		}
		case 'p':
			serial_puts("0x");
			put_unsigned((uintptr_t)va_arg(ap, void *), 16, width,
				     zero, false);
			break;
		case '%':
			serial_putc('%');
			break;
		case '\0':
			/* A lone '%' at the end: print it and stop. */
			serial_putc('%');
			return;
		default:
			/* Unknown conversion: show it as written. */
			while (start <= fmt)
				serial_putc(*start++);
			break;
		}
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
