/*
 * regs.c — the x86-64 register set as gdb sees it: one table gives each
 * register's name, size, type and place in struct gdb_x86_regs, and both
 * the g/G/p/P marshalling and the target description XML are derived from
 * it, so the two cannot disagree about order or sizes.
 *
 * Feature names follow gdb's own descriptions (org.gnu.gdb.i386.core, .sse,
 * .segments) so that gdb's amd64 code recognises the registers; the system
 * registers go in org.gnu.gdb.i386.sys as QEMU does. The XML is generated
 * once per server and cached.
 *
 * cr0, cr4 and efer are flags types, so gdb prints their bits by name;
 * gdb then refuses "set $cr0 = 0x..." with "Invalid cast" (it will not
 * cast a 4-byte int to an 8-byte flags type) and wants "set $cr0 =
 * (long)0x...". cr3 is an address more than a set of bits, so it stays a
 * plain integer.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/internal.h"

enum { F_CORE, F_SSE, F_SEGMENTS, F_SYS, F_COUNT };

#define R(field, bits, type, group, feat) \
	{ #field, bits, offsetof(struct gdb_x86_regs, field), type, group, feat }
#define RN(name, field, bits, type, group, feat) \
	{ name, bits, offsetof(struct gdb_x86_regs, field), type, group, feat }

const struct gdb_regdesc gdb_x86_regdesc[GDB_X86_NREGS] = {
	R(rax, 64, "int64", NULL, F_CORE),
	R(rbx, 64, "int64", NULL, F_CORE),
	R(rcx, 64, "int64", NULL, F_CORE),
	R(rdx, 64, "int64", NULL, F_CORE),
	R(rsi, 64, "int64", NULL, F_CORE),
	R(rdi, 64, "int64", NULL, F_CORE),
	R(rbp, 64, "data_ptr", NULL, F_CORE),
	R(rsp, 64, "data_ptr", NULL, F_CORE),
	R(r8, 64, "int64", NULL, F_CORE),
	R(r9, 64, "int64", NULL, F_CORE),
	R(r10, 64, "int64", NULL, F_CORE),
	R(r11, 64, "int64", NULL, F_CORE),
	R(r12, 64, "int64", NULL, F_CORE),
	R(r13, 64, "int64", NULL, F_CORE),
	R(r14, 64, "int64", NULL, F_CORE),
	R(r15, 64, "int64", NULL, F_CORE),
	R(rip, 64, "code_ptr", NULL, F_CORE),
	R(eflags, 32, "i386_eflags", NULL, F_CORE),
	R(cs, 32, "int32", NULL, F_CORE),
	R(ss, 32, "int32", NULL, F_CORE),
	R(ds, 32, "int32", NULL, F_CORE),
	R(es, 32, "int32", NULL, F_CORE),
	R(fs, 32, "int32", NULL, F_CORE),
	R(gs, 32, "int32", NULL, F_CORE),
	RN("st0", st[0], 80, "i387_ext", NULL, F_CORE),
	RN("st1", st[1], 80, "i387_ext", NULL, F_CORE),
	RN("st2", st[2], 80, "i387_ext", NULL, F_CORE),
	RN("st3", st[3], 80, "i387_ext", NULL, F_CORE),
	RN("st4", st[4], 80, "i387_ext", NULL, F_CORE),
	RN("st5", st[5], 80, "i387_ext", NULL, F_CORE),
	RN("st6", st[6], 80, "i387_ext", NULL, F_CORE),
	RN("st7", st[7], 80, "i387_ext", NULL, F_CORE),
	R(fctrl, 32, "int", "float", F_CORE),
	R(fstat, 32, "int", "float", F_CORE),
	R(ftag, 32, "int", "float", F_CORE),
	R(fiseg, 32, "int", "float", F_CORE),
	R(fioff, 32, "int", "float", F_CORE),
	R(foseg, 32, "int", "float", F_CORE),
	R(fooff, 32, "int", "float", F_CORE),
	R(fop, 32, "int", "float", F_CORE),
	RN("xmm0", xmm[0], 128, "vec128", NULL, F_SSE),
	RN("xmm1", xmm[1], 128, "vec128", NULL, F_SSE),
	RN("xmm2", xmm[2], 128, "vec128", NULL, F_SSE),
	RN("xmm3", xmm[3], 128, "vec128", NULL, F_SSE),
	RN("xmm4", xmm[4], 128, "vec128", NULL, F_SSE),
	RN("xmm5", xmm[5], 128, "vec128", NULL, F_SSE),
	RN("xmm6", xmm[6], 128, "vec128", NULL, F_SSE),
	RN("xmm7", xmm[7], 128, "vec128", NULL, F_SSE),
	RN("xmm8", xmm[8], 128, "vec128", NULL, F_SSE),
	RN("xmm9", xmm[9], 128, "vec128", NULL, F_SSE),
	RN("xmm10", xmm[10], 128, "vec128", NULL, F_SSE),
	RN("xmm11", xmm[11], 128, "vec128", NULL, F_SSE),
	RN("xmm12", xmm[12], 128, "vec128", NULL, F_SSE),
	RN("xmm13", xmm[13], 128, "vec128", NULL, F_SSE),
	RN("xmm14", xmm[14], 128, "vec128", NULL, F_SSE),
	RN("xmm15", xmm[15], 128, "vec128", NULL, F_SSE),
	R(mxcsr, 32, "i386_mxcsr", "vector", F_SSE),
	R(fs_base, 64, "int64", NULL, F_SEGMENTS),
	R(gs_base, 64, "int64", NULL, F_SEGMENTS),
	R(k_gs_base, 64, "int64", NULL, F_SEGMENTS),
	R(cr0, 64, "i386_cr0", "system", F_SYS),
	R(cr2, 64, "int64", "system", F_SYS),
	R(cr3, 64, "int64", "system", F_SYS),
	R(cr4, 64, "i386_cr4", "system", F_SYS),
	R(cr8, 64, "int64", "system", F_SYS),
	R(efer, 64, "i386_efer", "system", F_SYS),
};

struct feature {
	const char *name;
	const char *types;		/* type definitions used by its registers */
};

