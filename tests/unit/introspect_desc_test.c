/*
 * introspect_desc_test.c — GDT/IDT/TSS decoding of known images (a typical
 * long-mode GDT with a 16-byte TSS descriptor, 64- and 32-bit IDT gates, a
 * 64-bit TSS), truncated tables, and the control-register text.
 */
#include <errno.h>
#include <string.h>

#include "introspect/introspect.h"
#include "tests/unit/tap.h"

static char text[8192];

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void test_gdt(void)
{
	uint8_t gdt[56];
	struct introspect_gdt_entry e[8];
	struct introspect_seg s;
	struct introspect_out o;
	size_t n;

	put64(gdt + 0, 0);
	put64(gdt + 8, 0x00af9a000000ffffull);     /* 64-bit code, DPL0 */
	put64(gdt + 16, 0x00cf92000000ffffull);    /* flat data */
	put64(gdt + 24, 0x00cffa000000ffffull);    /* 32-bit code, DPL3 */
	/* TSS64 at 0xffff888000123456, limit 0x67, type 9, present. */
	put64(gdt + 32, 0x0000891234560067ull);
	put64(gdt + 40, 0x00000000ffff8880ull);
	put64(gdt + 48, 0x0000f20000000000ull | 0xffff); /* data DPL3, base 0, limit 0xffff */

	is_int(introspect_decode_gdt(gdt, sizeof(gdt), 1, e, 8, &n), 0, "decode long-mode GDT");
	is_int(n, 6, "6 entries (TSS takes 16 bytes)");
	is_str(e[0].seg.kind, "null", "entry 0 null");
	is_str(e[1].seg.kind, "code64", "0x08 code64");
	ok(e[1].seg.l && !e[1].seg.db && e[1].seg.g && e[1].seg.p && e[1].seg.dpl == 0 && e[1].seg.is_code,
	   "code64 bits: L G P DPL0");
	is_int(e[1].seg.limit, 0xffffffff, "G scales limit to 4G-1");
	is_str(e[2].seg.kind, "data", "0x10 data");
	is_str(e[3].seg.kind, "code32", "0x18 code32");
	is_int(e[3].seg.dpl, 3, "code32 DPL3");
	is_str(e[4].seg.kind, "tss64-avail", "0x20 TSS");
	is_int(e[4].seg.size, 16, "TSS descriptor 16 bytes");
	is_int(e[4].seg.base, 0xffff888000123456ull, "TSS 64-bit base");
	is_int(e[4].seg.limit, 0x67, "TSS limit");
	is_int(e[5].selector, 0x30, "entry after the TSS has selector 0x30");
	is_int(e[5].seg.dpl, 3, "0x30 data DPL3");
	is_int(e[5].seg.limit, 0xffff, "byte-granular limit");

	is_int(introspect_decode_gdt(gdt, 40, 1, e, 8, &n), -EINVAL, "TSS cut off by the limit: -EINVAL");
	is_int(n, 4, "entries before the cut-off kept");
	is_int(introspect_decode_seg(gdt + 32, 8, 1, &s), -EINVAL, "16-byte descriptor in 8 bytes: -EINVAL");
	is_int(introspect_decode_seg(gdt, 7, 1, &s), -EINVAL, "7 bytes: -EINVAL");
	/* The same TSS bytes in legacy mode: an 8-byte 32-bit TSS. */
	is_int(introspect_decode_seg(gdt + 32, 16, 0, &s), 8, "legacy: 8 bytes");
	is_str(s.kind, "tss32-avail", "legacy: tss32-avail");
	is_int(s.base, 0x00123456ull, "legacy: 32-bit base");

	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_gdt(gdt, sizeof(gdt), 1, &o);
	ok(strstr(text, "0x0008 code64") && strstr(text, "base=0x0 limit=0xffffffff dpl=0 P G L XR") &&
	   strstr(text, "0x0020 tss64-avail base=0xffff888000123456 limit=0x67 dpl=0 P") &&
	   !strstr(text, "null"), "GDT text");
	printf("# %.*s\n", (int)strcspn(text, "\n"), text);
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_gdt(gdt, 40, 1, &o);
	ok(strstr(text, "cut off") != NULL, "GDT text reports a cut-off descriptor");

	/* 64-bit call gate. */
	{
		uint8_t cg[16];

		put64(cg, 0x5678ec0000101234ull);
		put64(cg + 8, 0xffffffffull);
		is_int(introspect_decode_seg(cg, 16, 1, &s), 16, "call gate 16 bytes");
		ok(!strcmp(s.kind, "callgate64") && s.gate_selector == 0x10 &&
		   s.gate_offset == 0xffffffff56781234ull && s.dpl == 3, "call gate target");
	}
}

