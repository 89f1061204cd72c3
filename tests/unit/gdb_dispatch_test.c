/*
 * gdb_dispatch_test.c — every packet the stub handles, against the fake
 * target over a socketpair: replies, effects on the target, and the
 * uniform error replies (E22 bad parameter, E14 memory fault, E28 no
 * space, E95 unsupported, empty for unknown packets). Also Ctrl-C and
 * disconnection while the target runs, and the end of a session by k, D
 * and target exit.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "gdbstub/internal.h"
#define GDB_FAKE_WITH_CLIENT
#include "tests/unit/gdb_fake.h"
#include "tests/unit/tap.h"

struct stub {
	struct gdb_fake fake;
	struct gdb_target target;
	struct gdb_server *srv;
	struct served sv;
	struct gdb_client c;
};

static int stub_start(struct stub *st, bool reverse, const struct gdb_target_ops *ops)
{
	fake_init(&st->fake);
	st->fake.can_reverse = reverse;
	st->fake.step_limit = 1000;
	st->target = fake_target(&st->fake);
	if (ops)
		st->target.ops = ops;
	st->srv = gdb_server_create(&st->target, NULL);
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

static const char *call(struct stub *st, const char *pkt)
{
	const char *r = cl_call(&st->c, pkt);

	return r ? r : "(no reply)";
}

static const char *callf(struct stub *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *callf(struct stub *st, const char *fmt, ...)
{
	char pkt[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pkt, sizeof(pkt), fmt, ap);
	va_end(ap);
	return call(st, pkt);
}

static void test_queries(void)
{
	struct stub st;
	const char *r;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	r = call(&st, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	ok(strstr(r, "PacketSize=4000;"), "qSupported: PacketSize=4000 (%s)", r);
	ok(strstr(r, "qXfer:features:read+") && strstr(r, "QStartNoAckMode+") &&
		   strstr(r, "vContSupported+") && strstr(r, "swbreak+") && strstr(r, "hwbreak+"),
	   "qSupported: features listed");
	ok(!strstr(r, "Reverse"), "qSupported: no reverse packets for a live target");
	is_str(call(&st, "?"), "T05thread:1;", "?");
	is_str(call(&st, "qAttached"), "1", "qAttached");
	is_str(call(&st, "qAttached:1"), "1", "qAttached:pid");
	is_str(call(&st, "qfThreadInfo"), "m1", "qfThreadInfo");
	is_str(call(&st, "qsThreadInfo"), "l", "qsThreadInfo");
	is_str(call(&st, "qC"), "QC1", "qC");
	is_str(call(&st, "Hg0"), "OK", "Hg0");
	is_str(call(&st, "Hc-1"), "OK", "Hc-1");
	is_str(call(&st, "Hgp1.1"), "OK", "Hg with multiprocess id");
	is_str(call(&st, "Hg2"), "E22", "H for a thread that does not exist");
	is_str(call(&st, "Hgzz"), "E22", "H with a bad id");
	is_str(call(&st, "T1"), "OK", "T1 alive");
	is_str(call(&st, "T2"), "E22", "T2 not alive");
	is_str(call(&st, "qOffsets"), "", "qOffsets unsupported (empty)");
	is_str(call(&st, "vMustReplyEmpty"), "", "vMustReplyEmpty");
	is_str(call(&st, "qFooBar"), "", "unknown q packet: empty");
	is_str(call(&st, "qCRC:100000,4"), "", "qCRC is not taken for qC");
	is_str(call(&st, "!"), "", "unknown packet letter: empty");
	is_str(call(&st, ""), "", "empty packet: empty reply");
	is_str(call(&st, "vCont?"), "vCont;c;C;s;S;t", "vCont?");

	/* The target description, read in small pieces and reassembled. */
	size_t xml_len;
	char *xml = gdb_target_xml(&xml_len);
	char *got = calloc(1, xml_len + 1);
	size_t off = 0;
	bool good = xml && got;
	for (int i = 0; good && i < 1000; i++) {
		uint8_t tmp[0x100];
		size_t n;

		r = callf(&st, "qXfer:features:read:target.xml:%zx,%x", off, 0x7f);
		if ((r[0] != 'm' && r[0] != 'l') ||
		    gdb_bin_unescape(r + 1, strlen(r + 1), tmp, &n) || off + n > xml_len) {
			good = false;
			break;
		}
		memcpy(got + off, tmp, n);
		off += n;
		if (r[0] == 'l')
			break;
	}
	ok(good && off == xml_len && memcmp(got, xml, xml_len) == 0,
	   "target.xml read in 0x7f-byte pieces matches (%zu bytes)", off);
	ok(xml && strstr(xml, "org.gnu.gdb.i386.sys") && strstr(xml, "name=\"cr3\"") &&
		   strstr(xml, "name=\"efer\"") && strstr(xml, "name=\"k_gs_base\"") &&
		   strstr(xml, "<architecture>i386:x86-64</architecture>"),
	   "target.xml has the system registers and architecture");
	free(xml);
	free(got);
	is_str(callf(&st, "qXfer:features:read:target.xml:%zx,10", xml_len), "l",
	       "qXfer past the end: l");
	is_str(call(&st, "qXfer:features:read:other.xml:0,10"), "E22", "qXfer unknown annex: E22");
	is_str(call(&st, "qXfer:features:read:target.xml:0,0"), "E22", "qXfer zero length: E22");
	is_str(call(&st, "qXfer:features:read:target.xml:0"), "E22", "qXfer missing length: E22");
	is_str(call(&st, "qXfer:features:read:target.xml:zz,10"), "E22", "qXfer bad offset: E22");
	stub_stop(&st);
}