#define FLAG(name, bit) "<field name=\"" name "\" start=\"" #bit "\" end=\"" #bit "\"/>"

static const struct feature features[F_COUNT] = {
	[F_CORE] = { "org.gnu.gdb.i386.core",
		"<flags id=\"i386_eflags\" size=\"4\">"
		FLAG("CF", 0) FLAG("", 1) FLAG("PF", 2) FLAG("AF", 4) FLAG("ZF", 6)
		FLAG("SF", 7) FLAG("TF", 8) FLAG("IF", 9) FLAG("DF", 10) FLAG("OF", 11)
		FLAG("NT", 14) FLAG("RF", 16) FLAG("VM", 17) FLAG("AC", 18)
		FLAG("VIF", 19) FLAG("VIP", 20) FLAG("ID", 21)
		"</flags>\n" },
	[F_SSE] = { "org.gnu.gdb.i386.sse",
		"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
		"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
		"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
		"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
		"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
		"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
		"<union id=\"vec128\">"
		"<field name=\"v4_float\" type=\"v4f\"/>"
		"<field name=\"v2_double\" type=\"v2d\"/>"
		"<field name=\"v16_int8\" type=\"v16i8\"/>"
		"<field name=\"v8_int16\" type=\"v8i16\"/>"
		"<field name=\"v4_int32\" type=\"v4i32\"/>"
		"<field name=\"v2_int64\" type=\"v2i64\"/>"
		"<field name=\"uint128\" type=\"uint128\"/>"
		"</union>\n"
		"<flags id=\"i386_mxcsr\" size=\"4\">"
		FLAG("IE", 0) FLAG("DE", 1) FLAG("ZE", 2) FLAG("OE", 3) FLAG("UE", 4)
		FLAG("PE", 5) FLAG("DAZ", 6) FLAG("IM", 7) FLAG("DM", 8) FLAG("ZM", 9)
		FLAG("OM", 10) FLAG("UM", 11) FLAG("PM", 12) FLAG("FZ", 15)
		"</flags>\n" },
	[F_SEGMENTS] = { "org.gnu.gdb.i386.segments", "" },
	[F_SYS] = { "org.gnu.gdb.i386.sys",
		"<flags id=\"i386_cr0\" size=\"8\">"
		FLAG("PE", 0) FLAG("MP", 1) FLAG("EM", 2) FLAG("TS", 3) FLAG("ET", 4)
		FLAG("NE", 5) FLAG("WP", 16) FLAG("AM", 18) FLAG("NW", 29)
		FLAG("CD", 30) FLAG("PG", 31)
		"</flags>\n"
		"<flags id=\"i386_cr4\" size=\"8\">"
		FLAG("VME", 0) FLAG("PVI", 1) FLAG("TSD", 2) FLAG("DE", 3) FLAG("PSE", 4)
		FLAG("PAE", 5) FLAG("MCE", 6) FLAG("PGE", 7) FLAG("PCE", 8)
		FLAG("OSFXSR", 9) FLAG("OSXMMEXCPT", 10) FLAG("UMIP", 11) FLAG("LA57", 12)
		FLAG("VMXE", 13) FLAG("SMXE", 14) FLAG("FSGSBASE", 16) FLAG("PCIDE", 17)
		FLAG("OSXSAVE", 18) FLAG("SMEP", 20) FLAG("SMAP", 21) FLAG("PKE", 22)
		"</flags>\n"
		"<flags id=\"i386_efer\" size=\"8\">"
		FLAG("SCE", 0) FLAG("LME", 8) FLAG("LMA", 10) FLAG("NXE", 11)
		FLAG("SVME", 12) FLAG("LMSLE", 13) FLAG("FFXSR", 14) FLAG("TCE", 15)
		"</flags>\n" },
};

