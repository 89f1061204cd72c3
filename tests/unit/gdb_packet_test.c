/*
 * gdb_packet_test.c — the framing layer of the gdb stub: hex, escaping and
 * run-length codecs, then checksums, acks, no-ack mode, resends,
 * interrupts, overlong/truncated/garbage input, all against a stub serving
 * the fake target over a socketpair.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "gdbstub/internal.h"
#define GDB_FAKE_WITH_CLIENT
#include "tests/unit/gdb_fake.h"
#include "tests/unit/tap.h"

static void test_hex(void)
{
	uint64_t v = 0;
	uint8_t b[4];
	char out[9] = { 0 };

	ok(gdb_hex_u64("ffffffffffffffff", 16, &v) == 0 && v == UINT64_MAX, "hex u64: 16 digits");
	ok(gdb_hex_u64("1A2b", 4, &v) == 0 && v == 0x1a2b, "hex u64: mixed case");
	is_int(gdb_hex_u64("", 0, &v), -EINVAL, "hex u64: empty refused");
	is_int(gdb_hex_u64("12345678901234567", 17, &v), -EINVAL, "hex u64: 17 digits refused");
	is_int(gdb_hex_u64("12g4", 4, &v), -EINVAL, "hex u64: non-hex refused");
	ok(gdb_hex_decode("deadBEEF", 4, b) == 0 && b[0] == 0xde && b[3] == 0xef, "hex decode");
	is_int(gdb_hex_decode("de:dbeef", 4, b), -EINVAL, "hex decode: bad digit");
	gdb_hex_encode(b, 4, out);
	is_str(out, "deadbeef", "hex encode is lowercase");
	is_int(gdb_checksum("OK", 2), 0x9a, "checksum of OK");
	is_int(gdb_checksum("", 0), 0, "checksum of empty packet");
}

static void test_escape(void)
{
	uint8_t all[256], back[256];
	char esc[512];
	size_t used, n, consumed;
	bool clean = true;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	consumed = gdb_bin_escape(all, 256, esc, sizeof(esc), &used);
	is_int(consumed, 256, "escape consumed every byte");
	is_int(used, 260, "escape added one byte for each of # $ } *");
	for (size_t i = 0; i < used; i++) {
		if (esc[i] == '}') {
			i++;
			continue;
		}
		if (esc[i] == '#' || esc[i] == '$' || esc[i] == '*')
			clean = false;
	}
	ok(clean, "no bare # $ * in escaped data");
	ok(gdb_bin_unescape(esc, used, back, &n) == 0 && n == 256 && memcmp(back, all, 256) == 0,
	   "escape/unescape round trip of all byte values");

	srand(7);
	bool rt = true;
	for (int it = 0; it < 1000 && rt; it++) {
		uint8_t in[64], out[64];
		char e[128];
		size_t len = (size_t)(rand() % 64), u, m;

		for (size_t i = 0; i < len; i++)
			in[i] = "}#$*\x03" "ab"[rand() % 7];
		gdb_bin_escape(in, len, e, sizeof(e), &u);
		rt = gdb_bin_unescape(e, u, out, &m) == 0 && m == len && memcmp(in, out, len) == 0;
	}
	ok(rt, "1000 random round trips");

	/* A full output buffer never splits an escape pair. */
	const uint8_t two[] = { 'a', '}' };
	consumed = gdb_bin_escape(two, 2, esc, 2, &used);
	ok(consumed == 1 && used == 1, "escape stops before a pair that does not fit");
	is_int(gdb_bin_unescape("ab}", 3, back, &n), -EINVAL, "unescape: lone } at end refused");
	ok(gdb_bin_unescape("}]", 2, back, &n) == 0 && n == 1 && back[0] == '}', "unescape }] -> }");
}