static void test_registers(void)
{
	struct stub st;
	char hex[2 * sizeof(struct gdb_x86_regs) + 64];
	const char *r;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	r = call(&st, "g");
	is_int(strlen(r), 2 * 608, "g: 608 bytes of registers");
	ok(strncmp(r, "8877665544332211", 16) == 0, "g: rax first, little-endian");
	ok(strncmp(r + 2 * 128, "0000100000000000", 16) == 0, "g: rip after the 16 GPRs");
	is_str(callf(&st, "p%x", GDB_REG_RIP), "0000100000000000", "p rip");
	is_str(callf(&st, "p%x", GDB_REG_EFLAGS), "02000000", "p eflags is 32 bits");
	is_str(callf(&st, "p%x", GDB_REG_ST0), "00000000000000000000", "p st0 is 80 bits");
	is_str(callf(&st, "p%x", GDB_REG_XMM0), "00000000000000000000000000000000", "p xmm0 is 128 bits");
	is_str(callf(&st, "p%x", GDB_REG_MXCSR), "801f0000", "p mxcsr");
	is_str(callf(&st, "p%x", GDB_REG_FS_BASE), "00100000007f0000", "p fs_base");
	is_str(callf(&st, "p%x", GDB_REG_K_GS_BASE), "00200000007f0000", "p k_gs_base");
	is_str(callf(&st, "p%x", GDB_REG_CR0), "1100008000000000", "p cr0");
	is_str(callf(&st, "p%x", GDB_REG_CR3), "0010000000000000", "p cr3");
	is_str(callf(&st, "p%x", GDB_REG_EFER), "0005000000000000", "p efer");
	is_str(callf(&st, "p%x", GDB_X86_NREGS), "E22", "p past the last register: E22");
	is_str(call(&st, "p"), "E22", "p without a number: E22");
	is_str(call(&st, "pxyz"), "E22", "p with bad hex: E22");

	is_str(callf(&st, "P%x=efbeadde00000000", GDB_REG_RAX), "OK", "P rax");
	is_int(st.fake.regs.rax, 0xdeadbeef, "P changed rax");
	is_str(callf(&st, "P%x=00300000", GDB_REG_CR3), "E22", "P with the wrong size: E22");
	is_str(callf(&st, "P%x=zz00000000000000", GDB_REG_CR3), "E22", "P with bad hex: E22");
	is_str(callf(&st, "P%x=0040000000000000", GDB_REG_CR3), "OK", "P cr3");
	is_int(st.fake.regs.cr3, 0x4000, "P changed cr3");

	/* G: change r15 and efer in the full set, write it back. */
	r = call(&st, "g");
	snprintf(hex, sizeof(hex), "G%s", r);
	memcpy(hex + 1 + 2 * 120, "0100000000000000", 16);		/* r15 */
	memcpy(hex + 1 + 2 * (608 - 8), "010d000000000000", 16);	/* efer */
	is_str(call(&st, hex), "OK", "G accepted");
	ok(st.fake.regs.r15 == 1 && st.fake.regs.efer == 0xd01 && st.fake.regs.cr3 == 0x4000,
	   "G wrote r15 and efer, kept cr3");
	hex[5] = 'x';
	is_str(call(&st, hex), "E22", "G with bad hex: E22");
	hex[5] = '0';
	strcat(hex, "00");
	is_str(call(&st, hex), "E22", "G longer than the register set: E22");
	is_str(call(&st, "G123"), "E22", "G with odd hex length: E22");
	is_str(call(&st, "G"), "E22", "G with no data: E22");
	stub_stop(&st);
}