static void test_idt(void)
{
	uint8_t idt[16 * 33];
	struct introspect_gate g[40];
	struct introspect_out o;
	size_t n;

	memset(idt, 0, sizeof(idt));
	/* Vector 14: int gate, selector 0x10, IST 5, offset 0xffffffff81234567. */
	put64(idt + 14 * 16, 0x81238e0500104567ull);
	put64(idt + 14 * 16 + 8, 0xffffffffull);
	/* Vector 3: trap gate, DPL3. */
	put64(idt + 3 * 16, 0x0000ef0000080000ull | 0x1000);
	/* Vector 32: present but type 5 (invalid in long mode). */
	put64(idt + 32 * 16, 0x0000850000080000ull);
	is_int(introspect_decode_idt(idt, sizeof(idt), 1, g, 40, &n), 0, "decode 64-bit IDT");
	is_int(n, 33, "33 gates");
	ok(g[14].p && g[14].type == 0xe && !strcmp(g[14].kind, "int64") && g[14].selector == 0x10 &&
	   g[14].ist == 5 && g[14].offset == 0xffffffff81234567ull && g[14].vector == 14, "#PF gate");
	ok(g[3].p && !strcmp(g[3].kind, "trap64") && g[3].dpl == 3 && g[3].offset == 0x1000, "#BP trap gate");
	is_str(g[32].kind, "invalid", "type 5 invalid in long mode");
	ok(!g[0].p, "vector 0 not present");
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_idt(idt, sizeof(idt), 1, NULL, &o);
	ok(strstr(text, " 14 #PF  int64   0x0010:0xffffffff81234567 ist=5 dpl=0") &&
	   strstr(text, "3 of 33 gates present"), "IDT text");
	printf("# %.*s\n", (int)strcspn(text, "\n"), text);
	is_int(introspect_decode_gate(idt, 15, 1, &g[0]), -EINVAL, "short 64-bit gate: -EINVAL");

	/* 32-bit gates. */
	put64(idt, 0x12348e0000085678ull);     /* int32 */
	put64(idt + 8, 0x0000850000280000ull); /* task gate, TSS selector 0x28 */
	put64(idt + 16, 0x0000870000085678ull); /* trap16 */
	is_int(introspect_decode_idt(idt, 24, 0, g, 40, &n), 0, "decode 32-bit IDT");
	is_int(n, 3, "3 legacy gates");
	ok(!strcmp(g[0].kind, "int32") && g[0].offset == 0x12345678 && g[0].selector == 8, "int32 gate");
	ok(!strcmp(g[1].kind, "task") && g[1].selector == 0x28 && g[1].offset == 0, "task gate");
	ok(!strcmp(g[2].kind, "trap16") && g[2].offset == 0x5678, "trap16 gate");
	is_str(introspect_exception_name(13), "#GP", "vector 13 is #GP");
	ok(introspect_exception_name(15) == NULL && introspect_exception_name(200) == NULL,
	   "no name for reserved/external vectors");
}