static void test_rle(void)
{
	char out[64];
	size_t n;

	ok(gdb_rle_decode("0* ", 3, out, sizeof(out), &n) == 0 && n == 4 && !memcmp(out, "0000", 4),
	   "RLE: 0* is four zeros");
	ok(gdb_rle_decode("xa*\"y", 5, out, sizeof(out), &n) == 0 && n == 8 &&
		   !memcmp(out, "xaaaaaay", 8),
	   "RLE: '\"' repeats 5 more times");
	ok(gdb_rle_decode("ab", 2, out, sizeof(out), &n) == 0 && n == 2, "RLE: plain data unchanged");
	is_int(gdb_rle_decode("* ", 2, out, sizeof(out), &n), -EINVAL, "RLE: nothing to repeat");
	is_int(gdb_rle_decode("a*", 2, out, sizeof(out), &n), -EINVAL, "RLE: missing count");
	is_int(gdb_rle_decode("a*#", 3, out, sizeof(out), &n), -EINVAL, "RLE: '#' is not a count");
	is_int(gdb_rle_decode("a*\x1f", 3, out, sizeof(out), &n), -EINVAL, "RLE: control char count");
	is_int(gdb_rle_decode("a*~", 3, out, 8, &n), -E2BIG, "RLE: expansion past the buffer");
}

static void test_schema(void)
{
	struct gdb_args a;
	char buf[64];

#define PARSE(schema, text) (strcpy(buf, text), gdb_parse_args(schema, buf, strlen(buf), &a))
	ok(PARSE("x,x", "1f,20") == 0 && a.n == 2 && a.v[0].num == 0x1f && a.v[1].num == 0x20,
	   "schema x,x");
	ok(PARSE(":h,x,x", ":6869,0,1c0") == 0 && a.v[0].len == 2 && !memcmp(a.v[0].str, "hi", 2) &&
		   a.v[2].num == 0x1c0,
	   "schema :h,x,x: hex field ends at the next literal");
	ok(PARSE("x,x:b", "10,2:}]a") == 0 && a.v[2].len == 2 && a.v[2].str[0] == '}',
	   "schema x,x:b unescapes binary");
	ok(PARSE("?x", "") == 0 && a.n == 0, "optional part absent");
	ok(PARSE("x?;x", "5;100") == 0 && a.n == 2 && a.v[1].present && a.v[1].num == 0x100,
	   "optional part present");
	ok(PARSE(":s:x,x", ":target.xml:0,ffb") == 0 && a.v[0].len == 10 && a.v[2].num == 0xffb,
	   "string field ends at the next literal");
	is_int(PARSE("x,x", "1f"), -EINVAL, "missing field refused");
	is_int(PARSE("x,x", "1f,20,"), -EINVAL, "trailing data refused");
	is_int(PARSE("x", ""), -EINVAL, "empty number refused");
	is_int(PARSE("x=h", "1=abc"), -EINVAL, "odd hex refused");
	is_int(PARSE("x=h", "1=zz"), -EINVAL, "non-hex data refused");
	is_int(PARSE("x,x:b", "1,1:}"), -EINVAL, "binary with a lone escape refused");
	is_int(PARSE("x", "-1"), -EINVAL, "negative number refused");
#undef PARSE
}

struct stub {
	struct gdb_fake fake;
	struct gdb_target target;
	struct gdb_server *srv;
	struct served sv;
	struct gdb_client c;
};

static int stub_start(struct stub *st, size_t packet_size)
{
	struct gdb_server_options o = { .packet_size = packet_size };

	fake_init(&st->fake);
	st->fake.step_limit = 3;
	st->target = fake_target(&st->fake);
	st->srv = gdb_server_create(&st->target, &o);
	if (!st->srv)
		return -1;
	return served_start(&st->sv, st->srv, &st->c);
}

static int stub_stop(struct stub *st)
{
	int r = served_stop(&st->sv, &st->c);

	gdb_server_destroy(st->srv);
	return r;
}

static bool stub_alive(struct stub *st)
{
	const char *r = cl_call(&st->c, "?");

	return r && strcmp(r, "T05thread:1;") == 0;
}