static void test_memory(void)
{
	struct stub st;
	const char *r;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	is_str(call(&st, "m100000,4"), "90909090", "m reads mapped memory");
	is_str(call(&st, "m0,4"), "E14", "m of unmapped memory: E14");
	is_str(call(&st, "m10fffe,4"), "9090", "m across the end: the readable prefix");
	is_str(call(&st, "mffffffffffffffff,2"), "E14", "m wrapping past 2^64: E14");
	r = call(&st, "m100000,100000");
	is_int(strlen(r), 16384, "m larger than a packet is cut to fit");
	is_str(call(&st, "m100000,0"), "E22", "m of zero bytes: E22");
	is_str(call(&st, "m100000"), "E22", "m without length: E22");
	is_str(call(&st, "mxyz,4"), "E22", "m with bad address: E22");
	is_str(call(&st, "m100000,4,5"), "E22", "m with trailing junk: E22");
	is_str(call(&st, "m11111111111111111,4"), "E22", "m with a 17-digit address: E22");

	is_str(call(&st, "M100ffe,4:01020304"), "OK", "M across a page boundary");
	ok(memcmp(st.fake.mem + 0xffe, "\x01\x02\x03\x04", 4) == 0, "M wrote the bytes");
	is_str(call(&st, "M100000,4:0102"), "E22", "M with less data than the length: E22");
	is_str(call(&st, "M100000,2:01zz"), "E22", "M with bad hex: E22");
	is_str(call(&st, "M0,1:00"), "E14", "M to unmapped memory: E14");
	is_str(call(&st, "X100000,0:"), "OK", "X of zero bytes (gdb's probe)");
	is_str(call(&st, "X100000,2:ab"), "OK", "X writes binary");
	ok(st.fake.mem[0] == 'a' && st.fake.mem[1] == 'b', "X wrote the bytes");
	is_str(call(&st, "X100000,3:ab"), "E22", "X length mismatch: E22");
	is_str(call(&st, "X100000,1:}"), "E22", "X with a lone escape: E22");
	is_str(call(&st, "X0,1:a"), "E14", "X to unmapped memory: E14");
	stub_stop(&st);
}