size_t gdb_regs_size(void)
{
	size_t n = 0;

	for (unsigned i = 0; i < GDB_X86_NREGS; i++)
		n += gdb_x86_regdesc[i].bits / 8;
	return n;
}

uint8_t *gdb_reg_ptr(struct gdb_x86_regs *regs, unsigned n, size_t *len)
{
	if (n >= GDB_X86_NREGS)
		return NULL;
	*len = gdb_x86_regdesc[n].bits / 8;
	return (uint8_t *)regs + gdb_x86_regdesc[n].offset;
}

/*
 * The struct fields are host-endian integers or little-endian byte arrays;
 * rrvm only runs on x86-64 hosts, so a plain copy is little-endian.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "gdbstub assumes a little-endian host");

void gdb_regs_pack(const struct gdb_x86_regs *regs, uint8_t *out)
{
	for (unsigned i = 0; i < GDB_X86_NREGS; i++) {
		size_t len = gdb_x86_regdesc[i].bits / 8;

		memcpy(out, (const uint8_t *)regs + gdb_x86_regdesc[i].offset, len);
		out += len;
	}
}

void gdb_regs_unpack(struct gdb_x86_regs *regs, const uint8_t *in, size_t len)
{
	for (unsigned i = 0; i < GDB_X86_NREGS && len > 0; i++) {
		size_t n = gdb_x86_regdesc[i].bits / 8;

		if (n > len)
			n = len;
		memcpy((uint8_t *)regs + gdb_x86_regdesc[i].offset, in, n);
		in += n;
		len -= n;
	}
}

struct xml_out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void xml_add(struct xml_out *x, const char *s)
{
	size_t n = strlen(s);

	if (x->failed)
		return;
	if (x->len + n + 1 > x->cap) {
		size_t cap = (x->cap ? x->cap * 2 : 4096) + n;
		char *p = realloc(x->buf, cap);

		if (!p) {
			x->failed = true;
			return;
		}
		x->buf = p;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, s, n + 1);
	x->len += n;
}

char *gdb_target_xml(size_t *len)
{
	struct xml_out x = { 0 };
	char line[160];

	xml_add(&x, "<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		    "<target version=\"1.0\">\n"
		    "<architecture>i386:x86-64</architecture>\n");
	for (unsigned f = 0; f < F_COUNT; f++) {
		snprintf(line, sizeof(line), "<feature name=\"%s\">\n", features[f].name);
		xml_add(&x, line);
		xml_add(&x, features[f].types);
		for (unsigned i = 0; i < GDB_X86_NREGS; i++) {
			const struct gdb_regdesc *r = &gdb_x86_regdesc[i];

			if (r->feature != f)
				continue;
			snprintf(line, sizeof(line),
				 "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"%s%s%s/>\n",
				 r->name, r->bits, r->type, i, r->group ? " group=\"" : "",
				 r->group ? r->group : "", r->group ? "\"" : "");
			xml_add(&x, line);
		}
		xml_add(&x, "</feature>\n");
	}
	xml_add(&x, "</target>\n");
	if (x.failed) {
		free(x.buf);
		return NULL;
	}
	*len = x.len;
	return x.buf;
}
