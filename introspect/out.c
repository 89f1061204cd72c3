/*
 * out.c — the text sink every introspect formatter writes to: either a
 * caller's fixed buffer (snprintf semantics: always terminated, len counts
 * what would have been written) or an output callback, so that the gdb stub
 * can stream a long mapping list into qRcmd "O" packets without a size cap,
 * and the sink's optional cancel check, through which a reader that wants
 * no more (gdb's Ctrl-C) stops a long command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "introspect/introspect.h"

void introspect_out_buffer(struct introspect_out *o, char *buf, size_t size)
{
	o->write = NULL;
	o->ctx = NULL;
	o->buf = buf;
	o->size = size;
	o->len = 0;
	o->cancel = NULL;
	o->cancelled = 0;
	if (size)
		buf[0] = '\0';
}

void introspect_out_callback(struct introspect_out *o,
			     void (*write)(void *ctx, const char *s, size_t len), void *ctx)
{
	o->write = write;
	o->ctx = ctx;
	o->buf = NULL;
	o->size = 0;
	o->len = 0;
	o->cancel = NULL;
	o->cancelled = 0;
}

void introspect_out_cancel(struct introspect_out *o, int (*cancel)(void *cancel_ctx),
			   void *cancel_ctx)
{
	o->cancel = cancel;
	o->cancel_ctx = cancel_ctx;
	o->cancelled = 0;
}

int introspect_out_cancelled(struct introspect_out *o)
{
	if (!o->cancelled && o->cancel && o->cancel(o->cancel_ctx))
		o->cancelled = 1;
	return o->cancelled;
}

int introspect_out_truncated(const struct introspect_out *o)
{
	return !o->write && o->len > 0 && o->len >= o->size;
}

void introspect_printf(struct introspect_out *o, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	if (!o->write) {
		size_t room = o->len < o->size ? o->size - o->len : 0;

		va_start(ap, fmt);
		n = vsnprintf(room ? o->buf + o->len : small, room ? room : 1, fmt, ap);
		va_end(ap);
		if (n > 0)
			o->len += (size_t)n;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		o->write(o->ctx, small, (size_t)n);
	} else {
		/* Rare long piece (a long symbol name): format it on the heap; if
		 * that fails, pass on the truncated text rather than nothing. */
		char *big = malloc((size_t)n + 1);

		if (big) {
			va_start(ap, fmt);
			vsnprintf(big, (size_t)n + 1, fmt, ap);
			va_end(ap);
			o->write(o->ctx, big, (size_t)n);
			free(big);
		} else {
			o->write(o->ctx, small, sizeof(small) - 1);
		}
	}
	o->len += (size_t)n;
}