static void test_breakpoints_and_run(void)
{
	struct stub st;
	char want[64];

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	call(&st, "qSupported:swbreak+;hwbreak+");
	is_str(callf(&st, "Z0,%llx,1", FAKE_BASE + 0x10), "OK", "Z0 inserted");
	is_str(call(&st, "c"), "T05swbreak:;thread:1;", "c stops at the software breakpoint");
	is_int(st.fake.regs.rip, FAKE_BASE + 0x10, "rip at the breakpoint");
	is_str(callf(&st, "z0,%llx,1", FAKE_BASE + 0x10), "OK", "z0 removed");
	is_str(callf(&st, "z0,%llx,1", FAKE_BASE + 0x10), "E22", "z0 again: E22 from the target");

	for (int i = 0; i < 4; i++)
		is_str(callf(&st, "Z1,%llx,1", FAKE_BASE + 0x18 + (unsigned)i), "OK", "Z1 #%d", i + 1);
	/* A refused Z with the target's reason: E.Z<type>.<reason> (gdb shows
	 * the reason for Z1); without one it would be E28. */
	ok(strncmp(callf(&st, "Z1,%llx,1", FAKE_BASE + 0x30), "E.Z1.", 5) == 0,
	   "5th hardware breakpoint: E.Z1.<reason>");
	is_str(call(&st, "c"), "T05hwbreak:;thread:1;", "c stops at the hardware breakpoint");
	is_int(st.fake.regs.rip, FAKE_BASE + 0x18, "rip at the hardware breakpoint");
	for (int i = 0; i < 4; i++)
		callf(&st, "z1,%llx,1", FAKE_BASE + 0x18 + (unsigned)i);

	ok(strncmp(callf(&st, "Z2,%llx,3", FAKE_COUNTER_ADDR), "E.Z2.", 5) == 0,
	   "watch of 3 bytes refused: E.Z2.<reason>");
	is_str(callf(&st, "Z2,%llx,8", FAKE_COUNTER_ADDR), "OK", "Z2 write watchpoint");
	snprintf(want, sizeof(want), "T05watch:%llx;thread:1;", FAKE_COUNTER_ADDR);
	is_str(call(&st, "c"), want, "c stops at the watchpoint with its address");
	callf(&st, "z2,%llx,8", FAKE_COUNTER_ADDR);
	is_str(callf(&st, "Z4,%llx,8", FAKE_COUNTER_ADDR), "OK", "Z4 access watchpoint");
	snprintf(want, sizeof(want), "T05awatch:%llx;thread:1;", FAKE_COUNTER_ADDR);
	is_str(call(&st, "c"), want, "awatch stop");
	callf(&st, "z4,%llx,8", FAKE_COUNTER_ADDR);
	is_str(call(&st, "Z7,100000,1"), "", "unknown Z type: empty (unsupported)");
	is_str(call(&st, "Z0,100000"), "E22", "Z without kind: E22");
	is_str(call(&st, "Z0,100000,1;X1,0f"), "OK", "Z0 with a condition list (ignored)");
	call(&st, "z0,100000,1");

	uint64_t rip = st.fake.regs.rip;
	is_str(call(&st, "s"), "T05thread:1;", "s: SIGTRAP stop");
	is_int(st.fake.regs.rip, rip + 1, "s advanced one instruction");
	is_str(callf(&st, "s%llx", FAKE_BASE + 0x30), "T05thread:1;", "s with an address");
	is_int(st.fake.regs.rip, FAKE_BASE + 0x31, "s started at the given address");
	is_str(call(&st, "S05"), "T05thread:1;", "S with a signal steps");
	is_int(st.fake.last_how, GDB_RESUME_STEP, "S resumed as a step");
	is_str(callf(&st, "C05;%llx", FAKE_BASE), "T05thread:1;", "C with signal and address");
	is_int(st.fake.last_how, GDB_RESUME_CONTINUE, "C resumed as continue");
	is_str(callf(&st, "c%llx", FAKE_BASE + 0x3), "T05thread:1;", "c with an address");
	is_str(call(&st, "cxyz"), "E22", "c with a bad address: E22");
	is_str(call(&st, "C"), "E22", "C without a signal: E22");

	is_str(call(&st, "vCont;s:1"), "T05thread:1;", "vCont;s:1");
	is_int(st.fake.last_how, GDB_RESUME_STEP, "vCont;s stepped");
	is_str(call(&st, "vCont;s:2;c"), "T05thread:1;", "vCont;s:2;c");
	is_int(st.fake.last_how, GDB_RESUME_CONTINUE, "action for another thread skipped");
	is_str(call(&st, "vCont;S05:p1.1"), "T05thread:1;", "vCont;S05 with a multiprocess id");
	is_int(st.fake.last_how, GDB_RESUME_STEP, "vCont;S stepped");
	is_str(call(&st, "vCont;t"), "T00thread:1;", "vCont;t: already stopped");
	int before = st.fake.resumes;
	is_str(call(&st, "vCont;c;x"), "E22", "vCont with an unknown action: E22");
	is_str(call(&st, "vCont;r100000,100010"), "E22", "vCont range step (not advertised): E22");
	is_str(call(&st, "vCont;c:2"), "E22", "vCont with nothing for thread 1: E22");
	is_str(call(&st, "vCont;"), "E22", "vCont with an empty action: E22");
	is_str(call(&st, "vCont;C5"), "E22", "vCont;C with a one-digit signal: E22");
	is_str(call(&st, "vCont"), "E22", "vCont without actions: E22");
	is_int(st.fake.resumes, before, "refused vCont packets did not run the target");

	is_str(call(&st, "bs"), "E95", "bs on a target that cannot reverse: E95");
	is_str(call(&st, "bc"), "E95", "bc on a target that cannot reverse: E95");
	is_int(st.fake.resumes, before, "refused reverse packets did not run the target");

	/* Without swbreak+/hwbreak+ from gdb, plain T05. */
	stub_stop(&st);
	if (stub_start(&st, false, NULL))
		return;
	callf(&st, "Z0,%llx,1", FAKE_BASE + 0x10);
	is_str(call(&st, "c"), "T05thread:1;", "no swbreak: field unless gdb asked for it");
	stub_stop(&st);
}