static void test_acks(void)
{
	struct stub st;
	const char *r;

	if (stub_start(&st, 0)) {
		ok(0, "stub started");
		return;
	}
	r = cl_call(&st.c, "?");
	is_str(r, "T05thread:1;", "'?' answered with a stop reply");
	ok(!st.c.bad_reply, "reply checksum correct");

	cl_send_raw(&st.c, "$g#00", 5);
	is_int(cl_getc(&st.c, 2000), '-', "bad checksum gets '-'");
	cl_send_raw(&st.c, "$?#zz", 5);
	is_int(cl_getc(&st.c, 2000), '-', "non-hex checksum gets '-'");
	ok(stub_alive(&st), "stub still serving after NAKs");

	/* NAK the stub's reply: it must send the same reply again. */
	is_int(cl_send(&st.c, "qC"), '+', "qC acked");
	st.c.noack = true;		/* take the reply without acking it */
	r = cl_recv(&st.c);
	is_str(r, "QC1", "first copy");
	cl_send_raw(&st.c, "-", 1);
	r = cl_recv(&st.c);
	is_str(r, "QC1", "reply resent after '-'");
	cl_send_raw(&st.c, "+", 1);
	st.c.noack = false;
	ok(stub_alive(&st), "stub serving after resend");

	/* Stray acks and interrupt bytes between packets are harmless. */
	cl_send_raw(&st.c, "+++\x03--", 6);
	ok(stub_alive(&st), "stray '+', '-' and 0x03 between packets ignored");

	/* Run-length encoded request: "m10*!,4" is m100000,4. */
	r = cl_call(&st.c, "m10*!,4");
	is_str(r, "90909090", "RLE-encoded request decoded");
	r = cl_call(&st.c, "*!");
	is_str(r, "E22", "malformed RLE gets E22");

	/* A packet restarted with '$' mid-way: resync at the new '$'. */
	cl_send_raw(&st.c, "$m1000", 6);
	r = cl_call(&st.c, "?");
	is_str(r, "T05thread:1;", "truncated packet dropped at the next '$'");

	/* No-ack mode: the OK is still acked, later packets are not. */
	r = cl_call(&st.c, "QStartNoAckMode");
	is_str(r, "OK", "QStartNoAckMode accepted");
	st.c.noack = true;
	cl_send(&st.c, "?");
	{
		struct pollfd p = { .fd = st.c.fd, .events = POLLIN };
		char first = 0;

		if (poll(&p, 1, 2000) == 1)
			recv(st.c.fd, &first, 1, MSG_PEEK);
		is_int(first, '$', "no '+' before the reply in no-ack mode");
	}
	r = cl_recv(&st.c);
	is_str(r, "T05thread:1;", "reply in no-ack mode");
	r = cl_call(&st.c, "qAttached");
	is_str(r, "1", "no-ack mode serves packets");
	cl_send_raw(&st.c, "$?#00", 5);
	is_int(cl_getc(&st.c, 300), -1, "bad checksum in no-ack mode: dropped, no '-'");
	ok(stub_alive(&st), "still serving");
	is_int(stub_stop(&st), GDB_SERVE_DISCONNECTED, "stub returns DISCONNECTED on close");
}

static void test_binary(void)
{
	struct stub st;
	const uint8_t data[] = { '$', '#', '}', '*', 0x03, 0x00, 0xff, '+', '-' };
	char pkt[64], hex[2 * sizeof(data) + 1];
	size_t used, n;
	const char *r;

	if (stub_start(&st, 0)) {
		ok(0, "stub started");
		return;
	}
	n = (size_t)snprintf(pkt, sizeof(pkt), "X100100,%zx:", sizeof(data));
	gdb_bin_escape(data, sizeof(data), pkt + n, sizeof(pkt) - n, &used);
	is_int(cl_send_len(&st.c, pkt, n + used), '+', "X with escaped binary acked");
	r = cl_recv(&st.c);
	is_str(r, "OK", "X write OK");
	ok(memcmp(st.fake.mem + 0x100, data, sizeof(data)) == 0, "binary data landed unescaped");
	gdb_hex_encode(data, sizeof(data), hex);
	hex[2 * sizeof(data)] = '\0';
	r = cl_call(&st.c, "m100100,9");
	is_str(r, hex, "m reads the binary data back");
	ok(stub_stop(&st) == GDB_SERVE_DISCONNECTED, "stopped");
}

