/*
 * hex.c — the small codecs of the remote protocol: hex digits and numbers,
 * binary escaping ('}' ^ 0x20), run-length decoding and checksums. Pure
 * functions over buffers; every one rejects malformed input with -EINVAL
 * instead of guessing, because their input comes straight off a socket.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "gdbstub/internal.h"

void gdb_logf(const struct gdb_log *log, enum gdb_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || !log->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, level, msg);
}

int gdb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gdb_hex_decode(const char *hex, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hex_digit((unsigned char)hex[2 * i]);
		int lo = gdb_hex_digit((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gdb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	/* Backwards, so that out may overlap the tail of in's buffer. */
	for (size_t i = n; i-- > 0;) {
		uint8_t v = in[i];

		out[2 * i] = digits[v >> 4];
		out[2 * i + 1] = digits[v & 15];
	}
}

int gdb_hex_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 16)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int d = gdb_hex_digit((unsigned char)s[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t gdb_bin_escape(const uint8_t *in, size_t n, char *out, size_t cap, size_t *out_len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (needs_escape(in[i])) {
			if (o + 2 > cap)
				break;
			out[o++] = '}';
			out[o++] = (char)(in[i] ^ 0x20);
		} else {
			if (o + 1 > cap)
				break;
			out[o++] = (char)in[i];
		}
	}
	*out_len = o;
	return i;
}

int gdb_bin_unescape(const char *in, size_t n, uint8_t *out, size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)in[i];

		if (c == '}') {
			if (++i == n)
				return -EINVAL;
			c = (uint8_t)in[i] ^ 0x20;
		}
		out[o++] = c;
	}
	*out_len = o;
	return 0;
}

int gdb_rle_decode(const char *in, size_t n, char *out, size_t cap, size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c != '*') {
			if (o >= cap)
				return -E2BIG;
			out[o++] = c;
			continue;
		}
		/* gdb's encoder never uses '#' or '$' (or anything past '~') as a count. */
		if (o == 0 || i + 1 >= n)
			return -EINVAL;
		unsigned char cnt = (unsigned char)in[++i];
		if (cnt < ' ' || cnt > '~' || cnt == '#' || cnt == '$')
			return -EINVAL;
		size_t repeat = (size_t)cnt - 29;
		if (repeat > cap - o)
			return -E2BIG;
		for (size_t k = 0; k < repeat; k++, o++)
			out[o] = out[o - 1];
	}
	*out_len = o;
	return 0;
}

uint8_t gdb_checksum(const char *data, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + (uint8_t)data[i]);
	return sum;
}