static void test_reverse(void)
{
	struct stub st;
	const char *r;

	if (stub_start(&st, true, NULL)) {
		ok(0, "stub started");
		return;
	}
	r = call(&st, "qSupported:swbreak+");
	ok(strstr(r, ";ReverseStep+;ReverseContinue+"), "qSupported: reverse packets advertised");
	is_str(call(&st, "bs"), "T05replaylog:begin;thread:1;", "bs at the start: replaylog:begin");
	call(&st, "s");
	call(&st, "s");
	call(&st, "s");
	is_int(st.fake.regs.rip, FAKE_BASE + 3, "three steps forward");
	is_str(call(&st, "bs"), "T05thread:1;", "bs steps back");
	is_int(st.fake.regs.rip, FAKE_BASE + 2, "rip one back");
	is_int(st.fake.last_how, GDB_RESUME_REVERSE_STEP, "target asked for a reverse step");
	callf(&st, "Z0,%llx,1", FAKE_BASE + 1);
	is_str(call(&st, "bc"), "T05swbreak:;thread:1;", "bc stops at a breakpoint behind");
	is_int(st.fake.regs.rip, FAKE_BASE + 1, "rip at that breakpoint");
	is_str(call(&st, "bc"), "T05replaylog:begin;thread:1;", "bc runs back to the start");
	callf(&st, "z0,%llx,1", FAKE_BASE + 1);
	st.fake.replay_end = 5;
	is_str(call(&st, "c"), "T05replaylog:end;thread:1;", "c to the end: replaylog:end");
	stub_stop(&st);
}

static void test_monitor(void)
{
	struct stub st;
	char hex[64];
	const char *r;
	int lines = 0;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	gdb_hex_encode((const uint8_t *)"hello", 5, hex);
	snprintf(hex + 10, sizeof(hex) - 10, "%s", "");
	r = callf(&st, "qRcmd,%s", hex);
	gdb_hex_encode((const uint8_t *)"echo: hello\n", 12, hex);
	hex[24] = '\0';
	ok(r[0] == 'O' && strcmp(r + 1, hex) == 0, "monitor output as an O packet");
	r = cl_recv(&st.c);
	is_str(r, "OK", "then OK");
	is_str(st.fake.last_monitor, "hello", "target got the decoded command");

	r = call(&st, "qRcmd,626967");	/* "big" */
	while (r && r[0] == 'O' && strcmp(r, "OK") != 0 && lines < 1000) {
		lines++;
		r = cl_recv(&st.c);
	}
	ok(lines >= 100, "long output in %d O packets", lines);
	is_str(r, "OK", "long output ends with OK");

	r = call(&st, "qRcmd,6661696c");	/* "fail" */
	ok(r[0] == 'O', "failing command still shows its output");
	is_str(cl_recv(&st.c), "E22", "failing command: error reply");
	is_str(call(&st, "qRcmd,6g"), "E22", "qRcmd with bad hex: E22");
	is_str(call(&st, "qRcmd,610062"), "E22", "qRcmd with a NUL inside: E22");
	stub_stop(&st);

	struct gdb_target_ops no_monitor = fake_ops;
	no_monitor.monitor = NULL;
	if (stub_start(&st, false, &no_monitor))
		return;
	is_str(call(&st, "qRcmd,6869"), "", "qRcmd without a monitor: empty (unsupported)");
	stub_stop(&st);
}

/* The text of an O packet (hex), decoded into out. */
static const char *o_text(const char *r, char *out, size_t size)
{
	size_t n = strlen(r + 1) / 2;

	if (n >= size || gdb_hex_decode(r + 1, n, (uint8_t *)out))
		n = 0;
	out[n] = '\0';
	return out;
}

/* Read O packets until another reply; *interrupted_line set if one of them
 * said the command was interrupted. Returns that reply. */
static const char *drain_output(struct stub *st, int *lines, bool *interrupted_line)
{
	char text[600];
	const char *r;

	*lines = 0;
	*interrupted_line = false;
	while ((r = cl_recv(&st->c)) && r[0] == 'O' && strcmp(r, "OK") != 0) {
		if (strstr(o_text(r, text, sizeof(text)), "endless: interrupted after"))
			*interrupted_line = true;
		++*lines;
	}
	return r ? r : "(no reply)";
}

/* A long monitor command stops on Ctrl-C (0x03), and when the client sends
 * its next packet instead (what gdb does after Ctrl-C: it stops reading
 * and says nothing until its next command). */