static void test_overlong(void)
{
	struct stub st;
	static char big[5000];
	const char *r;

	if (stub_start(&st, 2048)) {
		ok(0, "stub started");
		return;
	}
	r = cl_call(&st.c, "qSupported");
	ok(r && strstr(r, "PacketSize=800;"), "PacketSize advertised as 800 (hex)");
	memset(big, 'a', sizeof(big));
	memcpy(big, "M100000,9c4:", 12);
	is_int(cl_send_len(&st.c, big, sizeof(big)), '+', "overlong packet read to its end");
	r = cl_recv(&st.c);
	is_str(r, "E22", "overlong packet refused with E22");
	ok(stub_alive(&st), "serving after an overlong packet");
	/* Exactly the limit is fine. */
	memset(big, '0', 2048);
	memcpy(big, "M100000,3f9:", 12);
	cl_send_len(&st.c, big, 12 + 2 * 0x3f9 - 2);
	r = cl_recv(&st.c);
	is_str(r, "E22", "hex data shorter than the length: E22");
	memcpy(big, "M100000,3fa:", 12);
	cl_send_len(&st.c, big, 12 + 2 * 0x3fa);
	r = cl_recv(&st.c);
	is_str(r, "OK", "a packet of exactly PacketSize bytes is accepted");
	/* An RLE expansion past the limit is refused too. */
	char rle[600];
	size_t n = 0;
	n += (size_t)snprintf(rle, sizeof(rle), "M100000,400:0");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(rle + n, sizeof(rle) - n, "*~");
	cl_send_len(&st.c, rle, n);
	r = cl_recv(&st.c);
	is_str(r, "E22", "RLE expansion past PacketSize refused");
	ok(stub_alive(&st), "still serving");
	stub_stop(&st);
}

static void test_truncated_disconnect(void)
{
	struct stub st;

	if (stub_start(&st, 0)) {
		ok(0, "stub started");
		return;
	}
	cl_send_raw(&st.c, "$m100000,4#9", 12);	/* one checksum digit missing */
	is_int(stub_stop(&st), GDB_SERVE_DISCONNECTED, "disconnect mid-packet: DISCONNECTED");

	if (stub_start(&st, 0))
		return;
	cl_send_raw(&st.c, "$M100000,4:0102", 15);
	is_int(stub_stop(&st), GDB_SERVE_DISCONNECTED, "disconnect mid-data: DISCONNECTED");
	is_int(st.fake.mem[0], 0x90, "half a packet changed nothing");
}

static void test_garbage(void)
{
	struct stub st;
	uint8_t junk[256];
	bool alive = true;
	const char *r;

	if (stub_start(&st, 2048)) {
		ok(0, "stub started");
		return;
	}
	srand(12345);
	for (int it = 0; it < 3000 && alive; it++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(junk));

		for (size_t i = 0; i < len; i++) {
			int k = rand() % 16;
			/* Bias toward protocol characters so the parser's states get hit. */
			junk[i] = k == 0 ? '$' : k == 1 ? '#' : k == 2 ? '}' : k == 3 ? '*'
				: (uint8_t)(rand() & 0xff);
			if (junk[i] == 'k' || junk[i] == 'D')
				junk[i] = 'x';	/* keep the session alive */
		}
		if (cl_send_raw(&st.c, junk, len))
			alive = false;
		if (it % 100 == 99) {
			/*
			 * Resynchronise: a '$' starts over, then drain until our
			 * reply. The client does not ack (the stub may or may not
			 * be in no-ack mode by now); a stub waiting for an ack
			 * takes our next '$' as one.
			 */
			st.c.noack = true;
			cl_send(&st.c, "qC");
			for (int tries = 0; tries < 50; tries++) {
				r = cl_recv(&st.c);
				if (!r) {
					alive = false;
					break;
				}
				if (strcmp(r, "QC1") == 0)
					break;
			}
		}
	}
	ok(alive, "stub answered after 3000 rounds of random garbage");
	cl_send(&st.c, "?");
	r = NULL;
	for (int tries = 0; tries < 50; tries++) {
		r = cl_recv(&st.c);
		if (!r || strcmp(r, "T05thread:1;") == 0)
			break;
	}
	is_str(r, "T05thread:1;", "stop reply after the garbage");
	is_int(stub_stop(&st), GDB_SERVE_DISCONNECTED, "garbage never ended the session");
}

int main(void)
{
	test_hex();
	test_escape();
	test_rle();
	test_schema();
	test_acks();
	test_binary();
	test_overlong();
	test_truncated_disconnect();
	test_garbage();
	return tap_done();
}