static void test_tss(void)
{
	uint8_t tss[104];
	struct introspect_tss64 t;
	struct introspect_out o;

	memset(tss, 0, sizeof(tss));
	put64(tss + 4, 0xffffc90000004000ull);
	put64(tss + 12, 0x1111);
	put64(tss + 20, 0x2222);
	for (int i = 1; i <= 7; i++)
		put64(tss + 36 + 8 * (i - 1), 0xffffc90000010000ull + i);
	tss[102] = 0x68;
	is_int(introspect_decode_tss64(tss, sizeof(tss), &t), 0, "decode TSS64");
	ok(t.rsp[0] == 0xffffc90000004000ull && t.rsp[1] == 0x1111 && t.rsp[2] == 0x2222, "RSP0-2");
	ok(t.ist[1] == 0xffffc90000010001ull && t.ist[7] == 0xffffc90000010007ull, "IST1 and IST7");
	is_int(t.iopb, 0x68, "IOPB offset");
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_tss64(&t, &o);
	ok(strstr(text, "rsp0=0xffffc90000004000\n") && strstr(text, "ist7=0xffffc90000010007\n"), "TSS text");
	is_int(introspect_decode_tss64(tss, 103, &t), -EINVAL, "103-byte TSS: -EINVAL");
}

static const char *reg(enum introspect_reg r, uint64_t v, uint64_t cr4)
{
	struct introspect_out o;

	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_reg(r, v, cr4, &o);
	return text;
}

static void test_cr(void)
{
	struct introspect_cpu c = { .cr0 = 0x80010033, .cr3 = 0x1000, .cr4 = 0x3006a0, .efer = 0xd01 };
	struct introspect_out o;
	size_t n;

	is_str(reg(INTROSPECT_CR0, 0x80000011, 0), "cr0=0x80000011 PE ET PG\n", "cr0 text");
	is_str(reg(INTROSPECT_CR0, 0x80010091, 0), "cr0=0x80010091 PE ET WP PG bit7\n", "cr0 unknown bit");
	is_str(reg(INTROSPECT_CR4, 0x3006a0, 0), "cr4=0x3006a0 PAE PGE OSFXSR OSXMMEXCPT SMEP SMAP\n", "cr4 text");
	is_str(reg(INTROSPECT_EFER, 0xd01, 0), "efer=0xd01 SCE LME LMA NXE\n", "efer text");
	is_str(reg(INTROSPECT_CR3, 0x1018, 0), "cr3=0x1018 base=0x1000 PWT PCD\n", "cr3 PWT PCD");
	is_str(reg(INTROSPECT_CR3, 0x2005, 1u << 17), "cr3=0x2005 base=0x2000 pcid=0x5\n", "cr3 with PCIDE");
	ok(introspect_reg_bits(INTROSPECT_CR4, &n) && n > 20, "CR4 bit table");
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_cpu(&c, &o);
	ok(strstr(text, "paging: 4-level") && strstr(text, "WP=1: supervisor writes to read-only pages fault") &&
	   strstr(text, "SMEP=1") && strstr(text, "SMAP=1") && strstr(text, "NXE=1"), "cpu summary");
	c.cr0 = 0x80000011;
	c.efer = 0x500;
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_cpu(&c, &o);
	ok(strstr(text, "WP=0") && strstr(text, "NXE=0: XD (bit 63) is a reserved bit"), "WP=0, NXE=0 summary");
}

static void collect(void *ctx, const char *s, size_t len)
{
	size_t *total = ctx;

	*total += len;
	(void)s;
}

static void test_callback(void)
{
	struct introspect_out o;
	size_t total = 0;
	char name[600];

	introspect_out_callback(&o, collect, &total);
	introspect_printf(&o, "abc");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	introspect_printf(&o, "%s", name);      /* longer than the internal buffer */
	is_int(total, 3 + 599, "callback sink gets every byte, long pieces too");
	is_int(o.len, 602, "callback sink len");
}

int main(void)
{
	test_gdt();
	test_idt();
	test_tss();
	test_cr();
	test_callback();
	return tap_done();
}