static void test_monitor_interrupt(void)
{
	char endless[32], hello[16];
	struct stub st;
	const char *r;
	bool said;
	int lines;

	gdb_hex_encode((const uint8_t *)"endless", 7, endless);
	endless[14] = '\0';
	gdb_hex_encode((const uint8_t *)"hello", 5, hello);
	hello[10] = '\0';
	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	r = callf(&st, "qRcmd,%s", endless);
	ok(r[0] == 'O', "endless monitor command: output comes");
	cl_send_raw(&st.c, "\x03", 1);
	r = drain_output(&st, &lines, &said);
	ok(said, "Ctrl-C: the command says it was interrupted (%d more lines)", lines);
	ok(lines < 1000000, "Ctrl-C: the command stopped early");
	is_str(r, "OK", "Ctrl-C: then the reply to the command, OK");
	r = callf(&st, "qRcmd,%s", hello);
	ok(r[0] == 'O' && strcmp(cl_recv(&st.c), "OK") == 0, "a later monitor command works");
	ok(st.fake.monitors == 2, "the target ran both commands");

	/* As gdb does: no-ack mode, and a new packet instead of reading on. */
	is_str(call(&st, "QStartNoAckMode"), "OK", "no-ack mode");
	st.c.noack = true;
	cl_send_raw(&st.c, "+", 1);
	r = callf(&st, "qRcmd,%s", endless);
	ok(r[0] == 'O', "endless again: output comes");
	cl_send(&st.c, "g");
	r = drain_output(&st, &lines, &said);
	ok(said, "a new packet: the command says it was interrupted (%d more lines)", lines);
	ok(r[0] != 'O' && strcmp(r, "OK") != 0 && strlen(r) > 100,
	   "the next reply answers the new packet (registers), not the abandoned command");
	is_str(callf(&st, "qRcmd,%s", hello), "O6563686f3a2068656c6c6f0a", "and a later monitor command works");
	is_str(cl_recv(&st.c), "OK", "with its OK");
	stub_stop(&st);
}

static void test_interrupt(void)
{
	struct stub st;
	const char *r;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	st.fake.step_limit = 0;		/* runs until interrupted */
	is_int(cl_send(&st.c, "c"), '+', "c acked");
	ok(fake_wait_resumes(&st.fake, 1) == 0, "the target runs");
	cl_send_raw(&st.c, "\x03", 1);
	r = cl_recv(&st.c);
	is_str(r, "T02thread:1;", "Ctrl-C stops the running target with SIGINT");
	is_int(st.fake.interrupts, 1, "target->interrupt called once");
	is_str(call(&st, "?"), "T02thread:1;", "? reports the SIGINT stop");

	/* 0x03 in the same write as the packet: it is already buffered. */
	cl_send_raw(&st.c, "$c#63\x03", 6);
	r = cl_recv(&st.c);
	is_str(r, "T02thread:1;", "Ctrl-C right behind the c packet");

	/* The client vanishes while the target runs. */
	cl_send(&st.c, "c");
	ok(fake_wait_resumes(&st.fake, 3) == 0, "the target runs again");
	int res = stub_stop(&st);
	is_int(res, GDB_SERVE_DISCONNECTED, "disconnect during run: DISCONNECTED");
	ok(st.fake.interrupts >= 3, "disconnect interrupted the target");

	/* A packet instead of 0x03 while running stays for later; hang-up still seen. */
	if (stub_start(&st, false, NULL))
		return;
	st.fake.step_limit = 0;
	cl_send(&st.c, "c");
	ok(fake_wait_resumes(&st.fake, 1) == 0, "the target runs");
	cl_send_raw(&st.c, "$?#3f", 5);
	is_int(stub_stop(&st), GDB_SERVE_DISCONNECTED, "a packet during run does not wedge the stub");
}

static void test_session_end(void)
{
	struct stub st;

	if (stub_start(&st, false, NULL)) {
		ok(0, "stub started");
		return;
	}
	is_int(cl_send(&st.c, "k"), '+', "k acked");
	is_int(stub_stop(&st), GDB_SERVE_KILLED, "k ends the session: KILLED");
	is_int(st.fake.kills, 1, "target->kill called");

	if (stub_start(&st, false, NULL))
		return;
	is_str(call(&st, "D"), "OK", "D answered OK");
	is_int(stub_stop(&st), GDB_SERVE_DETACHED, "D ends the session: DETACHED");
	is_int(st.fake.detaches, 1, "target->detach called");

	if (stub_start(&st, false, NULL))
		return;
	st.fake.has_forced = true;
	st.fake.forced = (struct gdb_stop){ .kind = GDB_STOP_EXITED, .status = 3 };
	is_str(call(&st, "c"), "W03", "exit reported as W03");
	is_int(stub_stop(&st), GDB_SERVE_EXITED, "exit ends the session: EXITED");

	if (stub_start(&st, false, NULL))
		return;
	st.fake.has_forced = true;
	st.fake.forced = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = 11 };
	is_str(call(&st, "c"), "X0b", "crash reported as X0b");
	is_int(stub_stop(&st), GDB_SERVE_EXITED, "crash ends the session");

	/* The same server serves a second client after the first one left. */
	if (stub_start(&st, false, NULL))
		return;
	st.fake.has_forced = true;
	st.fake.forced = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
	call(&st, "c");
	is_int(served_stop(&st.sv, &st.c), GDB_SERVE_DISCONNECTED, "first client left");
	served_start(&st.sv, st.srv, &st.c);
	is_str(call(&st, "?"), "T02thread:1;", "next client sees the last stop");
	stub_stop(&st);
}

static void hexpath(char *out, const char *path)
{
	gdb_hex_encode((const uint8_t *)path, strlen(path), out);
	out[2 * strlen(path)] = '\0';
}

static void test_files(void)
{
	char path[] = "/tmp/gdb_dispatch_test.XXXXXX", hex[128], want[160];
	static uint8_t content[20000];
	struct stub st;
	const char *r;
	uint8_t back[sizeof(content)];
	size_t got = 0, n;
	int fd;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + i / 256);	/* every byte value, '$' '#' '}' '*' too */
	fd = mkstemp(path);
	if (fd < 0 || write(fd, content, sizeof(content)) != (ssize_t)sizeof(content)) {
		ok(0, "temp file");
		return;
	}
	close(fd);

	/* Without an exec file: not advertised, nothing served. */
	if (stub_start(&st, false, NULL))
		return;
	ok(!strstr(call(&st, "qSupported"), "exec-file"), "no exec-file without a path");
	is_str(call(&st, "qXfer:exec-file:read::0,100"), "", "qXfer:exec-file unsupported: empty");
	hexpath(hex, path);
	is_str(callf(&st, "vFile:open:%s,0,0", hex), "F-1,2", "vFile:open refused: ENOENT");
	stub_stop(&st);

	fake_init(&st.fake);
	st.target = fake_target(&st.fake);
	st.target.exec_file = path;
	st.srv = gdb_server_create(&st.target, NULL);
	if (!st.srv || served_start(&st.sv, st.srv, &st.c))
		return;
	ok(strstr(call(&st, "qSupported"), ";qXfer:exec-file:read+"), "exec-file advertised");
	snprintf(want, sizeof(want), "l%s", path);
	is_str(call(&st, "qXfer:exec-file:read::0,1000"), want, "exec-file names the path");
	snprintf(want, sizeof(want), "l%s", path + 5);
	is_str(call(&st, "qXfer:exec-file:read:1:5,1000"), want, "exec-file with pid and offset");
	snprintf(want, sizeof(want), "m%.4s", path);
	is_str(call(&st, "qXfer:exec-file:read::0,4"), want, "exec-file in pieces: m");
	is_str(call(&st, "vFile:setfs:0"), "F0", "vFile:setfs");
	is_str(call(&st, "vFile:open:2f6574632f706173737764,0,0"), "F-1,2",
	       "any other file (/etc/passwd) is refused");
	is_str(callf(&st, "vFile:open:%s,1,0", hex), "F-1,d", "open for writing refused: EACCES");
	is_str(callf(&st, "vFile:open:%s,200,1a4", hex), "F-1,d", "open with O_CREAT refused");
	is_str(callf(&st, "vFile:open:%s,0", hex), "E22", "open without mode: E22");
	is_str(callf(&st, "vFile:open:%s,0,0", hex), "F0", "exec file opened as fd 0");
	for (int i = 0; i < 200 && got < sizeof(content); i++) {
		r = callf(&st, "vFile:pread:0,%x,%zx", 0x3000, got);
		const char *semi = strchr(r, ';');
		unsigned long cnt = strtoul(r + 1, NULL, 16);

		if (r[0] != 'F' || !semi || cnt == 0 ||
		    gdb_bin_unescape(semi + 1, st.c.len - (size_t)(semi + 1 - r), back + got, &n) ||
		    n != cnt)
			break;
		got += n;
	}
	ok(got == sizeof(content) && memcmp(back, content, got) == 0,
	   "pread returns the file exactly (%zu bytes)", got);
	is_str(callf(&st, "vFile:pread:0,10,%zx", sizeof(content)), "F0;", "pread at the end: 0 bytes");
	is_str(call(&st, "vFile:pread:3,10,0"), "F-1,9", "pread on a closed slot: EBADF");
	is_str(call(&st, "vFile:pread:ffffffff,10,0"), "F-1,9", "pread on a huge fd: EBADF");
	is_str(call(&st, "vFile:pread:0,10,ffffffffffffffff"), "F-1,16", "pread at a negative offset: EINVAL");
	is_str(call(&st, "vFile:close:0"), "F0", "close");
	is_str(call(&st, "vFile:close:0"), "F-1,9", "close twice: EBADF");
	for (int i = 0; i < 4; i++)
		callf(&st, "vFile:open:%s,0,0", hex);
	is_str(callf(&st, "vFile:open:%s,0,0", hex), "F-1,18", "fifth open: EMFILE");
	stub_stop(&st);	/* closes the session's files (ASan/valgrind would see a leak) */
	unlink(path);
}

static void test_create(void)
{
	struct gdb_fake f;
	struct gdb_target t;
	struct gdb_target_ops bad = fake_ops;

	fake_init(&f);
	t = fake_target(&f);
	bad.read_mem = NULL;
	t.ops = &bad;
	errno = 0;
	ok(gdb_server_create(&t, NULL) == NULL && errno == EINVAL, "create refuses a target without read_mem");
	ok(gdb_server_create(NULL, NULL) == NULL && errno == EINVAL, "create refuses NULL");
}

/* Extended mode (target extended-remote): '!', vRun, vKill; and E.text
 * error replies from a target's last_error. */
static int ext_restarts;
static const char *ext_why;

static int ext_restart(void *ctx, struct gdb_stop *stop)
{
	ext_restarts++;
	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return 0;
}

static const char *ext_last_error(void *ctx)
{
	const char *w = ext_why;

	ext_why = NULL;
	return w;
}

static int ext_write_regs(void *ctx, const struct gdb_x86_regs *regs)
{
	ext_why = "register writes are refused here";
	return -EOPNOTSUPP;
}

static void test_extended(void)
{
	struct gdb_target_ops ops = fake_ops;
	struct stub st;

	if (stub_start(&st, false, NULL))
		return;
	is_str(call(&st, "!"), "", "! on a target that cannot restart: empty (unsupported)");
	is_str(call(&st, "vRun;"), "E95", "vRun outside extended mode: E95");
	is_str(call(&st, "vKill;1"), "", "vKill outside extended mode: empty (gdb sends k)");
	is_str(call(&st, "P0=0100000000000000"), "OK", "no last_error: plain replies");
	stub_stop(&st);

	ops.restart = ext_restart;
	ops.last_error = ext_last_error;
	ops.write_regs = ext_write_regs;
	if (stub_start(&st, false, &ops))
		return;
	is_str(call(&st, "!"), "OK", "!: extended mode");
	is_str(call(&st, "vRun;"), "T05thread:1;", "vRun: restarted, stopped at the start");
	is_int(ext_restarts, 1, "target->restart called");
	is_str(call(&st, "P0=0100000000000000"), "E.register writes are refused here",
	       "a target's reason: E.text");
	is_str(callf(&st, "p%x", GDB_X86_NREGS), "E22", "the reason was taken: a later error is Enn");
	is_str(call(&st, "vKill;1"), "OK", "vKill in extended mode: OK");
	is_int(st.fake.kills, 1, "target->kill called");
	is_str(call(&st, "vRun;2f6b;"), "T05thread:1;", "vRun after a kill: runs again");
	is_int(ext_restarts, 2, "target->restart called again");
	st.fake.has_forced = true;
	st.fake.forced = (struct gdb_stop){ .kind = GDB_STOP_EXITED, .status = 3 };
	is_str(call(&st, "c"), "W03", "exit reported as W03");
	is_str(call(&st, "vRun;"), "T05thread:1;", "extended mode: the session outlives the exit");
	is_int(cl_send(&st.c, "k"), '+', "k acked");
	is_int(stub_stop(&st), GDB_SERVE_KILLED, "k in extended mode, then gdb goes: KILLED");
}

int main(void)
{
	test_create();
	test_queries();
	test_registers();
	test_memory();
	test_breakpoints_and_run();
	test_reverse();
	test_monitor();
	test_monitor_interrupt();
	test_interrupt();
	test_session_end();
	test_extended();
	test_files();
	return tap_done();
}
